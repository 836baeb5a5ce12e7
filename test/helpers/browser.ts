import { chromium, type Browser, type Page } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** Debian's Chromium, headless, with no background traffic; Playwright gives each launch a fresh profile. */
export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

/**
 * A page signed in to the running app for each colour scheme: light through the sign-in link the app
 * printed, dark through the sign-in form with the API token, so that both ways in are used.
 */
export async function signedInPage(browser: Browser, scheme: 'light' | 'dark', app: { url: string; link: string; apiToken: string }): Promise<Page> {
  const context = await browser.newContext({ colorScheme: scheme });
  const page = await context.newPage();
  if (scheme === 'light') await page.goto(app.link);
  else {
    await page.goto(`${app.url}/login`);
    await page.getByLabel('API token').fill(app.apiToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }
  return page;
}

/** Signs `page` in to a gateway's web UI with its API token, through the sign-in page. */
export async function signIn(page: Page, url: string, apiToken: string): Promise<void> {
  await page.goto(`${url}/login`);
  await page.getByLabel('API token').fill(apiToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
}
