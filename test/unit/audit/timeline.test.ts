/**
 * Full-text search over the stored (masked) records, as the gateway runs it while it carries traffic: read
 * asynchronously and searched a megabyte of whole lines at a time. Attacks on its answer: a term that sits
 * where a piece ends (split across two pieces), a term in another case, a term that is only in some sessions'
 * records; and on the gateway: a search over a large log must give way to the event loop.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../main/audit/segment-writer.js';
import { listSegments } from '../../../main/audit/segment-files.js';
import fc from 'fast-check';
import type { SessionSummary } from '../../../main/api/types.js';
import { filterSessions, searchSessions } from '../../../main/audit/timeline.js';
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

describe('searchSessions and the chain', () => {
  it('does not find a term that stands only in the chain\'s own fields (prev, hash)', async () => {
    const dir = join(root, 'chain');
    const log = await AuditLog.open({ dir, key: TEST_KEY });
    await Promise.all(Array.from({ length: 20 }, (_, i) => log.append(sampleEntry(i, `s-${i % 4}`))));
    await log.close();
    const lines = listSegments(dir).flatMap((name) => readFileSync(join(dir, name), 'utf8').split('\n').filter(Boolean));
    const hash = (JSON.parse(lines[5] as string) as { hash: string }).hash;
    const part = [0, 8, 16, 24, 32, 40, 48].map((at) => hash.slice(at, at + 10)).find((p) => lines.every((l) => !l.replace(/"(?:prev|hash)":"[0-9a-f]+"/g, '').includes(p))) as string;
    expect(await searchSessions(dir, listSegments(dir), part)).toEqual(new Set());
    expect(await searchSessions(dir, listSegments(dir), 's-2')).toEqual(new Set(['s-2']));
  });
});

describe('filterSessions', () => {
  const session = (id: string, client: string, tools: string[], principal: string): SessionSummary =>
    ({ id, server: 'files', client: { name: client }, principal, first: '2026-12-01T00:00:00.000Z', last: '2026-12-01T00:00:01.000Z', records: 1, calls: 1, errors: 0, decisions: 0, denied: 0, approved: 0, masked: 0, tools, excluded: false, segments: [] }) as unknown as SessionSummary;
  // The three name filters alike: a part of the name, in any case (the tool and principal filters needed the whole name).
  it('matches a part of the client, the tool or the principal, in any case, and nothing that lacks it', () => {
    const word = fc.stringMatching(/^[A-Za-z_:@.-]{1,12}$/);
    fc.assert(
      fc.property(word, word, word, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 }), (client, tool, principal, from, length) => {
        const all = [session('a', client, [tool], principal), session('b', 'zzzz', ['zzzz'], 'zzzz')];
        const part = (name: string) => name.slice(Math.min(from, name.length - 1), Math.min(from, name.length - 1) + length).toUpperCase();
        for (const f of [{ client: part(client) }, { tool: part(tool) }, { principal: part(principal) }]) {
          const ids = filterSessions(all, f).sessions.map((s) => s.id);
          expect(ids).toContain('a');
          const value = Object.values(f)[0] as string;
          expect(ids.includes('b')).toBe('zzzz'.includes(value.toLowerCase()));
        }
      }),
      { numRuns: 300 },
    );
  });
  it('finds one session by its id, and only it', () => {
    const all = ['a', 'b', 'c'].map((id) => session(id, 'x', ['t'], 'p'));
    expect(filterSessions(all, { id: 'b', limit: 1 })).toEqual({ total: 1, sessions: [all[1]] });
    expect(filterSessions(all, { id: 'nope' }).total).toBe(0);
  });
});
