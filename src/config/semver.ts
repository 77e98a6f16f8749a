/**
 * The part of npm `semver` (v7, non-loose) that Eppo's comparison operators use: `valid` and ordering.
 * Eppo decides "semver or number" on the condition value with `semver.valid` (eppo-spec §2.5); build metadata
 * is ignored, prereleases sort lower, identifiers compare numerically when both are digits.
 * @module
 */

/** A parsed version: numbers for major.minor.patch, prerelease identifiers as numbers or strings. */
export interface SemVer {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
  readonly prerelease: readonly (number | string)[];
}

const NUM = '0|[1-9]\\d*';
const NON_NUM = '\\d*[a-zA-Z-][a-zA-Z0-9-]*';
const PRE_ID = `(?:${NUM}|${NON_NUM})`;
const BUILD_ID = '[a-zA-Z0-9-]+';
// v? MAJOR.MINOR.PATCH (-PRERELEASE)? (+BUILD)?, anchored, as semver's FULL token.
const FULL = new RegExp(
  `^v?(${NUM})\\.(${NUM})\\.(${NUM})(?:-(${PRE_ID}(?:\\.${PRE_ID})*))?(?:\\+${BUILD_ID}(?:\\.${BUILD_ID})*)?$`,
);
const MAX_LENGTH = 256;
const DIGITS = /^[0-9]+$/;

/**
 * Parse like `semver.valid`: a string of at most 256 characters, trimmed, matching the full grammar.
 * @param value anything; non-strings are never versions.
 * @returns the version, or null.
 * @example parseSemver(' v1.2.3-beta.1+b ') // { major: 1, minor: 2, patch: 3, prerelease: ['beta', 1] }
 */
export function parseSemver(value: unknown): SemVer | null {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return null;
  const m = FULL.exec(value.trim());
  if (m === null) return null;
  const major = Number(m[1]);
  const minor = Number(m[2]);
  const patch = Number(m[3]);
  if (major > Number.MAX_SAFE_INTEGER || minor > Number.MAX_SAFE_INTEGER || patch > Number.MAX_SAFE_INTEGER) return null;
  const prerelease = m[4] === undefined ? [] : m[4].split('.').map((id) => {
    if (DIGITS.test(id)) {
      const n = Number(id);
      if (n >= 0 && n < Number.MAX_SAFE_INTEGER) return n;
    }
    return id;
  });
  return { major, minor, patch, prerelease };
}

/**
 * Order two versions as `semver.compare` does.
 * @returns negative, zero or positive.
 */
export function compareSemver(a: SemVer, b: SemVer): number {
  if (a.major !== b.major) return a.major < b.major ? -1 : 1;
  if (a.minor !== b.minor) return a.minor < b.minor ? -1 : 1;
  if (a.patch !== b.patch) return a.patch < b.patch ? -1 : 1;
  const pa = a.prerelease;
  const pb = b.prerelease;
  if (pa.length && !pb.length) return -1;
  if (!pa.length && pb.length) return 1;
  for (let i = 0; ; i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined && y === undefined) return 0;
    if (y === undefined) return 1;
    if (x === undefined) return -1;
    if (x === y) continue;
    return compareIdentifiers(x, y);
  }
}

function compareIdentifiers(a: number | string, b: number | string): number {
  const aNum = DIGITS.test(String(a));
  const bNum = DIGITS.test(String(b));
  if (aNum && bNum) {
    const x = Number(a);
    const y = Number(b);
    return x === y ? 0 : x < y ? -1 : 1;
  }
  if (aNum) return -1;
  if (bNum) return 1;
  return a < b ? -1 : 1;
}
