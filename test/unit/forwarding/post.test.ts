/*
 * One export request to the collector. Attacks on it:
 * - a collector that answers its headers and then trickles the body a byte at a time, or never ends it: the
 *   request must end by its deadline (an idle timeout alone never fires), or forwarding stalls for good;
 * - a collector that answers with a huge body (500 MB at each success): a bounded part is kept and the rest is
 *   not read, or reading it costs the gateway's calls their latency;
 * - a collector behind a private CA that asks for a client certificate: with `tls.ca`, `cert` and `key` it is
 *   reached; without the client certificate it refuses, and that is a failure, not a success;
 * - a TLS file that is missing: the error names the key and the file, so that the status says what to fix.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { post } from '../../../main/forwarding/post.js';
import { waitFor } from '../../helpers/gateway-harness.js';

let dir: string;
const files = (name: string) => join(dir, name);

/** A private CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl. */
function makeCertificates(): void {
  const ssl = (args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Gatehouse test CA']);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${name}`]);
    writeFileSync(files(`${name}.ext`), `${ext}\n`);
    ssl(['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  }
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-post-'));
}, 30_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function listen(server: Server, scheme: 'http' | 'https' = 'http'): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${scheme}://127.0.0.1:${port}/v1/logs`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

const body = new TextEncoder().encode('{}');

describe('an export request', () => {
  it('ends by its deadline when the collector trickles its answer and never finishes it', async () => {
    const timers: NodeJS.Timeout[] = [];
    const server = createHttpServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      timers.push(setInterval(() => res.write(' '), 50));
    });
    const collector = await listen(server);
    try {
      const started = Date.now();
      await expect(post({ endpoint: collector.url, headers: {}, contentType: 'application/json', timeoutMs: 600 }, body)).rejects.toThrow(/no complete answer from http:\/\/127\.0\.0\.1:\d+ within 0\.6s/);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      timers.forEach(clearInterval);
      await collector.close();
    }
  });

  it('keeps 64 KiB of a huge answer and reads no further (the collector sees the connection closed)', async () => {
    let written = 0;
    let closed = false;
    const server = createHttpServer((_req, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      const chunk = 'x'.repeat(64 * 1024);
      // 500 MB, written as fast as it is read, until the reader goes away.
      const pump = () => {
        while (!closed && written < 500 * 1024 * 1024 && res.write(chunk)) written += chunk.length;
        if (!closed && written < 500 * 1024 * 1024) res.once('drain', pump);
        else res.end();
      };
      res.on('close', () => (closed = true));
      pump();
    });
    const collector = await listen(server);
    try {
      const result = await post({ endpoint: collector.url, headers: {}, contentType: 'application/json' }, body);
      expect(result.status).toBe(500);
      expect(result.body.length).toBe(64 * 1024);
      await waitFor(() => closed, 5_000, 'the connection closed');
      expect(written).toBeLessThan(32 * 1024 * 1024);
    } finally {
      await collector.close();
    }
  });

  it('reaches a collector behind a private CA that asks for a client certificate, and only with it', async () => {
    makeCertificates();
    const seen: string[] = [];
    const server = createHttpsServer({ key: readFileSync(files('server-key.pem')), cert: readFileSync(files('server.pem')), ca: readFileSync(files('ca.pem')), requestCert: true, rejectUnauthorized: true }, (req, res) => {
      seen.push(`${req.method} ${req.url} ${(req.socket as import('node:tls').TLSSocket).getPeerCertificate().subject?.CN ?? ''}`);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const collector = await listen(server, 'https');
    try {
      const target = { endpoint: collector.url, headers: {}, contentType: 'application/json' };
      const ok = await post({ ...target, tls: { ca: files('ca.pem'), cert: files('client.pem'), key: files('client-key.pem') } }, body);
      expect(ok.status).toBe(200);
      expect(seen).toEqual(['POST /v1/logs client']);
      // Without the private CA the server is not trusted; without the client certificate the server refuses.
      await expect(post(target, body)).rejects.toThrow(/self.signed|unable to (get|verify)/i);
      await expect(post({ ...target, tls: { ca: files('ca.pem') } }, body)).rejects.toThrow();
      expect(seen).toHaveLength(1);
      await expect(post({ ...target, tls: { ca: files('no-such-ca.pem') } }, body)).rejects.toThrow(`forwarding.tls.ca: ${files('no-such-ca.pem')} could not be read (ENOENT)`);
    } finally {
      await collector.close();
    }
  }, 30_000);
});
