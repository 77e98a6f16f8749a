/**
 * The `saltshard` command line: dispatches to one module per command (src/cli/*.ts).
 * @module
 * @example
 * // saltshard assign --config flags.json --input subjects.ndjson --output assignments.ndjson
 * process.exitCode = await main(process.argv.slice(2));
 */
import process from 'node:process';
import { ASSIGN_USAGE, assignCommand } from './cli/assign.ts';
import { type CliIO, EXIT, usageError } from './cli/common.ts';
import { DIFF_USAGE, diffCommand } from './cli/diff.ts';
import { SQL_USAGE, sqlCommand } from './cli/sql.ts';
import { SERVE_USAGE, serveCommand } from './cli/serve.ts';
import { SDK_VERSION } from './version.ts';

export { EXIT, type CliIO } from './cli/common.ts';

/** Commands by name: their usage text and entry point. */
const COMMANDS: Record<string, { usage: string; run(args: readonly string[], io: CliIO): Promise<number> }> = {
  assign: { usage: ASSIGN_USAGE, run: assignCommand },
  sql: { usage: SQL_USAGE, run: sqlCommand },
  serve: { usage: SERVE_USAGE, run: serveCommand },
  diff: { usage: DIFF_USAGE, run: diffCommand },
};

function usage(): string {
  return `saltshard ${SDK_VERSION}: Eppo-compatible feature-flag assignment

Usage:
${Object.values(COMMANDS).map((c) => c.usage).join('\n\n')}

Exit codes: 0 all rows written; 65 some input lines rejected; 64 bad usage; 66 input not readable;
73 output not writable; 78 config not usable; 70 internal error.`;
}

/**
 * Run the CLI.
 * @param argv arguments after the program name.
 * @param io streams (process streams by default).
 * @returns the exit code.
 */
export async function main(argv: readonly string[], io: CliIO = process): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h' || command === 'help') {
    io.stdout.write(`${usage()}\n`);
    return command === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (command === '--version' || command === '-v') {
    io.stdout.write(`${SDK_VERSION}\n`);
    return EXIT.OK;
  }
  const entry = COMMANDS[command];
  if (entry === undefined || !Object.hasOwn(COMMANDS, command)) return usageError(io, `unknown command "${command}"`);
  return entry.run(rest, io);
}
