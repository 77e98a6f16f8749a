/**
 * `saltshard assign`: every flag of a UFC config for every subject of an NDJSON, CSV or Parquet input, written
 * as NDJSON, CSV or Parquet in input order. Streams with bounded memory: the input is cut into chunks of whole
 * records (Parquet: row groups), evaluated by worker threads (or in-process with --workers 1), and written back
 * in sequence order, waiting for the output to drain.
 * @module
 */
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { extname } from 'node:path';
import process from 'node:process';
import { Worker } from 'node:worker_threads';
import { SaltshardClient } from '../client.ts';
import { type CompiledConfig, compileConfig } from '../config/compile.ts';
import type { Logger } from '../events/logger.ts';
import { type ChunkResult, type ColumnType, InputError, type InputFormat, type Layout, type OutputFormat, Processor, type RunSpec, type Task, outputFields, parquetInputColumns, valueText } from './assign-core.ts';
import { type CliIO, EXIT, describeError, parseCommand, usageError } from './common.ts';
import { RecordChunker, csvField, parseCsv } from './csv.ts';
import { ParquetFile, parquetDictionaries } from './parquet.ts';
import { columnNames, readableColumns } from './parquet-read.ts';
import type { FileMetaData } from 'hyparquet';

/** Usage text of the command. */
export const ASSIGN_USAGE = `  saltshard assign (--config FLAGS.json | --api-key KEY) --input FILE|- [--output FILE] [options]

  Evaluates every flag of a UFC config (SERVER format) for every subject.
  --config FILE        the config file; or --api-key KEY [--base-url URL] to fetch it from Eppo once
  --input FILE|-       subjects ("-" reads standard input); --input-format ndjson|csv|parquet, else by extension
                       (.ndjson/.jsonl/.json, .csv, .parquet), else ndjson
    NDJSON: one object per line: {"subjectKey": "...", "subjectAttributes": {...}}; blank lines are ignored
    CSV: a header row; the --key column is the subject key, every other column an attribute: numbers that
         round-trip exactly are numbers, true/false booleans, empty cells missing, anything else text
    Parquet: one row per subject, the --key column as the key, other columns as attributes
  --key NAME           the subject key column / field (default subjectKey)
  --types COL:TYPE,... attribute types that override inference: string, number or boolean
  --output FILE        default standard output; --format ndjson|csv|parquet, else by extension, else ndjson
  --layout long|wide   long (default): one row per subject per flag, subjects in input order, flags in config order:
    {"subjectKey","flagKey","variationType","variationKey","value","allocationKey","reason","doLog"}
    (CSV and Parquet: the same columns; value as text: strings as they are, others in JSON notation)
                       wide: one row per subject: subjectKey, then one column per flag holding its variation key
                       (null, or empty in CSV, when the subject gets the default)
  --workers N          worker threads (default: number of CPUs; 1 evaluates in-process)
  --rejects FILE       also write rejected rows there as NDJSON {"line","error","raw"}
  Bad rows are reported on stderr with their line number (Parquet: row number) and skipped; every good row is
  written. A summary (rows in, written, rejected, time, variations per flag) ends on stderr; progress is shown
  while stderr is a terminal.`;

/**
 * Input bytes per chunk; SALTSHARD_ASSIGN_CHUNK_BYTES (at least 1024) overrides it, for tests of chunk boundaries.
 * 256 KiB (~6,000 rows of the benchmark's CSV): 3 M rows in 1.72–1.93 s vs 2.24–2.30 s with 1 MiB chunks (2 workers,
 * 2026-11-25): a smaller chunk's strings and columns die young and its buffers stay in cache.
 */
const CHUNK_BYTES = Math.max(1024, Number(process.env.SALTSHARD_ASSIGN_CHUNK_BYTES) || 1 << 18);
const MAX_RECORD_BYTES = 256 << 20;
/**
 * Parquet rows per task. Columns parquet-read.ts decodes keep a row group's pages between tasks, so a task can be
 * small like a CSV chunk (its output and columns stay in cache, the workers start writing sooner and end together);
 * hyparquet reads a row group's pages again for each task, so with a column it reads, tasks are up to whole groups.
 */
const PARQUET_TASK_ROWS = 16_384;
const PARQUET_ROW_GROUP = 131_072;
const MAX_STDERR_REJECTS = 1000;
const FORMATS = ['ndjson', 'csv', 'parquet'] as const;
const LAYOUTS = ['long', 'wide'] as const;
const TYPES = ['string', 'number', 'boolean'] as const;

interface Options {
  config?: string;
  'api-key'?: string;
  'base-url'?: string;
  input?: string;
  'input-format'?: string;
  output?: string;
  format?: string;
  layout?: string;
  key?: string;
  types?: string;
  workers?: string;
  rejects?: string;
  help?: boolean;
}

/**
 * Run `assign` with its arguments.
 * @returns the exit code.
 */
export async function assignCommand(args: readonly string[], io: CliIO): Promise<number> {
  const s = { type: 'string' } as const;
  const values = parseCommand<Options>(args, {
    config: s, 'api-key': s, 'base-url': s, input: s, 'input-format': s, output: s, format: s, layout: s, key: s, types: s, workers: s, rejects: s,
  }, ASSIGN_USAGE, io);
  if (typeof values === 'number') return values;
  if (values.config !== undefined && values['api-key'] !== undefined) return usageError(io, 'give --config FILE or --api-key KEY, not both');
  if (values.config === undefined && values['api-key'] === undefined) return usageError(io, 'missing --config FLAGS.json (or --api-key KEY)');
  if (values['base-url'] !== undefined && values['api-key'] === undefined) return usageError(io, '--base-url needs --api-key');
  if (!values.input) return usageError(io, 'missing --input FILE (or - for standard input)');
  const inputFormat = pickFormat(values['input-format'], values.input === '-' ? undefined : values.input);
  if (inputFormat === null) return usageError(io, `--input-format must be one of ${FORMATS.join(', ')}`);
  const outputFormat = pickFormat(values.format, values.output);
  if (outputFormat === null) return usageError(io, `--format must be one of ${FORMATS.join(', ')}`);
  if (inputFormat === 'parquet' && values.input === '-') return usageError(io, 'Parquet input needs a file, not standard input');
  const layout = (values.layout ?? 'long') as Layout;
  if (!(LAYOUTS as readonly string[]).includes(layout)) return usageError(io, `--layout must be one of ${LAYOUTS.join(', ')}`);
  const types = parseTypes(values.types ?? '');
  if (typeof types === 'string') return usageError(io, types);
  let workers = defaultWorkers();
  if (values.workers !== undefined) {
    workers = Number(values.workers);
    if (!/^\d+$/.test(values.workers) || !Number.isSafeInteger(workers) || workers < 1 || workers > 256) return usageError(io, `--workers must be a whole number from 1 to 256, not "${values.workers}"`);
  }
  const key = values.key ?? 'subjectKey';
  if (key === '') return usageError(io, '--key must not be empty');

  const loaded = await loadConfig(values, io);
  if (typeof loaded === 'number') return loaded;
  if (layout === 'wide' && loaded.config.flags.has('subjectKey')) return usageError(io, '--layout wide: a flag is named "subjectKey", like the key column; use --layout long');
  return run({ ...loaded, inputFormat, outputFormat, layout, key, types, workers, values }, io);
}

export function pickFormat(explicit: string | undefined, path: string | undefined): InputFormat | null {
  if (explicit !== undefined) return (FORMATS as readonly string[]).includes(explicit) ? (explicit as InputFormat) : null;
  const ext = path ? extname(path).toLowerCase() : '';
  if (ext === '.csv') return 'csv';
  if (ext === '.parquet' || ext === '.pq') return 'parquet';
  return 'ndjson';
}

export function parseTypes(text: string): Record<string, ColumnType> | string {
  const types: Record<string, ColumnType> = Object.create(null);
  if (text.trim() === '') return types;
  for (const part of text.split(',')) {
    const at = part.lastIndexOf(':');
    const name = part.slice(0, at).trim();
    const type = part.slice(at + 1).trim();
    if (at <= 0 || name === '' || !(TYPES as readonly string[]).includes(type)) return `--types: "${part}" should be COLUMN:${TYPES.join('|')}`;
    types[name] = type as ColumnType;
  }
  return types;
}

export function defaultWorkers(): number {
  try {
    return Math.max(1, typeof availableParallelism === 'function' ? availableParallelism() : cpus().length);
  } catch {
    return 1;
  }
}

async function loadConfig(values: Options, io: CliIO): Promise<{ config: CompiledConfig } | number> {
  const logger = stderrLogger(io);
  const source = values.config ?? 'from Eppo';
  try {
    let config: CompiledConfig | null;
    if (values.config !== undefined) config = compileConfig(readFileSync(values.config, 'utf8'));
    else {
      const { init } = await import('../live/init.ts');
      // One fetch, no polling: a one-shot run needs one snapshot.
      const client = await init({ apiKey: values['api-key'], baseUrl: values['base-url'], assignmentLogger: null, assignmentCacheSize: 0, logger, pollingIntervalMs: 86_400_000 });
      config = client.getConfiguration();
      client.close();
      if (config === null) throw new Error('no config received');
    }
    if (config.obfuscated) throw new Error(`${config.format}-format (obfuscated) configs hide the flag keys; use the SERVER-format config`);
    return { config };
  } catch (err) {
    io.stderr.write(`saltshard: cannot use config ${source}: ${describeError(err)}\n`);
    return EXIT.CONFIG;
  }
}

interface RunOptions {
  config: CompiledConfig;
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
  layout: Layout;
  key: string;
  types: Record<string, ColumnType>;
  workers: number;
  values: Options;
}

async function run(o: RunOptions, io: CliIO): Promise<number> {
  const started = performance.now();
  const inputPath = o.values.input!;
  const client = new SaltshardClient({ assignmentLogger: null, assignmentCacheSize: 0, logger: stderrLogger(io) });
  client.setConfiguration(o.config);
  const flagKeys = client.getFlagKeys();
  const spec: RunSpec = {
    config: o.config.wire, flagKeys, nowMs: Date.now(), inputFormat: o.inputFormat, outputFormat: o.outputFormat, layout: o.layout,
    key: o.key, types: { ...o.types }, header: null, path: o.inputFormat === 'parquet' ? inputPath : null,
    parquetDictionaries: o.outputFormat === 'parquet' ? parquetDictionaries(o.config.wire, flagKeys, o.layout, valueText as never) : null,
  };

  const input = await prepareInput(o.inputFormat, inputPath, o.key, io);
  if (typeof input === 'number') return input;

  // Outputs.
  let out: TextSink;
  let rejectsOut: TextSink | null = null;
  try {
    out = o.values.output ? await TextSink.open(o.values.output) : new TextSink(io.stdout, false);
    if (o.values.rejects) rejectsOut = await TextSink.open(o.values.rejects);
  } catch (err) {
    io.stderr.write(`saltshard: cannot write ${(err as NodeJS.ErrnoException).path ?? ''}: ${describeError(err)}\n`);
    return EXIT.CANT_CREATE;
  }
  const fields = outputFields(o.layout, flagKeys);
  const parquetOut = spec.parquetDictionaries ? new ParquetFile((bytes) => out.write(bytes), o.layout, flagKeys, spec.parquetDictionaries) : null;
  await parquetOut?.open();

  // Counters and the summary's distribution.
  let good = 0;
  let bad = 0;
  const dist = flagKeys.map(() => new Map<string, { variationKey: string | null; reason: string; count: number }>());
  const progress = (io.stderr as { isTTY?: boolean }).isTTY ? startProgress(io, started, () => ({ rows: good + bad, ...input })) : null;

  const consume = async (r: ChunkResult, lineBase: number) => {
    for (const rej of r.rejects) {
      const line = lineBase + rej.line;
      bad++;
      if (bad <= MAX_STDERR_REJECTS) {
        progress?.clear();
        io.stderr.write(`saltshard: ${o.inputFormat === 'parquet' ? 'row' : 'line'} ${line}: ${rej.error}; skipped\n`);
        if (bad === MAX_STDERR_REJECTS) io.stderr.write(`saltshard: further bad rows are not shown here${rejectsOut ? ` (see ${o.values.rejects})` : ' (use --rejects FILE)'}\n`);
      }
      if (rejectsOut) await rejectsOut.write(`${JSON.stringify({ line, error: rej.error, raw: rej.raw })}\n`);
    }
    good += r.subjects;
    for (const [j, variationKey, reason, count] of r.dist) {
      const id = `${variationKey}\u0000${reason}`;
      const e = dist[j].get(id);
      if (e) e.count += count;
      else dist[j].set(id, { variationKey, reason, count });
    }
    if (parquetOut) await parquetOut.add(r.columns!);
    else if (r.bytes && r.bytes.length > 0) await out.write(r.bytes);
  };

  const workers = chunkWorkers(input, o.workers, o.values.workers !== undefined);
  let code: number = EXIT.OK;
  try {
    if (o.outputFormat === 'csv') await out.write(`${fields.map(csvField).join(',')}\n`);
    await runChunks(input, spec, workers, consume);
    if (parquetOut) await parquetOut.end();
    await out.end();
    await rejectsOut?.end();
    if (bad > 0) code = EXIT.DATA;
  } catch (err) {
    progress?.stop();
    return chunkError(err, io);
  } finally {
    progress?.stop();
  }

  const secs = (performance.now() - started) / 1000;
  const nf = flagKeys.length;
  const rowsOut = o.layout === 'wide' ? `${good} rows: one per subject, ${nf} flag column${nf === 1 ? '' : 's'}` : `${good * nf} assignment rows: ${good} subjects x ${nf} flags`;
  const lines = [
    `saltshard: rows in ${good + bad}, rows written ${good} (${rowsOut}), bad rows ${bad}${rejectsOut ? ` (in ${o.values.rejects})` : ''}; ${secs.toFixed(2)} s, ${formatRate((good + bad) / secs)} rows/s, ${workers} worker${workers === 1 ? '' : 's'}`,
  ];
  if (nf > 0 && good > 0) {
    lines.push('saltshard: variations per flag (subjects, share of rows written):');
    flagKeys.forEach((flagKey, j) => {
      lines.push(`  ${flagKey}`);
      const entries = [...dist[j].values()].sort((a, b) => b.count - a.count || String(a.variationKey).localeCompare(String(b.variationKey)));
      const width = Math.max(9, ...entries.map((e) => (e.variationKey ?? '(none)').length));
      for (const e of entries) {
        lines.push(`    ${(e.variationKey ?? '(none)').padEnd(width)}  ${e.reason.padEnd(29)} ${String(e.count).padStart(12)}  ${((100 * e.count) / good).toFixed(2).padStart(6)} %`);
      }
    });
  }
  io.stderr.write(`${lines.join('\n')}\n`);
  return code;
}

/** An input opened for {@link runChunks}: byte chunks of whole records, or Parquet row ranges; counters move as it is read. */
export interface OpenedInput {
  format: InputFormat;
  path: string;
  key: string;
  totalBytes: number | null;
  totalRows: number | null;
  text: AsyncIterable<Uint8Array | string> | null;
  /** Parquet: the file's metadata, its row groups as row ranges and its top-level columns. */
  parquet: { metadata: FileMetaData; rowGroups: [number, number][]; columns: string[] } | null;
  bytesRead: number;
  rowsSeen: number;
}

/** Opens an input (`-`: standard input), or reports why not and returns the exit code. */
export async function prepareInput(format: InputFormat, path: string, key: string, io: CliIO): Promise<OpenedInput | number> {
  const input: OpenedInput = { format, path, key, totalBytes: null, totalRows: null, text: null, parquet: null, bytesRead: 0, rowsSeen: 0 };
  try {
    // A directory opens fine on some systems and fails only on the first read: refuse it here (exit 66, no input).
    if (path !== '-' && statSync(path).isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    if (format === 'parquet') {
      const hp = await import('hyparquet');
      const file = await hp.asyncBufferFromFile(path);
      const metadata = await hp.parquetMetadataAsync(file);
      const columns = columnNames(metadata);
      if (!columns.includes(key)) {
        io.stderr.write(`saltshard: ${path} has no column "${key}" (columns: ${columns.join(', ')}); choose the key column with --key\n`);
        return EXIT.DATA;
      }
      const rowGroups: [number, number][] = [];
      let at = 0;
      for (const g of metadata.row_groups) {
        const n = Number(g.num_rows);
        rowGroups.push([at, at + n]);
        at += n;
      }
      input.parquet = { metadata, rowGroups, columns };
      input.totalRows = at;
    } else if (path === '-') input.text = io.stdin as AsyncIterable<Uint8Array>;
    else {
      const stat = statSync(path);
      if (stat.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
      input.totalBytes = stat.size;
      input.text = await openInput(path);
    }
  } catch (err) {
    io.stderr.write(`saltshard: cannot read input ${path}: ${describeError(err)}\n`);
    return EXIT.NO_INPUT;
  }
  return input;
}

/** Worker threads for an input: small inputs are not worth starting threads for (unless asked); same output either way. */
export function chunkWorkers(input: OpenedInput, requested: number, explicit: boolean): number {
  if (!explicit && input.totalBytes !== null && input.totalBytes <= CHUNK_BYTES) return 1;
  if (input.parquet === null) return requested;
  // Tasks are at most PARQUET_TASK_ROWS rows of one row group.
  let tasks = 0;
  for (const [a, b] of input.parquet.rowGroups) tasks += Math.ceil((b - a) / PARQUET_TASK_ROWS);
  return Math.min(requested, Math.max(1, tasks));
}

/**
 * Processes every chunk of an input with `spec` (a CSV header is read into `spec.header` first) on `workers`
 * threads and hands the results to `consume` in input order, with the number of input lines before each chunk.
 * @throws InputError, RecordTooLong or a worker's failure; see {@link chunkError}.
 */
export async function runChunks(input: OpenedInput, spec: RunSpec, workers: number, consume: (r: ChunkResult, lineBase: number) => Promise<void>): Promise<void> {
  let pool: Pool | null = null;
  let lineBase = 0;
  try {
    const inflight = new Map<number, Promise<ChunkResult>>();
    let seq = 0;
    let written = 0;
    const drainOne = async () => {
      const p = inflight.get(written)!;
      inflight.delete(written);
      written++;
      const r = await p;
      await consume(r, lineBase);
      lineBase += r.lines;
      if (input.format === 'parquet') input.rowsSeen += r.lines;
    };
    const submitAll = async (tasks: AsyncIterable<Task> | Iterable<Task>) => {
      for await (const task of tasks) {
        const p = pool!.run(task);
        p.catch(() => {});
        inflight.set(task.seq, p);
        while (inflight.size >= Math.max(2, workers * (DEPTH + 1))) await drainOne();
      }
      while (inflight.size > 0) await drainOne();
    };
    if (input.format === 'parquet') {
      pool = new Pool(workers, { ...spec, parquetMetadata: input.parquet!.metadata });
      const { metadata, rowGroups, columns } = input.parquet!;
      const read = parquetInputColumns(spec, columns);
      const own = readableColumns(metadata, read);
      const step = read.every((name) => own.has(name)) ? PARQUET_TASK_ROWS : PARQUET_ROW_GROUP;
      const tasks: Task[] = [];
      for (const [a, b] of rowGroups) for (let rowStart = a; rowStart < b; rowStart += step) tasks.push({ seq: seq++, rowStart, rowEnd: Math.min(b, rowStart + step) });
      await submitAll(tasks);
    } else {
      const chunks = byteChunks(input.text!, input.format === 'csv', (n) => (input.bytesRead += n));
      let first = true;
      const tasks = async function* (): AsyncGenerator<Task> {
        for await (let bytes of chunks) {
          if (first) {
            first = false;
            if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) bytes = copy(bytes.subarray(3));
            if (input.format === 'csv') {
              const end = firstCsvBoundary(bytes);
              const headerText = new TextDecoder().decode(end === -1 ? bytes : bytes.subarray(0, end));
              let header: string[] | null = null;
              let headerError: string | null = null;
              lineBase = parseCsv(headerText, (fields, _line, _raw, error) => {
                if (header === null && headerError === null) [header, headerError] = [fields && [...fields], error];
              });
              if (header === null || headerError !== null) throw new InputError(`the first line of ${input.path} is not a CSV header${headerError ? ` (${headerError})` : ''}`);
              const names: string[] = header;
              if (!names.includes(input.key)) throw new InputError(`the CSV header has no column "${input.key}" (columns: ${names.join(', ')}); choose the key column with --key`);
              // A repeated name would make one column silently shadow the other.
              const repeated = names.find((name, i) => names.indexOf(name) !== i);
              if (repeated !== undefined) throw new InputError(`the CSV header names column "${repeated}" more than once`);
              spec.header = names;
              bytes = end === -1 ? new Uint8Array(0) : copy(bytes.subarray(end));
            }
            pool = new Pool(workers, spec);
          }
          if (bytes.length > 0) yield { seq: seq++, bytes };
        }
        if (first) pool = new Pool(1, { ...spec, header: [input.key] });
      };
      await submitAll(tasks());
    }
  } finally {
    await (pool as Pool | null)?.close();
  }
}

/** Reports an error of {@link runChunks} (or of writing its output) and returns its exit code: 65 for bad input, 70 otherwise. */
export function chunkError(err: unknown, io: CliIO): number {
  if (err instanceof InputError || err instanceof RecordTooLong) {
    io.stderr.write(`saltshard: ${err.message}\n`);
    return EXIT.DATA;
  }
  // The reader of standard output went away (`| head`): nothing more to say, and nobody to say it to.
  if ((err as NodeJS.ErrnoException)?.code === 'EPIPE') return EXIT.OK;
  io.stderr.write(`saltshard: ${describeError(err)}\n`);
  return EXIT.SOFTWARE;
}

class RecordTooLong extends Error {}

function formatRate(r: number): string {
  if (!Number.isFinite(r)) return '-';
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M` : r >= 1e3 ? `${(r / 1e3).toFixed(1)} k` : r.toFixed(0);
}

function startProgress(io: CliIO, started: number, state: () => { rows: number; bytesRead: number; totalBytes: number | null; rowsSeen: number; totalRows: number | null }) {
  let shown = false;
  const tick = () => {
    const s = state();
    const secs = (performance.now() - started) / 1000;
    const fraction = s.totalBytes ? s.bytesRead / s.totalBytes : s.totalRows ? s.rowsSeen / s.totalRows : null;
    const eta = fraction && fraction > 0.001 ? `, ${(fraction * 100).toFixed(0)} %, ETA ${Math.max(0, (secs / fraction) - secs).toFixed(0)} s` : '';
    io.stderr.write(`\r\x1b[Ksaltshard: ${s.rows} rows, ${formatRate(s.rows / secs)} rows/s${eta}`);
    shown = true;
  };
  const timer = setInterval(tick, 250);
  (timer as { unref?: () => void }).unref?.();
  return {
    clear() {
      if (shown) io.stderr.write('\r\x1b[K');
      shown = false;
    },
    stop() {
      clearInterval(timer);
      this.clear();
    },
  };
}

async function openInput(path: string): Promise<AsyncIterable<Uint8Array>> {
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

const textEncoder = new TextEncoder();

/** Cut a byte stream into chunks of at least CHUNK_BYTES that end at a record boundary (the last may not). */
async function* byteChunks(input: AsyncIterable<Uint8Array | string>, csv: boolean, onRead: (n: number) => void): AsyncGenerator<Uint8Array> {
  const chunker = new RecordChunker(csv, CHUNK_BYTES);
  for await (const c of input) {
    const piece = typeof c === 'string' ? textEncoder.encode(c) : c;
    onRead(piece.length);
    const chunk = chunker.push(piece);
    if (chunk !== null) yield chunk;
    else if (chunker.pending > MAX_RECORD_BYTES) throw new RecordTooLong(`a record longer than ${MAX_RECORD_BYTES >> 20} MB (no line break${csv ? ' outside quotes' : ''}); is the input format right?`);
  }
  const last = chunker.finish();
  if (last !== null) yield last;
}

/** A copy with its own ArrayBuffer (Buffer#slice shares memory), so it can be transferred to a worker. */
function copy(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  out.set(bytes);
  return out;
}

/** The end of the first record (past its LF), quote-aware, or -1. */
function firstCsvBoundary(bytes: Uint8Array): number {
  let pos = 0;
  for (;;) {
    const q = bytes.indexOf(34, pos);
    const nl = bytes.indexOf(10, pos);
    if (nl !== -1 && (q === -1 || nl < q)) return nl + 1;
    if (q === -1) return -1;
    const close = bytes.indexOf(34, q + 1);
    if (close === -1) return -1;
    pos = close + 1;
  }
}

type Job = { resolve: (r: ChunkResult) => void; reject: (e: Error) => void };

/**
 * Tasks each worker holds at once: the next one waits in its message queue, so it starts without a round trip
 * through the main thread (with one at a time, workers sat idle ~17 % of the time on 256 KiB chunks).
 */
const DEPTH = 2;

/** Runs tasks on worker threads, or in-process for one worker. */
class Pool {
  readonly #workers: Worker[] = [];
  readonly #queue: ({ task: Task } & Job)[] = [];
  /** Per worker, its tasks by sequence number (answers may come out of order: Parquet reads are async). */
  readonly #busy = new Map<Worker, Map<number, Job>>();
  readonly #local: Processor | null = null;
  #failed: Error | null = null;

  constructor(n: number, spec: RunSpec) {
    if (n <= 1) {
      this.#local = new Processor(spec);
      return;
    }
    const url = new URL(import.meta.url.endsWith('.ts') ? './assign-worker.ts' : './assign-worker.js', import.meta.url);
    for (let i = 0; i < n; i++) {
      const w = new Worker(url, { workerData: spec });
      w.on('message', (m: ChunkResult & { fatal?: string; inputError?: string }) => {
        if (m.inputError !== undefined) return this.#fail(new InputError(m.inputError));
        if (m.fatal !== undefined) return this.#fail(new Error(`worker failed: ${m.fatal}`));
        const jobs = this.#busy.get(w);
        const job = jobs?.get(m.seq);
        jobs?.delete(m.seq);
        this.#next();
        job?.resolve(m);
      });
      w.on('error', (err) => this.#fail(err));
      w.on('exit', (code) => {
        if ((this.#busy.get(w)?.size ?? 0) > 0) this.#fail(new Error(`a worker exited (code ${code})`));
      });
      this.#workers.push(w);
      this.#busy.set(w, new Map());
    }
  }

  run(task: Task): Promise<ChunkResult> {
    if (this.#local) return this.#local.process(task);
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise((resolve, reject) => {
      this.#queue.push({ task, resolve, reject });
      this.#next();
    });
  }

  /** Hands queued tasks to the least loaded workers, up to DEPTH each. */
  #next(): void {
    while (this.#queue.length > 0) {
      let w: Worker | null = null;
      let least = DEPTH;
      for (const [worker, jobs] of this.#busy) {
        if (jobs.size < least) [w, least] = [worker, jobs.size];
      }
      if (w === null) return;
      const job = this.#queue.shift()!;
      this.#busy.get(w)!.set(job.task.seq, job);
      w.postMessage(job.task, job.task.bytes ? [job.task.bytes.buffer as ArrayBuffer] : []);
    }
  }

  #fail(err: Error): void {
    this.#failed ??= err;
    for (const jobs of this.#busy.values()) {
      for (const job of jobs.values()) job.reject(err);
      jobs.clear();
    }
    for (const job of this.#queue) job.reject(err);
    this.#queue.length = 0;
  }

  async close(): Promise<void> {
    this.#local?.close();
    await Promise.all(this.#workers.map((w) => w.terminate()));
  }
}

/** The piece TextSink hands to its stream at once, of an output above twice its size. */
const WRITE_PIECE = 1 << 20;

/** Writes to a stream, waiting for 'drain' when it is full; reports the stream's error on the next write. */
class TextSink {
  #error: Error | null = null;
  constructor(readonly stream: NodeJS.WritableStream, readonly close: boolean) {
    stream.on('error', (err: Error) => (this.#error ??= err));
  }

  static async open(path: string): Promise<TextSink> {
    const stream = createWriteStream(path);
    await new Promise<void>((resolve, reject) => {
      stream.once('open', () => resolve());
      stream.once('error', reject);
    });
    return new TextSink(stream, true);
  }

  async write(data: Uint8Array | string): Promise<void> {
    if (this.#error) throw this.#error;
    let ready = true;
    // Outputs above 2 MiB in pieces of 1 MiB: a 16,384-row Parquet task's long CSV output (~3.4 MB) written whole
    // made the kernel's page-cache writes cost 0.7–1.1 s of system time in about half of the runs (parquet → csv
    // long, 1 M subjects, 10 interleaved runs: median 1.42 s, 0.85–1.62; in pieces 0.94 s, 0.86–1.08; 4 M: median
    // 3.5 → 2.35 s). Splitting every output above 1 MiB (a CSV chunk's ~1.3 MB too) made csv → csv long at 4 M
    // subjects 1.9 → 3.4–6.5 s, so CSV chunks' outputs go whole, as before. (Why the kernel takes so long on some
    // large writes was not found; it happens with either, less often this way.)
    if (typeof data !== 'string' && data.length > 2 * WRITE_PIECE) {
      for (let at = 0; at < data.length; at += WRITE_PIECE) ready = this.stream.write(data.subarray(at, at + WRITE_PIECE));
    } else ready = this.stream.write(data);
    if (!ready) {
      await new Promise<void>((resolve, reject) => {
        const done = () => {
          this.stream.off('drain', done);
          this.stream.off('error', done);
          if (this.#error) reject(this.#error);
          else resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('error', done);
      });
    }
  }

  async end(): Promise<void> {
    if (this.#error) throw this.#error;
    if (!this.close) return;
    await new Promise<void>((resolve, reject) => {
      this.stream.once('error', reject);
      this.stream.end(() => resolve());
    });
  }
}

function stderrLogger(io: CliIO): Logger {
  const say = (...args: unknown[]) => void io.stderr.write(`saltshard: ${args.join(' ')}\n`);
  return { error: say, warn: say };
}
