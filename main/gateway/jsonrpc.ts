import type { JSONRPCErrorResponse, JSONRPCMessage, JSONRPCNotification, JSONRPCRequest, RequestId } from '@modelcontextprotocol/sdk/types.js';

export type { JSONRPCMessage, JSONRPCRequest, JSONRPCNotification, JSONRPCErrorResponse, RequestId };

export type JSONRPCResponseMessage = Exclude<JSONRPCMessage, JSONRPCRequest | JSONRPCNotification>;

/*
 * The kind of a message that was validated where it came in (a client's POST against the SDK's JSONRPCMessageSchema,
 * a server's line by the SDK's transports, Gatehouse's own answers): the type says so, since these take a
 * JSONRPCMessage, not `unknown`. Each of the four schemas is strict, so a valid message is told by its keys: a
 * method and an id, a request; a method alone, a notification; no method, a response. The SDK's guards
 * (`isJSONRPCRequest` from its types) parse the whole message with zod again, a few µs each and a dozen per call.
 */

/** A request (method and id), for a message validated where it came in. */
export function isJSONRPCRequest(message: JSONRPCMessage): message is JSONRPCRequest {
  return 'method' in message && (message as { id?: unknown }).id !== undefined;
}

/** A notification (a method and no id), for a message validated where it came in. */
export function isJSONRPCNotification(message: JSONRPCMessage): message is JSONRPCNotification {
  return 'method' in message && (message as { id?: unknown }).id === undefined;
}

/** A response, a result or an error (no method), for a message validated where it came in. */
export function isResponse(message: JSONRPCMessage): message is JSONRPCResponseMessage {
  return !('method' in message);
}

/** Map key for a request id: 1 and "1" are different ids in JSON-RPC. */
export function idKey(id: RequestId): string {
  return typeof id === 'number' ? `n:${id}` : `s:${id}`;
}

/** JSON-RPC error codes Gatehouse answers with, in the implementation-defined server range. */
export const GatewayErrorCode = {
  /** The upstream server could not be started or reached. */
  UpstreamUnavailable: -32010,
  /** The upstream server exited or disconnected while the request was in flight. */
  UpstreamClosed: -32011,
  /** A Gatehouse interceptor failed; the message was not forwarded (fail closed). */
  InterceptorFailed: -32012,
  /** The gateway is shutting down. */
  ShuttingDown: -32013,
  /** No gateway is running (the stdio shim could not reach one). */
  GatewayNotRunning: -32014,
  /** The audit log could not record the message durably; it was not passed on (fail closed). */
  RecordingFailed: -32015,
  /** The upstream did not answer within gateway.requestTimeout. */
  UpstreamTimeout: -32017,
  /** The upstream's answer was not a valid JSON-RPC message. */
  UpstreamMalformed: -32018,
} as const;

export function errorResponse(id: RequestId, code: number, message: string, data?: unknown): JSONRPCErrorResponse {
  return { jsonrpc: '2.0', id, error: data === undefined ? { code, message } : { code, message, data } };
}
