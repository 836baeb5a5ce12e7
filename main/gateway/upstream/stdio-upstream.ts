import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { deserializeMessage, ReadBuffer } from '@modelcontextprotocol/sdk/shared/stdio.js';
import type { JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { StdioServerConfig } from '../../config/schema.js';
import { DEFAULT_MAX_MESSAGE, idNear, tooLargeReason, type Upstream, type UpstreamHooks } from './upstream.js';
import { processAlive } from '../../config/process-alive.js';
import { LineSplitter } from '../line-splitter.js';

const STDERR_TAIL_LINES = 20;

/** A line from the server that is not a valid JSON-RPC message, with the id it names (if any). */
class MalformedMessageError extends Error {
  constructor(
    cause: unknown,
    readonly id: string | number | undefined,
  ) {
    super(`not a valid JSON-RPC message: ${(cause instanceof Error ? cause.message : String(cause)).replace(/\s+/g, ' ').slice(0, 300)}`, { cause });
  }
}

/**
 * The SDK's line reader, replaced (its own copies the whole buffer on every chunk, and ends the session when a
 * line passes 10 MB) by the shared LineSplitter: a line longer than `maxLine` (gateway.maxBodySize) is dropped as
 * it arrives, never held, and reported once it ends, with the id it names near its start, so that the request it
 * answers is answered with an error naming the limit while the session goes on. A line that is not valid
 * JSON-RPC says which request it seemed to answer, likewise.
 */
class GatewayReadBuffer extends ReadBuffer {
  private readonly lines: Buffer[] = [];
  private readonly splitter: LineSplitter;

  constructor(maxLine: number, tooLarge: (id: string | number | undefined, size: number) => void) {
    super();
    this.splitter = new LineSplitter(maxLine, (line) => this.lines.push(line), (head, size) => tooLarge(idNear(head), size));
  }

  override append(chunk: Buffer): void {
    this.splitter.push(chunk);
  }

  override readMessage(): JSONRPCMessage | null {
    const line = this.lines.shift();
    if (line === undefined) return null;
    const text = line.toString('utf8');
    try {
      return deserializeMessage(text);
    } catch (err) {
      throw new MalformedMessageError(err, idOf(text));
    }
  }

  override clear(): void {
    this.splitter.clear();
    this.lines.length = 0;
  }
}

/** The variables of the gateway's environment that `names` lists (those it has). */
function passedEnvironment(names: readonly string[] | undefined): Record<string, string> {
  const passed: Record<string, string> = {};
  for (const name of names ?? []) {
    const value = process.env[name];
    if (value !== undefined) passed[name] = value;
  }
  return passed;
}

function idOf(line: string): string | number | undefined {
  try {
    const id = (JSON.parse(line) as { id?: unknown } | null)?.id;
    return typeof id === 'string' || typeof id === 'number' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** A stdio MCP server started for one client session; its stderr is captured, and it is stopped with the session. */
export class StdioUpstream implements Upstream {
  readonly kind = 'stdio';
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: (message: JSONRPCMessage) => void;
  onmalformed?: (id: string | number | undefined, reason: string) => void;

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
    // The SDK passes only a safe subset of the environment; the variables named in passEnv, then the configured
    // env, go on top of it.
    this.transport = new StdioClientTransport({
      command: config.command,
      args: config.args,
      env: { ...passedEnvironment(config.passEnv), ...config.env },
      ...(config.cwd ? { cwd: config.cwd } : {}),
      stderr: 'pipe',
    });
    // The SDK keeps its reader in a private field; where it is not there (another SDK version), malformed
    // answers are left to gateway.requestTimeout.
    const transport = this.transport as unknown as { _readBuffer?: unknown };
    const maxLine = hooks.maxMessageSize ?? DEFAULT_MAX_MESSAGE;
    if (transport._readBuffer instanceof ReadBuffer) {
      transport._readBuffer = new GatewayReadBuffer(maxLine, (id, size) =>
        this.onmalformed?.(id, tooLargeReason(size, maxLine)),
      );
    }
    this.transport.onmessage = (m) => this.onmessage?.(m);
    this.transport.onerror = (e) => (e instanceof MalformedMessageError ? this.onmalformed?.(e.id, e.message) : this.onerror?.(e));
    this.transport.onclose = () => {
      this.closed = true;
      this.onclose?.();
    };
    const stderr = this.transport.stderr as Readable | null;
    if (stderr) {
      createInterface({ input: stderr, crlfDelay: Infinity }).on('line', (line) => {
        const kept = this.hooks.maskStderr ? this.hooks.maskStderr(line) : line;
        this.stderrTail.push(kept);
        if (this.stderrTail.length > STDERR_TAIL_LINES) this.stderrTail.shift();
        this.hooks.onStderr?.(kept);
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

  /** Stops the server and resolves once its process is gone (the SDK's close returns right after a SIGKILL, before the exit). */
  async terminate(): Promise<void> {
    const pid = this.transport.pid;
    await this.close();
    if (pid === null || pid === undefined) return;
    for (let i = 0; i < 100 && processAlive(pid); i++) await new Promise((r) => setTimeout(r, 10));
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

