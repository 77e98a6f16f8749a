// Exposure events (eppo-spec §4): when they fire, their fields, dedupe, the pre-logger queue, failing loggers.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AssignmentEvent, type Logger, offlineInit } from '../src/mod.ts';
import { DedupeCache } from '../src/events/logger.ts';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { mulberry32 } from './gen-config.ts';
import { ROOT } from './support.ts';

const t = suite('events');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const US = { country: 'US', appVersion: '1.0.0' };

function setup(options: { cache?: number | false } = {}) {
  const events: AssignmentEvent[] = [];
  const logged: unknown[][] = [];
  const logger: Logger = { error: (...a) => void logged.push(a), warn: (...a) => void logged.push(a), info() {}, debug() {} };
  const client = offlineInit({ flagsConfiguration: CONFIG, assignmentLogger: { logAssignment: (e) => void events.push(e) }, logger, assignmentCacheSize: options.cache });
  return { client, events, logged };
}

t('an event fires only for a matched allocation with doLog, with the fields of eppo-spec §4.1', () => {
  const { client, events } = setup();
  const value = client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  assert.equal(events.length, 1);
  const e = events[0];
  assert.deepEqual(Object.keys(e).slice(0, 11), ['allocation', 'experiment', 'featureFlag', 'format', 'variation', 'subject', 'timestamp', 'subjectAttributes', 'metaData', 'evaluationDetails', 'entityId']);
  assert.equal(e.allocation, 'experiment');
  assert.equal(e.experiment, 'checkout-redesign-experiment');
  assert.equal(e.featureFlag, 'checkout-redesign');
  assert.equal(e.format, 'SERVER');
  assert.equal(e.variation, value);
  assert.equal(e.subject, 'user-1');
  assert.match(e.timestamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.equal(e.subjectAttributes, US);
  assert.deepEqual(Object.keys(e.metaData), ['obfuscated', 'sdkLanguage', 'sdkLibVersion', 'sdkName', 'sdkVersion']);
  assert.equal(e.metaData.obfuscated, false);
  assert.equal(e.evaluationDetails.flagEvaluationCode, 'MATCH');
  assert.equal(e.evaluationDetails.matchedAllocation?.key, 'experiment');
  assert.equal(e.entityId, null);
  if (value === 'treatment') assert.equal(e.owner, 'payments-team');
  // doLog false, default allocation, disabled, unknown and mistyped flags: no event.
  client.getStringAssignment('checkout-redesign', 'alice', { email: 'alice@example.com' }, 'none');
  client.getStringAssignment('checkout-redesign', 'user-1', { country: 'JP' }, 'none');
  client.getBooleanAssignment('legacy-banner', 'user-1', {}, false);
  client.getBooleanAssignment('missing', 'user-1', {}, false);
  client.getIntegerAssignment('checkout-redesign', 'user-1', US, 0);
  assert.equal(events.length, 1);
});

t('events of one outcome share their frozen parts; a description naming the subject is the event\'s own copy', () => {
  const { client, events } = setup();
  // checkout-redesign's experiment is a partial rollout (its MATCH description names the subject).
  for (let i = 1; i <= 20; i++) client.getStringAssignment('checkout-redesign', `user-${i}`, US, 'none');
  const byVariation = new Map<string, AssignmentEvent[]>();
  for (const e of events) byVariation.set(String(e.variation), [...(byVariation.get(String(e.variation)) ?? []), e]);
  const [a, b] = [...byVariation.values()].find((list) => list.length >= 2)!;
  assert.ok(a.evaluationDetails.flagEvaluationDescription.includes(a.subject));
  assert.notEqual(a.evaluationDetails, b.evaluationDetails);
  assert.ok(!Object.isFrozen(a.evaluationDetails) && !Object.isFrozen(b.evaluationDetails));
  assert.equal(a.metaData, b.metaData);
  assert.ok(Object.isFrozen(a.metaData));
  for (const part of ['matchedAllocation', 'matchedRule', 'unmatchedAllocations', 'unevaluatedAllocations'] as const) {
    assert.equal(a.evaluationDetails[part], b.evaluationDetails[part], part);
    assert.ok(Object.isFrozen(a.evaluationDetails[part]), part);
  }
  // A description without the subject: one frozen details object for every event of the outcome.
  client.getIntegerAssignment('results-per-page', 'user-1', { sessions: 500 }, 10);
  client.getIntegerAssignment('results-per-page', 'user-2', { sessions: 500 }, 10);
  const [c, d] = events.filter((e) => e.featureFlag === 'results-per-page');
  assert.ok(!c.evaluationDetails.flagEvaluationDescription.includes(c.subject));
  assert.equal(c.evaluationDetails, d.evaluationDetails);
  assert.ok(Object.isFrozen(c.evaluationDetails));
  // Changing one event's own copy reaches no other event.
  (a.evaluationDetails as { flagEvaluationDescription: string }).flagEvaluationDescription = 'changed by a logger';
  assert.ok(b.evaluationDetails.flagEvaluationDescription.includes(b.subject));
});

t('extraLogging is spread first and fixed fields win on collision', () => {
  const config = JSON.parse(CONFIG);
  const split = config.flags['checkout-redesign'].allocations[1].splits;
  for (const s of split) s.extraLogging = { owner: 'x', subject: 'overridden?' };
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: config, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  assert.equal(events[0].owner, 'x');
  assert.equal(events[0].subject, 'user-1');
  assert.equal(Object.keys(events[0])[0], 'owner');
});

t('dedupe: A,A logs once; A,B,A logs three times; attributes do not matter; capacity 0 logs every call', () => {
  const { client, events } = setup();
  client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  client.getStringAssignment('checkout-redesign', 'user-1', { ...US, plan: 'pro' }, 'none');
  assert.equal(events.length, 1);
  // Switch user-1 to the doLog=false internal allocation and back: still one event per change to a logged one.
  client.getStringAssignment('checkout-redesign', 'user-1', { email: 'x@example.com' }, 'none');
  client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  assert.equal(events.length, 1);
  // A different logged allocation in between re-enables logging (A, B, A).
  const { client: c2, events: e2 } = setup();
  const cfg = JSON.parse(CONFIG);
  c2.setConfiguration(cfg);
  c2.getIntegerAssignment('results-per-page', 'u', { sessions: 500 }, 0);
  cfg.flags['results-per-page'].allocations[0].key = 'power-users-v2';
  c2.setConfiguration(cfg);
  c2.getIntegerAssignment('results-per-page', 'u', { sessions: 500 }, 0);
  cfg.flags['results-per-page'].allocations[0].key = 'power-users';
  c2.setConfiguration(cfg);
  c2.getIntegerAssignment('results-per-page', 'u', { sessions: 500 }, 0);
  assert.deepEqual(e2.map((e) => e.allocation), ['power-users', 'power-users-v2', 'power-users']);
  const { client: c3, events: e3 } = setup({ cache: false });
  for (let i = 0; i < 3; i++) c3.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  assert.equal(e3.length, 3);
});

t('dedupe is a bounded LRU: evicted pairs log again', () => {
  const { client, events } = setup({ cache: 2 });
  for (const s of ['a', 'b', 'a', 'c', 'a', 'b']) client.getJSONAssignment('onboarding-copy', s, {}, {});
  // a, b logged; a deduped (refreshed); c evicts b; a deduped; b logs again.
  assert.deepEqual(events.map((e) => e.subject), ['a', 'b', 'c', 'b']);
});

t('DedupeCache = a plain LRU model over random has/set/forget sequences, with other pairs probed in between', () => {
  const rng = mulberry32(7);
  const rand = (n: number) => Math.floor(rng() * n);
  for (const max of [1, 2, 3, 8]) {
    const cache = new DedupeCache(max);
    const model: { key: string; value: string }[] = []; // most recent first
    const find = (key: string) => model.findIndex((e) => e.key === key);
    for (let step = 0; step < 5000; step++) {
      const flag = `f${rand(2)}`;
      const subject = `s${rand(5)}`;
      const key = `${flag}|${subject}`;
      const value = `v${rand(2)}`;
      const op = rand(10);
      if (op < 6) {
        // The getter's order: has(), sometimes a re-entrant probe of another pair, then set() on a miss.
        const at = find(key);
        const want = at >= 0 && model[at]!.value === value;
        if (at >= 0) model.unshift(...model.splice(at, 1));
        assert.equal(cache.has(flag, subject, value), want, `step ${step}: has ${key}=${value}`);
        if (rand(3) === 0) {
          const other = `s${rand(5)}`;
          if (rand(2) === 0) {
            const ok = find(`f0|${other}`);
            if (ok >= 0) model.unshift(...model.splice(ok, 1));
            cache.has('f0', other, 'v0');
          }
          if (rand(2) === 0) {
            const ok = find(`f0|${other}`);
            if (ok >= 0) {
              model[ok]!.value = 'v0';
              model.unshift(...model.splice(ok, 1));
            } else {
              model.unshift({ key: `f0|${other}`, value: 'v0' });
              if (model.length > max) model.pop();
            }
            cache.set('f0', other, 'v0');
          }
        }
        if (!want) {
          const again = find(key);
          if (again >= 0) {
            model[again]!.value = value;
            model.unshift(...model.splice(again, 1));
          } else {
            model.unshift({ key, value });
            if (model.length > max) model.pop();
          }
          cache.set(flag, subject, value);
        }
      } else if (op < 8) {
        const at = find(key);
        if (at >= 0 && model[at]!.value === value) model[at]!.value = '';
        cache.forget(flag, subject, value);
      } else {
        const at = find(key);
        if (at >= 0) model.unshift(...model.splice(at, 1));
        assert.equal(cache.has(flag, subject, value), at >= 0 && model[0]!.value === value, `step ${step}: has ${key}`);
      }
      assert.equal(cache.size, model.length);
    }
  }
});

t('a throwing logger never breaks the getter, is reported, and the next call tries again', () => {
  const logged: unknown[][] = [];
  let calls = 0;
  const client = offlineInit({
    flagsConfiguration: CONFIG,
    logger: { error: (...a) => void logged.push(a), warn() {}, info() {}, debug() {} },
    assignmentLogger: { logAssignment() { calls++; throw new Error('sink down'); } },
  });
  const a = client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  const b = client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  assert.equal(a, b);
  assert.notEqual(a, 'none');
  assert.equal(calls, 2);
  assert.equal(logged.length, 2);
  assert.match(String(logged[0]), /sink down/);
});

t('a rejecting async logger is caught, reported, and the pair logs again next time', async () => {
  const logged: unknown[][] = [];
  let calls = 0;
  const client = offlineInit({
    flagsConfiguration: CONFIG,
    logger: { error: (...a) => void logged.push(a), warn() {}, info() {}, debug() {} },
    assignmentLogger: { logAssignment: async () => { calls++; throw new Error('async sink down'); } },
  });
  client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  await new Promise((r) => setTimeout(r, 10));
  assert.match(String(logged[0]), /async sink down/);
  client.getStringAssignment('checkout-redesign', 'user-1', US, 'none');
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(calls, 2);
});

t('without a logger up to 100 events queue and flush in order when one is set; the rest are dropped with a warning', () => {
  const warnings: unknown[][] = [];
  const client = offlineInit({ flagsConfiguration: CONFIG, logger: { error() {}, warn: (...a) => void warnings.push(a), info() {}, debug() {} } });
  for (let i = 0; i < 150; i++) client.getJSONAssignment('onboarding-copy', `s${i}`, {}, {});
  assert.equal(warnings.length, 1);
  const events: AssignmentEvent[] = [];
  client.setAssignmentLogger({ logAssignment: (e) => void events.push(e) });
  assert.equal(events.length, 100);
  assert.deepEqual(events.slice(0, 3).map((e) => e.subject), ['s0', 's1', 's2']);
  // Queued events count as logged for dedupe.
  client.getJSONAssignment('onboarding-copy', 's0', {}, {});
  assert.equal(events.length, 100);
  client.getJSONAssignment('onboarding-copy', 's149', {}, {});
  assert.equal(events.length, 101);
});

t('a wrongly typed variation value still logs (as Eppo) while the getter returns the default', () => {
  const cfg = JSON.parse(CONFIG);
  cfg.flags['results-per-page'].variations.twenty.value = 20.5;
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: cfg, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  const d = client.getIntegerAssignmentDetails('results-per-page', 'u', { sessions: 500 }, -1);
  assert.equal(d.variation, -1);
  assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
  assert.equal(d.evaluationDetails.flagEvaluationDescription, 'Variation (twenty) is configured for type INTEGER, but is set to incompatible value (20.5)');
  assert.equal(events.length, 1);
  assert.equal(events[0].variation, 'twenty');
});

t('a subject key with a lone surrogate: logged once and deduped (Eppo\'s md5-keyed cache throws and never logs it)', () => {
  const key = 'user-\uD83D';
  const POWER_USER = { sessions: 200 }; // results-per-page: a logged allocation without shards, so no hashing of the key
  const doc = JSON.parse(CONFIG) as { flags: Record<string, never>; environment: { name: string }; createdAt: string; format: string };
  const eppoEvents = (cached: boolean) => {
    const store = new MemoryOnlyConfigurationStore<never>();
    void store.setEntries(doc.flags);
    store.setEnvironment(doc.environment);
    store.setConfigPublishedAt(doc.createdAt);
    store.setConfigFetchedAt(new Date().toISOString());
    store.setFormat(doc.format as never);
    const eppo = new EppoClient({ flagConfigurationStore: store });
    const events: unknown[] = [];
    eppo.setAssignmentLogger({ logAssignment: (e) => void events.push(e) });
    if (cached) eppo.useNonExpiringInMemoryAssignmentCache();
    const level = applicationLogger.level;
    applicationLogger.level = 'silent';
    try {
      for (let i = 0; i < 3; i++) assert.equal(eppo.getIntegerAssignment('results-per-page', key, POWER_USER, 0), 20);
    } finally {
      applicationLogger.level = level;
    }
    return events.length;
  };
  // Eppo: without a cache every call logs; with one, hashing the cache key throws and nothing is logged.
  assert.equal(eppoEvents(false), 3);
  assert.equal(eppoEvents(true), 0);
  // saltshard: the same value, and the exposure logged once, then deduped (its cache needs no md5); without a
  // cache every call logs, as Eppo's.
  for (const [cache, logged] of [[undefined, 1], [false, 3]] as const) {
    const { client, events } = setup({ cache });
    for (let i = 0; i < 3; i++) assert.equal(client.getIntegerAssignment('results-per-page', key, POWER_USER, 0), 20);
    assert.equal(events.length, logged);
    assert.equal(events[0]!.subject, key);
  }
});

t.run();
