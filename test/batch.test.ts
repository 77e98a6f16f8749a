// assignMany: every cell equals the single evaluation, on sdk-test-data and random configs; events honoured.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { type AssignmentEvent, type BatchSubject, type SaltshardClient, offlineInit } from '../src/mod.ts';
import { Rng, genConfig, genSubject } from './gen-config.ts';
import { ROOT, TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('batch');
const quiet = { error() {}, warn() {} };

function assertParity(client: SaltshardClient, subjects: BatchSubject[], flagKeys?: string[]) {
  const r = client.assignMany(subjects, flagKeys, { log: 'none' });
  const keys = flagKeys ?? client.getFlagKeys();
  assert.deepEqual(r.flagKeys, keys);
  subjects.forEach((s, i) => keys.forEach((flagKey, j) => {
    const e = client.evaluate(flagKey, s.subjectKey, s.subjectAttributes);
    const want = { subjectKey: s.subjectKey, flagKey, variationType: e.variationType, variationKey: e.variationKey, value: e.value, allocationKey: e.allocationKey, reason: e.code, doLog: e.doLog };
    assert.deepEqual(r.row(i, j), want, `${flagKey} / ${JSON.stringify(s)}`);
  }));
  return r;
}

t('assignMany() equals evaluate() for every sdk-test-data subject and flag, plain and obfuscated', () => {
  if (!hasTestData('batch conformance')) return;
  const subjects = listJson(join(TEST_DATA, 'ufc', 'tests')).flatMap((f) => readJson<{ subjects: BatchSubject[] }>(TEST_DATA, 'ufc', 'tests', f).subjects.map((s) => ({ subjectKey: s.subjectKey, subjectAttributes: s.subjectAttributes })));
  const plain = offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1.json'), logger: quiet });
  assertParity(plain, subjects);
  const obfuscated = offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'), logger: quiet });
  assertParity(obfuscated, subjects, plain.getFlagKeys());
});

t('assignMany() reads only own enumerable attributes, whatever the shapes of successive attribute objects', () => {
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  const client = offlineInit({ flagsConfiguration: config, logger: quiet });
  const base = { country: 'US', email: 'a@example.com', age: 30, sessions: 12, plan: 'pro' };
  const hidden = { ...base };
  Object.defineProperty(hidden, 'country', { enumerable: false, value: 'US' });
  const shapes: unknown[] = [
    base,
    { ...base },
    { age: 30, plan: 'pro', email: 'a@example.com', country: 'US' },
    { country: 'US', email: 'a@example.com' },
    Object.create(base),
    Object.assign(Object.create({ country: 'US' }), { email: 'a@example.com', age: 30 }),
    hidden,
    { ...base, id: 'other-id' },
    { ...base, id: undefined },
    Object.create(null),
    {},
    null,
  ];
  const subjects = Array.from({ length: 600 }, (_, i) => ({ subjectKey: `s${i}`, subjectAttributes: shapes[i % shapes.length] as BatchSubject['subjectAttributes'] }));
  assertParity(client, subjects);
});

t('assignMany() with an enumerable property added to Object.prototype: still only own attributes, as evaluate()', () => {
  const variations = { a: { key: 'a', value: 'a' }, b: { key: 'b', value: 'b' } };
  const flags = {
    // Told apart by an inherited value: FR matches ONE_OF, a missing country matches neither ONE_OF nor NOT_ONE_OF.
    'in-fr': { key: 'in-fr', enabled: true, variationType: 'STRING', totalShards: 10000, variations, allocations: [{ key: 'fr', rules: [{ conditions: [{ attribute: 'country', operator: 'ONE_OF', value: ['FR'] }] }], splits: [{ variationKey: 'a', shards: [] }], doLog: false }, { key: 'rest', splits: [{ variationKey: 'b', shards: [] }], doLog: false }] },
    'not-us': { key: 'not-us', enabled: true, variationType: 'STRING', totalShards: 10000, variations, allocations: [{ key: 'x', rules: [{ conditions: [{ attribute: 'country', operator: 'NOT_ONE_OF', value: ['US'] }, { attribute: 'age', operator: 'GTE', value: 30 }] }], splits: [{ variationKey: 'a', shards: [] }], doLog: false }] },
  };
  const client = offlineInit({ flagsConfiguration: { flags }, logger: quiet });
  const subjects = Array.from({ length: 600 }, (_, i) => ({ subjectKey: `p${i}`, subjectAttributes: { email: `u${i}@example.com`, age: 20 + (i % 40), ...(i % 3 ? { country: i % 2 ? 'US' : 'FR' } : {}) } }));
  // A polluted prototype (some libraries did this): for-in would list `country` for every subject.
  (Object.prototype as Record<string, unknown>).country = 'FR';
  try {
    assertParity(client, subjects);
  } finally {
    delete (Object.prototype as Record<string, unknown>).country;
  }
});

t('batches in a row reuse the rule engine\'s buffers without carrying anything over, a nested batch included', () => {
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  const client = offlineInit({ flagsConfiguration: config, logger: quiet });
  const all = client.getFlagKeys();
  const rng = new Rng(7);
  const countries = ['US', 'CA', 'FR', 'DE', 'JP'];
  const make = (n: number, tag: string): BatchSubject[] => Array.from({ length: n }, (_, i) => ({
    subjectKey: `${tag}-${i}`,
    // Every other batch leaves attributes out, so a cell reading a value left by the batch before would show.
    subjectAttributes: i % 3 === 0 && tag.endsWith('b') ? {} : { country: countries[rng.int(countries.length)], email: `u${i}@example.com`, age: rng.int(80), sessions: rng.int(50), plan: i % 2 ? 'pro' : 'free' },
  }));
  // Sizes around the engine's 8,192-subject chunk and its 256-subject sampling threshold; two flag lists.
  for (const [n, tag, flags] of [[9000, 'a', all], [9000, 'b', all], [300, 'c', all], [9000, 'd', all.slice(1)], [9000, 'e', all]] as const) {
    assertParity(client, make(n, tag), [...flags]);
  }
  // A getter of an attribute object runs a batch of its own while the outer one is being encoded.
  let inner: ReturnType<SaltshardClient['assignMany']> | undefined;
  const innerSubjects = make(2000, 'inner-b');
  const outer = make(2000, 'outer');
  Object.defineProperty(outer[500]!.subjectAttributes, 'country', {
    enumerable: true,
    get() {
      inner ??= client.assignMany(innerSubjects, all, { log: 'none' });
      return 'US';
    },
  });
  assertParity(client, outer, all);
  assert.ok(inner !== undefined);
  innerSubjects.forEach((s, i) => all.forEach((flagKey, j) => assert.deepEqual(inner!.value(i, j), client.evaluate(flagKey, s.subjectKey, s.subjectAttributes).value)));
});

t('assignMany() equals evaluate() on 100 random configs × 40 subjects', () => {
  for (let seed = 1; seed <= 100; seed++) {
    const rng = new Rng(seed);
    const client = offlineInit({ flagsConfiguration: genConfig(rng), logger: quiet });
    const subjects = Array.from({ length: 40 }, () => genSubject(rng)).map((s) => ({ subjectKey: s.key, subjectAttributes: s.attributes }));
    assertParity(client, subjects);
  }
});

t('assignMany() answers bad items per cell, unknown flags, and no config, without throwing', () => {
  const client = offlineInit({ flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8'), logger: quiet });
  const r = client.assignMany([{ subjectKey: '' }, null as never, { subjectKey: 5 } as never, { subjectKey: 'ok', subjectAttributes: 'x' as never }, { subjectKey: 'ok' }], ['new-search', 'nope']);
  assert.deepEqual([0, 1, 2, 3].map((i) => r.code(i, 0)), ['ASSIGNMENT_ERROR', 'ASSIGNMENT_ERROR', 'ASSIGNMENT_ERROR', 'ASSIGNMENT_ERROR']);
  assert.equal(r.code(4, 0), 'MATCH');
  assert.equal(r.code(4, 1), 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.equal(r.value(4, 1), null);
  assert.throws(() => client.assignMany('x' as never), TypeError);
  const empty = offlineInit({ flagsConfiguration: { flags: {} }, logger: quiet });
  assert.equal(empty.assignMany([{ subjectKey: 'a' }], ['f']).code(0, 0), 'FLAG_UNRECOGNIZED_OR_DISABLED');
  assert.equal(client.assignMany([], undefined).rows().next().done, true);
});

t('assignMany() sends exposure events with dedupe by default, and none with log: "none"', () => {
  const events: AssignmentEvent[] = [];
  const client = offlineInit({ flagsConfiguration: readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8'), logger: quiet, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  const subjects = Array.from({ length: 50 }, (_, i) => ({ subjectKey: `s${i}` }));
  client.assignMany(subjects, ['onboarding-copy'], { log: 'none' });
  assert.equal(events.length, 0);
  client.assignMany(subjects, ['onboarding-copy']);
  assert.equal(events.length, 50);
  client.assignMany(subjects, ['onboarding-copy']);
  assert.equal(events.length, 50, 'deduplicated like the getters');
  assert.equal(events[7].subject, 's7');
});

t('values(j), outcomeColumn(j) and valueTable(j) read every cell as value() does, JSON shared and frozen', () => {
  if (!hasTestData('batch columns')) return;
  const client = offlineInit({ flagsConfiguration: readText(TEST_DATA, 'ufc', 'flags-v1.json'), logger: quiet });
  const subjects = listJson(join(TEST_DATA, 'ufc', 'tests')).flatMap((f) => readJson<{ subjects: BatchSubject[] }>(TEST_DATA, 'ufc', 'tests', f).subjects.map((s) => ({ subjectKey: s.subjectKey, subjectAttributes: s.subjectAttributes })));
  const keys = client.getFlagKeys();
  const r = client.assignMany(subjects, keys, { log: 'none' });
  let json = 0;
  keys.forEach((flagKey, j) => {
    const values = r.values(j);
    const col = r.outcomeColumn(j);
    const table = r.valueTable(j);
    assert.equal(values.length, subjects.length);
    assert.equal(col.length, subjects.length);
    assert.equal(r.values(j), values, 'built once');
    assert.equal(table.length, r.outcomes(j));
    for (let i = 0; i < subjects.length; i++) {
      assert.deepEqual(values[i], r.value(i, j), `${flagKey} / ${subjects[i].subjectKey}`);
      assert.equal(values[i], table[col[i]]);
      assert.equal(col[i], r.outcomeIndex(i, j));
      if (values[i] !== null && typeof values[i] === 'object') {
        json++;
        assert.ok(Object.isFrozen(values[i]));
        assert.notEqual(r.value(i, j), values[i], 'value() still returns a fresh copy');
      }
    }
  });
  assert.ok(json > 0, 'the test data has JSON flags');
  const idx = r.outcomeIndexes();
  for (let i = 0; i < subjects.length; i++) for (let j = 0; j < keys.length; j++) assert.equal(idx[i * keys.length + j], r.outcomeIndex(i, j));
  assert.throws(() => r.values(keys.length), RangeError);
  assert.throws(() => r.outcomeColumn(-1), RangeError);
});

t('assignMany() builds no exposure evaluation nobody receives: no logger with a full queue, or a dedupe hit', () => {
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  // Attribute reads are counted: the engine reads each attribute once per subject; an event's evaluation re-reads them.
  let reads = 0;
  const subjects = Array.from({ length: 300 }, (_, i) => {
    const attrs: Record<string, unknown> = {};
    for (const [k, v] of Object.entries({ country: 'US', email: `u${i}@mail.test`, age: 30 + (i % 40), plan: 'pro' })) {
      Object.defineProperty(attrs, k, { enumerable: true, get: () => (reads++, v) });
    }
    return { subjectKey: `s${i}`, subjectAttributes: attrs };
  });
  const flags = offlineInit({ flagsConfiguration: config, logger: quiet }).getFlagKeys();
  const readsOf = (client: SaltshardClient, log?: 'none'): number => {
    reads = 0;
    client.assignMany(subjects, flags, log ? { log } : {});
    return reads;
  };
  const none = readsOf(offlineInit({ flagsConfiguration: config, logger: quiet }), 'none');
  // No logger: the first 100 events are queued (and built); after that, nothing is.
  const noLogger = offlineInit({ flagsConfiguration: config, logger: quiet });
  readsOf(noLogger);
  assert.equal(readsOf(noLogger), none, 'queue full: no event evaluations');
  // With a logger, a second identical batch is all dedupe hits.
  const events: AssignmentEvent[] = [];
  const logged = offlineInit({ flagsConfiguration: config, logger: quiet, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  assert.ok(readsOf(logged) > none, 'the first batch builds its events');
  const n = events.length;
  assert.ok(n > 0);
  assert.equal(readsOf(logged), none, 'dedupe hits: no event evaluations');
  assert.equal(events.length, n);
});

t('assignMany() with no logger counts every exposure past the full queue as dropped, and warns once', () => {
  const config = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
  const warnings: unknown[] = [];
  const client = offlineInit({ flagsConfiguration: config, logger: { error() {}, warn: (...a: unknown[]) => void warnings.push(a) } });
  const subjects = Array.from({ length: 200 }, (_, i) => ({ subjectKey: `s${i}`, subjectAttributes: { country: i % 2 ? 'US' : 'FR', age: i % 60 } }));
  const r = client.assignMany(subjects);
  let due = 0;
  for (const row of r.rows()) if (row.doLog && row.reason === 'MATCH') due++;
  assert.ok(due > 100, `${due} cells due an exposure`);
  assert.deepEqual(client.metrics().exposures, { logged: 0, deduped: 0, dropped: due - 100, failed: 0, pending: 100 });
  client.assignMany(subjects);
  assert.deepEqual(client.metrics().exposures, { logged: 0, deduped: 0, dropped: 2 * due - 100, failed: 0, pending: 100 });
  assert.equal(warnings.length, 1);
});

t.run();
