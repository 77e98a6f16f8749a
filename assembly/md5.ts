// Scalar MD5 (RFC 1321) over linear memory, streaming, with no allocation: the chaining state lives in
// globals and the partial/padded final block in one fixed 64-byte static scratch block. Only the first
// 32 bits of the digest are produced, as a big-endian u32 (Eppo's shard formula needs nothing else).

/** 64-byte scratch block (static data, 16-aligned) holding buffered input and the padded final block(s). */
const BUF: usize = memory.data(64, 16);

let h0: u32 = 0;
let h1: u32 = 0;
let h2: u32 = 0;
let h3: u32 = 0;
/** Bytes currently buffered in BUF (0..63). */
let buffered: usize = 0;
/** Total message length in bytes so far. */
let total: u64 = 0;

// Each step adds the round function last: a + x + t does not depend on the step before, so only f, one add, the
// rotation and + b stay on the critical path (Deno's scalar block 112 → 82 ns; 2026-11-25).
// @ts-ignore: decorator
@inline export function stepF(a: u32, b: u32, c: u32, d: u32, x: u32, s: u32, t: u32): u32 {
  return rotl<u32>((d ^ (b & (c ^ d))) + (a + x + t), s) + b;
}
// @ts-ignore: decorator
@inline export function stepG(a: u32, b: u32, c: u32, d: u32, x: u32, s: u32, t: u32): u32 {
  return rotl<u32>((c ^ (d & (b ^ c))) + (a + x + t), s) + b;
}
// @ts-ignore: decorator
@inline export function stepH(a: u32, b: u32, c: u32, d: u32, x: u32, s: u32, t: u32): u32 {
  return rotl<u32>((b ^ c ^ d) + (a + x + t), s) + b;
}
// @ts-ignore: decorator
@inline export function stepI(a: u32, b: u32, c: u32, d: u32, x: u32, s: u32, t: u32): u32 {
  return rotl<u32>((c ^ (b | ~d)) + (a + x + t), s) + b;
}

/** Copies n bytes from src to dst (non-overlapping); short copies avoid the memory.copy call overhead. */
// @ts-ignore: decorator
@inline function copyBytes(dst: usize, src: usize, n: usize): void {
  if (n <= 32) {
    while (n >= 8) {
      store<u64>(dst, load<u64>(src));
      dst += 8;
      src += 8;
      n -= 8;
    }
    while (n) {
      store<u8>(dst, load<u8>(src));
      dst++;
      src++;
      n--;
    }
  } else {
    memory.copy(dst, src, n);
  }
}

/** Zeroes BUF[from .. end), `end` a multiple of 8. */
// @ts-ignore: decorator
@inline function zeroBuf(from: usize, end: usize): void {
  while ((from & 7) != 0 && from < end) {
    store<u8>(BUF + from, 0);
    from++;
  }
  while (from < end) {
    store<u64>(BUF + from, 0);
    from += 8;
  }
}

/** Compresses one 64-byte block at `p` (any alignment) into the chaining state. */
export function md5Block(p: usize): void {
  const x0 = load<u32>(p, 0);
  const x1 = load<u32>(p, 4);
  const x2 = load<u32>(p, 8);
  const x3 = load<u32>(p, 12);
  const x4 = load<u32>(p, 16);
  const x5 = load<u32>(p, 20);
  const x6 = load<u32>(p, 24);
  const x7 = load<u32>(p, 28);
  const x8 = load<u32>(p, 32);
  const x9 = load<u32>(p, 36);
  const x10 = load<u32>(p, 40);
  const x11 = load<u32>(p, 44);
  const x12 = load<u32>(p, 48);
  const x13 = load<u32>(p, 52);
  const x14 = load<u32>(p, 56);
  const x15 = load<u32>(p, 60);
  let a = h0;
  let b = h1;
  let c = h2;
  let d = h3;

  a = stepF(a, b, c, d, x0, 7, 0xd76aa478);
  d = stepF(d, a, b, c, x1, 12, 0xe8c7b756);
  c = stepF(c, d, a, b, x2, 17, 0x242070db);
  b = stepF(b, c, d, a, x3, 22, 0xc1bdceee);
  a = stepF(a, b, c, d, x4, 7, 0xf57c0faf);
  d = stepF(d, a, b, c, x5, 12, 0x4787c62a);
  c = stepF(c, d, a, b, x6, 17, 0xa8304613);
  b = stepF(b, c, d, a, x7, 22, 0xfd469501);
  a = stepF(a, b, c, d, x8, 7, 0x698098d8);
  d = stepF(d, a, b, c, x9, 12, 0x8b44f7af);
  c = stepF(c, d, a, b, x10, 17, 0xffff5bb1);
  b = stepF(b, c, d, a, x11, 22, 0x895cd7be);
  a = stepF(a, b, c, d, x12, 7, 0x6b901122);
  d = stepF(d, a, b, c, x13, 12, 0xfd987193);
  c = stepF(c, d, a, b, x14, 17, 0xa679438e);
  b = stepF(b, c, d, a, x15, 22, 0x49b40821);

  a = stepG(a, b, c, d, x1, 5, 0xf61e2562);
  d = stepG(d, a, b, c, x6, 9, 0xc040b340);
  c = stepG(c, d, a, b, x11, 14, 0x265e5a51);
  b = stepG(b, c, d, a, x0, 20, 0xe9b6c7aa);
  a = stepG(a, b, c, d, x5, 5, 0xd62f105d);
  d = stepG(d, a, b, c, x10, 9, 0x02441453);
  c = stepG(c, d, a, b, x15, 14, 0xd8a1e681);
  b = stepG(b, c, d, a, x4, 20, 0xe7d3fbc8);
  a = stepG(a, b, c, d, x9, 5, 0x21e1cde6);
  d = stepG(d, a, b, c, x14, 9, 0xc33707d6);
  c = stepG(c, d, a, b, x3, 14, 0xf4d50d87);
  b = stepG(b, c, d, a, x8, 20, 0x455a14ed);
  a = stepG(a, b, c, d, x13, 5, 0xa9e3e905);
  d = stepG(d, a, b, c, x2, 9, 0xfcefa3f8);
  c = stepG(c, d, a, b, x7, 14, 0x676f02d9);
  b = stepG(b, c, d, a, x12, 20, 0x8d2a4c8a);

  a = stepH(a, b, c, d, x5, 4, 0xfffa3942);
  d = stepH(d, a, b, c, x8, 11, 0x8771f681);
  c = stepH(c, d, a, b, x11, 16, 0x6d9d6122);
  b = stepH(b, c, d, a, x14, 23, 0xfde5380c);
  a = stepH(a, b, c, d, x1, 4, 0xa4beea44);
  d = stepH(d, a, b, c, x4, 11, 0x4bdecfa9);
  c = stepH(c, d, a, b, x7, 16, 0xf6bb4b60);
  b = stepH(b, c, d, a, x10, 23, 0xbebfbc70);
  a = stepH(a, b, c, d, x13, 4, 0x289b7ec6);
  d = stepH(d, a, b, c, x0, 11, 0xeaa127fa);
  c = stepH(c, d, a, b, x3, 16, 0xd4ef3085);
  b = stepH(b, c, d, a, x6, 23, 0x04881d05);
  a = stepH(a, b, c, d, x9, 4, 0xd9d4d039);
  d = stepH(d, a, b, c, x12, 11, 0xe6db99e5);
  c = stepH(c, d, a, b, x15, 16, 0x1fa27cf8);
  b = stepH(b, c, d, a, x2, 23, 0xc4ac5665);

  a = stepI(a, b, c, d, x0, 6, 0xf4292244);
  d = stepI(d, a, b, c, x7, 10, 0x432aff97);
  c = stepI(c, d, a, b, x14, 15, 0xab9423a7);
  b = stepI(b, c, d, a, x5, 21, 0xfc93a039);
  a = stepI(a, b, c, d, x12, 6, 0x655b59c3);
  d = stepI(d, a, b, c, x3, 10, 0x8f0ccc92);
  c = stepI(c, d, a, b, x10, 15, 0xffeff47d);
  b = stepI(b, c, d, a, x1, 21, 0x85845dd1);
  a = stepI(a, b, c, d, x8, 6, 0x6fa87e4f);
  d = stepI(d, a, b, c, x15, 10, 0xfe2ce6e0);
  c = stepI(c, d, a, b, x6, 15, 0xa3014314);
  b = stepI(b, c, d, a, x13, 21, 0x4e0811a1);
  a = stepI(a, b, c, d, x4, 6, 0xf7537e82);
  d = stepI(d, a, b, c, x11, 10, 0xbd3af235);
  c = stepI(c, d, a, b, x2, 15, 0x2ad7d2bb);
  b = stepI(b, c, d, a, x9, 21, 0xeb86d391);

  h0 += a;
  h1 += b;
  h2 += c;
  h3 += d;
}

/** Starts a new message. */
export function md5Init(): void {
  h0 = 0x67452301;
  h1 = 0xefcdab89;
  h2 = 0x98badcfe;
  h3 = 0x10325476;
  buffered = 0;
  total = 0;
}

/**
 * Resumes a message from a saved chaining state after `processed` bytes (a multiple of 64) followed by
 * `tailLen` (< 64) not-yet-compressed bytes at `tailPtr`.
 */
export function md5Resume(s0: u32, s1: u32, s2: u32, s3: u32, processed: u64, tailPtr: usize, tailLen: usize): void {
  h0 = s0;
  h1 = s1;
  h2 = s2;
  h3 = s3;
  copyBytes(BUF, tailPtr, tailLen);
  buffered = tailLen;
  total = processed + <u64>tailLen;
}

/** Appends `len` bytes at `ptr` to the current message. */
export function md5Update(ptr: usize, len: usize): void {
  total += <u64>len;
  if (buffered) {
    let n: usize = <usize>64 - buffered;
    if (n > len) n = len;
    copyBytes(BUF + buffered, ptr, n);
    buffered += n;
    if (buffered < 64) return;
    md5Block(BUF);
    buffered = 0;
    ptr += n;
    len -= n;
  }
  while (len >= 64) {
    md5Block(ptr);
    ptr += 64;
    len -= 64;
  }
  if (len) {
    copyBytes(BUF, ptr, len);
    buffered = len;
  }
}

/** Pads and finishes the current message; returns digest bytes 0..3 as a big-endian u32. */
export function md5Final32(): u32 {
  let n = buffered;
  store<u8>(BUF + n, 0x80);
  n++;
  if (n > 56) {
    zeroBuf(n, 64);
    md5Block(BUF);
    n = 0;
  }
  zeroBuf(n, 56);
  store<u64>(BUF, total << 3, 56);
  md5Block(BUF);
  buffered = 0;
  return bswap<u32>(h0);
}

/** Sets the chaining state (e.g. to a saved salt-prefix state) without touching the buffered bytes. */
export function md5SetState(s0: u32, s1: u32, s2: u32, s3: u32): void {
  h0 = s0;
  h1 = s1;
  h2 = s2;
  h3 = s3;
}

/** Chaining-state accessors, used to snapshot the state after a long salt prefix. */
export function md5State0(): u32 { return h0; }
export function md5State1(): u32 { return h1; }
export function md5State2(): u32 { return h2; }
export function md5State3(): u32 { return h3; }
export function md5Buffered(): usize { return buffered; }
