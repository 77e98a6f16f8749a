// The suites of test/sql-<engine>.test.ts: `saltshard sql` executed on a real engine and compared row for row with
// Eppo's official evaluator (@eppo/js-client-sdk-common): value, variation key, allocation key and reason of every flag
// for every subject, on sdk-test-data and on random configs (gen-config.ts). SQL_SEED=<n> replays other random configs.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
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

function eppoClient(config: Record<string, unknown>): EppoClient {
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


interface Comparison {
  rows: number;
  compiled: Set<string>;
  refused: Map<string, string>;
  differences: string[];
  reasons: Map<string, number>;
}

/** Build tables in `engine`, run the compiled SQL, compare every cell with Eppo's evaluator. */
async function compare(engine: Engine, configText: string, subjects: readonly Subject[], atMs: number, out: Comparison, flags?: readonly string[]): Promise<void> {
  const d = DIALECTS[engine.dialect];
  const config = compileConfig(configText);
  const wire = JSON.parse(configText) as { flags: Record<string, { variationType?: string }> };
  const client = eppoClient(JSON.parse(configText));
  for (const group of tablesFor(subjects)) {
    const table = `subjects_${++tableNo}`;
    const result = compileSql(config, { dialect: engine.dialect, table, atMs, flags, columns: group.columns });
    for (const r of result.refused) out.refused.set(r.flag, r.reason);
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

const newComparison = (): Comparison => ({ rows: 0, compiled: new Set(), refused: new Map(), differences: [], reasons: new Map() });

/** Eppo prints every evaluation that throws; keep the test output readable. */
async function quietly<T>(f: () => Promise<T>): Promise<T> {
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
        for (const [, why] of one.refused) {
          const kind = why.replace(/".*?"|\/.*\/|\(.*?\)/g, '').slice(0, 50);
          refusals.set(kind, (refusals.get(kind) ?? 0) + 1);
        }
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
