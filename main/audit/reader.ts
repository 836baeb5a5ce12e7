import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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

/**
 * The session of the record on a segment's `line` (1-based), as far as that line still reads as a record: where a
 * verify found the log broken, so that the UI can open the record itself. Undefined for a line that does not parse
 * (a record edited into something else), one without a session (the gateway's own), or a segment gone.
 */
export async function sessionOfLine(auditDir: string, segment: string, line: number): Promise<string | undefined> {
  if (line < 1 || segment.includes('/') || segment.includes('\\')) return undefined;
  let data: Buffer;
  try {
    data = await readFile(join(auditDir, segment));
  } catch {
    return undefined;
  }
  let n = 0;
  for (const item of lines(data)) {
    if (++n < line) continue;
    try {
      const session = (JSON.parse(item.line.toString('utf8')) as { session?: unknown }).session;
      return typeof session === 'string' ? session : undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}
