/*
 * The README's CLI table is the newcomer's reference: what went wrong before was a table split by blank lines
 * (it stopped rendering from `policy check` on), commands missing from it, and options a command takes that the
 * README never named. So, read from the code itself: every command is a row of one unbroken table, and every
 * option in a command's usage line is named in the README's text for it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../main/cli/index.js';

const readme = readFileSync(join(import.meta.dirname, '../../../README.md'), 'utf8');
const section = readme.slice(readme.indexOf('\n## CLI\n'), readme.indexOf('\n## ', readme.indexOf('\n## CLI\n') + 5));
const lines = section.split('\n');
const first = lines.findIndex((l) => l.startsWith('|'));
const rows = lines.slice(first, lines.findIndex((l, i) => i > first && !l.startsWith('|')));

describe("the README's CLI table", () => {
  it('is one table: no line inside it breaks it; the options every command takes are said above it', () => {
    expect(section).toMatch(/Every command takes `--help` and `--config FILE`/);
    expect(first).toBeGreaterThan(0);
    expect(lines.slice(first + rows.length).some((l) => l.startsWith('|')), 'a second table after a break').toBe(false);
  });

  it.each(Object.entries(COMMANDS))('names `gatehouse %s` and every option its usage line takes', (name, command) => {
    const row = rows.filter((r) => r.includes(`\`gatehouse ${name}`) || r.includes(`/ \`gatehouse ${name}`)).join('\n');
    expect(row, `no row for gatehouse ${name}`).not.toBe('');
    // --config and --help are every command's, said once above the table.
    for (const option of command.usage.match(/--[a-z][a-z-]*/g) ?? []) if (option !== '--config') expect(row, `${name}: ${option}`).toContain(option);
  });
});
