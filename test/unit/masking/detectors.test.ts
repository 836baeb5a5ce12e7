/*
 * The cheap gates in front of the detectors are only worth having if they never turn a secret away. The attack:
 * a text that one detector's hint passes but its gate does not (a new phase-2 detector whose hint names a word
 * the gate lacks, or a gate "simplified" for speed) goes through unmasked. So: every text built from the hints'
 * own words, in any case and with any text around them, that passes a phase-2 hint passes CONTEXT_GATE; and
 * the faster hints of the card and IPv6 detectors pass everything the full patterns match.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONTEXT_GATE, DETECTOR_SETS } from '../../../main/masking/detectors.js';

const phase2 = DETECTOR_SETS.secrets.filter((d) => d.phase === 2);
/** Words and separators the phase-2 hints are made of, so that generated texts hit them often. */
const PIECES = ['pass', 'pwd', 'secret', 'token', 'key', 'cred', 'auth', 'cookie', 'sig', 'sas', 'dsn', 'conn', 'session', 'pat', 'code', 'authorization', 'api-key', 'auth-token', 'access_token', 'X-Amz-Signature', 'Credential', '%3F', '%26', '\\u0026', '?', '&', ';', '=', ':', ' ', 'a', '-', '_'];
const casing = (s: string, flips: boolean[]) => [...s].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join('');
const texts = fc.tuple(fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string({ maxLength: 3 })), { maxLength: 8 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 7 })).map(([parts, flips]) => casing(parts.join(''), flips));

describe('CONTEXT_GATE', () => {
  it('passes every text that any phase-2 hint passes', () => {
    expect(phase2.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(texts, (text) => {
        if (phase2.some((d) => d.hint?.test(text))) expect(CONTEXT_GATE.test(text)).toBe(true);
      }),
      { numRuns: 20_000 },
    );
  });

  it('passes each form the hints name, one by one', () => {
    const names = ['access_token', 'refresh_token', 'id_token', 'token', 'api_key', 'apikey', 'key', 'client_secret', 'password', 'passwd', 'secret', 'sig', 'signature', 'auth', 'X-Amz-Signature', 'X-Amz-Credential', 'X-Amz-Security-Token', 'code'];
    const probes = [...names.flatMap((n) => [`?${n}=`, `&${n}=`, `;${n}=`, `%3F${n}=`, `%26${n}%3D`, `\\u0026${n}=`]), 'Authorization:', 'x-api-key:', 'X-Auth-Token:', 'Set-Cookie:', 'DB_PASSWORD=', 'conn_str:'];
    for (const probe of probes) {
      for (const text of [probe, probe.toUpperCase(), `see ${probe}x`]) if (phase2.some((d) => d.hint?.test(text))) expect(CONTEXT_GATE.test(text), text).toBe(true);
    }
  });
});

describe('the card and IPv6 hints', () => {
  const card = DETECTOR_SETS['credit-card'][0];
  const ipv6 = DETECTOR_SETS.ip.find((d) => d.kind === 'ipv6');
  it('pass every text the full pattern matches', () => {
    const cardPattern = new RegExp(card?.pattern ?? '');
    const ipv6Pattern = new RegExp(ipv6?.pattern ?? '');
    const digits = fc.stringMatching(/^[0-9 .\-\u00a0]{0,24}$/);
    const hex = fc.stringMatching(/^[0-9a-fA-F:.]{0,40}$/);
    fc.assert(fc.property(digits, (text) => !cardPattern.test(text) || card?.hint?.test(text) === true), { numRuns: 20_000 });
    fc.assert(fc.property(hex, (text) => !ipv6Pattern.test(text) || ipv6?.hint?.test(text) === true), { numRuns: 20_000 });
    for (const a of ['fe80::1:2', '2001:db8::8a2e:370:7334', '2001:0db8:85a3:0000:0000:8a2e:0370:7334', '::ffff:10.0.0.1x', '1:2:3:4:5:6:7:8']) if (ipv6Pattern.test(a)) expect(ipv6?.hint?.test(a)).toBe(true);
  });
});
