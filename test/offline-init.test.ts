// Eppo's node SDK 4.x module-level API: offlineInit makes its client the instance getInstance() returns,
// getFlagsConfiguration()/getBanditsConfiguration() export the instance's configurations to bootstrap another one,
// and throwOnFailedInitialization: false turns an unusable configuration into a warning.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { getBanditsConfiguration, getFlagsConfiguration, getInstance, offlineInit } from '../src/mod.ts';
import { TEST_DATA, hasTestData, readText } from './support.ts';
import { configText } from './fake-eppo.ts';

test('before any client: no flags configuration, empty bandits', () => {
  assert.is(getFlagsConfiguration(), null);
  assert.equal(JSON.parse(getBanditsConfiguration()).bandits, {});
});

test('offlineInit makes the instance; its configurations bootstrap another instance with the same answers', () => {
  if (!hasTestData('offlineInit bootstrap')) return;
  const flags = readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json');
  const bandits = readText(TEST_DATA, 'ufc', 'bandit-models-v1.json');
  const first = offlineInit({ flagsConfiguration: flags, banditsConfiguration: bandits });
  assert.is(getInstance(), first);
  const flagsText = getFlagsConfiguration();
  const banditsText = getBanditsConfiguration();
  assert.ok(flagsText !== null);
  assert.ok(Object.keys(JSON.parse(banditsText).bandits).length >= 2);
  assert.ok(!Number.isNaN(Date.parse(JSON.parse(banditsText).updatedAt)));
  const second = offlineInit({ flagsConfiguration: flagsText, banditsConfiguration: banditsText });
  assert.is(getInstance(), second);
  for (let i = 0; i < 50; i++) {
    const attrs = { age: i, country: i % 2 ? 'UK' : 'US' };
    assert.equal(second.getBanditAction('banner_bandit_flag', `s${i}`, attrs, ['nike', 'adidas', 'reebok'], 'd'), first.getBanditAction('banner_bandit_flag', `s${i}`, attrs, ['nike', 'adidas', 'reebok'], 'd'));
  }
});

test('throwOnFailedInitialization: false warns and serves defaults; bad bandits keep good flags; the default throws', () => {
  const warnings: string[] = [];
  const logger = { error: () => {}, warn: (...a: unknown[]) => void warnings.push(a.join(' ')) };
  const broken = offlineInit({ flagsConfiguration: '{not json', throwOnFailedInitialization: false, logger });
  assert.is(getInstance(), broken);
  assert.is(broken.getStringAssignment('checkout-redesign', 'alice', {}, 'fallback'), 'fallback');
  assert.ok(warnings.some((w) => w.startsWith('offlineInit(): invalid flags configuration') && w.endsWith('all assignments return their defaults')), warnings.join('\n'));
  const partial = offlineInit({ flagsConfiguration: configText(1), banditsConfiguration: '[]', throwOnFailedInitialization: false, logger });
  assert.is(partial.getIntegerAssignment('config-version', 'alice', {}, 0), 1);
  assert.ok(warnings.some((w) => w.startsWith('offlineInit(): invalid bandits configuration')));
  assert.throws(() => offlineInit({ flagsConfiguration: '{not json' }), SyntaxError);
  assert.is(getInstance(), partial, 'a failed offlineInit does not replace the instance');
});

test.run();
