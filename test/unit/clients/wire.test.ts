/*
 * The backup wire keeps of each file before it changes it: the way back when everything else fails. What
 * would lose one: two files of the same name (Cursor's ~/.cursor/mcp.json and the project's .cursor/mcp.json)
 * wired in the same millisecond, the second backup written over the first.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { applyEdits, modify } from 'jsonc-parser';
import { afterAll, describe, expect, it } from 'vitest';
import { discoverClients } from '../../../main/clients/discover.js';
import { setAll, wireFile } from '../../../main/clients/wire.js';
import { put } from '../../helpers/temp-home.js';

const root = mkdtempSync(join(tmpdir(), 'gatehouse-wire-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('wire keeps a backup of every file it changes', () => {
  it('two files of the same name wired in the same millisecond: two backups, each the file as it was', () => {
    const home = join(root, 'home');
    const cwd = join(root, 'project');
    const dataDir = join(root, 'data');
    const user = join(home, '.cursor', 'mcp.json');
    const project = join(cwd, '.cursor', 'mcp.json');
    put(user, JSON.stringify({ mcpServers: { mine: { command: 'node', args: ['mine.js'] } } }, null, 2));
    put(project, JSON.stringify({ mcpServers: { theirs: { command: 'node', args: ['theirs.js'] } } }, null, 2));
    const originals = new Map([user, project].map((f) => [f, readFileSync(f, 'utf8')]));
    const found = discoverClients({ os: 'linux', home, cwd }).filter((f) => f.client === 'cursor');
    expect(found.map((f) => f.file).sort()).toEqual([project, user].sort());
    put(join(dataDir, 'gatehouse.yaml'), 'servers: {}\n');
    const now = new Date('2026-12-03T07:00:00.000Z');
    for (const f of found) wireFile(f, { dataDir, configFile: join(dataDir, 'gatehouse.yaml'), shim: ['gatehouse'], now });
    const backups = readdirSync(join(dataDir, 'clients', 'backups')).map((n) => readFileSync(join(dataDir, 'clients', 'backups', n), 'utf8'));
    expect(backups.sort()).toEqual([...originals.values()].sort());
  });
});

// Many entries of one file are changed in one pass (jsonc-parser's `modify` parses the whole file for each: two
// minutes for 200 servers in an 8 MB ~/.claude.json). What that pass could get wrong is the file itself: an
// entry's formatting, a comment or a neighbour on the same line. So it is held to `modify`, one change after
// the other, on generated files in every layout a client writes (indented by spaces or tabs, on one line, CRLF,
// comments and trailing commas).
describe('setAll', () => {
  const entry = fc.record({ command: fc.constantFrom('npx', 'node', 'uvx'), args: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }) }, { requiredKeys: ['command'] });
  it('writes what modify writes, change after change', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f'), { minLength: 1, maxLength: 6 }),
        fc.constantFrom<[string | number, string]>([2, '\n'], [4, '\n'], ['\t', '\n'], [2, '\r\n'], [0, '\n']),
        fc.boolean(),
        fc.array(fc.oneof(entry, fc.jsonValue()), { minLength: 6, maxLength: 6 }),
        fc.array(fc.boolean(), { minLength: 6, maxLength: 6 }),
        (names, [indent, eol], comments, values, chosen) => {
          const servers = Object.fromEntries(names.map((n, i) => [n, { command: `cmd-${i}`, args: ['x', String(i)] }]));
          let text = JSON.stringify({ theme: 'dark', mcpServers: servers, tail: [1, 2] }, null, indent === 0 ? undefined : indent).replace(/\n/g, eol);
          if (comments) text = text.replace(`"tail"`, `// kept${eol}  "tail"`).replace(/\]\s*\}\s*$/, `],${eol}}${eol}`);
          const changes = names.filter((_, i) => chosen[i]).map((n, i) => ({ path: ['mcpServers', n], value: values[i] }));
          const options = { formattingOptions: (() => {
            const m = /\n([ \t]+)"/.exec(text);
            return !m ? { insertSpaces: true, tabSize: 2, eol: text.includes('\r\n') ? '\r\n' : '\n' } : { insertSpaces: !(m[1] as string).startsWith('\t'), tabSize: (m[1] as string).startsWith('\t') ? 1 : (m[1] as string).length, eol: text.includes('\r\n') ? '\r\n' : '\n' };
          })() };
          const expected = changes.reduce((out, c) => applyEdits(out, modify(out, c.path, c.value, options)), text);
          expect(setAll(text, changes)).toBe(expected);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
