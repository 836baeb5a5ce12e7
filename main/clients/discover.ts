import { isUtf8 } from 'node:buffer';
import { existsSync, lstatSync, readFileSync, realpathSync } from 'node:fs';
import { delimiter, isAbsolute, join, relative } from 'node:path';
import { findNodeAtLocation, getNodeValue, parseTree, printParseErrorCode, type Node, type ParseError } from 'jsonc-parser';
import { SERVER_NAME, serverSchema } from '../config/schema.js';
import { isShim } from './shim.js';
import { CLIENT_NAMES, configLocations, type ClientId, type ConfigLocation, type Platform } from './client-catalogue.js';

/** A server as a client's config defines it: a command to start (stdio), or a URL (HTTP). */
export interface ClientServer {
  name: string;
  kind: 'stdio' | 'http';
  command?: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  url?: string;
  headers?: Record<string, string>;
  /** The HTTP transport the client's entry names (`type: "sse"`, Gemini's `httpUrl`); else the gateway tries both. */
  transport?: 'streamable-http' | 'sse';
  /** Already reaches its server through Gatehouse (`gatehouse connect NAME`, or the gateway's endpoint). */
  viaGatehouse: boolean;
  /** Why this entry cannot be wired as it stands (what only the client resolves, a name the gateway refuses): it is left alone. */
  unwireable?: string;
}

/** A server entry as gatehouse.yaml holds it. */
export function gatewayEntry(s: ClientServer): Record<string, unknown> {
  if (s.kind === 'http') return { url: s.url, ...(s.transport ? { transport: s.transport } : {}), ...(s.headers && Object.keys(s.headers).length ? { headers: s.headers } : {}) };
  return { command: s.command, ...(s.args?.length ? { args: s.args } : {}), ...(s.env && Object.keys(s.env).length ? { env: s.env } : {}), ...(s.cwd ? { cwd: s.cwd } : {}) };
}

/** What only the client resolves: its variables (`${input:key}`, `${workspaceFolder}`, `$TOKEN`) and an env file. */
const CLIENT_VARIABLE = /\$\{[^}]*\}|^\$[A-Za-z_]/;

function unwireableReason(name: string, e: Record<string, unknown>, server: ClientServer): string | undefined {
  if (!SERVER_NAME.test(name)) return 'its name is not one the gateway takes (letters, digits, ".", "_" and "-", at most 64)';
  if (e.args !== undefined && server.args === undefined) return 'its args are not all strings';
  if (e.env !== undefined && server.env === undefined) return 'its env values are not all strings';
  if (e.headers !== undefined && server.headers === undefined) return 'its headers are not all strings';
  if (e.envFile !== undefined) return 'it reads an envFile, which only the client loads';
  const words = [server.command, ...(server.args ?? []), ...Object.values(server.env ?? {}), server.cwd, server.url, ...Object.values(server.headers ?? {})].filter((w): w is string => w !== undefined);
  if (words.some((w) => CLIENT_VARIABLE.test(w))) return 'it uses variables only the client fills in (${…} or $NAME)';
  if (server.kind === 'stdio' && [server.command, ...(server.args ?? []), server.cwd].some((w) => w !== undefined && /^\.\.?(?:[\\/]|$)/.test(w))) return 'it uses a relative path, which means the client\'s own folder';
  // What gatehouse.yaml would hold must be what the gateway takes: an entry it refuses would stop it from starting.
  const checked = serverSchema.safeParse(gatewayEntry(server));
  if (!checked.success) return `the gateway would refuse it (${checked.error.issues[0]?.message ?? 'not a server entry'})`;
  return undefined;
}

/** One config file of one client, as found. */
export interface FoundConfig extends ConfigLocation {
  clientName: string;
  servers: ClientServer[];
  /** The file exists but cannot be read as JSON(C): what is wrong, and where. It is left alone. */
  error?: string;
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) && value.every((v) => typeof v === 'string') ? (value as string[]) : undefined);
const stringMap = (value: unknown): Record<string, string> | undefined =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.values(value).every((v) => typeof v === 'string') ? (value as Record<string, string>) : undefined;

/** Whether an entry already goes through Gatehouse: the shim, or an endpoint on the loopback gateway (on its port, where that is known). */
function throughGatehouse(entry: { command?: string; args?: string[]; url?: string }, gatewayPort: number | undefined): boolean {
  if (entry.command !== undefined && isShim([entry.command, ...(entry.args ?? [])])) return true;
  return entry.url !== undefined && gatewayEndpoint(entry.url, gatewayPort);
}

/** The port a gateway URL names (undefined for none, or 0). */
export function gatewayPortOf(url: string): number | undefined {
  const port = Number(new URL(url).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}

/**
 * Whether a URL is one of the gateway's endpoints, however it is spelled (`HTTP://LOCALHOST`, `127.1`,
 * `0.0.0.0`, `[::ffff:127.0.0.1]`, `/mcp/x/../x`, `//mcp/x`): read as an HTTP client reads it. An endpoint
 * missed here would be imported as an upstream, and the gateway would proxy to itself.
 */
export function gatewayEndpoint(url: string, gatewayPort: number | undefined): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  const host = u.hostname.replace(/\.$/, '').toLowerCase();
  const loopback = host === 'localhost' || host === '0.0.0.0' || host === '[::1]' || host === '[::]' || /^127\./.test(host) || /^\[::ffff:(?:7f[0-9a-f]{2}:[0-9a-f]{1,4}|127\.)/.test(host);
  const port = Number(u.port || (u.protocol === 'https:' ? 443 : 80));
  return (u.protocol === 'http:' || u.protocol === 'https:') && loopback && /^\/+mcp\/+[^/]+\/*$/.test(u.pathname) && (gatewayPort === undefined || gatewayPort === 0 || port === gatewayPort);
}

/**
 * For an entry that starts the shim: what it starts that is no longer there (Gatehouse moved, or was removed),
 * or undefined. A bare command name is looked for on the PATH, as the client would.
 */
export function missingShim(server: ClientServer, path: string | undefined = process.env.PATH): string | undefined {
  if (!server.viaGatehouse || server.kind !== 'stdio') return undefined;
  const words = [server.command ?? '', ...(server.args ?? [])];
  for (const w of words.slice(0, words.lastIndexOf('connect')).filter((x) => !x.startsWith('-'))) {
    if (isAbsolute(w) ? !existsSync(w) : !/[\\/]/.test(w) && !(path ?? '').split(delimiter).some((dir) => dir !== '' && ['', '.cmd', '.exe'].some((ext) => existsSync(join(dir, w + ext))))) return w;
  }
  return undefined;
}

const URL_TYPES: Record<string, 'streamable-http' | 'sse'> = { http: 'streamable-http', 'streamable-http': 'streamable-http', streamableHttp: 'streamable-http', sse: 'sse' };

/**
 * Which server an entry starts, read the way its client reads it: an explicit `type` decides (`stdio`, or a URL
 * type); without one, Gemini CLI takes `httpUrl` (streamable HTTP), then `url`, then `command`, and the other
 * clients take `command`, then their URL field (`url`, Windsurf's `serverUrl`). Undefined for an entry the client
 * would not start.
 */
function transportOf(e: Record<string, unknown>, client: ClientId | undefined): { command: string } | { url: string; transport?: 'streamable-http' | 'sse' } | undefined {
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const command = text(e.command);
  const httpUrl = client === 'gemini' ? text(e.httpUrl) : undefined;
  const url = text(e.url) ?? text(e.serverUrl) ?? text(e.httpUrl);
  const type = text(e.type);
  if (httpUrl) return { url: httpUrl, transport: 'streamable-http' };
  if (type === 'stdio') return command ? { command } : undefined;
  if (type !== undefined && Object.hasOwn(URL_TYPES, type)) return url ? { url, transport: URL_TYPES[type] as 'streamable-http' | 'sse' } : undefined;
  if (client === 'gemini' && url) return { url };
  if (command) return { command };
  return url ? { url } : undefined;
}

/** The servers under a config's server object, as `client` writes and reads them (see transportOf). */
export function serversIn(value: unknown, gatewayPort?: number, client?: ClientId): ClientServer[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: ClientServer[] = [];
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    const target = transportOf(e, client);
    if (!target) continue;
    const args = strings(e.args);
    const env = stringMap(e.env);
    const headers = stringMap(e.headers);
    const server: ClientServer =
      'command' in target
        ? { name, kind: 'stdio', command: target.command, ...(args ? { args } : {}), ...(env ? { env } : {}), ...(typeof e.cwd === 'string' ? { cwd: e.cwd } : {}), viaGatehouse: false }
        : { name, kind: 'http', url: target.url, ...(target.transport ? { transport: target.transport } : {}), ...(headers ? { headers } : {}), viaGatehouse: false };
    server.viaGatehouse = throughGatehouse(server, gatewayPort);
    const why = server.viaGatehouse ? undefined : unwireableReason(name, e, server);
    if (why) server.unwireable = why;
    out.push(server);
  }
  return out;
}

/** The value at a path of a parsed config, or undefined. */
export function valueAt(root: unknown, path: (string | number)[]): unknown {
  let v = root;
  for (const key of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string | number, unknown>)[key];
  }
  return v;
}

/** Reads one location: undefined when its file does not exist; an error (and no servers) when it does not parse. */
export function readLocation(location: ConfigLocation, options: DiscoverOptions = {}): FoundConfig | undefined {
  const read = options.read ?? readIfThere;
  const base = { ...location, clientName: CLIENT_NAMES[location.client] };
  const refused = (why: string): FoundConfig => ({ ...base, servers: [], error: `${location.file}: ${why}; it is left as it is` });
  let text: string | undefined;
  const errors: ParseError[] = [];
  let tree: Node | undefined;
  try {
    text = read(location.file);
    if (text === undefined) return undefined;
    if (text.startsWith('\ufeff')) return refused('it starts with a byte-order mark, which Gatehouse does not rewrite (save it as UTF-8 without one to wire it)');
    const parsed = options.parsed?.get(location.file);
    if (parsed?.text === text) {
      tree = parsed.tree;
      errors.push(...parsed.errors);
    } else {
      tree = text.trim() === '' ? undefined : parseTree(text, errors, { allowTrailingComma: true, disallowComments: false });
      options.parsed?.set(location.file, { text, tree, errors: [...errors] });
    }
  } catch (err) {
    // One file that cannot be read (a folder, a device, a symbolic link, nested past the stack) names itself; the others are still listed.
    return refused(err instanceof RangeError ? 'it is nested too deep to read' : (err as Error).message);
  }
  if (errors.length > 0) {
    const first = errors[0] as ParseError;
    const line = text.slice(0, first.offset).split('\n').length;
    return { ...base, servers: [], error: `${location.file}:${line}: ${printParseErrorCode(first.error)}; it is left as it is: fix it in ${CLIENT_NAMES[location.client]} or by hand` };
  }
  // Nested deeper than any config is (an array of 4,000 arrays): what reads it again later (unwire's merge)
  // could run out of stack with the file wired. It is left alone whole.
  if (tree && depthOf(tree) > MAX_DEPTH) return refused('it is nested too deep to read');
  let servers: ClientServer[];
  try {
    // A key on the way to the servers written twice: the client reads the last, an edit would reach the first.
    const twice = tree ? keyWrittenTwice(tree, location.path) : undefined;
    if (twice !== undefined) return refused(`"${twice}" is written twice in it, and Gatehouse would edit the one the client does not read`);
    // (Only the servers' part of the tree is made a value: ~/.claude.json holds every project ever opened.)
    const node = tree && findNodeAtLocation(tree, location.path);
    servers = node ? serversIn(getNodeValue(node), options.gatewayPort, location.client) : [];
    // A name written twice: the client reads the last, an edit would reach the first. Neither is wired.
    const count = new Map<unknown, number>();
    for (const p of node?.children ?? []) count.set(p.children?.[0]?.value, (count.get(p.children?.[0]?.value) ?? 0) + 1);
    for (const s of servers) if ((count.get(s.name) ?? 0) > 1) s.unwireable = 'it is defined twice in this file';
  } catch (err) {
    if (err instanceof RangeError) return refused('it is nested too deep to read');
    throw err;
  }
  return { ...base, servers };
}

const MAX_DEPTH = 256;
/** How deep a parsed tree goes, read without recursion. */
function depthOf(tree: Node): number {
  let deepest = 0;
  const stack: [Node, number][] = [[tree, 1]];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const [node, depth] = next;
    if (depth > deepest) deepest = depth;
    for (const child of node.children ?? []) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** The first key on `path` that its object holds twice (JSON's last-one-wins), if any. */
function keyWrittenTwice(tree: Node, path: (string | number)[]): string | undefined {
  let node: Node | undefined = tree;
  for (const key of path) {
    if (node?.type !== 'object') return undefined;
    const matches: Node[] = (node.children ?? []).filter((p) => p.children?.[0]?.value === key);
    if (matches.length > 1) return String(key);
    node = matches[0]?.children?.[1];
  }
  return undefined;
}

/** Largest client config Gatehouse reads (real ones are kilobytes; ~/.claude.json with history a few megabytes). */
const MAX_CONFIG_BYTES = 32 * 1024 * 1024;

/**
 * A client's file as text, undefined when there is none. Only a regular file, not followed through a symbolic
 * link (a cloned project's `.mcp.json -> ~/.claude.json` must not be read as the project's, nor written over),
 * of a bounded size, in UTF-8 (rewriting other bytes would change them).
 */
function readIfThere(file: string): string | undefined {
  let stat;
  try {
    stat = lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
  if (stat.isSymbolicLink()) throw new Error('it is a symbolic link, which Gatehouse does not follow (wire the file it points to by hand)');
  if (!stat.isFile()) throw new Error('it is not a regular file');
  if (stat.size > MAX_CONFIG_BYTES) throw new Error(`it is larger than ${MAX_CONFIG_BYTES / 1024 / 1024} MB`);
  const bytes = readFileSync(file);
  if (!isUtf8(bytes)) throw new Error('it is not UTF-8, and rewriting it would change its other bytes');
  return bytes.toString('utf8');
}

const realOrSelf = (file: string): string => {
  try {
    return realpathSync(file);
  } catch {
    return file;
  }
};

/**
 * A location reached through a symbolic link to a folder below its root (a project's `.cursor -> ~/.aws/amazonq`,
 * `.cursor -> ~/.cursor`): refused, since wiring would edit another program's file, or the user's own file as
 * the project's. A root that is itself a link (a home at /home -> /var/home) is fine.
 */
function linkedFolder(l: ConfigLocation): FoundConfig | undefined {
  if (!existsSync(l.file) || lstatSync(l.file).isSymbolicLink()) return undefined; // (a link itself: readLocation names it)
  const real = realOrSelf(l.file);
  const expected = join(realOrSelf(l.root), relative(l.root, l.file));
  if (real === expected) return undefined;
  return { ...l, clientName: CLIENT_NAMES[l.client], servers: [], error: `${l.file}: a folder on its way is a symbolic link (to ${real}), which Gatehouse does not follow; it is left as it is` };
}

/** Every client config found on this machine (and in `cwd`), with its servers; locations without servers are left out. */
export interface DiscoverOptions {
  read?: (file: string) => string | undefined;
  /** The gateway's port: an HTTP entry on another local port is some other server, not Gatehouse. */
  gatewayPort?: number;
  /** Files already parsed in this look (Claude Code's user and project servers are in one ~/.claude.json). */
  parsed?: Map<string, { text: string; tree: Node | undefined; errors: ParseError[] }>;
}

export function discoverClients(platform: Platform, options: DiscoverOptions = {}): FoundConfig[] {
  // One file reached two ways (a project folder that is the home folder, a home reached through a link) is one location.
  const seen = new Set<string>();
  const shared: DiscoverOptions = { parsed: new Map(), ...options };
  return configLocations(platform)
    .filter((l) => {
      const key = JSON.stringify([join(realOrSelf(l.root), relative(l.root, l.file)), l.path]);
      return !seen.has(key) && seen.add(key) !== undefined;
    })
    .map((l) => linkedFolder(l) ?? readLocation(l, shared))
    .filter((c): c is FoundConfig => c !== undefined && (c.servers.length > 0 || c.error !== undefined));
}

export type { ClientId };
