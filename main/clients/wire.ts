import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, constants, copyFileSync, existsSync, lstatSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { applyEdits, findNodeAtLocation, format, modify, parse, parseTree, type FormattingOptions, type Node, type ParseError } from 'jsonc-parser';
import { isMap, parseDocument, type YAMLMap } from 'yaml';
import { resolveDataDir } from '../config/data-dir.js';
import { gatewayEntry, valueAt, type FoundConfig } from './discover.js';

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
export function writeAtomic(file: string, text: string, options: { private?: boolean } = {}): void {
  if (existsSync(file) && lstatSync(file).isSymbolicLink()) throw new Error(`${file} is a symbolic link: not written over`);
  // `private`: readable by its owner only (secrets moved in from a client's file must not become readable to others).
  const mode = (existsSync(file) ? statSync(file).mode & 0o777 : 0o600) & (options.private ? 0o700 : 0o777);
  // A name nobody can guess, created only if nothing is there: a link planted beside the file is never followed.
  const tmp = join(dirname(file), `.${basename(file)}.gatehouse-${randomBytes(8).toString('hex')}.tmp`);
  writeFileSync(tmp, text, { mode, flag: 'wx' });
  try {
    chmodSync(tmp, mode);
    renameSync(tmp, file);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** A file's text, or undefined when it cannot be read (a backup removed by hand). */
function textIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function manifestFile(dataDir: string): string {
  return join(dataDir, 'clients', 'wiring.json');
}

/**
 * A copy of `file` as it is now, in the data directory's backups (0600), named for when and what. Never written
 * over: two files of the same name backed up in the same millisecond (a user's and a project's `mcp.json`)
 * get two backups.
 */
function keepBackup(dataDir: string, what: string, file: string, now: Date = new Date()): string {
  const dir = join(dataDir, 'clients', 'backups');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  for (let n = 1; ; n++) {
    const backup = join(dir, n === 1 ? `${stamp}-${what}` : `${stamp}-${n}-${what}`);
    try {
      copyFileSync(file, backup, constants.COPYFILE_EXCL);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && n < 1000) continue;
      throw err;
    }
    chmodSync(backup, 0o600);
    return backup;
  }
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

/** The fields of a client's entry that say how to reach the server: moved into gatehouse.yaml. */
const TRANSPORT_FIELDS = new Set(['type', 'command', 'args', 'env', 'cwd', 'url', 'serverUrl', 'httpUrl', 'headers', 'transport']);

/** The value of a JSON(C) text: JSON.parse where it is plain JSON (ten times faster on an 8 MB ~/.claude.json), else jsonc-parser's reading. */
function parseJsonc(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return parse(text, [] as ParseError[], { allowTrailingComma: true }) as unknown;
  }
}

/** How a JSON(C) text is formatted: its indentation and its line ends. */
function formattingOf(text: string): FormattingOptions {
  const m = /\n([ \t]+)"/.exec(text);
  const indent = !m ? { insertSpaces: true, tabSize: 2 } : (m[1] as string).startsWith('\t') ? { insertSpaces: false, tabSize: 1 } : { insertSpaces: true, tabSize: (m[1] as string).length };
  return { ...indent, eol: text.includes('\r\n') ? '\r\n' : '\n' };
}

const isEol = (text: string, i: number): boolean => text[i] === '\n' || text[i] === '\r';

/**
 * Sets the values at paths of a JSON(C) text that are there already, formatted as the rest of the file is: what
 * jsonc-parser's `modify` does for each, one after the other, but with the text parsed once. (`modify` parses
 * the whole text for every change: 200 servers in an 8 MB `~/.claude.json` took two minutes.) Each value is
 * replaced and formatted within its own lines, as `modify` formats it; changes on the same lines are made
 * together, from the last.
 */
export function setAll(text: string, changes: readonly { path: (string | number)[]; value: unknown }[]): string {
  const options = formattingOf(text);
  const tree = parseTree(text, [], { allowTrailingComma: true });
  const nodes = changes.map((c) => ({ node: tree && findNodeAtLocation(tree, c.path), value: c.value }));
  // A path that is not there yet is added by `modify` itself (never the case for wire and unwire, which replace entries).
  if (nodes.some((n) => n.node === undefined)) return changes.reduce((out, c) => applyEdits(out, modify(out, c.path, c.value, { formattingOptions: options })), text);
  const sorted = (nodes as { node: Node; value: unknown }[]).sort((a, b) => a.node.offset - b.node.offset);
  // Each change's lines, from the start of the line its value begins on to the end of the line it ends on; overlapping ones joined.
  const groups: { from: number; to: number; members: typeof sorted }[] = [];
  for (const n of sorted) {
    let from = n.node.offset;
    while (from > 0 && !isEol(text, from - 1)) from--;
    let to = n.node.offset + n.node.length;
    while (to < text.length && !isEol(text, to)) to++;
    const last = groups[groups.length - 1];
    if (last && from < last.to) {
      last.to = Math.max(last.to, to);
      last.members.push(n);
    } else groups.push({ from, to, members: [n] });
  }
  const parts: string[] = [];
  let done = 0;
  for (const g of groups) {
    let lines = text.slice(g.from, g.to);
    for (const { node, value } of [...g.members].reverse()) {
      const at = node.offset - g.from;
      const content = JSON.stringify(value);
      const replaced = lines.slice(0, at) + content + lines.slice(at + node.length);
      lines = applyEdits(replaced, format(replaced, { offset: at, length: content.length }, { ...options, keepLines: false }));
    }
    parts.push(text.slice(done, g.from), lines);
    done = g.to;
  }
  parts.push(text.slice(done));
  return parts.join('');
}

export interface WireResult {
  /** Servers now reached through Gatehouse, by the client's name → the gateway's name. */
  wired: { name: string; gatewayName: string }[];
  /** Servers imported into gatehouse.yaml under another name, because another client defines that name differently. */
  renamed: { name: string; gatewayName: string }[];
  /** Entries left as they are, and why (variables only the client fills in, a name the gateway refuses…). */
  skipped: { name: string; why: string }[];
  changed: boolean;
}

/**
 * Routes one client file's servers through Gatehouse: each server is imported into gatehouse.yaml (a name
 * another client defines differently gets a distinct one), and its entry in the client's file is rewritten to
 * start `gatehouse connect NAME`, so that no token is written into the file. Only those entries change (JSONC
 * edits: comments, order and formatting elsewhere stay byte for byte); the original is backed up first and the
 * write is atomic. Entries already through Gatehouse are left as they are: wiring twice changes nothing.
 */
export function wireFile(found: FoundConfig, options: { dataDir: string; configFile: string; shim: string[]; now?: Date; reserved?: Map<string, Record<string, unknown>> }): WireResult {
  if (found.error) throw new Error(found.error);
  const text = readFileSync(found.file, 'utf8');
  const skipped = found.servers.filter((s) => !s.viaGatehouse && s.unwireable).map((s) => ({ name: s.name, why: s.unwireable as string }));
  const todo = found.servers.filter((s) => !s.viaGatehouse && !s.unwireable);
  if (todo.length === 0) return { wired: [], renamed: [], skipped, changed: false };

  // gatehouse.yaml: imported with the yaml library's document API, so that its comments survive.
  const doc = parseDocument(readFileSync(options.configFile, 'utf8'));
  let servers = doc.get('servers');
  if (!isMap(servers)) {
    doc.set('servers', doc.createNode({}));
    servers = doc.get('servers');
  }
  const map = servers as YAMLMap;
  if (map.items.length === 0) map.flow = false;
  const result: WireResult = { wired: [], renamed: [], skipped, changed: true };
  // Names as the gateway reads them: a YAML key `8080` or `true` is the server "8080" or "true".
  const existing = new Map(Object.entries((map.toJSON() ?? {}) as Record<string, unknown>));
  const root = parseJsonc(text);
  const entries: WiredFile['entries'] = [];
  // A data directory other than the default one is named in the entry: the shim the client starts must find this gateway.
  const home = options.dataDir !== resolveDataDir({ ...process.env, GATEHOUSE_HOME: undefined }) ? { GATEHOUSE_HOME: options.dataDir } : undefined;
  for (const s of todo) {
    const wanted = gatewayEntry(s);
    let gatewayName = s.name;
    // Taken: defined differently in gatehouse.yaml, or (for a project's file) by one of the user's own files.
    const taken = (name: string): boolean => (existing.has(name) && !same(existing.get(name), wanted)) || (found.scope === 'project' && !existing.has(name) && options.reserved?.has(name) === true && !same(options.reserved.get(name), wanted));
    for (let n = 1; taken(gatewayName); n++) {
      const suffix = n === 1 ? `-${found.client}` : `-${found.client}-${n}`;
      gatewayName = `${s.name.slice(0, 64 - suffix.length)}${suffix}`; // within the gateway's 64 characters
    }
    if (!existing.has(gatewayName)) {
      map.set(gatewayName, doc.createNode(wanted));
      existing.set(gatewayName, wanted);
    }
    if (gatewayName !== s.name) result.renamed.push({ name: s.name, gatewayName });
    const original = valueAt(root, [...found.path, s.name]);
    // What the client itself reads stays (disabled, disabledTools, trust, timeout, excludeTools…); only how it reaches the server changes.
    const own = Object.fromEntries(Object.entries(original as Record<string, unknown>).filter(([k]) => !TRANSPORT_FIELDS.has(k)));
    const keepType = 'type' in (original as object);
    const wired = { ...(keepType ? { type: 'stdio' } : {}), command: options.shim[0], args: [...options.shim.slice(1), 'connect', gatewayName], ...(home ? { env: home } : {}), ...own };
    entries.push({ name: s.name, gatewayName, original, wired });
    result.wired.push({ name: s.name, gatewayName });
  }

  const out = setAll(
    text,
    entries.map((e) => ({ path: [...found.path, e.name], value: e.wired })),
  );

  // The backup first, then gatehouse.yaml, then the client's file: a failure part way leaves the original at hand.
  const backup = keepBackup(options.dataDir, `${found.client}-${basename(found.file)}`, found.file, options.now);
  writeAtomic(options.configFile, doc.toString(), { private: true });
  // The client may have written its file meanwhile (Claude Code does on every start): its edit is not overwritten.
  if (readFileSync(found.file, 'utf8') !== text) throw new Error('it changed while it was being wired (the client wrote it); nothing in it was changed: run wire again');
  // The record before the file: a crash between the two leaves a record of a wiring that did not land (unwire
  // sees the file is still the original and drops it), never a wired file that unwire knows nothing of.
  const manifest = readManifest(options.dataDir);
  const record: WiredFile = { client: found.client, file: found.file, path: found.path, wiredAt: (options.now ?? new Date()).toISOString(), backup, written: sha(out), entries };
  manifest.files.push(record);
  writeManifest(options.dataDir, manifest);
  try {
    writeAtomic(found.file, out);
  } catch (err) {
    writeManifest(options.dataDir, { files: readManifest(options.dataDir).files.filter((f) => f.backup !== record.backup || f.written !== record.written) });
    throw err;
  }
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
  const original = readFileSync(file, 'utf8');
  let text = original;
  const result: UnwireResult = { restored: [], conflicts: [], exact: true };
  const kept: WiredFile[] = [];
  // The file is as it was before some wiring (a crash after the restore, before the records were updated):
  // that wiring and every later one are undone already.
  const undoneFrom = records.findIndex((r) => textIfThere(r.backup) === text);
  const live = undoneFrom >= 0 ? records.slice(0, undoneFrom) : records;
  // Every wiring of this file, newest first (two scopes in one file, or wired again after the client added a server).
  for (const record of [...live].reverse()) {
    // The file is still what it was before this wiring: it never landed (a crash before the write), or was undone by hand.
    if (textIfThere(record.backup) === text) continue;
    if (sha(text) === record.written) {
      text = readFileSync(record.backup, 'utf8');
      result.restored.push(...record.entries.map((e) => e.name));
      continue;
    }
    result.exact = false;
    const errors: ParseError[] = [];
    const root = parse(text, errors, { allowTrailingComma: true }) as unknown;
    if (errors.length > 0) throw new Error(`${file} does not parse now; it is left as it is (its original is at ${record.backup})`);
    let conflicted = false;
    const restore: { path: (string | number)[]; value: unknown }[] = [];
    for (const e of record.entries) {
      const now = valueAt(root, [...record.path, e.name]);
      if (!same(now, e.wired)) {
        result.conflicts.push(e.name);
        conflicted = true;
        continue;
      }
      restore.push({ path: [...record.path, e.name], value: e.original });
      result.restored.push(e.name);
    }
    text = setAll(text, restore);
    // Kept while an entry is still in conflict: the backup stays listed, and unwire can be run again.
    if (conflicted) kept.push(record);
  }
  if (text !== original) {
    // A merged restore is a change of the client's file too: its state just before is kept beside the others.
    if (!result.exact) keepBackup(dataDir, `before-unwire-${basename(file)}`, file);
    writeAtomic(file, text);
  }
  manifest.files = manifest.files.filter((f) => f.file !== file || kept.includes(f));
  writeManifest(dataDir, manifest);
  return result;
}
