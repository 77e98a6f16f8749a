// 8-message MD5 compression over WebAssembly SIMD: two groups of four i32x4 lanes, their steps interleaved.
// One 4-lane chain is latency-bound; the second group fills the idle issue slots, which halves the cost per
// message (measured 2026-11-25 on this machine, one-block messages: 4 lanes 58 ns, 8 lanes 29 ns per message on
// Node; 57 → 51 ns on Deno, 88 → 78 ns on Bun; with the step order of addx below 28, 49 and 51 ns; scalar md5Block
// 96, 82 and 92 ns).
// All messages have the same number of padded 64-byte blocks. Compiled only into the SIMD target (lanes.ts
// references it under `if (ASC_FEATURE_SIMD)`), so the scalar module never contains a v128 instruction.
// The step table is RFC 1321's, in the same order as md5Block in md5.ts.

// @ts-ignore: decorator
@inline function rotl4(x: v128, s: i32): v128 {
  return v128.or(i32x4.shl(x, s), i32x4.shr_u(x, 32 - s));
}
/**
 * f + (a + (x + K[i])): the round function is added last, as only it depends on the step before (29 → 25-28 ns per
 * message on Node, 56 → 49 on Deno, 83 → 51 on Bun). The 64 round constants are loaded splatted from KT (cheaper
 * than materialising v128.const).
 */
// @ts-ignore: decorator
@inline function addx(a: v128, f: v128, x: v128, i: u32, KT: usize): v128 {
  return i32x4.add(f, i32x4.add(a, i32x4.add(x, v128.load(KT + (<usize>i << 4)))));
}
// F = (b & c) | (~b & d); G = (b & d) | (c & ~d); H = b ^ c ^ d; I = c ^ (b | ~d).
// @ts-ignore: decorator
@inline function stepF4(a: v128, b: v128, c: v128, d: v128, x: v128, s: i32, i: u32, KT: usize): v128 {
  return i32x4.add(rotl4(addx(a, v128.bitselect(c, d, b), x, i, KT), s), b);
}
// @ts-ignore: decorator
@inline function stepG4(a: v128, b: v128, c: v128, d: v128, x: v128, s: i32, i: u32, KT: usize): v128 {
  return i32x4.add(rotl4(addx(a, v128.bitselect(b, c, d), x, i, KT), s), b);
}
// @ts-ignore: decorator
@inline function stepH4(a: v128, b: v128, c: v128, d: v128, x: v128, s: i32, i: u32, KT: usize): v128 {
  return i32x4.add(rotl4(addx(a, v128.xor(v128.xor(b, c), d), x, i, KT), s), b);
}
// @ts-ignore: decorator
@inline function stepI4(a: v128, b: v128, c: v128, d: v128, x: v128, s: i32, i: u32, KT: usize): v128 {
  return i32x4.add(rotl4(addx(a, v128.xor(c, v128.or(b, v128.not(d))), x, i, KT), s), b);
}

/** The 64 round constants, each splatted to 4 lanes (static data only referenced from the SIMD functions). */
// @ts-ignore: decorator
@inline function kTable(): usize {
  return memory.data<u32>([
    0xd76aa478, 0xd76aa478, 0xd76aa478, 0xd76aa478, 0xe8c7b756, 0xe8c7b756, 0xe8c7b756, 0xe8c7b756,
    0x242070db, 0x242070db, 0x242070db, 0x242070db, 0xc1bdceee, 0xc1bdceee, 0xc1bdceee, 0xc1bdceee,
    0xf57c0faf, 0xf57c0faf, 0xf57c0faf, 0xf57c0faf, 0x4787c62a, 0x4787c62a, 0x4787c62a, 0x4787c62a,
    0xa8304613, 0xa8304613, 0xa8304613, 0xa8304613, 0xfd469501, 0xfd469501, 0xfd469501, 0xfd469501,
    0x698098d8, 0x698098d8, 0x698098d8, 0x698098d8, 0x8b44f7af, 0x8b44f7af, 0x8b44f7af, 0x8b44f7af,
    0xffff5bb1, 0xffff5bb1, 0xffff5bb1, 0xffff5bb1, 0x895cd7be, 0x895cd7be, 0x895cd7be, 0x895cd7be,
    0x6b901122, 0x6b901122, 0x6b901122, 0x6b901122, 0xfd987193, 0xfd987193, 0xfd987193, 0xfd987193,
    0xa679438e, 0xa679438e, 0xa679438e, 0xa679438e, 0x49b40821, 0x49b40821, 0x49b40821, 0x49b40821,
    0xf61e2562, 0xf61e2562, 0xf61e2562, 0xf61e2562, 0xc040b340, 0xc040b340, 0xc040b340, 0xc040b340,
    0x265e5a51, 0x265e5a51, 0x265e5a51, 0x265e5a51, 0xe9b6c7aa, 0xe9b6c7aa, 0xe9b6c7aa, 0xe9b6c7aa,
    0xd62f105d, 0xd62f105d, 0xd62f105d, 0xd62f105d, 0x02441453, 0x02441453, 0x02441453, 0x02441453,
    0xd8a1e681, 0xd8a1e681, 0xd8a1e681, 0xd8a1e681, 0xe7d3fbc8, 0xe7d3fbc8, 0xe7d3fbc8, 0xe7d3fbc8,
    0x21e1cde6, 0x21e1cde6, 0x21e1cde6, 0x21e1cde6, 0xc33707d6, 0xc33707d6, 0xc33707d6, 0xc33707d6,
    0xf4d50d87, 0xf4d50d87, 0xf4d50d87, 0xf4d50d87, 0x455a14ed, 0x455a14ed, 0x455a14ed, 0x455a14ed,
    0xa9e3e905, 0xa9e3e905, 0xa9e3e905, 0xa9e3e905, 0xfcefa3f8, 0xfcefa3f8, 0xfcefa3f8, 0xfcefa3f8,
    0x676f02d9, 0x676f02d9, 0x676f02d9, 0x676f02d9, 0x8d2a4c8a, 0x8d2a4c8a, 0x8d2a4c8a, 0x8d2a4c8a,
    0xfffa3942, 0xfffa3942, 0xfffa3942, 0xfffa3942, 0x8771f681, 0x8771f681, 0x8771f681, 0x8771f681,
    0x6d9d6122, 0x6d9d6122, 0x6d9d6122, 0x6d9d6122, 0xfde5380c, 0xfde5380c, 0xfde5380c, 0xfde5380c,
    0xa4beea44, 0xa4beea44, 0xa4beea44, 0xa4beea44, 0x4bdecfa9, 0x4bdecfa9, 0x4bdecfa9, 0x4bdecfa9,
    0xf6bb4b60, 0xf6bb4b60, 0xf6bb4b60, 0xf6bb4b60, 0xbebfbc70, 0xbebfbc70, 0xbebfbc70, 0xbebfbc70,
    0x289b7ec6, 0x289b7ec6, 0x289b7ec6, 0x289b7ec6, 0xeaa127fa, 0xeaa127fa, 0xeaa127fa, 0xeaa127fa,
    0xd4ef3085, 0xd4ef3085, 0xd4ef3085, 0xd4ef3085, 0x04881d05, 0x04881d05, 0x04881d05, 0x04881d05,
    0xd9d4d039, 0xd9d4d039, 0xd9d4d039, 0xd9d4d039, 0xe6db99e5, 0xe6db99e5, 0xe6db99e5, 0xe6db99e5,
    0x1fa27cf8, 0x1fa27cf8, 0x1fa27cf8, 0x1fa27cf8, 0xc4ac5665, 0xc4ac5665, 0xc4ac5665, 0xc4ac5665,
    0xf4292244, 0xf4292244, 0xf4292244, 0xf4292244, 0x432aff97, 0x432aff97, 0x432aff97, 0x432aff97,
    0xab9423a7, 0xab9423a7, 0xab9423a7, 0xab9423a7, 0xfc93a039, 0xfc93a039, 0xfc93a039, 0xfc93a039,
    0x655b59c3, 0x655b59c3, 0x655b59c3, 0x655b59c3, 0x8f0ccc92, 0x8f0ccc92, 0x8f0ccc92, 0x8f0ccc92,
    0xffeff47d, 0xffeff47d, 0xffeff47d, 0xffeff47d, 0x85845dd1, 0x85845dd1, 0x85845dd1, 0x85845dd1,
    0x6fa87e4f, 0x6fa87e4f, 0x6fa87e4f, 0x6fa87e4f, 0xfe2ce6e0, 0xfe2ce6e0, 0xfe2ce6e0, 0xfe2ce6e0,
    0xa3014314, 0xa3014314, 0xa3014314, 0xa3014314, 0x4e0811a1, 0x4e0811a1, 0x4e0811a1, 0x4e0811a1,
    0xf7537e82, 0xf7537e82, 0xf7537e82, 0xf7537e82, 0xbd3af235, 0xbd3af235, 0xbd3af235, 0xbd3af235,
    0x2ad7d2bb, 0x2ad7d2bb, 0x2ad7d2bb, 0x2ad7d2bb, 0xeb86d391, 0xeb86d391, 0xeb86d391, 0xeb86d391,
  ], 16);
}

/** Lane-transposed message words of the current block: word w of group g's lanes at XT + 256*g + 16*w. */
const XT: usize = memory.data(512, 16);
const XT2: usize = XT + 256;
/** The chaining state of both groups (a, b, c, d of group 1, then of group 2). */
const STATE: usize = memory.data(128, 16);

/** Transposes words [off/4, off/4 + 4) of the four lane blocks at p0..p3 (+off) into the group at xt. */
// @ts-ignore: decorator
@inline function transpose4(xt: usize, p0: usize, p1: usize, p2: usize, p3: usize, off: usize): void {
  const r0 = v128.load(p0 + off);
  const r1 = v128.load(p1 + off);
  const r2 = v128.load(p2 + off);
  const r3 = v128.load(p3 + off);
  const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5); // a0 b0 a1 b1
  const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7); // a2 b2 a3 b3
  const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5); // c0 d0 c1 d1
  const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7); // c2 d2 c3 d3
  const x = xt + (off & 63) * 4;
  v128.store(x, i32x4.shuffle(t0, t2, 0, 1, 4, 5), 0);
  v128.store(x, i32x4.shuffle(t0, t2, 2, 3, 6, 7), 16);
  v128.store(x, i32x4.shuffle(t1, t3, 0, 1, 4, 5), 32);
  v128.store(x, i32x4.shuffle(t1, t3, 2, 3, 6, 7), 48);
}

// @ts-ignore: decorator
@inline function transposeBlock(xt: usize, p0: usize, p1: usize, p2: usize, p3: usize, off: usize): void {
  transpose4(xt, p0, p1, p2, p3, off);
  transpose4(xt, p0, p1, p2, p3, off + 16);
  transpose4(xt, p0, p1, p2, p3, off + 32);
  transpose4(xt, p0, p1, p2, p3, off + 48);
}

/**
 * Runs `nb` blocks of eight padded messages, message l at p + l·stride, from the common chaining state
 * (s0, s1, s2, s3), e.g. a salt prefix's state, and stores the eight final `a` words (digest bytes 0..3
 * little-endian) as u32s at res.
 */
export function md5x8(p: usize, stride: usize, nb: u32, s0: u32, s1: u32, s2: u32, s3: u32, res: usize): void {
  const a = i32x4.splat(<i32>s0);
  const b = i32x4.splat(<i32>s1);
  const c = i32x4.splat(<i32>s2);
  const d = i32x4.splat(<i32>s3);
  v128.store(STATE, a);
  v128.store(STATE, b, 16);
  v128.store(STATE, c, 32);
  v128.store(STATE, d, 48);
  v128.store(STATE, a, 64);
  v128.store(STATE, b, 80);
  v128.store(STATE, c, 96);
  v128.store(STATE, d, 112);
  for (let off: usize = 0, end = <usize>nb << 6; off < end; off += 64) block8(p + off, stride);
  memory.copy(res, STATE, 16);
  memory.copy(res + 16, STATE + 64, 16);
}

/**
 * One 64-byte block of eight messages (message l at p + l·stride) on the state at STATE. Straight-line code, no
 * loop: V8 allocates registers far better for it (a block loop around these steps ran at half the speed).
 */
function block8(p: usize, stride: usize): void {
  const KT = kTable();
  const q = p + (stride << 2);
  transposeBlock(XT, p, p + stride, p + 2 * stride, p + 3 * stride, 0);
  transposeBlock(XT2, q, q + stride, q + 2 * stride, q + 3 * stride, 0);
  let a = v128.load(STATE);
  let b = v128.load(STATE, 16);
  let c = v128.load(STATE, 32);
  let d = v128.load(STATE, 48);
  let a2 = v128.load(STATE, 64);
  let b2 = v128.load(STATE, 80);
  let c2 = v128.load(STATE, 96);
  let d2 = v128.load(STATE, 112);

    a = stepF4(a, b, c, d, v128.load(XT, 0), 7, 0, KT);
    a2 = stepF4(a2, b2, c2, d2, v128.load(XT2, 0), 7, 0, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 16), 12, 1, KT);
    d2 = stepF4(d2, a2, b2, c2, v128.load(XT2, 16), 12, 1, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 32), 17, 2, KT);
    c2 = stepF4(c2, d2, a2, b2, v128.load(XT2, 32), 17, 2, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 48), 22, 3, KT);
    b2 = stepF4(b2, c2, d2, a2, v128.load(XT2, 48), 22, 3, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 64), 7, 4, KT);
    a2 = stepF4(a2, b2, c2, d2, v128.load(XT2, 64), 7, 4, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 80), 12, 5, KT);
    d2 = stepF4(d2, a2, b2, c2, v128.load(XT2, 80), 12, 5, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 96), 17, 6, KT);
    c2 = stepF4(c2, d2, a2, b2, v128.load(XT2, 96), 17, 6, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 112), 22, 7, KT);
    b2 = stepF4(b2, c2, d2, a2, v128.load(XT2, 112), 22, 7, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 128), 7, 8, KT);
    a2 = stepF4(a2, b2, c2, d2, v128.load(XT2, 128), 7, 8, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 144), 12, 9, KT);
    d2 = stepF4(d2, a2, b2, c2, v128.load(XT2, 144), 12, 9, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 160), 17, 10, KT);
    c2 = stepF4(c2, d2, a2, b2, v128.load(XT2, 160), 17, 10, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 176), 22, 11, KT);
    b2 = stepF4(b2, c2, d2, a2, v128.load(XT2, 176), 22, 11, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 192), 7, 12, KT);
    a2 = stepF4(a2, b2, c2, d2, v128.load(XT2, 192), 7, 12, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 208), 12, 13, KT);
    d2 = stepF4(d2, a2, b2, c2, v128.load(XT2, 208), 12, 13, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 224), 17, 14, KT);
    c2 = stepF4(c2, d2, a2, b2, v128.load(XT2, 224), 17, 14, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 240), 22, 15, KT);
    b2 = stepF4(b2, c2, d2, a2, v128.load(XT2, 240), 22, 15, KT);

    a = stepG4(a, b, c, d, v128.load(XT, 16), 5, 16, KT);
    a2 = stepG4(a2, b2, c2, d2, v128.load(XT2, 16), 5, 16, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 96), 9, 17, KT);
    d2 = stepG4(d2, a2, b2, c2, v128.load(XT2, 96), 9, 17, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 176), 14, 18, KT);
    c2 = stepG4(c2, d2, a2, b2, v128.load(XT2, 176), 14, 18, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 0), 20, 19, KT);
    b2 = stepG4(b2, c2, d2, a2, v128.load(XT2, 0), 20, 19, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 80), 5, 20, KT);
    a2 = stepG4(a2, b2, c2, d2, v128.load(XT2, 80), 5, 20, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 160), 9, 21, KT);
    d2 = stepG4(d2, a2, b2, c2, v128.load(XT2, 160), 9, 21, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 240), 14, 22, KT);
    c2 = stepG4(c2, d2, a2, b2, v128.load(XT2, 240), 14, 22, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 64), 20, 23, KT);
    b2 = stepG4(b2, c2, d2, a2, v128.load(XT2, 64), 20, 23, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 144), 5, 24, KT);
    a2 = stepG4(a2, b2, c2, d2, v128.load(XT2, 144), 5, 24, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 224), 9, 25, KT);
    d2 = stepG4(d2, a2, b2, c2, v128.load(XT2, 224), 9, 25, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 48), 14, 26, KT);
    c2 = stepG4(c2, d2, a2, b2, v128.load(XT2, 48), 14, 26, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 128), 20, 27, KT);
    b2 = stepG4(b2, c2, d2, a2, v128.load(XT2, 128), 20, 27, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 208), 5, 28, KT);
    a2 = stepG4(a2, b2, c2, d2, v128.load(XT2, 208), 5, 28, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 32), 9, 29, KT);
    d2 = stepG4(d2, a2, b2, c2, v128.load(XT2, 32), 9, 29, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 112), 14, 30, KT);
    c2 = stepG4(c2, d2, a2, b2, v128.load(XT2, 112), 14, 30, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 192), 20, 31, KT);
    b2 = stepG4(b2, c2, d2, a2, v128.load(XT2, 192), 20, 31, KT);

    a = stepH4(a, b, c, d, v128.load(XT, 80), 4, 32, KT);
    a2 = stepH4(a2, b2, c2, d2, v128.load(XT2, 80), 4, 32, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 128), 11, 33, KT);
    d2 = stepH4(d2, a2, b2, c2, v128.load(XT2, 128), 11, 33, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 176), 16, 34, KT);
    c2 = stepH4(c2, d2, a2, b2, v128.load(XT2, 176), 16, 34, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 224), 23, 35, KT);
    b2 = stepH4(b2, c2, d2, a2, v128.load(XT2, 224), 23, 35, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 16), 4, 36, KT);
    a2 = stepH4(a2, b2, c2, d2, v128.load(XT2, 16), 4, 36, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 64), 11, 37, KT);
    d2 = stepH4(d2, a2, b2, c2, v128.load(XT2, 64), 11, 37, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 112), 16, 38, KT);
    c2 = stepH4(c2, d2, a2, b2, v128.load(XT2, 112), 16, 38, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 160), 23, 39, KT);
    b2 = stepH4(b2, c2, d2, a2, v128.load(XT2, 160), 23, 39, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 208), 4, 40, KT);
    a2 = stepH4(a2, b2, c2, d2, v128.load(XT2, 208), 4, 40, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 0), 11, 41, KT);
    d2 = stepH4(d2, a2, b2, c2, v128.load(XT2, 0), 11, 41, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 48), 16, 42, KT);
    c2 = stepH4(c2, d2, a2, b2, v128.load(XT2, 48), 16, 42, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 96), 23, 43, KT);
    b2 = stepH4(b2, c2, d2, a2, v128.load(XT2, 96), 23, 43, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 144), 4, 44, KT);
    a2 = stepH4(a2, b2, c2, d2, v128.load(XT2, 144), 4, 44, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 192), 11, 45, KT);
    d2 = stepH4(d2, a2, b2, c2, v128.load(XT2, 192), 11, 45, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 240), 16, 46, KT);
    c2 = stepH4(c2, d2, a2, b2, v128.load(XT2, 240), 16, 46, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 32), 23, 47, KT);
    b2 = stepH4(b2, c2, d2, a2, v128.load(XT2, 32), 23, 47, KT);

    a = stepI4(a, b, c, d, v128.load(XT, 0), 6, 48, KT);
    a2 = stepI4(a2, b2, c2, d2, v128.load(XT2, 0), 6, 48, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 112), 10, 49, KT);
    d2 = stepI4(d2, a2, b2, c2, v128.load(XT2, 112), 10, 49, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 224), 15, 50, KT);
    c2 = stepI4(c2, d2, a2, b2, v128.load(XT2, 224), 15, 50, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 80), 21, 51, KT);
    b2 = stepI4(b2, c2, d2, a2, v128.load(XT2, 80), 21, 51, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 192), 6, 52, KT);
    a2 = stepI4(a2, b2, c2, d2, v128.load(XT2, 192), 6, 52, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 48), 10, 53, KT);
    d2 = stepI4(d2, a2, b2, c2, v128.load(XT2, 48), 10, 53, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 160), 15, 54, KT);
    c2 = stepI4(c2, d2, a2, b2, v128.load(XT2, 160), 15, 54, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 16), 21, 55, KT);
    b2 = stepI4(b2, c2, d2, a2, v128.load(XT2, 16), 21, 55, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 128), 6, 56, KT);
    a2 = stepI4(a2, b2, c2, d2, v128.load(XT2, 128), 6, 56, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 240), 10, 57, KT);
    d2 = stepI4(d2, a2, b2, c2, v128.load(XT2, 240), 10, 57, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 96), 15, 58, KT);
    c2 = stepI4(c2, d2, a2, b2, v128.load(XT2, 96), 15, 58, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 208), 21, 59, KT);
    b2 = stepI4(b2, c2, d2, a2, v128.load(XT2, 208), 21, 59, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 64), 6, 60, KT);
    a2 = stepI4(a2, b2, c2, d2, v128.load(XT2, 64), 6, 60, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 176), 10, 61, KT);
    d2 = stepI4(d2, a2, b2, c2, v128.load(XT2, 176), 10, 61, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 32), 15, 62, KT);
    c2 = stepI4(c2, d2, a2, b2, v128.load(XT2, 32), 15, 62, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 144), 21, 63, KT);
    b2 = stepI4(b2, c2, d2, a2, v128.load(XT2, 144), 21, 63, KT);

  v128.store(STATE, i32x4.add(a, v128.load(STATE)));
  v128.store(STATE, i32x4.add(b, v128.load(STATE, 16)), 16);
  v128.store(STATE, i32x4.add(c, v128.load(STATE, 32)), 32);
  v128.store(STATE, i32x4.add(d, v128.load(STATE, 48)), 48);
  v128.store(STATE, i32x4.add(a2, v128.load(STATE, 64)), 64);
  v128.store(STATE, i32x4.add(b2, v128.load(STATE, 80)), 80);
  v128.store(STATE, i32x4.add(c2, v128.load(STATE, 96)), 96);
  v128.store(STATE, i32x4.add(d2, v128.load(STATE, 112)), 112);
}
