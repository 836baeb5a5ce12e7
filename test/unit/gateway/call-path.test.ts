/*
 * Write-ahead, for every message and both ways: nothing reaches a peer before its record is durable. Found by
 * the durability attacker (round 13) against a running gateway; each is a test here, with a recorder whose
 * records become durable only when the test says so (the disk, held), and a session that logs what it sent.
 * - A hostile or unlucky moment: the gateway dies (kill -9) after a message went on and before its record was
 *   durable. For a client's request other than tools/call (tools/list, resources/read, ping), a client's
 *   notification, a client's answer to a server's request, a server's request or notification to the client:
 *   each was passed on at once and recorded after; a crash lost its record.
 * - Gatehouse's own answers (a timeout, a refusal, a session's end, an upstream gone) were sent first and recorded
 *   after: the client held an answer the log never had. And the cancellation a timeout sends the server.
 * - The disk fails: a message that cannot be recorded is not passed on at all; a request is answered (-32015,
 *   not run), so that no client waits for an answer that cannot come.
 * - A race while an answer of Gatehouse's waits for its record: the server's own answer for the same id arrives
 *   then; the client gets one answer, not two.
 */
import { describe, expect, it } from 'vitest';
import type { AuditRecorder, MessageFacts } from '../../../main/audit/recorder.js';
import { CallPath, type PathSession, type PendingRequest } from '../../../main/gateway/call-path.js';
import { GatewayErrorCode, idKey, type JSONRPCMessage, type JSONRPCRequest } from '../../../main/gateway/jsonrpc.js';
import { createMasker } from '../../../main/masking/masker.js';
import type { PinStore } from '../../../main/policy/pin-store.js';
import type { CompiledPolicy } from '../../../main/policy/rules.js';

interface Held {
  facts: MessageFacts;
  resolve(): void;
  reject(err: Error): void;
}

/** A recorder whose message records are durable only once released; events are recorded at once. */
function heldRecorder() {
  const held: Held[] = [];
  const events: { event: string; detail: unknown }[] = [];
  const recorder = {
    callExclusion: () => undefined,
    message(facts: MessageFacts) {
      return new Promise<number>((resolve, reject) => held.push({ facts, resolve: () => resolve(held.length), reject }));
    },
    decision: () => Promise.resolve(1),
    event(_s: unknown, _v: unknown, event: string, detail: unknown) {
      events.push({ event, detail });
      return Promise.resolve(1);
    },
  } as unknown as AuditRecorder;
  return {
    recorder,
    held,
    events,
    release: () => held.splice(0).forEach((h) => h.resolve()),
    fail: () => held.splice(0).forEach((h) => h.reject(new Error('ENOSPC: no space left on device'))),
  };
}

/** A session that routes nothing: it logs what it sent each way, and tracks the client's requests as a session does. */
function loggingSession() {
  const toClient: JSONRPCMessage[] = [];
  const toServer: JSONRPCMessage[] = [];
  const inflight = new Map<string, PendingRequest & { timeout?: () => void }>();
  const session: PathSession = {
    id: 's1',
    server: 'spy',
    client: { name: 'c', version: '1' },
    pending: (key) => inflight.get(key),
    pendingRequests: () => inflight.entries(),
    sendUpstream: async (m) => void toServer.push(m),
    sendClient(m) {
      const id = (m as { id?: string | number }).id;
      if (!('method' in m) && id !== undefined) {
        if (!inflight.has(idKey(id))) return false;
        inflight.delete(idKey(id));
      }
      toClient.push(m);
      return true;
    },
    armTimeout: (key, _ms, fire) => {
      const entry = inflight.get(key);
      if (entry) entry.timeout = fire;
    },
  };
  const track = (request: JSONRPCRequest) => inflight.set(idKey(request.id), { method: request.method, excluded: false, forwarded: false });
  return { session, toClient, toServer, inflight, track };
}

function setup() {
  const rec = heldRecorder();
  const masker = createMasker({ detectors: ['secrets'], custom: [] }, Buffer.alloc(32, 1));
  const path = new CallPath({
    recorder: rec.recorder,
    live: () => ({ policy: {} as CompiledPolicy, masker, inline: undefined, requireSignIn: false }),
    pins: { refresh: async () => undefined, pinFor: () => undefined, server: () => ({}) } as unknown as PinStore,
    grants: { active: () => [] },
    approvals: { request: () => new Promise(() => undefined), withdraw: () => undefined },
    principal: () => ({ id: 'local:me', groups: [], signedIn: false }),
    now: () => Date.now(),
    progressEveryMs: () => 60_000,
    requestTimeoutMs: () => 60_000,
  });
  return { path, rec, ...loggingSession() };
}

const tick = () => new Promise((r) => setImmediate(r));
const request = (id: number, method: string): JSONRPCRequest => ({ jsonrpc: '2.0', id, method, params: {} });

describe('write-ahead for every message, both ways', () => {
  const clientMessages: [string, JSONRPCMessage][] = [
    ['a request other than tools/call (tools/list)', request(1, 'tools/list')],
    ['a resources/read', { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'file:///secret' } }],
    ['a ping', request(3, 'ping')],
    ['a notification', { jsonrpc: '2.0', method: 'notifications/roots/list_changed' }],
  ];
  for (const [what, message] of clientMessages) {
    it(`passes the client's ${what} on only once its record is durable`, async () => {
      const t = setup();
      if ('id' in message) t.track(message as JSONRPCRequest);
      t.path.fromClient(t.session, message);
      await tick();
      expect(t.toServer).toEqual([]);
      expect(t.rec.held.map((h) => h.facts.message)).toEqual([message]);
      t.rec.release();
      await tick();
      expect(t.toServer).toEqual([message]);
    });

    it(`does not pass the client's ${what} on when it cannot be recorded (a request is answered: not run)`, async () => {
      const t = setup();
      if ('id' in message) t.track(message as JSONRPCRequest);
      t.path.fromClient(t.session, message);
      await tick();
      t.rec.fail();
      for (let i = 0; i < 5; i++) await tick();
      t.rec.release(); // the answer's own record (the log refuses it too, in life)
      await tick();
      expect(t.toServer).toEqual([]);
      if ('id' in message) {
        expect(t.toClient).toHaveLength(1);
        expect(t.toClient[0]).toMatchObject({ id: (message as JSONRPCRequest).id, error: { code: GatewayErrorCode.RecordingFailed, data: { outcome: 'not-run' } } });
      } else expect(t.toClient).toEqual([]);
    });
  }

  it("passes the client's answer to a server's request on only once it is recorded", async () => {
    const t = setup();
    t.path.fromServer(t.session, { jsonrpc: '2.0', id: 'srv-1', method: 'roots/list', params: {} });
    t.rec.release();
    await tick();
    const answer: JSONRPCMessage = { jsonrpc: '2.0', id: 'srv-1', result: { roots: [] } };
    t.path.fromClient(t.session, answer);
    await tick();
    expect(t.toServer).toEqual([]);
    t.rec.release();
    await tick();
    expect(t.toServer).toEqual([answer]);
  });

  const serverMessages: [string, JSONRPCMessage][] = [
    ['request', { jsonrpc: '2.0', id: 'srv-2', method: 'sampling/createMessage', params: { messages: [], maxTokens: 1 } }],
    ['notification', { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x' } }],
  ];
  for (const [what, message] of serverMessages) {
    it(`passes the server's ${what} to the client only once its record is durable, and withholds it when it cannot be recorded`, async () => {
      const t = setup();
      t.path.fromServer(t.session, message);
      await tick();
      expect(t.toClient).toEqual([]);
      t.rec.release();
      await tick();
      expect(t.toClient).toEqual([message]);

      const u = setup();
      u.path.fromServer(u.session, message);
      await tick();
      u.rec.fail();
      for (let i = 0; i < 5; i++) await tick();
      u.rec.release();
      await tick();
      expect(u.toClient).toEqual([]);
      // A server's request that cannot be passed on is answered to the server, so that it does not wait for ever.
      if ('id' in message) expect(u.toServer).toMatchObject([{ id: 'srv-2', error: { code: GatewayErrorCode.InterceptorFailed } }]);
    });
  }

  it("sends Gatehouse's own answer (a timeout) only once it is recorded, and the server's cancellation too", async () => {
    const t = setup();
    const call = request(7, 'tools/list');
    t.track(call);
    t.path.fromClient(t.session, call);
    t.rec.release();
    await tick();
    expect(t.toServer).toEqual([call]);
    t.inflight.get(idKey(7))?.timeout?.();
    await tick();
    expect(t.toClient).toEqual([]);
    expect(t.toServer).toHaveLength(1);
    t.rec.release();
    await tick();
    expect(t.toClient).toMatchObject([{ id: 7, error: { code: GatewayErrorCode.UpstreamTimeout } }]);
    expect(t.toServer.at(-1)).toMatchObject({ method: 'notifications/cancelled', params: { requestId: 7 } });
  });

  it("gives the client one answer when the server's answer arrives while Gatehouse's own waits for its record", async () => {
    const t = setup();
    const call = request(8, 'tools/list');
    t.track(call);
    t.path.fromClient(t.session, call);
    t.rec.release();
    await tick();
    t.inflight.get(idKey(8))?.timeout?.();
    await tick();
    t.path.fromServer(t.session, { jsonrpc: '2.0', id: 8, result: { tools: [] } });
    for (let i = 0; i < 3; i++) {
      t.rec.release();
      await tick();
    }
    expect(t.toClient).toHaveLength(1);
    expect(t.toClient[0]).toMatchObject({ id: 8, error: { code: GatewayErrorCode.UpstreamTimeout } });
  });

  it("sends a refusal only once it is recorded, and still answers when the log refuses it (fail closed)", async () => {
    const t = setup();
    const delivered: JSONRPCMessage[] = [];
    t.path.refuse(t.session, request(9, 'tools/list'), -32600, 'id in use', (m) => (delivered.push(m), true));
    await tick();
    expect(delivered).toEqual([]);
    t.rec.release();
    await tick();
    expect(delivered).toMatchObject([{ id: 9, error: { code: -32600 } }]);

    const u = setup();
    const got: JSONRPCMessage[] = [];
    u.path.refuse(u.session, request(10, 'tools/list'), -32600, 'id in use', (m) => (got.push(m), true));
    await tick();
    u.rec.fail();
    for (let i = 0; i < 5; i++) await tick();
    expect(got).toMatchObject([{ id: 10, error: { code: -32600 } }]);
  });

  it("answers every request still waiting when the session ends, each once it is recorded", async () => {
    const t = setup();
    for (const id of [11, 12]) {
      t.track(request(id, 'tools/list'));
      t.path.fromClient(t.session, request(id, 'tools/list'));
    }
    t.rec.release();
    await tick();
    const closing = t.path.sessionClosing(t.session, 'the session ended', GatewayErrorCode.UpstreamClosed);
    await tick();
    expect(t.toClient).toEqual([]);
    t.rec.release();
    await closing;
    expect(t.toClient.map((m) => (m as { id: number }).id).sort()).toEqual([11, 12]);
  });
});
