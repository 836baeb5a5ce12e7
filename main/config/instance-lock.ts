import { createHash } from 'node:crypto';
import { realpathSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Another gateway holds the data directory. */
export class GatewayAlreadyRunning extends Error {}

export interface InstanceLock {
  release(): Promise<void>;
}

/**
 * Where the lock of a data directory lives: a local socket the OS takes back when its process dies, however
 * it dies (no stale lock after SIGKILL). Linux: an abstract socket (no file at all); Windows: a named pipe;
 * elsewhere (macOS): a socket file in the temp folder, whose leftover after a crash is recognised by a
 * refused connection and replaced.
 */
export function lockAddress(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  // The folder's identity (device and inode), which every path to it shares: a symlink, another spelling, or
  // a bind mount of it all lead to the same lock. Where the OS gives no inode, its real path.
  let identity = dataDir;
  try {
    const st = statSync(dataDir);
    identity = st.ino ? `${st.dev}:${st.ino}` : realpathSync(dataDir);
  } catch {
    // not made yet: the path as given
  }
  const id = createHash('sha256').update(identity).digest('hex').slice(0, 32);
  if (platform === 'linux') return `\0gatehouse-${id}`;
  if (platform === 'win32') return `\\\\.\\pipe\\gatehouse-${id}`;
  return join(tmpdir(), `gatehouse-${id}.sock`);
}

/**
 * Takes the data directory's one-gateway lock, or throws GatewayAlreadyRunning. Two gateways on one data
 * directory would interleave their appends and corrupt the chain and the index, so the second refuses.
 */
export async function acquireInstanceLock(dataDir: string, address = lockAddress(dataDir)): Promise<InstanceLock> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const server = createServer((socket) => socket.destroy());
    const outcome = await listen(server, address);
    if (outcome === 'held') {
      server.unref();
      return {
        release: () => new Promise<void>((resolve) => server.close(() => resolve())),
      };
    }
    // In use: by a live gateway (it accepts), or a socket file left by one that crashed (refused) — only files can be stale.
    if (address.startsWith('\0') || address.startsWith('\\\\.\\pipe\\') || (await answers(address))) break;
    rmSync(address, { force: true });
  }
  throw new GatewayAlreadyRunning('another Gatehouse gateway is already running on this data directory');
}

function listen(server: Server, address: string): Promise<'held' | 'in-use'> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => (err.code === 'EADDRINUSE' ? resolve('in-use') : reject(err)));
    server.listen({ path: address, exclusive: true }, () => resolve('held'));
  });
}

function answers(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ path: address });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Whether a gateway holds the data directory's lock right now (a gateway.json left by a crash says nothing). */
export async function isGatewayRunning(dataDir: string): Promise<boolean> {
  try {
    await (await acquireInstanceLock(dataDir)).release();
    return false;
  } catch (err) {
    if (err instanceof GatewayAlreadyRunning) return true;
    throw err;
  }
}
