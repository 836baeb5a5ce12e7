/*
 * Back-off decides how hard a failing collector is hit. What could go wrong: retries in step across many
 * gateways (no jitter), a wait that grows without bound or never grows, a hostile Retry-After that parks the
 * forwarder for a day or makes it spin. Each is a property over generated inputs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { backoffMs, retryAfterMs } from '../../../main/forwarding/backoff.js';

describe('back-off', () => {
  it('doubles from 1 s to 5 min, between half and all of its ceiling, never more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), (failures, r) => {
        const ceiling = Math.min(1000 * 2 ** (failures - 1), 300_000);
        const ms = backoffMs(failures, () => r);
        expect(ms).toBeGreaterThanOrEqual(ceiling / 2 - 1);
        expect(ms).toBeLessThanOrEqual(ceiling);
      }),
    );
    expect(new Set(Array.from({ length: 20 }, () => backoffMs(5))).size).toBeGreaterThan(1);
  });

  it('Retry-After in seconds or as a date, bounded to 0–10 min; anything else is ignored', () => {
    const now = Date.parse('2026-12-03T00:00:00Z');
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 9 }), (s) => {
        expect(retryAfterMs(String(s), now)).toBe(Math.min(s * 1000, 600_000));
      }),
    );
    expect(retryAfterMs(new Date(now + 30_000).toUTCString(), now)).toBe(30_000);
    expect(retryAfterMs(new Date(now - 30_000).toUTCString(), now)).toBe(0);
    for (const bad of [undefined, '', 'soon', '-5', '1.5e3x']) expect(retryAfterMs(bad, now)).toBeUndefined();
  });
});
