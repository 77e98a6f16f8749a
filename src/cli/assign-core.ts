/**
 * The work of `saltshard assign` on one chunk of input, the same in a worker thread and in-process: parse the
 * chunk (NDJSON or CSV bytes, or a Parquet row group), evaluate every flag for every good row with one
 * `assignMany` call, and format the output (NDJSON or CSV bytes, or Parquet columns). Each distinct outcome of a
 * flag is formatted once per chunk. The output depends only on the chunk, so any number of workers writes the
 * same bytes.
 * @module
 */
import { SaltshardClient } from '../client.ts';
import type { BatchResult, BatchSubject } from '../eval/batch.ts';
import type { Attributes } from '../eval/reference.ts';
import { csvField, parseCsv } from './csv.ts';

export type InputFormat = 'ndjson' | 'csv' | 'parquet';
export type OutputFormat = 'ndjson' | 'csv' | 'parquet';
export type ColumnType = 'string' | 'number' | 'boolean';

/** Everything a processor needs; plain data, sent to each worker once. */
export interface RunSpec {
  /** The validated UFC document (compileConfig accepts it). */
  config: unknown;
  flagKeys: string[];
  /** The clock for allocation windows, fixed for the run so every worker answers the same. */
  nowMs: number;
  inputFormat: InputFormat;
  outputFormat: OutputFormat;
  /** The subject key column (CSV, Parquet) or field (NDJSON). */
  key: string;
  types: Record<string, ColumnType>;
  /** CSV: the header's column names. */
  header: string[] | null;
  /** Parquet input: the file. */
  path: string | null;
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

/** Parquet output columns of one chunk. */
export interface OutputColumns {
  subjectKey: string[];
  flagKey: string[];
  variationType: (string | null)[];
  variationKey: (string | null)[];
  value: (string | null)[];
  allocationKey: (string | null)[];
  reason: string[];
  doLog: boolean[];
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
  columns: OutputColumns | null;
  /** Per flag index: [variationKey, reason, count] for each outcome seen. */
  dist: [number, string | null, string, number][];
}

/** The output columns, in order (also the CSV header and the NDJSON field order). */
export const OUTPUT_FIELDS = ['subjectKey', 'flagKey', 'variationType', 'variationKey', 'value', 'allocationKey', 'reason', 'doLog'] as const;

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The value as text in CSV and Parquet: strings as they are, JSON notation otherwise, null as null. */
export function valueText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/** Parses and evaluates chunks. */
export class Processor {
  readonly #spec: RunSpec;
  readonly #client: SaltshardClient;
  #parquet: { file: unknown; metadata: unknown; read: (o: unknown) => Promise<Record<string, unknown>[]>; compressors: unknown } | null = null;

  constructor(spec: RunSpec) {
    this.#spec = spec;
    const nowMs = spec.nowMs;
    this.#client = new SaltshardClient({ assignmentLogger: null, assignmentCacheSize: 0, now: () => nowMs, logger: { error() {}, warn() {} } });
    this.#client.setConfiguration(spec.config);
  }

  async process(task: Task): Promise<ChunkResult> {
    const subjects: BatchSubject[] = [];
    const rejects: Reject[] = [];
    let lines: number;
    const s = this.#spec;
    if (s.inputFormat === 'parquet') lines = await this.#parseParquet(task, subjects, rejects);
    else {
      const text = decoder.decode(task.bytes!);
      lines = s.inputFormat === 'csv' ? this.#parseCsv(text, subjects, rejects) : this.#parseNdjson(text, subjects, rejects);
    }
    const result = this.#client.assignMany(subjects, s.flagKeys, { log: 'none' });
    const out = this.#format(result);
    return { seq: task.seq, subjects: subjects.length, lines, rejects, ...out };
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

  #parseCsv(text: string, subjects: BatchSubject[], rejects: Reject[]): number {
    const s = this.#spec;
    const header = s.header!;
    const keyIndex = header.indexOf(s.key);
    const width = header.length;
    const kinds = header.map((name) => (Object.hasOwn(s.types, name) ? s.types[name] : null));
    return parseCsv(text, (fields, line, raw, error) => {
      if (fields === null) {
        rejects.push({ line, error: error ?? 'bad record', raw });
        return;
      }
      if (fields.length !== width) {
        rejects.push({ line, error: `expected ${width} fields, got ${fields.length}`, raw });
        return;
      }
      const subjectKey = fields[keyIndex];
      if (subjectKey === '') {
        rejects.push({ line, error: `missing "${s.key}"`, raw });
        return;
      }
      const attributes: Record<string, string | number | boolean> = {};
      for (let c = 0; c < width; c++) {
        if (c === keyIndex) continue;
        const f = fields[c];
        if (f === '') continue;
        const kind = kinds[c];
        if (kind === null) attributes[header[c]] = inferCell(f);
        else {
          const v = coerce(f, kind);
          if (v === undefined) {
            rejects.push({ line, error: `column "${header[c]}": ${JSON.stringify(f)} is not a ${kind}`, raw });
            return;
          }
          attributes[header[c]] = v;
        }
      }
      subjects.push({ subjectKey, subjectAttributes: attributes });
    });
  }

  async #parseParquet(task: Task, subjects: BatchSubject[], rejects: Reject[]): Promise<number> {
    const s = this.#spec;
    if (this.#parquet === null) {
      const hp = await import('hyparquet');
      const { compressors } = await import('hyparquet-compressors');
      const file = await hp.asyncBufferFromFile(s.path!);
      const metadata = await hp.parquetMetadataAsync(file);
      this.#parquet = { file, metadata, compressors, read: hp.parquetReadObjects as never };
    }
    const p = this.#parquet;
    const rowStart = task.rowStart!;
    const rowEnd = task.rowEnd!;
    const rows = await p.read({ file: p.file, metadata: p.metadata, compressors: p.compressors, rowStart, rowEnd, rowFormat: 'object' });
    for (let r = 0; r < rows.length; r++) {
      const row = rows[r];
      const line = r + 1;
      let key = row[s.key];
      if (typeof key === 'number' || typeof key === 'bigint') key = String(key);
      if (typeof key !== 'string' || key === '') {
        rejects.push({ line, error: `"${s.key}" must be a non-empty string`, raw: rawRow(row) });
        continue;
      }
      const attributes: Record<string, unknown> = {};
      let error: string | null = null;
      for (const name in row) {
        if (name === s.key) continue;
        let v = attributeValue(row[name]);
        if (v === undefined) continue;
        if (Object.hasOwn(s.types, name)) {
          const c = coerce(v, s.types[name]);
          if (c === undefined) {
            error = `column "${name}": ${JSON.stringify(v)} is not a ${s.types[name]}`;
            break;
          }
          v = c;
        }
        attributes[name] = v;
      }
      if (error !== null) {
        rejects.push({ line, error, raw: rawRow(row) });
        continue;
      }
      subjects.push({ subjectKey: key, subjectAttributes: attributes as Attributes });
    }
    return rowEnd - rowStart;
  }

  #format(result: BatchResult): { bytes: Uint8Array | null; columns: OutputColumns | null; dist: ChunkResult['dist'] } {
    const flags = this.#spec.flagKeys;
    const nf = flags.length;
    const n = result.subjectKeys.length;
    const counts: number[][] = flags.map(() => []);
    const seen: { i: number }[][] = flags.map(() => []);
    const fmt = this.#spec.outputFormat;
    let bytes: Uint8Array | null = null;
    let columns: OutputColumns | null = null;
    if (fmt === 'parquet') {
      const total = n * nf;
      const c: OutputColumns = {
        subjectKey: new Array(total), flagKey: new Array(total), variationType: new Array(total), variationKey: new Array(total),
        value: new Array(total), allocationKey: new Array(total), reason: new Array(total), doLog: new Array(total),
      };
      const rows: ReturnType<BatchResult['row']>[][] = flags.map(() => []);
      let at = 0;
      for (let i = 0; i < n; i++) {
        const key = result.subjectKeys[i];
        for (let j = 0; j < nf; j++, at++) {
          const k = result.outcomeIndex(i, j);
          const cj = counts[j];
          if (cj[k] === undefined) {
            cj[k] = 0;
            seen[j][k] = { i };
          }
          cj[k]++;
          const row = (rows[j][k] ??= result.row(i, j));
          c.subjectKey[at] = key;
          c.flagKey[at] = row.flagKey;
          c.variationType[at] = row.variationType;
          c.variationKey[at] = row.variationKey;
          c.value[at] = valueText(row.value);
          c.allocationKey[at] = row.allocationKey;
          c.reason[at] = row.reason;
          c.doLog[at] = row.doLog;
        }
      }
      columns = c;
    } else {
      // Each outcome's text after the subject key, built the first time the outcome is seen in this chunk.
      const suffix: string[][] = flags.map(() => []);
      const csv = fmt === 'csv';
      const parts: string[] = [];
      let buf = '';
      for (let i = 0; i < n; i++) {
        const keyText = csv ? csvField(result.subjectKeys[i]) : `{"subjectKey":${JSON.stringify(result.subjectKeys[i])}`;
        for (let j = 0; j < nf; j++) {
          const k = result.outcomeIndex(i, j);
          let sfx = suffix[j][k];
          if (sfx === undefined) {
            const row = result.row(i, j);
            sfx = suffix[j][k] = csv ? csvSuffix(row) : `${JSON.stringify({ ...row, subjectKey: '' }).slice(16)}\n`;
            counts[j][k] = 0;
            seen[j][k] = { i };
          }
          counts[j][k]++;
          buf += keyText + sfx;
        }
        if (buf.length > 1 << 20) {
          parts.push(buf);
          buf = '';
        }
      }
      parts.push(buf);
      bytes = encoder.encode(parts.length === 1 ? parts[0] : parts.join(''));
    }
    const dist: ChunkResult['dist'] = [];
    for (let j = 0; j < nf; j++) {
      counts[j].forEach((count, k) => {
        const row = result.row(seen[j][k].i, j);
        dist.push([j, row.variationKey, row.reason, count]);
      });
    }
    return { bytes, columns, dist };
  }
}

function csvSuffix(row: { flagKey: string; variationType: string | null; variationKey: string | null; value: unknown; allocationKey: string | null; reason: string; doLog: boolean }): string {
  return `,${csvField(row.flagKey)},${row.variationType ?? ''},${csvField(row.variationKey ?? '')},${csvField(valueText(row.value) ?? '')},${csvField(row.allocationKey ?? '')},${row.reason},${row.doLog}\n`;
}

/** A CSV cell without a declared type: a number when it round-trips exactly, true/false, else the text. */
export function inferCell(s: string): string | number | boolean {
  const c = s.charCodeAt(0);
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

/** A Parquet cell as an attribute value: null → missing, bigint → number (or text when not exact), Date → ISO. */
function attributeValue(v: unknown): unknown {
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
