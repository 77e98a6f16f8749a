/**
 * `saltshard assign`: every flag of a UFC config for every subject of an NDJSON file, streamed in input order.
 * @module
 */
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { SaltshardClient } from '../client.ts';
import { compileConfig } from '../config/compile.ts';
import type { Logger } from '../events/logger.ts';
import { type CliIO, EXIT, usageError } from './common.ts';

/** Usage text of the command. */
export const ASSIGN_USAGE = `  saltshard assign --config FLAGS.json --input SUBJECTS.ndjson [--output FILE]

  Evaluates every flag of a UFC config (SERVER format) for every subject.
  Input: one JSON object per line: {"subjectKey": "...", "subjectAttributes": {...}}
  ("-" reads standard input). Blank lines are ignored.
  Output: one JSON line per subject per flag, subjects in input order, flags in config order:
  {"subjectKey","flagKey","variationType","variationKey","value","allocationKey","reason","doLog"}
  (standard output unless --output is given).
  A bad input line is reported on stderr with its line number and skipped.`;

/**
 * Run `assign` with its arguments.
 * @returns the exit code.
 */
export async function assignCommand(args: readonly string[], io: CliIO): Promise<number> {
  let values: { config?: string; input?: string; output?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: [...args],
      options: { config: { type: 'string' }, input: { type: 'string' }, output: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    return usageError(io, (err as Error).message);
  }
  if (values.help) {
    io.stdout.write(`${ASSIGN_USAGE}\n`);
    return EXIT.OK;
  }
  if (!values.config) return usageError(io, 'missing --config FLAGS.json');
  if (!values.input) return usageError(io, 'missing --input SUBJECTS.ndjson (or - for standard input)');
  return assign(values.config, values.input, values.output, io);
}

async function assign(configPath: string, inputPath: string, outputPath: string | undefined, io: CliIO): Promise<number> {
  let client: SaltshardClient;
  let flagKeys: string[];
  try {
    const config = compileConfig(readFileSync(configPath, 'utf8'));
    if (config.obfuscated) throw new Error(`${config.format}-format (obfuscated) configs hide the flag keys; use the SERVER-format config`);
    client = new SaltshardClient({ assignmentLogger: null, assignmentCacheSize: 0, logger: stderrLogger(io) });
    client.setConfiguration(config);
    flagKeys = client.getFlagKeys();
  } catch (err) {
    io.stderr.write(`saltshard: cannot use config ${configPath}: ${(err as Error).message}\n`);
    return EXIT.CONFIG;
  }
  let input: AsyncIterable<Uint8Array | string>;
  try {
    input = inputPath === '-' ? (io.stdin as AsyncIterable<Uint8Array>) : await openInput(inputPath);
  } catch (err) {
    io.stderr.write(`saltshard: cannot read input ${inputPath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`);
    return EXIT.NO_INPUT;
  }
  const out = outputPath ? createWriteStream(outputPath) : io.stdout;
  const writer = new BufferedWriter(out);
  let rows = 0;
  let bad = 0;
  let subjects = 0;
  // Subjects are evaluated in batches: one WASM hashing call per salt per batch.
  let batch: Subject[] = [];
  const flush = async () => {
    const result = client.assignMany(batch, flagKeys, { log: 'none' });
    for (const row of result.rows()) await writer.write(`${JSON.stringify(row)}\n`);
    rows += batch.length * flagKeys.length;
    batch = [];
  };
  for await (const { line, lineNumber } of readLines(input)) {
    if (line.trim() === '') continue;
    const subject = parseSubject(line);
    if (typeof subject === 'string') {
      bad++;
      io.stderr.write(`saltshard: line ${lineNumber}: ${subject}; skipped\n`);
      continue;
    }
    subjects++;
    batch.push(subject);
    if (batch.length === BATCH_SIZE) await flush();
  }
  if (batch.length > 0) await flush();
  await writer.end(outputPath !== undefined);
  io.stderr.write(`saltshard: ${subjects} subjects x ${flagKeys.length} flags = ${rows} rows written; ${bad} bad lines skipped\n`);
  return bad > 0 ? EXIT.DATA : EXIT.OK;
}

const BATCH_SIZE = 4096;

async function openInput(path: string): Promise<AsyncIterable<Uint8Array>> {
  const stream = createReadStream(path);
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', reject);
  });
  return stream;
}

interface Subject {
  subjectKey: string;
  subjectAttributes: Record<string, unknown>;
}

function parseSubject(line: string): Subject | string {
  let doc: unknown;
  try {
    doc = JSON.parse(line);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) return 'expected a JSON object';
  const { subjectKey, subjectAttributes } = doc as Record<string, unknown>;
  if (typeof subjectKey !== 'string' || subjectKey === '') return '"subjectKey" must be a non-empty string';
  if (subjectAttributes != null && (typeof subjectAttributes !== 'object' || Array.isArray(subjectAttributes))) {
    return '"subjectAttributes" must be an object';
  }
  return { subjectKey, subjectAttributes: (subjectAttributes ?? {}) as Record<string, unknown> };
}

/** Split a byte or text stream into lines (LF or CRLF), numbered from 1; a last line without LF counts. */
export async function* readLines(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<{ line: string; lineNumber: number }> {
  const decoder = new TextDecoder();
  let pending = '';
  let lineNumber = 0;
  for await (const chunk of input) {
    pending += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let start = 0;
    let nl: number;
    while ((nl = pending.indexOf('\n', start)) !== -1) {
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield { line: pending.slice(start, end), lineNumber: ++lineNumber };
      start = nl + 1;
    }
    pending = pending.slice(start);
  }
  pending += decoder.decode();
  if (pending !== '') yield { line: pending.endsWith('\r') ? pending.slice(0, -1) : pending, lineNumber: ++lineNumber };
}

/** Collects small writes into ~64 KB chunks and honours backpressure. */
class BufferedWriter {
  #buf = '';
  constructor(private readonly out: NodeJS.WritableStream) {}
  async write(text: string): Promise<void> {
    this.#buf += text;
    if (this.#buf.length >= 65536) await this.#flush();
  }
  async end(close: boolean): Promise<void> {
    await this.#flush();
    if (close) await new Promise<void>((resolve, reject) => {
      this.out.once('error', reject);
      this.out.end(() => resolve());
    });
  }
  async #flush(): Promise<void> {
    if (this.#buf === '') return;
    const ok = this.out.write(this.#buf);
    this.#buf = '';
    if (!ok) await new Promise<void>((resolve) => this.out.once('drain', () => resolve()));
  }
}

function stderrLogger(io: CliIO): Logger {
  const say = (...args: unknown[]) => void io.stderr.write(`saltshard: ${args.join(' ')}\n`);
  return { error: say, warn: say };
}
