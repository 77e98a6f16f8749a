// js-sdk-common's store plumbing: one program written against @eppo/js-client-sdk-common's `new EppoClient({
// flagConfigurationStore: new MemoryOnlyConfigurationStore(), configurationRequestParameters })` runs against Eppo's
// package and against saltshard with only the import changed, fetching from the local fake Eppo server and writing the
// stores itself; every value, details object, logged event and request must be equal. Runs on Node, Bun and Deno.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as eppo from '@eppo/js-client-sdk-common';
import * as saltshard from '../src/mod.ts';
import { configText, startFakeEppo } from './fake-eppo.ts';
import { TEST_DATA, hasTestData, listJson, readJson, readText } from './support.ts';

const t = suite('configuration stores');
eppo.applicationLogger.level = 'silent';
const quiet = { error() {}, warn() {} };

/** What the program needs of a module: Eppo's two classes. */
interface StoreModule {
  // deno-lint-ignore no-explicit-any
  EppoClient: new (parameters: any) => any;
  // deno-lint-ignore no-explicit-any
  MemoryOnlyConfigurationStore: new () => any;
}

interface FlagCase {
  flag: string;
  variationType: string;
  defaultValue: unknown;
  subjects: { subjectKey: string; subjectAttributes: Record<string, unknown> }[];
}

const GETTER: Record<string, string> = {
  BOOLEAN: 'getBooleanAssignmentDetails', STRING: 'getStringAssignmentDetails', INTEGER: 'getIntegerAssignmentDetails',
  NUMERIC: 'getNumericAssignmentDetails', JSON: 'getJSONAssignmentDetails',
};

const STARTED = Date.now();
/**
 * Events without timestamp and SDK metadata; configFetchedAt set by a fetch is the time of that fetch: any time since
 * the test started reads 'fetched'.
 */
function stable(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v) => {
    if (key === 'timestamp' || key === 'metaData') return undefined;
    if (key === 'configFetchedAt' && typeof v === 'string' && v !== '' && Date.parse(v) >= STARTED - 1000 && Date.parse(v) <= Date.now()) return 'fetched';
    // Key order is not compared (Eppo keeps an obfuscated condition's keys in the file's order).
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]]));
    return v;
  }));
}

/**
 * The program: an Eppo user's code against js-sdk-common's client with a memory store.
 * @param serve makes the fake server answer with this UFC text from now on.
 */
async function program(M: StoreModule, baseUrl: string, serve: (text: string) => void): Promise<{ lines: unknown[]; events: unknown[] }> {
  const lines: unknown[] = [];
  const events: unknown[] = [];
  const out = (label: string, value: unknown) => void lines.push([label, value]);
  const cases = listJson(`${TEST_DATA}/ufc/tests`).map((f) => readJson<FlagCase>(TEST_DATA, 'ufc', 'tests', f));
  // deno-lint-ignore no-explicit-any
  const everyCase = (client: any, label: string) => {
    for (const c of cases) {
      for (const s of c.subjects) out(`${label} ${c.flag} ${s.subjectKey}`, client[GETTER[c.variationType]](c.flag, s.subjectKey, s.subjectAttributes, c.defaultValue));
    }
  };

  serve(readText(TEST_DATA, 'ufc', 'flags-v1.json'));
  const flags = new M.MemoryOnlyConfigurationStore();
  const client = new M.EppoClient({
    flagConfigurationStore: flags,
    configurationRequestParameters: { apiKey: 'store-test-key', sdkName: 'store-test', sdkVersion: '9.9.9', baseUrl, numInitialRequestRetries: 0 },
  });
  client.setAssignmentLogger({ logAssignment: (e: unknown) => void events.push(e) });
  out('before fetch', [client.isInitialized(), client.getIntegerAssignmentDetails('integer-flag', 'alice', {}, -1), client.getFlagKeys()]);

  await client.fetchFlagConfigurations();
  out('after fetch', [client.isInitialized(), client.getFlagKeys(), flags.getEnvironment(), flags.getFormat(), flags.getConfigPublishedAt()]);
  everyCase(client, 'fetched');
  out('detail', client.getAssignmentDetail('integer-flag', 'alice', { email: 'alice@mycompany.com', country: 'US' }, 'INTEGER'));
  out('type mismatch', client.getStringAssignmentDetails('integer-flag', 'alice', {}, 'd'));
  out('flags as objects', Object.keys(client.getFlagConfigurations()));

  // The user writes the store: the client sees it at the next evaluation.
  const edited = { ...flags.entries() } as Record<string, Record<string, unknown>>;
  delete edited['kill-switch'];
  edited['integer-flag'] = { ...edited['integer-flag'], enabled: false };
  edited['written-flag'] = { key: 'written-flag', enabled: true, variationType: 'STRING', totalShards: 10000, variations: { w: { key: 'w', value: 'written' } }, allocations: [{ key: 'all', splits: [{ variationKey: 'w', shards: [] }], doLog: true }] };
  await flags.setEntries(edited);
  out('written', [
    client.getIntegerAssignmentDetails('integer-flag', 'alice', {}, -1),
    client.getBooleanAssignmentDetails('kill-switch', 'alice', {}, true),
    client.getStringAssignmentDetails('written-flag', 'bob', { plan: 'pro' }, 'none'),
    client.getFlagKeys(),
  ]);

  // A new config on the server: fetching again replaces what the user wrote.
  serve(configText(2));
  await client.fetchFlagConfigurations();
  out('refetched', [client.getIntegerAssignment('config-version', 'alice', {}, -1), client.getStringAssignment('written-flag', 'bob', {}, 'none'), client.getFlagKeys()]);

  // An obfuscated (CLIENT) config: flags stored under md5 keys, read by plain key.
  serve(readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'));
  await client.fetchFlagConfigurations();
  out('obfuscated format', [flags.getFormat(), client.getFlagKeys().length]);
  everyCase(client, 'obfuscated');

  // Another store, written by hand with its metadata.
  const other = new M.MemoryOnlyConfigurationStore();
  await other.setEntries(JSON.parse(readText(TEST_DATA, 'ufc', 'flags-v1.json')).flags);
  other.setEnvironment({ name: 'Other' });
  other.setFormat('SERVER');
  other.setConfigPublishedAt('2025-05-05T05:05:05.000Z');
  other.setConfigFetchedAt('2025-06-06T06:06:06.000Z');
  client.setFlagConfigurationStore(other);
  out('other store', [client.getNumericAssignmentDetails('numeric_flag', 'carol', {}, 0), client.getAssignmentDetail('new-user-onboarding', 'zach', { country: 'US' })]);
  client.useLRUInMemoryAssignmentCache(10);
  for (let i = 0; i < 3; i++) out('cached', client.getNumericAssignment('numeric_flag', 'dave', {}, 0));

  // Errors, in Eppo's words.
  const bare = new M.EppoClient({ flagConfigurationStore: new M.MemoryOnlyConfigurationStore() });
  out('bare client', [bare.isInitialized(), await bare.fetchFlagConfigurations().then(() => 'ok', (e: Error) => e.message)]);
  const refused = new M.EppoClient({
    flagConfigurationStore: new M.MemoryOnlyConfigurationStore(),
    configurationRequestParameters: { apiKey: 'bad-key-for-store', sdkName: 'store-test', sdkVersion: '9.9.9', baseUrl, numInitialRequestRetries: 0, throwOnFailedInitialization: true },
  });
  out('refused key', await refused.fetchFlagConfigurations().then(() => 'ok', () => 'rejected'));
  out('after refusal', [refused.isInitialized(), refused.getBooleanAssignment('kill-switch', 'alice', {}, true)]);
  client.stopPolling();
  return { lines: stable(lines) as unknown[], events: stable(events) as unknown[] };
}

t('a program written for js-sdk-common\'s EppoClient with a memory store gives identical output on saltshard', async () => {
  if (!hasTestData('configuration stores')) return;
  const fake = await startFakeEppo(configText(1));
  fake.acceptedKeys = new Set(['store-test-key']);
  const console_ = { error: console.error, warn: console.warn };
  try {
    console.error = () => {};
    console.warn = () => {};
    const theirs = await program(eppo as unknown as StoreModule, fake.baseUrl, (text) => fake.setConfig(text));
    const theirRequests = fake.requests.splice(0).map((r) => [r.method, r.path, r.query]);
    const ours = await program(saltshard as unknown as StoreModule, fake.baseUrl, (text) => fake.setConfig(text));
    const ourRequests = fake.requests.splice(0).map((r) => [r.method, r.path, r.query]);
    console.error = console_.error;
    console.warn = console_.warn;
    const differing = theirs.lines.map((line, i) => [line, ours.lines[i]]).filter(([a, b]) => JSON.stringify(a) !== JSON.stringify(b));
    if (differing.length > 0) console_.error(JSON.stringify(differing.slice(0, 3)).slice(0, 3000), differing.length);
    assert.equal(differing, [], 'every line equal');
    assert.is(ours.lines.length, theirs.lines.length);
    assert.equal(ours.events, theirs.events, 'the same assignment events');
    assert.equal(ourRequests, theirRequests, 'the same requests (path, apiKey, sdkName, sdkVersion)');
    assert.ok(theirs.lines.length > 150 && theirs.events.length > 50, `the program exercised the API (${theirs.lines.length} lines, ${theirs.events.length} events)`);
  } finally {
    console.error = console_.error;
    console.warn = console_.warn;
    await fake.close();
  }
});

interface BanditCase {
  flag: string;
  defaultValue: string;
  subjects: { subjectKey: string; subjectAttributes: Record<string, unknown>; actions: { actionKey: string; numericAttributes: Record<string, number>; categoricalAttributes: Record<string, string> }[] }[];
}

/** A bandit program: stores for flags, bandit variations and models, filled by one fetch. */
async function banditProgram(M: StoreModule, baseUrl: string): Promise<{ lines: unknown[]; events: unknown[] }> {
  const lines: unknown[] = [];
  const events: unknown[] = [];
  const stores = { flags: new M.MemoryOnlyConfigurationStore(), variations: new M.MemoryOnlyConfigurationStore(), models: new M.MemoryOnlyConfigurationStore() };
  const client = new M.EppoClient({
    flagConfigurationStore: stores.flags, banditVariationConfigurationStore: stores.variations, banditModelConfigurationStore: stores.models,
    configurationRequestParameters: { apiKey: 'bandit-key', sdkName: 'store-test', sdkVersion: '1.0.0', baseUrl },
  });
  client.setBanditLogger({ logBanditAction: (e: unknown) => void events.push(e) });
  client.setAssignmentLogger({ logAssignment: () => {} });
  await client.fetchFlagConfigurations();
  lines.push(['stores', client.isInitialized(), Object.keys(stores.variations.entries()), Object.keys(stores.models.entries()), stores.models.getFormat()]);
  for (const file of listJson(`${TEST_DATA}/ufc/bandit-tests`)) {
    const c = readJson<BanditCase>(TEST_DATA, 'ufc', 'bandit-tests', file);
    for (const s of c.subjects) {
      const actions = Object.fromEntries(s.actions.map((a) => [a.actionKey, { numericAttributes: a.numericAttributes, categoricalAttributes: a.categoricalAttributes }]));
      lines.push([file, s.subjectKey, client.getBanditActionDetails(c.flag, s.subjectKey, s.subjectAttributes, actions, c.defaultValue)]);
    }
  }
  // A second fetch (Eppo's client fetches the models again: each call starts a new requestor).
  await client.fetchFlagConfigurations();
  // Without the bandit stores, the same flags serve their variation and no action.
  const plain = new M.EppoClient({ flagConfigurationStore: stores.flags });
  lines.push(['no bandit stores', plain.getBanditAction('banner_bandit_flag', 'alice', { age: 25 }, ['nike', 'adidas'], 'default')]);
  return { lines: stable(lines) as unknown[], events: stable(events) as unknown[] };
}

t('bandit stores: one fetch fills the flags, the bandit variations and the models; the same actions and events as Eppo', async () => {
  if (!hasTestData('bandit stores')) return;
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0];
    const file = path.endsWith('/flag-config/v1/config') ? 'bandit-flags-v1.json' : path.endsWith('/flag-config/v1/bandits') ? 'bandit-models-v1.json' : null;
    if (file === null) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(readText(TEST_DATA, 'ufc', file));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
  const console_ = { error: console.error, warn: console.warn };
  try {
    console.error = () => {};
    console.warn = () => {};
    const theirs = await banditProgram(eppo as unknown as StoreModule, baseUrl);
    const theirRequests = requests.splice(0);
    const ours = await banditProgram(saltshard as unknown as StoreModule, baseUrl);
    console.error = console_.error;
    console.warn = console_.warn;
    assert.equal(ours.lines, theirs.lines);
    assert.equal(ours.events, theirs.events);
    assert.equal(requests, theirRequests, 'the same requests: config, bandits, config');
    // Each fetchFlagConfigurations() call is a new requestor in Eppo's client, which knows no loaded model versions yet.
    assert.is(theirRequests.filter((u) => u.includes('/bandits?')).length, 2);
    assert.ok(theirs.lines.length > 30 && theirs.events.length > 10, `exercised (${theirs.lines.length} lines, ${theirs.events.length} events)`);
  } finally {
    console.error = console_.error;
    console.warn = console_.warn;
    server.close();
  }
});

/** An asynchronous persistent store (as a file or IndexedDB would be), shared by two runs of an application. */
function persistentStore(): { isInitialized(): boolean; isExpired(): Promise<boolean>; entries(): Promise<Record<string, unknown>>; setEntries(e: Record<string, unknown>): Promise<void>; writes: number } {
  let saved: Record<string, unknown> | null = null;
  return {
    writes: 0,
    isInitialized: () => saved !== null,
    isExpired: () => Promise.resolve(saved === null),
    entries: () => new Promise((r) => setTimeout(() => r({ ...(saved ?? {}) }), 5)),
    setEntries(e) {
      this.writes++;
      return new Promise((r) => setTimeout(() => r(void (saved = { ...e })), 5));
    },
  };
}

/** A hybrid store program: the first run fetches into a serving store backed by a persistent one; the second run starts from the persisted flags. */
// deno-lint-ignore no-explicit-any
async function hybridProgram(M: StoreModule & { HybridConfigurationStore: new (serving: unknown, persistent: unknown) => any; MemoryStore: new () => any }, baseUrl: string): Promise<unknown[]> {
  const lines: unknown[] = [];
  const persisted = persistentStore();
  const parameters = { apiKey: 'store-test-key', sdkName: 'store-test', sdkVersion: '9.9.9', baseUrl, numInitialRequestRetries: 0 };
  const first = new M.HybridConfigurationStore(new M.MemoryStore(), persisted);
  const client = new M.EppoClient({ flagConfigurationStore: first, configurationRequestParameters: parameters });
  client.setAssignmentLogger({ logAssignment: () => {} });
  lines.push(['first run', client.isInitialized(), await first.isExpired()]);
  await client.fetchFlagConfigurations();
  lines.push(['fetched', client.isInitialized(), persisted.writes, await first.isExpired(), client.getIntegerAssignmentDetails('config-version', 'a', {}, -1)]);
  // Not expired: a second fetch does not request (Eppo's poller asks the store first).
  await client.fetchFlagConfigurations();
  const second = new M.HybridConfigurationStore(new M.MemoryStore(), persisted);
  const restarted = new M.EppoClient({ flagConfigurationStore: second });
  restarted.setAssignmentLogger({ logAssignment: () => {} });
  lines.push(['second run before init', restarted.isInitialized(), restarted.getIntegerAssignment('config-version', 'a', {}, -1)]);
  await second.init();
  lines.push(['second run after init', restarted.isInitialized(), restarted.getIntegerAssignment('config-version', 'a', {}, -1), restarted.getFlagKeys()]);
  return stable(lines) as unknown[];
}

t('HybridConfigurationStore and MemoryStore: the same persistence and restart behaviour as Eppo\'s classes', async () => {
  const fake = await startFakeEppo(configText(5));
  try {
    const theirs = await hybridProgram(eppo as never, fake.baseUrl);
    const theirRequests = fake.configRequests().length;
    const ours = await hybridProgram(saltshard as never, fake.baseUrl);
    assert.equal(ours, theirs);
    assert.is(fake.configRequests().length, 2 * theirRequests);
    assert.is(theirRequests, 1, 'the unexpired store is not refetched');
  } finally {
    await fake.close();
  }
});

t('polling follows the request parameters: only when asked, stopped by stopPolling; a new fetch stops the previous polling', async () => {
  const fake = await startFakeEppo(configText(1));
  const client = new saltshard.EppoClient({
    flagConfigurationStore: new saltshard.MemoryOnlyConfigurationStore(), logger: quiet,
    configurationRequestParameters: { apiKey: 'poll-key', sdkName: 's', sdkVersion: '1', baseUrl: fake.baseUrl, pollingIntervalMs: 100, pollAfterSuccessfulInitialization: true },
  });
  try {
    await client.fetchFlagConfigurations();
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 1);
    fake.setConfig(configText(2));
    for (const deadline = Date.now() + 10_000; client.getIntegerAssignment('config-version', 'a', {}, -1) !== 2 && Date.now() < deadline;) await sleep(50);
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 2, 'a poll stored the new config');
    client.stopPolling();
    await sleep(300); // a poll in flight may still land
    const stopped = fake.configRequests().length;
    await sleep(1000);
    assert.is(fake.configRequests().length, stopped, 'no request after stopPolling (1 s, ten intervals)');
    // Without pollAfterSuccessfulInitialization (Eppo's default), one request and no polling.
    client.setConfigurationRequestParameters({ apiKey: 'poll-key', sdkName: 's', sdkVersion: '1', baseUrl: fake.baseUrl, pollingIntervalMs: 100 });
    await client.fetchFlagConfigurations();
    const once = fake.configRequests().length;
    assert.is(once, stopped + 1);
    await sleep(1000);
    assert.is(fake.configRequests().length, once, 'no polling unless asked');
    // Retries: a failing server gets 1 + numInitialRequestRetries attempts; the store keeps its config.
    fake.plan = { kind: 'status', status: 500 };
    client.setConfigurationRequestParameters({ apiKey: 'poll-key', sdkName: 's', sdkVersion: '1', baseUrl: fake.baseUrl, pollingIntervalMs: 100, numInitialRequestRetries: 2 });
    await client.fetchFlagConfigurations();
    assert.is(fake.configRequests().length, once + 3);
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 2, 'the last good config stays');
    // An unusable response (not a UFC document) is a failed fetch, never stored.
    fake.plan = { kind: 'body', text: '{"flags": 42}' };
    client.setConfigurationRequestParameters({ apiKey: 'poll-key', sdkName: 's', sdkVersion: '1', baseUrl: fake.baseUrl, numInitialRequestRetries: 0, throwOnFailedInitialization: true });
    const error = await client.fetchFlagConfigurations().then(() => null, (e: Error) => e.message);
    assert.match(String(error), /flags/);
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 2);
  } finally {
    client.stopPolling();
    await fake.close();
  }
});

t('the store is the source of truth: change events with the changed keys, a throwing store, refused calls, setup errors', async () => {
  const flagsDoc = JSON.parse(configText(1)) as { flags: Record<string, Record<string, unknown>> };
  const errors: string[] = [];
  const store = new saltshard.MemoryOnlyConfigurationStore<unknown>();
  const client = new saltshard.EppoClient({ flagConfigurationStore: store, logger: { warn() {}, error: (...a: unknown[]) => void errors.push(a.join(' ')) } });
  const changes: unknown[] = [];
  client.on('configurationChanged', (keys) => void changes.push(keys));
  await store.setEntries(flagsDoc.flags);
  assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 1);
  assert.is(client.getIntegerAssignment('config-version', 'b', {}, -1), 1);
  assert.is(changes.length, 1, 'one event for one change, however many evaluations');
  await store.setEntries({ ...flagsDoc.flags, 'config-version': { ...flagsDoc.flags['config-version'], enabled: false } });
  assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), -1);
  assert.equal(changes[1], ['config-version']);
  await store.setEntries({ ...store.entries() });
  client.getIntegerAssignment('config-version', 'a', {}, -1);
  assert.is(changes.length, 2, 'the same flags in a new object: no event');
  // A copy made by withOverrides follows the same store.
  const copy = client.withOverrides({ 'other-flag': { key: 'x', value: 'x' } });
  await store.setEntries(flagsDoc.flags);
  assert.is(copy.getIntegerAssignment('config-version', 'a', {}, -1), 1);

  // A store that throws: the last configuration read from it is served, the error reported.
  const entries = store.entries;
  store.entries = () => {
    throw new Error('store down');
  };
  assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 1);
  assert.ok(errors.some((e) => e.includes('store down')), 'reported');
  // A store whose entries are not an object of flags: the last good configuration stays, the problem is reported.
  store.entries = () => 42 as never;
  assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 1);
  assert.ok(errors.some((e) => e.includes('no usable configuration')), 'reported');
  store.entries = entries;
  // A broken flag in the store is that flag's error only.
  await store.setEntries({ ...flagsDoc.flags, 'config-version': { garbage: 1 } });
  assert.is(client.getIntegerAssignmentDetails('config-version', 'a', {}, -1).evaluationDetails.flagEvaluationCode, 'ASSIGNMENT_ERROR');
  assert.ok(['MATCH', 'DEFAULT_ALLOCATION_NULL'].includes(client.getStringAssignmentDetails('checkout-redesign', 'a', {}, 'x').evaluationDetails.flagEvaluationCode), 'the other flags serve');

  assert.throws(() => client.setConfiguration(configText(3)), /configuration stores/);
  assert.throws(() => client.setBanditConfiguration({ bandits: {} }), /configuration stores/);
  assert.throws(() => client.setFlagConfigurationStore({ get() {} } as never), /missing: entries/);
  assert.throws(() => client.setConfigurationRequestParameters({ apiKey: '', sdkName: 's', sdkVersion: '1' }), /apiKey/);
  assert.throws(() => new saltshard.EppoClient({ configurationRequestParameters: { apiKey: 'k', sdkName: 's', sdkVersion: '1', requestTimeoutMs: -1 } }), /requestTimeoutMs/);

  // Eppo's own store class works as well (any IConfigurationStore does).
  const theirStore = new eppo.MemoryOnlyConfigurationStore();
  const withTheirs = new saltshard.EppoClient({ flagConfigurationStore: theirStore as never, logger: quiet });
  await theirStore.setEntries(flagsDoc.flags as never);
  assert.is(withTheirs.getIntegerAssignment('config-version', 'a', {}, -1), 1);
  assert.is(withTheirs.isInitialized(), true);

  // An unknown constructor option gets one warning naming it; isObfuscated warns as Eppo's.
  const warnings: string[] = [];
  new saltshard.EppoClient({ flagConfigurationStore: store, isObfuscated: true, pollingInterval: 5, logger: { error() {}, warn: (m: string) => void warnings.push(m) } } as never);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /unknown option ignored: pollingInterval/);
  assert.match(warnings[1], /isObfuscated/);

  // Saltshard's own client is unchanged: no stores, its configuration is set directly.
  const plain = saltshard.offlineInit({ flagsConfiguration: configText(4), logger: quiet });
  assert.is(plain.getIntegerAssignment('config-version', 'a', {}, -1), 4);
  assert.ok(!(plain instanceof saltshard.EppoClient) && client instanceof saltshard.SaltshardClient);
});

t('a client made by init that is given a flag store reads the store and stops its own polling', async () => {
  const fake = await startFakeEppo(configText(1));
  const warnings: string[] = [];
  const client = await saltshard.init({ apiKey: 'init-key', baseUrl: fake.baseUrl, pollingIntervalMs: 100, logger: { error() {}, warn: (m: string) => void warnings.push(m) } });
  try {
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 1);
    const store = new saltshard.MemoryOnlyConfigurationStore();
    await store.setEntries(JSON.parse(configText(7)).flags);
    client.setFlagConfigurationStore(store);
    assert.is(client.getIntegerAssignment('config-version', 'a', {}, -1), 7);
    assert.ok(warnings.some((w) => w.includes('polling is stopped')));
    await sleep(300);
    const stopped = fake.configRequests().length;
    await sleep(1000);
    assert.is(fake.configRequests().length, stopped, 'no more polls (1 s, ten intervals)');
  } finally {
    client.stopPolling();
    await fake.close();
  }
});

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

t.run();
