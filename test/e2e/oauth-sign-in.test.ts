/**
 * A local client signs in to Gatehouse with MCP authorization (OAuth 2.1: protected-resource metadata,
 * authorization-server metadata, dynamic registration, authorization code with PKCE), the user answering in the
 * Gatehouse UI, instead of pasting the one gateway token into its config.
 *
 * Attacks, each a test below:
 * - A hostile local program registers and starts a sign-in, hoping nobody reads the consent page: it gets nothing
 *   when the user denies (access_denied at its redirect URI), and nothing by waiting.
 * - It registers a redirect URI off the machine, or asks for the answer at another URI than it registered (even
 *   another port of the same loopback host): refused before any consent is shown.
 * - It intercepts a code (another process on the loopback port) and redeems it without the PKCE verifier, with a
 *   wrong one, or redeems it a second time after the real client did: invalid_request / invalid_grant, and the
 *   replay revokes what the code was exchanged for.
 * - It uses an expired or revoked token, or a token issued for another server's endpoint: 401 invalid_token.
 * - It rides a session another client opened (its Mcp-Session-Id): not found for it.
 * - The same OS user reads oauth.json: only hashes of codes and tokens are there.
 * And the second attacker's round on this: a client name that dresses up the consent (bidi overrides, "verified"
 * wording), a revoked client's open session going on, a refusal filed under another client's session, the SDK's
 * relaxed redirect check answering for another port, the advertised /revoke not routed.
 * What is asserted is what happened: the records the gateway wrote, the file's bytes, the answers on the wire.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UnauthorizedError, type OAuthClientProvider } from '@modelcontextprotocol/sdk/client/auth.js';
import type { OAuthClientInformationMixed, OAuthClientMetadata, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium, signIn } from '../helpers/browser.js';
import { runGatehouse } from '../helpers/cli.js';
import { readAllRecords } from '../helpers/audit-log.js';
import { everythingStdio } from '../helpers/servers.js';
import { serveBlock } from '../helpers/serve-block.js';

/** The SDK's OAuth client side, kept in memory, as a client keeps it in its own store. */
class MemoryProvider implements OAuthClientProvider {
  info: OAuthClientInformationMixed | undefined;
  saved: OAuthTokens | undefined;
  verifier = '';
  authorizationUrl: URL | undefined;
  constructor(
    readonly redirectUrl: string,
    private readonly name: string,
  ) {}
  get clientMetadata(): OAuthClientMetadata {
    return { client_name: this.name, redirect_uris: [this.redirectUrl], grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'], token_endpoint_auth_method: 'none' };
  }
  clientInformation() {
    return this.info;
  }
  saveClientInformation(info: OAuthClientInformationMixed) {
    this.info = info;
  }
  tokens() {
    return this.saved;
  }
  saveTokens(tokens: OAuthTokens) {
    this.saved = tokens;
  }
  redirectToAuthorization(url: URL) {
    this.authorizationUrl = url;
  }
  saveCodeVerifier(v: string) {
    this.verifier = v;
  }
  codeVerifier() {
    return this.verifier;
  }
}

/** The client's loopback redirect listener: what came back to it. */
async function callbackServer(): Promise<{ url: string; next: () => Promise<URLSearchParams>; close: () => Promise<void> }> {
  let waiting: ((q: URLSearchParams) => void) | undefined;
  const got: URLSearchParams[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    res.writeHead(url.pathname === '/callback' ? 200 : 404, { 'content-type': 'text/plain' }).end('You can close this window.');
    // (The browser asks for /favicon.ico too.)
    if (url.pathname !== '/callback') return;
    const query = url.searchParams;
    if (waiting) waiting(query);
    else got.push(query);
    waiting = undefined;
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`,
    next: () => (got.length ? Promise.resolve(got.shift() as URLSearchParams) : new Promise((r) => (waiting = r))),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

describe('a local client signs in to Gatehouse with MCP authorization', () => {
  const block = serveBlock({ servers: { everything: everythingStdio() }, gateway: { port: 0 } });
  let browser: Browser;
  let page: Page;
  let callback: Awaited<ReturnType<typeof callbackServer>>;
  const endpoint = () => new URL(`${block.serve.url}/mcp/everything`);
  const apiToken = () => readFileSync(join(block.home.dir, 'api-token'), 'utf8').trim();
  const api = async (method: string, path: string) => (await fetch(`${block.serve.url}${path}`, { method, headers: { authorization: `Bearer ${apiToken()}` } })).json() as Promise<unknown>;

  beforeAll(async () => {
    mkdirSync(join(import.meta.dirname, '../../test-results/screenshots'), { recursive: true });
    callback = await callbackServer();
    browser = await launchChromium();
    page = await (await browser.newContext()).newPage();
    await signIn(page, block.serve.url, apiToken());
  });
  afterAll(async () => {
    await browser?.close();
    await callback?.close();
  });

  /** Connects as far as the consent: registers, and gets the authorization URL. */
  async function startSignIn(name: string): Promise<{ provider: MemoryProvider; transport: StreamableHTTPClientTransport }> {
    const provider = new MemoryProvider(callback.url, name);
    const transport = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider });
    await expect(new Client({ name, version: '1' }).connect(transport)).rejects.toThrow(UnauthorizedError);
    expect(provider.authorizationUrl?.href).toContain(`${block.serve.url}/authorize`);
    return { provider, transport };
  }

  /** Signs a client in (the user allows) and opens a session with its token. */
  async function signedInSession(name: string): Promise<{ provider: MemoryProvider; client: Client; sessionId: string }> {
    const { provider, transport } = await startSignIn(name);
    await transport.finishAuth((await answer(provider, 'Allow')).get('code') as string);
    const live = new StreamableHTTPClientTransport(endpoint(), { authProvider: provider });
    const client = new Client({ name, version: '1' });
    await client.connect(live);
    return { provider, client, sessionId: live.sessionId as string };
  }

  /** A request on a session with the gateway token: another credential than the one that opened it. */
  const rideWithGatewayToken = (sessionId: string) =>
    fetch(endpoint(), { method: 'POST', headers: { authorization: `Bearer ${readFileSync(join(block.home.dir, 'token'), 'utf8').trim()}`, 'mcp-session-id': sessionId, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/list' }) });

  /** The user's answer on the consent page; resolves with what the client's redirect URI received. */
  async function answer(provider: MemoryProvider, button: 'Allow' | 'Deny'): Promise<URLSearchParams> {
    const back = callback.next();
    await page.goto((provider.authorizationUrl as URL).href);
    await page.getByRole('heading', { name: /wants to reach your MCP servers through Gatehouse/ }).waitFor({ state: 'visible', timeout: 10_000 });
    if (button === 'Allow') await page.screenshot({ path: join(import.meta.dirname, '../../test-results/screenshots/oauth-consent.png'), fullPage: true });
    await page.getByRole('button', { name: button, exact: true }).click();
    const query = await back;
    // (The page's own arrival at the client finished, so that the next test's navigation is not cut by it.)
    await page.waitForURL((url) => url.pathname === '/callback');
    return query;
  }

  it('registers, the user allows in the UI, the client lists and calls tools; its records carry its registration; revoked, it gets 401', async () => {
    const { provider, transport } = await startSignIn('Claude Code (test)');
    expect(await page.title()).toBeDefined();
    const back = await answer(provider, 'Allow');
    const code = back.get('code') as string;
    expect(code).toMatch(/^[A-Za-z0-9_-]{40,}$/);
    await transport.finishAuth(code);
    expect(provider.saved?.access_token).toBeDefined();

    const client = new Client({ name: 'claude-code-test', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(endpoint(), { authProvider: provider }));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo');
    expect(await client.callTool({ name: 'echo', arguments: { message: 'signed in' } })).toMatchObject({ content: [{ text: 'Echo: signed in' }] });
    await client.close();

    const id = provider.info?.client_id as string;
    const records = readAllRecords(block.home.dir).filter((r) => r.kind === 'request' && r.tool === 'echo');
    expect(records.at(-1)?.client).toEqual({ name: 'claude-code-test', version: '1', registration: id });
    const listed = (await api('GET', '/api/oauth/clients')) as { id: string; name: string; lastUsedAt?: number }[];
    expect(listed.find((c) => c.id === id)).toMatchObject({ name: 'Claude Code (test)', lastUsedAt: expect.any(Number) });

    // Stored hashed: neither the code nor a token is in the file.
    const stored = readFileSync(join(block.home.dir, 'oauth.json'), 'utf8');
    for (const secret of [code, provider.saved?.access_token as string, provider.saved?.refresh_token as string]) expect(stored).not.toContain(secret);

    // Listed, as the user sees it: the CLI, then the Clients view, where it is revoked.
    const cli = await runGatehouse(['clients', 'registered'], { GATEHOUSE_HOME: block.home.dir });
    expect(cli.stdout).toMatch(new RegExp(`${id}\\s+Claude Code \\(test\\)\\s+\\S+Z\\s+\\S+Z\\s+active`));
    await page.goto(`${block.serve.url}/#/clients`);
    await page.getByRole('button', { name: 'Revoke Claude Code (test)' }).click();
    await page.getByRole('status').filter({ hasText: 'revoked' }).waitFor({ state: 'visible', timeout: 10_000 });
    await page.screenshot({ path: join(import.meta.dirname, '../../test-results/screenshots/oauth-clients-revoked.png'), fullPage: true });
    const refused = await fetch(endpoint(), { method: 'POST', headers: { authorization: `Bearer ${provider.saved?.access_token}`, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }) });
    expect(refused.status).toBe(401);
    expect(refused.headers.get('www-authenticate')).toMatch(/error="invalid_token".*resource_metadata="http:\/\/127\.0\.0\.1:\d+\/\.well-known\/oauth-protected-resource\/mcp\/everything"/);
  });

  it('a denied consent ends at the client as access_denied, with its state', async () => {
    const { provider } = await startSignIn('denied-client');
    const back = await answer(provider, 'Deny');
    expect(back.get('error')).toBe('access_denied');
    expect(back.get('code')).toBeNull();
    expect(back.get('state')).toBe(provider.authorizationUrl?.searchParams.get('state') ?? null);
  });

  it('answered elsewhere (the desktop dialog), the consent page in the browser follows the answer to the client', async () => {
    const { provider, transport } = await startSignIn('answered-elsewhere');
    const back = callback.next();
    await page.goto((provider.authorizationUrl as URL).href);
    await page.getByRole('heading', { name: /wants to reach your MCP servers through Gatehouse/ }).waitFor({ state: 'visible', timeout: 10_000 });
    const id = /#\/consent\/(.+)$/.exec(page.url())?.[1] as string;
    // What the desktop's dialog does with its answer.
    const answered = (await (await fetch(`${block.serve.url}/api/oauth/consents/${id}`, { method: 'POST', headers: { authorization: `Bearer ${apiToken()}`, 'content-type': 'application/json' }, body: '{"allow":true}' })).json()) as { ok: boolean };
    expect(answered.ok).toBe(true);
    const code = (await back).get('code') as string;
    await page.waitForURL((url) => url.pathname === '/callback');
    await transport.finishAuth(code);
    expect(provider.saved?.access_token).toBeDefined();
  });

  it('a redirect URI not registered exactly (another port, another path) is refused before any consent', async () => {
    const { provider } = await startSignIn('exact-redirect');
    for (const other of [callback.url.replace(/:(\d+)\//, (_m, p: string) => `:${Number(p) + 1}/`), `${callback.url}/x`]) {
      const url = new URL((provider.authorizationUrl as URL).href);
      url.searchParams.set('redirect_uri', other);
      const res = await fetch(url, { redirect: 'manual' });
      expect(res.status, other).toBe(400);
      expect(((await res.json()) as { error: string }).error, other).toBe('invalid_request');
    }
    // And off the machine, at registration.
    const registered = await fetch(`${block.serve.url}/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ client_name: 'remote', redirect_uris: ['https://evil.example/cb'] }) });
    expect(registered.status).toBe(400);
    expect(((await registered.json()) as { error: string }).error).toBe('invalid_client_metadata');
  });

  it('a code without its PKCE verifier, with a wrong one, or redeemed twice fails; the replay revokes its tokens', async () => {
    const { provider, transport } = await startSignIn('pkce-client');
    const code = (await answer(provider, 'Allow')).get('code') as string;
    const clientId = provider.info?.client_id as string;
    const token = (form: Record<string, string>) => fetch(`${block.serve.url}/token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'authorization_code', client_id: clientId, code, redirect_uri: callback.url, ...form }) });
    const missing = await token({});
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
    const wrong = await token({ code_verifier: 'x'.repeat(50) });
    expect(wrong.status).toBe(400);
    expect(((await wrong.json()) as { error: string }).error).toBe('invalid_grant');
    await transport.finishAuth(code);
    const replayed = await token({ code_verifier: provider.verifier });
    expect(replayed.status).toBe(400);
    expect(((await replayed.json()) as { error: string }).error).toBe('invalid_grant');
    // What the code was exchanged for no longer works.
    const after = await fetch(endpoint(), { method: 'GET', headers: { authorization: `Bearer ${provider.saved?.access_token}`, accept: 'text/event-stream' } });
    expect(after.status).toBe(401);
  });

  it('an unknown token, and a session opened by another credential, get nothing', async () => {
    const res = await fetch(endpoint(), { method: 'GET', headers: { authorization: 'Bearer not-a-token-we-issued', accept: 'text/event-stream' } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error="invalid_token"');
    // No token at all: where to sign in.
    const bare = await fetch(endpoint(), { method: 'GET', headers: { accept: 'text/event-stream' } });
    expect(bare.status).toBe(401);
    expect(bare.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="/);

    const { client: owner, sessionId } = await signedInSession('session-owner');
    expect((await rideWithGatewayToken(sessionId)).status).toBe(404);
    await owner.close();
  });

  it("a revoked client's open session ends; its refusals carry its registration and no other client's session", async () => {
    const { provider, client, sessionId } = await signedInSession('revoked-live');
    const id = provider.info?.client_id as string;
    const before = (await api('GET', '/api/sessions/live')) as { id: string }[];
    expect(before.some((s) => s.id === sessionId)).toBe(true);

    // Another client (the gateway token's holder) naming this session: refused, and not filed under it.
    await rideWithGatewayToken(sessionId);
    const refusals = readAllRecords(block.home.dir).filter((r) => r.event === 'http-refusal');
    expect(refusals.some((r) => r.session === sessionId)).toBe(false);

    expect(await api('DELETE', `/api/oauth/clients/${id}`)).toMatchObject({ ok: true });
    const after = (await api('GET', '/api/sessions/live')) as { id: string }[];
    expect(after.some((s) => s.id === sessionId)).toBe(false);
    await client.close().catch(() => undefined);
  });

  it("a name dressed up as Gatehouse's own words or hidden by bidi overrides is shown as the client's claim, plainly", async () => {
    const { provider } = await startSignIn('\u202eedoC edualC\u202c \u2714 Gatehouse verified this client. Recommended: Allow');
    await page.goto((provider.authorizationUrl as URL).href);
    const heading = page.getByRole('heading', { name: /wants to reach your MCP servers through Gatehouse/ });
    await heading.waitFor({ state: 'visible', timeout: 10_000 });
    const text = (await heading.textContent()) as string;
    expect(text).toMatch(/^A client calling itself “/);
    expect(text).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
    expect(await page.getByText("The name is the client's own; Gatehouse cannot vouch for it").count()).toBe(1);
    const back = callback.next();
    await page.getByRole('button', { name: 'Deny', exact: true }).click();
    expect((await back).get('error')).toBe('access_denied');
    await page.waitForURL((url) => url.pathname === '/callback');
  });

  it('the authorization server: another port at /authorize is refused with JSON, /revoke is routed, the root has no resource', async () => {
    const { provider } = await startSignIn('routes');
    const other = new URL((provider.authorizationUrl as URL).href);
    other.searchParams.set('redirect_uri', 'http://127.0.0.1:9/callback');
    other.searchParams.delete('code_challenge');
    const res = await fetch(other, { redirect: 'manual' });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toBe('invalid_request');
    const revoke = await fetch(`${block.serve.url}/revoke`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ client_id: provider.info?.client_id as string, token: 'not-a-token' }) });
    expect(revoke.status).toBe(200);
    expect((await fetch(`${block.serve.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
  });
});

