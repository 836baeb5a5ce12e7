import { createHmac } from 'node:crypto';
import { findNodeAtLocation, parseTree, type JSONPath, type Node as JsonNode } from 'jsonc-parser';
import { gunzipSync, inflateSync } from 'node:zlib';
import { compileRegex } from '../config/regex.js';
import { base64Char, hexBytesApart, hexBytesSpaced, hexStretch, leadingLiterals, nextLongRun, type Hint } from './scan.js';
import { describesSecret, labelNotSecret, SCHEMA_VALUES, namedOtherwise, CONTEXT_GATE, CONTEXT_REACH, DETECTOR_SETS, foldable, FOLDABLE_AT, KEY_BLOCK_BEGIN, KEY_BLOCK_END, isPaymentKeyName, namedContextPossible, normalizeKeyName, isPlaceholder, keyWords, MASKED_TOKEN, plausibleCard, secretKeyStrength, secretLooking, sentenceLike, versionRange, type Detector } from './detectors.js';

export interface MaskingSettings {
  detectors: readonly (keyof typeof DETECTOR_SETS)[];
  custom: readonly { name: string; pattern: string }[];
}

/** Replaces secrets and personal data in text and JSON with `[MASKED:kind:hash]`. */
export interface Masker {
  text(value: string): string;
  /** A deep copy of `value` with every string (and key, and card number under a payment key) masked; the JSON stays valid. Returns `value` itself when nothing was found. */
  json<T>(value: T): T;
  /** The token for a value known to be a secret of `kind` (the same value, the same token). */
  token(kind: string, value: string): string;
}

interface CompiledSet {
  regex: RegExp;
  /** The same regex, sticky: a match only where it is tried. */
  sticky: RegExp;
  detectors: Detector[];
}

/** Where a gate's words stand decides where a pass is tried (CONTEXT_REACH's distances). */
type Windows = typeof CONTEXT_REACH;
/** Sticky tries cost several times what a scan costs per character: past this share of the text, the pass scans it all. */
const WINDOWED_SHARE = 1 / 6;
/** The longest word of CONTEXT_GATE (`session`), and what a separator spans (`%3D`). */
const GATE_WORD = 8;
const SEPARATOR_SPAN = 3;

/**
 * The stretches of `value` where a gate word that a match could hold may stand: up to `reach` characters before
 * each separator (`:`, `=`, `%3D`, a TAB after a letter) and the separator itself, joined where they overlap. Undefined when the
 * separators are so many that the stretches would cover most of the text (JSON written out as text).
 */
function beforeSeparators(value: string, reach: number): [number, number][] | undefined {
  const limit = value.length / reach;
  const at: number[] = [];
  // (A TAB after a letter separates a label from its value too: a two-column table, `Access Token<TAB>…`.)
  for (const sep of [':', '=', '%', '\t']) {
    for (let i = value.indexOf(sep); i >= 0; i = value.indexOf(sep, i + 1)) {
      if (sep === '%' && !(value.charCodeAt(i + 1) === 51 && (value.charCodeAt(i + 2) | 0x20) === 100)) continue;
      if (sep === '\t' && ((value.charCodeAt(i - 1) | 0x20) < 97 || (value.charCodeAt(i - 1) | 0x20) > 122)) continue;
      at.push(i);
      if (at.length > limit) return undefined;
    }
  }
  at.sort((a, b) => a - b);
  const stretches: [number, number][] = [];
  for (const c of at) {
    const from = Math.max(0, c - reach - GATE_WORD);
    const to = Math.min(value.length, c + SEPARATOR_SPAN);
    const last = stretches[stretches.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else stretches.push([from, to]);
  }
  return stretches;
}

const keyChar = (c: number): boolean => (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 95 || c === 46 || c === 45;
const blank = (c: number): boolean => c === 32 || c === 9;

/**
 * The start of the line a word at `index` stands on when only a key, blanks and `export` come before it
 * (`export<many blanks>DB_PASSWORD=`): 0, its newline, or the backslash of an escaped `\n`; else undefined.
 */
function lineStartBehind(value: string, index: number): number | undefined {
  let i = index - 1;
  while (i >= 0 && keyChar(value.charCodeAt(i))) i--;
  while (i >= 0 && blank(value.charCodeAt(i))) i--;
  if (i >= 5 && value.slice(i - 5, i + 1).toLowerCase() === 'export') {
    i -= 6;
    while (i >= 0 && blank(value.charCodeAt(i))) i--;
  }
  if (i < 0) return 0;
  if (value.charCodeAt(i) === 10) return i;
  if ((value.charCodeAt(i) | 0x20) === 110 && value.charCodeAt(i - 1) === 92) return i - 1;
  return undefined;
}

/**
 * The places where a pass whose matches begin within `reach` of a gate word may match, in order: around each
 * gate match the `near` places before it and its own, and the line starts (0, a newline, an escaped `\n`)
 * within `line` before it. The gate's words are looked for only before separators where those are few.
 * Undefined when the places would be so many that a scan of the whole text costs less.
 */
function windowStarts(value: string, gate: RegExp, reach: Windows): number[] | undefined {
  const starts: number[] = [];
  const limit = value.length * WINDOWED_SHARE;
  let next = 0;
  const add = (index: number, length: number): boolean => {
    const near = Math.max(next, index - reach.near);
    // (In order: a line start farther back than `line` first, then those within it, then the places near.)
    const line = lineStartBehind(value, index);
    if (line !== undefined && line >= next && line < Math.max(next, index - reach.line)) starts.push(line);
    for (let q = Math.max(next, index - reach.line); q < near; q++) {
      const c = value.charCodeAt(q);
      if (q === 0 || c === 10 || (c === 92 && (value.charCodeAt(q + 1) | 0x20) === 110)) starts.push(q);
    }
    const end = Math.min(value.length - 1, index + length);
    for (let q = near; q <= end; q++) starts.push(q);
    next = Math.max(next, end + 1);
    return starts.length <= limit;
  };
  const stretches = beforeSeparators(value, reach.separator) ?? [[0, value.length]];
  for (const [from, to] of stretches) {
    const text = from === 0 && to === value.length ? value : value.slice(from, to);
    gate.lastIndex = 0;
    for (let g = gate.exec(text); g !== null; g = gate.exec(text)) if (!add(from + g.index, g[0].length)) return undefined;
  }
  return starts;
}

const MAX_CACHED_SETS = 256;
/** Strings this short are masked once each and the answer kept (at most MAX_KNOWN of them: about 2 MB). */
const MAX_KNOWN_LENGTH = 256;
const MAX_KNOWN = 4096;
const TOKEN_AT = /^\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]/;
const TOKEN_IN = /\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]/;
/** A value that is only dotted numbers (a version, an OID), under a key that says so, is neither an address nor a secret. */
const DOTTED = /^\d+(?:\.\d+)+$/;
/** A name as a `[name, value]` pair names its value: a header, an env variable, a field label (up to three words). */
const BARE_NAME = /^[A-Za-z_][\w.-]{0,63}(?: [\w.-]{1,32}){0,2}$/;
/** A field's or a variable's name in words joined by `_` or `-` (`confirm_password`, `ALLOW_REFRESH_TOKEN_AUTH`), not a word a password may be. */
const FIELD_NAME = /^[A-Za-z][A-Za-z0-9]*(?:[_-][A-Za-z0-9]+)+$/;
const VERSION_WORDS = new Set(['version', 'ver', 'oid', 'extn', 'build', 'release', 'firmware', 'revision', 'rev']);
const MIN_BASE64 = 16;
/** Whether a text is JSON. */
function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
/** A text that may be a JSON document (an object or an array). */
const JSON_TEXT_START = /^[ \t\r\n]*[[{]/;
/** What names an object whose members are secrets by what it is (see secretMembers): a JSON text holding one is read as JSON. */
const STRUCTURE_HINT = /"kind"\s*:\s*"Secret"|"lease_duration"|"override_special"|"min_special"|"random_(?:password|string)"|"created_time"|"values"\s*:\s*\[|"[^"\n]{0,60}(?:pass|secret|token|oauth|cred|auth)[^"\n]{0,60}"\s*:\s*[{[]/i;
/** The longest JSON text read as JSON for that (a tool's answer; the text passes still read longer ones). */
const MAX_STRUCTURE_TEXT = 8 * 1024 * 1024;
/** What the detectors' checks may refuse in one pass over a text (see `replaceIn`): this many characters per character of it, and a base. */
const REFUSED_PER_CHAR = 4;
const REFUSED_BASE = 65_536;
/** The characters decoded and searched below a text (see `budget` in createMasker): this many per character of it, and a base. */
const BUDGET_PER_CHAR = 8;
const BUDGET_BASE = 16_384;
/** A search costs about as much as this many characters more, however short its text (the passes each start over). */
const SEARCH_COST = 128;
/** What a decoded text's search answers past the budget: not the text (so its run is masked); no decoded text holds a NUL. */
const UNCHECKED = '\u0000unchecked';
/** `/`, `_`, `-`, `+`: in a base64 alphabet, and what glues a name to a value; so many are tried from each end. */
/** The characters of the base64 alphabets that glue a run to a name: `/`, `_`, `-`, `+`. */
const glue = (c: number): boolean => c === 0x2f || c === 0x5f || c === 0x2d || c === 0x2b;
const GLUE_CUTS = 3;
const MIN_HEX = 24;
const HEX_RUN = /(?<![0-9A-Fa-f])(?:[0-9A-Fa-f]{2}){12,32768}(?![0-9A-Fa-f])/g;
/** Where HEX_RUN can match at all (the regex tries every position of a run; this skips ahead). */
const HEX_STRETCH = hexStretch(MIN_HEX);
/**
 * A run of characters of either base64 alphabet (the standard one's `+` and `/`, the url-safe one's `-` and `_`: a
 * name glued to base64 by one of them, or base64 of one alphabet glued by the other's, is one run), ended by its
 * padding (`…Pj4=/v2`: what follows the padding is another run) or by a character of neither.
 */
/** The longest run BASE64_RUN matches (a longer quantifier overflows the regex stack on a 16 MB run). */
const MAX_BASE64_MATCH = 65_536;
const BASE64_RUN = /(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{16,65536}(?:={1,2}(?!=)|(?![A-Za-z0-9+/=_-]))/g;
const control = (b: number): boolean => (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d) || b === 0x7f;
/** Base64 of gzip (`H4sI`: a Helm release, a compressed payload) or zlib (`eJ`, `eNo`, `eAE`). */
const COMPRESSED_BASE64 = /^(?:H4sI|eJ|eNo|eAE)/;
/** What a text decompressed below another may grow to, at most (past it, or past the text's budget, it is masked unread). */
const MAX_INFLATED = 16 * 1024 * 1024;
/** The text a run of base64 of gzip or zlib holds: undefined if it is neither, or not text; `too large` past `limit` bytes. */
function inflatedText(run: string, limit: number): string | undefined | 'too large' {
  const bytes = Buffer.from(run, 'base64');
  const gzip = bytes[0] === 0x1f && bytes[1] === 0x8b;
  const zlib = bytes[0] === 0x78 && ((bytes[0] << 8) | (bytes[1] ?? 0)) % 31 === 0;
  if (!gzip && !zlib) return undefined;
  try {
    return asText(gzip ? gunzipSync(bytes, { maxOutputLength: Math.max(1, limit) }) : inflateSync(bytes, { maxOutputLength: Math.max(1, limit) }));
  } catch (error) {
    return (error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' ? 'too large' : undefined;
  }
}
/** Whether bytes are UTF-16LE text of ASCII (a zero after every character: what Windows tools and PowerShell write). */
function utf16(bytes: Buffer): boolean {
  if (bytes.length < 8) return false;
  for (let i = 1; i < bytes.length; i += 2) if (bytes[i] !== 0 || control(bytes[i - 1] as number)) return false;
  return true;
}
/**
 * The text that bytes are, or undefined for binary: UTF-8 with at most one control character in 64 (a stray
 * byte before a secret does not make it binary; each such byte reads as a line break), or UTF-16LE.
 */
function asText(bytes: Buffer): string | undefined {
  if (utf16(bytes)) return bytes.toString('utf16le');
  let controls = 0;
  for (const b of bytes) if (control(b) && ++controls > Math.max(1, bytes.length / 64)) return undefined;
  // Cut anywhere, a multi-byte character's last bytes may be missing: only a replacement inside the text counts.
  const decoded = bytes.toString('utf8');
  const bad = decoded.indexOf('\ufffd');
  if (bad >= 0 && bad < decoded.length - 1) return undefined;
  return controls === 0 ? decoded : decoded.replace(/\p{Cc}/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? c : '\n'));
}
const BASE64_VALUE = new Int8Array(128).fill(-1);
for (const [i, c] of [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'].entries()) BASE64_VALUE[c.charCodeAt(0)] = i;
BASE64_VALUE[0x2d] = 62;
BASE64_VALUE[0x5f] = 63;
/**
 * Whether the bytes that the first 32 characters of base64 from `from` decode to hold no control character: the
 * cheap first test of `printable`, without a buffer (most runs of base64 are binary, and fail it in a few bytes).
 */
function textStart(run: string, from: number): boolean {
  let bits = 0;
  let held = 0;
  let controls = 0;
  let zeros = 0;
  let n = 0;
  const end = Math.min(run.length, from + 32);
  for (let i = from; i < end; i++) {
    const c = run.charCodeAt(i);
    const v = c < 128 ? (BASE64_VALUE[c] as number) : -1;
    if (v < 0) break;
    bits = ((bits << 6) | v) & 0xfff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      const b = (bits >> held) & 0xff;
      // (UTF-16LE of ASCII: every second byte a zero.)
      if (n % 2 === 1 && b === 0) zeros++;
      else if (control(b)) controls++;
      n++;
    }
  }
  return controls <= 1 || (zeros >= Math.floor(n / 2) && controls === 0);
}
const BASIC_CREDENTIALS = /^[A-Za-z0-9._@+-]{1,128}:[^\s]{3,}$/;
/** What GitHub's legacy node ids decode to (`MDEwOlJlcG9zaXRvcnkxMjk2MjY5` is `010:Repository1296269`): a type and a number. */
const GITHUB_NODE_ID = /^0\d{1,2}:[A-Z][A-Za-z]{1,40}\d{1,20}(?::\d{1,20})?$/;
const tokenCount = (text: string): number => text.split('[MASKED:').length - 1;
const ENTITIES: Record<string, string> = { quot: '"', amp: '&', lt: '<', gt: '>', apos: "'", equals: '=', colon: ':', sol: '/', bsol: '\\', lowbar: '_', period: '.', commat: '@', num: '#', quest: '?', excl: '!', dollar: '$', percnt: '%', plus: '+', comma: ',', semi: ';', ast: '*', lpar: '(', rpar: ')', lsqb: '[', rsqb: ']', lcub: '{', rcub: '}', verbar: '|', hat: '^', grave: '`', tilde: '~', nbsp: ' ', tab: '\t', newline: '\n' };
/** A character reference: a number (its `;` optional, as browsers read it), or a name. */
const ENTITY = new RegExp(`&(?:#(\\d{1,7});?|#x([0-9a-f]{1,6});?|(${Object.keys(ENTITIES).join('|')});)`, 'gi');
const ENTITY_SIGN = new RegExp(ENTITY.source, 'i');
const PERCENT = /%([0-9A-Fa-f]{2})/g;
const entity = (m: string, dec?: string, hex?: string, name?: string): string => {
  const cp = dec !== undefined ? Number(dec) : hex !== undefined ? parseInt(hex, 16) : -1;
  return name !== undefined ? ((Object.hasOwn(ENTITIES, name.toLowerCase()) ? ENTITIES[name.toLowerCase()] : undefined) ?? m) : cp >= 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
};
const UNICODE_ESCAPE = /\\u[0-9a-fA-F]{4}|\\u\{[0-9a-fA-F]{1,6}\}|\\U[0-9a-fA-F]{8}|%u[0-9a-fA-F]{4}/;
const UNICODE_ESCAPE_AT = new RegExp(UNICODE_ESCAPE.source, 'g');
const codePoint = (m: string): string => {
  const cp = parseInt(m.replace(/^(?:\\u\{?|\\U|%u)|\}$/g, ''), 16);
  return cp <= 0x10ffff ? String.fromCodePoint(cp) : m;
};
const fromHex = (_m: string, h: string): string => String.fromCharCode(parseInt(h, 16));
/**
 * Each way a text may be encoded, with its sign (a cheap test first), where it stands (`at`: a global regex) and
 * its decoding: look-alike and invisible characters, HTML entities, `\u0041`, `\x41` (a Python or C byte string),
 * percent-encoding (twice: `%2567` is `%67` is `g`), and hex bytes written apart (`67 68 70 5f`, as xxd and od
 * print them). Each decoding is local: a part of a text decodes to the part of its decoding.
 */
const SPACED_HEX = /(?:[0-9A-Fa-f]{2}[ \t]){11,}[0-9A-Fa-f]{2}(?![0-9A-Fa-f])/g;
const COLON_HEX = /(?<![0-9A-Fa-f:])(?:[0-9A-Fa-f]{2}:){11,}[0-9A-Fa-f]{2}(?![0-9A-Fa-f:])/g;
const C_HEX = /(?:0x[0-9A-Fa-f]{2}(?![0-9A-Fa-f])[ \t,]*){12,}/g;
const OCTAL = /\\([0-3][0-7]{2})/g;
const JSON_ESCAPE = /\\(["\\/bfnrt])/g;
const JSON_ESCAPED: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };
/**
 * Each way a text may be encoded (see above); `encode`, for the reading whose text is kept as written: what is
 * found in JSON written inside a string (`{"yaml":"password:\\n  …"}`) is masked where it is written, and the
 * text keeps its escapes (a client given it with `inline: true` still parses it). See maskedAsWritten.
 */
const DECODINGS: { sign: (v: string) => boolean; at: RegExp; decode: (v: string) => string; encode?: true }[] = [
  { sign: foldable, at: FOLDABLE_AT, decode: normalizeKeyName },
  {
    sign: (v) => v.includes('&') && ENTITY_SIGN.test(v),
    at: ENTITY,
    // (Twice, as percent-encoding: `&amp;#112;` is `&#112;` is `p`.)
    decode: (v) => {
      const once = v.replace(ENTITY, entity);
      return once.includes('&') && once !== v ? once.replace(ENTITY, entity) : once;
    },
  },
  // `\u0070`, and as other languages write a code point: `\u{70}` (JavaScript, Rust, Swift), `\U00000070` (Python, C), `%u0070` (old JavaScript escape()).
  { sign: (v) => (v.includes('\\u') || v.includes('\\U') || v.includes('%u')) && UNICODE_ESCAPE.test(v), at: UNICODE_ESCAPE_AT, decode: (v) => v.replace(UNICODE_ESCAPE_AT, codePoint) },
  { sign: (v) => v.includes('\\x') && /\\x[0-9a-fA-F]{2}/.test(v), at: /\\x[0-9a-fA-F]{2}/g, decode: (v) => v.replace(/\\x([0-9a-fA-F]{2})/g, fromHex) },
  {
    sign: (v) => v.includes('%') && /%[0-9A-Fa-f]{2}/.test(v),
    at: PERCENT,
    decode: (v) => {
      const once = v.replace(PERCENT, fromHex);
      return /%[0-9A-Fa-f]{2}/.test(once) ? once.replace(PERCENT, fromHex) : once;
    },
  },
  { sign: hexBytesSpaced, at: SPACED_HEX, decode: (v) => v.replace(SPACED_HEX, (run) => run.replace(/[ \t]/g, '')) },
  // Hex bytes joined by colons (`44:42:5f:…`), and as C writes them (`0x44, 0x42, …`); octal escapes (`\104\102`).
  { sign: (v) => hexBytesApart(v, ':'), at: COLON_HEX, decode: (v) => v.replace(COLON_HEX, (run) => run.replace(/:/g, '')) },
  { sign: (v) => v.includes('0x') && /(?:0x[0-9A-Fa-f]{2}[ \t,]*){12}/.test(v), at: C_HEX, decode: (v) => v.replace(C_HEX, (run) => ` ${run.replace(/0x|[ \t,]/g, '')} `) },
  { sign: (v) => v.includes('\\') && /\\[0-3][0-7]{2}/.test(v), at: OCTAL, decode: (v) => v.replace(OCTAL, (_m, o: string) => String.fromCharCode(parseInt(o, 8))) },
  // (Last: the other readings' escapes are read first.)
  {
    sign: (v) => v.includes('\\n') || v.includes('\\"'),
    // Read only where a form needs it undone (JSON text with escapes is common, and most holds none of them): a key
    // that ends its line (YAML's value on the next), a block scalar, a quoted option (`\"-p…`), `BY \"…`, a Terraform variable.
    at: /:[ \t]*(?:#[^\\\r\n]{0,200})?\\n|[|>][+-]?\\n|\\"-|by[ \t]+\\"|variable[ \t]+\\"/gi,
    decode: (v) => v.replace(JSON_ESCAPE, (_m, c: string) => JSON_ESCAPED[c] as string),
    encode: true,
  },
];
/** How far around an encoded character its reading is searched: a key and its value, a few lines. */
const READING_REACH = 1024;
/** And on to the line's end or start, within so many characters more. */
const READING_LINE = 256;
/**
 * The stretches of a text to read decoded: around each place where one of `present` stands, READING_REACH each
 * way, out to the line's ends, joined where they meet. So a text whose signs stand in one corner (a header) is
 * decoded and searched there only, and one whose signs stand everywhere is covered once, not once per reading.
 */
function readingWindows(value: string, present: readonly (typeof DECODINGS)[number][]): [number, number][] {
  const spans: [number, number][] = [];
  for (const d of present) {
    d.at.lastIndex = 0;
    for (let m = d.at.exec(value); m !== null; m = d.at.exec(value)) {
      const last = spans[spans.length - 1];
      const from = m.index;
      const to = m.index + Math.max(1, m[0].length);
      // (Spans of one decoding come in order: one near the last is joined to it at once.)
      if (last && from <= last[1] + READING_REACH) last[1] = Math.max(last[1], to);
      else spans.push([from, to]);
      if (m[0].length === 0) d.at.lastIndex++;
    }
  }
  spans.sort((a, b) => a[0] - b[0]);
  const windows: [number, number][] = [];
  for (const [s, e] of spans) {
    let from = Math.max(0, s - READING_REACH);
    // (Looked for within READING_LINE only, not back to the text's start: a long line has many spans.)
    const near = from - READING_LINE;
    const nl = from === 0 ? -1 : Math.max(0, near) + value.slice(Math.max(0, near), from + 1).lastIndexOf('\n');
    if (from > 0 && nl >= Math.max(0, near) && from - nl <= READING_LINE) from = nl + 1;
    let to = Math.min(value.length, e + READING_REACH);
    const end = value.indexOf('\n', to);
    if (end >= 0 && end - to <= READING_LINE) to = end;
    const last = windows[windows.length - 1];
    if (last && from <= last[1]) last[1] = Math.max(last[1], to);
    else windows.push([from, to]);
  }
  return windows;
}
/** The length of the line break at `i`: a newline (`\n`, `\r\n`), or one escaped in JSON written as text; else 0. */
function lineBreakAt(value: string, i: number): number {
  const c = value.charCodeAt(i);
  if (c === 10) return 1;
  if (c === 13) return value.charCodeAt(i + 1) === 10 ? 2 : 0;
  if (c !== 92) return 0;
  const e = value.charCodeAt(i + 1);
  if (e === 110) return 2;
  return e === 114 && value.charCodeAt(i + 2) === 92 && value.charCodeAt(i + 3) === 110 ? 4 : 0;
}
const MIN_WRAP = 40;
const MAX_WRAP = 128;
/**
 * Base64 wrapped at a fixed width (MIME's 76 columns, the GitHub contents API's 60, PEM's 64): lines of the same
 * length, a multiple of four, each after the first indented as the second, the last no longer and maybe padded.
 * Each block is its characters joined (one run to decode: a secret split across two lines is whole again).
 */
function wrappedBase64(value: string): { from: number; to: number; joined: string }[] {
  const blocks: { from: number; to: number; joined: string }[] = [];
  // The line breaks, found with indexOf (a regex for `\r?\n` tries every position): a newline or an escaped one.
  let newline = value.indexOf('\n');
  let escaped = value.indexOf('\\n');
  for (let from = 0; ; ) {
    if (newline >= 0 && newline < from) newline = value.indexOf('\n', from);
    if (escaped >= 0 && escaped < from) escaped = value.indexOf('\\n', from);
    const found = newline < 0 ? escaped : escaped < 0 ? newline : Math.min(newline, escaped);
    if (found < 0) break;
    from = found + 1;
    // (Where a `\r` comes first, the break begins at it.)
    const at = found === newline ? (value.charCodeAt(found - 1) === 13 ? found - 1 : found) : value.charCodeAt(found - 1) === 114 && value.charCodeAt(found - 2) === 92 ? found - 2 : found;
    let start = at;
    while (start > 0 && at - start <= MAX_WRAP && base64Char(value.charCodeAt(start - 1))) start--;
    const width = at - start;
    if (width < MIN_WRAP || width > MAX_WRAP || width % 4 !== 0) continue;
    const before = start > 0 ? value.charCodeAt(start - 1) : 32;
    if (before === 61 || before === 45 || before === 95) continue;
    let indent = -1;
    const lines = [value.slice(start, at)];
    let pos = at;
    let end = at;
    for (;;) {
      const brk = lineBreakAt(value, pos);
      if (brk === 0) break;
      let q = pos + brk;
      while (value.charCodeAt(q) === 32 || value.charCodeAt(q) === 9) q++;
      if (indent >= 0 && q - pos - brk !== indent) break;
      let e = q;
      while (e < value.length && e - q <= width && base64Char(value.charCodeAt(e))) e++;
      const length = e - q;
      if (length === 0 || length > width) break;
      indent = q - pos - brk;
      let padded = e;
      while (padded < value.length && padded - e < 2 && value.charCodeAt(padded) === 61) padded++;
      lines.push(value.slice(q, padded));
      end = padded;
      pos = padded;
      if (length < width || padded > e) break;
    }
    const after = end < value.length ? value.charCodeAt(end) : 32;
    if (lines.length < 2 || base64Char(after) || after === 61 || after === 45 || after === 95) continue;
    blocks.push({ from: start, to: end, joined: lines.join('') });
    from = end;
  }
  return blocks;
}

/** JSON's escapes read, with where each character of the reading stands in the text (one more: the end). */
function unescapedWithMap(written: string): { view: string; at: number[] } {
  let view = '';
  const at: number[] = [];
  for (let i = 0; i < written.length; i++) {
    const c = written[i] as string;
    const next = written[i + 1];
    at.push(i);
    if (c === '\\' && next !== undefined && next in JSON_ESCAPED) {
      view += JSON_ESCAPED[next];
      i++;
    } else view += c;
  }
  at.push(written.length);
  return { view, at };
}
/** Whether the character at `i` is escaped: an odd number of backslashes stands right before it. */
function escaped(text: string, i: number): boolean {
  let slashes = 0;
  while (text.charCodeAt(i - 1 - slashes) === 92) slashes++;
  return slashes % 2 === 1;
}
/** Whether a quote that no backslash escapes stands in `text` between `from` and `to`. */
function ownQuoteIn(text: string, from: number, to: number): boolean {
  for (let i = text.indexOf('"', from); i >= 0 && i < to; i = text.indexOf('"', i + 1)) if (!escaped(text, i)) return true;
  return false;
}
const ARGV_ARRAY = /\[[ \t\r\n]*"(?:[^"\\\r\n]|\\.){0,512}"(?:[ \t\r\n]*,[ \t\r\n]*"(?:[^"\\\r\n]|\\.){0,512}"){1,64}[ \t\r\n]*\]/g;
const TOKEN_SPLIT = /(\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\])/;
/**
 * `written` with what was masked in its reading (`seen`, the reading `view` masked) masked where it stands: each
 * token's span in the reading is found between the unmasked parts around it, and mapped back through `at`.
 * Undefined where the spans cannot be told for certain (then the reading itself is kept).
 */
function maskedAsWritten(written: string, view: string, at: readonly number[], seen: string): string | undefined {
  const parts = seen.split(TOKEN_SPLIT);
  const spans: [number, number, string][] = [];
  let p = 0;
  for (let i = 0; i < parts.length; i += 2) {
    const literal = parts[i] as string;
    if (!view.startsWith(literal, p)) return undefined;
    p += literal.length;
    const token = parts[i + 1];
    if (token === undefined) break;
    const following = parts[i + 2] as string;
    if (following === '' && i + 3 < parts.length) return undefined;
    const end = following === '' ? view.length : view.indexOf(following, p + 1);
    if (end < 0) return undefined;
    spans.push([p, end, token]);
    p = end;
  }
  if (p !== view.length) return undefined;
  let out = '';
  let done = 0;
  for (const [a, b, token] of spans) {
    // A span must stand inside one JSON string: no quote of the text's own in it (an escaped one is the string's).
    if (ownQuoteIn(written, at[a] as number, at[b] as number)) return undefined;
    out += written.slice(done, at[a]) + token;
    done = at[b] as number;
  }
  return out + written.slice(done);
}

/** A custom detector from `masking.custom`: a leading `(?i)` means case-insensitive, as in policy rules. */
function customDetector(c: { name: string; pattern: string }): Detector {
  const re = compileRegex(c.pattern);
  return { kind: c.name, pattern: re.source, flags: re.flags };
}

type Token = (kind: string, secret: string) => string;

/**
 * A group of detectors run over a string: the ones whose hints it passes are joined into one regex (one pass),
 * each in a named group so that a match knows its kind; compiled once per combination. A union of all the
 * hints is tried first, so that a string that can hold nothing costs one test.
 */
function engine(detectors: readonly Detector[], token: Token, options: { perHint: boolean; flags?: string; union?: boolean; gate?: RegExp; windows?: Windows; /** Hints tried only where a literal they begin with stands (for long texts tried against many hints). */ literals?: boolean; onRefused?: (chars: number) => void }): { replace(value: string, around?: { input: string; at: number }): string; any(value: string): boolean } {
  // (A scan runs on its own: in a union its missing pattern would be an empty alternative that matches everywhere.)
  const unfit = detectors.find((d) => d.scan !== undefined || d.pattern === undefined);
  if (unfit) throw new Error(`masking detector "${unfit.kind}" has no pattern for a regex pass (a scan runs on its own)`);
  const sets = new Map<string, CompiledSet[]>();
  const windowGate = options.gate && options.windows ? new RegExp(options.gate.source, `g${options.gate.flags.replace('g', '')}`) : undefined;
  // Skipped where each hint is tried anyway (a union that most strings pass is a scan for nothing).
  const union: HintUnion | undefined = options.gate || options.union === false || detectors.length === 0 || detectors.some((d) => !d.hint) ? undefined : unionOf(detectors.map((d) => d.hint as Hint));
  // Where no regex hint passes (a long run of letters, which only the base64 stretch's function passes), only the detectors hinted by functions are tried.
  const functionHinted = detectors.flatMap((d, i) => (d.hint && !(d.hint instanceof RegExp) ? [i] : []));
  // Per-detector hints tried a group at a time: a group's union first, its members only where it passes (a run
  // that holds one vendor's token passes one group of sixteen, not a hundred hints). Only where every member has a
  // hint and there are many; the union of a group with `i` passes all its members would.
  const GROUP = 16;
  const groups: { from: number; to: number; hint: Hint }[] | undefined =
    options.perHint && options.union !== false && detectors.length > 2 * GROUP && detectors.every((d) => d.hint)
      ? Array.from({ length: Math.ceil(detectors.length / GROUP) }, (_, g) => ({ from: g * GROUP, to: Math.min(detectors.length, (g + 1) * GROUP), hint: unionOf(detectors.slice(g * GROUP, (g + 1) * GROUP).map((d) => d.hint as Hint)) }))
      : undefined;
  // The literals each regex hint begins with: where none of them stands in a text, the hint's own scan is spared
  // (a case-insensitive alternation of command names costs 10–30 µs over 4 KB of code; a substring search, well under 1).
  const literals = detectors.map((d) => (d.hint instanceof RegExp && options.literals ? leadingLiterals(d.hint) : undefined));
  const folded = detectors.map((d) => d.hint instanceof RegExp && d.hint.flags.includes('i'));
  // All of them in one search (longest first; each match also stands for the shorter literals it begins with), over
  // the text as written for case-sensitive hints and lower-cased for the others.
  const literalSearch = (fold: boolean) => {
    const all = [...new Set(literals.flatMap((l, i) => (l && folded[i] === fold ? l : [])))].sort((a, b) => b.length - a.length);
    if (all.length === 0) return undefined;
    const prefixes = new Map(all.map((l) => [l, all.filter((m) => l.startsWith(m))]));
    const regex = new RegExp(all.map((l) => l.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&')).join('|'), 'g');
    return (text: string): Set<string> => {
      const found = new Set<string>();
      regex.lastIndex = 0;
      for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
        for (const l of prefixes.get(m[0]) as string[]) found.add(l);
        regex.lastIndex = m.index + 1;
      }
      return found;
    };
  };
  const searches = { folded: literalSearch(true), asWritten: literalSearch(false) };
  const passesFor = (value: string, regexHinted: boolean): CompiledSet[] => {
    let mask = '';
    let foundFolded: Set<string> | undefined;
    let foundAsWritten: Set<string> | undefined;
    const hinted = (i: number): boolean => {
      const hint = (detectors[i] as Detector).hint;
      if (!hint) return false;
      const lits = literals[i];
      if (lits) {
        const found = folded[i] ? (foundFolded ??= (searches.folded as (t: string) => Set<string>)(value.toLowerCase())) : (foundAsWritten ??= (searches.asWritten as (t: string) => Set<string>)(value));
        if (!lits.some((l) => found.has(l))) return false;
      }
      return hint.test(value);
    };
    if (!regexHinted) {
      for (const i of functionHinted) if ((detectors[i] as Detector).hint?.test(value)) mask += `${i},`;
    } else if (groups) {
      for (const g of groups) {
        if (!g.hint.test(value)) continue;
        for (let i = g.from; i < g.to; i++) if (hinted(i)) mask += `${i},`;
      }
    } else {
      for (let i = 0; i < detectors.length; i++) {
        // Without per-detector hints (a whole string, where each hint costs a scan as long as the pass itself), the union decided.
        if (!options.perHint || !(detectors[i] as Detector).hint || hinted(i)) mask += `${i},`;
      }
    }
    if (mask === '') return [];
    let passes = sets.get(mask);
    if (!passes) {
      if (sets.size > MAX_CACHED_SETS) sets.clear();
      const wanted = new Set(mask.split(',').filter(Boolean).map(Number));
      const chosen = detectors.filter((_, i) => wanted.has(i));
      // Formats first, then context (which skips what formats masked); within a phase one pass for the
      // case-sensitive detectors (nearly all), one for each case-insensitive custom one.
      const phase = (n: 1 | 2 | 3) => chosen.filter((d) => (d.phase ?? 1) === n);
      passes = ([1, 2, 3] as const)
        .flatMap((n) => [compile(phase(n).filter((d) => !d.flags), options.flags ?? ''), ...phase(n).filter((d) => d.flags).map((d) => compile([d], d.flags as string))])
        .filter((p): p is CompiledSet => p !== undefined);
      sets.set(mask, passes);
    }
    return passes;
  };
  // `around`: where `value` stands in a larger text (a run), so that a detector's check can look at what precedes it.
  /**
   * One pass of a compiled set over a string. A match a detector's check refuses does not use up its text: the
   * search goes on from the next character, so that another detector can match there (a line that is not a
   * secret assignment may still hold an auth header). That is a search again of what the match read, so what
   * the checks may refuse is bounded (`sk-` a million times over: each `sk-` read 8 KB ahead, 15 s): past
   * the bound a match is masked whatever its check says (when in doubt, mask).
   */
  const replaceIn = (value: string, set: CompiledSet, around: { input: string; at: number } | undefined): string => {
    const hasTokens = value.includes('[MASKED:');
    let refusable = REFUSED_PER_CHAR * value.length + REFUSED_BASE;
    let out = '';
    let done = 0;
    const starts = windowGate && options.windows ? windowStarts(value, windowGate, options.windows) : undefined;
    if (starts) {
      const re = set.sticky;
      for (const offset of starts) {
        if (offset < done) continue;
        re.lastIndex = offset;
        const m = re.exec(value);
        if (m === null) continue;
        const replacement = replacementOf(m, offset);
        if (replacement === undefined) continue;
        out += value.slice(done, offset) + replacement;
        done = offset + m[0].length;
      }
      return done === 0 ? value : out + value.slice(done);
    }
    const re = set.regex;
    re.lastIndex = 0;
    for (let m = re.exec(value); m !== null; m = re.exec(value)) {
      const offset = m.index;
      const replacement = replacementOf(m, offset);
      if (replacement === undefined) {
        re.lastIndex = offset + 1;
        continue;
      }
      out += value.slice(done, offset) + replacement;
      done = offset + m[0].length;
      if (m[0].length === 0) re.lastIndex++;
    }
    return done === 0 ? value : out + value.slice(done);

    function replacementOf(m: RegExpExecArray, offset: number): string | undefined {
      const groups = m.groups as Record<string, string | undefined>;
      // Never inside a token a detector already wrote (`[MASKED:cookie:…]` is not a cookie header); text that
      // only looks like one (`[MASKED: DB_PASSWORD=… ]`) is searched like any other.
      if (hasTokens) {
        // (A token is at most 64 characters: one that began further back ends before `offset`; not searched for.)
        const back = Math.max(0, offset - 64);
        const found = value.slice(back, offset + 8).lastIndexOf('[MASKED:', offset - back);
        const open = found < 0 ? -1 : back + found;
        const real = open >= 0 ? TOKEN_AT.exec(value.slice(open, open + 64)) : null;
        // (A match may begin where a token does: a line whose first word was masked, `[MASKED:ipv4:…] : PSK "…"`.)
        if (real && open < offset && open + real[0].length > offset) return undefined;
      }
      for (let i = 0; i < set.detectors.length; i++) {
        const secret = groups[`d${i}`];
        if (secret === undefined) continue;
        const d = set.detectors[i] as Detector;
        const prefix = groups[`p${i}`] ?? '';
        // A value that runs into what another detector masked (`password: hunter2 host [MASKED:ipv4:…]`) ends
        // before it: the part up to the token is the value.
        const found = hasTokens && TOKEN_IN.test(secret) ? secret.slice(0, secret.indexOf('[MASKED:')).trimEnd() : secret;
        if (found === '') return undefined;
        if (d.accept && refusable >= 0 && !(around ? d.accept(found, prefix, around.input, around.at + offset + prefix.length) : d.accept(found, prefix, value, offset + prefix.length))) {
          refusable -= m[0].length;
          options.onRefused?.(m[0].length);
          return undefined;
        }
        return prefix + token(d.kind, found) + secret.slice(found.length);
      }
      return undefined;
    }
  };

  return {
    any: (value) => (options.gate ? options.gate.test(value) : union === undefined || union.test(value)),
    replace(value, around) {
      if (detectors.length === 0) return value;
      // (A windowed pass looks for its gate's words itself: no words, no places to try.)
      if (options.gate && !windowGate && !options.gate.test(value)) return value;
      const regexHinted = union === undefined || union.regexes(value);
      if (!regexHinted && !union?.functions(value)) return value;
      let out = value;
      for (const set of passesFor(value, regexHinted)) out = replaceIn(out, set, out === value ? around : undefined);
      return out;
    },
  };
}

/**
 * Builds a masker. Detectors run in three steps: formats that may span spaces (private-key blocks, grouped card
 * numbers) over the whole string; formats that never hold a space (vendor tokens, addresses) over each run of
 * text between spaces that is long enough, which spares a 4 KB message dozens of scans; then context
 * (assignments, headers, query strings) over the whole string, skipping what the formats masked. The hash in
 * a token is a keyed HMAC prefix: the same secret masks to the same token everywhere (so analysts can
 * correlate), and without the key it cannot be guessed back.
 */
export function createMasker(settings: MaskingSettings, key: Buffer, options: { anonymous?: boolean; wholeContext?: boolean; /** Told the length of every text searched (for tests that measure the work done). */ onSearch?: (chars: number) => void; /** Told the length of every match a detector's check refused (searched again from its next character). */ onRefused?: (chars: number) => void } = {}): Masker {
  const detectors: Detector[] = [...settings.detectors.flatMap((name) => DETECTOR_SETS[name]), ...settings.custom.map(customDetector)];
  if (settings.custom.length > 30) throw new Error('at most 30 custom masking detectors');
  const tokens = new Map<string, string>();
  const token: Token = (kind, secret) => {
    const cacheKey = `${kind}\u0000${secret}`;
    let t = tokens.get(cacheKey);
    if (!t && options.anonymous) t = `[MASKED:${kind}]`;
    if (!t) {
      t = `[MASKED:${kind}:${createHmac('sha256', key).update(secret).digest('hex').slice(0, 8)}]`;
      if (tokens.size > 10_000) tokens.clear();
      tokens.set(cacheKey, t);
    }
    return t;
  };
  const wholeFormats = engine(
    detectors.filter((d) => (d.phase ?? 1) === 1 && !d.inRun && !d.scan),
    token,
    { perHint: true, union: false, onRefused: options.onRefused },
  );
  // (A scan of phase 2 is context too: it runs after the formats, over what they left; one of phase 3 names itself
  // as the regexes of that phase do: it runs only where their gate opens.)
  const scans = detectors.filter((d) => d.scan && (d.phase ?? 1) === 1);
  const contextScans = detectors.filter((d) => d.scan && d.phase === 2);
  const gatedScans = detectors.filter((d) => d.scan && d.phase === 3);
  const runFormats = engine(
    detectors.filter((d) => d.inRun),
    token,
    { perHint: true, onRefused: options.onRefused },
  );
  const context = engine(
    detectors.filter((d) => d.phase === 2 && !d.scan),
    token,
    { perHint: false, flags: 'i', gate: CONTEXT_GATE, ...(options.wholeContext ? {} : { windows: CONTEXT_REACH }), onRefused: options.onRefused },
  );
  const namedContext = engine(
    detectors.filter((d) => d.phase === 3 && !d.scan),
    token,
    { perHint: true, flags: 'i', union: false, literals: true, onRefused: options.onRefused },
  );

  /** Masks what the scanning detectors find. */
  const scanWith = (d: Detector, out: string): string => {
    const found = (d.scan as NonNullable<Detector['scan']>)(out);
    if (found.length === 0) return out;
    const parts: string[] = [];
    let done = 0;
    for (const [start, end] of found) {
      parts.push(out.slice(done, start), token(d.kind, out.slice(start, end)));
      done = end;
    }
    parts.push(out.slice(done));
    return parts.join('');
  };
  // (One loop per list, each its own function: one loop over lists of detectors of different shapes would make
  // every hint's call there megamorphic, several µs on a 4 KB message.)
  const scanned = (value: string): string => {
    let out = value;
    for (const d of scans) if (!d.hint || d.hint.test(out)) out = scanWith(d, out);
    return out;
  };
  const contextScanned = (value: string): string => {
    let out = value;
    for (const d of contextScans) if (!d.hint || d.hint.test(out)) out = scanWith(d, out);
    return out;
  };
  const gatedScanned = (value: string): string => {
    let out = value;
    for (const d of gatedScans) if (!d.hint || d.hint.test(out)) out = scanWith(d, out);
    return out;
  };

  /**
   * Masks what run-scoped formats find in each run of text between spaces, and secrets written in base64 (a
   * Kubernetes Secret's data, a docker config, `echo … | base64 -d`): a run of base64 that decodes to text in
   * which a secret is found is masked whole. Runs that decode to binary (images, digests, identifiers) are
   * given up after their first bytes; decoded text is searched two levels deep at most.
   */
  const inRuns = (value: string, depth: number): string => {
    const decode = secretKeys && depth <= 1;
    // Wrapped base64 is read whole, once; its lines are not read again one by one.
    const blocks = decode ? wrappedBase64(value) : [];
    let out: string[] | undefined;
    let done = 0;
    const replace = (start: number, end: number, masked: string) => {
      (out ??= []).push(value.slice(done, start), masked);
      done = end;
    };
    const piece = (start: number, end: number) => {
      const run = value.slice(start, end);
      let masked = runFormats.replace(run, { input: value, at: start });
      if (decode && end - start >= MIN_BASE64) {
        // (Where a format already masked part of the run, offsets in it are near enough for the look back at an `auth` key.)
        masked = masked.replace(BASE64_RUN, (found: string, offset: number) => (base64Secret(found, value, start + offset, depth) || gluedBase64Secret(found, depth) ? token('base64-secret', found) : found));
        if (end - start >= MIN_HEX && HEX_STRETCH.test(masked)) masked = masked.replace(HEX_RUN, (found: string) => (hexSecret(found, depth) ? token('hex-secret', found) : found));
        // (A run longer than BASE64_RUN reaches, a whole file on one line, is found by walking it.)
        if (end - start > MAX_BASE64_MATCH) masked = longBase64Masked(masked, depth);
      }
      if (masked !== run) replace(start, end, masked);
    };
    let block = 0;
    let skipTo = 0;
    for (let at = nextLongRun(value, 0); at !== undefined; at = nextLongRun(value, at[1])) {
      let start = Math.max(at[0], skipTo);
      const end = at[1];
      while (start < end) {
        const wrapped = blocks[block];
        if (wrapped === undefined || wrapped.from >= end) {
          piece(start, end);
          break;
        }
        if (wrapped.from > start) piece(start, wrapped.from);
        // (What the formats find in it whole first: a DER private key is wrapped base64 too; its last line alone is no key.)
        const formatted = runFormats.replace(wrapped.joined);
        if (formatted !== wrapped.joined) replace(wrapped.from, wrapped.to, formatted);
        else if (wrappedSecret(wrapped.joined, depth)) replace(wrapped.from, wrapped.to, token('base64-secret', wrapped.joined));
        skipTo = wrapped.to;
        start = Math.max(start, wrapped.to);
        block++;
      }
    }
    if (!out) return value;
    out.push(value.slice(done));
    return out.join('');
  };

  /**
   * Name/value pairs written as JSON text (`aws ssm get-parameter`'s `{"Name":"/prod/db/password","Value":"…"}`,
   * CloudFormation's `{"ParameterKey":"DBPassword","ParameterValue":"…"}`, a tool's result quoting them): read as
   * the JSON they are, the name saying what the value is, and written back compactly where something was masked.
   */
  const pairsInText = (value: string): string => {
    if (!(value.includes('alue"') || value.includes('ALUE"')) || !JSON_TEXT_START.test(value)) return value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
    if (parsed === null || typeof parsed !== 'object') return value;
    const masked = walk(parsed, undefined);
    const written = JSON.stringify(masked);
    return written === JSON.stringify(parsed) ? value : written;
  };

  /**
   * Arrays of strings written as JSON text with an option among them (`["docker","login","-p","…"]`, a tool's
   * result quoting what it ran): read as the argv arrays they are (see argvMasked), and written back compactly
   * where something in them was masked.
   */
  const argvInText = (value: string): string =>
    !value.includes('"-')
      ? value
      : value.replace(ARGV_ARRAY, (written) => {
          let items: unknown;
          try {
            items = JSON.parse(written);
          } catch {
            return written;
          }
          const masked = walk(items, undefined);
          return masked === items ? written : JSON.stringify(masked);
        });

  const detect = (value: string, depth: number): string => {
    options.onSearch?.(value.length);
    value = pairsInText(argvInText(value));
    // (Nothing a format finds is shorter than an address like `a@b.io`.)
    if (value.length < 6 && !context.any(value)) return value;
    const formats = inRuns(scanned(wholeFormats.replace(value)), depth);
    // Every context detector of phase 2 needs a `:`, `=` or TAB (key: value, key=value, header: value, a label's
    // column) of the text itself: the ones in the tokens the formats put in are no separators (a match inside a
    // token is refused).
    const named = value.includes(':') || value.includes('=') || value.includes('\t') ? contextScanned(context.replace(formats)) : formats;
    return namedContextPossible(named) ? namedContext.replace(gatedScanned(named)) : named;
  };

  /**
   * What decoding may cost, per text masked: runs that decode to text are decoded and searched again (their
   * readings too, two levels deep, the parts of a glued run as well), and a text built for it (runs of glued
   * base64 whose every part decodes to text, nested, with the signs of every reading) multiplied that into
   * minutes for 20 KB, the gateway frozen meanwhile. So each text gets a budget of characters decoded and
   * searched below it, a few times its length; a run of text-like base64 or hex past the budget is masked
   * unread (when in doubt, mask).
   */
  let budget = 0;
  const spend = (chars: number): boolean => (budget -= chars) >= 0;

  /** Whether a run of hex digits decodes to text that holds a secret (`echo 44425f… | xxd -r -p`). */
  const hexSecret = (run: string, depth: number): boolean => {
    if (asText(Buffer.from(run.slice(0, 32), 'hex')) === undefined) return false;
    if (!spend(run.length)) return true;
    const decoded = asText(Buffer.from(run, 'hex'));
    if (decoded === undefined) return false;
    return maskText(decoded, depth + 1) !== decoded;
  };

  /**
   * What a run of base64 was found to hold, per depth, within one text: a run that recurs (a column of the same
   * value, a text built of one run repeated) is decoded and searched once.
   */
  const decodedRuns = new Map<string, { secret: boolean; credentials: boolean } | null>();
  const MAX_DECODED_RUNS = 4096;
  /** Whether a run of base64 at `offset` in `value` decodes to text that holds a secret. */
  const base64Secret = (run: string, value: string, offset: number, depth: number): boolean => {
    const memo = `${depth}${run}`;
    let found = decodedRuns.get(memo);
    if (found === undefined) {
      found = decodedRun(run, depth);
      if (decodedRuns.size >= MAX_DECODED_RUNS) decodedRuns.clear();
      decodedRuns.set(memo, found);
    }
    if (found === null) return false;
    // `user:password` in base64 is HTTP basic credentials (a docker config's or .npmrc's `auth`) when it is the
    // whole value or stands after an `auth` key.
    return found.secret || (found.credentials && (run.length === value.length || /auth["']?[ \t]*[:=][ \t]*["']?$/i.test(value.slice(Math.max(0, offset - 24), offset))));
  };
  /** What a run of base64 decodes to: null for no text; else whether a secret was found in it, and whether it reads `user:password`. */
  const decodedRun = (run: string, depth: number): { secret: boolean; credentials: boolean } | null => {
    if (COMPRESSED_BASE64.test(run)) {
      const inflated = inflatedText(run, Math.max(0, Math.min(budget, MAX_INFLATED)));
      if (inflated === 'too large') return { secret: true, credentials: false };
      if (inflated !== undefined) return spend(inflated.length) ? { secret: maskText(inflated, depth + 1) !== inflated, credentials: false } : { secret: true, credentials: false };
    }
    // (No base64 is 4n+1 characters long; unpadded base64 of any other length is, as base64url usually comes.)
    if (!textStart(run, 0) || asText(Buffer.from(run.slice(0, 32), 'base64')) === undefined) return null;
    if (!spend(run.length)) return { secret: true, credentials: false };
    // (No base64 is 4n+1 characters long: its last character is a stray one, `…Pz9x`, and is left out.)
    const decoded = asText(Buffer.from(run.replace(/=+$/, '').length % 4 === 1 ? run.replace(/=+$/, '').slice(0, -1) : run, 'base64'));
    if (decoded === undefined) return null;
    return { secret: maskText(decoded, depth + 1) !== decoded, credentials: BASIC_CREDENTIALS.test(decoded) && !GITHUB_NODE_ID.test(decoded) };
  };

  /** `text` with each run of base64 longer than BASE64_RUN matches masked where it decodes to text that holds a secret. */
  const longBase64Masked = (text: string, depth: number): string => {
    let out = '';
    let done = 0;
    for (let i = 0; i < text.length; ) {
      if (!base64Char(text.charCodeAt(i)) && !glue(text.charCodeAt(i))) {
        i++;
        continue;
      }
      let e = i;
      while (e < text.length && (base64Char(text.charCodeAt(e)) || glue(text.charCodeAt(e)))) e++;
      while (text.charCodeAt(e) === 61 && e - i < MAX_BASE64_MATCH * 256) e++;
      if (e - i > MAX_BASE64_MATCH && base64Secret(text.slice(i, e), text, i, depth)) {
        out += text.slice(done, i) + token('base64-secret', text.slice(i, e));
        done = e;
      }
      i = e;
    }
    return done === 0 ? text : out + text.slice(done);
  };
  /** Whether wrapped base64, its lines joined, decodes to text that holds a secret. */
  const wrappedSecret = (joined: string, depth: number): boolean => {
    if (!textStart(joined, 0)) return false;
    if (!spend(joined.length)) return true;
    const decoded = asText(Buffer.from(joined, 'base64'));
    if (decoded === undefined) return false;
    return maskText(decoded, depth + 1) !== decoded;
  };

  /**
   * Base64 glued to a name by a character of the base64 alphabets themselves (`tools/<b64>`, `k_<b64>`,
   * `<b64>-v2`, `x_<b64>_y`): the run decodes to nothing as a whole, so the parts that begin after one of its
   * first few separators (or at its start) and end before one of its last few (or at its end) are tried too. A
   * part that holds a secret masks the whole run. Which start a part has decides how its first bytes decode:
   * a start whose first bytes are not text is given up for every end.
   */
  const gluedBase64Secret = (run: string, depth: number): boolean => {
    const viable = (from: number) => run.length - from >= MIN_BASE64 && textStart(run, from) && asText(Buffer.from(run.slice(from, from + 32), 'base64')) !== undefined;
    const starts = viable(0) ? [0] : [];
    for (let i = 0, cuts = 0; i < run.length && cuts < GLUE_CUTS; i++) {
      if (!glue(run.charCodeAt(i))) continue;
      cuts++;
      if (viable(i + 1)) starts.push(i + 1);
    }
    // (Most runs have no start that decodes to text, and so no ends to look for.)
    if (starts.length === 0) return false;
    const ends = [run.length];
    for (let i = run.length - 1; i >= 0 && ends.length <= GLUE_CUTS; i--) if (glue(run.charCodeAt(i))) ends.push(i);
    for (const from of starts) {
      for (const to of ends) {
        if ((from === 0 && to === run.length) || to - from < MIN_BASE64) continue;
        const part = run.slice(from, to);
        // Padding is optional before glue (`<b64>_v2`): a part may come without it.
        const padded = part.length % 4 === 0 ? part : part + '='.repeat(4 - (part.length % 4));
        if (base64Secret(padded, padded, 0, depth)) return true;
      }
    }
    return false;
  };

  /**
   * A text may hide what it says: characters that show nothing or look like others (a zero-width character inside
   * a token, fullwidth letters, a look-alike letter in a key), HTML entities (`&quot;password&quot;`), JSON's
   * `\u0022` escapes, percent-encoding (`postgres%3A%2F%2Fapp%3A…`). Each such reading of the text is searched
   * too, and the one where most is found is what is kept (only then is the stored text the decoded one).
   */
  const maskText = (value: string, depth = 0): string => {
    // (A text masked inside another, an argv array's element, shares its budget: it neither resets nor refills it.)
    if (depth === 0) {
      if (masking === 0) {
        budget = BUDGET_PER_CHAR * value.length + BUDGET_BASE;
        decodedRuns.clear();
      }
    } else if (!spend(value.length + SEARCH_COST)) return UNCHECKED;
    masking++;
    try {
      return readingsMasked(jsonLiteralsMasked(structureMasked(value), depth), depth);
    } finally {
      masking--;
    }
  };
  /**
   * A JSON text whose secrets are so by what its objects are, not by their keys' names (a Kubernetes Secret, a
   * Terraform state, a Vault read, printed by a tool as text: `kubectl get secret -o json`, `terraform show -json`):
   * the text is read as JSON and walked as a message is, and each string the walk masks is replaced where it stands,
   * the rest of the text left as written. Only texts that name such an object are read so.
   */
  const structureMasked = (value: string): string => {
    if (!JSON_TEXT_START.test(value) || value.length > MAX_STRUCTURE_TEXT || !STRUCTURE_HINT.test(value)) return value;
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      return value;
    }
    const changed: [JSONPath, string][] = [];
    const compare = (before: unknown, after: unknown, path: JSONPath): void => {
      if (typeof before === 'string' && typeof after === 'string' && before !== after) changed.push([path, after]);
      else if (Array.isArray(before) && Array.isArray(after)) before.forEach((b, i) => compare(b, after[i], [...path, i]));
      else if (before !== null && typeof before === 'object' && after !== null && typeof after === 'object' && !Array.isArray(after)) {
        for (const [k, b] of Object.entries(before)) if (Object.hasOwn(after, k)) compare(b, (after as Record<string, unknown>)[k], [...path, k]);
      } else if (typeof before === 'number' && typeof after === 'string') changed.push([path, after]);
    };
    compare(parsed, walk(parsed, undefined), []);
    if (changed.length === 0) return value;
    const tree = parseTree(value);
    if (!tree) return value;
    const spans = changed
      .map(([path, masked]) => [findNodeAtLocation(tree, path), masked] as const)
      .filter((s): s is readonly [JsonNode, string] => s[0] !== undefined)
      .sort((a, b) => b[0].offset - a[0].offset);
    let out = value;
    for (const [node, masked] of spans) out = out.slice(0, node.offset) + JSON.stringify(masked) + out.slice(node.offset + node.length);
    return out;
  };
  let masking = 0;
  /**
   * JSON written inside a JSON text (`{"result":"{\"config\":\"password:\\n  …\"}"}`, a tool's result that
   * quotes another's): each escape level hides the forms of the one below it from a search of the text. So the
   * string literals of a JSON text that hold escapes are masked as what they say, each its own text (and so on
   * down, a level at a time), and written back as JSON: the text stays the JSON it was.
   */
  const jsonLiteralsMasked = (value: string, depth: number): string => {
    if (!value.includes('\\"')) return value;
    if (JSON_TEXT_START.test(value)) return parses(value) ? literalsMasked(value, depth) : value;
    // JSON inside a line of text (`called with {…}`, a log line's payload): from its first `{` or `[` to the line's end.
    let out = '';
    let done = 0;
    // (Each of these searches goes forward only: the next `{`, `[`, backslash and newline, found once each.)
    let brace = -1;
    let bracket = -1;
    let slash = -1;
    for (let start = 0; start < value.length; ) {
      const nl = value.indexOf('\n', start);
      const end = nl < 0 ? value.length : nl;
      if (brace < start) brace = value.indexOf('{', start) >>> 0;
      if (bracket < start) bracket = value.indexOf('[', start) >>> 0;
      if (slash < start) slash = value.indexOf('\\', start) >>> 0;
      // (`>>> 0` makes "not found" the largest index.)
      const open = Math.min(brace, bracket);
      if (open < end && slash < end && parses(value.slice(open, end))) {
        out += value.slice(done, open) + literalsMasked(value.slice(open, end), depth);
        done = end;
      }
      start = end + 1;
    }
    return done === 0 ? value : out + value.slice(done);
  };
  /** `value` (JSON that parses) with its string literals that hold an escaped quote masked as what they say. */
  const literalsMasked = (value: string, depth: number): string => {
    let out = '';
    let done = 0;
    for (let open = value.indexOf('"'); open >= 0; ) {
      let close = value.indexOf('"', open + 1);
      while (escaped(value, close)) close = value.indexOf('"', close + 1);
      const literal = value.slice(open, close + 1);
      // (Only a literal with a quote escaped in it: JSON or a quoted string inside. Other escapes, a newline's or
      // a path's, the text's own readings read where they matter.)
      if (literal.includes('\\"')) {
        const said = JSON.parse(literal) as string;
        // (Charged to the text's budget: past it, the literal is masked unread. Short ones recur, and are kept.)
        const masked = !spend(said.length + SEARCH_COST) ? token('unchecked', said) : depth === 0 ? text(said) : maskText(said, depth);
        if (masked !== said) {
          out += value.slice(done, open) + JSON.stringify(masked);
          done = close + 1;
        }
      }
      open = value.indexOf('"', close + 1);
    }
    return done === 0 ? value : out + value.slice(done);
  };
  const readingsMasked = (value: string, depth: number): string => {
    const out = detect(value, depth);
    const present = DECODINGS.filter((d) => d.sign(value));
    if (present.length === 0) return out;
    // Each stretch around encoded characters is searched as written and decoded (every reading present in it at
    // once); where decoded finds more, the text is searched again with those stretches decoded.
    let mixed: string[] | undefined;
    let done = 0;
    for (const [from, to] of readingWindows(value, present)) {
      const written = value.slice(from, to);
      let view = written;
      // (What the other readings made of the stretch, before JSON's escapes are read: what is kept where they are.)
      let escaped: string | undefined;
      for (const d of present) {
        const next = d.sign(view) ? d.decode(view) : view;
        if (next !== view && d.encode) escaped = view;
        view = next;
      }
      if (view === written) continue;
      // (At depth 0 the stretches are bounded by the text itself: they are charged, for what is decoded below them.)
      if (!spend(written.length + view.length + 2 * SEARCH_COST) && depth > 0) return UNCHECKED;
      const seen = detect(view, depth);
      if (tokenCount(seen) > tokenCount(detect(written, depth))) {
        // (The other readings' decoded text is what is kept; JSON's escapes stay as written, what they hid masked there.)
        let kept: string | undefined = view;
        if (escaped !== undefined) {
          kept = maskedAsWritten(escaped, view, unescapedWithMap(escaped).at, seen);
          // (Spans that cross the text's own quotes were found in a reading that joined two strings: none is kept.)
          if (kept === undefined) continue;
        }
        (mixed ??= []).push(value.slice(done, from), kept);
        done = to;
      }
    }
    if (!mixed) return out;
    mixed.push(value.slice(done));
    const seen = detect(mixed.join(''), depth);
    return tokenCount(seen) > tokenCount(out) ? seen : out;
  };
  // Short strings recur (keys, tool names, enum values, ids): each is masked once and the answer kept.
  const known = new Map<string, string>();
  const text = (value: string): string => {
    if (value.length > MAX_KNOWN_LENGTH) return maskText(value);
    let out = known.get(value);
    if (out === undefined) {
      out = maskText(value);
      if (known.size >= MAX_KNOWN) known.clear();
      known.set(value, out);
    }
    return out;
  };

  const cards = detectors.some((d) => d.kind === 'credit-card');
  const secretKeys = detectors.some((d) => d.kind === 'secret-value');
  type KeyKind = 'strong' | 'weak' | 'payment' | 'version' | 'none';
  // What a key says about its value: a secret whatever it looks like (strong), one if it looks like one (weak),
  // a card number if it passes the card checks, a version or OID (dotted numbers are not an address).
  const keyKinds = new Map<string, KeyKind>();
  const kindOfKey = (name: string): KeyKind => {
    let kind = keyKinds.get(name);
    if (kind === undefined) {
      const strength = secretKeys ? secretKeyStrength(name) : undefined;
      // (A version names the key's last word: `build_version`, `firmware`; `build_server`, `rev_proxy` name hosts.)
      const words = keyWords(name);
      const last = words.at(-1) ?? '';
      kind = strength ?? (cards && isPaymentKeyName(name) ? 'payment' : VERSION_WORDS.has(last) || words.some((w) => w === 'oid' || w.startsWith('extn')) ? 'version' : 'none');
      if (keyKinds.size > 10_000) keyKinds.clear();
      keyKinds.set(name, kind);
    }
    return kind;
  };

  /** Everything under a key that names a secret strongly: every string and number in it, however deep. */
  const secretAll = (value: unknown, depth = 0): unknown => {
    if (depth >= MAX_WALK_DEPTH && value !== null && typeof value === 'object') return token('secret-value', 'nested too deeply to read');
    if (typeof value === 'string') return value.length === 0 || isPlaceholder(value, true) ? value : token('secret-value', value);
    if (typeof value === 'number') return token('secret-value', String(value));
    if (Array.isArray(value)) return value.map((v) => secretAll(v, depth + 1));
    if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [text(k), secretAll(v, depth + 1)]));
    return value;
  };

  /** A secret store's answer for one secret: its id or name is the secret's path (`…/secrets/db-password/…`). */
  const secretStored = (o: Record<string, unknown>): boolean =>
    (Object.hasOwn(o, 'value') || Object.hasOwn(o, 'payload')) && [o.id, o.name].some((n) => typeof n === 'string' && /(?:^|\/)secrets\/[^/\s]/.test(n));
  /**
   * A member named only `key` (or `secret`) that is a credential by where it stands: under its owner (.NET's
   * `{"Jwt": {"Key": …}}`, `{"hmac": {"secret": …}}`), or beside a user name (Kaggle's `{"username", "key"}`).
   */
  const ownedKey = (parent: string | undefined, member: string, o: Record<string, unknown>): boolean => {
    // (Elasticsearch's API key answer: `{id, name, api_key, encoded}`, `encoded` being id:api_key in base64.)
    if (member === 'encoded' && Object.hasOwn(o, 'api_key')) return true;
    if (!/^(?:key|secret)$/i.test(member)) return false;
    if (parent !== undefined && kindOfKey(`${parent}_key`) === 'strong') return true;
    return member.toLowerCase() === 'key' && ['username', 'user', 'login'].some((u) => typeof o[u] === 'string');
  };
  /** Node's `rawHeaders`: names and values by turns, in one flat list. */
  const flatHeaders = (keyName: string | undefined, list: unknown[]): boolean =>
    list.length >= 2 && list.length % 2 === 0 && list.every((v) => typeof v === 'string') && (keyName === 'rawHeaders' || keyName === 'rawTrailers' || (list.every((v, i) => i % 2 === 1 || /^[A-Za-z0-9-]{1,64}$/.test(v as string)) && list.some((v, i) => i % 2 === 0 && /^(?:host|content-type|user-agent|accept)$/i.test(v as string))));
  // Name/value pairs (HAR headers, Kubernetes and ECS env, `[name, value]` header arrays): the name says what the value is.
  const NAME_FIELDS = ['name', 'Name', 'key', 'Key', 'field', 'Field', 'variable', 'Variable', 'header', 'Header', 'property', 'Property', 'param', 'Param', 'ParameterKey', 'ParameterName', 'OptionName'];
  const VALUE_FIELDS = ['value', 'Value', 'val', 'Val', 'ParameterValue', 'OptionValue', 'payload', 'data', 'Data'];
  // A cookie as browsers and their drivers list it (CDP, Playwright: name, value, domain, path…): its value is a
  // secret when it looks like one, whatever the cookie is called (`JSESSIONID`, `_gh_sess`, `connect.sid`).
  const COOKIE_FIELDS = ['domain', 'httpOnly', 'sameSite', 'expires', 'expirationDate', 'hostOnly'];
  const pairKind = (o: Record<string, unknown>): KeyKind | undefined => {
    // A password manager's concealed field (1Password's `op item get`: `{type: "CONCEALED", purpose: "PASSWORD", value}`),
    // or a secret store's secret (Azure Key Vault's `{id: ".../secrets/NAME/…", value}`, Google's `{name: ".../secrets/…", payload}`).
    // And what a tool marks sensitive (`terraform output -json`: `{sensitive: true, value}`).
    // An SSM parameter of type SecureString (`aws ssm get-parameter --with-decryption`), a storage account's key (`{keyName, value}`).
    if (o.type === 'CONCEALED' || o.purpose === 'PASSWORD' || (o.sensitive === true && Object.hasOwn(o, 'value')) || secretStored(o)) return 'strong';
    if ((o.Type === 'SecureString' && Object.hasOwn(o, 'Value')) || (typeof o.keyName === 'string' && Object.hasOwn(o, 'value'))) return 'strong';
    // Bitwarden's hidden custom field (`{name, value, type: 1, linkedId}`).
    if (o.type === 1 && (Object.hasOwn(o, 'linkedId') || typeof o.name === 'string') && Object.hasOwn(o, 'value')) return 'strong';
    if (typeof o.name === 'string' && Object.hasOwn(o, 'value') && COOKIE_FIELDS.some((f) => Object.hasOwn(o, f))) {
      const kind = kindOfKey(o.name);
      return kind === 'strong' ? 'strong' : 'weak';
    }
    for (const n of NAME_FIELDS) {
      const name = o[n];
      if (typeof name === 'string' && VALUE_FIELDS.some((v) => Object.hasOwn(o, v))) {
        const kind = kindOfKey(name);
        return kind === 'none' || kind === 'version' ? undefined : kind;
      }
    }
    return undefined;
  };

  /**
   * A command line sent as an argv array (`["sshpass", "-p", PW, "ssh", …]`, `{command: "mysql", args: […,
   * "--password", PW]}`): each element alone says nothing, so each one after an option is masked together with
   * the command and that option (`sshpass -p PW`), and an option with its value glued (`-pPW`) with the command;
   * what the command-line detectors find in the element is what is masked of it.
   */
  const argvMasked = (command: string, items: readonly string[], from: number): string[] | undefined => {
    if (command === '' || /^\s|\s$|\s\s/.test(command)) return undefined;
    let out: string[] | undefined;
    for (let i = from; i < items.length; i++) {
      const item = items[i] as string;
      const option = i > 0 ? (items[i - 1] as string) : '';
      const head = option.startsWith('-') && !/\s/.test(option) ? `${command} ${option} ` : item.startsWith('-') && item.length > 2 ? `${command} ` : undefined;
      if (head === undefined || item === '' || MASKED_TOKEN.test(item)) continue;
      const masked = text(head + item);
      if (masked !== head + item && masked.startsWith(head) && masked.slice(head.length) !== item) (out ??= items.slice())[i] = masked.slice(head.length);
    }
    return out;
  };
  /**
   * Members whose every value is a secret by what the object is, whatever they are called: a Kubernetes Secret's
   * `data` and `stringData`; the `result` (and its bcrypt hash) of Terraform's `random_password` in a state file; the
   * secrets of a Vault read (`data`, or KV version 2's `data.data` beside its `metadata`).
   */
  const secretMembers = (o: Record<string, unknown>, keyName: string | undefined): readonly string[] | undefined => {
    if (o.kind === 'Secret' && typeof o.apiVersion === 'string') return ['data', 'stringData'];
    if (Object.hasOwn(o, 'result') && (Object.hasOwn(o, 'override_special') || Object.hasOwn(o, 'min_special'))) return ['result', 'bcrypt_hash'];
    // (A state's resource, however few of its attributes are written: `{type: "random_password", instances: [{attributes: {result}}]}`.)
    if ((o.type === 'random_password' || o.type === 'random_string') && Array.isArray(o.instances)) return ['instances.*.attributes.result', 'instances.*.attributes.bcrypt_hash'];
    if (Object.hasOwn(o, 'lease_duration') && Object.hasOwn(o, 'request_id') && o.data !== null && typeof o.data === 'object') {
      const data = o.data as Record<string, unknown>;
      return Object.hasOwn(data, 'data') && Object.hasOwn(data, 'metadata') ? ['data.data'] : ['data'];
    }
    if (Object.hasOwn(o, 'metadata') && Object.hasOwn(o, 'data') && o.metadata !== null && typeof o.metadata === 'object' && Object.hasOwn(o.metadata, 'created_time') && Object.hasOwn(o.metadata, 'version')) return ['data'];
    // An auth object that names its scheme and gives it (Postman's `{auth: {type: "bearer", bearer: "…"}}`).
    if (keyName !== undefined && /^(?:auth|authentication|authorization)$/i.test(keyName) && typeof o.type === 'string' && /^[a-z0-9]{2,20}$/i.test(o.type) && Object.hasOwn(o, o.type)) return [o.type];
    return undefined;
  };
  /** `value` with what stands at `path` (members by name, `*` for each element of a list) masked whole. */
  const secretAt = (value: unknown, path: readonly string[]): unknown => {
    if (path.length === 0) return secretAll(value);
    const [step, ...rest] = path as [string, ...string[]];
    if (step === '*') return Array.isArray(value) ? value.map((v) => secretAt(v, rest)) : value;
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, step)) return value;
    return { ...value, [step]: secretAt((value as Record<string, unknown>)[step], rest) };
  };
  /** A name's values listed under it (Netlify's env: `{key: "STRIPE_KEY", values: [{value, context}]}`): the name's kind, or undefined. */
  const listedValuesKind = (o: Record<string, unknown>): KeyKind | undefined => {
    if (!Array.isArray(o.values) || !o.values.some((e) => e !== null && typeof e === 'object' && Object.hasOwn(e, 'value'))) return undefined;
    const name = NAME_FIELDS.map((n) => o[n]).find((n): n is string => typeof n === 'string');
    const kind = name === undefined ? undefined : kindOfKey(name);
    return kind === 'strong' || kind === 'weak' ? kind : undefined;
  };
  const JWK_PRIVATE = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi', 'k']);
  const PLURAL_FORMS = new Set(['default', 'singular', 'plural', 'zero', 'one', 'two', 'few', 'many', 'other']);
  /** What an item of a list of cookies is walked as (no key names it). */
  const COOKIE_ITEM = '\u0000cookie';
  // Where package managers list packages by name: package.json's maps, package-lock's `packages` and `dependencies`, pnpm's.
  const DEPENDENCY_HOLDERS = new Set(['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies', 'overrides', 'resolutions', 'packages', 'requires', 'peerDependenciesMeta', 'dependenciesMeta', 'importers', 'specifiers', 'catalog']);
  /** What a package is listed with: a version or a range, a specifier (`npm:…`, `github:…`, `file:…`, `workspace:*`, a tarball's URL), or a lockfile's entry. */
  const packageSpec = (v: unknown): boolean =>
    typeof v === 'string'
      ? versionRange(v) || /^(?:\*|latest|next|beta|canary|x)$|^(?:npm|github|gitlab|bitbucket|git\+(?:https?|ssh)|git|file|link|workspace|portal|patch|catalog):\S{0,500}$|^https:\/\/\S{1,500}\.(?:tgz|tar\.gz)$/.test(v)
      : v !== null && typeof v === 'object' && !Array.isArray(v) && ['version', 'resolved', 'integrity', 'link'].some((k) => Object.hasOwn(v, k));
  const JWK_TYPES = new Set(['RSA', 'EC', 'OKP', 'oct']);
  const COMMAND_KEYS = ['command', 'cmd', 'program', 'executable', 'file'];
  const ARGS_KEYS = new Set(['args', 'argv', 'arguments', 'params', 'cmdline', 'command_args']);

  /**
   * How deep the walk is: past MAX_WALK_DEPTH levels (JSON nested thousands deep, which a hostile peer can send) a
   * subtree is masked as its JSON text, so that no input runs the walk out of stack (the call would be refused).
   */
  let depthNow = 0;
  const walk = (value: unknown, keyName: string | undefined, context?: KeyKind, command?: string): unknown => {
    if (value === null || typeof value !== 'object') return walkAt(value, keyName, context, command);
    if (depthNow >= MAX_WALK_DEPTH) return deepMasked(value, context ?? (keyName === undefined ? 'none' : kindOfKey(keyName)));
    depthNow++;
    try {
      return walkAt(value, keyName, context, command);
    } finally {
      depthNow--;
    }
  };
  const deepMasked = (value: object, context: KeyKind): unknown => {
    let json: string;
    try {
      json = JSON.stringify(value);
    } catch {
      return token('too-deep', 'nested too deeply to read'); // (deeper than JSON.stringify can go: not stored unread)
    }
    if (context === 'strong') return token('secret-value', json);
    const masked = text(json);
    if (masked === json) return value;
    try {
      return JSON.parse(masked) as unknown;
    } catch {
      return token('secret-value', json); // (when in doubt, mask)
    }
  };
  const walkAt = (value: unknown, keyName: string | undefined, context: KeyKind = keyName === undefined ? 'none' : kindOfKey(keyName), command?: string): unknown => {
    if (typeof value === 'string') {
      if (value.length > 0) {
        if (context === 'strong' && !isPlaceholder(value, true) && !(keyName !== undefined && labelNotSecret(keyName, value))) return token('secret-value', value);
        if (context === 'weak' && !isPlaceholder(value, true) && !MASKED_TOKEN.test(value) && ((secretLooking(value) && !/\s/.test(value)) || /^(?:bearer|basic|token)\s+\S{6,}$/i.test(value))) return token('secret-value', value);
        if (context === 'payment' && plausibleCard(value)) return token('credit-card', value.replace(/[ .\t\u00a0-]/g, ''));
        if (context === 'version' && DOTTED.test(value)) return value;
      }
      return text(value);
    }
    // A number is a card only where a card number stands (under a payment key): never any Luhn-valid integer.
    if (typeof value === 'number') {
      if (context === 'strong') return token('secret-value', String(value));
      // Under a key that names a secret loosely, a number is one as a string would be (`{"pin": 4821}`, as `"4821"` is).
      if (context === 'weak' && Number.isSafeInteger(value) && secretLooking(String(value))) return token('secret-value', String(value));
      if (context === 'payment' && Number.isSafeInteger(value) && value > 1e11 && plausibleCard(String(value))) return token('credit-card', String(value));
      return value;
    }
    if (context === 'strong' && value !== null && typeof value === 'object') {
      // What describes a secret field (a tool's JSON Schema, an OpenAPI security scheme) or names secrets holds
      // none, but for a default or an example it gives: its members are read as any others.
      const kind = describesSecret(value);
      if (kind === 'names') return value;
      // (A check's messages by plural form under `pass`, a locale's `{"pass": {"singular": …, "plural": …}}`: read as any text.)
      if (keyName !== undefined && /^pass$/i.test(keyName) && Object.keys(value).length > 0 && Object.entries(value).every(([k, v]) => PLURAL_FORMS.has(k) || (typeof v === 'string' && sentenceLike(v)))) return walk(value, undefined);
      if (kind !== 'description') return secretAll(value);
      let out: [string, unknown][] | undefined;
      const entries = Object.entries(value);
      for (let i = 0; i < entries.length; i++) {
        const [k, v] = entries[i] as [string, unknown];
        const masked = SCHEMA_VALUES.has(k) ? secretAll(v) : walk(v, k);
        if (out) out.push([k, masked]);
        else if (masked !== v) (out = entries.slice(0, i)).push([k, masked]);
      }
      return out ? Object.fromEntries(out) : value;
    }
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      // A `[name, value]` pair (a header, an env entry): the name is a bare name, and the value is not another
      // name (`["password", "confirm_password"]` is a list of fields). The name is scanned like any string.
      let pairValue: unknown;
      if (value.length === 2 && typeof value[0] === 'string' && typeof value[1] === 'string' && BARE_NAME.test(value[0])) {
        const kind = kindOfKey(value[0]);
        const listOfNames = FIELD_NAME.test(value[1]) && kindOfKey(value[1]) !== 'none';
        if ((kind === 'strong' || kind === 'weak') && !listOfNames) pairValue = walk(value[1], undefined, kind === 'weak' && /^(?:bearer|basic|token)\s/i.test(value[1]) ? 'strong' : kind);
      }
      if (flatHeaders(keyName, value)) {
        for (let i = 0; i + 1 < value.length; i += 2) {
          const kind = kindOfKey(value[i] as string);
          if (kind !== 'strong' && kind !== 'weak') continue;
          const masked = walk(value[i + 1], undefined, kind === 'weak' && /^(?:bearer|basic|token)\s/i.test(value[i + 1] as string) ? 'strong' : kind);
          if (masked !== value[i + 1]) (copy ??= value.slice())[i + 1] = masked;
        }
      }
      // (A HAR entry's `cookies`, `{name, value}` each, often nothing else: a cookie's value is a credential where it looks like one.)
      const cookieList = keyName !== undefined && /^(?:cookies|request_?cookies|response_?cookies)$/i.test(keyName);
      // A private key sent as an array of lines: the lines after its BEGIN line, up to its END line, are the key.
      let inKey = false;
      for (let i = 0; i < value.length; i++) {
        const item = value[i];
        let masked: unknown;
        if (inKey && typeof item === 'string') {
          masked = token('private-key', item);
          if (KEY_BLOCK_END.test(item)) inKey = false;
        } else if (i === 1 && pairValue !== undefined) {
          masked = pairValue;
        } else {
          masked = walk(item, cookieList ? COOKIE_ITEM : undefined, context === 'payment' ? 'payment' : 'none');
          if (typeof item === 'string' && KEY_BLOCK_BEGIN.test(item) && !KEY_BLOCK_END.test(item)) inKey = true;
        }
        if (masked !== item) (copy ??= value.slice())[i] = masked;
      }
      if (value.length >= 2 && value.every((v) => typeof v === 'string')) {
        const strings = (copy ?? value) as string[];
        // Without a command beside the array, its leading words are the command (`docker login`, `sudo sshpass`).
        let words = 1;
        while (command === undefined && words < Math.min(3, strings.length - 1) && /^[A-Za-z0-9_./-]+$/.test(strings[words] as string) && !(strings[words] as string).startsWith('-')) words++;
        const argv = command !== undefined ? argvMasked(command, strings, 0) : argvMasked(strings.slice(0, words).join(' '), strings, words);
        if (argv) copy = argv;
      }
      return copy ?? value;
    }
    if (value !== null && typeof value === 'object') {
      // Keys are masked too (a key id used as a property name). Nothing is copied until something changes;
      // then the object is rebuilt with its keys in their order.
      let out: [string, unknown][] | undefined;
      const entries = Object.entries(value);
      const pair = pairKind(value as Record<string, unknown>) ?? (keyName === COOKIE_ITEM && typeof (value as Record<string, unknown>).name === 'string' && Object.hasOwn(value, 'value') ? 'weak' : undefined);
      // A JSON Web Key (`kty`): its private members are the key, whatever they look like.
      const jwk = JWK_TYPES.has((value as Record<string, unknown>).kty as string);
      const secrets = secretMembers(value as Record<string, unknown>, keyName)?.map((p) => p.split('.'));
      const listed = listedValuesKind(value as Record<string, unknown>);
      // (A manifest's or a lockfile's packages: their names hold key words, `jsonwebtoken`, `cookie-signature`.)
      const dependencies = keyName !== undefined && DEPENDENCY_HOLDERS.has(keyName);
      for (let i = 0; i < entries.length; i++) {
        const [k, v] = entries[i] as [string, unknown];
        // Under a payment key, a plain child (`card: { number: … }`) is where the card number stands.
        const childContext = pair && VALUE_FIELDS.includes(k) ? pair : context === 'payment' && kindOfKey(k) === 'none' ? 'payment' : ownedKey(keyName, k, value as Record<string, unknown>) ? 'strong' : dependencies && packageSpec(v) ? 'none' : undefined;
        // The arguments of a command named beside them (`{command: "mysql", args: […]}`) are read with it.
        const commandHere = Array.isArray(v) && ARGS_KEYS.has(k) ? COMMAND_KEYS.map((c) => (value as Record<string, unknown>)[c]).find((c): c is string => typeof c === 'string') : undefined;
        const masked = jwk && JWK_PRIVATE.has(k) && typeof v === 'string' && v !== '' ? token('private-key', v)
          : secrets?.some((p) => p.length === 1 && p[0] === k) ? secretAll(v)
          : secrets?.some((p) => p[0] === k) ? secrets.filter((p) => p[0] === k).reduce((acc, p) => secretAt(acc, p.slice(1)), walk(v, k))
          : listed && k === 'values' && Array.isArray(v) ? v.map((e) => (e !== null && typeof e === 'object' && !Array.isArray(e) && Object.hasOwn(e, 'value') ? { ...(walk(e, undefined) as Record<string, unknown>), value: walk((e as Record<string, unknown>).value, undefined, listed) } : walk(e, undefined)))
          : walk(v, typeof v !== 'object' && namedOtherwise(k, value as Record<string, unknown>) ? undefined : k, childContext === 'weak' && typeof v === 'string' && /^(?:bearer|basic|token)\s/i.test(v) ? 'strong' : childContext, commandHere);
        const key = k.length >= 6 ? text(k) : k;
        if (out) out.push([key, masked]);
        else if (masked !== v || key !== k) {
          out = entries.slice(0, i);
          out.push([key, masked]);
        }
      }
      return out ? Object.fromEntries(out) : value;
    }
    return value;
  };

  return { text, json: <T>(value: T) => walk(value, undefined) as T, token };
}

/** How deep the JSON walk goes before a subtree is masked as its text (real messages nest a few dozen levels at most). */
const MAX_WALK_DEPTH = 256;

/** One hint for many: the regexes joined into one scan per set of flags, and the hints that are functions. */
interface HintUnion extends Hint {
  /** Whether any of the regex hints passes (each regex hint fails where this does). */
  regexes(value: string): boolean;
  /** Whether any of the hints that are functions passes. */
  functions(value: string): boolean;
}

function unionOf(hints: readonly Hint[]): HintUnion {
  const byFlags = new Map<string, Set<string>>();
  for (const h of hints) if (h instanceof RegExp) byFlags.set(h.flags, (byFlags.get(h.flags) ?? new Set()).add(h.source));
  // (Joined with their own flags: a case-insensitive union of case-sensitive hints is slower and passes more.)
  const regexes = [...byFlags].map(([flags, sources]) => new RegExp([...sources].join('|'), flags.replace(/[gy]/g, '')));
  const others = hints.filter((h) => !(h instanceof RegExp));
  const union: HintUnion = {
    regexes: (value) => regexes.some((r) => r.test(value)),
    functions: (value) => others.some((h) => h.test(value)),
    test: (value) => union.regexes(value) || union.functions(value),
  };
  return union;
}

function compile(detectors: Detector[], flags: string): CompiledSet | undefined {
  if (detectors.length === 0) return undefined;
  const source = detectors.map((d, i) => (d.prefix ? `(?<p${i}>${d.prefix})(?<d${i}>${d.pattern ?? ''})` : `(?<d${i}>${d.pattern ?? ''})`)).join('|');
  return { regex: new RegExp(source, `g${flags}`), sticky: new RegExp(source, `gy${flags}`), detectors };
}

/** A client's name and version as stored or shown: masked, since a client chooses them (its registration's id is Gatehouse's own). */
export function maskClient(client: Readonly<{ name?: string; version?: string; registration?: string }>, mask: (value: string) => string): { name?: string; version?: string; registration?: string } {
  return { ...(client.name !== undefined ? { name: mask(client.name) } : {}), ...(client.version !== undefined ? { version: mask(client.version) } : {}), ...(client.registration !== undefined ? { registration: client.registration } : {}) };
}

/** The key of the masked tokens' HMAC, derived from the audit key (so tokens match across restarts, and cannot be guessed back). */
export function maskingKeyFrom(auditKey: Buffer): Buffer {
  return createHmac('sha256', auditKey).update('gatehouse-masking-v1').digest();
}
