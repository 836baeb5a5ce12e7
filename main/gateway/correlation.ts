import type { JSONRPCMessage } from './jsonrpc.js';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const RELATED_TASK = 'io.modelcontextprotocol/related-task';
/** Where a value the client sends back stands in an answer (`*`: every item of a list). */
const RESULT_PATHS: readonly (readonly string[])[] = [
  ['nextCursor'],
  ['tools', '*', 'name'],
  ['prompts', '*', 'name'],
  ['resources', '*', 'uri'],
  ['resourceTemplates', '*', 'uriTemplate'],
  ['contents', '*', 'uri'],
  ['content', '*', 'uri'],
  ['content', '*', 'resource', 'uri'],
  ['task', 'taskId'],
  ['_meta', RELATED_TASK, 'taskId'],
];
/** And in a request's or a notification's params, by method (any method: a request's `_meta`). */
const PARAMS_PATHS: Readonly<Record<string, readonly (readonly string[])[]>> = {
  'notifications/progress': [['progressToken']],
  'notifications/cancelled': [['requestId']],
  'notifications/resources/updated': [['uri']],
  'notifications/elicitation/complete': [['elicitationId']],
  'notifications/tasks/status': [['taskId']],
  'elicitation/create': [['elicitationId']],
};
const ANY_PARAMS: readonly (readonly string[])[] = [['_meta', RELATED_TASK, 'taskId']];
const REQUEST_PARAMS: readonly (readonly string[])[] = [['_meta', 'progressToken']];

/** `masked` with the value at `path` as it is in `original` (copied where it changes; unchanged where the value is absent). */
function restoreAt(masked: unknown, original: unknown, path: readonly string[]): unknown {
  if (path.length === 0) return masked === original ? masked : original;
  const [step, ...rest] = path as [string, ...string[]];
  if (step === '*') {
    if (!Array.isArray(masked) || !Array.isArray(original) || masked.length !== original.length) return masked;
    let copy: unknown[] | undefined;
    for (let i = 0; i < masked.length; i++) {
      const item = restoreAt(masked[i], original[i], rest);
      if (item !== masked[i]) (copy ??= masked.slice())[i] = item;
    }
    return copy ?? masked;
  }
  if (!isObject(masked) || !isObject(original) || !Object.hasOwn(original, step) || !Object.hasOwn(masked, step)) return masked;
  const value = restoreAt(masked[step], original[step], rest);
  return value === masked[step] ? masked : { ...masked, [step]: value };
}

/**
 * What the client sends back, kept as it was in a message masked for it (`masking.inline`): the JSON-RPC id (its
 * own in an answer; the server's in a request, which the client answers under), a progress token, the request a
 * cancellation names, a page's cursor, the names of tools and prompts it calls, the URIs of resources it reads and
 * of an update it matches, a task's id, an elicitation's. Masked, each breaks the protocol: an answer under an id
 * no one waits for (the client hangs), progress for no request, a next page the server calls invalid, a tool or a
 * resource not found. The client is given what it needs to go on, secret-looking or not (a presigned URL, a name
 * with an address in it); the record keeps them masked, correlated there by their tokens.
 */
export function keepCorrelation(masked: JSONRPCMessage, original: JSONRPCMessage): JSONRPCMessage {
  const was = original as Json;
  let out = masked as Json;
  if ('id' in was && out.id !== was.id) out = { ...out, id: was.id };
  if (isObject(was.result)) {
    let result = out.result;
    for (const path of RESULT_PATHS) result = restoreAt(result, was.result, path);
    if (result !== out.result) out = { ...out, result };
  }
  if (isObject(was.params)) {
    const method = typeof was.method === 'string' ? was.method : '';
    const paths = [...(Object.hasOwn(PARAMS_PATHS, method) ? (PARAMS_PATHS[method] as readonly (readonly string[])[]) : []), ...ANY_PARAMS, ...('id' in was ? REQUEST_PARAMS : [])];
    let params = out.params;
    for (const path of paths) params = restoreAt(params, was.params, path);
    if (params !== out.params) out = { ...out, params };
  }
  return out as JSONRPCMessage;
}
