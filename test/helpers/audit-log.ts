import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../main/audit/segment-writer.js';
import type { AuditEntry } from '../../main/audit/record.js';

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
