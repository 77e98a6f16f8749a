// parseSemver/compareSemver against npm `semver` (the library Eppo's evaluator calls, eppo-spec §2.5) on a few
// thousand generated strings: the same validity, and the same order for every pair of valid versions.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { compareSemver, parseSemver } from '../src/config/semver.ts';
import { mulberry32 } from './gen-config.ts';

interface NpmSemver {
  valid(v: unknown): string | null;
  compare(a: string, b: string): -1 | 0 | 1;
}
const semver = createRequire(import.meta.url)('semver') as NpmSemver;

const t = suite('semver');


const rand = mulberry32(0x5e77e7);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];
const int = (n: number) => Math.floor(rand() * n);

const NUMBERS = ['0', '1', '2', '9', '10', '11', '99', '100', '01', '00', '007', '9007199254740991', '9007199254740992', '9007199254740993',
  '1234567890123456', '12345678901234567', '99999999999999999999', '-1', '', 'x', '1a', '٣'];
const PRE_IDS = ['alpha', 'beta', 'rc', 'a', 'A', 'Z', 'z', '-', '--', 'a-b', '0', '1', '2', '10', '01', '00', '0a', '1a', 'a1', '9007199254740993',
  '9007199254740992', '9007199254740991', '123456789012345678901234567890', 'x.y', '', 'é', 'a_b', '0-', '-0'];
const BUILD_IDS = ['build', '001', '0', 'sha-abc', 'exp', 'x-y', '', 'é', '_'];
const SPACES = ['', '', '', '', '', '', '', '', ' ', '  ', '\t', '\n', '\u00a0', '\ufeff', '\u2028', '\u3000', '\u180e', '\u0085'];
const PREFIXES = ['', '', '', '', '', '', '', '', 'v', 'v', 'V', '=', 'v=', '=v', 'vv', ' v', 'v '];

function core(): string {
  const parts = [pick(NUMBERS), pick(NUMBERS), pick(NUMBERS)];
  if (rand() < 0.85) for (let i = 0; i < 3; i++) parts[i] = String(int(rand() < 0.5 ? 3 : 20));
  let n = 3;
  const r = rand();
  if (r < 0.05) n = 2;
  else if (r < 0.08) n = 4;
  return parts.slice(0, n).join('.') + (n === 4 ? `.${int(5)}` : '');
}

function ids(pool: readonly string[], max: number): string {
  const k = 1 + int(max);
  const out: string[] = [];
  for (let i = 0; i < k; i++) out.push(rand() < 0.8 ? pick(pool.slice(0, 12)) : pick(pool));
  return out.join('.');
}

function generate(): string {
  let s = pick(PREFIXES) + core();
  if (rand() < 0.5) s += `${rand() < 0.95 ? '-' : pick(['', '.', '_', '--'])}${ids(PRE_IDS, 4)}`;
  if (rand() < 0.25) s += `${rand() < 0.95 ? '+' : pick(['++', '+.', ''])}${ids(BUILD_IDS, 3)}`;
  s = pick(SPACES) + s + pick(SPACES);
  const r = rand();
  if (r < 0.03) s = s + 'a'.repeat(250); // beyond 256 characters, or just under
  else if (r < 0.05) s = `1.2.3-${'a'.repeat(int(10) + 245)}`;
  else if (r < 0.07) s = `1.2.3+${'b'.repeat(int(10) + 245)}`;
  else if (r < 0.09) s = ` ${'1.2.3-x'.padEnd(int(4) + 254, 'x')} `;
  else if (r < 0.11) s = s.slice(0, int(s.length + 1)); // truncated
  else if (r < 0.13) s = s.replace(/\./, pick(['..', ',', '', ' . ']));
  return s;
}

const STRINGS: string[] = [
  '1.0.0', 'v1.6.0', ' 1.6.0 ', '=1.2.3', '1.6', '01.2.3', 'V1.2.3', '1.0.0+build', '1.0.0-alpha', '1.10.0', '1.9.0',
  '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1', '0.0.0', '1.2.3-0', '1.2.3-00',
  '1.2.3-0a', '1.2.3--', '1.2.3-', '1.2.3+', '1.2.3-a..b', '', ' ', 'v', '1.2.3 ', '\t1.2.3\n', '1.2.3\u00a0',
  `1.2.3-${'9'.repeat(30)}`, '9007199254740991.0.0', '9007199254740992.0.0', `${'1'.repeat(250)}.0.0`,
  ` ${'1.2.3'.padEnd(255, '0')}`, `1.2.3${' '.repeat(251)}`, `1.2.3${' '.repeat(252)}`,
];
for (let i = 0; STRINGS.length < 5000; i++) STRINGS.push(generate());

t('generated inputs cover valid, invalid and over-long strings', () => {
  const valid = STRINGS.filter((s) => semver.valid(s) !== null).length;
  assert.ok(valid > 1000, `only ${valid} valid`);
  assert.ok(STRINGS.length - valid > 1000, `only ${STRINGS.length - valid} invalid`);
  assert.ok(STRINGS.some((s) => s.length > 256 && semver.valid(s.trim()) !== null), 'no over-long valid-when-trimmed string');
  assert.ok(STRINGS.some((s) => /-[0-9.]+(\+|$)/.test(s) && semver.valid(s) !== null), 'no numeric prerelease');
});

t('parseSemver() is valid exactly when semver.valid() is', () => {
  const bad: string[] = [];
  for (const s of STRINGS) {
    const ours = parseSemver(s) !== null;
    const theirs = semver.valid(s) !== null;
    if (ours !== theirs) bad.push(`${JSON.stringify(s)}: ours ${ours}, npm ${theirs}`);
  }
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} disagreements`);
});

t('parseSemver() rejects non-strings as semver.valid() does', () => {
  for (const v of [null, undefined, 1, 1.2, true, {}, [], ['1.2.3'], { toString: () => '1.2.3' }]) {
    assert.equal(parseSemver(v), null, String(v));
    assert.equal(semver.valid(v), null, String(v));
  }
});

t('compareSemver() orders every sampled pair as semver.compare() does', () => {
  const valid = [...new Set(STRINGS.filter((s) => semver.valid(s) !== null))];
  const parsed = valid.map((s) => parseSemver(s)!);
  const bad: string[] = [];
  let pairs = 0;
  for (let i = 0; i < valid.length; i++) {
    // Each version against 40 others and against its neighbours in the list.
    for (let k = 0; k < 40; k++) {
      const j = k < 2 ? (i + k + 1) % valid.length : int(valid.length);
      const want = semver.compare(valid[i], valid[j]);
      const got = Math.sign(compareSemver(parsed[i], parsed[j]));
      pairs++;
      if (got !== want) bad.push(`${JSON.stringify(valid[i])} vs ${JSON.stringify(valid[j])}: ours ${got}, npm ${want}`);
    }
  }
  assert.ok(pairs >= 40_000, `${pairs} pairs`);
  assert.deepEqual(bad.slice(0, 10), [], `${bad.length} disagreements`);
});

t('compareSemver() sorts like semver.compare()', () => {
  const valid = [...new Set(STRINGS.filter((s) => semver.valid(s) !== null))];
  const byNpm = [...valid].sort((a, b) => semver.compare(a, b) || (a < b ? -1 : a > b ? 1 : 0));
  const ours = [...valid].sort((a, b) => compareSemver(parseSemver(a)!, parseSemver(b)!) || (a < b ? -1 : a > b ? 1 : 0));
  assert.deepEqual(ours, byNpm);
});

t('semver facts used by the comparison operators', () => {
  const cases: [string, string, string, number][] = [
    ['build metadata ignored', '1.0.0+build', '1.0.0', 0],
    ['prerelease lower', '1.0.0-alpha', '1.0.0', -1],
    ['numeric minor', '1.10.0', '1.9.0', 1],
    ['numeric ids numerically', '1.0.0-alpha.10', '1.0.0-alpha.9', 1],
    ['numeric id before alpha', '1.0.0-1', '1.0.0-alpha', -1],
    ['more ids higher', '1.0.0-alpha.1', '1.0.0-alpha', 1],
    ['ASCII order', '1.0.0-Beta', '1.0.0-alpha', -1],
    ['v prefix', 'v2.0.0', '2.0.0', 0],
  ];
  for (const [name, a, b, want] of cases) {
    assert.equal(semver.compare(a, b), want, `npm: ${name}`);
    assert.equal(Math.sign(compareSemver(parseSemver(a)!, parseSemver(b)!)), want, name);
  }
});

t.run();
