import { createHmac } from 'node:crypto';
import { compileRegex } from '../config/regex.js';
import { DETECTOR_SETS, SECRET_KEY, type Detector } from './detectors.js';

export interface MaskingSettings {
  detectors: readonly (keyof typeof DETECTOR_SETS)[];
  custom: readonly { name: string; pattern: string }[];
}

/** Replaces secrets and personal data in text and JSON with `[MASKED:kind:hash]`. */
export interface Masker {
  text(value: string): string;
  /** A deep copy of `value` with every string masked; the JSON stays valid. Returns `value` itself when nothing was found. */
  json<T>(value: T): T;
}

interface CompiledSet {
  regex: RegExp;
  detectors: Detector[];
}

type Passes = CompiledSet[];

const MAX_CACHED_SETS = 256;

/** A custom detector from `masking.custom`: a leading `(?i)` means case-insensitive, as in policy rules. */
function customDetector(c: { name: string; pattern: string }): Detector {
  const re = compileRegex(c.pattern);
  return { kind: c.name, pattern: re.source, flags: re.flags };
}

/**
 * Builds a masker. The detectors a string calls for are joined into one regex (one pass over the string), each in a
 * named group so a match knows its kind. The hash in a token is a keyed HMAC prefix: the same secret masks to
 * the same token everywhere (so analysts can correlate), and without the key it cannot be guessed back.
 */
export function createMasker(settings: MaskingSettings, key: Buffer): Masker {
  const detectors: Detector[] = [...settings.detectors.flatMap((name) => DETECTOR_SETS[name]), ...settings.custom.map(customDetector)];
  if (detectors.length > 30) throw new Error('at most 30 masking detectors (built-in and custom together)');
  // The detectors a string's hints call for, joined into one regex; compiled once per combination.
  const sets = new Map<number, Passes>();
  const passesFor = (value: string): Passes => {
    let mask = 0;
    for (let i = 0; i < detectors.length; i++) {
      const hint = (detectors[i] as Detector).hint;
      if (!hint || hint.test(value)) mask |= 1 << i;
    }
    if (mask === 0) return [];
    let passes = sets.get(mask);
    if (!passes) {
      if (sets.size > MAX_CACHED_SETS) sets.clear();
      const chosen = detectors.filter((_, i) => mask & (1 << i));
      // One pass for the case-sensitive detectors (nearly all), one for each case-insensitive custom one.
      passes = [compile(chosen.filter((d) => !d.flags), ''), ...chosen.filter((d) => d.flags).map((d) => compile([d], d.flags as string))].filter(
        (p): p is CompiledSet => p !== undefined,
      );
      sets.set(mask, passes);
    }
    return passes;
  };
  const tokens = new Map<string, string>();
  const token = (kind: string, secret: string): string => {
    const cacheKey = `${kind}\u0000${secret}`;
    let t = tokens.get(cacheKey);
    if (!t) {
      t = `[MASKED:${kind}:${createHmac('sha256', key).update(secret).digest('hex').slice(0, 8)}]`;
      if (tokens.size > 10_000) tokens.clear();
      tokens.set(cacheKey, t);
    }
    return t;
  };

  const replaceIn = (value: string, set: CompiledSet): string =>
    value.replace(set.regex, (match: string, ...rest: unknown[]) => {
      const groups = rest[rest.length - 1] as Record<string, string | undefined>;
      for (let i = 0; i < set.detectors.length; i++) {
        const secret = groups[`d${i}`];
        if (secret !== undefined) {
          const d = set.detectors[i] as Detector;
          if (d.validate && !d.validate(secret)) return match;
          return (groups[`p${i}`] ?? '') + token(d.kind, secret);
        }
      }
      return match;
    });

  const text = (value: string): string => {
    let out = value;
    for (const set of passesFor(value)) out = replaceIn(out, set);
    return out;
  };

  const walk = (value: unknown, keyName: string | undefined): unknown => {
    if (typeof value === 'string') {
      if (keyName !== undefined && value.length > 0 && SECRET_KEY.test(keyName) && !value.startsWith('[MASKED:')) return token('secret-value', value);
      return text(value);
    }
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const masked = walk(value[i], undefined);
        if (masked !== value[i]) (copy ??= value.slice())[i] = masked;
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === 'object') {
      let copy: Record<string, unknown> | undefined;
      for (const [k, v] of Object.entries(value)) {
        const masked = walk(v, k);
        if (masked !== v) (copy ??= { ...(value as Record<string, unknown>) })[k] = masked;
      }
      return copy ?? value;
    }
    return value;
  };

  return { text, json: <T>(value: T) => walk(value, undefined) as T };
}

function compile(detectors: Detector[], flags: string): CompiledSet | undefined {
  if (detectors.length === 0) return undefined;
  const source = detectors.map((d, i) => (d.prefix ? `(?<p${i}>${d.prefix})(?<d${i}>${d.pattern})` : `(?<d${i}>${d.pattern})`)).join('|');
  return { regex: new RegExp(source, `g${flags}`), detectors };
}
