// Contextual bandits (eppo-spec §6.4, §4.5, §10 item 26): the sdk-test-data cases, scoring, weights and the floor,
// ties, no actions, unknown bandits, BANDIT_ERROR, events and failing loggers, and a differential run against
// Eppo's own client on random models (actions, probabilities and optimality gaps must be bit-identical).
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { type BanditEvent, ConfigError, type Logger, offlineInit, parseBanditModels } from '../src/mod.ts';
import { normalizeActions, scoreActions, topAction, weighActions } from '../src/bandits/evaluate.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('bandits');
const quiet: Logger = { error() {}, warn() {}, info() {}, debug() {} };

interface BanditCase {
  flag: string;
  defaultValue: string;
  subjects: Array<{
    subjectKey: string;
    subjectAttributes: { numericAttributes: Record<string, unknown>; categoricalAttributes: Record<string, unknown> };
    actions: Array<{ actionKey: string; numericAttributes: Record<string, unknown>; categoricalAttributes: Record<string, unknown> }>;
    assignment: { variation: string; action: string | null };
  }>;
}

// A one-flag config whose only variation "b" is served to everyone and runs bandit "bk".
function banditFlagConfig(): Record<string, unknown> {
  return {
    createdAt: '2024-01-01T00:00:00.000Z',
    format: 'SERVER',
    environment: { name: 'Test' },
    flags: {
      f: {
        key: 'f', enabled: true, variationType: 'STRING', totalShards: 10000,
        variations: { b: { key: 'b', value: 'b' }, c: { key: 'c', value: 'c' } },
        allocations: [{ key: 'a', rules: [], splits: [{ variationKey: 'b', shards: [] }], doLog: true }],
      },
    },
    banditReferences: { bk: { modelVersion: 'v1', flagVariations: [{ key: 'bk', flagKey: 'f', allocationKey: 'a', variationKey: 'b', variationValue: 'b' }] } },
  };
}

function coefficients(actionKey: string, intercept: number, extra: Record<string, unknown> = {}) {
  return { actionKey, intercept, subjectNumericCoefficients: [], subjectCategoricalCoefficients: [], actionNumericCoefficients: [], actionCategoricalCoefficients: [], ...extra };
}

function models(modelData: Record<string, unknown>, banditKey = 'bk') {
  return { updatedAt: '2024-01-01T00:00:00.000Z', bandits: { [banditKey]: { banditKey, modelName: 'falcon', modelVersion: 'v1', updatedAt: '2024-01-01T00:00:00.000Z', modelData } } };
}

const SIMPLE = models({ gamma: 1, defaultActionScore: 0, actionProbabilityFloor: 0, coefficients: { x: coefficients('x', 1), y: coefficients('y', 2) } });

t('all 35 subjects of ufc/bandit-tests (incl. .dynamic-typing) get the expected variation and action', () => {
  if (!hasTestData('bandit-tests')) return;
  for (const kernel of ['wasm', 'js'] as const) {
    const client = offlineInit({
      flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'),
      banditsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-models-v1.json'),
      kernel, logger: quiet, assignmentLogger: { logAssignment() {} }, banditLogger: { logBanditAction() {} },
    });
    const dir = join(TEST_DATA, 'ufc', 'bandit-tests');
    let count = 0;
    let dynamic = 0;
    for (const file of listJson(dir)) {
      const c = readJson<BanditCase>(dir, file);
      for (const s of c.subjects) {
        const actions = Object.fromEntries(s.actions.map((a) => [a.actionKey, { numericAttributes: a.numericAttributes, categoricalAttributes: a.categoricalAttributes }]));
        const got = client.getBanditAction(c.flag, s.subjectKey, s.subjectAttributes, actions, c.defaultValue);
        assert.deepEqual(got, s.assignment, `${file} ${s.subjectKey} (${kernel})`);
        count++;
        if (file.includes('.dynamic-typing')) dynamic++;
      }
    }
    assert.equal(count, 35);
    assert.equal(dynamic, 8);
  }
});

t('details carry banditKey and banditAction; the bandit event has the fields of eppo-spec §4.5 and is deduped', () => {
  if (!hasTestData('bandit details')) return;
  const events: BanditEvent[] = [];
  const client = offlineInit({
    flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'),
    banditsConfiguration: readJson(TEST_DATA, 'ufc', 'bandit-models-v1.json'),
    logger: quiet, banditLogger: { logBanditAction: (e) => void events.push(e) },
  });
  const subject = { numericAttributes: { age: 25 }, categoricalAttributes: { country: 'USA', gender_identity: 'female' } };
  const actions = {
    nike: { numericAttributes: { brand_affinity: 1.5 }, categoricalAttributes: { loyalty_tier: 'silver' } },
    adidas: { numericAttributes: { brand_affinity: -1.0 }, categoricalAttributes: { loyalty_tier: 'bronze' } },
    reebok: { numericAttributes: { brand_affinity: 0.5 }, categoricalAttributes: { loyalty_tier: 'gold' } },
  };
  const d = client.getBanditActionDetails('banner_bandit_flag', 'alice', subject, actions, 'default');
  assert.equal(d.variation, 'banner_bandit');
  assert.equal(d.action, 'nike');
  assert.equal(d.evaluationDetails.flagEvaluationCode, 'MATCH');
  assert.equal(d.evaluationDetails.banditKey, 'banner_bandit');
  assert.equal(d.evaluationDetails.banditAction, 'nike');
  assert.equal(events.length, 1);
  const e = events[0]!;
  assert.deepEqual(Object.keys(e), ['timestamp', 'featureFlag', 'bandit', 'subject', 'action', 'actionProbability', 'optimalityGap', 'modelVersion',
    'subjectNumericAttributes', 'subjectCategoricalAttributes', 'actionNumericAttributes', 'actionCategoricalAttributes', 'metaData', 'evaluationDetails']);
  assert.equal(e.featureFlag, 'banner_bandit_flag');
  assert.equal(e.bandit, 'banner_bandit');
  assert.equal(e.subject, 'alice');
  assert.equal(e.action, 'nike');
  assert.equal(e.modelVersion, '123');
  assert.ok(typeof e.actionProbability === 'number' && e.actionProbability > 0 && e.actionProbability <= 1);
  assert.ok(typeof e.optimalityGap === 'number' && e.optimalityGap >= 0);
  assert.deepEqual(e.subjectNumericAttributes, { age: 25 });
  assert.deepEqual(e.actionCategoricalAttributes, { loyalty_tier: 'silver' });
  assert.equal(e.evaluationDetails?.banditKey, 'banner_bandit');
  // Same (bandit, action) for the pair: no second event; another subject: a new one.
  client.getBanditAction('banner_bandit_flag', 'alice', subject, actions, 'default');
  assert.equal(events.length, 1);
  client.getBanditAction('banner_bandit_flag', 'bob', subject, actions, 'default');
  assert.equal(events.length, 2);
  // The export round-trips.
  assert.deepEqual(JSON.parse(client.getBanditsConfiguration()!), readJson(TEST_DATA, 'ufc', 'bandit-models-v1.json'));
});

t('scoring: intercept + subject/action numeric and categorical terms, missing values, stringified categoricals', () => {
  const m = parseBanditModels(models({
    gamma: 1, defaultActionScore: -7, actionProbabilityFloor: 0,
    coefficients: {
      a: coefficients('a', 1, {
        subjectNumericCoefficients: [{ attributeKey: 'age', coefficient: 0.5, missingValueCoefficient: -3 }],
        subjectCategoricalCoefficients: [{ attributeKey: 'zip', valueCoefficients: { '303': 10, 'true': 4 }, missingValueCoefficient: 0.25 }],
        actionNumericCoefficients: [{ attributeKey: 'price', coefficient: 2, missingValueCoefficient: 100 }],
        actionCategoricalCoefficients: [{ attributeKey: 'tier', valueCoefficients: { gold: 8, '': 99 }, missingValueCoefficient: -1 }],
      }),
    },
  })).bandits.get('bk')!.modelData;
  const score = (subject: Record<string, Record<string, unknown>>, action: Record<string, Record<string, unknown>>, key = 'a') =>
    scoreActions({ numericAttributes: subject.n ?? {}, categoricalAttributes: subject.c ?? {} }, [[key, { numericAttributes: action.n ?? {}, categoricalAttributes: action.c ?? {} }]], m)[0]![1];
  assert.equal(score({ n: { age: 10 }, c: { zip: '303' } }, { n: { price: 3 }, c: { tier: 'gold' } }), 1 + 5 + 10 + 6 + 8);
  // A number in the categorical bucket is stringified; a boolean too.
  assert.equal(score({ n: { age: 10 }, c: { zip: 303 } }, { n: { price: 3 }, c: { tier: 'gold' } }), 30);
  assert.equal(score({ n: { age: 10 }, c: { zip: true } }, { n: { price: 3 }, c: { tier: 'gold' } }), 24);
  // Non-numbers (and non-finite numbers) in the numeric bucket use the missing-value coefficient.
  assert.equal(score({ n: { age: 'oops' }, c: { zip: '303' } }, { n: { price: Infinity }, c: { tier: 'gold' } }), 1 - 3 + 10 + 100 + 8);
  // Absent, unknown and empty-string categories are missing.
  assert.equal(score({ n: { age: 0 } }, { n: { price: 0 }, c: { tier: '' } }), 1 + 0 + 0.25 + 0 - 1);
  assert.equal(score({ n: { age: 0 }, c: { zip: 'constructor' } }, { n: { price: 0 }, c: { tier: 'toString' } }), 1 + 0.25 - 1);
  // An action without coefficients scores defaultActionScore.
  assert.equal(score({}, {}, 'zzz'), -7);
});

t('weights: inverse-gap for non-top actions, the top takes the rest; the probability floor', () => {
  const w = Object.fromEntries(weighActions([['a', 1], ['b', 3], ['c', 2]], 2, 0));
  assert.equal(w.a, 1 / (3 + 2 * 2));
  assert.equal(w.c, 1 / (3 + 2 * 1));
  assert.equal(w.b, 1 - (1 / 7 + 1 / 5));
  // With a large gamma the floor (floor / n) binds.
  const f = Object.fromEntries(weighActions([['a', 0], ['b', 10], ['c', 9]], 100, 0.3));
  assert.equal(f.a, 0.3 / 3);
  assert.equal(f.c, 0.3 / 3);
  assert.equal(f.b, 1 - (0.3 / 3 + 0.3 / 3));
  // Order: non-top actions in input order, then the top one.
  assert.deepEqual(weighActions([['a', 0], ['b', 10], ['c', 9]], 100, 0.3).map(([k]) => k), ['a', 'c', 'b']);
  assert.deepEqual(weighActions([], 1, 0), []);
});

t('ties: the top action is the lexicographically smaller key, whatever the order', () => {
  assert.equal(topAction([['b', 2], ['a', 2], ['c', 1]])!.action, 'a');
  assert.equal(topAction([['a', 2], ['b', 2]])!.action, 'a');
  assert.equal(topAction([['B', 2], ['a', 2]])!.action, 'B');
  assert.equal(topAction([]), null);
  const w = Object.fromEntries(weighActions([['b', 2], ['a', 2]], 1, 0));
  assert.equal(w.b, 0.5);
  assert.equal(w.a, 0.5);
});

t('actions as string[], flat records and ContextAttributes records are normalized in JS key order', () => {
  assert.deepEqual(normalizeActions(['x', '10', '2']).map(([k]) => k), ['2', '10', 'x']);
  assert.deepEqual(normalizeActions({ x: { price: 3, tier: 'gold', ok: true } }), [['x', { numericAttributes: { price: 3 }, categoricalAttributes: { tier: 'gold', ok: true } }]]);
  const ctx = { numericAttributes: { price: 'x' }, categoricalAttributes: { n: 1 } };
  assert.deepEqual(normalizeActions({ x: ctx }), [['x', ctx]]);
  assert.deepEqual(normalizeActions(null), []);
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet });
  const a = client.getBanditAction('f', 's1', { age: 3 }, ['x', 'y'], 'd');
  assert.deepEqual(client.getBanditAction('f', 's1', { age: 3 }, { x: {}, y: {} }, 'd'), a);
  assert.deepEqual(client.getBanditAction('f', 's1', { numericAttributes: { age: 3 }, categoricalAttributes: {} }, { x: { numericAttributes: {}, categoricalAttributes: {} }, y: { numericAttributes: {}, categoricalAttributes: {} } }, 'd'), a);
});

t('no actions: the variation with action null, banditKey set, no event', () => {
  const events: BanditEvent[] = [];
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet, banditLogger: { logBanditAction: (e) => void events.push(e) } });
  for (const actions of [[], {}, null]) {
    const d = client.getBanditActionDetails('f', 'alice', {}, actions, 'd');
    assert.equal(d.variation, 'b');
    assert.equal(d.action, null);
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'MATCH');
    assert.equal(d.evaluationDetails.banditKey, 'bk');
    assert.equal(d.evaluationDetails.banditAction, null);
  }
  assert.equal(events.length, 0);
});

t('unknown bandit, non-bandit variation, unknown flag: the variation or default with action null', () => {
  // The reference names a bandit the models do not have.
  const noModel = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: models(JSON.parse(JSON.stringify(SIMPLE.bandits.bk.modelData)), 'other'), logger: quiet });
  const d = noModel.getBanditActionDetails('f', 'alice', {}, ['x', 'y'], 'd');
  assert.deepEqual([d.variation, d.action, d.evaluationDetails.banditKey, d.evaluationDetails.flagEvaluationCode], ['b', null, null, 'MATCH']);
  // No models loaded at all.
  const none = offlineInit({ flagsConfiguration: banditFlagConfig(), logger: quiet });
  assert.deepEqual(none.getBanditAction('f', 'alice', {}, ['x'], 'd'), { variation: 'b', action: null });
  // A flag without a bandit reference, and a missing flag.
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet });
  assert.deepEqual(client.getBanditAction('missing', 'alice', {}, ['x'], 'd'), { variation: 'd', action: null });
  const missing = client.getBanditActionDetails('missing', 'alice', {}, ['x'], 'd');
  assert.equal(missing.evaluationDetails.flagEvaluationCode, 'FLAG_UNRECOGNIZED_OR_DISABLED');
});

t('a failure in the bandit part keeps the variation and reports BANDIT_ERROR', () => {
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet });
  const d = client.getBanditActionDetails('f', 'alice', {}, 42 as never, 'd');
  assert.equal(d.variation, 'b');
  assert.equal(d.action, null);
  assert.equal(d.evaluationDetails.flagEvaluationCode, 'BANDIT_ERROR');
  assert.match(d.evaluationDetails.flagEvaluationDescription, /^Error evaluating bandit action: actions must be/);
  // A malformed banditReferences block is reported the same way, at use.
  const bad = banditFlagConfig();
  bad.banditReferences = { bk: { modelVersion: 'v1', flagVariations: 'nope' } };
  const d2 = offlineInit({ flagsConfiguration: bad, banditsConfiguration: SIMPLE, logger: quiet }).getBanditActionDetails('f', 'alice', {}, ['x'], 'd');
  assert.equal(d2.evaluationDetails.flagEvaluationCode, 'BANDIT_ERROR');
  assert.match(d2.evaluationDetails.flagEvaluationDescription, /\$\.banditReferences\.bk\.flagVariations must be an array/);
});

t('a throwing or rejecting bandit logger never breaks the call, and the event is retried', async () => {
  const errors: unknown[][] = [];
  const logger: Logger = { error: (...a) => void errors.push(a), warn() {}, info() {}, debug() {} };
  let calls = 0;
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger, banditLogger: { logBanditAction() { calls++; throw new Error('boom'); } } });
  const first = client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd');
  assert.equal(first.variation, 'b');
  assert.ok(first.action === 'x' || first.action === 'y');
  assert.deepEqual(client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd'), first);
  assert.equal(calls, 2);
  assert.ok(errors.some((e) => String(e[0]).includes('Bandit logger threw')));
  let rejected = 0;
  client.setBanditLogger({ logBanditAction: () => { rejected++; return Promise.reject(new Error('later')); } });
  client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd');
  await new Promise((r) => setTimeout(r, 10));
  client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd');
  assert.equal(rejected, 2);
  assert.ok(errors.some((e) => String(e[0]).includes('Bandit logger rejected')));
});

t('events wait for a logger (bounded queue) and are flushed in order', () => {
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet });
  client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd');
  client.getBanditAction('f', 'bob', {}, ['x', 'y'], 'd');
  const got: string[] = [];
  client.setBanditLogger({ logBanditAction: (e) => void got.push(e.subject) });
  assert.deepEqual(got, ['alice', 'bob']);
});

t('bad bandit models are rejected with the JSON path; the previous models stay', () => {
  assert.throws(() => parseBanditModels({}), (e: unknown) => e instanceof ConfigError && e.path === '$.bandits');
  assert.throws(() => parseBanditModels('{"bandits": {"b": {"banditKey": "b", "modelVersion": "1", "modelData": {"gamma": "1"}}}}'),
    (e: unknown) => e instanceof ConfigError && e.path === '$.bandits.b.modelData.gamma' && /must be a finite number, got string/.test(e.message));
  const bad = models({ gamma: 1, defaultActionScore: 0, actionProbabilityFloor: 0, coefficients: { 'a-1': coefficients('a-1', 1, { actionCategoricalCoefficients: [{ attributeKey: 't', valueCoefficients: { g: 'x' }, missingValueCoefficient: 0 }] }) } });
  assert.throws(() => parseBanditModels(bad), (e: unknown) => e instanceof ConfigError && e.path === '$.bandits.bk.modelData.coefficients["a-1"].actionCategoricalCoefficients[0].valueCoefficients.g');
  assert.throws(() => parseBanditModels(42), TypeError);
  assert.throws(() => parseBanditModels('{'), SyntaxError);
  const client = offlineInit({ flagsConfiguration: banditFlagConfig(), banditsConfiguration: SIMPLE, logger: quiet });
  assert.throws(() => client.setBanditConfiguration(bad), ConfigError);
  assert.notEqual(client.getBanditAction('f', 'alice', {}, ['x', 'y'], 'd').action, null);
  assert.throws(() => offlineInit({ flagsConfiguration: banditFlagConfig(), banditLogger: {} as never }), TypeError);
});

// Differential: Eppo's client with the same flag and random models; everything must match exactly.
class Rng {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0;
  }
  next(): number {
    this.#s = (Math.imul(this.#s, 1664525) + 1013904223) >>> 0;
    return this.#s / 2 ** 32;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  num(): number {
    return Math.round((this.next() * 20 - 10) * 1000) / 1000 + (this.next() < 0.3 ? this.next() : 0);
  }
}

const ACTION_KEYS = ['nike', 'adidas', 'reebok', 'puma', '1', '10', '2', 'a b', 'zeta', 'Ω'];
const ATTRS = ['age', 'zip', 'tier', 'score', 'flag'];
const CATS = ['gold', 'silver', '303', 'true', ''];

function randomModel(r: Rng, actions: string[]): Record<string, unknown> {
  const coefs: Record<string, unknown> = {};
  const numeric = () => Array.from({ length: r.int(3) }, () => ({ attributeKey: r.pick(ATTRS), coefficient: r.num(), missingValueCoefficient: r.num() }));
  const categorical = () => Array.from({ length: r.int(3) }, () => ({ attributeKey: r.pick(ATTRS), valueCoefficients: Object.fromEntries(CATS.filter(() => r.next() < 0.5).map((c) => [c, r.num()])), missingValueCoefficient: r.num() }));
  for (const a of actions) {
    if (r.next() < 0.2) continue;
    coefs[a] = { actionKey: a, intercept: r.num(), subjectNumericCoefficients: numeric(), subjectCategoricalCoefficients: categorical(), actionNumericCoefficients: numeric(), actionCategoricalCoefficients: categorical() };
  }
  const gamma = r.pick([0, 0.5, 1, 7.3, 100]);
  const floor = r.pick([0, 0, 0.1, 0.5, 0.99]);
  return { gamma, defaultActionScore: r.num(), actionProbabilityFloor: floor, coefficients: coefs };
}

function randomAttributes(r: Rng): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of ATTRS) {
    if (r.next() < 0.3) continue;
    out[k] = r.pick<unknown>([r.num(), r.pick(CATS), true, null, 303, 'oops']);
  }
  return out;
}

t('differential against Eppo\'s client on 300 random models: variation, action, probability and gap bit-identical', () => {
  const level = applicationLogger.level;
  applicationLogger.level = 'silent';
  try {
    const r = new Rng(20240611);
    const config = banditFlagConfig();
    let drawn = 0;
    for (let i = 0; i < 300; i++) {
      const actions = ACTION_KEYS.filter(() => r.next() < 0.6);
      const modelData = randomModel(r, ACTION_KEYS);
      const params = models(modelData);
      const ours: BanditEvent[] = [];
      const client = offlineInit({ flagsConfiguration: config, banditsConfiguration: params, logger: quiet, kernel: i % 2 ? 'js' : 'wasm', banditLogger: { logBanditAction: (e) => void ours.push(e) } });
      const flags = new MemoryOnlyConfigurationStore<never>();
      void flags.setEntries(config.flags as Record<string, never>);
      flags.setEnvironment({ name: 'Test' });
      flags.setFormat('SERVER' as never);
      const variations = new MemoryOnlyConfigurationStore<never>();
      void variations.setEntries({ f: (config.banditReferences as { bk: { flagVariations: never } }).bk.flagVariations } as never);
      const banditStore = new MemoryOnlyConfigurationStore<never>();
      void banditStore.setEntries(params.bandits as never);
      const eppo = new EppoClient({ flagConfigurationStore: flags, banditVariationConfigurationStore: variations, banditModelConfigurationStore: banditStore });
      const theirs: Array<Record<string, unknown>> = [];
      eppo.setBanditLogger({ logBanditAction: (e) => void theirs.push(e as never) });
      const subjectKey = `subject-${i}`;
      const flat = r.next() < 0.5;
      const subject = flat ? randomAttributes(r) : { numericAttributes: randomAttributes(r), categoricalAttributes: randomAttributes(r) };
      const kind = r.int(3);
      const actionArg = kind === 0 ? actions
        : kind === 1 ? Object.fromEntries(actions.map((a) => [a, randomAttributes(r)]))
          : Object.fromEntries(actions.map((a) => [a, { numericAttributes: randomAttributes(r), categoricalAttributes: randomAttributes(r) }]));
      const mine = client.getBanditActionDetails('f', subjectKey, subject, actionArg, 'd');
      const expected = eppo.getBanditActionDetails('f', subjectKey, subject as never, actionArg as never, 'd');
      const label = `case ${i}: ${JSON.stringify({ actions: actionArg, subject, modelData })}`;
      assert.equal(mine.variation, expected.variation, label);
      assert.equal(mine.action, expected.action, label);
      assert.equal(mine.evaluationDetails.flagEvaluationCode, expected.evaluationDetails.flagEvaluationCode, label);
      assert.equal(mine.evaluationDetails.flagEvaluationDescription, expected.evaluationDetails.flagEvaluationDescription, label);
      assert.equal(ours.length, theirs.length, label);
      if (theirs.length) {
        drawn++;
        assert.ok(Object.is(ours[0]!.actionProbability, theirs[0]!.actionProbability), `${label}: probability ${ours[0]!.actionProbability} vs ${theirs[0]!.actionProbability}`);
        assert.ok(Object.is(ours[0]!.optimalityGap, theirs[0]!.optimalityGap), `${label}: gap`);
        assert.deepEqual(ours[0]!.actionNumericAttributes, theirs[0]!.actionNumericAttributes, label);
        assert.deepEqual(ours[0]!.subjectCategoricalAttributes, theirs[0]!.subjectCategoricalAttributes, label);
      }
    }
    assert.ok(drawn > 250, `only ${drawn} draws`);
  } finally {
    applicationLogger.level = level;
  }
});

t.run();
