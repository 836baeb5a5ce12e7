import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { applyEdits, modify, parse, type ParseError } from 'jsonc-parser';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { valueAt, type ClientServer, type FoundConfig } from './discover.js';

/** What `wire` did to one client file, kept in the data directory so that `unwire` can put it back. */
export interface WiredFile {
  client: string;
  file: string;
  path: (string | number)[];
  wiredAt: string;
  /** The original file, byte for byte, in the data directory. */
  backup: string;
  /** SHA-256 of the file as wire wrote it: unchanged since, unwire restores the backup exactly. */
  written: string;
  entries: { name: string; gatewayName: string; original: unknown; wired: unknown }[];
}

interface Manifest {
  files: WiredFile[];
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** Writes a file whole or not at all (a temp file renamed over it), keeping its mode. */
export function writeAtomic(file: string, text: string): void {
  const mode = existsSync(file) ? statSync(file).mode & 0o777 : 0o600;
  const tmp = join(dirname(file), `.${basename(file)}.gatehouse-${process.pid}.tmp`);
  writeFileSync(tmp, text, { mode });
  chmodSync(tmp, mode);
  renameSync(tmp, file);
}

function manifestFile(dataDir: string): string {
  return join(dataDir, 'clients', 'wiring.json');
}

export function readManifest(dataDir: string): Manifest {
  try {
    const m = JSON.parse(readFileSync(manifestFile(dataDir), 'utf8')) as Manifest;
    return Array.isArray(m.files) ? m : { files: [] };
  } catch {
    return { files: [] };
  }
}

function writeManifest(dataDir: string, m: Manifest): void {
  mkdirSync(join(dataDir, 'clients'), { recursive: true, mode: 0o700 });
  writeAtomic(manifestFile(dataDir), JSON.stringify(m, null, 2) + '\n');
}

/** A server entry as gatehouse.yaml holds it. */
function gatewayEntry(s: ClientServer): Record<string, unknown> {
  if (s.kind === 'http') return { url: s.url, ...(s.headers && Object.keys(s.headers).length ? { headers: s.headers } : {}) };
  return { command: s.command, ...(s.args?.length ? { args: s.args } : {}), ...(s.env && Object.keys(s.env).length ? { env: s.env } : {}), ...(s.cwd ? { cwd: s.cwd } : {}) };
}

/** Sets the value at a path of a JSON(C) text, formatted as the rest of the file is (its indentation, its line ends). */
function setAt(text: string, path: (string | number)[], value: unknown): string {
  const m = /\n([ \t]+)"/.exec(text);
  const indent = !m ? { insertSpaces: true, tabSize: 2 } : (m[1] as string).startsWith('\t') ? { insertSpaces: false, tabSize: 1 } : { insertSpaces: true, tabSize: (m[1] as string).length };
  return applyEdits(text, modify(text, path, value, { formattingOptions: { ...indent, eol: text.includes('\r\n') ? '\r\n' : '\n' } }));
}

export interface WireResult {
  /** Servers now reached through Gatehouse, by the client's name → the gateway's name. */
  wired: { name: string; gatewayName: string }[];
  /** Servers imported into gatehouse.yaml under another name, because another client defines that name differently. */
  renamed: { name: string; gatewayName: string }[];
  changed: boolean;
}

/**
 * Routes one client file's servers through Gatehouse: each server is imported into gatehouse.yaml (a name
 * another client defines differently gets a distinct one), and its entry in the client's file is rewritten to
 * start `gatehouse connect NAME`, so that no token is written into the file. Only those entries change (JSONC
 * edits: comments, order and formatting elsewhere stay byte for byte); the original is backed up first and the
 * write is atomic. Entries already through Gatehouse are left as they are: wiring twice changes nothing.
 */
export function wireFile(found: FoundConfig, options: { dataDir: string; configFile: string; shim: string[]; now?: Date }): WireResult {
  if (found.error) throw new Error(found.error);
  const text = readFileSync(found.file, 'utf8');
  const todo = found.servers.filter((s) => !s.viaGatehouse);
  if (todo.length === 0) return { wired: [], renamed: [], changed: false };

  // gatehouse.yaml: imported with the yaml library's document API, so that its comments survive.
  const doc = parseDocument(readFileSync(options.configFile, 'utf8'));
  let servers = doc.get('servers');
  if (!isMap(servers)) {
    doc.set('servers', doc.createNode({}));
    servers = doc.get('servers');
  }
  const map = servers as YAMLMap;
  if (map.items.length === 0) map.flow = false;
  const result: WireResult = { wired: [], renamed: [], changed: true };
  const root = parse(text, [] as ParseError[], { allowTrailingComma: true }) as unknown;
  let out = text;
  const entries: WiredFile['entries'] = [];
  for (const s of todo) {
    const wanted = gatewayEntry(s);
    let gatewayName = s.name;
    for (let n = 1; map.has(gatewayName) && !same((doc.getIn(['servers', gatewayName]) as { toJSON?: () => unknown } | undefined)?.toJSON?.() ?? doc.getIn(['servers', gatewayName]), wanted); n++) {
      gatewayName = n === 1 ? `${s.name}-${found.client}` : `${s.name}-${found.client}-${n}`;
    }
    if (!map.has(gatewayName)) map.set(gatewayName, doc.createNode(wanted));
    if (gatewayName !== s.name) result.renamed.push({ name: s.name, gatewayName });
    const original = valueAt(root, [...found.path, s.name]);
    const keepType = original !== null && typeof original === 'object' && 'type' in original;
    const wired = { ...(keepType ? { type: 'stdio' } : {}), command: options.shim[0], args: [...options.shim.slice(1), 'connect', gatewayName] };
    out = setAt(out, [...found.path, s.name], wired);
    entries.push({ name: s.name, gatewayName, original, wired });
    result.wired.push({ name: s.name, gatewayName });
  }

  // The backup first, then gatehouse.yaml, then the client's file: a failure part way leaves the original at hand.
  const stamp = (options.now ?? new Date()).toISOString().replace(/[:.]/g, '-');
  const backup = join(options.dataDir, 'clients', 'backups', `${stamp}-${found.client}-${basename(found.file)}`);
  mkdirSync(dirname(backup), { recursive: true, mode: 0o700 });
  copyFileSync(found.file, backup);
  chmodSync(backup, 0o600);
  writeAtomic(options.configFile, doc.toString());
  writeAtomic(found.file, out);
  const manifest = readManifest(options.dataDir);
  manifest.files.push({ client: found.client, file: found.file, path: found.path, wiredAt: (options.now ?? new Date()).toISOString(), backup, written: sha(out), entries });
  writeManifest(options.dataDir, manifest);
  return result;
}

export interface UnwireResult {
  restored: string[];
  /** Entries the client itself changed since wiring: left as the client has them. */
  conflicts: string[];
  /** The file was as wire left it, and is now byte for byte the original. */
  exact: boolean;
}

/**
 * Puts a wired client file back. Unchanged since wiring: the backup is written back, byte for byte. Changed by
 * the client meanwhile: only the wired entries are restored, each where it still is as wire wrote it (the
 * client's own edits stay); an entry the client changed itself is a conflict, reported and left alone.
 */
export function unwireFile(dataDir: string, file: string): UnwireResult {
  const manifest = readManifest(dataDir);
  const records = manifest.files.filter((f) => f.file === file);
  if (records.length === 0) throw new Error(`${file} was not wired by Gatehouse (nothing to put back)`);
  const record = records[records.length - 1] as WiredFile;
  const text = readFileSync(file, 'utf8');
  const result: UnwireResult = { restored: [], conflicts: [], exact: false };
  if (sha(text) === record.written) {
    writeAtomic(file, readFileSync(record.backup, 'utf8'));
    result.exact = true;
    result.restored = record.entries.map((e) => e.name);
  } else {
    const errors: ParseError[] = [];
    const root = parse(text, errors, { allowTrailingComma: true }) as unknown;
    if (errors.length > 0) throw new Error(`${file} does not parse now; it is left as it is (its original is at ${record.backup})`);
    let out = text;
    for (const e of record.entries) {
      const now = valueAt(root, [...record.path, e.name]);
      if (!same(now, e.wired)) {
        result.conflicts.push(e.name);
        continue;
      }
      out = setAt(out, [...record.path, e.name], e.original);
      result.restored.push(e.name);
    }
    writeAtomic(file, out);
  }
  manifest.files = manifest.files.filter((f) => f !== record);
  writeManifest(dataDir, manifest);
  return result;
}
