/*
 * The call table is what callsOf makes of a session's records. What would mislead a reader: a call paired with
 * another call's answer (ids used again, answers out of order, the server's own requests with the same ids), an
 * answer counted twice, a denial shown as an error, a tool's failure shown as ok, a call still waiting shown as
 * done. Generated sessions check the pairing; examples check each outcome.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { TimelineRecord } from '../../../main/api/types.js';
import { callHas, callsOf } from '../../../main/audit/calls.js';

let seq = 0;
const at = (ms: number) => new Date(Date.UTC(2026, 11, 1) + ms).toISOString();
const rec = (r: Partial<TimelineRecord> & Pick<TimelineRecord, 'kind'>, ms = seq): TimelineRecord => ({ seq: ++seq, ts: at(ms), hash: 'h', ...r }) as TimelineRecord;

describe('callsOf', () => {
  it('tells each outcome, with its duration', () => {
    const records = [
      rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'read', id: 1, payload: { params: { name: 'read', arguments: { path: '/a' } } } }, 0),
      rec({ kind: 'decision', tool: 'read', id: 1, decision: { outcome: 'allow' } }, 1),
      rec({ kind: 'response', direction: 'server->client', id: 1, payload: { result: { content: [] } } }, 25),
      rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'write', id: 2 }, 30),
      rec({ kind: 'decision', tool: 'write', id: 2, decision: { outcome: 'deny' } }, 31),
      rec({ kind: 'error', direction: 'server->client', id: 2, detail: { from: 'gatehouse', outcome: 'refused' } }, 32),
      rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'fail', id: 3, masked: true }, 40),
      rec({ kind: 'response', direction: 'server->client', id: 3, payload: { result: { isError: true } } }, 45),
      rec({ kind: 'request', direction: 'client->server', method: 'resources/read', id: 4, payload: { params: { uri: 'file:///x' } } }, 50),
      rec({ kind: 'error', direction: 'server->client', id: 4 }, 60),
      rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'slow', id: 5 }, 70),
    ];
    expect(callsOf(records).map((c) => [c.n, c.name, c.outcome, c.ms, c.masked, c.gist])).toEqual([
      [1, 'read', 'ok', 25, false, '{"path":"/a"}'],
      [2, 'write', 'denied', 2, false, ''],
      [3, 'fail', 'tool-error', 5, true, ''],
      [4, 'resources/read', 'error', 10, false, '{"uri":"file:///x"}'],
      [5, 'slow', 'waiting', undefined, false, ''],
    ]);
  });

  it('pairs every answer with the one call it answers, however ids repeat, interleave or go both ways', () => {
    // A session: requests either way with ids from a small set (so they repeat); each answered at most once, later.
    const step = fc.record({ id: fc.integer({ min: 1, max: 3 }), way: fc.constantFrom('client->server', 'server->client') as fc.Arbitrary<'client->server' | 'server->client'>, answer: fc.boolean() });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 30 }), fc.array(fc.nat(), { maxLength: 30 }), (steps, order) => {
        const records: TimelineRecord[] = [];
        const expected = new Map<number, number>(); // request seq → answer seq
        const waiting: { id: number; way: string; seq: number }[] = [];
        steps.forEach((s, i) => {
          // Answer one waiting request (its own id and way) before the next request, as chosen.
          const pick = order[i] ?? 0;
          if (s.answer && waiting.length) {
            const w = waiting.splice(pick % waiting.length, 1)[0] as { id: number; way: string; seq: number };
            // Only the oldest waiting request of that id and way can be the one answered (ids are reused once answered).
            if (!waiting.some((o) => o.id === w.id && o.way === w.way && o.seq < w.seq)) {
              const a = rec({ kind: 'response', direction: w.way === 'client->server' ? 'server->client' : 'client->server', id: w.id });
              records.push(a);
              expected.set(w.seq, a.seq);
            } else waiting.push(w);
          }
          if (!waiting.some((o) => o.id === s.id && o.way === s.way)) {
            const r = rec({ kind: 'request', direction: s.way, method: 'tools/call', tool: 't', id: s.id });
            records.push(r);
            waiting.push({ id: s.id, way: s.way, seq: r.seq });
          }
        });
        const calls = callsOf(records);
        expect(calls.length).toBe(records.filter((r) => r.kind === 'request').length);
        for (const c of calls) expect(c.response?.seq).toBe(expected.get(c.request.seq));
        const answers = calls.flatMap((c) => (c.response ? [c.response.seq] : []));
        expect(new Set(answers).size).toBe(answers.length);
      }),
      { numRuns: 500 },
    );
  });
});

describe('callHas', () => {
  // The sessions search finds a session by what its records say; the session then opens at the call that says it.
  it('finds a term in the request, the decision or the answer, case-blind; never in the chain fields or the times', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 12 }).filter((t) => t.trim() !== ''), fc.constantFrom<'request' | 'decision' | 'response'>('request', 'decision', 'response'), (term, where) => {
        const records = [
          rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 't', id: 1, payload: { params: { arguments: where === 'request' ? { q: `x${term.toUpperCase()}y` } : {} } } }),
          rec({ kind: 'decision', id: 1, decision: where === 'decision' ? { reason: term } : { outcome: 'allow' } }),
          rec({ kind: 'response', direction: 'server->client', id: 1, payload: { result: where === 'response' ? { content: [{ type: 'text', text: term }] } : {} } }),
        ];
        const [call] = callsOf(records);
        expect(callHas(call as NonNullable<typeof call>, term)).toBe(true);
      }),
      { numRuns: 300 },
    );
    const [call] = callsOf([rec({ kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'echo', id: 1, hash: 'deadbeef3fa', payload: { params: { arguments: { m: 'hi' } } } })]);
    expect(callHas(call as NonNullable<typeof call>, '3fa')).toBe(false);
    expect(callHas(call as NonNullable<typeof call>, 'ECHO')).toBe(true);
    expect(callHas(call as NonNullable<typeof call>, '  ')).toBe(true);
  });
});
