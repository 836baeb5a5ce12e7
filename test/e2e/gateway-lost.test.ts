/*
 * The page and its gateway drifting apart, shown for what it is. Attacks on the user's trust in what the page
 * shows: the gateway stops (crashed, quit from the tray) and the page goes on showing "0 live" and stale rows as
 * if current; it restarts, forgets the page's sign-in, and the live stream dies silently while buttons seem to
 * work. Each must be said on the page, and the page must catch up by itself once the gateway answers again.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from '../helpers/browser.js';
import { startServe, stopServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');


describe('a gateway that stops or forgets the page, in the UI', () => {
  const home = tempHome({ servers: { everything: everythingStdio() } });
  afterAll(() => home.remove());

  it('says the gateway is not answering while it is down, and that the page must sign in again after it restarts', async () => {
    const env = { GATEHOUSE_HOME: home.dir };
    let serve = await startServe(['--port', '0'], env);
    const port = new URL(serve.url).port;
    const browser = await launchChromium();
    try {
      const page = await (await browser.newContext()).newPage();
      await signIn(page, serve.url, readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
      await page.getByRole('heading', { name: 'Servers' }).waitFor({ state: 'visible' });
      await page.getByText(/\d+ live/).waitFor({ state: 'visible' });

      await stopServe(serve);
      const lost = page.getByRole('alert').filter({ hasText: 'Gatehouse is not answering' });
      await lost.waitFor({ state: 'visible', timeout: 15_000 });
      expect(await page.getByText(/\d+ live/).count()).toBe(0);
      await page.getByText('not connected').waitFor({ state: 'visible' });
      await page.screenshot({ path: join(SHOTS, 'gateway-lost.png') });

      // Back on the same port: it answers, but it has forgotten the page's sign-in.
      serve = await startServe(['--port', port], env);
      const signedOut = page.getByRole('alert').filter({ hasText: 'This page is no longer signed in' });
      await signedOut.waitFor({ state: 'visible', timeout: 20_000 });
      await expect.poll(() => lost.count()).toBe(0);
      await page.screenshot({ path: join(SHOTS, 'gateway-signed-out.png') });
      await signedOut.getByRole('link', { name: 'Sign in again' }).click();
      await page.getByLabel('API token').fill(readFileSync(join(home.dir, 'api-token'), 'utf8').trim());
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText(/\d+ live/).waitFor({ state: 'visible' });
      expect(await page.getByRole('alert').count()).toBe(0);
    } finally {
      await browser.close();
      await stopServe(serve);
    }
  });
});
