import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import protobuf from 'protobufjs';

const PROTO_ROOT = join(import.meta.dirname, '../fixtures/otlp-proto');

/** One log record as the receiver decoded it: attributes flattened to plain values. */
export interface ReceivedLog {
  eventName: string;
  attributes: Record<string, unknown>;
  body: unknown;
  severityText: string;
  timeUnixNano: string;
  resource: Record<string, unknown>;
  scope: string;
}

export interface Attempt {
  at: number;
  status: number;
  encoding: 'protobuf' | 'json';
  raw: Buffer;
  logs: ReceivedLog[];
}

/** What the receiver answers an attempt with: a status, headers, and an optional delay (a slow collector). */
export type Answer = { status: number; headers?: Record<string, string>; delayMs?: number };

type AnyValue = { stringValue?: string; boolValue?: boolean; intValue?: number | string; doubleValue?: number; arrayValue?: { values?: AnyValue[] }; kvlistValue?: { values?: KeyValue[] }; bytesValue?: unknown };
type KeyValue = { key: string; value?: AnyValue };

/** An OTLP AnyValue as a plain value (the same for both encodings: JSON's intValue is a string). */
function plain(v: AnyValue | undefined): unknown {
  if (!v) return null;
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.boolValue !== undefined) return v.boolValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.arrayValue) return (v.arrayValue.values ?? []).map(plain);
  if (v.kvlistValue) return attrs(v.kvlistValue.values);
  return null;
}
const attrs = (kvs: KeyValue[] | undefined): Record<string, unknown> => Object.fromEntries((kvs ?? []).map((kv) => [kv.key, plain(kv.value)]));

interface Request {
  resourceLogs?: { resource?: { attributes?: KeyValue[] }; scopeLogs?: { scope?: { name?: string }; logRecords?: { eventName?: string; attributes?: KeyValue[]; body?: AnyValue; severityText?: string; timeUnixNano?: string | number }[] }[] }[];
}

function flatten(req: Request): ReceivedLog[] {
  const out: ReceivedLog[] = [];
  for (const rl of req.resourceLogs ?? []) {
    for (const sl of rl.scopeLogs ?? []) {
      for (const lr of sl.logRecords ?? []) {
        out.push({ eventName: lr.eventName ?? '', attributes: attrs(lr.attributes), body: plain(lr.body), severityText: lr.severityText ?? '', timeUnixNano: String(lr.timeUnixNano ?? ''), resource: attrs(rl.resource?.attributes), scope: sl.scope?.name ?? '' });
      }
    }
  }
  return out;
}

/**
 * A real OTLP/HTTP logs receiver on 127.0.0.1: decodes protobuf with the official opentelemetry-proto
 * definitions (test/fixtures/otlp-proto) and JSON as the OTLP JSON mapping. `answer` decides each reply.
 */
export async function startReceiver(options: { port?: number; answer?: (attempt: number) => Answer } = {}) {
  // The protos import each other from the root of the repository they come from.
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => join(PROTO_ROOT, target);
  await root.load('opentelemetry/proto/collector/logs/v1/logs_service.proto');
  const type = root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest');
  const attempts: Attempt[] = [];
  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const json = (req.headers['content-type'] ?? '').includes('json');
      const decoded = json ? (JSON.parse(raw.toString('utf8')) as Request) : (type.toObject(type.decode(raw), { longs: String, defaults: false }) as Request);
      const answer = options.answer?.(attempts.length) ?? { status: 200 };
      attempts.push({ at: Date.now(), status: answer.status, encoding: json ? 'json' : 'protobuf', raw, logs: flatten(decoded) });
      setTimeout(() => {
        res.writeHead(answer.status, { 'content-type': json ? 'application/json' : 'application/x-protobuf', ...answer.headers });
        res.end(json ? '{}' : '');
      }, answer.delayMs ?? 0);
    });
  };
  let server: Server = createServer(handle);
  await new Promise<void>((r) => server.listen(options.port ?? 0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const close = () =>
    new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    });
  return {
    port,
    endpoint: `http://127.0.0.1:${port}/v1/logs`,
    attempts,
    /** Every record the receiver accepted (answered 2xx), in arrival order. */
    accepted: () => attempts.filter((a) => a.status >= 200 && a.status < 300).flatMap((a) => a.logs),
    close,
    /** Up again on the same port (a collector restarted). */
    async reopen() {
      server = createServer(handle);
      await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    },
  };
}
