// The HTTP server over real sockets on 127.0.0.1, served by the runtime's adapter (Bun.serve; @hono/node-server
// on Node and Deno): OFREP through the official OpenFeature provider, the config relay through Eppo's official
// Node SDK, batch assignment, auth, limits, errors, metrics, readiness and graceful shutdown.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OpenFeature } from '@openfeature/server-sdk';
import { OFREPProvider } from '@openfeature/ofrep-provider';
import { OFREPApi } from '@openfeature/ofrep-core';
import * as eppo from '@eppo/node-server-sdk';
import { applicationLogger } from '@eppo/js-client-sdk-common';
import { type SaltshardClient, createClient, offlineInit } from '../src/mod.ts';
import { type RunningServer, type ServeOptions, currentRuntime, serve } from '../src/server/serve.ts';
import { watchConfigFile } from '../src/server/file-source.ts';
import { ROOT } from './support.ts';

const t = suite('server');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const SUBJECTS: { subjectKey: string; subjectAttributes: Record<string, string | number | boolean> }[] = readFileSync(join(ROOT, 'examples', 'subjects.ndjson'), 'utf8')
  .split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l));
const quiet = { error() {}, warn() {} };
const noExposures = { logAssignment() {} };
const TOKEN = 'test-server-token-0123456789';
applicationLogger.level = 'warn';

function localClient(config: unknown = CONFIG): SaltshardClient {
  return offlineInit({ flagsConfiguration: config, logger: quiet, assignmentLogger: noExposures });
}

async function start(options: Partial<ServeOptions> = {}): Promise<RunningServer> {
  return serve({ client: localClient(), port: 0, hostname: '127.0.0.1', drainTimeoutMs: 5_000, ...options });
}

async function post(server: RunningServer, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; headers: Headers; json: any; text: string }> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

async function get(server: RunningServer, path: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${server.url}${path}`, { headers });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: res.status, headers: res.headers, json, text };
}

/** A request whose headers are sent at once and whose body is held back until `sendBody()`. */
function slowRequest(port: number, path: string, body: string) {
  const socket = connect(port, '127.0.0.1');
  let raw = '';
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    // Resolves on a complete response (Deno keeps the connection open until the request body arrives).
    const complete = (): { status: number; body: string } | null => {
      const end = raw.indexOf('\r\n\r\n');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (end < 0 || !m) return null;
      const head = raw.slice(0, end);
      const body = raw.slice(end + 4);
      const length = /\r\ncontent-length: *(\d+)/i.exec(head);
      if (length && Buffer.byteLength(body) >= Number(length[1])) return { status: Number(m[1]), body };
      if (/\r\ntransfer-encoding: *chunked/i.test(head) && body.endsWith('0\r\n\r\n')) return { status: Number(m[1]), body };
      return null;
    };
    socket.on('data', (d) => {
      raw += d.toString();
      const r = complete();
      if (r) {
        socket.destroy();
        resolve(r);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed before a complete response: ${JSON.stringify(raw.slice(0, 200))}`)));
  });
  response.catch(() => {});
  socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`);
  return { response, sendBody: () => socket.write(body) };
}

/** Sends raw request text and collects everything the server sends until it closes the connection. */
function rawExchange(port: number, request: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let raw = '';
    const timer = setTimeout(() => socket.destroy(), 10_000);
    socket.on('connect', () => socket.write(request));
    socket.on('data', (d) => void (raw += d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(raw)?.[1] ?? 0), text: raw });
    });
  });
}

function tryConnect(port: number): Promise<'connected' | string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(cond: () => boolean, ms = 3_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(5);
  }
}

t('serves on the runtime\'s own adapter: healthz, readyz, openapi, request ids, JSON 404', async () => {
  const server = await start();
  try {
    assert.equal(server.runtime, currentRuntime());
    const h = await get(server, '/healthz');
    assert.deepEqual([h.status, h.json], [200, { status: 'ok' }]);
    assert.match(h.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    const echoed = await get(server, '/healthz', { 'X-Request-Id': 'trace-abc_123' });
    assert.equal(echoed.headers.get('x-request-id'), 'trace-abc_123');
    const r = await get(server, '/readyz');
    assert.deepEqual([r.status, r.json], [200, { status: 'ready', flags: 6, environment: 'Example' }]);
    const doc = await get(server, '/openapi.json');
    assert.equal(doc.json.openapi, '3.1.0');
    for (const p of ['/ofrep/v1/evaluate/flags/{key}', '/ofrep/v1/evaluate/flags', '/v1/assign/batch', '/api/flag-config/v1/config', '/healthz', '/readyz', '/metrics']) {
      assert.ok(doc.json.paths[p], `openapi documents ${p}`);
    }
    // Every operation that reads a body documents the answers the body reader can give: too large, stalled.
    for (const [p, ops] of Object.entries(doc.json.paths as Record<string, Record<string, { requestBody?: unknown; responses: Record<string, unknown> }>>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (op.requestBody) assert.ok(op.responses['413'] && op.responses['408'], `${method} ${p} documents 413 and 408`);
      }
    }
    const missing = await get(server, '/nope?apiKey=secret');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.errorCode, 'NOT_FOUND');
    assert.ok(!missing.text.includes('secret'));
  } finally {
    await server.shutdown();
  }
});

t('OFREP single flag: shapes, reasons, code default, errors naming the field', async () => {
  const server = await start();
  const local = localClient();
  try {
    const ok = await post(server, '/ofrep/v1/evaluate/flags/checkout-redesign', { context: { targetingKey: 'user-2', country: 'FR' } });
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('content-type') ?? '', /^application\/json/);
    assert.deepEqual(ok.json, {
      key: 'checkout-redesign', value: local.getStringAssignment('checkout-redesign', 'user-2', { country: 'FR' }, 'x'), reason: 'TARGETING_MATCH',
      variant: ok.json.value, metadata: { flagEvaluationCode: 'MATCH', environment: 'Example', allocationKey: 'experiment', variationType: 'STRING' },
    });
    const nested = await post(server, '/ofrep/v1/evaluate/flags/results-per-page', { context: { targetingKey: 'u', sessions: 240 } });
    assert.deepEqual([nested.json.value, nested.json.reason], [20, 'TARGETING_MATCH']);
    const integer = await post(server, '/ofrep/v1/evaluate/flags/results-per-page', { context: { targetingKey: 'u' } });
    assert.ok(/"value":10[,}]/.test(integer.text), 'integers are JSON integers');
    const disabled = await post(server, '/ofrep/v1/evaluate/flags/legacy-banner', { context: { targetingKey: 'u' } });
    assert.equal(disabled.status, 200);
    assert.equal(disabled.json.reason, 'DISABLED');
    assert.ok(!('value' in disabled.json), 'no value: use the code default');
    const dflt = await post(server, '/ofrep/v1/evaluate/flags/checkout-redesign', { context: { targetingKey: 'u', country: 'JP' } });
    assert.deepEqual([dflt.status, dflt.json.reason, 'value' in dflt.json], [200, 'DEFAULT', false]);

    const notFound = await post(server, '/ofrep/v1/evaluate/flags/nope', { context: { targetingKey: 'u' } });
    assert.deepEqual([notFound.status, notFound.json.key, notFound.json.errorCode], [404, 'nope', 'FLAG_NOT_FOUND']);
    const noKey = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { country: 'US' } });
    assert.deepEqual([noKey.status, noKey.json.errorCode], [400, 'TARGETING_KEY_MISSING']);
    assert.match(noKey.json.errorDetails, /context\.targetingKey/);
    const badJson = await post(server, '/ofrep/v1/evaluate/flags/new-search', '{"context": {');
    assert.deepEqual([badJson.status, badJson.json.key, badJson.json.errorCode], [400, 'new-search', 'PARSE_ERROR']);
    assert.match(badJson.json.errorDetails, /not valid JSON/);
    const badContext = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: [1, 2] });
    assert.deepEqual([badContext.status, badContext.json.errorCode], [400, 'INVALID_CONTEXT']);
    assert.match(badContext.json.errorDetails, /"context"/);
    const badKey = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 42 } });
    assert.deepEqual([badKey.status, badKey.json.errorCode], [400, 'INVALID_CONTEXT']);
    assert.match(badKey.json.errorDetails, /targetingKey" must be a string/);
    const notObject = await post(server, '/ofrep/v1/evaluate/flags/new-search', '[1]');
    assert.deepEqual([notObject.status, notObject.json.errorCode], [400, 'INVALID_CONTEXT']);
  } finally {
    await server.shutdown();
  }
});

t('OFREP conformance through the official @openfeature/ofrep-provider', async () => {
  const server = await start();
  const local = localClient();
  try {
    await OpenFeature.setProviderAndWait('ofrep', new OFREPProvider({ baseUrl: server.url }));
    const of = OpenFeature.getClient('ofrep');
    for (const s of SUBJECTS) {
      const ctx = { targetingKey: s.subjectKey, ...s.subjectAttributes };
      const str = await of.getStringDetails('checkout-redesign', 'none', ctx);
      assert.equal(str.value, local.getStringAssignment('checkout-redesign', s.subjectKey, s.subjectAttributes, 'none'), s.subjectKey);
      const bool = await of.getBooleanValue('new-search', false, ctx);
      assert.equal(bool, local.getBooleanAssignment('new-search', s.subjectKey, s.subjectAttributes, false));
      const n = await of.getNumberValue('results-per-page', 0, ctx);
      assert.equal(n, local.getIntegerAssignment('results-per-page', s.subjectKey, s.subjectAttributes, 0));
      const obj = await of.getObjectValue('onboarding-copy', {}, ctx);
      assert.deepEqual(obj, local.getJSONAssignment('onboarding-copy', s.subjectKey, s.subjectAttributes, {}));
    }
    const ctx = { targetingKey: 'user-2', country: 'FR', sessions: 240 };
    const match = await of.getStringDetails('checkout-redesign', 'none', ctx);
    assert.deepEqual([match.reason, match.errorCode, match.flagMetadata.allocationKey], ['TARGETING_MATCH', undefined, 'experiment']);
    assert.equal(match.variant, match.value);
    const split = await of.getObjectDetails('onboarding-copy', {}, ctx);
    assert.equal(split.reason, 'SPLIT');
    assert.deepEqual(Object.keys(split.value as object), ['title', 'steps']);
    const stat = await of.getNumberDetails('price-multiplier', 0, ctx);
    assert.deepEqual([stat.value, stat.reason], [1, 'STATIC']);
    const missing = await of.getBooleanDetails('nope', true, ctx);
    assert.deepEqual([missing.value, missing.reason, missing.errorCode], [true, 'ERROR', 'FLAG_NOT_FOUND']);
    const mismatch = await of.getBooleanDetails('checkout-redesign', false, ctx);
    assert.deepEqual([mismatch.value, mismatch.reason, mismatch.errorCode], [false, 'ERROR', 'TYPE_MISMATCH']);
    const noKey = await of.getStringDetails('checkout-redesign', 'd', { country: 'FR' });
    assert.deepEqual([noKey.value, noKey.errorCode], ['d', 'TARGETING_KEY_MISSING']);
  } finally {
    await OpenFeature.clearProviders();
    await server.shutdown();
  }
});

t('OFREP bulk: every flag, per-flag failures inside 200, ETag and 304 through the official OFREP client', async () => {
  const cfg = JSON.parse(CONFIG);
  cfg.flags['broken'] = { variationType: 'TEXT' };
  const server = await start({ client: localClient(cfg) });
  try {
    const api = new OFREPApi(server.url);
    const first = await api.postBulkEvaluateFlags({ context: { targetingKey: 'user-2', country: 'FR' } });
    assert.equal(first.httpStatus, 200);
    const flags = (first.value as { flags: any[] }).flags;
    assert.deepEqual(flags.map((f) => f.key), ['checkout-redesign', 'new-search', 'results-per-page', 'price-multiplier', 'onboarding-copy', 'legacy-banner', 'broken']);
    assert.equal(flags[0].reason, 'TARGETING_MATCH');
    assert.deepEqual([flags[6].errorCode, typeof flags[6].errorDetails], ['PARSE_ERROR', 'string']);
    const etag = first.httpResponse.headers.get('etag');
    assert.match(etag ?? '', /^"[0-9a-f]{32}"$/);
    const again = await api.postBulkEvaluateFlags({ context: { targetingKey: 'user-2', country: 'FR' } }, { headers: [['If-None-Match', etag!]] });
    assert.equal(again.httpStatus, 304);
    assert.equal(again.httpResponse.headers.get('etag'), etag);
    const other = await api.postBulkEvaluateFlags({ context: { targetingKey: 'user-2', country: 'JP' } }, { headers: [['If-None-Match', etag!]] });
    assert.equal(other.httpStatus, 200, 'another context gives another body and ETag');
    assert.notEqual(other.httpResponse.headers.get('etag'), etag);
    const noKey = await post(server, '/ofrep/v1/evaluate/flags', { context: {} });
    assert.deepEqual([noKey.status, noKey.json.errorCode], [400, 'TARGETING_KEY_MISSING']);
    const badJson = await post(server, '/ofrep/v1/evaluate/flags', 'nope');
    assert.deepEqual([badJson.status, badJson.json.errorCode], [400, 'PARSE_ERROR']);
  } finally {
    await server.shutdown();
  }
});

t('batch assignment: rows like the CLI, flag subsets, unknown flags, limits and field errors', async () => {
  const server = await start({ maxBatchEvaluations: 20 });
  const local = localClient();
  try {
    const res = await post(server, '/v1/assign/batch', { subjects: SUBJECTS.slice(0, 3) });
    assert.equal(res.status, 200);
    assert.equal(res.json.assignments.length, 18);
    const expected = SUBJECTS.slice(0, 3).flatMap((s) => local.getFlagKeys().map((flagKey) => {
      const r = local.evaluate(flagKey, s.subjectKey, s.subjectAttributes);
      return { subjectKey: s.subjectKey, flagKey, variationType: r.variationType, variationKey: r.variationKey, value: r.value, allocationKey: r.allocationKey, reason: r.code, doLog: r.doLog };
    }));
    assert.deepEqual(res.json.assignments, expected);
    const subset = await post(server, '/v1/assign/batch', { subjects: [{ subjectKey: 'a' }, { subjectKey: 'b', subjectAttributes: { country: 'FR' } }], flags: ['price-multiplier', 'nope'] });
    assert.deepEqual(subset.json.assignments.map((r: any) => [r.subjectKey, r.flagKey, r.reason]), [
      ['a', 'price-multiplier', 'MATCH'], ['a', 'nope', 'FLAG_UNRECOGNIZED_OR_DISABLED'], ['b', 'price-multiplier', 'MATCH'], ['b', 'nope', 'FLAG_UNRECOGNIZED_OR_DISABLED'],
    ]);
    const tooMany = await post(server, '/v1/assign/batch', { subjects: SUBJECTS.slice(0, 4) });
    assert.deepEqual([tooMany.status, tooMany.json.errorCode], [413, 'BATCH_TOO_LARGE']);
    assert.match(tooMany.json.errorDetails, /4 subjects x 6 flags = 24/);
    const badSubject = await post(server, '/v1/assign/batch', { subjects: [{ subjectKey: 'a' }, { subjectKey: '' }] });
    assert.deepEqual([badSubject.status, badSubject.json.errorCode], [400, 'INVALID_REQUEST']);
    assert.match(badSubject.json.errorDetails, /subjects\[1\]\.subjectKey/);
    const badAttrs = await post(server, '/v1/assign/batch', { subjects: [{ subjectKey: 'a', subjectAttributes: [] }] });
    assert.match(badAttrs.json.errorDetails, /subjects\[0\]\.subjectAttributes/);
    const badFlags = await post(server, '/v1/assign/batch', { subjects: [], flags: ['ok', 3] });
    assert.match(badFlags.json.errorDetails, /flags\[1\]/);
    const noSubjects = await post(server, '/v1/assign/batch', { flags: [] });
    assert.deepEqual([noSubjects.status, noSubjects.json.errorCode], [400, 'INVALID_REQUEST']);
    assert.match(noSubjects.json.errorDetails, /"subjects"/);
    const badJson = await post(server, '/v1/assign/batch', '{"subjects":');
    assert.deepEqual([badJson.status, badJson.json.errorCode], [400, 'PARSE_ERROR']);
  } finally {
    await server.shutdown();
  }
});

t('config relay: ETag/304, and Eppo\'s official Node SDK and a saltshard live client assign as saltshard does', async () => {
  const server = await start();
  const local = localClient();
  try {
    const first = await get(server, '/api/flag-config/v1/config?apiKey=anything&sdkName=x&sdkVersion=1');
    assert.equal(first.status, 200);
    assert.deepEqual(Object.keys(first.json.flags), local.getFlagKeys());
    const etag = first.headers.get('etag')!;
    const again = await get(server, '/api/flag-config/v1/config', { 'If-None-Match': etag });
    assert.equal(again.status, 304);

    const logged: unknown[] = [];
    const client = await eppo.init({ apiKey: 'ignored-without-token', baseUrl: `${server.url}/api`, assignmentLogger: { logAssignment: (e) => void logged.push(e) }, pollingIntervalMs: 60_000 });
    const chained = createClient({ apiKey: 'k', baseUrl: `${server.url}/api`, logger: quiet, assignmentLogger: noExposures });
    try {
      assert.equal(await chained.waitForInitialization(), true);
      for (const s of SUBJECTS) {
        for (const c of [client, chained]) {
          assert.equal(c.getStringAssignment('checkout-redesign', s.subjectKey, s.subjectAttributes, 'd'), local.getStringAssignment('checkout-redesign', s.subjectKey, s.subjectAttributes, 'd'));
          assert.equal(c.getBooleanAssignment('new-search', s.subjectKey, s.subjectAttributes, true), local.getBooleanAssignment('new-search', s.subjectKey, s.subjectAttributes, true));
          assert.equal(c.getIntegerAssignment('results-per-page', s.subjectKey, s.subjectAttributes, 0), local.getIntegerAssignment('results-per-page', s.subjectKey, s.subjectAttributes, 0));
          assert.equal(c.getNumericAssignment('price-multiplier', s.subjectKey, s.subjectAttributes, 0), local.getNumericAssignment('price-multiplier', s.subjectKey, s.subjectAttributes, 0));
          assert.deepEqual(c.getJSONAssignment('onboarding-copy', s.subjectKey, s.subjectAttributes, {}), local.getJSONAssignment('onboarding-copy', s.subjectKey, s.subjectAttributes, {}));
          assert.equal(c.getBooleanAssignment('legacy-banner', s.subjectKey, s.subjectAttributes, true), true);
        }
      }
      assert.ok(logged.length > 0, 'the Eppo SDK logs exposures from the relayed config');
    } finally {
      client.stopPolling();
      chained.close();
    }
  } finally {
    await server.shutdown();
  }
});

t('auth: bearer token (and X-API-Key for OFREP, apiKey for the relay), constant-time compared; open health endpoints', async () => {
  const lines: string[] = [];
  const server = await start({ token: TOKEN, logger: { ...quiet, info: (l: unknown) => void lines.push(String(l)) } });
  try {
    const body = { context: { targetingKey: 'u' } };
    const none = await post(server, '/ofrep/v1/evaluate/flags/new-search', body);
    assert.deepEqual([none.status, none.json.errorCode], [401, 'UNAUTHORIZED']);
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    const wrong = await post(server, '/ofrep/v1/evaluate/flags/new-search', body, { Authorization: 'Bearer wrong' });
    assert.equal(wrong.status, 401);
    const prefix = await post(server, '/ofrep/v1/evaluate/flags/new-search', body, { Authorization: `Bearer ${TOKEN.slice(0, -1)}` });
    assert.equal(prefix.status, 401);
    const malformed = await post(server, '/ofrep/v1/evaluate/flags/new-search', body, { Authorization: 'Basic abc' });
    assert.deepEqual([malformed.status, malformed.json.errorCode], [400, 'INVALID_REQUEST']);
    const right = await post(server, '/ofrep/v1/evaluate/flags/new-search', body, { Authorization: `Bearer ${TOKEN}` });
    assert.equal(right.status, 200);
    const apiKey = await post(server, '/ofrep/v1/evaluate/flags/new-search', body, { 'X-API-Key': TOKEN });
    assert.equal(apiKey.status, 200);
    assert.equal((await post(server, '/v1/assign/batch', { subjects: [] })).status, 401);
    assert.equal((await post(server, '/v1/assign/batch', { subjects: [] }, { 'X-API-Key': TOKEN })).status, 401, 'batch takes bearer only');
    assert.equal((await post(server, '/v1/assign/batch', { subjects: [] }, { Authorization: `Bearer ${TOKEN}` })).status, 200);
    assert.equal((await get(server, '/api/flag-config/v1/config?apiKey=nope')).status, 401);
    assert.equal((await get(server, `/api/flag-config/v1/config?apiKey=${TOKEN}&sdkName=js`)).status, 200);
    assert.equal((await get(server, '/api/flag-config/v1/config', { Authorization: `Bearer ${TOKEN}` })).status, 200);
    for (const p of ['/healthz', '/readyz', '/metrics', '/openapi.json']) assert.equal((await get(server, p)).status, 200, p);

    await OpenFeature.setProviderAndWait('ofrep-auth', new OFREPProvider({ baseUrl: server.url, headers: [['Authorization', `Bearer ${TOKEN}`]] }));
    assert.equal((await OpenFeature.getClient('ofrep-auth').getNumberDetails('price-multiplier', 0, { targetingKey: 'u' })).value, 1);
    await OpenFeature.setProviderAndWait('ofrep-noauth', new OFREPProvider({ baseUrl: server.url }));
    const denied = await OpenFeature.getClient('ofrep-noauth').getNumberDetails('price-multiplier', 0, { targetingKey: 'u' });
    assert.deepEqual([denied.value, denied.reason], [0, 'ERROR']);
    const eppoClient = await eppo.init({ apiKey: TOKEN, baseUrl: `${server.url}/api`, assignmentLogger: noExposures, pollingIntervalMs: 60_000 });
    try {
      assert.equal(eppoClient.getNumericAssignment('price-multiplier', 'u', {}, 0), 1, 'Eppo SDKs send the token as apiKey');
    } finally {
      eppoClient.stopPolling();
    }
    const log = lines.join('\n');
    assert.ok(lines.length >= 10);
    assert.ok(!log.includes(TOKEN), 'the access log never shows the token');
    const line = JSON.parse(lines.find((l) => l.includes('/api/flag-config'))!);
    assert.equal(line.path, '/api/flag-config/v1/config', 'no query string in the log');
    assert.deepEqual(Object.keys(line).sort(), ['durationMs', 'level', 'method', 'msg', 'path', 'requestId', 'route', 'status', 'time']);
  } finally {
    await OpenFeature.clearProviders();
    await server.shutdown();
  }
});

t('limits: 413 JSON over the body limits (Content-Length or chunked); request deadline 504 against a slow client', async () => {
  const server = await start({ batchBodyLimit: 2048, requestTimeoutMs: 300 });
  try {
    const big = { context: { targetingKey: 'u', pad: 'x'.repeat(70 * 1024) } };
    const ofrep = await post(server, '/ofrep/v1/evaluate/flags/new-search', big);
    assert.deepEqual([ofrep.status, ofrep.json.errorCode], [413, 'PAYLOAD_TOO_LARGE']);
    const fits = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 'u', pad: 'x'.repeat(60 * 1024) } });
    assert.equal(fits.status, 200);
    const batch = await post(server, '/v1/assign/batch', { subjects: [{ subjectKey: 'x'.repeat(3000) }] });
    assert.deepEqual([batch.status, batch.json.errorCode], [413, 'PAYLOAD_TOO_LARGE']);
    // A chunked body (no Content-Length) is counted as it streams in: over the limit it is refused the same way.
    for (const [path, size, limit] of [['/v1/assign/batch', 3000, 2048], ['/ofrep/v1/evaluate/flags/new-search', 70 * 1024, 65536]] as const) {
      const doc = JSON.stringify({ subjects: [{ subjectKey: 'x'.repeat(size) }], context: { targetingKey: 'u' } });
      const chunks = doc.match(/[^]{1,1000}/g)!.map((c) => `${Buffer.byteLength(c).toString(16)}\r\n${c}\r\n`).join('');
      const r = await rawExchange(server.port, `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${chunks}0\r\n\r\n`);
      assert.equal(r.status, 413, r.text);
      assert.match(r.text, new RegExp(`"errorCode":"PAYLOAD_TOO_LARGE","errorDetails":"request body exceeds ${limit} bytes"`));
      assert.match(r.text, /\r\nconnection: close\r\n/i);
    }
    const smallChunked = await rawExchange(server.port, `POST /ofrep/v1/evaluate/flags/new-search HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n5\r\n{"con\r\n1b\r\ntext":{"targetingKey":"u"}}\r\n0\r\n\r\n`);
    assert.equal(smallChunked.status, 200, smallChunked.text);
    assert.match(smallChunked.text, /"key":"new-search"/);
    const slow = slowRequest(server.port, '/ofrep/v1/evaluate/flags/new-search', JSON.stringify({ context: { targetingKey: 'u' } }));
    const r = await slow.response;
    assert.equal(r.status, 504);
    assert.match(r.body, /"errorCode":"TIMEOUT"/);
  } finally {
    await server.shutdown();
  }
});

t('CORS: no headers by default; an explicit allowlist when configured', async () => {
  const closed = await start();
  try {
    const res = await fetch(`${closed.url}/ofrep/v1/evaluate/flags/new-search`, { method: 'POST', headers: { Origin: 'https://app.example.com' }, body: '{"context":{"targetingKey":"u"}}' });
    await res.text();
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  } finally {
    await closed.shutdown();
  }
  await assert.rejects(start({ corsOrigins: ['*'] }), /explicit origins/);
  const open = await start({ corsOrigins: ['https://app.example.com'], token: TOKEN });
  try {
    const pre = await fetch(`${open.url}/ofrep/v1/evaluate/flags/new-search`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://app.example.com', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    await pre.text();
    assert.ok(pre.status === 204 || pre.status === 200, `preflight ${pre.status}`);
    assert.equal(pre.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const allowed = await post(open, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 'u' } }, { Origin: 'https://app.example.com', Authorization: `Bearer ${TOKEN}` });
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com');
    const other = await post(open, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 'u' } }, { Origin: 'https://evil.example', Authorization: `Bearer ${TOKEN}` });
    assert.equal(other.headers.get('access-control-allow-origin'), null);
  } finally {
    await open.shutdown();
  }
});

t('metrics: Prometheus text with request counts, duration histogram, evaluations by reason and config gauges', async () => {
  const server = await start();
  try {
    await post(server, '/ofrep/v1/evaluate/flags/checkout-redesign', { context: { targetingKey: 'user-2', country: 'FR' } });
    await post(server, '/ofrep/v1/evaluate/flags/nope', { context: { targetingKey: 'u' } });
    await post(server, '/v1/assign/batch', { subjects: [{ subjectKey: 'a' }], flags: ['price-multiplier'] });
    // Unusual method tokens share one label value (the series stay bounded whatever clients send).
    for (const method of ['PROPFIND', 'MKCOL', 'LOCK']) await (await fetch(`${server.url}/healthz`, { method })).text();
    const m = await get(server, '/metrics');
    assert.match(m.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = m.text;
    assert.match(text, /^# TYPE saltshard_http_requests_total counter$/m);
    assert.match(text, /^saltshard_http_requests_total\{route="\/ofrep\/v1\/evaluate\/flags\/\{key\}",method="POST",status="200"\} 1$/m);
    assert.match(text, /^saltshard_http_requests_total\{route="\/ofrep\/v1\/evaluate\/flags\/\{key\}",method="POST",status="404"\} 1$/m);
    assert.match(text, /^saltshard_http_requests_total\{route="\/healthz",method="OTHER",status="\d+"\} 3$/m);
    assert.doesNotMatch(text, /PROPFIND|MKCOL|LOCK/);
    assert.match(text, /^# TYPE saltshard_http_request_duration_seconds histogram$/m);
    assert.match(text, /^saltshard_http_request_duration_seconds_bucket\{route="\/v1\/assign\/batch",status="200",le="\+Inf"\} 1$/m);
    assert.match(text, /^saltshard_http_request_duration_seconds_count\{route="\/v1\/assign\/batch",status="200"\} 1$/m);
    assert.match(text, /^saltshard_evaluations_total\{api="ofrep",reason="TARGETING_MATCH"\} 1$/m);
    assert.match(text, /^saltshard_evaluations_total\{api="ofrep",reason="ERROR"\} 1$/m);
    assert.match(text, /^saltshard_evaluations_total\{api="batch",reason="MATCH"\} 1$/m);
    assert.match(text, /^saltshard_flags 6$/m);
    assert.match(text, /^saltshard_config_age_seconds \d+(\.\d+)?(e-\d+)?$/m);
    assert.match(text, /^saltshard_ready 1$/m);
    for (const line of text.trim().split('\n')) assert.match(line, /^(# (HELP|TYPE) \w+ .+|\w+(\{.*\})? (-?[\d.e+-]+|NaN))$/, line);
  } finally {
    await server.shutdown();
  }
});

t('readyz: a live client is ready after a fetch and not when its last success is older than 3 polling intervals', async () => {
  let clock = Date.now();
  let fail = false;
  const live = createClient({
    apiKey: 'k', pollingIntervalMs: 60_000, logger: quiet, assignmentLogger: noExposures, numInitialRequestRetries: 0,
    fetch: async () => (fail ? new Response('no', { status: 500 }) : new Response(CONFIG, { status: 200, headers: { 'content-type': 'application/json' } })),
  });
  const server = await start({ client: live, pollingIntervalMs: 60_000, now: () => clock });
  try {
    await live.waitForInitialization();
    const ok = await get(server, '/readyz');
    assert.equal(ok.status, 200);
    clock += 3 * 60_000 + 1_000;
    fail = true;
    const stale = await get(server, '/readyz');
    assert.deepEqual([stale.status, stale.json.errorCode], [503, 'NOT_READY']);
    assert.match(stale.json.errorDetails, /stale/);
    const m = await get(server, '/metrics');
    assert.match(m.text, /^saltshard_config_last_poll_status 200$/m);
    assert.match(m.text, /^saltshard_ready 0$/m);
  } finally {
    await server.shutdown();
  }
  const empty = createClient({ apiKey: 'k', logger: quiet, numInitialRequestRetries: 0, fetch: async () => new Response('down', { status: 503 }) });
  const notLoaded = await start({ client: empty });
  try {
    await empty.waitForInitialization();
    const r = await get(notLoaded, '/readyz');
    assert.equal(r.status, 503);
    const e = await post(notLoaded, '/ofrep/v1/evaluate/flags/x', { context: { targetingKey: 'u' } });
    assert.deepEqual([e.status, e.json.errorCode], [503, 'PROVIDER_NOT_READY']);
  } finally {
    await notLoaded.shutdown();
  }
});

t('a --config file is reloaded when it changes; an invalid rewrite keeps the last good config', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'saltshard-server-'));
  const path = join(dir, 'flags.json');
  writeFileSync(path, CONFIG);
  const client = localClient(readFileSync(path, 'utf8'));
  const warnings: string[] = [];
  const watcher = watchConfigFile(client, path, { intervalMs: 50, logger: { error() {}, warn: (m: unknown) => void warnings.push(String(m)) } });
  const server = await start({ client });
  try {
    const ask = async () => (await post(server, '/ofrep/v1/evaluate/flags/price-multiplier', { context: { targetingKey: 'u' } })).json.value;
    assert.equal(await ask(), 1);
    const cfg = JSON.parse(CONFIG);
    cfg.flags['price-multiplier'].variations.base.value = 2.5;
    await sleep(20);
    writeFileSync(path, `${JSON.stringify(cfg)}\n`);
    await until(() => watcher.reloads === 1);
    assert.equal(await ask(), 2.5);
    writeFileSync(path, '{ not json');
    await until(() => watcher.lastError !== null);
    assert.equal(await ask(), 2.5);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0], /keeping the last good config/);
  } finally {
    watcher.stop();
    await server.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
});

t('graceful shutdown: readyz 503 first, then no new connections, in-flight requests all complete with 200', async () => {
  const server = await start({ shutdownDelayMs: 300 });
  const body = JSON.stringify({ context: { targetingKey: 'user-2', country: 'FR' } });
  const slow = Array.from({ length: 5 }, () => slowRequest(server.port, '/ofrep/v1/evaluate/flags/checkout-redesign', body));
  await until(() => server.app.inFlight === 5);
  const done = server.shutdown();
  assert.equal(server.app.draining, true);
  const ready = await get(server, '/readyz');
  assert.deepEqual([ready.status, ready.json.errorDetails], [503, 'shutting down']);
  await sleep(450);
  assert.notEqual(await tryConnect(server.port), 'connected', 'the listener is closed');
  assert.equal(server.app.inFlight, 5);
  for (const s of slow) s.sendBody();
  const results = await Promise.all(slow.map((s) => s.response));
  for (const r of results) {
    assert.equal(r.status, 200);
    assert.match(r.body, /"reason":"TARGETING_MATCH"/);
  }
  await done;
  assert.equal(server.app.inFlight, 0);
  assert.notEqual(await tryConnect(server.port), 'connected', 'no listener after shutdown');
});

t('saltshard serve: the CLI serves the bundled example with a token from the environment and exits 0 on SIGTERM', async () => {
  const runtime = currentRuntime();
  const entry = runtime === 'node' ? [join(ROOT, 'bin', 'saltshard')] : runtime === 'bun' ? [join(ROOT, 'src', 'bin.ts')] : ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts')];
  const env: Record<string, string | undefined> = { ...process.env, SALTSHARD_SERVER_TOKEN: TOKEN };
  delete env.SALTSHARD_API_KEY;
  const child = spawn(process.execPath, [...entry, 'serve', '--port', '0'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => void (out += d));
  child.stderr!.on('data', (d) => void (err += d));
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(`${code} ${signal}`)));
  try {
    await until(() => /on http:\/\/127\.0\.0\.1:\d+/.test(err), 15_000);
    const url = /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)![1];
    assert.match(err, /bundled example config/);
    assert.ok(!err.includes(TOKEN));
    const server = { url } as RunningServer;
    const ok = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 'u', appVersion: '3.0.0' } }, { Authorization: `Bearer ${TOKEN}` });
    assert.deepEqual([ok.status, ok.json.key], [200, 'new-search']);
    assert.equal((await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: 'u' } })).status, 401);
    await until(() => out.split('\n').filter(Boolean).length >= 2, 5_000);
    const lines = out.trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(lines.map((l) => l.status), [200, 401]);
    assert.ok(!out.includes(TOKEN));
    child.kill('SIGTERM');
    const status = await exited;
    assert.match(err, /shutting down[^]*stopped/);
    // Deno's node:child_process reports the signal it sent rather than the exit code; "stopped" shows a clean exit.
    assert.ok(status === '0 null' || (runtime === 'deno' && status === 'null SIGTERM'), status);
  } finally {
    child.kill('SIGKILL');
  }
});

t('saltshard serve --quiet: no access-log line at all', async () => {
  const runtime = currentRuntime();
  const entry = runtime === 'node' ? [join(ROOT, 'bin', 'saltshard')] : runtime === 'bun' ? [join(ROOT, 'src', 'bin.ts')] : ['run', '-A', '--no-lock', join(ROOT, 'src', 'bin.ts')];
  const env: Record<string, string | undefined> = { ...process.env };
  delete env.SALTSHARD_API_KEY;
  delete env.SALTSHARD_SERVER_TOKEN;
  const child = spawn(process.execPath, [...entry, 'serve', '--port', '0', '--quiet'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => void (out += d));
  child.stderr!.on('data', (d) => void (err += d));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await until(() => /on http:\/\/127\.0\.0\.1:\d+/.test(err), 15_000);
    const server = { url: /on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)![1] } as RunningServer;
    for (let i = 0; i < 3; i++) {
      const r = await post(server, '/ofrep/v1/evaluate/flags/new-search', { context: { targetingKey: `u${i}`, appVersion: '3.0.0' } });
      assert.equal(r.status, 200);
    }
    assert.equal((await post(server, '/ofrep/v1/evaluate/flags/new-search', '{')).status, 400);
    child.kill('SIGTERM');
    await exited;
    assert.equal(out, '');
  } finally {
    child.kill('SIGKILL');
  }
});

t.run();
