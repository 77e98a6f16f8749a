/**
 * An ECMAScript regex engine for `RegExp.prototype.test` without flags, in time linear in the input.
 *
 * The parser reads the pattern as ECMAScript does without the `u` flag, Annex B included: one UTF-16 code unit
 * per character (a surrogate pair in the pattern is two characters, `.` matches one unit), `\d \w \s` and their
 * negations (also inside classes and as range ends, where Annex B makes the `-` literal), legacy octal escapes,
 * `\k`, `\8`, `\c` and `{` as plain characters where ECMAScript reads them so. Without lookaround and
 * backreferences a pattern denotes a regular language whose membership test does not depend on the
 * backtracking order, so a Thompson NFA over UTF-16 code units gives exactly the native answer. The NFA is run
 * as a DFA built lazily: each input unit costs one array lookup once its transition is known, and at most one
 * subset construction (bounded by the NFA size) the first time.
 *
 * Only patterns that `new RegExp(pattern)` accepts reach this parser; it throws NotLinear for what a finite
 * automaton cannot express (lookaround, backreferences) and for automata above STATE_LIMIT states.
 * @module
 */

/** Why a valid pattern cannot run on the linear engine. */
export class NotLinear extends Error {}

/** Sorted, disjoint, inclusive UTF-16 unit ranges: [lo0, hi0, lo1, hi1, ...]. */
export type Ranges = number[];

export type Assertion = 'start' | 'end' | 'boundary' | 'notBoundary';
export type Node =
  | { t: 'unit'; set: Ranges }
  | { t: 'seq'; items: Node[] }
  | { t: 'alt'; items: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number }
  | { t: 'assert'; kind: Assertion };

const MAX_UNIT = 0xffff;
const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
// WhiteSpace and LineTerminator (ECMA-262 §12.2, §12.3): what `\s` matches.
const SPACE: Ranges = [
  0x09, 0x0d, 0x20, 0x20, 0xa0, 0xa0, 0x1680, 0x1680, 0x2000, 0x200a, 0x2028, 0x2029, 0x202f, 0x202f, 0x205f, 0x205f,
  0x3000, 0x3000, 0xfeff, 0xfeff,
];
const LINE_TERMINATORS: Ranges = [0x0a, 0x0a, 0x0d, 0x0d, 0x2028, 0x2029];

function union(a: Ranges, b: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < a.length; i += 2) pairs.push([a[i], a[i + 1]]);
  for (let i = 0; i < b.length; i += 2) pairs.push([b[i], b[i + 1]]);
  pairs.sort((x, y) => x[0] - y[0]);
  const out: Ranges = [];
  for (const [lo, hi] of pairs) {
    const n = out.length;
    if (n > 0 && lo <= out[n - 1] + 1) out[n - 1] = Math.max(out[n - 1], hi);
    else out.push(lo, hi);
  }
  return out;
}

function complement(a: Ranges): Ranges {
  const out: Ranges = [];
  let next = 0;
  for (let i = 0; i < a.length; i += 2) {
    if (a[i] > next) out.push(next, a[i] - 1);
    next = a[i + 1] + 1;
  }
  if (next <= MAX_UNIT) out.push(next, MAX_UNIT);
  return out;
}

function contains(set: Ranges, c: number): boolean {
  for (let i = 0; i < set.length; i += 2) {
    if (c < set[i]) return false;
    if (c <= set[i + 1]) return true;
  }
  return false;
}

const one = (c: number): Ranges => [c, c];
const DOT = complement(LINE_TERMINATORS);
const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const isHex = (s: string) => /^[0-9A-Fa-f]+$/.test(s);
const QUANTIFIER = /\{(\d+)(?:(,)(\d*))?\}/y;

/** Recursive-descent parser of a valid non-`u` ECMAScript pattern into the AST above. */
export class Parser {
  i = 0;
  readonly captures: number;
  readonly named: boolean;

  constructor(readonly src: string) {
    const groups = countGroups(src);
    this.captures = groups.captures;
    this.named = groups.named;
  }

  parse(): Node {
    const node = this.disjunction();
    if (this.i !== this.src.length) throw new NotLinear(`unexpected ${this.src[this.i]} at ${this.i}`);
    return node;
  }

  disjunction(): Node {
    const items = [this.alternative()];
    while (this.src[this.i] === '|') {
      this.i++;
      items.push(this.alternative());
    }
    return items.length === 1 ? items[0] : { t: 'alt', items };
  }

  alternative(): Node {
    const items: Node[] = [];
    const s = this.src;
    while (this.i < s.length && s[this.i] !== '|' && s[this.i] !== ')') items.push(this.term());
    return items.length === 1 ? items[0] : { t: 'seq', items };
  }

  term(): Node {
    const s = this.src;
    const c = s[this.i];
    if (c === '^' || c === '$') {
      this.i++;
      return { t: 'assert', kind: c === '^' ? 'start' : 'end' };
    }
    if (c === '\\' && (s[this.i + 1] === 'b' || s[this.i + 1] === 'B')) {
      this.i += 2;
      return { t: 'assert', kind: s[this.i - 1] === 'b' ? 'boundary' : 'notBoundary' };
    }
    if (c === '(' && s[this.i + 1] === '?' && (s[this.i + 2] === '=' || s[this.i + 2] === '!' || s.startsWith('<=', this.i + 2) || s.startsWith('<!', this.i + 2))) {
      throw new NotLinear('lookaround assertions need a backtracking engine');
    }
    const atom = this.atom();
    return this.quantified(atom);
  }

  quantified(atom: Node): Node {
    const s = this.src;
    const c = s[this.i];
    let min: number;
    let max: number;
    if (c === '*' || c === '+' || c === '?') {
      this.i++;
      min = c === '+' ? 1 : 0;
      max = c === '?' ? 1 : Infinity;
    } else if (c === '{') {
      QUANTIFIER.lastIndex = this.i;
      const q = QUANTIFIER.exec(s);
      if (q === null) return atom; // a literal brace (Annex B), read as the next atom
      this.i += q[0].length;
      min = Number(q[1]);
      max = q[2] === undefined ? min : q[3] === '' ? Infinity : Number(q[3]);
    } else return atom;
    if (s[this.i] === '?') this.i++; // lazy: the same language
    return { t: 'rep', node: atom, min, max };
  }

  atom(): Node {
    const s = this.src;
    const c = s[this.i];
    if (c === '.') {
      this.i++;
      return { t: 'unit', set: DOT };
    }
    if (c === '[') return { t: 'unit', set: this.characterClass() };
    if (c === '(') {
      this.i++;
      if (s[this.i] === '?') {
        if (s[this.i + 1] === ':') this.i += 2;
        else if (s[this.i + 1] === '<') {
          const close = s.indexOf('>', this.i);
          if (close < 0) throw new NotLinear('unterminated group name');
          this.i = close + 1;
        } else throw new NotLinear(`group syntax (?${s[this.i + 1] ?? ''}`);
      }
      const inner = this.disjunction();
      if (s[this.i] !== ')') throw new NotLinear('unterminated group');
      this.i++;
      return inner;
    }
    if (c === '\\') return this.atomEscape();
    this.i++;
    return { t: 'unit', set: one(s.charCodeAt(this.i - 1)) };
  }

  atomEscape(): Node {
    const s = this.src;
    const e = s[this.i + 1];
    if (e === undefined) throw new NotLinear('trailing backslash');
    if (e >= '1' && e <= '9') {
      const digits = /^\d+/.exec(s.slice(this.i + 1))![0];
      if (Number(digits) <= this.captures) throw new NotLinear('backreferences need a backtracking engine');
    }
    if (e === 'k' && this.named) throw new NotLinear('backreferences need a backtracking engine');
    if (e === 'c' && !/[A-Za-z]/.test(s[this.i + 2] ?? '')) {
      // Annex B: a backslash not followed by a control letter is itself; the `c` is the next atom.
      this.i++;
      return { t: 'unit', set: one(0x5c) };
    }
    this.i++;
    return { t: 'unit', set: this.characterEscape(false) };
  }

  /** The escape after a backslash at this.i (in a class or not); advances past it. */
  characterEscape(inClass: boolean): Ranges {
    const s = this.src;
    const e = s[this.i];
    this.i++;
    switch (e) {
      case 'd': return DIGIT;
      case 'D': return complement(DIGIT);
      case 'w': return WORD;
      case 'W': return complement(WORD);
      case 's': return SPACE;
      case 'S': return complement(SPACE);
      case 'f': return one(0x0c);
      case 'n': return one(0x0a);
      case 'r': return one(0x0d);
      case 't': return one(0x09);
      case 'v': return one(0x0b);
      case 'b': return inClass ? one(0x08) : one(0x62);
      case 'c': {
        // Outside a class only letters reach here (see atomEscape); in a class Annex B also takes digits and `_`.
        const l = s[this.i];
        if (l !== undefined && (/[A-Za-z]/.test(l) || (inClass && /[0-9_]/.test(l)))) {
          this.i++;
          return one(l.charCodeAt(0) % 32);
        }
        this.i--; // `\` alone, then `c`
        return one(0x5c);
      }
      case 'x': {
        const h = s.slice(this.i, this.i + 2);
        if (h.length === 2 && isHex(h)) {
          this.i += 2;
          return one(parseInt(h, 16));
        }
        return one(0x78);
      }
      case 'u': {
        const h = s.slice(this.i, this.i + 4);
        if (h.length === 4 && isHex(h)) {
          this.i += 4;
          return one(parseInt(h, 16));
        }
        return one(0x75);
      }
      default:
        if (isOctal(e)) {
          // LegacyOctalEscapeSequence (Annex B.1.2): up to three octal digits, at most \377.
          let v = e.charCodeAt(0) - 48;
          if (isOctal(s[this.i])) {
            v = v * 8 + s.charCodeAt(this.i) - 48;
            this.i++;
            if (e <= '3' && isOctal(s[this.i])) {
              v = v * 8 + s.charCodeAt(this.i) - 48;
              this.i++;
            }
          }
          return one(v);
        }
        // Identity escapes, `\8`, `\9` and `\k` without named groups included: the unit itself.
        return one(s.charCodeAt(this.i - 1));
    }
  }

  characterClass(): Ranges {
    const s = this.src;
    this.i++; // [
    let negate = false;
    if (s[this.i] === '^') {
      negate = true;
      this.i++;
    }
    let set: Ranges = [];
    while (s[this.i] !== ']') {
      if (this.i >= s.length) throw new NotLinear('unterminated class');
      const a = this.classAtom();
      if (s[this.i] === '-' && s[this.i + 1] !== ']' && this.i + 1 < s.length) {
        this.i++;
        const b = this.classAtom();
        if (a.single && b.single) set = union(set, [a.set[0], b.set[0]]);
        else set = union(union(union(set, a.set), b.set), one(0x2d)); // Annex B: a class escape makes `-` literal
      } else set = union(set, a.set);
    }
    this.i++; // ]
    return negate ? complement(set) : set;
  }

  classAtom(): { set: Ranges; single: boolean } {
    const s = this.src;
    if (s[this.i] !== '\\') {
      this.i++;
      return { set: one(s.charCodeAt(this.i - 1)), single: true };
    }
    this.i++;
    const e = s[this.i];
    const set = this.characterEscape(true);
    const single = !'dDwWsS'.includes(e);
    return { set, single };
  }
}

/** Capturing groups (for `\N`) and whether any is named (which makes `\k` a backreference). */
function countGroups(s: string): { captures: number; named: boolean } {
  let captures = 0;
  let named = false;
  let inClass = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '\\') i++;
    else if (inClass) inClass = c !== ']';
    else if (c === '[') inClass = true;
    else if (c === '(') {
      if (s[i + 1] !== '?') captures++;
      else if (s[i + 2] === '<' && s[i + 3] !== '=' && s[i + 3] !== '!') {
        captures++;
        named = true;
      }
    }
  }
  return { captures, named };
}

// NFA: parallel arrays indexed by state id.
const CHAR = 0;
const SPLIT = 1;
const ASSERT = 2;
const MATCH = 3;
const STATE_LIMIT = 20_000;

class Nfa {
  kind: number[] = [];
  sets: (Ranges | null)[] = [];
  outs: number[][] = [];
  assertion: (Assertion | null)[] = [];

  add(kind: number, outs: number[], set: Ranges | null = null, assertion: Assertion | null = null): number {
    if (this.kind.length >= STATE_LIMIT) throw new NotLinear(`the automaton would exceed ${STATE_LIMIT} states`);
    this.kind.push(kind);
    this.outs.push(outs);
    this.sets.push(set);
    this.assertion.push(assertion);
    return this.kind.length - 1;
  }

  /** States for `node` followed by state `next`; returns the entry state. */
  build(node: Node, next: number): number {
    switch (node.t) {
      case 'unit':
        return this.add(CHAR, [next], node.set);
      case 'assert':
        return this.add(ASSERT, [next], null, node.kind);
      case 'seq': {
        let cur = next;
        for (let k = node.items.length - 1; k >= 0; k--) cur = this.build(node.items[k], cur);
        return cur;
      }
      case 'alt':
        return this.add(SPLIT, node.items.map((item) => this.build(item, next)));
      case 'rep': {
        let cur = next;
        if (node.max === Infinity) {
          const loop = this.add(SPLIT, []);
          this.outs[loop] = [this.build(node.node, loop), next];
          cur = loop;
        } else {
          if (node.max - node.min > STATE_LIMIT) throw new NotLinear(`the automaton would exceed ${STATE_LIMIT} states`);
          for (let k = node.min; k < node.max; k++) cur = this.add(SPLIT, [this.build(node.node, cur), next]);
        }
        if (node.min > STATE_LIMIT) throw new NotLinear(`the automaton would exceed ${STATE_LIMIT} states`);
        for (let k = 0; k < node.min; k++) cur = this.build(node.node, cur);
        return cur;
      }
    }
  }
}

// What follows the current position, for assertions: the end of input, a word unit or another unit.
const END = 0;
const WORD_NEXT = 1;
const OTHER_NEXT = 2;

/** A DFA state: the NFA states reached (CHAR, ASSERT and MATCH only) and the context assertions need. */
class DState {
  readonly ascii: (DState | undefined)[] = new Array(128);
  other: Map<number, DState> | null = null;
  /** Per next kind: whether a match ends here, and the CHAR states live once assertions are resolved. */
  readonly resolved: ({ accept: boolean; chars: number[] } | undefined)[] = [undefined, undefined, undefined];
  constructor(readonly states: number[], readonly atStart: boolean, readonly prevWord: boolean) {}
}

const DSTATE_LIMIT = 4096;
const OTHER_LIMIT = 1024;
const isWordUnit = (c: number) => (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x5f;

/**
 * Compile a pattern that `new RegExp(pattern)` accepts into a linear-time `test`.
 * @throws NotLinear for lookaround, backreferences and automata above the size limit.
 * @example compileLinear('^[\\S]+@x$')('me@x') // true
 */
export function compileLinear(pattern: string): (input: string) => boolean {
  const ast = new Parser(pattern).parse();
  const nfa = new Nfa();
  const match = nfa.add(MATCH, []);
  const entry = nfa.build(ast, match);
  return new LazyDfa(nfa, entry).test;
}

class LazyDfa {
  readonly #nfa: Nfa;
  /** The entry's closure; empty when every path from the entry starts with `^` (nothing to retry later). */
  readonly #restart: number[];
  #table = new Map<string, DState>();
  readonly #start: DState;
  readonly #accept = new DState([], false, false);
  readonly #mark: Int32Array;
  #epoch = 0;

  constructor(nfa: Nfa, entry: number) {
    this.#nfa = nfa;
    this.#mark = new Int32Array(nfa.kind.length);
    const first = this.#closure([entry]);
    const anchored = first.every((s) => nfa.kind[s] === ASSERT && nfa.assertion[s] === 'start');
    this.#restart = anchored ? [] : first;
    this.#start = this.#intern(first, true, false);
  }

  readonly test = (input: string): boolean => {
    let d = this.#start;
    for (let i = 0; i < input.length; i++) {
      const c = input.charCodeAt(i);
      let n = c < 128 ? d.ascii[c] : d.other?.get(c);
      if (n === undefined) n = this.#step(d, c);
      if (n === this.#accept) return true;
      if (n.states.length === 0) return false;
      d = n;
    }
    return this.#resolve(d, END).accept;
  };

  /** The states reached from `seeds` through splits only (assertions stay unresolved). */
  #closure(seeds: number[]): number[] {
    const nfa = this.#nfa;
    const epoch = ++this.#epoch;
    const out: number[] = [];
    const stack = seeds.slice();
    while (stack.length > 0) {
      const s = stack.pop()!;
      if (this.#mark[s] === epoch) continue;
      this.#mark[s] = epoch;
      if (nfa.kind[s] === SPLIT) for (let k = nfa.outs[s].length - 1; k >= 0; k--) stack.push(nfa.outs[s][k]);
      else out.push(s);
    }
    return out.sort((a, b) => a - b);
  }

  #resolve(d: DState, next: number): { accept: boolean; chars: number[] } {
    let r = d.resolved[next];
    if (r !== undefined) return r;
    const nfa = this.#nfa;
    const seen = new Set<number>();
    const chars: number[] = [];
    let accept = false;
    const work = d.states.slice();
    while (work.length > 0) {
      const s = work.pop()!;
      if (seen.has(s)) continue;
      seen.add(s);
      const kind = nfa.kind[s];
      if (kind === MATCH) accept = true;
      else if (kind === CHAR) chars.push(s);
      else if (kind === ASSERT) {
        const a = nfa.assertion[s];
        const nextWord = next === WORD_NEXT;
        const holds =
          a === 'start' ? d.atStart : a === 'end' ? next === END : a === 'boundary' ? d.prevWord !== nextWord : d.prevWord === nextWord;
        if (holds) for (const t of this.#closure(nfa.outs[s])) work.push(t);
      }
    }
    r = { accept, chars };
    d.resolved[next] = r;
    return r;
  }

  #step(d: DState, c: number): DState {
    const word = isWordUnit(c);
    const r = this.#resolve(d, word ? WORD_NEXT : OTHER_NEXT);
    let n: DState;
    if (r.accept) n = this.#accept;
    else {
      const nfa = this.#nfa;
      const seeds: number[] = [];
      for (const s of r.chars) if (contains(nfa.sets[s]!, c)) seeds.push(nfa.outs[s][0]);
      for (const s of this.#restart) seeds.push(s);
      n = this.#intern(this.#closure(seeds), false, word);
    }
    if (c < 128) d.ascii[c] = n;
    else {
      if (d.other === null || d.other.size >= OTHER_LIMIT) d.other = new Map();
      d.other.set(c, n);
    }
    return n;
  }

  #intern(states: number[], atStart: boolean, prevWord: boolean): DState {
    const key = `${atStart ? 1 : 0}${prevWord ? 1 : 0}${states.join(',')}`;
    let d = this.#table.get(key);
    if (d === undefined) {
      if (this.#table.size >= DSTATE_LIMIT) {
        // Bound memory: start over with a fresh table (states still referenced keep working).
        this.#table = new Map();
      }
      d = new DState(states, atStart, prevWord);
      this.#table.set(key, d);
    }
    return d;
  }
}
