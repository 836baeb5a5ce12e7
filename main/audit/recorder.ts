import { maskClient } from '../masking/masker.js';
import { callExclusion, sessionExclusion, type ExcludeRule } from './exclude.js';
import type { AuditEntry, RecordDirection, RecordKind } from './record.js';
import type { AuditLog } from './segment-writer.js';

export interface RecorderOptions {
  log: AuditLog;
  /** `local:<os-user>` until sign-in exists. */
  principal: () => string;
  /** The signed-in principal's groups (none before sign-in): on every record beside the principal. */
  groups?: () => readonly string[];
  exclude: () => readonly ExcludeRule[];
  /** Applied to every payload, detail and decision before it is stored (masking plugs in here). */
  mask?: (value: unknown) => unknown;
  /**
   * Applied to every other field a client or server chose (client name and version, method, tool, a string id):
   * nothing a peer sent is stored unmasked, whichever field it travels in.
   */
  maskText?: (value: string) => string;
  now?: () => Date;
}

/** Who a record is about: plain data the call path hands over. */
export interface SessionFacts {
  session: string;
  server: string;
  client: Readonly<{ name?: string; version?: string; registration?: string }>;
}

/** One message as it travelled, or one answer Gatehouse gave in place of the other side. */
export interface MessageFacts extends SessionFacts {
  direction: RecordDirection;
  kind: Extract<RecordKind, 'request' | 'response' | 'notification' | 'error'>;
  method?: string | undefined;
  tool?: string | undefined;
  id?: string | number | undefined;
  /** The message itself, unmasked: the recorder masks it before anything is stored. */
  message: unknown;
  /** `gatehouse` when Gatehouse made this message itself (a denial, a failure), `peer` when a side sent it. */
  from: 'peer' | 'gatehouse';
  /** What else the record says: why Gatehouse answered, whether a call's outcome is unknown, … */
  detail?: Record<string, unknown> | undefined;
}

/** A policy decision on a call. */
export interface DecisionFacts extends SessionFacts {
  tool: string;
  id: string | number | undefined;
  decision: Record<string, unknown>;
}

const NOT_RECORDED: Promise<number> = Promise.resolve(0);

/**
 * Turns what happened into audit records. It knows nothing of transports: the call path hands it plain facts
 * and waits on the promise it gets back where the record must be durable first. Recording can be scoped
 * (`recording.exclude`) and paused; decisions, and the pause itself, are always recorded.
 */
export class AuditRecorder {
  private readonly excluded = new Map<string, ExcludeRule | undefined>();
  private readonly now: () => Date;
  private readonly mask: (value: unknown) => unknown;
  private readonly maskText: (value: string) => string;
  private paused = false;

  constructor(private readonly options: RecorderOptions) {
    this.now = options.now ?? (() => new Date());
    this.mask = options.mask ?? ((v) => v);
    this.maskText = options.maskText ?? ((v) => v);
  }

  private groups(): readonly string[] | undefined {
    const groups = this.options.groups?.();
    return groups && groups.length > 0 ? groups : undefined;
  }

  private text(value: string | undefined): string | undefined {
    return value === undefined ? undefined : this.maskText(value);
  }

  private id(value: string | number | undefined): string | number | undefined {
    return typeof value === 'string' ? this.maskText(value) : value;
  }

  private client(facts: SessionFacts): { name?: string; version?: string; registration?: string } | undefined {
    const c = facts.client;
    return c.name || c.version || c.registration ? maskClient(c, this.maskText) : undefined;
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Pauses or resumes recording messages (the tray's "Pause recording"). The pause itself is recorded, and decisions still are. */
  async setPaused(paused: boolean): Promise<void> {
    if (paused === this.paused) return;
    this.paused = paused;
    await this.options.log.append({ ts: this.now().toISOString(), principal: this.options.principal(), groups: this.groups(), kind: 'event', event: paused ? 'recording-paused' : 'recording-resumed' });
  }

  /** A session began: whether it is recorded is decided now, once, and said in the log. */
  sessionStarted(session: string, server: string): void {
    const rule = sessionExclusion(this.options.exclude(), { server, principal: this.options.principal() });
    this.excluded.set(session, rule);
    void this.event(session, server, 'session-start', {});
    if (rule) void this.event(session, server, 'excluded', { rule, note: 'this session is excluded from recording by recording.exclude' });
  }

  sessionEnded(session: string, server: string, reason: string): void {
    void this.event(session, server, 'session-end', { reason });
    this.excluded.delete(session);
  }

  /** The `recording.exclude` rule that keeps this call's messages out of the log, if one does. */
  callExclusion(server: string, tool: string): ExcludeRule | undefined {
    return callExclusion(this.options.exclude(), { server, principal: this.options.principal(), tool });
  }

  /** Records a message (masked); resolves once durable, with 0 when it is not recorded (excluded, paused). */
  message(facts: MessageFacts, options: { excludedCall?: boolean } = {}): Promise<number> {
    if (this.paused || options.excludedCall || this.excluded.get(facts.session)) return NOT_RECORDED;
    const payload = this.mask(facts.message);
    const detail = facts.from === 'gatehouse' ? { from: 'gatehouse', ...facts.detail } : facts.detail;
    // Written out member by member (no spreads): this runs for every message, both ways.
    return this.options.log.append({
      ts: this.now().toISOString(),
      session: facts.session,
      server: facts.server,
      principal: this.options.principal(),
      groups: this.groups(),
      client: this.client(facts),
      direction: facts.direction,
      kind: facts.kind,
      method: this.text(facts.method),
      tool: this.text(facts.tool),
      id: this.id(facts.id),
      payload,
      detail: detail === undefined ? undefined : this.mask(detail),
      masked: payload !== facts.message ? true : undefined,
    });
  }

  /** Records a decision; resolves once durable. Decisions are recorded even while paused; an excluded session's are not. */
  decision(facts: DecisionFacts): Promise<number> {
    if (this.excluded.get(facts.session)) return NOT_RECORDED;
    return this.options.log.append({
      ts: this.now().toISOString(),
      session: facts.session,
      server: facts.server,
      principal: this.options.principal(),
      groups: this.groups(),
      client: this.client(facts),
      kind: 'decision',
      method: 'tools/call',
      tool: this.maskText(facts.tool),
      id: this.id(facts.id),
      decision: keepIdentity(facts.decision, this.mask(facts.decision), 'approver'),
    });
  }

  /** Records an event (masked detail); a failure is the log's to report, so this never rejects. */
  event(session: string | undefined, server: string | undefined, event: string, detail: unknown, extra: Pick<AuditEntry, 'method' | 'tool'> = {}): Promise<number> {
    if (session && this.excluded.get(session) && (event === 'stderr' || event === 'tool-changed')) return NOT_RECORDED;
    try {
      return this.options.log
        .append({ ts: this.now().toISOString(), session, server: this.text(server), principal: this.options.principal(), groups: this.groups(), kind: 'event', method: this.text(extra.method), tool: this.text(extra.tool), event, detail: event.startsWith('approval') ? keepIdentity(detail, this.mask(detail), 'by') : this.mask(detail) })
        .catch(() => 0);
    } catch {
      return NOT_RECORDED; // a detail that cannot be masked or serialized: the log reports what it can
    }
  }
}

/**
 * Who decided (a decision's `approver`, an approval event's `by`) is the identity Gatehouse signed in, as the
 * record's `principal` is: the audit log's point, not a peer's data. Masking an email there (`email` masking
 * on) left no trace of who approved; it is kept as it was given.
 */
function keepIdentity<T>(raw: T, masked: T, key: string): T {
  const who = (raw as Record<string, unknown> | null | undefined)?.[key];
  if (typeof who !== 'string' || masked === null || typeof masked !== 'object') return masked;
  return { ...(masked as Record<string, unknown>), [key]: who } as T;
}
