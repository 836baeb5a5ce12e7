import { CSV_COLUMNS } from '../../main/audit/export.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../main/audit/record.js';
import { breakLogDisk } from '../helpers/audit-log.js';
import { runGatehouse } from '../helpers/cli.js';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';
import { rawSession, startSpy } from '../helpers/spy.js';

const memoryStdio = () => ({ command: process.execPath, args: [serverScript('@modelcontextprotocol/server-memory')] });

async function replay(home: string, session: string): Promise<{ client: { name?: string; version?: string }; records: AuditRecord[] }> {
  const result = await runGatehouse(['replay', session, '--json'], { GATEHOUSE_HOME: home });
  expect(result.stderr).toBe('');
  return JSON.parse(result.stdout);
}

describe('recording through the gateway', () => {
  let harness: Harness | undefined;
  afterEach(async () => {
    await harness?.stop();
    harness = undefined;
  });

  it('a session\'s replay shows every request and response in order, with the client\'s name and version', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const client = await harness.connect('everything', new Client({ name: 'audit-client', version: '2.4.6' }));
    const sessionId = (client.transport as { sessionId?: string }).sessionId as string;
    await client.listTools();
    await client.callTool({ name: 'echo', arguments: { message: 'remember me' } });
    await client.callTool({ name: 'get-sum', arguments: { a: 2, b: 3 } });
    await client.close();
    await harness.gatehouse.audit.log.flush();

    const sessions = JSON.parse((await runGatehouse(['sessions', '--json'], { GATEHOUSE_HOME: harness.home })).stdout);
    expect(sessions).toContainEqual(expect.objectContaining({ id: sessionId, server: 'everything', client: { name: 'audit-client', version: '2.4.6' }, calls: 2 }));

    const { records } = await replay(harness.home, sessionId.slice(0, 8));
    // Server-initiated notifications (list_changed, logging) come when the server pleases: compare the rest.
    const messages = records.filter((r) => r.kind !== 'event' && r.kind !== 'decision' && !(r.kind === 'notification' && r.direction === 'server->client'));
    expect(messages.map((r) => `${r.direction} ${r.kind} ${r.method ?? ''} ${r.tool ?? ''}`.trim())).toEqual([
      'client->server request initialize',
      'server->client response initialize',
      'client->server notification notifications/initialized',
      'client->server request tools/list',
      'server->client response tools/list',
      'client->server request tools/call echo',
      'server->client response tools/call echo',
      'client->server request tools/call get-sum',
      'server->client response tools/call get-sum',
    ]);
    expect(messages.every((r) => r.client?.name === 'audit-client' && r.client.version === '2.4.6')).toBe(true);
    expect(JSON.stringify(messages.find((r) => r.kind === 'response' && r.tool === 'echo')?.payload)).toContain('Echo: remember me');
    expect(records.map((r) => r.seq)).toEqual([...records.map((r) => r.seq)].sort((a, b) => a - b));
    expect(records[0]).toMatchObject({ kind: 'event', event: 'session-start', principal: expect.stringMatching(/^local:/) });
    // Each call's policy decision is recorded right after its request.
    const echoRequest = records.findIndex((r) => r.kind === 'request' && r.tool === 'echo');
    expect(records[echoRequest + 1]).toMatchObject({ kind: 'decision', tool: 'echo', decision: { action: 'allow', outcome: 'allow', rule: null } });

    const text = (await runGatehouse(['replay', sessionId], { GATEHOUSE_HOME: harness.home })).stdout;
    expect(text).toContain('audit-client 2.4.6');
    expect(text).toMatch(/→ tools\/call echo {2}message="remember me"/);
    expect(text).toMatch(/← tools\/call echo {2}"Echo: remember me"/);
  });

  it('fails closed: when the log cannot be written, a tools/call is refused with the reason and never reaches the server', async () => {
    const root = mkdtempSync(join(tmpdir(), 'gatehouse-failclosed-'));
    harness = await startHarness({ servers: { files: { command: process.execPath, args: [serverScript('@modelcontextprotocol/server-filesystem'), root] } } });
    const client = await harness.connect('files');
    await client.listTools();
    await breakLogDisk(harness.gatehouse.audit.log);
    await expect(client.callTool({ name: 'write_file', arguments: { path: join(root, 'never.txt'), content: 'must not be written' } })).rejects.toThrow(
      /could not record this call, so it was not forwarded: the audit log cannot be written \(EBADF/,
    );
    expect(existsSync(join(root, 'never.txt'))).toBe(false);
    rmSync(root, { recursive: true, force: true });
  });

  it('fails closed for every message, not only tools/call: once the log cannot be written, nothing more reaches the server', async () => {
    const spy = startSpy();
    harness = await startHarness({ servers: { spy: spy.config } });
    const session = await rawSession(harness, 'spy');
    await session.post({ jsonrpc: '2.0', id: 1, method: 'tools/list' });
    const before = spy.received().length;
    await breakLogDisk(harness.gatehouse.audit.log);
    const asked = [
      { jsonrpc: '2.0', id: 2, method: 'tools/list' },
      { jsonrpc: '2.0', id: 3, method: 'resources/read', params: { uri: 'file:///secret' } },
      { jsonrpc: '2.0', id: 4, method: 'ping' },
    ];
    for (const request of asked) {
      const { answers } = await session.post(request);
      expect(answers).toMatchObject([{ id: request.id, error: { code: -32015, data: { outcome: 'not-run' } } }]);
    }
    await session.post({ jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
    await new Promise((r) => setTimeout(r, 300));
    // The spy's own log: what reached the server.
    expect(spy.received().slice(before)).toEqual([]);
    spy.remove();
  });

  it('verify passes on a live log and reports intact records', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const client = await harness.connect('everything');
    await client.callTool({ name: 'echo', arguments: { message: 'x' } });
    await harness.gatehouse.audit.log.flush();
    const result = await runGatehouse(['verify', '--json'], { GATEHOUSE_HOME: harness.home });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, keyUsed: true });
  });

  it('recording.exclude: an excluded server records only that the session happened; an excluded tool only that it was called', async () => {
    harness = await startHarness({
      servers: { everything: everythingStdio(), memory: memoryStdio() },
      recording: { exclude: [{ server: 'memory' }, { server: 'everything', tool: 'get-s*' }] },
    });
    const memory = await harness.connect('memory');
    await memory.callTool({ name: 'create_entities', arguments: { entities: [{ name: 'secret-project', entityType: 'project', observations: ['very private'] }] } });
    const everything = await harness.connect('everything');
    await everything.callTool({ name: 'get-sum', arguments: { a: 40, b: 2 } });
    await everything.callTool({ name: 'echo', arguments: { message: 'recorded' } });
    const memoryId = (memory.transport as { sessionId?: string }).sessionId as string;
    const everythingId = (everything.transport as { sessionId?: string }).sessionId as string;
    await memory.close();
    await everything.close();
    await harness.gatehouse.audit.log.flush();

    const excluded = await replay(harness.home, memoryId);
    expect(excluded.records.map((r) => r.event ?? r.kind)).toEqual(expect.arrayContaining(['session-start', 'excluded']));
    expect(excluded.records.filter((r) => r.kind !== 'event')).toEqual([]);
    const everythingRecords = (await replay(harness.home, everythingId)).records;
    // Only that it was called, and how policy decided: no arguments, no result.
    expect(everythingRecords.filter((r) => r.tool === 'get-sum').map((r) => r.kind)).toEqual(['event', 'decision']);
    expect(everythingRecords.filter((r) => r.tool === 'get-sum').every((r) => r.payload === undefined)).toBe(true);
    expect(everythingRecords.find((r) => r.tool === 'get-sum')).toMatchObject({ event: 'excluded-call' });
    expect(everythingRecords.filter((r) => r.tool === 'echo').map((r) => r.kind)).toEqual(['request', 'decision', 'response']);

    const audit = join(harness.home, 'audit');
    const all = readdirSync(audit).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(join(audit, n), 'utf8')).join('');
    expect(all).not.toContain('very private');
    expect(all).not.toContain('"a":40');
  });

  it('the data directory\'s files and folders are private: folders 0700, files 0600', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const client = await harness.connect('everything');
    await client.callTool({ name: 'echo', arguments: { message: 'x' } });
    await client.close();
    await harness.gatehouse.audit.log.flush();
    await harness.gatehouse.audit.index.persistNow();
    const walk = (dir: string): string[] => readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? [join(dir, e.name), ...walk(join(dir, e.name))] : [join(dir, e.name)]));
    const entries = walk(harness.home).filter((p) => !p.endsWith('gatehouse.yaml')); // the test wrote that one itself
    expect(entries.map((p) => p.slice(harness!.home.length))).toEqual(expect.arrayContaining(['/token', '/audit.key', '/audit', '/audit/head.json', '/audit/index', '/audit/index/sessions.json']));
    for (const path of [harness.home, ...entries]) {
      const mode = statSync(path).mode & 0o777;
      expect(`${path.slice(harness.home.length) || '/'} ${mode.toString(8)}`).toBe(`${path.slice(harness.home.length) || '/'} ${statSync(path).isDirectory() ? '700' : '600'}`);
    }
  });

  it('export: a time range and a session, each checkable on its own; an edited export is caught', async () => {
    harness = await startHarness({ servers: { everything: everythingStdio() } });
    const a = await harness.connect('everything', new Client({ name: 'a', version: '1' }));
    const b = await harness.connect('everything', new Client({ name: 'b', version: '1' }));
    for (let i = 0; i < 3; i++) {
      await a.callTool({ name: 'echo', arguments: { message: `a${i}` } });
      await b.callTool({ name: 'echo', arguments: { message: `b${i}` } });
    }
    const bId = (b.transport as { sessionId?: string }).sessionId as string;
    await harness.gatehouse.audit.log.flush();
    const env = { GATEHOUSE_HOME: harness.home };
    const out = join(harness.home, 'export-b.jsonl');

    expect((await runGatehouse(['export', '--session', bId, '--out', out], env)).code).toBe(0);
    const exported = readFileSync(out, 'utf8');
    expect(exported).toContain('"message":"b2"');
    expect(exported).not.toContain('"message":"a2"');
    expect(exported).toContain('{"omitted":');
    const checked = await runGatehouse(['verify', '--export', out, '--json'], env);
    expect(checked.code).toBe(0);
    expect(JSON.parse(checked.stdout)).toMatchObject({ ok: true });

    writeFileSync(out, exported.replace('"message":"b1"', '"message":"b9"'));
    const tampered = await runGatehouse(['verify', '--export', out], env);
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/was changed/);

    const range = await runGatehouse(['export', '--since', '10m'], env);
    expect(range.code).toBe(0);
    const rangeFile = join(harness.home, 'export-range.jsonl');
    writeFileSync(rangeFile, range.stdout);
    expect((await runGatehouse(['verify', '--export', rangeFile], env)).code).toBe(0);

    const csv = await runGatehouse(['export', '--format', 'csv', '--session', bId], env);
    const [header, ...rows] = csv.stdout.trim().split('\n');
    expect(header).toBe(CSV_COLUMNS.join(','));
    // prev and hash, then commit, signed, mac and sig (empty on most rows).
    expect(rows.every((r) => /,[0-9a-f]{64},[0-9a-f]{64},(?:true)?,(?:true)?,[0-9a-f]*,[0-9a-f]*$/.test(r))).toBe(true);
  });

  it('retention prunes old segments behind a signed anchor, and verify stays green over what remains', async () => {
    harness = await startHarness({
      servers: { everything: everythingStdio() },
      recording: { segmentSize: '4KiB', retention: { maxSize: '12KiB' } },
    });
    const client = await harness.connect('everything');
    for (let i = 0; i < 30; i++) await client.callTool({ name: 'echo', arguments: { message: `message ${i} ${'x'.repeat(200)}` } });
    await harness.gatehouse.audit.log.flush();
    const audit = join(harness.home, 'audit');
    expect(existsSync(join(audit, 'anchor.json'))).toBe(true);
    expect(readdirSync(audit).filter((n) => n.startsWith('000000000001'))).toEqual([]);
    const result = await runGatehouse(['verify', '--json'], { GATEHOUSE_HOME: harness.home });
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true });
    const all = readdirSync(audit).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(join(audit, n), 'utf8')).join('');
    expect(all).toContain('"event":"prune"');
  });
});
