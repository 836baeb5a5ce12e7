import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const SEGMENT = /^(\d{12})\.jsonl$/;

/** Segment file name for a segment whose first record is `firstSeq`. */
export function segmentName(firstSeq: number): string {
  return `${String(firstSeq).padStart(12, '0')}.jsonl`;
}

export function segmentFirstSeq(name: string): number | undefined {
  const m = SEGMENT.exec(name);
  return m ? Number(m[1]) : undefined;
}

/** The segments of an audit folder, oldest first. */
export function listSegments(auditDir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(auditDir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names.filter((n) => SEGMENT.test(n)).sort();
}

export const auditDirOf = (dataDir: string): string => join(dataDir, 'audit');
export const HEAD_FILE = 'head.json';
export const ANCHOR_FILE = 'anchor.json';
/** The log's Ed25519 public key (PEM), for auditors: anyone may read it; a verifier trusts its own copy, not this one. */
export const PUBLIC_KEY_FILE = 'signing-key.pem';

/** Splits a buffer into its lines (without newlines); a last line without its newline is returned as `torn`. */
export function* lines(buf: Buffer): Generator<{ line: Buffer; offset: number }, Buffer | undefined> {
  let start = 0;
  for (;;) {
    const end = buf.indexOf(10, start);
    if (end === -1) break;
    yield { line: buf.subarray(start, end), offset: start };
    start = end + 1;
  }
  return start < buf.length ? buf.subarray(start) : undefined;
}
