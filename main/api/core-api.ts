import { isStdioServer, type GatehouseConfig } from '../config/schema.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ApprovalBroker } from '../approvals/broker.js';
import type { GrantStore } from '../approvals/grants.js';
import { toApprovalView } from '../approvals/view.js';
import type { ApprovalDecision, ApprovalView, DecisionResult, GatehouseApi, GatewayStatus, GrantView, IntegrityReport, LiveSession, ServerEntry } from './types.js';

export interface CoreApiContext {
  gateway: Gateway;
  config: () => GatehouseConfig;
  version: string;
  url: () => string;
  dataDir: string;
  configFile: string;
  startedAt: number;
  /** Problems of the last edit of gatehouse.yaml that did not validate (the previous config is in force). */
  configErrors: () => string[] | undefined;
  broker: ApprovalBroker;
  grants: GrantStore;
  /** Who decides through this gateway's own ports (the OS user before sign-in). */
  principal: () => string;
  now: () => number;
  verify: () => IntegrityReport;
}

/** The core's implementation of GatehouseApi, shared by both shells. */
export function createCoreApi(ctx: CoreApiContext): GatehouseApi {
  return {
    async status(): Promise<GatewayStatus> {
      return {
        version: ctx.version,
        url: ctx.url(),
        dataDir: ctx.dataDir,
        configFile: ctx.configFile,
        startedAt: ctx.startedAt,
        activeSessions: ctx.gateway.sessionCount,
        ...(ctx.configErrors() ? { configErrors: ctx.configErrors() } : {}),
      };
    },
    async servers(): Promise<ServerEntry[]> {
      const live = ctx.gateway.list();
      return describeServers(ctx.config(), ctx.url()).map((s) => ({
        ...s,
        activeSessions: live.filter((l) => l.server === s.name).length,
      }));
    },
    async liveSessions(): Promise<LiveSession[]> {
      return ctx.gateway.list();
    },
    async approvals(): Promise<ApprovalView[]> {
      return ctx.broker.list().map(toApprovalView);
    },
    async decideApproval(id: string, decision: ApprovalDecision, port: string): Promise<DecisionResult> {
      const choice = decision.action === 'allow' ? { action: 'allow' as const, for: decision.forMs, bindArgs: decision.bindArgs } : { action: 'deny' as const, reason: decision.reason };
      const result = await ctx.broker.decide(id, choice, { principal: ctx.principal(), port });
      if (result.ok) return { ok: true, message: result.outcome.reason };
      return { ok: false, message: result.why === 'already-decided' ? `approval ${id} was already decided` : `no pending approval ${id}; \`gatehouse approvals\` lists them` };
    },
    async grants(): Promise<GrantView[]> {
      return ctx.grants.active(ctx.now()).map((g) => ({ id: g.id, principal: g.principal, server: g.server, tool: g.tool, boundToArgs: g.argsDigest !== undefined, createdAt: g.createdAt, expiresAt: g.expiresAt, by: g.by, port: g.port }));
    },
    async verify(): Promise<IntegrityReport> {
      const r = ctx.verify();
      return { ok: r.ok, records: r.records, segments: r.segments, bytes: r.bytes, checkpointsChecked: r.checkpointsChecked, ...(r.problem ? { problem: r.problem } : {}) };
    },
    async revokeGrant(id: string): Promise<DecisionResult> {
      const grant = await ctx.grants.revoke(id);
      return grant ? { ok: true, message: `revoked the grant for ${grant.server} / ${grant.tool}` } : { ok: false, message: `no grant ${id} (or more than one starts with it)` };
    },
  };
}

export function describeServers(config: GatehouseConfig, baseUrl: string): ServerEntry[] {
  return Object.entries(config.servers).map(([name, server]) => ({
    name,
    transport: isStdioServer(server) ? 'stdio' : server.transport,
    target: isStdioServer(server) ? [server.command, ...server.args].join(' ') : server.url,
    endpoint: `${baseUrl}/mcp/${encodeURIComponent(name)}`,
    activeSessions: 0,
  }));
}
