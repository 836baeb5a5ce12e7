import { describe, expect, it } from 'vitest';
import { valuesAt } from '../../../main/policy/json-path.js';
import { globMatch } from '../../../main/policy/glob.js';

const doc = { sql: 'select', options: { mode: 'fast', tags: ['a', 'b'] }, files: [{ path: '/a' }, { path: '/b' }], n: 3 };

describe('argument paths', () => {
  it.each([
    ['sql', ['select']],
    ['options.mode', ['fast']],
    ['$.options.mode', ['fast']],
    ['options.tags[1]', ['b']],
    ['options.tags[*]', ['a', 'b']],
    ['files[*].path', ['/a', '/b']],
    ['files[0].path', ['/a']],
    ['missing', []],
    ['options.mode.deeper', []],
    ['*', ['select', 'fast', 'a', 'b', '/a', '/b', 3]],
  ])('%s', (path, expected) => expect(valuesAt(doc, path)).toEqual(expected));
});

describe('globs', () => {
  it.each([
    ['*', 'anything', true],
    ['read_*', 'read_file', true],
    ['read_*', 'write_file', false],
    ['*_file', 'read_file', true],
    ['exact', 'exact', true],
    ['exact', 'exactly', false],
    ['a.b', 'aXb', false],
    ['files-*-prod', 'files-eu-prod', true],
  ])('%s ~ %s = %s', (pattern, value, expected) => expect(globMatch(pattern, value)).toBe(expected));
});
