import type { ServerResponse } from 'node:http';
import type { ChangeFeed } from '../api/change-feed.js';
import type { CoreApi } from '../api/types.js';
import { createApiRoutes, json, readSmallBody } from '../api/http-routes.js';
import type { RequestHandler } from '../gateway/downstream/http-server.js';
import type { BrowserAuth } from './browser-auth.js';
import { messagePage, SIGN_IN_CSS, signInPage } from './sign-in-page.js';
import { serveStatic, UI_CSP } from './static-files.js';

export interface WebHandlerOptions {
  api: CoreApi;
  changes?: ChangeFeed;
  token: string;
  auth: BrowserAuth;
  /** The built renderer (out/renderer); without it the UI paths answer with a hint to build. */
  uiDir: string | undefined;
}

/** The headless shell's HTTP surface besides /mcp: the JSON API (shared with the desktop) and the web UI with its sign-in. */
export function createWebHandler(options: WebHandlerOptions): RequestHandler {
  const { api, auth } = options;
  const ui: RequestHandler = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://gatehouse.invalid');
    const path = url.pathname;

    if (path === '/sign-in.css') {
      res.writeHead(200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600' });
      return void res.end(SIGN_IN_CSS);
    }

    if (path === '/login') {
      if (req.method === 'GET') {
        const code = url.searchParams.get('code');
        const session = code ? auth.redeem({ code }) : undefined;
        if (session) return redirect(res, '/', auth.cookieFor(session));
        return page(res, code ? 401 : 200, signInPage(code ? 'That sign-in link was already used or has expired. Paste the token instead.' : ''));
      }
      if (req.method === 'POST') {
        const token = new URLSearchParams((await readSmallBody(req, 8192)) ?? '').get('token') ?? '';
        const session = auth.redeem({ token: token.trim() });
        if (session) return redirect(res, '/', auth.cookieFor(session));
        return page(res, 401, signInPage('That token does not match this gateway. It is in the data directory\'s api-token file (not the token file MCP clients use).'));
      }
    }

    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'Method Not Allowed' });
    if (!auth.isSignedIn(req.headers.cookie)) return page(res, 200, signInPage(''));
    if (!options.uiDir) return page(res, 503, messagePage('The web UI is not built. Run <code>npm run build</code>, then reload.'));
    if (await serveStatic(options.uiDir, path, res)) return;
    // Client-side routes fall back to the app shell.
    if (!path.includes('.') && (await serveStatic(options.uiDir, '/', res))) return;
    return json(res, 404, { error: `Not Found: ${path}` });
  };
  return createApiRoutes({ api, token: options.token, ...(options.changes ? { changes: options.changes } : {}), signedIn: (req) => auth.isSignedIn(req.headers.cookie), next: ui });
}

function redirect(res: ServerResponse, location: string, cookie: string): void {
  res.writeHead(303, { location, 'set-cookie': cookie, 'cache-control': 'no-store' }).end();
}

function page(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy': UI_CSP,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(html);
}

