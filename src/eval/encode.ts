/**
 * Subjects → the flat arrays of a rule-engine job (see RuleJob in wasm/kernel.ts): UTF-8 keys, and per column of
 * the program the presence, interned text and Number() of each value, plus the truth of each JS-decided
 * condition (regex, semver). Semver truths and obfuscated text ids are memoized per distinct value for as long as
 * the program lives; regexes memoize themselves where it pays (config/regex.ts).
 * @module
 */
import { isWellFormed, md5Hex } from '../config/encoding.ts';
import type { RuleJob } from '../wasm/kernel.ts';
import type { RuleProgram } from './program.ts';
import { matchesCondition } from './reference.ts';

const encoder = new TextEncoder();
/** Distinct values remembered per atom (and per obfuscated text column) before the memo starts over. */
const MEMO_LIMIT = 1 << 16;

interface Memo {
  /** Per semver atom: string value → truth. */
  readonly atoms: Map<string, boolean>[];
  /** Obfuscated configs: String(value) → interned id of its md5 (-1 when none). */
  readonly hashedText: Map<string, number>;
  /** Per column: the atoms reading it. */
  readonly atomsOf: number[][];
}

const memos = new WeakMap<RuleProgram, Memo>();

function memoOf(program: RuleProgram): Memo {
  let m = memos.get(program);
  if (m === undefined) {
    const atomsOf: number[][] = program.columns.map(() => []);
    program.atoms.forEach((a, i) => atomsOf[a.column].push(i));
    m = { atoms: program.atoms.map(() => new Map()), hashedText: new Map(), atomsOf };
    memos.set(program, m);
  }
  return m;
}

/**
 * The builder of the last finished batch, for the next batch of the same program: its arrays take a few hundred
 * KB for an 8,192-subject chunk, and allocating (zeroed) arrays per call cost ~5 % of a 10,000-subject batch.
 */
let spare: JobBuilder | null = null;

/**
 * Fills jobs row by row (rows the engine must not answer are marked with skip()); reset() starts the next one,
 * reusing the arrays. A batch takes one with {@link JobBuilder.take} and gives it back with release().
 */
export class JobBuilder {
  /** Rows of the current job. */
  n = 0;
  readonly #cap: number;
  readonly #program: RuleProgram;
  readonly #obfuscated: boolean;
  readonly #memo: Memo;
  #arena: Uint8Array;
  #at = 0;
  /** Set by sharedKeys(): the job reads keys from this array instead of #arena. */
  #shared: Uint8Array | null = null;
  readonly #keyStart: Uint32Array;
  readonly #keyLen: Uint32Array;
  readonly #skip: Uint8Array;
  readonly #kinds: Uint8Array;
  readonly #text: Int32Array;
  readonly #num: Float64Array;
  readonly #atoms: Uint8Array;
  readonly #nAtoms: number;

  /** @param capacity the most rows a job will have. */
  constructor(program: RuleProgram, obfuscated: boolean, capacity: number) {
    const n = capacity;
    this.#cap = n;
    this.#program = program;
    this.#obfuscated = obfuscated;
    this.#memo = memoOf(program);
    const cols = program.columns.length;
    this.#arena = new Uint8Array(n * 24 + 64);
    this.#keyStart = new Uint32Array(n);
    this.#keyLen = new Uint32Array(n);
    this.#skip = new Uint8Array(n);
    this.#kinds = new Uint8Array(cols * n);
    this.#text = new Int32Array(cols * n);
    this.#num = new Float64Array(cols * n);
    this.#nAtoms = program.atoms.length;
    this.#atoms = new Uint8Array(n * this.#nAtoms);
  }

  /**
   * A builder for jobs of at most `capacity` rows: the spare one when it was made for this program and capacity
   * (a larger one would make every job copy its longer columns), else a new one.
   */
  static take(program: RuleProgram, obfuscated: boolean, capacity: number): JobBuilder {
    const b = spare;
    if (b !== null && b.#program === program && b.#obfuscated === obfuscated && b.#cap === capacity) {
      spare = null;
      return b;
    }
    return new JobBuilder(program, obfuscated, capacity);
  }

  /** Done with this builder (its jobs have run): it becomes the spare one. */
  release(): void {
    spare = this;
  }

  /** Starts a job of n rows (at most the capacity). */
  reset(n: number): void {
    if (this.n !== 0) {
      const cols = this.#program.columns.length;
      this.#skip.fill(0);
      this.#kinds.fill(0);
      this.#atoms.fill(0);
      if (cols > 0) this.#text.fill(0);
    }
    this.n = n;
    this.#at = 0;
    this.#shared = null;
  }

  /** Row r answers in JS. */
  skip(r: number): void {
    this.#skip[r] = 1;
  }

  /** Whether row r answers in JS. */
  skipped(r: number): boolean {
    return this.#skip[r] === 1;
  }

  /** The key of row r as a string; false (and the row skipped) when it has a lone surrogate. */
  key(r: number, key: string): boolean {
    const n = key.length;
    this.#room(n * 3);
    const arena = this.#arena;
    let at = this.#at;
    this.#keyStart[r] = at;
    let i = 0;
    for (; i < n; i++) {
      const c = key.charCodeAt(i);
      if (c >= 0x80) break;
      arena[at++] = c;
    }
    if (i < n) {
      if (!isWellFormed(key)) {
        this.skip(r);
        return false;
      }
      at += encoder.encodeInto(key.slice(i), arena.subarray(at)).written;
    }
    this.#keyLen[r] = at - this.#keyStart[r];
    this.#at = at;
    return true;
  }

  /**
   * The keys of rows 0 .. keys.length − 1, called once per job before any other key ('' for a row already skipped,
   * whose key is not read): when they are all ASCII, one encodeInto of their concatenation writes them all; else
   * {@link key} encodes them row by row.
   */
  keys(keys: readonly string[]): void {
    const joined = keys.join('');
    this.#room(joined.length);
    const { read, written } = encoder.encodeInto(joined, this.#arena.subarray(this.#at));
    if (read === joined.length && written === read) {
      let at = this.#at;
      for (let r = 0; r < keys.length; r++) {
        const l = keys[r].length;
        this.#keyStart[r] = at;
        this.#keyLen[r] = l;
        at += l;
      }
      this.#at = at;
      return;
    }
    for (let r = 0; r < keys.length; r++) if (this.#skip[r] === 0) this.key(r, keys[r]);
  }

  /**
   * Every row's key is UTF-8 in `bytes`: row r at starts[r], lengths[r] bytes (for rows not skipped). The job then
   * carries only the span of `bytes` the keys cover, uncopied until it reaches the kernel.
   */
  sharedKeys(bytes: Uint8Array, starts: Uint32Array, lengths: Uint32Array): void {
    const n = this.n;
    const skip = this.#skip;
    const keyStart = this.#keyStart;
    let lo = bytes.length;
    let hi = 0;
    for (let r = 0; r < n; r++) {
      if (skip[r] === 1) continue;
      const s = starts[r];
      const e = s + lengths[r];
      if (s < lo) lo = s;
      if (e > hi) hi = e;
    }
    if (lo > hi) lo = hi = 0;
    for (let r = 0; r < n; r++) keyStart[r] = skip[r] === 1 ? 0 : starts[r] - lo;
    this.#keyLen.set(lengths.subarray(0, n));
    this.#shared = bytes.subarray(lo, hi);
  }

  /**
   * The value of column c for row r (undefined or null: absent). Returns false, and skips the row, for a value
   * that is not a string, number or boolean (the reference evaluator answers those, errors included).
   */
  value(r: number, c: number, v: unknown): boolean {
    return this.#cell(r, c, v, this.#program.columns[c], this.#memo.atomsOf[c]);
  }

  /**
   * Column c of every row not skipped yet: row r takes `values[from + r]`, or, when that is null or undefined and
   * `keyOf` is given (the implicit `id` column), `keyOf(from + r)`. Row by row as {@link value}, one column at a
   * time; a row whose value the engine does not take, or whose value cannot be encoded (a lone surrogate in an
   * obfuscated config), is skipped.
   */
  column(c: number, values: ArrayLike<unknown> | null, from: number, keyOf: ((i: number) => string) | null): void {
    const col = this.#program.columns[c];
    const atoms = this.#memo.atomsOf[c];
    const skip = this.#skip;
    for (let r = 0; r < this.n; r++) {
      if (skip[r] === 1) continue;
      let v = values === null ? undefined : values[from + r];
      if (v == null) {
        if (keyOf === null) continue;
        v = keyOf(from + r);
      }
      try {
        this.#cell(r, c, v, col, atoms);
      } catch {
        this.skip(r);
      }
    }
  }

  #cell(r: number, c: number, v: unknown, col: RuleProgram['columns'][number], atoms: readonly number[]): boolean {
    let text: string;
    switch (typeof v) {
      case 'undefined':
        // kinds, text and num stay 0; atoms are false on null (matchesCondition), as the zeroed bytes say.
        return true;
      case 'string':
        text = v;
        break;
      case 'number':
        text = col.text ? String(v) : '';
        break;
      case 'boolean':
        text = v ? 'true' : 'false';
        break;
      default:
        if (v === null) return true;
        this.skip(r);
        return false;
    }
    const cell = c * this.#cap + r;
    this.#kinds[cell] = 1;
    if (col.text) this.#text[cell] = this.#textId(text);
    if (col.num) this.#num[cell] = typeof v === 'number' ? v : Number(v);
    for (let k = 0; k < atoms.length; k++) {
      const a = atoms[k];
      this.#atoms[r * this.#nAtoms + a] = this.#atom(a, v as string | number | boolean) ? 1 : 0;
    }
    return true;
  }

  #textId(text: string): number {
    const strings = this.#program.strings;
    if (!this.#obfuscated) return strings.get(text) ?? -1;
    const memo = this.#memo.hashedText;
    let id = memo.get(text);
    if (id === undefined) {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      id = strings.get(md5Hex(text)) ?? -1;
      memo.set(text, id);
    }
    return id;
  }

  #atom(a: number, v: string | number | boolean): boolean {
    const condition = this.#program.atoms[a].condition;
    // Regexes are fast or memoize themselves (config/regex.ts); semver parsing is what is worth remembering.
    if (typeof v !== 'string' || condition.op === 'MATCHES' || condition.op === 'NOT_MATCHES') return matchesCondition(condition, v, this.#obfuscated);
    const memo = this.#memo.atoms[a];
    let t = memo.get(v);
    if (t === undefined) {
      if (memo.size >= MEMO_LIMIT) memo.clear();
      t = matchesCondition(condition, v, this.#obfuscated);
      memo.set(v, t);
    }
    return t;
  }

  #room(bytes: number): void {
    if (this.#at + bytes + 16 <= this.#arena.length) return;
    const grown = new Uint8Array(Math.max(this.#arena.length * 2, this.#at + bytes + 64));
    grown.set(this.#arena.subarray(0, this.#at));
    this.#arena = grown;
  }

  /** The job for the kernel; `out` receives the cells. */
  job(nowMs: number, out: Uint16Array): RuleJob {
    const p = this.#program;
    return {
      code: p.code,
      consts: p.consts,
      entries: p.entries,
      salts: p.salts,
      totals: p.totals,
      n: this.n,
      arena: this.#shared ?? this.#arena.subarray(0, this.#at),
      keyStart: this.#keyStart,
      keyLen: this.#keyLen,
      skip: this.#skip,
      kinds: this.#kinds,
      text: this.#text,
      num: this.#num,
      atoms: this.#atoms,
      stride: this.#cap,
      nAtoms: this.#nAtoms,
      nowMs,
      out,
    };
  }
}
