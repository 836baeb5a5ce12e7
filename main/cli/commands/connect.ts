import type { Readable, Writable } from 'node:stream';
import { parseDuration } from '../../config/units.js';
import { readToken } from '../../config/data-dir.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { errorResponse, GatewayErrorCode, idKey, isJSONRPCNotification, isJSONRPCRequest, isResponse, type JSONRPCMessage, type JSONRPCRequest, type RequestId } from '../../gateway/jsonrpc.js';
import { trackProtocolVersion } from '../../gateway/protocol-version.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';
import { dataDirFor, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';
import { ClientStdio } from '../connect/client-stdio.js';
import { GatewayHttpError, GatewayLink, type Incoming } from '../connect/gateway-link.js';

const DEFAULT_WAIT = 30_000;
/**
 * The largest message the shim takes, from its client or the gateway (gateway.maxBodySize is checked by the
 * gateway): 512 MiB, under the longest string V8 can make of one (a larger line could not be parsed at all).
 */
const MAX_STDIO_MESSAGE = 512 * 1024 * 1024;
/** How long the answers still owed are waited for at the end of the client's input. */
const DRAIN_MS = 30_000;

export const connectCommand: Command = {
  summary: 'stdio shim for MCP clients that only speak stdio: bridges to the running gateway\'s endpoint for SERVER',
  usage: 'gatehouse connect SERVER [--wait DURATION]',
  options: { wait: { type: 'string' } },
  async run({ values, positionals }, io) {
    const [server, ...extra] = positionals;
    if (!server || extra.length) throw new UsageError('name exactly one server, as configured in gatehouse.yaml');
    const waitText = stringOption(values.wait);
    const waitMs = waitText === undefined ? DEFAULT_WAIT : parseDuration(waitText);
    if (waitMs === undefined) throw new UsageError(`--wait is a duration such as 30s or 2m, not "${waitText}"`);
    await bridgeStdio({ server, dataDir: dataDirFor(io), io, stdin: process.stdin, stdout: process.stdout, waitMs, signals: process });
  },
};

export interface BridgeOptions {
  server: string;
  dataDir: string;
  io: CliIo;
  stdin: Readable;
  stdout: Writable;
  /** How long to wait for a gateway that is not (or no longer) there before answering with an error. */
  waitMs?: number;
  /** Where SIGINT, SIGTERM and SIGHUP arrive (the process); each ends the session and the bridge. */
  signals?: Pick<NodeJS.Process, 'once' | 'off'>;
  /** The largest message taken from either side (tests make it small). */
  maxMessageSize?: number;
  /** How long answers still owed are waited for at the end of stdin before each is answered with an error. */
  drainMs?: number;
}

class GatewayAbsent extends Error {}

/** What went wrong, in one readable line: the JSON-RPC error a gateway answered with, not its JSON escaped in a message. */
export function readableError(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  const body = message.indexOf('{');
  if (body >= 0) {
    try {
      const parsed = JSON.parse(message.slice(body)) as { error?: { message?: unknown } };
      if (typeof parsed.error?.message === 'string') return parsed.error.message;
    } catch {
      // not JSON: the message as it is
    }
  }
  return message.replace(/\s+/g, ' ').trim();
}

/** Nothing was there to take the request: it certainly did not run. */
const refused = (err: unknown): boolean => err instanceof GatewayHttpError && err.code === 'ECONNREFUSED';
/** The gateway no longer knows the session: it restarted (or closed the session) since the client initialized. */
const sessionGone = (err: unknown): boolean => err instanceof GatewayHttpError && err.status === 404;
/** The connection broke with the request on it (the gateway died mid-call): it may have been taken. */
const resetMidway = (err: unknown): boolean => err instanceof GatewayHttpError && err.midway;
const isInitialize = (m: JSONRPCMessage): m is JSONRPCRequest => isJSONRPCRequest(m) && m.method === 'initialize';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** The id a notifications/cancelled names, as a key. */
const cancelledKey = (m: JSONRPCMessage): string | undefined => {
  const id = isJSONRPCNotification(m) && m.method === 'notifications/cancelled' ? (m.params as { requestId?: unknown } | undefined)?.requestId : undefined;
  return typeof id === 'string' || typeof id === 'number' ? idKey(id) : undefined;
};

/**
 * Bridges a stdio MCP client to the gateway's Streamable HTTP endpoint, message for message, and keeps the
 * bridge up across the gateway's life: started before the gateway, it waits for one (with back-off, up to
 * `waitMs`, saying so once on stderr); when the gateway restarts and forgets the session, it initializes a new
 * one with the client's own initialize and initialized, then sends what failed again. The client sees one
 * session throughout. With no gateway within the wait it fails closed: the request is answered with a
 * JSON-RPC error saying so. SIGINT, SIGTERM, SIGHUP and the end of stdin end the session (DELETE) and the
 * bridge; requests still in flight at the end of stdin are answered first (within `drainMs`, then with an
 * error). Messages pass as the bytes they came as (both ways); the shim reads only their id and method.
 */
export function bridgeStdio({ server, dataDir, io, stdin, stdout, waitMs = DEFAULT_WAIT, signals, maxMessageSize = MAX_STDIO_MESSAGE, drainMs = DRAIN_MS }: BridgeOptions): Promise<void> {
  const notRunning = `no Gatehouse gateway is running for ${dataDir}; start the desktop app or \`gatehouse serve\``;
  let link: GatewayLink | undefined;
  let initialize: JSONRPCRequest | undefined; // the client's, replayed on a new session
  let initialized: Buffer | undefined;
  let queue: Promise<void> = Promise.resolve();
  let replays = 0;
  let closing = false;
  /** Requests of the client not answered yet, and those it has cancelled since (no answer is owed for them). */
  const inFlight = new Set<string>();
  const cancelled = new Set<string>();
  let drained: (() => void) | undefined;
  const replayWaits = new Map<string, (m: JSONRPCMessage) => void>();
  const said = new Set<string>();
  const say = (line: string) => {
    if (said.has(line)) return;
    said.add(line);
    io.err(`gatehouse connect: ${line}`);
  };
  const settle = (key: string) => {
    inFlight.delete(key);
    cancelled.delete(key);
    if (inFlight.size === 0) drained?.();
  };

  const answer = (id: RequestId, code: number, message: string) => {
    const key = idKey(id);
    if (!inFlight.has(key)) return;
    settle(key);
    client.send(errorResponse(id, code, message));
  };

  const toClient = (version: (m: JSONRPCMessage) => void) => ({ message, line }: Incoming) => {
    version(message);
    if (isResponse(message) && (typeof message.id === 'string' || typeof message.id === 'number')) {
      const replay = replayWaits.get(String(message.id));
      if (replay) return replay(message); // the answer to a replayed initialize is the bridge's, not the client's
      settle(idKey(message.id));
    }
    client.writeLine(line);
  };

  const client = new ClientStdio(stdin, stdout, maxMessageSize, {
    onMessage: (message, bytes) => {
      queue = queue.then(() => deliver(message, bytes)).catch((err: unknown) => fail(message, err));
    },
    onDropped: (reason, id) => {
      say(reason);
      if (id !== undefined) {
        inFlight.add(idKey(id));
        answer(id, GatewayErrorCode.InterceptorFailed, `Gatehouse: ${reason}`);
      }
    },
    onEnd: () => void end('stdin'),
    onGone: () => void end('signal'),
  });

  const newLink = (url: string, token: string): GatewayLink => {
    const l: GatewayLink = new GatewayLink({
      endpoint: new URL(`${url}/mcp/${encodeURIComponent(server)}`),
      token,
      maxMessage: maxMessageSize,
      onMessage: toClient(trackProtocolVersion((v) => (l.protocolVersion = v))),
      onDropped: (reason, id) => {
        say(reason);
        if (id !== undefined) answer(id, GatewayErrorCode.UpstreamMalformed, `Gatehouse: ${reason}`);
      },
      // The standalone stream drops when the gateway stops; the next message reconnects, so one line says so.
      onStreamError: (error) => {
        if (!closing) say(readableError(error));
      },
      backpressure: client,
    });
    return l;
  };

  /** A link to a running gateway, waiting for one up to the bound; with `replay`, on a new session initialized as the client's was. */
  const open = async (replay: boolean): Promise<GatewayLink> => {
    const deadline = Date.now() + waitMs;
    let delay = 100;
    for (;;) {
      const runtime = readRuntimeInfo(dataDir);
      const token = readToken(dataDir);
      if (runtime && token) {
        const l = newLink(runtime.url, token);
        try {
          if (replay && initialize) await handshake(l, initialize);
          if (replays > 0 || replay) say(`reconnected to the gateway at ${runtime.url} (a new session, initialized as the client's was)`);
          return l;
        } catch (err) {
          l.close();
          if (!refused(err)) throw err;
        }
      }
      // The whole wait is given: the last sleep ends at the deadline, and one more attempt follows it.
      const left = deadline - Date.now();
      if (left <= 0) throw new GatewayAbsent(notRunning);
      say(`waiting up to ${Math.round(waitMs / 1000)}s for the gateway (${runtime ? `${runtime.url} does not answer` : 'none is running'})…`);
      await sleep(Math.min(left, delay * (0.75 + Math.random() / 2)));
      delay = Math.min(delay * 2, 2_000);
    }
  };

  const handshake = async (l: GatewayLink, init: JSONRPCRequest): Promise<void> => {
    const id = `gatehouse-connect-replay-${++replays}`;
    let timer: NodeJS.Timeout | undefined;
    const answered = new Promise<JSONRPCMessage>((resolve, reject) => {
      replayWaits.set(id, resolve);
      timer = setTimeout(() => reject(new Error('the gateway did not answer the replayed initialize within 30s')), 30_000);
      timer.unref();
    });
    try {
      await l.post(Buffer.from(JSON.stringify({ ...init, id })));
      const reply = await Promise.race([answered, new Promise<never>((_, reject) => setImmediate(() => reject(new Error('the gateway ended its answer to the replayed initialize without one'))))]);
      if ('error' in reply) throw new Error(`the gateway refused the replayed initialize: ${readableError(new Error(JSON.stringify(reply)))}`);
      if (initialized) await post(l, initialized, true);
    } finally {
      clearTimeout(timer);
      replayWaits.delete(id);
    }
  };

  /** POSTs a message; after the client's initialized, the standalone stream opens (as the SDK's client does). */
  const post = async (l: GatewayLink, bytes: Buffer, isInitialized: boolean): Promise<void> => {
    await l.post(bytes);
    if (isInitialized) l.openStream();
  };

  const fail = (message: JSONRPCMessage, err: unknown) => {
    if (closing) return;
    const absent = err instanceof GatewayAbsent;
    const reason = absent ? notRunning : readableError(err);
    say(reason);
    if (isJSONRPCRequest(message)) {
      const code = absent ? GatewayErrorCode.GatewayNotRunning : err instanceof GatewayHttpError && err.code === 'MALFORMED' ? GatewayErrorCode.UpstreamMalformed : GatewayErrorCode.UpstreamUnavailable;
      answer(message.id, code, `Gatehouse: ${reason}`);
    }
  };

  /** The link to the gateway, opened (once, however many messages ask at the same time) when there is none. */
  let opening: Promise<GatewayLink> | undefined;
  const connection = (replay: boolean): Promise<GatewayLink> => {
    if (link) return Promise.resolve(link);
    opening ??= open(replay)
      .then((l) => {
        // (A link that opens after the bridge has ended is let go at once: it would keep the process up.)
        if (closing) l.close();
        return (link = l);
      })
      .finally(() => (opening = undefined));
    return opening;
  };
  const drop = (l: GatewayLink) => {
    if (link !== l) return;
    link = undefined;
    l.close();
  };

  /**
   * Sends one client message. When the gateway has forgotten the session (404) or cannot be reached at all, the
   * message certainly did not run: it is sent again once, on a new session. When the gateway went away with a
   * request in flight, it may have run: it is not sent again (that could run a tool twice); the client is told,
   * and the next message reconnects. A request whose answer ended without one is answered with an error, unless
   * the client cancelled it.
   */
  const sendOnce = async (message: JSONRPCMessage, bytes: Buffer, attempt = 0, waitUntil?: number): Promise<void> => {
    const l = await connection(initialize !== undefined && !isInitialize(message));
    try {
      await post(l, bytes, isJSONRPCNotification(message) && message.method === 'notifications/initialized');
    } catch (err) {
      if (closing) return;
      const certainlyNotRun = sessionGone(err) || refused(err);
      if (certainlyNotRun || resetMidway(err)) drop(l);
      // Nothing listens where gateway.json points (the gateway died or is restarting): wait for one, as at start.
      if (refused(err)) {
        const until = waitUntil ?? Date.now() + waitMs;
        const left = until - Date.now();
        if (left <= 0) return fail(message, new GatewayAbsent(notRunning));
        say(`waiting up to ${Math.round(waitMs / 1000)}s for the gateway (${l.endpoint.origin} does not answer)…`);
        await sleep(Math.min(left, 100 * 2 ** Math.min(attempt, 4) * (0.75 + Math.random() / 2)));
        return sendOnce(message, bytes, attempt + 1, until);
      }
      if (sessionGone(err) && attempt === 0) return sendOnce(message, bytes, 1);
      if (resetMidway(err) && isJSONRPCRequest(message)) {
        return fail(message, new Error('the gateway went away while this request was in flight: whether it ran is unknown, so it was not sent again; the next request reconnects'));
      }
      return fail(message, err);
    }
    if (isJSONRPCRequest(message) && inFlight.has(idKey(message.id))) {
      if (cancelled.has(idKey(message.id))) return settle(idKey(message.id));
      fail(message, new Error('the gateway ended its answer to this request without one'));
    }
  };

  /**
   * Takes one client message, in order. Only the client's initialize is waited for (the session exists after it);
   * everything else is on its way at once, so that a slow call never holds up a ping or its own cancellation.
   */
  const deliver = async (message: JSONRPCMessage, bytes: Buffer): Promise<void> => {
    if (isInitialize(message)) initialize = message;
    else if (isJSONRPCNotification(message) && message.method === 'notifications/initialized') initialized = bytes;
    const gone = cancelledKey(message);
    if (gone !== undefined && inFlight.has(gone)) cancelled.add(gone);
    if (isJSONRPCRequest(message)) inFlight.add(idKey(message.id));
    const sent = sendOnce(message, bytes).catch((err: unknown) => fail(message, err));
    if (isInitialize(message)) await sent;
  };

  let ended = false;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const end = async (why: 'stdin' | 'signal') => {
    if (ended) return;
    ended = true;
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) signals?.off(s, onSignal);
    // At the end of input, what was asked is answered first (bounded, then with an error); a signal means now.
    if (why === 'stdin') {
      await queue;
      if (inFlight.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await new Promise<void>((resolve) => {
          drained = resolve;
          timer = setTimeout(resolve, drainMs);
        });
        clearTimeout(timer);
        for (const key of [...inFlight]) {
          const id = key.startsWith('n:') ? Number(key.slice(2)) : key.slice(2);
          answer(id, GatewayErrorCode.UpstreamUnavailable, `Gatehouse: the gateway did not answer within ${Math.round(drainMs / 1000)}s of the end of the client's input; the shim has ended`);
        }
      }
    }
    closing = true;
    const l = link;
    // (The bound's timer does not hold the process: a quick DELETE ends the shim at once.)
    if (l) await Promise.race([l.terminate(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    l?.close();
    client.close();
    finish();
  };
  const onSignal = () => void end('signal');
  for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) signals?.once(s, onSignal);
  client.start();
  return finished;
}
