import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** An upstream MCP server connection, one per client session: the SDK's Transport plus what the gateway reports. */
export interface Upstream extends Transport {
  /** `stdio`, `streamable-http` or `sse` (after the fallback has decided). */
  readonly kind: string;
  /** Why the connection closed, in words a user can act on; empty while it is open. */
  closeReason(): string;
  /** Ends the upstream session politely (HTTP DELETE where supported), then closes. */
  terminate(): Promise<void>;
  /** The upstream sent something that is not a valid JSON-RPC message; `id` is the request it seems to answer, if it names one. */
  onmalformed?: (id: string | number | undefined, reason: string) => void;
}

/** gateway.maxBodySize's default: the largest message taken from a server when no limit is given. */
export const DEFAULT_MAX_MESSAGE = 32 * 1024 * 1024;

// Exact below 10 MiB, where a message one byte over the limit must not read as the limit itself.
const formatSize = (bytes: number): string => (bytes >= 10 * 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MiB` : `${bytes.toLocaleString('en')} bytes`);

/** Why a message from a server was dropped for its size (the malformed-message reason, on every transport). */
export function tooLargeReason(size: number | undefined, limit: number): string {
  return `too large: a message of ${size === undefined ? `more than ${formatSize(limit)}` : formatSize(size)}, over gateway.maxBodySize (${formatSize(limit)}); it was dropped, and the session goes on`;
}

/** The id a JSON-RPC message names near its start (`{"jsonrpc":"2.0","id":5,"result":…`), for a message too long to parse. */
export function idNear(head: string): string | number | undefined {
  const m = /"id"\s*:\s*(?:(-?\d{1,16})\b|"((?:[^"\\]|\\.){0,200})")/.exec(head);
  if (!m) return undefined;
  return m[1] !== undefined ? Number(m[1]) : (JSON.parse(`"${m[2] as string}"`) as string);
}

export interface UpstreamHooks {
  /** A line the upstream process wrote to stderr. */
  onStderr?(line: string): void;
  /** Applied to each stderr line before anything keeps it (the tail an exit reason quotes, the events): masking. */
  maskStderr?(line: string): string;
  /** For an HTTP upstream with `auth: oidc`: the signed-in user's access token now, or undefined (nobody signed in). */
  accessToken?(): string | undefined;
  /** The largest message taken from the server (gateway.maxBodySize); a larger one is dropped and reported as malformed. */
  maxMessageSize?: number;
}
