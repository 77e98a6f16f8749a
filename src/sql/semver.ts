/**
 * Semver conditions (GT/GTE/LT/LTE against a version) as one anchored regular expression per condition, so every
 * dialect can run them with its regex function. For a fixed comparand, "v parses as npm `semver.valid` and compares
 * as `op` with it" is a regular language (eppo-spec §2.5, src/config/semver.ts):
 * - surrounding JS whitespace is trimmed, a leading `v` is allowed, build metadata is ignored;
 * - MAJOR.MINOR.PATCH are decimal numbers without leading zeros and at most 2^53 − 1 (larger ones are invalid),
 *   compared by value, which for such numerals is the order of (length, digits);
 * - prerelease identifiers compare numerically when both are digits, numeric ones sort below the others, the
 *   others compare as ASCII strings, and a shorter list that is a prefix of a longer one sorts first; a version
 *   with a prerelease sorts below the same version without one.
 * The pattern uses only groups, alternation, bracket classes of literal characters, `?`, `*`, `+` and `{n}`/`{n,}`, a
 * subset with one meaning in RE2, Java, Joni, POSIX ERE and PostgreSQL AREs; the dialect adds the anchors.
 * The 256-character limit of `semver.valid` is checked apart (a matching string is ASCII plus BMP whitespace, so
 * characters, code points and UTF-16 units agree).
 * @module
 */
import type { SemVer } from '../config/semver.ts';

export type CompareOp = 'GT' | 'GTE' | 'LT' | 'LTE';

const MAX = 9007199254740991n; // Number.MAX_SAFE_INTEGER: larger MAJOR/MINOR/PATCH make semver.valid fail.
// ECMAScript WhiteSpace and LineTerminator (what String.prototype.trim removes), as literal class members.
const WS = '[\t\n\u000b\u000c\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]';
const ALNUM = '[-0-9A-Za-z]';
const NUMID = '(0|[1-9][0-9]*)';
const NONNUM = '[0-9]*[-A-Za-z][-0-9A-Za-z]*';
const ID = `(${NUMID}|${NONNUM})`;
const MORE_IDS = `([.]${ID})*`;
const PRERELEASE = `(-${ID}${MORE_IDS})`;
const BUILD = `([+]${ALNUM}+([.]${ALNUM}+)*)`;
// The identifier alphabet in ASCII order.
const ALPHABET = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

const alt = (xs: readonly string[]): string | null => (xs.length === 0 ? null : xs.length === 1 ? xs[0] : `(${xs.join('|')})`);
const isDigit = (c: string) => c >= '0' && c <= '9';

/** Class of literal characters (hyphen first, so it is literal everywhere). */
function cls(chars: readonly string[]): string {
  return chars.length === 1 && chars[0] !== '-' ? chars[0] : `[${chars.join('')}]`;
}

/** Decimal numerals of equal length from a to b (a ≤ b), as alternatives. */
function sameLength(a: string, b: string): string[] {
  if (a === b) return [a];
  if (a.length === 1) return [`[${a}-${b}]`];
  if (a[0] === b[0]) return sameLength(a.slice(1), b.slice(1)).map((x) => a[0] + x);
  const n = a.length - 1;
  const tail = (k: number) => (k === 0 ? '' : k === 1 ? '[0-9]' : `[0-9]{${k}}`);
  const out: string[] = [];
  const lowAll = /^0*$/.test(a.slice(1));
  const highAll = /^9*$/.test(b.slice(1));
  let lo = Number(a[0]);
  let hi = Number(b[0]);
  if (!lowAll) {
    out.push(...sameLength(a.slice(1), '9'.repeat(n)).map((x) => a[0] + x));
    lo++;
  }
  if (!highAll) hi--;
  if (lo <= hi) out.push(`${lo === hi ? String(lo) : `[${lo}-${hi}]`}${tail(n)}`);
  if (!highAll) out.push(...sameLength('0'.repeat(n), b.slice(1)).map((x) => b[0] + x));
  return out;
}

/** Numerals without leading zeros with a value in [lo, hi] (hi null: unbounded). */
function range(lo: bigint, hi: bigint | null): string | null {
  if (lo < 0n) lo = 0n;
  if (hi !== null && lo > hi) return null;
  const out: string[] = [];
  const top = hi === null ? lo : hi;
  for (let len = String(lo).length; len <= String(top).length; len++) {
    const first = len === 1 ? 0n : 10n ** BigInt(len - 1);
    const last = 10n ** BigInt(len) - 1n;
    const a = lo > first ? lo : first;
    const b = top < last ? top : last;
    if (a <= b) out.push(...sameLength(String(a), String(b)));
  }
  if (hi === null) {
    const len = String(lo).length;
    out.push(`[1-9][0-9]{${len},}`); // every longer numeral
  }
  return alt(out);
}

/** Non-numeric identifiers ordered after (`gt`) or before `s` (itself non-numeric) in ASCII order. */
function nonNumeric(s: string, gt: boolean): string[] {
  const out: string[] = [];
  if (gt) out.push(`${s}${ALNUM}+`);
  for (let j = 0; j < s.length; j++) {
    const prefix = s.slice(0, j);
    if (!gt && j > 0 && /[^0-9]/.test(prefix)) out.push(prefix); // a proper prefix sorts first
    const chars = [...ALPHABET].filter((c) => (gt ? c > s[j] : c < s[j]));
    const letters = chars.filter((c) => !isDigit(c));
    const digits = chars.filter(isDigit);
    if (letters.length) out.push(`${prefix}${cls(letters)}${ALNUM}*`);
    if (digits.length) out.push(`${prefix}${cls(digits)}${/[^0-9]/.test(prefix) ? `${ALNUM}*` : NONNUM}`);
  }
  return out;
}

/** One prerelease identifier compared with the comparand's identifier `p`. */
function identifier(p: number | string, gt: boolean): string | null {
  if (typeof p === 'number') {
    const k = BigInt(p);
    return gt ? alt([range(k + 1n, null)!, NONNUM]) : range(0n, k - 1n);
  }
  return gt ? alt(nonNumeric(p, true)) : alt([NUMID, ...nonNumeric(p, false)]);
}

/** Prerelease lists (without the leading '-') ordered after / before / equal to `pre` (non-empty). */
function prerelease(pre: readonly (number | string)[], order: -1 | 0 | 1): string | null {
  const lit = (ids: readonly (number | string)[]) => ids.map(String).join('[.]');
  if (order === 0) return lit(pre);
  const out: string[] = [];
  for (let i = 0; i < pre.length; i++) {
    const id = identifier(pre[i], order > 0);
    if (id !== null) out.push(`${i > 0 ? `${lit(pre.slice(0, i))}[.]` : ''}${id}${MORE_IDS}`);
  }
  if (order > 0) out.push(`${lit(pre)}([.]${ID})+`);
  else for (let j = 1; j < pre.length; j++) out.push(lit(pre.slice(0, j)));
  return alt(out);
}

/** Versions ordered after (1), equal to (0) or before (-1) `c`, without whitespace, `v` and build. */
function ordered(c: SemVer, order: -1 | 0 | 1): string | null {
  const any = range(0n, MAX)!;
  const parts = [BigInt(c.major), BigInt(c.minor), BigInt(c.patch)];
  const out: string[] = [];
  if (order !== 0) {
    // A MAJOR, MINOR or PATCH decides: the earlier parts equal, this one greater (smaller), the rest anything.
    for (let i = 0; i < 3; i++) {
      const part = order > 0 ? range(parts[i] + 1n, MAX) : range(0n, parts[i] - 1n);
      if (part === null) continue;
      const core = [...parts.slice(0, i).map(String), part, ...Array(2 - i).fill(any)].join('[.]');
      out.push(`${core}${PRERELEASE}?`);
    }
  }
  const same = parts.map(String).join('[.]');
  if (c.prerelease.length === 0) {
    if (order === 0) out.push(same);
    if (order < 0) out.push(`${same}${PRERELEASE}`);
  } else {
    if (order > 0) out.push(same); // no prerelease sorts above any prerelease
    const pre = prerelease(c.prerelease, order);
    if (pre !== null) out.push(`${same}-${pre}`);
  }
  return alt(out);
}

/**
 * The pattern (to be anchored at both ends) of strings `v` for which `semver.<op>(v, c)` holds with `semver.valid(v)`.
 * @returns the pattern, or the reason it cannot be written exactly.
 */
export function semverPattern(op: CompareOp, c: SemVer): { ok: true; pattern: string } | { ok: false; reason: string } {
  // A digits-only prerelease identifier too large for a safe integer compares as a rounded double in npm semver.
  if (c.prerelease.some((id) => typeof id === 'string' && /^[0-9]+$/.test(id))) {
    return { ok: false, reason: 'a numeric prerelease identifier of the version is beyond 2^53 (npm semver compares it as a rounded double)' };
  }
  const orders: (-1 | 0 | 1)[] = op === 'GT' ? [1] : op === 'GTE' ? [1, 0] : op === 'LT' ? [-1] : [-1, 0];
  const body = alt(orders.map((o) => ordered(c, o)).filter((x): x is string => x !== null));
  if (body === null) return { ok: true, pattern: '' };
  return { ok: true, pattern: `${WS}*v?${body}${BUILD}?${WS}*` };
}
