/**
 * Shard-kernel micro-benchmark: shards/s for the batch path (1,000,000 one-block keys) and the single-call
 * shard() path, per kernel variant (WASM SIMD, WASM scalar, JS). Plain timed loops, best of several rounds.
 * Node: `node dist/bench/kernel.bench.js`; Bun: `bun bench/kernel.bench.ts`; Deno: `deno run -A bench/kernel.bench.ts`.
 * Env: KBENCH_KEYS (default 1,000,000), KBENCH_ROUNDS (default 7), KBENCH_VARIANTS (comma list, default simd,scalar).
 */
import { createWasmKernel, type ShardKernel } from '../src/wasm/kernel.ts';

type G = { Deno?: { env: { get(k: string): string | undefined } }; Bun?: unknown; process?: { env: Record<string, string | undefined> } };
const g = globalThis as unknown as G;
const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
const env = (k: string): string | undefined => (g.Deno ? g.Deno.env.get(k) : g.process?.env[k]);

const N = Number(env('KBENCH_KEYS') ?? 1_000_000);
const ROUNDS = Number(env('KBENCH_ROUNDS') ?? 7);
const VARIANTS = (env('KBENCH_VARIANTS') ?? 'simd,scalar').split(',') as ('simd' | 'scalar')[];
/** KBENCH_SALTCACHE=0 disables shard()'s resident-salt cache (for before/after comparisons). */
const SALT_CACHE = env('KBENCH_SALTCACHE') !== '0';
const TOTAL = 10000;
const enc = new TextEncoder();

// Salts like Eppo's (flag key + "-"), keys like subject ids: salt + key ≤ 55 bytes, one md5 block.
const salts = ['new-checkout-rollout-', 'targeted-experiment-', 'internal-users-'].map((s) => enc.encode(s));
const keys: string[] = [];
for (let i = 0; i < N; i++) keys.push(`user-${i}-${((i * 2654435761) >>> 0).toString(16)}`);
const parts = keys.map((k) => enc.encode(k));
const offsets = new Uint32Array(N + 1);
let total = 0;
for (let i = 0; i < N; i++) {
  offsets[i] = total;
  total += parts[i]!.length;
}
offsets[N] = total;
const arena = new Uint8Array(total);
for (let i = 0; i < N; i++) arena.set(parts[i]!, offsets[i]!);
const out = new Uint32Array(N);

function best(fn: () => void, ops: number): number {
  let bestNs = Infinity;
  for (let r = 0; r < ROUNDS; r++) {
    const t = performance.now();
    fn();
    const ns = ((performance.now() - t) * 1e6) / ops;
    if (ns < bestNs) bestNs = ns;
  }
  return bestNs;
}

function report(name: string, ns: number): void {
  console.log(`${runtime.padEnd(5)} ${name.padEnd(44)} ${ns.toFixed(1).padStart(7)} ns  ${(1000 / ns).toFixed(2).padStart(6)} M shards/s`);
}

let sink = 0;
for (const variant of VARIANTS) {
  let k: ShardKernel;
  try {
    k = createWasmKernel({ variant, saltCache: SALT_CACHE });
  } catch (e) {
    console.log(`${runtime} ${variant}: unavailable (${(e as Error).message})`);
    continue;
  }
  const tag = `${k.backend}/${k.variant ?? '?'}${SALT_CACHE ? '' : ' (no salt cache)'}`;
  report(`${tag} batch ${N.toLocaleString('en-US')}`, best(() => k.shardBatchInto(salts[0]!, arena, offsets, TOTAL, out), N));
  const b100 = Math.min(100, N);
  report(`${tag} batch 100 (x ${Math.floor(N / b100)})`, best(() => {
    for (let i = 0; i + b100 <= N; i += b100) k.shardBatchInto(salts[0]!, arena, offsets.subarray(i, i + b100 + 1), TOTAL, out);
  }, Math.floor(N / b100) * b100));
  const M = Math.min(N, 300_000);
  report(`${tag} shard() one salt`, best(() => {
    let s = 0;
    for (let i = 0; i < M; i++) s += k.shard(salts[0]!, keys[i]!, TOTAL);
    sink += s;
  }, M));
  report(`${tag} shard() 3 salts round-robin`, best(() => {
    let s = 0;
    for (let i = 0; i < M; i++) s += k.shard(salts[i % 3]!, keys[i]!, TOTAL);
    sink += s;
  }, M));
}
if (sink === -1) console.log(sink);
