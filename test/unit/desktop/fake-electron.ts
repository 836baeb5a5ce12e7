import { EventEmitter } from 'node:events';

/** A stand-in for the parts of `electron` that main/desktop uses; Electron itself cannot start on these machines. */
export class FakeWebContents extends EventEmitter {
  windowOpenHandler: ((details: { url: string }) => { action: string }) | undefined;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: string }): void {
    this.windowOpenHandler = handler;
  }
}

export class FakeBrowserWindow extends EventEmitter {
  static all: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  visible = false;
  loaded: string | undefined;
  constructor(readonly options: Record<string, unknown>) {
    super();
    FakeBrowserWindow.all.push(this);
  }
  static fromWebContents(contents: unknown): FakeBrowserWindow | null {
    return FakeBrowserWindow.all.find((w) => w.webContents === contents) ?? null;
  }
  loadFile(file: string): Promise<void> {
    this.loaded = file;
    return Promise.resolve();
  }
  show(): void {
    this.visible = true;
  }
  hide(): void {
    this.visible = false;
  }
  focus(): void {}
}

export function createFakeElectron(options: { gotLock?: boolean } = {}) {
  const calls: string[] = [];
  const handlers = new Map<string, (event: { sender: unknown }, ...args: unknown[]) => unknown>();
  let ready: () => void = () => undefined;
  const whenReady = new Promise<void>((r) => (ready = r));
  const app = Object.assign(new EventEmitter(), {
    requestSingleInstanceLock: () => {
      calls.push('requestSingleInstanceLock');
      return options.gotLock ?? true;
    },
    quit: () => calls.push('quit'),
    whenReady: () => {
      calls.push('whenReady');
      return whenReady;
    },
  });
  FakeBrowserWindow.all = [];
  return {
    calls,
    handlers,
    ready: () => ready(),
    module: {
      app,
      BrowserWindow: FakeBrowserWindow,
      ipcMain: { handle: (channel: string, fn: (event: { sender: unknown }, ...args: unknown[]) => unknown) => handlers.set(channel, fn) },
      shell: { openExternal: (url: string) => calls.push(`openExternal ${url}`) },
    },
  };
}
