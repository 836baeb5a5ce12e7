import { resolveDataDir } from '../config/data-dir.js';
import { parseDuration } from '../config/units.js';
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

/** A point in time: an RFC 3339 date or date-time, or a duration meaning that long ago (`2h`, `7d`). */
export function parseTime(value: string | boolean | undefined, flag: string, now = Date.now()): number | undefined {
  if (value === undefined || typeof value === 'boolean') return undefined;
  const ago = parseDuration(value);
  if (ago !== undefined) return now - ago;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new UsageError(`${flag} takes a date-time (2026-11-22T09:00:00Z), a date, or a duration ago (2h, 7d), not "${value}"`);
  return t;
}
