// Precomputed configurations (eppo-spec §6.5, §10 item 27): decoding the shared wire file, producing envelopes
// from our client and checking them against the client's own assignments, Eppo's envelope shape, and Eppo's
// own getPrecomputedConfiguration output for the same salt.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { type BanditActions, type Logger, decodePrecomputed, lookupPrecomputedBandit, lookupPrecomputedFlag, offlineInit } from '../src/mod.ts';
import { md5Hex } from '../src/config/encoding.ts';
import { encodeBase64 } from '../src/config/encoding.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('precomputed');
const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };
const SALT = 'c29kaXVtY2hsb3JpZGU=';

interface Deobfuscated {
  precomputed: {
    subjectKey: string;
    subjectAttributes: unknown;
    fetchedAt: string;
    response: { createdAt: string; format: string; salt: string; environment: { name: string }; flags: Record<string, unknown>; bandits: Record<string, unknown> };
  };
}

/** Recursive shape: object keys (sorted) and leaf types; maps keyed by hashes are reduced to one entry's shape. */
function shape(value: unknown, maps: ReadonlySet<string> = new Set(['flags', 'bandits', 'extraLogging', 'actionNumericAttributes', 'actionCategoricalAttributes', 'numericAttributes', 'categoricalAttributes']), name = ''): unknown {
  if (value === null || typeof value !== 'object') return typeof value;
  if (Array.isArray(value)) return ['array'];
  const entries = Object.entries(value);
  if (maps.has(name)) {
    const first = entries[0];
    return { '<map>': first === undefined ? 'empty' : shape(first[1], maps, '') };
  }
  return Object.fromEntries(entries.sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, shape(v, maps, k)]));
}

t('[TD] precomputed-v1.json decodes to precomputed-v1-deobfuscated.json (7 flags, 2 bandits)', () => {
  if (!hasTestData('precomputed wire')) return;
  const dir = join(TEST_DATA, 'configuration-wire');
  const decoded = decodePrecomputed(readText(dir, 'precomputed-v1.json'));
  const plain = readJson<Deobfuscated>(dir, 'precomputed-v1-deobfuscated.json').precomputed;
  assert.equal(decoded.version, 1);
  assert.equal(decoded.obfuscated, true);
  assert.equal(decoded.format, 'PRECOMPUTED');
  assert.equal(decoded.salt, SALT);
  assert.equal(decoded.subjectKey, plain.subjectKey);
  assert.deepEqual(decoded.subjectAttributes, plain.subjectAttributes);
  assert.equal(decoded.fetchedAt, plain.fetchedAt);
  assert.equal(decoded.createdAt, plain.response.createdAt);
  assert.deepEqual(decoded.environment, plain.response.environment);
  // The salt is used verbatim (not base64-decoded): eppo-spec §6.5's worked example.
  assert.equal(md5Hex(SALT + 'string-flag'), '41a27b85ebdd7b1a5ae367a1a240a214');
  const flagKeys = Object.keys(plain.response.flags);
  assert.equal(flagKeys.length, 7);
  assert.equal(Object.keys(decoded.flags).length, 7);
  for (const key of flagKeys) assert.deepEqual(lookupPrecomputedFlag(decoded, key), plain.response.flags[key], key);
  const banditKeys = Object.keys(plain.response.bandits);
  assert.equal(banditKeys.length, 2);
  assert.equal(Object.keys(decoded.bandits).length, 2);
  for (const key of banditKeys) assert.deepEqual(lookupPrecomputedBandit(decoded, key), plain.response.bandits[key], key);
  assert.equal(lookupPrecomputedFlag(decoded, 'no-such-flag'), null);
  assert.equal(lookupPrecomputedBandit(decoded, 'boolean-flag'), null);
  // The deobfuscated form (obfuscated: false, response as an object) decodes to the same entries.
  const again = decodePrecomputed(readJson(dir, 'precomputed-v1-deobfuscated.json') as object);
  assert.equal(again.obfuscated, false);
  for (const key of flagKeys) assert.deepEqual(lookupPrecomputedFlag(again, key), plain.response.flags[key], key);
});

function subjects(): Array<{ subjectKey: string; subjectAttributes: Record<string, unknown> }> {
  const out = [];
  const dir = join(TEST_DATA, 'ufc', 'tests');
  for (const file of listJson(dir)) {
    for (const s of readJson<{ subjects: Array<{ subjectKey: string; subjectAttributes: Record<string, unknown> }> }>(dir, file).subjects.slice(0, 2)) out.push(s);
  }
  return out;
}

t('our envelope, decoded, holds each flag\'s own assignment under md5(salt + flagKey)', () => {
  if (!hasTestData('precomputed from client')) return;
  const client = offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1.json'), logger: quiet });
  const all = subjects();
  assert.ok(all.length >= 30);
  let compared = 0;
  for (const { subjectKey, subjectAttributes } of all) {
    const decoded = decodePrecomputed(client.getPrecomputedConfiguration(subjectKey, subjectAttributes, {}, SALT));
    assert.equal(decoded.salt, SALT);
    assert.equal(decoded.subjectKey, subjectKey);
    assert.equal(decoded.environment?.name, 'Test');
    const expectedKeys: string[] = [];
    for (const flagKey of client.getFlagKeys()) {
      const ev = client.evaluate(flagKey, subjectKey, subjectAttributes);
      const got = lookupPrecomputedFlag(decoded, flagKey);
      if (ev.allocationKey === null) {
        assert.equal(got, null, `${subjectKey} ${flagKey}`);
        continue;
      }
      expectedKeys.push(md5Hex(SALT + flagKey));
      assert.ok(got, `${subjectKey} ${flagKey} missing`);
      assert.equal(got.allocationKey, ev.allocationKey);
      assert.equal(got.variationKey, ev.variationKey);
      assert.equal(got.variationType, ev.variationType);
      assert.equal(got.doLog, ev.doLog);
      if (ev.code === 'MATCH') {
        const value = got.variationType === 'JSON' ? JSON.parse(got.variationValue as string) : got.variationValue;
        assert.deepEqual(value, ev.value, `${subjectKey} ${flagKey}`);
        compared++;
      }
    }
    assert.deepEqual(Object.keys(decoded.flags).sort(), expectedKeys.sort());
  }
  assert.ok(compared > 100, `only ${compared} values compared`);
});

t('our envelope has the shape of the shared file (same keys and types at every level)', () => {
  if (!hasTestData('precomputed shape')) return;
  const client = offlineInit({
    flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'),
    banditsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-models-v1.json'),
    logger: quiet,
  });
  const attrs = { numericAttributes: { age: 25, account_age: 3 }, categoricalAttributes: { country: 'USA', gender_identity: 'female' } };
  const actions = { banner_bandit_flag: { nike: { brand_affinity: 1.5, loyalty_tier: 'silver' }, adidas: { brand_affinity: -1, loyalty_tier: 'bronze' } } };
  const ours = JSON.parse(client.getPrecomputedConfiguration('alice', attrs, actions, SALT));
  const theirs = readJson<{ precomputed: { response: string } }>(TEST_DATA, 'configuration-wire', 'precomputed-v1.json');
  assert.deepEqual(Object.keys(ours), Object.keys(theirs));
  assert.deepEqual(Object.keys(ours.precomputed), Object.keys(theirs.precomputed));
  assert.equal(typeof ours.precomputed.response, 'string');
  const [r1, r2] = [JSON.parse(ours.precomputed.response), JSON.parse(theirs.precomputed.response)];
  assert.deepEqual(Object.keys(r1), Object.keys(r2));
  assert.deepEqual(shape(r1), shape(r2));
  assert.deepEqual(shape({ ...ours.precomputed, response: null }), shape({ ...theirs.precomputed, response: null }));
  assert.equal(r1.format, 'PRECOMPUTED');
  assert.equal(r1.obfuscated, true);
  assert.match(r1.createdAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  // The bandit entry is the draw getBanditAction makes for the same subject.
  const decoded = decodePrecomputed(JSON.stringify(ours));
  const bandit = lookupPrecomputedBandit(decoded, 'banner_bandit_flag');
  const direct = client.getBanditAction('banner_bandit_flag', 'alice', attrs, actions.banner_bandit_flag, 'default');
  assert.equal(lookupPrecomputedFlag(decoded, 'banner_bandit_flag')?.variationValue, direct.variation);
  assert.equal(bandit?.action, direct.action);
  assert.equal(bandit?.banditKey, 'banner_bandit');
  assert.equal(bandit?.modelVersion, '123');
  assert.ok(bandit.actionProbability > 0 && bandit.actionProbability <= 1);
  assert.deepEqual(bandit.actionNumericAttributes, { brand_affinity: actions.banner_bandit_flag[direct.action as 'nike'].brand_affinity });
  assert.deepEqual(bandit.actionCategoricalAttributes, { loyalty_tier: actions.banner_bandit_flag[direct.action as 'nike'].loyalty_tier });
  // Flags not named in banditActions get no bandit entry.
  assert.equal(Object.keys(decoded.bandits).length, 1);
});

t('the same flags and bandits as Eppo\'s getPrecomputedConfiguration for the same salt', () => {
  if (!hasTestData('precomputed vs Eppo')) return;
  const level = applicationLogger.level;
  applicationLogger.level = 'silent';
  try {
    for (const [flagsFile, withBandits] of [['flags-v1.json', false], ['bandit-flags-v1.json', true]] as const) {
      const config = readJson<Record<string, Record<string, unknown>>>(TEST_DATA, 'ufc', flagsFile);
      const models = readJson<{ bandits: Record<string, unknown> }>(TEST_DATA, 'ufc', 'bandit-models-v1.json');
      const client = offlineInit({ flagsConfiguration: config, banditsConfiguration: withBandits ? models : undefined, logger: quiet });
      const flags = new MemoryOnlyConfigurationStore<never>();
      void flags.setEntries(config.flags as Record<string, never>);
      flags.setEnvironment({ name: 'Test' });
      flags.setFormat('SERVER' as never);
      const byFlag: Record<string, unknown[]> = {};
      for (const ref of Object.values(config.banditReferences ?? {}) as Array<{ flagVariations: Array<{ flagKey: string }> }>) {
        for (const v of ref.flagVariations) (byFlag[v.flagKey] ??= []).push(v);
      }
      const variations = new MemoryOnlyConfigurationStore<never>();
      void variations.setEntries(byFlag as never);
      const banditStore = new MemoryOnlyConfigurationStore<never>();
      void banditStore.setEntries(models.bandits as never);
      const eppo = new EppoClient({ flagConfigurationStore: flags, banditVariationConfigurationStore: variations, banditModelConfigurationStore: banditStore });
      for (const { subjectKey, subjectAttributes } of [...subjects().slice(0, 20), { subjectKey: 'alice', subjectAttributes: { age: 25, country: 'USA', gender_identity: 'female' } }, { subjectKey: 'bob', subjectAttributes: { age: 40, country: 'UK' } }]) {
        const actions: Record<string, BanditActions> = withBandits ? { banner_bandit_flag: { nike: { brand_affinity: 2, loyalty_tier: 'gold' }, adidas: { brand_affinity: 0.5 }, reebok: {} }, car_bandit_flag: ['toyota', 'honda'], cold_start_bandit_flag: ['red', 'green', 'blue'] } : {};
        const ours = JSON.parse(JSON.parse(client.getPrecomputedConfiguration(subjectKey, subjectAttributes, actions, SALT)).precomputed.response);
        const theirs = JSON.parse(JSON.parse(eppo.getPrecomputedConfiguration(subjectKey, subjectAttributes as never, actions as never, SALT)).precomputed.response);
        // Eppo also repeats the hashed key inside each flag entry; the shared wire file does not.
        for (const f of Object.values(theirs.flags) as Array<Record<string, unknown>>) delete f.flagKey;
        assert.deepEqual(ours.flags, theirs.flags, `${flagsFile} ${subjectKey}`);
        assert.deepEqual(ours.bandits, theirs.bandits, `${flagsFile} ${subjectKey}`);
        assert.deepEqual(ours.environment, theirs.environment);
        if (withBandits) assert.ok(Object.keys(ours.bandits).length > 0);
      }
    }
  } finally {
    applicationLogger.level = level;
  }
});

t('without a salt, a random 16-byte base64 salt is used; values are UTF-8 base64', () => {
  if (!hasTestData('precomputed salt')) return;
  const client = offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1.json'), logger: quiet });
  const a = decodePrecomputed(client.getPrecomputedConfiguration('alice', { email: 'a@b.c' }));
  const b = decodePrecomputed(client.getPrecomputedConfiguration('alice', { email: 'a@b.c' }));
  assert.match(a.salt, /^[A-Za-z0-9+/]{22}==$/);
  assert.notEqual(a.salt, b.salt);
  assert.ok(Object.keys(a.flags).every((k) => /^[0-9a-f]{32}$/.test(k)));
  assert.deepEqual(lookupPrecomputedFlag(a, 'numeric_flag'), lookupPrecomputedFlag(b, 'numeric_flag'));
  assert.equal(encodeBase64('ñ€😀'), 'w7Higqzwn5iA');
  assert.throws(() => client.getPrecomputedConfiguration(''), TypeError);
});

t.run();
