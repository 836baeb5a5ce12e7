import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../main/audit/segment-writer.js';
import type { AuditEntry, AuditRecord } from '../../main/audit/record.js';

export const TEST_KEY = Buffer.alloc(32, 7);

/** A throwaway audit folder with a log of `count` records, `segmentSize` bytes to a segment. */
export async function writeTestLog(count: number, segmentSize = 4096, key = TEST_KEY): Promise<{ dir: string; remove(): void }> {
  const dir = join(mkdtempSync(join(tmpdir(), 'gatehouse-audit-')), 'audit');
  const log = await AuditLog.open({ dir, key, segmentSize, now: () => new Date(Date.UTC(2026, 10, 22, 12, 0, 0)) });
  await Promise.all(Array.from({ length: count }, (_, i) => log.append(sampleEntry(i))));
  await log.close();
  return { dir, remove: () => rmSync(join(dir, '..'), { recursive: true, force: true }) };
}

export function sampleEntry(i: number, session = `session-${i % 3}`): AuditEntry {
  return {
    ts: new Date(Date.UTC(2026, 10, 22, 12, 0, i)).toISOString(),
    session,
    server: 'files',
    principal: 'local:tester',
    client: { name: 'test-client', version: '1.0' },
    direction: i % 2 === 0 ? 'client->server' : 'server->client',
    kind: i % 2 === 0 ? 'request' : 'response',
    method: 'tools/call',
    tool: 'read_file',
    id: Math.floor(i / 2),
    payload: { jsonrpc: '2.0', id: Math.floor(i / 2), params: { note: `record ${i} ${randomBytes(6).toString('hex')} é ✓` } },
  };
}

/** Every record in a data directory's audit log, in order (read straight from the segments). */
export function readAllRecords(home: string): AuditRecord[] {
  const dir = join(home, 'audit');
  return readdirSync(dir)
    .filter((n) => n.endsWith('.jsonl'))
    .sort()
    .flatMap((n) => readFileSync(join(dir, n), 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as AuditRecord));
}

/**
 * The disk going away under a running log: its segment's handle is swapped for one open read-only on the same
 * file, so every write and sync fails as a failing disk's does (EBADF), whichever way the log syncs.
 */
export async function breakLogDisk(log: AuditLog): Promise<void> {
  const inner = log as unknown as { fh: { close(): Promise<void> }; segment: string; options: { dir: string } };
  const readOnly = await open(join(inner.options.dir, inner.segment), 'r');
  await inner.fh.close();
  inner.fh = readOnly;
}
