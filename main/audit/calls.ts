import type { TimelineRecord } from '../api/types.js';

/** How a call ended: answered, denied by policy or a person, a JSON-RPC error, a tool's own failure, or not yet. */
export type CallOutcome = 'ok' | 'denied' | 'error' | 'tool-error' | 'waiting';

/** One call of a session, as a network panel shows it: its request with the decision on it and its answer. */
export interface Call {
  /** Its place among the session's calls, from 1 (what `#/session/ID/call/N` names). */
  n: number;
  request: TimelineRecord;
  decision?: TimelineRecord;
  response?: TimelineRecord;
  outcome: CallOutcome;
  /** From the request to its answer. */
  ms?: number;
  /** Whether masking replaced something in any of its records. */
  masked: boolean;
  /** The tool, or the method of anything but a tools/call. */
  name: string;
  /** Its arguments (or params), short, on one line. */
  gist: string;
}

const GIST = 120;

/**
 * The calls of a session's records: each request (either way) with the first answer to its id after it that
 * went the other way, and the decision on its id in between. Pure: the timeline's call table is this, shown.
 */
export function callsOf(records: readonly TimelineRecord[]): Call[] {
  const calls: Call[] = [];
  // Requests not answered yet, by direction and id (a client may use an id again once it is answered).
  const open = new Map<string, Call>();
  const key = (direction: string | undefined, id: string | number) => `${direction}\u0000${typeof id}:${String(id)}`;
  for (const r of records) {
    if (r.id === undefined) continue;
    if (r.kind === 'request') {
      const params = (r.payload as { params?: { arguments?: unknown } } | undefined)?.params;
      const shown = r.method === 'tools/call' ? params?.arguments : params;
      const text = shown === undefined ? '' : (JSON.stringify(shown) ?? '');
      const call: Call = { n: calls.length + 1, request: r, outcome: 'waiting', masked: r.masked === true, name: r.method === 'tools/call' && r.tool ? r.tool : (r.method ?? 'request'), gist: text.length > GIST ? `${text.slice(0, GIST - 1)}…` : text };
      calls.push(call);
      open.set(key(r.direction, r.id), call);
    } else if (r.kind === 'decision') {
      const call = open.get(key('client->server', r.id));
      if (call && !call.decision) {
        call.decision = r;
        call.masked ||= r.masked === true;
      }
    } else if (r.kind === 'response' || r.kind === 'error') {
      const asked = r.direction === 'server->client' ? 'client->server' : 'server->client';
      const call = open.get(key(asked, r.id));
      if (!call) continue;
      open.delete(key(asked, r.id));
      call.response = r;
      call.masked ||= r.masked === true;
      const ms = Date.parse(r.ts) - Date.parse(call.request.ts);
      if (Number.isFinite(ms)) call.ms = ms;
      call.outcome = outcomeOf(call);
    }
  }
  return calls;
}

function outcomeOf(call: Call): CallOutcome {
  const r = call.response as TimelineRecord;
  if (r.kind === 'error') {
    const refused = (r.detail as { from?: unknown; outcome?: unknown } | undefined)?.outcome === 'refused' || (call.decision?.decision as { outcome?: unknown } | undefined)?.outcome === 'deny';
    return refused ? 'denied' : 'error';
  }
  return (r.payload as { result?: { isError?: unknown } } | undefined)?.result?.isError === true ? 'tool-error' : 'ok';
}

/**
 * Whether a call holds `term` (case-blind) in what was said: its name, and the payload, decision and detail of
 * its records — what the sessions search looks in, so that a session found by a term opens at the call that has it.
 */
export function callHas(call: Call, term: string): boolean {
  const needle = term.trim().toLowerCase();
  if (needle === '') return true;
  if (call.name.toLowerCase().includes(needle)) return true;
  return [call.request, call.decision, call.response].some((r) => r !== undefined && [r.payload, r.decision, r.detail].some((part) => says(part, needle, 0)));
}
/** Whether a key or value in `value` holds `needle` (lower case), as written: a quote is a quote, not JSON's `\\"`. */
function says(value: unknown, needle: string, depth: number): boolean {
  if (typeof value === 'string') return value.toLowerCase().includes(needle);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).includes(needle);
  if (value === null || typeof value !== 'object' || depth > 64) return false;
  if (Array.isArray(value)) return value.some((v) => says(v, needle, depth + 1));
  return Object.entries(value).some(([k, v]) => k.toLowerCase().includes(needle) || says(v, needle, depth + 1));
}
