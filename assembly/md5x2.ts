// Two-way interleaved scalar MD5 compression: two independent messages with the same number of padded 64-byte
// blocks, their steps interleaved so the second dependency chain fills the issue slots the first leaves idle
// (one MD5 chain is latency-bound). Used by the scalar module's shardBatch. The step table is RFC 1321's, in the
// same order as md5Block in md5.ts.

import { stepF, stepG, stepH, stepI } from './md5';

/**
 * Runs `nb` blocks of the padded messages at p and q from the common chaining state (s0, s1, s2, s3); stores
 * the two final `a` words (digest bytes 0..3 little-endian) as u32s at res.
 */
export function md5x2(p: usize, q: usize, nb: u32, s0: u32, s1: u32, s2: u32, s3: u32, res: usize): void {
  let a = s0;
  let b = s1;
  let c = s2;
  let d = s3;
  let e = s0;
  let f = s1;
  let g = s2;
  let h = s3;
  for (let off: usize = 0, end = <usize>nb << 6; off < end; off += 64) {
    const pp = p + off;
    const qq = q + off;
    const aa = a;
    const bb = b;
    const cc = c;
    const dd = d;
    const ee = e;
    const ff = f;
    const gg = g;
    const hh = h;

    a = stepF(a, b, c, d, load<u32>(pp, 0), 7, 0xd76aa478);
    e = stepF(e, f, g, h, load<u32>(qq, 0), 7, 0xd76aa478);
    d = stepF(d, a, b, c, load<u32>(pp, 4), 12, 0xe8c7b756);
    h = stepF(h, e, f, g, load<u32>(qq, 4), 12, 0xe8c7b756);
    c = stepF(c, d, a, b, load<u32>(pp, 8), 17, 0x242070db);
    g = stepF(g, h, e, f, load<u32>(qq, 8), 17, 0x242070db);
    b = stepF(b, c, d, a, load<u32>(pp, 12), 22, 0xc1bdceee);
    f = stepF(f, g, h, e, load<u32>(qq, 12), 22, 0xc1bdceee);
    a = stepF(a, b, c, d, load<u32>(pp, 16), 7, 0xf57c0faf);
    e = stepF(e, f, g, h, load<u32>(qq, 16), 7, 0xf57c0faf);
    d = stepF(d, a, b, c, load<u32>(pp, 20), 12, 0x4787c62a);
    h = stepF(h, e, f, g, load<u32>(qq, 20), 12, 0x4787c62a);
    c = stepF(c, d, a, b, load<u32>(pp, 24), 17, 0xa8304613);
    g = stepF(g, h, e, f, load<u32>(qq, 24), 17, 0xa8304613);
    b = stepF(b, c, d, a, load<u32>(pp, 28), 22, 0xfd469501);
    f = stepF(f, g, h, e, load<u32>(qq, 28), 22, 0xfd469501);
    a = stepF(a, b, c, d, load<u32>(pp, 32), 7, 0x698098d8);
    e = stepF(e, f, g, h, load<u32>(qq, 32), 7, 0x698098d8);
    d = stepF(d, a, b, c, load<u32>(pp, 36), 12, 0x8b44f7af);
    h = stepF(h, e, f, g, load<u32>(qq, 36), 12, 0x8b44f7af);
    c = stepF(c, d, a, b, load<u32>(pp, 40), 17, 0xffff5bb1);
    g = stepF(g, h, e, f, load<u32>(qq, 40), 17, 0xffff5bb1);
    b = stepF(b, c, d, a, load<u32>(pp, 44), 22, 0x895cd7be);
    f = stepF(f, g, h, e, load<u32>(qq, 44), 22, 0x895cd7be);
    a = stepF(a, b, c, d, load<u32>(pp, 48), 7, 0x6b901122);
    e = stepF(e, f, g, h, load<u32>(qq, 48), 7, 0x6b901122);
    d = stepF(d, a, b, c, load<u32>(pp, 52), 12, 0xfd987193);
    h = stepF(h, e, f, g, load<u32>(qq, 52), 12, 0xfd987193);
    c = stepF(c, d, a, b, load<u32>(pp, 56), 17, 0xa679438e);
    g = stepF(g, h, e, f, load<u32>(qq, 56), 17, 0xa679438e);
    b = stepF(b, c, d, a, load<u32>(pp, 60), 22, 0x49b40821);
    f = stepF(f, g, h, e, load<u32>(qq, 60), 22, 0x49b40821);

    a = stepG(a, b, c, d, load<u32>(pp, 4), 5, 0xf61e2562);
    e = stepG(e, f, g, h, load<u32>(qq, 4), 5, 0xf61e2562);
    d = stepG(d, a, b, c, load<u32>(pp, 24), 9, 0xc040b340);
    h = stepG(h, e, f, g, load<u32>(qq, 24), 9, 0xc040b340);
    c = stepG(c, d, a, b, load<u32>(pp, 44), 14, 0x265e5a51);
    g = stepG(g, h, e, f, load<u32>(qq, 44), 14, 0x265e5a51);
    b = stepG(b, c, d, a, load<u32>(pp, 0), 20, 0xe9b6c7aa);
    f = stepG(f, g, h, e, load<u32>(qq, 0), 20, 0xe9b6c7aa);
    a = stepG(a, b, c, d, load<u32>(pp, 20), 5, 0xd62f105d);
    e = stepG(e, f, g, h, load<u32>(qq, 20), 5, 0xd62f105d);
    d = stepG(d, a, b, c, load<u32>(pp, 40), 9, 0x02441453);
    h = stepG(h, e, f, g, load<u32>(qq, 40), 9, 0x02441453);
    c = stepG(c, d, a, b, load<u32>(pp, 60), 14, 0xd8a1e681);
    g = stepG(g, h, e, f, load<u32>(qq, 60), 14, 0xd8a1e681);
    b = stepG(b, c, d, a, load<u32>(pp, 16), 20, 0xe7d3fbc8);
    f = stepG(f, g, h, e, load<u32>(qq, 16), 20, 0xe7d3fbc8);
    a = stepG(a, b, c, d, load<u32>(pp, 36), 5, 0x21e1cde6);
    e = stepG(e, f, g, h, load<u32>(qq, 36), 5, 0x21e1cde6);
    d = stepG(d, a, b, c, load<u32>(pp, 56), 9, 0xc33707d6);
    h = stepG(h, e, f, g, load<u32>(qq, 56), 9, 0xc33707d6);
    c = stepG(c, d, a, b, load<u32>(pp, 12), 14, 0xf4d50d87);
    g = stepG(g, h, e, f, load<u32>(qq, 12), 14, 0xf4d50d87);
    b = stepG(b, c, d, a, load<u32>(pp, 32), 20, 0x455a14ed);
    f = stepG(f, g, h, e, load<u32>(qq, 32), 20, 0x455a14ed);
    a = stepG(a, b, c, d, load<u32>(pp, 52), 5, 0xa9e3e905);
    e = stepG(e, f, g, h, load<u32>(qq, 52), 5, 0xa9e3e905);
    d = stepG(d, a, b, c, load<u32>(pp, 8), 9, 0xfcefa3f8);
    h = stepG(h, e, f, g, load<u32>(qq, 8), 9, 0xfcefa3f8);
    c = stepG(c, d, a, b, load<u32>(pp, 28), 14, 0x676f02d9);
    g = stepG(g, h, e, f, load<u32>(qq, 28), 14, 0x676f02d9);
    b = stepG(b, c, d, a, load<u32>(pp, 48), 20, 0x8d2a4c8a);
    f = stepG(f, g, h, e, load<u32>(qq, 48), 20, 0x8d2a4c8a);

    a = stepH(a, b, c, d, load<u32>(pp, 20), 4, 0xfffa3942);
    e = stepH(e, f, g, h, load<u32>(qq, 20), 4, 0xfffa3942);
    d = stepH(d, a, b, c, load<u32>(pp, 32), 11, 0x8771f681);
    h = stepH(h, e, f, g, load<u32>(qq, 32), 11, 0x8771f681);
    c = stepH(c, d, a, b, load<u32>(pp, 44), 16, 0x6d9d6122);
    g = stepH(g, h, e, f, load<u32>(qq, 44), 16, 0x6d9d6122);
    b = stepH(b, c, d, a, load<u32>(pp, 56), 23, 0xfde5380c);
    f = stepH(f, g, h, e, load<u32>(qq, 56), 23, 0xfde5380c);
    a = stepH(a, b, c, d, load<u32>(pp, 4), 4, 0xa4beea44);
    e = stepH(e, f, g, h, load<u32>(qq, 4), 4, 0xa4beea44);
    d = stepH(d, a, b, c, load<u32>(pp, 16), 11, 0x4bdecfa9);
    h = stepH(h, e, f, g, load<u32>(qq, 16), 11, 0x4bdecfa9);
    c = stepH(c, d, a, b, load<u32>(pp, 28), 16, 0xf6bb4b60);
    g = stepH(g, h, e, f, load<u32>(qq, 28), 16, 0xf6bb4b60);
    b = stepH(b, c, d, a, load<u32>(pp, 40), 23, 0xbebfbc70);
    f = stepH(f, g, h, e, load<u32>(qq, 40), 23, 0xbebfbc70);
    a = stepH(a, b, c, d, load<u32>(pp, 52), 4, 0x289b7ec6);
    e = stepH(e, f, g, h, load<u32>(qq, 52), 4, 0x289b7ec6);
    d = stepH(d, a, b, c, load<u32>(pp, 0), 11, 0xeaa127fa);
    h = stepH(h, e, f, g, load<u32>(qq, 0), 11, 0xeaa127fa);
    c = stepH(c, d, a, b, load<u32>(pp, 12), 16, 0xd4ef3085);
    g = stepH(g, h, e, f, load<u32>(qq, 12), 16, 0xd4ef3085);
    b = stepH(b, c, d, a, load<u32>(pp, 24), 23, 0x04881d05);
    f = stepH(f, g, h, e, load<u32>(qq, 24), 23, 0x04881d05);
    a = stepH(a, b, c, d, load<u32>(pp, 36), 4, 0xd9d4d039);
    e = stepH(e, f, g, h, load<u32>(qq, 36), 4, 0xd9d4d039);
    d = stepH(d, a, b, c, load<u32>(pp, 48), 11, 0xe6db99e5);
    h = stepH(h, e, f, g, load<u32>(qq, 48), 11, 0xe6db99e5);
    c = stepH(c, d, a, b, load<u32>(pp, 60), 16, 0x1fa27cf8);
    g = stepH(g, h, e, f, load<u32>(qq, 60), 16, 0x1fa27cf8);
    b = stepH(b, c, d, a, load<u32>(pp, 8), 23, 0xc4ac5665);
    f = stepH(f, g, h, e, load<u32>(qq, 8), 23, 0xc4ac5665);

    a = stepI(a, b, c, d, load<u32>(pp, 0), 6, 0xf4292244);
    e = stepI(e, f, g, h, load<u32>(qq, 0), 6, 0xf4292244);
    d = stepI(d, a, b, c, load<u32>(pp, 28), 10, 0x432aff97);
    h = stepI(h, e, f, g, load<u32>(qq, 28), 10, 0x432aff97);
    c = stepI(c, d, a, b, load<u32>(pp, 56), 15, 0xab9423a7);
    g = stepI(g, h, e, f, load<u32>(qq, 56), 15, 0xab9423a7);
    b = stepI(b, c, d, a, load<u32>(pp, 20), 21, 0xfc93a039);
    f = stepI(f, g, h, e, load<u32>(qq, 20), 21, 0xfc93a039);
    a = stepI(a, b, c, d, load<u32>(pp, 48), 6, 0x655b59c3);
    e = stepI(e, f, g, h, load<u32>(qq, 48), 6, 0x655b59c3);
    d = stepI(d, a, b, c, load<u32>(pp, 12), 10, 0x8f0ccc92);
    h = stepI(h, e, f, g, load<u32>(qq, 12), 10, 0x8f0ccc92);
    c = stepI(c, d, a, b, load<u32>(pp, 40), 15, 0xffeff47d);
    g = stepI(g, h, e, f, load<u32>(qq, 40), 15, 0xffeff47d);
    b = stepI(b, c, d, a, load<u32>(pp, 4), 21, 0x85845dd1);
    f = stepI(f, g, h, e, load<u32>(qq, 4), 21, 0x85845dd1);
    a = stepI(a, b, c, d, load<u32>(pp, 32), 6, 0x6fa87e4f);
    e = stepI(e, f, g, h, load<u32>(qq, 32), 6, 0x6fa87e4f);
    d = stepI(d, a, b, c, load<u32>(pp, 60), 10, 0xfe2ce6e0);
    h = stepI(h, e, f, g, load<u32>(qq, 60), 10, 0xfe2ce6e0);
    c = stepI(c, d, a, b, load<u32>(pp, 24), 15, 0xa3014314);
    g = stepI(g, h, e, f, load<u32>(qq, 24), 15, 0xa3014314);
    b = stepI(b, c, d, a, load<u32>(pp, 52), 21, 0x4e0811a1);
    f = stepI(f, g, h, e, load<u32>(qq, 52), 21, 0x4e0811a1);
    a = stepI(a, b, c, d, load<u32>(pp, 16), 6, 0xf7537e82);
    e = stepI(e, f, g, h, load<u32>(qq, 16), 6, 0xf7537e82);
    d = stepI(d, a, b, c, load<u32>(pp, 44), 10, 0xbd3af235);
    h = stepI(h, e, f, g, load<u32>(qq, 44), 10, 0xbd3af235);
    c = stepI(c, d, a, b, load<u32>(pp, 8), 15, 0x2ad7d2bb);
    g = stepI(g, h, e, f, load<u32>(qq, 8), 15, 0x2ad7d2bb);
    b = stepI(b, c, d, a, load<u32>(pp, 36), 21, 0xeb86d391);
    f = stepI(f, g, h, e, load<u32>(qq, 36), 21, 0xeb86d391);

    a += aa;
    b += bb;
    c += cc;
    d += dd;
    e += ee;
    f += ff;
    g += gg;
    h += hh;
  }
  store<u32>(res, a);
  store<u32>(res, e, 4);
}
