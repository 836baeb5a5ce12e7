import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import type { z } from 'zod';
import { DEFAULT_CONFIG_YAML } from './default-config.js';
import { configSchema, type GatehouseConfig } from './schema.js';

export interface ConfigProblem {
  file: string;
  line: number;
  column: number;
  /** Dotted key path, e.g. `policy.rules[2].action`; empty for the whole file. */
  key: string;
  message: string;
}

/** A config that does not validate: every problem with file, line and key, ready to print. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ConfigError';
  }
}

/** A config file named explicitly (`--config FILE`) that is not there: never created in its place. */
export class ConfigFileMissing extends Error {
  constructor(readonly file: string) {
    super(`${file}: no such config file (\`--config\` names a file that exists; without it, gatehouse.yaml in the data directory is written on first run)`);
    this.name = 'ConfigFileMissing';
  }
}

export function formatProblem(p: ConfigProblem): string {
  return `${p.file}:${p.line}${p.key ? ` ${p.key}` : ''}: ${p.message}`;
}

export function configPath(dataDir: string, override?: string): string {
  return override ?? join(dataDir, 'gatehouse.yaml');
}

/** Reads and validates the config file, writing the commented default first if it does not exist. */
export function loadConfigFile(file: string, options: { create?: boolean } = {}): GatehouseConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && options.create === false) throw new ConfigFileMissing(file);
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new ConfigError([
        { file, line: 0, column: 0, key: '', message: `cannot read the config: ${(err as Error).message}` },
      ]);
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, DEFAULT_CONFIG_YAML, { mode: 0o600, flag: 'wx' });
    text = DEFAULT_CONFIG_YAML;
  }
  return withPathsFrom(dirname(file), parseConfig(text, file));
}

/** The files a config names, relative to the config file's folder (the app's working folder is anyone's guess). */
function withPathsFrom(dir: string, config: GatehouseConfig): GatehouseConfig {
  const tls = config.forwarding?.tls;
  if (!config.forwarding || !tls) return config;
  const at = (p: string | undefined) => (p === undefined ? undefined : resolve(dir, p));
  return { ...config, forwarding: { ...config.forwarding, tls: { ca: at(tls.ca), cert: at(tls.cert), key: at(tls.key) } } };
}

/** Parses and validates config text; throws ConfigError naming file, line and key. Never returns a half-read config. */
export function parseConfig(text: string, file = 'gatehouse.yaml'): GatehouseConfig {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { file, line: pos.line, column: pos.col, key: '', message: `YAML: ${e.message.split('\n')[0]}` };
      }),
    );
  }
  const raw: unknown = doc.toJS() ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError([{ file, line: 1, column: 1, key: '', message: 'the config must be a YAML mapping (key: value)' }]);
  }
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap((issue) => specific(issue, [])).map((issue) => toProblem(issue, doc, lineCounter, file)));
}

/**
 * The issues a person can act on. A server entry matches neither kind: the kind its keys say it is (`url` → HTTP,
 * else stdio) is the one whose problems are shown, at their own keys, instead of "needs command or url". An
 * unknown-keys issue becomes one per key, each at its own line.
 */
function specific(issue: z.core.$ZodIssue, prefix: PropertyKey[]): z.core.$ZodIssue[] {
  const at = { ...issue, path: [...prefix, ...issue.path] } as z.core.$ZodIssue;
  if (at.code === 'invalid_union' && at.errors.length === 2) {
    const input = at.input as Record<string, unknown> | undefined;
    if (input !== null && typeof input === 'object' && !Array.isArray(input)) {
      if ('url' in input && 'command' in input) return [{ ...at, code: 'custom', message: 'a server has either `command` (stdio) or `url` (Streamable HTTP / SSE), not both' } as z.core.$ZodIssue];
      const branch = 'url' in input ? 1 : 0;
      const chosen = (at.errors[branch] ?? []).flatMap((i) => specific(i, at.path));
      // Neither `command` nor `url`: the branch would only say `command` is required; the unknown keys say more.
      if (!('url' in input) && !('command' in input)) {
        const unknown = chosen.filter((i) => i.code === 'unrecognized_keys');
        return [{ ...at, code: 'custom', message: 'a server needs either `command` (stdio) or `url` (Streamable HTTP / SSE)' } as z.core.$ZodIssue, ...unknown];
      }
      if (chosen.length > 0) return chosen;
    }
  }
  if (at.code === 'unrecognized_keys' && at.keys.length > 1) return at.keys.map((k) => ({ ...at, keys: [k] }));
  return [at];
}

function toProblem(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, file: string): ConfigProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const extra = issue.code === 'unrecognized_keys' ? issue.keys : [];
  // Point at the offending key itself when it is an unknown key, else at the deepest node that exists.
  const where = locate(doc, extra.length === 1 ? [...path, extra[0] as string] : path, lines);
  return { file, line: where.line, column: where.col, key: formatPath(extra.length === 1 ? [...path, extra[0] as string] : path), message: describeIssue(issue) };
}

/** Every key name the config knows, anywhere: what an unknown key is compared with for a "did you mean". */
const KNOWN_KEYS = ((): string[] => {
  const keys = new Set<string>();
  const seen = new Set<unknown>();
  const walk = (schema: unknown, depth: number): void => {
    if (depth > 20 || schema === null || typeof schema !== 'object' || seen.has(schema)) return;
    seen.add(schema);
    const def = (schema as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    if (def.type === 'object') {
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
        keys.add(k);
        walk(v, depth + 1);
      }
    }
    for (const field of ['innerType', 'in', 'out', 'valueType', 'element', 'schema']) walk(def[field], depth + 1);
    if (Array.isArray(def.options)) for (const o of def.options) walk(o, depth + 1);
  };
  walk(configSchema, 0);
  return [...keys];
})();

/** Edit distance with swaps of neighbours (`prot` → `port` is one), ignoring case: key names are short. */
function distance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) => Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let best = Math.min((d[i - 1]?.[j] ?? 0) + 1, (d[i]?.[j - 1] ?? 0) + 1, (d[i - 1]?.[j - 1] ?? 0) + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) best = Math.min(best, (d[i - 2]?.[j - 2] ?? 0) + 1);
      (d[i] as number[])[j] = best;
    }
  }
  return (d[x.length] as number[])[y.length] as number;
}

/** The known key an unknown one most likely meant (`comand` → `command`), if one is close. */
export function likelyKey(unknown: string): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(1, Math.min(2, Math.floor(unknown.length / 3)));
  for (const k of KNOWN_KEYS) {
    if (k === unknown) continue;
    // Only the case differs (`batchsize`): the likeliest of all.
    const d = distance(unknown, k) || 0.5;
    if (d <= bestDistance && (best === undefined || d < (distance(unknown, best) || 0.5))) [best, bestDistance] = [k, d];
  }
  return best;
}

function locate(doc: Document, path: (string | number)[], lines: LineCounter): { line: number; col: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const sub = path.slice(0, depth);
    const node = sub.length === 0 ? doc.contents : doc.getIn(sub, true);
    if (isNode(node) && node.range) {
      // For a key that names an unknown option, the key's own position is more useful than its value's.
      const pair = depth > 0 && depth === path.length ? findKeyNode(doc, sub) : undefined;
      const offset = pair ?? node.range[0];
      return lines.linePos(offset);
    }
  }
  return { line: 1, col: 1 };
}

function findKeyNode(doc: Document, path: (string | number)[]): number | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  const last = path[path.length - 1];
  if (parent && typeof parent === 'object' && 'items' in parent && Array.isArray(parent.items)) {
    for (const item of parent.items as unknown[]) {
      if (item && typeof item === 'object' && 'key' in item) {
        const key = (item as { key: unknown }).key;
        if (isNode(key) && key.range && (key as { value?: unknown }).value === last) return key.range[0];
      }
    }
  }
  return undefined;
}

export function formatPath(path: (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const input = 'input' in issue ? issue.input : undefined;
  switch (issue.code) {
    case 'invalid_value':
      return `${JSON.stringify(input)} is not one of ${issue.values.map(String).join(', ')}`;
    case 'unrecognized_keys': {
      const guess = issue.keys.length === 1 ? likelyKey(issue.keys[0] as string) : undefined;
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}${guess ? ` (did you mean "${guess}"?)` : ''}`;
    }
    case 'invalid_type':
      return input === undefined ? `is required (${issue.expected})` : `expected ${issue.expected}, got ${describeValue(input)}`;
    case 'invalid_key':
      return issue.issues[0]?.message ?? issue.message;
    case 'too_small':
    case 'too_big':
    case 'invalid_format':
    case 'custom':
    case 'invalid_union':
    default:
      return issue.message;
  }
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `${typeof value} ${JSON.stringify(value)}`;
}
