import { describe, expect, it } from 'vitest';
import type { JSONRPCMessage } from '../../../main/gateway/jsonrpc.js';
import { InterceptorError, passThrough, runPipeline, type Interceptor, type MessageContext } from '../../../main/gateway/pipeline.js';

const ctx: MessageContext = { sessionId: 's', server: 'files', direction: 'client->server', client: {}, origin: 'peer', notifyClient: () => undefined };
const call: JSONRPCMessage = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'read_file', arguments: { path: '/a' } } };

const tag = (name: string): Interceptor => ({
  name,
  intercept: (m) => ({ action: 'forward', message: { ...m, params: { ...('params' in m ? m.params : {}), [name]: true } } as JSONRPCMessage }),
});

describe('the interceptor pipeline', () => {
  it('with only the pass-through, forwards the very same message synchronously', () => {
    expect(runPipeline([passThrough], call, ctx)).toEqual({ action: 'forward', message: call });
  });

  it('runs interceptors in order, each seeing the previous one\'s rewrite', () => {
    const seen: string[] = [];
    const spy: Interceptor = { name: 'spy', intercept: (m) => (seen.push(Object.keys('params' in m ? (m.params ?? {}) : {}).join(',')), { action: 'forward', message: m }) };
    const verdict = runPipeline([tag('a'), spy, tag('b')], call, ctx);
    expect(seen).toEqual(['name,arguments,a']);
    expect(verdict).toMatchObject({ action: 'forward', message: { params: { a: true, b: true } } });
  });

  it('stops at the first interceptor that answers or drops', () => {
    const answer: Interceptor = { name: 'answer', intercept: () => ({ action: 'respond', message: { jsonrpc: '2.0', id: 1, result: {} } }) };
    const never: Interceptor = { name: 'never', intercept: () => { throw new Error('must not run'); } };
    expect(runPipeline([answer, never], call, ctx)).toEqual({ action: 'respond', message: { jsonrpc: '2.0', id: 1, result: {} } });
    expect(runPipeline([{ name: 'drop', intercept: () => ({ action: 'drop', reason: 'because' }) }, never], call, ctx)).toEqual({ action: 'drop', reason: 'because' });
  });

  it('a held (async) step continues with the rest once it resolves', async () => {
    const hold: Interceptor = { name: 'hold', intercept: async (m) => ({ action: 'forward', message: m }) };
    const verdict = runPipeline([tag('a'), hold, tag('b')], call, ctx);
    expect(verdict).toBeInstanceOf(Promise);
    await expect(verdict).resolves.toMatchObject({ action: 'forward', message: { params: { a: true, b: true } } });
  });

  it('a throwing interceptor surfaces as InterceptorError naming it, sync or async', async () => {
    const boom: Interceptor = { name: 'boom', intercept: () => { throw new Error('bad rule'); } };
    expect(() => runPipeline([boom], call, ctx)).toThrow(InterceptorError);
    expect(() => runPipeline([boom], call, ctx)).toThrow('interceptor "boom" failed: bad rule');
    const late: Interceptor = { name: 'late', intercept: async () => { throw new Error('timeout'); } };
    await expect(runPipeline([late], call, ctx)).rejects.toThrow('interceptor "late" failed: timeout');
  });
});
