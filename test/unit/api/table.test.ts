/*
 * The API table (main/api/table.ts) is the one place a verb is written; the HTTP routes, the IPC handlers and
 * the two typed clients (the page's, the CLI's) are made from it. What would break silently: a verb with no
 * route, no IPC handler or no client method; a route that calls another verb; arguments lost or changed on
 * the way; a decision recorded as made through a port other than the caller's. So every verb of the table is
 * called through each client and each door — the page's client and the CLI's over a real loopback server
 * running the real routes, the window's IPC through a fake ipcMain — and the core behind them must see that
 * verb, with those arguments (and the port of the door it came through).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { IpcMain } from 'electron';
import { createApiRoutes } from '../../../main/api/http-routes.js';
import { API_TABLE, VERBS, type Verb, type VerbArgs } from '../../../main/api/table.js';
import { API_METHODS, apiChannel, type ApiMethod, type CoreApi, type GatehouseApi } from '../../../main/api/types.js';
import { callVerb } from '../../../main/cli/gateway-client.js';
import { serveApiOverIpc } from '../../../main/desktop/ipc.js';

const TOKEN = 'parity-test-token';
const calls: { method: string; args: unknown[] }[] = [];
// A core that notes each verb it is asked for, and answers as a core would in shape (ok results, empty lists).
const core = new Proxy({} as CoreApi, {
  get: (_target, method: string) => {
    if (method === 'then') return undefined;
    return async (...args: unknown[]) => {
      calls.push({ method, args });
      if (method === 'sessions') return { total: 0, sessions: [] };
      if (['servers', 'liveSessions', 'approvals', 'grants', 'sessionRecords', 'registrations'].includes(method)) return [];
      return { ok: true, message: 'noted', paused: args[0] === true, lines: [], problems: [] };
    };
  },
});

/** The arguments each verb is called with here (each one's own kind of value, so that a mix-up shows). */
const SAMPLES: { [V in Verb]: VerbArgs<V> } = {
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
  consent: ['Zm9vYmFyYmF6cXV4'],
  decideConsent: ['cXV4YmF6YmFyZm9v', false],
  registrations: [],
  revokeRegistration: ['2d3c1f0e-5b6a-4c7d-8e9f-0a1b2c3d4e5f'],
  acceptPins: ['files', 'read_file', 'abc123'],
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

describe("the page's client and the JSON routes", () => {
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

describe("the CLI's client and the JSON routes", () => {
  it.each(VERBS)('%s reaches the core as itself, with its arguments, as decided through the CLI', async (verb) => {
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-table-'));
    try {
      const port = (server.address() as AddressInfo).port;
      writeFileSync(join(dataDir, 'gateway.json'), JSON.stringify({ pid: process.pid, port, url: `http://127.0.0.1:${port}` }));
      writeFileSync(join(dataDir, 'api-token'), TOKEN);
      calls.length = 0;
      const res = await (callVerb as (d: string, v: Verb, ...a: unknown[]) => Promise<{ status: number }>)(dataDir, verb, ...SAMPLES[verb]);
      expect(res.status).toBe(200);
      expect(calls.map((c) => c.method)).toEqual([verb]);
      expect(calls[0]?.args.slice(0, SAMPLES[verb].length)).toEqual(SAMPLES[verb]);
      if (verb === 'decideApproval') expect(calls[0]?.args[2]).toBe('cli');
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("the window's IPC", () => {
  const handlers = new Map<string, (event: unknown, ...args: unknown[]) => Promise<unknown>>();
  serveApiOverIpc({ handle: (channel: string, fn: (event: unknown, ...args: unknown[]) => Promise<unknown>) => void handlers.set(channel, fn) } as unknown as IpcMain, core, () => true);
  it('has a handler for each verb of the table the window has, and none for the CLI\'s own', () => {
    expect([...handlers.keys()].sort()).toEqual(VERBS.filter((v) => API_TABLE[v].ipc).map((v) => apiChannel(v as ApiMethod)).sort());
    expect(VERBS.filter((v) => API_TABLE[v].ipc).sort()).toEqual([...API_METHODS].sort());
  });
  it.each(API_METHODS)('%s reaches the core as itself, with its arguments, as decided through the window', async (verb) => {
    calls.length = 0;
    await (handlers.get(apiChannel(verb)) as (event: unknown, ...args: unknown[]) => Promise<unknown>)({}, ...SAMPLES[verb]);
    expect(calls.map((c) => c.method)).toEqual([verb]);
    expect(calls[0]?.args.slice(0, SAMPLES[verb].length)).toEqual(SAMPLES[verb]);
    if (verb === 'decideApproval') expect(calls[0]?.args[2]).toBe('window');
  });
});
