import { createHash, randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import { canonicalJson } from '../policy/tool-pins.js';

/** "Allow for a while": a standing yes for one principal, server and tool, optionally only for the exact same arguments. */
export interface Grant {
  id: string;
  principal: string;
  server: string;
  tool: string;
  /** SHA-256 of the canonical arguments, when the grant is bound to them. */
  argsDigest?: string | undefined;
  createdAt: number;
  expiresAt: number;
  by: string;
  port: string;
}

export function argsDigest(args: unknown): string {
  return createHash('sha256').update(canonicalJson(args ?? {})).digest('hex');
}

/** Whether a grant covers a call at `now`. Pure. */
export function grantCovers(grant: Grant, call: { principal: string; server: string; tool: string; args: unknown }, now: number): boolean {
  return (
    grant.expiresAt > now &&
    grant.principal === call.principal &&
    grant.server === call.server &&
    grant.tool === call.tool &&
    (grant.argsDigest === undefined || grant.argsDigest === argsDigest(call.args))
  );
}

/** Grants in `grants.json` of the data directory (lowdb): they survive restarts until they expire or are revoked. */
export class GrantStore {
  private constructor(
    private readonly db: Low<{ grants: Grant[] }>,
    private readonly file: string,
  ) {}

  static async open(dataDir: string): Promise<GrantStore> {
    const file = join(dataDir, 'grants.json');
    const db = new Low<{ grants: Grant[] }>(new JSONFile(file), { grants: [] });
    await db.read();
    db.data.grants ??= [];
    return new GrantStore(db, file);
  }

  active(now: number): Grant[] {
    return this.db.data.grants.filter((g) => g.expiresAt > now);
  }

  find(call: { principal: string; server: string; tool: string; args: unknown }, now: number): Grant | undefined {
    return this.db.data.grants.find((g) => grantCovers(g, call, now));
  }

  async add(grant: Omit<Grant, 'id'>, now: number): Promise<Grant> {
    const full = { ...grant, id: randomUUID() };
    // Expired grants are dropped whenever the file is written.
    this.db.data.grants = [...this.db.data.grants.filter((g) => g.expiresAt > now), full];
    await this.write();
    return full;
  }

  /** Revokes the grant with this id (or the one grant whose id starts with it). */
  async revoke(idOrPrefix: string): Promise<Grant | undefined> {
    const matches = this.db.data.grants.filter((g) => g.id === idOrPrefix || g.id.startsWith(idOrPrefix));
    if (matches.length !== 1) return undefined;
    const [grant] = matches as [Grant];
    this.db.data.grants = this.db.data.grants.filter((g) => g !== grant);
    await this.write();
    return grant;
  }

  private async write(): Promise<void> {
    await this.db.write();
    chmodSync(this.file, 0o600);
  }
}
