import type { Readable, Writable } from 'node:stream';
import { LineSplitter } from '../../gateway/line-splitter.js';
import type { JSONRPCMessage } from '../../gateway/jsonrpc.js';
import { idNear } from '../../gateway/upstream/upstream.js';
import type { Backpressure } from './gateway-link.js';

export interface ClientStdioHandlers {
  /** A message from the client, parsed, with the bytes it came as (a trailing CR removed). */
  onMessage(message: JSONRPCMessage, bytes: Buffer): void;
  /** A line that was dropped: too large, or not a JSON-RPC message; with the id it names near its start, if any. */
  onDropped(reason: string, id: string | number | undefined): void;
  /** The end of the client's input. */
  onEnd(): void;
  /** The client stopped reading (EPIPE on stdout): nothing more can reach it. */
  onGone(): void;
}

const NL = Buffer.from('\n');
/** Below this, a line and its newline go out as one copied buffer; above, as two writes, uncopied. */
const COPY_BELOW = 64 * 1024;

/**
 * The client's side of the shim: newline-delimited JSON-RPC on stdin and stdout. Each line is parsed once (the
 * bridge reads its id and method) and passed on as the bytes it came as; what goes to stdout respects
 * back-pressure, holding the gateway's answers while the client does not read.
 */
export class ClientStdio implements Backpressure {
  private readonly splitter: LineSplitter;
  private congested = false;
  private readonly held = new Set<Readable>();
  private readonly onData = (chunk: Buffer) => this.splitter.push(chunk);
  private ended = false;
  private readonly onEnd = () => {
    if (this.ended) return;
    this.ended = true;
    this.splitter.end();
    this.handlers.onEnd();
  };
  private readonly onDrain = () => {
    this.congested = false;
    for (const stream of this.held) stream.resume();
    this.held.clear();
  };
  private readonly onOutError = (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.handlers.onGone();
  };

  constructor(
    private readonly stdin: Readable,
    private readonly stdout: Writable,
    maxLine: number,
    private readonly handlers: ClientStdioHandlers,
  ) {
    this.splitter = new LineSplitter(
      maxLine,
      (line) => this.line(line),
      (head, size) => handlers.onDropped(`a message of ${size} bytes from the client, over the shim's limit of ${maxLine} bytes, was dropped`, idNear(head)),
    );
  }

  start(): void {
    this.stdin.on('data', this.onData);
    this.stdin.once('end', this.onEnd);
    // (A read that fails ends the input as its end does: what was asked is still answered.)
    this.stdin.on('error', this.onEnd);
    this.stdout.on('drain', this.onDrain);
    this.stdout.on('error', this.onOutError);
  }

  /** Writes one message's bytes (a line, no newline in it) to the client. */
  writeLine(line: Buffer): void {
    let ok: boolean;
    if (line.length < COPY_BELOW) {
      ok = this.stdout.write(Buffer.concat([line, NL], line.length + 1));
    } else {
      this.stdout.cork();
      this.stdout.write(line);
      ok = this.stdout.write(NL);
      this.stdout.uncork();
    }
    if (!ok) this.congested = true;
  }

  /** Writes a message the shim makes itself (its own error answers). */
  send(message: JSONRPCMessage): void {
    this.writeLine(Buffer.from(JSON.stringify(message)));
  }

  throttle(stream: Readable): void {
    if (!this.congested) return;
    stream.pause();
    this.held.add(stream);
  }

  /** Stops reading the client's input (the bridge ends). */
  close(): void {
    this.stdin.off('data', this.onData);
    this.stdin.off('end', this.onEnd); // (the error listener stays: a late error must not throw)
    this.stdin.pause();
    this.splitter.clear();
    this.onDrain();
  }

  private line(bytes: Buffer): void {
    let message: unknown;
    try {
      message = JSON.parse(bytes.toString('utf8'));
    } catch (err) {
      return this.handlers.onDropped(`a line from the client is not JSON (${(err as Error).message}); it was dropped`, idNear(bytes.toString('utf8', 0, 512)));
    }
    if (typeof message !== 'object' || message === null || Array.isArray(message)) {
      return this.handlers.onDropped('a line from the client is not a JSON-RPC message (an object); it was dropped', undefined);
    }
    this.handlers.onMessage(message as JSONRPCMessage, bytes);
  }
}
