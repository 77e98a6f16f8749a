/**
 * What every CLI command shares: streams, exit codes, usage errors.
 * @module
 */

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
