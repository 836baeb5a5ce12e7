/*
 * Finding one call in a session: the call table (one row per call with its outcome and duration), search and
 * an outcome filter inside the session, next/previous denied, error and masked, and a link to a call that a
 * reload keeps. What would mislead: a denial shown as ok, an error hidden among thousands of rows, a link
 * that opens another call after a reload.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, signIn } from '../helpers/browser.js';
import { serveBlock } from '../helpers/serve-block.js';
import { everythingStdio } from '../helpers/servers.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

describe('the call table of a session, in Chromium', () => {
  const app = serveBlock({ servers: { everything: everythingStdio() }, policy: { rules: [{ name: 'no-env', match: { tool: 'get-env' }, action: 'deny', reason: 'the environment stays private' }] } });
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('shows one row per call with its outcome; finds, filters and jumps to a denial or an error; a link to a call survives a reload', async () => {
    const token = readFileSync(join(app.home.dir, 'token'), 'utf8').trim();
    const client = new Client({ name: 'table-client', version: '2' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    for (let i = 0; i < 30; i++) await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    await expect(client.callTool({ name: 'get-env', arguments: {} })).rejects.toThrow(/denied/);
    await expect(client.callTool({ name: 'no-such-tool', arguments: {} })).resolves.toMatchObject({ isError: true }).catch(async () => undefined);
    for (let i = 30; i < 40; i++) await client.callTool({ name: 'echo', arguments: { message: `hello ${i}` } });
    await client.callTool({ name: 'get-tiny-image', arguments: {} });
    const session = (client.transport as { sessionId?: string }).sessionId as string;

    const page = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage();
    await signIn(page, app.serve.url, readFileSync(join(app.home.dir, 'api-token'), 'utf8').trim());
    await page.getByRole('heading', { name: /Sessions/ }).waitFor({ state: 'visible' });
    // The part-match filters suggest what the log holds.
    await expect.poll(() => page.locator('#seen-tools option').evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value))).toEqual(expect.arrayContaining(['echo', 'get-env', 'get-tiny-image']));
    expect(await page.locator('#seen-clients option[value="table-client"]').count()).toBe(1);
    expect(await page.getByLabel('Tool').getAttribute('list')).toBe('seen-tools');
    await page.goto(`${app.serve.url}/#/session/${session}`);
    const table = page.getByRole('list', { name: 'Calls' });
    await table.getByRole('button').first().waitFor({ state: 'visible' });
    expect(await page.getByRole('button', { name: /^Calls \(\d+\)/ }).textContent()).toMatch(/Calls \((4[2-9])\)/);

    // The denial, one press away however far down it is.
    await page.getByRole('button', { name: 'Next denied call' }).click();
    await page.getByRole('heading', { name: /^Call \d+: get-env denied/ }).waitFor({ state: 'visible' });
    await page.getByRole('article', { name: 'Call decision' }).getByText('no-env').first().waitFor({ state: 'visible' });
    const link = new URL(page.url()).hash;
    expect(link).toMatch(new RegExp(`^#/session/${session}/call/\\d+$`));
    await page.screenshot({ path: join(SHOTS, 'call-table.png') });
    await page.reload();
    await page.getByRole('heading', { name: /^Call \d+: get-env denied/ }).waitFor({ state: 'visible' });
    expect(new URL(page.url()).hash).toBe(link);

    // The unknown tool: an error (the server's), found by the next-error button and by search.
    await page.getByRole('button', { name: 'Next error call' }).click();
    await page.getByRole('heading', { name: /^Call \d+: no-such-tool (error|tool error)/ }).waitFor({ state: 'visible' });
    await page.getByLabel('Find in calls').fill('no-such');
    await page.getByText(/^1 of \d+ calls$/).waitFor({ state: 'visible' });
    expect(await table.getByRole('button').count()).toBe(1);
    await page.getByLabel('Find in calls').fill('');
    await page.getByLabel('Outcome').selectOption('denied');
    await expect.poll(() => table.getByRole('button').count()).toBe(1);
    expect(await table.getByRole('button').first().textContent()).toContain('get-env');

    // An image a tool answered with is shown as the image.
    await page.getByLabel('Outcome').selectOption('all');
    await page.getByLabel('Find in calls').fill('get-tiny-image');
    await table.getByRole('button').first().click();
    const img = page.getByRole('article', { name: 'Call response' }).getByRole('img', { name: /^Image content \(image\/png/ });
    await img.waitFor({ state: 'visible' });
    expect(await img.evaluate((i) => (i as unknown as { naturalWidth: number }).naturalWidth)).toBeGreaterThan(0);
    await page.getByLabel('Find in calls').fill('');

    // At 800 px the table and the call open stack, each the page's width, not two squeezed columns.
    await page.setViewportSize({ width: 800, height: 600 });
    await page.getByLabel('Outcome').selectOption('all');
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(800);
    const [list, detail] = [await table.boundingBox(), await page.locator('.detail').boundingBox()];
    expect(list?.width).toBeGreaterThan(600);
    expect(detail?.width).toBeGreaterThan(600);
    await page.screenshot({ path: join(SHOTS, 'call-table-800.png'), fullPage: true });
    await client.close();
  });

  it('finds one call among 2,000 with two interactions: a search, then the session it names, opened at that call with the term marked', { timeout: 120_000 }, async () => {
    const token = readFileSync(join(app.home.dir, 'token'), 'utf8').trim();
    const client = new Client({ name: 'busy-client', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${app.serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    const needle = 'needle-q7Zx41';
    const at = 1377;
    for (let i = 1; i <= 2000; i++) await client.callTool({ name: 'echo', arguments: { message: i === at ? `the ${needle} is here` : `hay ${i}` } });
    await client.close();

    const page = await (await browser.newContext({ viewport: { width: 1440, height: 900 } })).newPage();
    await signIn(page, app.serve.url, readFileSync(join(app.home.dir, 'api-token'), 'utf8').trim());
    await page.getByRole('heading', { name: /Sessions/ }).waitFor({ state: 'visible' });
    // 1: the search.
    await page.getByLabel('Search').fill(needle);
    const row = page.locator('a.session-row', { hasText: 'busy-client' });
    await expect.poll(() => page.locator('a.session-row').count(), { timeout: 10_000 }).toBe(1);
    // 2: the one session it finds, which opens at the call.
    await row.click();
    const heading = page.getByRole('heading', { name: /^Call \d+: echo/ });
    await heading.waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.detail mark.hit', { hasText: needle }).first().waitFor({ state: 'visible' });
    const n = Number(/^Call (\d+)/.exec((await heading.textContent()) ?? '')?.[1]);
    // (The session's first calls are the SDK's own: its initialize is no call, tools/list may be.)
    expect(n).toBeGreaterThanOrEqual(at);
    expect(n).toBeLessThanOrEqual(at + 2);
    expect(await page.getByRole('article', { name: 'Call response' }).textContent()).toContain(needle);
    expect(new URL(page.url()).hash).toMatch(new RegExp(`/call/${n}\\?find=${needle}$`));
    await page.screenshot({ path: join(SHOTS, 'call-found.png') });
    // The link reopens that call after a reload, the term still marked.
    await page.reload();
    await page.getByRole('heading', { name: new RegExp(`^Call ${n}: echo`) }).waitFor({ state: 'visible', timeout: 15_000 });
    await page.locator('.detail mark.hit', { hasText: needle }).first().waitFor({ state: 'visible' });
  });
});
