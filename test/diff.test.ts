// `saltshard diff`: structural classification of config changes against Eppo's sdk-test-data config, edited.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compileConfig } from '../src/config/compile.ts';
import { offlineInit } from '../src/mod.ts';
import { diffConfigs } from '../src/integrity/diff.ts';
import { expectedShares, jointShares } from '../src/integrity/shares.ts';
import { ROOT, TEST_DATA, hasTestData, readText, runCli } from './support.ts';

const t = suite('diff');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-diff-'));

const cli = runCli;

// deno-lint-ignore no-explicit-any
type Json = any;

/** The sdk-test-data config with one edit of each kind. */
export function editedConfigs(): { from: string; to: string } {
  const text = readText(TEST_DATA, 'ufc', 'flags-v1.json');
  const next: Json = JSON.parse(text);
  const f = next.flags;
  // A salt change: the 50/50 split of integer-flag hashes with a new salt.
  for (const s of f['integer-flag'].allocations[1].splits) s.shards[0].salt = 'split-numeric-flag-some-allocation-v2';
  // A range move: control gives 5 % of the split space (500 of 10,000 shards) to red.
  const experiment = f['new-user-onboarding'].allocations.find((a: Json) => a.key === 'experiment');
  experiment.splits[0].shards[1].ranges[0].end = 4500;
  experiment.splits[1].shards[1].ranges[0].start = 4500;
  // A rule change: "size < 10" becomes "size < 5".
  f['comparator-operator-test'].allocations[0].rules[0].conditions[0].value = 5;
  // A value change.
  f.numeric_flag.variations.pi.value = 3.14;
  // Harmless: the last, unlogged allocation serves another variation; a flag is added.
  f['special-characters'].allocations[1].splits[0].variationKey = 'ua';
  f['brand-new'] = { ...f.numeric_flag, key: 'brand-new' };
  const from = join(TEST_DATA, 'ufc', 'flags-v1.json');
  const to = join(dir, 'edited.json');
  writeFileSync(to, JSON.stringify(next));
  return { from, to };
}

t('exact shares: traffic exposure and splits multiply, a moved range moves exactly its shards', () => {
  if (!hasTestData('diff shares')) return;
  const config = compileConfig(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  const flag = config.flags.get('new-user-onboarding');
  assert.ok(flag?.kind === 'flag');
  const experiment = flag.allocations.find((a) => a.key === 'experiment')!;
  const shares = expectedShares({ allocation: experiment, totalShards: flag.totalShards });
  // Traffic 60 %, splits 50/30/20 of it: among exposed subjects 50/30/20.
  assert.deepEqual([...shares.keys()], ['control', 'red', 'yellow']);
  assert.ok(Math.abs(shares.get('control')! - 0.5) < 1e-12 && Math.abs(shares.get('red')! - 0.3) < 1e-12 && Math.abs(shares.get('yellow')! - 0.2) < 1e-12);
  const joint = jointShares({ allocation: experiment, totalShards: flag.totalShards })!;
  assert.deepEqual(joint.rows, ['control', 'red', 'yellow', null]);
  assert.ok(Math.abs(joint.cells[3][3] - 0.4) < 1e-12, 'traffic exposure misses 40 %');
});

t('diff classifies a salt change, a range move, a rule change, a value change and harmless edits; JSON, exit 1', () => {
  if (!hasTestData('diff classification')) return;
  const { from, to } = editedConfigs();
  const r = cli(['diff', '--from', from, '--to', to, '--format', 'json', '--at', '2026-01-01T00:00:00Z']);
  assert.equal(r.code, 1, r.stderr);
  const report = JSON.parse(r.stdout);
  const flag = (k: string) => report.flags.find((f: Json) => f.flagKey === k);
  const exp = (k: string, a: string) => flag(k).experiments.find((e: Json) => e.allocationKey === a);
  assert.equal(flag('integer-flag').class, 're-randomizes');
  assert.equal(exp('integer-flag', '50/50 split').class, 're-randomizes');
  // A new salt is an independent hash: half of each variation's subjects land in the other one.
  assert.ok(Math.abs(exp('integer-flag', '50/50 split').reassignShare - 0.5) < 1e-12);
  assert.equal(exp('integer-flag', 'targeted allocation').class, 'unchanged');
  assert.equal(flag('new-user-onboarding').class, 'moves-shards');
  const moved = exp('new-user-onboarding', 'experiment');
  assert.equal(moved.class, 'moves-shards');
  assert.ok(Math.abs(moved.reassignShare - 0.05) < 1e-12, String(moved.reassignShare));
  assert.deepEqual(moved.matrix.rows, ['control', 'red', 'yellow']);
  assert.deepEqual(moved.matrix.cols, ['control', 'red', 'yellow', null]);
  // control → red: 500 of the 10,000 split shards, of the experiment's subjects.
  assert.ok(Math.abs(moved.matrix.cells[0][1] - 0.05) < 1e-12 && Math.abs(moved.matrix.cells[0][0] - 0.45) < 1e-12);
  assert.equal(flag('comparator-operator-test').class, 'changes-targeting');
  assert.deepEqual(flag('comparator-operator-test').changes.map((c: Json) => [c.class, c.allocationKey, c.what]), [['changes-targeting', 'small-size', 'rules changed']]);
  // The allocations behind the changed rule are reached by different subjects too.
  assert.deepEqual(flag('comparator-operator-test').experiments.map((e: Json) => [e.allocationKey, e.class, e.reassignShare]), [
    ['small-size', 'changes-targeting', null], ['medum-size', 'changes-targeting', null], ['large-size', 'changes-targeting', null],
  ]);
  assert.equal(flag('numeric_flag').class, 'value-only');
  assert.equal(exp('numeric_flag', 'rollout').reassignShare, 0);
  assert.equal(flag('special-characters').class, 'harmless');
  assert.equal(flag('brand-new').status, 'added');
  assert.equal(flag('brand-new').class, 'harmless');
  assert.equal(flag('kill-switch').status, 'unchanged');
  // Failing checks first, each running experiment that changes is a check.
  const failing = report.checks.filter((c: Json) => !c.ok).map((c: Json) => c.name);
  assert.deepEqual(failing.sort(), ['reassign comparator-operator-test-large-size', 'reassign comparator-operator-test-medum-size', 'reassign comparator-operator-test-small-size', 'reassign integer-flag-50/50 split', 'reassign new-user-onboarding-experiment']);
  assert.equal(report.checks[0].ok, false);
  assert.equal(report.ok, false);
});

t('--max-reassign: a 5 % move passes at 5 %, fails at 4.9 %; identical configs pass', () => {
  if (!hasTestData('diff gate')) return;
  const base = JSON.parse(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  const experiment = base.flags['new-user-onboarding'].allocations.find((a: Json) => a.key === 'experiment');
  experiment.splits[0].shards[1].ranges[0].end = 4500;
  experiment.splits[1].shards[1].ranges[0].start = 4500;
  const to = join(dir, 'moved.json');
  writeFileSync(to, JSON.stringify(base));
  const from = join(TEST_DATA, 'ufc', 'flags-v1.json');
  assert.equal(cli(['diff', '--from', from, '--to', to, '--max-reassign', '5']).code, 0);
  const failed = cli(['diff', '--from', from, '--to', to, '--max-reassign', '4.9%']);
  assert.equal(failed.code, 1);
  assert.match(failed.stdout, /FAIL {2}reassign new-user-onboarding-experiment: moves-shards: 5\.00 % of its subjects reassigned/);
  const same = cli(['diff', '--from', from, '--to', from, '--format', 'markdown']);
  assert.equal(same.code, 0, same.stderr);
  assert.match(same.stdout, /^# saltshard diff: OK/);
  assert.match(same.stdout, /_No flag changed._/);
});

t('diff: a disabled or removed flag reassigns every subject of its running experiments; time windows decide what runs', () => {
  if (!hasTestData('diff flags')) return;
  const before = compileConfig(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  const next = JSON.parse(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  next.flags['integer-flag'].enabled = false;
  delete next.flags.numeric_flag;
  const flags = diffConfigs(before, compileConfig(next), Date.parse('2026-01-01T00:00:00Z'));
  const disabled = flags.find((f) => f.flagKey === 'integer-flag')!;
  assert.equal(disabled.class, 'changes-targeting');
  assert.deepEqual(disabled.experiments.map((e) => e.reassignShare), [1, 1]);
  const removed = flags.find((f) => f.flagKey === 'numeric_flag')!;
  assert.equal(removed.status, 'removed');
  assert.equal(removed.experiments[0].reassignShare, 1);
  // start-and-end-date-test: only "current-versions" runs in 2026; a change to "old-versions" (ended) is harmless to it.
  const dated = JSON.parse(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  dated.flags['start-and-end-date-test'].variations.old.value = 'older';
  const d = diffConfigs(before, compileConfig(dated), Date.parse('2026-01-01T00:00:00Z')).find((f) => f.flagKey === 'start-and-end-date-test')!;
  assert.deepEqual(d.experiments.map((e) => e.allocationKey), ['current-versions']);
  assert.equal(d.class, 'harmless');
});

/** Subjects with the attributes sdk-test-data's rules read, some missing, keys of varied shapes. */
function cohort(n: number): { subjectKey: string; subjectAttributes: Record<string, unknown> }[] {
  let seed = 7;
  const rnd = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2147483648) % k);
  return Array.from({ length: n }, (_, i) => {
    const a: Record<string, unknown> = { size: rnd(30), country: ['US', 'Canada', 'Mexico', 'France'][rnd(4)], age: 10 + rnd(70), email: rnd(2) ? 'a@example.com' : 'b@test.com' };
    if (i % 7 === 0) delete a.size;
    return { subjectKey: i % 11 === 0 ? `ü-${i}` : `user-${i}`, subjectAttributes: a };
  });
}

t('diff --input: cohort counts (NDJSON and CSV, 2 workers, many chunks) equal a brute-force evaluation with the getters', () => {
  if (!hasTestData('diff cohort')) return;
  const { from, to } = editedConfigs();
  const subjects = cohort(4000);
  const ndjson = join(dir, 'cohort.ndjson');
  writeFileSync(ndjson, `${subjects.map((s) => JSON.stringify(s)).join('\n')}\n{"bad": true}\n`);
  const csv = join(dir, 'cohort.csv');
  const cols = ['size', 'country', 'age', 'email'];
  writeFileSync(csv, `subjectKey,${cols.join(',')}\n${subjects.map((s) => [s.subjectKey, ...cols.map((c) => s.subjectAttributes[c] ?? '')].join(',')).join('\n')}\n`);
  const at = '2026-01-01T00:00:00.000Z';
  const now = () => Date.parse(at);
  const a = offlineInit({ flagsConfiguration: readText(from), assignmentLogger: null, now });
  const b = offlineInit({ flagsConfiguration: readText(to), assignmentLogger: null, now });
  for (const input of [ndjson, csv]) {
    const r = cli(['diff', '--from', from, '--to', to, '--input', input, '--workers', '2', '--format', 'json', '--at', at], { SALTSHARD_ASSIGN_CHUNK_BYTES: '4096' });
    assert.equal(r.code, 1, r.stderr);
    const report = JSON.parse(r.stdout);
    assert.deepEqual(report.cohort, { input, subjects: 4000, rejected: input === ndjson ? 1 : 0 });
    if (input === ndjson) assert.match(r.stderr, /line 4001: "subjectKey" must be a non-empty string; skipped/);
    for (const f of report.flags) {
      if (f.status === 'unchanged') {
        assert.equal(f.cohort, null, `${f.flagKey} is identical in both configs and not evaluated`);
        continue;
      }
      const expected = { subjects: 4000, changedVariation: 0, changedAllocation: 0, changedCode: 0, samples: { variation: [] as string[], allocation: [] as string[], code: [] as string[] } };
      const inExperiment = new Map<string, Map<string, number>>();
      for (const s of subjects) {
        const x = a.evaluate(f.flagKey, s.subjectKey, s.subjectAttributes);
        const y = b.evaluate(f.flagKey, s.subjectKey, s.subjectAttributes);
        const kinds: [keyof typeof expected.samples, boolean][] = [['variation', x.variationKey !== y.variationKey], ['allocation', x.allocationKey !== y.allocationKey], ['code', x.code !== y.code]];
        for (const [kind, changed] of kinds) {
          if (!changed) continue;
          expected[kind === 'variation' ? 'changedVariation' : kind === 'allocation' ? 'changedAllocation' : 'changedCode']++;
          if (expected.samples[kind].length < 5) expected.samples[kind].push(s.subjectKey);
        }
        if (x.allocationKey !== null) {
          const cell = `${x.variationKey} → ${y.allocationKey === x.allocationKey ? y.variationKey : null}`;
          const m = inExperiment.get(x.allocationKey) ?? new Map<string, number>();
          m.set(cell, (m.get(cell) ?? 0) + 1);
          inExperiment.set(x.allocationKey, m);
        }
      }
      const { matrix: _m, ...counts } = f.cohort;
      assert.deepEqual(counts, expected, `${f.flagKey} (${input})`);
      for (const e of f.experiments) {
        assert.equal(e.basis, 'cohort');
        const got = new Map<string, number>();
        e.matrix.rows.forEach((row: string, i: number) => e.matrix.cols.forEach((col: string | null, k: number) => {
          if (e.matrix.cells[i][k] > 0) got.set(`${row} → ${col}`, e.matrix.cells[i][k]);
        }));
        const want = inExperiment.get(e.allocationKey) ?? new Map();
        assert.deepEqual(got, want, `${e.experiment} (${input})`);
        const total = [...want.values()].reduce((s, c) => s + c, 0);
        const moved = [...want].filter(([cell]) => cell.split(' → ')[0] !== cell.split(' → ')[1]).reduce((s, [, c]) => s + c, 0);
        assert.equal(e.reassignShare, total ? moved / total : 0);
      }
    }
    // The measured shares replace the structural estimate; the targeting change is measured now.
    const small = report.flags.find((f: Json) => f.flagKey === 'comparator-operator-test').experiments[0];
    assert.ok(small.reassignShare > 0.3 && small.reassignShare < 0.7, String(small.reassignShare));
  }
});

/** Flags that share a regex, a semver condition and their salts, within a config and across two configs. */
function sharedConfigs(): { from: string; to: string } {
  const flag = (i: number, end: number) => ({
    key: `f${i}`, enabled: true, variationType: 'STRING', totalShards: 10000,
    variations: { a: { key: 'a', value: 'a' }, b: { key: 'b', value: 'b' } },
    allocations: [
      { key: 'staff', rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '@corp\\.test$' }] }], splits: [{ variationKey: 'b', shards: [] }], doLog: false },
      {
        key: 'experiment', rules: [{ conditions: [{ attribute: 'version', operator: 'GTE', value: '1.2.0' }, { attribute: 'country', operator: 'ONE_OF', value: ['US', 'FR'] }] }],
        splits: [
          { variationKey: 'a', shards: [{ salt: 'traffic', ranges: [{ start: 0, end: 9000 }] }, { salt: `split-${i % 2}`, ranges: [{ start: 0, end }] }] },
          { variationKey: 'b', shards: [{ salt: 'traffic', ranges: [{ start: 0, end: 9000 }] }, { salt: `split-${i % 2}`, ranges: [{ start: end, end: 10000 }] }] },
        ],
        doLog: true,
      },
    ],
  });
  const config = (end: number) => ({ format: 'SERVER', createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 't' }, flags: Object.fromEntries([0, 1, 2].map((i) => [`f${i}`, flag(i, end - 300 * i)])) });
  const from = join(dir, 'shared-from.json');
  const to = join(dir, 'shared-to.json');
  writeFileSync(from, JSON.stringify(config(5000)));
  writeFileSync(to, JSON.stringify(config(4000)));
  return { from, to };
}

t('diff --input: flags sharing regexes, versions and salts (one engine pass over both configs) count as the getters; 1 worker and 2 workers with tiny chunks agree', () => {
  const { from, to } = sharedConfigs();
  const n = 3000;
  const rows = Array.from({ length: n }, (_, i) => [`s${i}`, i % 5 === 0 ? `x${i}@corp.test` : `x${i}@mail.test`, ['US', 'FR', 'DE'][i % 3], ['1.1.9', '1.2.0', '2.0.0-rc.1', ''][i % 4]]);
  const csv = join(dir, 'shared.csv');
  writeFileSync(csv, `subjectKey,email,country,version\n${rows.map((r) => r.join(',')).join('\n')}\n`);
  const at = '2026-06-01T00:00:00.000Z';
  const now = () => Date.parse(at);
  const a = offlineInit({ flagsConfiguration: readText(from), assignmentLogger: null, now });
  const b = offlineInit({ flagsConfiguration: readText(to), assignmentLogger: null, now });
  const run = (workers: string, env: Record<string, string> = {}) => {
    const r = cli(['diff', '--from', from, '--to', to, '--input', csv, '--workers', workers, '--format', 'json', '--at', at], env);
    assert.equal(r.code, 1, r.stderr);
    return JSON.parse(r.stdout);
  };
  const one = run('1');
  assert.deepEqual(run('2', { SALTSHARD_ASSIGN_CHUNK_BYTES: '1024' }).flags, one.flags);
  // Columns no condition names are neither typed nor kept (an unread "Country" beside "country"); --types columns
  // still are checked.
  const wide = join(dir, 'shared-wide.csv');
  const wideCsv = (visits: (i: number) => string) =>
    `plan,subjectKey,email,Country,country,visits,version\n${rows.map(([k, e, c, v], i) => [i % 2 ? 'pro' : 'free', k, e, 'XX', c, visits(i), v].join(',')).join('\n')}\n`;
  const wideRun = (extra: string[]) => cli(['diff', '--from', from, '--to', to, '--input', wide, '--workers', '2', '--format', 'json', '--at', at, ...extra], { SALTSHARD_ASSIGN_CHUNK_BYTES: '1024' });
  writeFileSync(wide, wideCsv(String));
  assert.deepEqual(JSON.parse(wideRun([]).stdout).flags, one.flags);
  writeFileSync(wide, wideCsv((i) => (i === 7 ? 'many' : String(i))));
  const typed = wideRun(['--types', 'visits:number']);
  assert.match(typed.stderr, /line 9: column "visits": "many" is not a number; skipped/);
  assert.equal(JSON.parse(typed.stdout).cohort.rejected, 1);
  for (const f of one.flags) {
    let changed = 0;
    const samples: string[] = [];
    for (const [key, email, country, version] of rows) {
      const attrs: Record<string, string> = { email, country };
      if (version !== '') attrs.version = version;
      if (a.evaluate(f.flagKey, key, attrs).variationKey !== b.evaluate(f.flagKey, key, attrs).variationKey) {
        changed++;
        if (samples.length < 5) samples.push(key);
      }
    }
    assert.ok(changed > 0, f.flagKey);
    assert.equal(f.cohort.changedVariation, changed, f.flagKey);
    assert.deepEqual(f.cohort.samples.variation, samples, f.flagKey);
  }
});

t('diff: usage and config errors', () => {
  assert.equal(cli(['diff', '--from', 'x.json']).code, 64);
  assert.equal(cli(['diff', '--from', 'x.json', '--to', 'y.json', '--format', 'pdf']).code, 64);
  assert.equal(cli(['diff', '--from', join(ROOT, 'examples', 'flags.json'), '--to', join(ROOT, 'examples', 'flags.json'), '--max-reassign', '150']).code, 64);
  const missing = cli(['diff', '--from', join(dir, 'nope.json'), '--to', join(ROOT, 'examples', 'flags.json')]);
  assert.equal(missing.code, 78);
  assert.match(missing.stderr, /cannot use config .*nope\.json/);
  const help = cli(['diff', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--max-reassign/);
});

t.run();
