import { afterEach, describe, expect, it, vi } from 'vitest';
import { createFakeElectron, FakeBrowserWindow } from './fake-electron.js';

const core = { stop: vi.fn(async () => undefined), api: { status: vi.fn(), servers: vi.fn(), liveSessions: vi.fn() } };

async function loadDesktop(fake: ReturnType<typeof createFakeElectron>) {
  vi.resetModules();
  vi.doMock('electron', () => fake.module);
  vi.doMock('../../../main/api/core.js', () => ({ startGatehouse: vi.fn(async () => core) }));
  await import('../../../main/desktop/index.js');
}

describe('the desktop app lifecycle', () => {
  afterEach(() => {
    vi.doUnmock('electron');
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
    fake.module.app.emit('window-all-closed');
    expect(fake.calls).not.toContain('quit');
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
