import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS, apiChannel, type ApiMethod, type CoreApi, type GatehouseApi } from '../api/types.js';
import { approvalDecisionSchema, approvalId, recordingSchema, sessionFilterSchema, sessionId, wiringTargetSchema } from '../api/validation.js';

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
 * Serves GatehouseApi over IPC. Every handler goes through one wrapper that ignores senders that are not
 * the app's own page (see fromOwnPage).
 */
export function serveApiOverIpc(ipcMain: IpcMain, api: CoreApi, isOwnPage: (event: IpcSender) => boolean): void {
  const handlers: { [M in ApiMethod]: (args: unknown[]) => ReturnType<GatehouseApi[M]> } = {
    status: () => api.status(),
    servers: () => api.servers(),
    liveSessions: () => api.liveSessions(),
    approvals: () => api.approvals(),
    grants: () => api.grants(),
    // The window decides as the port "window" (the route says so, not the renderer); its arguments are checked like an HTTP body.
    decideApproval: ([id, decision]) => api.decideApproval(approvalId.parse(id), approvalDecisionSchema.parse(decision), 'window'),
    revokeGrant: ([id]) => api.revokeGrant(approvalId.parse(id)),
    verify: () => api.verify(),
    sessions: ([filter]) => api.sessions(sessionFilterSchema.parse(filter ?? {})),
    sessionRecords: ([id]) => api.sessionRecords(sessionId.parse(id)),
    policy: () => api.policy(),
    integrity: () => api.integrity(),
    signIn: () => api.signIn(),
    signOut: () => api.signOut(),
    clients: () => api.clients(),
    wireClients: ([target]) => api.wireClients(wiringTargetSchema.parse({ client: target }).client),
    unwireClients: ([target]) => api.unwireClients(wiringTargetSchema.parse({ client: target }).client),
    setRecordingPaused: ([paused]) => api.setRecordingPaused(recordingSchema.parse({ paused }).paused),
  };
  for (const method of API_METHODS) {
    ipcMain.handle(apiChannel(method), (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isOwnPage(event as IpcSender)) throw new Error('Gatehouse: IPC from an unknown sender was refused');
      return handlers[method](args);
    });
  }
}
