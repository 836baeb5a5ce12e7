import { globMatch } from './glob.js';
import { valuesAt } from './json-path.js';
import type { Action, CompiledPolicy, CompiledRule } from './rules.js';

/** A call as policy sees it: plain data. */
export interface CallFacts {
  server: string;
  tool: string;
  args: unknown;
  principal: string;
  groups: readonly string[];
}

export interface Decision {
  action: Action;
  /** The rule that decided, or undefined for `policy.default`. */
  rule: string | undefined;
  reason: string;
  approvers: string[];
  hide: boolean;
}

/** Why each rule did or did not match, in order, up to the one that decided. */
export interface RuleTrace {
  rule: string;
  matched: boolean;
  because: string;
}

/** First match wins; `policy.default` decides what no rule matches. Pure. */
export function decide(policy: CompiledPolicy, call: CallFacts): Decision {
  for (const rule of policy.rules) if (whyNot(rule, call) === undefined) return fromRule(rule);
  return fromDefault(policy);
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

function whyNot(rule: CompiledRule, call: CallFacts): string | undefined {
  if (rule.server && !rule.server.some((p) => globMatch(p, call.server))) return `server "${call.server}" is not ${rule.server.join(' or ')}`;
  if (rule.tool && !rule.tool.some((p) => globMatch(p, call.tool))) return `tool "${call.tool}" is not ${rule.tool.join(' or ')}`;
  if (rule.principal && !rule.principal.some((p) => globMatch(p, call.principal))) return `principal "${call.principal}" is not ${rule.principal.join(' or ')}`;
  if (rule.groups && !rule.groups.some((g) => call.groups.includes(g))) return `principal is in none of the groups ${rule.groups.join(', ')}`;
  for (const arg of rule.args) {
    const values = valuesAt(call.args, arg.path);
    const hit = values.some((v) => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && arg.regex.test(String(v)));
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
  return { action: rule.action, rule: rule.name, reason: rule.reason ?? `rule "${rule.name}" says ${rule.action}`, approvers: rule.approvers, hide: rule.hide };
}

function fromDefault(policy: CompiledPolicy): Decision {
  return { action: policy.default, rule: undefined, reason: `no rule matched; policy.default is ${policy.default}`, approvers: [], hide: false };
}
