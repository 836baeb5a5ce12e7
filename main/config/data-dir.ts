import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir, platform } from 'node:os';
import { join } from 'node:path';

/** The folder the desktop app and the CLI share: $GATEHOUSE_HOME, else the platform's app-data folder. */
export function resolveDataDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GATEHOUSE_HOME) return env.GATEHOUSE_HOME;
  switch (platform()) {
    case 'darwin':
      return join(homedir(), 'Library', 'Application Support', 'Gatehouse');
    case 'win32':
      return join(env.APPDATA ?? join(homedir(), 'AppData', 'Roaming'), 'Gatehouse');
    default:
      return join(env.XDG_CONFIG_HOME ?? join(homedir(), '.config'), 'Gatehouse');
  }
}

/** Creates the data directory (0700) if needed and returns its path. */
export function ensureDataDir(dir: string): string {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (platform() !== 'win32') chmodSync(dir, 0o700);
  return dir;
}

/** The gateway token: read from `token` in the data directory, created (0600) on first use. */
export function loadOrCreateToken(dir: string): string {
  const file = join(dir, 'token');
  try {
    const existing = readFileSync(file, 'utf8').trim();
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  ensureDataDir(dir);
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(file, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it between our read and write: theirs wins.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(file, 'utf8').trim();
    throw err;
  }
  return token;
}

/** Reads the token without creating one (for clients of a running gateway). */
export function readToken(dir: string): string | undefined {
  try {
    return readFileSync(join(dir, 'token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
