/**
 * Snappy compression (the raw block format Parquet's SNAPPY codec uses), written for speed on Parquet pages: one
 * output array sized for the worst case, a hash table of 4-byte sequences per 64 KiB block, greedy matches, and a
 * skip that grows while nothing matches (so incompressible text costs little). Any Snappy decoder reads it.
 * @module
 */

const table = new Int32Array(1 << 14);

/** `input` Snappy-compressed. */
export function snappyCompress(input: Uint8Array): Uint8Array {
  const n = input.length;
  const out = new Uint8Array(32 + n + Math.floor(n / 6));
  let op = lengthHeader(out, n);
  for (let start = 0; start < n; start += 65536) op = block(input, start, Math.min(n, start + 65536), out, op);
  return out.slice(0, op);
}

/** A compressed block's header, the uncompressed length as a varint, at out[0]; the bytes it took. */
function lengthHeader(out: Uint8Array, n: number): number {
  let op = 0;
  for (let x = n; ; x = Math.floor(x / 128)) {
    if (x < 128) {
      out[op++] = x;
      return op;
    }
    out[op++] = (x % 128) | 128;
  }
}

function load32(b: Uint8Array, i: number): number {
  return b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);
}

/** Compresses input[start, end) (at most 64 KiB, so every offset fits in 16 bits) to out at `op`; the new `op`. */
function block(input: Uint8Array, start: number, end: number, out: Uint8Array, op: number): number {
  let lit = start;
  if (end - start >= 16) {
    table.fill(-1);
    let ip = start;
    const last = end - 4;
    while (ip <= last) {
      const v = load32(input, ip);
      const h = Math.imul(v, 0x1e35a7bd) >>> 18;
      const cand = table[h];
      table[h] = ip;
      if (cand < 0 || load32(input, cand) !== v) {
        ip += 1 + ((ip - lit) >> 5);
        continue;
      }
      op = literal(input, lit, ip, out, op);
      let len = 4;
      while (ip + len < end && input[cand + len] === input[ip + len]) len++;
      op = copy(ip - cand, len, out, op);
      ip += len;
      lit = ip;
    }
  }
  return literal(input, lit, end, out, op);
}

function literal(input: Uint8Array, from: number, to: number, out: Uint8Array, op: number): number {
  return to === from ? op : literalAt(out, op, input, from, to - from);
}

function copy(offset: number, len: number, out: Uint8Array, op: number): number {
  while (len >= 68) {
    op = copy2(offset, 64, out, op);
    len -= 64;
  }
  if (len > 64) {
    op = copy2(offset, 60, out, op);
    len -= 60;
  }
  if (len >= 12 || offset >= 2048) return copy2(offset, len, out, op);
  out[op++] = 1 | ((len - 4) << 2) | ((offset >>> 8) << 5);
  out[op++] = offset & 0xff;
  return op;
}

function copy2(offset: number, len: number, out: Uint8Array, op: number): number {
  out[op++] = 2 | ((len - 1) << 2);
  out[op++] = offset & 0xff;
  out[op++] = offset >>> 8;
  return op;
}

/**
 * Parquet PLAIN byte arrays of n texts (text i: bytes[starts[i], +lengths[i])), each written `repeat` times in a
 * row, Snappy-compressed without a search (the subjectKey column: keys are unique, so a search finds little but
 * their lengths and, in the long layout, a key's repeats, one per flag): a text's 4-byte length is a copy of the
 * previous one's when they are equal, the text a literal, and its repeats one run of copies of it. `raw`: the
 * uncompressed size.
 */
export function snappyRepeats(texts: { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array }, n: number, repeat: number): { packed: Uint8Array; raw: number } {
  const { bytes, starts, lengths } = texts;
  let raw = 0;
  let bound = 16;
  for (let i = 0; i < n; i++) {
    const v = 4 + lengths[i];
    raw += v * repeat;
    // Two literals (tags of up to 5 bytes) and copies of at most 64 bytes (up to 5 bytes each).
    bound += 10 + v + 5 * Math.ceil(((repeat - 1) * v) / 64);
  }
  const out = new Uint8Array(bound);
  let op = lengthHeader(out, raw);
  const prefix = new Uint8Array(4);
  let previous = -1;
  for (let i = 0; i < n; i++) {
    const len = lengths[i];
    const v = 4 + len;
    if (len === previous && previous + 4 < 2048) {
      // The same 4 bytes as the previous value's length, v bytes back: a 1-byte-offset copy of 4.
      out[op++] = 1 | ((v >>> 8) << 5);
      out[op++] = v & 0xff;
    } else {
      prefix[0] = len;
      prefix[1] = len >>> 8;
      prefix[2] = len >>> 16;
      prefix[3] = len >>> 24;
      op = literalAt(out, op, prefix, 0, 4);
    }
    if (len > 0) {
      if (len <= 60) {
        // The usual key: a one-byte tag and the bytes.
        out[op++] = (len - 1) << 2;
        const start = starts[i];
        for (let b = 0; b < len; b++) out[op + b] = bytes[start + b];
        op += len;
      } else op = literalAt(out, op, bytes, starts[i], len);
    }
    previous = len;
    // The repeats: (repeat - 1) · v bytes copied from v back (a copy longer than v repeats the value again).
    for (let left = (repeat - 1) * v; left > 0; left -= 64) {
      const c = Math.min(64, left);
      if (v < 0x10000) {
        out[op++] = 2 | ((c - 1) << 2);
        out[op++] = v & 0xff;
        out[op++] = v >>> 8;
      } else {
        out[op++] = 3 | ((c - 1) << 2);
        out[op++] = v & 0xff;
        out[op++] = (v >>> 8) & 0xff;
        out[op++] = (v >>> 16) & 0xff;
        out[op++] = v >>> 24;
      }
    }
  }
  return { packed: out.subarray(0, op), raw };
}

/** A literal of from[start, start + len) (len ≥ 1) written at out[op]; the new op. */
function literalAt(out: Uint8Array, op: number, from: Uint8Array, start: number, len: number): number {
  const m = len - 1;
  if (m < 60) out[op++] = m << 2;
  else if (m < 0x100) {
    out[op++] = 60 << 2;
    out[op++] = m;
  } else if (m < 0x10000) {
    out[op++] = 61 << 2;
    out[op++] = m & 0xff;
    out[op++] = m >>> 8;
  } else {
    out[op++] = 63 << 2;
    out[op++] = m & 0xff;
    out[op++] = (m >>> 8) & 0xff;
    out[op++] = (m >>> 16) & 0xff;
    out[op++] = m >>> 24;
  }
  if (len < 32) for (let b = 0; b < len; b++) out[op + b] = from[start + b];
  else out.set(from.subarray(start, start + len), op);
  return op + len;
}
