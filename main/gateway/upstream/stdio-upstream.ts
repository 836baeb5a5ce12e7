import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { StdioServerConfig } from '../../config/schema.js';
import type { Upstream, UpstreamHooks } from './upstream.js';

const STDERR_TAIL_LINES = 20;

/** A stdio MCP server started for one client session; its stderr is captured, and it is stopped with the session. */
export class StdioUpstream implements Upstream {
  readonly kind = 'stdio';
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;

  private readonly transport: StdioClientTransport;
  private readonly stderrTail: string[] = [];
  private closed = false;
  private closing = false;
  private startError: Error | undefined;

  constructor(
    private readonly name: string,
    private readonly config: StdioServerConfig,
    private readonly hooks: UpstreamHooks,
  ) {
    // The SDK passes only a safe subset of the environment; the configured env goes on top of it.
    this.transport = new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: config.env,
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'pipe',
    });
    this.transport.onmessage = (m) => this.onmessage?.(m);
    this.transport.onerror = (e) => this.onerror?.(e);
    this.transport.onclose = () => {
      this.closed = true;
      this.onclose?.();
    };
    const stderr = this.transport.stderr as Readable | null;
    if (stderr) {
      createInterface({ input: stderr, crlfDelay: Infinity }).on('line', (line) => {
        this.stderrTail.push(line);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.hooks.onStderr?.(line);
      });
    }
  }

  get pid(): number | null {
    return this.transport.pid;
  }

  async start(): Promise<void> {
    try {
      await this.transport.start();
    } catch (err) {
      this.startError = err as Error;
      throw new Error(this.describeStartError(err as NodeJS.ErrnoException), { cause: err });
    }
  }

  send(message: JSONRPCMessage): Promise<void> {
    return this.transport.send(message);
  }

  async close(): Promise<void> {
    this.closing = true;
    await this.transport.close();
  }

  terminate(): Promise<void> {
    return this.close();
  }

  closeReason(): string {
    if (!this.closed && !this.startError) return '';
    if (this.startError) return this.describeStartError(this.startError as NodeJS.ErrnoException);
    if (this.closing) return `upstream server "${this.name}" was stopped by the gateway`;
    const last = this.stderrTail.filter((l) => l.trim()).slice(-3).join(' | ');
    return `upstream server "${this.name}" (${this.config.command}) exited${last ? `; its last stderr: ${last}` : ''}`;
  }

  private describeStartError(err: NodeJS.ErrnoException): string {
    if (err.code === 'ENOENT') {
      return `upstream server "${this.name}" could not start: command "${this.config.command}" was not found${
        this.config.cwd ? ` (cwd ${this.config.cwd})` : ''
      }; check servers.${this.name}.command in gatehouse.yaml`;
    }
    if (err.code === 'EACCES') {
      return `upstream server "${this.name}" could not start: command "${this.config.command}" is not executable`;
    }
    return `upstream server "${this.name}" could not start: ${err.message}`;
  }
}
