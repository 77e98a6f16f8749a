/**
 * A structural scan of UFC text: one pass that finds the document's top-level fields and where each flag's value
 * lies inside `flags`, without building the flags. compile.ts parses a flag's slice on its first use.
 *
 * The pass runs in WebAssembly (assembly/scan.ts, over the text's UTF-8 bytes): on a process's first load a JS
 * loop over 1.3 MB runs in the JIT's slow tiers (~10 ms on Node), WebAssembly is compiled code from the first
 * byte (~2 ms). It reports the members of the top-level object (marking the one named "flags") and of its `flags`
 * object; this module decodes the flags' keys and builds the result. Where WebAssembly is not used, the same scan runs in JS (strings skipped with `indexOf`, the text between
 * them read character by character); both accept exactly the same texts (test/lazy-config.test.ts).
 *
 * The scan checks structure only (strings closed, brackets balanced and matched, commas and colons where JSON
 * puts them): text that fails it goes to `JSON.parse` whole, for the engine's error and position. A token error
 * inside one flag's value (`tru`, a raw newline in a string) passes the scan and breaks that flag alone, when
 * it is first used.
 * @module
 */
import { scanJsonWasm } from '../wasm/kernel.ts';

/** Where the flags of a document are, and the document without them. */
export interface ScannedConfig {
  /** The document with the value of its `flags` object replaced by `{}` (and nothing else changed). */
  readonly envelope: string;
  /** Flag keys as `JSON.parse` orders them (array indices first, ascending; then document order). */
  readonly keys: readonly string[];
  /** Per key: [start, end) of its value in the text. A key given twice keeps its last value, as JSON.parse does. */
  readonly spans: ReadonlyMap<string, readonly [start: number, end: number]>;
  /** [start, end) of the `flags` object in the text. */
  readonly flagsSpan: readonly [start: number, end: number];
}

const QUOTE = 34;
const BACKSLASH = 92;
const COMMA = 44;
const COLON = 58;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;

/** Thrown inside the scan; the caller then parses the text whole. */
class NotScannable extends Error {}

/**
 * Scan UFC text.
 * @param how 'js': the JS scan even where WebAssembly is available; 'simd' | 'scalar': that WebAssembly build
 *   (tests compare them); 'auto' (default): WebAssembly where it is used, else JS.
 * @param window bytes per window of the WebAssembly scan (tests).
 * @returns the envelope and the flags' spans; null when the text is not a JSON object with a `flags` object as
 *   far as the scan can tell (the caller then parses it whole, which reports the error).
 */
export function scanConfig(text: string, how: 'auto' | 'js' | 'simd' | 'scalar' = 'auto', window?: number): ScannedConfig | null {
  try {
    const records = how === 'js' ? undefined : scanJsonWasm(text, how === 'auto' ? undefined : how, window);
    if (records === null) return null;
    return records === undefined ? new Scanner(text).document() : fromRecords(text, records);
  } catch (err) {
    if (err instanceof NotScannable || err instanceof SyntaxError) return null;
    throw err;
  }
}

/**
 * The result from the records of assembly/scan.ts: per member of the top-level object its key's and value's
 * [start, end), whether its key reads "flags", and the records that follow for the members of a `flags` object.
 */
function fromRecords(text: string, r: Uint32Array): ScannedConfig | null {
  const parts: string[] = [];
  let flags: { spans: Map<string, readonly [number, number]>; span: readonly [number, number] } | null = null;
  for (let i = 0; i < r.length; ) {
    const keyStart = r[i]!;
    const keyEnd = r[i + 1]!;
    const valueStart = r[i + 2]!;
    const valueEnd = r[i + 3]!;
    const info = r[i + 4]!;
    const first = i + 5;
    i = first + 5 * (info & 0x7fffffff);
    if (info >>> 31 === 0) parts.push(text.slice(keyStart, valueEnd));
    else if (text.charCodeAt(valueStart) !== OPEN_BRACE) {
      // The last `flags` wins, as in JSON.parse; one that is not an object goes to the schema as it is.
      flags = null;
      parts.push(text.slice(keyStart, valueEnd));
    } else {
      const spans = new Map<string, readonly [number, number]>();
      for (let j = first; j < i; j += 5) spans.set(decodeKey(text, r[j]!, r[j + 1]!), [r[j + 2]!, r[j + 3]!]);
      flags = { spans, span: [valueStart, valueEnd] };
      parts.push(`${text.slice(keyStart, keyEnd)}:{}`);
    }
  }
  return flags === null ? null : { envelope: `{${parts.join(',')}}`, keys: jsonKeyOrder([...flags.spans.keys()]), spans: flags.spans, flagsSpan: flags.span };
}

/** A key's text; escapes are decoded by JSON.parse (a bad escape throws SyntaxError: the text goes whole). */
function decodeKey(text: string, start: number, end: number): string {
  const raw = text.slice(start + 1, end - 1);
  return raw.includes('\\') ? (JSON.parse(text.slice(start, end)) as string) : raw;
}

class Scanner {
  readonly #text: string;
  readonly #n: number;

  constructor(text: string) {
    this.#text = text;
    this.#n = text.length;
  }

  document(): ScannedConfig | null {
    const text = this.#text;
    let p = this.#ws(0);
    this.#expect(p, OPEN_BRACE);
    p = this.#ws(p + 1);
    const parts: string[] = [];
    let flags: { spans: Map<string, readonly [number, number]>; span: readonly [number, number] } | null = null;
    if (text.charCodeAt(p) === CLOSE_BRACE) p++;
    else {
      for (;;) {
        this.#expect(p, QUOTE);
        const keyStart = p;
        const keyEnd = this.#string(p);
        const name = this.#key(keyStart, keyEnd);
        p = this.#ws(keyEnd);
        this.#expect(p, COLON);
        p = this.#ws(p + 1);
        const valueStart = p;
        if (name === 'flags') {
          // The last `flags` wins, as in JSON.parse; one that is not an object goes to the schema as it is.
          flags = null;
          if (text.charCodeAt(p) === OPEN_BRACE) {
            const spans = new Map<string, readonly [number, number]>();
            p = this.#flags(p, spans);
            flags = { spans, span: [valueStart, p] };
            parts.push(`${text.slice(keyStart, keyEnd)}:{}`);
          } else {
            p = this.#value(p);
            parts.push(text.slice(keyStart, p));
          }
        } else {
          p = this.#value(p);
          parts.push(text.slice(keyStart, p));
        }
        p = this.#ws(p);
        const c = text.charCodeAt(p);
        if (c === COMMA) p = this.#ws(p + 1);
        else if (c === CLOSE_BRACE) {
          p++;
          break;
        } else throw new NotScannable();
      }
    }
    if (this.#ws(p) !== this.#n || flags === null) return null;
    return { envelope: `{${parts.join(',')}}`, keys: jsonKeyOrder([...flags.spans.keys()]), spans: flags.spans, flagsSpan: flags.span };
  }

  /** The members of the flags object at `p` into `spans`; returns the index after its closing brace. */
  #flags(p: number, spans: Map<string, readonly [number, number]>): number {
    const text = this.#text;
    p = this.#ws(p + 1);
    if (text.charCodeAt(p) === CLOSE_BRACE) return p + 1;
    for (;;) {
      this.#expect(p, QUOTE);
      const keyStart = p;
      const keyEnd = this.#string(p);
      const key = this.#key(keyStart, keyEnd);
      p = this.#ws(keyEnd);
      this.#expect(p, COLON);
      const start = this.#ws(p + 1);
      p = this.#value(start);
      spans.set(key, [start, p]);
      p = this.#ws(p);
      const c = text.charCodeAt(p);
      if (c === CLOSE_BRACE) return p + 1;
      if (c !== COMMA) throw new NotScannable();
      p = this.#ws(p + 1);
    }
  }

  #key(start: number, end: number): string {
    return decodeKey(this.#text, start, end);
  }

  /** The index after the value starting at `p`. */
  #value(p: number): number {
    const c = this.#text.charCodeAt(p);
    if (c === QUOTE) return this.#string(p);
    if (c === OPEN_BRACE || c === OPEN_BRACKET) return this.#composite(p);
    // A number or literal: its tokens are checked when the value is parsed.
    let q = p;
    for (; q < this.#n; q++) {
      const d = this.#text.charCodeAt(q);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || d <= 32) break;
    }
    if (q === p) throw new NotScannable();
    return q;
  }

  /** The index after the object or array at `p`; brackets must match. */
  #composite(p: number): number {
    const text = this.#text;
    const open: number[] = [];
    for (let q = p; q < this.#n; ) {
      const c = text.charCodeAt(q);
      if (c === QUOTE) {
        q = this.#string(q);
        continue;
      }
      if (c === OPEN_BRACE || c === OPEN_BRACKET) open.push(c);
      else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        // '{' + 2 === '}' and '[' + 2 === ']'.
        if (open.pop() !== c - 2) throw new NotScannable();
        if (open.length === 0) return q + 1;
      }
      q++;
    }
    throw new NotScannable();
  }

  /** The index after the string whose opening quote is at `p`. */
  #string(p: number): number {
    const text = this.#text;
    let from = p + 1;
    for (;;) {
      const end = text.indexOf('"', from);
      if (end < 0) throw new NotScannable();
      let b = end - 1;
      while (text.charCodeAt(b) === BACKSLASH) b--;
      if ((end - 1 - b) % 2 === 0) return end + 1;
      from = end + 1;
    }
  }

  #ws(p: number): number {
    const text = this.#text;
    for (; p < this.#n; p++) {
      const c = text.charCodeAt(p);
      if (c !== 32 && c !== 10 && c !== 13 && c !== 9) break;
    }
    return p;
  }

  #expect(p: number, code: number): void {
    if (this.#text.charCodeAt(p) !== code) throw new NotScannable();
  }
}

/** Keys in the order of `Object.keys` on the object JSON.parse builds: array indices first, ascending. */
function jsonKeyOrder(keys: string[]): string[] {
  const indices = keys.filter(isArrayIndex);
  if (indices.length === 0) return keys;
  indices.sort((a, b) => Number(a) - Number(b));
  return [...indices, ...keys.filter((k) => !isArrayIndex(k))];
}

function isArrayIndex(key: string): boolean {
  const c = key.charCodeAt(0);
  if (c < 48 || c > 57 || key.length > 10) return false;
  return (key === '0' || c !== 48) && /^\d+$/.test(key) && Number(key) < 4294967295;
}
