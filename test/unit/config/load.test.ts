import { describe, expect, it } from 'vitest';
import { DEFAULT_CONFIG_YAML } from '../../../main/config/default-config.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfigFile, parseConfig } from '../../../main/config/load.js';

function problems(text: string): string[] {
  try {
    parseConfig(text, 'gatehouse.yaml');
  } catch (err) {
    if (err instanceof ConfigError) return err.message.split('\n');
    throw err;
  }
  throw new Error('expected the config to be refused');
}

describe('gatehouse.yaml', () => {
  it('the generated default is valid and switches nothing surprising on', () => {
    const config = parseConfig(DEFAULT_CONFIG_YAML);
    expect(config.servers).toEqual({});
    expect(config.gateway).toEqual({ port: 5757, maxBodySize: 32 * 1024 * 1024, maxSessions: 256, idleTimeout: 30 * 60_000, requestTimeout: 5 * 60_000, sleepAfter: 60_000, maxLiveServers: 32 });
    expect(config.policy.default).toBe('allow');
    expect(config.approvals.timeout).toBe(120_000);
  });

  it('an empty file is an empty config with defaults', () => {
    expect(parseConfig('').gateway.port).toBe(5757);
  });

  it('reads the CONTRACT.md example', () => {
    const config = parseConfig(`
servers:
  files:
    command: npx
    args: ["-y", "@modelcontextprotocol/server-filesystem", "/home/me/project"]
  tracker:
    url: https://mcp.example.com/mcp
    headers: { X-Team: platform }
policy:
  default: allow
  rules:
    - name: no-ddl
      match: { server: "*", tool: "*", args: { sql: "(?i)\\\\b(drop|truncate)\\\\b" } }
      action: deny
      reason: DDL is not allowed from agents
    - name: writes-need-approval
      match: { server: files, tool: ["write_file", "edit_file", "move_file"] }
      action: approve
approvals:
  timeout: 2m
masking:
  detectors: [secrets, email, credit-card, ip]
  custom: [{ name: ticket, pattern: "TCK-[0-9]{6}" }]
  inline: false
recording:
  exclude: [{ server: memory }]
identity:
  issuer: https://login.example.com
  clientId: gatehouse-desktop
`);
    expect(config.servers.files).toEqual({ command: 'npx', args: ['-y', '@modelcontextprotocol/server-filesystem', '/home/me/project'], env: {}, sleep: true });
    expect(config.servers.tracker).toEqual({ url: 'https://mcp.example.com/mcp', headers: { 'X-Team': 'platform' }, transport: 'auto' });
    expect(config.policy.rules).toHaveLength(2);
  });

  it('a wrong enum value names file, line, key and the choices', () => {
    expect(problems('policy:\n  rules:\n    - name: a\n      action: allow\n    - name: b\n      action: allow\n    - name: c\n      action: aprove\n')).toEqual([
      'gatehouse.yaml:8 policy.rules[2].action: "aprove" is not one of allow, approve, deny',
    ]);
  });

  it('`approvers` and `match.groups` are refused without `identity:` (no one would have groups: accepting them would be fail-open)', () => {
    expect(problems('policy:\n  rules:\n    - name: a\n      match: { tool: write_file }\n      action: approve\n      approvers: [admins]\n    - name: b\n      match: { groups: [admins] }\n      action: allow\n')).toEqual([
      'gatehouse.yaml:6 policy.rules[0].approvers: `approvers` needs sign-in: add `identity: { issuer, clientId }` to gatehouse.yaml (until then, anyone at this machine could approve)',
      'gatehouse.yaml:8 policy.rules[1].match.groups: a rule on `groups` needs sign-in: add `identity: { issuer, clientId }` to gatehouse.yaml (until then, no principal has groups)',
    ]);
  });

  it('an unknown key is pointed at where it stands', () => {
    expect(problems('gateway:\n  port: 5757\n  prot: 80\n')).toEqual(['gatehouse.yaml:3 gateway.prot: unknown key "prot" (did you mean "port"?)']);
  });

  it('each mistake a newcomer makes is named at its own key and line, with the likely key for a typo', () => {
    const table: [string, string[]][] = [
      ['servers:\n  a:\n    comand: node\n    args: [x.js]\n', ['gatehouse.yaml:2 servers.a: a server needs either `command` (stdio) or `url` (Streamable HTTP / SSE)', 'gatehouse.yaml:3 servers.a.comand: unknown key "comand" (did you mean "command"?)']],
      ['servers:\n  a:\n    command: node\n    args: "x.js"\n', ['gatehouse.yaml:4 servers.a.args: expected array, got string "x.js"']],
      ['servers:\n  a:\n    command: node\n    env: {A: 1}\n', ['gatehouse.yaml:4 servers.a.env.A: expected string, got number 1']],
      ['servers:\n  a:\n    url: http://x/mcp\n    transport: websocket\n', ['gatehouse.yaml:4 servers.a.transport: "websocket" is not one of auto, streamable-http, sse']],
      ['servers:\n  a:\n    command: node\n    url: http://x\n', ['gatehouse.yaml:2 servers.a: a server has either `command` (stdio) or `url` (Streamable HTTP / SSE), not both']],
      ['gateway:\n  port: 1\nservrs: {}\npolcy: {}\n', ['gatehouse.yaml:3 servrs: unknown key "servrs" (did you mean "servers"?)', 'gatehouse.yaml:4 polcy: unknown key "polcy" (did you mean "policy"?)']],
      ['approvals:\n  timeout: 5\n', ['gatehouse.yaml:2 approvals.timeout: 5 has no unit (a bare number is milliseconds): write 5s, 5m or 5ms']],
    ];
    for (const [text, expected] of table) expect(problems(text), text).toEqual(expected);
  });

  it('a server that is neither stdio nor http says what it needs', () => {
    const [line] = problems('servers:\n  files:\n    comand: npx\n');
    expect(line).toMatch(/^gatehouse\.yaml:2 servers\.files: a server needs either `command` \(stdio\) or `url`/);
  });

  it('bad durations, sizes and types are explained', () => {
    expect(problems('approvals:\n  timeout: soon\n')).toEqual(['gatehouse.yaml:2 approvals.timeout: "soon" is not a duration; write it like 30s, 2m, 1h or 7d']);
    expect(problems('gateway:\n  maxBodySize: lots\n')).toEqual(['gatehouse.yaml:2 gateway.maxBodySize: "lots" is not a size; write it like 512KiB, 32MiB or 1GiB']);
    expect(problems('gateway:\n  port: "eighty"\n')).toEqual(['gatehouse.yaml:2 gateway.port: expected number, got string "eighty"']);
    expect(problems('servers:\n  bad name!:\n    command: x\n')[0]).toMatch(/^gatehouse\.yaml:2 servers\.bad name!: server names use letters/);
  });

  it('YAML syntax errors name the line', () => {
    expect(problems('servers:\n  files:\n    command: [npx\n')[0]).toMatch(/^gatehouse\.yaml:\d+: YAML: /);
    expect(problems('a: 1\na: 2\n')[0]).toMatch(/^gatehouse\.yaml:2: YAML: Map keys must be unique/);
  });

  it('a top-level list is refused, not half-read', () => {
    expect(problems('- servers\n')).toEqual(['gatehouse.yaml:1: the config must be a YAML mapping (key: value)']);
  });

  it('reports every problem at once', () => {
    expect(problems('gateway:\n  port: -1\npolicy:\n  default: maybe\n')).toHaveLength(2);
  });

  it('forwarding: each mistake is named at its key, with what to write', () => {
    const table: [string, string[]][] = [
      ['forwarding:\n  endpoint: otel.example.com:4318\n', ["gatehouse.yaml:2 forwarding.endpoint: forwarding.endpoint is an http:// or https:// URL of the collector's logs endpoint, e.g. https://otel.example.com:4318/v1/logs"]],
      ['forwarding:\n  endpoint: grpc://otel:4317\n', ["gatehouse.yaml:2 forwarding.endpoint: forwarding.endpoint is an http:// or https:// URL of the collector's logs endpoint, e.g. https://otel.example.com:4318/v1/logs"]],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  encoding: grpc\n', ['gatehouse.yaml:3 forwarding.encoding: "grpc" is not one of protobuf, json']],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  batchSize: 0\n', [expect.stringMatching(/^gatehouse\.yaml:3 forwarding\.batchSize: /) as unknown as string]],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  interval: 5\n', ['gatehouse.yaml:3 forwarding.interval: 5 has no unit (a bare number is milliseconds): write 5s, 5m or 5ms']],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  tls: { cert: c.pem }\n', ['gatehouse.yaml:3 forwarding.tls.key: a client certificate needs both `cert` and `key` (PEM files)']],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  headers: { "Authorization": "Bearer a\\r\\nX-Evil: 1" }\n', ['gatehouse.yaml:3 forwarding.headers.Authorization: a header value must not hold a line break or other control character']],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  headers: { "X Team": a }\n', [expect.stringMatching(/^gatehouse\.yaml:3 forwarding\.headers\.X Team: a header name is letters, digits/) as unknown as string]],
      ['servers:\n  a:\n    url: http://x/mcp\n    headers: { "X-A": "1\\n2" }\n', ['gatehouse.yaml:4 servers.a.headers.X-A: a header value must not hold a line break or other control character']],
      ['forwarding:\n  endpoint: http://otel:4318/v1/logs\n  batchsize: 5\n', ['gatehouse.yaml:3 forwarding.batchsize: unknown key "batchsize" (did you mean "batchSize"?)']],
    ];
    for (const [text, expected] of table) expect(problems(text), text).toEqual(expected);
  });

  it('forwarding.tls files are found next to gatehouse.yaml, not in whatever folder the app was started from', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-config-'));
    try {
      const file = join(dir, 'gatehouse.yaml');
      writeFileSync(file, 'forwarding:\n  endpoint: https://otel:4318/v1/logs\n  tls: { ca: corp-ca.pem, cert: certs/client.pem, key: /etc/gatehouse/client-key.pem }\n');
      expect(loadConfigFile(file).forwarding?.tls).toEqual({ ca: join(dir, 'corp-ca.pem'), cert: join(dir, 'certs', 'client.pem'), key: '/etc/gatehouse/client-key.pem' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
