import type { ApprovalDecision, DecisionResult, GatehouseApi } from '../../main/api/types';

declare global {
  interface Window {
    /** Present in the Electron window (preload); absent in the browser. */
    gatehouse?: GatehouseApi;
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (!res.ok && res.status !== 409 && res.status !== 404) throw new Error(`${path}: HTTP ${res.status}`);
  return (await res.json()) as T;
}

/** GatehouseApi over the gateway's JSON API, with the browser's session cookie. */
function httpApi(): GatehouseApi {
  return {
    status: () => request('GET', '/api/status'),
    servers: () => request('GET', '/api/servers'),
    liveSessions: () => request('GET', '/api/sessions/live'),
    approvals: () => request('GET', '/api/approvals'),
    decideApproval: (id: string, decision: ApprovalDecision) => request<DecisionResult>('POST', `/api/approvals/${encodeURIComponent(id)}`, { ...decision, port: 'web' }),
    grants: () => request('GET', '/api/grants'),
    revokeGrant: (id: string) => request<DecisionResult>('DELETE', `/api/grants/${encodeURIComponent(id)}`),
    verify: () => request('POST', '/api/verify', {}),
  };
}

/** The one GatehouseApi the UI uses: IPC in the desktop app, HTTP in the browser. */
export const api: GatehouseApi = window.gatehouse ?? httpApi();
