/**
 * The listener cannot be starved by another local process without a token. Attacks:
 *   - slowloris: thousands of connections that send part of a request's headers and hold on;
 *   - slow bodies: requests to the sign-in page whose headers promise a body that never comes;
 * with a normal client trying to initialize and call a tool in the middle of them; and a client that asks for
 * a stream and never reads it while the server floods it. What is measured is what happened: the client's
 * answer, the gateway process's open file descriptors and resident memory (from /proc), its console.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { everythingStdio } from '../helpers/servers.js';
import { serveBlock } from '../helpers/serve-block.js';
import { waitFor } from '../helpers/gateway-harness.js';

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

describe('a listener that cannot be starved', () => {
  const block = serveBlock({ servers: { everything: everythingStdio() }, gateway: { port: 0 } });
  const held: Socket[] = [];
  afterAll(() => held.forEach((s) => s.destroy()));

  it('5,000 held partial requests do not stop a normal client from initializing and calling a tool', async () => {
    const { port } = new URL(block.serve.url);
    const before = openFds(block.serve.child.pid as number);
    const hold = (payload: string) =>
      new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => {
          s.write(payload);
          resolve();
        });
        s.on('error', () => resolve()); // closed by the gateway to make room: what is meant to happen
        held.push(s);
      });
    for (let i = 0; i < 5_000; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) =>
          hold((i + j) % 2 === 0 ? `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nto` : `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `),
        ),
      );
    }
    const during = openFds(block.serve.child.pid as number);
    expect(during - before).toBeLessThan(600); // at most 256 waiting connections, not 5,000

    const token = readFileSync(join(block.home.dir, 'token'), 'utf8').trim();
    const client = new Client({ name: 'normal-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${block.serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'through the flood' } });
    expect(JSON.stringify(result)).toContain('through the flood');
    await client.close();
  });
});

describe('request timeouts', () => {
  const block = serveBlock({ servers: {}, gateway: { port: 0 } });

  it('headers that never finish are cut at the 10 s header timeout, not held for 30 s', async () => {
    const { port } = new URL(block.serve.url);
    const started = Date.now();
    const closed = new Promise<string>((resolve) => {
      const s = connect(Number(port), '127.0.0.1', () => s.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `));
      let answer = '';
      s.on('data', (d: Buffer) => (answer += d.toString()));
      s.on('close', () => resolve(answer));
      s.on('error', () => undefined);
      setTimeout(() => s.destroy(), 25_000).unref();
    });
    expect(await closed).toMatch(/^HTTP\/1\.1 408/);
    expect(Date.now() - started).toBeLessThan(20_000); // the bound itself: 10 s, checked every second
  }, 30_000);
});

describe('a client that does not read its stream', () => {
  const SPY = join(import.meta.dirname, '../fixtures/spy-server.mjs');
  const block = serveBlock({ servers: { spy: { command: process.execPath, args: [SPY] } }, gateway: { port: 0, maxBodySize: '1MiB' }, recording: { exclude: [{ server: 'spy' }] } });

  it('has its stream cut at twice gateway.maxBodySize, the cut recorded, and the gateway does not buffer 100 MiB for it', async () => {
    const rss = () => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${block.serve.child.pid as number}/status`, 'utf8'))?.[1]) * 1024;
    const token = readFileSync(join(block.home.dir, 'token'), 'utf8').trim();
    const { port } = new URL(block.serve.url);
    const post = (body: unknown, session?: string) =>
      fetch(`${block.serve.url}/mcp/spy`, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}`, ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}) }, body: JSON.stringify(body) });
    const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'slow-reader', version: '1' } } });
    const session = init.headers.get('mcp-session-id') as string;
    await init.text();
    await (await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session)).text();
    const before = rss();
    // The call whose stream carries the flood, on a socket that is never read.
    const body = JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'flood_200', arguments: {} } });
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause();
    socket.write(`POST /mcp/spy HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/json\r\nAccept: application/json, text/event-stream\r\nMcp-Session-Id: ${session}\r\nMcp-Protocol-Version: 2025-11-25\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await waitFor(() => block.serve.output().includes('was closed: the client was not reading it'), 30_000, 'the stream is cut');
    expect(rss() - before).toBeLessThan(60 * 1024 * 1024);
    socket.destroy();
    // The session goes on for the client that reads.
    const ping = await post({ jsonrpc: '2.0', id: 3, method: 'ping' }, session);
    expect(ping.status).toBe(200);
    await waitFor(() => readdirSync(join(block.home.dir, 'audit')).some((f) => f.endsWith('.jsonl') && readFileSync(join(block.home.dir, 'audit', f), 'utf8').includes('"event":"stream-cut"')), 5_000, 'the cut is on the record');
  });
});
