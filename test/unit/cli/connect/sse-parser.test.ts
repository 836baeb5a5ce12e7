/**
 * The shim's reader of the gateway's event streams. Attacks: chunk boundaries anywhere (inside a field name,
 * between CR and LF, inside a multi-byte character), LF, CRLF and lone-CR line ends, multi-line data, comments
 * (the gateway's keep-alives), `id:` and `retry:` fields, other event types, a BOM, an event over the bound
 * (dropped as it arrives, reported with its head, never held: the events after it still come through), an
 * event cut off by the end of the stream.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SseParser, type SseEvent } from '../../../../main/cli/connect/sse-parser.js';
import { cut } from '../../../helpers/chunks.js';


function parse(chunks: Buffer[], maxEvent = 1 << 20) {
  const events: { event: string; data: string }[] = [];
  const dropped: { head: string; size: number }[] = [];
  const retries: number[] = [];
  const p = new SseParser(
    maxEvent,
    (e: SseEvent) => events.push({ event: e.event, data: e.data.toString('utf8') }),
    (head, size) => dropped.push({ head, size }),
    (ms) => retries.push(ms),
  );
  for (const c of chunks) p.push(c);
  p.end();
  return { events, dropped, retries };
}

const text = fc.string({ unit: 'grapheme', maxLength: 30 }).map((t) => t.replace(/[\r\n]/g, ''));
const eol = fc.constantFrom('\n', '\r\n', '\r');

/** An event as a server may write it: comments, an id, an optional type, one or more data lines. */
const event = fc.record({
  type: fc.option(fc.constantFrom('message', 'other'), { nil: undefined }),
  data: fc.array(text, { minLength: 1, maxLength: 4 }),
  id: fc.option(fc.nat(), { nil: undefined }),
  comment: fc.boolean(),
  space: fc.boolean(),
});

describe('SseParser', () => {
  it('gives each event its data lines joined by LF, wherever the chunks are cut and whichever line ends are used', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), eol, fc.array(fc.nat(), { maxLength: 30 }), (events, nl, points) => {
        const wire = events
          .map((e) => {
            const lines = [
              ...(e.comment ? [': keepalive'] : []),
              ...(e.id !== undefined ? [`id: ${e.id}`] : []),
              ...(e.type ? [`event: ${e.type}`] : []),
              ...e.data.map((d) => `data:${e.space ? ' ' : ''}${d}`),
            ];
            return lines.map((l) => l + nl).join('') + nl;
          })
          .join('');
        const got = parse(cut(Buffer.from(wire), points));
        // A value's one leading space is the separator's, not the data's.
        const want = events.map((e) => ({ event: e.type ?? 'message', data: e.data.map((d) => (e.space ? d : d.replace(/^ /, ''))).join('\n') }));
        expect(got.events).toEqual(want);
        expect(got.dropped).toEqual([]);
      }),
    );
  });

  it('an event over the bound is dropped and reported, and the events after it come through', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.array(fc.nat(), { maxLength: 30 }), eol, (over, points, nl) => {
        const max = 256;
        const big = `{"jsonrpc":"2.0","id":"big-1","result":{"x":"${'z'.repeat(max + over)}"}}`;
        const wire = `data: {"a":1}${nl}${nl}event: message${nl}data: ${big}${nl}${nl}data: {"b":2}${nl}${nl}`;
        const got = parse(cut(Buffer.from(wire), points), max);
        expect(got.events.map((e) => e.data)).toEqual(['{"a":1}', '{"b":2}']);
        expect(got.dropped).toHaveLength(1);
        expect(got.dropped[0]?.head).toContain('"id":"big-1"');
        expect(got.dropped[0]?.size).toBeGreaterThan(max);
      }),
    );
  });

  it('never holds a dropped event: 64 MiB of data in 64 KiB chunks keeps nothing', () => {
    const dropped: number[] = [];
    const p = new SseParser(1024, () => undefined, (_h, size) => dropped.push(size));
    p.push(Buffer.from('data: '));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 1024; i++) p.push(chunk);
    const state = p as unknown as { line: Buffer[]; data: Buffer[] };
    expect(state.line.length + state.data.length).toBe(0);
    p.push(Buffer.from('\n\n'));
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toBeGreaterThanOrEqual(64 * 1024 * 1024);
  });

  it('reads the multi-byte characters of data cut between chunks whole', () => {
    const wire = Buffer.from('data: {"t":"héllo 𐀀 ✓"}\n\n');
    for (let i = 0; i <= wire.length; i++) expect(parse([wire.subarray(0, i), wire.subarray(i)]).events).toEqual([{ event: 'message', data: '{"t":"héllo 𐀀 ✓"}' }]);
  });

  it('reports retry, skips a BOM, comments, unknown fields and events without data, and drops an event the stream cut off', () => {
    const got = parse([Buffer.from('\uFEFFretry: 2500\n: hi\nfoo: bar\n\nevent: message\n\ndata\n\ndata: {"last":true}')]);
    expect(got.retries).toEqual([2500]);
    expect(got.events).toEqual([{ event: 'message', data: '' }]);
  });

  it('a CR at the end of one chunk and an LF at the start of the next are one line end', () => {
    expect(parse([Buffer.from('data: a\r'), Buffer.from('\ndata: b\r'), Buffer.from('\n\r'), Buffer.from('\n')]).events).toEqual([{ event: 'message', data: 'a\nb' }]);
  });
});
