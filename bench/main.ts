/**
 * The benchmark entry: every contender side by side in one process, validated before it is timed.
 * Node runs dist/bench/main.js; Bun and Deno run this file. bench/run.mjs runs all three and writes BENCHMARKS.md.
 * Progress goes to stderr; the results go to stdout as one line `BENCH_JSON {...}`.
 *
 * Method: each tinybench sample runs a fixed inner loop of `unit` operations (getter calls or shards) and the
 * per-operation time is the sample's latency divided by `unit`, so the timer's own cost and resolution
 * (tens of ns, up to 1 µs on some runtimes) do not swamp sub-microsecond operations. The medians reported are
 * tinybench's p50 latency / unit. Getter loops cycle through distinct subjects: subject i always asks for
 * flag i mod 3, and the cursor only wraps after the whole pool, so with a pool larger than every dedupe cache
 * (50,000) each call misses the cache and logs a fresh exposure event.
 *
 * Env: BENCH_SUBJECTS (default 300,000: 6× the dedupe capacity), BENCH_TIME_MS per task (default 1000), BENCH_FILTER (substring of task
 * names to run; validation always runs).
 */
import { Bench } from 'tinybench';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { GrowthBookClient } from '@growthbook/growthbook';
import { FlagdCore } from '@openfeature/flagd-core';
import { md5 as jsMd5 } from 'js-md5';
import { md5 as nobleMd5 } from '@noble/hashes/legacy.js';
import { createHash } from 'node:crypto';
import { type BatchResult, type SaltshardClient, compileConfig, offlineInit } from '../src/mod.ts';
import { type ShardKernel, base64ToBytes, createJsKernel, createWasmKernel } from '../src/wasm/kernel.ts';
import { WASM_BASE64 } from '../src/wasm/bytes.generated.ts';
import {
  FLAG_EXPERIMENT, FLAG_REGEX, FLAG_ROLLOUT, WORKLOAD_FLAGS, makeLargeUfc, makeSubjects, workloadFlagd, workloadGrowthBook, workloadUfc,
} from './fixtures.ts';
import { plainEvaluate } from './plain.ts';

// ---------------------------------------------------------------- environment

type G = {
  Deno?: { version: { deno: string; v8: string }; env: { get(k: string): string | undefined }; exit(code: number): never };
  Bun?: { version: string };
  process?: { version: string; versions: Record<string, string>; env: Record<string, string | undefined>; exit(code: number): never };
};
const g = globalThis as unknown as G;
const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
const runtimeVersion = g.Deno ? `${g.Deno.version.deno} (V8 ${g.Deno.version.v8})` : g.Bun ? `${g.Bun.version} (JavaScriptCore)` : `${g.process!.version} (V8 ${g.process!.versions.v8})`;
const env = (k: string): string | undefined => (g.Deno ? g.Deno.env.get(k) : g.process?.env[k]);

const N_SUBJECTS = Number(env('BENCH_SUBJECTS') ?? 300_000);
const TIME_MS = Number(env('BENCH_TIME_MS') ?? 1000);
const FILTER = env('BENCH_FILTER') ?? '';
/** 'cold': only the cold paths (config compile, WASM loading), in a process with nothing else in its heap; 'main': the rest. */
const PART = env('BENCH_PART') ?? 'all';
/**
 * BENCH_CHECK=1: no timing; every row's function runs a few samples and its checksum is compared with the reference
 * (test/bench-checksums.test.ts runs this on a small pool).
 */
const CHECK = env('BENCH_CHECK') === '1';
/** Getter rows run this many rounds, each in a rotated order; a row's figure is the median of its rounds. */
const ROUNDS = CHECK ? 1 : Number(env('BENCH_ROUNDS') ?? 3);
const VALIDATE_N = Math.min(10_000, N_SUBJECTS);
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
// Eppo's client without a logger reports its full queue on stdout; the results line must stay alone there.
applicationLogger.level = 'silent';

const progress = (msg: string): void => console.error(`[bench ${runtime}] ${msg}`);
const exitProcess = (code: number): never => (g.Deno ? g.Deno.exit(code) : g.process!.exit(code));
const now = (): number => performance.now();

/**
 * Eppo's client as node-server-sdk's offline init sets it up: a MemoryOnlyConfigurationStore filled synchronously;
 * with a logger, also its 50,000-entry LRU assignment cache (as `init()` does); without, no cache either.
 */
function eppoClient(flags: Record<string, never>, createdAt: string, logger: { logAssignment(): void } | null): EppoClient {
  const store = new MemoryOnlyConfigurationStore<never>();
  void store.setEntries(flags);
  store.setEnvironment({ name: 'bench' });
  store.setConfigPublishedAt(createdAt);
  store.setConfigFetchedAt(new Date().toISOString());
  store.setFormat('SERVER' as never);
  const client = new EppoClient({ flagConfigurationStore: store });
  if (logger !== null) {
    client.useLRUInMemoryAssignmentCache(50_000);
    client.setAssignmentLogger(logger);
  }
  return client;
}

/** Eppo's client over a config given as text (JSON.parse is part of its load). */
function eppoFromText(text: string): EppoClient {
  const doc = JSON.parse(text) as { flags: Record<string, never>; createdAt: string };
  return eppoClient(doc.flags, doc.createdAt, { logAssignment() {} });
}

// ---------------------------------------------------------------- cold, first in this process

// Measured before anything else has touched WebAssembly or the compiler, so JIT and module caches are cold.
const largeText = JSON.stringify(makeLargeUfc(1000));
const coldFirst: Record<string, number> = {};
if (PART !== 'main') {
  let t = now();
  const k = createWasmKernel();
  coldFirst.wasmLoadMs = now() - t;
  void k;
  t = now();
  const c = offlineInit({ flagsConfiguration: largeText, logger: SILENT, assignmentLogger: { logAssignment() {} } });
  c.getStringAssignment('flag-0000-checkout', 'first-subject', { country: 'US', age: 30 }, 'x');
  coldFirst.compileAndFirstEvalMs = now() - t;
}
if (PART !== 'main') progress(`cold first: wasm load ${coldFirst.wasmLoadMs!.toFixed(2)} ms, 1,000-flag compile + first eval ${coldFirst.compileAndFirstEvalMs!.toFixed(2)} ms (${largeText.length} bytes)`);

// ---------------------------------------------------------------- timing

interface Row {
  group: 'getter' | 'profile' | 'batch' | 'shard' | 'cold';
  name: string;
  /** Operations per tinybench sample. */
  unit: number;
  medianNs: number;
  p99Ns: number;
  opsPerSec: number;
  samples: number;
  note?: string;
}
const rows: Row[] = [];
let sink = 0;
const consume = (v: unknown): void => {
  if (v === 'never') sink++;
};

/**
 * One timed task. `gcEach`: a full collection before every iteration, untimed (for one-off work such as a config
 * compile, whose previous run's garbage would otherwise be collected inside the next timed run).
 */
async function run(group: Row['group'], name: string, unit: number, fn: () => void, note?: string, time = TIME_MS, iterations = 64, gcEach = false, push = true): Promise<Row | null> {
  if (FILTER && !name.includes(FILTER)) return null;
  collectGarbage();
  if (CHECK) {
    for (let k = 0; k < 3; k++) fn();
    const row: Row = { group, name, unit, medianNs: Number.NaN, p99Ns: Number.NaN, opsPerSec: Number.NaN, samples: 3 };
    if (push) rows.push(row);
    verifyChecksums(name);
    return row;
  }
  const bench = new Bench({ time, iterations, warmupTime: Math.min(250, time / 4), timestampProvider: 'auto' });
  bench.add(name, fn, gcEach ? { beforeEach: collectGarbage } : undefined);
  await bench.run();
  const task = bench.tasks[0]!;
  const r = task.result as { state: string; error?: Error; latency?: { p50: number; p99: number; samplesCount: number } };
  if (r.state !== 'completed' || !r.latency) throw new Error(`${name}: ${r.state} ${r.error?.stack ?? ''}`);
  const medianNs = (r.latency.p50 * 1e6) / unit;
  const row: Row = { group, name, unit, medianNs, p99Ns: (r.latency.p99 * 1e6) / unit, opsPerSec: 1e9 / medianNs, samples: r.latency.samplesCount };
  if (note) row.note = note;
  if (push) rows.push(row);
  verifyChecksums(name);
  progress(`${name.padEnd(58)} ${medianNs.toFixed(1).padStart(12)} ns/op  (${r.latency.samplesCount} samples × ${unit})`);
  return row;
}

/**
 * Result checksums: a row that consumes its results registers `check`, returning what its calls summed to and what
 * the reference says they should sum to over exactly those calls. Verified after the row ran (timed or not).
 */
const pendingChecks: { name: string; check: () => { got: number; want: number } }[] = [];
const checksums: Record<string, { got: number; want: number }> = {};
function verifyChecksums(name: string): void {
  for (const { check } of pendingChecks.splice(0)) {
    const c = check();
    if (c.got !== c.want) throw new Error(`checksum ${name}: the row's results sum to ${c.got}, the reference to ${c.want}`);
    checksums[name] = c;
  }
}

/** What a row adds to its checksum for one value read: distinct per value of the workload's flags. */
const fmtRound = (ns: number): string => (ns >= 1e4 ? (ns / 1e3).toFixed(1) + 'k' : ns.toFixed(0));
const valueCode = (v: unknown): number => (typeof v === 'string' ? v.length : v === true ? 1 : v === false ? 0 : 100);

/**
 * A full collection before each task, so no task pays for the garbage of the one before (Node and Deno get
 * --expose-gc from bench/run.mjs; Bun has Bun.gc). Without it, Bun's batch rows ran ~35 % slower after the getter rows.
 */
function collectGarbage(): void {
  const g = globalThis as { gc?: () => void; Bun?: { gc(force: boolean): void } };
  if (g.gc) g.gc();
  else g.Bun?.gc(true);
}

/**
 * A task running `unit` getter calls per sample over a cycling cursor, summing valueCode of every result; when `ref`
 * (prefix sums of the reference's codes over the pool) is given, the sum is checked against it after the row.
 */
function getterTask(get: Getter, pool: number, unit: number, ref?: Float64Array): () => void {
  let cursor = 0;
  let calls = 0;
  let acc = 0;
  if (ref) {
    pendingChecks.push({
      check: () => ({ got: acc, want: Math.floor(calls / pool) * ref[pool]! + ref[calls % pool]! }),
      name: '',
    });
  }
  return () => {
    let a = 0;
    for (let j = 0; j < unit; j++) {
      a += valueCode(get(cursor));
      if (++cursor === pool) cursor = 0;
    }
    acc += a;
    calls += unit;
  };
}

// Cold paths, repeated in a warm process (first in process: coldFirst). bench/run.mjs runs them in a process of their
// own (BENCH_PART=cold): in the main one, every collection a compile triggers also walks the ~1 M subject objects of
// the pool (Node: 1,000-flag compile 21-22 ms instead of 12-15 ms), and after thousands of WASM instances and
// compiled configs Bun's getter rows ran 1.3-2.5× slower.
if (PART !== 'main') {
  const COLD_MS = Math.max(TIME_MS, 1500);
  await run('cold', 'compile 1,000-flag config (1.3 MB text) + first evaluation', 1, () => {
    const c = offlineInit({ flagsConfiguration: largeText, logger: SILENT, assignmentLogger: { logAssignment() {} } });
    consume(c.getStringAssignment('flag-0000-checkout', 'first-subject', { country: 'US', age: 30 }, 'x'));
  }, 'one scan of the text + the envelope parsed and checked + offlineInit + one getter (its flag parsed and compiled on first use)', COLD_MS, 12, true);
  await run('cold', 'Eppo official: JSON.parse + configuration store + first evaluation (1,000 flags)', 1, () => {
    consume(eppoFromText(largeText).getStringAssignment('flag-0000-checkout', 'first-subject', { country: 'US', age: 30 }, 'x'));
  }, 'EppoClient over a MemoryOnlyConfigurationStore filled from the parsed text, as node-server-sdk loads it', COLD_MS, 12, true);
  await run('cold', 'compileConfig only, from text', 1, () => void compileConfig(largeText), 'one scan of the text + the envelope parsed and checked (flags parsed and compiled on first use)', COLD_MS, 12, true);
  await run('cold', 'JSON.parse + compileConfig of the object', 1, () => void compileConfig(JSON.parse(largeText)), 'objects are checked and copied by the valibot schema', COLD_MS, 12, true);
  await run('cold', 'JSON.parse only (1.3 MB)', 1, () => void JSON.parse(largeText), 'the floor for any SDK given text', COLD_MS, 12, true);
  // WASM loading, repeated in a warm process (first in process: coldFirst).
  {
    // Every instance reserves address space until it is collected: Deno ran out of it at ~23,000 instances a second.
    const INSTANCE_MS = 300;
    await run('cold', 'WASM decode + compile + instantiate', 1, () => {
      const m = new WebAssembly.Module(base64ToBytes(WASM_BASE64) as Uint8Array<ArrayBuffer>);
      sink += new WebAssembly.Instance(m, {}).exports.memory ? 1 : 0;
    }, `${WASM_BASE64.length} base64 chars`, INSTANCE_MS);
    await run('cold', 'createWasmKernel() (cached Module: instantiate + self-check)', 1, () => void createWasmKernel(), undefined, INSTANCE_MS);
  }
}
// Memory a loaded 1,000-flag config adds to the heap (after a full collection), saltshard and Eppo in turn, each
// client kept alive after its first getter. Measured last in the cold process: saltshard's pattern cache already
// holds the config's compiled patterns from the rows above, so its figure leaves them out (~500 RegExp objects).
// saltshard compiles a flag on first use: the figure is for a config of which one flag was evaluated.
const memory: Record<string, number> = {};
if (PART !== 'main') {
  const heap = (): number => {
    collectGarbage();
    const p = (globalThis as { process?: { memoryUsage(): { heapUsed: number } } }).process;
    return p ? p.memoryUsage().heapUsed : (g.Deno as unknown as { memoryUsage(): { heapUsed: number } }).memoryUsage().heapUsed;
  };
  const keep: unknown[] = [];
  // Three of each, averaged: first-use costs (module state, the kernel) do not count as the config's.
  const added = (load: () => unknown): number => {
    const h = heap();
    for (let k = 0; k < 3; k++) keep.push(load());
    return (heap() - h) / 3 / 1e6;
  };
  const first = { country: 'US', age: 30 };
  memory.saltshardMB = added(() => {
    const c = offlineInit({ flagsConfiguration: largeText, logger: SILENT, assignmentLogger: { logAssignment() {} } });
    consume(c.getStringAssignment('flag-0000-checkout', 'first-subject', first, 'x'));
    return c;
  });
  memory.eppoMB = added(() => {
    const c = eppoFromText(largeText);
    consume(c.getStringAssignment('flag-0000-checkout', 'first-subject', first, 'x'));
    return c;
  });
  progress(`memory added by the 1,000-flag config: saltshard ${memory.saltshardMB.toFixed(2)} MB, Eppo ${memory.eppoMB.toFixed(2)} MB`);
  sink += keep.length;
}
if (PART === 'cold') {
  console.log(`BENCH_JSON ${JSON.stringify({ runtime, runtimeVersion, largeConfigBytes: largeText.length, coldFirst, memory, rows, sink })}`);
  exitProcess(0);
}

// ---------------------------------------------------------------- subjects

let t0 = now();
const subjects = makeSubjects(N_SUBJECTS);
const keys = subjects.map((s) => s.key);
const attrs = subjects.map((s) => s.attributes);
// Other engines' context shapes, built once outside the timed loops (GrowthBook gets a fresh user context per
// call below: it keeps per-context tracking state).
const GB_POOL = N_SUBJECTS;
const gbAttrs = subjects.slice(0, GB_POOL).map((s) => ({ id: s.key, ...s.attributes }));
const flagdCtx = subjects.slice(0, GB_POOL).map((s) => ({ targetingKey: s.key, ...s.attributes }));
progress(`${N_SUBJECTS} subjects in ${(now() - t0).toFixed(0)} ms`);

// ---------------------------------------------------------------- contenders

let events = 0;
const countingLogger = { logAssignment() { events++; } };
const ufc = workloadUfc();

function saltshard(opts: { logger: boolean; kernel?: 'wasm' | 'js' }): SaltshardClient {
  return offlineInit({ flagsConfiguration: ufc, logger: SILENT, kernel: opts.kernel, assignmentLogger: opts.logger ? countingLogger : null });
}

function eppo(): EppoClient {
  return eppoClient(ufc.flags as Record<string, never>, ufc.createdAt as string, { logAssignment() { events++; } });
}

/** Eppo's client without an assignment logger or cache, for the like-with-like "no logger" comparison. */
function eppoNoLogger(): EppoClient {
  return eppoClient(ufc.flags as Record<string, never>, ufc.createdAt as string, null);
}

function growthbook(): GrowthBookClient {
  const gb = new GrowthBookClient({ trackingCallback: () => void events++ });
  gb.initSync({ payload: { features: workloadGrowthBook() as never } });
  return gb;
}

function flagd(): FlagdCore {
  const core = new FlagdCore(undefined, SILENT);
  core.setConfigurations(workloadFlagd());
  return core;
}

type Getter = (i: number) => unknown;

function saltshardGetter(c: SaltshardClient): Getter {
  return (i) => {
    const f = i % 3;
    if (f === 0) return c.getStringAssignment(FLAG_REGEX, keys[i]!, attrs[i], 'off');
    if (f === 1) return c.getStringAssignment(FLAG_EXPERIMENT, keys[i]!, attrs[i], 'control');
    return c.getBooleanAssignment(FLAG_ROLLOUT, keys[i]!, attrs[i], false);
  };
}
function eppoGetter(c: EppoClient): Getter {
  return (i) => {
    const f = i % 3;
    if (f === 0) return c.getStringAssignment(FLAG_REGEX, keys[i]!, attrs[i]!, 'off');
    if (f === 1) return c.getStringAssignment(FLAG_EXPERIMENT, keys[i]!, attrs[i]!, 'control');
    return c.getBooleanAssignment(FLAG_ROLLOUT, keys[i]!, attrs[i]!, false);
  };
}
function gbGetter(gb: GrowthBookClient): Getter {
  return (i) => {
    const f = i % 3;
    const ctx = { attributes: gbAttrs[i] };
    if (f === 0) return gb.getFeatureValue(FLAG_REGEX, 'off', ctx);
    if (f === 1) return gb.getFeatureValue(FLAG_EXPERIMENT, 'control', ctx);
    return gb.getFeatureValue(FLAG_ROLLOUT, false, ctx);
  };
}
function flagdGetter(core: FlagdCore): Getter {
  return (i) => {
    const f = i % 3;
    if (f === 0) return core.resolveStringEvaluation(FLAG_REGEX, 'off', flagdCtx[i], SILENT).value;
    if (f === 1) return core.resolveStringEvaluation(FLAG_EXPERIMENT, 'control', flagdCtx[i], SILENT).value;
    return core.resolveBooleanEvaluation(FLAG_ROLLOUT, false, flagdCtx[i], SILENT).value;
  };
}

// ---------------------------------------------------------------- validation

const validation: Record<string, string> = {};
const fail = (name: string, msg: string): never => {
  validation[name] = `FAILED: ${msg}`;
  throw new Error(`validation ${name}: ${msg}`);
};

/** value of every flag for subject i: [regex, experiment, rollout]. */
function allFlags(getOne: (flag: number, i: number) => unknown, i: number): unknown[] {
  return [0, 1, 2].map((f) => getOne(f, i));
}
const ssOne = (c: SaltshardClient) => (f: number, i: number) =>
  f === 0 ? c.getStringAssignment(FLAG_REGEX, keys[i]!, attrs[i], 'DEF') : f === 1 ? c.getStringAssignment(FLAG_EXPERIMENT, keys[i]!, attrs[i], 'DEF') : c.getBooleanAssignment(FLAG_ROLLOUT, keys[i]!, attrs[i], null as never);
const eppoOne = (c: EppoClient) => (f: number, i: number) =>
  f === 0 ? c.getStringAssignment(FLAG_REGEX, keys[i]!, attrs[i]!, 'DEF') : f === 1 ? c.getStringAssignment(FLAG_EXPERIMENT, keys[i]!, attrs[i]!, 'DEF') : c.getBooleanAssignment(FLAG_ROLLOUT, keys[i]!, attrs[i]!, null as never);
const gbOne = (gb: GrowthBookClient) => (f: number, i: number) => gb.getFeatureValue(WORKLOAD_FLAGS[f]!, null as never, { attributes: gbAttrs[i] });
const flagdOne = (core: FlagdCore) => (f: number, i: number) =>
  f === 2 ? core.resolveBooleanEvaluation(FLAG_ROLLOUT, null as never, flagdCtx[i], SILENT).value : core.resolveStringEvaluation(WORKLOAD_FLAGS[f]!, 'DEF', flagdCtx[i], SILENT).value;

function proportions(getOne: (f: number, i: number) => unknown): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < VALIDATE_N; i++) {
    allFlags(getOne, i).forEach((v, f) => {
      const k = `${WORKLOAD_FLAGS[f]}=${String(v)}`;
      m.set(k, (m.get(k) ?? 0) + 1 / VALIDATE_N);
    });
  }
  return m;
}

t0 = now();
{
  const ss = ssOne(saltshard({ logger: true }));
  const ssJs = ssOne(saltshard({ logger: true, kernel: 'js' }));
  const ep = eppoOne(eppo());
  for (let i = 0; i < VALIDATE_N; i++) {
    const a = JSON.stringify(allFlags(ss, i));
    const b = JSON.stringify(allFlags(ep, i));
    const c = JSON.stringify(allFlags(ssJs, i));
    if (a !== b) fail('saltshard = Eppo', `subject ${keys[i]}: saltshard ${a}, Eppo ${b}`);
    if (a !== c) fail('saltshard wasm = js kernel', `subject ${keys[i]}: wasm ${a}, js ${c}`);
  }
  validation['saltshard = Eppo official'] = `identical on ${VALIDATE_N} subjects × 3 flags`;
  validation['saltshard kernel wasm = js'] = `identical on ${VALIDATE_N} subjects × 3 flags`;

  const ref = proportions(ss);
  const TOL = 0.025;
  for (const [name, one] of [['GrowthBook', gbOne(growthbook())], ['flagd-core', flagdOne(flagd())]] as const) {
    const got = proportions(one);
    const worst = [...new Set([...ref.keys(), ...got.keys()])].map((k) => [k, Math.abs((ref.get(k) ?? 0) - (got.get(k) ?? 0))] as const).sort((x, y) => y[1] - x[1])[0]!;
    if (worst[1] > TOL) fail(`${name} proportions`, `${worst[0]} differs by ${(worst[1] * 100).toFixed(2)} points (ref ${JSON.stringify([...ref])}, got ${JSON.stringify([...got])})`);
    validation[`${name} proportions`] = `every (flag, value) share within ${(TOL * 100).toFixed(1)} points of saltshard's on ${VALIDATE_N} subjects (largest gap ${(worst[1] * 100).toFixed(2)} points: ${worst[0]})`;
  }
  validation['workload shares (saltshard)'] = [...ref].map(([k, v]) => `${k} ${(v * 100).toFixed(1)}%`).join(', ');
}
progress(`getter validation done in ${(now() - t0).toFixed(0)} ms`);

// md5 / shard contenders: shard = u32be(md5(salt + "-" + key)[0..4]) % 10000
const SALT = `${FLAG_EXPERIMENT}-traffic`;
const SALT_DASH = `${SALT}-`;
const encoder = new TextEncoder();
const saltDashBytes = encoder.encode(SALT_DASH);
const TOTAL = 10000;
const wasm = createWasmKernel();
const jsKernel: ShardKernel = createJsKernel();
const prefix = (h: ArrayLike<number>): number => (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0) % TOTAL;
const shardJsMd5 = (key: string): number => prefix(jsMd5.array(SALT_DASH + key));
const shardNoble = (key: string): number => prefix(nobleMd5(encoder.encode(SALT_DASH + key)));
const shardCrypto = (key: string): number => createHash('md5').update(SALT_DASH + key).digest().readUInt32BE(0) % TOTAL;

// All keys pre-packed as one UTF-8 arena plus offsets (absolute; shardBatchInto accepts any window of them).
t0 = now();
const offsets = new Uint32Array(N_SUBJECTS + 1);
let arenaLen = 0;
for (let i = 0; i < N_SUBJECTS; i++) arenaLen += keys[i]!.length * 3;
const arenaBuf = new Uint8Array(arenaLen);
let pos = 0;
for (let i = 0; i < N_SUBJECTS; i++) {
  offsets[i] = pos;
  pos += encoder.encodeInto(keys[i]!, arenaBuf.subarray(pos)).written;
}
offsets[N_SUBJECTS] = pos;
const arena = arenaBuf.subarray(0, pos);
const batchOut = new Uint32Array(N_SUBJECTS);
progress(`packed ${N_SUBJECTS} keys (${pos} bytes) in ${(now() - t0).toFixed(0)} ms`);
{
  wasm.shardBatchInto(saltDashBytes, arena, offsets.subarray(0, VALIDATE_N + 1), TOTAL, batchOut);
  for (let i = 0; i < VALIDATE_N; i++) {
    const k = keys[i]!;
    const want = shardJsMd5(k);
    const got = [wasm.shard(saltDashBytes, k, TOTAL), batchOut[i]!, jsKernel.shard(saltDashBytes, k, TOTAL), shardNoble(k), shardCrypto(k)];
    if (got.some((x) => x !== want)) fail('shard agreement', `key ${k}: js-md5 ${want}, wasm/batch/js-kernel/noble/crypto ${got}`);
  }
  validation['shard agreement'] = `WASM single, WASM batch, JS kernel, @noble/hashes and node:crypto equal js-md5 on ${VALIDATE_N} keys`;
}

const FAST = 1000;
const SLOW = 100;

// The plain-JS evaluator peer answers exactly as Eppo (it reads the same UFC and hashes with md5).
const plainGetter: Getter = (i) => {
  const f = i % 3;
  return plainEvaluate(ufc, WORKLOAD_FLAGS[f]!, keys[i]!, attrs[i]!, f === 0 ? 'off' : f === 1 ? 'control' : false);
};
{
  const ep = eppoGetter(eppo());
  for (let i = 0; i < VALIDATE_N; i++) if (plainGetter(i) !== ep(i)) fail('plain JS = Eppo', `subject ${keys[i]}: plain ${String(plainGetter(i))}, Eppo ${String(ep(i))}`);
  validation['plain JS evaluator = Eppo official'] = `identical on ${VALIDATE_N} subjects`;
}

// Reference checksums of the getter rows: valueCode of the reference evaluator's answer (with the rows' defaults)
// for every subject of the pool, as prefix sums; the reference itself equals Eppo's answers (validated above).
const getterRef = new Float64Array(N_SUBJECTS + 1);
{
  const c = saltshard({ logger: false });
  for (let i = 0; i < N_SUBJECTS; i++) {
    const f = i % 3;
    getterRef[i + 1] = getterRef[i]! + valueCode(c.evaluate(WORKLOAD_FLAGS[f]!, keys[i]!, attrs[i]).value ?? (f === 0 ? 'off' : f === 1 ? 'control' : false));
  }
  const ep = eppoGetter(eppo());
  let want = 0;
  for (let i = 0; i < VALIDATE_N; i++) want += valueCode(ep(i));
  if (want !== getterRef[VALIDATE_N]) fail('getter checksum reference', `Eppo ${want}, reference ${getterRef[VALIDATE_N]}`);
  validation['getter checksums'] = 'every timed getter call of saltshard, Eppo and the plain-JS evaluator adds its value to a checksum, compared after the row with the reference evaluator\'s answers for exactly those calls';
}

// Getter rows: every contender side by side, ROUNDS rounds in a rotated order (each round builds fresh clients and
// starts from the first subject); a row's figure is the median of its rounds' medians.
const getterRows: { name: string; unit: number; make: () => () => void; note: string }[] = [
  { name: 'saltshard getter, logger + dedupe on (wasm)', unit: FAST, make: () => getterTask(saltshardGetter(saltshard({ logger: true })), N_SUBJECTS, FAST, getterRef),
    note: `cycles ${N_SUBJECTS.toLocaleString('en-US')} subjects; every call misses the 50,000-entry dedupe cache and delivers an event` },
  { name: 'saltshard getter, no logger (wasm)', unit: FAST, make: () => getterTask(saltshardGetter(saltshard({ logger: false })), N_SUBJECTS, FAST, getterRef),
    note: 'no assignmentLogger: 100 events are queued; later ones are not built' },
  { name: 'Eppo official (js-sdk-common 4.14.4, LRU 50k, no-op logger)', unit: SLOW, make: () => getterTask(eppoGetter(eppo()), N_SUBJECTS, SLOW, getterRef),
    note: 'EppoClient + MemoryOnlyConfigurationStore + useLRUInMemoryAssignmentCache(50000), as node-server-sdk' },
  { name: 'Eppo official, no logger', unit: SLOW, make: () => getterTask(eppoGetter(eppoNoLogger()), N_SUBJECTS, SLOW, getterRef),
    note: 'no assignment logger, no assignment cache: compare with saltshard "no logger"' },
  { name: 'plain-JS evaluator (bench/plain.ts, js-md5)', unit: SLOW, make: () => getterTask(plainGetter, N_SUBJECTS, SLOW, getterRef),
    note: 'walks the UFC JSON per call, no events; answers equal Eppo' },
  { name: 'GrowthBook (GrowthBookClient 1.8, tracking callback)', unit: SLOW, make: () => getterTask(gbGetter(growthbook()), GB_POOL, SLOW),
    note: 'fresh { attributes } user context per call' },
  { name: 'flagd-core 4.0 (JsonLogic)', unit: SLOW, make: () => getterTask(flagdGetter(flagd()), GB_POOL, SLOW), note: 'no events' },
  { name: 'saltshard getter, logger + dedupe on, kernel js', unit: FAST, make: () => getterTask(saltshardGetter(saltshard({ logger: true, kernel: 'js' })), N_SUBJECTS, FAST, getterRef),
    note: '@noble/hashes md5 instead of WASM' },
];
const eventsBefore = events;
{
  const byName = new Map<string, Row[]>();
  for (let round = 0; round < ROUNDS; round++) {
    for (let k = 0; k < getterRows.length; k++) {
      const spec = getterRows[(k + round) % getterRows.length]!;
      const row = await run('getter', spec.name, spec.unit, spec.make(), spec.note, TIME_MS, 64, false, false);
      if (row) byName.set(spec.name, [...(byName.get(spec.name) ?? []), row]);
    }
  }
  const mid = (xs: number[]): number => xs.sort((a, b) => a - b)[xs.length >> 1]!;
  for (const spec of getterRows) {
    const rs = byName.get(spec.name);
    if (!rs) continue;
    const medianNs = mid(rs.map((r) => r.medianNs));
    rows.push({
      group: 'getter', name: spec.name, unit: spec.unit, medianNs, p99Ns: mid(rs.map((r) => r.p99Ns)), opsPerSec: 1e9 / medianNs,
      samples: rs.reduce((n, r) => n + r.samples, 0), note: `${spec.note}; median of ${rs.length} rotated rounds (${rs.map((r) => fmtRound(r.medianNs)).join(', ')} ns)`,
    });
  }
}
const eventsLogged = (events - eventsBefore) / ROUNDS;

// Sub-benchmarks that split the saltshard getter's time (see BENCHMARKS.md "where the time goes").
{
  const c = saltshard({ logger: true });
  const evalOnly: Getter = (i) => c.evaluate(WORKLOAD_FLAGS[i % 3]!, keys[i]!, attrs[i]).value;
  await run('profile', 'saltshard evaluate() only (no events, no dedupe)', FAST, getterTask(evalOnly, N_SUBJECTS, FAST));
  const hot = saltshard({ logger: true });
  await run('profile', 'saltshard getter, dedupe hits (1,000 subjects)', FAST, getterTask(saltshardGetter(hot), 999, FAST), 'same evaluation, the event is deduped');
  const off = offlineInit({ flagsConfiguration: ufc, logger: SILENT, assignmentLogger: countingLogger, assignmentCacheSize: 0 });
  await run('profile', 'saltshard getter, logger on, dedupe off', FAST, getterTask(saltshardGetter(off), N_SUBJECTS, FAST), 'every call builds and delivers an event, no cache bookkeeping');
  // Hooks (src/client/hooks.ts): compare with the "no logger" getter row; without hooks a getter pays one null check.
  const hooked = saltshard({ logger: false });
  hooked.addHooks({ after: () => {} });
  await run('profile', 'saltshard getter, no logger, one no-op after hook', FAST, getterTask(saltshardGetter(hooked), N_SUBJECTS, FAST, getterRef), 'compare with "no logger": a hook receives the evaluation details, built for it');
  const missing: Getter = (i) => c.getStringAssignment('no-such-flag', keys[i]!, attrs[i], 'x');
  await run('profile', 'saltshard getter, unknown flag (args + lookup)', FAST, getterTask(missing, N_SUBJECTS, FAST));
  const rollout: Getter = (i) => c.evaluate(FLAG_ROLLOUT, keys[i]!, attrs[i]).value;
  await run('profile', 'saltshard evaluate() rollout flag only (1 md5)', FAST, getterTask(rollout, N_SUBJECTS, FAST));
  const regex: Getter = (i) => c.evaluate(FLAG_REGEX, keys[i]!, attrs[i]).value;
  await run('profile', 'saltshard evaluate() regex flag only (0 md5)', FAST, getterTask(regex, N_SUBJECTS, FAST));
}

// Batches: windows of BATCH distinct subjects × the 3 flags, cycling through the pool; ns/op is per evaluation.
{
  const BATCH = 10_000;
  const c = saltshard({ logger: false });
  const cJs = saltshard({ logger: false, kernel: 'js' });
  const windows = Math.max(1, Math.floor(N_SUBJECTS / BATCH));
  const BATCH_N = Math.min(BATCH, N_SUBJECTS);
  const objects = Array.from({ length: Math.min(windows, 30) }, (_, w) => subjects.slice(w * BATCH_N, (w + 1) * BATCH_N).map((s) => ({ subjectKey: s.key, subjectAttributes: s.attributes })));
  // Pre-encoded input, as the CLI hands it over: UTF-8 keys in one array, attributes as columns.
  const encoder = new TextEncoder();
  const columnar = objects.map((list) => {
    const parts = list.map((s) => encoder.encode(s.subjectKey));
    const bytes = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    const starts = new Uint32Array(list.length);
    const lengths = new Uint32Array(list.length);
    let at = 0;
    parts.forEach((p, i) => {
      bytes.set(p, at);
      starts[i] = at;
      lengths[i] = p.length;
      at += p.length;
    });
    const names = Object.keys(list[0]?.subjectAttributes ?? {});
    return { keys: { bytes, starts, lengths }, columns: Object.fromEntries(names.map((n) => [n, list.map((s) => (s.subjectAttributes as Record<string, unknown>)[n])])) };
  });
  // Validation: every batch cell equals the getter path's evaluation.
  const check = (name: string, r: { code(i: number, j: number): string; value(i: number, j: number): unknown }): void => {
    objects[0]!.forEach((s, i) => WORKLOAD_FLAGS.forEach((flag, j) => {
      const e = c.evaluate(flag, s.subjectKey, s.subjectAttributes);
      if (r.code(i, j) !== e.code || r.value(i, j) !== e.value) fail('batch agreement', `${name}: ${flag} / ${s.subjectKey}: ${r.code(i, j)} ${r.value(i, j)} vs ${e.code} ${e.value}`);
    }));
  };
  check('assignMany', c.assignMany(objects[0]!, WORKLOAD_FLAGS, { log: 'none' }));
  check('assignColumns', c.assignColumns(columnar[0]!, WORKLOAD_FLAGS, { log: 'none' }));
  check('assignMany (kernel js)', cJs.assignMany(objects[0]!, WORKLOAD_FLAGS, { log: 'none' }));
  validation['batch agreement'] = `assignMany (WASM rule engine and JS kernel) and assignColumns equal evaluate() on ${BATCH} subjects × ${WORKLOAD_FLAGS.length} flags`;
  // Reference checksum of each window: valueCode of the reference evaluator's value (null when not MATCH) of every
  // subject × flag, the values a batch row reads.
  const windowRef = objects.map((list) => {
    let sum = 0;
    for (const s of list) for (const flag of WORKLOAD_FLAGS) sum += valueCode(c.evaluate(flag, s.subjectKey, s.subjectAttributes).value);
    return sum;
  });
  const unit = BATCH_N * WORKLOAD_FLAGS.length;
  /** Every value of a result read through values(j), summed. */
  const readValues = (r: BatchResult): number => {
    let a = 0;
    for (let j = 0; j < WORKLOAD_FLAGS.length; j++) {
      const v = r.values(j);
      for (let i = 0; i < v.length; i++) a += valueCode(v[i]);
    }
    return a;
  };
  /** Every value read cell by cell with r.value(i, j), as the first API invited. */
  const readCells = (r: BatchResult): number => {
    let a = 0;
    for (let i = 0; i < r.size; i++) for (let j = 0; j < WORKLOAD_FLAGS.length; j++) a += valueCode(r.value(i, j));
    return a;
  };
  /** A row calling `call` on window after window; `read` consumes the result, checked against windowRef. */
  const cycle = <T>(list: T[], call: (x: T) => BatchResult, read: ((r: BatchResult) => number) | null): (() => void) => {
    let w = 0;
    let got = 0;
    let want = 0;
    if (read) pendingChecks.push({ name: '', check: () => ({ got, want }) });
    return () => {
      const r = call(list[w]!);
      if (read) {
        got += read(r);
        want += windowRef[w]!;
      } else sink += r.size & 1;
      if (++w === list.length) w = 0;
    };
  };
  const per = `${BATCH_N.toLocaleString('en-US')} subjects × ${WORKLOAD_FLAGS.length} flags per call`;
  const none = { log: 'none' } as const;
  await run('batch', 'saltshard assignMany (JS objects), every value read', unit, cycle(objects, (x) => c.assignMany(x, WORKLOAD_FLAGS, none), readValues),
    `${per}; log: 'none'; every value read through values(j), checksum validated`);
  await run('batch', 'saltshard assignColumns (pre-encoded keys, columns), every value read', unit, cycle(columnar, (x) => c.assignColumns(x, WORKLOAD_FLAGS, none), readValues),
    `${per}; log: 'none'; every value read through values(j), checksum validated`);
  await run('batch', 'saltshard assignMany (JS objects), default options, no logger, every value read', unit, cycle(objects, (x) => c.assignMany(x, WORKLOAD_FLAGS), readValues),
    `${per}; default log: 'dedupe' with no assignmentLogger (100 events queued, then none built); values(j), checksum validated`);
  await run('batch', 'saltshard assignMany (JS objects), every value read with r.value(i, j)', unit, cycle(objects, (x) => c.assignMany(x, WORKLOAD_FLAGS, none), readCells),
    `${per}; log: 'none'; one value(i, j) call per cell, checksum validated`);
  await run('batch', 'saltshard assignMany (JS objects), kernel js, every value read', unit, cycle(objects, (x) => cJs.assignMany(x, WORKLOAD_FLAGS, none), readValues),
    'no WASM: the reference evaluator with @noble/hashes md5; values(j), checksum validated');
  await run('batch', 'saltshard assignColumns (pre-encoded keys, columns), evaluation only, results not read', unit, cycle(columnar, (x) => c.assignColumns(x, WORKLOAD_FLAGS, none), null),
    `${per}; the old row: values are decoded only when read, and this row reads none`);
  await run('batch', 'saltshard assignMany (JS objects), evaluation only, results not read', unit, cycle(objects, (x) => c.assignMany(x, WORKLOAD_FLAGS, none), null),
    `${per}; the old row: values are decoded only when read, and this row reads none`);
}

// Shards.
{
  const K = 1000;
  const keyTask = (shard: (key: string) => number): (() => void) => {
    let cursor = 0;
    return () => {
      let acc = 0;
      for (let j = 0; j < K; j++) {
        acc += shard(keys[cursor]!);
        if (++cursor === N_SUBJECTS) cursor = 0;
      }
      sink += acc & 1;
    };
  };
  await run('shard', 'WASM shard() single call (string key)', K, keyTask((k) => wasm.shard(saltDashBytes, k, TOTAL)), 'UTF-8 encode into WASM memory + one md5 call per key');
  for (const batch of [1, 100, 10_000, 1_000_000]) {
    if (batch > N_SUBJECTS) continue;
    const calls = Math.max(1, Math.floor(1000 / batch));
    let cursor = 0;
    await run('shard', `WASM shardBatchInto, batch ${batch.toLocaleString('en-US')}`, calls * batch, () => {
      for (let j = 0; j < calls; j++) {
        if (cursor + batch > N_SUBJECTS) cursor = 0;
        wasm.shardBatchInto(saltDashBytes, arena, offsets.subarray(cursor, cursor + batch + 1), TOTAL, batchOut);
        cursor += batch;
      }
    }, 'pre-packed UTF-8 arena + offsets; includes argument checks and the copy into WASM memory');
  }
  await run('shard', 'JS kernel shard() (@noble/hashes)', K, keyTask((k) => jsKernel.shard(saltDashBytes, k, TOTAL)), "saltshard's fallback");
  await run('shard', 'js-md5 .array() (string concat)', K, keyTask(shardJsMd5));
  await run('shard', '@noble/hashes md5 (TextEncoder)', K, keyTask(shardNoble));
  await run('shard', 'node:crypto createHash("md5")', K, keyTask(shardCrypto));
}

const result = {
  runtime,
  runtimeVersion,
  subjects: N_SUBJECTS,
  growthbookFlagdSubjects: GB_POOL,
  timeMsPerTask: TIME_MS,
  largeConfigBytes: largeText.length,
  eventsLoggedDuringLoggerRun: eventsLogged,
  coldFirst,
  validation,
  checksums,
  rows,
  sink,
};
console.log(`BENCH_JSON ${JSON.stringify(result)}`);
