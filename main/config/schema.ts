import { z } from 'zod';
import { compileRegex } from './regex.js';
import { parseDuration, parseSize } from './units.js';

/**
 * A duration: text such as `500ms`, `30s`, `2m`, `1h`, or a number of milliseconds. A bare number under a second
 * (but 0) is refused: `timeout: 5` reads as seconds to a person and as milliseconds to a program.
 */
const duration = z.union([z.number().int().nonnegative(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') {
    if (value === 0 || value >= 1000) return value;
    ctx.addIssue({ code: 'custom', message: `${value} has no unit (a bare number is milliseconds): write ${value}s, ${value}m or ${value}ms` });
    return z.NEVER;
  }
  const ms = parseDuration(value);
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a duration; write it like 30s, 2m, 1h or 7d` });
    return z.NEVER;
  }
  return ms;
});

/** A size: bytes as a number, or text such as `512KiB`, `32MiB`. */
const size = z.union([z.number().int().positive(), z.string()]).transform((value, ctx) => {
  if (typeof value === 'number') return value;
  const bytes = parseSize(value);
  if (bytes === undefined || bytes <= 0) {
    ctx.addIssue({ code: 'custom', message: `"${value}" is not a size; write it like 512KiB, 32MiB or 1GiB` });
    return z.NEVER;
  }
  return bytes;
});

/**
 * HTTP headers to send: names are HTTP tokens, values hold no line break or other control character
 * (a CR/LF in a value would be refused by Node at every request, or worse, split the request).
 */
const httpHeaders = z.record(
  z.string().regex(/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/, 'a header name is letters, digits and !#$%&\'*+.^_`|~- only (no spaces or colons)'),
  z.string().regex(/^[\t\x20-\x7e\x80-\xff]*$/, 'a header value must not hold a line break or other control character'),
);

export const SERVER_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const stdioServer = z.strictObject({
  command: z.string().min(1, 'command must not be empty'),
  args: z.array(z.string()).default([]),
  env: z.record(z.string(), z.string()).default({}),
  /**
   * Variables of the gateway's own environment the server also gets, by name (`[AWS_PROFILE, KUBECONFIG]`): a
   * server once started by a client got the client's whole environment; through Gatehouse it gets only what it
   * needs to run (PATH, HOME, USER…), `env`, and these. A name the gateway's environment lacks is left out.
   */
  passEnv: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name is letters, digits and _ (not starting with a digit)')).optional(),
  cwd: z.string().optional(),
  /** false: never put this server to sleep while its client is quiet (it keeps state a replayed handshake cannot restore). */
  sleep: z.boolean().default(true),
});

const httpServer = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'url must be an http:// or https:// URL' }),
  headers: httpHeaders.default({}),
  /** `auto` tries Streamable HTTP and falls back to the legacy HTTP+SSE transport. */
  transport: z.enum(['auto', 'streamable-http', 'sse']).default('auto'),
  /** `oidc`: the upstream receives the signed-in user's access token (never a token a client sent to Gatehouse). */
  auth: z.enum(['oidc']).optional(),
});

/** One server entry of gatehouse.yaml, as the gateway takes it. */
export const serverSchema = z.union([stdioServer, httpServer], {
  error: 'a server needs either `command` (stdio) or `url` (Streamable HTTP / SSE), not both',
});

const stringOrList = z.union([z.string(), z.array(z.string()).min(1)]);

/** A regex as policy and masking write it (a leading `(?i)` = case-insensitive); refused here if it does not compile. */
const regex = z.string().superRefine((source, ctx) => {
  try {
    compileRegex(source);
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(err as Error).message.replace(/^Invalid regular expression: /, '')}` });
  }
});

const rule = z.strictObject({
  name: z.string().min(1),
  match: z
    .strictObject({
      server: stringOrList.optional(),
      tool: stringOrList.optional(),
      args: z.record(z.string(), regex).optional(),
      principal: stringOrList.optional(),
      groups: stringOrList.optional(),
    })
    .default({}),
  action: z.enum(['allow', 'approve', 'deny']),
  reason: z.string().optional(),
  approvers: z.array(z.string()).optional(),
  /** Step-up: allowing this call needs a fresh sign-in at the provider (once, never for a while). */
  reauth: z.boolean().optional(),
  hide: z.boolean().optional(),
});

export const configSchema = z.strictObject({
  gateway: z
    .strictObject({
      port: z.number().int().min(0).max(65535).default(5757),
      maxBodySize: size.default(32 * 1024 * 1024),
      maxSessions: z.number().int().positive().default(256),
      idleTimeout: duration.default(30 * 60_000),
      /** A forwarded request the server has not answered (nor sent progress for) in this long is answered for it. */
      requestTimeout: duration.pipe(z.number().positive('requestTimeout must be longer than 0')).default(5 * 60_000),
      /** A session quiet this long (no request in flight, no open stream) has its stdio server stopped until its next request. */
      sleepAfter: duration.default(60_000),
      /** At most this many stdio server processes at once; the least recently used quiet one sleeps first. */
      maxLiveServers: z.number().int().positive().default(32),
    })
    .prefault({}),
  servers: z
    .record(z.string().regex(SERVER_NAME, 'server names use letters, digits, ".", "_" and "-" (at most 64)'), serverSchema)
    .default({}),
  policy: z
    .strictObject({
      default: z.enum(['allow', 'approve', 'deny']).default('allow'),
      rules: z
        .array(rule)
        .default([])
        .superRefine((rules, ctx) => {
          const seen = new Set<string>();
          rules.forEach((r, i) => {
            if (seen.has(r.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `rule name "${r.name}" is used twice; names must be unique` });
            seen.add(r.name);
          });
        }),
      on_tool_change: z.enum(['allow', 'approve', 'deny']).optional(),
    })
    .prefault({}),
  approvals: z
    .strictObject({
      timeout: duration.default(120_000),
      /** Also ask the MCP client itself (elicitation/create), where it declared the elicitation capability. */
      elicitation: z.boolean().default(false),
    })
    .prefault({}),
  masking: z
    .strictObject({
      detectors: z.array(z.enum(['secrets', 'email', 'credit-card', 'ip'])).default(['secrets']),
      custom: z.array(z.strictObject({ name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/i, 'names use letters, digits and "-"'), pattern: regex.pipe(z.string().min(1)) })).default([]),
      inline: z.boolean().default(false),
    })
    .prefault({}),
  recording: z
    .strictObject({
      exclude: z
        .array(z.strictObject({ server: z.string().optional(), tool: z.string().optional(), principal: z.string().optional() }))
        .default([]),
      retention: z.strictObject({ maxAge: duration.optional(), maxSize: size.optional() }).optional(),
      /** Segments of the audit log roll at this size. */
      segmentSize: size.default(16 * 1024 * 1024),
    })
    .prefault({}),
  identity: z
    .strictObject({
      /** The OIDC provider (discovery at /.well-known/openid-configuration). */
      issuer: z.url(),
      clientId: z.string().min(1),
      clientSecret: z.string().optional(),
      /** Scopes beyond openid, email, profile and offline_access (for example `groups`). */
      scopes: z.array(z.string()).default([]),
      /** The claim that lists the user's groups. */
      groupsClaim: z.string().default('groups'),
      required: z.boolean().default(false),
    })
    .optional(),
  forwarding: z
    .strictObject({
      /** The collector's OTLP/HTTP logs endpoint, with its path (`…:4318/v1/logs`). */
      endpoint: z.url({ protocol: /^https?$/, error: 'forwarding.endpoint is an http:// or https:// URL of the collector\'s logs endpoint, e.g. https://otel.example.com:4318/v1/logs' }),
      headers: httpHeaders.default({}),
      encoding: z.enum(['protobuf', 'json']).default('protobuf'),
      /** At most this many records per request. */
      batchSize: z.number().int().min(1).max(10_000).default(512),
      /** How long new records wait to fill a batch before they are sent. */
      interval: duration.default(1000),
      tls: z
        .strictObject({
          /** A PEM file of the CA(s) that sign the collector's certificate (on top of the system's). */
          ca: z.string().optional(),
          /** A client certificate and its key (PEM files), for a collector that asks for one. */
          cert: z.string().optional(),
          key: z.string().optional(),
        })
        .optional(),
    })
    .optional(),
}).superRefine((c, ctx) => {
  if (c.forwarding?.tls && (c.forwarding.tls.cert === undefined) !== (c.forwarding.tls.key === undefined)) {
    ctx.addIssue({ code: 'custom', path: ['forwarding', 'tls', c.forwarding.tls.cert === undefined ? 'cert' : 'key'], message: 'a client certificate needs both `cert` and `key` (PEM files)' });
  }
  // Groups come from sign-in: without `identity:` no one has any, so a rule on them would be decided on nothing.
  if (c.identity) return;
  for (const [name, s] of Object.entries(c.servers)) {
    if ('auth' in s && s.auth === 'oidc') ctx.addIssue({ code: 'custom', path: ['servers', name, 'auth'], message: '`auth: oidc` needs sign-in: add `identity: { issuer, clientId }` to gatehouse.yaml (the upstream gets the signed-in user\'s access token)' });
  }
  c.policy.rules.forEach((r, i) => {
    const needs = 'needs sign-in: add `identity: { issuer, clientId }` to gatehouse.yaml';
    if (r.approvers !== undefined) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'approvers'], message: `\`approvers\` ${needs} (until then, anyone at this machine could approve)` });
    if (r.match.groups !== undefined) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'match', 'groups'], message: `a rule on \`groups\` ${needs} (until then, no principal has groups)` });
    if (r.reauth) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'reauth'], message: `\`reauth\` ${needs} (a fresh sign-in is what it asks for)` });
  });
});

export type GatehouseConfig = z.output<typeof configSchema>;
export type ServerConfig = GatehouseConfig['servers'][string];
export type StdioServerConfig = z.output<typeof stdioServer>;
export type HttpServerConfig = z.output<typeof httpServer>;

export function isStdioServer(server: ServerConfig): server is StdioServerConfig {
  return 'command' in server;
}
