/**
 * Compile flags of a UFC config to one SQL SELECT that gives, per input row, exactly the SDK's assignment
 * (`client.evaluate`): variation key, typed value, allocation key and reason code per flag.
 *
 * Exactness rules (eppo-spec §2): allocations in order, first match wins; rules OR, conditions AND; a missing
 * column or NULL fails every operator but IS_NULL; time windows are resolved at generation time against `atMs`
 * (inclusive); shards are `uint32_be(md5(salt || '-' || key)[0:4]) % totalShards`, every shard of a split must hit.
 * What SQL cannot express exactly is refused per flag with a reason, never approximated.
 * @module
 */
import type { Allocation, CompiledConfig, CompiledFlag, Condition, Rule, Split } from '../config/compile.ts';
import { isWellFormed } from '../config/encoding.ts';
import type { VariationType } from '../errors.ts';
import { DIALECTS, type Dialect, type DialectName, type SqlType } from './dialects.ts';
import { REGEX_REFUSALS, toSqlRegex } from './regex.ts';
import { semverPattern } from './semver.ts';

/** How an attribute column is typed in the input table (JS value it stands for). */
export type ColumnType = 'string' | 'integer' | 'double' | 'boolean';
export const COLUMN_TYPES: readonly ColumnType[] = ['string', 'integer', 'double', 'boolean'];

/** Options of {@link compileSql}. */
export interface SqlOptions {
  readonly dialect: DialectName;
  /** Input table; dots separate catalog/schema/table parts, each quoted. Default `subjects`. */
  readonly table?: string;
  /** The subject key column (a string column). Default `subject_key`. */
  readonly keyColumn?: string;
  /** Clock for allocation windows, epoch ms. Default now. */
  readonly atMs?: number;
  /** Flags to compile, in output order. Default: every flag, in config order. */
  readonly flags?: readonly string[];
  /**
   * The table's attribute columns and their types. Attributes not listed are missing (NULL for every row), and `id`
   * is the key column unless listed. Without it every attribute is taken to be a string column of its own name and
   * `id` is the key column.
   */
  readonly columns?: ReadonlyMap<string, ColumnType> | null;
  /**
   * Columns the table has with a type SQL cannot compare exactly as the SDK would (name → the type, e.g. "DECIMAL");
   * a condition on one refuses its flag. Taken from a schema (`--schema-from`).
   */
  readonly unsupported?: ReadonlyMap<string, string>;
  /** Write the result into this new table (`CREATE TABLE … AS SELECT`); dots separate parts, as for `table`. */
  readonly materialize?: string;
  /**
   * The result's shape. `columns` (default): per input row its key column and four columns per flag (FlagColumns).
   * `long` and `wide`: exactly the rows and columns of `saltshard assign --layout long|wide` written as CSV or
   * Parquet (see {@link CLI_LONG_COLUMNS}), in no particular order; rows with a NULL or empty key, which assign
   * rejects, are left out.
   */
  readonly layout?: SqlLayout;
}

/** Result shapes of {@link compileSql}. */
export const SQL_LAYOUTS = ['columns', 'long', 'wide'] as const;
export type SqlLayout = (typeof SQL_LAYOUTS)[number];

/**
 * Columns of the `long` layout, as `saltshard assign` names them: value is text as in its CSV and Parquet output
 * (null unless MATCH; strings as they are, JSON values as JSON text, numbers and booleans in JSON notation), doLog a
 * boolean, variationType null for a flag the SDK cannot read.
 */
export const CLI_LONG_COLUMNS = ['subjectKey', 'flagKey', 'variationType', 'variationKey', 'value', 'allocationKey', 'reason', 'doLog'] as const;

/** Output column names of one compiled flag. */
export interface FlagColumns {
  readonly variationKey: string;
  readonly value: string;
  readonly allocationKey: string;
  readonly reason: string;
}

export interface SqlResult {
  readonly sql: string;
  /** Compiled flags, in output order, with their output columns in the `columns` layout. */
  readonly compiled: ReadonlyMap<string, FlagColumns>;
  /** Flags left out, with why: `kind` names the reason (counted per kind by `saltshard sql`), `reason` details it. */
  readonly refused: readonly { readonly flag: string; readonly kind: string; readonly reason: string }[];
}

/** Bad options: unknown flag names, bad identifiers. */
export class SqlUsageError extends Error {}
/** The config cannot be compiled at all (obfuscated). */
export class SqlConfigError extends Error {}

class Refusal extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

const T = 'TRUE';
const F = 'FALSE';

function and(xs: readonly string[]): string {
  const rest = xs.filter((x) => x !== T);
  if (rest.includes(F)) return F;
  if (rest.length === 0) return T;
  return rest.length === 1 ? rest[0] : `(${rest.join(' AND ')})`;
}

function or(xs: readonly string[]): string {
  const rest = xs.filter((x) => x !== F);
  if (rest.includes(T)) return T;
  if (rest.length === 0) return F;
  return rest.length === 1 ? rest[0] : `(${rest.join(' OR ')})`;
}

function not(x: string): string {
  // and()/or() results are fully parenthesized; anything else is wrapped so NOT binds to all of it in every dialect.
  return x === T ? F : x === F ? T : x.startsWith('(') ? `(NOT ${x})` : `(NOT (${x}))`;
}

const SQL_TYPE: Record<VariationType, SqlType> = { STRING: 'string', INTEGER: 'integer', NUMERIC: 'double', BOOLEAN: 'boolean', JSON: 'json' };
const INT64_MAX = 2n ** 63n - 1n;
const INT64_MIN = -(2n ** 63n);

interface Outcome {
  readonly reason: string;
  readonly variationKey: string | null;
  readonly allocationKey: string | null;
  /** SQL literal of the typed value, or null. */
  readonly value: string | null;
  /** The value as `saltshard assign` writes it in CSV and Parquet (null unless MATCH). */
  readonly text: string | null;
  /** The allocation's doLog where the SDK reports it (MATCH, or a value of the wrong type), else false. */
  readonly doLog: boolean;
}

const ERROR: Outcome = { reason: 'ASSIGNMENT_ERROR', variationKey: null, allocationKey: null, value: null, text: null, doLog: false };
const DEFAULT: Outcome = { reason: 'DEFAULT_ALLOCATION_NULL', variationKey: null, allocationKey: null, value: null, text: null, doLog: false };
const DISABLED: Outcome = { reason: 'FLAG_UNRECOGNIZED_OR_DISABLED', variationKey: null, allocationKey: null, value: null, text: null, doLog: false };

/** Column names of a flag's outputs. */
export function flagColumns(flagKey: string): FlagColumns {
  return {
    variationKey: `${flagKey}__variation_key`,
    value: `${flagKey}__value`,
    allocationKey: `${flagKey}__allocation_key`,
    reason: `${flagKey}__reason`,
  };
}

/**
 * Compile flags to SQL.
 * @param config a compiled SERVER-format config.
 * @returns the SQL, the compiled flags with their output columns, and the refused flags with reasons.
 * @throws {SqlConfigError} for an obfuscated config; {SqlUsageError} for an unknown flag or a bad name.
 */
export function compileSql(config: CompiledConfig, options: SqlOptions): SqlResult {
  if (config.obfuscated) {
    throw new SqlConfigError(`${config.format}-format (obfuscated) configs hash flag keys, attribute names and values; use the SERVER-format config`);
  }
  const d = DIALECTS[options.dialect];
  const table = options.table ?? 'subjects';
  const keyColumn = options.keyColumn ?? 'subject_key';
  const atMs = options.atMs ?? Date.now();
  const columns = options.columns ?? null;
  for (const name of [table, keyColumn, ...(options.materialize === undefined ? [] : [options.materialize]), ...(columns?.keys() ?? [])]) {
    if (name === '' || !isWellFormed(name)) throw new SqlUsageError(`bad identifier ${JSON.stringify(name)}`);
  }
  const keys = [...new Set(options.flags ?? config.flags.keys())];
  for (const k of keys) if (!config.flags.has(k)) throw new SqlUsageError(`no flag ${JSON.stringify(k)} in the config`);

  // Expressions computed once per row beside the input columns (shards, unit views), by id → alias.
  const hashes = new Map<string, string>();
  const hashIds: string[] = [];
  const hashExprs: string[] = [];
  const derived = (id: string, prefix: string, expr: () => string) => {
    let alias = hashes.get(id);
    if (alias === undefined) {
      alias = d.ident(`${prefix}${hashes.size}`);
      hashes.set(id, alias);
      hashIds.push(id);
      hashExprs.push(`${expr()} AS ${alias}`);
    }
    return `h.${alias}`;
  };
  const key = `h.${d.ident(keyColumn)}`;
  const ctx: Ctx = {
    d,
    key,
    columns,
    unsupported: options.unsupported ?? new Map(),
    shard: (saltDash, total) => derived(`${total}\u0000${saltDash}`, 'saltshard_h', () => d.shard(d.str(saltDash), `t.${d.ident(keyColumn)}`, total)),
    unitView: (source) => derived(`u\u0000${source}`, 'saltshard_u', () => d.unitView!(source)),
  };

  const layout = options.layout ?? 'columns';
  // Output columns named after a flag, per layout.
  const outNames = (flagKey: string) => (layout === 'columns' ? Object.values(flagColumns(flagKey)) : layout === 'wide' ? [flagKey] : []);
  const compiled = new Map<string, FlagColumns>();
  const taken = new Set<string>(layout === 'columns' ? [keyColumn.toLowerCase()] : layout === 'wide' ? ['subjectkey'] : []);
  const refused: { flag: string; kind: string; reason: string }[] = [];
  const branchCols: string[] = [];
  const outputCols: string[] = [];
  const longParts: string[] = [];
  const k = d.ident(keyColumn);
  for (const flagKey of keys) {
    const entry = config.flags.get(flagKey)!;
    const mark = hashExprs.length;
    let outcomes: Outcome[];
    let caseSql: string;
    try {
      if (!isWellFormed(flagKey)) throw new Refusal('lone surrogate', 'the flag key has a lone surrogate');
      // Several engines match identifiers case-insensitively even when quoted (DuckDB, BigQuery, Spark).
      const clash = outNames(flagKey).find((n) => taken.has(n.toLowerCase()));
      if (clash !== undefined) throw new Refusal('output column clash', `output column ${JSON.stringify(clash)} collides with another output column (compared case-insensitively)`);
      const blank = `(${key} IS NULL OR ${key} = '')`;
      outcomes = [DEFAULT];
      const branches: { when: string; outcome: Outcome }[] = [{ when: blank, outcome: ERROR }];
      if (entry.kind === 'broken') branches.push({ when: T, outcome: ERROR });
      else if (!entry.enabled) branches.push({ when: T, outcome: DISABLED });
      else branches.push(...flagBranches(entry, atMs, ctx));
      caseSql = caseOf(branches, outcomes);
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      refused.push({ flag: flagKey, kind: err.kind, reason: err.message });
      // Drop hash columns only this flag asked for.
      for (const id of hashIds.splice(mark)) hashes.delete(id);
      hashExprs.length = mark;
      continue;
    }
    const n = compiled.size;
    const branchAlias = d.ident(`saltshard_f${n}`);
    branchCols.push(`    ${caseSql} AS ${branchAlias}`);
    const names = flagColumns(flagKey);
    for (const n of outNames(flagKey)) taken.add(n.toLowerCase());
    compiled.set(flagKey, names);
    const type = entry.kind === 'flag' ? SQL_TYPE[entry.variationType] : 'string';
    const pick = (f: (o: Outcome) => string | null, t: SqlType) => {
      const arms = outcomes.map((o, i) => [i, f(o)] as const).filter(([, v]) => v !== null);
      if (arms.length === 0) return `CAST(NULL AS ${d.type(t)})`;
      return `CASE s.${branchAlias}${arms.map(([i, v]) => ` WHEN ${i} THEN ${v}`).join('')} ELSE NULL END`;
    };
    const text = (x: string | null) => (x === null ? null : d.str(x));
    if (layout === 'columns') {
      outputCols.push(
        `  ${pick((o) => text(o.variationKey), 'string')} AS ${d.ident(names.variationKey)}`,
        `  ${pick((o) => o.value, type)} AS ${d.ident(names.value)}`,
        `  ${pick((o) => text(o.allocationKey), 'string')} AS ${d.ident(names.allocationKey)}`,
        `  ${pick((o) => d.str(o.reason), 'string')} AS ${d.ident(names.reason)}`,
      );
    } else if (layout === 'wide') {
      outputCols.push(`  ${pick((o) => (o.reason === 'MATCH' ? text(o.variationKey) : null), 'string')} AS ${d.ident(flagKey)}`);
    } else {
      const [sk, fk, vt, vk, v, ak, r, dl] = CLI_LONG_COLUMNS.map((c) => d.ident(c));
      longParts.push([
        `SELECT s.${k} AS ${sk}, ${d.str(flagKey)} AS ${fk}, ${entry.kind === 'flag' ? d.str(entry.variationType) : `CAST(NULL AS ${d.type('string')})`} AS ${vt},`,
        `  ${pick((o) => text(o.variationKey), 'string')} AS ${vk},`,
        `  ${pick((o) => text(o.text), 'string')} AS ${v},`,
        `  ${pick((o) => text(o.allocationKey), 'string')} AS ${ak},`,
        `  ${pick((o) => d.str(o.reason), 'string')} AS ${r},`,
        `  ${outcomes.some((o) => o.doLog) ? `CASE s.${branchAlias}${outcomes.map((o, i) => ` WHEN ${i} THEN ${o.doLog ? T : F}`).join('')} ELSE FALSE END` : F} AS ${dl}`,
        'FROM s',
      ].join('\n'));
    }
  }

  const qualified = (name: string) => name.split('.').map((p) => d.ident(p)).join('.');
  const tableSql = qualified(table);
  // Per input row its key and the outcome index of every flag.
  const inner = [
    `  SELECT h.${k}${branchCols.length ? ',\n' : ''}${branchCols.join(',\n')}`,
    '  FROM (',
    `    SELECT t.*${hashExprs.map((e) => `,\n      ${e}`).join('')}`,
    `    FROM ${tableSql} AS t`,
    // assign rejects a subject without a key.
    ...(layout === 'columns' ? [] : [`    WHERE t.${k} IS NOT NULL AND t.${k} <> ''`]),
    '  ) AS h',
  ];
  const header = [
    `-- saltshard sql --dialect ${d.name}: ${compiled.size} flag(s) compiled, ${refused.length} refused.`,
    `-- Allocation windows resolved as of ${new Date(atMs).toISOString()}. Config createdAt ${config.createdAt || '(none)'}.`,
    layout === 'columns'
      ? `-- Per flag: <flag>__variation_key, <flag>__value, <flag>__allocation_key, <flag>__reason (as client.evaluate).`
      : `-- The rows and columns of saltshard assign --layout ${layout} (CSV or Parquet output), in no particular order.`,
    ...(options.materialize === undefined ? [] : [d.createTableAs(qualified(options.materialize))]),
  ];
  let body: string[];
  if (layout === 'long') {
    if (longParts.length === 0) {
      const cols = CLI_LONG_COLUMNS.slice(1).map((c) => `CAST(NULL AS ${d.type(c === 'doLog' ? 'boolean' : 'string')}) AS ${d.ident(c)}`);
      longParts.push(`SELECT s.${k} AS ${d.ident('subjectKey')}, ${cols.join(', ')}\nFROM s\nWHERE 1 = 0`);
    }
    body = ['WITH s AS (', ...inner, ')', longParts.join('\nUNION ALL\n')];
  } else {
    body = ['SELECT', [`  s.${k} AS ${layout === 'wide' ? d.ident('subjectKey') : k}`, ...outputCols].join(',\n'), 'FROM (', ...inner, ') AS s'];
  }
  return { sql: `${[...header, ...body].join('\n')}\n`, compiled, refused };
}

interface Ctx {
  readonly d: Dialect;
  /** The key column, as seen from the hashed row. */
  readonly key: string;
  readonly columns: ReadonlyMap<string, ColumnType> | null;
  readonly unsupported: ReadonlyMap<string, string>;
  shard(saltDash: string, total: number): string;
  /** The dialect's unit view of an input column (`t.<column>`), computed once per row. */
  unitView(source: string): string;
}

function caseOf(branches: readonly { when: string; outcome: Outcome }[], outcomes: Outcome[]): string {
  const index = (o: Outcome) => {
    const id = JSON.stringify(o);
    let i = outcomes.findIndex((x) => JSON.stringify(x) === id);
    if (i < 0) i = outcomes.push(o) - 1;
    return i;
  };
  let sql = 'CASE';
  let otherwise = 0;
  for (const b of branches) {
    if (b.when === F) continue;
    if (b.when === T) {
      otherwise = index(b.outcome);
      break;
    }
    sql += `\n      WHEN ${b.when} THEN ${index(b.outcome)}`;
  }
  return sql === 'CASE' ? String(otherwise) : `${sql}\n      ELSE ${otherwise} END`;
}

function checkText(text: string, what: string): string {
  if (!isWellFormed(text)) throw new Refusal('lone surrogate', `${what} has a lone surrogate (not representable in SQL text)`);
  return text;
}

function flagBranches(flag: CompiledFlag, atMs: number, ctx: Ctx): { when: string; outcome: Outcome }[] {
  const out: { when: string; outcome: Outcome }[] = [];
  for (const allocation of flag.allocations) {
    // Inclusive window, NaN bounds ignored (eppo-spec §2.2), resolved now rather than per row.
    if (atMs < allocation.startMs || atMs > allocation.endMs) continue;
    checkText(allocation.key, `allocation ${JSON.stringify(allocation.key)}`);
    let rules = T;
    if (allocation.rules.length > 0) {
      const compiled = allocation.rules.map((r) => compileRule(r, ctx));
      // Conditions of a rule are all evaluated, so any failing one is an ASSIGNMENT_ERROR once the rule is reached;
      // rules are tried in order and stop at the first match.
      const errors: string[] = [];
      compiled.forEach((r, i) => errors.push(and([...compiled.slice(0, i).map((p) => not(p.pred)), r.err])));
      out.push({ when: or(errors), outcome: ERROR });
      rules = or(compiled.map((r) => r.pred));
    }
    for (const split of allocation.splits) {
      const when = and([rules, splitPredicate(split, flag.totalShards, ctx)]);
      out.push({ when, outcome: splitOutcome(flag, allocation, split, ctx) });
    }
  }
  return out;
}

function splitPredicate(split: Split, total: number, ctx: Ctx): string {
  const shards = split.shards.map((shard) => {
    checkText(shard.salt, `salt ${JSON.stringify(shard.salt)}`);
    const h = ctx.shard(`${shard.salt}-`, total);
    const arms: string[] = [];
    const r = shard.ranges;
    for (let i = 0; i < r.length; i += 2) {
      const lo = Math.max(r[i], 0);
      const hi = Math.min(r[i + 1], total);
      if (lo >= hi) continue;
      if (lo === 0 && hi === total) return T;
      arms.push(lo === 0 ? `${h} < ${hi}` : hi === total ? `${h} >= ${lo}` : `(${h} >= ${lo} AND ${h} < ${hi})`);
    }
    return or(arms);
  });
  return and(shards);
}

function splitOutcome(flag: CompiledFlag, allocation: Allocation, split: Split, ctx: Ctx): Outcome {
  const v = split.variation;
  if (v === undefined) return ERROR;
  checkText(v.key, `variation ${JSON.stringify(v.key)}`);
  if (!v.typeOk) return { reason: 'ASSIGNMENT_ERROR', variationKey: v.key, allocationKey: allocation.key, value: null, text: null, doLog: allocation.doLog };
  // Eppo's details keep the variation key of a JSON value that does not parse.
  if (v.jsonError !== null) return { reason: 'ASSIGNMENT_ERROR', variationKey: v.key, allocationKey: null, value: null, text: null, doLog: false };
  const value = literal(flag.variationType, v.value, v.key, ctx.d);
  // assign's valueText(): strings as they are, JSON re-serialized from its parsed value, numbers and booleans as JSON.
  const text = flag.variationType === 'STRING' ? (v.value as string) : JSON.stringify(flag.variationType === 'JSON' ? JSON.parse(v.value as string) : v.value);
  return { reason: 'MATCH', variationKey: v.key, allocationKey: allocation.key, value, text, doLog: allocation.doLog };
}

function literal(type: VariationType, value: string | number | boolean, variationKey: string, d: Dialect): string {
  switch (type) {
    case 'STRING':
      return d.str(checkText(value as string, `the value of variation ${JSON.stringify(variationKey)}`));
    case 'JSON':
      return d.json(checkText(value as string, `the value of variation ${JSON.stringify(variationKey)}`));
    case 'BOOLEAN':
      return value ? T : F;
    case 'NUMERIC':
      return d.double(value as number);
    case 'INTEGER': {
      const n = BigInt(value as number);
      if (n > INT64_MAX || n < INT64_MIN) throw new Refusal('integer beyond 64 bits', `the value of variation ${JSON.stringify(variationKey)} does not fit a 64-bit integer`);
      return d.bigint(n);
    }
  }
}

interface Predicate {
  /** True/false, never NULL. */
  readonly pred: string;
  /** When evaluating the condition throws (an ASSIGNMENT_ERROR in the SDK). */
  readonly err: string;
}

function compileRule(rule: Rule, ctx: Ctx): Predicate {
  const conds = rule.conditions.map((c, i) => compileCondition(c, rule.wire.conditions[i]?.value, ctx));
  return { pred: and(conds.map((c) => c.pred)), err: or(conds.map((c) => c.err)) };
}

/** An attribute's column: `x` as seen from the hashed row, `source` from the input row. */
function column(name: string, ctx: Ctx): { x: string; source: string; type: ColumnType } | null {
  const kind = ctx.unsupported.get(name);
  if (kind !== undefined) throw new Refusal('column type without exact comparison', `a condition on attribute ${JSON.stringify(name)}: its column type ${kind} has no exact comparison with the SDK's`);
  const own = ctx.columns === null ? (name === 'id' ? undefined : 'string') : ctx.columns.get(name);
  if (own !== undefined) {
    const id = ctx.d.ident(checkText(name, `attribute ${JSON.stringify(name)}`));
    return { x: `h.${id}`, source: `t.${id}`, type: own };
  }
  // The implicit `id` attribute is the subject key unless the table has an `id` column.
  if (name === 'id') return { x: ctx.key, source: `t.${ctx.key.slice(2)}`, type: 'string' };
  return null;
}

const canonicalNumber = (s: string) => String(Number(s)) === s;

function compileCondition(c: Condition, wireValue: unknown, ctx: Ctx): Predicate {
  const d = ctx.d;
  const col = column(c.attribute, ctx);
  if (c.op === 'IS_NULL') {
    if (col === null) return { pred: c.isNull ? T : F, err: F };
    return { pred: `${col.x} IS ${c.isNull ? '' : 'NOT '}NULL`, err: F };
  }
  if (col === null) return { pred: F, err: F };
  const { x, type } = col;
  const notNull = `${x} IS NOT NULL`;
  const where = `attribute ${JSON.stringify(c.attribute)} (${type} column)`;
  switch (c.op) {
    case 'ONE_OF':
    case 'NOT_ONE_OF': {
      if (c.values === null) return { pred: F, err: notNull };
      // ONE_OF compares String(value) with each listed string (eppo-spec §2.4, §2.6).
      const items = [...c.values];
      let found: string;
      if (type === 'string') {
        // A string with a lone surrogate equals no SQL text: drop it.
        const lits = items.filter(isWellFormed).map((s) => d.str(s));
        found = lits.length ? `${x} IN (${lits.join(', ')})` : F;
      } else if (type === 'boolean') {
        const t = c.values.has('true');
        const f = c.values.has('false');
        found = t && f ? T : t ? x : f ? not(x) : F;
      } else {
        // String(n) is canonical, so only canonical number strings can equal it, and then exactly when
        // n === Number(s) ("0" also matches -0, as in SQL). Other strings never match.
        const nums = items.filter(canonicalNumber).map(Number);
        if (type === 'integer') {
          // The SDK sees a 64-bit value as the JS number it rounds to: v matches n when Number(v) === n, i.e. v in
          // n's preimage (one value below 2^53, a range of them beyond).
          const arms = [...new Set(nums.filter(Number.isInteger))].map(preimage).filter((r) => r !== null).map(([lo, hi]) => (lo === hi ? `${x} = ${lo}` : `(${x} >= ${lo} AND ${x} <= ${hi})`));
          found = or(arms);
        } else {
          const finite = nums.filter((n) => !Number.isNaN(n));
          found = or([finite.length ? `${x} IN (${finite.map((n) => d.double(n)).join(', ')})` : F, nums.some(Number.isNaN) ? d.isNan(x) : F]);
        }
      }
      return { pred: and([notNull, c.op === 'ONE_OF' ? found : not(found)]), err: F };
    }
    case 'MATCHES':
    case 'NOT_MATCHES': {
      const re = c.regex;
      if (re.kind === 'invalid') return { pred: F, err: notNull };
      const source = wireValue === undefined ? '(?:)' : String(wireValue);
      let found: string;
      if (type === 'boolean') {
        // String(true) / String(false): the reference engine decides at generation time (five units: no backtracking
        // to fear; a pattern the SDK refuses to run, e.g. with a backreference, is still answered as Eppo answers it).
        const native = new RegExp(source);
        const t = native.test('true');
        const f = native.test('false');
        found = t && f ? T : t ? x : f ? not(x) : F;
      } else if (type === 'double') {
        throw new Refusal('regex on a double column', `${c.op} on ${where}: JS String(number) and SQL casts differ for fractions and exponents; declare it integer or string`);
      } else {
        // Integers are ASCII text. A string is searched as it is when the answer cannot depend on UTF-16 code units,
        // else as units where the dialect can rewrite it so (see regex.ts).
        let subject = type === 'integer' ? d.intToString(x) : x;
        let t = toSqlRegex(source, d.regex, type === 'integer' ? 'bmp' : 'codepoints');
        if (!t.ok && t.kind === REGEX_REFUSALS.units && d.unitView) {
          t = toSqlRegex(source, d.regex, 'units');
          subject = ctx.unitView(col.source);
        }
        if (!t.ok) throw new Refusal(t.kind, `${c.op} on ${where}: ${t.reason}; not expressible exactly in ${d.name}`);
        found = d.regexSearch(subject, t.pattern);
      }
      return { pred: and([notNull, c.op === 'MATCHES' ? found : not(found)]), err: F };
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      if (c.semver !== null) {
        // Only strings can be versions; a number or boolean never is.
        if (type !== 'string') return { pred: F, err: F };
        const p = semverPattern(c.op, c.semver);
        if (!p.ok) throw new Refusal('semver', `${c.op} on ${where}: ${p.reason}`);
        if (p.pattern === '') return { pred: F, err: F };
        // semver.valid takes at most 256 characters (before trimming).
        return { pred: and([notNull, `${d.charLength(x)} <= 256`, d.fullMatch(x, p.pattern)]), err: F };
      }
      const b = c.number;
      if (Number.isNaN(b)) return { pred: F, err: F };
      const holds = (a: number) => (c.op === 'GT' ? a > b : c.op === 'GTE' ? a >= b : c.op === 'LT' ? a < b : a <= b);
      switch (type) {
        case 'string':
          throw new Refusal('numeric comparison of a string column', `${c.op} on ${where}: a numeric comparison of a string needs JS Number() coercion; declare the column integer or double`);
        case 'boolean': {
          const t = holds(1);
          const f = holds(0);
          return { pred: t && f ? notNull : t ? and([notNull, x]) : f ? and([notNull, not(x)]) : F, err: F };
        }
        case 'double':
          return { pred: and([notNull, not(d.isNan(x)), `${x} ${SYMBOL[c.op]} ${d.double(b)}`]), err: F };
        case 'integer':
          return { pred: and([notNull, integerBound(c.op, b, x)]), err: F };
      }
    }
  }
  return { pred: F, err: F };
}

const SYMBOL = { GT: '>', GTE: '>=', LT: '<', LTE: '<=' } as const;

/**
 * The 64-bit integers v with Number(v) === n (round to nearest, ties to even), clipped to 64 bits; null if none.
 * Below 2^53 that is n alone; beyond, the values within half a unit in the last place of n.
 */
function preimage(n: number): [bigint, bigint] | null {
  const N = BigInt(n);
  let lo = N;
  let hi = N;
  if (Math.abs(n) > Number.MAX_SAFE_INTEGER) {
    const ulp = 2n ** BigInt(Math.floor(Math.log2(Math.abs(n))) - 52);
    // Exactly halfway rounds to the even mantissa: included when n's mantissa is even. At a power of two the
    // spacing below is half the spacing above.
    const even = (N / ulp) % 2n === 0n;
    const below = Math.abs(n) === 2 ** Math.floor(Math.log2(Math.abs(n))) ? ulp / 2n : ulp;
    const [down, up] = n > 0 ? [below, ulp] : [ulp, below];
    lo = N - down / 2n + (even ? 0n : 1n);
    hi = N + up / 2n - (even ? 0n : 1n);
  }
  if (lo < INT64_MIN) lo = INT64_MIN;
  if (hi > INT64_MAX) hi = INT64_MAX;
  return lo > hi ? null : [lo, hi];
}

// For an integer v and a real b the SDK compares Number(v) with b. A non-integer b is below 2^53 in magnitude, where
// Number(v) = v: v > b ⇔ v > ⌊b⌋, v ≥ b ⇔ v ≥ ⌈b⌉, v < b ⇔ v < ⌈b⌉, v ≤ b ⇔ v ≤ ⌊b⌋. An integer b compares through its
// preimage [lo, hi] (rounding is monotonic): Number(v) > b ⇔ v > hi, ≥ ⇔ v ≥ lo, < ⇔ v < lo, ≤ ⇔ v ≤ hi.
function integerBound(op: 'GT' | 'GTE' | 'LT' | 'LTE', b: number, x: string): string {
  if (b === Infinity) return op === 'GT' || op === 'GTE' ? F : T;
  if (b === -Infinity) return op === 'GT' || op === 'GTE' ? T : F;
  if (Number.isInteger(b) && Math.abs(b) > Number.MAX_SAFE_INTEGER) {
    const N = BigInt(b);
    const r = preimage(b) ?? (N > 0n ? [INT64_MAX + 1n, INT64_MAX + 1n] : [INT64_MIN - 1n, INT64_MIN - 1n]);
    const k = op === 'GT' || op === 'LTE' ? r[1] : r[0];
    if (op === 'GT') return k >= INT64_MAX ? F : k < INT64_MIN ? T : `${x} > ${k}`;
    if (op === 'GTE') return k > INT64_MAX ? F : k <= INT64_MIN ? T : `${x} >= ${k}`;
    if (op === 'LT') return k <= INT64_MIN ? F : k > INT64_MAX ? T : `${x} < ${k}`;
    return k < INT64_MIN ? F : k >= INT64_MAX ? T : `${x} <= ${k}`;
  }
  const k = BigInt(op === 'GT' || op === 'LTE' ? Math.floor(b) : Math.ceil(b));
  if (op === 'GT') return k >= INT64_MAX ? F : k < INT64_MIN ? T : `${x} > ${k}`;
  if (op === 'GTE') return k > INT64_MAX ? F : k <= INT64_MIN ? T : `${x} >= ${k}`;
  if (op === 'LT') return k <= INT64_MIN ? F : k > INT64_MAX ? T : `${x} < ${k}`;
  return k < INT64_MIN ? F : k >= INT64_MAX ? T : `${x} <= ${k}`;
}
