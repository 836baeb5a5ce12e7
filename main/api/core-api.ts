import { isStdioServer, type GatehouseConfig } from '../config/schema.js';
import type { Gateway } from '../gateway/gateway.js';
import type { GatehouseApi, GatewayStatus, LiveSession, ServerEntry } from './types.js';

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
