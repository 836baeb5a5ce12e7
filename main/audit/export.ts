import { computeLineHash, lineFields, parseRecord, type AuditRecord } from './record.js';
import { lines } from './segment-files.js';
import type { Mark } from './verify.js';

export interface ExportFilter {
  since?: number | undefined;
  until?: number | undefined;
  session?: string | undefined;
}

export const CSV_COLUMNS = ['seq', 'ts', 'session', 'server', 'principal', 'client', 'direction', 'kind', 'method', 'tool', 'event', 'payload', 'prev', 'hash'] as const;

/**
 * The lines of an export, in log order. JSONL keeps each record's line exactly as stored, so its hash can be
 * checked from the export alone; a run of records left out by the filter stands as one `omitted` line that
 * carries the run's seq range and last hash, so the chain across the gap can still be followed. The header
 * carries the head mark (checkable with the key).
 */
export function* exportJsonl(segments: Iterable<Buffer>, filter: ExportFilter, meta: { createdAt: string; head?: Mark | undefined }): Generator<string> {
  yield JSON.stringify({ gatehouseExport: 1, format: 'jsonl', createdAt: meta.createdAt, filter: cleanFilter(filter), head: meta.head }) + '\n';
  let omitted: { fromSeq: number; toSeq: number; lastHash: string } | undefined;
  let started = false;
  for (const buf of segments) {
    for (const { line } of lines(buf)) {
      const record = parseRecord(line);
      if (keep(record, filter)) {
        if (omitted && started) yield JSON.stringify({ omitted }) + '\n';
        omitted = undefined;
        started = true;
        yield line.toString('utf8') + '\n';
      } else if (started) {
        omitted = omitted ? { ...omitted, toSeq: record.seq, lastHash: record.hash } : { fromSeq: record.seq, toSeq: record.seq, lastHash: record.hash };
      }
    }
  }
}

export function* exportCsv(segments: Iterable<Buffer>, filter: ExportFilter): Generator<string> {
  yield CSV_COLUMNS.join(',') + '\n';
  for (const buf of segments) {
    for (const { line } of lines(buf)) {
      const record = parseRecord(line);
      if (!keep(record, filter)) continue;
      yield CSV_COLUMNS.map((c) => csvCell(c === 'client' ? clientText(record) : (record as unknown as Record<string, unknown>)[c])).join(',') + '\n';
    }
  }
}

export interface ExportCheck {
  ok: boolean;
  records: number;
  omittedRuns: number;
  firstSeq?: number;
  lastSeq?: number;
  lastHash?: string;
  problem?: { line: number; seq?: number; message: string };
}

/** Checks a JSONL export on its own: every record's hash, and the chain from record to record across omitted runs. */
export function checkExport(text: string): ExportCheck {
  const rows = text.split('\n').filter((l) => l.length > 0);
  const result: ExportCheck = { ok: true, records: 0, omittedRuns: 0 };
  const fail = (line: number, message: string, seq?: number): ExportCheck => ({ ...result, ok: false, problem: { line, message, ...(seq !== undefined ? { seq } : {}) } });
  const header = rows[0] ? (JSON.parse(rows[0]) as { gatehouseExport?: number }) : undefined;
  if (header?.gatehouseExport !== 1) return fail(1, 'not a Gatehouse JSONL export (the first line is not its header)');
  let expectedSeq: number | undefined;
  let prevHash: string | undefined;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] as string;
    if (row.startsWith('{"omitted"')) {
      const { omitted } = JSON.parse(row) as { omitted: { fromSeq: number; toSeq: number; lastHash: string } };
      if (expectedSeq !== undefined && omitted.fromSeq !== expectedSeq) return fail(i + 1, `omitted run starts at ${omitted.fromSeq}, expected ${expectedSeq}`);
      expectedSeq = omitted.toSeq + 1;
      prevHash = omitted.lastHash;
      result.omittedRuns++;
      continue;
    }
    const buf = Buffer.from(row);
    const fields = lineFields(buf);
    if (!fields) return fail(i + 1, 'not a well-formed record');
    if (expectedSeq !== undefined && fields.seq !== expectedSeq) return fail(i + 1, `record ${fields.seq} where ${expectedSeq} was expected (a record was removed or moved)`, fields.seq);
    if (prevHash !== undefined && fields.prev !== prevHash) return fail(i + 1, `record ${fields.seq} does not link to the record before it`, fields.seq);
    if (computeLineHash(buf) !== fields.hash) return fail(i + 1, `record ${fields.seq} was changed (its hash does not match its content)`, fields.seq);
    result.firstSeq ??= fields.seq;
    result.lastSeq = fields.seq;
    result.lastHash = fields.hash;
    result.records++;
    expectedSeq = fields.seq + 1;
    prevHash = fields.hash;
  }
  return result;
}

function keep(record: AuditRecord, filter: ExportFilter): boolean {
  if (filter.session !== undefined && record.session !== filter.session) return false;
  const t = Date.parse(record.ts);
  if (filter.since !== undefined && t < filter.since) return false;
  if (filter.until !== undefined && t >= filter.until) return false;
  return true;
}

function cleanFilter(filter: ExportFilter): Record<string, unknown> {
  return {
    ...(filter.since !== undefined ? { since: new Date(filter.since).toISOString() } : {}),
    ...(filter.until !== undefined ? { until: new Date(filter.until).toISOString() } : {}),
    ...(filter.session !== undefined ? { session: filter.session } : {}),
  };
}

function clientText(record: AuditRecord): string {
  return record.client ? `${record.client.name ?? ''} ${record.client.version ?? ''}`.trim() : '';
}

function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  const text = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  // Quote when needed; a leading =,+,-,@ is prefixed so spreadsheets do not run it as a formula.
  const safe = /^[=+\-@]/.test(text) && typeof value === 'string' ? `'${text}` : text;
  return /[",\n\r]/.test(safe) || safe !== text ? `"${safe.replace(/"/g, '""')}"` : safe;
}
