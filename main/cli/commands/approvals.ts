import { configPath, loadConfigFile } from '../../config/load.js';
import { login, LoginError } from '../../identity/oidc-login.js';
import { fileSessionStore } from '../../identity/session-store.js';
import { canOpenBrowser, openBrowser } from '../browser.js';
import type { CliIo } from '../io.js';
import type { ApprovalDecision, GrantView } from '../../api/types.js';
import { durationMs } from '../../api/validation.js';
import type { Command } from '../command.js';
import { callVerb } from '../gateway-client.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';
import { table } from './sessions.js';

export const approvalsCommand: Command = {
  summary: 'list the calls waiting for approval on the running gateway, and the grants in force',
  usage: 'gatehouse approvals [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    const dataDir = dataDirFor(io);
    const [pending, grants] = await Promise.all([callVerb(dataDir, 'approvals'), callVerb(dataDir, 'grants')]);
    if (values.json) return void io.out(JSON.stringify({ pending: pending.body, grants: grants.body }, null, 2));
    if (pending.body.length === 0) io.out('Nothing is waiting for approval.');
    else {
      const now = Date.now();
      io.out(
        table(
          ['ID', 'SERVER', 'TOOL', 'CLIENT', 'RULE', 'WAITING', 'ARGUMENTS'],
          pending.body.map((p) => [p.id.slice(0, 8), p.server, p.tool, p.client.name ?? '?', (p.rule ?? 'default') + (p.toolChanged ? ' (tool changed)' : ''), `${Math.round((now - p.createdAt) / 1000)}s of ${Math.round((p.expiresAt - p.createdAt) / 1000)}s`, JSON.stringify(p.args).slice(0, 60)]),
        ),
      );
      io.out('Decide with `gatehouse approve ID [--for 1h]` or `gatehouse deny ID [--reason TEXT]`.');
    }
    if (grants.body.length) {
      io.out('\nGrants in force:');
      io.out(grantTable(grants.body));
    }
  },
};

export const approveCommand: Command = {
  summary: 'allow a waiting call, once or (with --for) for a while',
  usage: 'gatehouse approve ID [--for DURATION] [--same-args] [--json]',
  options: { for: { type: 'string' }, 'same-args': { type: 'boolean' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [id, ...extra] = positionals;
    if (!id || extra.length) throw new UsageError('name one approval by its id (or the start of it), as `gatehouse approvals` shows');
    const forText = stringOption(values.for);
    const forMs = forText === undefined ? undefined : durationMs(forText);
    if (forText !== undefined && (forMs === undefined || forMs <= 0)) throw new UsageError(`--for takes a duration such as 10m, 1h or 1d, not "${forText}"`);
    if (values['same-args'] && forMs === undefined) throw new UsageError('--same-args goes with --for (it limits the grant to these arguments)');
    const dataDir = dataDirFor(io);
    // A step-up call (`reauth: true`) is allowed only after a fresh sign-in at the identity provider: do that first.
    const pending = (await callVerb(dataDir, 'approvals')).body;
    const view = Array.isArray(pending) ? pending.find((p) => p.id.startsWith(id)) : undefined;
    if (view?.reauth) {
      if (forMs) throw new UsageError(`this call needs a fresh sign-in for each approval: it is allowed once, never --for a while`);
      await freshSignIn(io, `rule "${view.rule ?? ''}" asks for a fresh sign-in before ${view.server} / ${view.tool} may run`);
    }
    await decide(dataDir, id, { action: 'allow', ...(forMs ? { forMs } : {}), ...(values['same-args'] ? { bindArgs: true } : {}) }, io, values.json === true);
  },
};

export const denyCommand: Command = {
  summary: 'deny a waiting call; the client sees the reason',
  usage: 'gatehouse deny ID [--reason TEXT] [--json]',
  options: { reason: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [id, ...extra] = positionals;
    if (!id || extra.length) throw new UsageError('name one approval by its id (or the start of it), as `gatehouse approvals` shows');
    await decide(dataDirFor(io), id, { action: 'deny', ...(stringOption(values.reason) ? { reason: stringOption(values.reason) } : {}) }, io, values.json === true);
  },
};

/** Sends a decision; with --json the outcome is one JSON document on stdout (`ok`, `message`, the decision sent), also when it was refused. */
async function decide(dataDir: string, id: string, body: ApprovalDecision, io: CliIo, json: boolean): Promise<void> {
  const res = await callVerb(dataDir, 'decideApproval', id, body);
  if (res.status === 400) throw new UsageError(res.body.error ?? 'the gateway refused the request');
  if (json) io.out(JSON.stringify({ id, ...body, ok: res.body.ok, message: res.body.message, ...(res.body.unknown ? { unknown: true } : {}) }, null, 2));
  if (!res.body.ok) throw res.body.unknown ? new UsageError(res.body.message) : new CheckFailed(res.body.message);
  if (!json) io.out(res.body.message);
}

export const grantsCommand: Command = {
  summary: 'list the grants in force (`grants`), or revoke one (`grants revoke ID`)',
  usage: 'gatehouse grants [--json] | gatehouse grants revoke ID',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const [verb, id, ...extra] = positionals;
    const dataDir = dataDirFor(io);
    if (verb === 'revoke') {
      if (!id || extra.length) throw new UsageError('revoke takes one grant id (or the start of it)');
      const res = await callVerb(dataDir, 'revokeGrant', id);
      if (res.status === 400) throw new UsageError(res.body.error ?? 'the gateway refused the request');
      if (!res.body.ok) throw res.body.unknown ? new UsageError(res.body.message) : new CheckFailed(res.body.message);
      return void io.out(res.body.message);
    }
    if (verb !== undefined) throw new UsageError(`unknown grants verb "${verb}"; use revoke`);
    const res = await callVerb(dataDir, 'grants');
    if (values.json) return void io.out(JSON.stringify(res.body, null, 2));
    if (res.body.length === 0) return void io.out('No grants are in force.');
    io.out(grantTable(res.body));
  },
};

/** Grants with the scope they cover: the rule that asked (as it read then), the tool's definition, the arguments. */
function grantTable(grants: readonly GrantView[]): string {
  return table(
    ['ID', 'SERVER', 'TOOL', 'RULE', 'DEFINITION', 'PRINCIPAL', 'UNTIL', 'BY'],
    grants.map((g) => [
      g.id.slice(0, 8),
      g.server,
      g.tool + (g.boundToArgs ? ' (these args)' : ''),
      g.rule ?? 'policy.default',
      g.toolDefinition ?? 'never listed',
      g.principal,
      new Date(g.expiresAt).toISOString(),
      `${g.by} (${g.port})`,
    ]),
  );
}

/** Signs in again at the provider (max_age=0, prompt=login): the fresh authentication a step-up approval needs. */
async function freshSignIn(io: CliIo, why: string): Promise<void> {
  const config = loadConfigFile(configPath(dataDirFor(io)));
  if (!config.identity) throw new CheckFailed('this call needs a fresh sign-in, but sign-in is not configured (`identity:` in gatehouse.yaml)');
  const print = !canOpenBrowser(io.env);
  io.err(`gatehouse approve: ${why}; sign in again${print ? ' at this address (waiting for the browser to come back):' : ' in the browser that opens…'}`);
  try {
    const session = await login(config.identity, { fresh: true, open: (url) => (print ? io.out(url) : openBrowser(url)), ...(io.env.GATEHOUSE_LOGIN_TIMEOUT_MS ? { timeoutMs: Number(io.env.GATEHOUSE_LOGIN_TIMEOUT_MS) } : {}) });
    fileSessionStore(dataDirFor(io)).write(session);
  } catch (err) {
    if (err instanceof LoginError) throw new CheckFailed(`the fresh sign-in failed, so the call stays waiting: ${err.message}`);
    throw err;
  }
}
