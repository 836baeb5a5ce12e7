import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { parseRecord, type AuditRecord } from './record.js';
import { lines } from './segment-files.js';
import type { SessionIndex } from './session-index.js';

/** All records of one session, in log order. Uses the index's offsets where it has them, else scans the segment. */
export function readSessionRecords(auditDir: string, index: SessionIndex, sessionId: string): AuditRecord[] {
  const summary = index.get(sessionId);
  if (!summary) return [];
  const out: AuditRecord[] = [];
  const marker = `"session":"${sessionId}"`;
  let scratch = Buffer.alloc(64 * 1024);
  for (const segment of summary.segments) {
    const file = join(auditDir, segment);
    const spans = index.offsets(segment, sessionId);
    try {
      if (!spans) {
        // The text search only narrows; the parsed record decides (a payload may hold the same text).
        for (const { line } of lines(readFileSync(file))) {
          if (!line.includes(marker)) continue;
          const record = parseRecord(line);
          if (record.session === sessionId) out.push(record);
        }
        continue;
      }
      // Read just this session's records, each where the index says it is.
      const fd = openSync(file, 'r');
      try {
        for (let i = 0; i < spans.length; i += 2) {
          const [offset, length] = [spans[i] as number, spans[i + 1] as number];
          if (length > scratch.length) scratch = Buffer.alloc(length);
          const got = readSync(fd, scratch, 0, length, offset);
          if (got === length) out.push(parseRecord(scratch.subarray(0, length - 1)));
        }
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err; // pruned since the index was written: skip
    }
  }
  return out;
}
