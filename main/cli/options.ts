import { resolveDataDir } from '../config/data-dir.js';
import { UsageError } from './usage-error.js';
import type { CliIo } from './io.js';

export function parsePort(value: string | boolean | undefined): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, not "${value}"`);
  return port;
}

export function dataDirFor(io: CliIo): string {
  return resolveDataDir(io.env);
}

export function stringOption(value: string | boolean | undefined): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
