import { ensureDataDir, loadOrCreateToken } from '../config/data-dir.js';
import { createHmac } from 'node:crypto';
import { noApprover } from '../approvals/port.js';
import { loadOrCreateAuditKey } from '../audit/checkpoint.js';
import { localPrincipal } from '../audit/open-audit.js';
import { LiveConfig } from '../config/live-config.js';
import { configPath, formatProblem, loadConfigFile } from '../config/load.js';
import { inlineMasker } from '../masking/inline-masker.js';
import { PinStore } from '../policy/pin-store.js';
import { PolicyEnforcer } from '../policy/enforcer.js';
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
  live: LiveConfig;
  pins: PinStore;
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
  const gateway = new Gateway(config.servers, limitsOf(config));
  const auditKey = loadOrCreateAuditKey(dataDir);
  const live = new LiveConfig(configFile, config, createHmac('sha256', auditKey).update('gatehouse-masking-v1').digest());
  const audit = await openAudit(dataDir, live, gateway, auditKey);
  const pins = await PinStore.open(dataDir);
  const principal = localPrincipal();
  const enforcer = new PolicyEnforcer({
    live: () => live.current,
    pins,
    approvals: () => noApprover,
    note: (ctx, fields) => audit.recorder.note(ctx, fields),
    principal: () => ({ id: principal, groups: [] }),
  });
  gateway.setInterceptors([audit.recorder, enforcer, inlineMasker(() => ({ masker: live.current.masker, inline: live.current.config.masking.inline }))]);
  gateway.events.on('session-end', (e) => enforcer.forget(e.sessionId));
  live.on('reloaded', (state) => {
    gateway.reconfigure(state.config.servers, limitsOf(state.config));
    void audit.log.append({ ts: new Date().toISOString(), kind: 'event', event: 'config-reloaded', detail: { file: configFile } }).catch(() => undefined);
  });
  live.on('invalid', (problems) => {
    gateway.events.emit('warning', {
      message: `${configFile} was changed but does not validate; the previous config stays in force:\n${problems.map(formatProblem).join('\n')}`,
    });
  });
  live.watch();
  const startedAt = Date.now();
  let url = '';
  const api = createCoreApi({ gateway, config: () => live.current.config, version: VERSION, url: () => url, dataDir, configFile, startedAt, configErrors: () => live.lastError?.map(formatProblem) });
  const server = await startGatewayServer({
    gateway,
    token,
    port: options.port ?? config.gateway.port,
    limits: () => ({ maxBodySize: live.current.config.gateway.maxBodySize }),
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
    live,
    pins,
    config,
    token,
    port: server.port,
    url,
    dataDir,
    configFile,
    stop: () =>
      (stopping ??= (async () => {
        removeRuntimeInfo(dataDir);
        live.close();
        await gateway.close();
        await server.close();
        await audit.close();
      })()),
  };
}

function limitsOf(config: GatehouseConfig): { maxSessions: number; idleTimeoutMs: number } {
  return { maxSessions: config.gateway.maxSessions, idleTimeoutMs: config.gateway.idleTimeout };
}
