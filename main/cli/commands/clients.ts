import { randomBytes } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { homedir } from 'node:os';
import { CLIENT_NAMES, type ClientId } from '../../clients/client-catalogue.js';
import { discoverClients, type FoundConfig } from '../../clients/discover.js';
import { readManifest, unwireFile, wireFile } from '../../clients/wire.js';
import { configPath, loadConfigFile } from '../../config/load.js';
import { createMasker } from '../../masking/masker.js';
import type { Command } from '../command.js';
import { dataDirFor, stringOption } from '../options.js';
import { CheckFailed, UsageError } from '../usage-error.js';
import { table } from './sessions.js';

export const clientsCommand: Command = {
  summary: "list the MCP clients found on this machine (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI), their servers, and which go through Gatehouse",
  usage: 'gatehouse clients [--json] | gatehouse clients wire CLIENT|--all | gatehouse clients unwire CLIENT|--all | gatehouse clients backups',
  options: { json: { type: 'boolean' }, all: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    const found = discoverClients({ os: process.platform, home: io.env.HOME ?? homedir(), appData: io.env.APPDATA, cwd: process.cwd() });
    const [verb, target, ...extra] = positionals;
    if (verb !== undefined) {
      if (verb === 'backups') {
        for (const f of readManifest(dataDirFor(io)).files) io.out(`${f.wiredAt}  ${f.client}  ${f.file}\n  original: ${f.backup}`);
        return;
      }
      if (verb !== 'wire' && verb !== 'unwire') throw new UsageError(`\`${verb}\` is not a clients command: wire, unwire or backups`);
      if (extra.length > 0 || (target === undefined) === !values.all) throw new UsageError(`${verb} takes one CLIENT (${Object.keys(CLIENT_NAMES).join(', ')}) or --all`);
      if (target !== undefined && !Object.hasOwn(CLIENT_NAMES, target)) throw new UsageError(`"${target}" is not a client Gatehouse knows: ${Object.keys(CLIENT_NAMES).join(', ')}`);
      return verb === 'wire' ? wire(found, target as ClientId | undefined, io, stringOption(values.config)) : unwire(target as ClientId | undefined, io);
    }
    // What a client's config holds can be a secret (a database URL in an argument): shown masked.
    const masker = createMasker({ detectors: ['secrets', 'email', 'credit-card', 'ip'], custom: [] }, randomBytes(32));
    const shown = found.map((c) => ({ ...c, servers: c.servers.map((s) => ({ name: s.name, kind: s.kind, target: masker.text(targetOf(s)), viaGatehouse: s.viaGatehouse })) }));
    if (values.json) return void io.out(JSON.stringify(shown.map(({ client, clientName, scope, file, servers, error }) => ({ client, clientName, scope, file, servers, ...(error ? { error } : {}) })), null, 2));
    if (found.length === 0) return void io.out('No MCP client configuration with servers was found (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI).');
    for (const c of shown) {
      io.out(`${c.clientName} (${c.scope}) ${c.file}`);
      if (c.error) io.out(`  cannot be read: ${c.error}`);
      else io.out(table(['  SERVER', 'KIND', 'THROUGH GATEHOUSE', 'TARGET'], c.servers.map((s) => [`  ${s.name}`, s.kind, s.viaGatehouse ? 'yes' : 'no', s.target])));
    }
  },
};

/** How a client starts the shim: this Node, and the `gatehouse` command that is running now. */
function shimCommand(): string[] {
  return [process.execPath, realpathSync(process.argv[1] as string)];
}

function wire(found: FoundConfig[], client: ClientId | undefined, io: Parameters<Command['run']>[1], configOverride: string | undefined): void {
  const dataDir = dataDirFor(io);
  const configFile = configPath(dataDir, configOverride);
  loadConfigFile(configFile); // written with its comments on first use; refused (with where) if it does not validate
  const chosen = found.filter((c) => client === undefined || c.client === client);
  if (chosen.length === 0) throw new CheckFailed(`no ${client ? CLIENT_NAMES[client] : 'MCP client'} configuration with servers was found; \`gatehouse clients\` lists what is found`);
  let failed = false;
  for (const c of chosen) {
    if (c.error) {
      io.err(`gatehouse clients: ${c.error}`);
      failed = true;
      continue;
    }
    const r = wireFile(c, { dataDir, configFile, shim: shimCommand() });
    if (!r.changed) io.out(`${c.clientName}: ${c.file} already goes through Gatehouse; nothing changed`);
    else {
      io.out(`${c.clientName}: ${c.file}: ${r.wired.map((w) => (w.name === w.gatewayName ? w.name : `${w.name} (as ${w.gatewayName})`)).join(', ')} now start \`gatehouse connect\` (no token written into the file)`);
      for (const x of r.renamed) io.out(`  "${x.name}" is defined differently by another client: imported as "${x.gatewayName}"`);
    }
  }
  if (failed) throw new CheckFailed('some client configurations could not be read; they were left as they are');
}

function unwire(client: ClientId | undefined, io: Parameters<Command['run']>[1]): void {
  const dataDir = dataDirFor(io);
  const files = readManifest(dataDir).files.filter((f) => client === undefined || f.client === client);
  if (files.length === 0) throw new CheckFailed(`nothing of ${client ? CLIENT_NAMES[client as ClientId] : 'any client'} was wired by Gatehouse`);
  let conflicts = 0;
  for (const f of [...new Set(files.map((x) => x.file))]) {
    const r = unwireFile(dataDir, f);
    io.out(`${f}: ${r.exact ? 'restored byte for byte' : `restored ${r.restored.join(', ') || 'nothing'}, keeping the client's own changes`}`);
    for (const name of r.conflicts) io.out(`  "${name}" was changed since it was wired: left as it is now (the original is in \`gatehouse clients backups\`)`);
    conflicts += r.conflicts.length;
  }
  if (conflicts > 0) throw new CheckFailed(`${conflicts} entr${conflicts === 1 ? 'y was' : 'ies were'} changed since wiring and left alone`);
}

function targetOf(s: FoundConfig['servers'][number]): string {
  return s.kind === 'stdio' ? [s.command ?? '', ...(s.args ?? [])].join(' ') : (s.url ?? '');
}
