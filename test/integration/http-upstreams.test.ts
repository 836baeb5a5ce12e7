import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { freePort, startHttpServer } from '../helpers/http-servers.js';
import { answerServerRequests, clientCapabilities, exerciseEverything } from '../helpers/mcp-scenario.js';
import { everythingStdio, serverScript } from '../helpers/servers.js';

const EVERYTHING = serverScript('@modelcontextprotocol/server-everything');

function newClient(): Client {
  const client = new Client({ name: 'upstream-test', version: '1' }, clientCapabilities);
  answerServerRequests(client);
  return client;
}

describe('remote upstreams: Streamable HTTP, and legacy HTTP+SSE as the fallback', () => {
  let harness: Harness;
  const children: ChildProcess[] = [];
  let expected: Record<string, unknown>;

  beforeAll(async () => {
    const [httpPort, ssePort] = [await freePort(), await freePort()];
    children.push(await startHttpServer([EVERYTHING, 'streamableHttp'], httpPort, { PORT: String(httpPort) }));
    children.push(await startHttpServer([EVERYTHING, 'sse'], ssePort, { PORT: String(ssePort) }));
    harness = await startHarness({
      servers: {
        remote: { url: `http://127.0.0.1:${httpPort}/mcp`, headers: { 'X-Team': 'platform' } },
        legacy: { url: `http://127.0.0.1:${ssePort}/sse` },
        down: { url: 'http://127.0.0.1:9/mcp' },
      },
    });
    const direct = newClient();
    await direct.connect(new StdioClientTransport({ ...everythingStdio(), stderr: 'ignore' }));
    expected = await exerciseEverything(direct);
    await direct.close();
  });
  afterAll(async () => {
    for (const c of children) c.kill();
    await harness?.stop();
  });

  it('a Streamable HTTP upstream answers as the same server does over stdio', async () => {
    const client = await harness.connect('remote', newClient());
    expect(await exerciseEverything(client)).toEqual(expected);
    expect((await harness.gatehouse.api.liveSessions()).find((s) => s.server === 'remote')?.upstream).toBe('streamable-http');
  });

  it('a legacy SSE server is reached through the automatic fallback', async () => {
    const client = await harness.connect('legacy', newClient());
    expect(await exerciseEverything(client)).toEqual(expected);
    expect((await harness.gatehouse.api.liveSessions()).find((s) => s.server === 'legacy')?.upstream).toBe('sse');
  });

  it('an unreachable upstream: initialize fails naming the server and the refused connection', async () => {
    await expect(harness.connect('down', newClient())).rejects.toThrow(/upstream server "down" \(http:\/\/127\.0\.0\.1:9\/mcp\) is unreachable/);
  });
});
