/**
 * Token passthrough, which the MCP specification forbids: a token a client sends to Gatehouse must never reach
 * an upstream. Attack: a client puts credentials in every header it controls (Authorization, Cookie, a custom
 * X-Api-Key, Mcp-Session-Id games); an HTTP upstream that logs every request's headers proves what arrived.
 * Only the headers configured for that server (`headers:` in gatehouse.yaml) may reach it.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatehouse } from '../../main/api/core.js';
import { MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';
import { tempHome } from '../helpers/temp-home.js';

describe('no token a client sends to Gatehouse reaches an upstream', () => {
  const seen: IncomingHttpHeaders[] = [];
  // A minimal Streamable HTTP MCP server that logs the headers of every request it gets.
  const upstream = createServer((req, res) => {
    seen.push(req.headers);
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const message = body ? (JSON.parse(body) as { id?: number; method?: string }) : {};
      if (message.id === undefined) return void res.writeHead(202).end();
      const result =
        message.method === 'initialize'
          ? { protocolVersion: '2025-11-25', capabilities: { tools: {} }, serverInfo: { name: 'header-logger', version: '1' } }
          : message.method === 'tools/list'
            ? { tools: [{ name: 'echo', inputSchema: { type: 'object' } }] }
            : { content: [{ type: 'text', text: 'ok' }] };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'upstream-session' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result }));
    });
  });
  let url = '';
  beforeAll(async () => {
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/mcp`;
  });
  afterAll(() => new Promise<void>((r) => upstream.close(() => r())));

  it("only the configured headers arrive: never the client's Authorization, Cookie or API key", async () => {
    const home = tempHome({ servers: { remote: { url, transport: 'streamable-http', headers: { 'X-Team': 'platform' } } }, gateway: { port: 0 } });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      const hostile = { ...MCP_HEADERS, authorization: `Bearer ${token}`, cookie: 'session=client-cookie-secret', 'x-api-key': 'client-api-key-secret', 'proxy-authorization': 'Basic Y2xpZW50OnNlY3JldA==' };
      const init = await rawRequest(`${g.url}/mcp/remote`, { headers: hostile, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } }) });
      expect(init.status).toBe(200);
      const session = init.headers['mcp-session-id'] as string;
      const withSession = { ...hostile, 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' };
      await rawRequest(`${g.url}/mcp/remote`, { headers: withSession, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
      const call = await rawRequest(`${g.url}/mcp/remote`, { headers: withSession, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo', arguments: {} } }) });
      expect(call.body).toContain('ok');
      expect(seen.length).toBeGreaterThanOrEqual(2);
      const all = JSON.stringify(seen);
      for (const secret of [token, 'client-cookie-secret', 'client-api-key-secret', 'Y2xpZW50OnNlY3JldA==']) expect(all).not.toContain(secret);
      for (const h of seen) {
        expect(h.authorization).toBeUndefined();
        expect(h.cookie).toBeUndefined();
        expect(h['x-team']).toBe('platform');
        expect(h['mcp-session-id'] === undefined || h['mcp-session-id'] === 'upstream-session').toBe(true); // its own session id, never the client's
      }
    } finally {
      await g.stop();
      home.remove();
    }
  });

});
