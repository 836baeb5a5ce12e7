import { chmodSync, closeSync, fdatasyncSync, fstatSync, fsyncSync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { macClaim, verifyMac } from './checkpoint.js';
import { markMessage, publicKeyPem, signingKeyFrom, signText, type SigningKey } from './signing.js';
import { checkAgainstMarks, vouchedTail } from './startup-check.js';
import { breakIn, GENESIS, isCheckpointLine, lineFields, parseRecord, serializeRecord, type AuditEntry } from './record.js';
import { segmentsToPrune, type RetentionPolicy } from './retention.js';
import { ANCHOR_FILE, HEAD_FILE, PUBLIC_KEY_FILE, lines, listSegments, segmentFirstSeq, segmentName } from './segment-files.js';
import type { Mark } from './verify.js';

export const DEFAULT_SEGMENT_SIZE = 16 * 1024 * 1024;
/** Records taken into one write and one fsync at the most. */
const MAX_BATCH = 4096;
const HEAD_BYTES = 512;
const SYNC_WRITE_LIMIT = 64 * 1024;
/**
 * A batch of this many records or fewer, with nothing else waiting, is made durable on the main thread: an
 * fdatasync of a few hundred bytes takes ~0.2 ms, and the thread pool's round trip as long again. A larger batch
 * (many calls in flight) syncs off the main thread, so that the next batch's work goes on meanwhile.
 */
const SYNC_FLUSH_RECORDS = 2;
/**
 * A sync on the main thread that took longer than this (a disk under load, a network or USB disk) sends every
 * sync off it for SLOW_DISK_MS: the event loop (the other sessions, the UI, timeouts) does not wait on a slow disk.
 */
const SLOW_SYNC_MS = 10;
const SLOW_DISK_MS = 10_000;
const MARK_COPY_EVERY_MS = 2000;
/** How often, at most, a commit and the head mark are signed (Ed25519 costs ~50 µs, an HMAC ~7 µs). */
export const SIGN_EVERY_MS = 1000;
/** After a failed write, a new append tries the disk again at most this often. */
const RECOVER_EVERY_MS = 1000;

export interface CommittedRecord {
  seq: number;
  hash: string;
  segment: string;
  offset: number;
  length: number;
  entry: AuditEntry;
}

export interface AuditLogOptions {
  dir: string;
  key: Buffer;
  segmentSize?: number;
  now?: () => Date;
  /** recording.retention: sealed segments beyond it are pruned, leaving a signed anchor. */
  retention?: RetentionPolicy;
  /** A copy of the head mark kept outside the data directory (the desktop's settings), to catch a rollback. */
  markCopy?: MarkCopy | undefined;
  /** Sign a commit (and the head mark) at most this often; 0 signs every commit. Seals and shutdown are always signed. */
  signEvery?: number;
  /** After a failed write, how often (at most) a new append tries the disk again, ms. */
  recoverEvery?: number;
}

/** Where a copy of the head mark is kept outside the data directory, where the platform offers one. */
export interface MarkCopy {
  read(): Mark | undefined;
  write(mark: Mark): void;
}

interface Pending {
  entry: AuditEntry;
  /** This entry could not be serialized (nested too deep…): a stand-in record was written, and its caller is refused. */
  failed?: Error;
  resolve: (seq: number) => void;
  reject: (err: Error) => void;
}

/** The log failed to write: everything after is refused (fail closed) until the disk takes writes again (or, for a segment moved away, until the gateway restarts). */
export class AuditWriteError extends Error {}

/** The live segment is no longer the file at its path (moved away, removed, replaced). */
class SegmentMoved extends Error {}

/**
 * The append-only audit log. Records queue up and are written in batches, one write and one fsync per
 * batch (group commit); `append` resolves only once its record is durable. Segments roll by size and each
 * is sealed by an HMAC checkpoint record; a head mark beside them vouches for the newest record. On open,
 * a torn last line (a crash mid-write) is cut and a record says so.
 */
export class AuditLog {
  private queue: Pending[] = [];
  private flushing: Promise<void> | undefined;
  private broken: Error | undefined;
  private closed = false;
  private newestMark: Mark | undefined;
  private copyTimer: NodeJS.Timeout | undefined;
  private readonly signer: SigningKey;
  /** When the log failed to write: whether it can be tried again in place, the last try, and a try under way. */
  private recoverable = false;
  private triedAt = -Infinity;
  private recovery: Promise<void> | undefined;
  /** The time the log could not be written, until a record says so. */
  private outage: { since: Date; failure: string; cutBytes: number; refusedRecords: number } | undefined;
  /** The current segment was sealed, and the next could not be made yet. */
  private sealedUnrolled = false;
  /** The newest record on disk: where the chain goes on if a batch fails. */
  private durable = { seq: 0, prev: '' };
  /** Until when syncs stay off the main thread (a sync there was slow). */
  private slowUntil = -Infinity;
  /** The segment being written, as the file system knows it: the file at its path must stay this one. */
  private segmentFile: { dev: number; ino: number };
  /** When a commit was last signed (performance.now()), and whether the newest head mark is signed. */
  private signedAt = -Infinity;
  private headSignedAt = -Infinity;
  private signTimer: NodeJS.Timeout | undefined;
  /** Called after each batch is durable, with what it committed, in log order. */
  onCommit: ((records: CommittedRecord[]) => void) | undefined;
  /** Called after segments were pruned. */
  onPrune: ((segments: string[]) => void) | undefined;

  private constructor(
    private readonly options: Required<Omit<AuditLogOptions, 'markCopy'>> & { markCopy: MarkCopy | undefined },
    private fh: FileHandle,
    /** head.json, written in place (synchronously: 512 bytes into the page cache, no thread-pool hop). */
    private headFd: number,
    private segment: string,
    private segmentFirst: number,
    private size: number,
    private seq: number,
    private prev: string,
  ) {
    this.signer = signingKeyFrom(options.key);
    this.segmentFile = fileId(fh.fd);
  }

  static async open(options: AuditLogOptions): Promise<AuditLog> {
    const dir = options.dir;
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (process.platform !== 'win32') chmodSync(dir, 0o700);
    const opts = { segmentSize: DEFAULT_SEGMENT_SIZE, now: () => new Date(), retention: {}, markCopy: undefined, signEvery: SIGN_EVERY_MS, recoverEvery: RECOVER_EVERY_MS, ...options };
    writePublicKey(dir, options.key);

    // An anchor not made with the key is not where the log starts: nothing is deleted on its word, and the
    // start records what it found (verify keeps failing on the anchor until it is restored or removed).
    const found = readMark(join(dir, ANCHOR_FILE));
    const anchorForged = found !== undefined && !verifyMac(options.key, { scope: 'anchor', segment: found.segment, firstSeq: found.firstSeq, lastSeq: found.seq, lastHash: found.hash }, found.mac);
    const anchor = anchorForged ? undefined : found;
    let seq = anchor ? anchor.seq + 1 : 1;
    let prev = anchor ? anchor.hash : GENESIS;
    let repair: { segment: string; cutBytes: number } | undefined;
    let segment: string | undefined;

    // Segments the anchor already covers were being pruned when the process stopped: finish that.
    for (const name of listSegments(dir)) if (anchor && (segmentFirstSeq(name) as number) <= anchor.seq) rmSync(join(dir, name), { force: true });
    const segments = listSegments(dir);
    let unvouched: { segment: string; fromSeq: number; toSeq: number; count: number } | undefined;
    let lastFound: { seq: number; hash: string } | undefined;
    for (let i = segments.length - 1; i >= 0 && segment === undefined; i--) {
      const name = segments[i] as string;
      const file = join(dir, name);
      if (!statSync(file).isFile()) throw new Error(`${file} is not a regular file: restore the segment or move it away, then start again (\`gatehouse verify\` reports what is missing)`);
      const data = readFileSync(file);
      let end = data.length;
      if (end > 0 && data[end - 1] !== 10) {
        // A crash mid-write left a partial line: cut it (it was never acknowledged) and say so.
        end = data.lastIndexOf(10) + 1;
        await truncateFile(file, end);
        repair = { segment: name, cutBytes: data.length - end };
      }
      // Records after the last commit mark were never acknowledged, or were added without the key: not part of the log.
      const tail = vouchedTail(data.subarray(0, end), options.key, i > 0 && endsMarked(join(dir, segments[i - 1] as string)));
      if (tail.unvouched && tail.keepBytes < end) {
        await truncateFile(file, tail.keepBytes);
        unvouched = { segment: name, ...tail.unvouched };
        end = tail.keepBytes;
      }
      if (end === 0) {
        if (i > 0) continue; // an empty newest segment: take the chain from the one before
        segment = name;
        seq = segmentFirstSeq(name) ?? seq;
        break;
      }
      const lastStart = data.lastIndexOf(10, end - 2) + 1;
      const last = data.subarray(lastStart, end - 1);
      const fields = lineFields(last);
      if (!fields) throw new Error(`the audit log's last record in ${file} is not readable; run \`gatehouse verify\` to see where it is damaged`);
      seq = fields.seq + 1;
      prev = fields.hash;
      lastFound = { seq: fields.seq, hash: fields.hash };
      const sealed = isCheckpointLine(last);
      segment = sealed ? undefined : name;
      if (sealed) break;
    }
    // The log as found, against the head mark (and the copy kept outside the data directory, where there is one).
    const finding = checkAgainstMarks({
      key: options.key,
      head: readMark(join(dir, HEAD_FILE)),
      copy: options.markCopy?.read(),
      lastSeq: lastFound?.seq ?? seq - 1,
      lastHash: lastFound?.hash ?? prev,
      firstSeq: anchor ? anchor.seq + 1 : 1,
      hashAt: (wanted) => hashOfRecord(dir, wanted),
    });
    const name = segment ?? segmentName(seq);
    const fh = await open(join(dir, name), 'a', 0o600);
    if (!segment) await syncDir(dir);
    closeSync(openSync(join(dir, HEAD_FILE), 'a+', 0o600));
    const headFd = openSync(join(dir, HEAD_FILE), 'r+');
    const log = new AuditLog(opts, fh, headFd, name, segmentFirstSeq(name) as number, statSync(join(dir, name)).size, seq, prev);
    if (finding) {
      // Never continued silently: a break record, signed like every commit, that verify reports from now on.
      await log.append({ ts: opts.now().toISOString(), kind: 'event', event: 'break', detail: { ...finding, detectedAt: opts.now().toISOString() } });
    }
    if (anchorForged && found) {
      await log.append({
        ts: opts.now().toISOString(),
        kind: 'event',
        event: 'break',
        detail: { reason: 'anchor-forged', message: `anchor.json claims records up to ${found.seq} were pruned, but it was not made with the key: no segment was removed on its word`, expected: { seq: found.seq, hash: found.hash }, detectedAt: opts.now().toISOString() },
      });
    }
    if (unvouched) {
      await log.append({
        ts: opts.now().toISOString(),
        kind: 'event',
        event: 'repair',
        detail: { ...unvouched, reason: 'records after the last commit mark were cut: no key vouched for them (never acknowledged after a crash, or added without the key)' },
      });
    }
    await log.prune();
    if (repair) {
      await log.append({
        ts: opts.now().toISOString(),
        kind: 'event',
        event: 'repair',
        detail: { ...repair, reason: 'the last line was incomplete after a crash; it was cut (it had not been acknowledged)' },
      });
    }
    return log;
  }

  get lastSeq(): number {
    return this.seq - 1;
  }

  get currentSegment(): string {
    return this.segment;
  }

  /** Queues a record; resolves with its seq once it is durable, rejects if the log cannot be written. */
  append(entry: AuditEntry): Promise<number> {
    if (this.broken) {
      // A disk that failed may be back (room freed, remounted): tried again at most once per interval.
      if (!this.recovery && this.recoverable && performance.now() - this.triedAt >= this.options.recoverEvery) this.recovery = this.recover();
      if (!this.recovery) {
        if (this.outage) this.outage.refusedRecords++;
        return Promise.reject(this.broken);
      }
      // (Appended only if the disk took the repair: a disk that still fails refuses it, and is tried again later.)
      return this.recovery.then(() => (this.broken ? Promise.reject(this.broken) : this.append(entry)));
    }
    if (this.closed) return Promise.reject(new AuditWriteError('the audit log is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ entry, resolve, reject });
      this.flushing ??= new Promise<void>((r) => setImmediate(r)).then(() => this.flushLoop());
    });
  }

  /** Waits until everything queued so far is durable, and the head mark says so. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Flushes, marks the head durably, and closes the files. The segment stays open for the next start. */
  async close(): Promise<void> {
    // An outage not recorded yet (nothing was appended since the disk came back): recorded now, if the disk takes it.
    if (this.broken && this.recoverable && !this.closed) {
      await (this.recovery ??= this.recover());
    }
    await this.flush();
    this.closed = true;
    if (this.copyTimer) clearTimeout(this.copyTimer);
    if (this.signTimer) clearTimeout(this.signTimer);
    // Shutdown: the head mark is signed, so that everything written is vouched for by the public key.
    if (this.newestMark && this.newestMark.sig === undefined) this.writeHead(this.signMark(this.newestMark));
    this.copyMark();
    try {
      fsyncSync(this.headFd);
    } catch {
      // the mark may lag the log: start-up reads the log itself
    }
    closeQuietly(this.headFd);
    await this.fh.close().catch(() => undefined);
  }

  private async flushLoop(): Promise<void> {
    try {
      while (this.queue.length > 0 && !this.broken) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const { records, seqs } = await this.writeBatch(batch);
          for (let i = 0; i < batch.length; i++) {
            const p = batch[i] as Pending;
            if (p.failed) p.reject(new AuditWriteError(`this record could not be written (${p.failed.message}); a stand-in record says so`, { cause: p.failed }));
            else p.resolve(seqs[i] as number);
          }
          this.onCommit?.(records);
        } catch (err) {
          this.broken = new AuditWriteError(`the audit log cannot be written (${(err as Error).message}); calls are refused until this is fixed`, { cause: err });
          // (One outage until a record says it ended: a disk that fails again before then extends it.)
          this.outage ??= { since: this.options.now(), failure: (err as Error).message, cutBytes: 0, refusedRecords: 0 };
          // The chain goes on from the last record that reached the disk, not from the ones that failed.
          this.seq = this.durable.seq;
          this.prev = this.durable.prev;
          this.triedAt = performance.now();
          // A segment no longer where the log is read cannot be written again in place: that takes a restart.
          this.recoverable = !(err instanceof SegmentMoved);
          const refused = [...batch, ...this.queue.splice(0)];
          this.outage.refusedRecords += refused.length;
          for (const p of refused) p.reject(this.broken);
        }
      }
    } finally {
      this.flushing = undefined;
    }
  }

  /** Serializes a batch, rolling segments as they fill, then writes and fsyncs. Returns what was committed in seq order, checkpoints included, and each batch entry's seq. */
  private async writeBatch(batch: Pending[]): Promise<{ records: CommittedRecord[]; seqs: number[] }> {
    const records: CommittedRecord[] = [];
    const seqs: number[] = [];
    let parts: string[] = [];
    let pending = 0;
    const commit = (entry: AuditEntry, line: string, hash: string, length: number): void => {
      records.push({ seq: this.seq, hash, segment: this.segment, offset: this.size + pending, length, entry });
      parts.push(line);
      pending += length;
      this.seq++;
      this.prev = hash;
    };
    this.durable = { seq: this.seq, prev: this.prev };
    const key = this.options.key;
    // The commit is signed too when the last signature is older than the signing interval.
    const now = performance.now();
    let signs = now - this.signedAt >= this.options.signEvery;
    for (let i = 0; i < batch.length; i++) {
      const item = batch[i] as Pending;
      // The last record of each write closes its group commit with keyed evidence (a commit mark).
      const closes = i === batch.length - 1 ? key : undefined;
      let { line, hash } = this.serialize(item, closes, signs);
      const entry = item.entry;
      let length = Buffer.byteLength(line);
      if (this.size + pending > 0 && this.size + pending + length > this.options.segmentSize) {
        // A seal is always signed: every sealed segment can be checked with the public key alone.
        const checkpoint = this.checkpointEntry();
        const sealed = serializeRecord(checkpoint, this.seq, this.prev, key, this.signer);
        commit(checkpoint, sealed.line, sealed.hash, Buffer.byteLength(sealed.line));
        await this.write(parts.join(''));
        this.size += pending;
        this.durable = { seq: this.seq, prev: this.prev };
        parts = [];
        pending = 0;
        await this.roll();
        ({ line, hash } = this.serialize(item, closes, signs));
        length = Buffer.byteLength(line);
      }
      seqs.push(this.seq);
      commit(entry, line, hash, length);
    }
    await this.write(parts.join(''), batch.length <= SYNC_FLUSH_RECORDS && this.queue.length === 0 && performance.now() >= this.slowUntil);
    this.size += pending;
    if (signs) this.signedAt = now;
    signs = false;
    this.markHead();
    return { records, seqs };
  }

  /**
   * One entry's line. An entry that cannot be serialized (a message nested too deep) must not break the log for
   * everyone: it is replaced by a stand-in that says what could not be written, and only its own caller is refused.
   */
  private serialize(item: Pending, closes: Buffer | undefined, signs: boolean): { line: string; hash: string } {
    const signer = closes && signs ? this.signer : undefined;
    try {
      return serializeRecord(item.entry, this.seq, this.prev, closes, signer);
    } catch (err) {
      const e = item.entry;
      item.failed = err as Error;
      item.entry = { ts: e.ts, session: e.session, server: e.server, principal: e.principal, kind: 'event', event: 'unrecordable', detail: { kind: e.kind, direction: e.direction, method: e.method, tool: e.tool, id: e.id, reason: (err as Error).message } };
      return serializeRecord(item.entry, this.seq, this.prev, closes, signer);
    }
  }

  private checkpointEntry(): AuditEntry {
    const claim = { scope: 'segment' as const, segment: this.segment, firstSeq: this.segmentFirst, lastSeq: this.seq - 1, lastHash: this.prev };
    return { ts: this.options.now().toISOString(), kind: 'checkpoint', detail: { segment: claim.segment, firstSeq: claim.firstSeq, lastSeq: claim.lastSeq, lastHash: claim.lastHash, mac: macClaim(this.options.key, claim) } };
  }

  private async write(text: string, syncHere = false): Promise<void> {
    if (!text) return;
    // A small batch is written straight away (it only reaches the page cache); a large one off the main thread.
    // A full disk writes what fits and says how much, without an error: the rest is written, or the write fails.
    const length = Buffer.byteLength(text);
    if (text.length < SYNC_WRITE_LIMIT) {
      const written = writeSync(this.fh.fd, text);
      if (written < length) {
        const bytes = Buffer.from(text);
        for (let done = written; done < length; ) done += wrote(writeSync(this.fh.fd, bytes, done, length - done));
      }
    } else {
      const { bytesWritten } = await this.fh.write(text);
      if (bytesWritten < length) {
        const bytes = Buffer.from(text);
        for (let done = bytesWritten; done < length; ) done += wrote((await this.fh.write(bytes, done, length - done)).bytesWritten);
      }
    }
    if (syncHere && text.length < SYNC_WRITE_LIMIT) {
      const started = performance.now();
      fdatasyncSync(this.fh.fd);
      const took = performance.now() - started;
      if (took > SLOW_SYNC_MS) this.slowUntil = started + took + SLOW_DISK_MS;
    } else await this.fh.datasync();
    // Durable, but where the log is read? A segment moved away, removed or replaced while the gateway runs takes
    // what is written to it out of the log: nothing in it is acknowledged.
    const now = statSync(join(this.options.dir, this.segment), { throwIfNoEntry: false });
    if (!now || now.ino !== this.segmentFile.ino || now.dev !== this.segmentFile.dev) {
      throw new SegmentMoved(`audit/${this.segment} was ${now ? 'replaced' : 'removed'} while the gateway was running, so what was written since is not in the log; restart the gateway (\`gatehouse verify\` reports the gap)`);
    }
  }

  /**
   * After a failed write, the disk may take writes again. What the failed write left past the last acknowledged
   * record (a torn line, never acknowledged) is cut, the cut made durable, and a record says how long the log could
   * not be written; calls were refused meanwhile. If the disk still fails, the log stays refused.
   */
  private async recover(): Promise<void> {
    this.triedAt = performance.now();
    try {
      const cut = fstatSync(this.fh.fd).size - this.size;
      await this.fh.truncate(this.size);
      await this.fh.datasync();
      if (this.sealedUnrolled) await this.roll();
      const outage = this.outage as NonNullable<typeof this.outage>;
      outage.cutBytes += Math.max(0, cut);
      this.broken = undefined;
      this.append({
        ts: this.options.now().toISOString(),
        kind: 'event',
        event: 'repair',
        detail: {
          reason: 'the audit log could not be written for a while; calls were refused meanwhile (and Gatehouse\'s own error answers sent unrecorded), and it is written again',
          failure: outage.failure,
          from: outage.since.toISOString(),
          to: this.options.now().toISOString(),
          cutBytes: outage.cutBytes,
          refusedRecords: outage.refusedRecords,
        },
      }).then(
        () => {
          if (this.outage === outage) this.outage = undefined;
        },
        () => undefined,
      );
    } catch {
      // still failing: refused as before, tried again after the interval
    } finally {
      this.recovery = undefined;
    }
  }

  private async roll(): Promise<void> {
    // The new segment first: if it cannot be made (no room, no inode), the sealed one stays open and current,
    // and recovery rolls again once the disk has room.
    this.sealedUnrolled = true;
    const name = segmentName(this.seq);
    const fh = await open(join(this.options.dir, name), 'a', 0o600);
    await this.fh.close().catch(() => undefined);
    this.fh = fh;
    this.segment = name;
    this.segmentFirst = this.seq;
    this.segmentFile = fileId(fh.fd);
    this.size = 0;
    this.sealedUnrolled = false;
    await syncDir(this.options.dir);
    await this.prune();
  }

  /**
   * Applies recording.retention: removes the oldest sealed segments beyond it. First a signed anchor is
   * written for the last record removed, so that verify checks what remains from there; then the files go,
   * and a record says what was pruned.
   */
  async prune(): Promise<string[]> {
    const { retention, dir, key } = this.options;
    if (retention.maxAge === undefined && retention.maxSize === undefined) return [];
    const infos = listSegments(dir).map((name) => {
      const { bytes, last } = readLastLine(join(dir, name));
      const sealed = last !== undefined && isCheckpointLine(last);
      return { name, bytes, lastTs: sealed ? Date.parse(parseRecord(last as Buffer).ts) : Date.now(), sealed, last: last ?? Buffer.alloc(0) };
    });
    const names = segmentsToPrune(infos, retention, this.options.now().getTime());
    if (names.length === 0) return [];
    const lastPruned = infos[names.length - 1] as (typeof infos)[number];
    const fields = lineFields(lastPruned.last);
    if (!fields) throw new Error(`cannot prune: the last record of ${lastPruned.name} is not readable`);
    const claim = { scope: 'anchor' as const, segment: lastPruned.name, firstSeq: segmentFirstSeq(names[0] as string) as number, lastSeq: fields.seq, lastHash: fields.hash };
    const unsigned: Mark = { segment: claim.segment, firstSeq: claim.firstSeq, seq: claim.lastSeq, hash: claim.lastHash, mac: macClaim(key, claim) };
    const anchor: Mark = { ...unsigned, sig: signText(this.signer, markMessage('anchor', unsigned)) };
    const file = join(dir, ANCHOR_FILE);
    writeFileSync(`${file}.tmp`, JSON.stringify(anchor, null, 2) + '\n', { mode: 0o600 });
    renameSync(`${file}.tmp`, file);
    await syncDir(dir);
    // Breaks are evidence for as long as the log exists: the ones in segments about to go are written again.
    const carried = names.flatMap((name) => breaksIn(readFileSync(join(dir, name))));
    for (const name of names) rmSync(join(dir, name), { force: true });
    await syncDir(dir);
    for (const b of carried) {
      if (!b) continue;
      void this.append({ ts: this.options.now().toISOString(), kind: 'event', event: 'break', detail: { ...b.detail, carriedFrom: { seq: b.seq, ts: b.ts }, note: 'carried forward: the segment that held this break was pruned' } }).catch(() => undefined);
    }
    const bytes = infos.slice(0, names.length).reduce((sum, s) => sum + s.bytes, 0);
    this.onPrune?.(names);
    void this.append({
      ts: this.options.now().toISOString(),
      kind: 'event',
      event: 'prune',
      detail: { segments: names, bytes, throughSeq: anchor.seq, anchorHash: anchor.hash, policy: retention },
    }).catch(() => undefined);
    return names;
  }

  /** Keeps the copy of the newest head mark outside the data directory (at most every few seconds, and at close). */
  private copyMark(): void {
    this.copyTimer = undefined;
    if (this.newestMark) this.options.markCopy?.write(this.newestMark);
  }

  /**
   * The head mark: the newest durable record, with an HMAC, and an Ed25519 signature at most once per signing
   * interval (a timer signs the newest mark when traffic stops, and close signs it at shutdown). Not fsynced
   * itself: it may lag the log, never lead it.
   */
  private markHead(): void {
    let mark: Mark = {
      segment: this.segment,
      firstSeq: this.segmentFirst,
      seq: this.seq - 1,
      hash: this.prev,
      mac: macClaim(this.options.key, { scope: 'head', segment: this.segment, firstSeq: this.segmentFirst, lastSeq: this.seq - 1, lastHash: this.prev }),
    };
    const now = performance.now();
    if (now - this.headSignedAt >= this.options.signEvery) mark = this.signMark(mark, now);
    else if (!this.signTimer) {
      this.signTimer = setTimeout(() => {
        this.signTimer = undefined;
        if (!this.closed && this.newestMark && this.newestMark.sig === undefined) this.writeHead(this.signMark(this.newestMark));
      }, this.options.signEvery);
      this.signTimer.unref();
    }
    this.writeHead(mark);
  }

  private signMark(mark: Mark, now = performance.now()): Mark {
    this.headSignedAt = now;
    return { segment: mark.segment, firstSeq: mark.firstSeq, seq: mark.seq, hash: mark.hash, mac: mark.mac, sig: signText(this.signer, markMessage('head', mark)) };
  }

  private writeHead(mark: Mark): void {
    this.newestMark = mark;
    if (this.options.markCopy && !this.copyTimer) {
      this.copyTimer = setTimeout(() => this.copyMark(), MARK_COPY_EVERY_MS);
      this.copyTimer.unref();
    }
    // Written after the batch is durable, never fsynced on the way: the mark may lag the log, never lead it.
    const text = JSON.stringify(mark).padEnd(HEAD_BYTES - 1) + '\n';
    try {
      // head.json deleted while the gateway runs: write it again where verify looks, and record that it went.
      if (fstatSync(this.headFd).nlink === 0) {
        closeQuietly(this.headFd);
        this.headFd = openSync(join(this.options.dir, HEAD_FILE), 'w', 0o600);
        if (!this.closed) {
          void this.append({ ts: this.options.now().toISOString(), kind: 'event', event: 'break', detail: { reason: 'head-deleted', message: 'audit/head.json was deleted while the gateway was running; it was written again', detectedAt: this.options.now().toISOString() } }).catch(() => undefined);
        }
      }
      writeSync(this.headFd, text, 0);
    } catch {
      // A mark that cannot be written lags the log (the next batch tries again); start-up checks the log itself.
    }
  }
}

/** The break records of a segment. */
function breaksIn(data: Buffer): ReturnType<typeof breakIn>[] {
  const found: NonNullable<ReturnType<typeof breakIn>>[] = [];
  for (const { line } of lines(data)) {
    const b = breakIn(line);
    if (b) found.push(b);
  }
  return found;
}

/** Writes the log's public key beside it (PEM), for the user to hand to an auditor; rewritten if it differs. */
function writePublicKey(dir: string, key: Buffer): void {
  const pem = publicKeyPem(signingKeyFrom(key).publicKey);
  const file = join(dir, PUBLIC_KEY_FILE);
  let current: string | undefined;
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    current = undefined;
  }
  if (current !== pem) writeFileSync(file, pem, { mode: 0o600 });
}

/** The last complete line of a file, reading only its end (a checkpoint line is small). */
function readLastLine(file: string, window = 64 * 1024): { bytes: number; last: Buffer | undefined } {
  const fd = openSync(file, 'r');
  try {
    const bytes = fstatSync(fd).size;
    const length = Math.min(window, bytes);
    const buf = Buffer.alloc(length);
    readSync(fd, buf, 0, length, bytes - length);
    if (length === 0 || buf[length - 1] !== 10) return { bytes, last: undefined };
    const start = buf.lastIndexOf(10, length - 2);
    if (start === -1 && length < bytes) return { bytes, last: undefined };
    return { bytes, last: buf.subarray(start + 1, length - 1) };
  } finally {
    closeSync(fd);
  }
}

export function readMark(file: string): Mark | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (!text) return undefined;
    const mark = JSON.parse(text) as Mark;
    return typeof mark.seq === 'number' && typeof mark.hash === 'string' ? mark : undefined;
  } catch {
    return undefined;
  }
}

async function truncateFile(file: string, length: number): Promise<void> {
  const fh = await open(file, 'r+');
  try {
    await fh.truncate(length);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** Whether a segment's last record carries a commit mark (logs written before commit marks have none). */
function endsMarked(file: string): boolean {
  const { last } = readLastLine(file);
  return last !== undefined && lineFields(last)?.mac !== undefined;
}

/** The hash of record `seq`, looked up in the segment that holds it; undefined if no segment does. */
function hashOfRecord(dir: string, seq: number): string | undefined {
  const holder = listSegments(dir)
    .filter((n) => (segmentFirstSeq(n) ?? Infinity) <= seq)
    .pop();
  if (!holder) return undefined;
  for (const { line } of lines(readFileSync(join(dir, holder)))) {
    const fields = lineFields(line);
    if (fields?.seq === seq) return fields.hash;
  }
  return undefined;
}

async function syncDir(dir: string): Promise<void> {
  if (process.platform === 'win32') return;
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed, or the disk went: nothing more to do with it
  }
}

/** The bytes one write took: none is a disk that takes no more (a write that keeps writing nothing would never end). */
function wrote(bytes: number): number {
  if (bytes <= 0) throw Object.assign(new Error('the disk took no more bytes (full?)'), { code: 'ENOSPC' });
  return bytes;
}

function fileId(fd: number): { dev: number; ino: number } {
  const st = fstatSync(fd);
  return { dev: st.dev, ino: st.ino };
}
