import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostTarget {
  endpoint: string;
  headers: Record<string, string>;
  contentType: string;
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
}

export interface PostResult {
  status: number;
  retryAfter?: string;
  body: string;
}

const TIMEOUT_MS = 30_000;

/** One OTLP/HTTP export request: the body POSTed to the endpoint, with TLS options read from their files; bounded in time. */
export function post(target: PostTarget, body: Uint8Array): Promise<PostResult> {
  const url = new URL(target.endpoint);
  const tls = target.tls ?? {};
  const options = {
    method: 'POST',
    headers: { ...target.headers, 'content-type': target.contentType, 'content-length': String(body.byteLength) },
    timeout: TIMEOUT_MS,
    ...(url.protocol === 'https:'
      ? {
          ...(tls.ca ? { ca: readFileSync(tls.ca) } : {}),
          ...(tls.cert ? { cert: readFileSync(tls.cert) } : {}),
          ...(tls.key ? { key: readFileSync(tls.key) } : {}),
        }
      : {}),
  };
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= 64 * 1024) chunks.push(c);
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, ...(typeof retryAfter === 'string' ? { retryAfter } : {}), body: Buffer.concat(chunks).toString('utf8') });
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url.origin} within ${TIMEOUT_MS / 1000}s`)));
    req.on('error', reject);
    req.end(body);
  });
}
