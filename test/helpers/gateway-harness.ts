import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startGatehouse, type RunningGatehouse } from '../../main/api/core.js';
import { abortIsolatingFetch } from '../../main/gateway/isolated-fetch.js';
import type { Clock } from '../../main/approvals/clock.js';
import { tempHome } from './temp-home.js';

export interface Harness {
  gatehouse: RunningGatehouse;
  home: string;
  endpoint(server: string): URL;
  /** An SDK client connected to /mcp/SERVER over Streamable HTTP, with the token. */
  connect(server: string, client?: Client): Promise<Client>;
  stop(): Promise<void>;
}

/** Starts the real core in-process on a free loopback port, with a temp data directory and the given config. */
export async function startHarness(config: Record<string, unknown>, options: { home?: string; keepHome?: boolean; clock?: Clock } = {}): Promise<Harness> {
  const home = options.home ? { dir: options.home, remove: () => undefined } : tempHome({ gateway: { port: 0 }, ...config });
  // (A gateway that does not start, a config it refuses, leaves no data directory behind.)
  const gatehouse = await startGatehouse({ dataDir: home.dir, shell: 'headless', ...(options.clock ? { clock: options.clock } : {}) }).catch((err: unknown) => {
    if (!options.keepHome) home.remove();
    throw err;
  });
  const clients: Client[] = [];
  const endpoint = (server: string) => new URL(`${gatehouse.url}/mcp/${server}`);
  return {
    gatehouse,
    home: home.dir,
    endpoint,
    async connect(server, client = new Client({ name: 'harness-client', version: '1.2.3' })) {
      await client.connect(
        new StreamableHTTPClientTransport(endpoint(server), { requestInit: { headers: { authorization: `Bearer ${gatehouse.token}` } }, fetch: abortIsolatingFetch() }),
      );
      clients.push(client);
      return client;
    },
    async stop() {
      await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
      await gatehouse.stop();
      if (!options.keepHome) home.remove();
    },
  };
}

/** Polls `check` until it is true, at most `timeoutMs`; for conditions with no event to wait on. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
}

/** A clock the test moves: timers still run in real time, but `now()` can be pushed forward (grant expiry). */
export class TestClock implements Clock {
  offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  advance(ms: number): void {
    this.offset += ms;
  }
  setTimeout(fn: () => void, ms: number): { cancel(): void } {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  }
}
