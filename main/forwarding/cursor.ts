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

/** The cursor in the data directory; none yet (nothing forwarded) is seq 0. A cursor that does not parse is an error, never a silent restart. */
export async function readCursor(dataDir: string): Promise<ForwardCursor | undefined> {
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
  return { seq: c.seq, hash: c.hash, at: typeof c.at === 'number' ? c.at : 0 };
}

/** Written whole and synced before it replaces the old one: a crash leaves the old cursor or the new, never half of one. */
export async function writeCursor(dataDir: string, cursor: ForwardCursor): Promise<void> {
  const file = join(dataDir, CURSOR_FILE);
  const fh = await open(`${file}.tmp`, 'w', 0o600);
  try {
    await fh.writeFile(JSON.stringify(cursor) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  await rename(`${file}.tmp`, file);
}
