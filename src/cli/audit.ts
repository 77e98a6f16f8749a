/**
 * `saltshard audit --config C.json --exposures EVENTS`: are the logged exposures what the config says?
 * @module
 */
import { createReadStream, readdirSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { type AuditReport, Auditor, type ConfigVersion, type Exposure, toExposure } from '../integrity/audit.ts';
import { REPORT_FORMATS, type ReportFormat, render } from '../integrity/report.ts';
import { type CliIO, EXIT, describeError, parseCommand, usageError } from './common.ts';
import { loadConfig, writeReport } from './diff.ts';

/** Usage text of the command. */
export const AUDIT_USAGE = `  saltshard audit (--config FLAGS.json | --config-at DIR) --exposures EVENTS [--format FMT] [--output FILE]

  Re-evaluates every logged exposure from its subject, attributes and timestamp and checks the stream against
  the design: events that do not reproduce, grouped by cause (unknown flag, config changed since, attributes
  missing, different allocation, different variation); duplicates per (subject, flag); subjects exposed to more
  than one variation; sample ratio mismatch per experiment (observed subjects per variation against the shares
  its shard ranges imply, traffic exposure included; exact multinomial/binomial test when the outcomes can be
  enumerated, else chi-square; flagged below p = 0.001). Exit status 1 when a check fails.
  --exposures FILE     NDJSON (one event per line) or Parquet (by extension, or --exposures-format): saltshard's
                       or Eppo's assignment events (subject, featureFlag, allocation, variation, timestamp,
                       subjectAttributes), or snake_case columns (subject_key, flag_key, ...)
  --config FILE        the config the events should follow
  --config-at DIR      a config history: *.json files, each in force from the time in its name (ISO or epoch
                       ms) or else its createdAt; each event is checked against the config in force at its time
  --format FMT         text (default), json, ndjson, markdown, or html (one self-contained page with charts)
  --output FILE        write the report there (default standard output)`;

interface Options {
  config?: string;
  'config-at'?: string;
  exposures?: string;
  'exposures-format'?: string;
  format?: string;
  output?: string;
}

/**
 * Run `audit` with its arguments.
 * @returns 0 every check passes, 1 a check failed, 64 bad usage, 65 only rows rejected, 66 events not readable, 78 config not usable.
 */
export async function auditCommand(args: readonly string[], io: CliIO): Promise<number> {
  const s = { type: 'string' } as const;
  const values = parseCommand<Options>(args, { config: s, 'config-at': s, exposures: s, 'exposures-format': s, format: s, output: s }, AUDIT_USAGE, io);
  if (typeof values === 'number') return values;
  if ((values.config === undefined) === (values['config-at'] === undefined)) return usageError(io, 'give --config FLAGS.json or --config-at DIR');
  if (!values.exposures) return usageError(io, 'missing --exposures EVENTS');
  const format = (values.format ?? 'text') as ReportFormat;
  if (!(REPORT_FORMATS as readonly string[]).includes(format)) return usageError(io, `--format must be one of ${REPORT_FORMATS.join(', ')}`);
  const inputFormat = values['exposures-format'] ?? (['.parquet', '.pq'].includes(extname(values.exposures).toLowerCase()) ? 'parquet' : 'ndjson');
  if (inputFormat !== 'ndjson' && inputFormat !== 'parquet') return usageError(io, '--exposures-format must be ndjson or parquet');

  let versions: ConfigVersion[];
  if (values.config !== undefined) {
    const config = loadConfig(values.config, io);
    if (typeof config === 'number') return config;
    versions = [{ name: values.config, fromMs: -Infinity, config }];
  } else {
    const history = loadHistory(values['config-at']!, io);
    if (typeof history === 'number') return history;
    versions = history;
  }

  const auditor = new Auditor(versions);
  let rejected = 0;
  const reject = (where: string, error: string) => {
    if (++rejected <= 1000) io.stderr.write(`saltshard: ${where}: ${error}; skipped\n`);
  };
  const take = (row: unknown, where: string) => {
    if (typeof row !== 'object' || row === null || Array.isArray(row)) return reject(where, 'expected a JSON object');
    const x: Exposure | string = toExposure(row as Record<string, unknown>);
    if (typeof x === 'string') reject(where, x);
    else auditor.add(x);
  };
  try {
    if (inputFormat === 'parquet') {
      const hp = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      const file = await hp.asyncBufferFromFile(values.exposures);
      const rows = await hp.parquetReadObjects({ file, compressors });
      rows.forEach((row, i) => take(row, `row ${i + 1}`));
    } else {
      const lines = createInterface({ input: createReadStream(values.exposures), crlfDelay: Infinity });
      let n = 0;
      for await (const line of lines) {
        n++;
        if (line.trim() === '') continue;
        let row: unknown;
        try {
          row = JSON.parse(line);
        } catch (err) {
          reject(`line ${n}`, `not JSON (${(err as Error).message})`);
          continue;
        }
        take(row, `line ${n}`);
      }
    }
  } catch (err) {
    io.stderr.write(`saltshard: cannot read exposures ${values.exposures}: ${describeError(err)}\n`);
    return EXIT.NO_INPUT;
  }
  const report: AuditReport = {
    kind: 'audit', config: values.config ?? values['config-at']!, exposures: values.exposures, rejected, ...auditor.finish(),
  };
  const code = writeReport(render(report, format), values.output, io, report.ok);
  return code === EXIT.OK && rejected > 0 ? EXIT.DATA : code;
}

/** Every *.json of a folder, each in force from the time in its name or its createdAt. */
function loadHistory(dir: string, io: CliIO): ConfigVersion[] | number {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json')).sort();
  } catch (err) {
    io.stderr.write(`saltshard: cannot read config history ${dir}: ${describeError(err)}\n`);
    return EXIT.CONFIG;
  }
  if (files.length === 0) {
    io.stderr.write(`saltshard: config history ${dir} has no .json files\n`);
    return EXIT.CONFIG;
  }
  const versions: ConfigVersion[] = [];
  for (const f of files) {
    const path = join(dir, f);
    const config = loadConfig(path, io);
    if (typeof config === 'number') return config;
    const stem = basename(f, '.json');
    let fromMs = /^\d+$/.test(stem) ? Number(stem) : /^\d{4}-\d\d-\d\d/.test(stem) ? Date.parse(stem) : Number.NaN;
    if (Number.isNaN(fromMs)) fromMs = Date.parse(config.createdAt);
    if (Number.isNaN(fromMs)) {
      io.stderr.write(`saltshard: ${path}: no time in its name and no createdAt; name it by the time it took effect (ISO or epoch ms)\n`);
      return EXIT.CONFIG;
    }
    versions.push({ name: path, fromMs, config });
  }
  return versions;
}
