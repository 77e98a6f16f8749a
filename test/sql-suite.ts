// The suites of test/sql-<engine>.test.ts: `saltshard sql` executed on a real engine and compared row for row with
// Eppo's official evaluator (@eppo/js-client-sdk-common): value, variation key, allocation key and reason of every flag
// for every subject, on sdk-test-data and on random configs (gen-config.ts). SQL_SEED=<n> replays other random configs.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { main } from '../src/cli.ts';
import type { CliIO } from '../src/cli/common.ts';
import { csvField } from '../src/cli/csv.ts';
import { readSchema } from '../src/sql/schema.ts';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { compileConfig } from '../src/config/compile.ts';
import { type ColumnType, type FlagColumns, compileSql } from '../src/sql/compile.ts';
import { DIALECTS } from '../src/sql/dialects.ts';
import type { Engine } from './sql-engines.ts';
import { Rng, type Subject, genConfig, genSubject } from './gen-config.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

function typeOf(v: unknown): ColumnType | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : 'double';
  throw new Error(`unsupported attribute value ${String(v)}`);
}

/**
 * Subjects in as few tables as possible: a subject joins the first table whose column types agree with its non-null
 * attributes (a missing attribute and a NULL column are the same to the evaluator); columns are the union. The `id`
 * attribute is the exception: absent, it is the subject key, so only subjects that have one share a table with an
 * `id` column.
 */
function tablesFor(subjects: readonly Subject[]): { columns: Map<string, ColumnType>; subjects: Subject[] }[] {
  const tables: { columns: Map<string, ColumnType>; subjects: Subject[]; id: boolean }[] = [];
  for (const s of subjects) {
    const own = Object.entries(s.attributes).map(([k, v]) => [k, typeOf(v)] as const).filter((e): e is [string, ColumnType] => e[1] !== null);
    const id = Object.hasOwn(s.attributes, 'id');
    let table = tables.find((tb) => tb.id === id && own.every(([k, ty]) => (tb.columns.get(k) ?? ty) === ty));
    if (!table) tables.push((table = { columns: new Map(), subjects: [], id }));
    for (const [k, ty] of own) table.columns.set(k, ty);
    if (id && !table.columns.has('id')) table.columns.set('id', 'string');
    table.subjects.push(s);
  }
  return tables;
}

/** Eppo's evaluator over a UFC document held in memory (the oracle of the differentials). */
export function eppoClient(config: Record<string, unknown>): EppoClient {
  const store = new MemoryOnlyConfigurationStore<never>();
  void store.setEntries(config.flags as Record<string, never>);
  store.setEnvironment(config.environment as { name: string });
  store.setConfigPublishedAt(config.createdAt as string);
  store.setConfigFetchedAt(new Date().toISOString());
  store.setFormat(config.format as never);
  return new EppoClient({ flagConfigurationStore: store });
}

const GETTER: Record<string, [string, unknown]> = {
  STRING: ['getStringAssignmentDetails', ''],
  INTEGER: ['getIntegerAssignmentDetails', 0],
  NUMERIC: ['getNumericAssignmentDetails', 0],
  BOOLEAN: ['getBooleanAssignmentDetails', false],
  JSON: ['getJSONAssignmentDetails', {}],
};

interface Expected {
  value: unknown;
  variationKey: string | null;
  allocationKey: string | null;
  reason: string;
}

/** What Eppo's evaluator answers, in the shape of the SQL output columns. */
function eppoExpected(client: EppoClient, flag: string, type: string, s: Subject): Expected {
  const [method, def] = GETTER[type] ?? GETTER.STRING;
  const r = (client as unknown as Record<string, (...a: unknown[]) => { variation: unknown; evaluationDetails: Record<string, unknown> }>)[method].call(client, flag, s.key, s.attributes, def);
  const d = r.evaluationDetails;
  const reason = d.flagEvaluationCode as string;
  return {
    value: reason === 'MATCH' ? d.variationValue : null,
    variationKey: (d.variationKey as string | null) ?? null,
    allocationKey: (d.matchedAllocation as { key: string } | null)?.key ?? null,
    reason,
  };
}

function fromRow(row: Record<string, unknown>, names: FlagColumns, type: string): Expected {
  const raw = row[names.value];
  let value: unknown = raw;
  if (raw !== null && raw !== undefined) {
    if (type === 'INTEGER' || type === 'NUMERIC') value = typeof raw === 'number' ? raw : Number(raw);
    else if (type === 'JSON') value = typeof raw === 'string' ? JSON.parse(raw) : raw;
    else if (type === 'BOOLEAN') value = raw === true || raw === 1 || raw === 't';
  }
  return { value: value ?? null, variationKey: (row[names.variationKey] as string | null) ?? null, allocationKey: (row[names.allocationKey] as string | null) ?? null, reason: row[names.reason] as string };
}

let tableNo = 0;
const BUDGET_MS = 180_000;

/** Create `table` in the engine with the group's subjects (key column `subject_key`). */
async function createTable(engine: Engine, table: string, group: { columns: Map<string, ColumnType>; subjects: Subject[] }): Promise<void> {
  const d = DIALECTS[engine.dialect];
  const names = [...group.columns.keys()];
  const cols = [...group.columns].map(([name, type]) => `${d.ident(name)} ${d.type(type)}`);
  await engine.run(`${engine.create} ${d.ident(table)} (${[`${d.ident('subject_key')} ${d.type('string')}`, ...cols].join(', ')})${engine.tableSuffix}`);
  const value = (v: unknown, type: ColumnType) => {
    if (v === null || v === undefined) return 'NULL';
    if (type === 'string') return d.str(v as string);
    if (type === 'boolean') return v ? 'TRUE' : 'FALSE';
    if (type === 'integer') return d.bigint(BigInt(v as number));
    return d.double(v as number);
  };
  const values = group.subjects.map((s) => `(${[d.str(s.key), ...names.map((k) => value(s.attributes[k], group.columns.get(k)!))].join(', ')})`);
  await engine.run(`INSERT INTO ${d.ident(table)} VALUES ${values.join(', ')}`);
}


export interface Comparison {
  rows: number;
  compiled: Set<string>;
  /** Flag → the named reason it was refused. */
  refused: Map<string, string>;
  differences: string[];
  reasons: Map<string, number>;
}

/** Build tables in `engine`, run the compiled SQL, compare every cell with Eppo's evaluator. */
export async function compare(engine: Engine, configText: string, subjects: readonly Subject[], atMs: number, out: Comparison, flags?: readonly string[]): Promise<void> {
  const d = DIALECTS[engine.dialect];
  const config = compileConfig(configText);
  const wire = JSON.parse(configText) as { flags: Record<string, { variationType?: string }> };
  const client = eppoClient(JSON.parse(configText));
  for (const group of tablesFor(subjects)) {
    const table = `subjects_${++tableNo}`;
    const result = compileSql(config, { dialect: engine.dialect, table, atMs, flags, columns: group.columns });
    for (const r of result.refused) out.refused.set(r.flag, r.kind);
    await createTable(engine, table, group);
    let rows: Record<string, unknown>[];
    try {
      rows = await engine.rows(result.sql);
    } catch (err) {
      throw new Error(`${engine.name}: ${(err as Error).message.slice(0, 2000)}\n${result.sql}`);
    }
    await engine.run(`DROP TABLE ${d.ident(table)}`);
    assert.equal(rows.length, group.subjects.length);
    const byKey = new Map(rows.map((r) => [r.subject_key as string, r]));
    for (const s of group.subjects) {
      const row = byKey.get(s.key);
      assert.ok(row, `${engine.name}: no row for subject ${JSON.stringify(s.key)}`);
      for (const [flag, cols] of result.compiled) {
        out.compiled.add(flag);
        out.rows++;
        const type = wire.flags[flag]?.variationType ?? 'STRING';
        const want = eppoExpected(client, flag, type, s);
        out.reasons.set(want.reason, (out.reasons.get(want.reason) ?? 0) + 1);
        const got = fromRow(row, cols, type);
        try {
          assert.deepEqual(got, want);
        } catch {
          out.differences.push(`${flag} / ${JSON.stringify(s)}: sql ${JSON.stringify(got)} eppo ${JSON.stringify(want)}`);
        }
      }
    }
  }
}

export const newComparison = (): Comparison => ({ rows: 0, compiled: new Set(), refused: new Map(), differences: [], reasons: new Map() });

/** Eppo prints every evaluation that throws; keep the test output readable. */
export async function quietly<T>(f: () => Promise<T>): Promise<T> {
  const error = console.error;
  const level = applicationLogger.level;
  console.error = () => {};
  applicationLogger.level = 'silent';
  try {
    return await f();
  } finally {
    console.error = error;
    applicationLogger.level = level;
  }
}

// Subjects with keys of sdk-test-data: distinct per test file, since a table holds one row per subject.
type TestCase = { flag: string; subjects: { subjectKey: string; subjectAttributes: Record<string, unknown> }[] };

// MATCHES on real engines: the patterns of issue 13, real-world targeting patterns and generated ones, each as the
// rule of its own flag, over inputs with astral characters, line terminators and Latin-1; every compiled flag must
// answer what `new RegExp(pattern).test(value)` answers (Eppo's evaluator), and refusals are counted per reason.
const ISSUE_PATTERNS = ['[\\S]+@', '(x|\\01)+', 'ban\\k', '\\1', '\\uD83E\\uDD17', '[a-\\d]+x', '(x|[🤗])+', '^..$', '\\uDD17', '^.$', '[^a]{2}$', '\\B', '^[\\s\\S]{3}$'];
const REAL_PATTERNS = [
  '@example\\.com$', '^[^@\\s]+@(?:gmail|yahoo)\\.com$', '^\\+?1?\\d{10}$', 'Chrome/(\\d+)', '^Mozilla/5\\.0 \\((?:iPhone|iPad).*OS 1[5-7]_',
  '\\bUS\\b', '^v?\\d+\\.\\d+(?:\\.\\d+)?(?:-[0-9A-Za-z.-]+)?$', '^[A-Z]{2}$', '^user-[0-9a-f]{8}$', '.*', '', '^$', '(a)\\1', '^(?!test)',
  '^[a-z0-9._%+-]+@[a-z0-9.-]+\\.[a-z]{2,}$', '(?:^|\\.)acme\\.(?:io|dev)$', '^\\S+$', '^.{1,5}$', '[\\u00e0-\\u00ff]', '\\d{300}', 'x{256}', '(?:x{2}){499}', '^(?:[0-9a-f]{4}-?){2,8}$',
];
const REGEX_ATOMS = [
  'a', 'b', 'x', '1', '@', '.', 'é', '🤗', '\\uD83E', '\\uDD17', '\\u00e9', '\\x41', '\\01', '\\0', '\\8', '\\k', '\\c', '\\cJ', '\\-', '\\.',
  '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\n', '\\t', '[\\S]', '[^\\s]', '[a-\\d]', '[\\w-]', '[^a-z]', '[🤗]', '[^🤗]', '[\\uD83E-\\uDD17]',
  '[\\s\\S]', '[^]', '[\\b]', '[.]', '[\\u2028\\n]', '{', '}', ']',
];
const REGEX_QUANTIFIERS = ['*', '+', '?', '{2}', '{0,2}', '{1,}', '+?', '{2,3}?', '{0}'];
const REGEX_INPUTS = [
  '', 'me@x', 'x', '\u0001', '\u0001x', 'bank', 'ban k', '🤗', '🤖', '1x', 'a🤗b', '🤗🤗', 'x🤗', '\ud83e\udd17@', 'US', 'the US.', 'USA', 'é', 'É',
  'a\nb', 'ab\n', '\u2028', ' \t', 'user-0a1b2c3d', 'bob@gmail.com', 'v1.2.3-rc.1', 'Chrome/120', 'test', 'x'.repeat(256), '7'.repeat(300), '{}]', '-A.\\k',
];

function genRegex(rng: Rng, depth = 0): string {
  const pick = <T>(xs: readonly T[]) => xs[rng.int(xs.length)];
  const alts: string[] = [];
  for (let a = rng.int(4) === 0 ? 2 : 1; a > 0; a--) {
    let s = '';
    for (let k = rng.int(4) + 1; k > 0; k--) {
      const r = rng.int(100);
      if (r < 10) {
        s += pick(['^', '$', '\\b', '\\B']);
        continue;
      }
      s += r < 22 && depth < 2 ? `${pick(['(', '(?:'])}${genRegex(rng, depth + 1)})` : pick(REGEX_ATOMS);
      if (rng.int(10) < 3) s += pick(REGEX_QUANTIFIERS);
    }
    alts.push(s);
  }
  return alts.join('|');
}

function genRegexInput(rng: Rng, pattern: string): string {
  const units = ['a', 'b', 'x', '1', '@', '.', ' ', '\n', '\u2028', 'é', 'k', '\\', '{', '\u0001', '🤗', '🤖', '-', '_'];
  let s = '';
  for (let n = rng.int(8); n > 0; n--) s += rng.int(2) === 0 && pattern.length > 0 ? pattern[rng.int(pattern.length)] : units[rng.int(units.length)];
  return isWellFormed(s) ? s : s.replace(/[\uD800-\uDFFF]/g, 'z');
}

async function regexDifferential(engine: Engine, patterns: readonly string[], inputs: readonly string[]) {
  const columns = new Map<string, ColumnType>([['s', 'string']]);
  const table = `subjects_${++tableNo}`;
  const subjects = inputs.map((s, i) => ({ key: `k${i}`, attributes: { s } }));
  await createTable(engine, table, { columns, subjects });
  const out = { compiled: 0, refused: [] as { flag: string; kind: string; reason: string }[], refusals: new Map<string, number>(), differences: [] as string[], cells: 0 };
  // 100 flags per query: ClickHouse's max_query_size is 256 KiB.
  for (let at = 0; at < patterns.length; at += 100) {
    const flags: Record<string, unknown> = {};
    patterns.slice(at, at + 100).forEach((p, i) => {
      flags[`re${at + i}`] = {
        key: `re${at + i}`, enabled: true, variationType: 'STRING', totalShards: 10000, variations: { on: { key: 'on', value: 'on' } },
        allocations: [{ key: 'a', doLog: false, rules: [{ conditions: [{ attribute: 's', operator: 'MATCHES', value: p }] }], splits: [{ variationKey: 'on', shards: [] }] }],
      };
    });
    const config = compileConfig(JSON.stringify({ createdAt: '2025-01-01T00:00:00Z', format: 'SERVER', environment: { name: 't' }, flags }));
    const result = compileSql(config, { dialect: engine.dialect, table, atMs: 0, columns });
    const rows = new Map((await engine.rows(result.sql)).map((r) => [r.subject_key as string, r]));
    for (const [flag, cols] of result.compiled) {
      const pattern = patterns[Number(flag.slice(2))];
      const re = new RegExp(pattern);
      for (const x of subjects) {
        const got = rows.get(x.key)?.[cols.variationKey] === 'on';
        if (got !== re.test(x.attributes.s)) out.differences.push(`/${pattern}/ on ${JSON.stringify(x.attributes.s)}: sql ${got}, RegExp ${!got}`);
      }
    }
    out.compiled += result.compiled.size;
    out.cells += result.compiled.size * subjects.length;
    for (const r of result.refused) {
      out.refused.push(r);
      out.refusals.set(r.kind, (out.refusals.get(r.kind) ?? 0) + 1);
    }
  }
  await engine.run(`DROP TABLE ${DIALECTS[engine.dialect].ident(table)}`);
  return out;
}

/** `saltshard assign --format parquet --layout <layout>` on the subjects, in-process: its rows as plain objects. */
async function assignRows(configText: string, subjects: readonly Subject[], layout: 'long' | 'wide'): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-cli-'));
  try {
    writeFileSync(join(dir, 'flags.json'), configText);
    writeFileSync(join(dir, 'in.ndjson'), subjects.map((x) => JSON.stringify({ subjectKey: x.key, subjectAttributes: x.attributes })).join('\n'));
    const err: string[] = [];
    const io = { stdout: { write: () => true }, stderr: { write: (x: string) => (err.push(x), true) }, stdin: null } as unknown as CliIO;
    const code = await main(['assign', '--config', join(dir, 'flags.json'), '--input', join(dir, 'in.ndjson'), '--output', join(dir, 'out.parquet'), '--layout', layout, '--workers', '1'], io);
    assert.ok(code === 0 || code === 65, err.join(''));
    const buf = readFileSync(join(dir, 'out.parquet'));
    return (await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer })) as Record<string, unknown>[];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The suites for the engines `open` gives (those that load): sdk-test-data and the random differential. Under Bun and
 * Deno the SQL text is the same as under Node, so the differential runs 10 configs there.
 */
export async function engineSuite(name: string, open: readonly (() => Promise<Engine | null>)[]): Promise<void> {
  const t = suite(name);
  const engines: Engine[] = [];
  for (const o of open) {
    const e = await o();
    if (e) engines.push(e);
  }
  const isNode = !('Bun' in globalThis) && !('Deno' in globalThis);
for (const engine of engines) {
  if (hasTestData(`${engine.name} sdk-test-data`)) {
    t(`${engine.name}: every sdk-test-data subject gets exactly Eppo's assignment (flags-v1.json, semver included)`, async () => {
      const configText = readText(TEST_DATA, 'ufc', 'flags-v1.json');
      const config = compileConfig(configText);
      const out = newComparison();
      let subjects = 0;
      await quietly(async () => {
        for (const name of listJson(join(TEST_DATA, 'ufc', 'tests'))) {
          const c = readJson<TestCase>(TEST_DATA, 'ufc', 'tests', name);
          if (!config.flags.has(c.flag)) continue; // an unknown flag has no SQL: nothing to select
          await compare(engine, configText, c.subjects.map((s) => ({ key: s.subjectKey, attributes: s.subjectAttributes })), Date.now(), out, [c.flag]);
          subjects += c.subjects.length;
        }
      });
      assert.deepEqual(out.differences, []);
      assert.deepEqual([...out.refused], []);
      assert.ok(subjects >= 200 && out.rows >= 200, `${subjects} subjects, ${out.rows} rows`);
      console.log(`${engine.name}: sdk-test-data ${out.rows} flag×subject rows, 0 differences from Eppo's evaluator, 0 flags refused`);
    });
  }

  t(`${engine.name}: ${isNode ? engine.randomConfigs : Math.min(10, engine.randomConfigs)} random configs × 40 subjects: 0 differences from Eppo's evaluator`, async () => {
    const envSeed = typeof process !== 'undefined' ? process.env.SQL_SEED : undefined;
    const base = envSeed ? Number(envSeed) >>> 0 : 20250101;
    const now = Date.now();
    const CONFIGS = isNode ? engine.randomConfigs : Math.min(10, engine.randomConfigs);
    const started = Date.now();
    let ran = CONFIGS;
    const out = newComparison();
    let compiledFlags = 0;
    let refusedFlags = 0;
    const refusals = new Map<string, number>();
    await quietly(async () => {
      for (let i = 0; i < CONFIGS; i++) {
        // A loaded machine must not push the file past the runner's per-file limit: stop, and say so, after 3 minutes.
        if (Date.now() - started > BUDGET_MS) {
          console.log(`SKIP ${engine.name}: random configs ${i + 1}..${CONFIGS} not run (the machine is too slow to finish within ${BUDGET_MS / 1000} s; a quiet machine runs all)`);
          ran = i;
          break;
        }
        const rng = new Rng(base + i);
        const configText = JSON.stringify(genConfig(rng));
        const subjects: Subject[] = [];
        const keys = new Set<string>();
        for (let j = 0; j < 40; j++) {
          const s = genSubject(rng);
          // SQL text is well-formed Unicode: a lone surrogate cannot be stored in a text column.
          if (!isWellFormed(s.key) || keys.has(s.key) || Object.values(s.attributes).some((v) => typeof v === 'string' && !isWellFormed(v))) continue;
          keys.add(s.key);
          subjects.push(s);
        }
        if (!keys.has('')) subjects.push({ key: '', attributes: {} });
        const one = newComparison();
        await compare(engine, configText, subjects, now, one);
        out.rows += one.rows;
        compiledFlags += one.compiled.size;
        const refusedHere = [...one.refused].filter(([f]) => !one.compiled.has(f));
        refusedFlags += refusedHere.length;
        for (const [, kind] of one.refused) refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
        for (const [k, v] of one.reasons) out.reasons.set(k, (out.reasons.get(k) ?? 0) + v);
        for (const diff of one.differences) out.differences.push(`seed ${base + i}: ${diff}`);
      }
    });
    assert.deepEqual(out.differences.slice(0, 10), []);
    assert.ok(compiledFlags > refusedFlags * 3, `${compiledFlags} compiled vs ${refusedFlags} refused`);
    assert.ok(ran >= 5 && out.rows > ran * 30, `${ran} configs, ${out.rows} rows`);
    console.log(`${engine.name}: random ${ran} configs, ${out.rows} flag×subject rows, 0 differences from Eppo's evaluator; flags compiled ${compiledFlags}, refused for every table ${refusedFlags} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    console.log(`  reasons compared: ${JSON.stringify(Object.fromEntries(out.reasons))}`);
    console.log(`  refusals (per table): ${JSON.stringify(Object.fromEntries(refusals))}`);
  });
  t(`${engine.name}: MATCHES answers exactly what new RegExp(pattern).test answers (issue 13 patterns, real-world and generated patterns; refusals counted per reason)`, async () => {
    const started = Date.now();
    const fixed = await regexDifferential(engine, [...ISSUE_PATTERNS, ...REAL_PATTERNS], REGEX_INPUTS);
    assert.deepEqual(fixed.differences.slice(0, 10), []);
    // What no finite automaton expresses is refused, by name; everything else compiles.
    assert.deepEqual(fixed.refused.map((r) => r.kind).sort(), ['regex backreference', 'regex lookaround']);
    const rng = new Rng(1301);
    const patterns: string[] = [];
    // Short inputs only: the reference, a backtracking engine, can take exponential time on generated patterns.
    const inputs = new Set<string>(REGEX_INPUTS.filter((x) => x.length <= 12));
    // Fewer under Bun and Deno (the SQL text is the same as under Node); none on the psql-driven server, whose
    // dialect PGlite runs in full.
    while (patterns.length < (engine.randomConfigs < 120 ? 0 : isNode ? 150 : 50)) {
      const p = genRegex(rng);
      try {
        new RegExp(p);
      } catch {
        continue;
      }
      patterns.push(p);
      for (let k = 0; k < 2; k++) inputs.add(genRegexInput(rng, p));
    }
    const generated = await regexDifferential(engine, patterns, [...inputs]);
    assert.deepEqual(generated.differences.slice(0, 10), []);
    assert.ok(generated.compiled >= patterns.length * 0.9, `${generated.compiled} of ${patterns.length} compiled`);
    const refusals = new Map(fixed.refusals);
    for (const [k, v] of generated.refusals) refusals.set(k, (refusals.get(k) ?? 0) + v);
    console.log(`${engine.name}: regex ${fixed.cells + generated.cells} pattern×input cells, 0 differences from RegExp; refused per reason: ${JSON.stringify(Object.fromEntries(refusals))} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
  t(`${engine.name}: --layout long and wide give exactly the rows and columns of saltshard assign (Parquet output)`, async () => {
    const d = DIALECTS[engine.dialect];
    const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    let compared = 0;
    const started = Date.now();
    const rng = new Rng(160_000);
    const configText = JSON.stringify(genConfig(rng, { flags: [4, 8] }));
    const keys = new Set<string>();
    const subjects: Subject[] = [];
    for (let j = 0; j < 60; j++) {
      const x = genSubject(rng);
      if (x.key === '' || keys.has(x.key) || !isWellFormed(x.key) || Object.values(x.attributes).some((v) => typeof v === 'string' && !isWellFormed(v))) continue;
      keys.add(x.key);
      subjects.push(x);
    }
    for (const group of tablesFor(subjects)) {
      const table = `subjects_${++tableNo}`;
      await createTable(engine, table, group);
      // A row without a key, which assign rejects: left out by the SQL too.
      await engine.run(`INSERT INTO ${d.ident(table)} (${d.ident('subject_key')}) VALUES ('')`);
      for (const layout of ['long', 'wide'] as const) {
        const result = compileSql(compileConfig(configText), { dialect: engine.dialect, table, atMs: Date.now(), columns: group.columns, layout });
        const got = await engine.rows(result.sql);
        const cli = await quietly(() => assignRows(configText, group.subjects, layout));
        const flags = new Set(result.compiled.keys());
        const want = layout === 'long'
          ? cli.filter((r) => flags.has(r.flagKey as string))
          : cli.map((r) => Object.fromEntries(Object.entries(r).filter(([c]) => c === 'subjectKey' || flags.has(c))));
        assert.equal(got.length, want.length, `${layout}: ${got.length} rows from SQL, ${want.length} from assign`);
        if (got.length > 0) assert.deepEqual(Object.keys(got[0]), Object.keys(want[0]), `${layout} columns`);
        assert.deepEqual(sorted(got), sorted(want), layout);
        compared += got.length;
      }
      await engine.run(`DROP TABLE ${d.ident(table)}`);
    }
    assert.ok(compared > 50, `${compared} rows compared`);
    console.log(`${engine.name}: --layout long and wide, ${compared} rows equal to saltshard assign's (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  });
  t(`${engine.name}: column types read from the engine's own description of the table (DESCRIBE / information_schema, saved as CSV)`, async () => {
    const d = DIALECTS[engine.dialect];
    const table = `subjects_${++tableNo}`;
    const decimal = engine.dialect === 'clickhouse' ? 'Nullable(Decimal(10, 2))' : 'DECIMAL(10, 2)';
    await engine.run(`${engine.create} ${d.ident(table)} (${d.ident('subject_key')} ${d.type('string')}, ${d.ident('age')} ${d.type('integer')}, ${d.ident('score')} ${d.type('double')}, ${d.ident('beta')} ${d.type('boolean')}, ${d.ident('country')} ${d.type('string')}, ${d.ident('price')} ${decimal})${engine.tableSuffix}`);
    const describe = engine.dialect === 'duckdb' ? `DESCRIBE ${d.ident(table)}` : engine.dialect === 'clickhouse' ? `DESCRIBE TABLE ${d.ident(table)}` : `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ${d.str(table)} ORDER BY ordinal_position`;
    const rows = await engine.rows(describe);
    await engine.run(`DROP TABLE ${d.ident(table)}`);
    const header = Object.keys(rows[0]);
    const csv = [header, ...rows.map((r) => header.map((h) => String(r[h] ?? '')))].map((fields) => fields.map(csvField).join(',')).join('\n');
    const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-describe-'));
    try {
      writeFileSync(join(dir, 'describe.csv'), csv);
      const schema = await readSchema(join(dir, 'describe.csv'), table, 'subject_key');
      assert.deepEqual([...schema.columns], [['age', 'integer'], ['score', 'double'], ['beta', 'boolean'], ['country', 'string']]);
      assert.deepEqual([...schema.unsupported.keys()], ['price']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  t(`${engine.name}: --materialize writes exactly the rows of the query into a new table`, async () => {
    const d = DIALECTS[engine.dialect];
    const rng = new Rng(424242);
    const configText = JSON.stringify(genConfig(rng, { flags: [3, 5] }));
    const subjects = Array.from({ length: 60 }, (_, i) => ({ key: `s${i}`, attributes: genSubject(rng).attributes })).filter((s) => Object.values(s.attributes).every((v) => typeof v !== 'string' || isWellFormed(v)));
    const group = tablesFor(subjects)[0];
    const table = `subjects_${++tableNo}`;
    await createTable(engine, table, group);
    const options = { dialect: engine.dialect, table, atMs: Date.now(), columns: group.columns };
    const plain = compileSql(compileConfig(configText), options);
    const made = compileSql(compileConfig(configText), { ...options, materialize: `${table}_assigned` });
    assert.ok(made.compiled.size > 0);
    await engine.run(made.sql);
    const order = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    const want = await engine.rows(plain.sql);
    const got = await engine.rows(`SELECT * FROM ${d.ident(`${table}_assigned`)}`);
    assert.equal(got.length, group.subjects.length);
    assert.deepEqual(order(got), order(want));
    await engine.run(`DROP TABLE ${d.ident(`${table}_assigned`)}`);
    await engine.run(`DROP TABLE ${d.ident(table)}`);
  });
  }

  t.after(async () => {
    for (const e of engines) await e.close();
  });
  t.run();
}
