/*
 * One gateway per data directory. Attacks, and accidents that look like them:
 *  - the desktop app and `gatehouse serve` (or two `serve`s) on one data directory, one after the other or
 *    started at the same moment: both would append to one segment and corrupt the chain and the index;
 *  - the gateway is killed (SIGKILL): its lock must not outlive it and block the next start;
 *  - the refused second gateway removes the running one's gateway.json on its way out, so that the CLI can
 *    no longer find the running one;
 *  - read-only commands are locked out while a gateway runs.
 */
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { startGatehouse } from '../../main/api/core.js';
import { acquireInstanceLock, GatewayAlreadyRunning, lockAddress } from '../../main/config/instance-lock.js';
import { readRuntimeInfo } from '../../main/config/runtime-file.js';
import { runGatehouse, startServe } from '../helpers/cli.js';
import { tempHome } from '../helpers/temp-home.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const homes: { remove(): void }[] = [];
const home = () => {
  const h = tempHome({ gateway: { port: 0 } });
  homes.push(h);
  return h.dir;
};
afterEach(() => homes.splice(0).forEach((h) => h.remove()));

describe('one gateway per data directory', () => {
  it('a second `gatehouse serve` exits 1 with one line naming the running one, and leaves its gateway.json alone', async () => {
    const dir = home();
    const first = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    try {
      const running = readRuntimeInfo(dir);
      const second = await runGatehouse(['serve', '--port', '0', '--no-open'], { GATEHOUSE_HOME: dir });
      expect(second.code).toBe(1);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toContain(`another Gatehouse gateway is already running on ${dir} (pid ${running?.pid}, ${first.url}`);
      expect(readRuntimeInfo(dir)).toEqual(running);
      // Read-only commands still work beside it.
      expect((await runGatehouse(['sessions'], { GATEHOUSE_HOME: dir })).code).toBe(0);
      expect((await runGatehouse(['verify'], { GATEHOUSE_HOME: dir })).code).toBe(0);
    } finally {
      first.child.kill('SIGTERM');
      await new Promise((r) => first.child.once('exit', r));
    }
  });

  it('after SIGKILL the lock is gone with the process: the next gateway starts', async () => {
    const dir = home();
    const first = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    first.child.kill('SIGKILL');
    await new Promise((r) => first.child.once('exit', r));
    const second = await startServe(['--port', '0'], { GATEHOUSE_HOME: dir });
    second.child.kill('SIGTERM');
    await new Promise((r) => second.child.once('exit', r));
  });

  it('gateways started at the same moment: exactly one runs, and its log verifies', async () => {
    const dir = home();
    const starts = await Promise.allSettled([0, 1, 2].map(() => startGatehouse({ dataDir: dir, shell: 'headless' })));
    const running = starts.filter((s) => s.status === 'fulfilled');
    const refused = starts.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    expect(running).toHaveLength(1);
    expect(refused.map((r) => r.reason)).toEqual([expect.any(GatewayAlreadyRunning), expect.any(GatewayAlreadyRunning)]);
    await (running[0] as PromiseFulfilledResult<Awaited<ReturnType<typeof startGatehouse>>>).value.stop();
    expect((await runGatehouse(['verify'], { GATEHOUSE_HOME: dir })).code).toBe(0);
    // And once it stopped, the next one starts.
    const next = await startGatehouse({ dataDir: dir, shell: 'headless' });
    await next.stop();
  });

  it('where the lock is a socket file (macOS), a file left by a crash is replaced and a live one is not', async () => {
    const dir = home();
    const address = join(tmpdir(), `gatehouse-lock-test-${process.pid}.sock`);
    rmSync(address, { force: true });
    const live = await acquireInstanceLock(dir, address);
    await expect(acquireInstanceLock(dir, address)).rejects.toThrow(GatewayAlreadyRunning);
    await live.release();
    // A crash leaves the file behind with nobody listening: a process that listened on it, killed.
    const holder = spawn(process.execPath, ['-e', `require('node:net').createServer().listen(${JSON.stringify(address)}, () => console.log('listening'))`]);
    await new Promise((r) => holder.stdout.once('data', r));
    holder.kill('SIGKILL');
    await new Promise((r) => holder.once('exit', r));
    expect(existsSync(address)).toBe(true);
    const next = await acquireInstanceLock(dir, address);
    await next.release();
    rmSync(address, { force: true });
    expect(lockAddress(dir, 'darwin')).toMatch(/gatehouse-[0-9a-f]{32}\.sock$/);
    expect(lockAddress(dir, 'linux').startsWith('\0gatehouse-')).toBe(true);
  });
});
