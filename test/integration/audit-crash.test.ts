import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readAllRecords } from '../helpers/audit-log.js';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { initializeBody } from '../helpers/raw-http.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';
import { waitFor } from '../helpers/gateway-harness.js';

const ROUNDS = 5;
const CLIENTS = 4;
const CALLS_PER_CLIENT = 400;

/** The answer to request `id`, from a JSON body or an SSE stream (which may carry other messages first). */
function parseReply(body: string, id: number): { id?: number; result?: unknown } {
  const messages = body.trimStart().startsWith('{') ? [body] : [...body.matchAll(/^data: (.*)$/gm)].map((m) => m[1] as string);
  for (const text of messages) {
    const message = JSON.parse(text) as { id?: number; result?: unknown };
    if (message.id === id) return message;
  }
  return {};
}

/** One client's loop of echo calls until the gateway dies or the loop ends; returns the responses it received. */
async function callUntilKilled(url: string, token: string, client: number, progress: { answered: number }): Promise<{ session: string; id: number }[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  const post = (body: string) =>
    new Promise<{ status: number; sid?: string; body: string }>((resolve, reject) => {
      const req = request(`${url}/mcp/everything`, { method: 'POST', agent, headers }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, sid: res.headers['mcp-session-id'] as string | undefined, body: text }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(body);
    });
  const received: { session: string; id: number }[] = [];
  try {
    const init = await post(initializeBody(0));
    if (!init.sid) return received;
    headers['mcp-session-id'] = init.sid;
    await post('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    for (let id = 1; id <= CALLS_PER_CLIENT; id++) {
      const res = await post(JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'echo', arguments: { message: `client ${client} call ${id}` } } }));
      const reply = parseReply(res.body, id);
      if (res.status === 200 && reply.id === id && reply.result) {
        received.push({ session: init.sid, id });
        progress.answered++;
      }
    }
  } catch {
    // the gateway was killed mid-call: what was received so far is what counts
  } finally {
    agent.destroy();
  }
  return received;
}


describe('crash safety: the gateway killed with SIGKILL under load, again and again', () => {
  const home = tempHome({ servers: { everything: everythingStdio() }, recording: { segmentSize: '64KiB' } });
  afterAll(() => home.remove());

  it('after every restart verify passes, and every response a client received has its request and response records', async () => {
    const env = { GATEHOUSE_HOME: home.dir };
    const token = () => readFileSync(join(home.dir, 'token'), 'utf8').trim();
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const acknowledged: { session: string; id: number }[] = [];
    let serve = await startServe(['--port', '0'], env);
    for (let round = 0; round < ROUNDS; round++) {
      const progress = { answered: 0 };
      const loops = Array.from({ length: CLIENTS }, (_, c) => callUntilKilled(serve.url, token(), c, progress));
      // Kill under load: once calls are flowing (however slow the machine is), at a random moment after.
      await waitFor(() => progress.answered >= CLIENTS * 5, 30_000, 'calls to flow through the gateway');
      await new Promise((r) => setTimeout(r, Math.floor(random() * 300)));
      const exited = new Promise((r) => serve.child.on('exit', r));
      serve.child.kill('SIGKILL');
      await exited;
      for (const got of await Promise.all(loops)) acknowledged.push(...got);

      serve = await startServe(['--port', '0'], env); // restart: a torn tail is repaired here
      const verify = await runGatehouse(['verify', '--json'], env);
      expect(verify.code, verify.stderr).toBe(0);
      expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true });
    }
    serve.child.kill('SIGTERM');
    await new Promise((r) => serve.child.on('exit', r));

    expect(acknowledged.length).toBeGreaterThan(ROUNDS * CLIENTS);
    const records = readAllRecords(home.dir);
    const has = new Set(records.filter((r) => r.method === 'tools/call').map((r) => `${r.session}|${r.id}|${r.kind}`));
    const missing = acknowledged.filter(({ session, id }) => !has.has(`${session}|${id}|request`) || !has.has(`${session}|${id}|response`));
    expect(missing).toEqual([]);
  });
});
