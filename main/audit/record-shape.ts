/**
 * The shape of an audit record, and nothing else: no imports, so that the UI's types (api/types.ts) can
 * describe records without pulling the log's code (and Node) into the renderer.
 */

export type RecordKind = 'request' | 'response' | 'notification' | 'error' | 'decision' | 'event' | 'checkpoint';
export type RecordDirection = 'client->server' | 'server->client';

/** What the recorder hands the log; seq, prev and hash are added when the record is committed. */
export interface AuditEntry {
  ts: string;
  session?: string;
  server?: string;
  principal?: string;
  /** The signed-in principal's groups, as the identity provider vouched for them (absent before sign-in, or when none). */
  groups?: readonly string[];
  /** The client as it named itself at initialize (masked), and the registration (OAuth client id) it signed in with, if any. */
  client?: { name?: string; version?: string; registration?: string };
  direction?: RecordDirection;
  kind: RecordKind;
  method?: string;
  tool?: string;
  /** The JSON-RPC id of a request or response, to pair them. */
  id?: string | number;
  /** For kind `event`: what happened (session-start, session-end, upstream-exit, repair, excluded, prune…). */
  event?: string;
  /** The JSON-RPC message as stored (masked where masking is on). */
  payload?: unknown;
  decision?: unknown;
  detail?: unknown;
  /** True when masking replaced something in this record's payload. */
  masked?: boolean;
}

/** A committed record: one JSON object per line of a segment. */
export interface AuditRecord extends AuditEntry {
  seq: number;
  prev: string;
  hash: string;
}

/** A break a gateway found at start and recorded (a cut tail, a missing or older head mark…). */
export interface RecordedBreak {
  seq: number;
  ts: string;
  reason: string;
  message: string;
}
