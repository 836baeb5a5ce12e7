import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { apiChannel, type ApiMethod, type CoreApi } from '../api/types.js';
import { argsFromCall, callCore } from '../api/request-args.js';
import { API_TABLE, VERBS } from '../api/table.js';

/** What an IPC call says of where it came from: the page's webContents, and the frame that sent it (null once gone). */
export type IpcSender = Pick<IpcMainInvokeEvent, 'sender'> & { senderFrame: { url: string; parent: unknown } | null };

/**
 * Whether a call comes from the app's own page: a window of the app (`isOwnWindow`), its main frame (not a
 * frame inside it: an iframe of other content there must not reach the API), showing the app's page (`page`,
 * its URL without the view after `#`), not one it was led to.
 */
export function fromOwnPage(event: IpcSender, page: string, isOwnWindow: (sender: WebContents) => boolean): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null || !isOwnWindow(event.sender)) return false;
  return frame.url.replace(/#.*$/, '') === page;
}

/**
 * Serves GatehouseApi over IPC: a handler for each verb of the API table the window has, its arguments checked
 * as an HTTP request's are (request-args.ts). Every handler goes through one wrapper that ignores senders that
 * are not the app's own page (see fromOwnPage). The window decides approvals as the port "window" (the route
 * says so, not the renderer).
 */
export function serveApiOverIpc(ipcMain: IpcMain, api: CoreApi, isOwnPage: (event: IpcSender) => boolean): void {
  for (const verb of VERBS) {
    if (!API_TABLE[verb].ipc) continue;
    ipcMain.handle(apiChannel(verb as ApiMethod), (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isOwnPage(event as IpcSender)) throw new Error('Gatehouse: IPC from an unknown sender was refused');
      const checked = argsFromCall(verb, args);
      if ('error' in checked) throw new Error(`Gatehouse: ${checked.error}`);
      return callCore(api, verb, checked, 'window');
    });
  }
}
