#!/usr/bin/env node
// Throughput of the NDJSON file sink (saltshard/sinks) on Node, Bun and Deno: real exposure events (captured from
// an offline client for distinct subjects) are logged into a FileSink, and the clock stops when close() has
// written every one to disk; side by side, alternated, with the same sink serializing by JSON.stringify per event.
// The first run of each is validated: every line on disk is exactly JSON.stringify of its event, in order. Medians
// of 5 runs per variant and runtime. Goal from issue 17: >= 200k events/s.
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
  // Side by side, alternating: the FileSink as shipped, and the same sink serializing with JSON.stringify per event
  // (what it did before it learned the text events share).
  class StringifyFileSink extends FileSink {
    line(event) {
      return JSON.stringify(event);
    }
  }
  const variants = { sink: { Sink: FileSink, rates: [], cpuRates: [] }, stringify: { Sink: StringifyFileSink, rates: [], cpuRates: [] } };
  for (let run = 0; run < 10; run++) {
    const v = run % 4 === 0 || run % 4 === 3 ? variants.sink : variants.stringify;
    const dir = mkdtempSync(join(tmpdir(), 'saltshard-sink-bench-'));
    // maxQueue holds every event: this measures throughput, not the overflow policy (a writer that falls behind on a
    // loaded machine would otherwise drop, which test/sinks.test.ts covers).
    const sink = new v.Sink({ path: join(dir, 'exposures.ndjson'), flushOnSignal: false, maxQueue: events, spillDir: false, closeTimeoutMs: 600_000 });
    // Events per CPU-second of the whole process (all threads: the file writes, the garbage collector): what the
    // sink costs, less inflated than the wall clock by other processes sharing the machine.
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    // The producer yields every 10,000 events, as a server between requests, so the writer gets its turns.
    for (let i = 0; i < events; i++) {
      sink.logAssignment(captured[i % captured.length]);
      if (i % 10_000 === 9_999) await new Promise((resolve) => setImmediate(resolve));
    }
    const stats = await sink.close();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(c0);
    if (stats.delivered !== events || stats.dropped !== 0) throw new Error(`run ${run}: ${JSON.stringify(stats)}`);
    if (run < 2) {
      // Every line is exactly JSON.stringify of its event; the rotated files in the order written, the live one last.
      let lines = 0;
      const files = readdirSync(dir).map((f) => ({ f, at: f === 'exposures.ndjson' ? Infinity : statSync(join(dir, f)).mtimeMs })).sort((x, y) => x.at - y.at).map((x) => x.f);
      for (const f of files) {
        const text = readFileSync(join(dir, f), 'utf8');
        for (let a = 0, b = text.indexOf('\n'); b !== -1; a = b + 1, b = text.indexOf('\n', a)) {
          if (text.slice(a, b) !== JSON.stringify(captured[lines % captured.length])) throw new Error(`line ${lines} is not JSON.stringify of event ${lines}`);
          lines++;
        }
      }
      if (lines !== events) throw new Error(`${lines} lines on disk for ${events} events`);
    }
    rmSync(dir, { recursive: true, force: true });
    v.rates.push(events / (ms / 1000));
    v.cpuRates.push(events / ((cpu.user + cpu.system) / 1e6));
  }
  const median = (xs) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
  const out = {};
  for (const [name, v] of Object.entries(variants)) out[name] = { median: median(v.rates), min: Math.min(...v.rates), max: Math.max(...v.rates), cpuMedian: median(v.cpuRates) };
  // The floor of the previous design: JSON.stringify of the same events alone, per CPU-second.
  const s0 = process.cpuUsage();
  let chars = 0;
  for (let i = 0; i < 300_000; i++) chars += JSON.stringify(captured[i % captured.length]).length;
  const sc = process.cpuUsage(s0);
  console.log(JSON.stringify({ ...out, stringifyPerCpuSecond: 300_000 / ((sc.user + sc.system) / 1e6), bytesPerEvent, chars }));
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
const ratio = (a, b) => `${(a / b).toFixed(2)}×`;
const out = [
  `### File sink throughput (${new Date().toISOString().slice(0, 10)}; ${fmt(events)} events per run, 5 runs of each variant alternated, medians, ${cpus().length} CPUs: ${cpus()[0]?.model.trim()}; load average ${loadavg().map((x) => x.toFixed(1)).join(', ')})`,
  '',
  '| Runtime | FileSink events/s (min–max) | events per CPU-second | JSON.stringify per event (before): events/s | events per CPU-second | ratio wall / CPU | JSON.stringify alone, events per CPU-second |',
  '|---|---:|---:|---:|---:|---:|---:|',
  ...rows.map((r) => `| ${r.rt} | ${fmt(r.sink.median)} (${fmt(r.sink.min)}–${fmt(r.sink.max)}) | ${fmt(r.sink.cpuMedian)} | ${fmt(r.stringify.median)} | ${fmt(r.stringify.cpuMedian)} | ${ratio(r.sink.median, r.stringify.median)} / ${ratio(r.sink.cpuMedian, r.stringify.cpuMedian)} | ${fmt(r.stringifyPerCpuSecond)} |`),
  '',
  `Each run: \`logAssignment\` of real exposure events (captured from an offline client: distinct subjects, a 50/50 rollout whose description names the subject; about ${rows[0].bytesPerEvent} bytes of JSON each) into a \`FileSink\`, the producer yielding every 10,000 events (as a server between requests), clock stopped when \`close()\` has written all of them to disk. The first run of each variant is checked line by line: every line is exactly \`JSON.stringify\` of its event. "JSON.stringify per event (before)" is the same sink serializing with \`JSON.stringify\`, as it did before its serializer learned the text events share (src/sinks/json.ts); the last column is that design's floor. Events per CPU-second divide by the CPU time of the whole process (all threads: file writes, garbage collector), which other processes on the machine inflate less than the wall clock. Goal (issue 17): ≥ 200,000 events/s.`,
  '',
  'Where the time goes (`node --cpu-prof` of this benchmark on Node 20, before → after): with `JSON.stringify` per event, 41% of the CPU was serializing (about 5 µs per 1.2 KB event; V8 11 escapes strings at some 3-4 ns per character) and 25% garbage collection of the lines waiting in the queue; buffer encoding, the file writes (on the thread pool), rotation checks and queue bookkeeping were 1-3% each, and there are no per-event timers or promises (one batch of up to 8,192 lines or 8 MiB per write). The sink now serializes with a learned template per object site (src/sinks/json.ts): fields still `===` to the ones the template was learned from (strings, numbers, the client\'s deep-frozen `metaData` and per-outcome `evaluationDetails` parts, by identity) are pre-joined text, and only the others are serialized: about 1.9 µs per event instead of 4.8 in isolation, exact for every input (anything unusual goes to `JSON.stringify`; test/sinks.test.ts compares the lines byte for byte). The text is flattened as it is made, so a queued line is one string for the garbage collector rather than a rope of pieces (Node: 152k → 172-181k events/s by itself). Then the queue: a line waiting as a string outlived the young generation and was copied by every scavenge until promoted (Node `--trace-gc`, 3 runs: 254 scavenges, 1.74 s); the file sink\'s queue now encodes each line into 8 MiB byte blocks as it arrives (src/sinks/lines.ts; a batch is a subarray of one block, written without a copy), so the string dies young: 171 scavenges, 0.30 s, and about +15 % events/s on Node, +5 % on Bun, +30 % on Deno measured side by side. What remains is the serializer and escaping the one per-subject string with quotes in it (the MATCH description of a rollout).',
  '',
];
writeFileSync(join(root, 'bench', 'sinks-results.md'), out.join('\n'));
console.log(out.join('\n'));
