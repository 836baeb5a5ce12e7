import type { ApprovalBroker, PendingApproval } from './broker.js';

/** What the elicitation port needs of a client session. */
export interface ElicitingSession {
  clientCapabilities: Record<string, unknown>;
  requestClient(method: string, params: Record<string, unknown>): { id: string; result: Promise<unknown> };
  cancelClientRequest(id: string, reason: string): void;
}

const ONE_HOUR = 3_600_000;

/** The form the client shows: plain data, so that it can be tested without a client. */
export function elicitationParams(pending: PendingApproval): Record<string, unknown> {
  const r = pending.request;
  return {
    message: `Gatehouse: allow ${r.server} / ${r.tool}?\n${r.reason}\nArguments: ${JSON.stringify(r.args)}`,
    requestedSchema: {
      type: 'object',
      properties: {
        decision: {
          type: 'string',
          title: 'Decision',
          oneOf: [
            { const: 'allow_once', title: 'Allow once' },
            { const: 'allow_1h', title: 'Allow for 1 hour' },
            { const: 'deny', title: 'Deny' },
          ],
          default: 'deny',
        },
        reason: { type: 'string', title: 'Reason (if you deny)' },
      },
      required: ['decision'],
    },
  };
}

/** Maps the client's elicitation answer to a decision. Anything but an explicit allow is a deny (fail closed). */
export function choiceFromElicitation(result: unknown): { action: 'allow'; for?: number } | { action: 'deny'; reason: string } {
  const r = result as { action?: string; content?: { decision?: unknown; reason?: unknown } } | undefined;
  if (r?.action !== 'accept') return { action: 'deny', reason: r?.action === 'decline' ? 'declined in the client' : 'dismissed in the client' };
  if (r.content?.decision === 'allow_once') return { action: 'allow' };
  if (r.content?.decision === 'allow_1h') return { action: 'allow', for: ONE_HOUR };
  return { action: 'deny', reason: typeof r.content?.reason === 'string' && r.content.reason ? r.content.reason : 'denied in the client' };
}

/**
 * Asks the MCP client itself, through `elicitation/create`, when its session declared the capability and
 * `approvals.elicitation` is on. Its answer is one more port: first decision wins, and a request that someone
 * else decided first is withdrawn from the client.
 */
export function attachElicitationPort(
  broker: ApprovalBroker,
  options: { enabled: () => boolean; session: (id: string) => ElicitingSession | undefined; principal: () => string },
): void {
  const asked = new Map<string, { session: ElicitingSession; requestId: string }>();
  broker.on('pending', (pending) => {
    if (!options.enabled()) return;
    const session = options.session(pending.request.sessionId);
    if (!session || session.clientCapabilities.elicitation === undefined) return;
    const { id, result } = session.requestClient('elicitation/create', elicitationParams(pending));
    asked.set(pending.id, { session, requestId: id });
    result.then(
      (answer) => void broker.decide(pending.id, choiceFromElicitation(answer), { principal: options.principal(), port: 'elicitation' }),
      () => undefined, // withdrawn, or the client went away: other ports still decide
    );
  });
  broker.on('resolved', (pending, outcome) => {
    const entry = asked.get(pending.id);
    asked.delete(pending.id);
    if (entry && outcome.port !== 'elicitation') entry.session.cancelClientRequest(entry.requestId, `decided elsewhere (${outcome.port})`);
  });
}
