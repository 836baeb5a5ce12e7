/**
 * A client refused with 401 goes looking for OAuth (the MCP authorization spec): protected-resource metadata,
 * authorization-server metadata, OpenID discovery, dynamic registration. Attack (or accident): those paths fall
 * through to the web UI, which answers 200 with HTML, and the client fails on a JSON parse error. They are the
 * local authorization server's (test/e2e/oauth-sign-in.test.ts signs a client in through them) and answer JSON,
 * whatever form the path takes — through the real headless gateway, web UI included, and as the MCP SDK's own
 * discovery reads it.
 */
import { discoverAuthorizationServerMetadata, discoverOAuthProtectedResourceMetadata } from '@modelcontextprotocol/sdk/client/auth.js';
import { describe, expect, it } from 'vitest';
import { MCP_HEADERS, initializeBody, rawRequest } from '../helpers/raw-http.js';
import { everythingStdio } from '../helpers/servers.js';
import { serveBlock } from '../helpers/serve-block.js';

describe('OAuth discovery paths', () => {
  const block = serveBlock({ servers: { everything: everythingStdio() }, gateway: { port: 0 } });

  it('answer JSON from the authorization server, never the web UI', async () => {
    const unauthorized = await rawRequest(`${block.serve.url}/mcp/everything`, { headers: MCP_HEADERS, body: initializeBody() });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.headers['www-authenticate']).toBe(`Bearer resource_metadata="${block.serve.url}/.well-known/oauth-protected-resource/mcp/everything"`);
    // As clients and routers also write them: trailing slashes, `;params`, percent-encoded dots, another case.
    for (const path of ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp/everything', '/.well-known/oauth-protected-resource/mcp/nosuch', '/.well-known/oauth-authorization-server', '/.well-known/openid-configuration', '/register', '/authorize', '/token', '/.well-known', '/authorize/', '/register/', '/token/', '/token;x', '/%2Ewell-known/openid-configuration', '/.Well-Known/oauth-authorization-server']) {
      for (const method of ['GET', 'POST']) {
        const res = await rawRequest(`${block.serve.url}${path}`, { method, headers: { 'content-type': 'application/json' }, ...(method === 'POST' ? { body: '{}' } : {}) });
        expect(res.headers['content-type'], `${method} ${path}`).toMatch(/^application\/json/);
        expect(res.json(), `${method} ${path}`).toBeTypeOf('object');
      }
    }
    // The web UI is still where it was.
    expect((await rawRequest(`${block.serve.url}/`, { method: 'GET', headers: {} })).headers['content-type']).toContain('text/html');
  });

  it("the MCP SDK's discovery finds the endpoint's resource and Gatehouse as its authorization server", async () => {
    const resource = await discoverOAuthProtectedResourceMetadata(`${block.serve.url}/mcp/everything`);
    expect(resource).toMatchObject({ resource: `${block.serve.url}/mcp/everything`, authorization_servers: [`${block.serve.url}/`] });
    const server = await discoverAuthorizationServerMetadata(`${block.serve.url}/`);
    expect(server).toMatchObject({ issuer: `${block.serve.url}/`, registration_endpoint: `${block.serve.url}/register`, code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: expect.arrayContaining(['none']) });
  });
});
