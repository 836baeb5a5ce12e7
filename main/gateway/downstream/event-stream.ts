import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage } from '../jsonrpc.js';
import type { ClientSink } from '../sink.js';
import { writeBounded, type StreamBound } from './bounded-write.js';

const KEEPALIVE_MS = 25_000;

/** The session's standalone SSE stream (the client's GET), for server messages unrelated to a request. */
export class EventStream implements ClientSink {
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    private readonly res: ServerResponse,
    headers: Record<string, string>,
    private readonly bound?: StreamBound,
  ) {
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
    res.flushHeaders();
    // A comment line keeps proxies and idle timers from closing a quiet stream.
    this.keepalive = setInterval(() => this.open && res.write(': keepalive\n\n'), KEEPALIVE_MS).unref();
    res.on('close', () => clearInterval(this.keepalive));
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  deliver(message: JSONRPCMessage): void {
    if (this.open) writeBounded(this.res, `event: message\ndata: ${JSON.stringify(message)}\n\n`, this.bound);
  }

  abandon(): void {
    clearInterval(this.keepalive);
    if (this.open) this.res.end();
  }
}
