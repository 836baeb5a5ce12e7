import { createHash, createHmac, hash as oneShotHash } from 'node:crypto';
import type { AuditEntry, AuditRecord, RecordedBreak } from './record-shape.js';
import { recordMessage, signText, type SigningKey } from './signing.js';

export type { AuditEntry, AuditRecord, RecordDirection, RecordKind } from './record-shape.js';

/** The hash before the first record of a log. */
export const GENESIS = '0'.repeat(64);

// Every line ends with `"prev":"<64 hex>"` then `"hash":"<64 hex>"`, and the last record of each group
// commit also with `"mac":"<64 hex>"`, and a signed one then with `"sig":"<128 hex>"`; verification reads them
// by position from the end of the line.
const SIG_MEMBER = ',"sig":"'.length + 128 + '"'.length; // 137
const HASH_MEMBER = ',"hash":"'.length + 64 + '"'.length; // 74
const MAC_MEMBER = ',"mac":"'.length + 64 + '"'.length; // 73
const PREV_MEMBER = ',"prev":"'.length + 64 + '"'.length; // 74

const SIG_KEY = Buffer.from(',"sig":"');
const MAC_KEY = Buffer.from(',"mac":"');
const HASH_KEY = Buffer.from(',"hash":"');
const PREV_KEY = Buffer.from(',"prev":"');

/**
 * Whether `marker` stands at `offset` in `line`. A plain loop: the markers are a few bytes, and the hot path of
 * verify calls this several times a line, where Buffer.compare's call into C++ costs more than the comparison.
 */
function at(line: Buffer, offset: number, marker: Buffer): boolean {
  if (offset < 0 || offset + marker.length > line.length) return false;
  for (let i = 0; i < marker.length; i++) if (line[offset + i] !== marker[i]) return false;
  return true;
}

/** The keyed evidence of a group commit: HMAC-SHA256 over its last record's seq and hash. */
export function commitMac(key: Buffer, seq: number, hash: string): string {
  return createHmac('sha256', key).update(`gatehouse-commit-v1|${seq}|${hash}`).digest('hex');
}

/**
 * Serializes a record as its line (with the trailing newline). The members go in a fixed order, `prev`
 * last before `hash`; the hash is SHA-256 over the record's JSON without `hash` (and `mac`), exactly as
 * written, so anyone can check it from the line alone: drop `,"hash":"…"` and what follows, close the
 * object, and hash that. With `commitKey` the record closes a group commit: its body says `"commit":true`
 * (hashed, so the mark cannot be dropped) and the line carries `"mac"`, keyed evidence that the key's holder
 * wrote everything up to here. With `signer` too, the commit is also signed: the body says `"signed":true` and
 * the line ends with `"sig"`, an Ed25519 signature over the record's seq and hash that a public key checks.
 */
export function serializeRecord(entry: AuditEntry, seq: number, prev: string, commitKey?: Buffer, signer?: SigningKey): { line: string; hash: string } {
  const signs = commitKey !== undefined && signer !== undefined;
  const body = JSON.stringify({
    seq,
    ts: entry.ts,
    session: entry.session,
    server: entry.server,
    principal: entry.principal,
    groups: entry.groups,
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
    commit: commitKey ? true : undefined,
    signed: signs ? true : undefined,
    prev,
  });
  const hash = oneShotHash('sha256', body, 'hex'); // one call, no hash object: ~2 µs less a record than createHash
  const mac = commitKey ? `,"mac":"${commitMac(commitKey, seq, hash)}"` : '';
  const sig = signs ? `,"sig":"${signText(signer, recordMessage(seq, hash))}"` : '';
  return { line: `${body.slice(0, -1)},"hash":"${hash}"${mac}${sig}}\n`, hash };
}

export interface LineFields {
  seq: number;
  prev: string;
  hash: string;
  /** Present on the last record of a group commit. */
  mac?: string | undefined;
  /** Present on a signed commit: Ed25519 over `gatehouse-sign-v1|record|seq|hash`. */
  sig?: string | undefined;
  /** Where the hash member starts: the line's hashed body is what comes before it, closed with `}`. */
  hashAt: number;
}

/** Reads seq, prev, hash (and mac) from a line (without its newline) by position; undefined if the line is not shaped like a record. */
export function lineFields(line: Buffer): LineFields | undefined {
  const n = line.length;
  if (n < 10 + HASH_MEMBER + PREV_MEMBER + 1 || line[0] !== 0x7b || line.toString('latin1', 0, 7) !== '{"seq":') return undefined;
  let seq = 0;
  let i = 7;
  for (; i < 24 && line[i]! >= 0x30 && line[i]! <= 0x39; i++) seq = seq * 10 + (line[i]! - 0x30);
  if (i === 7 || line[i] !== 0x2c || line[n - 1] !== 0x7d) return undefined;
  let end = n - 1; // the closing brace
  let mac: string | undefined;
  let sig: string | undefined;
  if (n > SIG_MEMBER + MAC_MEMBER + HASH_MEMBER + PREV_MEMBER && at(line, end - SIG_MEMBER, SIG_KEY) && line[end - 1] === 0x22) {
    sig = line.toString('latin1', end - SIG_MEMBER + 8, end - 1);
    end -= SIG_MEMBER;
  }
  if (n > MAC_MEMBER + HASH_MEMBER + PREV_MEMBER && at(line, end - MAC_MEMBER, MAC_KEY) && line[end - 1] === 0x22) {
    mac = line.toString('latin1', end - MAC_MEMBER + 8, end - 1);
    end -= MAC_MEMBER;
  }
  const hashAt = end - HASH_MEMBER;
  if (!at(line, hashAt, HASH_KEY) || line[end - 1] !== 0x22) return undefined;
  const prevStart = hashAt - PREV_MEMBER;
  if (!at(line, prevStart, PREV_KEY) || line[hashAt - 1] !== 0x22) return undefined;
  return {
    seq,
    prev: line.toString('latin1', prevStart + 9, prevStart + 9 + 64),
    hash: line.toString('latin1', hashAt + 9, hashAt + 9 + 64),
    mac,
    sig,
    hashAt,
  };
}

/**
 * SHA-256 of the line without its hash (and mac, sig) members, closed with `}`: what the stored hash must
 * equal. The comma that opens the hash member stands where that brace goes, so it is swapped in for the one
 * hash call and put back (no copy of the line, no hash object).
 */
export function computeLineHash(line: Buffer, fields: Pick<LineFields, 'hashAt'> | undefined = lineFields(line)): string {
  const end = fields?.hashAt ?? line.length - HASH_MEMBER - 1;
  if (end < 0 || end >= line.length) return createHash('sha256').update(line.subarray(0, Math.max(end, 0))).update('}').digest('hex');
  const saved = line[end] as number;
  line[end] = 0x7d;
  try {
    return oneShotHash('sha256', line.subarray(0, end + 1), 'hex');
  } finally {
    line[end] = saved;
  }
}

const COMMIT_MEMBER = Buffer.from(',"commit":true');
const SIGNED_MEMBER = Buffer.from(',"signed":true');

/** What a line's body says about its commit: whether it closes one (`"commit":true`), and whether that commit is signed (`"signed":true`, just before `prev`). */
export function commitOf(line: Buffer, fields: Pick<LineFields, 'hashAt'>): { commit: boolean; signed: boolean } {
  let end = fields.hashAt - PREV_MEMBER;
  const signed = at(line, end - SIGNED_MEMBER.length, SIGNED_MEMBER);
  if (signed) end -= SIGNED_MEMBER.length;
  const commit = at(line, end - COMMIT_MEMBER.length, COMMIT_MEMBER);
  return { commit, signed: signed && commit };
}

/** Whether a line's body says it closes a group commit. */
export function isCommitLine(line: Buffer, fields: Pick<LineFields, 'hashAt'>): boolean {
  return commitOf(line, fields).commit;
}

const BREAK_START = Buffer.from(',"kind":"event","event":"break"');

/**
 * Whether a line may be a break record. The gateway writes those itself, with no session, server or client,
 * so they begin `{"seq":N,"ts":"<24-character time>","kind":"event","event":"break"`: a fixed place to look
 * (a payload cannot stand there). Only a prefilter: the parsed record decides.
 */
export function mayBeBreak(line: Buffer): boolean {
  let i = 7; // after {"seq":
  while (i < 24 && line[i]! >= 0x30 && line[i]! <= 0x39) i++;
  return at(line, i + ',"ts":"'.length + 24 + 1, BREAK_START);
}

/** A break record as verify, exports and the index report it, from the record's parsed fields. */
export function breakOf(seq: number, entry: Pick<AuditEntry, 'ts' | 'detail'>): RecordedBreak & { detail: Record<string, unknown> } {
  const detail = entry.detail !== null && typeof entry.detail === 'object' ? (entry.detail as Record<string, unknown>) : { detail: entry.detail };
  return { seq, ts: entry.ts, reason: String(detail.reason ?? 'unknown'), message: String(detail.message ?? ''), detail };
}

/** The break a line records, if it is one: found by its fixed start, confirmed by parsing (a line that does not parse is none). */
export function breakIn(line: Buffer): ReturnType<typeof breakOf> | undefined {
  if (!mayBeBreak(line)) return undefined;
  try {
    const r = parseRecord(line);
    return r.kind === 'event' && r.event === 'break' ? breakOf(r.seq, r) : undefined;
  } catch {
    return undefined;
  }
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
