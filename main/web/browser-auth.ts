import { randomBytes, timingSafeEqual } from 'node:crypto';

const CODE_TTL_MS = 10 * 60_000;
const COOKIE = 'gatehouse_session';

/**
 * Browser sign-in for the web UI: one-time login links (printed by `gatehouse serve`) or the token typed into
 * the sign-in page, exchanged for an HttpOnly, SameSite=Strict session cookie.
 */
export class BrowserAuth {
  private readonly codes = new Map<string, number>();
  private readonly sessions = new Set<string>();

  constructor(
    private readonly token: string,
    private readonly now: () => number = Date.now,
  ) {}

  /** A single-use code for a login link; it expires after ten minutes. */
  issueCode(): string {
    const code = randomBytes(24).toString('base64url');
    this.codes.set(code, this.now() + CODE_TTL_MS);
    return code;
  }

  /** Redeems a login code (once) or the gateway token for a new browser session id. */
  redeem(credential: { code?: string; token?: string }): string | undefined {
    let valid = false;
    if (credential.code) {
      const expires = this.codes.get(credential.code);
      this.codes.delete(credential.code);
      valid = expires !== undefined && expires > this.now();
    } else if (credential.token) {
      valid = safeEqual(credential.token, this.token);
    }
    if (!valid) return undefined;
    const session = randomBytes(32).toString('base64url');
    this.sessions.add(session);
    return session;
  }

  cookieFor(session: string): string {
    return `${COOKIE}=${session}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Whether a request's Cookie header carries a live browser session. */
  isSignedIn(cookieHeader: string | undefined): boolean {
    const value = parseCookie(cookieHeader ?? '')[COOKIE];
    return value !== undefined && this.sessions.has(value);
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function parseCookie(header: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out[part.slice(0, eq).trim()] = part.slice(eq + 1).trim();
  }
  return out;
}
