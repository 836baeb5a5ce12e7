import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || options.create === false) {
      throw new ConfigError([
        { file, line: 0, column: 0, key: '', message: `cannot read the config: ${(err as Error).message}` },
      ]);
    }
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, DEFAULT_CONFIG_YAML, { mode: 0o600, flag: 'wx' });
    text = DEFAULT_CONFIG_YAML;
  }
  return parseConfig(text, file);
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
  throw new ConfigError(result.error.issues.map((issue) => toProblem(issue, doc, lineCounter, file)));
}

function toProblem(issue: z.core.$ZodIssue, doc: Document, lines: LineCounter, file: string): ConfigProblem {
  const path = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
  const extra = issue.code === 'unrecognized_keys' ? issue.keys : [];
  // Point at the offending key itself when it is an unknown key, else at the deepest node that exists.
  const where = locate(doc, extra.length === 1 ? [...path, extra[0] as string] : path, lines);
  return { file, line: where.line, column: where.col, key: formatPath(path), message: describeIssue(issue) };
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
    case 'unrecognized_keys':
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
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
