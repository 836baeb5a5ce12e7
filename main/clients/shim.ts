import { isAbsolute } from 'node:path';

/**
 * The command a client's wired entry starts: `gatehouse connect NAME` (the stdio shim), spelled as this
 * installation can start it, so that no token is written into the client's file. Three installations:
 * - the CLI on Node (a checkout's `bin/gatehouse.js`, `npm i -g`): `node …/gatehouse.js connect NAME`;
 * - the desktop app, packaged: the app's own binary in its `--cli` mode, `…/Gatehouse --cli connect NAME`
 *   (an AppImage by the path of the AppImage file, not the mount it runs from, which changes every start);
 * - the desktop app run from a checkout (`electron .`): `…/electron APP --cli connect NAME`.
 */
export type Shim = readonly string[];

export interface DesktopApp {
  isPackaged: boolean;
  /** The running binary (process.execPath). */
  execPath: string;
  /** The app's folder (app.getAppPath()), which an unpackaged Electron is given first. */
  appPath: string;
  /** $APPIMAGE: the AppImage file the app was started from, if it was. */
  appImage?: string;
}

/** How a client starts the desktop app as the gatehouse command. */
export function desktopShim(app: DesktopApp): Shim {
  if (app.appImage) return [app.appImage, '--cli'];
  return app.isPackaged ? [app.execPath, '--cli'] : [app.execPath, app.appPath, '--cli'];
}

const GATEHOUSE_SCRIPT = /(?:^|[\\/])gatehouse(?:\.js|\.cmd|\.exe)?$/i;
const NODE = /(?:^|[\\/])node(?:\.exe)?$/i;
/** The desktop app's binary (`Gatehouse`, `Gatehouse.exe`, `Gatehouse-1.2.0.AppImage`), or Electron itself from a checkout. */
const APP_BINARY = /[\\/](?:[^\\/]*gatehouse[^\\/]*|electron(?:\.exe)?)$/i;

/**
 * Whether a command line is the shim as wiring writes it, in one of the three forms above, with `connect` and a
 * server name last and nothing else around them. Never a command relative to the project (`./tools/gatehouse`):
 * a cloned repository's entry must not pass for one already through Gatehouse.
 */
export function isShim(words: readonly string[]): boolean {
  const n = words.length;
  if (n < 3 || words[n - 2] !== 'connect') return false;
  const before = words.slice(0, n - 2);
  const [first = '', second, third] = before;
  const named = (w: string) => GATEHOUSE_SCRIPT.test(w) && (isAbsolute(w) || !/[\\/]/.test(w));
  if (before.length === 1) return named(first);
  if (before.length === 2 && second === '--cli') return isAbsolute(first) && APP_BINARY.test(first);
  if (before.length === 2) return NODE.test(first) && named(second as string);
  return before.length === 3 && third === '--cli' && isAbsolute(first) && APP_BINARY.test(first) && isAbsolute(second as string);
}
