import { systemClock, type Clock } from '../approvals/clock.js';
import type { ApprovalBroker } from '../approvals/broker.js';
import type { GrantStore } from '../approvals/grants.js';
import { loadOrCreateAuditKey, type AuditKeyStore } from '../audit/checkpoint.js';
import { localPrincipal, openAudit, type OpenAudit } from '../audit/open-audit.js';
import type { MarkCopy } from '../audit/segment-writer.js';
import { API_TOKEN_FILE, ensureDataDir, loadOrCreateToken } from '../config/data-dir.js';
import { LiveConfig } from '../config/live-config.js';
import { configPath, formatProblem, loadConfigFile } from '../config/load.js';
import { acquireInstanceLock, GatewayAlreadyRunning, type InstanceLock } from '../config/instance-lock.js';
import { readRuntimeInfo, removeRuntimeInfo, writeRuntimeInfo } from '../config/runtime-file.js';
import type { GatehouseConfig } from '../config/schema.js';
import { startGatewayServer, type RequestHandler } from '../gateway/downstream/http-server.js';
import type { Gateway } from '../gateway/gateway.js';
import { verifyAuditDirAsync } from '../audit/verify-files.js';
import { maskingKeyFrom } from '../masking/masker.js';
import { IdentityState } from '../identity/identity-state.js';
import { fileSessionStore, type SessionStore } from '../identity/session-store.js';
import { publicKeyPem, signingKeyFrom } from '../audit/signing.js';
import type { PinStore } from '../policy/pin-store.js';
import { createCoreApi, type CoreApiContext } from './core-api.js';
import { ChangeFeed } from './change-feed.js';
import { Forwarder } from '../forwarding/forwarder.js';
import { createApiRoutes } from './http-routes.js';
import { wireGateway } from './pipeline-wiring.js';
import type { CoreApi, ForwardingStatus } from './types.js';
import { VERSION } from './version.js';
import { OAuthStore } from '../gateway/oauth/oauth-store.js';
import { GatehouseOAuthProvider } from '../gateway/oauth/provider.js';

export interface StartOptions {
  dataDir: string;
  /** Overrides `<dataDir>/gatehouse.yaml`. */
  configFile?: string;
  /** Overrides gateway.port from the config. */
  port?: number;
  shell: 'desktop' | 'headless';
  /** The HTTP surface beyond /mcp: by default the JSON API; the headless shell adds the web UI. `token` is the API token. */
  web?: (ctx: { api: CoreApi; token: string; changes: ChangeFeed }) => RequestHandler;
  /** Time for approvals and grants (tests move it). */
  clock?: Clock;
  /** Where the audit checkpoint key lives, if not in a key file (the desktop's OS keychain). */
  keyStore?: AuditKeyStore;
  /** Where a copy of the head mark is kept outside the data directory (the desktop's settings), to catch a rollback. */
  markCopy?: MarkCopy;
  /** Where the signed-in session is kept, if not in identity.json (the desktop encrypts it with safeStorage). */
  sessionStore?: SessionStore;
  /** Where MCP clients keep their configs, and the command a wired entry starts (`gatehouse clients`). */
  clients?: CoreApiContext['clients'];
}

export interface RunningGatehouse {
  api: CoreApi;
  changes: ChangeFeed;
  gateway: Gateway;
  /** The local authorization server: clients' sign-ins waiting for consent, and the answers. */
  oauth: GatehouseOAuthProvider;
  audit: OpenAudit;
  live: LiveConfig;
  pins: PinStore;
  broker: ApprovalBroker;
  grants: GrantStore;
  config: GatehouseConfig;
  /** Who the gateway acts for now (the tray shows it). */
  identity(): { principal: string; signedIn: boolean; configured: boolean };
  /** What MCP clients present on /mcp/… */
  token: string;
  /** What the CLI and the web UI present on /api/… (never an MCP client: it could decide its own approvals). */
  apiToken: string;
  port: number;
  url: string;
  dataDir: string;
  configFile: string;
  /** Where the forwarding to the collector stands (enabled false without `forwarding:`). */
  forwarding(): ForwardingStatus;
  stop(): Promise<void>;
}

/**
 * Starts the core: reads and validates the config (refusing to start on a bad one), makes sure the token
 * and keys exist, opens the audit log, wires the pipeline, and serves the gateway on 127.0.0.1. Both shells
 * call this; neither duplicates any of it.
 */
export async function startGatehouse(options: StartOptions): Promise<RunningGatehouse> {
  const clock = options.clock ?? systemClock;
  const dataDir = ensureDataDir(options.dataDir);
  const configFile = configPath(dataDir, options.configFile);
  const config = loadConfigFile(configFile, { create: options.configFile === undefined });
  const lock = await lockDataDir(dataDir);
  try {
    return await startLocked(options, { clock, dataDir, configFile, config, lock });
  } catch (err) {
    await lock.release();
    throw err;
  }
}

/** One gateway per data directory: the second one says which is running, and starts nothing. */
async function lockDataDir(dataDir: string): Promise<InstanceLock> {
  try {
    return await acquireInstanceLock(dataDir);
  } catch (err) {
    if (!(err instanceof GatewayAlreadyRunning)) throw err;
    const other = readRuntimeInfo(dataDir);
    const which = other ? ` (pid ${other.pid}, ${other.url}, the ${other.shell === 'desktop' ? 'desktop app' : '`gatehouse serve`'} started ${new Date(other.startedAt).toISOString()})` : '';
    throw new GatewayAlreadyRunning(`another Gatehouse gateway is already running on ${dataDir}${which}; stop it first, or give this one its own GATEHOUSE_HOME`);
  }
}

async function startLocked(
  options: StartOptions,
  { clock, dataDir, configFile, config, lock }: { clock: Clock; dataDir: string; configFile: string; config: GatehouseConfig; lock: InstanceLock },
): Promise<RunningGatehouse> {
  const token = loadOrCreateToken(dataDir);
  const apiToken = loadOrCreateToken(dataDir, API_TOKEN_FILE);
  // The local authorization server: clients that speak MCP authorization sign in and get tokens of their own.
  const oauthStore = await OAuthStore.open(dataDir);
  const oauth = new GatehouseOAuthProvider(oauthStore, {
    baseUrl: () => url,
    now: () => clock.now(),
    // (A token is for one endpoint of this gateway: `…/mcp/NAME` of a configured server.)
    resource: (href) => {
      const name = href.startsWith(`${url}/mcp/`) ? href.slice(`${url}/mcp/`.length) : undefined;
      return name !== undefined && /^[^/?#]+$/.test(name) && gateway.hasServer(decodeURIComponent(name));
    },
  });
  const auditKey = loadOrCreateAuditKey(dataDir, options.keyStore);
  const live = new LiveConfig(configFile, config, maskingKeyFrom(auditKey));
  const local = localPrincipal();
  const sessionStore = options.sessionStore ?? fileSessionStore(dataDir);
  const identity = new IdentityState({ dataDir, store: sessionStore, local, settings: () => live.current.config.identity });
  // The stored sign-in is checked against the provider's keys before the first call (a few seconds at most:
  // an unreachable provider leaves nobody signed in until it answers, which fails closed).
  await Promise.race([identity.ready(), new Promise((r) => setTimeout(r, 3000).unref())]);
  const principal = () => identity.principal();
  const audit = await openAudit(dataDir, live, auditKey, options.markCopy, principal, () => identity.groups());
  const { gateway, path, broker, grants, pins } = await wireGateway({ dataDir, live, audit, principal, groups: () => identity.groups(), signedIn: () => identity.current() !== undefined, accessToken: () => identity.current()?.accessToken, clock });
  // What the UI shows changes when records are committed, approvals come and go, or the config reloads.
  const changes = new ChangeFeed();
  // Only what the log made durable is forwarded: its newest committed seq, moved by the commits themselves.
  let committedSeq = audit.log.lastSeq;
  const forwarder = new Forwarder({ dataDir, auditDir: audit.dir, auditKey, settings: () => live.current.config.forwarding, committedSeq: () => committedSeq });
  const indexCommit = audit.log.onCommit;
  audit.log.onCommit = (records) => {
    indexCommit?.(records);
    for (const r of records) committedSeq = Math.max(committedSeq, r.seq);
    forwarder.notify();
    for (const r of records) if (r.entry.session) changes.notify({ kind: 'records', session: r.entry.session });
  };
  broker.on('pending', () => changes.notify({ kind: 'approvals' }));
  broker.on('resolved', () => changes.notify({ kind: 'approvals' }));
  // (A sign-in answered in the desktop's dialog: the consent page in the browser follows it.)
  oauth.on('answer', () => changes.notify({ kind: 'approvals' }));
  // A refused approval is evidence too: who tried, and why they may not.
  broker.on('refused', (p, by, why) => void audit.recorder.event(p.request.sessionId, p.request.server, 'approval-refused', { approvalId: p.id, by: by.principal, port: by.port, groups: by.groups ?? [], reason: why }, { tool: p.request.tool }));
  live.on('reloaded', () => changes.notify({ kind: 'config' }));
  live.on('invalid', () => changes.notify({ kind: 'config' }));

  const startedAt = Date.now();
  let url = '';
  const api = createCoreApi({
    gateway,
    forwarding: () => forwarder.status(),
    config: () => live.current.config,
    version: VERSION,
    url: () => url,
    dataDir,
    configFile,
    startedAt,
    configErrors: () => live.lastError?.map(formatProblem),
    broker,
    grants,
    principal,
    groups: () => identity.groups(),
    signedIn: () => identity.current() !== undefined,
    authTime: async () => {
      identity.current(true);
      await identity.ready();
      return identity.current()?.authTime;
    },
    sessionStore,
    now: () => clock.now(),
    // Flushed first: then nothing is in flight, and the check is as strict as on a stopped log (a deleted head
    // mark or records no commit mark vouches for fail, whoever claims to be writing).
    verify: async () => {
      await audit.log.flush();
      return verifyAuditDirAsync(audit.dir, { key: auditKey });
    },
    pins,
    audit,
    recording: audit.recorder,
    maskText: (value) => live.current.masker.text(value),
    ...(options.clients ? { clients: options.clients } : {}),
    publicKeyPem: publicKeyPem(signingKeyFrom(auditKey).publicKey),
    oauth: { provider: oauth, store: oauthStore },
  });
  const server = await startGatewayServer({
    gateway,
    token,
    port: options.port ?? config.gateway.port,
    limits: () => ({ maxBodySize: live.current.config.gateway.maxBodySize }),
    oauth,
    fallback: options.web ? options.web({ api, token: apiToken, changes }) : createApiRoutes({ api, token: apiToken, changes }),
  }).catch(async (err: unknown) => {
    // The port is taken: what was opened is closed again (the desktop app lives on and may try another port).
    identity.close();
    live.close();
    pins.close();
    await gateway.close();
    await audit.close();
    throw err;
  });
  url = server.url;
  gateway.startReaper();
  await forwarder.start();
  live.on('reloaded', () => {
    forwarder.reconfigured();
    forwarder.notify();
  });
  writeRuntimeInfo(dataDir, { pid: process.pid, port: server.port, url, startedAt, shell: options.shell });

  let stopping: Promise<void> | undefined;
  return {
    api,
    changes,
    gateway,
    oauth,
    audit,
    live,
    pins,
    broker,
    grants,
    config,
    forwarding: () => forwarder.status(),
    identity: () => ({ principal: identity.principal(), signedIn: identity.current() !== undefined, configured: live.current.config.identity !== undefined }),
    token,
    apiToken,
    port: server.port,
    url,
    dataDir,
    configFile,
    stop: () =>
      (stopping ??= (async () => {
        removeRuntimeInfo(dataDir);
        identity.close();
        live.close();
        pins.close();
        // No new sessions; calls still waiting for a person are denied, and their denial recorded and sent,
        // before the sessions close (which answers, and records, whatever is still in flight).
        gateway.refuseNewSessions();
        broker.denyAll('the gateway stopped before anyone decided');
        await path.settled();
        await gateway.close();
        await server.close();
        await audit.close();
        committedSeq = Math.max(committedSeq, audit.log.lastSeq); // closed: everything it wrote is durable
        // The last records (the sessions' ends, the closing checkpoint) go out now if the collector answers at
        // once; otherwise they wait in the log for the next start.
        await Promise.race([forwarder.drain(), new Promise((r) => setTimeout(r, 3000).unref())]);
        await forwarder.stop();
        await lock.release();
      })()),
  };
}
