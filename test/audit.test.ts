// `saltshard audit`: exposures logged by the client reproduce; injected faults are found and named; SRM p-values.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import type { AssignmentEvent } from '../src/events/logger.ts';
import { gammaQ, srmTest } from '../src/integrity/stats.ts';
import { ROOT, readText, runCli } from './support.ts';

const t = suite('audit');
const dir = mkdtempSync(join(tmpdir(), 'saltshard-audit-'));
const CONFIG = join(ROOT, 'examples', 'flags.json');
const NEXT = join(ROOT, 'examples', 'flags-next.json');

// deno-lint-ignore no-explicit-any
type Json = any;

/** Events the client logs for `n` subjects (default dedupe on), with the config `config`. */
function logged(config: string, n: number): AssignmentEvent[] {
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: readText(config), assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  for (let i = 0; i < n; i++) {
    const attrs = { country: ['US', 'CA', 'FR', 'DE'][i % 4], appVersion: i % 3 ? '2.5.0' : '2.1.0', sessions: i % 250, email: `u${i}@mail.test` };
    const key = `subject-${i}`;
    client.getStringAssignment('checkout-redesign', key, attrs, 'none');
    client.getBooleanAssignment('new-search', key, attrs, false);
    client.getIntegerAssignment('results-per-page', key, attrs, 10);
    client.getJSONAssignment('onboarding-copy', key, attrs, {});
    // A repeated call is deduped by the client, as it should be.
    client.getStringAssignment('checkout-redesign', key, attrs, 'none');
  }
  return events;
}

/**
 * Runs the audit on events written as NDJSON: as the client logged them (`full`), else with the fields an
 * exposure table keeps (a seventh of the bytes, for speed).
 */
function audit(events: unknown[], args: string[], full = false): { code: number | null; report: Json; stdout: string; stderr: string } {
  const file = join(dir, `events-${Math.random().toString(36).slice(2)}.ndjson`);
  const keep = (e: Json) => (full || typeof e !== 'object' || e === null ? e : { subject: e.subject, featureFlag: e.featureFlag, allocation: e.allocation, variation: e.variation, timestamp: e.timestamp, subjectAttributes: e.subjectAttributes });
  writeFileSync(file, `${events.map((e) => JSON.stringify(keep(e))).join('\n')}\n`);
  const r = runCli(['audit', '--exposures', file, ...(args.includes('--format') ? [] : ['--format', 'json']), ...args]);
  let report: Json = null;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    // the assertion on the code reports stderr
  }
  return { ...r, report };
}

const failing = (report: Json) => report.checks.filter((c: Json) => !c.ok).map((c: Json) => c.name).sort();
const cause = (report: Json, name: string) => report.causes.find((c: Json) => c.cause === name)?.count ?? 0;

const EVENTS = logged(CONFIG, 40_000);
const checkout = (e: AssignmentEvent) => e.featureFlag === 'checkout-redesign';

t('SRM p-values equal reference computations to 1e-9 (scipy.stats; exact enumeration in rationals)', () => {
  // scipy.stats.chisquare([1050, 980, 970], [1000, 1000, 1000]).pvalue: 3,000 subjects in 3 variations is past the
  // exact test's enumeration limit, so chi-square.
  const chi = srmTest([1050, 980, 970], [1, 1, 1]);
  assert.equal(chi.method, 'chi-square');
  assert.ok(Math.abs(chi.pValue - 0.14956861922263506) < 1e-9, String(chi.pValue));
  assert.ok(Math.abs(chi.statistic - 3.8) < 1e-12);
  // scipy.stats.chisquare([9500, 10000], [9750, 9750]).pvalue, through the gamma function directly.
  assert.ok(Math.abs(gammaQ(0.5, (2 * 250 ** 2) / 9750 / 2) - 0.0003428397416111479) < 1e-9);
  // scipy.stats.binomtest(40, 100, 0.5).pvalue and binomtest(3, 20, 0.3).pvalue.
  const b1 = srmTest([40, 60], [0.5, 0.5]);
  assert.equal(b1.method, 'exact binomial');
  assert.ok(Math.abs(b1.pValue - 0.05688793364098089) < 1e-9, String(b1.pValue));
  assert.ok(Math.abs(srmTest([3, 17], [0.3, 0.7]).pValue - 0.22041826738070913) < 1e-9);
  // Exact multinomial, n = 30, counts (5, 12, 13), p = (1/2, 3/10, 1/5): the sum over all outcomes no more likely,
  // computed in exact rationals (Python fractions).
  const m = srmTest([5, 12, 13], [0.5, 0.3, 0.2]);
  assert.equal(m.method, 'exact multinomial');
  assert.ok(Math.abs(m.pValue - 0.00022967646081635976) < 1e-9, String(m.pValue));
  // A variation the design never serves, observed: impossible.
  assert.equal(srmTest([10, 1], [1, 0]).pValue, 0);
});

t('audit: every event the client logged reproduces, no duplicates, no SRM; exit 0', () => {
  const r = audit(EVENTS, ['--config', CONFIG], true);
  assert.equal(r.code, 0, r.stderr + r.stdout);
  assert.equal(r.report.events, EVENTS.length);
  assert.equal(r.report.reproduced, EVENTS.length);
  assert.deepEqual(failing(r.report), []);
  const exp = r.report.experiments.find((e: Json) => e.experiment === 'checkout-redesign-experiment');
  assert.equal(exp.subjects, EVENTS.filter(checkout).length);
  assert.deepEqual(exp.variations.map((v: Json) => [v.variation, v.expected]), [['control', 0.5], ['treatment', 0.5]]);
  // new-search: one variation served to 25 % of the shards: nothing to compare, no SRM test.
  assert.equal(r.report.experiments.find((e: Json) => e.experiment === 'new-search-modern-app-versions').srm, null);
});

t('audit: 5 % of one variation dropped is a sample ratio mismatch', () => {
  let k = 0;
  const events = EVENTS.filter((e) => !(checkout(e) && e.variation === 'control' && k++ % 20 === 0));
  const r = audit(events, ['--config', CONFIG]);
  assert.equal(r.code, 1);
  assert.deepEqual(failing(r.report), ['srm checkout-redesign-experiment']);
  const srm = r.report.experiments.find((e: Json) => e.experiment === 'checkout-redesign-experiment').srm;
  assert.ok(srm.pValue < 0.001, String(srm.pValue));
  assert.equal(r.report.reproduced, events.length);
});

t('audit: a swapped variation is a "different variation"; attributes stripped are "attributes missing"; an unknown flag', () => {
  const events = EVENTS.map((e) => ({ ...e }));
  const swapped = events.filter(checkout).slice(0, 7);
  for (const e of swapped) e.variation = e.variation === 'control' ? 'treatment' : 'control';
  const stripped = events.filter(checkout).slice(100, 103);
  for (const e of stripped) e.subjectAttributes = {};
  events[500].featureFlag = 'no-such-flag';
  const r = audit(events, ['--config', CONFIG]);
  assert.equal(r.code, 1);
  assert.equal(cause(r.report, 'different variation'), 7);
  assert.equal(cause(r.report, 'attributes missing'), 3);
  assert.equal(cause(r.report, 'unknown flag'), 1);
  assert.equal(r.report.reproduced, events.length - 11);
  assert.deepEqual(r.report.causes.find((c: Json) => c.cause === 'different variation').samples.map((s: Json) => s.subject), swapped.slice(0, 5).map((e) => e.subject));
  assert.ok(failing(r.report).includes('reproduce'));
  // The text report names them too, failing checks first.
  const text = audit(events, ['--config', CONFIG, '--format', 'text']).stdout;
  assert.match(text, /^saltshard audit: FAILED/);
  assert.match(text, /different variation: 7/);
  assert.match(text, /Checks\n {2}FAIL/);
});

t('audit: duplicated events, and a subject exposed to two variations', () => {
  const extra = EVENTS.filter(checkout).slice(0, 25).map((e) => ({ ...e }));
  const other = { ...EVENTS.filter(checkout)[30] };
  other.variation = other.variation === 'control' ? 'treatment' : 'control';
  const r = audit([...EVENTS, ...extra, other], ['--config', CONFIG]);
  assert.equal(r.code, 1);
  const exp = r.report.experiments.find((e: Json) => e.experiment === 'checkout-redesign-experiment');
  assert.equal(exp.duplicates, 25);
  assert.equal(exp.multiVariation, 1);
  assert.deepEqual(failing(r.report), ['duplicates checkout-redesign-experiment', 'one variation per subject checkout-redesign-experiment', 'reproduce']);
});

t('audit --config-at: events from an SDK still on the old config after a publish are "config changed since"', () => {
  // The client logs with the old config; the history says the new one (5 % of control moved) took effect an hour ago.
  const history = join(dir, 'history');
  mkdirSync(history);
  writeFileSync(join(history, '1000.json'), readText(CONFIG));
  writeFileSync(join(history, `${Date.now() - 3_600_000}.json`), readText(NEXT));
  const events = logged(CONFIG, 4000);
  const r = audit(events, ['--config-at', history]);
  assert.equal(r.code, 1, r.stderr);
  const stale = r.report.causes.find((c: Json) => c.cause === 'config changed since');
  assert.ok(stale && stale.count > 0);
  assert.match(stale.samples[0].detail, /older .*1000\.json: logged by an SDK with a stale config/);
  assert.equal(r.report.reproduced + stale.count, events.length);
  // Every stale event is a control subject the new config sends to treatment.
  assert.ok(stale.samples.every((s: Json) => s.logged === 'control' && s.now === 'treatment'));
  // Against the old config alone, the same events all reproduce.
  assert.equal(audit(events, ['--config', CONFIG]).code, 0);
});

t('audit: bad rows are reported with their line and skipped (exit 65 when every check passes); usage errors', () => {
  const r = audit([...EVENTS.slice(0, 50), 'not an event', { subject: 'x' }], ['--config', CONFIG]);
  assert.equal(r.code, 65, r.stderr);
  assert.match(r.stderr, /line 51: expected a JSON object; skipped/);
  assert.match(r.stderr, /line 52: no flag/);
  assert.equal(r.report.rejected, 2);
  assert.equal(runCli(['audit', '--exposures', 'x.ndjson']).code, 64);
  assert.equal(runCli(['audit', '--config', CONFIG, '--exposures', join(dir, 'none.ndjson')]).code, 66);
});

t.run();
