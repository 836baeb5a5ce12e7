import { createHash, type KeyObject } from 'node:crypto';
import { CSV_COLUMNS } from './export.js';
import { breakIn, commitOf, computeLineHash, GENESIS, lineFields } from './record.js';
import { exportMessage, markMessage, publicKeyHex, recordMessage, verifyText } from './signing.js';
import type { Mark, RecordedBreak } from './verify.js';

/** Why an export does not verify: the same words the standalone verifier (tools/verify-export.py) prints. */
export type ExportProblemReason =
  | 'not-export'
  | 'malformed'
  | 'gap'
  | 'reorder'
  | 'chain-break'
  | 'hash-mismatch'
  | 'bad-commit'
  | 'bad-signature'
  | 'bad-head'
  | 'truncated'
  | 'wrong-key'
  | 'bad-anchor'
  | 'unsigned'
  | 'break-recorded';

export interface ExportCheck {
  ok: boolean;
  records: number;
  omittedRuns: number;
  firstSeq?: number;
  lastSeq?: number;
  lastHash?: string;
  /** Whether a public key was given, so that signatures were checked. */
  publicKeyUsed: boolean;
  signaturesChecked: number;
  /** Records a signature vouches for: a signed record (or the signed head mark) later in the same unbroken run. */
  signedRecords: number;
  /** Whether the export's own signature (made by an exporter holding the key) was checked and holds: it vouches for every record. */
  exportSigned: boolean;
  /** Records no signature reaches (past the last one, or before an omitted run): vouched only by the HMAC, which needs the key. */
  unsignedRecords: number;
  breaks: RecordedBreak[];
  problem?: { line: number; seq?: number; reason: ExportProblemReason; message: string };
}

interface ExportHeader {
  gatehouseExport?: unknown;
  publicKey?: unknown;
  filter?: unknown;
  head?: Mark;
  anchor?: Mark;
}

/** Whether a mark in the header has the shape of one (a string where a number stands would be read differently by another verifier). */
function markShaped(mark: unknown): mark is Mark {
  if (mark === undefined) return true;
  if (mark === null || typeof mark !== 'object') return false;
  const m = mark as Record<string, unknown>;
  return (
    typeof m.segment === 'string' &&
    !/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(m.segment) && // no lone surrogate
    Number.isSafeInteger(m.firstSeq) &&
    Number.isSafeInteger(m.seq) &&
    typeof m.hash === 'string' &&
    /^[0-9a-f]{64}$/.test(m.hash) &&
    typeof m.mac === 'string' &&
    (m.sig === undefined || (typeof m.sig === 'string' && /^[0-9a-f]{128}$/.test(m.sig)))
  );
}

// Strict: invalid bytes are malformed, and a byte-order mark is kept (not silently dropped), so it is seen.
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * Checks a JSONL export on its own: every record's hash, the chain from record to record across omitted
 * runs, the commit and signature members, and with a public key every signature and the head mark. Pure.
 */
export function checkExport(input: string | Buffer, publicKey?: KeyObject): ExportCheck {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  // Rows are decoded one by one, strictly: bytes that are not UTF-8 are malformed, never replaced (which would
  // change what is hashed, and make two verifiers disagree).
  const rows: string[] = [];
  let undecodable: number | undefined;
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(10, start);
    if (end < 0) end = bytes.length;
    try {
      rows.push(STRICT_UTF8.decode(bytes.subarray(start, end)));
    } catch {
      undecodable ??= rows.length + 1;
      rows.push('');
    }
    start = end + 1;
  }
  const result: ExportCheck = { ok: true, records: 0, omittedRuns: 0, publicKeyUsed: Boolean(publicKey), exportSigned: false, signaturesChecked: 0, signedRecords: 0, unsignedRecords: 0, breaks: [] };
  const fail = (line: number, reason: ExportProblemReason, message: string, seq?: number): ExportCheck => ({
    ...result,
    signedRecords: 0,
    unsignedRecords: result.records,
    ok: false,
    problem: { line, reason, message, ...(seq !== undefined ? { seq } : {}) },
  });
  let header: ExportHeader | undefined;
  try {
    header = rows[0] ? (JSON.parse(rows[0]) as ExportHeader) : undefined;
  } catch {
    header = undefined;
  }
  if (undecodable === 1 || !header || typeof header !== 'object' || header.gatehouseExport !== 1) {
    const csv = (rows[0] ?? '').startsWith(`${CSV_COLUMNS[0]},${CSV_COLUMNS[1]},`);
    return fail(1, 'not-export', csv ? 'a CSV export, which is for reading (spreadsheets, SIEM imports) and carries no signatures: verify checks the JSONL format (`gatehouse export --format jsonl`), whose rows match the CSV\'s by seq and hash' : 'not a Gatehouse JSONL export (the first line is not its header; `gatehouse export --out FILE` writes one)');
  }
  if (!markShaped(header.head) || !markShaped(header.anchor)) return fail(1, 'malformed', "the header's head mark or anchor is not shaped like one (a number written as a string, a hash that is not 64 hex…)");
  if (publicKey && typeof header.publicKey === 'string' && header.publicKey !== publicKeyHex(publicKey)) {
    return fail(1, 'wrong-key', `this export names public key ${header.publicKey}, not the one given: it comes from another Gatehouse, or its header was changed`);
  }
  // The export's own signature stands on its last line, over the SHA-256 of every byte before that line; it is
  // checked after the records, so that an edited record is named where it is.
  const trailer = rows.length > 1 && rows[rows.length - 1]?.startsWith('{"exportSignature"') ? rows.pop() : undefined;
  const head = header.head;
  const anchor = header.anchor;
  if (publicKey && head?.sig !== undefined) {
    if (!verifyText(publicKey, markMessage('head', head), head.sig)) return fail(1, 'bad-head', 'the head mark in the header carries a signature the public key does not verify');
    result.signaturesChecked++;
  }
  // After pruning the log starts at an anchor: only a signed one says where, to someone with the public key alone.
  if (publicKey && anchor) {
    if (!verifyText(publicKey, markMessage('anchor', anchor), anchor.sig)) return fail(1, 'bad-anchor', 'the anchor in the header (where the pruned log starts) is not signed with the key');
    result.signaturesChecked++;
  }
  const unfiltered = header.filter !== null && typeof header.filter === 'object' && Object.keys(header.filter).length === 0;

  // An export covers the log from its first record (a filter's omissions stand as omitted runs), so it starts
  // where the log does: record 1 after the genesis hash, or the record after the anchor.
  let expectedSeq: number | undefined = anchor ? anchor.seq + 1 : 1;
  let prevHash: string | undefined = anchor ? anchor.hash : GENESIS;
  // Records of the current unbroken run not yet reached by a signature.
  let pending = 0;
  let headFound = false;
  for (let i = 1; i < rows.length; i++) {
    const row = rows[i] as string;
    const lineNo = i + 1;
    if (undecodable === lineNo) return fail(lineNo, 'malformed', `line ${lineNo} is not UTF-8`);
    if (row.startsWith('{"omitted"')) {
      if (unfiltered) return fail(lineNo, 'gap', `line ${lineNo} stands for records left out, but the export says it has no filter`);
      let omitted: { fromSeq?: unknown; toSeq?: unknown; lastHash?: unknown } | undefined;
      try {
        omitted = (JSON.parse(row) as { omitted?: typeof omitted }).omitted;
      } catch {
        omitted = undefined;
      }
      if (!omitted || !Number.isSafeInteger(omitted.fromSeq) || !Number.isSafeInteger(omitted.toSeq) || typeof omitted.lastHash !== 'string' || (omitted.toSeq as number) < (omitted.fromSeq as number)) {
        return fail(lineNo, 'malformed', `line ${lineNo} is not a well-formed omitted run`);
      }
      const fromSeq = omitted.fromSeq as number;
      if (expectedSeq !== undefined && fromSeq !== expectedSeq) {
        return fail(lineNo, fromSeq > expectedSeq ? 'gap' : 'reorder', `the omitted run starts at ${fromSeq} where ${expectedSeq} was expected`, fromSeq);
      }
      // Nothing can link records before the gap to a signature after it.
      result.unsignedRecords += pending;
      pending = 0;
      expectedSeq = (omitted.toSeq as number) + 1;
      prevHash = omitted.lastHash;
      if (head && head.seq >= fromSeq && head.seq === omitted.toSeq) {
        if (omitted.lastHash !== head.hash) return fail(lineNo, 'bad-head', `record ${head.seq} is not the record the head mark vouches for`, head.seq);
        headFound = true;
      } else if (head && head.seq >= fromSeq && head.seq <= (omitted.toSeq as number)) headFound = true;
      result.omittedRuns++;
      continue;
    }
    const buf = Buffer.from(row);
    const fields = lineFields(buf);
    if (!fields || !parsesAs(row, fields)) return fail(lineNo, 'malformed', `line ${lineNo} is not a well-formed record`);
    if (expectedSeq !== undefined && fields.seq !== expectedSeq) {
      return fail(
        lineNo,
        fields.seq > expectedSeq ? 'gap' : 'reorder',
        fields.seq > expectedSeq ? `record${fields.seq - expectedSeq > 1 ? `s ${expectedSeq}–${fields.seq - 1} are` : ` ${expectedSeq} is`} missing before line ${lineNo}` : `record ${fields.seq} where ${expectedSeq} was expected (moved, or repeated)`,
        fields.seq,
      );
    }
    if (prevHash !== undefined && fields.prev !== prevHash) return fail(lineNo, 'chain-break', `record ${fields.seq} does not link to the record before it (prev differs)`, fields.seq);
    if (computeLineHash(buf, fields) !== fields.hash) return fail(lineNo, 'hash-mismatch', `record ${fields.seq} was changed (its hash does not match its content)`, fields.seq);
    const { commit, signed } = commitOf(buf, fields);
    if (commit !== (fields.mac !== undefined)) return fail(lineNo, 'bad-commit', `record ${fields.seq} ${commit ? 'closes a commit but its evidence was removed' : 'carries commit evidence it was not written with'}`, fields.seq);
    if (signed !== (fields.sig !== undefined)) return fail(lineNo, 'bad-signature', `record ${fields.seq} ${signed ? 'was signed but its signature was removed' : 'carries a signature it was not written with'}`, fields.seq);
    pending++;
    if (signed && publicKey) {
      if (!verifyText(publicKey, recordMessage(fields.seq, fields.hash), fields.sig)) {
        return fail(lineNo, 'bad-signature', `record ${fields.seq} carries a signature the public key does not verify (made without the signing key, or by another one)`, fields.seq);
      }
      result.signaturesChecked++;
      result.signedRecords += pending;
      pending = 0;
    }
    if (head && fields.seq === head.seq) {
      if (fields.hash !== head.hash) return fail(lineNo, 'bad-head', `record ${fields.seq} is not the record the head mark vouches for (the chain was rewritten)`, fields.seq);
      headFound = true;
      if (publicKey && head.sig !== undefined) {
        result.signedRecords += pending;
        pending = 0;
      }
    }
    const recordedBreak = breakIn(buf);
    if (recordedBreak) result.breaks.push({ seq: recordedBreak.seq, ts: recordedBreak.ts, reason: recordedBreak.reason, message: recordedBreak.message });
    result.firstSeq ??= fields.seq;
    result.lastSeq = fields.seq;
    result.lastHash = fields.hash;
    result.records++;
    expectedSeq = fields.seq + 1;
    prevHash = fields.hash;
  }
  result.unsignedRecords += pending;
  if (trailer !== undefined && publicKey) {
    let signature: { sha256?: unknown; sig?: unknown } | undefined;
    try {
      signature = (JSON.parse(trailer) as { exportSignature?: typeof signature }).exportSignature;
    } catch {
      signature = undefined;
    }
    const before = bytes.length - (bytes[bytes.length - 1] === 10 ? 1 : 0) - Buffer.byteLength(trailer);
    const sha256 = createHash('sha256').update(bytes.subarray(0, before)).digest('hex');
    if (signature?.sha256 !== sha256 || !verifyText(publicKey, exportMessage(sha256), signature.sig)) {
      return fail(rows.length + 1, 'bad-signature', "the export's own signature does not match what comes before it, or was not made with the key (its header or an omitted run was changed)");
    }
    result.signaturesChecked++;
    result.exportSigned = true;
  }
  if (result.exportSigned) {
    result.signedRecords = result.records;
    result.unsignedRecords = 0;
  }
  if (head && !headFound && expectedSeq !== undefined && expectedSeq - 1 < head.seq) {
    return fail(rows.length, 'truncated', `the export ends at record ${expectedSeq - 1}, but the head mark it carries vouches for record ${head.seq}: its tail was removed`, head.seq);
  }
  if (publicKey && result.records > 0 && result.signedRecords === 0) {
    return fail(
      rows.length,
      'unsigned',
      result.omittedRuns > 0
        ? 'no record of this export is vouched for by a signature: in a filtered export a record is covered only when an unbroken run of records links it to a signed one. Export a time range (--since/--until) to get signed runs, or check it with --chain-only'
        : 'no record of this export is vouched for by a signature (the signatures and the signed head mark were removed, or the records were made without the key)',
    );
  }
  if (result.breaks.length > 0) {
    const first = result.breaks[0] as RecordedBreak;
    return { ...result, ok: false, problem: { line: 0, seq: first.seq, reason: 'break-recorded', message: `${result.breaks.length} break(s) recorded; the first, at record ${first.seq} (${first.ts}): ${first.message}` } };
  }
  return result;
}

/** Whether a record line is JSON whose seq, prev and hash are the ones read by position (no duplicate members). */
function parsesAs(row: string, fields: { seq: number; prev: string; hash: string }): boolean {
  try {
    const r = JSON.parse(row) as { seq?: unknown; prev?: unknown; hash?: unknown };
    return r !== null && typeof r === 'object' && r.seq === fields.seq && r.prev === fields.prev && r.hash === fields.hash;
  } catch {
    return false;
  }
}
