import { parseRecord, type AuditRecord } from './record.js';
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
 * carries the run's seq range and last hash, so the chain across the gap can still be followed (a run at the
 * end too, up to the newest record). The header carries the log's public key (a claim: an auditor checks
 * with their own copy) and the head mark with its signature.
 */
export function* exportJsonl(segments: Iterable<Buffer>, filter: ExportFilter, meta: { createdAt: string; head?: Mark | undefined; publicKey?: string | undefined }): Generator<string> {
  yield JSON.stringify({ gatehouseExport: 1, format: 'jsonl', createdAt: meta.createdAt, filter: cleanFilter(filter), publicKey: meta.publicKey, head: meta.head }) + '\n';
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
  if (omitted && started) yield JSON.stringify({ omitted }) + '\n';
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
