// End-to-end tests of `saltshard assign`, run as a child process of the runtime under test.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import process from 'node:process';
import { offlineInit } from '../src/mod.ts';
import { ROOT, TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('cli');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-cli-'));
const EXAMPLE_CONFIG = join(ROOT, 'examples', 'flags.json');
const EXAMPLE_SUBJECTS = join(ROOT, 'examples', 'subjects.ndjson');

/** Runs the CLI on this runtime: Node through bin/saltshard (compiled), Bun and Deno from source. */
function run(args: string[], input?: string) {
  const g = globalThis as { Bun?: unknown; Deno?: unknown };
  const argv = g.Deno ? ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts'), ...args]
    : g.Bun ? [join(ROOT, 'src', 'bin.ts'), ...args]
    : [join(ROOT, 'bin', 'saltshard'), ...args];
  const r = spawnSync(process.execPath, argv, { input, encoding: 'utf8', cwd: ROOT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, rows: r.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l)) };
}

const FIELDS = ['subjectKey', 'flagKey', 'variationType', 'variationKey', 'value', 'allocationKey', 'reason', 'doLog'];

t('assign writes one row per subject per flag, subjects in input order, flags in config order, matching the client', () => {
  const r = run(['assign', '--config', EXAMPLE_CONFIG, '--input', EXAMPLE_SUBJECTS]);
  assert.equal(r.code, 0, r.stderr);
  const subjects = readFileSync(EXAMPLE_SUBJECTS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const client = offlineInit({ flagsConfiguration: readFileSync(EXAMPLE_CONFIG, 'utf8') });
  const flags = client.getFlagKeys();
  assert.equal(r.rows.length, subjects.length * flags.length);
  r.rows.forEach((row, i) => {
    const s = subjects[Math.floor(i / flags.length)];
    assert.deepEqual(Object.keys(row), FIELDS);
    assert.equal(row.subjectKey, s.subjectKey);
    assert.equal(row.flagKey, flags[i % flags.length]);
    const e = client.evaluate(row.flagKey, s.subjectKey, s.subjectAttributes);
    assert.deepEqual(row, { subjectKey: s.subjectKey, flagKey: row.flagKey, variationType: e.variationType, variationKey: e.variationKey, value: e.value, allocationKey: e.allocationKey, reason: e.code, doLog: e.doLog });
  });
  // Spot checks the example config is designed for.
  const byKey = (s: string, f: string) => r.rows.find((x) => x.subjectKey === s && x.flagKey === f);
  assert.equal(byKey('alice', 'checkout-redesign').value, 'treatment');
  assert.equal(byKey('alice', 'checkout-redesign').doLog, false);
  assert.equal(byKey('user-2', 'results-per-page').value, 20);
  assert.equal(byKey('user-1', 'legacy-banner').reason, 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.equal(byKey('user-1', 'legacy-banner').value, null);
  assert.deepEqual(Object.keys(byKey('user-1', 'onboarding-copy').value), ['title', 'steps']);
  assert.match(r.stderr, /rows in 8, rows written 8 \(48 assignment rows: 8 subjects x 6 flags\), bad rows 0;/);
});

t('assign reports each bad line with its number on stderr, keeps every good row and exits 65', () => {
  const lines = [
    '{"subjectKey": "a", "subjectAttributes": {"country": "US"}}',
    'not json',
    '',
    '{"subjectAttributes": {}}',
    '[1,2]',
    '{"subjectKey": "b"}',
    '{"subjectKey": 5}',
    '   ',
    '{"subjectKey": "c", "subjectAttributes": [1]}',
    '{"subjectKey": "d", "subjectAttributes": null}',
    '{"subjectKey": "e", "subj',
  ];
  const file = join(dir, 'bad.ndjson');
  writeFileSync(file, lines.join('\r\n'));
  const r = run(['assign', '--config', EXAMPLE_CONFIG, '--input', file]);
  assert.equal(r.code, 65);
  for (const n of [2, 4, 5, 7, 9, 11]) assert.match(r.stderr, new RegExp(`line ${n}: `));
  for (const n of [1, 3, 6, 8, 10]) assert.doesNotMatch(r.stderr, new RegExp(`line ${n}: `));
  assert.deepEqual([...new Set(r.rows.map((x) => x.subjectKey))], ['a', 'b', 'd']);
  assert.equal(r.rows.length, 3 * 6);
  assert.match(r.stderr, /rows in 9, rows written 3 \(18 assignment rows: 3 subjects x 6 flags\), bad rows 6;/);
});

t('assign --output writes the file, and "-" reads standard input', () => {
  const out = join(dir, 'out.ndjson');
  const r = run(['assign', '--config', EXAMPLE_CONFIG, '--input', '-', '--output', out], '{"subjectKey":"x"}\n{"subjectKey":"y"}');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, '');
  const rows = readFileSync(out, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(rows.length, 12);
  assert.deepEqual([rows[0].subjectKey, rows[11].subjectKey], ['x', 'y']);
});

t('assign refuses unusable arguments, inputs and configs with a message and a distinct exit code', () => {
  const cases: [string[], number, RegExp][] = [
    [[], 64, /Usage/],
    [['frobnicate'], 64, /unknown command/],
    [['assign', '--input', EXAMPLE_SUBJECTS], 64, /missing --config/],
    [['assign', '--config', EXAMPLE_CONFIG], 64, /missing --input/],
    [['assign', '--config', EXAMPLE_CONFIG, '--input', EXAMPLE_SUBJECTS, '--bogus'], 64, /bogus/],
    [['assign', '--config', EXAMPLE_CONFIG, '--input', join(dir, 'missing.ndjson')], 66, /cannot read input/],
    // A directory is no input (66), not an internal error (70): issue 12, item 6; each input format.
    [['assign', '--config', EXAMPLE_CONFIG, '--input', dir], 66, /cannot read input .*EISDIR/],
    [['assign', '--config', EXAMPLE_CONFIG, '--input', dir, '--input-format', 'csv'], 66, /cannot read input .*EISDIR/],
    [['assign', '--config', EXAMPLE_CONFIG, '--input', dir, '--input-format', 'parquet'], 66, /cannot read input .*EISDIR/],
    [['assign', '--config', join(dir, 'missing.json'), '--input', EXAMPLE_SUBJECTS], 78, /cannot use config/],
    [['assign', '--config', EXAMPLE_SUBJECTS, '--input', EXAMPLE_SUBJECTS], 78, /not JSON/],
  ];
  writeFileSync(join(dir, 'noflags.json'), '{"environment": {"name": "x"}}');
  cases.push([['assign', '--config', join(dir, 'noflags.json'), '--input', EXAMPLE_SUBJECTS], 78, /\$\.flags/]);
  for (const [args, code, message] of cases) {
    const r = run(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout + r.stderr, message);
  }
  assert.equal(run(['--help']).code, 0);
});

t('assign gives Eppo\'s assignment for every sdk-test-data subject', () => {
  if (!hasTestData('cli conformance')) return;
  if (hasTestData('cli obfuscated')) {
    const r = run(['assign', '--config', join(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'), '--input', EXAMPLE_SUBJECTS]);
    assert.equal(r.code, 78);
    assert.match(r.stderr, /obfuscated/);
  }
  const cases = listJson(join(TEST_DATA, 'ufc', 'tests')).map((f) => readJson<{ flag: string; defaultValue: unknown; subjects: { subjectKey: string; subjectAttributes: object; assignment: unknown; evaluationDetails: { flagEvaluationCode: string } }[] }>(TEST_DATA, 'ufc', 'tests', f));
  const subjects = cases.flatMap((c) => c.subjects.map((s) => ({ c, s })));
  const input = subjects.map(({ s }) => JSON.stringify({ subjectKey: s.subjectKey, subjectAttributes: s.subjectAttributes })).join('\n');
  const config = join(TEST_DATA, 'ufc', 'flags-v1.json');
  const r = run(['assign', '--config', config, '--input', '-'], input);
  assert.equal(r.code, 0, r.stderr);
  const flagCount = Object.keys(JSON.parse(readText(config)).flags).length;
  assert.equal(r.rows.length, subjects.length * flagCount);
  let checked = 0;
  subjects.forEach(({ c, s }, i) => {
    const row = r.rows.slice(i * flagCount, (i + 1) * flagCount).find((x) => x.flagKey === c.flag);
    if (!row) return; // flags absent from the config (test-flag-that-does-not-exist)
    assert.equal(row.reason, s.evaluationDetails.flagEvaluationCode, `${c.flag} ${s.subjectKey}`);
    assert.deepEqual(row.reason === 'MATCH' ? row.value : c.defaultValue, s.assignment, `${c.flag} ${s.subjectKey}`);
    checked++;
  });
  assert.ok(checked > 200, `checked ${checked}`);
});

t.after(() => rmSync(dir, { recursive: true, force: true }));
t.run();
