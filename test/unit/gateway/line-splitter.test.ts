/**
 * The stdio line splitter both the shim (the client's stdin) and the gateway (a stdio server's stdout) read with.
 * Attacks: chunk boundaries anywhere (inside a line, between CR and LF, inside a multi-byte character), CRLF
 * line ends, empty lines, a line over the bound (dropped as it arrives, reported with its head, never held:
 * the lines after it still come through), a last line with no newline.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineSplitter } from '../../../main/gateway/line-splitter.js';
import { cut } from '../../helpers/chunks.js';


function split(chunks: Buffer[], maxLine = 1 << 20, end = false) {
  const lines: string[] = [];
  const dropped: { head: string; size: number }[] = [];
  const s = new LineSplitter(maxLine, (l) => lines.push(l.toString('utf8')), (head, size) => dropped.push({ head, size }));
  for (const c of chunks) s.push(c);
  if (end) s.end();
  return { lines, dropped };
}

// Lines of any text (multi-byte characters included) without a line break of their own.
const line = fc.string({ unit: 'grapheme', maxLength: 40 }).map((t) => t.replace(/[\r\n]/g, ''));

describe('LineSplitter', () => {
  it('gives every line whole, wherever the chunks are cut, with LF or CRLF, multi-byte characters included', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 12 }), fc.array(fc.boolean(), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 20 }), (lines, crlf, points) => {
        const text = lines.map((l, i) => `${l}${crlf[i] ? '\r\n' : '\n'}`).join('');
        const { lines: got, dropped } = split(cut(Buffer.from(text), points));
        expect(got).toEqual(lines.filter((l) => l !== ''));
        expect(dropped).toEqual([]);
      }),
    );
  });

  it('a line over the bound is dropped and reported with its size and head, and the lines around it still come through', () => {
    fc.assert(
      fc.property(fc.array(line, { maxLength: 6 }), fc.integer({ min: 1, max: 600 }), fc.array(fc.nat(), { maxLength: 20 }), (lines, over, points) => {
        const max = 64;
        const kept = lines.map((l) => [...l].slice(0, 10).join('')).filter((l) => l !== '' && Buffer.byteLength(l) <= max);
        const big = `{"id":7,"x":"${'y'.repeat(max + over)}"}`;
        const text = `${kept.join('\n')}\n${big}\n${kept.join('\n')}\n`;
        const { lines: got, dropped } = split(cut(Buffer.from(text), points), max);
        expect(got).toEqual([...kept, ...kept]);
        expect(dropped).toHaveLength(1);
        expect(dropped[0]?.size).toBe(Buffer.byteLength(big));
        // The head is what was read when the bound was passed (nothing more is kept): enough to name the id.
        expect(big.startsWith(dropped[0]?.head ?? '-')).toBe(true);
        expect(dropped[0]?.head.length).toBeGreaterThan(max);
      }),
    );
  });

  it('never holds a dropped line: a line of 64 MiB in 64 KiB chunks keeps nothing but its head', () => {
    const dropped: number[] = [];
    const s = new LineSplitter(1024, () => undefined, (_head, size) => dropped.push(size));
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let i = 0; i < 1024; i++) s.push(chunk);
    const held = (s as unknown as { parts: Buffer[] }).parts.length;
    s.push(Buffer.from('\n'));
    expect(held).toBe(0);
    expect(dropped).toEqual([64 * 1024 * 1024]);
  });

  it('a line exactly at the bound passes; one byte more is dropped', () => {
    expect(split([Buffer.from('abcd\n')], 4).lines).toEqual(['abcd']);
    expect(split([Buffer.from('abcde\nok\n')], 4)).toEqual({ lines: ['ok'], dropped: [{ head: 'abcde', size: 5 }] });
  });

  it('the end of input gives a last line with no newline; without end() it waits', () => {
    expect(split([Buffer.from('one\ntw'), Buffer.from('o')]).lines).toEqual(['one']);
    expect(split([Buffer.from('one\ntw'), Buffer.from('o')], 1 << 20, true).lines).toEqual(['one', 'two']);
  });

  it('empty lines carry nothing and are skipped', () => {
    expect(split([Buffer.from('\n\r\n{"a":1}\n\n')]).lines).toEqual(['{"a":1}']);
  });
});
