import { createHash, randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Low, type Adapter } from 'lowdb';
import type { OAuthClientInformationFull } from '@modelcontextprotocol/sdk/shared/auth.js';
import type { RegistrationView } from '../../api/types.js';

/** A client that registered itself (RFC 7591), with when, and when it last reached the gateway. */
export interface RegisteredClient {
  info: OAuthClientInformationFull;
  registeredAt: number;
  lastUsedAt?: number;
  revokedAt?: number;
}

/** An authorization code or a token, kept only as its SHA-256: the file alone grants nothing. */
export interface IssuedCredential {
  hash: string;
  kind: 'code' | 'access' | 'refresh';
  clientId: string;
  expiresAt: number;
  /** For a code: the PKCE challenge and the exact redirect URI; when it was exchanged. */
  challenge?: string;
  redirectUri?: string;
  resource?: string;
  usedAt?: number;
  /** The code every token descends from (its hash), through any number of refreshes: a replay of that code revokes them all. */
  family?: string;
}

/**
 * lowdb's adapter for a file only its owner reads: the new content is written to a temporary file created 0600
 * and renamed over the old one (lowdb's own writes the temporary file with the default mode first).
 */
class PrivateJSONFile<T> implements Adapter<T> {
  /** Writes one after another (two at once would rename the same temporary file twice). */
  private last: Promise<void> = Promise.resolve();
  constructor(private readonly file: string) {}
  async read(): Promise<T | null> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
  }
  write(data: T): Promise<void> {
    const text = JSON.stringify(data, null, 2);
    const temp = `${this.file}.${process.pid}.tmp`;
    const done = this.last.catch(() => undefined).then(async () => {
      // (Made anew: a temporary file a crash left behind keeps whatever mode it had.)
      await rm(temp, { force: true });
      await writeFile(temp, text, { mode: 0o600, flag: 'wx' });
      await rename(temp, this.file);
    });
    this.last = done;
    return done;
  }
}

/** Registrations kept at most; past it, the oldest that never signed in go first. */
const MAX_CLIENTS = 200;

interface OAuthData {
  clients: Record<string, RegisteredClient>;
  credentials: IssuedCredential[];
}

/** A registration as the API and the CLI show it: the client-chosen name and redirect URIs through `mask`. */
export function registrationView(c: RegisteredClient, mask: (text: string) => string): RegistrationView {
  return {
    id: c.info.client_id,
    name: mask(c.info.client_name ?? c.info.client_id),
    redirectUris: c.info.redirect_uris.map((u) => mask(u)),
    registeredAt: c.registeredAt,
    ...(c.lastUsedAt !== undefined ? { lastUsedAt: c.lastUsedAt } : {}),
    ...(c.revokedAt !== undefined ? { revokedAt: c.revokedAt } : {}),
  };
}

/** The hash a credential is kept under. */
export const credentialHash = (value: string): string => createHash('sha256').update(value).digest('hex');
/** A new random credential (256 bits, base64url). */
export const newCredential = (): string => randomBytes(32).toString('base64url');

/**
 * The local authorization server's state in `oauth.json` of the data directory (lowdb, 0600): registered clients,
 * and the codes and tokens issued to them, hashed. Expired credentials are dropped as new ones are written.
 */
export class OAuthStore {
  private constructor(
    private readonly db: Low<OAuthData>,
    private readonly file: string,
  ) {}

  static async open(dataDir: string): Promise<OAuthStore> {
    const file = join(dataDir, 'oauth.json');
    if (existsSync(file) && !statSync(file).isFile()) throw new Error(`${file} is not a regular file; restore it, or remove it (every client then registers again)`);
    const db = new Low<OAuthData>(new PrivateJSONFile<OAuthData>(file), { clients: {}, credentials: [] });
    try {
      await db.read();
    } catch (err) {
      throw new Error(`${file} cannot be read (${(err as Error).message}); restore it, or remove it (every client then registers again)`);
    }
    const data = db.data as Partial<OAuthData> | null;
    db.data = { clients: Object.assign(Object.create(null) as Record<string, RegisteredClient>, data?.clients ?? {}), credentials: Array.isArray(data?.credentials) ? data.credentials : [] };
    return new OAuthStore(db, file);
  }

  client(id: string): RegisteredClient | undefined {
    return Object.hasOwn(this.db.data.clients, id) ? this.db.data.clients[id] : undefined;
  }

  clients(): RegisteredClient[] {
    return Object.values(this.db.data.clients);
  }

  /** Registers a client; past MAX_CLIENTS the oldest registrations that never signed in are dropped (false: none could be). */
  async register(info: OAuthClientInformationFull, now: number): Promise<boolean> {
    const unused = this.clients().filter((c) => c.lastUsedAt === undefined && c.revokedAt === undefined).sort((a, b) => a.registeredAt - b.registeredAt);
    while (this.clients().length >= MAX_CLIENTS && unused.length > 0) delete this.db.data.clients[(unused.shift() as RegisteredClient).info.client_id];
    if (this.clients().length >= MAX_CLIENTS) return false;
    this.db.data.clients[info.client_id] = { info, registeredAt: now };
    await this.write(now);
    return true;
  }

  /** Revokes a client: its registration stays listed (revoked), every credential it holds is dropped. */
  async revoke(id: string, now: number): Promise<boolean> {
    const client = this.client(id);
    if (!client || client.revokedAt !== undefined) return false;
    client.revokedAt = now;
    this.db.data.credentials = this.db.data.credentials.filter((c) => c.clientId !== id);
    await this.write(now);
    return true;
  }

  async touch(id: string, now: number): Promise<void> {
    const client = this.client(id);
    // (At most once a minute: a call does not wait on a write of this file.)
    if (!client || (client.lastUsedAt !== undefined && now - client.lastUsedAt < 60_000)) return;
    client.lastUsedAt = now;
    await this.write(now);
  }

  find(value: string, kind: IssuedCredential['kind']): IssuedCredential | undefined {
    const hash = credentialHash(value);
    return this.db.data.credentials.find((c) => c.hash === hash && c.kind === kind);
  }

  async add(credentials: IssuedCredential[], now: number): Promise<void> {
    this.db.data.credentials.push(...credentials);
    await this.write(now);
  }

  /** Drops every credential that descends from a code (its family). */
  async removeFamily(family: string, now: number): Promise<void> {
    this.db.data.credentials = this.db.data.credentials.filter((c) => c.family !== family);
    await this.write(now);
  }

  async remove(hashes: readonly string[], now: number): Promise<void> {
    const gone = new Set(hashes);
    this.db.data.credentials = this.db.data.credentials.filter((c) => !gone.has(c.hash));
    await this.write(now);
  }

  /** Saves a change made to a credential in place (a code marked used). */
  async save(now: number): Promise<void> {
    await this.write(now);
  }

  private async write(now: number): Promise<void> {
    // (A used code is kept until it expires: a replay of it is then known, and what it was exchanged for revoked.)
    this.db.data.credentials = this.db.data.credentials.filter((c) => c.expiresAt > now);
    await this.db.write();
  }
}
