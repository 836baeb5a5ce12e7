import { describe, expect, it } from 'vitest';
import { segmentsToPrune, type SegmentInfo } from '../../../main/audit/retention.js';

const DAY = 86_400_000;
const seg = (name: string, bytes: number, ageDays: number, sealed = true): SegmentInfo => ({ name, bytes, lastTs: 100 * DAY - ageDays * DAY, sealed });
const now = 100 * DAY;

describe('retention', () => {
  const log = [seg('a', 100, 30), seg('b', 100, 20), seg('c', 100, 10), seg('d', 100, 0, false)];

  it('prunes nothing without a policy', () => expect(segmentsToPrune(log, {}, now)).toEqual([]));
  it('prunes segments older than maxAge, oldest first', () => expect(segmentsToPrune(log, { maxAge: 15 * DAY }, now)).toEqual(['a', 'b']));
  it('prunes the oldest until the log fits maxSize', () => expect(segmentsToPrune(log, { maxSize: 250 }, now)).toEqual(['a', 'b']));
  it('never prunes the newest segment, even when it alone is too big', () => expect(segmentsToPrune(log, { maxSize: 1 }, now)).toEqual(['a', 'b', 'c']));
  it('stops at an unsealed segment so that what remains is one chain', () => {
    expect(segmentsToPrune([seg('a', 100, 30), seg('b', 100, 30, false), seg('c', 100, 30), seg('d', 1, 0)], { maxAge: DAY }, now)).toEqual(['a']);
  });
  it('keeps a young segment even if an older one after it qualifies (prefix only)', () => {
    expect(segmentsToPrune([seg('a', 100, 1), seg('b', 100, 30), seg('c', 1, 0)], { maxAge: 15 * DAY }, now)).toEqual([]);
  });
});
