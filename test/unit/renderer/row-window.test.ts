/*
 * The rows a virtual list draws (renderer/src/row-window.ts). What would mislead: a list that holds rows but
 * draws none — a filter that leaves one call, applied while the list was scrolled far down, drew an empty
 * table until the browser's scroll event caught up (the call table's e2e test saw 0 rows now and then); a
 * window that misses the rows in view, or runs past the end.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { rowWindow } from '../../../renderer/src/row-window.js';

describe('rowWindow', () => {
  it('draws the one row left after a filter, though the last scroll position was far past it', () => {
    expect(rowWindow(34 * 31 - 640, 34, 640, 1, 8)).toEqual({ first: 0, last: 1 });
  });

  it('draws every row in view, and only rows that exist, at any scroll position', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1000, max: 200_000 }), fc.integer({ min: 1, max: 80 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 20 }), (scrollTop, rowHeight, height, count, overscan) => {
        const { first, last } = rowWindow(scrollTop, rowHeight, height, count, overscan);
        expect(first).toBeGreaterThanOrEqual(0);
        expect(last).toBeLessThanOrEqual(count);
        if (count === 0) return;
        expect(last).toBeGreaterThan(first);
        // The rows the browser shows once it has clamped its scroll position.
        const top = Math.min(Math.max(0, scrollTop), Math.max(0, count * rowHeight - height));
        expect(first).toBeLessThanOrEqual(Math.floor(top / rowHeight));
        expect(last).toBeGreaterThanOrEqual(Math.min(count, Math.ceil((top + height) / rowHeight)));
      }),
    );
  });
});
