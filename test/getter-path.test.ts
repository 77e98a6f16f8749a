// The getter's hot path: the dedupe table against a plain LRU model at sizes where its hash table grows, wraps and
// shifts entries back on eviction; the shard memo (the splits of one allocation hash each salt once); and the
// lazily compiled flags of a snapshot (compiled on first use, patterns still reported at load).
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { DedupeCache } from '../src/events/logger.ts';
import { compileConfig, offlineInit } from '../src/mod.ts';
import type { CompiledFlag } from '../src/config/compile.ts';
import { evaluateFlag } from '../src/eval/reference.ts';
import { createJsKernel } from '../src/wasm/kernel.ts';
import { Rng, genConfig, genSubject, mulberry32, obfuscate } from './gen-config.ts';

const t = suite('getter-path');

/** A Map in recency order (oldest first) is an LRU: re-inserting moves a key to the end. */
function lruModel(max: number) {
  const m = new Map<string, string>();
  return {
    has(key: string, value: string): boolean {
      const v = m.get(key);
      if (v === undefined) return false;
      m.delete(key);
      m.set(key, v);
      return v === value;
    },
    set(key: string, value: string): void {
      if (max === 0) return;
      m.delete(key);
      m.set(key, value);
      if (m.size > max) m.delete(m.keys().next().value as string);
    },
    forget(key: string, value: string): void {
      if (m.get(key) === value) m.set(key, '');
    },
    get size() {
      return m.size;
    },
  };
}

t('DedupeCache = an LRU model with thousands of pairs (table growth, eviction, backward-shift deletion), and Infinity never evicts', () => {
  for (const [max, subjects, steps] of [[3000, 5000, 60_000], [1500, 1700, 40_000], [Number.POSITIVE_INFINITY, 20_000, 60_000], [0, 10, 1000]] as const) {
    const rng = mulberry32(max === Number.POSITIVE_INFINITY ? 1 : max + 3);
    const rand = (n: number) => Math.floor(rng() * n);
    const cache = new DedupeCache(max);
    const model = lruModel(max);
    for (let step = 0; step < steps; step++) {
      const flag = `flag-${rand(3)}`;
      const subject = `user-${rand(subjects)}`;
      const key = `${flag}|${subject}`;
      const value = `alloc;v${rand(2)}`;
      const op = rand(20);
      if (op === 0) {
        cache.forget(flag, subject, value);
        model.forget(key, value);
        continue;
      }
      const want = model.has(key, value);
      assert.equal(cache.has(flag, subject, value), want, `max ${max} step ${step}: has ${key}=${value}`);
      if (!want) {
        cache.set(flag, subject, value);
        model.set(key, value);
      }
      if (op === 1) {
        // set() of another pair than the one probed.
        const other = `user-${rand(subjects)}`;
        cache.set('flag-0', other, 'alloc;v0');
        model.set(`flag-0|${other}`, 'alloc;v0');
      }
    }
    assert.equal(cache.size, model.size, `max ${max}: size`);
  }
});

t('the splits of an experiment hash the traffic salt once per evaluation: 2 md5 per subject, not up to 4', () => {
  const split = (variationKey: string, start: number, end: number) => ({
    variationKey,
    shards: [{ salt: 'exp-traffic', ranges: [{ start: 0, end: 8000 }] }, { salt: 'exp-split', ranges: [{ start, end }] }],
  });
  const config = compileConfig({
    format: 'SERVER', createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 't' },
    flags: {
      exp: {
        key: 'exp', enabled: true, variationType: 'STRING', totalShards: 10000,
        variations: { a: { key: 'a', value: 'a' }, b: { key: 'b', value: 'b' }, c: { key: 'c', value: 'c' } },
        allocations: [{ key: 'x', splits: [split('a', 0, 3333), split('b', 3333, 6666), split('c', 6666, 10000)], doLog: true }],
      },
    },
  });
  const flag = config.flags.get('exp') as CompiledFlag;
  const js = createJsKernel();
  let calls = 0;
  const counting = { shard: (salt: Uint8Array, key: string, total: number) => (calls++, js.shard(salt, key, total)) };
  const seen = new Map<string | null, number>();
  for (let i = 0; i < 3000; i++) {
    calls = 0;
    const e = evaluateFlag(flag, `subject-${i}`, {}, Date.now(), counting, false);
    const plain = evaluateFlag(flag, `subject-${i}`, {}, Date.now(), js, false);
    assert.equal(e.variationKey, plain.variationKey);
    assert.ok(calls <= 2, `subject-${i}: ${calls} md5 calls`);
    seen.set(e.variationKey, (seen.get(e.variationKey) ?? 0) + 1);
  }
  // Every arm and the traffic miss occur, so the memo was exercised on the later arms.
  assert.deepEqual([...seen.keys()].sort(), ['a', 'b', 'c', null].sort());
});

t('a getter run by an attribute\'s toString mid-evaluation (another subject, same salts) leaves the outer evaluation exact', () => {
  const js = createJsKernel();
  const salt = new TextEncoder().encode('nested-salt-');
  const outer = 'outer-subject';
  const o = js.shard(salt, outer, 10000);
  let inner = 'inner-0';
  for (let i = 1; js.shard(salt, inner, 10000) === o; i++) inner = `inner-${i}`;
  const range = (start: number) => [{ start, end: start + 1 }];
  const config = {
    format: 'SERVER', createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 't' },
    flags: {
      f: {
        key: 'f', enabled: true, variationType: 'STRING', totalShards: 10000,
        variations: { on: { key: 'on', value: 'on' }, off: { key: 'off', value: 'off' } },
        allocations: [
          // The outer subject misses this one after its shard for the salt is memoized…
          { key: 'first', splits: [{ variationKey: 'on', shards: [{ salt: 'nested-salt', ranges: range((o + 1) % 10000) }] }], doLog: false },
          // …then this rule's attribute runs a getter for another subject, then the same salt decides.
          { key: 'second', rules: [{ conditions: [{ attribute: 'trigger', operator: 'ONE_OF', value: ['yes'] }] }], splits: [{ variationKey: 'on', shards: [{ salt: 'nested-salt', ranges: range(o) }] }], doLog: false },
          { key: 'rest', splits: [{ variationKey: 'off', shards: [] }], doLog: false },
        ],
      },
    },
  };
  for (const kernel of ['wasm', 'js'] as const) {
    const client = offlineInit({ flagsConfiguration: config, kernel });
    let nested: string | null = null;
    const trigger = { toString: () => ((nested = client.getStringAssignment('f', inner, { trigger: 'no' }, 'default')), 'yes') };
    assert.equal(client.getStringAssignment('f', outer, { trigger }, 'default'), 'on', kernel);
    assert.equal(nested, 'off');
    assert.equal(client.getStringAssignmentDetails('f', outer, { trigger }, 'default').variation, 'on', kernel);
  }
});

t('flags compile on first use: same answers as compiled up front, unsupported patterns warned at load, broken flags known without compiling', () => {
  const rule = (pattern: string) => ({ conditions: [{ attribute: 'email', operator: 'MATCHES', value: pattern }] });
  const flag = (pattern: string) => ({
    key: 'x', enabled: true, variationType: 'STRING', totalShards: 10000,
    variations: { on: { key: 'on', value: 'on' }, off: { key: 'off', value: 'off' } },
    allocations: [
      { key: 'rule', rules: [rule(pattern)], splits: [{ variationKey: 'on', shards: [] }], doLog: true },
      { key: 'rest', splits: [{ variationKey: 'off', shards: [{ salt: 's', ranges: [{ start: 0, end: 5000 }] }] }], doLog: true },
    ],
  });
  const doc = {
    format: 'SERVER', createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 't' },
    flags: { a: flag('^[a-z.]+@(example|corp)\\.com$'), b: flag('(?=a)a'), broken: { key: 'broken', enabled: true } },
  };
  const lazy = compileConfig(doc);
  assert.equal(lazy.warnings.length, 1);
  assert.match(lazy.warnings[0]!, /Flag "b": Pattern \/\(\?=a\)a\/ is not supported/);
  assert.equal(lazy.flags.size, 3);
  const js = createJsKernel();
  const a = lazy.flags.get('a') as CompiledFlag;
  assert.equal(a.kind, 'flag');
  assert.equal(lazy.flags.get('a'), a, 'compiled once');
  assert.equal(lazy.flags.get('broken')!.kind, 'broken');
  // Iterating compiles the rest; an eagerly iterated copy answers the same.
  const eager = compileConfig(doc);
  const all = [...eager.flags.values()];
  assert.deepEqual(all.map((f) => f.kind), ['flag', 'flag', 'broken']);
  for (const email of ['jane@example.com', 'bob@corp.com', 'x@other.com', 'a']) {
    for (const key of ['a', 'b']) {
      const want = evaluateFlag(eager.flags.get(key) as CompiledFlag, email, { email }, Date.now(), js, false);
      const got = evaluateFlag(lazy.flags.get(key) as CompiledFlag, email, { email }, Date.now(), js, false);
      assert.deepEqual([got.code, got.variationKey, got.allocation?.key], [want.code, want.variationKey, want.allocation?.key], `${key} ${email}`);
    }
  }
});

t('a rule reads only own enumerable attributes ({ id, ...attributes }) from objects of every kind, with and without a polluted Object.prototype', () => {
  // A flag whose rule asks for attribute `name` to be present (IS_NULL false): "yes" exactly when the spread has it.
  const flagFor = (name: string) => ({
    key: name, enabled: true, variationType: 'STRING', totalShards: 10000,
    variations: { yes: { key: 'yes', value: 'yes' }, no: { key: 'no', value: 'no' } },
    allocations: [
      { key: 'present', rules: [{ conditions: [{ attribute: name, operator: 'IS_NULL', value: false }] }], splits: [{ variationKey: 'yes', shards: [] }], doLog: false },
      { key: 'absent', splits: [{ variationKey: 'no', shards: [] }], doLog: false },
    ],
  });
  const names = ['a', 'b', 'k9', 'k10', 'length', '0', 'constructor', 'toString', '__proto__', 'inherited', 'hidden', 'polluted', 'id'];
  const client = offlineInit({ flagsConfiguration: { createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 't' }, flags: Object.fromEntries(names.map((n) => [n, flagFor(n)])) } });
  class WithProto { a = 1; }
  (WithProto.prototype as unknown as Record<string, unknown>).inherited = 'from a class';
  const kinds: Record<string, () => object> = {
    plain: () => ({ a: 1, b: 'x' }),
    nullProto: () => Object.assign(Object.create(null), { a: 1 }),
    classInstance: () => new WithProto(),
    hiddenOwn: () => Object.defineProperty({ a: 1 }, 'hidden', { value: 2, enumerable: false }),
    // A non-enumerable own property shadows an enumerable inherited one of the same name.
    shadowing: () => Object.defineProperty(Object.create({ hidden: 'enumerable on the prototype', inherited: 1 }), 'hidden', { value: 3, enumerable: false }),
    manyKeys: () => Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])),
    manyKeysHidden: () => Object.defineProperty(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])), 'k10', { enumerable: false }),
    array: () => [7, 8],
    stringObject: () => new String('ab'),
    ownProtoKey: () => JSON.parse('{"__proto__": 1, "constructor": 2, "id": "own id"}'),
    getter: () => Object.defineProperty({}, 'a', { enumerable: true, get: () => 'got' }),
    proxy: () => new Proxy({ a: 1, b: 2 }, {}),
  };
  const spread = (o: object): Record<string, unknown> => ({ id: 'subject', ...o });
  let checked = 0;
  for (const polluted of [false, true]) {
    if (polluted) (Object.prototype as unknown as Record<string, unknown>).polluted = 'everywhere';
    try {
      for (const [kind, make] of Object.entries(kinds)) {
        for (const name of names) {
          const s = spread(make());
          const want = Object.hasOwn(s, name) && s[name] != null ? 'yes' : 'no';
          assert.equal(client.getStringAssignment(name, 'subject', make() as Record<string, unknown>, 'default'), want, `${kind}.${name}${polluted ? ', Object.prototype polluted' : ''}`);
          checked++;
        }
      }
    } finally {
      delete (Object.prototype as unknown as Record<string, unknown>).polluted;
    }
  }
  assert.equal(checked, 2 * Object.keys(kinds).length * names.length);
});

t('the plain getters (no details: the allocation-free path) = the Details getters: values, events and metrics, on random plain and obfuscated configs', () => {
  const SILENT = { error() {}, warn() {}, info() {}, debug() {} };
  const DEFAULTS: Record<string, unknown> = { STRING: '\u0000default', INTEGER: -987654321, NUMERIC: -98765.4321, BOOLEAN: false, JSON: { '\u0000default': true } };
  const NAMES: Record<string, string> = { STRING: 'String', INTEGER: 'Integer', NUMERIC: 'Numeric', BOOLEAN: 'Boolean', JSON: 'JSON' };
  type Getter = (flag: string, subject: unknown, attrs: unknown, def: unknown) => unknown;
  let cells = 0;
  for (let c = 0; c < 24; c++) {
    const plain = genConfig(new Rng(0x9e77 + c), { flags: [4, 8] });
    const types = Object.entries(plain.flags as Record<string, { variationType?: string }>).map(([k, f]) => [k, NAMES[f.variationType ?? ''] ?? 'String'] as const);
    for (const doc of [plain, obfuscate(plain)]) {
      const events: Record<string, unknown>[][] = [[], []];
      // A small dedupe so that hits, misses and evictions all occur; the two clients' load times are left out.
      const clients = events.map((list) => offlineInit({
        flagsConfiguration: doc, logger: SILENT, assignmentCacheSize: 7,
        assignmentLogger: { logAssignment: (e) => void list.push({ ...e, timestamp: '', evaluationDetails: { ...e.evaluationDetails, configFetchedAt: '' } }) },
      }));
      const [fast, details] = clients as unknown as [Record<string, Getter>, Record<string, Getter>];
      const rng = new Rng(0x51 + c);
      const subjects = Array.from({ length: 40 }, () => genSubject(rng));
      // Bad arguments and an unknown flag take the general path from the plain getters.
      subjects.push({ key: '', attributes: {} }, { key: 7 as unknown as string, attributes: {} }, { key: 'x', attributes: 'nope' as unknown as Record<string, unknown> });
      for (const s of subjects) {
        for (const [flagKey, name] of [...types, ['unknown-flag', 'String'] as const]) {
          // The flag's own type, then a mismatched one.
          for (const getter of [name, name === 'String' ? 'Boolean' : 'String']) {
            const def = DEFAULTS[getter === 'String' ? 'STRING' : getter === 'Boolean' ? 'BOOLEAN' : getter === 'JSON' ? 'JSON' : getter === 'Integer' ? 'INTEGER' : 'NUMERIC'];
            const got = fast[`get${getter}Assignment`]!.call(fast, flagKey, s.key, s.attributes, def);
            const want = (details[`get${getter}AssignmentDetails`]!.call(details, flagKey, s.key, s.attributes, def) as { variation: unknown }).variation;
            assert.deepEqual(got, want, `config ${c} flag ${flagKey} subject ${JSON.stringify(s.key)} ${getter}`);
            cells++;
          }
        }
      }
      assert.deepEqual(events[0], events[1], `config ${c}: events`);
      const counts = (k: number) => ({ ...clients[k]!.metrics(), config: null });
      assert.deepEqual(counts(0), counts(1), `config ${c}: metrics (evaluations, defaults, errors, exposures)`);
    }
  }
  assert.ok(cells > 10_000, `${cells} cells`);
});

t('the clock is read only for flags with a start or end time, and such flags follow it', () => {
  const at = (startAt?: string, endAt?: string) => ({
    key: 'a', ...(startAt ? { startAt } : {}), ...(endAt ? { endAt } : {}), doLog: false,
    splits: [{ variationKey: 'on', shards: [] }],
  });
  const flag = (key: string, allocation: object) => ({
    key, enabled: true, variationType: 'STRING', totalShards: 10000,
    variations: { on: { key: 'on', value: 'on' } }, allocations: [allocation],
  });
  const config = {
    createdAt: '2026-01-01T00:00:00.000Z', environment: { name: 'test' },
    flags: {
      untimed: flag('untimed', at()),
      starts: flag('starts', at('2026-06-01T00:00:00.000Z')),
      ends: flag('ends', at(undefined, '2026-06-01T00:00:00.000Z')),
    },
  };
  let clock = Date.parse('2026-03-01T00:00:00.000Z');
  let reads = 0;
  const client = offlineInit({ flagsConfiguration: config, now: () => (reads++, clock) });
  for (const details of [false, true]) {
    const get = (key: string) => details ? client.getStringAssignmentDetails(key, 'subject', {}, 'default').variation : client.getStringAssignment(key, 'subject', {}, 'default');
    reads = 0;
    clock = Date.parse('2026-03-01T00:00:00.000Z');
    assert.equal(get('untimed'), 'on');
    assert.equal(reads, 0, 'no clock read for a flag without time windows');
    assert.equal(get('starts'), 'default');
    assert.equal(get('ends'), 'on');
    assert.equal(reads, 2);
    clock = Date.parse('2026-07-01T00:00:00.000Z');
    assert.equal(get('starts'), 'on');
    assert.equal(get('ends'), 'default');
    assert.equal(get('untimed'), 'on');
  }
});

t.run();
