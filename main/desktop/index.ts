import { app, BrowserWindow, dialog, ipcMain, Menu, nativeImage, Notification, safeStorage, shell, Tray } from 'electron';
import Store from 'electron-store';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startGatehouse, type RunningGatehouse } from '../api/core.js';
import { shownName } from '../api/core-api.js';
import type { Mark } from '../audit/verify.js';
import type { TrayAction } from '../approvals/tray-model.js';
import { toApprovalView } from '../approvals/view.js';
import { resolveDataDir } from '../config/data-dir.js';
import { desktopShim } from '../clients/shim.js';
import { setupApprovalDialogs, setupConsentDialogs } from './approval-dialogs.js';
import { CHANGE_CHANNEL } from '../api/types.js';
import { fromOwnPage, serveApiOverIpc } from './ipc.js';
import { keychainKeyStore } from './key-store.js';
import { setupTray } from './tray.js';
import { lockDownNavigation, secureWebPreferences } from './window.js';
import { encryptedSessionStore } from '../identity/session-store.js';

// The Electron main process: thin on purpose. The core does the work; this file wires it to the desktop.
const here = fileURLToPath(new URL('.', import.meta.url));
const resources = app.isPackaged ? process.resourcesPath : join(here, '../../resources');

interface DesktopSettings {
  startAtLogin: boolean;
  /** The audit checkpoint key, encrypted by the OS keychain (safeStorage). */
  auditKey?: string;
}

const cliArgs = process.argv.indexOf('--cli');
if (cliArgs !== -1) {
  // `Gatehouse --cli connect files`: the installed app doubles as the gatehouse command, with no window.
  void import('../cli/index.js').then(async ({ runCli }) => app.exit(await runCli(process.argv.slice(cliArgs + 1))));
} else if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let core: RunningGatehouse | undefined;
  let window: BrowserWindow | undefined;
  let quitting = false;
  const dataDir = resolveDataDir();
  const settings = new Store<DesktopSettings>({ name: 'desktop-settings', cwd: dataDir, defaults: { startAtLogin: false } });

  /** Shows the window; `view` (`/clients`) opens that view of the UI. */
  const showWindow = (view?: string) => {
    if (!window) {
      window = new BrowserWindow({ width: 1200, height: 800, show: false, title: 'Gatehouse', icon: join(resources, 'icon.png'), webPreferences: secureWebPreferences(join(here, '../preload/index.cjs')) });
      lockDownNavigation(window.webContents, (url) => void shell.openExternal(url));
      window.on('close', (event) => {
        if (!quitting) {
          event.preventDefault();
          window?.hide();
        }
      });
      void window.loadFile(join(here, '../renderer/index.html'), view ? { hash: view } : {});
      window.once('ready-to-show', () => window?.show());
    } else {
      if (view) void window.loadFile(join(here, '../renderer/index.html'), { hash: view });
      window.show();
      window.focus();
    }
  };

  app.on('second-instance', () => showWindow());
  app.on('window-all-closed', () => {
    // A tray app keeps running with no window open.
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('will-quit', (event) => {
    if (core) {
      event.preventDefault();
      const stopping = core;
      core = undefined;
      void stopping.stop().finally(() => app.quit());
    }
  });

  void app.whenReady().then(async () => {
    const keyStore = keychainKeyStore(safeStorage, { get: () => settings.get('auditKey'), set: (v) => settings.set('auditKey', v) });
    // A copy of the head mark outside the data directory: a log rolled back together with its mark is seen at the next start.
    const witness = new Store<{ headMark?: Mark }>({ name: 'gatehouse-head-mark', cwd: app.getPath('appData'), defaults: {} });
    const markCopy = { read: () => witness.get('headMark'), write: (mark: Mark) => witness.set('headMark', mark) };
    // The signed-in session encrypted with the OS keychain where it has one (a `gatehouse login` file is taken in).
    const sessionStore = safeStorage.isEncryptionAvailable() ? encryptedSessionStore(dataDir, { encrypt: (t) => safeStorage.encryptString(t), decrypt: (b) => safeStorage.decryptString(b) }) : undefined;
    // Wired entries start this app in its --cli mode (`Gatehouse --cli connect NAME`): the installed app is the gatehouse command.
    const shim = desktopShim({ isPackaged: app.isPackaged, execPath: process.execPath, appPath: app.getAppPath(), ...(process.env.APPIMAGE ? { appImage: process.env.APPIMAGE } : {}) });
    const clients = { platform: { os: process.platform, home: app.getPath('home'), appData: app.getPath('appData'), cwd: process.cwd() }, shim: [...shim] };
    const running = await startGatehouse({ dataDir, shell: 'desktop', clients, markCopy, ...(keyStore ? { keyStore } : {}), ...(sessionStore ? { sessionStore } : {}) });
    core = running;
    const page = pathToFileURL(join(here, '../renderer/index.html')).href;
    serveApiOverIpc(ipcMain, running.api, (event) => fromOwnPage(event, page, (sender) => BrowserWindow.fromWebContents(sender) !== null));
    running.changes.subscribe((event) => window?.webContents.send(CHANGE_CHANNEL, event));

    const act = (action: TrayAction) => {
      if (action.kind === 'decide') void running.api.decideApproval(action.id, action.decision, 'tray');
      else if (action.kind === 'open-timeline') showWindow();
      else if (action.kind === 'open-clients') showWindow('/clients');
      else if (action.kind === 'open-view') showWindow(action.path);
      else if (action.kind === 'toggle-pause') void running.audit.recorder.setPaused(!running.audit.recorder.isPaused).then(() => tray.refresh());
      else if (action.kind === 'toggle-start-at-login') {
        settings.set('startAtLogin', !settings.get('startAtLogin'));
        app.setLoginItemSettings({ openAtLogin: settings.get('startAtLogin') });
        tray.refresh();
      } else if (action.kind === 'sign-in') {
        // The system browser, as RFC 8252 asks: the gateway waits on its loopback address for it to come back.
        void running.api.signIn().then((r) => (r.url ? shell.openExternal(r.url) : dialog.showErrorBox('Gatehouse could not sign in', r.message)));
      } else if (action.kind === 'sign-out') void running.api.signOut().then(() => tray.refresh());
      else app.quit();
    };
    // Read from the clients' files at start and on each config reload (not on every tray refresh).
    let clientSummary: { clientName: string; servers: number; through: number }[] = [];
    const readClients = () =>
      void running.api.clients().then((o) => {
        clientSummary = o.clients.filter((c) => !c.error).map((c) => ({ clientName: c.clientName, servers: c.servers.length, through: c.servers.filter((s) => s.viaGatehouse).length }));
        tray.refresh();
      });
    const tray = setupTray(
      { Tray, Menu, nativeImage },
      resources,
      () => ({
        pending: running.broker.list().map(toApprovalView),
        activeSessions: running.gateway.sessionCount,
        sleepingSessions: running.gateway.sleepingCount,
        recordingPaused: running.audit.recorder.isPaused,
        startAtLogin: settings.get('startAtLogin'),
        identity: running.identity(),
        clients: clientSummary,
        forwarding: running.forwarding().enabled ? running.forwarding() : undefined,
        auditBreaks: running.audit.index.breaks().length,
        consents: running.oauth.consents().map((c) => ({ id: c.id, clientName: running.live.current.masker.text(shownName(c.clientName)) })),
        error: running.live.lastError ? 'gatehouse.yaml has an error; the previous config is in force' : undefined,
      }),
      act,
    );
    // A client's sign-in (MCP authorization) asks here too; answered in the browser first, the dialog closes.
    const consents = setupConsentDialogs({ dialog, Notification }, { decide: (id, allow) => running.api.decideConsent(id, allow) });
    running.oauth.on('consent', (c) => {
      tray.refresh();
      void running.api.consent(c.id).then((r) => r.ok && consents.pending(r.consent));
    });
    running.oauth.on('answer', (c) => {
      tray.refresh();
      consents.resolved(c.id);
    });
    const dialogs = setupApprovalDialogs({ dialog, Notification }, {
      decide: (id, decision, port) => running.api.decideApproval(id, decision, port),
      appFocused: () => BrowserWindow.getFocusedWindow() !== null,
      show: () => showWindow(),
    });
    // Rebuilt on what changes it, never by polling.
    running.broker.on('pending', (p) => {
      tray.refresh();
      dialogs.pending(toApprovalView(p));
    });
    running.broker.on('resolved', (p) => {
      tray.refresh();
      dialogs.resolved(p.id);
    });
    for (const event of ['session-start', 'session-end'] as const) running.gateway.events.on(event, () => tray.refresh());
    running.live.on('reloaded', readClients);
    readClients();
    running.live.on('invalid', () => tray.refresh());
    showWindow();
  }).catch((err: unknown) => {
    // Another gateway on this data directory, an invalid config…: said once, plainly, and nothing half-runs.
    dialog.showErrorBox('Gatehouse could not start', err instanceof Error ? err.message : String(err));
    app.quit();
  });
}
