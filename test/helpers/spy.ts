import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Harness } from './gateway-harness.js';
import { initializeBody, MCP_HEADERS, rawRequest } from './raw-http.js';

const SPY = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'spy-server.mjs');

type Tool = { name: string; description?: string; inputSchema?: unknown };
type Received = { id?: string | number; method?: string; params?: { name?: string; arguments?: unknown } };

/** The spy upstream (test/fixtures/spy-server.mjs): what it received is what reached a server, read from its own log. */
export interface Spy {
  config: { command: string; args: string[]; env: Record<string, string> };
  received(): Received[];
  /** The tools/call messages that reached the server, as it received them. */
  calls(): Received[];
  /** Changes what tools/list answers from now on (the server's definition of its tools). */
  setTools(tools: Tool[]): void;
  remove(): void;
}

export const SPY_TOOLS: Tool[] = ['write_file', 'run_command', 'crash', 'hang', 'fail', 'tool_error'].map((name) => ({ name, description: `the ${name} tool`, inputSchema: { type: 'object' } }));

export function startSpy(): Spy {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-spy-'));
  const log = join(dir, 'received.jsonl');
  const tools = join(dir, 'tools.json');
  writeFileSync(tools, JSON.stringify(SPY_TOOLS));
  const received = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Received) : []);
  return {
    config: { command: process.execPath, args: [SPY], env: { SPY_LOG: log, SPY_TOOLS: tools } },
    received,
    calls: () => received().filter((m) => m.method === 'tools/call'),
    setTools: (list) => writeFileSync(tools, JSON.stringify(list)),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A JSON-RPC answer, from a plain JSON body or from an SSE stream of them. */
export type Answer = { id?: string | number | null; result?: unknown; error?: { code: number; message: string; data?: Record<string, unknown> } };

/** A hand-driven MCP session over HTTP, for what the SDK's client will not send (a tools/call without an id, a batch). */
export async function rawSession(h: Harness, server: string): Promise<{ id: string; post(body: unknown, extra?: Record<string, string>): Promise<{ status: number; answers: Answer[] }> }> {
  const url = h.endpoint(server).toString();
  const auth = { ...MCP_HEADERS, authorization: `Bearer ${h.gatehouse.token}` };
  const init = await rawRequest(url, { headers: auth, body: initializeBody() });
  const id = String(init.headers['mcp-session-id']);
  const headers = { ...auth, 'mcp-session-id': id, 'mcp-protocol-version': '2025-11-25' };
  await rawRequest(url, { headers, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  return {
    id,
    async post(body, extra = {}) {
      const res = await rawRequest(url, { headers: { ...headers, ...extra }, body: typeof body === 'string' ? body : JSON.stringify(body) });
      const answers = String(res.headers['content-type']).startsWith('text/event-stream')
        ? res.body
            .split('\n')
            .filter((l) => l.startsWith('data: '))
            .map((l) => JSON.parse(l.slice(6)) as Answer)
        : res.body
          ? ([JSON.parse(res.body)].flat() as Answer[])
          : [];
      return { status: res.status, answers };
    },
  };
}
