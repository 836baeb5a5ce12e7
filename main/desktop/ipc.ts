import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS, apiChannel, type GatehouseApi } from '../api/types.js';

/**
 * Serves GatehouseApi over IPC. Every handler goes through one wrapper that ignores senders that are not
 * one of the app's own windows.
 */
export function serveApiOverIpc(ipcMain: IpcMain, api: GatehouseApi, isOwnWindow: (sender: WebContents) => boolean): void {
  for (const method of API_METHODS) {
    ipcMain.handle(apiChannel(method), (event: IpcMainInvokeEvent) => {
      if (!isOwnWindow(event.sender)) throw new Error('Gatehouse: IPC from an unknown sender was refused');
      return api[method]();
    });
  }
}
