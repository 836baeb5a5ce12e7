import { digestOf } from './canonical-json.js';
import { globMatch } from './glob.js';
import { textsOf, valuesAt } from './json-path.js';
import { STRICTNESS, type Action, type CompiledPolicy, type CompiledRule } from './rules.js';

/** A call as policy sees it: plain data. */
export interface CallFacts {
  server: string;
  tool: string;
  args: unknown;
  principal: string;
  groups: readonly string[];
}

/** What the rules alone say about a call (first match wins; `policy.default` for the rest). */
export interface Decision {
  action: Action;
  /** The rule that decided, or undefined for `policy.default`. */
  rule: string | undefined;
  reason: string;
  approvers: string[];
  reauth?: boolean;
  hide: boolean;
}

/** Why each rule did or did not match, in order, up to the one that decided. */
export interface RuleTrace {
  rule: string;
  matched: boolean;
  because: string;
}

/** A tool's pin, as the decision needs it: the accepted definition, and a changed one not yet accepted. */
export interface PinState {
  accepted: string;
  pending?: string | undefined;
}

/**
 * What a person approves, and so what a grant made from that approval is bound to: the principal, the server
 * and tool, what asked (the rule and its text as it was, and whether the tool's definition had changed), and
 * the tool's definition as the server then advertised it. A grant may also be bound to the arguments' digest
 * ("these arguments only").
 */
export interface ApprovalScope {
  principal: string;
  server: string;
  tool: string;
  /** The rule that asked, `on_tool_change`, or null for `policy.default`. */
  rule: string | null;
  /** Everything that asked, each with the digest of how it reads (the rule as written, the tool-change setting). */
  askedBy: string;
  /** Fingerprint of the tool's definition as the server advertised it; null if it was never listed. */
  toolDefinition: string | null;
}

/** A standing "yes" for calls in one scope until it expires; with `argsDigest`, only for those arguments. */
export interface GrantFacts {
  id: string;
  scope: ApprovalScope;
  argsDigest?: string | undefined;
  expiresAt: number;
}

/** SHA-256 of a call's canonical arguments: what a grant for "these arguments only" is bound to. */
export function argsDigestOf(args: unknown): string {
  return digestOf(args ?? {});
}

/** Everything one call is decided on: plain data, no I/O. */
export interface CallInput {
  call: CallFacts;
  policy: CompiledPolicy;
  /** The tool's pin on this server, if it was ever listed. */
  pin: PinState | undefined;
  grants: readonly GrantFacts[];
  now: number;
  /** `identity.required`: no call runs while nobody is signed in (or the sign-in expired and could not be renewed). */
  signIn?: { required: boolean; signedIn: boolean };
  /** The tool's name as it is stored (masked, since a client chooses it): an approval's scope, and so a grant, holds this. */
  storedTool?: string;
}

interface DecisionBase {
  /** The rule that decided, `on_tool_change`, or null for `policy.default`. */
  rule: string | null;
  reason: string;
  approvers: string[];
  /** The tool's definition changed since it was accepted, and the change is not accepted yet. */
  toolChanged: boolean;
}

/**
 * The decision on one call. `asked` is what policy asks for, before grants: the most restrictive of the
 * rule's action and the tool-change action. `action` is what happens now: `approve` holds the call for a
 * person, whose approval (and any grant made from it) is bound to `scope`; a grant in force for exactly that
 * scope turns it into `allow`. Nothing lifts a `deny`.
 */
export type CallDecision =
  | (DecisionBase & { asked: 'allow' | 'deny'; action: 'allow' | 'deny'; scope?: undefined; grant?: undefined })
  | (DecisionBase & { asked: 'approve'; action: 'approve' | 'allow'; scope: ApprovalScope; grant?: string; reauth?: boolean });

/** First match wins; `policy.default` decides what no rule matches. Pure. */
export function decide(policy: CompiledPolicy, call: CallFacts): Decision {
  for (const rule of policy.rules) if (whyNot(rule, call) === undefined) return fromRule(rule);
  return fromDefault(policy);
}

/**
 * The decision for one tools/call, made once, here. The rules and the tool's pin each ask for an action; the
 * most restrictive wins (deny > approve > allow). Only an `approve` can be lifted by a grant, and only by a
 * grant whose scope is exactly this call's: the same principal, server, tool, asking rule as written, tool
 * definition, and (when bound) arguments. Pure: it throws only on arguments too deep to walk, which the
 * caller answers as a failure (fail closed).
 */
export function decideCall(input: CallInput): CallDecision {
  const { call, policy, pin } = input;
  const toolChanged = pin?.pending !== undefined && pin.pending !== pin.accepted;
  if (call.tool === '') {
    return { asked: 'deny', action: 'deny', rule: null, reason: 'a tools/call must name its tool (params.name, a non-empty string)', approvers: [], toolChanged };
  }
  if (input.signIn?.required && !input.signIn.signedIn) {
    return { asked: 'deny', action: 'deny', rule: 'identity.required', reason: 'nobody is signed in, and identity.required says no call runs until someone is: run `gatehouse login`', approvers: [], toolChanged };
  }
  const byRule = decide(policy, call);
  const asks: { source: string; action: Action; reason: string }[] = [{ source: byRule.rule ?? 'policy.default', action: byRule.action, reason: byRule.reason }];
  if (toolChanged) asks.push({ source: 'on_tool_change', action: policy.onToolChange, reason: toolChangeReason(call.server, call.tool) });

  const asked = asks.reduce<Action>((a, b) => (STRICTNESS[b.action] > STRICTNESS[a] ? b.action : a), 'allow');
  const deciding = asks.filter((a) => a.action === asked);
  const rule = deciding[0]?.source === 'policy.default' ? null : (deciding[0]?.source ?? null);
  const reason = deciding.length === 1 ? (deciding[0] as { reason: string }).reason : deciding.map((a) => a.reason).join('; and ');
  const approvers = deciding.some((a) => a.source === byRule.rule) ? byRule.approvers : [];
  // Built member by member (no spreads): the allow path runs on every call.
  if (asked !== 'approve') return { asked, action: asked, rule, reason, approvers, toolChanged };

  const reauth = deciding.some((a) => a.source === byRule.rule) && byRule.reauth === true;
  const scope: ApprovalScope = {
    principal: call.principal,
    server: call.server,
    tool: input.storedTool ?? call.tool,
    rule,
    askedBy: JSON.stringify(deciding.map((a) => [a.source, askDigest(policy, a.source)])),
    toolDefinition: pin ? (pin.pending ?? pin.accepted) : null,
  };
  // The arguments' digest is computed only when a grant bound to arguments could cover the call: the common
  // path does not hash every call's arguments.
  let digest: string | undefined;
  const argsDigest = () => (digest ??= argsDigestOf(call.args));
  const grant = input.grants.find((g) => grantCovers(g, scope, input.now, argsDigest));
  // Step-up calls are never covered by a grant: each one needs its own fresh sign-in.
  if (!grant || reauth) return { asked, action: 'approve', rule, reason, approvers, toolChanged, scope, reauth };
  return { asked, action: 'allow', rule, reason: `${reason} — allowed by grant ${grant.id.slice(0, 8)} until ${new Date(grant.expiresAt).toISOString()}`, approvers, toolChanged, scope, grant: grant.id };
}

/** Whether a grant covers a call in `scope` at `now` (`argsDigest` is asked for only by a grant bound to arguments). Pure. */
export function grantCovers(grant: GrantFacts, scope: ApprovalScope, now: number, argsDigest: () => string): boolean {
  const g = grant.scope;
  return (
    grant.expiresAt > now &&
    g.principal === scope.principal &&
    g.server === scope.server &&
    g.tool === scope.tool &&
    g.rule === scope.rule &&
    g.askedBy === scope.askedBy &&
    g.toolDefinition === scope.toolDefinition &&
    (grant.argsDigest === undefined || grant.argsDigest === argsDigest())
  );
}

/** The same decision, with the reason every earlier rule did not match. */
export function explain(policy: CompiledPolicy, call: CallFacts): { decision: Decision; trace: RuleTrace[] } {
  const trace: RuleTrace[] = [];
  for (const rule of policy.rules) {
    const why = whyNot(rule, call);
    if (why === undefined) {
      trace.push({ rule: rule.name, matched: true, because: describeMatch(rule) });
      return { decision: fromRule(rule), trace };
    }
    trace.push({ rule: rule.name, matched: false, because: why });
  }
  return { decision: fromDefault(policy), trace };
}

/**
 * Whether a tool is hidden from tools/list: the first rule that can apply to it whatever its arguments
 * denies it and says `hide: true`. Rules that look at arguments cannot decide that, so they are skipped.
 */
export function isHidden(policy: CompiledPolicy, call: Omit<CallFacts, 'args'>): boolean {
  for (const rule of policy.rules) {
    if (rule.args.length > 0) continue;
    if (whyNot(rule, { ...call, args: {} }) === undefined) return rule.action === 'deny' && rule.hide;
  }
  return false;
}

export function toolChangeReason(server: string, tool: string): string {
  return `the definition of tool "${tool}" changed since it was accepted; review it with \`gatehouse pins\` and accept it with \`gatehouse pins accept ${server} ${tool}\``;
}

/** What asked, as it reads now: a rule as written, policy.default's action, or on_tool_change's. */
function askDigest(policy: CompiledPolicy, source: string): string {
  if (source === 'policy.default') return digestOf({ default: policy.default });
  if (source === 'on_tool_change') return digestOf({ on_tool_change: policy.onToolChange });
  return policy.rules.find((r) => r.name === source)?.digest ?? digestOf({ rule: source });
}

function whyNot(rule: CompiledRule, call: CallFacts): string | undefined {
  if (rule.server && !rule.server.some((p) => globMatch(p, call.server))) return `server "${call.server}" is not ${rule.server.join(' or ')}`;
  if (rule.tool && !rule.tool.some((p) => globMatch(p, call.tool))) return `tool "${call.tool}" is not ${rule.tool.join(' or ')}`;
  if (rule.principal && !rule.principal.some((p) => globMatch(p, call.principal))) return `principal "${call.principal}" is not ${rule.principal.join(' or ')}`;
  if (rule.groups && !rule.groups.some((g) => call.groups.includes(g))) return `principal is in none of the groups ${rule.groups.join(', ')}`;
  for (const arg of rule.args) {
    const values = arg.path === '*' ? [call.args] : valuesAt(call.args, arg.path);
    const hit = values.some((v) => textsOf(v).some((text) => arg.regex.test(text)));
    if (!hit) return values.length === 0 ? `argument ${arg.path} is absent` : `argument ${arg.path} does not match /${arg.source}/`;
  }
  return undefined;
}

function describeMatch(rule: CompiledRule): string {
  const parts = [
    rule.server ? `server ${rule.server.join('|')}` : '',
    rule.tool ? `tool ${rule.tool.join('|')}` : '',
    rule.principal ? `principal ${rule.principal.join('|')}` : '',
    rule.groups ? `groups ${rule.groups.join('|')}` : '',
    ...rule.args.map((a) => `argument ${a.path} matches /${a.source}/`),
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : 'matches every call';
}

function fromRule(rule: CompiledRule): Decision {
  return { action: rule.action, rule: rule.name, reason: rule.reason ?? `rule "${rule.name}" says ${rule.action}`, approvers: rule.approvers, reauth: rule.reauth, hide: rule.hide };
}

function fromDefault(policy: CompiledPolicy): Decision {
  return { action: policy.default, rule: undefined, reason: `no rule matched; policy.default is ${policy.default}`, approvers: [], hide: false };
}
