import type { HrTime } from '@opentelemetry/api';
import type { AnyValue, LogAttributes } from '@opentelemetry/api-logs';
import { resourceFromAttributes, type Resource } from '@opentelemetry/resources';
import type { ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { hostname, userInfo } from 'node:os';
import type { AuditRecord } from '../audit/record-shape.js';
import { VERSION } from '../api/version.js';

/** The event name every forwarded record carries (OpenTelemetry's EventName): a collector routes on it. */
export const EVENT_NAME = 'gatehouse.audit';
const SCOPE = { name: 'gatehouse.audit', version: VERSION };
const SEVERITY = { INFO: 9, WARN: 13 } as const;

/** Who sends: this app, this machine, this OS user (resource attributes, semantic conventions' names). */
export function gatehouseResource(): Resource {
  let owner = 'unknown';
  try {
    owner = userInfo().username;
  } catch {
    // no passwd entry (a container): left as unknown
  }
  return resourceFromAttributes({ 'service.name': 'gatehouse', 'service.version': VERSION, 'host.name': hostname(), 'os.type': process.platform === 'win32' ? 'windows' : process.platform, 'process.owner': owner });
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

function hrTimeOf(ts: string): HrTime {
  const ms = Date.parse(ts);
  const at = Number.isFinite(ms) ? ms : 0;
  return [Math.floor(at / 1000), (at % 1000) * 1_000_000];
}

/** The JSON-RPC error's code, or `tool_error` for a tool result with isError: OpenTelemetry's error.type. */
function errorType(record: AuditRecord): string | undefined {
  const payload = isObject(record.payload) ? record.payload : undefined;
  if (isObject(payload?.error)) return String(payload.error.code ?? 'error');
  if (isObject(payload?.result) && payload.result.isError === true) return 'tool_error';
  if (record.kind === 'error') return 'error';
  return undefined;
}

/** What the record is about, as the body: the masked message, else the decision, else the event's detail. */
function bodyOf(record: AuditRecord): AnyValue {
  const value = record.payload ?? record.decision ?? record.detail;
  return value === undefined ? null : (value as AnyValue);
}

/**
 * One audit record as an OpenTelemetry log record (an event named gatehouse.audit). Attributes use the names the
 * semantic conventions define (MCP, JSON-RPC, gen_ai, user, error.type; log.record.uid is the record's hash, so
 * that a collector drops duplicates) and `gatehouse.*` for the rest. Everything in it was stored, so masked.
 */
export function toLogRecord(record: AuditRecord, resource: Resource): ReadableLogRecord {
  const attributes: LogAttributes = {
    'log.record.uid': record.hash,
    'gatehouse.seq': record.seq,
    'gatehouse.prev': record.prev,
    'gatehouse.kind': record.kind,
  };
  const set = (key: string, value: string | number | boolean | string[] | undefined) => {
    if (value !== undefined) attributes[key] = value;
  };
  set('gatehouse.server', record.server);
  set('gatehouse.direction', record.direction);
  set('gatehouse.event', record.event);
  set('gatehouse.client.name', record.client?.name);
  set('gatehouse.client.version', record.client?.version);
  if (record.masked) set('gatehouse.masked', true);
  set('mcp.method.name', record.method);
  set('mcp.session.id', record.session);
  if (record.method === 'initialize' && isObject(record.payload) && isObject(record.payload.params)) {
    const version = record.payload.params.protocolVersion;
    set('mcp.protocol.version', typeof version === 'string' ? version : undefined);
  }
  set('jsonrpc.request.id', record.id === undefined ? undefined : String(record.id));
  set('gen_ai.tool.name', record.tool);
  if (record.method === 'tools/call' || (record.kind === 'decision' && record.tool)) set('gen_ai.operation.name', 'execute_tool');
  set('error.type', errorType(record));
  if (record.principal) {
    set('user.id', record.principal);
    if (!record.principal.startsWith('local:') && /^[^@\s]+@[^@\s]+$/.test(record.principal)) set('user.email', record.principal);
  }
  if (record.groups && record.groups.length > 0) set('user.roles', [...record.groups]);
  const decision = isObject(record.decision) ? record.decision : undefined;
  for (const key of ['action', 'outcome', 'rule', 'reason', 'approver'] as const) {
    const v = decision?.[key];
    if (typeof v === 'string') set(`gatehouse.decision.${key}`, v);
  }
  const denied = decision?.action === 'deny' || decision?.outcome === 'deny';
  const time = hrTimeOf(record.ts);
  return {
    hrTime: time,
    hrTimeObserved: time,
    severityNumber: denied || attributes['error.type'] !== undefined ? SEVERITY.WARN : SEVERITY.INFO,
    severityText: denied || attributes['error.type'] !== undefined ? 'WARN' : 'INFO',
    body: bodyOf(record),
    eventName: EVENT_NAME,
    resource,
    instrumentationScope: SCOPE,
    attributes,
    droppedAttributesCount: 0,
  };
}
