/*
 * What an attacker did to forwarding (a helper briefed with the guarantees, not the tests), each now a test:
 * - the same OS user edits a record in a segment file (same length, `sed -i`) while the collector is down: the
 *   edited record must never reach the collector as if it had been recorded; forwarding stops and says where;
 * - the same, with the record's hash and every later prev and hash recomputed (SHA-256 needs no key): the
 *   commit's mac, made with the log's key, gives it away;
 * - the same with the commit marks removed (the second attacker: a mac that is absent is not checked): a record
 *   goes out only once a commit mark vouches for it, and committed records that none vouches for stop forwarding;
 * - one large message (a 5 MB argument, under gateway.maxBodySize) makes a line longer than what the forwarder
 *   reads at once: it must still be read and sent, not stall forwarding for good;
 * - the third attacker: members put after the hash, where no hash reaches (`,"sig":"x","tool":"delete_all_files",
 *   "payload":{…},"z":"…"` padded to a signature's length): JSON's last-key-wins sent them as the record's;
 * - segments moved out of audit/ while records waited: taken for retention's pruning, and skipped;
 * - and the real pruning (recording.retention, which leaves an anchor made with the key) still goes on past it;
 * - a cursor written by hand that names a real record further on (its seq with its real hash), to skip what
 *   the collector never had: it does not carry the cursor's mac, so forwarding stops instead of skipping;
 * - a segment replaced under the running gateway (`cp -p SEG x && mv x SEG`: the writer refuses to go on in the
 *   old file), or cut (`: > SEG`): records committed but not in the files are said at once, not a silent stall;
 * - a collector that answers 429 with `Retry-After: 0` (or a date gone by): no retry loop;
 * - a collector that never finishes its answer: a warning after five minutes without progress, and a stop
 *   that does not wait for it;
 * - a fixed endpoint saved in gatehouse.yaml: tried now, not at the end of a five-minute back-off.
 */
import { copyFileSync, mkdtempSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeLineHash, lineFields } from '../../../main/audit/record.js';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { CURSOR_FILE } from '../../../main/forwarding/cursor.js';
import { Forwarder, type ForwarderOptions } from '../../../main/forwarding/forwarder.js';
import type { PostResult } from '../../../main/forwarding/post.js';
import { waitFor } from '../../helpers/gateway-harness.js';

const KEY = Buffer.alloc(32, 7);
const settings = { endpoint: 'http://127.0.0.1:9/v1/logs', headers: {}, encoding: 'json' as const, batchSize: 20, interval: 1 };

let root: string;
let audit: string;
let log: AuditLog;
let committed = 0;

beforeEach(async () => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-forward-attack-'));
  audit = join(root, 'audit');
  log = await AuditLog.open({ dir: audit, key: KEY, segmentSize: 16 * 1024 });
  log.onCommit = (records) => (committed = Math.max(committed, ...records.map((r) => r.seq)));
  committed = 0;
});
afterEach(async () => {
  await log.close().catch(() => undefined);
  rmSync(root, { recursive: true, force: true });
});

async function append(n: number, text = 'ORIGINAL'): Promise<void> {
  for (let i = 0; i < n; i++) await log.append({ ts: new Date().toISOString(), kind: 'request', method: 'tools/call', tool: 'echo', id: i, payload: { message: `${text} ${i}` } });
}

/** Every body sent, decoded to what the collector would read: seq, uid and the payload text. */
function collector(answer: (attempt: number) => PostResult | Promise<PostResult> = () => ({ status: 200, body: '' })) {
  const got: { seq: number; uid: string; body: string }[] = [];
  let attempts = 0;
  const send: NonNullable<ForwarderOptions['send']> = async (_s, body) => {
    const result = await answer(attempts++);
    if (result.status === 200) {
      const req = JSON.parse(Buffer.from(body).toString('utf8')) as { resourceLogs: { scopeLogs: { logRecords: { body: unknown; attributes: { key: string; value: { intValue?: string | number; stringValue?: string } }[] }[] }[] }[] };
      for (const lr of req.resourceLogs.flatMap((r) => r.scopeLogs).flatMap((s) => s.logRecords)) {
        const a = Object.fromEntries(lr.attributes.map((kv) => [kv.key, kv.value.intValue ?? kv.value.stringValue]));
        got.push({ seq: Number(a['gatehouse.seq']), uid: String(a['log.record.uid']), body: JSON.stringify(lr.body) });
      }
    }
    return result;
  };
  return { got, send, attempts: () => attempts };
}

function forwarder(send: ForwarderOptions['send'], extra: Partial<ForwarderOptions> = {}): Forwarder {
  return new Forwarder({ dataDir: root, auditDir: audit, auditKey: KEY, settings: () => settings, committedSeq: () => committed, random: () => 0, send, ...extra });
}

/** A forwarder started on the log as it is, stopped once it has halted (or given up after 5 s). */
async function untilHalted(send: ForwarderOptions['send']): Promise<Forwarder> {
  const f = forwarder(send);
  await f.start();
  await waitFor(() => f.status().warning !== undefined, 5_000, 'the halt');
  await f.stop();
  return f;
}

const segments = () => readdirSync(audit).filter((n) => n.endsWith('.jsonl')).sort();
const allLines = () => segments().flatMap((name) => readFileSync(join(audit, name), 'utf8').split('\n').filter(Boolean).map((line) => ({ name, line })));

describe('forwarding, attacked', () => {
  it('a record edited in its segment file (same length) is never sent; forwarding stops at it and says where', async () => {
    await append(30);
    const target = allLines().find(({ line }) => line.includes('ORIGINAL 12')) as { name: string; line: string };
    const file = join(audit, target.name);
    writeFileSync(file, readFileSync(file, 'utf8').replace('ORIGINAL 12', 'FORGED!! 12'));
    const seq = (lineFields(Buffer.from(target.line)) as { seq: number }).seq;
    const c = collector();
    const f = await untilHalted(c.send);
    expect(c.got.map((g) => g.body).join('\n')).not.toContain('FORGED');
    expect(c.got.every((g) => g.seq < seq)).toBe(true);
    expect(f.status().warning).toMatch(new RegExp(`^forwarding stopped: record ${seq} does not match its hash \\(${target.name}, byte \\d+\\): the log was edited`));
  });

  it('an edit with every hash recomputed after it is given away by the commit mac made with the log key', async () => {
    await append(30);
    // Rewrite from the edited record on: its text, then each line's prev and hash, as a forger without the key can.
    let prev: string | undefined;
    let editedSeq = 0;
    for (const name of segments()) {
      const file = join(audit, name);
      const out = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((text) => {
        let line = text;
        if (line.includes('ORIGINAL 12')) {
          line = line.replace('ORIGINAL 12', 'FORGED!! 12');
          editedSeq = (lineFields(Buffer.from(line)) as { seq: number }).seq;
        }
        const fields = lineFields(Buffer.from(line)) as NonNullable<ReturnType<typeof lineFields>>;
        if (editedSeq === 0) {
          prev = fields.hash;
          return line;
        }
        if (prev !== undefined) line = line.replace(`"prev":"${fields.prev}"`, `"prev":"${prev}"`);
        const hash = computeLineHash(Buffer.from(line));
        line = line.replace(`"hash":"${fields.hash}"`, `"hash":"${hash}"`);
        prev = hash;
        return line;
      });
      writeFileSync(file, out.map((l) => `${l}\n`).join(''));
    }
    const c = collector();
    const f = await untilHalted(c.send);
    expect(c.got.map((g) => g.body).join('\n')).not.toContain('FORGED');
    expect(f.status().warning).toMatch(/^forwarding stopped: the commit at record \d+ does not carry this log's mac/);
  });

  it('an edit re-hashed with its commit marks removed: vouched for by no mark, so nothing from it is sent', async () => {
    await append(30);
    let prev: string | undefined;
    let editing = false;
    for (const name of segments()) {
      const file = join(audit, name);
      const out = readFileSync(file, 'utf8').split('\n').filter(Boolean).map((text) => {
        let line = text;
        if (line.includes('ORIGINAL 12')) {
          line = line.replace('ORIGINAL 12', 'FORGED!! 12');
          editing = true;
        }
        const fields = lineFields(Buffer.from(line)) as NonNullable<ReturnType<typeof lineFields>>;
        if (!editing) {
          prev = fields.hash;
          return line;
        }
        // Everything after the body goes, and a hash of the forger's own is put back: no mac, no sig.
        const body = line.slice(0, fields.hashAt).replace(`"prev":"${fields.prev}"`, `"prev":"${prev}"`);
        const hash = computeLineHash(Buffer.from(`${body},"hash":"${'0'.repeat(64)}"}`));
        prev = hash;
        return `${body},"hash":"${hash}"}`;
      });
      writeFileSync(file, out.map((l) => `${l}\n`).join(''));
    }
    const c = collector();
    const f = await untilHalted(c.send);
    expect(c.got.map((g) => g.body).join('\n')).not.toContain('FORGED');
    expect(f.status().warning).toMatch(/^forwarding stopped: records \d+–\d+ are vouched for by no commit mark of this log's key/);
  });

  it('a message larger than what is read at once is read whole and sent, and forwarding goes on after it', async () => {
    await append(3);
    await log.append({ ts: new Date().toISOString(), kind: 'request', method: 'tools/call', tool: 'echo', id: 99, payload: { message: 'L'.repeat(50_000) } });
    await append(3);
    const c = collector();
    const f = forwarder(c.send, { readChunk: 4096 });
    await f.start();
    await waitFor(() => f.status().lagRecords === 0 || f.status().warning !== undefined, 5_000, 'all forwarded');
    await f.stop();
    expect(f.status().warning).toBeUndefined();
    expect(c.got.map((g) => g.seq)).toEqual(allLines().map(({ line }) => (lineFields(Buffer.from(line)) as { seq: number }).seq));
    expect(c.got.some((g) => g.body.includes('L'.repeat(50_000)))).toBe(true);
  });

  it('members put after the hash, where no hash reaches, never reach the collector; forwarding stops there', async () => {
    await append(30);
    // Read by position as a signature: `,"sig":"` + 128 characters + `"`, the 128 holding members of the forger's.
    const inner = 'x","tool":"delete_all_files","principal":"local:someone-else","payload":{"INJECTED":"not recorded"},"z":"';
    const target = allLines().filter(({ line }) => line.includes('ORIGINAL'))[10] as { name: string; line: string };
    const file = join(audit, target.name);
    const forged = target.line.replace(/\}$/, `,"sig":"${inner}${'a'.repeat(128 - inner.length)}"}`);
    expect(lineFields(Buffer.from(forged))?.sig).toBeDefined(); // read as a signature by position
    writeFileSync(file, readFileSync(file, 'utf8').replace(target.line, forged));
    const c = collector();
    const f = await untilHalted(c.send);
    const sent = c.got.map((g) => g.body).join('\n');
    expect(sent).not.toContain('INJECTED');
    expect(f.status().warning).toMatch(/^forwarding stopped: record \d+ ends in something other than its mac and signature/);
  });

  it('segments moved out of the audit folder while records waited: not taken for pruning, forwarding stops', async () => {
    await log.close();
    log = await AuditLog.open({ dir: audit, key: KEY, segmentSize: 2 * 1024 });
    log.onCommit = (records) => (committed = Math.max(committed, ...records.map((r) => r.seq)));
    await append(40);
    expect(segments().length).toBeGreaterThan(3);
    for (const name of segments().slice(0, 2)) renameSync(join(audit, name), join(root, name));
    const c = collector();
    const f = await untilHalted(c.send);
    expect(c.attempts()).toBe(0);
    expect(f.status().warning).toMatch(/^forwarding stopped: records 1–\d+ are not in the log's files, and no anchor of this log's key says they were pruned/);
    expect(f.status().pruned).toBeUndefined();
  });

  it('records pruned by recording.retention (an anchor made with the key): forwarding goes on after them, and says so', async () => {
    await log.close();
    log = await AuditLog.open({ dir: audit, key: KEY, segmentSize: 2 * 1024, retention: { maxSize: 6 * 1024 } });
    log.onCommit = (records) => (committed = Math.max(committed, ...records.map((r) => r.seq)));
    await append(60);
    const firstLeft = (lineFields(Buffer.from((allLines()[0] as { line: string }).line)) as { seq: number }).seq;
    expect(firstLeft).toBeGreaterThan(1);
    const c = collector();
    const f = forwarder(c.send);
    await f.start();
    await waitFor(() => f.status().lagRecords === 0 || f.status().warning !== undefined, 5_000, 'all forwarded');
    await f.stop();
    expect(f.status().warning).toBeUndefined();
    expect(f.status().pruned).toBe(`records 1–${firstLeft - 1} were pruned (recording.retention) before the collector had them`);
    expect(c.got[0]?.seq).toBe(firstLeft);
  });

  it("a cursor written by hand to skip records (a real record's seq and hash) stops forwarding instead", async () => {
    await append(30);
    const skipTo = lineFields(Buffer.from((allLines()[20] as { line: string }).line)) as { seq: number; hash: string };
    writeFileSync(join(root, CURSOR_FILE), JSON.stringify({ seq: skipTo.seq, hash: skipTo.hash, at: Date.now() }));
    const c = collector();
    const f = forwarder(c.send);
    await f.start();
    expect(f.status().warning).toMatch(/forwarding-cursor\.json was not written by this gateway \(its mac does not match\)/);
    await f.stop();
    expect(c.attempts()).toBe(0);
    // The gateway's own cursor, with its mac, is taken after a restart: nothing sent twice, nothing skipped.
    rmSync(join(root, CURSOR_FILE));
    const g = forwarder(c.send);
    await g.start();
    await waitFor(() => g.status().lagRecords === 0, 5_000, 'all forwarded');
    await g.stop();
    const h = forwarder(c.send);
    await h.start();
    await new Promise((r) => setTimeout(r, 100));
    await h.stop();
    expect(h.status().warning).toBeUndefined();
    expect(c.got.map((x) => x.seq)).toEqual(allLines().map(({ line }) => (lineFields(Buffer.from(line)) as { seq: number }).seq));
  });

  it('a segment replaced under the running gateway: nothing more is committed into the old file, and nothing is forwarded as lost', async () => {
    await append(5);
    const c = collector();
    const f = forwarder(c.send);
    await f.start();
    await waitFor(() => f.status().lagRecords === 0, 5_000, 'caught up');
    const seg = join(audit, segments().at(-1) as string);
    copyFileSync(seg, `${seg}.x`);
    renameSync(`${seg}.x`, seg); // the writer holds the old file, now unlinked
    // The writer refuses to acknowledge what would go to a file the log is no longer read from (segment-writer.test.ts).
    await expect(append(5)).rejects.toThrow(/replaced while the gateway was running/);
    f.notify();
    await new Promise((r) => setTimeout(r, 300));
    await f.stop();
    expect(f.status().lagRecords).toBe(0);
  });

  it('a segment cut while records wait: forwarding stops and says the log was cut', async () => {
    await append(10);
    const c = collector(() => ({ status: 200, body: '' }));
    const f = forwarder(c.send, { readChunk: 600 });
    await f.start();
    await waitFor(() => c.got.length > 0, 5_000, 'a first batch');
    writeFileSync(join(audit, segments().at(-1) as string), '');
    await append(3);
    f.notify();
    await waitFor(() => f.status().warning !== undefined, 5_000, 'the warning');
    await f.stop();
    expect(f.status().warning).toMatch(/was cut|hold no record after/);
  });

  it('429 with Retry-After: 0, or a date gone by: retried with back-off, not in a loop', async () => {
    await append(3);
    for (const retryAfter of ['0', 'Wed, 21 Oct 2015 07:28:00 GMT']) {
      const c = collector(() => ({ status: 429, retryAfter, body: '' }));
      const f = forwarder(c.send);
      await f.start();
      await new Promise((r) => setTimeout(r, 1_600));
      await f.stop();
      // random 0: waits of 0.5 s, 1 s, 2 s… after the first attempt: at most three attempts in 1.6 s.
      expect(c.attempts(), retryAfter).toBeLessThanOrEqual(3);
      expect(c.attempts(), retryAfter).toBeGreaterThanOrEqual(2);
    }
  });

  it('a collector that never finishes its answer: a warning after five minutes without progress, and stop does not wait for it', async () => {
    await append(3);
    let clock = 1_800_000_000_000;
    const send: ForwarderOptions['send'] = (_s, _b, signal) => new Promise((_resolve, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error)));
    const f = forwarder(send, { now: () => clock });
    await f.start();
    await new Promise((r) => setTimeout(r, 50));
    expect(f.status().warning).toBeUndefined();
    clock += 5 * 60_000;
    expect(f.status().warning).toBe(`nothing has gone to the collector at ${settings.endpoint} for 5 min; ${committed} record(s) wait in the log`);
    const started = Date.now();
    await f.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('a collector fixed in gatehouse.yaml is tried at once, not at the end of the back-off', async () => {
    await append(3);
    let failing = true;
    const c = collector(() => (failing ? { status: 503, body: '' } : { status: 200, body: '' }));
    const f = forwarder(c.send, { random: () => 1 });
    await f.start();
    await waitFor(() => c.attempts() >= 3, 10_000, 'three failures'); // the next wait: 4 s
    failing = false;
    f.reconfigured();
    await waitFor(() => f.status().lagRecords === 0, 1_000, 'sent after the reload');
    await f.stop();
  }, 15_000);
});
