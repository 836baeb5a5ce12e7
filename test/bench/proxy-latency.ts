import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ChildProcess } from 'node:child_process';
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { abortIsolatingFetch } from '../../main/gateway/isolated-fetch.js';
import { freePort, startHttpServer } from '../helpers/http-servers.js';
import { startServe } from '../helpers/cli.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';
import { summarize, table, type LatencySummary } from './stats.js';

const WARMUP = 300;
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const MESSAGE = 'x'.repeat(1024);
const BIN = join(import.meta.dirname, '../../bin/gatehouse.js');

async function measure(name: string, call: () => Promise<unknown>): Promise<LatencySummary> {
  for (let i = 0; i < WARMUP; i++) await call();
  const samples: number[] = [];
  for (let i = 0; i < CALLS; i++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
  }
  return summarize(name, samples);
}

async function viaClient(name: string, transport: Transport): Promise<LatencySummary> {
  const client = new Client({ name: 'gatehouse-bench', version: '1' });
  await client.connect(transport);
  try {
    return await measure(name, () => client.callTool({ name: 'echo', arguments: { message: MESSAGE } }));
  } finally {
    await client.close();
  }
}

/** Through Gatehouse with Node's own keep-alive HTTP client: the gateway's cost without fetch's. */
async function viaNodeHttp(name: string, url: string, token: string): Promise<LatencySummary> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const target = new URL(url);
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = (body: string) =>
    new Promise<{ headers: Record<string, unknown>; body: string }>((resolve, reject) => {
      const req = request(target, { method: 'POST', agent, headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks).toString() }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const init = await post(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'bench', version: '1' } } }));
  headers['mcp-session-id'] = String(init.headers['mcp-session-id']);
  headers['mcp-protocol-version'] = '2025-11-25';
  await post(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  let id = 1;
  const result = await measure(name, () => post(JSON.stringify({ jsonrpc: '2.0', id: id++, method: 'tools/call', params: { name: 'echo', arguments: { message: MESSAGE } } })));
  agent.destroy();
  return result;
}

/** How long a client waits for its DELETE: sessions opened and ended one after another. */
async function deleteLatency(endpoint: string, token: string, sessions = 20): Promise<LatencySummary> {
  const times: number[] = [];
  for (let i = 0; i < sessions; i++) {
    const transport = new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: abortIsolatingFetch() });
    const client = new Client({ name: 'bench-delete', version: '1' });
    await client.connect(transport);
    await client.callTool({ name: 'echo', arguments: { message: 'x' } });
    const t = performance.now();
    await transport.terminateSession();
    times.push(performance.now() - t);
    await client.close();
  }
  return summarize('DELETE', times);
}

export async function benchProxyLatency(): Promise<string> {
  const children: ChildProcess[] = [];
  const home = tempHome({ gateway: { port: 0 }, servers: { everything: everythingStdio() } });
  try {
    const rows: LatencySummary[] = [];
    rows.push(await viaClient('direct stdio (SDK client)', new StdioClientTransport({ ...everythingStdio(), stderr: 'ignore' })));

    const port = await freePort();
    children.push(await startHttpServer([serverScript('@modelcontextprotocol/server-everything'), 'streamableHttp'], port, { PORT: String(port) }));
    rows.push(await viaClient("server-everything's own Streamable HTTP (SDK client)", new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`), { fetch: abortIsolatingFetch() })));

    const serve = await startServe(['--port', '0', '--quiet'], { GATEHOUSE_HOME: home.dir });
    children.push(serve.child);
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const endpoint = `${serve.url}/mcp/everything`;
    rows.push(await viaClient('Gatehouse, Streamable HTTP (SDK client)', new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { authorization: `Bearer ${token}` } }, fetch: abortIsolatingFetch() })));
    rows.push(await viaNodeHttp('Gatehouse, Streamable HTTP (node:http keep-alive client)', endpoint, token));
    rows.push(await viaClient('Gatehouse via `gatehouse connect` stdio shim (SDK client)', new StdioClientTransport({ command: process.execPath, args: [BIN, 'connect', 'everything'], env: { GATEHOUSE_HOME: home.dir }, stderr: 'ignore' })));

    const deletes = await deleteLatency(endpoint, token);
    return [
      `1 KB echo tools/call against @modelcontextprotocol/server-everything, ${CALLS} sequential calls after ${WARMUP} warm-up, one client`,
      table(rows, rows[0] as LatencySummary),
      '',
      `Ending a session (DELETE, its stdio server stopped after the answer): p50 ${deletes.p50.toFixed(2)} ms, p99 ${deletes.p99.toFixed(2)} ms (${deletes.samples} sessions; target ≤ 5 ms)`,
    ].join('\n');
  } finally {
    for (const child of children) child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 300));
    home.remove();
  }
}

