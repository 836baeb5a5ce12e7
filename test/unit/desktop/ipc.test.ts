import type { IpcMain, WebContents } from 'electron';
import { describe, expect, it } from 'vitest';
import { API_METHODS, apiChannel, type CoreApi } from '../../../main/api/types.js';
import { fromOwnPage, serveApiOverIpc } from '../../../main/desktop/ipc.js';
import { createFakeElectron, FakeBrowserWindow } from './fake-electron.js';

const api: CoreApi = {
  acceptPins: async () => ({ ok: false, message: 'not used over IPC' }),
  forPort: () => {
    throw new Error('not used over IPC');
  },
  status: async () => ({ version: '0.1.0', url: 'http://127.0.0.1:5757', dataDir: '/d', configFile: '/d/gatehouse.yaml', startedAt: 1, activeSessions: 2, identity: { principal: 'local:me', signedIn: false, groups: [], configured: false } }),
  servers: async () => [],
  liveSessions: async () => [],
  approvals: async () => [],
  decideApproval: async (id, decision, port) => ({ ok: true, message: `${id} ${decision.action} via ${port}` }),
  grants: async () => [],
  revokeGrant: async (id) => ({ ok: true, message: `revoked ${id}` }),
  verify: async () => ({ ok: true, records: 0, segments: 0, bytes: 0, checkpointsChecked: 0 }),
  sessions: async () => ({ total: 0, sessions: [] }),
  sessionRecords: async () => [],
  policy: async () => ({ default: 'allow', onToolChange: 'approve', rules: [], configFile: 'x' }),
  integrity: async () => ({ dataDir: 'd', auditDir: 'd/audit', breaks: [] }),
  signIn: async () => ({ ok: false, message: 'not configured' }),
  signOut: async () => ({ ok: true, message: 'nobody was signed in' }),
  clients: async () => ({ clients: [], canWire: false }),
  wireClients: async (target) => ({ ok: true, lines: [`wired ${target}`], problems: [] }),
  unwireClients: async (target) => ({ ok: true, lines: [`unwired ${target}`], problems: [] }),
  setRecordingPaused: async (paused) => ({ ok: true, paused, message: paused ? 'paused' : 'on' }),
  consent: async () => ({ ok: false, message: 'none waiting' }),
  decideConsent: async () => ({ ok: false, message: 'none waiting' }),
  registrations: async () => [],
  revokeRegistration: async (id) => ({ ok: true, message: `revoked ${id}` }),
};

describe('GatehouseApi over IPC', () => {
  it('registers one channel per API verb', () => {
    const fake = createFakeElectron();
    serveApiOverIpc(fake.module.ipcMain as unknown as IpcMain, api, () => true);
    expect([...fake.handlers.keys()].sort()).toEqual(API_METHODS.map(apiChannel).sort());
  });

  /*
   * Attacks on the IPC door (a hostile page inside the app's window: an iframe of other content, or the window
   * led to another page; another webContents of the process): each is refused before any handler runs.
   */
  it('answers only the main frame of the app\'s own page in the app\'s own window', async () => {
    const fake = createFakeElectron();
    const own = new FakeBrowserWindow({});
    const page = 'file:///opt/Gatehouse/resources/app.asar/out/renderer/index.html';
    const isOwn = (sender: WebContents) => FakeBrowserWindow.fromWebContents(sender) !== null;
    serveApiOverIpc(fake.module.ipcMain as unknown as IpcMain, api, (event) => fromOwnPage(event, page, isOwn));
    const status = fake.handlers.get(apiChannel('status'));
    const top = { url: `${page}#/clients`, parent: null };
    await expect(Promise.resolve(status?.({ sender: own.webContents, senderFrame: top }))).resolves.toMatchObject({ activeSessions: 2 });
    const refused: [string, { sender: unknown; senderFrame: unknown }][] = [
      ['a stray webContents', { sender: { id: 'a stray webContents' }, senderFrame: top }],
      ['an iframe inside the app\'s page', { sender: own.webContents, senderFrame: { url: 'https://evil.example/frame.html', parent: top } }],
      ['an iframe of the app\'s own page', { sender: own.webContents, senderFrame: { url: page, parent: top } }],
      ['the window led to another page', { sender: own.webContents, senderFrame: { url: 'https://evil.example/', parent: null } }],
      ['another file', { sender: own.webContents, senderFrame: { url: 'file:///tmp/index.html', parent: null } }],
      ['a frame already gone', { sender: own.webContents, senderFrame: null }],
    ];
    for (const [label, event] of refused) expect(() => status?.(event), label).toThrow(/unknown sender was refused/);
  });

  it('checks a decision\'s arguments before they reach the core, and decides as the window port', async () => {
    const fake = createFakeElectron();
    const own = new FakeBrowserWindow({});
    serveApiOverIpc(fake.module.ipcMain as unknown as IpcMain, api, () => true);
    const decide = fake.handlers.get(apiChannel('decideApproval'));
    await expect(Promise.resolve(decide?.({ sender: own.webContents }, 'abcd1234-ef', { action: 'allow', forMs: 3_600_000 }))).resolves.toEqual({ ok: true, message: 'abcd1234-ef allow via window' });
    expect(() => decide?.({ sender: own.webContents }, 'abcd1234', { action: 'allow', forMs: -5 })).toThrow();
    expect(() => decide?.({ sender: own.webContents }, '../../etc', { action: 'deny' })).toThrow();
    expect(() => decide?.({ sender: own.webContents }, 'abcd1234', { action: 'maybe' })).toThrow();
  });

  it('wires only a client it knows (or all)', async () => {
    const fake = createFakeElectron();
    const own = new FakeBrowserWindow({});
    serveApiOverIpc(fake.module.ipcMain as unknown as IpcMain, api, () => true);
    const wire = fake.handlers.get(apiChannel('wireClients'));
    await expect(Promise.resolve(wire?.({ sender: own.webContents }, 'cursor'))).resolves.toMatchObject({ lines: ['wired cursor'] });
    await expect(Promise.resolve(wire?.({ sender: own.webContents }, 'all'))).resolves.toMatchObject({ lines: ['wired all'] });
    expect(() => wire?.({ sender: own.webContents }, '../.ssh/config')).toThrow();
    expect(() => wire?.({ sender: own.webContents }, { client: 'cursor' })).toThrow();
  });
});
