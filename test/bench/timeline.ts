import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditLog } from '../../main/audit/segment-writer.js';
import { SessionIndex } from '../../main/audit/session-index.js';
import { launchChromium } from '../helpers/browser.js';
import { startServe } from '../helpers/cli.js';

/** A data directory whose log holds `sessions` short sessions (start, a call and its answer, end). */
async function generate(home: string, sessions: number): Promise<void> {
  writeFileSync(join(home, 'gatehouse.yaml'), 'gateway: { port: 0 }\nservers: {}\n');
  writeFileSync(join(home, 'audit.key'), 'ab'.repeat(32) + '\n', { mode: 0o600 });
  const log = await AuditLog.open({ dir: join(home, 'audit'), key: Buffer.from('ab'.repeat(32), 'hex') });
  const base = Date.now() - sessions * 60_000;
  const pending: Promise<number>[] = [];
  for (let i = 0; i < sessions; i++) {
    const session = `bench-${String(i).padStart(6, '0')}`;
    const ts = (k: number) => new Date(base + i * 60_000 + k * 100).toISOString();
    const common = { session, server: i % 2 ? 'files' : 'tracker', principal: 'local:bench', client: { name: `client-${i % 7}`, version: '1.0' } };
    pending.push(
      log.append({ ...common, ts: ts(0), kind: 'event', event: 'session-start' }),
      log.append({ ...common, ts: ts(1), kind: 'request', direction: 'client->server', method: 'tools/call', tool: 'read_file', id: 1, payload: { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: `/p/${i}` } } } }),
      log.append({ ...common, ts: ts(2), kind: 'response', direction: 'server->client', method: 'tools/call', tool: 'read_file', id: 1, payload: { jsonrpc: '2.0', id: 1, result: { content: [{ type: 'text', text: 'ok' }] } } }),
    );
    if (pending.length > 6000) await Promise.all(pending.splice(0));
  }
  // One long session: 10,000 records.
  const long = { session: 'bench-long', server: 'files', principal: 'local:bench', client: { name: 'long-client', version: '1.0' } };
  for (let k = 0; k < 10_000; k++) {
    const isRequest = k % 2 === 0;
    const id = Math.floor(k / 2);
    pending.push(
      log.append({
        ...long,
        ts: new Date(base + sessions * 60_000 + k * 10).toISOString(),
        kind: isRequest ? 'request' : 'response',
        direction: isRequest ? 'client->server' : 'server->client',
        method: 'tools/call',
        tool: 'read_file',
        id,
        payload: isRequest ? { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'read_file', arguments: { path: `/p/${id}` } } } : { jsonrpc: '2.0', id, result: { content: [{ type: 'text', text: `file ${id}` }] } },
      }),
    );
    if (pending.length > 6000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await log.close();
  const index = await SessionIndex.load(join(home, 'audit'));
  await index.persistNow();
}

export async function benchTimeline(): Promise<string> {
  const home = mkdtempSync(join(tmpdir(), 'gatehouse-bench-timeline-'));
  const sessions = 100_000;
  try {
    await generate(home, sessions);
    const serve = await startServe(['--port', '0', '--quiet'], { GATEHOUSE_HOME: home });
    const token = readFileSync(join(home, 'api-token'), 'utf8').trim();
    const t0 = performance.now();
    const res = await fetch(`${serve.url}/api/sessions?limit=5000`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await res.json()) as { total: number };
    const apiMs = performance.now() - t0;
    const browser = await launchChromium();
    try {
      const ctx = await browser.newContext();
      const p = await ctx.newPage();
      await p.goto(`${serve.url}/login`);
      await p.getByLabel('API token').fill(token);
      const t1 = performance.now();
      await p.getByRole('button', { name: 'Sign in' }).click();
      await p.getByRole('link', { name: /client-\d 1\.0 → / }).first().waitFor({ state: 'visible', timeout: 60_000 });
      const renderMs = performance.now() - t1;
      const t2 = performance.now();
      await p.goto(`${serve.url}/#/session/bench-long`);
      await p.getByText('Step 1 of 10000').waitFor({ state: 'visible', timeout: 60_000 });
      const openMs = performance.now() - t2;
      const t3 = performance.now();
      await p.keyboard.press('j');
      await p.getByText('Step 2 of 10000').waitFor({ state: 'visible' });
      const stepMs = performance.now() - t3;
      return [
        `timeline with ${sessions.toLocaleString('en')} sessions (${page.total.toLocaleString('en')} listed):`,
        `  /api/sessions first 5,000 (newest first): ${apiMs.toFixed(0)} ms`,
        `  sign-in to first row on screen in Chromium (app load, status, list, render): ${renderMs.toFixed(0)} ms`,
        `  opening a session of 10,000 records (page load included): ${openMs.toFixed(0)} ms; one step (j): ${stepMs.toFixed(0)} ms`,
      ].join('\n');
    } finally {
      await browser.close();
      serve.child.kill('SIGTERM');
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}
