/**
 * Parquet output of `saltshard assign`, written from the engine's typed results (no per-row objects), in parallel:
 * - every column but subjectKey and doLog is dictionary-encoded against one dictionary per column made from the
 *   config before the run ({@link parquetDictionaries}: the flag keys, variation types, variation keys, value texts,
 *   allocation keys and evaluation codes it can produce; wide layout: each flag's variation keys);
 * - the worker that evaluated a chunk encodes each column of its rows as one finished data page
 *   ({@link ParquetEncoder}): subjectKey PLAIN, doLog PLAIN bits, the others RLE_DICTIONARY (bit-packed/RLE indices,
 *   definition levels for nulls) — or PLAIN if the chunk has a text the dictionary lacks (never expected; exact anyway);
 * - the main thread ({@link ParquetFile}) writes, in input order, row groups of whole chunks (at least
 *   {@link ROW_GROUP_ROWS} rows): per column its dictionary page, then the chunks' pages; then the footer.
 * Every page is SNAPPY-compressed (DATA_PAGE v1). Strings are BYTE_ARRAY annotated UTF8/STRING; the columns, their
 * order and nullability are those of `outputFields` (subjectKey, flagKey, reason and doLog required).
 * @module
 */
import { snappyCompress, snappyRepeats } from './snappy.ts';
import type { BatchResult } from '../eval/batch.ts';
import type { FlagEvaluationCode } from '../errors.ts';
import type { Layout } from './assign-core.ts';

/** Rows per row group, at least: the chunks that fill it are whole (so a group holds this many rows, or a few more). */
export const ROW_GROUP_ROWS = 131_072;

/** A chunk's Parquet output, made by a worker: per output column (in order), one data page. */
export interface ParquetChunk {
  /** Output rows (subjects × flags, or subjects in the wide layout). */
  rows: number;
  /** Per column, its data page (header and compressed body); none when `rows` is 0. */
  pages: Uint8Array[];
  /** Per column, its page's size uncompressed (header included). */
  raw: number[];
  /** Per column, its null values. */
  nulls: number[];
}

const encoder = new TextEncoder();

// Parquet's enumerations (parquet.thrift).
const BOOLEAN = 0;
const BYTE_ARRAY = 6;
const REQUIRED = 0;
const OPTIONAL = 1;
const UTF8 = 0;
const SNAPPY = 1;
const DATA_PAGE = 0;
const DICTIONARY_PAGE = 2;
const PLAIN = 0;
const RLE = 3;
const RLE_DICTIONARY = 8;

/** Every evaluation code (the reason column's dictionary); the compiler keeps it complete. */
const CODES: Record<FlagEvaluationCode, true> = {
  MATCH: true, FLAG_UNRECOGNIZED_OR_DISABLED: true, TYPE_MISMATCH: true, ASSIGNMENT_ERROR: true, DEFAULT_ALLOCATION_NULL: true,
  NO_ACTIONS_SUPPLIED_FOR_BANDIT: true, BANDIT_ERROR: true,
};

/** The outcome fields a column shows. */
type Field = 'flagKey' | 'variationType' | 'variationKey' | 'value' | 'allocationKey' | 'reason' | 'doLog' | 'wide';

/** The columns after subjectKey: name, field, nullability; wide layout: one per flag (its index in `flag`). */
function columnsOf(layout: Layout, flagKeys: readonly string[]): { name: string; field: Field; optional: boolean; flag: number }[] {
  if (layout === 'wide') return flagKeys.map((name, flag) => ({ name, field: 'wide', optional: true, flag }));
  const fields: [Field, boolean][] = [['flagKey', false], ['variationType', true], ['variationKey', true], ['value', true], ['allocationKey', true], ['reason', false], ['doLog', false]];
  return fields.map(([field, optional]) => ({ name: field, field, optional, flag: -1 }));
}

interface WireFlag {
  variationType?: string;
  variations?: Record<string, { key?: string; value?: unknown }>;
  allocations?: { key?: string }[];
}

/**
 * Per column after subjectKey, the texts its cells can take (doLog: none): made from the config (wire JSON) so each
 * worker encodes its pages against the same dictionary. `valueText` as the value column shows a matched value.
 */
export function parquetDictionaries(config: unknown, flagKeys: readonly string[], layout: Layout, valueText: (o: { reason: string; variationType: string; value: unknown }) => string | null): string[][] {
  const flags = ((config as { flags?: Record<string, WireFlag> }).flags ?? {});
  const flag = (key: string): WireFlag => (Object.hasOwn(flags, key) ? flags[key] : {});
  const variations = (f: WireFlag) => Object.values(f.variations ?? {});
  return columnsOf(layout, flagKeys).map(({ field, flag: j }) => {
    const texts = new Set<string>();
    const add = (t: unknown) => typeof t === 'string' && texts.add(t);
    for (const key of j >= 0 ? [flagKeys[j]] : flagKeys) {
      const f = flag(key);
      if (field === 'flagKey') add(key);
      else if (field === 'variationType') add(f.variationType);
      else if (field === 'variationKey' || field === 'wide') for (const v of variations(f)) add(v.key);
      else if (field === 'allocationKey') for (const a of f.allocations ?? []) add(a.key);
      else if (field === 'value') {
        for (const v of variations(f)) {
          let value = v.value;
          // A JSON flag's value may be given as JSON text; the batch serves it parsed.
          if (f.variationType === 'JSON' && typeof value === 'string') {
            try {
              value = JSON.parse(value);
            } catch {
              // Kept as text: a cell that differs falls back to a PLAIN page.
            }
          }
          add(valueText({ reason: 'MATCH', variationType: f.variationType ?? '', value }));
        }
      }
    }
    if (field === 'reason') for (const code of Object.keys(CODES)) add(code);
    return [...texts];
  });
}

/** A worker's encoder of chunks: the dictionaries as maps, scratch arrays reused from chunk to chunk. */
export class ParquetEncoder {
  readonly #layout: Layout;
  readonly #columns: ReturnType<typeof columnsOf>;
  readonly #dicts: Map<string, number>[];
  readonly #widths: number[];
  #ids = new Int32Array(0);
  #defined = new Int32Array(0);
  #positions = new Int32Array(0);

  constructor(layout: Layout, flagKeys: readonly string[], dictionaries: readonly string[][]) {
    this.#layout = layout;
    this.#columns = columnsOf(layout, flagKeys);
    this.#dicts = dictionaries.map((texts) => new Map(texts.map((t, i) => [t, i])));
    this.#widths = dictionaries.map((texts) => bitWidth(texts.length));
  }

  /**
   * The pages of one evaluated chunk. `keys`: the subject keys as UTF-8 (one span per subject; the long layout
   * repeats each once per flag); `cells`: the outcome index of each (subject, flag), subject-major.
   */
  chunk(result: BatchResult, cells: Uint16Array, keys: { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array }, valueText: (o: ReturnType<BatchResult['outcome']>) => string | null): ParquetChunk {
    const nf = result.flagKeys.length;
    const n = result.size;
    const long = this.#layout === 'long';
    const rows = long ? n * nf : n;
    const out: ParquetChunk = { rows, pages: [], raw: [], nulls: [] };
    if (rows === 0) return out;
    const add = ([page, raw]: [Uint8Array, number], nulls: number) => {
      out.pages.push(page);
      out.raw.push(raw);
      out.nulls.push(nulls);
    };
    add(compressedDataPage(snappyRepeats(keys, n, long ? Math.max(1, nf) : 1), rows, PLAIN), 0);
    if (this.#ids.length < rows) {
      this.#ids = new Int32Array(rows);
      this.#defined = new Int32Array(rows);
    }
    const ids = this.#ids;
    const outcomes = result.flagKeys.map((_, j) => Array.from({ length: result.outcomes(j) }, (_, k) => result.outcome(j, k)));
    // Each column's lut below holds flag j's outcome k at at[j] + k; in the long layout, each row's position there
    // (the same for every column) is found once.
    const at = new Int32Array(nf + 1);
    for (let j = 0; j < nf; j++) at[j + 1] = at[j] + outcomes[j].length;
    if (long) {
      if (this.#positions.length < rows) this.#positions = new Int32Array(rows);
      positions(this.#positions, at, cells, n, nf);
    }
    for (let c = 0; c < this.#columns.length; c++) {
      const { field, flag, optional } = this.#columns[c];
      const dict = this.#dicts[c];
      // (Indices are bit-packed from 32-bit integers: up to 24 bits, 16 M texts.)
      let plain = this.#widths[c] > 24;
      // A wide column shows one flag: the other flags' outcomes are not its cells (null here, never read).
      const texts = outcomes.map((os, j) => os.map((o) => (flag < 0 || j === flag ? cellOf(o, field, valueText) : null)));
      // Per flag j and outcome k, at lut[at[j] + k]: the cell's dictionary index (-1: null, -2: not in it).
      const lut = Int32Array.from(texts.flat(), (t) => {
        if (typeof t === 'boolean') return t ? 1 : 0;
        if (t === null) return -1;
        const id = dict.get(t);
        if (id !== undefined) return id;
        plain = true;
        return -2;
      });
      // PLAIN: a row's value is its position in texts.flat() (the lut keeps only the nulls).
      if (plain) for (let x = 0; x < lut.length; x++) lut[x] = lut[x] === -1 ? -1 : x;
      if (long) lookup(ids, lut, this.#positions, rows);
      else flagIds(ids, lut, at[flag], cells, n, nf, flag);
      if (field === 'doLog') {
        add(dataPage(packBits(ids, rows), rows, PLAIN), 0);
        continue;
      }
      const body = new Bytes(rows >> 1);
      let count = rows;
      if (optional) {
        const lengthAt = body.reserve(4);
        if ((long ? lut : lut.subarray(at[flag], at[flag + 1])).includes(-1)) {
          count = compact(ids, this.#defined, rows);
          hybrid(this.#defined, rows, 1, body);
        } else {
          // No cell can be null: the levels are one run of 1s.
          body.varint(rows * 2);
          body.push(1);
        }
        body.setUint32(lengthAt, body.length - lengthAt - 4);
      }
      // The non-null values' dictionary indices (or PLAIN texts) are now ids[0, count).
      if (plain) {
        const bytes = texts.flat().map((t) => encoder.encode(t as string | null ?? ''));
        for (let i = 0; i < count; i++) {
          const b = bytes[ids[i]];
          body.setUint32(body.reserve(4), b.length);
          body.append(b);
        }
        add(dataPage(body.bytes(), rows, PLAIN), rows - count);
        continue;
      }
      body.push(this.#widths[c]);
      hybrid(ids, count, this.#widths[c], body);
      add(dataPage(body.bytes(), rows, RLE_DICTIONARY), rows - count);
    }
    return out;
  }
}

// The per-row loops of ParquetEncoder.chunk, as functions of their own so each keeps its own (monomorphic) type
// feedback: inlined in the per-column code they deoptimized whenever a column took another branch.

/** Long layout: the lut position of every (subject, flag j) cell, at[j] + its outcome index. */
function positions(out: Int32Array, at: Int32Array, cells: Uint16Array, n: number, nf: number): void {
  for (let i = 0, cell = 0; i < n; i++) for (let j = 0; j < nf; j++, cell++) out[cell] = at[j] + cells[cell];
}

/** ids[r] = lut[positions[r]] for the first `rows` rows. */
function lookup(ids: Int32Array, lut: Int32Array, positions: Int32Array, rows: number): void {
  for (let r = 0; r < rows; r++) ids[r] = lut[positions[r]];
}

/** Wide layout, flag `flag`'s column: ids[i] = lut[base + subject i's cell]. */
function flagIds(ids: Int32Array, lut: Int32Array, base: number, cells: Uint16Array, n: number, nf: number, flag: number): void {
  for (let i = 0, cell = flag; i < n; i++, cell += nf) ids[i] = lut[base + cells[cell]];
}

/** Moves the non-null ids (≥ 0) of ids[0, rows) to the front, a definition level per row; their count. */
function compact(ids: Int32Array, defined: Int32Array, rows: number): number {
  let k = 0;
  for (let i = 0; i < rows; i++) {
    const id = ids[i];
    const d = id >= 0 ? 1 : 0;
    defined[i] = d;
    ids[k] = id;
    k += d;
  }
  return k;
}

/** What column `field` shows for an outcome. */
function cellOf(o: ReturnType<BatchResult['outcome']>, field: Field, valueText: (o: ReturnType<BatchResult['outcome']>) => string | null): string | boolean | null {
  switch (field) {
    case 'value':
      return valueText(o);
    case 'wide':
      return o.reason === 'MATCH' ? o.variationKey : null;
    default:
      return o[field];
  }
}

/** Bits per dictionary index (at least 1). */
function bitWidth(entries: number): number {
  return Math.max(1, 32 - Math.clz32(Math.max(0, entries - 1)));
}

/** A DATA_PAGE (v1): its header and SNAPPY-compressed body, and the page's uncompressed size. */
function dataPage(body: Uint8Array, values: number, encoding: number): [Uint8Array, number] {
  return compressedDataPage({ packed: snappyCompress(body), raw: body.length }, values, encoding);
}

/** A DATA_PAGE (v1) of a body already compressed (`raw`: its uncompressed size), and the page's uncompressed size. */
function compressedDataPage({ packed, raw }: { packed: Uint8Array; raw: number }, values: number, encoding: number): [Uint8Array, number] {
  const header = thrift([
    [1, 'i32', DATA_PAGE], [2, 'i32', raw], [3, 'i32', packed.length],
    [5, 'struct', [[1, 'i32', values], [2, 'i32', encoding], [3, 'i32', RLE], [4, 'i32', RLE]]],
  ]);
  return [concat([header, packed]), header.length + raw];
}

/** A DICTIONARY_PAGE of texts (PLAIN), and its uncompressed size. */
function dictionaryPage(texts: readonly string[]): [Uint8Array, number] {
  const body = new Bytes(256);
  for (const t of texts) {
    const b = encoder.encode(t);
    body.setUint32(body.reserve(4), b.length);
    body.append(b);
  }
  const raw = body.bytes();
  const packed = snappyCompress(raw);
  const header = thrift([
    [1, 'i32', DICTIONARY_PAGE], [2, 'i32', raw.length], [3, 'i32', packed.length],
    [7, 'struct', [[1, 'i32', texts.length], [2, 'i32', PLAIN]]],
  ]);
  return [concat([header, packed]), header.length + raw.length];
}

/** Writes the Parquet file: row groups of whole chunks as they arrive (in order), the footer at the end. */
export class ParquetFile {
  readonly #write: (bytes: Uint8Array) => Promise<void>;
  readonly #columns: ReturnType<typeof columnsOf>;
  /** Per column after subjectKey: its dictionary page and that page's uncompressed size (doLog: none). */
  readonly #dictPages: ([Uint8Array, number] | null)[];
  readonly #pending: ParquetChunk[] = [];
  #pendingRows = 0;
  #offset = 0;
  #rows = 0;
  readonly #groups: ThriftStruct[] = [];

  /**
   * @param write appends bytes to the output (awaited: back-pressure).
   * @param dictionaries from {@link parquetDictionaries}, as given to the workers' encoders.
   */
  constructor(write: (bytes: Uint8Array) => Promise<void>, layout: Layout, flagKeys: readonly string[], dictionaries: readonly string[][]) {
    this.#write = write;
    this.#columns = columnsOf(layout, flagKeys);
    this.#dictPages = this.#columns.map((c, k) => (c.field === 'doLog' ? null : dictionaryPage(dictionaries[k])));
  }

  /** Starts the file. */
  async open(): Promise<void> {
    await this.#put(encoder.encode('PAR1'));
  }

  /** Adds a chunk's rows (chunks in input order). */
  async add(chunk: ParquetChunk): Promise<void> {
    if (chunk.rows === 0) return;
    this.#pending.push(chunk);
    this.#pendingRows += chunk.rows;
    if (this.#pendingRows >= ROW_GROUP_ROWS) await this.#flush();
  }

  /** Writes the last row group and the footer. */
  async end(): Promise<void> {
    if (this.#pendingRows > 0) await this.#flush();
    const str = (name: string, optional: boolean): ThriftStruct => [[1, 'i32', BYTE_ARRAY], [3, 'i32', optional ? OPTIONAL : REQUIRED], [4, 'bin', name], [6, 'i32', UTF8], [10, 'struct', [[1, 'struct', []]]]];
    const schema: ThriftStruct[] = [
      [[4, 'bin', 'root'], [5, 'i32', this.#columns.length + 1]],
      str('subjectKey', false),
      ...this.#columns.map((c) => (c.field === 'doLog' ? [[1, 'i32', BOOLEAN], [3, 'i32', REQUIRED], [4, 'bin', c.name]] as ThriftStruct : str(c.name, c.optional))),
    ];
    const footer = thrift([[1, 'i32', 1], [2, 'list', schema], [3, 'i64', this.#rows], [4, 'list', this.#groups], [6, 'bin', 'saltshard']]);
    const tail = new Uint8Array(8);
    new DataView(tail.buffer).setUint32(0, footer.length, true);
    tail.set(encoder.encode('PAR1'), 4);
    await this.#put(concat([footer, tail]));
  }

  async #put(bytes: Uint8Array): Promise<void> {
    this.#offset += bytes.length;
    await this.#write(bytes);
  }

  async #flush(): Promise<void> {
    const chunks = this.#pending.splice(0);
    const rows = this.#pendingRows;
    this.#pendingRows = 0;
    const groupStart = this.#offset;
    const columns: ThriftStruct[] = [];
    let groupRaw = 0;
    for (let c = 0; c <= this.#columns.length; c++) {
      const col = c === 0 ? null : this.#columns[c - 1];
      const dict = c === 0 ? null : this.#dictPages[c - 1];
      const start = this.#offset;
      let raw = 0;
      let nulls = 0;
      if (dict !== null) {
        await this.#put(dict[0]);
        raw += dict[1];
      }
      const dataAt = this.#offset;
      // One write per column: its pages joined.
      await this.#put(concat(chunks.map((k) => k.pages[c])));
      for (const k of chunks) {
        raw += k.raw[c];
        nulls += k.nulls[c];
      }
      const boolean = col?.field === 'doLog';
      const meta: ThriftStruct = [
        [1, 'i32', boolean ? BOOLEAN : BYTE_ARRAY], [2, 'list', (dict === null ? [PLAIN] : [PLAIN, RLE, RLE_DICTIONARY]).map((e): ThriftValue => ['i32', e])],
        [3, 'list', [['bin', col?.name ?? 'subjectKey']]], [4, 'i32', SNAPPY], [5, 'i64', rows], [6, 'i64', raw], [7, 'i64', this.#offset - start], [9, 'i64', dataAt],
      ];
      if (dict !== null) meta.push([11, 'i64', start]);
      meta.push([12, 'struct', [[3, 'i64', nulls]]]);
      columns.push([[2, 'i64', start], [3, 'struct', meta]]);
      groupRaw += raw;
    }
    this.#rows += rows;
    this.#groups.push([[1, 'list', columns], [2, 'i64', groupRaw], [3, 'i64', rows], [5, 'i64', groupStart], [6, 'i64', this.#offset - groupStart], [7, 'i16', this.#groups.length]]);
  }
}

/** PLAIN booleans: one bit per value, least significant first. */
function packBits(bits: Int32Array, n: number): Uint8Array {
  const out = new Uint8Array((n + 7) >> 3);
  for (let i = 0; i < n; i++) if (bits[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/**
 * Parquet's RLE/bit-packing hybrid of the first `n` values of `v`, `width` bits each (≤ 24): a run of 8 or more equal
 * values is one RLE run, anything else is bit-packed in groups of 8 (only the end may be padded).
 */
function hybrid(v: Int32Array, n: number, width: number, out: Bytes): void {
  const runAt = (i: number): number => {
    const x = v[i];
    let j = i + 1;
    while (j < n && v[j] === x) j++;
    return j - i;
  };
  const valueBytes = (width + 7) >> 3;
  let i = 0;
  while (i < n) {
    const run = runAt(i);
    if (run >= 8) {
      out.varint(run * 2);
      for (let b = 0, x = v[i]; b < valueBytes; b++, x >>>= 8) out.push(x & 0xff);
      i += run;
      continue;
    }
    const start = i;
    do i += 8;
    while (i < n && runAt(i) < 8);
    const groups = (Math.min(i, n) - start + 7) >> 3;
    if (i > n) i = n;
    out.varint(groups * 2 + 1);
    // Bits least significant first, across byte boundaries.
    const at = out.reserve(groups * width);
    const b = out.buffer;
    let p = at;
    let k = start;
    if (width <= 4) {
      // Up to 4 bits: a group of 8 values is one 32-bit word, written in `width` bytes.
      const w = width;
      for (const full = start + Math.min(groups, (n - start) >> 3) * 8; k < full; k += 8) {
        const word = v[k] | (v[k + 1] << w) | (v[k + 2] << (2 * w)) | (v[k + 3] << (3 * w)) | (v[k + 4] << (4 * w)) | (v[k + 5] << (5 * w)) | (v[k + 6] << (6 * w)) | (v[k + 7] << (7 * w));
        b[p++] = word;
        if (w > 1) b[p++] = word >>> 8;
        if (w > 2) b[p++] = word >>> 16;
        if (w > 3) b[p++] = word >>> 24;
      }
    }
    let acc = 0;
    let bits = 0;
    const end = start + groups * 8;
    for (; k < end; k++) {
      acc |= (k < n ? v[k] : 0) << bits;
      bits += width;
      while (bits >= 8) {
        b[p++] = acc & 0xff;
        acc >>>= 8;
        bits -= 8;
      }
    }
  }
}

/** A growing byte buffer. */
class Bytes {
  #b: Uint8Array;
  length = 0;
  constructor(size: number) {
    this.#b = new Uint8Array(Math.max(64, size));
  }

  ensure(n: number): void {
    if (this.length + n <= this.#b.length) return;
    const b = new Uint8Array(Math.max(this.#b.length * 2, this.length + n));
    b.set(this.#b.subarray(0, this.length));
    this.#b = b;
  }

  push(x: number): void {
    if (this.length === this.#b.length) this.ensure(1);
    this.#b[this.length++] = x;
  }

  reserve(n: number): number {
    this.ensure(n);
    const at = this.length;
    this.length += n;
    return at;
  }

  setUint32(at: number, x: number): void {
    const b = this.#b;
    b[at] = x;
    b[at + 1] = x >>> 8;
    b[at + 2] = x >>> 16;
    b[at + 3] = x >>> 24;
  }

  varint(x: number): void {
    while (x >= 128) {
      this.push((x % 128) | 128);
      x = Math.floor(x / 128);
    }
    this.push(x);
  }

  append(b: Uint8Array): void {
    this.ensure(b.length);
    this.#b.set(b, this.length);
    this.length += b.length;
  }

  /** The storage (valid until the next growth). */
  get buffer(): Uint8Array {
    return this.#b;
  }

  bytes(): Uint8Array {
    return this.#b.subarray(0, this.length);
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  let size = 0;
  for (const p of parts) size += p.length;
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

// ------------------------------------------------------------------ Thrift compact protocol (the footer and page headers)

type ThriftValue = ['i16' | 'i32' | 'i64', number] | ['bin', string | Uint8Array] | ['bool', boolean] | ['struct', ThriftStruct] | ['list', ThriftValue[] | ThriftStruct[]];
/** A struct as its fields in increasing id order: [id, type, value]. */
type ThriftStruct = [number, ThriftValue[0], unknown][];

const COMPACT: Record<ThriftValue[0], number> = { bool: 1, i16: 4, i32: 5, i64: 6, bin: 8, list: 9, struct: 12 };

function thrift(s: ThriftStruct): Uint8Array {
  const out = new Bytes(256);
  writeStruct(out, s);
  return out.bytes().slice();
}

function writeStruct(out: Bytes, s: ThriftStruct): void {
  let last = 0;
  for (const [id, type, value] of s) {
    const t = type === 'bool' ? (value ? 1 : 2) : COMPACT[type];
    if (id - last > 0 && id - last <= 15) out.push(((id - last) << 4) | t);
    else {
      out.push(t);
      out.varint(zigzag(id));
    }
    last = id;
    if (type !== 'bool') writeValue(out, type, value);
  }
  out.push(0);
}

function writeValue(out: Bytes, type: ThriftValue[0], value: unknown): void {
  switch (type) {
    case 'i16':
    case 'i32':
    case 'i64':
      out.varint(zigzag(value as number));
      return;
    case 'bin': {
      const b = typeof value === 'string' ? encoder.encode(value) : (value as Uint8Array);
      out.varint(b.length);
      out.append(b);
      return;
    }
    case 'bool':
      out.push(value ? 1 : 2);
      return;
    case 'struct':
      writeStruct(out, value as ThriftStruct);
      return;
    case 'list': {
      // Elements are [type, value] pairs, or structs (arrays of fields).
      const items = value as unknown[];
      const isStruct = items.length === 0 || typeof (items[0] as unknown[])[0] !== 'string';
      const elemType: ThriftValue[0] = isStruct ? 'struct' : (items[0] as ThriftValue)[0];
      const t = COMPACT[elemType];
      if (items.length < 15) out.push((items.length << 4) | t);
      else {
        out.push(0xf0 | t);
        out.varint(items.length);
      }
      for (const item of items) {
        if (isStruct) writeStruct(out, item as ThriftStruct);
        else writeValue(out, elemType, (item as ThriftValue)[1]);
      }
    }
  }
}

/** Zigzag of a non-negative or negative integer (exact up to 2^52). */
function zigzag(x: number): number {
  return x >= 0 ? x * 2 : -x * 2 - 1;
}
