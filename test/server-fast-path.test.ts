// The OFREP routes answered without Hono (src/server/fast-path.ts: node:http on Node and Deno, Bun.serve's fetch on
// Bun) must answer exactly as the Hono routes do: every request below goes to a listening server and to the same
// app's Hono `fetch` in memory, and status, body and the headers that matter are compared, then the two apps'
// request counters.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { offlineInit } from '../src/mod.ts';
import { createApp } from '../src/server/app.ts';
import { serve } from '../src/server/serve.ts';
import { ROOT } from './support.ts';

const t = suite('server-fast-path');
const CONFIG = readFileSync(join(ROOT, 'examples', 'flags.json'), 'utf8');
const TOKEN = 'fast-path-token-0123456789';
const client = () => offlineInit({ flagsConfiguration: CONFIG, logger: { error() {}, warn() {} }, assignmentLogger: { logAssignment() {} } });
const COMPARED = ['content-type', 'www-authenticate', 'etag', 'cache-control', 'retry-after', 'connection'];

type Case = { path: string; body: string; headers?: Record<string, string> };
const auth = { authorization: `Bearer ${TOKEN}` };
const ctx = (c: unknown) => JSON.stringify({ context: c });
const CASES: Case[] = [
  { path: '/ofrep/v1/evaluate/flags/checkout-redesign', body: ctx({ targetingKey: 'user-2', country: 'FR' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/checkout-redesign', body: ctx({ targetingKey: 'u', country: 'JP' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/results-per-page', body: ctx({ targetingKey: 'u', sessions: 240 }), headers: { 'x-api-key': TOKEN } },
  { path: '/ofrep/v1/evaluate/flags/legacy-banner', body: ctx({ targetingKey: 'u' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/nope', body: ctx({ targetingKey: 'u' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search?x=1', body: ctx({ country: 'US' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: '{"context": {', headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: '', headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: '[1]', headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx([1, 2]), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx({ targetingKey: 42 }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx({ targetingKey: 'u' }) },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx({ targetingKey: 'u' }), headers: { authorization: 'Bearer wrong' } },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx({ targetingKey: 'u' }), headers: { authorization: 'Basic abc' } },
  { path: '/ofrep/v1/evaluate/flags/new-search', body: ctx({ targetingKey: 'u', pad: 'x'.repeat(70 * 1024) }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags', body: ctx({ targetingKey: 'user-7', country: 'US' }), headers: auth },
  { path: '/ofrep/v1/evaluate/flags', body: ctx({}), headers: auth },
];

t('OFREP answers from the node:http fast path equal the Hono routes', async () => {
  const server = await serve({ client: client(), token: TOKEN, port: 0, hostname: '127.0.0.1', drainTimeoutMs: 1_000 });
  const hono = createApp({ client: client(), token: TOKEN });
  try {
    const exchange = async (c: Case, via: 'net' | 'hono') => {
      const init = { method: 'POST', headers: { 'content-type': 'application/json', ...c.headers }, body: c.body };
      const res = via === 'net' ? await fetch(`${server.url}${c.path}`, init) : await hono.fetch(new Request(`http://x${c.path}`, init));
      const text = await res.text();
      return { status: res.status, text, headers: Object.fromEntries(COMPARED.map((h) => [h, h === 'connection' ? (res.headers.get(h) === 'close' ? 'close' : null) : res.headers.get(h)])) };
    };
    const cases = [...CASES];
    // The bulk answer's ETag asked again: 304 with no body.
    const bulk = await exchange(CASES[CASES.length - 2], 'net');
    assert.equal(bulk.status, 200);
    cases.push({ ...CASES[CASES.length - 2], headers: { ...auth, 'if-none-match': bulk.headers.etag! } });
    for (const c of cases) {
      const [net, mem] = [await exchange(c, 'net'), await exchange(c, 'hono')];
      assert.deepEqual(net, mem, `${c.path} ${c.body.slice(0, 60)} ${JSON.stringify(c.headers)}`);
    }
    // Request ids: a valid one is echoed, an invalid one replaced by a UUID.
    const echoed = await fetch(`${server.url}/ofrep/v1/evaluate/flags/new-search`, { method: 'POST', headers: { ...auth, 'x-request-id': 'trace-abc_123' }, body: ctx({ targetingKey: 'u' }) });
    await echoed.text();
    assert.equal(echoed.headers.get('x-request-id'), 'trace-abc_123');
    const replaced = await fetch(`${server.url}/ofrep/v1/evaluate/flags/new-search`, { method: 'POST', headers: { ...auth, 'x-request-id': 'bad id!' }, body: ctx({ targetingKey: 'u' }) });
    await replaced.text();
    assert.match(replaced.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/);
    // Same counters (the listening app saw the bulk request, its 304 twin and the two request-id probes more).
    const counters = (text: string) => text.split('\n').filter((l) => /^saltshard_(http_requests|evaluations)_total\{/.test(l)).sort();
    const netMetrics = counters(server.app.metrics.render([]));
    const memMetrics = counters(hono.metrics.render([]));
    const bump = (lines: string[], label: string, n: number) => lines.map((l) => (l.includes(label) ? l.replace(/ (\d+)$/, (_m, v) => ` ${Number(v) + n}`) : l));
    let expected = bump(memMetrics, 'route="/ofrep/v1/evaluate/flags",method="POST",status="200"', 1);
    expected = bump(expected, 'route="/ofrep/v1/evaluate/flags/{key}",method="POST",status="200"', 2);
    assert.ok(netMetrics.length > 5);
    assert.deepEqual(netMetrics.filter((l) => l.startsWith('saltshard_http')), expected.filter((l) => l.startsWith('saltshard_http')));
    assert.equal(server.app.inFlight, 0);
  } finally {
    await server.shutdown();
  }
});

t.run();
