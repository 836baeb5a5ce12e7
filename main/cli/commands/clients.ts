import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import { discoverClients, type FoundConfig } from '../../clients/discover.js';
import { createMasker } from '../../masking/masker.js';
import type { Command } from '../command.js';
import { UsageError } from '../usage-error.js';
import { table } from './sessions.js';

export const clientsCommand: Command = {
  summary: "list the MCP clients found on this machine (Claude Desktop, Claude Code, Cursor, VS Code, Windsurf, Gemini CLI), their servers, and which go through Gatehouse",
  usage: 'gatehouse clients [--json]',
  options: { json: { type: 'boolean' } },
  async run({ values, positionals }, io) {
    if (positionals.length > 0) throw new UsageError(`\`gatehouse clients ${positionals[0] ?? ''}\` is not built yet: \`gatehouse clients\` lists what it finds; wiring comes next`);
    const found = discoverClients({ os: process.platform, home: io.env.HOME ?? homedir(), appData: io.env.APPDATA, cwd: process.cwd() });
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

function targetOf(s: FoundConfig['servers'][number]): string {
  return s.kind === 'stdio' ? [s.command ?? '', ...(s.args ?? [])].join(' ') : (s.url ?? '');
}
