import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive } from '../helpers/processes.js';
import { tempHome } from '../helpers/temp-home.js';

const START = join(import.meta.dirname, '../../scripts/start.js');
const require = createRequire(import.meta.url);

function electronBinaryPresent(): boolean {
  try {
    require('electron');
    return true;
  } catch {
    return false;
  }
}

/** Runs `npm start`'s script until it prints the gateway URL, then stops it; returns what it printed. */
function startUntilServing(env: Record<string, string | undefined>): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [START, '--port', '0', '--no-open'], { env: { ...process.env, ...env } as NodeJS.ProcessEnv });
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start did not serve within 60s:\n${out}`));
    }, 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      if (/Gatehouse gateway on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        child.on('exit', () => resolve(out));
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
  });
}

describe('npm start', () => {
  const homes: { remove(): void }[] = [];
  afterEach(() => homes.splice(0).forEach((h) => h.remove()));
  const home = () => {
    const h = tempHome();
    homes.push(h);
    return h.dir;
  };

  it('with no display, says so in one line and runs the headless gateway', async () => {
    const out = await startUntilServing({ GATEHOUSE_HOME: home(), DISPLAY: undefined, WAYLAND_DISPLAY: undefined });
    const first = out.split('\n')[0];
    expect(first).toBe('Electron cannot start here (no display: neither DISPLAY nor WAYLAND_DISPLAY is set); running the headless gateway instead: gatehouse serve');
    expect(out).toMatch(/Timeline UI \(one-time sign-in link\): http:\/\/127\.0\.0\.1:\d+\/login\?code=/);
  });

  it.skipIf(electronBinaryPresent())('with a display but no Electron binary (and none to download), falls back the same way', async () => {
    const out = await startUntilServing({ GATEHOUSE_HOME: home(), DISPLAY: ':99' });
    expect(out.split('\n')[0]).toBe(
      'Electron cannot start here (its binary is missing and could not be downloaded); running the headless gateway instead: gatehouse serve',
    );
  });

  // npm runs a script through `sh -c`: a signal sent to npm reached only that shell, which kept waiting (SIGINT:
  // nothing stopped) or died and left start.js and the gateway running on their own (SIGTERM).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it.skipIf(process.platform !== 'linux')(`stopped by ${signal} sent to npm itself, leaves no process behind`, async () => {
      const npm = spawn('npm', ['start', '--', '--port', '0', '--no-open'], { cwd: join(import.meta.dirname, '../..'), env: { ...process.env, GATEHOUSE_HOME: home(), DISPLAY: '', WAYLAND_DISPLAY: '' } as NodeJS.ProcessEnv });
      let out = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`npm start did not serve within 60s:\n${out}`)), 60_000);
        const onData = (d: Buffer) => {
          out += d.toString();
          if (/Gatehouse gateway on http:\/\/127\.0\.0\.1:\d+/.test(out)) {
            clearTimeout(timer);
            resolve();
          }
        };
        npm.stdout.on('data', onData);
        npm.stderr.on('data', onData);
      });
      const tree = descendants(npm.pid as number);
      expect(tree.length).toBeGreaterThanOrEqual(2); // start.js and the gateway at least
      const exited = new Promise((r) => npm.once('exit', r));
      npm.kill(signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (npm.exitCode === null && npm.signalCode === null) npm.kill('SIGKILL');
      const deadline = Date.now() + 10_000;
      while (tree.some(isAlive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const left = tree.filter(isAlive);
      for (const pid of left) process.kill(pid, 'SIGKILL'); // never left behind by a failing run either
      expect(left).toEqual([]);
    });
  }
});

/** Every process below `pid` (from /proc), children first. */
function descendants(pid: number): number[] {
  const parents = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      parents.set(Number(name), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [child, parent] of parents) {
      if (parent !== p) continue;
      out.push(child);
      walk(child);
    }
  };
  walk(pid);
  return out;
}
