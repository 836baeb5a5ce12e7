import { app, BrowserWindow, ipcMain, shell } from 'electron';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startGatehouse, type RunningGatehouse } from '../api/core.js';
import { resolveDataDir } from '../config/data-dir.js';
import { serveApiOverIpc } from './ipc.js';
import { lockDownNavigation, secureWebPreferences } from './window.js';

// The Electron main process: thin on purpose. The core does the work; this file wires it to the desktop.
const here = fileURLToPath(new URL('.', import.meta.url));

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  let core: RunningGatehouse | undefined;
  let window: BrowserWindow | undefined;
  let quitting = false;

  const showWindow = () => {
    if (!window) {
      window = new BrowserWindow({ width: 1200, height: 800, show: false, title: 'Gatehouse', webPreferences: secureWebPreferences(join(here, '../preload/index.cjs')) });
      lockDownNavigation(window.webContents, (url) => void shell.openExternal(url));
      window.on('close', (event) => {
        if (!quitting) {
          event.preventDefault();
          window?.hide();
        }
      });
      void window.loadFile(join(here, '../renderer/index.html'));
      window.once('ready-to-show', () => window?.show());
    } else {
      window.show();
      window.focus();
    }
  };

  app.on('second-instance', showWindow);
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
    core = await startGatehouse({ dataDir: resolveDataDir(), shell: 'desktop' });
    serveApiOverIpc(ipcMain, core.api, (sender) => BrowserWindow.fromWebContents(sender) !== null);
    showWindow();
  });
}
