import type { ApprovalView } from '../api/types.js';
import type { PendingApproval } from './broker.js';

/** A pending call as every port shows it (arguments as stored: masked). */
export function toApprovalView(p: PendingApproval): ApprovalView {
  return {
    id: p.id,
    sessionId: p.request.sessionId,
    server: p.request.server,
    tool: p.request.tool,
    args: p.request.args,
    principal: p.request.principal,
    client: p.request.client,
    ...(p.request.rule ? { rule: p.request.rule } : {}),
    reason: p.request.reason,
    toolChanged: p.request.toolChanged,
    ...(p.request.reauth ? { reauth: true } : {}),
    createdAt: p.createdAt,
    expiresAt: p.expiresAt,
  };
}
