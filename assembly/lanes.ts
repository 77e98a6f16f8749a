// Shards of many keys under one salt, hashed several messages per compression: 8 (two interleaved 4-lane SIMD
// groups, md5x8.ts) in the SIMD module, 2 (interleaved scalar, md5x2.ts) in the scalar one. Used by shardBatch
// (index.ts) and by the rule engine for the salts most subjects of a batch need (rules.ts).
//
// Each key's message remainder (salt tail ++ key ++ 0x80 ++ zeros ++ bit length, 1..MAX_NB blocks) is staged in
// a slot of the queue for its block count; a full queue is hashed at once. The salt's whole 64-byte blocks are
// compressed once per call; keys longer than MAX_NB blocks are streamed one by one.
import { md5Init, md5Update, md5Resume, md5Final32, md5Block, md5SetState, md5State0, md5State1, md5State2, md5State3, md5Buffered } from './md5';
import { md5x8 } from './md5x8';
import { md5x2 } from './md5x2';
import { copyLoose, zeroLoose } from './mem';

const MAX_NB: u32 = 4;
const LANES: u32 = ASC_FEATURE_SIMD ? 8 : 2;
const SLOT: usize = 320;
const STAGE: usize = memory.data(<i32>(SLOT * <usize>(MAX_NB * LANES)), 16);
/** Output index per queue slot. */
const QIDX: usize = memory.data(<i32>(MAX_NB * LANES * 4), 16);
/** Final `a` words of one interleaved compression, one u32 per lane. */
const RES: usize = memory.data(<i32>(LANES * 4), 16);

// @ts-ignore: decorator
@inline function slotPtr(q: u32, s: u32): usize {
  return STAGE + <usize>(q * LANES + s) * SLOT;
}

/**
 * For each i in [from, to) with skip[i] == 0 (skip = 0: no skip array): out[i] = first 4 bytes of
 * md5(salt ++ key i), big-endian, mod totalShards. Key i is at arena + starts[i] (u32 array; address arithmetic
 * wraps mod 2^32), its length is lens[i], or, when `lensAreEnds`, lens[i] − starts[i] (offsets: lens = starts + 4).
 * Key bytes are read up to 16 bytes past each key's end, so the arena must be followed by 16 addressable bytes.
 */
export function shardKeys(
  saltPtr: usize,
  saltLen: usize,
  arena: usize,
  starts: usize,
  lens: usize,
  lensAreEnds: bool,
  skip: usize,
  from: u32,
  to: u32,
  totalShards: u32,
  out: usize,
): void {
  if (from >= to) return;
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
  for (let i = from; i < to; i++) {
    if (skip != 0 && load<u8>(skip + <usize>i) != 0) continue;
    const start = load<u32>(starts + (<usize>i << 2));
    const keyPtr = arena + <usize>start;
    const l = load<u32>(lens + (<usize>i << 2));
    const keyLen = <usize>(lensAreEnds ? l - start : l);
    const rem = tailLen + keyLen;
    if (rem > maxRem) {
      // Long key: stream it.
      md5Resume(s0, s1, s2, s3, processed, tailPtr, tailLen);
      md5Update(keyPtr, keyLen);
      store<u32>(out + (<usize>i << 2), md5Final32() % totalShards);
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
      flush(q, LANES, s0, s1, s2, s3, totalShards, out);
      s = 0;
    }
    if (q == 0) n0 = s;
    else if (q == 1) n1 = s;
    else if (q == 2) n2 = s;
    else n3 = s;
  }
  if (n0) flush(0, n0, s0, s1, s2, s3, totalShards, out);
  if (n1) flush(1, n1, s0, s1, s2, s3, totalShards, out);
  if (n2) flush(2, n2, s0, s1, s2, s3, totalShards, out);
  if (n3) flush(3, n3, s0, s1, s2, s3, totalShards, out);
}

/**
 * Hashes the first `n` (1..LANES) staged slots of queue q (messages of q+1 blocks) and stores their shards.
 * One message goes through the plain scalar compression; more through the interleaved ones, whose unused lanes
 * hash stale slot bytes (always addressable static data) and are ignored.
 */
function flush(q: u32, n: u32, s0: u32, s1: u32, s2: u32, s3: u32, totalShards: u32, out: usize): void {
  const nb = q + 1;
  const idx = QIDX + (<usize>(q * LANES) << 2);
  const p0 = slotPtr(q, 0);
  if (n == 1) {
    md5SetState(s0, s1, s2, s3);
    for (let b: usize = 0; b < <usize>nb; b++) md5Block(p0 + (b << 6));
    store<u32>(RES, md5State0());
  } else if (ASC_FEATURE_SIMD) {
    md5x8(p0, SLOT, nb, s0, s1, s2, s3, RES);
  } else {
    md5x2(p0, p0 + SLOT, nb, s0, s1, s2, s3, RES);
  }
  for (let l: usize = 0; l < <usize>n; l++) {
    store<u32>(out + (<usize>load<u32>(idx + (l << 2)) << 2), bswap<u32>(load<u32>(RES + (l << 2))) % totalShards);
  }
}
