import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { waitFor } from '../helpers/gateway-harness.js';
import { isAlive } from '../helpers/processes.js';
import { rawRequest } from '../helpers/raw-http.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

describe('the gatehouse command', () => {
  const homes: { remove(): void }[] = [];
  const home = (config: Record<string, unknown> = {}) => {
    const h = tempHome(config);
    homes.push(h);
    return h.dir;
  };
  afterEach(() => homes.splice(0).forEach((h) => h.remove()));

  it('serve: prints its URL, serves MCP, and on SIGTERM closes sessions, reaps children and removes gateway.json', async () => {
    const dir = home({ servers: { everything: everythingStdio() } });
    const { child, url, output } = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    try {
      expect(output()).toMatch(/Timeline UI \(one-time sign-in link\): http:\/\/127\.0\.0\.1:\d+\/login\?code=/);
      const runtime = JSON.parse(readFileSync(join(dir, 'gateway.json'), 'utf8'));
      expect(runtime).toMatchObject({ url, pid: child.pid, shell: 'headless' });
      const token = readFileSync(join(dir, 'token'), 'utf8').trim();
      expect(statSync(join(dir, 'token')).mode & 0o777).toBe(0o600);
      expect(statSync(dir).mode & 0o777).toBe(0o700);

      const client = new Client({ name: 'cli-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      expect(JSON.stringify(await client.callTool({ name: 'echo', arguments: { message: 'via serve' } }))).toContain('via serve');
      const pid = Number(/upstream started \(stdio, pid (\d+)\)/.exec(output())?.[1]);
      expect(isAlive(pid)).toBe(true);

      const exited = new Promise<number | null>((r) => child.on('exit', r));
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(output()).toContain('SIGTERM: closing 1 session(s)');
      await waitFor(() => !isAlive(pid), 10_000, 'the upstream child to be reaped');
      expect(existsSync(join(dir, 'gateway.json'))).toBe(false);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve: the one-time link signs the browser in once; the API needs the token or that cookie', async () => {
    const dir = home();
    const { child, url, output } = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    try {
      const link = /sign-in link\): (\S+)/.exec(output())?.[1] as string;
      const port = new URL(url).port;
      const host = { host: `127.0.0.1:${port}` };
      expect((await rawRequest(`${url}/api/status`, { method: 'GET', headers: host })).status).toBe(401);
      const login = await rawRequest(link, { method: 'GET', headers: host });
      expect(login.status).toBe(303);
      const cookie = String(login.headers['set-cookie']);
      expect(cookie).toMatch(/HttpOnly; SameSite=Strict/);
      const status = await rawRequest(`${url}/api/status`, { method: 'GET', headers: { ...host, cookie: cookie.split(';')[0] as string } });
      expect(status.status).toBe(200);
      expect(JSON.parse(status.body)).toMatchObject({ url, dataDir: dir });
      expect((await rawRequest(link, { method: 'GET', headers: host })).status).toBe(401); // used once already
      const page = await rawRequest(`${url}/`, { method: 'GET', headers: { ...host, cookie: cookie.split(';')[0] as string } });
      expect(page.headers['content-security-policy']).toContain("default-src 'none'");
      expect(page.body).toContain('<div id="app">');
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('serve: refuses an invalid config with file, line and key, and starts nothing', async () => {
    const dir = home();
    writeFileSync(join(dir, 'gatehouse.yaml'), 'servers:\n  files:\n    command: npx\npolicy:\n  default: alow\n');
    const result = await runGatehouse(['serve', '--no-open', '--port', '0'], { GATEHOUSE_HOME: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`${join(dir, 'gatehouse.yaml')}:5 policy.default: "alow" is not one of allow, approve, deny`);
    expect(existsSync(join(dir, 'gateway.json'))).toBe(false);
  });

  it('serve: creates a commented default gatehouse.yaml on first run', async () => {
    const dir = home();
    const file = join(dir, 'gatehouse.yaml');
    rmSync(file);
    const { child } = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    child.kill('SIGKILL');
    const text = readFileSync(file, 'utf8');
    expect(text).toContain('# Gatehouse configuration');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('connect --wait 0s: with no gateway running, fails closed at once with a JSON-RPC error and one stderr line', async () => {
    const dir = home({ servers: { everything: everythingStdio() } });
    const init = JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const result = await runGatehouse(['connect', 'everything', '--wait', '0s'], { GATEHOUSE_HOME: dir }, `${init}\n`);
    const reply = JSON.parse(result.stdout.trim());
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 7, error: { code: -32014, message: expect.stringContaining('no Gatehouse gateway is running') } });
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('start the desktop app or `gatehouse serve`');
  });

  it('usage errors exit 2 with one line; --help exits 0', async () => {
    const dir = home();
    const bad = await runGatehouse(['serve', '--port', 'eighty'], { GATEHOUSE_HOME: dir });
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toBe('gatehouse serve: --port must be a whole number from 0 to 65535, not "eighty" (usage: gatehouse serve [--port N] [--no-open] [--quiet] [--config FILE])');
    const unknown = await runGatehouse(['frobnicate'], { GATEHOUSE_HOME: dir });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    // (A name every object inherits is no command either: it was run, and failed with "command.run is not a function".)
    const inherited = await runGatehouse(['constructor'], { GATEHOUSE_HOME: dir });
    expect(inherited.code).toBe(2);
    expect(inherited.stderr).toContain('unknown command "constructor"');
    const help = await runGatehouse(['--help'], { GATEHOUSE_HOME: dir });
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('serve');
  });

  it('servers --json: lists each server with whether it is reachable, exit 1 when one is not', async () => {
    const dir = home({ servers: { everything: everythingStdio(), broken: { command: 'gatehouse-test-missing' } } });
    const result = await runGatehouse(['servers', '--json'], { GATEHOUSE_HOME: dir });
    expect(result.code).toBe(1);
    const reports = JSON.parse(result.stdout);
    expect(reports).toEqual([
      expect.objectContaining({ id: 'everything', transport: 'stdio', reachable: true, detail: expect.stringContaining('mcp-servers/everything') }),
      expect.objectContaining({ id: 'broken', reachable: false, detail: expect.stringContaining('was not found') }),
    ]);
  });
});
