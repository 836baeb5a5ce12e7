/**
 * The local authorization server's decisions over time and over the file: what a clock past a credential's life,
 * a replay, another client and the same OS user reading oauth.json can get. (The whole flow, through a real
 * gateway and Chromium, is test/e2e/oauth-sign-in.test.ts.)
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Response } from 'express';
import { afterEach, describe, expect, it } from 'vitest';
import { OAuthStore } from '../../../../main/gateway/oauth/oauth-store.js';
import { GatehouseOAuthProvider, LIFETIMES, loopbackRedirect } from '../../../../main/gateway/oauth/provider.js';

const RESOURCE = new URL('http://127.0.0.1:5757/mcp/files');
const dirs: { dir: string; store: OAuthStore }[] = [];
afterEach(async () => {
  // (A last write, queued behind any the provider left running — a last-used time — before the folder goes.)
  for (const { dir, store } of dirs.splice(0)) {
    await store.save(Date.now() + 10 ** 12);
    rmSync(dir, { recursive: true, force: true });
  }
});

async function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'gh-oauth-'));
  let now = 1_700_000_000_000;
  const store = await OAuthStore.open(dir);
  dirs.push({ dir, store });
  const provider = new GatehouseOAuthProvider(store, { baseUrl: () => 'http://127.0.0.1:5757', now: () => now, resource: (href) => href === RESOURCE.href });
  const client = await (provider.clientsStore.registerClient as NonNullable<typeof provider.clientsStore.registerClient>)({ client_name: 'test', redirect_uris: ['http://127.0.0.1:4000/cb'] } as never);
  const consentFor = async () => {
    let to = '';
    const res = { redirect: (_s: number, url: string) => (to = url), status: () => res, json: () => res } as unknown as Response;
    await provider.authorize(client, { codeChallenge: 'challenge', redirectUri: 'http://127.0.0.1:4000/cb', state: 's1', resource: RESOURCE }, res);
    return to.split('/#/consent/')[1] as string;
  };
  const codeFor = async () => new URL((await provider.decide(await consentFor(), true)) as string).searchParams.get('code') as string;
  return { dir, store, provider, client, consentFor, codeFor, advance: (ms: number) => (now += ms) };
}

describe('the local authorization server', () => {
  it('registers only loopback redirect URIs, and every client as a public one (no secret)', async () => {
    const { client } = await setup();
    expect(client.token_endpoint_auth_method).toBe('none');
    expect(client.client_secret).toBeUndefined();
    for (const uri of ['http://127.0.0.1:1/cb', 'http://localhost/cb', 'http://[::1]:8/x']) expect(loopbackRedirect(uri), uri).toBe(true);
    for (const uri of ['https://127.0.0.1/cb', 'http://evil.example/cb', 'http://127.0.0.1.evil.example/cb', 'http://u:p@127.0.0.1/cb', 'http://127.0.0.1/cb#x', 'javascript:alert(1)', 'not a url']) expect(loopbackRedirect(uri), uri).toBe(false);
  });

  it('an expired code and an expired access token are refused with the errors the specification names', async () => {
    const { provider, client, codeFor, advance } = await setup();
    const code = await codeFor();
    advance(LIFETIMES.code + 1);
    await expect(provider.challengeForAuthorizationCode(client, code)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    const fresh = await codeFor();
    const tokens = await provider.exchangeAuthorizationCode(client, fresh);
    expect((await provider.verifyAccessToken(tokens.access_token)).clientId).toBe(client.client_id);
    advance(LIFETIMES.access + 1);
    await expect(provider.verifyAccessToken(tokens.access_token)).rejects.toMatchObject({ errorCode: 'invalid_token', message: 'the access token has expired' });
    // The refresh token still works, once (rotated).
    const refreshed = await provider.exchangeRefreshToken(client, tokens.refresh_token as string);
    expect((await provider.verifyAccessToken(refreshed.access_token)).clientId).toBe(client.client_id);
    await expect(provider.exchangeRefreshToken(client, tokens.refresh_token as string)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
  });

  it('a consent not answered in ten minutes is gone; an answer to it gets nothing', async () => {
    const { provider, consentFor, advance } = await setup();
    const id = await consentFor();
    advance(10 * 60_000 + 1);
    expect(provider.consent(id)).toBeUndefined();
    expect(await provider.decide(id, true)).toBeUndefined();
  });

  it("another client's code and token are not this client's", async () => {
    const { provider, codeFor } = await setup();
    const other = await (provider.clientsStore.registerClient as NonNullable<typeof provider.clientsStore.registerClient>)({ client_name: 'other', redirect_uris: ['http://127.0.0.1:4001/cb'] } as never);
    await expect(provider.exchangeAuthorizationCode(other, await codeFor())).rejects.toMatchObject({ errorCode: 'invalid_grant' });
  });

  it('oauth.json holds hashes only, and is readable by its owner alone', async () => {
    const { dir, provider, client, codeFor } = await setup();
    const code = await codeFor();
    const tokens = await provider.exchangeAuthorizationCode(client, code);
    const text = readFileSync(join(dir, 'oauth.json'), 'utf8');
    for (const secret of [code, tokens.access_token, tokens.refresh_token as string]) expect(text).not.toContain(secret);
    expect(statSync(join(dir, 'oauth.json')).mode & 0o077).toBe(0);
  });

  it('an authorization that names no endpoint, or not one of this gateway\'s, is refused before any consent', async () => {
    const { provider, client } = await setup();
    for (const resource of [undefined, new URL('http://127.0.0.1:5757/mcp/other'), new URL('http://evil.example/mcp/files')]) {
      let status = 0;
      let body: unknown;
      const res = { redirect: () => undefined, status: (n: number) => ((status = n), res), json: (b: unknown) => ((body = b), res) } as unknown as Response;
      await provider.authorize(client, { codeChallenge: 'c', redirectUri: 'http://127.0.0.1:4000/cb', ...(resource ? { resource } : {}) }, res);
      expect(status, String(resource)).toBe(400);
      expect(body).toMatchObject({ error: 'invalid_request' });
    }
    expect(provider.consents()).toEqual([]);
  });

  it('a replayed code revokes every token it gave, refreshed ones too; a replay without the verifier revokes nothing', async () => {
    const { provider, client, codeFor } = await setup();
    const code = await codeFor();
    const first = await provider.exchangeAuthorizationCode(client, code);
    const refreshed = await provider.exchangeRefreshToken(client, first.refresh_token as string);
    // What the token handler does first, for a replay too: the challenge, so that a wrong verifier fails there.
    expect(await provider.challengeForAuthorizationCode(client, code)).toBe('challenge');
    expect((await provider.verifyAccessToken(refreshed.access_token)).clientId).toBe(client.client_id);
    await expect(provider.exchangeAuthorizationCode(client, code)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
    await expect(provider.verifyAccessToken(refreshed.access_token)).rejects.toMatchObject({ errorCode: 'invalid_token' });
    await expect(provider.exchangeRefreshToken(client, refreshed.refresh_token as string)).rejects.toMatchObject({ errorCode: 'invalid_grant' });
  });

  it('registrations are bounded: past 200 the oldest that never signed in go first', async () => {
    const { provider, store } = await setup();
    const register = provider.clientsStore.registerClient as NonNullable<typeof provider.clientsStore.registerClient>;
    for (let i = 0; i < 250; i++) await register({ client_name: `junk-${i}`, redirect_uris: ['http://127.0.0.1:4000/cb'] } as never);
    expect(store.clients().length).toBe(200);
    expect(store.clients().some((c) => c.info.client_name === 'junk-249')).toBe(true);
    expect(store.clients().some((c) => c.info.client_name === 'junk-0')).toBe(false);
  });
});

