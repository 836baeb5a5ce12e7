import type { KeyObject } from 'node:crypto';
import { verifyMac } from './checkpoint.js';
import { breakIn, commitMac, commitOf, computeLineHash, GENESIS, isCheckpointLine, lineFields, parseRecord } from './record.js';
import { markMessage, recordMessage, signingKeyFrom, verifyText } from './signing.js';
import { lines, segmentFirstSeq } from './segment-files.js';

export type ProblemReason =
  | 'malformed'
  | 'hash-mismatch'
  | 'chain-break'
  | 'gap'
  | 'reorder'
  | 'missing-segment'
  | 'missing-checkpoint'
  | 'bad-checkpoint'
  | 'torn'
  | 'truncated'
  | 'bad-head'
  | 'bad-anchor'
  | 'missing-head'
  | 'bad-commit'
  | 'unvouched'
  | 'bad-signature'
  | 'unsigned'
  | 'break-recorded';

/** The first thing found wrong, and where. */
export interface ChainProblem {
  segment: string;
  /** The seq the record carries (or, for a missing one, the seq that was expected). */
  seq: number | undefined;
  /** 1-based line number in the segment; 0 when the problem is the segment or the log as a whole. */
  line: number;
  reason: ProblemReason;
  message: string;
}

/** Marks kept beside the segments: the newest committed record, and what pruning left behind. */
export interface Mark {
  segment: string;
  firstSeq: number;
  seq: number;
  hash: string;
  mac: string;
  /** Ed25519 over the mark (`markMessage`): written on a short timer and at shutdown; checkable with the public key alone. */
  sig?: string | undefined;
}

export interface VerifyOptions {
  /** Without the key, hashes and order are checked but checkpoints cannot be. */
  key?: Buffer | undefined;
  /** The log's Ed25519 public key: checks the signatures with no secret (derived from `key` when that is given). */
  publicKey?: KeyObject | undefined;
  head?: Mark | undefined;
  anchor?: Mark | undefined;
  onProgress?: (bytesDone: number) => void;
  /** A gateway is writing this log right now: records past the last commit mark may be a batch being written. */
  live?: boolean | undefined;
}

import type { RecordedBreak } from './record-shape.js';

export type { RecordedBreak };

export interface VerifyReport {
  ok: boolean;
  segments: number;
  records: number;
  bytes: number;
  lastSeq: number;
  lastHash: string;
  checkpointsChecked: number;
  keyUsed: boolean;
  /** Signatures checked with the public key (records, and the head mark and anchor). */
  signaturesChecked: number;
  /** The last record a signature vouches for (0 when none does, or signatures were not checked). */
  signedThrough: number;
  /** The newest segment ends in an incomplete line no acknowledgement covers: a write in progress, or a crash the next start repairs. */
  incompleteTail?: boolean;
  /** Records past the last commit mark in a live log (a batch being written). */
  unvouchedTail?: { fromSeq: number; toSeq: number };
  /** Every break a gateway recorded, oldest first: each keeps verify failing for as long as the log exists. */
  breaks: RecordedBreak[];
  problem?: ChainProblem;
}

/** Where the segments come from: their names, oldest first, and a way to read one (read lazily, one at a time). */
export interface SegmentSource {
  names: readonly string[];
  read(name: string): Buffer;
}

/** Where the segments come from, read without blocking (a gateway verifies while it carries traffic). */
export interface AsyncSegmentSource {
  names: readonly string[];
  read(name: string): Promise<Buffer>;
}

/** What the verification asks of whoever runs it: a segment's bytes, or a moment to let other work run. */
type VerifyStep = { read: string } | { pause: true };
const PAUSE: VerifyStep = { pause: true };

/**
 * Verifies a log, segment by segment, oldest first: each record's hash over its own line, the chain of
 * `prev` links, consecutive seq numbers, segment boundaries, sealed segments' HMAC checkpoints, the anchor
 * left by pruning, and the head mark (which catches a truncated tail). Pure over the bytes it is given;
 * stops at the first problem.
 */
export function verifyLog(source: SegmentSource, options: VerifyOptions = {}): VerifyReport {
  const steps = verifySteps(source.names, options);
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    step = steps.next('read' in step.value ? source.read(step.value.read) : undefined);
  }
}

/**
 * The same verification, for a process that carries traffic meanwhile: segments are read asynchronously and
 * the work gives way to the event loop every few milliseconds, so that no message waits behind a 1 GB verify.
 */
export async function verifyLogAsync(source: AsyncSegmentSource, options: VerifyOptions = {}, sliceMs = 4): Promise<VerifyReport> {
  const steps = verifySteps(source.names, options);
  let since = performance.now();
  for (let step = steps.next(); ; ) {
    if (step.done) return step.value;
    if ('read' in step.value) {
      step = steps.next(await source.read(step.value.read));
      since = performance.now();
      continue;
    }
    if (performance.now() - since >= sliceMs) {
      await new Promise((r) => setImmediate(r));
      since = performance.now();
    }
    step = steps.next(undefined);
  }
}

function* verifySteps(names: readonly string[], options: VerifyOptions): Generator<VerifyStep, VerifyReport, Buffer | undefined> {
  const { key, head, anchor } = options;
  const publicKey = options.publicKey ?? (key ? signingKeyFrom(key).publicKey : undefined);
  let expectedSeq = anchor ? anchor.seq + 1 : 1;
  let prevHash = anchor ? anchor.hash : GENESIS;
  const report: VerifyReport = {
    ok: true,
    segments: 0,
    records: 0,
    bytes: 0,
    lastSeq: expectedSeq - 1,
    lastHash: prevHash,
    checkpointsChecked: 0,
    keyUsed: Boolean(key),
    signaturesChecked: 0,
    signedThrough: 0,
    breaks: [],
  };
  // Commit marks: once the log has them, every record must be vouched for by one at or after it.
  let marked = false;
  let vouchedThrough = expectedSeq - 1;
  const fail = (problem: ChainProblem): VerifyReport => ({ ...report, ok: false, problem, lastSeq: expectedSeq - 1, lastHash: prevHash });

  if (anchor && key && !verifyMac(key, { scope: 'anchor', segment: anchor.segment, firstSeq: anchor.firstSeq, lastSeq: anchor.seq, lastHash: anchor.hash }, anchor.mac)) {
    return fail({ segment: 'anchor.json', seq: anchor.seq, line: 0, reason: 'bad-anchor', message: 'the pruning anchor does not match its checkpoint (edited, or made without the key)' });
  }
  if (anchor && publicKey && (anchor.sig !== undefined || !key)) {
    // With the public key alone, only a signed anchor says where the pruned log starts.
    if (!verifyText(publicKey, markMessage('anchor', anchor), anchor.sig)) {
      return fail({ segment: 'anchor.json', seq: anchor.seq, line: 0, reason: 'bad-anchor', message: anchor.sig === undefined ? 'the pruning anchor is not signed: with the public key alone, where the log starts cannot be checked (the oldest segments may have been removed)' : 'the pruning anchor carries a signature the public key does not verify (edited, or signed by another key)' });
    }
    report.signaturesChecked++;
    report.signedThrough = anchor.seq;
  }

  let headSeen = false;
  // Segments an anchor already covers were being pruned when the gateway stopped; they are not part of the log.
  const all = anchor ? names.filter((n) => (segmentFirstSeq(n) ?? 0) > anchor.seq) : names;
  for (let s = 0; s < all.length; s++) {
    const name = all[s] as string;
    const data = (yield { read: name }) as Buffer;
    const isLast = s === all.length - 1;
    report.segments++;
    const named = segmentFirstSeq(name);
    if (named !== expectedSeq) {
      const missing = named !== undefined && named > expectedSeq;
      return fail({
        segment: name,
        seq: expectedSeq,
        line: 0,
        reason: missing ? 'missing-segment' : 'reorder',
        message: missing
          ? `records ${expectedSeq}–${(named as number) - 1} are missing: a segment before ${name} was removed`
          : `segment ${name} does not continue the log at seq ${expectedSeq}`,
      });
    }
    let lineNo = 0;
    let lastLine: Buffer | undefined;
    let lastLineNo = 0;
    const iter = lines(data);
    let torn: Buffer | undefined;
    const buffered: { line: Buffer; offset: number }[] = [];
    const next = (): { line: Buffer; offset: number } | undefined => {
      if (buffered.length) return buffered.shift();
      const r = iter.next();
      if (r.done) {
        torn = r.value;
        return undefined;
      }
      return r.value;
    };
    for (let item = next(); item; item = next()) {
      lineNo++;
      const { line } = item;
      const fields = lineFields(line);
      if (!fields) return fail({ segment: name, seq: undefined, line: lineNo, reason: 'malformed', message: `line ${lineNo} is not a well-formed record` });
      if (fields.seq !== expectedSeq) {
        if (fields.seq > expectedSeq) {
          // Out of order, or missing? Look at the next line: if it carries the expected seq, lines were swapped.
          const peek = next();
          if (peek) buffered.push(peek);
          const peekSeq = peek ? lineFields(peek.line)?.seq : undefined;
          if (peekSeq === expectedSeq) {
            return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'reorder', message: `record ${fields.seq} stands before record ${expectedSeq}` });
          }
          return fail({ segment: name, seq: expectedSeq, line: lineNo, reason: 'gap', message: `record${fields.seq - expectedSeq > 1 ? `s ${expectedSeq}–${fields.seq - 1} are` : ` ${expectedSeq} is`} missing before line ${lineNo}` });
        }
        return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'reorder', message: `record ${fields.seq} appears again or out of order where ${expectedSeq} was expected` });
      }
      if (fields.prev !== prevHash) {
        return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'chain-break', message: `record ${fields.seq} does not link to the record before it (prev differs)` });
      }
      if (computeLineHash(line, fields) !== fields.hash) {
        return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'hash-mismatch', message: `record ${fields.seq} was changed after it was written (its hash does not match its content)` });
      }
      const { commit, signed } = commitOf(line, fields);
      if (commit !== (fields.mac !== undefined)) {
        return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'bad-commit', message: `record ${fields.seq} ${commit ? 'closes a commit but its evidence was removed' : 'carries commit evidence it was not written with'}` });
      }
      if (signed !== (fields.sig !== undefined)) {
        return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'bad-signature', message: `record ${fields.seq} ${signed ? 'was signed but its signature was removed' : 'carries a signature it was not written with'}` });
      }
      if (signed && publicKey) {
        if (!verifyText(publicKey, recordMessage(fields.seq, fields.hash), fields.sig)) {
          return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'bad-signature', message: `record ${fields.seq} carries a signature the public key does not verify (made without the signing key, or by another one)` });
        }
        report.signaturesChecked++;
        report.signedThrough = fields.seq;
      }
      if (commit) {
        if (key && fields.mac !== commitMac(key, fields.seq, fields.hash)) {
          return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'bad-commit', message: `record ${fields.seq} carries commit evidence not made with the key (records were added without it)` });
        }
        marked = true;
        vouchedThrough = fields.seq;
      }
      // Breaks are found by parsing: the text only narrows the search (a payload may hold the same words).
      const recordedBreak = breakIn(line);
      if (recordedBreak) report.breaks.push({ seq: recordedBreak.seq, ts: recordedBreak.ts, reason: recordedBreak.reason, message: recordedBreak.message });
      if (head && fields.seq === head.seq) {
        headSeen = true;
        if (fields.hash !== head.hash) {
          return fail({ segment: name, seq: fields.seq, line: lineNo, reason: 'bad-head', message: `record ${fields.seq} is not the record the head mark vouches for (the chain was rewritten)` });
        }
      }
      prevHash = fields.hash;
      expectedSeq++;
      report.records++;
      lastLine = line;
      lastLineNo = lineNo;
      if ((report.records & 255) === 0) yield PAUSE;
    }
    if (torn && isLast && head && headSeen) {
      // Beyond the head mark: never acknowledged, so not evidence of tampering.
      report.incompleteTail = true;
    } else if (torn) {
      return fail({ segment: name, seq: expectedSeq, line: lineNo + 1, reason: 'torn', message: `the last line of ${name} is incomplete (a crash mid-write, or a cut): start Gatehouse to repair a crash` });
    }
    report.bytes += data.length;
    options.onProgress?.(report.bytes);

    // A segment is sealed by a checkpoint record as its last line; every segment but the newest must be.
    const sealed = lastLine !== undefined && isCheckpointLine(lastLine);
    if (sealed) {
      const cp = parseRecord(lastLine as Buffer);
      const detail = cp.detail as { segment?: string; firstSeq?: number; lastSeq?: number; lastHash?: string; mac?: string } | undefined;
      const claim = { scope: 'segment' as const, segment: name, firstSeq: named as number, lastSeq: cp.seq - 1, lastHash: cp.prev };
      const matches = detail?.segment === name && detail.firstSeq === claim.firstSeq && detail.lastSeq === claim.lastSeq && detail.lastHash === claim.lastHash;
      if (!matches || (key && !verifyMac(key, claim, detail?.mac))) {
        return fail({ segment: name, seq: cp.seq, line: lastLineNo, reason: 'bad-checkpoint', message: `the checkpoint sealing ${name} does not match the records it seals (the chain was rewritten)` });
      }
      if (key) report.checkpointsChecked++;
    }
    if (!isLast && !sealed) {
      return fail({ segment: name, seq: expectedSeq - 1, line: lastLineNo, reason: 'missing-checkpoint', message: `${name} is not the newest segment but is not sealed by a checkpoint (its end was cut)` });
    }
  }

  if (!head && report.records > 0 && !options.live) {
    return fail({ segment: 'head.json', seq: undefined, line: 0, reason: 'missing-head', message: 'the head mark is missing (deleted or emptied) while the log holds records: a cut tail could not be seen' });
  }
  if (head) {
    if (key && !verifyMac(key, { scope: 'head', segment: head.segment, firstSeq: head.firstSeq, lastSeq: head.seq, lastHash: head.hash }, head.mac)) {
      return fail({ segment: 'head.json', seq: head.seq, line: 0, reason: 'bad-head', message: 'the head mark does not match its checkpoint (edited, or made without the key)' });
    }
    if (publicKey && head.sig !== undefined) {
      if (!verifyText(publicKey, markMessage('head', head), head.sig)) {
        return fail({ segment: 'head.json', seq: head.seq, line: 0, reason: 'bad-head', message: 'the head mark carries a signature the public key does not verify (edited, or signed by another key)' });
      }
      report.signaturesChecked++;
      // The signed head vouches for its record, and through the chain for everything before it.
      if (headSeen && head.seq > report.signedThrough) report.signedThrough = head.seq;
    }
    if (!headSeen) {
      return fail({
        segment: all[all.length - 1] ?? head.segment,
        seq: head.seq,
        line: 0,
        reason: 'truncated',
        message: `the log ends at record ${expectedSeq - 1}, but record ${head.seq} was written: the tail was removed`,
      });
    }
  }
  if (marked && expectedSeq - 1 > vouchedThrough) {
    const range = { fromSeq: vouchedThrough + 1, toSeq: expectedSeq - 1 };
    if (options.live) report.unvouchedTail = range;
    else {
      return fail({
        segment: all[all.length - 1] ?? '',
        seq: range.fromSeq,
        line: 0,
        reason: 'unvouched',
        message: `records ${range.fromSeq}–${range.toSeq} are not vouched for by any commit mark: they were added without the key (or left by a crash, which the next start cuts and records)`,
      });
    }
  }
  if (options.publicKey && !key && report.records > 0 && report.signaturesChecked === 0) {
    // With the public key alone, a log no signature reaches is indistinguishable from one made without the key.
    return fail({ segment: all[all.length - 1] ?? '', seq: undefined, line: 0, reason: 'unsigned', message: 'no record is vouched for by a signature (the signatures and the signed head mark were removed, or the log was made without the key)' });
  }
  if (report.breaks.length > 0) {
    const first = report.breaks[0] as RecordedBreak;
    return fail({
      segment: all.find(() => true) ?? '',
      seq: first.seq,
      line: 0,
      reason: 'break-recorded',
      message: `${report.breaks.length} break(s) recorded; the first, at record ${first.seq} (${first.ts}): ${first.message}`,
    });
  }
  return { ...report, lastSeq: expectedSeq - 1, lastHash: prevHash };
}
