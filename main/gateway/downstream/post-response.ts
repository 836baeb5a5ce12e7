import type { ServerResponse } from 'node:http';
import type { JSONRPCMessage } from '../jsonrpc.js';
import type { ClientSink } from '../sink.js';

/**
 * The HTTP response to one POST that carried requests. It decides its shape lazily: when the only thing the
 * upstream sends back is the response, it goes out as plain `application/json` (the fast path); as soon as
 * anything related comes first (progress, logging, a sampling or elicitation request), the response becomes
 * an SSE stream that carries those messages and then the response, as the Streamable HTTP transport allows.
 */
export class PostResponse implements ClientSink {
  private readonly pending: Set<string>;
  private mode: 'undecided' | 'json' | 'sse' = 'undecided';

  constructor(
    private readonly res: ServerResponse,
    private readonly headers: Record<string, string>,
    requestKeys: readonly string[],
  ) {
    this.pending = new Set(requestKeys);
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  deliver(message: JSONRPCMessage, answers?: string): void {
    if (!this.open) return;
    if (answers !== undefined) this.pending.delete(answers);
    const body = JSON.stringify(message);
    if (this.mode === 'undecided' && answers !== undefined && this.pending.size === 0) {
      this.mode = 'json';
      this.res.writeHead(200, { ...this.headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      this.res.end(body);
      return;
    }
    this.startStream();
    this.res.write(`event: message\ndata: ${body}\n\n`);
    if (this.pending.size === 0) this.res.end();
  }

  abandon(key: string): void {
    this.pending.delete(key);
    if (this.pending.size === 0 && this.open) {
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
