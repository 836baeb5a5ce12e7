import { readFile } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
};

/** The same strict policy as the Electron window's meta CSP. */
export const UI_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Serves a file of the built UI; false when there is no such file. Paths never leave `root`. */
export async function serveStatic(root: string, urlPath: string, res: ServerResponse): Promise<boolean> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  } catch {
    return false;
  }
  const relative = normalize(decoded).replace(/^([/\\])+/, '');
  if (relative.startsWith('..') || relative.includes(`..${sep}`)) return false;
  let body: Buffer;
  try {
    body = await readFile(join(root, relative));
  } catch {
    return false;
  }
  res.writeHead(200, {
    'content-type': TYPES[extname(relative)] ?? 'application/octet-stream',
    'content-length': body.length,
    'content-security-policy': UI_CSP,
    'x-content-type-options': 'nosniff',
    'cache-control': relative === 'index.html' ? 'no-cache' : 'public, max-age=3600',
  });
  res.end(body);
  return true;
}
