import { ApprovalBroker } from '../approvals/broker.js';
import type { Clock } from '../approvals/clock.js';
import { attachElicitationPort } from '../approvals/elicitation-port.js';
import { GrantStore } from '../approvals/grants.js';
import type { OpenAudit } from '../audit/open-audit.js';
import type { LiveConfig } from '../config/live-config.js';
import { formatProblem } from '../config/load.js';
import type { GatehouseConfig } from '../config/schema.js';
import type { Gateway } from '../gateway/gateway.js';
import { inlineMasker } from '../masking/inline-masker.js';
import { PolicyEnforcer } from '../policy/enforcer.js';
import { PinStore } from '../policy/pin-store.js';

export interface Wired {
  broker: ApprovalBroker;
  grants: GrantStore;
  pins: PinStore;
}

export function limitsOf(config: GatehouseConfig): { maxSessions: number; idleTimeoutMs: number } {
  return { maxSessions: config.gateway.maxSessions, idleTimeoutMs: config.gateway.idleTimeout };
}

/**
 * The message pipeline, in order: record (every message, masked), decide (policy, tool pins, approvals —
 * the decision made durable with the request), mask inline (if configured). Plus what keeps it current:
 * config reloads, and the approval broker's ports.
 */
export async function wirePipeline(o: { dataDir: string; gateway: Gateway; live: LiveConfig; audit: OpenAudit; principal: string; clock: Clock }): Promise<Wired> {
  const { gateway, live, audit } = o;
  const grants = await GrantStore.open(o.dataDir);
  const pins = await PinStore.open(o.dataDir);
  const broker = new ApprovalBroker(grants, () => live.current.config.approvals.timeout, o.clock);
  attachElicitationPort(broker, { enabled: () => live.current.config.approvals.elicitation, session: (id) => gateway.session(id), principal: () => o.principal });

  const enforcer = new PolicyEnforcer({
    live: () => live.current,
    pins,
    approvals: () => broker,
    note: (ctx, fields) => audit.recorder.note(ctx, fields),
    principal: () => ({ id: o.principal, groups: [] }),
    now: () => o.clock.now(),
    progressEveryMs: Math.max(250, Math.min(5000, Math.floor(live.current.config.approvals.timeout / 4))),
  });
  gateway.setInterceptors([audit.recorder, enforcer, inlineMasker(() => ({ masker: live.current.masker, inline: live.current.config.masking.inline }))]);
  gateway.events.on('session-end', (e) => enforcer.forget(e.sessionId));

  live.on('reloaded', (state) => {
    gateway.reconfigure(state.config.servers, limitsOf(state.config));
    void audit.log.append({ ts: new Date().toISOString(), kind: 'event', event: 'config-reloaded', detail: { file: live.file } }).catch(() => undefined);
  });
  live.on('invalid', (problems) => {
    gateway.events.emit('warning', { message: `${live.file} was changed but does not validate; the previous config stays in force:\n${problems.map(formatProblem).join('\n')}` });
  });
  live.watch();
  return { broker, grants, pins };
}
