/*
 * keepCorrelation: with masking.inline, the message the client receives is masked — all but what it sends back.
 * Attacks: a string id or progress token that reads as a secret comes back masked (an answer no one waits for, the
 * client hangs; progress for no request); the fifteenth attacker's: a page's cursor that reads as a secret (the
 * next page "invalid cursor"), a resource's URI with an address or a signature in it (read: "not found"; an update
 * matched to nothing), a tool's or a prompt's name with an address (called: "unknown tool"), a task's id, an
 * elicitation's id. And the other way: a restoring step that un-masks more than those fields (a secret in
 * `params.arguments` or a result's text given back in clear), or changes the masked message in place (the record
 * and the client share it).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { keepCorrelation } from '../../../main/gateway/correlation.js';
import type { JSONRPCMessage } from '../../../main/gateway/jsonrpc.js';

/** Every string masked, as a masker that took everything for a secret would. */
const maskAll = (v: unknown): unknown =>
  typeof v === 'string' ? '[MASKED:secret-value]' : Array.isArray(v) ? v.map(maskAll) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, maskAll(x)])) : v;

const TASK = 'io.modelcontextprotocol/related-task';
/** The fields the client sends back, by where they stand (the specification's, written out here apart from the code). */
function sentBack(m: Record<string, unknown>): string[][] {
  const paths: string[][] = [['id']];
  if ('result' in m) paths.push(['result', 'nextCursor'], ['result', 'tools', '*', 'name'], ['result', 'prompts', '*', 'name'], ['result', 'resources', '*', 'uri'], ['result', 'resourceTemplates', '*', 'uriTemplate'], ['result', 'contents', '*', 'uri'], ['result', 'content', '*', 'uri'], ['result', 'content', '*', 'resource', 'uri'], ['result', 'task', 'taskId'], ['result', '_meta', TASK, 'taskId']);
  const byMethod: Record<string, string> = { 'notifications/progress': 'progressToken', 'notifications/cancelled': 'requestId', 'notifications/resources/updated': 'uri', 'notifications/elicitation/complete': 'elicitationId', 'notifications/tasks/status': 'taskId', 'elicitation/create': 'elicitationId' };
  if (typeof m.method === 'string' && Object.hasOwn(byMethod, m.method)) paths.push(['params', byMethod[m.method] as string]);
  if ('method' in m) paths.push(['params', '_meta', TASK, 'taskId']);
  if ('method' in m && 'id' in m) paths.push(['params', '_meta', 'progressToken']);
  return paths;
}
function values(v: unknown, path: string[]): unknown[] {
  if (path.length === 0) return [v];
  const [step, ...rest] = path as [string, ...string[]];
  if (step === '*') return Array.isArray(v) ? v.flatMap((x) => values(x, rest)) : [];
  return v && typeof v === 'object' && !Array.isArray(v) && Object.hasOwn(v, step) ? values((v as Record<string, unknown>)[step], rest) : [];
}
function without(v: unknown, path: string[]): unknown {
  if (path.length === 0 || !v || typeof v !== 'object') return v;
  const [step, ...rest] = path as [string, ...string[]];
  if (step === '*') return Array.isArray(v) ? v.map((x) => without(x, rest)) : v;
  if (Array.isArray(v) || !Object.hasOwn(v, step)) return v;
  const copy = { ...(v as Record<string, unknown>) };
  if (rest.length === 0) delete copy[step];
  else copy[step] = without(copy[step], rest);
  return copy;
}

const id = fc.oneof(fc.string({ minLength: 1 }), fc.integer());
const text = fc.string({ maxLength: 12 });
const payload = fc.dictionary(fc.constantFrom('name', 'arguments', 'text', 'secret', 'progress'), fc.oneof(text, fc.integer()));
const task = fc.record({ [TASK]: fc.record({ taskId: text }) });
const result = fc.record(
  {
    nextCursor: text,
    tools: fc.array(fc.record({ name: text, description: text })),
    prompts: fc.array(fc.record({ name: text, title: text })),
    resources: fc.array(fc.record({ uri: text, name: text })),
    resourceTemplates: fc.array(fc.record({ uriTemplate: text, name: text })),
    contents: fc.array(fc.record({ uri: text, text })),
    content: fc.array(fc.oneof(fc.record({ type: fc.constant('text'), text }), fc.record({ type: fc.constant('resource_link'), uri: text, name: text }), fc.record({ type: fc.constant('resource'), resource: fc.record({ uri: text, text }) }))),
    task: fc.record({ taskId: text, status: text }),
    _meta: task,
    other: payload,
  },
  { requiredKeys: [] },
);
const message: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ jsonrpc: fc.constant('2.0'), id, method: fc.constantFrom('tools/call', 'ping', 'sampling/createMessage', 'elicitation/create'), params: fc.record({ _meta: fc.record({ progressToken: id, [TASK]: fc.record({ taskId: text }) }, { requiredKeys: [] }), elicitationId: text, args: payload }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), method: fc.constantFrom('notifications/progress', 'notifications/cancelled', 'notifications/resources/updated', 'notifications/elicitation/complete', 'notifications/tasks/status', 'notifications/message'), params: fc.record({ progressToken: id, requestId: id, uri: text, elicitationId: text, taskId: text, data: text, _meta: task }, { requiredKeys: [] }) }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, result }),
  fc.record({ jsonrpc: fc.constant('2.0'), id, error: fc.record({ code: fc.integer(), message: fc.string() }) }),
);

describe('keepCorrelation', () => {
  it('gives back what the client sends back as it was, and nothing else', () => {
    fc.assert(
      fc.property(message, (original) => {
        const masked = maskAll(original) as Record<string, unknown>;
        const before = structuredClone(masked);
        const out = keepCorrelation(masked as JSONRPCMessage, original as JSONRPCMessage) as Record<string, unknown>;
        const paths = sentBack(original);
        for (const path of paths) expect(values(out, path)).toEqual(values(original, path));
        const rest = (m: unknown) => paths.reduce((acc, p) => without(acc, p), m);
        expect(rest(out)).toEqual(rest(masked));
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
