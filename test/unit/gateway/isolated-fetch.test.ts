import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { getEventListeners } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { abortIsolatingFetch } from '../../../main/gateway/isolated-fetch.js';

describe('abortIsolatingFetch', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/sse') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        res.write('event: message\ndata: {}\n\n');
        return; // stays open until aborted
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));

  it('leaves no listeners on the shared signal after many requests', async () => {
    const shared = new AbortController();
    const isolated = abortIsolatingFetch();
    for (let i = 0; i < 300; i++) {
      const res = await isolated(`${url}/json`, { signal: shared.signal });
      expect(await res.json()).toEqual({ ok: true });
    }
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(0);
  });

  it('aborting the shared signal still cancels an open event stream', async () => {
    const shared = new AbortController();
    const res = await abortIsolatingFetch()(`${url}/sse`, { signal: shared.signal });
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    await reader.read();
    expect(getEventListeners(shared.signal, 'abort')).toHaveLength(1);
    shared.abort(new Error('transport closed'));
    await expect(reader.read()).rejects.toThrow();
  });
});
