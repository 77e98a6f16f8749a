// Overrides beyond what test/switch.test.ts compares with Eppo's package: values of the wrong type, stores that
// throw or hold malformed entries, bandits and evaluate() under an override, strict mode, and withOverrides copies.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import * as saltshard from '../src/mod.ts';
import { configText } from './fake-eppo.ts';
import { TEST_DATA, hasTestData, readText } from './support.ts';

function client(extra: Partial<saltshard.OfflineInitOptions> = {}) {
  const events: unknown[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  const logger = { error: (...a: unknown[]) => void errors.push(a.join(' ')), warn: (...a: unknown[]) => void warnings.push(a.join(' ')) };
  const c = saltshard.offlineInit({ flagsConfiguration: configText(1), logger, assignmentLogger: { logAssignment: (e) => void events.push(e) }, ...extra });
  return { c, events, errors, warnings };
}

test('an override value of the wrong type gives the default with TYPE_MISMATCH (Eppo would return it as is)', () => {
  const { c } = client();
  c.setOverrideStore(new saltshard.MemoryOverrideStore({ 'new-search': { key: 'text', value: 'yes' }, 'results-per-page': { key: 'frac', value: 2.5 } }));
  const d = c.getBooleanAssignmentDetails('new-search', 'alice', {}, false);
  assert.is(d.variation, false);
  assert.is(d.evaluationDetails.flagEvaluationCode, 'TYPE_MISMATCH');
  assert.match(d.evaluationDetails.flagEvaluationDescription, /Override value does not have the correct type: expected BOOLEAN for flag new-search/);
  assert.is(c.getIntegerAssignment('results-per-page', 'alice', {}, 7), 7);
  assert.is(c.getNumericAssignment('results-per-page', 'alice', {}, 7), 2.5, 'a NUMERIC getter takes any finite number');
  assert.is(c.getStringAssignment('new-search', 'alice', {}, 'd'), 'yes', 'the flag type is not checked, as Eppo');
});

test('JSON overrides: text is parsed, objects are copied on every call; unparsable text gives the default, or throws in strict mode', () => {
  const { c, errors } = client();
  const value = { title: 'forced', tags: ['a'] };
  c.setOverrideStore(new saltshard.MemoryOverrideStore({ 'onboarding-copy': { key: 'obj', value }, 'price-multiplier': { key: 'bad', value: '{oops' } }));
  const a = c.getJSONAssignment('onboarding-copy', 'alice', {}, {}) as typeof value;
  assert.equal(a, value);
  a.tags.push('mutated');
  assert.equal(c.getJSONAssignment('onboarding-copy', 'alice', {}, {}), { title: 'forced', tags: ['a'] });
  assert.equal(c.getJSONAssignment('price-multiplier', 'alice', {}, { d: 1 }), { d: 1 });
  assert.ok(errors.some((e) => e.includes('Error getting assignment')), 'reported');
  c.setIsGracefulFailureMode(false);
  assert.throws(() => c.getJSONAssignment('price-multiplier', 'alice', {}, {}), SyntaxError);
});

test('a store that throws, or holds a malformed entry, is ignored for that call; the config decides', () => {
  const { c, errors, warnings } = client();
  const normal = c.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none');
  c.setOverrideStore({ get: () => { throw new Error('store down'); }, entries: () => { throw new Error('store down'); } });
  assert.is(c.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none'), normal);
  assert.equal(c.getOverrideVariationKeys(), {});
  assert.ok(errors.some((e) => e.includes('Override store get threw')));
  c.setOverrideStore({ get: () => 'treatment' as never, entries: () => ({ a: 'x' }) as never });
  assert.is(c.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none'), normal);
  c.getStringAssignment('checkout-redesign', 'alice', { country: 'FR' }, 'none');
  assert.is(warnings.filter((w) => w.includes('Override for flag checkout-redesign ignored')).length, 1, 'warned once per flag');
  assert.throws(() => c.setOverrideStore({} as never), /setOverrideStore\(\) needs a store with get/);
});

test('overridden assignments log nothing; evaluate() and the bandit call see the override', () => {
  const { c, events } = client({ assignmentCacheSize: 0 });
  c.setOverrideStore(new saltshard.MemoryOverrideStore({ 'checkout-redesign': { key: 'forced', value: 'forced-value' } }));
  for (let i = 0; i < 20; i++) c.getStringAssignment('checkout-redesign', `s${i}`, { country: 'US' }, 'none');
  assert.is(events.length, 0);
  assert.equal(c.evaluate('checkout-redesign', 'alice', {}), {
    variationType: null, code: 'MATCH', description: 'Flag override applied', value: 'forced-value', variationKey: 'forced', allocationKey: 'override-forced', doLog: false,
  });
  const b = c.getBanditActionDetails('checkout-redesign', 'alice', {}, ['a', 'b'], 'none');
  assert.is(b.variation, 'forced-value');
  assert.is(b.action, null);
  assert.is(b.evaluationDetails.flagEvaluationDescription, 'Flag override applied');
  c.unsetOverrideStore();
  assert.is.not(c.evaluate('checkout-redesign', 'alice', {}).allocationKey, 'override-forced');
});

test('withOverrides: a copy with its own overrides and failure mode that shares config, loggers and caches', () => {
  const { c, events } = client();
  const scoped = c.withOverrides({ 'new-search': { key: 'forced', value: true } });
  assert.ok(scoped instanceof saltshard.SaltshardClient);
  assert.is(scoped.getBooleanAssignment('new-search', 'bob', { appVersion: '0.1.0' }, false), true);
  assert.is(c.getOverrideVariationKeys()['new-search'], undefined);
  scoped.setIsGracefulFailureMode(false);
  assert.throws(() => scoped.getStringAssignment('checkout-redesign', '', {}, 'x'), /subjectKey cannot be blank/);
  assert.is(c.getStringAssignment('checkout-redesign', '', {}, 'x'), 'x', 'the original stays graceful');
  c.setConfiguration(configText(2));
  assert.is(scoped.getIntegerAssignment('config-version', 'alice', {}, 0), 2, 'a new config reaches the copy');
  let i = 0;
  while (!scoped.evaluate('checkout-redesign', `s${i}`, { country: 'US' }).doLog) i++;
  scoped.getStringAssignment('checkout-redesign', `s${i}`, { country: 'US' }, 'none');
  c.getStringAssignment('checkout-redesign', `s${i}`, { country: 'US' }, 'none');
  assert.is(events.length, 1, 'one logger, one dedupe cache');
  const tracked: unknown[] = [];
  const dispatcher = { dispatch: (e: { type: string }) => void tracked.push(e.type), attachContext: () => {} };
  c.setEventDispatcher(dispatcher);
  c.withOverrides({ 'new-search': { key: 'forced', value: true } }).track('checkout', {});
  assert.equal(tracked, ['checkout'], 'track() of a copy goes to the same dispatcher');
});

test('obfuscated configs: an override on the plain key reports the same details as on the plain config', () => {
  if (!hasTestData('obfuscated overrides')) return;
  const quiet = { error() {}, warn() {} };
  const plain = saltshard.offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1.json'), logger: quiet });
  const obfuscated = saltshard.offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'), logger: quiet });
  const details = (c: saltshard.SaltshardClient) => {
    c.setOverrideStore(new saltshard.MemoryOverrideStore({ 'new-user-onboarding': { key: 'forced', value: 'forced-value' } }));
    const d = c.getStringAssignmentDetails('new-user-onboarding', 'alice', {}, 'none');
    const { configFetchedAt: _f, configPublishedAt: _p, environmentName: _e, ...rest } = d.evaluationDetails;
    return { value: d.variation, ...rest };
  };
  const expected = details(plain);
  assert.is(expected.value, 'forced-value');
  assert.equal(expected.unevaluatedAllocations.map((a) => [a.key, a.orderPosition]), [['internal users', 2], ['experiment', 3], ['rollout', 4]]);
  assert.equal(details(obfuscated), expected);
});

test.run();
