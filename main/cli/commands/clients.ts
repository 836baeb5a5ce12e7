import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { CLIENT_NAMES, type ClientId } from '../../clients/client-catalogue.js';
import { discoverClients, gatewayPortOf, type FoundConfig } from '../../clients/discover.js';
import { readManifest } from '../../clients/wire.js';
import { clientViews, missingAdvice, unwireClients, wireClients, type WiringReport, type WiringTarget } from '../../clients/wiring.js';
import { ConfigFileMissing, configPath, loadConfigFile, parseConfig } from '../../config/load.js';
import { readRuntimeInfo } from '../../config/runtime-file.js';
import { createMasker } from '../../masking/masker.js';
import type { Command } from '../command.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';
import { table } from './sessions.js';
import { callVerb } from '../gateway-client.js';
import { OAuthStore, registrationView } from '../../gateway/oauth/oauth-store.js';
import type { RegistrationView } from '../../api/types.js';

export const clientsCommand: Command = {
  summary: "list the MCP clients found on this machine (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI), their servers, and which go through Gatehouse",
  usage: 'gatehouse clients [--json] | gatehouse clients wire CLIENT|--all | gatehouse clients unwire CLIENT|--all | gatehouse clients backups | gatehouse clients registered [--json] | gatehouse clients revoke ID',
  options: { json: { type: 'boolean' }, all: { type: 'boolean' } },
  async run({ values, positionals }, given) {
    // What a client's file holds is shown as text: its control characters (a carriage return, an escape
    // sequence that rewrites the line) are shown as escapes, never sent to the terminal.
    const io = { ...given, out: (t: string) => given.out(visible(t)), err: (t: string) => given.err(visible(t)) };
    const found = discoverClients({ os: process.platform, home: io.env.HOME ?? homedir(), appData: io.env.APPDATA, cwd: process.cwd() }, { gatewayPort: gatewayPort(dataDirFor(io), stringOption(values.config)) });
    const [verb, target, ...extra] = positionals;
    if (verb !== undefined) {
      if (verb === 'backups') {
        for (const f of readManifest(dataDirFor(io)).files) io.out(`${f.wiredAt}  ${f.client}  ${f.file}\n  original: ${f.backup}`);
        return;
      }
      if (verb === 'registered') return registered(io, values.json === true);
      if (verb === 'revoke') {
        if (target === undefined || extra.length > 0) throw new UsageError('revoke takes one registered client id (`gatehouse clients registered` lists them)');
        return revoke(io, target);
      }
      if (verb !== 'wire' && verb !== 'unwire') throw new UsageError(`\`${verb}\` is not a clients command: wire, unwire, backups, registered or revoke`);
      if (extra.length > 0 || (target === undefined) === !values.all) throw new UsageError(`${verb} takes one CLIENT (${Object.keys(CLIENT_NAMES).join(', ')}) or --all`);
      if (target !== undefined && !Object.hasOwn(CLIENT_NAMES, target)) throw new UsageError(`"${target}" is not a client Gatehouse knows: ${Object.keys(CLIENT_NAMES).join(', ')}`);
      const chosen: WiringTarget = (target as ClientId | undefined) ?? 'all';
      return verb === 'wire' ? wire(found, chosen, io, stringOption(values.config)) : report(unwireClients(dataDirFor(io), chosen), io);
    }
    // What a client's config holds can be a secret (a database URL in an argument): shown masked.
    const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, randomBytes(32));
    const shown = clientViews(found, dataDirFor(io), (v) => masker.text(v));
    if (values.json) return void io.out(JSON.stringify(shown, null, 2));
    if (found.length === 0) io.out('No MCP client configuration with servers was found (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI).');
    for (const c of shown) {
      io.out(`${c.clientName} (${c.scope}) ${c.file}`);
      if (c.error) io.out(`  cannot be read: ${c.error}`);
      else {
        io.out(table(['  SERVER', 'KIND', 'THROUGH GATEHOUSE', 'TARGET'], c.servers.map((s) => [`  ${s.name}`, s.kind, s.missing ? 'broken' : s.viaGatehouse ? 'yes' : 'no', s.target])));
        for (const s of c.servers) if (s.missing) io.err(`warning: ${c.clientName}'s "${s.name}" ${missingAdvice(c.client, s.missing)}`);
      }
    }
    // (A gateway that does not answer leaves this part out: the listing of files stands on its own.)
    const signedIn = await registrations(dataDirFor(io)).catch(() => []);
    if (signedIn.length > 0) {
      io.out('\nSigned in to Gatehouse (MCP authorization):');
      io.out(registrationTable(signedIn));
    }
  },
};

/**
 * The clients registered with Gatehouse's authorization server: from the running gateway (which holds them), else
 * from oauth.json. Names are the clients' own: shown masked.
 */
async function registrations(dataDir: string): Promise<RegistrationView[]> {
  if (readRuntimeInfo(dataDir)) return (await callVerb(dataDir, 'registrations')).body;
  const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, randomBytes(32));
  const store = await OAuthStore.open(dataDir);
  return store.clients().map((c) => registrationView(c, (v) => masker.text(v)));
}

function registrationTable(list: readonly RegistrationView[]): string {
  const when = (ms: number | undefined) => (ms === undefined ? '-' : new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z'));
  return table(['  ID', 'NAME', 'REGISTERED', 'LAST USED', 'STATE'], list.map((r) => [`  ${r.id}`, r.name, when(r.registeredAt), when(r.lastUsedAt), r.revokedAt === undefined ? 'active' : `revoked ${when(r.revokedAt)}`]));
}

async function registered(io: Parameters<Command['run']>[1], json: boolean): Promise<void> {
  const list = await registrations(dataDirFor(io));
  if (json) return void io.out(JSON.stringify(list, null, 2));
  if (list.length === 0) return void io.out('No client has signed in to Gatehouse with MCP authorization yet.');
  io.out(registrationTable(list));
}

/** Revokes a registered client: through the running gateway (its tokens stop at once), else in oauth.json. */
async function revoke(io: Parameters<Command['run']>[1], id: string): Promise<void> {
  const dataDir = dataDirFor(io);
  if (readRuntimeInfo(dataDir)) {
    const res = await callVerb(dataDir, 'revokeRegistration', id);
    if (res.body.error || !res.body.ok) throw new CheckFailed(res.body.error ?? res.body.message);
    return void io.out(res.body.message);
  }
  const store = await OAuthStore.open(dataDir);
  if (!(await store.revoke(id, Date.now()))) throw new CheckFailed(`no registered client ${id} (or it was revoked already); \`gatehouse clients registered\` lists them`);
  io.out(`client ${id} revoked: its tokens no longer work`);
}

/**
 * The gateway's port: the running gateway's own, else what gatehouse.yaml gives it (its default before the file
 * exists). Listing clients never writes the config.
 */
function gatewayPort(dataDir: string, configOverride: string | undefined): number | undefined {
  const running = readRuntimeInfo(dataDir)?.url;
  if (running) return gatewayPortOf(running);
  try {
    return loadConfigFile(configPath(dataDir, configOverride), { create: false }).gateway.port;
  } catch (err) {
    return err instanceof ConfigFileMissing ? parseConfig('{}').gateway.port : undefined;
  }
}

/** Text with its control characters (but newlines) written as escapes. */
function visible(text: string): string {
  // eslint-disable-next-line no-control-regex -- control characters are what this finds
  return text.replace(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** How a client starts the shim: this Node, and the `gatehouse` command that is running now. */
export function shimCommand(): string[] {
  return [process.execPath, realpathSync(process.argv[1] as string)];
}

function wire(found: FoundConfig[], target: WiringTarget, io: Parameters<Command['run']>[1], configOverride: string | undefined): void {
  const dataDir = dataDirFor(io);
  const configFile = configPath(dataDir, configOverride);
  loadConfigFile(configFile, { create: configOverride === undefined }); // written with its comments on first use; refused (with where) if it does not validate
  report(wireClients(found, target, { dataDir, configFile, shim: shimCommand() }), io);
}

/** Each line on stdout; problems on stderr, the last one as the command's failure. */
function report(r: WiringReport, io: Parameters<Command['run']>[1]): void {
  for (const line of r.lines) io.out(line);
  const problems = r.problems.slice();
  const last = problems.pop();
  for (const p of problems) io.err(`gatehouse clients: ${p}`);
  if (!r.ok) throw new CheckFailed(last ?? 'some client configurations were left as they are');
}
