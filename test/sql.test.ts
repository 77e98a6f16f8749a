// `saltshard sql`: the generated DuckDB SQL is executed in @duckdb/node-api and must give, row for row, exactly what
// client.evaluate gives (value, variation key, allocation key, reason) for every sdk-test-data subject and for random
// configs and subjects from gen-config.ts. The other dialects get golden-text and syntax-shape tests.
// Subjects whose attributes cannot share column types are split into one table per type signature.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileConfig } from '../src/config/compile.ts';
import { main } from '../src/cli.ts';
import { type CliIO } from '../src/cli/common.ts';
import { offlineInit } from '../src/mod.ts';
import { type ColumnType, type FlagColumns, compileSql } from '../src/sql/compile.ts';
import { DIALECTS, DIALECT_NAMES, type DialectName } from '../src/sql/dialects.ts';
import { toSqlRegex } from '../src/sql/regex.ts';
import { Rng, genConfig, genSubject } from './gen-config.ts';
import { ROOT, TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('sql');

type DuckCon = { runAndReadAll(sql: string): Promise<{ getRowObjectsJson(): Record<string, unknown>[] }>; run(sql: string): Promise<unknown> };
let con: DuckCon | null = null;
try {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  con = (await (await DuckDBInstance.create(':memory:')).connect()) as unknown as DuckCon;
} catch (err) {
  console.log(`SKIP sql execution tests: @duckdb/node-api does not load on this runtime (${(err as Error).message})`);
}

interface Subject {
  key: string;
  attributes: Record<string, unknown>;
}

const duck = DIALECTS.duckdb;
const isWellFormed = (s: string) => !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(s);

function typeOf(v: unknown): ColumnType | 'null' {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return Number.isSafeInteger(v) ? 'integer' : 'double';
  throw new Error(`unsupported attribute value ${String(v)}`);
}

/** Subjects grouped so that each attribute has one column type per group (null-valued attributes are NULL columns). */
function groupBySchema(subjects: readonly Subject[]): { columns: Map<string, ColumnType>; subjects: Subject[] }[] {
  // A NULL fits any column type: null values take the attribute's type when all its other values agree on one.
  const seen = new Map<string, Set<ColumnType>>();
  for (const s of subjects) {
    for (const [k, v] of Object.entries(s.attributes)) {
      const ty = typeOf(v);
      if (!seen.has(k)) seen.set(k, new Set());
      if (ty !== 'null') seen.get(k)!.add(ty);
    }
  }
  const nullType = (k: string): ColumnType => (seen.get(k)!.size === 1 ? [...seen.get(k)!][0] : 'string');
  const groups = new Map<string, { columns: Map<string, ColumnType>; subjects: Subject[] }>();
  for (const s of subjects) {
    const entries = Object.keys(s.attributes).sort().map((k) => {
      const ty = typeOf(s.attributes[k]);
      return [k, ty === 'null' ? nullType(k) : ty] as const;
    });
    const sig = JSON.stringify(entries);
    let g = groups.get(sig);
    if (!g) groups.set(sig, (g = { columns: new Map(entries), subjects: [] }));
    g.subjects.push(s);
  }
  return [...groups.values()];
}

function sqlValue(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  if (typeof v === 'string') return duck.str(v);
  if (typeof v === 'boolean') return v ? 'TRUE' : 'FALSE';
  if (Number.isSafeInteger(v)) return `CAST(${Object.is(v, -0) ? 0 : v} AS BIGINT)`;
  return duck.double(v as number);
}

let tableNo = 0;
/** Reason codes seen in compared rows, to show which paths were exercised. */
const outcomes = new Map<string, number>();

/** Build the table, run the compiled SQL, compare every row and compiled flag with client.evaluate. */
async function compareInDuckDB(
  configText: string, subjects: readonly Subject[], atMs: number, flags?: readonly string[],
): Promise<{ rows: number; compiled: Set<string>; refused: Map<string, string>; differences: string[] }> {
  const config = compileConfig(configText);
  const client = offlineInit({ flagsConfiguration: configText, now: () => atMs, assignmentLogger: null });
  const compiled = new Set<string>();
  const refused = new Map<string, string>();
  const differences: string[] = [];
  let rows = 0;
  for (const group of groupBySchema(subjects)) {
    const table = `subjects_${++tableNo}`;
    const result = compileSql(config, { dialect: 'duckdb', table, atMs, flags, columns: group.columns });
    for (const r of result.refused) refused.set(r.flag, r.reason);
    const cols = [...group.columns].map(([name, type]) => `${duck.ident(name)} ${duck.type(type)}`);
    await con!.run(`CREATE TABLE ${duck.ident(table)} (${['"subject_key" VARCHAR', ...cols].join(', ')})`);
    const values = group.subjects.map((s) => `(${[sqlValue(s.key), ...[...group.columns.keys()].map((k) => sqlValue(s.attributes[k]))].join(', ')})`);
    await con!.run(`INSERT INTO ${duck.ident(table)} VALUES ${values.join(', ')}`);
    let out: Record<string, unknown>[];
    try {
      out = (await con!.runAndReadAll(result.sql)).getRowObjectsJson();
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${result.sql}`);
    }
    assert.equal(out.length, group.subjects.length);
    out.forEach((row, i) => {
      const s = group.subjects[i];
      assert.equal(row.subject_key, s.key);
      for (const [flag, names] of result.compiled) {
        compiled.add(flag);
        rows++;
        const want = client.evaluate(flag, s.key, s.attributes);
        const got = fromRow(row, names, want.variationType);
        const exp = { value: want.value, variationKey: want.variationKey, allocationKey: want.allocationKey, reason: want.code };
        outcomes.set(exp.reason, (outcomes.get(exp.reason) ?? 0) + 1);
        try {
          assert.deepEqual(got, exp);
        } catch {
          differences.push(`${flag} / ${JSON.stringify(s)}: sql ${JSON.stringify(got)} sdk ${JSON.stringify(exp)}`);
        }
      }
    });
    await con!.run(`DROP TABLE ${duck.ident(table)}`);
  }
  return { rows, compiled, refused, differences };
}

function fromRow(row: Record<string, unknown>, names: FlagColumns, type: string | null) {
  const raw = row[names.value];
  let value: unknown = raw;
  if (raw !== null) {
    if (type === 'INTEGER') value = Number(raw);
    else if (type === 'NUMERIC') value = typeof raw === 'number' ? raw : Number(raw);
    else if (type === 'JSON') value = JSON.parse(raw as string);
  }
  return { value, variationKey: row[names.variationKey], allocationKey: row[names.allocationKey], reason: row[names.reason] };
}

// (a) every sdk-test-data subject, with flags-v1.json.
if (con && hasTestData('sql')) {
  t('DuckDB: every sdk-test-data subject gets exactly the SDK assignment; only semver-test is refused', async () => {
    const configText = readText(TEST_DATA, 'ufc', 'flags-v1.json');
    const config = compileConfig(configText);
    const now = Date.now();
    let rows = 0;
    let subjects = 0;
    const refused = new Map<string, string>();
    const differences: string[] = [];
    for (const name of listJson(join(TEST_DATA, 'ufc', 'tests'))) {
      const c = readJson<{ flag: string; subjects: { subjectKey: string; subjectAttributes: Record<string, unknown> }[] }>(TEST_DATA, 'ufc', 'tests', name);
      if (!config.flags.has(c.flag)) continue; // an unknown flag has no SQL: nothing to select
      const r = await compareInDuckDB(configText, c.subjects.map((s) => ({ key: s.subjectKey, attributes: s.subjectAttributes })), now, [c.flag]);
      rows += r.rows;
      subjects += c.subjects.length;
      for (const [f, why] of r.refused) refused.set(f, why);
      differences.push(...r.differences);
    }
    assert.deepEqual(differences, []);
    assert.deepEqual([...refused.keys()], ['semver-test']);
    assert.match(refused.get('semver-test')!, /semver ordering/);
    assert.ok(subjects >= 200 && rows >= 200, `${subjects} subjects, ${rows} rows`);
    console.log(`sdk-test-data: ${rows} flag×subject rows compared in DuckDB, 0 differences; refused: semver-test`);
  });

  t('DuckDB: all flags of flags-v1.json at once for one table (string attributes, id = key)', async () => {
    const configText = readText(TEST_DATA, 'ufc', 'flags-v1.json');
    const subjects: Subject[] = [];
    for (const name of listJson(join(TEST_DATA, 'ufc', 'tests'))) {
      for (const s of readJson<{ subjects: { subjectKey: string; subjectAttributes: Record<string, unknown> }[] }>(TEST_DATA, 'ufc', 'tests', name).subjects) {
        subjects.push({ key: s.subjectKey, attributes: { email: typeof s.subjectAttributes.email === 'string' ? s.subjectAttributes.email : null } });
      }
    }
    const r = await compareInDuckDB(configText, subjects, Date.now());
    assert.deepEqual(r.differences, []);
    assert.ok(r.compiled.size >= 15, `${r.compiled.size} compiled`);
  });
}

// (b) random configs and subjects.
if (con) {
  t('DuckDB: random configs and subjects (gen-config.ts): zero differences with client.evaluate', async () => {
    const envSeed = typeof process !== 'undefined' ? process.env.SQL_SEED : undefined;
    const base = envSeed ? Number(envSeed) >>> 0 : 20250101;
    const now = Date.now();
    let rows = 0;
    let compiledFlags = 0;
    let refusedFlags = 0;
    const reasons = new Map<string, number>();
    const differences: string[] = [];
    const CONFIGS = 120;
    for (let i = 0; i < CONFIGS; i++) {
      const rng = new Rng(base + i);
      const configText = JSON.stringify(genConfig(rng));
      const subjects: Subject[] = [];
      for (let j = 0; j < 40; j++) {
        const s = genSubject(rng);
        // SQL text is well-formed Unicode: a lone surrogate cannot be stored in a VARCHAR.
        if (!isWellFormed(s.key) || Object.values(s.attributes).some((v) => typeof v === 'string' && !isWellFormed(v))) continue;
        subjects.push(s);
      }
      subjects.push({ key: '', attributes: {} });
      const r = await compareInDuckDB(configText, subjects, now);
      rows += r.rows;
      compiledFlags += r.compiled.size;
      refusedFlags += [...r.refused.keys()].filter((f) => !r.compiled.has(f)).length;
      for (const why of r.refused.values()) {
        const kind = why.replace(/".*?"|\/.*\/|\(.*?\)/g, '').slice(0, 40);
        reasons.set(kind, (reasons.get(kind) ?? 0) + 1);
      }
      for (const d of r.differences) differences.push(`seed ${base + i}: ${d}`);
    }
    assert.deepEqual(differences.slice(0, 10), []);
    assert.ok(compiledFlags > refusedFlags, `${compiledFlags} compiled vs ${refusedFlags} refused`);
    assert.ok(rows > 5000, `${rows} rows`);
    console.log(`random: ${CONFIGS} configs, ${rows} flag×subject rows compared in DuckDB, 0 differences; flags compiled (for at least one table) ${compiledFlags}, refused for every table ${refusedFlags}`);
    console.log(`  reasons compared: ${JSON.stringify(Object.fromEntries(outcomes))}`);
    console.log(`  refusals (per table): ${JSON.stringify(Object.fromEntries(reasons))}`);
  });

  t('DuckDB: the shard expression equals the SDK shard on ASCII, accented, emoji and empty keys', async () => {
    const cases: [string, string, number][] = [['split-json-flag', 'alice', 2969], ['traffic-json-flag', 'alice', 2525], ['salt', '🤗', 2131], ['traffic-new-user-onboarding-experiment', '18', 9024]];
    for (const [salt, key, want] of cases) {
      const rows = (await con!.runAndReadAll(`SELECT ${duck.shard(duck.str(`${salt}-`), duck.str(key), 10000)} AS n`)).getRowObjectsJson();
      assert.equal(Number(rows[0].n), want, `${salt}-${key}`);
    }
  });
}

// Golden text for every dialect, on a small config.
const SMALL = {
  createdAt: '2024-04-17T19:40:53.716Z',
  format: 'SERVER',
  environment: { name: 'Test' },
  flags: {
    'checkout': {
      key: 'checkout', enabled: true, variationType: 'STRING', totalShards: 10000,
      variations: { control: { key: 'control', value: 'control' }, treatment: { key: 'treatment', value: "it's new" } },
      allocations: [
        {
          key: 'internal', doLog: false, splits: [{ variationKey: 'treatment', shards: [] }],
          rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '@example\\.com$' }] }, { conditions: [{ attribute: 'age', operator: 'GTE', value: 18.5 }, { attribute: 'country', operator: 'ONE_OF', value: ['US', 'CA'] }] }],
        },
        {
          key: 'experiment', doLog: true,
          splits: [
            { variationKey: 'control', shards: [{ salt: 'traffic', ranges: [{ start: 0, end: 5000 }] }, { salt: 'split', ranges: [{ start: 0, end: 5000 }] }] },
            { variationKey: 'treatment', shards: [{ salt: 'traffic', ranges: [{ start: 0, end: 5000 }] }, { salt: 'split', ranges: [{ start: 5000, end: 10000 }] }] },
          ],
        },
      ],
    },
    'limits': {
      key: 'limits', enabled: true, variationType: 'JSON', totalShards: 10000,
      variations: { big: { key: 'big', value: '{"max": 10}' } },
      allocations: [{ key: 'all', doLog: true, rules: [{ conditions: [{ attribute: 'plan', operator: 'IS_NULL', value: false }] }], splits: [{ variationKey: 'big', shards: [{ salt: 'traffic', ranges: [{ start: 0, end: 9000 }] }] }] }],
    },
  },
};
const SMALL_COLUMNS = new Map<string, ColumnType>([['email', 'string'], ['age', 'integer'], ['country', 'string'], ['plan', 'string']]);
const AT = Date.parse('2025-06-01T00:00:00Z');

const SHARD_SHAPE: Record<DialectName, string> = {
  duckdb: `(('0x' || substr(md5('traffic-' || t."subject_key"), 1, 8))::UBIGINT % 10000)`,
  snowflake: `MOD(TO_NUMBER(SUBSTR(MD5('traffic-' || t."subject_key"), 1, 8), 'XXXXXXXX'), 10000)`,
  bigquery: "MOD(CAST(CONCAT('0x', TO_HEX(SUBSTR(MD5(CONCAT('traffic-', t.`subject_key`)), 1, 4))) AS INT64), 10000)",
  spark: 'pmod(CAST(conv(substr(md5(concat(\'traffic-\', t.`subject_key`)), 1, 8), 16, 10) AS BIGINT), 10000)',
  trino: `mod(from_big_endian_64(concat(X'00000000', substr(md5(to_utf8('traffic-' || t."subject_key")), 1, 4))), 10000)`,
  clickhouse: "(reinterpretAsUInt32(reverse(substring(MD5(concat('traffic-', t.`subject_key`)), 1, 4))) % 10000)",
};

/** Parentheses balance outside string literals and quoted identifiers, and every literal is closed. */
function checkShape(sql: string, backslashEscapes: boolean): void {
  let depth = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i];
    if (c === '-' && sql[i + 1] === '-') {
      i = sql.indexOf('\n', i);
      if (i < 0) break;
      continue;
    }
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      for (;; j++) {
        if (j >= sql.length) throw new Error(`unterminated ${c} at ${i}`);
        if (sql[j] === '\\' && (backslashEscapes || c === '`')) j++;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j++;
          else break;
        }
      }
      i = j;
      continue;
    }
    if (c === '(') depth++;
    if (c === ')' && --depth < 0) throw new Error(`unbalanced ) at ${i}`);
  }
  if (depth !== 0) throw new Error(`unbalanced parentheses (${depth})`);
}

for (const name of DIALECT_NAMES) {
  t(`${name}: golden SQL for a small config, shard expression from ecosystem.md §6.4, balanced syntax`, () => {
    const r = compileSql(compileConfig(SMALL), { dialect: name, atMs: AT, columns: SMALL_COLUMNS });
    const file = join(ROOT, 'test', 'fixtures', 'sql', `small.${name}.sql`);
    // SQL_UPDATE_GOLDEN=1 rewrites the golden files (review the diff).
    if (typeof process !== 'undefined' && process.env.SQL_UPDATE_GOLDEN === '1') writeFileSync(file, r.sql);
    const golden = readFileSync(file, 'utf8');
    assert.equal(r.sql, golden);
    assert.ok(r.sql.includes(SHARD_SHAPE[name]), `shard expression for ${name}`);
    checkShape(r.sql, name !== 'duckdb' && name !== 'trino');
    const d = DIALECTS[name];
    const q = d.ident('x').slice(0, 1);
    assert.ok(r.sql.includes(`${q}limits__variation_key${q}`));
    // Snowflake cannot take "$" exactly: the flag is refused there, compiled everywhere else.
    if (name === 'snowflake') assert.deepEqual(r.refused.map((x) => x.flag), ['checkout']);
    else assert.deepEqual(r.refused, []);
  });
}

t('string literals and identifiers escape quotes, backslashes and control characters per dialect', async () => {
  const text = "it's a \\ back\nslash";
  assert.equal(DIALECTS.duckdb.str(text), "'it''s a \\ back\nslash'");
  assert.equal(DIALECTS.bigquery.str(text), "'it\\'s a \\\\ back\\x0aslash'");
  assert.equal(DIALECTS.spark.str(text), "'it\\'s a \\\\ back\\u000aslash'");
  assert.equal(DIALECTS.duckdb.ident('a"b'), '"a""b"');
  assert.equal(DIALECTS.spark.ident('a`b'), '`a``b`');
  assert.equal(DIALECTS.bigquery.ident('a`b'), '`a\\`b`');
  if (con) {
    const rows = (await con.runAndReadAll(`SELECT ${DIALECTS.duckdb.str(text)} AS s, ${DIALECTS.duckdb.str('é日🤗"')} AS u`)).getRowObjectsJson();
    assert.deepEqual(rows[0], { s: text, u: 'é日🤗"' });
  }
});

t('regex subset: translations and refusals per engine', () => {
  const ok = (src: string, flavor: Parameters<typeof toSqlRegex>[1]) => {
    const r = toSqlRegex(src, flavor);
    assert.ok(r.ok, `${src} on ${flavor}: ${r.ok ? '' : r.reason}`);
    return r.pattern;
  };
  const no = (src: string, flavor: Parameters<typeof toSqlRegex>[1], why: RegExp) => {
    const r = toSqlRegex(src, flavor);
    assert.ok(!r.ok, `${src} on ${flavor} should be refused`);
    assert.match(r.reason, why);
  };
  assert.equal(ok('^a.b$', 're2'), '^a[^\\x{A}\\x{D}\\x{2028}\\x{2029}]b$');
  assert.equal(ok('^a.b$', 'java'), '^a[^\\x0a\\x0d\\u2028\\u2029]b\\z');
  assert.equal(ok('^a.b$', 'joni'), '\\Aa[^\\x0a\\x0d\\u2028\\u2029]b\\z');
  assert.equal(ok('[[:alpha:]]', 're2'), '[\\x{5B}\\x{3A}alpha\\x{3A}]\\]');
  assert.equal(ok('(?:ab)+?x{2}', 'posix'), '(ab)+x{2}');
  assert.equal(ok('\\u00e9|é', 're2'), '\\x{E9}|\\x{E9}');
  no('(?=a)', 're2', /lookaround/);
  no('(a)\\1', 're2', /\\1/);
  no('a$', 'posix', /\$/);
  no('.', 'posix', /"\."/);
  no('\\bUS\\b', 'java', /word boundaries/);
  no('\\s', 'joni', /\\s/);
  no('🤗', 're2', /Basic Multilingual Plane/);
  no('[^]', 're2', /\[\^\]/);
  no('a{', 're2', /not a quantifier/);
});

t('refusals name the flag and the reason; obfuscated configs are unusable', () => {
  const cfg = JSON.parse(JSON.stringify(SMALL));
  cfg.flags.checkout.allocations[0].rules[0].conditions[0] = { attribute: 'version', operator: 'GT', value: '1.2.3' };
  const r = compileSql(compileConfig(cfg), { dialect: 'duckdb', atMs: AT, columns: new Map([['version', 'string']]) });
  assert.deepEqual(r.refused.map((x) => x.flag), ['checkout']);
  assert.match(r.refused[0].reason, /semver/);
  // On a column that is not a string, a semver comparison is simply false: compiled.
  const r2 = compileSql(compileConfig(cfg), { dialect: 'duckdb', atMs: AT, columns: new Map([['version', 'double']]) });
  assert.deepEqual(r2.refused, []);
  // Output columns that differ only by case would clash in DuckDB, BigQuery and Spark: the later flag is refused.
  const twins = JSON.parse(JSON.stringify(SMALL));
  twins.flags.LIMITS = twins.flags.limits;
  const r3 = compileSql(compileConfig(twins), { dialect: 'duckdb', atMs: AT, columns: SMALL_COLUMNS });
  assert.deepEqual(r3.refused.map((x) => x.flag), ['LIMITS']);
  assert.match(r3.refused[0].reason, /collides/);
  if (hasTestData('sql obfuscated')) {
    assert.throws(() => compileSql(compileConfig(readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json')), { dialect: 'duckdb' }), /obfuscated/);
  }
});

/** In-memory CliIO. */
function memoryIO() {
  const out: string[] = [];
  const err: string[] = [];
  const io = { stdout: { write: (s: string) => (out.push(s), true) }, stderr: { write: (s: string) => (err.push(s), true) }, stdin: null } as unknown as CliIO;
  return { io, out, err };
}

t('CLI: exit 0 when everything compiles, 65 with refusals on stderr, 78 for an unusable config, 64 for bad usage', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-'));
  const small = join(dir, 'small.json');
  writeFileSync(small, JSON.stringify(SMALL));
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{"flags": 5}');
  const cols = 'email:string,age:integer,country:string,plan:string';

  let m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', small, '--columns', cols, '--at', '2025-06-01T00:00:00Z'], m.io), 0, m.err.join(''));
  assert.equal(m.out.join(''), readFileSync(join(ROOT, 'test', 'fixtures', 'sql', 'small.duckdb.sql'), 'utf8'));

  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'snowflake', '--config', small, '--columns', cols], m.io), 65);
  assert.match(m.err.join(''), /flag "checkout" refused: MATCHES on attribute "email".*snowflake/);
  assert.match(m.out.join(''), /"limits__value"/);

  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', bad], m.io), 78);
  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', join(dir, 'missing.json')], m.io), 78);
  if (hasTestData('sql cli obfuscated')) {
    m = memoryIO();
    assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', join(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json')], m.io), 78);
    assert.match(m.err.join(''), /obfuscated/);
  }
  for (const args of [
    ['sql', '--config', small],
    ['sql', '--dialect', 'oracle', '--config', small],
    ['sql', '--dialect', 'duckdb'],
    ['sql', '--dialect', 'duckdb', '--config', small, '--at', 'yesterday'],
    ['sql', '--dialect', 'duckdb', '--config', small, '--flags', 'nope'],
    ['sql', '--dialect', 'duckdb', '--config', small, '--columns', 'age:float'],
    ['sql', '--dialect', 'duckdb', '--config', small, '--bogus'],
  ]) {
    m = memoryIO();
    assert.equal(await main(args, m.io), 64, args.join(' '));
  }
});

t.run();
