import { connectCommand } from './commands/connect.js';
import { processIo, type CliIo } from './io.js';
import { runCommand } from './run-command.js';

/** `gatehouse connect …` on its own: the stdio shim, without the rest of the CLI. */
export function runConnect(rest: string[], io: CliIo = processIo): Promise<number> {
  return runCommand('connect', connectCommand, rest, io);
}
