import { boundedKeyStretch, jwtScanner, literalFrom, portColons, separatorPair, withLiteral, type Hint } from './scan.js';

/**
 * What masking looks for. The formats are learned from the rule sets of well-kept secret scanners (gitleaks'
 * `config/gitleaks.toml`, secretlint's rule presets, Yelp's detect-secrets): a vendor's fixed prefix and
 * alphabet where it has one, context (a secret-named key, an auth header, a query parameter) where it has not.
 * They are written here rather than taken as a dependency: those scanners scan repositories (files, git
 * history) with hundreds of rules and no budget per message, and masking runs on every message of the call
 * path (targets: ≥ 50 MB/s, a 4 KB message in well under 50 µs).
 *
 * Detectors run in two phases: formats first (a token is recognised by its own shape, wherever it stands),
 * then context (assignments, headers, query strings), which skips anything phase 1 already masked. So a
 * private key under `"private_key":` is masked whole by its format, not cut at its first space by the key.
 */

/** A detector: what it finds (a regex source), what it is called in the masked token, and an optional check of each match. */
export interface Detector {
  kind: string;
  /** What to mask. With `prefix`, only what follows the prefix is masked (the key of key=value stays). */
  pattern?: string;
  prefix?: string;
  /** A cheap test a string must pass before the detector's pattern is run on it (most strings pass few). */
  hint?: Hint;
  /** `i` for a case-insensitive custom pattern (it then runs in its own pass). */
  flags?: string;
  /**
   * 1: a format, recognised anywhere (default); 2: context, run after phase 1 and never over what it masked;
   * 3: context that names itself (a command, SQL, a closing tag, a file's layout), tried only where its hint is.
   */
  phase?: 1 | 2 | 3;
  /** A format whose matches never hold a space: searched only within runs of text between spaces (much cheaper on prose). */
  inRun?: boolean;
  /** Instead of a pattern: a function that finds the matches ([start, end) pairs, in order) faster than a regex could. */
  scan?: (value: string) => [number, number][];
  /** A check of each match: the part to mask, the prefix before it, and the text around it. */
  accept?: (secret: string, prefix: string, input: string, offset: number) => boolean;
}

/** Luhn checksum over the digits of a candidate card number. */
export function luhnValid(text: string): boolean {
  const digits = text.replace(/[ .\t\u00a0\u202f\u2013-]/g, '');
  if (digits.length < 12 || digits.length > 19 || /^(\d)\1+$/.test(digits)) return false;
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

/**
 * Whether digits could be a payment card: a length and issuer prefix the card networks use (Visa, Mastercard,
 * Amex, Discover, JCB, Diners, UnionPay, Maestro) and a valid Luhn checksum. A millisecond timestamp (17…),
 * a snowflake id (18–19 digits) or a random id of the wrong prefix is not one.
 */
export function plausibleCard(text: string): boolean {
  const d = text.replace(/[ .\t\u00a0\u202f\u2013-]/g, '');
  if (!/^\d{12,19}$/.test(d) || !luhnValid(d)) return false;
  const n = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  if (d[0] === '4') return n === 13 || n === 16 || n === 19; // Visa
  if ((p2 >= 51 && p2 <= 55) || (p4 >= 2221 && p4 <= 2720)) return n === 16; // Mastercard
  if (p2 === 34 || p2 === 37) return n === 15; // Amex
  if (p4 === 6011 || p2 === 65 || (p3 >= 644 && p3 <= 649) || (p6 >= 622126 && p6 <= 622925)) return n >= 16; // Discover
  if (p4 >= 3528 && p4 <= 3589) return n >= 16; // JCB
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return n >= 14; // Diners
  if (p2 === 62) return n >= 16; // UnionPay
  if (p2 === 50 || (p2 >= 56 && p2 <= 69)) return n >= 12; // Maestro
  return false;
}

/** Shannon entropy in bits per character: random keys have ~5–6, words and identifiers ~3–4. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

// ---- secret-named keys ----------------------------------------------------------------------------------

/** Words that make a key name secret on their own (`DB_PASSWORD`, `clientSecret`, `GITHUB_TOKEN`). */
const SECRET_WORDS = new Set(['psk', 'requirepass', 'masterauth', 'pw', 'passcode', 'pin', 'sessid', 'sess', 'jsessionid', 'phpsessid', 'passwords', 'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'secrets', 'token', 'apikey', 'credential', 'credentials', 'privatekey', 'secretkey', 'accesskey', 'authtoken', 'sessionid', 'sessiontoken', 'cookie', 'authorization', 'sig', 'signature', 'sas', 'dsn', 'connectionstring', 'webhookurl', 'pat', 'cpassword', 'salt', 'encrypt', 'totp', 'otp', 'tokens', 'creds', 'auth', 'passwort', 'kennwort']);
/**
 * A key owned by a cipher, a signature scheme or a service (`JWT_KEY`, `HMAC_KEY`, `OPENAI_KEY`, `stripeKey`): the
 * credential itself. (A key of a table, a cache or a sort is named by other words.)
 */
const OWNED_KEYS = ['jwt', 'jws', 'jwe', 'hmac', 'nonce', 'in', 'validation', 'decryption', 'machine', 'aes', 'des', 'crypto', 'cipher', 'aead', 'totp', 'otp', 'mfa', 'openai', 'anthropic', 'claude', 'gemini', 'mistral', 'cohere', 'groq', 'deepseek', 'xai', 'perplexity', 'openrouter', 'together', 'fireworks', 'replicate', 'huggingface', 'hf', 'elevenlabs', 'voyage', 'pinecone', 'weaviate', 'tavily', 'serpapi', 'stripe', 'paypal', 'braintree', 'plaid', 'razorpay', 'twilio', 'sendgrid', 'mailgun', 'postmark', 'resend', 'brevo', 'mailchimp', 'mapbox', 'algolia', 'pusher', 'firebase', 'supabase', 'clerk', 'auth0', 'okta', 'datadog', 'dd', 'newrelic', 'sentry', 'segment', 'mixpanel', 'amplitude', 'slack', 'discord', 'telegram', 'github', 'gitlab', 'bitbucket', 'npm', 'pypi', 'heroku', 'vercel', 'netlify', 'cloudflare', 'digitalocean', 'linode', 'shopify'].map((owner) => `${owner} key`);
/** Pairs of words that do (`api_key`, `private-key`, `access_key`, `secret_key`, `auth_token`, `session_id`). */
const SECRET_PAIRS = new Set(['api keys', 'private keys', 'access keys', 'secret keys', 'auth tokens', 'api tokens', 'access tokens', 'session key', 'cookie key', 'deploy key', 'bot key', 'server key', 'basic auth', 'mot de', 'preshared key', 'pre shared', 'api key', 'private key', 'access key', 'secret key', 'auth token', 'session id', 'session token', 'account key', 'master key', 'encryption key', 'signing key', 'client key', 'connection string', 'webhook url', 'shared key', 'x api', 'subscription key', 'auth key', 'identity token', 'license key', 'app key', 'application key', 'service key', 'storage key', 'admin key', 'bot token', 'refresh token', 'access token', 'id token', 'bearer token', 'api token', 'client secret', 'github oauth', 'gitlab oauth', 'bitbucket oauth', 'secret id', 'rediscli auth', 'auth ident', ...OWNED_KEYS]);
/** Words after which the value is about a secret but is not one (`token_type`, `password_length`, `secretName`). */
const NOT_SECRET_AFTER = new Set(['last', 'rounds', 'type', 'types', 'count', 'counts', 'limit', 'limits', 'max', 'min', 'length', 'len', 'size', 'url', 'uri', 'endpoint', 'path', 'file', 'name', 'names', 'id', 'ids', 'expiry', 'expires', 'expiration', 'ttl', 'usage', 'used', 'policy', 'rule', 'rules', 'hint', 'prompt', 'label', 'field', 'format', 'required', 'enabled', 'set', 'ref', 'version', 'provider', 'kind', 'mode', 'header', 'param', 'hash', 'algorithm', 'alg', 'scope', 'scopes', 'issuer', 'audience', 'lifetime', 'rotation', 'reset', 'changed', 'strength', 'manager', 'store', 'vault', 'location', 'arn', 'env', 'var', 'key', 'keys', 'placeholder', 'title', 'heading', 'text', 'message', 'tooltip', 'help', 'description', 'caption', 'button', 'link', 'error', 'errors', 'invalid', 'mismatch', 'too', 'weak', 'forgotten', 'encryption', 'cipher', 'complexity', 'request', 'requests', 'details', 'metadata', 'method', 'methods', 'challenge', 'mgr', 'arg', 'args', 'argument', 'through', 'thru']);
/** Words that, ending a key after its secret word, make it name something about secrets (`TOKEN_CACHE_DIR`, `secret_store_path`). */
const NOT_SECRET_LAST = new Set(['dir', 'dirs', 'directory', 'folder', 'path', 'paths', 'file', 'files', 'filename', 'url', 'uri', 'endpoint', 'host', 'port', 'name', 'names', 'type', 'format', 'length', 'size', 'count', 'enabled', 'mode', 'modes', 'ttl', 'timeout', 'alg', 'enc', 'algorithm', 'algorithms', 'method', 'methods', 'values', 'supported', 'metadata', 'policy', 'server', 'servers']);
/** Words before which a secret word is about something else (`max_tokens`, `num_pass`, `bypass`, `compass`). */
const NOT_SECRET_BEFORE = new Set(['max', 'min', 'num', 'total', 'by', 'no', 'is', 'has', 'show', 'hide', 'next', 'page', 'pagination', 'skip', 'cursor', 'csrf', 'xsrf', 'continuation', 'sync', 'delta', 'existing', 'forgot', 'forgotten', 'public']);
/** Secret words whose value is a secret whatever it looks like; the others (token, sig, pat, session…) also name cursors, signatures of names, people. */
const STRONG_WORDS = new Set(['api keys', 'private keys', 'access keys', 'secret keys', 'session key', 'cookie key', 'deploy key', 'bot key', 'server key', 'basic auth', 'creds', 'passwort', 'kennwort', 'mot de', 'psk', 'requirepass', 'masterauth', 'preshared key', 'pre shared', 'pw', 'passcode', 'passwords', 'authorization', 'cookie', 'sessiontoken', 'password', 'passwd', 'pwd', 'pass', 'passphrase', 'secret', 'secrets', 'apikey', 'credential', 'credentials', 'privatekey', 'secretkey', 'accesskey', 'authtoken', 'connectionstring', 'api key', 'private key', 'access key', 'secret key', 'auth token', 'account key', 'master key', 'encryption key', 'signing key', 'client key', 'shared key', 'x api', 'subscription key', 'auth key', 'license key', 'app key', 'application key', 'service key', 'storage key', 'admin key', 'client secret', 'github oauth', 'gitlab oauth', 'bitbucket oauth', 'secret id', 'rediscli auth', 'auth ident', 'cpassword', ...OWNED_KEYS]);

// Letters that look like Latin ones (a key written with them is read as the word it imitates).
const CONFUSABLE: Record<string, string> = { а: 'a', е: 'e', о: 'o', р: 'p', с: 'c', ѕ: 's', і: 'i', у: 'y', х: 'x', ԁ: 'd', ԛ: 'q', ո: 'n', ɑ: 'a', ο: 'o', ρ: 'p', τ: 't', κ: 'k', ν: 'v', ι: 'i', Α: 'A', Β: 'B', Ε: 'E', Κ: 'K', Ο: 'O', Ρ: 'P', Τ: 'T', Х: 'X', А: 'A', В: 'B', Е: 'E', К: 'K', М: 'M', Н: 'H', О: 'O', Р: 'P', С: 'C', Т: 'T', к: 'k', ϲ: 'c', ς: 'c', ꜱ: 's', ԝ: 'w', һ: 'h', ј: 'j', ӏ: 'l', ɡ: 'g', ʀ: 'r', ᴘ: 'p', ᴏ: 'o', ᴡ: 'w', ᴅ: 'd', օ: 'o', ս: 'u', հ: 'h', ց: 'g', '∶': ':', 'ː': ':', '꞉': ':' };

/** Characters that show nothing: zero-width, joiners, bidi controls, variation selectors, fillers, tags. */
function invisible(cp: number): boolean {
  return (
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0000 && cp <= 0xe01ef) || // tags, variation selectors supplement
    (cp >= 0x180b && cp <= 0x180f) || // Mongolian free variation selectors, vowel separator
    (cp >= 0x1d173 && cp <= 0x1d17a) || // musical symbol formatting
    (cp >= 0xfff9 && cp <= 0xfffb) || // interlinear annotation
    [0xfeff, 0x00ad, 0x034f, 0x061c, 0x115f, 0x1160, 0x3164, 0xffa0].includes(cp)
  );
}

/** A key name as it reads: compatibility forms folded (fullwidth letters), invisible characters dropped, look-alike letters mapped. */
export function normalizeKeyName(name: string): string {
  return name
    .normalize('NFKC')
    .replace(/[^\x20-\x7e]/gu, (c) => (invisible(c.codePointAt(0) as number) ? '' : c))
    .replace(/[\u0080-\uffff]/g, (c) => CONFUSABLE[c] ?? c);
}

/** Whether text holds characters that hide what it reads as: invisible ones, fullwidth forms, look-alike letters. */
// (Not a `u` regex, which is slower: `\udb40` is the first half of every tag character.)
// eslint-disable-next-line no-misleading-character-class -- the class lists invisible and combining characters on purpose, one by one
const FOLDABLE = new RegExp(`[\\u00ad\\u034f\\u061c\\u115f\\u1160\\u180b-\\u180f\\u200b-\\u200f\\u202a-\\u202e\\u2060-\\u206f\\u3164\\ufe00-\\ufe0f\\ufeff\\uff01-\\uff5e\\uffa0\\ufff9-\\ufffb\\ud834\\ud835\\udb40${Object.keys(CONFUSABLE).join('')}]`);
/** Where such characters stand (see foldable). */
// eslint-disable-next-line no-misleading-character-class -- FOLDABLE's class, as above
export const FOLDABLE_AT = new RegExp(FOLDABLE.source, 'g');
export function foldable(text: string): boolean {
  // Plain ASCII (most text) holds none of them: its UTF-8 length is its length, which is far cheaper to learn.
  return Buffer.byteLength(text) !== text.length && FOLDABLE.test(text);
}

/** Whether a command-line option stands in the text (` -p`, `\t--password`, ` "-p…"`): a `-` after whitespace, or after a quote after whitespace. */
function optionIn(text: string): boolean {
  const space = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;
  for (let i = text.indexOf('-'); i > 0; i = text.indexOf('-', i + 1)) {
    const c = text.charCodeAt(i - 1);
    if (space(c) || ((c === 34 || c === 39) && space(text.charCodeAt(i - 2)))) return true;
  }
  return false;
}

// The gate's literals of 7 characters or more, each searched for from a piece that a rare character leads.
const RSA_KEY_VALUE = literalFrom('<RSAKeyValue', 0);
const PASSWORD_B64 = literalFrom('UGFzc3dvcmQ6', 0);
const ADDLOGIN = literalFrom('_addlogin', 0);
const CURLOPT = literalFrom('CURLOPT_', 0);
const BUNDLE = literalFrom('BUNDLE_', 0);
const SECURITY_KEY = literalFrom('.security.', 0);
const PUTTY_PRIVATE = literalFrom('Private-Key:', 0);
const MINISIGN = literalFrom('untrusted comment:', 12);
const JFROG = literalFrom('-JFrog-', 1);
const JFROG_LOWER = literalFrom('-jfrog-', 1);
const SETUSER = literalFrom('SETUSER', 0);
const LOGIN = literalFrom(' LOGIN ', 1);
const HELM_DEFAULT = literalFrom('default "', 0);
const KEYWORD_KEY = /[{(\s]:[A-Za-z-]*(?:pass|secret|token|key)[A-Za-z-]*[ \t]+"/i;
/** Whether a keyword key (`{:password "…"}`) may stand: a `:` after a blank or a bracket, found from the `:`s (rarer than blanks). */
function keywordKeyIn(text: string): boolean {
  for (let i = text.indexOf(':'), n = 0; i > 0 && n < 10_000; i = text.indexOf(':', i + 1), n++) {
    const c = text.charCodeAt(i - 1);
    if (c === 32 || c === 9 || c === 10 || c === 123 || c === 40) return KEYWORD_KEY.test(text);
  }
  return false;
}
const DEFAULT_ARGUMENT = literalFrom('(default=', 0);
const TO_CHAR_ARRAY = literalFrom('.toCharArray', 0);
const REQUIREPASS_QUOTED = literalFrom('"requirepass"', 1);
const TEXT_ATTRIBUTE = literalFrom('-text="', 1);
/**
 * Whether a text could hold one of the context forms that name themselves (phase 3): a command-line option, a
 * password in SQL or .netrc, a closing tag, a TOML multi-line string, a .pgpass line, Oracle's user/password@.
 * Plain substring tests first: they cost far less than the detectors' hints joined.
 */
export function namedContextPossible(text: string): boolean {
  return (
    text.includes('\t') ||
    text.includes('</') ||
    text.includes('"""') ||
    text.includes("'''") ||
    optionIn(text) ||
    text.includes('||') ||
    text.includes('??') ||
    text.includes('?:') ||
    text.includes('WIFI:') ||
    keywordKeyIn(text) ||
    (text.includes('{{') && HELM_DEFAULT.test(text)) ||
    NAMED_WORDS.test(text.toLowerCase()) ||
    // (Words that begin with a symbol are looked for apart: in the regex they make its scan of every text three times slower.)
    // (Each after a search for its rarest character, which costs a fraction of a longer literal's.)
    (text.includes('<') && text.includes('<<<')) ||
    (text.includes('"') && text.includes('secret "')) ||
    (text.includes(']') && text.includes(']:')) ||
    (text.includes('*') && (text.includes('* ') || text.includes('*\t'))) ||
    (text.includes('|') && PIPED_TO_STORE.test(text)) ||
    // (Each literal begins with a character that is rare in text: `includes` then skips ahead fast. Literals that
    // share a rarer one are tried only where it stands: most texts hold no `AUTH`, no `"`, no `_`.)
    RSA_KEY_VALUE.test(text) ||
    text.includes('PSK ') ||
    text.includes('EAP ') ||
    (text.includes('AUTH') && (text.includes('XAUTH ') || text.includes('AUTH PLAIN') || text.includes('AUTH LOGIN') || text.includes('AUTHENTICATE') || text.includes('> AUTH ') || text.includes('"AUTH"'))) ||
    PASSWORD_B64.test(text) ||
    // (Jenkins' and Elasticsearch's words hold `password`.)
    (text.includes('_') && (ADDLOGIN.test(text) || CURLOPT.test(text) || (BUNDLE.test(text) && text.includes('__')))) ||
    SECURITY_KEY.test(text) ||
    PUTTY_PRIVATE.test(text) ||
    MINISIGN.test(text) ||
    (text.includes('"') && (text.includes('"auth"') || REQUIREPASS_QUOTED.test(text) || TEXT_ATTRIBUTE.test(text))) ||
    JFROG.test(text) ||
    JFROG_LOWER.test(text) ||
    SETUSER.test(text) ||
    // (A call's first argument a quoted key: `conf.set("fs.s3a.secret.key", …)`, `req.Header.Set("X-Api-Key", …)`.)
    (text.includes('(') && (text.includes('("') || text.includes("('") || text.includes('(\\"') || text.includes('(b"') || text.includes("(b'") || SIGNING_CALL.test(text) || DEFAULT_ARGUMENT.test(text) || TO_CHAR_ARRAY.test(text))) ||
    text.includes('PASS ') ||
    LOGIN.test(text) ||
    text.includes('> auth ') ||
    lineOpenerIn(text) ||
    portColons(text) ||
    (text.includes('/') && /sqlplus|rman|expdp|impdp|sqlldr|dgmgrl/i.test(text))
  );
}
/** Whether the word at `i` is one of LINE_OPENERS (or an impacket script). */
function opensWord(text: string, i: number): boolean {
  let e = i;
  for (let c = text.charCodeAt(e); e - i < 20 && ((c | 0x20) >= 97 && (c | 0x20) <= 122 || (c >= 48 && c <= 57) || c === 95 || c === 45); c = text.charCodeAt(++e));
  if (e - i < 2) return false;
  const word = text.slice(i, e).toLowerCase();
  return LINE_OPENERS.has(word) || word.startsWith('impacket-') || text.startsWith('.py ', e);
}
/** (Tried on the text in lower case: a case-sensitive search is faster than a case-blind one by half.) */
/** A pipe into a command that stores a secret from its input (`| wrangler secret put`, `| docker login --password-stdin`). */
const PIPED_TO_STORE = /\|[ \t]*(?:sudo[ \t]+)?(?:npx[ \t]+)?(?:wrangler|gh|vercel|fly|flyctl|docker|podman|helm|passwd|chpasswd|netlify|vault|aws|heroku|supabase|railway|oras|nerdctl|buildah)[ \t]/i;
/** What calls that sign with a secret are named (tried only where a `(` stands). */
const SIGNING_CALL = /jwt\.(?:encode|sign|verify|decode)|jsonwebtoken|hmac\.new|createhmac|fernet\(|cookieparser\(|cookiesession\(/i;
const NAMED_WORDS = /pass(?:w|phrase|code)|requirepass|masterauth|remotepass|add-mask::|[rw][ow]community|identif|value|define|bearer|auth[ \t]*=|basic_?auth|setx|net[ \t]+use|securestring|"kty|setenv|\benv[ \t]|vault[ \t]+login|variable[ \t]/;
/**
 * The words that open a line (after blanks, a prompt, `sudo`) in the device configs and the command lines that
 * name no secret word (directiveSecret, moreCliPasswords, authorizationDirective, expectSend, mbsync's `Pass …`): looked up per line,
 * which costs far less than a regex of all of them tried at every character.
 */
const LINE_OPENERS = new Set(['pass', 'requirepass', 'masterauth', 'enable', 'username', 'password', 'snmp-server', 'tacacs-server', 'radius-server', 'crypto', 'key-string', 'pre-shared-key', 'user', 'conn', 'connect', 'expect', 'net', 'rabbitmqctl', 'db2', 'xfreerdp', 'xfreerdp3', 'wlfreerdp', 'sdl-freerdp', 'proxy_set_header', 'add_header', 'more_set_headers', 'requestheader', 'header', 'nmcli', 'aws', 'mysqladmin', 'influx', 'auth', 'schtasks', 'rclone', 'mc', 'echo', 'printf', 'cryptsetup', 'useradd', 'usermod', 'sqlmap', 'cmdkey', 'wmic', 'cqlsh', 'rpcclient', 'ngrok', 'wpa_passphrase', 'poetry', 'cargo', 'pdftk', 'set', 'ntp', 'cloudflared', 'acl']);
function lineOpenerIn(text: string): boolean {
  if (opensLine(text, 0)) return true;
  // (And a JSON string's value: after `":"` or `": "`.)
  for (const quote of [':"', ': "']) {
    for (let i = text.indexOf(quote), n = 0; i >= 0 && n < 100_000; i = text.indexOf(quote, i + 1), n++) if (opensWord(text, i + quote.length)) return true;
  }
  return false;
}
function opensLine(text: string, from: number): boolean {
  // (The next newline and escaped newline are each found once, going forward: `>>> 0` makes "none" the largest index.)
  let nl = -1;
  let escaped = -1;
  for (let at = from, n = 0; at >= 0 && n < 100_000; n++) {
    let i = at;
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 32 || c === 9) i++;
      else if ((c === 36 || c === 35 || c === 62) && text.charCodeAt(i + 1) === 32) i += 2; // `$ `, `# `, `> `
      else if (text.startsWith('sudo ', i)) i += 5;
      else if (text.startsWith('SQL> ', i)) i += 5;
      else break;
    }
    if (opensWord(text, i)) return true;
    if (nl < at) nl = text.indexOf('\n', at) >>> 0;
    if (escaped < at) escaped = text.indexOf('\\n', at) >>> 0;
    const next = Math.min(nl + 1, escaped + 2);
    at = next > text.length ? -1 : next;
  }
  return false;
}

/** The words of an identifier: `DB_PASSWORD` → db, password; `clientSecret` → client, secret; `x-api-key` → x, api, key. */
export function keyWords(name: string): string[] {
  return normalizeKeyName(name)
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);
}

/**
 * A word that ends in a secret word run together with the one before it (`pgpassword`, `mysqlpwd`, `apitoken`,
 * `clientsecret`, `storepass`): the secret word it ends in. `bypass`, `compass`, `nextpagetoken` are not.
 */
const RUN_TOGETHER = /^([a-z0-9]{2,24}?)(password|passwd|passphrase|secret|apikey|secretkey|privatekey|accesskey|pwd|token|pass)$/;
const PASS_OWNERS = new Set(['store', 'key', 'src', 'dest', 'srcstore', 'deststore', 'srckey', 'destkey', 'db', 'pg', 'my', 'mysql', 'admin', 'root', 'user', 'ldap', 'smtp', 'mail', 'ftp', 'bind', 'ssh', 'sudo', 'vnc', 'redis', 'proxy', 'http', 'https', 'keystore', 'truststore']);
function runTogether(word: string): string | undefined {
  const m = RUN_TOGETHER.exec(word);
  if (!m) return undefined;
  const [, before, secret] = m as unknown as [string, string, string];
  if (NOT_SECRET_BEFORE.has(before) || [...NOT_SECRET_BEFORE].some((w) => w.length > 2 && before.endsWith(w))) return undefined;
  if (secret === 'pass' && !PASS_OWNERS.has(before)) return undefined;
  return secret;
}

/** Whether a key names a secret: a secret word (or pair) as a whole word, not followed by a word that makes it metadata. */
export function isSecretKeyName(name: string): boolean {
  return secretKeyStrength(name) !== undefined;
}

/**
 * How a key names a secret: `strong` (password, secret, api key…: its value is a secret whatever it looks
 * like), `weak` (token, sig, pat, session id…: only a value that looks like a secret), or undefined.
 */
export function secretKeyStrength(name: string): 'strong' | 'weak' | undefined {
  if (name.length > 200) return undefined;
  // Keys recur (every line of an env file, every record of a log): each is read once.
  const known = STRENGTHS.get(name);
  if (known !== undefined) return known === 'none' ? undefined : known;
  const strength = strengthOf(name);
  if (STRENGTHS.size >= 4096) STRENGTHS.clear();
  STRENGTHS.set(name, strength ?? 'none');
  return strength;
}
const STRENGTHS = new Map<string, 'strong' | 'weak' | 'none'>();
function strengthOf(name: string): 'strong' | 'weak' | undefined {
  const words = keyWords(name);
  let found: 'strong' | 'weak' | undefined;
  for (let i = 0; i < words.length; i++) {
    // `password1`, `password2` (a form's fields) are passwords.
    const word = (words[i] as string).replace(/(?<=[a-z])\d+$/, '');
    const w = SECRET_WORDS.has(word) ? word : (runTogether(word) ?? word);
    const pair = i + 1 < words.length ? `${w} ${(words[i + 1] as string).replace(/(?<=[a-z])\d+$/, '')}` : '';
    const width = SECRET_PAIRS.has(pair) ? 2 : SECRET_WORDS.has(w) ? 1 : 0;
    if (width === 0) continue;
    const after = words[i + width];
    const before = words[i - 1];
    if (after !== undefined && (NOT_SECRET_AFTER.has(after) || NOT_SECRET_LAST.has(words[words.length - 1] as string))) continue;
    if (before !== undefined && NOT_SECRET_BEFORE.has(before)) continue;
    if (STRONG_WORDS.has(width === 2 ? pair : w)) return 'strong';
    found = 'weak';
  }
  return found;
}

/** A file pattern (`*.py`, `*.{js,ts}`, a folder then `/*`): a search, not a secret. */
const GLOB = /^\*|\/\*|\*\.[A-Za-z0-9{},]{1,12}$/;
/**
 * Keys that name a secret elsewhere but not beside these siblings: a test run's counts (`{pass: 12, fail: 0}`), a
 * language model's or a lexer's token (`{token: 50256, logprob: -0.2}`, `{token: "StringLiteral", start: 0}`), a
 * board's pin (`{pin: "GPIO17", mode: "output"}`), a search pattern (`{pat: "*.ts"}`).
 */
const OTHERWISE: Record<string, { siblings: RegExp; value?: RegExp }> = {
  pass: { siblings: /^(?:fail|failed|failures|skip|skipped|pending|todo|errors?|total)$/ },
  passed: { siblings: /^(?:fail|failed|failures|skip|skipped|pending|todo|errors?|total)$/ },
  token: { siblings: /^(?:logprob|logprobs|top_logprobs|bytes|start|end|offset|line|column|col|pos|position|span|loc|lexeme|kind|index)$/ },
  pin: { siblings: /^(?:mode|direction|gpio|pull|pullup|platform|board|edge|inverted|pwm|frequency)$/, value: /^(?:[A-Za-z]{0,4}\d{1,3}|\d{1,2})$/ },
  pat: { siblings: /^$/, value: GLOB },
  // A signature anyone may check, beside what checks it: npm's `dist.signatures` (`{keyid, sig}`), SNS's message (`SigningCertURL`).
  sig: { siblings: /^keyid$/ },
  signature: { siblings: /^(?:signingcerturl|signatureversion|keyid)$/ },
};
export function namedOtherwise(key: string, object: Record<string, unknown>): boolean {
  // (Own rules only: `constructor`, `__proto__` and the rest every object inherits are keys like any other.)
  const name = key.toLowerCase();
  const rule = Object.hasOwn(OTHERWISE, name) ? OTHERWISE[name] : undefined;
  if (!rule) return false;
  const value = object[key];
  if (rule.value && typeof value === 'string' && rule.value.test(value)) return true;
  if (rule.value && typeof value !== 'string' && typeof value !== 'number') return false;
  return Object.keys(object).some((k) => k !== key && rule.siblings.test(k.toLowerCase()));
}

/** JSON Schema's keywords (draft 2020-12 and OpenAPI's additions): an object of only these describes a field. */
const SCHEMA_KEYWORDS = new Set(['type', 'description', 'title', 'format', 'minLength', 'maxLength', 'pattern', 'enum', 'const', 'default', 'examples', 'example', 'items', 'properties', 'required', 'additionalProperties', 'writeOnly', 'readOnly', 'nullable', 'deprecated', 'oneOf', 'anyOf', 'allOf', 'not', '$ref', '$id', '$schema', '$comment', 'minimum', 'maximum', 'contentEncoding', 'contentMediaType', 'x-sensitive', 'x-secret']);
const SCHEMA_TYPES = new Set(['string', 'number', 'integer', 'boolean', 'object', 'array', 'null']);
/** The members of a described field that may hold a value of it (a default password, an example token): masked whole. */
export const SCHEMA_VALUES = new Set(['default', 'const', 'enum', 'examples', 'example']);
const SECURITY_SCHEME = new Set(['type', 'name', 'in', 'scheme', 'bearerFormat', 'description', 'flows', 'openIdConnectUrl']);
/**
 * What an object under a secret-named key is, when it is not the secret itself: the description of a secret
 * field (`"password": {"type": "string", "minLength": 8}` in a tool's inputSchema, an OpenAPI security scheme
 * `"api_key": {"type": "apiKey", "name": "X-API-Key", "in": "header"}`), or a list of secrets' names
 * (`"secrets": ["DB_PASSWORD", "API_KEY"]`). Undefined for anything else (which is then masked whole).
 */
export function describesSecret(value: object): 'description' | 'names' | undefined {
  if (Array.isArray(value)) return value.length > 0 && value.every((v) => typeof v === 'string' && /^[A-Z][A-Z0-9_]{2,63}$/.test(v) && secretKeyStrength(v) !== undefined) ? 'names' : undefined;
  const keys = Object.keys(value);
  if (keys.length === 0) return undefined;
  const o = value as Record<string, unknown>;
  const type = o.type;
  const typed = typeof type === 'string' ? SCHEMA_TYPES.has(type) : Array.isArray(type) && type.length > 0 && type.every((t) => typeof t === 'string' && SCHEMA_TYPES.has(t));
  if (keys.every((k) => SCHEMA_KEYWORDS.has(k)) && (typed || '$ref' in o || 'oneOf' in o || 'anyOf' in o || 'allOf' in o || 'properties' in o)) return 'description';
  if (keys.every((k) => SECURITY_SCHEME.has(k) || k.startsWith('x-')) && typeof type === 'string' && /^(?:apiKey|http|oauth2|openIdConnect|mutualTLS)$/.test(type)) return 'description';
  return undefined;
}

/** A cookie banner's answers (`{cookie: "accepted"}`): a choice about cookies, not a cookie. */
const CONSENT = /^(?:accept(?:ed)?|reject(?:ed)?|declined?|dismissed|necessary|essential|all|none|granted|denied|partial|custom|functional|analytics|marketing|preferences|statistics|opt-?in|opt-?out|enabled|disabled|true|false|yes|no|on|off)$/i;
const SECRET_NOUNS = new Set(['password', 'passphrase', 'passcode', 'pin', 'secret', 'token', 'key', 'code', 'cookie', 'cookies']);
const LABEL_WORDS = new Set(['confirm', 'enter', 're-enter', 'reenter', 'retype', 're-type', 'repeat', 'your', 'new', 'current', 'old', 'forgot', 'show', 'hide', 'reset', 'change', 'type', 'choose', 'create', 'verify', 'invalid', 'incorrect', 'wrong', 'required', 'missing', 'the']);
/**
 * A value under a secret-named key that is no secret: a form's words about one (`{confirm_password: "Confirm
 * your password"}`, `{password: "Enter your password"}`: a few words, one naming the secret and one a form would
 * say), or a cookie banner's answer under a cookie key. A passphrase of words (`correct horse battery staple`) says neither.
 */
export function labelNotSecret(key: string, value: string): boolean {
  if (checkMessage(key, value)) return true;
  if (value.length > 80) return false;
  if (CONSENT.test(value)) return keyWords(key).some((w) => w === 'cookie' || w === 'cookies');
  const words = value.trim().split(/\s+/);
  if (words.length < 2 || words.length > 8 || !words.every((w) => /^[A-Za-z][A-Za-z'-]*[.?!:\u2026]?$/.test(w))) return false;
  const plain = words.map((w) => w.replace(/[.?!:\u2026]$/, '').toLowerCase());
  return plain.some((w) => SECRET_NOUNS.has(w)) && plain.some((w) => LABEL_WORDS.has(w));
}

/**
 * A check's message under `pass` (a linter's or an accessibility checker's locale: axe-core's `"pass": "Les rôles
 * abstraits ne sont pas utilisés"`, in any language), not a password: a sentence of four words or more, or one its
 * code fills in (`${data.values}`). `pass` alone names a result as often as a password.
 */
export function checkMessage(key: string, value: string): boolean {
  return /^pass$/i.test(key) && sentenceLike(value);
}
/** A sentence of a language, not a passphrase: one its code fills in, CJK text, or three words or more that end as a sentence does, hold a letter beyond ASCII, or open with a capital (four or more). */
export function sentenceLike(value: string): boolean {
  if (value.includes('${') || (value.length >= 4 && /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(value))) return true;
  const words = value.trim().split(/\s+/).filter((w) => /\p{L}/u.test(w)).length;
  return words >= 3 && (/[.!?…。]$/.test(value.trim()) || /[^ -~\t\n\r]/.test(value) || (words >= 4 && /^\p{Lu}/u.test(value.trim())));
}

/** The address ranges most addresses in a text are in: private, loopback, link-local, CGNAT. */
const COMMON_RANGE = /^(?:10|127)\.|^192\.168\.|^172\.(?:1[6-9]|2\d|3[01])\.|^169\.254\.|^100\.(?:6[4-9]|[7-9]\d|1[01]\d|12[0-7])\./;

/** Object keys (in JSON) under which a number or string is a payment card when it passes the card checks. */
export function isPaymentKeyName(name: string): boolean {
  const words = keyWords(name);
  const joined = words.join('');
  const numbered = ['number', 'numbers', 'no', 'num', 'nr', 'nbr', 'pan'].some((w) => words.includes(w));
  return /^(?:cc|pan|pans|ccnum|ccnumber|ccnumbers|ccno|cardnumber|cardnumbers|cardno|creditcard|creditcards|creditcardnumber|debitcard|card|cards|paymentcard|primaryaccountnumber)$/.test(joined) || ((words.includes('card') || words.includes('cards') || words.includes('cc')) && numbered);
}

/** A token masking wrote, exactly (`[MASKED:` alone, or a look-alike with other text inside, is not one). */
export const MASKED_TOKEN = /^\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]$/;

/** A field's type where a statement ends (`secret: Buffer;`, `token: string;`, `keys: Array<Key>;`). */
const FIELD_TYPE = /^(?:[A-Z][a-z]+(?:[A-Z][a-z]+)*|string|number|boolean|bigint|unknown|any)(?:<[\w<>, [\]]*>|\[\])?;$/;
const TYPE_PATH = String.raw`[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*`;
const TYPE_TERM = String.raw`(?:(?:readonly|keyof|typeof|const|mut)[ \t]+)?(?:${TYPE_PATH}(?:<[^\n;=]{0,200}>)?(?:\[\])*\??|\([^\n;]{0,200}?\)[ \t]*=>[ \t]*${TYPE_PATH}(?:<[^\n;=]{0,200}>)?(?:\[\])*|&(?:'[a-z]+[ \t]+)?(?:mut[ \t]+)?(?:\[[ \t]*${TYPE_PATH}[ \t]*\]|${TYPE_PATH})|"[^"\n]{0,60}"|'[^'\n]{0,60}')`;
const TYPE_EXPRESSION = new RegExp(String.raw`^(${TYPE_TERM}(?:[ \t]*[|&][ \t]*${TYPE_TERM}){0,12})[ \t]*([,;){]|=(?![=>])|$|//|/\*)`);
const PRIMITIVE_TYPES = new Set(['string', 'number', 'boolean', 'bigint', 'symbol', 'unknown', 'any', 'never', 'void', 'undefined', 'null', 'object', 'str', 'String', 'bool', 'char', 'u8', 'u16', 'u32', 'u64', 'u128', 'usize', 'i8', 'i16', 'i32', 'i64', 'i128', 'isize', 'f32', 'f64', 'int', 'long', 'short', 'byte', 'float', 'double', 'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'int32_t', 'int64_t', 'size_t']);
/** A class's or a type's name as code writes one: capitalised, letters only (`KDFInput`, `AccessToken`, `CharArray`; not `Summer2024`). */
const CLASS_NAME = /^[A-Z][A-Za-z]*[a-z][A-Za-z]*$/;
/** One term of a type: whether it reads as a type by its shape alone (a generic, a qualified name, a function's type, a primitive, a literal). */
function typeTermShape(term: string): 'type' | 'class' | undefined {
  const t = term.replace(/^(?:(?:readonly|keyof|typeof|const|mut)[ \t]+)/, '').replace(/(?:\[\])*\??$/, '');
  if (/^["'(&]/.test(t) || t.includes('<')) return 'type';
  if (PRIMITIVE_TYPES.has(t)) return 'type';
  const last = /[A-Za-z_$][\w$]*$/.exec(t)?.[0] ?? '';
  if (/\.|::/.test(t) && CLASS_NAME.test(last)) return 'type';
  return CLASS_NAME.test(t) ? 'class' : undefined;
}
/**
 * Whether what follows an annotation's `:` is a type, not a value (`token: Option<String>,`, `apiKey: ApiKeyConfig |
 * undefined;`, `firstToken: AST.Token;`, `auth: (...args: unknown[]) => Promise<unknown>;`, `password: KDFInput,`,
 * Kotlin's `val password: CharArray)`): a generic, a union of types, a qualified name, a function's type or a
 * primitive by its shape; a class's name alone only among code or where a parameter list or a statement ends.
 */
export function typeAnnotation(line: string, inCode: boolean): boolean {
  const m = TYPE_EXPRESSION.exec(line);
  if (!m) return false;
  const terms = (m[1] as string).split(/[ \t]*[|&][ \t]*(?=[A-Za-z_$"'(&])/);
  const shapes = terms.map(typeTermShape);
  if (shapes.some((s) => s === undefined)) return false;
  if (shapes.length > 1 || shapes[0] === 'type') return true;
  return inCode || m[2] === ')' || m[2] === ';';
}
/** A line that declares a type (`type Pass = …`, C++'s `using TokenT = …`, `typealias`, `enum class X : uint32_t {`): what follows its name is no value. */
const TYPE_DECLARATION_LINE = /(?:^|\n)[ \t]*(?:export[ \t]+)?(?:declare[ \t]+)?(?:type|using|typealias|enum(?:[ \t]+class)?)[ \t]+$/;

/** Whether an unquoted value is code, not a secret: a call (`getPassword()`), a member of an object (`self.password_input`). */
export function looksLikeCode(value: string): boolean {
  if (/[A-Za-z]\d+[A-Za-z]+\d+[A-Za-z]/.test(value)) return false;
  return (
    /^(?:await\s+|new\s+)?[A-Za-z_$][\w$]*(?:(?:\.|::)[A-Za-z_$][\w$]*)*\(/.test(value) || // a call (Rust's env::var( too)
    /^(?:self|this|args|config|cfg|options|opts|settings|params|props|req|request|ctx|body|form|data|input|env)\.[A-Za-z_]/.test(value) || // a member
    /^[a-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/.test(value) || // a dotted name (body.password, user.token)
    /^[A-Z][A-Za-z0-9]*\.[A-Z][A-Z0-9_]+$/.test(value) || // a class's constant (Android's `BuildConfig.API_KEY`)
    /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)*\[/.test(value) || // an index (form.cleaned_data['password'], params[:password], $_POST["password"])
    /^[`]/.test(value) || // a template literal
    FIELD_TYPE.test(value) || // a field's type (TypeScript's `secret: Buffer;`)
    GLOB.test(value) || // a glob (`pat = "*.py"`, `src/**/*.ts`)
    /^(?:[A-Z]\w*\\)*[A-Z]\w*(?:Controller|Handler|Action|Job|Listener)@[a-z_]\w*$/.test(value) || // a route's handler (Laravel's `PasswordController@reset`)
    validationRules(value) ||
    /^\{[A-Za-z_][\w.]*(?:![rsa])?(?::[^}]*)?\}?$/.test(value) || // a format field (f"token={token!r}")
    /^\$[a-z_]\w*[),;]*$/.test(value) || // a variable (GraphQL's $password, PHP's $password)
    /^[:@%]\(?[a-z_]\w*\)?s?$/.test(value) || // a bind parameter (:new_password, @password_hash, %(pw)s)
    /^[A-Za-z_$][\w$.]*(?:\(\))?[ \t]+(?:\?|\|\||&&|\?\?|or|and|[<>]=?|[!=]==?)(?:[ \t]+\S|[ \t]*$)/.test(value) || // a ternary, a fallback or a comparison (isProd ? a : b, cached || refresh(), firstc > ' '), or one going on on the next line
    /^<-[ \t]*[A-Za-z_]/.test(value) || // Go's receive from a channel (`sig := <-ch`)
    variableNamedForSecret(value)
  );
}

/** What a quoted value that is not a secret says in code: a glob (`"*.py"`), a validator's rules, a route's handler. */
function quotedNotSecret(value: string): boolean {
  // (Ruby's interpolation, `"#{prefix}-#{SecureRandom.hex(16)}"`: the value is computed, no literal.)
  if (/^(?:[^#]{0,16}#\{[^}]{1,120}\}){1,8}[^#]{0,16}$/.test(value)) return true;
  // (A regex, `PASSWORD_PATTERN = r"^(?=.*[A-Z])(?=.*\d).{12,}$"`: what a value must look like.)
  if (/\(\?[:=!<]|^\^.{2,}\$$/.test(value) && /[\\[\]()*+?{}]/.test(value)) return true;
  return /^\*\.|\/\*|\*\*|\*\.[A-Za-z0-9{},]{1,12}$/.test(value) || validationRules(value) || /^(?:[A-Z]\w*\\)*[A-Z]\w*(?:Controller|Handler|Action|Job|Listener)@[a-z_]\w*$/.test(value);
}

/** Rules of a validator, `|`-separated (Laravel's `required|string|min:8|confirmed`): what a value must be, not one. */
const RULE_NAMES = new Set(['required', 'nullable', 'sometimes', 'string', 'confirmed', 'min', 'max', 'between', 'size', 'regex', 'not_regex', 'alpha_num', 'alpha_dash', 'same', 'different', 'filled', 'present', 'bail', 'current_password', 'password', 'email', 'uncompromised', 'mixed', 'letters', 'numbers', 'symbols']);
function validationRules(value: string): boolean {
  const rules = value.split('|');
  return rules.length >= 2 && rules.every((r) => /^[a-z_]+(?::[^|\s]*)?$/.test(r)) && rules.some((r) => RULE_NAMES.has(r.split(':')[0] as string));
}

/** A variable named for the secret it holds (`dbPassword,` in a Go struct literal, `db_password` in Rust): code, not the secret. */
function variableNamedForSecret(value: string): boolean {
  const name = /^([A-Za-z_$][\w$]*)[,;)]*$/.exec(value)?.[1];
  return name !== undefined && /[a-z][A-Z]|_/.test(name) && !/\d/.test(name) && isSecretKeyName(name);
}

/** An identifier with digits where names have them: after a word's letters, then more words in camel or snake case. */
const NAME_WITH_DIGITS = /^(?:[a-z]{2,}\d*[a-z]*|[A-Z][a-z]{2,}\d*)(?:[A-Z][a-z]+\d*|_[a-z]*\d*)+$/;
/** Words that begin an expression, not a value: `await f()`, `new X()`, `typeof x`, `lambda: …`, `not x`. */
const EXPRESSION_WORD = /^(?:await|new|typeof|void|yield|function|async|lambda|not|require|import|super|this|self|class|struct|enum|interface)(?=[\s(.:;,)]|$)/;
/** What follows an identifier in a statement or an expression: its end (`;`, `,` at the line's end, a closing bracket), another assignment, an operator. */
const AFTER_IDENTIFIER = /^(?:[ \t]*[)\]}]|,[ \t]*(?:\/\/.*|\/\*.*)?(?:\n\})?$|[ \t]+(?:=(?![=>])|[-+*%]|instanceof|in|if|or|and|as)[ \t]+\S)/;
/** Operators only code writes after an identifier (`usage === "sign"`, `client ? a : b`, `cached || refresh()`). */
const CODE_OPERATOR_AFTER = /^[ \t]+(?:\?\??|\|\||&&|===?|!==?|[<>]=?|=(?![=>]))(?:[ \t]+\S|[ \t]*(?:\n\})?$)/;
/**
 * Whether an unquoted value is an expression in source code, given the rest of its line (`rest`) and its key as
 * written (`key`): code names its secrets and computes them; a literal secret in code is quoted. An optional
 * chain (`call.params?._meta?.progressToken`), a bracket or a regex literal opening it (`(current = {})`,
 * `[...values]`, `/^[A-Z]+$/u`), a word that begins an expression (`await rawKey(…)`, `function (…)`); an
 * identifier ending its statement (`token.source = source;` with blanks around `=`, `accessToken: value,` ending its
 * line), followed by an operator or another assignment (`client ? a : b`, `passwd + 'x'`, `a = b = ''`), or
 * closed by a bracket (`connect(password=pw)`); the variable its key is named for (`self.password = password`), or
 * any identifier assigned to a member of `self`/`this`/`super`. Identifiers with digits count only when they read
 * as names (`openid4vciIssueCredential`, `sha_256`): `Passw0rd;` is not one.
 */
export function codeExpression(value: string, rest: string, key: string, spacedEquals: boolean, declared = false, inCode = true): boolean {
  // (A negation is the expression it negates: `!!decode(…)`, `!alg`.)
  if (/^!{1,2}(?!(?:str|binary)\b)[A-Za-z_$(]/.test(value.trim())) {
    const negated = value.trim().replace(/^!+/, '');
    return looksLikeCode(negated) || codeExpression(negated, rest, key, spacedEquals, declared, inCode);
  }
  const v = value.trim();
  const line = v + rest;
  // (PHP's and Perl's arrow: `$request->bearerToken()`, `$cfg->{db}`.)
  if (/^\$[A-Za-z_]\w*-$/.test(v) && rest.startsWith('>')) return true;
  // Declared (`let cookieDomain = attributeValue`, `local token = f()`): an unquoted value there is an expression in every language.
  if (declared) return true;
  // A number written in hex (`USERNAME_PASSWORD: 0x02,`, `[0xef, 0xbe, …]`): a constant, not a key (those are longer).
  if (/^\[?0x[0-9A-Fa-f]{1,8}[ \t]*(?:[,;\])}]|$)/.test(line)) return true;
  if (EXPRESSION_WORD.test(v) || /^\.\.\.[A-Za-z_$]|^\/[\^(\\[]/.test(v)) return true;
  // A bracket that opens code, not a value written with brackets (`{SSHA}…`, `(abc)`): a group that goes on into code, an object's members.
  if (v.startsWith('(') && /^\([ \t]*[A-Za-z0-9_$([{'"`)]/.test(v) && /=>|\)[ \t]*[.;,)]|\)$|[;{,][ \t]*$|[ \t]as[ \t]/.test(line)) return true;
  if (/^\{[ \t]*(?:$|\}|\.\.\.|[A-Za-z_$][\w$]*[ \t]*[:,}][ \t]*(?![}\w]))/.test(v) && !/^\{[A-Z0-9-]{2,12}\}/.test(v)) return true;
  if (/^\[(?:\.\.\.|(?:this|self)\.|[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+)/.test(v)) return true;
  const word = /^[A-Za-z_$][\w$]*(?:(?:\?\.|!\.|\.)[A-Za-z_$][\w$]*)*/.exec(v.replace(/^\[/, ''))?.[0];
  if (word === undefined) return false;
  if (/\?\.|!\./.test(word)) return true;
  const after = v.replace(/^\[/, '').slice(word.length) + rest;
  const last = /[A-Za-z_$][\w$]*$/.exec(word)?.[0] ?? word;
  // (With digits, only as names have them: `openid4vciIssueCredential`, `sha256Hash`, `x_2`; not `Zq8vTaggedPw`.)
  if (/\d/.test(last) && !NAME_WITH_DIGITS.test(last)) return false;
  if (last.toLowerCase() === (/[A-Za-z_$][\w$]*$/.exec(key)?.[0] ?? '').toLowerCase()) return true;
  if (/^(?:(?:self|this|super)\.|@)/.test(key)) return true;
  if (spacedEquals && /^[ \t]*\]?;[ \t]*(?:\/\/.*)?(?:\n\})?$/.test(after)) return true;
  // What follows reads as code only where code stands around it (a log's `User(…, password=letmein)`, an INI file's
  // `password = rock and roll forever`, `spring.datasource.password = winterIsComing` are none), and only for a name
  // of more than one word or one that a statement ends (`accessToken: value,` in an object literal).
  if (CODE_OPERATOR_AFTER.test(after)) return true;
  if (!inCode) return false;
  const compound = /[a-z][A-Z]|[A-Za-z]_[A-Za-z]|\$/.test(last);
  // (Without semicolons, `cookieAv = unparsedAttributes`: a camel-case name assigned to a camel-case name.)
  if (spacedEquals && /^[a-z][a-z]*[A-Z][A-Za-z]*$/.test(word) && /[a-z][A-Z]/.test(key) && /^[ \t]*(?:\n\})?$/.test(after)) return true;
  // (An object literal's last member, its bracket closing on the next line, in camel case as code names them: `progressToken: messageId⏎}`.)
  if (/^[ \t]*\n\}$/.test(after) && (/[a-z][A-Z]/.test(last) || /[a-z][A-Z]/.test(key))) return true;
  if (/^,[ \t]*(?:\/\/.*|\/\*.*)?(?:\n\})?$/.test(after) && (compound || /[a-z][A-Z]/.test(key))) return true;
  // (An argument list's next named argument: `password=passwd, port=22)`, Swift's `password: field, persistence: …`.)
  if (/^,[ \t]+[A-Za-z_]\w*[ \t]*[=:]/.test(after)) return true;
  return (compound && AFTER_IDENTIFIER.test(after)) || (v.startsWith('[') && /^\][ \t]*;/.test(after));
}

/**
 * Whether code stands around `at`: a statement's `;` or a block's `) {` ending a line, an arrow, a declaration or
 * a keyword opening one, `self.`/`this.` — within a few lines either side.
 */
const CODE_NEARBY = /(?:^|\n)[ \t]*(?:const|let|var|function|def|class|import|export|return|if|elif|for|while|async|await|fn|func|pub|public|private|protected|package|using|namespace|try|except|catch)\b|;[ \t]*(?:\/\/[^\n]*)?(?:\r?\n|$)|\)[ \t]*\{[ \t]*(?:\r?\n|$)|=>|\b(?:self|this)\.|\},[ \t]*(?:\r?\n|$)|(?:^|\n)[ \t]*[A-Za-z_$][\w$]*:[ \t][^\n]*,[ \t]*\r?\n[ \t]*[A-Za-z_$][\w$]*:[ \t][^\n]*,[ \t]*(?:\r?\n|$)/;
const CODE_NEARBY_ALL = new RegExp(CODE_NEARBY.source, 'g');
const CODE_REACH = 600;
/** Where code's marks stand in the text last asked about: found once per text, not once per candidate. */
let marked: { input: string; starts: number[]; ends: number[] } | undefined;
function codeMarks(input: string): { starts: number[]; ends: number[] } {
  if (marked?.input === input) {
    marked.input = input; // (the same text as another string: compared once, then by reference)
    return marked;
  }
  const starts: number[] = [];
  const ends: number[] = [];
  CODE_NEARBY_ALL.lastIndex = 0;
  // (Every place a mark begins, overlapping ones too: a long one must not hide a short one inside it.)
  for (let m = CODE_NEARBY_ALL.exec(input); m !== null; m = CODE_NEARBY_ALL.exec(input)) {
    starts.push(m.index + (m[0].charCodeAt(0) === 10 ? 1 : 0));
    ends.push(m.index + m[0].length);
    CODE_NEARBY_ALL.lastIndex = m.index + 1;
  }
  marked = { input, starts, ends };
  return marked;
}
export function codeNearby(input: string, at: number): boolean {
  const { starts, ends } = codeMarks(input);
  const from = at - CODE_REACH;
  const to = at + CODE_REACH;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((starts[mid] as number) < from) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < starts.length && (starts[i] as number) < to; i++) if ((ends[i] as number) <= to) return true;
  return false;
}

/**
 * A value that is itself the name of a secret, as code and protocols write names (`'client_secret_post'`,
 * `'refresh_token'`, `'AccessToken'`, `'mcp-session-id'`): words joined by `_` or `-`, or in camel case, no digits.
 */
/**
 * Under a key that names a secret strongly, a name is a value only as code writes its names, three words or more
 * joined by `_` or `-` (`client_secret_post`, `mcp-session-id`): `SuperSecret`, `root_password`, `MySecretPass` are
 * the passwords dev and staging configs hold.
 */
function nameUnderStrongKey(value: string): boolean {
  return nameOfASecret(value) && /^[a-z]+(?:[-_][a-z]+){2,}$/i.test(value);
}
export function nameOfASecret(value: string): boolean {
  // (Four words at most: `add-salt-and-pepper-now` is a passphrase.)
  return value.length <= 64 && /^[A-Za-z][a-z]*(?:(?:[-_][A-Za-z][a-z]*)|(?:[A-Z][a-z]+))+$|^[a-z]+(?:[-_][a-z]+)+$/.test(value) && keyWords(value).length <= 4 && isSecretKeyName(value);
}

/** A route named for its key (`token: '/token'`, `device_authorization: '/device/auth'`): an endpoint's path, not a secret. */
function routeForKey(value: string, key: string | undefined): boolean {
  if (key === undefined || !/^\/[a-z_-]{1,40}(?:\/[a-z_-]{1,40}){0,4}$/.test(value)) return false;
  const words = keyWords(key);
  return value.split(/[/_-]/).some((part) => part.length >= 4 && words.some((w) => w.startsWith(part)));
}

/** Words, and perhaps a short number (a test's id `session-1`, `token-123`, a header's name `mcp-protocol-version`), or an OID (`SERVER_AUTH = '1.3.6.1.5.5.7.3.1'`): not the random value a weakly named key's secret is. */
const WORDS_AND_NUMBER = /^[a-z]{2,}(?:[-_][a-z]{2,})*(?:[-_]\d{1,4})?$|^[A-Za-z][a-z]+(?:[A-Z][a-z]+)+$|^\d+(?:\.\d+){2,}$/;

/** Values that stand where a secret goes but are not one: placeholders, references, empties. */
/**
 * A value an example file (`.env.example`, a README) writes for the reader to fill in: words joined by `-` or `_`
 * that begin with `your` (after a vendor's `sk_test_`, say) or a verb asking for it (`put-your-token-here`), or end
 * with `key_here` (`token-goes-here`), or `replace-me`/`change_me`. Only whole words of letters, not blanks: a
 * passphrase (`my password is here`), or a value with a digit or a symbol, is not one.
 */
const EXAMPLE_VALUE = /^(?:[a-z]{2,6}_(?:test|live)_)?(?:your(?:[-_][a-z]+){1,6}|(?:put|insert|enter|paste|add)(?:[-_][a-z]+){0,4}[-_](?:key|token|password|secret|value|here)(?:[-_][a-z]+){0,2}|(?:[a-z]+[-_]){0,4}(?:key|token|password|secret|value)[-_](?:goes[-_])?here|(?:replace|change|fill|update)[-_]?me|(?:my|some)(?:[-_][a-z]+){0,3}[-_](?:key|token|password|secret|pass))$/i;

/**
 * `literal`: the value is a string as written (a JSON string, a quoted value), where YAML's tags and aliases cannot
 * stand and a repeated digit is a PIN (`"!qaz2wsx"`, `"*Summer2024"`, `"1111"` are passwords there).
 */
const VERSION = String.raw`(?:[~^]|[<>]=?|=)?[ ]?v?\d{1,9}(?:\.(?:\d{1,9}|[x*])){0,2}(?:-[0-9A-Za-z.-]{1,40})?(?:\+[0-9A-Za-z.-]{1,40})?`;
const VERSION_RANGE = new RegExp(String.raw`^${VERSION}(?:(?:[ ]+|[ ]*\|\|[ ]*|[ ]+-[ ]+)${VERSION}){0,6}$`);
/**
 * A version or a range of them as package managers write one (`^9.0.2`, `~1.0.6`, `1.4.6`, `>= 20`, `>=1.2 <2`,
 * `^1 || ^2`): an operator or three numbers, never a bare number (a PIN is one).
 */
export function versionRange(v: string): boolean {
  return v.length <= 120 && /\d/.test(v) && (/[~^<>=]/.test(v) || /\d\.\d{1,9}\.\d/.test(v)) && VERSION_RANGE.test(v);
}

export function isPlaceholder(value: string, literal = false): boolean {
  const v = value.trim();
  if (literal && ((/^[!&*]/.test(v) && !/^[!&*]+$/.test(v)) || /^([0-9A-Za-z])\1{2,}$/.test(v) || /^\d{4}-\d\d-\d\d$/.test(v))) return false;
  return (
    v.length === 0 ||
    /^(?:null|none|nil|true|false|undefined|string|number|boolean|required|optional|yes|no|on|off|empty|changeme|secret|password|token|example|redacted|hidden|omitted|n\/a|tbd|todo|prompt|ask|stdin|interactive|include|same-origin|omit|inherit)$/i.test(v) || // (`pw=prompt`: where a tool asks for it)
    /^(.)\1{2,}$/.test(v) || // ***, xxxx, ----
    /^!!?[a-z][a-z0-9_-]*$/.test(v) || // a YAML tag (`password: !vault |`, `!!str`)
    /^!(?:Ref|Sub|GetAtt|ImportValue|FindInMap|Select|Join|If|Split|GetAZs|Transform)(?:\s|$)/.test(v) || // CloudFormation's (`MasterUserPassword: !Ref DBPassword`)
    /^%env\([\w:.-]{1,128}\)%$|^%[a-z_][\w.]{0,127}%$/.test(v) || // Symfony's parameters (`%env(DB_PASSWORD)%`, `%kernel.secret%`)
    /^(?:\$\(|`)(?![ \t]*(?:echo|printf|cat[ \t]*<<)\b)[ \t]*[a-z]/.test(v) || // a command's output (`$(gh auth token)`), unless it prints a literal
    // (Between backticks, read as a quote: the command that prints a secret, `openssl rand -hex 16`.)
    /^(?:openssl\s+rand|gh\s+auth\s+token|aws\s+[\w-]+\s+get|vault\s+(?:kv\s+get|read)|op\s+read|pass\s+show|security\s+find-|gcloud\s+(?:secrets|auth)|az\s+keyvault|kubectl\s+get|cat\s+[~/.$]|pwgen|head\s+-c|uuidgen|sops\s+-d|bw\s+get|doppler\s+secrets)\b/.test(v) ||
    /^[&*][A-Za-z0-9_-]{1,64}$/.test(v) || // a YAML anchor or alias (`password: *defaults_pw`)
    MASKED_TOKEN.test(v) ||
    /^(?:<[A-Za-z][A-Za-z0-9 _.-]*>|\$\{[^}]*\}?|\{\{[^}]*\}\}|%[A-Za-z_]+%|\$[A-Z_][A-Z0-9_]*)$/.test(v) || // <your token>, <YOUR_API_KEY>, ${VAR}, {{ var }}, %VAR%, $VAR
    EXAMPLE_VALUE.test(v) || // what an example file says to put there: `your-api-key`, `replace-me`, `sk_test_your_key_here`
    /^(?:process\.env|os\.environ|env\.|secrets\.|vault:|ref\+|op:\/\/)/.test(v) ||
    /^(?:[A-Za-z]{1,12}[ \t]+)?(?:%[sdr]|\{\d{0,2}\}|[:/@ ._-])*(?:%[sdr]|\{\d{0,2}\})(?:%[sdr]|\{\d{0,2}\}|[:/@ ._-])*$/.test(v) || // a template its code fills in (`'{0}:{1}'.format(…)`, `"Basic %s" % auth`)
    /^(?:basic|bearer|token|digest)$/i.test(v) || // a scheme alone, the credential added after it (`"Basic " + auth`)
    /^\d{0,3}\*\d{0,3}[A-Za-z][\w-]*$/.test(v) || // a grammar's repetition (ABNF's `token = 1*tchar`)
    /^[^\s.…]{2,40}(?:\.{3}|…)$/.test(v) || // an example cut short (`idToken: 'eyJhbGciOiJS...'`)
    /^<%=?[^%]{0,200}%>$/.test(v) || // ERB, as Rails' YAML files fill a value in (`<%= ENV["AUTH_TOKEN"] %>`)
    /^urn:[a-z0-9][a-z0-9-]{0,31}:[\w.:-]+$/i.test(v) || // a URN (`urn:ietf:params:oauth:grant-type:device_code`)
    /^\d{4}-\d\d-\d\d(?:[T ]\d\d:\d\d(?::\d\d(?:\.\d{1,9})?)?(?:Z|[+-]\d\d:?\d\d)?)?$/.test(v) || // a timestamp (`password_changed_at: 2024-01-01T00:00:00Z`)
    /^(?:~|\.{1,2})?\/(?:[\w.-]+\/)*[\w.-]+\.(?:json|pem|key|p12|pfx|crt|cer|txt|ya?ml|toml|ini|conf|cfg|env|jks|keystore)$/.test(v) || // a file's path (`GOOGLE_APPLICATION_CREDENTIALS=/home/me/sa.json`)
    /^\((?:sensitive|known after apply|redacted|hidden)\b/.test(v) || // Terraform's `(sensitive value)`
    /^(?:~|\.{1,2}|\$[A-Za-z_]\w*)?\/(?:[\w.@+-]+\/)+[\w.@+-]+\/?(?:[ \t]*#.*)?$/.test(v) || // a path of two folders or more (`<privateKey>/path/to/private/key`, `"PWD": "/home/me/project"`, openssl.cnf's `$dir/private/cakey.pem`)
    /^[A-Za-z][\w.-]{0,40}(?:\|[A-Za-z][\w.-]{0,40}){1,8}$/.test(v) || // the choices a setting takes (`client.auth=true|false`, `transparentAuth=allHosts|trustedHosts`)
    /^[A-Z]+(?:_[A-Z]+)+$/.test(v) || // a name for a value, as a manual writes it (`--hugging-face-access-token=HUGGING_FACE_ACCESS_TOKEN`)
    /^\{[A-Za-z_][\w.-]{0,60}\}$/.test(v) || // a template's field (`USERNAME_TOKEN = "{USERNAME}"`)
    /^(?:PLAIN|LOGIN|CRAM-MD5|DIGEST-MD5|XOAUTH2?|OAUTHBEARER|GSSAPI|SCRAM-SHA-(?:1|256|512)(?:-PLUS)?|EXTERNAL|NTLM|ANONYMOUS)$/.test(v) || // a SASL mechanism (IMAP's `AUTH=CRAM-MD5`)
    (/^[a-z][a-z0-9]*(?:\.[a-z][A-Za-z0-9]*){2,}$/.test(v) && isSecretKeyName(v.slice(v.lastIndexOf('.') + 1))) || // the name of a property that holds one (`PWD = "javax.security.auth.login.password"`; `correct.horse.battery.staple` is a passphrase)
    /^(?:files|systemd|sss|ldap|nis|nisplus|compat|db|dns|mdns4?(?:_minimal)?|mymachines|myhostname|resolve|winbind|wins|altfiles|cache|usrfiles|extrausers|\[!?[A-Za-z]+=[a-z]+\])(?:[ \t]+(?:files|systemd|sss|ldap|nis|nisplus|compat|db|dns|mdns4?(?:_minimal)?|mymachines|myhostname|resolve|winbind|wins|altfiles|cache|usrfiles|extrausers|\[!?[A-Za-z]+=[a-z]+\]))*$/.test(v) || // nsswitch.conf's sources (`passwd: files systemd`)
    /^\[[a-z_]+=[a-z0-9_]+(?:[ \t]|\]|$)/.test(v) || // a PAM control (`password [success=1 default=ignore] pam_unix.so`)
    /^\$\{\{[^{}]{1,200}\}\}$/.test(v) || // a GitHub Actions expression written without blanks (`${{secrets.npm_token}}`)
    /^@Microsoft\.KeyVault\((?:SecretUri|VaultName)=/.test(v) || // an App Service Key Vault reference
    /^(.)\1{2,}[`'"]$/.test(v) || // an example's placeholder closed by its quote (`export API_KEY=...\``)
    /^(?:r|re\.compile\(r?)?(["'])(?=.*(?:\(\?[:=!<]|\[[^\]]*[A-Za-z0-9]-[A-Za-z0-9][^\]]*\]|\\[dwsb]))[^\n]{1,400}\1\)?$/.test(v) || // a regex (`longopt_pat = r'[a-zA-Z](?:…)'`)
    /^\(\d{2,5}(?: bit\b|$)/.test(v) || // openssl's `Private-Key: (2048 bit, 2 primes)`
    /^[^*\s]{0,12}\*{4,}[^*\s]{0,6}$/.test(v) || // shown redacted (`gho_****…`)
    /^(?:SecureString|StringList)$/.test(v) || // SSM's parameter types, beside a parameter's name
    versionRange(v) || // a dependency's version (`"jsonwebtoken": "^9.0.2"`, `"cookie-signature": "~1.0.6"`): package names hold key words
    /^(?:npm|github|gitlab|bitbucket|workspace|catalog):[\w@./^~*-]{1,200}$|^(?:file|link|portal):\.{0,2}\/[\w@./-]{0,200}$/.test(v) // or where it comes from (`"secret-handshake": "github:org/repo"`)
  );
}

/** Whether an unquoted single word could be a secret: it has a digit or symbol, mixed case, or some length. A word like `count` is not. */
export function secretLooking(value: string): boolean {
  if (value.length >= 12) return true;
  if (value.length < 4) return false;
  return /[0-9]/.test(value) || /[^A-Za-z0-9]/.test(value) || (/[a-z]/.test(value) && /[A-Z]/.test(value) && !/^[A-Z][a-z]+$/.test(value));
}

// ---- the sets ---------------------------------------------------------------------------------------------

/**
 * A vendor token: a fixed prefix and alphabet, bounded so that it is not the middle of a longer word — except
 * that an escape (`\n`, `\t` in JSON written as text) or a percent-encoded byte (`%3D`) may stand right before it.
 * A separator is no part of a word: a token glued to a name (`cli-AKIA…`, `id_ghp_…`, `AKIA…_prod`) is still found.
 */
const TOKEN_START = '(?:(?<=\\\\[ntrbf])|(?<=%[0-9A-Fa-f]{2})|(?<![A-Za-z0-9]))';
/** For a prefix that is a plain word (`key-`, `secret_`): `cache-key-<hex>` is a name, so a separator before it does not start a token. */
const WORD_TOKEN_START = '(?:(?<=\\\\[ntrbf])|(?<=%[0-9A-Fa-f]{2})|(?<![A-Za-z0-9_-]))';
const token = (kind: string, hint: RegExp, pattern: string, start = TOKEN_START): Detector => ({ kind, hint, inRun: true, pattern: `${start}(?:${pattern})(?![A-Za-z0-9])` });

/** The header of a JOSE object in compact form (a JWT's, a JWE's): its first part, decoded, if it is a JSON object. */
function joseHeader(compact: string): Record<string, unknown> | undefined {
  try {
    const header = JSON.parse(Buffer.from(compact.slice(0, compact.indexOf('.')), 'base64url').toString('utf8')) as unknown;
    return header !== null && typeof header === 'object' && !Array.isArray(header) ? (header as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a token's body is random as a token's is (letters of both cases, digits, many different characters), not a word or a letter repeated. */
function varied(body: string): boolean {
  return /[a-z]/.test(body) && /[A-Z]/.test(body) && /\d/.test(body) && new Set(body).size >= 8;
}

/** The first and last lines of a private key in any of its formats (PEM, PGP, PuTTY, SSH2): for keys that arrive a line at a time. */
export const KEY_BLOCK_BEGIN = /-----BEGIN[ \t]+(?:[A-Z0-9]{1,16}[ \t]+){0,3}PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----|PuTTY-User-Key-File-\d:|----[ \t]*BEGIN[ \t]+SSH2[ \t]+(?:ENCRYPTED[ \t]+)?PRIVATE[ \t]+KEY[ \t]*----/;
export const KEY_BLOCK_END = /-----END[ \t]+(?:[A-Z0-9]{1,16}[ \t]+){0,3}PRIVATE[ \t]+KEY(?:[ \t]+BLOCK)?-----|Private-MAC:|----[ \t]*END[ \t]+SSH2[ \t]+(?:ENCRYPTED[ \t]+)?PRIVATE[ \t]+KEY[ \t]*----/;

/**
 * What may stand between a block's armour and its body: blanks, line breaks (escaped too, once or more, in JSON
 * written as text), the quotes and `+` of a key written as concatenated strings in code.
 */
const ARMOUR_GAP = `(?:\\\\{1,7}[nrt]|[ \\t\\r\\n"'+,\\\\]){0,64}`;
/**
 * After a BEGIN line, the start of a key's body: a header (`Proc-Type: 4,ENCRYPTED`, `Version: …`, `Comment: …`) or
 * base64. Without it the armour is mentioned, not a key given: code that looks for it
 * (`pem.indexOf("-----BEGIN PRIVATE KEY-----") !== 0`) is not masked to its end.
 */
/**
 * What a tool writes before each line it shows: a number (`cat -n`'s `   2⇥`, an editor's `2→`, `12 | `), grep's
 * `file:2:`, a diff's `-`/`+`, a quote's `> `, a comment's `# ` or `// `, a YAML list's `- `.
 */
const LINE_PREFIX = `(?:[^\\s:]{1,200}:\\d{1,7}[:-]|[ \\t]*\\d{1,7}(?:→|\\t|:|[ \\t]+\\|)[ \\t]?|[ \\t]*(?:[-+>#]|//)[ \\t]*|[ \\t]*-[ \\t]+)`;
const KEY_BODY_AHEAD = `(?=${ARMOUR_GAP}(?:\\r?\\n${LINE_PREFIX}${ARMOUR_GAP}){0,3}(?:[A-Za-z][A-Za-z-]{1,30}:[ \\t]|[A-Za-z0-9+/]{16}))`;
/** Before an END line whose BEGIN line is elsewhere, the end of a key's body (base64 and its padding), its line's prefix between. */
const KEY_BODY_BEHIND = `(?<=[A-Za-z0-9+/=]{4}${ARMOUR_GAP}(?:\\r?\\n${LINE_PREFIX})?)`;
/** The end of a PEM/PGP block, or (no END line: a key cut off, or all that was pasted) the end of the string; a key's body first, unless `body` is false (PuTTY's file, whose first line goes on). */
const BLOCK_TO = (end: string, body = true) => `${body ? KEY_BODY_AHEAD : ''}(?:[\\s\\S]*?${end}|[\\s\\S]*$)`;


// A key that may name a secret (the exact test is isSecretKeyName, in accept): only such keys are matched at
// all, so that `name: value` pairs around them are left for the other detectors.
// Phase 2 runs case-insensitively (the engine compiles it with `i`).
// (`pat` not before `h`: a personal access token's key, not `path`, which logs and file tools write on every line.)
const SECRETISH = '(?:pass|pw|psk|secret|token|key|cred|auth|cookie|sig|sas|dsn|conn|sess|pat(?!h))';
const KEY_NAME = `[A-Za-z0-9_.-]{0,60}?${SECRETISH}[A-Za-z0-9_.-]{0,60}`;
const KEY_HINT = /pass|pw|psk|secret|token|key|cred|auth|cookie|sig|sas|dsn|conn|sess|pat(?!h)/i;
/**
 * Whether a text could hold a context form (phase 2): every phase-2 hint holds one of these words, so a text
 * without them passes none. Written as a tree of shared beginnings, which the regex engine scans about three
 * times faster than the hints joined (a 4 KB message: ~8 µs against ~24 µs).
 */
export const CONTEXT_GATE = /jwt|sid=|ticket=|p(?:a(?:ss|t(?!h))|w|sk)|s(?:e(?:cret|ss)|ig|as)|token|key|c(?:red|o(?:okie|nn|de=))|auth|dsn|%(?:3f|26)|\\u0026/i;
/**
 * How far before a CONTEXT_GATE word a phase-2 match may begin, so that the context pass tries only the places
 * near one (test/unit/masking/masker.test.ts compares it with a pass over every place): `near` characters for
 * the forms that begin at or just before their key word (`?x-amz-security-` before `token`, `proxy-x-api-` before `key`,
 * `?` before `access_token`, `set-` before `cookie`, an assignment at its secret word), and `line` characters for those
 * that begin where their line does (the text's start, a newline, or an escaped `\n`): 2 for the newline, 40
 * blanks, `export` and 20 blanks, 60 characters of key before its secret word (and, however many blanks follow
 * `export`, the line start found by reading back over the key, the blanks and `export`). And every phase-2 form has its
 * separator (`:`, `=`, `%3D`) at most `separator` characters after the start of its key word (the longest: a
 * 7-letter word, 60 more characters of key, a closing quote after up to 7 backslashes, 20 blanks), so only the
 * text before a separator is searched for the gate's words.
 */
export const CONTEXT_REACH = { near: 16, line: 2 + 40 + 6 + 20 + 60, separator: 7 + 60 + 8 + 20 } as const;
/**
 * What stands between a key and its value: `=`, `:` (not a URL's `://`), and the assignments of other languages:
 * `=>` (PHP, Ruby), `:=` (Go, Make), `?=` (Make).
 */
const SEPARATOR = '(?:=>|:=|\\?=|=(?![=~])|:(?![/=:]))';
/** The key named in an assignment's prefix (its last identifier before the separator). */
/**
 * A declaration's type between its name and `=` (`apiKey: string =`, Kotlin's `password: String =`, Rust's
 * `API_KEY: &'static str =`, Python's `password: Optional[str] =`, Go's `Password string =`): the value after the
 * `=` is read as any other.
 */
// (Only before ` = ` and a quoted literal: `token: aGVsbG8=` is a value that ends in base64's padding, no type.)
const TYPE_NAME_SOURCE = `(?:(?:&(?:'static[ \\t]+)?)?[A-Za-z_][\\w.]{0,40}(?:<[^>\\r\\n]{0,40}>|\\[[^\\]\\r\\n]{0,40}\\])?\\??|&(?:'static[ \\t]+)?\\[[ \\t]*u8[ \\t]*(?:;[ \\t]*\\d{1,5}[ \\t]*)?\\])`;
const TYPED_ANNOTATION = `(?:[ \\t]*:[ \\t]*${TYPE_NAME_SOURCE}(?=[ \\t]+=[ \\t]*b?["'\`])|[ \\t]+(?:string|\\[\\]byte|\\*?[A-Z][\\w.]{0,40})(?=[ \\t]+=[ \\t]*["'\`]))`;
const TYPED = `${TYPED_ANNOTATION}?`;
const TYPED_AT = new RegExp(`(?<=[A-Za-z0-9_.-])${TYPED_ANNOTATION}`);
const keyIn = (prefix: string): string => keyBefore(prefix.replace(TYPED_AT, ''));
const keyBefore = (prefix: string): string => /([A-Za-z0-9_.-]+)(?:\[\d*\])?(?:\\*["'])?\]?[ \t]*(?:=>|:=|\?=|[:=])[ \t\r\n]*(?:&[A-Za-z0-9_-]+[ \t]+)?(?:!![a-z]+[ \t]+)?(?:(?:\[|\{[ \t\r\n]*\\*"[A-Za-z]+\\*"[ \t]*:)[ \t\r\n]*)?(?:[rbuRBU]{0,2}\\*["'`])?$/.exec(prefix)?.[1] ?? '';
/**
 * A value opened by a list or an object before its quote (`{"password": ["…"]}`, `password = ["…"]` in TOML,
 * `{"password": {"value": "…"}}`): the first string in it is the value; an object's only under a member that
 * names a value (a schema's `{"description": …}` is not one).
 */
const VALUE_OPENING = `(?:(?:\\[|\\{[ \\t\\r\\n]{0,20}\\\\{0,7}"(?:value|secret|password|plaintext|data|default)\\\\{0,7}"[ \\t]{0,20}:)[ \\t\\r\\n]{0,20}(?=\\\\{0,7}["']))?`;

/** Whether the character at `i` is one of `[A-Za-z0-9_.-]`. */
function keyCharAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 97 && (c | 0x20) <= 122) || c === 95 || c === 46 || c === 45;
}

/**
 * The whole key of an assignment whose match began at a secret word inside it (`DB_` + `PASSWORD=`): the
 * identifier characters before the match are read back from the text. Undefined inside a masked token
 * (`[MASKED:gitlab-token:…]` is not an assignment).
 */
function wholeKey(prefix: string, input: string, offset: number): string | undefined {
  const start = offset - prefix.length;
  const before = input.slice(Math.max(0, start - 80), start);
  let i = before.length;
  while (i > 0 && keyCharAt(before, i - 1)) i--;
  let left = before.slice(i);
  const rest = before.slice(0, before.length - left.length);
  if (rest.endsWith('[MASKED:')) return undefined;
  // `\npassword=` in JSON written as text: the `n` belongs to the escape, not to the key.
  if (rest.endsWith('\\') && left.length > 0 && /[ntrbf]/.test(left[0] as string)) left = left.slice(1);
  // `\u0026password=` (Go's encoding/json escapes `&`): the escape is not part of the key either.
  if (rest.endsWith('\\') && /^u[0-9a-fA-F]{4}/.test(left)) left = left.slice(5);
  return left + keyIn(prefix);
}

// A secret-named key (quoted or not: env, INI, TOML, YAML, JSON written out as text), the separator, and the
// value's opening quote if any. The value then runs to its closing quote (spaces allowed: multi-word
// passwords), or is one unquoted word.
// After the separator, the value: to its closing quote when quoted (spaces allowed: multi-word passwords; a
// value opened by an escaped quote, in JSON written inside JSON, closes at the next escaped one), else one word.
const ASSIGNED_VALUE = `(?!\\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\\])(?:(?<=\\\\")[^"\\\\\\r\\n]{1,4096}|(?<=(?:^|[^\\\\])")(?:[^"\\\\\\r\\n]|\\\\.){1,4096}|(?<=')[^'\\\\\\r\\n]{1,4096}|(?<=\`)[^\`\\\\\\r\\n]{1,4096}(?=\`)|(?<!["'\`])(?!\\[)(?:[^\\s"'\\\\,;&}\\]<>]|\\\\[ $&;#!()|<>]){1,512})`;

/** Whether an assigned value is a secret, given how strongly its key names one and whether it was quoted. */
function assignedSecret(name: string | undefined, value: string, quoted: boolean, separator: string, after: string, env: boolean): boolean {
  const strength = name === undefined ? undefined : secretKeyStrength(name);
  // (A quoted value is a literal, whatever it looks like: `"@dmin2024"`, `"correct.horse.battery.staple"`, `"Welcome(2024)"`.)
  if (!strength || isPlaceholder(value, quoted) || (!quoted && isPlaceholder(value.replace(/[)\]}]+:?$/, ''))) || (!env && (quoted ? quotedNotSecret(value) : looksLikeCode(value))) || routeForKey(value, name)) return false;
  // `password: SecretStr = Field(…)`, `def f(token: Credentials, …)`: a type annotation, not a value.
  if (!quoted && separator === ':' && (/^[ \t]*=(?!=)/.test(after) || (/^[ \t]*[,);]/.test(after) && TYPE_NAME.test(value)))) return false;
  // `$pw = ConvertTo-SecureString 'x' …`: a PowerShell command and its arguments; the arguments hold the secret (a phase-3 form).
  if (!quoted && /^[A-Z][A-Za-z]+-[A-Z][A-Za-z]+$/.test(value) && /^[ \t]+\S/.test(after)) return false;
  // (A constant whose value spells its own name, `USE_CREDENTIALS = 'use-credentials'`, is an enum's member.)
  if (quoted && name !== undefined && keyWords(value).join(' ') === keyWords(name).join(' ')) return false;
  if (quoted && name !== undefined && checkMessage(name, value)) return false;
  if (quoted) return !(strength === 'strong' ? nameUnderStrongKey(value) : nameOfASecret(value)) && (strength === 'strong' ? value.trim().length >= 3 : secretLooking(value) && !value.includes(' ') && !WORDS_AND_NUMBER.test(value));
  // Unquoted after `=` (`DB_PASSWORD=letmein`) is an assignment; after `:` in running text it may be prose
  // ("your password: then press Enter"), so a word must look like a secret there.
  return strength === 'strong' && separator === '=' ? value.length >= 4 : secretLooking(value.replace(/[.,;:!?)`'"]+$/, ''));
}

const secretAssignment: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  // Starts at the secret word (a literal, which the regex engine finds fast); the rest of the key is read back.
  prefix: `${SECRETISH}[A-Za-z0-9_.-]{0,60}(?:\\[[0-9]{0,5}\\](?=[ \\t]*=[ \\t]*["']))?(?:\\\\{0,7}["'])?\\]?${TYPED}[ \\t]{0,20}${SEPARATOR}[ \\t]{0,20}(?:[\\r\\n][ \\t\\r\\n]{0,20}(?=\\\\?["']))?${VALUE_OPENING}(?:[rbuRBU]{0,2}\\\\{0,7}["'\`])?`,
  pattern: ASSIGNED_VALUE,
  accept: (value, prefix, input, offset) => {
    // An ARN's resource (`arn:aws:secretsmanager:…:123456789012:secret:prod/db-a1B2c3`) names a secret; it is not one.
    if (ARN_BEFORE.test(input.slice(Math.max(0, offset - prefix.length - 160), offset - prefix.length))) return false;
    const whole = wholeKey(prefix, input, offset);
    const name = memberKey(whole);
    // A template literal that builds its value (`\`Bearer ${token}\``) holds no secret of its own.
    if (prefix.endsWith('`') && value.includes('${')) return false;
    // (`--- PASS: TestLogin (0.01s)`: Go's test result, not a password; `"PASS: MessageFormat successful"`, a test's line.)
    if (TEST_RESULT_AFTER.test(input.slice(offset + value.length, offset + value.length + 24))) return false;
    if (/^PASS[ \t]*:[ \t]*$/.test(prefix) && /^[ \t]+[a-z]{2,}/.test(input.slice(offset + value.length, offset + value.length + 24))) return false;
    // A shell's default (`${POSTGRES_PASSWORD:-changeme}`): the variable's fallback, a placeholder unless it looks
    // like a secret (a compose file's `${DB_PASSWORD:-Xk9mQ2vL8pR4}` is the password wherever the variable is unset).
    if (/\$\{[A-Za-z0-9_]{1,80}:[-=?+]?$/.test(input.slice(Math.max(0, offset - 84), offset))) return !isPlaceholder(value.replace(/\}$/, '')) && secretLooking(value.replace(/\}$/, '')) && /\d/.test(value);
    const quoted = /["'`]$/.test(prefix);
    // A key inside a string, `prompt='Password: '`, `header="Set-Cookie:"`: the quote after its separator closes that string, it opens no value.
    const keyStart = offset - prefix.length - ((whole ?? '').length - keyIn(prefix).length);
    if (quoted && /^[A-Za-z0-9_.-]+[ \t]*[:=][ \t]*["'`]$/.test(prefix) && input[keyStart - 1] === prefix[prefix.length - 1]) return false;
    // (And anywhere inside a string: `new PasswordCallback("DIGEST-MD5 password: ", false)`, the key in a string its line opened.)
    if (quoted && /^[A-Za-z0-9_.-]+[ \t]*[:=][ \t]*["'`]$/.test(prefix) && openQuoteAt(input, keyStart) === prefix[prefix.length - 1]) return false;
    const env = envStyle(name, prefix);
    // (The first string of a list: a word or a variable's name there is a vocabulary, `COOKIE_FIELDS = ['domain', …]`.)
    if (/\[[ \t\r\n]*\\{0,7}["'`]$/.test(prefix) && (/^[A-Za-z]+$/.test(value) || /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value))) return false;
    // (`passwd: Authentication token manipulation error`: a tool's status line, the value its first word.)
    if (!quoted && statusLine(value + restOfLine(input, offset + value.length).replace(/\n\}$/, ''))) return false;
    // (`cond ? secretKey : defaultKey`: a ternary's branches, no key and value.)
    if (/[ \t]\?[ \t]+$/.test(input.slice(Math.max(0, keyStart - 8), keyStart)) && /:[ \t]*$/.test(prefix) && !quoted) return false;
    if (!quoted && !env && name !== undefined && codeExpression(value, restOfLine(input, offset + value.length), name, /[ \t]=[ \t]*$/.test(prefix), declaredAt(input, keyStart + (whole ?? '').length), codeNearby(input, offset))) return false;
    // (A type, where an annotation's `:` stands; or a type's own declaration, `type Pass = …`, `using TokenT = …`.)
    if (!quoted && !env && /:[ \t]*$/.test(prefix) && typeAnnotation(value + restOfLine(input, offset + value.length), codeNearby(input, offset))) return false;
    if (!quoted && TYPE_DECLARATION_LINE.test(input.slice(Math.max(0, keyStart - 80), keyStart))) return false;
    // (A C array's string, `static char cookie[] = "hello"`, `secret_data[] = "XML Security Library example"`: a secret only where it looks like one.)
    if (/\[\d*\]/.test(prefix) && (/\s/.test(value) || !secretLooking(value))) return false;
    return assignedSecret(name, value, quoted, /=/.test(prefix) ? '=' : ':', input.slice(offset + value.length, offset + value.length + 8), env);
  },
};

/** The quote of the string that `at` stands in, read from its line's start (strings of the other quotes and escapes skipped), or ''. */
function openQuoteAt(input: string, at: number): string {
  const from = Math.max(0, at - 400);
  const start = from + input.slice(from, at).lastIndexOf('\n') + 1;
  let open = '';
  for (let i = start; i < at; i++) {
    const c = input[i] as string;
    if (open) {
      if (c === '\\') i++;
      else if (c === open) open = '';
    } else if (c === '"' || c === "'" || c === '`') open = c;
  }
  return open;
}

/**
 * The key an assignment sets: of a member (`token.source = …`, `cookieAttributeList.sameSite = …`), the member's
 * name, unless that is a holder's generic word (`aws.secret.key`, `api_key.value`) or itself names a secret
 * (`spring.datasource.password`): what is assigned is the member, not the object it belongs to.
 */
function memberKey(name: string | undefined): string | undefined {
  const dot = name?.lastIndexOf('.') ?? -1;
  if (name === undefined || dot < 0 || dot === name.length - 1) return name;
  const member = name.slice(dot + 1);
  if (secretKeyStrength(member) !== undefined || /^(?:key|keys|value|values|plaintext|raw|b64|base64|hex)$/i.test(member)) return name;
  // (A member of a holder named for secrets — `secrets.database`, `passwords.admin`, `config.secrets.jwt`,
  // `apiKey.current` — is one of them; of an object that merely mentions one, `cookieAttributeList.sameSite`, not.)
  const holder = keyWords(name.slice(0, dot));
  const last = holder[holder.length - 1] ?? '';
  const pair = holder.length >= 2 ? `${holder[holder.length - 2]} ${last}` : '';
  return HOLDER_WORDS.has(last) || SECRET_PAIRS.has(pair) ? name : member;
}
/** The last word of an object that holds secrets as its members. */
const HOLDER_WORDS = new Set(['secrets', 'secret', 'passwords', 'credentials', 'creds', 'tokens', 'apikey', 'apikeys']);

/** Whether the key at `at` is declared on its line (`const`, `let`, `var`, `val`, `local`, `my`, …): what it is given is an expression. */
function declaredAt(input: string, at: number): boolean {
  // (The line's start looked for within the reach only: a search back to the text's start at every candidate made a long line quadratic.)
  const from = Math.max(0, at - 120);
  const start = from + input.slice(from, at).lastIndexOf('\n') + 1;
  return /^[ \t]*(?:export[ \t]+)?(?:(?:const|let|var|val|final|my|our|local|auto|static|readonly|private|public|protected|internal)[ \t]+)+[$@]?[A-Za-z_][\w$.]*$/.test(input.slice(start, at));
}

/** The text from `at` to the end of its line (a newline, or an escaped `\n` in JSON written as text), at most 256 characters. */
function restOfLine(input: string, at: number): string {
  const text = input.slice(at, at + 256);
  const nl = text.search(/\r|\n|\\[nr]/);
  if (nl < 0) return text;
  // (And a bracket that closes on the next line: `progressToken: messageId⏎}` is an object literal's last member.)
  const next = /^(?:\r?\n|\\[nr])[ \t]*[)\]}]/.exec(text.slice(nl));
  return next ? `${text.slice(0, nl)}\n}` : text.slice(0, nl);
}

/** The start of an ARN up to its resource (`arn:aws:secretsmanager:us-east-1:123456789012:` and a resource type's first characters). */
const ARN_BEFORE = /\barn:[a-z0-9-]{1,32}:[a-z0-9-]{1,64}:[a-z0-9-]{0,32}:(?:\d{12}|aws)?:[A-Za-z0-9_.-]{0,60}$/;

/** A type in an annotation: `SecretStr`, `Optional[str]`, `str`. */
const TYPE_NAME = /^(?:[A-Z][A-Za-z0-9_]*(?:\[[^\]]*\])?|str|bytes|int|bool|float|string|number)$/;

/** An environment variable assigned in a shell or an env file (`DB_PASSWORD=tr0ub4dor.and.horse`): its value is literal text, never code. */
function envStyle(name: string | undefined, prefix: string): boolean {
  return name !== undefined && /^[A-Z][A-Z0-9_]*$/.test(name) && /[A-Z0-9_]=["']?$/.test(prefix);
}

/** Words that make a value after `Password:` a sentence about passwords (`must be at least 12 characters`), not a password. */
const PROSE_WORDS = new Set(['must', 'be', 'at', 'least', 'is', 'are', 'the', 'a', 'an', 'of', 'to', 'and', 'or', 'not', 'should', 'will', 'can', 'cannot', 'contain', 'contains', 'characters', 'chars', 'required', 'your', 'you', 'please', 'enter', 'for', 'with', 'than', 'more', 'less', 'has', 'have', 'was', 'were', 'this', 'that', 'it', 'if', 'when', 'in', 'on', 'by', 'minimum', 'maximum', 'long', 'too', 'short', 'incorrect', 'invalid', 'expired', 'does', 'do', 'match', 'set', 'use', 'new', 'old']);
/** The last word of a tool's status line (`passwd: Authentication token manipulation error`, `Secret: db-credentials created`, `passwords: match`). */
const STATUS_WORDS = new Set(['created', 'deleted', 'updated', 'configured', 'unchanged', 'error', 'failed', 'failure', 'denied', 'match', 'matched', 'mismatch', 'expired', 'changed', 'saved', 'removed', 'rotated', 'revoked', 'ok', 'succeeded', 'successfully']);
function statusLine(value: string): boolean {
  const words = value.toLowerCase().split(/[\s,.;!?]+/).filter(Boolean);
  return words.length >= 1 && words.length <= 6 && STATUS_WORDS.has(words[words.length - 1] as string) && words.every((w) => /^[a-z][a-z0-9-]*$/.test(w));
}
function readsAsProse(value: string): boolean {
  if (statusLine(value)) return true;
  const words = value.toLowerCase().split(/[\s,.;!?]+/).filter(Boolean);
  return words.length >= 3 && words.filter((w) => PROSE_WORDS.has(w)).length >= 2;
}

/** A YAML value's anchor and core tag (`password: &pw !!str …`): they belong to the key's side, not the value. */
const YAML_PROPS = '(?:&[A-Za-z0-9_-]{1,64}[ \\t]{1,20})?(?:!!(?:str|binary)[ \\t]{1,20})?';

/**
 * Values where a key opens its line (env files, INI, YAML, .properties; a line may also begin after an escaped
 * newline in JSON text): the rest of the line, for a key that names a secret strongly (`password: correct horse
 * battery`, `DB_PASSWORD=Pa55,w0rd!`); one secret-looking word for the others (`token: count` is not one).
 */
const lineAssignment: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  prefix: `(?:^|\\n)[ \\t]{0,40}(?:export[ \\t]+)?${KEY_NAME}[ \\t]{0,20}${SEPARATOR}[ \\t]{0,20}${YAML_PROPS}`,
  // (A shell's escapes are part of the value: `DB_PASSWORD=Cm8Ir2\\ Qb5Vs9`.)
  pattern: `(?![\\s"'\\[|>{!&*]|[rbuRBU]{1,2}["'])(?:[^\\r\\n#\\\\]|(?<=\\S)#|\\\\[ $&;#!()|<>]){1,4096}(?<=[^\\s])`,
  accept: (value, prefix, input, offset) => {
    const name = memberKey(wholeKey(prefix.replace(/^(?:\n|\\n)?[ \t]*(?:export[ \t]+)?/, ''), input, offset));
    const strength = name === undefined ? undefined : secretKeyStrength(name);
    const env = envStyle(name, prefix);
    // (`password: string;` in a TypeScript interface: a statement's end is not part of the value.)
    const v = value.replace(/[;,]+$/, '');
    // (`Password=;Server=db`: an empty value, then a connection string's next pair.)
    if (/^;[ \t]*[A-Za-z][\w ]{0,30}=/.test(v)) return false;
    if (!strength || isPlaceholder(v) || isPlaceholder((v.split(/\s/)[0] ?? '').replace(/[,;)]+$/, ''))) return false;
    if (!env) {
      const code = codeNearby(input, offset);
      // (A bare name is a variable only among code: `MYSQL_ROOT_PASSWORD: root_password` in a compose file is the password.)
      const variable = looksLikeCode(v) && !(/^[A-Za-z_$][\w$]*$/.test(value.trim()) && !code);
      if (variable || FIELD_TYPE.test(value) || TYPED_DECLARATION.test(v) || codeExpression(value, restOfLine(input, offset + value.length), name as string, /[ \t]=[ \t]*$/.test(prefix), false, code)) return false;
      if (/:[ \t]*$/.test(prefix) && typeAnnotation(value, code)) return false;
    }
    if (!env && /:[ \t]*$/.test(prefix) && readsAsProse(value)) return false;
    // (openssl.cnf's prompts, `challengePassword = A challenge password`: a value of words that names its own key is a label.)
    if (!env && name !== undefined && /\s/.test(value.trim()) && !/\d/.test(value) && namesOwnKey(name, value)) return false;
    // (`kubectl describe secret`'s data: each key's size, `password:  16 bytes`.)
    if (/^\d{1,9} bytes$/.test(value)) return false;
    const unquoted = v.replace(/^(["'])(.*)\1$/, '$2');
    if ((strength === 'strong' ? nameUnderStrongKey : nameOfASecret)(unquoted) || routeForKey(unquoted, name)) return false;
    return strength === 'strong' ? value.length >= 4 : !value.includes(' ') && secretLooking(value) && !WORDS_AND_NUMBER.test(unquoted);
  },
};

/** Whether a value of words holds every word of its key's name (`challengePassword` → "A challenge password"): a prompt or a label. */
function namesOwnKey(key: string, value: string): boolean {
  const words = keyWords(key);
  if (words.length < 2) return false;
  const said = new Set(value.toLowerCase().split(/[^a-z]+/).filter(Boolean));
  return words.every((w) => said.has(w));
}

/**
 * A label of two or three words that names a secret, opening its line, then its value (`Private Key: …`, `API Key = …`,
 * `Access Token<TAB>…`, `wg show`'s `  private key: …`, a VPN config's `  - Pre-Shared Key      : …`): one word to the
 * line's end.
 */
const spacedLabel: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  prefix: `(?:^|\\n)[ \\t]{0,40}(?:-[ \\t]+)?[A-Za-z]{2,20}(?:[ -][A-Za-z]{2,20}){1,2}(?:[ \\t]{0,40}[:=]|\\t)[ \\t]{0,20}`,
  pattern: `[^\\s"'\\[{]\\S{5,255}(?=[ \\t]*(?:\\r?\\n|$))`,
  accept: (value, prefix) => {
    const label = /([A-Za-z]{2,20}(?:[ -][A-Za-z]{2,20}){1,2})[ \t]*[:=\t]?[ \t]*$/.exec(prefix)?.[1]?.toLowerCase().replace(/-/g, ' ');
    if (!label) return false;
    const words = label.split(' ');
    const named = SECRET_PAIRS.has(words.slice(-2).join(' ')) || (words.length === 3 && SECRET_PAIRS.has(words.slice(0, 2).join(' ')));
    return named && !isPlaceholder(value) && !/^(?:X{2,}|x{2,})(?:-(?:X{2,}|x{2,}))*$/.test(value) && !/^(?:\.{0,2}\/|~\/|[A-Za-z]:\\|https?:\/\/)/.test(value) && !/^\d+$/.test(value);
  },
};

/** The same after an escaped newline (`\\npassword: …` in JSON written as text): the line is inside a JSON string, which an unescaped quote ends. */
const lineAssignmentInString: Detector = {
  ...lineAssignment,
  prefix: `\\\\n[ \\t]{0,40}(?:export[ \\t]+)?${KEY_NAME}[ \\t]{0,20}${SEPARATOR}[ \\t]{0,20}${YAML_PROPS}`,
  pattern: `(?![\\s"'\\[|>{!&*])(?:[^\\r\\n#\\\\"]|(?<=\\S)#){1,4096}(?<=[^\\s])`,
};

/** A typed declaration with a default (`SecretStr = Field(…)`, `Optional[str] = None`). */
const TYPED_DECLARATION = /^(?:[A-Z][A-Za-z0-9_]*|str|bytes|int|bool|float)(?:\[[^\]]*\])?(?:[ \t]*\|[ \t]*None)?[ \t]+=[ \t]+\S/;

/** YAML block scalars under a secret key (`password: |` and the indented lines after it). */
const yamlBlock: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  prefix: `(?:^|\\n)[ \\t]{0,40}${KEY_NAME}[ \\t]{0,20}:[ \\t]{0,20}${YAML_PROPS}[|>][+-]?[0-9]?[ \\t]{0,20}\\r?\\n`,
  pattern: `[ \\t]{1,80}[^\\r\\n]{0,4096}(?:\\r?\\n[ \\t]{1,80}[^\\r\\n]{0,4096}){0,199}`,
  // The whole key stands in the prefix (it opens its line).
  accept: (_value, prefix) => secretKeyStrength(/^\n?[ \t]*([A-Za-z0-9_.-]+)/.exec(prefix)?.[1] ?? '') !== undefined,
};

/** A YAML plain scalar on one line: `#` only inside it (not after a blank: a comment), `:` only inside it (not before a blank: a mapping); no leading indicator; not a quote that ends its line (YAML in a string of code: the string's end). */
const YAML_SCALAR = `(?![ \\t#"'\\[{|>!&*?%@\`]|-[ \\t])(?:(?!["'\`][,;)\\]} \\t]*(?:\\r?\\n|$))[^\\r\\n:# \\t]|[ \\t]+(?=[^\\s#])|(?<=\\S)#|:(?=[^\\s]))+`;
/** The end of a scalar's line: blanks, maybe a comment (or the quote that ends the string it is written in). */
const YAML_LINE_END = `(?=[ \\t]*(?:#[^\\r\\n]*)?(?:\\r?\\n|$)|["'\`][,;)\\]} \\t]*(?:\\r?\\n|$))`;
/** A key that opens its line (or a string: YAML sent as a JSON value), `:`, maybe a comment, the line's end (`password: # set by ops`). */
const YAML_KEY_LINE = `(?:^|\\n|(?<=(?:^|[:,[(=])[ \\t]{0,20})["'\`])[ \\t]{0,40}${KEY_NAME}[ \\t]{0,20}:[ \\t]{0,20}(?:#[^\\r\\n]{0,200})?\\r?\\n`;
/** The key's indentation, name and the next line's indentation, from such a prefix. */
const yamlKeyLine = (prefix: string): { indent: number; key: string; next: number } | undefined => {
  const m = /^[\n"'`]?([ \t]*)([A-Za-z0-9_.-]+)[ \t]*:[ \t]*(?:#[^\r\n]*)?\r?\n([ \t]*)(?:-[ \t]+)?$/.exec(prefix);
  return m ? { indent: (m[1] as string).length, key: m[2] as string, next: (m[3] as string).length } : undefined;
};

/**
 * A YAML plain scalar on the line after its secret key (`password:` then, indented deeper, `QeKu…`): one line
 * that is neither a mapping (`min: 12`), a list item, a comment nor a quoted or block value (the other detectors'
 * forms).
 */
const yamlNextLine: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  prefix: `${YAML_KEY_LINE}[ \\t]{1,80}`,
  pattern: `${YAML_SCALAR}${YAML_LINE_END}`,
  accept: (value, prefix) => {
    const line = yamlKeyLine(prefix);
    if (!line || line.next <= line.indent) return false;
    return secretKeyStrength(line.key) === 'strong' && !isPlaceholder(value) && value.length >= 4;
  },
};

/** A YAML list under a secret key (`passwords:` then `- …` lines): its items, masked together. */
const yamlList: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: KEY_HINT,
  prefix: `${YAML_KEY_LINE}[ \\t]{0,80}-[ \\t]+`,
  pattern: `${YAML_SCALAR}${YAML_LINE_END}(?:[ \\t]*(?:#[^\\r\\n]*)?\\r?\\n[ \\t]{0,80}-[ \\t]+${YAML_SCALAR}${YAML_LINE_END}){0,199}`,
  accept: (value, prefix) => {
    const line = yamlKeyLine(prefix);
    // (A list of secrets' names, docker-compose's `secrets:⏎  - db_password`, names them: it holds none.)
    const items = value.split(/\r?\n[ \t]*-[ \t]+/).map((item) => item.replace(/[ \t]*(?:#.*)?$/, ''));
    if (items.every((item) => /^[A-Za-z][\w.-]*$/.test(item) && secretKeyStrength(item) !== undefined)) return false;
    return line !== undefined && secretKeyStrength(line.key) === 'strong' && !isPlaceholder(value) && value.length >= 4;
  },
};

/** TOML's multi-line strings under a secret key (`password = """…"""`, `api_key = '''…'''`). */
const tomlMultiline: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /"""|'''/,
  prefix: `${SECRETISH}[A-Za-z0-9_.-]{0,60}["']?[ \\t]{0,20}=[ \\t]{0,20}(?:"""|''')`,
  pattern: `(?:(?<=""")[\\s\\S]{1,8192}?(?=""")|(?<=''')[\\s\\S]{1,8192}?(?='''))`,
  accept: (value, prefix, input, offset) => !isPlaceholder(value) && secretKeyStrength(wholeKey(prefix.slice(0, -3), input, offset - 3) ?? '') !== undefined,
};

/**
 * A literal that is not the end of a longer word: the literal first, then the boundary checked behind it (a
 * pattern that opens with a lookbehind is tried at every position; one that opens with a literal is searched for).
 * An escape (`\\n` in JSON written as text) before it is a boundary too.
 */
const word = (literal: string): string => `${literal}(?:(?<![\\w-]${literal})|(?<=\\\\[ntr]${literal}))`;

/** What a value quoted on a command line holds, without its quotes. */
const unquote = (value: string): string => value.replace(/^(['"])([\s\S]*)\1$/, '$2');
/** A word of a value; in JSON written as text an escape (`\\n`, `\\"`) ends it as a real newline or quote would. */
const VALUE_CHAR = `(?:[^\\s'"\\\\]|\\\\(?![ntr"'\\\\]))`;
const CLI_VALUE = `(?:'[^'\\r\\n]{1,512}'|"[^"\\r\\n]{1,512}"|(?![-\\\\])${VALUE_CHAR}{1,512})`;
/** Up to twelve other arguments between a command and its password option. */
/** Blanks between arguments, a shell's line continuation (`\\` at a line's end) among them. */
const BLANKS = `(?:[ \\t]|\\\\\\r?\\n)+`;
const CLI_ARGS = `(?:${BLANKS}[^\\s|;&]{1,256}){0,12}?${BLANKS}`;
const cliValue = (value: string): boolean => {
  const v = unquote(value);
  return !isPlaceholder(v) && !looksLikeCode(v) && !/^[A-Z][A-Z0-9_]*$/.test(v) && v.length >= 3 && /[A-Za-z0-9]/.test(v) && !/^%[sdr]\b/.test(v);
};

/**
 * Passwords on command lines: `mysql -pSECRET` (the password written right after `-p`), `sshpass -p`,
 * `redis-cli -a`, `docker login -p`, `curl -u user:SECRET`, and `--password VALUE` of any command.
 */
const cliPasswords: Detector[] = [
  {
    kind: 'cli-password',
    phase: 3,
    hint: /mysql|mariadb/i,
    prefix: `${word('(?:mysql|mysqldump|mysqladmin|mysqlimport|mysqlshow|mysqlcheck|mariadb|mariadb-dump)')}${CLI_ARGS}-p`,
    pattern: `(?:'[^'\\r\\n]{1,512}'|"[^"\\r\\n]{1,512}"|[^\\s'"][^\\s'"]{0,511})`,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /sshpass|redis-cli|login/i,
    prefix: `(?:${word('(?:sshpass|redis-cli)')}|${word('(?:docker|podman|buildah|skopeo|oras|nerdctl|oc|cf)')}[ \\t]+login|${word('helm')}[ \\t]+registry[ \\t]+login)${CLI_ARGS}(?:(?:-p|-a(?<=${word('(?:sshpass|redis-cli)')}${CLI_ARGS}-a)|--pass|--password)[ \\t]+|-p(?=[^\\s-])(?<=${word('sshpass')}${CLI_ARGS}-p))`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /curl|wget|\bxh[ \t]|\bhttps?[ \t]/i,
    prefix: `${word('(?:curl|wget|xh|http|https)')}${CLI_ARGS}(?:(?:-u|--user|--http-user|-a|--auth)[ \\t]+|--(?:http-)?user=|--auth=|-u(?=[^\\s-]))['"]?[^\\s:'"]{1,256}:`,
    pattern: `${VALUE_CHAR}{1,512}`,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /--(?:pass|token|api|secret|client|access|auth|db|http-pass|ftp-pass|proxy-pass|oauth2|certificate-key)/i,
    prefix: `${word('--(?:password|passwd|passphrase|pass|db-password|http-password|http-passwd|ftp-password|proxy-password|token|api-key|apikey|secret|client-secret|access-token|auth-token|oauth2-bearer|certificate-key|authtoken)')}[ \\t]+`,
    pattern: CLI_VALUE,
    accept: (value) => cliValue(value) && secretLooking(unquote(value)),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /-(?:src|dest)?(?:store|key)pass|-pass(?:in|out)/i,
    // keytool and jarsigner (`-storepass`, `-keypass`), openssl (`-passin pass:…`).
    prefix: `${word('-(?:storepass|keypass|srcstorepass|deststorepass|srckeypass|destkeypass|passin|passout)')}[ \\t]+(?:pass:)?`,
    pattern: CLI_VALUE,
    // `env:VAR`, `file:PATH`, `fd:N`, `stdin` name where openssl reads the password, not the password.
    accept: (value) => cliValue(value) && !/^(?:env|file|fd):|^stdin$/.test(unquote(value)),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /redis-cli|mongo|psexec|sqlcmd|bcp|cqlsh|az[ \t]+login|gh[ \t]+secret/i,
    // `redis-cli AUTH pw`, `mongosh -p pw`, `psexec -p pw`, `az login -p pw`, `sqlcmd -P pw`, `gh secret set NAME --body pw`.
    prefix: `(?:${word('redis-cli')}${CLI_ARGS}auth|${word('(?:mongosh|mongo|mongodump|mongorestore|mongoexport|mongoimport|psexec|psexec64|sqlcmd|bcp|cqlsh)')}${CLI_ARGS}(?:-p|--password)|${word('az')}[ \\t]+login${CLI_ARGS}(?:-p|--password)|${word('gh')}[ \\t]+secret[ \\t]+set${CLI_ARGS}(?:-b|--body))[ \\t]+`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /smbclient|rpcclient|htpasswd|net[ \t]+use|setx|securestring/i,
    // `smbclient -U user%pw`, `htpasswd -b FILE USER pw`, `net use X: \\srv\share pw`, `setx API_KEY pw`, `ConvertTo-SecureString 'pw'`.
    prefix: `(?:${word('(?:smbclient|rpcclient)')}${CLI_ARGS}(?:-U|--user)[ \\t]+[^\\s%]{1,128}%|${word('htpasswd')}(?:[ \\t]+-[A-Za-z]+){0,6}[ \\t]+[^\\s-][^\\s]{0,255}[ \\t]+[^\\s-][^\\s]{0,127}[ \\t]+(?<=-b[A-Za-z]{0,6}(?:[ \\t]+-[A-Za-z]+){0,6}[ \\t]+[^\\s]{1,256}[ \\t]+[^\\s]{1,128}[ \\t]+)|${word('net')}[ \\t]+use[ \\t]+(?:[A-Za-z]:[ \\t]+)?\\\\\\\\[^\\s]{1,256}[ \\t]+(?:/user:[^\\s]{1,128}[ \\t]+)?|${word('setx')}[ \\t]+(?:-m[ \\t]+)?${KEY_NAME}[ \\t]+|${word('ConvertTo-SecureString')}[ \\t]+(?:-String[ \\t]+)?)`,
    pattern: CLI_VALUE,
    accept: (value, prefix) => cliValue(value) && !unquote(value).startsWith('/') && (!/^setx/i.test(prefix) || secretKeyStrength(/^setx[ \t]+(?:-m[ \t]+)?(\S+)/i.exec(prefix)?.[1] ?? '') !== undefined),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /zip|7z|openssl|setenv|\bENV[ \t]|\bset[ \t]+-/i,
    // `zip -P pw`, `unzip -P pw`, `7z x -ppw`, `openssl enc -k pw`, csh's `setenv DB_PASSWORD pw`, a Dockerfile's `ENV DB_PASSWORD pw`.
    prefix: `(?:(?:${word('zip')}|${word('unzip')}|${word('zipcloak')})${CLI_ARGS}-P[ \\t]+|${word('(?:7z|7za|7zr)')}${CLI_ARGS}["']?-p(?=[^\\s-])|${word('openssl')}${CLI_ARGS}-k[ \\t]+|(?:${word('setenv')}|(?:^|\\n|(?<=(?:^|[:,[(=])[ \\t]{0,20})\\\\?["'])[ \\t]{0,20}ENV|${word('set')}[ \\t]+-[A-Za-z]{0,3}x[A-Za-z]{0,3})[ \\t]+${KEY_NAME}[ \\t]+)`,
    pattern: CLI_VALUE,
    accept: (value, prefix) => {
      if (!cliValue(value)) return false;
      const key = /^(?:(?:\n|\\?["'])?[ \t]*)?(?:setenv|ENV|set[ \t]+-[A-Za-z]{1,7})[ \t]+(\S+)/i.exec(prefix)?.[1];
      return key === undefined || secretKeyStrength(key) !== undefined;
    },
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /lftp|vault[ \t]+login/i,
    // `lftp -u user,pw`, `vault login TOKEN` (a token given as the argument; `vault login -method=… username=…` names its fields).
    prefix: `(?:${word('lftp')}${CLI_ARGS}(?:-u|--user)[ \\t]+['"]?[^\\s,'"]{1,128},|${word('vault')}[ \\t]+login(?:[ \\t]+-[A-Za-z-]{1,32}(?:=[^\\s]{0,256})?){0,8}[ \\t]+)`,
    pattern: CLI_VALUE,
    accept: (value) => cliValue(value) && !unquote(value).includes('='),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /ldap/i,
    prefix: `${word('(?:ldapsearch|ldapmodify|ldapadd|ldapdelete|ldapwhoami|ldappasswd|ldapcompare|ldapmodrdn|ldapexop)')}${CLI_ARGS}-w[ \\t]+`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /ldap|ipmitool|racadm|esxcli|vmrun|rdesktop|x11vnc|snmp|swaks|netlify|supabase|bcp/i,
    // `ldapwhoami -wPW` glued, `ipmitool -P`, `racadm -p`, `esxcli -p`, `vmrun -gp`/`-vp`, `rdesktop -p`, `x11vnc -passwd`,
    // `swaks --auth-password`, `netlify --auth`, `supabase -p`, `bcp -PPW`.
    prefix: `(?:${word('(?:ldapsearch|ldapmodify|ldapadd|ldapdelete|ldapwhoami|ldappasswd|ldapcompare|ldapmodrdn|ldapexop)')}${CLI_ARGS}-w(?=[^\\s-])|${word('bcp')}${CLI_ARGS}-P(?=[^\\s-])|(?:${word('(?:ipmitool|racadm|rdesktop|esxcli|supabase)')}${CLI_ARGS}-[Pp]|${word('vmrun')}${CLI_ARGS}-[gv]p|${word('x11vnc')}${CLI_ARGS}-(?:passwd|viewpasswd)|${word('swaks')}${CLI_ARGS}--auth-password|${word('netlify')}${CLI_ARGS}--auth)[ \\t]+)`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /requirepass|masterauth|add-mask|neo4j_auth|password[ \t]+[a-z_]+[ \t]+=|remotepass|[rw][ow]community/i,
    // Tools' own formats: Redis's `CONFIG SET requirepass …` (or masterauth), GitHub Actions' `::add-mask::…`,
    // Neo4j's `NEO4J_AUTH=neo4j/…`, elasticsearch-setup-passwords' `PASSWORD elastic = …`, offlineimap's
    // `remotepass = …`, snmpd.conf's `rocommunity …` (not the defaults `public`, `private`).
    prefix: `(?:${word('config')}[ \t]+set[ \t]+(?:requirepass|masterauth)[ \t]+|::add-mask::|${word('NEO4J_AUTH')}=[A-Za-z0-9_.-]{1,64}/|(?:^|\\n|\\\\n)[ \t]{0,40}PASSWORD[ \t]+[A-Za-z0-9_.-]{1,64}[ \t]+=[ \t]+|(?:^|\\n|\\\\n)[ \t]{0,40}remotepass(?:word)?[ \t]*=[ \t]*|(?:^|\\n|\\\\n)[ \t]{0,40}[rw][ow]community6?[ \t]+)`,
    pattern: CLI_VALUE,
    accept: (value) => cliValue(value) && !/^(?:public|private)$/.test(unquote(value)) && !unquote(value).startsWith('$'),
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /password for the|pass(?:word)?[ \t]|PASS[ \t]|LOGIN[ \t]|51:b:|BUNDLE_|<<</i,
    // More tools' own formats: Elasticsearch 8's first start (`Password for the elastic user (…):⏎  …`), msmtp's and
    // mbsync's `password …`/`Pass …` lines, fetchmailrc's `user "…" password "…"`, FTP debug lines (ftplib's `*cmd* 'PASS
    // …'`, lftp's `---> PASS …`), imaplib's `b'A1 LOGIN user "…"'`, an .rdp file's `password 51:b:…`, Bundler's
    // `BUNDLE_HOST__COM: "user:…"`, a here-string to vncpasswd (`<<< '…'`).
    prefix: `(?:Password[ \t]+for[ \t]+the[ \t]+[A-Za-z0-9_.-]{1,64}[ \t]+user[^\r\n]{0,160}:[ \t]*\r?\n[ \t]{0,20}|(?:^|\n|\\\\n)[ \t]{0,40}(?:password|pass)[ \t]+(?=[^\\s"']+[ \t]*(?:\r?\n|\\\\n|$))|${word('user(?:name)?')}[ \t]+(?:"[^"\r\n]{1,128}"|'[^'\r\n]{1,128}'|[^\\s"']{1,128})[ \t]+(?:with[ \t]+)?pass(?:word)?[ \t]+|(?:\\*cmd\\*|\\*put\\*|--->)[ \t]+'?PASS[ \t]+|b'[A-Za-z0-9]{1,16}[ \t]+LOGIN[ \t]+(?:"[^"\r\n]{1,128}"|[^\\s"']{1,128})[ \t]+|(?:^|\n|\\\\n)[ \t]{0,20}password[ \t]+51:b:|(?:^|\n|\\\\n)[ \t]{0,40}BUNDLE_[A-Z0-9]+(?:__[A-Z0-9]+)+:[ \t]*["']?[^:"'\\s]{1,128}:|${word('(?:vncpasswd|tigervncpasswd|x11vnc)')}[^\r\n<|;]{0,80}<<<[ \t]*)`,
    pattern: CLI_VALUE,
    accept: (value, prefix) => {
      if (!cliValue(value)) return false;
      // (A line `password …` or `Pass …` alone holds one word that looks like a secret: `password required`, `Pass the salt` are prose.)
      if (/^(?:\n|\\n)?[ \t]*pass(?:word)?[ \t]+$/i.test(prefix)) return !/^[A-Za-z]+[.,;:!?]$/.test(value) && secretLooking(unquote(value));
      // (`Username or password too long`: prose, not fetchmail's `user NAME password …`.)
      if (/^user(?:name)?[ \t]/i.test(prefix)) return !/^user(?:name)?[ \t]+(?:or|and|nor|and\/or|\/)[ \t]/i.test(prefix) && (/^["']/.test(value) || secretLooking(value));
      return true;
    },
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /jwt|jsonwebtoken|hmac|fernet|cookieparser|cookiesession|\.auth\(|SecretKeySpec|SignedString|new_from_slice|SymmetricSecurityKey/i,
    // A secret passed by position to what signs or checks with it: `jwt.encode(payload, "…")`, `jwt.sign(p, '…')`,
    // `hmac.new(b"…")`, `crypto.createHmac('sha256', '…')`, `Fernet(b"…")`, `cookieParser("…")`, `redis.auth("…")`.
    prefix: `(?:${word('(?:jwt|jsonwebtoken|JWT|jose)')}\\.(?:encode|sign|verify|decode)\\([ \t]*(?:[A-Za-z_$][\\w$.]{0,64}|\\{[^{}\\r\\n]{0,200}\\})[ \t]*,[ \t]*|${word('hmac')}\\.new\\([ \t]*|${word('createHmac')}\\([ \t]*["'][A-Za-z0-9-]{2,16}["'][ \t]*,[ \t]*|${word('(?:Fernet|cookieParser|cookieSession)')}\\([ \t]*|${word('(?:redis|client|r|conn|cache)')}\\.auth\\([ \t]*|${word('(?:SecretKeySpec|hmacShaKeyFor|SignedString|new_from_slice|SymmetricSecurityKey|HMACSHA256|HMACSHA512)')}\\([ \t]*(?:\\[\\]byte\\(|Encoding\\.(?:UTF8|ASCII)\\.GetBytes\\()?)b?["'\`]`,
    pattern: `[^"'\`\\\\\r\n]{6,512}(?=["'\`])`,
    accept: (value) => !isPlaceholder(value, true) && !/^(?:HS|RS|ES|PS)\d{3}$/.test(value),
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /\.(?:type|fill|send_keys|sendKeys|setValue|pressSequentially)\(/,
    // A password an end-to-end test types: into a field its selector or label names (`cy.get('#password').type('…')`,
    // `page.fill('input[name="password"]', '…')`, `getByLabel('Password').fill('…')`, Selenium's `send_keys`).
    prefix: `(?:(?:'[^'\r\n]{0,80}(?:pass(?:w|phrase|code)|secret|token|api[-_ ]?key)[^'\r\n]{0,80}'|"[^"\r\n]{0,80}(?:pass(?:w|phrase|code)|secret|token|api[-_ ]?key)[^"\r\n]{0,80}")[ \t]*\\)[ \t]*\\.(?:type|fill|send_keys|sendKeys|setValue|pressSequentially)\\([ \t]*|\\.(?:fill|type)\\([ \t]*(?:'[^'\r\n]{0,80}(?:pass(?:w|phrase|code)|secret|token|api[-_ ]?key)[^'\r\n]{0,80}'|"[^"\r\n]{0,80}(?:pass(?:w|phrase|code)|secret|token|api[-_ ]?key)[^"\r\n]{0,80}")[ \t]*,[ \t]*)["'\`]`,
    pattern: `[^"'\`\r\n]{1,256}(?=["'\`])`,
    accept: (value) => !isPlaceholder(value, true),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /ssm|keyvault|secrets?[ \t]|env[ \t]+add|<<</i,
    // The command that stores a secret, given it by `--value` or a here-string: `aws ssm put-parameter --value`, `az
    // keyvault secret set --value`, `gcloud secrets create … <<< "…"`, `vercel env add … <<< …`, `wrangler secret put … <<< …`.
    prefix: `(?:${word('(?:aws[ \t]+ssm[ \t]+put-parameter|az[ \t]+keyvault[ \t]+secret[ \t]+set)')}${CLI_ARGS}--value[ \t=]+|${word('(?:gcloud[ \t]+secrets[ \t]+(?:create|versions[ \t]+add)|vercel[ \t]+env[ \t]+add|wrangler[ \t]+(?:pages[ \t]+)?secret[ \t]+put|gh[ \t]+secret[ \t]+set|docker[ \t]+secret[ \t]+create|fly(?:ctl)?[ \t]+secrets[ \t]+import)')}[^\r\n<|;]{0,160}<<<[ \t]*)`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /pass(?:w|phrase|code)/i,
    // A password in prose, named and given: `the password for staging is …`, `use password … for the box`.
    prefix: `(?:${word('pass(?:word|phrase|code)')}[ \t]+(?:for|of|to)[ \t]+(?:the[ \t]+)?[A-Za-z0-9_.@-]{1,40}(?:[ \t]+[A-Za-z0-9_.@-]{1,40})?[ \t]+(?:is|was)[ \t:]+|${word('(?:use|with|using|try)')}[ \t]+(?:the[ \t]+)?pass(?:word|phrase|code)[ \t]+)["'\`]?`,
    pattern: `[^\\s'"\`|,]{0,255}[^\\s'"\`|,.;:!?)]`,
    accept: (value) => !isPlaceholder(value) && secretLooking(value) && /\d|[^A-Za-z]/.test(value) && !nameOfASecret(value),
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /secret[ \t]+"|\]:\d{1,5}[ \t]/,
    // BIND's TSIG key (`key "rndc-key" { algorithm hmac-sha256; secret "…"; };`), postfix's sasl_passwd
    // (`[smtp.example.com]:587 user@example.com:…`).
    prefix: `(?:(?:^|\\n)[ \\t]*secret[ \\t]+"(?=[A-Za-z0-9+/=]{16,}"[ \\t]*;)|(?:^|\\n)[ \\t]*\\[[A-Za-z0-9.-]{1,253}\\](?::\\d{1,5})?[ \\t]+(?:\\[MASKED:email:[0-9a-f]{8}\\]|[^\\s:]{1,128}):)`,
    pattern: `[A-Za-z0-9+/=]{16,512}(?=")|[^\\s]{1,256}(?=[ \\t]*(?:\\r?\\n|$))`,
    accept: (value) => !isPlaceholder(value),
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /echo|printf/i,
    // A secret piped to the command that stores it (`echo … | wrangler secret put NAME`, `| gh secret set`, `| docker login --password-stdin`).
    prefix: `${word('(?:echo|printf)')}[ \t]+(?:-[ne]{1,2}[ \t]+)?(?:'%s'[ \t]+)?`,
    pattern: `${CLI_VALUE}(?=[ \t]*\\|[ \t]*(?:sudo[ \t]+)?(?:npx[ \t]+)?(?:wrangler[ \t]+(?:pages[ \t]+)?secret[ \t]+put|gh[ \t]+secret[ \t]+set|vercel[ \t]+env[ \t]+add|fly(?:ctl)?[ \t]+secrets|(?:docker|podman|nerdctl|buildah)[ \t]+login|docker[ \t]+secret[ \t]+create|gcloud[ \t]+secrets|helm[ \t]+registry[ \t]+login|oras[ \t]+login|passwd[ \t]+--stdin|chpasswd|netlify[ \t]+env:set|vault[ \t]+(?:kv[ \t]+put|login)|aws[ \t]+ssm[ \t]+put-parameter|heroku[ \t]+config:set|supabase[ \t]+secrets[ \t]+set|railway[ \t]+variables))`,
    accept: cliValue,
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /\t[A-Za-z0-9+/]{43}=\t|(?:FULL|READ)[ \t]/,
    // `wg show all dump`: an interface's line gives its private key second (then its public key and port), a peer's
    // its preshared key third (after the peer's public key, before its endpoint). `az storage account keys list`
    // (table or tsv): `key1  FULL  …==`.
    prefix: `(?:(?:^|\n)[A-Za-z0-9_.-]{1,15}\t(?=[A-Za-z0-9+/]{43}=\t[A-Za-z0-9+/]{43}=\t\\d{1,5}\t)|(?:^|\n)[A-Za-z0-9_.-]{1,15}\t[A-Za-z0-9+/]{43}=\t(?=[A-Za-z0-9+/]{43}=\t(?:\\S+:\\d{1,5}|\\(none\\))\t)|(?:^|\n)key\\d[ \t]+(?:FULL|READ)[ \t]+(?=[A-Za-z0-9+/]{86}==))`,
    pattern: `[A-Za-z0-9+/]{43}=|[A-Za-z0-9+/]{86}==`,
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /[ \t]\*[ \t]/,
    // ppp's chap-secrets and pap-secrets: `client server secret addresses`, the server and the addresses often `*`.
    prefix: `(?:^|\n)[ \t]*(?:"[^"\r\n]{1,64}"|[^\\s#"*]{1,64})[ \t]+\\*[ \t]+`,
    pattern: `(?:"[^"\r\n]{1,256}"|[^\\s"*]{1,256})(?=[ \t]+(?:\\*|-|[0-9][0-9./]*)[ \t]*(?:\r?\n|$))`,
    accept: (value) => cliValue(value) && !/^\d+$/.test(unquote(value)),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /snmp/i,
    // SNMP's community (`snmpwalk -c`; not the defaults `public`, `private`) and SNMPv3's passphrases `-A` (auth)
    // and `-X` (privacy). The passes match without regard to case, so the check tells them from `-a`/`-x` (the
    // algorithms) and `-C` (options); the command stands behind the option (a lookbehind), so that a refused `-a`
    // leaves the search to the next option.
    prefix: `(?<=${word('(?:snmpwalk|snmpget|snmpset|snmpbulkwalk|snmpbulkget|snmptrap|snmptable|snmpgetnext|snmpstatus|snmpdf)')}${CLI_ARGS})-[cAX][ \t]+`,
    pattern: CLI_VALUE,
    accept: (value, prefix) => /^-[cAX]/.test(prefix) && cliValue(value) && !/^(?:public|private)$/.test(unquote(value)),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /sqlplus|rman|expdp|impdp|sqlldr|dgmgrl/i,
    // Oracle's `user/password@service`.
    prefix: `${word('(?:sqlplus|rman|expdp|impdp|sqlldr|dgmgrl)')}(?:[ \\t]+-[A-Za-z]+){0,8}[ \\t]+[A-Za-z0-9_$#.]{1,128}/`,
    pattern: `[^\\s@/'"]{1,256}`,
    accept: cliValue,
  },
];

/** Where a line begins: the text's start, a newline, an escaped one, or a string's opening quote (a line sent as a JSON value). */
const LINE_START = `(?:^|\\n|\\\\n|(?<=(?:^|[:,[(=])[ \\t]{0,20})\\\\?["'])`;
/** More passwords on command lines, each where its tool takes it. */
const moreCliPasswords: Detector[] = [
  {
    kind: 'cli-password',
    phase: 3,
    hint: /freerdp|plink|pscp|psftp|evil-winrm|hydra|medusa|ncrack|crackmapexec|netexec|nxc|smbmap|kerbrute|mosquitto|rar|generic-password|internet-password/i,
    // `xfreerdp /p:pw`, `plink -pw pw`, `evil-winrm -p pw`, `hydra -p pw` (not `-P`, a file of passwords), `mosquitto_pub -P pw`,
    // `rar a -ppw`, macOS `security add-generic-password -w pw`.
    prefix: `(?:${word('(?:xfreerdp3?|wlfreerdp3?|sdl-freerdp3?)')}${CLI_ARGS}[/+]p:|${word('(?:plink|pscp|psftp|putty)')}${CLI_ARGS}-pw[ \\t]+|${word('(?:evil-winrm|hydra|medusa|ncrack|crackmapexec|netexec|nxc|smbmap|kerbrute)')}${CLI_ARGS}(?:-p|--password)[ \\t]+|${word('(?:mosquitto_pub|mosquitto_sub|mosquitto_rr)')}${CLI_ARGS}(?:-P|--pw)[ \\t]+|(?:${word('rar')}|${word('unrar')}|${word('winrar')})${CLI_ARGS}-p(?=[^\\s-])|${word('security')}[ \\t]+(?:add|set)-(?:generic|internet)-password${CLI_ARGS}-w[ \\t]+)`,
    pattern: CLI_VALUE,
    // (The pass is case-blind: hydra's `-P` and mosquitto's `-p`, a file and a port, are told apart here.)
    accept: (value, prefix) => cliValue(value) && !/(?:hydra|medusa|ncrack|crackmapexec|netexec|nxc|smbmap|kerbrute|evil-winrm)\b[\s\S]*-P[ \t]+$/.test(prefix) && !/mosquitto_\w+[\s\S]*[ \t]-p[ \t]+$/.test(prefix),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /net[ \t]+user|rabbitmqctl|using|conn/i,
    // `net user NAME pw /add`, `rabbitmqctl add_user NAME pw`, DB2's `connect to DB user NAME using pw`, SQL*Plus's `conn user/pw@svc`.
    prefix: `(?:${word('net')}[ \\t]+user[ \\t]+(?:"[^"\\r\\n]{1,64}"|[^\\s/"]{1,64})[ \\t]+|${word('rabbitmqctl')}(?:[ \\t]+-[A-Za-z-]+(?:[ \\t]+[^\\s-][^\\s]*)?){0,4}[ \\t]+(?:add_user|change_password|authenticate_user)[ \\t]+[^\\s]{1,128}[ \\t]+|${word('connect')}[ \\t]+to[ \\t]+[^\\s]{1,128}[ \\t]+user[ \\t]+[^\\s]{1,128}[ \\t]+using[ \\t]+|(?:${LINE_START}|SQL>)[ \\t]*conn(?:ect)?[ \\t]+[A-Za-z0-9_$#.]{1,128}/)`,
    pattern: `(?:'[^'\\r\\n]{1,512}'|"[^"\\r\\n]{1,512}"|(?![-\\\\])[^\\s'"@/\\\\]{1,512})`,
    accept: (value) => cliValue(value) && !/^[/*]/.test(unquote(value)),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /passwd|sudo[ \t]+-[A-Za-z]*S|cryptsetup|runas|kinit|-stdin|with-token/,
    // `echo 'pw' | passwd --stdin root`, `echo "root:pw" | chpasswd`, and whatever else reads a password on its
    // standard input: `sudo -S`, `smbpasswd -s`, `cryptsetup`, `runas`, `kinit`, `docker login --password-stdin`,
    // `gh auth login --with-token`.
    prefix: `${word('(?:echo|printf)')}[ \\t]+(?:-[neE]{1,3}[ \\t]+)?(?:(?=[^|\\r\\n]{1,600}\\|[ \\t]*(?:(?:sudo[ \\t]+)?(?:passwd[ \\t]+--stdin|smbpasswd\\b|cryptsetup\\b|runas\\b|kinit\\b)|sudo[ \\t]+-[A-Za-z]*S|[^|\\r\\n]{0,300}?[ \\t]--(?:password-stdin|passphrase-stdin|with-token)\\b))|["']?[^\\s:'"|]{1,64}:(?=[^|\\r\\n]{1,600}\\|[ \\t]*(?:sudo[ \\t]+)?chpasswd))`,
    pattern: `(?:'[^'\\r\\n]{1,512}'|"[^"\\r\\n]{1,512}"|[^\\s'"|]{1,512})`,
    accept: (value) => cliValue(value) && !/^["']?\$/.test(value),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /schtasks|openssl|useradd|usermod|ssh-keygen|sqlmap/i,
    // `schtasks /create … /ru bob /rp pw` (its options in any case), `openssl passwd -6 pw` (inside `useradd -p
    // "$(…)"` too), `useradd -p HASH`, `ssh-keygen -N pw` (and `-P`, the old one), `sqlmap --auth-cred=user:pw`.
    prefix: `(?:${word('(?:schtasks|SCHTASKS)')}${CLI_ARGS}/(?:[rR][pP]|[pP])[ \\t]+|${word('openssl')}[ \\t]+passwd(?:[ \\t]+-(?:1|5|6|apr1|aixmd5|crypt|noverify|quiet|table|reverse)|[ \\t]+-salt[ \\t]+[^\\s]{1,64})*[ \\t]+|${word('(?:useradd|usermod)')}${CLI_ARGS}(?:-p|--password)[ \\t]+|${word('sqlmap')}${CLI_ARGS}--(?:auth-cred|proxy-cred)(?:=|[ \\t]+)['"]?[^\\s:'"]{1,128}:)`,
    pattern: CLI_VALUE,
    // (An unquoted `$(openssl passwd … pw)` after `useradd -p` is left to the openssl form, which masks the password in it.)
    accept: (value) => cliValue(value) && !unquote(value).startsWith('/') && !value.startsWith('$('),
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /\bmc[ \t]|rclone|>[ \t]?auth[ \t]/i,
    // MinIO's `mc alias set NAME URL ACCESS_KEY SECRET_KEY`, rclone's `pass`/`key`/`client_secret` given to `config
    // create`, `--sftp-pass` and the like, `rclone obscure pw`, and Redis's interactive `host:port> AUTH [user] pw`.
    prefix: `(?:${word('mc')}[ \\t]+(?:alias[ \\t]+set|config[ \\t]+host[ \\t]+add)[ \\t]+[^\\s]{1,128}[ \\t]+[^\\s]{1,2048}[ \\t]+[^\\s]{1,256}[ \\t]+|${word('rclone')}(?:[ \\t]+obscure[ \\t]+|[ \\t]+config[ \\t]+(?:create|update)${CLI_ARGS}(?:pass|pass2|password|password2|key|client_secret|secret_access_key|account_key|token|sas_url)(?:=|[ \\t]+)|${CLI_ARGS}--[a-z0-9]{1,32}-(?:pass|password|password2|key|client-secret|secret-access-key|account-key|token)(?:=|[ \\t]+))|${LINE_START}[^\\s>]{1,80}:\\d{1,5}(?:\\[\\d{1,2}\\])?>[ \\t]?(?:AUTH|auth)[ \\t]+(?:[^\\s]{1,64}[ \\t]+(?=[^\\s]))?)`,
    pattern: CLI_VALUE,
    accept: cliValue,
  },
  {
    kind: 'cli-password',
    phase: 3,
    hint: /impacket|\.py/,
    // impacket's target, `domain/user:pw@host`.
    prefix: `${word('(?:impacket-[a-z0-9]+|(?:psexec|smbexec|wmiexec|atexec|dcomexec|secretsdump|getTGT|getST|GetUserSPNs|GetNPUsers|mssqlclient|lookupsid|rpcdump|smbclient|ticketer|addcomputer)\\.py)')}${CLI_ARGS}['"]?(?:[^\\s/:@'"]{1,64}/)?[^\\s/:@'"]{1,64}:`,
    pattern: `[^\\s'"]{1,256}(?=@)`,
    accept: cliValue,
  },
];

/** Passwords some tools take as a word after the command: `nmcli … password PW` (and `wifi-sec.psk PW`), `mysqladmin … password PW`, `influx -password PW`, `aws configure set aws_secret_access_key VALUE`. */
const wordPasswords: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /nmcli|mysqladmin|influx|aws[ \t]+configure/i,
  prefix: `(?:${word('nmcli')}${CLI_ARGS}(?:password|wifi-sec\\.psk|802-1x\\.password)${BLANKS}|${word('mysqladmin')}${CLI_ARGS}password${BLANKS}|${word('influx')}${CLI_ARGS}-password${BLANKS}|${word('aws')}[ \\t]+configure[ \\t]+set[ \\t]+${KEY_NAME}[ \\t]+)`,
  pattern: CLI_VALUE,
  accept: (value, prefix) => {
    if (!cliValue(value)) return false;
    const key = /configure[ \t]+set[ \t]+(\S+)/i.exec(prefix)?.[1];
    return key === undefined || secretKeyStrength(key) !== undefined;
  },
};

/** Protocol transcripts (`curl -v`, a mail or FTP client's log): FTP's `PASS pw`, IMAP's `a001 LOGIN user pw`. */
const transcriptPasswords: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /PASS[ \t]|[ \t]LOGIN[ \t]/,
  prefix: `${LINE_START}(?:[<>][ \\t]?|[CS]:[ \\t]?|-> )?(?:PASS[ \\t]+|[A-Za-z0-9.]{1,12}[ \\t]+LOGIN[ \\t]+(?:"[^"\\r\\n]{1,128}"|[^\\s"]{1,128})[ \\t]+)`,
  pattern: `(?:"[^"\\r\\n]{1,512}"|[^\\s"]{1,512})`,
  // (A test runner's `PASS src/app.test.ts (5.2 s)` is a result: a source file's path, or a duration after it.)
  accept: (value, _prefix, input, offset) => cliValue(value) && !/^\*+$/.test(unquote(value)) && !TEST_RESULT_AFTER.test(input.slice(offset + value.length, offset + value.length + 24)) && !/\/[\w.-]+\.[cm]?[jt]sx?$|\.(?:test|spec)\.[a-z]{1,4}$/.test(value),
};

/** What follows a test's name in a runner's result line: its duration (`(5.2 s)`, `(0.01s)`, `(12 ms)`). */
const TEST_RESULT_AFTER = /^[ \t]+\(\d+(?:\.\d+)?[ \t]*m?s\)/;

/** SMTP's `AUTH PLAIN <base64 of \0user\0password>` (and `AUTH LOGIN`'s lines), as a mail log or a session transcript shows it. */
const smtpAuth: Detector = {
  kind: 'auth-header',
  phase: 3,
  hint: /AUTH[ \t]+(?:PLAIN|LOGIN)/i,
  prefix: `${word('AUTH')}[ \\t]+(?:PLAIN|LOGIN)[ \\t]+`,
  pattern: `[A-Za-z0-9+/]{8,4096}={0,2}`,
};

/**
 * Secrets in device and daemon configs, each a directive that opens its line: Redis's `requirepass` and
 * `masterauth`, Cisco's `enable secret`, `username … password 0 …`, `snmp-server community`, `tacacs-server key`,
 * `crypto isakmp key`, `key-string`, `pre-shared-key`, HAProxy's `insecure-password`, and ipsec.secrets' `: PSK "…"`.
 */
const directiveSecret: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /requirepass|masterauth|enable[ \t]+(?:password|secret)|username[ \t]|password[ \t]+\d[ \t]|community|-server[ \t]|isakmp|key-string|pre-shared-key|insecure-password|:[ \t]*(?:PSK|XAUTH|EAP)[ \t]/i,
  prefix: `(?:${LINE_START}[ \\t]{0,40}(?:requirepass|masterauth|enable[ \\t]+(?:password|secret)(?:[ \\t]+level[ \\t]+\\d{1,2})?(?:[ \\t]+\\d)?|username[ \\t]+[^\\s]{1,64}(?:[ \\t]+privilege[ \\t]+\\d{1,2})?[ \\t]+(?:password|secret)(?:[ \\t]+\\d)?|password[ \\t]+\\d|snmp-server[ \\t]+community|(?:tacacs|radius)-server(?:[ \\t]+host[ \\t]+[^\\s]{1,128})?[ \\t]+key(?:[ \\t]+\\d)?|crypto[ \\t]+isakmp[ \\t]+key(?:[ \\t]+\\d)?|key-string(?:[ \\t]+\\d)?|pre-shared-key(?:[ \\t]+(?:ascii|hex|\\d))?|user[ \\t]+[^\\s]{1,64}[ \\t]+insecure-password)|${LINE_START}(?:[^\\r\\n:"[]|\\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\\]){0,128}:[ \\t]*(?:PSK|XAUTH|EAP))[ \\t]+`,
  pattern: CLI_VALUE,
  // (`Username or password too long`: prose, no `username NAME password …` directive.)
  accept: (value, prefix) => !/username[ \t]+(?:or|and|and\/or|nor)[ \t]/i.test(prefix) && cliValue(value),
};

/** An Authorization header set in a server's config (nginx's `proxy_set_header Authorization "Basic …"`, Apache's `RequestHeader set Authorization …`). */
const authorizationDirective: Detector = {
  kind: 'auth-header',
  phase: 3,
  hint: /authorization[ \t]/i,
  prefix: `${word('authorization')}[ \\t]+\\\\?["']?(?:basic|bearer|token|digest|negotiate|ntlm)[ \\t]+`,
  pattern: `[A-Za-z0-9._~+/=-]{8,4096}`,
  accept: (value) => secretLooking(value) && !isPlaceholder(value),
};

/** A password an expect script sends at a password prompt (`expect "password:"⏎send "…\\r"`). */
const expectSend: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /send[ \t]/,
  prefix: `${word('expect')}[ \\t]+(?:-[a-z]+[ \\t]+)?\\\\?["'{][^"'{}\\r\\n]{0,80}(?:password|passphrase|passcode|pin|PASSCODE)[^"'{}\\r\\n]{0,40}\\\\?["'}](?:[ \\t]*(?:\\r?\\n|\\\\n|;)[ \\t]*|[ \\t]*\\{[ \\t]*)send[ \\t]+(?:--[ \\t]+)?\\\\?["']`,
  pattern: `(?:[^"'\\\\\\r\\n]|\\\\(?![rn"']))${'{1,512}'}`,
  accept: (value) => !isPlaceholder(value) && !value.startsWith('$'),
};

/** A .NET RSA key written as XML (`<RSAKeyValue>…<P>…</P>…<D>…</D>`): its private parts. */
const rsaKeyValue: Detector = {
  kind: 'private-key',
  phase: 3,
  hint: /<RSAKeyValue>/,
  prefix: `<(?:P|Q|DP|DQ|InverseQ|D)>`,
  pattern: `[A-Za-z0-9+/=\\s]{8,8192}(?=</)`,
  accept: (_value, _prefix, input, offset) => input.lastIndexOf('<RSAKeyValue>', offset) > input.lastIndexOf('</RSAKeyValue>', offset),
};

/**
 * Credentials passed by position to a call that signs in or connects (`server.login("me", "…")`,
 * `DriverManager.getConnection(url, "sa", "…")`, `mysqli_connect("localhost", "root", "…", "db")`,
 * `new NetworkCredential("admin", "…")`, `db.auth("admin", "…")`, `ssh.connect("host", 22, "root", "…")`):
 * the string after the user's name (the third string of a connect that names its host first).
 */
const CREDENTIAL_CALL = /(?<![\w$])(login|logon|signin|signIn|sign_in|auth|authenticate|connect|getConnection|mysqli_connect|mysql_connect|mysqli|NetworkCredential|PasswordAuthentication|UsernamePasswordCredentials|UsernamePasswordAuthenticationToken|PSCredential|SqlCredential|Credential|HTTPBasicAuth|HTTPDigestAuth|BasicAuth|basicAuth|bind|simple_bind_s|bind_s|PDO)[ \t]*\(/g;
/** Whether such a call stands in the text: each `(` is looked back from (a text holds far fewer of them than characters). */
function credentialCallIn(value: string): boolean {
  let n = 0;
  for (let i = value.indexOf('('); i >= 0 && n < 2_000; i = value.indexOf('(', i + 1), n++) {
    if (CREDENTIAL_CALLED.test(value.slice(Math.max(0, i - 40), i))) return true;
  }
  // (Past so many, the scan itself looks: it reads each stretch once.)
  return n >= 2_000;
}
const CREDENTIAL_CALLED = new RegExp(`(?:${CREDENTIAL_CALL.source.replace('[ \\t]*\\(', '')})[ \\t]*$`);
const USER_NAME = /^(?:[A-Za-z0-9._@+\\-]{1,64}|\[MASKED:email:[0-9a-f]{8}\])$/;
export function findCallCredentials(value: string, onRead?: (chars: number) => void): [number, number][] {
  const found: [number, number][] = [];
  CREDENTIAL_CALL.lastIndex = 0;
  // (A call inside another's arguments was read with them: each stretch of text is read once, `auth(` a
  // million times over as well.)
  let read = 0;
  for (let m = CREDENTIAL_CALL.exec(value); m !== null; m = CREDENTIAL_CALL.exec(value)) {
    if (m.index < read) continue;
    const { strings, end } = callStrings(value, m.index + m[0].length);
    onRead?.(end - m.index);
    read = end;
    const connect = /connect|bind|PDO/i.test(m[1] as string);
    const at = connect && strings.length >= 3 ? 2 : 1;
    const secret = strings[at];
    const user = strings[at - 1];
    if (!secret || !user || !USER_NAME.test(user.text)) continue;
    const v = secret.text;
    if (v.length < 3 || isPlaceholder(v) || looksLikeCode(v) || /^[a-z][a-z0-9+.-]*:\/\//i.test(v) || /^\$\{?[A-Za-z_]/.test(v)) continue;
    found.push([secret.start, secret.end]);
  }
  return found;
}
/** The string literals among a call's arguments (from just after its `(`), up to its `)`: each one's text and span. */
function callStrings(value: string, from: number): { strings: { text: string; start: number; end: number }[]; end: number } {
  const strings: { text: string; start: number; end: number }[] = [];
  let depth = 0;
  const limit = Math.min(value.length, from + 1024);
  let i = from;
  for (; i < limit && strings.length < 8 && depth <= 3; i++) {
    const c = value[i] as string;
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (depth === 0) break;
      depth--;
    } else if ((c === '"' || c === "'") && depth === 0) {
      // (JSON written as text escapes the quotes: `\\"…\\"`.)
      const escaped = value[i - 1] === '\\';
      const close = escaped ? value.indexOf(`\\${c}`, i + 1) : value.indexOf(c, i + 1);
      if (close < 0 || close > limit) break;
      const text = value.slice(i + 1, close);
      if (/[\r\n]/.test(text)) break;
      strings.push({ text, start: i + 1, end: close });
      i = close + (escaped ? 1 : 0);
    } else if (c === ';' || c === '\n') break;
  }
  return { strings, end: i };
}

/**
 * A password named in prose or a two-column table, its value after it: `the password is "…"`, `password -> …`,
 * `| password | … |`, `Password⇥…`, `password,…`. Only a password's name (a token's or a key's, far more often
 * prose about them, would cost every text a search), and a value that looks like a secret
 * (`the password is required`, `| password | description |`, `password,confirm_password` are not).
 */
const SAID_SEPARATOR = `(?:[ \\t]+(?:is|was)(?:[ \\t]*:)?[ \\t]+(?:now[ \\t]+)?|[ \\t]*(?:->|→|=>)[ \\t]*|[ \\t]*\\|[ \\t]*|\\t|,[ \\t]?)`;
const saidSecret: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /pass(?:w|phrase|code)[a-z]{0,6}(?:[ \t]+(?:is|was)[ \t:]|[ \t]*(?:->|→|=>|\||,)|\t)/i,
  prefix: `(?<![A-Za-z0-9_.-])${KEY_NAME}${SAID_SEPARATOR}["'\`]?`,
  pattern: `[^\\s'"\`|,]{0,255}[^\\s'"\`|,.;:!?)]`,
  accept: (value, prefix, input, offset) => {
    const name = /^[A-Za-z0-9_.-]+/.exec(prefix)?.[0] ?? '';
    // (`#define NSS_BUFLEN_PASSWD⇥1024`: a C macro's constant; a string is the other rule's.)
    if (/(?:^|\n)[ \t]*#[ \t]*define[ \t]+$/.test(input.slice(Math.max(0, offset - prefix.length - 40), offset - prefix.length))) return false;
    if (!/pass(?:w|phrase|code)/i.test(name) || secretKeyStrength(name) !== 'strong' || isPlaceholder(value) || looksLikeCode(value) || nameOfASecret(value) || (!/\d/.test(value) && secretKeyStrength(value) !== undefined)) return false;
    const before = input.slice(Math.max(0, offset - prefix.length - 2), offset - prefix.length);
    // (`The passphrase is AES-256 encrypted`, `password is SHA256-salted`: how it is kept, an algorithm's name.)
    if (/^(?:AES|SHA|MD5|RSA|HMAC|bcrypt|scrypt|argon2(?:id|i|d)?|PBKDF2|ChaCha20|Blowfish|DES|3DES)(?:[-_]?\d{1,4})?(?:[-_][A-Za-z]+)?$/i.test(value)) return false;
    // After a comma, a list's next item: a call's arguments or an object's names in code (`Buffer.from(password, "utf-8")`,
    // `{ cscKeyPassword, cscILink }`), a word of prose (`username and password, respectively`); `password,Xq7mP2vLk9w` is a value.
    if (/,[ \t]?["'`]?$/.test(prefix) && (/[(,{[=][ \t]*$/.test(before) || /^[A-Za-z]+$/.test(value))) return false;
    // (`{{ .Values.db.password | b64enc }}`: a template's pipeline, Helm's and Go's, the value its next function.)
    if (/\|[ \t]*$/.test(prefix) && /\{\{[^}]*$/.test(input.slice(Math.max(0, offset - prefix.length - 120), offset - prefix.length))) return false;
    // (`/TOKEN|SECRET|PASSWORD|CREDENTIAL/i`: a pattern's alternatives.)
    if (/[A-Za-z0-9_.-]\|["'`]?$/.test(prefix) && /[|(/]$/.test(before)) return false;
    // (Quoted, it is given as a value; bare, it must look like one, and not like another column's name.)
    return /["'`]$/.test(prefix) ? value.length >= 3 : secretLooking(value) && !/^[a-z]+(?:[_-][a-z]+)+$/.test(value);
  },
};

/** Where each line of a text starts and ends (without its `\r\n` or `\n`), at most 100,000 lines. */
function lineSpans(value: string): [number, number][] {
  const lines: [number, number][] = [];
  for (let start = 0; start <= value.length && lines.length < 100_000; ) {
    const nl = value.indexOf('\n', start);
    const end = nl < 0 ? value.length : nl;
    lines.push([start, end > start && value.charCodeAt(end - 1) === 13 ? end - 1 : end]);
    if (nl < 0) break;
    start = nl + 1;
  }
  return lines;
}

/** A list-mode head (sqlite3 `.headers on`): two to twelve bare column names joined by `|`. */
const LIST_MODE_HEAD = /^[A-Za-z_][A-Za-z0-9_]{0,40}(?:\|[A-Za-z_][A-Za-z0-9_]{0,40}){1,11}\r?$/;
/** A table's rule under its head: Markdown's `|---|`, or the `+------+` a SQL shell draws (mysql, psql's ascii border). */
const TABLE_RULE = /^[ \t]*(?:\|?[ \t]*:?-{3,}|\+-{3,})/;
/** A table (Markdown, CSV, TSV, a SQL shell's box) with a column a strong secret name heads: that column's cells, row by row. */
const TABLE_WORD = /pass|secret|token|key|pwd|pin/i;
const SQL_ROWS = /\b(?:(INSERT)[ \t\r\n]+INTO|(COPY))[ \t\r\n]+([\w."`[\]]{1,200})[ \t\r\n]*(?:\(([^()]{1,4000})\)[ \t\r\n]*)?(?:VALUES[ \t\r\n]*|FROM[ \t]+stdin;?[ \t]*\r?\n)/gi;
/**
 * A table's columns as its CREATE TABLE earlier in the text gives them (mysqldump writes INSERTs without a column
 * list, after the table's definition): the first name of each definition that is no key or constraint.
 */
function createdColumns(value: string, before: number, table: string): string | undefined {
  const name = table.replace(/["`[\]]/g, '').split('.').pop() as string;
  const head = new RegExp(`CREATE[ \\t]+TABLE[ \\t]+(?:IF[ \\t]+NOT[ \\t]+EXISTS[ \\t]+)?(?:[\\w"\`[\\]]+\\.)?["\`[]?${name.replace(/[^\w]/g, '')}["\`\\]]?[ \\t]*\\(`, 'gi');
  let at = -1;
  for (let m = head.exec(value); m !== null && m.index < before; m = head.exec(value)) at = m.index + m[0].length;
  if (at < 0) return undefined;
  const names: string[] = [];
  let depth = 0;
  let item = '';
  for (let i = at; i < Math.min(value.length, at + 20_000); i++) {
    const c = value[i] as string;
    if (c === '(') depth++;
    else if (c === ')' && depth-- === 0) {
      names.push(item);
      break;
    }
    if (c === ',' && depth === 0) {
      names.push(item);
      item = '';
    } else item += c;
  }
  const columns = names.map((d) => d.trim()).filter((d) => !/^(?:PRIMARY|KEY|UNIQUE|CONSTRAINT|INDEX|FOREIGN|CHECK|FULLTEXT|SPATIAL)\b/i.test(d)).map((d) => /^["`[]?([^"`\]\s]+)/.exec(d)?.[1] ?? '');
  return columns.join(',');
}
/** The columns of a statement's list that name a secret, by position (`id, email, password` → [2]). */
function secretColumns(list: string): number[] {
  return list.split(',').flatMap((c, i) => (secretKeyStrength(c.trim().replace(/^["`[]|["`\]]$/g, '')) !== undefined ? [i] : []));
}
/**
 * Rows of a database dump whose columns are named (an INSERT with its column list, pg_dump's COPY … FROM stdin): in
 * each row, the values of the columns named for a secret (`password`, `api_key`) — a quoted string's content, or a
 * COPY row's field — whatever they look like; NULL, `\N` and empty ones are none.
 */
export function findSqlRowSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  // (Each table's definition looked for once: a dump holds thousands of INSERTs into a few tables.)
  const created = new Map<string, string | undefined>();
  SQL_ROWS.lastIndex = 0;
  for (let m = SQL_ROWS.exec(value), n = 0; m !== null && n < 1000; m = SQL_ROWS.exec(value), n++) {
    const table = m[3] as string;
    if (!m[4] && m[1] && !created.has(table)) created.set(table, createdColumns(value, m.index, table));
    const list = m[4] ?? (m[1] ? created.get(table) : undefined);
    if (list === undefined) continue;
    const columns = secretColumns(list);
    if (columns.length === 0) continue;
    let at = m.index + m[0].length;
    if (m[2]) {
      // COPY: a row a line, its fields tab-separated, to `\.`.
      for (let rows = 0; rows < 100_000 && at < value.length; rows++) {
        const nl = value.indexOf('\n', at);
        const end = nl < 0 ? value.length : nl;
        const row = value.slice(at, end).replace(/\r$/, '');
        if (row === '\\.' || row === '') break;
        const fields = row.split('\t');
        let start = at;
        for (let i = 0; i < fields.length; i++) {
          const f = fields[i] as string;
          if (columns.includes(i) && f !== '\\N' && f !== '' && !isPlaceholder(f)) found.push([start, start + f.length]);
          start += f.length + 1;
        }
        at = end + 1;
      }
      continue;
    }
    // INSERT: tuples of values, strings quoted with '' as their quote's escape.
    for (let tuples = 0; tuples < 10_000 && value[at] === '('; tuples++) {
      let i = at + 1;
      let column = 0;
      for (let guard = 0; guard < 100_000 && i < value.length && value[i] !== ')'; guard++) {
        while (value[i] === ' ' || value[i] === '\t' || value[i] === '\n' || value[i] === '\r') i++;
        if (value[i] === "'") {
          let j = i + 1;
          while (j < value.length && !(value[j] === "'" && value[j + 1] !== "'")) j += value[j] === "'" || value[j] === '\\' ? 2 : 1;
          if (columns.includes(column) && j > i + 1 && !isPlaceholder(value.slice(i + 1, j))) found.push([i + 1, j]);
          i = j + 1;
        } else {
          while (i < value.length && value[i] !== ',' && value[i] !== ')') i++;
        }
        while (value[i] === ' ' || value[i] === '\t') i++;
        if (value[i] === ',') {
          i++;
          column++;
        } else if (value[i] !== ')') break;
      }
      if (value[i] !== ')') break;
      at = i + 1;
      while (value[at] === ' ' || value[at] === '\t' || value[at] === '\n' || value[at] === '\r' || value[at] === ',') at++;
    }
  }
  return found;
}

export function findTableSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  const lines = lineSpans(value);
  for (let i = 0; i < lines.length - 1; i++) {
    const [from, to] = lines[i] as [number, number];
    const head = value.slice(from, to);
    if (!TABLE_WORD.test(head)) continue;
    const sep = head.includes('|') ? '|' : head.includes('\t') ? '\t' : ',';
    // (A head of names holds no brackets, `;` or `=`: a line of code is no head; tried before its cells are read.)
    if (sep !== '|' && /[(){};=]/.test(head)) continue;
    // A head is a table's first row: in Markdown, the one above its |---| row; otherwise the first line of a block.
    const below = lines[i + 1] ? value.slice((lines[i + 1] as [number, number])[0], (lines[i + 1] as [number, number])[1]) : '';
    // (A `|` table is Markdown's, with its rule below the head, or a SQL shell's list mode, sqlite3's `user|password`:
    // a head of bare column names between bars, no outer bars.)
    if (sep === '|' ? !TABLE_RULE.test(below) && !LIST_MODE_HEAD.test(head) : i > 0 && value.slice(...(lines[i - 1] as [number, number])).trim() !== '') continue;
    // (A head's name is never empty: tabs in a row there pad the columns, `influx auth list`'s.)
    const padded = sep === '\t' && head.includes('\t\t');
    const names = tableCells(head, sep, 0, padded);
    // (A column's name: a word or two, `password`, `API Key`; not a sentence that mentions one.)
    const columns = names.flatMap((c, n) => (/^[A-Za-z][A-Za-z0-9_.-]{0,40}(?: [A-Za-z0-9_.-]{1,20})?$/.test(c.text) && secretKeyStrength(c.text) === 'strong' ? [n] : []));
    // (A column a weak name heads, `Token`, `Session`: only its cells that are random enough to be one, `influx auth list`'s tokens.)
    const weakColumns = names.flatMap((c, n) => (/^[A-Za-z][A-Za-z0-9_.-]{0,40}(?: [A-Za-z0-9_.-]{1,20})?$/.test(c.text) && secretKeyStrength(c.text) === 'weak' ? [n] : []));
    columns.push(...weakColumns);
    if (columns.length === 0 || names.length < 2) continue;
    // (Every cell of a head is a column's name: `def connect_ftp(self, user, passwd, host):` is a line of code.)
    if (sep !== '|' && !names.every((c) => /^[A-Za-z_"'][\w .'"#/-]{0,60}$/.test(c.text.trim()) || c.text.trim() === '')) continue;
    let j = i + 1;
    for (; j < lines.length; j++) {
      const [rf, rt] = lines[j] as [number, number];
      const row = value.slice(rf, rt);
      if (sep === '|' && TABLE_RULE.test(row)) continue;
      const cells = tableCells(row, sep, rf, padded);
      if (cells.length !== names.length) break;
      for (const n of columns) {
        const cell = cells[n] as { text: string; start: number; end: number };
        if (weakColumns.includes(n) && !(cell.text.length >= 20 && !/\s/.test(cell.text) && /\d/.test(cell.text) && /[A-Za-z]/.test(cell.text) && new Set(cell.text).size >= 12)) continue;
        if (cell.text.length >= 3 && !isPlaceholder(cell.text)) found.push([cell.start, cell.end]);
      }
    }
    i = j - 1;
  }
  return found;
}
/**
 * The items of a list written in one line under a key that names a secret (YAML's flow sequence `passwords:
 * [a, b]`, a Python or JS array `API_KEYS = ['…', '…']`, key bytes `encryption_key = [121, 66, …]`): each item,
 * not only the first (and the bracket is no part of any). Items that are names (`["password", "confirm_password"]`),
 * placeholders, or identifiers in code are left; numbers only where there are enough of them to be a key's bytes.
 */
// (And a set's or a list's constructor around it: `new Set([…])`, `set({…})`, `Set.of(…)`, `listOf(…)`; a set literal `{"…", "…"}`.)
// (The search begins at the separator, the key read back from it: a pattern that began with the key's class would be
// tried at every character of every text.)
// (And a key's bytes as C, Go, Rust, Java, Node and Python write them: `key[16] = {0x4b, …}`, `key := []byte{…}`,
// `key: [u8; 16] = […]`, `new byte[] {…}`, `Buffer.from([…])`, `bytes([…])`.)
const FLOW_OPEN = /(?<=[A-Za-z0-9_.-]["']?)(?:\[[ \t]*[A-Za-z0-9_]{0,16}[ \t]*\])?(?:[ \t]*:[ \t]*(?:[A-Za-z_][\w.<>[\]]{0,40}|&?\[[ \t]*u8[ \t]*(?:;[ \t]*\d{1,5}[ \t]*)?\]))?[ \t]*(?::=|[:=])[ \t]*(?:new[ \t]+Set[ \t]*\([ \t]*|(?:frozen)?set\([ \t]*|(?:Set|List)\.of\(|Arrays\.asList\(|(?:list|set|mutableList|mutableSet)Of\(|\[\](?:byte|uint8)|new[ \t]+byte[ \t]*\[[ \t]*\d{0,5}[ \t]*\][ \t]*|Buffer\.from\(|(?:bytes|bytearray)\(|(?:new[ \t]+)?Uint8Array(?:\.from)?\(|&|vec!)?([[{(])(?!MASKED:)/g;
export function findFlowListSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  FLOW_OPEN.lastIndex = 0;
  for (let m = FLOW_OPEN.exec(value), n = 0; m !== null && n < 10_000; m = FLOW_OPEN.exec(value), n++) {
    let k = m.index - (value[m.index - 1] === '"' || value[m.index - 1] === "'" ? 1 : 0);
    const keyEnd = k;
    while (k > 0 && keyEnd - k < 80 && keyCharAt(value, k - 1)) k--;
    const key = memberKey(value.slice(k, keyEnd)) as string;
    const strength = secretKeyStrength(key);
    if (!strength) continue;
    const open = m.index + m[0].length;
    const closer = m[1] === '{' ? '}' : m[1] === '(' ? ')' : ']';
    // The items' ends: commas outside quotes and brackets (a token masked already, `[MASKED:…]`, is one item), to the list's `]` on its line.
    const ends: number[] = [];
    let quote = '';
    let depth = 0;
    let close = -1;
    for (let i = open; i < value.length && i - open <= 4096; i++) {
      const c = value[i] as string;
      if (c === '\n' || c === '\r') break;
      if (quote) {
        if (c === quote && value[i - 1] !== '\\') quote = '';
      } else if (c === '"' || c === "'" || c === '`') quote = c;
      else if (c === '[' || c === '{' || c === '(') depth++;
      else if ((c === ']' || c === '}' || c === ')') && depth > 0) depth--;
      else if (c === closer) {
        close = i;
        break;
      } else if (c === ',' && depth === 0) ends.push(i);
    }
    if (close < 0) continue;
    // (A set literal of strings, not an object: no `key: value` in it.)
    if (closer !== ']' && /^[ \t]*[A-Za-z_$"'][^,]*?:/.test(value.slice(open, close)) && !/^[ \t]*["'][^"']*["'][ \t]*(?:,|$)/.test(value.slice(open, close))) continue;
    ends.push(close);
    const items: { text: string; start: number; quoted: boolean }[] = [];
    for (let k = 0, at = open; k < ends.length && items.length < 256; k++) {
      const end = ends[k] as number;
      const raw = value.slice(at, end);
      const lead = raw.length - raw.trimStart().length;
      let text = raw.trim();
      let start = at + lead;
      const quoted = /^(["'`]).*\1$/.test(text) && text.length >= 2;
      if (quoted) {
        text = text.slice(1, -1);
        start++;
      }
      items.push({ text, start, quoted });
      at = end + 1;
    }
    // (A set of braces or a constructor's arguments: only strings, `{"…", "…"}`; `f"token={token!r}"` is a format field.
    // Or a key's bytes, `{0x4b, 0x39, …}`.)
    if (closer !== ']' && !items.every((i) => i.quoted || i.text === '' || /^\[.*\]$/.test(i.text)) && !items.every((i) => BYTE_ITEM.test(i.text) || i.text === '')) continue;
    const numbers = items.filter((i) => BYTE_ITEM.test(i.text)).length;
    // (A secret written a character at a time, Java's `char[] password = {'o', 'T', …}`: the characters are the secret.)
    if (items.length >= 6 && items.every((i) => i.quoted && i.text.length === 1)) {
      found.push([(items[0] as { start: number }).start, (items.at(-1) as { start: number }).start + 1]);
      continue;
    }
    const code = codeNearby(value, m.index);
    for (const item of items) if (listItemSecret(item.text, item.quoted, strength, code, numbers >= 8)) found.push([item.start, item.start + item.text.length]);
  }
  return found;
}

/** A list's item that is one byte of a key written as a number (`121`, `0x79`). */
const BYTE_ITEM = /^(?:0x[0-9A-Fa-f]{1,2}|\d{1,3})$/;
/** Whether a `[` stands that opens no token masking wrote (found with indexOf: a regex with a lookahead tries every character). */
function bracketNotToken(v: string): boolean {
  for (let i = v.indexOf('['); i >= 0; i = v.indexOf('[', i + 1)) if (!v.startsWith('MASKED:', i + 1)) return true;
  return false;
}

/** Whether an item of a list under a secret-named key is a secret (see findFlowListSecrets). */
function listItemSecret(t: string, quoted: boolean, strength: 'strong' | 'weak', code: boolean, bytes: boolean): boolean {
  // (Not a token masking wrote, with its hash or without, nor a list or an object inside the list.)
  if (t === '' || /^\[MASKED:[a-z0-9-]+(?::[0-9a-f]{8})?\]$/.test(t) || /^[[{]/.test(t) || isPlaceholder(t, quoted) || nameOfASecret(t)) return false;
  if (BYTE_ITEM.test(t)) return bytes;
  if (!quoted && (looksLikeCode(t) || (code && /^[A-Za-z_$][\w$.]*$/.test(t)))) return false;
  // (A list of words or of variables' names is a vocabulary, `['psk', 'requirepass']`, `["DB_PASSWORD", "API_KEY"]`: the
  // keys and tokens a list holds are random.)
  if (/^[A-Za-z]+$/.test(t) || /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(t)) return false;
  if (strength === 'weak') return secretLooking(t) && !/\s/.test(t) && !WORDS_AND_NUMBER.test(t);
  return t.length >= 3;
}

/**
 * A YAML block sequence under a key that names a secret (`tokens:⏎  - …⏎  - …`, a rotation's list of keys): each
 * item, by the rules of a list's items (see findFlowListSecrets).
 */
export function findBlockListSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  const lines = lineSpans(value);
  for (let i = 0; i < lines.length - 1; i++) {
    const head = /^([ \t]*)(?:-[ \t]+)?["']?([A-Za-z0-9_.-]{1,80})["']?:[ \t]*(?:#.*)?$/.exec(value.slice(...(lines[i] as [number, number])));
    if (!head) continue;
    const strength = secretKeyStrength(memberKey(head[2] as string) as string);
    if (!strength) continue;
    const level = (head[1] as string).length;
    for (let j = i + 1; j < lines.length; j++) {
      const [from, to] = lines[j] as [number, number];
      const line = value.slice(from, to);
      if (line.trim() === '' || /^[ \t]*#/.test(line)) continue;
      const item = /^([ \t]*)-[ \t]+(.*?)[ \t]*(?:[ \t]#.*)?$/.exec(line);
      if (!item || (item[1] as string).length < level) break;
      let text = item[2] as string;
      let start = from + line.indexOf(text, (item[1] as string).length + 1);
      const quoted = /^(["']).*\1$/.test(text) && text.length >= 2;
      if (quoted) {
        text = text.slice(1, -1);
        start++;
      }
      if (listItemSecret(text, quoted, strength, false, false)) found.push([start, start + text.length]);
      i = j;
    }
  }
  return found;
}

/** A YAML document's `kind: Secret` line (Kubernetes), at the start of its line. */
const MANIFEST_KIND = /(?:^|\n)kind:[ \t]*["']?Secret["']?[ \t]*(?:#.*)?\r?(?:\n|$)/;
/**
 * A Kubernetes Secret written as YAML (a manifest, `kubectl get secret -o yaml`, a Helm chart's output): in each
 * document (between `---` lines) whose `kind` is `Secret`, every value under its `data:` and `stringData:` keys,
 * whatever the key is called — each `key: value` one level in, and the lines of a block scalar (`key: |`) below it.
 */
export function findManifestSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  const lines = lineSpans(value);
  const indent = (line: string) => line.length - line.trimStart().length;
  for (let doc = 0; doc < lines.length; ) {
    let end = doc;
    while (end < lines.length && !(end > doc && /^---(?:[ \t]|$)/.test(value.slice(...(lines[end] as [number, number]))))) end++;
    const text = (i: number) => value.slice(...(lines[i] as [number, number]));
    let secret = false;
    for (let i = doc; i < end && !secret; i++) secret = /^kind:[ \t]*["']?Secret["']?[ \t]*(?:#.*)?$/.test(text(i));
    for (let i = doc; secret && i < end; i++) {
      const head = /^([ \t]*)(?:data|stringData):[ \t]*(?:#.*)?$/.exec(text(i));
      if (!head) continue;
      const level = (head[1] as string).length;
      let blockAbove: number | undefined;
      for (let j = i + 1; j < end; j++) {
        const line = text(j);
        if (line.trim() === '' || /^[ \t]*#/.test(line)) continue;
        const at = indent(line);
        if (at <= level) break;
        const [from] = lines[j] as [number, number];
        if (blockAbove !== undefined && at > blockAbove) {
          found.push([from + at, from + line.trimEnd().length]);
          continue;
        }
        blockAbove = undefined;
        const pair = /^([ \t]*)(?:"[^"]*"|'[^']*'|[^\s:#][^:#]*?):[ \t]+(.*?)[ \t]*(?:[ \t]#.*)?$/.exec(line);
        if (!pair) continue;
        const v = pair[2] as string;
        if (/^[|>][-+0-9]*$/.test(v)) blockAbove = at;
        else if (v !== '' && !isPlaceholder(v.replace(/^(["'])(.*)\1$/, '$2'))) {
          const start = from + line.lastIndexOf(v, line.length - (line.length - line.trimEnd().length));
          const quoted = /^(["']).*\1$/.test(v);
          found.push(quoted ? [start + 1, start + v.length - 1] : [start, start + v.length]);
        }
      }
    }
    doc = end === doc ? doc + 1 : end;
  }
  return found;
}

/**
 * A table drawn with box characters (`doppler secrets`, `infisical export --format table`, many CLIs' pretty
 * output): a row whose first cell names a secret strongly has its second cell masked (`│ DB_PASSWORD │ … │`), and
 * under a head row, the cells of a column a strong secret name heads (`│ user │ password │`).
 */
export function findBoxTableSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  let columns: number[] = [];
  let at = 0;
  for (let rows = 0; at <= value.length && rows < 100_000; rows++) {
    const nl = value.indexOf('\n', at);
    const end = nl < 0 ? value.length : nl;
    const row = value.slice(at, end);
    const first = row.indexOf('│');
    if (first < 0 || row.slice(0, first).trim() !== '') {
      // (A rule line keeps the columns named above it; anything else ends the table.)
      if (/[A-Za-z0-9]/.test(row)) columns = [];
    } else {
      const cells: { text: string; start: number }[] = [];
      for (let i = first; i >= 0; ) {
        const next = row.indexOf('│', i + 1);
        if (next < 0) break;
        const raw = row.slice(i + 1, next);
        const lead = raw.length - raw.trimStart().length;
        cells.push({ text: raw.trim(), start: at + i + 1 + lead });
        i = next;
      }
      const strongAt = cells.flatMap((c, n) => (/^[A-Za-z][A-Za-z0-9_. -]{0,60}$/.test(c.text) && secretKeyStrength(c.text) === 'strong' ? [n] : []));
      if (cells.length >= 2 && strongAt[0] === 0 && cells[1] && cells[1].text.length >= 3 && !isPlaceholder(cells[1].text) && secretKeyStrength(cells[1].text) === undefined) {
        found.push([cells[1].start, cells[1].start + cells[1].text.length]);
      } else if (strongAt.length > 0 && cells.every((c) => c.text === '' || /^[A-Za-z][A-Za-z0-9_ -]{0,40}$/.test(c.text))) {
        columns = strongAt; // a head row
      } else {
        for (const n of columns) {
          const c = cells[n];
          if (c && c.text.length >= 3 && !isPlaceholder(c.text)) found.push([c.start, c.start + c.text.length]);
        }
      }
    }
    if (nl < 0) break;
    at = nl + 1;
  }
  return found;
}

/**
 * A line `key: …` or `secret = …` that is a credential by its owner: under a YAML mapping or in a TOML table named for
 * a scheme or a service (`jwt:⏎  key: …`, `[hmac]⏎key = …`), as `{"Jwt": {"Key": …}}` is in JSON. The owner is the
 * nearest line above with less indentation that opens a mapping, or the nearest table header.
 */
export function findOwnedKeyLines(value: string): [number, number][] {
  const found: [number, number][] = [];
  const line = /(?:^|\n)([ \t]*)(?:key|secret|Key|Secret)[ \t]*[:=][ \t]*(["']?)([^\s"'#][^\r\n"'#]{0,1023}?)\2[ \t]*(?=\r?\n|$|#)/dg;
  // (The owner found for the line before, when at the same indentation: lines between it and this one that open
  // nothing share it, so each line is read once however many keys stand under one owner.)
  let prev: { at: number; indent: number; owned: boolean } | undefined;
  for (let m = line.exec(value); m !== null; m = line.exec(value)) {
    const indent = (m[1] as string).length;
    const [start, end] = (m.indices as RegExpIndicesArray)[3] as [number, number];
    const lineStart = (m.indices as RegExpIndicesArray)[1]?.[0] ?? m.index;
    const owned = ownerAbove(value, lineStart, indent, prev);
    prev = { at: lineStart, indent, owned };
    const secret = value.slice(start, end);
    if (owned && secret.length >= 4 && !isPlaceholder(secret)) found.push([start, end]);
  }
  return found;
}
/** Whether the mapping or table a line at `at` (indented `indent`) belongs to is named for a key's owner. */
function ownerAbove(value: string, at: number, indent: number, prev: { at: number; indent: number; owned: boolean } | undefined): boolean {
  let end = at - 1;
  for (let lines = 0; lines < 200 && end > 0; lines++) {
    const start = value.lastIndexOf('\n', end - 1) + 1;
    if (prev && start === prev.at && indent === prev.indent) return prev.owned;
    const text = value.slice(start, end).replace(/\r$/, '');
    end = start - 1;
    if (text.trim() === '') continue;
    const table = /^[ \t]*\[\[?([A-Za-z0-9_.-]{1,128})\]\]?[ \t]*$/.exec(text);
    if (table) return secretKeyStrength(`${(table[1] as string).split('.').pop() as string}_key`) === 'strong';
    const opener = /^([ \t]*)([A-Za-z0-9_-]{1,64})[ \t]*:[ \t]*$/.exec(text);
    if (opener && (opener[1] as string).length < indent) return secretKeyStrength(`${opener[2] as string}_key`) === 'strong';
  }
  return false;
}

/**
 * Commands that print a secret and nothing else (a password manager's `pass show`, `op read`, a secret store's
 * `vault kv get -field=`, `gcloud secrets versions access`, `printenv DB_PASSWORD`, `wg genkey`…), at a shell prompt.
 */
const PRINTS_SECRET = new RegExp(
  String.raw`^[ \t]*(?:[$%#>❯]|PS [^>\r\n]{0,120}>)[ \t]+(?:sudo[ \t]+)?(?:pass(?:[ \t]+show)?[ \t]+[\w./@-]+|gopass[ \t]+(?:show|cat)|bw[ \t]+get[ \t]+(?:password|totp|notes)|op[ \t]+(?:read|item[ \t]+get)|lpass[ \t]+show|security[ \t]+find-(?:generic|internet)-password|secret-tool[ \t]+lookup|aws[ \t]+(?:secretsmanager[ \t]+get-secret-value|ecr[ \t]+get-login-password|ssm[ \t]+get-parameters?)|gcloud[ \t]+(?:secrets[ \t]+versions[ \t]+access|auth[ \t]+print-(?:access|identity)-token)|az[ \t]+(?:keyvault[ \t]+secret[ \t]+show|account[ \t]+get-access-token)|vault[ \t]+(?:kv[ \t]+get|read)[ \t][^\r\n]{0,200}-field|kubectl[ \t]+get[ \t]+secrets?[ \t][^\r\n]{0,300}base64[ \t]+(?:-d|--decode)|consul[ \t]+kv[ \t]+get|etcdctl[ \t]+get|printenv[ \t]+\w*(?:PASS|SECRET|TOKEN|KEY|PWD|AUTH|CRED)\w*|echo[ \t]+["']?\$\{?\w*(?:PASS|SECRET|TOKEN|KEY|PWD|AUTH|CRED)\w*|cat[ \t]+\S*(?:master\.key|\.key|secret|token|passw)|argocd[ \t]+admin[ \t]+initial-password|wg[ \t]+genkey|heroku[ \t]+auth:token|gh[ \t]+auth[ \t]+token)(?![\w-])[^\r\n]{0,400}\r?\n`,
  'gm',
);
const PROMPT_LINE = /(?:^|\n)[ \t]*(?:[$%#>❯][ \t]|PS )/;
/** What a command prints instead of a secret: an error, its usage. */
const NOT_PRINTED_SECRET = /^(?:error|warning|usage|no such|not found|cat:|\[MASKED:|[$%#>❯] )/i;

/** The line a secret-printing command prints after its prompt line. */
export function findPrintedSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  PRINTS_SECRET.lastIndex = 0;
  for (let m = PRINTS_SECRET.exec(value); m && found.length < 10_000; m = PRINTS_SECRET.exec(value)) {
    const start = PRINTS_SECRET.lastIndex;
    let end = value.indexOf('\n', start);
    if (end < 0) end = value.length;
    if (value[end - 1] === '\r') end--;
    const line = value.slice(start, end).trim();
    if (line.length >= 4 && line.length <= 4096 && !NOT_PRINTED_SECRET.test(line)) {
      const from = start + value.slice(start, end).indexOf(line);
      found.push([from, from + line.length]);
    }
  }
  return found;
}

/**
 * `ssh-keygen`'s passphrases: the value after each `-N` (new) and `-P` (old) on its command line, up to the line's
 * end or a `|`, `;`, `&` (`ssh-keygen -p -P old -N new -f key`). Read once, argument by argument, from each
 * `ssh-keygen`: a regex that looked back from every `-N` for the command read 1 KB at each (`-N` repeated, 640 ms).
 */
export function findSshKeygenPasswords(value: string): [number, number][] {
  const found: [number, number][] = [];
  for (let at = value.indexOf('ssh-keygen'); at >= 0 && found.length < 10_000; at = value.indexOf('ssh-keygen', at + 10)) {
    if (at > 0 && /[\w-]/.test(value[at - 1] as string) && value[at - 2] !== '\\') continue;
    let i = at + 10;
    let option = '';
    for (let args = 0; args < 64 && i < value.length; args++) {
      while (value[i] === ' ' || value[i] === '\t') i++;
      const c = value[i];
      if (c === undefined || c === '\n' || c === '\r' || c === '|' || c === ';' || c === '&') break;
      let end: number;
      if (c === '"' || c === "'") {
        const close = value.indexOf(c, i + 1);
        const nl = value.indexOf('\n', i + 1);
        if (close < 0 || (nl >= 0 && nl < close)) break;
        end = close + 1;
      } else {
        end = i;
        while (end < value.length && !/[\s|;&]/.test(value[end] as string)) end++;
      }
      const arg = value.slice(i, end);
      if ((option === '-N' || option === '-P') && cliValue(arg)) found.push(c === '"' || c === "'" ? [i + 1, end - 1] : [i, end]);
      option = arg;
      i = end;
    }
    at = Math.max(at, i - 10);
  }
  return found;
}

/**
 * A two-column table aligned with spaces under `Key  Value` (or PowerShell's `Name  Value`) and its dashes (`vault kv get`, `vault read`, a hashtable): a row
 * whose key names a secret strongly has its value masked.
 */
export function findAlignedSecrets(value: string): [number, number][] {
  const found: [number, number][] = [];
  // (And Pulumi's `pulumi config --show-secrets`: `KEY   VALUE`, no rule below it.)
  const head = /(?:^|\n)[ \t]*(?:(?:Key|Name)[ \t]{2,}Value[ \t]*\r?\n[ \t]*-{3,4}[ \t]{2,}-{5}|KEY[ \t]{2,}VALUE)[ \t]*(?:\r?\n|$)/g;
  for (let m = head.exec(value); m !== null && found.length < 10_000; m = head.exec(value)) {
    let at = m.index + m[0].length;
    for (let rows = 0; at < value.length && rows < 10_000; rows++) {
      const nl = value.indexOf('\n', at);
      const end = nl < 0 ? value.length : nl;
      const row = /^([ \t]*)(\S+)([ \t]{2,})(\S(?:.*\S)?)[ \t]*\r?$/.exec(value.slice(at, end));
      if (!row) break;
      const [, lead, key, gap, cell] = row as unknown as [string, string, string, string, string];
      if (secretKeyStrength(key) === 'strong' && !isPlaceholder(cell)) {
        const start = at + lead.length + key.length + gap.length;
        found.push([start, start + cell.length]);
      }
      at = end + 1;
    }
    head.lastIndex = Math.max(head.lastIndex, at - 1);
  }
  return found;
}
/** A row's cells: each one's text (trimmed, unquoted) and where that text stands. A Markdown row's outer bars are no cells. */
function tableCells(row: string, sep: string, offset: number, padded = false): { text: string; start: number; end: number }[] {
  const cells: { text: string; start: number; end: number }[] = [];
  let body = row;
  let shift = 0;
  if (sep === '|') {
    const lead = /^[ \t]*\|/.exec(body);
    if (lead) {
      body = body.slice(lead[0].length);
      shift = lead[0].length;
    }
    body = body.replace(/\|[ \t]*$/, '');
  }
  for (let at = 0; at <= body.length; ) {
    let end = body.indexOf(sep, at);
    if (body[at] === '"' && sep !== '|') {
      const close = body.indexOf('"', at + 1);
      end = close < 0 ? -1 : body.indexOf(sep, close);
    }
    if (end < 0) end = body.length;
    const raw = body.slice(at, end);
    const lead = raw.length - raw.trimStart().length;
    let text = raw.trim();
    let start = at + lead;
    if (text.length >= 2 && text.startsWith('"') && text.endsWith('"')) {
      text = text.slice(1, -1);
      start++;
    }
    cells.push({ text, start: offset + shift + start, end: offset + shift + start + text.length });
    at = end + 1;
    // (Tabs that pad a column to its width, as a CLI's tab writer prints them: one separator.)
    while (padded && body[at] === sep) at++;
    if (end === body.length) break;
  }
  return cells;
}

const KDF_CALL = /(?:scrypt|scryptSync|pbkdf2|pbkdf2Sync|pbkdf2_hmac|argon2(?:id|i|d)?|hash_password|hashpw|deriveKey|hkdf|hkdfSync|bcrypt(?:\.hash(?:Sync)?)?)[ \t]*\([ \t]*$/i;
/** A secret-named key and its value as a call's first two arguments (PHP's `define('DB_PASSWORD', '…')`, `config.set("api_key", "…")`). */
const keyValueArguments: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /["'][ \t]*,[ \t]*["']/,
  prefix: `\\\\?["']${KEY_NAME}\\\\?["'][ \\t]*,[ \\t]*\\\\?["']`,
  pattern: `[^"'\\\\\\r\\n]{1,1024}`,
  accept: (value, prefix, input, offset) => {
    const key = /^\\?["']([^"'\\]+)/.exec(prefix)?.[1] ?? '';
    const strength = secretKeyStrength(key);
    // (Two names in snake case, `['private_key_jwt', 'self_signed_tls_client_auth']`, are a list of names.)
    if (/^[a-z]+(?:_[a-z]+)+$/.test(key) && /^[a-z]+(?:_[a-z]+)+$/.test(value)) return false;
    // `"name": "DB_PASSWORD", "value": …` in JSON text: the second string is a key, not an argument.
    if (/^\\?["'][ \t]*:/.test(input.slice(offset + value.length, offset + value.length + 8))) return false;
    // A call's first two arguments: not an array's strings (`["secret", "public", "private"]`) nor a call's later
    // ones (`invalidKeyInput(key, "CryptoKey", "KeyObject")`); a pair in brackets (`[["password", "…"]]`) is one.
    const before = input.slice(Math.max(0, offset - prefix.length - 8), offset - prefix.length);
    if (!/\([ \t]*$/.test(before) && !(/\[[ \t]*$/.test(before) && /^\\?["'][ \t]*\]/.test(input.slice(offset + value.length, offset + value.length + 8)))) return false;
    // (A key derivation's arguments, `scrypt('password', 'salt', …)`: the password itself, then its salt.)
    if (KDF_CALL.test(input.slice(Math.max(0, offset - prefix.length - 40), offset - prefix.length))) return false;
    if (!strength || isPlaceholder(value) || readsAsProse(value) || nameOfASecret(value) || /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/.test(value)) return false;
    return strength === 'strong' ? value.length >= 3 : secretLooking(value) && !/\s/.test(value) && !WORDS_AND_NUMBER.test(value);
  },
};

/** Whether a literal named by a key of this strength is its secret: three characters or more under a strong key, one word that looks like a secret under a weak one. */
function namedSecret(strength: 'strong' | 'weak' | undefined, value: string): boolean {
  return strength !== undefined && !isPlaceholder(value) && (strength === 'strong' ? value.length >= 3 : secretLooking(value) && !/\s/.test(value));
}

/** Terraform's default for a secret variable (`variable "db_password" {⏎  default = "…"`). */
const terraformDefault: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /variable/,
  prefix: `${word('variable')}[ \\t]+"${KEY_NAME}"[ \\t]*\\{[^}]{0,400}?${word('default')}[ \\t]*=[ \\t]*"`,
  pattern: `[^"\\\\\\r\\n]{1,1024}(?=")`,
  accept: (value, prefix) => {
    const strength = secretKeyStrength(/^variable[ \t]+"([^"]+)"/.exec(prefix)?.[1] ?? '');
    return namedSecret(strength, value);
  },
};

/**
 * A literal fallback for a secret (`process.env.DB_PASSWORD || "…"`, `opts.apiKey ?? '…'`, `ENV["TOKEN"] || "…"`,
 * `config.apiKey ??= "…"`, Ruby's `||=`, the Elvis operator of Kotlin and PHP `getenv("DB_PASSWORD") ?: "…"`, Rust's
 * `env::var("DB_PASSWORD").unwrap_or("…")` and `.unwrap_or_else(|_| "…")`, Helm's `.Values.db.password | default "…"`).
 */
const fallbackDefault: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /\|\||\?\?|\?:|unwrap_or|orElse\(|default ?[("']| or ["'`]|cmp\.Or\(|coalesce\(/,
  prefix: `${SECRETISH}[A-Za-z0-9_.-]{0,60}(?:["']\\]?)?\\){0,2}(?:[ \\t]{0,20}(?:\\|\\|=?|\\?\\?=?|\\?:)[ \\t]{0,20}|(?<=\\))[ \\t]{1,20}or[ \\t]{1,20}|[ \\t]*,[ \\t]*(?<=(?:cmp\\.Or|coalesce)\\([^\\r\\n()]{0,120}(?:\\([^\\r\\n()]{0,120}\\))?[^\\r\\n()]{0,40})|(?:\\.ok\\(\\))?\\.(?:unwrap_or(?:_else)?|orElse)\\([ \\t]*(?:\\|[^|\\r\\n]{0,10}\\|[ \\t]*)?|[ \\t]{0,20}\\|[ \\t]*default(?:[ \\t]+|[ \\t]*\\([ \\t]*))["'\`]`,
  pattern: `[^"'\`\\\\\\r\\n]{1,1024}(?=["'\`])`,
  accept: (value, prefix, input, offset) => {
    let start = offset - prefix.length;
    while (start > 0 && keyCharAt(input, start - 1)) start--;
    const name = input.slice(start, offset - prefix.length) + (/^[A-Za-z0-9_.-]+/.exec(prefix)?.[0] ?? '');
    const strength = secretKeyStrength(name);
    return !value.includes('${') && namedSecret(strength, value);
  },
};

/** C's and C++'s macro of a string (`#define DB_PASSWORD "…"`; PHP's `define('DB_PASSWORD', '…')` is a call's). */
const cDefine: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /#[ \t]*define[ \t]/,
  prefix: `(?:^|\\n)[ \\t]*#[ \\t]*define[ \\t]+${KEY_NAME}[ \\t]+(?:[Lu]8?|U)?"`,
  pattern: `(?:[^"\\\\\\r\\n]|\\\\.){1,1024}(?=")`,
  // A header's macros are names far more often than secrets (`#define OSSL_KDF_PARAM_PASSWORD "pass"`, `"EC PRIVATE
  // KEY"`, a cipher suite's name): only a name that ends in a secret's word, and a value that looks like one.
  accept: (value, prefix) => {
    const name = /define[ \t]+([A-Za-z0-9_.-]+)/.exec(prefix)?.[1] ?? '';
    if (!/(?:PASSWORD|PASSWD|PASSPHRASE|PASS|PWD|PSK|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|ACCESS_?KEY|SECRET_?KEY|AUTH_?KEY|HMAC_?KEY|SIGNING_?KEY|CREDENTIALS?)$/i.test(name)) return false;
    // (A key's bytes written as escapes, `"\x4b\x8f…"`.)
    if (/^(?:\\x[0-9A-Fa-f]{2}){8,}$/.test(value)) return true;
    if (/\s/.test(value) || /^[A-Z0-9_-]+$/.test(value) || isPlaceholder(value) || nameOfASecret(value)) return false;
    // (`#define SN_id_regCtrl_regToken "id-regCtrl-regToken"`: a name's string, spelling the name.)
    if (name.toLowerCase().replace(/[_.-]/g, '').endsWith(value.toLowerCase().replace(/[_.-]/g, ''))) return false;
    return secretLooking(value) || (/\d/.test(value) && /[A-Za-z]/.test(value) && value.length >= 8);
  },
};

/** Android's build fields (`buildConfigField("String", "API_KEY", "\"…\"")`, `resValue("string", "api_key", "…")`): the third string, named by the second. */
const gradleField: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /buildConfigField|resValue|lookup\(/,
  prefix: `(?:(?:buildConfigField|resValue)[ \\t]*\\(?[ \\t]*["'][^"'\\r\\n]{1,40}["']|lookup[ \\t]*\\([ \\t]*[A-Za-z_][\\w.]{0,100})[ \\t]*,[ \\t]*["']${KEY_NAME}["'][ \\t]*,[ \\t]*["'](?:\\\\["'])?`,
  pattern: `[^"'\\\\\\r\\n]{1,1024}`,
  accept: (value, prefix) => {
    const strength = secretKeyStrength(/,[ \t]*["']([A-Za-z0-9_.-]+)["'][ \t]*,/.exec(prefix)?.[1] ?? '');
    return strength !== undefined && !isPlaceholder(value) && (strength === 'strong' ? value.length >= 3 : secretLooking(value));
  },
};

/** A field's default given in its declaration's call (pydantic's `api_key: str = Field(default="…")`, `Column(…, default="…")`): named by the field. */
const fieldDefault: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /default[ \t]*=[ \t]*["']/,
  prefix: `${word('default')}[ \\t]*=[ \\t]*["']`,
  pattern: `[^"'\\\\\\r\\n]{1,1024}(?=["'])`,
  accept: (value, prefix, input, offset) => {
    const before = input.slice(Math.max(0, offset - prefix.length - 200), offset - prefix.length);
    const name = /(?:^|\n)[ \t]*(?:self\.)?([A-Za-z_][\w]*)[ \t]*(?::[^=\n]{0,80})?=[ \t]*[A-Za-z_][\w.]*\([^\n]*$/.exec(before)?.[1];
    const strength = name === undefined ? undefined : secretKeyStrength(name);
    return namedSecret(strength, value);
  },
};

/** A literal made a password where a key store or a key derivation takes one (`ks.load(in, "…".toCharArray())`, `new PBEKeySpec("…".toCharArray(), …)`). */
const charArrayPassword: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /\.toCharArray\(\)/,
  prefix: `(?<=(?:load|store|getKey|setKeyEntry|getEntry|PBEKeySpec|init|[Pp]assword|[Pp]assphrase|[Ss]ecret)[^\\r\\n]{0,120})"`,
  pattern: `[^"\\\\\\r\\n]{3,256}(?="\\.toCharArray\\(\\))`,
  accept: (value) => !isPlaceholder(value),
};

/** Basic credentials encoded in code (`\`Basic ${btoa('me:…')}\``, `base64.b64encode(b"me:…")`): the password after the user's name. */
const encodedBasic: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /btoa\(|b64encode\(/,
  prefix: `(?:${word('btoa')}|b64encode)\\([ \\t]*b?["'\`][^"'\`:\\s\\\\]{1,64}:`,
  pattern: `[^"'\`\\\\\\r\\n]{3,256}(?=["'\`])`,
  accept: (value) => !isPlaceholder(value) && !value.includes('${'),
};

/** Clojure's and EDN's keyword keys (`{:user "bob" :password "…"}`): the string after a keyword that names a secret. */
const keywordKey: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /[{(\s]:[A-Za-z-]*(?:pass|secret|token|key)/i,
  prefix: `(?<=[{(\\s,]):${KEY_NAME}[ \\t]+"`,
  pattern: `(?:[^"\\\\\\r\\n]|\\\\.){1,1024}(?=")`,
  accept: (value, prefix) => {
    const strength = secretKeyStrength(/^:([A-Za-z0-9_.-]+)/.exec(prefix)?.[1] ?? '');
    return namedSecret(strength, value);
  },
};

/** A Wi-Fi network as its QR code writes it (`WIFI:T:WPA;S:HomeNet;P:…;;`): the password field. */
const wifiQr: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /WIFI:/,
  prefix: `WIFI:(?:[A-Z]{1,2}:(?:\\\\.|[^;\\\\\\r\\n]){0,200};){0,8}P:`,
  pattern: `(?:\\\\.|[^;\\\\\\r\\n]){1,200}`,
  accept: (value) => !isPlaceholder(value),
};

/** LDIF's base64 value (`userPassword:: WnE4…`): of an attribute named for a secret, whatever it decodes to. */
const ldifBase64: Detector = {
  kind: 'secret-value',
  phase: 2,
  hint: /(?:pass|pw|secret|key|token|cred|auth)[A-Za-z0-9_.-]*::[ \t]/i,
  // (At a line's start and a value to its end, as LDIF writes one: C++'s `Pass::getAnalysisUsage(AU)` is no attribute.)
  prefix: `(?:^|\\n)${KEY_NAME}::[ \\t]{1,8}`,
  pattern: `[A-Za-z0-9+/]{4,8192}={0,2}(?=[ \\t]*(?:\\r?\\n|$))`,
  accept: (_value, prefix) => secretKeyStrength(/([A-Za-z0-9_.-]+)::/.exec(prefix)?.[1] ?? '') !== undefined,
};

/** A PowerShell parameter that takes a secret (`Connect-Server -User bob -Password …`, `-ApiKey …`): its value, unless a variable or an expression gives it. */
const powershellSecret: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /[ \t]-(?:Password|Passwd|Passphrase|Secret|ClientSecret|Token|AccessToken|ApiKey|AccessKey|SecretKey)[ \t]/i,
  prefix: `(?<=[ \\t])-(?:Password|Passwd|Passphrase|Secret|ClientSecret|Token|AccessToken|ApiKey|AccessKey|SecretKey)[ \\t]+`,
  pattern: CLI_VALUE,
  accept: (value) => cliValue(value) && !/^[$(@]/.test(value),
};

/** Helm's default written first (`{{ default "…" .Values.dbPassword }}`): the value named by what follows it. */
const helmDefaultFirst: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /\{\{-?[ \t]*default "/,
  prefix: `\\{\\{-?[ \\t]*default[ \\t]+"`,
  pattern: `[^"\\\\\\r\\n]{1,1024}(?=")`,
  accept: (value, _prefix, input, offset) => {
    const name = /^"[ \t]+\$?(?:\.?[A-Za-z0-9_]+)+/.exec(input.slice(offset + value.length, offset + value.length + 200))?.[0].split('.').pop();
    const strength = name === undefined ? undefined : secretKeyStrength(name);
    return namedSecret(strength, value);
  },
};

/** HTTP basic credentials in code: `auth=('alice', '…')` (requests), `HTTPBasicAuth('alice', '…')`, `basic_auth('alice', '…')`. */
const basicAuthArguments: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /auth[ \t]*=[ \t]*\(|basic_?auth\(/i,
  prefix: `(?:${word('auth')}[ \\t]*=[ \\t]*\\(|basic_?auth\\()[ \\t]*["'][^"'\\r\\n]{0,128}["'][ \\t]*,[ \\t]*["']`,
  pattern: `[^"'\\\\\\r\\n]{1,1024}`,
  accept: (value) => !isPlaceholder(value),
};

/**
 * A connection string's password (ADO.NET, ODBC, JDBC's SQL Server form: `Server=db;User Id=sa;Password=Zj5&Fo8 Ny2;`):
 * the value runs to the next `;` (spaces, `&` and `#` are part of it), or is braced (`PWD={…}`) or quoted. Only in
 * a connection string: another of its keys stands near.
 */
const CONNECTION_KEYS = /(?:^|[;"'\s])(?:server|data source|host|address|addr|network address|driver|dsn|database|initial catalog|user id|uid|user|username|port|provider|encrypt|trustservercertificate|integrated security)[ \t]*=/i;
const connectionStringPassword: Detector = {
  kind: 'secret-value',
  // (Phase 2: `pw` opens the context pass near it; the phase-3 gate would cost every text one more search.)
  phase: 2,
  hint: /(?:password|pwd)[ \t]*=/i,
  // (From the `;` or quote before the key: a match there is tried before the assignment that begins at the key.)
  prefix: `[;"'][ \\t]*(?:password|pwd)[ \\t]*=[ \\t]*`,
  pattern: `(?:\\{[^}\\r\\n]{1,512}\\}|"[^"\\r\\n]{1,512}"|'[^'\\r\\n]{1,512}'|[^;\\r\\n"'{\\\\\\s](?:[^;\\r\\n"'\\\\]{0,510}[^;\\r\\n"'\\\\\\s])?)`,
  accept: (value, prefix, input, offset) => {
    const start = offset - prefix.length;
    const end = offset + value.length;
    // (One of its pairs, with another connection key within reach.)
    if (!prefix.startsWith(';') && input[end] !== ';') return false;
    return CONNECTION_KEYS.test(input.slice(Math.max(0, start - 300), start) + input.slice(end, end + 300)) && !isPlaceholder(unquote(value.replace(/^\{(.*)\}$/s, '$1')));
  },
};

/** Windows commands that take a password as `/pass:…` or `/password:…` (`cmdkey /add:srv /user:u /pass:pw`, `wmic /password:pw`). */
const windowsCommandPassword: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /cmdkey|wmic/i,
  prefix: `${word('(?:cmdkey|wmic)')}${CLI_ARGS}/(?:pass|password):`,
  pattern: CLI_VALUE,
  accept: cliValue,
};

/** Passwords set in database statements: MongoDB's `changeUserPassword`, MySQL's `SET PASSWORD … = …` and `PASSWORD('…')`, SQL Server's `sp_addlogin`, Neo4j's `dbms.security.createUser`. */
const databaseStatementPassword: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /changeUserPassword|dbms\.security\.|sp_addlogin|sp_password|SET[ \t]+PASSWORD|PASSWORD[ \t]*\(/i,
  prefix: `(?:changeUserPassword\\([ \\t]*["'][^"'\\r\\n]{1,128}["'][ \\t]*,[ \\t]*|dbms\\.security\\.(?:createUser|changeUserPassword)\\([ \\t]*'[^'\\r\\n]{1,128}'[ \\t]*,[ \\t]*|sp_addlogin[ \\t]+(?:@loginame[ \\t]*=[ \\t]*)?N?'[^'\\r\\n]{1,128}'[ \\t]*,[ \\t]*(?:@passwd[ \\t]*=[ \\t]*)?N?|sp_password[ \\t]+(?:NULL|N?'[^'\\r\\n]{0,128}')[ \\t]*,[ \\t]*N?|PASSWORD\\([ \\t]*|SET[ \\t]+PASSWORD[ \\t]+(?:FOR[ \\t]+[^=\\r\\n]{1,128})?=[ \\t]*)["']`,
  pattern: `[^"'\\r\\n]{1,512}`,
  accept: (value) => !isPlaceholder(value),
};

/** Secrets a tool prints once, by the words it prints them with: Vault's unseal and recovery keys, Jenkins' first admin password, Elasticsearch's reset, Nomad's `Secret ID = …`. */
const printedOnce: Detector = {
  kind: 'secret-value',
  // (Phase 2: each begins at its `key`, `secret` or `password`, which opens the context pass there.)
  phase: 2,
  hint: /(?:Unseal|Recovery) Key|password to proceed to installation|successfully reset|Secret ID[ \t]*=/i,
  prefix: `(?:(?:Unseal|Recovery) Key(?:[ \\t]+\\d{1,2})?:[ \\t]*|password to proceed to installation:[ \\t]*(?:\\r?\\n[ \\t]*){1,3}|Password for the \\[[^\\]\\r\\n]{1,64}\\] user successfully reset\\.?[ \\t]*\\r?\\nNew value:[ \\t]*|Secret ID[ \\t]*=[ \\t]*)`,
  pattern: `[^\\s]{6,256}`,
};

/** OpenSSL's `-text` dump of a private key: the hex after `privateExponent:`, `prime1:`, …, `priv:` (its public modulus stays). */
const opensslKeyText: Detector = {
  kind: 'private-key',
  phase: 3,
  hint: /privateExponent:|prime1:|(?:^|\n)priv:/,
  prefix: `(?:^|\\n)(?:privateExponent|prime[12]|exponent[12]|coefficient|priv):[ \\t]*\\r?\\n`,
  pattern: `[ \\t]+[0-9a-f]{2}(?::[0-9a-f]{2}){0,63}:?(?:\\r?\\n[ \\t]+[0-9a-f]{2}(?::[0-9a-f]{2}){0,63}:?){0,199}`,
};

/** A minisign or signify secret key: the base64 line after its `untrusted comment: … secret key`. */
const signatureSecretKey: Detector = {
  kind: 'private-key',
  phase: 3,
  hint: /untrusted comment:[^\n]{0,80}secret key/,
  prefix: `untrusted comment:[^\\r\\n]{0,80}secret key[ \\t]*\\r?\\n`,
  pattern: `[A-Za-z0-9+/]{40,512}={0,2}`,
};

/** A Windows answer file's (unattend.xml) password: `<AdministratorPassword>` or `<Password>` with its `<Value>`. */
const answerFilePassword: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /Password>[ \t\r\n]{0,40}<Value>/,
  prefix: `<[A-Za-z]{0,32}Password>[ \\t\\r\\n]{0,40}<Value>`,
  pattern: `[^<\\r\\n]{1,512}`,
  accept: (value) => !isPlaceholder(value),
};

/** JFrog Artifactory's API-key header. */
const jfrogHeader: Detector = {
  kind: 'auth-header',
  phase: 3,
  hint: /x-jfrog-art-api/i,
  prefix: `x-jfrog-art-api\\\\?["']?[ \\t]{0,20}:[ \\t]{0,20}\\\\?["']?`,
  pattern: `[A-Za-z0-9]{16,256}`,
};

/** ngrok's `config add-authtoken TOKEN` (and the older `ngrok authtoken TOKEN`). */
const ngrokAuthtoken: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /ngrok/i,
  prefix: `${word('ngrok')}(?:[ \\t]+config)?[ \\t]+(?:add-authtoken|authtoken)[ \\t]+`,
  pattern: CLI_VALUE,
  accept: cliValue,
};

/**
 * More tools that take a password or token by position or by their own word: `wpa_passphrase SSID pw`,
 * `mosquitto_passwd -b FILE USER pw`, `poetry config http-basic.REPO USER pw`, `cargo login TOKEN`, pdftk's
 * `input_pw`/`owner_pw`/`user_pw`, FortiOS's `set password`/`set psksecret`, Cisco's `ntp authentication-key N md5`,
 * `cloudflared service install TOKEN`, Redis's `ACL SETUSER NAME … >pw`.
 */
const toolPasswords: Detector = {
  kind: 'cli-password',
  phase: 3,
  hint: /wpa_passphrase|mosquitto_passwd|http-basic\.|cargo[ \t]+login|_pw[ \t]|set[ \t]+(?:password|passwd|psksecret)|authentication-key|cloudflared|setuser/i,
  prefix: `(?:${word('wpa_passphrase')}[ \\t]+[^\\s]{1,64}[ \\t]+|${word('mosquitto_passwd')}(?:[ \\t]+-[A-Za-z]{1,4}){0,3}[ \\t]+-b(?:[ \\t]+-[A-Za-z]{1,4}){0,3}[ \\t]+[^\\s]{1,256}[ \\t]+[^\\s]{1,128}[ \\t]+|${word('poetry')}[ \\t]+config[ \\t]+http-basic\\.[^\\s]{1,128}[ \\t]+[^\\s]{1,128}[ \\t]+|${word('cargo')}[ \\t]+login(?:[ \\t]+--registry[ \\t]+[^\\s]{1,128})?[ \\t]+|${word('(?:input_pw|owner_pw|user_pw)')}[ \\t]+|${LINE_START}[ \\t]{0,40}set[ \\t]+(?:password|passwd|psksecret)[ \\t]+(?:ENC[ \\t]+)?|${word('ntp')}[ \\t]+authentication-key[ \\t]+\\d{1,5}[ \\t]+(?:md5|sha1|sha256)[ \\t]+(?:\\d[ \\t]+)?|${word('cloudflared')}(?:[ \\t]+service)?[ \\t]+install[ \\t]+|${word('ACL')}[ \\t]+SETUSER[ \\t]+[^\\s]{1,128}(?:[ \\t]+[^\\s>]{1,128}){0,16}?[ \\t]+>)`,
  pattern: CLI_VALUE,
  accept: cliValue,
};

/** Protocol and config forms with a known neighbour: IMAP's `AUTHENTICATE PLAIN` line, AWS CLI's text output beside `SecureString`, Redis's `CONFIG GET` reply, WildFly's `clear-text`. */
const knownNeighbour: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /AUTHENTICATE[ \t]+PLAIN|\tSecureString\t|"(?:requirepass|masterauth)"\r?\n|clear-text="/,
  prefix: `(?:AUTHENTICATE[ \\t]+PLAIN(?:[ \\t]+|[ \\t]*\\r?\\n(?:(?:S:[ \\t]?)?\\+[^\\r\\n]{0,64}\\r?\\n)?(?:C:[ \\t]?)?)|\\tSecureString\\t|"(?:requirepass|masterauth)"\\r?\\n[ \\t]*\\d{1,2}\\)[ \\t]*"|<credential-reference[^>]{0,256}?[ \\t]clear-text=")`,
  pattern: `[^\\s"\\t<]{1,4096}`,
  accept: (value) => !isPlaceholder(value),
};

/** Redis's MONITOR and a command log: `"AUTH" "pw"` (`"AUTH" "user" "pw"`), `"CONFIG" "SET" "requirepass" "pw"`. */
const redisQuotedAuth: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /"(?:AUTH|requirepass|masterauth)"/i,
  prefix: `"(?:AUTH|requirepass|masterauth)"[ \\t]+(?:"[^"\\r\\n]{1,128}"[ \\t]+(?="))?"`,
  pattern: `[^"\\r\\n]{1,512}`,
  accept: (value) => !isPlaceholder(value),
};

/** SMTP's `AUTH LOGIN` answer after the server's `334 UGFzc3dvcmQ6` (`Password:` in base64): the password, in base64. */
const smtpLoginPassword: Detector = {
  kind: 'auth-header',
  phase: 3,
  hint: /334[ \t]+UGFzc3dvcmQ6/,
  prefix: `334[ \\t]+UGFzc3dvcmQ6[ \\t]*(?:\\r?\\n|\\\\r\\\\n|\\\\n)(?:[<>][ \\t]?|[CS]:[ \\t]?|-> )?`,
  pattern: `[A-Za-z0-9+/]{4,4096}={0,2}`,
};

/**
 * A secret handed over in prose: `Generated API key: …`, `Your access token: …`, `Root password for the instance: …`.
 * The value must look like one (`API key: required` is not).
 */
const proseSecret: Detector = {
  kind: 'secret-value',
  // (Phase 2: `key`, `token` and `pass` open the context pass near them.)
  phase: 2,
  hint: /(?:api|access|secret|auth|bearer|personal access|refresh|bot)[ \t]+(?:key|token)|pass(?:word|phrase)[ \t]+[a-z]/i,
  // (`A temporary password is generated for root@localhost: …`: what stands between the word and its colon begins with a letter.)
  prefix: `(?:${word('(?:api|access|secret|auth|bearer|refresh|bot)')}[ \\t]+(?:key|token)|pass(?:word|phrase)[ \\t]+[A-Za-z][^\\r\\n:"'\`\\\\]{0,59}?)(?:[ \\t]+(?:is|was))?[ \\t]*:[ \\t]*["'\`]?`,
  pattern: `[^\\s'"\`\\\\]{6,255}`,
  accept: (value) => {
    const v = value.replace(/[.,;:!?)]+$/, '');
    return /\d/.test(v) && /[A-Za-z]/.test(v) && secretLooking(v) && !isPlaceholder(v) && !looksLikeCode(v) && !/^https?:/i.test(v);
  },
};

/** PHP's `curl_setopt($ch, CURLOPT_USERPWD, 'user:password')` (and curl's `--user`'s other spellings in code): the password. */
const curlUserPassword: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /CURLOPT_(?:USERPWD|PASSWORD|PROXYUSERPWD|PROXYPASSWORD)/,
  prefix: `CURLOPT_(?:(?:PROXY)?USERPWD[ \\t]*,[ \\t]*\\\\?["'][^:"'\\r\\n]{0,128}:|(?:PROXY)?PASSWORD[ \\t]*,[ \\t]*\\\\?["'])`,
  pattern: `[^"'\\\\\\r\\n]{1,1024}`,
  accept: (value) => !isPlaceholder(value) && !value.startsWith('$'),
};

/** Name/value pairs written out as YAML or JSON text (`- name: DB_PASSWORD⏎  value: …`, `{"name": "API_TOKEN", "value": "…"}`). */
const nameValueText: Detector = {
  kind: 'secret-value',
  phase: 3,
  hint: /value/i,
  prefix: `(?:name|key)\\\\?["']?[ \\t]{0,20}[:=][ \\t]{0,20}\\\\?["']?${KEY_NAME}\\\\?["']?[ \\t]{0,20}(?:,[ \\t]{0,20}|\\r?\\n[ \\t]{0,40}|\\\\n[ \\t]{0,40})\\\\?["']?value\\\\?["']?[ \\t]{0,20}[:=][ \\t]{0,20}\\\\?["']?`,
  pattern: `(?![\\s"'])(?:[^"'\\\\\\r\\n]|\\\\(?![ntr"'\\\\])){1,4096}`,
  accept: (value, prefix) => {
    const strength = secretKeyStrength(/[:=][ \t]*\\?["']?([A-Za-z0-9_.-]+)/.exec(prefix)?.[1] ?? '');
    if (!strength || isPlaceholder(value.trim())) return false;
    return strength === 'strong' || (secretLooking(value.trim()) && !/\s/.test(value.trim()));
  },
};

/** The Netscape cookie-jar format (curl's `-c`, browsers' exports): seven tab-separated fields, the last the cookie's value. */
const cookieJarLine: Detector = {
  kind: 'cookie',
  phase: 3,
  hint: /\t(?:TRUE|FALSE)\t/,
  prefix: `(?:^|\\n)[^\\t\\r\\n]{1,253}\\t(?:TRUE|FALSE)\\t[^\\t\\r\\n]{1,1024}\\t(?:TRUE|FALSE)\\t\\d{1,12}\\t[^\\t\\r\\n]{1,256}\\t`,
  pattern: `[^\\t\\r\\n]{1,4096}`,
};

/** `Bearer <token>` anywhere (a log line that quotes the header's value without its name), when the token looks like one. */
const bearerAnywhere: Detector = {
  kind: 'auth-header',
  phase: 3,
  hint: /bearer[ \t]/i,
  prefix: `${word('bearer')}[ \\t]+`,
  pattern: `[A-Za-z0-9._~+/=-]{12,4096}`,
  accept: (value) => secretLooking(value) && /\d/.test(value) && /[A-Za-z]/.test(value) && !isPlaceholder(value),
};

/** `.netrc`: `machine HOST login USER password SECRET` (on one line or several). */
const netrcPassword: Detector = {
  kind: 'netrc-password',
  phase: 3,
  hint: /login|account/i,
  prefix: `${word('(?:login|account)')}[ \\t]+[^\\s]{1,128}[ \\t\\r\\n]+password[ \\t]+`,
  pattern: `${VALUE_CHAR}{1,512}`,
  // (`login = account = password = ''`: Python's chained assignment, no .netrc entry.)
  accept: (value, prefix) => !isPlaceholder(value) && /[A-Za-z0-9]/.test(value) && !/^(?:login|account)[ \t]+=[ \t]/.test(prefix),
};

/** `.pgpass`: `host:port:database:user:password`, one entry a line. */
const pgpassPassword: Detector = {
  kind: 'pgpass-password',
  phase: 3,
  hint: /:(?:\d{2,5}|\*):[^\s:]+:[^\s:]+:/,
  prefix: `(?:^|\\n|\\\\n|\\\\?["'])[ \\t]{0,20}(?:[A-Za-z0-9.-]{0,252}[A-Za-z][A-Za-z0-9.-]{0,252}|\\*|\\[[0-9a-fA-F:]{2,45}\\]):(?:\\d{2,5}|\\*):[^\\s:]{1,63}:[^\\s:]{1,63}:`,
  pattern: `${VALUE_CHAR}{1,512}(?=[ \\t]{0,20}(?:\\r?\\n|\\\\n|\\\\?["']|$))`,
  // (`'*:*:*:*:*:*:*:*'`: an IPv6 wildcard, all stars.)
  // (`root:*:20228:0:99999:7:::`: /etc/shadow's ageing fields; a .pgpass password escapes its colons.)
  accept: (value) => !isPlaceholder(value) && !/^[*:]+$/.test(value) && !/(?<!\\):/.test(value),
};

/** SQL that sets a password: `IDENTIFIED BY '…'`, `PASSWORD '…'` (PostgreSQL roles), `SET PASSWORD FOR … = '…'`. */
const sqlPassword: Detector = {
  kind: 'sql-password',
  phase: 3,
  hint: /identified|password/i,
  prefix: `(?:${word('identified')}[ \\t]+(?:with[ \\t]+[A-Za-z0-9_]{1,64}[ \\t]+)?by(?:[ \\t]+password)?|${word('password')}(?:[ \\t]+for[ \\t]+[^\\s=]{1,128}[ \\t]*=)?)[ \\t]+'`,
  pattern: `(?:[^'\\\\\\r\\n]|''|\\\\.){1,1024}(?=')`,
  accept: (value) => !isPlaceholder(value),
};

/** `IDENTIFIED BY "…"` (double-quoted: Oracle's quoted password) and bare (`IDENTIFIED BY Tr0ub4dor9`). */
const sqlIdentifiedBy: Detector = {
  kind: 'sql-password',
  phase: 3,
  hint: /identified/i,
  prefix: `${word('identified')}[ \\t]+(?:with[ \\t]+[A-Za-z0-9_]{1,64}[ \\t]+)?by(?:[ \\t]+password)?[ \\t]+`,
  pattern: `(?:"[^"\\r\\n]{1,1024}"|(?!['"])[^\\s'";,\\\\]{1,256})`,
  accept: (value, prefix, input, offset) => {
    const v = value.replace(/^"(.*)"$/, '$1');
    // (`… identified by \`_endpoint\``: a name in Markdown's backticks, in prose.)
    // (Bare and ending a sentence, `… identified by TGID.  This function`: prose; bare, only in a statement of SQL's.)
    if (!value.startsWith('"') && /[.,‐-]$/.test(v)) return false;
    if (!value.startsWith('"') && !/\b(?:create|alter|grant)\b[^\n;]{0,200}$/i.test(input.slice(Math.max(0, offset - prefix.length - 200), offset - prefix.length))) return false;
    return !isPlaceholder(v) && !/^(?:values|password|externally|globally|by)$/i.test(v) && !v.startsWith('`') && (value.startsWith('"') ? v.length >= 3 : secretLooking(v));
  },
};

/** XML elements and attributes named for a secret: `<password>…</password>`, `<add key="DbPassword" value="…"/>`. */
const xmlSecrets: Detector[] = [
  {
    kind: 'secret-value',
    phase: 3,
    hint: /<\//,
    // Config files that name the key beside the value: Hibernate's `<property name="…password">V</property>`, Java's
    // `<entry key="api.secret">V</entry>`, .NET's `<setting name="ApiKey"><value>V</value>`, Hadoop's
    // `<property><name>fs.s3a.secret.key</name><value>V</value>`.
    prefix: `(?:<[A-Za-z_][\\w.:-]{0,40}[ \\t][^<>]{0,200}?\\b(?:name|key)=["'][^"'<>]{1,128}["'][^<>]{0,200}>(?:\\s{0,40}<value>)?|<name>[^<]{1,128}</name>\\s{0,40}<value>)`,
    pattern: `[^<]{1,4096}(?=</)`,
    accept: (value, prefix) => {
      const name = /\b(?:name|key)=["']([^"']+)["']/.exec(prefix)?.[1] ?? /<name>([^<]+)<\/name>/.exec(prefix)?.[1] ?? '';
      const strength = secretKeyStrength(name);
      if (!strength || isPlaceholder(value.trim()) || MASKED_TOKEN.test(value) || value.trim() === '') return false;
      return strength === 'strong' || (secretLooking(value.trim()) && !/\s/.test(value.trim()));
    },
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /<\//,
    prefix: `<(?:[A-Za-z_][\\w.-]{0,40}:)?${KEY_NAME}(?:[ \\t][^<>]{0,200})?>`,
    pattern: `[^<]{1,4096}(?=</)`,
    accept: (value, prefix) => {
      const strength = secretKeyStrength(/^<(?:[\w.-]+:)?([\w.-]+)/.exec(prefix)?.[1] ?? '');
      if (!strength || isPlaceholder(value) || MASKED_TOKEN.test(value)) return false;
      return strength === 'strong' || (secretLooking(value) && !/\s/.test(value));
    },
  },
  {
    kind: 'secret-value',
    phase: 3,
    hint: /value[ \t]*=/i,
    prefix: `(?:key|name)[ \\t]*=[ \\t]*\\\\?["']${KEY_NAME}\\\\?["'][ \\t]{1,20}value[ \\t]*=[ \\t]*\\\\?["']`,
    pattern: `[^"'<>\\\\]{1,4096}`,
    accept: (value, prefix) => {
      const strength = secretKeyStrength(/=[ \t]*\\?["']([^"'\\]+)/.exec(prefix)?.[1] ?? '');
      if (!strength || isPlaceholder(value)) return false;
      return strength === 'strong' || (secretLooking(value) && !/\s/.test(value));
    },
  },
];

// Internationalised addresses too: letters and digits of any script, in the local part and the domain.
const LOCAL_CHAR = /[\p{L}\p{M}\p{N}._%+'-]/u;
const DOMAIN_CHAR = /[\p{L}\p{M}\p{N}.-]/u;
const EMAIL = /^[\p{L}\p{M}\p{N}._%+'-]+@[\p{L}\p{M}\p{N}-]+(?:\.[\p{L}\p{M}\p{N}-]+)*\.(?:\p{L}[\p{L}\p{M}]+|xn--[a-z0-9-]+)$/u;

/**
 * Email addresses, found from each `@` outwards (a regex would have to try every position of the text), each
 * walk bounded (a local part has at most 64 characters, a domain 253), so that no input costs more than
 * linear time. Not an address: the user of a URL (`ssh://git@host`; a `/` after the `://` ends that part), an
 * scp-style git remote (`git@github.com:org/repo`), an image name (`icon@2x.png`).
 */
export function findEmails(value: string): [number, number][] {
  const found: [number, number][] = [];
  let done = 0;
  for (let at = value.indexOf('@'); at >= 0; at = value.indexOf('@', at + 1)) {
    let s = at;
    while (s > Math.max(done, at - 64) && LOCAL_CHAR.test(value[s - 1] as string)) s--;
    while (s < at && value[s] === "'") s++; // a quote that opens a string is not part of the address
    let e = at + 1;
    while (e < Math.min(value.length, at + 254) && DOMAIN_CHAR.test(value[e] as string)) e++;
    while (e > at + 1 && /[.-]/.test(value[e - 1] as string)) e--;
    if (s === at || !EMAIL.test(value.slice(s, e))) continue;
    const next = value[e];
    if (next === '@' || (next === ':' && /[\w~./-]/.test(value[e + 1] ?? ''))) continue;
    // (`asyncify-imports@env.await_promise_sync`: a name goes on where no domain can, an identifier's, not an address.)
    if (next === '_' || next === '$') continue;
    // URL userinfo: `://` shortly before, with nothing between that ends a URL's authority.
    const window = value.slice(Math.max(0, s - 300), s);
    const scheme = window.lastIndexOf('://');
    if (scheme >= 0 && !/[\s/?#"',;<>]/.test(window.slice(scheme + 3))) continue;
    if (/@\d+x\./.test(value.slice(at, e))) continue;
    // Code and versions that read like addresses: Kotlin's labels (`this@MainActivity.finish()`, `return@forEach`), a
    // package at a version (`pkg@1.0.0-alpha.beta`: two numeric labels first; `163.com` is a mail host).
    if (/^(?:this|return|break|continue|super)$/.test(value.slice(s, at)) || /^\d+\.\d+(?:[.-]|$)/.test(value.slice(at + 1, e))) continue;
    found.push([s, e]);
    at = e;
    done = e;
  }
  return found;
}

const CARD_WORDS = /(?:card|pan|cc|visa|mastercard|maestro|unionpay|amex|payment|credit|debit|karte|carte|tarjeta)\b[^\d\n]{0,30}$/i;

/** Query-string and form parameters that carry credentials. */
const QUERY_NAMES = '(?:access_token|refresh_token|id_token|hapikey|jwt|sessionid|session|sid|ticket|token|api_?key|apikey|key|client_secret|password|passwd|secret|sig|signature|auth|x-amz-signature|x-amz-credential|x-amz-security-token|code)';
const QUERY_HINT = /[?&;](?:access_token|refresh_token|id_token|hapikey|jwt|sessionid|session|sid|ticket|token|api_?key|apikey|key|client_secret|password|passwd|secret|sig|signature|auth|X-Amz-(?:Signature|Credential|Security-Token)|code)=/i;
const QUERY_VALUE = '(?!\\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\\])(?:(?!%26|%23)[^&#\\s"\'<>\\\\]){6,4096}';
/** Named for a credential (access_token=…), whatever the value; named loosely (key=, code=, sig=, auth=) only when the value looks like one (`?key=weather_report` does not). */
const queryAccept = (value: string, prefix: string): boolean =>
  !/^(?:.|%3F|%26|\\u0026)(?:key|code|sig|auth|token|session|sid|ticket)(?:=|%3D)$/i.test(prefix) || (value.length >= 16 && /\d/.test(value)) || (/\d/.test(value) && /[A-Za-z]/.test(value) && /[A-Z]/.test(value) && /[a-z]/.test(value));

/** Words right before a number that say it is something else: an id, a port, an order or a trace. */
const NOT_CARD_WORDS = /(?:\bids?|request|trace|span|order|invoice|ticket|build|job|run|ports?|pid|txn?|hash|seq|serial|tracking|account)\b[^\d\n]{0,12}$/i;

const KEY_BEGIN_ALL = new RegExp(KEY_BLOCK_BEGIN.source, 'g');
const KEY_END_AT = new RegExp(`^(?:${KEY_BLOCK_END.source})`);
const KEY_LINE = /^(?:[A-Za-z0-9+/]{8,}={0,2}|={1,2}[A-Za-z0-9+/]{4}|[A-Za-z][A-Za-z-]{1,30}:[ \t].*|[A-Za-z0-9+/=]{1,7})?[ \t\r]*$/;
/** A line's prefix as a shape: the digits of a timestamp differ from line to line. */
const prefixShape = (text: string): string => text.replace(/\d/g, '0');
/**
 * A private key shown with the same prefix on each of its lines, whatever the prefix is (a log's `INFO ` or
 * `2024-05-01T10:00:00.123Z ERROR `, docker compose's `web-1  | `, kubectl's `[pod/api-7d9f/api] …`, a comment's
 * ` * `, a REPL's `>>> `; the armour rule knows only a tool's few): from its BEGIN line through its END line, or
 * through its last line of base64 where it has none. Each line must carry the BEGIN line's prefix (its digits may
 * differ) and hold base64, a header (`Proc-Type: …`) or nothing else.
 */
export function findPrefixedKeyBlocks(value: string): [number, number][] {
  const found: [number, number][] = [];
  KEY_BEGIN_ALL.lastIndex = 0;
  for (let m = KEY_BEGIN_ALL.exec(value), n = 0; m !== null && n < 1000; m = KEY_BEGIN_ALL.exec(value), n++) {
    const from = Math.max(0, m.index - 200);
    const lineStart = from + value.slice(from, m.index).lastIndexOf('\n') + 1;
    if (lineStart === from && from > 0) continue; // (a prefix longer than 200 characters is no tool's)
    const shape = prefixShape(value.slice(lineStart, m.index));
    let end = -1;
    let body = 0;
    for (let at = m.index + m[0].length, lines = 0; lines < 4000; lines++) {
      const nl = value.indexOf('\n', at);
      if (nl < 0) break;
      const next = value.indexOf('\n', nl + 1);
      const lineEnd = next < 0 ? value.length : next;
      const start = nl + 1 + shape.length;
      if (lineEnd < start || prefixShape(value.slice(nl + 1, start)) !== shape) break;
      const rest = value.slice(start, lineEnd);
      const closing = KEY_END_AT.exec(rest);
      if (closing) {
        end = start + closing[0].length;
        break;
      }
      if (!KEY_LINE.test(rest)) break;
      if (/[A-Za-z0-9+/]{8}/.test(rest)) {
        body++;
        end = start + rest.replace(/[ \t\r]+$/, '').length;
      }
      at = lineEnd;
    }
    if (body > 0 && end > 0) {
      found.push([m.index, end]);
      KEY_BEGIN_ALL.lastIndex = end;
    }
  }
  return found;
}

export const DETECTOR_SETS: Record<'secrets' | 'email' | 'credit-card' | 'ip', Detector[]> = {
  secrets: [
    // Private keys of every common format, with or without their closing line.
    { kind: 'private-key', hint: /PRIVATE/, pattern: `-----BEGIN[ \\t]+(?:[A-Z0-9]{1,16}[ \\t]+){0,3}PRIVATE[ \\t]+KEY-----${BLOCK_TO('-----END[ \\t]+(?:[A-Z0-9]{1,16}[ \\t]+){0,3}PRIVATE[ \\t]+KEY-----')}` },
    // The rest of a key whose BEGIN line is elsewhere (cut off, or in the previous element of an array): up to its END line.
    { kind: 'private-key', hint: withLiteral('PRIVATE', /END[ \t]+(?:[A-Z0-9]{1,16}[ \t]+){0,3}PRIVATE[ \t]+KEY/), pattern: `^(?![\\s\\S]*-----BEGIN)[\\s\\S]{1,16384}?${KEY_BODY_BEHIND}-----END[ \\t]+(?:[A-Z0-9]{1,16}[ \\t]+){0,3}PRIVATE[ \\t]+KEY(?:[ \\t]+BLOCK)?-----` },
    // (A key whose lines all carry a prefix the rule above does not know: a log's, a comment's.)
    { kind: 'private-key', hint: withLiteral('PRIVATE', KEY_BLOCK_BEGIN), scan: findPrefixedKeyBlocks },
    { kind: 'pgp-private-key', hint: /PGP PRIVATE KEY BLOCK/, pattern: `-----BEGIN PGP PRIVATE KEY BLOCK-----${BLOCK_TO('-----END PGP PRIVATE KEY BLOCK-----')}` },
    { kind: 'ssh2-private-key', hint: /BEGIN SSH2/, pattern: `----[ \\t]*BEGIN[ \\t]+SSH2[ \\t]+(?:ENCRYPTED[ \\t]+)?PRIVATE[ \\t]+KEY[ \\t]*----${BLOCK_TO('----[ \\t]*END[ \\t]+SSH2[ \\t]+(?:ENCRYPTED[ \\t]+)?PRIVATE[ \\t]+KEY[ \\t]*----')}` },
    { kind: 'private-key', hint: /OpenVPN Static key/, pattern: `-----BEGIN OpenVPN Static key V1-----${BLOCK_TO('-----END OpenVPN Static key V1-----')}` },
    // TLS key-log lines (SSLKEYLOGFILE): the label and the client random stay, the secret after them is masked.
    { kind: 'tls-key-log', hint: { test: (v) => (v.includes('CLIENT_RANDOM ') || v.includes('_SECRET')) && /(?:CLIENT_RANDOM|TRAFFIC_SECRET_0|HANDSHAKE_TRAFFIC_SECRET|EXPORTER_SECRET) [0-9a-f]/.test(v) }, prefix: '(?:CLIENT_RANDOM|(?:CLIENT|SERVER)_(?:HANDSHAKE_)?TRAFFIC_SECRET(?:_0)?|(?:EARLY_)?EXPORTER_SECRET|CLIENT_EARLY_TRAFFIC_SECRET) [0-9a-f]{64} ', pattern: '[0-9a-f]{64,192}' },
    { kind: 'putty-private-key', hint: /PuTTY-User-Key-File/, pattern: `PuTTY-User-Key-File-\\d:${BLOCK_TO('Private-MAC:[ \\t]*[0-9a-fA-F]+', false)}` },
    token('aws-access-key', /A[KSBC][IC]A|A3T/, '(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[0-9A-Z]{16}'),
    token('github-token', /gh[pousr]_|github_pat_/, 'gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255}'),
    token('gitlab-token', /gl[a-z]{1,5}-/, 'gl(?:pat|dt|rt|ptt|cbt|imt|oas|soat|ft|ffct)-[A-Za-z0-9_-]{20,8192}|glagent-[A-Za-z0-9_-]{50,8192}'),
    token('slack-token', /xox[abposre]-|xapp-/, 'xox[abposre]-[A-Za-z0-9-]{10,8192}|xapp-\\d-[A-Z0-9]+-\\d+-[a-z0-9]+'),
    { kind: 'slack-webhook', inRun: true, hint: /hooks\.slack\.com/, pattern: 'https://hooks\\.slack\\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,8192}' },
    { kind: 'anaconda-token', inRun: true, hint: /anaconda\.[a-z]+\/t\//, prefix: 'anaconda\\.(?:org|com|cloud)/t/', pattern: '[A-Za-z0-9_-]{8,128}(?=/|$)' },
    { kind: 'teams-webhook', inRun: true, hint: /webhook\.office\.com\/webhookb2\/|outlook\.office(?:365)?\.com\/webhook\//, pattern: 'https://(?:[A-Za-z0-9-]{1,64}\\.webhook\\.office\\.com/webhookb2|outlook\\.office(?:365)?\\.com/webhook)/[A-Za-z0-9@/_-]{20,2048}' },
    { kind: 'zapier-webhook', inRun: true, hint: /hooks\.zapier\.com\/hooks\//, pattern: 'https://hooks\\.zapier\\.com/hooks/(?:catch|standard)/\\d{3,12}/[A-Za-z0-9]{4,64}/?' },
    { kind: 'discord-webhook', inRun: true, hint: /discord(?:app)?\.com\/api\/webhooks/, pattern: 'https://(?:ptb\\.|canary\\.)?discord(?:app)?\\.com/api/webhooks/\\d+/[A-Za-z0-9_-]+' },
    token('stripe-key', /[srp]k_(?:live|test)_|whsec_/, '(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{16,8192}|whsec_[A-Za-z0-9]{24,8192}'),
    token('anthropic-key', /sk-ant-/, 'sk-ant-(?:api|admin|sid)\\d\\d-[A-Za-z0-9_-]{20,8192}'),
    // (Before OpenAI's: a pattern tried first at a place wins it, and OpenAI's check refuses this body.)
    // A private key in DER, as bare base64 (PKCS#8 of RSA, EC, Ed25519 and X25519 keys, PKCS#1 RSA, SEC1 EC): known by
    // the fixed bytes of its beginning (its version, then its algorithm or its first integer). Public keys and
    // certificates begin otherwise.
    token(
      'private-key',
      /MII|MI[GH]|MHcC|MC4C/,
      '(?:MII[A-Za-z0-9+/]{3}IBA(?:DANBgkqhkiG9w0BAQEFAAS|AKC[AQ])|MI[GH][A-Za-z0-9+/]AgEAMB[AM]GByqGSM49AgEG|MHcCAQEE|MIGkAgEBBD|MIHcAgEBBE|MC4CAQAwBQYDK2V[wu])[A-Za-z0-9+/]{16,16384}(?:(?:\\\\n|\\r?\\n)[A-Za-z0-9+/]{1,76}){0,400}={0,2}',
    ),
    // An OpenSSH private key's body without its armor: base64 that begins with `openssh-key-v1`.
    token('private-key', /b3BlbnNzaC1rZXktdjE/, 'b3BlbnNzaC1rZXktdjE[A-Za-z0-9+/]{16,16384}(?:(?:\\\\n|\\r?\\n)[A-Za-z0-9+/]{1,76}){0,400}={0,2}'),
    token('openrouter-key', /sk-or-/, 'sk-or-v1-[0-9a-f]{64}'),
    token('langfuse-key', /sk-lf-/, 'sk-lf-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'),
    // `sk-` also starts ordinary names (`sk-dashboard-frontend-service-7d9f8b6c5`): a key's body is random (mixed
    // case and digits, OpenAI's T3BlbkFJ marker) or long hex (the providers that copied the prefix).
    {
      ...token('openai-key', /sk-/, 'sk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,8192}'),
      accept: (s) => {
        const body = s.replace(/^sk-(?:proj-|svcacct-|admin-|None-)?/, '');
        return s.includes('T3BlbkFJ') || (/[A-Z]/.test(body) && /[a-z]/.test(body) && /\d/.test(body)) || /^[a-f0-9]{32,8192}$/.test(body);
      },
    },
    token('groq-key', /gsk_/, 'gsk_[A-Za-z0-9]{52}'),
    token('xai-key', /xai-/, 'xai-[A-Za-z0-9]{80}'),
    token('perplexity-key', /pplx-/, 'pplx-[A-Za-z0-9]{48}'),
    token('replicate-token', /r8_/, 'r8_[A-Za-z0-9]{37}'),
    token('heroku-key', /HRKU-/, 'HRKU-AA[0-9A-Za-z_-]{58}'),
    token('azure-client-secret', /Q~/, '[A-Za-z0-9_~.]{3}\\dQ~[A-Za-z0-9_~.-]{31,34}'),
    token('alibaba-access-key', /LTAI/, 'LTAI[A-Za-z0-9]{20}'),
    // An AWS session token (STS's, with no label: `aws sts get-session-token --output text`), by the base64 of its first bytes.
    token('aws-session-token', /FwoGZXIvYXdz|FQoGZXIvYXdz|IQoJb3JpZ2lu|AQoDYXdz/, '(?:FwoGZXIvYXdz|FQoGZXIvYXdz|IQoJb3JpZ2lu|AQoDYXdz)[A-Za-z0-9+/]{80,4096}={0,2}'),
    token('flyio-token', /f[om][12][ar]?_/, 'fo1_[A-Za-z0-9_-]{43}|fm[12][ar]?_[A-Za-z0-9+/]{100,8192}={0,3}'),
    token('planetscale-token', /pscale_/, 'pscale_(?:tkn|pw|oauth)_[A-Za-z0-9_=.-]{32,64}'),
    token('supabase-token', /sbp_|sb_secret_/, 'sbp_[a-f0-9]{40}|sb_secret_[A-Za-z0-9_-]{20,128}'),
    token('bitbucket-token', /ATBB/, 'ATBB[A-Za-z0-9_=.-]{28,128}'),
    token('tailscale-key', /tskey-/, 'tskey-(?:auth|api|client|scim|webhook)-[A-Za-z0-9]{6,64}-[A-Za-z0-9]{16,128}'),
    // (An md5 with `-us1` after it reads as one too: 32 hex digits are all a key's body is, and a key in prose must not pass.)
    token('mailchimp-key', /-us\d/, '[0-9a-f]{32}-us\\d{1,2}'),
    { ...token('twitter-bearer', /AAAAAAAAAAAAAAAAAAAAA/, 'A{22}[A-Za-z0-9%]{80,160}'), accept: (s) => varied(s.slice(22)) },
    token('mapbox-secret', /sk\.eyJ/, 'sk\\.eyJ[A-Za-z0-9_-]{20,1024}\\.[A-Za-z0-9_-]{20,256}'),
    { ...token('dropbox-token', /sl\./, 'sl\\.[A-Za-z0-9_=-]{130,160}'), accept: (s) => varied(s.slice(3)) },
    { ...token('paseto-token', /v[1-4]\.(?:local|public)\./, 'v[1-4]\\.(?:local|public)\\.[A-Za-z0-9_-]{40,8192}(?:\\.[A-Za-z0-9_-]{1,1024})?'), accept: (s) => varied(s.replace(/^v[1-4]\.(?:local|public)\./, '')) },
    { ...token('fernet-token', /gAAAAA/, 'gAAAAA[A-Za-z0-9_-]{80,8192}={0,2}'), accept: (s) => varied(s.slice(6)) },
    token('google-api-key', /AIza/, 'AIza[0-9A-Za-z_-]{35}'),
    token('google-oauth-secret', /GOCSPX-/, 'GOCSPX-[A-Za-z0-9_-]{28}'),
    // A JWT, also wrapped after its dots (a log that folds long lines).
    // (Found by a scan: as a regex, it read 8 KB ahead at every `eyJ` of `-eyJ-eyJ…`.)
    // (Its hint looks for the rare `J` first: `e` stands everywhere in prose, and a search for `eyJ` stops at each.)
    { kind: 'jwt', hint: { test: (v) => v.includes('J') && v.includes('eyJ') }, scan: jwtScanner() },
    token('google-oauth-token', /ya29\.|1\/\/0/, 'ya29\\.[0-9A-Za-z_-]{20,8192}|1//0[0-9A-Za-z_-]{40,8192}'),
    // Password hashes (crypt's `$apr1$`, `$2y$`, `$6$`, argon2; LDAP's `{SSHA}`): crackable offline, so kept out too.
    // Django's (`pbkdf2_sha256$…`), PostgreSQL's SCRAM verifiers, MySQL's native `*` + 40 hex.
    { kind: 'password-hash', inRun: true, hint: /pbkdf2_sha|SCRAM-SHA-|\*[0-9A-F]{40}|\$9\$/, pattern: '(?:\\$9\\$[A-Za-z0-9./-]{8,512}|pbkdf2_sha(?:1|256)\\$\\d{1,7}\\$[A-Za-z0-9+/=._-]{1,128}\\$[A-Za-z0-9+/=]{16,256}|SCRAM-SHA-(?:1|256)\\$\\d{1,7}:[A-Za-z0-9+/=]{8,128}\\$[A-Za-z0-9+/=]{16,128}:[A-Za-z0-9+/=]{16,128}|(?<![A-Za-z0-9*])\\*[0-9A-F]{40}(?![0-9A-Za-z]))' },
    { kind: 'otp-secret', inRun: true, hint: /otpauth-migration:/, pattern: 'otpauth-migration://offline\\?data=[A-Za-z0-9%+/=_-]{20,8192}' },
    { kind: 'password-hash', inRun: true, hint: /\$(?:apr1|2[abxy]|[156]|y|argon2(?:id|i|d))\$|\{S?SHA\}/, pattern: '(?:\\$(?:apr1|2[abxy]|[156]|y|argon2(?:id|i|d))\\$[./A-Za-z0-9$=,+-]{16,512}|\\{S?SHA(?:256|512)?\\}[A-Za-z0-9+/]{20,8192}={0,2})' },
    { kind: 'url-password', inRun: true, hint: /jdbc:oracle:/, prefix: 'jdbc:oracle:(?:thin|oci8?|kprb):[^/\\s:@]{1,128}/', pattern: '[^@\\s/\'"]{1,256}(?=@)' },
    token('npm-token', /npm_/, 'npm_[A-Za-z0-9]{36}'),
    token('buildkite-token', /bkua_/, 'bkua_[a-f0-9]{40}'),
    token('circleci-token', /CCIPAT_/, 'CCIPAT_[A-Za-z0-9]{22}_[a-f0-9]{40}'),
    token('netlify-token', /nfp_/, 'nfp_[A-Za-z0-9]{36}'),
    token('pinecone-key', /pcsk_/, 'pcsk_[A-Za-z0-9]{4,12}_[A-Za-z0-9]{40,96}'),
    token('langsmith-key', /lsv2_/, 'lsv2_(?:pt|sk)_[a-f0-9]{32}_[a-f0-9]{10}'),
    token('bedrock-key', /ABSK/, 'ABSK[A-Za-z0-9+/]{100,400}={0,2}'),
    token('braintree-token', /access_token\$production\$/, 'access_token\\$production\\$[0-9a-z]{16}\\$[0-9a-f]{32}'),
    token('resend-key', /re_/, 're_[A-Za-z0-9]{8}_[A-Za-z0-9]{24}'),
    token('brevo-key', /xkeysib-/, 'xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}'),
    token('fcm-server-key', /:APA91b/, 'AAAA[A-Za-z0-9_-]{7}:APA91b[A-Za-z0-9_-]{130,200}'),
    token('neon-key', /napi_/, 'napi_[a-z0-9]{64}'),
    token('jfrog-key', /AKCp/, 'AKCp[A-Za-z0-9]{69}'),
    token('k3s-token', /K10[0-9a-f]{8}/, 'K10[0-9a-f]{40,80}::(?:server|node):[0-9a-f]{16,64}'),
    token('gitlab-runner-token', /GR1348941/, 'GR1348941[A-Za-z0-9_-]{20}'),
    token('docker-swarm-key', /SWM(?:KEY|TKN)-1-/, 'SWMKEY-1-[A-Za-z0-9+/]{40,64}|SWMTKN-1-[a-z0-9]{50}-[a-z0-9]{25}'),
    token('sonarqube-token', /sq[uap]_/, 'sq[uap]_[0-9a-f]{40}'),
    { ...token('discord-bot-token', /\.[A-Za-z0-9_-]{6}\./, '[MN][A-Za-z0-9_-]{23,25}\\.[A-Za-z0-9_-]{6}\\.[A-Za-z0-9_-]{27,38}'), accept: (s) => varied(s.replace(/\..*$/, '')) },
    token('pypi-token', /pypi-/, 'pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{50,8192}'),
    token('docker-token', /dckr_pat_/, 'dckr_pat_[A-Za-z0-9_-]{27,8192}'),
    token('huggingface-token', /hf_|api_org_/, 'hf_[A-Za-z]{34}|api_org_[A-Za-z]{34}'),
    // A JWT left unsigned (`alg: none`, its third part empty) and a JWE in compact form (five parts: NextAuth's
    // session token), where no key or header names them: their header says what they are.
    { ...token('jwt', /eyJ/, 'eyJ[A-Za-z0-9_-]{5,8192}\\.eyJ[A-Za-z0-9_-]{5,8192}\\.(?![A-Za-z0-9_-])'), accept: (s) => joseHeader(s)?.alg === 'none' },
    { ...token('jwe', /eyJ/, 'eyJ[A-Za-z0-9_-]{10,4096}\\.[A-Za-z0-9_-]{0,4096}\\.[A-Za-z0-9_-]{10,4096}\\.[A-Za-z0-9_-]{10,65536}\\.[A-Za-z0-9_-]{10,4096}'), accept: (s) => typeof joseHeader(s)?.enc === 'string' },
    token('vault-token', /hv[sbr]\./, 'hvs\\.[A-Za-z0-9_-]{24,8192}|hvb\\.[A-Za-z0-9_-]{90,8192}|hvr\\.[A-Za-z0-9_-]{24,8192}'),
    token('terraform-token', /\.atlasv1\./, '[A-Za-z0-9]{14}\\.atlasv1\\.[A-Za-z0-9_=-]{60,70}'),
    token('sendgrid-key', /SG\./, 'SG\\.[A-Za-z0-9_-]{22}\\.[A-Za-z0-9_-]{43}'),
    token('twilio-key', /SK[0-9a-f]/, 'SK[0-9a-f]{32}'),
    token('mailgun-key', /key-/, 'key-[0-9a-f]{32}', WORD_TOKEN_START),
    token('shopify-token', /shp(?:at|ca|pa|ss)_/, 'shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}'),
    token('digitalocean-token', /do[opr]_v1_/, 'do[opr]_v1_[a-f0-9]{64}'),
    token('telegram-bot-token', /:AA/, '\\d{8,10}:AA[A-Za-z0-9_-]{33}'),
    token('linear-key', /lin_api_/, 'lin_api_[A-Za-z0-9]{40}'),
    token('notion-token', /ntn_|secret_/, 'ntn_[A-Za-z0-9]{40,8192}|secret_[A-Za-z0-9]{43}'),
    token('databricks-token', /dapi/, 'dapi[0-9a-f]{32}(?:-\\d)?'),
    token('newrelic-key', /NRAK-/, 'NRAK-[A-Z0-9]{27}'),
    token('sentry-token', /sntry[su]_/, 'sntry[su]_[A-Za-z0-9_=+/-]{40,8192}'),
    token('postman-key', /PMAK-/, 'PMAK-[0-9a-f]{24}-[0-9a-f]{34}'),
    token('grafana-token', /gl(?:sa|c)_/, 'glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}|glc_[A-Za-z0-9+/]{32,8192}={0,2}'),
    token('age-secret-key', /AGE-SECRET-KEY-1/, 'AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}'),
    token('square-token', /sq0(?:atp|csp)-|EAAA/, 'sq0(?:atp|csp)-[0-9A-Za-z_-]{22,43}|EAAA[A-Za-z0-9_-]{60}'),
    token('atlassian-token', /ATATT3/, 'ATATT3[A-Za-z0-9_=-]{180,8192}'),
    token('doppler-token', /dp\.(?:pt|st|ct|sa|scim|audit)\./, 'dp\\.(?:pt|st|ct|sa|scim|audit)\\.[A-Za-z0-9]{40,44}'),
    token('pulumi-token', /pul-/, 'pul-[a-f0-9]{40}'),
    token('figma-token', /figd_/, 'figd_[A-Za-z0-9_-]{40}'),
    { kind: 'azure-storage-key', inRun: true, hint: /AccountKey=/, prefix: 'AccountKey=', pattern: '[A-Za-z0-9+/]{86}==' },
    // AWS's secret access key has no prefix: 40 characters of base64 standing alone, random enough (a git SHA,
    // hex, or a long identifier is not), or glued by `-`, `_`, `.` or `/` to a short name on either side
    // (`cli-wJalr…`, `…KEY_v2`) that begins or ends the run: forty characters inside a longer run (a base64 blob, a
    // URL's path) are no key.
    {
      kind: 'aws-secret-key',
      inRun: true,
      hint: boundedKeyStretch(40, 32),
      pattern:
        '(?:(?<![A-Za-z0-9/+=_.-])|(?<=(?<![A-Za-z0-9/+=_.-])[A-Za-z0-9][A-Za-z0-9_.-]{0,31}[/_.-]))[A-Za-z0-9/+]{40}' +
        '(?:(?![A-Za-z0-9/+=_-])|(?=[/_.-][A-Za-z0-9_.-]{0,31}[A-Za-z0-9](?![A-Za-z0-9/+=_.-])))',
      // (Not the first forty characters of a SHA-256 digest in base64url, 43 long: a PKCE code_challenge, a JWK thumbprint.)
      accept: (s, _prefix, input, offset) => /[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s) && !/^[0-9a-fA-F]+$/.test(s) && entropy(s) >= 4.4 && !/^[A-Za-z0-9_-]{43}(?![A-Za-z0-9_=+/-])/.test(input.slice(offset, offset + 44)),
    },
    // A token as a URL's user, with no password (`https://<token>@github.com/org/repo.git`): long, random, no dots.
    {
      kind: 'url-token',
      inRun: true,
      hint: /:\/\/[A-Za-z0-9_-]{32,256}@/,
      prefix: '\\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://',
      pattern: '[A-Za-z0-9_-]{32,256}(?=@[A-Za-z0-9.-]{1,253}(?:[:/?#"\'\\s]|$))',
      accept: (s) => /\d/.test(s) && /[A-Za-z]/.test(s) && !isPlaceholder(s),
    },
    // The password of a URL with credentials: scheme://user:PASSWORD@host
    // Bounded everywhere: no input makes this try more than a few hundred characters from one place.
    // (Not a port and a path that holds an `@`: Vite's `http://localhost:5173/@vite/client`, a profile's `/@user`.)
    { kind: 'url-password', inRun: true, accept: (s) => !isPlaceholder(s) && !/^\d{1,5}\//.test(s), hint: /:\/\/[^\s/@]{0,256}:[^\s]{0,256}@/, prefix: '\\b[a-zA-Z][a-zA-Z0-9+.-]{0,30}://[^\\s:/@]{0,256}:', pattern: '(?!\\[MASKED:)[^\\s"\'\\\\]{1,256}(?=@(?:[A-Za-z0-9._-]{1,253}|\\[[^\\]\\s]{2,64}\\]|\\$?\\{[^}\\s]{1,64}\\}|%[sv]|(?=["\'`]))(?::\\d{1,5}|:\\$?\\{[^}\\s]{1,64}\\})?(?:,[A-Za-z0-9._-]{1,253}(?::\\d{1,5})?){0,16}(?:[/?#\\s"\'`\\\\)<>\\];,]|$))' },
    // Phase 2: context. HTTP auth headers and cookies, wherever they are written out.
    // The credentials after an auth header's scheme, to the end of the line or the closing quote (SharedKey acct:sig, Digest k=v, …).
    // The header name comes first (a literal the regex engine finds fast); the word boundary is checked behind it.
    {
      kind: 'auth-header',
      phase: 2,
      hint: /authorization|api-key|auth-token/i,
      prefix: '(?:proxy-)?(?:authorization|x-api-key|api-key|x-auth-token)(?<![a-z0-9-](?:proxy-)?(?:authorization|x-api-key|api-key|x-auth-token))\\\\?["\']?[ \\t]{0,20}[:=][ \\t]{0,20}(?:\\r?\\n[ \\t]{1,20})?\\\\?["\']?(?:(?:bearer|basic|token|bot|digest|negotiate|aws4-hmac-sha256|sharedkey|sharedkeylite|hmac|hawk|oauth|apikey|key|ssws|splunk|geniekey)[ \\t]+\\\\?["\']?)?',
      // Digest's parameters are quoted (`response="…"`): after that scheme the rest of the line is the credential.
      pattern: '(?!\\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\\])(?:(?<=digest[ \\t]{1,20})[^\\r\\n\\\\`]{3,4096}|[^\\s"\'\\\\`][^\\r\\n"\'\\\\`]{3,4096})(?<=\\S)',
      accept: (value, prefix) => {
        if (isPlaceholder(value) || isPlaceholder((value.split(/\s/)[0] ?? '').replace(/[,;)]+$/, '')) || looksLikeCode(value) || /^\$\{|\+\s*[A-Za-z_]/.test(value)) return false;
        // (A statement on the next line, after a `case 'device_authorization':` label, is no folded header.)
        if (/\n/.test(prefix) && /^[A-Za-z_$][\w$.]*[ \t]+=(?:[ \t]|$)/.test(value)) return false;
        // (`{ Authorization: authHeader, 'Content-Type': … }`: an object literal's member, its value a variable.)
        if (/^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)*[ \t]*[,;)}]/.test(value) && /[a-z][A-Z]|[A-Za-z]_[A-Za-z]|\./.test(value.split(/[ \t,;)}]/)[0] ?? '')) return false;
        // (`device_authorization: '/device/auth'`: an endpoint's path, no credential.)
        if (/^\/[a-z_-]{1,40}(?:\/[a-z_-]{1,40}){0,4}$/.test(value)) return false;
        // With a scheme (`Bearer …`) the rest is the credential; without one it must look like a credential itself.
        return /(?:bearer|basic|token|bot|digest|negotiate|aws4-hmac-sha256|sharedkey|sharedkeylite|hmac|hawk|oauth|apikey|key|ssws|splunk|geniekey)[ \t]+\\?["']?$/i.test(prefix) || (secretLooking(value.split(/\s/)[0] ?? '') && (value.split(/\s/)[0] ?? '').length >= 8);
      },
    },
    // Cookies are name=value pairs: the header's value is masked when it holds one.
    {
      kind: 'cookie',
      phase: 2,
      hint: /cookie/i,
      prefix: '(?:set-)?cookie(?<![a-z0-9-](?:set-)?cookie)\\\\?["\']?[ \\t]{0,20}:[ \\t]{0,20}\\\\?["\']?',
      pattern: '(?!\\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\\])[^\\s"\'\\\\][^\\r\\n"\'\\\\]{2,4096}',
      accept: (value) => /[^=\s]=/.test(value) && !isPlaceholder(value),
    },
    // In a URL as written (`?access_token=…`), and percent-encoded or escaped inside another value (`next=%2Fdone%3Fpassword%3D…`, Go's `\\u0026`).
    { kind: 'query-secret', phase: 2, hint: QUERY_HINT, prefix: `[?&;]${QUERY_NAMES}=`, pattern: QUERY_VALUE, accept: queryAccept },
    { kind: 'query-secret', phase: 2, hint: /%3F|%26|\\u0026/i, prefix: `(?:%3F|%26|\\\\u0026)${QUERY_NAMES}(?:=|%3D)`, pattern: QUERY_VALUE, accept: queryAccept },
    tomlMultiline,
    // A JSON Web Key's private members (`"d"`, RSA's primes and exponents, a symmetric key's `"k"`), in JSON written as text.
    {
      kind: 'private-key',
      phase: 3,
      hint: /\\?"kty\\?"/,
      prefix: `\\\\?"(?:d|p|q|dp|dq|qi|k)\\\\?"[ \\t]{0,20}:[ \\t]{0,20}\\\\?"`,
      pattern: '[A-Za-z0-9_-]{16,16384}',
      // Only a member of the object that says it is a JWK (`"kty": "RSA"`), not a `"q"` elsewhere in the same text.
      accept: (value, _prefix, input, offset) => {
        // (Within a JWK's reach: its members stand within a few KB of its `kty`; never the whole text per member.)
        const before = input.slice(Math.max(0, offset - 4096), offset);
        const open = before.lastIndexOf('{');
        if (open < 0 || before.includes('}', open)) return false;
        const after = input.slice(offset + value.length, offset + value.length + 4096);
        const close = after.search(/[{}]/);
        const object = before.slice(open) + (close < 0 ? after : after.slice(0, close));
        return /\\?"kty\\?"[ \t]*:[ \t]*\\?"(?:RSA|EC|OKP|oct)\\?"/.test(object);
      },
    },
    ...cliPasswords,
    ...moreCliPasswords,
    wordPasswords,
    transcriptPasswords,
    smtpAuth,
    directiveSecret,
    authorizationDirective,
    expectSend,
    rsaKeyValue,
    saidSecret,
    netrcPassword,
    pgpassPassword,
    keyValueArguments,
    terraformDefault,
    fallbackDefault,
    helmDefaultFirst,
    cDefine,
    ldifBase64,
    powershellSecret,
    keywordKey,
    wifiQr,
    gradleField,
    fieldDefault,
    charArrayPassword,
    encodedBasic,
    basicAuthArguments,
    connectionStringPassword,
    windowsCommandPassword,
    toolPasswords,
    knownNeighbour,
    databaseStatementPassword,
    printedOnce,
    opensslKeyText,
    signatureSecretKey,
    answerFilePassword,
    jfrogHeader,
    ngrokAuthtoken,
    redisQuotedAuth,
    smtpLoginPassword,
    proseSecret,
    curlUserPassword,
    nameValueText,
    cookieJarLine,
    bearerAnywhere,
    sqlPassword,
    sqlIdentifiedBy,
    ...xmlSecrets,
    yamlBlock,
    yamlNextLine,
    yamlList,
    lineAssignment,
    lineAssignmentInString,
    spacedLabel,
    secretAssignment,
    { kind: 'secret-value', hint: { test: credentialCallIn }, scan: findCallCredentials },
    { kind: 'secret-value', hint: { test: (v) => v.includes('\n') && (v.includes('|') || v.includes('\t') || v.includes(',')) && TABLE_WORD.test(v) }, scan: findTableSecrets },
    { kind: 'secret-value', hint: { test: (v) => (v.includes('VALUES') || v.includes('values') || v.includes('Values') || v.includes('stdin')) && v.includes('(') && /insert|copy/i.test(v) }, scan: findSqlRowSecrets },
    // (Both behind phase 3's gate: a table's `Value` heading opens it, as ssh-keygen's `-N` does.)
    { kind: 'secret-value', phase: 3, hint: { test: (v) => ((v.includes('Key ') || v.includes('Name ')) && v.includes('-----')) || v.includes('KEY  ') }, scan: findAlignedSecrets },
    { kind: 'cli-password', phase: 3, hint: { test: (v) => v.includes('ssh-keygen') }, scan: findSshKeygenPasswords },
    { kind: 'secret-value', hint: { test: (v) => v.includes('\n') && PROMPT_LINE.test(v) }, scan: findPrintedSecrets },
    { kind: 'secret-value', hint: { test: (v) => v.includes('│') }, scan: findBoxTableSecrets },
    { kind: 'secret-value', hint: { test: (v) => v.includes('Secret') && MANIFEST_KIND.test(v) }, scan: findManifestSecrets },
    // (A function hint: the regex with `i` would search every text character by character.)
    { kind: 'secret-value', phase: 2, hint: { test: (v) => v.includes('\n') && /\n[ \t]*(?:[Kk]ey|KEY|[Ss]ecret|SECRET)[ \t]*[:=]/.test(v) }, scan: findOwnedKeyLines },
    { kind: 'secret-value', phase: 2, hint: { test: (v) => (v.includes('{') || v.includes('(') || bracketNotToken(v)) && /[:=][ \t]*(?:\[(?!MASKED:)|\{|&\[|(?:new[ \t]+)?[A-Za-z.]{2,20}(?:\(|[ \t]*\[))/.test(v) && KEY_HINT.test(v) }, scan: findFlowListSecrets },
    { kind: 'secret-value', phase: 2, hint: { test: (v) => v.includes('- ') && /:[ \t]*\r?\n[ \t]*- /.test(v) && KEY_HINT.test(v) }, scan: findBlockListSecrets },
  ],
  email: [
    { kind: 'email', hint: /@/, scan: findEmails },
  ],
  'credit-card': [
    {
      kind: 'credit-card',
      // `\d\d\d\d`, not `\d{4}`: the regex engine skips ahead over text without four digits only for the first.
      hint: /\d\d\d\d[ .\t\u00a0\u202f\u2013-]{0,2}\d\d\d\d/,
      // Grouped as printed (4-4-4-4, 4-6-5, 4-4-4-4-3), or 15–16 digits standing alone; then issuer and Luhn.
      // Grouped with spaces, dashes, dots, tabs or no-break spaces (as printed and pasted).
      pattern: '(?<![\\dA-Za-z_.,-])(?:\\d{4}[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{4}[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{4}[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{4}(?:[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{3})?|\\d{4}[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{6}[ .\\t\\u00a0\\u202f\\u2013-]{1,2}\\d{5}|\\d{19}|\\d{15,16})(?![\\d.,]\\d|[\\dA-Za-z_]|-[0-9A-Fa-f])',
      // 19 digits in a row are far more often an id (a snowflake) than a card: a card only where one is named just before.
      accept: (s, _p, input, offset) => {
        const before = input.slice(Math.max(0, offset - 40), offset);
        return plausibleCard(s) && (!/^\d{19}$/.test(s) || CARD_WORDS.test(before)) && !NOT_CARD_WORDS.test(before);
      },
    },
  ],
  ip: [
    {
      kind: 'ipv4',
      hint: /\d\.\d+\.\d/,
      // Not part of a longer dotted run (a version `1.2.3.4.5`, an OID); a range (`10.0.0.1-10.0.0.9`) is two addresses.
      pattern: '(?<![A-Za-z0-9.]|[A-Za-z]-)(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(?!\\.\\d|[A-Za-z0-9]|-[A-Za-z])',
      // A version (`version 1.2.3.4`, `build 10.0.0.1`, `v2.0.1.4`) or an OID (`oid 2.5.4.3`) is not an address.
      // After a section's or a firmware's word, dotted numbers are its number; after the words that say either that or
      // a host (`step`, `item`, `fw`: a firewall too), an address when in a range most addresses are in (`fw 10.1.2.3`).
      accept: (s, _p, input, offset) => {
        const before = input.slice(Math.max(0, offset - 24), offset);
        if (/(?:Version|Build|Release)["'(\s:=]*$/.test(before) || /(?<![A-Za-z])(?:version|ver|build|release|rev|oid|v)\.?["'(\s:=]*$/i.test(before)) return false;
        if (/(?<![A-Za-z])(?:firmware|section|sec|clause|chapter|paragraph|para|figure|fig|table|appendix|article|art|§)\.?["'(\s:=]*$/i.test(before)) return false;
        return !/(?<![A-Za-z])(?:fw|step|item)\.?["'(\s:=]*$/i.test(before) || COMMON_RANGE.test(s);
      },
    },
    {
      kind: 'ipv6',
      // Every address has two colons with at most four characters between; a literal first lets the engine skip ahead.
      hint: separatorPair(':', 4),
      pattern: '(?<![:.\\w])(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}(?![:.\\w])|(?<![:.\\w])(?:[0-9a-fA-F]{1,4}:){1,6}:(?:[0-9a-fA-F]{1,4}:){0,5}[0-9a-fA-F]{1,4}(?![:.\\w])',
      // A Rust or C++ path (`fe::add`) is not an address: an address has a digit.
      accept: (s, _p, input, offset) => /\d/.test(s) && s.length >= 6 && !(input[offset - 1] === '[' && /[\w)\]]/.test(input[offset - 2] ?? '')),
    },
  ],
};
