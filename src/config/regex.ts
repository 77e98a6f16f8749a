/**
 * MATCHES / NOT_MATCHES patterns, compiled once per config version and run in linear time.
 *
 * Eppo's JS SDK runs `new RegExp(pattern).test(String(value))`: an unanchored ECMAScript search, with a
 * backtracking engine that a pattern like `^(a+)+$` can pin for seconds (reliability-plan §5.2). We keep exactly
 * the ECMAScript meaning and never backtrack without a bound:
 * - a literal with optional anchors is a string test;
 * - a pattern that statically cannot backtrack more than a constant number of ways per input position
 *   (isBoundedForBacktracking) runs on the runtime's own RegExp: the reference itself, in linear time;
 * - every other pattern runs on regex-engine.ts, a parser of the non-`u` ECMAScript grammar (Annex B included)
 *   compiled to an automaton over UTF-16 code units: exact by construction, linear in the input.
 * What no automaton expresses (lookaround, backreferences) and the pattern does not pass the static bound, or an
 * automaton above its size limit, is unsupported: refused when the config loads with a warning naming the flag
 * and the pattern, and the condition is false, as in Eppo's Rust core. A pattern that is not valid ECMAScript
 * stays an evaluation error, as in Eppo JS.
 * @module
 */
import { compileLinear, NotLinear } from './regex-engine.ts';

/** A compiled pattern: a matcher, an ECMAScript syntax error, or a reason it cannot run in linear time. */
export type CompiledRegex =
  | { kind: 'ok'; test: (input: string) => boolean }
  | { kind: 'invalid'; message: string }
  | { kind: 'unsupported'; message: string };


/** Compiled patterns by source, shared by config versions (a poll usually brings back the same patterns). */
const cache = new Map<string, CompiledRegex>();
const CACHE_LIMIT = 2048;

/**
 * Compile an ECMAScript pattern (no flags) for linear-time search; unsupported patterns are known now, so they
 * are reported when a config loads. The automaton's deterministic states are built on first use.
 * @param pattern the condition's regex source.
 * @returns a matcher whose answers equal `new RegExp(pattern).test(input)` on every string.
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
  // A match must begin with the literal after a leading `^` and end with the one before a trailing `$`: inputs
  // without them are answered by a string test, without running the regex.
  const { prefix, suffix } = requiredAffixes(pattern);
  const filtered = (test: (input: string) => boolean): ((input: string) => boolean) =>
    prefix === '' && suffix === '' ? test : (input) => input.startsWith(prefix) && input.endsWith(suffix) && test(input);
  if (isBoundedForBacktracking(pattern)) {
    // ECMAScript's own engine is the reference semantics, and this pattern cannot backtrack more than
    // BRANCH_LIMIT ways per input position: linear in the input. (npm run bench, Node, 2026-11-24: evaluate() of the
    // regex flag 539 ns on an RE2 port → 164 ns; see BENCHMARKS.md.)
    const native = new RegExp(pattern);
    return { kind: 'ok', test: filtered((input) => native.test(input)) };
  }
  let run: (input: string) => boolean;
  try {
    run = compileLinear(pattern);
  } catch (err) {
    if (!(err instanceof NotLinear)) throw err;
    return { kind: 'unsupported', message: `Pattern /${pattern}/ is not supported: ${err.message}` };
  }
  // Attribute values repeat a lot (countries, plans, domains): short ones are memoized.
  const memo = new Map<string, boolean>();
  return {
    kind: 'ok',
    test: filtered((input: string): boolean => {
      if (input.length > MEMO_MAX_LENGTH) return run(input);
      let hit = memo.get(input);
      if (hit === undefined) {
        hit = run(input);
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(input, hit);
      }
      return hit;
    }),
  };
}

/**
 * The literal text every match starts with (after a leading `^`) and ends with (before a trailing `$`), '' when
 * none: read off the pattern's top level (no top-level `|`), taking only plain characters and escaped punctuation
 * that no quantifier applies to. Anything else (classes, groups, `.`, escapes with a meaning, braces) ends a literal.
 */
export function requiredAffixes(pattern: string): { prefix: string; suffix: string } {
  // Top-level tokens: a literal character (its text), or null for anything else; quantified ones become null.
  const tokens: (string | null)[] = [];
  let starts = false;
  let ends = false;
  let depth = 0;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const e = pattern[++i];
      const literal = e !== undefined && /[!-/:-@[-`{-~]/.test(e);
      // An escape with operands (\x41, \u{1F917}, \012, \cA, \k<name>, \1) runs on: its tail is part of it.
      if (!literal) while (i + 1 < pattern.length && /[0-9A-Za-z_{}<>]/.test(pattern[i + 1])) i++;
      if (depth === 0) tokens.push(literal ? e : null);
      continue;
    }
    if (c === '[') {
      for (i++; i < pattern.length && pattern[i] !== ']'; i++) if (pattern[i] === '\\') i++;
      if (depth === 0) tokens.push(null);
      continue;
    }
    if (c === '(') {
      depth++;
      continue;
    }
    if (c === ')') {
      if (--depth === 0) tokens.push(null);
      continue;
    }
    if (depth > 0) continue;
    if (c === '|') return { prefix: '', suffix: '' };
    if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(?:,\d*)?\}/.test(pattern.slice(i)))) {
      // A quantifier (or the lazy mark after one): what it applies to is not a fixed literal.
      if (c === '{') i = pattern.indexOf('}', i);
      if (tokens.length > 0) tokens[tokens.length - 1] = null;
      continue;
    }
    if (c === '^' && i === 0) starts = true;
    else if (c === '$' && i === pattern.length - 1) ends = true;
    else tokens.push(/[\^$.|?*+()[\]{}]/.test(c) ? null : c);
  }
  let prefix = '';
  for (let k = 0; starts && k < tokens.length && tokens[k] !== null; k++) prefix += tokens[k];
  let suffix = '';
  for (let k = tokens.length - 1; ends && k >= 0 && tokens[k] !== null; k--) suffix = tokens[k] + suffix;
  return { prefix, suffix };
}

const MEMO_LIMIT = 4096;
const MEMO_MAX_LENGTH = 256;

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
 * (`*`, `+`, `{n,}`), and then the pattern must be anchored with `^` and have no top-level `|` (alternations
 * inside groups count as choices), so only one start position can lead to a long backtrack. Anything else goes to the automaton.
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
  // Anchored with no top-level `|` (alternatives[0] === 1), the search has one start position: the bounded
  // choices (≤ BRANCH_LIMIT) times the lengths the one unbounded quantifier may take.
  return unbounded === 0 || (p.startsWith('^') && alternatives[0] === 1);
}
