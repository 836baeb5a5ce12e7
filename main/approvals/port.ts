import type { ApprovalScope } from '../policy/decide.js';
import type { DeciderPort } from './decider-port.js';

export type { DeciderPort } from './decider-port.js';

/** A call that policy holds for a person to decide. */
export interface ApprovalRequest {
  sessionId: string;
  /** The held request's id within its session (as an id key): a decision resumes exactly this call. */
  requestKey: string;
  server: string;
  tool: string;
  /** Arguments as stored (masked): what every port shows. */
  args: unknown;
  principal: string;
  client: { name?: string; version?: string };
  rule: string | null;
  reason: string;
  approvers: readonly string[];
  /** Step-up: allowing needs a sign-in at the provider made after the call was held. */
  reauth?: boolean;
  /** The tool's definition changed since it was accepted (part of what the person is asked). */
  toolChanged: boolean;
  /** What an approval of this call, and a grant made from it, is bound to. */
  scope: ApprovalScope;
  /** Digest of the real arguments, for a grant limited to them ("these arguments only"). */
  argsDigest: string;
}


/** Ports where no person decided. */
export type GatehousePort = 'timeout' | 'shutdown' | 'session-end' | 'cancelled';

export interface ApprovalOutcome {
  action: 'allow' | 'deny';
  /** Who decided (a principal), or `gatehouse` when no one could. */
  by: string;
  /** Through which port a person decided, or why no one did. */
  port: DeciderPort | GatehousePort;
  reason: string;
  /** For a step-up call: when the approver signed in afresh (ms), from the ID token's auth_time. */
  authTime?: number;
}
