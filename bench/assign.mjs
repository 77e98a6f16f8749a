#!/usr/bin/env node
// Benchmark of `saltshard assign` end to end (not a test): a generated CSV of N subjects (key + email, country,
// age: bench/fixtures.ts's subjects) and the 3-flag workload config, CSV in, output to a file, both cores; side by
// side DuckDB (@duckdb/node-api, 2 threads) computing the shard expression for each salt of the config over the
// same file and writing its output. Reports rows/s for both.
// Usage: npm run build && node bench/assign.mjs [ROWS=10000000] [--format csv|ndjson] [--workers N] [--rounds 3] [--keep]
// Writes bench/assign-results.md (folded into BENCHMARKS.md by bench/run.mjs) for the default CSV run.
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && !['--workers', '--rounds'].includes(args[i - 1])) ?? 10_000_000);
const format = opt('--format', 'csv');
const workers = opt('--workers', String(cpus().length));
const keep = args.includes('--keep');

const { workloadUfc, rng } = await import(join(root, 'dist', 'bench', 'fixtures.js'));
const dir = mkdtempSync(join(tmpdir(), 'saltshard-bench-assign-'));
const config = workloadUfc();
writeFileSync(join(dir, 'flags.json'), JSON.stringify(config));
const salts = [...new Set(Object.values(config.flags).flatMap((f) => f.allocations.flatMap((a) => a.splits.flatMap((s) => s.shards.map((x) => x.salt)))))];

// The same subjects as makeSubjects() in bench/fixtures.ts, streamed to the file.
const input = join(dir, 'subjects.csv');
{
  const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'BR', 'IN', 'JP'];
  const DOMAINS = ['example.com', 'example.com', 'mail.test', 'corp.test', 'example.org'];
  const r = rng(42);
  const out = createWriteStream(input);
  const t0 = performance.now();
  out.write('subjectKey,email,country,age\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    const tag = Math.floor(r() * 2 ** 40).toString(36).padStart(8, '0').slice(-8);
    const domain = DOMAINS[Math.floor(r() * DOMAINS.length)];
    const email = `${r() < 0.5 ? 'jane.doe' : 'dev'}${i % 1000}@${domain}`;
    buf += `u${tag}${i.toString(36)},${email},${COUNTRIES[Math.floor(r() * COUNTRIES.length)]},${10 + Math.floor(r() * 60)}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((res) => out.once('drain', res));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise((res) => out.end(res));
  console.log(`input: ${rows.toLocaleString()} rows, ${(statSync(input).size / 1e6).toFixed(0)} MB CSV (generated in ${((performance.now() - t0) / 1000).toFixed(1)} s); flags: ${Object.keys(config.flags).length}; salts: ${salts.join(', ')}`);
}

// saltshard and DuckDB (2 threads: the shard of every salt for every subject, from the same CSV to a CSV file),
// alternated ROUNDS times, each output deleted before the next run; medians are reported. (A fresh 2 GB file can
// cost 0.3 s or 5 s of kernel time on this VM depending on the page cache, so one run of each is not enough.)
const ROUNDS = Number(opt('--rounds', '3'));
const output = join(dir, `assignments.${format}`);
const duckOut = join(dir, 'duckdb.csv');
const { DuckDBInstance } = await import('@duckdb/node-api');
const db = await DuckDBInstance.create(':memory:', { threads: '2' });
const con = await db.connect();
const shardCols = salts.map((s, i) => `(('0x' || substr(md5('${s}' || '-' || subjectKey), 1, 8))::UBIGINT % 10000) AS shard${i}`).join(', ');
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ours = [];
const oursWide = [];
const theirs = [];
let r;
let outBytes = 0;
let wideBytes = 0;
let duckBytes = 0;
/** One saltshard run; its wall time in seconds and output size. */
const saltshard = (layout) => {
  rmSync(output, { force: true });
  const t1 = performance.now();
  r = spawnSync(process.execPath, [join(root, 'bin', 'saltshard'), 'assign', '--config', join(dir, 'flags.json'), '--input', input, '--output', output, '--format', format, '--layout', layout, '--workers', workers], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = (performance.now() - t1) / 1000;
  if (r.status !== 0) {
    console.error(r.stderr);
    process.exit(1);
  }
  const bytes = statSync(output).size;
  rmSync(output, { force: true });
  return [secs, bytes];
};
for (let round = 0; round < ROUNDS; round++) {
  let secs;
  [secs, wideBytes] = saltshard('wide');
  oursWide.push(secs);
  [secs, outBytes] = saltshard('long');
  ours.push(secs);
  rmSync(duckOut, { force: true });
  const t2 = performance.now();
  await con.run(`COPY (SELECT subjectKey, ${shardCols} FROM read_csv('${input}', header = true)) TO '${duckOut}' (HEADER, DELIMITER ',')`);
  theirs.push((performance.now() - t2) / 1000);
  duckBytes = statSync(duckOut).size;
  rmSync(duckOut, { force: true });
  console.log(`round ${round + 1}: saltshard ${ours.at(-1).toFixed(2)} s, --layout wide ${oursWide.at(-1).toFixed(2)} s, duckdb ${theirs.at(-1).toFixed(2)} s`);
}
const saltshardSecs = median(ours);
const wideSecs = median(oursWide);
const duckSecs = median(theirs);
console.log(r.stderr.split('\n').filter((l) => l.startsWith('saltshard: rows in')).join('\n'));
console.log(`saltshard assign (${workers} workers, CSV -> ${format}): median ${saltshardSecs.toFixed(2)} s, ${(rows / saltshardSecs / 1e6).toFixed(2)} M subjects/s, ${((rows * 3) / saltshardSecs / 1e6).toFixed(2)} M assignment rows/s, output ${(outBytes / 1e6).toFixed(0)} MB`);
console.log(`saltshard assign --layout wide: median ${wideSecs.toFixed(2)} s, ${(rows / wideSecs / 1e6).toFixed(2)} M subjects/s, output ${(wideBytes / 1e6).toFixed(0)} MB`);
console.log(`duckdb (2 threads, ${salts.length} md5 shard expressions, CSV -> CSV): median ${duckSecs.toFixed(2)} s, ${(rows / duckSecs / 1e6).toFixed(2)} M rows/s, output ${(duckBytes / 1e6).toFixed(0)} MB`);
console.log(`ratio saltshard/duckdb: ${(duckSecs / saltshardSecs).toFixed(2)}x the rows/s`);
if (format === 'csv') {
  const summary = r.stderr.split('\n').find((l) => l.startsWith('saltshard: rows in')) ?? '';
  writeFileSync(new URL('./assign-results.md', import.meta.url), [
    `Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPUs: ${rows.toLocaleString('en-US')}-row CSV (subjectKey, email, country, age; ${(statSync(input).size / 1e6).toFixed(0)} MB), the 3-flag workload, output to a file.`,
    '',
    `| Job (median of ${ROUNDS} alternated runs) | wall | runs | input rows/s | output |`,
    '|---|---:|---|---:|---|',
    `| saltshard assign, ${workers} workers, CSV → CSV (one line per subject × flag: ${(rows * 3).toLocaleString('en-US')} lines) | ${saltshardSecs.toFixed(2)} s | ${ours.map((x) => x.toFixed(2)).join(', ')} | ${(rows / saltshardSecs / 1e6).toFixed(2)} M | ${(outBytes / 1e6).toFixed(0)} MB |`,
    `| saltshard assign --layout wide, ${workers} workers, CSV → CSV (one line per subject: key and each flag's variation key) | ${wideSecs.toFixed(2)} s | ${oursWide.map((x) => x.toFixed(2)).join(', ')} | ${(rows / wideSecs / 1e6).toFixed(2)} M | ${(wideBytes / 1e6).toFixed(0)} MB |`,
    `| DuckDB 2 threads, the ${salts.length} md5 shard expressions only (no rules, no variations), CSV → CSV (one line per subject: key and each salt's shard) | ${duckSecs.toFixed(2)} s | ${theirs.map((x) => x.toFixed(2)).join(', ')} | ${(rows / duckSecs / 1e6).toFixed(2)} M | ${(duckBytes / 1e6).toFixed(0)} MB |`,
    '',
    `saltshard / DuckDB: ${(duckSecs / saltshardSecs).toFixed(2)}× the rows/s with the default long layout, ${(duckSecs / wideSecs).toFixed(2)}× with \`--layout wide\` (the same shape as DuckDB's output). Target (issue #5): ≥ 2 M rows/s and ≥ DuckDB — long layout ${rows / saltshardSecs >= 2e6 && duckSecs >= saltshardSecs ? 'met' : '**missed**'}, wide layout ${rows / wideSecs >= 2e6 && duckSecs >= wideSecs ? 'met' : '**missed**'}.`,
    `saltshard's own summary: \`${summary}\``,
    '',
  ].join('\n'));
}
con.closeSync?.();
if (!keep) rmSync(dir, { recursive: true, force: true });
else console.log(`kept ${dir}`);
