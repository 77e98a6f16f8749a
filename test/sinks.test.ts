// Exposure sinks (saltshard/sinks) against a local collector that fails, stalls and restarts: every event the SDK
// logs is delivered (exactly once per messageId) or counted as dropped, never silently lost; the file sink rotates.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type AssignmentEvent, offlineInit } from '../src/mod.ts';
import { FileSink, SegmentSink, type Sink, type SinkStats, WebhookSink } from '../src/sinks.ts';
import { type Collector, type CollectorFault, startCollector } from './fake-collector.ts';
import { closedPort, sleep, waitFor } from './fake-eppo.ts';
import { mulberry32, obfuscate } from './gen-config.ts';
import { startScript } from './spawn.ts';
import { ROOT } from './support.ts';
import { SDK_VERSION } from '../src/version.ts';

const t = suite('sinks');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const US = { country: 'US', appVersion: '1.0.0' };
const quiet = { error() {}, warn() {}, info() {}, debug() {} };
const figures: Record<string, unknown> = {};

/** Log `n` exposures for distinct subjects through a real client into `sink`; returns the subjects logged. */
function logExposures(sink: Sink, n: number, prefix = 'u'): Set<string> {
  const subjects = new Set<string>();
  const client = offlineInit({
    flagsConfiguration: CONFIG,
    assignmentLogger: { logAssignment: (e: AssignmentEvent) => { subjects.add(e.subject); sink.logAssignment(e); } },
  });
  for (let i = 0; subjects.size < n; i++) client.getStringAssignment('checkout-redesign', `${prefix}-${i}`, US, 'none');
  return subjects;
}

/** The subjects the collector kept (first arrival per messageId). */
function keptSubjects(c: Collector, segment: boolean): string[] {
  return c.events.map((e) => String(segment ? e.userId : e.subject));
}

function balanced(s: SinkStats): void {
  assert.equal(s.accepted, s.delivered + s.dropped + s.queued + s.persisted, JSON.stringify(s));
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'saltshard-sinks-'));
}

t('Segment sink: 20 000 exposures through 500s, 429s, resets, stalls, late acks and a restart: each delivered exactly once', async () => {
  const c = await startCollector();
  const rand = mulberry32(17);
  const faults: CollectorFault[] = ['ok', 'ok', 'ok', 'ok', '500', '429', 'reset', 'stall', 'late'];
  c.plan = () => faults[Math.floor(rand() * faults.length)];
  c.stallMs = 400;
  const sink = new SegmentSink({ writeKey: 'wk', url: c.url, batchSize: 200, requestTimeoutMs: 150, retryBaseMs: 5, retryMaxMs: 50, flushIntervalMs: 20, maxQueue: 50_000, closeTimeoutMs: 120_000, logger: quiet, flushOnSignal: false });
  const subjects = logExposures(sink, 10_000, 'a');
  const restart = c.restart(300);
  for (const s of logExposures(sink, 10_000, 'b')) subjects.add(s);
  await restart;
  const stats = await sink.close();
  await c.close();
  balanced(stats);
  assert.equal(stats.accepted, 20_000);
  assert.equal(stats.dropped, 0);
  assert.equal(stats.delivered, 20_000);
  assert.equal(c.ids.size, 20_000, 'every event arrived');
  const kept = keptSubjects(c, true);
  assert.equal(new Set(kept).size, 20_000);
  assert.deepEqual(new Set(kept), subjects);
  const redelivered = [...c.ids.values()].reduce((s, n) => s + n - 1, 0);
  assert.ok(c.faults['500'] > 0 && c.faults['429'] > 0 && c.faults.stall > 0 && c.faults.late > 0 && c.faults.reset > 0, JSON.stringify(c.faults));
  // The Segment wire format.
  const e = c.events[0];
  assert.equal(e.type, 'track');
  assert.equal(e.event, 'Eppo Randomized Assignment');
  assert.equal((e.properties as AssignmentEvent).featureFlag, 'checkout-redesign');
  figures.segment = { events: 20_000, requests: c.requests, faults: c.faults, retries: stats.retries, redeliveredByLateAcks: redelivered, lost: 20_000 - c.ids.size, dropped: stats.dropped };
});

t('overflow: collector down, memory full → spill to disk → drop with a counter; back up: spilled events arrive', async () => {
  const port = await closedPort();
  const sink = new WebhookSink({ url: `http://127.0.0.1:${port}/v1/batch`, batchSize: 100, maxQueue: 500, maxSpillBytes: 1_500_000, requestTimeoutMs: 200, retryBaseMs: 5, retryMaxMs: 40, flushIntervalMs: 10, logger: quiet, flushOnSignal: false });
  const subjects = logExposures(sink, 5_000);
  await sleep(50);
  const during = sink.stats();
  balanced(during);
  assert.ok(during.memoryQueued <= 500 + 100, `memory bounded: ${during.memoryQueued}`);
  assert.ok(during.spilled > 0, 'spilled to disk');
  assert.ok(during.droppedBy.overflow > 0, 'then dropped, counted');
  const c = await startCollector(port);
  const stats = await sink.close();
  await c.close();
  balanced(stats);
  assert.equal(stats.queued, 0);
  assert.equal(c.ids.size + stats.dropped, 5_000, 'delivered + dropped = logged');
  assert.equal(stats.delivered, c.ids.size);
  for (const s of keptSubjects(c, false)) assert.ok(subjects.has(s));
  figures.overflow = { logged: 5_000, spilledAtPeak: during.spilled, delivered: c.ids.size, droppedOverflow: stats.droppedBy.overflow };
});

t('close deadline with the collector down: events persist in spillDir and the next sink delivers them', async () => {
  const port = await closedPort();
  const dir = tempDir();
  const opts = { url: `http://127.0.0.1:${port}/hook`, spillDir: dir, batchSize: 100, requestTimeoutMs: 100, retryBaseMs: 5, retryMaxMs: 20, closeTimeoutMs: 300, logger: quiet, flushOnSignal: false };
  const first = new WebhookSink(opts);
  logExposures(first, 1_000);
  const started = Date.now();
  const s1 = await first.close();
  assert.ok(Date.now() - started < 1_500, 'close() kept its deadline');
  balanced(s1);
  assert.equal(s1.persisted, 1_000);
  assert.equal(s1.dropped, 0);
  const c = await startCollector(port);
  const second = new WebhookSink(opts);
  await second.flush();
  const s2 = await second.close();
  await c.close();
  assert.equal(s2.delivered, 1_000);
  assert.equal(c.ids.size, 1_000);
  assert.deepEqual(readdirSync(dir), []);
});

t('a 4xx other than 408/429 drops the batch as rejected (counted, reported), later batches still go', async () => {
  const c = await startCollector();
  c.plan = (n) => (n === 0 ? '400' : 'ok');
  const warnings: string[] = [];
  const sink = new WebhookSink({ url: c.url, batchSize: 10, flushIntervalMs: 5, logger: { ...quiet, warn: (m: string) => void warnings.push(m) }, flushOnSignal: false });
  logExposures(sink, 30);
  const stats = await sink.close();
  await c.close();
  balanced(stats);
  assert.equal(stats.droppedBy.rejected, 10);
  assert.equal(c.ids.size, 20);
  assert.ok(warnings.some((w) => w.includes('HTTP 400')));
});

t('a logger that is not a sink is untouched; an event that cannot be serialized is counted as invalid', async () => {
  const c = await startCollector();
  const sink = new WebhookSink({ url: c.url, flushOnSignal: false, logger: quiet });
  const big = 10n;
  sink.logAssignment({ subject: 's', subjectAttributes: { big } } as unknown as AssignmentEvent);
  const stats = await sink.close();
  await c.close();
  assert.equal(stats.droppedBy.invalid, 1);
  balanced(stats);
  sink.logAssignment({ subject: 'after close' } as unknown as AssignmentEvent);
  assert.equal(sink.stats().droppedBy.closed, 1);
});

t('SIGTERM flushes a child process\'s queued events within the deadline, then the process ends', async () => {
  const c = await startCollector();
  const child = startScript('sink-child', [c.url, '3000']);
  await waitFor(`child ready: ${child.err()}`, () => child.out().includes('ready'), 30_000);
  const logged = Number(/ready (\d+)/.exec(child.out())![1]);
  assert.ok(logged > 2_000);
  assert.equal(c.ids.size, 0, 'nothing sent before the signal');
  const t0 = Date.now();
  child.child.kill('SIGTERM');
  await Promise.race([child.exited, sleep(10_000)]);
  assert.notEqual(child.child.exitCode ?? child.child.signalCode, null, 'the process ended');
  await c.close();
  assert.equal(c.ids.size, logged, `all events arrived: ${child.err()}`);
  figures.sigterm = { events: logged, msToExit: Date.now() - t0 };
});

t('file sink: NDJSON lines, rotated by size and by time, every event in exactly one file', async () => {
  const dir = tempDir();
  const rotated: string[] = [];
  const sink = new FileSink({ path: join(dir, 'exposures.ndjson'), rotateBytes: 200_000, batchSize: 100, flushIntervalMs: 5, onRotate: (f) => void rotated.push(f), flushOnSignal: false });
  const subjects = logExposures(sink, 3_000);
  const stats = await sink.close();
  balanced(stats);
  assert.equal(stats.delivered, 3_000);
  const files = readdirSync(dir).sort();
  assert.ok(files.length > 3, files.join());
  assert.equal(rotated.length, files.length - 1);
  const seen: string[] = [];
  for (const f of files) {
    const text = readFileSync(join(dir, f), 'utf8');
    assert.ok(text.length <= 200_000 + 100_000);
    assert.ok(text.endsWith('\n'));
    for (const line of text.split('\n').filter(Boolean)) seen.push((JSON.parse(line) as AssignmentEvent).subject);
  }
  assert.equal(seen.length, 3_000);
  assert.deepEqual(new Set(seen), subjects);
  // By time: a file older than the interval is rotated before the next write.
  const timed = new FileSink({ path: join(dir, 'timed.ndjson'), rotateIntervalMs: 30, batchSize: 10, flushIntervalMs: 5, flushOnSignal: false });
  logExposures(timed, 10, 'x');
  await timed.flush();
  await sleep(60);
  logExposures(timed, 10, 'y');
  await timed.close();
  assert.equal(readdirSync(dir).filter((f) => f.startsWith('timed.')).length, 2);
});

t('file sink: every line is byte-equal to JSON.stringify of the event the logger received (shared parts, mutated and user-built events)', async () => {
  const dir = tempDir();
  const sink = new FileSink({ path: join(dir, 'exact.ndjson'), batchSize: 50, flushIntervalMs: 5, flushOnSignal: false });
  const expected: string[] = [];
  const log = (e: unknown): void => {
    let text: string | undefined;
    try {
      text = JSON.stringify(e);
    } catch {
      // JSON.stringify throws: the sink counts the event as invalid, writes nothing.
    }
    if (text !== undefined) expected.push(text);
    sink.logAssignment(e as AssignmentEvent);
  };
  // Events of a real client: every flag type, extraLogging, partial rollouts, obfuscated and plain configs.
  const events: AssignmentEvent[] = [];
  for (const obfuscated of [false, true]) {
    const config = obfuscated ? JSON.stringify(obfuscate(JSON.parse(CONFIG))) : CONFIG;
    const client = offlineInit({ flagsConfiguration: config, assignmentLogger: { logAssignment: (e: AssignmentEvent) => { events.push(e); log(e); } } });
    for (let i = 0; i < 400; i++) {
      const attrs = i % 3 === 0 ? US : { country: ['FR', 'DE', 'US'][i % 3], appVersion: `1.${i % 7}.0`, tier: i % 2 === 0 ? 'gold' : 'free', n: i };
      const subject = i % 50 === 7 ? `quote"back\\slash\n\u0001-${i}-\ud800-😀` : `s-${i}`;
      client.getStringAssignment('checkout-redesign', subject, attrs, 'none');
      client.getBooleanAssignment('new-search', subject, attrs, false);
      client.getIntegerAssignment('results-per-page', subject, attrs, 10);
      client.getNumericAssignment('price-multiplier', subject, attrs, 1);
      client.getJSONAssignment('onboarding-copy', subject, attrs, {});
    }
  }
  assert.ok(events.length >= 1_000, String(events.length));
  // The client's shared parts are deep-frozen: a logger cannot change them for later events (details whose
  // description names the subject are the event's own copy, their nested parts shared: test/events.test.ts).
  assert.ok(Object.isFrozen(events[0].metaData) && Object.isFrozen(events[0].evaluationDetails.unevaluatedAllocations));
  // Mutated events: fields changed, added, removed, reordered; shared parts replaced by mutable copies changed between logs.
  const base = events[1];
  const mutable = structuredClone(base) as AssignmentEvent;
  for (let i = 0; i < 30; i++) {
    log({ ...base, subject: `m-${i}` });
    log({ ...base, extra: i, timestamp: i % 2 === 0 ? base.timestamp : undefined });
    const { featureFlag: _, ...rest } = base;
    log(i % 3 === 0 ? rest : { featureFlag: base.featureFlag, ...rest });
    (mutable.evaluationDetails as { variationValue: unknown }).variationValue = i % 4 === 0 ? { nested: [i, null, 'x'] } : i;
    (mutable.subjectAttributes as Record<string, unknown>).n = i % 5 === 0 ? Number.NaN : i % 5 === 1 ? -0 : i % 5 === 2 ? Infinity : `v${i}`;
    log(mutable);
    log({ ...base, evaluationDetails: { ...base.evaluationDetails, matchedRule: i % 2 === 0 ? null : { conditions: [{ attribute: 'a', operator: 'ONE_OF', value: [String(i)] }] } } });
    // A frozen object around a mutable one: the inner change must show.
    const inner = { v: i };
    const frozen = Object.freeze({ inner });
    for (let k = 0; k < 3; k++) {
      log({ ...base, metaData: frozen });
      inner.v = i * 10 + k;
    }
  }
  // User-built events and values only JSON.stringify handles: toJSON, Dates, getters, holes, null prototypes, odd keys.
  const nullProto = Object.assign(Object.create(null), { a: 1 });
  let reads = 0;
  const users: unknown[] = [
    { subject: 'u1', featureFlag: 'f', n: 1 },
    { subject: 'u2', featureFlag: 'f', n: 2 },
    { toJSON: () => ({ replaced: true }) },
    { subject: 'u3', at: new Date(0), fn: () => 1, sym: Symbol('s'), u: undefined },
    { subject: 'u4', nested: { toJSON: (key: string) => `key:${key}` } },
    { get subject() { reads++; return 'getter'; }, featureFlag: 'f', n: 3 },
    { get subject() { reads++; return 'getter'; }, featureFlag: 'f', n: 4 },
    { 2: 'two', 1: 'one', b: [1, , 3], c: nullProto, '\u2028"': 'line sep', d: { e: { f: { g: { h: { i: 'deep' } } } } } },
    Object.freeze({ subject: 'frozen', list: Object.freeze([1, 2]) }),
    Object.freeze({ subject: 'frozen', list: Object.freeze([1, 2]) }),
    new (class Custom { subject = 'class instance'; })(),
    { subject: 'big', n: 10n },
    [1, 2, 3],
  ];
  for (const u of users) log(u);
  assert.equal(reads, 4, 'a getter is read once by the sink, as by JSON.stringify');
  // A toJSON on Object.prototype applies to every object, cached ones included.
  (Object.prototype as { toJSON?: unknown }).toJSON = function () { return 'proto'; };
  try {
    log(events[2]);
  } finally {
    delete (Object.prototype as { toJSON?: unknown }).toJSON;
  }
  log(events[2]);
  const stats = await sink.close();
  assert.equal(stats.droppedBy.invalid, 1, 'the BigInt event');
  const lines = readFileSync(join(dir, 'exact.ndjson'), 'utf8').split('\n');
  assert.equal(lines.pop(), '');
  assert.equal(lines.length, expected.length);
  for (let i = 0; i < lines.length; i++) assert.equal(lines[i], expected[i], `line ${i}`);
  figures.fileSinkExactLines = lines.length;
});

t('Segment sink: each track call is byte-equal to JSON.stringify of the call built from the event (client and user-built events)', () => {
  class Exposed extends SegmentSink {
    text(e: AssignmentEvent, kind: 'assignment' | 'bandit'): string {
      return this.line(e, kind);
    }
  }
  const sink = new Exposed({ writeKey: 'wk', url: 'http://127.0.0.1:9/', flushOnSignal: false, assignmentEventName: 'Exposure "quoted"' });
  const events: unknown[] = [];
  const client = offlineInit({ flagsConfiguration: CONFIG, assignmentLogger: { logAssignment: (e: AssignmentEvent) => void events.push(e) } });
  for (let i = 0; i < 300; i++) {
    const subject = i % 50 === 7 ? `quote"back\\slash\n\u0001-${i}-\ud800-😀` : `s-${i}`;
    client.getStringAssignment('checkout-redesign', subject, i % 2 ? US : { country: 'FR', n: i }, 'none');
    client.getJSONAssignment('onboarding-copy', subject, US, {});
  }
  const base = events[0] as AssignmentEvent;
  events.push({ ...base, timestamp: undefined }, { ...base, subject: 7 }, { ...base, subject: undefined }, { ...base, timestamp: new Date(0) },
    { ...base, toJSON: (key: string) => `key:${key}` }, { subject: 'u', nested: { toJSON: (key: string) => key } }, Object.freeze({ subject: 'frozen' }));
  let checked = 0;
  const check = (e: unknown, kind: 'assignment' | 'bandit'): void => {
    const text = sink.text(e as AssignmentEvent, kind);
    // (With a toJSON on Object.prototype the whole call serializes to its result, messageId and all.)
    const messageId = /"messageId":"([^"]+)"/.exec(text)?.[1];
    const ev = e as AssignmentEvent;
    const expected = JSON.stringify({
      type: 'track', event: kind === 'assignment' ? 'Exposure "quoted"' : 'Eppo Bandit Action', userId: ev.subject, messageId, timestamp: ev.timestamp,
      properties: ev, context: { library: { name: 'saltshard', version: SDK_VERSION } },
    });
    assert.equal(text, expected, `event ${checked}`);
    checked++;
  };
  for (const e of events) check(e, 'assignment');
  check(events[3], 'bandit');
  (Object.prototype as { toJSON?: unknown }).toJSON = function () { return 'proto'; };
  try {
    check(events[2], 'assignment');
  } finally {
    delete (Object.prototype as { toJSON?: unknown }).toJSON;
  }
  assert.ok(checked > 500, String(checked));
  void sink.close();
});

t.after(() => console.log('figures', JSON.stringify(figures)));
t.run();
