// Operator metrics: client.metrics() counters are exact after a known sequence of calls (getters, batches,
// dedupe, a throwing and a rejecting logger, no logger, a custom cache, a sink), and the server's /metrics is valid
// Prometheus text exposition (0.0.4) carrying the same figures.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { FileSink } from '../src/sinks.ts';
import { createApp } from '../src/server/app.ts';
import { ROOT, TEST_DATA, hasTestData, readText } from './support.ts';

const t = suite('metrics');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const quiet = { error() {}, warn() {} };

t('client.metrics(): exact counts after a known sequence of getter and batch calls', () => {
  const events: unknown[] = [];
  const client = offlineInit({ flagsConfiguration: CONFIG, logger: quiet, assignmentLogger: { logAssignment: (e) => void events.push(e) } });
  const m0 = client.metrics();
  assert.equal(m0.evaluations, 0);
  assert.deepEqual(m0.exposures, { logged: 0, deduped: 0, dropped: 0, failed: 0, pending: 0 });
  assert.equal(m0.sink, null);
  assert.equal(m0.polling, null);
  assert.deepEqual([m0.config.loaded, m0.config.flags, m0.config.source], [true, 6, 'offline']);
  assert.ok(m0.config.ageSeconds !== null && m0.config.ageSeconds >= 0 && m0.config.ageSeconds < 60);

  // onboarding-copy: one allocation with doLog and no rules, so every subject is logged once.
  for (let i = 0; i < 3; i++) client.getJSONAssignment('onboarding-copy', 'a', {}, {}); // 1 logged, 2 deduped
  client.getJSONAssignmentDetails('onboarding-copy', 'b', {}, {}); // logged
  client.getStringAssignment('onboarding-copy', 'a', {}, 'x'); // TYPE_MISMATCH: default
  client.getBooleanAssignment('no-such-flag', 'a', {}, false); // default
  client.getBooleanAssignment('legacy-banner', 'a', {}, false); // disabled: default
  client.getStringAssignment('checkout-redesign', '', {}, 'd'); // blank subject: ASSIGNMENT_ERROR
  client.evaluate('onboarding-copy', 'z'); // counted, never logged
  let m = client.metrics();
  assert.deepEqual([m.evaluations, m.defaults, m.errors, m.batchEvaluations], [9, 4, 1, 0]);
  assert.deepEqual(m.exposures, { logged: 2, deduped: 2, dropped: 0, failed: 0, pending: 0 });

  // A batch of 3 subjects × 2 flags: 6 cells; onboarding-copy logs c and finds a and b deduped.
  client.assignMany([{ subjectKey: 'a' }, { subjectKey: 'b' }, { subjectKey: 'c' }], ['onboarding-copy', 'legacy-banner']);
  m = client.metrics();
  assert.equal(m.batchEvaluations, 6);
  assert.equal(m.evaluations, 9, 'batch cells are counted apart');
  assert.deepEqual(m.exposures, { logged: 3, deduped: 4, dropped: 0, failed: 0, pending: 0 });
  assert.equal(events.length, m.exposures.logged);
});

t('client.metrics(): failed, dropped and pending exposures, and a custom cache', async () => {
  let mode: 'throw' | 'reject' = 'throw';
  const client = offlineInit({
    flagsConfiguration: CONFIG, logger: quiet,
    assignmentLogger: { logAssignment: () => (mode === 'throw' ? (() => { throw new Error('boom'); })() : Promise.reject(new Error('later'))) },
  });
  client.getJSONAssignment('onboarding-copy', 'a', {}, {}); // throws: failed, not remembered
  client.getJSONAssignment('onboarding-copy', 'a', {}, {}); // so tried again: failed
  mode = 'reject';
  client.getJSONAssignment('onboarding-copy', 'b', {}, {}); // returns a promise: logged, until it rejects
  assert.deepEqual(client.metrics().exposures, { logged: 1, deduped: 0, dropped: 0, failed: 2, pending: 0 });
  await new Promise((r) => setTimeout(r, 10));
  assert.deepEqual(client.metrics().exposures, { logged: 0, deduped: 0, dropped: 0, failed: 3, pending: 0 });

  // No logger: 100 events wait, the rest are dropped and counted; setting a logger delivers the 100.
  const late: unknown[] = [];
  const noLogger = offlineInit({ flagsConfiguration: CONFIG, logger: quiet });
  for (let i = 0; i < 50; i++) noLogger.getJSONAssignment('onboarding-copy', `s${i}`, {}, {});
  noLogger.getJSONAssignment('onboarding-copy', 's0', {}, {}); // deduped while queued
  for (let i = 50; i < 130; i++) noLogger.getJSONAssignment('onboarding-copy', `s${i}`, {}, {});
  // Once the queue is full nothing can receive an event: dropped without a dedupe lookup, repeats included.
  noLogger.getJSONAssignment('onboarding-copy', 's1', {}, {});
  assert.deepEqual(noLogger.metrics().exposures, { logged: 0, deduped: 1, dropped: 31, failed: 0, pending: 100 });
  noLogger.setAssignmentLogger({ logAssignment: (e) => void late.push(e) });
  assert.deepEqual(noLogger.metrics().exposures, { logged: 100, deduped: 1, dropped: 31, failed: 0, pending: 0 });
  noLogger.getJSONAssignment('onboarding-copy', 's1', {}, {}); // delivered earlier from the queue: deduped
  assert.deepEqual(noLogger.metrics().exposures, { logged: 100, deduped: 2, dropped: 31, failed: 0, pending: 0 });
  assert.equal(late.length, 100);

  // Eppo's custom cache interface, synchronous and asynchronous: its hits count as deduped.
  for (const async of [false, true]) {
    const store = new Map<string, string>();
    const key = (e: { subjectKey: string; flagKey: string }) => `${e.subjectKey}|${e.flagKey}`;
    const value = (e: object) => JSON.stringify(Object.entries(e).filter(([k]) => k !== 'subjectKey' && k !== 'flagKey'));
    const sync = { has: (e: any) => store.get(key(e)) === value(e), set: (e: any) => void store.set(key(e), value(e)) };
    const cache = async ? { has: async (e: any) => sync.has(e), set: async (e: any) => sync.set(e) } : sync;
    const logged: unknown[] = [];
    const c = offlineInit({ flagsConfiguration: CONFIG, logger: quiet, assignmentLogger: { logAssignment: (e) => void logged.push(e) } });
    c.useCustomAssignmentCache(cache);
    c.getJSONAssignment('onboarding-copy', 'a', {}, {});
    await new Promise((r) => setTimeout(r, 5));
    c.getJSONAssignment('onboarding-copy', 'a', {}, {});
    c.getJSONAssignment('onboarding-copy', 'b', {}, {});
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(c.metrics().exposures, { logged: 2, deduped: 1, dropped: 0, failed: 0, pending: 0 }, `async ${async}`);
    assert.equal(logged.length, 2);
  }
});

t('client.metrics(): a saltshard sink as the logger reports its queue depth', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-metrics-'));
  const sink = new FileSink({ path: join(dir, 'exposures.ndjson'), flushIntervalMs: 60_000, flushOnSignal: false });
  try {
    const client = offlineInit({ flagsConfiguration: CONFIG, logger: quiet, assignmentLogger: sink });
    for (let i = 0; i < 5; i++) client.getJSONAssignment('onboarding-copy', `s${i}`, {}, {});
    let m = client.metrics();
    assert.deepEqual([m.sink?.accepted, m.sink?.queued, m.sink?.delivered], [5, 5, 0]);
    await sink.flush();
    m = client.metrics();
    assert.deepEqual([m.sink?.accepted, m.sink?.queued, m.sink?.delivered], [5, 0, 5]);
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t('client.metrics(): bandit events logged, deduped, failed, dropped and pending', async () => {
  if (!hasTestData('bandit metrics')) return;
  const subject = { numericAttributes: { age: 25 }, categoricalAttributes: { country: 'USA' } };
  const actions = { nike: { brand_affinity: 1.5 }, adidas: { brand_affinity: -1.0 } };
  let mode: 'ok' | 'throw' | 'reject' | 'reject-at-once' = 'ok';
  const events: unknown[] = [];
  let attempts = 0;
  const client = offlineInit({
    flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'), banditsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-models-v1.json'), logger: quiet,
    banditLogger: {
      logBanditAction: (e) => {
        attempts++;
        if (mode === 'ok') return void events.push(e);
        if (mode === 'throw') throw new Error('boom');
        // A thenable whose `then` rejects before returning.
        if (mode === 'reject-at-once') return { then: (_ok: unknown, fail: (err: unknown) => void) => fail(new Error('at once')) } as unknown as Promise<void>;
        return Promise.reject(new Error('later'));
      },
    },
  });
  client.getBanditAction('banner_bandit_flag', 'alice', subject, actions, 'default'); // logged
  client.getBanditAction('banner_bandit_flag', 'alice', subject, actions, 'default'); // deduped
  mode = 'throw';
  client.getBanditAction('banner_bandit_flag', 'bob', subject, actions, 'default'); // failed
  mode = 'reject';
  client.getBanditAction('banner_bandit_flag', 'carol', subject, actions, 'default'); // logged, then failed
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(events.length, 1);
  assert.deepEqual(client.metrics().banditEvents, { logged: 1, deduped: 1, dropped: 0, failed: 2, pending: 0 });
  // A rejection inside `then` leaves the draw unremembered: the same subject's next call tries again.
  mode = 'reject-at-once';
  attempts = 0;
  client.getBanditAction('banner_bandit_flag', 'dave', subject, actions, 'default');
  client.getBanditAction('banner_bandit_flag', 'dave', subject, actions, 'default');
  assert.equal(attempts, 2);
  assert.deepEqual(client.metrics().banditEvents, { logged: 1, deduped: 1, dropped: 0, failed: 4, pending: 0 });
  // Without a bandit logger: 100 events wait, the rest are dropped (how many subjects draw a bandit: counted on a logging twin).
  const twinEvents: unknown[] = [];
  const make = (banditLogger?: { logBanditAction(e: unknown): void }) => offlineInit({
    flagsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-flags-v1.json'), banditsConfiguration: readText(TEST_DATA, 'ufc', 'bandit-models-v1.json'), logger: quiet, banditLogger,
  });
  const twin = make({ logBanditAction: (e) => void twinEvents.push(e) });
  const noLogger = make();
  for (let i = 0; i < 300; i++) {
    twin.getBanditAction('banner_bandit_flag', `s${i}`, subject, actions, 'default');
    noLogger.getBanditAction('banner_bandit_flag', `s${i}`, subject, actions, 'default');
  }
  assert.ok(twinEvents.length > 100, `${twinEvents.length} bandit events`);
  assert.deepEqual(noLogger.metrics().banditEvents, { logged: 0, deduped: 0, dropped: twinEvents.length - 100, failed: 0, pending: 100 });
  assert.deepEqual(twin.metrics().banditEvents, { logged: twinEvents.length, deduped: 0, dropped: 0, failed: 0, pending: 0 });
});

interface Family {
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

/** A strict reader of the Prometheus text format 0.0.4: throws on any line it does not accept. */
function parseExposition(text: string): Map<string, Family> {
  assert.ok(text.endsWith('\n'), 'ends with a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  let current: string | null = null;
  const familyOf = (sample: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = sample.slice(0, -suffix.length);
      if (sample.endsWith(suffix) && families.get(base)?.type === 'histogram') return base;
    }
    return sample;
  };
  const open = (name: string): Family => {
    if (current !== name) {
      assert.ok(!closed.has(name), `metric family ${name} is split`);
      if (current !== null) closed.add(current);
      current = name;
    }
    let f = families.get(name);
    if (f === undefined) families.set(name, (f = { type: 'untyped', help: '', samples: [] }));
    return f;
  };
  for (const line of text.slice(0, -1).split('\n')) {
    let m = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (m) {
      const f = open(m[2]);
      if (m[1] === 'TYPE') {
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(m[3]), line);
        assert.equal(f.samples.length, 0, `TYPE after samples: ${line}`);
        f.type = m[3];
      } else f.help = m[3];
      continue;
    }
    m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(m, `not a sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let at = 0;
      while (at < m[2].length) {
        const l = re.exec(m[2]);
        assert.ok(l, `bad labels: ${line}`);
        labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1');
        at = re.lastIndex;
      }
    }
    const value = m[3] === 'NaN' ? Number.NaN : m[3] === '+Inf' ? Infinity : Number(m[3]);
    assert.ok(m[3] === 'NaN' || !Number.isNaN(value), `bad value: ${line}`);
    const f = open(familyOf(m[1]));
    if (f.type === 'counter') assert.ok(value >= 0 && m[1].endsWith('_total'), `counter ${m[1]}`);
    f.samples.push({ name: m[1], labels, value });
  }
  return families;
}

const sample = (families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number => {
  const f = families.get(name);
  assert.ok(f, `no family ${name}`);
  const s = f.samples.find((x) => Object.entries(labels).every(([k, v]) => x.labels[k] === v));
  assert.ok(s, `no sample ${name} ${JSON.stringify(labels)}`);
  return s.value;
};

t('/metrics: valid Prometheus exposition with the client counters, sink queue and config gauges', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-metrics-'));
  const sink = new FileSink({ path: join(dir, 'exposures.ndjson'), flushIntervalMs: 60_000, flushOnSignal: false });
  try {
    const client = offlineInit({ flagsConfiguration: CONFIG, logger: quiet, assignmentLogger: sink });
    const server = createApp({ client });
    const post = (path: string, body: unknown) => server.fetch(new Request(`http://127.0.0.1${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }));
    for (const key of ['u1', 'u2', 'u1']) assert.equal((await post('/ofrep/v1/evaluate/flags/onboarding-copy', { context: { targetingKey: key } })).status, 200);
    assert.equal((await post('/v1/assign/batch', { subjects: [{ subjectKey: 'a' }, { subjectKey: 'b' }], flags: ['price-multiplier', 'new-search'] })).status, 200);
    client.getBooleanAssignment('no-such-flag', 'a', {}, false);
    const res = await server.fetch(new Request('http://127.0.0.1/metrics'));
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parseExposition(await res.text());
    const m = client.metrics();
    assert.equal(families.get('saltshard_client_evaluations_total')?.type, 'counter');
    assert.equal(sample(families, 'saltshard_client_evaluations_total'), m.evaluations);
    assert.equal(m.evaluations, 4);
    assert.equal(sample(families, 'saltshard_client_defaults_total'), 1);
    assert.equal(sample(families, 'saltshard_client_batch_evaluations_total'), 4);
    assert.equal(sample(families, 'saltshard_exposures_total', { outcome: 'logged' }), m.exposures.logged);
    assert.equal(sample(families, 'saltshard_exposures_total', { outcome: 'deduped' }), m.exposures.deduped);
    assert.ok(m.exposures.logged >= 2 && m.exposures.deduped >= 1);
    assert.equal(sample(families, 'saltshard_sink_queue_depth'), m.exposures.logged, 'nothing flushed yet');
    assert.equal(sample(families, 'saltshard_sink_dropped_total', { reason: 'overflow' }), 0);
    assert.equal(families.get('saltshard_sink_queue_depth')?.type, 'gauge');
    assert.equal(sample(families, 'saltshard_flags'), 6);
    assert.ok(sample(families, 'saltshard_config_age_seconds') >= 0);
    assert.equal(families.get('saltshard_http_request_duration_seconds')?.type, 'histogram');
    assert.equal(sample(families, 'saltshard_bandit_events_total', { outcome: 'logged' }), 0);
    for (const [name, f] of families) assert.ok(f.help !== '' && f.type !== 'untyped', `${name} has HELP and TYPE`);
  } finally {
    await sink.close();
    rmSync(dir, { recursive: true, force: true });
  }
});

t.run();
