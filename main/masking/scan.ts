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
 * Whether `length` characters that `inClass` accepts stand in a row, as `/[…]{length}/` would say: a regex that
 * begins with a class is tried at every position (and joined into a union of hints, it makes every other hint as
 * slow); this reads the characters once, skipping a window ahead at each character outside the class.
 */
function classStretch(inClass: (c: number) => boolean, length: number): Hint {
  return {
    test(value) {
      let i = 0;
      scan: while (i + length <= value.length) {
        for (let k = i + length - 1; k >= i; k--) {
          if (!inClass(value.charCodeAt(k))) {
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

/** Whether `length` characters of the standard base64 alphabet stand in a row, as `/[A-Za-z0-9/+]{length}/` would say. */
export const base64Stretch = (length: number): Hint => classStretch(base64Char, length);

const keyStretchChar = (c: number): boolean => base64Char(c) || c === 61 || c === 95 || c === 46 || c === 45; // and = _ . -
/**
 * Whether a bare key of `length` base64 characters could stand in the text as the AWS secret key's pattern finds
 * one (bounded by characters outside `[A-Za-z0-9/+=_.-]`, or glued by `/ _ . -` to a name of at most `glue`
 * characters that begins or ends its stretch): some stretch of those characters at least `length` long is at
 * most `length + 2 × (glue + 1)` long, or holds a `.` where the key could end. A base64 blob of kilobytes has no
 * such stretch, so the pattern's scan of it, which tries every position, is spared.
 */
export function boundedKeyStretch(length: number, glue: number): Hint {
  return {
    test: (value) => {
      for (let s = 0; s < value.length; ) {
        if (!keyStretchChar(value.charCodeAt(s))) {
          s++;
          continue;
        }
        let t = s;
        while (t < value.length && keyStretchChar(value.charCodeAt(t))) t++;
        if (t - s >= length) {
          if (t - s <= length + 2 * (glue + 1)) return true;
          const dot = value.indexOf('.', s + length);
          if (dot >= 0 && dot <= s + length + glue + 1 && dot < t) return true;
        }
        s = t;
      }
      return false;
    },
  };
}

/**
 * Whether `literal` stands in a text, searched for from its piece at `from` (of at most 6 characters, led by one
 * rare in text), as `text.includes(literal)` would say. V8 searches a literal of 7 characters or more with tables
 * built at every call once its first character keeps matching (1–2 µs over 4 KB of prose for ` LOGIN `), a
 * shorter one with a plain scan for its first character.
 */
export function literalFrom(literal: string, from: number): Hint {
  const piece = literal.slice(from, from + 6);
  return {
    test(text) {
      for (let i = text.indexOf(piece, from); i >= 0; i = text.indexOf(piece, i + 1)) if (text.startsWith(literal, i - from)) return true;
      return false;
    },
  };
}

/** A regex tried only where a literal it needs stands (`includes` skips ahead far faster than the regex engine does for a pattern that begins with a class). */
export function withLiteral(literal: string, regex: RegExp): Hint {
  return { test: (value) => value.includes(literal) && regex.test(value) };
}

const hexDigit = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 102);
/** Whether `length` hex digits stand in a row, as `/[0-9A-Fa-f]{length}/` would say. */
export const hexStretch = (length: number): Hint => classStretch(hexDigit, length);
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

const alnum = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122);
const base64urlChar = (c: number): boolean => alnum(c) || c === 95 || c === 45;
/** Where a run of base64url characters from `i` ends. */
const base64urlEnd = (v: string, i: number): number => {
  while (i < v.length && base64urlChar(v.charCodeAt(i))) i++;
  return i;
};
/** Whether a token may begin at `i`: not inside a word, unless an escape (`\n`) or a percent-escape (`%2F`) stands before it. */
export function tokenStartAt(v: string, i: number): boolean {
  if (i === 0 || !alnum(v.charCodeAt(i - 1))) return true;
  if (i >= 2 && v.charCodeAt(i - 2) === 92 && 'ntrbf'.includes(v[i - 1] as string)) return true;
  return i >= 3 && v.charCodeAt(i - 3) === 37 && hexDigit(v.charCodeAt(i - 2)) && hexDigit(v.charCodeAt(i - 1));
}
/** After a JWT's dot: a line break a log folded there (`\r\n`, `\n` or the two characters `\n`), then up to 8 blanks. */
function afterDot(v: string, i: number): number {
  if (v.charCodeAt(i) === 13 && v.charCodeAt(i + 1) === 10) i += 2;
  else if (v.charCodeAt(i) === 10) i += 1;
  else if (v.charCodeAt(i) === 92 && v.charCodeAt(i + 1) === 110) i += 2;
  for (let k = 0; k < 8 && (v.charCodeAt(i) === 32 || v.charCodeAt(i) === 9); k++) i++;
  return i;
}
/**
 * The JWTs in a text, [start, end) in order, as this regex (with `g`) finds them, `max` standing for 8192:
 * `START eyJ S{5,max} \. W? [ \t]{0,8} eyJ S{5,max} \. W? [ \t]{0,8} S{10,max} (?![A-Za-z0-9])`, where START is
 * where tokenStartAt says a token may begin, S a base64url character and W a folded line's break. The regex reads
 * up to `max` characters ahead at every `eyJ` and back again (`-eyJ` repeated, 4.8 s for 200 KB); this reads each
 * run of base64url once: a try that fails at one `eyJ` fails at every later one in the same run (they share all
 * that follows the run), so the search goes on after the run.
 */
export function jwtScanner(max = 8192): (v: string) => [number, number][] {
  return (v) => {
    const found: [number, number][] = [];
    let from = 0;
    for (let i = v.indexOf('eyJ'); i >= 0; i = v.indexOf('eyJ', from)) {
      from = i + 1;
      if (!tokenStartAt(v, i)) continue;
      const end1 = base64urlEnd(v, i + 3);
      if (end1 - i - 3 > max) {
        // (A later `eyJ` in the run leaves a first part short enough.)
        from = Math.max(i + 1, end1 - 3 - max);
        continue;
      }
      from = end1;
      const end = jwtTail(v, end1, max);
      if (end1 - i - 3 < 5 || end === undefined) continue;
      found.push([i, end]);
      from = end;
    }
    return found;
  };
}
/** From a JWT's first dot: the end of its second and third parts, or undefined. */
function jwtTail(v: string, dot1: number, max: number): number | undefined {
  if (v.charCodeAt(dot1) !== 46) return undefined;
  const s2 = afterDot(v, dot1 + 1);
  if (!v.startsWith('eyJ', s2)) return undefined;
  const end2 = base64urlEnd(v, s2 + 3);
  if (end2 - s2 - 3 < 5 || end2 - s2 - 3 > max || v.charCodeAt(end2) !== 46) return undefined;
  const s3 = afterDot(v, end2 + 1);
  const end3 = base64urlEnd(v, s3);
  if (end3 - s3 <= max) return end3 - s3 >= 10 ? end3 : undefined;
  // (Longer than `max`: the regex gives back characters until one that is not a letter or digit follows.)
  for (let k = max; k >= 10; k--) if (!alnum(v.charCodeAt(s3 + k))) return s3 + k;
  return undefined;
}

const LITERAL_ESCAPE: Record<string, string> = { t: '\t', n: '\n', r: '\r' };
/**
 * The literal each of a regex's alternatives begins with (`nmcli|mysqladmin|aws[ \t]+configure` → nmcli,
 * mysqladmin, aws), lower-cased for a case-insensitive one, or undefined when an alternative begins with no
 * literal of two characters or more (a class, a group, a lookaround) or holds other than ASCII. The regex can match a
 * text only where one of them stands in it (in its lower-cased form, for a case-insensitive regex): a plain
 * substring search, far cheaper than the regex's own scan, which V8 cannot speed up for a case-insensitive
 * alternation.
 */
export function leadingLiterals(regex: RegExp): string[] | undefined {
  const source = regex.source;
  if (/[^\x20-\x7e]/.test(source) || regex.flags.includes('m')) return undefined;
  const alternatives: string[] = [];
  let depth = 0;
  let inClass = false;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      alternatives.push(source.slice(from, i));
      from = i + 1;
    }
  }
  alternatives.push(source.slice(from));
  const literals: string[] = [];
  for (const alternative of alternatives) {
    let i = alternative.startsWith('\\b') ? 2 : 0;
    let literal = '';
    for (; i < alternative.length; i++) {
      const c = alternative[i] as string;
      let char: string | undefined;
      let width = 1;
      if (c === '\\') {
        const e = alternative[i + 1] ?? '';
        char = LITERAL_ESCAPE[e] ?? (/[.\-/|()[\]{}*+?$^\\:="'<>,@#%&!~;]/.test(e) ? e : undefined);
        width = 2;
      } else if (!/[[\](){}.*+?^$|]/.test(c)) char = c;
      if (char === undefined) break;
      const next = alternative[i + width];
      // (A character a quantifier may leave out is no part of what must stand there.)
      if (next === '?' || next === '*' || (next === '{' && /^\{0[,}]/.test(alternative.slice(i + width)))) break;
      literal += char;
      i += width - 1;
      if (next === '+' || next === '{') break;
    }
    if (literal.length < 2) return undefined;
    literals.push(regex.flags.includes('i') ? literal.toLowerCase() : literal);
  }
  return literals;
}
