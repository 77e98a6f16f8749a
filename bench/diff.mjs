#!/usr/bin/env node
// Benchmark of `saltshard diff --input` end to end (not a test): a generated CSV cohort of N subjects and a 10-flag
// config (experiments with traffic and split salts, targeting rules, a regex, rollouts), against an edited copy in
// which EVERY flag changed (a moved range), so every subject is evaluated for all 10 flags under both configs (the
// worst case; flags identical in both configs are not evaluated at all); and the common case of one flag changed.
// The counts are first checked against a brute-force evaluation with the getters on a prefix of the cohort.
// Usage: npm run build && node bench/diff.mjs [ROWS=4000000] [--workers 2] [--rounds 3] [--keep] [--baseline DIR
// [--baseline-label TEXT]]. --baseline DIR: another built checkout (e.g. an earlier commit, named by the label); its
// runs alternate with this one's, round by round, and must report the same counts. Writes bench/diff-results.md (folded into BENCHMARKS.md by bench/run.mjs).
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
const rows = Number(args.find((a, i) => /^\d+$/.test(a) && !['--workers', '--rounds', '--baseline', '--baseline-label'].includes(args[i - 1])) ?? 4_000_000);
const baseline = opt('--baseline', null);
const baselineName = `baseline${opt('--baseline-label', null) ? ` (${opt('--baseline-label')})` : ''}`;
const workers = opt('--workers', '2');
const rounds = Number(opt('--rounds', '3'));
const bin = join(root, 'bin', 'saltshard');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-bench-diff-'));
const AT = '2026-06-01T00:00:00.000Z';

// The 10-flag config.
const str = (v) => ({ key: v, value: v });
const range = (start, end) => ({ start, end });
const split = (variationKey, shards) => ({ variationKey, shards });
function experiment(i) {
  const traffic = { salt: `traffic-${i}`, ranges: [range(0, 8000)] };
  return {
    key: `experiment-${i}`, enabled: true, variationType: 'STRING', totalShards: 10000,
    variations: { control: str('control'), treatment: str('treatment'), holdout: str('holdout') },
    allocations: [
      { key: 'internal', rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '@corp\\.test$' }] }], splits: [split('treatment', [])], doLog: false },
      {
        key: 'experiment', rules: [{ conditions: [{ attribute: 'country', operator: 'ONE_OF', value: ['US', 'CA', 'GB', 'FR'] }, { attribute: 'age', operator: 'GTE', value: 18 + i }] }],
        splits: [
          split('control', [traffic, { salt: `split-${i}`, ranges: [range(0, 5000)] }]),
          split('treatment', [traffic, { salt: `split-${i}`, ranges: [range(5000, 10000)] }]),
        ],
        doLog: true,
      },
      { key: 'default', splits: [split('holdout', [])], doLog: false },
    ],
  };
}
function rollout(i) {
  return {
    key: `rollout-${i}`, enabled: true, variationType: 'BOOLEAN', totalShards: 10000,
    variations: { on: { key: 'on', value: true }, off: { key: 'off', value: false } },
    allocations: [
      { key: 'rollout', splits: [split('on', [{ salt: `rollout-${i}`, ranges: [range(0, 2000 + 1000 * i)] }])], doLog: true },
      { key: 'rest', splits: [split('off', [])], doLog: false },
    ],
  };
}
const flags = {};
for (let i = 0; i < 6; i++) flags[`experiment-${i}`] = experiment(i);
for (let i = 0; i < 4; i++) flags[`rollout-${i}`] = rollout(i);
const before = { createdAt: '2026-01-01T00:00:00.000Z', format: 'SERVER', environment: { name: 'bench' }, flags };
const after = JSON.parse(JSON.stringify(before));
for (const f of Object.values(after.flags)) {
  const a = f.allocations.find((x) => x.doLog);
  const s = a.splits[0].shards.at(-1);
  s.ranges[0].end -= 100;
  if (a.splits[1]) a.splits[1].shards.at(-1).ranges[0].start -= 100;
}
const oneChanged = JSON.parse(JSON.stringify(before));
oneChanged.flags['experiment-0'] = after.flags['experiment-0'];
const paths = { before: join(dir, 'before.json'), after: join(dir, 'after.json'), one: join(dir, 'one.json') };
writeFileSync(paths.before, JSON.stringify(before));
writeFileSync(paths.after, JSON.stringify(after));
writeFileSync(paths.one, JSON.stringify(oneChanged));

// The cohort.
const input = join(dir, 'cohort.csv');
const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'BR', 'IN', 'JP'];
const DOMAINS = ['example.com', 'mail.test', 'corp.test', 'example.org'];
let seed = 42;
const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
const subjectLine = (i) => `u${Math.floor(rnd() * 2 ** 40).toString(36)}${i.toString(36)},dev${i % 1000}@${DOMAINS[Math.floor(rnd() * DOMAINS.length)]},${COUNTRIES[Math.floor(rnd() * COUNTRIES.length)]},${10 + Math.floor(rnd() * 60)}\n`;
{
  const out = createWriteStream(input);
  out.write('subjectKey,email,country,age\n');
  let buf = '';
  for (let i = 0; i < rows; i++) {
    buf += subjectLine(i);
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise((res) => out.once('drain', res));
      buf = '';
    }
  }
  out.write(buf);
  await new Promise((res) => out.end(res));
}
console.log(`cohort: ${rows.toLocaleString()} subjects, ${(statSync(input).size / 1e6).toFixed(0)} MB CSV; 10 flags`);

const diff = (to, file, extra = [], command = bin) => {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [command, 'diff', '--from', paths.before, '--to', to, '--input', file, '--at', AT, '--format', 'json', '--workers', workers, ...extra], { encoding: 'utf8', maxBuffer: 64 << 20 });
  const secs = (performance.now() - t0) / 1000;
  if (r.status !== 1 && r.status !== 0) throw new Error(`diff failed (${r.status}): ${r.stderr}`);
  return { secs, report: JSON.parse(r.stdout) };
};

// Validation on a prefix: the cohort counts equal the getters' answers subject by subject.
{
  const prefix = join(dir, 'prefix.csv');
  const lines = readFileSync(input, 'utf8').split('\n', 20_001);
  writeFileSync(prefix, `${lines.join('\n')}\n`);
  const { offlineInit } = await import(join(root, 'dist', 'src', 'mod.js'));
  const now = () => Date.parse(AT);
  const a = offlineInit({ flagsConfiguration: before, assignmentLogger: null, now });
  const b = offlineInit({ flagsConfiguration: after, assignmentLogger: null, now });
  const { report } = diff(paths.after, prefix);
  for (const f of report.flags) {
    let changed = 0;
    for (const line of lines.slice(1)) {
      const [key, email, country, age] = line.split(',');
      const attrs = { email, country, age: Number(age) };
      if (a.evaluate(f.flagKey, key, attrs).variationKey !== b.evaluate(f.flagKey, key, attrs).variationKey) changed++;
    }
    if (f.cohort.subjects !== lines.length - 1 || f.cohort.changedVariation !== changed) throw new Error(`validation failed for ${f.flagKey}: ${JSON.stringify(f.cohort)} vs ${changed}`);
  }
  console.log(`validated: the counts of all 10 flags on ${(lines.length - 1).toLocaleString()} subjects equal the getters'`);
}

const median = (xs) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];
const builds = baseline ? [[baselineName, join(baseline, 'bin', 'saltshard')], ['this build', bin]] : [['this build', bin]];
const runs = Object.fromEntries(builds.map(([name]) => [name, { all: [], one: [] }]));
const loads = [loadavg()[0]];
let reassigned = null;
const counts = (report) => JSON.stringify(report.flags.map((f) => f.cohort));
for (let k = 0; k < rounds; k++) {
  const line = [];
  for (const to of ['all', 'one']) {
    let reference = null;
    for (const [name, command] of builds) {
      const r = diff(to === 'all' ? paths.after : paths.one, input, [], command);
      if (r.report.cohort.subjects !== rows) throw new Error(`${name} counted ${r.report.cohort.subjects} subjects`);
      if (reference !== null && counts(r.report) !== reference) throw new Error(`${name} reports other counts than the baseline (${to})`);
      reference = counts(r.report);
      if (to === 'all' && name === 'this build') reassigned = r.report.flags.reduce((s, f) => s + f.cohort.changedVariation, 0);
      runs[name][to].push(r.secs);
      line.push(`${name} ${to === 'all' ? 'all changed' : 'one changed'} ${r.secs.toFixed(2)} s`);
    }
  }
  loads.push(loadavg()[0]);
  console.log(`round ${k + 1}: ${line.join(', ')}; load ${loads.at(-1).toFixed(2)}`);
}
const rate = (secs) => `${(rows / secs / 1e6).toFixed(2)} M`;
const row = (name, to, label) => `| ${name}: saltshard diff --input, ${label} | ${median(runs[name][to]).toFixed(2)} s | ${runs[name][to].map((s) => s.toFixed(2)).join(', ')} | ${rate(median(runs[name][to]))} |`;
const ours = runs['this build'];
const md = [
  `Run on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${workers} workers: a ${rows.toLocaleString()}-subject CSV cohort (${(statSync(input).size / 1e6).toFixed(0)} MB), a 10-flag config (6 experiments with traffic and split salts and targeting rules, 4 rollouts), wall time of the whole command (process start, reading, both evaluations, merging, the JSON report)${baseline ? ', this build and the baseline alternated run by run' : ''}. The counts were first checked against the getters on 20,000 subjects. Machine: ${cpus().length} cores shared with other work, 1-minute load average ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} during the runs.`,
  '',
  '| Job (median of alternated runs) | wall | runs | subjects/s |',
  '|---|---:|---|---:|',
  ...builds.flatMap(([name]) => [row(name, 'all', 'all 10 flags changed (10 flags × 2 configs per subject)'), row(name, 'one', '1 flag of 10 changed (identical flags are not evaluated)')]),
  '',
  `Target (issue #18): ≥ 2 M subjects/s on 2 workers for a 10-flag config — all flags changed: **${rows / median(ours.all) >= 2e6 ? 'met' : 'missed'}**; one flag changed: **${rows / median(ours.one) >= 2e6 ? 'met' : 'missed'}**. (${reassigned.toLocaleString()} subject × flag variation changes found in the all-changed run.)`,
  '',
];
writeFileSync(join(root, 'bench', 'diff-results.md'), md.join('\n'));
console.log(md.join('\n'));
if (!args.includes('--keep')) rmSync(dir, { recursive: true, force: true });
