/**
 * The `saltshard` command line: dispatches to one module per command (src/cli/*.ts).
 * @module
 * @example
 * // saltshard assign --config flags.json --input subjects.ndjson --output assignments.ndjson
 * process.exitCode = await main(process.argv.slice(2));
 */
import process from 'node:process';
import { ASSIGN_USAGE, assignCommand } from './cli/assign.ts';
import { type CliIO, EXIT, EXIT_CODES_TEXT, usageError } from './cli/common.ts';
import { AUDIT_USAGE, auditCommand } from './cli/audit.ts';
import { DIFF_USAGE, diffCommand } from './cli/diff.ts';
import { SQL_USAGE, sqlCommand } from './cli/sql.ts';
import { SERVE_USAGE, serveCommand } from './cli/serve.ts';
import { SDK_VERSION } from './version.ts';

export { EXIT, type CliIO } from './cli/common.ts';

/** A command: its usage text (shown by `saltshard help NAME`, `NAME --help` and `--help`) and entry point. */
export interface Command {
  usage: string;
  run(args: readonly string[], io: CliIO): Promise<number>;
}

/** Commands by name, in the order `--help` lists them. A new command is one entry here and one module in src/cli/. */
const COMMANDS: Record<string, Command> = {
  assign: { usage: ASSIGN_USAGE, run: assignCommand },
  sql: { usage: SQL_USAGE, run: sqlCommand },
  serve: { usage: SERVE_USAGE, run: serveCommand },
  diff: { usage: DIFF_USAGE, run: diffCommand },
  audit: { usage: AUDIT_USAGE, run: auditCommand },
};

function usage(): string {
  return `saltshard ${SDK_VERSION}: Eppo-compatible feature-flag assignment

Usage:
${Object.values(COMMANDS).map((c) => c.usage).join('\n\n')}

  saltshard help [COMMAND]     this text, or one command's (also: saltshard COMMAND --help)
  saltshard --version          the version (also -V, version)

Options may also come from environment variables, named SALTSHARD_ and the option in upper case with _ for -:
SALTSHARD_API_KEY (prefer it to --api-key: command lines are visible to other users), SALTSHARD_BASE_URL,
SALTSHARD_TOKEN, SALTSHARD_WORKERS, SALTSHARD_PORT, SALTSHARD_HOST, SALTSHARD_CACHE, SALTSHARD_POLL_INTERVAL_MS,
SALTSHARD_DIALECT. An option on the command line wins.

${EXIT_CODES_TEXT}`;
}

function commandOf(name: string): Command | undefined {
  return Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
}

/**
 * Run the CLI.
 * @param argv arguments after the program name.
 * @param io streams (process streams by default).
 * @returns the exit code.
 */
export async function main(argv: readonly string[], io: CliIO = process): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    io.stderr.write(`${usage()}\n`);
    return EXIT.USAGE;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    if (command === 'help' && rest.length > 0) {
      const entry = commandOf(rest[0]!);
      if (entry === undefined || rest.length > 1) return usageError(io, `help: unknown command "${rest.join(' ')}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
      io.stdout.write(`Usage:\n${entry.usage}\n`);
      return EXIT.OK;
    }
    io.stdout.write(`${usage()}\n`);
    return EXIT.OK;
  }
  if (command === '--version' || command === '-V' || command === '-v' || command === 'version') {
    io.stdout.write(`${SDK_VERSION}\n`);
    return EXIT.OK;
  }
  const entry = commandOf(command);
  if (entry === undefined) return usageError(io, `unknown command "${command}" (commands: ${Object.keys(COMMANDS).join(', ')})`);
  return entry.run(rest, { stdout: io.stdout, stderr: io.stderr, stdin: io.stdin, env: io.env, command });
}
