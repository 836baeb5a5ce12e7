import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { GatehouseConfig } from '../../../main/config/schema.js';
import { decide, explain, isHidden, type CallFacts } from '../../../main/policy/decide.js';
import { compileRegex } from '../../../main/config/regex.js';
import { compilePolicy } from '../../../main/policy/rules.js';

// Straight from YAML, not through the schema: `approvers` and `groups` are refused there until sign-in exists,
// but the decision over them is already pure and tested.
const policy = compilePolicy(
  (parse(`
policy:
  default: approve
  rules:
    - name: no-ddl
      match: { server: "*", tool: "*", args: { sql: "(?i)\\\\b(drop|truncate)\\\\b" } }
      action: deny
      reason: DDL is not allowed from agents
    - name: writes-need-approval
      match: { server: files, tool: ["write_file", "edit_file", "move_file"] }
      action: approve
      approvers: [platform-admins]
    - name: nested-path
      match: { tool: "bulk_*", args: { "files[*].path": "^/etc/" } }
      action: deny
      reason: no writing under /etc
    - name: admins-anything
      match: { groups: [admins] }
      action: allow
    - name: hidden-danger
      match: { server: shell, tool: exec }
      action: deny
      hide: true
    - name: bob-reads
      match: { principal: "local:bob", tool: "read_*" }
      action: allow
`) as { policy: GatehouseConfig['policy'] }).policy,
);

const call = (over: Partial<CallFacts>): CallFacts => ({ server: 'files', tool: 'read_file', args: {}, principal: 'local:alice', groups: [], ...over });

describe('policy decisions (first match wins)', () => {
  it.each([
    [{ tool: 'query', server: 'db', args: { sql: 'DROP TABLE users' } }, 'deny', 'no-ddl'],
    [{ tool: 'query', server: 'db', args: { sql: 'drop table users' } }, 'deny', 'no-ddl'],
    [{ tool: 'query', server: 'db', args: { sql: 'select * from dropbox' } }, 'approve', undefined],
    [{ tool: 'write_file', args: { sql: 'truncate x' } }, 'deny', 'no-ddl'],
    [{ tool: 'write_file' }, 'approve', 'writes-need-approval'],
    [{ tool: 'write_file', server: 'other' }, 'approve', undefined],
    [{ tool: 'bulk_write', args: { files: [{ path: '/tmp/a' }, { path: '/etc/passwd' }] } }, 'deny', 'nested-path'],
    [{ tool: 'bulk_write', args: { files: [{ path: '/tmp/a' }] } }, 'approve', undefined],
    [{ tool: 'anything', groups: ['admins'] }, 'allow', 'admins-anything'],
    [{ tool: 'exec', server: 'shell' }, 'deny', 'hidden-danger'],
    [{ tool: 'read_text_file', principal: 'local:bob' }, 'allow', 'bob-reads'],
    [{ tool: 'read_text_file', principal: 'local:carol' }, 'approve', undefined],
  ] as const)('%j → %s by %s', (facts, action, rule) => {
    const d = decide(policy, call(facts));
    expect(d.action).toBe(action);
    expect(d.rule).toBe(rule);
  });

  it('a deny carries the rule\'s reason; a rule without one says which rule decided; the default says so', () => {
    expect(decide(policy, call({ args: { sql: 'DROP x' } })).reason).toBe('DDL is not allowed from agents');
    expect(decide(policy, call({ tool: 'write_file' })).reason).toBe('rule "writes-need-approval" says approve');
    expect(decide(policy, call({ tool: 'nothing', server: 'x' })).reason).toBe('no rule matched; policy.default is approve');
    expect(decide(policy, call({ tool: 'write_file' })).approvers).toEqual(['platform-admins']);
  });

  it('explain says why each earlier rule did not match', () => {
    const { decision, trace } = explain(policy, call({ tool: 'write_file', args: { path: '/tmp/x' } }));
    expect(decision.rule).toBe('writes-need-approval');
    expect(trace).toEqual([
      { rule: 'no-ddl', matched: false, because: 'argument sql is absent' },
      { rule: 'writes-need-approval', matched: true, because: 'server files, tool write_file|edit_file|move_file' },
    ]);
    const sql = explain(policy, call({ tool: 'q', server: 'db', args: { sql: 'select 1' } })).trace[0];
    expect(sql?.because).toBe('argument sql does not match /(?i)\\b(drop|truncate)\\b/');
  });

  it('hides only tools a deny rule with hide: true decides whatever the arguments', () => {
    expect(isHidden(policy, { server: 'shell', tool: 'exec', principal: 'local:a', groups: [] })).toBe(true);
    expect(isHidden(policy, { server: 'db', tool: 'query', principal: 'local:a', groups: [] })).toBe(false);
    // An earlier allow wins over the later hide.
    expect(isHidden(policy, { server: 'shell', tool: 'exec', principal: 'local:a', groups: ['admins'] })).toBe(false);
  });

  it('(?i) makes a regex case-insensitive; other regexes are case-sensitive', () => {
    expect(compileRegex('(?i)abc').test('ABC')).toBe(true);
    expect(compileRegex('abc').test('ABC')).toBe(false);
    expect(() => compileRegex('(unclosed')).toThrow(SyntaxError);
  });
});
