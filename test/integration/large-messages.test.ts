/**
 * Messages up to gateway.maxBodySize pass in both directions on every transport; a larger one gets a clear,
 * recorded error naming the limit, and the session goes on. Attacks (or accidents): a stdio server that
 * answers with a 16 MB file read (it used to end the whole session, reported as "upstream exited", at the
 * SDK's 10 MB line limit); a client that sends 20 MB; a server that answers more than the limit allows.
 * Measured on what arrived: the bytes the client got back, and the records in the data directory.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { startHarness, type Harness } from '../helpers/gateway-harness.js';
import { freePort, startHttpServer } from '../helpers/http-servers.js';
import { everythingStdio } from '../helpers/servers.js';

const SPY = join(import.meta.dirname, '../fixtures/spy-server.mjs');
const MiB = 1024 * 1024;
const harnesses: Harness[] = [];
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const h of harnesses) await h.stop();
  for (const c of children) c.kill();
});
const textOf = (result: unknown): string => ((result as { content: { text: string }[] }).content[0] as { text: string }).text;

describe('large messages', () => {
  it('20 MB through a stdio and an HTTP upstream arrives intact when the limit allows it', async () => {
    const port = await freePort();
    children.push(await startHttpServer([join(import.meta.dirname, '../fixtures/big-http-server.mjs'), String(port)], port));
    const harness = await startHarness({ gateway: { port: 0, maxBodySize: '30MiB' }, servers: { spy: { command: process.execPath, args: [SPY] }, remote: { url: `http://127.0.0.1:${port}/mcp` }, local: everythingStdio() } });
    harnesses.push(harness);
    for (const server of ['spy', 'remote']) {
      const client = await harness.connect(server);
      const text = textOf(await client.callTool({ name: 'big_20', arguments: {} }, undefined, { timeout: 60_000 }));
      expect(text.length, server).toBe(20 * MiB);
      expect(text === (text[0] as string).repeat(text.length), server).toBe(true);
    }
    // And from the client: 9 MB to a server that takes it (the SDK's stdio servers stop at 10 MB lines).
    const local = await harness.connect('local');
    const message = 'y'.repeat(9 * MiB);
    expect(textOf(await local.callTool({ name: 'echo', arguments: { message } }, undefined, { timeout: 60_000 })).length).toBe(message.length + 'Echo: '.length);
  });

  it('a 16 MB answer over a 10 MiB limit: a clear error naming the limit, recorded, and the session goes on', async () => {
    const harness = await startHarness({ gateway: { port: 0, maxBodySize: '10MiB' }, servers: { spy: { command: process.execPath, args: [SPY] } } });
    harnesses.push(harness);
    const client = await harness.connect('spy');
    const refused = client.callTool({ name: 'big_16', arguments: {} }, undefined, { timeout: 60_000 });
    await expect(refused).rejects.toThrow(/too large: a message of 16\.0 MiB, over gateway\.maxBodySize \(10\.0 MiB\)/);
    // The session is still there: the next call is answered by the same server process.
    expect(textOf(await client.callTool({ name: 'write_file', arguments: {} }))).toBe('ran write_file');
    const dir = join(harness.home, 'audit');
    const records = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(records).toContain('"event":"malformed-message"');
    expect(records).toContain('over gateway.maxBodySize');
    expect(records).not.toContain('xxxxxxxxxxxxxxxx'); // the dropped answer was never held, let alone stored
  });

  it('over the limit from an HTTP upstream, as JSON or as an event stream: the same clear, recorded error, and the session goes on', async () => {
    const port = await freePort();
    children.push(await startHttpServer([join(import.meta.dirname, '../fixtures/big-http-server.mjs'), String(port)], port));
    const harness = await startHarness({ gateway: { port: 0, maxBodySize: '10MiB' }, servers: { remote: { url: `http://127.0.0.1:${port}/mcp` } } });
    harnesses.push(harness);
    const client = await harness.connect('remote');
    for (const tool of ['big_16', 'sse_big_16']) {
      await expect(client.callTool({ name: tool, arguments: {} }, undefined, { timeout: 60_000 }), tool).rejects.toThrow(/too large: a message of (?:16\.0 MiB|more than 10\.0 MiB), over gateway\.maxBodySize \(10\.0 MiB\)/);
    }
    expect(textOf(await client.callTool({ name: 'sse_big_1', arguments: {} })).length).toBe(MiB);
    expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['big_20']);
    const dir = join(harness.home, 'audit');
    const records = readdirSync(dir).filter((f) => f.endsWith('.jsonl')).map((f) => readFileSync(join(dir, f), 'utf8')).join('');
    expect(records.split('"event":"malformed-message"').length - 1).toBe(2);
    expect(records).not.toContain('zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz'.repeat(65536)); // no dropped answer is stored
  });
});
