import type { LiveSession } from '../api/types.js';
import type { ServerConfig } from '../config/schema.js';
import type { CallPath } from './call-path.js';
import { GatewayEvents } from './events.js';
import { CapacityError } from './capacity-error.js';
import { GatewayErrorCode } from './jsonrpc.js';
import { GatewaySession } from './session.js';
import { createUpstream } from './upstream/create-upstream.js';
import { isStdioServer } from '../config/schema.js';
import { formatDuration } from '../config/units.js';

export interface GatewayLimits {
  maxSessions: number;
  idleTimeoutMs: number;
  /** gateway.maxBodySize: the largest message in either direction. */
  maxMessageSize?: number;
  /** gateway.sleepAfter: a quiet session's stdio server is stopped after this long (0: never). */
  sleepAfterMs?: number;
  /** gateway.maxLiveServers: at most this many stdio server processes at once; the least recently used sleeps first. */
  maxLiveServers?: number;
}

export { CapacityError } from './capacity-error.js';

/** Owns the client sessions: opens them (each with its own upstream), reaps idle ones, closes all on shutdown. */
export class Gateway {
  readonly events: GatewayEvents;
  private readonly sessions = new Map<string, GatewaySession>();
  private reaper: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Processes of sessions already closed (their DELETE answered) that have not exited yet: they still count. */
  private readonly closedExiting = new Set<Promise<void>>();
  /** Room made under gateway.maxLiveServers for sessions being opened, not yet in the map. */
  private reserved = 0;

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
      asleep: s.asleep,
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
    const make = () =>
      createUpstream(server, config, {
        onStderr: (line) => owner.id && this.events.emit('upstream-stderr', { sessionId: owner.id, server, line }),
        maskStderr: this.path.stderrMasker(),
        accessToken: this.accessToken,
        ...(this.limits.maxMessageSize !== undefined ? { maxMessageSize: this.limits.maxMessageSize } : {}),
      });
    const stdio = isStdioServer(config);
    if (stdio) await this.makeRoom(); // and holds the room until the session is in the map
    // A server that keeps state a replayed handshake cannot restore opts out of sleeping (`sleep: false`).
    const sleeps = stdio && config.sleep !== false;
    let opened: GatewaySession;
    try {
      opened = new GatewaySession(server, make(), this.path, this.events, sleeps ? { make, room: (waking) => this.makeRoom(waking) } : undefined);
      owner.id = opened.id;
      this.sessions.set(opened.id, opened);
    } finally {
      if (stdio) this.reserved--;
    }
    opened.onclose = () => {
      this.sessions.delete(opened.id);
      const exiting = opened.closing?.catch(() => undefined).finally(() => this.closedExiting.delete(exiting as Promise<void>));
      if (exiting) this.closedExiting.add(exiting);
    };
    this.events.emit('session-start', { sessionId: opened.id, server, at: opened.startedAt });
    try {
      await opened.start();
    } catch (err) {
      await opened.close((err as Error).message);
      throw err;
    }
    return opened;
  }

  /**
   * Closes sessions with no traffic for longer than the idle timeout and no client attached, and puts to sleep
   * the servers of sessions quiet for gateway.sleepAfter (no request in flight, no open stream).
   */
  reapIdle(now = Date.now()): number {
    let reaped = 0;
    const sleepAfter = this.limits.sleepAfterMs ?? 0;
    for (const session of [...this.sessions.values()]) {
      if (now - session.lastActivity >= this.limits.idleTimeoutMs && !session.isBusy) {
        reaped++;
        void session.close(`idle for more than ${Math.round(this.limits.idleTimeoutMs / 1000)}s`);
      } else if (sleepAfter > 0 && now - session.lastUsed >= sleepAfter && session.sleepable()) {
        void session.sleep(`quiet for more than ${formatDuration(sleepAfter)} (gateway.sleepAfter): no request in flight and no open stream`);
      }
    }
    return reaped;
  }

  /** The sessions that hold a live stdio server process now (one being woken is not counted: it asks for room). */
  liveServers(waking?: GatewaySession): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s !== waking && s.holdsProcess) n++;
    return n + this.reserved + this.closedExiting.size;
  }

  /**
   * Room for one more stdio server process under gateway.maxLiveServers: the least recently used quiet session
   * is put to sleep. When every live one is busy there is no room, and the caller is told which limit to raise.
   */
  private async makeRoom(waking?: GatewaySession): Promise<void> {
    const cap = this.limits.maxLiveServers;
    if (cap === undefined) {
      if (!waking) this.reserved++;
      return;
    }
    for (let tries = 0; this.liveServers(waking) >= cap && tries < this.sessions.size + 1; tries++) {
      // Processes still exiting (put to sleep a moment ago) make room once they are gone.
      const exiting = [...[...this.sessions.values()].map((s) => s.exiting).filter((p): p is Promise<void> => p !== undefined), ...this.closedExiting];
      let lru: GatewaySession | undefined;
      for (const s of this.sessions.values()) if (s !== waking && s.holdsProcess && s.sleepable(true) && (!lru || s.lastUsed < lru.lastUsed)) lru = s;
      if (lru) await lru.sleep(`the least recently used of ${cap} live server processes (gateway.maxLiveServers), to make room for another`, true);
      else if (exiting.length > 0) await Promise.race(exiting);
      else break;
    }
    if (this.liveServers(waking) >= cap) {
      throw new CapacityError(`all ${cap} live server processes (gateway.maxLiveServers) are busy; try again shortly, or raise gateway.maxLiveServers in gatehouse.yaml`);
    }
    // Taken at once, with the check (another session may be opening meanwhile); a waking session counts itself.
    if (!waking) this.reserved++;
  }

  startReaper(): void {
    const sleepAfter = this.limits.sleepAfterMs ?? 0;
    const every = Math.max(250, Math.min(30_000, Math.floor(this.limits.idleTimeoutMs / 4), sleepAfter > 0 ? Math.floor(sleepAfter / 2) : Infinity));
    this.reaper = setInterval(() => this.reapIdle(), every).unref();
  }

  get sessionCount(): number {
    return this.sessions.size;
  }

  /** Sessions whose server is asleep. */
  get sleepingCount(): number {
    let n = 0;
    for (const s of this.sessions.values()) if (s.asleep) n++;
    return n;
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
    await Promise.all(this.closedExiting);
  }
}
