/**
 * What every CLI command shares: streams, exit codes, usage errors, argument parsing (with `SALTSHARD_*`
 * environment variables), and errors in words.
 * @module
 */
import process from 'node:process';
import { type ParseArgsConfig, parseArgs } from 'node:util';

export { describeError } from '../errors.ts';

/**
 * Exit codes (sysexits.h): all rows written; some input rows rejected; bad usage; input missing or unreadable;
 * internal error; output not writable; config unusable.
 */
export const EXIT = { OK: 0, DATA: 65, USAGE: 64, NO_INPUT: 66, SOFTWARE: 70, CANT_CREATE: 73, CONFIG: 78 } as const;

/** The exit codes as `saltshard --help` and the README list them. */
export const EXIT_CODES_TEXT = `Exit codes:
  0   success (every row written; also when a reader such as "head" closes the output early)
  1   a check failed (diff: a running experiment would reassign more subjects than allowed; audit: exposures that do not reproduce, duplicates, a sample ratio mismatch)
  64  bad usage: unknown, malformed, missing or repeated option (the message names it)
  65  some input rows or flags rejected (reported on stderr with their line numbers; the good ones are written)
  66  input not readable (missing file, permission denied)
  70  internal error
  73  output not writable
  78  config not usable (missing, not valid UFC JSON, fetch failed)`;

/** Where a command reads and writes; tests and embedders may replace them. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
  /** The command being run (set by the dispatcher): usage errors point at its own help. */
  command?: string;
  /** Environment for `SALTSHARD_*` options (default `process.env`). */
  env?: Readonly<Record<string, string | undefined>>;
}

/** Print a usage error (naming the command's help) and return its exit code. */
export function usageError(io: CliIO, message: string): number {
  const name = io.command ? `saltshard ${io.command}` : 'saltshard';
  io.stderr.write(`${name}: ${message}\nRun "${name} --help" for usage.\n`);
  return EXIT.USAGE;
}

/**
 * Options that may also come from the environment, as `SALTSHARD_` + the name in upper case with `_` for `-`
 * (e.g. `SALTSHARD_API_KEY` for `--api-key`), for every command that has the option. The command line wins.
 * An option listed with `unless` is not taken from the environment when one of those is on the command line
 * (an exported `SALTSHARD_API_KEY` does not clash with `--config FILE`).
 */
export const ENV_OPTIONS: Readonly<Record<string, { unless?: readonly string[] }>> = {
  'api-key': { unless: ['config'] },
  'base-url': { unless: ['config'] },
  'poll-interval-ms': {},
  cache: { unless: ['config'] },
  token: {},
  port: {},
  host: {},
  workers: {},
  dialect: {},
};

/** The environment variable of an option: `SALTSHARD_API_KEY` for `api-key`. */
export function envName(option: string): string {
  return `SALTSHARD_${option.toUpperCase().replace(/-/g, '_')}`;
}

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * Parse a command's options: strict, no positionals, `-h`/`--help` added; an option that is not `multiple` may be
 * given once; options of {@link ENV_OPTIONS} not on the command line come from their environment variable.
 * @returns the option values, or the exit code to return (usage printed for --help, an error for bad options).
 */
export function parseCommand<V extends object>(args: readonly string[], options: Options, usage: string, io: CliIO): V | number {
  let values: V & { help?: boolean };
  try {
    const parsed = parseArgs({ args: [...args], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false, tokens: true });
    const seen = new Set<string>();
    for (const token of parsed.tokens ?? []) {
      if (token.kind !== 'option' || options[token.name]?.multiple) continue;
      if (seen.has(token.name)) return usageError(io, `option --${token.name} given more than once`);
      seen.add(token.name);
    }
    values = parsed.values as V & { help?: boolean };
  } catch (err) {
    return usageError(io, describeParseError(err as Error & { code?: string }, options));
  }
  if (values.help) {
    io.stdout.write(`Usage:\n${usage}\n`);
    return EXIT.OK;
  }
  const env = io.env ?? process.env;
  const given = values as Record<string, unknown>;
  for (const [name, rule] of Object.entries(ENV_OPTIONS)) {
    const spec = options[name];
    const text = env[envName(name)];
    if (spec === undefined || given[name] !== undefined || text === undefined || text === '') continue;
    if (rule.unless?.some((other) => given[other] !== undefined)) continue;
    given[name] = spec.type === 'boolean' ? !/^(0|false|no)$/i.test(text) : spec.multiple ? text.split(',') : text;
  }
  return values;
}

/** parseArgs' errors, short and naming the option, the same on Node, Bun and Deno. */
function describeParseError(err: Error & { code?: string }, options: Options): string {
  const quoted = /'(-[^' ]+)/.exec(err.message)?.[1];
  const option = quoted === undefined ? null : quoted.startsWith('--') ? quoted : `${quoted} (${flagOf(quoted, options)})`;
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown option ${option ?? err.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      return /argument missing/.test(err.message) ? `option ${option ?? ''} needs a value` : `option ${option ?? ''} takes no value`;
    case 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL':
      return `unexpected argument ${/'([^']*)'/.exec(err.message)?.[1] ?? ''} (every value follows its --option)`;
    default:
      return err.message;
  }
}

function flagOf(short: string, options: Options): string {
  const name = Object.entries(options).find(([, o]) => `-${o.short}` === short)?.[0];
  return name ? `--${name}` : short === '-h' ? '--help' : 'unknown';
}
