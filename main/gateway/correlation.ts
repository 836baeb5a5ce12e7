import type { JSONRPCMessage } from './jsonrpc.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * What the client correlates by, kept as it was in a message masked for it (`masking.inline`): the JSON-RPC id
 * (the client's own in an answer; the server's in a request, which the client answers under), the progress token
 * of a progress notification and of a request's `_meta` (chosen by whoever asked for progress), and the request a
 * cancellation names. Masked, each breaks the protocol: an answer under an id no one waits for (the client hangs),
 * progress for no request. The record keeps them masked, correlated there by their tokens.
 */
export function keepCorrelation(masked: JSONRPCMessage, original: JSONRPCMessage): JSONRPCMessage {
  const was = original as Json;
  let out = masked as Json;
  if ('id' in was && out.id !== was.id) out = { ...out, id: was.id };
  const params = was.params;
  if (!isObject(params)) return out as JSONRPCMessage;
  const outParams = isObject(out.params) ? out.params : {};
  let kept = outParams;
  const field = was.method === 'notifications/progress' ? 'progressToken' : was.method === 'notifications/cancelled' ? 'requestId' : undefined;
  if (field && field in params && kept[field] !== params[field]) kept = { ...kept, [field]: params[field] };
  const meta = params._meta;
  if ('id' in was && 'method' in was && isObject(meta) && 'progressToken' in meta) {
    const outMeta = isObject(kept._meta) ? kept._meta : {};
    if (outMeta.progressToken !== meta.progressToken) kept = { ...kept, _meta: { ...outMeta, progressToken: meta.progressToken } };
  }
  return (kept === outParams ? out : { ...out, params: kept }) as JSONRPCMessage;
}
