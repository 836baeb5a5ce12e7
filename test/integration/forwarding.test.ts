/*
 * Forwarding the audit trail to the organisation's collector (OTLP/HTTP logs), at least once. The attacks on
 * that promise, each a test below:
 *   - the collector is down while records are written, and the gateway is SIGKILLed before it comes back (a
 *     crash at the worst moment): after the restart every record arrives, in order, nothing lost; a record sent
 *     twice comes with the same log.record.uid (its hash), so the collector drops the duplicate;
 *   - a hostile or overloaded collector answers 500, then 429 with Retry-After, then slowly: the forwarder
 *     backs off (observed at the receiver), honours Retry-After, and loses nothing;
 *   - a secret sent by a client: only masked data leaves the machine (the raw bytes the receiver got are
 *     searched);
 *   - a record that was never recorded is never sent: every record received is, byte for byte by its hash, a
 *     record of the log on disk;
 *   - the README's check of a collector's file (jq and awk over OTLP/JSON) finds a whole log whole, and names
 *     the seq where a record is missing;
 *   - the same OS user edits the forwarding cursor so that it no longer names a record of the log: forwarding
 *     stops and says so (a warning, exit 1 from `gatehouse forwarding`), rather than start over or skip.
 * What arrived is decoded by a real receiver with the official opentelemetry-proto definitions (protobuf) and
 * as OTLP JSON; what was recorded is read from the segment files.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { waitFor } from '../helpers/gateway-harness.js';
import { startReceiver, type ReceivedLog } from '../helpers/otlp-receiver.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Every record of the log on disk, in order: seq → hash. */
function recorded(dir: string): Map<number, string> {
  const audit = join(dir, 'audit');
  const out = new Map<number, string>();
  for (const name of readdirSync(audit).filter((n) => /^\d{12}\.jsonl$/.test(n)).sort()) {
    for (const line of readFileSync(join(audit, name), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line) as { seq: number; hash: string };
      out.set(r.seq, r.hash);
    }
  }
  return out;
}

async function gateway(dir: string) {
  const s = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
  let exited = false;
  s.child.once('exit', () => (exited = true));
  const stop = async (signal: NodeJS.Signals = 'SIGTERM') => {
    if (exited) return;
    const done = new Promise((r) => s.child.once('exit', r));
    s.child.kill(signal);
    await done;
  };
  cleanups.push(() => stop());
  const token = readFileSync(join(dir, 'token'), 'utf8').trim();
  const calls = async (n: number, text = 'hello') => {
    const client = new Client({ name: 'forwarding-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${s.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    for (let i = 0; i < n; i++) await client.callTool({ name: 'echo', arguments: { message: `${text} ${i}` } });
    await client.close();
  };
  return { ...s, stop, calls };
}

/** The README's shell check of a collector's file (jq, sort, awk), run as written there on `file`. */
function readmeCheck(file: string): string {
  const readme = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');
  const script = /```sh\n(jq -r '\.resourceLogs[\s\S]*?)```/.exec(readme)?.[1];
  if (!script) throw new Error('the README has no collector check');
  return execFileSync('bash', ['-o', 'pipefail', '-c', script.replaceAll('/var/lib/otel/gatehouse-audit.jsonl', JSON.stringify(file))], { encoding: 'utf8' });
}

function setup(forwarding: Record<string, unknown>) {
  const home = tempHome({ servers: { everything: everythingStdio() }, gateway: { port: 0 }, masking: { detectors: ['secrets'] }, forwarding: { interval: '100ms', batchSize: 20, ...forwarding } });
  cleanups.push(() => home.remove());
  return home;
}

/** Whatever arrived: every seq of the log exactly once (after dropping same-uid duplicates), each with the log's hash, in order. */
function expectWholeLog(received: ReceivedLog[], log: Map<number, string>) {
  const seqs = received.map((l) => l.attributes['gatehouse.seq'] as number);
  const bySeq = new Map<number, string>();
  for (const l of received) {
    const seq = l.attributes['gatehouse.seq'] as number;
    const uid = l.attributes['log.record.uid'] as string;
    // A duplicate is the same record again: the same uid for the same seq, never another record under it.
    if (bySeq.has(seq)) expect(bySeq.get(seq), `seq ${seq} sent twice with different uids`).toBe(uid);
    bySeq.set(seq, uid);
    expect(l.eventName).toBe('gatehouse.audit');
  }
  expect([...bySeq.keys()].sort((a, b) => a - b)).toEqual([...log.keys()]);
  for (const [seq, hash] of log) expect(bySeq.get(seq), `seq ${seq}`).toBe(hash);
  // In order: each record comes after the one before it, except where a batch was sent again from the cursor.
  for (let i = 1; i < seqs.length; i++) if ((seqs[i] as number) <= (seqs[i - 1] as number)) expect(bySeq.get(seqs[i] as number)).toBeDefined();
  const firstSeen = [...new Set(seqs)];
  expect(firstSeen).toEqual([...firstSeen].sort((a, b) => a - b));
}

describe('forwarding to an OTLP/HTTP collector', () => {
  it('protobuf: a collector down, the gateway SIGKILLed and restarted in between: every record arrives, in order, with its hash', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const home = setup({ endpoint: receiver.endpoint, encoding: 'protobuf' });
    let g = await gateway(home.dir);
    await g.calls(3);
    await waitFor(() => receiver.accepted().length > 0 && receiver.accepted().length >= recorded(home.dir).size, 15_000, 'the first records at the collector');
    const first = receiver.accepted()[0] as ReceivedLog;
    expect(first.resource).toMatchObject({ 'service.name': 'gatehouse', 'host.name': expect.any(String), 'process.owner': expect.any(String) });
    const call = receiver.accepted().find((l) => l.attributes['mcp.method.name'] === 'tools/call' && l.attributes['gatehouse.kind'] === 'request');
    expect(call?.attributes).toMatchObject({ 'gen_ai.tool.name': 'echo', 'gen_ai.operation.name': 'execute_tool', 'gatehouse.server': 'everything', 'jsonrpc.request.id': expect.any(String), 'mcp.session.id': expect.any(String), 'user.id': expect.stringMatching(/^local:/) });
    expect((call?.body as { params?: { arguments?: unknown } }).params?.arguments).toEqual({ message: 'hello 0' });

    // The collector goes away; records keep being written; the gateway dies without a word.
    await receiver.close();
    await g.calls(4, 'while down');
    const status = await runGatehouse(['forwarding', '--json'], { GATEHOUSE_HOME: home.dir });
    expect(JSON.parse(status.stdout)).toMatchObject({ running: true, enabled: true, lagRecords: expect.any(Number) });
    expect((JSON.parse(status.stdout) as { lagRecords: number }).lagRecords).toBeGreaterThan(0);
    await g.stop('SIGKILL');
    await receiver.reopen();
    g = await gateway(home.dir);
    await g.calls(1, 'after the restart');
    await g.stop();
    g = await gateway(home.dir); // the records of the clean stop, too
    await waitFor(() => {
      const want = recorded(home.dir);
      const got = new Set(receiver.accepted().map((l) => l.attributes['gatehouse.seq']));
      return [...want.keys()].every((s) => got.has(s));
    }, 20_000, 'every record at the collector');
    await g.stop();
    expectWholeLog(receiver.accepted(), recorded(home.dir));
    expect(receiver.attempts.every((a) => a.encoding === 'protobuf')).toBe(true);
  }, 90_000);

  it('JSON: 500, then 429 with Retry-After, then a slow answer: backed off, Retry-After honoured, nothing lost, nothing unmasked', async () => {
    const answers = [{ status: 500 }, { status: 429, headers: { 'retry-after': '2' } }, { status: 200, delayMs: 1500 }];
    const receiver = await startReceiver({ answer: (n) => answers[n] ?? { status: 200 } });
    cleanups.push(() => receiver.close());
    const home = setup({ endpoint: receiver.endpoint, encoding: 'json' });
    const g = await gateway(home.dir);
    const secret = 'ghp_' + 'Q'.repeat(36);
    await g.calls(2, `token ${secret}`);
    await waitFor(() => {
      const got = new Set(receiver.accepted().map((l) => l.attributes['gatehouse.seq']));
      return got.size > 0 && [...recorded(home.dir).keys()].every((s) => got.has(s));
    }, 30_000, 'every record at the collector');
    const [a, b, c] = receiver.attempts;
    expect([a?.status, b?.status, c?.status]).toEqual([500, 429, 200]);
    expect((b?.at ?? 0) - (a?.at ?? 0)).toBeGreaterThanOrEqual(450); // back-off after the first failure: 0.5–1 s
    expect((c?.at ?? 0) - (b?.at ?? 0)).toBeGreaterThanOrEqual(1900); // Retry-After: 2
    await g.stop();
    expectWholeLog(receiver.accepted(), recorded(home.dir));
    for (const attempt of receiver.attempts) {
      expect(attempt.encoding).toBe('json');
      expect(attempt.raw.toString('utf8')).not.toContain(secret);
    }
    expect(JSON.stringify(receiver.accepted())).toMatch(/\[MASKED:[a-z-]+:[0-9a-f]{8}\]/);

    // The README's check of what a collector received, run on what this one received (one OTLP/JSON request per
    // line, as the collector's file exporter writes): nothing to say about a whole log; a record taken out is named.
    const bodies = receiver.attempts.filter((a) => a.status === 200).map((a) => JSON.parse(a.raw.toString('utf8')) as { resourceLogs: { scopeLogs: { logRecords: unknown[] }[] }[] });
    const exported = join(home.dir, 'collector-file.jsonl');
    writeFileSync(exported, bodies.map((b) => JSON.stringify(b) + '\n').join(''));
    expect(readmeCheck(exported)).toBe('');
    const first = bodies[0]?.resourceLogs[0]?.scopeLogs[0]?.logRecords as unknown[];
    expect(first.length).toBeGreaterThan(3);
    first.splice(2, 1);
    writeFileSync(exported, bodies.map((b) => JSON.stringify(b) + '\n').join(''));
    expect(readmeCheck(exported)).toBe(`gap or break before seq ${[...recorded(home.dir).keys()][3]}\n`);
  }, 60_000);

  it('a cursor edited so that it names no record of the log: forwarding stops and says so, it neither starts over nor skips', async () => {
    const receiver = await startReceiver();
    cleanups.push(() => receiver.close());
    const home = setup({ endpoint: receiver.endpoint });
    let g = await gateway(home.dir);
    await g.calls(1);
    await waitFor(() => receiver.accepted().length >= recorded(home.dir).size, 15_000, 'records at the collector');
    await g.stop();
    const cursorFile = join(home.dir, 'forwarding-cursor.json');
    const cursor = JSON.parse(readFileSync(cursorFile, 'utf8')) as { seq: number; hash: string };
    writeFileSync(cursorFile, JSON.stringify({ ...cursor, seq: cursor.seq - 2 }));
    const before = receiver.attempts.length;
    g = await gateway(home.dir);
    await g.calls(1);
    const status = await runGatehouse(['forwarding', '--json'], { GATEHOUSE_HOME: home.dir });
    expect(status.code).toBe(1);
    expect(JSON.parse(status.stdout)).toMatchObject({ warning: expect.stringMatching(/forwarding stopped: .*cursor/) });
    expect(receiver.attempts.length).toBe(before);
  }, 60_000);
});
