import { randomUUID } from 'node:crypto';
import type { Response } from 'express';
import type { AuthorizationParams, OAuthServerProvider } from '@modelcontextprotocol/sdk/server/auth/provider.js';
import type { OAuthRegisteredClientsStore } from '@modelcontextprotocol/sdk/server/auth/clients.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { InvalidClientMetadataError, InvalidGrantError, InvalidRequestError, InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import type { OAuthClientInformationFull, OAuthTokenRevocationRequest, OAuthTokens } from '@modelcontextprotocol/sdk/shared/auth.js';
import { credentialHash, newCredential, type IssuedCredential, type OAuthStore } from './oauth-store.js';

/**
 * How long each credential lives: codes a minute (RFC 6749 §4.1.2: short), access tokens an hour, refresh tokens 30
 * days; a used code is remembered as long as a refresh token (a replay of it, however late, revokes what it gave).
 */
export const LIFETIMES = { code: 60_000, access: 3_600_000, refresh: 30 * 86_400_000 } as const;
/** How long a consent waits for the user before the client must start again. */
const CONSENT_WAIT = 10 * 60_000;

/** A client's request for the user's consent, waiting in the UI. */
export interface PendingConsent {
  id: string;
  clientId: string;
  clientName: string;
  redirectUri: string;
  params: AuthorizationParams;
  createdAt: number;
}

/** A redirect URI a local client may register: http on a loopback address (RFC 8252 §7.3), no fragment. */
export function loopbackRedirect(uri: string): boolean {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    return false;
  }
  return url.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname) && url.hash === '' && url.username === '' && url.password === '';
}

/**
 * Gatehouse's local authorization server, behind the MCP SDK's OAuth handlers (metadata, registration, authorize,
 * token, revoke; PKCE is checked by the SDK's token handler). Every client is public (a local program keeps no
 * secret, RFC 8252 §8.5), registers loopback redirect URIs only, and must name one exactly; `authorize` sends the
 * browser to the consent page in the Gatehouse UI, where the user allows or denies.
 */
export class GatehouseOAuthProvider implements OAuthServerProvider {
  private readonly pending = new Map<string, PendingConsent>();
  /** Answers given, kept as long as a consent may wait: the consent page follows one given elsewhere (the desktop's dialog). */
  private readonly answered = new Map<string, { consent: PendingConsent; redirect: string }>();
  /** Who hears of each consent that starts waiting (the desktop shows a native dialog), and of each answer. */
  private readonly listeners = { consent: new Set<(c: PendingConsent) => void>(), answer: new Set<(c: PendingConsent) => void>() };

  on(event: 'consent' | 'answer', listener: (consent: PendingConsent) => void): () => void {
    this.listeners[event].add(listener);
    return () => this.listeners[event].delete(listener);
  }

  constructor(
    private readonly store: OAuthStore,
    private readonly options: { baseUrl: () => string; now?: () => number; /** Whether a `resource` is one of this gateway's endpoints. */ resource?: (href: string) => boolean },
  ) {}

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  get clientsStore(): OAuthRegisteredClientsStore {
    return {
      getClient: (id) => {
        const c = this.store.client(id);
        return c && c.revokedAt === undefined ? c.info : undefined;
      },
      registerClient: async (client) => {
        const uris = client.redirect_uris ?? [];
        const bad = uris.find((u) => !loopbackRedirect(u));
        if (uris.length === 0 || bad !== undefined) throw new InvalidClientMetadataError(`redirect_uris must be http://127.0.0.1, http://localhost or http://[::1] addresses (a client on this machine)${bad ? `; not ${bad}` : ''}`);
        // A public client: whatever it asked for, no secret (the SDK's token handler then authenticates it by PKCE alone).
        const info: OAuthClientInformationFull = { ...client, client_id: (client as Partial<OAuthClientInformationFull>).client_id ?? randomUUID(), token_endpoint_auth_method: 'none', grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] };
        delete info.client_secret;
        delete info.client_secret_expires_at;
        if (!(await this.store.register(info, this.now()))) throw new InvalidClientMetadataError('too many clients are registered with Gatehouse and none is unused; revoke some (`gatehouse clients registered`, then `gatehouse clients revoke ID`)');
        return info;
      },
    };
  }

  async authorize(client: OAuthClientInformationFull, params: AuthorizationParams, res: Response): Promise<void> {
    // Exact matching (the SDK's handler lets a loopback URI's port differ, as RFC 8252 allows; a local gateway need not).
    if (!client.redirect_uris.includes(params.redirectUri)) {
      res.status(400).json(new InvalidRequestError('redirect_uri is not one this client registered (it must match exactly)').toResponseObject());
      return;
    }
    // RFC 8707, as the MCP specification requires: the endpoint the token is for. Without it a token would open every server.
    if (!params.resource || !(this.options.resource?.(params.resource.href) ?? true)) {
      res.status(400).json(new InvalidRequestError(`resource must name one of this gateway's endpoints (${this.options.baseUrl()}/mcp/NAME)`).toResponseObject());
      return;
    }
    this.expireConsents();
    const id = newCredential();
    this.pending.set(id, { id, clientId: client.client_id, clientName: client.client_name ?? client.client_id, redirectUri: params.redirectUri, params, createdAt: this.now() });
    for (const l of this.listeners.consent) l(this.pending.get(id) as PendingConsent);
    res.redirect(302, `${this.options.baseUrl()}/#/consent/${id}`);
  }

  consents(): PendingConsent[] {
    this.expireConsents();
    return [...this.pending.values()];
  }

  consent(id: string): PendingConsent | undefined {
    this.expireConsents();
    return this.pending.get(id);
  }

  /** Where the browser goes for a consent answered already (with its code, or access_denied). */
  answer(id: string): { consent: PendingConsent; redirect: string } | undefined {
    this.expireConsents();
    return this.answered.get(id);
  }

  /** The user's answer: where the browser goes next (the client's redirect URI, with a code, or with `access_denied`). */
  async decide(id: string, allow: boolean): Promise<string | undefined> {
    const consent = this.consent(id);
    if (!consent) return undefined;
    this.pending.delete(id);
    const redirect = await this.redirectFor(consent, allow);
    this.answered.set(id, { consent, redirect });
    for (const l of this.listeners.answer) l(consent);
    return redirect;
  }

  private async redirectFor(consent: PendingConsent, allow: boolean): Promise<string> {
    const target = new URL(consent.redirectUri);
    if (consent.params.state !== undefined) target.searchParams.set('state', consent.params.state);
    if (!allow) {
      target.searchParams.set('error', 'access_denied');
      target.searchParams.set('error_description', 'the user denied access in Gatehouse');
      return target.href;
    }
    const code = newCredential();
    await this.store.add([{ hash: credentialHash(code), kind: 'code', clientId: consent.clientId, expiresAt: this.now() + LIFETIMES.code, challenge: consent.params.codeChallenge, redirectUri: consent.redirectUri, ...(consent.params.resource ? { resource: consent.params.resource.href } : {}) }], this.now());
    target.searchParams.set('code', code);
    return target.href;
  }

  /** The code's PKCE challenge; a used code's too, so that only its verifier's holder can replay it (and so revoke what it gave). */
  async challengeForAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string): Promise<string> {
    return this.codeOf(client, authorizationCode).challenge as string;
  }

  async exchangeAuthorizationCode(client: OAuthClientInformationFull, authorizationCode: string, _codeVerifier?: string, redirectUri?: string, resource?: URL): Promise<OAuthTokens> {
    const code = this.codeOf(client, authorizationCode);
    if (code.usedAt !== undefined) {
      // A replay (RFC 6749 §4.1.2): every token the code gave, refreshed or not, is revoked.
      await this.store.removeFamily(code.hash, this.now());
      throw new InvalidGrantError('the authorization code was already used; the tokens it was exchanged for are revoked');
    }
    if (redirectUri !== undefined && redirectUri !== code.redirectUri) throw new InvalidGrantError('redirect_uri differs from the one the code was issued for');
    if (resource !== undefined && code.resource !== undefined && resource.href !== code.resource) throw new InvalidGrantError('resource differs from the one the code was issued for');
    const { tokens, issued } = this.tokensFor(client.client_id, code.resource, code.hash);
    code.usedAt = this.now();
    code.expiresAt = this.now() + LIFETIMES.refresh;
    await this.store.add(issued, this.now());
    return tokens;
  }

  async exchangeRefreshToken(client: OAuthClientInformationFull, refreshToken: string, _scopes?: string[], resource?: URL): Promise<OAuthTokens> {
    const found = this.store.find(refreshToken, 'refresh');
    if (!found || found.clientId !== client.client_id || found.expiresAt <= this.now()) throw new InvalidGrantError('the refresh token is not valid (expired, revoked, or issued to another client)');
    if (resource !== undefined && found.resource !== undefined && resource.href !== found.resource) throw new InvalidGrantError('resource differs from the one the token was issued for');
    // Rotated (OAuth 2.1 §4.3.1 for public clients): the old one is spent.
    await this.store.remove([found.hash], this.now());
    const { tokens, issued } = this.tokensFor(client.client_id, found.resource, found.family);
    await this.store.add(issued, this.now());
    return tokens;
  }

  async verifyAccessToken(token: string): Promise<AuthInfo> {
    const found = this.store.find(token, 'access');
    if (!found) throw new InvalidTokenError('the access token is not valid (unknown or revoked)');
    if (found.expiresAt <= this.now()) throw new InvalidTokenError('the access token has expired');
    const client = this.store.client(found.clientId);
    if (!client || client.revokedAt !== undefined) throw new InvalidTokenError('the client this token was issued to was revoked');
    void this.store.touch(found.clientId, this.now()).catch(() => undefined);
    return { token, clientId: found.clientId, scopes: [], expiresAt: Math.floor(found.expiresAt / 1000), ...(found.resource ? { resource: new URL(found.resource) } : {}) };
  }

  async revokeToken(client: OAuthClientInformationFull, request: OAuthTokenRevocationRequest): Promise<void> {
    const found = this.store.find(request.token, 'access') ?? this.store.find(request.token, 'refresh');
    if (found && found.clientId === client.client_id) await this.store.remove([found.hash], this.now());
  }

  /** A code of this client's, unexpired or used (a used one is refused when exchanged, after its verifier was checked). */
  private codeOf(client: OAuthClientInformationFull, value: string): IssuedCredential {
    const code = this.store.find(value, 'code');
    if (!code || code.clientId !== client.client_id) throw new InvalidGrantError('the authorization code is not valid (unknown, or issued to another client)');
    if (code.usedAt === undefined && code.expiresAt <= this.now()) throw new InvalidGrantError('the authorization code has expired');
    return code;
  }

  private tokensFor(clientId: string, resource: string | undefined, family: string | undefined): { tokens: OAuthTokens; issued: IssuedCredential[] } {
    const access = newCredential();
    const refresh = newCredential();
    const now = this.now();
    const scope = { ...(resource ? { resource } : {}), ...(family ? { family } : {}) };
    return {
      tokens: { access_token: access, token_type: 'Bearer', expires_in: LIFETIMES.access / 1000, refresh_token: refresh },
      issued: [
        { hash: credentialHash(access), kind: 'access', clientId, expiresAt: now + LIFETIMES.access, ...scope },
        { hash: credentialHash(refresh), kind: 'refresh', clientId, expiresAt: now + LIFETIMES.refresh, ...scope },
      ],
    };
  }

  private expireConsents(): void {
    const now = this.now();
    for (const [id, c] of this.pending) if (now - c.createdAt > CONSENT_WAIT) this.pending.delete(id);
    for (const [id, a] of this.answered) if (now - a.consent.createdAt > CONSENT_WAIT) this.answered.delete(id);
  }
}
