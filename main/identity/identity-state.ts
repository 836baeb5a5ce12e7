import { statSync } from 'node:fs';
import { join } from 'node:path';
import { refresh, type IdentitySettings } from './oidc-login.js';
import { ENCRYPTED_IDENTITY_FILE, IDENTITY_FILE, type SessionStore, type SignedIn } from './session-store.js';
import { verifiedClaims, type VerifiedClaims } from './verified-claims.js';

/** How often, at most, the gateway looks whether `gatehouse login` or `logout` changed the sign-in (a stat). */
const LOOK_EVERY_MS = 500;
/** Tokens are refreshed this long before they expire. */
const REFRESH_BEFORE_MS = 60_000;

/**
 * Who the gateway acts for: the signed-in user, else the OS user (`local:<name>`). Who the user is (subject,
 * email, groups, when they authenticated) is read from the ID token the provider signed, verified with its
 * published keys — never from the fields stored beside it, which anyone who can write the data directory could
 * edit. Picked up at once when `gatehouse login` or `logout` changes the store; refreshed before it expires.
 * Cheap to ask on every record: the store is read and verified again only when its file changed.
 */
export class IdentityState {
  private session: SignedIn | undefined;
  private stamp = '';
  private lookedAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  private verifying: Promise<void> = Promise.resolve();
  private readonly watch: NodeJS.Timeout;

  constructor(
    private readonly o: { dataDir: string; store: SessionStore; local: string; settings: () => IdentitySettings | undefined; now?: () => number },
  ) {
    this.reload();
    // Looked at in the background too, so that a login is verified before the next call asks who it is.
    this.watch = setInterval(() => this.current(), LOOK_EVERY_MS / 2);
    this.watch.unref();
  }

  private closed = false;

  close(): void {
    this.closed = true;
    clearInterval(this.watch);
  }

  /** Resolves once the stored session (if any) has been checked against the provider's keys. */
  async ready(): Promise<void> {
    await this.verifying;
  }

  /** The signed-in session, as the provider vouches for it; `fresh` looks at the store now (a step-up approval right after a sign-in). */
  current(fresh = false): SignedIn | undefined {
    const now = this.o.now?.() ?? Date.now();
    if (fresh || now - this.lookedAt >= LOOK_EVERY_MS) {
      this.lookedAt = now;
      this.reload();
    }
    const s = this.session;
    if (!s || !this.o.settings()) return undefined;
    // Refreshed before the access token or the ID token runs out; past either, and not refreshed, nobody is signed in.
    const until = Math.min(s.expiresAt, this.claimsExpiry ?? s.expiresAt);
    if (until - now < REFRESH_BEFORE_MS && s.refreshToken && !this.refreshing) this.refreshing = this.refresh(s).finally(() => (this.refreshing = undefined));
    return until > now ? s : undefined;
  }

  /** The principal records carry: the user as the organisation knows them (email, else subject), or the OS user. */
  principal(): string {
    const s = this.current();
    return s ? (s.email ?? `${s.sub}@${new URL(s.issuer).host}`) : this.o.local;
  }

  groups(): string[] {
    return this.current()?.groups ?? [];
  }

  /** Waits for a refresh under way (tests, shutdown). */
  async settled(): Promise<void> {
    await this.refreshing;
    await this.verifying;
  }

  private claimsExpiry: number | undefined;

  private reload(): void {
    // Either file may hold the session: the clear one `gatehouse login` writes, the desktop's encrypted one.
    const stamp = [IDENTITY_FILE, ENCRYPTED_IDENTITY_FILE]
      .map((name) => {
        try {
          const st = statSync(join(this.o.dataDir, name));
          return `${st.ino}:${st.size}:${st.mtimeMs}`;
        } catch {
          return '-';
        }
      })
      .join('|');
    if (stamp === this.stamp) return;
    this.stamp = stamp;
    const stored = stamp === '-|-' ? undefined : this.o.store.read();
    if (!stored) {
      this.session = undefined;
      return;
    }
    // Until the new one is verified, the one verified before stands (a login replacing it takes milliseconds).
    this.verifying = this.adopt(stored);
  }

  /** Takes a stored session only as its verified ID token says: its claims replace whatever the file holds. */
  private async adopt(stored: SignedIn): Promise<void> {
    const settings = this.o.settings();
    const claims = settings ? await verifiedClaims(settings, stored.idToken) : undefined;
    if (!claims) {
      this.session = undefined;
      this.claimsExpiry = undefined;
      return;
    }
    this.session = withClaims(stored, claims);
    this.claimsExpiry = claims.expiresAt;
  }

  private async refresh(s: SignedIn): Promise<void> {
    const settings = this.o.settings();
    if (!settings) return;
    const next = await refresh(settings, s, this.o.now?.() ?? Date.now()).catch(() => undefined);
    if (!next || this.closed) return;
    try {
      this.o.store.write(next);
    } catch {
      return; // the store cannot be written: the session stays as it was, and is refreshed at the next chance
    }
    this.stamp = '';
    this.verifying = this.adopt(next);
    await this.verifying;
  }
}

function withClaims(stored: SignedIn, claims: VerifiedClaims): SignedIn {
  return { ...stored, sub: claims.sub, email: claims.email, name: claims.name, groups: claims.groups, authTime: claims.authTime };
}
