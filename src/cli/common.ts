/**
 * What every CLI command shares: streams, exit codes, usage errors, argument parsing.
 * @module
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

/** Exit codes (sysexits.h): bad usage, some input rows rejected, input missing, config unusable. */
export const EXIT = { OK: 0, USAGE: 64, DATA: 65, NO_INPUT: 66, CONFIG: 78 } as const;

/** Where a command reads and writes; tests and embedders may replace them. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

/** Print a usage error and return its exit code. */
export function usageError(io: CliIO, message: string): number {
  io.stderr.write(`saltshard: ${message}\nRun "saltshard --help" for usage.\n`);
  return EXIT.USAGE;
}

/**
 * Parse a command's options (strict, no positionals, `-h`/`--help` added).
 * @returns the option values, or the exit code to return (usage printed for --help, an error for bad options).
 */
export function parseCommand<V extends object>(args: readonly string[], options: NonNullable<ParseArgsConfig['options']>, usage: string, io: CliIO): V | number {
  let values: V & { help?: boolean };
  try {
    values = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }).values as V & { help?: boolean };
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  if (values.help) {
    io.stdout.write(`${usage}\n`);
    return EXIT.OK;
  }
  return values;
}
