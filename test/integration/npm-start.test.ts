import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
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
});
