import { SUPPORTED_PROTOCOL_VERSIONS, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';

/**
 * Watches messages coming back from a server for the initialize result, and reports the negotiated protocol
 * version once. HTTP client transports need it for their MCP-Protocol-Version header; the SDK's Client class
 * would do this, but a transparent proxy does not use that class.
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

/** Whether a client's MCP-Protocol-Version header is acceptable for a session that negotiated `negotiated`. */
export function isAcceptableProtocolVersion(header: string, negotiated: string | undefined): boolean {
  return header === negotiated || SUPPORTED_PROTOCOL_VERSIONS.includes(header);
}
