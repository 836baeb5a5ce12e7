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
}

export interface ApprovalOutcome {
  action: 'allow' | 'deny';
  /** Who decided (a principal), or `gatehouse` when no one could. */
  by: string;
  /** Through which port: tray, dialog, web, cli, elicitation — or `none`. */
  port: string;
  reason: string;
}

/** Where held calls go to be decided. The broker (step 4) implements it; until then only `noApprover` does. */
export interface ApprovalPort {
  request(request: ApprovalRequest): Promise<ApprovalOutcome>;
}

/** Fail closed: with no one to ask, a call that needs approval is denied, and the reason says why. */
export const noApprover: ApprovalPort = {
  request: async (req) => ({
    action: 'deny',
    by: 'gatehouse',
    port: 'none',
    reason: `${req.reason} — this call needs approval${req.rule ? ` (rule "${req.rule}")` : ''}, and no approver is connected, so it was denied`,
  }),
};
