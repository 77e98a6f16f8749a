// The regex engine against the runtime's own RegExp: a generated corpus of ECMAScript patterns (Annex B escapes,
// classes with class escapes, octal and control escapes, astral characters and lone surrogates, counted repeats,
// groups and alternation) × inputs, a corpus of real-world targeting patterns (none refused), the refused
// constructs, and ReDoS patterns answered in linear time.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { compileRegex, requiredAffixes } from '../src/config/regex.ts';
import { compileLinear, NotLinear } from '../src/config/regex-engine.ts';
import { mulberry32 } from './gen-config.ts';

const t = suite('regex-corpus');

// Units the inputs are made of: ASCII letters and digits, punctuation, line terminators and spaces that
// \s and . care about, Latin-1, a BOM, and both halves of two emoji (so pairs, lone halves and mixes occur).
const UNITS = ['a', 'b', 'A', 'z', '0', '1', '8', '_', '-', '@', '.', ' ', '\n', '\r', '\t', '\v', '\u2028', '\u00a0', '\ufeff', 'é', 'k', 'c', '\\', '{', '}', ']', '\x01', '\x08', '\ud83e', '\udd17', '\udd16', '\u0000', '\x0a'];

// Pattern atoms: plain characters, escapes ECMAScript reads in unusual ways without the u flag, and classes.
const ATOMS = [
  'a', 'b', 'z', '0', '8', '-', '@', '_', 'é', '🤗', '\ud83e', '\udd17', ' ', '{', '}', ']', ',', 'k', 'c',
  '.', '\\.', '\\-', '\\@', '\\d', '\\D', '\\w', '\\W', '\\s', '\\S', '\\n', '\\t', '\\v', '\\f', '\\r',
  '\\x41', '\\x4', '\\u00e9', '\\uD83E', '\\uDD17', '\\u{1F917}', '\\u12', '\\0', '\\01', '\\012', '\\1', '\\2', '\\8', '\\9', '\\18', '\\400',
  '\\k', '\\c', '\\cA', '\\cj', '\\c1', '\\q', '\\A', '\\z', '\\p{L}', '\\🤗', '\\/', '\\]', '\\{', '\\\\',
  '[]', '[^]', '[\\S]', '[\\W]', '[\\D]', '[^\\s]', '[a-\\d]', '[\\d-z]', '[\\w-]', '[-a]', '[a-z]', '[^a-z]', '[🤗]', '[^🤗]',
  '[\\uD83E-\\uDD17]', '[\\b]', '[\\B]', '[\\c1]', '[\\c_]', '[\\cA]', '[\\c]', '[\\c-]', '[\\0]', '[\\1]', '[\\8]', '[\\k]', '[\\-]',
  '[.]', '[$^]', '[\\s\\S]', '[^\\S\\n]', '[a-c-e]', '[--a]', '[\\x00-\\x2f]', '[\\u00e0-\\u00ff]', '[\\n-\\r]',
];
const ASSERTIONS = ['^', '$', '\\b', '\\B'];
const QUANTIFIERS = ['*', '+', '?', '*?', '+?', '??', '{2}', '{0,2}', '{1,}', '{2,3}?', '{0}', '{1', '{,2}'];

function genPattern(rnd: () => number, depth: number): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)];
  const terms = Math.floor(rnd() * 4) + 1;
  const alts: string[] = [];
  for (let a = rnd() < 0.25 ? 2 : 1; a > 0; a--) {
    let s = '';
    for (let k = 0; k < terms; k++) {
      const r = rnd();
      let atom: string;
      if (r < 0.1) {
        s += pick(ASSERTIONS);
        continue;
      } else if (r < 0.22 && depth < 2) {
        atom = `${pick(['(', '(?:', '(?<g>'])}${genPattern(rnd, depth + 1)})`;
      } else atom = pick(ATOMS);
      s += atom;
      if (rnd() < 0.3) s += pick(QUANTIFIERS);
    }
    alts.push(s);
  }
  return alts.join('|');
}

function genInput(rnd: () => number, pattern: string): string {
  // Half the units come from the pattern's own text, so matches are frequent.
  let s = '';
  for (let n = Math.floor(rnd() * 10); n > 0; n--) {
    s += rnd() < 0.5 && pattern.length > 0 ? pattern[Math.floor(rnd() * pattern.length)] : UNITS[Math.floor(rnd() * UNITS.length)];
  }
  return s;
}

const PATTERNS = Number(process.env.REGEX_CORPUS_PATTERNS ?? 12_000);
const INPUTS = Number(process.env.REGEX_CORPUS_INPUTS ?? 100);

t(`${PATTERNS} generated patterns × ${INPUTS} inputs: the automaton answers as new RegExp(p).test(s)`, () => {
  const rnd = mulberry32(Number(process.env.REGEX_CORPUS_SEED ?? 13));
  let pairs = 0;
  let accepted = 0;
  let matches = 0;
  const refused = new Map<string, number>();
  const diffs: string[] = [];
  for (let p = 0; p < PATTERNS; p++) {
    const pattern = genPattern(rnd, 0);
    let native: RegExp;
    try {
      native = new RegExp(pattern);
    } catch {
      continue;
    }
    let test: (s: string) => boolean;
    try {
      test = compileLinear(pattern);
    } catch (err) {
      if (!(err instanceof NotLinear)) throw err;
      refused.set(err.message, (refused.get(err.message) ?? 0) + 1);
      continue;
    }
    accepted++;
    const viaSdk = compileRegex(pattern);
    assert.equal(viaSdk.kind, 'ok', pattern);
    for (let k = 0; k < INPUTS; k++) {
      const input = genInput(rnd, pattern);
      const want = native.test(input);
      pairs++;
      if (want) matches++;
      if (test(input) !== want && diffs.length < 20) diffs.push(`/${pattern}/ on ${JSON.stringify(input)}: native ${want}`);
      if (viaSdk.kind === 'ok' && viaSdk.test(input) !== want && diffs.length < 20) diffs.push(`compileRegex /${pattern}/ on ${JSON.stringify(input)}: native ${want}`);
    }
  }
  console.log(`regex corpus: ${pairs} pairs on ${accepted} accepted patterns (${matches} matches); refused: ${JSON.stringify(Object.fromEntries(refused))}`);
  assert.deepEqual(diffs, []);
  // Only backreferences (a `\N` with N ≤ the groups) are refused among generated patterns.
  for (const reason of refused.keys()) assert.match(reason, /backreferences/);
  assert.ok(pairs >= PATTERNS * INPUTS * 0.5, `${pairs} pairs`);
});

t('required affixes: read off the top level only, never through quantifiers, classes, groups or alternation', () => {
  const cases: [string, string, string][] = [
    ['^[a-z0-9._]+@example\\.com$', '', '@example.com'],
    ['^beta-[0-9]+$', 'beta-', ''],
    ['^ab*c$', 'a', 'c'],
    ['^a?bc{2}$', '', ''],
    ['^a{,2}$', 'a', ''],
    ['^x\\$$', 'x$', 'x$'],
    ['^\\d-x$', '', '-x'],
    ['^ab|cd$', '', ''],
    ['^(ab|cd)ef$', '', 'ef'],
    ['^[^]]x$', '', 'x'],
    ['^[]]x$', '', 'x'],
    ['^\\\\.$', '\\', ''],
    ['^\\\\a$', '\\a', '\\a'],
    ['ab$', '', 'ab'],
    ['^ab', 'ab', ''],
    ['a^b$', '', 'b'],
    ['^ab(?=c)$', 'ab', ''],
    ['^🤗x$', '🤗x', '🤗x'],
  ];
  for (const [pattern, prefix, suffix] of cases) assert.deepEqual(requiredAffixes(pattern), { prefix, suffix }, pattern);
});

t('patterns with a literal after ^ or before $: compileRegex answers as new RegExp(p).test(s)', () => {
  const rnd = mulberry32(Number(process.env.REGEX_CORPUS_SEED ?? 71));
  const lits = ['ab', 'a.b', 'x-', '@corp', '\\.com', '\\$', '🤗', 'é', ']', '}', 'a{2', '{,2}'];
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const diffs: string[] = [];
  let checked = 0;
  for (let p = 0; p < 3000; p++) {
    const head = rnd() < 0.7 ? `^${pick(lits)}` : pick(lits);
    const tail = rnd() < 0.7 ? `${pick(lits)}$` : pick(lits);
    const pattern = `${head}${genPattern(rnd, 1)}${tail}`;
    let native: RegExp;
    try {
      native = new RegExp(pattern);
    } catch {
      continue;
    }
    const sdk = compileRegex(pattern);
    if (sdk.kind !== 'ok') continue;
    for (let k = 0; k < 40; k++) {
      const body = genInput(rnd, pattern);
      const input = rnd() < 0.5 ? body : `${pick(['', 'ab', 'x-', '@corp', '🤗', 'é'])}${body}${pick(['', 'ab', '.com', '$', '🤗', ']'])}`;
      checked++;
      if (sdk.test(input) !== native.test(input) && diffs.length < 20) diffs.push(`/${pattern}/ on ${JSON.stringify(input)}: native ${native.test(input)}`);
    }
  }
  assert.deepEqual(diffs, []);
  assert.ok(checked > 50_000, `${checked} pairs`);
});

t('the cases the RE2 translation got wrong answer as ECMAScript does', () => {
  const cases: [string, string][] = [
    ['[\\S]+@', 'me@x'], ['(x|\\01)+', '\x01'], ['ban\\k', 'bank'], ['\\1', '\x01'], ['\\uD83E\\uDD17', '🤗'],
    ['[a-\\d]+x', '1x'], ['[a-\\d]+x', '-x'], ['(x|[🤗])+', '🤖'], ['^..$', '🤗'], ['^.$', '🤗'], ['^[^a]$', '🤗'],
    ['\\uD83E', '🤗'], ['^\\uDD17', '🤗'], ['\\udd17$', '🤗'], ['\\b', '🤗'], ['^\\W\\W$', '🤗'], ['^[\\s\\S]{2}$', '🤗'],
    ['\\c', '\\c'], ['[\\c]', 'c'], ['[\\c1]', '\x11'], ['\\8', '8'], ['a{,2}', 'a{,2}'], ['\\u{2}', 'uu'], ['x{', 'x{'],
    ['[^]', '\n'], ['[]', ''], ['\\0', '\0'], ['\\08', '\x008'], ['\\400', ' 0'], ['\\377', 'ÿ'], ['[\\b]', '\b'], ['\\s', '\ufeff'],
  ];
  for (const [pattern, input] of cases) {
    const want = new RegExp(pattern).test(input);
    const r = compileRegex(pattern);
    assert.equal(r.kind, 'ok', pattern);
    if (r.kind === 'ok') assert.equal(r.test(input), want, `/${pattern}/ on ${JSON.stringify(input)}`);
    assert.equal(compileLinear(pattern)(input), want, `automaton /${pattern}/ on ${JSON.stringify(input)}`);
  }
});

// Targeting patterns as they occur in flag configs: emails and domains, user agents, IDs, versions, countries,
// plans, paths. None may be refused.
export const REAL_WORLD: readonly [string, string[]][] = [
  ['@example\\.com$', ['a@example.com', 'a@example.co']],
  ['^[a-zA-Z0-9._%+-]+@[a-zA-Z0-9.-]+\\.[a-zA-Z]{2,}$', ['john.doe+x@mail.example.org', 'not an email', 'x@y.z']],
  ['^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', ['a@b.co', 'a b@c.d']],
  ['@(example|acme|corp)\\.(com|io)$', ['x@acme.io', 'x@acme.org']],
  ['.*@(gmail|yahoo|hotmail)\\.com', ['u@gmail.com', 'u@proton.me']],
  ['^.+@(?:[a-z0-9-]+\\.)*eppo\\.cloud$', ['a@eu.eppo.cloud', 'a@eppo.cloud.com']],
  ['\\.(edu|gov)$', ['someone@mit.edu', 'x.com']],
  ['^(www\\.)?example\\.(com|co\\.uk)$', ['www.example.co.uk', 'example.com.au']],
  ['^https?://([a-z0-9-]+\\.)+[a-z]{2,}(/.*)?$', ['https://app.example.com/settings', 'ftp://x.y']],
  ['iPhone|iPad|iPod', ['Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)', 'Android']],
  ['Android\\s+([0-9]+)', ['Mozilla/5.0 (Linux; Android 14; Pixel 8)', 'iOS']],
  ['Chrome/(1[2-9][0-9]|[2-9][0-9]{2})\\.', ['Chrome/126.0.0.0 Safari/537.36', 'Chrome/99.0']],
  ['^Mozilla/5\\.0 \\((Windows|Macintosh|X11)', ['Mozilla/5.0 (Windows NT 10.0; Win64; x64)']],
  ['(bot|crawler|spider|slurp)', ['Googlebot/2.1', 'Mozilla']],
  ['Firefox/\\d+(\\.\\d+)*$', ['Mozilla/5.0 Gecko/20100101 Firefox/128.0', 'Firefox/']],
  ['^[0-9a-f]{8}-[0-9a-f]{4}-[1-5][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$', ['123e4567-e89b-12d3-a456-426614174000', 'nope']],
  ['^user-\\d+$', ['user-42', 'user-']],
  ['^[A-Z]{2}\\d{6}$', ['AB123456', 'ab123456']],
  ['[02468]$', ['user-12', 'user-13']],
  ['^(1|2|3)\\d*$', ['123', '45']],
  ['^acct_[A-Za-z0-9]{16,24}$', ['acct_1a2b3c4d5e6f7g8h', 'acct_short']],
  ['^[a-z0-9]{32}$', ['0123456789abcdef0123456789abcdef']],
  ['^\\d+\\.\\d+\\.\\d+$', ['1.2.3', '1.2']],
  ['^v?(\\d+)\\.(\\d+)(\\.(\\d+))?(-[0-9A-Za-z.-]+)?$', ['v1.20.3-beta.1', '1.x']],
  ['^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-((?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\\.(?:0|[1-9]\\d*|\\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\\+([0-9a-zA-Z-]+(?:\\.[0-9a-zA-Z-]+)*))?$', ['1.0.0-alpha.1+build.5', '01.0.0']],
  ['^2\\.(1[0-9]|[2-9][0-9])\\.', ['2.15.0', '2.9.0']],
  ['^(US|CA|MX)$', ['US', 'USA']],
  ['^(DE|FR|IT|ES|NL|BE|AT|PT|IE|FI)$', ['FR', 'GB']],
  ['^(enterprise|business)', ['enterprise-annual', 'free']],
  ['(?:^|,)beta(?:,|$)', ['alpha,beta,gamma', 'betamax']],
  ['^/api/v[12]/', ['/api/v2/users', '/api/v3/']],
  ['^\\+1\\s?\\(?\\d{3}\\)?[\\s.-]?\\d{3}[\\s.-]?\\d{4}$', ['+1 (555) 123-4567', '+44 20 7946 0958']],
  ['^\\d{5}(-\\d{4})?$', ['94105-1234', '9410']],
  ['[\\u4e00-\\u9fff]', ['用户', 'user']],
  ['^\\p{L}+$', ['p{L}']],
  ['\\btest\\b', ['a test user', 'tester']],
  ['^$', ['', 'x']],
  ['.*', ['anything']],
  ['^(?:[a-z]+\\.)+[a-z]+$', ['a.b.c', 'a..b']],
  ['^[^\\W_]+$', ['abc123', 'a_b']],
  ['^([a-z]+-)*[a-z]+$', ['a-b-c', 'a--b']],
];

t('real-world targeting patterns: none refused, answers as ECMAScript', () => {
  for (const [pattern, inputs] of REAL_WORLD) {
    const r = compileRegex(pattern);
    assert.equal(r.kind, 'ok', `${pattern}: ${JSON.stringify(r)}`);
    for (const input of inputs) if (r.kind === 'ok') assert.equal(r.test(input), new RegExp(pattern).test(input), `/${pattern}/ on ${input}`);
  }
});

t('ReDoS patterns answer in linear time on long adversarial inputs', () => {
  const n = 100_000;
  const cases: [string, string, boolean][] = [
    ['^(a+)+$', `${'a'.repeat(n)}!`, false],
    ['(a+)+$', `${'a'.repeat(n)}!`, false],
    ['^(a|aa)+$', `${'a'.repeat(n)}b`, false],
    ['(a|a?)+b', 'a'.repeat(n), false],
    ['^(\\w+\\s?)*$', `${'word '.repeat(n / 5)}!`, false],
    ['^(([a-z])+.)+[A-Z]([a-z])+$', 'a'.repeat(n), false],
    ['(.*a){12}', 'a'.repeat(n), true],
    ['(.*a){12}$', `${'a'.repeat(n)}b`, false],
    ['^[\\s\\S]*?x[\\s\\S]*?y$', `x${' '.repeat(n)}`, false],
    ['(\\d+\\.)+\\d+@', '1.'.repeat(n / 2), false],
  ];
  for (const [pattern, input, want] of cases) {
    const r = compileRegex(pattern);
    assert.equal(r.kind, 'ok', pattern);
    if (r.kind === 'ok') assert.equal(r.test(input), want, pattern);
  }
});

t('refused: only lookaround, backreferences and automata too large to build, each named in the message', () => {
  const cases: [string, RegExp][] = [
    ['(?=a)', /lookaround/], ['(?!a)b', /lookaround/], ['(?<=a)b', /lookaround/], ['(?<!a)b', /lookaround/],
    ['(a)\\1', /backreferences/], ['\\1(a)', /backreferences/], ['(?<n>a)\\k<n>', /backreferences/],
    ['((a{0,200}){0,200}){0,200}x+y+', /exceed/],
  ];
  for (const [pattern, reason] of cases) {
    const r = compileRegex(pattern);
    assert.equal(r.kind, 'unsupported', pattern);
    if (r.kind === 'unsupported') {
      assert.match(r.message, reason, pattern);
      assert.ok(r.message.includes(`/${pattern}/`), r.message);
    }
  }
});

t.run();
