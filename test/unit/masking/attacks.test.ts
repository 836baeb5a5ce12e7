/*
 * The seventh attacker's round on masking, each break a test that failed before its fix.
 *
 * Attacks (a hostile client or server choosing what a message holds; the masker runs on the message path):
 * - Slow input: a text that makes every reading search it all (`&amp; \u0041 \x41 %41 Ａ 41 42 …` at its start,
 *   then 200 KB of `password: x`): each reading searched the whole text again, 1.6 s for the masker and 24 s end
 *   to end, another client stalled meanwhile. What is measured is the work: the characters searched.
 * - The budget turned against plain data: ordinary text in base64 wrapped at 60 or 76 columns (the GitHub
 *   contents API, MIME) was decoded line by line, each line's glued parts too, until the budget ran out and
 *   the rest was masked unread; a column of short base64 values that decode to text ran out the same way. And
 *   a secret split across two wrapped lines was found in neither.
 * - Code read as secrets: Laravel's `'password' => 'required|string|min:8'`, `'PasswordController@reset'`,
 *   `setenv("TOKEN_CACHE_DIR", "/var/cache/tokens", 1)`, `pw=prompt`, a JWK's `"p"` in a text that only
 *   mentions `"kty"`, repeated letters in a vendor shape. (An md5 with `-us1` after it still reads as a Mailchimp
 *   key: 32 hex digits are all such a key's body is, and a key standing in prose must not pass.)
 * - Forms stored in clear: YAML values on the line after their key with `#` or `:` in them, a comment after
 *   the key, a list under the key; SQL `IDENTIFIED BY "…"` and bare; argv arrays with a quoted `-p`, `docker
 *   login -p`, `sudo sshpass -p`; JSON text with an array or object under a password key; backtick strings;
 *   Terraform defaults; fish `set -x`; `lftp -u user,PW`; `vault login PW`; `process.env.X || "PW"`.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createMasker } from '../../../main/masking/masker.js';
import { countingDecodes } from '../../helpers/decoded-chars.js';

const KEY = Buffer.alloc(32, 9);
const settings = { detectors: ['secrets', 'email', 'credit-card', 'ip'] as const, custom: [] };
const all = createMasker(settings, KEY);
const fill = (unit: string, n: number) => unit.repeat(Math.ceil(n / unit.length)).slice(0, n);
const b64 = (t: string) => Buffer.from(t).toString('base64');

describe('the masker\'s work is bounded by what a text holds', () => {
  it('searches a text with every reading\'s sign about once, not once per reading', () => {
    let searched = 0;
    const counting = createMasker(settings, KEY, { onSearch: (chars) => (searched += chars) });
    const text = `&amp; \\u0041 \\x41 %41 \uff21 41 42 43 44 45 46 47 48 49 4a 4b 4c ${fill('password: x\n', 200_000)}`;
    counting.text(text);
    expect(searched).toBeLessThan(1.5 * text.length);
    // The readings still find what they hide, anywhere in a long text.
    const hidden = `${fill('the quick brown fox. ', 100_000)} p&#97;ssword: hunter22-horse ${fill('the quick brown fox. ', 100_000)}`;
    expect(all.text(hidden)).not.toContain('hunter22');
  });

  // Masking reads the argv arrays in a text by masking their elements, each a text of its own: that must not
  // give the outer text a fresh budget for each array (a bomb of glued base64 between arrays of new words).
  it('keeps one budget for a text, whatever it masks inside it', () => {
    const pad3 = (t: string, c: string): string => (Buffer.byteLength(t) % 3 === 0 ? t : pad3(t + c, c));
    const glue = (x: string) => `QUI_QUI_QUI_${x}QUI_QUI_QUI_`;
    const signs = '%41&#65;\\u0041\uff21 ';
    const inner = pad3(`${signs}${glue(b64(pad3(`${signs}hello world`, '.')))} `, ' ');
    const bomb = signs + Array.from({ length: 150 }, (_, i) => glue(b64(pad3(`${inner} ["w${i}","-p","v${i}"] `, ' ')))).join(' ');
    const { chars, result: out } = countingDecodes(() => createMasker(settings, KEY).text(bomb));
    expect(chars).toBeLessThan(8 * bomb.length + 100_000);
    // (What is past the budget is masked, never the budget's own mark.)
    expect(out).not.toContain('\u0000');
  });

  it('reads base64 wrapped at 60 or 76 columns as one run: plain text left alone, a secret across lines found', () => {
    const prose = fill('Gatehouse records every request and response; the timeline replays any session. ', 30_000);
    for (const width of [60, 76]) {
      const wrapped = b64(prose).replace(new RegExp(`(.{${width}})`, 'g'), '$1\n');
      expect(all.text(wrapped), `width ${width}`).toBe(wrapped);
      expect(all.text(JSON.stringify({ content: wrapped, encoding: 'base64' }))).not.toContain('[MASKED:');
      const env = `${fill('# settings\n', 70)}DB_PASSWORD=Tr0ub4dor-and-3-horses\n${fill('# more\n', 90)}`;
      const secret = b64(env).replace(new RegExp(`(.{${width}})`, 'g'), '$1\n');
      expect(all.text(secret), `width ${width}`).toMatch(/\[MASKED:base64-secret:/);
    }
  });

  it('reads a column of short base64 values that decode to text (a table, one value repeated) without running out', () => {
    const distinct = Array.from({ length: 6000 }, (_, i) => b64(`item ${i} description text`)).join('\n');
    expect(all.text(distinct)).toBe(distinct);
    const repeated = fill(`${b64('hello world this is text ')} `, 200_000);
    expect(all.text(repeated)).toBe(repeated);
  });
});

describe("the seventh attacker's forms", () => {
  const P = 'Xk9#mQ2vLp7';
  const Q = 'Tr0ub4dor.horse9';
  const stored: [string, string][] = [
    // YAML: a value on the line after its key, with `#` or `:` in it; a comment after the key; a list under it.
    [`password:\n  ${P}\n`, P],
    [`password:\n  Xk9:mQ2vLp7\n`, 'Xk9:mQ2vLp7'],
    [`password:\n  -Xk9mQ2vLp7\n`, 'Xk9mQ2vLp7'],
    [`password: # set by ops\n  Xk9mQ2vLp7\n`, 'Xk9mQ2vLp7'],
    [`passwords:\n  - ${P}\n  - other-pw-2\n`, P],
    // SQL.
    [`ALTER USER app IDENTIFIED BY "${Q}";`, Q],
    [`CREATE USER app IDENTIFIED BY "${Q}";`, Q],
    [`ALTER USER app IDENTIFIED BY Tr0ub4dor9;`, 'Tr0ub4dor9'],
    // Command lines.
    [`7z x "-p${Q}" x.7z`, Q],
    [`7z x '-p${Q}' x.7z`, Q],
    [`lftp -u alice,${Q} ftp.example.com`, Q],
    [`vault login ${Q}`, Q],
    [`set -x DB_PASSWORD ${Q}`, Q],
    [`set -gx API_KEY ${Q}`, Q],
    // JSON text and code.
    [`{"password": ["${Q}"]}`, Q],
    [`{"password": {"value": "${Q}"}}`, Q],
    [`password = ["${Q}"]`, Q],
    ['password := `' + Q + '`', Q],
    ['const password = `' + Q + '`;', Q],
    [`variable "db_password" {\n  default = "${Q}"\n}`, Q],
    [`process.env.DB_PASSWORD || "${Q}"`, Q],
  ];
  it.each(stored)('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));

  const argv: [unknown, string][] = [
    [['docker', 'login', '-u', 'me', '-p', Q], Q],
    [['sudo', 'sshpass', '-p', Q, 'ssh', 'h'], Q],
    [['7z', 'x', `-p${Q}`, 'x.7z'], Q],
  ];
  it.each(argv)('masks the argv %j', (value, secret) => expect(JSON.stringify(all.json(value))).not.toContain(secret));
  it.each(argv)('masks the argv %j written as JSON text', (value, secret) => expect(all.text(`ran ${JSON.stringify({ argv: value })}`)).not.toContain(secret));

  const left = [
    "$routes = ['password' => 'PasswordController@reset', 'token' => 'api'];",
    "return ['password' => 'required|string|min:8|confirmed'];",
    "'password' => 'nullable|string|max:255',",
    'setenv("TOKEN_CACHE_DIR", "/var/cache/tokens", 1);',
    'ssh-agent: pw=prompt mode=interactive',
    'Using pw=ask from the prompt',
    '{"keys":[{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78","e":"AQAB"}],"query":{"q":"search_query_string_here_long"}}',
    '{"kty":"unrelated","p":"example_parameter_docs_here"}',
    `url.sl.${'a'.repeat(140)}`,
    `gAAAAA${'A'.repeat(100)}`,
    `${'A'.repeat(22)}${'B'.repeat(100)}`,
    'see https://example.com/v4.local.documentation-for-paseto-tokens-and-keys-here',
  ];
  it.each(left)('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it('leaves members of an object that is not a JWK alone', () => {
    const value = { kty: 'unrelated', q: 'search query string here long', k: 'some_kind_of_value_long' };
    expect(all.json(value)).toEqual(value);
  });
});

describe("the seventh attacker's encodings", () => {
  const env = 'DB_PASSWORD=Xk9#mQ2vLp7';
  const hex = Buffer.from(env).toString('hex');
  const encoded: [string, string][] = [
    ['base64 with a stray character (4n+1 long)', `${Buffer.from(`${env}!!`).toString('base64').replace(/=+$/, '')}x`],
    ['base64 behind a control byte', Buffer.from(`\u0001${env}`).toString('base64')],
    ['base64 of UTF-16', Buffer.from(env, 'utf16le').toString('base64')],
    ['hex bytes joined by colons', hex.replace(/(..)(?!$)/g, '$1:')],
    ['hex bytes written 0x44 0x42', hex.replace(/(..)/g, '0x$1 ')],
    ['a C array of bytes', `{${hex.replace(/(..)/g, '0x$1, ')}}`],
    ['octal escapes', [...env].map((c) => `\\${c.charCodeAt(0).toString(8).padStart(3, '0')}`).join('')],
  ];
  it.each(encoded)('finds a secret in %s', (_label, text) => {
    const out = all.text(text);
    expect(out).toMatch(/\[MASKED:/);
    expect(out).not.toContain(text);
  });
  it('leaves fingerprints, MAC addresses and binary alone', () => {
    const fingerprint = Array.from({ length: 32 }, (_, i) => ((i * 73 + 41) % 256).toString(16).padStart(2, '0')).join(':');
    for (const text of [`SHA256 fingerprint ${fingerprint}`, 'mac 00:1a:2b:3c:4d:5e', `0x${'ff'.repeat(20)}`]) expect(all.text(text)).toBe(text);
  });
});

describe('JSON written inside a string (a tool result whose text is JSON of what it was sent)', () => {
  const forms = [
    'db:\n  password:\n    Xk9#mQ2vLp7\n  user: app\n',
    'password: # set by ops\n  Xk9mQ2vLp7\n',
    'ALTER USER app IDENTIFIED BY "Tr0ub4dor.horse9";',
    '7z x "-pTr0ub4dor.horse9" backup.7z',
  ];
  it.each(forms)('masks %j there, and the text still parses', (form) => {
    const text = JSON.stringify({ args: form });
    const out = all.text(text);
    expect(out).toMatch(/\[MASKED:/);
    for (const secret of ['Xk9', 'Tr0ub4dor']) expect(out).not.toContain(secret);
    expect(() => JSON.parse(out)).not.toThrow();
  });
});

describe('masking JSON written as text keeps it JSON', () => {
  const fragments = ['password:', ' ', '\n', '  ', 'Xk9#mQ2vLp7', '"', '\\', 'IDENTIFIED BY ', '7z x "-p', 'db:', '- ', '#', 'token=', 'ghp_R7x9R7x9R7x9R7x9R7x9R7x9R7x9R7x9R7x9', '\t', 'user: app', '&amp;', '%41', ':'];
  it('whatever a string holds, the text of a JSON object holding it still parses once masked', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 24 }), fc.constantFrom('args', 'password', 'text'), (parts, key) => {
        const text = JSON.stringify({ [key]: parts.join(''), n: 1 });
        expect(() => JSON.parse(all.text(text)), text).not.toThrow();
      }),
      { numRuns: 600 },
    );
  });
});
