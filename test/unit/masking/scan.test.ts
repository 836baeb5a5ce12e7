/*
 * The scans in main/masking/scan.ts stand in for regexes on the message path. The attack is a text on which a
 * scan and the regex it replaces disagree: a hint that says "nothing here" where the regex would have matched
 * turns a secret away unmasked; a run cut short hides a token from the run-scoped detectors. So each scan is
 * compared with its regex on generated texts made of the characters that decide it (separators, digits,
 * spaces of every kind, runs around the length limit), and on the edges written out.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DETECTOR_SETS } from '../../../main/masking/detectors.js';
import { base64Stretch, boundedKeyStretch, hexBytesApart, hexBytesSpaced, hexStretch, jwtScanner, leadingLiterals, literalFrom, MIN_RUN, nextLongRun, portColons, separatorPair, withLiteral } from '../../../main/masking/scan.js';

const textOf = (chars: string[], maxLength = 40) => fc.array(fc.constantFrom(...chars), { maxLength }).map((cs) => cs.join(''));

describe('separatorPair', () => {
  it('says what /:[^:\\s]{0,4}:/ says', () => {
    const hint = separatorPair(':', 4);
    const regex = /:[^:\s]{0,4}:/;
    fc.assert(fc.property(textOf([':', 'a', '1', 'f', ' ', '\t', '\n', '\u00a0', '\u2003', '\u3000', 'é', '.']), (text) => hint.test(text) === regex.test(text)), { numRuns: 30_000 });
    for (const text of ['::', 'a:1234:b', 'a:12345:b', ': :', ':\u2003:', ':é:', 'fe80::1', '']) expect(hint.test(text), JSON.stringify(text)).toBe(regex.test(text));
  });
});

describe('portColons', () => {
  it('says what /:(?:\\d{2,5}|\\*):/ says', () => {
    const regex = /:(?:\d{2,5}|\*):/;
    fc.assert(fc.property(textOf([':', '1', '9', '0', '*', 'a', ' ']), (text) => portColons(text) === regex.test(text)), { numRuns: 30_000 });
    for (const text of ['h:5432:db', 'h:*:db', 'h:1:db', 'h:123456:db', 'h:12345:', '::12:', ':**:', ':*']) expect(portColons(text), text).toBe(regex.test(text));
  });
});

describe('nextLongRun', () => {
  const LONG_RUN = new RegExp(`[^ ]{${MIN_RUN}}[^ ]*`, 'g');
  const all = (text: string): [number, number][] => {
    const out: [number, number][] = [];
    for (let at = nextLongRun(text, 0); at !== undefined; at = nextLongRun(text, at[1])) out.push(at);
    return out;
  };
  it('finds the runs the regex finds, where it finds them', () => {
    const words = fc.array(fc.oneof(fc.stringMatching(/^[a-z]{0,16}$/), fc.constantFrom(' ', '  ', '\t', '\n', 'x'.repeat(MIN_RUN - 1), 'y'.repeat(MIN_RUN), 'z'.repeat(MIN_RUN + 1))), { maxLength: 12 });
    fc.assert(
      fc.property(words, (parts) => {
        const text = parts.join(' ');
        expect(all(text)).toEqual([...text.matchAll(LONG_RUN)].map((m) => [m.index, m.index + m[0].length]));
      }),
      { numRuns: 20_000 },
    );
  });
  it('finds a run at the very start and the very end, and none in a text too short', () => {
    expect(all('a'.repeat(MIN_RUN))).toEqual([[0, MIN_RUN]]);
    expect(all(`ab ${'c'.repeat(MIN_RUN)}`)).toEqual([[3, 3 + MIN_RUN]]);
    expect(all('a'.repeat(MIN_RUN - 1))).toEqual([]);
  });
});

describe('literalFrom', () => {
  it('says what includes says, from any piece of the literal', () => {
    const chars = [' ', 'L', 'O', 'G', 'I', 'N', 'a', '.'];
    fc.assert(
      fc.property(textOf(chars, 12).filter((l) => l.length > 0), fc.nat(), textOf(chars, 60), (literal, at, text) => literalFrom(literal, at % literal.length).test(text) === text.includes(literal)),
      { numRuns: 30_000 },
    );
    for (const text of [' LOGIN ', 'x LOGIN y', 'LOGIN ', ' LOGIN', '  LOGIN  ']) expect(literalFrom(' LOGIN ', 1).test(text), text).toBe(text.includes(' LOGIN '));
  });
});

describe('withLiteral', () => {
  it('is the regex wherever the regex needs the literal', () => {
    const regex = /END[ \t]+(?:[A-Z0-9]+[ \t]+)*PRIVATE[ \t]+KEY/;
    const hint = withLiteral('PRIVATE', regex);
    fc.assert(fc.property(textOf(['END', 'PRIVATE', 'KEY', 'RSA', ' ', '\t', 'x'], 12), (text) => hint.test(text) === regex.test(text)), { numRuns: 10_000 });
  });
});

describe('base64Stretch', () => {
  it('says what /[A-Za-z0-9/+]{n}/ says', () => {
    for (const n of [1, 4, 40]) {
      const hint = base64Stretch(n);
      const regex = new RegExp(`[A-Za-z0-9/+]{${n}}`);
      const runs = fc.array(fc.oneof(fc.constantFrom('a', 'Z', '0', '9', '/', '+', '-', '_', '=', ' ', '.', 'é', '\n'), fc.constantFrom('A'.repeat(n - 1), 'b'.repeat(n), '+'.repeat(n + 1))), { maxLength: 12 });
      fc.assert(fc.property(runs, (parts) => hint.test(parts.join('')) === regex.test(parts.join(''))), { numRuns: 10_000 });
      for (const text of ['', 'x'.repeat(n), `-${'x'.repeat(n)}`, `${'x'.repeat(n - 1)}-x`, '@[`{']) expect(hint.test(text), text).toBe(regex.test(text));
    }
  });
});

describe('hexStretch', () => {
  it('says what /[0-9A-Fa-f]{n}/ says', () => {
    for (const n of [1, 2, 24]) {
      const hint = hexStretch(n);
      const regex = new RegExp(`[0-9A-Fa-f]{${n}}`);
      const runs = fc.array(fc.oneof(fc.constantFrom('a', 'F', 'f', 'g', 'G', '0', '9', '/', ':', ' ', '`', '@', 'é', '\n'), fc.constantFrom('A'.repeat(n - 1), 'b'.repeat(n), '0'.repeat(n + 1))), { maxLength: 12 });
      fc.assert(fc.property(runs, (parts) => hint.test(parts.join('')) === regex.test(parts.join(''))), { numRuns: 10_000 });
      for (const text of ['', 'e'.repeat(n), `x${'0'.repeat(n)}`, `${'f'.repeat(n - 1)}g0`, '/:@G`g']) expect(hint.test(text), text).toBe(regex.test(text));
    }
  });
});

describe('hexBytesApart', () => {
  it('says what /(?:[0-9A-Fa-f]{2} ){11}[0-9A-Fa-f]{2}/ and its colon form say', () => {
    const spaced = /(?:[0-9A-Fa-f]{2} ){11}[0-9A-Fa-f]{2}/;
    const colons = /(?:[0-9A-Fa-f]{2}:){11}[0-9A-Fa-f]{2}/;
    const chars = ['a', 'F', '0', '9', 'g', ' ', '  ', ':', 'ab ', 'ab:', '12 '.repeat(11), '12:'.repeat(11), '1 2 '];
    fc.assert(
      fc.property(textOf(chars, 30), (text) => {
        expect(hexBytesApart(text, ' '), text).toBe(spaced.test(text));
        expect(hexBytesApart(text, ':'), text).toBe(colons.test(text));
      }),
      { numRuns: 30_000 },
    );
  });
});

describe('hexBytesSpaced', () => {
  it('says what /(?:[0-9A-Fa-f]{2}[ \\t]){11}[0-9A-Fa-f]{2}/ says, wherever the run stands', () => {
    const regex = /(?:[0-9A-Fa-f]{2}[ \t]){11}[0-9A-Fa-f]{2}/;
    const chars = ['a', 'F', '0', '9', 'g', 'x', ' ', '\t', '  ', 'ab ', 'ab\t', '12 '.repeat(11), '1a\t'.repeat(6), '1 2 ', 'the quick brown fox '];
    fc.assert(
      fc.property(textOf(chars, 60), (text) => {
        expect(hexBytesSpaced(text), JSON.stringify(text)).toBe(regex.test(text));
      }),
      { numRuns: 30_000 },
    );
  });
});

describe('jwtScanner', () => {
  // (With `max` at 12 for 8192: generated texts then reach past the bounds.)
  const START = '(?:(?<=\\\\[ntrbf])|(?<=%[0-9A-Fa-f]{2})|(?<![A-Za-z0-9]))';
  const AFTER_DOT = '(?:\\r?\\n|\\\\n)?[ \\t]{0,8}';
  const regex = new RegExp(`${START}(?:eyJ[A-Za-z0-9_-]{5,12}\\.${AFTER_DOT}eyJ[A-Za-z0-9_-]{5,12}\\.${AFTER_DOT}[A-Za-z0-9_-]{10,12})(?![A-Za-z0-9])`, 'g');
  const scan = jwtScanner(12);
  const byRegex = (text: string): [number, number][] => [...text.matchAll(regex)].map((m) => [m.index, m.index + m[0].length]);
  it('finds what the regex finds, where it finds it', () => {
    // (Pieces shaped like a JWT, each part near its bounds, among the characters that begin, end or break one.)
    const seg = (min: number, most: number) => textOf(['a', 'Z', '9', '-', '_'], most).filter((t) => t.length >= min);
    const wrap = fc.constantFrom('', '', '\n', '\r\n', '\\n', ' ', '  ', '\t', `\n${' '.repeat(9)}`);
    const jwtish = fc.tuple(seg(3, 14), wrap, seg(3, 14), wrap, seg(8, 15)).map(([a, w1, b, w2, c]) => `eyJ${a}.${w1}eyJ${b}.${w2}${c}`);
    const piece = fc.oneof(jwtish, fc.constantFrom('eyJ', '.', '-', '_', 'a', 'Z', 'x', ' ', '\\n', '\\t', '%2F', '\n'));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 6 }).map((p) => p.join('')), (text) => {
        expect(scan(text), JSON.stringify(text)).toEqual(byRegex(text));
      }),
      { numRuns: 50_000 },
    );
    for (const text of ['eyJabcde.eyJabcde.abcdefghij', 'x eyJabcde.\n  eyJabcde.\\nabcdefghijk-', '-eyJ-eyJabcde.eyJabcde.abcdefghij', 'eyJ' + 'a'.repeat(20) + 'eyJabcde.eyJabcde.abcdefghij']) expect(scan(text), text).toEqual(byRegex(text));
  });
  it('reads `-eyJ` repeated in one pass', () => {
    // (Through the regex, 200 KB of it took 4.8 s; what is asserted is only what is found, the test's time limit the rest.)
    const text = '-eyJ'.repeat(200_000);
    expect(jwtScanner()(text)).toEqual([]);
    expect(jwtScanner()(`_${text}`)).toEqual([]);
  });
});

describe('leadingLiterals', () => {
  // Every detector hint that begins with literals: where the hint passes, one of them stands in the text (the
  // masker skips the hint where none does). Texts made of the hints' own pieces, in both cases, and of noise.
  const hints = Object.values(DETECTOR_SETS)
    .flat()
    .flatMap((d) => (d.hint instanceof RegExp && leadingLiterals(d.hint) ? [d.hint] : []));
  const pieces = [...new Set(hints.flatMap((h) => [...(leadingLiterals(h) as string[]), ...h.source.split(/[|()[\]\\?*+{}]/).filter((p) => p.length > 0 && p.length < 24)]))];
  const holds = (hint: RegExp, text: string) => (leadingLiterals(hint) as string[]).some((l) => (hint.flags.includes('i') ? text.toLowerCase() : text).includes(l));

  it('finds a literal wherever a hint passes', () => {
    expect(hints.length).toBeGreaterThan(40);
    const piece = fc.oneof(fc.constantFrom(...pieces), fc.constantFrom(...pieces).map((p) => p.toUpperCase()), fc.constantFrom(' ', '\t', '\n', '-', '_', '=', ':', '"', '5', 'İ', 'ſ'));
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 12 }).map((ps) => ps.join('')), (text) => hints.every((h) => !h.test(text) || holds(h, text))),
      { numRuns: 20_000 },
    );
  });

  it('reads what a regex must begin with, and gives up where it cannot say', () => {
    expect(leadingLiterals(/nmcli|mysqladmin|aws[ \t]+configure/i)).toEqual(['nmcli', 'mysqladmin', 'aws']);
    expect(leadingLiterals(/zip|\bENV[ \t]|\bset[ \t]+-/i)).toEqual(['zip', 'env', 'set']);
    expect(leadingLiterals(/CURLOPT_(?:USERPWD|PASSWORD)/)).toEqual(['CURLOPT_']);
    expect(leadingLiterals(/\|\||\?\?/)).toEqual(['||', '??']);
    expect(leadingLiterals(/passwords?x/)).toEqual(['password']);
    for (const r of [/(?:Unseal|Recovery) Key/, /ab?c|de/, /a{0,2}bc/, /[A-Z]{4}/, /x|y/, /\d{3}-pass/, /é+/]) expect(leadingLiterals(r), r.source).toBeUndefined();
  });
});

describe('boundedKeyStretch', () => {
  // The AWS secret key's hint: wherever its pattern matches, the hint passes (a hint that failed there would let a
  // key through unmasked). Texts of names, separators and keys of 38–42 characters glued in every way, in runs
  // around the lengths the hint decides on.
  const detector = Object.values(DETECTOR_SETS)
    .flat()
    .find((d) => d.kind === 'aws-secret-key') as { pattern: string; hint: { test(v: string): boolean } };
  const regex = new RegExp(detector.pattern);
  const hint = boundedKeyStretch(40, 32);
  const b64 = fc.constantFrom(...'ABCXYZabcxyz0189/+'.split(''));
  const run = (min: number, max: number) => fc.array(b64, { minLength: min, maxLength: max }).map((cs) => cs.join(''));
  const part = fc.oneof(run(38, 42), run(1, 34), run(60, 120), fc.constantFrom('-', '_', '.', '/', '=', ' ', '"', ':', '\n', '..'));

  it('passes wherever the pattern finds a key', () => {
    fc.assert(
      fc.property(fc.array(part, { maxLength: 7 }).map((ps) => ps.join('')), (text) => !regex.test(text) || hint.test(text)),
      { numRuns: 30_000 },
    );
    expect(detector.hint).toBeDefined();
  });

  it('fails on a base64 blob, and passes on a key alone, glued to a name, or ending a sentence', () => {
    const key = 'wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY12';
    expect(hint.test(Buffer.alloc(3000, 7).toString('base64').replace(/A/g, 'x9'))).toBe(false);
    for (const text of [key, `cli-${key}`, `${key}_v2`, `${'n'.repeat(32)}/${key}/${'m'.repeat(32)}`, `${key}.`, `the key ${key}. Then`, `${key}.and.more.words.after.it.${'z'.repeat(60)}`]) {
      expect(hint.test(text), text).toBe(true);
    }
  });
});
