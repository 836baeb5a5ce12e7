import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ApprovalBroker } from '../../../main/approvals/broker.js';
import { choiceFromElicitation, elicitationParams } from '../../../main/approvals/elicitation-port.js';
import { argsDigest, grantCovers, GrantStore, type Grant } from '../../../main/approvals/grants.js';
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
  rule: 'writes',
  reason: 'writes are reviewed',
  approvers: [],
  argsDigest: argsDigest({ path: '/tmp/x' }),
  rawArgs: { path: '/tmp/x' },
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
    expect(b.list()[0]?.request).not.toHaveProperty('rawArgs', expect.anything()); // real arguments are not kept
    const [first, second] = await Promise.all([b.decide(id, { action: 'deny', reason: 'no' }, { principal: 'local:bob', port: 'tray' }), b.decide(id, { action: 'allow' }, { principal: 'local:carol', port: 'web' })]);
    expect(first).toMatchObject({ ok: true, outcome: { action: 'deny', by: 'local:bob', port: 'tray', reason: 'denied by local:bob: no' } });
    expect(second).toEqual({ ok: false, why: 'already-decided' });
    expect(await outcome).toMatchObject({ action: 'deny', approvalId: id });
    expect(b.list()).toEqual([]);
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

  it('allow-for creates a grant that answers later identical calls at once, until it expires', async () => {
    const { broker: b, clock, dir } = await broker();
    const first = b.request(request());
    await b.decide((b.list()[0] as { id: string }).id, { action: 'allow', for: 600_000 }, { principal: 'local:bob', port: 'cli' });
    expect((await first).grant).toBeDefined();
    expect(await b.request(request({ args: { path: '/other' }, rawArgs: { path: '/other' } }))).toMatchObject({ action: 'allow', port: 'grant' });
    expect(statSync(join(dir, 'grants.json')).mode & 0o777).toBe(0o600);
    clock.advance(600_001);
    void b.request(request());
    expect(b.list()).toHaveLength(1);
    b.denyAll('stopping');
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

describe('grants', () => {
  const grant: Grant = { id: 'g', principal: 'local:a', server: 'files', tool: 'write_file', createdAt: 0, expiresAt: 1000, by: 'b', port: 'cli' };
  const call = { principal: 'local:a', server: 'files', tool: 'write_file', args: { path: '/x' } };
  it.each([
    [call, 500, true],
    [call, 1000, false],
    [{ ...call, principal: 'local:b' }, 500, false],
    [{ ...call, server: 'other' }, 500, false],
    [{ ...call, tool: 'edit_file' }, 500, false],
  ])('%j at %d → %s', (c, now, expected) => expect(grantCovers(grant, c, now)).toBe(expected));

  it('a grant bound to arguments covers only those (key order does not matter)', () => {
    const bound = { ...grant, argsDigest: argsDigest({ path: '/x', mode: 1 }) };
    expect(grantCovers(bound, { ...call, args: { mode: 1, path: '/x' } }, 1)).toBe(true);
    expect(grantCovers(bound, { ...call, args: { mode: 2, path: '/x' } }, 1)).toBe(false);
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
