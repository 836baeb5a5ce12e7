import { randomUUID } from 'node:crypto';
import type { GatewayEvents } from './events.js';
import {
  GatewayErrorCode,
  idKey,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isResponse,
  type JSONRPCMessage,
  type JSONRPCRequest,
} from './jsonrpc.js';
import type { CallPath, PathSession, PendingRequest } from './call-path.js';
import { CapacityError, NotSentError } from './capacity-error.js';
import type { ClientSink } from './sink.js';
import type { Upstream } from './upstream/upstream.js';

/** Server messages with no open stream to carry them wait here for the client's GET stream (oldest dropped first). */
const BACKLOG_LIMIT = 1000;

/** How a session's server can be put to sleep and woken: a new upstream, and room for it under the cap. */
export interface UpstreamRestart {
  make(): Upstream;
  /** Makes room for one more live server process (putting another session's to sleep), or throws CapacityError. */
  room(waking: GatewaySession): Promise<void>;
}

interface InFlight extends PendingRequest {
  sink: ClientSink;
  progressKey?: string;
  /** How long the upstream may take to answer (or to send progress), and what happens when it does not. */
  deadline?: { ms: number; fire: () => void; timer: NodeJS.Timeout };
}

/**
 * One client session: a downstream client paired with its own upstream connection. What happens to each
 * message is the call path's (call-path.ts); the session only routes — responses to the stream their
 * request came on, progress to the stream of the request that owns the token, and other server-initiated
 * messages to the newest open request stream, else the GET stream.
 */
export class GatewaySession implements PathSession {
  readonly id = randomUUID();
  readonly startedAt = Date.now();
  lastActivity = Date.now();
  client: { name?: string; version?: string; /** The OAuth client (its id) that opened the session, when one did: on every record. */ registration?: string } = {};
  /** What the client declared in initialize (elicitation, sampling, roots…). */
  clientCapabilities: Record<string, unknown> = {};
  protocolVersion: string | undefined;

  private readonly inflight = new Map<string, InFlight>();
  private readonly progress = new Map<string, string>();
  private standalone: ClientSink | undefined;
  private backlog: JSONRPCMessage[] = [];
  private closed = false;
  private processAtClose = false;
  /** Set when the session starts to end: new requests are refused while answers already on their way are delivered. */
  private ending: Promise<void> | undefined;
  private clientDone: Promise<void> | undefined;
  private closeReason = '';
  private initializeKey: string | undefined;
  /** Requests Gatehouse itself sent the client (elicitation for an approval), by id key. */
  private readonly ownRequests = new Map<string, { method: string; resolve: (result: unknown) => void; reject: (error: Error) => void }>();
  private ownRequestSeq = 0;
  /** Called once when the session ends, for whatever reason. */
  onclose: ((reason: string) => void) | undefined;
  /** The client's handshake as it went to the server, replayed when a sleeping server is woken. */
  private readonly handshake: { initialize?: JSONRPCRequest; initialized?: JSONRPCMessage } = {};
  private sleeping = false;
  private waking: Promise<void> | undefined;
  private wakes = 0;
  /** The replayed initialize's id while its answer (the gateway's own, never the client's) is awaited. */
  private replay: { id: string; done: (answer: JSONRPCMessage) => void; fail: (error: Error) => void } | undefined;
  /** A sleeping server's process until it has really exited (it counts against the cap until then). */
  private stopping: Promise<void> | undefined;
  /** Requests of the client's waiting behind a wake: they have not reached the server. */
  private readonly behindWake = new Set<string>();
  /** Requests the server sent the client (sampling, elicitation, roots) still waiting for the client's answer. */
  private readonly serverRequests = new Set<string>();
  /** When the server last did something or was asked something (what "least recently used" means for sleep). */
  lastUsed = Date.now();

  constructor(
    readonly server: string,
    private upstream: Upstream,
    private readonly path: CallPath,
    private readonly events: GatewayEvents,
    private readonly restart?: UpstreamRestart,
  ) {
    this.attach(upstream);
  }

  private attach(upstream: Upstream): void {
    upstream.onmessage = (message) => {
      if (upstream !== this.upstream) return;
      this.lastActivity = this.lastUsed = Date.now();
      if (this.replay && isResponse(message) && String(message.id) === this.replay.id) return this.replay.done(message);
      if (isJSONRPCNotification(message) && message.method === 'notifications/progress') this.progressed(message);
      this.path.fromServer(this, message);
    };
    upstream.onclose = () => {
      if (upstream !== this.upstream) return;
      if (this.replay) return this.replay.fail(new Error(this.path.maskText(upstream.closeReason() || `upstream server "${this.server}" closed the connection`)));
      if (this.sleeping) return; // a server put to sleep ends on purpose
      // Masked here, once: the reason quotes the server's stderr, and reaches the client, the log and the console.
      const reason = this.path.maskText(upstream.closeReason() || `upstream server "${this.server}" closed the connection`);
      this.events.emit('upstream-exit', { sessionId: this.id, server: this.server, reason });
      void this.close(reason);
    };
    upstream.onerror = (error) => upstream === this.upstream && this.events.emit('warning', { sessionId: this.id, server: this.server, message: error.message });
    upstream.onmalformed = (id, reason) => upstream === this.upstream && this.path.malformedFromServer(this, id, reason);
  }

  /** Whether the session's server process is asleep (stopped, to be started again by the next request). */
  get asleep(): boolean {
    return this.sleeping;
  }

  /** Whether the session holds a live server process (what the cap on them counts). */
  get holdsProcess(): boolean {
    return this.upstream.kind === 'stdio' && (!this.sleeping || this.waking !== undefined || this.stopping !== undefined) && !(this.closed && this.stopping === undefined);
  }

  /**
   * Once closed: until its stdio server's process has exited, when it had one running (a DELETE is answered
   * before that, and the process still counts under gateway.maxLiveServers until it is gone).
   */
  get closing(): Promise<void> | undefined {
    return this.processAtClose ? this.ending : undefined;
  }

  /** Until a sleeping server's process has exited (undefined when none is exiting). */
  get exiting(): Promise<void> | undefined {
    return this.stopping;
  }

  /**
   * Whether the server could be put to sleep now: it can be woken, and no request of the client's waits on it.
   * A quiet client also has no open stream; under the cap on live processes (`evenWithStream`) a stream left
   * open by an idle client does not keep its server awake.
   */
  sleepable(evenWithStream = false): boolean {
    if (this.restart === undefined || this.upstream.kind !== 'stdio' || this.sleeping || this.waking || this.ending) return false;
    if (this.handshake.initialize === undefined || this.initializeKey !== undefined || this.ownRequests.size > 0 || this.serverRequests.size > 0) return false;
    for (const entry of this.inflight.values()) if (entry.sink.open) return false;
    return evenWithStream || !(this.standalone?.open ?? false);
  }

  /**
   * Stops the server process of a session whose client has gone quiet; the session stays, and its next request
   * starts the server again with the client's own handshake replayed (see wake). False if it could not sleep now.
   */
  async sleep(reason: string, evenWithStream = false): Promise<boolean> {
    if (!this.sleepable(evenWithStream)) return false;
    this.sleeping = true;
    this.events.emit('upstream-sleep', { sessionId: this.id, server: this.server, reason });
    // Counted as live until the process has exited (a server slow to stop is still a process).
    const stopping = (this.stopping = this.upstream.terminate().catch(() => undefined));
    await stopping;
    if (this.stopping === stopping) this.stopping = undefined;
    return true;
  }

  /** Starts a sleeping session's server again and replays the client's initialize and initialized to it. */
  private wake(): Promise<void> {
    const restart = this.restart as UpstreamRestart;
    this.waking ??= (async () => {
      const ended = () => {
        if (this.ending) throw new NotSentError(this.closeReason || 'the session ended while its server was being woken');
      };
      try {
        await this.stopping;
        await restart.room(this);
        ended();
        const upstream = restart.make();
        this.upstream = upstream;
        this.attach(upstream);
        await this.start();
        ended();
        const replayed: string[] = [];
        const init = this.handshake.initialize;
        if (init) {
          const id = `gatehouse-wake-${this.id.slice(0, 8)}-${++this.wakes}`;
          const answered = new Promise<JSONRPCMessage>((resolve, reject) => {
            this.replay = { id, done: resolve, fail: reject };
            setTimeout(() => reject(new Error(`upstream server "${this.server}" did not answer the replayed initialize within 30s`)), 30_000).unref();
          });
          await upstream.send({ ...init, id });
          const answer = await answered;
          if ('error' in answer) throw new Error(`upstream server "${this.server}" refused the replayed initialize: ${(answer as { error: { message?: string } }).error.message ?? 'no reason given'}`);
          replayed.push('initialize');
          ended();
          if (this.handshake.initialized) {
            await upstream.send(this.handshake.initialized);
            replayed.push('notifications/initialized');
          }
        }
        ended();
        this.sleeping = false;
        this.events.emit('upstream-wake', { sessionId: this.id, server: this.server, replayed, client: { ...this.client } });
      } catch (err) {
        // No room under the cap: this request is refused, the session sleeps on. The session ended meanwhile:
        // nothing more to do. Otherwise the server cannot be had again, and the session ends with the reason.
        if (err instanceof CapacityError) throw new NotSentError(err.message, { cause: err });
        if (err instanceof NotSentError) {
          await this.upstream.terminate().catch(() => undefined);
          throw err;
        }
        const reason = this.path.maskText(`the session's server could not be woken: ${(err as Error).message}`);
        // What waited behind the wake never reached the server: the session's end answers it as not run.
        for (const key of this.behindWake) {
          const entry = this.inflight.get(key);
          if (entry) entry.forwarded = false;
        }
        void this.close(reason);
        throw new NotSentError(reason, { cause: err });
      } finally {
        this.replay = undefined;
        this.waking = undefined;
      }
    })();
    return this.waking;
  }

  get isOpen(): boolean {
    return !this.ending;
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
        // The answer to Gatehouse's own request: recorded, and it stays here.
        this.ownRequests.delete(idKey(message.id as string | number));
        this.path.answeredGatehouse(this, message, own.method);
        if ('result' in message) own.resolve(message.result);
        else own.reject(new Error((message as { error?: { message?: string } }).error?.message ?? 'the client refused'));
        return;
      }
      this.serverRequests.delete(idKey(message.id as string | number));
    }
    if (isJSONRPCRequest(message)) {
      if (!sink) throw new Error('a request needs a sink for its response');
      const key = idKey(message.id);
      if (this.ending) return this.path.refuse(this, message, GatewayErrorCode.UpstreamClosed, this.closeReason, direct(sink, key));
      if (this.inflight.has(key)) {
        return this.path.refuse(this, message, -32600, `Invalid Request: id ${JSON.stringify(message.id)} is already used by a request in flight; use a new id`, direct(sink, key));
      }
      this.track(message, sink);
    } else if (isJSONRPCNotification(message) && message.method === 'notifications/cancelled') {
      const requestId = (message.params as { requestId?: string | number } | undefined)?.requestId;
      if (requestId !== undefined) this.untrack(idKey(requestId))?.sink.abandon(idKey(requestId));
    }
    if (this.ending) return;
    this.path.fromClient(this, message);
  }

  pending(key: string): PendingRequest | undefined {
    return this.inflight.get(key);
  }

  pendingRequests(): Iterable<[string, PendingRequest]> {
    return this.inflight.entries();
  }

  sendUpstream(message: JSONRPCMessage): Promise<void> {
    if (this.ending) return Promise.reject(new Error(this.closeReason));
    this.lastUsed = Date.now();
    if (isJSONRPCRequest(message) && message.method === 'initialize') this.handshake.initialize = message;
    else if (isJSONRPCNotification(message) && message.method === 'notifications/initialized') this.handshake.initialized = message;
    if (this.sleeping || this.waking) {
      // A cancellation or an answer for a server that is asleep (not being woken) has nothing left to reach: it is
      // not worth waking it. Behind a wake, it follows what it cancels or answers, in order.
      if (!this.waking && !isJSONRPCRequest(message) && !(isJSONRPCNotification(message) && message.method !== 'notifications/cancelled')) return Promise.resolve();
      const key = isJSONRPCRequest(message) ? idKey(message.id) : undefined;
      if (key !== undefined) this.behindWake.add(key);
      return this.wake()
        .then(() => this.upstream.send(message))
        .finally(() => key !== undefined && this.behindWake.delete(key));
    }
    return this.upstream.send(message);
  }

  sendClient(message: JSONRPCMessage): boolean {
    return this.toClient(message);
  }

  armTimeout(key: string, ms: number, fire: () => void): void {
    const entry = this.inflight.get(key);
    if (!entry) return;
    if (entry.deadline) clearTimeout(entry.deadline.timer);
    entry.deadline = { ms, fire, timer: setTimeout(fire, ms).unref() };
  }

  /** Progress from the server on a request restarts its deadline: the server is still working on it. */
  private progressed(message: JSONRPCMessage): void {
    const token = ((message as { params?: { progressToken?: unknown } }).params ?? {}).progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return;
    const owner = this.progress.get(idKey(token));
    const entry = owner === undefined ? undefined : this.inflight.get(owner);
    if (entry?.deadline) this.armTimeout(owner as string, entry.deadline.ms, entry.deadline.fire);
  }

  /** Sends the client a request of Gatehouse's own (not the server's) and resolves with its result. */
  requestClient(method: string, params: Record<string, unknown>): { id: string; result: Promise<unknown> } {
    const id = `gatehouse-${this.id.slice(0, 8)}-${++this.ownRequestSeq}`;
    const result = new Promise<unknown>((resolve, reject) => {
      if (this.closed) return reject(new Error('the session has ended'));
      this.ownRequests.set(idKey(id), { method, resolve, reject });
      this.path.fromGatehouse(this, { jsonrpc: '2.0', id, method, params });
    });
    return { id, result };
  }

  /** Withdraws a request of Gatehouse's own (someone else decided first). */
  cancelClientRequest(id: string, reason: string): void {
    const own = this.ownRequests.get(idKey(id));
    if (!own) return;
    this.ownRequests.delete(idKey(id));
    own.reject(new Error(reason));
    this.path.fromGatehouse(this, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: id, reason } });
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

  /**
   * Ends the session: every request still in flight is answered (and recorded) by the call path, held calls
   * are withdrawn, and the upstream is terminated.
   */
  close(reason: string, code: number = GatewayErrorCode.UpstreamClosed): Promise<void> {
    this.ending ??= this.end(reason, code);
    return this.ending;
  }

  /**
   * Closes the session and resolves once the client is done with it (every request answered and recorded, the
   * session gone), without waiting for the upstream to exit: a client's DELETE is not held while a server takes
   * its time to stop (up to the SDK's 2 s before a signal). The upstream is stopped after, as by `close`.
   */
  closeForClient(reason: string): Promise<void> {
    this.close(reason).catch(() => undefined);
    return this.clientDone as Promise<void>;
  }

  private async end(reason: string, code: number): Promise<void> {
    this.clientDone ??= this.endForClient(reason, code);
    await this.clientDone;
    if (!this.sleeping || this.waking) await this.upstream.terminate().catch(() => undefined);
    // (Falling asleep: its server is being stopped; the session is over once that server is gone, or it outlives the gateway.)
    else if (this.stopping) await this.stopping;
  }

  private async endForClient(reason: string, code: number): Promise<void> {
    this.closeReason = reason;
    // An answer the server sent just before it went is delivered first; then what is left is answered.
    await this.path.sessionClosing(this, reason, code);
    this.processAtClose = this.holdsProcess;
    this.closed = true;
    for (const key of [...this.inflight.keys()]) this.untrack(key)?.sink.abandon(key);
    this.standalone?.abandon('');
    for (const own of this.ownRequests.values()) own.reject(new Error(reason));
    this.ownRequests.clear();
    this.onclose?.(reason);
    this.events.emit('session-end', { sessionId: this.id, server: this.server, reason, at: Date.now() });
  }

  /** Routes a message to the client; for a response, whether a stream was still open to take it. */
  private toClient(message: JSONRPCMessage): boolean {
    if (isResponse(message)) {
      const key = idKey(message.id as string | number);
      const entry = this.untrack(key);
      if (key === this.initializeKey) this.noteNegotiated(message);
      if (!entry?.sink.open) return false; // cancelled, or its stream is gone: the response has nowhere to go
      entry.sink.deliver(message, key);
      return true;
    }
    // A request of the server's keeps its server awake until the client answers it.
    if (isJSONRPCRequest(message)) this.serverRequests.add(idKey(message.id));
    const sink = this.relatedSink(message);
    if (sink) sink.deliver(message);
    else this.queue(message);
    return true;
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
    const name = request.method === 'tools/call' ? (request.params as { name?: unknown } | undefined)?.name : undefined;
    const entry: InFlight = { sink, method: request.method, tool: typeof name === 'string' ? name : undefined, excluded: false, forwarded: false };
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
    if (entry.deadline) clearTimeout(entry.deadline.timer);
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

/** Delivers straight to one stream (an answer that cannot be routed by its id): whether the stream was open. */
function direct(sink: ClientSink, key: string): (m: JSONRPCMessage) => boolean {
  return (m) => {
    const open = sink.open;
    sink.deliver(m, key);
    return open;
  };
}
