import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import type { Resource } from '@opentelemetry/resources';
import { open, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ForwardingStatus } from '../api/types.js';
import type { AuditRecord } from '../audit/record-shape.js';
import { commitMac, computeLineHash, lineFields, parseRecord } from '../audit/record.js';
import { verifyMac } from '../audit/checkpoint.js';
import { ANCHOR_FILE, listSegments, segmentFirstSeq } from '../audit/segment-files.js';
import { readMark } from '../audit/segment-writer.js';
import type { GatehouseConfig } from '../config/schema.js';
import { backoffMs, retryAfterMs } from './backoff.js';
import { CURSOR_FILE, readCursor, writeCursor, type ForwardCursor } from './cursor.js';
import { gatehouseResource, toLogRecord } from './otlp-record.js';
import { post, type PostResult } from './post.js';

export type ForwardingSettings = NonNullable<GatehouseConfig['forwarding']>;

export interface ForwarderOptions {
  dataDir: string;
  auditDir: string;
  settings: () => ForwardingSettings | undefined;
  /** The newest record the log has made durable: nothing after it is ever read, let alone sent. */
  committedSeq: () => number;
  now?: () => number;
  random?: () => number;
  /** The collector failing this long raises the status's warning. */
  warnAfterMs?: number;
  /** How much of a segment is read at once (tests: small, to reach every chunk boundary). */
  readChunk?: number;
  /**
   * The log's key: each commit's mac is checked before its records go out, and the cursor carries a mac, so
   * that one edited by hand is told from one the gateway wrote.
   */
  auditKey: Buffer;
  /** Tests: a post that is not over HTTP. */
  send?: (settings: ForwardingSettings, body: Uint8Array, signal: AbortSignal) => Promise<PostResult>;
}

const READ_CHUNK = 4 * 1024 * 1024;
const HEX128 = /^[0-9a-f]{128}$/;
const CLOSE = Buffer.from('}');
const CONTENT_TYPES = { protobuf: 'application/x-protobuf', json: 'application/json' } as const;

/** Raised when the log does not continue from the last forwarded record: forwarding stops rather than send a history that was rewritten. */
class ChainBroken extends Error {}

/**
 * Forwards the audit log to an OTLP/HTTP collector, at least once and in order. The backlog is the log itself:
 * a durable cursor (the last acknowledged seq and hash) says where to start, records are read from the
 * segment files (only up to the last committed one), and the cursor moves only after the collector answered
 * 2xx. A collector that is down, slow or says 429/5xx is retried with back-off and jitter (Retry-After
 * honoured); nothing is dropped, whatever it answers.
 */
export class Forwarder {
  private cursor: ForwardCursor = { seq: 0, hash: '', at: 0 };
  private position: { segment: string; offset: number; seq: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private pumping: Promise<void> | undefined;
  private failures = 0;
  private stopped = false;
  private halted: string | undefined;
  /** Records retention pruned before the collector had them: the one place the chain may jump, said in the status. */
  private pruned: { from: number; to: number; hash: string } | undefined;
  private pendingSince: number | undefined;
  private lastSuccessAt: number | undefined;
  private lastError: { message: string; at: number } | undefined;
  private failingSince: number | undefined;
  /**
   * A failure on this machine, not the collector's (the log unreadable, committed records missing from its
   * files, the cursor unwritable): said at once in the status's warning, not after five minutes, and not
   * blamed on the collector.
   */
  private local: string | undefined;
  /** Ends the request on its way at stop: the cursor is written only after a whole answer, so nothing is half done. */
  private inFlight = new AbortController();
  private readonly resource: Resource = gatehouseResource();
  private readonly now: () => number;
  private readonly startedAt: number;

  constructor(private readonly options: ForwarderOptions) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  async start(): Promise<void> {
    try {
      this.cursor = (await readCursor(this.options.dataDir, this.options.auditKey)) ?? this.cursor;
    } catch (err) {
      // Never a silent restart from the first record (or a skip): stopped, and said so, until someone looks.
      return this.halt(`${(err as Error).message}; move it aside to forward the whole log again`);
    }
    // The cursor must name a record of this log (its seq with its hash): one edited to point elsewhere would
    // skip records or send them again under a history that is not this log's.
    const named = this.cursor.seq > 0 ? await this.hashAt(this.cursor.seq) : this.cursor.hash;
    if (this.cursor.seq > this.options.committedSeq() || (named !== undefined && named !== this.cursor.hash)) {
      return this.halt(`the forwarding cursor (${CURSOR_FILE}: seq ${this.cursor.seq}) names no record of this log; it was edited or belongs to another log. Check \`gatehouse verify\`, then move the cursor aside to forward the whole log again`);
    }
    if (this.cursor.seq < this.options.committedSeq()) this.pendingSince = this.now();
    this.schedule(0);
  }

  /**
   * gatehouse.yaml was saved: a collector that was failing may have been fixed (a new endpoint, a header), so
   * the next attempt goes out now instead of at the end of the back-off.
   */
  reconfigured(): void {
    if (this.stopped || this.halted || this.failures === 0 || this.pumping) return;
    this.failures = 0;
    this.schedule(0);
  }

  /** New records were committed: they go out within forwarding.interval (at once when a batch is full). */
  notify(): void {
    if (this.stopped) return;
    this.pendingSince ??= this.now();
    const settings = this.options.settings();
    if (!settings || this.timer || this.pumping || this.failures > 0) return;
    this.schedule(this.options.committedSeq() - this.cursor.seq >= settings.batchSize ? 0 : settings.interval);
  }

  status(): ForwardingStatus {
    const settings = this.options.settings();
    const committedSeq = this.options.committedSeq();
    const lagRecords = Math.max(0, committedSeq - this.cursor.seq);
    const lagSeconds = lagRecords > 0 && this.pendingSince !== undefined ? Math.round((this.now() - this.pendingSince) / 1000) : 0;
    const iso = (t: number | undefined) => (t === undefined ? undefined : new Date(t).toISOString());
    const status: ForwardingStatus = {
      enabled: settings !== undefined,
      ...(settings ? { endpoint: settings.endpoint, encoding: settings.encoding } : {}),
      forwardedSeq: this.cursor.seq,
      committedSeq,
      lagRecords,
      lagSeconds,
    };
    if (this.lastSuccessAt !== undefined) status.lastSuccessAt = iso(this.lastSuccessAt) as string;
    if (this.lastError) Object.assign(status, { lastError: this.lastError.message, lastErrorAt: iso(this.lastError.at) });
    if (this.failingSince !== undefined) status.failingSince = iso(this.failingSince) as string;
    if (this.pruned) status.pruned = `records ${this.pruned.from}–${this.pruned.to} were pruned (recording.retention) before the collector had them`;
    const failingFor = this.failingSince === undefined ? 0 : this.now() - this.failingSince;
    const warnAfter = this.options.warnAfterMs ?? 5 * 60_000;
    if (this.halted) status.warning = `forwarding stopped: ${this.halted}`;
    else if (this.local) status.warning = this.local;
    else if (failingFor >= warnAfter) {
      status.warning = `the collector at ${settings?.endpoint ?? '?'} has not accepted records for ${Math.round(failingFor / 60_000)} min; ${lagRecords} record(s) wait in the log and go out, in order, when it answers`;
    } else if (settings && lagRecords > 0 && this.now() - (this.lastSuccessAt ?? this.startedAt) >= warnAfter) {
      // Nothing failed, and yet nothing has gone out for that long (an answer that never ends, a stall): said all the same.
      status.warning = `nothing has gone to the collector at ${settings.endpoint} for ${Math.round((this.now() - (this.lastSuccessAt ?? this.startedAt)) / 60_000)} min; ${lagRecords} record(s) wait in the log`;
    }
    return status;
  }

  /** At a clean stop: what the log holds goes out now, when the collector is answering (the caller bounds the wait). */
  async drain(): Promise<void> {
    await this.pumping; // a request on its way first: whether it succeeds says whether the collector answers
    if (this.stopped || this.halted || this.failures > 0 || !this.options.settings()) return;
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.kick();
  }

  /** Stops sending: a request on its way is ended (its records go again next time; the cursor moves only after a whole answer). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.inFlight.abort(new Error('the gateway is stopping'));
    await this.pumping;
  }

  private schedule(ms: number): void {
    if (this.stopped || this.halted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.kick();
    }, ms);
    this.timer.unref();
  }

  /** Sends what waits, once at a time: a second caller joins the send on its way. */
  private kick(): Promise<void> {
    // Whatever goes wrong in a round is a failure to retry, said in the status: never an unhandled rejection.
    this.pumping ??= this.pump()
      .catch((err: unknown) => this.failedHere(`forwarding failed: ${(err as Error).message}`))
      .finally(() => (this.pumping = undefined));
    return this.pumping;
  }

  /** Stops for good, with the reason in the status's warning, until someone looks. */
  private halt(message: string): void {
    this.halted = message;
    this.lastError = { message, at: this.now() };
  }

  private async pump(): Promise<void> {
    while (!this.stopped) {
      const settings = this.options.settings();
      if (!settings) return;
      let records: AuditRecord[];
      try {
        records = await this.readBatch(settings.batchSize);
      } catch (err) {
        if (err instanceof ChainBroken) return this.halt(err.message);
        return this.failedHere(`the log could not be read: ${(err as Error).message}`);
      }
      if (records.length === 0) {
        const committed = this.options.committedSeq();
        if (this.cursor.seq < committed) {
          return this.failedHere(`the log's files hold no record after ${this.cursor.seq}, though the gateway committed up to ${committed}: a segment was replaced or cut while it ran. \`gatehouse verify\` says where`);
        }
        this.local = undefined;
        this.pendingSince = undefined;
        return;
      }
      const body = await encode(settings.encoding, records, this.resource);
      let result: PostResult;
      try {
        result = await (this.options.send ?? sendOver)(settings, body, this.inFlight.signal);
      } catch (err) {
        return this.failed(`${settings.endpoint}: ${(err as Error).message}`);
      }
      if (result.status < 200 || result.status >= 300) {
        const text = result.body.replace(/\s+/g, ' ').trim().slice(0, 200);
        return this.failed(`${settings.endpoint} answered ${result.status}${text ? `: ${text}` : ''}`, retryAfterMs(result.retryAfter, this.now()));
      }
      const last = records[records.length - 1] as AuditRecord;
      const next = { seq: last.seq, hash: last.hash, at: this.now() };
      try {
        await writeCursor(this.options.dataDir, next, this.options.auditKey);
      } catch (err) {
        // The collector has these records, but without the cursor they would be sent again after a restart
        // anyway: the same records, the same log.record.uid. So retried until the cursor can be written.
        return this.failedHere(`the forwarding cursor could not be written: ${(err as Error).message}`);
      }
      this.local = undefined;
      this.cursor = next;
      this.failures = 0;
      this.failingSince = undefined;
      this.lastSuccessAt = next.at;
      this.pendingSince = this.cursor.seq < this.options.committedSeq() ? Date.parse(records[records.length - 1]?.ts ?? '') || this.now() : undefined;
    }
  }

  /** A failure on this machine: retried like the collector's, and said at once. */
  private failedHere(message: string): void {
    this.local = message;
    this.failed(message);
  }

  private failed(message: string, retryAfter?: number): void {
    if (this.stopped) return;
    this.failures++;
    this.lastError = { message, at: this.now() };
    this.failingSince ??= this.now();
    // Retry-After is a floor, never a shortcut: `Retry-After: 0` (or a date gone by) does not retry in a loop.
    this.schedule(Math.max(retryAfter ?? 0, backoffMs(this.failures, this.options.random)));
  }

  /**
   * The next records after the cursor, about `max` (a batch ends where a group commit does), none past the
   * last committed one. Each record goes out only once a commit mark, made with the log's key, vouches for it
   * (every group commit ends with one): records re-hashed by someone without the key, their marks removed,
   * are vouched by nothing. The first must continue the chain from the cursor.
   */
  private async readBatch(max: number): Promise<AuditRecord[]> {
    const upTo = this.options.committedSeq();
    if (this.cursor.seq >= upTo) return [];
    if (this.position?.seq !== this.cursor.seq) this.position = this.locate();
    if (!this.position) return [];
    const out: AuditRecord[] = [];
    /** Read, checked, chained, but not yet vouched for by a commit mark. */
    let unvouched: AuditRecord[] = [];
    /** Where reading stands (it runs ahead of this.position, which moves only to a commit mark). */
    let at = { ...this.position };
    let chunk = this.options.readChunk ?? READ_CHUNK;
    reading: while (out.length < max) {
      const { segment, offset } = at;
      const fh = await open(join(this.options.auditDir, segment), 'r').catch(() => undefined);
      if (!fh) {
        // Pruned while it was read: start again from where the cursor is (locate says what was pruned).
        const again = this.locate();
        if (!again || again.segment === segment || unvouched.length > 0 || out.length > 0) break;
        this.position = again;
        at = { ...again };
        continue;
      }
      let buf: Buffer;
      let size: number;
      try {
        size = (await fh.stat()).size;
        if (size < offset) throw new ChainBroken(`${segment} is shorter (${size} bytes) than what was already read from it (${offset}): the log was cut. \`gatehouse verify\` says where`);
        const length = Math.min(chunk, size - offset);
        buf = Buffer.alloc(Math.max(0, length));
        if (length > 0) await fh.read(buf, 0, length, offset);
      } finally {
        await fh.close();
      }
      let consumed = 0;
      for (let start = 0, n = 0; start < buf.length; n++) {
        if (n > 0 && n % SLICE === 0) await yieldToCalls();
        const end = buf.indexOf(10, start);
        if (end === -1) break;
        const { record, vouched } = this.checked(buf.subarray(start, end), segment, offset + start);
        if (record.seq > upTo || (unvouched.length === 0 && out.length >= max)) break reading;
        start = end + 1;
        consumed = start;
        if (record.seq <= at.seq) continue;
        const before = unvouched.at(-1) ?? out.at(-1);
        const prevHash = before ? before.hash : this.cursor.hash;
        // After records retention pruned, the chain goes on from the anchor (made with the log's key) that says so.
        const afterPruned = before === undefined && this.pruned !== undefined && record.seq === this.pruned.to + 1;
        if (afterPruned && record.prev !== this.pruned?.hash) throw new ChainBroken(`record ${record.seq} does not continue from the anchor left where records were pruned; the log was changed: \`gatehouse verify\` says where`);
        if (prevHash !== '' && !afterPruned && record.prev !== prevHash) {
          throw new ChainBroken(`record ${record.seq} does not continue from the last forwarded record (${this.cursor.seq}); the log was changed: \`gatehouse verify\` says where`);
        }
        unvouched.push(record);
        at.seq = record.seq;
        if (vouched) {
          out.push(...unvouched);
          unvouched = [];
          this.position = { segment, offset: offset + consumed, seq: record.seq };
        } else if (record.seq === upTo) {
          throw new ChainBroken(`records ${(unvouched[0] as AuditRecord).seq}–${upTo} are vouched for by no commit mark of this log's key (${segment}): they were re-written without the key, and nothing from here on is sent. \`gatehouse verify\` says more`);
        }
      }
      at.offset = offset + consumed;
      if (consumed === 0 && buf.length > 0) {
        if (offset + buf.length >= size) break; // the rest is a line still being written: not committed yet
        chunk = Math.min(chunk * 2, size - offset); // a line longer than the chunk (one large message): read it whole
        continue;
      }
      if (at.offset < size) continue; // more of this segment: the rest of it, from the line the chunk cut
      // The end of this segment's file: on to the next segment, if the log has gone on there.
      if (at.seq >= upTo) break;
      const next = listSegments(this.options.auditDir).find((name) => name > segment);
      if (!next) break;
      at = { segment: next, offset: 0, seq: at.seq };
    }
    return out;
  }

  /** The hash of record `seq` as the log holds it; undefined when retention pruned it (nothing left to compare). */
  private async hashAt(seq: number): Promise<string | undefined> {
    const holding = listSegments(this.options.auditDir).filter((n) => (segmentFirstSeq(n) ?? Infinity) <= seq).pop();
    if (!holding) return undefined;
    const text = await readFile(join(this.options.auditDir, holding), 'utf8');
    for (const line of text.split('\n')) {
      if (!line) continue;
      const fields = lineFields(Buffer.from(line));
      if (fields?.seq === seq) return fields.hash;
    }
    return '';
  }

  /**
   * A line of the log as it may be sent: shaped like a record, its hash that of its own bytes, its commit's mac
   * made with the log's key. Anything else was edited after it was written, and is never sent as if recorded.
   */
  private checked(line: Buffer, segment: string, at: number): { record: AuditRecord; vouched: boolean } {
    const fields = lineFields(line);
    const edited = (what: string) => new ChainBroken(`${what} (${segment}, byte ${at}): the log was edited after it was written, and nothing from here on is sent. \`gatehouse verify\` says more`);
    if (!fields) throw edited('a line of the log is not a record');
    if (computeLineHash(line, fields) !== fields.hash) throw edited(`record ${fields.seq} does not match its hash`);
    if (fields.mac !== undefined && commitMac(this.options.auditKey, fields.seq, fields.hash) !== fields.mac) throw edited(`the commit at record ${fields.seq} does not carry this log's mac`);
    // What comes after the hash is no part of what the hash vouches for: a mac (checked above) and a signature
    // in hex, nothing else; and the record sent is read from the hashed body alone, so nothing put there leaves.
    if (fields.sig !== undefined && (!HEX128.test(fields.sig) || fields.mac === undefined)) throw edited(`record ${fields.seq} ends in something other than its mac and signature`);
    let record: AuditRecord;
    try {
      record = { ...parseRecord(Buffer.concat([line.subarray(0, fields.hashAt), CLOSE])), hash: fields.hash };
    } catch {
      throw edited(`record ${fields.seq} is not JSON`);
    }
    if (record.seq !== fields.seq || record.prev !== fields.prev) throw edited(`record ${fields.seq} says two things about itself`);
    return { record, vouched: fields.mac !== undefined };
  }

  /** Where the record after the cursor is: the segment whose first seq is at or before it, from its start. */
  private locate(): { segment: string; offset: number; seq: number } | undefined {
    const segments = listSegments(this.options.auditDir);
    const after = this.cursor.seq + 1;
    const holding = segments.filter((n) => (segmentFirstSeq(n) ?? Infinity) <= after).pop() ?? segments[0];
    const first = holding === undefined ? undefined : segmentFirstSeq(holding);
    if (first !== undefined && first > after) {
      // Records gone from the files are pruned only when the anchor, made with the log's key, says so: segments
      // moved or deleted by hand would otherwise be skipped, and the collector never have them.
      const anchor = readMark(join(this.options.auditDir, ANCHOR_FILE));
      const vouched = anchor !== undefined && anchor.seq === first - 1 && verifyMac(this.options.auditKey, { scope: 'anchor', segment: anchor.segment, firstSeq: anchor.firstSeq, lastSeq: anchor.seq, lastHash: anchor.hash }, anchor.mac);
      if (!vouched) throw new ChainBroken(`records ${after}–${first - 1} are not in the log's files, and no anchor of this log's key says they were pruned: segments were moved or deleted. \`gatehouse verify\` says where`);
      this.pruned = { from: after, to: first - 1, hash: anchor.hash };
    }
    return holding ? { segment: holding, offset: 0, seq: this.cursor.seq } : undefined;
  }
}

/**
 * How many records are checked or encoded between two turns of the event loop. A batch of 512 encoded at once
 * holds the loop for 15–30 ms; the calls waiting behind it would feel every batch of a backlog.
 */
const SLICE = 64;
const yieldToCalls = () => new Promise<void>((resolve) => setImmediate(resolve));
const JSON_HEAD = Buffer.from('{"resourceLogs":[');
const JSON_TAIL = Buffer.from(']}');

/**
 * One export request for `records`, encoded a slice at a time with the calls let through in between. The
 * slices join into one request: protobuf by concatenation (a repeated field's encodings append), JSON by
 * joining the slices' resourceLogs arrays.
 */
async function encode(encoding: 'protobuf' | 'json', records: AuditRecord[], resource: Resource): Promise<Uint8Array> {
  const serializer = encoding === 'json' ? JsonLogsSerializer : ProtobufLogsSerializer;
  const parts: Buffer[] = [];
  for (let i = 0; i < records.length; i += SLICE) {
    if (i > 0) await yieldToCalls();
    const body = serializer.serializeRequest(records.slice(i, i + SLICE).map((r) => toLogRecord(r, resource)));
    if (!body) throw new Error('the OTLP serializer produced nothing');
    parts.push(Buffer.from(body.buffer, body.byteOffset, body.byteLength));
  }
  if (encoding === 'protobuf' || parts.length === 1) return Buffer.concat(parts);
  const inner = parts.map((p) => {
    if (!p.subarray(0, JSON_HEAD.length).equals(JSON_HEAD) || !p.subarray(p.length - JSON_TAIL.length).equals(JSON_TAIL)) throw new Error('the OTLP JSON serializer wrote a request of another shape');
    return p.subarray(JSON_HEAD.length, p.length - JSON_TAIL.length);
  });
  return Buffer.concat([JSON_HEAD, ...inner.flatMap((p, i) => (i === 0 ? [p] : [Buffer.from(','), p])), JSON_TAIL]);
}

function sendOver(settings: ForwardingSettings, body: Uint8Array, signal: AbortSignal): Promise<PostResult> {
  return post({ endpoint: settings.endpoint, headers: settings.headers, contentType: CONTENT_TYPES[settings.encoding], tls: settings.tls, signal }, body);
}
