import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * Watches messages coming back from a server for the initialize result, and reports the negotiated protocol
 * version once. HTTP client transports need it for their MCP-Protocol-Version header; the SDK's Client class
 * would do this, but a transparent proxy does not use that class. (Types only from the SDK: the stdio shim
 * imports this and loads none of it.)
 */
export function trackProtocolVersion(onVersion: (version: string) => void): (message: JSONRPCMessage) => void {
  let seen = false;
  return (message) => {
    if (seen || !('result' in message)) return;
    const version = (message.result as { protocolVersion?: unknown }).protocolVersion;
    const info = (message.result as { serverInfo?: unknown }).serverInfo;
    if (typeof version === 'string' && info !== undefined) {
      seen = true;
      onVersion(version);
    }
  };
}
