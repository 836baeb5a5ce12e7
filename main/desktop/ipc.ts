import type { IpcMain, IpcMainInvokeEvent, WebContents } from 'electron';
import { API_METHODS, apiChannel, type ApiMethod, type CoreApi, type GatehouseApi } from '../api/types.js';
import { approvalDecisionSchema, approvalId, sessionFilterSchema, sessionId, wiringTargetSchema } from '../api/validation.js';

/**
 * Serves GatehouseApi over IPC. Every handler goes through one wrapper that ignores senders that are not
 * one of the app's own windows.
 */
export function serveApiOverIpc(ipcMain: IpcMain, api: CoreApi, isOwnWindow: (sender: WebContents) => boolean): void {
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
  };
  for (const method of API_METHODS) {
    ipcMain.handle(apiChannel(method), (event: IpcMainInvokeEvent, ...args: unknown[]) => {
      if (!isOwnWindow(event.sender)) throw new Error('Gatehouse: IPC from an unknown sender was refused');
      return handlers[method](args);
    });
  }
}
