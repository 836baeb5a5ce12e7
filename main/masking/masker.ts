import { createHmac } from 'node:crypto';
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

/**
 * Builds a masker. Detectors are joined into one regex (one pass over each string), each in a
 * named group so a match knows its kind. The hash in a token is a keyed HMAC prefix: the same secret masks to
 * the same token everywhere (so analysts can correlate), and without the key it cannot be guessed back.
 */
export function createMasker(settings: MaskingSettings, key: Buffer): Masker {
  const detectors: Detector[] = [...settings.detectors.flatMap((name) => DETECTOR_SETS[name]), ...settings.custom.map((c) => ({ kind: c.name, pattern: c.pattern }))];
  const set = compile(detectors);
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

  const text = (value: string): string => {
    if (!set) return value;
    return value.replace(set.regex, (match: string, ...rest: unknown[]) => {
      const groups = rest[rest.length - 1] as Record<string, string | undefined>;
      for (let i = 0; i < set.detectors.length; i++) {
        if (groups[`d${i}`] !== undefined) {
          const d = set.detectors[i] as Detector;
          return d.validate && !d.validate(match) ? match : token(d.kind, match);
        }
      }
      return match;
    });
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

function compile(detectors: Detector[]): CompiledSet | undefined {
  if (detectors.length === 0) return undefined;
  const source = detectors.map((d, i) => `(?<d${i}>${d.pattern})`).join('|');
  return { regex: new RegExp(source, 'g'), detectors };
}
