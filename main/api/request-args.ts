import type { DeciderPort } from '../approvals/decider-port.js';
import { API_TABLE, type RequestParts, type Verb, type VerbArgs, type VerbResult } from './table.js';
import type { CoreApi } from './types.js';
import { approvalDecisionSchema, approvalId, pinAcceptSchema, recordingSchema, sessionFilterSchema, sessionId, wiringTargetSchema } from './validation.js';

/** What a request brought, whichever shell it came through: path parameters (decoded), its query, its JSON body. */
export interface Incoming {
  params: readonly string[];
  query: URLSearchParams;
  body: unknown;
}

type Parse<V extends Verb> = (incoming: Incoming) => VerbArgs<V> | { error: string };

/**
 * Each verb's arguments out of a request, checked before they reach the core: one place for HTTP bodies and
 * IPC arguments alike (an IPC call is read as the request the table makes of its arguments).
 */
const ARGS: { [V in Verb]: Parse<V> } = {
  status: () => [],
  servers: () => [],
  liveSessions: () => [],
  approvals: () => [],
  decideApproval: ({ params, body }) => {
    const id = approvalId.safeParse(params[0]);
    const decision = approvalDecisionSchema.safeParse(body);
    if (!id.success || !decision.success) return { error: 'expected {"action":"allow","forMs"?:N,"bindArgs"?:bool} or {"action":"deny","reason"?:"…"}, and an approval id' };
    return [id.data, decision.data];
  },
  grants: () => [],
  revokeGrant: ({ params }) => {
    const id = approvalId.safeParse(params[0]);
    return id.success ? [id.data] : { error: `"${params[0] ?? ''}" is not a grant id; \`gatehouse grants\` lists them` };
  },
  verify: () => [],
  sessions: ({ query }) => {
    const num = (k: string) => (query.has(k) ? Number(query.get(k)) : undefined);
    const text = (k: string) => query.get(k) ?? undefined;
    const given = { id: text('id'), server: text('server'), client: text('client'), tool: text('tool'), principal: text('principal'), decision: text('decision'), text: text('text'), since: num('since'), until: num('until'), offset: num('offset'), limit: num('limit') };
    const unknown = [...query.keys()].filter((k) => !(k in given));
    if (unknown.length > 0) return { error: `bad filter: no filter ${unknown.map((k) => `"${k}"`).join(', ')}` };
    const filter = sessionFilterSchema.safeParse(Object.fromEntries(Object.entries(given).filter(([, v]) => v !== undefined && v !== '')));
    return filter.success ? [filter.data] : { error: `bad filter: ${filter.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}` };
  },
  sessionRecords: ({ params }) => {
    const id = sessionId.safeParse(params[0]);
    return id.success ? [id.data] : { error: 'not a session id' };
  },
  policy: () => [],
  integrity: () => [],
  signIn: () => [],
  signOut: () => [],
  clients: () => [],
  wireClients: ({ body }) => wiringTarget(body),
  unwireClients: ({ body }) => wiringTarget(body),
  setRecordingPaused: ({ body }) => {
    const parsed = recordingSchema.safeParse(body);
    return parsed.success ? [parsed.data.paused] : { error: 'expected {"paused":true} or {"paused":false}' };
  },
  consent: ({ params }) => (OPAQUE_ID.test(params[0] ?? '') ? [params[0] as string] : { error: 'not a consent id' }),
  decideConsent: ({ params, body }) => {
    const allow = (body as { allow?: unknown } | null)?.allow;
    return OPAQUE_ID.test(params[0] ?? '') && typeof allow === 'boolean' ? [params[0] as string, allow] : { error: 'expected {"allow":true} or {"allow":false}, and a consent id' };
  },
  registrations: () => [],
  revokeRegistration: ({ params }) => (OPAQUE_ID.test(params[0] ?? '') ? [params[0] as string] : { error: `"${params[0] ?? ''}" is not a client id; \`gatehouse clients\` lists the registered ones` }),
  acceptPins: ({ body }) => {
    const parsed = pinAcceptSchema.safeParse(body);
    return parsed.success ? [parsed.data.server, parsed.data.tool, parsed.data.fingerprint] : { error: 'expected {"server":"…","tool"?:"…","fingerprint"?:"hex prefix"}' };
  },
};

/** A consent's or a registration's id: base64url or a UUID, nothing longer. */
const OPAQUE_ID = /^[A-Za-z0-9_-]{8,64}$/;

function wiringTarget(body: unknown): VerbArgs<'wireClients'> | { error: string } {
  const parsed = wiringTargetSchema.safeParse(body);
  return parsed.success ? [parsed.data.client] : { error: 'expected {"client":"claude-desktop|claude-code|cursor|vscode|windsurf|gemini|all"}' };
}

/** A verb's arguments out of what a request brought, or what was wrong with them. */
export function argsOf<V extends Verb>(verb: V, incoming: Incoming): VerbArgs<V> | { error: string } {
  return (ARGS[verb] as Parse<V>)(incoming);
}

/** An IPC call's arguments, read as the request the table makes of them (so that both shells check them alike). */
export function argsFromCall<V extends Verb>(verb: V, args: unknown[]): VerbArgs<V> | { error: string } {
  let parts: RequestParts;
  try {
    parts = (API_TABLE[verb].request as (...a: unknown[]) => RequestParts)(...args);
  } catch {
    return { error: `the arguments of ${verb} are not what it takes` };
  }
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(parts.query ?? {})) if (v !== undefined && v !== '') query.set(k, String(v));
  return argsOf(verb, { params: (parts.params ?? []).map(String), query, body: parts.body });
}

/** Calls the core's verb with checked arguments; a decision is recorded as made through `port` (the route's to say). */
export function callCore<V extends Verb>(api: CoreApi, verb: V, args: VerbArgs<V>, port: DeciderPort): Promise<VerbResult<V>> {
  if (verb === 'decideApproval') {
    const [id, decision] = args as VerbArgs<'decideApproval'>;
    return api.decideApproval(id, decision, port) as Promise<VerbResult<V>>;
  }
  return (api[verb] as (...a: unknown[]) => Promise<VerbResult<V>>)(...args);
}
