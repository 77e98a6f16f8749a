#!/usr/bin/env node
// Benchmark of bulk assignment (not a test): `saltshard assign` end to end beside the SQL that `saltshard sql` generates
// for the same config, executed in DuckDB and ClickHouse, over the same subjects.
// - Input: a generated CSV of N subjects (bench/fixtures.ts's subjects: subjectKey, email, country, age) and the 3-flag
//   workload config.
// - saltshard assign --layout long|wide, 2 workers (--workers), CSV file → CSV file.
// - `saltshard sql --dialect duckdb|clickhouse --layout long|wide --materialize T` as generated, run in DuckDB
//   (@duckdb/node-api, 2 threads, a database file) and ClickHouse (chdb from the test-only package test/engines, a
//   MergeTree table in a session directory): CREATE TABLE … AS over a `subjects` table loaded from the same CSV (the
//   load is timed once, apart from the queries). Without chdb its rows say so.
// - DuckDB computing only the md5 shard expression of each salt, CSV → CSV (the issue #5 reference).
// Before anything is timed, one untimed pass checks every engine's table against saltshard assign's output, every row:
// the same column names, the same row count, and the same sum of a 64-bit hash of each row's cells as text, the engine
// computing it identically over its table and over saltshard's CSV file; a mismatch stops the bench. Then ROUNDS
// alternated rounds (each table dropped and each file deleted before the next run, row counts checked); medians.
// Usage: npm run build && node bench/assign.mjs [ROWS] [--workers N] [--rounds 3] [--keep] [--check]
//   --check: the validation pass only (no timing, no results file; test/bench-assign.test.ts runs it on 10,000 rows).
//   ROWS defaults to $BENCH_ASSIGN_ROWS or 10,000,000. Writes bench/assign-results.md (folded into BENCHMARKS.md by
//   bench/run.mjs), then runs bench/parquet.mjs (Parquet in and out vs CSV), which adds its section to it.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCohortCsv } from './cohort.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && !['--workers', '--rounds'].includes(args[i - 1])) ?? process.env.BENCH_ASSIGN_ROWS ?? 10_000_000);
const workers = opt('--workers', '2'); // like the engines' 2 threads
const ROUNDS = Number(opt('--rounds', '3'));
const keep = args.includes('--keep');
const check = args.includes('--check');
const LAYOUTS = ['long', 'wide'];
const outRows = { long: rows * 3, wide: rows };
const load = () => loadavg().map((x) => x.toFixed(1)).join(' / ');
const loadStart = load();
console.log(`load average (1 / 5 / 15 min) at start: ${loadStart}`);

const { workloadUfc, rng } = await import(join(root, 'dist', 'bench', 'fixtures.js'));
const dir = mkdtempSync(join(tmpdir(), 'saltshard-bench-assign-'));
// The scratch directory (GBs) goes when the process ends, however it ends, unless --keep or a mismatch keeps it.
let keepDir = keep;
process.on('exit', () => {
  if (keepDir) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});
const config = workloadUfc();
const flagsFile = join(dir, 'flags.json');
writeFileSync(flagsFile, JSON.stringify(config));
const salts = [...new Set(Object.values(config.flags).flatMap((f) => f.allocations.flatMap((a) => a.splits.flatMap((s) => s.shards.map((x) => x.salt)))))];

// The same subjects as makeSubjects() in bench/fixtures.ts, streamed to the file.
const input = join(dir, 'subjects.csv');
{
  const t0 = performance.now();
  await writeCohortCsv(rng, rows, input);
  console.log(`input: ${rows.toLocaleString()} rows, ${(statSync(input).size / 1e6).toFixed(0)} MB CSV (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s); flags: ${Object.keys(config.flags).length}; salts: ${salts.join(', ')}`);
}
const inputMB = (statSync(input).size / 1e6).toFixed(0);
const ATTRIBUTES = 'email:string,country:string,age:integer';

/** Runs the saltshard CLI; exits the bench on failure. */
function cli(argv) {
  const t = performance.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'saltshard'), ...argv], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) {
    console.error(`saltshard ${argv[0]} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
    process.exit(1);
  }
  return { ...r, secs: (performance.now() - t) / 1000 };
}
const ourFile = (layout) => join(dir, `saltshard-${layout}.csv`);
let summary = '';
/** One saltshard assign run to ourFile(layout); its wall time in seconds (the file is left for the caller). */
function saltshard(layout) {
  rmSync(ourFile(layout), { force: true });
  const r = cli(['assign', '--config', flagsFile, '--input', input, '--output', ourFile(layout), '--format', 'csv', '--layout', layout, '--workers', workers]);
  if (layout === 'long') summary = r.stderr.split('\n').find((l) => l.startsWith('saltshard: rows in')) ?? '';
  return r.secs;
}

// ------------------------------------------------------------------ engines

const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;
const TABLE = (layout) => `assigned_${layout}`;
const engines = [];
{
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const con = await (await DuckDBInstance.create(join(dir, 'warehouse.duckdb'), { threads: '2' })).connect();
  const ident = (s) => `"${s.replaceAll('"', '""')}"`;
  engines.push({
    name: 'DuckDB',
    dialect: 'duckdb',
    setup: 'DuckDB 2 threads, database file',
    run: async (sql) => void (await con.run(sql)),
    rows: async (sql) => (await con.runAndReadAll(sql)).getRowsJson().map((r) => r.map(String)),
    load: [`CREATE TABLE subjects AS SELECT * FROM read_csv(${sqlString(input)}, header = true, columns = {'subjectKey': 'VARCHAR', 'email': 'VARCHAR', 'country': 'VARCHAR', 'age': 'BIGINT'})`],
    columns: (table) => `SELECT column_name FROM information_schema.columns WHERE table_name = ${sqlString(table)} ORDER BY ordinal_position`,
    csv: (path) => `read_csv(${sqlString(path)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"')`,
    digest: (cols, from) => `SELECT count(*), sum(hash(${cols.map((c) => `CAST(${ident(c)} AS VARCHAR)`).join(', ')})) FROM ${from}`,
    drop: (table) => `DROP TABLE IF EXISTS ${ident(table)}`,
    close: () => con.closeSync(),
  });
}
{
  const enginesRequire = createRequire(join(root, 'test', 'engines', 'package.json'));
  let chdb = null;
  try {
    chdb = enginesRequire(enginesRequire.resolve('chdb'));
  } catch (err) {
    console.log(`SKIP ClickHouse: chdb is not installed (npm install --prefix test/engines, as .ci/setup.d/16-engines.sh does): ${err.message.split('\n')[0]}`);
  }
  if (chdb !== null) {
    const session = new chdb.Session(join(dir, 'chdb'));
    const ident = (s) => `\`${s.replaceAll('\\', '\\\\').replaceAll('`', '\\`')}\``;
    const read = async (sql) => session.query(sql, 'TabSeparated').split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
    const structure = 'subjectKey String, email String, country String, age Int64';
    engines.push({
      name: 'ClickHouse',
      dialect: 'clickhouse',
      setup: `ClickHouse ${(await read("SELECT version(), getSetting('max_threads')"))[0].join(' (chdb), max_threads ')}, MergeTree`,
      run: async (sql) => void session.query(sql, 'CSV'),
      rows: read,
      load: [`CREATE TABLE subjects (${structure}) ENGINE = MergeTree ORDER BY tuple()`, `INSERT INTO subjects SELECT * FROM file(${sqlString(input)}, 'CSVWithNames', ${sqlString(structure)})`],
      columns: (table) => `SELECT name FROM system.columns WHERE database = currentDatabase() AND table = ${sqlString(table)} ORDER BY position`,
      csv: (path, cols) => `file(${sqlString(path)}, 'CSVWithNames', ${sqlString(cols.map((c) => `${ident(c)} Nullable(String)`).join(', '))})`,
      digest: (cols, from) => `SELECT count(), sum(toUInt128(cityHash64(${cols.map((c) => `ifNull(toString(${ident(c)}), '\\N')`).join(', ')}))) FROM ${from}`,
      drop: (table) => `DROP TABLE IF EXISTS ${ident(table)} SYNC`,
      close: () => session.close(),
    });
  }
}

// The generated SQL, as a user gets it: one CREATE TABLE … AS per dialect and layout.
for (const e of engines) {
  e.sql = {};
  for (const layout of LAYOUTS) {
    e.sql[layout] = cli(['sql', '--dialect', e.dialect, '--config', flagsFile, '--table', 'subjects', '--key-column', 'subjectKey', '--columns', ATTRIBUTES, '--layout', layout, '--materialize', TABLE(layout)]).stdout;
  }
  const t = performance.now();
  for (const stmt of e.load) await e.run(stmt);
  e.loadSecs = (performance.now() - t) / 1000;
  const [[n]] = await e.rows('SELECT count(*) FROM subjects');
  if (Number(n) !== rows) throw new Error(`${e.name}: loaded ${n} subjects, expected ${rows}`);
  console.log(`${e.setup}: loaded ${rows.toLocaleString()} subjects from the CSV in ${e.loadSecs.toFixed(2)} s`);
}
/** One materialization; its wall time in seconds. The row count is checked after the clock stops. */
async function materialize(e, layout) {
  await e.run(e.drop(TABLE(layout)));
  const t = performance.now();
  await e.run(e.sql[layout]);
  const secs = (performance.now() - t) / 1000;
  const [[n]] = await e.rows(`SELECT count(*) FROM ${TABLE(layout)}`);
  if (Number(n) !== outRows[layout]) throw new Error(`${e.name} --layout ${layout}: ${n} rows, expected ${outRows[layout]}`);
  return secs;
}

// ------------------------------------------------------------------ validation (untimed)

for (const layout of LAYOUTS) {
  saltshard(layout);
  const head = Buffer.alloc(4096);
  const fd = openSync(ourFile(layout));
  const header = head.subarray(0, readSync(fd, head)).toString('utf8').split('\n')[0].split(',');
  closeSync(fd);
  for (const e of engines) {
    await materialize(e, layout);
    const cols = (await e.rows(e.columns(TABLE(layout)))).map((r) => r[0]);
    if (cols.join(',') !== header.join(',')) throw new Error(`${e.name} --layout ${layout}: columns ${cols.join(', ')}; saltshard assign wrote ${header.join(', ')}`);
    const digest = async (from) => (await e.rows(e.digest(cols, from)))[0].join(' rows, hash sum ');
    const engineDigest = await digest(TABLE(layout));
    const fileDigest = await digest(e.csv(ourFile(layout), cols));
    console.log(`validate ${e.name} --layout ${layout}: ${engineDigest} (table) vs ${fileDigest} (saltshard assign's file)`);
    if (engineDigest !== fileDigest || !engineDigest.startsWith(`${outRows[layout]} rows`)) {
      console.error(`MISMATCH: ${e.name} --layout ${layout} differs from saltshard assign; stopping (files kept)`);
      keepDir = true;
      process.exit(1);
    }
    await e.run(e.drop(TABLE(layout)));
  }
  rmSync(ourFile(layout), { force: true });
}
/** Parquet in and out vs CSV (bench/parquet.mjs, its own cohort of $BENCH_PARQUET_ROWS, default 1 M): its section of assign-results.md. */
function parquetBench() {
  const r = spawnSync(process.execPath, [join(root, 'bench', 'parquet.mjs'), ...(check ? [String(Math.min(rows, 10_000)), '--check'] : [])], { stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`bench/parquet.mjs failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}
if (check) {
  console.log(`check passed: ${engines.map((e) => e.name).join(' and ')} equal to saltshard assign in both layouts`);
  for (const e of engines) e.close();
  parquetBench();
  process.exit(0);
}

// ------------------------------------------------------------------ timed rounds

// Alternated ROUNDS times, each output deleted (file) or dropped (table) before the next run; medians are reported.
// (A fresh 2 GB file can cost 0.3 s or 5 s of kernel time on this VM depending on the page cache, so one run of each
// is not enough.)
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const times = {};
const time = (job, secs) => (times[job] ??= []).push(secs);
const bytes = {};
const md5Out = join(dir, 'duckdb-md5.csv');
const md5Cols = salts.map((s, i) => `(('0x' || substr(md5(${sqlString(s)} || '-' || subjectKey), 1, 8))::UBIGINT % 10000) AS shard${i}`).join(', ');
for (let round = 0; round < ROUNDS; round++) {
  for (const layout of LAYOUTS) {
    time(`saltshard ${layout}`, saltshard(layout));
    bytes[layout] = statSync(ourFile(layout)).size;
    rmSync(ourFile(layout), { force: true });
  }
  rmSync(md5Out, { force: true });
  const t = performance.now();
  await engines[0].run(`COPY (SELECT subjectKey, ${md5Cols} FROM read_csv(${sqlString(input)}, header = true)) TO ${sqlString(md5Out)} (HEADER, DELIMITER ',')`);
  time('duckdb md5', (performance.now() - t) / 1000);
  bytes.md5 = statSync(md5Out).size;
  rmSync(md5Out, { force: true });
  for (const e of engines) {
    for (const layout of LAYOUTS) {
      time(`${e.name} ${layout}`, await materialize(e, layout));
      await e.run(e.drop(TABLE(layout)));
    }
  }
  console.log(`round ${round + 1}: ${Object.entries(times).map(([job, xs]) => `${job} ${xs.at(-1).toFixed(2)} s`).join(', ')}`);
}
const loadEnd = load();
console.log(`load average (1 / 5 / 15 min) at end: ${loadEnd}`);
console.log(summary);

const med = Object.fromEntries(Object.entries(times).map(([job, xs]) => [job, median(xs)]));
const M = (n) => `${(n / 1e6).toFixed(2)} M`;
const runs = (job) => times[job].map((x) => x.toFixed(2)).join(', ');
const lines = [];
const row = (what, job, layout, extra) => lines.push(`| ${what} | ${med[job].toFixed(2)} s | ${runs(job)} | ${M(rows / med[job])} | ${M(outRows[layout] / med[job])} | ${extra} |`);
for (const layout of LAYOUTS) {
  const ours = med[`saltshard ${layout}`];
  row(`saltshard assign --layout ${layout}, ${workers} workers, CSV file → CSV file (${(bytes[layout] / 1e6).toFixed(0)} MB)`, `saltshard ${layout}`, layout, '1.00× / 1.00×');
  for (const e of engines) {
    const job = `${e.name} ${layout}`;
    row(`${e.setup}: \`saltshard sql --dialect ${e.dialect} --layout ${layout} --materialize\`, subjects table → new table`, job, layout, `${(med[job] / ours).toFixed(2)}× / ${((med[job] + e.loadSecs) / ours).toFixed(2)}×`);
  }
  if (!engines.some((e) => e.dialect === 'clickhouse')) lines.push(`| ClickHouse, \`--layout ${layout}\` | not measured: chdb not installed | | | | |`);
}
const md5Job = 'duckdb md5';
lines.push(`| DuckDB 2 threads, the ${salts.length} md5 shard expressions only (no rules, no variations), CSV file → CSV file (${(bytes.md5 / 1e6).toFixed(0)} MB) | ${med[md5Job].toFixed(2)} s | ${runs(md5Job)} | ${M(rows / med[md5Job])} | ${M(rows / med[md5Job])} | ${(med[md5Job] / med['saltshard wide']).toFixed(2)}× (vs wide) |`);
const report = [
  `Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs, load average (1 / 5 / 15 min) ${loadStart} at the start and ${loadEnd} at the end (the machine is shared): ${rows.toLocaleString('en-US')} subjects (subjectKey, email, country, age; a ${inputMB} MB CSV), the 3-flag workload (bench/fixtures.ts). Produced by \`node bench/assign.mjs ${rows}${ROUNDS === 3 ? '' : ` --rounds ${ROUNDS}`}\`.`,
  '',
  `The SQL rows run exactly what \`saltshard sql --key-column subjectKey --columns ${ATTRIBUTES} --layout long|wide --materialize T\` prints (CREATE TABLE … AS; ClickHouse: MergeTree), on a \`subjects\` table loaded once from the same CSV: ${engines.map((e) => `${e.name} in ${e.loadSecs.toFixed(2)} s`).join(', ')} (not in the query times; the last column adds it). ${engines.some((e) => e.dialect === 'clickhouse') ? '' : 'ClickHouse: not measured: chdb not installed (`npm install --prefix test/engines`). '}Validated before timing: each engine's table has the columns of saltshard assign's output and, over every row, the same count and the same sum of 64-bit row hashes (cells as text; the engine hashes its table and saltshard's CSV file with the same expression); row counts are checked after every timed run.`,
  '',
  `| Job (median of ${ROUNDS} alternated runs) | wall | runs | subjects/s | output rows/s | saltshard ÷ this, rows/s (query only / load + query) |`,
  '|---|---:|---|---:|---:|---:|',
  ...lines,
  '',
  `saltshard / DuckDB md5-only (issue #5 target: ≥ 2 M rows/s and ≥ DuckDB): long layout ${(med[md5Job] / med['saltshard long']).toFixed(2)}× (${rows / med['saltshard long'] >= 2e6 && med[md5Job] >= med['saltshard long'] ? 'met' : '**missed**'}), wide layout ${(med[md5Job] / med['saltshard wide']).toFixed(2)}× (${rows / med['saltshard wide'] >= 2e6 && med[md5Job] >= med['saltshard wide'] ? 'met' : '**missed**'}).`,
  `saltshard's own summary (last long run): \`${summary}\``,
  '',
];
writeFileSync(new URL('./assign-results.md', import.meta.url), report.join('\n'));
console.log(report.join('\n'));
for (const e of engines) e.close();
parquetBench();
