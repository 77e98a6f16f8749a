/**
 * `saltshard sql`: compile flags of a UFC config to one SELECT for a warehouse dialect (src/sql/compile.ts).
 * @module
 */
import { readFileSync } from 'node:fs';
import { type CompiledConfig, compileConfig } from '../config/compile.ts';
import { COLUMN_TYPES, type ColumnType, SQL_LAYOUTS, SqlConfigError, type SqlLayout, SqlUsageError, compileSql } from '../sql/compile.ts';
import { DIALECT_NAMES, isDialectName } from '../sql/dialects.ts';
import { readSchema } from '../sql/schema.ts';
import { type CliIO, EXIT, describeError, parseCommand, usageError } from './common.ts';

/** Usage text of the command. */
export const SQL_USAGE = `  saltshard sql --dialect ${DIALECT_NAMES.join('|')} --config FLAGS.json
                [--flags a,b] [--flag KEY ...] [--flags-file FILE] [--table NAME] [--key-column subject_key] [--at TIMESTAMP]
                [--columns name:type,... | --schema-from FILE] [--layout columns|long|wide]
                [--materialize NEW_TABLE]

  Prints one SELECT over the table (default "subjects") giving, per row and flag, exactly the SDK's
  assignment: <flag>__variation_key, <flag>__value (typed), <flag>__allocation_key, <flag>__reason.
  --flags takes comma-separated keys; --flag (repeatable) and --flags-file take any key, commas and quotes included
  (FILE: one key per line, or a JSON array of keys); without them every flag is compiled, in config order.
  Attributes are columns named after them; --columns declares them with types string|integer|double|boolean
  (unlisted attributes are then missing; "id" is the key column unless listed). Without --columns every
  attribute is a string column. --schema-from reads the column types from FILE: a Parquet file of the table (or a
  sample of it); the engine's description of the table saved as CSV (DuckDB DESCRIBE, ClickHouse DESCRIBE TABLE,
  information_schema.columns: column_name and data_type); or a CSV sample of the table (its header has the key
  column; cells typed as assign types them); or a DuckDB database file (.duckdb) holding the table, which the engine
  describes itself (needs @duckdb/node-api). Integers, floating point, booleans and strings become exact SQL; a
  condition on a column of any other type (decimal, date, nested, ...) refuses its flag, naming the condition. Allocation windows are resolved at --at (ISO time, default now).
  --layout long|wide gives exactly the rows and columns of "saltshard assign --layout long|wide" (as its CSV and
  Parquet output: subjectKey, flagKey, variationType, variationKey, value as text, allocationKey, reason, doLog; or
  subjectKey and a variation-key column per flag), to compare warehouse output with the CLI's; rows with an empty
  key, which assign rejects, are left out. The default, columns, is the four columns per flag above.
  --materialize NEW_TABLE writes the result into a new table (CREATE TABLE … AS SELECT; ClickHouse: MergeTree).
  Flags that SQL cannot express exactly are left out and reported on stderr with their reason, then counted per
  reason (exit 65).`;

/**
 * Run `sql` with its arguments.
 * @returns the exit code: 0 all compiled, 65 some flags refused, 64 bad usage, 78 config not usable.
 */
export async function sqlCommand(args: readonly string[], io: CliIO): Promise<number> {
  const values = parseCommand<{ dialect?: string; config?: string; flags?: string; flag?: string[]; 'flags-file'?: string; table?: string; 'key-column'?: string; at?: string; columns?: string; 'schema-from'?: string; materialize?: string; layout?: string; help?: boolean }>(args, {
    dialect: { type: 'string' },
    config: { type: 'string' },
    flags: { type: 'string' },
    flag: { type: 'string', multiple: true },
    'flags-file': { type: 'string' },
    table: { type: 'string' },
    'key-column': { type: 'string' },
    at: { type: 'string' },
    columns: { type: 'string' },
    materialize: { type: 'string' },
    layout: { type: 'string' },
    'schema-from': { type: 'string' },
  }, SQL_USAGE, io);
  if (typeof values === 'number') return values;
  if (!values.dialect) return usageError(io, `missing --dialect (${DIALECT_NAMES.join(', ')})`);
  if (!isDialectName(values.dialect)) return usageError(io, `unknown dialect ${JSON.stringify(values.dialect)} (${DIALECT_NAMES.join(', ')})`);
  if (!values.config) return usageError(io, 'missing --config FLAGS.json');
  let atMs = Date.now();
  if (values.at !== undefined) {
    atMs = Date.parse(values.at);
    if (Number.isNaN(atMs)) return usageError(io, `--at: not a timestamp: ${JSON.stringify(values.at)}`);
  }
  let columns: Map<string, ColumnType> | null = null;
  if (values.columns !== undefined) {
    columns = new Map();
    for (const item of values.columns.split(',')) {
      if (item.trim() === '') continue;
      const at = item.lastIndexOf(':');
      if (at <= 0) return usageError(io, `--columns: ${JSON.stringify(item)} should be NAME:TYPE, TYPE one of ${COLUMN_TYPES.join(', ')}`);
      const name = item.slice(0, at);
      const type = item.slice(at + 1);
      if (!(COLUMN_TYPES as readonly string[]).includes(type)) return usageError(io, `--columns: type of ${JSON.stringify(name)} must be one of ${COLUMN_TYPES.join(', ')}`);
      if (columns.has(name)) return usageError(io, `--columns: ${JSON.stringify(name)} is listed more than once`);
      columns.set(name, type as ColumnType);
    }
  }
  let unsupported: Map<string, string> | undefined;
  if (values['schema-from'] !== undefined) {
    if (columns !== null) return usageError(io, 'use --columns or --schema-from, not both');
    try {
      ({ columns, unsupported } = await readSchema(values['schema-from'], values.table ?? 'subjects', values['key-column'] ?? 'subject_key'));
    } catch (err) {
      io.stderr.write(`saltshard: cannot read the schema of ${values['schema-from']}: ${(err as Error).message}\n`);
      return EXIT.DATA;
    }
  }
  let flags: string[] | undefined;
  if (values.flags !== undefined || values.flag !== undefined || values['flags-file'] !== undefined) {
    flags = [...(values.flags?.split(',').filter((f) => f !== '') ?? []), ...(values.flag ?? [])];
    if (values['flags-file'] !== undefined) {
      try {
        flags.push(...readFlagsFile(values['flags-file']));
      } catch (err) {
        io.stderr.write(`saltshard: cannot read --flags-file ${values['flags-file']}: ${describeError(err)}\n`);
        return EXIT.NO_INPUT;
      }
    }
  }
  if (values['key-column'] === '') return usageError(io, '--key-column must not be empty');
  if (values.table === '') return usageError(io, '--table must not be empty');
  if (values.materialize === '') return usageError(io, '--materialize must not be empty');
  const layout = values.layout ?? 'columns';
  if (!(SQL_LAYOUTS as readonly string[]).includes(layout)) return usageError(io, `--layout must be one of ${SQL_LAYOUTS.join(', ')}`);

  let config: CompiledConfig;
  try {
    config = compileConfig(readFileSync(values.config, 'utf8'));
  } catch (err) {
    io.stderr.write(`saltshard: cannot use config ${values.config}: ${describeError(err)}\n`);
    return EXIT.CONFIG;
  }
  try {
    const result = compileSql(config, { dialect: values.dialect, table: values.table, keyColumn: values['key-column'], atMs, flags, columns, unsupported, materialize: values.materialize, layout: layout as SqlLayout });
    io.stdout.write(result.sql);
    const kinds = new Map<string, number>();
    for (const r of result.refused) {
      io.stderr.write(`saltshard: flag ${JSON.stringify(r.flag)} refused: ${r.reason}\n`);
      kinds.set(r.kind, (kinds.get(r.kind) ?? 0) + 1);
    }
    const perKind = [...kinds].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).map(([k, n]) => `${n} ${k}`);
    io.stderr.write(`saltshard: ${result.compiled.size} flag(s) compiled, ${result.refused.length} refused (${values.dialect})${perKind.length ? `: ${perKind.join(', ')}` : ''}\n`);
    return result.refused.length > 0 ? EXIT.DATA : EXIT.OK;
  } catch (err) {
    if (err instanceof SqlUsageError) return usageError(io, (err as Error).message);
    if (err instanceof SqlConfigError) {
      io.stderr.write(`saltshard: cannot use config ${values.config}: ${err.message}\n`);
      return EXIT.CONFIG;
    }
    throw err;
  }
}

/** Flag keys of a --flags-file: a JSON array of strings, or else one key per line (LF or CRLF; empty lines skipped). */
function readFlagsFile(path: string): string[] {
  const text = readFileSync(path, 'utf8');
  if (text.trimStart().startsWith('[')) {
    let keys: unknown;
    try {
      keys = JSON.parse(text);
    } catch {
      keys = null;
    }
    if (Array.isArray(keys) && keys.every((k) => typeof k === 'string')) return keys;
  }
  return text.split(/\r?\n/).filter((k) => k !== '');
}
