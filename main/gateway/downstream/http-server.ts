import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Gateway } from '../gateway.js';
import { guardConnections } from './connection-guard.js';
import { handleMcpRequest, sendError, type Caller, type EndpointLimits } from './mcp-endpoint.js';
import { checkOrigin, checkToken } from './request-guards.js';
import { challenge, oauthRoutes } from '../oauth/auth-routes.js';
import type { GatehouseOAuthProvider } from '../oauth/provider.js';

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, port: number) => void | Promise<void>;

export interface GatewayServerOptions {
  gateway: Gateway;
  token: string;
  port: number;
  limits: () => EndpointLimits;
  /** Handles every path other than /mcp/… (the API and the web UI); 404 without it. */
  fallback?: RequestHandler;
  /** The local authorization server (MCP authorization): clients that sign in get tokens of their own. */
  oauth?: GatehouseOAuthProvider;
}

/** The gateway's port is taken: by another program, or by a Gatehouse with another data directory. */
export class PortInUse extends Error {
  constructor(readonly port: number) {
    super(`port ${port} on 127.0.0.1 is already in use by another program; stop it, or choose another port with --port N or gateway.port in gatehouse.yaml (0 picks a free one)`);
  }
}

export interface GatewayServer {
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Connections not being served (see connection-guard.ts) beyond which the least recently active is closed. */
const MAX_WAITING_CONNECTIONS = 256;

/** Where OAuth clients look for an authorization server (RFC 9728, RFC 8414, OpenID discovery, dynamic registration). */
const OAUTH_DISCOVERY = /^\/(?:\.well-known(?:\/|$)|register$|authorize$|token$|revoke$|oauth(?:\/|$))/i;

/** A path as a client or router would read it: percent-decoded, without `;params` or trailing slashes. */
function discoveryForm(path: string): string {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // not valid percent-encoding: as it is
  }
  return decoded.replace(/;.*$/, '').replace(/\/+$/, '') || '/';
}

function sendOAuthNotFound(res: ServerResponse, path: string): void {
  const body = JSON.stringify({
    error: 'not_found',
    error_description: `Gatehouse has no OAuth authorization server at ${path}: send the gateway token as \`Authorization: Bearer <token>\` (the \`token\` file in the Gatehouse data directory), or use \`gatehouse connect\``,
  });
  res.writeHead(404, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(body);
}

/** The loopback HTTP listener: Host/Origin checks on every request, the token on /mcp/…, then the endpoint. */
export async function startGatewayServer(options: GatewayServerOptions): Promise<GatewayServer> {
  let port = options.port;
  // Timeouts are checked every second (Node's default, 30 s, would let each one run up to 30 s long).
  const server: Server = createServer({ connectionsCheckingInterval: 1_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0] as string;
    // A refusal of a caller that holds the token is an answer a client of ours got: on the record. (Anyone can
    // send requests without it; those are not recorded, so that they cannot flood the log.)
    const refuse = (status: number, message: string) => {
      if (path.startsWith('/mcp/') && checkToken(req.headers.authorization, options.token).ok) {
        options.gateway.events.emit('http-refusal', { server: path.slice('/mcp/'.length), status, answer: { jsonrpc: '2.0', id: null, error: { code: -32000, message } } });
      }
      sendError(res, status, -32000, message);
    };
    const origin = checkOrigin({ host: req.headers.host, origin: req.headers.origin }, port);
    if (!origin.ok) return refuse(origin.status, origin.message);
    if (path.startsWith('/mcp/')) {
      let name: string;
      try {
        name = decodeURIComponent(path.slice('/mcp/'.length).replace(/\/+$/, ''));
      } catch {
        return refuse(400, `Bad Request: the path ${path} is not valid percent-encoding`);
      }
      void callerOf(req, name).then((caller) => {
        if (caller !== undefined) serve(name, caller);
      });
      return;
    }
    // A client refused with 401 looks for OAuth metadata and registration here: the authorization server answers;
    // without one, a JSON 404 lets it say "unauthorized" plainly, where the web UI's page would make it fail on parsing HTML.
    if (OAUTH_DISCOVERY.test(discoveryForm(path))) {
      if (options.oauth) return routes()(req, res);
      return sendOAuthNotFound(res, path);
    }
    if (!options.fallback) return sendError(res, 404, -32000, `Not Found: ${path}`);
    Promise.resolve(options.fallback(req, res, port)).catch((err: unknown) => {
      options.gateway.events.emit('warning', { message: `web error: ${(err as Error).message}` });
      if (!res.headersSent) sendError(res, 500, -32603, 'Internal error');
      else res.end();
    });

    /** The caller, or undefined once it was answered 401: the gateway token, or an access token this gateway issued for this endpoint. */
    async function callerOf(req: IncomingMessage, name: string): Promise<Caller | undefined> {
      const auth = checkToken(req.headers.authorization, options.token);
      if (auth.ok) return {};
      const bearer = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(req.headers.authorization ?? '')?.[1];
      let refused: string | undefined;
      if (options.oauth && bearer !== undefined) {
        try {
          const info = await options.oauth.verifyAccessToken(bearer);
          // (RFC 8707: a token is for the endpoint it was asked for; another server's needs its own consent.)
          if (info.resource?.href === `${url()}/mcp/${encodeURIComponent(name)}`) return { registration: info.clientId };
          refused = `the token was issued for ${info.resource?.href ?? 'no endpoint'}, not this one`;
        } catch (err) {
          refused = (err as Error).message;
        }
      }
      res.setHeader('www-authenticate', options.oauth ? challenge(url(), name, refused) : 'Bearer realm="gatehouse"');
      // (A token nobody issued gets the gateway token's hint; one Gatehouse issued, why it no longer works.)
      sendError(res, 401, -32000, refused && !refused.includes('(unknown') ? `Unauthorized: ${refused}` : refused ? `${auth.message}, nor is it a token Gatehouse issued to a signed-in client` : auth.message);
      return undefined;
    }

    function serve(name: string, caller: Caller): void {
      handleMcpRequest(req, res, name, options.gateway, options.limits(), caller).catch((err: unknown) => {
        options.gateway.events.emit('warning', { server: name, message: `endpoint error: ${(err as Error).message}` });
        if (res.headersSent) return void res.end();
        const message = 'Internal error in the gateway; see its log';
        options.gateway.events.emit('http-refusal', { server: name, status: 500, answer: { jsonrpc: '2.0', id: null, error: { code: -32603, message } } });
        sendError(res, 500, -32603, message);
      });
    }
  });
  const url = () => `http://127.0.0.1:${port}`;
  let built: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  const routes = () => (built ??= oauthRoutes(options.oauth as GatehouseOAuthProvider, url(), (name) => options.gateway.hasServer(name)));
  // Bounded: a request's headers must arrive within 10 s and the whole request (headers and body: up to
  // gateway.maxBodySize, over loopback) within 60 s; what is answered may stream for as long as it needs (an
  // event stream is a request long received). Idle keep-alive connections are kept warm for a minute.
  server.headersTimeout = 10_000;
  server.requestTimeout = 60_000;
  server.keepAliveTimeout = 65_000;
  // At most this many connections that are not being served (requests still arriving, or idle) at once.
  guardConnections(server, MAX_WAITING_CONNECTIONS);

  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new PortInUse(options.port) : err));
    server.listen(options.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  return {
    port,
    url: url(),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
