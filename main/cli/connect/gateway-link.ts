import { Agent, request, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { idNear } from '../../gateway/upstream/upstream.js';
import type { JSONRPCMessage } from '../../gateway/jsonrpc.js';
import { SseParser } from './sse-parser.js';

/** A message from the gateway: parsed, for the bridge's bookkeeping, and its bytes as one line, to pass on as they came. */
export interface Incoming {
  message: JSONRPCMessage;
  line: Buffer;
}

/**
 * What went wrong talking to the gateway, with what the bridge decides by: `status` (an HTTP answer that is not
 * a success: 404 means the gateway no longer knows the session), `code` (ECONNREFUSED: nothing listened, so the
 * request certainly did not run), and `midway` (the connection broke after the request went out and before its
 * answer was read whole: it may have run).
 */
export class GatewayHttpError extends Error {
  constructor(
    message: string,
    readonly status?: number,
    readonly code?: string,
    readonly midway = false,
  ) {
    super(message);
  }
}

/** How the gateway's answers wait while the client is not reading its stdout. */
export interface Backpressure {
  /** Called after each chunk of an answer is taken: pauses `stream` until the client reads again. */
  throttle(stream: Readable): void;
}

export interface LinkOptions {
  /** `{url}/mcp/{server}` */
  endpoint: URL;
  token: string;
  /** The largest message taken from the gateway; a larger one is dropped and reported. */
  maxMessage: number;
  onMessage(incoming: Incoming): void;
  /** A message from the gateway that was dropped (too large, or not JSON-RPC), with the id it names near its start. */
  onDropped(reason: string, id: string | number | undefined): void;
  /** The standalone stream (server-to-client messages) failed or could not be opened again. */
  onStreamError(error: Error): void;
  backpressure?: Backpressure;
}

// The SDK's defaults for the standalone stream: a second, then 1.5 s, then it gives up until the next session.
const RECONNECT_DELAYS = [1000, 1500];
/** How much of a refusal's body is read, to say what it was. */
const MAX_ERROR_BODY = 64 * 1024;

/**
 * One session with the gateway's Streamable HTTP endpoint over node:http and a keep-alive agent: POST a message
 * (answered 202, `application/json` or an event stream), the standalone GET stream, DELETE. It keeps
 * Mcp-Session-Id and MCP-Protocol-Version as the SDK's client transport does.
 */
export class GatewayLink {
  sessionId: string | undefined;
  protocolVersion: string | undefined;
  // Idle sockets are let go before the gateway's own keep-alive timeout (65 s) could close one under a request.
  private readonly agent = new Agent({ keepAlive: true, timeout: 60_000 });
  private closed = false;
  private streaming = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private retryMs: number | undefined;

  /** Where every request goes, worked out once (a URL given to node:http is converted at every request). */
  private readonly target: { host: string; port: string; path: string };

  constructor(private readonly options: LinkOptions) {
    const { hostname, port, pathname, search } = options.endpoint;
    this.target = { host: hostname, port, path: `${pathname}${search}` };
  }

  get endpoint(): URL {
    return this.options.endpoint;
  }

  private headers(extra: OutgoingHttpHeaders): OutgoingHttpHeaders {
    return {
      authorization: `Bearer ${this.options.token}`,
      ...(this.sessionId ? { 'mcp-session-id': this.sessionId } : {}),
      ...(this.protocolVersion ? { 'mcp-protocol-version': this.protocolVersion } : {}),
      ...extra,
    };
  }

  /** Sends one message (its bytes as the client wrote them); resolves once its answer has been read to the end. */
  post(body: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (err?: Error) => {
        if (settled) return;
        settled = true;
        if (err) reject(err);
        else resolve();
      };
      const req = request(
        { ...this.target, method: 'POST', agent: this.agent, headers: this.headers({ 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'content-length': body.length }) },
        (res) => {
          const session = res.headers['mcp-session-id'];
          if (typeof session === 'string' && session) this.sessionId = session;
          const status = res.statusCode ?? 0;
          const broken = () => new GatewayHttpError('the connection to the gateway broke while its answer was being read', status, 'ECONNRESET', true);
          res.once('error', () => settle(broken()));
          // (Each way of reading the answer settles at its end; a close before the end is a break.)
          res.once('close', () => !res.complete && settle(broken()));
          if (status < 200 || status >= 300) {
            return void readText(res).then((text) => settle(new GatewayHttpError(`Error POSTing to endpoint: ${text || res.statusMessage || status}`, status)));
          }
          const type = (res.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
          if (status === 202 || type === undefined || type === '') return void res.resume().once('end', () => settle());
          if (type === 'text/event-stream') return this.readStream(res, () => settle());
          if (type === 'application/json') return this.readJson(res, settle);
          res.resume();
          settle(new GatewayHttpError(`Unexpected content type: ${res.headers['content-type'] ?? ''}`, status));
        },
      );
      req.once('error', (err: NodeJS.ErrnoException) => settle(socketError(err)));
      req.end(body);
    });
  }

  /** Opens the standalone GET stream, for messages of the server that answer no request (405: the gateway has none). */
  openStream(attempt = 0): void {
    if (this.closed || this.streaming) return;
    this.streaming = true;
    const again = (err: Error) => {
      this.streaming = false;
      if (this.closed) return;
      this.options.onStreamError(err);
      const delay = this.retryMs ?? RECONNECT_DELAYS[attempt];
      if (delay === undefined) return this.options.onStreamError(new Error(`Maximum reconnection attempts (${RECONNECT_DELAYS.length}) exceeded.`));
      this.reconnectTimer = setTimeout(() => this.openStream(attempt + 1), delay);
      this.reconnectTimer.unref();
    };
    const req = request({ ...this.target, method: 'GET', agent: this.agent, headers: this.headers({ accept: 'text/event-stream' }) }, (res) => {
      const status = res.statusCode ?? 0;
      if (status === 405) {
        res.resume();
        return;
      }
      if (status !== 200) {
        return void readText(res).then((text) => {
          this.streaming = false;
          if (!this.closed) this.options.onStreamError(new GatewayHttpError(`Failed to open SSE stream: ${text || res.statusMessage || status}`, status));
        });
      }
      let ended = false;
      const end = () => {
        if (ended) return;
        ended = true;
        again(new Error('SSE stream disconnected: the gateway ended the stream'));
      };
      res.once('error', end);
      res.once('close', end);
      this.readStream(res, end);
    });
    req.once('error', (err: NodeJS.ErrnoException) => again(new Error(`SSE stream disconnected: ${socketError(err).message}`)));
    req.end();
  }

  /** Ends the session at the gateway (DELETE); resolves when answered or failed. */
  terminate(): Promise<void> {
    if (!this.sessionId || this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const req = request({ ...this.target, method: 'DELETE', agent: this.agent, headers: this.headers({}) }, (res) => {
        res.resume().once('end', () => resolve());
        res.once('close', () => resolve());
      });
      req.once('error', () => resolve());
      req.end();
    });
  }

  /** Lets go of every connection, streams and requests in flight with them. */
  close(): void {
    this.closed = true;
    clearTimeout(this.reconnectTimer);
    this.agent.destroy();
  }

  private readJson(res: IncomingMessage, settle: (err?: Error) => void): void {
    const declared = Number(res.headers['content-length']);
    const tooLarge = (size: number | undefined) => {
      res.destroy();
      settle(new GatewayHttpError(`the gateway's answer is too large: ${size === undefined ? 'more than' : `${size} bytes, over`} ${this.options.maxMessage} bytes`, res.statusCode, 'TOO_LARGE'));
    };
    if (declared > this.options.maxMessage) return tooLarge(declared);
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.options.maxMessage) return tooLarge(undefined);
      parts.push(chunk);
      this.options.backpressure?.throttle(res);
    });
    res.once('end', () => {
      const body = parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, size);
      const decoded = decode(body);
      if (typeof decoded === 'string') return settle(new GatewayHttpError(`the gateway's answer is not a JSON-RPC message: ${decoded}`, res.statusCode, 'MALFORMED'));
      for (const incoming of decoded) this.options.onMessage(incoming);
      settle();
    });
  }

  private readStream(res: IncomingMessage, onEnd: () => void): void {
    const parser = new SseParser(
      this.options.maxMessage,
      ({ event, data }) => {
        if (event !== 'message' || data.length === 0) return; // (as the SDK's client: an event without data carries nothing)
        const decoded = decode(data);
        if (typeof decoded === 'string') return this.options.onDropped(`the gateway sent an event that is not a JSON-RPC message: ${decoded}`, idNear(data.toString('utf8', 0, 512)));
        for (const incoming of decoded) this.options.onMessage(incoming);
      },
      (head, size) => this.options.onDropped(`the gateway sent a message of ${size} bytes, over the shim's limit of ${this.options.maxMessage}; it was dropped`, idNear(head)),
      (ms) => (this.retryMs = ms),
    );
    res.on('data', (chunk: Buffer) => {
      parser.push(chunk);
      this.options.backpressure?.throttle(res);
    });
    res.once('end', () => {
      parser.end();
      onEnd();
    });
  }
}

/** An error of the request itself: refused (nothing was there), or the connection broke with the request on it. */
function socketError(err: NodeJS.ErrnoException): GatewayHttpError {
  if (err instanceof GatewayHttpError) return err;
  const refused = err.code === 'ECONNREFUSED';
  return new GatewayHttpError(refused ? `the gateway refused the connection (${err.message})` : err.message, undefined, err.code, !refused);
}

function readText(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    let size = 0;
    res.on('data', (chunk: Buffer) => {
      if (size < MAX_ERROR_BODY) parts.push(chunk);
      size += chunk.length;
    });
    const done = () => resolve(Buffer.concat(parts).toString('utf8', 0, MAX_ERROR_BODY).trim());
    res.once('end', done);
    res.once('error', done);
  });
}

/**
 * The messages in a JSON body or an event's data, or why there are none. A message's bytes are passed on as they
 * came; a line break in them can only be whitespace between tokens (the text parsed), and becomes a space.
 */
export function decode(bytes: Buffer): Incoming[] | string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    return (err as Error).message;
  }
  const isMessage = (m: unknown): m is JSONRPCMessage => typeof m === 'object' && m !== null && !Array.isArray(m);
  if (Array.isArray(parsed)) {
    if (!parsed.every(isMessage)) return 'a batch holds something other than messages';
    return parsed.map((message) => ({ message, line: Buffer.from(JSON.stringify(message)) }));
  }
  if (!isMessage(parsed)) return 'not an object';
  return [{ message: parsed, line: oneLine(bytes) }];
}

function oneLine(bytes: Buffer): Buffer {
  if (bytes.indexOf(10) === -1 && bytes.indexOf(13) === -1) return bytes;
  const copy = Buffer.from(bytes);
  for (let i = copy.indexOf(10); i !== -1; i = copy.indexOf(10, i + 1)) copy[i] = 32;
  for (let i = copy.indexOf(13); i !== -1; i = copy.indexOf(13, i + 1)) copy[i] = 32;
  return copy;
}
