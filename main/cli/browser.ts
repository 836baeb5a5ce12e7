import { spawn } from 'node:child_process';

/** Whether this session can show a browser (a desktop, no CI, not switched off with GATEHOUSE_NO_OPEN). */
export function canOpenBrowser(env: NodeJS.ProcessEnv): boolean {
  if (env.CI || env.GATEHOUSE_NO_OPEN) return false;
  if (process.platform === 'linux') return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY);
  return true;
}

/** Opens a URL in the system browser with the OS opener; never waits for it. */
export function openBrowser(url: string): void {
  const [cmd, args] =
    process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url]] : ['xdg-open', [url]];
  const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}
