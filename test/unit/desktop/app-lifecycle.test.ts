import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeElectron, FakeBrowserWindow, FakeTray } from './fake-electron.js';

const core = {
  stop: vi.fn(async () => undefined),
  api: { status: vi.fn(), servers: vi.fn(), liveSessions: vi.fn(), decideApproval: vi.fn(), clients: vi.fn(async () => ({ clients: [{ clientName: 'Cursor', client: 'cursor', scope: 'user', file: '/h/.cursor/mcp.json', wired: false, servers: [{ name: 'notes', kind: 'stdio', target: 'node notes.js', viaGatehouse: false }] }], canWire: false })) },
  broker: Object.assign(new EventEmitter(), { list: () => [] }),
  gateway: { events: new EventEmitter(), sessionCount: 0 },
  live: Object.assign(new EventEmitter(), { lastError: undefined }),
  audit: { recorder: { isPaused: false, setPaused: vi.fn(async () => undefined) }, index: { breaks: () => [] } },
  identity: () => ({ principal: 'local:me', signedIn: false, configured: false }),
  forwarding: () => ({ enabled: false, forwardedSeq: 0, committedSeq: 0, lagRecords: 0, lagSeconds: 0 }),
  changes: { subscribe: vi.fn(() => () => undefined) },
  oauth: { on: vi.fn(() => () => undefined), consents: () => [] },
};

class FakeStore {
  private data: Record<string, unknown>;
  constructor(o: { defaults: Record<string, unknown> }) {
    this.data = { ...o.defaults };
  }
  get(key: string): unknown {
    return this.data[key];
  }
  set(key: string, value: unknown): void {
    this.data[key] = value;
  }
}

const startGatehouse = vi.fn(async (_options: { markCopy?: { read(): unknown; write(m: unknown): void }; clients?: { shim?: string[] } }) => core);

async function loadDesktop(fake: ReturnType<typeof createFakeElectron>) {
  vi.resetModules();
  vi.doMock('electron', () => fake.module);
  vi.doMock('electron-store', () => ({ default: FakeStore }));
  vi.doMock('../../../main/api/core.js', () => ({ startGatehouse }));
  await import('../../../main/desktop/index.js');
}

describe('the desktop app lifecycle', () => {
  afterEach(() => {
    vi.doUnmock('electron');
    vi.doUnmock('electron-store');
    vi.doUnmock('../../../main/api/core.js');
  });

  it('takes the single-instance lock before anything else, and quits if another instance has it', async () => {
    const fake = createFakeElectron({ gotLock: false });
    await loadDesktop(fake);
    expect(fake.calls).toEqual(['requestSingleInstanceLock', 'quit']);
  });

  it('starts the core when ready, opens the window, and keeps running when every window is closed', async () => {
    const fake = createFakeElectron();
    await loadDesktop(fake);
    expect(fake.calls[0]).toBe('requestSingleInstanceLock');
    fake.ready();
    await vi.waitFor(() => expect(FakeBrowserWindow.all).toHaveLength(1));
    const window = FakeBrowserWindow.all[0] as FakeBrowserWindow;
    expect(window.loaded).toMatch(/renderer[/\\]index\.html$/);
    // The head mark's copy lives in a store outside the data directory: what is written there reads back.
    const markCopy = startGatehouse.mock.calls.at(-1)?.[0].markCopy;
    // The app can wire clients: their entries start this app as the gatehouse command (unpackaged: Electron, the app, --cli).
    expect(startGatehouse.mock.calls.at(-1)?.[0].clients?.shim).toEqual([process.execPath, '/fake-electron/app', '--cli']);
    markCopy?.write({ seq: 7 });
    expect(markCopy?.read()).toEqual({ seq: 7 });
    fake.module.app.emit('window-all-closed');
    expect(fake.calls).not.toContain('quit');
    expect(FakeTray.last?.tooltip).toContain('Gatehouse');
    // Changes in the core reach the window over IPC, as a subscription.
    const listener = (core.changes.subscribe.mock.calls.at(-1) as unknown as [(e: unknown) => void])[0];
    listener({ kind: 'records', session: 's1' });
    expect(window.webContents.sent).toEqual([['gatehouse:change', { kind: 'records', session: 's1' }]]);
  });

  it('rebuilds the tray on core events (a call waiting), and shows a dialog whose answer reaches the broker', async () => {
    const fake = createFakeElectron();
    await loadDesktop(fake);
    fake.ready();
    await vi.waitFor(() => expect(FakeBrowserWindow.all).toHaveLength(1));
    const pending = { id: 'ab12cd34-0000', request: { sessionId: 's', server: 'files', tool: 'write_file', args: { path: '/x' }, principal: 'local:me', client: { name: 'claude' }, rule: 'writes', reason: 'reviewed', approvers: [], argsDigest: 'd' }, createdAt: 0, expiresAt: 1 };
    core.broker.list = () => [pending] as never;
    core.broker.emit('pending', pending);
    expect(FakeTray.last?.title).toBe('1');
    expect(fake.dialogs).toHaveLength(1);
    expect(fake.notifications).toEqual([{ title: 'Gatehouse: approval needed', body: 'claude wants write_file on files' }]);
    fake.dialogs[0]?.answer(1); // "Allow for 1 hour"
    await vi.waitFor(() => expect(core.api.decideApproval).toHaveBeenCalledWith('ab12cd34-0000', { action: 'allow', forMs: 3_600_000 }, 'dialog'));
  });

  it('the tray lists the MCP clients found, and its item opens the Clients view', async () => {
    const fake = createFakeElectron();
    await loadDesktop(fake);
    fake.ready();
    await vi.waitFor(() => expect(FakeBrowserWindow.all).toHaveLength(1));
    type Item = { label?: string; click?: () => void; submenu?: Item[] };
    const clientsItem = () => (FakeTray.last?.menu?.template as Item[] | undefined)?.find((i) => i.label?.startsWith('MCP clients'));
    await vi.waitFor(() => expect(clientsItem()?.label).toBe('MCP clients (1 server not through Gatehouse)'));
    expect(clientsItem()?.submenu?.[0]?.label).toBe('Cursor: 0 of 1 through Gatehouse');
    clientsItem()?.submenu?.find((i) => i.label === 'Route them through Gatehouse…')?.click?.();
    expect(FakeBrowserWindow.all[0]?.hash).toBe('/clients');
  });

  it('closing the window hides it; after before-quit it really closes, and will-quit stops the core first', async () => {
    const fake = createFakeElectron();
    await loadDesktop(fake);
    fake.ready();
    await vi.waitFor(() => expect(FakeBrowserWindow.all).toHaveLength(1));
    const window = FakeBrowserWindow.all[0] as FakeBrowserWindow;
    window.show();
    let prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(true);
    expect(window.visible).toBe(false);

    fake.module.app.emit('before-quit');
    prevented = false;
    window.emit('close', { preventDefault: () => (prevented = true) });
    expect(prevented).toBe(false);

    let quitDeferred = false;
    fake.module.app.emit('will-quit', { preventDefault: () => (quitDeferred = true) });
    expect(quitDeferred).toBe(true);
    await vi.waitFor(() => expect(core.stop).toHaveBeenCalled());
    await vi.waitFor(() => expect(fake.calls).toContain('quit'));
  });
});
