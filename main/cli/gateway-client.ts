import { API_TOKEN_FILE, readToken } from '../config/data-dir.js';
import { readRuntimeInfo } from '../config/runtime-file.js';
import { CheckFailed } from './usage-error.js';
import { requestFor, type Verb, type VerbArgs, type VerbResult } from '../api/table.js';

/** A verb of the API table, called on the running gateway: its status, and its result (or the error the route said). */
export async function callVerb<V extends Verb>(dataDir: string, verb: V, ...args: VerbArgs<V>): Promise<{ status: number; body: VerbResult<V> & { error?: string } }> {
  const { method, url, body } = requestFor(verb, args);
  return callGateway<VerbResult<V> & { error?: string }>(dataDir, method, url, body);
}

/** Talks to the running gateway's JSON API (the desktop app's or `gatehouse serve`'s) with the token. */
async function callGateway<T>(dataDir: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const runtime = readRuntimeInfo(dataDir);
  const token = readToken(dataDir, API_TOKEN_FILE);
  if (!runtime || !token) throw new CheckFailed(`no Gatehouse gateway is running for ${dataDir}; start the desktop app or \`gatehouse serve\``);
  let res: Response;
  try {
    res = await fetch(`${runtime.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, accept: 'application/json', ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch {
    throw new CheckFailed(`the gateway at ${runtime.url} does not answer (it may have stopped); start the desktop app or \`gatehouse serve\``);
  }
  return { status: res.status, body: (await res.json()) as T };
}
