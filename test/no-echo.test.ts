// No key and no body bytes in any message (issue 12, item 3; reliability-plan §0.5): a config server answers
// with hostile bodies — the SDK key itself, the key inside values, flag names and enums, JSON that engines quote
// when it fails to parse — first to `init`, then to a running client's polls. Every surface a user can see is
// collected (logger lines at every level, init's error, syncFailed details, status().lastError, the details of
// a broken flag) and grepped for the key and for the marker bytes of each body.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { compileConfig, createClient, init, offlineInit, parseBanditModels } from '../src/mod.ts';
import { captureLogger, configText, startFakeEppo, waitFor } from './fake-eppo.ts';

const t = suite('no-echo');

const KEY = 'zSECRETkey0123456789abcdef';
const MARK = 'QXBODYBYTES';

const flag = (over: Record<string, unknown>) => ({
  key: 'f', enabled: true, variationType: 'STRING', totalShards: 10000,
  variations: { a: { key: 'a', value: 'A' } }, allocations: [{ key: 'all', splits: [{ variationKey: 'a', shards: [] }], doLog: true }], ...over,
});
const doc = (extra: Record<string, unknown>) => JSON.stringify({ createdAt: '2026-01-01T00:00:00.000Z', format: 'SERVER', environment: { name: 'T' }, flags: {}, ...extra });

/** Bodies that each put the key (or marker bytes) where a careless message would quote it. */
const BODIES: Record<string, string> = {
  'flags is the key': `{"flags":"${KEY}"}`,
  'the body is the key': KEY,
  'not JSON, marker first': `${MARK} ${KEY} not json`,
  'not JSON, marker late': `{"flags": {"a": ${MARK}${KEY}}}`,
  'truncated after the key': `{"flags":{"a":{"key":"${KEY}`,
  'a JSON string': JSON.stringify(KEY),
  'an array': JSON.stringify([KEY, MARK]),
  'format is the key': doc({ format: KEY }),
  'environment is the key': doc({ environment: KEY }),
  'environment name is an object': doc({ environment: { name: { k: KEY } } }),
  'createdAt is the key as number-like': doc({ createdAt: { [KEY]: MARK } }),
  'a flag that is the key': doc({ flags: { a: KEY } }),
  'a flag named by the key': doc({ flags: { [KEY]: { garbage: MARK } } }),
  'enabled is the key': doc({ flags: { f: flag({ enabled: KEY }) } }),
  'variationType is the key': doc({ flags: { f: flag({ variationType: KEY }) } }),
  'totalShards is the key': doc({ flags: { f: flag({ totalShards: `${KEY}${MARK}` }) } }),
  'a variation value of the wrong type': doc({ flags: { f: flag({ variationType: 'INTEGER', variations: { a: { key: 'a', value: KEY } } }) } }),
  'a split naming a missing variation': doc({ flags: { f: flag({ allocations: [{ key: 'x', splits: [{ variationKey: KEY, shards: [] }] }] }) } }),
  'a shard range of strings': doc({ flags: { f: flag({ allocations: [{ key: 'x', splits: [{ variationKey: 'a', shards: [{ salt: 's', ranges: [{ start: KEY, end: MARK }] }] }] }] }) } }),
  'a condition operator': doc({ flags: { f: flag({ allocations: [{ key: 'x', rules: [{ conditions: [{ attribute: 'c', operator: KEY, value: MARK }] }], splits: [{ variationKey: 'a', shards: [] }] }] }) } }),
};

/** Flags the user asks for by a name other than the key (a detail naming the flag the caller named is no leak). */
const named = (flagKey: string) => flagKey !== KEY;

/** Every user-visible text for one hostile body, from init and from a running client's poll. */
async function surfaces(body: string): Promise<string[]> {
  const out: string[] = [];
  const fake = await startFakeEppo(configText(1));
  try {
    // 1. init against the hostile body.
    fake.plan = { kind: 'body', text: body };
    const log = captureLogger();
    try {
      const c = await init({ apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: 60_000, requestTimeoutMs: 2_000, numInitialRequestRetries: 0, logger: log.logger });
      out.push(...c.getFlagKeys().filter(named).map((k) => JSON.stringify(c.getStringAssignmentDetails(k, 's', {}, 'd').evaluationDetails)));
      out.push(String(c.syncStatus()?.lastError));
      c.close();
    } catch (err) {
      out.push(String(err), (err as Error).message, String((err as Error).stack));
    }
    out.push(...log.text());
    // 2. A running client whose next poll gets the hostile body.
    let n = 0;
    fake.plan = () => (n++ === 0 ? { kind: 'ok' } : { kind: 'body', text: body });
    const log2 = captureLogger();
    const failed: unknown[] = [];
    const client = createClient({ apiKey: KEY, baseUrl: fake.baseUrl, pollingIntervalMs: 100, requestTimeoutMs: 2_000, logger: log2.logger });
    client.on('syncFailed', (d) => void failed.push(d));
    // The hostile answer was handled once the poll after it went out.
    await waitFor('the hostile poll handled', () => fake.configRequests().length >= 3, 15_000);
    out.push(String(client.syncStatus()?.lastError), ...failed.map(String), ...log2.text());
    for (const k of client.getFlagKeys().filter(named)) out.push(JSON.stringify(client.getStringAssignmentDetails(k, 's', {}, 'd').evaluationDetails));
    client.close();
  } finally {
    await fake.close();
  }
  return out;
}

t('no message, event, error or detail quotes the SDK key or body bytes, for any hostile body', async () => {
  let checked = 0;
  const leaks: string[] = [];
  for (const [name, body] of Object.entries(BODIES)) {
    const texts = await surfaces(body);
    assert.ok(texts.length >= 2, `${name}: surfaces collected`);
    for (const text of texts) {
      checked++;
      if (text.includes(KEY) || text.includes(MARK) || text.includes(KEY.slice(0, 10))) leaks.push(`${name}: ${text}`);
    }
  }
  console.log(`NO-ECHO ${Object.keys(BODIES).length} hostile bodies, ${checked} surfaces checked, ${leaks.length} leaks`);
  assert.deepEqual(leaks, []);
});

t('offline parse errors name the JSON path and the expected type, never the value', () => {
  const cases: Array<[string, RegExp]> = [
    [`{"flags":"${KEY}"}`, /at \$\.flags: Invalid type: Expected Object but received a string/],
    [`${MARK}`, /at \$: not JSON/],
    [doc({ environment: { name: [KEY] } }), /at \$\.environment\.name: Invalid type: Expected string but received an array/],
  ];
  for (const [text, re] of cases) {
    let message = '';
    try {
      compileConfig(text);
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, re);
    assert.ok(!message.includes(KEY) && !message.includes(MARK), message);
  }
  const broken = offlineInit({ flagsConfiguration: doc({ flags: { f: flag({ enabled: KEY }) } }), logger: { error() {}, warn() {} } });
  const d = broken.getStringAssignmentDetails('f', 's', {}, 'd').evaluationDetails.flagEvaluationDescription;
  assert.match(d, /\$\.flags\.f\.enabled: Invalid type: Expected boolean but received a string/);
  assert.throws(() => parseBanditModels(`${MARK}${KEY}`), (err: Error) => err instanceof SyntaxError && !err.message.includes(MARK) && !err.message.includes(KEY));
});

t.run();
