/*
 * The seventh to tenth attackers' rounds on masking, each break a test that failed before its fix.
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
 *
 * The eighth round:
 * - Slow input: `sk-` a million times over; each `sk-` read 8 KB ahead and its check refused it, then the search
 *   began again at the next character (15 s for the masker, another client stalled). `cookie:` repeated, 3 s.
 * - JSON inside JSON inside a string (a tool that quotes another's result): the second escape level hid YAML's
 *   next-line values, block scalars, argv arrays, TOML's `"""`, `IDENTIFIED BY`, a Dockerfile's `ENV`.
 * - Base64 on one line longer than 64 KB was never decoded (a whole .env file); gzip or zlib in base64 neither.
 * - Forms stored in clear: device configs (Redis, Cisco, HAProxy, ipsec, WireGuard, wpa_supplicant, nginx),
 *   command lines (freerdp, plink, hydra, evil-winrm, mosquitto, rar, macOS `security`, `net user`, rabbitmqctl,
 *   DB2, SQL*Plus `conn`, `passwd --stdin`, chpasswd, impacket), credentials passed by position in code, .NET's
 *   `<RSAKeyValue>`, tables with a password column, prose (`the password is "…"`).
 * - Encodings: entities without `;`, named ones, written twice; `\u{70}`, `\U00000070`, `%u0070`; look-alike
 *   letters (Armenian, mathematical bold) and colons; invisible characters (U+E0100, U+061C, U+180B, U+1D173,
 *   U+FFF9) inside a token; an object key as short as `a@b.io`.
 * - False positives: fetch's `credentials: "include"`, `secrets: inherit`, docker-compose's list of secret names,
 *   `secret: Buffer;`, `{pass: 12, fail: 0}`, `{token: 50256, logprob: …}`, a lexer's token, a board's pin, a
 *   glob under `pat`, Kotlin's `this@MainActivity`, `pkg@1.0.0-alpha.beta` read as addresses.
 *
 * The ninth round:
 * - Slow input: a line-opener search from every line, `auth(` nested 100,000 deep, each quadratic.
 * - Forms stored in clear: stderr split over lines (a TOML block, a key then its value), 18 command-line and
 *   query forms (`oc login -p`, `nmcli … password`, `wget --http-password`, `?hapikey=`…), SMTP `AUTH PLAIN`; and,
 *   left open then and closed here, `schtasks /rp`, `openssl passwd` inside `useradd -p "$(…)"`, `ssh-keygen -N`,
 *   `sqlmap --auth-cred`, `mc alias set`, rclone's `pass`, Redis's interactive `AUTH`, a password piped by `echo`
 *   into `gh auth login --with-token`, `cryptsetup`, `smbpasswd`, `kinit`, `docker login --password-stdin`;
 *   addresses after `fw`, `step`, `item` (read as firmware or section numbers).
 * - False positives: a tool's inputSchema (its `password` property described, not given), OpenAPI security
 *   schemes, i18n strings, lists of secret names, API reference tables; and, closed here, a cookie banner's
 *   `{cookie: "accepted"}` and a form's `{confirm_password: "Confirm your password"}`.
 *
 * The tenth round:
 * - Slow input: `END X ` repeated with one `PRIVATE` (200 KB: 50 s through the gateway), the private-key forms
 *   reading every upper-case word after each END; `-eyJ` repeated (4.8 s), the JWT form reading 8 KB ahead at each.
 * - Forms stored in clear: XML configs naming the key beside the value (Hibernate, Hadoop, Java properties XML,
 *   .NET settings), name/value pairs written as JSON text (`aws ssm get-parameter`, CloudFormation), setter calls
 *   (`conf.set("fs.s3a.secret.key", …)`, `Header.Set("X-Api-Key", …)`), FTP's `PASS` and IMAP's `LOGIN`; and, left
 *   open then and closed here, connection strings (`Password=Zj5&Fo8 Ny2;`), a shell's escaped space, prose
 *   (`Generated API key: …`, `password for the instance: …`, `password is: …`), `vault kv get`'s aligned table,
 *   `CURLOPT_USERPWD`, SMTP `AUTH LOGIN`'s answer, keys named for their owner (`OPENAI_KEY`, `JWT_KEY`, `stripeKey`),
 *   secret stores' and password managers' answers (Key Vault, Secret Manager, 1Password, `terraform output`),
 *   Node's `rawHeaders`, Composer's `github-oauth`, Teams and Zapier webhooks, an OpenSSH key's bare body.
 * - False positives: a secret's name assigned what fetches it (`$(gh auth token)`, `` `openssl rand -hex 16` ``,
 *   CloudFormation's `!Ref`, Symfony's `%env(…)%`).
 *
 * The eleventh round:
 * - Slow input: `ssh-keygen` and `-N` repeated (200 KB: 1.2 s through the gateway), the form looking back 1 KB from
 *   each `-N` for its command; JSON nested thousands deep ran the walk out of stack (the call refused).
 * - False positives: test runners' results (Jest's `PASS path (5.2 s)`, Go's `--- PASS: Name (0.01s)`), Terraform's
 *   `(sensitive value)`, a token shown redacted (`gho_****`), paging tokens, timestamps and file paths under
 *   secret-named keys.
 * - Forms stored in clear (those closed here): keys named `key` under their owner or beside a user name (.NET, Kaggle),
 *   WordPress's keys and salts, ASP.NET's machineKey, Group Policy's `cpassword`, MySQL's temporary password, Consul's
 *   and Vault's secret ids, swarm keys, PowerShell's Name/Value table, `REDISCLI_AUTH`, SonarQube and Discord bot tokens,
 *   mysql's box table, Redis's MONITOR lines, `cqlsh -p`, `cmdkey /pass:`, `wmic /password:`, `rpcclient -U user%pw`,
 *   `kubeadm --certificate-key`, `ngrok config add-authtoken`, and the token formats of Buildkite, CircleCI, Netlify,
 *   Pinecone, LangSmith, Langfuse, Bedrock, Braintree, Resend, Brevo, FCM, Neon, JFrog, k3s and GitLab runners;
 *   passwords in database statements, what tools print once (Vault's unseal keys, Jenkins, Elasticsearch, Nomad),
 *   key material (openssl's -text dump, OpenVPN static keys, minisign, TLS key logs), Django, SCRAM and MySQL hashes,
 *   unattend.xml, SSM SecureStrings, storage account keys, JFrog's header, npmAuthIdent, authenticator exports;
 *   wpa_passphrase, mosquitto_passwd, poetry, cargo login, pdftk, FortiOS, Cisco ntp keys, cloudflared, ACL SETUSER,
 *   IMAP AUTHENTICATE, AWS CLI's text output, Redis CONFIG GET replies, WildFly, Juniper's $9$, Anaconda URLs,
 *   Consul's gossip key, Bitwarden's TOTP seeds and hidden fields, Elasticsearch's encoded API keys, keys under
 *   their owner in YAML and TOML, tables drawn with box characters, sqlite3's list mode.
 *
 * The twelfth round:
 * - A two-string array read as a `[name, value]` pair whenever its first string held a secret word: an env list
 *   (`["GITHUB_TOKEN=ghp_…", "PATH=/usr/bin"]`, `docker inspect`'s `Env`) kept the token and masked `PATH`; the
 *   first string was never scanned. A list of names (`["password", "confirm_password"]`) lost its second.
 * - Labels of two or three words opening their line (`Private Key: …`, `API Key = …`, `wg show`'s `private key:`,
 *   a VPN config's `Pre-Shared Key      : …`) stored in clear.
 * - A secret-printing command at a prompt and the line it printed (`$ pass show prod/db`, `op read`, `vault kv get
 *   -field=`, `gcloud secrets versions access`, `printenv DB_PASSWORD`, `wg genkey`…, 22 commands): the line stored in clear.
 * - Command lines: `ipmitool -P`, `racadm -p`, `esxcli -p`, `vmrun -gp`, `rdesktop -p`, `x11vnc -passwd`, `snmpwalk -c`,
 *   `swaks --auth-password`, `netlify --auth`, `supabase -p`, `ldapwhoami -wPW` and `bcp -PPW` glued.
 * - False positives: GitHub's legacy node ids (base64 of `010:Repository1296269`, read as `user:password`), a shell's
 *   default (`${POSTGRES_PASSWORD:-changeme}`), `kubectl describe secret`'s sizes (`password:  16 bytes`).
 * - JSON whose every value is a secret by what the object is, not by its keys' names: a Kubernetes Secret's `data`
 *   and `stringData` (`kubectl get secret -o json`), Terraform's `random_password` in a state file (`result`), a Vault
 *   read (`vault kv get -format=json`: KV 2's `data.data`, KV 1's `data`), Netlify's env (`{key, values: [{value}]}`);
 *   and the same printed as text (JSON, or a Secret's YAML manifest, `kubectl get secret -o yaml`).
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync, deflateSync } from 'node:zlib';
import { createMasker } from '../../../main/masking/masker.js';
import { DETECTOR_SETS, findCallCredentials, KEY_BLOCK_BEGIN, KEY_BLOCK_END, namedContextPossible, normalizeKeyName } from '../../../main/masking/detectors.js';
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

describe("the eighth attacker's slow input", () => {
  // A match a detector's check refuses is searched again from its next character: `sk-` a million times over
  // read 8 KB ahead at each `sk-` (15 s, another client stalled). What is measured is the characters refused.
  it.each([
    ['sk-', 333_333],
    ['cookie:', 140_000],
  ])('bounds what the checks refuse in %j repeated', (unit, n) => {
    let refused = 0;
    const counting = createMasker(settings, KEY, { onRefused: (chars) => (refused += chars) });
    const text = unit.repeat(n);
    const out = counting.text(text);
    expect(refused).toBeLessThan(4 * text.length + 8 * 65_536);
    // (Past the bound, what the checks would refuse is masked: when in doubt, mask.)
    expect(out).toMatch(/\[MASKED:/);
    expect(out).not.toContain('\u0000');
  });
  it('still refuses what its checks refuse in ordinary text', () => {
    const text = fill('token: count sk-dashboard-frontend-service-7d9f8b6c5 ', 100_000);
    expect(all.text(text)).toBe(text);
  });
});

describe("the eighth attacker's forms", () => {
  const S = 'Xq7mP2vLk9w';
  const basic = b64(`admin:${S}`);
  const stored: [string, string][] = [
    // Device and daemon configs.
    [`[Peer]\nPresharedKey = aB3kP9qR2sT5vW8xZ1cE4fG7hJ0lM6nO3pQ2rS5tU8w=\n`, 'aB3kP9qR2sT5'],
    [`network={\n  ssid="home"\n  psk="${S}"\n}`, S],
    [`requirepass ${S}`, S],
    [`masterauth ${S}`, S],
    [`username admin privilege 15 password 0 ${S}`, S],
    [`enable password ${S}`, S],
    [`snmp-server community ${S} RO`, S],
    [`tacacs-server key ${S}`, S],
    [`crypto isakmp key ${S} address 10.0.0.1`, S],
    [`user admin insecure-password ${S}`, S],
    [`10.0.0.1 10.0.0.2 : PSK "${S}"`, S],
    [`proxy_set_header Authorization "Basic ${basic}";`, basic],
    [`expect "password:"\nsend "${S}\\r"`, S],
    // Command lines.
    [`xfreerdp /v:host /u:admin /p:${S}`, S],
    [`plink -ssh admin@host -pw ${S}`, S],
    [`security add-generic-password -a me -s svc -w ${S}`, S],
    [`rar a -p${S} out.rar dir`, S],
    [`mosquitto_pub -h h -u user -P ${S} -t t -m m`, S],
    [`echo '${S}' | passwd --stdin root`, S],
    [`echo "root:${S}" | chpasswd`, S],
    [`net user administrator ${S} /add`, S],
    [`rabbitmqctl add_user admin ${S}`, S],
    [`db2 connect to sample user db2inst1 using ${S}`, S],
    [`SQL> conn system/${S}@orcl`, S],
    [`evil-winrm -i host -u admin -p ${S}`, S],
    [`hydra -l admin -p ${S} ssh://host`, S],
    [`impacket-psexec corp/admin:${S}@10.0.0.5`, S],
    // Credentials passed by position.
    [`server.login("me@example.org", "${S}")`, S],
    [`conn = DriverManager.getConnection(url, "sa", "${S}");`, S],
    [`$link = mysqli_connect("localhost", "root", "${S}", "db");`, S],
    [`var cred = new NetworkCredential("admin", "${S}");`, S],
    [`db.auth("admin", "${S}")`, S],
    [`ssh.connect("host", 22, "root", "${S}")`, S],
    // A private key as .NET writes it; tables; prose.
    [`<RSAKeyValue><Modulus>xA7SEU+e0yQH5rm9</Modulus><Exponent>AQAB</Exponent><P>5flMsl1Q0l1vWnbXMsbwq6TJMQ==</P><D>RxBrZyIjGbYMA4cqy4j3YmmSKyOy9r4F==</D></RSAKeyValue>`, 'RxBrZyIjGbYMA4cq'],
    [`| user | password | note |\n|---|---|---|\n| bob | ${S} | admin |`, S],
    [`username,password,email\nbob,${S},b@x.io\n`, S],
    [`name\tpassword\nbob\t${S}\n`, S],
    [`| password | ${S} |`, S],
    [`the password is "${S}"`, S],
    [`password -> ${S}`, S],
    [`Password\t${S}`, S],
    [`password,${S}`, S],
    // YAML in a string of code.
    [`x = "password:\n  ${S}"`, S],
  ];
  it.each(stored)('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));

  const left = [
    `hydra -l admin -P passwords.txt ssh://host`,
    `mosquitto_pub -h h -p 1883 -t t -m m`,
    `net user bob /delete`,
    `socket.connect("localhost", 8080)`,
    `db.connect("mongodb://db.internal:27017", "inventory")`,
    `| name | password_policy | note |\n|---|---|---|\n| bob | strict | admin |`,
    `| user | password | note |\n|---|---|---|\n| bob | required | admin |`,
    `username,password,confirm_password`,
    'the password is required',
    'The token is expired.',
    'Authorization header is missing',
  ];
  it.each(left)('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe('JSON inside JSON inside a string (each escape level hides the one below)', () => {
  const S = 'Xq7mP2vLk9w';
  const forms = [
    `db:\n  password:\n    ${S}\n`,
    `db:\n  password: |\n    ${S}\n`,
    JSON.stringify(['sshpass', '-p', S, 'ssh', 'h']),
    `password = """\n${S}\n"""`,
    `IDENTIFIED BY "${S}"`,
    `ENV DB_PASSWORD ${S}`,
  ];
  it.each(forms)('masks %j two and three levels down, and every level still parses', (form) => {
    const two = JSON.stringify({ r: JSON.stringify({ c: form }) });
    const three = JSON.stringify({ r: JSON.stringify({ c: JSON.stringify({ d: form }) }) });
    for (const text of [two, three]) {
      const out = all.text(text);
      expect(out).not.toContain(S);
      let level: unknown = JSON.parse(out);
      while (typeof level === 'object' && level !== null) {
        const inner = Object.values(level)[0];
        level = typeof inner === 'string' && /^[[{]/.test(inner) ? JSON.parse(inner) : undefined;
      }
    }
  });
  it('reads JSON that stands in a line of text (a server logging what it was called with), and forms sent as a JSON value', () => {
    const args = { quoted: JSON.stringify({ result: JSON.stringify({ config: `db:\n  password:\n    ${S}\n` }) }), router: 'crypto isakmp key Dp6.DevicePskLeak3 address 10.0.0.1' };
    for (const text of [`called with ${JSON.stringify(args)}\n`, JSON.stringify(args)]) {
      const out = all.text(text);
      expect(out).not.toMatch(/Xq7mP2vLk9w|Dp6\.DevicePskLeak3/);
      expect(JSON.parse(out.replace(/^called with /, ''))).toBeTypeOf('object');
    }
  });
  it('keeps every level JSON whatever the innermost string holds', () => {
    const fragments = ['password:', ' ', '\n', 'Xk9#mQ2vLp7', '"', '\\', 'IDENTIFIED BY ', 'ENV DB_PASSWORD ', '- ', ':', '"""'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...fragments), { maxLength: 16 }), (parts) => {
        const out = all.text(JSON.stringify({ r: JSON.stringify({ c: parts.join('') }) }));
        expect(() => JSON.parse(JSON.parse(out).r as string)).not.toThrow();
      }),
      { numRuns: 300 },
    );
  });
});

describe("the eighth attacker's encodings", () => {
  const S = 'Xq7mP2vLk9w';
  const env = `DB_PASSWORD=${S}`;
  const gh = 'ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5';
  const ins = (t: string, c: string) => t.slice(0, 10) + c + t.slice(10);
  const readable = (t: string) => normalizeKeyName(t);
  const encoded: [string, string, string][] = [
    ['gzip in base64', `data: ${gzipSync(env).toString('base64')}`, S],
    ['zlib in base64', deflateSync(Buffer.from(`password: ${S}`)).toString('base64'), S],
    ['one base64 line longer than 64 KB', b64(`${Array.from({ length: 4000 }, (_, i) => `LOG_LEVEL_${i}=info`).join('\n')}\n${env}\n`), S],
    ['a numeric entity without its `;`', `password&#61${S}`, S],
    ['a named entity', `password&equals;${S}`, S],
    ['an entity written twice', `&amp;#112;assword="${S}"`, S],
    ['\\u{70}', `\\u{70}assword="${S}"`, S],
    ['\\U00000070', `\\U00000070assword="${S}"`, S],
    ['%u0070', `%u0070assword=${S}`, S],
    ['an Armenian o', `passw\u0585rd=${S}`, S],
    ['mathematical bold letters', `\u{1D429}\u{1D41A}\u{1D42C}\u{1D42C}\u{1D430}\u{1D428}\u{1D42B}\u{1D41D}=${S}`, S],
    ['a look-alike colon', `password\u2236 ${S}`, S],
    ...['\u{E0100}', '\u061C', '\u180B', '\u{1D173}', '\uFFF9'].map((c): [string, string, string] => [`U+${(c.codePointAt(0) as number).toString(16)} inside a token`, ins(gh, c), gh]),
    ['a math-bold letter in a token', gh.replace('p', '\u{1D429}'), gh],
  ];
  it.each(encoded)('finds a secret in %s', (_label, text, secret) => {
    const out = all.text(text);
    expect(out).toMatch(/\[MASKED:/);
    expect(out).not.toContain(secret);
    expect(readable(out)).not.toContain(secret);
  });
  it('masks an address as short as a@b.io, as a key too', () => {
    expect(JSON.stringify(all.json({ 'a@b.io': 1, list: ['a@b.io'] }))).not.toContain('a@b.io');
  });
  it('leaves compressed data that holds no secret alone', () => {
    const text = gzipSync('just a log line\n'.repeat(50)).toString('base64');
    expect(all.text(text)).toBe(text);
  });
});

describe("the eighth attacker's false positives", () => {
  const texts = [
    'fetch("/api/me", { credentials: "include" })',
    "const res = await fetch(url, {\n  method: 'POST',\n  credentials: 'same-origin',\n});",
    'jobs:\n  call:\n    uses: ./.github/workflows/deploy.yml\n    secrets: inherit\n',
    'services:\n  db:\n    image: postgres\n    secrets:\n      - db_password\n      - db_root_password\n',
    'interface Creds {\n  secret: Buffer;\n  password: string;\n}',
    'pat = "*.py"\nfiles = fnmatch.filter(names, pat)',
    'override fun onBackPressed() {\n    this@MainActivity.finish()\n}',
    'list.forEach { if (it.isEmpty()) return@forEach; this@Outer.log(it) }',
    'npm i semver-example@1.0.0-alpha.beta',
  ];
  it.each(texts)('leaves %j alone', (text) => {
    expect(all.text(text)).toBe(text);
    expect(all.text(JSON.stringify({ text }))).toBe(JSON.stringify({ text }));
  });
  const values = [
    { credentials: 'include', mode: 'cors' },
    { pass: 12, fail: 0, skip: 1 },
    { token: 50256, logprob: -0.2 },
    { token: 'StringLiteral', start: 0, end: 13 },
    { pin: 'GPIO17', mode: 'output' },
    { pat: 'src/**/*.ts' },
  ];
  it.each(values)('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it('still masks those keys where nothing beside them says otherwise', () => {
    expect(JSON.stringify(all.json({ pass: 'Tr0ub4dor.horse9', token: 'tok_8dk3JfQ0aZp2Lx9', pin: '482913' }))).not.toMatch(/Tr0ub4dor|tok_8dk3|482913/);
  });
});

describe("the ninth attacker's slow input", () => {
  /** Characters String.prototype.indexOf walked over while `run` ran (from where each search began to where it ended). */
  const indexOfWalk = (run: () => void): number => {
    const original = String.prototype.indexOf;
    let walked = 0;
    String.prototype.indexOf = function (this: string, search: string, from?: number) {
      const at = original.call(this, search, from);
      walked += (at < 0 ? this.length : at) - Math.max(0, from ?? 0);
      return at;
    };
    try {
      run();
    } finally {
      String.prototype.indexOf = original;
    }
    return walked;
  };
  // Each line's check for an escaped newline searched on to the end of the text: lines times length, 65 s for
  // 200 KB of `\` lines, a Windows path listing 52 s for 900 KB (another client stalled as long).
  it.each([
    ['backslash lines', '\\\n'.repeat(50_000)],
    ['a Windows path listing', 'C:\\Users\\bob\\Documents\\report.txt\n'.repeat(5_000)],
  ])('reads %s once to see whether a line opens a named form', (_label, text) => {
    // (Linear: each of the gate's literals searched for is one walk at the most, some twenty; lines times length is thousands.)
    expect(indexOfWalk(() => namedContextPossible(text))).toBeLessThan(24 * text.length);
  });
  // `auth(` a million times over: each call's arguments were read 1 KB ahead (2 s, another client stalled).
  it('reads the arguments of calls nested in each other once', () => {
    let read = 0;
    const text = 'auth('.repeat(100_000);
    findCallCredentials(text, (chars) => (read += chars));
    expect(read).toBeGreaterThan(0);
    expect(read).toBeLessThan(2 * text.length);
    // (A real call with a credential is still found.)
    expect(all.text('db.auth("admin", "Xq7mP2vLk9w")')).not.toContain('Xq7mP2vLk9w');
  });
});

describe("the ninth attacker's false positives and misses", () => {
  // A tool's inputSchema with a `password` property was masked whole: its description, and its minLength turned
  // from a number into a string (the stored JSON changed type). Every MCP tool that takes a password has one.
  it.each([
    { inputSchema: { type: 'object', properties: { password: { type: 'string', description: 'The password of the user', minLength: 8 }, api_key: { type: ['string', 'null'], format: 'password' } }, required: ['password'] } },
    { components: { securitySchemes: { api_key: { type: 'apiKey', name: 'X-API-Key', in: 'header' }, token: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } } },
    { forgot_password: 'Forgot your password?', password_placeholder: 'Enter your password', password_too_short: 'Too short' },
    { secrets: ['DB_PASSWORD', 'API_KEY'] },
  ])('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it('still masks what such a description gives as a value, and what is not a description', () => {
    const out = JSON.stringify(all.json({ password: { type: 'string', default: 'Tr0ub4dor.horse9', examples: ['Xq7mP2vLk9w'] }, secret: { value: 'Pq8rT2vLk9w', type: 'plain' } }));
    expect(out).not.toMatch(/Tr0ub4dor|Xq7mP2vLk9w|Pq8rT2vLk9w/);
  });
  it('leaves an API reference table alone (a column of descriptions is no column of secrets)', () => {
    const doc = '| Field | Type | Description |\n|---|---|---|\n| password | string | The user password |\n| token | string | A bearer token |';
    expect(all.text(doc)).toBe(doc);
  });
  // A key that names a host beside a version word (`build_server`, `rev_proxy`) was read as a version's.
  it('masks an address under a key whose last word is no version word', () => {
    const out = JSON.stringify(all.json({ build_server: '10.20.30.40', rev_proxy: '10.1.2.3', firmware_update_server: '10.9.8.7', version: '10.0.0.1', build: '10.0.19041.1' }));
    expect(out).not.toMatch(/10\.20\.30\.40|10\.1\.2\.3|10\.9\.8\.7/);
    expect(out).toContain('"version":"10.0.0.1"');
  });
});

describe("the ninth attacker's forms", () => {
  const S = 'Xq7mP2vLk9w';
  it.each([
    `oc login https://api.ocp:6443 -u kubeadmin -p ${S}`,
    `cf login -a https://api.cf -u bob -p ${S}`,
    `echo ${S} | sudo -S apt update`,
    `nmcli dev wifi connect HomeNet password ${S}`,
    `nmcli con modify X wifi-sec.psk ${S}`,
    `wget --http-password ${S} https://x/f`,
    `wget --ftp-password ${S} ftp://x`,
    `influx -username admin -password ${S}`,
    `mysqladmin -u root password ${S}`,
    `net use \\\\srv\\share /user:bob ${S}`,
    `http -a bob:${S} https://x`,
    `curl --oauth2-bearer ${S} https://x`,
    `aws configure set aws_secret_access_key ${S}`,
    `curl https://x \\\n  -u bob:${S}`,
    `mysql -h db \\\n  -u root \\\n  -p${S}`,
    `https://api.hubapi.com/contacts?hapikey=${S}-abc`,
    `https://x/app?jwt=eyJhbGciOiJIUzI1NiJ9${S}`,
    `https://x/y?sid=${S}8a`,
  ])('masks %j', (text) => expect(all.text(text)).not.toContain(S));
  it('masks SMTP AUTH PLAIN (base64 with NUL bytes in it)', () => {
    const plain = Buffer.from(`\u0000bob\u0000${S}`).toString('base64');
    expect(all.text(`C: AUTH PLAIN ${plain}`)).not.toContain(plain);
  });
  it.each(['cf login -a https://api.example.com', 'the session ended', 'https://x/?session=new', 'mosquitto_pub -h h -p 1883 -t t -m m'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the ninth attacker's last forms (left open in its round)", () => {
  const S = 'Xq7mP2vLk9w';
  it.each([
    `schtasks /create /tn T /tr C /ru bob /rp ${S}`,
    `schtasks /query /s srv /u bob /p ${S}`,
    `SCHTASKS /Create /TN T /RU bob /RP ${S}`,
    `useradd -m -p "$(openssl passwd -6 ${S})" bob`,
    `useradd -m -p $(openssl passwd -6 ${S}) bob`,
    `openssl passwd -1 -salt xyz ${S}`,
    `ssh-keygen -t ed25519 -N ${S} -f key`,
    `ssh-keygen -p -P old${S} -N new${S} -f key`,
    `sqlmap -u https://x --auth-type=basic --auth-cred=bob:${S}`,
    `sqlmap -u https://x --auth-cred "bob:${S}"`,
    `mc alias set myminio http://127.0.0.1:9000 AKIAMINIO ${S}`,
    `mc config host add myminio http://127.0.0.1:9000 minio ${S}`,
    `rclone config create remote sftp host h user bob pass ${S}`,
    `rclone obscure ${S}`,
    `rclone lsd :sftp: --sftp-host h --sftp-user bob --sftp-pass ${S}`,
    `127.0.0.1:6379> AUTH ${S}`,
    `redis:6379[2]> auth default ${S}`,
    `echo ${S} | gh auth login --with-token`,
    `echo -n ${S} | cryptsetup luksOpen /dev/sdb1 vault`,
    `printf '${S}\\n${S}\\n' | smbpasswd -a -s bob`,
    `echo ${S} | docker login -u bob --password-stdin`,
    `echo ${S} | kinit bob@EXAMPLE.COM`,
    JSON.stringify({ cmd: `echo ${S} | cryptsetup open /dev/sdb1 v` }),
  ])('masks %j', (text) => expect(all.text(text)).not.toContain(S));
  it.each(['fw 10.1.2.3 is down', 'step 10.1.2.3', 'item 192.168.1.20 was blocked', 'step 172.16.4.2'])('masks the address in %j', (text) => expect(all.text(text)).not.toMatch(/\d+\.\d+\.\d+\.\d+/));
  it.each(['see section 4.2.1.3', 'see clause 10.1.2.3', 'step 2.1.3.4 of the guide', 'version 10.1.2.3', 'fw 2.4.11.3', 'echo "$CR_PAT" | docker login ghcr.io -u bob --password-stdin', 'ssh-keygen -t ed25519 -N "" -f key', 'redis> AUTH failed for user', '> auth failed for the user'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it.each([
    { cookie: 'accepted' },
    { cookies: 'rejected', cookie_consent: 'necessary' },
    { confirm_password: 'Confirm your password' },
    { confirmPassword: 'Re-enter password' },
    { password: 'Enter your password', new_password: 'Choose a new password' },
  ])('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it('still masks real values under those keys', () => {
    const out = JSON.stringify(all.json({ cookie: 'session=Pq8rT2vLk9wXq', confirm_password: S, password: 'correct horse battery staple', pass: 'my password is here' }));
    expect(out).not.toMatch(/Pq8rT2vLk9wXq|Xq7mP2vLk9w|correct horse|my password is here/);
  });
});

describe("the tenth attacker's slow input", () => {
  // `'END X '.repeat(33333) + 'PRIVATE'` (200 KB) took 50 s through the gateway: at each `END` the private-key
  // forms read every upper-case word after it (`(?:[A-Z0-9]+[ \t]+)*`) and backtracked, n² in the text. A PEM
  // label has at most three words between BEGIN or END and PRIVATE (`ENCRYPTED`, `OPENSSH`, `RSA`, `PGP`).
  it('no private-key form repeats a group without a bound', () => {
    const sources = [KEY_BLOCK_BEGIN.source, KEY_BLOCK_END.source, ...Object.values(DETECTOR_SETS).flat().filter((d) => d.kind === 'private-key').flatMap((d) => [d.pattern ?? '', d.prefix ?? '', d.hint instanceof RegExp ? d.hint.source : ''])];
    for (const source of sources) expect(source, source).not.toMatch(/\)[*+]/);
  });
  it('still masks every label of a key, and the attack text is left as it is', () => {
    for (const label of ['RSA', 'EC', 'DSA', 'OPENSSH', 'ENCRYPTED', 'PGP']) {
      const key = `-----BEGIN ${label} PRIVATE KEY-----\nMIIEowIBAAKCAQEAx${label}\n-----END ${label} PRIVATE KEY-----`;
      expect(all.text(key)).not.toContain(`MIIEowIBAAKCAQEAx${label}`);
      expect(all.text(`tail of it\nMIIEowIBAAKCAQEAx${label}\n-----END ${label} PRIVATE KEY-----`)).not.toContain(`MIIEowIBAAKCAQEAx${label}`);
    }
    const text = `${'END X '.repeat(3000)}PRIVATE`;
    expect(all.text(text)).toBe(text);
  });
});

describe("the tenth attacker's JWT stall", () => {
  // `'-eyJ'.repeat(50000)` (200 KB) took 4.8 s through the gateway: the JWT form read 8 KB ahead at every `eyJ`
  // (`-` is a base64url character, so the run never ended) and back again looking for its dot.
  it.each([['-eyJ'], ['_eyJ'], ['eyJ.']])('leaves %j repeated as it is, and still masks a JWT after it', (unit) => {
    const text = unit.repeat(50_000);
    expect(all.text(text)).toBe(text);
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJib2IifQ.Kt4Sd7Xu2Eo1Kt4Sd7Xu2Eo1';
    expect(all.text(`${text} ${jwt}`)).not.toContain('Kt4Sd7Xu2Eo1');
  });
});

describe("the tenth attacker's references read as secrets", () => {
  // A secret's name assigned what fetches it, not the secret: a command's output, a template's reference.
  it.each([
    'export GITHUB_TOKEN=$(gh auth token)',
    'export AWS_SECRET_ACCESS_KEY=$(aws configure get aws_secret_access_key)',
    'PASSWORD="$(openssl rand -base64 32)"',
    'DB_PASSWORD=`openssl rand -hex 16`',
    'MasterUserPassword: !Ref DBPassword',
    'Password: !Sub "{{resolve:secretsmanager:${Secret}:SecretString:password}}"',
    'ApiKey: !GetAtt ApiKey.Value',
    "database_password: '%env(DB_PASSWORD)%'",
    'app_secret: "%kernel.secret%"',
  ])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it.each([
    ['PASSWORD=$(echo Zq8rT2vLk9wX)', 'Zq8rT2vLk9wX'],
    ['DB_PASSWORD=`printf Yp7qS1uKj8vW`', 'Yp7qS1uKj8vW'],
    ['password: "%Xo6pR0tJi7uV%"', 'Xo6pR0tJi7uV'],
  ])('still masks a literal printed or dressed as one: %j', (text, secret) => expect(all.text(text)).not.toContain(secret));
});

describe("the tenth attacker's forms left open in its round", () => {
  it.each([
    ['Server=db;Database=app;User Id=sa;Password=Zj5&Fo8Ny2Sp6;', 'Fo8Ny2Sp6'],
    ['Driver={ODBC Driver 18};Server=db;UID=sa;PWD=Ak1#Bl2Cm3Dn4;', 'Bl2Cm3Dn4'],
    ['Data Source=db;User ID=sa;Password=Ek5 Fl6Gm7Hn8;Encrypt=true', 'Fl6Gm7Hn8'],
    ['Driver={PostgreSQL};Server=db;Uid=app;Pwd={Wq1 Er2;Ty3};', 'Ty3'],
    ['DB_PASSWORD=Cm8Ir2\\ Qb5Vs9', 'Qb5Vs9'],
    ['Generated API key: Vx3Ty6Uz9Wa2Xb5', 'Vx3Ty6Uz9Wa2Xb5'],
    ['Root password for the instance: Jc4Kd7Le0Mf3', 'Jc4Kd7Le0Mf3'],
    ['Your password is: Ng6Oh9Pi2Qj5', 'Ng6Oh9Pi2Qj5'],
    ['====== Data ======\nKey         Value\n---         -----\npassword    Rk8Sl1Tm4Un7\nusername    admin', 'Rk8Sl1Tm4Un7'],
    ["curl_setopt($ch, CURLOPT_USERPWD, 'admin:Vo0Wp3Xq6Yr9');", 'Vo0Wp3Xq6Yr9'],
    ['C: AUTH LOGIN\nS: 334 VXNlcm5hbWU6\nC: YWRtaW4=\nS: 334 UGFzc3dvcmQ6\nC: WnM5QXQyQnU1Q3Y4\nS: 235 Authentication successful', 'WnM5QXQyQnU1Q3Y4'],
    ['OPENAI_KEY=Ab3Cd6Ef9Gh2Ij5', 'Ab3Cd6Ef9Gh2Ij5'],
    ['JWT_KEY=Kl8Mn1Op4Qr7', 'Kl8Mn1Op4Qr7'],
    ['HMAC_KEY: Lm9No2Pq5Rs8', 'Lm9No2Pq5Rs8'],
    ['{"stripeKey":"Uv9Wx2Yz5Ab8"}', 'Uv9Wx2Yz5Ab8'],
    ['=== app Config Vars\nSTRIPE_KEY:   Cd1Ef4Gh7Ij0', 'Cd1Ef4Gh7Ij0'],
  ])('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));
  it.each([
    'Server=db;Database=app;Integrated Security=true;',
    'Password=;Server=db',
    'CACHE_KEY=user_profile_v2',
    'SORT_KEY=createdAt',
    'PRIMARY_KEY=id',
    'Get an API key: see https://example.com/settings/keys',
    'API key: required',
    'The password for the account: see the vault',
    'Key         Value\n---         -----\nusername    admin\nttl         768h',
  ])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the tenth attacker's secrets in tools' output", () => {
  const b64 = (t: string) => Buffer.from(t).toString('base64');
  it.each([
    ['a Key Vault secret', { id: 'https://kv1.vault.azure.net/secrets/db-conn/0a1b2c3d4e5f', name: 'db-conn', value: 'Hk3Lm6No9Pq2' }, 'Hk3Lm6No9Pq2'],
    ["Google Secret Manager's payload", { name: 'projects/p/secrets/api-token/versions/1', payload: { data: b64('Jr4St7Uv0Wx3'), dataCrc32c: '12345' } }, b64('Jr4St7Uv0Wx3')],
    ["1Password's concealed fields", { fields: [{ id: 'password', type: 'CONCEALED', purpose: 'PASSWORD', label: 'password', value: 'Ij9Kl2Mn5Op8' }, { id: 'x', type: 'CONCEALED', label: 'recovery', value: 'Qr1St4Uv7Wx0' }] }, /Ij9Kl2Mn5Op8|Qr1St4Uv7Wx0/],
    ['terraform output -json', { conn: { sensitive: true, type: 'string', value: 'Yz3Ab6Cd9Ef2' } }, 'Yz3Ab6Cd9Ef2'],
    ["Node's rawHeaders", { rawHeaders: ['Host', 'api.example.com', 'Authorization', 'Qr2St5Uv8Wx1Yz4', 'X-Api-Key', 'Ab7Cd0Ef3Gh6'] }, /Qr2St5Uv8Wx1Yz4|Ab7Cd0Ef3Gh6/],
    ["a flat header list elsewhere", { headers: ['Host', 'api.example.com', 'Cookie', 'sid=Cd8Ef1Gh4Ij7'] }, 'Cd8Ef1Gh4Ij7'],
    ["Composer's auth.json", { 'github-oauth': { 'github.com': '0123456789abcdef0123456789abcdef01234567' } }, '0123456789abcdef0123456789abcdef01234567'],
    ['a Teams webhook', 'https://contoso.webhook.office.com/webhookb2/1a2b3c4d-1111-2222-3333-444455556666@aaaabbbb-cccc-dddd-eeee-ffff00001111/IncomingWebhook/0123456789abcdef0123456789abcdef/9a8b7c6d-5e4f-3a2b-1c0d-9e8f7a6b5c4d', '0123456789abcdef0123456789abcdef'],
    ['a Zapier hook', 'POST https://hooks.zapier.com/hooks/catch/1234567/abcd1ef/', 'abcd1ef'],
    ["an OpenSSH key's body without its armor", 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBsZWNyZXRrZXlib2R5', 'ZWQyNTUxOQAAACBsZWNyZXRrZXlib2R5'],
  ])('masks %s', (_name, value, secret) => {
    const out = JSON.stringify(typeof value === 'string' ? all.text(value) : all.json(value));
    if (typeof secret === 'string') expect(out).not.toContain(secret);
    else expect(out).not.toMatch(secret);
  });
  it.each([
    ['a list of secret names', [{ name: 'projects/p/secrets/api-token', createTime: '2026-01-01T00:00:00Z', replication: { automatic: {} } }]],
    ['a value not marked sensitive', { endpoint: { sensitive: false, type: 'string', value: 'db.example.com' } }],
    ['a 1Password username', { id: 'username', type: 'STRING', purpose: 'USERNAME', value: 'admin' }],
    ['ordinary headers', { rawHeaders: ['Host', 'api.example.com', 'Accept', 'application/json'] }],
    ['a list of words', ['Host', 'Content-Type', 'Accept', 'User-Agent']],
  ])('leaves %s alone', (_name, value) => expect(all.json(value)).toEqual(value));
});

describe("the tenth attacker's forms", () => {
  it.each([
    ['<property name="hibernate.connection.password">Dn9Js3Rc6Wt1</property>', 'Dn9Js3Rc6Wt1'],
    ['<property>\n  <name>fs.s3a.secret.key</name>\n  <value>Eo1Kt4Sd7Xu2</value>\n</property>', 'Eo1Kt4Sd7Xu2'],
    ['<entry key="api.secret">Fp2Lu5Te8Yv3</entry>', 'Fp2Lu5Te8Yv3'],
    ['<setting name="ApiKey" serializeAs="String">\n  <value>Gq3Mv6Uf9Zw4</value>\n</setting>', 'Gq3Mv6Uf9Zw4'],
  ])('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));
  it.each(['<property name="hibernate.connection.username">app</property>', '<property><name>fs.s3a.endpoint</name><value>s3.example.com</value></property>', '<entry key="token.lifetime">3600</entry>', '<param name="password" />'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the tenth attacker's name/value pairs written as JSON text", () => {
  it.each([
    ['{"Parameter":{"Name":"/prod/db/password","Type":"SecureString","Value":"Hr4Nw7Vg1Ax5","Version":1}}', 'Hr4Nw7Vg1Ax5'],
    ['[{"ParameterKey":"DBPassword","ParameterValue":"Is5Ox8Wh2By6"}]', 'Is5Ox8Wh2By6'],
  ])('masks %j and keeps it JSON', (text, secret) => {
    const out = all.text(text);
    expect(out).not.toContain(secret);
    expect(() => JSON.parse(out) as unknown).not.toThrow();
  });
  it('leaves pairs that name no secret byte-identical', () => {
    const text = '{ "Parameter": { "Name": "/prod/db/host", "Value": "db.internal" } }';
    expect(all.text(text)).toBe(text);
  });
});

describe("the tenth attacker's setter calls", () => {
  it.each([
    ['conf.set("fs.s3a.secret.key", "Lk2Jh8Gf5Ds1Aq")', 'Lk2Jh8Gf5Ds1Aq'],
    ['config.put("api.key", "Mn3Bv9Cx6Zl2Wq")', 'Mn3Bv9Cx6Zl2Wq'],
    ['req.Header.Set("X-Api-Key", "Po4Iu7Yt1Re5Wq")', 'Po4Iu7Yt1Re5Wq'],
    ['req.Header.Add("Authorization", "token Qa5Ws8Ed2Rf6Tg")', 'Qa5Ws8Ed2Rf6Tg'],
    ['request.setHeader("X-API-Key", "Rb6Xt9Fe3Tg7Yh");', 'Rb6Xt9Fe3Tg7Yh'],
    ["xhr.setRequestHeader('X-Api-Key', 'Sc7Yu1Gr4Yh8Uj')", 'Sc7Yu1Gr4Yh8Uj'],
  ])('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));
  it.each(['console.log("token", "count")', 'map.set("keyboard", "qwerty")', 'req.Header.Set("Content-Type", "application/json")'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the tenth attacker's protocol transcripts", () => {
  it.each([
    ['< 220 ftp\n> USER alice\n< 331 Password required\n> PASS Ue9Aj3It6Ik1Ol\n< 230 OK', 'Ue9Aj3It6Ik1Ol'],
    ['C: a001 LOGIN alice Vf1Bk4Ju7Ol2Pm', 'Vf1Bk4Ju7Ol2Pm'],
    ['a1 LOGIN "alice" "Wx2Ck5Lv8Pn3"', 'Wx2Ck5Lv8Pn3'],
  ])('masks %j', (text, secret) => expect(all.text(text)).not.toContain(secret));
  it.each(['> PASS ****', 'the tests PASS again', 'ALL TESTS PASS', 'a001 LOGIN completed'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the eleventh attacker's slow input", () => {
  // `'ssh-keygen' + ' -N '.repeat(50000)` (200 KB) took 1.2 s through the gateway: the form looked back 1 KB from
  // every `-N` for its command. What is measured is the work: the scan reads each argument once.
  it.each([[' -N '], ['\t-P\t']])('leaves ssh-keygen with %j repeated as it is, and masks every passphrase of a real one', (unit) => {
    const text = `ssh-keygen${unit.repeat(100_000)}`;
    expect(all.text(text)).toBe(text);
    const out = all.text('ssh-keygen -p -P Old9Pass1x -N New8Pass2y -f id; ssh-keygen -t ed25519 -C "me at work" -N "Zq8 rT2vLk9" -f key');
    expect(out).not.toMatch(/Old9Pass1x|New8Pass2y|Zq8 rT2vLk9/);
    expect(out).toContain('-C "me at work"');
  });
});

describe("the eleventh attacker's deep JSON", () => {
  // JSON nested 2,000 deep ran the walk out of stack: the call was refused (closed, but a legitimate deep payload
  // failed too). Past 256 levels a subtree is masked as its JSON text; past what JSON.stringify reads, as a token.
  it.each([3_000, 20_000])('masks a secret nested %i deep, and keeps the shape where it can', (n) => {
    let list: unknown = 'bottom password=Hunter22xx';
    let object: unknown = { password: 'Zz9Yy8Xx7' };
    for (let i = 0; i < n; i++) {
      list = [list];
      object = { a: object };
    }
    const out = JSON.stringify([all.json({ list }), all.json(object)]);
    expect(out).not.toMatch(/Hunter22xx|Zz9Yy8Xx7/);
    let plain: unknown = 'bottom';
    for (let i = 0; i < 3_000; i++) plain = [plain];
    expect(all.json(plain)).toEqual(plain);
  });
});

describe("the eleventh attacker's false positives", () => {
  it.each([
    'PASS src/app.test.ts (5.2 s)',
    '--- PASS: TestLogin (0.01s)',
    '  + password = (sensitive value)',
    '  Token: gho_************************************',
    'GOOGLE_APPLICATION_CREDENTIALS=/home/dev/keys/sa.json',
    'password_last_changed: 2024-01-01T00:00:00Z',
    'Private-Key: (2048 bit, 2 primes)',
    'GET http://localhost:5173/@vite/client 200',
    'http://localhost:5173/@fs/home/me/app/src/main.ts',
    'https://mastodon.example:443/@alice/109876',
  ])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it.each([
    [{ pagination_token: '7140dibdnow9c7btw3w29grvxfcgvpb9n9coehpk7xz5i' }],
    [{ skipToken: 'eyJuZXh0TWFya2VyIjoiMiEzNiJ9' }],
    [{ password_last_changed: '2024-01-01T00:00:00Z', salt_rounds: 10 }],
    [{ dist: { signatures: [{ keyid: 'SHA256:jl3bwswu80PjjokCgh0o2w5c2U4LhQAE57gj9cz1kzA', sig: 'MEUCIQDKkUT7TLxSWvyDfqhRKmWVkVRqc8hqGYNLpe3MZ8zXUAIgdhWMjB0aHhDs3dJzjHQs3Mv2Aq9sKpH4B3YJ6vZsSxY=' }] } }],
    [{ Type: 'Notification', Message: 'hello', SignatureVersion: '1', Signature: 'EXAMPLEpH+DcEwjAPg8O9mY8dReBSwksfg2S7WKQcikcNKWLQjwu6A4VbeS0QHVCkhRS7fUQvi2egU3N858fiTDN6bkkOxYDVrY0Ad8L10Hs3zH81mtnPk5uvvolIC1CXGu43obcgFxeL3khZl8IKvO61GWB6jI9b5+gLPoBc1Q=', SigningCertURL: 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-example.pem' }],
  ])('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it('still masks an FTP PASS and a password that only looks like a path', () => {
    expect(all.text('> PASS Hq2Wn5Ev8Rt1')).not.toContain('Hq2Wn5Ev8Rt1');
    expect(all.text('DB_PASSWORD=/Jk4Lm7Np0')).not.toContain('Jk4Lm7Np0');
  });
});

describe("the eleventh attacker's forms", () => {
  it.each([
    ['.NET appsettings', { Jwt: { Key: 'Ab1Cd2Ef3Gh4Ij5Kl6', Issuer: 'me' } }, 'Ab1Cd2Ef3Gh4Ij5Kl6'],
    ["Kaggle's kaggle.json", { username: 'jdoe', key: '0123456789abcdef0123456789abcdef' }, '0123456789abcdef0123456789abcdef'],
    ["WordPress's salts", "define('NONCE_KEY', 'x9!Qz#7LmP2@vR4$');\ndefine('AUTH_SALT', 'k3$Jd8!Wq2#Zp5&Y');\ndefine('LOGGED_IN_KEY', 'Lm4#Np7!Qr2@St5$');", /x9!Qz|k3\$Jd8|Lm4#Np7/],
    ["ASP.NET's machineKey", '<machineKey validationKey="A1B2C3D4E5F60718293A4B5C6D7E8F90" decryptionKey="0F1E2D3C4B5A69788796A5B4C3D2E1F0" />', /A1B2C3D4E5F6|0F1E2D3C4B5A/],
    ['Group Policy Preferences', '<Properties action="U" cpassword="j1Uyj3Vx8TY9LtLZil2uAuZkFQA/4latT76ZwgdHdhw" userName="admin"/>', 'j1Uyj3Vx8TY9'],
    ["MySQL's first start", 'A temporary password is generated for root@localhost: aB3#kL9!xYz_q', 'aB3#kL9!xYz_q'],
    ["Consul's ACL token", 'AccessorID:       e5a5c1b2-3c4d-4e5f-8a9b-0c1d2e3f4a5b\nSecretID:         9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', '9f8e7d6c-5b4a'],
    ["Vault's AppRole secret_id", 'secret_id: 3f2a1b0c-9d8e-4f7a-b6c5-d4e3f2a1b0c9', '3f2a1b0c-9d8e'],
    ["a swarm's unlock key", 'provide the key: SWMKEY-1-7c37Cc8654o6p38HnroywCi19pllOnGtbdZEgtKxZu8', '7c37Cc8654o6p38'],
    ["PowerShell's hashtable", 'Name                           Value\n----                           -----\nDB_PASSWORD                    Pq7Rs0Tu3Vw6\nHOST                           db', 'Pq7Rs0Tu3Vw6'],
    ['REDISCLI_AUTH', 'REDISCLI_AUTH=Hunter2xyz99', 'Hunter2xyz99'],
    ['a SonarQube token', 'sonar.login=squ_0123456789abcdef0123456789abcdef01234567', 'squ_0123456789abcdef'],
    ['a Discord bot token', 'MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs', 'ZnCjm1XVW7vRze4b7Cq4se7kKWs'],
    ["mysql's box", '+-------+--------------+\n| user  | password     |\n+-------+--------------+\n| alice | Hq4Jr7Ks0Lt3 |\n+-------+--------------+', 'Hq4Jr7Ks0Lt3'],
    ["Redis's MONITOR", '1701000000.123456 [0 127.0.0.1:52345] "AUTH" "default" "Hunter3xyz99"', 'Hunter3xyz99'],
    ['CONFIG SET requirepass', '1701000000.1 [0 lua] "CONFIG" "SET" "requirepass" "Mm5Nn6Oo7"', 'Mm5Nn6Oo7'],
    ['cqlsh -p', 'cqlsh db.example.com -u cassandra -p Cq1Lsh2Pw3', 'Cq1Lsh2Pw3'],
    ['cmdkey /pass:', 'cmdkey /add:server01 /user:admin /pass:Cm4Dk5Ey6', 'Cm4Dk5Ey6'],
    ['wmic /password:', 'wmic /node:srv /user:admin /password:Wm7Ic8Pw9 process list', 'Wm7Ic8Pw9'],
    ["rpcclient's user%password", "rpcclient -U 'bob%Rp1Cc2Ll3' srv", 'Rp1Cc2Ll3'],
    ['kubeadm --certificate-key', `kubeadm join --token abcdef.0123456789abcdef --certificate-key ${'0123456789abcdef'.repeat(4)}`, '0123456789abcdef0123'],
    ['ngrok add-authtoken', 'ngrok config add-authtoken 2abcDEF3ghiJKL4mnoPQR5stuVWX_6yzABCdefGHIjklMN', '2abcDEF3ghiJKL4mno'],
    ['a Langfuse key', 'LANGFUSE=sk-lf-3c7b2f0e-7c11-4a5b-9e8f-0a1b2c3d4e5f', '3c7b2f0e-7c11'],
    ['a CircleCI token', `CCIPAT_${'aB3dE5fG7hJ9kL1mN3pQ5r'}_${'0123456789abcdef'.repeat(3).slice(0, 40)}`, 'aB3dE5fG7hJ9kL1mN3pQ5r'],
    ['a Brevo key', `xkeysib-${'0123456789abcdef'.repeat(4)}-aB3dE5fG7hJ9kL1m`, 'aB3dE5fG7hJ9kL1m'],
    ["MongoDB's changeUserPassword", 'db.changeUserPassword("app", "Mg1Ch2Pw3")', 'Mg1Ch2Pw3'],
    ["MySQL's SET PASSWORD", "SET PASSWORD FOR 'bob'@'%' = PASSWORD('Sp4Fr5Pw6');", 'Sp4Fr5Pw6'],
    ["SQL Server's sp_addlogin", "EXEC sp_addlogin 'appuser', 'Sa7Lg8Pw9';", 'Sa7Lg8Pw9'],
    ["Neo4j's createUser", "CALL dbms.security.createUser('neo', 'Ne1O2j3', false)", 'Ne1O2j3'],
    ["Vault's unseal keys", 'Unseal Key 1: 4jYbl2CBIv6SpkKj6Hos9iD32k5RfGkLzlosrrq/JgOm\nUnseal Key 2: Ab3jYbl2CBIv6SpkKj6Hos9iD32k5RfGkLzlosrrq/J', /4jYbl2CBIv6|Ab3jYbl2CBIv6/],
    ["openssl's -text dump", 'privateExponent:\n    4a:5b:6c:7d:8e:9f:a0:b1:c2:d3:e4:f5:06:17:28:39:\n    4a:5b\nprime1:\n    00:f1:e2:d3:c4:b5:a6:97:88:79', /4a:5b:6c:7d|f1:e2:d3:c4/],
    ['an OpenVPN static key', '-----BEGIN OpenVPN Static key V1-----\n0123456789abcdef0123456789abcdef\n-----END OpenVPN Static key V1-----', '0123456789abcdef0123'],
    ['a minisign secret key', 'untrusted comment: minisign encrypted secret key\nRWRTY0IyBmJ2Lk3Q9dX8zV7bN6mM5lK4jH3gF2dS1aP0oI9uY8tR7eW6qQ5wE4rT3yU2iO1pA0', 'RWRTY0IyBmJ2Lk3Q9dX8'],
    ['a TLS key log', `CLIENT_RANDOM ${'52362c10'.repeat(8)} ${'4f8b1a9e'.repeat(12)}`, '4f8b1a9e4f8b1a9e'],
    ["Django's password hash", 'pbkdf2_sha256$600000$c2FsdHNhbHQ$Zm9vYmFyYmF6cXV4cXV1eGZvb2Jhcg==', 'Zm9vYmFyYmF6cXV4'],
    ["PostgreSQL's SCRAM verifier", 'SCRAM-SHA-256$4096:c2FsdHNhbHQ=$StoredKeyBase64Value1234567890=:ServerKeyBase64Value1234567890=', 'StoredKeyBase64'],
    ["MySQL's native hash", 'authentication_string: *6BB4837EB74329105EE4568DDA7DC67ED2CA2AD9', '6BB4837EB743'],
    ['unattend.xml', '<AdministratorPassword>\n  <Value>Un1At2Tn3</Value>\n</AdministratorPassword>', 'Un1At2Tn3'],
    ['an SSM SecureString', { Parameter: { Name: '/prod/app/conn', Type: 'SecureString', Value: 'Ss1Mm2Ss3' } }, 'Ss1Mm2Ss3'],
    ["a storage account's keys", [{ keyName: 'key1', permissions: 'FULL', value: 'Az1St2Ky3Az1St2Ky3Az1St2Ky3Az1St2Ky3AB==' }], 'Az1St2Ky3'],
    ["JFrog's header", 'X-JFrog-Art-Api: AKCx1234567890abcdefghij', 'AKCx1234567890'],
    ["Yarn's npmAuthIdent", 'npmAuthIdent: "bob:Np1Ai2Id3"', 'Np1Ai2Id3'],
    ["an authenticator's export", 'otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xl', 'CjEKCkhlbGxvId6'],
    ["Jenkins' first password", 'Please use the following password to proceed to installation:\n\n0123456789abcdef0123456789abcdef\n', '0123456789abcdef0123'],
    ["Elasticsearch's reset", 'Password for the [elastic] user successfully reset.\nNew value: Es1Rs2Vl3Es1', 'Es1Rs2Vl3Es1'],
    ["Nomad's Secret ID", 'Accessor ID  = 6a1b2c3d-4e5f-6789-abcd-ef0123456789\nSecret ID    = 9f8e7d6c-5b4a-4392-8170-6f5e4d3c2b1a', '9f8e7d6c-5b4a'],
    ['wpa_passphrase', 'wpa_passphrase HomeWifi Wp1Aa2Ss3', 'Wp1Aa2Ss3'],
    ['mosquitto_passwd -b', 'mosquitto_passwd -b /etc/mosquitto/passwd bob Mq1Tt2Pw3', 'Mq1Tt2Pw3'],
    ['poetry http-basic', 'poetry config http-basic.private bob Po1Et2Ry3', 'Po1Et2Ry3'],
    ['cargo login', 'cargo login cioAbCdEf0123456789abcdef0123456789', 'cioAbCdEf0123456789'],
    ["pdftk's input_pw", 'pdftk in.pdf input_pw Pd1Ft2Kk3 output out.pdf', 'Pd1Ft2Kk3'],
    ["FortiOS's set password", 'config system admin\n    edit "admin"\n        set password Fg1Tt2Pw3\n    next', 'Fg1Tt2Pw3'],
    ["Cisco's ntp key", 'ntp authentication-key 1 md5 Nt1Pp2Kk3 7', 'Nt1Pp2Kk3'],
    ['cloudflared service install', 'cloudflared service install eyJhIjoiYWJjZGVmMDEyMzQ1NiIsInQiOiJ0dW5uZWwtaWQifQ==', 'eyJhIjoiYWJjZGVm'],
    ["Redis's ACL SETUSER", 'ACL SETUSER alice on ~* +@all >Ac1Ll2Pw3', 'Ac1Ll2Pw3'],
    ["IMAP's AUTHENTICATE PLAIN", 'C: a1 AUTHENTICATE PLAIN\nS: +\nC: AGJvYgBJbTFBcDJQdzM=', 'AGJvYgBJbTFBcDJQdzM'],
    ["AWS CLI's text output", 'PARAMETER\tarn:aws:ssm:us-east-1:123456789012:parameter/prod/db/password\t2024-01-01T00:00:00\t/prod/db/password\tSecureString\tAw1Ss2Tx3\t3', 'Aw1Ss2Tx3'],
    ["Redis's CONFIG GET reply", '127.0.0.1:6379> CONFIG GET requirepass\n1) "requirepass"\n2) "Rg1Cc2Gg3"', 'Rg1Cc2Gg3'],
    ["WildFly's clear-text", '<credential-reference clear-text="Wf1Ll2Dd3"/>', 'Wf1Ll2Dd3'],
    ["Juniper's $9$", 'secret "$9$Ju1Ni2Pe3r4K5x6Y7"; ## SECRET-DATA', 'Ju1Ni2Pe3r4K5x6Y7'],
    ['an Anaconda token in a URL', 'https://conda.anaconda.org/t/xy-12345678-abcd-1234-abcd-1234567890ab/my-channel', 'xy-12345678-abcd'],
    ["Consul's gossip key", { encrypt: 'pUqJrVyVRj5jsiYEkM/tFQYfWyJIv4s3XkvDwy7Cu5s=' }, 'pUqJrVyVRj5jsiYEkM'],
    ["Bitwarden's TOTP seed", { login: { username: 'bob', totp: 'JBSWY3DPEHPK3PXP' } }, 'JBSWY3DPEHPK3PXP'],
    ["Bitwarden's hidden field", { fields: [{ name: 'pin', value: 'Bw1Hh2Dd3', type: 1, linkedId: null }] }, 'Bw1Hh2Dd3'],
    ["sqlite3's list mode", 'sqlite> .headers on\nsqlite> select user, password from users;\nuser|password\nalice|Hq4Jr7Ks0Lt3\nbob|Zx9Cv8Bn7\nsqlite>', /Hq4Jr7Ks0Lt3|Zx9Cv8Bn7/],
    ['a box table of names and values (doppler)', '┌─────────────┬──────────────┐\n│ NAME        │ VALUE        │\n├─────────────┼──────────────┤\n│ DB_PASSWORD │ Pq7Rs0Tu3Vw6 │\n└─────────────┴──────────────┘', 'Pq7Rs0Tu3Vw6'],
    ['a box table with a password column', '┌───────┬──────────────┐\n│ user  │ password     │\n├───────┼──────────────┤\n│ alice │ Hq4Jr7Ks0Lt3 │\n└───────┴──────────────┘', 'Hq4Jr7Ks0Lt3'],
    ['a key under its owner in YAML', 'jwt:\n  issuer: me\n  key: Yj1Ww2Tt3Kk4', 'Yj1Ww2Tt3Kk4'],
    ['a key in its owner\'s TOML table', '[hmac]\nkey = "Hm1Ac2Kk3Ll4"\n', 'Hm1Ac2Kk3Ll4'],
    ["Elasticsearch's encoded API key", { id: 'VuaCfGcBCdbkQm-e5aOx', name: 'my-api-key', api_key: 'ui2lp2axTNmsyakw9tvNnw', encoded: 'VnVhQ2ZHY0JDZGJrUW0tZTVhT3g6dWkybHAyYXhUTm1zeWFrdzl0dk5udw==' }, /ui2lp2axTNms|VnVhQ2ZHY0JD/],
    ['a JFrog key', `AKCp${'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5'.repeat(2).slice(0, 69)}`, 'aB3dE5fG7hJ9kL1mN3pQ5r'],
  ])('masks %s', (_name, value, secret) => {
    const out = JSON.stringify(typeof value === 'string' ? all.text(value) : all.json(value));
    if (typeof secret === 'string') expect(out).not.toContain(secret);
    else expect(out).not.toMatch(secret);
  });
  it.each([
    [{ cache: { key: 'user:42:profile' } }],
    [{ sort: { key: 'createdAt', order: 'desc' } }],
    [{ primary: { key: 'id' } }],
    [{ encrypt: true, encrypt_verify_incoming: true }],
    [{ fields: [{ name: 'note', value: 'visible text', type: 0, linkedId: null }] }],
  ])('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it.each(['set timeout 30\nset hostname fw01', 'cargo login --help', 'cache:\n  key: user-profile\nsort:\n  key: createdAt', '[cache]\nkey = "sessions"', '│ Name │ Status  │\n│ web  │ running │', 'cat x | grep password\nfoo | bar', 'name|status\nweb|running', '┌──────────┬────────────────────┐\n│ NAME     │ VALUE              │\n├──────────┼────────────────────┤\n│ DB_HOST  │ db.internal        │\n│ PASSWORD │ ********           │\n└──────────┴────────────────────┘'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});


describe("the twelfth attacker's two-string arrays", () => {
  const token = 'ghp_16C7e42F292c6912E7710c838347Ae178B4a';
  it.each([
    [['GITHUB_TOKEN=' + token, 'PATH=/usr/bin'], token, 'PATH=/usr/bin'],
    [['AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY', 'AWS_REGION=us-east-1'], 'wJalrXUtnFEMI', 'AWS_REGION=us-east-1'],
    [['Authorization: Bearer ' + token, 'Accept: application/json'], token, 'Accept: application/json'],
    [['POSTGRES_PASSWORD=Xk9vQ2mZ7pLw4RtY', 'PATH=/bin'], 'Xk9vQ2mZ7pLw4RtY', 'PATH=/bin'],
  ])('scans both strings of %j', (value, secret, kept) => {
    const out = all.json(value) as string[];
    expect(JSON.stringify(out)).not.toContain(secret);
    expect(out[1]).toBe(kept);
  });
  it.each([[['PASSWORD_FILE=/run/secrets/pw', 'LANG=C.UTF-8']], [['ALLOW_USER_PASSWORD_AUTH', 'ALLOW_REFRESH_TOKEN_AUTH']], [['password', 'confirm_password']]])('leaves %j alone', (value) => expect(all.json(value)).toEqual(value));
  it.each([[['Authorization', 'Bearer abcdefghijklmnop1234']], [['password', 'Xk9vQ2mZ7pLw4RtY']], [['X-Api-Key', 'Xk9vQ2mZ7pLw4RtY']], [['password', 'hunter2pass']], [['password', 'Secret123']]])('still masks the value of the pair %j', (value) => {
    const out = all.json(value) as string[];
    expect(out[0]).toBe(value[0]);
    expect(out[1]).not.toBe(value[1]);
  });
});

describe("the twelfth attacker's labels of several words", () => {
  const S = 'Xk9vQ2mZ7pLw4RtY';
  const labels = ['API Key', 'Private Key', 'Master Key', 'Signing Key', 'Encryption Key', 'Account Key', 'Shared Key', 'License Key', 'Pre-Shared Key', 'Secret Key', 'Access Key', 'Secret Access Key', 'Access Token', 'Client Secret', 'Refresh Token'];
  it('masks the value after each, whatever the separator', () => {
    // (A TAB alone, too: a two-column table of a console's copy, `Access Token<TAB>…`; from round 12's leftovers.)
    for (const label of labels) for (const sep of [': ', ' = ', ' : ', '           : ', '\t', '\t\t']) expect(all.text(`${label}${sep}${S}`), `${label}${sep}`).not.toContain(S);
  });
  it.each([
    ['wg show', 'interface: wg0\n  public key: 8cBhAKrMbN+sPbXaQ3bnf5ePw5tNqXbKqyTLqJb6OkQ=\n  private key: yAnz5TF+lXXJte14tji3zlMNq+hd2rYUIgJBgB3fBmk=\n  listening port: 51820', 'yAnz5TF+lXXJte14'],
    ['an AWS site-to-site VPN config', 'IKE\n  - Pre-Shared Key           : zYq6Fh2Lk9Xw3Pq8\n  - Authentication Algorithm : sha1', 'zYq6Fh2Lk9Xw3Pq8'],
  ])('masks %s', (_name, text, secret) => expect(all.text(text)).not.toContain(secret));
  it.each(['Private Key: (2048 bit, 2 primes)', 'Access Token\tNever', 'Private Key: /home/me/.ssh/id_ed25519', 'License Key: XXXX-XXXX-XXXX-XXXX', 'API Key: 12'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the twelfth attacker's false positives", () => {
  it.each(['${POSTGRES_PASSWORD:-changeme}', 'environment:\n  DB: ${DB_PASSWORD:=postgres}', 'Data\n====\npassword:  16 bytes\nusername:  5 bytes'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it("leaves GitHub's legacy node ids alone", () => {
    const value = { id: 1296269, node_id: 'MDEwOlJlcG9zaXRvcnkxMjk2MjY5', owner: { node_id: 'MDQ6VXNlcjE=' } };
    expect(all.json(value)).toEqual(value);
  });
  it('still masks a password given after the shell default form and a base64 user:password', () => {
    expect(all.text('POSTGRES_PASSWORD: Xk9vQ2mZ7pLw4RtY')).not.toContain('Xk9vQ2mZ7pLw4RtY');
    expect(all.json({ auth: Buffer.from('admin:Xk9vQ2mZ7pLw4RtY').toString('base64') })).not.toEqual({ auth: Buffer.from('admin:Xk9vQ2mZ7pLw4RtY').toString('base64') });
  });
});

describe("the twelfth attacker's secret-printing commands and their output", () => {
  const S = 'Xk9vQ2mZ7pLw4RtY';
  const commands = ['pass show prod/db', 'gopass show -o prod/db', 'bw get password github', 'op read op://vault/db/password', 'op item get db --fields password', 'lpass show --password db', 'security find-generic-password -s db -w', 'secret-tool lookup service db', 'aws secretsmanager get-secret-value --secret-id db --query SecretString --output text', 'gcloud secrets versions access latest --secret=db', 'az keyvault secret show --vault-name v --name db --query value -o tsv', 'vault kv get -field=password secret/db', "kubectl get secret db -o jsonpath='{.data.password}' | base64 -d", 'consul kv get db/password', 'etcdctl get /db/password --print-value-only', 'printenv DB_PASSWORD', 'echo $DB_PASSWORD', 'cat config/master.key', 'argocd admin initial-password -n argocd', 'wg genkey', 'aws ecr get-login-password --region us-east-1', 'heroku auth:token'];
  it('masks the line each prints, at any prompt', () => {
    for (const command of commands) for (const prompt of ['$ ', '% ', '> ', 'PS C:\\> ']) expect(all.text(`${prompt}${command}\n${S}\n`), prompt + command).not.toContain(S);
  });
  it.each(['$ printenv HOME\n/root\n', '$ echo hello\nhello\n', '$ pass show x\nError: x is not in the password store.\n', '$ ls\nfile.txt\n', '$ wg genkey\n$ ls\n'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("the twelfth attacker's command lines", () => {
  const S = 'Xk9vQ2mZ7pLw4RtY';
  it.each([
    `ipmitool -I lanplus -H 10.0.0.5 -U admin -P ${S} chassis status`,
    `racadm -r 10.0.0.5 -u root -p ${S} getsysinfo`,
    `esxcli -s host -u root -p ${S} network ip interface list`,
    `vmrun -T ws -gu user -gp ${S} runProgramInGuest vm.vmx /bin/ls`,
    `rdesktop -u admin -p ${S} 10.0.0.9`,
    `x11vnc -passwd ${S} -display :0`,
    `snmpwalk -v2c -c ${S} 10.0.0.1`,
    `swaks --to a@b.c --auth-user me --auth-password ${S}`,
    `netlify deploy --auth ${S}`,
    `supabase db push -p ${S}`,
    `ldapwhoami -x -D cn=admin -w${S}`,
    `bcp db.dbo.t out t.dat -S srv -U sa -P${S}`,
  ])('masks %s', (text) => expect(all.text(text)).not.toContain(S));
  it.each(['snmpwalk -v2c -c public 10.0.0.1', 'ipmitool -I lanplus -H h -U admin -P $IPMI_PW power on'])('leaves the reference or default in %j', (text) => expect(all.text(text)).not.toMatch(/cli-password/));
  // SNMPv3's passphrases (`-A` auth, `-X` privacy) beside its algorithms (`-a SHA`, `-x AES`), told apart by case (round 12's leftover).
  it('masks the SNMPv3 passphrases and leaves the algorithms', () => {
    const out = all.text(`snmpget -v3 -l authPriv -u admin -a SHA -A ${S} -x AES -X Pq8Lm3Zr5tWv7Yb2 10.0.0.1 sysName.0`);
    expect(out).not.toContain(S);
    expect(out).not.toContain('Pq8Lm3Zr5tWv7Yb2');
    expect(out).toContain('-a SHA');
    expect(out).toContain('-x AES');
    expect(all.text('snmpwalk -v3 -l authNoPriv -u admin -a SHA256longname -x AES256cipher 10.0.0.1')).not.toMatch(/cli-password/);
  });
});

describe("round 12's placeholders in example files (.env.example, READMEs): left as they are", () => {
  it.each([
    'API_KEY=your-api-key',
    'OPENAI_API_KEY=<YOUR_API_KEY>',
    'GITHUB_TOKEN=<Your GitHub Token>',
    'DB_PASSWORD=replace-me',
    'SESSION_SECRET=change_me',
    'STRIPE_SECRET_KEY=sk_test_your_key_here',
    'AWS_SECRET_ACCESS_KEY=YOUR_SECRET_ACCESS_KEY',
    'password: your_password_here',
    'token = "put-your-token-here"',
  ])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it.each([
    ['a password that only mentions "here"', 'DB_PASSWORD=Wh3reIsHere!9'],
    ['a password in words', 'DB_PASSWORD=correct-horse-battery-staple'],
    ['a key after its placeholder-like name', 'API_KEY=yourapp-9f8e7d6c5b4a3f2e1d0c'],
  ])('still masks %s', (_name, text) => expect(all.text(text)).not.toBe(text));
});

describe("round 12's settings about a secret, which are not one", () => {
  it.each(['password_encryption = scram-sha-256', 'PASSWORD_COMPLEXITY=high', 'secret_cipher: aes-256-gcm', 'token_encryption: AES-256-GCM'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
  it.each(['DB_PASSWORD=scram-sha-256-Xq7', 'encryption_password = Xk9vQ2mZ7pLw', 'cipher_secret: Pq8rT2vLk9wXq'])('still masks %j', (text) => expect(all.text(text)).not.toBe(text));
});

describe("round 12's tools' own formats", () => {
  const S = 'Xk9vQ2mZ7pLw4RtY';
  it.each([
    ['Redis CONFIG SET', `127.0.0.1:6379> CONFIG SET requirepass ${S}`],
    ['redis-cli CONFIG SET masterauth', `redis-cli config set masterauth "${S}"`],
    ["GitHub Actions' add-mask", `::add-mask::${S}`],
    ['an add-mask echoed in a step', `run: echo "::add-mask::${S}"`],
    ["Neo4j's auth variable", `NEO4J_AUTH=neo4j/${S}`],
    ["elasticsearch-setup-passwords' output", `Changed password for user elastic\nPASSWORD elastic = ${S}`],
    ["offlineimap's remotepass", `[Repository Remote]\nremotepass = ${S}`],
    ["snmpd.conf's community", `rocommunity ${S} default`],
  ])('masks %s', (_name, text) => expect(all.text(text)).not.toContain(S));
  it.each(['rocommunity public default', 'CONFIG SET requirepass ""', '::add-mask::${{ steps.login.outputs.token }}', 'NEO4J_AUTH=none', 'CONFIG GET requirepass'])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

describe("round 12's JSON whose values are secrets by what the object is", () => {
  const S = 'Zq8vHolderSecret42';
  it.each([
    ['a Kubernetes Secret', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app' }, type: 'Opaque', stringData: { DB_USER: 'app', dsn_url: S }, data: { config: b64(S) } }],
    ['a Kubernetes Secret in a list', { apiVersion: 'v1', kind: 'List', items: [{ apiVersion: 'v1', kind: 'Secret', data: { anything: b64(S) } }] }],
    ["Terraform's random_password", { resources: [{ mode: 'managed', type: 'random_password', name: 'db', instances: [{ attributes: { bcrypt_hash: `$2a$10$${S}abcdefghijklmnopqrstuvwxyzAB`, id: 'none', keepers: null, length: 24, min_special: 0, override_special: null, result: S, special: true } }] }] }],
    ['a Vault KV 2 read', { request_id: 'a1', lease_id: '', lease_duration: 0, renewable: false, data: { data: { foo: S }, metadata: { created_time: '2024-01-01T00:00:00Z', version: 3 } } }],
    ['a Vault KV 1 read', { request_id: 'a1', lease_id: '', lease_duration: 2764800, renewable: false, data: { foo: S } }],
    ["Vault's KV 2 answer without its envelope", { data: { foo: S }, metadata: { created_time: '2024-01-01T00:00:00Z', deletion_time: '', destroyed: false, version: 3 } }],
    ["Netlify's env", [{ key: 'STRIPE_SECRET_KEY', scopes: ['builds'], values: [{ id: '1', value: S, context: 'all' }] }]],
    ["Terraform's random_password, few of its attributes written", { resources: [{ type: 'random_password', instances: [{ attributes: { result: S } }] }] }],
    ["Terraform's random_string", { resources: [{ type: 'random_string', instances: [{ attributes: { id: 'x', result: S } }] }] }],
    ["Bitwarden's hidden field", { fields: [{ name: 'API', value: S, type: 1 }] }],
    ['a name/data pair', [{ name: 'API_TOKEN', data: S }]],
    ["Postman's bearer auth", { auth: { type: 'bearer', bearer: S } }],
  ])('masks %s', (_name, value) => {
    const out = JSON.stringify(all.json(value));
    expect(out).not.toContain(S);
    expect(out).not.toContain(b64(S));
  });
  it.each([
    ['a ConfigMap', { apiVersion: 'v1', kind: 'ConfigMap', data: { LOG_LEVEL: 'info', mode: 'fast' } }],
    ["a Secret's metadata", { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app', namespace: 'prod' }, type: 'Opaque' }],
    ["Netlify's plain variable", [{ key: 'NODE_VERSION', values: [{ id: '1', value: '20', context: 'all' }] }]],
  ])('leaves what is no secret in %s', (_name, value) => expect(all.json(value)).toEqual(value));
  it("leaves a Vault read's metadata", () => {
    const metadata = { version: 3, created_time: '2024-01-01T00:00:00Z' };
    expect((all.json({ request_id: 'a1', lease_duration: 0, data: { data: { foo: 'x' }, metadata } }) as { data: { metadata: unknown } }).data.metadata).toEqual(metadata);
  });
  it.each([
    ['`kubectl get secret -o json`', JSON.stringify({ apiVersion: 'v1', kind: 'Secret', data: { password: b64(S), config: b64(S) }, metadata: { name: 'app' } }, null, 4)],
    ['`terraform show -json`', JSON.stringify({ values: { root_module: { resources: [{ type: 'random_password', values: { length: 24, min_special: 0, override_special: null, result: S } }] } } })],
    ['`vault kv get -format=json`', JSON.stringify({ request_id: 'a1', lease_duration: 0, data: { data: { foo: S }, metadata: { created_time: 'x', version: 1 } } }, null, 2)],
    ["Composer's auth.json", JSON.stringify({ 'github-oauth': { 'github.com': S }, 'http-basic': { 'repo.example.org': { username: 'me', password: S } } }, null, 4)],
  ])('masks the same printed as text by %s, the rest of the text as written', (_name, text) => {
    const out = all.text(text);
    expect(out).not.toContain(S);
    expect(out).not.toContain(b64(S));
    expect(out.replace(/"\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]"/g, '"x"')).toBe(text.replace(new RegExp(`"(?:${S}|${b64(S)})"`, 'g'), '"x"'));
  });
  it('masks every value of a Secret written as YAML, block scalars too, and leaves the documents beside it', () => {
    const configMap = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  LOG_LEVEL: info\n  mode: fast\n';
    const manifest = `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  anything: ${S}\n  quoted: "${S}x"   # a comment\n  cert: |\n    line one ${S}y\n    line two\ndata:\n  config: ${b64(S)}\n---\n${configMap}`;
    const out = all.text(manifest);
    for (const v of [S, `${S}x`, `${S}y`, b64(S)]) expect(out).not.toContain(v);
    expect(out).toContain('  quoted: "[MASKED:secret-value:');
    expect(out.endsWith(`---\n${configMap}`)).toBe(true);
    expect(all.text(configMap)).toBe(configMap);
    const helm = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  password: {{ .Values.db.password | b64enc }}\n';
    expect(all.text(helm)).toBe(helm);
  });
});

describe("round 12's tools' own formats, the rest", () => {
  const S = 'Zq8vToolPw42x';
  it.each([
    ["Elasticsearch 8's first start", `ℹ️  Password for the elastic user (reset with \`bin/elasticsearch-reset-password -u elastic\`):\n  ${S}\n`],
    ["msmtp's password line", `account default\nhost smtp.example.com\npassword ${S}\n`],
    ["mbsync's Pass line", `IMAPAccount work\nHost imap.example.com\nPass ${S}\n`],
    ["fetchmailrc's poll line", `poll imap.x protocol IMAP user "me" password "${S}"`],
    ["ftplib's debug line", `*cmd* 'PASS ${S}'`],
    ["ftplib's put line", `*put* 'PASS ${S}\\r\\n'`],
    ["lftp's debug line", `---> PASS ${S}`],
    ["imaplib's debug line", `  12:00.00 > b'ABCD1 LOGIN me "${S}"'`],
    ["Pulumi's config with secrets shown", `KEY          VALUE\ndbPassword   ${S}\napiKey       ${S}\n`],
    ["Fly.io's macaroon", `FlyV1 fm2_lJPECAAAAAAAA${S}${"Aa0+".repeat(40)},fm2_lJPE${S}${"Bb1/".repeat(40)}`],
    ['an .rdp file', `full address:s:host\npassword 51:b:01000000D08C9DDF0115D1118C7A00C04FC297EB01000000${S}`],
    ["ppp's chap-secrets", `# client\tserver\tsecret\tIP addresses\nme * ${S} *\n"you" * "${S}" *`],
    ["Bundler's credentials", `BUNDLE_GEMS__CONTRIBSYS__COM: "me:${S}"`],
    ['a here-string to vncpasswd', `vncpasswd -f <<< '${S}'`],
    ['a secret piped to wrangler', `echo ${S} | wrangler secret put API_KEY`],
    ['a secret piped to gh', `echo '${S}' | gh secret set DEPLOY_TOKEN`],
    ['an AWS session token on its own', `FwoGZXIvYXdzEJr//////////wEaDKeyZq8vToolPw42x${'A1b2C3d4'.repeat(30)}`],
    ["`wg show all dump`'s interface line", `wg0\t${S}AbCdEfGhIjKlMnOpQrStUvWxYz0123=\tPubKeyAbCdEfGhIjKlMnOpQrStUvWxYz01234567890=\t51820\toff`],
    ["`wg show all dump`'s peer line", `wg0\tPubKeyAbCdEfGhIjKlMnOpQrStUvWxYz01234567890=\t${S}AbCdEfGhIjKlMnOpQrStUvWxYz0123=\t203.0.113.5:51820\t10.0.0.2/32\t0\t0\t0\toff`],
    ['`az storage account keys list -o table`', `KeyName    Permissions    Value\n---------  -------------  -----\nkey1       FULL           ${S}${'Ab3+'.repeat(18)}A==\n`],
    ['`az storage account keys list -o tsv`', `key1\tFULL\t${S}${'Ab3+'.repeat(18)}A==`],
    ['`influx auth list`', `ID\t\t\tDescription\tToken\t\t\tUser Name\tPermissions\n09f1c3a0b1d2e000\tadmin's Token\t${S}Qw3rTy9UiOp1AsDfGh2JkLzXcVbNm==\t\tadmin\t\t[read:orgs]\n`],
    ["aws sts's text output", `CREDENTIALS\tASIAXXXXXXXXXXXXXXXX\t2026-12-08T00:00:00Z\tZq8vSecretAccessKeyValue1234567890abcd\tIQoJb3JpZ2luX2VjEZq8vToolPw42x${'Xy9'.repeat(80)}`],
  ])('masks %s', (_name, text) => {
    const out = all.text(text);
    expect(out).not.toContain(S);
  });
  it.each([
    'password required\n',
    'Pass the salt\n',
    'echo hello | wc -l',
    'count * 2 * factor',
    '  12:00.00 > b\'ABCD1 SELECT INBOX\'',
    'KEY          VALUE\nregion       us-east-1\n',
    'ID\tToken\tUser\n1\tnone\tadmin\n2\tread-only-token\tbob\n',
  ])('leaves %j alone', (text) => expect(all.text(text)).toBe(text));
});

/*
 * The fourteenth attacker's token formats, missed where no key or header names them: an unsigned JWT (`alg: none`,
 * its signature empty), a JWE in compact form (five parts, the second empty under `dir`: NextAuth's session
 * token), a Hugging Face organisation token. Each in a comment, a constant, a log line and a YAML value.
 */
describe("the fourteenth attacker's token formats", () => {
  const b64url = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url({ sub: 'user-42', role: 'admin', iat: 1714550400 })}.`;
  const jwe = `${b64url({ alg: 'dir', enc: 'A256GCM' })}..${Buffer.alloc(12, 7).toString('base64url')}.${Buffer.from('encrypted session claims of forty bytes!').toString('base64url')}.${Buffer.alloc(16, 9).toString('base64url')}`;
  const hfOrg = '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';
  const places = (t: string) => [`// token: ${t}`, `const t = "${t}";`, `2024-05-01 INFO sid=${t} user=ada`, `session: ${t}`, `  - ${t}`, t];
  it.each([
    ['an unsigned JWT', unsigned, unsigned.split('.')[1] as string],
    ['a JWE', jwe, jwe.split('.')[3] as string],
    ['a Hugging Face organisation token', hfOrg, hfOrg.slice(8)],
  ])('masks %s wherever it stands', (_name, value, part) => {
    for (const text of places(value)) expect(all.text(text), text).not.toContain(part);
  });
  it('leaves what only looks like them: a JWT cut at its first dot, a dotted version, a name', () => {
    for (const text of [`header ${b64url({ alg: 'none' })}.`, 'v1.2.3.4.5', 'api_org_name', 'eyJ.eyJ.']) expect(all.text(text)).toBe(text);
  });
});

/*
 * The fifteenth attacker's denial of service: a key named for a member every object inherits (`constructor`,
 * `__proto__`, `toString`) was looked up in a table of rules as if it were one, and masking threw: the message
 * was refused (fail closed), and a real file (the `globals` package's globals.json) could never be read. Any key,
 * any entity name, must be a string like another.
 */
describe("the fifteenth attacker's inherited names", () => {
  const INHERITED = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', 'isPrototypeOf', '__defineGetter__', 'propertyIsEnumerable', 'toLocaleString'];
  it('masks an object whose keys are the names every object inherits, as JSON and as its text', () => {
    fc.assert(
      fc.property(fc.subarray(INHERITED, { minLength: 1 }), fc.constantFrom('value', 'pass', 'token', 'name', 'x'), fc.string({ maxLength: 12 }), (keys, other, value) => {
        const object = Object.fromEntries([...keys.map((k) => [k, value]), [other, 'Xq7mP2vLk9wTr0ub']]);
        expect(() => all.json(object)).not.toThrow();
        expect(() => all.text(JSON.stringify(object))).not.toThrow();
      }),
      { numRuns: 300 },
    );
    expect(all.json({ constructor: 'x', value: 'y' })).toEqual({ constructor: 'x', value: 'y' });
  });
  it('reads an entity named like one as text, not as a function', () => {
    for (const name of INHERITED) expect(all.text(`a &${name}; b`)).toBe(`a &${name}; b`);
  });
});

/*
 * The fifteenth attacker's database dumps: a row's password stood in a column the statement names, not beside a
 * key — an INSERT with its column list (the email in it masked, the password not), pg_dump's COPY with its rows
 * tab-separated. Each column named for a secret is masked in every row; the others are the rows' own.
 */
describe("the fifteenth attacker's database dumps", () => {
  const PW = 'Zq8#vLr2!mWx7Tpe';
  const TOK = 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c';
  it.each([
    [`INSERT INTO users (id, email, password) VALUES (1, 'a@example.com', '${PW}');`, PW],
    [`INSERT INTO "public"."integrations" ("id","name","api_key") VALUES (1,'stripe','${TOK}'), (2,'slack','${TOK.slice(0, 30)}x1');`, TOK.slice(0, 30)],
    [`insert into accounts(user_name, password_hash, pwd) values ('ada', '$2b$10$abc', '${PW}');`, PW],
    [`COPY public.users (id, username, password) FROM stdin;\n1\talice\t${PW}\n2\tbob\t\\N\n\\.`, PW],
    // (mysqldump: no column list, the table's CREATE TABLE before it names the columns.)
    ["CREATE TABLE `users` (\n  `id` int NOT NULL,\n  `name` varchar(64),\n  `password` varchar(255) NOT NULL,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB;\nINSERT INTO `users` VALUES (1,'alice','" + PW + "'),(2,'bob','x" + PW + "');", PW],
  ])('masks the secret columns of %s', (text, secret) => {
    const out = all.text(text);
    expect(out).not.toContain(secret);
    expect(out).toMatch(/users|integrations|accounts/);
  });
  it('leaves the other columns, NULLs, and a dump without secret columns', () => {
    expect(all.text("INSERT INTO users (id, name) VALUES (1, 'Ada Lovelace');")).toBe("INSERT INTO users (id, name) VALUES (1, 'Ada Lovelace');");
    expect(all.text("INSERT INTO users (id, password) VALUES (1, NULL), (2, '');")).toBe("INSERT INTO users (id, password) VALUES (1, NULL), (2, '');");
    const out = all.text(`INSERT INTO users (id, name, password) VALUES (7, 'Grace', '${PW}');`);
    expect(out).toContain("(7, 'Grace', '[MASKED:");
  });
});

// (The fifteenth round: a HAR entry's cookies are `{name, value}` and often nothing else, no domain beside them.)
describe("the fifteenth attacker's HAR cookies", () => {
  const har = { log: { entries: [{ request: { cookies: [{ name: 'remember_me', value: 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c' }, { name: 'theme', value: 'dark' }] } }] } };
  it('masks a cookie that looks like a credential, as JSON and as its text, and leaves one that does not', () => {
    for (const out of [JSON.stringify(all.json(har)), all.text(JSON.stringify(har, null, 2))]) {
      expect(out).not.toContain('f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c');
      expect(out).toMatch(/"value": ?"dark"/);
    }
  });
});
