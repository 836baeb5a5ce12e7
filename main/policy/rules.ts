import { compileRegex } from '../config/regex.js';
import type { GatehouseConfig } from '../config/schema.js';
import { digestOf } from './canonical-json.js';

export type Action = 'allow' | 'approve' | 'deny';

/** How restrictive an action is: the most restrictive outcome wins (deny > approve > allow). */
export const STRICTNESS: Readonly<Record<Action, number>> = { allow: 0, approve: 1, deny: 2 };

/** A `policy.rules` entry with its regexes compiled. */
export interface CompiledRule {
  name: string;
  /** SHA-256 of the rule as written: a grant made under it covers calls only while the rule reads the same. */
  digest: string;
  server: string[] | undefined;
  tool: string[] | undefined;
  principal: string[] | undefined;
  groups: string[] | undefined;
  args: { path: string; regex: RegExp; source: string }[];
  action: Action;
  reason: string | undefined;
  approvers: string[];
  reauth: boolean;
  hide: boolean;
}

export interface CompiledPolicy {
  default: Action;
  rules: CompiledRule[];
  onToolChange: Action;
}

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function compilePolicy(policy: GatehouseConfig['policy']): CompiledPolicy {
  return {
    default: policy.default,
    onToolChange: policy.on_tool_change ?? 'approve',
    rules: policy.rules.map((r) => ({
      name: r.name,
      digest: digestOf(r),
      server: list(r.match.server),
      tool: list(r.match.tool),
      principal: list(r.match.principal),
      groups: list(r.match.groups),
      args: Object.entries(r.match.args ?? {}).map(([path, source]) => ({ path, regex: compileRegex(source), source })),
      action: r.action,
      reason: r.reason,
      approvers: r.approvers ?? [],
      reauth: r.reauth ?? false,
      hide: r.hide ?? false,
    })),
  };
}
