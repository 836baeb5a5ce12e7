import { createHmac, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * Ed25519 signatures over the log, so that an auditor can check it with a public key and no secret. The signing
 * key is derived from the audit key (one secret to keep, in the keychain or `audit.key`): its seed is
 * HMAC-SHA256(audit key, "gatehouse-signing-v1").
 */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
}

// PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410): the fixed prefix, then the 32 bytes.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
// SPKI wrapping of a raw Ed25519 public key.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

export function signingKeyFrom(auditKey: Buffer): SigningKey {
  const seed = createHmac('sha256', auditKey).update('gatehouse-signing-v1').digest();
  const privateKey = createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: 'der', type: 'pkcs8' });
  return { privateKey, publicKey: createPublicKey(privateKey) };
}

/** What a record signature covers: the record's place in the log and its hash (which covers everything before it). */
export function recordMessage(seq: number, hash: string): string {
  return `gatehouse-sign-v1|record|${seq}|${hash}`;
}

/** What a mark's signature covers: for `head`, the newest record when the mark was written; for `anchor`, the last record pruning removed. */
export function markMessage(scope: 'head' | 'anchor', mark: { segment: string; firstSeq: number; seq: number; hash: string }): string {
  return `gatehouse-sign-v1|${scope}|${mark.segment}|${mark.firstSeq}|${mark.seq}|${mark.hash}`;
}

/** What an export's signature covers: the SHA-256 of every byte of the export before its signature line. */
export function exportMessage(sha256: string): string {
  return `gatehouse-sign-v1|export|${sha256}`;
}

export function signText(key: SigningKey, message: string): string {
  return sign(null, Buffer.from(message), key.privateKey).toString('hex');
}

export function verifyText(publicKey: KeyObject, message: string, signature: unknown): boolean {
  if (typeof signature !== 'string' || !/^[0-9a-f]{128}$/.test(signature)) return false;
  return verify(null, Buffer.from(message), publicKey, Buffer.from(signature, 'hex'));
}

/** The public key as PEM (SPKI), the form `openssl` and most tools read. */
export function publicKeyPem(publicKey: KeyObject): string {
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/** The raw 32-byte public key in hex: short enough to read out, print in a README or paste in a ticket. */
export function publicKeyHex(publicKey: KeyObject): string {
  return (publicKey.export({ format: 'der', type: 'spki' }) as Buffer).subarray(SPKI_ED25519.length).toString('hex');
}

export class PublicKeyError extends Error {}

/**
 * Reads a public key as a user gives it: a PEM file's path, PEM text, or the 64-hex raw key. Throws
 * PublicKeyError saying what was expected.
 */
export function parsePublicKey(given: string): KeyObject {
  const text = given.trim();
  if (/^[0-9a-f]{64}$/i.test(text)) return createPublicKey({ key: Buffer.concat([SPKI_ED25519, Buffer.from(text, 'hex')]), format: 'der', type: 'spki' });
  let pem = text;
  if (!text.startsWith('-----BEGIN')) {
    try {
      pem = readFileSync(text, 'utf8');
    } catch (err) {
      throw new PublicKeyError(`cannot read the public key file ${text} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): give a PEM file, or the 64-hex key that \`gatehouse public-key\` prints`);
    }
    if (/^[0-9a-f]{64}\s*$/i.test(pem)) return parsePublicKey(pem);
  }
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new PublicKeyError(`${text.startsWith('-----BEGIN') ? 'the public key' : text} is not a PEM public key: give the file \`gatehouse public-key\` writes, or its 64-hex key`);
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new PublicKeyError(`the public key is ${key.asymmetricKeyType ?? 'not an asymmetric key'}, not Ed25519: it is not a Gatehouse signing key`);
  return key;
}
