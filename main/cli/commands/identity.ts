import { configPath, loadConfigFile } from '../../config/load.js';
import { isGatewayRunning } from '../../config/instance-lock.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { callVerb } from '../gateway-client.js';
import { endSessionUrl, login, LoginError, type IdentitySettings } from '../../identity/oidc-login.js';
import { fileSessionStore, type SignedIn } from '../../identity/session-store.js';
import { verifiedClaims } from '../../identity/verified-claims.js';
import { canOpenBrowser, openBrowser } from '../browser.js';
import type { Command } from '../command.js';
import type { CliIo } from '../io.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';

function settingsFor(io: CliIo, configFile: string | undefined): IdentitySettings {
  const config = loadConfigFile(configPath(dataDirFor(io), configFile));
  if (!config.identity) throw new UsageError('sign-in is not configured: add `identity: { issuer: https://…, clientId: … }` to gatehouse.yaml');
  return config.identity;
}

/** What `whoami --json` prints: who, never a token. */
export function whoamiView(session: SignedIn | undefined): Record<string, unknown> {
  if (!session) return { signedIn: false };
  return { signedIn: true, sub: session.sub, email: session.email ?? null, name: session.name ?? null, groups: session.groups, issuer: session.issuer, expiresAt: new Date(session.expiresAt).toISOString() };
}

export const loginCommand: Command = {
  summary: 'sign in through the system browser (OIDC, Authorization Code with PKCE); --no-open prints the URL to open instead, and waits',
  usage: 'gatehouse login [--no-open] [--config FILE]',
  options: { 'no-open': { type: 'boolean' }, config: { type: 'string' } },
  async run({ values }, io) {
    const settings = settingsFor(io, stringOption(values.config));
    const print = values['no-open'] === true || !canOpenBrowser(io.env);
    try {
      const session = await login(settings, {
        open: (url) => {
          if (print) {
            io.err('gatehouse login: open this address in a browser to sign in (waiting for it to come back):');
            io.out(url);
          } else {
            io.err('gatehouse login: the browser opens the sign-in page; waiting for it to come back…');
            openBrowser(url);
          }
        },
        ...(io.env.GATEHOUSE_LOGIN_TIMEOUT_MS ? { timeoutMs: Number(io.env.GATEHOUSE_LOGIN_TIMEOUT_MS) } : {}),
      });
      fileSessionStore(dataDirFor(io)).write(session);
      io.err(`gatehouse login: signed in as ${session.email ?? session.sub}${session.groups.length ? ` (groups: ${session.groups.join(', ')})` : ''} at ${session.issuer}`);
    } catch (err) {
      if (err instanceof LoginError) throw new CheckFailed(`sign-in failed: ${err.message}`);
      throw err;
    }
  },
};

export const whoamiCommand: Command = {
  summary: 'who is signed in (sub, email, name, groups, issuer, when the sign-in expires)',
  usage: 'gatehouse whoami [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const stored = fileSessionStore(dataDirFor(io)).read();
    // Shown as the provider signed it (the ID token, verified), never as the file says beside it.
    const settings = stored ? loadConfigFile(configPath(dataDirFor(io))).identity : undefined;
    const claims = stored && settings ? await verifiedClaims(settings, stored.idToken) : undefined;
    if (stored && !claims) io.err('gatehouse whoami: the stored sign-in does not verify with the identity provider (edited, from another provider, or the provider cannot be reached): nobody counts as signed in; `gatehouse login` signs in again');
    const session = stored && claims ? { ...stored, sub: claims.sub, email: claims.email, name: claims.name, groups: claims.groups, authTime: claims.authTime } : undefined;
    if (!session && readRuntimeInfo(dataDirFor(io)) && (await isGatewayRunning(dataDirFor(io)))) {
      // The desktop keeps the session encrypted with the keychain: ask the running gateway who it acts for.
      const status = (await callVerb(dataDirFor(io), 'status')).body;
      if (status.identity?.signedIn) {
        if (values.json) io.out(JSON.stringify({ signedIn: true, principal: status.identity.principal, groups: status.identity.groups, via: 'running gateway' }, null, 2));
        else io.out(`${status.identity.principal}; groups: ${status.identity.groups.join(', ') || 'none'} (as the running gateway says)`);
        return;
      }
    }
    if (values.json) io.out(JSON.stringify(whoamiView(session), null, 2));
    else if (!session) io.out('Not signed in. `gatehouse login` signs in.');
    else io.out(`${session.email ?? session.sub}${session.name ? ` (${session.name})` : ''} at ${session.issuer}; groups: ${session.groups.join(', ') || 'none'}; until ${new Date(session.expiresAt).toISOString()}`);
  },
};

export const logoutCommand: Command = {
  summary: "sign out: forget the tokens here, and end the provider's session where it offers that",
  usage: 'gatehouse logout [--no-open] [--config FILE]',
  options: { 'no-open': { type: 'boolean' }, config: { type: 'string' } },
  async run({ values }, io) {
    const store = fileSessionStore(dataDirFor(io));
    const session = store.read();
    store.clear();
    if (!session) {
      io.err('gatehouse logout: nobody was signed in');
      return;
    }
    io.err(`gatehouse logout: signed out ${session.email ?? session.sub}; no token is kept here`);
    const end = await endSessionUrl(settingsFor(io, stringOption(values.config)), session).catch(() => undefined);
    if (!end) return;
    if (values['no-open'] === true || !canOpenBrowser(io.env)) {
      io.err('gatehouse logout: to end the session at the identity provider too, open:');
      io.out(end);
    } else openBrowser(end);
  },
};
