import type { GatewayEvents } from '../gateway/events.js';
import {
  errorResponse,
  GatewayErrorCode,
  idKey,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isResponse,
  type JSONRPCMessage,
} from '../gateway/jsonrpc.js';
import type { Interceptor, MessageContext, Verdict } from '../gateway/pipeline.js';
import { callExclusion, sessionExclusion, type ExcludeRule } from './exclude.js';
import type { AuditEntry, RecordKind } from './record.js';
import type { AuditLog } from './segment-writer.js';

export interface RecorderOptions {
  log: AuditLog;
  /** `local:<os-user>` until sign-in exists. */
  principal: () => string;
  exclude: () => readonly ExcludeRule[];
  /** Applied to every payload before it is stored (masking plugs in here). */
  mask?: (value: unknown) => unknown;
  now?: () => Date;
  /**
   * Whether the recorder itself holds a tools/call until its record is durable. The policy step turns this
   * off: it records its decision right after and waits for that, and the request, queued first, is durable
   * by then too (one fsync for both).
   */
  writeAheadCalls?: boolean;
}

interface SessionState {
  excluded: ExcludeRule | undefined;
  /** Requests in flight, by direction of the request and id: what their responses answer. */
  requests: Map<string, { method: string; tool?: string; skipped: boolean }>;
}

/**
 * The recording interceptor. Every message, both ways, becomes an audit record. Write-ahead: a tools/call
 * reaches the upstream only once its request record is durable, and a response reaches the client only once
 * it is recorded. If the log cannot be written the call fails closed, with an error that says so.
 */
export class Recorder implements Interceptor {
  readonly name = 'recorder';
  private readonly sessions = new Map<string, SessionState>();
  private readonly now: () => Date;
  private paused = false;
  private readonly mask: (value: unknown) => unknown;

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? (() => new Date());
    this.mask = options.mask ?? ((v) => v);
  }

  intercept(message: JSONRPCMessage, ctx: MessageContext): Verdict | Promise<Verdict> {
    const state = this.state(ctx);
    const forward: Verdict = { action: 'forward', message };
    const described = this.describe(message, ctx, state);
    if (state.excluded || described.skipped || this.paused) return forward;

    const durable = this.options.log.append(this.entry(ctx, message, described.kind, described.method, described.tool));
    const writeAhead =
      (this.options.writeAheadCalls !== false && ctx.direction === 'client->server' && described.kind === 'request' && described.method === 'tools/call') ||
      (ctx.direction === 'server->client' && (described.kind === 'response' || described.kind === 'error'));
    if (!writeAhead) {
      durable.catch(() => undefined); // the log reports its own failure; the next write-ahead call fails closed
      return forward;
    }
    return durable.then(
      () => forward,
      (err: Error): Verdict => {
        // Gatehouse's own answer (a denial, a failure) carries nothing from the server: let it through as it is.
        if (ctx.origin === 'gatehouse') return forward;
        const reason = `Gatehouse could not record this ${ctx.direction === 'client->server' ? 'call, so it was not forwarded' : 'answer, so it was withheld'}: ${err.message}`;
        const id = (message as { id: string | number }).id;
        return ctx.direction === 'client->server'
          ? { action: 'respond', message: errorResponse(id, GatewayErrorCode.RecordingFailed, reason) }
          : { action: 'forward', message: errorResponse(id, GatewayErrorCode.RecordingFailed, reason) };
      },
    );
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Pauses or resumes recording messages (the tray's "Pause recording"). The pause itself is recorded, and decisions still are. */
  async setPaused(paused: boolean): Promise<void> {
    if (paused === this.paused) return;
    this.paused = paused;
    await this.options.log.append({ ts: this.now().toISOString(), principal: this.options.principal(), kind: 'event', event: paused ? 'recording-paused' : 'recording-resumed' });
  }

  /** Records something about a session that is not a message (a policy decision, a tool change); resolves once durable. */
  note(ctx: MessageContext, fields: Pick<AuditEntry, 'kind'> & Partial<Pick<AuditEntry, 'method' | 'tool' | 'id' | 'event' | 'decision' | 'detail'>>): Promise<number> {
    if (this.sessions.get(ctx.sessionId)?.excluded) return Promise.resolve(0);
    const base = this.entry(ctx, undefined, fields.kind, fields.method, fields.tool);
    return this.options.log.append({ ...base, id: fields.id, event: fields.event, decision: fields.decision, detail: this.mask(fields.detail) });
  }

  /** Records the gateway's own events: sessions starting and ending, upstreams starting and exiting, errors, stderr. */
  attach(events: GatewayEvents): void {
    const record = (session: string | undefined, server: string | undefined, event: string, detail: unknown) => {
      if (session && this.sessions.get(session)?.excluded && event === 'stderr') return;
      this.options.log
        .append({ ts: this.now().toISOString(), session, server, principal: this.options.principal(), kind: 'event', event, detail: this.mask(detail) })
        .catch(() => undefined);
    };
    events.on('session-start', (e) => {
      const state = this.state({ sessionId: e.sessionId, server: e.server });
      record(e.sessionId, e.server, 'session-start', {});
      if (state.excluded) record(e.sessionId, e.server, 'excluded', { rule: state.excluded, note: 'this session is excluded from recording by recording.exclude' });
    });
    events.on('upstream-start', (e) => record(e.sessionId, e.server, 'upstream-start', { kind: e.kind, pid: e.pid ?? undefined }));
    events.on('upstream-exit', (e) => record(e.sessionId, e.server, 'upstream-exit', { reason: e.reason }));
    events.on('upstream-stderr', (e) => record(e.sessionId, e.server, 'stderr', { line: e.line }));
    events.on('warning', (e) => record(e.sessionId, e.server, 'error', { message: e.message }));
    events.on('session-end', (e) => {
      record(e.sessionId, e.server, 'session-end', { reason: e.reason });
      this.sessions.delete(e.sessionId);
    });
  }

  private state(ctx: Pick<MessageContext, 'sessionId' | 'server'>): SessionState {
    let state = this.sessions.get(ctx.sessionId);
    if (!state) {
      state = { excluded: sessionExclusion(this.options.exclude(), { server: ctx.server, principal: this.options.principal() }), requests: new Map() };
      this.sessions.set(ctx.sessionId, state);
    }
    return state;
  }

  private describe(message: JSONRPCMessage, ctx: MessageContext, state: SessionState): { kind: RecordKind; method?: string; tool?: string; skipped: boolean } {
    if (isJSONRPCRequest(message)) {
      const tool = message.method === 'tools/call' ? (message.params as { name?: unknown } | undefined)?.name : undefined;
      const toolName = typeof tool === 'string' ? tool : undefined;
      const excluded = toolName !== undefined ? callExclusion(this.options.exclude(), { server: ctx.server, principal: this.options.principal(), tool: toolName }) : undefined;
      state.requests.set(`${ctx.direction}|${idKey(message.id)}`, { method: message.method, ...(toolName ? { tool: toolName } : {}), skipped: excluded !== undefined });
      if (excluded && !state.excluded) {
        this.options.log
          .append({ ...this.entry(ctx, undefined, 'event', message.method, toolName), event: 'excluded-call', detail: { rule: excluded, id: message.id } })
          .catch(() => undefined);
      }
      return { kind: 'request', method: message.method, ...(toolName ? { tool: toolName } : {}), skipped: excluded !== undefined };
    }
    if (isJSONRPCNotification(message)) return { kind: 'notification', method: message.method, skipped: false };
    if (isResponse(message)) {
      const requestDirection = ctx.direction === 'client->server' ? 'server->client' : 'client->server';
      const key = `${requestDirection}|${idKey(message.id as string | number)}`;
      const request = state.requests.get(key);
      state.requests.delete(key);
      return {
        kind: 'error' in message ? 'error' : 'response',
        ...(request ? { method: request.method } : {}),
        ...(request?.tool ? { tool: request.tool } : {}),
        skipped: request?.skipped ?? false,
      };
    }
    return { kind: 'notification', skipped: false };
  }

  private entry(ctx: MessageContext, message: JSONRPCMessage | undefined, kind: RecordKind, method?: string, tool?: string): AuditEntry {
    const id = message && 'id' in message ? (message.id as string | number) : undefined;
    const payload = message === undefined ? undefined : this.mask(message);
    return {
      ts: this.now().toISOString(),
      session: ctx.sessionId,
      server: ctx.server,
      principal: this.options.principal(),
      client: ctx.client.name || ctx.client.version ? { ...ctx.client } : undefined,
      direction: ctx.direction,
      kind,
      method,
      tool,
      id,
      payload,
      detail: ctx.origin === 'gatehouse' && message !== undefined ? { from: 'gatehouse' } : undefined,
      masked: payload !== message && message !== undefined ? true : undefined,
    };
  }
}
