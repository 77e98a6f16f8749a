// Structural scan of a JSON document for src/config/scan.ts: the same checks as its JS scanner (strings closed,
// brackets balanced and matched, the members of the top-level object and of its "flags" object separated by commas
// and colons), over the text's UTF-8 bytes, so a config load does not wait for the JIT to warm up a JS byte loop.
//
// The text comes in windows (scanBegin, then scanWindow for each window): JS encodes the next window where the
// scan stopped, so a 1.3 MB text is never copied whole into fresh memory (first touches of fresh pages cost as
// much as the scan). The scan stops at the end of a window and resumes where it says (scanResume): inside a value
// at the byte it reached, elsewhere at the start of the member it was reading (so a key, a literal, or a string
// member value must fit in one window; the caller reads the text whole when one does not).
//
// Records (5 u32 words each, at outPtr), one per member of the top-level object, in text order; a member named
// "flags" whose value is an object is followed by one record per member of that object (its children):
//   0 key start (the opening quote)   1 key end (after the closing quote)   2 value start   3 value end
//   4 the number of child records that follow, plus 2^31 when the member is named "flags" (as JSON.parse reads the key)
// Offsets are byte offsets into the text; utf16Offsets turns them into UTF-16 offsets for non-ASCII text.
// Values below the second level are checked as the JS scanner checks them: strings closed, brackets matched.

const QUOTE: i32 = 34;
const BACKSLASH: i32 = 92;
const COMMA: i32 = 44;
const COLON: i32 = 58;
const OPEN_BRACE: i32 = 123;
const CLOSE_BRACE: i32 = 125;
const OPEN_BRACKET: i32 = 91;
const CLOSE_BRACKET: i32 = 93;

/** scanWindow results besides a record count. */
const NOT_SCANNABLE: i32 = -1;
const OUT_FULL: i32 = -2;
const STARVED: i32 = -3;
/** Internal: go on with the next state. */
const CONTINUE: i32 = -100;
/** peek() past the end of the text, and past the end of the window with more text to come. */
const EOF: i32 = -1;
const MORE: i32 = -2;
const RECORD: usize = 20;

// States, each resumable at `pos`.
/** Before the document. */
const START = 0;
/** At the opening brace of the object of `level`. */
const OBJECT = 1;
/** After a comma in the object of `level`. */
const NEXT = 2;
/** Inside a composite value (depth, inString) of the member whose record is `record`. */
const VALUE = 3;
/** After the value of a member of the object of `level`. */
const TAIL = 4;
/** After the document. */
const END = 5;

let n: i32 = 0;
let stack: usize = 0;
let outStart: usize = 0;
let out: usize = 0;
let outEnd: usize = 0;
/** The window: text offsets [wStart, wEnd) at address win. */
let win: usize = 0;
let wStart: i32 = 0;
let wEnd: i32 = 0;
let state: i32 = START;
let pos: i32 = 0;
/** 0: the top-level object; 1: its "flags" object, whose member record is `parent`. */
let level: i32 = 0;
let parent: usize = 0;
let record: usize = 0;
let depth: usize = 0;
let inString: bool = false;

/** The byte at text offset p (inside the window). */
// @ts-ignore: decorator
@inline function at(p: i32): i32 {
  return <i32>load<u8>(win + <usize>(p - wStart));
}

/** The byte at p, EOF past the text, MORE past the window. */
// @ts-ignore: decorator
@inline function peek(p: i32): i32 {
  return p < wEnd ? at(p) : wEnd < n ? MORE : EOF;
}

function ws(p: i32): i32 {
  while (p < wEnd) {
    const c = at(p);
    if (c != 32 && c != 10 && c != 13 && c != 9) break;
    p++;
  }
  return p;
}

/** The index after the string whose opening quote is at p; NOT_SCANNABLE or STARVED. */
function skipString(p: i32): i32 {
  p++;
  while (p < wEnd) {
    const c = at(p);
    if (c == QUOTE) return p + 1;
    p += c == BACKSLASH ? 2 : 1;
  }
  return wEnd < n ? STARVED : NOT_SCANNABLE;
}

/** The index after the number or literal at p: it runs to the next ',', '}', ']' or byte <= 32. */
function skipLiteral(p: i32): i32 {
  let q = p;
  while (true) {
    const d = peek(q);
    if (d == MORE) return STARVED;
    if (d == EOF || d == COMMA || d == CLOSE_BRACE || d == CLOSE_BRACKET || d <= 32) break;
    q++;
  }
  return q == p ? NOT_SCANNABLE : q;
}

/**
 * Begins a scan of a text of len bytes: records at outPtr (room for outCap bytes); stackPtr has room for len bytes
 * (the open brackets of a value).
 */
export function scanBegin(len: i32, stackPtr: usize, outPtr: usize, outCap: usize): void {
  n = len;
  stack = stackPtr;
  outStart = out = outPtr;
  outEnd = outPtr + outCap;
  state = START;
  pos = 0;
  level = 0;
}

/**
 * Scans the window of text offsets [start, end) at winPtr (start = scanResume(); end = the text's length for the
 * last one, which must then follow with 16 addressable bytes). Returns the number of records when the document
 * is done; -1 when it is not a JSON object as far as the scan can tell (the caller then parses it whole); -2
 * when outCap was too small; -3 when it needs the next window, from scanResume().
 */
export function scanWindow(winPtr: usize, start: i32, end: i32): i32 {
  win = winPtr;
  wStart = start;
  wEnd = end;
  while (true) {
    let r: i32;
    if (state == VALUE) r = value();
    else if (state == TAIL) r = tail();
    else if (state == NEXT) r = member(pos, false);
    else if (state == OBJECT) r = member(pos + 1, true);
    else if (state == START) {
      const p = ws(0);
      const c = peek(p);
      if (c == MORE) return STARVED;
      if (c != OPEN_BRACE) return NOT_SCANNABLE;
      state = OBJECT;
      pos = p;
      r = CONTINUE;
    } else {
      const c = peek(ws(pos));
      if (c == MORE) return STARVED;
      return c == EOF ? <i32>((out - outStart) / RECORD) : NOT_SCANNABLE;
    }
    if (r != CONTINUE) return r;
  }
  return NOT_SCANNABLE;
}

/** Where the next window must start. */
export function scanResume(): i32 {
  return pos;
}

/** A member of the object of `level`, from p (after its '{' when `first`, else after a comma). */
function member(p: i32, first: bool): i32 {
  p = ws(p);
  let c = peek(p);
  if (c == MORE) return STARVED;
  if (first && c == CLOSE_BRACE) return close(p + 1);
  if (c != QUOTE) return NOT_SCANNABLE;
  const keyStart = p;
  const keyEnd = skipString(p);
  if (keyEnd < 0) return keyEnd;
  const name = level == 0 ? keyName(keyStart, keyEnd) : 0;
  if (name < 0) return NOT_SCANNABLE;
  p = ws(keyEnd);
  c = peek(p);
  if (c == MORE) return STARVED;
  if (c != COLON) return NOT_SCANNABLE;
  const valueStart = ws(p + 1);
  c = peek(valueStart);
  if (c == MORE) return STARVED;
  if (out + RECORD > outEnd) return OUT_FULL;
  const rec = out;
  store<u32>(rec, keyStart);
  store<u32>(rec, keyEnd, 4);
  store<u32>(rec, valueStart, 8);
  store<u32>(rec, <u32>name << 31, 16);
  if (name == 1 && c == OPEN_BRACE) {
    out += RECORD;
    parent = rec;
    level = 1;
    state = OBJECT;
    pos = valueStart;
    return CONTINUE;
  }
  if (c == OPEN_BRACE || c == OPEN_BRACKET) {
    out += RECORD;
    record = rec;
    depth = 0;
    inString = false;
    state = VALUE;
    pos = valueStart;
    return CONTINUE;
  }
  // A string or literal: read whole, or the member again from its start with the next window.
  const valueEnd = c == QUOTE ? skipString(valueStart) : skipLiteral(valueStart);
  if (valueEnd < 0) return valueEnd;
  out += RECORD;
  store<u32>(rec, valueEnd, 12);
  state = TAIL;
  pos = valueEnd;
  return CONTINUE;
}

/** After the value of a member: a comma, or the end of its object. */
function tail(): i32 {
  const p = ws(pos);
  const c = peek(p);
  if (c == MORE) return STARVED;
  if (c == CLOSE_BRACE) return close(p + 1);
  if (c != COMMA) return NOT_SCANNABLE;
  state = NEXT;
  pos = p + 1;
  return CONTINUE;
}

/** The object of `level` ended before p. */
function close(p: i32): i32 {
  if (level == 1) {
    store<u32>(parent, p, 12);
    store<u32>(parent, load<u32>(parent, 16) | <u32>((out - parent) / RECORD - 1), 16);
    level = 0;
    state = TAIL;
  } else state = END;
  pos = p;
  return CONTINUE;
}

/**
 * Goes on with the composite value of `record` from pos: brackets must match, strings are skipped. The SIMD build
 * finds the bytes that matter (quotes, backslashes, brackets) 16 at a time and visits only those; both builds
 * step byte by byte near the window's end.
 */
function value(): i32 {
  let p = pos;
  let d = depth;
  let s = inString;
  while (true) {
    if (ASC_FEATURE_SIMD) {
      while (p + 16 <= wEnd) {
        const v = v128.load(win + <usize>(p - wStart));
        const quotes = v128.or(i8x16.eq(v, i8x16.splat(<i8>QUOTE)), i8x16.eq(v, i8x16.splat(<i8>BACKSLASH)));
        const braces = v128.or(i8x16.eq(v, i8x16.splat(<i8>OPEN_BRACE)), i8x16.eq(v, i8x16.splat(<i8>CLOSE_BRACE)));
        const brackets = v128.or(i8x16.eq(v, i8x16.splat(<i8>OPEN_BRACKET)), i8x16.eq(v, i8x16.splat(<i8>CLOSE_BRACKET)));
        let mask = i8x16.bitmask(v128.or(quotes, v128.or(braces, brackets)));
        let next = p + 16;
        while (mask != 0) {
          const i = <i32>ctz(mask);
          mask &= mask - 1;
          const c = at(p + i);
          if (s) {
            if (c == QUOTE) s = false;
            else if (c == BACKSLASH) {
              // An escape at the block's last byte: the byte loop below takes it.
              if (i == 15) {
                next = p + 15;
                break;
              }
              mask &= ~(<u32>1 << (i + 1));
            }
          } else if (c == QUOTE) s = true;
          else if (c == OPEN_BRACE || c == OPEN_BRACKET) {
            store<u8>(stack + d, <u8>c);
            d++;
          } else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
            // '{' + 2 == '}' and '[' + 2 == ']'.
            if (d == 0 || <i32>load<u8>(stack + d - 1) != c - 2) return NOT_SCANNABLE;
            d--;
            if (d == 0) return valueEnd(p + i + 1);
          }
        }
        p = next;
      }
    }
    if (p >= wEnd) return starve(p, d, s);
    const c = at(p);
    if (s) {
      if (c == QUOTE) s = false;
      else if (c == BACKSLASH) {
        if (p + 1 >= wEnd) return starve(p, d, s);
        p++;
      }
    } else if (c == QUOTE) s = true;
    else if (c == OPEN_BRACE || c == OPEN_BRACKET) {
      store<u8>(stack + d, <u8>c);
      d++;
    } else if (c == CLOSE_BRACE || c == CLOSE_BRACKET) {
      if (d == 0 || <i32>load<u8>(stack + d - 1) != c - 2) return NOT_SCANNABLE;
      d--;
      if (d == 0) return valueEnd(p + 1);
    }
    p++;
  }
  return NOT_SCANNABLE;
}

/** The composite value of `record` ended before p. */
function valueEnd(p: i32): i32 {
  store<u32>(record, p, 12);
  state = TAIL;
  pos = p;
  return CONTINUE;
}

/** The window ended inside a composite value: resume at p, or the text ended there (not scannable). */
function starve(p: i32, d: usize, s: bool): i32 {
  if (wEnd >= n) return NOT_SCANNABLE;
  pos = p;
  depth = d;
  inString = s;
  return STARVED;
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
    let unit = <u32>at(q);
    if (escaped && unit < 32) return -1;
    q++;
    if (escaped && unit == BACKSLASH) {
      // The closing quote is not escaped, so an escape ends before it.
      const d = <u32>at(q);
      q++;
      if (d == 117) {
        // \uXXXX
        if (q + 4 > last) return -1;
        unit = 0;
        for (let h = 0; h < 4; h++, q++) {
          const x = <u32>at(q);
          const v: u32 = x >= 48 && x <= 57 ? x - 48 : x >= 97 && x <= 102 ? x - 87 : x >= 65 && x <= 70 ? x - 55 : 16;
          if (v == 16) return -1;
          unit = (unit << 4) | v;
        }
      } else if (d == <u32>QUOTE || d == <u32>BACKSLASH || d == 47) unit = d;
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
