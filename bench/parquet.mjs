#!/usr/bin/env node
// Benchmark of `saltshard assign` with Parquet in and out against CSV in and out (not a test): the same cohort as
// bench/assign.mjs (bench/cohort.mjs: subjectKey, email, country, age) as a CSV file and as its Parquet twin (written
// by hyparquet-writer: subjectKey/email/country strings, age INT64, SNAPPY, row groups of 122,880 rows like DuckDB's),
// through `saltshard assign` end to end (a fresh process per run, --workers 2) in both layouts:
//   csv → csv (the reference), parquet → csv (Parquet input), csv → parquet (Parquet output), parquet → parquet.
// Each run's wall time and CPU time (user + system of the process and its worker threads, from /usr/bin/time) is
// recorded; the jobs are alternated ROUNDS times (rotating which comes first) and medians reported, with the ratio of
// each Parquet job to csv → csv (issue 19 target: within 1.5×).
// Before anything is timed, one untimed pass checks the outputs: parquet → csv writes the same bytes as csv → csv;
// each Parquet output, read by DuckDB (read_parquet), has exactly the rows of the csv → csv output (as text, both
// directions of EXCEPT ALL, and the same count); a mismatch stops the bench.
// Usage: npm run build && node bench/parquet.mjs [ROWS] [--rounds 5] [--workers 2] [--keep] [--check]
//   ROWS defaults to $BENCH_PARQUET_ROWS or 1,000,000. Writes its section into bench/assign-results.md (replacing
//   the previous one); bench/assign.mjs runs it after its own rows. --check: the validation pass only.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cohort, writeCohortCsv } from './cohort.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && !['--workers', '--rounds'].includes(args[i - 1])) ?? process.env.BENCH_PARQUET_ROWS ?? 1_000_000);
const workers = opt('--workers', '2');
const ROUNDS = Number(opt('--rounds', '5'));
const keep = args.includes('--keep');
const check = args.includes('--check');
const ROW_GROUP = 122_880;
const RESULTS = join(root, 'bench', 'assign-results.md');
const SECTION = '### Parquet in and out vs CSV (node bench/parquet.mjs)';
const load = () => loadavg().map((x) => x.toFixed(1)).join(' / ');
const loadStart = load();
console.log(`parquet bench: load average (1 / 5 / 15 min) at start: ${loadStart}`);

const { workloadUfc, rng } = await import(join(root, 'dist', 'bench', 'fixtures.js'));
const dir = mkdtempSync(join(tmpdir(), 'saltshard-bench-parquet-'));
let keepDir = keep;
process.on('exit', () => {
  if (keepDir) console.log(`kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
});
const flagsFile = join(dir, 'flags.json');
const config = workloadUfc();
writeFileSync(flagsFile, JSON.stringify(config));
const nFlags = Object.keys(config.flags).length;

const inputs = { csv: join(dir, 'subjects.csv'), parquet: join(dir, 'subjects.parquet') };
{
  const t0 = performance.now();
  await writeCohortCsv(rng, rows, inputs.csv);
  const keys = new Array(rows);
  const emails = new Array(rows);
  const countries = new Array(rows);
  const ages = new BigInt64Array(rows);
  let i = 0;
  for (const [key, email, country, age] of cohort(rng, rows)) {
    keys[i] = key;
    emails[i] = email;
    countries[i] = country;
    ages[i++] = BigInt(age);
  }
  const { parquetWriteFile } = await import('hyparquet-writer');
  parquetWriteFile({
    filename: inputs.parquet,
    columnData: [
      { name: 'subjectKey', data: keys, type: 'STRING', nullable: false },
      { name: 'email', data: emails, type: 'STRING' },
      { name: 'country', data: countries, type: 'STRING' },
      { name: 'age', data: ages, type: 'INT64' },
    ],
    rowGroupSize: ROW_GROUP,
  });
  const mb = (p) => (statSync(p).size / 1e6).toFixed(0);
  console.log(`input: ${rows.toLocaleString()} subjects: ${mb(inputs.csv)} MB CSV, ${mb(inputs.parquet)} MB Parquet (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

/** One `saltshard assign` process; its wall and CPU seconds (from /usr/bin/time) and its summary line. */
function assign(from, to, layout) {
  const out = join(dir, `out-${from}-${layout}.${to}`);
  rmSync(out, { force: true });
  const argv = ['-f', 'TIME %e %U %S', process.execPath, join(root, 'bin', 'saltshard'), 'assign', '--config', flagsFile, '--input', inputs[from], '--output', out, '--format', to, '--layout', layout, '--workers', workers];
  const r = spawnSync('/usr/bin/time', argv, { encoding: 'utf8', maxBuffer: 64 << 20 });
  const lines = r.stderr.trim().split('\n');
  const time = lines.findLast((l) => l.startsWith('TIME '));
  if (r.status !== 0 || time === undefined) {
    console.error(`saltshard assign ${from} → ${to} --layout ${layout} failed (exit ${r.status ?? r.signal}):\n${r.stderr}`);
    keepDir = true;
    process.exit(1);
  }
  const [wall, user, sys] = time.slice(5).split(' ').map(Number);
  return { out, wall, cpu: user + sys, summary: lines.find((l) => l.startsWith('saltshard: rows in')) ?? '' };
}

// ------------------------------------------------------------------ validation (untimed)

const { DuckDBInstance } = await import('@duckdb/node-api');
const con = await (await DuckDBInstance.create(':memory:', { threads: '2' })).connect();
const sqlString = (s) => `'${s.replaceAll("'", "''")}'`;
const count = async (sql) => Number((await con.runAndReadAll(sql)).getRows()[0][0]);
const LAYOUTS = ['long', 'wide'];
const outRows = { long: rows * nFlags, wide: rows };
for (const layout of LAYOUTS) {
  const ref = assign('csv', 'csv', layout);
  const refBytes = readFileSync(ref.out);
  const viaParquet = assign('parquet', 'csv', layout);
  if (!refBytes.equals(readFileSync(viaParquet.out))) {
    console.error(`MISMATCH: parquet → csv --layout ${layout} differs from csv → csv (files kept in ${dir})`);
    keepDir = true;
    process.exit(1);
  }
  // The CSV as text (empty cells: NULL, as the Parquet output's nulls); the Parquet cells cast to text.
  const csvRows = `SELECT * FROM read_csv(${sqlString(ref.out)}, header = true, all_varchar = true, delim = ',', quote = '"', escape = '"')`;
  const cols = (await con.runAndReadAll(`DESCRIBE ${csvRows}`)).getRows().map((r) => `"${String(r[0]).replaceAll('"', '""')}"`);
  for (const from of ['csv', 'parquet']) {
    const pq = assign(from, 'parquet', layout);
    const pqRows = `SELECT ${cols.map((c) => `CAST(${c} AS VARCHAR) AS ${c}`).join(', ')} FROM read_parquet(${sqlString(pq.out)})`;
    const n = await count(`SELECT count(*) FROM (${pqRows})`);
    const extra = await count(`SELECT count(*) FROM ((${pqRows}) EXCEPT ALL (${csvRows}))`);
    const missing = await count(`SELECT count(*) FROM ((${csvRows}) EXCEPT ALL (${pqRows}))`);
    console.log(`validate ${from} → parquet --layout ${layout}: ${n} rows in DuckDB, ${extra} not in the CSV output, ${missing} of the CSV output missing`);
    if (n !== outRows[layout] || extra !== 0 || missing !== 0) {
      console.error(`MISMATCH: ${from} → parquet --layout ${layout} (files kept in ${dir})`);
      keepDir = true;
      process.exit(1);
    }
    rmSync(pq.out, { force: true });
  }
  rmSync(ref.out, { force: true });
  rmSync(viaParquet.out, { force: true });
}
con.closeSync();
if (check) {
  console.log('check passed: Parquet input gives the same CSV bytes; Parquet outputs hold the CSV output\'s rows (DuckDB)');
  process.exit(0);
}

// ------------------------------------------------------------------ timed rounds

const JOBS = LAYOUTS.flatMap((layout) => [['csv', 'csv'], ['parquet', 'csv'], ['csv', 'parquet'], ['parquet', 'parquet']].map(([from, to]) => ({ from, to, layout, id: `${from} → ${to} ${layout}` })));
const runs = Object.fromEntries(JOBS.map((j) => [j.id, []]));
const size = {};
let summary = '';
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order so no job always runs first (or right after the same neighbour).
  const order = JOBS.map((_, k) => JOBS[(k + round * 3) % JOBS.length]);
  for (const j of order) {
    const r = assign(j.from, j.to, j.layout);
    runs[j.id].push(r);
    size[`${j.to} ${j.layout}`] = statSync(r.out).size;
    if (j.id === 'parquet → parquet long') summary = r.summary;
    rmSync(r.out, { force: true });
  }
  console.log(`round ${round + 1}: ${JOBS.map((j) => `${j.id} ${runs[j.id].at(-1).wall.toFixed(2)} s`).join(', ')}`);
}
const loadEnd = load();
console.log(`load average (1 / 5 / 15 min) at end: ${loadEnd}`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const med = (id, k) => median(runs[id].map((r) => r[k]));
const lines = [];
let worst = { ratio: 0, id: '' };
for (const layout of LAYOUTS) {
  const base = `csv → csv ${layout}`;
  for (const j of JOBS.filter((x) => x.layout === layout)) {
    const ratio = (k) => (j.id === base ? '1.00×' : `${(med(j.id, k) / med(base, k)).toFixed(2)}×`);
    if (med(j.id, 'wall') / med(base, 'wall') > worst.ratio) worst = { ratio: med(j.id, 'wall') / med(base, 'wall'), id: j.id };
    lines.push(`| ${j.from} → ${j.to} (${(size[`${j.to} ${layout}`] / 1e6).toFixed(0)} MB), --layout ${layout} | ${med(j.id, 'wall').toFixed(2)} s | ${runs[j.id].map((r) => r.wall.toFixed(2)).join(', ')} | ${med(j.id, 'cpu').toFixed(2)} s | ${runs[j.id].map((r) => r.cpu.toFixed(2)).join(', ')} | ${(rows / med(j.id, 'wall') / 1e6).toFixed(2)} M | ${ratio('wall')} / ${ratio('cpu')} |`);
  }
}
const section = [
  SECTION,
  '',
  `Run on ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, Node ${process.version}, ${cpus().length} CPUs, load average (1 / 5 / 15 min) ${loadStart} at the start and ${loadEnd} at the end: ${rows.toLocaleString('en-US')} subjects, the same cohort and 3-flag workload as above, as a ${(statSync(inputs.csv).size / 1e6).toFixed(0)} MB CSV and its ${(statSync(inputs.parquet).size / 1e6).toFixed(0)} MB Parquet twin (hyparquet-writer: age INT64, SNAPPY, row groups of ${ROW_GROUP.toLocaleString('en-US')}). Produced by \`node bench/parquet.mjs ${rows}${ROUNDS === 5 ? '' : ` --rounds ${ROUNDS}`}\`: \`saltshard assign --workers ${workers}\` as a fresh process per run, file → file; CPU is user + system time of the process and its worker threads (/usr/bin/time). Validated before timing: Parquet input writes the same CSV bytes as CSV input; every Parquet output read by DuckDB has exactly the CSV output's rows (as text, EXCEPT ALL both ways).`,
  '',
  `| Job (median of ${ROUNDS} alternated runs) | wall | runs | CPU | runs | subjects/s | ÷ csv → csv (wall / CPU) |`,
  '|---|---:|---|---:|---|---:|---:|',
  ...lines,
  '',
  `Target (issue 19): Parquet in and out within 1.5× of CSV (wall) — ${worst.ratio <= 1.5 ? '**met**' : '**missed**'}: the largest ratio is ${worst.ratio.toFixed(2)}× (${worst.id}).`,
  '',
  `saltshard's own summary (last parquet → parquet long run): \`${summary}\``,
  '',
].join('\n');
const previous = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '';
const at = previous.indexOf(SECTION);
writeFileSync(RESULTS, `${at === -1 ? `${previous.trimEnd()}\n\n` : previous.slice(0, at)}${section}`);
console.log(section);
