// Rule engine: evaluates compiled flag programs (src/eval/program.ts writes them) for a batch of subjects over
// flat buffers in linear memory. Stateless between calls: everything arrives through one header of u32 words.
//
// Header (u32 words at hdr; f64 `nowMs` at byte 96):
//   0 code        i32 program words (layout below)        1 consts   f64 constants (time bounds, numbers)
//   2 flags       i32 per requested flag: word offset of its program in `code`, or -1 (answered in JS)
//   3 nFlags      4 n (subjects)
//   5 arena       key bytes (16 readable bytes of slack after the last key)
//   6 keyStart    u32 per subject, relative to arena       7 keyLen   u32 per subject
//   8 skip        u8 per subject: 1 = answered in JS (every cell gets NOT_HERE)
//   9 kinds       u8 per (column, subject): 0 = null or missing, 1 = present (see stride)
//  10 text        i32 per (column, subject): interned id of String(value), -1 when not among the program's strings
//  11 num         f64 per (column, subject): Number(value)
//  12 atoms       u8 per (subject, atom): truth of a condition decided in JS (regex, semver)
//  13 nAtoms      14 salts: per hash id 8 words (saltPtr, saltLen, totalShards, then filled here: tailPtr, tailLen,
//                    processed bytes, and the 4 md5 state words are kept in MID)
//  15 nHash       16 memo: 2 u32 per hash id (subject index + 1, shard)    17 out: u16 per (subject, flag)
//  18 stride      row stride of the column arrays (≥ n): column c of subject i is at c·stride + i
//  19 table       u32 scratch for precomputed shards, `20 tableCols` columns of n (SIMD module only; 0 columns: none)
//  21 hotMin      how many of the SAMPLE subjects must need a hash id for it to be precomputed
//
// Flag program (i32 words): nAlloc, then per allocation:
//   startConst, endConst, nRules, { nConds, { op, column, arg } × nConds } × nRules,
//   nSplits, { slot, nShards, { hashId, nRanges, { start, end } × nRanges } × nShards } × nSplits
// The cell gets the slot (≥ 1) of the first matching split of the first matching allocation, else 0.
//
// Shards are computed when the walk first needs them (one scalar md5 from the salt's midstate), except in the
// SIMD module for large batches: the first SAMPLE subjects are walked that way while counting, per hash id, how
// many of them needed it; the hash ids at least hotMin of them needed (up to tableCols) are then hashed for all
// remaining subjects 8 at a time (lanes.ts) before the walk goes on. The caller sets hotMin from what a SIMD lane
// costs against a scalar md5 on its runtime (kernel.ts).
import { md5Block, md5Init, md5Update, md5Resume, md5Final32, md5SetState, md5State0, md5State1, md5State2, md5State3, md5Buffered } from './md5';
import { copyLoose, word, zeroLoose } from './mem';
import { shardKeys } from './lanes';

export const NOT_HERE: u32 = 0xffff;

// Condition opcodes (mirrored in src/eval/program.ts).
const OP_FALSE: i32 = 0;
const OP_IS_NULL: i32 = 1;
const OP_NOT_NULL: i32 = 2;
const OP_ONE_OF: i32 = 3;
const OP_NOT_ONE_OF: i32 = 4;
const OP_GT: i32 = 5;
const OP_GTE: i32 = 6;
const OP_LT: i32 = 7;
const OP_LTE: i32 = 8;
const OP_ATOM: i32 = 9;

const MAX_SALTS: u32 = 4096;
/** Midstate of each hash id's salt: 4 u32 words. */
const MID: usize = memory.data(<i32>(MAX_SALTS * 16), 16);
/** Staging block for one message remainder (salt tail ++ key ++ padding), 2 blocks plus copy slack. Salt and key
 * sources are read up to 15 bytes past their ends (the job layout leaves slack after every region). */
const SLOT: usize = memory.data(160, 16);
/** Subjects walked before choosing the hash ids to precompute. */
const SAMPLE: u32 = 64;
/** Per hash id: how many sampled subjects needed its shard; then its column in the shard table, or -1. */
const COUNT: usize = memory.data(<i32>(MAX_SALTS * 4), 16);
const HOT: usize = memory.data(<i32>(MAX_SALTS * 4), 16);
/** The shard table of this call: subjects from hotFrom on read precomputed shards of hot hash ids from it. */
let hotTable: usize = 0;
let hotFrom: u32 = 0;
let hotN: u32 = 0;

/**
 * Evaluates every requested flag for every subject; returns 0, or 1 when the header is unusable
 * (too many salts), in which case nothing was written.
 */
export function evalRules(hdr: usize): u32 {
  const n = word(hdr, 4);
  const arena = <usize>word(hdr, 5);
  const keyStart = <usize>word(hdr, 6);
  const keyLen = <usize>word(hdr, 7);
  const skip = <usize>word(hdr, 8);
  const salts = <usize>word(hdr, 14);
  const nHash = word(hdr, 15);
  const memo = <usize>word(hdr, 16);
  if (nHash > MAX_SALTS) return 1;
  for (let h: u32 = 0; h < nHash; h++) {
    const e = salts + (<usize>h << 5);
    const saltPtr = <usize>load<u32>(e);
    const saltLen = <usize>load<u32>(e, 4);
    md5Init();
    md5Update(saltPtr, saltLen);
    const tail = md5Buffered();
    store<u32>(e, <u32>(saltPtr + saltLen - tail), 12);
    store<u32>(e, <u32>tail, 16);
    store<u32>(e, <u32>(saltLen - tail), 20);
    const m = MID + (<usize>h << 4);
    store<u32>(m, md5State0());
    store<u32>(m, md5State1(), 4);
    store<u32>(m, md5State2(), 8);
    store<u32>(m, md5State3(), 12);
    store<u32>(memo + (<usize>h << 3), 0);
    store<u32>(COUNT + (<usize>h << 2), 0);
    store<i32>(HOT + (<usize>h << 2), -1);
  }
  hotFrom = n;
  const tableCols: u32 = ASC_FEATURE_SIMD ? word(hdr, 20) : 0;
  const sample = tableCols > 0 && n >= SAMPLE * 4 ? SAMPLE : n;
  walk(hdr, 0, sample);
  if (sample == n) return 0;
  hotTable = <usize>word(hdr, 19);
  hotN = n;
  let k: u32 = 0;
  for (let h: u32 = 0; h < nHash && k < tableCols; h++) {
    if (load<u32>(COUNT + (<usize>h << 2)) < word(hdr, 21)) continue;
    store<i32>(HOT + (<usize>h << 2), k);
    const e = salts + (<usize>h << 5);
    const out = hotTable + ((<usize>k * n) << 2);
    shardKeys(<usize>load<u32>(e), <usize>load<u32>(e, 4), arena, keyStart, keyLen, false, skip, sample, n, load<u32>(e, 8), out);
    k++;
  }
  hotFrom = sample;
  walk(hdr, sample, n);
  return 0;
}

/** Evaluates subjects [from, to) × every requested flag into `out`. */
function walk(hdr: usize, from: u32, to: u32): void {
  const code = <usize>word(hdr, 0);
  const consts = <usize>word(hdr, 1);
  const flags = <usize>word(hdr, 2);
  const nFlags = word(hdr, 3);
  const arena = <usize>word(hdr, 5);
  const keyStart = <usize>word(hdr, 6);
  const keyLen = <usize>word(hdr, 7);
  const skip = <usize>word(hdr, 8);
  const salts = <usize>word(hdr, 14);
  const memo = <usize>word(hdr, 16);
  const out = <usize>word(hdr, 17);
  const nowMs = load<f64>(hdr + 96);
  for (let i = from; i < to; i++) {
    const cells = out + (<usize>(i * nFlags) << 1);
    if (load<u8>(skip + <usize>i) != 0) {
      for (let j: u32 = 0; j < nFlags; j++) store<u16>(cells + (<usize>j << 1), <u16>NOT_HERE);
      continue;
    }
    const kp = arena + <usize>word(keyStart, i);
    const kl = <usize>word(keyLen, i);
    // A key that is not UTF-8 is answered in JS (which decodes it with replacement characters, then hashes that).
    if (!isUtf8(kp, kl)) {
      for (let j: u32 = 0; j < nFlags; j++) store<u16>(cells + (<usize>j << 1), <u16>NOT_HERE);
      continue;
    }
    for (let j: u32 = 0; j < nFlags; j++) {
      const at = load<i32>(flags + (<usize>j << 2));
      const slot = at < 0 ? NOT_HERE : evalFlag(hdr, code + (<usize>at << 2), consts, i, kp, kl, nowMs, salts, memo);
      store<u16>(cells + (<usize>j << 1), <u16>slot);
    }
  }
}

/** Whether bytes [p, p + n) are well-formed UTF-8 (what a fatal TextDecoder accepts): ASCII 8 bytes at a time. */
function isUtf8(p: usize, n: usize): bool {
  let i: usize = 0;
  while (i + 8 <= n && (load<u64>(p + i) & 0x8080808080808080) == 0) i += 8;
  while (i < n) {
    const c = <u32>load<u8>(p + i);
    if (c < 0x80) {
      i++;
      continue;
    }
    // The lead byte fixes the length and the range of the first continuation byte (no overlong forms, no
    // surrogates, nothing past U+10FFFF); the others are 0x80..0xBF.
    let len: usize;
    let lo: u32 = 0x80;
    let hi: u32 = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) len = 2;
    else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      else if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      else if (c == 0xf4) hi = 0x8f;
    } else return false;
    if (i + len > n) return false;
    const c1 = <u32>load<u8>(p + i + 1);
    if (c1 < lo || c1 > hi) return false;
    for (let k: usize = 2; k < len; k++) {
      const ck = <u32>load<u8>(p + i + k);
      if (ck < 0x80 || ck > 0xbf) return false;
    }
    i += len;
  }
  return true;
}

function evalFlag(hdr: usize, p: usize, consts: usize, i: u32, kp: usize, kl: usize, nowMs: f64, salts: usize, memo: usize): u32 {
  const nAlloc = load<u32>(p);
  p += 4;
  for (let a: u32 = 0; a < nAlloc; a++) {
    const startMs = load<f64>(consts + (<usize>load<u32>(p) << 3));
    const endMs = load<f64>(consts + (<usize>load<u32>(p, 4) << 3));
    const nRules = load<u32>(p, 8);
    p += 12;
    // Out of its time window, the allocation is skipped whole (its rules are still walked past).
    const live = !(nowMs < startMs) && !(nowMs > endMs);
    let ruled = nRules == 0;
    for (let r: u32 = 0; r < nRules; r++) {
      const nConds = load<u32>(p);
      p += 4;
      if (live && !ruled) {
        let all = true;
        for (let c: u32 = 0; c < nConds && all; c++) all = condition(hdr, p + (<usize>(c * 3) << 2), consts, i);
        ruled = all;
      }
      p += <usize>(nConds * 3) << 2;
    }
    const nSplits = load<u32>(p);
    p += 4;
    for (let s: u32 = 0; s < nSplits; s++) {
      const slot = load<u32>(p);
      const nShards = load<u32>(p, 4);
      p += 8;
      let hit = live && ruled;
      for (let k: u32 = 0; k < nShards; k++) {
        const nRanges = load<u32>(p, 4);
        if (hit) {
          const v = shardOf(load<u32>(p), i, kp, kl, salts, memo);
          let inside = false;
          for (let q: u32 = 0; q < nRanges; q++) {
            const r = p + 8 + (<usize>q << 3);
            if (load<u32>(r) <= v && v < load<u32>(r, 4)) {
              inside = true;
              break;
            }
          }
          hit = inside;
        }
        p += 8 + (<usize>nRanges << 3);
      }
      if (hit) return slot;
    }
  }
  return 0;
}

function condition(hdr: usize, c: usize, consts: usize, i: u32): bool {
  const op = load<i32>(c);
  const col = <usize>load<u32>(c, 4);
  const arg = load<u32>(c, 8);
  if (op == OP_ATOM) {
    const nAtoms = word(hdr, 13);
    return load<u8>(<usize>word(hdr, 12) + <usize>(i * nAtoms + arg)) != 0;
  }
  if (op == OP_FALSE) return false;
  const cell = col * <usize>word(hdr, 18) + <usize>i;
  const present = load<u8>(<usize>word(hdr, 9) + cell) != 0;
  if (op == OP_IS_NULL) return !present;
  if (op == OP_NOT_NULL) return present;
  if (!present) return false;
  if (op == OP_ONE_OF || op == OP_NOT_ONE_OF) {
    // arg: word offset of the condition's bitset over interned string ids, in `code`.
    const id = load<i32>(<usize>word(hdr, 10) + (cell << 2));
    let found = false;
    if (id >= 0) {
      const bits = <usize>word(hdr, 0) + (<usize>arg << 2);
      found = (load<u32>(bits + (<usize>(<u32>id >> 5) << 2)) & (1 << (<u32>id & 31))) != 0;
    }
    return op == OP_ONE_OF ? found : !found;
  }
  const a = load<f64>(<usize>word(hdr, 11) + (cell << 3));
  const b = load<f64>(consts + (<usize>arg << 3));
  // NaN on either side fails every comparison.
  if (op == OP_GT) return a > b;
  if (op == OP_GTE) return a >= b;
  if (op == OP_LT) return a < b;
  if (op == OP_LTE) return a <= b;
  return false;
}

/** The shard of subject i for hash id h, computed at most once per subject (memo), from the salt's midstate. */
function shardOf(h: u32, i: u32, kp: usize, kl: usize, salts: usize, memo: usize): u32 {
  if (i >= hotFrom) {
    const k = load<i32>(HOT + (<usize>h << 2));
    if (k >= 0) return load<u32>(hotTable + ((<usize>k * hotN + i) << 2));
  }
  const mm = memo + (<usize>h << 3);
  if (load<u32>(mm) == i + 1) return load<u32>(mm, 4);
  store<u32>(COUNT + (<usize>h << 2), load<u32>(COUNT + (<usize>h << 2)) + 1);
  const e = salts + (<usize>h << 5);
  const total = load<u32>(e, 8);
  const tailPtr = <usize>load<u32>(e, 12);
  const tailLen = <usize>load<u32>(e, 16);
  const processed = <u64>load<u32>(e, 20);
  const m = MID + (<usize>h << 4);
  const rem = tailLen + kl;
  let v: u32;
  if (rem <= 119) {
    // Loose copies may spill up to 15 bytes, into the slot's slack.
    copyLoose(SLOT, tailPtr, tailLen);
    copyLoose(SLOT + tailLen, kp, kl);
    const last: usize = rem < 56 ? 56 : 120;
    zeroLoose(SLOT + rem, SLOT + last);
    store<u8>(SLOT + rem, 0x80);
    store<u64>(SLOT + last, (processed + <u64>rem) << 3);
    md5SetState(load<u32>(m), load<u32>(m, 4), load<u32>(m, 8), load<u32>(m, 12));
    md5Block(SLOT);
    if (last == 120) md5Block(SLOT + 64);
    v = bswap<u32>(md5State0()) % total;
  } else {
    md5Resume(load<u32>(m), load<u32>(m, 4), load<u32>(m, 8), load<u32>(m, 12), processed, tailPtr, tailLen);
    md5Update(kp, kl);
    v = md5Final32() % total;
  }
  store<u32>(mm, i + 1);
  store<u32>(mm, v, 4);
  return v;
}
