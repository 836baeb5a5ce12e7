/**
 * `gatehouse connect`, the stdio shim, as real clients run it. Attacks on its promise (one session per client,
 * for as long as the client runs, whatever the gateway does):
 *   - the client stops the shim with a signal (Claude Code sends SIGINT, Gemini CLI SIGTERM), never closing
 *     stdin: the session must still end at the gateway, not linger with its server process;
 *   - the gateway restarts in the middle of a session: the next call must work (a new session, initialized
 *     with the client's own initialize), not fail for good with "Session not found";
 *   - the shim starts before the gateway (a client launched at login): it must wait and then work, not answer
 *     "no gateway running" forever;
 *   - no gateway comes within the wait: fail closed, with one readable stderr line (no JSON inside JSON);
 *   - stdin ends right after a request: the request is answered before the session ends;
 *   - a slow call must not hold up a ping or its own cancellation behind it;
 *   - the gateway dies with a call in flight: the call must not be sent again (a tool run twice), the client is
 *     told it may have run, and the next call works.
 * What reached the server is read from the spy server's own log, and what the gateway holds from its API.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { afterEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { BIN, runGatehouse, startServe } from '../helpers/cli.js';
import { waitFor } from '../helpers/gateway-harness.js';
import { rawRequest } from '../helpers/raw-http.js';
import { tempHome } from '../helpers/temp-home.js';

const SPY = join(import.meta.dirname, '../fixtures/spy-server.mjs');
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function setup() {
  const home = tempHome();
  const spyLog = join(home.dir, 'spy.log');
  writeFileSync(join(home.dir, 'gatehouse.yaml'), stringify({ servers: { spy: { command: process.execPath, args: [SPY], env: { SPY_LOG: spyLog } } }, gateway: { port: 0 } }));
  cleanups.push(() => home.remove());
  return { home, spyLog };
}

async function serve(dir: string) {
  const s = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
  const stop = async () => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return;
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await exited;
  };
  cleanups.push(stop);
  const apiToken = readFileSync(join(dir, 'api-token'), 'utf8').trim();
  const live = async (): Promise<number> => (JSON.parse((await rawRequest(`${s.url}/api/sessions/live`, { method: 'GET', headers: { authorization: `Bearer ${apiToken}` } })).body) as unknown[]).length;
  return { ...s, stop, live };
}

function shimClient(dir: string, extra: string[] = []) {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BIN, 'connect', 'spy', ...extra], env: { GATEHOUSE_HOME: dir }, stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const client = new Client({ name: 'shim-test-client', version: '7.7.7' });
  cleanups.push(() => client.close().catch(() => undefined));
  return { client, transport, stderr: () => stderr };
}

describe('gatehouse connect', () => {
  it('SIGTERM and SIGINT from the client end the session at the gateway', async () => {
    const { home } = setup();
    const gw = await serve(home.dir);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const { client, transport } = shimClient(home.dir);
      await client.connect(transport);
      expect((await client.callTool({ name: 'write_file', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
      await waitFor(async () => (await gw.live()) === 1, 5_000, 'one live session');
      process.kill(transport.pid as number, signal);
      await waitFor(async () => (await gw.live()) === 0, 5_000, `the session ended after ${signal}`);
    }
  });

  it('a gateway restart in the middle of a session: the next call works, on a session initialized as the client did', async () => {
    const { home, spyLog } = setup();
    let gw = await serve(home.dir);
    const { client, transport, stderr } = shimClient(home.dir);
    await client.connect(transport);
    expect((await client.callTool({ name: 'write_file', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
    await gw.stop();
    gw = await serve(home.dir);
    expect((await client.callTool({ name: 'run_command', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran run_command' }]);
    // The new server process was initialized with the client's own name and version, then told it is initialized.
    const reached = readFileSync(spyLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method?: string; params?: { clientInfo?: { name: string; version: string } } });
    const inits = reached.filter((m) => m.method === 'initialize');
    expect(inits).toHaveLength(2);
    expect(inits[1]?.params?.clientInfo).toEqual({ name: 'shim-test-client', version: '7.7.7' });
    expect(reached.filter((m) => m.method === 'notifications/initialized')).toHaveLength(2);
    expect(stderr()).toContain('reconnected to the gateway');
    expect(await gw.live()).toBe(1);
  });

  it("a message over the SDK's 10 MiB stdio default (up to gateway.maxBodySize) passes through the shim to the server", async () => {
    const { home, spyLog } = setup();
    await serve(home.dir);
    const { client, transport } = shimClient(home.dir);
    await client.connect(transport);
    const content = `${'x'.repeat(12 * 1024 * 1024)}-the-end`;
    expect((await client.callTool({ name: 'write_file', arguments: { content } }, undefined, { timeout: 60_000 })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
    expect(readFileSync(spyLog, 'utf8')).toContain(`"content":"${content}"`);
  }, 90_000);

  it('a shim started before its gateway waits for it, then works', async () => {
    const { home } = setup();
    const { client, transport, stderr } = shimClient(home.dir);
    const connected = client.connect(transport);
    await waitFor(() => stderr().includes('waiting up to 30s for the gateway'), 10_000, 'the shim says it waits');
    await serve(home.dir);
    await connected;
    expect((await client.callTool({ name: 'write_file', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
  });

  it('with no gateway within --wait: a JSON-RPC error and one readable stderr line', async () => {
    const { home } = setup();
    const init = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const started = Date.now();
    const result = await runGatehouse(['connect', 'spy', '--wait', '1s'], { GATEHOUSE_HOME: home.dir }, `${init}\n`);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32014, message: expect.stringContaining('no Gatehouse gateway is running') } });
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(2); // waiting…, then why it gave up
    expect(lines[1]).toContain('start the desktop app or `gatehouse serve`');
  });

  it('an unknown server: the gateway\'s refusal in one line, not JSON escaped inside JSON', async () => {
    const { home } = setup();
    await serve(home.dir);
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const result = await runGatehouse(['connect', 'nope'], { GATEHOUSE_HOME: home.dir }, `${init}\n`);
    const reply = JSON.parse(result.stdout.trim()) as { error: { message: string } };
    expect(reply.error.message).toMatch(/^Gatehouse: .*nope/);
    expect(reply.error.message).not.toContain('{');
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).not.toContain('\\"');
  });

  it('a call that never ends holds up nothing behind it: a ping is answered, and its cancellation reaches the server', async () => {
    const { home, spyLog } = setup();
    await serve(home.dir);
    const { client, transport } = shimClient(home.dir);
    await client.connect(transport);
    const controller = new AbortController();
    const hanging = client.callTool({ name: 'hang', arguments: {} }, undefined, { signal: controller.signal }).catch((err: unknown) => err);
    await waitFor(() => readFileSync(spyLog, 'utf8').includes('"name":"hang"'), 5_000, 'the call reached the server');
    await client.ping({ timeout: 5_000 });
    controller.abort('no longer needed');
    await hanging;
    await waitFor(() => readFileSync(spyLog, 'utf8').includes('notifications/cancelled'), 5_000, 'the cancellation reached the server');
  });

  it('the gateway dies with a call in flight: the call is not run twice, the client is told, the next call works', async () => {
    const { home, spyLog } = setup();
    const gw = await serve(home.dir);
    const { client, transport } = shimClient(home.dir);
    await client.connect(transport);
    const hanging = client.callTool({ name: 'hang_transfer', arguments: {} }).then(
      () => 'answered',
      (err: unknown) => (err as Error).message,
    );
    await waitFor(() => readFileSync(spyLog, 'utf8').includes('hang_transfer'), 5_000, 'the call reached the server');
    gw.child.kill('SIGKILL');
    expect(await hanging).toMatch(/whether it ran is unknown/);
    await serve(home.dir);
    expect((await client.callTool({ name: 'write_file', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
    const calls = readFileSync(spyLog, 'utf8').split('\n').filter((l) => l.includes('hang_transfer'));
    expect(calls).toHaveLength(1);
  });

  it('stdin that ends right after a request: the request is answered, then the session ends', async () => {
    const { home } = setup();
    const gw = await serve(home.dir);
    const lines = [
      { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } },
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'write_file', arguments: {} } },
    ];
    const child = spawn(process.execPath, [BIN, 'connect', 'spy'], { env: { ...process.env, GATEHOUSE_HOME: home.dir } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdin.end(lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(code).toBe(0);
    const answers = out.trim().split('\n').map((l) => JSON.parse(l) as { id: number; result?: { content?: unknown } });
    expect(answers.find((a) => a.id === 2)?.result?.content).toEqual([{ type: 'text', text: 'ran write_file' }]);
    expect(err).toBe('');
    await waitFor(async () => (await gw.live()) === 0, 5_000, 'the session ended');
  });
});
