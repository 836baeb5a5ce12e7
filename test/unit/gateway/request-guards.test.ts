import { describe, expect, it } from 'vitest';
import { checkOrigin, checkRequest, checkToken } from '../../../main/gateway/downstream/request-guards.js';

const TOKEN = 'secret-token-value';

describe('request guards', () => {
  it.each(['127.0.0.1:5757', 'localhost:5757', 'LOCALHOST:5757'])('accepts the gateway\'s own Host %s', (host) => {
    expect(checkOrigin({ host, origin: undefined }, 5757)).toEqual({ ok: true });
  });

  it.each([undefined, 'evil.example', 'evil.example:5757', '127.0.0.1:5758', '127.0.0.1', '[::1]:5757', 'localhost.evil.example:5757'])(
    'refuses Host %j with 403',
    (host) => expect(checkOrigin({ host, origin: undefined }, 5757)).toMatchObject({ ok: false, status: 403 }),
  );

  it.each(['http://127.0.0.1:5757', 'http://localhost:5757'])('accepts the gateway\'s own Origin %s', (origin) => {
    expect(checkOrigin({ host: '127.0.0.1:5757', origin }, 5757)).toEqual({ ok: true });
  });

  it.each(['https://evil.example', 'null', 'http://127.0.0.1:3000', 'https://127.0.0.1:5757', 'http://localhost:5757.evil.example'])(
    'refuses Origin %j with 403',
    (origin) => expect(checkOrigin({ host: '127.0.0.1:5757', origin }, 5757)).toMatchObject({ ok: false, status: 403 }),
  );

  it('checks the bearer token exactly', () => {
    expect(checkToken(`Bearer ${TOKEN}`, TOKEN)).toEqual({ ok: true });
    expect(checkToken(`bearer   ${TOKEN}`, TOKEN)).toEqual({ ok: true });
    for (const header of [undefined, '', 'Bearer', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(1)}`, TOKEN]) {
      expect(checkToken(header, TOKEN), String(header)).toMatchObject({ ok: false, status: 401 });
    }
  });

  it('checks Host/Origin before the token, so a rebinding page learns nothing about auth', () => {
    expect(checkRequest({ host: 'evil.example', origin: undefined, authorization: undefined }, 5757, TOKEN)).toMatchObject({ status: 403 });
    expect(checkRequest({ host: '127.0.0.1:5757', origin: undefined, authorization: undefined }, 5757, TOKEN)).toMatchObject({ status: 401 });
  });
});
