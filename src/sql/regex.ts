/**
 * MATCHES patterns for SQL: the ECMAScript pattern, parsed by the SDK's own parser (src/config/regex-engine.ts: the
 * non-`u` grammar with Annex B, one UTF-16 code unit per character), re-emitted in each engine's syntax only where
 * the engine answers exactly what `new RegExp(pattern).test(value)` answers. Everything else is refused with a
 * named reason (the flag is not compiled), never approximated.
 *
 * Code units. JavaScript sees a character outside the Basic Multilingual Plane as two surrogate units (`^..$`
 * matches one emoji, `\uDD17` matches the second half of 🤗); the engines see one code point. Two ways to be exact:
 * - `codepoints`: the value as it is, for a pattern that a static check proves cannot depend on units: every class
 *   either excludes all surrogates or includes all of them, and the latter only as `X*` / `X+` between characters
 *   of the first kind (or at the ends of the pattern), and no `\B` in a pattern that can match empty. Most
 *   targeting patterns pass (`@example\.com$`, `^[^@]+@`, `Chrome/\d+`); `^..$`, `a.b` or `\uD83E` do not.
 * - `units`, for the other patterns where the dialect has Dialect.unitView (DuckDB, ClickHouse, PostgreSQL, the
 *   executed ones): a value with astral characters is rewritten so each surrogate unit u becomes the code point
 *   U+F0000 + (u − 0xD800), and the pattern's surrogate ranges are emitted as those code points. Every pattern then
 *   means over code points what it means over units, on every value. Snowflake, BigQuery, Spark and Trino (not
 *   executable here) refuse those patterns.
 *
 * Refused everywhere: backreferences and lookaround (no finite automaton; the SDK refuses them too), patterns whose
 * expansion exceeds the engine's size limits. Per engine: `\b \B` only on RE2 and PostgreSQL (emulated with
 * lookaround there, since `\y` follows the locale), `$` and control characters not on POSIX (Snowflake).
 * @module
 */
import { NotLinear, Parser, type Node, type Ranges } from '../config/regex-engine.ts';
import type { RegexFlavor } from './dialects.ts';

/** A translated pattern, or why it cannot be expressed exactly (`kind` names the reason, `reason` the details). */
export type SqlRegex = { ok: true; pattern: string } | { ok: false; kind: string; reason: string };

/**
 * What the engine searches: `units`, the dialect's unit view of a string (surrogates as U+F0000…); `bmp`, text
 * known to have no character outside the BMP (the decimal form of an integer); `codepoints`, a string as it is.
 */
export type TextMode = 'units' | 'bmp' | 'codepoints';

/** Named reasons of a refusal, as counted by `saltshard sql`. */
export const REGEX_REFUSALS = {
  backreference: 'regex backreference',
  lookaround: 'regex lookaround',
  units: 'regex answer depends on UTF-16 units of non-BMP text',
  syntax: 'regex construct the engine lacks',
  size: 'regex too large for the engine',
} as const;

class Refuse extends Error {
  constructor(readonly kind: string, message: string) {
    super(message);
  }
}

const SUR_LO = 0xd800;
const SUR_HI = 0xdfff;
/** Where the surrogate units live in a unit view (Dialect.unitView). */
const STAND_IN = 0xf0000;
/** Largest counted repeat per engine (RE2: 1000; PostgreSQL: RE_DUP_MAX 255; Java/Joni: kept small alike). */
const MAX_COUNT: Record<RegexFlavor, number> = { re2: 1000, postgres: 255, java: 1000, joni: 1000, posix: 255 };
/** Upper bound of the emitted program size (class items × repetitions); both RE2 and PostgreSQL stay well within. */
const SIZE_LIMIT = 20_000;
const WORD_CLASS = '[0-9A-Za-z_]';
const META = new Set(['.', '^', '$', '|', '?', '*', '+', '(', ')', '[', ']', '{', '}', '\\']);

/**
 * Translate an ECMAScript pattern (no flags), known to be valid, into `flavor` syntax.
 * @param mode what the engine searches; with `codepoints` the pattern must be provably independent of code units.
 * @returns the pattern for an unanchored search with the same answers, or the named reason it is refused.
 * @example toSqlRegex('@example\\.com$', 're2', 'units') // { ok: true, pattern: '@example\\.com$' }
 */
export function toSqlRegex(source: string, flavor: RegexFlavor, mode: TextMode): SqlRegex {
  try {
    let ast: Node;
    try {
      ast = new Parser(source).parse();
    } catch (err) {
      if (!(err instanceof NotLinear)) throw err;
      const kind = /backreference/.test(err.message) ? REGEX_REFUSALS.backreference : /lookaround/.test(err.message) ? REGEX_REFUSALS.lookaround : REGEX_REFUSALS.syntax;
      throw new Refuse(kind, err.message);
    }
    if (size(ast) > SIZE_LIMIT) throw new Refuse(REGEX_REFUSALS.size, `it expands to more than ${SIZE_LIMIT} items`);
    if (mode === 'codepoints') unitIndependent(ast);
    const pattern = new Emitter(flavor, mode).node(ast);
    if (pattern === '' && flavor === 'posix') throw new Refuse(REGEX_REFUSALS.syntax, 'it is empty (POSIX ERE needs a non-empty pattern)');
    return { ok: true, pattern };
  } catch (err) {
    if (err instanceof Refuse) return { ok: false, kind: err.kind, reason: `pattern /${source}/: ${err.message}` };
    throw err;
  }
}

function size(n: Node): number {
  switch (n.t) {
    case 'unit':
      return 1 + n.set.length / 2;
    case 'assert':
      return 1;
    case 'seq':
    case 'alt':
      return n.items.reduce((a, x) => a + size(x), 1);
    case 'rep':
      return size(n.node) * Math.max(1, n.max === Infinity ? n.min + 1 : n.max);
  }
}

// --- unit independence (dialects without a unit view) ---

type SetKind = 'none' | 'all' | 'partial';

function surrogateKind(set: Ranges): SetKind {
  let covered = 0;
  for (let i = 0; i < set.length; i += 2) covered += Math.max(0, Math.min(set[i + 1], SUR_HI) - Math.max(set[i], SUR_LO) + 1);
  return covered === 0 ? 'none' : covered === SUR_HI - SUR_LO + 1 ? 'all' : 'partial';
}

const isUnit = (n: Node, kind: SetKind) => n.t === 'unit' && surrogateKind(n.set) === kind;
/** `X*` or `X+` of a class that takes every surrogate: consumes any non-empty (or any) run of whole characters. */
const isFlex = (n: Node) => n.t === 'rep' && n.max === Infinity && n.min <= 1 && isUnit(n.node, 'all');
const isEdgeAssert = (n: Node) => n.t === 'assert' && (n.kind === 'start' || n.kind === 'end');

/** Whether every match of `n` begins (side 'first') or ends ('last') with a unit that is not a surrogate. */
function boundedBy(n: Node, side: 'first' | 'last'): boolean {
  switch (n.t) {
    case 'unit':
      return surrogateKind(n.set) === 'none';
    case 'assert':
      return false;
    case 'seq':
      return n.items.length > 0 && boundedBy(n.items[side === 'first' ? 0 : n.items.length - 1], side);
    case 'alt':
      return n.items.every((x) => boundedBy(x, side));
    case 'rep':
      return n.min >= 1 && boundedBy(n.node, side);
  }
}

function nullable(n: Node): boolean {
  switch (n.t) {
    case 'unit':
      return false;
    case 'assert':
      return true;
    case 'seq':
      return n.items.every(nullable);
    case 'alt':
      return n.items.some(nullable);
    case 'rep':
      return n.min === 0 || nullable(n.node);
  }
}

function hasNotBoundary(n: Node): boolean {
  if (n.t === 'assert') return n.kind === 'notBoundary';
  if (n.t === 'seq' || n.t === 'alt') return n.items.some(hasNotBoundary);
  return n.t === 'rep' && hasNotBoundary(n.node);
}

/**
 * Throws unless the pattern's answer on any text equals the code-point engine's. A match that consumes only
 * non-surrogate units starts and ends between whole characters, where `^ $ \b` read the same neighbours either way
 * (an astral character and a surrogate are both non-word); a flex run `X*`/`X+` whose neighbours are such units
 * (or the pattern's ends) covers whole characters, and "at least one unit" equals "at least one character".
 */
function unitIndependent(root: Node): void {
  const units = new Refuse(REGEX_REFUSALS.units, 'its answer depends on UTF-16 code units for text outside the Basic Multilingual Plane, which this engine counts as one character');
  if (nullable(root) && hasNotBoundary(root)) throw units;
  const visit = (n: Node, leftEdge: boolean, rightEdge: boolean): void => {
    if (isFlex(n)) {
      if (!leftEdge || !rightEdge) throw units;
      return;
    }
    switch (n.t) {
      case 'unit':
        if (surrogateKind(n.set) !== 'none') throw units;
        return;
      case 'assert':
        return;
      case 'alt':
        for (const x of n.items) visit(x, leftEdge, rightEdge);
        return;
      case 'rep':
        visit(n.node, false, false);
        return;
      case 'seq':
        n.items.forEach((x, i) => {
          const prev = n.items[i - 1];
          const next = n.items[i + 1];
          const left = prev === undefined ? leftEdge : isEdgeAssert(prev) || boundedBy(prev, 'last');
          const right = next === undefined ? rightEdge : isEdgeAssert(next) || boundedBy(next, 'first');
          visit(x, left, right);
        });
    }
  };
  visit(root, true, true);
}

// --- emitting ---

class Emitter {
  /** Product of the counts of the counted repeats around the node being emitted (RE2 allows at most 1000). */
  #nested = 1;
  constructor(readonly flavor: RegexFlavor, readonly mode: TextMode) {}

  node(n: Node): string {
    switch (n.t) {
      case 'unit':
        return this.unit(n.set);
      case 'assert':
        return this.assertion(n.kind);
      case 'seq':
        return n.items.map((x) => (x.t === 'alt' ? this.group(this.node(x)) : this.node(x))).join('');
      case 'alt': {
        const items = n.items.map((x) => this.node(x));
        if (this.flavor === 'posix' && items.includes('')) throw new Refuse(REGEX_REFUSALS.syntax, 'it has an empty alternative (POSIX ERE)');
        return items.join('|');
      }
      case 'rep':
        return this.rep(n);
    }
  }

  group(inner: string): string {
    return this.flavor === 'posix' ? `(${inner})` : `(?:${inner})`;
  }

  rep(n: Node & { t: 'rep' }): string {
    const max = MAX_COUNT[this.flavor];
    // The count RE2 charges for a counted repeat `{n,m}` / `{n,}` (chunks above the limit are at most `max`).
    const counted = (n.min === n.max && n.min <= 1) || (n.min <= 1 && n.max === Infinity) || (n.min === 0 && n.max === 1) ? 1 : Math.min(max, n.max === Infinity ? n.min : n.max);
    const outer = this.#nested;
    if (this.flavor === 're2' && outer * counted > 1000) throw new Refuse(REGEX_REFUSALS.size, 'its nested counted repeats exceed RE2\'s limit (a product of 1000)');
    this.#nested = outer * counted;
    const body = this.node(n.node);
    this.#nested = outer;
    // A body without characters (only assertions, or empty) repeats to the same language once or not at all.
    if (!consumes(n.node)) return n.min === 0 ? '' : body;
    const atom = n.node.t === 'unit' ? body : this.group(body);
    const q = (lo: number, hi: number) => (lo === hi ? (lo === 1 ? '' : `{${lo}}`) : hi === Infinity ? (lo === 0 ? '*' : lo === 1 ? '+' : `{${lo},}`) : lo === 0 && hi === 1 ? '?' : `{${lo},${hi}}`);
    if (n.min <= max && (n.max === Infinity || n.max <= max)) return atom + q(n.min, n.max);
    // Beyond the engine's counted-repeat limit: X{a+b} = X{a}X{b}, X{0,a+b} = X{0,a}X{0,b}.
    let out = '';
    for (let left = n.min; left > 0; left -= max) out += atom + q(Math.min(left, max), Math.min(left, max));
    if (n.max === Infinity) return `${out}${atom}*`;
    for (let left = n.max - n.min; left > 0; left -= max) out += atom + q(0, Math.min(left, max));
    return out;
  }

  assertion(kind: string): string {
    const f = this.flavor;
    switch (kind) {
      case 'start':
        return f === 'joni' ? '\\A' : '^';
      case 'end':
        if (f === 'posix') throw new Refuse(REGEX_REFUSALS.syntax, 'it uses "$" (end-of-input semantics not verified for POSIX ERE)');
        // Java-syntax engines let `$` match before a final line terminator; `\z` is the end of input only.
        return f === 're2' || f === 'postgres' ? '$' : '\\z';
      default: {
        const b = kind === 'boundary';
        if (f === 're2') return b ? '\\b' : '\\B';
        // PostgreSQL's \y and \Y follow the locale's letters; ECMAScript's word characters are ASCII.
        if (f === 'postgres') {
          return b
            ? `(?:(?<=${WORD_CLASS})(?!${WORD_CLASS})|(?<!${WORD_CLASS})(?=${WORD_CLASS}))`
            : `(?:(?<=${WORD_CLASS})(?=${WORD_CLASS})|(?<!${WORD_CLASS})(?!${WORD_CLASS}))`;
        }
        throw new Refuse(REGEX_REFUSALS.syntax, `it uses \\${b ? 'b' : 'B'} (word boundaries differ in this engine)`);
      }
    }
  }

  /** One unit of the set: a character, a class, or a class of the complement (which also takes astral characters). */
  unit(set: Ranges): string {
    let cps = this.codePoints(set);
    // PostgreSQL text cannot hold NUL.
    if (this.flavor === 'postgres') cps = minus(cps, 0);
    if (cps.length === 2 && cps[0] === cps[1]) return this.literal(cps[0]);
    const domain = this.mode === 'units' ? [0, SUR_LO - 1, SUR_HI + 1, 0xffff, STAND_IN, STAND_IN + SUR_HI - SUR_LO] : [0, SUR_LO - 1, SUR_HI + 1, 0xffff];
    const rest = subtract(this.flavor === 'postgres' ? minus(domain, 0) : domain, cps);
    // Without a unit view a set that takes every surrogate is written negated, so it takes astral characters too.
    const negate = this.mode === 'codepoints' ? surrogateKind(set) === 'all' : rangeCount(rest) < rangeCount(cps);
    const members = negate ? rest : cps;
    if (members.length === 0) {
      // Nothing, or everything (PostgreSQL's `.` takes line breaks).
      if (!negate) return this.flavor === 'postgres' ? '[^\\u0001-\\U0010FFFF]' : this.flavor === 'posix' ? never() : '[^\\x{0}-\\x{10FFFF}]';
      if (this.flavor === 're2' || this.flavor === 'java') return '(?s:.)';
      if (this.flavor === 'postgres') return '.';
      throw new Refuse(REGEX_REFUSALS.syntax, 'it has a class of every character');
    }
    let out = negate ? '[^' : '[';
    for (let i = 0; i < members.length; i += 2) {
      out += this.member(members[i]);
      if (members[i + 1] > members[i]) out += `${members[i + 1] > members[i] + 1 ? '-' : ''}${this.member(members[i + 1])}`;
    }
    return `${out}]`;
  }

  /** The unit set as code points: surrogates dropped (no engine text has them) or moved to their stand-ins. */
  codePoints(set: Ranges): Ranges {
    const out: Ranges = [];
    const moved: Ranges = [];
    for (let i = 0; i < set.length; i += 2) {
      const [lo, hi] = [set[i], set[i + 1]];
      if (lo < SUR_LO) out.push(lo, Math.min(hi, SUR_LO - 1));
      if (hi > SUR_HI) out.push(Math.max(lo, SUR_HI + 1), hi);
      if (this.mode === 'units' && lo <= SUR_HI && hi >= SUR_LO) moved.push(STAND_IN + Math.max(lo, SUR_LO) - SUR_LO, STAND_IN + Math.min(hi, SUR_HI) - SUR_LO);
    }
    return [...out, ...moved];
  }

  literal(c: number): string {
    const ch = String.fromCodePoint(c);
    if (META.has(ch)) return `\\${ch}`;
    if (c > 0x20 && c < 0x7f) return ch;
    if (this.flavor === 'posix') {
      if (c >= 0xa0 && c <= 0xffff) return ch;
      throw new Refuse(REGEX_REFUSALS.syntax, 'it has a control character (POSIX ERE)');
    }
    return this.hex(c);
  }

  member(c: number): string {
    const ch = String.fromCodePoint(c);
    if (/[A-Za-z0-9]/.test(ch)) return ch;
    if (this.flavor === 'posix') {
      // POSIX classes take non-ASCII characters as they are; punctuation has class-specific meanings there.
      if (c >= 0xa0 && c <= 0xffff) return ch;
      throw new Refuse(REGEX_REFUSALS.syntax, 'it has punctuation or a control character inside a class (POSIX ERE)');
    }
    return this.hex(c);
  }

  hex(c: number): string {
    const h = c.toString(16).toUpperCase();
    switch (this.flavor) {
      case 're2':
        return `\\x{${h}}`;
      // PostgreSQL reads `\x` greedily (any number of hex digits); `\uHHHH` and `\UHHHHHHHH` take exactly 4 and 8.
      case 'postgres':
        return c > 0xffff ? `\\U${h.padStart(8, '0')}` : `\\u${h.padStart(4, '0')}`;
      default:
        if (c > 0xffff) throw new Refuse(REGEX_REFUSALS.syntax, 'it needs a character outside the Basic Multilingual Plane');
        return c < 0x100 ? `\\x${h.padStart(2, '0')}` : `\\u${h.padStart(4, '0')}`;
    }
  }
}

function never(): string {
  throw new Refuse(REGEX_REFUSALS.syntax, 'it has a class that matches nothing (POSIX ERE)');
}

function consumes(n: Node): boolean {
  if (n.t === 'unit') return true;
  if (n.t === 'seq' || n.t === 'alt') return n.items.some(consumes);
  return n.t === 'rep' && n.max > 0 && consumes(n.node);
}

const rangeCount = (r: Ranges) => r.length / 2;

/** Sorted disjoint ranges `a` without those of `b` (both sorted, disjoint). */
function subtract(a: Ranges, b: Ranges): Ranges {
  const out: Ranges = [];
  const sorted = sortRanges(b);
  for (let i = 0; i < a.length; i += 2) {
    let lo = a[i];
    const hi = a[i + 1];
    for (let j = 0; j < sorted.length && lo <= hi; j += 2) {
      if (sorted[j + 1] < lo || sorted[j] > hi) continue;
      if (sorted[j] > lo) out.push(lo, sorted[j] - 1);
      lo = sorted[j + 1] + 1;
    }
    if (lo <= hi) out.push(lo, hi);
  }
  return out;
}

const minus = (a: Ranges, c: number) => subtract(a, [c, c]);

function sortRanges(r: Ranges): Ranges {
  const pairs: [number, number][] = [];
  for (let i = 0; i < r.length; i += 2) pairs.push([r[i], r[i + 1]]);
  return pairs.sort((x, y) => x[0] - y[0]).flat();
}
