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

t.run();
