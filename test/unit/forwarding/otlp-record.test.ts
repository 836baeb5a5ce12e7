/*
 * The mapping of an audit record to an OpenTelemetry log record, over generated records. What could go wrong:
 * a record whose uid is not its hash (a collector could not drop duplicates, nor tie the record to the log), a
 * field that reaches the collector under another name than the README documents, a body that is not the stored
 * (masked) payload, or the two encodings saying different things. Each is a property checked on both encodings,
 * decoded by the receiver the integration tests use (the official protos).
 */
import { JsonLogsSerializer, ProtobufLogsSerializer } from '@opentelemetry/otlp-transformer';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../../main/audit/record-shape.js';
import { EVENT_NAME, gatehouseResource, toLogRecord } from '../../../main/forwarding/otlp-record.js';
import { startReceiver } from '../../helpers/otlp-receiver.js';

const hex = fc.stringMatching(/^[0-9a-f]{64}$/);
const json: fc.Arbitrary<unknown> = fc.jsonValue().map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const record: fc.Arbitrary<AuditRecord> = fc.record(
  {
    seq: fc.integer({ min: 1, max: 2 ** 40 }),
    prev: hex,
    hash: hex,
    ts: fc.date({ min: new Date('2020-01-01'), max: new Date('2040-01-01'), noInvalidDate: true }).map((d) => d.toISOString()),
    kind: fc.constantFrom('request', 'response', 'notification', 'error', 'decision', 'event', 'checkpoint'),
    session: fc.uuid(),
    server: fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/),
    principal: fc.oneof(fc.constant('local:ada'), fc.constant('ada@example.com')),
    groups: fc.array(fc.stringMatching(/^[a-z][a-z0-9-]{0,12}$/), { minLength: 1, maxLength: 4 }),
    method: fc.constantFrom('tools/call', 'tools/list', 'initialize', 'ping'),
    tool: fc.stringMatching(/^[a-z_]{1,12}$/),
    id: fc.oneof(fc.integer({ min: 0, max: 1e6 }), fc.string({ maxLength: 8 })),
    payload: json,
  },
  { requiredKeys: ['seq', 'prev', 'hash', 'ts', 'kind'] },
) as fc.Arbitrary<AuditRecord>;

let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(() => receiver.close());

describe('an audit record as an OpenTelemetry log record', () => {
  it('carries its hash as log.record.uid, its seq and chain, the semantic-convention names, and the payload as body: the same in protobuf and in JSON', async () => {
    const resource = gatehouseResource();
    await fc.assert(
      fc.asyncProperty(fc.array(record, { minLength: 1, maxLength: 5 }), async (records) => {
        const logs = records.map((r) => toLogRecord(r, resource));
        const decoded = [];
        for (const [contentType, serializer] of [['application/x-protobuf', ProtobufLogsSerializer], ['application/json', JsonLogsSerializer]] as const) {
          const before = receiver.attempts.length;
          await fetch(receiver.endpoint, { method: 'POST', headers: { 'content-type': contentType }, body: serializer.serializeRequest(logs) as Uint8Array });
          decoded.push(receiver.attempts.slice(before).flatMap((a) => a.logs));
        }
        const [proto, asJson] = decoded as [typeof decoded[0], typeof decoded[0]];
        expect(proto.map((l) => ({ ...l, timeUnixNano: l.timeUnixNano }))).toEqual(asJson);
        for (const [i, r] of records.entries()) {
          const got = proto[i] as (typeof proto)[0];
          expect(got.eventName).toBe(EVENT_NAME);
          expect(got.attributes).toMatchObject({ 'log.record.uid': r.hash, 'gatehouse.seq': r.seq, 'gatehouse.prev': r.prev, 'gatehouse.kind': r.kind });
          if (r.method) expect(got.attributes['mcp.method.name']).toBe(r.method);
          if (r.session) expect(got.attributes['mcp.session.id']).toBe(r.session);
          if (r.tool) expect(got.attributes['gen_ai.tool.name']).toBe(r.tool);
          if (r.id !== undefined) expect(got.attributes['jsonrpc.request.id']).toBe(String(r.id));
          if (r.principal) expect(got.attributes['user.id']).toBe(r.principal);
          expect('user.email' in got.attributes).toBe(r.principal === 'ada@example.com');
          expect(got.attributes['user.roles']).toEqual(r.groups);
          expect(got.timeUnixNano).toBe(String(BigInt(Date.parse(r.ts)) * 1_000_000n));
          expect(got.body).toEqual(plainBody(r.payload));
        }
      }),
      { numRuns: 40 },
    );
  });
});

/** What OTLP's AnyValue keeps of a JSON value: everything (an empty object stays an empty kvlist; null is empty). */
function plainBody(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (Array.isArray(v)) return v.map(plainBody);
  if (typeof v === 'object') return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, plainBody(x)]));
  return v;
}
