import { SSEClientTransport } from '@modelcontextprotocol/sdk/client/sse.js';
import { StreamableHTTPClientTransport, StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { isInitializeRequest, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import type { HttpServerConfig } from '../../config/schema.js';
import { abortIsolatingFetch } from '../isolated-fetch.js';
import { sizeLimitedFetch } from './size-limited-fetch.js';
import { trackProtocolVersion } from '../protocol-version.js';
import { DEFAULT_MAX_MESSAGE, tooLargeReason, type Upstream, type UpstreamHooks } from './upstream.js';

/**
 * A remote MCP server over Streamable HTTP, falling back to the legacy HTTP+SSE transport when the server
 * answers the first POST with 4xx (the backwards-compatibility procedure of the MCP specification).
 */
export class HttpUpstream implements Upstream {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  onmalformed?: (id: string | number | undefined, reason: string) => void;

  private transport: Transport | undefined;
  private chosen: 'streamable-http' | 'sse' | undefined;
  private closed = false;
  private closing = false;
  private lastError: Error | undefined;
  private readonly watchVersion = trackProtocolVersion((v) => this.transport?.setProtocolVersion?.(v));

  constructor(
    private readonly name: string,
    private readonly config: HttpServerConfig,
    private readonly hooks: UpstreamHooks = {},
  ) {
    if (config.transport !== 'auto') this.chosen = config.transport;
  }

  get kind(): string {
    return this.chosen ?? 'streamable-http';
  }

  async start(): Promise<void> {
    // Connecting waits for the first message: `auto` needs the initialize POST to decide.
    if (this.chosen) this.transport = await this.open(this.chosen);
  }

  async send(message: JSONRPCMessage): Promise<void> {
    if (!this.transport) {
      if (!isInitializeRequest(message)) throw new Error(`upstream "${this.name}" received ${describe(message)} before initialize`);
      const first = await this.open('streamable-http');
      this.transport = first;
      try {
        await first.send(message);
        this.chosen = 'streamable-http';
        return;
      } catch (err) {
        if (!(err instanceof StreamableHTTPError) || err.code === undefined || err.code < 400 || err.code >= 500) {
          throw this.wrap(err);
        }
        // A 4xx to the first POST means an old HTTP+SSE server: switch before anyone sees the failed attempt close.
        this.transport = undefined;
        await first.close().catch(() => undefined);
        this.transport = await this.open('sse');
        this.chosen = 'sse';
      }
    }
    try {
      await this.transport.send(message);
    } catch (err) {
      throw this.wrap(err);
    }
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.transport?.close();
    if (!this.transport) this.markClosed();
  }

  async terminate(): Promise<void> {
    if (this.transport instanceof StreamableHTTPClientTransport && this.transport.sessionId) {
      await this.transport.terminateSession().catch(() => undefined);
    }
    await this.close();
  }

  /**
   * `auth: oidc`: every request carries the signed-in user's access token, read when it is sent (a refreshed
   * token is used at once). Nobody signed in: the request is not sent, and the error says to sign in.
   */
  private withUserToken(base: ReturnType<typeof abortIsolatingFetch>): ReturnType<typeof abortIsolatingFetch> {
    return async (url, init) => {
      const token = this.hooks.accessToken?.();
      if (!token) throw new Error(`upstream server "${this.name}" needs the signed-in user's access token (auth: oidc), and nobody is signed in: run \`gatehouse login\``);
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return base(url, { ...init, headers });
    };
  }

  closeReason(): string {
    if (!this.closed) return '';
    if (this.closing) return `upstream server "${this.name}" was disconnected by the gateway`;
    return `upstream server "${this.name}" (${this.config.url}) disconnected${this.lastError ? `: ${this.lastError.message}` : ''}`;
  }

  private async open(kind: 'streamable-http' | 'sse'): Promise<Transport> {
    const url = new URL(this.config.url);
    const isolated = this.config.auth === 'oidc' ? this.withUserToken(abortIsolatingFetch()) : abortIsolatingFetch();
    const limit = this.hooks.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    // Every message held to gateway.maxBodySize, as from a stdio server: a larger one is reported, not read.
    const limited = sizeLimitedFetch(isolated, limit, (id, size) => this.onmalformed?.(id, tooLargeReason(size, limit)));
    const options = { requestInit: { headers: this.config.headers }, fetch: limited };
    const transport: Transport = kind === 'sse' ? new SSEClientTransport(url, options) : new StreamableHTTPClientTransport(url, options);
    transport.onmessage = (m: JSONRPCMessage) => {
      this.watchVersion(m);
      this.onmessage?.(m);
    };
    transport.onerror = (e) => {
      this.lastError = e;
      this.onerror?.(e);
    };
    transport.onclose = () => {
      if (this.transport === transport) this.markClosed();
    };
    try {
      await transport.start();
    } catch (err) {
      throw this.wrap(err);
    }
    return transport;
  }

  private markClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.onclose?.();
  }

  private wrap(err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    this.lastError = e;
    const cause = (e.cause as NodeJS.ErrnoException | undefined)?.code;
    const hint = cause === 'ECONNREFUSED' ? ' (connection refused: is the server running?)' : '';
    return new Error(`upstream server "${this.name}" (${this.config.url}) is unreachable: ${e.message}${hint}`, { cause: e });
  }
}

function describe(message: JSONRPCMessage): string {
  return 'method' in message ? message.method : 'a response';
}
