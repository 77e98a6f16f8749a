import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  createJsKernel,
  createWasmKernel,
  getKernel,
  WasmTrapError,
  type KernelExports,
  type ShardKernel,
} from '../src/wasm/kernel.ts';
import { WASM_BASE64, WASM_SHA256 } from '../src/wasm/bytes.generated.ts';

const t = suite('kernel');
const enc = new TextEncoder();

/** Independent oracle: node:crypto md5, first 4 bytes big-endian, unsigned mod. */
function oracle(salt: string, key: string, totalShards: number): number {
  const d = createHash('md5').update(`${salt}-${key}`, 'utf8').digest();
  return d.readUInt32BE(0) % totalShards;
}

/** Deterministic PRNG (mulberry32) so failures reproduce. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
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
  const r = rng(seed);
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

t('worked examples hold on the wasm kernel (2969, 2131, 9024)', () => {
  checkWorkedExamples(createWasmKernel());
});

t('worked examples hold on the js kernel (2969, 2131, 9024)', () => {
  checkWorkedExamples(createJsKernel());
});

t('getKernel() is the wasm backend and a cached singleton', () => {
  assert.equal(getKernel().backend, 'wasm');
  assert.equal(getKernel(), getKernel());
  assert.equal(createJsKernel().backend, 'js');
});

t('embedded WASM_SHA256 matches the embedded bytes', () => {
  const bytes = Uint8Array.from(atob(WASM_BASE64), (c) => c.charCodeAt(0));
  assert.equal(createHash('sha256').update(bytes).digest('hex'), WASM_SHA256);
});

t('shard() matches md5 oracle on 100k random keys (ASCII, 2/3/4-byte UTF-8, empty)', () => {
  checkAgainstOracle(createWasmKernel(), 100_000, 1);
});

t('js kernel shard() matches md5 oracle on 20k random keys', () => {
  checkAgainstOracle(createJsKernel(), 20_000, 2);
});

t('shard() matches oracle at every MD5 block boundary (total message length 0..193 incl. 55/56/63/64/119/120)', () => {
  const kernels = [createWasmKernel(), createJsKernel()];
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
  const r = rng(3);
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
  const r = rng(4);
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
  const r = rng(5);
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

t('a wasm trap is answered by the js kernel, the module is re-instantiated, and wasm resumes', () => {
  let instances = 0;
  let trapNext = false;
  let wasmCalls = 0;
  const k = createWasmKernel({
    wrapExports(ex: KernelExports): KernelExports {
      instances++;
      return {
        memory: ex.memory,
        heapBase: () => ex.heapBase(),
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
    wrapExports: (ex) => ({
      memory: ex.memory,
      heapBase: () => ex.heapBase(),
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

t('a module failing its self-check raises WasmTrapError', () => {
  assert.throws(
    () => createWasmKernel({ wrapExports: (ex) => ({ memory: ex.memory, heapBase: () => ex.heapBase(), md5Prefix32: () => 0, shardBatch: ex.shardBatch }) }),
    WasmTrapError,
  );
});

t.run();
