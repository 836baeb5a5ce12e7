import type { ClientView, WiringReport, WiringTarget } from '../clients/wiring-types.js';
/**
 * GatehouseApi: the one interface the UI uses. The core implements it once (api/core-api.ts); the desktop
 * preload exposes it over IPC and the web shell over HTTP. The renderer never knows which. Plain data only.
 */

import type { DeciderPort } from '../approvals/decider-port.js';
import type { AuditRecord, RecordedBreak } from '../audit/record-shape.js';

/** What `gatehouse forwarding`, `gatehouse servers`, the tray and the Integrity view show. */
export interface ForwardingStatus {
  enabled: boolean;
  endpoint?: string;
  encoding?: 'protobuf' | 'json';
  /** The last record the collector acknowledged, and the newest committed one. */
  forwardedSeq: number;
  committedSeq: number;
  lagRecords: number;
  /** How long the oldest record not yet acknowledged has waited. */
  lagSeconds: number;
  lastSuccessAt?: string;
  lastError?: string;
  lastErrorAt?: string;
  /** Since when every attempt has failed. */
  failingSince?: string;
  /** Records retention removed before they were forwarded. */
  pruned?: string;
  /** Set when the collector has been unreachable long enough that someone should look. */
  warning?: string;
}

export interface GatewayStatus {
  version: string;
  /** Recording is paused: calls go through unrecorded. */
  recordingPaused?: boolean;
  /** Base URL of the gateway, e.g. http://127.0.0.1:5757 */
  url: string;
  dataDir: string;
  configFile: string;
  startedAt: number;
  activeSessions: number;
  /** Of those, the sessions whose server is asleep (gateway.sleepAfter, gateway.maxLiveServers). */
  sleepingSessions?: number;
  /** Set while gatehouse.yaml holds an edit that does not validate: what is wrong (file:line key: message). */
  configErrors?: string[];
  /** Breaks the audit log holds (a start found it other than it was left): shown until the log is set aside. */
  auditBreaks?: RecordedBreak[];
  /** The last verify found the log broken: where and why. */
  auditBroken?: IntegrityReport['problem'];
  /** Who the gateway acts for: the signed-in user, or the OS user; and whether sign-in is configured at all. */
  identity: { principal: string; signedIn: boolean; groups: string[]; configured: boolean };
  /** The audit trail's forwarding to the organisation's collector (`forwarding:`); `enabled` false without it. */
  forwarding?: ForwardingStatus;
}

export interface ServerEntry {
  name: string;
  /** `stdio`, or for a URL server the configured transport (`auto`, `streamable-http`, `sse`). */
  transport: string;
  /** The command line of a stdio server, or the URL of a remote one. */
  target: string;
  /** The endpoint clients use to reach it through Gatehouse. */
  endpoint: string;
  activeSessions: number;
}

/** A recorded session, as the timeline and `gatehouse sessions` list it. */
export interface SessionSummary {
  id: string;
  server: string;
  client: { name?: string; version?: string; registration?: string };
  principal: string;
  first: string;
  last: string;
  records: number;
  calls: number;
  errors: number;
  decisions: number;
  /** Calls policy or a person denied, and calls a person (or a grant) allowed. */
  denied: number;
  approved: number;
  /** Records in which masking replaced something. */
  masked: number;
  /** The tools it called. */
  tools: string[];
  excluded: boolean;
  ended?: string;
  /** Its server is asleep (stopped while its client is quiet; the next request starts it again with the client's handshake). */
  asleep?: boolean;
  /** Segments holding its records, oldest first. */
  segments: string[];
}

/** What the timeline filters on; all optional, combined with AND. */
export interface SessionFilter {
  /** One session, by its id (the replay's header, without the list). */
  id?: string;
  server?: string;
  client?: string;
  tool?: string;
  principal?: string;
  decision?: 'denied' | 'approved' | 'any';
  /** Milliseconds since the epoch. */
  since?: number;
  until?: number;
  /** Full text over the (masked) records. */
  text?: string;
  offset?: number;
  limit?: number;
}

export interface SessionPage {
  total: number;
  sessions: SessionSummary[];
}

/** One recorded step, as replay shows it (masked as stored): the record without what the session already says. */
export type TimelineRecord = Omit<AuditRecord, 'session' | 'server' | 'principal' | 'client' | 'prev'>;

export interface PolicyView {
  default: string;
  onToolChange: string;
  rules: { name: string; action: string; reason?: string; hide: boolean; match: string; hits: number }[];
  configFile: string;
  /** The last edit that did not validate (the previous config is in force). */
  reloadErrors?: string[];
}

export interface IntegrityView {
  dataDir: string;
  auditDir: string;
  head?: { segment: string; seq: number; hash: string };
  anchor?: { seq: number; hash: string };
  lastVerify?: IntegrityReport & { at: number; seconds: number };
  /** Every break the log holds, oldest first. */
  breaks: RecordedBreak[];
  /** The log's Ed25519 public key (PEM), for auditors. */
  publicKey?: string;
  /** Whether the organisation's collector has the log (and how far behind it is). */
  forwarding?: ForwardingStatus;
}

/** A change the UI should show (new records, approvals, config): it refetches what it shows. */
export interface ChangeEvent {
  kind: 'records' | 'approvals' | 'config';
  session?: string;
}

export interface LiveSession {
  id: string;
  server: string;
  upstream: string;
  /** Its server process is asleep (stopped while the client is quiet); the next request starts it again. */
  asleep: boolean;
  client: { name?: string; version?: string };
  protocolVersion?: string;
  startedAt: number;
  lastActivity: number;
}

/** A call waiting for approval, as every approver port shows it (arguments masked). */
export interface ApprovalView {
  id: string;
  sessionId: string;
  server: string;
  tool: string;
  args: unknown;
  principal: string;
  client: { name?: string; version?: string };
  rule?: string;
  reason: string;
  /** The tool's definition changed since it was accepted: part of what is being approved. */
  toolChanged: boolean;
  /** Allowing it needs a fresh sign-in (`reauth: true`): `gatehouse approve ID` asks the identity provider again. */
  reauth?: boolean;
  createdAt: number;
  expiresAt: number;
}

export interface GrantView {
  id: string;
  principal: string;
  server: string;
  tool: string;
  /** Only for the exact arguments it was granted for. */
  boundToArgs: boolean;
  /** What asked for the approval it was made from: a rule's name, `on_tool_change`, or null for policy.default. The grant covers calls only while that reads the same. */
  rule: string | null;
  /** The tool's definition it was granted for (fingerprint, shortened); a changed definition ends its cover. */
  toolDefinition: string | null;
  createdAt: number;
  expiresAt: number;
  by: string;
  port: string;
}

/** A person's answer to a pending call. */
export type ApprovalDecision = { action: 'allow'; forMs?: number; bindArgs?: boolean } | { action: 'deny'; reason?: string };

export interface DecisionResult {
  ok: boolean;
  message: string;
  /** The id names nothing (no such approval or grant): bad input, not a failed check. */
  unknown?: true;
}

/** The result of checking the whole audit log. */
export interface IntegrityReport {
  ok: boolean;
  records: number;
  segments: number;
  bytes: number;
  checkpointsChecked: number;
  breaks?: RecordedBreak[];
  /** Where the chain broke; `session`, when the record there still names a recorded session (the UI opens the record). */
  problem?: { segment: string; seq?: number; line: number; reason: string; message: string; session?: string };
}

/** The MCP clients found on this machine, and whether this shell can wire them (the desktop app cannot start the CLI's shim yet). */
export interface ClientsOverview {
  clients: ClientView[];
  /** What to do first, when servers were found in clients and none go through Gatehouse yet. */
  hint?: string;
  canWire: boolean;
}

export interface GatehouseApi {
  status(): Promise<GatewayStatus>;
  servers(): Promise<ServerEntry[]>;
  liveSessions(): Promise<LiveSession[]>;
  approvals(): Promise<ApprovalView[]>;
  /** Decides a pending call; which port it came through is the route's to say (the tray, the window, the browser…), not the caller's. */
  decideApproval(id: string, decision: ApprovalDecision): Promise<DecisionResult>;
  grants(): Promise<GrantView[]>;
  revokeGrant(id: string): Promise<DecisionResult>;
  /** Checks the whole audit log with the gateway's key (which may live where the CLI cannot read it). */
  verify(): Promise<IntegrityReport>;
  sessions(filter: SessionFilter): Promise<SessionPage>;
  sessionRecords(id: string): Promise<TimelineRecord[]>;
  policy(): Promise<PolicyView>;
  integrity(): Promise<IntegrityView>;
  /** Starts a sign-in at the identity provider: resolves with the address to open in the system browser; the gateway waits for it to come back. */
  signIn(): Promise<{ ok: boolean; message: string; url?: string }>;
  /** Forgets the signed-in user's tokens; gives the provider's end-session address where it has one. */
  signOut(): Promise<{ ok: boolean; message: string; endSessionUrl?: string }>;
  /** The MCP clients found (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI), their servers masked. */
  clients(): Promise<ClientsOverview>;
  /** Routes a client's servers (or every client's) through Gatehouse; a backup first. */
  wireClients(target: WiringTarget): Promise<WiringReport>;
  /** Puts a client's files (or every client's) back as they were. */
  unwireClients(target: WiringTarget): Promise<WiringReport>;
  /** Pauses recording (messages pass through unrecorded; the pause and the resume are recorded) or resumes it. */
  setRecordingPaused(paused: boolean): Promise<RecordingResult>;
  /** A client's request to sign in to Gatehouse (MCP authorization), waiting for the user's consent. */
  consent(id: string): Promise<{ ok: true; consent: ConsentView; /** Answered already (in the desktop's dialog): where the browser goes. */ redirect?: string } | { ok: false; message: string }>;
  /** The user's answer to it: where the browser goes next (back to the client, with a code or with access_denied). */
  decideConsent(id: string, allow: boolean): Promise<{ ok: true; redirect: string } | { ok: false; message: string }>;
  /** The clients registered with Gatehouse's authorization server, revoked ones too. */
  registrations(): Promise<RegistrationView[]>;
  /** Revokes a registered client: its tokens stop working at once. */
  revokeRegistration(id: string): Promise<DecisionResult>;
}

/** A client asking to reach the servers through Gatehouse: its name (masked: the client chose it) and where it wants the answer. */
export interface ConsentView {
  id: string;
  clientId: string;
  clientName: string;
  redirectUri: string;
  /** The endpoint it asked for (`…/mcp/files`), when it named one. */
  resource?: string;
  createdAt: number;
}

/** A client that registered with Gatehouse (OAuth dynamic registration). */
export interface RegistrationView {
  id: string;
  name: string;
  redirectUris: string[];
  registeredAt: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

export interface RecordingResult {
  ok: boolean;
  paused: boolean;
  message: string;
}

/** The core's side of GatehouseApi: each shell's route binds the port a decision came through (coreApi.forPort). */
export interface CoreApi extends Omit<GatehouseApi, 'decideApproval'> {
  decideApproval(id: string, decision: ApprovalDecision, port: DeciderPort): Promise<DecisionResult>;
  /** Accepts a server's pending tool definitions (one tool's, or with `fingerprint` only the one reviewed): the gateway is their one writer. */
  acceptPins(server: string, tool: string | undefined, fingerprint: string | undefined): Promise<DecisionResult & { accepted?: { tool: string; fingerprint: string }[] }>;
  /** The same API as one route serves it: decisions through it are recorded as made through `port`. */
  forPort(port: DeciderPort): GatehouseApi;
}

/** Every GatehouseApi verb, in one list: the IPC channels, the preload bridge and the HTTP routes derive from it. */
export const API_METHODS = ['status', 'servers', 'liveSessions', 'approvals', 'decideApproval', 'grants', 'revokeGrant', 'verify', 'sessions', 'sessionRecords', 'policy', 'integrity', 'signIn', 'signOut', 'clients', 'wireClients', 'unwireClients', 'setRecordingPaused', 'consent', 'decideConsent', 'registrations', 'revokeRegistration'] as const satisfies readonly (keyof GatehouseApi)[];
export type ApiMethod = (typeof API_METHODS)[number];

/** The IPC channel of a verb. */
export const apiChannel = (method: ApiMethod): string => `gatehouse:${method}`;

/** The IPC channel the desktop window hears changes on. */
export const CHANGE_CHANNEL = 'gatehouse:change';

/** What the renderer gets besides GatehouseApi: a way to hear about changes (IPC in the app, SSE in the browser). */
export interface ChangeSource {
  subscribe(listener: (event: ChangeEvent) => void): () => void;
}
