import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import type { Clock } from './clock.js';
import type { GrantStore } from './grants.js';
import type { ApprovalOutcome, ApprovalRequest, DeciderPort } from './port.js';

/** A call waiting for a person. Plain data: ports show it, the API lists it. */
export interface PendingApproval {
  id: string;
  request: ApprovalRequest;
  createdAt: number;
  expiresAt: number;
}

/** What a person chose. `for` (ms) turns an allow into a grant; `bindArgs` limits that grant to the same arguments. */
export type ApprovalChoice = { action: 'allow'; for?: number | undefined; bindArgs?: boolean | undefined } | { action: 'deny'; reason?: string | undefined };

export interface Decider {
  /** The principal who decided. */
  principal: string;
  /** The groups the signed-in decider is in (none before sign-in); `approvers` rules allow only members. */
  groups?: readonly string[];
  /** When the decider last authenticated at the provider (ms), for step-up calls. */
  authTime?: number | undefined;
  /** The route the decision came in by (set by that route, never by the caller's words). */
  port: DeciderPort;
}

export type DecideResult = { ok: true; outcome: ApprovalOutcome } | { ok: false; why: 'unknown' | 'already-decided' } | { ok: false; why: 'not-an-approver' | 'needs-fresh-sign-in'; message: string };

export interface BrokerEvents {
  pending: [PendingApproval];
  resolved: [PendingApproval, ApprovalOutcome];
  /** Someone who may not approve this call tried to (the call stays pending). */
  refused: [PendingApproval, Decider, string];
}

/** The outcome of a request, with what the audit record needs: who, through which port, how long it waited, which grant it made. */
export interface BrokerOutcome extends ApprovalOutcome {
  waitedMs: number;
  grant?: string | undefined;
  approvalId: string;
}

interface Waiting {
  pending: PendingApproval;
  resolve: (outcome: BrokerOutcome) => void;
  timer: { cancel(): void };
}

/**
 * Holds calls that need approval and publishes them to every approver port (tray, dialog, web UI, CLI,
 * the client itself through elicitation). Each held call waits on its own approval id, so a decision
 * resumes exactly the call it was asked for. The first decision wins; the others find it gone. Undecided
 * by `approvals.timeout` means denied (fail closed). Whether a grant already covers a call is not its
 * business: the decision (policy/decide.ts) has settled that before a call gets here.
 */
export class ApprovalBroker extends EventEmitter<BrokerEvents> {
  private readonly waiting = new Map<string, Waiting>();

  constructor(
    private readonly grants: GrantStore,
    private readonly timeoutMs: () => number,
    private readonly clock: Clock,
  ) {
    super();
  }

  request(request: ApprovalRequest): Promise<BrokerOutcome> {
    const now = this.clock.now();
    const timeout = this.timeoutMs();
    const pending: PendingApproval = { id: randomUUID(), request, createdAt: now, expiresAt: now + timeout };
    return new Promise((resolve) => {
      const timer = this.clock.setTimeout(() => this.timedOut(pending.id, timeout), timeout);
      this.waiting.set(pending.id, { pending, resolve, timer });
      this.emit('pending', pending);
    });
  }

  list(): PendingApproval[] {
    return [...this.waiting.values()].map((w) => w.pending);
  }

  get(idOrPrefix: string): PendingApproval | undefined {
    const exact = this.waiting.get(idOrPrefix);
    if (exact) return exact.pending;
    const matches = [...this.waiting.keys()].filter((k) => k.startsWith(idOrPrefix));
    return matches.length === 1 ? this.waiting.get(matches[0] as string)?.pending : undefined;
  }

  /** Decides a pending call. The first decision wins; a later one is told it came too late. */
  /** Fresh sign-ins already spent on a step-up approval (each allows one call). */
  private readonly usedAuthTimes = new Set<string>();

  async decide(idOrPrefix: string, choice: ApprovalChoice, by: Decider): Promise<DecideResult> {
    const pending = this.get(idOrPrefix);
    if (!pending) return { ok: false, why: this.recentlyDecided.has(idOrPrefix) ? 'already-decided' : 'unknown' };
    // `approvers`: only a signed-in member of one of those groups may allow (anyone may deny: that fails closed).
    // The MCP client's own answer (elicitation) is never a member's: it is the client's, not the person's.
    const approvers = pending.request.approvers;
    if (choice.action === 'allow' && approvers.length > 0 && (by.port === 'elicitation' || !approvers.some((g) => by.groups?.includes(g)))) {
      const message =
        by.port === 'elicitation'
          ? `rule "${pending.request.rule}" needs an approver in ${approvers.join(', ')}: the client's own answer does not count`
          : `only members of ${approvers.join(', ')} may approve this call; ${by.principal} is ${by.groups?.length ? `in ${by.groups.join(', ')}` : 'in no group (sign in with `gatehouse login`)'}`;
      this.emit('refused', pending, by, message);
      return { ok: false, why: 'not-an-approver', message };
    }
    // Step-up: an allow needs a sign-in at the provider made after this call was held (and is for this call only).
    if (choice.action === 'allow' && pending.request.reauth) {
      // Each step-up approval needs its own fresh sign-in: one made after this call was held, and not used for another.
      if (by.port === 'elicitation' || by.authTime === undefined || by.authTime < Math.floor(pending.createdAt / 1000) * 1000 || this.usedAuthTimes.has(`${by.principal}|${by.authTime}`)) {
        const message = `rule "${pending.request.rule}" needs a fresh sign-in to allow this call: approve it with \`gatehouse approve ${pending.id.slice(0, 8)}\`, which asks the identity provider again`;
        this.emit('refused', pending, by, message);
        return { ok: false, why: 'needs-fresh-sign-in', message };
      }
      choice = { action: 'allow' };
      this.usedAuthTimes.add(`${by.principal}|${by.authTime}`);
    }
    // Claimed at once (synchronously), so that no other port can decide it while a grant is being saved.
    const waiting = this.claim(pending.id) as Waiting;
    let outcome: ApprovalOutcome & { grant?: string };
    if (choice.action === 'deny') {
      outcome = { action: 'deny', by: by.principal, port: by.port, reason: choice.reason?.trim() ? `denied by ${by.principal}: ${choice.reason.trim()}` : `denied by ${by.principal}` };
    } else if (choice.for && choice.for > 0) {
      const now = this.clock.now();
      const minutes = Math.round(choice.for / 60_000);
      try {
        const grant = await this.grants.add(
          {
            scope: pending.request.scope,
            argsDigest: choice.bindArgs ? pending.request.argsDigest : undefined,
            createdAt: now,
            expiresAt: now + choice.for,
            by: by.principal,
            port: by.port,
          },
          now,
        );
        outcome = { action: 'allow', by: by.principal, port: by.port, reason: `allowed by ${by.principal} for ${minutes} min${choice.bindArgs ? ' (these arguments only)' : ''}`, grant: grant.id };
      } catch (err) {
        outcome = { action: 'allow', by: by.principal, port: by.port, reason: `allowed once by ${by.principal} (the ${minutes}-minute grant could not be saved: ${(err as Error).message})` };
      }
    } else {
      outcome = { action: 'allow', by: by.principal, port: by.port, reason: `allowed once by ${by.principal}${pending.request.reauth ? ' after a fresh sign-in' : ''}`, ...(pending.request.reauth && by.authTime !== undefined ? { authTime: by.authTime } : {}) };
    }
    const full = this.settle(waiting, outcome);
    return { ok: true, outcome: full };
  }

  /** Denies everything pending (the gateway is stopping). */
  denyAll(reason: string): void {
    for (const id of [...this.waiting.keys()]) {
      const waiting = this.claim(id);
      if (waiting) this.settle(waiting, { action: 'deny', by: 'gatehouse', port: 'shutdown', reason });
    }
  }

  /**
   * Withdraws held calls no one needs decided any more: the one the client cancelled (`requestKey`), or all
   * of a session's when it ends. They are denied, as no person allowed them.
   */
  withdraw(sessionId: string, requestKey: string | undefined, reason: string): void {
    for (const [id, w] of [...this.waiting]) {
      if (w.pending.request.sessionId !== sessionId || (requestKey !== undefined && w.pending.request.requestKey !== requestKey)) continue;
      const waiting = this.claim(id);
      if (waiting) this.settle(waiting, { action: 'deny', by: 'gatehouse', port: requestKey === undefined ? 'session-end' : 'cancelled', reason });
    }
  }

  private readonly recentlyDecided = new Set<string>();

  private timedOut(id: string, timeoutMs: number): void {
    const waiting = this.claim(id);
    if (waiting) {
      this.settle(waiting, {
        action: 'deny',
        by: 'gatehouse',
        port: 'timeout',
        reason: `${waiting.pending.request.reason} — it needed approval and no one decided within ${Math.round(timeoutMs / 1000)}s (approvals.timeout), so it was denied`,
      });
    }
  }

  private claim(id: string): Waiting | undefined {
    const waiting = this.waiting.get(id);
    if (!waiting) return undefined;
    this.waiting.delete(id);
    waiting.timer.cancel();
    this.recentlyDecided.add(id);
    if (this.recentlyDecided.size > 1000) this.recentlyDecided.delete(this.recentlyDecided.values().next().value as string);
    return waiting;
  }

  private settle(waiting: Waiting, outcome: ApprovalOutcome & { grant?: string | undefined }): BrokerOutcome {
    const full: BrokerOutcome = { ...outcome, waitedMs: this.clock.now() - waiting.pending.createdAt, approvalId: waiting.pending.id };
    waiting.resolve(full);
    this.emit('resolved', waiting.pending, full);
    return full;
  }
}

