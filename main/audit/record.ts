import { createHash } from 'node:crypto';
import type { AuditEntry, AuditRecord } from './record-shape.js';

export type { AuditEntry, AuditRecord, RecordDirection, RecordKind } from './record-shape.js';

/** The hash before the first record of a log. */
export const GENESIS = '0'.repeat(64);

// Every line ends with these two members, in this order; verification reads them by position.
const HASH_TAIL = ',"hash":"'.length + 64 + '"}'.length; // 75
const PREV_TAIL = ',"prev":"'.length + 64 + '"'.length; // 74

/**
 * Serializes a record as its line (with the trailing newline). The members go in a fixed order, `prev`
 * last before `hash`; the hash is SHA-256 over the record's JSON without `hash`, exactly as written, so
 * anyone can check it from the line alone: drop `,"hash":"…"` and hash what is left.
 */
export function serializeRecord(entry: AuditEntry, seq: number, prev: string): { line: string; hash: string } {
  const body = JSON.stringify({
    seq,
    ts: entry.ts,
    session: entry.session,
    server: entry.server,
    principal: entry.principal,
    client: entry.client,
    direction: entry.direction,
    kind: entry.kind,
    method: entry.method,
    tool: entry.tool,
    id: entry.id,
    event: entry.event,
    payload: entry.payload,
    decision: entry.decision,
    detail: entry.detail,
    masked: entry.masked,
    prev,
  });
  const hash = createHash('sha256').update(body).digest('hex');
  return { line: `${body.slice(0, -1)},"hash":"${hash}"}\n`, hash };
}

export interface LineFields {
  seq: number;
  prev: string;
  hash: string;
}

/** Reads seq, prev and hash from a line (without its newline) by position; undefined if the line is not shaped like a record. */
export function lineFields(line: Buffer): LineFields | undefined {
  const n = line.length;
  if (n < 10 + HASH_TAIL + PREV_TAIL || line[0] !== 0x7b || line.toString('latin1', 0, 7) !== '{"seq":') return undefined;
  let seq = 0;
  let i = 7;
  for (; i < 24 && line[i]! >= 0x30 && line[i]! <= 0x39; i++) seq = seq * 10 + (line[i]! - 0x30);
  if (i === 7 || line[i] !== 0x2c) return undefined;
  if (line.toString('latin1', n - HASH_TAIL, n - HASH_TAIL + 9) !== ',"hash":"' || line[n - 2] !== 0x22 || line[n - 1] !== 0x7d) return undefined;
  const prevStart = n - HASH_TAIL - PREV_TAIL;
  if (line.toString('latin1', prevStart, prevStart + 9) !== ',"prev":"' || line[n - HASH_TAIL - 1] !== 0x22) return undefined;
  return {
    seq,
    prev: line.toString('latin1', prevStart + 9, prevStart + 9 + 64),
    hash: line.toString('latin1', n - HASH_TAIL + 9, n - 2),
  };
}

/** SHA-256 of the line without its hash member: what the stored hash must equal. */
export function computeLineHash(line: Buffer): string {
  return createHash('sha256').update(line.subarray(0, line.length - HASH_TAIL)).update('}').digest('hex');
}

export function parseRecord(line: Buffer | string): AuditRecord {
  return JSON.parse(typeof line === 'string' ? line : line.toString('utf8')) as AuditRecord;
}

/**
 * Whether a committed line is a checkpoint (it seals its segment). Read by parsing the record, never by
 * searching its text: a client's payload may hold any text, `"kind":"checkpoint"` included.
 */
export function isCheckpointLine(line: Buffer): boolean {
  try {
    return parseRecord(line).kind === 'checkpoint';
  } catch {
    return false;
  }
}
