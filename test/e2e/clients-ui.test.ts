/**
 * Wiring from the UI. A newcomer with MCP servers in their clients and none in Gatehouse should be told so, at
 * `serve` and on the empty timeline, and get there with one button. Attacks and mistakes: a web page on another
 * site posting to the wiring endpoint (refused: no session, or not JSON), a request naming a file instead of a
 * client (refused), a press that reports success without the client's file changing (the file is read), an
 * unwire that is not byte for byte (compared), a wired server that never shows up in Gatehouse.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { startServe } from '../helpers/cli.js';
import { everythingStdio } from '../helpers/servers.js';
import { put, tempHome } from '../helpers/temp-home.js';

const SHOTS = join(import.meta.dirname, '../../test-results/screenshots');
const root = mkdtempSync(join(tmpdir(), 'gatehouse-clients-ui-'));
const gh = tempHome({ gateway: { port: 0 } });
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  gh.remove();
});

describe('client wiring in the UI', () => {
  it('serve and the empty timeline name the clients found; one press wires them, the Clients view unwires them byte for byte', { timeout: 120_000 }, async () => {
    const everything = everythingStdio();
    const desktopFile = join(root, '.config', 'Claude', 'claude_desktop_config.json');
    const cursorFile = join(root, '.cursor', 'mcp.json');
    const desktop = `{\n  "mcpServers": {\n    "everything": ${JSON.stringify({ command: everything.command, args: everything.args })}\n  },\n  "theme": "dark"\n}\n`;
    const cursor = `{ "mcpServers": { "notes": { "command": ${JSON.stringify(everything.command)}, "args": ${JSON.stringify(everything.args)}, "env": { "NOTES_TOKEN": "Zq8vUiWireSecret" } } } }\n`;
    put(desktopFile, desktop);
    put(cursorFile, cursor);

    const serve = await startServe(['--port', '0'], { HOME: root, GATEHOUSE_HOME: gh.dir });
    const browser = await launchChromium();
    try {
      // The first run says what was found, and how.
      await expect.poll(() => serve.output(), { timeout: 10_000 }).toMatch(/Found MCP servers in Claude Desktop \(1 server\), Cursor \(1 server\)\. Route them through Gatehouse with `gatehouse clients wire --all`/);

      // Another site's page cannot wire: no session, and a form post is not JSON.
      const anon = await fetch(`${serve.url}/api/clients/wire`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"client":"all"}' });
      expect(anon.status).toBe(401);
      const apiToken = readFileSync(join(gh.dir, 'api-token'), 'utf8').trim();
      const form = await fetch(`${serve.url}/api/clients/wire`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'text/plain' }, body: '{"client":"all"}' });
      expect(form.status).toBe(415);
      const byFile = await fetch(`${serve.url}/api/clients/wire`, { method: 'POST', headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' }, body: JSON.stringify({ client: desktopFile }) });
      expect(byFile.status).toBe(400);
      expect(readFileSync(desktopFile, 'utf8')).toBe(desktop);

      const link = /sign-in link\): (\S+)/.exec(serve.output())?.[1] as string;
      const page = await (await browser.newContext()).newPage();
      await page.goto(link);
      await page.getByText('Found MCP servers in Claude Desktop (1 server), Cursor (1 server)').waitFor({ timeout: 10_000 });
      await page.getByRole('button', { name: 'Route them through Gatehouse' }).click();
      await page.getByRole('status').filter({ hasText: 'now start `gatehouse connect`' }).first().waitFor({ timeout: 10_000 });

      // What happened, read from the files: each entry starts the shim; the secret moved into gatehouse.yaml.
      const wiredDesktop = JSON.parse(readFileSync(desktopFile, 'utf8')) as { theme: string; mcpServers: { everything: { args: string[] } } };
      expect(wiredDesktop.theme).toBe('dark');
      expect(wiredDesktop.mcpServers.everything.args.slice(-2)).toEqual(['connect', 'everything']);
      expect(readFileSync(cursorFile, 'utf8')).not.toContain('Zq8vUiWireSecret');
      expect(readFileSync(join(gh.dir, 'gatehouse.yaml'), 'utf8')).toMatch(/everything:[\s\S]*notes:/);
      // The gateway took the new servers in: the Servers table lists them.
      await page.getByRole('region', { name: 'Servers' }).getByRole('cell', { name: 'notes', exact: true }).waitFor({ timeout: 15_000 });
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'clients-wired-timeline.png'), fullPage: true });

      await page.goto(`${serve.url}/#/clients`);
      const desktopCard = page.getByRole('article', { name: 'Claude Desktop (user)' });
      await desktopCard.getByRole('cell', { name: 'yes' }).waitFor({ timeout: 10_000 });
      await page.screenshot({ path: join(SHOTS, 'clients-view.png'), fullPage: true });
      await page.getByRole('button', { name: 'Unwire all' }).click();
      await page.getByRole('status').filter({ hasText: 'restored byte for byte' }).waitFor({ timeout: 10_000 });
      expect(readFileSync(desktopFile, 'utf8')).toBe(desktop);
      expect(readFileSync(cursorFile, 'utf8')).toBe(cursor);
    } finally {
      await browser.close();
      const exited = new Promise((r) => serve.child.once('exit', r));
      serve.child.kill('SIGTERM');
      await exited;
    }
  });
});
