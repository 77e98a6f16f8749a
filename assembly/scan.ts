// Structural scan of a JSON document for src/config/scan.ts: the same checks as its JS scanner (strings closed,
// brackets balanced and matched, the members of the top-level object and of its "flags" object separated by commas
// and colons), over the text's UTF-8 bytes, so a config load does not wait for the JIT to warm up a JS byte loop.
//
// Records (5 u32 words each, at outPtr), one per member of the top-level object, in text order; a member named
// "flags" whose value is an object is followed by one record per member of that object (its children):
//   0 key start (the opening quote)   1 key end (after the closing quote)   2 value start   3 value end
//   4 the number of child records that follow, plus 2^31 when the member is named "flags" (as JSON.parse reads the key)
// Offsets are byte offsets into the text; utf16Offsets turns them into UTF-16 offsets for non-ASCII text.
// Values below the second level are checked as the JS scanner checks them: strings closed, brackets matched.

const QUOTE: u32 = 34;
const BACKSLASH: u32 = 92;
const COMMA: u32 = 44;
const COLON: u32 = 58;
const OPEN_BRACE: u32 = 123;
const CLOSE_BRACE: u32 = 125;
const OPEN_BRACKET: u32 = 91;
const CLOSE_BRACKET: u32 = 93;

/** scanJson results besides a record count. */
const NOT_SCANNABLE: i32 = -1;
const OUT_FULL: i32 = -2;
const RECORD: usize = 20;

let text: usize = 0;
let n: i32 = 0;
let stack: usize = 0;
let out: usize = 0;
let outEnd: usize = 0;

// @ts-ignore: decorator
@inline function at(p: i32): u32 {
  return <u32>load<u8>(text + <usize>p);
}

function ws(p: i32): i32 {
  while (p < n) {
    const c = at(p);
    if (c != 32 && c != 10 && c != 13 && c != 9) break;
    p++;
  }
  return p;
}

/** The index after the string whose opening quote is at p, or -1. */
function skipString(p: i32): i32 {
  p++;
  while (p < n) {
    const c = at(p);
    if (c == QUOTE) return p + 1;
    p += c == BACKSLASH ? 2 : 1;
  }
  return NOT_SCANNABLE;
}

/**
 * The index after the object or array at p (brackets must match), or -1. The SIMD build finds the bytes that
 * matter (quotes, backslashes, brackets) 16 at a time and visits only those; both builds finish byte by byte.
 */
function skipComposite(p: i32): i32 {
  let depth: usize = 0;
  let inString = false;
  if (ASC_FEATURE_SIMD) {
    // Set when a block ends with a backslash inside a string: the next block's first byte is escaped.
    let escaped: u32 = 0;
    while (p + 16 <= n) {
      const v = v128.load(text + <usize>p);
      const quotes = v128.or(i8x16.eq(v, i8x16.splat(<i8>QUOTE)), i8x16.eq(v, i8x16.splat(<i8>BACKSLASH)));
      const braces = v128.or(i8x16.eq(v, i8x16.splat(<i8>OPEN_BRACE)), i8x16.eq(v, i8x16.splat(<i8>CLOSE_BRACE)));
      const brackets = v128.or(i8x16.eq(v, i8x16.splat(<i8>OPEN_BRACKET)), i8x16.eq(v, i8x16.splat(<i8>CLOSE_BRACKET)));
      let mask = i8x16.bitmask(v128.or(quotes, v128.or(braces, brackets))) & ~escaped;
      escaped = 0;
      while (mask != 0) {
        const i = ctz(mask);
        mask &= mask - 1;
        const c = at(p + i);
        if (inString) {
          if (c == QUOTE) inString = false;
          else if (c == BACKSLASH) {
            if (i == 15) escaped = 1;
            else mask &= ~(<u32>1 << (i + 1));
          }
        } else if (c == QUOTE) inString = true;
        else if (c == OPEN_BRACE || c == OPEN_BRACKET) {
          store<u8>(stack + depth, <u8>c);
          depth++;
        } else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
          if (depth == 0 || <u32>load<u8>(stack + depth - 1) != c - 2) return NOT_SCANNABLE;
          depth--;
          if (depth == 0) return p + i + 1;
        }
      }
      p += 16;
    }
    p += escaped;
  }
  while (p < n) {
    const c = at(p);
    if (inString) {
      if (c == QUOTE) inString = false;
      else if (c == BACKSLASH) p++;
    } else if (c == QUOTE) inString = true;
    else if (c == OPEN_BRACE || c == OPEN_BRACKET) {
      store<u8>(stack + depth, <u8>c);
      depth++;
    } else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
      // '{' + 2 == '}' and '[' + 2 == ']'; the first byte opened, so depth > 0 here.
      if (depth == 0 || <u32>load<u8>(stack + depth - 1) != c - 2) return NOT_SCANNABLE;
      depth--;
      if (depth == 0) return p + 1;
    }
    p++;
  }
  return NOT_SCANNABLE;
}

/** The index after the value at p, or -1. A number or literal runs to the next ',', '}', ']' or byte <= 32. */
function skipValue(p: i32): i32 {
  if (p >= n) return NOT_SCANNABLE;
  const c = at(p);
  if (c == QUOTE) return skipString(p);
  if (c == OPEN_BRACE || c == OPEN_BRACKET) return skipComposite(p);
  let q = p;
  while (q < n) {
    const d = at(q);
    if (d == COMMA || d == CLOSE_BRACE || d == CLOSE_BRACKET || d <= 32) break;
    q++;
  }
  return q == p ? NOT_SCANNABLE : q;
}

/**
 * The members of the object at p, one record each; returns the index after the closing brace, -1 or -2. At the
 * top level (`top`), a member named "flags" is marked, and when its value is an object, that object's members
 * follow its record; every other value is skipped (skipValue).
 */
function members(p: i32, top: bool): i32 {
  p = ws(p + 1);
  if (p < n && at(p) == CLOSE_BRACE) return p + 1;
  while (true) {
    if (p >= n || at(p) != QUOTE) return NOT_SCANNABLE;
    const keyStart = p;
    const keyEnd = skipString(p);
    if (keyEnd < 0) return NOT_SCANNABLE;
    const name = top ? keyName(keyStart, keyEnd) : 0;
    if (name < 0) return NOT_SCANNABLE;
    p = ws(keyEnd);
    if (p >= n || at(p) != COLON) return NOT_SCANNABLE;
    const valueStart = ws(p + 1);
    if (out + RECORD > outEnd) return OUT_FULL;
    const record = out;
    out += RECORD;
    const valueEnd = name == 1 && valueStart < n && at(valueStart) == OPEN_BRACE ? members(valueStart, false) : skipValue(valueStart);
    if (valueEnd < 0) return valueEnd;
    store<u32>(record, keyStart);
    store<u32>(record, keyEnd, 4);
    store<u32>(record, valueStart, 8);
    store<u32>(record, valueEnd, 12);
    store<u32>(record, <u32>((out - record) / RECORD - 1) | (<u32>name << 31), 16);
    p = ws(valueEnd);
    if (p >= n) return NOT_SCANNABLE;
    const c = at(p);
    if (c == CLOSE_BRACE) return p + 1;
    if (c != COMMA) return NOT_SCANNABLE;
    p = ws(p + 1);
  }
  return NOT_SCANNABLE;
}

/**
 * The key whose quotes are at s and e - 1, as JSON.parse reads it: 1 when it is "flags", 0 another name, -1 when
 * JSON.parse rejects it (a bad escape, or a control character in a key that has an escape; without escapes the
 * JS scanner takes the text as it is).
 */
function keyName(s: i32, e: i32): i32 {
  const last = e - 1;
  let escaped = false;
  for (let q = s + 1; q < last; q++) {
    if (at(q) == BACKSLASH) {
      escaped = true;
      break;
    }
  }
  let k: i32 = 0;
  let same = true;
  let q = s + 1;
  while (q < last) {
    let unit = at(q);
    if (escaped && unit < 32) return -1;
    q++;
    if (escaped && unit == BACKSLASH) {
      // The closing quote is not escaped, so an escape ends before it.
      const d = at(q);
      q++;
      if (d == 117) {
        // \uXXXX
        if (q + 4 > last) return -1;
        unit = 0;
        for (let h = 0; h < 4; h++, q++) {
          const x = at(q);
          const v: u32 = x >= 48 && x <= 57 ? x - 48 : x >= 97 && x <= 102 ? x - 87 : x >= 65 && x <= 70 ? x - 55 : 16;
          if (v == 16) return -1;
          unit = (unit << 4) | v;
        }
      } else if (d == QUOTE || d == BACKSLASH || d == 47) unit = d;
      else if (d == 98) unit = 8;
      else if (d == 102) unit = 12;
      else if (d == 110) unit = 10;
      else if (d == 114) unit = 13;
      else if (d == 116) unit = 9;
      else return -1;
    }
    if (k >= 5 || unit != <u32>load<u8>(changetype<usize>(FLAGS) + <usize>k)) same = false;
    k++;
  }
  return same && k == 5 ? 1 : 0;
}

const FLAGS = memory.data<u8>([102, 108, 97, 103, 115]);

/**
 * Scans the JSON object in [textPtr, textPtr + len): records at outPtr (room for outCap bytes); stackPtr has room
 * for len bytes (the open brackets of a value). Returns the number of records; -1 when the text is not a JSON
 * object as far as the scan can tell (the caller then parses it whole); -2 when outCap was too small.
 */
export function scanJson(textPtr: usize, len: i32, stackPtr: usize, outPtr: usize, outCap: usize): i32 {
  text = textPtr;
  n = len;
  stack = stackPtr;
  out = outPtr;
  outEnd = outPtr + outCap;
  let p = ws(0);
  if (p >= n || at(p) != OPEN_BRACE) return NOT_SCANNABLE;
  p = members(p, true);
  if (p < 0) return p;
  if (ws(p) != n) return NOT_SCANNABLE;
  return <i32>((out - outPtr) / RECORD);
}

/**
 * Turns the byte offsets of `count` records (scanJson's, in their order) into UTF-16 offsets of the string the
 * UTF-8 text at textPtr was encoded from (a lead byte of 4 counts 2 units; a continuation byte none).
 */
export function utf16Offsets(textPtr: usize, recordsPtr: usize, count: u32): void {
  let byte: u32 = 0;
  let unit: u32 = 0;
  let r: u32 = 0;
  while (r < count) {
    const record = recordsPtr + <usize>r * RECORD;
    const children = load<u32>(record, 16) & 0x7fffffff;
    // Parent: key start, key end, value start; its children; then its value end.
    for (let f: usize = 0; f < 12; f += 4) {
      const target = load<u32>(record + f);
      for (; byte < target; byte++) unit += units(load<u8>(textPtr + byte));
      store<u32>(record + f, unit);
    }
    const valueEnd = load<u32>(record, 12);
    for (let c: u32 = 1; c <= children; c++) {
      const child = record + <usize>c * RECORD;
      for (let f: usize = 0; f < 16; f += 4) {
        const target = load<u32>(child + f);
        for (; byte < target; byte++) unit += units(load<u8>(textPtr + byte));
        store<u32>(child + f, unit);
      }
    }
    for (; byte < valueEnd; byte++) unit += units(load<u8>(textPtr + byte));
    store<u32>(record, unit, 12);
    r += children + 1;
  }
}

// @ts-ignore: decorator
@inline function units(b: u8): u32 {
  return (b & 0xc0) == 0x80 ? 0 : b >= 0xf0 ? 2 : 1;
}
