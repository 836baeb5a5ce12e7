/**
 * Where the signed-in session is kept. Attacks: another process reading the tokens from the data directory
 * (the desktop keeps them encrypted with the OS keychain; headless, a 0600 file); a session `gatehouse login`
 * wrote in the clear left behind on the desktop; a damaged or edited file read as a session.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { encryptedSessionStore, fileSessionStore, type SignedIn } from '../../../main/identity/session-store.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));
const dir = () => {
  const d = mkdtempSync(join(tmpdir(), 'gatehouse-identity-'));
  dirs.push(d);
  return d;
};
// A stand-in for safeStorage: reversible, and visibly not the clear text.
const cipher = { encrypt: (t: string) => Buffer.from(Buffer.from(t).map((b) => b ^ 0x5a)), decrypt: (b: Buffer) => Buffer.from(b.map((x) => x ^ 0x5a)).toString() };
const session: SignedIn = { issuer: 'https://login.example.com', sub: 'alice', email: 'alice@example.com', groups: ['devs'], expiresAt: Date.now() + 60_000, accessToken: 'access-token-secret', refreshToken: 'refresh-token-secret' };

describe('session stores', () => {
  it('headless: identity.json, 0600, written whole; a damaged or foreign file is no session', () => {
    const d = dir();
    const store = fileSessionStore(d);
    store.write(session);
    expect(statSync(join(d, 'identity.json')).mode & 0o777).toBe(0o600);
    expect(store.read()).toEqual(session);
    writeFileSync(join(d, 'identity.json'), '{"sub": 1');
    expect(store.read()).toBeUndefined();
    writeFileSync(join(d, 'identity.json'), JSON.stringify({ sub: 'x' }));
    expect(store.read()).toBeUndefined();
    store.clear();
    expect(existsSync(join(d, 'identity.json'))).toBe(false);
  });

  it('desktop: encrypted with the keychain, no token in the clear on disk; a clear file from `gatehouse login` is taken in and removed', () => {
    const d = dir();
    fileSessionStore(d).write(session); // what the CLI wrote
    const store = encryptedSessionStore(d, cipher);
    expect(store.read()).toEqual(session);
    expect(existsSync(join(d, 'identity.json'))).toBe(false);
    const onDisk = readFileSync(join(d, 'identity.enc'));
    expect(onDisk.toString('latin1')).not.toContain('access-token-secret');
    expect(onDisk.toString('latin1')).not.toContain('refresh-token-secret');
    expect(store.read()).toEqual(session);
    store.clear();
    expect(existsSync(join(d, 'identity.enc'))).toBe(false);
    expect(store.read()).toBeUndefined();
  });
});
