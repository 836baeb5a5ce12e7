/*
 * keepCorrelation: with masking.inline, the message the client receives is masked — all but what it correlates by.
 * Attacks: a string id or progress token that reads as a secret comes back masked (an answer no one waits for, the
 * client hangs; progress for no request); the other way, a restoring step that un-masks more than those fields
 * (a secret in `params.arguments` or `result` given back in clear), or changes the masked message in place (the
 * record and the client share it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepCorrelation } from '../../../main/gateway/correlation.js';
import type { JSONRPCMessage } from '../../../main/gateway/jsonrpc.js';

/** Every string masked, as a masker that took everything for a secret would. */
const maskAll = (v: unknown): unknown =>
  typeof v === 'string' ? '[MASKED:secret-value]' : Array.isArray(v) ? v.map(maskAll) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAll(x)])) : v;

const id = fc.oneof(fc.string({ minLength: 1 }), fc.integer());
const payload = fc.dictionary(fc.constantFrom('name', 'arguments', 'text', 'secret', 'progress'), fc.oneof(fc.string(), fc.integer()));
const message: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id, method: fc.constantFrom('tools/call', 'ping', 'sampling/createMessage'), params: fc.record({ _meta: fc.record({ progressToken: id }), args: payload }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('notifications/progress'), params: fc.record({ progressToken: id, progress: fc.integer(), message: fc.string() }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('notifications/cancelled'), params: fc.record({ requestId: id, reason: fc.string() }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constant('notifications/message'), params: fc.record({ progressToken: id, requestId: id, data: fc.string() }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, result: payload }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, error: fc.record({ code: fc.integer(), message: fc.string() }) }),
);

/** The fields a message is correlated by, where it (or the message it was masked from, `shape`) has them. */
function correlation(m: Record<string, unknown>, shape = m): unknown[] {
  const params = (m.params ?? {}) as Record<string, unknown>;
  return [
    m.id,
    shape.method === 'notifications/progress' ? params.progressToken : undefined,
    shape.method === 'notifications/cancelled' ? params.requestId : undefined,
    'id' in shape && 'method' in shape ? (params._meta as { progressToken?: unknown } | undefined)?.progressToken : undefined,
  ];
}
/** The message without those fields. */
function rest(m: Record<string, unknown>, shape = m): unknown {
  const copy = structuredClone(m);
  delete copy.id;
  const params = copy.params as Record<string, unknown> | undefined;
  if (params && shape.method === 'notifications/progress') delete params.progressToken;
  if (params && shape.method === 'notifications/cancelled') delete params.requestId;
  if (params && 'id' in shape && 'method' in shape) delete (params._meta as Record<string, unknown> | undefined)?.progressToken;
  return copy;
}

describe('keepCorrelation', () => {
  it('gives back the id, the progress token and the cancelled request as they were, and nothing else', () => {
    fc.assert(
      fc.property(message, (original) => {
        const masked = maskAll(original) as Record<string, unknown>;
        const before = structuredClone(masked);
        const out = keepCorrelation(masked as JSONRPCMessage, original as JSONRPCMessage) as Record<string, unknown>;
        expect(correlation(out, original)).toEqual(correlation(original));
        expect(rest(out, original)).toEqual(rest(masked, original));
        expect(masked).toEqual(before);
      }),
      { numRuns: 5_000 },
    );
  });

  it('gives the same message back where masking left those fields alone', () => {
    const m = { jsonrpc: '2.0', id: 3, result: { content: [{ type: 'text', text: '[MASKED:github-token]' }] } } as JSONRPCMessage;
    expect(keepCorrelation(m, { ...m, result: { content: [{ type: 'text', text: 'ghp_…' }] } } as JSONRPCMessage)).toBe(m);
  });
});
