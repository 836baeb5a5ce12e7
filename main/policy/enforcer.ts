import type { BrokerOutcome } from '../approvals/broker.js';
import { argsDigest } from '../approvals/grants.js';
import type { ApprovalPort } from '../approvals/port.js';
import type { AuditEntry } from '../audit/record.js';
import { errorResponse, GatewayErrorCode, idKey, isJSONRPCRequest, isResponse, type JSONRPCMessage } from '../gateway/jsonrpc.js';
import type { Interceptor, MessageContext, Verdict } from '../gateway/pipeline.js';
import type { Masker } from '../masking/masker.js';
import { decide, isHidden, type Decision } from './decide.js';
import type { PinStore } from './pin-store.js';
import type { Action, CompiledPolicy } from './rules.js';
import { pickDefinition, reviewListing, type ToolDefinition } from './tool-pins.js';

/** JSON-RPC error code of a call that policy refused. */
export const POLICY_DENIED = -32016;

type Note = (ctx: MessageContext, fields: Pick<AuditEntry, 'kind'> & Partial<Pick<AuditEntry, 'method' | 'tool' | 'id' | 'event' | 'decision' | 'detail'>>) => Promise<number>;

export interface EnforcerOptions {
  live: () => { policy: CompiledPolicy; masker: Masker };
  pins: PinStore;
  approvals: () => ApprovalPort;
  /** Records a decision or event for the session; resolves when durable. */
  note: Note;
  principal: () => { id: string; groups: readonly string[] };
  now?: () => number;
  /** How often a waiting call's client hears progress (if it gave a progress token). */
  progressEveryMs?: number;
}

/**
 * The policy step. Every tools/call is decided by the rules (first match wins); the decision is recorded
 * before anything else happens. `deny` answers the client with the rule and its reason; `approve` holds the
 * call for the approval port. tools/list answers lose the tools a rule hides, and are checked against the
 * tool pins: a changed definition is recorded with a diff and handled by `policy.on_tool_change`.
 */
export class PolicyEnforcer implements Interceptor {
  readonly name = 'policy';
  /** tools/list requests in flight, per session. */
  private readonly listings = new Map<string, Set<string>>();
  private readonly now: () => number;

  constructor(private readonly options: EnforcerOptions) {
    this.now = options.now ?? Date.now;
  }

  intercept(message: JSONRPCMessage, ctx: MessageContext): Verdict | Promise<Verdict> {
    if (ctx.direction === 'client->server' && isJSONRPCRequest(message)) {
      if (message.method === 'tools/call') return this.decideCall(message as JSONRPCMessage & { id: string | number; params?: { name?: unknown; arguments?: unknown } }, ctx);
      if (message.method === 'tools/list') {
        let set = this.listings.get(ctx.sessionId);
        if (!set) this.listings.set(ctx.sessionId, (set = new Set()));
        set.add(idKey(message.id));
      }
    } else if (ctx.direction === 'server->client' && isResponse(message) && ctx.origin === 'peer') {
      const pending = this.listings.get(ctx.sessionId);
      const key = idKey(message.id as string | number);
      if (pending?.delete(key) && 'result' in message) return this.reviewTools(message, ctx);
    }
    return { action: 'forward', message };
  }

  /** The session ended: forget what it had in flight. */
  forget(sessionId: string): void {
    this.listings.delete(sessionId);
  }

  private async decideCall(message: JSONRPCMessage & { id: string | number; params?: { name?: unknown; arguments?: unknown } }, ctx: MessageContext): Promise<Verdict> {
    const started = this.now();
    const tool = typeof message.params?.name === 'string' ? message.params.name : '';
    const args = message.params?.arguments ?? {};
    const { policy, masker } = this.options.live();
    const who = this.options.principal();

    let decision: Decision & { via?: string } = decide(policy, { server: ctx.server, tool, args, principal: who.id, groups: who.groups });
    // A tool whose definition changed since it was accepted is decided by on_tool_change first.
    await this.options.pins.refresh();
    const pending = this.options.pins.server(ctx.server)[tool]?.pending;
    if (pending && policy.onToolChange !== 'allow') {
      decision = changedToolDecision(ctx.server, tool, policy.onToolChange);
    }

    let final: { action: 'allow' | 'deny'; reason: string; by?: string; port?: string; waitedMs?: number; grant?: string; approvalId?: string } = {
      action: decision.action === 'allow' ? 'allow' : 'deny',
      reason: decision.reason,
    };
    if (decision.action === 'approve') {
      const waitingFor = this.options.approvals().request({
        sessionId: ctx.sessionId,
        server: ctx.server,
        tool,
        args: masker.json(args),
        principal: who.id,
        client: { ...ctx.client },
        rule: decision.rule,
        reason: decision.reason,
        approvers: decision.approvers,
        argsDigest: argsDigest(args),
        rawArgs: args,
      });
      const outcome = await this.whileWaiting(waitingFor, message, ctx);
      final = { action: outcome.action, reason: outcome.reason, by: outcome.by, port: outcome.port, ...pickDefined(outcome as BrokerOutcome) };
    }
    // Recorded, and durable, before the call goes anywhere: the request record was queued before this one.
    const recorded = await this.options.note(ctx, {
      kind: 'decision',
      method: 'tools/call',
      tool,
      id: message.id,
      decision: {
        action: decision.action,
        outcome: final.action,
        rule: decision.rule ?? null,
        reason: final.reason,
        ...(final.by ? { approver: final.by, port: final.port } : {}),
        ...(final.waitedMs !== undefined ? { waitedMs: final.waitedMs } : {}),
        ...(final.grant ? { grant: final.grant } : {}),
        ...(final.approvalId ? { approvalId: final.approvalId } : {}),
        latencyMs: this.now() - started,
      },
    }).then(
      () => undefined,
      (err: Error) => err,
    );
    if (recorded) {
      return { action: 'respond', message: errorResponse(message.id, GatewayErrorCode.RecordingFailed, `Gatehouse could not record this call, so it was not forwarded: ${recorded.message}`) };
    }
    if (final.action === 'allow') return { action: 'forward', message };
    const ruleText = decision.rule ? `rule "${decision.rule}"` : 'policy.default';
    return { action: 'respond', message: errorResponse(message.id, POLICY_DENIED, `Gatehouse policy denied this call (${ruleText}): ${final.reason}`, { rule: decision.rule ?? null, action: decision.action }) };
  }

  /**
   * While a call waits for a person, a client that asked for progress (a progress token) gets progress
   * notifications, so that it does not give up on the call first.
   */
  private async whileWaiting<T>(waiting: Promise<T>, message: JSONRPCMessage, ctx: MessageContext): Promise<T> {
    const token = ((message as { params?: { _meta?: { progressToken?: unknown } } }).params?._meta ?? {}).progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return waiting;
    const started = this.now();
    const timer = setInterval(() => {
      const waited = Math.round((this.now() - started) / 1000);
      ctx.notifyClient({ jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: waited, message: `waiting for approval (${waited}s)` } });
    }, this.options.progressEveryMs ?? 5000);
    try {
      return await waiting;
    } finally {
      clearInterval(timer);
    }
  }

  private async reviewTools(message: JSONRPCMessage & { result: unknown }, ctx: MessageContext): Promise<Verdict> {
    const result = message.result as { tools?: { name: string; description?: unknown; inputSchema?: unknown }[] };
    if (!Array.isArray(result.tools)) return { action: 'forward', message };
    const { policy } = this.options.live();
    const who = this.options.principal();
    const pins = this.options.pins;
    await pins.refresh();
    const review = reviewListing(pins.server(ctx.server), result.tools.map(pickDefinition));
    if (review.added.length) await pins.pin(ctx.server, review.added);
    const withheld = new Set<string>();
    for (const change of review.changed) {
      if (!change.known) {
        await this.options.note(ctx, {
          kind: 'event',
          event: 'tool-changed',
          tool: change.name,
          detail: { changes: change.changes, fingerprint: change.fingerprint, onToolChange: policy.onToolChange },
        });
      }
      if (policy.onToolChange === 'allow') await pins.accept(ctx.server, change.name);
      else if (!change.known) await pins.markPending(ctx.server, change.definition as ToolDefinition, change.changes);
      if (policy.onToolChange === 'deny') withheld.add(change.name);
    }
    const tools = result.tools.filter((t) => !withheld.has(t.name) && !isHidden(policy, { server: ctx.server, tool: t.name, principal: who.id, groups: who.groups }));
    if (tools.length === result.tools.length) return { action: 'forward', message };
    return { action: 'forward', message: { ...message, result: { ...result, tools } } };
  }
}

function pickDefined(o: BrokerOutcome): { waitedMs?: number; grant?: string; approvalId?: string } {
  return {
    ...(o.waitedMs !== undefined ? { waitedMs: o.waitedMs } : {}),
    ...(o.grant ? { grant: o.grant } : {}),
    ...(o.approvalId ? { approvalId: o.approvalId } : {}),
  };
}

function changedToolDecision(server: string, tool: string, action: Exclude<Action, 'allow'>): Decision {
  return {
    action,
    rule: 'on_tool_change',
    reason: `the definition of tool "${tool}" changed since it was accepted; review it with \`gatehouse pins\` and accept it with \`gatehouse pins accept ${server} ${tool}\``,
    approvers: [],
    hide: false,
  };
}
