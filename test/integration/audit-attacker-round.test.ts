/**
 * What an attacker broke in the signed log (issue 11's attacker round), each made a test. Attacks:
 *   B1  another local process squats the gateway's lock socket, so verify believes a gateway is writing and
 *       forgives a deleted head mark and records no commit mark vouches for;
 *   B2  head.json deleted and the tail cut while the real gateway runs (it went on writing a deleted file);
 *   B3  a forged gateway.json points the keyless CLI at a fake gateway that answers "intact";
 *   B4  the session index edited so that a session export skips the segments holding its worst records;
 *   B5  a filtered export leaves out the break record that keeps the log failing;
 *   B6  an unfiltered export edited by hand: records replaced by an omitted run, or its head cut off;
 *   B7  audit/signing-key.pem replaced, so that `gatehouse public-key` prints the forger's key;
 *   B8  the oldest segments deleted behind an unsigned anchor, checked with the public key alone;
 *   B9  a forged anchor.json at start, which made the gateway delete every segment it claimed to cover;
 *   B10 lines the two verifiers read differently (invalid UTF-8, a line that is not JSON, a string seq);
 *   B11 the same data directory reached by a second path (a bind mount, a hard link of the folder).
 * The second round, after those fixes:
 *   R1  retention turned on after a break: pruning the segment that held it would make verify green again;
 *   R2  a log forged without the key, with no signature at all, checked with the public key alone;
 *   R3  a client payload nested thousands of levels deep, which one verifier could not parse;
 *   R4  a byte-order mark before a record, which a decoder drops silently;
 *   R5  header shapes read differently (null for absent, another encoding, NaN, a lone surrogate);
 *   R6  a segment planted below the pruning anchor, which exports took in and signed.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatehouse } from '../../main/api/core.js';
import { listSegments } from '../../main/audit/segment-files.js';
import { lockAddress } from '../../main/config/instance-lock.js';
import { readAllRecords } from '../helpers/audit-log.js';
import { runGatehouse } from '../helpers/cli.js';
import { startSpy, type Spy } from '../helpers/spy.js';
import { tempHome } from '../helpers/temp-home.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

const exec = promisify(execFile);
/** The folder's identity (device and inode), which every path to it shares. */
const identityOf = (dir: string) => createHash('sha256').update(`${statSync(dir).dev}:${statSync(dir).ino}`).digest('hex').slice(0, 32);
const SCRIPT = join(import.meta.dirname, '../../tools/verify-export.py');
let spy: Spy;
const cleanup: (() => void | Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

function home(extra: Record<string, unknown> = {}): string {
  spy = startSpy();
  const h = tempHome({ gateway: { port: 0 }, servers: { spy: spy.config }, ...extra });
  cleanup.push(() => h.remove(), () => spy.remove());
  return h.dir;
}

async function session(g: Awaited<ReturnType<typeof startGatehouse>>, calls: number, what = 'echo'): Promise<string> {
  const client = new Client({ name: 'attacker-round', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } });
  await client.connect(transport);
  for (let i = 0; i < calls; i++) await client.callTool({ name: 'run_command', arguments: { command: `${what} ${i}` } });
  const id = transport.sessionId as string;
  await client.close();
  return id;
}

async function traffic(dir: string, calls = 5, what = 'echo'): Promise<string> {
  const g = await startGatehouse({ dataDir: dir, shell: 'headless' });
  const id = await session(g, calls, what);
  await g.stop();
  return id;
}

const audit = (dir: string) => join(dir, 'audit');
const newest = (dir: string) => join(audit(dir), listSegments(audit(dir)).at(-1) as string);
const linesOf = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const cut = (dir: string, keep: number) => writeFileSync(newest(dir), linesOf(newest(dir)).slice(0, keep).map((l) => `${l}\n`).join(''));
const verify = (dir: string, ...args: string[]) => runGatehouse(['verify', ...args], { GATEHOUSE_HOME: dir });
const python = async (file: string, pem: string) => JSON.parse((await exec('python3', [SCRIPT, file, '--public-key', pem, '--json']).catch((e: { stdout: string }) => e)).stdout) as { ok: boolean; reason?: string };
async function publicKey(dir: string): Promise<string> {
  const pem = join(dir, 'trusted.pem');
  writeFileSync(pem, (await runGatehouse(['public-key'], { GATEHOUSE_HOME: dir })).stdout);
  return pem;
}

function squat(dir: string): Promise<Server> {
  return new Promise((resolve) => {
    const server = createServer(() => undefined).listen(lockAddress(dir), () => resolve(server));
  });
}

describe("the attacker's round on the signed log", () => {
  it('B1: a process squatting the lock does not make verify forgive a deleted head mark or forged records', async () => {
    const dir = home();
    await traffic(dir);
    cut(dir, 10);
    rmSync(join(audit(dir), 'head.json'));
    const server = await squat(dir);
    cleanup.push(() => new Promise<void>((r) => server.close(() => r())));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/missing-head|unvouched/);
  });

  it('B2: head.json deleted and the tail cut while the gateway runs: verify fails at once, and the head mark comes back', async () => {
    const dir = home();
    const g = await startGatehouse({ dataDir: dir, shell: 'headless' });
    cleanup.push(() => g.stop());
    await session(g, 4);
    await g.audit.log.flush();
    rmSync(join(audit(dir), 'head.json'));
    cut(dir, 6);
    const result = await verify(dir);
    expect(result.code).toBe(1);
    await session(g, 1);
    await g.audit.log.flush();
    expect(existsSync(join(audit(dir), 'head.json'))).toBe(true);
  });

  it('B3: a forged gateway.json does not make a keyless verify say intact', async () => {
    const dir = home();
    await traffic(dir);
    rmSync(join(dir, 'audit.key'));
    // A fake gateway that calls everything intact.
    const fake = createHttpServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, records: 123456, segments: 1, bytes: 1, checkpointsChecked: 0 })));
    await new Promise<void>((r) => fake.listen(0, '127.0.0.1', () => r()));
    cleanup.push(() => new Promise<void>((r) => fake.close(() => r())));
    const port = (fake.address() as { port: number }).port;
    writeFileSync(join(dir, 'gateway.json'), JSON.stringify({ pid: process.pid, port, url: `http://127.0.0.1:${port}`, shell: 'headless', startedAt: Date.now() }));
    const result = await verify(dir);
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/intact/);
  });

  it('B4: a session export reads the log, not the index: an edited index cannot hide records', async () => {
    const dir = home({ recording: { segmentSize: '4KiB' } });
    const id = await traffic(dir, 12, 'rm -rf /evidence');
    const indexFile = join(audit(dir), 'index', 'sessions.json');
    const index = JSON.parse(readFileSync(indexFile, 'utf8')) as { sessions: Record<string, { segments: string[] }> };
    const segments = (index.sessions[id] as { segments: string[] }).segments;
    expect(segments.length).toBeGreaterThan(2);
    (index.sessions[id] as { segments: string[] }).segments = segments.slice(-1);
    writeFileSync(indexFile, JSON.stringify(index));
    const out = join(dir, 'session.jsonl');
    expect((await runGatehouse(['export', '--session', id, '--out', out], { GATEHOUSE_HOME: dir })).code).toBe(0);
    const exported = readFileSync(out, 'utf8');
    expect(exported.match(/rm -rf \/evidence/g)?.length).toBe(readAllRecords(dir).filter((r) => JSON.stringify(r.payload ?? '').includes('rm -rf /evidence')).length);
  });

  it('B5: a filtered export keeps the break records, so it fails wherever it is checked', async () => {
    const dir = home();
    await traffic(dir);
    cut(dir, 8);
    const id = await traffic(dir, 3);
    const pem = await publicKey(dir);
    for (const filter of [['--session', id], ['--since', '1m']]) {
      const out = join(dir, 'filtered.jsonl');
      expect((await runGatehouse(['export', ...filter, '--out', out], { GATEHOUSE_HOME: dir })).code).toBe(0);
      expect((await verify(dir, '--export', out, '--public-key', pem)).code).toBe(1);
      expect(await python(out, pem)).toMatchObject({ ok: false, reason: 'break-recorded' });
    }
  });

  it('B6: in an unfiltered export, an omitted run or a missing head of the log is caught by both verifiers', async () => {
    const dir = home();
    await traffic(dir, 8);
    const pem = await publicKey(dir);
    const whole = join(dir, 'whole.jsonl');
    await runGatehouse(['export', '--out', whole], { GATEHOUSE_HOME: dir });
    const rows = readFileSync(whole, 'utf8').split('\n').filter(Boolean).filter((r) => !r.startsWith('{"exportSignature"'));
    const records = rows.slice(1).map((r) => JSON.parse(r) as { seq: number; hash: string });
    const redacted = [rows[0], ...rows.slice(1, 4), JSON.stringify({ omitted: { fromSeq: records[3]?.seq, toSeq: records[5]?.seq, lastHash: records[5]?.hash } }), ...rows.slice(7)];
    const frontCut = [rows[0], ...rows.slice(6)];
    for (const [name, lines] of [['redacted', redacted], ['front-cut', frontCut]] as const) {
      const file = join(dir, `${name}.jsonl`);
      writeFileSync(file, lines.join('\n') + '\n');
      expect((await verify(dir, '--export', file, '--public-key', pem)).code, name).toBe(1);
      expect((await python(file, pem)).ok, name).toBe(false);
    }
  });

  it("B7: `gatehouse public-key` does not pass off a replaced signing-key.pem as the log's key", async () => {
    const dir = home();
    await traffic(dir);
    rmSync(join(dir, 'audit.key'));
    const forged = createHash('sha256').update('not the log key').digest('hex');
    writeFileSync(join(audit(dir), 'signing-key.pem'), `-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA${Buffer.from(forged, 'hex').toString('base64')}\n-----END PUBLIC KEY-----\n`);
    const printed = await runGatehouse(['public-key'], { GATEHOUSE_HOME: dir });
    expect(printed.stderr).toMatch(/signing-key\.pem.*replace|cannot vouch|not the key/i);
  });

  it('B8: with the public key alone, an anchor without a signature is not accepted', async () => {
    const dir = home({ recording: { segmentSize: '4KiB' } });
    await traffic(dir, 12);
    const pem = await publicKey(dir);
    const names = listSegments(audit(dir));
    const drop = names.slice(0, 3);
    const next = linesOf(join(audit(dir), names[3] as string))[0] as string;
    const first = JSON.parse(next) as { seq: number; prev: string };
    for (const n of drop) rmSync(join(audit(dir), n));
    writeFileSync(join(audit(dir), 'anchor.json'), JSON.stringify({ segment: drop.at(-1), firstSeq: 1, seq: first.seq - 1, hash: first.prev, mac: '0'.repeat(64) }));
    const result = await verify(dir, '--public-key', pem);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/bad-anchor/);
  });

  it('B9: a forged anchor.json at start deletes nothing, and is recorded as a break', async () => {
    const dir = home({ recording: { segmentSize: '4KiB' } });
    await traffic(dir, 12);
    const before = listSegments(audit(dir));
    const last = JSON.parse(linesOf(newest(dir)).at(-1) as string) as { seq: number; hash: string };
    writeFileSync(join(audit(dir), 'anchor.json'), JSON.stringify({ segment: before.at(-1), firstSeq: 1, seq: last.seq, hash: last.hash, mac: '0'.repeat(64) }));
    await traffic(dir, 1);
    for (const name of before) expect(existsSync(join(audit(dir), name)), name).toBe(true);
    expect(readAllRecords(dir).some((r) => r.event === 'break' && (r.detail as { reason?: string }).reason === 'anchor-forged')).toBe(true);
  });

  it('B10: lines the verifiers could read differently are malformed to both', async () => {
    const dir = home();
    await traffic(dir, 3);
    const pem = await publicKey(dir);
    const whole = join(dir, 'whole.jsonl');
    await runGatehouse(['export', '--out', whole], { GATEHOUSE_HOME: dir });
    const text = readFileSync(whole);
    const rows = text.toString('utf8').split('\n').filter(Boolean);
    const header = JSON.parse(rows[0] as string) as { head: { seq: unknown } };
    const variants: Record<string, Buffer> = {
      'invalid-utf8': Buffer.concat([text.subarray(0, text.indexOf(10) + 1), Buffer.from([0xff]), text.subarray(text.indexOf(10) + 1)]),
      'not-json': Buffer.from([rows[0], rows[1]?.replace('{"seq":1,', '{"seq":1,,'), ...rows.slice(2)].join('\n') + '\n'),
      'string-seq': Buffer.from([JSON.stringify({ ...header, head: { ...header.head, seq: String(header.head.seq) } }), ...rows.slice(1)].join('\n') + '\n'),
    };
    for (const [name, bytes] of Object.entries(variants)) {
      const file = join(dir, `${name}.jsonl`);
      writeFileSync(file, bytes);
      const ours = await verify(dir, '--export', file, '--public-key', pem, '--json');
      const theirs = await python(file, pem);
      expect(ours.code, name).toBe(1);
      expect(theirs.ok, name).toBe(false);
      expect((JSON.parse(ours.stdout) as { problem: { reason: string } }).problem.reason, name).toBe(theirs.reason);
    }
  });

  it('B11: the lock is the directory itself, not the path it was reached by (a bind mount gives a second path)', async () => {
    const dir = home();
    const other = mkdtempSync(join(tmpdir(), 'gatehouse-bind-'));
    cleanup.push(() => rmSync(other, { recursive: true, force: true }));
    const mounted = await exec('mount', ['--bind', dir, other]).then(
      () => true,
      () => false,
    );
    if (mounted) cleanup.push(async () => void (await exec('umount', [other]).catch(() => undefined)));
    // Where mounting is not allowed, the lock's address is still checked to be the folder's identity.
    const same = mounted ? other : dir;
    expect(lockAddress(same)).toBe(lockAddress(dir));
    expect(lockAddress(dir)).toContain(identityOf(dir));
  });

  it('R1: pruning carries every break forward, so verify keeps failing', async () => {
    const dir = home({ recording: { segmentSize: '4KiB' } });
    await traffic(dir, 3);
    rmSync(join(audit(dir), 'head.json'));
    await traffic(dir, 1); // this start records the break
    writeFileSync(join(dir, 'gatehouse.yaml'), readFileSync(join(dir, 'gatehouse.yaml'), 'utf8').replace('segmentSize: 4KiB', 'segmentSize: 4KiB\n  retention: { maxSize: 12KiB }'));
    await traffic(dir, 40);
    expect(existsSync(join(audit(dir), '000000000001.jsonl'))).toBe(false); // the segment with the break is gone
    const result = await verify(dir, '--json');
    expect(result.code).toBe(1);
    expect((JSON.parse(result.stdout) as { breaks: { reason: string }[] }).breaks.map((b) => b.reason)).toContain('head-missing');
  });

  it('R2: a log with no signature at all is not intact to the public key', async () => {
    const dir = home();
    await traffic(dir, 2);
    const pem = await publicKey(dir);
    let prev = '0'.repeat(64);
    const lines = [1, 2, 3].map((seq) => {
      const body = JSON.stringify({ seq, ts: new Date().toISOString(), kind: 'event', event: 'forged', commit: true, prev });
      const hash = createHash('sha256').update(body).digest('hex');
      prev = hash;
      return `${body.slice(0, -1)},"hash":"${hash}","mac":"${'0'.repeat(64)}"}`;
    });
    for (const n of listSegments(audit(dir))) rmSync(join(audit(dir), n));
    writeFileSync(join(audit(dir), '000000000001.jsonl'), lines.map((l) => `${l}\n`).join(''));
    writeFileSync(join(audit(dir), 'head.json'), JSON.stringify({ segment: '000000000001.jsonl', firstSeq: 1, seq: 3, hash: prev, mac: '0'.repeat(64) }));
    rmSync(join(dir, 'audit.key'));
    const result = await verify(dir, '--public-key', pem);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unsigned/);
  });

  it('R3, R4, R5: deep payloads, byte-order marks and odd header shapes get one answer from both verifiers', async () => {
    const dir = home();
    const g = await startGatehouse({ dataDir: dir, shell: 'headless' });
    const client = new Client({ name: 'deep', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
    let deep: unknown = 'bottom';
    for (let i = 0; i < 3000; i++) deep = [deep];
    await client.callTool({ name: 'run_command', arguments: { deep } });
    await client.close();
    await g.stop();
    const pem = await publicKey(dir);
    const whole = join(dir, 'whole.jsonl');
    await runGatehouse(['export', '--out', whole], { GATEHOUSE_HOME: dir });
    const bytes = readFileSync(whole);
    const rows = bytes.toString('utf8').split('\n').filter(Boolean);
    const header = JSON.parse(rows[0] as string) as Record<string, unknown> & { head: Record<string, unknown> };
    const withHeader = (h: string, dropTrailer = true) => Buffer.from([h, ...rows.slice(1).filter((r) => !dropTrailer || !r.startsWith('{"exportSignature"'))].join('\n') + '\n');
    const variants: Record<string, Buffer> = {
      untouched: bytes,
      bom: Buffer.concat([Buffer.from(rows.slice(0, 3).join('\n') + '\n'), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(rows.slice(3).filter((r) => !r.startsWith('{"exportSignature"')).join('\n') + '\n')]),
      'null-head': withHeader(JSON.stringify({ ...header, head: null })),
      'utf16-header': Buffer.concat([Buffer.from(rows[0] as string, 'utf16le'), Buffer.from('\n' + rows.slice(1).join('\n') + '\n')]),
      'null-sig': withHeader(JSON.stringify({ ...header, head: { ...header.head, sig: null } })),
      'null-anchor': withHeader(JSON.stringify({ ...header, anchor: null })),
      nan: withHeader((rows[0] as string).replace('{"gatehouseExport":1,', '{"gatehouseExport":1,"x":NaN,')),
      surrogate: withHeader(JSON.stringify({ ...header, head: { ...header.head, segment: '\ud800' } })),
    };
    for (const [name, data] of Object.entries(variants)) {
      const file = join(dir, `${name}.jsonl`);
      writeFileSync(file, data);
      const ours = await verify(dir, '--export', file, '--public-key', pem, '--json');
      const theirs = await python(file, pem);
      const mine = JSON.parse(ours.stdout) as { ok: boolean; problem?: { reason: string } };
      expect({ name, ok: mine.ok, reason: mine.problem?.reason }).toEqual({ name, ok: theirs.ok, reason: theirs.reason });
      expect(mine.ok, name).toBe(name === 'untouched');
    }
  });

  it('R6: a segment planted below the pruning anchor is not part of an export', async () => {
    const dir = home({ recording: { segmentSize: '4KiB', retention: { maxSize: '12KiB' } } });
    await traffic(dir, 30);
    expect(existsSync(join(audit(dir), 'anchor.json'))).toBe(true);
    writeFileSync(join(audit(dir), '000000000001.jsonl'), linesOf(newest(dir)).slice(0, 2).map((l) => `${l}\n`).join(''));
    const pem = await publicKey(dir);
    const out = join(dir, 'all.jsonl');
    expect((await runGatehouse(['export', '--out', out], { GATEHOUSE_HOME: dir })).code).toBe(0);
    expect((await verify(dir, '--export', out, '--public-key', pem)).code).toBe(0);
    expect(await python(out, pem)).toMatchObject({ ok: true });
  });
});
