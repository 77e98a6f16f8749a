// 4-lane MD5 compression over WebAssembly SIMD (v128 as i32x4): independent messages, one per lane, all with the
// same number of padded 64-byte blocks. Compiled only into the SIMD target (index.ts references it under
// `if (ASC_FEATURE_SIMD)`), so the scalar module never contains a v128 instruction.
// Lane l's padded message is at p_l (the caller builds it: message, 0x80, zeros, 64-bit bit length).
// The step table is RFC 1321's, in the same order as md5Block in md5.ts.

// @ts-ignore: decorator
@inline function rotl4(x: v128, s: i32): v128 {
  return v128.or(i32x4.shl(x, s), i32x4.shr_u(x, 32 - s));
}
/** a + f + x + K[i]: the 64 round constants are loaded splatted from KT (cheaper than materialising v128.const). */
// @ts-ignore: decorator
@inline function addx(a: v128, f: v128, x: v128, i: u32, KT: usize): v128 {
  return i32x4.add(i32x4.add(a, f), i32x4.add(x, v128.load(KT + (<usize>i << 4))));
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

/** Lane-transposed message words of the current block: word w of lanes 0..3 at XT + 16*w. */
const XT: usize = memory.data(256, 16);

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
 * Runs `nb` blocks of four messages from the common chaining state (s0, s1, s2, s3), e.g. a salt prefix's
 * state, and returns the four final `a` words (digest bytes 0..3 little-endian) as lanes 0..3.
 */
export function md5x4(p0: usize, p1: usize, p2: usize, p3: usize, nb: u32, s0: u32, s1: u32, s2: u32, s3: u32): v128 {
  const KT = kTable();
  let a = i32x4.splat(<i32>s0);
  let b = i32x4.splat(<i32>s1);
  let c = i32x4.splat(<i32>s2);
  let d = i32x4.splat(<i32>s3);
  for (let off: usize = 0, end = <usize>nb << 6; off < end; off += 64) {
    transposeBlock(XT, p0, p1, p2, p3, off);
    const aa = a;
    const bb = b;
    const cc = c;
    const dd = d;

    a = stepF4(a, b, c, d, v128.load(XT, 0), 7, 0, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 16), 12, 1, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 32), 17, 2, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 48), 22, 3, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 64), 7, 4, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 80), 12, 5, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 96), 17, 6, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 112), 22, 7, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 128), 7, 8, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 144), 12, 9, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 160), 17, 10, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 176), 22, 11, KT);
    a = stepF4(a, b, c, d, v128.load(XT, 192), 7, 12, KT);
    d = stepF4(d, a, b, c, v128.load(XT, 208), 12, 13, KT);
    c = stepF4(c, d, a, b, v128.load(XT, 224), 17, 14, KT);
    b = stepF4(b, c, d, a, v128.load(XT, 240), 22, 15, KT);

    a = stepG4(a, b, c, d, v128.load(XT, 16), 5, 16, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 96), 9, 17, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 176), 14, 18, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 0), 20, 19, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 80), 5, 20, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 160), 9, 21, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 240), 14, 22, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 64), 20, 23, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 144), 5, 24, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 224), 9, 25, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 48), 14, 26, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 128), 20, 27, KT);
    a = stepG4(a, b, c, d, v128.load(XT, 208), 5, 28, KT);
    d = stepG4(d, a, b, c, v128.load(XT, 32), 9, 29, KT);
    c = stepG4(c, d, a, b, v128.load(XT, 112), 14, 30, KT);
    b = stepG4(b, c, d, a, v128.load(XT, 192), 20, 31, KT);

    a = stepH4(a, b, c, d, v128.load(XT, 80), 4, 32, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 128), 11, 33, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 176), 16, 34, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 224), 23, 35, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 16), 4, 36, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 64), 11, 37, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 112), 16, 38, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 160), 23, 39, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 208), 4, 40, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 0), 11, 41, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 48), 16, 42, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 96), 23, 43, KT);
    a = stepH4(a, b, c, d, v128.load(XT, 144), 4, 44, KT);
    d = stepH4(d, a, b, c, v128.load(XT, 192), 11, 45, KT);
    c = stepH4(c, d, a, b, v128.load(XT, 240), 16, 46, KT);
    b = stepH4(b, c, d, a, v128.load(XT, 32), 23, 47, KT);

    a = stepI4(a, b, c, d, v128.load(XT, 0), 6, 48, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 112), 10, 49, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 224), 15, 50, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 80), 21, 51, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 192), 6, 52, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 48), 10, 53, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 160), 15, 54, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 16), 21, 55, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 128), 6, 56, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 240), 10, 57, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 96), 15, 58, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 208), 21, 59, KT);
    a = stepI4(a, b, c, d, v128.load(XT, 64), 6, 60, KT);
    d = stepI4(d, a, b, c, v128.load(XT, 176), 10, 61, KT);
    c = stepI4(c, d, a, b, v128.load(XT, 32), 15, 62, KT);
    b = stepI4(b, c, d, a, v128.load(XT, 144), 21, 63, KT);

    a = i32x4.add(a, aa);
    b = i32x4.add(b, bb);
    c = i32x4.add(c, cc);
    d = i32x4.add(d, dd);
  }
  return a;
}
