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
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, describe, expect, it } from 'vitest';
import { startHarness, waitFor, type Harness } from '../helpers/gateway-harness.js';

const SPY = join(import.meta.dirname, '../fixtures/spy-server.mjs');
const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
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
