/**
 * A Parquet column reader for the flat files `saltshard assign` and `diff` read: a row range of one row group, each
 * column decoded straight into one array of attribute values (strings, numbers, booleans; undefined for null) without
 * row objects, the key column optionally as its bytes. It reads what flat cohort files hold — top-level REQUIRED or
 * OPTIONAL columns of BOOLEAN, INT32, INT64, FLOAT, DOUBLE and text BYTE_ARRAY, PLAIN, dictionary, DELTA_* or
 * BYTE_STREAM_SPLIT encoded, data pages v1 and v2, any codec `compressors` has, DATE and TIMESTAMP columns included —
 * and says which columns it leaves to hyparquet (anything else: nested or repeated columns, decimals, INT96 and
 * unsigned integers, JSON). Its values are the ones hyparquet's plus assign-core's attributeValue() give: INT64 as a
 * number when it is a safe integer, else as its decimal text; dates and timestamps as ISO texts. Consecutive ranges
 * of a row group share its page headers and the page last decoded per column.
 * A feature it does not read throws Unsupported (the caller then lets hyparquet read those columns); damaged bytes
 * throw Damaged, never a hang or an allocation a header asks for beyond the page (hyparquet loops forever on some).
 * (Metadata is hyparquet's parse of the footer.)
 * @module
 */
import type { ColumnChunk, Compressors, FileMetaData, SchemaElement } from 'hyparquet';
import { closeSync, openSync, readSync } from 'node:fs';

/** A page or feature this reader leaves to hyparquet. */
export class Unsupported extends Error {}

/** Bytes that are not what the file's metadata and page headers say they are: a damaged or truncated file. */
export class Damaged extends Error {}

// Thrift compact protocol type ids.
const T_TRUE = 1;
const T_FALSE = 2;
const T_BYTE = 3;
const T_I16 = 4;
const T_I32 = 5;
const T_I64 = 6;
const T_DOUBLE = 7;
const T_BINARY = 8;
const T_LIST = 9;
const T_SET = 10;
const T_MAP = 11;
const T_STRUCT = 12;

// Parquet enums.
const DATA_PAGE = 0;
const DICTIONARY_PAGE = 2;
const DATA_PAGE_V2 = 3;
const PLAIN = 0;
const PLAIN_DICTIONARY = 2;
const RLE = 3;
const DELTA_BINARY_PACKED = 5;
const DELTA_LENGTH_BYTE_ARRAY = 6;
const DELTA_BYTE_ARRAY = 7;
const RLE_DICTIONARY = 8;
const BYTE_STREAM_SPLIT = 9;
const ENCODINGS = new Set(['PLAIN', 'PLAIN_DICTIONARY', 'RLE', 'RLE_DICTIONARY', 'BIT_PACKED', 'DELTA_BINARY_PACKED', 'DELTA_LENGTH_BYTE_ARRAY', 'DELTA_BYTE_ARRAY', 'BYTE_STREAM_SPLIT']);

type Physical = 'BOOLEAN' | 'INT32' | 'INT64' | 'FLOAT' | 'DOUBLE' | 'BYTE_ARRAY';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A thrift struct as field id → value (numbers, booleans, byte arrays, lists, nested structs). */
type Struct = Map<number, unknown>;

/** Reads thrift compact protocol structs from `b`, from `pos`. */
class Thrift {
  constructor(readonly b: Uint8Array, public pos: number) {}

  varint(): number {
    let x = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.b.length) throw new Damaged('truncated page header');
      const byte = this.b[this.pos++];
      x += (byte & 0x7f) * mul;
      if (byte < 0x80) return x;
      mul *= 128;
    }
  }

  /** A zigzag varint of up to 64 bits, as a bigint. */
  zigzagBig(): bigint {
    let x = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (this.pos >= this.b.length || shift > 63n) throw new Damaged('truncated varint');
      const byte = this.b[this.pos++];
      x |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) break;
    }
    return (x >> 1n) ^ -(x & 1n);
  }

  /** A size or element count: each element takes at least a byte, so it cannot exceed the bytes left. */
  #length(): number {
    const n = this.varint();
    if (n > this.b.length - this.pos) throw new Damaged('page header field longer than the page');
    return n;
  }

  zigzag(): number {
    const u = this.varint();
    return u % 2 === 0 ? u / 2 : -(u + 1) / 2;
  }

  struct(): Struct {
    const s: Struct = new Map();
    let id = 0;
    for (;;) {
      if (this.pos >= this.b.length) throw new Damaged('truncated page header');
      const head = this.b[this.pos++];
      const type = head & 0x0f;
      if (type === 0) return s;
      const delta = head >> 4;
      id = delta === 0 ? this.zigzag() : id + delta;
      s.set(id, type === T_TRUE ? true : type === T_FALSE ? false : this.value(type));
    }
  }

  value(type: number): unknown {
    switch (type) {
      case T_BYTE:
        return this.b[this.pos++];
      case T_I16:
      case T_I32:
      case T_I64:
        return this.zigzag();
      case T_DOUBLE:
        this.pos += 8;
        return 0;
      case T_BINARY: {
        const n = this.#length();
        const v = this.b.subarray(this.pos, this.pos + n);
        this.pos += n;
        return v;
      }
      case T_LIST:
      case T_SET: {
        const head = this.b[this.pos++];
        const n = head >> 4 === 15 ? this.#length() : head >> 4;
        const et = head & 0x0f;
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(et === T_TRUE || et === T_FALSE ? this.b[this.pos++] === 1 : this.value(et));
        return out;
      }
      case T_MAP: {
        const n = this.#length();
        if (n > 0) {
          const kv = this.b[this.pos++];
          for (let i = 0; i < n; i++) {
            this.value(kv >> 4);
            this.value(kv & 0x0f);
          }
        }
        return null;
      }
      case T_STRUCT:
        return this.struct();
      default:
        throw new Damaged(`thrift type ${type}`);
    }
  }
}

/** A file's bytes by range, read into one reused buffer. */
class FileBytes {
  readonly #fd: number;
  #buffer = new Uint8Array(1 << 20);

  constructor(path: string) {
    this.#fd = openSync(path, 'r');
  }

  /** Bytes [start, start + length), valid until the next call. */
  read(start: number, length: number): Uint8Array {
    if (this.#buffer.length < length) this.#buffer = new Uint8Array(Math.max(length, this.#buffer.length * 2));
    for (let done = 0; done < length;) {
      const n = readSync(this.#fd, this.#buffer, done, length - done, start + done);
      if (n === 0) throw new Damaged(`file ends before byte ${start + length}`);
      done += n;
    }
    return this.#buffer.subarray(0, length);
  }

  close(): void {
    closeSync(this.#fd);
  }
}

/** How a column is read: its chunk in the row group, physical type, nullability. */
interface Plan {
  name: string;
  type: Physical;
  optional: boolean;
  chunk: ColumnChunk;
  /** DATE and TIMESTAMP columns: what the integers count (their values become ISO texts). */
  time: TimeUnit | null;
}

/** What a DATE or TIMESTAMP column's integers count since the Unix epoch. */
type TimeUnit = 'days' | 'millis' | 'micros' | 'nanos';

/** The columns of `names` this reader decodes itself (the rest: hyparquet), by the file's schema. */
export function readableColumns(metadata: FileMetaData, names: readonly string[]): Set<string> {
  const leaves = topLevelLeaves(metadata.schema);
  const out = new Set<string>();
  for (const name of names) {
    const el = leaves.get(name);
    if (el && readableElement(el) && metadata.row_groups.every((g) => readableChunk(chunkOf(g.columns, name)))) out.add(name);
  }
  return out;
}

/** The names of the root's children (the top-level columns, nested ones included), in order. */
export function columnNames(metadata: FileMetaData): string[] {
  return [...topLevel(metadata.schema)].map((el) => el.name);
}

/** The root's children that are leaves (not groups), by name: the flat columns (nested ones are skipped whole). */
function topLevelLeaves(schema: readonly SchemaElement[]): Map<string, SchemaElement> {
  const out = new Map<string, SchemaElement>();
  for (const el of topLevel(schema)) if (!el.num_children) out.set(el.name, el);
  return out;
}

/** The root's children, in order. */
function* topLevel(schema: readonly SchemaElement[]): Generator<SchemaElement> {
  // The schema is the tree in depth-first order: a group is followed by its num_children subtrees.
  let i = 1;
  const skip = (): void => {
    const n = schema[i++]?.num_children ?? 0;
    for (let c = 0; c < n; c++) skip();
  };
  for (let c = 0; c < (schema[0]?.num_children ?? 0) && i < schema.length; c++) {
    yield schema[i];
    skip();
  }
}

function chunkOf(columns: readonly ColumnChunk[], name: string): ColumnChunk | undefined {
  return columns.find((c) => c.meta_data?.path_in_schema.length === 1 && c.meta_data.path_in_schema[0] === name);
}

function readableElement(el: SchemaElement): boolean {
  if (el.repetition_type === 'REPEATED') return false;
  if (timeUnit(el) !== null) return true;
  const c = el.converted_type;
  const l = el.logical_type;
  switch (el.type) {
    case 'BOOLEAN':
    case 'FLOAT':
    case 'DOUBLE':
      return c === undefined && l === undefined;
    case 'INT32':
      return (c === undefined || c === 'INT_8' || c === 'INT_16' || c === 'INT_32') && (l === undefined || (l.type === 'INTEGER' && l.isSigned));
    case 'INT64':
      return (c === undefined || c === 'INT_64') && (l === undefined || (l.type === 'INTEGER' && l.isSigned));
    case 'BYTE_ARRAY':
      return (c === undefined || c === 'UTF8') && (l === undefined || l.type === 'STRING');
    default:
      return false;
  }
}

/**
 * The unit of a DATE or TIMESTAMP column, decided as hyparquet decides which integers become Dates: the converted
 * type first (DATE on INT32, TIMESTAMP_MILLIS / _MICROS on INT64), then a TIMESTAMP logical type on INT64; null for
 * any other column.
 */
function timeUnit(el: SchemaElement): TimeUnit | null {
  const c = el.converted_type;
  if (el.type === 'INT32') return c === 'DATE' ? 'days' : null;
  if (el.type !== 'INT64') return null;
  if (c === 'TIMESTAMP_MILLIS') return 'millis';
  if (c === 'TIMESTAMP_MICROS') return 'micros';
  const l = el.logical_type;
  if (c !== undefined || l?.type !== 'TIMESTAMP') return null;
  return l.unit === 'MICROS' ? 'micros' : l.unit === 'NANOS' ? 'nanos' : 'millis';
}

/**
 * Days or milli-, micro- or nanoseconds since the epoch (a number, or an INT64's decimal text beyond 2^53) as the
 * ISO text of hyparquet's Date through attributeValue: sub-millisecond parts truncated toward zero, as its bigint
 * division; null when beyond a Date's range (an Invalid Date).
 */
function isoTime(v: number | string, unit: TimeUnit): string | null {
  let ms: number;
  if (unit === 'days') ms = (v as number) * 86400000;
  else if (unit === 'millis') ms = Number(v);
  else {
    const per = unit === 'micros' ? 1000 : 1000000;
    // A safe integer less its remainder (exact, the dividend's sign) is an exact multiple of `per`.
    ms = typeof v === 'number' ? (v - (v % per)) / per : Number(BigInt(v) / BigInt(per));
  }
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** A range of a DATE or TIMESTAMP column, in place, as ISO texts; Unsupported for a value beyond a Date's range. */
function isoTimes(out: unknown[], unit: TimeUnit): void {
  // Runs of one value (sorted or dictionary-coded dates) are converted once.
  let last: unknown;
  let iso: string | null = null;
  for (let k = 0; k < out.length; k++) {
    const v = out[k];
    if (v === undefined) continue;
    if (v !== last) {
      iso = isoTime(v as number | string, unit);
      // hyparquet's path rejects the row (an Invalid Date has no ISO text), naming it.
      if (iso === null) throw new Unsupported(`a ${unit === 'days' ? 'date' : 'timestamp'} beyond the range of a Date`);
      last = v;
    }
    out[k] = iso;
  }
}

function readableChunk(chunk: ColumnChunk | undefined): boolean {
  const m = chunk?.meta_data;
  return m !== undefined && chunk!.file_path == null && m.encodings.every((e) => ENCODINGS.has(e));
}

/** A data page of a column chunk: where its body is in the file and how it is encoded. */
interface PageInfo {
  /** Its first row, in the row group. */
  first: number;
  /** Its values (rows: a flat column has one per row), nulls included. */
  n: number;
  v2: boolean;
  encoding: number;
  /** v1: the definition levels' encoding; v2: their byte length (before the values, never compressed). */
  levels: number;
  /** v2: whether the values are compressed. */
  compressed: boolean;
  /** The body's file offset, size and uncompressed size. */
  body: number;
  size: number;
  rawSize: number;
}

/** A column chunk's data pages and its decoded dictionary. */
interface Directory {
  plan: Plan;
  pages: PageInfo[];
  dictionary: unknown[] | null;
}

/**
 * A data page made ready for row ranges: decompressed, its nulls and (text) value offsets or (dictionary, RLE
 * booleans) indices found; each range then decodes only its own values.
 */
interface Page {
  bytes: Uint8Array;
  view: DataView;
  /** Where the values start in `bytes`. */
  pos: number;
  encoding: number;
  /** Value index of each row, -1 for null; null when no row is null (row r is value r). */
  valueOf: Int32Array | null;
  /** PLAIN text: value k's 4-byte length at offsets[k] (offsets[count]: the end). */
  offsets: Uint32Array | null;
  /** Dictionary indices, or RLE-encoded booleans as 0 / 1. */
  indices: Int32Array | null;
  /** DELTA and BYTE_STREAM_SPLIT pages: value k, decoded when the page is read. */
  values: unknown[] | null;
}

/**
 * Reads row ranges of a Parquet file's flat columns (those readableColumns() claims). A range is usually a slice of
 * a row group: each column chunk's page headers are read once per row group, and the page last used per column is
 * kept decompressed with its value offsets, so a page is decompressed once however many consecutive ranges it spans,
 * and each range decodes only its own values.
 */
export class ParquetColumns {
  readonly #file: FileBytes;
  readonly #metadata: FileMetaData;
  readonly #compressors: Compressors;
  /** The file's flat columns' schema elements, by name. */
  readonly #leaves: Map<string, SchemaElement>;
  #group = -1;
  readonly #directories = new Map<string, Directory>();
  /** Per column: the page last used, by its index. */
  readonly #last = new Map<string, { index: number; page: Page }>();

  constructor(path: string, metadata: FileMetaData, compressors: Compressors) {
    this.#file = new FileBytes(path);
    this.#metadata = metadata;
    this.#compressors = compressors;
    this.#leaves = topLevelLeaves(metadata.schema);
  }

  close(): void {
    this.#file.close();
  }

  /**
   * Rows [rowStart, rowEnd) — within row group `group`, whose first row is `groupStart` — of each named column (all
   * in readableColumns()), as arrays of attribute values; the `packed` column as bytes (PackedTexts) when it is
   * ASCII text throughout the range. Throws Unsupported for a page it does not read, Damaged (naming the row group
   * and column) for bytes that are not what the headers say.
   */
  read(group: number, groupStart: number, rowStart: number, rowEnd: number, names: readonly string[], packed: string | null = null): { columns: Map<string, unknown[]>; packed: PackedTexts | null } {
    if (group !== this.#group) {
      this.#directories.clear();
      this.#last.clear();
      this.#group = group;
    }
    const columns = new Map<string, unknown[]>();
    let texts: PackedTexts | null = null;
    const from = rowStart - groupStart;
    const to = rowEnd - groupStart;
    for (const name of names) {
      try {
        let dir = this.#directories.get(name);
        if (dir === undefined) this.#directories.set(name, (dir = this.#directory(group, name)));
        const last = dir.pages[dir.pages.length - 1];
        const end = last === undefined ? 0 : last.first + last.n;
        if (end < to) throw new Damaged(`its pages end at row ${end} of the group, before ${to}`);
        if (name === packed && dir.plan.type === 'BYTE_ARRAY' && (texts = this.#packedRange(dir, from, to)) !== null) continue;
        columns.set(name, this.#valueRange(dir, from, to));
      } catch (err) {
        if (err instanceof Damaged) throw new Damaged(`row group ${group}, column "${name}": ${err.message}`);
        throw err;
      }
    }
    return { columns, packed: texts };
  }

  /** The pages of column `name` in row group `group` (its dictionary decoded). */
  #directory(group: number, name: string): Directory {
    const el = this.#leaves.get(name)!;
    const chunk = chunkOf(this.#metadata.row_groups[group].columns, name)!;
    const plan: Plan = { name, type: el.type as Physical, optional: el.repetition_type !== 'REQUIRED', chunk, time: timeUnit(el) };
    const m = chunk.meta_data!;
    const start = Number(m.dictionary_page_offset ?? m.data_page_offset);
    const bytes = this.#file.read(start, Number(m.total_compressed_size));
    const dir: Directory = { plan, pages: [], dictionary: null };
    const rows = Number(this.#metadata.row_groups[group].num_rows);
    let row = 0;
    const r = new Thrift(bytes, 0);
    while (r.pos < bytes.length) {
      const header = r.struct();
      const type = header.get(1) as number;
      // Sizes and counts are checked before anything is allocated from them (a damaged header must not ask for GBs).
      const size = bounded(header.get(3), bytes.length, 'page size');
      const rawSize = bounded(header.get(2), MAX_PAGE, 'uncompressed page size');
      const body = r.pos;
      r.pos += size;
      if (r.pos > bytes.length) throw new Damaged('truncated column chunk');
      if (type === DICTIONARY_PAGE) {
        const h = structField(header, 7);
        const enc = h.get(2) as number;
        if (enc !== PLAIN && enc !== PLAIN_DICTIONARY) throw new Damaged(`dictionary encoding ${enc}`);
        const n = bounded(h.get(1), rawSize * 8, 'dictionary size');
        const page = plainPage(plan.type, decompress(bytes.subarray(body, body + size), m.codec, rawSize, this.#compressors), 0, n, null);
        dir.dictionary = new Array(n);
        decodeRange(plan.type, page, 0, n, dir.dictionary, 0, null);
      } else if (type === DATA_PAGE || type === DATA_PAGE_V2) {
        const v2 = type === DATA_PAGE_V2;
        const h = structField(header, v2 ? 8 : 5);
        if (v2 && ((h.get(6) as number | undefined) ?? 0) !== 0) throw new Damaged('repetition levels in a flat column');
        const n = bounded(h.get(1), rows - row, 'page values');
        dir.pages.push({
          first: row, n, v2, encoding: h.get(v2 ? 4 : 2) as number, levels: h.get(v2 ? 5 : 3) as number, compressed: h.get(7) !== false,
          body: start + body, size, rawSize,
        });
        row += n;
      } else if (type === undefined) throw new Damaged('page without a type');
      // Index pages and unknown page types are skipped.
    }
    return dir;
  }

  /** Page `i` of `dir`, ready for ranges (kept until the column's next page). */
  #page(dir: Directory, i: number): Page {
    const last = this.#last.get(dir.plan.name);
    if (last !== undefined && last.index === i) return last.page;
    const info = dir.pages[i];
    const { plan } = dir;
    const codec = plan.chunk.meta_data!.codec;
    const body = this.#file.read(info.body, info.size);
    const n = info.n;
    let bytes: Uint8Array;
    let pos = 0;
    let defined: Uint8Array | null = null;
    if (info.v2) {
      const rest = body.subarray(info.levels);
      bytes = info.compressed ? decompress(rest, codec, info.rawSize - info.levels, this.#compressors) : rest;
      if (plan.optional) defined = levelsOf(body, 0, info.levels, n);
    } else {
      bytes = decompress(body, codec, info.rawSize, this.#compressors);
      if (plan.optional) {
        if (info.levels !== RLE) throw new Unsupported('definition levels not RLE');
        const len = u32(bytes, 0);
        defined = levelsOf(bytes, 4, 4 + len, n);
        pos = 4 + len;
      }
    }
    // The file's buffer is reused by the next read: an uncompressed page is copied.
    if (bytes.buffer === body.buffer) bytes = bytes.slice();
    let valueOf: Int32Array | null = null;
    let count = n;
    if (defined !== null) {
      valueOf = new Int32Array(n);
      count = 0;
      for (let r = 0; r < n; r++) valueOf[r] = defined[r] === 1 ? count++ : -1;
    }
    const enc = info.encoding;
    let page: Page;
    if (enc === PLAIN) page = plainPage(plan.type, bytes, pos, count, valueOf);
    else if (enc === RLE_DICTIONARY || enc === PLAIN_DICTIONARY || (enc === RLE && plan.type === 'BOOLEAN')) {
      if (enc !== RLE && dir.dictionary === null) throw new Damaged('dictionary page missing');
      const indices = new Int32Array(count);
      if (enc === RLE) hybrid(bytes, pos + 4, pos + 4 + u32(bytes, pos), 1, count, indices);
      else {
        hybrid(bytes, pos + 1, bytes.length, bytes[pos], count, indices);
        const size = dir.dictionary!.length;
        for (let k = 0; k < count; k++) if (indices[k] >= size) throw new Damaged('dictionary index out of range');
      }
      page = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), pos, encoding: enc, valueOf, offsets: null, indices, values: null };
    } else if (enc === DELTA_BINARY_PACKED || enc === DELTA_LENGTH_BYTE_ARRAY || enc === DELTA_BYTE_ARRAY || enc === BYTE_STREAM_SPLIT) {
      page = { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), pos, encoding: enc, valueOf, offsets: null, indices: null, values: otherValues(plan.type, enc, bytes, pos, count) };
    } else throw new Damaged(`data encoding ${enc}, not one the metadata lists`);
    this.#last.set(plan.name, { index: i, page });
    return page;
  }

  /** The pages of `dir` that rows [from, to) touch, as [page index, first row, end row] in the page. */
  *#spans(dir: Directory, from: number, to: number): Generator<[number, number, number]> {
    for (let i = 0; i < dir.pages.length; i++) {
      const p = dir.pages[i];
      if (p.first + p.n <= from) continue;
      if (p.first >= to) return;
      yield [i, Math.max(from, p.first) - p.first, Math.min(to, p.first + p.n) - p.first];
    }
  }

  #valueRange(dir: Directory, from: number, to: number): unknown[] {
    const out: unknown[] = new Array(to - from);
    let at = 0;
    for (const [i, a, b] of this.#spans(dir, from, to)) {
      const page = this.#page(dir, i);
      if (page.values !== null) {
        for (let r = a; r < b; r++) {
          const k = page.valueOf === null ? r : page.valueOf[r];
          out[at + r - a] = k < 0 ? undefined : page.values[k];
        }
      } else if (page.indices === null) decodeRange(dir.plan.type, page, a, b, out, at, null);
      else if (page.encoding === RLE) {
        for (let r = a; r < b; r++) {
          const k = page.valueOf === null ? r : page.valueOf[r];
          out[at + r - a] = k < 0 ? undefined : page.indices[k] === 1;
        }
      } else decodeRange(dir.plan.type, page, a, b, out, at, dir.dictionary);
      at += b - a;
    }
    if (dir.plan.time !== null) isoTimes(out, dir.plan.time);
    return out;
  }

  /** Rows [from, to) as packed texts; null when a page holding some of them is not ASCII PLAIN text. */
  #packedRange(dir: Directory, from: number, to: number): PackedTexts | null {
    const parts: [Page, number, number, number, number][] = [];
    let size = 0;
    for (const [i, a, b] of this.#spans(dir, from, to)) {
      const page = this.#page(dir, i);
      if (page.offsets === null) return null;
      const [lo, hi] = valueSpan(page, a, b);
      const start = page.offsets[lo];
      const end = page.offsets[hi];
      let high = 0;
      for (let p = start; p < end; p++) high |= page.bytes[p];
      if (high >= 0x80) return null;
      parts.push([page, a, b, start, end]);
      size += end - start;
    }
    const out = new PackedTexts(new Uint8Array(size), new Uint32Array(to - from), new Uint32Array(to - from));
    let at = 0;
    let row = 0;
    for (const [page, a, b, start, end] of parts) {
      out.bytes.set(page.bytes.subarray(start, end), at);
      const shift = at - start;
      const offsets = page.offsets!;
      let next = start;
      for (let r = a; r < b; r++, row++) {
        const k = page.valueOf === null ? r : page.valueOf[r];
        if (k < 0) {
          out.starts[row] = next + shift;
          continue;
        }
        out.starts[row] = offsets[k] + 4 + shift;
        out.lengths[row] = offsets[k + 1] - offsets[k] - 4;
        next = offsets[k + 1];
      }
      at += end - start;
    }
    return out;
  }
}

/** The values [lo, hi) that rows [a, b) of a page hold (nulls hold none). */
function valueSpan(page: Page, a: number, b: number): [number, number] {
  const v = page.valueOf;
  if (v === null) return [a, b];
  let lo = a;
  while (lo < b && v[lo] < 0) lo++;
  let hi = b;
  while (hi > lo && v[hi - 1] < 0) hi--;
  return lo === hi ? [0, 0] : [v[lo], v[hi - 1] + 1];
}

/** A PLAIN page of `count` values from bytes[pos, …): checked to hold them, text values' offsets found. */
function plainPage(type: Physical, bytes: Uint8Array, pos: number, count: number, valueOf: Int32Array | null): Page {
  let offsets: Uint32Array | null = null;
  if (type === 'BYTE_ARRAY') {
    offsets = new Uint32Array(count + 1);
    let at = pos;
    for (let k = 0; k < count; k++) {
      offsets[k] = at;
      at += 4 + u32(bytes, at);
    }
    if (at > bytes.length) throw new Damaged('truncated page');
    offsets[count] = at;
  } else {
    const width = type === 'BOOLEAN' ? 0 : type === 'INT32' || type === 'FLOAT' ? 4 : 8;
    if (width === 0 ? pos + ((count + 7) >> 3) > bytes.length : pos + count * width > bytes.length) throw new Damaged('truncated page');
  }
  return { bytes, view: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), pos, encoding: PLAIN, valueOf, offsets, indices: null, values: null };
}

/**
 * Rows [a, b) of a PLAIN page (dictionary null) or a dictionary-coded one into out[at, …): each value as its
 * attribute value, undefined for a null. Text is decoded once for the range when it is ASCII (each value a slice of
 * it), else value by value.
 */
function decodeRange(type: Physical, page: Page, a: number, b: number, out: unknown[], at: number, dictionary: unknown[] | null): void {
  const { valueOf, bytes, view, pos } = page;
  if (dictionary !== null) {
    const indices = page.indices!;
    for (let r = a; r < b; r++) {
      const k = valueOf === null ? r : valueOf[r];
      out[at + r - a] = k < 0 ? undefined : dictionary[indices[k]];
    }
    return;
  }
  if (type === 'BYTE_ARRAY') {
    const offsets = page.offsets!;
    const [lo, hi] = valueSpan(page, a, b);
    const start = offsets[lo];
    const end = offsets[hi];
    // ASCII: no byte has its top bit (lengths included: each below 128), so each byte is a character.
    let high = 0;
    for (let p = start; p < end; p++) high |= bytes[p];
    const text = high < 0x80 ? decoder.decode(bytes.subarray(start, end)) : null;
    for (let r = a; r < b; r++) {
      const k = valueOf === null ? r : valueOf[r];
      if (k < 0) {
        out[at + r - a] = undefined;
        continue;
      }
      const s = offsets[k] + 4;
      const e = offsets[k + 1];
      out[at + r - a] = text !== null ? text.slice(s - start, e - start) : decoder.decode(bytes.subarray(s, e));
    }
    return;
  }
  for (let r = a; r < b; r++) {
    const k = valueOf === null ? r : valueOf[r];
    let v: unknown;
    if (k < 0) v = undefined;
    else {
      switch (type) {
        case 'BOOLEAN':
          v = ((bytes[pos + (k >> 3)] >> (k & 7)) & 1) === 1;
          break;
        case 'INT32':
          v = view.getInt32(pos + k * 4, true);
          break;
        case 'FLOAT':
          v = view.getFloat32(pos + k * 4, true);
          break;
        case 'DOUBLE':
          v = view.getFloat64(pos + k * 8, true);
          break;
        default: {
          // INT64: exact as a double when |hi| < 2^21; beyond, not a safe integer: given as its decimal text.
          const p = pos + k * 8;
          const hi = view.getInt32(p + 4, true);
          const x = hi * 4294967296 + view.getUint32(p, true);
          v = hi >= -2097152 && hi < 2097152 && Number.isSafeInteger(x) ? x : String(view.getBigInt64(p, true));
        }
      }
    }
    out[at + r - a] = v;
  }
}

/** An INT64 as an attribute value: a number when it is a safe integer, else its decimal text (as attributeValue). */
function int64Value(x: bigint): number | string {
  const n = Number(x);
  return Number.isSafeInteger(n) ? n : String(x);
}

/** `count` values of a DELTA_* or BYTE_STREAM_SPLIT page from b[pos, …), as attribute values. */
function otherValues(type: Physical, enc: number, b: Uint8Array, pos: number, count: number): unknown[] {
  if (enc === BYTE_STREAM_SPLIT) {
    const width = type === 'INT32' || type === 'FLOAT' ? 4 : type === 'INT64' || type === 'DOUBLE' ? 8 : 0;
    if (width === 0) throw new Damaged(`BYTE_STREAM_SPLIT in a ${type} column`);
    if (pos + count * width > b.length) throw new Damaged('truncated page');
    // Byte j of value k is in stream j: b[pos + j·count + k].
    const one = new Uint8Array(8);
    const view = new DataView(one.buffer);
    const out: unknown[] = new Array(count);
    for (let k = 0; k < count; k++) {
      for (let j = 0; j < width; j++) one[j] = b[pos + j * count + k];
      out[k] = type === 'INT32' ? view.getInt32(0, true) : type === 'FLOAT' ? view.getFloat32(0, true) : type === 'DOUBLE' ? view.getFloat64(0, true) : int64Value(view.getBigInt64(0, true));
    }
    return out;
  }
  if (enc === DELTA_BINARY_PACKED) {
    if (type !== 'INT32' && type !== 'INT64') throw new Damaged(`DELTA_BINARY_PACKED in a ${type} column`);
    const { values } = deltaPacked(b, pos, count, type === 'INT64');
    return type === 'INT64' ? Array.from(values as bigint[], int64Value) : (values as number[]);
  }
  if (type !== 'BYTE_ARRAY') throw new Damaged(`encoding ${enc} in a ${type} column`);
  const out: unknown[] = new Array(count);
  if (enc === DELTA_LENGTH_BYTE_ARRAY) {
    const { values: lengths, end } = deltaPacked(b, pos, count, false);
    let at = end;
    for (let k = 0; k < count; k++) {
      const len = lengths[k] as number;
      if (len < 0 || at + len > b.length) throw new Damaged('truncated page');
      out[k] = decoder.decode(b.subarray(at, at + len));
      at += len;
    }
    return out;
  }
  // DELTA_BYTE_ARRAY: each value is the previous one's first prefix[k] bytes, then its suffix.
  const { values: prefixes, end: afterPrefixes } = deltaPacked(b, pos, count, false);
  const { values: lengths, end } = deltaPacked(b, afterPrefixes, count, false);
  let previous = new Uint8Array(0);
  let at = end;
  for (let k = 0; k < count; k++) {
    const prefix = prefixes[k] as number;
    const len = lengths[k] as number;
    if (prefix < 0 || prefix > previous.length || len < 0 || at + len > b.length) throw new Damaged('truncated page');
    const value = new Uint8Array(prefix + len);
    value.set(previous.subarray(0, prefix));
    value.set(b.subarray(at, at + len), prefix);
    at += len;
    out[k] = decoder.decode(value);
    previous = value;
  }
  return out;
}

/**
 * A DELTA_BINARY_PACKED run of `count` values from b[pos, …): numbers (32-bit wrapping) or, `wide`, bigints (64-bit
 * wrapping); and where the run ends. Blocks of miniblocks: a block's minimum delta, a bit width per miniblock, then
 * each miniblock's deltas bit-packed (the last block's unneeded miniblocks take no bytes).
 */
function deltaPacked(b: Uint8Array, pos: number, count: number, wide: boolean): { values: (number | bigint)[]; end: number } {
  const r = new Thrift(b, pos);
  const blockSize = r.varint();
  const miniblocks = r.varint();
  const total = r.varint();
  if (blockSize === 0 || blockSize % 128 !== 0 || miniblocks === 0 || blockSize % miniblocks !== 0 || (blockSize / miniblocks) % 32 !== 0) throw new Damaged('DELTA_BINARY_PACKED header');
  if (total < count) throw new Damaged(`DELTA_BINARY_PACKED holds ${total} values, the page ${count}`);
  const perMini = blockSize / miniblocks;
  const values: (number | bigint)[] = new Array(total);
  // 32-bit values are computed mod 2^32 (writers may compute deltas in 64 bits: only their low 32 bits matter).
  const low32 = (x: bigint): number => Number(BigInt.asIntN(32, x));
  let prev: number | bigint = wide ? BigInt.asIntN(64, r.zigzagBig()) : low32(r.zigzagBig());
  if (total > 0) values[0] = prev;
  let k = 1;
  while (k < total) {
    const minDelta: number | bigint = wide ? r.zigzagBig() : low32(r.zigzagBig());
    const widthsAt = r.pos;
    if (widthsAt + miniblocks > b.length) throw new Damaged('truncated page');
    r.pos += miniblocks;
    for (let m = 0; m < miniblocks && k < total; m++) {
      const width = b[widthsAt + m];
      if (width > 64) throw new Damaged(`delta bit width ${width}`);
      const bytes = (perMini * width) / 8;
      if (r.pos + bytes > b.length) throw new Damaged('truncated page');
      for (let i = 0; i < perMini && k < total; i++, k++) {
        if (wide) {
          // Up to 52 bits a delta is exact as a number; wider ones are read as bigints.
          const delta = width <= 52 ? BigInt(unpackAt(b, r.pos, i * width, width, false)) : (unpackAt(b, r.pos, i * width, width, true) as bigint);
          prev = BigInt.asIntN(64, (prev as bigint) + (minDelta as bigint) + delta);
        } else prev = ((prev as number) + (minDelta as number) + (unpackAt(b, r.pos, i * width, Math.min(width, 32), false) as number)) | 0;
        values[k] = prev;
      }
      r.pos += bytes;
    }
  }
  return { values: total === count ? values : values.slice(0, count), end: r.pos };
}

/** The `width`-bit unsigned value at bit `bit` of b[pos, …) (least significant bit first): a number, or a bigint. */
function unpackAt(b: Uint8Array, pos: number, bit: number, width: number, big: boolean): number | bigint {
  if (big) {
    let v = 0n;
    for (let j = 0; j < width; j++) {
      const at = bit + j;
      if ((b[pos + (at >> 3)] >> (at & 7)) & 1) v |= 1n << BigInt(j);
    }
    return v;
  }
  let v = 0;
  let got = 0;
  let at = bit;
  while (got < width) {
    const off = at & 7;
    const take = Math.min(8 - off, width - got);
    v += ((b[pos + (at >> 3)] >> off) & ((1 << take) - 1)) * 2 ** got;
    got += take;
    at += take;
  }
  return v;
}

/** Texts as UTF-8 bytes: value i at bytes[starts[i], starts[i] + lengths[i]) (a null: empty). */
export class PackedTexts {
  constructor(readonly bytes: Uint8Array, readonly starts: Uint32Array, readonly lengths: Uint32Array) {}

  /** The values at these indexes (sharing `bytes`). */
  pick(rows: readonly number[]): PackedTexts {
    const p = new PackedTexts(this.bytes, new Uint32Array(rows.length), new Uint32Array(rows.length));
    for (let i = 0; i < rows.length; i++) {
      p.starts[i] = this.starts[rows[i]];
      p.lengths[i] = this.lengths[rows[i]];
    }
    return p;
  }
}

/** Field `id` of a page header, a struct (or Damaged). */
function structField(s: Struct, id: number): Struct {
  const v = s.get(id);
  if (!(v instanceof Map)) throw new Damaged(`page header field ${id} is not a struct`);
  return v as Struct;
}

/** The largest uncompressed page read (1 GiB). */
const MAX_PAGE = 1 << 30;

/** `x` when it is an integer in [0, max], else Unsupported (`what` names it). */
function bounded(x: unknown, max: number, what: string): number {
  if (typeof x !== 'number' || !Number.isInteger(x) || x < 0 || x > max) throw new Damaged(`${what} ${String(x)} out of range`);
  return x;
}

function decompress(body: Uint8Array, codec: string, size: number, compressors: Compressors): Uint8Array {
  if (codec === 'UNCOMPRESSED') return body;
  const f = compressors[codec as keyof Compressors];
  if (f === undefined) throw new Unsupported(`codec ${codec}`);
  let out: Uint8Array;
  try {
    out = f(body, size);
  } catch (err) {
    throw new Damaged(`${codec} page: ${(err as Error)?.message ?? err}`);
  }
  if (out.length !== size) throw new Damaged(`${codec} page of ${out.length} bytes, header says ${size}`);
  return out;
}

function u32(b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw new Damaged('truncated page');
  return (b[at] | (b[at + 1] << 8) | (b[at + 2] << 16) | (b[at + 3] << 24)) >>> 0;
}

/**
 * Definition levels (max 1) of `n` values, bit width 1, from b[pos, end): 1 for a value, 0 for null; null when every
 * value is present (one run of 1s, the usual page of a column without nulls).
 */
function levelsOf(b: Uint8Array, pos: number, end: number, n: number): Uint8Array | null {
  // An RLE run of n (or more) 1s: a varint header (run length << 1), then the value in one byte.
  let header = 0;
  let mul = 1;
  let p = pos;
  while (p < end) {
    const byte = b[p++];
    header += (byte & 0x7f) * mul;
    if (byte < 0x80) break;
    mul *= 128;
  }
  if (header % 2 === 0 && header / 2 >= n && p < end && b[p] === 1) return null;
  const levels = new Int32Array(n);
  hybrid(b, pos, end, 1, n, levels);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    if (levels[i] > 1) throw new Damaged('definition level above 1');
    out[i] = levels[i];
  }
  return out;
}

/**
 * Decodes `count` RLE / bit-packed hybrid values of `width` bits from b[pos, end) into out. Throws when the data ends
 * before `count` values.
 */
function hybrid(b: Uint8Array, pos: number, end: number, width: number, count: number, out: Int32Array): void {
  if (width > 32) throw new Damaged(`bit width ${width}`);
  end = Math.min(end, b.length);
  const bytes = (width + 7) >> 3;
  let i = 0;
  while (i < count) {
    if (pos >= end) throw new Damaged('truncated RLE data');
    let header = 0;
    let mul = 1;
    for (;;) {
      const byte = b[pos++];
      header += (byte & 0x7f) * mul;
      if (byte < 0x80) break;
      mul *= 128;
    }
    if (header % 2 === 0) {
      const run = header / 2;
      let v = 0;
      for (let k = 0; k < bytes; k++) v += b[pos + k] * 2 ** (8 * k);
      pos += bytes;
      const stop = Math.min(count, i + run);
      while (i < stop) out[i++] = v;
    } else {
      const n = ((header - 1) / 2) * 8;
      const stop = Math.min(count, i + n);
      // The bytes the values decoded here take (a last group may stop short of its 8 values' bytes).
      if (pos + Math.ceil(((stop - i) * width) / 8) > end) throw new Damaged('truncated bit-packed run');
      if (width === 0) while (i < stop) out[i++] = 0;
      else if (width <= 24) {
        let acc = 0;
        let bits = 0;
        let p = pos;
        const mask = (1 << width) - 1;
        while (i < stop) {
          while (bits < width) {
            acc |= b[p++] << bits;
            bits += 8;
          }
          out[i++] = acc & mask;
          acc >>>= width;
          bits -= width;
        }
      } else {
        for (let k = 0; i < stop; k++) {
          let v = 0;
          for (let bit = 0; bit < width; bit++) {
            const at = k * width + bit;
            if ((b[pos + (at >> 3)] >> (at & 7)) & 1) v += 2 ** bit;
          }
          out[i++] = v;
        }
      }
      pos += ((header - 1) / 2) * width;
    }
  }
}
