import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A loopback forwarder for clients that cannot send the gateway's token (the conformance suite): it adds
 * `Authorization`, rewrites its own Host/Origin to the gateway's, and passes any foreign Host or Origin on
 * untouched so that the gateway's DNS-rebinding defence is what answers them. Bodies stream both ways (SSE).
 */
export async function startTokenForwarder(target: { port: number; token: string }): Promise<{ url: string; close(): Promise<void> }> {
  let ownPort = 0;
  const server: Server = createServer((req, res) => {
    const own = [`127.0.0.1:${ownPort}`, `localhost:${ownPort}`];
    const headers = { ...req.headers, authorization: `Bearer ${target.token}` };
    if (req.headers.host && own.includes(req.headers.host)) headers.host = `127.0.0.1:${target.port}`;
    if (req.headers.origin && own.some((h) => req.headers.origin === `http://${h}`)) headers.origin = `http://127.0.0.1:${target.port}`;
    const upstream = request({ host: '127.0.0.1', port: target.port, path: req.url, method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', (err) => {
      if (!res.headersSent) res.writeHead(502).end(err.message);
      else res.destroy();
    });
    res.on('close', () => upstream.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  ownPort = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${ownPort}`,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
