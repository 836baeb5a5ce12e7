import type { ApprovalDecision, ChangeEvent, ChangeSource, DecisionResult, GatehouseApi, SessionFilter, SessionPage } from '../../main/api/types';

declare global {
  interface Window {
    /** Present in the Electron window (preload); absent in the browser. */
    gatehouse?: GatehouseApi;
    gatehouseChanges?: ChangeSource;
  }
}

/** The page's sign-in to the gateway has ended (its cookie is no longer known: the gateway restarted, or it expired). */
export class SignedOut extends Error {}

/** How the page stands with its gateway: connected, not answering (retrying), or no longer signed in. */
export type Link = 'open' | 'lost' | 'signed-out';
const linkWatchers = new Set<(link: Link) => void>();
let link: Link = 'open';
function setLink(next: Link): void {
  if (next === link) return;
  link = next;
  for (const watch of linkWatchers) watch(next);
}
/** Tells `watch` how the page stands with its gateway now, and at every change. (The desktop window's IPC is always open.) */
export function watchLink(watch: (link: Link) => void): () => void {
  linkWatchers.add(watch);
  watch(link);
  return () => linkWatchers.delete(watch);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(path, {
    method,
    credentials: 'same-origin',
    headers: { accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  if (res.status === 401) {
    setLink('signed-out');
    throw new SignedOut('this page is no longer signed in to the gateway');
  }
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
    setRecordingPaused: (paused) => request('POST', '/api/recording', { paused }),
  };
}

/**
 * Changes over server-sent events (the browser); the cookie signs the stream in. One stream for every view that
 * listens. A stream that drops (the gateway stopped) is retried and the page told it is `lost`; one the gateway
 * refuses (a restart forgot the cookie) is `signed-out`. Back again, every listener hears a change, so that
 * each view reloads what it shows.
 */
function sseChanges(): ChangeSource {
  const listeners = new Set<(event: ChangeEvent) => void>();
  let source: EventSource | undefined;
  let retry: ReturnType<typeof setTimeout> | undefined;
  const tell = (event: ChangeEvent) => {
    for (const listener of listeners) listener(event);
  };
  const probe = async () => {
    try {
      const res = await fetch('/api/status', { credentials: 'same-origin', headers: { accept: 'application/json' } });
      setLink(res.status === 401 ? 'signed-out' : 'lost');
    } catch {
      setLink('lost');
    }
    if (listeners.size > 0 && link !== 'signed-out') retry = setTimeout(open, 2_000);
  };
  const open = () => {
    source?.close();
    source = new EventSource('/api/events');
    source.addEventListener('change', (e: MessageEvent<string>) => tell(JSON.parse(e.data) as ChangeEvent));
    source.addEventListener('open', () => {
      const was = link;
      setLink('open');
      if (was !== 'open') for (const kind of ['records', 'approvals', 'config'] as const) tell({ kind });
    });
    source.addEventListener('error', () => {
      // (Closed: the gateway answered, but not with a stream. Still connecting: the browser retries by itself.)
      if (source?.readyState === EventSource.CLOSED) void probe();
      else setLink('lost');
    });
  };
  return {
    subscribe(listener) {
      listeners.add(listener);
      if (!source) open();
      return () => {
        listeners.delete(listener);
        if (listeners.size === 0) {
          clearTimeout(retry);
          source?.close();
          source = undefined;
        }
      };
    },
  };
}

/** The one GatehouseApi the UI uses: IPC in the desktop app, HTTP in the browser. */
export const api: GatehouseApi = window.gatehouse ?? httpApi();
export const changes: ChangeSource = window.gatehouseChanges ?? sseChanges();
