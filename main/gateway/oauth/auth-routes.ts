import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type Express } from 'express';
import { mcpAuthRouter } from '@modelcontextprotocol/sdk/server/auth/router.js';
import type { GatehouseOAuthProvider } from './provider.js';

/** The protected-resource metadata of one server's endpoint (RFC 9728): the resource, and this gateway as its authorization server. */
export function resourceMetadataPath(server: string): string {
  return `/.well-known/oauth-protected-resource/mcp/${encodeURIComponent(server)}`;
}

/** What a 401 on `/mcp/NAME` says (RFC 6750 §3, RFC 9728 §5.1): where the metadata is, and why a token given was refused. */
export function challenge(url: string, server: string, refused?: string): string {
  const why = refused ? `error="invalid_token", error_description="${refused.replace(/["\\]/g, '')}", ` : '';
  return `Bearer ${why}resource_metadata="${url}${resourceMetadataPath(server)}"`;
}

/**
 * The authorization server's endpoints, from the MCP SDK (authorization-server metadata, registration, authorize,
 * token, revoke), and each server's protected-resource metadata. Built once the gateway's address is known.
 */
export function oauthRoutes(provider: GatehouseOAuthProvider, url: string, hasServer: (name: string) => boolean): (req: IncomingMessage, res: ServerResponse) => void {
  const app: Express = express();
  app.disable('x-powered-by');
  app.get('/.well-known/oauth-protected-resource/mcp/:name', (req, res) => {
    const name = req.params.name;
    if (!hasServer(name)) {
      res.status(404).json({ error: 'not_found', error_description: `no server "${name}" is configured in Gatehouse` });
      return;
    }
    res.set('cache-control', 'no-store').json({ resource: `${url}/mcp/${encodeURIComponent(name)}`, authorization_servers: [`${url}/`], bearer_methods_supported: ['header'], resource_name: `Gatehouse: ${name}` });
  });
  // (The root has no resource: each server's endpoint is one, above.)
  app.get('/.well-known/oauth-protected-resource', (_req, res) => {
    res.status(404).json({ error: 'not_found', error_description: 'each server is a resource of its own: /.well-known/oauth-protected-resource/mcp/NAME' });
  });
  // The redirect URI is checked exactly before the SDK's handler sees it (it lets a loopback port differ, and would
  // send an error for another port there).
  app.all('/authorize', express.urlencoded({ extended: false }), async (req, res, next) => {
    // (A body that is not a form leaves nothing to read: the SDK's handler then names what is missing.)
    const from = ((req.method === 'POST' ? req.body : req.query) ?? {}) as Record<string, unknown>;
    const client = typeof from.client_id === 'string' ? await provider.clientsStore.getClient(from.client_id) : undefined;
    if (client && typeof from.redirect_uri === 'string' && !client.redirect_uris.includes(from.redirect_uri)) {
      res.status(400).set('cache-control', 'no-store').json({ error: 'invalid_request', error_description: 'redirect_uri is not one this client registered (it must match exactly)' });
      return;
    }
    next();
  });
  // Without the SDK's rate limits: every local process shares the one loopback address, so a flood of junk would
  // lock out the real client (a registration for an hour); the store bounds what registrations can fill.
  app.use(mcpAuthRouter({ provider, issuerUrl: new URL(`${url}/`), resourceName: 'Gatehouse', authorizationOptions: { rateLimit: false }, clientRegistrationOptions: { rateLimit: false }, tokenOptions: { rateLimit: false }, revocationOptions: { rateLimit: false } }));
  app.use((req, res) => {
    res.status(404).json({ error: 'not_found', error_description: `Gatehouse's authorization server has no ${req.method} ${req.path}` });
  });
  // Whatever fails in a handler is answered as OAuth errors are (JSON), never with an HTML page.
  app.use((err: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    if (res.headersSent) return void res.end();
    res.status(500).json({ error: 'server_error', error_description: err instanceof Error ? err.message : 'internal error' });
  });
  return (req, res) => app(req as express.Request, res as express.Response);
}
