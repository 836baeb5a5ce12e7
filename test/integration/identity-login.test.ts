/**
 * Sign-in through the system browser against a real OIDC provider (oidc-provider on 127.0.0.1, its dev login
 * and consent pages, driven by headless Chromium). Attacks and failures, each a test:
 *   - a forged answer on the loopback redirect (a local process guessing the port: wrong state) is refused;
 *   - the user declines at the provider; the browser window is closed (nobody comes back: a timeout);
 *   - the provider is not where identity.issuer says;
 * each gives a clear message and leaves no token behind. And: tokens are never printed, and the file that
 * holds them is 0600; logout leaves nothing.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../helpers/browser.js';
import { BIN, runGatehouse } from '../helpers/cli.js';
import { CLIENT_ID, startOidcProvider } from '../helpers/oidc-provider.js';
import { tempHome } from '../helpers/temp-home.js';
import { startSpy } from '../helpers/spy.js';
import { readAllRecords } from '../helpers/audit-log.js';
import { startGatehouse } from '../../main/api/core.js';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

interface Login {
  child: ChildProcessWithoutNullStreams;
  url: Promise<string>;
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function startLogin(home: string, env: Record<string, string> = {}): Login {
  const child = spawn(process.execPath, [BIN, 'login', '--no-open'], { env: { ...process.env, GATEHOUSE_HOME: home, ...env } });
  let stdout = '';
  let stderr = '';
  let found: (u: string) => void;
  const url = new Promise<string>((r) => (found = r));
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    const m = /^(http\S+)$/m.exec(stdout);
    if (m) found(m[1] as string);
  });
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return { child, url, done };
}

describe('gatehouse login / whoami / logout against a real OIDC provider', () => {
  let provider: Awaited<ReturnType<typeof startOidcProvider>>;
  let browser: Browser;
  beforeAll(async () => {
    provider = await startOidcProvider();
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await provider?.close();
  });
  const configured = () => tempHome({ identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'] } });

  async function signInAt(url: string, user: string, consent: 'allow' | 'deny' = 'allow'): Promise<string> {
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(url);
    if (consent === 'deny') {
      await page.getByRole('link', { name: /cancel/i }).click();
    } else {
      await page.locator('input[name=login]').fill(user);
      await page.locator('input[name=password]').fill('any');
      await page.locator('button[type=submit]').click();
      // The consent page, unless the provider remembers it was given (a second sign-in).
      const cont = page.getByRole('button', { name: /continue/i });
      const back = page.locator('h1', { hasText: /Signed in to Gatehouse|did not complete/ });
      await Promise.race([cont.waitFor({ state: 'visible', timeout: 10_000 }).then(() => cont.click()), back.waitFor({ state: 'visible', timeout: 10_000 })]);
    }
    await page.locator('h1', { hasText: /Signed in to Gatehouse|did not complete/ }).waitFor({ state: 'visible', timeout: 10_000 });
    const text = (await page.textContent('body')) ?? '';
    await context.close();
    return text;
  }

  it('signs in through the browser; whoami shows the user and groups; no token is printed; logout leaves nothing', async () => {
    const home = configured();
    try {
      const login = startLogin(home.dir);
      const page = await signInAt(await login.url, 'alice');
      expect(page).toMatch(/Signed in to Gatehouse.*alice@example\.com.*return to Gatehouse/s);
      const result = await login.done;
      expect(result.code).toBe(0);
      expect(result.stderr).toMatch(/signed in as alice@example\.com \(groups: platform-admins, developers\)/);
      const file = join(home.dir, 'identity.json');
      expect(statSync(file).mode & 0o777).toBe(0o600);
      const stored = JSON.parse(readFileSync(file, 'utf8')) as { accessToken: string; refreshToken?: string };
      expect(stored.refreshToken).toBeTruthy();
      expect(result.stdout + result.stderr).not.toContain(stored.accessToken);

      const who = await runGatehouse(['whoami', '--json'], { GATEHOUSE_HOME: home.dir });
      expect(JSON.parse(who.stdout)).toMatchObject({ signedIn: true, sub: 'alice', email: 'alice@example.com', name: 'Alice Admin', groups: ['platform-admins', 'developers'], issuer: provider.issuer });
      expect(who.stdout).not.toContain(stored.accessToken);

      const out = await runGatehouse(['logout', '--no-open'], { GATEHOUSE_HOME: home.dir });
      expect(out.code).toBe(0);
      expect(out.stdout).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/session\/end/m); // the provider's end-session endpoint
      expect(out.stdout).not.toMatch(/id_token_hint|eyJ/); // and no token in it
      expect(existsSync(file)).toBe(false);
      expect(JSON.parse((await runGatehouse(['whoami', '--json'], { GATEHOUSE_HOME: home.dir })).stdout)).toEqual({ signedIn: false });
    } finally {
      home.remove();
    }
  });

  it('a running gateway uses the new identity at once: records carry the signed-in user, and the OS user again after logout; identity.required refuses calls while nobody is signed in', async () => {
    const spy = startSpy();
    const home = tempHome({ identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'], required: true }, servers: { spy: spy.config }, gateway: { port: 0 } });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const client = new Client({ name: 'identity-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
      const call = async (n: number) => {
        await client.callTool({ name: 'run_command', arguments: { n } });
        await g.audit.log.flush();
        return readAllRecords(home.dir).filter((r) => r.kind === 'request' && (r.payload as { params?: { arguments?: { n?: number } } }).params?.arguments?.n === n).map((r) => r.principal);
      };
      // identity.required: nobody signed in, so the call is refused (and recorded, as the OS user's).
      expect(JSON.stringify(await client.callTool({ name: 'run_command', arguments: { n: 0 } }).catch((e: Error) => e.message))).toMatch(/nobody is signed in.*gatehouse login/);
      await g.audit.log.flush();
      expect(readAllRecords(home.dir).find((r) => r.kind === 'request' && r.tool === 'run_command')?.principal).toMatch(/^local:/);
      const login = startLogin(home.dir);
      await signInAt(await login.url, 'bob');
      expect((await login.done).code).toBe(0);
      await new Promise((r) => setTimeout(r, 600)); // the gateway looks at the sign-in at most twice a second
      expect(await call(2)).toEqual(['bob@example.com']);
      // With the groups the provider vouched for (what a collector reads as user.roles).
      const requestOf = (n: number) => readAllRecords(home.dir).find((r) => r.kind === 'request' && (r.payload as { params?: { arguments?: { n?: number } } }).params?.arguments?.n === n);
      expect(requestOf(2)?.groups).toEqual(['developers']);
      await g.audit.index.persistNow();
      const mine = JSON.parse((await runGatehouse(['sessions', '--json', '--principal', '*@example.com'], { GATEHOUSE_HOME: home.dir })).stdout) as { principal: string }[];
      expect(mine.map((x) => x.principal)).toEqual([]); // the session began before sign-in: it is the OS user's
      const theirs = JSON.parse((await runGatehouse(['sessions', '--json', '--principal', 'local:*'], { GATEHOUSE_HOME: home.dir })).stdout) as unknown[];
      expect(theirs).toHaveLength(1);
      expect((await runGatehouse(['logout', '--no-open'], { GATEHOUSE_HOME: home.dir })).code).toBe(0);
      await new Promise((r) => setTimeout(r, 600));
      expect(await call(3).catch((e: Error) => e.message)).toMatch(/nobody is signed in/);
      expect(readAllRecords(home.dir).filter((r) => r.kind === 'request' && (r.payload as { params?: { arguments?: { n?: number } } }).params?.arguments?.n === 3).map((r) => r.principal)[0]).toMatch(/^local:/);
      expect(requestOf(3)?.groups).toBeUndefined();
      await client.close();
    } finally {
      await g.stop();
      home.remove();
      spy.remove();
    }
  });

  it('policy by group, and approvals only by a member of `approvers`: a developer is refused where an admin is let through', async () => {
    const spy = startSpy();
    const home = tempHome({
      identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'] },
      // (Emails masked, as the first run's gatehouse.yaml has it: who approved is still the signed-in user, unmasked.)
      masking: { detectors: ['secrets', 'email', 'credit-card'] },
      servers: { spy: spy.config },
      gateway: { port: 0 },
      policy: {
        rules: [
          { name: 'admins-run-commands', match: { tool: 'run_command', groups: ['platform-admins'] }, action: 'allow' },
          { name: 'no-commands', match: { tool: 'run_command' }, action: 'deny', reason: 'commands are for platform admins' },
          { name: 'writes-need-an-admin', match: { tool: 'write_file' }, action: 'approve', approvers: ['platform-admins'] },
        ],
      },
    });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const signIn = async (user: string) => {
        await runGatehouse(['logout', '--no-open'], { GATEHOUSE_HOME: home.dir });
        const login = startLogin(home.dir);
        await signInAt(await login.url, user);
        expect((await login.done).code).toBe(0);
        await new Promise((r) => setTimeout(r, 600));
      };
      const client = new Client({ name: 'groups-test', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
      const run = () => client.callTool({ name: 'run_command', arguments: { command: 'deploy' } }).then((r) => JSON.stringify(r), (e: Error) => e.message);
      const pendingWrite = async () => {
        const write = client.callTool({ name: 'write_file', arguments: { path: '/x' } }).then((r) => JSON.stringify(r), (e: Error) => e.message);
        for (let i = 0; i < 100 && (await g.api.approvals()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
        return { write, id: ((await g.api.approvals())[0] as { id: string }).id };
      };

      await signIn('bob');
      expect(await run()).toMatch(/commands are for platform admins/);
      const first = await pendingWrite();
      const refused = await g.api.decideApproval(first.id, { action: 'allow' }, 'web');
      expect(refused).toMatchObject({ ok: false });
      expect(refused.message).toMatch(/only members of platform-admins may approve this call; bob@example\.com is in developers/);
      expect(await g.api.approvals()).toHaveLength(1); // still waiting: a refusal decides nothing
      expect((await g.api.decideApproval(first.id, { action: 'deny', reason: 'not mine to allow' }, 'web')).ok).toBe(true);
      expect(await first.write).toMatch(/not mine to allow/);

      await signIn('alice');
      expect(await run()).toContain('ran run_command');
      const second = await pendingWrite();
      expect((await g.api.decideApproval(second.id, { action: 'allow' }, 'web')).ok).toBe(true);
      expect(await second.write).toContain('ran write_file');
      await client.close();
      await g.audit.log.flush();
      const records = readAllRecords(home.dir);
      expect(records.find((r) => r.event === 'approval-refused')?.detail).toMatchObject({ by: 'bob@example.com', groups: ['developers'] });
      expect(records.filter((r) => r.kind === 'decision').map((r) => [r.principal, (r.decision as { rule?: string }).rule])).toEqual(
        expect.arrayContaining([
          ['bob@example.com', 'no-commands'],
          ['alice@example.com', 'admins-run-commands'],
        ]),
      );
    } finally {
      await g.stop();
      home.remove();
      spy.remove();
    }
  });

  it('step-up: a `reauth` call is allowed only after a fresh sign-in at the provider, whose auth_time is recorded', async () => {
    const spy = startSpy();
    const home = tempHome({
      identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'] },
      // (Emails masked, as the first run's gatehouse.yaml has it: who approved is still the signed-in user, unmasked.)
      masking: { detectors: ['secrets', 'email', 'credit-card'] },
      servers: { spy: spy.config },
      gateway: { port: 0 },
      policy: { rules: [{ name: 'production-writes', match: { tool: 'write_file' }, action: 'approve', reauth: true, reason: 'writes to production need a fresh sign-in' }] },
    });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const first = startLogin(home.dir);
      await signInAt(await first.url, 'alice');
      expect((await first.done).code).toBe(0);
      const client = new Client({ name: 'step-up', version: '1' });
      await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
      const write = client.callTool({ name: 'write_file', arguments: { path: '/prod' } }).then((r) => JSON.stringify(r), (e: Error) => e.message);
      for (let i = 0; i < 100 && (await g.api.approvals()).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      const [pending] = await g.api.approvals();
      expect(pending).toMatchObject({ reauth: true });
      // Signed in, but before the call was held: not fresh enough, from any port.
      const refused = await g.api.decideApproval((pending as { id: string }).id, { action: 'allow' }, 'tray');
      expect(refused.message).toMatch(/needs a fresh sign-in to allow this call: approve it with `gatehouse approve/);
      // `gatehouse approve` signs in again (the provider asks for the password again: prompt=login, max_age=0).
      const approve = spawn(process.execPath, [BIN, 'approve', (pending as { id: string }).id.slice(0, 8)], { env: { ...process.env, GATEHOUSE_HOME: home.dir } });
      let out = '';
      let err = '';
      approve.stderr.on('data', (d: Buffer) => (err += d.toString()));
      const closed = new Promise<number | null>((r) => approve.on('close', r));
      const url = await new Promise<string>((resolve, reject) => {
        approve.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = /^(http\S+)$/m.exec(out);
          if (m) resolve(m[1] as string);
        });
        void closed.then((code) => reject(new Error(`gatehouse approve exited ${code} before printing the address:\n${out}\n${err}`)));
      });
      expect(new URL(url).searchParams.get('prompt')).toBe('login');
      expect(new URL(url).searchParams.get('max_age')).toBe('0');
      await signInAt(url, 'alice');
      expect(await closed, err).toBe(0);
      expect(await write).toContain('ran write_file');
      await client.close();
      await g.audit.log.flush();
      const decision = readAllRecords(home.dir).find((r) => r.kind === 'decision')?.decision as { authTime?: string; approver?: string; outcome?: string };
      expect(decision).toMatchObject({ outcome: 'allow', approver: 'alice@example.com' });
      expect(Date.parse(decision.authTime as string)).toBeGreaterThanOrEqual((pending as { createdAt: number }).createdAt - 1000);
    } finally {
      await g.stop();
      home.remove();
      spy.remove();
    }
  });

  it('an access token about to expire is refreshed by the running gateway, and the user stays signed in', async () => {
    const shortLived = await startOidcProvider({ accessTokenTtl: 30 }); // under the minute before expiry at which Gatehouse refreshes
    const spy = startSpy();
    const home = tempHome({ identity: { issuer: shortLived.issuer, clientId: CLIENT_ID, scopes: ['groups'] }, servers: { spy: spy.config }, gateway: { port: 0 } });
    try {
      const login = startLogin(home.dir);
      await signInAt(await login.url, 'alice');
      expect((await login.done).code).toBe(0);
      const before = JSON.parse(readFileSync(join(home.dir, 'identity.json'), 'utf8')) as { accessToken: string; expiresAt: number };
      const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
      try {
        const client = new Client({ name: 'refresh', version: '1' });
        await client.connect(new StreamableHTTPClientTransport(new URL(`${g.url}/mcp/spy`), { requestInit: { headers: { authorization: `Bearer ${g.token}` } } }));
        await client.callTool({ name: 'run_command', arguments: {} }); // asks who is signed in: the token is near expiry, so a refresh starts
        let after = before;
        for (let i = 0; i < 100 && after.accessToken === before.accessToken; i++) {
          await new Promise((r) => setTimeout(r, 50));
          after = JSON.parse(readFileSync(join(home.dir, 'identity.json'), 'utf8')) as typeof before;
        }
        expect(after.accessToken).not.toBe(before.accessToken);
        // A new token that has not expired (its expiry is computed from the provider's whole seconds: a refresh in
        // the login's first second may end a moment before the first token would have).
        expect(after.expiresAt).toBeGreaterThan(Date.now());
        expect(after.expiresAt).toBeGreaterThan(before.expiresAt - 2_000);
        expect(statSync(join(home.dir, 'identity.json')).mode & 0o777).toBe(0o600);
        expect(JSON.parse((await runGatehouse(['whoami', '--json'], { GATEHOUSE_HOME: home.dir })).stdout)).toMatchObject({ signedIn: true, sub: 'alice' });
        await client.close();
      } finally {
        await g.stop();
      }
    } finally {
      home.remove();
      spy.remove();
      await shortLived.close();
    }
  });

  it('sign-in from the running gateway (the UI button, the tray): it gives the address to open, and waits for the browser to come back', async () => {
    const home = tempHome({ identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'] }, gateway: { port: 0 } });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const post = (path: string) => fetch(`${g.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${g.apiToken}`, 'content-type': 'application/json' }, body: '{}' }).then((r) => r.json() as Promise<{ ok: boolean; url?: string; endSessionUrl?: string }>);
      expect((await g.api.status()).identity).toMatchObject({ signedIn: false, configured: true });
      const started = await post('/api/identity/login');
      expect(started).toMatchObject({ ok: true });
      await signInAt(started.url as string, 'alice');
      for (let i = 0; i < 40 && !(await g.api.status()).identity.signedIn; i++) await new Promise((r) => setTimeout(r, 100));
      expect((await g.api.status()).identity).toMatchObject({ signedIn: true, principal: 'alice@example.com', groups: ['platform-admins', 'developers'] });
      const out = await post('/api/identity/logout');
      expect(out.endSessionUrl).toMatch(/\/session\/end/);
      expect(out.endSessionUrl).not.toMatch(/id_token_hint|eyJ/);
      await new Promise((r) => setTimeout(r, 600));
      expect((await g.api.status()).identity.signedIn).toBe(false);
    } finally {
      await g.stop();
      home.remove();
    }
  });

  it('who the gateway acts for comes from the ID token the provider signed: an edited identity.json (groups, email, a forged session) changes nothing', async () => {
    const home = configured();
    const g0 = { dir: home.dir };
    try {
      const login = startLogin(g0.dir);
      await signInAt(await login.url, 'bob');
      expect((await login.done).code).toBe(0);
      const file = join(home.dir, 'identity.json');
      const real = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...real, email: 'alice@example.com', groups: ['platform-admins'], authTime: Date.now() + 60_000 }), { mode: 0o600 });
      const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
      try {
        expect((await g.api.status()).identity).toMatchObject({ signedIn: true, principal: 'bob@example.com', groups: ['developers'] });
        expect(JSON.parse((await runGatehouse(['whoami', '--json'], { GATEHOUSE_HOME: home.dir })).stdout)).toMatchObject({ email: 'bob@example.com', groups: ['developers'] });
        // A session made up whole (no ID token the provider signed) signs nobody in.
        writeFileSync(file, JSON.stringify({ issuer: provider.issuer, sub: 'alice', email: 'alice@example.com', groups: ['platform-admins'], expiresAt: Date.now() + 3_600_000, accessToken: 'made-up', idToken: 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJhbGljZSJ9.' }), { mode: 0o600 });
        await new Promise((r) => setTimeout(r, 1000));
        expect((await g.api.status()).identity).toMatchObject({ signedIn: false });
      } finally {
        await g.stop();
      }
    } finally {
      home.remove();
    }
  });

  it('`auth: oidc`: an HTTP upstream gets the signed-in user\'s access token (never the client\'s); signed out, its session fails with a clear reason', async () => {
    const seen: (string | undefined)[] = [];
    const upstream = createHttpServer((req, res) => {
      seen.push(req.headers.authorization);
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const m = body ? (JSON.parse(body) as { id?: number; method?: string }) : {};
        if (m.id === undefined) return void res.writeHead(202).end();
        const result = m.method === 'initialize' ? { protocolVersion: '2025-11-25', capabilities: {}, serverInfo: { name: 'u', version: '1' } } : {};
        res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 'u1' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
    const url = `http://127.0.0.1:${(upstream.address() as { port: number }).port}/mcp`;
    const home = tempHome({ identity: { issuer: provider.issuer, clientId: CLIENT_ID, scopes: ['groups'] }, servers: { remote: { url, transport: 'streamable-http', auth: 'oidc' } }, gateway: { port: 0 } });
    const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
    try {
      const login = startLogin(home.dir);
      await signInAt(await login.url, 'alice');
      expect((await login.done).code).toBe(0);
      await new Promise((r) => setTimeout(r, 700));
      const userToken = (JSON.parse(readFileSync(join(home.dir, 'identity.json'), 'utf8')) as { accessToken: string }).accessToken;
      const init = (body: unknown) => fetch(`${g.url}/mcp/remote`, { method: 'POST', headers: { authorization: `Bearer ${g.token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify(body) });
      const first = await init({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
      expect(first.status).toBe(200);
      expect(seen.length).toBeGreaterThan(0);
      expect(seen.every((h) => h === `Bearer ${userToken}`)).toBe(true);
      expect(seen).not.toContain(`Bearer ${g.token}`);
      expect((await runGatehouse(['logout', '--no-open'], { GATEHOUSE_HOME: home.dir })).code).toBe(0);
      await new Promise((r) => setTimeout(r, 700));
      const refused = await init({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'c', version: '1' } } });
      expect(await refused.text()).toMatch(/nobody is signed in: run `gatehouse login`/);
    } finally {
      await g.stop();
      home.remove();
      await new Promise<void>((r) => upstream.close(() => r()));
    }
  });

  it('a declined consent, a forged redirect (wrong state), a closed window, a wrong clock and a wrong issuer: each a clear message, and no token stored', async () => {
    const home = configured();
    try {
      const declined = startLogin(home.dir);
      expect(await signInAt(await declined.url, 'bob', 'deny')).toMatch(/did not complete/);
      const d = await declined.done;
      expect(d.code).toBe(1);
      expect(d.stderr).toMatch(/sign-in failed: the sign-in was declined at the identity provider/);

      // A local process guessing the port and sending a made-up answer (or an error) is turned away, and the
      // real sign-in still completes.
      const forged = startLogin(home.dir);
      const forgedUrl = await forged.url;
      const redirect = new URL(new URL(forgedUrl).searchParams.get('redirect_uri') as string);
      for (const query of ['code=stolen&state=not-the-one', 'error=access_denied&state=guess']) expect((await fetch(`${redirect.href}?${query}&iss=${encodeURIComponent(provider.issuer)}`)).status).toBe(400);
      expect(await signInAt(forgedUrl, 'bob')).toMatch(/Signed in to Gatehouse/);
      expect((await forged.done).code).toBe(0);
      rmSync(join(home.dir, 'identity.json'), { force: true });

      // An address the provider has not verified is not who someone is.
      const claimed = startLogin(home.dir);
      await signInAt(await claimed.url, 'mallory');
      expect((await claimed.done).code).toBe(0);
      const g = await startGatehouse({ dataDir: home.dir, shell: 'headless' });
      try {
        expect((await g.api.status()).identity.principal).not.toBe('alice@example.com');
      } finally {
        await g.stop();
      }
      rmSync(join(home.dir, 'identity.json'), { force: true });

      const closed = startLogin(home.dir, { GATEHOUSE_LOGIN_TIMEOUT_MS: '800' });
      await closed.url;
      const c = await closed.done;
      expect(c.code).toBe(1);
      expect(c.stderr).toMatch(/no answer from the browser within 1 s/);
      expect(existsSync(join(home.dir, 'identity.json'))).toBe(false);
    } finally {
      home.remove();
    }
    // A machine whose clock is two hours ahead: the provider's tokens look expired; the message says to check the clock.
    const skewed = configured();
    try {
      const login = startLogin(skewed.dir, { NODE_OPTIONS: `--require ${join(import.meta.dirname, '../fixtures/clock-ahead.cjs')}` });
      await signInAt(await login.url, 'alice');
      const k = await login.done;
      expect(k.code).toBe(1);
      expect(k.stderr).toMatch(/not valid at this machine's time \(check the clock\)/);
      expect(existsSync(join(skewed.dir, 'identity.json'))).toBe(false);
    } finally {
      skewed.remove();
    }
    const wrong = tempHome({ identity: { issuer: 'http://127.0.0.1:9', clientId: CLIENT_ID } });
    try {
      const w = await runGatehouse(['login', '--no-open'], { GATEHOUSE_HOME: wrong.dir });
      expect(w.code).toBe(1);
      expect(w.stderr).toMatch(/cannot reach the identity provider at http:\/\/127\.0\.0\.1:9/);
      expect(existsSync(join(wrong.dir, 'identity.json'))).toBe(false);
    } finally {
      wrong.remove();
    }
  });
});
