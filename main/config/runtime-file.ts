import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Written by a running gateway so that `gatehouse connect`, `approve` and friends can find it. */
export interface RuntimeInfo {
  pid: number;
  port: number;
  url: string;
  startedAt: number;
  shell: 'desktop' | 'headless';
}

const FILE = 'gateway.json';

export function writeRuntimeInfo(dataDir: string, info: RuntimeInfo): void {
  writeFileSync(join(dataDir, FILE), JSON.stringify(info, null, 2) + '\n', { mode: 0o600 });
}

export function readRuntimeInfo(dataDir: string): RuntimeInfo | undefined {
  try {
    const info = JSON.parse(readFileSync(join(dataDir, FILE), 'utf8')) as RuntimeInfo;
    return typeof info.port === 'number' && typeof info.url === 'string' ? info : undefined;
  } catch {
    return undefined;
  }
}

/** Removes the file only if it still describes this process (a newer gateway may have replaced it). */
export function removeRuntimeInfo(dataDir: string, pid = process.pid): void {
  if (readRuntimeInfo(dataDir)?.pid === pid) rmSync(join(dataDir, FILE), { force: true });
}
