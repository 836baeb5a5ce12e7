import { ApprovalBroker } from '../approvals/broker.js';
import type { Clock } from '../approvals/clock.js';
import { attachElicitationPort } from '../approvals/elicitation-port.js';
import { GrantStore } from '../approvals/grants.js';
import type { OpenAudit } from '../audit/open-audit.js';
import type { LiveConfig } from '../config/live-config.js';
import { formatProblem } from '../config/load.js';
import type { GatehouseConfig } from '../config/schema.js';
import { CallPath, recordGatewayEvents } from '../gateway/call-path.js';
import { Gateway, type GatewayLimits } from '../gateway/gateway.js';
import { PinStore } from '../policy/pin-store.js';

export interface Wired {
  gateway: Gateway;
  path: CallPath;
  broker: ApprovalBroker;
  grants: GrantStore;
  pins: PinStore;
}

export function limitsOf(config: GatehouseConfig): GatewayLimits {
  const g = config.gateway;
  return { maxSessions: g.maxSessions, idleTimeoutMs: g.idleTimeout, maxMessageSize: g.maxBodySize, sleepAfterMs: g.sleepAfter, maxLiveServers: g.maxLiveServers };
}

/**
 * The gateway and its call path (gateway/call-path.ts: record, decide, hold, record the decision, forward),
 * with what the path decides on (live policy, pins, grants, the approval broker and its ports) and what
 * keeps them current (config reloads). Observers (the log's session events) subscribe; nothing that decides
 * is plugged in.
 */
export async function wireGateway(o: { dataDir: string; live: LiveConfig; audit: OpenAudit; principal: () => string; groups: () => string[]; signedIn: () => boolean; accessToken: () => string | undefined; clock: Clock }): Promise<Wired> {
  const { live, audit } = o;
  const grants = await GrantStore.open(o.dataDir);
  const pins = await PinStore.open(o.dataDir, { mask: (v) => o.live.current.masker.json(v) });
  const broker = new ApprovalBroker(grants, () => live.current.config.approvals.timeout, o.clock);
  // What the path decides with, as one object per config version (not a new one per message).
  const snapshot = () => ({ policy: live.current.policy, masker: live.current.masker, inline: live.current.config.masking.inline ? live.current.inlineMasker : undefined, requireSignIn: live.current.config.identity?.required ?? false });
  let current = snapshot();
  live.on('reloaded', () => (current = snapshot()));
  const path = new CallPath({
    recorder: audit.recorder,
    live: () => current,
    pins,
    grants,
    approvals: broker,
    principal: () => ({ id: o.principal(), groups: o.groups(), signedIn: o.signedIn() }),
    now: () => o.clock.now(),
    progressEveryMs: () => Math.max(250, Math.min(5000, Math.floor(live.current.config.approvals.timeout / 4))),
    requestTimeoutMs: () => live.current.config.gateway.requestTimeout,
  });
  const config = live.current.config;
  const gateway = new Gateway(config.servers, limitsOf(config), path, undefined, o.accessToken);
  recordGatewayEvents(gateway.events, audit.recorder);
  attachElicitationPort(broker, { enabled: () => live.current.config.approvals.elicitation, session: (id) => gateway.session(id), principal: o.principal });

  live.on('reloaded', (state) => {
    gateway.reconfigure(state.config.servers, limitsOf(state.config));
    void audit.log.append({ ts: new Date().toISOString(), kind: 'event', event: 'config-reloaded', detail: { file: live.file } }).catch(() => undefined);
  });
  live.on('invalid', (problems) => {
    gateway.events.emit('warning', { message: `${live.file} was changed but does not validate; the previous config stays in force:\n${problems.map(formatProblem).join('\n')}` });
  });
  live.watch();
  return { gateway, path, broker, grants, pins };
}
