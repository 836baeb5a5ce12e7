/*
 * The forwarder reads the log's segment files in chunks and walks from segment to segment. What could go wrong:
 * a chunk that ends exactly at the end of a line taken for the end of the segment (the rest of the segment
 * skipped, or forwarding halted on a chain that only seems broken), a record cut at a chunk boundary, a segment
 * change that loses or repeats a record. So: a log of many small segments, forwarded with every chunk size
 * across a range wider than a line, must arrive whole, once, in order, with each record's hash.
 *
 * And the status, which is how a person learns that records are not leaving: a collector that has failed for
 * five minutes raises a warning (not before); a cursor that cannot be written (a folder where the file goes,
 * a full disk) is a failure said in the status and retried, never an unhandled rejection that takes the
 * gateway down, and forwarding goes on once it can be written.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { Forwarder, type ForwarderOptions } from '../../../main/forwarding/forwarder.js';
import { CURSOR_FILE } from '../../../main/forwarding/cursor.js';
import { waitFor } from '../../helpers/gateway-harness.js';
import { startReceiver } from '../../helpers/otlp-receiver.js';

const KEY = Buffer.alloc(32, 7);
let root: string;
let audit: string;
let lastSeq = 0;
const lines: { seq: number; hash: string }[] = [];
let longest = 0;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gatehouse-forwarder-'));
  audit = join(root, 'audit');
  const log = await AuditLog.open({ dir: audit, key: KEY, segmentSize: 8 * 1024 });
  for (let i = 0; i < 200; i++) await log.append({ ts: new Date(1_795_000_000_000 + i).toISOString(), kind: 'request', method: 'tools/call', tool: 'echo', id: i, payload: { text: 'x'.repeat(i % 97) } });
  await log.close();
  for (const name of readdirSync(audit).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of readFileSync(join(audit, name), 'utf8').split('\n').filter(Boolean)) {
      const r = JSON.parse(line) as { seq: number; hash: string };
      lines.push({ seq: r.seq, hash: r.hash });
      longest = Math.max(longest, Buffer.byteLength(line) + 1);
    }
  }
  lastSeq = lines.at(-1)?.seq ?? 0;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('the forwarder reading the log', () => {
  it('with every chunk size from one line to several: the whole log, once, in order, across segments', async () => {
    expect(readdirSync(audit).filter((n) => n.endsWith('.jsonl')).length).toBeGreaterThan(3);
    for (let chunk = longest; chunk < longest + 600; chunk += 13) {
      rmSync(join(root, CURSOR_FILE), { force: true });
      const got: { seq: number; uid: string }[] = [];
      const forwarder = new Forwarder({
        dataDir: root,
        auditKey: KEY,
        auditDir: audit,
        readChunk: chunk,
        settings: () => ({ endpoint: 'http://127.0.0.1:9/v1/logs', headers: {}, encoding: 'json', batchSize: 17, interval: 1 }),
        committedSeq: () => lastSeq,
        send: async (_s, body) => {
          const req = JSON.parse(Buffer.from(body).toString('utf8')) as { resourceLogs: { scopeLogs: { logRecords: { attributes: { key: string; value: { intValue?: number | string; stringValue?: string } }[] }[] }[] }[] };
          for (const lr of req.resourceLogs.flatMap((r) => r.scopeLogs).flatMap((s) => s.logRecords)) {
            const a = Object.fromEntries(lr.attributes.map((kv) => [kv.key, kv.value.intValue ?? kv.value.stringValue]));
            got.push({ seq: Number(a['gatehouse.seq']), uid: String(a['log.record.uid']) });
          }
          return { status: 200, body: '' };
        },
      });
      await forwarder.start();
      await waitFor(() => forwarder.status().lagRecords === 0 || forwarder.status().warning !== undefined, 10_000, `chunk ${chunk}`);
      await forwarder.stop();
      expect(forwarder.status().warning, `chunk ${chunk}`).toBeUndefined();
      expect(got.map((g) => g.seq), `chunk ${chunk}`).toEqual(lines.map((l) => l.seq));
      expect(got.map((g) => g.uid)).toEqual(lines.map((l) => l.hash));
    }
  }, 60_000);

  it('a batch larger than a slice (encoded a slice at a time) arrives as one request, in both encodings, decoded by a real receiver', async () => {
    for (const encoding of ['protobuf', 'json'] as const) {
      rmSync(join(root, CURSOR_FILE), { force: true });
      const receiver = await startReceiver();
      try {
        const forwarder = new Forwarder({ dataDir: root, auditDir: audit, auditKey: KEY, settings: () => ({ endpoint: receiver.endpoint, headers: {}, encoding, batchSize: 150, interval: 1 }), committedSeq: () => lastSeq });
        await forwarder.start();
        await waitFor(() => forwarder.status().lagRecords === 0 || forwarder.status().warning !== undefined, 10_000, encoding);
        await forwarder.stop();
        expect(forwarder.status().warning).toBeUndefined();
        expect(receiver.attempts.map((a) => a.logs.length)).toEqual([150, lines.length - 150]);
        expect(receiver.accepted().map((l) => l.attributes['gatehouse.seq'])).toEqual(lines.map((l) => l.seq));
        expect(receiver.accepted().map((l) => l.attributes['log.record.uid'])).toEqual(lines.map((l) => l.hash));
      } finally {
        await receiver.close();
      }
    }
  });

  const json = { endpoint: 'http://127.0.0.1:9/v1/logs', headers: {}, encoding: 'json' as const, batchSize: 50, interval: 1 };

  it('a collector failing for five minutes raises the warning, and not a minute before', async () => {
    rmSync(join(root, CURSOR_FILE), { force: true });
    let clock = 1_800_000_000_000;
    let attempts = 0;
    const forwarder = new Forwarder({
      dataDir: root,
        auditKey: KEY,
      auditDir: audit,
      settings: () => json,
      committedSeq: () => lastSeq,
      now: () => clock,
      send: async () => {
        attempts++;
        throw new Error('connect ECONNREFUSED 127.0.0.1:9');
      },
    });
    await forwarder.start();
    await waitFor(() => attempts > 0, 5_000, 'a first attempt');
    expect(forwarder.status()).toMatchObject({ lastError: 'http://127.0.0.1:9/v1/logs: connect ECONNREFUSED 127.0.0.1:9', lagRecords: lastSeq });
    clock += 4 * 60_000 + 59_000;
    expect(forwarder.status().warning).toBeUndefined();
    clock += 1_000;
    expect(forwarder.status().warning).toBe(`the collector at http://127.0.0.1:9/v1/logs has not accepted records for 5 min; ${lastSeq} record(s) wait in the log and go out, in order, when it answers`);
    await forwarder.stop();
  });

  it('a cursor that cannot be written is a failure in the status, retried; forwarding goes on once it can be', async () => {
    rmSync(join(root, CURSOR_FILE), { force: true });
    let release = () => {};
    const gate = new Promise<void>((r) => (release = r));
    const got: number[] = [];
    const options: ForwarderOptions = {
      dataDir: root,
        auditKey: KEY,
      auditDir: audit,
      settings: () => json,
      committedSeq: () => lastSeq,
      random: () => 0,
      send: async () => {
        got.push(1);
        await gate;
        return { status: 200, body: '' };
      },
    };
    const forwarder = new Forwarder(options);
    await forwarder.start();
    await waitFor(() => got.length > 0, 5_000, 'a first send');
    mkdirSync(join(root, CURSOR_FILE)); // a folder where the cursor file goes, while the collector answers: the rename onto it fails
    release();
    await waitFor(() => forwarder.status().lastError !== undefined, 5_000, 'the failure');
    expect(forwarder.status().lastError).toMatch(/^the forwarding cursor could not be written: .*(EISDIR|ENOTEMPTY|EEXIST)/);
    expect(forwarder.status().forwardedSeq).toBe(0);
    rmSync(join(root, CURSOR_FILE), { recursive: true, force: true });
    await waitFor(() => forwarder.status().lagRecords === 0, 10_000, 'forwarding going on');
    await forwarder.stop();
    expect(JSON.parse(readFileSync(join(root, CURSOR_FILE), 'utf8'))).toMatchObject({ seq: lastSeq, hash: lines.at(-1)?.hash });
  });
});
