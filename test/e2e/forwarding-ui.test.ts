/**
 * A collector that refuses everything must not be a silent backlog. Attack: the organisation's collector answers
 * 503 to every request (down behind its load balancer) while calls go on; the user looks at the Integrity view.
 * It must say where records go, how many wait, and the collector's last answer, in light and dark.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, signedInPage } from '../helpers/browser.js';
import { startServe } from '../helpers/cli.js';
import { startReceiver } from '../helpers/otlp-receiver.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');

describe('forwarding, in the Integrity view', () => {
  const homes: { remove(): void }[] = [];
  afterAll(() => homes.forEach((h) => h.remove()));

  it('a collector answering 503: the view names the endpoint, the records waiting and the last error', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const receiver = await startReceiver({ answer: () => ({ status: 503 }) });
    const home = tempHome({ servers: { everything: everythingStdio() }, forwarding: { endpoint: receiver.endpoint, interval: '100ms' } });
    homes.push(home);
    const serve = await startServe(['--port', '0'], { GATEHOUSE_HOME: home.dir });
    const browser = await launchChromium();
    try {
      const client = new Client({ name: 'while-the-collector-is-down', version: '1' });
      const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      await client.callTool({ name: 'echo', arguments: { message: 'queued' } });
      await client.close();
      const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
      for (const scheme of ['light', 'dark'] as const) {
        const page = await signedInPage(browser, scheme, { url: serve.url, link, apiToken: readFileSync(join(home.dir, 'api-token'), 'utf8').trim() });
        await page.getByRole('link', { name: 'Integrity', exact: true }).click();
        const fact = page.locator('dd').filter({ hasText: receiver.endpoint });
        await fact.waitFor({ state: 'visible', timeout: 10_000 });
        // Reloaded until the collector's answer is in (the first attempt goes out within the interval).
        for (let i = 0; i < 40 && !/answered 503/.test((await fact.textContent()) ?? ''); i++) {
          await page.waitForTimeout(250);
          await page.reload();
          await page.getByRole('link', { name: 'Integrity', exact: true }).click();
          await fact.waitFor({ state: 'visible' });
        }
        const text = (await fact.textContent()) ?? '';
        expect(text).toMatch(/record\(s\) behind/);
        expect(text).toMatch(/last success never/);
        expect(text).toMatch(/answered 503/);
        await page.screenshot({ path: join(SHOTS, `forwarding-integrity-${scheme}.png`), fullPage: true });
        await page.context().close();
      }
    } finally {
      await browser.close();
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
      await receiver.close();
    }
  }, 60_000);
});
