/** A detector: what it finds (a regex source), what it is called in the masked token, and an optional check of each match. */
export interface Detector {
  kind: string;
  /** What to mask. With `prefix`, only what follows the prefix is masked (the key of key=value stays). */
  pattern: string;
  prefix?: string;
  /** A cheap test a string must pass before the detector's pattern is run on it (most strings pass few). */
  hint?: RegExp;
  /** `i` for a case-insensitive custom pattern (it then runs in its own pass). */
  flags?: string;
  validate?: (match: string) => boolean;
}

/** Luhn checksum over the digits of a candidate card number. */
export function luhnValid(text: string): boolean {
  const digits = text.replace(/[ -]/g, '');
  if (digits.length < 13 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const SECRET_KEY_NAMES = 'pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|client[_-]?secret|auth[_-]?token|credentials?';

/** A pattern's letters as [xX] classes: one case-insensitive part inside an otherwise case-sensitive regex. */
function caseless(pattern: string): string {
  return pattern.replace(/[a-z]/g, (c) => `[${c}${c.toUpperCase()}]`);
}

/** The built-in sets, by the names `masking.detectors` uses. */
export const DETECTOR_SETS: Record<'secrets' | 'email' | 'credit-card' | 'ip', Detector[]> = {
  secrets: [
    { kind: 'private-key', hint: /PRIVATE KEY/, pattern: '-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----[\\s\\S]*?-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----' },
    { kind: 'aws-access-key', hint: /A[KSBC][IC]A/, pattern: '\\b(?:AKIA|ASIA|ABIA|ACCA)[0-9A-Z]{16}\\b' },
    { kind: 'github-token', hint: /gh[pousr]_|github_pat_/, pattern: '\\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\\b' },
    { kind: 'gitlab-token', hint: /glpat-/, pattern: '\\bglpat-[A-Za-z0-9_-]{20,}' },
    { kind: 'slack-token', hint: /xox[abposr]-/, pattern: '\\bxox[abposr]-[A-Za-z0-9-]{10,}' },
    { kind: 'slack-webhook', hint: /hooks\.slack\.com/, pattern: 'https://hooks\\.slack\\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+' },
    { kind: 'stripe-key', hint: /[srp]k_(?:live|test)_/, pattern: '\\b(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,}' },
    { kind: 'openai-key', hint: /sk-/, pattern: '\\bsk-(?:proj-|svcacct-|admin-|ant-(?:api\\d\\d-)?)?[A-Za-z0-9_-]{20,}' },
    { kind: 'google-api-key', hint: /AIza/, pattern: '\\bAIza[0-9A-Za-z_-]{35}' },
    { kind: 'jwt', hint: /eyJ/, pattern: '\\beyJ[A-Za-z0-9_-]{5,}\\.eyJ[A-Za-z0-9_-]{5,}\\.[A-Za-z0-9_-]{10,}' },
    // The password of a URL with credentials: scheme://user:PASSWORD@host
    { kind: 'url-password', hint: /:\/\/[^\s/@]*:[^\s@]*@/, prefix: '\\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\\s:/@]+:', pattern: '[^\\s@/]+(?=@)' },
    // key=value and key: value pairs in free text, e.g. `password=hunter2`, `"api_key": "…"`
    {
      kind: 'secret-value',
      hint: new RegExp(`(?:${SECRET_KEY_NAMES})["']?\\s*[:=]`, 'i'),
      prefix: `\\b(?:${caseless(SECRET_KEY_NAMES)})["']?\\s*[:=]\\s*["']?`,
      pattern: `(?!\\[MASKED:)[^\\s"'&,;}\\]]{4,}`,
    },
  ],
  email: [{ kind: 'email', hint: /@/, pattern: '\\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}\\b' }],
  'credit-card': [{ kind: 'credit-card', hint: /\d{4}[ -]?\d{4}/, pattern: '\\b\\d(?:[ -]?\\d){12,18}\\b', validate: luhnValid }],
  ip: [
    { kind: 'ipv4', hint: /\d\.\d+\.\d/, pattern: '\\b(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\b' },
    {
      kind: 'ipv6',
      hint: /[0-9a-fA-F]:[0-9a-fA-F]*:/,
      pattern: '(?<![:.\\w])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![:.\\w])|(?<![:.\\w])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:){0,5}[0-9a-fA-F]{1,4}(?![:.\\w])',
    },
  ],
};

/** Object keys whose string values are secrets whatever they look like. */
export const SECRET_KEY = new RegExp(`^(?:${SECRET_KEY_NAMES}|authorization|cookie|set-cookie|x-api-key)$`, 'i');
