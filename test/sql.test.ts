// `saltshard sql`: golden text and syntax shape of every dialect, the shard expression in DuckDB, the semver and
// regex translations, refusals and the CLI. Execution against Eppo's evaluator on real engines: sql-engines.test.ts.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { compileConfig } from '../src/config/compile.ts';
import { main } from '../src/cli.ts';
import { type CliIO } from '../src/cli/common.ts';
import { type ColumnType, compileSql } from '../src/sql/compile.ts';
import { DIALECTS, DIALECT_NAMES, type DialectName } from '../src/sql/dialects.ts';
import { toSqlRegex } from '../src/sql/regex.ts';
import { semverPattern } from '../src/sql/semver.ts';
import { compareSemver, parseSemver } from '../src/config/semver.ts';
import { Rng } from './gen-config.ts';
import { ROOT, TEST_DATA, hasTestData, readText } from './support.ts';

const t = suite('sql');

type DuckCon = { runAndReadAll(sql: string): Promise<{ getRowObjectsJson(): Record<string, unknown>[] }>; run(sql: string): Promise<unknown> };
let con: DuckCon | null = null;
try {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  con = (await (await DuckDBInstance.create(':memory:')).connect()) as unknown as DuckCon;
} catch (err) {
  console.log(`SKIP sql execution tests: @duckdb/node-api does not load on this runtime (${(err as Error).message})`);
}

const duck = DIALECTS.duckdb;

// Execution on DuckDB, ClickHouse and PostgreSQL against Eppo's evaluator: test/sql-engines.test.ts.
if (con) {
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
  postgres: `(('x' || substr(md5('traffic-' || t."subject_key"), 1, 8))::bit(32)::bigint % 10000)`,
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
    checkShape(r.sql, name !== 'duckdb' && name !== 'trino' && name !== 'postgres');
    const d = DIALECTS[name];
    const q = d.ident('x').slice(0, 1);
    assert.ok(r.sql.includes(`${q}limits__variation_key${q}`));
    // Snowflake cannot take "$" exactly: the flag is refused there, compiled everywhere else.
    if (name === 'snowflake') assert.deepEqual(r.refused.map((x) => x.flag), ['checkout']);
    else assert.deepEqual(r.refused, []);
  });
}

t('integer columns beyond 2^53: ONE_OF and comparisons see the JS number a 64-bit value becomes (DuckDB)', async () => {
  if (!con) return;
  const P = 2n ** 53n;
  const values = [P - 1n, P, P + 1n, P + 2n, P + 3n, 2n * P + 1n, 2n * P + 2n, 2n * P + 3n, -P - 1n, -P, -P - 2n, -P - 3n, 2n ** 63n - 1n, 2n ** 63n - 512n, 2n ** 63n - 513n, -(2n ** 63n), 0n, 5n];
  const comparands = ['9007199254740992', '9007199254740994', '18014398509481984', '-9007199254740992', '9223372036854775808', '-9223372036854775808', '5', '1e+21'];
  const rows = values.map((v) => `(${duck.str(String(v))}, CAST('${v}' AS BIGINT))`).join(', ');
  await con.run(`CREATE TABLE big_ints (subject_key VARCHAR, n BIGINT); INSERT INTO big_ints VALUES ${rows}`);
  let checked = 0;
  for (const op of ['ONE_OF', 'NOT_ONE_OF', 'GT', 'GTE', 'LT', 'LTE'] as const) {
    for (const c of comparands) {
      const value = op.endsWith('ONE_OF') ? [c] : Number(c);
      const cfg = { createdAt: '2024-01-01T00:00:00Z', format: 'SERVER', environment: { name: 't' }, flags: { f: { key: 'f', enabled: true, variationType: 'STRING', totalShards: 10, variations: { on: { key: 'on', value: 'on' } }, allocations: [{ key: 'a', doLog: false, rules: [{ conditions: [{ attribute: 'n', operator: op, value }] }], splits: [{ variationKey: 'on', shards: [] }] }] } } };
      const r = compileSql(compileConfig(cfg), { dialect: 'duckdb', table: 'big_ints', atMs: AT, columns: new Map([['n', 'integer']]) });
      assert.deepEqual(r.refused, []);
      const out: Record<string, unknown>[] = (await con.runAndReadAll(r.sql)).getRowObjectsJson();
      for (const row of out) {
        const x: number = Number(BigInt(row.subject_key as string));
        const b = Number(c);
        const want: boolean = op === 'ONE_OF' ? String(x) === c : op === 'NOT_ONE_OF' ? String(x) !== c : op === 'GT' ? x > b : op === 'GTE' ? x >= b : op === 'LT' ? x < b : x <= b;
        assert.equal(row.f__reason === 'MATCH', want, `${row.subject_key} ${op} ${c}`);
        checked++;
      }
    }
  }
  assert.equal(checked, values.length * comparands.length * 6);
});

t('--schema-from a Parquet file: typed columns without --columns, exact in DuckDB; other types refuse naming the condition', async () => {
  if (!con) return;
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const { offlineInit } = await import('../src/mod.ts');
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-schema-'));
  const P = 2 ** 53;
  const subjects = [
    { key: 'a', age: 17n, score: 1.5, beta: true, country: 'US', extra: { x: 1 } },
    { key: 'b', age: 18n, score: 0.1, beta: false, country: 'CA', extra: null },
    { key: 'c', age: 2n ** 53n + 1n, score: -3, beta: true, country: 'FR', extra: null },
    { key: 'd', age: null, score: null, beta: null, country: null, extra: null },
  ];
  const file = join(dir, 'subjects.parquet');
  writeFileSync(file, new Uint8Array(parquetWriteBuffer({ columnData: [
    { name: 'subject_key', data: subjects.map((x) => x.key), type: 'STRING' },
    { name: 'age', data: subjects.map((x) => x.age), type: 'INT64', nullable: true },
    { name: 'score', data: subjects.map((x) => x.score), type: 'DOUBLE', nullable: true },
    { name: 'beta', data: subjects.map((x) => x.beta), type: 'BOOLEAN', nullable: true },
    { name: 'country', data: subjects.map((x) => x.country), type: 'STRING', nullable: true },
    { name: 'extra', data: subjects.map((x) => x.extra), type: 'JSON', nullable: true },
  ] })));
  const flag = (key: string, conditions: unknown[]) => ({ key, enabled: true, variationType: 'STRING', totalShards: 10, variations: { on: { key: 'on', value: 'on' } }, allocations: [{ key: 'a', doLog: false, rules: [{ conditions }], splits: [{ variationKey: 'on', shards: [] }] }] });
  const cfg = { createdAt: '2024-01-01T00:00:00Z', format: 'SERVER', environment: { name: 't' }, flags: {
    adult: flag('adult', [{ attribute: 'age', operator: 'GTE', value: 18 }]),
    big: flag('big', [{ attribute: 'age', operator: 'ONE_OF', value: [String(P)] }]),
    score: flag('score', [{ attribute: 'score', operator: 'GT', value: 1 }]),
    beta: flag('beta', [{ attribute: 'beta', operator: 'ONE_OF', value: ['true'] }]),
    us: flag('us', [{ attribute: 'country', operator: 'MATCHES', value: '^U' }]),
    json: flag('json', [{ attribute: 'extra', operator: 'ONE_OF', value: ['x'] }]),
  } };
  const cfgFile = join(dir, 'flags.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  await con.run(`CREATE TABLE pq AS SELECT * FROM read_parquet(${duck.str(file)})`);
  const m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--table', 'pq', '--schema-from', file], m.io), 65);
  assert.match(m.err.join(''), /flag "json" refused: a condition on attribute "extra": its column type JSON has no exact comparison/);
  const rows: Record<string, unknown>[] = (await con.runAndReadAll(m.out.join(''))).getRowObjectsJson();
  const client = offlineInit({ flagsConfiguration: JSON.stringify(cfg), assignmentLogger: null });
  let compared = 0;
  for (const row of rows) {
    const x = subjects.find((y) => y.key === row.subject_key)!;
    const attributes = { age: x.age === null ? null : Number(x.age), score: x.score, beta: x.beta, country: x.country };
    for (const f of ['adult', 'big', 'score', 'beta', 'us']) {
      assert.equal(row[`${f}__reason`], client.evaluate(f, x.key, attributes).code, `${f} ${x.key}`);
      compared++;
    }
  }
  assert.equal(compared, 20);
  assert.equal(rows.find((r) => r.subject_key === 'c')!.big__reason, 'MATCH'); // 2^53 + 1 is 2^53 to the SDK
  await con.run('DROP TABLE pq');
});

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

t('semver patterns: the anchored regex answers exactly what npm-semver parsing and ordering answer', () => {
  const rng = new Rng(7);
  const ids = ['0', '1', '2', '9', '10', '11', '99', '100', '01', 'a', 'b', 'A', 'Z', 'z', '-', 'a1', '1a', 'alpha', 'beta', 'rc', 'alpha1', 'x-y', '--', '9007199254740993', ''];
  const nums = ['0', '1', '2', '9', '10', '19', '20', '99', '100', '101', '999', '01', '00', '9007199254740991', '9007199254740992', '12345678901234567', '10000000000000000'];
  const ws = ['', ' ', '\t', '\n', '\u00a0', '\u2028', '\ufeff', '\u3000', '\u0085', 'x'];
  const version = () => {
    let v = `${rng.chance(0.2) ? rng.pick(['v', 'V', '=']) : ''}${rng.pick(nums)}.${rng.pick(nums)}.${rng.pick(nums)}`;
    if (rng.chance(0.5)) v += `-${Array.from({ length: rng.range(1, 3) }, () => rng.pick(ids)).join('.')}`;
    if (rng.chance(0.2)) v += `+${rng.pick(['b', 'build.1', '001', 'x..y', ''])}`;
    if (rng.chance(0.05)) v = rng.pick(['1.2', '1.2.3.4', '1..2', 'a.b.c', '1.2.3-', '']);
    return `${rng.pick(ws)}${v}${rng.pick(ws)}`;
  };
  let checked = 0;
  let held = 0;
  for (let i = 0; i < 400; i++) {
    const c = parseSemver(version());
    if (c === null) continue;
    for (const op of ['GT', 'GTE', 'LT', 'LTE'] as const) {
      const p = semverPattern(op, c);
      if (!p.ok) {
        assert.ok(c.prerelease.some((x) => typeof x === 'string' && /^[0-9]+$/.test(x)), p.reason);
        continue;
      }
      const re = new RegExp(`^(?:${p.pattern || '(?!)'})$`);
      for (let j = 0; j < 40; j++) {
        const v = version();
        const a = parseSemver(v);
        const want: boolean = a !== null && (op === 'GT' ? compareSemver(a, c) > 0 : op === 'GTE' ? compareSemver(a, c) >= 0 : op === 'LT' ? compareSemver(a, c) < 0 : compareSemver(a, c) <= 0);
        assert.equal(re.test(v) && v.length <= 256, want, `${JSON.stringify(v)} ${op} ${JSON.stringify(c)}`);
        checked++;
        if (want) held++;
      }
    }
  }
  assert.ok(checked > 10000 && held > checked / 20, `${checked} checked, ${held} held`);
});

t('regex: translations per engine and text mode, refusals by named reason', () => {
  type Args = Parameters<typeof toSqlRegex>;
  const ok = (src: string, flavor: Args[1], mode: Args[2]) => {
    const r = toSqlRegex(src, flavor, mode);
    assert.ok(r.ok, `${src} on ${flavor}/${mode}: ${r.ok ? '' : r.reason}`);
    return r.pattern;
  };
  const no = (src: string, flavor: Args[1], mode: Args[2], kind: string, why?: RegExp) => {
    const r = toSqlRegex(src, flavor, mode);
    assert.ok(!r.ok, `${src} on ${flavor}/${mode} should be refused`);
    assert.equal(r.kind, kind, r.reason);
    if (why) assert.match(r.reason, why);
  };
  // Unit views: surrogate units are the code points U+F0000 + (unit - 0xD800).
  assert.equal(ok('^a.b$', 're2', 'units'), '^a[^\\x{A}\\x{D}\\x{2028}\\x{2029}]b$');
  assert.equal(ok('\\uD83E\\uDD17', 're2', 'units'), '\\x{F003E}\\x{F0517}');
  assert.equal(ok('\\uD83E\\uDD17', 'postgres', 'units'), '\\U000F003E\\U000F0517');
  assert.equal(ok('[[:alpha:]]', 're2', 'units'), '[\\x{3A}\\x{5B}ahlp]\\]');
  assert.equal(ok('\\u00e9|é', 're2', 'units'), '\\x{E9}|\\x{E9}');
  assert.ok(ok('[\\S]+@', 're2', 'units').startsWith('[^\\x{9}-\\x{D}'));
  assert.equal(ok('ban\\k', 're2', 'units'), 'bank');
  assert.equal(ok('(x|\\01)+', 're2', 'units'), '(?:x|\\x{1})+');
  assert.equal(ok('[a-\\d]+x', 'postgres', 'units'), '[\\u002D0-9a]+x');
  assert.equal(ok('[\\s\\S]', 'postgres', 'units'), '.');
  assert.equal(ok('x{300}', 'postgres', 'units'), 'x{255}x{45}');
  assert.match(ok('\\bUS\\b', 'postgres', 'units'), /^\(\?:\(\?<=\[0-9A-Za-z_\]\)/);
  // Text as code points (dialects not executed here): only what cannot depend on UTF-16 units.
  assert.equal(ok('a.*b$', 'java', 'codepoints'), 'a[^\\x0A\\x0D\\u2028\\u2029]*b\\z');
  assert.equal(ok('^a.+b$', 'joni', 'codepoints'), '\\Aa[^\\x0A\\x0D\\u2028\\u2029]+b\\z');
  assert.equal(ok('^.+@x\\.com$', 're2', 'codepoints'), '^[^\\x{A}\\x{D}\\x{2028}\\x{2029}]+@x\\.com$');
  assert.equal(ok('(?:ab)+?x{2}', 'posix', 'codepoints'), '(ab)+x{2}');
  const units = 'regex answer depends on UTF-16 units of non-BMP text';
  for (const src of ['^..$', 'a.b', '\\uD83E', '.+.+', '\\B', '[^a]{2}', '\\b.+', '(?:.*a)+']) no(src, 're2', 'codepoints', units);
  // Decimal text of an integer has no astral characters.
  assert.equal(ok('^..$', 'java', 'bmp'), '^[^\\x0A\\x0D\\u2028\\u2029][^\\x0A\\x0D\\u2028\\u2029]\\z');
  const syntax = 'regex construct the engine lacks';
  no('(a)\\1', 're2', 'units', 'regex backreference');
  no('(?<n>a)\\k<n>', 'postgres', 'units', 'regex backreference');
  no('(?=a)', 're2', 'units', 'regex lookaround');
  no('(?<!a)b', 'postgres', 'units', 'regex lookaround');
  no('a$', 'posix', 'codepoints', syntax, /\$/);
  no('\\bUS\\b', 'java', 'codepoints', syntax, /word boundaries/);
  no('(?:x{1000}){30}', 're2', 'units', 'regex too large for the engine');
  // RE2 refuses nested counted repeats whose counts multiply beyond 1000; PostgreSQL takes them.
  no('(?:a{2}){501}', 're2', 'units', 'regex too large for the engine', /RE2's limit/);
  assert.equal(ok('(?:a{2}){501}', 'postgres', 'units'), '(?:a{2}){255}(?:a{2}){246}');
  assert.equal(ok('(?:a{2}){499}', 're2', 'units'), '(?:a{2}){499}');
});

t('refusals name the flag and the reason; obfuscated configs are unusable', () => {
  const cfg = JSON.parse(JSON.stringify(SMALL));
  // A numeric prerelease identifier beyond 2^53 is compared as a rounded double by npm semver: refused.
  cfg.flags.checkout.allocations[0].rules[0].conditions[0] = { attribute: 'version', operator: 'GT', value: '1.2.3-99999999999999999' };
  const r = compileSql(compileConfig(cfg), { dialect: 'duckdb', atMs: AT, columns: new Map([['version', 'string']]) });
  assert.deepEqual(r.refused.map((x) => x.flag), ['checkout']);
  assert.match(r.refused[0].reason, /GT on attribute "version" \(string column\): a numeric prerelease identifier/);
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
  assert.equal(await main(['sql', '--dialect', 'clickhouse', '--config', small, '--columns', cols, '--materialize', 'db.assigned'], m.io), 0, m.err.join(''));
  assert.match(m.out.join(''), /\nCREATE TABLE `db`\.`assigned` ENGINE = MergeTree ORDER BY tuple\(\) AS\nSELECT\n/);

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
    ['sql', '--dialect', 'duckdb', '--config', small, '--materialize', ''],
    ['sql', '--dialect', 'duckdb', '--config', small, '--layout', 'tall'],
  ]) {
    m = memoryIO();
    assert.equal(await main(args, m.io), 64, args.join(' '));
  }
});

t('CLI: --flag (repeatable) and --flags-file select any flag key, in the order given; refusals counted per reason', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-flags-'));
  const keys = ['a,b', 'say "hi"', "it's", 'back\\slash`tick', '🤗 emoji', 'line\nbreak', 'plain'];
  const flag = (key: string, i: number): Record<string, unknown> => ({ key, enabled: true, variationType: 'STRING', totalShards: 10, variations: { [`v${i}`]: { key: `v${i}`, value: `value of ${key}` } }, allocations: [{ key: 'all', doLog: true, splits: [{ variationKey: `v${i}`, shards: [] }] }] });
  const cfg = { createdAt: '2024-01-01T00:00:00Z', format: 'SERVER', environment: { name: 't' }, flags: Object.fromEntries(keys.map((k, i) => [k, flag(k, i)])) };
  cfg.flags['(a)\\1'] = { ...flag('(a)\\1', 9), allocations: [{ key: 'r', doLog: true, rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '(a)\\1' }] }], splits: [{ variationKey: 'v9', shards: [] }] }] };
  const cfgFile = join(dir, 'flags.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const jsonList = join(dir, 'keys.json');
  writeFileSync(jsonList, JSON.stringify(['line\nbreak', '🤗 emoji']));
  const lineList = join(dir, 'keys.txt');
  writeFileSync(lineList, "it's\r\nback\\slash`tick\n\n");
  const want = ['plain', 'a,b', 'say "hi"', 'line\nbreak', '🤗 emoji'];
  let m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--flags', 'plain', '--flag', 'a,b', '--flag', 'say "hi"', '--flags-file', jsonList], m.io), 0, m.err.join(''));
  const sql = m.out.join('');
  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--flags-file', lineList, '--flag', "it's"], m.io), 0, m.err.join(''));
  const sql2 = m.out.join('');
  if (con) {
    await con.run(`CREATE TABLE subjects AS SELECT * FROM (VALUES ('s1'), ('s2')) AS t(subject_key)`);
    const rows = (await con.runAndReadAll(sql)).getRowObjectsJson();
    assert.deepEqual(Object.keys(rows[0]), ['subject_key', ...want.flatMap((k) => [`${k}__variation_key`, `${k}__value`, `${k}__allocation_key`, `${k}__reason`])]);
    for (const k of want) assert.equal(rows[1][`${k}__value`], `value of ${k}`, JSON.stringify(rows[1]));
    const rows2 = (await con.runAndReadAll(sql2)).getRowObjectsJson();
    assert.deepEqual(Object.keys(rows2[0]).filter((c) => c.endsWith('__reason')), ["it's__reason", 'back\\slash`tick__reason']);
    await con.run('DROP TABLE subjects');
  }
  // A refused flag is named (escaped) with its reason, and the summary counts refusals per reason.
  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--flag', '(a)\\1', '--flag', 'line\nbreak'], m.io), 65);
  const err = m.err.join('');
  assert.match(err, /flag "\(a\)\\\\1" refused: MATCHES on attribute "email" \(string column\): pattern \/\(a\)\\1\/: backreferences/);
  assert.match(err, /1 flag\(s\) compiled, 1 refused \(duckdb\): 1 regex backreference\n$/);
  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--flag', 'a'], m.io), 64);
  assert.match(m.err.join(''), /no flag "a" in the config/);
  m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--flags-file', join(dir, 'missing.txt')], m.io), 66);
});

t('--schema-from a CSV sample: columns typed as assign types the cells; the long layout equals assign on that CSV (DuckDB)', async () => {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { parquetReadObjects } = await import('hyparquet');
  const { readSchema, engineType } = await import('../src/sql/schema.ts');
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-csv-'));
  const sample = join(dir, 'sample.csv');
  writeFileSync(sample, [
    'subject_key,age,score,beta,country,code,empty',
    'a,17,0.5,true,US,12,',
    'b,42,3,false,"Canada, eh",abc,',
    'c,,-1.25,,FR,7,',
    'd,9007199254740991,1e+21,true,é🤗,x1,',
  ].join('\n'));
  const schema = await readSchema(sample, 'sample', 'subject_key');
  assert.deepEqual(Object.fromEntries(schema.columns), { age: 'integer', score: 'double', beta: 'boolean', country: 'string', code: 'string', empty: 'string' });
  for (const [name, want] of [['Nullable(Int64)', 'integer'], ['LowCardinality(Nullable(String))', 'string'], ['double precision', 'double'], ['NUMBER(38,0)', null], ['DECIMAL(10,2)', null], ['UInt64', null], ['character(3)', null], ['VARCHAR(16777216)', 'string'], ['BOOL', 'boolean']] as const) {
    assert.equal(engineType(name), want, name);
  }
  const flag = (key: string, conditions: unknown[]) => ({ key, enabled: true, variationType: 'STRING', totalShards: 10, variations: { on: { key: 'on', value: 'on' } }, allocations: [{ key: 'a', doLog: true, rules: [{ conditions }], splits: [{ variationKey: 'on', shards: [] }] }] });
  const cfg = { createdAt: '2024-01-01T00:00:00Z', format: 'SERVER', environment: { name: 't' }, flags: {
    adult: flag('adult', [{ attribute: 'age', operator: 'GTE', value: 18 }]),
    score: flag('score', [{ attribute: 'score', operator: 'LT', value: 1 }]),
    beta: flag('beta', [{ attribute: 'beta', operator: 'ONE_OF', value: ['true'] }]),
    emoji: flag('emoji', [{ attribute: 'country', operator: 'MATCHES', value: '^..$' }]),
    code: flag('code', [{ attribute: 'code', operator: 'ONE_OF', value: ['12', 'x1'] }]),
  } };
  const cfgFile = join(dir, 'flags.json');
  writeFileSync(cfgFile, JSON.stringify(cfg));
  const m = memoryIO();
  assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--table', 'sample', '--key-column', 'subject_key', '--schema-from', sample, '--layout', 'long'], m.io), 0, m.err.join(''));
  const a = memoryIO();
  assert.equal(await main(['assign', '--config', cfgFile, '--input', sample, '--key', 'subject_key', '--output', join(dir, 'out.parquet'), '--workers', '1'], a.io), 0, a.err.join(''));
  const buf = readFileSync(join(dir, 'out.parquet'));
  const want = await parquetReadObjects({ file: buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength) as ArrayBuffer });
  if (con) {
    // The warehouse table loaded from the same CSV, types detected by the engine.
    await con.run(`CREATE TABLE sample AS SELECT * FROM read_csv(${duck.str(sample)}, header = true)`);
    const got = (await con.runAndReadAll(m.out.join(''))).getRowObjectsJson();
    await con.run('DROP TABLE sample');
    const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
    assert.equal(got.length, 20);
    assert.deepEqual(sorted(got), sorted(want as Record<string, unknown>[]));
  }
});

if (con) {
  t('--schema-from a DuckDB database file: the live engine describes the table; the SQL runs on it', async () => {
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { DuckDBInstance } = await import('@duckdb/node-api');
    const { readSchema } = await import('../src/sql/schema.ts');
    const dir = mkdtempSync(join(tmpdir(), 'saltshard-sql-duckdb-'));
    const db = join(dir, 'warehouse.duckdb');
    let instance = await DuckDBInstance.create(db);
    let c = await instance.connect();
    await c.run('CREATE SCHEMA crm');
    await c.run(`CREATE TABLE crm."Subjects" (subject_key VARCHAR, age BIGINT, score DOUBLE, beta BOOLEAN, country VARCHAR, price DECIMAL(10, 2))`);
    await c.run(`INSERT INTO crm."Subjects" VALUES ('a', 17, 0.5, true, 'US', 1.5), ('b', 42, 3, false, 'FR', NULL)`);
    c.closeSync();
    instance.closeSync();
    const schema = await readSchema(db, 'crm.Subjects', 'subject_key');
    assert.deepEqual(Object.fromEntries(schema.columns), { age: 'integer', score: 'double', beta: 'boolean', country: 'string' });
    assert.deepEqual(Object.fromEntries(schema.unsupported), { price: 'DECIMAL(10,2)' });
    const cfgFile = join(dir, 'flags.json');
    writeFileSync(cfgFile, JSON.stringify(SMALL));
    const m = memoryIO();
    assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--table', 'crm.Subjects', '--schema-from', db, '--layout', 'wide'], m.io), 0, m.err.join(''));
    instance = await DuckDBInstance.create(db);
    c = await instance.connect();
    const rows = (await c.runAndReadAll(m.out.join(''))).getRowObjectsJson();
    c.closeSync();
    instance.closeSync();
    assert.deepEqual(rows.map((r) => Object.keys(r)), [['subjectKey', 'checkout', 'limits'], ['subjectKey', 'checkout', 'limits']]);
    // An unknown table is a clear error, exit 65.
    const bad = memoryIO();
    assert.equal(await main(['sql', '--dialect', 'duckdb', '--config', cfgFile, '--table', 'nope', '--schema-from', db], bad.io), 65);
    assert.match(bad.err.join(''), /cannot read the schema of .*warehouse\.duckdb: .*nope/);
  });
}

t.run();
