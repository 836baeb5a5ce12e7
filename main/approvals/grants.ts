import { randomUUID } from 'node:crypto';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { Low } from 'lowdb';
import { JSONFile } from 'lowdb/node';
import type { GrantFacts } from '../policy/decide.js';

/**
 * "Allow for a while": a standing yes for calls in exactly the scope a person approved (policy/decide.ts says
 * what the scope holds and when it covers a call), until it expires or is revoked.
 */
export interface Grant extends GrantFacts {
  createdAt: number;
  by: string;
  port: string;
}

/** A grant as stored; one written before grants had a scope (or edited by hand into another shape) covers nothing. */
function isScopedGrant(value: unknown): value is Grant {
  const g = value as Partial<Grant> | null;
  const s = g?.scope as Partial<Grant['scope']> | undefined;
  return (
    typeof g?.id === 'string' &&
    typeof g.expiresAt === 'number' &&
    typeof s?.principal === 'string' &&
    typeof s.server === 'string' &&
    typeof s.tool === 'string' &&
    (typeof s.rule === 'string' || s.rule === null) &&
    typeof s.askedBy === 'string' &&
    (typeof s.toolDefinition === 'string' || s.toolDefinition === null) &&
    (g.argsDigest === undefined || typeof g.argsDigest === 'string')
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
    db.data.grants = Array.isArray(db.data.grants) ? db.data.grants.filter(isScopedGrant) : [];
    return new GrantStore(db, file);
  }

  active(now: number): Grant[] {
    return this.db.data.grants.filter((g) => g.expiresAt > now);
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
