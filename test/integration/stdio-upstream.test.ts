import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';

describe('stdio upstreams honour the configured env and cwd', () => {
  let harness: Harness;
  let cwd: string;
  const lines: string[] = [];

  beforeAll(async () => {
    cwd = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-cwd-')));
    process.env.GATEHOUSE_TEST_PASSED = 'from-the-gateway-environment';
    process.env.GATEHOUSE_TEST_NOT_PASSED = 'kept-from-the-server';
    harness = await startHarness({
      servers: {
        everything: { ...everythingStdio(), env: { GATEHOUSE_TEST_SETTING: 'from-gatehouse.yaml' }, passEnv: ['GATEHOUSE_TEST_PASSED', 'GATEHOUSE_TEST_ABSENT'] },
        // A relative root: it only resolves to `cwd` if the server really starts there.
        files: { command: process.execPath, args: [serverScript('@modelcontextprotocol/server-filesystem'), '.'], cwd },
      },
    });
    harness.gatehouse.gateway.events.on('upstream-stderr', (e) => lines.push(`${e.server}: ${e.line}`));
  });
  afterAll(async () => {
    await harness?.stop();
    rmSync(cwd, { recursive: true, force: true });
    delete process.env.GATEHOUSE_TEST_PASSED;
    delete process.env.GATEHOUSE_TEST_NOT_PASSED;
  });

  it('passes the configured env on top of what the server needs (PATH, HOME)', async () => {
    const client = await harness.connect('everything', new Client({ name: 'env-test', version: '1' }));
    const env = JSON.stringify(await client.callTool({ name: 'get-env', arguments: {} }));
    expect(env).toContain('GATEHOUSE_TEST_SETTING');
    expect(env).toContain('from-gatehouse.yaml');
    expect(env).toContain('PATH');
  });

  // A server a client used to start got the client's whole environment; through Gatehouse, only what passEnv names of it.
  it('passes the variables passEnv names from the gateway\'s environment, and no other', async () => {
    const client = await harness.connect('everything', new Client({ name: 'pass-env-test', version: '1' }));
    const env = JSON.stringify(await client.callTool({ name: 'get-env', arguments: {} }));
    expect(env).toContain('from-the-gateway-environment');
    expect(env).not.toContain('kept-from-the-server');
    expect(env).not.toContain('GATEHOUSE_TEST_ABSENT');
  });

  it('starts the server in the configured cwd', async () => {
    const client = await harness.connect('files', new Client({ name: 'cwd-test', version: '1' }));
    const allowed = JSON.stringify(await client.callTool({ name: 'list_allowed_directories', arguments: {} }));
    expect(allowed).toContain(cwd);
  });

  it('captures each server\'s stderr, line by line, tagged with its server', () => {
    expect(lines.some((l) => l.startsWith('everything: '))).toBe(true);
    expect(lines.some((l) => l.startsWith('files: ') && /Secure MCP Filesystem Server|Allowed directories/i.test(l))).toBe(true);
  });
});
