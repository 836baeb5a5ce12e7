import { createHash } from 'node:crypto';
import { parseRecord, type AuditRecord } from './record.js';
import { exportMessage, signText, type SigningKey } from './signing.js';
import { lines } from './segment-files.js';
import type { Mark } from './verify.js';

export interface ExportFilter {
  since?: number | undefined;
  until?: number | undefined;
  session?: string | undefined;
}

/**
 * Every field of every record kind, in record order, with what an auditor reads of a decision spelled out in
 * columns of its own (action asked, outcome, rule, reason, approver); `decision` and `detail` hold the whole
 * object as JSON. The integrity fields close each row, so that a row can be matched with the JSONL export.
 */
export const CSV_COLUMNS = ['seq', 'ts', 'session', 'server', 'principal', 'client', 'direction', 'kind', 'method', 'tool', 'id', 'event', 'action', 'outcome', 'rule', 'reason', 'approver', 'decision', 'detail', 'masked', 'payload', 'prev', 'hash', 'commit', 'signed', 'mac', 'sig'] as const;
const DECISION_COLUMNS = new Set(['action', 'outcome', 'rule', 'reason', 'approver']);

/**
 * The lines of an export, in log order. JSONL keeps each record's line exactly as stored, so its hash can be
 * checked from the export alone; a run of records left out by the filter stands as one `omitted` line that
 * carries the run's seq range and last hash, so the chain across the gap can still be followed (a run at the
 * end too, up to the newest record). The header carries the log's public key (a claim: an auditor checks
 * with their own copy) and the head mark with its signature. With `signer` (the exporter holds the key and has
 * verified the log up to `throughSeq`), a last line signs the SHA-256 of everything before it: every record of
 * the export is then vouched for, omitted runs included, which in-log signatures alone cannot do for a filter.
 */
export function* exportJsonl(segments: Iterable<Buffer>, filter: ExportFilter, meta: ExportMeta, counts: { records: number } = { records: 0 }): Generator<string> {
  const digest = createHash('sha256');
  const emit = (text: string): string => {
    digest.update(text);
    return text;
  };
  yield emit(JSON.stringify({ gatehouseExport: 1, format: 'jsonl', createdAt: meta.createdAt, filter: cleanFilter(filter), publicKey: meta.publicKey, head: meta.head, anchor: meta.anchor }) + '\n');
  let omitted: { fromSeq: number; toSeq: number; lastHash: string } | undefined;
  // The export covers the log from its first record: records before the first one kept stand as an omitted run too.
  const through = meta.throughSeq ?? Infinity;
  outer: for (const buf of segments) {
    for (const { line } of lines(buf)) {
      const record = parseRecord(line);
      if (record.seq > through) break outer;
      if (keep(record, filter) || isBreak(record)) {
        if (omitted) yield emit(JSON.stringify({ omitted }) + '\n');
        omitted = undefined;
        counts.records++;
        yield emit(line.toString('utf8') + '\n');
      } else {
        omitted = omitted ? { ...omitted, toSeq: record.seq, lastHash: record.hash } : { fromSeq: record.seq, toSeq: record.seq, lastHash: record.hash };
      }
    }
  }
  if (omitted) yield emit(JSON.stringify({ omitted }) + '\n');
  if (meta.signer) {
    const sha256 = digest.digest('hex');
    yield JSON.stringify({ exportSignature: { sha256, sig: signText(meta.signer, exportMessage(sha256)) } }) + '\n';
  }
}

export interface ExportMeta {
  createdAt: string;
  head?: Mark | undefined;
  /** The log's public key (hex), named in the header. */
  publicKey?: string | undefined;
  /** Signs the export: only given when the exporter has verified the log with the key. */
  signer?: SigningKey | undefined;
  /** Where the log starts after pruning: the first record's `prev` is its hash. */
  anchor?: Mark | undefined;
  /** The last record the exporter verified: nothing after it is exported. */
  throughSeq?: number | undefined;
}

export function* exportCsv(segments: Iterable<Buffer>, filter: ExportFilter, counts: { records: number } = { records: 0 }): Generator<string> {
  yield CSV_COLUMNS.join(',') + '\n';
  for (const buf of segments) {
    for (const { line } of lines(buf)) {
      const record = parseRecord(line);
      if (!keep(record, filter) && !isBreak(record)) continue;
      counts.records++;
      const fields = record as unknown as Record<string, unknown>;
      const decision = (record.decision !== null && typeof record.decision === 'object' ? record.decision : {}) as Record<string, unknown>;
      yield CSV_COLUMNS.map((c) => csvCell(c === 'client' ? clientText(record) : DECISION_COLUMNS.has(c) ? decision[c] : fields[c])).join(',') + '\n';
    }
  }
}

/** A break the gateway recorded: part of every export, whatever the filter, so that it keeps failing wherever it is checked. */
function isBreak(record: AuditRecord): boolean {
  return record.kind === 'event' && record.event === 'break' && record.session === undefined;
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
