import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad usage: the message, the command's usage, exit 2. */
export function usageError(usage: string, message: string): never {
  process.stderr.write(`eci-policy: ${message}\n\n${usage}\n`);
  process.exit(2);
}

type CommandOptions = NonNullable<ParseArgsConfig['options']>;
const HELP = { help: { type: 'boolean', short: 'h', default: false } } as const;
type CommandConfig<O extends CommandOptions, P extends boolean> = { args: string[]; options: O & typeof HELP; strict: true; allowPositionals: P };
export type ParsedCommand<O extends CommandOptions, P extends boolean> = ReturnType<typeof parseArgs<CommandConfig<O, P>>>;

/**
 * A subcommand's arguments, parsed strictly against `options` plus -h/--help. Bad usage exits 2
 * with the usage; --help prints the usage and gives undefined (the command exits 0).
 */
export function parseCommand<O extends CommandOptions, P extends boolean>(usage: string, argv: string[], options: O, allowPositionals: P): ParsedCommand<O, P> | undefined {
  const config: CommandConfig<O, P> = { args: argv, options: { ...options, ...HELP }, strict: true, allowPositionals };
  let parsed: ParsedCommand<O, P>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    usageError(usage, (e as Error).message);
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(`${usage}\n`);
    return undefined;
  }
  return parsed;
}
