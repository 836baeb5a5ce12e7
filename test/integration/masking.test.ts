import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatehouse } from '../helpers/cli.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { everythingStdio, filesystemStdio } from '../helpers/servers.js';
import { initializeBody, MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';

const SEEDED = {
  aws: 'AKIAQWERTYUIOPASDFGH',
  github: 'ghp_R8kq2LmZ5vX9wT3nB7cY1dF6gH4jK0pQsUeW',
  jwt: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJnYXRlaG91c2UtdGVzdCJ9.u8Y0sD3pLq9vXc2NmB7kR4tW1zA6eG5hJ0oI',
  email: 'ada.lovelace@analytical.example',
  card: '4012 8888 8888 1881',
  dbPassword: 'Tr0ub4dor-and-3',
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/*
 * What a coding agent's tools carry, through a real gateway and the real filesystem server: source and config
 * files read (read_text_file) and written (write_file) with secrets in the forms the unit tests know — a typed
 * literal in Go and Kotlin, a flow list, a Kubernetes Secret in YAML and in JSON, a private key shown with each
 * line's number (`cat -n` saved to a file), a URL's password before a templated host — and real source files.
 * Attacks: a file holds a secret in code form (the log stores it in clear unless it is masked); the agent writes
 * one (the arguments); and the other way, masking reads code as secrets (with inline, the agent's own files come
 * back changed). Checked on what was stored (every file in the data directory) and what the client received.
 */
const BODY = Array.from({ length: 4 }, (_, i) => Buffer.from(Array.from({ length: 48 }, (_, j) => (i * 131 + j * 71 + 17) % 256)).toString('base64'));
const CODE_SECRETS = {
  goTyped: 'Gq7vTypedGoPw41',
  kotlinTyped: 'Kq7vTypedKtPw42',
  flowList: 'Fq7vFlowListPw43',
  manifestYaml: 'Mq7vManifestPw44',
  manifestJson: 'Jq7vManifestPw45',
  urlTemplated: 'Uq7vUrlHostPw46',
  written: 'Wq7vWrittenPw47',
  pemLine: (BODY[1] as string).slice(8, 40),
};
const CODE_FILES: Record<string, string> = {
  'config.go': `package config\n\nvar Password string = "${CODE_SECRETS.goTyped}"\n\nfunc Host() string { return "db.internal" }\n`,
  'Db.kt': `data class DbConfig(val user: String = "app", val password: String = "${CODE_SECRETS.kotlinTyped}")\n`,
  'settings.py': `DEBUG = False\nAPI_KEYS = ['${CODE_SECRETS.flowList}', 'Zq8vSecondPw1']\nDSN = f"postgresql://admin:${CODE_SECRETS.urlTemplated}@{host}:5432/{db}"\n`,
  'secret.yaml': `apiVersion: v1\nkind: Secret\nmetadata:\n  name: app\ntype: Opaque\nstringData:\n  anything: ${CODE_SECRETS.manifestYaml}\n`,
  'secret.json': JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app' }, type: 'Opaque', stringData: { anything: CODE_SECRETS.manifestJson } }, null, 2),
  'key-shown.txt': ['-----BEGIN PRIVATE KEY-----', ...BODY, '-----END PRIVATE KEY-----'].map((t, i) => `${String(i + 1).padStart(6)}\t${t}`).join('\n'),
};
/** Real sources a coding agent reads: they must come back byte for byte with inline masking. */
const REAL_SOURCES = ['@modelcontextprotocol/sdk/dist/esm/client/auth.js', '@modelcontextprotocol/sdk/dist/esm/server/auth/handlers/token.js', 'openid-client/build/index.js', 'yaml/dist/compose/resolve-props.js'];

describe('masking: secrets and personal data never stored in clear text', () => {
  let harness: Harness | undefined;
  let root: string;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
    rmSync(root, { recursive: true, force: true });
  });

  async function session(inline: boolean): Promise<{ client: Client; id: string; read: string }> {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-secrets-')));
    writeFileSync(join(root, 'config.env'), `AWS_ACCESS_KEY_ID=${SEEDED.aws}\nOWNER=${SEEDED.email}\nCARD=${SEEDED.card}\nDATABASE_URL=postgres://app:${SEEDED.dbPassword}@db:5432/app\n`);
    harness = await startHarness({
      servers: { files: filesystemStdio(root), everything: everythingStdio() },
      masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'], inline },
    });
    const client = await harness.connect('files', new Client({ name: 'secretive', version: '1' }));
    const read = JSON.stringify(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, 'config.env') } }));
    await client.callTool({ name: 'write_file', arguments: { path: join(root, 'token.txt'), content: `token ${SEEDED.github}` } });
    const everything = await harness.connect('everything');
    await everything.callTool({ name: 'echo', arguments: { message: `jwt ${SEEDED.jwt} for ${SEEDED.email}` } });
    await harness.gatehouse.audit.log.flush();
    await harness.gatehouse.audit.index.persistNow();
    return { client, id: (client.transport as { sessionId?: string }).sessionId as string, read };
  }

  it('after a session, no seeded value is anywhere in the data directory; replay shows masked tokens; the client saw the real values', async () => {
    const { id, read } = await session(false);
    expect(read).toContain(SEEDED.aws); // masking.inline is off: the client gets what the server sent
    const files = filesUnder(harness!.home);
    expect(files.some((f) => f.endsWith('.jsonl'))).toBe(true);
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const [name, value] of Object.entries(SEEDED)) expect(text.includes(value), `${name} found in clear text in ${file}`).toBe(false);
    }
    const replay = (await runGatehouse(['replay', id], { GATEHOUSE_HOME: harness!.home })).stdout;
    expect(replay).toMatch(/\[MASKED:aws-access-key:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/\[MASKED:email:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/\[MASKED:credit-card:[0-9a-f]{8}\]/);
    expect(replay).toMatch(/content="token \[MASKED:github-token:[0-9a-f]{8}\]"/);
  });

  it('with masking.inline the client receives the masked values too', async () => {
    const { read } = await session(true);
    expect(read).not.toContain(SEEDED.aws);
    expect(read).not.toContain(SEEDED.email);
    // Without the keyed hash: a client that could see the token of a value it guessed could test guesses of a
    // low-entropy secret against it (send the guess through an echoing tool, compare the tokens).
    expect(read).toContain('[MASKED:aws-access-key]');
    expect(read).toContain('postgres://app:[MASKED:url-password]@db');
    expect(read).not.toMatch(/\[MASKED:[a-z0-9-]+:[0-9a-f]{8}\]/);
  });

  it('stores none of the secrets code and config hold, and gives real sources back unchanged with inline', async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-code-')));
    for (const [name, text] of Object.entries(CODE_FILES)) writeFileSync(join(root, name), text);
    const modules = join(import.meta.dirname, '../../node_modules');
    const real = REAL_SOURCES.map((file, i) => {
      const text = readFileSync(join(modules, file), 'utf8');
      writeFileSync(join(root, `real-${i}.js`), text);
      return { path: join(root, `real-${i}.js`), text };
    });
    harness = await startHarness({ servers: { files: filesystemStdio(root) }, masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'], inline: true } });
    const client = await harness.connect('files', new Client({ name: 'coding-agent', version: '1' }));
    const text = (r: unknown) => ((r as { content: { type: string; text: string }[] }).content[0] as { text: string }).text;
    const received: string[] = [];
    for (const name of Object.keys(CODE_FILES)) received.push(text(await client.callTool({ name: 'read_text_file', arguments: { path: join(root, name) } })));
    await client.callTool({ name: 'write_file', arguments: { path: join(root, 'deploy.ts'), content: `export const config = {\n  apiKey: process.env.API_KEY ?? '',\n};\nconst password: string = '${CODE_SECRETS.written}';\n` } });
    for (const { path, text: original } of real) expect(text(await client.callTool({ name: 'read_text_file', arguments: { path } })), path).toBe(original);
    await harness.gatehouse.audit.log.flush();
    await harness.gatehouse.audit.index.persistNow();

    // Read, and masked where the secret stood: the code around it is the file's own.
    expect(received[0]).toMatch(/^package config\n\nvar Password string = "\[MASKED:[a-z-]+\]"\n/);
    expect(received[3]).toContain('kind: Secret');
    for (const [name, value] of Object.entries(CODE_SECRETS)) expect(received.join('\n').includes(value), `${name} reached the client with inline masking`).toBe(false);
    const files = filesUnder(harness.home);
    expect(files.some((f) => f.endsWith('.jsonl'))).toBe(true);
    for (const file of files) {
      const stored = readFileSync(file, 'utf8');
      for (const [name, value] of Object.entries(CODE_SECRETS)) expect(stored.includes(value), `${name} found in clear text in ${file}`).toBe(false);
    }
    // The file the agent wrote holds what it sent: masking is of the record (and of what the client receives), not of the call.
    expect(readFileSync(join(root, 'deploy.ts'), 'utf8')).toContain(CODE_SECRETS.written);
  });
});

/*
 * With inline masking, what the client receives is masked — but never the fields it correlates by. The fourteenth
 * attacker's round: a request whose string id reads as a secret (a random 40-character id is a bare AWS secret
 * key's shape) was never answered (the answer went out under the masked id; the client waited, the log said the
 * client had gone), and a string progress token (a UUID under `progressToken`) came back masked, so that the
 * client could not tell which request its progress was for. The id and the progress token are the client's own.
 */
describe('inline masking keeps what the client correlates by', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  const post = (url: URL, token: string, session: string | undefined, body: unknown) =>
    rawRequest(url.href, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2025-11-25', ...(session ? { 'mcp-session-id': session } : {}) }, body: JSON.stringify(body) });
  const messages = (body: string): { id?: unknown; method?: string; params?: { progressToken?: unknown }; result?: unknown }[] =>
    body.trim().startsWith('{') ? [JSON.parse(body)] : body.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)));

  it('answers a request under the id it was sent with, and gives progress under the client’s token', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() }, masking: { detectors: ['secrets'], inline: true } });
    const url = harness.endpoint('everything');
    const token = harness.gatehouse.token;
    const init = await post(url, token, undefined, JSON.parse(initializeBody()));
    const session = init.headers['mcp-session-id'] as string;
    await post(url, token, session, { jsonrpc: '2.0', method: 'notifications/initialized' });

    for (const id of ['aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s', 'password=hunter2hunter2']) {
      const answer = await post(url, token, session, { jsonrpc: '2.0', id, method: 'ping' });
      expect(messages(answer.body).filter((m) => m.method === undefined).map((m) => m.id)).toEqual([id]);
    }
    const progressToken = '3f2b8c1e-9d4a-4b7e-8f6a-2c1d9e8b7a6f';
    const call = await post(url, token, session, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'trigger-long-running-operation', arguments: { duration: 0.2, steps: 2 }, _meta: { progressToken } } });
    const got = messages(call.body);
    const progress = got.filter((m) => m.method === 'notifications/progress');
    expect(progress.length).toBe(2);
    for (const p of progress) expect(p.params?.progressToken).toBe(progressToken);
    expect(got.find((m) => m.id === 7)?.result).toBeDefined();
  });
});
