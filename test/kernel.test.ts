import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  createJsKernel,
  createWasmKernel,
  getKernel,
  selectKernel,
  wasmSimdSupported,
  WasmTrapError,
  type KernelExports,
  type ShardKernel,
  type WasmKernelOptions,
} from '../src/wasm/kernel.ts';
import { WASM_BASE64, WASM_SHA256, WASM_SIMD_BASE64, WASM_SIMD_SHA256 } from '../src/wasm/bytes.generated.ts';
import { ROOT } from './support.ts';
import { mulberry32 } from './gen-config.ts';

const t = suite('kernel');
const enc = new TextEncoder();

/** Independent oracle: node:crypto md5, first 4 bytes big-endian, unsigned mod. */
function oracle(salt: string, key: string, totalShards: number): number {
  const d = createHash('md5').update(`${salt}-${key}`, 'utf8').digest();
  return d.readUInt32BE(0) % totalShards;
}


// One code point each of 1, 2, 3 and 4 UTF-8 bytes, plus a few more of each class.
const ALPHABET = ['a', 'Z', '0', '-', '_', ' ', '~', 'é', 'ß', 'ж', '中', '€', 'ㅎ', '🤗', '😀', '𝄞'];

function randomString(r: () => number, maxCodePoints: number): string {
  const n = Math.floor(r() * (maxCodePoints + 1));
  let s = '';
  const mode = r();
  for (let i = 0; i < n; i++) {
    if (mode < 0.5) s += String.fromCharCode(0x20 + Math.floor(r() * 95)); // printable ASCII
    else s += ALPHABET[Math.floor(r() * ALPHABET.length)];
  }
  return s;
}

/** An ASCII key such that utf8(salt + "-" + key) is exactly `total` bytes (total >= salt bytes + 1). */
function keyForTotal(salt: string, total: number): string {
  return 'k'.repeat(total - enc.encode(`${salt}-`).length);
}

function encodeBatch(keys: string[]): { arena: Uint8Array; offsets: Uint32Array } {
  const parts = keys.map((k) => enc.encode(k));
  const offsets = new Uint32Array(keys.length + 1);
  let total = 0;
  parts.forEach((p, i) => {
    offsets[i] = total;
    total += p.length;
  });
  offsets[keys.length] = total;
  const arena = new Uint8Array(total);
  parts.forEach((p, i) => arena.set(p, offsets[i]!));
  return { arena, offsets };
}

const SHARD_COUNTS = [1, 2, 10000, 2 ** 31 - 1, 2 ** 31, 2 ** 32 - 1];
const BOUNDARIES = [0, 1, 54, 55, 56, 57, 63, 64, 65, 118, 119, 120, 121, 127, 128, 129, 183, 184, 191, 192, 193];

function checkWorkedExamples(k: ShardKernel): void {
  assert.equal(k.shard(enc.encode('split-json-flag-'), 'alice', 10000), 2969);
  assert.equal(k.shard(enc.encode('split-json-flag-'), 'alice', 2 ** 32 - 1), 2095582969);
  assert.equal(k.shard(enc.encode('salt-'), '🤗', 10000), 2131);
  assert.equal(k.shard(enc.encode('salt-'), '🤗', 2 ** 32 - 1), 4220832131);
  assert.equal(k.shard(enc.encode('traffic-new-user-onboarding-experiment-'), '18', 10000), 9024);
}

function checkAgainstOracle(k: ShardKernel, n: number, seed: number): void {
  const r = mulberry32(seed);
  const saltCache = new Map<string, Uint8Array>();
  for (let i = 0; i < n; i++) {
    const salt = randomString(r, 24);
    let saltDash = saltCache.get(salt);
    if (saltDash === undefined) {
      saltDash = enc.encode(`${salt}-`);
      if (saltCache.size < 1000) saltCache.set(salt, saltDash);
    }
    // Mostly short keys, some spanning 2-3 blocks.
    const key = randomString(r, r() < 0.8 ? 16 : 60);
    const total = SHARD_COUNTS[i % SHARD_COUNTS.length]!;
    const got = k.shard(saltDash, key, total);
    const want = oracle(salt, key, total);
    if (got !== want) assert.fail(`shard(${JSON.stringify(salt)}, ${JSON.stringify(key)}, ${total}) = ${got}, want ${want}`);
  }
}

t('worked examples hold on the wasm kernels, simd and scalar (2969, 2131, 9024)', () => {
  for (const variant of ['simd', 'scalar'] as const) {
    const k = createWasmKernel({ variant });
    checkWorkedExamples(k);
    checkWorkedExamples(k); // salt cache hits
    checkWorkedExamples(createWasmKernel({ variant, saltCache: false }));
  }
});

t('worked examples hold on the js kernel (2969, 2131, 9024)', () => {
  checkWorkedExamples(createJsKernel());
});

t('getKernel() is the wasm backend and a cached singleton', () => {
  assert.equal(getKernel().backend, 'wasm');
  assert.equal(getKernel(), getKernel());
  assert.equal(createJsKernel().backend, 'js');
});

t('variants: this runtime validates the SIMD module; auto picks simd; variant is exposed on every kernel', () => {
  assert.equal(wasmSimdSupported(), true);
  assert.equal(createWasmKernel().variant, 'simd');
  assert.equal(createWasmKernel({ variant: 'auto' }).variant, 'simd');
  assert.equal(createWasmKernel({ variant: 'simd' }).variant, 'simd');
  assert.equal(createWasmKernel({ variant: 'scalar' }).variant, 'scalar');
  assert.equal(createJsKernel().variant, 'js');
  if (process.env.SALTSHARD_KERNEL === undefined) assert.equal(getKernel().variant, 'simd');
});

t('selectKernel: SALTSHARD_KERNEL=js|wasm|wasm-scalar|wasm-simd (and unset/unknown = auto)', () => {
  const got = (v: string | undefined): string => {
    const k = selectKernel(v);
    return `${k.backend}/${k.variant}`;
  };
  assert.equal(got('js'), 'js/js');
  assert.equal(got('wasm'), 'wasm/simd');
  assert.equal(got('wasm-simd'), 'wasm/simd');
  assert.equal(got('wasm-scalar'), 'wasm/scalar');
  assert.equal(got(undefined), 'wasm/simd');
  assert.equal(got('nonsense'), 'wasm/simd');
  for (const v of ['js', 'wasm', 'wasm-simd', 'wasm-scalar']) checkWorkedExamples(selectKernel(v));
});

t('getKernel() honours SALTSHARD_KERNEL in a fresh process (js, wasm, wasm-scalar, wasm-simd, unset)', () => {
  const g = globalThis as { Deno?: { execPath(): string }; Bun?: unknown };
  const runtime = g.Deno ? 'deno' : g.Bun ? 'bun' : 'node';
  const modPath = runtime === 'node' ? join(ROOT, 'dist', 'src', 'wasm', 'kernel.js') : join(ROOT, 'src', 'wasm', 'kernel.ts');
  const code = `import { getKernel } from ${JSON.stringify(pathToFileURL(modPath).href)}; const k = getKernel(); console.log('KERNEL ' + k.backend + '/' + k.variant + ' ' + k.shard(new TextEncoder().encode('split-json-flag-'), 'alice', 10000));`;
  const exe = g.Deno ? g.Deno.execPath() : process.execPath;
  const args = runtime === 'deno' ? ['eval', code] : runtime === 'bun' ? ['-e', code] : ['--input-type=module', '-e', code];
  const cases: [string | undefined, string][] = [['js', 'js/js'], ['wasm', 'wasm/simd'], ['wasm-scalar', 'wasm/scalar'], ['wasm-simd', 'wasm/simd'], [undefined, 'wasm/simd']];
  for (const [value, want] of cases) {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== 'SALTSHARD_KERNEL') env[k] = v;
    if (value !== undefined) env.SALTSHARD_KERNEL = value;
    const r = spawnSync(exe, args, { cwd: ROOT, env, encoding: 'utf8', timeout: 60_000 });
    const line = `${r.stdout ?? ''}`.split('\n').find((l) => l.startsWith('KERNEL '));
    assert.equal(line, `KERNEL ${want} 2969`, `SALTSHARD_KERNEL=${value}: ${r.stdout}${r.stderr}`);
  }
});

t('embedded WASM_SHA256 / WASM_SIMD_SHA256 match the embedded bytes; only the SIMD module uses SIMD', () => {
  const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), WASM_SHA256);
  const simd = Uint8Array.from(atob(WASM_SIMD_BASE64), (c) => c.charCodeAt(0));
  assert.equal(createHash('sha256').update(simd).digest('hex'), WASM_SIMD_SHA256);
  const flag = (b: Uint8Array): number => (new WebAssembly.Instance(new WebAssembly.Module(b as Uint8Array<ArrayBuffer>), {}).exports as unknown as KernelExports).simd!();
  assert.equal(flag(bytes), 0);
  assert.equal(flag(simd), 1);
});

t('shard() matches md5 oracle on 100k random keys per wasm variant (ASCII, 2/3/4-byte UTF-8, empty)', () => {
  checkAgainstOracle(createWasmKernel({ variant: 'simd' }), 100_000, 1);
  checkAgainstOracle(createWasmKernel({ variant: 'scalar' }), 100_000, 11);
  checkAgainstOracle(createWasmKernel({ variant: 'simd', saltCache: false }), 20_000, 12);
});

t('js kernel shard() matches md5 oracle on 20k random keys', () => {
  checkAgainstOracle(createJsKernel(), 20_000, 2);
});

t('shard() matches oracle at every MD5 block boundary (total message length 0..193 incl. 55/56/63/64/119/120)', () => {
  const kernels = [createWasmKernel({ variant: 'simd' }), createWasmKernel({ variant: 'scalar' }), createJsKernel()];
  for (const salt of ['', 's', 'split-json-flag', 'é中🤗']) {
    const saltDash = enc.encode(`${salt}-`);
    for (let total = saltDash.length; total <= 193; total++) {
      const key = keyForTotal(salt, total);
      for (const k of kernels) assert.equal(k.shard(saltDash, key, 2 ** 32 - 1), oracle(salt, key, 2 ** 32 - 1), `${k.backend} total=${total} salt=${salt}`);
    }
    // Multi-byte keys landing on the boundaries too.
    for (const b of BOUNDARIES) {
      for (const unit of ['é', '中', '🤗']) {
        const want = b - saltDash.length;
        if (want < 0) continue;
        const ub = enc.encode(unit).length;
        const key = unit.repeat(Math.floor(want / ub)) + 'x'.repeat(want % ub);
        assert.equal(enc.encode(`${salt}-${key}`).length, b);
        for (const k of kernels) assert.equal(k.shard(saltDash, key, 10000), oracle(salt, key, 10000), `${k.backend} ${unit} total=${b}`);
      }
    }
  }
});

t('empty salt bytes and empty key hash md5("") / md5("-")', () => {
  const k = createWasmKernel();
  // md5("") = d41d8cd9..., md5("-") = 336d5ebc...
  assert.equal(k.shard(new Uint8Array(0), '', 2 ** 32 - 1), 0xd41d8cd9);
  assert.equal(k.shard(enc.encode('-'), '', 2 ** 32 - 1), 0x336d5ebc % (2 ** 32 - 1));
});

t('salts longer than one block and longer than the salt slot match the oracle', () => {
  const kernels = [createWasmKernel(), createJsKernel()];
  const r = mulberry32(3);
  for (const saltLen of [63, 64, 65, 200, 1023, 1024, 1025, 5000]) {
    const salt = `é${'S'.repeat(saltLen - 2)}`; // saltLen UTF-8 bytes
    for (let i = 0; i < 20; i++) {
      const key = randomString(r, 80);
      const saltDash = enc.encode(`${salt}-`);
      for (const k of kernels) assert.equal(k.shard(saltDash, key, 10000), oracle(salt, key, 10000), `${k.backend} saltLen=${saltLen}`);
      const { arena, offsets } = encodeBatch([key, '', key + key]);
      const out = new Uint32Array(3);
      for (const k of kernels) {
        k.shardBatchInto(saltDash, arena, offsets, 10000, out);
        assert.deepEqual([...out], [oracle(salt, key, 10000), oracle(salt, '', 10000), oracle(salt, key + key, 10000)]);
      }
    }
  }
});

t('totalShards of 1, 10000, 2^31-1, 2^31 and 2^32-1 use unsigned arithmetic', () => {
  const k = createWasmKernel();
  const r = mulberry32(4);
  for (let i = 0; i < 2000; i++) {
    const key = randomString(r, 20);
    const saltDash = enc.encode('flag-');
    for (const total of SHARD_COUNTS) {
      const got = k.shard(saltDash, key, total);
      assert.equal(got, oracle('flag', key, total));
      assert.ok(got >= 0 && got < total);
    }
  }
  assert.equal(k.shard(enc.encode('any-'), 'thing', 1), 0);
});

t('invalid totalShards (0, negative, fractional, >= 2^32, NaN) throws RangeError on both kernels', () => {
  for (const k of [createWasmKernel(), createJsKernel()]) {
    for (const bad of [0, -1, 1.5, 2 ** 32, NaN, Infinity]) {
      assert.throws(() => k.shard(enc.encode('a-'), 'b', bad), RangeError);
      assert.throws(() => k.shardBatchInto(enc.encode('a-'), new Uint8Array(1), new Uint32Array([0, 1]), bad, new Uint32Array(1)), RangeError);
    }
  }
});

t('shardBatchInto equals single shard() on random batches (count 0, 1, small, and larger than the scratch)', () => {
  const wasm = createWasmKernel();
  const js = createJsKernel();
  const r = mulberry32(5);
  for (const count of [0, 1, 2, 3, 17, 100, 1000, 30_000, 100_000]) {
    const salt = randomString(r, 20);
    const saltDash = enc.encode(`${salt}-`);
    const keys = Array.from({ length: count }, () => randomString(r, r() < 0.9 ? 20 : 150));
    const { arena, offsets } = encodeBatch(keys);
    const out = new Uint32Array(count).fill(0xdeadbeef);
    wasm.shardBatchInto(saltDash, arena, offsets, 10000, out);
    for (let i = 0; i < count; i++) {
      const want = wasm.shard(saltDash, keys[i]!, 10000);
      if (out[i] !== want) assert.fail(`count=${count} i=${i}: batch ${out[i]} != single ${want}`);
    }
    if (count <= 1000) {
      const outJs = new Uint32Array(count);
      js.shardBatchInto(saltDash, arena, offsets, 10000, outJs);
      assert.deepEqual(outJs, out);
      for (let i = 0; i < count; i++) assert.equal(out[i], oracle(salt, keys[i]!, 10000));
    }
  }
});

t('shardBatchInto handles offsets not starting at 0, oversized out, empty offsets, and chunked 8 MB arenas', () => {
  const k = createWasmKernel();
  const saltDash = enc.encode('exp-');
  // Offsets into the middle of an arena.
  const arena = enc.encode('XXXXaliceboBcarol');
  const offsets = new Uint32Array([4, 9, 12, 17]);
  const out = new Uint32Array(5).fill(7);
  k.shardBatchInto(saltDash, arena, offsets, 2 ** 32 - 1, out);
  assert.deepEqual([...out], [oracle('exp', 'alice', 2 ** 32 - 1), oracle('exp', 'boB', 2 ** 32 - 1), oracle('exp', 'carol', 2 ** 32 - 1), 7, 7]);
  k.shardBatchInto(saltDash, arena, new Uint32Array(0), 10, new Uint32Array(0));
  k.shardBatchInto(saltDash, arena, new Uint32Array([3]), 10, new Uint32Array(0));
  // Bigger than one chunk (4 MB / 65536 keys): 8 MB over 4 keys, and 200k tiny keys.
  const big = ['a'.repeat(3 << 20), 'b', 'c'.repeat(3 << 20), 'd'.repeat(2 << 20)];
  const b = encodeBatch(big);
  const bigOut = new Uint32Array(4);
  k.shardBatchInto(saltDash, b.arena, b.offsets, 10000, bigOut);
  assert.deepEqual([...bigOut], big.map((key) => oracle('exp', key, 10000)));
  const many = Array.from({ length: 200_000 }, (_, i) => `u${i}`);
  const m = encodeBatch(many);
  const manyOut = new Uint32Array(many.length);
  k.shardBatchInto(saltDash, m.arena, m.offsets, 10000, manyOut);
  for (let i = 0; i < many.length; i += 997) assert.equal(manyOut[i], oracle('exp', many[i]!, 10000));
  assert.equal(manyOut[many.length - 1], oracle('exp', many[many.length - 1]!, 10000));
});

t('shardBatchInto rejects decreasing offsets, offsets past the arena, and a short out array', () => {
  for (const k of [createWasmKernel(), createJsKernel()]) {
    const arena = enc.encode('abcdef');
    assert.throws(() => k.shardBatchInto(enc.encode('s-'), arena, new Uint32Array([0, 4, 2]), 10, new Uint32Array(2)), RangeError);
    assert.throws(() => k.shardBatchInto(enc.encode('s-'), arena, new Uint32Array([0, 7]), 10, new Uint32Array(1)), RangeError);
    assert.throws(() => k.shardBatchInto(enc.encode('s-'), arena, new Uint32Array([0, 1, 2]), 10, new Uint32Array(1)), RangeError);
  }
});

t('a 1 MB key works (ASCII and multi-byte), growing wasm memory', () => {
  const kernels = [createWasmKernel(), createJsKernel()];
  const ascii = 'x'.repeat(1 << 20);
  const multi = '中🤗é'.repeat(1 << 17);
  for (const key of [ascii, multi, 'short-after-growth']) {
    for (const k of kernels) assert.equal(k.shard(enc.encode('big-'), key, 2 ** 32 - 1), oracle('big', key, 2 ** 32 - 1), `${k.backend} len=${key.length}`);
  }
});

t('ASCII fast path and encodeInto path agree when a non-ASCII char appears late', () => {
  const k = createWasmKernel();
  for (const n of [1, 10, 127, 128, 129, 300]) {
    for (const tail of ['', 'é', '中', '🤗']) {
      const key = 'a'.repeat(n) + tail;
      assert.equal(k.shard(enc.encode('late-'), key, 10000), oracle('late', key, 10000));
    }
  }
});

/** Oracle over raw bytes: node:crypto md5 of saltDash ++ key bytes. */
function oracleBytes(saltDash: Uint8Array, key: Uint8Array, totalShards: number): number {
  return createHash('md5').update(saltDash).update(key).digest().readUInt32BE(0) % totalShards;
}

/** A key whose UTF-8 is exactly `bytes` long: ASCII or a mix of 1-4 byte code points, chosen by r. */
function keyOfBytes(r: () => number, bytes: number): string {
  let s = '';
  let left = bytes;
  const multi = r() < 0.5;
  while (left > 0) {
    if (!multi || left < 4) {
      s += String.fromCharCode(0x21 + Math.floor(r() * 94));
      left -= 1;
    } else {
      const u = ['é', '中', '🤗'][Math.floor(r() * 3)]!;
      s += u;
      left -= u === 'é' ? 2 : u === '中' ? 3 : 4;
    }
  }
  return s;
}

/** Kernels that count wasm traps (a trap would be silently answered by JS, so tests must look for them). */
function countingKernel(options: WasmKernelOptions): { k: ShardKernel; traps: () => number } {
  let traps = 0;
  const k = createWasmKernel({
    ...options,
    wrapExports: (ex) => ({
      memory: ex.memory,
      heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h),
      simd: ex.simd,
      md5Prefix32(ptr, len) {
        try {
          return ex.md5Prefix32(ptr, len);
        } catch (e) {
          traps++;
          throw e;
        }
      },
      shardBatch(...args) {
        try {
          ex.shardBatch(...args);
        } catch (e) {
          traps++;
          throw e;
        }
      },
    }),
  });
  return { k, traps: () => traps };
}

t('batch: simd == scalar == node:crypto on 100k random keys per variant (boundary lengths, odd batch sizes 0-7, long salts)', () => {
  const simd = countingKernel({ variant: 'simd' });
  const scalar = countingKernel({ variant: 'scalar' });
  assert.equal(simd.k.variant, 'simd');
  assert.equal(scalar.k.variant, 'scalar');
  const r = mulberry32(21);
  // Salt byte lengths so that salt tail + key crosses the 55/56 (one/two blocks), 63/64, 119/120, 183/184 and
  // 247/248 (SIMD queue limit) boundaries from many tails, including salts of more than one block.
  const saltLens = [1, 2, 5, 16, 21, 40, 54, 55, 56, 63, 64, 65, 100, 127, 128, 130, 300];
  const boundary = [0, 1, 54, 55, 56, 57, 62, 63, 64, 65, 118, 119, 120, 121, 182, 183, 184, 185, 246, 247, 248, 249, 300];
  const TOTALS = [10000, 2 ** 32 - 1, 7];
  let checked = 0;
  let batchNo = 0;
  while (checked < 100_000) {
    const saltLen = saltLens[batchNo % saltLens.length]!;
    const saltDash = enc.encode(keyOfBytes(r, saltLen - 1) + '-');
    const tail = saltDash.length % 64;
    // Mostly small batches (0..7, so queues are flushed partly filled), sometimes larger ones.
    const count = r() < 0.7 ? Math.floor(r() * 8) : 8 + Math.floor(r() * 600);
    const keys: string[] = [];
    for (let i = 0; i < count; i++) {
      const x = r();
      let len: number;
      if (x < 0.45) len = Math.floor(r() * Math.max(1, 56 - tail)); // one block
      else if (x < 0.85) len = Math.max(0, boundary[Math.floor(r() * boundary.length)]! - tail + (r() < 0.5 ? 0 : Math.floor(r() * 3) - 1));
      else len = Math.floor(r() * 400);
      keys.push(keyOfBytes(r, Math.max(0, len)));
    }
    const { arena, offsets } = encodeBatch(keys);
    const total = TOTALS[batchNo % TOTALS.length]!;
    const a = new Uint32Array(count + 2).fill(0xdeadbeef);
    const b = new Uint32Array(count + 2).fill(0xdeadbeef);
    simd.k.shardBatchInto(saltDash, arena, offsets, total, a);
    scalar.k.shardBatchInto(saltDash, arena, offsets, total, b);
    for (let i = 0; i < count; i++) {
      const want = oracleBytes(saltDash, arena.subarray(offsets[i]!, offsets[i + 1]!), total);
      if (a[i] !== want || b[i] !== want) {
        assert.fail(`batch ${batchNo} salt ${saltDash.length} B, key ${i} of ${count} (${offsets[i + 1]! - offsets[i]!} B): simd ${a[i]} scalar ${b[i]} want ${want}`);
      }
    }
    assert.equal(a[count], 0xdeadbeef, 'simd wrote past count');
    assert.equal(b[count], 0xdeadbeef, 'scalar wrote past count');
    checked += count;
    batchNo++;
  }
  assert.equal(simd.traps(), 0);
  assert.equal(scalar.traps(), 0);
});

t('batch: every remainder length 0..260 for every salt tail 0..63 (simd and scalar, in groups of 1..9)', () => {
  const kernels = [createWasmKernel({ variant: 'simd' }), createWasmKernel({ variant: 'scalar' })];
  for (let tail = 0; tail < 64; tail++) {
    const saltDash = enc.encode('s'.repeat(tail === 0 ? 63 : tail - 1) + '-');
    const keys: string[] = [];
    for (let rem = tail; rem <= 260; rem++) keys.push('k'.repeat(rem - tail));
    const group = (tail % 9) + 1;
    for (let i = 0; i < keys.length; i += group) {
      const part = keys.slice(i, i + group);
      const { arena, offsets } = encodeBatch(part);
      for (const k of kernels) {
        const out = new Uint32Array(part.length);
        k.shardBatchInto(saltDash, arena, offsets, 2 ** 32 - 1, out);
        for (let j = 0; j < part.length; j++) {
          const want = oracleBytes(saltDash, enc.encode(part[j]!), 2 ** 32 - 1);
          if (out[j] !== want) assert.fail(`${k.variant} tail ${tail} key ${part[j]!.length} B: ${out[j]} != ${want}`);
        }
      }
    }
  }
});

t('kernel fuzz: random sizes, subarrays at odd byteOffsets, growing arenas: no trap, no stray writes, simd == scalar == oracle', () => {
  const simd = countingKernel({ variant: 'simd' });
  const scalar = countingKernel({ variant: 'scalar' });
  const r = mulberry32(22);
  for (let iter = 0; iter < 400; iter++) {
    const big = iter % 50 === 49; // now and then an arena of several MB, which grows wasm memory
    const count = big ? 3 + Math.floor(r() * 5) : Math.floor(r() * 40);
    const lens = Array.from({ length: count }, () => (big ? Math.floor(r() * (2 << 20)) : r() < 0.8 ? Math.floor(r() * 70) : Math.floor(r() * 600)));
    const pre = Math.floor(r() * 17); // arena starts this many bytes into its offsets' coordinate space
    const arenaLen = pre + lens.reduce((x, y) => x + y, 0) + Math.floor(r() * 9);
    // Arena, offsets and out are views at odd/unaligned offsets into larger buffers filled with noise.
    const arenaBuf = new Uint8Array(arenaLen + 37);
    for (let i = 0; i < arenaBuf.length; i += 1 + (big ? 4093 : 0)) arenaBuf[i] = Math.floor(r() * 256);
    const aOff = 1 + Math.floor(r() * 31);
    const arena = arenaBuf.subarray(aOff, aOff + arenaLen);
    const offBuf = new Uint32Array(count + 1 + 7);
    const oOff = Math.floor(r() * 5);
    const offsets = offBuf.subarray(oOff, oOff + count + 1);
    let pos = pre;
    for (let i = 0; i < count; i++) {
      offsets[i] = pos;
      pos += lens[i]!;
    }
    offsets[count] = pos;
    const outBuf = new Uint32Array(count + 9).fill(0xa5a5a5a5);
    const outOff = Math.floor(r() * 4);
    const saltDash = enc.encode(keyOfBytes(r, Math.floor(r() * 140)) + '-').subarray(0);
    const total = [1, 3, 10000, 2 ** 31, 2 ** 32 - 1][iter % 5]!;
    const a = outBuf.slice();
    const b = outBuf.slice();
    simd.k.shardBatchInto(saltDash, arena, offsets, total, a.subarray(outOff, outOff + count));
    scalar.k.shardBatchInto(saltDash, arena, offsets, total, b.subarray(outOff, outOff + count));
    for (let i = 0; i < outBuf.length; i++) {
      if (i >= outOff && i < outOff + count) {
        const k = i - outOff;
        if (a[i] !== b[i]) assert.fail(`iter ${iter} key ${k}: simd ${a[i]} != scalar ${b[i]}`);
        if (!big || k < 2) {
          const want = oracleBytes(saltDash, arena.subarray(offsets[k]!, offsets[k + 1]!), total);
          if (a[i] !== want) assert.fail(`iter ${iter} key ${k}: ${a[i]} != oracle ${want}`);
        }
      } else {
        assert.equal(a[i], 0xa5a5a5a5, `simd wrote out[${i}] outside its window`);
        assert.equal(b[i], 0xa5a5a5a5, `scalar wrote out[${i}] outside its window`);
      }
    }
    // Single calls interleaved with batches (the salt cache must survive batches and memory growth).
    if (count > 0) {
      const key = new TextDecoder().decode(arena.subarray(offsets[0]!, offsets[1]!));
      if (enc.encode(key).length === offsets[1]! - offsets[0]!) {
        const want = oracleBytes(saltDash, enc.encode(key), total);
        assert.equal(simd.k.shard(saltDash, key, total), want);
        assert.equal(scalar.k.shard(saltDash, key, total), want);
      }
    }
  }
  assert.equal(simd.traps(), 0);
  assert.equal(scalar.traps(), 0);
});

t('shard() salt cache: many interleaved salts (evictions), long salts, long keys, and after memory growth', () => {
  for (const variant of ['simd', 'scalar'] as const) {
    const { k, traps } = countingKernel({ variant });
    const r = mulberry32(23);
    const salts = Array.from({ length: 20 }, (_, i) => `salt${i}-${'x'.repeat(i * 17)}`); // up to ~330 bytes: some uncacheable
    const saltBytes = salts.map((s) => enc.encode(`${s}-`));
    for (let i = 0; i < 20_000; i++) {
      // Skewed: mostly a few hot salts, sometimes any of the 20 (more than the 8 cache entries).
      const j = r() < 0.7 ? Math.floor(r() * 3) : Math.floor(r() * salts.length);
      const key = randomString(r, r() < 0.95 ? 20 : 200); // 200 code points can exceed a cache entry's key area
      const got = k.shard(saltBytes[j]!, key, 10000);
      const want = oracle(salts[j]!, key, 10000);
      if (got !== want) assert.fail(`${variant} salt ${j} key ${JSON.stringify(key)}: ${got} != ${want}`);
      if (i === 10_000) assert.equal(k.shard(saltBytes[0]!, 'x'.repeat(3 << 20), 10000), oracle(salts[0]!, 'x'.repeat(3 << 20), 10000));
    }
    assert.equal(traps(), 0);
  }
});

for (const variant of ['simd', 'scalar'] as const) {
t(`${variant}: a wasm trap is answered by the js kernel, the module is re-instantiated, and wasm resumes`, () => {
  let instances = 0;
  let trapNext = false;
  let wasmCalls = 0;
  const k = createWasmKernel({
    variant,
    wrapExports(ex: KernelExports): KernelExports {
      instances++;
      return {
        memory: ex.memory,
        heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h),
        md5Prefix32(ptr, len) {
          wasmCalls++;
          if (trapNext) {
            trapNext = false;
            throw new WebAssembly.RuntimeError('unreachable (injected)');
          }
          return ex.md5Prefix32(ptr, len);
        },
        shardBatch(...args) {
          wasmCalls++;
          if (trapNext) {
            trapNext = false;
            throw new WebAssembly.RuntimeError('unreachable (injected)');
          }
          ex.shardBatch(...args);
        },
      };
    },
  });
  assert.equal(instances, 1);
  assert.equal(k.variant, variant);
  const saltDash = enc.encode('split-json-flag-');
  trapNext = true;
  assert.equal(k.shard(saltDash, 'alice', 10000), 2969);
  assert.equal(instances, 2);
  const before = wasmCalls;
  assert.equal(k.shard(saltDash, 'alice', 10000), 2969);
  assert.equal(wasmCalls, before + 1, 'wasm used again after recovery');
  trapNext = true;
  const { arena, offsets } = encodeBatch(['alice', 'bob', '中']);
  const out = new Uint32Array(3);
  k.shardBatchInto(saltDash, arena, offsets, 10000, out);
  assert.deepEqual([...out], ['alice', 'bob', '中'].map((key) => oracle('split-json-flag', key, 10000)));
  assert.equal(instances, 3);
  // Non-trap errors are not swallowed.
  let armed = false;
  const k2 = createWasmKernel({
    variant,
    wrapExports: (ex) => ({
      memory: ex.memory,
      heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h),
      md5Prefix32(ptr, len) {
        if (armed) throw new TypeError('boom');
        return ex.md5Prefix32(ptr, len);
      },
      shardBatch: (...args) => ex.shardBatch(...args),
    }),
  });
  armed = true;
  assert.throws(() => k2.shard(saltDash, 'alice', 10000), TypeError);
});
}

t('a module failing its self-check raises WasmTrapError (auto, simd, scalar; single and batch paths)', () => {
  for (const variant of ['auto', 'simd', 'scalar'] as const) {
    assert.throws(
      () => createWasmKernel({ variant, wrapExports: (ex) => ({ memory: ex.memory, heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h), md5Prefix32: () => 0, shardBatch: ex.shardBatch }) }),
      WasmTrapError,
    );
    // A batch path that returns wrong shards (here: leaves out[] untouched) is caught too.
    assert.throws(
      () => createWasmKernel({ variant, wrapExports: (ex) => ({ memory: ex.memory, heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h), md5Prefix32: (p, l) => ex.md5Prefix32(p, l), shardBatch: () => {} }) }),
      WasmTrapError,
    );
    // A trap during the self-check is reported as WasmTrapError, not as a RuntimeError.
    assert.throws(
      () => createWasmKernel({ variant, wrapExports: (ex) => ({ memory: ex.memory, heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h), md5Prefix32: () => { throw new WebAssembly.RuntimeError('unreachable'); }, shardBatch: ex.shardBatch }) }),
      WasmTrapError,
    );
  }
});

t('auto selection falls back to scalar when the SIMD module fails its self-check', () => {
  let built = 0;
  const k = createWasmKernel({
    wrapExports(ex) {
      built++;
      const isSimd = ex.simd?.() === 1;
      return { memory: ex.memory, heapBase: () => ex.heapBase(), evalRules: (h) => ex.evalRules(h), formatCells: (h) => ex.formatCells(h), simd: ex.simd, md5Prefix32: (p, l) => ex.md5Prefix32(p, l), shardBatch: isSimd ? () => {} : ex.shardBatch };
    },
  });
  assert.equal(k.variant, 'scalar');
  assert.equal(built, 2);
  checkWorkedExamples(k);
});

t.run();
