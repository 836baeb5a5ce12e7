import type { ParseArgsConfig } from 'node:util';
import type { CliIo } from './io.js';

/** One `gatehouse` subcommand: what `--help` says of it, its options, and what it does. */
export interface Command {
  summary: string;
  usage: string;
  options: NonNullable<ParseArgsConfig['options']>;
  run(parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] }, io: CliIo): Promise<number | void>;
}
