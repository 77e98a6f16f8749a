// The live client against a fake Eppo server on 127.0.0.1 (reliability-plan §8 A and E): every fault with getters
// running in a loop (thrown must be 0), the last good config served during the fault, recovery within one polling
// interval of the server recovering, init/createClient/getInstance, and the SDK key never leaking.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { type InitOptions, type SaltshardClient, type SyncStatus, createClient, getInstance, init } from '../src/mod.ts';
import { DEFAULT_BASE_URL, configBaseUrl, keySubdomain } from '../src/live/endpoint.ts';
import { type FakeEppo, type Fault, type FaultPlan, type LoopReport, captureLogger, closedPort, configText, getterLoop, sleep, startFakeEppo, waitFor } from './fake-eppo.ts';

const t = suite('live');

/** Polling interval of every scenario, and the slack allowed on top of it for one request and one getter tick. */
const INTERVAL = 100;
const MARGIN = 60;
const KEY = 'sk-test-key-1';
const OK: Fault = { kind: 'ok' };
const figures: Record<string, unknown> = {};

interface Live {
  fake: FakeEppo;
  client: SaltshardClient;
  loop: LoopReport;
  log: ReturnType<typeof captureLogger>;
  status(): SyncStatus;
  done(): Promise<void>;
}

/** A fake server serving config 1, a client initialised from it, and a getter loop. */
async function live(options: Partial<InitOptions> = {}): Promise<Live> {
  const fake = await startFakeEppo(configText(1));
  const log = captureLogger();
  const client = await init({ apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: INTERVAL, requestTimeoutMs: 1_000, logger: log.logger, ...options });
  const loop = getterLoop(client);
  await waitFor('config 1', () => loop.current === 1, 1_000);
  return {
    fake, client, loop, log,
    status: () => client.syncStatus() as SyncStatus,
    async done() {
      loop.stop();
      client.close();
      await fake.close();
    },
  };
}

/**
 * Let one normal poll pass, then serve `fault` for `ms` while config 2 waits behind it, then recover.
 * @returns the polls during the fault, the config versions served during it, and the recovery latency.
 */
async function outage(l: Live, fault: FaultPlan, ms: number) {
  await sleep(INTERVAL * 1.5);
  const start = Date.now();
  l.fake.plan = fault;
  l.fake.setConfig(configText(2));
  await sleep(ms);
  const end = Date.now();
  l.fake.plan = OK;
  await waitFor('config 2 after recovery', () => l.loop.current === 2, 5_000);
  const served = l.loop.firstSeen(2)!;
  const polls = l.fake.configRequests().filter((r) => r.at >= start && r.at < end);
  const gaps = polls.slice(1).map((r, i) => r.at - polls[i].at);
  const stalled = l.loop.stalledMs(start, served);
  return { polls: polls.length, maxGap: Math.max(0, ...gaps), during: l.loop.valuesBetween(start, end), recoveryMs: served - end, stalled };
}

/** Requests answered by plan entries n in [from, to), config 2 behind them: for faults that last per request. */
function faultFor(from: number, to: number, fault: Fault): FaultPlan {
  return (n) => (n >= from && n < to ? fault : OK);
}

t('getInstance() throws before init', () => {
  assert.throws(() => getInstance(), /call init\(\) before getInstance\(\)/);
});

t('init resolves with the first config and getInstance() returns it; the request carries Eppo query parameters', async () => {
  const l = await live();
  try {
    assert.equal(getInstance(), l.client);
    const [first] = l.fake.configRequests();
    assert.equal(first.path, '/api/flag-config/v1/config');
    assert.deepEqual(Object.keys(first.query), ['apiKey', 'sdkName', 'sdkVersion']);
    assert.equal(first.query.apiKey, KEY);
    assert.equal(l.status().source, 'network');
    assert.equal(l.loop.thrown, 0);
  } finally {
    await l.done();
  }
});

t('createClient returns at once; waitForInitialization resolves true when the (slow) first config arrives', async () => {
  const fake = await startFakeEppo(configText(1));
  fake.plan = { kind: 'slow', ms: 300 };
  const started = Date.now();
  const client = createClient({ apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: INTERVAL, logger: captureLogger().logger });
  const returnedIn = Date.now() - started;
  const loop = getterLoop(client);
  try {
    assert.ok(returnedIn < 250, `createClient took ${returnedIn} ms (the first response takes 300 ms)`);
    assert.equal(client.isInitialized(), false);
    assert.equal(client.getIntegerAssignment('config-version', 'u', {}, -1), -1);
    assert.equal(await client.waitForInitialization(), true);
    const waited = Date.now() - started;
    assert.ok(waited >= 295, `resolved after ${waited} ms, before the response`);
    assert.equal(client.getIntegerAssignment('config-version', 'u', {}, -1), 1);
    assert.equal(loop.thrown, 0);
    figures.createClientReturnMs = returnedIn;
  } finally {
    loop.stop();
    client.close();
    await fake.close();
  }
});

t('init rejects with a clear message and no key when the server is down and there is no cache', async () => {
  const port = await closedPort();
  const log = captureLogger();
  const started = Date.now();
  const err = await init({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/api`, pollingIntervalMs: INTERVAL, logger: log.logger }).then(
    () => assert.fail('init resolved'),
    (e: unknown) => e as Error,
  );
  assert.ok(err instanceof Error);
  assert.match(err.message, /initial config fetch failed/);
  assert.match(err.message, /network error/);
  assert.ok(!err.message.includes(KEY) && !String(err.stack).includes(KEY));
  assert.ok(Date.now() - started < 2_000);
  // Two attempts (numInitialRequestRetries 1): the outage is warned once, the retry goes to debug; no key anywhere.
  assert.equal(log.text('warn').length, 1);
  assert.equal(log.text('debug').length, 1);

  const fake = await startFakeEppo();
  fake.plan = { kind: 'status', status: 500 };
  try {
    await assert.rejects(init({ apiKey: KEY, baseUrl: fake.baseUrl, logger: log.logger }), /initial config fetch failed \(Config fetch failed: HTTP 500\)/);
    assert.equal(fake.configRequests().length, 2);
    // No polling after a failed start (Eppo's default): nothing more arrives.
    await sleep(150);
    assert.equal(fake.configRequests().length, 2);
  } finally {
    await fake.close();
  }
});

t('throwOnFailedInitialization:false resolves; defaults are served; with pollAfterFailedInitialization the config arrives within one interval of the server coming up', async () => {
  const fake = await startFakeEppo(configText(1));
  fake.plan = { kind: 'status', status: 503 };
  const log = captureLogger();
  const client = await init({
    apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: INTERVAL, logger: log.logger,
    throwOnFailedInitialization: false, pollAfterFailedInitialization: true,
  });
  const loop = getterLoop(client);
  try {
    assert.equal(client.isInitialized(), false);
    assert.equal(await client.waitForInitialization(), false);
    assert.equal(loop.current, -1);
    assert.equal((client.syncStatus() as SyncStatus).polling, true);
    await sleep(300);
    const upAt = Date.now();
    fake.plan = OK;
    const servedAt = await waitFor('first config', () => loop.current === 1, 2_000);
    const stalled = loop.stalledMs(upAt, servedAt);
    assert.ok(servedAt - upAt <= INTERVAL + MARGIN + stalled, `first config ${servedAt - upAt} ms after the server came up (event loop stalled ${stalled} ms)`);
    assert.equal(loop.thrown, 0);
    figures.readyAfterServerUpMs = servedAt - upAt;
  } finally {
    loop.stop();
    client.close();
    await fake.close();
  }
  // With pollAfterFailedInitialization: false (Eppo's default), it resolves and stays on defaults, not polling.
  const port = await closedPort();
  const quiet = await init({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/api`, pollingIntervalMs: INTERVAL, logger: log.logger, throwOnFailedInitialization: false, pollAfterFailedInitialization: false });
  assert.equal(quiet.isInitialized(), false);
  assert.equal(quiet.getBooleanAssignment('new-search', 'u', {}, true), true);
  assert.equal((quiet.syncStatus() as SyncStatus).polling, false);
  quiet.close();
});

t('default options: a client started while the server is down becomes ready within one interval of its return (init and createClient)', async () => {
  for (const how of ['init', 'createClient'] as const) {
    const fake = await startFakeEppo(configText(1));
    fake.plan = { kind: 'status', status: 503 };
    const log = captureLogger();
    const options: InitOptions = { apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: INTERVAL, logger: log.logger };
    let client: SaltshardClient;
    if (how === 'init') {
      await assert.rejects(init(options), /initial config fetch failed/);
      client = getInstance();
    } else {
      client = createClient(options);
      assert.equal(await client.waitForInitialization(), false);
    }
    try {
      assert.equal(client.isInitialized(), false);
      assert.equal((client.syncStatus() as SyncStatus).polling, true, `${how}: still polling after the failed start`);
      await sleep(INTERVAL * 2);
      const upAt = Date.now();
      fake.plan = OK;
      const readyAt = await waitFor('ready', () => client.isInitialized(), INTERVAL * 10);
      // One interval plus the request itself (generous margin: the machine running the suite is shared).
      assert.ok(readyAt - upAt <= INTERVAL + 3 * MARGIN, `${how}: ready ${readyAt - upAt} ms after the server came back`);
      assert.equal(client.getIntegerAssignment('config-version', 'u', {}, -1), 1);
    } finally {
      client.close();
      await fake.close();
    }
  }
});

t('a 304 to a request without If-None-Match is a failure, not a config: init rejects, isInitialized stays false', async () => {
  const { createServer } = await import('node:http');
  // A misbehaving server (or proxy) answering 304 to everything.
  const server = createServer((_req, res) => {
    res.writeHead(304, { etag: '"x"' });
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  try {
    const log = captureLogger();
    await assert.rejects(init({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/api`, pollingIntervalMs: INTERVAL, logger: log.logger, pollAfterFailedInitialization: false }), /304/);
    const client = createClient({ apiKey: KEY, baseUrl: `http://127.0.0.1:${port}/api`, pollingIntervalMs: INTERVAL, logger: log.logger });
    assert.equal(await client.waitForInitialization(), false);
    assert.equal(client.isInitialized(), false);
    const s = client.syncStatus() as SyncStatus;
    assert.equal(s.successes, 0);
    assert.equal(s.lastStatus, 304);
    client.close();
  } finally {
    server.close();
  }
});

t('500 for 1.5 s, then recovery: last good config served, polls every interval or sooner, recovery within one interval', async () => {
  const l = await live();
  try {
    const o = await outage(l, { kind: 'status', status: 500 }, 1_500);
    assert.deepEqual(o.during, [1], 'only config 1 served during the outage');
    assert.ok(o.polls >= 14, `${o.polls} polls during the outage`);
    assert.ok(o.maxGap <= INTERVAL + 40 + o.stalled, `max gap ${o.maxGap} ms (event loop stalled ${o.stalled} ms)`);
    assert.ok(o.recoveryMs <= INTERVAL + MARGIN + o.stalled, `recovered ${o.recoveryMs} ms after the server (event loop stalled ${o.stalled} ms)`);
    assert.equal(l.loop.thrown, 0);
    const s = l.status();
    assert.equal(s.polling, true);
    assert.equal(s.consecutiveFailures, 0);
    assert.ok(s.failures >= o.polls);
    figures['500'] = { polls: o.polls, maxGapMs: o.maxGap, recoveryMs: o.recoveryMs, stalledMs: o.stalled, getterCalls: l.loop.calls, thrown: l.loop.thrown };
  } finally {
    await l.done();
  }
});

t('20 consecutive 500s (Eppo JS stops after 8), then recovery: polling never stops', async () => {
  const l = await live();
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = faultFor(1, 21, { kind: 'status', status: 500 });
    await waitFor('config 2 after 20 failures', () => l.loop.current === 2, 5_000);
    const servedAt = l.loop.firstSeen(2)!;
    const reqs = l.fake.configRequests();
    const lastFailure = reqs[20].at;
    assert.deepEqual(reqs.slice(1, 21).map((r) => r.answer), Array(20).fill('500'));
    assert.equal(reqs[21].answer, '200');
    const s = l.status();
    assert.equal(s.failures, 20);
    assert.equal(s.consecutiveFailures, 0);
    assert.equal(s.polling, true);
    assert.deepEqual(l.loop.valuesBetween(reqs[1].at, reqs[20].at), [1]);
    const recoveryMs = servedAt - lastFailure;
    const stalled = l.loop.stalledMs(lastFailure, servedAt);
    assert.ok(recoveryMs <= INTERVAL + MARGIN + stalled, `recovered ${recoveryMs} ms after the last failure (event loop stalled ${stalled} ms)`);
    assert.equal(l.loop.thrown, 0);
    figures['20x500'] = { pollsAfterFailure8: reqs.length - 9, recoveryMs, failureRunMs: reqs[20].at - reqs[1].at };
  } finally {
    await l.done();
  }
});

t('401 for the key until it is rotated: warns once, retries every unauthorizedRetryMs, serves the last good config, then recovers', async () => {
  const RETRY = 300;
  const l = await live({ unauthorizedRetryMs: RETRY });
  try {
    await sleep(INTERVAL * 1.5);
    const revokedAt = Date.now();
    l.fake.acceptedKeys = new Set(['some-other-key']);
    l.fake.setConfig(configText(2));
    await sleep(1_300);
    const rotatedAt = Date.now();
    l.fake.acceptedKeys = new Set([KEY]);
    const servedAt = await waitFor('config 2', () => l.loop.current === 2, 2_000);
    const refused = l.fake.configRequests().filter((r) => r.answer === '401');
    const gaps = refused.slice(1).map((r, i) => r.at - refused[i].at);
    assert.ok(refused.length >= 4 && refused.length <= 6, `${refused.length} requests refused`);
    for (const gap of gaps) assert.ok(gap >= RETRY * 0.9 - 2 && gap <= RETRY + 150, `gap ${gap} ms`);
    const warnings = l.log.text('warn').filter((w) => /refused/.test(w));
    assert.equal(warnings.length, 1, 'one warning for the whole 401 run');
    assert.ok(!warnings[0].includes(KEY));
    assert.deepEqual(l.loop.valuesBetween(revokedAt, rotatedAt), [1]);
    const stalled = l.loop.stalledMs(rotatedAt, servedAt);
    assert.ok(servedAt - rotatedAt <= RETRY + MARGIN + stalled, `recovered ${servedAt - rotatedAt} ms after rotation (event loop stalled ${stalled} ms)`);
    assert.equal(l.loop.thrown, 0);
    figures['401'] = { refused: refused.length, gapsMs: gaps, warnings: warnings.length, recoveryMs: servedAt - rotatedAt };
  } finally {
    await l.done();
  }
});

t('429 with Retry-After: the next request waits at least Retry-After', async () => {
  const l = await live();
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = faultFor(1, 3, { kind: 'status', status: 429, retryAfter: '1' });
    await waitFor('config 2', () => l.loop.current === 2, 4_000);
    const reqs = l.fake.configRequests();
    assert.deepEqual(reqs.slice(1, 4).map((r) => r.answer), ['429', '429', '200']);
    const gaps = [reqs[2].at - reqs[1].at, reqs[3].at - reqs[2].at];
    for (const gap of gaps) assert.ok(gap >= 1_000 && gap <= 1_000 + 500, `gap ${gap} ms after a 429 with Retry-After: 1`); // upper bound: loaded machines
    assert.deepEqual(l.loop.valuesBetween(reqs[1].at, reqs[3].at - 1), [1]);
    assert.equal(l.loop.thrown, 0);
    figures['429'] = { gapsMs: gaps };
  } finally {
    await l.done();
  }
});

t('an absurd Retry-After (35 days, or a date 40 days ahead) does not overflow the timer into a request storm', async () => {
  for (const retryAfter of ['3000000', new Date(Date.now() + 40 * 86_400_000).toUTCString()]) {
    const l = await live();
    try {
      l.fake.plan = { kind: 'status', status: 429, retryAfter };
      await waitFor('a 429', () => l.fake.configRequests().length >= 2, 1_000);
      await sleep(400);
      // Timers above 2^31-1 ms fire after 1 ms on Node, Bun and Deno: without a clamp this is hundreds of requests.
      assert.equal(l.fake.configRequests().length, 2, `${l.fake.configRequests().length} requests after a Retry-After of ${retryAfter}`);
      assert.equal(l.status().polling, true);
      assert.equal(l.loop.thrown, 0);
    } finally {
      await l.done();
    }
  }
});

t('headers then a stalled body: each attempt is cut at requestTimeoutMs, polling continues, recovery follows', async () => {
  const TIMEOUT = 300;
  const l = await live({ requestTimeoutMs: TIMEOUT });
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = faultFor(1, 4, { kind: 'stall' });
    let sawTimeout = false;
    const servedAt = await waitFor('config 2', () => {
      sawTimeout ||= /no complete response within 300 ms/.test(l.status().lastError ?? '');
      return l.loop.current === 2;
    }, 4_000);
    const reqs = l.fake.configRequests();
    assert.equal(reqs.length, 5, 'init, three stalled attempts, one good');
    assert.deepEqual(reqs.slice(1).map((r) => r.answer), ['stall', 'stall', 'stall', '200']);
    const durations = reqs.slice(1, 4).map((r, i) => (r.closedAt ?? reqs[i + 2].at) - r.at);
    // Measured at the server: the client's clock starts before the request arrives (up to ~100 ms later on a loaded
    // machine: a clean-clone CI saw 261 ms), hence the lower margin.
    for (const d of durations) assert.ok(d >= TIMEOUT - 150 && d <= TIMEOUT + 250, `stalled attempt lasted ${d} ms`);
    const elapsed = servedAt - reqs[1].at;
    assert.ok(elapsed <= 3 * TIMEOUT + 3 * INTERVAL + MARGIN, `stall run to recovery took ${elapsed} ms`);
    assert.ok(sawTimeout, 'status reported the timeout');
    assert.deepEqual(l.loop.valuesBetween(reqs[1].at, reqs[4].at - 1), [1]);
    assert.equal(l.loop.thrown, 0);
    figures.stall = { attemptMs: durations, toRecoveryMs: elapsed };
  } finally {
    await l.done();
  }
});

t('a server that accepts and never answers: cut at requestTimeoutMs', async () => {
  const TIMEOUT = 200;
  const l = await live({ requestTimeoutMs: TIMEOUT });
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = faultFor(1, 3, { kind: 'hang' });
    await waitFor('config 2', () => l.loop.current === 2, 3_000);
    const reqs = l.fake.configRequests();
    assert.deepEqual(reqs.slice(1).map((r) => r.answer), ['hang', 'hang', '200']);
    const durations = reqs.slice(1, 3).map((r, i) => (r.closedAt ?? reqs[i + 2].at) - r.at);
    for (const d of durations) assert.ok(d >= TIMEOUT - 150 && d <= TIMEOUT + 250, `hung attempt lasted ${d} ms`);
    assert.equal(l.status().lastStatus, 200);
    assert.equal(l.loop.thrown, 0);
    figures.hang = { attemptMs: durations };
  } finally {
    await l.done();
  }
});

t('slow response below the timeout is accepted', async () => {
  const l = await live({ requestTimeoutMs: 500 });
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = { kind: 'slow', ms: 200 };
    const started = Date.now();
    await waitFor('config 2', () => l.loop.current === 2, 2_000);
    assert.ok(Date.now() - started >= 195);
    assert.equal(l.status().failures, 0);
    assert.equal(l.loop.thrown, 0);
  } finally {
    await l.done();
  }
});

t('slow response above the timeout is cut; the last good config stays; recovery within one interval', async () => {
  const TIMEOUT = 200;
  const l = await live({ requestTimeoutMs: TIMEOUT });
  try {
    l.fake.setConfig(configText(2));
    l.fake.plan = faultFor(1, 3, { kind: 'slow', ms: 800 });
    await waitFor('config 2', () => l.loop.current === 2, 3_000);
    const reqs = l.fake.configRequests();
    const durations = [reqs[2].at - reqs[1].at, reqs[3].at - reqs[2].at];
    for (const d of durations) assert.ok(d >= TIMEOUT && d <= TIMEOUT + INTERVAL + MARGIN, `slow attempt to next attempt ${d} ms`);
    const recoveryMs = l.loop.firstSeen(2)! - (reqs[2].at + TIMEOUT);
    const stalled = l.loop.stalledMs(reqs[2].at, l.loop.firstSeen(2)!);
    assert.ok(recoveryMs <= INTERVAL + MARGIN + stalled, `recovered ${recoveryMs} ms after the last cut attempt (event loop stalled ${stalled} ms)`);
    assert.equal(l.status().failures, 2);
    assert.equal(l.loop.thrown, 0);
    figures.slowAboveTimeout = { attemptToNextMs: durations, recoveryMs };
  } finally {
    await l.done();
  }
});

for (const [name, fault] of [
  ['truncated JSON', { kind: 'truncate' }],
  ['reset mid-body', { kind: 'reset' }],
  ['malformed JSON', { kind: 'malformed' }],
  ['a 200 with an empty object', { kind: 'body', text: '{}' }],
] as Array<[string, Fault]>) {
  t(`${name} for 0.5 s: the last good config stays, recovery within one interval`, async () => {
    const l = await live();
    try {
      const o = await outage(l, fault, 500);
      assert.deepEqual(o.during, [1]);
      assert.ok(o.polls >= 5, `${o.polls} polls`);
      assert.ok(o.recoveryMs <= INTERVAL + MARGIN + o.stalled, `recovered ${o.recoveryMs} ms after the server (event loop stalled ${o.stalled} ms)`);
      assert.ok(l.status().failures >= o.polls);
      assert.equal(l.loop.thrown, 0);
      figures[name] = { polls: o.polls, recoveryMs: o.recoveryMs };
    } finally {
      await l.done();
    }
  });
}

t('a config with one broken flag: the others update, the broken one keeps its last good version', async () => {
  const l = await live();
  try {
    const perPage = () => l.client.getIntegerAssignmentDetails('results-per-page', 'user-1', { sessions: 0 }, 0);
    assert.equal(perPage().variation, 10);
    l.fake.setConfig(configText(2, { brokenFlag: 'results-per-page' }));
    await waitFor('config 2', () => l.loop.current === 2, 1_000);
    assert.equal(perPage().variation, 10);
    assert.equal(perPage().evaluationDetails.flagEvaluationCode, 'MATCH');
    assert.ok(l.log.text('warn').some((w) => /keeping the previous version/.test(w)));
    l.fake.setConfig(configText(3, { brokenFlag: 'results-per-page' }));
    await waitFor('config 3', () => l.loop.current === 3, 1_000);
    assert.equal(perPage().variation, 10, 'still the last good version after a second broken config');
    assert.equal(l.loop.thrown, 0);
  } finally {
    await l.done();
  }
  // A client that never had a good version serves the default for that flag only.
  const fake = await startFakeEppo(configText(1, { brokenFlag: 'results-per-page' }));
  const client = await init({ apiKey: KEY, baseUrl: fake.baseUrl, logger: captureLogger().logger });
  try {
    const d = client.getIntegerAssignmentDetails('results-per-page', 'user-1', {}, 0);
    assert.equal(d.variation, 0);
    assert.equal(d.evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
    assert.equal(client.getIntegerAssignment('config-version', 'user-1', {}, -1), 1);
  } finally {
    client.close();
    await fake.close();
  }
});

t('ETag: polls send If-None-Match, a 304 keeps the same snapshot, a change is served within one interval', async () => {
  const l = await live();
  try {
    const firstEtag = l.fake.etag;
    const snapshot = l.client.getConfiguration();
    await sleep(INTERVAL * 5);
    const polls = l.fake.configRequests().slice(1);
    assert.ok(polls.length >= 4, `${polls.length} polls`);
    for (const p of polls) {
      assert.equal(p.headers['if-none-match'], firstEtag);
      assert.equal(p.answer, '304');
    }
    assert.equal(l.client.getConfiguration(), snapshot, 'no new snapshot on 304');
    const s = l.status();
    assert.equal(s.lastStatus, 304);
    assert.equal(s.failures, 0);
    const changedAt = Date.now();
    l.fake.setConfig(configText(2));
    const servedAt = await waitFor('config 2', () => l.loop.current === 2, 1_000);
    const stalled = l.loop.stalledMs(changedAt, servedAt);
    assert.ok(servedAt - changedAt <= INTERVAL + MARGIN + stalled, `change served after ${servedAt - changedAt} ms (event loop stalled ${stalled} ms)`);
    await sleep(INTERVAL * 1.5);
    assert.equal(l.fake.configRequests().at(-1)!.headers['if-none-match'], l.fake.etag);
    assert.equal(l.loop.thrown, 0);
    figures.etag = { notModified: polls.length, changeServedMs: servedAt - changedAt };
  } finally {
    await l.done();
  }
});

t('redirects: followed on the same host; refused to another host, which receives nothing', async () => {
  const l = await live();
  const other = await startFakeEppo(configText(99));
  try {
    const moved = (r: { query: Record<string, string> }) => `/api/moved/flag-config/v1/config?${new URLSearchParams(r.query)}`;
    l.fake.plan = (_n, r) => (r.path.startsWith('/api/moved/') ? OK : { kind: 'redirect', status: 302, location: moved(r) });
    l.fake.setConfig(configText(2));
    await waitFor('config 2 via a same-host redirect', () => l.loop.current === 2, 1_000);
    assert.ok(l.fake.configRequests().some((r) => r.path.startsWith('/api/moved/') && r.answer === '200'));

    const statuses = [301, 302, 307, 308];
    const from = Date.now();
    let i = 0;
    l.fake.plan = (_n, r) => ({ kind: 'redirect', status: statuses[i++ % 4], location: `${other.baseUrl}/flag-config/v1/config?${new URLSearchParams(r.query)}` });
    l.fake.setConfig(configText(3));
    await waitFor('four cross-host redirects', () => i >= 8, 3_000);
    assert.equal(other.requests.length, 0, 'the other host received no request');
    assert.deepEqual(l.loop.valuesBetween(from, Date.now()), [2]);
    const s = l.status();
    assert.ok(statuses.includes(s.lastStatus!));
    assert.match(s.lastError!, /redirect to another host refused/);

    // A same-host redirect loop stops after 3 hops.
    l.fake.plan = (_n, r) => ({ kind: 'redirect', status: 307, location: moved(r) });
    await waitFor('a failed redirect loop', () => /more than 3 redirects/.test(l.status().lastError ?? ''), 2_000);
    const hops = l.fake.configRequests().filter((r) => r.path.startsWith('/api/moved/') && r.answer === '307');
    assert.ok(hops.length >= 3, `${hops.length} same-host hops`);
    assert.equal(l.loop.thrown, 0);
    figures.redirect = { crossHostRedirects: i, requestsAtOtherHost: other.requests.length };
  } finally {
    await l.done();
    await other.close();
  }
});

t('close() during a request in flight, during backoff, and twice: no request follows, the config stays', async () => {
  for (const phase of ['in flight', 'backoff'] as const) {
    const l = await live({ requestTimeoutMs: 300 });
    try {
      l.fake.plan = phase === 'in flight' ? faultFor(1, 99, { kind: 'hang' }) : { kind: 'status', status: 500 };
      await waitFor('a poll', () => l.fake.configRequests().length >= 2, 1_000);
      if (phase === 'backoff') await sleep(5);
      l.client.close();
      l.client.close();
      // A request already on the wire when close() ran may still arrive; after that, nothing may follow.
      await sleep(50);
      const count = l.fake.configRequests().length;
      await sleep(600);
      assert.equal(l.fake.configRequests().length, count, `requests after close (${phase})`);
      assert.equal(l.status().polling, false);
      assert.equal(l.loop.current, 1);
      assert.equal(l.loop.thrown, 0);
    } finally {
      await l.done();
    }
  }
});

// ---- The SDK key never leaks (reliability-plan §5.1, T34) ----

const SECRET = 'sk-live-SECRET-123';
const CS_KEY = `tOkEn9aF3xQ7LmZ2.${btoa('cs=experiment')}`;

/** The key, every 8-character piece of it, and for a `token.payload` key each part. */
function canaries(key: string): string[] {
  const out = new Set<string>([key, encodeURIComponent(key)]);
  for (let i = 0; i + 8 <= key.length; i++) out.add(key.slice(i, i + 8));
  for (const part of key.split('.')) if (part.length >= 8) out.add(part);
  return [...out];
}

type Scenario = { name: string; setup(): Promise<{ baseUrl: string; extra?: Partial<InitOptions>; cleanup(): Promise<void> }> };

const SCENARIOS: Scenario[] = [
  { name: 'connection refused', setup: async () => ({ baseUrl: `http://127.0.0.1:${await closedPort()}/api`, cleanup: async () => {} }) },
  ...([
    ['500', { kind: 'status', status: 500 }],
    ['401', { kind: 'status', status: 401 }],
    ['403', { kind: 'status', status: 403 }],
    ['timeout (hang)', { kind: 'hang' }],
    ['timeout (stalled body)', { kind: 'stall' }],
    ['malformed config', { kind: 'malformed' }],
    ['truncated config', { kind: 'truncate' }],
    ['reset mid-body', { kind: 'reset' }],
  ] as Array<[string, Fault]>).map(([name, fault]): Scenario => ({
    name,
    setup: async () => {
      const fake = await startFakeEppo();
      fake.plan = fault;
      return { baseUrl: fake.baseUrl, cleanup: () => fake.close() };
    },
  })),
  {
    name: 'redirect to another host',
    setup: async () => {
      const [fake, other] = [await startFakeEppo(), await startFakeEppo()];
      fake.plan = (_n, r) => ({ kind: 'redirect', status: 302, location: `${other.baseUrl}/flag-config/v1/config?${new URLSearchParams(r.query)}` });
      return {
        baseUrl: fake.baseUrl,
        async cleanup() {
          await fake.close();
          await other.close();
          assert.equal(other.requests.length, 0);
        },
      };
    },
  },
  { name: 'baseUrl that is not a URL', setup: async () => ({ baseUrl: 'http://exa mple.com/api', cleanup: async () => {} }) },
  { name: 'baseUrl with credentials', setup: async () => ({ baseUrl: `http://user:pw@127.0.0.1:${await closedPort()}/api`, cleanup: async () => {} }) },
  { name: 'baseUrl with a bad scheme', setup: async () => ({ baseUrl: 'ftp://127.0.0.1/api', cleanup: async () => {} }) },
];

/** Everything a user could print after this scenario. */
async function surfaces(key: string, scenario: Scenario): Promise<{ texts: string[]; rejected: boolean }> {
  const { baseUrl, cleanup } = await scenario.setup();
  const log = captureLogger();
  const options: InitOptions = { apiKey: key, baseUrl, pollingIntervalMs: 60, requestTimeoutMs: 150, logger: log.logger, unauthorizedRetryMs: 60 };
  const texts: string[] = [];
  const describeError = (e: unknown) => {
    const err = e as Error;
    texts.push(String(err), err.message, String(err.stack), inspect(err, { depth: Infinity, showHidden: true }));
    for (let c = (err as { cause?: unknown }).cause, i = 0; c !== undefined && i < 5; c = (c as { cause?: unknown }).cause, i++) texts.push(inspect(c, { depth: Infinity }));
  };
  let rejected = false;
  try {
    await init(options).then((c) => c.close(), (e) => {
      rejected = true;
      describeError(e);
    });
    let client: SaltshardClient | null = null;
    try {
      client = createClient({ ...options, pollAfterFailedInitialization: true });
    } catch (e) {
      describeError(e);
    }
    if (client) {
      await client.waitForInitialization();
      await sleep(250); // a few polls, each failing
      const status = client.syncStatus();
      texts.push(inspect(client, { depth: Infinity, showHidden: true }), JSON.stringify(client), String(client), `${client}`, JSON.stringify(status), inspect(status, { depth: Infinity }));
      const deno = (globalThis as { Deno?: { inspect(v: unknown): string } }).Deno;
      if (deno) texts.push(deno.inspect(client), deno.inspect(status));
      client.close();
    }
  } finally {
    await cleanup();
  }
  for (const c of log.calls) texts.push(c.args.map((a) => (typeof a === 'string' ? a : inspect(a, { depth: Infinity, showHidden: true }))).join(' '));
  return { texts, rejected };
}

for (const key of [SECRET, CS_KEY]) {
  t(`the key ${key === SECRET ? 'sk-live-…' : 'token.<cs payload>'} appears on no surface in any failure`, async () => {
    const results = await Promise.all(SCENARIOS.map(async (s) => ({ s, r: await surfaces(key, s) })));
    const leaks: string[] = [];
    let surfacesChecked = 0;
    for (const { s, r } of results) {
      assert.ok(r.rejected, `${s.name}: init should reject`);
      surfacesChecked += r.texts.length;
      for (const text of r.texts) for (const c of canaries(key)) if (text.includes(c)) leaks.push(`${s.name}: "${c}" in ${text.slice(0, 200)}`);
    }
    assert.deepEqual(leaks, []);
    figures[`leak:${key === SECRET ? 'sk' : 'cs'}`] = { scenarios: SCENARIOS.length, surfacesChecked, leaks: leaks.length };
  });
}

t('scanner control: this runtime\'s own fetch errors do carry the key, so the scan above can see a leak', async () => {
  const port = await closedPort();
  let found = 0;
  for (const base of [`http://user:pw@127.0.0.1:${port}/api`, `http://127.0.0.1:${port}/api`, 'http://exa mple.com/api']) {
    try {
      await fetch(`${base}/flag-config/v1/config?apiKey=${SECRET}`);
    } catch (e) {
      const text = `${String((e as Error).stack)}\n${inspect(e, { depth: Infinity, showHidden: true })}`;
      if (canaries(SECRET).some((c) => text.includes(c))) found++;
    }
  }
  assert.ok(found >= 1, 'expected at least one raw runtime error to contain the key');
  figures.rawFetchErrorsWithKey = found;
});

t('SDK-key subdomain rule: cs must be a DNS label; an explicit baseUrl wins', () => {
  assert.equal(keySubdomain('zCsQuoHJxVPp895.Y3M9ZXhwZXJpbWVudA=='), 'experiment');
  assert.equal(configBaseUrl('zCsQuoHJxVPp895.Y3M9ZXhwZXJpbWVudA=='), 'https://experiment.fscdn.eppo.cloud/api');
  assert.equal(configBaseUrl(CS_KEY), 'https://experiment.fscdn.eppo.cloud/api');
  for (const cs of ['evil.com/x', 'a@b', 'attacker.example/x?', 'a.b', '-x', 'x-', 'A'.repeat(3), 'a'.repeat(64), '', 'a b', 'a%2fb']) {
    const key = `tok.${btoa(`cs=${cs}`)}`;
    assert.equal(keySubdomain(key), null, cs);
    assert.equal(configBaseUrl(key), DEFAULT_BASE_URL, cs);
  }
  assert.equal(keySubdomain(`tok.${btoa(`cs=${'a'.repeat(63)}`)}`), 'a'.repeat(63));
  assert.equal(keySubdomain(`tok.${btoa('eh=events.example.com&cs=my-team-1')}`), 'my-team-1');
  assert.equal(configBaseUrl('plain-key-without-dot'), DEFAULT_BASE_URL);
  assert.equal(configBaseUrl('bad.%%%not-base64'), DEFAULT_BASE_URL);
  assert.equal(configBaseUrl('zCsQuoHJxVPp895.Y3M9ZXhwZXJpbWVudA==', 'http://127.0.0.1:8080/api/'), 'http://127.0.0.1:8080/api');
  assert.equal(configBaseUrl('zCsQuoHJxVPp895.Y3M9ZXhwZXJpbWVudA==', 'flags.example.com/api'), 'https://flags.example.com/api');
  assert.equal(configBaseUrl('zCsQuoHJxVPp895.Y3M9ZXhwZXJpbWVudA==', DEFAULT_BASE_URL), 'https://experiment.fscdn.eppo.cloud/api');
  assert.throws(() => configBaseUrl(SECRET, 'http://exa mple.com'), (e: Error) => e instanceof TypeError && !e.message.includes(SECRET));
});

t.after(() => {
  console.log(`FIGURES ${JSON.stringify(figures)}`);
});

t.run();
