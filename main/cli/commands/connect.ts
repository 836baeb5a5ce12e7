import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { Readable, Writable } from 'node:stream';
import { readToken } from '../../config/data-dir.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { abortIsolatingFetch } from '../../gateway/isolated-fetch.js';
import { errorResponse, GatewayErrorCode, isJSONRPCRequest, type JSONRPCMessage } from '../../gateway/jsonrpc.js';
import { trackProtocolVersion } from '../../gateway/protocol-version.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';
import { dataDirFor } from '../options.js';
import { UsageError } from '../usage-error.js';

export const connectCommand: Command = {
  summary: 'stdio shim for MCP clients that only speak stdio: bridges to the running gateway\'s endpoint for SERVER',
  usage: 'gatehouse connect SERVER',
  options: {},
  async run({ positionals }, io) {
    const [server, ...extra] = positionals;
    if (!server || extra.length) throw new UsageError('name exactly one server, as configured in gatehouse.yaml');
    await bridgeStdio({ server, dataDir: dataDirFor(io), io, stdin: process.stdin, stdout: process.stdout });
  },
};

export interface BridgeOptions {
  server: string;
  dataDir: string;
  io: CliIo;
  stdin: Readable;
  stdout: Writable;
}

/**
 * Bridges a stdio MCP client to the gateway's Streamable HTTP endpoint, message for message. When no gateway
 * runs it fails closed: every request is answered with a JSON-RPC error saying so, and stderr says it once.
 */
export function bridgeStdio({ server, dataDir, io, stdin, stdout }: BridgeOptions): Promise<void> {
  const stdio = new StdioServerTransport(stdin, stdout);
  const runtime = readRuntimeInfo(dataDir);
  const token = readToken(dataDir);
  let http: StreamableHTTPClientTransport | undefined;
  let complained = false;

  const fail = (message: JSONRPCMessage, code: number, reason: string) => {
    if (!complained) {
      io.err(`gatehouse connect: ${reason}`);
      complained = true;
    }
    if (isJSONRPCRequest(message)) void stdio.send(errorResponse(message.id, code, `Gatehouse: ${reason}`));
  };

  if (runtime && token) {
    http = new StreamableHTTPClientTransport(new URL(`${runtime.url}/mcp/${encodeURIComponent(server)}`), {
      requestInit: { headers: { authorization: `Bearer ${token}` } },
      fetch: abortIsolatingFetch(),
    });
    const version = trackProtocolVersion((v) => http?.setProtocolVersion(v));
    http.onmessage = (message) => {
      version(message);
      void stdio.send(message);
    };
    http.onerror = (error) => io.err(`gatehouse connect: ${error.message}`);
  }
  const notRunning = `no Gatehouse gateway is running for ${dataDir}; start the desktop app or \`gatehouse serve\``;

  stdio.onmessage = (message) => {
    if (!http) return fail(message, GatewayErrorCode.GatewayNotRunning, notRunning);
    http.send(message).catch((err: unknown) => {
      const cause = (err as { cause?: { code?: string } }).cause?.code;
      if (cause === 'ECONNREFUSED') return fail(message, GatewayErrorCode.GatewayNotRunning, notRunning);
      fail(message, GatewayErrorCode.UpstreamUnavailable, (err as Error).message);
    });
  };

  return new Promise((resolve) => {
    stdio.onclose = () => resolve();
    stdin.once('end', () => {
      const done = http ? http.terminateSession().catch(() => undefined).then(() => http?.close()) : Promise.resolve();
      void done.finally(() => stdio.close().finally(resolve));
    });
    void stdio.start();
    void http?.start();
  });
}
