import { EventEmitter } from 'node:events';

/** A stand-in for the parts of `electron` that main/desktop uses; Electron itself cannot start on these machines. */
export class FakeWebContents extends EventEmitter {
  sent: [string, unknown][] = [];
  send(channel: string, value: unknown): void {
    this.sent.push([channel, value]);
  }
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
  static getFocusedWindow(): FakeBrowserWindow | null {
    return null;
  }
  static fromWebContents(contents: unknown): FakeBrowserWindow | null {
    return FakeBrowserWindow.all.find((w) => w.webContents === contents) ?? null;
  }
  /** The view asked for with the file (`#/clients`), if any. */
  hash: string | undefined;
  loadFile(file: string, options: { hash?: string } = {}): Promise<void> {
    this.loaded = file;
    this.hash = options.hash;
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

export class FakeTray {
  static last: FakeTray | undefined;
  image: unknown;
  tooltip = '';
  title = '';
  menu: { template: unknown[] } | undefined;
  constructor(image: unknown) {
    this.image = image;
    FakeTray.last = this;
  }
  setImage(image: unknown): void {
    this.image = image;
  }
  setToolTip(text: string): void {
    this.tooltip = text;
  }
  setTitle(text: string): void {
    this.title = text;
  }
  setContextMenu(menu: { template: unknown[] }): void {
    this.menu = menu;
  }
}

export function createFakeElectron(options: { gotLock?: boolean } = {}) {
  const calls: string[] = [];
  const handlers = new Map<string, (event: { sender: unknown; senderFrame?: unknown }, ...args: unknown[]) => unknown>();
  let ready: () => void = () => undefined;
  const whenReady = new Promise<void>((r) => (ready = r));
  const dialogs: { options: Record<string, unknown>; answer: (response: number) => void }[] = [];
  const notifications: { title: string; body: string }[] = [];
  const app = Object.assign(new EventEmitter(), {
    isPackaged: false,
    getPath: (name: string) => `/fake-electron/${name}`,
    getAppPath: () => '/fake-electron/app',
    setLoginItemSettings: (s: unknown) => calls.push(`setLoginItemSettings ${JSON.stringify(s)}`),
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
  class Notification {
    static isSupported = () => true;
    constructor(private readonly o: { title: string; body: string }) {}
    show(): void {
      notifications.push(this.o);
    }
    on(): void {}
  }
  return {
    calls,
    handlers,
    dialogs,
    notifications,
    ready: () => ready(),
    module: {
      app,
      BrowserWindow: FakeBrowserWindow,
      Tray: FakeTray,
      Menu: { buildFromTemplate: (template: unknown[]) => ({ template }) },
      nativeImage: { createFromPath: (path: string) => ({ path }) },
      dialog: {
        // A start that fails says so in the test's output, as the app would in a box.
        showErrorBox: (title: string, content: string) => console.error(`${title}: ${content}`),
        showMessageBox: (o: Record<string, unknown>) =>
          new Promise<{ response: number; checkboxChecked: boolean }>((resolve) => dialogs.push({ options: o, answer: (response) => resolve({ response, checkboxChecked: false }) })),
      },
      Notification,
      safeStorage: { isEncryptionAvailable: () => false, encryptString: (s: string) => Buffer.from(s), decryptString: (b: Buffer) => b.toString() },
      ipcMain: { handle: (channel: string, fn: (event: { sender: unknown; senderFrame?: unknown }, ...args: unknown[]) => unknown) => handlers.set(channel, fn) },
      shell: { openExternal: (url: string) => calls.push(`openExternal ${url}`) },
    },
  };
}
