import { describe, expect, it } from 'vitest';
import { parseDuration, parseSize } from '../../../main/config/units.js';

describe('durations and sizes', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1.5h', 5_400_000],
    ['7d', 604_800_000],
    [' 10 s ', 10_000],
  ])('%s is %d ms', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['', 'soon', '10', '5 minutes', '-1s', '1w'])('%j is not a duration', (text) => expect(parseDuration(text)).toBeUndefined());

  it.each([
    ['1024', 1024],
    ['512KiB', 524_288],
    ['32MiB', 33_554_432],
    ['1GB', 1_000_000_000],
    ['2mb', 2_000_000],
  ])('%s is %d bytes', (text, bytes) => expect(parseSize(text)).toBe(bytes));

  it.each(['', 'lots', '5 TB', '-1'])('%j is not a size', (text) => expect(parseSize(text)).toBeUndefined());
});
