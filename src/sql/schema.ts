/**
 * Column types for `saltshard sql --schema-from FILE`, without a hand-written `--columns`:
 * - a Parquet file of the table (or a sample of it): its physical and logical types;
 * - the engine's own description of the table, saved as CSV: DuckDB `DESCRIBE t` (column_name, column_type),
 *   ClickHouse `DESCRIBE TABLE t` (name, type), PostgreSQL/Trino/Snowflake/BigQuery `information_schema.columns`
 *   (column_name, data_type), Spark `DESCRIBE t` (col_name, data_type);
 * - a CSV sample of the table (its header has the key column): each column typed as `saltshard assign` reads its
 *   cells (integers, numbers, true/false, else text);
 * - a DuckDB database file (`.duckdb`): the live engine describes the table itself (`DESCRIBE`), through
 *   `@duckdb/node-api` when it is installed.
 * Columns of a type SQL cannot compare exactly as the SDK would are returned as unsupported, with the type's name.
 * @module
 */
import { readFileSync } from 'node:fs';
import { inferCell } from '../cli/assign-core.ts';
import { parseCsv } from '../cli/csv.ts';
import type { ColumnType } from './compile.ts';

/** Attribute columns by type, and the columns without an exact comparison (name → type name). */
export interface TableSchema {
  readonly columns: Map<string, ColumnType>;
  readonly unsupported: Map<string, string>;
}

/**
 * Read the schema of `table` from `path` (by extension: `.parquet`, `.duckdb`, else CSV); the key column is left out.
 * @throws when the file cannot be read, or names no key column (a sample) and no column types (a description).
 */
export async function readSchema(path: string, table: string, keyColumn: string): Promise<TableSchema> {
  const lower = path.toLowerCase();
  if (lower.endsWith('.parquet')) return parquetSchema(path, keyColumn);
  if (lower.endsWith('.duckdb')) return duckdbSchema(path, table, keyColumn);
  return csvSchema(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''), keyColumn);
}

/** The live DuckDB database describes the table (opened read-only). */
async function duckdbSchema(path: string, table: string, keyColumn: string): Promise<TableSchema> {
  let api: typeof import('@duckdb/node-api');
  try {
    api = await import('@duckdb/node-api');
  } catch {
    throw new Error('reading a DuckDB database needs the package @duckdb/node-api (npm install @duckdb/node-api)');
  }
  const instance = await api.DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  const con = await instance.connect();
  try {
    const name = table.split('.').map((p) => `"${p.replace(/"/g, '""')}"`).join('.');
    const rows = (await con.runAndReadAll(`DESCRIBE ${name}`)).getRowObjectsJson();
    return describedSchema(rows.map((r) => [String(r.column_name), String(r.column_type)]), keyColumn);
  } finally {
    con.closeSync();
    instance.closeSync();
  }
}

/** Columns from (name, engine type) pairs of a table's description. */
function describedSchema(pairs: readonly [string, string][], keyColumn: string): TableSchema {
  const columns = new Map<string, ColumnType>();
  const unsupported = new Map<string, string>();
  let hasKey = false;
  for (const [name, typeName] of pairs) {
    if (name === keyColumn) hasKey = true;
    else if (name !== '') {
      const type = engineType(typeName);
      if (type === null) unsupported.set(name, typeName);
      else columns.set(name, type);
    }
  }
  if (!hasKey) throw new Error(`the description lists no key column ${JSON.stringify(keyColumn)} (choose it with --key-column)`);
  return { columns, unsupported };
}

const INTEGER = /^(?:tinyint|smallint|integer|int|bigint|int[248]|int(?:8|16|32|64)|uint(?:8|16|32)|utinyint|usmallint|uinteger|byteint|short|long|byte|number\((?:[1-9]|1[0-8]),\s*0\))$/;
const DOUBLE = /^(?:double|double precision|float|float[48]|float(?:32|64)|real)$/;
const BOOLEAN = /^(?:boolean|bool)$/;
const STRING = /^(?:varchar|varchar\(\d+\)|character varying(?:\(\d+\))?|text|string|string\(\d+\))$/;

/**
 * The column type an engine's type name stands for, or null when SQL cannot compare it exactly as the SDK: decimals
 * (JS sees a rounded double), unsigned or 128-bit integers beyond BIGINT, padded CHAR, dates, times, nested types.
 * ClickHouse's Nullable(...) and LowCardinality(...) wrappers are looked through.
 * @example engineType('Nullable(Int64)') // 'integer'
 */
export function engineType(name: string): ColumnType | null {
  let t = name.trim();
  for (let m; (m = /^(?:Nullable|LowCardinality)\((.*)\)$/.exec(t)) !== null; ) t = m[1].trim();
  t = t.toLowerCase().replace(/\s+/g, ' ');
  if (INTEGER.test(t)) return 'integer';
  if (DOUBLE.test(t)) return 'double';
  if (BOOLEAN.test(t)) return 'boolean';
  if (STRING.test(t)) return 'string';
  return null;
}

const NAME_FIELDS = ['column_name', 'col_name', 'name'];
const TYPE_FIELDS = ['column_type', 'data_type', 'type'];

function csvSchema(text: string, keyColumn: string): TableSchema {
  const records: string[][] = [];
  parseCsv(text, (fields, line, _raw, error) => {
    if (error !== null || fields === null) throw new Error(`line ${line}: ${error ?? 'unreadable record'}`);
    records.push([...fields]);
  });
  const header = records.shift();
  if (header === undefined) throw new Error('the file is empty');
  if (!header.includes(keyColumn)) {
    // The engine's description of the table: one row per column.
    const lower = header.map((h) => h.toLowerCase());
    const ni = NAME_FIELDS.map((f) => lower.indexOf(f)).find((i) => i >= 0);
    const ti = TYPE_FIELDS.map((f) => lower.indexOf(f)).find((i) => i >= 0);
    if (ni === undefined || ti === undefined) {
      throw new Error(`no key column ${JSON.stringify(keyColumn)} (a sample of the table) and no column_name/data_type columns (DESCRIBE or information_schema output)`);
    }
    return describedSchema(records.map((r) => [r[ni] ?? '', r[ti] ?? '']), keyColumn);
  }
  const columns = new Map<string, ColumnType>();
  // A sample: each column as assign infers its cells; a column mixing kinds is text.
  header.forEach((name, c) => {
    if (name === keyColumn) return;
    let kind: ColumnType | null = null;
    for (const r of records) {
      const cell = r[c];
      if (cell === undefined || cell === '') continue;
      const v = inferCell(cell);
      const k: ColumnType = typeof v === 'boolean' ? 'boolean' : typeof v === 'string' ? 'string' : Number.isSafeInteger(v) ? 'integer' : 'double';
      kind = kind === null || kind === k ? k : (kind === 'integer' && k === 'double') || (kind === 'double' && k === 'integer') ? 'double' : 'string';
      if (kind === 'string') break;
    }
    columns.set(name, kind ?? 'string');
  });
  return { columns, unsupported: new Map() };
}

// An unsigned 64-bit integer can exceed the engines' signed BIGINT.
const unsigned64 = (t: unknown) => (t as { isSigned?: boolean }).isSigned === false && (t as { bitWidth?: number }).bitWidth === 64;
const INTEGER_TYPES = new Set(['INT_8', 'INT_16', 'INT_32', 'INT_64', 'UINT_8', 'UINT_16', 'UINT_32']);

/**
 * Attribute column types of a Parquet file, as the engine that loads it sees them: INT32/INT64 (signed, or unsigned
 * up to 32 bits) → integer, FLOAT/DOUBLE → double, BOOLEAN → boolean, UTF8/STRING/ENUM byte arrays → string; every
 * other column (decimal, date, time, UINT64, binary, nested) is unsupported. The key column is left out.
 * @throws when the file is not Parquet or has no key column.
 */
async function parquetSchema(path: string, keyColumn: string): Promise<TableSchema> {
  const hp = await import('hyparquet');
  const schema = hp.parquetSchema(await hp.parquetMetadataAsync(await hp.asyncBufferFromFile(path)));
  const columns = new Map<string, ColumnType>();
  const unsupported = new Map<string, string>();
  let hasKey = false;
  for (const c of schema.children) {
    const e = c.element;
    if (e.name === keyColumn) {
      hasKey = true;
      continue;
    }
    const logical = e.logical_type?.type;
    const converted = e.converted_type;
    let type: ColumnType | null = null;
    if (c.children.length > 0) type = null;
    else if (e.type === 'BOOLEAN') type = 'boolean';
    else if (e.type === 'FLOAT' || e.type === 'DOUBLE') type = 'double';
    else if ((e.type === 'INT32' || e.type === 'INT64') && (converted === undefined ? logical === undefined || (logical === 'INTEGER' && !unsigned64(e.logical_type)) : INTEGER_TYPES.has(converted))) type = 'integer';
    else if (e.type === 'BYTE_ARRAY' && (converted === 'UTF8' || converted === 'ENUM' || logical === 'STRING' || logical === 'ENUM')) type = 'string';
    if (type === null) unsupported.set(e.name, c.children.length > 0 ? 'nested' : String(logical ?? converted ?? e.type));
    else columns.set(e.name, type);
  }
  if (!hasKey) throw new Error(`no key column ${JSON.stringify(keyColumn)} (choose it with --key-column)`);
  return { columns, unsupported };
}
