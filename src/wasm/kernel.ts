// Shard kernel: shard(salt, key, N) = u32be(md5(utf8(salt + "-" + key))[0..4]) % N.
// The WebAssembly build of assembly/*.ts is embedded as base64 (bytes.generated.ts) and instantiated
// synchronously on first use, so the same code runs on Node, Bun and Deno with no file access.
// A pure-JS kernel (@noble/hashes md5) is the fallback and the reference.
import { md5 } from '@noble/hashes/legacy.js';
import { WASM_BASE64 } from './bytes.generated.ts';

/** Which implementation a kernel uses. */
export type KernelBackend = 'wasm' | 'js';

/** Computes Eppo shards: u32be(md5(saltDash ++ utf8(key))[0..4]) mod totalShards. */
export interface ShardKernel {
  readonly backend: KernelBackend;
  /** shard of utf8(saltDash) ++ utf8(key); saltDash = pre-encoded UTF-8 bytes of `salt + "-"`; key must be a well-formed string (caller checks lone surrogates). */
  shard(saltDash: Uint8Array, key: string, totalShards: number): number;
  /** Batch: keys as one UTF-8 arena plus offsets (count+1 entries, offsets[i]..offsets[i+1]); writes shards into out[0..count). */
  shardBatchInto(saltDash: Uint8Array, arena: Uint8Array, offsets: Uint32Array, totalShards: number, out: Uint32Array): void;
}

/** Raised when the kernel module fails its load-time self-check or cannot be (re)instantiated. */
export class WasmTrapError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'WasmTrapError';
  }
}

/** The raw exports of the kernel module (see assembly/index.ts). */
export interface KernelExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  md5Prefix32(ptr: number, len: number): number;
  shardBatch(saltPtr: number, saltLen: number, arenaPtr: number, offsetsPtr: number, count: number, totalShards: number, outPtr: number): void;
}

/** @internal Test hooks for createWasmKernel. */
export interface WasmKernelHooks {
  /** Wraps the exports of every (re)instantiation, e.g. to inject traps. */
  wrapExports?(exports: KernelExports): KernelExports;
}

const PAGE = 65536;
/** Bytes reserved below the single-call key slot for the salt (salt is written right-aligned to it). */
const SALT_SLOT = 1024;
/**
 * Keys with up to this many UTF-16 units are written by a JS loop while ASCII; longer ones by encodeInto.
 * (Measured: a 10-20% win for short keys on Deno/Bun, neutral on Node; encodeInto wins on long keys.)
 */
const ASCII_LOOP_MAX = 32;
/** Batches are fed to wasm in chunks of at most this many keys / arena bytes, bounding memory growth. */
const CHUNK_KEYS = 1 << 16;
const CHUNK_BYTES = 1 << 22;

const encoder = new TextEncoder();

function checkTotalShards(totalShards: number): void {
  if (totalShards >>> 0 !== totalShards || totalShards === 0) {
    throw new RangeError(`totalShards must be an integer in [1, 2^32-1], got ${totalShards}`);
  }
}

function batchCount(offsets: Uint32Array, out: Uint32Array): number {
  const count = offsets.length === 0 ? 0 : offsets.length - 1;
  if (out.length < count) throw new RangeError(`out has ${out.length} entries, need ${count}`);
  return count;
}

function checkOffsets(arena: Uint8Array, offsets: Uint32Array, count: number): void {
  if (count === 0) return;
  let prev = offsets[0]!;
  for (let i = 1; i <= count; i++) {
    const o = offsets[i]!;
    if (o < prev) throw new RangeError(`offsets must be non-decreasing (offsets[${i}] = ${o} < ${prev})`);
    prev = o;
  }
  if (prev > arena.length) throw new RangeError(`offsets[${count}] = ${prev} exceeds the arena length ${arena.length}`);
}

function base64ToBytes(b64: string): Uint8Array {
  const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(b64);
  const bin = atob(b64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return bytes;
}

/** Pure-JS kernel backed by @noble/hashes md5: the fallback when WebAssembly is unavailable, and the reference. */
export function createJsKernel(): ShardKernel {
  let scratch = new Uint8Array(256);
  const prefix32 = (bytes: Uint8Array): number => {
    const d = md5(bytes);
    return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  };
  return {
    backend: 'js',
    shard(saltDash, key, totalShards) {
      checkTotalShards(totalShards);
      const need = saltDash.length + key.length * 3;
      if (need > scratch.length) scratch = new Uint8Array(Math.max(need, scratch.length * 2));
      scratch.set(saltDash, 0);
      const { written } = encoder.encodeInto(key, scratch.subarray(saltDash.length));
      return prefix32(scratch.subarray(0, saltDash.length + written)) % totalShards;
    },
    shardBatchInto(saltDash, arena, offsets, totalShards, out) {
      checkTotalShards(totalShards);
      const count = batchCount(offsets, out);
      checkOffsets(arena, offsets, count);
      for (let i = 0; i < count; i++) {
        const h = md5.create().update(saltDash).update(arena.subarray(offsets[i]!, offsets[i + 1]!)).digest();
        out[i] = (((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0) % totalShards;
      }
    },
  };
}

let cachedModule: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (cachedModule === undefined) cachedModule = new WebAssembly.Module(base64ToBytes(WASM_BASE64) as Uint8Array<ArrayBuffer>);
  return cachedModule;
}

function instantiate(hooks: WasmKernelHooks | undefined): KernelExports {
  const exports = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as KernelExports;
  return hooks?.wrapExports ? hooks.wrapExports(exports) : exports;
}

function isTrap(e: unknown): boolean {
  return typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
}

/**
 * WebAssembly kernel. Instantiates the embedded module synchronously and self-checks it; throws if
 * WebAssembly is unavailable or the self-check fails. A trap during a call re-instantiates the module and
 * answers that call with the JS kernel; traps never escape.
 */
export function createWasmKernel(hooks?: WasmKernelHooks): ShardKernel {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) throw new Error('WebAssembly is not available');
  const js = createJsKernel();

  let ex!: KernelExports;
  let memory!: WebAssembly.Memory;
  let u8!: Uint8Array;
  /** Single-call key slot: key bytes go at keyPtr, the salt right before it. */
  let keyPtr = 0;
  /** Uint8Array over memory from keyPtr to the end (encodeInto target). */
  let keyView!: Uint8Array;
  let heapBase = 0;
  /** Set when the module could not be re-instantiated: every call then goes to the JS kernel. */
  let broken = false;

  const refreshViews = (): void => {
    u8 = new Uint8Array(memory.buffer);
    keyView = new Uint8Array(memory.buffer, keyPtr);
  };
  const load = (): void => {
    ex = instantiate(hooks);
    memory = ex.memory;
    heapBase = ex.heapBase();
    keyPtr = heapBase + SALT_SLOT;
    // Make sure the salt slot plus a modest key slot exist before the first call.
    ensure(keyPtr + 4096);
  };
  /** Grows memory so that [0, end) is addressable; false if the engine refuses to grow. */
  const ensure = (end: number): boolean => {
    const have = memory.buffer.byteLength;
    if (end > have) {
      try {
        memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        return false;
      }
    }
    if (u8 === undefined || u8.buffer !== memory.buffer) refreshViews();
    return true;
  };
  const recover = (e: unknown): void => {
    if (!isTrap(e)) throw e;
    try {
      load();
    } catch {
      broken = true;
    }
  };

  load();
  // Self-check against the worked example before anyone relies on this instance.
  try {
    const salt = encoder.encode('split-json-flag-');
    const got = shardWasm(salt, 'alice', 10000);
    if (got !== 2969) throw new WasmTrapError(`kernel self-check failed: got ${got}, want 2969`);
  } catch (e) {
    if (e instanceof WasmTrapError) throw e;
    throw new WasmTrapError('kernel self-check trapped', { cause: e });
  }

  function shardWasm(saltDash: Uint8Array, key: string, totalShards: number): number {
    const saltLen = saltDash.length;
    const n = key.length;
    if (saltLen > SALT_SLOT) return shardLongSalt(saltDash, key, totalShards);
    if (keyPtr + n * 3 > u8.length && !ensure(keyPtr + n * 3)) return js.shard(saltDash, key, totalShards);
    const mem = u8;
    const saltPtr = keyPtr - saltLen;
    mem.set(saltDash, saltPtr);
    let len = n;
    if (n <= ASCII_LOOP_MAX) {
      for (let i = 0; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) {
          len = encoder.encodeInto(key, keyView).written;
          break;
        }
        mem[keyPtr + i] = c;
      }
    } else {
      len = encoder.encodeInto(key, keyView).written;
    }
    return (ex.md5Prefix32(saltPtr, saltLen + len) >>> 0) % totalShards;
  }

  /** Salts longer than the salt slot: encode the key once and go through shardBatch with count 1. */
  function shardLongSalt(saltDash: Uint8Array, key: string, totalShards: number): number {
    const keyBytes = encoder.encode(key);
    const offsets = new Uint32Array([0, keyBytes.length]);
    const out = new Uint32Array(1);
    batchWasm(saltDash, keyBytes, offsets, 1, totalShards, out);
    return out[0]!;
  }

  /** Returns false if memory could not grow (caller falls back to JS). */
  function batchWasm(saltDash: Uint8Array, arena: Uint8Array, offsets: Uint32Array, count: number, totalShards: number, out: Uint32Array): boolean {
    const saltPtr = heapBase;
    const saltLen = saltDash.length;
    let i = 0;
    while (i < count) {
      // Pick keys [i, j): at most CHUNK_KEYS keys and CHUNK_BYTES arena bytes, but at least one key.
      const base = offsets[i]!;
      let j = Math.min(count, i + CHUNK_KEYS);
      if (offsets[j]! - base > CHUNK_BYTES) {
        let lo = i + 1;
        let hi = j;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if (offsets[mid]! - base <= CHUNK_BYTES) lo = mid;
          else hi = mid - 1;
        }
        j = lo;
      }
      const m = j - i;
      const arenaBytes = offsets[j]! - base;
      const offsetsPtr = (saltPtr + saltLen + 15) & ~15;
      const arenaPtr = offsetsPtr + (m + 1) * 4;
      const outPtr = (arenaPtr + arenaBytes + 15) & ~15;
      if (!ensure(outPtr + m * 4)) return false;
      u8.set(saltDash, saltPtr);
      const offs = new Uint32Array(memory.buffer, offsetsPtr, m + 1);
      for (let k = 0; k <= m; k++) offs[k] = offsets[i + k]! - base;
      u8.set(arena.subarray(base, base + arenaBytes), arenaPtr);
      ex.shardBatch(saltPtr, saltLen, arenaPtr, offsetsPtr, m, totalShards, outPtr);
      out.set(new Uint32Array(memory.buffer, outPtr, m), i);
      i = j;
    }
    return true;
  }

  return {
    backend: 'wasm',
    shard(saltDash, key, totalShards) {
      checkTotalShards(totalShards);
      if (broken) return js.shard(saltDash, key, totalShards);
      try {
        return shardWasm(saltDash, key, totalShards);
      } catch (e) {
        recover(e);
        return js.shard(saltDash, key, totalShards);
      }
    },
    shardBatchInto(saltDash, arena, offsets, totalShards, out) {
      checkTotalShards(totalShards);
      const count = batchCount(offsets, out);
      checkOffsets(arena, offsets, count);
      if (count === 0) return;
      if (broken) return js.shardBatchInto(saltDash, arena, offsets, totalShards, out);
      try {
        if (batchWasm(saltDash, arena, offsets, count, totalShards, out)) return;
      } catch (e) {
        recover(e);
      }
      js.shardBatchInto(saltDash, arena, offsets, totalShards, out);
    },
  };
}

function readKernelEnv(): string | undefined {
  const g = globalThis as {
    Deno?: { env?: { get(name: string): string | undefined }; permissions?: { querySync?(d: { name: string; variable?: string }): { state: string } } };
    process?: { env?: Record<string, string | undefined> };
  };
  try {
    if (g.Deno !== undefined) {
      // Never trigger a permission prompt from a library: only read when already granted.
      const state = g.Deno.permissions?.querySync?.({ name: 'env', variable: 'SALTSHARD_KERNEL' }).state;
      return state === 'granted' ? g.Deno.env?.get('SALTSHARD_KERNEL') : undefined;
    }
    return g.process?.env?.SALTSHARD_KERNEL;
  } catch {
    return undefined;
  }
}

let singleton: ShardKernel | undefined;

/** Process-wide kernel: WebAssembly when it instantiates, else JS; SALTSHARD_KERNEL=js forces JS. */
export function getKernel(): ShardKernel {
  if (singleton === undefined) {
    if (readKernelEnv() === 'js') {
      singleton = createJsKernel();
    } else {
      try {
        singleton = createWasmKernel();
      } catch {
        singleton = createJsKernel();
      }
    }
  }
  return singleton;
}
