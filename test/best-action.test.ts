// getBestAction against Eppo's own client (js-client-sdk-common, the code behind @eppo/node-server-sdk) on the
// sdk-test-data bandit flags and models: random subjects and actions, every flag key (with and without bandits),
// flat and split attributes. Also: no events, and bad input gives the default without throwing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { offlineInit } from '../src/mod.ts';
import { TEST_DATA, hasTestData, readJson } from './support.ts';

type Refs = Record<string, { flagVariations: { flagKey: string }[] }>;

function eppoClient(config: { flags: Record<string, unknown>; banditReferences: Refs }, models: { bandits: Record<string, unknown> }): EppoClient {
  const flags = new MemoryOnlyConfigurationStore<never>();
  void flags.setEntries(config.flags as Record<string, never>);
  flags.setEnvironment({ name: 'Test' });
  flags.setFormat('SERVER' as never);
  // Eppo's requestor indexes the bandit references by flag key, in config order.
  const byFlag: Record<string, unknown[]> = {};
  for (const ref of Object.values(config.banditReferences)) for (const v of ref.flagVariations) (byFlag[v.flagKey] ??= []).push(v);
  const variations = new MemoryOnlyConfigurationStore<never>();
  void variations.setEntries(byFlag as never);
  const bandits = new MemoryOnlyConfigurationStore<never>();
  void bandits.setEntries(models.bandits as never);
  return new EppoClient({ flagConfigurationStore: flags, banditVariationConfigurationStore: variations, banditModelConfigurationStore: bandits });
}

test('getBestAction equals Eppo\'s on the sdk-test-data bandits for 600 random subjects and action sets', () => {
  if (!hasTestData('getBestAction')) return;
  const config = readJson<{ flags: Record<string, unknown>; banditReferences: Refs }>(TEST_DATA, 'ufc', 'bandit-flags-v1.json');
  const models = readJson<{ bandits: Record<string, { modelData: { coefficients: Record<string, unknown> } }> }>(TEST_DATA, 'ufc', 'bandit-models-v1.json');
  const events: unknown[] = [];
  const ours = offlineInit({ flagsConfiguration: config, banditsConfiguration: models, banditLogger: { logBanditAction: (e) => void events.push(e) }, assignmentLogger: { logAssignment: (e) => void events.push(e) }, logger: { error() {}, warn() {} } });
  const level = applicationLogger.level;
  applicationLogger.level = 'silent';
  try {
    const theirs = eppoClient(config, models);
    const actionKeys = [...new Set(Object.values(models.bandits).flatMap((b) => Object.keys(b.modelData.coefficients))), 'unknown-action'];
    const flagKeys = [...Object.keys(config.flags), 'no-such-flag'];
    let seed = 7;
    const rand = () => (seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0) / 2 ** 32;
    const value = () => (rand() < 0.5 ? Math.round(rand() * 100) : ['UK', 'US', 'mobile', 'desktop', 'F', 'M'][Math.floor(rand() * 6)]);
    const attrs = () => Object.fromEntries(['age', 'country', 'gender_identity', 'device', 'price', 'brand_affinity', 'loyalty_tier'].filter(() => rand() < 0.6).map((k) => [k, value()]));
    let nonDefault = 0;
    for (let i = 0; i < 600; i++) {
      const flagKey = flagKeys[i % flagKeys.length];
      const keys = actionKeys.filter(() => rand() < 0.5);
      const split = rand() < 0.3;
      const subject = split ? { numericAttributes: { age: Math.round(rand() * 80) }, categoricalAttributes: { country: rand() < 0.5 ? 'UK' : 'US' } } : attrs();
      const actions = rand() < 0.3 ? keys : Object.fromEntries(keys.map((k) => [k, attrs()]));
      const mine = ours.getBestAction(flagKey, subject, actions, 'fallback');
      const expected = theirs.getBestAction(flagKey, subject as never, actions as never, 'fallback');
      assert.is(mine, expected, `case ${i}: ${flagKey} ${JSON.stringify({ subject, actions })}`);
      if (mine !== 'fallback') nonDefault++;
    }
    assert.ok(nonDefault > 100, `bandits ranked actions in ${nonDefault} cases`);
    assert.equal(events, [], 'no assignment or bandit event');
  } finally {
    applicationLogger.level = level;
  }
});

test('getBestAction: no config, no models, no actions or bad input give the default, never a throw', () => {
  const errors: unknown[] = [];
  const logger = { error: (...a: unknown[]) => void errors.push(a), warn() {} };
  const empty = offlineInit({ flagsConfiguration: { flags: {} }, logger });
  assert.is(empty.getBestAction('banner_bandit_flag', {}, ['a'], 'd'), 'd');
  if (!hasTestData('getBestAction defaults')) return;
  const flags = readJson<object>(TEST_DATA, 'ufc', 'bandit-flags-v1.json');
  const noModels = offlineInit({ flagsConfiguration: flags, logger });
  assert.is(noModels.getBestAction('banner_bandit_flag', { age: 3 }, ['nike'], 'd'), 'd', 'models not loaded');
  const client = offlineInit({ flagsConfiguration: flags, banditsConfiguration: readJson<object>(TEST_DATA, 'ufc', 'bandit-models-v1.json'), logger });
  assert.is(client.getBestAction('banner_bandit_flag', { age: 3 }, [], 'd'), 'd', 'no actions');
  assert.is(client.getBestAction('banner_bandit_flag', null, null, 'd'), 'd');
  assert.is(client.getBestAction('banner_bandit_flag', { age: 3 }, 42 as never, 'd'), 'd');
  assert.is.not(client.getBestAction('banner_bandit_flag', { age: 30 }, ['nike', 'adidas'], 'd'), 'd');
});

test.run();
