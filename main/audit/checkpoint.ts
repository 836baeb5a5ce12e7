import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What a checkpoint vouches for: the chain up to `lastSeq` ends in `lastHash`. */
export interface CheckpointClaim {
  /** `segment` for a sealed segment, `head` for the newest record, `anchor` for what pruning left. */
  scope: 'segment' | 'head' | 'anchor';
  segment: string;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
}

/** HMAC-SHA256 over a claim. Without the key, rewriting the whole chain cannot produce matching checkpoints. */
export function macClaim(key: Buffer, claim: CheckpointClaim): string {
  return createHmac('sha256', key)
    .update(`gatehouse-checkpoint-v1|${claim.scope}|${claim.segment}|${claim.firstSeq}|${claim.lastSeq}|${claim.lastHash}`)
    .digest('hex');
}

export function verifyMac(key: Buffer, claim: CheckpointClaim, mac: unknown): boolean {
  if (typeof mac !== 'string' || mac.length !== 64) return false;
  const expected = Buffer.from(macClaim(key, claim), 'hex');
  const given = Buffer.from(mac, 'hex');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Somewhere safer than a file for the key: the desktop shell's OS keychain (Electron safeStorage). */
export interface AuditKeyStore {
  read(): Buffer | undefined;
  write(key: Buffer): void;
}

/**
 * The checkpoint key: in the key store where there is one (a key file found there is moved into it), else
 * `audit.key` in the data directory (0600), made on first use.
 */
export function loadOrCreateAuditKey(dataDir: string, store?: AuditKeyStore): Buffer {
  if (store) {
    const stored = store.read();
    if (stored) return stored;
    const file = readAuditKey(dataDir);
    const key = file ?? randomBytes(32);
    store.write(key);
    if (file) rmSync(join(dataDir, 'audit.key'), { force: true });
    return key;
  }
  const file = join(dataDir, 'audit.key');
  try {
    return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('hex') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return Buffer.from(readFileSync(file, 'utf8').trim(), 'hex');
    throw err;
  }
}

/** Reads the key without creating one (verify, export): undefined when there is none. */
export function readAuditKey(dataDir: string): Buffer | undefined {
  try {
    return Buffer.from(readFileSync(join(dataDir, 'audit.key'), 'utf8').trim(), 'hex');
  } catch {
    return undefined;
  }
}
