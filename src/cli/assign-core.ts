/**
 * The work of `saltshard assign` on one chunk of input, the same in a worker thread and in-process: parse the
 * chunk (NDJSON or CSV bytes, or a Parquet row group), evaluate every flag for every good row with one
 * `assignMany` call, and format the output (NDJSON or CSV bytes, or Parquet columns). Each distinct outcome of a
 * flag is formatted once per chunk. The output depends only on the chunk, so any number of workers writes the
 * same bytes.
 * @module
 */
import type { SaltshardClient } from '../client.ts';
import type { AssignmentRow, BatchResult, BatchSubject } from '../eval/batch.ts';
import { getKernel } from '../wasm/kernel.ts';
import type { Attributes } from '../eval/reference.ts';
import { csvField, parseCsv } from './csv.ts';
import { CohortEvaluator, type PairRow } from '../integrity/cohort.ts';
import { ParquetEncoder, type ParquetChunk } from './parquet.ts';
import { Damaged, PackedTexts, ParquetColumns, columnNames, readableColumns } from './parquet-read.ts';
import type { AsyncBuffer, Compressors, FileMetaData } from 'hyparquet';

export type InputFormat = 'ndjson' | 'csv' | 'parquet';
export type OutputFormat = 'ndjson' | 'csv' | 'parquet';
export type ColumnType = 'string' | 'number' | 'boolean';
/** `long`: a row per subject per flag (OUTPUT_FIELDS); `wide`: a row per subject, its key then each flag's variation key. */
export type Layout = 'long' | 'wide';

/** Everything a processor needs; plain data, sent to each worker once. */
export interface RunSpec {
  /** The validated UFC document (compileConfig accepts it). */
  config: unknown;
  flagKeys: string[];
  /** The clock for allocation windows, fixed for the run so every worker answers the same. */
  nowMs: number;
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
  layout: Layout;
  /** The subject key column (CSV, Parquet) or field (NDJSON). */
  key: string;
  types: Record<string, ColumnType>;
  /** CSV: the header's column names. */
  header: string[] | null;
  /** Parquet input: the file, and its metadata (read once by the main thread). */
  path: string | null;
  parquetMetadata?: FileMetaData | null;
  /** Parquet output: the dictionaries of its columns (parquetDictionaries), the same for every worker. */
  parquetDictionaries?: string[][] | null;
  /** `saltshard diff`: evaluate `flagKeys` under this second config too and return the pairs of outcomes, no output. */
  compare?: { config: unknown } | null;
}

/** A unit of work: bytes of whole records (text formats) or a row range (Parquet). */
export interface Task {
  seq: number;
  bytes?: Uint8Array;
  rowStart?: number;
  rowEnd?: number;
}

/** A rejected row; `line` is relative to the chunk (1-based) until the writer adds the chunk's offset. */
export interface Reject {
  line: number;
  error: string;
  raw: string;
}

/** What a chunk gave. */
export interface ChunkResult {
  seq: number;
  /** Good rows (subjects) evaluated. */
  subjects: number;
  /** Lines (text) or rows (Parquet) the chunk spanned, to number the next chunk's lines. */
  lines: number;
  rejects: Reject[];
  bytes: Uint8Array | null;
  /** Parquet output: the chunk's encoded keys and outcome indexes (see parquet.ts). */
  columns: ParquetChunk | null;
  /** Per flag index: [variationKey, reason, count] for each outcome seen. */
  dist: [number, string | null, string, number][];
  /** With `RunSpec.compare`: the (old, new) outcome pairs of every flag. */
  pairs?: PairRow[];
}

/** The output columns of the long layout, in order (also the CSV header and the NDJSON field order). */
export const OUTPUT_FIELDS = ['subjectKey', 'flagKey', 'variationType', 'variationKey', 'value', 'allocationKey', 'reason', 'doLog'] as const;

/** The output columns of a layout, in order: the wide layout's are subjectKey and then the flag keys. */
export function outputFields(layout: Layout, flagKeys: readonly string[]): string[] {
  return layout === 'wide' ? ['subjectKey', ...flagKeys] : [...OUTPUT_FIELDS];
}

const encoder = new TextEncoder();
// A chunk's text keeps a leading U+FEFF: it is part of a key there (only the file's own BOM is dropped, in assign.ts).
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
/** Parquet strings decoded with every character kept (hyparquet's default decoder drops a leading U+FEFF). */
const PARQUET_PARSERS = {
  stringFromBytes: (bytes: Uint8Array | undefined) => bytes && decoder.decode(bytes),
};

/**
 * The value as text in CSV and Parquet: null unless assigned (reason MATCH); JSON flags' values as JSON text (so an
 * assigned `null` is `null` and the string "123" is `"123"`); other strings as they are; numbers and booleans in
 * JSON notation.
 */
export function valueText(row: Pick<AssignmentRow, 'reason' | 'variationType' | 'value'>): string | null {
  if (row.reason !== 'MATCH') return null;
  return typeof row.value === 'string' && row.variationType !== 'JSON' ? row.value : JSON.stringify(row.value);
}

/** A wide layout cell: the variation key when the subject is assigned one, null when it gets the default. */
const wideCell = (o: Pick<AssignmentRow, 'reason' | 'variationKey'>): string | null => (o.reason === 'MATCH' ? o.variationKey : null);

/** A CSV chunk as columns: subject keys (UTF-8, packed), and per attribute column its cells. */
interface CsvColumns {
  keys: Packer;
  columns: Record<string, (string | number | boolean | undefined)[]>;
}

/** Input the run cannot use (a CSV header without the key column, a damaged Parquet page): exit 65 with its message. */
export class InputError extends Error {}

/** A Parquet input as a Processor reads it: the columns it needs, those parquet-read.ts decodes, its reader. */
interface ParquetInput {
  metadata: FileMetaData;
  compressors: Compressors;
  columns: string[];
  readable: Set<string>;
  reader: ParquetColumns;
}

/** Parses and evaluates chunks. */
export class Processor {
  readonly #spec: RunSpec;
  /**
   * Assign's evaluator, loaded on the first chunk; diff's (both configs in one batch) instead when the spec
   * compares, so a diff worker never loads the client's modules.
   */
  #client: Promise<SaltshardClient> | null = null;
  readonly #cohort: CohortEvaluator | null = null;
  #parquetOut: ParquetEncoder | null = null;
  /** Parquet input, opened by the first task (its metadata as the main thread read it, when given). */
  #parquetInput: Promise<ParquetInput> | null = null;
  #parquet: ParquetInput | null = null;
  /** hyparquet, loaded for the columns parquet-read.ts leaves to it and to quote rejected rows. */
  #hyparquet: Promise<{ hp: typeof import('hyparquet'); file: AsyncBuffer }> | null = null;

  constructor(spec: RunSpec) {
    this.#spec = spec;
    const nowMs = spec.nowMs;
    if (spec.compare) this.#cohort = new CohortEvaluator(spec.config, spec.compare.config, spec.flagKeys, nowMs);
    else {
      this.#client = import('../client.ts').then(({ SaltshardClient }) => {
        const client = new SaltshardClient({ assignmentLogger: null, assignmentCacheSize: 0, now: () => nowMs, logger: { error() {}, warn() {} } });
        client.setConfiguration(spec.config);
        return client;
      });
      // A failure is reported by the first chunk that awaits it.
      this.#client.catch(() => {});
    }
  }

  /** Releases the input file (Parquet). */
  close(): void {
    this.#parquet?.reader.close();
    this.#parquet = null;
  }

  #loadHyparquet(): Promise<{ hp: typeof import('hyparquet'); file: AsyncBuffer }> {
    return (this.#hyparquet ??= import('hyparquet').then(async (hp) => ({ hp, file: await hp.asyncBufferFromFile(this.#spec.path!) })));
  }

  async process(task: Task): Promise<ChunkResult> {
    const rejects: Reject[] = [];
    let lines: number;
    const s = this.#spec;
    const cohort = this.#cohort;
    let keys: Packer | null = null;
    let result: BatchResult;
    if (s.inputFormat === 'csv') {
      const bytes = task.bytes!;
      const text = decoder.decode(bytes);
      // An ASCII chunk without quotes: every key is a span of its bytes, at the key's offset in the text. (The text
      // has a character per byte and no U+FFFD only when every byte is ASCII: a multi-byte character takes fewer
      // characters than bytes, and each invalid byte becomes a U+FFFD.)
      const spans = text.length === bytes.length && text.indexOf('\uFFFD') === -1 && text.indexOf('"') === -1;
      const columns: CsvColumns = { keys: spans ? Packer.over(bytes, bytes.length >> 4) : new Packer(bytes.length >> 4, bytes.length), columns: {} };
      lines = this.#parseCsv(text, columns, rejects, spans);
      keys = columns.keys;
      const subjects = { keys: keys.done(), columns: columns.columns };
      if (cohort !== null) return { seq: task.seq, subjects: subjects.keys.starts.length, lines, rejects, bytes: null, columns: null, dist: [], pairs: cohort.columns(subjects) };
      result = (await this.#client!).assignColumns(subjects, s.flagKeys, { log: 'none' });
    } else if (s.inputFormat === 'parquet') {
      const subjects = await this.#parseParquet(task, rejects);
      lines = task.rowEnd! - task.rowStart!;
      if (subjects.keys instanceof PackedTexts) keys = Packer.of(subjects.keys);
      if (cohort !== null) return { seq: task.seq, subjects: Array.isArray(subjects.keys) ? subjects.keys.length : subjects.keys.starts.length, lines, rejects, bytes: null, columns: null, dist: [], pairs: cohort.columns(subjects) };
      result = (await this.#client!).assignColumns(subjects, s.flagKeys, { log: 'none' });
    } else {
      const subjects: BatchSubject[] = [];
      lines = this.#parseNdjson(decoder.decode(task.bytes!), subjects, rejects);
      if (cohort !== null) return { seq: task.seq, subjects: subjects.length, lines, rejects, bytes: null, columns: null, dist: [], pairs: cohort.objects(subjects) };
      result = (await this.#client!).assignMany(subjects, s.flagKeys, { log: 'none' });
    }
    const out = this.#format(result, keys);
    return { seq: task.seq, subjects: result.size, lines, rejects, ...out };
  }

  #parseNdjson(text: string, subjects: BatchSubject[], rejects: Reject[]): number {
    const keyField = this.#spec.key;
    const n = text.length;
    let pos = 0;
    let line = 0;
    while (pos < n) {
      let nl = text.indexOf('\n', pos);
      if (nl === -1) nl = n;
      const end = nl > pos && text.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      const raw = text.slice(pos, end);
      pos = nl + 1;
      line++;
      if (raw.length === 0 || raw.trim() === '') continue;
      let doc: unknown;
      try {
        doc = JSON.parse(raw);
      } catch (err) {
        rejects.push({ line, error: `not JSON (${(err as Error).message})`, raw });
        continue;
      }
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
        rejects.push({ line, error: 'expected a JSON object', raw });
        continue;
      }
      const { [keyField]: subjectKey, subjectAttributes } = doc as Record<string, unknown>;
      if (typeof subjectKey !== 'string' || subjectKey === '') {
        rejects.push({ line, error: `"${keyField}" must be a non-empty string`, raw });
        continue;
      }
      if (subjectAttributes != null && (typeof subjectAttributes !== 'object' || Array.isArray(subjectAttributes))) {
        rejects.push({ line, error: '"subjectAttributes" must be an object', raw });
        continue;
      }
      let attributes = (subjectAttributes ?? {}) as Attributes;
      if (subjectAttributes != null) {
        const typed = this.#applyTypes(attributes);
        if (typeof typed === 'string') {
          rejects.push({ line, error: typed, raw });
          continue;
        }
        attributes = typed;
      }
      subjects.push({ subjectKey, subjectAttributes: attributes });
    }
    return line;
  }

  /** Check and convert the `--types` columns of an attribute object; returns an error message or the object. */
  #applyTypes(attributes: Attributes): Attributes | string {
    const types = this.#spec.types;
    let copy: Record<string, unknown> | null = null;
    for (const name in types) {
      if (!Object.hasOwn(attributes, name)) continue;
      const v = (attributes as Record<string, unknown>)[name];
      if (v === null || v === undefined) continue;
      const c = coerce(v, types[name]);
      if (c === undefined) return `column "${name}": ${JSON.stringify(v)} is not a ${types[name]}`;
      if (c !== v) (copy ??= { ...attributes })[name] = c;
    }
    return (copy ?? attributes) as Attributes;
  }

  /** `spans`: the text has no quotes and is its bytes (ASCII), so keys are recorded as spans (Packer.over). */
  #parseCsv(text: string, out: CsvColumns, rejects: Reject[], spans: boolean): number {
    const s = this.#spec;
    const header = s.header!;
    const keyIndex = header.indexOf(s.key);
    const width = header.length;
    const kinds = header.map((name) => (Object.hasOwn(s.types, name) ? s.types[name] : null));
    // One array per attribute column (undefined: the cell was empty); the key column is not an attribute. A diff
    // reads only the columns its flags' conditions name (and checks --types columns).
    const read = this.#cohort?.attributes;
    const used = header.map((name, c) => c !== keyIndex && (read === undefined || read.has(name) || kinds[c] !== null));
    const cols: (string | number | boolean | undefined)[][] = header.map(() => []);
    header.forEach((name, c) => {
      if (used[c]) out.columns[name] = cols[c];
    });
    const row: (string | number | boolean | undefined)[] = new Array(width);
    const lines = parseCsv(text, (fields, line, raw, error, start) => {
      if (fields === null) {
        rejects.push({ line, error: error ?? 'bad record', raw: raw() });
        return;
      }
      if (fields.length !== width) {
        rejects.push({ line, error: `expected ${width} fields, got ${fields.length}`, raw: raw() });
        return;
      }
      const subjectKey = fields[keyIndex];
      if (subjectKey === '') {
        rejects.push({ line, error: `missing "${s.key}"`, raw: raw() });
        return;
      }
      for (let c = 0; c < width; c++) {
        if (!used[c]) continue;
        const f = fields[c];
        const kind = kinds[c];
        if (f === '') row[c] = undefined;
        else if (kind === null) row[c] = inferCell(f);
        else {
          const v = coerce(f, kind);
          if (v === undefined) {
            rejects.push({ line, error: `column "${header[c]}": ${JSON.stringify(f)} is not a ${kind}`, raw: raw() });
            return;
          }
          row[c] = v;
        }
      }
      if (spans) {
        let at = start;
        for (let c = 0; c < keyIndex; c++) at += fields[c].length + 1;
        out.keys.span(at, subjectKey.length);
      } else out.keys.add(subjectKey);
      for (let c = 0; c < width; c++) if (used[c]) cols[c].push(row[c]);
    });
    return lines;
  }

  /**
   * A Parquet row range as columns: the key and only the columns a flag's conditions read (or `--types` names), read
   * by parquet-read.ts (hyparquet reads those it leaves), no row objects; cells as attributeValue() gives them. A row
   * without a usable key or with a cell that does not convert to its `--types` type is rejected (its raw text: the
   * whole row, read again for the rejected rows only).
   */
  async #parseParquet(task: Task, rejects: Reject[]): Promise<{ keys: string[] | PackedTexts; columns: Record<string, ArrayLike<unknown>> }> {
    const s = this.#spec;
    this.#parquetInput ??= (async () => {
      let metadata = s.parquetMetadata;
      if (!metadata) {
        const { hp, file } = await this.#loadHyparquet();
        metadata = await hp.parquetMetadataAsync(file);
      }
      // Decompressors are loaded only for a file that needs one.
      const compressed = metadata.row_groups.some((g) => g.columns.some((c) => c.meta_data !== undefined && c.meta_data.codec !== 'UNCOMPRESSED'));
      const compressors: Compressors = compressed ? (await import('hyparquet-compressors')).compressors : {};
      const columns = parquetInputColumns(s, columnNames(metadata));
      return (this.#parquet = { metadata, compressors, columns, readable: readableColumns(metadata, columns), reader: new ParquetColumns(s.path!, metadata, compressors) });
    })();
    const p = await this.#parquetInput;
    const rowStart = task.rowStart!;
    const rowEnd = task.rowEnd!;
    const n = rowEnd - rowStart;
    const { data, packed, ready } = await this.#readParquet(p, rowStart, rowEnd);
    const error: (string | null)[] = new Array(n).fill(null);
    let bad = 0;
    const noKey = `"${s.key}" must be a non-empty string`;
    let keys: string[] | PackedTexts;
    if (packed !== null) {
      keys = packed;
      for (let r = 0; r < n; r++) {
        if (packed.lengths[r] === 0) {
          error[r] = noKey;
          bad++;
        }
      }
    } else {
      const rawKeys = data.get(s.key) ?? new Array(n).fill(null);
      const texts: string[] = (keys = new Array(n));
      for (let r = 0; r < n; r++) {
        let key = rawKeys[r];
        if (typeof key === 'number' || typeof key === 'bigint') key = String(key);
        // A DATE or TIMESTAMP key as its ISO text, as parquet-read.ts gives it.
        else if (key instanceof Date && !Number.isNaN(key.getTime())) key = key.toISOString();
        if (typeof key !== 'string' || key === '') {
          error[r] = noKey;
          bad++;
        } else texts[r] = key;
      }
    }
    const columns: Record<string, unknown[]> = {};
    for (const name of p.columns) {
      if (name === s.key) continue;
      const column = data.get(name)!;
      columns[name] = column;
      const type = Object.hasOwn(s.types, name) ? s.types[name] : null;
      if (type === null && ready.has(name)) continue;
      for (let r = 0; r < n; r++) {
        const cell = column[r];
        if (cell instanceof Date && Number.isNaN(cell.getTime())) {
          // A timestamp beyond a Date's range (hyparquet's Invalid Date) has no text: the row is rejected.
          if (error[r] === null) {
            error[r] = `column "${name}": a date or timestamp beyond the range of a Date`;
            bad++;
          }
          column[r] = undefined;
          continue;
        }
        let v = attributeValue(cell);
        if (type !== null && v !== undefined) {
          const c = coerce(v, type);
          if (c === undefined && error[r] === null) {
            error[r] = `column "${name}": ${JSON.stringify(v)} is not a ${type}`;
            bad++;
          }
          v = c;
        }
        column[r] = v;
      }
    }
    if (bad === 0) return { keys, columns };
    const { hp, file } = await this.#loadHyparquet();
    const rows = await hp.parquetReadObjects({ file, metadata: p.metadata, compressors: p.compressors, rowStart, rowEnd, parsers: PARQUET_PARSERS } as never) as Record<string, unknown>[];
    const good: number[] = [];
    for (let r = 0; r < n; r++) {
      if (error[r] === null) good.push(r);
      else rejects.push({ line: r + 1, error: error[r]!, raw: rawRow(rows[r]) });
    }
    const pick = <T>(a: T[]): T[] => good.map((r) => a[r]);
    const pickedKeys = Array.isArray(keys) ? pick(keys) : keys.pick(good);
    return { keys: pickedKeys, columns: Object.fromEntries(Object.entries(columns).map(([name, c]) => [name, pick(c)])) };
  }

  /**
   * Rows [rowStart, rowEnd) of the needed columns: those parquet-read.ts decodes (when the range is inside one row
   * group; `ready`: their values are attribute values already, the key as bytes in `packed` when it is ASCII text),
   * then hyparquet's (copied from its chunks into one array per column).
   */
  async #readParquet(p: ParquetInput, rowStart: number, rowEnd: number): Promise<{ data: Map<string, unknown[]>; packed: PackedTexts | null; ready: Set<string> }> {
    const key = this.#spec.key;
    const { metadata } = p;
    let data = new Map<string, unknown[]>();
    let packed: PackedTexts | null = null;
    const own = p.columns.filter((name) => p.readable.has(name));
    let group = 0;
    let groupStart = 0;
    while (group < metadata.row_groups.length && groupStart + Number(metadata.row_groups[group].num_rows) <= rowStart) groupStart += Number(metadata.row_groups[group++].num_rows);
    if (own.length > 0 && group < metadata.row_groups.length && rowEnd <= groupStart + Number(metadata.row_groups[group].num_rows)) {
      try {
        ({ columns: data, packed } = p.reader.read(group, groupStart, rowStart, rowEnd, own, key));
      } catch (err) {
        // Damaged bytes are reported (hyparquet loops forever on some); a page it does not read: hyparquet reads.
        if (err instanceof Damaged) throw new InputError(`${this.#spec.path}: damaged Parquet data in ${err.message}`);
        data = new Map();
        packed = null;
      }
    }
    const ready = new Set(data.keys());
    const rest = p.columns.filter((name) => !data.has(name) && !(name === key && packed !== null));
    if (rest.length > 0) {
      const n = rowEnd - rowStart;
      const { hp, file } = await this.#loadHyparquet();
      await hp.parquetRead({
        file, metadata, compressors: p.compressors, rowStart, rowEnd, columns: rest, parsers: PARQUET_PARSERS,
        onChunk: ({ columnName, columnData, rowStart: from }: { columnName: string; columnData: ArrayLike<unknown>; rowStart: number }) => {
          let column = data.get(columnName);
          if (column === undefined) data.set(columnName, (column = new Array(n).fill(null)));
          const lo = Math.max(from, rowStart);
          const hi = Math.min(from + columnData.length, rowEnd);
          for (let r = lo; r < hi; r++) column[r - rowStart] = columnData[r - from];
        },
      } as never);
    }
    return { data, packed, ready };
  }

  /** Output and per-flag counts of a chunk; `keys`: the subject keys as packed for the engine, when they were. */
  #format(result: BatchResult, keys: Packer | null): { bytes: Uint8Array | null; columns: ParquetChunk | null; dist: ChunkResult['dist'] } {
    const nf = this.#spec.flagKeys.length;
    const cells = result.outcomeIndexes();
    const counts = this.#spec.flagKeys.map((_, j) => {
      const byOutcome = new Uint32Array(result.outcomes(j));
      for (let c = j; c < cells.length; c += nf) byOutcome[cells[c]]++;
      return byOutcome;
    });
    const dist: ChunkResult['dist'] = [];
    counts.forEach((byOutcome, j) => byOutcome.forEach((count, k) => {
      if (count === 0) return;
      const o = result.outcome(j, k);
      dist.push([j, o.variationKey, o.reason, count]);
    }));
    const wide = this.#spec.layout === 'wide';
    if (this.#spec.outputFormat === 'parquet') {
      if (keys === null) {
        keys = new Packer(result.size, result.size * 16);
        for (let i = 0; i < result.size; i++) keys.add(result.subjectKey(i));
      }
      this.#parquetOut ??= new ParquetEncoder(this.#spec.layout, this.#spec.flagKeys, this.#spec.parquetDictionaries!);
      return { bytes: null, columns: this.#parquetOut.chunk(result, cells, keys.done(), valueText), dist };
    }
    return { bytes: textOutput(result, cells, this.#spec.outputFormat === 'csv', wide, keys), columns: null, dist };
  }
}

const NDJSON_PREFIX = encoder.encode('{"subjectKey":"');
const NO_BYTES = new Uint8Array(0);

/**
 * NDJSON or CSV lines for every cell (long) or subject (wide): each distinct outcome's text after the key is made
 * once, each key's text once (or taken as packed for the engine when no key needs escaping), and the kernel joins
 * them (prefix ++ key ++ outcome suffix per cell, or prefix ++ key ++ the suffixes of its cells per subject).
 */
function textOutput(result: BatchResult, cells: Uint16Array, csv: boolean, wide: boolean, packed: Packer | null): Uint8Array {
  const nf = result.flagKeys.length;
  const n = result.size;
  if (wide && nf === 0) {
    // No flags: a wide row is the key alone (the kernel joins cells, and there are none).
    const lines = Array.from({ length: n }, (_, i) => (csv ? `${csvKeyText(result.subjectKey(i))}\n` : `${JSON.stringify({ subjectKey: result.subjectKey(i) })}\n`));
    return encoder.encode(lines.join(''));
  }
  const sfxBase = new Uint32Array(nf);
  const suffixes: string[] = [];
  for (let j = 0; j < nf; j++) {
    sfxBase[j] = suffixes.length;
    for (let k = 0; k < result.outcomes(j); k++) {
      const o = result.outcome(j, k);
      if (!wide) suffixes.push(csv ? csvSuffix(o) : `"${JSON.stringify({ subjectKey: '', ...o }).slice(16)}\n`);
      else if (csv) suffixes.push(`,${csvField(wideCell(o) ?? '')}${j === nf - 1 ? '\n' : ''}`);
      else suffixes.push(`${j === 0 ? '"' : ''},${JSON.stringify(o.flagKey)}:${JSON.stringify(wideCell(o))}${j === nf - 1 ? '}\n' : ''}`);
    }
  }
  const sfx = new Packer(suffixes.length, 256);
  for (const text of suffixes) sfx.add(text);
  let keys = packed;
  if (keys === null || !keys.plain) {
    keys = new Packer(n, n * 16);
    const escape = csv ? csvKeyText : jsonKeyText;
    for (let i = 0; i < n; i++) keys.add(result.subjectKey(i), escape);
  }
  const k = keys.done();
  const x = sfx.done();
  return getKernel().formatCells({
    n, nFlags: nf, perSubject: wide, prefix: csv ? NO_BYTES : NDJSON_PREFIX, keys: k.bytes, keyStart: k.starts, keyLen: k.lengths,
    cells, sfxBase, sfxStart: x.starts, sfxLen: x.lengths, sfx: x.bytes,
  });
}

/**
 * Texts packed as UTF-8 into one growing array, with each one's start and length; or (Packer.over) spans of an
 * array that already holds them.
 */
class Packer {
  #bytes: Uint8Array;
  #starts: Uint32Array;
  #lengths: Uint32Array;
  #n = 0;
  #at = 0;
  #plain = true;
  /** Spans of #bytes: `plain` is found out when first asked. */
  #spans = false;

  constructor(count: number, bytes: number) {
    this.#bytes = new Uint8Array(Math.max(64, bytes));
    this.#starts = new Uint32Array(Math.max(16, count));
    this.#lengths = new Uint32Array(Math.max(16, count));
  }

  /** Texts that are spans of `bytes` (added with span()), not copied. */
  static over(bytes: Uint8Array, count: number): Packer {
    const p = new Packer(count, 0);
    p.#bytes = bytes;
    p.#at = bytes.length;
    p.#spans = true;
    return p;
  }

  /** The texts of `p`, uncopied. */
  static of(p: { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array }): Packer {
    const k = new Packer(0, 0);
    k.#bytes = p.bytes;
    k.#at = p.bytes.length;
    k.#starts = p.starts;
    k.#lengths = p.lengths;
    k.#n = p.starts.length;
    k.#spans = true;
    return k;
  }

  /** False when a text holds a character NDJSON or CSV output escapes or quotes (a control, `"`, `\\`, `,`). */
  get plain(): boolean {
    if (this.#spans) {
      this.#spans = false;
      const b = this.#bytes;
      for (let i = 0; i < this.#n && this.#plain; i++) {
        for (let p = this.#starts[i], end = p + this.#lengths[i]; p < end; p++) {
          const c = b[p];
          if (c < 0x20 || c === 34 || c === 92 || c === 44) {
            this.#plain = false;
            break;
          }
        }
      }
    }
    return this.#plain;
  }

  /** Appends the text at bytes[start, start + length) (a Packer.over). */
  span(start: number, length: number): void {
    if (this.#n === this.#starts.length) {
      this.#starts = grow(this.#starts, this.#n + 1, this.#n);
      this.#lengths = grow(this.#lengths, this.#n + 1, this.#n);
    }
    this.#starts[this.#n] = start;
    this.#lengths[this.#n++] = length;
  }

  /** Appends `s` (through `escape` when it is not plain printable ASCII). */
  add(s: string, escape?: (s: string) => string): void {
    const room = s.length * 6 + 8;
    if (this.#at + room > this.#bytes.length) this.#bytes = grow(this.#bytes, this.#at + room, this.#at);
    if (this.#n === this.#starts.length) {
      this.#starts = grow(this.#starts, this.#n + 1, this.#n);
      this.#lengths = grow(this.#lengths, this.#n + 1, this.#n);
    }
    const bytes = this.#bytes;
    const at = this.#at;
    let k = 0;
    for (; k < s.length; k++) {
      const c = s.charCodeAt(k);
      if (c < 0x20 || c > 0x7e || c === 34 || c === 92 || c === 44) break;
      bytes[at + k] = c;
    }
    let end = at + k;
    if (k < s.length) {
      for (let j = k; j < s.length && this.#plain; j++) {
        const c = s.charCodeAt(j);
        if (c < 0x20 || c === 34 || c === 92 || c === 44) this.#plain = false;
      }
      end = at + encoder.encodeInto(escape ? escape(s) : s, bytes.subarray(at)).written;
    }
    this.#starts[this.#n] = at;
    this.#lengths[this.#n++] = end - at;
    this.#at = end;
  }

  done(): { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array } {
    return { bytes: this.#bytes.subarray(0, this.#at), starts: this.#starts.subarray(0, this.#n), lengths: this.#lengths.subarray(0, this.#n) };
  }
}

/** A copy of `a` with room for at least `min` elements (at least double), its first `used` kept. */
function grow<T extends Uint8Array | Uint32Array>(a: T, min: number, used: number): T {
  const b = new (a.constructor as new (n: number) => T)(Math.max(a.length * 2, min));
  b.set(a.subarray(0, used));
  return b;
}

const csvKeyText = csvField;
const jsonKeyText = (s: string): string => JSON.stringify(s).slice(1, -1);

function csvSuffix(row: Omit<AssignmentRow, 'subjectKey'>): string {
  return `,${csvField(row.flagKey)},${row.variationType ?? ''},${csvField(row.variationKey ?? '')},${csvField(valueText(row) ?? '')},${csvField(row.allocationKey ?? '')},${row.reason},${row.doLog}\n`;
}

/** A CSV cell without a declared type: a number when it round-trips exactly, true/false, else the text. */
export function inferCell(s: string): string | number | boolean {
  const c = s.charCodeAt(0);
  const n = s.length;
  if (c >= 49 && c <= 57 && n <= 15) {
    // Fast path: [1-9][0-9]* up to 15 digits is always an exact number.
    let v = c - 48;
    let i = 1;
    for (; i < n; i++) {
      const d = s.charCodeAt(i) - 48;
      if (d < 0 || d > 9) break;
      v = v * 10 + d;
    }
    if (i === n) return v;
  }
  if ((c >= 48 && c <= 57) || c === 45) {
    const v = Number(s);
    if (String(v) === s) return v;
    return s;
  }
  if (s === 'true') return true;
  if (s === 'false') return false;
  return s;
}

/** Convert a value to a declared type; undefined when it cannot be. */
export function coerce(v: unknown, type: ColumnType): string | number | boolean | undefined {
  switch (type) {
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
    case 'number': {
      if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
      if (typeof v !== 'string' || v.trim() === '') return undefined;
      const x = Number(v);
      return Number.isFinite(x) ? x : undefined;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        const l = v.toLowerCase();
        if (l === 'true') return true;
        if (l === 'false') return false;
      }
      return undefined;
  }
}

/**
 * The Parquet columns a run reads: the key, the attributes its flags' conditions read (in either config of a diff)
 * and the --types columns; of `names`, in their order.
 */
export function parquetInputColumns(spec: RunSpec, names: readonly string[]): string[] {
  const read = conditionAttributes(spec.config, spec.flagKeys);
  if (spec.compare) for (const name of conditionAttributes(spec.compare.config, spec.flagKeys)) read.add(name);
  return names.filter((name) => name === spec.key || read.has(name) || Object.hasOwn(spec.types, name));
}

/** The attributes the conditions of these flags of a UFC document (SERVER format) read: no other can change an outcome. */
function conditionAttributes(config: unknown, flagKeys: readonly string[]): Set<string> {
  const names = new Set<string>();
  const flags = (config as { flags?: Record<string, { allocations?: { rules?: { conditions?: { attribute?: unknown }[] }[] }[] }> }).flags ?? {};
  for (const key of flagKeys) {
    if (!Object.hasOwn(flags, key)) continue;
    for (const a of flags[key].allocations ?? []) for (const rule of a.rules ?? []) for (const c of rule.conditions ?? []) if (typeof c.attribute === 'string') names.add(c.attribute);
  }
  return names;
}

/** A Parquet cell as an attribute value: null → missing, bigint → number (or text when not exact), Date → ISO. */
export function attributeValue(v: unknown): unknown {
  if (v === null || v === undefined) return undefined;
  if (typeof v === 'bigint') return Number.isSafeInteger(Number(v)) ? Number(v) : String(v);
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v, jsonSafe);
  return v;
}

function jsonSafe(_key: string, v: unknown): unknown {
  return typeof v === 'bigint' ? v.toString() : v;
}

function rawRow(row: Record<string, unknown>): string {
  return JSON.stringify(row, jsonSafe);
}
