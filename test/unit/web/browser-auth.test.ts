import { describe, expect, it } from 'vitest';
import { BrowserAuth } from '../../../main/web/browser-auth.js';

describe('browser sign-in', () => {
  it('a login code works once', () => {
    const auth = new BrowserAuth('tok');
    const code = auth.issueCode();
    const session = auth.redeem({ code });
    expect(session).toBeTruthy();
    expect(auth.redeem({ code })).toBeUndefined();
    expect(auth.isSignedIn(`other=1; gatehouse_session=${session}`)).toBe(true);
  });

  it('a login code expires after ten minutes', () => {
    let now = 0;
    const auth = new BrowserAuth('tok', () => now);
    const code = auth.issueCode();
    now = 10 * 60_000 + 1;
    expect(auth.redeem({ code })).toBeUndefined();
  });

  it('the token signs in; a wrong one or an unknown cookie does not', () => {
    const auth = new BrowserAuth('tok');
    expect(auth.redeem({ token: 'tok' })).toBeTruthy();
    expect(auth.redeem({ token: 'to' })).toBeUndefined();
    expect(auth.redeem({ code: 'made-up' })).toBeUndefined();
    expect(auth.isSignedIn('gatehouse_session=forged')).toBe(false);
    expect(auth.isSignedIn(undefined)).toBe(false);
  });

  it('the cookie is HttpOnly and SameSite=Strict', () => {
    expect(new BrowserAuth('t').cookieFor('abc')).toBe('gatehouse_session=abc; HttpOnly; SameSite=Strict; Path=/');
  });
});
