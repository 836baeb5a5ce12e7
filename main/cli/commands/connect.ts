import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import { parseDuration } from '../../config/units.js';
import { readToken } from '../../config/data-dir.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { abortIsolatingFetch } from '../../gateway/isolated-fetch.js';
import { errorResponse, GatewayErrorCode, idKey, isJSONRPCNotification, isJSONRPCRequest, isResponse, type JSONRPCMessage, type JSONRPCRequest } from '../../gateway/jsonrpc.js';
import { trackProtocolVersion } from '../../gateway/protocol-version.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';
import { dataDirFor, stringOption } from '../options.js';
import { UsageError } from '../usage-error.js';

const DEFAULT_WAIT = 30_000;
/** The largest line the shim reads from its client (gateway.maxBodySize is checked by the gateway). */
const MAX_STDIO_MESSAGE = 1024 * 1024 * 1024;

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
const refused = (err: unknown): boolean => (err as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
/** The gateway no longer knows the session: it restarted (or closed the session) since the client initialized. */
const sessionGone = (err: unknown): boolean => err instanceof StreamableHTTPError && err.code === 404;
/** The connection broke with the request on it (the gateway died mid-call): it may have been taken. */
const resetMidway = (err: unknown): boolean => {
  const code = (err as { cause?: { code?: string } }).cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET' || /other side closed|socket hang up|terminated/i.test((err as Error).message ?? '');
};
const isInitialize = (m: JSONRPCMessage): m is JSONRPCRequest => isJSONRPCRequest(m) && m.method === 'initialize';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Bridges a stdio MCP client to the gateway's Streamable HTTP endpoint, message for message, and keeps the
 * bridge up across the gateway's life: started before the gateway, it waits for one (with back-off, up to
 * `waitMs`, saying so once on stderr); when the gateway restarts and forgets the session, it initializes a new
 * one with the client's own initialize and initialized, then sends what failed again. The client sees one
 * session throughout. With no gateway within the wait it fails closed: the request is answered with a
 * JSON-RPC error saying so. SIGINT, SIGTERM, SIGHUP and the end of stdin end the session (DELETE) and the
 * bridge; requests still in flight at the end of stdin are answered first.
 */
export function bridgeStdio({ server, dataDir, io, stdin, stdout, waitMs = DEFAULT_WAIT, signals }: BridgeOptions): Promise<void> {
  // A message up to the gateway's maxBodySize passes on every transport: the SDK's stdio default (10 MiB) would
  // end the bridge on a larger one; the gateway answers 413 above its own bound.
  const stdio = new StdioServerTransport(stdin, stdout, { maxBufferSize: MAX_STDIO_MESSAGE });
  const notRunning = `no Gatehouse gateway is running for ${dataDir}; start the desktop app or \`gatehouse serve\``;
  let http: StreamableHTTPClientTransport | undefined;
  let initialize: JSONRPCRequest | undefined; // the client's, replayed on a new session
  let initialized: JSONRPCMessage | undefined;
  let queue: Promise<void> = Promise.resolve();
  let replays = 0;
  let closing = false;
  const inFlight = new Set<string>();
  const replayWaits = new Map<string, (m: JSONRPCMessage) => void>();
  const said = new Set<string>();
  const say = (line: string) => {
    if (said.has(line)) return;
    said.add(line);
    io.err(`gatehouse connect: ${line}`);
  };

  const toClient = (message: JSONRPCMessage) => {
    if (isResponse(message) && message.id !== undefined && message.id !== null) {
      const replay = replayWaits.get(String(message.id));
      if (replay) return replay(message); // the answer to a replayed initialize is the bridge's, not the client's
      inFlight.delete(idKey(message.id));
    }
    void stdio.send(message);
  };

  const transport = (url: string, token: string): StreamableHTTPClientTransport => {
    const t = new StreamableHTTPClientTransport(new URL(`${url}/mcp/${encodeURIComponent(server)}`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: abortIsolatingFetch(),
    });
    const version = trackProtocolVersion((v) => t.setProtocolVersion(v));
    t.onmessage = (message) => {
      version(message);
      toClient(message);
    };
    // The standalone stream drops when the gateway stops; the next message reconnects, so one line says so.
    t.onerror = (error) => {
      if (!closing) say(readableError(error));
    };
    return t;
  };

  /** A transport to a running gateway, waiting for one up to the bound; with `replay`, on a new session initialized as the client's was. */
  const open = async (replay: boolean): Promise<StreamableHTTPClientTransport> => {
    const deadline = Date.now() + waitMs;
    let delay = 100;
    for (;;) {
      const runtime = readRuntimeInfo(dataDir);
      const token = readToken(dataDir);
      if (runtime && token) {
        const t = transport(runtime.url, token);
        try {
          await t.start();
          if (replay && initialize) await handshake(t, initialize);
          if (replays > 0 || replay) say(`reconnected to the gateway at ${runtime.url} (a new session, initialized as the client's was)`);
          return t;
        } catch (err) {
          await t.close().catch(() => undefined);
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

  const handshake = async (t: StreamableHTTPClientTransport, init: JSONRPCRequest): Promise<void> => {
    const id = `gatehouse-connect-replay-${++replays}`;
    const answered = new Promise<JSONRPCMessage>((resolve, reject) => {
      replayWaits.set(id, resolve);
      setTimeout(() => reject(new Error('the gateway did not answer the replayed initialize within 30s')), 30_000).unref();
    });
    try {
      await t.send({ ...init, id });
      const answer = await answered;
      if ('error' in answer) throw new Error(`the gateway refused the replayed initialize: ${readableError(new Error(JSON.stringify(answer)))}`);
      if (initialized) await t.send(initialized);
    } finally {
      replayWaits.delete(id);
    }
  };

  const fail = (message: JSONRPCMessage, err: unknown) => {
    const absent = err instanceof GatewayAbsent;
    const reason = absent ? notRunning : readableError(err);
    say(reason);
    if (isJSONRPCRequest(message)) {
      inFlight.delete(idKey(message.id));
      void stdio.send(errorResponse(message.id, absent ? GatewayErrorCode.GatewayNotRunning : GatewayErrorCode.UpstreamUnavailable, `Gatehouse: ${reason}`));
    }
  };

  /** The transport to the gateway, opened (once, however many messages ask at the same time) when there is none. */
  let opening: Promise<StreamableHTTPClientTransport> | undefined;
  const connection = (replay: boolean): Promise<StreamableHTTPClientTransport> => {
    if (http) return Promise.resolve(http);
    opening ??= open(replay)
      .then((t) => (http = t))
      .finally(() => (opening = undefined));
    return opening;
  };
  const drop = (t: StreamableHTTPClientTransport) => {
    if (http !== t) return;
    http = undefined;
    void t.close().catch(() => undefined);
  };

  /**
   * Sends one client message. When the gateway has forgotten the session (404) or cannot be reached at all, the
   * message certainly did not run: it is sent again once, on a new session. When the gateway went away with a
   * request in flight, it may have run: it is not sent again (that could run a tool twice); the client is told,
   * and the next message reconnects.
   */
  const sendOnce = async (message: JSONRPCMessage, attempt = 0): Promise<void> => {
    const t = await connection(initialize !== undefined && !isInitialize(message));
    try {
      await t.send(message);
    } catch (err) {
      const certainlyNotRun = sessionGone(err) || refused(err);
      if (certainlyNotRun || resetMidway(err)) drop(t);
      if (certainlyNotRun && attempt === 0) return sendOnce(message, 1);
      if (resetMidway(err) && isJSONRPCRequest(message)) {
        return fail(message, new Error('the gateway went away while this request was in flight: whether it ran is unknown, so it was not sent again; the next request reconnects'));
      }
      fail(message, err);
    }
  };

  /**
   * Takes one client message, in order. Only the client's initialize is waited for (the session exists after it);
   * everything else is on its way at once, so that a slow call never holds up a ping or its own cancellation.
   */
  const deliver = async (message: JSONRPCMessage): Promise<void> => {
    if (isInitialize(message)) initialize = message;
    else if (isJSONRPCNotification(message) && message.method === 'notifications/initialized') initialized = message;
    if (isJSONRPCRequest(message)) inFlight.add(idKey(message.id));
    const sent = sendOnce(message).catch((err: unknown) => fail(message, err));
    if (isInitialize(message)) await sent;
  };

  stdio.onmessage = (message) => {
    queue = queue.then(() => deliver(message)).catch((err: unknown) => fail(message, err));
  };

  return new Promise((resolve) => {
    let ended = false;
    const end = async (why: 'stdin' | 'signal') => {
      if (ended) return;
      ended = true;
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) signals?.off(s, onSignal);
      // At the end of input, what was asked is answered first (bounded); a signal means now.
      if (why === 'stdin') {
        await queue;
        const deadline = Date.now() + 30_000;
        while (inFlight.size > 0 && Date.now() < deadline) await sleep(20);
      }
      closing = true;
      const t = http;
      // (The bound's timer does not hold the process: a quick DELETE ends the shim at once.)
      if (t) await Promise.race([t.terminateSession().catch(() => undefined), new Promise((r) => setTimeout(r, 2_000).unref())]).then(() => t.close().catch(() => undefined));
      await stdio.close().catch(() => undefined);
      resolve();
    };
    const onSignal = () => void end('signal');
    for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) signals?.once(s, onSignal);
    stdio.onclose = () => void end('stdin');
    stdin.once('end', () => void end('stdin'));
    void stdio.start();
  });
}
