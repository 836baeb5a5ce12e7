import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkToken } from '../gateway/downstream/request-guards.js';
import type { RequestHandler } from '../gateway/downstream/http-server.js';
import type { CoreApi } from './types.js';
import type { ChangeFeed } from './change-feed.js';
import type { DeciderPort } from '../approvals/decider-port.js';
import { approvalDecisionSchema, approvalId, pinAcceptSchema, recordingSchema, sessionFilterSchema, sessionId, wiringTargetSchema } from './validation.js';

export interface ApiRoutesOptions {
  api: CoreApi;
  token: string;
  /** Live changes for `GET /api/events` (SSE). */
  changes?: ChangeFeed;
  /** A browser session cookie counts as well as the bearer token (the web shell provides it). */
  signedIn?: (req: IncomingMessage) => boolean;
  /** Paths that are not /api/…; 404 without it. */
  next?: RequestHandler;
}

/** A route's handler; `port` is how the caller signed in: the gateway token (the CLI) or the browser's session (the web UI). */
type Route = (req: IncomingMessage, match: RegExpExecArray, port: DeciderPort) => Promise<{ status: number; body: unknown }>;

/**
 * GatehouseApi over HTTP: the JSON API both shells serve (the CLI's `approve`, `deny` and `approvals` use it,
 * against the desktop app as well as `gatehouse serve`). Bearer token or browser session; bodies are checked
 * before they reach the core.
 */
export function createApiRoutes(options: ApiRoutesOptions): RequestHandler {
  const { api } = options;
  const ok = (body: unknown) => ({ status: 200, body });
  const routes: { method: string; path: RegExp; run: Route }[] = [
    { method: 'GET', path: /^\/api\/status$/, run: async () => ok(await api.status()) },
    { method: 'GET', path: /^\/api\/servers$/, run: async () => ok(await api.servers()) },
    { method: 'GET', path: /^\/api\/sessions\/live$/, run: async () => ok(await api.liveSessions()) },
    { method: 'GET', path: /^\/api\/approvals$/, run: async () => ok(await api.approvals()) },
    {
      method: 'POST',
      path: /^\/api\/approvals\/([^/]+)$/,
      run: async (req, m, port) => {
        const id = approvalId.safeParse(m[1]);
        const decision = approvalDecisionSchema.safeParse(await readJson(req));
        if (!id.success || !decision.success) {
          return { status: 400, body: { error: 'expected {"action":"allow","forMs"?:N,"bindArgs"?:bool} or {"action":"deny","reason"?:"…"}, and an approval id' } };
        }
        const result = await api.decideApproval(id.data, decision.data, port);
        return { status: result.ok ? 200 : 409, body: result };
      },
    },
    { method: 'GET', path: /^\/api\/grants$/, run: async () => ok(await api.grants()) },
    {
      method: 'POST',
      path: /^\/api\/pins\/accept$/,
      run: async (req) => {
        const body = pinAcceptSchema.safeParse(await readJson(req));
        if (!body.success) return { status: 400, body: { error: 'expected {"server":"…","tool"?:"…","fingerprint"?:"hex prefix"}' } };
        const result = await api.acceptPins(body.data.server, body.data.tool, body.data.fingerprint);
        return { status: result.ok ? 200 : 409, body: result };
      },
    },
    {
      method: 'GET',
      path: /^\/api\/sessions$/,
      run: async (req) => {
        const q = new URL(req.url ?? '/', 'http://x').searchParams;
        const num = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
        const filter = sessionFilterSchema.safeParse(
          Object.fromEntries(
            Object.entries({
              id: q.get('id') ?? undefined,
              server: q.get('server') ?? undefined,
              client: q.get('client') ?? undefined,
              tool: q.get('tool') ?? undefined,
              principal: q.get('principal') ?? undefined,
              decision: q.get('decision') ?? undefined,
              text: q.get('text') ?? undefined,
              since: num('since'),
              until: num('until'),
              offset: num('offset'),
              limit: num('limit'),
            }).filter(([, v]) => v !== undefined && v !== ''),
          ),
        );
        if (!filter.success) return { status: 400, body: { error: `bad filter: ${filter.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` } };
        return ok(await api.sessions(filter.data));
      },
    },
    {
      method: 'GET',
      path: /^\/api\/sessions\/([^/]+)\/records$/,
      run: async (_req, m) => {
        const id = sessionId.safeParse(m[1]);
        if (!id.success) return { status: 400, body: { error: 'not a session id' } };
        return ok(await api.sessionRecords(id.data));
      },
    },
    { method: 'GET', path: /^\/api\/policy$/, run: async () => ok(await api.policy()) },
    { method: 'POST', path: /^\/api\/identity\/login$/, run: async () => ok(await api.signIn()) },
    { method: 'POST', path: /^\/api\/identity\/logout$/, run: async () => ok(await api.signOut()) },
    { method: 'GET', path: /^\/api\/integrity$/, run: async () => ok(await api.integrity()) },
    { method: 'POST', path: /^\/api\/verify$/, run: async () => ok(await api.verify()) },
    { method: 'GET', path: /^\/api\/clients$/, run: async () => ok(await api.clients()) },
    {
      method: 'POST',
      path: /^\/api\/recording$/,
      run: async (req) => {
        const body = recordingSchema.safeParse(await readJson(req));
        if (!body.success) return { status: 400, body: { error: 'expected {"paused":true} or {"paused":false}' } };
        return ok(await api.setRecordingPaused(body.data.paused));
      },
    },
    {
      method: 'POST',
      path: /^\/api\/clients\/(wire|unwire)$/,
      run: async (req, m) => {
        const body = wiringTargetSchema.safeParse(await readJson(req));
        if (!body.success) return { status: 400, body: { error: 'expected {"client":"claude-desktop|claude-code|cursor|vscode|windsurf|gemini|all"}' } };
        const result = m[1] === 'wire' ? await api.wireClients(body.data.client) : await api.unwireClients(body.data.client);
        return { status: result.ok ? 200 : 409, body: result };
      },
    },
    {
      method: 'DELETE',
      path: /^\/api\/grants\/([^/]+)$/,
      run: async (_req, m) => {
        const id = approvalId.safeParse(m[1]);
        if (!id.success) return { status: 400, body: { error: `"${decodeURIComponent(m[1] ?? '')}" is not a grant id; \`gatehouse grants\` lists them` } };
        const result = await api.revokeGrant(id.data);
        return { status: result.ok ? 200 : 404, body: result };
      },
    },
  ];

  return async (req, res, port) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    if (!path.startsWith('/api/')) {
      if (options.next) return options.next(req, res, port);
      return json(res, 404, { error: `Not Found: ${path}` });
    }
    const bearer = checkToken(req.headers.authorization, options.token);
    if (!bearer.ok && !options.signedIn?.(req)) return json(res, 401, { error: bearer.message });
    const decidedThrough: DeciderPort = bearer.ok ? 'cli' : 'web';
    // A state-changing call from a browser must say it is JSON: a cross-site form cannot.
    if (req.method !== 'GET' && req.method !== 'DELETE' && !/^application\/json\b/i.test(req.headers['content-type'] ?? '')) {
      return json(res, 415, { error: 'send the body as application/json' });
    }
    if (path === '/api/events' && req.method === 'GET' && options.changes) return streamChanges(res, options.changes);
    const candidates = routes.filter((r) => r.path.test(path));
    if (candidates.length === 0) return json(res, 404, { error: `no API route ${path}` });
    const route = candidates.find((r) => r.method === req.method);
    if (!route) return json(res, 405, { error: `${req.method ?? ''} is not allowed on ${path}` });
    const result = await route.run(req, route.path.exec(path) as RegExpExecArray, decidedThrough);
    return json(res, result.status, result.body);
  };
}

/** Server-sent events of the change feed, with a keep-alive comment so idle connections stay open. */
function streamChanges(res: ServerResponse, changes: ChangeFeed): void {
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
  res.write(': connected\n\n');
  const unsubscribe = changes.subscribe((event) => res.write(`event: change\ndata: ${JSON.stringify(event)}\n\n`));
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), 25_000).unref();
  res.on('close', () => {
    unsubscribe();
    clearInterval(keepalive);
  });
}

export function json(res: ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

/** A small request body as text; undefined if it is larger than `limit` or the request fails. */
export function readSmallBody(req: IncomingMessage, limit = 64 * 1024): Promise<string | undefined> {
  return new Promise((resolve) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      body += chunk;
      if (body.length > limit) {
        resolve(undefined);
        req.destroy();
      }
    });
    req.on('end', () => resolve(body));
    req.on('error', () => resolve(undefined));
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readSmallBody(req);
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
