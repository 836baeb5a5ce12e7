import { ensureDataDir, loadOrCreateToken } from '../config/data-dir.js';
import { configPath, loadConfigFile } from '../config/load.js';
import { removeRuntimeInfo, writeRuntimeInfo } from '../config/runtime-file.js';
import type { GatehouseConfig } from '../config/schema.js';
import { startGatewayServer, type RequestHandler } from '../gateway/downstream/http-server.js';
import { Gateway } from '../gateway/gateway.js';
import { createCoreApi } from './core-api.js';
import type { GatehouseApi } from './types.js';
import { VERSION } from './version.js';
import { openAudit, type OpenAudit } from '../audit/open-audit.js';

export interface StartOptions {
  dataDir: string;
  /** Overrides `<dataDir>/gatehouse.yaml`. */
  configFile?: string;
  /** Overrides gateway.port from the config. */
  port?: number;
  shell: 'desktop' | 'headless';
  /** Extra HTTP surface beyond /mcp (the web shell's API and UI). */
  web?: (ctx: { api: GatehouseApi; token: string }) => RequestHandler;
}

export interface RunningGatehouse {
  api: GatehouseApi;
  gateway: Gateway;
  audit: OpenAudit;
  config: GatehouseConfig;
  token: string;
  port: number;
  url: string;
  dataDir: string;
  configFile: string;
  stop(): Promise<void>;
}

/**
 * Starts the core: reads and validates the config (refusing to start on a bad one), makes sure the token
 * exists, and serves the gateway on 127.0.0.1. Both shells call this; neither duplicates any of it.
 */
export async function startGatehouse(options: StartOptions): Promise<RunningGatehouse> {
  const dataDir = ensureDataDir(options.dataDir);
  const configFile = configPath(dataDir, options.configFile);
  const config = loadConfigFile(configFile);
  const token = loadOrCreateToken(dataDir);
  const limits = () => ({ maxSessions: config.gateway.maxSessions, idleTimeoutMs: config.gateway.idleTimeout });
  const gateway = new Gateway(config.servers, limits());
  const audit = await openAudit(dataDir, config, gateway);
  const startedAt = Date.now();
  let url = '';
  const api = createCoreApi({ gateway, config: () => config, version: VERSION, url: () => url, dataDir, configFile, startedAt });
  const server = await startGatewayServer({
    gateway,
    token,
    port: options.port ?? config.gateway.port,
    limits: () => ({ maxBodySize: config.gateway.maxBodySize }),
    ...(options.web ? { fallback: options.web({ api, token }) } : {}),
  });
  url = server.url;
  gateway.startReaper();
  writeRuntimeInfo(dataDir, { pid: process.pid, port: server.port, url, startedAt, shell: options.shell });

  let stopping: Promise<void> | undefined;
  return {
    api,
    gateway,
    audit,
    config,
    token,
    port: server.port,
    url,
    dataDir,
    configFile,
    stop: () =>
      (stopping ??= (async () => {
        removeRuntimeInfo(dataDir);
        await gateway.close();
        await server.close();
        await audit.close();
      })()),
  };
}
