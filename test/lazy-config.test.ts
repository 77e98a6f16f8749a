// A config given as text is scanned once and each flag parsed on first use (src/config/scan.ts, parse.ts
// parseConfigLazily, compile.ts FlagTable). It must give what an eager JSON.parse of the same text gives: the same
// flags in the same order, the same compiled flags, the same exported document; a flag that is not valid serves
// defaults with its reason; text that is not JSON still fails at load.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileConfig, offlineInit } from '../src/mod.ts';
import { parseConfigLazily } from '../src/config/parse.ts';
import { type ScannedConfig, scanConfig } from '../src/config/scan.ts';
import { scanJsonWasm, wasmSimdSupported } from '../src/wasm/kernel.ts';
import { TEST_DATA, hasTestData, readText } from './support.ts';

/** Lazy (text) and eager (the parsed object) compiles of one text agree flag by flag. */
function assertSame(text: string, what: string): void {
  const lazy = compileConfig(text);
  const eager = compileConfig(JSON.parse(text));
  assert.ok(scanConfig(text) !== null, `${what}: scanned`);
  assert.equal([...lazy.flags.keys()], [...eager.flags.keys()], `${what}: keys and order`);
  for (const key of eager.flags.keys()) assert.equal(lazy.flags.get(key), eager.flags.get(key), `${what}: flag ${key}`);
  assert.equal(JSON.parse(JSON.stringify(lazy.wire)), JSON.parse(JSON.stringify(eager.wire)), `${what}: wire`);
  assert.equal(lazy.warnings, eager.warnings, `${what}: warnings`);
}

const flag = (value: string, extra: Record<string, unknown> = {}) => ({
  key: 'k',
  enabled: true,
  variationType: 'STRING',
  totalShards: 10000,
  variations: { a: { key: 'a', value } },
  allocations: [{ key: 'all', rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: '^[a-z]+\\{\\}"$' }] }], splits: [{ variationKey: 'a', shards: [] }], doLog: true }],
  ...extra,
});

test('sdk-test-data: lazily parsed configs equal eagerly parsed ones', () => {
  if (!hasTestData('lazy config')) return;
  for (const file of ['flags-v1.json', 'bandit-flags-v1.json']) assertSame(readText(TEST_DATA, 'ufc', file), file);
  // Obfuscated configs go the eager way (they are decoded at load).
  assert.is(parseConfigLazily(readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json')), null);
  assertSame(readText(TEST_DATA, 'ufc', 'flags-v1-obfuscated.json'), 'obfuscated');
});

test('hostile texts: escapes, braces in strings, unicode keys, whitespace, duplicates, index-like keys', () => {
  const doc = {
    createdAt: '2026-01-01T00:00:00.000Z',
    environment: { name: 'a "quoted" {env} [x] \\' },
    flags: {
      'plain': flag('v'),
      'quo"te\\': flag('say "hi" \\ {not} [an] object\\'),
      '{brace}': flag('}}]]'),
      'ünï\u2028': flag('\u0000\u001f'),
      '10': flag('ten'),
      '2': flag('two'),
      '__proto__': flag('proto'),
    },
  };
  const compact = JSON.stringify(doc);
  assertSame(compact, 'compact');
  assertSame(JSON.stringify(doc, null, 2), 'indented');
  assertSame(JSON.stringify(doc, null, '\t').replaceAll('\n', '\r\n'), 'tabs and CRLF');
  // Keys written with escapes, as JSON allows.
  assertSame(compact.replace('"flags"', '"fl\\u0061gs"').replace('"plain"', '"pl\\u0061in"'), 'escaped keys');
  // Duplicates: the last value wins, in the first one's place (JSON.parse). JSON.stringify put "2" first.
  const dup = compact.replace('"plain":', `"2":${JSON.stringify(flag('first'))},"plain":`);
  assertSame(dup, 'duplicate flag');
  const two = compileConfig(dup).flags.get('2');
  assert.is(two?.kind === 'flag' ? two.allocations[0]!.splits[0]!.variation!.value : null, 'first');
  assertSame(`{"flags":{"gone":${JSON.stringify(flag('x'))}},${compact.slice(1)}`, 'duplicate flags object');
  assertSame('{ }'.replace('{ }', '{"flags":{}}'), 'no flags');
  assertSame(' \n{"flags" : { } , "format" : "SERVER" }\t', 'spaces around everything');
});

test('a flag that is not JSON or not valid serves the default with its reason; the others load; warned on first use', () => {
  const good = JSON.stringify(flag('v'));
  const text = `{"flags":{"bad-token":{"enabled":tru},"bad-shape":{"variationType":"STRING"},"good":${good}}}`;
  assert.throws(() => JSON.parse(text));
  const warnings: string[] = [];
  const client = offlineInit({ flagsConfiguration: text, logger: { warn: (m: string) => void warnings.push(m), error() {} } } as never);
  assert.is(client.getStringAssignment('good', 's', { email: 'abc{}"' }, 'd'), 'v');
  assert.equal(warnings, [], 'nothing parsed but the flag used');
  for (const key of ['bad-token', 'bad-shape']) {
    const d = client.getStringAssignmentDetails(key, 's', {}, 'd');
    assert.is(d.variation, 'd');
    assert.is.not(d.evaluationDetails.flagEvaluationCode, 'MATCH');
    assert.ok(d.evaluationDetails.flagEvaluationDescription.includes(`Invalid flag configuration at $.flags["${key}"]`), d.evaluationDetails.flagEvaluationDescription);
  }
  assert.ok(warnings.some((w) => w.includes('$.flags["bad-token"]: not JSON') && w.endsWith('the flag serves defaults')), warnings.join('\n'));
  assert.ok(warnings.some((w) => w.includes('$.flags["bad-shape"]') && w.endsWith('the flag serves defaults')), warnings.join('\n'));
  // Export leaves out only the flag that has no JSON value.
  assert.equal(Object.keys(client.getFlagConfigurations()), ['bad-shape', 'good']);
});

test('a broken flag in an update keeps the previous good version (checked at load)', () => {
  const warnings: string[] = [];
  const client = offlineInit({ flagsConfiguration: `{"flags":{"f":${JSON.stringify(flag('v1'))}}}`, logger: { warn: (m: string) => void warnings.push(m), error() {} } } as never);
  assert.is(client.getStringAssignment('f', 's', { email: 'abc{}"' }, 'd'), 'v1');
  client.setConfiguration('{"flags":{"f":{"enabled":tru}}}');
  assert.ok(warnings.some((w) => w.includes('not JSON') && w.endsWith('keeping the previous version of this flag')), warnings.join('\n'));
  assert.is(client.getStringAssignment('f', 's', { email: 'abc{}"' }, 'd'), 'v1');
});

test('text that is not a JSON document fails at load with the engine\'s position', () => {
  const whole = JSON.stringify({ flags: { a: flag('v'), b: flag('w') } });
  for (const bad of [whole.slice(0, -1), whole.slice(0, whole.length / 2), `${whole}x`, whole.replace('"b"', '"b'), '{not json', '', '[]', '{"flags":{"a":1]}']) {
    let error: unknown;
    try {
      compileConfig(bad);
    } catch (err) {
      error = err;
    }
    assert.ok(error instanceof Error, `rejected: ${bad.slice(-20)}`);
    assert.match((error as Error).message, /^Cannot parse configuration at \$/);
    let eager: unknown;
    try {
      JSON.parse(bad);
    } catch (err) {
      eager = err;
    }
    if (eager !== undefined) assert.instance(error, SyntaxError);
  }
});

// ---------------------------------------------------------------- the WebAssembly scan vs the JS scan

/** A seeded PRNG (mulberry32). */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Texts as hostile as JSON allows and then some: escapes, brackets and quotes in strings, non-ASCII, raw lone surrogates, odd spacing, mutations. */
function hostileTexts(seed: number, count: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const PIECES = ['a', 'flags', '\\', '\\"', '"', '{', '}', '[', ']', ',', ':', ' ', '\\u0061', 'é', '😀', '\ud800', '\udc00', '\u2028', '\\\\', 'x'.repeat(17), '\t', '\n'];
  const str = (): string => {
    let s = '';
    for (let i = Math.floor(r() * 6); i > 0; i--) s += pick(PIECES);
    return s;
  };
  const ws = (): string => (r() < 0.7 ? '' : pick([' ', '\n', '\r\n\t', '  ']));
  const value = (depth: number): string => {
    const k = r();
    if (depth > 4 || k < 0.3) return pick(['1', '-2.5e3', 'true', 'false', 'null', JSON.stringify(str()), '"' + pick(['\\"', '\\\\', '\\u00e9', '{[', ']}']) + '"']);
    if (k < 0.55) return `[${ws()}${Array.from({ length: Math.floor(r() * 4) }, () => value(depth + 1)).join(`${ws()},${ws()}`)}${ws()}]`;
    return object(depth + 1);
  };
  const key = (): string => (r() < 0.2 ? pick(['"fl\\u0061gs"', '"flags"', '"__proto__"', '"10"', '"2"', '"k\\\\"']) : JSON.stringify(str()));
  const object = (depth: number): string =>
    `{${ws()}${Array.from({ length: Math.floor(r() * 5) }, () => `${key()}${ws()}:${ws()}${value(depth)}`).join(`${ws()},${ws()}`)}${ws()}}`;
  const doc = (): string => {
    const flags = `{${Array.from({ length: Math.floor(r() * 6) }, () => `${key()}:${ws()}${r() < 0.8 ? object(1) : value(2)}`).join(',')}}`;
    const members = [`"flags":${ws()}${flags}`, `"environment":{"name":${JSON.stringify(str())}}`, `"createdAt":"2026"`, `${key()}:${value(1)}`];
    if (r() < 0.2) members.push(`"flags":${r() < 0.5 ? flags : value(1)}`);
    members.sort(() => r() - 0.5);
    return `${ws()}{${ws()}${members.join(`${ws()},${ws()}`)}${ws()}}${ws()}`;
  };
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    let t = doc();
    // Mutations: cut, drop, insert or replace a character; JSON's tokens and the scanner's structure both break.
    const m = r();
    const at = Math.floor(r() * (t.length + 1));
    if (m < 0.15) t = t.slice(0, at);
    else if (m < 0.3) t = t.slice(0, at) + t.slice(at + 1);
    else if (m < 0.45) t = t.slice(0, at) + pick(['{', '}', '[', ']', '"', ',', ':', '\\', ' ', 'é', '\ud83d']) + t.slice(at);
    out.push(t);
  }
  return out;
}

/** A scan result as plain data (spans in the map's order). */
const plain = (s: ScannedConfig | null): unknown => (s === null ? null : { envelope: s.envelope, keys: s.keys, spans: [...s.spans], flagsSpan: s.flagsSpan });

test('the WebAssembly scan gives what the JS scan gives on generated hostile texts (both builds, windows of 16 to 64 KiB)', () => {
  if (process.env.SALTSHARD_KERNEL === 'js') {
    assert.is(scanJsonWasm('{"flags":{}}'), undefined, 'SALTSHARD_KERNEL=js: no WebAssembly scan');
    return;
  }
  const simd = wasmSimdSupported() ? 'simd' : 'scalar';
  // Each text through the SIMD build in windows of 23 bytes and by default (non-ASCII text is scanned whole), and
  // its ASCII variant through the SIMD build in windows of 16 bytes and the scalar one in windows of 40.
  let scanned = 0;
  for (const original of hostileTexts(19, 1500)) {
    const ascii = original.replace(/[^\x00-\x7f]/g, 'q');
    for (const [text, runs] of [[original, [[simd, 23]]], [ascii, [[simd, 16], ['scalar', 40]]]] as const) {
      const js = plain(scanConfig(text, 'js'));
      if (js !== null) scanned++;
      for (const [build, window] of runs) {
        assert.ok(scanJsonWasm(text, build, window) !== undefined, `${build} scan ran`);
        assert.equal(plain(scanConfig(text, build, window)), js, `${build}/${window}: ${JSON.stringify(text)}`);
      }
      if (text === original) assert.equal(plain(scanConfig(text)), js);
    }
  }
  // Enough of both outcomes to mean something.
  assert.ok(scanned > 600 && scanned < 2800, `scanned ${scanned} of 3000`);
});

test('the WebAssembly scan on large, deep and non-ASCII texts', () => {
  if (process.env.SALTSHARD_KERNEL === 'js') return;
  const big = { flags: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f-${i}-ü😀`, flag(`v${i}\\"{[é`)])), environment: { name: 'ï' } };
  const deep = `{"flags":{"d":${'['.repeat(50000)}${']'.repeat(50000)}}}`;
  const texts = [JSON.stringify(big), JSON.stringify(big, null, 1), deep, deep.slice(0, -3), `{"flags":{"d":${'['.repeat(5000)}${']'.repeat(4999)}}}}`, '\ud800{"flags":{}}', '{"flags":{"\ud800":1}}', '{"flags":{"é":"\udbff"}}'];
  for (const text of [...texts, JSON.stringify(big).replace(/[^\x00-\x7f]/g, 'x')]) {
    const js = plain(scanConfig(text, 'js'));
    for (const window of [undefined, 4096, 1 << 20]) assert.equal(plain(scanConfig(text, 'auto', window)), js, `${window}: ${text.slice(0, 40)}`);
  }
  assertSame(JSON.stringify(big), 'non-ASCII 300 flags');
});

test.run();
