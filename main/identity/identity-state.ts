import { statSync } from 'node:fs';
import { join } from 'node:path';
import { refresh, type IdentitySettings } from './oidc-login.js';
import { ENCRYPTED_IDENTITY_FILE, IDENTITY_FILE, type SessionStore, type SignedIn } from './session-store.js';

/** How often, at most, the gateway looks whether `gatehouse login` or `logout` changed the sign-in (a stat). */
const LOOK_EVERY_MS = 500;
/** Tokens are refreshed this long before they expire. */
const REFRESH_BEFORE_MS = 60_000;

/**
 * Who the gateway acts for: the signed-in user (from the session store, picked up at once when `gatehouse
 * login` or `logout` changes it, refreshed before it expires), else the OS user (`local:<name>`). Cheap to
 * ask on every record: the store is read again only when its file changed.
 */
export class IdentityState {
  private session: SignedIn | undefined;
  private stamp = '';
  private lookedAt = -Infinity;
  private refreshing: Promise<void> | undefined;

  constructor(
    private readonly o: { dataDir: string; store: SessionStore; local: string; settings: () => IdentitySettings | undefined; now?: () => number },
  ) {
    this.reload();
  }

  /** The signed-in session; `fresh` looks at the store now (a step-up approval right after a sign-in). */
  current(fresh = false): SignedIn | undefined {
    const now = this.o.now?.() ?? Date.now();
    if (fresh || now - this.lookedAt >= LOOK_EVERY_MS) {
      this.lookedAt = now;
      this.reload();
    }
    const s = this.session;
    if (!s || !this.o.settings()) return undefined;
    if (s.expiresAt - now < REFRESH_BEFORE_MS && s.refreshToken && !this.refreshing) this.refreshing = this.refresh(s).finally(() => (this.refreshing = undefined));
    // Expired and not (yet) refreshed: nobody is signed in.
    return s.expiresAt > now ? s : undefined;
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
  }

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
    this.session = stamp === '-|-' ? undefined : this.o.store.read();
  }

  private async refresh(s: SignedIn): Promise<void> {
    const settings = this.o.settings();
    if (!settings) return;
    const next = await refresh(settings, s, this.o.now?.() ?? Date.now()).catch(() => undefined);
    if (!next) return;
    this.o.store.write(next);
    this.session = next;
    this.stamp = '';
  }
}
