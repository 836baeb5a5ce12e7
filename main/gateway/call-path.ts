import type { ApprovalRequest } from '../approvals/port.js';
import type { BrokerOutcome } from '../approvals/broker.js';
import type { AuditRecorder, MessageFacts } from '../audit/recorder.js';
import { formatDuration } from '../config/units.js';
import { maskClient, type Masker } from '../masking/masker.js';
import { createLineMasker } from '../masking/line-masker.js';
import { argsDigestOf, decideCall, isHidden, type ApprovalScope, type CallDecision, type GrantFacts, type PinState } from '../policy/decide.js';
import { ABSENT, member } from '../policy/json-path.js';
import type { PinStore } from '../policy/pin-store.js';
import type { CompiledPolicy } from '../policy/rules.js';
import { pickDefinition, reviewListing, type PinRecord, type ToolDefinition } from '../policy/tool-pins.js';
import { keepCorrelation } from './correlation.js';
import type { GatewayEvents } from './events.js';
import {
  errorResponse,
  GatewayErrorCode,
  idKey,
  isJSONRPCNotification,
  isJSONRPCRequest,
  isResponse,
  type JSONRPCMessage,
  type JSONRPCNotification,
  type JSONRPCRequest,
  type JSONRPCResponseMessage,
  type RequestId,
} from './jsonrpc.js';

/** JSON-RPC error code of a call that policy refused. */
export const POLICY_DENIED = -32016;

/** What the call path knows of a client request still waiting for its answer. */
export interface PendingRequest {
  readonly method: string;
  readonly tool?: string | undefined;
  /** `recording.exclude` keeps this call's messages out of the log (the call path decides it when the call arrives). */
  excluded: boolean;
  /** Handed to the upstream: if the upstream dies now, whether the call ran is unknown. */
  forwarded: boolean;
  /** Gatehouse is answering it itself (the answer waits for its record): the server's own answer no longer goes through. */
  answering?: boolean;
}

/** What the call path needs of a session: who it is, and where messages go. The session only routes. */
export interface PathSession {
  readonly id: string;
  readonly server: string;
  readonly client: Readonly<{ name?: string; version?: string; registration?: string }>;
  /** The client's request with this id key, while it still waits for its answer. */
  pending(key: string): PendingRequest | undefined;
  /** Every client request still waiting for its answer, by id key. */
  pendingRequests(): Iterable<[string, PendingRequest]>;
  sendUpstream(message: JSONRPCMessage): Promise<void>;
  /** Sends to the client; for a response, whether the request's stream was still open to take it. */
  sendClient(message: JSONRPCMessage): boolean;
  /** Calls `fire` if the request with this id key is still waiting `ms` from now (progress from the server restarts the clock). */
  armTimeout(key: string, ms: number, fire: () => void): void;
}

/** What the path needs to hold a call for a person: the approval broker. */
export interface Approvals {
  request(request: ApprovalRequest): Promise<BrokerOutcome>;
  /** The client cancelled a held call (`requestKey`), or its session ended (all of its calls): no one needs to decide them any more. */
  withdraw(sessionId: string, requestKey: string | undefined, reason: string): void;
}

export interface CallPathDeps {
  recorder: AuditRecorder;
  /** `inline`: the masker for what the client receives, when `masking.inline` is on. */
  live: () => { policy: CompiledPolicy; masker: Masker; inline: Masker | undefined; requireSignIn: boolean };
  pins: PinStore;
  grants: { active(now: number): readonly GrantFacts[] };
  approvals: Approvals;
  principal: () => { id: string; groups: readonly string[]; signedIn: boolean };
  now: () => number;
  /** How often a held call's client hears progress (if it gave a progress token). */
  progressEveryMs: () => number;
  /** gateway.requestTimeout: how long a forwarded request may go unanswered. */
  requestTimeoutMs: () => number;
}

/** Why Gatehouse answered a request itself, as the record and the JSON-RPC error's data say. */
type Outcome = 'refused' | 'not-run' | 'unknown' | 'failed';

type ToolsCall = JSONRPCRequest & { params?: { name?: unknown; arguments?: unknown; _meta?: { progressToken?: unknown } } };

const noop = () => undefined;

/**
 * The call path: what happens to every message, in one place, top to bottom.
 *
 * A client's tools/call: record it (write-ahead) -> decide (policy/decide.ts, one pure function over the
 * rules, the tool's pin, the grants and the principal) -> hold it for a person if asked -> record the
 * decision, and wait until both records are durable -> forward it, or answer the client with an error that
 * names the rule. Any other client message: record it -> forward it.
 *
 * What comes back: a response is checked against the tool pins (tools/list) -> recorded (write-ahead) ->
 * masked inline if configured -> delivered. Anything else: recorded -> masked inline -> delivered.
 *
 * Any failure on either side answers the request it belongs to with a JSON-RPC error that says what failed,
 * and every answer Gatehouse makes is recorded as it was sent (or not, when the client had gone).
 */
export class CallPath {
  /** Work that will end in an answer (a held call, a write-ahead): shutdown waits for it. */
  private readonly inProgress = new Set<Promise<unknown>>();
  /** Server answers on their way to the client, per session: a session that ends delivers them first. */
  private readonly delivering = new Map<string, Set<Promise<unknown>>>();
  /** Requests the server sent the client, per session, by id key: what the client's answers answer. */
  private readonly serverRequests = new Map<string, Map<string, string>>();

  constructor(private readonly deps: CallPathDeps) {}

  /**
   * A message from the client; requests are already tracked by the session (so that their answer has a
   * stream). Whatever fails while handling it, the message is not passed on and its request is answered.
   */
  fromClient(s: PathSession, message: JSONRPCMessage): void {
    try {
      this.clientMessage(s, message);
    } catch (err) {
      this.failed(s, 'client->server', message, err);
    }
  }
  /** Masks a line of text Gatehouse shows or keeps (an exit reason, a console line) as the log is masked. */
  maskText(text: string): string {
    return this.deps.live().masker.text(text);
  }

  /** A masker for one upstream's stderr, which remembers whether a line is inside a key or a secret block. */
  stderrMasker(): (line: string) => string {
    return createLineMasker(() => this.deps.live().masker);
  }


  /** A message from the upstream server; as for the client's, a failure withholds it and answers its request. */
  fromServer(s: PathSession, message: JSONRPCMessage): void {
    try {
      this.serverMessage(s, message);
    } catch (err) {
      this.failed(s, 'server->client', message, err);
    }
  }

  private failed(s: PathSession, direction: MessageFacts['direction'], message: JSONRPCMessage, err: unknown): void {
    const why = `Gatehouse could not handle this message, so it was not passed on: ${describe(err)}`;
    try {
      if (direction === 'client->server' && isJSONRPCRequest(message)) return void this.answer(s, message.id, GatewayErrorCode.InterceptorFailed, why, 'not-run');
      if (direction === 'server->client' && isJSONRPCRequest(message)) return this.answerServer(s, message.id, why);
      if (direction === 'server->client' && isResponse(message)) return void this.answer(s, message.id as RequestId, GatewayErrorCode.InterceptorFailed, why, 'failed');
    } catch {
      // Answering failed too (the log refuses even a small record): the event below still says what happened.
    }
    void this.deps.recorder.event(s.id, s.server, 'error', { message: `${direction} ${describe(err)}` });
  }

  private clientMessage(s: PathSession, message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      if (message.method === 'tools/call') return this.track(this.clientCall(s, message as ToolsCall));
      return this.clientRequest(s, message);
    }
    if (isJSONRPCNotification(message)) {
      if (message.method === 'tools/call') return this.track(this.callWithoutId(s, message));
      if (message.method === 'notifications/cancelled') this.cancelled(s, message);
      return this.writeAhead(s, 'client->server', message, this.record(s, 'client->server', message, { kind: 'notification', method: message.method }), () => this.forward(s, message), (err) => this.notPassedOn(s, 'a notification from the client', err));
    }
    if (isResponse(message)) {
      const method = this.serverRequests.get(s.id)?.get(idKey(message.id as RequestId));
      this.serverRequests.get(s.id)?.delete(idKey(message.id as RequestId));
      const recorded = this.record(s, 'client->server', message, { kind: 'error' in message ? 'error' : 'response', method });
      return this.writeAhead(s, 'client->server', message, recorded, () => this.forward(s, message), (err) => this.notPassedOn(s, "the client's answer to a request of the server", err));
    }
  }

  /**
   * Write-ahead, for every message either way: it is passed on (`pass`) only once its record is durable; a message
   * that cannot be recorded is not passed on at all (`refused`). Shutdown waits for it, as for any answer to come.
   */
  private writeAhead(s: PathSession, direction: MessageFacts['direction'], message: JSONRPCMessage, recorded: Promise<number>, pass: () => void, refused: (err: unknown) => void): void {
    this.track(
      recorded.then(
        () => {
          try {
            pass();
          } catch (err) {
            this.failed(s, direction, message, err);
          }
        },
        refused,
      ),
    );
  }

  /** A message that could not be recorded, and so was not passed on: said where it can be (the log refuses, most likely). */
  private notPassedOn(s: PathSession, what: string, err: unknown): void {
    void this.deps.recorder.event(s.id, s.server, 'error', { message: `${what} could not be recorded, so it was not passed on: ${describe(err)}` });
  }

  private serverMessage(s: PathSession, message: JSONRPCMessage): void {
    if (isResponse(message)) {
      let set = this.delivering.get(s.id);
      if (!set) this.delivering.set(s.id, (set = new Set()));
      return this.track(this.serverResponse(s, message), set);
    }
    let recorded: Promise<number>;
    if (isJSONRPCRequest(message)) {
      let requests = this.serverRequests.get(s.id);
      if (!requests) this.serverRequests.set(s.id, (requests = new Map()));
      requests.set(idKey(message.id), message.method);
      recorded = this.record(s, 'server->client', message, { kind: 'request', method: message.method });
    } else {
      recorded = this.record(s, 'server->client', message, { kind: 'notification', method: (message as JSONRPCNotification).method });
    }
    const withheld = (why: string) => {
      // What the server sent does not reach the client unrecorded or unmasked; a request of its is answered.
      if (isJSONRPCRequest(message)) this.answerServer(s, message.id, `Gatehouse could not pass this request on: ${why}`);
      else void this.deps.recorder.event(s.id, s.server, 'error', { message: `a notification from the server was withheld: ${why}` });
    };
    this.writeAhead(
      s,
      'server->client',
      message,
      recorded,
      () => {
        let out: JSONRPCMessage;
        try {
          out = this.inline(message);
        } catch (err) {
          return withheld(`masking failed (${describe(err)})`);
        }
        s.sendClient(out);
      },
      (err) => withheld(`it could not be recorded (${describe(err)})`),
    );
  }

  /** A message of Gatehouse's own to the client (an elicitation for an approval, its withdrawal, progress while held): recorded, then sent. */
  fromGatehouse(s: PathSession, message: JSONRPCRequest | JSONRPCNotification): void {
    const kind = isJSONRPCRequest(message) ? ('request' as const) : ('notification' as const);
    const recorded = this.record(s, 'server->client', message, { kind, method: message.method }, {}, undefined, 'gatehouse');
    this.writeAhead(s, 'server->client', message, recorded, () => void s.sendClient(message), (err) => this.notPassedOn(s, `Gatehouse's own ${message.method}`, err));
  }

  /** The client's answer to a request of Gatehouse's own: recorded (the approval it decides is recorded as a decision too). */
  answeredGatehouse(s: PathSession, response: JSONRPCResponseMessage, method: string): void {
    this.record(s, 'client->server', response, { kind: 'error' in response ? 'error' : 'response', method }, {}, { to: 'gatehouse' });
  }

  /** The server sent something that is not JSON-RPC: recorded, and the request it names (if it was sent one) is answered. */
  malformedFromServer(s: PathSession, id: RequestId | undefined, reason: string): void {
    void this.deps.recorder.event(s.id, s.server, 'malformed-message', { id, reason });
    if (id === undefined || !s.pending(idKey(id))?.forwarded) return;
    this.answer(s, id, GatewayErrorCode.UpstreamMalformed, `upstream server "${s.server}" answered with something that is ${reason}; whether it ran is unknown`, 'unknown');
  }

  /**
   * A request the session cannot take (its id is already in flight, or the session has ended): recorded, and
   * answered on the stream it came by, since no answer could be routed to it by its id.
   */
  refuse(s: PathSession, request: JSONRPCRequest, code: number, message: string, deliver: (m: JSONRPCMessage) => boolean): void {
    let asked: Promise<unknown>;
    try {
      asked = this.record(s, 'client->server', request, { kind: 'request', method: request.method });
    } catch (err) {
      asked = this.deps.recorder.event(s.id, s.server, 'error', { message: `a refused request could not be recorded: ${describe(err)}`, id: request.id });
    }
    const answer = errorResponse(request.id, code, message, { outcome: 'not-run' });
    const answered = this.recordAnswer(s, answer, { method: request.method }, 'not-run');
    this.track(this.afterRecords([asked, answered], () => this.delivered(s, request.id, deliver(answer))));
  }

  /**
   * The session is ending: every request still waiting is answered, saying whether it ran (`not-run`: it was
   * never forwarded; `unknown`: the upstream had it and never answered), and held calls are withdrawn.
   */
  async sessionClosing(s: PathSession, reason: string, code: number): Promise<void> {
    const delivering = this.delivering.get(s.id);
    if (delivering?.size) await this.settle([...delivering], 2000);
    this.delivering.delete(s.id);
    const answers: Promise<void>[] = [];
    for (const [key, request] of [...s.pendingRequests()]) {
      const outcome: Outcome = request.forwarded ? 'unknown' : 'not-run';
      const id = parseKey(key);
      const said = request.forwarded ? `${reason}; whether the server ran it is unknown` : `${reason}; it was not run`;
      answers.push(this.answer(s, id, code, said, outcome));
    }
    // Each answer goes once its record is durable (bounded: a session must end even on a disk that stalls).
    if (answers.length) await this.settle(answers, 5000);
    this.deps.approvals.withdraw(s.id, undefined, reason);
    this.serverRequests.delete(s.id);
  }

  /** Resolves once every held call and write-ahead in progress has ended in an answer (bounded: shutdown must not hang). */
  async settled(timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.inProgress.size > 0 && Date.now() < deadline) await this.settle([...this.inProgress], deadline - Date.now());
  }

  private async settle(work: Promise<unknown>[], ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled(work), new Promise((r) => (timer = setTimeout(r, ms)))]);
    clearTimeout(timer);
  }

  private track(work: Promise<void>, also?: Set<Promise<unknown>>): void {
    this.inProgress.add(work);
    also?.add(work);
    const done = () => {
      this.inProgress.delete(work);
      also?.delete(work);
    };
    // Each flow answers its own failures; the rejection branch only keeps a bug from going unhandled.
    work.then(done, (err: unknown) => {
      done();
      void this.deps.recorder.event(undefined, undefined, 'error', { message: `call path: ${describe(err)}` });
    });
  }

  // ── client -> server ────────────────────────────────────────────────────────────────────────────────

  private clientRequest(s: PathSession, request: JSONRPCRequest): void {
    const mine = s.pending(idKey(request.id));
    const recorded = this.record(s, 'client->server', request, { kind: 'request', method: request.method });
    this.writeAhead(
      s,
      'client->server',
      request,
      recorded,
      () => {
        // (Not if it was answered meanwhile: the client cancelled it, or its session ended.)
        if (mine !== undefined && (s.pending(idKey(request.id)) !== mine || mine.answering)) return;
        this.forward(s, request);
      },
      (err) => void this.answer(s, request.id, GatewayErrorCode.RecordingFailed, `Gatehouse could not record this request, so it was not forwarded: ${describe(err)}`, 'not-run'),
    );
  }

  private async clientCall(s: PathSession, call: ToolsCall): Promise<void> {
    const key = idKey(call.id);
    const tool = typeof call.params?.name === 'string' ? call.params.name : '';
    const args = argumentsOf(call.params);
    const excluded = tool !== '' && this.deps.recorder.callExclusion(s.server, tool) !== undefined;
    // This call, and no other: a later request that reuses its id (after a cancel) is another entry.
    const mine = s.pending(key);
    const current = () => mine !== undefined && s.pending(key) === mine;
    if (mine) mine.excluded = excluded;
    try {
      const requestRecord = this.record(s, 'client->server', call, { kind: 'request', method: 'tools/call', tool }, { excludedCall: excluded });
      if (excluded) void this.deps.recorder.event(s.id, s.server, 'excluded-call', { rule: this.deps.recorder.callExclusion(s.server, tool), id: call.id }, { method: 'tools/call', tool });
      const started = this.deps.now();
      const decision = await this.decide(s, tool, args);
      const outcome = decision.action === 'approve' && decision.asked === 'approve' && current() ? await this.heldForPerson(s, call, tool, decision) : undefined;
      let allowed = outcome ? outcome.action === 'allow' : decision.action === 'allow';
      let reason = outcome?.reason ?? decision.reason;
      if (allowed && outcome && decision.asked === 'approve') {
        // What runs must be what was approved: a policy or tool definition that changed while it waited stops it.
        const changed = whatChanged(decision.scope, await this.decide(s, tool, args));
        if (changed) [allowed, reason] = [false, `${reason}, but ${changed}; call it again to be asked anew`];
      }
      if (!current()) [allowed, reason] = [false, 'the client cancelled the call, or its session ended, before it could run'];
      // Durable before the call goes anywhere: the request record was queued first, so one fsync covers both.
      const recorded = await Promise.all([
        requestRecord,
        this.deps.recorder.decision({ session: s.id, server: s.server, client: s.client, tool, id: call.id, decision: decisionRecord(decision, allowed, reason, outcome, this.deps.now() - started) }),
      ]).then(noop, (err: unknown) => err);
      if (!current()) return; // nothing to answer: the client withdrew it, or something else answered it
      if (recorded !== undefined) {
        return this.answer(s, call.id, GatewayErrorCode.RecordingFailed, `Gatehouse could not record this call, so it was not forwarded: ${describe(recorded)}`, 'not-run');
      }
      if (!allowed) {
        const by = decision.rule ? `rule "${decision.rule}"` : 'policy.default';
        return this.answer(s, call.id, POLICY_DENIED, `Gatehouse policy denied this call (${by}): ${reason}`, 'refused', { rule: decision.rule, action: decision.asked });
      }
      this.forward(s, call);
    } catch (err) {
      if (current()) this.answer(s, call.id, GatewayErrorCode.InterceptorFailed, `Gatehouse refused this call: it could not be decided (${describe(err)})`, 'not-run');
    }
  }

  /** A tools/call sent as a notification: decided and recorded like any call, but never forwarded (nothing could answer it). */
  private async callWithoutId(s: PathSession, message: JSONRPCNotification): Promise<void> {
    const params = message.params as { name?: unknown; arguments?: unknown } | undefined;
    const tool = typeof params?.name === 'string' ? params.name : '';
    const excluded = tool !== '' && this.deps.recorder.callExclusion(s.server, tool) !== undefined;
    try {
      const recorded = this.record(s, 'client->server', message, { kind: 'notification', method: 'tools/call', tool }, { excludedCall: excluded });
      const decision = await this.decide(s, tool, argumentsOf(params));
      const reason = 'a tools/call sent as a notification (without an id) is never forwarded: no answer could reach the client';
      await Promise.all([recorded, this.deps.recorder.decision({ ...this.facts(s), tool, id: undefined, decision: { ...decisionRecord(decision, false, reason, undefined, 0), notForwarded: true } })]);
    } catch (err) {
      void this.deps.recorder.event(s.id, s.server, 'error', { message: `a tools/call notification could not be recorded; it was not forwarded: ${describe(err)}` });
    }
  }

  private async decide(s: PathSession, tool: string, args: unknown): Promise<CallDecision> {
    const { policy } = this.deps.live();
    const who = this.deps.principal();
    await this.deps.pins.refresh();
    const now = this.deps.now();
    return decideCall({
      call: { server: s.server, tool, args: args ?? {}, principal: who.id, groups: who.groups },
      policy,
      pin: tool ? pinState(this.deps.pins.pinFor(s.server, tool)) : undefined,
      grants: this.deps.grants.active(now),
      now,
      signIn: { required: this.deps.live().requireSignIn, signedIn: who.signedIn },
      storedTool: this.deps.live().masker.text(tool),
    });
  }

  /**
   * Holds the call until a person decides (or the timeout denies it). A client that asked for progress (a
   * progress token) hears it meanwhile, so that it does not give up on the call first.
   */
  private async heldForPerson(s: PathSession, call: ToolsCall, tool: string, decision: CallDecision & { asked: 'approve' }): Promise<BrokerOutcome> {
    const args = argumentsOf(call.params) ?? {};
    const waiting = this.deps.approvals.request({
      sessionId: s.id,
      requestKey: idKey(call.id),
      server: s.server,
      tool,
      args: this.deps.live().masker.json(args),
      principal: decision.scope.principal,
      client: maskClient(s.client, (v) => this.deps.live().masker.text(v)),
      rule: decision.rule,
      reason: decision.reason,
      approvers: decision.approvers,
      reauth: decision.reauth === true,
      toolChanged: decision.toolChanged,
      scope: decision.scope,
      argsDigest: argsDigestOf(args),
    });
    const token = call.params?._meta?.progressToken;
    if (typeof token !== 'string' && typeof token !== 'number') return waiting;
    const started = this.deps.now();
    const timer = setInterval(() => {
      const waited = Math.round((this.deps.now() - started) / 1000);
      this.fromGatehouse(s, { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: waited, message: `waiting for approval (${waited}s)` } });
    }, this.deps.progressEveryMs());
    try {
      return await waiting;
    } finally {
      clearInterval(timer);
    }
  }

  private cancelled(s: PathSession, message: JSONRPCNotification): void {
    const requestId = (message.params as { requestId?: unknown } | undefined)?.requestId;
    if (typeof requestId === 'string' || typeof requestId === 'number') this.deps.approvals.withdraw(s.id, idKey(requestId), 'the client cancelled the call');
  }

  // ── server -> client ────────────────────────────────────────────────────────────────────────────────

  private async serverResponse(s: PathSession, response: JSONRPCResponseMessage): Promise<void> {
    const id = response.id as RequestId;
    const request = s.pending(idKey(id));
    const about = { kind: 'error' in response ? ('error' as const) : ('response' as const), method: request?.method, tool: request?.tool };
    if (!request?.forwarded || request.answering) {
      // Nothing waits for it from the server: cancelled, already answered by Gatehouse, or never sent to it (a
      // held call the server is trying to answer in advance). Recorded, and said to be undelivered.
      const why = request?.answering ? 'Gatehouse had already answered this request itself' : request ? 'the server answered a request it was never sent' : 'no request with this id was waiting (cancelled, or already answered)';
      this.record(s, 'server->client', response, about, {}, { undelivered: why });
      return;
    }
    let step = 'the tool pins could not be checked';
    try {
      let out: JSONRPCMessage = response;
      let withheld: string[] = [];
      if (request.method === 'tools/list' && 'result' in response) ({ message: out, withheld } = await this.reviewTools(s, response));
      step = 'it could not be recorded';
      await this.record(s, 'server->client', response, about, { excludedCall: request.excluded }, withheld.length ? { withheld } : undefined);
      step = 'masking failed';
      const delivered = s.sendClient(this.inline(out));
      if (!delivered) void this.deps.recorder.event(s.id, s.server, 'undelivered', { id, reason: 'the client had gone before the answer could be sent' });
    } catch (err) {
      if (step === 'the tool pins could not be checked') this.record(s, 'server->client', response, about, { excludedCall: request.excluded }, { undelivered: step });
      const code = step === 'it could not be recorded' ? GatewayErrorCode.RecordingFailed : GatewayErrorCode.InterceptorFailed;
      this.answer(s, id, code, `Gatehouse withheld the server's answer: ${step} (${describe(err)})`, 'failed');
    }
  }

  /** Checks a tools/list answer against the pins: new tools are pinned, changed ones recorded and handled by on_tool_change, hidden ones left out. */
  private async reviewTools(s: PathSession, response: JSONRPCResponseMessage & { result: unknown }): Promise<{ message: JSONRPCMessage; withheld: string[] }> {
    const result = response.result as { tools?: unknown };
    if (!Array.isArray(result.tools)) return { message: response, withheld: [] };
    const listed = (result.tools as unknown[]).filter((t): t is { name: string } & Record<string, unknown> => typeof (t as { name?: unknown } | null)?.name === 'string');
    const { policy } = this.deps.live();
    const who = this.deps.principal();
    const pins = this.deps.pins;
    await pins.refresh();
    const known = pins.server(s.server);
    const { masker } = this.deps.live();
    const review = reviewListing(known, listed.map(pickDefinition), (v) => masker.json(v));
    // A tool that appears on a server already pinned is worth a line of its own (a renamed or shadowing tool).
    if (Object.keys(known).length > 0) for (const tool of review.added) void this.deps.recorder.event(s.id, s.server, 'tool-added', { definition: tool }, { tool: tool.name });
    if (review.added.length || review.upgraded.length) await pins.pin(s.server, [...review.added, ...review.upgraded]);
    const withheld = new Set<string>();
    for (const change of review.changed) {
      if (!change.known) {
        void this.deps.recorder.event(s.id, s.server, 'tool-changed', { changes: change.changes, fingerprint: change.fingerprint, onToolChange: policy.onToolChange }, { tool: change.name });
      }
      if (policy.onToolChange === 'allow') await pins.accept(s.server, change.name);
      else if (!change.known) await pins.markPending(s.server, change.definition as ToolDefinition, change.changes);
      if (policy.onToolChange === 'deny') withheld.add(change.name);
    }
    const tools = (result.tools as unknown[]).filter((t) => {
      const name = (t as { name?: unknown } | null)?.name;
      if (typeof name !== 'string') return false; // a tool with no name cannot be pinned or decided: left out
      const keep = !withheld.has(name) && !isHidden(policy, { server: s.server, tool: name, principal: who.id, groups: who.groups });
      if (!keep) withheld.add(name);
      return keep;
    });
    if (tools.length === result.tools.length) return { message: response, withheld: [] };
    return { message: { ...response, result: { ...result, tools } }, withheld: [...withheld] };
  }

  // ── answers and records ─────────────────────────────────────────────────────────────────────────────

  /**
   * Gatehouse answers a client's request itself: recorded exactly as it will be sent, and sent once the record is
   * durable (or the log refused it: an error is always safe to send, and the client must not wait for ever). The
   * request counts as answered at once, so that the server's own answer arriving meanwhile does not make two.
   */
  private answer(s: PathSession, id: RequestId, code: number, message: string, outcome: Outcome, data: Record<string, unknown> = {}): Promise<void> {
    const request = s.pending(idKey(id));
    if (request?.answering) return Promise.resolve();
    if (request) request.answering = true;
    const response = errorResponse(id, code, message, { ...data, outcome });
    const recorded = this.recordAnswer(s, response, { method: request?.method, tool: request?.tool, excluded: request?.excluded }, outcome);
    const sent = this.afterRecords([recorded], () => this.delivered(s, id, s.sendClient(response)));
    this.track(sent);
    return sent;
  }

  private recordAnswer(s: PathSession, response: JSONRPCResponseMessage, about: { method?: string | undefined; tool?: string | undefined; excluded?: boolean | undefined }, outcome: Outcome): Promise<number> {
    return this.record(s, 'server->client', response, { kind: 'error', method: about.method, tool: about.tool }, { excludedCall: about.excluded ?? false }, { outcome }, 'gatehouse');
  }

  /** Runs `then` once every record has settled (durable, or refused by the log). */
  private async afterRecords(records: Promise<unknown>[], then: () => void): Promise<void> {
    await Promise.allSettled(records);
    then();
  }

  /** An answer of Gatehouse's that found no client to take it: recorded as such. */
  private delivered(s: PathSession, id: RequestId, delivered: boolean): void {
    if (!delivered) void this.deps.recorder.event(s.id, s.server, 'undelivered', { id, reason: 'the client had gone before the answer could be sent' });
  }

  /** Gatehouse answers a server's request itself (the client never saw it): recorded, then sent (the server must not wait for ever). */
  private answerServer(s: PathSession, id: RequestId, message: string): void {
    this.serverRequests.get(s.id)?.delete(idKey(id));
    const response = errorResponse(id, GatewayErrorCode.InterceptorFailed, message);
    const recorded = this.record(s, 'client->server', response, { kind: 'error' }, {}, { outcome: 'failed' }, 'gatehouse');
    this.track(this.afterRecords([recorded], () => void s.sendUpstream(response).catch(noop)));
  }

  private forward(s: PathSession, message: JSONRPCMessage): void {
    if (isJSONRPCRequest(message)) {
      const key = idKey(message.id);
      const pending = s.pending(key);
      if (pending) {
        pending.forwarded = true;
        const ms = this.deps.requestTimeoutMs();
        s.armTimeout(key, ms, () => this.timedOut(s, message, pending, ms));
      }
    }
    s.sendUpstream(message).catch((err: unknown) => {
      if (!isJSONRPCRequest(message)) return void this.deps.recorder.event(s.id, s.server, 'error', { message: `could not send to the upstream: ${describe(err)}` });
      // A message that never reached the server (it could not be woken, or there was no room) did not run.
      const forwarded = (s.pending(idKey(message.id))?.forwarded ?? false) && (err as { notSent?: boolean }).notSent !== true;
      this.answer(s, message.id, GatewayErrorCode.UpstreamUnavailable, describe(err), forwarded ? 'unknown' : 'not-run');
    });
  }

  /** The server did not answer in time: the client is told (outcome unknown: it may still run), the server is told to stop. */
  private timedOut(s: PathSession, request: JSONRPCRequest, pending: PendingRequest, ms: number): void {
    if (s.pending(idKey(request.id)) !== pending || pending.answering) return;
    const reason = `upstream server "${s.server}" did not answer within ${formatDuration(ms)} (gateway.requestTimeout); whether it ran is unknown`;
    void this.answer(s, request.id, GatewayErrorCode.UpstreamTimeout, reason, 'unknown');
    const cancel: JSONRPCNotification = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: request.id, reason } };
    const recorded = this.record(s, 'client->server', cancel, { kind: 'notification', method: cancel.method }, {}, undefined, 'gatehouse');
    this.writeAhead(s, 'client->server', cancel, recorded, () => void s.sendUpstream(cancel).catch(noop), (err) => this.notPassedOn(s, 'the cancellation of a request that timed out', err));
  }

  private record(
    s: PathSession,
    direction: MessageFacts['direction'],
    message: JSONRPCMessage,
    about: { kind: MessageFacts['kind']; method?: string | undefined; tool?: string | undefined },
    options: { excludedCall?: boolean } = {},
    detail?: Record<string, unknown>,
    from: MessageFacts['from'] = 'peer',
  ): Promise<number> {
    const id = 'id' in message ? (message.id as RequestId) : undefined;
    // Member by member, no spreads: this runs for every message, and spread objects are slow to build and to serialize.
    const recorded = this.deps.recorder.message(
      { session: s.id, server: s.server, client: s.client, direction, kind: about.kind, method: about.method, tool: about.tool, id, message, from, detail },
      options,
    );
    recorded.catch(noop); // the log reports its own failures; write-ahead steps await this promise themselves
    return recorded;
  }

  private inline(message: JSONRPCMessage): JSONRPCMessage {
    const { inline } = this.deps.live();
    return inline ? keepCorrelation(inline.json(message), message) : message;
  }

  private facts(s: PathSession): { session: string; server: string; client: Readonly<{ name?: string; version?: string; registration?: string }> } {
    return { session: s.id, server: s.server, client: s.client };
  }
}

/** What is recorded of a decision: what policy asked, what happened, who decided, and the scope a grant is bound to. */
function decisionRecord(decision: CallDecision, allowed: boolean, reason: string, outcome: BrokerOutcome | undefined, latencyMs: number): Record<string, unknown> {
  // Absent members are undefined (JSON leaves them out): one shape, built without spreads, on every call.
  return {
    action: decision.asked,
    outcome: allowed ? 'allow' : 'deny',
    rule: decision.rule,
    reason,
    toolChanged: decision.toolChanged ? true : undefined,
    approver: outcome?.by,
    port: decision.grant ? 'grant' : outcome?.port,
    waitedMs: outcome?.waitedMs,
    approvalId: outcome?.approvalId,
    authTime: outcome?.authTime === undefined ? undefined : new Date(outcome.authTime).toISOString(),
    grant: decision.grant ?? outcome?.grant,
    scope: decision.asked === 'approve' ? decision.scope : undefined,
    latencyMs,
  };
}

/** Why an approved call may no longer run: what was approved is not what policy would ask about now. */
function whatChanged(approved: ApprovalScope, now: CallDecision): string | undefined {
  if (now.action === 'allow') return undefined;
  if (now.asked !== 'approve') return `policy changed while it waited and now denies it (${now.rule ? `rule "${now.rule}"` : 'policy.default'}: ${now.reason})`;
  if (now.scope.toolDefinition !== approved.toolDefinition) return `the definition of tool "${approved.tool}" changed while it waited`;
  if (now.scope.askedBy !== approved.askedBy || now.scope.rule !== approved.rule) return `the rule that asked changed while it waited (now ${now.rule ? `rule "${now.rule}"` : 'policy.default'})`;
  return undefined;
}

/**
 * A call's arguments as a server would read them: `params.arguments`, or (where params carries no own one)
 * the one under a `__proto__` key, which a server that copies params onto an object reads through.
 */
function argumentsOf(params: unknown): unknown {
  const found = member(params, 'arguments');
  return found === ABSENT ? undefined : found;
}

function pinState(pin: PinRecord | undefined): PinState | undefined {
  return pin ? { accepted: pin.fingerprint, pending: pin.pending?.fingerprint } : undefined;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function parseKey(key: string): RequestId {
  return key.startsWith('n:') ? Number(key.slice(2)) : key.slice(2);
}

/** Records what the gateway reports of its sessions and upstreams (observers: they change no outcome). */
export function recordGatewayEvents(events: GatewayEvents, recorder: AuditRecorder): void {
  events.on('session-start', (e) => recorder.sessionStarted(e.sessionId, e.server));
  events.on('upstream-start', (e) => void recorder.event(e.sessionId, e.server, 'upstream-start', { kind: e.kind, pid: e.pid ?? undefined }));
  events.on('upstream-exit', (e) => void recorder.event(e.sessionId, e.server, 'upstream-exit', { reason: e.reason }));
  events.on('upstream-stderr', (e) => void recorder.event(e.sessionId, e.server, 'stderr', { line: e.line }));
  events.on('upstream-sleep', (e) => void recorder.event(e.sessionId, e.server, 'upstream-sleep', { reason: e.reason }));
  events.on('upstream-wake', (e) => void recorder.event(e.sessionId, e.server, 'upstream-wake', { replayed: e.replayed, client: e.client }));
  events.on('warning', (e) => void recorder.event(e.sessionId, e.server, 'error', { message: e.message }));
  events.on('stream-cut', (e) => void recorder.event(e.sessionId, e.server, 'stream-cut', { message: e.message }));
  events.on('http-refusal', (e) => void recorder.event(e.sessionId, e.server, 'http-refusal', { status: e.status, answer: e.answer, ...(e.registration !== undefined ? { registration: e.registration } : {}) }));
  events.on('session-end', (e) => recorder.sessionEnded(e.sessionId, e.server, e.reason));
}
