import { chmodSync, readFileSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';

/** Who is signed in, and the tokens that keep them signed in. Never written to the log or the console. */
export interface SignedIn {
  issuer: string;
  sub: string;
  email?: string | undefined;
  name?: string | undefined;
  groups: string[];
  /** When the access token expires (ms since the epoch). */
  expiresAt: number;
  /** When the user last authenticated at the provider (ms), from the ID token's `auth_time`. */
  authTime?: number | undefined;
  accessToken: string;
  refreshToken?: string | undefined;
  idToken?: string | undefined;
}

/** Where the signed-in session is kept: a 0600 file headless; the desktop shell keeps it encrypted with safeStorage. */
export interface SessionStore {
  read(): SignedIn | undefined;
  write(session: SignedIn): void;
  clear(): void;
}

export const IDENTITY_FILE = 'identity.json';
/** Where the desktop keeps the session, encrypted with the OS keychain (Electron safeStorage). */
export const ENCRYPTED_IDENTITY_FILE = 'identity.enc';

/** Encryption by the OS keychain (the desktop's safeStorage), as plain functions. */
export interface KeychainCipher {
  encrypt(text: string): Buffer;
  decrypt(sealed: Buffer): string;
}

/**
 * The desktop's store: the session encrypted with the OS keychain in `identity.enc`. A session `gatehouse login`
 * wrote in the clear (`identity.json`) is taken in at the next read: encrypted, and the clear file removed.
 */
export function encryptedSessionStore(dataDir: string, cipher: KeychainCipher): SessionStore {
  const file = join(dataDir, ENCRYPTED_IDENTITY_FILE);
  const clear = fileSessionStore(dataDir);
  const store: SessionStore = {
    read() {
      const imported = clear.read();
      if (imported) {
        store.write(imported);
        clear.clear();
        return imported;
      }
      try {
        return validSession(JSON.parse(cipher.decrypt(readFileSync(file))) as Partial<SignedIn>);
      } catch {
        return undefined;
      }
    },
    write(session) {
      writeFileSync(`${file}.tmp`, cipher.encrypt(JSON.stringify(session)), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
    },
    clear() {
      rmSync(file, { force: true });
      clear.clear();
    },
  };
  return store;
}

function validSession(s: Partial<SignedIn>): SignedIn | undefined {
  return typeof s.issuer === 'string' && typeof s.sub === 'string' && typeof s.accessToken === 'string' && typeof s.expiresAt === 'number'
    ? ({ ...s, groups: Array.isArray(s.groups) ? s.groups.filter((g): g is string => typeof g === 'string') : [] } as SignedIn)
    : undefined;
}

/** The headless store: `identity.json` in the data directory, 0600, written whole (temp file and rename). */
export function fileSessionStore(dataDir: string): SessionStore {
  const file = join(dataDir, IDENTITY_FILE);
  return {
    read() {
      try {
        return validSession(JSON.parse(readFileSync(file, 'utf8')) as Partial<SignedIn>);
      } catch {
        return undefined;
      }
    },
    write(session) {
      writeFileSync(`${file}.tmp`, JSON.stringify(session), { mode: 0o600 });
      chmodSync(`${file}.tmp`, 0o600);
      renameSync(`${file}.tmp`, file);
    },
    clear() {
      rmSync(file, { force: true });
    },
  };
}
