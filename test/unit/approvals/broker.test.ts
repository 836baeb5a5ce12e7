import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalBroker } from '../../../main/approvals/broker.js';
import { choiceFromElicitation, elicitationParams } from '../../../main/approvals/elicitation-port.js';
import { GrantStore } from '../../../main/approvals/grants.js';
import { digestOf } from '../../../main/policy/canonical-json.js';
import type { ApprovalRequest } from '../../../main/approvals/port.js';
import { TestClock } from '../../helpers/gateway-harness.js';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => rmSync(d, { recursive: true, force: true })));

async function broker(timeoutMs = 60_000) {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-broker-'));
  dirs.push(dir);
  const grants = await GrantStore.open(dir);
  const clock = new TestClock();
  return { broker: new ApprovalBroker(grants, () => timeoutMs, clock), grants, clock, dir };
}

const request = (over: Partial<ApprovalRequest> = {}): ApprovalRequest => ({
  sessionId: 's1',
  server: 'files',
  tool: 'write_file',
  args: { path: '/tmp/x' },
  principal: 'local:alice',
  client: { name: 'c' },
  requestKey: 'n:1',
  rule: 'writes',
  reason: 'writes are reviewed',
  approvers: [],
  toolChanged: false,
  scope: { principal: 'local:alice', server: 'files', tool: 'write_file', rule: 'writes', askedBy: 'r1', toolDefinition: 'f1' },
  argsDigest: digestOf({ path: '/tmp/x' }),
  ...over,
});

describe('the approval broker', () => {
  it('publishes a held call to every port, and the first decision wins', async () => {
    const { broker: b } = await broker();
    const seen: string[] = [];
    b.on('pending', (p) => seen.push(p.id));
    const outcome = b.request(request());
    const [id] = seen as [string];
    expect(b.list()).toHaveLength(1);
    const [first, second] = await Promise.all([b.decide(id, { action: 'deny', reason: 'no' }, { principal: 'local:bob', port: 'tray' }), b.decide(id, { action: 'allow' }, { principal: 'local:carol', port: 'web' })]);
    expect(first).toMatchObject({ ok: true, outcome: { action: 'deny', by: 'local:bob', port: 'tray', reason: 'denied by local:bob: no' } });
    expect(second).toEqual({ ok: false, why: 'already-decided' });
    expect(await outcome).toMatchObject({ action: 'deny', approvalId: id });
    expect(b.list()).toEqual([]);
  });

  it('`approvers`: only a member may allow, from any port but the client\'s own answer; anyone may deny; a refusal leaves the call waiting', async () => {
    const { broker: b } = await broker();
    const refused: string[] = [];
    b.on('refused', (_p, by, why) => refused.push(`${by.port}: ${why}`));
    const outcome = b.request(request({ approvers: ['platform-admins'] }));
    const id = (b.list()[0] as { id: string }).id;
    expect(await b.decide(id, { action: 'allow' }, { principal: 'local:me', port: 'tray' })).toMatchObject({ ok: false, why: 'not-an-approver' });
    expect(await b.decide(id, { action: 'allow' }, { principal: 'bob@example.com', groups: ['developers'], port: 'cli' })).toMatchObject({ ok: false, why: 'not-an-approver' });
    expect(await b.decide(id, { action: 'allow' }, { principal: 'alice@example.com', groups: ['platform-admins'], port: 'elicitation' })).toMatchObject({ ok: false, why: 'not-an-approver' });
    expect(refused).toHaveLength(3);
    expect(b.list()).toHaveLength(1);
    expect((await b.decide(id, { action: 'allow' }, { principal: 'alice@example.com', groups: ['platform-admins'], port: 'web' })).ok).toBe(true);
    expect(await outcome).toMatchObject({ action: 'allow', by: 'alice@example.com' });
    const denied = b.request(request({ approvers: ['platform-admins'] }));
    const other = (b.list()[0] as { id: string }).id;
    expect((await b.decide(other, { action: 'deny' }, { principal: 'bob@example.com', groups: ['developers'], port: 'cli' })).ok).toBe(true);
    expect(await denied).toMatchObject({ action: 'deny' });
  });

  it('step-up: each approval needs its own fresh sign-in, made after the call was held', async () => {
    const { broker: b, clock } = await broker();
    const first = b.request(request({ reauth: true }));
    const second = b.request(request({ reauth: true, requestKey: 'n:2' }));
    const [a, c] = b.list() as unknown as [{ id: string; createdAt: number }, { id: string }];
    const fresh = { principal: 'alice@example.com', groups: [], port: 'cli' as const, authTime: Math.floor(clock.now() / 1000) * 1000 + 1000 };
    expect(await b.decide(a.id, { action: 'allow' }, { ...fresh, authTime: a.createdAt - 60_000 })).toMatchObject({ ok: false, why: 'needs-fresh-sign-in' });
    expect((await b.decide(a.id, { action: 'allow', for: 3_600_000 }, fresh)).ok).toBe(true);
    expect(await b.decide(c.id, { action: 'allow' }, fresh)).toMatchObject({ ok: false, why: 'needs-fresh-sign-in' }); // the same sign-in, spent
    expect((await b.decide(c.id, { action: 'allow' }, { ...fresh, authTime: fresh.authTime + 1000 })).ok).toBe(true);
    expect(await first).toMatchObject({ action: 'allow' });
    expect((await first) as { grant?: string }).not.toHaveProperty('grant'); // never a grant
    expect(await second).toMatchObject({ action: 'allow' });
  });

  it('an unknown id is told so; a unique prefix works', async () => {
    const { broker: b } = await broker();
    void b.request(request());
    const id = (b.list()[0] as { id: string }).id;
    expect(await b.decide('nope', { action: 'allow' }, { principal: 'p', port: 'cli' })).toEqual({ ok: false, why: 'unknown' });
    expect((await b.decide(id.slice(0, 8), { action: 'allow' }, { principal: 'p', port: 'cli' })).ok).toBe(true);
  });

  it('undecided past the timeout is denied, naming the timeout', async () => {
    const { broker: b } = await broker(30);
    const outcome = await b.request(request());
    expect(outcome).toMatchObject({ action: 'deny', by: 'gatehouse', port: 'timeout' });
    expect(outcome.reason).toContain('writes are reviewed — it needed approval and no one decided within 0s');
  });

  it('allow-for saves a grant with the exact scope of the approved call (0600), and "these arguments only" keeps the digest', async () => {
    const { broker: b, grants, dir } = await broker();
    const first = b.request(request());
    await b.decide((b.list()[0] as { id: string }).id, { action: 'allow', for: 600_000 }, { principal: 'local:bob', port: 'cli' });
    const [made] = grants.active(Date.now());
    expect((await first).grant).toBe(made?.id);
    expect([made?.scope, made?.argsDigest]).toEqual([request().scope, undefined]);
    expect(statSync(join(dir, 'grants.json')).mode & 0o777).toBe(0o600);
    const second = b.request(request({ requestKey: 'n:2' }));
    await b.decide((b.list()[0] as { id: string }).id, { action: 'allow', for: 600_000, bindArgs: true }, { principal: 'local:bob', port: 'cli' });
    await second;
    expect(grants.active(Date.now())[1]).toMatchObject({ scope: request().scope, argsDigest: request().argsDigest });
  });

  it('a grant answers no held call: each waits on its own approval, and a decision resumes only its own', async () => {
    const { broker: b } = await broker();
    const one = b.request(request({ requestKey: 'n:1' }));
    const two = b.request(request({ requestKey: 'n:2' }));
    const first = b.list()[0] as { id: string };
    await b.decide(first.id, { action: 'allow', for: 600_000 }, { principal: 'local:bob', port: 'cli' });
    expect(await one).toMatchObject({ action: 'allow', approvalId: first.id });
    expect(b.list()).toHaveLength(1); // the look-alike still waits
    b.withdraw('s1', 'n:2', 'the client cancelled the call');
    expect(await two).toMatchObject({ action: 'deny', port: 'cancelled' });
  });

  it('denyAll denies everything pending with the reason', async () => {
    const { broker: b } = await broker();
    const outcomes = [b.request(request()), b.request(request({ tool: 'move_file' }))];
    b.denyAll('the gateway stopped');
    expect((await Promise.all(outcomes)).map((o) => [o.action, o.port, o.reason])).toEqual([
      ['deny', 'shutdown', 'the gateway stopped'],
      ['deny', 'shutdown', 'the gateway stopped'],
    ]);
  });
});

describe('grant files', () => {
  it('a grant written before grants had a scope, or edited into another shape, is dropped on load: it covers nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-grants-'));
    dirs.push(dir);
    const old = { id: 'g', principal: 'local:a', server: 'files', tool: 'write_file', createdAt: 0, expiresAt: Date.now() + 60_000, by: 'b', port: 'cli' };
    writeFileSync(join(dir, 'grants.json'), JSON.stringify({ grants: [old, { ...old, scope: { server: 'files' } }] }));
    expect((await GrantStore.open(dir)).active(Date.now())).toEqual([]);
  });
});

describe('the elicitation port', () => {
  it('asks with a form of three choices', () => {
    const params = elicitationParams({ id: 'i', request: request(), createdAt: 0, expiresAt: 1 }) as { message: string; requestedSchema: { properties: { decision: { oneOf: { const: string }[] } } } };
    expect(params.message).toContain('allow files / write_file?');
    expect(params.requestedSchema.properties.decision.oneOf.map((o) => o.const)).toEqual(['allow_once', 'allow_1h', 'deny']);
  });

  it.each([
    [{ action: 'accept', content: { decision: 'allow_once' } }, { action: 'allow' }],
    [{ action: 'accept', content: { decision: 'allow_1h' } }, { action: 'allow', for: 3_600_000 }],
    [{ action: 'accept', content: { decision: 'deny', reason: 'nope' } }, { action: 'deny', reason: 'nope' }],
    [{ action: 'accept', content: {} }, { action: 'deny', reason: 'denied in the client' }],
    [{ action: 'decline' }, { action: 'deny', reason: 'declined in the client' }],
    [{ action: 'cancel' }, { action: 'deny', reason: 'dismissed in the client' }],
    [undefined, { action: 'deny', reason: 'dismissed in the client' }],
  ])('answer %j → %j (anything but an explicit allow denies)', (answer, choice) => expect(choiceFromElicitation(answer)).toEqual(choice));
});
