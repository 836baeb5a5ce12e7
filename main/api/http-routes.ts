import type { IncomingMessage, ServerResponse } from 'node:http';
import { checkToken } from '../gateway/downstream/request-guards.js';
import type { RequestHandler } from '../gateway/downstream/http-server.js';
import type { CoreApi } from './types.js';
import type { ChangeFeed } from './change-feed.js';
import type { DeciderPort } from '../approvals/decider-port.js';
import { argsOf, callCore } from './request-args.js';
import { API_TABLE, pathPattern, VERBS } from './table.js';

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

/**
 * GatehouseApi over HTTP: the JSON API both shells serve (the CLI's `approve`, `deny` and `approvals` use it,
 * against the desktop app as well as `gatehouse serve`), one route per verb of the API table. Bearer token or
 * browser session; arguments are checked (request-args.ts) before they reach the core.
 */
export function createApiRoutes(options: ApiRoutesOptions): RequestHandler {
  const { api } = options;
  const routes = VERBS.map((verb) => ({ verb, method: API_TABLE[verb].method, path: pathPattern(API_TABLE[verb].path), refused: API_TABLE[verb].refused }));
  const run = async (route: (typeof routes)[number], req: IncomingMessage, match: RegExpExecArray, port: DeciderPort): Promise<{ status: number; body: unknown }> => {
    const params = match.slice(1).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
    const args = argsOf(route.verb, { params, query: new URL(req.url ?? '/', 'http://x').searchParams, body: route.method === 'POST' ? await readJson(req) : undefined });
    if ('error' in args) return { status: 400, body: { error: args.error } };
    const result = await callCore(api, route.verb, args, port);
    const refused = route.refused !== undefined && (result as { ok?: unknown }).ok === false;
    return { status: refused ? (route.refused as number) : 200, body: result };
  };

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
    const result = await run(route, req, route.path.exec(path) as RegExpExecArray, decidedThrough);
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
