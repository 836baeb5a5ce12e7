/*
 * Source code is most of what a coding agent's tools read and write: masking must leave it as it is, or the log
 * misleads and, with `inline: true`, the agent's own files come back corrupted. A scan of real sources (the
 * packages this repository pins, Python's standard library) found 1 line in 700 changed. What would go wrong:
 * - an expression read as a secret's value: an optional chain (`const token = call.params?._meta?.progressToken;`),
 *   a statement's identifier (`token.source = source;`, `resumptionToken: lastEventId,`, `cookieAv = unparsedAttributes`),
 *   a declaration (`let cookieDomain = attributeValue`), `await f(…)`, `(a = {})`, a spread, a negation, a regex
 *   literal, a ternary, a chained assignment (`login = account = password = ''`), a hex constant, a type (`privateKey: KeyObject;`);
 * - a name read as a secret: the names of secrets themselves (`['authorization_code', 'refresh_token']`,
 *   `'client_secret_post'`), an algorithm or a method under a key that ends in one (`id_token_signed_response_alg: 'RS256'`),
 *   a route named for its key (`token: '/token'`), a URN, a test's id (`sessionId: 'test-session-1'`), a header's
 *   name (`['mcp-session-id', 'mcp-protocol-version']`), an example's placeholder (`clientSecret: 'my-secret'`), a
 *   template its code fills in (`'{0}:{1}'.format(…)`, `"Basic %s" % auth`), a member of an object named for a
 *   secret (`cookieAttributeList.sameSite = 'Lax'`);
 * - a list read as key and value: a call's later arguments (`invalidKeyInput(key, "CryptoKey", "KeyObject")`), an
 *   array's strings, a function's parameters read as a table's head (`def connect_ftp(self, user, passwd, host):`),
 *   `password, respectively` in prose, a pattern's alternatives (`/TOKEN|PASSWORD|CREDENTIAL/`);
 * - a key's armour mentioned, not given: `pkcs8.indexOf("-----BEGIN PRIVATE KEY-----")` masked the rest of the file;
 * - and the other way, each fix must not open a hole: code that does hold a secret stays masked — a quoted
 *   literal, a connection string, an env or INI line, a key in a string, concatenated or cut.
 * The thirteenth attacker's round (on those rules): a literal after a type (`const apiKey: string = '…'`,
 * Kotlin's `val password: String = "…"`, Rust's `&str`, Go's `var Password string = "…"`) never read; a quoted
 * literal that looks like code (`"@dmin2024"`, `"correct.horse.battery.staple"`) dropped; log dumps and config read
 * as code (`User(…, password=letmein)`, `password = rock and roll forever`, `spring.datasource.password =
 * winterIsComing`); and code still changed: a ternary's branch, keyword arguments (`password=password, port=5432`),
 * PHP's `$request->bearerToken()`, ERB in Rails YAML; a private key shown with each line's prefix (`cat -n`, grep's
 * `file:2:`, a diff, a quote: the armour rule this file's first round added needed the body right after its BEGIN
 * line, so these lost their mask); a URL's password before a templated host (`@{host}`, `@${DB_HOST}`, `@%s`);
 * plural and other key names (`SECRET_KEYS`, `BASIC_AUTH`, `DB_CREDS`, `SESSION_KEY`, `passwort`); secrets passed by
 * position to what signs with them (`jwt.sign(payload, '…')`, `hmac.new(b"…")`), typed by end-to-end tests
 * (`cy.get('#password').type('…')`), given to the command that stores them (`--value`, `<<<`), and named in prose.
 * Real code, not samples: the sources of packages whose versions package-lock.json pins, masked 4 KB at a time
 * as a tool reads a file, every byte kept but for two documentation examples that do hold a cookie and a key.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createMasker } from '../../../main/masking/masker.js';

const masker = createMasker({ detectors: ['secrets', 'credit-card'], custom: [] }, Buffer.alloc(32, 7));
// Every gate of the later passes open (`||`, `??`, an option, a tab), as in most real files.
const inCode = (line: string) => `function f(a, b) {\n\tif (a || b) return run('--quiet', a ?? b);\n${line}\n}\n`;
// And a config file's, for the secrets: the same gates open.
const inConfig = (line: string) => `# deploy: run --quiet when a || b ?? c\t\n${line}\n[next]\n`;

const CODE: string[] = [
  'const token = call.params?._meta?.progressToken;',
  'const token = ((message as { params?: { progressToken?: unknown } }).params ?? {}).progressToken;',
  'this._sessionId = opts?.sessionId;',
  '    resumptionToken: lastEventId,',
  '  token.source = source;',
  'super.password = value;',
  'self.user, self.password = user, password',
  "passwd = passwd + 'anonymous@'",
  "login = account = password = ''",
  'const authorizationServerMetadata = await discoverAuthorizationServerMetadata(url, { fetchFn });',
  "const clientSecret = isPublicClient ? undefined : crypto.randomBytes(32).toString('hex');",
  'const CLIENT_NOTIFICATION_TOKEN = /^[A-Za-z0-9._~+\\x2F-]+=*$/u;',
  'export const idTokenSigningAlgValues = [...signingAlgValues];',
  'tokenIsJWT = !!decodeProtectedHeader(params.token);',
  // (A type where an annotation stands, or a type's declaration: the fourteenth round, in .d.ts files and headers.)
  '    token: Option<String>,',
  '    api_key: Arc<str>,',
  '  apiKey: ApiKeyConfig | undefined;',
  'function f(token: FlowScalar | BlockScalar) {}',
  '    firstToken: AST.Token;',
  'type AnyToken = AST.Token | AST.Comment;',
  '  password: KDFInput,',
  '    auth: (...args: unknown[]) => Promise<unknown>;',
  '    id_token: z.ZodOptional<z.ZodString>;',
  'type Pass = IsEmptyObject<{}>;',
  'type Secret = Opaque<string, "secret">;',
  'data class Login(val token: AccessToken, val password: CharArray)',
  'using PassConceptT = detail::PassConcept<IRUnitT, AnalysisManagerT>;',
  'using TokenT = lexer::Token;',
  'enum class InlineeLinesSignature : uint32_t {',
  // (The fourteenth round's false positives: a C macro's constant and names, a GitHub expression, a regex, a wildcard,
  // prose after IDENTIFIED BY, an unset header, a test's line, a Key Vault reference, a derivation's salt.)
  '#  define NSS_BUFLEN_PASSWD\t1024',
  '$cred = Get-Credential; Connect-Server -Password $pw',
  'challengePassword\t\t= A challenge password',
  'dn: cn=app\nobjectClass:: dG9w',
  '#define SSL_TXT_kPSK "kPSK"',
  '#define OSSL_KDF_PARAM_PASSWORD "pass" /* octet string */',
  '#define SN_id_regCtrl_regToken          "id-regCtrl-regToken"',
  '      NODE_AUTH_TOKEN: ${{secrets.npm_token}}',
  "longopt_pat = r'[a-zA-Z](?:[a-zA-Z0-9-]*)'",
  "Address6.fromWildcard('*:*:*:*:*:*:*:*')",
  '   identified by TGID.  This function returns',
  "      Authorization: undefined, // c.req.header('Authorization')",
  'log_verbose("PASS: MessagFormat successful");',
  'DbPassword: "@Microsoft.KeyVault(SecretUri=https://kv.vault.azure.net/secrets/db/)"',
  "scrypt('password', 'salt', { N: 2 ** 16, r: 8, p: 1, dkLen: 32 })",
  'Example: `export API_KEY=...`',
  '  UNINSTALL_APP_KEY: unknown',
  // (The fifteenth round's real files: system configs, manuals, the JDK's, Python's and Go's sources, a build script.)
  'passwd:         files systemd',
  'password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt',
  'root:*:20228:0:99999:7:::',
  'private_key\t= $dir/private/cakey.pem# The private key',
  '# com.sun.management.jmxremote.ssl.need.client.auth=true|false',
  '<privateKey>/path/to/private/key</privateKey>',
  '  "PWD": "/home/nodeuser/project/node",',
  '   objects are identified by mecha‐',
  '--hugging-face-access-token=HUGGING_FACE_ACCESS_TOKEN',
  '        SecretKey secret = isValidation ?',
  "    boolean inKey = firstc > ' ';",
  'new PasswordCallback("DIGEST-MD5 password: ", false);',
  '    private static final String PWD = "javax.security.auth.login.password";',
  '    private static final String USERNAME_TOKEN = "{USERNAME}";',
  '\tsig := <-ch',
  'PASSWORD_PATTERN = r"^(?=.*[A-Z])(?=.*\\d).{12,}$"',
  '* CAPABILITY IMAP4rev1 AUTH=PLAIN AUTH=CRAM-MD5 AUTH=XOAUTH2',
  '"build": "wasm-opt --pass-arg=asyncify-imports@env.await_promise_sync"',
  // (A fallback that is no literal, or a placeholder; a few bytes that are no key.)
  'const apiKey = process.env.API_KEY ?? defaultApiKey;',
  'val password = System.getenv("DB_PASSWORD") ?: ""',
  'let password = env::var("DB_PASSWORD").unwrap_or_default();',
  '  password: {{ .Values.db.password | default "" | b64enc }}',
  '  password: {{ default "changeme" .Values.db.password }}',
  'let signing_key: [u8; 4] = [0, 1, 2, 3];',
  'res.cookie = function (name, value, options) {',
  '  USERNAME_PASSWORD: 0x02,',
  'const nsisSignature = [0xef, 0xbe, 0xad, 0xde];',
  '      let cookieDomain = attributeValue',
  '      cookieAv = unparsedAttributes',
  '  privateKey: KeyObject;',
  '    cscIKeyPassword: (0, util.chooseNotNull)(options.cscInstallerKeyPassword, process.env.CSC_INSTALLER_KEY_PASSWORD),',
  'const done = {\n  progressToken: messageId\n};',
  "  grant_types: ['authorization_code', 'refresh_token'],",
  "return ['client_secret_basic', 'client_secret_post', 'none'].includes(method);",
  "const params = new Set(['token', 'token_type_hint', ...getClientAuthParams(ctx)]);",
  "if (key.type !== expectedType && (secret || ['secret', 'public', 'private'].includes(key.type))) {",
  "  id_token_signed_response_alg: 'RS256',",
  "  authorization_encrypted_response_enc: 'authorization_encryption_enc_values_supported',",
  "const AUTHORIZATION_CODE_CHALLENGE_METHOD = 'S256';",
  "  token: '/token',",
  "  device_authorization: '/device/auth',",
  "grantType = 'urn:ietf:params:oauth:grant-type:device_code';",
  "await handler({}, { sessionId: 'test-session-1' });",
  "  progressToken: 'token-123',",
  "  exposeHeaders: ['mcp-session-id', 'mcp-protocol-version']",
  " *   clientSecret: 'my-secret',",
  "  richAuthorizationRequests: ['enabled', 'types'],",
  'throw new TypeError(invalidKeyInput(key, "CryptoKey", "KeyObject", "JSON Web Key"));',
  '  if (typeof pkcs8 != "string" || pkcs8.indexOf("-----BEGIN PRIVATE KEY-----") !== 0)\n    throw new TypeError(\'"pkcs8" must be PKCS#8 formatted string\');\n  return fromPKCS8(pkcs8, alg, options);',
  "const body = pem.replace(/-----END PRIVATE KEY-----/, '').trim();",
  "credentials = '{0}:{1}'.format(user, passwd).encode()",
  'headers["Authorization"] = "Basic %s" % auth',
  '            ("Authorization", "Basic " + auth)',
  "def unix_getpass(prompt='Password: ', stream=None):",
  '    def output(self, attrs=None, header="Set-Cookie:", sep="\\015\\012"):',
  "        if s[:5] in {'pass ', 'PASS '}:",
  "        return self._shortcmd('PASS %s' % pswd)",
  '                 credentials=None, secure=None, timeout=5.0):',
  '\ndef connect_ftp(self, user, passwd, host, port, dirs, timeout):\n    return ftpwrapper(user, passwd, host, port, dirs, timeout)',
  "throw new InvalidArgumentError('Username or password too long')",
  '//    username and password, respectively, in the traversable for user prompts.',
  "if (request.credentials === 'include' || request.credentials === 'same-origin') {",
  'const pwBuf = toArrayBuffer(Buffer.from(password, "utf-8"));',
  'async function createKeychain({ tmpDir, cscLink, cscKeyPassword, cscILink, currentDir }) {',
  "log.info(chalk.bold('When asked to enter a password (\"Create Private Key Password\"), please select \"None\".'));",
  'if (/TOKEN|SECRET|KEY|PASSWORD|CREDENTIAL/i.test(envName)) {',
  "  switch (route) {\n    case 'device_authorization':\n      grantType = 'urn:ietf:params:oauth:grant-type:device_code';",
  "        cookieAttributeList.sameSite = 'Lax'",
  '        this.currentToken.data = "[CDATA[";',
  ' * Creates a transport, which will direct the client to POST messages to the URL identified by `_endpoint`.',
  '# token          = 1*tchar',
  '    this.secretKey = secretKey != null ? secretKey : defaultKey;',
  'const x = useAuth ? bearerToken : basicCreds;',
  'conn = psycopg2.connect(host=host, user=user, password=password, port=5432)',
  'client = Redis(host="localhost", password=redis_password, db=0)',
  '  ssh.connect(hostname, username=user, password=passwd, port=22)',
  '    $token = $request->bearerToken();',
  'my $password = $cfg->{db}{password};',
  '  auth_token: <%= ENV["AUTH_TOKEN"] %>',
  '  secret_key_base: <%= ENV.fetch("SECRET_KEY_BASE") %>',
  '    def __init__(self, password_mgr=None):\n        if password_mgr is None:',
  'const token = jwt.sign(payload, secret, { expiresIn: "1h" });',
  "cy.get('#password').type(password)",
  "await page.fill('#username', 'alice');",
  'aws ssm put-parameter --name /prod/db --type SecureString --value "$DB_PASSWORD"',
  'The password for staging is in the vault.',
  "  attestClientAuth: ['additionalSecuritySignal'],",
  "    SERVER_AUTH = '1.3.6.1.5.5.7.3.1'",
  'const sig = [["verify"], ["sign"]];',
  'var PrivateKeyJwtProvider = class {',
  "const COOKIE_FIELDS = ['domain', 'httpOnly', 'sameSite', 'expires'];",
  "const SECRET_WORDS = new Set(['psk', 'requirepass', 'masterauth', 'pw']);",
  ' * (`"secrets": ["DB_PASSWORD", "API_KEY"]`).',
  "*     idToken: 'eyJhbGciOiJS...',",
  'print(f"token={token!r}")',
  'scopes:\n  - read:tokens\n  - write:tokens',
  'token_types:\n  - access\n  - refresh',
  '  "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",',
  "const USE_CREDENTIALS = 'use-credentials'",
  "const headers = { Authorization: authHeader, 'Content-Type': 'application/json' };",
  'token = "#{prefix}-#{SecureRandom.hex(16)}"',
  '      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-changeme}',
  'tokens = [accessToken, refreshToken]',
  "key_sizes = [128, 256]",
  "fields = ['password', 'confirm_password']",
  "  password :: !Text",
  "* The passphrase is AES-256 encrypted at rest.",
  "// password is SHA256-salted, see hash.ts",
  "passwd: Authentication token manipulation error",
  "Secret: db-credentials created",
  "passwords: match",
  "token:    StringLiteral",
  "    val apiKey = BuildConfig.API_KEY",
  "api_key = Config.OPENAI_API_KEY",
  "    userid = passwd = acct = ''",
  "    SMTPAuthenticationError  The server didn't accept the username/\n                             password combination.",
];

// Code that does hold a secret (synthesised): each fix above leaves it masked.
const SECRETS: [string, string][] = [
  ['const password = "Tr0ub4dor&3";', 'Tr0ub4dor&3'],
  ["self.password = 'Xq7mP2vLk9w'", 'Xq7mP2vLk9w'],
  ['conn = "Server=db;Database=app;User Id=sa;Password=Pa55word9;"', 'Pa55word9'],
  ['Server=db;Database=app;User Id=sa;Password=hunterTwo;', 'hunterTwo'],
  ['DB_PASSWORD=letmein;', 'letmein'],
  ['password = hunter2', 'hunter2'],
  ['password = letmein', 'letmein'],
  ['password = letmein ; the admin password', 'letmein'],
  ["  client_secret: 'f3a9c2d18b7e4f60a1c2',", 'f3a9c2d18b7e4f60a1c2'],
  ['token: Xq7mP2vLk9wQz8', 'Xq7mP2vLk9wQz8'],
  ['login(user="admin", password="Xq7mP2vLk9w")', 'Xq7mP2vLk9w'],
  ['{"PASSWORD": "hunter2"}', 'hunter2'],
  ["define('DB_PASSWORD', 'Zq8vDefinePw');", 'Zq8vDefinePw'],
  ['new Map([["password", "Zq8vMapPw42"]])', 'Zq8vMapPw42'],
  ['userPassword: {SSHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'W6ph5Mm5Pz8GgiULbPgzG37mj9g='],
  ['USERNAME_PASSWORD: 0x9f3a2c4e5d6b7a8f1e2d3c4b5a69788796a5b4c3', '0x9f3a2c4e5d6b7a8f1e2d3c4b5a69788796a5b4c3'],
  ['const pem = "-----BEGIN PRIVATE KEY-----\\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\\n";', 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASC'],
  ["const pem = '-----BEGIN RSA PRIVATE KEY-----\\n' +\n  'MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ\\n' +", 'MIIEowIBAAKCAQEAq7BFUpkGp3+LQmlQ'],
  ['Proc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,5E3F\n\nW6ph5Mm5Pz8GgiULbPgzG37mj9gW6ph5Mm5Pz8G\n-----END RSA PRIVATE KEY-----', 'W6ph5Mm5Pz8GgiULbPgzG37mj9gW6ph5Mm5Pz8G'],
  ['password: !!str Zq8vTaggedPw', 'Zq8vTaggedPw'],
  ['headers["Authorization"] = "Basic dXNlcjpaOHZTZWNyZXQ="', 'dXNlcjpaOHZTZWNyZXQ='],
  ["const apiKey: string = 'Xk9mQ2vL8pR4abcd';", 'Xk9mQ2vL8pR4abcd'],
  ["  private password: string = 'Xk9mQ2vL8pR4';", 'Xk9mQ2vL8pR4'],
  ['data class DbConfig(val user: String = "app", val password: String = "Xk9mQ2vL8pR4")', 'Xk9mQ2vL8pR4'],
  ['fun connect(password: String = "Xk9mQ2vL8pR4") {}', 'Xk9mQ2vL8pR4'],
  ['const API_KEY: &str = "Xk9mQ2vL8pR4abcd";', 'Xk9mQ2vL8pR4abcd'],
  ["pub static DB_PASSWORD: &'static str = \"Xk9mQ2vL8pR4\";", 'Xk9mQ2vL8pR4'],
  ['var Password string = "Xk9mQ2vL8pR4"', 'Xk9mQ2vL8pR4'],
  ['    password: Optional[str] = "Xk9mQ2vL8pR4"', 'Xk9mQ2vL8pR4'],
  ['password = "@dmin2024"', '@dmin2024'],
  ['password = "correct.horse.battery.staple"', 'correct.horse.battery.staple'],
  ['password = "Welcome(2024)"', 'Welcome(2024)'],
  ['password = "rock and roll forever"', 'rock and roll forever'],
  ['{"db": {"password": "correct.horse.battery"}}', 'correct.horse.battery'],
  ['2024-05-01 12:00:01 INFO  UserService - created User(id=42, username=alice, password=letmein)', 'letmein'],
  ['2024-05-01 12:00:01 DEBUG creds={username=alice, password=Summer2024}', 'Summer2024'],
  ['password: letmein]', 'letmein'],
  ['[client]\nuser = root\npassword = rock and roll forever', 'rock and roll forever'],
  ['password = Hunter2 if needed', 'Hunter2'],
  ['spring.datasource.password = winterIsComing', 'winterIsComing'],
  ['[auth]\nadminPassword = welcomeHome', 'welcomeHome'],
  ['slick.dbs.default.db {\n  url = "jdbc:postgresql://db/app"\n  password = letMeIn\n}', 'letMeIn'],
  ["secrets.database = \"Xk9mQ2vL8pR4\"", "Xk9mQ2vL8pR4"],
  ["passwords.admin = 'Xk9mQ2vL8pR4'", "Xk9mQ2vL8pR4"],
  ["credentials.prod=Xk9mQ2vL8pR4", "Xk9mQ2vL8pR4"],
  ["config.secrets.jwt = \"Xk9mQ2vL8pR4ab\"", "Xk9mQ2vL8pR4"],
  ["apiKey.current = \"Xk9mQ2vL8pR4\"", "Xk9mQ2vL8pR4"],
  ["DB_PASSWORD=${DB_PASSWORD:-Xk9mQ2vL8pR4}", "Xk9mQ2vL8pR4"],
  ["      POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:-Xk9mQ2vL8pR4}", "Xk9mQ2vL8pR4"],
  ["password = \"SuperSecret\"", "SuperSecret"],
  ["DB_PASSWORD=\"MySecretPass\"", "MySecretPass"],
  ["  password: \"secret_sauce\"", "secret_sauce"],
  ["spring.datasource.password=TopSecret", "TopSecret"],
  ["MYSQL_ROOT_PASSWORD: root_password", "root_password"],
  ["  password: 'superSecretPassword'", "superSecretPassword"],
  ["key \"rndc-key\" {\n    algorithm hmac-sha256;\n    secret \"Xk9mQ2vL8pR4abcdEFGH12Xk9mQ2vL8pR4abcdEFGH1=\";\n};", "Xk9mQ2vL8pR4abcdEFGH12"],
  ["[smtp.gmail.com]:587 alerts@example.com:Xk9mQ2vL8pR4", "Xk9mQ2vL8pR4"],
  ["valid_tokens = {\"Xk9mQ2vL8pR4ab\", \"Zq8vSecondPw1\"}", "Zq8vSecondPw1"],
  ["const TOKENS = new Set([\"Xk9mQ2vL8pR4ab\", \"Zq8vSecondPw1\"]);", "Zq8vSecondPw1"],
  ["tokens:\n  - Xk9mQ2vL8pR4ab\n  - Zq8vSecondPw1\nother: 1", "Zq8vSecondPw1"],
  ["secret_keys:\n- \"Xk9mQ2vL8pR4ab\"\n- Zq8vSecondPw1", "Zq8vSecondPw1"],
  ['passwords = ["Xk9mQ2vL8pR4", "Zq8vSecondPw1"]', 'Zq8vSecondPw1'],
  ['passwords: [Xk9mQ2vL8pR4, Zq8vSecondPw1]', 'Zq8vSecondPw1'],
  ["API_KEYS = ['Xk9mQ2vL8pR4ab', 'Zq8vSecondPw1']", 'Zq8vSecondPw1'],
  ['encryption_key = [121, 66, 189, 242, 33, 6, 240, 132, 119, 98, 240, 243]', '189, 242'],
  ['{"api_keys": ["Xk9mQ2vL8pR4ab", "Zq8vSecondPw1"]}', 'Zq8vSecondPw1'],
  ["SECRET_KEYS=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["API_TOKENS=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["PRIVATE_KEYS=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["ACCESS_KEYS=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["auth_tokens: \"Xk9mQ2vL8pR4ab\"", "Xk9mQ2vL8pR4ab"],
  ["BASIC_AUTH=admin:Hunter2Pass", "Hunter2Pass"],
  ["REDIS_AUTH=Hunter2Pass", "Hunter2Pass"],
  ["AUTH=Hunter2Pass", "Hunter2Pass"],
  ["DB_CREDS=admin:Hunter2Pass", "Hunter2Pass"],
  ["SESSION_KEY=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["COOKIE_KEY=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["DEPLOY_KEY=Xk9mQ2vL8pR4ab", "Xk9mQ2vL8pR4ab"],
  ["passwort = \"Hunter2Pass\"", "Hunter2Pass"],
  ["mot_de_passe=Hunter2Pass", "Hunter2Pass"],
  ["jwt.encode(payload, \"Xk9mQ2vL8pR4abcd\", algorithm=\"HS256\")", "Xk9mQ2vL8pR4abcd"],
  ["jwt.sign(payload, 'Xk9mQ2vL8pR4abcd', { expiresIn: '1h' })", "Xk9mQ2vL8pR4abcd"],
  ["hmac.new(b\"Xk9mQ2vL8pR4abcd\", msg, hashlib.sha256)", "Xk9mQ2vL8pR4abcd"],
  ["crypto.createHmac('sha256', 'Xk9mQ2vL8pR4abcd').update(body)", "Xk9mQ2vL8pR4abcd"],
  ["Fernet(b\"Xk9mQ2vL8pR4abcdXk9mQ2vL8pR4abcdXk9mQ2vL8pR=\")", "Xk9mQ2vL8pR4abcdXk9mQ2vL8pR4abcdXk9mQ2vL8pR="],
  ["app.use(cookieParser(\"Xk9mQ2vL8pR4abcd\"));", "Xk9mQ2vL8pR4abcd"],
  ["redis.auth(\"Xk9mQ2vL8pR4\")", "Xk9mQ2vL8pR4"],
  ["cy.get('#password').type('Xk9mQ2vL8pR4')", "Xk9mQ2vL8pR4"],
  ["await page.fill('input[name=\"password\"]', 'Xk9mQ2vL8pR4');", "Xk9mQ2vL8pR4"],
  ["await page.getByLabel('Password').fill('Xk9mQ2vL8pR4');", "Xk9mQ2vL8pR4"],
  ["driver.find_element(By.ID, \"password\").send_keys(\"Xk9mQ2vL8pR4\")", "Xk9mQ2vL8pR4"],
  ["  .type('#password', 'Xk9mQ2vL8pR4')", "Xk9mQ2vL8pR4"],
  ["aws ssm put-parameter --name /prod/db --type SecureString --value Xk9mQ2vL8pR4", "Xk9mQ2vL8pR4"],
  ["az keyvault secret set --vault-name kv --name db --value Xk9mQ2vL8pR4", "Xk9mQ2vL8pR4"],
  ["gcloud secrets create db --data-file=- <<< \"Xk9mQ2vL8pR4\"", "Xk9mQ2vL8pR4"],
  ["echo -n \"Xk9mQ2vL8pR4\" | docker secret create db_password -", "Xk9mQ2vL8pR4"],
  ["echo \"Xk9mQ2vL8pR4\" | gh secret set DB_PASSWORD", "Xk9mQ2vL8pR4"],
  ["vercel env add API_KEY production <<< Xk9mQ2vL8pR4abcd", "Xk9mQ2vL8pR4abcd"],
  ["wrangler secret put API_KEY <<< Xk9mQ2vL8pR4abcd", "Xk9mQ2vL8pR4abcd"],
  ["the password for staging is Hunter2Pass", "Hunter2Pass"],
  // A literal fallback after an environment lookup, as each language writes it, and Helm's `default`.
  ['password: {{ .Values.db.password | default "Xk9mQ2vL8pR4" | b64enc }}', 'Xk9mQ2vL8pR4'],
  ['  DB_PASSWORD: {{ default "Xk9mQ2vL8pR4" .Values.dbPassword | quote }}', 'Xk9mQ2vL8pR4'],
  ['val password = System.getenv("DB_PASSWORD") ?: "Xk9mQ2vL8pR4"', 'Xk9mQ2vL8pR4'],
  ["$password = getenv('DB_PASSWORD') ?: 'Xk9mQ2vL8pR4';", 'Xk9mQ2vL8pR4'],
  ['let password = env::var("DB_PASSWORD").unwrap_or("Xk9mQ2vL8pR4".to_string());', 'Xk9mQ2vL8pR4'],
  ['let api_key = std::env::var("API_KEY").ok().unwrap_or_else(|_| "Xk9mQ2vL8pR4".into());', 'Xk9mQ2vL8pR4'],
  ['config.apiKey ??= "Xk9mQ2vL8pR4";', 'Xk9mQ2vL8pR4'],
  ["@password ||= 'Xk9mQ2vL8pR4'", 'Xk9mQ2vL8pR4'],
  // (Still values: a raw string's or a byte string's literal, a pgpass line, SQL's bare IDENTIFIED BY, a dotted passphrase.)
  ['password = r"Xk9mQ2vL8pR4"', 'Xk9mQ2vL8pR4'],
  ["PASSWORD = b'Xk9mQ2vL8pR4'", 'Xk9mQ2vL8pR4'],
  ['db.example.com:5432:app:admin:Xk9mQ2vL8pR4', 'Xk9mQ2vL8pR4'],
  ['CREATE USER app IDENTIFIED BY Xk9mQ2vL8pR4;', 'Xk9mQ2vL8pR4'],
  ['password = "correct.horse.battery.staple"', 'correct.horse.battery.staple'],
  // (A value beside a type's shape is still one: digits are no class's name, one word no union.)
  ['  password: Summer2024,', 'Summer2024'],
  ['  token: Xk9mQ2vL8pR4ab;', 'Xk9mQ2vL8pR4ab'],
  ['password: Sunshine2 | other', 'Sunshine2'],
  // (The fourteenth round's code: a macro, a byte string, Java's fallback, Android's build field, a field's default,
  // PDO's password, a key store's, a signing secret after an object literal, encoded basic credentials, characters.)
  ['#define DB_PASSWORD "oTn9ppK3rytVwLjP"', 'oTn9ppK3rytVwLjP'],
  ['static SECRET: &[u8] = b"oTn9ppK3rytVwLjP";', 'oTn9ppK3rytVwLjP'],
  ['String token = Optional.ofNullable(System.getenv("AUTH_TOKEN")).orElse("oTn9ppK3rytVwLjP");', 'oTn9ppK3rytVwLjP'],
  ['buildConfigField("String", "API_KEY", "\\"oTn9ppK3rytVwLjP\\"")', 'oTn9ppK3rytVwLjP'],
  ['api_key: str = Field(default="oTn9ppK3rytVwLjP")', 'oTn9ppK3rytVwLjP'],
  ["$pdo = new PDO('mysql:host=db;dbname=app', 'root', 'oTn9ppK3rytVwLjP');", 'oTn9ppK3rytVwLjP'],
  ['ks.load(in, "oTn9ppK3rytVwLjP".toCharArray());', 'oTn9ppK3rytVwLjP'],
  ['jwt.sign({ sub: user.id }, "oTn9ppK3rytVwLjP", { expiresIn: "1h" })', 'oTn9ppK3rytVwLjP'],
  ["const auth = `Basic ${btoa('me:oTn9ppK3rytVwLjP')}`;", 'oTn9ppK3rytVwLjP'],
  ["char[] password = {'o','T','n','9','p','p','K','3','r','y','t','V'};", "'n','9'"],
  // (The fifteenth round's: more macros, a C++ constant array, Python's `or`, Go's cmp.Or, Terraform's coalesce and
  // lookup, Jinja's default(), a key given by position to what signs with it, Clojure's keywords, a Wi-Fi QR code.)
  ['#define MQTT_PASS "Zq8#vLr2!mWx7Tpe"', 'Zq8#vLr2!mWx7Tpe'],
  ['#define WIFI_PSK "Zq8#vLr2!mWx7Tpe"', 'Zq8#vLr2!mWx7Tpe'],
  ['#define HMAC_KEY "\\x4b\\x8f\\x21\\xa0\\x9c\\x3d\\x77\\xe1"', '\\x21\\xa0'],
  ['constexpr char kApiKey[] = "f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c";', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['API_TOKEN = os.environ.get("API_TOKEN") or "f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c"', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['pw := cmp.Or(os.Getenv("DB_PASSWORD"), "Zq8#vLr2!mWx7Tpe")', 'Zq8#vLr2!mWx7Tpe'],
  ['  password = coalesce(var.db_password, "Zq8#vLr2!mWx7Tpe")', 'Zq8#vLr2!mWx7Tpe'],
  ['  password = lookup(var.creds, "password", "Zq8#vLr2!mWx7Tpe")', 'Zq8#vLr2!mWx7Tpe'],
  ["db_pass: \"{{ db_password | default('Zq8#vLr2!mWx7Tpe') }}\"", 'Zq8#vLr2!mWx7Tpe'],
  ['SecretKeySpec spec = new SecretKeySpec("f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c".getBytes(), "HmacSHA256");', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['Key k = Keys.hmacShaKeyFor("f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c".getBytes(StandardCharsets.UTF_8));', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['s, err := token.SignedString([]byte("f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c"))', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['let mac = HmacSha256::new_from_slice(b"f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c").unwrap();', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['var key = new SymmetricSecurityKey(Encoding.UTF8.GetBytes("f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c"));', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  ['(def db {:user "bob" :password "Zq8#vLr2!mWx7Tpe"})', 'Zq8#vLr2!mWx7Tpe'],
  ['WIFI:T:WPA;S:HomeNet;P:Zq8#vLr2!mWx7Tpe;;', 'Zq8#vLr2!mWx7Tpe'],
  ['dn: uid=bob,dc=example,dc=org\nuserPassword:: WnE4I3ZMcjIhbVd4N1RwZQ==', 'WnE4I3ZMcjIhbVd4N1RwZQ'],
  ['Connect-Server -User bob -Password Zq8vLr2mWx7Tpe', 'Zq8vLr2mWx7Tpe'],
  ['admin_password = my admin password 2024 x', 'my admin password 2024'],
  ['New-AzStorageContext -StorageAccountName acct -ApiKey "f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c"', 'f3a9c1e7b2d84a6f9e0c5b7a1d3f8e2c'],
  // A key's bytes as C, Go, Rust, Java and Node write them.
  ['static const uint8_t secret_key[16] = {0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61, 0x62, 0x63, 0x64, 0x65};', '0x6d, 0x51'],
  ['aesKey := []byte{0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61}', '0x6d, 0x51'],
  ['let signing_key: [u8; 12] = [0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61];', '0x6d, 0x51'],
  ['let signing_key: &[u8] = &[0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61];', '0x6d, 0x51'],
  ['byte[] secretKey = new byte[] { 0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61 };', '0x6d, 0x51'],
  ['const SECRET = Buffer.from([0x4b, 0x39, 0x6d, 0x51, 0x32, 0x76, 0x4c, 0x38, 0x70, 0x52, 0x34, 0x61]);', '0x6d, 0x51'],
  ['HMAC_KEY = bytes([75, 57, 109, 81, 50, 118, 76, 56, 112, 82, 52, 97])', '109, 81'],
  ["Use password Hunter2Pass for the staging box.", "Hunter2Pass"],
  ["The admin password, Hunter2Pass, must be rotated.", "Hunter2Pass"],
];

// A key read through the tools a coding agent uses: numbered lines (`cat -n`, an editor's `2→`), grep's `file:2:`,
// a diff, a quote, Java's concatenated strings. Synthesised bodies (never a real key).
const BODY = Array.from({ length: 6 }, (_, i) => Buffer.from(Array.from({ length: 48 }, (_, j) => (i * 131 + j * 71 + 17) % 256)).toString('base64'));
const shown = (begin: string, end: string, line: (text: string, n: number) => string) => [begin, ...BODY, end].map((t, i) => line(t, i + 1)).join('\n');
const KEYS: [string, string][] = [
  ['cat -n', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t, n) => `${String(n).padStart(6)}\t${t}`)],
  ["an editor's numbered lines", shown('-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', (t, n) => `${String(n).padStart(6)}→${t}`)],
  ['grep -n', shown('-----BEGIN ENCRYPTED PRIVATE KEY-----', '-----END ENCRYPTED PRIVATE KEY-----', (t, n) => `certs/server.key:${n}:${t}`)],
  ['a deleted file in a diff', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t) => `-${t}`)],
  ['a quote', shown('-----BEGIN OPENSSH PRIVATE KEY-----', '-----END OPENSSH PRIVATE KEY-----', (t) => `> ${t}`)],
  ["Java's concatenated strings", `    private static final String KEY =\n${shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t) => `${' '.repeat(28)}"${t}\\n" +`)};`],
  // (The fourteenth round: a log's prefix on each line, whatever it is; a timestamp's digits differ from line to line.)
  ['a log level', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t) => `INFO ${t}`)],
  ['an app tag', shown('-----BEGIN RSA PRIVATE KEY-----', '-----END RSA PRIVATE KEY-----', (t) => `[app] ${t}`)],
  ['docker compose logs', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t) => `web-1  | ${t}`)],
  ['kubectl logs --prefix --timestamps', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t, n) => `[pod/api-7d9f/api] 2024-05-01T10:00:0${n}.12${n}Z ${t}`)],
  ['a timestamped log line', shown('-----BEGIN EC PRIVATE KEY-----', '-----END EC PRIVATE KEY-----', (t, n) => `2024-05-01T10:00:00.1${n}3Z ERROR ${t}`)],
  ['a block comment', shown('-----BEGIN PRIVATE KEY-----', '-----END PRIVATE KEY-----', (t) => ` * ${t}`)],
  ["a REPL's prompt", shown('-----BEGIN OPENSSH PRIVATE KEY-----', '-----END OPENSSH PRIVATE KEY-----', (t) => `>>> ${t}`)],
  ['a log prefix, no END line', shown('-----BEGIN PRIVATE KEY-----', 'INFO done', (t) => `INFO ${t}`)],
  ['a PGP key under cat -n', [`     1\t-----BEGIN PGP PRIVATE KEY BLOCK-----`, '     2\t', ...BODY.map((t, i) => `${String(i + 3).padStart(6)}\t${t}`), '     9\t-----END PGP PRIVATE KEY BLOCK-----'].join('\n')],
];
// A URL's password, its host written by a template or a format, or the URL closed by markup.
const URLS = [
  'url = f"postgresql://admin:Zq8vUrlPw42@{host}:5432/{db}"',
  'DATABASE_URL=postgres://admin:Zq8vUrlPw42@${DB_HOST}:5432/app',
  'const uri = `mongodb://admin:Zq8vUrlPw42@${host}/app`;',
  'dsn := fmt.Sprintf("postgres://admin:Zq8vUrlPw42@%s/%s", host, db)',
  '<property name="url">postgres://admin:Zq8vUrlPw42@db.internal</property>',
  'Run `psql postgres://admin:Zq8vUrlPw42@db.internal` to connect.',
  'conn = "postgres://admin:Zq8vUrlPw42@" + host',
];

/** The pinned packages' sources: what a coding agent reads all day. */
const PACKAGES = ['@modelcontextprotocol/sdk/dist/esm', 'openid-client/build', 'jose/dist/webapi', 'yaml/dist', 'oidc-provider/lib', 'express/lib', 'svelte/src', '@modelcontextprotocol/server-everything/dist', '@modelcontextprotocol/server-filesystem/dist'];
/** Two documentation examples that do hold a secret's value: a cookie, an API key. */
const TRUE_VALUES = ["res.append('Set-Cookie', 'foo=bar; Path=/; HttpOnly')", "'X-API-Key': 'tobi'"];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const stat = statSync(path);
    if (stat.isDirectory()) return sources(path);
    return /\.(?:js|mjs|ts)$/.test(name) && !name.endsWith('.d.ts') ? [path] : [];
  });
}

describe('masking source code', () => {
  // Alone, these read as much as an INI file's or a log's lines (`cookieAv = unparsedAttributes`, `password=passwd,
  // port=22`): masked when in doubt; among code, left.
  const NEEDS_CODE_AROUND = new Set(['  password: KDFInput,', '    resumptionToken: lastEventId,', '      cookieAv = unparsedAttributes', '  ssh.connect(hostname, username=user, password=passwd, port=22)']);
  it.each(CODE)('leaves code as it is: %s', (line) => {
    if (!NEEDS_CODE_AROUND.has(line)) expect(masker.text(line)).toBe(line);
    expect(masker.text(inCode(line))).toBe(inCode(line));
  });

  it.each(SECRETS)('still masks a secret code holds: %s', (text, secret) => {
    expect(masker.text(text)).not.toContain(secret);
    expect(masker.text(inConfig(text))).not.toContain(secret);
  });

  it.each(KEYS)('masks every line of a private key shown by %s', (_name, text) => {
    const out = masker.text(text);
    for (const line of BODY) expect(out).not.toContain(line.slice(8, 40));
  });

  // Strings as written (a tool call's JSON arguments, a quoted value): YAML's tags and aliases cannot stand there.
  it.each(['!qaz2wsx', '*Summer2024', '&Summer2024', '1111', '1987-03-14', 'add-salt-and-pepper-now'])('masks %j under a password key, in JSON and quoted', (secret) => {
    expect(JSON.stringify(masker.json({ arguments: { password: secret, pin: secret, ssh_passphrase: secret } }))).not.toContain(secret);
    expect(masker.text(`password: "${secret}"`)).not.toContain(secret);
  });
  it.each([{ password: '********' }, { password: '' }, { password: 'your-password-here' }])('leaves the placeholder in %j', (value) => expect(masker.json(value)).toEqual(value));

  it.each(URLS)("masks a URL's password in %s", (text) => expect(masker.text(text)).not.toContain('Zq8vUrlPw42'));

  it('leaves the pinned packages’ sources byte for byte, 4 KB at a time, but for two examples that hold a value', () => {
    const root = join(import.meta.dirname, '../../../node_modules');
    const changed: string[] = [];
    let files = 0;
    for (const pkg of PACKAGES) {
      for (const file of sources(join(root, pkg))) {
        files++;
        const text = readFileSync(file, 'utf8');
        for (let at = 0; at < text.length; at += 4096) {
          const chunk = text.slice(at, at + 4096);
          const out = masker.text(chunk);
          if (out === chunk) continue;
          const lines = chunk.split('\n');
          const masked = out.split('\n');
          for (let i = 0; i < lines.length; i++) if (lines[i] !== masked[i]) changed.push(`${file.slice(root.length + 1)}: ${(lines[i] as string).trim()}`);
        }
      }
    }
    expect(files).toBeGreaterThan(500);
    expect(changed.filter((c) => !TRUE_VALUES.some((v) => c.includes(v)))).toEqual([]);
  });
});

/*
 * Manifests and lockfiles (the fourteenth attacker's round): package names hold key words (`jsonwebtoken`,
 * `js-tokens`, `cookie-signature`, `@octokit/auth-token`), so a dependency's version was masked as the secret of a
 * key, and a lockfile's whole entry for such a package (its version, integrity, license, engines). With inline
 * masking, an agent that reads and rewrites package.json writes the mask tokens into it. And the other way: a
 * version-shaped value is no excuse for anything else — a secret beside the dependencies, a PIN, stays masked.
 */
describe('masking manifests and lockfiles', () => {
  const pkg = { name: 'app', dependencies: { jsonwebtoken: '^9.0.2', 'js-tokens': '^4.0.0', 'cookie-signature': '~1.0.6', 'cookie-parser': '1.4.6', '@octokit/auth-token': '^6.0.0', cookie: '0.7.1', 'secret-handshake': 'github:org/repo', 'bcrypt-password': 'npm:bcrypt@5', 'auth-lib': 'file:../auth-lib', 'token-utils': 'workspace:*' }, engines: { node: '>= 20' } };
  it('leaves a package.json as it is, as text and as JSON', () => {
    const text = JSON.stringify(pkg, null, 2);
    expect(masker.text(text)).toBe(text);
    expect(masker.json(pkg)).toEqual(pkg);
  });
  it('leaves package-lock.json byte for byte: whole, 4 KB at a time, and as JSON', () => {
    const lock = readFileSync(join(import.meta.dirname, '../../../package-lock.json'), 'utf8');
    expect(masker.text(lock) === lock).toBe(true);
    for (let at = 0; at < lock.length; at += 4096) if (masker.text(lock.slice(at, at + 4096)) !== lock.slice(at, at + 4096)) expect.fail(`changed at ${at}: ${lock.slice(at, at + 200)}`);
    const parsed = JSON.parse(lock) as unknown;
    expect(masker.json(parsed)).toEqual(parsed);
  });
  it('still masks a secret beside the dependencies, and a PIN of digits', () => {
    const out = JSON.stringify(masker.json({ ...pkg, config: { token: 'Xk9mQ2vL8pR4ab', pin: '2024' }, dependencies: { ...pkg.dependencies, password: 'Zq8vSecondPw1' } }));
    expect(out).not.toMatch(/Xk9mQ2vL8pR4ab|Zq8vSecondPw1|"2024"/);
    expect(masker.text('password: 1234')).not.toContain('1234');
  });
});

/*
 * Locales (the fifteenth attacker's round): an accessibility checker's messages sit under `pass` (axe-core's
 * `"pass": "Les rôles abstraits ne sont pas utilisés"`), and 100–127 lines of each of its locales were masked as
 * passwords. A sentence under `pass` is a message; a word or a passphrase under it is still a value.
 */
describe('masking locales', () => {
  const locales = join(import.meta.dirname, '../../../node_modules/axe-core/locales');
  it.each(['fr.json', 'es.json', 'ja.json', 'ko.json'])('leaves axe-core’s %s as it is, as text and as JSON', (name) => {
    const text = readFileSync(join(locales, name), 'utf8');
    expect(masker.text(text) === text).toBe(true);
    const parsed = JSON.parse(text) as unknown;
    expect(masker.json(parsed)).toEqual(parsed);
  });
  it.each(['{"pass": "hunter2"}', 'pass: "correct horse battery staple"', "auth: { user: 'me', pass: 'Xk9mQ2vL8pR4' }"])('still masks the value in %s', (text) => {
    expect(masker.text(text)).toMatch(/\[MASKED:/);
  });
});
