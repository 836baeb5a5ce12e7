import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

interface Tracked {
  req?: IncomingMessage;
  res?: ServerResponse;
}

/**
 * Keeps a local process from starving the listener of connections (slowloris: thousands of requests that send
 * a few bytes and hold on). A connection is *serving* while it has a request fully received and not yet
 * answered — a live event stream, a tool call in progress; only an authenticated client can hold one, since
 * every other request is answered at once. Any other connection (headers or body still arriving, or idle
 * between requests) is one of at most `maxWaiting`: past that, the one least recently active is closed to make
 * room. A real client's new connection is the newest and sends its request at once, so it is never the one
 * closed; an attacker's held requests are. Returns how many are waiting now (for tests and status).
 */
export function guardConnections(server: Server, maxWaiting: number): { waiting(): number } {
  // Insertion order is recency: a connection is moved to the end when it starts or finishes a request.
  const sockets = new Map<Socket, Tracked>();
  const serving = (t: Tracked) => t.req !== undefined && t.req.complete && t.res !== undefined && !t.res.writableEnded;
  const touch = (socket: Socket, t: Tracked) => {
    sockets.delete(socket);
    if (!socket.destroyed) sockets.set(socket, t);
  };
  const waiting = () => {
    let n = 0;
    for (const t of sockets.values()) if (!serving(t)) n++;
    return n;
  };
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, {});
    socket.once('close', () => sockets.delete(socket));
    if (sockets.size <= maxWaiting) return;
    let over = waiting() - maxWaiting;
    for (const [s, t] of sockets) {
      if (over <= 0) break;
      if (s === socket || serving(t)) continue;
      sockets.delete(s);
      s.destroy();
      over--;
    }
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const t: Tracked = { req, res };
    touch(req.socket, t);
    res.once('finish', () => {
      if (sockets.get(req.socket) === t) touch(req.socket, {});
    });
  });
  return { waiting };
}
