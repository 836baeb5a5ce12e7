/*
 * The one decision a tools/call gets (decideCall). Attacks on it:
 *  - a deny that a tool change, a grant, or both, soften into an approval or an allow;
 *  - a grant made under one rule, principal, server, tool, tool definition or set of arguments that covers a
 *    call differing in any one of them, or a grant that outlives its expiry or an edit of its rule;
 *  - a call with no tool name slipping past every rule that names tools;
 *  - a decision that depends on anything but its inputs (the same input decided twice differently, or changed).
 * Generated rule sets, pin states and grants (fast-check) check each; a table pins the precedence by example.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { GatehouseConfig } from '../../../main/config/schema.js';
import { argsDigestOf, decide, decideCall, grantCovers, type ApprovalScope, type CallInput, type GrantFacts, type PinState } from '../../../main/policy/decide.js';
import { compilePolicy, STRICTNESS, type Action } from '../../../main/policy/rules.js';

const ACTIONS: Action[] = ['allow', 'approve', 'deny'];
const TOOLS = ['read', 'write', 'exec'];
const SERVERS = ['files', 'shell'];

type RawPolicy = GatehouseConfig['policy'];

const ruleArb = fc.record({
  tool: fc.option(fc.constantFrom(...TOOLS, 'w*', '*'), { nil: undefined }),
  server: fc.option(fc.constantFrom(...SERVERS), { nil: undefined }),
  arg: fc.option(fc.constantFrom('^/etc', 'rm', '^[0-9]+$'), { nil: undefined }),
  action: fc.constantFrom(...ACTIONS),
  reason: fc.option(fc.string({ maxLength: 8 }), { nil: undefined }),
});

const policyArb = fc.record({ default: fc.constantFrom(...ACTIONS), on_tool_change: fc.constantFrom(...ACTIONS), rules: fc.array(ruleArb, { maxLength: 6 }) }).map(
  (p): RawPolicy => ({
    default: p.default,
    on_tool_change: p.on_tool_change,
    rules: p.rules.map((r, i) => ({
      name: `r${i}`,
      match: { ...(r.tool ? { tool: r.tool } : {}), ...(r.server ? { server: r.server } : {}), ...(r.arg ? { args: { path: r.arg } } : {}) },
      action: r.action,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
    })),
  }),
);

const pinArb: fc.Arbitrary<PinState | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constantFrom('f1', 'f2').map((accepted) => ({ accepted })),
  fc.constantFrom('f1', 'f2').map((accepted) => ({ accepted, pending: accepted === 'f1' ? 'f2' : 'f1' })),
);

const callArb = fc.record({
  server: fc.constantFrom(...SERVERS),
  tool: fc.constantFrom(...TOOLS),
  args: fc.oneof(fc.constant({}), fc.record({ path: fc.constantFrom('/etc/passwd', '/home/x', 'rm -rf', '123', ['rm', '-rf']) })),
  principal: fc.constantFrom('local:alice', 'local:bob'),
  groups: fc.constant([] as string[]),
});

const NOW = 1_000_000;
const max = (a: Action, b: Action): Action => (STRICTNESS[b] > STRICTNESS[a] ? b : a);

/** A grant made for exactly this call's scope (bound to its arguments, or not), or a variant of it. */
function grantFor(scope: ApprovalScope, over: Partial<GrantFacts> = {}, expiresAt = NOW + 60_000, args?: unknown): GrantFacts {
  return { id: `g-${Math.random().toString(16).slice(2)}`, scope, ...(args !== undefined ? { argsDigest: argsDigestOf(args) } : {}), expiresAt, ...over };
}

const inputArb = fc.record({ raw: policyArb, pin: pinArb, call: callArb });
const toInput = (x: { raw: RawPolicy; pin: PinState | undefined; call: CallInput['call'] }, grants: GrantFacts[] = []): CallInput => ({ call: x.call, policy: compilePolicy(x.raw), pin: x.pin, grants, now: NOW });

describe('decideCall: the most restrictive outcome wins (deny > approve > allow)', () => {
  it('identity.required: with nobody signed in every call is denied, whatever the rules, pins and grants say; signed in, it changes nothing', () => {
    fc.assert(
      fc.property(inputArb, (x) => {
        const input = toInput(x);
        const out = decideCall({ ...input, signIn: { required: true, signedIn: false } });
        expect(out).toMatchObject({ asked: 'deny', action: 'deny', rule: 'identity.required' });
        expect(out.reason).toMatch(/gatehouse login/);
        expect(decideCall({ ...input, signIn: { required: true, signedIn: true } })).toEqual(decideCall(input));
        expect(decideCall({ ...input, signIn: { required: false, signedIn: false } })).toEqual(decideCall(input));
      }),
      { numRuns: 300 },
    );
  });

  it('asks for the stricter of the rule and the tool change, and with no grant does exactly that', () => {
    fc.assert(
      fc.property(inputArb, (x) => {
        const input = toInput(x);
        const d = decideCall(input);
        const byRule = decide(input.policy, x.call).action;
        const changed = x.pin?.pending !== undefined;
        expect(d.asked).toBe(changed ? max(byRule, input.policy.onToolChange) : byRule);
        expect(d.action).toBe(d.asked);
        expect(d.toolChanged).toBe(changed);
      }),
      { numRuns: 500 },
    );
  });

  it('a grant for exactly this scope lifts an approve to allow, and never lifts a deny', () => {
    fc.assert(
      fc.property(inputArb, fc.boolean(), (x, bindArgs) => {
        const plain = decideCall(toInput(x));
        // For a call that is not asked about there is no scope to grant; the nearest grant there could be.
        const scope = plain.scope ?? { principal: x.call.principal, server: x.call.server, tool: x.call.tool, rule: plain.rule, askedBy: 'any', toolDefinition: x.pin?.pending ?? x.pin?.accepted ?? null };
        const grant = grantFor(scope, {}, NOW + 1, bindArgs ? x.call.args : undefined);
        const d = decideCall(toInput(x, [grant]));
        if (plain.asked === 'approve') expect([d.action, d.grant]).toEqual(['allow', grant.id]);
        else expect([d.action, d.grant]).toEqual([plain.asked, undefined]);
      }),
      { numRuns: 500 },
    );
  });

  it('a grant that differs in any one part of the scope, or has expired, covers nothing', () => {
    const mutations: [string, (s: ApprovalScope) => Partial<GrantFacts>][] = [
      ['principal', (s) => ({ scope: { ...s, principal: `${s.principal}-other` } })],
      ['server', (s) => ({ scope: { ...s, server: `${s.server}-other` } })],
      ['tool', (s) => ({ scope: { ...s, tool: `${s.tool}-other` } })],
      ['rule', (s) => ({ scope: { ...s, rule: s.rule === 'r0' ? 'r1' : 'r0' } })],
      ['rule as written', (s) => ({ scope: { ...s, askedBy: 'another digest' } })],
      ['tool definition', (s) => ({ scope: { ...s, toolDefinition: s.toolDefinition === 'f1' ? 'f2' : 'f1' } })],
      ['arguments', () => ({ argsDigest: argsDigestOf({ other: 'arguments' }) })],
    ];
    fc.assert(
      fc.property(inputArb, fc.constantFrom(...mutations), fc.boolean(), (x, [, mutate], expired) => {
        const plain = decideCall(toInput(x));
        if (plain.asked !== 'approve') return;
        const grant = expired ? grantFor(plain.scope, {}, NOW) : grantFor(plain.scope, mutate(plain.scope));
        expect(grantCovers(grant, plain.scope, NOW, () => argsDigestOf(x.call.args))).toBe(false);
        expect(decideCall(toInput(x, [grant])).action).toBe('approve');
      }),
      { numRuns: 500 },
    );
  });

  it('editing the rule that asked (its reason, its action, its match) ends the cover of grants made under it', () => {
    fc.assert(
      fc.property(inputArb, fc.string({ minLength: 1, maxLength: 6 }), (x, extra) => {
        const plain = decideCall(toInput(x));
        if (plain.asked !== 'approve' || plain.rule === null || plain.rule === 'on_tool_change') return;
        const grant = grantFor(plain.scope);
        const edited: RawPolicy = { ...x.raw, rules: x.raw.rules.map((r) => (r.name === plain.rule ? { ...r, reason: `${r.reason ?? ''}${extra}` } : r)) };
        expect(decideCall(toInput({ ...x, raw: edited }, [grant])).action).toBe('approve');
      }),
      { numRuns: 300 },
    );
  });

  it('is pure: the same input gives the same decision, and the input is left as it was', () => {
    fc.assert(
      fc.property(inputArb, (x) => {
        const input = toInput(x);
        const before = JSON.stringify({ call: input.call, pin: input.pin, grants: input.grants });
        expect(decideCall(input)).toEqual(decideCall(input));
        expect(JSON.stringify({ call: input.call, pin: input.pin, grants: input.grants })).toBe(before);
      }),
      { numRuns: 200 },
    );
  });

  it('a call with no tool name is denied whatever the rules say', () => {
    fc.assert(
      fc.property(inputArb, (x) => {
        const d = decideCall(toInput({ ...x, call: { ...x.call, tool: '' } }));
        expect([d.asked, d.action]).toEqual(['deny', 'deny']);
      }),
      { numRuns: 100 },
    );
  });
});

describe('decideCall: precedence, by example', () => {
  // rule's action × on_tool_change, with the tool changed: what is asked.
  it.each([
    ['allow', 'allow', 'allow'],
    ['allow', 'approve', 'approve'],
    ['allow', 'deny', 'deny'],
    ['approve', 'allow', 'approve'],
    ['approve', 'approve', 'approve'],
    ['approve', 'deny', 'deny'],
    ['deny', 'allow', 'deny'],
    ['deny', 'approve', 'deny'],
    ['deny', 'deny', 'deny'],
  ] as const)('rule %s, on_tool_change %s → %s', (rule, onChange, expected) => {
    const policy = compilePolicy({ default: 'allow', on_tool_change: onChange, rules: [{ name: 'the-rule', match: { tool: 'write' }, action: rule }] });
    const d = decideCall({ call: { server: 'files', tool: 'write', args: {}, principal: 'p', groups: [] }, policy, pin: { accepted: 'f1', pending: 'f2' }, grants: [], now: NOW });
    expect(d.asked).toBe(expected);
    expect(d.rule).toBe(expected === rule ? 'the-rule' : 'on_tool_change');
  });

  it('an unchanged tool: on_tool_change has no say', () => {
    const policy = compilePolicy({ default: 'allow', on_tool_change: 'deny', rules: [] });
    expect(decideCall({ call: { server: 'files', tool: 'write', args: {}, principal: 'p', groups: [] }, policy, pin: { accepted: 'f1' }, grants: [], now: NOW }).action).toBe('allow');
  });
});
