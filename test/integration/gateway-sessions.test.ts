import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/gateway-harness.js';
import { isAlive } from '../helpers/processes.js';
import { everythingStdio } from '../helpers/servers.js';
import { startSpy } from '../helpers/spy.js';

describe('client sessions and their upstream processes', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  function trackPids(h: Harness): Map<string, number> {
    const pids = new Map<string, number>();
    h.gatehouse.gateway.events.on('upstream-start', (e) => e.pid && pids.set(e.sessionId, e.pid));
    return pids;
  }

  it('20 concurrent sessions on one server each get their own upstream and their own answers', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const h = harness;
    const pids = trackPids(h);
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => h.connect('everything', new Client({ name: `client-${i}`, version: '1' }))));
    const answers = await Promise.all(
      clients.map(async (client, i) => {
        const replies: string[] = [];
        for (let round = 0; round < 5; round++) {
          const r = await client.callTool({ name: 'get-sum', arguments: { a: i, b: round * 100 } });
          replies.push(JSON.stringify(r));
        }
        return replies;
      }),
    );
    answers.forEach((replies, i) => replies.forEach((reply, round) => expect(reply).toContain(String(i + round * 100))));
    expect(new Set(pids.values()).size).toBe(20);
    expect(new Set((await h.gatehouse.api.liveSessions()).map((s) => s.client.name)).size).toBe(20);
  });

  it('DELETE ends the session and stops its stdio server', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const pids = trackPids(harness);
    const client = await harness.connect('everything');
    const pid = [...pids.values()][0] as number;
    expect(isAlive(pid)).toBe(true);
    await client.close(); // the SDK client sends no DELETE on close; terminateSession does
    const transport = new (await import('@modelcontextprotocol/sdk/client/streamableHttp.js')).StreamableHTTPClientTransport(harness.endpoint('everything'), {
      requestInit: { headers: { authorization: `Bearer ${harness.gatehouse.token}` } },
    });
    const second = new Client({ name: 'deleter', version: '1' });
    await second.connect(transport);
    const secondPid = [...pids.values()][1] as number;
    await transport.terminateSession();
    await waitFor(() => !isAlive(secondPid), 10_000, 'the stdio server to stop after DELETE');
    expect(harness.gatehouse.gateway.session(transport.sessionId ?? '')).toBeUndefined();
  });

  it('DELETE is answered once the session is over for the client, not when its server has finished exiting', async () => {
    // A server that takes its time to stop (it ignores the end of its input and SIGTERM: it has to be killed,
    // which the SDK does after 2 s and 2 s more): the client's DELETE must not wait for that.
    const spy = startSpy();
    const flag = join(tmpdir(), `gatehouse-stubborn-${process.pid}-${Date.now()}`);
    const signals = `${flag}.signals`;
    writeFileSync(flag, '');
    try {
      harness = await startHarness({ servers: { spy: { ...spy.config, env: { ...spy.config.env, SPY_STUBBORN: flag, SPY_SIGNALS: signals } } } });
      const pids = trackPids(harness);
      const transport = new StreamableHTTPClientTransport(harness.endpoint('spy'), { requestInit: { headers: { authorization: `Bearer ${harness.gatehouse.token}` } } });
      const client = new Client({ name: 'deleter', version: '1' });
      await client.connect(transport);
      await client.callTool({ name: 'write_file', arguments: {} });
      const pid = [...pids.values()][0] as number;
      const sessionId = transport.sessionId as string;
      await transport.terminateSession();
      // Answered before the gateway even got to signalling the server (2 s after closing its input); the session
      // is gone for the client at once…
      expect(existsSync(signals)).toBe(false);
      const again = await fetch(harness.endpoint('spy'), { method: 'POST', headers: { authorization: `Bearer ${harness.gatehouse.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }) });
      expect(again.status).toBe(404);
      // …and the server is still stopped, in the background.
      await waitFor(() => !isAlive(pid), 15_000, 'the stubborn server to be killed');
      expect(readFileSync(signals, 'utf8')).toBe('SIGTERM\n');
    } finally {
      rmSync(flag, { force: true });
      rmSync(signals, { force: true });
      spy.remove();
    }
  }, 30_000);

  it('a deleted session whose server is still exiting counts under gateway.maxLiveServers until it is gone', async () => {
    // An attacker's find: initialize and DELETE in a loop, each server slow to exit, ran 10 processes under a cap of 2.
    const spy = startSpy();
    const flag = join(tmpdir(), `gatehouse-stubborn-cap-${process.pid}-${Date.now()}`);
    writeFileSync(flag, '');
    try {
      harness = await startHarness({ gateway: { port: 0, maxLiveServers: 1 }, servers: { spy: { ...spy.config, env: { ...spy.config.env, SPY_STUBBORN: flag } } } });
      const started: number[] = [];
      let mostAlive = 0;
      harness.gatehouse.gateway.events.on('upstream-start', (e) => {
        if (e.pid) started.push(e.pid);
        mostAlive = Math.max(mostAlive, started.filter(isAlive).length);
      });
      for (let i = 0; i < 2; i++) {
        const transport = new StreamableHTTPClientTransport(harness.endpoint('spy'), { requestInit: { headers: { authorization: `Bearer ${harness.gatehouse.token}` } } });
        const client = new Client({ name: `loop-${i}`, version: '1' });
        await client.connect(transport);
        await transport.terminateSession();
      }
      expect(started).toHaveLength(2);
      expect(mostAlive).toBe(1);
    } finally {
      rmSync(flag, { force: true });
      spy.remove();
    }
  }, 30_000);

  it('idle sessions are reaped and their stdio servers stopped (clients that never send DELETE)', async () => {
    harness = await startHarness({ gateway: { port: 0, idleTimeout: '1s' }, servers: { everything: everythingStdio() } });
    const pids = trackPids(harness);
    const client = await harness.connect('everything');
    await client.callTool({ name: 'echo', arguments: { message: 'one call, then silence' } });
    const pid = [...pids.values()][0] as number;
    // Close the client's streams without DELETE, as many clients do when they go away.
    await (client.transport as { close(): Promise<void> }).close();
    await waitFor(() => !isAlive(pid), 15_000, 'the idle session to be reaped');
    expect(harness.gatehouse.gateway.sessionCount).toBe(0);
  });

  it('stopping the gateway closes every session and reaps every child', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const pids = trackPids(harness);
    await Promise.all([harness.connect('everything'), harness.connect('everything'), harness.connect('everything')]);
    expect(pids.size).toBe(3);
    await harness.gatehouse.stop();
    await waitFor(() => [...pids.values()].every((pid) => !isAlive(pid)), 10_000, 'all children to exit');
  });
});
