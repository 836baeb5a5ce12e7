import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionFilter, SessionPage, SessionSummary, TimelineRecord } from '../api/types.js';
import type { AuditRecord } from './record.js';
import { lines } from './segment-files.js';

const DEFAULT_LIMIT = 200;

/** Sessions that pass the filter, newest first, one page of them. Pure (the text search comes in as a set). */
export function filterSessions(all: readonly SessionSummary[], filter: SessionFilter, textHits?: ReadonlySet<string>): SessionPage {
  const matches = all.filter(
    (s) =>
      (!filter.server || s.server === filter.server) &&
      (!filter.client || (s.client.name ?? '').toLowerCase().includes(filter.client.toLowerCase())) &&
      (!filter.tool || (s.tools ?? []).some((t) => t === filter.tool)) &&
      (!filter.principal || s.principal === filter.principal) &&
      (!filter.decision || (filter.decision === 'denied' ? (s.denied ?? 0) > 0 : filter.decision === 'approved' ? (s.approved ?? 0) > 0 : s.decisions > 0)) &&
      (filter.since === undefined || Date.parse(s.last) >= filter.since) &&
      (filter.until === undefined || Date.parse(s.first) < filter.until) &&
      (!textHits || textHits.has(s.id)),
  );
  const offset = Math.max(0, filter.offset ?? 0);
  const limit = Math.min(5000, Math.max(1, filter.limit ?? DEFAULT_LIMIT));
  return { total: matches.length, sessions: matches.slice(offset, offset + limit) };
}

/** Sessions with a record whose stored (masked) text contains `text`, case-insensitively; only the given segments are read. */
export function searchSessions(auditDir: string, segments: Iterable<string>, text: string): Set<string> {
  const needle = text.toLowerCase();
  const hits = new Set<string>();
  for (const name of segments) {
    let buf: Buffer;
    try {
      buf = readFileSync(join(auditDir, name));
    } catch {
      continue;
    }
    for (const { line } of lines(buf)) {
      const textLine = line.toString('utf8');
      if (!textLine.toLowerCase().includes(needle)) continue;
      const session = /"session":"([^"]+)"/.exec(textLine)?.[1];
      if (session) hits.add(session);
    }
  }
  return hits;
}

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
