/** How long to wait before the next attempt after `failures` failures in a row: doubling from 1 s to 5 min, with jitter (half fixed, half random) so that many gateways do not retry in step. */
export function backoffMs(failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(1000 * 2 ** Math.max(0, failures - 1), 300_000);
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** A Retry-After header (seconds, or an HTTP date) as a wait in ms, at most 10 minutes; undefined when absent or unreadable. */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (!header) return undefined;
  const trimmed = header.trim();
  // Seconds, or an HTTP date (`Wed, 21 Oct 2015 07:28:00 GMT`); Date.parse alone would take "-5" for a year.
  const ms = /^\d+$/.test(trimmed) ? Number(trimmed) * 1000 : /^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(trimmed) ? Date.parse(trimmed) - now : NaN;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), 600_000) : undefined;
}
