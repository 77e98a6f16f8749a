/**
 * SQL dialects for `saltshard sql`: identifier quoting, string literals, the Eppo shard expression
 * (ecosystem.md §6.4), regex search, and the typed literals the compiled flags need.
 * DuckDB, ClickHouse (chdb) and PostgreSQL (PGlite, and a PostgreSQL server where one can be started) are executed
 * by the tests; Snowflake, BigQuery, Spark and Trino are written from each engine's documentation (README citations).
 * @module
 */

/** Names accepted by `--dialect`. */
export const DIALECT_NAMES = ['duckdb', 'snowflake', 'bigquery', 'spark', 'trino', 'clickhouse', 'postgres'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/**
 * Regex engines behind each dialect's search function:
 * `re2` (DuckDB, BigQuery, ClickHouse), `java` (Spark `RLIKE`), `joni` (Trino, Java syntax), `posix` (Snowflake),
 * `postgres` (PostgreSQL's advanced regular expressions, `~`).
 */
export type RegexFlavor = 're2' | 'java' | 'joni' | 'posix' | 'postgres';

export type SqlType = 'string' | 'integer' | 'double' | 'boolean' | 'json';

export interface Dialect {
  readonly name: DialectName;
  readonly regex: RegexFlavor;
  /** A quoted identifier (column, alias or one part of a table name). */
  ident(name: string): string;
  /** A string literal; the text must be well-formed Unicode. */
  str(text: string): string;
  /** `uint32_be(md5(saltDash || key)[0:4]) % total`, `saltDash` being `salt + "-"`. */
  shard(saltDash: string, key: string, total: number): string;
  /**
   * The string as UTF-16 code units, for regex search (src/sql/regex.ts): a value with characters outside the Basic
   * Multilingual Plane gets each of them replaced by two code points U+F0000 + (surrogate − 0xD800), its surrogate
   * pair; other values are unchanged. Absent where the dialect is not executed by the tests.
   */
  unitView?(expr: string): string;
  /** Unanchored regex search; `pattern` is already in this dialect's regex syntax. */
  regexSearch(subject: string, pattern: string): string;
  /**
   * Whole-string match of a pattern written in the subset every engine reads alike (groups, `|`, bracket classes of
   * literal characters, `?`, `*`, `+`, `{n}`, `{n,}`: see src/sql/semver.ts); the dialect adds the anchors.
   */
  fullMatch(subject: string, pattern: string): string;
  /** The line that turns the following SELECT into a new table `table` (already quoted). */
  createTableAs(table: string): string;
  /** Length in characters (code points). */
  charLength(expr: string): string;
  /** Decimal text of an integer column (what JS `String(n)` gives for a safe integer). */
  intToString(expr: string): string;
  /** True when a double is NaN. */
  isNan(expr: string): string;
  /** A double literal equal to `x` (rounded correctly from its shortest decimal form). */
  double(x: number): string;
  /** A 64-bit integer literal. */
  bigint(x: bigint): string;
  /** A JSON value from its text. */
  json(text: string): string;
  /** Type name for a typed NULL. */
  type(t: SqlType): string;
}

const quoteWith = (q: string, escape: string) => (name: string) => `${q}${name.split(q).join(escape)}${q}`;

// Standard SQL: '' inside quotes, backslash is an ordinary character.
function standardString(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

// Dialects whose quoted strings read backslash escapes (Snowflake, BigQuery, ClickHouse: `\xHH`; Spark: `\uHHHH`).
function backslashString(text: string, unicodeEscapes = false): string {
  let out = "'";
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '\\') out += '\\\\';
    else if (ch === "'") out += "\\'";
    else if (c < 0x20 || c === 0x7f) out += unicodeEscapes ? `\\u${c.toString(16).padStart(4, '0')}` : `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}'`;
}

// Shortest round-trip decimal form of a finite double, in SQL-friendly syntax (JS writes "1e+21").
function decimal(x: number): string {
  if (Object.is(x, -0)) return '-0.0';
  return String(x);
}

function finiteOr(x: number, inf: string, negInf: string, nan: string, finite: (text: string) => string): string {
  if (Number.isNaN(x)) return nan;
  if (x === Infinity) return inf;
  if (x === -Infinity) return negInf;
  return finite(decimal(x));
}

const duckdb: Dialect = {
  name: 'duckdb',
  regex: 're2',
  ident: quoteWith('"', '""'),
  str: standardString,
  shard: (s, k, n) => `(('0x' || substr(md5(${s} || ${k}), 1, 8))::UBIGINT % ${n})`,
  unitView: (x) => {
    const u = '(unicode(c) - 65536)';
    const pair = `chr(983040 + (${u} >> 10)) || chr(984064 + (${u} & 1023))`;
    return `CASE WHEN regexp_matches(${x}, '[\\x{10000}-\\x{10FFFF}]') THEN array_to_string(list_transform(string_split(${x}, ''), c -> CASE WHEN unicode(c) > 65535 THEN ${pair} ELSE c END), '') ELSE ${x} END`;
  },
  regexSearch: (x, p) => `regexp_matches(${x}, ${duckdb.str(p)})`,
  fullMatch: (x, p) => `regexp_full_match(${x}, ${duckdb.str(p)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `length(${x})`,
  intToString: (x) => `CAST(${x} AS VARCHAR)`,
  isNan: (x) => `isnan(${x})`,
  double: (x) => finiteOr(x, `CAST('Infinity' AS DOUBLE)`, `CAST('-Infinity' AS DOUBLE)`, `CAST('NaN' AS DOUBLE)`, (t) => `CAST('${t}' AS DOUBLE)`),
  bigint: (x) => `CAST(${x} AS BIGINT)`,
  json: (t) => `CAST(${duckdb.str(t)} AS JSON)`,
  type: (t) => ({ string: 'VARCHAR', integer: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', json: 'JSON' })[t],
};

const snowflake: Dialect = {
  name: 'snowflake',
  regex: 'posix',
  ident: quoteWith('"', '""'),
  str: backslashString,
  shard: (s, k, n) => `MOD(TO_NUMBER(SUBSTR(MD5(${s} || ${k}), 1, 8), 'XXXXXXXX'), ${n})`,
  // REGEXP_LIKE anchors the whole string; REGEXP_INSTR searches.
  regexSearch: (x, p) => `(REGEXP_INSTR(${x}, ${snowflake.str(p)}) > 0)`,
  // REGEXP_LIKE matches the whole subject (the pattern is implicitly anchored at both ends).
  fullMatch: (x, p) => `REGEXP_LIKE(${x}, ${snowflake.str(p)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `LENGTH(${x})`,
  intToString: (x) => `TO_VARCHAR(${x})`,
  // Snowflake orders NaN above every number and NaN = NaN is true.
  isNan: (x) => `(${x} = CAST('NaN' AS FLOAT))`,
  double: (x) => finiteOr(x, `CAST('inf' AS FLOAT)`, `CAST('-inf' AS FLOAT)`, `CAST('NaN' AS FLOAT)`, (t) => `CAST('${t}' AS FLOAT)`),
  bigint: (x) => `CAST(${x} AS NUMBER(38,0))`,
  json: (t) => `PARSE_JSON(${snowflake.str(t)})`,
  type: (t) => ({ string: 'VARCHAR', integer: 'NUMBER(38,0)', double: 'FLOAT', boolean: 'BOOLEAN', json: 'VARIANT' })[t],
};

const bigquery: Dialect = {
  name: 'bigquery',
  regex: 're2',
  ident: (name) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``,
  str: backslashString,
  shard: (s, k, n) => `MOD(CAST(CONCAT('0x', TO_HEX(SUBSTR(MD5(CONCAT(${s}, ${k})), 1, 4))) AS INT64), ${n})`,
  regexSearch: (x, p) => `REGEXP_CONTAINS(${x}, ${bigquery.str(p)})`,
  fullMatch: (x, p) => `REGEXP_CONTAINS(${x}, ${bigquery.str(`^(${p})$`)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `CHAR_LENGTH(${x})`,
  intToString: (x) => `CAST(${x} AS STRING)`,
  isNan: (x) => `IS_NAN(${x})`,
  double: (x) => finiteOr(x, `CAST('inf' AS FLOAT64)`, `CAST('-inf' AS FLOAT64)`, `CAST('NaN' AS FLOAT64)`, (t) => `CAST('${t}' AS FLOAT64)`),
  bigint: (x) => `CAST(${x} AS INT64)`,
  json: (t) => `PARSE_JSON(${bigquery.str(t)})`,
  type: (t) => ({ string: 'STRING', integer: 'INT64', double: 'FLOAT64', boolean: 'BOOL', json: 'JSON' })[t],
};

const spark: Dialect = {
  name: 'spark',
  regex: 'java',
  ident: quoteWith('`', '``'),
  str: (text) => backslashString(text, true),
  shard: (s, k, n) => `pmod(CAST(conv(substr(md5(concat(${s}, ${k})), 1, 8), 16, 10) AS BIGINT), ${n})`,
  // RLIKE is a find(), i.e. an unanchored search.
  regexSearch: (x, p) => `(${x} RLIKE ${spark.str(p)})`,
  fullMatch: (x, p) => `(${x} RLIKE ${spark.str(`^(${p})\\z`)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `char_length(${x})`,
  intToString: (x) => `CAST(${x} AS STRING)`,
  isNan: (x) => `isnan(${x})`,
  double: (x) => finiteOr(x, `CAST('Infinity' AS DOUBLE)`, `CAST('-Infinity' AS DOUBLE)`, `CAST('NaN' AS DOUBLE)`, (t) => `CAST('${t}' AS DOUBLE)`),
  bigint: (x) => `CAST(${x} AS BIGINT)`,
  // Spark has no JSON type: the JSON text is returned as STRING.
  json: (t) => spark.str(t),
  type: (t) => ({ string: 'STRING', integer: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', json: 'STRING' })[t],
};

const trino: Dialect = {
  name: 'trino',
  regex: 'joni',
  ident: quoteWith('"', '""'),
  str: standardString,
  shard: (s, k, n) => `mod(from_big_endian_64(concat(X'00000000', substr(md5(to_utf8(${s} || ${k})), 1, 4))), ${n})`,
  regexSearch: (x, p) => `regexp_like(${x}, ${trino.str(p)})`,
  fullMatch: (x, p) => `regexp_like(${x}, ${trino.str(`\\A(${p})\\z`)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `length(${x})`,
  intToString: (x) => `CAST(${x} AS VARCHAR)`,
  isNan: (x) => `is_nan(${x})`,
  double: (x) => finiteOr(x, 'infinity()', '-infinity()', 'nan()', (t) => `CAST('${t}' AS DOUBLE)`),
  bigint: (x) => `CAST(${x} AS BIGINT)`,
  json: (t) => `json_parse(${trino.str(t)})`,
  type: (t) => ({ string: 'VARCHAR', integer: 'BIGINT', double: 'DOUBLE', boolean: 'BOOLEAN', json: 'JSON' })[t],
};

const clickhouse: Dialect = {
  name: 'clickhouse',
  regex: 're2',
  ident: (name) => `\`${name.replace(/\\/g, '\\\\').replace(/`/g, '\\`')}\``,
  str: backslashString,
  shard: (s, k, n) => `(reinterpretAsUInt32(reverse(substring(MD5(concat(${s}, ${k})), 1, 4))) % ${n})`,
  unitView: (x) => {
    // Strings are bytes: a 4-byte UTF-8 character's code point from its bytes, and the stand-ins' bytes from theirs.
    const b = (i: number) => `reinterpretAsUInt8(substring(c, ${i}, 1))`;
    const u = `((${b(1)} % 8) * 262144 + (${b(2)} % 64) * 4096 + (${b(3)} % 64) * 64 + ${b(4)} % 64 - 65536)`;
    const utf8 = (cp: string) => `char(240 + intDiv(${cp}, 262144), 128 + intDiv(${cp}, 4096) % 64, 128 + intDiv(${cp}, 64) % 64, 128 + ${cp} % 64)`;
    const pair = `concat(${utf8(`(983040 + intDiv(${u}, 1024))`)}, ${utf8(`(984064 + ${u} % 1024)`)})`;
    return `if(match(${x}, '[\\\\x{10000}-\\\\x{10FFFF}]'), arrayStringConcat(arrayMap(c -> if(length(c) = 4, ${pair}, c), extractAll(${x}, '(?s).')), ''), ${x})`;
  },
  regexSearch: (x, p) => `match(${x}, ${clickhouse.str(p)})`,
  fullMatch: (x, p) => `match(${x}, ${clickhouse.str(`^(${p})$`)})`,
  createTableAs: (t) => `CREATE TABLE ${t} ENGINE = MergeTree ORDER BY tuple() AS`,
  charLength: (x) => `lengthUTF8(${x})`,
  intToString: (x) => `toString(${x})`,
  isNan: (x) => `isNaN(${x})`,
  double: (x) => finiteOr(x, 'inf', '-inf', 'nan', (t) => `toFloat64(${clickhouse.str(t)})`),
  bigint: (x) => `toInt64(${x})`,
  // ClickHouse's JSON column type is not a scalar literal type; the JSON text is returned as String.
  json: (t) => clickhouse.str(t),
  type: (t) => ({ string: 'Nullable(String)', integer: 'Nullable(Int64)', double: 'Nullable(Float64)', boolean: 'Nullable(Bool)', json: 'Nullable(String)' })[t],
};

const postgres: Dialect = {
  name: 'postgres',
  regex: 'postgres',
  ident: quoteWith('"', '""'),
  // standard_conforming_strings is on by default since PostgreSQL 9.1: backslash is an ordinary character.
  str: standardString,
  shard: (s, k, n) => `(('x' || substr(md5(${s} || ${k}), 1, 8))::bit(32)::bigint % ${n})`,
  unitView: (x) => {
    const u = '(ascii(c) - 65536)';
    const pair = `chr(983040 + (${u} >> 10)) || chr(984064 + (${u} & 1023))`;
    return `CASE WHEN ${x} ~ '[\\U00010000-\\U0010FFFF]' THEN (SELECT string_agg(CASE WHEN ascii(c) > 65535 THEN ${pair} ELSE c END, '' ORDER BY n) FROM regexp_split_to_table(${x}, '') WITH ORDINALITY AS saltshard_u(c, n)) ELSE ${x} END`;
  },
  regexSearch: (x, p) => `(${x} ~ ${postgres.str(p)})`,
  fullMatch: (x, p) => `(${x} ~ ${postgres.str(`^(${p})$`)})`,
  createTableAs: (t) => `CREATE TABLE ${t} AS`,
  charLength: (x) => `char_length(${x})`,
  intToString: (x) => `CAST(${x} AS TEXT)`,
  // PostgreSQL orders NaN above every number and NaN = NaN is true.
  isNan: (x) => `(${x} = CAST('NaN' AS DOUBLE PRECISION))`,
  double: (x) => finiteOr(x, `CAST('Infinity' AS DOUBLE PRECISION)`, `CAST('-Infinity' AS DOUBLE PRECISION)`, `CAST('NaN' AS DOUBLE PRECISION)`, (t) => `CAST('${t}' AS DOUBLE PRECISION)`),
  bigint: (x) => `CAST(${x} AS BIGINT)`,
  // JSON (not JSONB) keeps the text as written.
  json: (t) => `CAST(${postgres.str(t)} AS JSON)`,
  type: (t) => ({ string: 'TEXT', integer: 'BIGINT', double: 'DOUBLE PRECISION', boolean: 'BOOLEAN', json: 'JSON' })[t],
};

export const DIALECTS: Readonly<Record<DialectName, Dialect>> = { duckdb, snowflake, bigquery, spark, trino, clickhouse, postgres };

/** True when `name` is a dialect of {@link DIALECTS}. */
export function isDialectName(name: string): name is DialectName {
  return (DIALECT_NAMES as readonly string[]).includes(name);
}
