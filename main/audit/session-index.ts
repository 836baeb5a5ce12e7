import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { SessionSummary } from '../api/types.js';
import type { AuditEntry, RecordedBreak } from './record-shape.js';
import { breakIn, breakOf } from './record.js';
import { lines, listSegments } from './segment-files.js';

export type { SessionSummary };

interface IndexData {
  version: 1;
  /** Everything before this position of the log is in the index. */
  through: { segment: string; offset: number };
  sessions: Record<string, SessionSummary>;
  /** How many decisions each rule made (`(default)` for policy.default). */
  ruleHits?: Record<string, number>;
  /** Where each session's records are in segments not yet sealed, as flat [offset, length, offset, length, …] (sealed segments have a sidecar file). */
  open: Record<string, Record<string, number[]>>;
  /** Every break record in the log, oldest first (absent in indexes written before breaks were indexed). */
  breaks?: RecordedBreak[];
}

const EMPTY: IndexData = { version: 1, through: { segment: '', offset: 0 }, sessions: {}, open: {}, breaks: [] };
/** How soon after a change the index is written: soon while it is small, rarely once writing it costs (see note in schedulePersist). */
const PERSIST_DELAY_MS = 1000;
const PERSIST_DELAY_LARGE_MS = 60_000;
/** After a write of the index failed, the next attempt. */
const PERSIST_RETRY_MS = 2000;
const LARGE_INDEX_SESSIONS = 2000;

export interface IndexedRecord {
  segment: string;
  offset: number;
  length: number;
  entry: AuditEntry;
  /** The record's seq (read from the line when catching up). */
  seq?: number;
}

/**
 * The session index: per-session aggregates (lowdb, `audit/index/sessions.json`) and, per segment, where each
 * session's records are (a sidecar written when the segment is sealed). Derived data only: it can always
 * be rebuilt from the segments, and on load it catches up with whatever the log has beyond it.
 */
export class SessionIndex {
  private persistTimer: NodeJS.Timeout | undefined;
  private dirty = false;
  /** Why the index could not be written last time, until it is written again. */
  persistError: string | undefined;
  /** Why the index was rebuilt from the segments when it was loaded, if it was (the gateway records it). */
  rebuiltBecause: string | undefined;

  private constructor(
    private readonly auditDir: string,
    private readonly db: Low<IndexData>,
  ) {}

  static async load(auditDir: string, options: { persist?: boolean } = {}): Promise<SessionIndex> {
    const indexDir = join(auditDir, 'index');
    if (options.persist !== false) mkdirSync(indexDir, { recursive: true, mode: 0o700 });
    const db = new Low<IndexData>(new JSONFile(join(indexDir, 'sessions.json')), structuredClone(EMPTY));
    let rebuilt: string | undefined;
    try {
      await db.read();
    } catch (err) {
      db.data = structuredClone(EMPTY); // unreadable: rebuild from the segments
      rebuilt = `the session index could not be read (${(err as Error).message})`;
    }
    if (db.data?.version !== 1) {
      if (db.data && !rebuilt && Object.keys(db.data).length > 0) rebuilt = 'the session index had an unknown shape';
      db.data = structuredClone(EMPTY);
    }
    const index = new SessionIndex(auditDir, db);
    // An index from before breaks were indexed: find them in what it already covers (a fast scan of fixed positions).
    if (!db.data.breaks) index.scanBreaks();
    try {
      index.catchUp();
    } catch (err) {
      // It pointed at something the log no longer holds (a cut or repaired tail): start over from the segments.
      rebuilt = `the session index did not match the log (${(err as Error).message})`;
      index.db.data = structuredClone(EMPTY);
      index.catchUp();
    }
    index.rebuiltBecause = rebuilt;
    if (options.persist !== false && index.dirty) await index.persistNow();
    return index;
  }

  /** Reads the records the index has not seen yet, from the segments on disk. */
  private catchUp(): void {
    const data = this.db.data;
    const segments = listSegments(this.auditDir);
    if (data.through.segment && !segments.includes(data.through.segment)) {
      // The segment it stopped in is gone (pruned, or the log was replaced): start over.
      this.db.data = structuredClone(EMPTY);
    }
    for (const segment of segments) {
      if (this.db.data.through.segment && segment < this.db.data.through.segment) continue;
      const buf = readFileSync(join(this.auditDir, segment));
      const start = segment === this.db.data.through.segment ? this.db.data.through.offset : 0;
      if (start > buf.length) throw new Error(`it points past the end of ${segment}`);
      for (const { line, offset } of lines(buf.subarray(start))) {
        let entry: AuditEntry;
        try {
          entry = JSON.parse(line.toString('utf8')) as AuditEntry;
        } catch (err) {
          if (start > 0 && offset === 0) throw err; // resumed mid-line: the index is stale
          continue; // a damaged line is verify's to report; the index leaves it out
        }
        this.apply({ segment, offset: start + offset, length: line.length + 1, entry, seq: (entry as { seq?: number }).seq });
      }
    }
  }

  /** Adds committed records (in log order). */
  apply(record: IndexedRecord): void {
    const data = this.db.data;
    const { entry, segment } = record;
    data.through = { segment, offset: record.offset + record.length };
    this.dirty = true;
    if (entry.kind === 'event' && entry.event === 'break' && entry.session === undefined) {
      const b = breakOf(record.seq ?? 0, entry);
      (data.breaks ??= []).push({ seq: b.seq, ts: b.ts, reason: b.reason, message: b.message });
    }
    if (entry.kind === 'checkpoint') {
      this.seal(segment);
      return;
    }
    if (!entry.session) return;
    let s = data.sessions[entry.session];
    if (!s) {
      s = data.sessions[entry.session] = {
        id: entry.session,
        server: entry.server ?? '',
        client: entry.client ?? {},
        principal: entry.principal ?? '',
        first: entry.ts,
        last: entry.ts,
        records: 0,
        calls: 0,
        errors: 0,
        decisions: 0,
        denied: 0,
        approved: 0,
        masked: 0,
        tools: [],
        excluded: false,
        segments: [],
      };
    }
    s.last = entry.ts;
    s.records++;
    if (entry.client?.name && !s.client.name) s.client = entry.client;
    s.denied ??= 0;
    s.approved ??= 0;
    s.masked ??= 0;
    s.tools ??= [];
    if (entry.kind === 'request' && entry.method === 'tools/call') {
      s.calls++;
      if (entry.tool && !s.tools.includes(entry.tool)) s.tools.push(entry.tool);
    }
    if (entry.masked) s.masked++;
    if (entry.kind === 'decision') {
      const d = entry.decision as { action?: string; outcome?: string; rule?: string | null } | undefined;
      if (d?.outcome === 'deny') s.denied++;
      else if (d?.action === 'approve') s.approved++;
      const rule = d?.rule ?? '(default)';
      data.ruleHits ??= {};
      data.ruleHits[rule] = (data.ruleHits[rule] ?? 0) + 1;
    }
    if (countsAsError(entry)) s.errors++;
    if (entry.kind === 'decision') s.decisions++;
    if (entry.kind === 'event' && entry.event === 'excluded') s.excluded = true;
    // Its server put to sleep while the client is quiet, until the next request wakes it.
    if (entry.kind === 'event' && (entry.event === 'upstream-sleep' || entry.event === 'upstream-wake')) s.asleep = entry.event === 'upstream-sleep';
    if (entry.kind === 'event' && entry.event === 'session-end') s.ended = String((entry.detail as { reason?: string } | undefined)?.reason ?? 'ended');
    if (s.segments[s.segments.length - 1] !== segment) s.segments.push(segment);
    ((data.open[segment] ??= {})[entry.session] ??= []).push(record.offset, record.length);
  }

  /** A sealed segment's offsets move to its own sidecar file, written once. */
  private seal(segment: string): void {
    const offsets = this.db.data.open[segment];
    if (!offsets) return;
    const file = join(this.auditDir, 'index', `${segment}.offsets.json`);
    try {
      writeFileSync(`${file}.tmp`, JSON.stringify(offsets), { mode: 0o600 });
      renameSync(`${file}.tmp`, file);
      delete this.db.data.open[segment];
    } catch {
      // A read-only caller (the CLI) keeps them in memory.
    }
  }

  /** Pruned segments: sessions left with none are forgotten; the others keep what remains. */
  forgetSegments(names: readonly string[]): void {
    const gone = new Set(names);
    for (const [id, s] of Object.entries(this.db.data.sessions)) {
      s.segments = s.segments.filter((n) => !gone.has(n));
      if (s.segments.length === 0) delete this.db.data.sessions[id];
    }
    for (const n of names) {
      delete this.db.data.open[n];
      rmSync(join(this.auditDir, 'index', `${n}.offsets.json`), { force: true });
    }
    this.dirty = true;
    this.schedulePersist();
  }

  /** The breaks the log holds: each one an alarm the UI keeps showing. */
  breaks(): RecordedBreak[] {
    return this.db.data.breaks ?? [];
  }

  private scanBreaks(): void {
    const found: RecordedBreak[] = [];
    const through = this.db.data.through;
    for (const segment of listSegments(this.auditDir)) {
      if (!through.segment || segment > through.segment) break;
      const buf = readFileSync(join(this.auditDir, segment));
      for (const { line } of lines(segment === through.segment ? buf.subarray(0, through.offset) : buf)) {
        const b = breakIn(line);
        if (b) found.push({ seq: b.seq, ts: b.ts, reason: b.reason, message: b.message });
      }
    }
    this.db.data.breaks = found;
    this.dirty = true;
  }

  ruleHits(): Record<string, number> {
    return this.db.data.ruleHits ?? {};
  }

  list(): SessionSummary[] {
    return Object.values(this.db.data.sessions).sort((a, b) => (a.last < b.last ? 1 : a.last > b.last ? -1 : 0));
  }

  get(id: string): SessionSummary | undefined {
    return this.db.data.sessions[id];
  }

  /** A session's records in one segment as flat [offset, length, …] pairs; undefined when the index does not know them (scan instead). */
  offsets(segment: string, session: string): number[] | undefined {
    const open = this.db.data.open[segment];
    if (open) return open[session] ?? [];
    try {
      const sidecar = JSON.parse(readFileSync(join(this.auditDir, 'index', `${segment}.offsets.json`), 'utf8')) as Record<string, number[]>;
      return sidecar[session] ?? [];
    } catch {
      return undefined;
    }
  }

  /**
   * Persists soon (debounced): the index is derived, so a lost update only means a longer catch-up next time.
   * lowdb writes the whole file, which at 100,000 sessions is ~60 MB and ~0.4 s, so a large index is written
   * once a minute (and on close) rather than every second.
   */
  schedulePersist(): void {
    if (this.persistTimer) return;
    const large = Object.keys(this.db.data.sessions).length > LARGE_INDEX_SESSIONS;
    this.persistTimer = setTimeout(() => {
      this.persistTimer = undefined;
      this.persistNow().catch((err: unknown) => {
        // Derived data: a disk that refuses it (full, read-only) takes nothing else down; it is written once it can be.
        this.persistError = (err as Error).message;
        this.dirty = true;
        if (!this.persistTimer) {
          this.persistTimer = setTimeout(() => {
            this.persistTimer = undefined;
            this.schedulePersist();
          }, PERSIST_RETRY_MS);
          this.persistTimer.unref();
        }
      });
    }, large ? PERSIST_DELAY_LARGE_MS : PERSIST_DELAY_MS);
    this.persistTimer.unref();
  }

  async persistNow(): Promise<void> {
    if (this.persistTimer) clearTimeout(this.persistTimer);
    this.persistTimer = undefined;
    if (!this.dirty) return;
    this.dirty = false;
    await this.db.write();
    chmodSync(join(this.auditDir, 'index', 'sessions.json'), 0o600);
    this.persistError = undefined;
  }
}

/**
 * Whether a record is an error of its session: a JSON-RPC error (not a denial's answer, which `denied` counts:
 * counted as both, a denial was two), a tool's failure (a result with `isError: true`), or an error event.
 */
export function countsAsError(entry: AuditEntry): boolean {
  if (entry.kind === 'error') {
    // (What Gatehouse answered itself says so in its detail, where a server's own error cannot write.)
    const detail = entry.detail as { from?: unknown; outcome?: unknown } | null | undefined;
    return !(detail?.from === 'gatehouse' && detail.outcome === 'refused');
  }
  if (entry.kind === 'response') return (entry.payload as { result?: { isError?: unknown } } | null | undefined)?.result?.isError === true;
  return entry.kind === 'event' && entry.event === 'error';
}
