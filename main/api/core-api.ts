import { isStdioServer, type GatehouseConfig } from '../config/schema.js';
import type { Gateway } from '../gateway/gateway.js';
import type { ApprovalBroker } from '../approvals/broker.js';
import type { GrantStore } from '../approvals/grants.js';
import { toApprovalView } from '../approvals/view.js';
import { readSessionRecords, sessionOfLine } from '../audit/reader.js';
import { ANCHOR_FILE, HEAD_FILE } from '../audit/segment-files.js';
import { readMark } from '../audit/segment-writer.js';
import type { SessionIndex } from '../audit/session-index.js';
import { filterSessions, searchSessions, toTimelineRecord } from '../audit/timeline.js';
import { maskClient } from '../masking/masker.js';
import { endSessionUrl, login } from '../identity/oidc-login.js';
import type { SessionStore } from '../identity/session-store.js';
import { join } from 'node:path';
import type { Platform } from '../clients/client-catalogue.js';
import { discoverClients, gatewayPortOf } from '../clients/discover.js';
import { clientViews, firstRunHint, unwireClients, wireClients, type WiringReport, type WiringTarget } from '../clients/wiring.js';
import type { DeciderPort } from '../approvals/decider-port.js';
import { PendingChanged, type PinStore } from '../policy/pin-store.js';
import type { GatehouseOAuthProvider } from '../gateway/oauth/provider.js';
import { registrationView, type OAuthStore } from '../gateway/oauth/oauth-store.js';
import type { ApprovalDecision, ApprovalView, ClientsOverview, ConsentView, CoreApi, DecisionResult, ForwardingStatus, GatehouseApi, GatewayStatus, GrantView, IntegrityReport, IntegrityView, LiveSession, PolicyView, RecordingResult, RegistrationView, ServerEntry, SessionFilter, SessionPage, TimelineRecord } from './types.js';

export interface CoreApiContext {
  gateway: Gateway;
  /** The forwarder's state (enabled false without `forwarding:`). */
  forwarding?: () => ForwardingStatus;
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
  /** The signed-in user's groups (none before sign-in). */
  groups: () => readonly string[];
  signedIn: () => boolean;
  /** When the signed-in user last authenticated at the provider (ms). */
  authTime: () => Promise<number | undefined>;
  /** Where the signed-in session is kept (the same store `gatehouse login` writes, headless). */
  sessionStore: SessionStore;
  now: () => number;
  /** Verifies the log with the key: everything written so far is flushed first, so that nothing is in flight. */
  verify: () => Promise<IntegrityReport>;
  pins: PinStore;
  audit: { dir: string; index: SessionIndex };
  /** Recording's pause (the tray's "Pause recording"): while paused, messages pass unrecorded; the pause itself is recorded. */
  recording: { readonly isPaused: boolean; setPaused(paused: boolean): Promise<void> };
  /** The log's public key (PEM), derived from the key the gateway holds (not read from the file beside the log, which can be replaced). */
  publicKeyPem: string;
  /** Masks what the API shows that a peer or the config may hold a secret in (server command lines, client names). */
  maskText: (value: string) => string;
  /** Where to look for MCP clients' configs, and the command a wired entry starts (none: this shell cannot wire). */
  clients?: { platform: Platform; shim?: string[] };
  /** The local authorization server (MCP authorization), when the gateway runs one. */
  oauth?: { provider: GatehouseOAuthProvider; store: OAuthStore };
}

/** A client-chosen text as a consent shows it: no control, format or bidi characters, blanks collapsed, bounded; never empty. */
export function shownName(text: string, max = 64): string {
  const plain = text.replace(/[\t\n\v\f\r\u2028\u2029]/g, ' ').replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, '').replace(/\s+/g, ' ').trim();
  const cut = [...plain].length > max ? `${[...plain].slice(0, max - 1).join('')}…` : plain;
  return cut === '' ? '(no name)' : cut;
}

/** The core's implementation of GatehouseApi, shared by both shells. */
export function createCoreApi(ctx: CoreApiContext): CoreApi {
  let lastVerify: IntegrityView['lastVerify'];
  // One sign-in at a time: a second request while one waits for the browser gets the same address.
  let signingIn: { url: Promise<string> } | undefined;
  const core: CoreApi = {
    forPort(port: DeciderPort): GatehouseApi {
      return { ...core, decideApproval: (id, decision) => core.decideApproval(id, decision, port) };
    },
    async status(): Promise<GatewayStatus> {
      return {
        version: ctx.version,
        url: ctx.url(),
        dataDir: ctx.dataDir,
        configFile: ctx.configFile,
        startedAt: ctx.startedAt,
        activeSessions: ctx.gateway.sessionCount,
        sleepingSessions: ctx.gateway.sleepingCount,
        ...(ctx.configErrors() ? { configErrors: ctx.configErrors() } : {}),
        ...(ctx.audit.index.breaks().length ? { auditBreaks: ctx.audit.index.breaks() } : {}),
        identity: { principal: ctx.principal(), signedIn: ctx.signedIn(), groups: [...ctx.groups()], configured: ctx.config().identity !== undefined },
        ...(lastVerify && !lastVerify.ok && lastVerify.problem ? { auditBroken: lastVerify.problem } : {}),
        ...(ctx.forwarding ? { forwarding: ctx.forwarding() } : {}),
        ...(ctx.recording.isPaused ? { recordingPaused: true } : {}),
      };
    },
    async setRecordingPaused(paused: boolean): Promise<RecordingResult> {
      await ctx.recording.setPaused(paused);
      return { ok: true, paused: ctx.recording.isPaused, message: ctx.recording.isPaused ? 'recording is paused: messages pass through unrecorded until it is resumed' : 'recording is on' };
    },
    async servers(): Promise<ServerEntry[]> {
      const live = ctx.gateway.list();
      return describeServers(ctx.config(), ctx.url()).map((s) => ({
        ...s,
        // A command line or URL may carry a password (a database URL): shown masked, like everything else.
        target: ctx.maskText(s.target),
        activeSessions: live.filter((l) => l.server === s.name).length,
      }));
    },
    async liveSessions(): Promise<LiveSession[]> {
      return ctx.gateway.list().map((l) => ({ ...l, client: maskClient(l.client, ctx.maskText) }));
    },
    async approvals(): Promise<ApprovalView[]> {
      return ctx.broker.list().map(toApprovalView);
    },
    async decideApproval(id: string, decision: ApprovalDecision, port: DeciderPort): Promise<DecisionResult> {
      const choice = decision.action === 'allow' ? { action: 'allow' as const, for: decision.forMs, bindArgs: decision.bindArgs } : { action: 'deny' as const, reason: decision.reason };
      const result = await ctx.broker.decide(id, choice, { principal: ctx.principal(), groups: ctx.groups(), authTime: await ctx.authTime(), port });
      if (result.ok) return { ok: true, message: result.outcome.reason };
      if (result.why === 'not-an-approver' || result.why === 'needs-fresh-sign-in') return { ok: false, message: result.message };
      return result.why === 'already-decided' ? { ok: false, message: `approval ${id} was already decided` } : { ok: false, unknown: true, message: `no pending approval ${id}; \`gatehouse approvals\` lists them` };
    },
    async grants(): Promise<GrantView[]> {
      return ctx.grants.active(ctx.now()).map((g) => ({
        id: g.id,
        principal: g.scope.principal,
        server: g.scope.server,
        tool: g.scope.tool,
        boundToArgs: g.argsDigest !== undefined,
        rule: g.scope.rule,
        toolDefinition: g.scope.toolDefinition?.slice(0, 12) ?? null,
        createdAt: g.createdAt,
        expiresAt: g.expiresAt,
        by: g.by,
        port: g.port,
      }));
    },
    async verify(): Promise<IntegrityReport> {
      const started = performance.now();
      const r = await ctx.verify();
      const session = r.problem && r.problem.seq !== undefined ? await sessionOfLine(ctx.audit.dir, r.problem.segment, r.problem.line) : undefined;
      const problem = r.problem && { ...r.problem, ...(session !== undefined && ctx.audit.index.get(session) ? { session } : {}) };
      const report = { ok: r.ok, records: r.records, segments: r.segments, bytes: r.bytes, checkpointsChecked: r.checkpointsChecked, ...(problem ? { problem } : {}) };
      lastVerify = { ...report, at: Date.now(), seconds: (performance.now() - started) / 1000 };
      return report;
    },
    async sessions(filter: SessionFilter): Promise<SessionPage> {
      const all = ctx.audit.index.list();
      if (!filter.text?.trim()) return filterSessions(all, filter);
      // Text search reads only the segments of the sessions the other filters leave.
      const candidates = filterSessions(all, { ...filter, text: undefined, offset: 0, limit: 5000 }).sessions;
      const segments = new Set(candidates.flatMap((s) => s.segments));
      return filterSessions(all, filter, await searchSessions(ctx.audit.dir, [...segments].sort(), filter.text.trim()));
    },
    async sessionRecords(id: string): Promise<TimelineRecord[]> {
      return readSessionRecords(ctx.audit.dir, ctx.audit.index, id).map(toTimelineRecord);
    },
    async policy(): Promise<PolicyView> {
      const config = ctx.config();
      const hits = ctx.audit.index.ruleHits();
      return {
        default: config.policy.default,
        onToolChange: config.policy.on_tool_change ?? 'approve',
        configFile: ctx.configFile,
        rules: config.policy.rules.map((r) => ({
          name: r.name,
          action: r.action,
          ...(r.reason ? { reason: r.reason } : {}),
          hide: r.hide ?? false,
          match: describeMatch(r.match),
          hits: hits[r.name] ?? 0,
        })),
        ...(ctx.configErrors() ? { reloadErrors: ctx.configErrors() } : {}),
      };
    },
    async integrity(): Promise<IntegrityView> {
      const head = readMark(join(ctx.audit.dir, HEAD_FILE));
      const anchor = readMark(join(ctx.audit.dir, ANCHOR_FILE));
      return {
        dataDir: ctx.dataDir,
        auditDir: ctx.audit.dir,
        ...(head ? { head: { segment: head.segment, seq: head.seq, hash: head.hash } } : {}),
        ...(anchor ? { anchor: { seq: anchor.seq, hash: anchor.hash } } : {}),
        ...(lastVerify ? { lastVerify } : {}),
        breaks: ctx.audit.index.breaks(),
        publicKey: ctx.publicKeyPem,
        ...(ctx.forwarding ? { forwarding: ctx.forwarding() } : {}),
      };
    },
    async consent(id: string) {
      const answered = ctx.oauth?.provider.answer(id);
      const c = ctx.oauth?.provider.consent(id) ?? answered?.consent;
      if (!c) return { ok: false as const, message: 'no such sign-in is waiting: it was answered, or it expired (the client starts again)' };
      // The name is the client's claim: shown without the characters that would disguise it (bidi overrides,
      // invisible ones), on one line and short; the redirect URI as registered (loopback only), so its port shows.
      const view: ConsentView = { id: c.id, clientId: c.clientId, clientName: ctx.maskText(shownName(c.clientName)), redirectUri: shownName(c.redirectUri, 256), ...(c.params.resource ? { resource: c.params.resource.href } : {}), createdAt: c.createdAt };
      return { ok: true as const, consent: view, ...(answered ? { redirect: answered.redirect } : {}) };
    },
    async decideConsent(id: string, allow: boolean) {
      const redirect = await ctx.oauth?.provider.decide(id, allow);
      return redirect === undefined ? { ok: false as const, message: 'no such sign-in is waiting: it was answered, or it expired (the client starts again)' } : { ok: true as const, redirect };
    },
    async registrations(): Promise<RegistrationView[]> {
      return (ctx.oauth?.store.clients() ?? []).map((c) => registrationView(c, ctx.maskText));
    },
    async revokeRegistration(id: string): Promise<DecisionResult> {
      const revoked = await ctx.oauth?.store.revoke(id, ctx.now());
      // Its sessions end too: a stream it holds open would go on delivering after the revoke.
      if (revoked) {
        for (const live of ctx.gateway.list()) {
          const session = ctx.gateway.session(live.id);
          if (session?.client.registration === id) void session.close('the client was revoked in Gatehouse');
        }
      }
      return revoked ? { ok: true, message: `client ${id} revoked: its tokens no longer work` } : { ok: false, unknown: true, message: `no registered client ${id} (or it was revoked already); \`gatehouse clients\` lists them` };
    },
    async signIn() {
      const settings = ctx.config().identity;
      if (!settings) return { ok: false, message: 'sign-in is not configured: add `identity: { issuer, clientId }` to gatehouse.yaml' };
      if (!signingIn) {
        let found!: (url: string) => void;
        let failed!: (err: Error) => void;
        const url = new Promise<string>((resolve, reject) => ((found = resolve), (failed = reject)));
        signingIn = { url };
        void login(settings, { open: (u) => found(u) })
          .then((session) => ctx.sessionStore.write(session), (err: Error) => failed(err))
          .catch(() => undefined) // the data directory went away (the gateway is stopping): nothing to keep
          .finally(() => (signingIn = undefined));
      }
      try {
        return { ok: true, message: 'open this address to sign in; Gatehouse waits for the browser to come back', url: await signingIn.url };
      } catch (err) {
        return { ok: false, message: `sign-in could not start: ${(err as Error).message}` };
      }
    },
    async signOut() {
      const session = ctx.sessionStore.read();
      ctx.sessionStore.clear();
      if (!session) return { ok: true, message: 'nobody was signed in' };
      const settings = ctx.config().identity;
      const end = settings ? await endSessionUrl(settings, session).catch(() => undefined) : undefined;
      return { ok: true, message: `signed out ${session.email ?? session.sub}`, ...(end ? { endSessionUrl: end } : {}) };
    },
    async acceptPins(server, tool, fingerprint) {
      try {
        const accepted = await ctx.pins.accept(server, tool, { fingerprint });
        if (accepted.length === 0) return { ok: false, unknown: true, message: `no pending tool change for ${server}${tool ? ` / ${tool}` : ''}; \`gatehouse pins\` lists them` };
        const lines = accepted.map((a) => [`accepted ${a.tool} on ${server}: definition ${a.fingerprint.slice(0, 12)}`, ...a.changes.map((c) => `  ${c.path}: ${JSON.stringify(c.before)} → ${JSON.stringify(c.after)}`)].join('\n'));
        return { ok: true, message: lines.join('\n'), accepted: accepted.map((a) => ({ tool: a.tool, fingerprint: a.fingerprint })) };
      } catch (err) {
        if (err instanceof PendingChanged) return { ok: false, message: err.message };
        throw err;
      }
    },
    async clients(): Promise<ClientsOverview> {
      const found = ctx.clients ? discoverClients(ctx.clients.platform, { gatewayPort: gatewayPortOf(ctx.url()) }) : [];
      const hint = firstRunHint(found);
      return { clients: clientViews(found, ctx.dataDir, ctx.maskText), ...(hint ? { hint } : {}), canWire: ctx.clients?.shim !== undefined };
    },
    async wireClients(target: WiringTarget): Promise<WiringReport> {
      if (!ctx.clients?.shim) return { ok: false, lines: [], problems: ['this app cannot wire clients yet: run `gatehouse clients wire` in a terminal'] };
      return wireClients(discoverClients(ctx.clients.platform, { gatewayPort: gatewayPortOf(ctx.url()) }), target, { dataDir: ctx.dataDir, configFile: ctx.configFile, shim: ctx.clients.shim });
    },
    async unwireClients(target: WiringTarget): Promise<WiringReport> {
      return unwireClients(ctx.dataDir, target);
    },
    async revokeGrant(id: string): Promise<DecisionResult> {
      const grant = await ctx.grants.revoke(id);
      return grant ? { ok: true, message: `revoked the grant for ${grant.scope.server} / ${grant.scope.tool}` } : { ok: false, unknown: true, message: `no grant ${id} (or more than one starts with it); \`gatehouse grants\` lists them` };
    },
  };
  return core;
}

function describeMatch(match: Record<string, unknown>): string {
  const parts = Object.entries(match)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => (k === 'args' ? Object.entries(v as Record<string, string>).map(([p, re]) => `args.${p} ~ /${re}/`).join(', ') : `${k}: ${Array.isArray(v) ? v.join(' | ') : String(v)}`));
  return parts.length ? parts.join('; ') : 'every call';
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

