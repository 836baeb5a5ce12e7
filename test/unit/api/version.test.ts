import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { VERSION } from '../../../main/api/version.js';

describe('VERSION', () => {
  it('is package.json\'s version', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')).version);
  });
});
