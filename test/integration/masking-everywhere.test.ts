/**
 * No secret stored or shown, anywhere. Attacks, each a seeded secret of its own:
 *   - a hostile client puts secrets in every field it chooses: its name and version (initialize), a method
 *     name, a tool name, a string request id, argument values, object keys, a card number sent as a JSON
 *     number under a payment key, nested arrays, a notification;
 *   - a hostile (or careless) server puts them in its serverInfo and instructions, tool descriptions and
 *     schemas (pinned to pins.json), results, error messages, notifications, and its stderr;
 *   - the user's own config holds one: a database URL with its password in a server's arguments;
 *   - a client asks for a server whose name is a secret (the URL path of a refused request);
 *   - a server names a tool with a secret (pins.json is keyed by tool name), and a call to it is approved for
 *     an hour (grants.json holds the approved scope, tool included).
 *   - forms the faster context pass once missed: `?X-Amz-Security-Token=` far into a log line, `export` and 25 blanks;
 *   - forms the seventh attacker found stored in clear, also inside the JSON text of a result: a YAML value on
 *     the line after its key, `IDENTIFIED BY "…"`, `["docker", "login", "-p", …]`;
 *   - forms the twelfth found: an env list of two (`["GITHUB_TOKEN=…", "PATH=…"]`), a label of three words;
 * Then every file in the data directory, both export formats, every API response and the console of
 * `gatehouse serve` are searched for each raw value. And the other direction: with `inline: true`, what
 * the client receives of near-misses (UUIDs, digests, versions, ids…) is unchanged.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { MCP_HEADERS, rawRequest } from '../helpers/raw-http.js';
import { tempHome } from '../helpers/temp-home.js';
import { waitFor } from '../helpers/gateway-harness.js';

const LEAKY = join(import.meta.dirname, '../fixtures/leaky-server.mjs');
// Synthesised, in formats the detectors know; each stands for one place a secret can travel.
const S = {
  clientName: 'ghp_ClientNameLeak0000000000000000000000',
  clientVersion: 'AKIACLIENTVERSION000',
  method: 'sk_live_MethodNameLeak00000000',
  tool: 'glpat-ToolNameLeak0000000000',
  id: 'xoxb-1111111111-2222222222-IdLeakIdLeakIdLeak00',
  argValue: `AIza${'SyArgValueLeak'.padEnd(35, '0')}`,
  argKey: 'ghp_ArgKeyLeak00000000000000000000000000',
  nested: 'npm_NestedArrayLeak000000000000000000000',
  card: 4111111111111111,
  notification: 'dckr_pat_NotificationLeak00000000000',
  serverName: 'sk-proj-ServerInfoLeak0000000000000000000',
  instructions: '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',
  description: 'SG.DescriptionLeak0000000.DescriptionLeakDescriptionLeakDescriptionLe',
  schemaKey: `lin_api_${'SchemaKeyLeak'.padEnd(40, '0')}`,
  schemaDefault: 'PMAK-0123456789abcdef01234567-0123456789abcdef0123456789abcdef01',
  dbPassword: 'Db-Passw0rd-Leak-42',
  email: 'leaky.person@example.org',
  pemBody: 'MIIEowIBAAKCAQEAx9vQ2kN3bTt6PEMLINESECRETq9ZfY2sK0pWmXcQe1rT7uVn4bHj',
  yamlBlock: 'yamlBlockSECRET3 horse',
  dbLine: 'dieSECRET4xyz',
  urlServer: 'AKIAURLPATHLEAK00001',
  pinnedTool: 'AKIAPINNEDTOOLLEAK01',
  grantedTool: 'AKIAGRANTEDTOOLLEAK1',
  // Forms the faster context pass once missed (the attacker's round on it): a query name whose key word stands
  // far into it, and `export` followed by many blanks.
  s3Token: 'qsTokenLeak77',
  exportLine: 'correct horse staple leak',
  // The seventh attacker's forms, which the server echoes back as JSON text too: a YAML value on the line after
  // its key, SQL's quoted IDENTIFIED BY, a password in an argv array.
  yamlNext: 'Yq7#NextLineLeak9',
  sqlQuoted: 'Sq1.QuotedLeak77',
  argvPassword: 'Av9.ArgvLeak42x',
  nestedJson: 'Nj4.NestedJsonLeak8',
  devicePsk: 'Dp6.DevicePskLeak3',
  envList: 'ghp_EnvListLeak0000000000000000000000000',
  spacedLabel: 'Sl4.SpacedLabelLeak7',
};
const SERVER_SECRETS = [S.serverName, S.instructions, S.description, S.schemaKey, S.schemaDefault, S.pinnedTool, S.grantedTool];

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]));
}

function leaksIn(text: string): string[] {
  return Object.entries(S)
    .filter(([, v]) => text.includes(String(v)))
    .map(([k]) => k);
}

describe('no secret stored or shown, whichever field it travels in', () => {
  const home = tempHome({
    servers: { leaky: { command: process.execPath, args: [LEAKY, `postgres://app:${S.dbPassword}@db.internal:5432/prod`], env: { LEAK_SECRETS: JSON.stringify(SERVER_SECRETS) } } },
    masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'] },
    policy: { rules: [{ name: 'granted-tool-needs-approval', match: { tool: 'AKIAGRANTED*' }, action: 'approve' }] },
    gateway: { port: 0 },
  });
  let serve: Awaited<ReturnType<typeof startServe>>;
  let mcp: (body: unknown, session?: string) => Promise<{ status: number; body: string; session?: string }>;
  const api = async (path: string): Promise<string> => (await rawRequest(`${serve.url}${path}`, { method: 'GET', headers: { authorization: `Bearer ${readFileSync(join(home.dir, 'api-token'), 'utf8').trim()}` } })).body;

  beforeAll(async () => {
    serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    mcp = async (body, session) => {
      const res = await rawRequest(`${serve.url}/mcp/leaky`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}) }, body: JSON.stringify(body) });
      return { status: res.status, body: res.body, session: res.headers['mcp-session-id'] as string | undefined };
    };
  });
  afterAll(async () => {
    const exited = new Promise((r) => serve.child.once('exit', r));
    serve.child.kill('SIGTERM');
    await exited;
    home.remove();
  });

  it('seeds a secret in every field, then finds none in the data directory, the exports, the API or the console', async () => {
    const init = await mcp({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: S.clientName, version: S.clientVersion } } });
    const session = init.session as string;
    expect(init.status).toBe(200);
    await mcp({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
    await mcp({ jsonrpc: '2.0', id: 2, method: 'tools/list' }, session);
    const called = await mcp(
      { jsonrpc: '2.0', id: S.id, method: 'tools/call', params: { name: 'echo', arguments: { note: `use ${S.argValue}`, presigned: `${'some words of a log line '.repeat(6)}GET https://x.s3.amazonaws.com/a.txt?X-Amz-Security-Token=${S.s3Token} then more words`, script: `${'# a deploy script line\n'.repeat(6)}export${' '.repeat(25)}PASSWORD: ${S.exportLine}\n`, [S.argKey]: 1, list: [[`deep ${S.nested}`]], payment: { card_number: S.card }, contact: S.email, config: `db:\n  password:\n    ${S.yamlNext}\n  user: app\n`, sql: `ALTER USER app IDENTIFIED BY "${S.sqlQuoted}";`, ran: ['docker', 'login', '-u', 'me', '-p', S.argvPassword], quoted: JSON.stringify({ result: JSON.stringify({ config: `db:\n  password:\n    ${S.nestedJson}\n` }) }), router: `crypto isakmp key ${S.devicePsk} address 10.0.0.1`, env: [`GITHUB_TOKEN=${S.envList}`, 'PATH=/usr/bin'], vpn: `IKE\n  - Pre-Shared Key           : ${S.spacedLabel}\n` } } },
      session,
    );
    expect(called.status).toBe(200);
    expect(called.body).toContain(S.argValue); // not inline: the client itself gets what the server sent
    await mcp({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: S.tool, arguments: {} } }, session);
    await mcp({ jsonrpc: '2.0', id: 5, method: S.method, params: {} }, session);
    await mcp({ jsonrpc: '2.0', method: 'notifications/roots/list_changed', params: { note: S.notification } }, session);
    expect((await rawRequest(`${serve.url}/mcp/${S.urlServer}`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${readFileSync(join(home.dir, 'token'), 'utf8').trim()}` }, body: '{}' })).status).toBe(404);
    // A held call to the secret-named tool, approved for an hour: the grant is written to grants.json.
    const held = mcp({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: S.grantedTool, arguments: {} } }, session);
    let approval: string | undefined;
    await waitFor(async () => (approval = (JSON.parse(await api('/api/approvals')) as { id: string }[])[0]?.id) !== undefined, 10_000, 'the call is held for approval');
    expect((await runGatehouse(['approve', approval as string, '--for', '1h'], { GATEHOUSE_HOME: home.dir })).code).toBe(0);
    expect((await held).status).toBe(200);
    expect(readFileSync(join(home.dir, 'grants.json'), 'utf8')).toContain('[MASKED:aws-access-key:');
    // …and the grant, kept under the masked name, still covers the next call of that tool: it is not held.
    const again = mcp({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: S.grantedTool, arguments: {} } }, session);
    const settled = await Promise.race([again.then(() => 'answered'), new Promise((r) => setTimeout(() => r('held'), 5000))]);
    expect(settled).toBe('answered');
    await waitFor(() => serve.output().includes('got notification'), 10_000, 'the server saw the notification');
    // A server that dies with secrets on stderr spanning lines: the client's error quotes its last stderr.
    const died = await mcp({ jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'die', arguments: { private_key_body: S.pemBody, yaml_secret: S.yamlBlock, db_password: S.dbLine } } }, session);
    const clientSaw = died.body;
    await waitFor(() => serve.output().includes('session ended'), 10_000, 'the session ended');
    await new Promise((r) => setTimeout(r, 1500)); // the index and pins are written within a second

    const exportsDir = home.dir;
    for (const format of ['jsonl', 'csv']) expect((await runGatehouse(['export', '--format', format, '--out', join(exportsDir, `all.${format}`)], { GATEHOUSE_HOME: home.dir })).code).toBe(0);

    const found: string[] = [];
    for (const file of filesUnder(home.dir)) {
      if (file.endsWith('gatehouse.yaml')) continue; // the user's own config holds the database URL they wrote
      if (!statSync(file).isFile()) continue;
      for (const leak of leaksIn(readFileSync(file, 'latin1'))) found.push(`${file.slice(home.dir.length)}: ${leak}`);
    }
    const sessions = await api('/api/sessions');
    const sessionId = (JSON.parse(sessions) as { sessions: { id: string }[] }).sessions[0]?.id as string;
    for (const path of ['/api/status', '/api/servers', '/api/sessions/live', '/api/sessions', `/api/sessions/${sessionId}/records`, '/api/approvals', '/api/grants', '/api/policy', '/api/integrity']) {
      for (const leak of leaksIn(await api(path))) found.push(`GET ${path}: ${leak}`);
    }
    for (const command of [['sessions', '--json'], ['replay', sessionId, '--json'], ['pins', '--json'], ['servers', '--json']]) {
      const out = await runGatehouse(command, { GATEHOUSE_HOME: home.dir });
      for (const leak of leaksIn(out.stdout + out.stderr)) found.push(`gatehouse ${command.join(' ')}: ${leak}`);
    }
    for (const leak of leaksIn(serve.output())) found.push(`serve console: ${leak}`);
    for (const leak of leaksIn(clientSaw).filter((l) => ['pemBody', 'yamlBlock', 'dbLine'].includes(l))) found.push(`the client's error: ${leak}`);
    expect(found).toEqual([]);
    // …and what was masked is still there to correlate: the same token for the same value.
    const records = readFileSync(join(exportsDir, 'all.jsonl'), 'utf8');
    expect(records).toMatch(/"client":\{"name":"\[MASKED:github-token:[0-9a-f]{8}\]","version":"\[MASKED:aws-access-key:[0-9a-f]{8}\]"\}/);
    expect(records).toMatch(/"card_number":"\[MASKED:credit-card:[0-9a-f]{8}\]"/);
  });
});

describe('with inline masking, near-misses reach the client unchanged', () => {
  it('UUIDs, digests, versions, OIDs, long ids, timestamps, git remotes and prose come back byte for byte', async () => {
    const home = tempHome({ servers: { leaky: { command: process.execPath, args: [LEAKY] } }, masking: { detectors: ['secrets', 'email', 'credit-card', 'ip'], inline: true }, gateway: { port: 0 } });
    const serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
    try {
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      const post = (body: unknown, session?: string) =>
        rawRequest(`${serve.url}/mcp/leaky`, { headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...(session ? { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' } : {}) }, body: JSON.stringify(body) });
      const init = await post({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'inline-test', version: '1' } } });
      const session = init.headers['mcp-session-id'] as string;
      await post({ jsonrpc: '2.0', method: 'notifications/initialized' }, session);
      const negatives = readFileSync(join(import.meta.dirname, '../fixtures/masking-corpus/negatives.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { input: unknown }).input);
      const changed: string[] = [];
      for (let i = 0; i < negatives.length; i += 40) {
        const batch = negatives.slice(i, i + 40);
        const res = await post({ jsonrpc: '2.0', id: 10 + i, method: 'tools/call', params: { name: 'echo', arguments: { items: batch } } }, session);
        const answer = JSON.parse(res.body.includes('data: ') ? (res.body.split('\n').find((l) => l.startsWith('data: ') && l.includes('"result"')) as string).slice(6) : res.body) as { result: { structuredContent: { items: unknown[] } } };
        answer.result.structuredContent.items.forEach((item, j) => {
          if (JSON.stringify(item) !== JSON.stringify(batch[j])) changed.push(JSON.stringify(batch[j]).slice(0, 100));
        });
      }
      expect(changed).toEqual([]);
    } finally {
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
      home.remove();
    }
  });
});
