import { randomUUID } from 'node:crypto';
import type { GatewayEvents } from './events.js';
import {
  errorResponse,
  GatewayErrorCode,
  idKey,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from './jsonrpc.js';
import { InterceptorError, runPipeline, type Direction, type Interceptor, type MessageContext, type Verdict } from './pipeline.js';
import type { ClientSink } from './sink.js';
import type { Upstream } from './upstream/upstream.js';

/** Server messages with no open stream to carry them wait here for the client's GET stream (oldest dropped first). */
const BACKLOG_LIMIT = 1000;

interface InFlight {
  sink: ClientSink;
  progressKey?: string;
}

/**
 * One client session: a downstream client paired with its own upstream connection. Messages are forwarded
 * raw in both directions through the interceptor pipeline; the session only routes them — responses to the
 * stream their request came on, progress to the stream of the request that owns the token, and other
 * server-initiated messages to the newest open request stream, else the GET stream.
 */
export class GatewaySession {
  readonly id = randomUUID();
  readonly startedAt = Date.now();
  lastActivity = Date.now();
  client: { name?: string; version?: string } = {};
  /** What the client declared in initialize (elicitation, sampling, roots…). */
  clientCapabilities: Record<string, unknown> = {};
  protocolVersion: string | undefined;

  private readonly inflight = new Map<string, InFlight>();
  private readonly progress = new Map<string, string>();
  private standalone: ClientSink | undefined;
  private backlog: JSONRPCMessage[] = [];
  private closed = false;
  private closeReason = '';
  private initializeKey: string | undefined;
  /** Requests Gatehouse itself sent the client (elicitation for an approval), by id key. */
  private readonly ownRequests = new Map<string, { resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  private ownRequestSeq = 0;
  private readonly contexts: Record<Direction, MessageContext>;
  private readonly gatewayContexts: Record<Direction, MessageContext>;
  /** Called once when the session ends, for whatever reason. */
  onclose: ((reason: string) => void) | undefined;

  constructor(
    readonly server: string,
    private readonly upstream: Upstream,
    private readonly interceptors: () => readonly Interceptor[],
    private readonly events: GatewayEvents,
  ) {
    const base = { sessionId: this.id, server, client: this.client, notifyClient: (m: JSONRPCMessage) => this.toClient(m) };
    this.contexts = {
      'client->server': { ...base, direction: 'client->server', origin: 'peer' },
      'server->client': { ...base, direction: 'server->client', origin: 'peer' },
    };
    this.gatewayContexts = {
      'client->server': { ...base, direction: 'client->server', origin: 'gatehouse' },
      'server->client': { ...base, direction: 'server->client', origin: 'gatehouse' },
    };
    upstream.onmessage = (message) => this.fromUpstream(message);
    upstream.onclose = () => {
      const reason = upstream.closeReason() || `upstream server "${server}" closed the connection`;
      this.events.emit('upstream-exit', { sessionId: this.id, server, reason });
      void this.close(reason);
    };
    upstream.onerror = (error) => this.events.emit('warning', { sessionId: this.id, server, message: error.message });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  get upstreamKind(): string {
    return this.upstream.kind;
  }

  /** Whether a client is still attached in some way (a request in flight or a GET stream open). */
  get isBusy(): boolean {
    for (const entry of this.inflight.values()) if (entry.sink.open) return true;
    return this.standalone?.open ?? false;
  }

  async start(): Promise<void> {
    await this.upstream.start();
    this.events.emit('upstream-start', {
      sessionId: this.id,
      server: this.server,
      kind: this.upstream.kind,
      pid: (this.upstream as { pid?: number | null }).pid,
    });
  }

  /** A message from the client. Requests must come with the sink their response goes to. */
  fromClient(message: JSONRPCMessage, sink?: ClientSink): void {
    this.lastActivity = Date.now();
    if (isResponse(message)) {
      const own = this.ownRequests.get(idKey(message.id as string | number));
      if (own) {
        // The answer to Gatehouse's own request: it stays here.
        this.ownRequests.delete(idKey(message.id as string | number));
        if ('result' in message) own.resolve(message.result);
        else own.reject(new Error((message as { error?: { message?: string } }).error?.message ?? 'the client refused'));
        return;
      }
    }
    if (isJSONRPCRequest(message)) {
      if (!sink) throw new Error('a request needs a sink for its response');
      this.track(message, sink);
    } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: string | number } | undefined)?.requestId;
      if (requestId !== undefined) this.untrack(idKey(requestId))?.sink.abandon(idKey(requestId));
    }
    if (this.closed) {
      if (isJSONRPCRequest(message)) this.toClient(errorResponse(message.id, GatewayErrorCode.UpstreamClosed, this.closeReason));
      return;
    }
    this.settle(message, 'client->server', runSafely(this.interceptors(), message, this.contexts['client->server']));
  }

  /** Sends the client a request of Gatehouse's own (not the server's) and resolves with its result. */
  requestClient(method: string, params: Record<string, unknown>): { id: string; result: Promise<unknown> } {
    const id = `gatehouse-${this.id.slice(0, 8)}-${++this.ownRequestSeq}`;
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.closed) return reject(new Error('the session has ended'));
      this.ownRequests.set(idKey(id), { resolve, reject });
      this.toClient({ jsonrpc: '2.0', id, method, params });
    });
    return { id, result };
  }

  /** Withdraws a request of Gatehouse's own (someone else decided first). */
  cancelClientRequest(id: string, reason: string): void {
    const own = this.ownRequests.get(idKey(id));
    if (!own) return;
    this.ownRequests.delete(idKey(id));
    own.reject(new Error(reason));
    this.toClient({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
  }

  /** Whether the client's GET stream is open (only one is allowed per session). */
  get hasStream(): boolean {
    return this.standalone?.open ?? false;
  }

  /** Attaches the client's GET stream and sends it what waited for one. */
  attachStream(sink: ClientSink): void {
    this.standalone = sink;
    this.lastActivity = Date.now();
    const waiting = this.backlog;
    this.backlog = [];
    for (const message of waiting) sink.deliver(message);
  }

  /** Ends the session: in-flight requests are answered with an error, the upstream is terminated. */
  async close(reason: string): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closeReason = reason;
    for (const [key, entry] of [...this.inflight]) {
      this.untrack(key);
      const id = parseKey(key);
      entry.sink.deliver(errorResponse(id, GatewayErrorCode.UpstreamClosed, reason), key);
    }
    this.standalone?.abandon('');
    for (const own of this.ownRequests.values()) own.reject(new Error(reason));
    this.ownRequests.clear();
    this.onclose?.(reason);
    this.events.emit('session-end', { sessionId: this.id, server: this.server, reason, at: Date.now() });
    await this.upstream.terminate().catch(() => undefined);
  }

  private fromUpstream(message: JSONRPCMessage): void {
    this.lastActivity = Date.now();
    this.settle(message, 'server->client', runSafely(this.interceptors(), message, this.contexts['server->client']));
  }

  private settle(message: JSONRPCMessage, direction: Direction, verdict: Verdict | Promise<Verdict>, synthetic = false): void {
    if (verdict instanceof Promise) {
      verdict.then(
        (v) => this.apply(message, direction, v, synthetic),
        (err: unknown) => this.apply(message, direction, failClosed(message, err), synthetic),
      );
    } else {
      this.apply(message, direction, verdict, synthetic);
    }
  }

  private apply(original: JSONRPCMessage, direction: Direction, verdict: Verdict, synthetic: boolean): void {
    const toUpstream = direction === 'client->server';
    switch (verdict.action) {
      case 'forward':
        if (toUpstream) this.toUpstream(verdict.message);
        else this.toClient(verdict.message);
        return;
      case 'respond': {
        // Gatehouse's own answer travels back through the pipeline like any answer (recorded, masked),
        // marked as coming from Gatehouse. An answer to an answer is not asked for twice: it goes straight out.
        if (synthetic) {
          if (toUpstream) this.toClient(verdict.message);
          else this.toUpstream(verdict.message);
          return;
        }
        const back: Direction = toUpstream ? 'server->client' : 'client->server';
        this.settle(verdict.message, back, runSafely(this.interceptors(), verdict.message, this.gatewayContexts[back]), true);
        return;
      }
      case 'drop':
        // A dropped request still needs an answer, or its sender would wait forever.
        if (isJSONRPCRequest(original)) {
          const answer = errorResponse(original.id, GatewayErrorCode.InterceptorFailed, `Gatehouse dropped this request: ${verdict.reason}`);
          if (toUpstream) this.toClient(answer);
          else this.toUpstream(answer);
        }
        return;
    }
  }

  private toUpstream(message: JSONRPCMessage): void {
    if (this.closed) {
      if (isJSONRPCRequest(message)) this.toClient(errorResponse(message.id, GatewayErrorCode.UpstreamClosed, this.closeReason));
      return;
    }
    this.upstream.send(message).catch((err: unknown) => {
      const reason = err instanceof Error ? err.message : String(err);
      this.events.emit('warning', { sessionId: this.id, server: this.server, message: reason });
      if (isJSONRPCRequest(message)) this.toClient(errorResponse(message.id, GatewayErrorCode.UpstreamUnavailable, reason));
    });
  }

  private toClient(message: JSONRPCMessage): void {
    if (isResponse(message)) {
      const key = idKey(message.id as string | number);
      const entry = this.untrack(key);
      if (key === this.initializeKey) this.noteNegotiated(message);
      if (entry) entry.sink.deliver(message, key);
      // Otherwise the request was cancelled or its stream is gone: the response has nowhere to go.
      return;
    }
    const sink = this.relatedSink(message);
    if (sink) sink.deliver(message);
    else this.queue(message);
  }

  /**
   * Where a server-initiated message goes. Progress goes to the stream of the request that owns its token.
   * A request of the server's (sampling, elicitation, roots) goes to the newest open request stream, as the
   * SDK's servers relate them. Other notifications (list changes, logging, resource updates) prefer the GET
   * stream, so that a plain JSON answer stays plain; without one they ride the newest request stream.
   */
  private relatedSink(message: JSONRPCMessage): ClientSink | undefined {
    const standalone = this.standalone?.open ? this.standalone : undefined;
    if (isJSONRPCNotification(message)) {
      if (message.method === 'notifications/progress') {
        const token = (message.params as { progressToken?: string | number } | undefined)?.progressToken;
        const owner = token === undefined ? undefined : this.progress.get(idKey(token));
        const sink = owner === undefined ? undefined : this.inflight.get(owner)?.sink;
        if (sink?.open) return sink;
      }
      if (standalone) return standalone;
    }
    let newest: ClientSink | undefined;
    for (const entry of this.inflight.values()) if (entry.sink.open) newest = entry.sink;
    return newest ?? standalone;
  }

  private queue(message: JSONRPCMessage): void {
    this.backlog.push(message);
    if (this.backlog.length > BACKLOG_LIMIT) this.backlog.shift();
  }

  private track(request: JSONRPCRequest, sink: ClientSink): void {
    const key = idKey(request.id);
    const token = (request.params?._meta as { progressToken?: string | number } | undefined)?.progressToken;
    const entry: InFlight = { sink };
    if (token !== undefined) {
      entry.progressKey = idKey(token);
      this.progress.set(entry.progressKey, key);
    }
    this.inflight.set(key, entry);
    if (request.method === 'initialize') {
      this.initializeKey = key;
      this.noteInitialize(request);
    }
  }

  private untrack(key: string): InFlight | undefined {
    const entry = this.inflight.get(key);
    if (!entry) return undefined;
    this.inflight.delete(key);
    if (entry.progressKey !== undefined) this.progress.delete(entry.progressKey);
    return entry;
  }

  private noteInitialize(request: JSONRPCRequest): void {
    const params = request.params as { clientInfo?: { name?: unknown; version?: unknown }; protocolVersion?: unknown; capabilities?: unknown } | undefined;
    if (params?.capabilities && typeof params.capabilities === 'object') this.clientCapabilities = params.capabilities as Record<string, unknown>;
    const info = params?.clientInfo;
    if (typeof info?.name === 'string') this.client.name = info.name;
    if (typeof info?.version === 'string') this.client.version = info.version;
  }

  private noteNegotiated(response: JSONRPCMessage): void {
    this.initializeKey = undefined;
    const version = 'result' in response ? (response.result as { protocolVersion?: unknown }).protocolVersion : undefined;
    if (typeof version === 'string') this.protocolVersion = version;
    this.events.emit('session-initialized', {
      sessionId: this.id,
      server: this.server,
      client: { ...this.client },
      ...(this.protocolVersion ? { protocolVersion: this.protocolVersion } : {}),
    });
  }
}

function runSafely(interceptors: readonly Interceptor[], message: JSONRPCMessage, context: MessageContext): Verdict | Promise<Verdict> {
  try {
    return runPipeline(interceptors, message, context);
  } catch (err) {
    return failClosed(message, err);
  }
}

/** An interceptor failed: a request is answered with an error naming it; anything else is dropped. */
function failClosed(message: JSONRPCMessage, err: unknown): Verdict {
  const reason = err instanceof InterceptorError ? err.message : `pipeline failed: ${String(err)}`;
  if (isJSONRPCRequest(message)) {
    return { action: 'respond', message: errorResponse(message.id, GatewayErrorCode.InterceptorFailed, `Gatehouse refused this request: ${reason}`) };
  }
  return { action: 'drop', reason };
}

function parseKey(key: string): string | number {
  return key.startsWith('n:') ? Number(key.slice(2)) : key.slice(2);
}
