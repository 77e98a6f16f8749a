// Kernel entry point. Exports (besides `memory`): heapBase, simd, md5Prefix32, shardBatch, evalRules (assembly/rules.ts), formatCells (assembly/format.ts).
// No allocator is used: JS owns every byte from heapBase() upward and passes pointers in.
// Two targets are built from this file (asconfig.json): "release" (scalar) and "simd" (--enable simd). The
// compile-time constant ASC_FEATURE_SIMD selects the batch path: 4 messages per compression in i32x4 lanes in the
// SIMD module, 2 interleaved scalar messages in the scalar one (which has no v128 code).
import {
  md5Init,
  md5Update,
  md5Resume,
  md5Final32,
  md5Block,
  md5SetState,
  md5State0,
  md5State1,
  md5State2,
  md5State3,
  md5Buffered,
} from './md5';
import { md5x4 } from './md5x4';
import { md5x2 } from './md5x2';

/** First byte of linear memory JS may use freely (end of static data, aligned to 16). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** 1 when this module was built with the 4-lane SIMD batch path, else 0. */
export function simd(): u32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
}

/** Zeroes [p, end) and possibly up to 15 bytes past `end` (callers own that slack). */
// @ts-ignore: decorator
@inline function zeroLoose(p: usize, end: usize): void {
  if (ASC_FEATURE_SIMD) {
    while (p < end) {
      v128.store(p, i32x4.splat(0));
      p += 16;
    }
  } else {
    while (p < end) {
      store<u64>(p, 0);
      p += 8;
    }
  }
}

/** Copies n bytes src -> dst; may read and write up to 15 bytes past n (callers own that slack). */
// @ts-ignore: decorator
@inline function copyLoose(dst: usize, src: usize, n: usize): void {
  if (ASC_FEATURE_SIMD) {
    for (let o: usize = 0; o < n; o += 16) v128.store(dst + o, v128.load(src + o));
  } else {
    for (let o: usize = 0; o < n; o += 8) store<u64>(dst + o, load<u64>(src + o));
  }
}

/**
 * First 4 bytes of md5(memory[ptr .. ptr+len)) as a big-endian u32. Pads in place: the 80 bytes after
 * ptr+len are scratch and get overwritten (the single-call key slot in kernel.ts reserves them).
 */
export function md5Prefix32(ptr: usize, len: usize): u32 {
  md5SetState(0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476);
  let p = ptr;
  let n = len;
  while (n >= 64) {
    md5Block(p);
    p += 64;
    n -= 64;
  }
  const last: usize = n < 56 ? 56 : 120;
  zeroLoose(p + n, p + last);
  store<u8>(p + n, 0x80);
  store<u64>(p + last, <u64>len << 3);
  md5Block(p);
  if (last == 120) md5Block(p + 64);
  return bswap<u32>(md5State0());
}

// Staging slots for the batch path: each holds one padded message remainder (salt tail ++ key ++ 0x80 ++
// zeros ++ bit length) of 1..MAX_NB blocks, plus slack for the loose copies. Queue q holds up to LANES messages
// of q+1 blocks; a full queue is hashed in one interleaved compression.
const MAX_NB: u32 = 4;
const LANES: u32 = ASC_FEATURE_SIMD ? 4 : 2;
const SLOT: usize = 320;
const STAGE: usize = memory.data(<i32>(SLOT * <usize>(MAX_NB * LANES)), 16);
/** u32 key index per queue slot. */
const QIDX: usize = memory.data(<i32>(MAX_NB * LANES * 4), 16);

// @ts-ignore: decorator
@inline function slotPtr(q: u32, s: u32): usize {
  return STAGE + <usize>(q * LANES + s) * SLOT;
}

/**
 * For i in [0, count): out[i] = md5Prefix32(salt ++ arena[offsets[i] .. offsets[i+1])) % totalShards.
 * `offsets` is a u32 array of count+1 entries, each relative to arenaPtr (address arithmetic wraps mod 2^32,
 * so arenaPtr may be pre-biased by -offsets[0]); `out` is a u32 array of count entries. Key bytes are read up
 * to 16 bytes past each key's end, so the arena must be followed by 16 addressable bytes.
 * The salt's whole 64-byte blocks are compressed once; each key's remainder (salt tail ++ key) of up to
 * MAX_NB padded blocks is staged in a slot of the queue for its block count, and a full queue is hashed at
 * once (keys longer than that are streamed one by one).
 */
export function shardBatch(
  saltPtr: usize,
  saltLen: usize,
  arenaPtr: usize,
  offsetsPtr: usize,
  count: u32,
  totalShards: u32,
  outPtr: usize,
): void {
  if (count == 0) return;
  md5Init();
  md5Update(saltPtr, saltLen);
  const s0 = md5State0();
  const s1 = md5State1();
  const s2 = md5State2();
  const s3 = md5State3();
  const tailLen = md5Buffered();
  const processed = <u64>(saltLen - tailLen);
  const tailPtr = saltPtr + saltLen - tailLen;
  const maxRem = (<usize>MAX_NB << 6) - 9;
  // Queue fill counts, and which queues have the salt tail written into their slots.
  let n0: u32 = 0, n1: u32 = 0, n2: u32 = 0, n3: u32 = 0;
  let tailed: u32 = 0;
  let start = load<u32>(offsetsPtr);
  for (let i: u32 = 0; i < count; i++) {
    const end = load<u32>(offsetsPtr + ((<usize>i + 1) << 2));
    const keyPtr = arenaPtr + <usize>start;
    const keyLen = <usize>(end - start);
    start = end;
    const rem = tailLen + keyLen;
    if (rem > maxRem) {
      // Long key: stream it.
      md5Resume(s0, s1, s2, s3, processed, tailPtr, tailLen);
      md5Update(keyPtr, keyLen);
      store<u32>(outPtr + (<usize>i << 2), md5Final32() % totalShards);
      continue;
    }
    const nb = <u32>((rem + 8) >> 6) + 1;
    const q = nb - 1;
    let s = q == 0 ? n0 : q == 1 ? n1 : q == 2 ? n2 : n3;
    const slot = slotPtr(q, s);
    if ((tailed & (1 << q)) == 0) {
      tailed |= 1 << q;
      for (let k: u32 = 0; k < LANES; k++) memory.copy(slotPtr(q, k), tailPtr, tailLen);
    }
    const last = (<usize>nb << 6) - 8;
    copyLoose(slot + tailLen, keyPtr, keyLen);
    zeroLoose(slot + rem, slot + last);
    store<u8>(slot + rem, 0x80);
    store<u64>(slot + last, (processed + <u64>rem) << 3);
    store<u32>(QIDX + (<usize>(q * LANES + s) << 2), i);
    s++;
    if (s == LANES) {
      flush(q, LANES, s0, s1, s2, s3, totalShards, outPtr);
      s = 0;
    }
    if (q == 0) n0 = s;
    else if (q == 1) n1 = s;
    else if (q == 2) n2 = s;
    else n3 = s;
  }
  if (n0) flush(0, n0, s0, s1, s2, s3, totalShards, outPtr);
  if (n1) flush(1, n1, s0, s1, s2, s3, totalShards, outPtr);
  if (n2) flush(2, n2, s0, s1, s2, s3, totalShards, outPtr);
  if (n3) flush(3, n3, s0, s1, s2, s3, totalShards, outPtr);
}

/** Final `a` words of one interleaved compression, one u32 per lane. */
const RES: usize = memory.data(16, 16);

/**
 * Hashes the first `n` (1..LANES) staged slots of queue q (messages of q+1 blocks) and stores their shards.
 * One message goes through the plain scalar compression; more through the interleaved ones, whose unused lanes
 * hash stale slot bytes (always addressable static data) and are ignored.
 */
function flush(q: u32, n: u32, s0: u32, s1: u32, s2: u32, s3: u32, totalShards: u32, outPtr: usize): void {
  const nb = q + 1;
  const idx = QIDX + (<usize>(q * LANES) << 2);
  const p0 = slotPtr(q, 0);
  if (n == 1) {
    md5SetState(s0, s1, s2, s3);
    for (let b: usize = 0; b < <usize>nb; b++) md5Block(p0 + (b << 6));
    store<u32>(RES, md5State0());
  } else if (ASC_FEATURE_SIMD) {
    v128.store(RES, md5x4(p0, p0 + SLOT, p0 + 2 * SLOT, p0 + 3 * SLOT, nb, s0, s1, s2, s3));
  } else {
    md5x2(p0, p0 + SLOT, nb, s0, s1, s2, s3, RES);
  }
  for (let l: usize = 0; l < <usize>n; l++) {
    store<u32>(outPtr + (<usize>load<u32>(idx + (l << 2)) << 2), bswap<u32>(load<u32>(RES + (l << 2))) % totalShards);
  }
}

export { evalRules } from './rules';
export { formatCells } from './format';
