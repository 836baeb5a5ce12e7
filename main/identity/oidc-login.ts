import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import * as oidc from 'openid-client';
import type { SignedIn } from './session-store.js';

/** `identity:` in gatehouse.yaml. */
export interface IdentitySettings {
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes?: readonly string[] | undefined;
  groupsClaim?: string | undefined;
}

/** A sign-in that did not complete, with what the user should know (never a token). */
export class LoginError extends Error {}

const LOGIN_TIMEOUT_MS = 5 * 60_000;

/** Discovers the provider. Plain http is accepted only for a provider on this machine (a test or a local IdP). */
export async function discover(settings: IdentitySettings): Promise<oidc.Configuration> {
  const issuer = new URL(settings.issuer);
  const local = issuer.protocol === 'http:' && ['127.0.0.1', 'localhost', '[::1]'].includes(issuer.hostname);
  try {
    return await oidc.discovery(issuer, settings.clientId, settings.clientSecret, settings.clientSecret ? undefined : oidc.None(), local ? { execute: [oidc.allowInsecureRequests] } : undefined);
  } catch (err) {
    throw new LoginError(`cannot reach the identity provider at ${settings.issuer} (${(err as Error).message}): check identity.issuer in gatehouse.yaml and your network`);
  }
}

export interface LoginOptions {
  /** Opens the URL in the system browser (the desktop's shell.openExternal, the OS opener), or prints it. */
  open: (url: string) => void | Promise<void>;
  timeoutMs?: number;
  /** Step-up: demand a fresh authentication at the provider (max_age=0, prompt=login). */
  fresh?: boolean;
  now?: () => number;
}

/**
 * Signs in with Authorization Code + PKCE, `state` and `nonce`, through the system browser and a loopback
 * redirect on 127.0.0.1 with an ephemeral port (RFC 8252). Resolves with who signed in and their tokens; the
 * browser is shown a page that says to return to the app, or what went wrong.
 */
export async function login(settings: IdentitySettings, options: LoginOptions): Promise<SignedIn> {
  const config = await discover(settings);
  const verifier = oidc.randomPKCECodeVerifier();
  const challenge = await oidc.calculatePKCECodeChallenge(verifier);
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const now = options.now ?? Date.now;

  let settle!: { resolve: (s: SignedIn) => void; reject: (e: Error) => void };
  const done = new Promise<SignedIn>((resolve, reject) => (settle = { resolve, reject }));
  const server = createServer((req, res) => void callback(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const redirectUri = `http://127.0.0.1:${(server.address() as { port: number }).port}/callback`;

  async function callback(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', redirectUri);
    if (url.pathname !== '/callback') {
      res.writeHead(404).end();
      return;
    }
    // Only the answer to this sign-in ends it: anything else a local process sends to the port is turned away
    // and the real redirect still awaited.
    if (url.searchParams.get('state') !== state) {
      page(res, 400, 'Not this sign-in', 'This address answers one sign-in only. Return to Gatehouse.');
      return;
    }
    const error = url.searchParams.get('error');
    if (error) {
      const description = url.searchParams.get('error_description');
      const message = error === 'access_denied' ? 'the sign-in was declined at the identity provider' : `the identity provider refused the sign-in (${error}${description ? `: ${description}` : ''})`;
      page(res, 400, 'Sign-in did not complete', `${escapeHtml(message)}. Return to Gatehouse and try again.`);
      settle.reject(new LoginError(message));
      return;
    }
    try {
      const tokens = await oidc.authorizationCodeGrant(config, url, { pkceCodeVerifier: verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true });
      const session = sessionFrom(config, tokens, settings, now());
      page(res, 200, 'Signed in to Gatehouse', `You are signed in as ${escapeHtml(session.email ?? session.sub)}. You can close this tab and return to Gatehouse.`);
      settle.resolve(session);
    } catch (err) {
      const message = describeGrantError(err);
      page(res, 400, 'Sign-in did not complete', `${escapeHtml(message)}. Return to Gatehouse and try again.`);
      settle.reject(new LoginError(message));
    }
  }

  const params: Record<string, string> = {
    redirect_uri: redirectUri,
    scope: ['openid', 'email', 'profile', 'offline_access', ...(settings.scopes ?? [])].filter((s, i, all) => all.indexOf(s) === i).join(' '),
    code_challenge: challenge,
    code_challenge_method: 'S256',
    state,
    nonce,
    ...(options.fresh ? { max_age: '0', prompt: 'login' } : { prompt: 'consent' }),
  };
  const timeoutMs = options.timeoutMs ?? LOGIN_TIMEOUT_MS;
  const timer = setTimeout(() => settle.reject(new LoginError(`no answer from the browser within ${Math.round(timeoutMs / 1000)} s (the window was closed, or the sign-in not finished); run the login again`)), timeoutMs);
  try {
    await options.open(oidc.buildAuthorizationUrl(config, params).href);
    return await done;
  } finally {
    clearTimeout(timer);
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Refreshes the tokens before they expire; undefined when the provider no longer accepts the refresh token. */
export async function refresh(settings: IdentitySettings, session: SignedIn, now = Date.now()): Promise<SignedIn | undefined> {
  if (!session.refreshToken) return undefined;
  const config = await discover(settings);
  try {
    const tokens = await oidc.refreshTokenGrant(config, session.refreshToken);
    const next = sessionFrom(config, tokens, settings, now, session);
    return next;
  } catch {
    return undefined;
  }
}

/** The provider's end-session URL, where it has one (logout there too). */
export async function endSessionUrl(settings: IdentitySettings, _session: SignedIn): Promise<string | undefined> {
  const config = await discover(settings);
  if (!config.serverMetadata().end_session_endpoint) return undefined;
  // No id_token_hint: the address is shown and returned, and a token must never be.
  return oidc.buildEndSessionUrl(config, { client_id: settings.clientId }).href;
}

function sessionFrom(config: oidc.Configuration, tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers, settings: IdentitySettings, now: number, previous?: SignedIn): SignedIn {
  const claims = tokens.claims();
  const issuer = config.serverMetadata().issuer;
  const groupsClaim = settings.groupsClaim ?? 'groups';
  const rawGroups = claims?.[groupsClaim];
  // What the new token says, and nothing kept from before: a user taken out of every group loses them at the next refresh.
  const groups = Array.isArray(rawGroups) ? rawGroups.filter((g): g is string => typeof g === 'string') : [];
  return {
    issuer,
    sub: claims?.sub ?? previous?.sub ?? '',
    email: typeof claims?.email === 'string' && claims.email_verified !== false ? claims.email : undefined,
    name: typeof claims?.name === 'string' ? claims.name : previous?.name,
    groups,
    expiresAt: now + (tokens.expiresIn() ?? 300) * 1000,
    authTime: typeof claims?.auth_time === 'number' ? claims.auth_time * 1000 : previous?.authTime,
    accessToken: tokens.access_token,
    refreshToken: tokens.refresh_token ?? previous?.refreshToken,
    idToken: tokens.id_token ?? previous?.idToken,
  };
}

function describeGrantError(err: unknown): string {
  // openid-client wraps what went wrong ("invalid response encountered"); the cause says what it was.
  const messages: string[] = [];
  for (let e = err as { message?: string; cause?: unknown; error?: string } | undefined, i = 0; e && i < 4; e = e.cause as typeof e, i++) {
    if (e.error) messages.push(e.error);
    if (e.message) messages.push(e.message);
  }
  const all = messages.join(' | ');
  if (/"state"|state mismatch|unexpected state/i.test(all)) return 'the answer from the identity provider does not belong to this sign-in (state mismatch)';
  if (/"iss"|issuer/i.test(all)) return `the answer did not come from the configured identity provider (${messages.at(-1) ?? all})`;
  if (/iat|exp\b|nbf|clock|timestamp/i.test(all)) return `the identity provider's token is not valid at this machine's time (check the clock): ${messages.at(-1) ?? all}`;
  return `the identity provider's answer could not be used (${messages.at(-1) ?? String(err)})`;
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`<!doctype html><meta charset="utf-8"><title>${title}</title><body style="font-family:system-ui;max-width:36rem;margin:4rem auto"><h1>${title}</h1><p>${body}</p></body>`);
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
