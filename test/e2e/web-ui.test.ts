import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.js';
import { startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

describe('the web UI of `gatehouse serve`, in Chromium', () => {
  const home = tempHome({ servers: { everything: everythingStdio() } });
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
  });

  it('without the link, shows the sign-in page; the one-time link signs in and shows servers and live sessions', async () => {
    const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
    for (const scheme of ['light', 'dark'] as const) {
      const context = await browser.newContext({ colorScheme: scheme });
      const page = await context.newPage();
      await page.goto(serve.url);
      await page.getByLabel('Gateway token').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, `sign-in-${scheme}.png`) });

      await page.goto(scheme === 'light' ? link : `${serve.url}/login`);
      if (scheme === 'dark') {
        // The link was used once already: the token typed into the page signs in too.
        await page.getByLabel('Gateway token').fill(readFileSync(join(home.dir, 'token'), 'utf8').trim());
        await page.getByRole('button', { name: 'Sign in' }).click();
      }
      await page.getByRole('heading', { name: 'Servers' }).waitFor({ state: 'visible' });
      await page.getByRole('cell', { name: 'everything', exact: true }).waitFor({ state: 'visible' });

      const client = new Client({ name: `ui-${scheme}-client`, version: '1.0' });
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      await page.getByText(`ui-${scheme}-client`).waitFor({ state: 'visible', timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, `status-${scheme}.png`), fullPage: true });
      expect(await page.content()).not.toContain(token); // the gateway token never reaches the page
      await client.close();
      await context.close();
    }
  });
});
