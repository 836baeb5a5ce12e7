import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import Provider from 'oidc-provider';

/** The test organisation: two users in different groups. */
export const USERS: Record<string, { email: string; name: string; groups: string[]; emailVerified?: boolean }> = {
  alice: { email: 'alice@example.com', name: 'Alice Admin', groups: ['platform-admins', 'developers'] },
  bob: { email: 'bob@example.com', name: 'Bob Builder', groups: ['developers'] },
  // Claims alice's address, which the provider has not verified.
  mallory: { email: 'alice@example.com', name: 'Mallory', groups: ['developers'], emailVerified: false },
};

export const CLIENT_ID = 'gatehouse-test';

/** A real OIDC provider (oidc-provider) on 127.0.0.1, with its development login and consent pages. */
export async function startOidcProvider(options: { accessTokenTtl?: number } = {}): Promise<{ issuer: string; close(): Promise<void> }> {
  // The issuer names the port, so the server listens first and the provider is attached once it knows it.
  const route: { handler?: (req: IncomingMessage, res: ServerResponse) => void } = {};
  const server: Server = createServer((req, res) => (route.handler ? route.handler(req, res) : res.writeHead(503).end()));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const issuer = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        redirect_uris: ['http://127.0.0.1/callback'],
        post_logout_redirect_uris: ['http://127.0.0.1/logged-out'],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
    ],
    findAccount: async (_ctx: unknown, id: string) => {
      const user = USERS[id];
      return user ? { accountId: id, claims: async () => ({ sub: id, email: user.email, email_verified: user.emailVerified ?? true, name: user.name, groups: user.groups }) } : undefined;
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
    scopes: ['openid', 'offline_access', 'email', 'profile', 'groups'],
    conformIdTokenClaims: false,
    issueRefreshToken: async () => true,
    features: { devInteractions: { enabled: true }, rpInitiatedLogout: { enabled: true } },
    ttl: { AccessToken: options.accessTokenTtl ?? 600, IdToken: 600, RefreshToken: 86_400, Session: 86_400, Interaction: 600, Grant: 86_400 },
  });
  route.handler = provider.callback();
  return { issuer, close: () => new Promise<void>((r) => server.close(() => r())) };
}
