/**
 * What the consent shows of a client's name (the client chose it): attacks are a name that hides itself behind
 * bidi overrides or invisible characters, one that is empty, and one long enough to push the real wording away.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { shownName } from '../../../main/api/core-api.js';

describe('shownName', () => {
  it('drops control, format and bidi characters, collapses blanks, bounds the length, and is never empty', () => {
    expect(shownName('\u202eedoC edualC\u202c')).toBe('edoC edualC');
    expect(shownName('Claude\u200b\u2066 Code\n\tApp')).toBe('Claude Code App');
    expect(shownName('')).toBe('(no name)');
    expect(shownName('\u200e\u200f')).toBe('(no name)');
    expect([...shownName('x'.repeat(500))].length).toBe(64);
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (name) => {
        const shown = shownName(name);
        expect(shown.length).toBeGreaterThan(0);
        expect([...shown].length).toBeLessThanOrEqual(64);
        expect(shown).not.toMatch(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u);
      }),
      { numRuns: 2_000 },
    );
  });
});
