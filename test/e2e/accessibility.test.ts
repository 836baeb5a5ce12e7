/*
 * Every view, in both themes, checked by axe-core (injected into the page) against a real gateway with real
 * traffic: a masked call, a denial, a call waiting for approval. What would shut a user out: text too faint to
 * read, controls without names, structure a screen reader cannot follow. No serious or critical violation may
 * stand. Screenshots of each view at 1440×900 and 800×600 are saved for looking at.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, signIn } from '../helpers/browser.js';
import { serveBlock } from '../helpers/serve-block.js';
import { everythingStdio } from '../helpers/servers.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

describe('accessibility of every view (axe-core), light and dark', () => {
  const app = serveBlock({
    servers: { everything: everythingStdio() },
    policy: { rules: [{ name: 'no-env', match: { tool: 'get-env' }, action: 'deny', reason: 'private' }, { name: 'sums-reviewed', match: { tool: 'get-sum' }, action: 'approve', reason: 'sums are reviewed' }] },
    approvals: { timeout: '2m' },
  });
  let browser: Browser;
  let client: Client;
  let session: string;
  let waiting: Promise<unknown>;
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    browser = await launchChromium();
    const token = readFileSync(join(app.home.dir, 'token'), 'utf8').trim();
    client = new Client({ name: 'a11y-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    await client.callTool({ name: 'echo', arguments: { message: 'contact ops@example.com' } });
    await client.callTool({ name: 'get-env', arguments: {} }).catch(() => undefined);
    waiting = client.callTool({ name: 'get-sum', arguments: { a: 1, b: 2 } }).catch(() => undefined);
    session = (client.transport as { sessionId?: string }).sessionId as string;
  });
  afterAll(async () => {
    await client?.close().catch(() => undefined);
    await waiting;
    await browser?.close();
  });

  it('has no serious or critical violation on any view', { timeout: 180_000 }, async () => {
    const views: [string, string, string][] = [
      ['timeline', '#/', 'Sessions'],
      ['calls', `#/session/${session}/call/1`, 'a11y-client'],
      ['approvals', '#/approvals', 'Waiting for approval'],
      ['policy', '#/policy', 'Policy'],
      ['integrity', '#/integrity', 'Integrity'],
      ['clients', '#/clients', '^Clients'],
    ];
    const found: string[] = [];
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1440, height: 900 }, bypassCSP: true });
      const page = await context.newPage();
      await signIn(page, app.serve.url, readFileSync(join(app.home.dir, 'api-token'), 'utf8').trim());
      await page.getByRole('heading', { name: /Sessions/ }).waitFor({ state: 'visible' });
      for (const [name, hash, heading] of views) {
        await page.goto(`${app.serve.url}/${hash}`);
        await page.getByRole('heading', { name: new RegExp(heading) }).first().waitFor({ state: 'visible', timeout: 10_000 });
        await page.waitForTimeout(300);
        await page.addScriptTag({ path: AXE });
        const result = (await page.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string; help: string; nodes: { target: string[] }[] }[] };
        for (const v of result.violations) if (v.impact === 'serious' || v.impact === 'critical') found.push(`${scheme} ${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')}`);
        await page.screenshot({ path: join(SHOTS, `view-${name}-${scheme}-1440.png`), fullPage: true });
        await page.setViewportSize({ width: 800, height: 600 });
        await page.screenshot({ path: join(SHOTS, `view-${name}-${scheme}-800.png`), fullPage: true });
        await page.setViewportSize({ width: 1440, height: 900 });
      }
      await context.close();
    }
    expect(found).toEqual([]);
  });
});
