import { VERSION } from '../api/version.js';
import { ConfigError, ConfigFileMissing } from '../config/load.js';
import { PortInUse } from '../gateway/downstream/http-server.js';
import { clientsCommand } from './commands/clients.js';
import { connectCommand } from './commands/connect.js';
import { serveCommand } from './commands/serve.js';
import { serversCommand } from './commands/servers.js';
import { sessionsCommand } from './commands/sessions.js';
import { replayCommand } from './commands/replay.js';
import { publicKeyCommand, verifyCommand } from './commands/verify.js';
import { loginCommand, logoutCommand, whoamiCommand } from './commands/identity.js';
import { approvalsCommand, approveCommand, denyCommand, grantsCommand } from './commands/approvals.js';
import { demoCommand } from './commands/demo.js';
import { exportCommand } from './commands/export.js';
import { forwardingCommand } from './commands/forwarding.js';
import { pinsCommand } from './commands/pins.js';
import { policyCommand } from './commands/policy.js';
import { processIo, type CliIo } from './io.js';
import type { Command } from './command.js';
import { runCommand } from './run-command.js';

export type { Command } from './command.js';

export const COMMANDS: Record<string, Command> = {
  serve: serveCommand,
  servers: serversCommand,
  connect: connectCommand,
  clients: clientsCommand,
  sessions: sessionsCommand,
  replay: replayCommand,
  verify: verifyCommand,
  'public-key': publicKeyCommand,
  login: loginCommand,
  whoami: whoamiCommand,
  logout: logoutCommand,
  export: exportCommand,
  forwarding: forwardingCommand,
  policy: policyCommand,
  pins: pinsCommand,
  approvals: approvalsCommand,
  approve: approveCommand,
  deny: denyCommand,
  grants: grantsCommand,
  demo: demoCommand,
};

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    `gatehouse ${VERSION} — an audited MCP gateway for the developer's desktop`,
    '',
    'Usage: gatehouse <command> [options]',
    '',
    'Commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'Global options:',
    '  --config FILE  use FILE instead of gatehouse.yaml in the data directory',
    '  -h, --help     show help for a command',
    '',
    'Data directory: $GATEHOUSE_HOME, else the platform app-data folder (~/.config/Gatehouse on Linux).',
  ].join('\n');
}

/** Runs the CLI and returns its exit code: 0 success, 1 failed check, 2 bad usage or bad input. */
export async function runCli(argv: string[], io: CliIo = processIo): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.out(help());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-v') {
    io.out(VERSION);
    return 0;
  }
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined; // (`constructor` is no command)
  if (!command) {
    io.err(`gatehouse: unknown command "${name}"; run \`gatehouse --help\` for the list`);
    return 2;
  }
  return runCommand(name, command, rest, io, (err) => {
    if (err instanceof ConfigError) return { text: `the config is invalid${name === 'serve' ? '; nothing was started' : ''}:\n${err.message}`, code: 2 };
    if (err instanceof PortInUse) return { text: `${err.message}; nothing was started`, code: 1 };
    if (err instanceof ConfigFileMissing) return { text: err.message, code: 2 };
    return undefined;
  });
}
