/**
 * Server processes are a bounded resource. Attacks (or just real clients: Claude Code's and Gemini CLI's
 * `mcp list`, mcp-remote — none sends DELETE):
 *   - hundreds of sessions opened and abandoned: the live server processes must stay at or under
 *     gateway.maxLiveServers, the least recently used put to sleep first;
 *   - a later call on a session whose server sleeps: it must be answered correctly, by a server that was given
 *     the client's own initialize (not a blank one), and the session's records must say what happened;
 *   - a session whose client is quiet but still waits on something (a call in flight) must not be put to sleep
 *     under it, and a server marked `sleep: false` (state a replay cannot restore) is never put to sleep.
 * What is counted is what runs: server processes found in /proc by a marker in their command line, and what
 * reached the servers from the spy's own log.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/gateway-harness.js';

const SPY = join(import.meta.dirname, '../fixtures/spy-server.mjs');
const harnesses: Harness[] = [];
/** Every server marker used here: once the gateways are stopped, no process of theirs may be left running. */
const markers: string[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
  // A session closed while its server was still being put to sleep (one that ignores SIGTERM) left that server running.
  for (const m of markers) expect(processes(m), `a server of ${m} outlived its gateway`).toBe(0);
});

/** Server processes running now whose command line holds `marker`. */
function processes(marker: string): number {
  let n = 0;
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) n++;
    } catch {
      // gone meanwhile
    }
  }
  return n;
}

const records = (home: string): { session?: string; event?: string; detail?: Record<string, unknown> }[] =>
  readdirSync(join(home, 'audit'))
    .filter((f) => f.endsWith('.jsonl'))
    .flatMap((f) => readFileSync(join(home, 'audit', f), 'utf8').trim().split('\n'))
    .map((l) => JSON.parse(l) as { session?: string; event?: string; detail?: Record<string, unknown> });

describe('sleeping sessions', () => {
  it('200 sessions that never DELETE keep at most maxLiveServers processes; a sleeping one answers, woken with its own handshake', async () => {
    const marker = `spy-${randomUUID()}`;
    markers.push(marker);
    const spyLog = join(tmpdir(), `gatehouse-${marker}.log`);
    const harness = await startHarness({ gateway: { port: 0, maxLiveServers: 10, sleepAfter: '10m' }, servers: { spy: { command: process.execPath, args: [SPY, marker], env: { SPY_LOG: spyLog } } } });
    harnesses.push(harness);
    try {
      const clients: Client[] = [];
      let most = 0;
      for (let i = 0; i < 200; i++) {
        clients.push(await harness.connect('spy', new Client({ name: `client-${i}`, version: `${i}.0.0` })));
        if (i % 10 === 9) most = Math.max(most, processes(marker));
      }
      expect(most).toBeLessThanOrEqual(10);
      expect(processes(marker)).toBeLessThanOrEqual(10);
      // What the API, the status line and the index say of them.
      const live = await harness.gatehouse.api.liveSessions();
      expect(live.filter((l) => l.asleep).length).toBeGreaterThanOrEqual(190);
      expect((await harness.gatehouse.api.status()).sleepingSessions).toBe(live.filter((l) => l.asleep).length);

      // The first client's server has long been put to sleep; its call wakes it.
      const first = clients[0] as Client;
      expect((await first.callTool({ name: 'write_file', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran write_file' }]);
      expect(processes(marker)).toBeLessThanOrEqual(10);
      // The woken server was initialized as the client did, with the client's name and version.
      const inits = readFileSync(spyLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { method?: string; id?: unknown; params?: { clientInfo?: { name: string; version: string } } }).filter((m) => m.method === 'initialize' && m.params?.clientInfo?.name === 'client-0');
      expect(inits).toHaveLength(2);
      expect(inits[1]?.params?.clientInfo).toEqual({ name: 'client-0', version: '0.0.0' });
      expect(String(inits[1]?.id)).toMatch(/^gatehouse-wake-/);

      await waitFor(() => records(harness.home).some((r) => r.event === 'upstream-wake'), 5_000, 'the wake is recorded');
      const sessionOfFirst = records(harness.home).find((r) => r.event === 'upstream-wake')?.session;
      const itsEvents = records(harness.home).filter((r) => r.session === sessionOfFirst).map((r) => r.event).filter(Boolean);
      expect(itsEvents).toEqual(expect.arrayContaining(['session-start', 'upstream-start', 'upstream-sleep', 'upstream-wake']));
      expect(records(harness.home).find((r) => r.event === 'upstream-wake')?.detail).toMatchObject({ replayed: ['initialize', 'notifications/initialized'], client: { name: 'client-0', version: '0.0.0' } });
      await waitFor(async () => (await harness.gatehouse.api.sessions({ limit: 500 })).sessions.filter((x) => x.asleep).length >= 180, 5_000, 'the index knows which sleep');
      expect((await harness.gatehouse.api.sessions({ limit: 500 })).sessions.find((x) => x.id === sessionOfFirst)?.asleep).toBe(false);
    } finally {
      await harness.stop();
      harnesses.splice(harnesses.indexOf(harness), 1);
      rmSync(spyLog, { force: true });
    }
  }, 120_000);

  it('a quiet session sleeps after gateway.sleepAfter, but not with a call in flight, and never with `sleep: false`', async () => {
    const marker = `spy-${randomUUID()}`;
    markers.push(marker);
    const harness = await startHarness({
      gateway: { port: 0, sleepAfter: '500ms' },
      servers: { spy: { command: process.execPath, args: [SPY, marker, 'sleeps'] }, stateful: { command: process.execPath, args: [SPY, marker, 'stateful'], sleep: false } },
    });
    harnesses.push(harness);
    // A client that goes away without DELETE: its stream closes, its session stays.
    const quiet = await harness.connect('spy');
    const busy = await harness.connect('spy');
    const stateful = await harness.connect('stateful');
    const abandoned = await harness.connect('spy');
    await abandoned.close();
    const hanging = busy.callTool({ name: 'hang', arguments: {} }, undefined, { timeout: 60_000 }).catch(() => undefined);
    await waitFor(() => processes(`${marker}\u0000sleeps`) === 2, 10_000, 'the abandoned session sleeps');
    await new Promise((r) => setTimeout(r, 1_500));
    // Still running: the busy one's (a call in flight) and the quiet one's (its client keeps its stream open).
    expect(processes(`${marker}\u0000sleeps`)).toBe(2);
    expect(processes(`${marker}\u0000stateful`)).toBe(1);
    expect((await quiet.callTool({ name: 'run_command', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran run_command' }]);
    expect((await stateful.callTool({ name: 'run_command', arguments: {} })).content).toEqual([{ type: 'text', text: 'ran run_command' }]);
    void hanging;
  }, 60_000);
});

describe('sleep and wake under races (the attacker round on sleeping sessions)', () => {
  const setup = async (gateway: Record<string, unknown>) => {
    const marker = `spy-${randomUUID()}`;
    markers.push(marker);
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-sleep-'));
    const flags = { slowInit: join(dir, 'slow-init'), exitOnStart: join(dir, 'exit-on-start'), stubborn: join(dir, 'stubborn'), log: join(dir, 'spy.log') };
    const harness = await startHarness({
      gateway: { port: 0, sleepAfter: '300ms', ...gateway },
      servers: { spy: { command: process.execPath, args: [SPY, marker], env: { SPY_LOG: flags.log, SPY_SLOW_INIT: flags.slowInit, SPY_EXIT_ON_START: flags.exitOnStart, SPY_STUBBORN: flags.stubborn } } },
    });
    harnesses.push(harness);
    const mcp = raw(harness);
    return { marker, flags, harness, mcp, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
  };
  /** A client that goes away without DELETE: raw HTTP, no stream left open. */
  const raw = (harness: Harness) => {
    const post = async (body: unknown, session?: string) => {
      const res = await fetch(harness.endpoint('spy'), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${harness.gatehouse.token}`, ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}) }, body: JSON.stringify(body) });
      return { status: res.status, session: res.headers.get('mcp-session-id') ?? session, text: await res.text() };
    };
    const open = async () => {
      const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { roots: {} }, clientInfo: { name: 'raw', version: '1' } } });
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, init.session as string);
      return init.session as string;
    };
    return { post, open };
  };
  const asleep = async (harness: Harness, session: string) => waitFor(async () => (await harness.gatehouse.api.liveSessions()).find((l) => l.id === session)?.asleep === true, 10_000, 'the session sleeps');

  it('DELETE while the server is being woken: the woken process is stopped with the session, and the call never reaches it', async () => {
    const t = await setup({});
    const session = await t.mcp.open();
    await asleep(t.harness, session);
    writeFileSync(t.flags.slowInit, '');
    const call = t.mcp.post({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'write_file', arguments: {} } }, session);
    await new Promise((r) => setTimeout(r, 400));
    await fetch(t.harness.endpoint('spy'), { method: 'DELETE', headers: { authorization: `Bearer ${t.harness.gatehouse.token}`, 'mcp-session-id': session } });
    expect((await call).text).toMatch(/"id":5,"error"/);
    await new Promise((r) => setTimeout(r, 2_500));
    expect(processes(t.marker)).toBe(0);
    expect(readFileSync(t.flags.log, 'utf8')).not.toContain('"id":5');
    t.cleanup();
  });

  it('a cancellation sent while the server is being woken follows the call it cancels', async () => {
    const t = await setup({});
    const session = await t.mcp.open();
    await asleep(t.harness, session);
    writeFileSync(t.flags.slowInit, '');
    const call = t.mcp.post({ jsonrpc: '2.0', id: 77, method: 'tools/call', params: { name: 'hang', arguments: {} } }, session);
    await new Promise((r) => setTimeout(r, 200));
    await t.mcp.post({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 77, reason: 'changed my mind' } }, session);
    await waitFor(() => readFileSync(t.flags.log, 'utf8').includes('notifications/cancelled'), 10_000, 'the cancellation reaches the server');
    const reached = readFileSync(t.flags.log, 'utf8');
    expect(reached.indexOf('"id":77')).toBeLessThan(reached.indexOf('notifications/cancelled'));
    void call;
    t.cleanup();
  });

  it('a server that exits as it is woken: the call is answered at once with why (its stderr), as not run', async () => {
    const t = await setup({});
    const session = await t.mcp.open();
    await asleep(t.harness, session);
    writeFileSync(t.flags.exitOnStart, '');
    const started = Date.now();
    const answer = await t.mcp.post({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'write_file', arguments: {} } }, session);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(answer.text).toContain('lock held by another process');
    expect(answer.text).toContain('"outcome":"not-run"');
    t.cleanup();
  });

  it('no room to wake (every other server busy): the call is refused, the session sleeps on and works later', async () => {
    const t = await setup({ maxLiveServers: 2 });
    const sleeper = await t.mcp.open();
    await asleep(t.harness, sleeper);
    const busy = [await t.mcp.open(), await t.mcp.open()];
    const hanging = busy.map((s, i) => t.mcp.post({ jsonrpc: '2.0', id: 100 + i, method: 'tools/call', params: { name: 'hang', arguments: {} } }, s));
    await waitFor(() => readFileSync(t.flags.log, 'utf8').split('"name":"hang"').length - 1 === 2, 10_000, 'both busy');
    const refused = await t.mcp.post({ jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'write_file', arguments: {} } }, sleeper);
    expect(refused.text).toContain('gateway.maxLiveServers');
    expect(processes(t.marker)).toBe(2);
    // The session is still there; once a busy one is done, its call works.
    await fetch(t.harness.endpoint('spy'), { method: 'DELETE', headers: { authorization: `Bearer ${t.harness.gatehouse.token}`, 'mcp-session-id': busy[0] as string } });
    await Promise.all(hanging.slice(0, 1));
    const later = await t.mcp.post({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'write_file', arguments: {} } }, sleeper);
    expect(later.text).toContain('ran write_file');
    t.cleanup();
  });

  it('servers slow to stop still count until they are gone: never more processes than maxLiveServers', async () => {
    const t = await setup({ maxLiveServers: 2 });
    writeFileSync(t.flags.stubborn, '');
    await t.mcp.open();
    await t.mcp.open();
    let most = 0;
    const sampler = setInterval(() => (most = Math.max(most, processes(t.marker))), 50);
    // Both fall asleep (each takes ~4 s to stop: it ignores the end of its input and SIGTERM); two more open meanwhile.
    await new Promise((r) => setTimeout(r, 600));
    await Promise.all([t.mcp.open(), t.mcp.open()]);
    clearInterval(sampler);
    expect(most).toBeLessThanOrEqual(2);
    t.cleanup();
  }, 30_000);

  it("a request of the server's, waiting for the client's answer, keeps the server awake, and the answer reaches it", async () => {
    const t = await setup({});
    const session = await t.mcp.open();
    const asked = await t.mcp.post({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'ask_roots', arguments: {} } }, session);
    expect(asked.text).toContain('roots/list');
    await new Promise((r) => setTimeout(r, 1_200)); // four times gateway.sleepAfter
    expect((await t.harness.gatehouse.api.liveSessions()).find((l) => l.id === session)?.asleep).toBe(false);
    await t.mcp.post({ jsonrpc: '2.0', id: 'roots-1', result: { roots: [] } }, session);
    await waitFor(() => readFileSync(t.flags.log, 'utf8').includes('"id":"roots-1"'), 5_000, 'the answer reaches the server');
    t.cleanup();
  });
});
