import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadOrCreateAuditKey } from '../../../main/audit/checkpoint.js';
import { keychainKeyStore } from '../../../main/desktop/key-store.js';
import { setupApprovalDialogs, setupConsentDialogs, type DialogElectron } from '../../../main/desktop/approval-dialogs.js';
import { createFakeElectron } from './fake-electron.js';

// A stand-in for the OS keychain: reversible, but not the plain text.
const safeStorage = {
  isEncryptionAvailable: () => true,
  encryptString: (s: string) => Buffer.from(s.split('').reverse().join('')),
  decryptString: (b: Buffer) => b.toString().split('').reverse().join(''),
};

describe('the audit key in the OS keychain', () => {
  it('moves an existing key file into the keychain and removes the file; later loads read the keychain', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-keys-'));
    try {
      writeFileSync(join(dir, 'audit.key'), '0123456789abcdef'.repeat(4) + '\n', { mode: 0o600 });
      let sealed: string | undefined;
      const store = keychainKeyStore(safeStorage, { get: () => sealed, set: (v) => (sealed = v) });
      expect(loadOrCreateAuditKey(dir, store).toString('hex')).toBe('0123456789abcdef'.repeat(4));
      expect(existsSync(join(dir, 'audit.key'))).toBe(false);
      expect(sealed).toBeDefined();
      expect(Buffer.from(sealed as string, 'base64').toString()).not.toContain('01234567');
      expect(loadOrCreateAuditKey(dir, store).toString('hex')).toBe('0123456789abcdef'.repeat(4));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('is not used where the keychain is unavailable', () => {
    expect(keychainKeyStore({ ...safeStorage, isEncryptionAvailable: () => false }, { get: () => undefined, set: () => undefined })).toBeUndefined();
  });
});

describe('approval dialogs', () => {
  it('a dialog whose call was decided elsewhere is closed, and its late answer is ignored', async () => {
    const fake = createFakeElectron();
    const decided: string[] = [];
    const dialogs = setupApprovalDialogs(fake.module as unknown as DialogElectron, { decide: async (id) => void decided.push(id), appFocused: () => true, show: () => undefined });
    dialogs.pending({ id: 'x1', sessionId: 's', server: 'files', tool: 't', args: {}, principal: 'p', client: {}, reason: 'r', toolChanged: false, createdAt: 0, expiresAt: 1 });
    const signal = fake.dialogs[0]?.options.signal as AbortSignal;
    expect(fake.notifications).toEqual([]); // the app is in front: no notification
    dialogs.resolved('x1');
    expect(signal.aborted).toBe(true);
    fake.dialogs[0]?.answer(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(decided).toEqual([]);
  });
});

describe('sign-in (MCP authorization) dialogs', () => {
  const consent = { id: 'c1', clientName: 'Claude Code', redirectUri: 'http://127.0.0.1:4000/cb', resource: 'http://127.0.0.1:5757/mcp/files' };
  it('asks with the client, where the answer goes and Allow first; its answer decides', async () => {
    const fake = createFakeElectron();
    const decided: [string, boolean][] = [];
    const dialogs = setupConsentDialogs(fake.module as unknown as DialogElectron, { decide: async (id, allow) => void decided.push([id, allow]) });
    dialogs.pending(consent);
    expect(fake.dialogs[0]?.options).toMatchObject({ message: 'Claude Code wants to reach your MCP servers through Gatehouse', buttons: ['Allow', 'Deny'], defaultId: 0, cancelId: 1 });
    expect(fake.dialogs[0]?.options.detail).toContain('http://127.0.0.1:4000/cb');
    fake.dialogs[0]?.answer(1);
    await new Promise((r) => setTimeout(r, 10));
    expect(decided).toEqual([['c1', false]]);
  });
  it('answered in the browser first, the dialog closes and its late answer is ignored', async () => {
    const fake = createFakeElectron();
    const decided: string[] = [];
    const dialogs = setupConsentDialogs(fake.module as unknown as DialogElectron, { decide: async (id) => void decided.push(id) });
    dialogs.pending(consent);
    dialogs.resolved('c1');
    expect((fake.dialogs[0]?.options.signal as AbortSignal).aborted).toBe(true);
    fake.dialogs[0]?.answer(0);
    await new Promise((r) => setTimeout(r, 10));
    expect(decided).toEqual([]);
  });
});
