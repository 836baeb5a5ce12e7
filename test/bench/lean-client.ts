// The bench's lean MCP clients: the least a client can do per call, so that what is measured is the path between
// client and server, not the client. Over HTTP, node:http with keep-alive; over stdio, a line splitter that
// never re-reads what it has seen. Both multiplex calls by JSON-RPC id.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { Agent, request } from 'node:http';

const PROTOCOL = '2025-11-25';
/** A call not answered in this long fails (a proxy that drops an answer it cannot carry must not stall the run). */
const CALL_TIMEOUT_MS = Number(process.env.BENCH_CALL_TIMEOUT ?? 60_000);
const INITIALIZE = { method: 'initialize', params: { protocolVersion: PROTOCOL, capabilities: {}, clientInfo: { name: 'gatehouse-bench', version: '1' } } };

/** One MCP session: calls a tool and answers with the bytes of the answer. */
export interface BenchSession {
  /** Calls a tool; resolves with the answer's text as it arrived. */
  call(tool: string, args: Record<string, unknown>): Promise<string>;
  /** Calls server-everything's `echo` with this message. */
  echo(message: string): Promise<string>;
  /** Ends the session (DELETE over HTTP, the end of input over stdio); resolves once answered or exited. */
  close(): Promise<void>;
  /** The process this session spawned (stdio), if any. */
  readonly pid?: number | undefined;
}

function checked(text: string, id: number): string {
  if (!text.includes('"result"')) throw new Error(`call ${id} failed: ${text.slice(0, 300)}`);
  return text;
}

/** A Streamable HTTP session over node:http with a keep-alive agent of `sockets` connections. */
export async function openHttpSession(endpoint: string, headers: Record<string, string> = {}, sockets = 64): Promise<BenchSession> {
  const agent = new Agent({ keepAlive: true, maxSockets: sockets });
  const target = new URL(endpoint);
  const base: Record<string, string> = { ...headers, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const send = (method: 'POST' | 'DELETE', body?: string) =>
    new Promise<{ status: number; session: string | undefined; text: string }>((resolve, reject) => {
      const req = request(target, { method, agent, headers: body === undefined ? base : { ...base, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, session: res.headers['mcp-session-id'] as string | undefined, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      // An absolute deadline, not an idle one: a proxy may keep the stream alive (`: keepalive`) with no answer coming.
      const timer = setTimeout(() => req.destroy(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`)), CALL_TIMEOUT_MS);
      req.on('close', () => clearTimeout(timer));
      req.on('error', reject);
      req.end(body);
    });
  const init = await send('POST', JSON.stringify({ jsonrpc: '2.0', id: 0, ...INITIALIZE }));
  if (init.status !== 200) throw new Error(`initialize: HTTP ${init.status} ${init.text.slice(0, 300)}`);
  if (init.session) base['mcp-session-id'] = init.session;
  base['mcp-protocol-version'] = PROTOCOL;
  await send('POST', JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }));
  let next = 1;
  const call = async (tool: string, args: Record<string, unknown>) => {
    const id = next++;
    const res = await send('POST', JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: tool, arguments: args } }));
    return checked(res.text, id);
  };
  return {
    call,
    echo: (message) => call('echo', { message }),
    async close() {
      if (base['mcp-session-id']) await send('DELETE').catch(() => undefined);
      agent.destroy();
    },
  };
}

/** A stdio session with a process it spawns (the server itself, or a shim in front of a gateway). */
export async function openStdioSession(command: string, args: string[], env: Record<string, string> = {}): Promise<BenchSession> {
  const child: ChildProcessWithoutNullStreams = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  child.stderr.resume();
  child.stdin.on('error', () => undefined); // a process that died: its exit fails what is in flight
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (err: Error) => void }>();
  let held: Buffer[] = [];
  const dispatch = (line: string) => {
    const m = /"id":(\d+)/.exec(line.length > 200 ? line.slice(0, 100) + line.slice(-100) : line);
    const w = m ? waiting.get(Number(m[1])) : undefined;
    if (!w || !m) return;
    waiting.delete(Number(m[1]));
    w.resolve(line);
  };
  child.stdout.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      const piece = chunk.subarray(start, nl);
      dispatch(held.length ? Buffer.concat([...held, piece]).toString() : piece.toString());
      held = [];
      start = nl + 1;
    }
    if (start < chunk.length) held.push(chunk.subarray(start));
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => {
    for (const w of waiting.values()) w.reject(new Error(`${command} exited`));
    waiting.clear();
  });
  let next = 0;
  const rpc = (method: string, params: unknown): Promise<string> =>
    new Promise((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`no answer within ${CALL_TIMEOUT_MS} ms`));
      }, CALL_TIMEOUT_MS);
      const settle = (f: () => void) => {
        clearTimeout(timer);
        f();
      };
      waiting.set(id, { resolve: (text) => settle(() => (text.includes('"result"') ? resolve(text) : reject(new Error(`${method} failed: ${text.slice(0, 300)}`)))), reject: (err) => settle(() => reject(err)) });
      child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    });
  await rpc(INITIALIZE.method, INITIALIZE.params);
  child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' })}\n`);
  return {
    pid: child.pid,
    call: (tool, args) => rpc('tools/call', { name: tool, arguments: args }),
    echo: (message) => rpc('tools/call', { name: 'echo', arguments: { message } }),
    async close() {
      child.stdin.end();
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    },
  };
}
