// Shard kernel entry point. Exports (besides `memory`): heapBase, md5Prefix32, shardBatch.
// No allocator is used: JS owns every byte from heapBase() upward and passes pointers in.
import {
  md5Init,
  md5Update,
  md5Resume,
  md5Final32,
  md5State0,
  md5State1,
  md5State2,
  md5State3,
  md5Buffered,
} from './md5';

/** First byte of linear memory JS may use freely (end of static data, aligned to 16). */
export function heapBase(): usize {
  return (__heap_base + 15) & ~(<usize>15);
}

/** First 4 bytes of md5(memory[ptr .. ptr+len)) as a big-endian u32. */
export function md5Prefix32(ptr: usize, len: usize): u32 {
  md5Init();
  md5Update(ptr, len);
  return md5Final32();
}

/**
 * For i in [0, count): out[i] = md5Prefix32(salt ++ arena[offsets[i] .. offsets[i+1])) % totalShards.
 * `offsets` is a u32 array of count+1 entries relative to arenaPtr; `out` is a u32 array of count entries.
 * The salt's whole 64-byte blocks are compressed once and the resulting state is reused for every key.
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
  let start = load<u32>(offsetsPtr);
  for (let i: u32 = 0; i < count; i++) {
    const end = load<u32>(offsetsPtr + ((<usize>i + 1) << 2));
    md5Resume(s0, s1, s2, s3, processed, tailPtr, tailLen);
    md5Update(arenaPtr + <usize>start, <usize>(end - start));
    store<u32>(outPtr + (<usize>i << 2), md5Final32() % totalShards);
    start = end;
  }
}
