import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium, signIn } from '../helpers/browser.js';
import { contrasts } from '../helpers/contrast.js';
import { startServe } from '../helpers/cli.js';
import { everythingStdio, filesystemStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

describe('the web UI of `gatehouse serve`, in Chromium', () => {
  const project = realpathSync(mkdtempSync(join(tmpdir(), 'gatehouse-ui-project-')));
  const home = tempHome({
    servers: { everything: everythingStdio(), files: filesystemStdio(project) },
    policy: { rules: [{ name: 'writes-need-approval', match: { tool: 'write_file' }, action: 'approve', reason: 'writes are reviewed' }] },
    masking: { detectors: ['secrets', 'email'] },
  });
  let serve: Awaited<ReturnType<typeof startServe>>;
  let browser: Browser;

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    serve?.child.kill('SIGTERM');
    home.remove();
    rmSync(project, { recursive: true, force: true });
  });

  it('without the link, shows the sign-in page; the one-time link signs in and shows servers and live sessions', async () => {
    const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme });
      const page = await context.newPage();
      await page.goto(serve.url);
      await page.getByLabel('API token').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, `sign-in-${scheme}.png`) });

      await page.goto(scheme === 'light' ? link : `${serve.url}/login`);
      if (scheme === 'dark') {
        // The link was used once already: the API token typed into the page signs in too (the MCP token does not).
        await page.getByLabel('API token').fill(readFileSync(join(home.dir, 'token'), 'utf8').trim());
        await page.getByRole('button', { name: 'Sign in' }).click();
        await page.getByText(/does not match this gateway/).waitFor({ state: 'visible' });
        await page.getByLabel('API token').fill(readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
        await page.getByRole('button', { name: 'Sign in' }).click();
      }
      await page.getByRole('heading', { name: 'Servers' }).waitFor({ state: 'visible' });
      await page.getByRole('cell', { name: 'everything', exact: true }).waitFor({ state: 'visible' });

      const client = new Client({ name: `ui-${scheme}-client`, version: '1.0' });
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      await page.getByRole('region', { name: 'Live sessions' }).getByText(`ui-${scheme}-client`).waitFor({ state: 'visible', timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, `status-${scheme}.png`), fullPage: true });
      expect(await page.content()).not.toContain(token); // neither token ever reaches the page
      expect(await page.content()).not.toContain(readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
      await client.close();
      await context.close();
    }
  });

  it('a call waiting for approval shows on the page, masked; Allow once lets the client\'s call complete', async () => {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const apiToken = readFileSync(join(home.dir, 'api-token'), 'utf8').trim();
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme });
      const page = await context.newPage();
      await page.goto(`${serve.url}/login`);
      await page.getByLabel('API token').fill(apiToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.goto(`${serve.url}/#/approvals`);
      await page.getByRole('heading', { name: /Waiting for approval/ }).waitFor({ state: 'visible' });

      const client = new Client({ name: `writer-${scheme}`, version: '1.0' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/files`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      const secret = 'ghp_UiTestSecretValue0123456789abcdefghij';
      const call = client.callTool({ name: 'write_file', arguments: { path: join(project, `${scheme}.txt`), content: `token ${secret}` } });
      const card = page.getByRole('listitem', { name: `files / write_file from writer-${scheme}` });
      await card.waitFor({ state: 'visible', timeout: 10_000 });
      expect(await card.textContent()).toMatch(/\[MASKED:github-token:[0-9a-f]{8}\]/);
      // The masked value is marked as such, the approver told that the server gets the real one, and what a grant covers said.
      expect(await card.getByLabel('masked value').first().textContent()).toMatch(/^\[MASKED:github-token:[0-9a-f]{8}\]$/);
      await card.getByText('the server receives the real values').waitFor({ state: 'visible' });
      expect(await card.locator('.grant-scope').textContent()).toMatch(/calls of write_file on files run without asking for 1 hour, with exactly these arguments/);
      await card.getByLabel('these arguments only').uncheck();
      expect(await card.locator('.grant-scope').textContent()).toMatch(/whatever their arguments/);
      expect(await page.content()).not.toContain(secret); // the page never shows what masking caught
      await page.screenshot({ path: join(SHOTS, `approvals-${scheme}.png`), fullPage: true });
      await card.getByRole('button', { name: 'Allow once' }).click();
      expect(JSON.stringify(await call)).toContain('Successfully wrote');
      expect(readFileSync(join(project, `${scheme}.txt`), 'utf8')).toContain(secret);
      await page.getByText(/allowed once by local:/).waitFor({ state: 'visible' });
      await client.close();
      await context.close();
    }
  });

  /** A signed-in page on the Approvals view, and an MCP client named `name` connected to the files server. */
  async function approvalsWith(name: string) {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, serve.url, readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
    await page.goto(`${serve.url}/#/approvals`);
    await page.getByRole('heading', { name: /Waiting for approval/ }).waitFor({ state: 'visible' });
    const client = new Client({ name, version: '1.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/files`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    return { context, page, client };
  }

  it('approves from the keyboard: Tab into the card, A allows once; a key typed in the reason decides nothing', async () => {
    const { context, page, client } = await approvalsWith('key-writer');
    const call = client.callTool({ name: 'write_file', arguments: { path: join(project, 'keys.txt'), content: 'typed' } });
    const card = page.getByRole('listitem', { name: 'files / write_file from key-writer' });
    await card.waitFor({ state: 'visible', timeout: 10_000 });
    // Typing in the reason field (an `a`, a `d`) is typing, not deciding.
    await card.getByLabel('Reason for denying').fill('');
    await card.getByLabel('Reason for denying').press('d');
    await card.getByLabel('Reason for denying').press('a');
    expect(await card.getByLabel('Reason for denying').inputValue()).toBe('da');
    await card.waitFor({ state: 'visible' });
    // From the page's top, Tab reaches the card (its arguments' toggle first); A allows the call once.
    await page.getByRole('heading', { name: /Waiting for approval/ }).focus();
    for (let i = 0; i < 10 && !(await page.evaluate('document.activeElement?.closest(".card") !== null')); i++) await page.keyboard.press('Tab');
    expect(await page.evaluate('document.activeElement?.closest(".card")?.getAttribute("aria-label")')).toBe('files / write_file from key-writer');
    await page.keyboard.press('a');
    expect(JSON.stringify(await call)).toContain('Successfully wrote');
    expect(readFileSync(join(project, 'keys.txt'), 'utf8')).toBe('typed');
    await card.waitFor({ state: 'detached' });
    await client.close();
    await context.close();
  });

  it('a long argument stays inside the card; a decision that fails says so and leaves the call waiting; after one, the focus moves on', async () => {
    const { context, page, client } = await approvalsWith('long-writer');
    const content = Array.from({ length: 60 }, (_, i) => `line ${i} ${'x'.repeat(2400)}`).join('\n');
    const call = client.callTool({ name: 'write_file', arguments: { path: join(project, 'long.txt'), content } }).then(() => 'completed', (err: unknown) => String(err));
    const card = page.getByRole('listitem', { name: 'files / write_file from long-writer' });
    await card.waitFor({ state: 'visible', timeout: 10_000 });
    expect(await page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(1280);
    await page.screenshot({ path: join(SHOTS, 'approvals-long-argument.png') });

    // The decision's request fails (the gateway gone, the sign-in expired): the page says so, the call still waits.
    await page.route('**/api/approvals/*', (route) => route.abort());
    await card.getByRole('button', { name: 'Deny' }).click();
    await page.getByRole('alert').filter({ hasText: 'The decision failed' }).waitFor({ state: 'visible' });
    await card.waitFor({ state: 'visible' });
    await page.unroute('**/api/approvals/*');
    await card.getByRole('button', { name: 'Deny' }).click();
    expect(await call).toMatch(/denied/);
    await card.waitFor({ state: 'detached' });
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('approvals-heading');
    await client.close();
    await context.close();
  });

  it('the timeline: a new session appears live; filter to it, step through its replay, see the masked value marked; policy and integrity views', async () => {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const apiToken = readFileSync(join(home.dir, 'api-token'), 'utf8').trim();
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme, viewport: { width: 1280, height: 900 } });
      const page = await context.newPage();
      await page.goto(`${serve.url}/login`);
      await page.getByLabel('API token').fill(apiToken);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('heading', { name: /Sessions/ }).waitFor({ state: 'visible' });

      // A new session, while the page is open: it appears without a reload.
      const name = `timeline-${scheme}`;
      const client = new Client({ name, version: '3.1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      await client.callTool({ name: 'echo', arguments: { message: `contact ops-${scheme}@example.com` } });
      const row = page.getByRole('link', { name: new RegExp(`${name} 3\\.1 → everything`) });
      await row.waitFor({ state: 'visible', timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, `timeline-${scheme}.png`), fullPage: true });

      // Filter by client, then open it.
      await page.getByLabel('Client').fill(name);
      await page.getByRole('link', { name: new RegExp(name) }).first().waitFor({ state: 'visible' });
      await expect.poll(() => page.getByRole('list', { name: 'Recorded sessions, newest first' }).getByRole('link').count(), { timeout: 5000 }).toBe(1);
      expect(new URL(page.url()).hash).toBe(`#/?client=${name}`);
      for (const mark of await contrasts(page, '.b, .badge')) expect(mark.ratio, `${scheme}: ${mark.text}`).toBeGreaterThanOrEqual(4.5);
      await page.getByRole('link', { name: new RegExp(name) }).first().click();
      await page.getByRole('heading', { name: new RegExp(`${name} 3\\.1 → everything`) }).waitFor({ state: 'visible' });
      // Back from the session: the filter is still there (it is in the address), and so after a reload.
      await page.goBack();
      await expect.poll(() => page.getByLabel('Client').inputValue()).toBe(name);
      await page.reload();
      await expect.poll(() => page.getByLabel('Client').inputValue()).toBe(name);
      await expect.poll(() => page.getByRole('list', { name: 'Recorded sessions, newest first' }).getByRole('link').count(), { timeout: 5000 }).toBe(1);
      await page.getByRole('link', { name: new RegExp(name) }).first().click();
      await page.getByRole('heading', { name: new RegExp(`${name} 3\\.1 → everything`) }).waitFor({ state: 'visible' });

      // Step through every record with the keyboard to the echo call; its argument is masked and marked as such.
      await page.getByRole('button', { name: /^All records/ }).click();
      const steps = page.getByRole('list', { name: 'Steps' });
      await steps.getByRole('button').first().waitFor({ state: 'visible' });
      const echoIndex = (await steps.getByRole('button').allTextContents()).findIndex((t) => t.includes('tools/call echo'));
      expect(echoIndex).toBeGreaterThan(0);
      for (let i = 0; i < echoIndex; i++) await page.keyboard.press('j');
      await page.getByText(`Step ${echoIndex + 1} of`).waitFor({ state: 'visible' });
      // One Tab stop for the whole list (its selected step), the detail right after it; no JSON read aloud at each step.
      expect(await steps.locator('button[tabindex="0"]').count()).toBe(1);
      await steps.locator('button[tabindex="0"]').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowUp');
      expect(await page.evaluate('document.activeElement?.getAttribute("aria-current")')).toBe('step');
      await page.keyboard.press('Tab');
      expect(await page.evaluate('Boolean(document.activeElement?.closest(".detail"))')).toBe(true);
      expect(await page.locator('[aria-live] .jt-string, [aria-live].detail').count()).toBe(0);
      const marked = page.getByLabel('masked value').first();
      await marked.waitFor({ state: 'visible' });
      expect(await marked.textContent()).toMatch(/^\[MASKED:email:[0-9a-f]{8}\]$/);
      expect(await page.content()).not.toContain(`ops-${scheme}@example.com`);
      await page.getByRole('article', { name: 'Response' }).waitFor({ state: 'visible' }); // request and response side by side
      // Every mark (decisions, masked, errors, counts) reads at 4.5:1 or more against the page, light and dark.
      for (const mark of await contrasts(page, '.b, .badge, mark.masked')) expect(mark.ratio, `${scheme}: ${mark.text}`).toBeGreaterThanOrEqual(4.5);
      await page.screenshot({ path: join(SHOTS, `replay-${scheme}.png`), fullPage: true });

      await page.getByRole('link', { name: 'Policy' }).click();
      await page.getByRole('cell', { name: 'writes-need-approval' }).waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, `policy-${scheme}.png`), fullPage: true });

      await page.getByRole('link', { name: 'Integrity' }).click();
      await page.getByRole('button', { name: 'Verify now' }).click();
      await page.getByText('intact').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, `integrity-${scheme}.png`), fullPage: true });
      await client.close();
      await context.close();
    }
  });

  // Pausing recording from the page (it was the tray's alone): said on every view while it lasts, and what passes
  // meanwhile is not in the log.
  it('pauses and resumes recording from the page, says so while paused, and records nothing of a call meanwhile', async () => {
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, serve.url, readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
    await page.getByRole('button', { name: 'Pause recording' }).click();
    const paused = page.getByRole('alert').filter({ hasText: 'Recording is paused' });
    await paused.waitFor({ state: 'visible' });
    const client = new Client({ name: 'while-paused', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    await client.callTool({ name: 'echo', arguments: { message: 'unrecorded-while-paused' } });
    await page.getByRole('link', { name: 'Policy' }).click();
    await paused.waitFor({ state: 'visible' });
    await paused.getByRole('button', { name: 'Resume recording' }).click();
    await paused.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Pause recording' }).waitFor({ state: 'visible' });
    await client.close();
    const stored = readdirSync(join(home.dir, 'audit')).filter((n) => n.endsWith('.jsonl')).map((n) => readFileSync(join(home.dir, 'audit', n), 'utf8')).join('');
    expect(stored).not.toContain('unrecorded-while-paused');
    expect(stored).toContain('"event":"recording-paused"');
    expect(stored).toContain('"event":"recording-resumed"');
    await context.close();
  });

  it('a link to a session the log does not hold says so, and one the API refuses says why; neither is an empty replay', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, serve.url, readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
    await page.getByRole('heading', { name: /Sessions/ }).waitFor({ state: 'visible' });
    await page.goto(`${serve.url}/#/session/6f1c2a9e-0000-4000-8000-000000000000`);
    await page.getByRole('heading', { name: 'No such session' }).waitFor({ state: 'visible' });
    expect(await page.getByText(/Step \d+ of/).count()).toBe(0);
    await page.screenshot({ path: join(SHOTS, 'session-not-found.png') });
    await page.goto(`${serve.url}/#/session/not%20a%20session%20id`);
    await page.getByRole('alert').filter({ hasText: 'could not be loaded' }).waitFor({ state: 'visible' });
    await page.getByRole('button', { name: 'Try again' }).waitFor({ state: 'visible' });
    await context.close();
  });
});
