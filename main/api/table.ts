import type { ApiMethod, CoreApi, GatehouseApi } from './types.js';

/**
 * The API, each verb once: its HTTP method and path, how its arguments travel in a request, and which shells
 * expose it. The HTTP routes (http-routes.ts), the IPC handlers (desktop/ipc.ts), the browser's client
 * (renderer/src/api-client.ts) and the CLI's (cli/gateway-client.ts) are all made from this table; what each
 * argument may be is checked in one place too (api/request-args.ts), for HTTP and IPC alike. Browser-safe: no
 * Node and no zod here, the page bundles it.
 */

/** Every verb of the table: GatehouseApi's, and the CLI's own `acceptPins` (the gateway is the pins' one writer). */
export type Verb = ApiMethod | 'acceptPins';
/** A verb's arguments, as its callers give them (a decision's port is the route's to say, never the caller's). */
export type VerbArgs<V extends Verb> = V extends ApiMethod ? Parameters<GatehouseApi[V]> : V extends 'acceptPins' ? Parameters<CoreApi['acceptPins']> : never;
export type VerbResult<V extends Verb> = V extends ApiMethod ? Awaited<ReturnType<GatehouseApi[V]>> : V extends 'acceptPins' ? Awaited<ReturnType<CoreApi['acceptPins']>> : never;

/** How a request carries a verb's arguments: path parameters (in the path's `:name` order), a query, a JSON body. */
export interface RequestParts {
  params?: string[];
  query?: Record<string, string | number | undefined>;
  body?: unknown;
}

export interface VerbRoute<V extends Verb> {
  method: 'GET' | 'POST' | 'DELETE';
  /** `/api/…`, with `:name` for each path parameter. */
  path: `/api/${string}`;
  request: (...args: VerbArgs<V>) => RequestParts;
  /** The status of a result that says it did not happen (`{ok: false}`): a refusal (409) or a thing gone (404). */
  refused?: 404 | 409;
  /** The shells that offer it besides HTTP: the desktop window's IPC (every GatehouseApi verb), or none (the CLI's own). */
  ipc: boolean;
}

const none = (): RequestParts => ({});
/** A POST says it is JSON (the routes refuse a state change that does not: a cross-site form cannot), so it has a body. */
const empty = (): RequestParts => ({ body: {} });

export const API_TABLE: { [V in Verb]: VerbRoute<V> } = {
  status: { method: 'GET', path: '/api/status', request: none, ipc: true },
  servers: { method: 'GET', path: '/api/servers', request: none, ipc: true },
  liveSessions: { method: 'GET', path: '/api/sessions/live', request: none, ipc: true },
  approvals: { method: 'GET', path: '/api/approvals', request: none, ipc: true },
  decideApproval: { method: 'POST', path: '/api/approvals/:id', request: (id, decision) => ({ params: [id], body: decision }), refused: 409, ipc: true },
  grants: { method: 'GET', path: '/api/grants', request: none, ipc: true },
  revokeGrant: { method: 'DELETE', path: '/api/grants/:id', request: (id) => ({ params: [id] }), refused: 404, ipc: true },
  verify: { method: 'POST', path: '/api/verify', request: empty, ipc: true },
  sessions: { method: 'GET', path: '/api/sessions', request: (filter) => ({ query: { ...filter } }), ipc: true },
  sessionRecords: { method: 'GET', path: '/api/sessions/:id/records', request: (id) => ({ params: [id] }), ipc: true },
  policy: { method: 'GET', path: '/api/policy', request: none, ipc: true },
  integrity: { method: 'GET', path: '/api/integrity', request: none, ipc: true },
  signIn: { method: 'POST', path: '/api/identity/login', request: empty, ipc: true },
  signOut: { method: 'POST', path: '/api/identity/logout', request: empty, ipc: true },
  clients: { method: 'GET', path: '/api/clients', request: none, ipc: true },
  wireClients: { method: 'POST', path: '/api/clients/wire', request: (client) => ({ body: { client } }), refused: 409, ipc: true },
  unwireClients: { method: 'POST', path: '/api/clients/unwire', request: (client) => ({ body: { client } }), refused: 409, ipc: true },
  setRecordingPaused: { method: 'POST', path: '/api/recording', request: (paused) => ({ body: { paused } }), ipc: true },
  consent: { method: 'GET', path: '/api/oauth/consents/:id', request: (id) => ({ params: [id] }), refused: 404, ipc: true },
  decideConsent: { method: 'POST', path: '/api/oauth/consents/:id', request: (id, allow) => ({ params: [id], body: { allow } }), refused: 404, ipc: true },
  registrations: { method: 'GET', path: '/api/oauth/clients', request: none, ipc: true },
  revokeRegistration: { method: 'DELETE', path: '/api/oauth/clients/:id', request: (id) => ({ params: [id] }), refused: 404, ipc: true },
  acceptPins: { method: 'POST', path: '/api/pins/accept', request: (server, tool, fingerprint) => ({ body: { server, ...(tool ? { tool } : {}), ...(fingerprint ? { fingerprint } : {}) } }), refused: 409, ipc: false },
};

export const VERBS = Object.keys(API_TABLE) as Verb[];

/** The request a verb's call makes: its method, its URL path (parameters encoded, the query's empty values left out), its body. */
export function requestFor<V extends Verb>(verb: V, args: VerbArgs<V>): { method: string; url: string; body?: unknown } {
  const route = API_TABLE[verb] as VerbRoute<V>;
  const parts = route.request(...args);
  let i = 0;
  let url = route.path.replace(/:[a-z]+/g, () => encodeURIComponent(String(parts.params?.[i++] ?? '')));
  const query = Object.entries(parts.query ?? {}).filter(([, v]) => v !== undefined && v !== '');
  if (query.length > 0) url += `?${query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&')}`;
  return { method: route.method, url, ...(parts.body !== undefined ? { body: parts.body } : {}) };
}

/** A route's path as a regex, its parameters captured. */
export function pathPattern(path: string): RegExp {
  return new RegExp(`^${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[a-z]+/g, '([^/]+)')}$`);
}
