// saltshard/testing used as a user would: an in-memory client from plain values, the TestData builder (targets,
// rules, percentage splits, live updates), and forced values on an existing client for a test's duration.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TestData, forceValues, testClient, withForcedValues } from '../src/testing.ts';
import { offlineInit } from '../src/mod.ts';
import type { AssignmentEvent } from '../src/mod.ts';
import { configText } from './fake-eppo.ts';

test('testClient serves plain values through a real UFC config, with types inferred', () => {
  const client = testClient({ 'new-checkout': true, 'button-color': 'blue', 'page-size': 20, 'price-factor': 0.9, layout: { columns: 3 }, tags: ['a'] });
  assert.is(client.getBooleanAssignment('new-checkout', 'user-1', {}, false), true);
  assert.is(client.getStringAssignment('button-color', 'user-1', {}, 'red'), 'blue');
  assert.is(client.getIntegerAssignment('page-size', 'user-2', { country: 'FR' }, 10), 20);
  assert.is(client.getNumericAssignment('price-factor', 'user-2', {}, 1), 0.9);
  assert.equal(client.getJSONAssignment('layout', 'user-3', {}, {}), { columns: 3 });
  assert.equal(client.getJSONAssignment('tags', 'user-3', {}, []), ['a']);
  const d = client.getStringAssignmentDetails('button-color', 'user-1', {}, 'red');
  assert.is(d.evaluationDetails.flagEvaluationCode, 'MATCH');
  assert.is(d.evaluationDetails.variationKey, 'blue');
  assert.is(d.evaluationDetails.matchedAllocation?.key, 'fallthrough');
  // Real type checks: an INTEGER flag read as a string gives the default, as in production.
  assert.is(client.getStringAssignmentDetails('page-size', 'u', {}, 'x').evaluationDetails.flagEvaluationCode, 'TYPE_MISMATCH');
  assert.is(client.getBooleanAssignmentDetails('unknown', 'u', {}, false).evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.throws(() => testClient({ bad: undefined as never }), /undefined is not a flag value/);
});

test('exposures are logged as in production (doLog on by default, off on request)', () => {
  const events: AssignmentEvent[] = [];
  const td = new TestData();
  td.flag('new-checkout').serve(true);
  td.flag('quiet').serve('x').doLog(false);
  const client = td.client({ assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  client.getBooleanAssignment('new-checkout', 'alice', { plan: 'pro' }, false);
  client.getStringAssignment('quiet', 'alice', {}, '');
  assert.is(events.length, 1);
  assert.is(events[0].featureFlag, 'new-checkout');
  assert.is(events[0].allocation, 'fallthrough');
  assert.is(events[0].variation, 'true');
  assert.equal(events[0].subjectAttributes, { plan: 'pro' });
});

test('TestData: subject targets, then rules in order, then the split, then the fallthrough', () => {
  const td = new TestData();
  td.flag('button-color')
    .forSubjects(['qa-bot'], 'red')
    .when({ country: ['FR', 'BE'] }, 'green')
    .when([{ attribute: 'age', operator: 'GTE', value: 65 }, { attribute: 'plan', operator: 'ONE_OF', value: ['pro'] }], 'large')
    .split({ blue: 30, purple: 20 })
    .serve('gray');
  const client = td.client();
  const color = (subject: string, attributes: Record<string, unknown> = {}) => client.getStringAssignment('button-color', subject, attributes, 'none');
  assert.is(color('qa-bot', { country: 'FR' }), 'red');
  assert.is(color('u1', { country: 'BE' }), 'green');
  assert.is(color('u1', { age: 70, plan: 'pro' }), 'large');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 4000; i++) {
    const c = color(`user-${i}`, { age: 70, plan: 'free' });
    counts[c] = (counts[c] ?? 0) + 1;
  }
  assert.equal(Object.keys(counts).sort(), ['blue', 'gray', 'purple']);
  // 4000 subjects: shares within ±3.5 points of 30 / 20 / 50 (over 5 standard deviations).
  assert.ok(Math.abs(counts.blue / 4000 - 0.3) < 0.035, `blue ${counts.blue}`);
  assert.ok(Math.abs(counts.purple / 4000 - 0.2) < 0.035, `purple ${counts.purple}`);
  assert.ok(Math.abs(counts.gray / 4000 - 0.5) < 0.035, `gray ${counts.gray}`);
  // The same subject always gets the same split value; a new salt reshuffles.
  const before = Array.from({ length: 200 }, (_, i) => color(`user-${i}`));
  assert.equal(Array.from({ length: 200 }, (_, i) => color(`user-${i}`)), before);
  td.flag('button-color').salt('other');
  assert.not.equal(Array.from({ length: 200 }, (_, i) => color(`user-${i}`)), before);
});

test('TestData: splits of any type, explicit types, disabled flags, removal; mistakes are setup errors', () => {
  const td = new TestData();
  td.flag('beta').split([[true, 10], [false, 90]]);
  td.flag('ratio').type('NUMERIC').serve(2);
  td.flag('config').serve({ retries: 3 });
  const client = td.client();
  let on = 0;
  for (let i = 0; i < 2000; i++) if (client.getBooleanAssignment('beta', `s${i}`, {}, false)) on++;
  assert.ok(on > 100 && on < 300, `about 10% on: ${on}`);
  assert.is(client.getNumericAssignment('ratio', 's', {}, 0), 2, 'type(NUMERIC) keeps an integer value NUMERIC');
  assert.equal(client.getJSONAssignment('config', 's', {}, {}), { retries: 3 });
  td.flag('ratio').enabled(false);
  assert.is(client.getNumericAssignmentDetails('ratio', 's', {}, 0).evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
  td.remove('config');
  assert.equal(client.getJSONAssignment('config', 's', {}, { none: true }), { none: true });
  assert.throws(() => td.flag('mixed').forSubjects('a', 'x').serve(true), /mixes value types/);
  assert.is(client.getStringAssignment('mixed', 'a', {}, 'd'), 'x', 'the rejected change is undone; the flag stays usable');
  assert.throws(() => td.flag('s').split({ a: 70, b: 40 }), /at most 100/);
  assert.throws(() => td.flag('t').type('INTEGER').serve(1.5), /INTEGER: 1.5 does not fit/);
});

test('TestData clients get every change at once, with configurationChanged naming the flag', () => {
  const td = new TestData().values({ 'new-checkout': false, other: 'x' });
  const client = td.client();
  const changes: unknown[] = [];
  client.on('configurationChanged', (keys) => void changes.push(keys));
  assert.is(client.getBooleanAssignment('new-checkout', 'u', {}, true), false);
  td.flag('new-checkout').serve(true);
  assert.is(client.getBooleanAssignment('new-checkout', 'u', {}, false), true);
  assert.equal(changes, [['new-checkout']]);
  assert.equal((td.config() as { flags: Record<string, unknown> }).flags['other'] !== undefined, true);
});

test('forceValues: forced for the test, restored after; details and no events as Eppo overrides', async () => {
  const events: unknown[] = [];
  const client = offlineInit({ flagsConfiguration: configText(1), assignmentLogger: { logAssignment: (e) => void events.push(e) }, assignmentCacheSize: 0 });
  const normal = client.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none');
  const forced = forceValues(client, { 'checkout-redesign': 'treatment', 'onboarding-copy': { title: 'Hi' }, 'brand-new-flag': 7 });
  const d = client.getStringAssignmentDetails('checkout-redesign', 'alice', { country: 'FR' }, 'none');
  assert.is(d.variation, 'treatment');
  assert.is(d.evaluationDetails.variationKey, 'treatment', 'the flag\'s own variation key when one holds the value');
  assert.is(d.evaluationDetails.matchedAllocation?.key, 'override-treatment');
  assert.equal(client.getJSONAssignment('onboarding-copy', 'alice', {}, {}), { title: 'Hi' });
  assert.is(client.getIntegerAssignment('brand-new-flag', 'alice', {}, 0), 7);
  assert.is(client.getBooleanAssignment('brand-new-flag', 'alice', {}, false), false, 'wrong type: the default');
  assert.is(events.length, 0);
  forced.restore();
  forced.restore();
  assert.is(client.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none'), normal);
  assert.equal(client.getOverrideVariationKeys(), {});

  const result = await withForcedValues(client, { 'new-search': false }, async () => {
    await new Promise((r) => setTimeout(r, 1));
    return client.getBooleanAssignment('new-search', 'bob', { appVersion: '9.0.0' }, true);
  });
  assert.is(result, false);
  await withForcedValues(client, { 'new-search': true }, () => {
    throw new Error('test failed');
  }).catch(() => {});
  assert.equal(client.getOverrideVariationKeys(), {}, 'restored after a throw too');
});

test('forced values layer over an override store and other forced values, restored in any order', () => {
  const client = offlineInit({ flagsConfiguration: configText(1) });
  client.setOverrideStore({ get: (k) => (k === 'legacy-banner' ? { key: 'x', value: true } : null), entries: () => ({ 'legacy-banner': { key: 'x', value: true } }) });
  const a = forceValues(client, { 'new-search': true });
  const b = forceValues(client, { 'new-search': false, 'results-per-page': 99 });
  assert.is(client.getBooleanAssignment('new-search', 'u', {}, true), false);
  assert.is(client.getBooleanAssignment('legacy-banner', 'u', {}, false), true, 'the store below still applies');
  assert.equal(Object.keys(client.getOverrideVariationKeys()).sort(), ['legacy-banner', 'new-search', 'results-per-page']);
  a.restore();
  assert.is(client.getBooleanAssignment('new-search', 'u', {}, true), false, 'b still forces');
  b.restore();
  assert.is(client.getBooleanAssignment('new-search', 'u', { appVersion: '0.0.1' }, true), client.evaluate('new-search', 'u', { appVersion: '0.0.1' }).value as boolean);
  assert.equal(client.getOverrideVariationKeys(), { 'legacy-banner': 'x' });
});

test.run();
