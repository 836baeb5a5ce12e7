import { createHmac, timingSafeEqual } from 'node:crypto';
import { open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** The last record the collector acknowledged: the forwarder starts after it, across restarts and crashes. */
export interface ForwardCursor {
  seq: number;
  hash: string;
  /** When it was acknowledged (ms since the epoch). */
  at: number;
}

export const CURSOR_FILE = 'forwarding-cursor.json';

/** The cursor's mac, with the log's key: a cursor edited by hand (to skip records, say) does not carry it. */
export function cursorMac(key: Buffer, cursor: Pick<ForwardCursor, 'seq' | 'hash'>): string {
  return createHmac('sha256', key).update(`gatehouse-forwarding-cursor-v1|${cursor.seq}|${cursor.hash}`).digest('hex');
}

/**
 * The cursor in the data directory; none yet (nothing forwarded) is seq 0. A cursor that does not parse, or
 * (with the log's key) does not carry its mac, is an error, never a silent restart or skip.
 */
export async function readCursor(dataDir: string, key?: Buffer): Promise<ForwardCursor | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, CURSOR_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  let c: Partial<ForwardCursor> | null;
  try {
    c = JSON.parse(text) as Partial<ForwardCursor> | null;
  } catch (err) {
    throw new Error(`${join(dataDir, CURSOR_FILE)} is not JSON (${(err as Error).message})`);
  }
  if (typeof c?.seq !== 'number' || !Number.isSafeInteger(c.seq) || c.seq < 0 || typeof c.hash !== 'string') throw new Error(`${join(dataDir, CURSOR_FILE)} is not a forwarding cursor (it needs a seq, a whole number, and a hash)`);
  if (key) {
    const mac = (c as { mac?: unknown }).mac;
    const expected = Buffer.from(cursorMac(key, { seq: c.seq, hash: c.hash }), 'hex');
    const given = typeof mac === 'string' && /^[0-9a-f]{64}$/.test(mac) ? Buffer.from(mac, 'hex') : Buffer.alloc(0);
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new Error(`${join(dataDir, CURSOR_FILE)} was not written by this gateway (its mac does not match): it was edited, or copied from another data directory`);
  }
  return { seq: c.seq, hash: c.hash, at: typeof c.at === 'number' ? c.at : 0 };
}

/** Written whole and synced before it replaces the old one: a crash leaves the old cursor or the new, never half of one. */
export async function writeCursor(dataDir: string, cursor: ForwardCursor, key?: Buffer): Promise<void> {
  const file = join(dataDir, CURSOR_FILE);
  const fh = await open(`${file}.tmp`, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(key ? { ...cursor, mac: cursorMac(key, cursor) } : cursor) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}
