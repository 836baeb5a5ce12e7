/*
 * Telling a message's kind by its keys, once it was validated where it came in. What could go wrong:
 * - a hostile client or server sends a message that is both (a method and a result, an id on a notification,
 *   extra keys): validation at the edge refuses it, and for every message it lets through the kind read from the
 *   keys is the one the SDK's own guards (a full zod parse) give;
 * - an error without an id (allowed by JSON-RPC) is still a response.
 */
import { isJSONRPCErrorResponse as sdkError, isJSONRPCNotification as sdkNotification, isJSONRPCRequest as sdkRequest, isJSONRPCResultResponse as sdkResult, JSONRPCMessageSchema, type JSONRPCMessage } from '@modelcontextprotocol/sdk/types.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isJSONRPCNotification, isJSONRPCRequest, isResponse } from '../../../main/gateway/jsonrpc.js';

// Mostly well-formed parts, so that many generated messages pass the edge; now and then one that is not.
const odd = fc.oneof(fc.constant(null), fc.string({ maxLength: 3 }), fc.double(), fc.boolean(), fc.constant([]), fc.constant({ _meta: 'no' }));
const part = <T>(good: fc.Arbitrary<T>) => fc.oneof({ weight: 6, arbitrary: good }, { weight: 1, arbitrary: odd });
const parts = {
  jsonrpc: fc.oneof({ weight: 9, arbitrary: fc.constant('2.0') }, { weight: 1, arbitrary: fc.constantFrom('1.0', 2) }),
  id: part(fc.oneof(fc.integer(), fc.string({ maxLength: 3 }))),
  method: part(fc.constantFrom('tools/call', 'initialize', 'notifications/cancelled')),
  params: part(fc.constantFrom({}, { _meta: { progressToken: 1 } }, { name: 'x', arguments: {} })),
  result: part(fc.constantFrom({}, { content: [] }, { _meta: {} })),
  error: part(fc.constantFrom({ code: -32000, message: 'x' }, { code: 1.5, message: 'x' }, { code: 1 })),
  extra: part(fc.constant(1)),
};
type Key = keyof typeof parts;
// The keys of one of the kinds (or none), and now and then one more or one fewer.
const shapes: Key[][] = [['jsonrpc', 'id', 'method', 'params'], ['jsonrpc', 'id', 'method'], ['jsonrpc', 'method', 'params'], ['jsonrpc', 'id', 'result'], ['jsonrpc', 'id', 'error'], ['jsonrpc', 'error'], []];
const message = fc
  .tuple(fc.constantFrom(...shapes), fc.subarray(Object.keys(parts) as Key[], { maxLength: 1 }), fc.subarray(Object.keys(parts) as Key[], { maxLength: 1 }))
  .chain(([shape, more, fewer]) => {
    const keys = [...new Set([...shape, ...more])].filter((k) => !fewer.includes(k));
    return fc.record(Object.fromEntries(keys.map((k) => [k, parts[k]])) as Record<Key, fc.Arbitrary<unknown>>);
  });

describe('the kind of a validated message, read from its keys', () => {
  it('is the kind the SDK guards give, for every message the edge lets through', () => {
    let valid = 0;
    fc.assert(
      fc.property(message, (raw) => {
        const m = JSON.parse(JSON.stringify(raw)) as unknown;
        if (!JSONRPCMessageSchema.safeParse(m).success) return;
        valid++;
        const msg = m as JSONRPCMessage;
        expect(isJSONRPCRequest(msg)).toBe(sdkRequest(msg));
        expect(isJSONRPCNotification(msg)).toBe(sdkNotification(msg));
        expect(isResponse(msg)).toBe(sdkResult(msg) || sdkError(msg));
      }),
      { numRuns: 40_000 },
    );
    expect(valid).toBeGreaterThan(200);
  });

  it('reads an error without an id as a response', () => {
    const m = { jsonrpc: '2.0', error: { code: -32700, message: 'Parse error' } } as JSONRPCMessage;
    expect([isResponse(m), isJSONRPCRequest(m), isJSONRPCNotification(m)]).toEqual([true, false, false]);
  });
});
