#!/usr/bin/env node
// `npm start`: build if needed, then open the desktop app; where Electron cannot start (no binary and no way
// to fetch it, or no display), say so in one line and run the headless gateway (`gatehouse serve`) instead.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const args = process.argv.slice(2);

function newestMtime(dir) {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** Builds when out/ is missing or older than the sources. */
function buildIfStale() {
  const built = join(root, 'out/main/cli.js');
  const sources = ['main', 'preload', 'renderer'].map((d) => newestMtime(join(root, d)));
  if (existsSync(built) && statSync(built).mtimeMs >= Math.max(...sources)) return;
  const result = spawnSync(process.execPath, [join(root, 'node_modules/electron-vite/bin/electron-vite.js'), 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) {
    console.error('gatehouse: the build failed; see the errors above');
    process.exit(result.status ?? 1);
  }
}

/** The Electron binary's path, fetching it once (electron's own install.js) if it was never downloaded. */
function electronBinary() {
  const locate = () => {
    try {
      delete require.cache[require.resolve('electron')];
      const path = require('electron');
      return existsSync(path) ? path : undefined;
    } catch {
      return undefined;
    }
  };
  let path = locate();
  if (!path) {
    const install = spawnSync(process.execPath, [require.resolve('electron/install.js')], { cwd: root, stdio: 'ignore', timeout: 120_000 });
    if (install.status === 0) path = locate();
  }
  return path;
}

function hasDisplay() {
  if (process.platform !== 'linux') return true;
  return Boolean(process.env.DISPLAY || process.env.WAYLAND_DISPLAY);
}

/**
 * Passes SIGINT and SIGTERM on to the child, and stops it if whoever started this script goes away without a
 * word (npm killed outright, a terminal closed): the gateway is never left running on its own.
 */
function supervise(child) {
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal));
  const parent = process.ppid;
  const watch = setInterval(() => {
    if (process.ppid !== parent) child.kill('SIGTERM');
  }, 1000);
  watch.unref();
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

function serveHeadless(reason) {
  console.log(`Electron cannot start here (${reason}); running the headless gateway instead: gatehouse serve`);
  supervise(spawn(process.execPath, [join(root, 'bin/gatehouse.js'), 'serve', ...args], { stdio: 'inherit' }));
}

buildIfStale();
if (process.env.GATEHOUSE_HEADLESS) {
  serveHeadless('GATEHOUSE_HEADLESS is set');
} else if (!hasDisplay()) {
  serveHeadless('no display: neither DISPLAY nor WAYLAND_DISPLAY is set');
} else {
  const binary = electronBinary();
  if (!binary) {
    serveHeadless('its binary is missing and could not be downloaded');
  } else {
    const started = Date.now();
    const app = spawn(binary, [root, ...args], { stdio: 'inherit' });
    for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => app.kill(signal));
    app.on('error', (err) => serveHeadless(`it failed to launch: ${err.message}`));
    app.on('exit', (code) => {
      // A crash within seconds of launch is Electron failing to start (missing libraries, sandbox), not the app quitting.
      if (code !== 0 && Date.now() - started < 5000) serveHeadless(`it exited with code ${code} at launch`);
      else process.exit(code ?? 0);
    });
  }
}
