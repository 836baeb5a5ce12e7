/*
 * The API is written twice for the browser: the JSON routes the gateway serves (http-routes.ts) and the client
 * the page calls them with (renderer/src/api-client.ts). Drift between them is a silent break: a verb the page
 * calls that no route serves, a route that calls another verb, arguments lost or changed on the way. So every
 * verb of API_METHODS is called through the real client, over a real loopback server running the real routes,
 * and the core behind them must see that verb, with those arguments.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiRoutes } from '../../../main/api/http-routes.js';
import { API_METHODS, type ApiMethod, type CoreApi, type GatehouseApi } from '../../../main/api/types.js';

const TOKEN = 'parity-test-token';
const calls: { method: string; args: unknown[] }[] = [];
// A core that notes each verb it is asked for, and answers as a core would in shape (ok results, empty lists).
const core = new Proxy({} as CoreApi, {
  get: (_target, method: string) => {
    if (method === 'then') return undefined;
    return async (...args: unknown[]) => {
      calls.push({ method, args });
      if (method === 'sessions') return { total: 0, sessions: [] };
      if (['servers', 'liveSessions', 'approvals', 'grants', 'sessionRecords'].includes(method)) return [];
      return { ok: true, message: 'noted', paused: args[0] === true, lines: [], problems: [] };
    };
  },
});

/** The arguments each verb is called with here (each one's own kind of value, so that a mix-up shows). */
const SAMPLES: { [M in ApiMethod]: Parameters<GatehouseApi[M]> } = {
  status: [],
  servers: [],
  liveSessions: [],
  approvals: [],
  decideApproval: ['abcd1234-ef', { action: 'allow', forMs: 600_000, bindArgs: true }],
  grants: [],
  revokeGrant: ['feed5678'],
  verify: [],
  sessions: [{ client: 'claude', tool: 'write', limit: 7, since: 1_700_000_000_000 }],
  sessionRecords: ['0b9c-session-42'],
  policy: [],
  integrity: [],
  signIn: [],
  signOut: [],
  clients: [],
  wireClients: ['cursor'],
  unwireClients: ['all'],
  setRecordingPaused: [true],
};

let server: Server;
let client: GatehouseApi;
beforeAll(async () => {
  const routes = createApiRoutes({ api: core, token: TOKEN });
  server = createServer((req, res) => void routes(req, res, 0));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // The page's own client module, given what a browser gives it: a window without the desktop's IPC, and a fetch
  // that reaches this server (the page's cookie stands in as the bearer token).
  const realFetch = globalThis.fetch;
  Object.assign(globalThis, {
    window: {},
    fetch: (path: string, init: RequestInit = {}) => realFetch(`${base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${TOKEN}` } }),
  });
  // (Imported by a name the Node typecheck does not follow: the module is the renderer's, checked against the DOM by svelte-check.)
  const module = '../../../renderer/src/api-client.js';
  client = ((await import(/* @vite-ignore */ module)) as { api: GatehouseApi }).api;
  Object.assign(globalThis, { fetch: realFetch });
});
afterAll(async () => {
  Reflect.deleteProperty(globalThis, 'window');
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('the browser client and the JSON routes', () => {
  it.each(API_METHODS)('%s reaches the core as itself, with its arguments', async (method) => {
    calls.length = 0;
    const realFetch = globalThis.fetch;
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    Object.assign(globalThis, { fetch: (path: string, init: RequestInit = {}) => realFetch(`${base}${path}`, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${TOKEN}` } }) });
    try {
      await (client[method] as (...a: unknown[]) => Promise<unknown>)(...SAMPLES[method]);
    } finally {
      Object.assign(globalThis, { fetch: realFetch });
    }
    expect(calls.map((c) => c.method)).toEqual([method]);
    // (The route adds the port a decision came through; the verb's own arguments come first, unchanged.)
    expect(calls[0]?.args.slice(0, SAMPLES[method].length)).toEqual(SAMPLES[method]);
  });
});
