import { EventEmitter } from 'node:events';

/** What the gateway reports as it runs. The audit log, the tray and the CLI subscribe to these. */
export interface GatewayEventMap {
  'session-start': [{ sessionId: string; server: string; at: number }];
  'session-initialized': [{ sessionId: string; server: string; client: { name?: string; version?: string }; protocolVersion?: string }];
  'session-end': [{ sessionId: string; server: string; reason: string; at: number }];
  'upstream-start': [{ sessionId: string; server: string; kind: string; pid?: number | null }];
  'upstream-exit': [{ sessionId: string; server: string; reason: string }];
  'upstream-stderr': [{ sessionId: string; server: string; line: string }];
  /** A quiet session's server process was stopped; the session stays, and its next request wakes it. */
  'upstream-sleep': [{ sessionId: string; server: string; reason: string }];
  /** A sleeping session's server was started again, and the client's handshake replayed to it. */
  'upstream-wake': [{ sessionId: string; server: string; replayed: string[]; client: { name?: string; version?: string } }];
  warning: [{ sessionId?: string; server?: string; message: string }];
  /** A stream to a client that did not read it was closed at its bound. */
  'stream-cut': [{ sessionId: string; server: string; message: string }];
  /** The endpoint answered an authenticated request with an HTTP error instead of passing it on. */
  'http-refusal': [{ sessionId?: string | undefined; server: string; status: number; answer: unknown; /** The signed-in client refused, when one was. */ registration?: string }];
}

export class GatewayEvents extends EventEmitter<GatewayEventMap> {}
