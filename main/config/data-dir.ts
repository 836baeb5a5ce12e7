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

/**
 * The two secrets of a running gateway, each a file (0600) in the data directory, made on first use:
 * `token`, which MCP clients present on /mcp/…, and `api-token`, which the CLI and the web UI's sign-in
 * present on /api/…. They differ so that a client holding the first cannot decide its own approvals.
 */
export const MCP_TOKEN_FILE = 'token';
export const API_TOKEN_FILE = 'api-token';

/** A token file's content, created (0600) on first use. */
export function loadOrCreateToken(dir: string, file: string = MCP_TOKEN_FILE): string {
  const path = join(dir, file);
  try {
    const existing = readFileSync(path, 'utf8').trim();
    if (existing) return existing;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  ensureDataDir(dir);
  const token = randomBytes(32).toString('base64url');
  try {
    writeFileSync(path, token + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    // Another process created it between our read and write: theirs wins.
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return readFileSync(path, 'utf8').trim();
    throw err;
  }
  return token;
}

/** Reads a token without creating one (for clients of a running gateway). */
export function readToken(dir: string, file: string = MCP_TOKEN_FILE): string | undefined {
  try {
    return readFileSync(join(dir, file), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
