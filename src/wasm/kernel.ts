// Shard kernel: shard(salt, key, N) = u32be(md5(utf8(salt + "-" + key))[0..4]) % N.
// Two WebAssembly builds of assembly/*.ts are embedded as base64 (bytes.generated.ts) and instantiated
// synchronously on first use, so the same code runs on Node, Bun and Deno with no file access: a scalar one,
// and a SIMD one whose batch paths hash 8 keys per md5 compression (two interleaved groups of i32x4 lanes). The SIMD build is used when
// the runtime validates it and it passes the self-check, else the scalar one.
// A pure-JS kernel (@noble/hashes md5) is the fallback and the reference.
import { md5 } from '@noble/hashes/legacy.js';
import { WASM_BASE64, WASM_SIMD_BASE64 } from './bytes.generated.ts';

/** Which implementation a kernel uses. */
export type KernelBackend = 'wasm' | 'js';
/** Which md5 implementation: WASM with the 8-message SIMD batch path, WASM scalar, or pure JS. */
export type KernelVariant = 'simd' | 'scalar' | 'js';

/** Computes Eppo shards: u32be(md5(saltDash ++ utf8(key))[0..4]) mod totalShards. */
export interface ShardKernel {
  readonly backend: KernelBackend;
  /** The md5 implementation in use ('simd' | 'scalar' for backend 'wasm', 'js' for backend 'js'). */
  readonly variant?: KernelVariant;
  /**
   * shard of utf8(saltDash) ++ utf8(key); saltDash = pre-encoded UTF-8 bytes of `salt + "-"`; key must be a well-formed string (caller checks lone surrogates).
   * saltDash is treated as immutable: the WASM kernel keeps recently used salts resident, keyed by the array's identity.
   */
  shard(saltDash: Uint8Array, key: string, totalShards: number): number;
  /** Batch: keys as one UTF-8 arena plus offsets (count+1 entries, offsets[i]..offsets[i+1]); writes shards into out[0..count). */
  shardBatchInto(saltDash: Uint8Array, arena: Uint8Array, offsets: Uint32Array, totalShards: number, out: Uint32Array): void;
  /**
   * Runs the rule engine (assembly/rules.ts) over one batch; WASM kernels only. Returns false when it could not
   * run (a trap, or memory that cannot grow): the caller then answers the batch with the reference evaluator.
   */
  evaluateRules?(job: RuleJob): boolean;
  /** Bulk output assembly (see FormatJob); both kernels have it. */
  formatCells(job: FormatJob): Uint8Array;
}

/**
 * Output for every (subject i, flag j), in order: prefix ++ key text i ++ suffix of cell (i, j), where the suffix
 * of a cell is suffix number sfxBase[j] + cells[i·nFlags + j], bytes sfx[sfxStart[e], +sfxLen[e]). With
 * `perSubject`, prefix and key are written once per subject, before its first cell (one line per subject: the
 * suffixes carry the separators and line ends).
 */
export interface FormatJob {
  readonly n: number;
  readonly nFlags: number;
  readonly perSubject?: boolean;
  readonly prefix: Uint8Array;
  readonly keys: Uint8Array;
  readonly keyStart: Uint32Array;
  readonly keyLen: Uint32Array;
  readonly cells: Uint16Array;
  readonly sfxBase: Uint32Array;
  readonly sfxStart: Uint32Array;
  readonly sfxLen: Uint32Array;
  readonly sfx: Uint8Array;
}

/** How many times each subject's prefix and key are written. */
const keyRepeats = (job: FormatJob): number => (job.perSubject ? Math.min(1, job.nFlags) : job.nFlags);

/** The exact output size of a FormatJob. */
function formatSize(job: FormatJob): number {
  const { n, nFlags, keyLen, cells, sfxBase, sfxLen } = job;
  const repeats = keyRepeats(job);
  let size = n * repeats * job.prefix.length;
  for (let i = 0; i < n; i++) size += keyLen[i]! * repeats;
  for (let i = 0, c = 0; i < n; i++) for (let j = 0; j < nFlags; j++, c++) size += sfxLen[sfxBase[j]! + cells[c]!]!;
  return size;
}

/** An upper bound of a FormatJob's output size without a pass over the cells: every suffix at the longest's length. */
function formatBound(job: FormatJob): number {
  const { n, nFlags, keyLen, sfxLen } = job;
  const repeats = keyRepeats(job);
  let longest = 0;
  for (let e = 0; e < sfxLen.length; e++) longest = Math.max(longest, sfxLen[e]!);
  let size = n * (repeats * job.prefix.length + nFlags * longest);
  for (let i = 0; i < n; i++) size += keyLen[i]! * repeats;
  return size;
}

/** FormatJob in JS (the JS kernel's, and the WASM kernel's after a trap). */
function formatJs(job: FormatJob): Uint8Array {
  const out = new Uint8Array(formatSize(job));
  const { n, nFlags, prefix, keys, keyStart, keyLen, cells, sfxBase, sfxStart, sfxLen, sfx } = job;
  let at = 0;
  for (let i = 0, c = 0; i < n; i++) {
    const key = keys.subarray(keyStart[i]!, keyStart[i]! + keyLen[i]!);
    for (let j = 0; j < nFlags; j++, c++) {
      if (j === 0 || !job.perSubject) {
        out.set(prefix, at);
        at += prefix.length;
        out.set(key, at);
        at += key.length;
      }
      const e = sfxBase[j]! + cells[c]!;
      out.set(sfx.subarray(sfxStart[e]!, sfxStart[e]! + sfxLen[e]!), at);
      at += sfxLen[e]!;
    }
  }
  return out;
}

/** One batch for the rule engine: a compiled program (src/eval/program.ts) and subjects as flat arrays. */
export interface RuleJob {
  /** Program words (flag programs and ONE_OF bitsets), its f64 constants, and per requested flag its entry word or -1. */
  readonly code: Int32Array;
  readonly consts: Float64Array;
  readonly entries: Int32Array;
  /** Per hash id: `salt + "-"` as UTF-8, and its totalShards. */
  readonly salts: readonly Uint8Array[];
  readonly totals: Uint32Array;
  /** Subjects: count, and key i = arena[keyStart[i], keyStart[i] + keyLen[i]) (a key that is not UTF-8: 0xffff cells). */
  readonly n: number;
  readonly arena: Uint8Array;
  readonly keyStart: Uint32Array;
  readonly keyLen: Uint32Array;
  /** 1 = the subject is answered in JS. */
  readonly skip: Uint8Array;
  /** Column-major (column c, subject i at c·stride + i): present flag, interned text id, Number(value). */
  readonly kinds: Uint8Array;
  readonly text: Int32Array;
  readonly num: Float64Array;
  /** Subject-major truths of the conditions decided in JS: atoms[i·nAtoms + a]. */
  readonly atoms: Uint8Array;
  readonly nAtoms: number;
  /** Row stride of the column arrays (≥ n). */
  readonly stride: number;
  readonly nowMs: number;
  /** Out: per (subject i, flag j) at i·entries.length + j: 0 default, s ≥ 1 a slot, 0xffff answered in JS. */
  readonly out: Uint16Array;
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
  /** 1 in the SIMD build. */
  simd?(): number;
  /** md5 prefix of memory[ptr, ptr+len); pads in place, clobbering the 80 bytes after ptr+len. */
  md5Prefix32(ptr: number, len: number): number;
  shardBatch(saltPtr: number, saltLen: number, arenaPtr: number, offsetsPtr: number, count: number, totalShards: number, outPtr: number): void;
  /** The rule engine over the header at hdr; 0 on success. */
  evalRules(hdr: number): number;
  /** Output assembly over the header at hdr; returns the bytes written. */
  formatCells(hdr: number): number;
}

/** The kernel module's exports for the structural scan of a config text (assembly/scan.ts). */
interface ScanExports {
  readonly memory: WebAssembly.Memory;
  heapBase(): number;
  scanBegin(len: number, stackPtr: number, outPtr: number, outCap: number): void;
  /** The number of records when done; -1 not scannable, -2 no room for the records, -3 next window from scanResume(). */
  scanWindow(winPtr: number, start: number, end: number): number;
  scanResume(): number;
  /** Byte offsets of the records → UTF-16 offsets. */
  utf16Offsets(textPtr: number, recordsPtr: number, count: number): void;
}

/** @internal Test hooks for createWasmKernel. */
export interface WasmKernelHooks {
  /** Wraps the exports of every (re)instantiation, e.g. to inject traps. */
  wrapExports?(exports: KernelExports): KernelExports;
}

/** Options for createWasmKernel (the hooks are @internal test hooks). */
export interface WasmKernelOptions extends WasmKernelHooks {
  /** 'auto' (default): SIMD when the runtime validates it and it passes the self-check, else scalar. */
  variant?: 'auto' | 'simd' | 'scalar';
  /** @internal Keep recently used salts resident in WASM memory for shard() (default true). */
  saltCache?: boolean;
}

const PAGE = 65536;
/**
 * Hash ids per rule job whose shards the SIMD engine may precompute for the whole batch (u32 × subjects each: at
 * most 2 MiB for an 8,192-subject engine chunk). A diff of two 10-flag configs needs 16 salts per subject; with 8
 * columns half of them went to scalar md5 (diff --input, 2 M subjects, all flags changed: 2.20 → 2.04 s wall).
 */
const HOT_COLUMNS = 64;
/**
 * Of the engine's first 64 subjects, how many must need a salt's shard for it to be precomputed for the whole
 * call in SIMD lanes: 64 × (cost of a lane ÷ cost of a scalar md5), as measured per engine on one-block messages
 * (2026-11-25): Node's V8 28 vs 96 ns → 19; Deno's V8 49 vs 82 ns → 38; Bun's JavaScriptCore 51 vs 92 ns → 35.
 */
const HOT_MIN = (() => {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  return g.Bun !== undefined ? 35 : g.Deno !== undefined ? 38 : 19;
})();
/** Bytes reserved below the general single-call key slot for the salt (salt is written right-aligned to it). */
const SALT_SLOT = 1024;
/** md5Prefix32 pads in place: bytes it may clobber after the message. */
const PAD_SLACK = 80;
/** shard() salt cache: entries, max salt bytes per entry, key bytes (incl. PAD_SLACK) per entry. */
const SALT_CACHE = 8;
const SALT_AREA = 256;
const KEY_AREA = 512;
const ENTRY = SALT_AREA + KEY_AREA;
/** Keys of at most this many UTF-16 units always fit a cache entry's key area (3 bytes per unit). */
const ENTRY_KEY_UNITS = Math.floor((KEY_AREA - PAD_SLACK) / 3);
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

/** @internal Base64 → bytes (Uint8Array.fromBase64 where the runtime has it); the bench times it too. */
export function base64ToBytes(b64: string): Uint8Array {
  const fromBase64 = (Uint8Array as unknown as { fromBase64?: (s: string) => Uint8Array }).fromBase64;
  if (typeof fromBase64 === 'function') return fromBase64(b64);
  // Node's native decoder: the atob loop below cost ~2 ms of a cold first load there.
  const buffer = (globalThis as { Buffer?: { from(s: string, encoding: 'base64'): Uint8Array } }).Buffer;
  if (typeof buffer?.from === 'function') {
    const b = buffer.from(b64, 'base64');
    return new Uint8Array(b.buffer, b.byteOffset, b.length);
  }
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
    variant: 'js',
    formatCells: formatJs,
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

const moduleCache: { scalar?: WebAssembly.Module; simd?: WebAssembly.Module } = {};
/** Modules whose first instance passed the self-check (createVariant). */
const checkedModules = new WeakSet<WebAssembly.Module>();
let simdValid: boolean | undefined;

/** The SIMD build's bytes, decoded once for both its validation and its compile. */
let simdBytes: Uint8Array<ArrayBuffer> | undefined;
const simdModuleBytes = (): Uint8Array<ArrayBuffer> => (simdBytes ??= base64ToBytes(WASM_SIMD_BASE64) as Uint8Array<ArrayBuffer>);

function kernelModule(variant: 'simd' | 'scalar'): WebAssembly.Module {
  let m = moduleCache[variant];
  if (m === undefined) {
    const bytes = variant === 'simd' ? simdModuleBytes() : (base64ToBytes(WASM_BASE64) as Uint8Array<ArrayBuffer>);
    m = moduleCache[variant] = new WebAssembly.Module(bytes);
    if (variant === 'simd') simdBytes = undefined;
  }
  return m;
}

/**
 * Use compiled modules of the two builds instead of compiling the embedded bytes: for runtimes that refuse to
 * compile WebAssembly from bytes at run time (Cloudflare Workers, where a `.wasm` import is a compiled module;
 * src/workerd.ts). Call before the first client is created; a missing build stays unavailable there.
 */
export function provideWasmModules(modules: { scalar?: WebAssembly.Module; simd?: WebAssembly.Module }): void {
  if (modules.scalar !== undefined) moduleCache.scalar = modules.scalar;
  if (modules.simd !== undefined) moduleCache.simd = modules.simd;
  simdValid = modules.simd !== undefined;
  singleton = undefined;
}

/** True when this runtime accepts the SIMD build (WebAssembly.validate; cached). */
export function wasmSimdSupported(): boolean {
  if (simdValid === undefined) {
    try {
      simdValid = typeof WebAssembly === 'object' && WebAssembly !== null && WebAssembly.validate(simdModuleBytes());
    } catch {
      simdValid = false;
    }
  }
  return simdValid;
}

function isTrap(e: unknown): boolean {
  return typeof WebAssembly !== 'undefined' && e instanceof WebAssembly.RuntimeError;
}

/** The worked examples: [salt, key, shard mod 10000]. */
const WORKED: readonly (readonly [string, string, number])[] = [
  ['split-json-flag', 'alice', 2969],
  ['salt', '🤗', 2131],
  ['traffic-new-user-onboarding-experiment', '18', 9024],
];

/**
 * WebAssembly kernel. Instantiates an embedded module synchronously and self-checks it (the worked examples,
 * through shard() and through batches that fill the SIMD lanes); throws if WebAssembly is unavailable, the
 * requested variant does not validate, or the self-check fails. With variant 'auto' (the default) the SIMD
 * build is tried first and the scalar one is used if SIMD is unsupported or fails its self-check.
 * A trap during a call re-instantiates the module and answers that call with the JS kernel; traps never escape.
 */
export function createWasmKernel(options?: WasmKernelOptions): ShardKernel {
  if (typeof WebAssembly !== 'object' || WebAssembly === null) throw new Error('WebAssembly is not available');
  const want = options?.variant ?? 'auto';
  if (want === 'scalar') return createVariant('scalar', options);
  if (want === 'simd') {
    if (!wasmSimdSupported()) throw new WasmTrapError('WebAssembly SIMD is not supported by this runtime');
    return createVariant('simd', options);
  }
  if (wasmSimdSupported()) {
    try {
      return createVariant('simd', options);
    } catch {
      // fall through to scalar
    }
  }
  return createVariant('scalar', options);
}

/** Consecutive 16-byte-aligned regions of WASM memory from `base`, each followed by `slack` spare bytes. */
function regions(base: number, slack: number): { take(bytes: number): number; end(): number } {
  let at = base;
  return {
    take(bytes) {
      const p = at;
      at = (at + bytes + slack + 15) & ~15;
      return p;
    },
    end: () => at,
  };
}

function createVariant(variant: 'simd' | 'scalar', options: WasmKernelOptions | undefined): ShardKernel {
  const js = createJsKernel();
  const useSaltCache = options?.saltCache !== false;

  let ex!: KernelExports;
  let memory!: WebAssembly.Memory;
  let u8!: Uint8Array;
  /** General single-call key slot (uncached salts, long keys): key bytes at keyPtr, the salt right before it. */
  let keyPtr = 0;
  /** Uint8Array over memory from keyPtr to the end (encodeInto target). */
  let keyView!: Uint8Array;
  /** Batch area: salt, offsets, arena, out (shares memory with the general slot; never with the cache). */
  let batchBase = 0;
  /** Salt cache entry e: salt right-aligned before entryKey[e]; entryView[e] = key area (encodeInto target). */
  const entryKey: number[] = [];
  const entryView: Uint8Array[] = [];
  const entrySalt: (Uint8Array | undefined)[] = [];
  let nextEntry = 0;
  let lastSalt: Uint8Array | undefined;
  let lastEntry = -1;
  /** Set when the module could not be re-instantiated: every call then goes to the JS kernel. */
  let broken = false;

  const refreshViews = (): void => {
    u8 = new Uint8Array(memory.buffer);
    keyView = new Uint8Array(memory.buffer, keyPtr);
    for (let e = 0; e < SALT_CACHE; e++) entryView[e] = new Uint8Array(memory.buffer, entryKey[e]!, KEY_AREA - PAD_SLACK);
  };
  const load = (): void => {
    ex = instantiate();
    memory = ex.memory;
    const heapBase = ex.heapBase();
    for (let e = 0; e < SALT_CACHE; e++) {
      entryKey[e] = heapBase + e * ENTRY + SALT_AREA;
      entrySalt[e] = undefined;
    }
    lastSalt = undefined;
    lastEntry = -1;
    nextEntry = 0;
    batchBase = heapBase + SALT_CACHE * ENTRY;
    keyPtr = batchBase + SALT_SLOT;
    u8 = undefined as unknown as Uint8Array;
    // Make sure the salt slot plus a modest key slot exist before the first call.
    if (!ensure(keyPtr + 4096)) throw new WasmTrapError('cannot grow kernel memory');
  };
  const instantiate = (): KernelExports => {
    const exports = new WebAssembly.Instance(kernelModule(variant), {}).exports as unknown as KernelExports;
    return options?.wrapExports ? options.wrapExports(exports) : exports;
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
  // Self-check against the worked examples before anyone relies on this module: single calls (salt cache miss
  // and hit), and batches of 9 (a full 8-lane SIMD queue or four 2-way scalar ones, then a 1-key scalar flush)
  // and 3 (a partly filled 8-lane flush; 2-way + 1-key in the scalar build). Once per compiled module: another
  // instance runs the same code (a process's client after a first kernel: ~0.3 ms less on its first load).
  const unchecked = options?.wrapExports !== undefined || !checkedModules.has(kernelModule(variant));
  try {
    if (unchecked) for (const [salt, key, want] of WORKED) {
      const saltDash = encoder.encode(`${salt}-`);
      for (let round = 0; round < 2; round++) {
        const got = shardWasm(saltDash, key, 10000);
        if (got !== want) throw new WasmTrapError(`kernel self-check failed (${variant}): shard(${salt}, ${key}) = ${got}, want ${want}`);
      }
      const kb = encoder.encode(key);
      for (const n of [9, 3]) {
        const arena = new Uint8Array(kb.length * n);
        const offsets = new Uint32Array(n + 1);
        for (let i = 0; i < n; i++) {
          arena.set(kb, i * kb.length);
          offsets[i + 1] = (i + 1) * kb.length;
        }
        const out = new Uint32Array(n);
        if (!batchWasm(saltDash, arena, offsets, n, 10000, out)) throw new WasmTrapError('kernel self-check: cannot grow memory');
        for (let i = 0; i < n; i++) {
          if (out[i] !== want) throw new WasmTrapError(`kernel self-check failed (${variant} batch): lane ${i} of ${n} = ${out[i]}, want ${want}`);
        }
      }
    }
  } catch (e) {
    if (e instanceof WasmTrapError) throw e;
    throw new WasmTrapError(`kernel self-check trapped (${variant})`, { cause: e });
  }
  if (options?.wrapExports === undefined) checkedModules.add(kernelModule(variant));

  /** Writes key as UTF-8 at ptr (view = memory from ptr); returns the byte length. */
  function writeKey(key: string, ptr: number, view: Uint8Array): number {
    const n = key.length;
    if (n <= ASCII_LOOP_MAX) {
      const mem = u8;
      for (let i = 0; i < n; i++) {
        const c = key.charCodeAt(i);
        if (c >= 0x80) return encoder.encodeInto(key, view).written;
        mem[ptr + i] = c;
      }
      return n;
    }
    return encoder.encodeInto(key, view).written;
  }

  /** Cache entry holding saltDash (loading it on a miss), or -1 when it is too long to cache. */
  function saltEntry(saltDash: Uint8Array): number {
    for (let e = 0; e < SALT_CACHE; e++) if (entrySalt[e] === saltDash) return e;
    const len = saltDash.length;
    if (len > SALT_AREA) return -1;
    const e = nextEntry;
    nextEntry = (e + 1) % SALT_CACHE;
    u8.set(saltDash, entryKey[e]! - len);
    entrySalt[e] = saltDash;
    return e;
  }

  function shardWasm(saltDash: Uint8Array, key: string, totalShards: number): number {
    const saltLen = saltDash.length;
    const n = key.length;
    if (useSaltCache && n <= ENTRY_KEY_UNITS) {
      let e = lastEntry;
      if (saltDash !== lastSalt) {
        e = saltEntry(saltDash);
        lastSalt = saltDash;
        lastEntry = e;
      }
      if (e >= 0) {
        const ptr = entryKey[e]!;
        const len = writeKey(key, ptr, entryView[e]!);
        return (ex.md5Prefix32(ptr - saltLen, saltLen + len) >>> 0) % totalShards;
      }
    }
    if (saltLen > SALT_SLOT) return shardLongSalt(saltDash, key, totalShards);
    const need = keyPtr + n * 3 + PAD_SLACK;
    if (need > u8.length && !ensure(need)) return js.shard(saltDash, key, totalShards);
    const saltPtr = keyPtr - saltLen;
    u8.set(saltDash, saltPtr);
    const len = writeKey(key, keyPtr, keyView);
    return (ex.md5Prefix32(saltPtr, saltLen + len) >>> 0) % totalShards;
  }

  /** Salts longer than the salt slot: encode the key once and go through shardBatch with count 1. */
  function shardLongSalt(saltDash: Uint8Array, key: string, totalShards: number): number {
    const keyBytes = encoder.encode(key);
    const offsets = new Uint32Array([0, keyBytes.length]);
    const out = new Uint32Array(1);
    if (!batchWasm(saltDash, keyBytes, offsets, 1, totalShards, out)) return js.shard(saltDash, key, totalShards);
    return out[0]!;
  }

  /** Returns false if memory could not grow (caller falls back to JS). */
  function batchWasm(saltDash: Uint8Array, arena: Uint8Array, offsets: Uint32Array, count: number, totalShards: number, out: Uint32Array): boolean {
    const saltPtr = batchBase;
    const saltLen = saltDash.length;
    const offsetsPtr = (saltPtr + saltLen + 15) & ~15;
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
      const arenaPtr = offsetsPtr + (m + 1) * 4;
      const outPtr = (arenaPtr + arenaBytes + 15) & ~15;
      // shardBatch reads up to 16 bytes past a key: keep 16 addressable bytes after the out array too.
      if (!ensure(outPtr + m * 4 + 16)) return false;
      u8.set(saltDash, saltPtr);
      // Offsets are copied as they are (absolute); the arena pointer is biased by -base instead (wasm
      // address arithmetic wraps mod 2^32, so arenaPtr - base + offsets[k] is the key's address).
      new Uint32Array(memory.buffer, offsetsPtr, m + 1).set(offsets.subarray(i, j + 1));
      u8.set(arena.subarray(base, base + arenaBytes), arenaPtr);
      ex.shardBatch(saltPtr, saltLen, (arenaPtr - base) >>> 0, offsetsPtr, m, totalShards, outPtr);
      out.set(new Uint32Array(memory.buffer, outPtr, m), i);
      i = j;
    }
    return true;
  }

  /** Lays the job out from batchBase (header, program, salts, subjects, columns, out) and runs it. */
  function rulesWasm(job: RuleJob): boolean {
    const { n, code, consts, entries, salts, arena } = job;
    const nHash = salts.length;
    const { take, end } = regions(batchBase, 0);
    const hdr = take(128);
    const codeP = take(code.byteLength);
    const constsP = take(consts.byteLength);
    const entriesP = take(entries.byteLength);
    const saltPtrs = salts.map((s) => take(s.length));
    const tableP = take(nHash * 32);
    const memoP = take(nHash * 8);
    const arenaP = take(arena.length + 16);
    const startP = take(job.keyStart.byteLength);
    const lenP = take(job.keyLen.byteLength);
    const skipP = take(job.skip.length);
    const kindsP = take(job.kinds.length);
    const textP = take(job.text.byteLength);
    const numP = take(job.num.byteLength);
    const atomsP = take(job.atoms.length);
    const outP = take(job.out.byteLength);
    // Precomputed shards of the hash ids most subjects need (SIMD module only; see assembly/rules.ts).
    const tableCols = variant === 'simd' ? Math.min(nHash, HOT_COLUMNS) : 0;
    const shardTableP = take(tableCols * n * 4);
    if (!ensure(end())) return false;
    const buf = memory.buffer;
    const put = (p: number, a: ArrayBufferView): void => u8.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), p);
    put(codeP, code);
    put(constsP, consts);
    put(entriesP, entries);
    const table = new Uint32Array(buf, tableP, nHash * 8);
    salts.forEach((s, h) => {
      u8.set(s, saltPtrs[h]!);
      table[h * 8] = saltPtrs[h]!;
      table[h * 8 + 1] = s.length;
      table[h * 8 + 2] = job.totals[h]!;
    });
    put(arenaP, arena);
    put(startP, job.keyStart);
    put(lenP, job.keyLen);
    put(skipP, job.skip);
    put(kindsP, job.kinds);
    put(textP, job.text);
    put(numP, job.num);
    put(atomsP, job.atoms);
    const h = new Uint32Array(buf, hdr, 24);
    h.set([codeP, constsP, entriesP, entries.length, n, arenaP, startP, lenP, skipP, kindsP, textP, numP, atomsP, job.nAtoms, tableP, nHash, memoP, outP, job.stride, shardTableP, tableCols, HOT_MIN]);
    new Float64Array(buf, hdr + 96, 1)[0] = job.nowMs;
    if (ex.evalRules(hdr) !== 0) return false;
    job.out.set(new Uint16Array(memory.buffer, outP, job.out.length));
    return true;
  }

  /** Lays a FormatJob out from batchBase and runs it; null when memory cannot grow. */
  function formatWasm(job: FormatJob): Uint8Array | null {
    const size = formatBound(job);
    // Every region keeps 16 spare bytes: formatCells reads and writes up to 15 bytes past each.
    const { take, end } = regions(batchBase, 16);
    const hdr = take(64);
    const views = [job.prefix, job.keys, job.keyStart, job.keyLen, job.cells, job.sfxBase, job.sfxStart, job.sfxLen, job.sfx];
    const ptrs = views.map((v) => take(v.byteLength));
    const outP = take(size);
    if (!ensure(end())) return null;
    views.forEach((v, k) => u8.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength), ptrs[k]!));
    const [prefixP, keysP, startP, lenP, cellsP, baseP, sfxStartP, sfxLenP, sfxP] = ptrs as [number, number, number, number, number, number, number, number, number];
    new Uint32Array(memory.buffer, hdr, 14).set([job.n, job.nFlags, prefixP, job.prefix.length, keysP, startP, lenP, cellsP, baseP, sfxStartP, sfxLenP, sfxP, outP, job.perSubject ? 1 : 0]);
    const written = ex.formatCells(hdr) >>> 0;
    if (written > size) throw new WasmTrapError(`formatCells wrote ${written} bytes, at most ${size} expected`);
    return new Uint8Array(memory.buffer, outP, written).slice();
  }

  return {
    backend: 'wasm',
    variant,
    formatCells(job) {
      if (broken) return formatJs(job);
      try {
        return formatWasm(job) ?? formatJs(job);
      } catch (e) {
        if (!(e instanceof WasmTrapError)) recover(e);
        return formatJs(job);
      }
    },
    evaluateRules(job) {
      if (broken) return false;
      try {
        return rulesWasm(job);
      } catch (e) {
        recover(e);
        return false;
      }
    },
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

/** Words per record of the scan. */
const SCAN_RECORD = 5;
/** Bytes of text per window of the scan. */
const SCAN_WINDOW = 1 << 16;
let scanOff: boolean | undefined;

/**
 * @internal The structural scan of a config text in WebAssembly (assembly/scan.ts; src/config/scan.ts reads its
 * records): compiled code from the first byte, where a JS scan runs in the JIT's slow tiers on a process's first
 * load. It runs in an instance of the kernel module of its own, so its memory goes with it. ASCII text is encoded
 * window by window into the same 64 KiB (first touches of fresh memory cost as much as the scan itself); other
 * text whole (then the records' byte offsets are mapped to UTF-16 offsets).
 * @param variant the build to use (tests); by default the one already compiled, else the best one.
 * @param window bytes per window (tests).
 * @returns the records, offsets in UTF-16 units; null when the text is not scannable; undefined when WebAssembly
 *   is not used (unavailable, SALTSHARD_KERNEL=js, memory that cannot grow, a trap): the caller scans in JS.
 */
export function scanJsonWasm(text: string, variant?: 'simd' | 'scalar', window = SCAN_WINDOW): Uint32Array | null | undefined {
  if ((scanOff ??= readKernelEnv()?.trim().toLowerCase() === 'js' || typeof WebAssembly !== 'object' || WebAssembly === null)) return undefined;
  try {
    const module = variant !== undefined ? kernelModule(variant) : (moduleCache.simd ?? moduleCache.scalar ?? kernelModule(wasmSimdSupported() ? 'simd' : 'scalar'));
    const ex = new WebAssembly.Instance(module, {}).exports as unknown as ScanExports;
    const memory = ex.memory;
    const base = ex.heapBase();
    const grow = (end: number): void => {
      if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / PAGE));
    };
    const n = text.length;
    // Records first (room for one per 64 bytes, then for as many as there can be: a member takes at least 4 bytes,
    // "":0), then the bracket stack, then the window (16 bytes of slack after it).
    for (const per of [64, 4]) {
      const cap = SCAN_RECORD * 4 * (Math.floor((3 * n) / per) + 2);
      const stack = (base + cap + 15) & ~15;
      const win = (stack + 3 * n + 31) & ~15;
      const records = (count: number): Uint32Array => new Uint32Array(memory.buffer, base, count * SCAN_RECORD);
      // Window by window while the text is ASCII (its byte offsets are then its string offsets).
      let count = -3;
      if (window < n) {
        grow(win + window + 16);
        ex.scanBegin(n, stack, base, cap);
        const view = new Uint8Array(memory.buffer, win, window);
        for (let start = 0; count === -3; ) {
          const part = text.substring(start, start + window);
          const { read, written } = encoder.encodeInto(part, view);
          if (read !== part.length || written !== read) break;
          count = ex.scanWindow(win, start, start + read);
          const next = ex.scanResume();
          // A member too long for a window: the text goes whole.
          if (count === -3 && next <= start) break;
          start = next;
        }
      }
      // Whole: short or non-ASCII text, or a member longer than a window.
      if (count === -3) {
        grow(win + 3 * n + 16);
        const { written } = encoder.encodeInto(text, new Uint8Array(memory.buffer, win, 3 * n));
        ex.scanBegin(written, stack, base, cap);
        count = ex.scanWindow(win, 0, written);
        if (count >= 0 && written !== n) ex.utf16Offsets(win, base, count);
      }
      if (count === -1) return null;
      if (count >= 0) return records(count);
    }
    return undefined;
  } catch {
    return undefined;
  }
}

/**
 * Picks a kernel for a SALTSHARD_KERNEL value: 'js' forces the JS kernel; 'wasm-simd' and 'wasm-scalar' force
 * that WASM build (falling back to the other WASM build, then JS, if it cannot load); anything else ('wasm',
 * unset) is automatic: WASM SIMD, else WASM scalar, else JS. Never throws.
 */
export function selectKernel(setting: string | undefined): ShardKernel {
  const order: ('simd' | 'scalar' | 'auto')[] =
    setting === 'js' ? [] : setting === 'wasm-simd' ? ['simd', 'scalar'] : setting === 'wasm-scalar' ? ['scalar', 'simd'] : ['auto'];
  for (const variant of order) {
    try {
      return createWasmKernel({ variant });
    } catch {
      // try the next one
    }
  }
  return createJsKernel();
}

/** Process-wide kernel, chosen once by selectKernel(SALTSHARD_KERNEL); `variant` tells which one is active. */
export function getKernel(): ShardKernel {
  if (singleton === undefined) singleton = selectKernel(readKernelEnv()?.trim().toLowerCase());
  return singleton;
}
