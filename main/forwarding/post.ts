import { readFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface PostTarget {
  endpoint: string;
  headers: Record<string, string>;
  contentType: string;
  tls?: { ca?: string | undefined; cert?: string | undefined; key?: string | undefined } | undefined;
  /** The whole exchange, answer included, ends by then (tests: shorter). */
  timeoutMs?: number;
  /** Ends the request (the gateway stopping). */
  signal?: AbortSignal;
}

export interface PostResult {
  status: number;
  retryAfter?: string;
  body: string;
}

const TIMEOUT_MS = 30_000;
/** Of an answer, only this much is kept (for the status's message); the rest is read and dropped. */
const KEPT_ANSWER = 64 * 1024;

/** A TLS file named in forwarding.tls, read when it is needed, so that a renewed certificate is taken without a restart. */
async function tlsFile(key: 'ca' | 'cert' | 'key', path: string | undefined): Promise<Record<string, Buffer>> {
  if (!path) return {};
  try {
    return { [key]: await readFile(path) };
  } catch (err) {
    throw new Error(`forwarding.tls.${key}: ${path} could not be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * One OTLP/HTTP export request: the body POSTed to the endpoint, with TLS options read from their files.
 * Bounded in time as a whole: a collector that trickles its answer, or never ends it, is cut off.
 */
export async function post(target: PostTarget, body: Uint8Array): Promise<PostResult> {
  const url = new URL(target.endpoint);
  const timeoutMs = target.timeoutMs ?? TIMEOUT_MS;
  const tls = target.tls ?? {};
  const options = {
    method: 'POST',
    ...(target.signal ? { signal: target.signal } : {}),
    headers: { ...target.headers, 'content-type': target.contentType, 'content-length': String(body.byteLength) },
    ...(url.protocol === 'https:' ? { ...(await tlsFile('ca', tls.ca)), ...(await tlsFile('cert', tls.cert)), ...(await tlsFile('key', tls.key)) } : {}),
  };
  return new Promise((resolve, reject) => {
    let late: Error | undefined;
    const fail = (err: Error) => {
      clearTimeout(deadline);
      reject(late ?? err);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, options, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      const done = () => {
        clearTimeout(deadline);
        const retryAfter = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, ...(typeof retryAfter === 'string' ? { retryAfter } : {}), body: Buffer.concat(chunks).toString('utf8') });
      };
      res.on('data', (c: Buffer) => {
        if (size >= KEPT_ANSWER) return;
        chunks.push(c.subarray(0, KEPT_ANSWER - size));
        size += c.length;
        if (size < KEPT_ANSWER) return;
        // Enough to say what the collector answered: the rest is not read (a huge answer would cost the gateway its time).
        done();
        res.destroy();
      });
      res.on('end', done);
      res.on('error', fail);
    });
    const deadline = setTimeout(() => {
      late = new Error(`no complete answer from ${url.origin} within ${timeoutMs / 1000}s`);
      req.destroy(late);
    }, timeoutMs);
    deadline.unref();
    req.on('error', fail);
    req.end(body);
  });
}
