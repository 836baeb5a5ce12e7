import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage } from '../jsonrpc.js';
import type { ClientSink } from '../sink.js';
import { writeBounded, type StreamBound } from './bounded-write.js';

/**
 * The HTTP response to one POST that carried requests. It decides its shape lazily: when the only thing the
 * upstream sends back is the response, it goes out as plain `application/json` (the fast path); as soon as
 * anything related comes first (progress, logging, a sampling or elicitation request), the response becomes
 * an SSE stream that carries those messages and then the response, as the Streamable HTTP transport allows.
 */
export class PostResponse implements ClientSink {
  /** Answers still owed, by request id key: a count, since a batch may reuse an id after cancelling it. */
  private readonly pending = new Map<string, number>();
  private owed = 0;
  private mode: 'undecided' | 'json' | 'sse' = 'undecided';

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    requestKeys: readonly string[],
    private readonly bound?: StreamBound,
  ) {
    for (const key of requestKeys) this.pending.set(key, (this.pending.get(key) ?? 0) + 1);
    this.owed = requestKeys.length;
  }

  private settle(key: string): void {
    const left = this.pending.get(key);
    if (left === undefined) return;
    this.owed--;
    if (left > 1) this.pending.set(key, left - 1);
    else this.pending.delete(key);
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  deliver(message: JSONRPCMessage, answers?: string): void {
    if (!this.open) return;
    if (answers !== undefined) this.settle(answers);
    const body = JSON.stringify(message);
    if (this.mode === 'undecided' && answers !== undefined && this.owed === 0) {
      this.mode = 'json';
      this.res.writeHead(200, { ...this.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      this.res.end(body);
      return;
    }
    this.startStream();
    if (writeBounded(this.res, `event: message\ndata: ${body}\n\n`, this.bound) && this.owed === 0) this.res.end();
  }

  abandon(key: string): void {
    this.settle(key);
    if (this.owed === 0 && this.open) {
      this.startStream();
      this.res.end();
    }
  }

  private startStream(): void {
    if (this.mode !== 'undecided') return;
    this.mode = 'sse';
    this.res.writeHead(200, { ...this.headers, 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform' });
    this.res.flushHeaders();
  }
}
