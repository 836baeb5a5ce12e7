/** A call that policy holds for a person to decide. */
export interface ApprovalRequest {
  sessionId: string;
  server: string;
  tool: string;
  /** Arguments as stored (masked). */
  args: unknown;
  principal: string;
  client: { name?: string; version?: string };
  rule: string | undefined;
  reason: string;
  approvers: readonly string[];
  /** Digest of the real arguments, so that a grant can be bound to them. */
  argsDigest: string;
  /** The real arguments, for matching grants; never shown or stored (the broker drops them at once). */
  rawArgs?: unknown;
}

export interface ApprovalOutcome {
  action: 'allow' | 'deny';
  /** Who decided (a principal), or `gatehouse` when no one could. */
  by: string;
  /** Through which port: tray, dialog, web, cli, elicitation — or `none`. */
  port: string;
  reason: string;
}

/** Where held calls go to be decided: the approval broker (approvals/broker.ts). */
export interface ApprovalPort {
  request(request: ApprovalRequest): Promise<ApprovalOutcome>;
}
