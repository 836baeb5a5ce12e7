import type { LiveSession } from '../api/types.js';
import type { ServerConfig } from '../config/schema.js';
import type { CallPath } from './call-path.js';
import { GatewayEvents } from './events.js';
import { GatewayErrorCode } from './jsonrpc.js';
import { GatewaySession } from './session.js';
import { createUpstream } from './upstream/create-upstream.js';

export interface GatewayLimits {
  maxSessions: number;
  idleTimeoutMs: number;
  /** gateway.maxBodySize: the largest message in either direction. */
  maxMessageSize?: number;
}

/** Too many concurrent sessions: the endpoint answers 503. */
export class CapacityError extends Error {}

/** Owns the client sessions: opens them (each with its own upstream), reaps idle ones, closes all on shutdown. */
export class Gateway {
  readonly events: GatewayEvents;
  private readonly sessions = new Map<string, GatewaySession>();
  private reaper: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private servers: Readonly<Record<string, ServerConfig>>,
    private limits: GatewayLimits,
    private readonly path: CallPath,
    events: GatewayEvents = new GatewayEvents(),
    /** The signed-in user's access token, for HTTP upstreams with `auth: oidc`. */
    private readonly accessToken: () => string | undefined = () => undefined,
  ) {
    this.events = events;
  }

  /** New sessions use the new servers and limits; running sessions keep what they started with. */
  reconfigure(servers: Readonly<Record<string, ServerConfig>>, limits: GatewayLimits): void {
    this.servers = servers;
    this.limits = limits;
  }

  hasServer(name: string): boolean {
    return Object.hasOwn(this.servers, name);
  }

  serverNames(): string[] {
    return Object.keys(this.servers);
  }

  session(id: string): GatewaySession | undefined {
    return this.sessions.get(id);
  }

  list(): LiveSession[] {
    return [...this.sessions.values()].map((s) => ({
      id: s.id,
      server: s.server,
      upstream: s.upstreamKind,
      client: { ...s.client },
      ...(s.protocolVersion ? { protocolVersion: s.protocolVersion } : {}),
      startedAt: s.startedAt,
      lastActivity: s.lastActivity,
    }));
  }

  /** Opens a session on `server` with a freshly started upstream. Throws CapacityError, or the upstream's start error. */
  async openSession(server: string): Promise<GatewaySession> {
    const config = this.servers[server];
    if (!config) throw new Error(`unknown server "${server}"`);
    if (this.stopping) throw new CapacityError('the gateway is shutting down');
    if (this.sessions.size >= this.limits.maxSessions) {
      throw new CapacityError(
        `too many concurrent sessions (${this.limits.maxSessions}); end idle clients or raise gateway.maxSessions in gatehouse.yaml`,
      );
    }
    const owner: { id?: string } = {};
    const upstream = createUpstream(server, config, {
      onStderr: (line) => owner.id && this.events.emit('upstream-stderr', { sessionId: owner.id, server, line }),
      maskStderr: this.path.stderrMasker(),
      accessToken: this.accessToken,
      ...(this.limits.maxMessageSize !== undefined ? { maxMessageSize: this.limits.maxMessageSize } : {}),
    });
    const opened = new GatewaySession(server, upstream, this.path, this.events);
    owner.id = opened.id;
    this.sessions.set(opened.id, opened);
    opened.onclose = () => this.sessions.delete(opened.id);
    this.events.emit('session-start', { sessionId: opened.id, server, at: opened.startedAt });
    try {
      await opened.start();
    } catch (err) {
      await opened.close((err as Error).message);
      throw err;
    }
    return opened;
  }

  /** Closes sessions with no traffic for longer than the idle timeout and no client attached. */
  reapIdle(now = Date.now()): number {
    let reaped = 0;
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastActivity >= this.limits.idleTimeoutMs && !session.isBusy) {
        reaped++;
        void session.close(`idle for more than ${Math.round(this.limits.idleTimeoutMs / 1000)}s`);
      }
    }
    return reaped;
  }

  startReaper(): void {
    const every = Math.max(1000, Math.min(30_000, Math.floor(this.limits.idleTimeoutMs / 4)));
    this.reaper = setInterval(() => this.reapIdle(), every).unref();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** No new sessions from now on (the gateway is stopping). */
  refuseNewSessions(): void {
    this.stopping = true;
  }

  /** Closes every session (answering what is in flight) and stops every upstream. */
  async close(reason = 'the gateway is shutting down'): Promise<void> {
    this.stopping = true;
    if (this.reaper) clearInterval(this.reaper);
    await Promise.all([...this.sessions.values()].map((s) => s.close(reason, GatewayErrorCode.ShuttingDown)));
  }
}
