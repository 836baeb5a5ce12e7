/**
 * Full-text search over the stored (masked) records, as the gateway runs it while it carries traffic: read
 * asynchronously and searched a megabyte of whole lines at a time. Attacks on its answer: a term that sits
 * where a piece ends (split across two pieces), a term in another case, a term that is only in some sessions'
 * records; and on the gateway: a search over a large log must give way to the event loop.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { listSegments } from '../../../main/audit/segment-files.js';
import { searchSessions } from '../../../main/audit/timeline.js';
import { sampleEntry, TEST_KEY } from '../../helpers/audit-log.js';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-search-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('searchSessions', () => {
  it('finds every session holding the term, in any case, wherever the pieces of a segment are cut; no other session', async () => {
    const dir = join(root, 'audit');
    const log = await AuditLog.open({ dir, key: TEST_KEY, segmentSize: 8 * 1024 * 1024 });
    // ~6 MB: the segment is searched in several pieces; the term is planted in records spread over all of it.
    const planted = new Set<string>();
    const appends: Promise<unknown>[] = [];
    for (let i = 0; i < 6000; i++) {
      const entry = sampleEntry(i, `session-${i % 50}`);
      if (i % 997 === 0) {
        (entry.payload as { params: { note: string } }).params.note += ` NeedleTerm-${'x'.repeat(i % 300)}`;
        planted.add(`session-${i % 50}`);
      } else (entry.payload as { params: Record<string, string> }).params.pad = 'p'.repeat(900);
      appends.push(log.append(entry));
    }
    await Promise.all(appends);
    await log.close();
    expect(await searchSessions(dir, listSegments(dir), 'needleterm')).toEqual(planted);
    expect(await searchSessions(dir, listSegments(dir), 'NEEDLETERM')).toEqual(planted);
    expect(await searchSessions(dir, listSegments(dir), 'no such term anywhere')).toEqual(new Set());
    // It gives way: timers run while it reads and searches (a search that held the event loop would let none).
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await searchSessions(dir, listSegments(dir), 'needleterm', 0);
    clearInterval(timer);
    expect(ticks).toBeGreaterThan(0);
  });
});
