import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SessionFilter, SessionPage, SessionSummary, TimelineRecord } from '../api/types.js';
import type { AuditRecord } from './record.js';

const DEFAULT_LIMIT = 200;

/** Sessions that pass the filter, newest first, one page of them. Pure (the text search comes in as a set). */
/** A filter on a name matches a part of it, in any case (client, tool and principal alike: `write` finds write_file). */
function holds(name: string, part: string): boolean {
  return name.toLowerCase().includes(part.toLowerCase());
}

export function filterSessions(all: readonly SessionSummary[], filter: SessionFilter, textHits?: ReadonlySet<string>): SessionPage {
  const matches = all.filter(
    (s) =>
      (!filter.id || s.id === filter.id) &&
      (!filter.server || s.server === filter.server) &&
      (!filter.client || holds(s.client.name ?? '', filter.client)) &&
      (!filter.tool || (s.tools ?? []).some((t) => holds(t, filter.tool as string))) &&
      (!filter.principal || holds(s.principal, filter.principal)) &&
      (!filter.decision || (filter.decision === 'denied' ? (s.denied ?? 0) > 0 : filter.decision === 'approved' ? (s.approved ?? 0) > 0 : s.decisions > 0)) &&
      (filter.since === undefined || Date.parse(s.last) >= filter.since) &&
      (filter.until === undefined || Date.parse(s.first) < filter.until) &&
      (!textHits || textHits.has(s.id)),
  );
  const offset = Math.max(0, filter.offset ?? 0);
  const limit = Math.min(5000, Math.max(1, filter.limit ?? DEFAULT_LIMIT));
  return { total: matches.length, sessions: matches.slice(offset, offset + limit) };
}

/**
 * Sessions with a record whose stored (masked) text contains `text`, case-insensitively; only the given
 * segments are read. Asynchronous and sliced (the gateway searches while it carries traffic): each segment is
 * read without blocking and searched a megabyte of whole lines at a time, giving way to the event loop
 * between pieces.
 */
export async function searchSessions(auditDir: string, segments: Iterable<string>, text: string, sliceMs = 4): Promise<Set<string>> {
  const needle = new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'), 'gi');
  const hits = new Set<string>();
  let since = performance.now();
  for (const name of segments) {
    let buf: Buffer;
    try {
      buf = await readFile(join(auditDir, name));
    } catch {
      continue;
    }
    since = performance.now();
    for (let start = 0; start < buf.length; ) {
      const cut = buf.indexOf(10, Math.min(buf.length - 1, start + PIECE));
      const end = cut < 0 ? buf.length : cut + 1;
      const piece = buf.toString('utf8', start, end);
      needle.lastIndex = 0;
      for (let m = needle.exec(piece); m; m = needle.exec(piece)) {
        const lineStart = piece.lastIndexOf('\n', m.index) + 1;
        const lineEnd = piece.indexOf('\n', m.index);
        const line = piece.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
        // (A term found only in the chain's own fields, `prev` and `hash`, is no hit: a search for `3fa` is not
        // for records whose hash happens to hold it.)
        const session = /"session":"([^"]+)"/.exec(line)?.[1];
        if (session && (!CHAIN_FIELDS.test(line) || matches(line.replace(CHAIN_FIELDS_ALL, ''), needle))) hits.add(session);
        needle.lastIndex = lineEnd < 0 ? piece.length : lineEnd; // the rest of the line adds nothing
      }
      start = end;
      if (performance.now() - since >= sliceMs) {
        await new Promise((r) => setImmediate(r));
        since = performance.now();
      }
    }
  }
  return hits;
}

/** The chain's fields of a stored line (`"prev":"…"`, `"hash":"…"`: hex digests), which a search does not look in. */
const CHAIN_FIELDS = /"(?:prev|hash)":"[0-9a-f]+"/;
const CHAIN_FIELDS_ALL = new RegExp(CHAIN_FIELDS.source, 'g');
/** Whether the global regex `needle` matches `text` (its own position kept). */
function matches(text: string, needle: RegExp): boolean {
  const at = needle.lastIndex;
  needle.lastIndex = 0;
  const found = needle.test(text);
  needle.lastIndex = at;
  return found;
}

/** How much of a segment is searched at once (whole lines, up to the next newline after it). */
const PIECE = 1 << 20;

export function toTimelineRecord(r: AuditRecord): TimelineRecord {
  return {
    seq: r.seq,
    ts: r.ts,
    ...(r.direction ? { direction: r.direction } : {}),
    kind: r.kind,
    ...(r.method ? { method: r.method } : {}),
    ...(r.tool ? { tool: r.tool } : {}),
    ...(r.id !== undefined ? { id: r.id } : {}),
    ...(r.event ? { event: r.event } : {}),
    ...(r.payload !== undefined ? { payload: r.payload } : {}),
    ...(r.decision !== undefined ? { decision: r.decision } : {}),
    ...(r.detail !== undefined ? { detail: r.detail } : {}),
    ...(r.masked ? { masked: true } : {}),
    hash: r.hash,
  };
}
