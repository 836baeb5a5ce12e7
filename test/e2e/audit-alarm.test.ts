/**
 * A break in the audit log must not be missable in the UI. Attack: the same OS user cuts records off the log's
 * tail while the gateway is stopped, then starts it again (as the desktop app would at login) and hopes nobody
 * runs `verify`. The gateway records a break at start; the page must say so on every view, in light and dark,
 * until the log is set aside, and the Integrity view must list the break and say how to carry on.
 * And an edit in the middle of the log (a record's payload changed in place, its hash left as it was): after a
 * check, the alarm must lead to the edited record itself, opened in its session, not only to the Integrity view.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium, signedInPage } from '../helpers/browser.js';
import { startServe, stopServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');


describe('a break in the audit log, in the UI', () => {
  const home = tempHome({ servers: { everything: everythingStdio() } });
  afterAll(() => home.remove());

  it('after a cut tail and a restart, every view shows the alarm; Integrity lists the break and how to carry on', async () => {
    mkdirSync(SHOTS, { recursive: true });
    const env = { GATEHOUSE_HOME: home.dir };
    let serve = await startServe(['--port', '0'], env);
    const client = new Client({ name: 'before-the-cut', version: '1' });
    const token = readFileSync(join(home.dir, 'token'), 'utf8').trim();
    await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo', arguments: { message: `m${i}` } });
    await client.close();
    await stopServe(serve);

    const audit = join(home.dir, 'audit');
    const segment = join(audit, readdirSync(audit).filter((n) => n.endsWith('.jsonl')).sort().pop() as string);
    const lines = readFileSync(segment, 'utf8').split('\n').filter(Boolean);
    writeFileSync(segment, lines.slice(0, -4).map((l) => l + '\n').join(''));

    serve = await startServe(['--port', '0'], env);
    const browser = await launchChromium();
    try {
      const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
      for (const scheme of ['light', 'dark'] as const) {
        const page = await signedInPage(browser, scheme, { url: serve.url, link, apiToken: readFileSync(join(home.dir, 'api-token'), 'utf8').trim() });
        const alarm = page.getByRole('alert').filter({ hasText: 'The audit log is not intact' });
        await alarm.waitFor({ state: 'visible', timeout: 10_000 });
        expect(await alarm.textContent()).toMatch(/the head mark vouches for record \d+: records \d+–\d+ were removed/);
        await page.screenshot({ path: join(SHOTS, `alarm-${scheme}.png`), fullPage: true });
        for (const view of ['Approvals', 'Policy']) {
          await page.getByRole('link', { name: view, exact: true }).click();
          await alarm.waitFor({ state: 'visible' });
        }
        await alarm.getByRole('link', { name: /how to carry on/ }).click();
        await page.getByRole('heading', { name: 'Recorded breaks' }).waitFor({ state: 'visible' });
        expect(await page.getByRole('cell', { name: 'tail-cut' }).count()).toBe(1);
        await page.getByText(/move .*audit aside/).waitFor({ state: 'visible' });
        await page.screenshot({ path: join(SHOTS, `alarm-integrity-${scheme}.png`), fullPage: true });
        await page.context().close();
      }
    } finally {
      await browser.close();
      await stopServe(serve);
    }
  });

  it('after an edit in place and a check, the alarm opens the edited record in its session', async () => {
    const env = { GATEHOUSE_HOME: home.dir };
    // (A log of its own: the one above holds a recorded break.)
    const other = tempHome({ servers: { everything: everythingStdio() } });
    const envOther = { ...env, GATEHOUSE_HOME: other.dir };
    let serve = await startServe(['--port', '0'], envOther);
    const browser = await launchChromium();
    try {
      const client = new Client({ name: 'edited-later', version: '1' });
      const token = readFileSync(join(other.dir, 'token'), 'utf8').trim();
      await client.connect(new StreamableHTTPClientTransport(new URL(`${serve.url}/mcp/everything`), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
      for (let i = 0; i < 3; i++) await client.callTool({ name: 'echo', arguments: { message: `message-${i}` } });
      await client.close();
      await stopServe(serve);

      const audit = join(other.dir, 'audit');
      const segment = join(audit, readdirSync(audit).filter((n) => n.endsWith('.jsonl')).sort().pop() as string);
      const lines = readFileSync(segment, 'utf8').split('\n');
      const at = lines.findIndex((l) => l.includes('"message-1"') && l.includes('"tools/call"'));
      const seq = (JSON.parse(lines[at] as string) as { seq: number }).seq;
      lines[at] = (lines[at] as string).replace('"message-1"', '"message-X"');
      writeFileSync(segment, lines.join('\n'));

      serve = await startServe(['--port', '0'], envOther);
      const apiToken = readFileSync(join(other.dir, 'api-token'), 'utf8').trim();
      const verified = (await (await fetch(`${serve.url}/api/verify`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }, body: '{}' })).json()) as { ok: boolean; problem?: { seq?: number; reason: string; session?: string } };
      expect(verified).toMatchObject({ ok: false, problem: { seq, reason: 'hash-mismatch' } });
      expect(verified.problem?.session).toMatch(/./);

      const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
      const page = await signedInPage(browser, 'light', { url: serve.url, link, apiToken });
      const alarm = page.getByRole('alert').filter({ hasText: 'The audit log is not intact' });
      await alarm.waitFor({ state: 'visible', timeout: 10_000 });
      await alarm.getByRole('link', { name: `Open record #${seq}` }).click();
      // The call that holds it is open, its request (the edited record) shown with its number.
      await page.getByRole('heading', { name: /^Call \d+: echo/ }).waitFor({ state: 'visible', timeout: 10_000 });
      const request = page.getByRole('article', { name: 'Call request' });
      expect(await request.getByRole('heading').textContent()).toContain(`#${seq}`);
      expect(await request.getByText('the record the link names').count()).toBe(1);
      expect(await page.getByText('the record the link names').count()).toBe(1);
      expect(page.url()).toContain(`/record/${seq}`);
      await page.screenshot({ path: join(SHOTS, 'alarm-edited-record.png'), fullPage: true });
      await page.context().close();
    } finally {
      await browser.close();
      await stopServe(serve);
      other.remove();
    }
  });
});
