import type { JSONRPCMessage } from './jsonrpc.js';

/** Somewhere a message for the client can be written: the response stream of a POST, or the session's GET stream. */
export interface ClientSink {
  /** False once the client has gone or the stream has ended. */
  readonly open: boolean;
  /** Writes a message; `answers` is the id key of the request this message is the response to, if it is one. */
  deliver(message: JSONRPCMessage, answers?: string): void;
  /** The client cancelled request `key`: stop waiting for its response. */
  abandon(key: string): void;
}
