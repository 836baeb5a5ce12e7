/**
 * The masking corpus (test/fixtures/masking-corpus): synthesised secrets of 50+ kinds in the shapes they travel
 * in (a sentence, a JSON string, an object key, a number under a payment key, env/INI/YAML/TOML files, JSON
 * written out as text with escaped newlines, URLs, HTTP headers), and near-misses that must come through
 * byte-identical (UUIDs, digests, integrity strings, images, ARNs, timestamps, long ids, versions, OIDs, MAC
 * addresses, git remotes, prose about tokens and passwords). Attacks: a secret in a shape the detectors do
 * not know; a false positive that corrupts what a client receives with `inline: true`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createMasker } from '../../../main/masking/masker.js';
import { CORPUS_DIR, corpusFiles, type Sample } from '../../fixtures/masking-corpus/corpus.js';

const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, Buffer.alloc(32, 5));
const read = (name: string): Sample[] =>
  readFileSync(join(CORPUS_DIR, name), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Sample);
const masked = (s: Sample): string => (typeof s.input === 'string' ? masker.text(s.input) : JSON.stringify(masker.json(s.input)));
const positives = read('positives.jsonl');
const negatives = read('negatives.jsonl');

describe('the masking corpus', () => {
  it('the committed corpus is what the generator writes, and as large as promised', () => {
    for (const [name, text] of corpusFiles()) expect(readFileSync(join(CORPUS_DIR, name), 'utf8'), name).toBe(text);
    expect(positives.length).toBeGreaterThanOrEqual(300);
    expect(new Set(positives.map((p) => p.kind)).size).toBeGreaterThanOrEqual(30);
    expect(negatives.length).toBeGreaterThanOrEqual(300);
  });

  it('every positive is masked: its raw value appears nowhere in the result', () => {
    const missed = positives.filter((p) => masked(p).includes(p.secret as string) || !masked(p).includes('[MASKED:'));
    expect(missed.map((p) => `${p.kind}/${p.shape}`)).toEqual([]);
  });

  it('every negative comes through byte-identical', () => {
    const changed = negatives.filter((n) => masked(n) !== (typeof n.input === 'string' ? n.input : JSON.stringify(n.input)));
    expect(changed.map((n) => `${n.kind}/${n.shape}: ${masked(n).slice(0, 120)}`)).toEqual([]);
  });

  it('a property: masking is idempotent and never nests a token in a token, whatever the text around a secret', () => {
    const secrets = positives.filter((p) => typeof p.input === 'string').map((p) => p.input as string);
    fc.assert(
      fc.property(fc.constantFrom(...secrets), fc.string({ maxLength: 40 }), fc.string({ maxLength: 40 }), (secret, before, after) => {
        const once = masker.text(`${before} ${secret} ${after}`);
        expect(masker.text(once)).toBe(once);
        // Every token stays whole: a kind, a colon and 8 hex digits (a token nested in another would break it).
        expect(once).not.toMatch(/\[MASKED:[a-z0-9-]+:(?![0-9a-f]{8}\])/);
      }),
      { numRuns: 300 },
    );
  });
});
