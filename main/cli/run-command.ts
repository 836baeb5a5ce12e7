import { parseArgs } from 'node:util';
import type { Command } from './command.js';
import type { CliIo } from './io.js';
import { CheckFailed, UsageError } from './usage-error.js';

const GLOBAL_OPTIONS = {
  config: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What a failure means to the user, where a caller knows more than the generic cases: its line and exit code. */
export type Explain = (err: unknown) => { text: string; code: number } | undefined;

/** Runs one command with its arguments; returns its exit code: 0 success, 1 failed check, 2 bad usage or bad input. */
export async function runCommand(name: string, command: Command, rest: string[], io: CliIo, explain: Explain = () => undefined): Promise<number> {
  try {
    const parsed = parseArgs({ args: rest, options: { ...GLOBAL_OPTIONS, ...command.options }, allowPositionals: true, strict: true });
    if (parsed.values.help) {
      io.out(`Usage: ${command.usage}\n\n${command.summary}`);
      return 0;
    }
    return (await command.run(parsed as { values: Record<string, string | boolean | undefined>; positionals: string[] }, io)) ?? 0;
  } catch (err) {
    const known = explain(err);
    if (known) {
      io.err(`gatehouse ${name}: ${known.text}`);
      return known.code;
    }
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`gatehouse ${name}: ${parseArgsMessage(err as Error & { code?: string })} (usage: ${command.usage})`);
      return 2;
    }
    if (err instanceof CheckFailed) {
      io.err(`gatehouse ${name}: ${err.message}`);
      return 1;
    }
    io.err(`gatehouse ${name}: ${(err as Error).message}`);
    return 1;
  }
}

/** Node's argument parser says more than a user needs ("To specify a positional argument…"): the one fact, in our words. */
function parseArgsMessage(err: Error & { code?: string }): string {
  const first = err.message.split('\n')[0] as string;
  const quoted = /'([^']+)'/.exec(first)?.[1];
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && quoted) return `unknown option ${quoted}; \`--help\` lists this command's options`;
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && quoted) return /argument missing/.test(first) ? `${quoted.split(' ')[0]} needs a value` : `${quoted.split(' ')[0]} takes no value`;
  if (err.code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL' && quoted) return `unexpected argument "${quoted}"`;
  return first;
}
