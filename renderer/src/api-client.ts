import type { ApprovalDecision, ChangeEvent, ChangeSource, DecisionResult, GatehouseApi, SessionFilter, SessionPage } from '../../main/api/types';

declare global {
  interface Window {
    /** Present in the Electron window (preload); absent in the browser. */
    gatehouse?: GatehouseApi;
    gatehouseChanges?: ChangeSource;
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const answer: unknown = await res.json().catch(() => undefined);
  if (res.ok) return answer as T;
  // A refused decision (409) or an approval or grant already gone (404) answers with a result that says so
  // (`{ok: false, message}`); any other failure is an error, never a result (an unknown session is not "no records").
  if ((res.status === 409 || res.status === 404) && typeof (answer as { ok?: unknown } | undefined)?.ok === 'boolean') return answer as T;
  const said = (answer as { error?: unknown } | undefined)?.error ?? (answer as { message?: unknown } | undefined)?.message;
  throw new Error(typeof said === 'string' ? said : `${path}: HTTP ${res.status}`);
}

function query(filter: SessionFilter): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filter)) if (v !== undefined && v !== '') q.set(k, String(v));
  return q.toString();
}

/** GatehouseApi over the gateway's JSON API, with the browser's session cookie. */
function httpApi(): GatehouseApi {
  return {
    status: () => request('GET', '/api/status'),
    servers: () => request('GET', '/api/servers'),
    liveSessions: () => request('GET', '/api/sessions/live'),
    approvals: () => request('GET', '/api/approvals'),
    decideApproval: (id: string, decision: ApprovalDecision) => request<DecisionResult>('POST', `/api/approvals/${encodeURIComponent(id)}`, decision),
    grants: () => request('GET', '/api/grants'),
    revokeGrant: (id: string) => request<DecisionResult>('DELETE', `/api/grants/${encodeURIComponent(id)}`),
    verify: () => request('POST', '/api/verify', {}),
    sessions: (filter: SessionFilter) => request<SessionPage>('GET', `/api/sessions?${query(filter)}`),
    sessionRecords: (id: string) => request('GET', `/api/sessions/${encodeURIComponent(id)}/records`),
    policy: () => request('GET', '/api/policy'),
    integrity: () => request('GET', '/api/integrity'),
    signIn: () => request('POST', '/api/identity/login', {}),
    signOut: () => request('POST', '/api/identity/logout', {}),
    clients: () => request('GET', '/api/clients'),
    wireClients: (client) => request('POST', '/api/clients/wire', { client }),
    unwireClients: (client) => request('POST', '/api/clients/unwire', { client }),
  };
}

/** Changes over server-sent events (the browser); the cookie signs the stream in. */
function sseChanges(): ChangeSource {
  return {
    subscribe(listener) {
      const source = new EventSource('/api/events');
      const onChange = (e: MessageEvent<string>) => listener(JSON.parse(e.data) as ChangeEvent);
      source.addEventListener('change', onChange);
      return () => source.close();
    },
  };
}

/** The one GatehouseApi the UI uses: IPC in the desktop app, HTTP in the browser. */
export const api: GatehouseApi = window.gatehouse ?? httpApi();
export const changes: ChangeSource = window.gatehouseChanges ?? sseChanges();
