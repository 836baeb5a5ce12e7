/*
 * What a newcomer trips over, as a table: each mistake with the one line it must get and its exit code (0 success,
 * 1 a failed check, 2 bad usage or bad input, as the CONTRACT says). What went wrong before: stack traces for an
 * --out in a folder that is not there or that is a folder, V8's parser text for an export that is not JSON, a
 * raw parse error for a CSV given to `verify --export`, Node's option-parser text, `serve --config nope.yaml`
 * creating that file and starting with no servers, `approve`/`grants revoke` of an unknown id exiting 1 like a
 * failed check. And the CSV export: it dropped the decision (action, rule, reason, approver), the JSON-RPC id and
 * event detail, which are what an auditor reads; every field of every record kind must now be in it.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../../main/audit/export.js';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const home = tempHome({
  servers: { everything: everythingStdio() },
  policy: { default: 'allow', rules: [{ name: 'no-sums', match: { tool: 'get-sum' }, action: 'deny', reason: 'sums are off limits' }] },
});
const env = { GATEHOUSE_HOME: home.dir };
const unknownIds: Record<string, { code: number | null; stdout: string; stderr: string }> = {};

beforeAll(async () => {
  // A log with requests, responses, a denial and session events; and, while the gateway runs, unknown ids.
  const serve = await startServe(['--port', '0'], env);
  try {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const client = new Client({ name: 'mistakes', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    await client.callTool({ name: 'echo', arguments: { message: 'for the export' } });
    await expect(client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } })).rejects.toThrow(/sums are off limits/);
    await client.close();
    unknownIds.approve = await runGatehouse(['approve', 'deadbeef'], env);
    unknownIds.approveJson = await runGatehouse(['approve', 'deadbeef', '--json'], env);
    unknownIds.denyJson = await runGatehouse(['deny', 'deadbeef', '--json'], env);
    unknownIds.revoke = await runGatehouse(['grants', 'revoke', 'x'], env);
  } finally {
    const exited = new Promise((r) => serve.child.once('exit', r));
    serve.child.kill('SIGTERM');
    await exited;
  }
}, 60_000);
afterAll(() => home.remove());

describe('CLI mistakes', () => {
  it('each gets one clear line and the exit code for what it is', async () => {
    const out = join(home.dir, 'out');
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'notes.txt'), 'these are my notes\n');
    await runGatehouse(['export', '--format', 'csv', '--out', join(out, 'all.csv')], env);
    const table: [string[], number, RegExp][] = [
      [['export', '--out', join(out, 'missing', 'x.jsonl')], 2, /^gatehouse export: --out .*x\.jsonl: the folder .*missing does not exist; create it first \(usage:/],
      [['export', '--out', out], 2, /^gatehouse export: --out .* is a folder: give a file name \(e\.g\. .*gatehouse-export\.jsonl\)/],
      [['verify', '--export', join(out, 'nope.jsonl')], 2, /^gatehouse verify: --export .*nope\.jsonl: no such file/],
      [['verify', '--export', join(out, 'notes.txt'), '--chain-only'], 1, /not a Gatehouse JSONL export \(the first line is not its header; `gatehouse export --out FILE` writes one\)/],
      [['verify', '--export', join(out, 'all.csv'), '--chain-only'], 1, /a CSV export, which is for reading .* verify checks the JSONL format \(`gatehouse export --format jsonl`\)/],
      [['sessions', '--frobnicate'], 2, /^gatehouse sessions: unknown option --frobnicate; `--help` lists this command's options \(usage:/],
      [['export', '--out'], 2, /^gatehouse export: --out needs a value \(usage:/],
      [['serve', '--no-open', '--port', '0', '--config', join(out, 'nope.yaml')], 2, /^gatehouse serve: .*nope\.yaml: no such config file/],
      [['policy', 'check', '--config', join(out, 'notes.txt')], 2, /^gatehouse policy: the config is invalid:\n/],
      [['pins', 'accept', 'everything'], 2, /^gatehouse pins: no pending tool change for everything; `gatehouse pins` lists them/],
      [['export', '--json'], 2, /^gatehouse export: --json reports what was written to --out FILE; without --out, stdout is the export itself/],
    ];
    for (const [args, code, message] of table) {
      const r = await runGatehouse(args, env);
      expect({ args, code: r.code, stderr: r.stderr }).toMatchObject({ code, stderr: expect.stringMatching(message) });
      expect(r.stderr, args.join(' ')).not.toMatch(/\n\s+at |node:internal|Unexpected token/);
    }
    expect(existsSync(join(out, 'nope.yaml'))).toBe(false);
    expect(unknownIds.approve).toMatchObject({ code: 2, stderr: expect.stringMatching(/^gatehouse approve: no pending approval deadbeef; `gatehouse approvals` lists them/) });
    for (const [which, action] of [['approveJson', 'allow'], ['denyJson', 'deny']] as const) {
      expect(unknownIds[which]?.code).toBe(2);
      expect(JSON.parse(unknownIds[which]?.stdout ?? '')).toMatchObject({ id: 'deadbeef', action, ok: false, unknown: true, message: expect.stringMatching(/no pending approval deadbeef/) });
    }
    expect(unknownIds.revoke).toMatchObject({ code: 2, stderr: expect.stringMatching(/^gatehouse grants: "x" is not a grant id; `gatehouse grants` lists them/) });
  });

  it('export says how many records it wrote, in both formats, and when the filter matched none', async () => {
    for (const format of ['jsonl', 'csv']) {
      const r = await runGatehouse(['export', '--format', format, '--out', join(home.dir, `count.${format}`)], env);
      expect(r.stderr).toMatch(new RegExp(`wrote .*count\\.${format} \\(\\d+ records`));
      const none = await runGatehouse(['export', '--format', format, '--since', '2999-01-01', '--out', join(home.dir, `none.${format}`)], env);
      expect(none.stderr).toMatch(/\(0 records.*nothing matched the filter\)/);
      const json = await runGatehouse(['export', '--format', format, '--json', '--out', join(home.dir, `json.${format}`)], env);
      expect(json.code).toBe(0);
      const report = JSON.parse(json.stdout) as { out: string; format: string; records: number };
      expect(report).toMatchObject({ out: join(home.dir, `json.${format}`), format });
      const text = readFileSync(report.out, 'utf8');
      const written = format === 'csv' ? parseCsv(text).length - 1 : text.trim().split('\n').filter((l) => typeof (JSON.parse(l) as { seq?: unknown }).seq === 'number').length;
      expect(report.records).toBe(written);
      expect(written).toBeGreaterThan(0);
    }
  });
});

describe('what serve and servers say about the gateway and its servers', () => {
  it('a port in use: one line with what to do, exit 1, nothing started; a server that exits: its own stderr, not "Connection closed"; port 0: no :0 endpoint', async () => {
    const other = tempHome({ servers: { bad: { command: process.execPath, args: ['-e', 'console.error("boom: missing API_KEY"); process.exit(1)'] } }, gateway: { port: 0 } });
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
    try {
      const port = (taken.address() as AddressInfo).port;
      const serve = await runGatehouse(['serve', '--no-open', '--port', String(port)], { GATEHOUSE_HOME: other.dir });
      expect(serve.code).toBe(1);
      expect(serve.stderr).toMatch(new RegExp(`^gatehouse serve: port ${port} on 127\\.0\\.0\\.1 is already in use by another program; stop it, or choose another port with --port N or gateway\\.port in gatehouse\\.yaml \\(0 picks a free one\\); nothing was started\\n$`));
      expect(existsSync(join(other.dir, 'gateway.json'))).toBe(false);
      const servers = await runGatehouse(['servers'], { GATEHOUSE_HOME: other.dir });
      expect(servers.code).toBe(1);
      expect(servers.stdout).toMatch(/exited; its last stderr: boom: missing API_KEY/);
      expect(servers.stdout).not.toMatch(/Connection closed|127\.0\.0\.1:0\//);
      expect(servers.stdout).toMatch(/no gateway is running; with gateway\.port 0 it picks a free <port> when it starts/);
    } finally {
      taken.close();
      other.remove();
    }
  });
});

describe('the CSV export', () => {
  it('carries every field of every record kind, the decision spelled out, row for row with the JSONL export', async () => {
    const jsonl = await runGatehouse(['export'], env);
    const csv = await runGatehouse(['export', '--format', 'csv'], env);
    expect(csv.code).toBe(0);
    const records = jsonl.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((r) => typeof r.seq === 'number');
    const rows = parseCsv(csv.stdout);
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows.length - 1).toBe(records.length);
    const kinds = new Set(records.map((r) => r.kind));
    for (const kind of ['request', 'response', 'decision', 'event']) expect(kinds).toContain(kind);
    // Every field any record has is a column.
    for (const r of records) for (const k of Object.keys(r)) expect(CSV_COLUMNS as readonly string[], k).toContain(k);
    const col = (name: string) => CSV_COLUMNS.indexOf(name as (typeof CSV_COLUMNS)[number]);
    for (const [i, r] of records.entries()) {
      const row = rows[i + 1] as string[];
      expect([row[col('seq')], row[col('hash')], row[col('kind')]]).toEqual([String(r.seq), r.hash, r.kind]);
      if (r.id !== undefined) expect(row[col('id')]).toBe(String(r.id));
      if (r.detail !== undefined) expect(JSON.parse(row[col('detail')] as string)).toEqual(r.detail);
    }
    const denial = rows.find((row) => row[col('kind')] === 'decision' && row[col('rule')] === 'no-sums');
    expect(denial && [denial[col('action')], denial[col('outcome')], denial[col('reason')], denial[col('tool')]]).toEqual(['deny', 'deny', 'sums are off limits', 'get-sum']);
  });
});

/** RFC 4180 rows (quoted cells may hold commas, quotes and newlines). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',' || c === '\n') {
      row.push(cell);
      cell = '';
      if (c === '\n') {
        rows.push(row);
        row = [];
      }
    } else cell += c;
  }
  return rows;
}
