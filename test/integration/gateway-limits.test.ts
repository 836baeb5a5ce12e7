/**
 * The listener cannot be starved by another local process without a token. Attacks:
 *   - slowloris: thousands of connections that send part of a request's headers and hold on;
 *   - slow bodies: requests to the sign-in page whose headers promise a body that never comes;
 * with a normal client trying to initialize and call a tool in the middle of them. What is measured is what
 * happened: the client's answer, and the gateway process's open file descriptors (from /proc).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const openFds = (pid: number): number => readdirSync(`/proc/${pid}/fd`).length;

describe('a listener that cannot be starved', () => {
  const home = tempHome({ servers: { everything: everythingStdio() }, gateway: { port: 0 } });
  let serve: Awaited<ReturnType<typeof startServe>>;
  const held: Socket[] = [];
  beforeAll(async () => {
    serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
  });
  afterAll(async () => {
    for (const s of held) s.destroy();
    const exited = new Promise((r) => serve.child.once('exit', r));
    serve.child.kill('SIGTERM');
    await exited;
    home.remove();
  });

  it('5,000 held partial requests do not stop a normal client from initializing and calling a tool', async () => {
    const { port } = new URL(serve.url);
    const before = openFds(serve.child.pid as number);
    const hold = (payload: string) =>
      new Promise<void>((resolve) => {
        const s = connect(Number(port), '127.0.0.1', () => {
          s.write(payload);
          resolve();
        });
        s.on('error', () => resolve()); // closed by the gateway to make room: what is meant to happen
        held.push(s);
      });
    for (let i = 0; i < 5_000; i += 250) {
      await Promise.all(
        Array.from({ length: 250 }, (_, j) =>
          hold((i + j) % 2 === 0 ? `POST /login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000\r\n\r\nto` : `GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nX-Slow: `),
        ),
      );
    }
    const during = openFds(serve.child.pid as number);
    expect(during - before).toBeLessThan(600); // at most 256 waiting connections, not 5,000

    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const client = new Client({ name: 'normal-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    const result = await client.callTool({ name: 'echo', arguments: { message: 'through the flood' } });
    expect(JSON.stringify(result)).toContain('through the flood');
    await client.close();
  });
});
