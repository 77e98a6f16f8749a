// Kernel entry point. Exports (besides `memory`): heapBase, simd, md5Prefix32, shardBatch, evalRules (assembly/rules.ts), formatCells (assembly/format.ts),
// scanBegin, scanWindow, scanResume and utf16Offsets (assembly/scan.ts: the structural scan of a config text).
// No allocator is used: JS owns every byte from heapBase() upward and passes pointers in.
// Two targets are built from this file (asconfig.json): "release" (scalar) and "simd" (--enable simd). The
// compile-time constant ASC_FEATURE_SIMD selects the batch path (lanes.ts): 8 messages per compression in two
// interleaved groups of i32x4 lanes in the SIMD module, 2 interleaved scalar messages in the scalar one (which has
// no v128 code).
import { md5Block, md5SetState, md5State0 } from './md5';
import { zeroLoose } from './mem';
import { shardKeys } from './lanes';

/** First byte of linear memory JS may use freely (end of static data, aligned to 16). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** 1 when this module was built with the SIMD batch path (8 messages per compression), else 0. */
export function simd(): u32 {
  return ASC_FEATURE_SIMD ? 1 : 0;
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

/**
 * For i in [0, count): out[i] = md5Prefix32(salt ++ arena[offsets[i] .. offsets[i+1])) % totalShards.
 * `offsets` is a u32 array of count+1 entries, each relative to arenaPtr (address arithmetic wraps mod 2^32,
 * so arenaPtr may be pre-biased by -offsets[0]); `out` is a u32 array of count entries. Key bytes are read up
 * to 16 bytes past each key's end, so the arena must be followed by 16 addressable bytes. (lanes.ts)
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
  shardKeys(saltPtr, saltLen, arenaPtr, offsetsPtr, offsetsPtr + 4, true, 0, 0, count, totalShards, outPtr);
}

export { evalRules } from './rules';
export { formatCells } from './format';
export { scanBegin, scanResume, scanWindow, utf16Offsets } from './scan';
