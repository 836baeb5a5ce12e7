/**
 * A client refused with 401 goes looking for OAuth (the MCP authorization spec): protected-resource metadata,
 * authorization-server metadata, OpenID discovery, dynamic registration. Attack (or accident): those paths fall
 * through to the web UI, which answers 200 with HTML, and the client fails on a JSON parse error instead of
 * saying "unauthorized". They must answer a JSON 404 that says what to do instead — through the real headless
 * gateway, web UI included, and as the MCP SDK's own discovery reads it.
 */
import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { describe, expect, it } from 'vitest';
import { MCP_HEADERS, initializeBody, rawRequest } from '../helpers/raw-http.js';
import { everythingStdio } from '../helpers/servers.js';
import { serveBlock } from '../helpers/serve-block.js';

describe('OAuth discovery paths', () => {
  const block = serveBlock({ servers: { everything: everythingStdio() }, gateway: { port: 0 } });

  it('answer JSON 404 that names the gateway token, never the web UI', async () => {
    const unauthorized = await rawRequest(`${block.serve.url}/mcp/everything`, { headers: MCP_HEADERS, body: initializeBody() });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toMatch(/^Bearer /);
    // As clients and routers also write them: trailing slashes, `;params`, percent-encoded dots, another case.
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/everything', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/register', '/authorize', '/token', '/.well-known', '/authorize/', '/register/', '/token/', '/token;x', '/%2Ewell-known/openid-configuration', '/.Well-Known/oauth-authorization-server']) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(`${block.serve.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
        expect(res.status, `${method} ${path}`).toBe(404);
        expect(res.headers['content-type'], `${method} ${path}`).toBe('application/json');
        expect(res.json(), `${method} ${path}`).toMatchObject({ error: 'not_found', error_description: expect.stringContaining('Authorization: Bearer') });
      }
    }
    // The web UI is still where it was.
    expect((await rawRequest(`${block.serve.url}/`, { method: 'GET', headers: {} })).headers['content-type']).toContain('text/html');
  });

  it("the MCP SDK's discovery ends with a clear error, not a JSON parse error", async () => {
    await expect(discoverOAuthProtectedResourceMetadata(`${block.serve.url}/mcp/everything`)).rejects.toThrow('does not implement OAuth 2.0 Protected Resource Metadata');
    expect(await discoverAuthorizationServerMetadata(block.serve.url)).toBeUndefined();
  });
});
