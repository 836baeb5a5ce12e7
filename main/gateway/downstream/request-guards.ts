import { timingSafeEqual } from 'node:crypto';

export interface GuardedRequest {
  host: string | undefined;
  origin: string | undefined;
  authorization: string | undefined;
}

export type GuardOutcome = { ok: true } | { ok: false; status: 401 | 403; message: string };

/** Host and Origin values a browser uses for the gateway itself; anything else is a DNS-rebinding attempt. */
export function ownHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Host/Origin checks (403) — a page on another site must not reach the gateway through a rebound name. */
export function checkOrigin(req: Omit<GuardedRequest, 'authorization'>, port: number): GuardOutcome {
  const hosts = ownHosts(port);
  if (!req.host || !hosts.includes(req.host.toLowerCase())) {
    return { ok: false, status: 403, message: `Forbidden: Host "${req.host ?? ''}" is not this gateway (expected ${hosts.join(' or ')})` };
  }
  if (req.origin !== undefined && !hosts.some((h) => req.origin?.toLowerCase() === `http://${h}`)) {
    return { ok: false, status: 403, message: `Forbidden: Origin "${req.origin}" is not this gateway` };
  }
  return { ok: true };
}

/** Bearer-token check (401), in constant time. */
export function checkToken(authorization: string | undefined, token: string): GuardOutcome {
  const presented = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  if (!presented) {
    return { ok: false, status: 401, message: 'Unauthorized: send "Authorization: Bearer <token>" (the token is in the data directory\'s token file)' };
  }
  const a = Buffer.from(presented);
  const b = Buffer.from(token);
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    return { ok: false, status: 401, message: 'Unauthorized: the bearer token does not match this gateway\'s token' };
  }
  return { ok: true };
}

export function checkRequest(req: GuardedRequest, port: number, token: string): GuardOutcome {
  const origin = checkOrigin(req, port);
  return origin.ok ? checkToken(req.authorization, token) : origin;
}
