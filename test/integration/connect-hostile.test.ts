/**
 * `gatehouse connect` (the stdio shim, bridgeStdio in process) against a gateway that misbehaves, and a client
 * that does. Attacks on its promises (nothing hangs, nothing runs twice, nothing is held without bound, every
 * request is answered):
 *   - the gateway answers with one huge SSE event: it is dropped as it arrives (never held), the request is
 *     answered with an error naming the size, and the session goes on;
 *   - the gateway answers with malformed JSON (a JSON body, an SSE event): the request is answered with an error;
 *   - the gateway opens a request's stream and never ends it: a ping behind it is answered; at the end of stdin
 *     the request is answered with an error after the wait, and the session is still ended (DELETE);
 *   - the gateway forgets the session mid-way (404 to the next POST, and to the standalone stream opened again):
 *     the next request goes through once, on a session initialized with the client's own initialize;
 *   - the gateway's connection breaks in the middle of an SSE answer (progress sent, then killed): the call is
 *     answered "whether it ran is unknown" and never sent again;
 *   - gateway.json names a gateway that is gone: the shim waits for one (up to --wait), then fails closed;
 *   - a client sends a line over the shim's bound: it is dropped, its request answered, the next one works; and
 *     a 50 MB line passes through the real shim to the real server whole;
 *   - stdin closes with calls in flight: each is answered before the session ends.
 */
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { bridgeStdio } from '../../main/cli/commands/connect.js';
import { BIN, startServe } from '../helpers/cli.js';
import { waitFor } from '../helpers/gateway-harness.js';
import { tempHome } from '../helpers/temp-home.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Seen {
  method: string;
  session: string | undefined;
  version: string | undefined;
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, message: { id?: string | number; method?: string; params?: unknown } | undefined) => boolean | void;

const INIT_RESULT = { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'fake', version: '1' } };

/**
 * A gateway written by hand in a fresh data directory: initialize, notifications, GET (405) and DELETE answered
 * as the real one does, everything else by `handler` (which returns true when it answered).
 */
async function fakeGateway(handler: Handler = () => false) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const seen: Seen[] = [];
  let sessions = 0;
  const server: Server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString();
      seen.push({ method: req.method ?? '', session: req.headers['mcp-session-id'] as string | undefined, version: req.headers['mcp-protocol-version'] as string | undefined, body });
      const message = body ? (JSON.parse(body) as { id?: string | number; method?: string }) : undefined;
      if (handler(req, res, message)) return;
      if (req.method === 'GET') return void res.writeHead(405).end();
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      if (message?.method === 'initialize') {
        const answer = JSON.stringify({ jsonrpc: '2.0', id: message.id, result: INIT_RESULT });
        return void res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': `s${++sessions}` }).end(answer);
      }
      if (message?.id === undefined || message.method === undefined) return void res.writeHead(202).end();
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: message.id, result: { echoed: message.method } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  writeFileSync(join(dir, 'token'), 'fake-token\n');
  writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ pid: process.pid, port, url: `http://127.0.0.1:${port}`, startedAt: Date.now(), shell: 'headless' }));
  const stop = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  cleanups.push(stop);
  return { dir, port, seen, stop, posts: (method: string) => seen.filter((s) => s.method === 'POST' && s.body.includes(`"method":"${method}"`)) };
}

/** The shim in this process, with a client on the other side of two pipes. */
function shim(dir: string, options: { maxMessageSize?: number; drainMs?: number; waitMs?: number } = {}) {
  const stdin = new PassThrough();
  const stdout = new PassThrough();
  const err: string[] = [];
  let out = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = bridgeStdio({ server: 'spy', dataDir: dir, io: { out: () => undefined, err: (t) => err.push(t), env: {} }, stdin, stdout, waitMs: options.waitMs ?? 2_000, ...options });
  let finished = false;
  void done.then(() => (finished = true));
  cleanups.push(async () => {
    if (!finished) stdin.end();
    await done;
  });
  const answers = () =>
    out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { id?: string | number; result?: Record<string, unknown>; error?: { code: number; message: string } });
  const answer = async (id: string | number) => {
    await waitFor(() => answers().some((a) => a.id === id), 10_000, `the answer to ${id}`);
    return answers().find((a) => a.id === id) as NonNullable<ReturnType<typeof answers>[number]>;
  };
  const send = (message: object) => stdin.write(`${JSON.stringify({ jsonrpc: '2.0', ...message })}\n`);
  const handshake = async () => {
    send({ id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'hostile-test', version: '3.1.4' } } });
    send({ method: 'notifications/initialized' });
    await answer(0);
  };
  return { stdin, send, answers, answer, handshake, err, done, out: () => out };
}

const sse = (res: ServerResponse) => res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
const event = (message: object) => `event: message\ndata: ${JSON.stringify(message)}\n\n`;

describe('gatehouse connect against a hostile gateway', () => {
  it('a huge SSE event is dropped as it arrives, its request answered with an error, and the session goes on', async () => {
    const gw = await fakeGateway((req, res, m) => {
      if (m?.method !== 'tools/call') return false;
      sse(res);
      // 8 MiB in one event, 64 KiB at a time, against a bound of 1 MiB.
      res.write(`event: message\ndata: {"jsonrpc":"2.0","id":${JSON.stringify(m.id)},"result":{"text":"`);
      const chunk = 'x'.repeat(64 * 1024);
      for (let i = 0; i < 128; i++) res.write(chunk);
      res.end('"}}\n\n');
      return true;
    });
    const s = shim(gw.dir, { maxMessageSize: 1024 * 1024 });
    await s.handshake();
    s.send({ id: 1, method: 'tools/call', params: { name: 'big', arguments: {} } });
    const a = await s.answer(1);
    expect(a.error?.message).toMatch(/^Gatehouse: the gateway sent a message of \d+ bytes, over the shim's limit/);
    s.send({ id: 2, method: 'ping' });
    expect((await s.answer(2)).result).toEqual({ echoed: 'ping' });
  });

  it('malformed JSON from the gateway, as a JSON body or an SSE event: the request is answered with an error', async () => {
    const gw = await fakeGateway((req, res, m) => {
      if (m?.id === 1) return void res.writeHead(200, { 'content-type': 'application/json' }).end('{"jsonrpc":"2.0","id":1,"result":'), true;
      if (m?.id === 2) {
        sse(res);
        res.end('event: message\ndata: {"jsonrpc":"2.0","id":2,"result":{nope}\n\n');
        return true;
      }
      return false;
    });
    const s = shim(gw.dir);
    await s.handshake();
    s.send({ id: 1, method: 'tools/list' });
    s.send({ id: 2, method: 'tools/list' });
    expect((await s.answer(1)).error).toMatchObject({ code: -32018, message: expect.stringContaining('not a JSON-RPC message') as unknown });
    expect((await s.answer(2)).error?.message).toMatch(/^Gatehouse: the gateway sent an event that is not a JSON-RPC message/);
    s.send({ id: 3, method: 'ping' });
    expect((await s.answer(3)).result).toEqual({ echoed: 'ping' });
  });

  it('a stream that never ends holds up nothing; at the end of stdin its request is answered after the wait, and the session ended', async () => {
    const gw = await fakeGateway((req, res, m) => {
      if (m?.method !== 'tools/call') return false;
      sse(res);
      res.write(': keepalive\n\n'); // and never anything else
      return true;
    });
    const s = shim(gw.dir, { drainMs: 300 });
    await s.handshake();
    s.send({ id: 1, method: 'tools/call', params: { name: 'forever', arguments: {} } });
    s.send({ id: 2, method: 'ping' });
    expect((await s.answer(2)).result).toEqual({ echoed: 'ping' });
    s.stdin.end();
    await s.done;
    expect((await s.answer(1)).error?.message).toMatch(/did not answer within 0s of the end of the client's input/);
    expect(gw.seen.filter((x) => x.method === 'DELETE')).toHaveLength(1);
  });

  it('a cancelled request whose stream ends without an answer is owed nothing: no error is made up for it', async () => {
    let hold: ServerResponse | undefined;
    const gw = await fakeGateway((req, res, m) => {
      if (m?.method === 'tools/call') {
        sse(res);
        hold = res;
        return true;
      }
      if (m?.method === 'notifications/cancelled') hold?.end(); // as the gateway abandons a cancelled call
      return false;
    });
    const s = shim(gw.dir, { drainMs: 20_000 });
    await s.handshake();
    s.send({ id: 1, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    await waitFor(() => hold !== undefined, 5_000, 'the call reached the gateway');
    s.send({ method: 'notifications/cancelled', params: { requestId: 1, reason: 'no longer needed' } });
    s.stdin.end();
    const ended = Date.now();
    await s.done;
    expect(s.answers().filter((a) => a.id === 1)).toEqual([]);
    expect(Date.now() - ended).toBeLessThan(5_000); // nothing is waited for: no answer is owed
  });

  it('the gateway forgets the session mid-way: the next request goes through once, on a session initialized as the client did', async () => {
    let forgotten = false;
    const gw = await fakeGateway((req, res, m) => {
      if (forgotten && req.headers['mcp-session-id'] === 's1') {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        return true;
      }
      if (req.method === 'GET' && req.headers['mcp-session-id'] === 's1') {
        sse(res);
        res.write(event({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' }));
        setTimeout(() => {
          forgotten = true;
          res.end(); // the stream drops; the shim opens it again and finds the session gone
        }, 100);
        return true;
      }
      return m?.method === 'never';
    });
    const s = shim(gw.dir);
    await s.handshake();
    await waitFor(() => s.out().includes('list_changed'), 5_000, 'the standalone stream');
    await waitFor(() => forgotten, 5_000, 'the session forgotten');
    s.send({ id: 1, method: 'tools/call', params: { name: 'once', arguments: {} } });
    expect((await s.answer(1)).result).toEqual({ echoed: 'tools/call' });
    const inits = gw.posts('initialize');
    expect(inits).toHaveLength(2);
    expect(JSON.parse(inits[1]?.body ?? '{}')).toMatchObject({ params: { clientInfo: { name: 'hostile-test', version: '3.1.4' } } });
    expect(gw.posts('tools/call').filter((p) => p.session === 's2')).toHaveLength(1);
    expect(gw.posts('tools/call').map((p) => p.version)).toEqual(['2025-11-25', '2025-11-25']); // the 404 and the one that ran
    expect(s.err.join('\n')).toContain('reconnected to the gateway');
  });

  it('the connection breaks in the middle of an SSE answer: the call is answered "whether it ran is unknown" and not sent again', async () => {
    const gw = await fakeGateway((req, res, m) => {
      if (m?.method !== 'tools/call') return false;
      sse(res);
      res.write(event({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 't', progress: 1 } }));
      setTimeout(() => res.socket?.destroy(), 50);
      return true;
    });
    const s = shim(gw.dir);
    await s.handshake();
    s.send({ id: 1, method: 'tools/call', params: { name: 'transfer', arguments: {}, _meta: { progressToken: 't' } } });
    expect((await s.answer(1)).error?.message).toMatch(/whether it ran is unknown/);
    expect(s.out()).toContain('notifications/progress');
    expect(gw.posts('tools/call')).toHaveLength(1);
  });

  it('gateway.json names a gateway that is gone: the shim waits for it, then fails closed with a JSON-RPC error', async () => {
    const gw = await fakeGateway();
    await gw.stop();
    const s = shim(gw.dir, { waitMs: 600 });
    const started = Date.now();
    s.send({ id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const a = await s.answer(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(500);
    expect(a.error).toMatchObject({ code: -32014, message: expect.stringContaining('no Gatehouse gateway is running') as unknown });
    expect(s.err[0]).toContain('waiting up to');
  });

  it('a client line over the bound is dropped as it arrives, its request answered, and the next one works', async () => {
    const gw = await fakeGateway();
    const s = shim(gw.dir, { maxMessageSize: 64 * 1024 });
    await s.handshake();
    s.stdin.write(`{"jsonrpc":"2.0","id":"w","method":"tools/call","params":{"name":"write_file","arguments":{"content":"`);
    for (let i = 0; i < 64; i++) s.stdin.write('y'.repeat(16 * 1024));
    s.stdin.write('"}}}\n');
    expect((await s.answer('w')).error?.message).toMatch(/^Gatehouse: a message of \d+ bytes from the client, over the shim's limit of 65536 bytes, was dropped/);
    s.send({ id: 2, method: 'ping' });
    expect((await s.answer(2)).result).toEqual({ echoed: 'ping' });
    expect(gw.posts('tools/call')).toHaveLength(0);
  });

  it('stdin closes with calls in flight: each is answered before the session ends', async () => {
    const gw = await fakeGateway((req, res, m) => {
      if (m?.method !== 'tools/call') return false;
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { late: m.id } })), 300);
      return true;
    });
    const s = shim(gw.dir);
    await s.handshake();
    for (const id of [1, 2, 3]) s.send({ id, method: 'tools/call', params: { name: 'slow', arguments: {} } });
    s.stdin.end();
    await s.done;
    expect(s.answers().filter((a) => a.id !== 0).map((a) => a.result)).toEqual([{ late: 1 }, { late: 2 }, { late: 3 }]);
    expect(gw.seen.at(-1)?.method).toBe('DELETE');
  });
});

describe('gatehouse connect with a big line', () => {
  it('a 50 MB line from the client passes through the real shim and gateway to the server whole', async () => {
    const home = tempHome();
    cleanups.push(() => home.remove());
    const spyLog = join(home.dir, 'spy.log');
    writeFileSync(join(home.dir, 'gatehouse.yaml'), stringify({ servers: { spy: { command: process.execPath, args: [join(import.meta.dirname, '../fixtures/spy-server.mjs')], env: { SPY_LOG: spyLog } } }, gateway: { port: 0, maxBodySize: '64MiB' } }));
    const serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
    cleanups.push(async () => {
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
    });
    const child = spawn(process.execPath, [BIN, 'connect', 'spy'], { env: { ...process.env, GATEHOUSE_HOME: home.dir } });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const content = `${'z'.repeat(50 * 1000 * 1000)}-the-end`;
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'big', version: '1' } } })}\n`);
    child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
    child.stdin.end(`${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'write_file', arguments: { content } } })}\n`);
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    const answers = out.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result?: unknown });
    expect(answers.find((a) => a.id === 1)?.result).toEqual({ content: [{ type: 'text', text: 'ran write_file' }] });
    expect(readFileSync(spyLog, 'utf8')).toContain(`"content":"${content}"`);
  }, 120_000);
});
