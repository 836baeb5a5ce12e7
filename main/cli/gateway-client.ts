import { API_TOKEN_FILE, readToken } from '../config/data-dir.js';
import { readRuntimeInfo } from '../config/runtime-file.js';
import { CheckFailed } from './usage-error.js';

/** Talks to the running gateway's JSON API (the desktop app's or `gatehouse serve`'s) with the token. */
export async function callGateway<T>(dataDir: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
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
