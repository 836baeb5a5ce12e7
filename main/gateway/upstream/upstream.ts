import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';

/** An upstream MCP server connection, one per client session: the SDK's Transport plus what the gateway reports. */
export interface Upstream extends Transport {
  /** `stdio`, `streamable-http` or `sse` (after the fallback has decided). */
  readonly kind: string;
  /** Why the connection closed, in words a user can act on; empty while it is open. */
  closeReason(): string;
  /** Ends the upstream session politely (HTTP DELETE where supported), then closes. */
  terminate(): Promise<void>;
}

export interface UpstreamHooks {
  /** A line the upstream process wrote to stderr. */
  onStderr?(line: string): void;
}
