/*
 * DESIGN.md's layout, as the imports must keep it. Attacks on it are edits, not intruders: a decision module
 * that starts building JSON-RPC answers (importing the gateway), a shell dependency creeping into the core,
 * `electron` imported outside desktop/, and import circles (a schema that compiles through the policy that
 * imports the schema; a factory beside the interface its implementations import).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const MAIN = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'main');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sources(path) : name.endsWith('.ts') ? [path] : [];
  });
}

/** Every import of every module under main/, type-only ones too, relative ones resolved to files. */
const graph = new Map<string, { relative: string[]; packages: string[] }>();
for (const file of sources(MAIN)) {
  const text = readFileSync(file, 'utf8');
  const specs = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2]) as string);
  graph.set(relative(MAIN, file), {
    relative: specs.filter((s) => s.startsWith('.')).map((s) => relative(MAIN, resolve(dirname(file), s.replace(/\.js$/, '.ts')))),
    packages: specs.filter((s) => !s.startsWith('.')),
  });
}
const folder = (module: string) => module.split('/')[0] as string;

describe('the layout of main/', () => {
  // api/types.ts is the shape the UI sees (types only, no code): views may be built to it.
  it.each(['policy', 'masking', 'approvals', 'audit'])('%s/ takes and returns plain data: it imports nothing from gateway/ or a shell', (core) => {
    const offending = [...graph]
      .filter(([m]) => folder(m) === core)
      .flatMap(([m, deps]) => deps.relative.filter((d) => d !== 'api/types.ts' && ['gateway', 'api', 'cli', 'web', 'desktop'].includes(folder(d))).map((d) => `${m} -> ${d}`));
    expect(offending).toEqual([]);
  });

  it('the core depends on no shell (cli/, web/, desktop/)', () => {
    const core = ['gateway', 'policy', 'masking', 'approvals', 'audit', 'config', 'identity', 'clients'];
    const offending = [...graph].filter(([m]) => core.includes(folder(m))).flatMap(([m, deps]) => deps.relative.filter((d) => ['cli', 'web', 'desktop'].includes(folder(d))).map((d) => `${m} -> ${d}`));
    expect(offending).toEqual([]);
  });

  it('only desktop/ imports electron', () => {
    const offending = [...graph].filter(([m, deps]) => folder(m) !== 'desktop' && deps.packages.some((p) => p === 'electron' || p.startsWith('electron/'))).map(([m]) => m);
    expect(offending).toEqual([]);
  });

  it("the stdio shim's entry loads no MCP SDK and no zod (a client starts one shim per session)", () => {
    const runtimeImports = (module: string) => {
      const text = readFileSync(join(MAIN, module), 'utf8');
      return [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s(?!type\s)[^'"]*?from\s+['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g)].map((m) => (m[1] ?? m[2]) as string);
    };
    const reached = new Set<string>();
    const packages = new Set<string>();
    const visit = (module: string) => {
      if (reached.has(module)) return;
      reached.add(module);
      for (const spec of runtimeImports(module)) {
        if (spec.startsWith('.')) visit(relative(MAIN, resolve(dirname(join(MAIN, module)), spec.replace(/\.js$/, '.ts'))));
        else packages.add(spec);
      }
    };
    visit('cli/connect-main.ts');
    expect([...packages].filter((p) => !p.startsWith('node:'))).toEqual([]);
  });

  it('has no import circles', () => {
    const circles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (m: string, path: string[]) => {
      if (state.get(m) === 'done') return;
      if (state.get(m) === 'open') return void circles.push([...path.slice(path.indexOf(m)), m].join(' -> '));
      state.set(m, 'open');
      for (const d of graph.get(m)?.relative ?? []) if (graph.has(d)) visit(d, [...path, m]);
      state.set(m, 'done');
    };
    for (const m of graph.keys()) visit(m, []);
    expect(circles).toEqual([]);
  });
});
