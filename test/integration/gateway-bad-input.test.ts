import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/gateway-harness.js';
import { initializeBody, MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';
import { everythingStdio } from '../helpers/servers.js';

const crashing = { command: process.execPath, args: [join(import.meta.dirname, '../fixtures/crashing-server.mjs')] };

describe('bad input gets a clear error and the gateway keeps serving', () => {
  let harness: Harness;
  let bystander: Client;
  let auth: Record<string, string>;
  let url: string;

  beforeAll(async () => {
    harness = await startHarness({
      gateway: { port: 0, maxBodySize: '64KiB', maxSessions: 6 },
      servers: { everything: everythingStdio(), crashing, missing: { command: 'gatehouse-test-no-such-command' } },
    });
    bystander = await harness.connect('everything');
    auth = { ...MCP_HEADERS, authorization: `Bearer ${harness.gatehouse.token}` };
    url = harness.endpoint('everything').href;
  });
  afterAll(() => harness?.stop());

  async function stillServes(): Promise<void> {
    const result = await bystander.callTool({ name: 'echo', arguments: { message: 'still serving' } });
    expect(JSON.stringify(result)).toContain('still serving');
  }

  it('malformed JSON: 400 with a JSON-RPC parse error', async () => {
    const res = await rawRequest(url, { headers: auth, body: '{"jsonrpc": "2.0", "id": 1, "method": ' });
    expect(res.status).toBe(400);
    expect(res.json().error).toMatchObject({ code: -32700, message: expect.stringContaining('not valid JSON') });
    await stillServes();
  });

  it('a JSON body that is not JSON-RPC: 400 Invalid Request', async () => {
    for (const body of ['{"hello": "world"}', '42', '[]', '{"jsonrpc": "1.0", "id": 1, "method": "ping"}']) {
      const res = await rawRequest(url, { headers: auth, body });
      expect(res.status, body).toBe(400);
      expect(res.json().error?.code, body).toBe(-32600);
    }
    await stillServes();
  });

  it('a malformed initialize: 400 naming the field that is wrong, not "Mcp-Session-Id header is required"', async () => {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'no-version' } } });
    const res = await rawRequest(url, { headers: auth, body });
    expect(res.status).toBe(400);
    expect(res.json().error).toMatchObject({ code: -32602, message: expect.stringContaining('params.clientInfo.version') });
    expect(res.json().error?.message).not.toContain('Mcp-Session-Id');
    // An initialize that is not even valid JSON-RPC names its fault too.
    for (const [bad, where] of [[{ id: null }, 'id'], [{ jsonrpc: '1.0' }, 'jsonrpc'], [{ params: 'x' }, 'params']] as const) {
      const valid = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
      const other = await rawRequest(url, { headers: auth, body: JSON.stringify({ ...valid, ...bad }) });
      expect(other.status, where).toBe(400);
      expect(other.json().error?.message, where).toMatch(new RegExp(`initialize request is not valid at ${where}`));
    }
    await stillServes();
  });

  it('an unknown server: 404 naming the configured ones', async () => {
    const res = await rawRequest(harness.endpoint('nope').href, { headers: auth, body: initializeBody() });
    expect(res.status).toBe(404);
    expect(res.json().error?.message).toContain('no server "nope" is configured (configured: everything, crashing, missing)');
  });

  it('a malformed path: 400, and the gateway goes on', async () => {
    const res = await rawRequest(`${harness.gatehouse.url}/mcp/%E0%A4%A`, { headers: auth, body: initializeBody() });
    expect(res.status).toBe(400);
    expect(res.json().error?.message).toContain('not valid percent-encoding');
    await stillServes();
  });

  it('no token or a wrong token: 401 with a hint where the token lives', async () => {
    const none = await rawRequest(url, { headers: MCP_HEADERS, body: initializeBody() });
    expect(none.status).toBe(401);
    expect(none.headers['www-authenticate']).toContain('Bearer');
    const wrong = await rawRequest(url, { headers: { ...MCP_HEADERS, authorization: 'Bearer not-the-token' }, body: initializeBody() });
    expect(wrong.status).toBe(401);
    expect(wrong.json().error?.message).toContain('does not match');
    await stillServes();
  });

  it('a foreign Origin or Host: 403 (DNS-rebinding defence), even with the right token', async () => {
    const origin = await rawRequest(url, { headers: { ...auth, origin: 'https://evil.example' }, body: initializeBody() });
    expect(origin.status).toBe(403);
    const host = await rawRequest(url, { headers: { ...auth, host: 'evil.example:80' }, body: initializeBody() });
    expect(host.status).toBe(403);
    const own = await rawRequest(url, { headers: { ...auth, origin: `http://localhost:${harness.gatehouse.port}` }, body: initializeBody() });
    expect(own.status).toBe(200);
    await rawRequest(url, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': String(own.headers['mcp-session-id']) } });
  });

  it('an oversize body: 413 naming the limit', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { message: 'x'.repeat(70 * 1024) } } });
    const res = await rawRequest(url, { headers: auth, body: big });
    expect(res.status).toBe(413);
    expect(res.json().error?.message).toContain('gateway.maxBodySize');
    await stillServes();
  });

  it('transport-level mistakes get the status the specification names', async () => {
    expect((await rawRequest(url, { headers: { ...auth, accept: 'application/json' }, body: initializeBody() })).status).toBe(406);
    expect((await rawRequest(url, { headers: { ...auth, 'content-type': 'text/plain' }, body: initializeBody() })).status).toBe(415);
    expect((await rawRequest(url, { method: 'PUT', headers: auth, body: '{}' })).status).toBe(405);
    const noSession = await rawRequest(url, { headers: auth, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
    expect(noSession.status).toBe(400);
    const unknown = await rawRequest(url, { headers: { ...auth, 'mcp-session-id': 'no-such-session' }, body: '{"jsonrpc":"2.0","id":2,"method":"ping"}' });
    expect(unknown.status).toBe(404);
    const init = await rawRequest(url, { headers: auth, body: initializeBody() });
    const sid = String(init.headers['mcp-session-id']);
    const badVersion = await rawRequest(url, { headers: { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '1999-01-01' }, body: '{"jsonrpc":"2.0","id":3,"method":"ping"}' });
    expect(badVersion.status).toBe(400);
    const ping = await rawRequest(url, { headers: { ...auth, 'mcp-session-id': sid, 'mcp-protocol-version': '2025-11-25' }, body: '{"jsonrpc":"2.0","id":"p","method":"ping"}' });
    expect(ping.status).toBe(200);
    expect(ping.json()).toEqual({ jsonrpc: '2.0', id: 'p', result: {} });
    const ended = await rawRequest(url, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': sid } });
    expect(ended.status).toBe(200);
    const after = await rawRequest(url, { headers: { ...auth, 'mcp-session-id': sid }, body: '{"jsonrpc":"2.0","id":4,"method":"ping"}' });
    expect(after.status).toBe(404);
  });

  it('an upstream that crashes mid-call: the call fails with the exit and its stderr; other sessions go on', async () => {
    const client = await harness.connect('crashing', new Client({ name: 'crash-test', version: '1' }));
    expect(JSON.stringify(await client.callTool({ name: 'echo', arguments: { text: 'before' } }))).toContain('before');
    await expect(client.callTool({ name: 'crash', arguments: {} })).rejects.toThrow(/exited.*simulated crash/);
    // The session is gone with its server: the next request is told so (404), as the specification says.
    await expect(client.callTool({ name: 'echo', arguments: { text: 'after' } })).rejects.toThrow(/404|Session not found/);
    await client.close().catch(() => undefined);
    await stillServes();
  });

  it('an upstream command that does not exist: initialize fails naming the command and the config key', async () => {
    const client = new Client({ name: 'missing-test', version: '1' });
    await expect(harness.connect('missing', client)).rejects.toThrow(/command "gatehouse-test-no-such-command" was not found; check servers.missing.command/);
    await stillServes();
  });

  it('more sessions than gateway.maxSessions: 503 that says which limit to raise', async () => {
    const opened: string[] = [];
    let refused: { status: number; message?: string } | undefined;
    for (let i = 0; i < 8 && !refused; i++) {
      const res = await rawRequest(harness.endpoint('crashing').href, { headers: auth, body: initializeBody(i) });
      if (res.status === 200) opened.push(String(res.headers['mcp-session-id']));
      else refused = { status: res.status, message: res.json().error?.message };
    }
    expect(refused).toEqual({ status: 503, message: expect.stringContaining('gateway.maxSessions') });
    for (const sid of opened) await rawRequest(harness.endpoint('crashing').href, { method: 'DELETE', headers: { ...auth, 'mcp-session-id': sid } });
    await waitFor(() => harness.gatehouse.gateway.sessionCount <= 1, 10_000, 'sessions to close');
    await stillServes();
  });
});
