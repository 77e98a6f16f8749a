/**
 * `saltshard diff --from OLD.json --to NEW.json`: what publishing NEW would do to the experiments running in OLD.
 * @module
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { type CompiledConfig, compileConfig } from '../config/compile.ts';
import { type DiffReport, type FlagDiff, diffChecks, diffConfigs } from '../integrity/diff.ts';
import { CohortTally } from '../integrity/cohort.ts';
import { REPORT_FORMATS, type ReportFormat, render } from '../integrity/report.ts';
import { type CliIO, EXIT, describeError, parseCommand, usageError } from './common.ts';
import type { RunSpec } from './assign-core.ts';
import { chunkError, chunkWorkers, defaultWorkers, parseTypes, pickFormat, prepareInput, runChunks } from './assign.ts';

/** Usage text of the command. */
export const DIFF_USAGE = `  saltshard diff --from OLD.json --to NEW.json [--input COHORT] [--at TIME] [--max-reassign PCT] [--format FMT]
                 [--output FILE]

  What a config change does to running experiments (allocations with doLog, active at --at, default now). Each
  changed flag is classified: re-randomizes (salt or shard count changed), moves-shards (ranges moved: the exact
  share of subjects reassigned), changes-targeting (rules, time windows, allocations in front), value-only,
  harmless. Exit status 1 when a running experiment would reassign more than --max-reassign (default 0 %) of its
  subjects; without a cohort a targeting change counts as failing, its share being unknown from the structure
  alone. 65 when cohort rows were rejected (each reported with its line number) and every check passed.
  --input FILE|-       a cohort (as for assign: NDJSON, CSV or Parquet; --input-format, --key, --types, --workers):
                       every subject is evaluated under both configs, and each changed flag reports how many change
                       variation, allocation or code, with sample keys; experiments' shares are then measured
  --at TIME            ISO time (or epoch ms) to judge which experiments are running (and to evaluate the cohort at)
  --max-reassign PCT   the most of an experiment's subjects allowed to change variation, in % (default 0)
  --format FMT         text (default), json, ndjson, markdown, or html (one self-contained page with charts)
  --output FILE        write the report there (default standard output)`;

interface Options {
  from?: string;
  to?: string;
  at?: string;
  'max-reassign'?: string;
  format?: string;
  output?: string;
  input?: string;
  'input-format'?: string;
  key?: string;
  types?: string;
  workers?: string;
}

/**
 * Run `diff` with its arguments.
 * @returns the exit code: 0 all checks pass, 1 a check failed, 64 bad usage, 73 output not writable, 78 config not usable.
 */
export async function diffCommand(args: readonly string[], io: CliIO): Promise<number> {
  const s = { type: 'string' } as const;
  const values = parseCommand<Options>(args, { from: s, to: s, at: s, 'max-reassign': s, format: s, output: s, input: s, 'input-format': s, key: s, types: s, workers: s }, DIFF_USAGE, io);
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
  let cohort: DiffReport['cohort'] = null;
  if (values.input !== undefined) {
    const measured = await measureCohort(values, before, after, flags, atMs, io);
    if (typeof measured === 'number') return measured;
    cohort = measured;
  }
  const checks = diffChecks(flags, maxReassign);
  const report: DiffReport = {
    kind: 'diff', from: values.from, to: values.to, at: new Date(atMs).toISOString(), maxReassign, cohort, flags, checks, ok: checks.every((c) => c.ok),
  };
  const code = writeReport(render(report, format), values.output, io, report.ok);
  return code === EXIT.OK && cohort !== null && cohort.rejected > 0 ? EXIT.DATA : code;
}

/**
 * Evaluates the cohort under both configs with the `assign` machinery (readers, chunks, workers) and fills each
 * changed flag's cohort counts and its experiments' measured shares. Flags identical in both documents are not
 * evaluated: every subject gets the same outcome from both.
 */
async function measureCohort(values: Options, before: CompiledConfig, after: CompiledConfig, flags: FlagDiff[], atMs: number, io: CliIO): Promise<NonNullable<DiffReport['cohort']> | number> {
  const path = values.input!;
  const inputFormat = pickFormat(values['input-format'], path === '-' ? undefined : path);
  if (inputFormat === null) return usageError(io, '--input-format must be one of ndjson, csv, parquet');
  if (inputFormat === 'parquet' && path === '-') return usageError(io, 'Parquet input needs a file, not standard input');
  const types = parseTypes(values.types ?? '');
  if (typeof types === 'string') return usageError(io, types);
  let workers = defaultWorkers();
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!/^\d+$/.test(values.workers) || workers < 1 || workers > 256) return usageError(io, `--workers must be a whole number from 1 to 256, not "${values.workers}"`);
  }
  const key = values.key ?? 'subjectKey';
  if (key === '') return usageError(io, '--key must not be empty');
  const wire = (c: CompiledConfig, k: string) => JSON.stringify((c.wire.flags as Record<string, unknown>)[k] ?? null);
  const flagKeys = flags.map((f) => f.flagKey).filter((k) => wire(before, k) !== wire(after, k));

  const input = await prepareInput(inputFormat, path, key, io);
  if (typeof input === 'number') return input;
  const spec: RunSpec = {
    config: before.wire, compare: { config: after.wire }, flagKeys, nowMs: atMs, inputFormat, outputFormat: 'ndjson', layout: 'long',
    key, types: { ...types }, header: null, path: inputFormat === 'parquet' ? path : null,
  };
  const tally = new CohortTally(flagKeys);
  let rejected = 0;
  try {
    await runChunks(input, spec, chunkWorkers(input, workers, values.workers !== undefined), async (r, lineBase) => {
      for (const rej of r.rejects) {
        if (++rejected <= 1000) io.stderr.write(`saltshard: ${inputFormat === 'parquet' ? 'row' : 'line'} ${lineBase + rej.line}: ${rej.error}; skipped\n`);
      }
      tally.add(r.subjects, r.pairs ?? []);
    });
  } catch (err) {
    return chunkError(err, io);
  }
  for (const f of flags) {
    f.cohort = tally.flag(f.flagKey);
    if (f.cohort !== null) f.experiments = f.experiments.map((e) => tally.experiment(f.flagKey, e));
  }
  return { input: path, subjects: tally.subjects, rejected };
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
    io.stderr.write(`saltshard: cannot use config ${path}: ${describeError(err)}\n`);
    return EXIT.CONFIG;
  }
}

/** Writes a report to a file or standard output; 1 when a check failed, 73 when the file cannot be written. */
export function writeReport(text: string, output: string | undefined, io: CliIO, ok: boolean): number {
  try {
    if (output) writeFileSync(output, text);
    else io.stdout.write(text);
  } catch (err) {
    // The reader of standard output went away (`| head`): nothing more to say.
    if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return EXIT.OK;
    io.stderr.write(`saltshard: cannot write ${output ?? 'standard output'}: ${describeError(err)}\n`);
    return EXIT.CANT_CREATE;
  }
  return ok ? EXIT.OK : 1;
}
