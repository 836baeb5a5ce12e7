import type { GatehouseConfig } from '../config/schema.js';

export type Action = 'allow' | 'approve' | 'deny';

/** A `policy.rules` entry with its regexes compiled. */
export interface CompiledRule {
  name: string;
  server: string[] | undefined;
  tool: string[] | undefined;
  principal: string[] | undefined;
  groups: string[] | undefined;
  args: { path: string; regex: RegExp; source: string }[];
  action: Action;
  reason: string | undefined;
  approvers: string[];
  hide: boolean;
}

export interface CompiledPolicy {
  default: Action;
  rules: CompiledRule[];
  onToolChange: Action;
}

/**
 * A regex as gatehouse.yaml writes it. A leading `(?i)` (the PCRE way, which JavaScript lacks) means
 * case-insensitive. Throws a SyntaxError naming what is wrong.
 */
export function compileRegex(source: string): RegExp {
  const ci = source.startsWith('(?i)');
  return new RegExp(ci ? source.slice(4) : source, ci ? 'i' : '');
}

const list = (v: string | string[] | undefined): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v : [v]);

export function compilePolicy(policy: GatehouseConfig['policy']): CompiledPolicy {
  return {
    default: policy.default,
    onToolChange: policy.on_tool_change ?? 'approve',
    rules: policy.rules.map((r) => ({
      name: r.name,
      server: list(r.match.server),
      tool: list(r.match.tool),
      principal: list(r.match.principal),
      groups: list(r.match.groups),
      args: Object.entries(r.match.args ?? {}).map(([path, source]) => ({ path, regex: compileRegex(source), source })),
      action: r.action,
      reason: r.reason,
      approvers: r.approvers ?? [],
      hide: r.hide ?? false,
    })),
  };
}
