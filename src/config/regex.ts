/**
 * MATCHES / NOT_MATCHES patterns, compiled once per config version and run in linear time.
 *
 * Eppo's JS SDK runs `new RegExp(pattern).test(String(value))`: an unanchored ECMAScript search, with a
 * backtracking engine that a pattern like `^(a+)+$` can pin for seconds (reliability-plan §5.2). We keep the
 * ECMAScript meaning but run the pattern on re2js (RE2, linear time) after a small translation of the places
 * where the two dialects differ (`.`, `\s`, `[^]`, `\uHHHH`, `\cX`, identity escapes). What cannot run in
 * linear time (lookaround, backreferences, huge counted repeats) is reported as unsupported: the condition is
 * false, as in Eppo's Rust core. A pattern that is not valid ECMAScript stays an evaluation error, as in Eppo JS.
 * Residual difference, documented: astral-plane characters count as one character in RE2, two in ECMAScript.
 * @module
 */
import { RE2JS } from 're2js';

/** A compiled pattern: a matcher, an ECMAScript syntax error, or a reason it cannot run in linear time. */
export type CompiledRegex =
  | { kind: 'ok'; test: (input: string) => boolean }
  | { kind: 'invalid'; message: string }
  | { kind: 'unsupported'; message: string };

// ECMAScript \s, spelled out for RE2, whose \s is ASCII only.
const WS = '\\t\\n\\x{0B}\\f\\r \\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}\\x{202F}\\x{205F}\\x{3000}\\x{FEFF}';
// ECMAScript `.` without the s flag: anything but a line terminator.
const DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const MEMO_LIMIT = 4096;

class Unsupported extends Error {}


/** Compiled patterns by source, shared by config versions (a poll usually brings back the same patterns). */
const cache = new Map<string, CompiledRegex>();
const CACHE_LIMIT = 2048;

/**
 * Compile an ECMAScript pattern (no flags) for linear-time search. The translation is checked now, so
 * unsupported patterns are reported when a config loads; the RE2 program itself is built on first use
 * (building ~250 of them took most of a 1,000-flag config's compile time; 2026-11-24).
 * @param pattern the condition's regex source.
 * @returns a matcher whose answers equal `new RegExp(pattern).test(input)` on BMP text.
 * @example compileRegex('@example\\.com$') // { kind: 'ok', test }
 */
export function compileRegex(pattern: string): CompiledRegex {
  let compiled = cache.get(pattern);
  if (compiled === undefined) {
    compiled = build(pattern);
    if (cache.size >= CACHE_LIMIT) cache.clear();
    cache.set(pattern, compiled);
  }
  return compiled;
}

function build(pattern: string): CompiledRegex {
  try {
    new RegExp(pattern);
  } catch (err) {
    return { kind: 'invalid', message: (err as Error).message };
  }
  const literal = literalMatcher(pattern);
  if (literal !== null) return { kind: 'ok', test: literal };
  if (isBoundedForBacktracking(pattern)) {
    // ECMAScript's own engine is the reference semantics, and this pattern cannot backtrack more than
    // BRANCH_LIMIT ways per input position: linear in the input. (npm run bench, Node, 2026-11-24: evaluate() of the
    // regex flag 539 ns on re2js → 164 ns; see BENCHMARKS.md.)
    const native = new RegExp(pattern);
    return { kind: 'ok', test: (input) => native.test(input) };
  }
  let source: string;
  try {
    source = translate(pattern);
  } catch (err) {
    return { kind: 'unsupported', message: `Pattern /${pattern}/ is not supported: ${(err as Error).message}` };
  }
  let re: RE2JS | null = null;
  // Results are memoized per distinct input: attribute values repeat a lot (countries, plans, domains).
  const memo = new Map<string, boolean>();
  return {
    kind: 'ok',
    test(input: string): boolean {
      let hit = memo.get(input);
      if (hit === undefined) {
        if (re === null) {
          try {
            re = RE2JS.compile(source);
          } catch {
            // RE2 refused a pattern the translation accepted (rare, e.g. a nesting limit): as unsupported, false.
            re = NEVER;
          }
        }
        hit = re.test(input);
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(input, hit);
      }
      return hit;
    },
  };
}

const NEVER = RE2JS.compile('[^\\x{0}-\\x{10FFFF}]');

/**
 * Most targeting patterns are a literal with optional anchors (`@example\\.com$`, `^beta-`). Those become plain
 * string tests with exactly the ECMAScript meaning (no flags: `$` is the end of input), skipping the regex
 * engine altogether.
 */
function literalMatcher(pattern: string): ((input: string) => boolean) | null {
  const m = /^(\^?)((?:[^\\^$.|?*+()[\]{}]|\\[!-/:-@[-`{-~])*)(\$?)$/.exec(pattern);
  if (m === null) return null;
  const text = m[2].replace(/\\(.)/g, '$1');
  const start = m[1] === '^';
  const end = m[3] === '$';
  if (start && end) return (input) => input === text;
  if (start) return (input) => input.startsWith(text);
  if (end) return (input) => input.endsWith(text);
  return (input) => input.includes(text);
}

const BRANCH_LIMIT = 256;

/**
 * True when a backtracking engine runs this pattern in time linear in the input: quantifiers apply only to
 * single atoms (characters, escapes, classes), there are no backreferences or lookaround, and the product of
 * the choices (each `?` or `{n,m}`, each alternation) stays under BRANCH_LIMIT. At most one unbounded quantifier
 * (`*`, `+`, `{n,}`), and then the pattern must be anchored with `^` and have no `|`, so only one start position
 * can lead to a long backtrack. Anything else goes to RE2.
 */
export function isBoundedForBacktracking(p: string): boolean {
  let branches = 1;
  let unbounded = 0;
  let lastAtom: 'atom' | 'group' | 'none' = 'none';
  const alternatives: number[] = [1];
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === '\\') {
      const e = p[++i];
      if (e === undefined || /[1-9k]/.test(e)) return false;
      if (e === 'u' || e === 'x' || e === 'c') return false; // escapes with operands: keep the scanner simple
      lastAtom = 'atom';
    } else if (c === '[') {
      for (i++; i < p.length && p[i] !== ']'; i++) if (p[i] === '\\') i++;
      if (i >= p.length) return false;
      lastAtom = 'atom';
    } else if (c === '(') {
      if (p[i + 1] === '?') {
        if (p[i + 2] !== ':') return false; // lookaround or named groups
        i += 2;
      }
      alternatives.push(1);
      lastAtom = 'none';
    } else if (c === ')') {
      const k = alternatives.pop();
      if (k === undefined || alternatives.length === 0) return false;
      branches *= k;
      lastAtom = 'group';
    } else if (c === '|') {
      alternatives[alternatives.length - 1]++;
      lastAtom = 'none';
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      let min = 0;
      let max = Number.POSITIVE_INFINITY;
      if (c === '+') min = 1;
      else if (c === '?') max = 1;
      else if (c === '{') {
        const q = /^\{(\d+)(?:(,)(\d*))?\}/.exec(p.slice(i));
        if (q === null) {
          lastAtom = 'atom'; // a literal brace (Annex B)
          continue;
        }
        min = Number(q[1]);
        max = q[2] === undefined ? min : q[3] === '' ? Number.POSITIVE_INFINITY : Number(q[3]);
        i += q[0].length - 1;
      }
      if (lastAtom !== 'atom') return false;
      if (p[i + 1] === '?') i++; // lazy
      if (max === Number.POSITIVE_INFINITY) unbounded++;
      else branches *= max - min + 1;
      lastAtom = 'none';
    } else {
      lastAtom = 'atom';
    }
    if (branches > BRANCH_LIMIT) return false;
  }
  if (alternatives.length !== 1) return false;
  branches *= alternatives[0];
  if (branches > BRANCH_LIMIT || unbounded > 1) return false;
  return unbounded === 0 || (p.startsWith('^') && !p.includes('|'));
}

const hex = (s: string, n: number) => new RegExp(`^[0-9A-Fa-f]{${n}}$`).test(s);
const cp = (code: number) => `\\x{${code.toString(16).toUpperCase()}}`;

/** ECMAScript (Annex B, no flags) → RE2 syntax with the same meaning; throws Unsupported otherwise. */
export function translate(src: string): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const e = src[++i];
      if (e === undefined) throw new Unsupported('trailing backslash');
      out += escape(src, i, inClass, (skip) => (i += skip));
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c === '[' ? '\\[' : c;
      continue;
    }
    if (c === '[') {
      if (src.startsWith('[^]', i)) {
        out += '(?s:.)';
        i += 2;
      } else if (src.startsWith('[]', i)) {
        out += '[^\\x{0}-\\x{10FFFF}]';
        i += 1;
      } else {
        inClass = true;
        out += '[';
        if (src[i + 1] === '^') {
          out += '^';
          i++;
        }
        // A leading ']' closes an empty class in ECMAScript; RE2 would read it as a literal.
        if (src[i + 1] === ']') throw new Unsupported('empty class');
      }
      continue;
    }
    if (c === '{') {
      // RE2 refuses counted repeats above 1000; found here, so the warning comes when the config loads.
      const q = /^\{(\d+)(?:,(\d*))?\}/.exec(src.slice(i));
      if (q && (Number(q[1]) > 1000 || Number(q[2] || 0) > 1000)) throw new Unsupported('counted repeats above 1000');
    }
    if (c === '.') out += DOT;
    else if (c === '(' && src[i + 1] === '?') {
      const look = src.slice(i + 2, i + 4);
      if (look[0] === '=' || look[0] === '!' || look === '<=' || look === '<!') {
        throw new Unsupported('lookaround assertions need a backtracking engine');
      }
      out += c;
    } else out += c;
  }
  return out;
}

function escape(src: string, i: number, inClass: boolean, advance: (n: number) => void): string {
  const e = src[i];
  switch (e) {
    case 'd': case 'D': case 'w': case 'W':
    case 'n': case 'r': case 't': case 'f': case 'v':
      return `\\${e}`;
    case 'b':
      return inClass ? cp(8) : '\\b';
    case 'B':
      if (inClass) return 'B';
      return '\\B';
    case 's':
      return inClass ? WS : `[${WS}]`;
    case 'S':
      if (inClass) throw new Unsupported('\\S inside a character class');
      return `[^${WS}]`;
    case 'u': {
      const h = src.slice(i + 1, i + 5);
      if (hex(h, 4)) {
        advance(4);
        return cp(parseInt(h, 16));
      }
      return 'u';
    }
    case 'x': {
      const h = src.slice(i + 1, i + 3);
      if (hex(h, 2)) {
        advance(2);
        return cp(parseInt(h, 16));
      }
      return 'x';
    }
    case 'c': {
      const l = src[i + 1];
      if (l !== undefined && /[A-Za-z]/.test(l)) {
        advance(1);
        return cp(l.charCodeAt(0) % 32);
      }
      return '\\\\c';
    }
    case '0':
      if (!/[0-9]/.test(src[i + 1] ?? '')) return cp(0);
      throw new Unsupported('octal escapes');
    case 'k':
      throw new Unsupported('named backreferences need a backtracking engine');
    default:
      if (/[1-9]/.test(e)) throw new Unsupported('backreferences need a backtracking engine');
      // Identity escapes: a letter stands for itself (Annex B); punctuation stays escaped.
      if (/[A-Za-z]/.test(e)) return e;
      if (/[!-/:-@[-`{-~]/.test(e)) return `\\${e}`;
      return e;
  }
}
