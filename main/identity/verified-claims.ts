import { createRemoteJWKSet, decodeJwt, jwtVerify, type JWTPayload } from 'jose';
import { discover, type IdentitySettings } from './oidc-login.js';

/** Who a session is, as the provider signed it: read from the ID token, never from what a file says beside it. */
export interface VerifiedClaims {
  sub: string;
  email?: string | undefined;
  name?: string | undefined;
  groups: string[];
  /** When the user authenticated at the provider (ms). */
  authTime?: number | undefined;
  /** When the ID token stops vouching for these claims (ms). */
  expiresAt: number;
}

const keySets = new Map<string, { issuer: string; jwks: ReturnType<typeof createRemoteJWKSet> }>();

/**
 * Verifies an ID token's signature with the provider's published keys (discovery, then its JWKS), its issuer
 * and audience, and reads the claims from it. Its expiry is checked by whoever uses the claims (they are
 * still who signed in; whether they still are is the expiry's question). Undefined when it does not verify.
 */
export async function verifiedClaims(settings: IdentitySettings, idToken: string | undefined): Promise<VerifiedClaims | undefined> {
  if (!idToken) return undefined;
  try {
    let keys = keySets.get(settings.issuer);
    if (!keys) {
      const config = await discover(settings);
      const meta = config.serverMetadata();
      if (!meta.jwks_uri) return undefined;
      keys = { issuer: meta.issuer, jwks: createRemoteJWKSet(new URL(meta.jwks_uri)) };
      keySets.set(settings.issuer, keys);
    }
    const unverified = decodeJwt(idToken);
    const at = typeof unverified.iat === 'number' ? new Date(unverified.iat * 1000) : new Date();
    const { payload } = await jwtVerify(idToken, keys.jwks, { issuer: keys.issuer, audience: settings.clientId, currentDate: at });
    return claimsOf(payload, settings.groupsClaim ?? 'groups');
  } catch (err) {
    if (process.env.GATEHOUSE_DEBUG_IDENTITY) console.error('id token did not verify:', err);
    return undefined;
  }
}

function claimsOf(payload: JWTPayload, groupsClaim: string): VerifiedClaims | undefined {
  if (typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return undefined;
  const groups = payload[groupsClaim];
  return {
    sub: payload.sub,
    // An email the provider says it has not verified is not who someone is (another account could claim it).
    email: typeof payload.email === 'string' && payload.email_verified !== false ? payload.email : undefined,
    name: typeof payload.name === 'string' ? payload.name : undefined,
    groups: Array.isArray(groups) ? groups.filter((g): g is string => typeof g === 'string') : typeof groups === 'string' ? [groups] : [],
    authTime: typeof payload.auth_time === 'number' ? payload.auth_time * 1000 : undefined,
    expiresAt: payload.exp * 1000,
  };
}
