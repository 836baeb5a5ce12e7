import { globMatch } from '../policy/glob.js';

/** A `recording.exclude` entry: every field given must match (globs allowed). */
export interface ExcludeRule {
  server?: string | undefined;
  tool?: string | undefined;
  principal?: string | undefined;
}

/** A rule without `tool` that matches the session's server and principal: the whole session is not recorded. */
export function sessionExclusion(rules: readonly ExcludeRule[], subject: { server: string; principal: string }): ExcludeRule | undefined {
  return rules.find(
    (r) => r.tool === undefined && (r.server !== undefined || r.principal !== undefined) && matches(r.server, subject.server) && matches(r.principal, subject.principal),
  );
}

/** A rule with `tool` that matches this call: the call's messages are not recorded, only that it happened. */
export function callExclusion(rules: readonly ExcludeRule[], subject: { server: string; principal: string; tool: string }): ExcludeRule | undefined {
  return rules.find((r) => r.tool !== undefined && globMatch(r.tool, subject.tool) && matches(r.server, subject.server) && matches(r.principal, subject.principal));
}

const matches = (pattern: string | undefined, value: string): boolean => pattern === undefined || globMatch(pattern, value);
