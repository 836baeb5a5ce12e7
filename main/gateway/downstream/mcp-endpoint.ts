import type { IncomingMessage, ServerResponse } from 'node:http';
import { InitializeRequestSchema, isInitializeRequest, JSONRPCMessageSchema, SUPPORTED_PROTOCOL_VERSIONS } from '@modelcontextprotocol/sdk/types.js';
import { CapacityError, type Gateway } from '../gateway.js';
import { errorResponse, GatewayErrorCode, idKey, isJSONRPCRequest, type JSONRPCMessage } from '../jsonrpc.js';
import type { GatewaySession } from '../session.js';
import { EventStream } from './event-stream.js';
import type { StreamBound } from './bounded-write.js';
import { PostResponse } from './post-response.js';

export interface EndpointLimits {
  maxBodySize: number;
}

/** Serves one MCP Streamable HTTP endpoint, `/mcp/SERVER`, after the caller has checked Host, Origin and token. */
export async function handleMcpRequest(
  req: IncomingMessage,
  res: ServerResponse,
  server: string,
  gateway: Gateway,
  limits: EndpointLimits,
  /** Who holds the credential: a session opened by a registered client answers only that client. */
  caller: Caller = {},
): Promise<void> {
  // Every refusal here is an answer the client gets: it goes on the record, with the session it named.
  const refuse: Refuse = (status, code, message) => {
    const named = req.headers['mcp-session-id'];
    const session = typeof named === 'string' ? gateway.session(named) : undefined;
    const answer = { jsonrpc: '2.0', id: null, error: { code, message } };
    // (Filed under the session only when the caller is the one that opened it: another client naming its id is not it.)
    const own = session?.server === server && session.client.registration === caller.registration;
    gateway.events.emit('http-refusal', { sessionId: own ? session.id : undefined, server, status, answer, ...(caller.registration !== undefined ? { registration: caller.registration } : {}) });
    sendJson(res, status, {}, answer);
  };
  if (!gateway.hasServer(server)) {
    return refuse(404, -32601, `Not Found: no server "${server}" is configured (configured: ${gateway.serverNames().join(', ') || 'none'})`);
  }
  switch (req.method) {
    case 'POST':
      return handlePost(req, res, server, gateway, limits, refuse, caller);
    case 'GET':
      return handleGet(req, res, server, gateway, limits, refuse, caller);
    case 'DELETE':
      return handleDelete(req, res, server, gateway, refuse, caller);
    default:
      res.setHeader('allow', 'GET, POST, DELETE');
      return refuse(405, -32000, `Method Not Allowed: ${req.method ?? ''}`);
  }
}

type Refuse = (status: number, code: number, message: string) => void;

/** Who is calling /mcp/…: the holder of the gateway token, or a client registered with the authorization server. */
export type Caller = { registration?: string };

/** An initialize that does not validate: 400 naming the field at fault (`params.clientInfo.version`, `id`, `jsonrpc`). */
function refuseInitialize(refuse: Refuse, message: unknown): void {
  if ((message as { jsonrpc?: unknown }).jsonrpc !== '2.0') {
    return refuse(400, -32600, `Invalid Request: this initialize request is not valid at jsonrpc: it must be "2.0", not ${JSON.stringify((message as { jsonrpc?: unknown }).jsonrpc) ?? 'missing'}`);
  }
  const withId = (message as { id?: unknown }).id === null ? { ...(message as object), id: undefined } : message;
  const issue = InitializeRequestSchema.safeParse(withId).error?.issues[0] ?? JSONRPCMessageSchema.safeParse(message).error?.issues[0];
  const where = issue && issue.path.length > 0 ? issue.path.join('.') : (message as { id?: unknown }).id === null ? 'id' : 'the request';
  refuse(400, -32602, `Invalid params: this initialize request is not valid at ${where}: ${issue?.message ?? 'it does not match the MCP schema'} (see the MCP specification, lifecycle: initialize)`);
}

/**
 * How much may wait unsent on one of a session's streams: twice the largest message. A client that stops
 * reading has its stream closed there (it can reconnect) and the cut recorded, instead of the gateway buffering
 * for it without end.
 */
function streamBound(gateway: Gateway, session: GatewaySession, limits: EndpointLimits, which: string): StreamBound {
  const maxBuffered = 2 * limits.maxBodySize;
  return {
    maxBuffered,
    onCut: (buffered) =>
      gateway.events.emit('stream-cut', {
        sessionId: session.id,
        server: session.server,
        message: `${which} was closed: the client was not reading it, and ${Math.round(buffered / 1024 / 1024)} MiB waited unsent (the limit is ${Math.round(maxBuffered / 1024 / 1024)} MiB, twice gateway.maxBodySize)`,
      }),
  };
}

async function handlePost(req: IncomingMessage, res: ServerResponse, server: string, gateway: Gateway, limits: EndpointLimits, refuse: Refuse, caller: Caller): Promise<void> {
  const accept = req.headers.accept ?? '';
  if (!accepts(accept, 'application/json') || !accepts(accept, 'text/event-stream')) {
    return refuse(406, -32000, 'Not Acceptable: the Accept header must list both application/json and text/event-stream');
  }
  if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) {
    return refuse(415, -32000, 'Unsupported Media Type: Content-Type must be application/json');
  }
  const body = await readBody(req, limits.maxBodySize);
  if (body === 'too-large') {
    res.setHeader('connection', 'close');
    return refuse(413, -32000, `Payload Too Large: the body exceeds ${limits.maxBodySize} bytes (gateway.maxBodySize)`);
  }
  if (body === 'aborted') return;

  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (err) {
    return refuse(400, -32700, `Parse error: the body is not valid JSON (${(err as Error).message})`);
  }
  const batch = Array.isArray(parsed);
  const raw: unknown[] = batch ? (parsed as unknown[]) : [parsed];
  if (raw.length === 0) return refuse(400, -32600, 'Invalid Request: empty batch');
  for (const item of raw) {
    let valid: boolean;
    try {
      valid = JSONRPCMessageSchema.safeParse(item).success;
    } catch {
      valid = false; // nested too deeply to check
    }
    if (!valid) {
      // An initialize that is not even JSON-RPC names its fault like one that is (the field at fault).
      if ((item as { method?: unknown } | null)?.method === 'initialize') return refuseInitialize(refuse, item);
      return refuse(400, -32600, 'Invalid Request: the body is not a JSON-RPC 2.0 request, notification or response');
    }
  }
  // Forward what the client sent, not the schema's re-built copy, so that unknown fields pass through untouched.
  const messages = raw as JSONRPCMessage[];

  // An initialize that does not validate names what is wrong with it (not "Mcp-Session-Id header is required").
  const badInitialize = messages.find((m) => isJSONRPCRequest(m) && m.method === 'initialize' && !isInitializeRequest(m));
  if (badInitialize) return refuseInitialize(refuse, badInitialize);
  let session: GatewaySession;
  if (messages.some((m) => isJSONRPCRequest(m) && m.method === 'initialize')) {
    if (messages.length > 1) return refuse(400, -32600, 'Invalid Request: initialize must be sent on its own');
    if (req.headers['mcp-session-id']) {
      return refuse(400, -32600, 'Invalid Request: this session is already initialized; start a new session without Mcp-Session-Id');
    }
    try {
      session = await gateway.openSession(server);
      if (caller.registration !== undefined) session.client.registration = caller.registration;
    } catch (err) {
      if (err instanceof CapacityError) return refuse(503, -32000, `Service Unavailable: ${err.message}`);
      const request = messages[0] as JSONRPCMessage & { id: string | number };
      const answer = errorResponse(request.id, GatewayErrorCode.UpstreamUnavailable, (err as Error).message);
      gateway.events.emit('http-refusal', { server, status: 200, answer });
      return sendJson(res, 200, {}, answer);
    }
  } else {
    const found = findSession(req, server, gateway, refuse, caller);
    if (!found) return;
    session = found;
  }

  const headers = { 'mcp-session-id': session.id };
  const requestKeys = messages.filter(isJSONRPCRequest).map((m) => idKey(m.id));
  if (requestKeys.length === 0) {
    for (const message of messages) session.fromClient(message);
    res.writeHead(202, headers).end();
    return;
  }
  const sink = new PostResponse(res, headers, requestKeys, streamBound(gateway, session, limits, 'the response stream of a POST'));
  for (const message of messages) {
    try {
      session.fromClient(message, sink);
    } catch (err) {
      // One message failing must not take the others' answers down with it: its own request is answered.
      if (isJSONRPCRequest(message)) sink.deliver(errorResponse(message.id, GatewayErrorCode.InterceptorFailed, `Gatehouse could not take this request: ${(err as Error).message}`), idKey(message.id));
    }
  }
}

function handleGet(req: IncomingMessage, res: ServerResponse, server: string, gateway: Gateway, limits: EndpointLimits, refuse: Refuse, caller: Caller): void {
  if (!accepts(req.headers.accept ?? '', 'text/event-stream')) {
    return refuse(406, -32000, 'Not Acceptable: the Accept header must list text/event-stream');
  }
  const session = findSession(req, server, gateway, refuse, caller);
  if (!session) return;
  if (session.hasStream) return refuse(409, -32000, 'Conflict: this session already has an open GET stream');
  session.attachStream(new EventStream(res, { 'mcp-session-id': session.id }, streamBound(gateway, session, limits, 'the GET event stream')));
}

async function handleDelete(req: IncomingMessage, res: ServerResponse, server: string, gateway: Gateway, refuse: Refuse, caller: Caller): Promise<void> {
  const session = findSession(req, server, gateway, refuse, caller);
  if (!session) return;
  await session.closeForClient('the client ended the session');
  res.writeHead(200).end();
}

/** The session named by Mcp-Session-Id, or undefined after answering 400/404. Also checks MCP-Protocol-Version. */
function findSession(req: IncomingMessage, server: string, gateway: Gateway, refuse: Refuse, caller: Caller): GatewaySession | undefined {
  const id = req.headers['mcp-session-id'];
  if (typeof id !== 'string' || id === '') {
    refuse(400, -32000, 'Bad Request: Mcp-Session-Id header is required (initialize first)');
    return undefined;
  }
  const session = gateway.session(id);
  // (A session answers the credential that opened it: another registered client, or the gateway token, finds none.)
  if (!session || session.server !== server || !session.isOpen || session.client.registration !== caller.registration) {
    refuse(404, -32001, 'Session not found: it ended or never existed; initialize a new session');
    return undefined;
  }
  const version = req.headers['mcp-protocol-version'];
  if (typeof version === 'string' && !isAcceptableProtocolVersion(version, session.protocolVersion)) {
    refuse(400, -32000, `Bad Request: unsupported MCP-Protocol-Version "${version}"`);
    return undefined;
  }
  return session;
}

/** Whether a client's MCP-Protocol-Version header is acceptable for a session that negotiated `negotiated`. */
function isAcceptableProtocolVersion(header: string, negotiated: string | undefined): boolean {
  return header === negotiated || SUPPORTED_PROTOCOL_VERSIONS.includes(header);
}

function accepts(accept: string, type: string): boolean {
  return accept.includes(type) || accept.includes('*/*');
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large' | 'aborted'> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve('too-large');
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        resolve('too-large');
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size));
    });
    req.on('error', () => {
      if (!done) resolve('aborted');
      done = true;
    });
    req.on('close', () => {
      if (!done) resolve('aborted');
      done = true;
    });
  });
}

export function sendError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, {}, { jsonrpc: '2.0', id: null, error: { code, message } });
}

function sendJson(res: ServerResponse, status: number, headers: Record<string, string>, value: unknown): void {
  if (res.headersSent) return void res.end();
  const body = JSON.stringify(value);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
