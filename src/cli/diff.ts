/**
 * `saltshard diff --from OLD.json --to NEW.json`: what publishing NEW would do to the experiments running in OLD.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type CompiledConfig, compileConfig } from '../config/compile.ts';
import { type DiffReport, diffChecks, diffConfigs } from '../integrity/diff.ts';
import { REPORT_FORMATS, type ReportFormat, render } from '../integrity/report.ts';
import { type CliIO, EXIT, parseCommand, usageError } from './common.ts';

/** Usage text of the command. */
export const DIFF_USAGE = `  saltshard diff --from OLD.json --to NEW.json [--at TIME] [--max-reassign PCT] [--format FMT] [--output FILE]

  What a config change does to running experiments (allocations with doLog, active at --at, default now). Each
  changed flag is classified: re-randomizes (salt or shard count changed), moves-shards (ranges moved: the exact
  share of subjects reassigned), changes-targeting (rules, time windows, allocations in front), value-only,
  harmless. Exit status 1 when a running experiment would reassign more than --max-reassign (default 0 %) of its
  subjects; a targeting change counts as failing, its share being unknown from the structure alone.
  --at TIME            ISO time (or epoch ms) to judge which experiments are running
  --max-reassign PCT   the most of an experiment's subjects allowed to change variation, in % (default 0)
  --format FMT         text (default), json, ndjson or markdown
  --output FILE        write the report there (default standard output)`;

interface Options {
  from?: string;
  to?: string;
  at?: string;
  'max-reassign'?: string;
  format?: string;
  output?: string;
}

/**
 * Run `diff` with its arguments.
 * @returns the exit code: 0 all checks pass, 1 a check failed, 64 bad usage, 73 output not writable, 78 config not usable.
 */
export async function diffCommand(args: readonly string[], io: CliIO): Promise<number> {
  const s = { type: 'string' } as const;
  const values = parseCommand<Options>(args, { from: s, to: s, at: s, 'max-reassign': s, format: s, output: s }, DIFF_USAGE, io);
  if (typeof values === 'number') return values;
  if (!values.from || !values.to) return usageError(io, 'diff needs --from OLD.json and --to NEW.json');
  const format = (values.format ?? 'text') as ReportFormat;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) return usageError(io, `--format must be one of ${REPORT_FORMATS.join(', ')}`);
  const atMs = parseTime(values.at);
  if (Number.isNaN(atMs)) return usageError(io, `--at must be an ISO time or epoch milliseconds, not "${values.at}"`);
  const maxReassign = parsePercent(values['max-reassign'] ?? '0');
  if (maxReassign === null) return usageError(io, `--max-reassign must be a percentage from 0 to 100, not "${values['max-reassign']}"`);

  const before = loadConfig(values.from, io);
  if (typeof before === 'number') return before;
  const after = loadConfig(values.to, io);
  if (typeof after === 'number') return after;

  const flags = diffConfigs(before, after, atMs);
  const checks = diffChecks(flags, maxReassign);
  const report: DiffReport = {
    kind: 'diff', from: values.from, to: values.to, at: new Date(atMs).toISOString(), maxReassign, cohort: null, flags, checks, ok: checks.every((c) => c.ok),
  };
  return writeReport(render(report, format), values.output, io, report.ok);
}

/** Epoch ms of an ISO time or a number of milliseconds; now when absent; NaN when neither. */
export function parseTime(text: string | undefined): number {
  if (text === undefined) return Date.now();
  if (/^\d+$/.test(text)) return Number(text);
  return /^\d{4}-\d\d-\d\d/.test(text) ? Date.parse(text) : Number.NaN;
}

/** "5", "5%", "0.5 %" → 0.05, 0.05, 0.005; null when not a percentage in [0, 100]. */
function parsePercent(text: string): number | null {
  const m = /^\s*(\d+(?:\.\d+)?)\s*%?\s*$/.exec(text);
  if (m === null) return null;
  const p = Number(m[1]);
  return p <= 100 ? p / 100 : null;
}

/** A SERVER-format config from a file, or the exit code after reporting why not. */
export function loadConfig(path: string, io: CliIO): CompiledConfig | number {
  try {
    const config = compileConfig(readFileSync(path, 'utf8'));
    if (config.obfuscated) throw new Error(`${config.format}-format (obfuscated) configs hide the flag keys; use the SERVER-format config`);
    return config;
  } catch (err) {
    io.stderr.write(`saltshard: cannot use config ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}\n`);
    return EXIT.CONFIG;
  }
}

/** Writes a report to a file or standard output; 1 when a check failed, 73 when the file cannot be written. */
export function writeReport(text: string, output: string | undefined, io: CliIO, ok: boolean): number {
  try {
    if (output) writeFileSync(output, text);
    else io.stdout.write(text);
  } catch (err) {
    io.stderr.write(`saltshard: cannot write ${output}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return 73;
  }
  return ok ? EXIT.OK : 1;
}
