import { readFileSync } from 'node:fs';
import { parse, printParseErrorCode, type ParseError } from 'jsonc-parser';
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
  /** Already reaches its server through Gatehouse (`gatehouse connect NAME`, or the gateway's endpoint). */
  viaGatehouse: boolean;
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

/** Whether an entry already goes through Gatehouse: the shim, or an endpoint on the loopback gateway. */
function throughGatehouse(entry: { command?: string; args?: string[]; url?: string }): boolean {
  const words = [entry.command ?? '', ...(entry.args ?? [])];
  if (words.some((w) => /(?:^|[\\/])gatehouse(?:\.js|\.cmd|\.exe)?$/i.test(w) || w === 'gatehouse') && words.includes('connect')) return true;
  return entry.url !== undefined && /^https?:\/\/(?:127\.0\.0\.1|localhost):\d+\/mcp\/[^/]+\/?$/.test(entry.url);
}

/** The servers under a config's server object, as each client writes them (`url`, Windsurf's `serverUrl`, Gemini's `httpUrl`). */
export function serversIn(value: unknown): ClientServer[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  const out: ClientServer[] = [];
  for (const [name, raw] of Object.entries(value as Record<string, unknown>)) {
    if (raw === null || typeof raw !== 'object') continue;
    const e = raw as Record<string, unknown>;
    const url = [e.url, e.serverUrl, e.httpUrl].find((u): u is string => typeof u === 'string');
    const command = typeof e.command === 'string' ? e.command : undefined;
    if (!url && !command) continue;
    const args = strings(e.args);
    const env = stringMap(e.env);
    const headers = stringMap(e.headers);
    const server: ClientServer = command
      ? { name, kind: 'stdio', command, ...(args ? { args } : {}), ...(env ? { env } : {}), ...(typeof e.cwd === 'string' ? { cwd: e.cwd } : {}), viaGatehouse: false }
      : { name, kind: 'http', url: url as string, ...(headers ? { headers } : {}), viaGatehouse: false };
    server.viaGatehouse = throughGatehouse(server);
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
export function readLocation(location: ConfigLocation, read: (file: string) => string | undefined = readIfThere): FoundConfig | undefined {
  const text = read(location.file);
  if (text === undefined) return undefined;
  const base = { ...location, clientName: CLIENT_NAMES[location.client] };
  const errors: ParseError[] = [];
  const root: unknown = text.trim() === '' ? {} : parse(text, errors, { allowTrailingComma: true, disallowComments: false });
  if (errors.length > 0) {
    const first = errors[0] as ParseError;
    const line = text.slice(0, first.offset).split('\n').length;
    return { ...base, servers: [], error: `${location.file}:${line}: ${printParseErrorCode(first.error)}; it is left as it is: fix it in ${CLIENT_NAMES[location.client]} or by hand` };
  }
  return { ...base, servers: serversIn(valueAt(root, location.path)) };
}

function readIfThere(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw err;
  }
}

/** Every client config found on this machine (and in `cwd`), with its servers; locations without servers are left out. */
export function discoverClients(platform: Platform, read?: (file: string) => string | undefined): FoundConfig[] {
  return configLocations(platform)
    .map((l) => readLocation(l, read))
    .filter((c): c is FoundConfig => c !== undefined && (c.servers.length > 0 || c.error !== undefined));
}

export type { ClientId };
