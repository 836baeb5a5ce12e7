/**
 * Scans that stand in for regexes on the message path, where a regex would try every position of a long text:
 * each says which regex it answers for, and test/unit/masking/scan.test.ts holds it to that on generated texts.
 */

/** A hint: a regex, or a function where it is much cheaper than one (a regex whose first part is one character tries every position). */
export interface Hint {
  test(value: string): boolean;
}

const whitespace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13) || (c > 0x7f && /\s/.test(String.fromCharCode(c)));

/**
 * Whether `value` holds `separator`, then at most `between` characters that are neither it nor whitespace, then
 * `separator` again (`fe80::1`, `1:2:`), as `/:[^:\s]{0,4}:/` would say: found with indexOf, which skips ahead
 * over text without the separator.
 */
export function separatorPair(separator: string, between: number): Hint {
  const sep = separator.charCodeAt(0);
  return {
    test(value) {
      for (let i = value.indexOf(separator); i >= 0; i = value.indexOf(separator, i + 1)) {
        for (let k = i + 1; k <= i + 1 + between && k < value.length; k++) {
          const c = value.charCodeAt(k);
          if (c === sep) return true;
          if (whitespace(c)) break;
        }
      }
      return false;
    },
  };
}

/** Whether `:` then 2–5 digits or `*` then `:` stands in the text (a .pgpass line), as `/:(?:\d{2,5}|\*):/` would say. */
export function portColons(text: string): boolean {
  for (let i = text.indexOf(':'); i >= 0; i = text.indexOf(':', i + 1)) {
    if (text.charCodeAt(i + 1) === 42) {
      if (text.charCodeAt(i + 2) === 58) return true;
      continue;
    }
    let k = i + 1;
    while (k < text.length && k <= i + 6 && text.charCodeAt(k) >= 48 && text.charCodeAt(k) <= 57) k++;
    if (k - i - 1 >= 2 && k - i - 1 <= 5 && text.charCodeAt(k) === 58) return true;
  }
  return false;
}
/** Runs (text between spaces) shorter than this hold no token a run-scoped detector finds (the shortest, a URL password, takes ~12). */
export const MIN_RUN = 12;
const SPACE = 32;
/**
 * The next run of at least MIN_RUN characters between spaces, from `from` (a run's start or the character after
 * a space): [start, end), or undefined. As in Boyer–Moore, it reads the window of MIN_RUN characters from its
 * end backwards: a space there means no long run starts at or before it, and the window moves past it, so
 * prose is crossed several characters at a step (a regex tries every position).
 */
export function nextLongRun(value: string, from: number): [number, number] | undefined {
  const n = value.length;
  let i = from;
  scan: while (i + MIN_RUN <= n) {
    for (let k = i + MIN_RUN - 1; k >= i; k--) {
      if (value.charCodeAt(k) === SPACE) {
        i = k + 1;
        continue scan;
      }
    }
    let end = i + MIN_RUN;
    while (end < n && value.charCodeAt(end) !== SPACE) end++;
    return [i, end];
  }
  return undefined;
}

/** A character of the standard base64 alphabet. */
export const base64Char = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 43 || c === 47;

/**
 * Whether `length` characters of the standard base64 alphabet stand in a row, as `/[A-Za-z0-9/+]{length}/` would
 * say: a regex that begins with a class is tried at every position (and joined into a union of hints, it makes
 * every other hint as slow); this reads the characters once, skipping a window ahead at each character outside
 * the class.
 */
export function base64Stretch(length: number): Hint {
  return {
    test(value) {
      let i = 0;
      scan: while (i + length <= value.length) {
        for (let k = i + length - 1; k >= i; k--) {
          if (!base64Char(value.charCodeAt(k))) {
            i = k + 1;
            continue scan;
          }
        }
        return true;
      }
      return false;
    },
  };
}

/** A regex tried only where a literal it needs stands (`includes` skips ahead far faster than the regex engine does for a pattern that begins with a class). */
export function withLiteral(literal: string, regex: RegExp): Hint {
  return { test: (value) => value.includes(literal) && regex.test(value) };
}

const hexDigit = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
/**
 * Whether twelve hex bytes stand apart, each but the last followed by `separator` (`67 68 70 …`, `44:42:…`), as
 * `/(?:[0-9A-Fa-f]{2}S){11}[0-9A-Fa-f]{2}/` would say for that one separator: only the separators are visited
 * (found with indexOf), each checked for a byte before it and its chain's last three characters back.
 */
export function hexBytesApart(v: string, separator: string): boolean {
  let chain = 0;
  let last = -10;
  for (let k = v.indexOf(separator); k >= 0; k = v.indexOf(separator, k + 1)) {
    if (k < 2 || !hexDigit(v.charCodeAt(k - 2)) || !hexDigit(v.charCodeAt(k - 1))) {
      chain = 0;
      continue;
    }
    chain = last === k - 3 ? chain + 1 : 1;
    last = k;
    if (chain >= 11 && hexDigit(v.charCodeAt(k + 1)) && hexDigit(v.charCodeAt(k + 2))) return true;
  }
  return false;
}

const hexOrBlank = (c: number): boolean => hexDigit(c) || c === 32 || c === 9;
const SPACED_BYTES = /(?:[0-9A-Fa-f]{2}[ \t]){11}[0-9A-Fa-f]{2}/;
/**
 * Whether twelve hex bytes stand apart with blanks between (`67 68 70 …`), as `SPACED_BYTES` says, without running it
 * over prose (where spaces and the letters a–f are everywhere): such a run is 35 characters of hex digits and blanks,
 * so it holds one of every 35th character; only the runs of hex digits and blanks through those are read.
 */
export function hexBytesSpaced(v: string): boolean {
  for (let i = 0; i < v.length; i += 35) {
    if (!hexOrBlank(v.charCodeAt(i))) continue;
    let s = i;
    while (s > 0 && hexOrBlank(v.charCodeAt(s - 1))) s--;
    let e = i + 1;
    while (e < v.length && hexOrBlank(v.charCodeAt(e))) e++;
    if (e - s >= 35 && SPACED_BYTES.test(v.slice(s, e))) return true;
    // (The next run begins after this one: probing goes on from its end.)
    i = e - 35;
  }
  return false;
}
