import { verifyMac } from './checkpoint.js';
import { commitMac, computeLineHash, isCommitLine, lineFields, type LineFields } from './record.js';
import { lines } from './segment-files.js';
import type { Mark } from './verify.js';

/** Where the log's vouched part ends in its newest segment, and what lies beyond (never acknowledged, or added without the key). */
export interface VouchedTail {
  /** Bytes of the segment up to and including the last record the key vouches for. */
  keepBytes: number;
  /** The last vouched record, or undefined when the segment holds none. */
  last: LineFields | undefined;
  /** Complete records after it, which no commit mark vouches for. */
  unvouched: { fromSeq: number; toSeq: number; count: number } | undefined;
  /** Whether the log has commit marks at all (logs written before them are vouched by the head mark only). */
  marked: boolean;
}

/**
 * Reads the newest segment's records (complete lines only) and finds the last one a valid commit mark
 * vouches for. Records after it were never acknowledged (a crash mid-write) or were added by someone without
 * the key; either way they are not part of the log. Pure over the bytes.
 */
export function vouchedTail(data: Buffer, key: Buffer, earlierMarked: boolean): VouchedTail {
  let keepBytes = 0;
  let last: LineFields | undefined;
  let lastAny: LineFields | undefined;
  let after: LineFields[] = [];
  let marked = earlierMarked;
  for (const { line, offset } of lines(data)) {
    const fields = lineFields(line);
    if (!fields) break; // verify names a malformed line; the start keeps what it can vouch for
    lastAny = fields;
    const commit = isCommitLine(line, fields) && fields.mac !== undefined && fields.mac === commitMac(key, fields.seq, fields.hash) && computeLineHash(line, fields) === fields.hash;
    if (commit) {
      marked = true;
      keepBytes = offset + line.length + 1;
      last = fields;
      after = [];
    } else after.push(fields);
  }
  if (!marked) return { keepBytes: data.lastIndexOf(10) + 1, last: lastAny, unvouched: undefined, marked };
  const first = after[0];
  const end = after[after.length - 1];
  return { keepBytes, last, unvouched: first && end ? { fromSeq: first.seq, toSeq: end.seq, count: after.length } : undefined, marked };
}

/** What a start found wrong against the head mark: recorded as a break that verify reports for as long as the log exists. */
export interface BreakFinding {
  reason: 'head-missing' | 'head-forged' | 'tail-cut' | 'rewritten' | 'rolled-back';
  message: string;
  expected?: { seq: number; hash: string } | undefined;
  found: { lastSeq: number; lastHash: string };
}

/**
 * Compares the log as found with the head mark (and, where the platform keeps one, a copy of the mark kept
 * outside the data directory). Pure: `hashAt` looks up the hash of a record by seq in the log as found.
 */
export function checkAgainstMarks(o: {
  key: Buffer;
  head: Mark | undefined;
  copy: Mark | undefined;
  lastSeq: number;
  lastHash: string;
  firstSeq: number;
  hashAt: (seq: number) => string | undefined;
}): BreakFinding | undefined {
  const found = { lastSeq: o.lastSeq, lastHash: o.lastHash };
  const empty = o.lastSeq < o.firstSeq;
  const valid = (m: Mark | undefined, scope: 'head') => m !== undefined && verifyMac(o.key, { scope, segment: m.segment, firstSeq: m.firstSeq, lastSeq: m.seq, lastHash: m.hash }, m.mac);
  if (o.head && !valid(o.head, 'head')) {
    return { reason: 'head-forged', message: 'the head mark was not made with the key (edited or replaced)', expected: { seq: o.head.seq, hash: o.head.hash }, found };
  }
  if (!o.head && !empty) return { reason: 'head-missing', message: `the head mark is missing, but the log holds records up to ${o.lastSeq}: it was deleted or emptied`, found };
  const newest = [o.head, o.copy && valid(o.copy, 'head') ? o.copy : undefined].filter((m): m is Mark => m !== undefined).sort((a, b) => b.seq - a.seq)[0];
  if (!newest) return undefined;
  if (newest.seq > o.lastSeq) {
    const rolledBack = newest !== o.head;
    return {
      reason: rolledBack ? 'rolled-back' : 'tail-cut',
      message: rolledBack
        ? `the log and its head mark end at record ${o.lastSeq}, but the copy of the mark kept outside the data directory vouches for record ${newest.seq}: the log was rolled back`
        : `the log ends at record ${o.lastSeq}, but the head mark vouches for record ${newest.seq}: records ${o.lastSeq + 1}–${newest.seq} were removed`,
      expected: { seq: newest.seq, hash: newest.hash },
      found,
    };
  }
  const atMark = o.hashAt(newest.seq);
  if (atMark !== undefined && atMark !== newest.hash) {
    return { reason: 'rewritten', message: `record ${newest.seq} is not the record the head mark vouches for: the log was rewritten`, expected: { seq: newest.seq, hash: newest.hash }, found };
  }
  return undefined;
}
