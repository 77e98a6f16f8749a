// Seeded random UFC configs and subjects for the differential test against Eppo's evaluator.
// Everything is deterministic in the seed. Generated configs stay inside what both evaluators are meant to
// agree on: no lookaround or backreference patterns, no inherited property names as keys, no malformed shapes.
import { encodeBase64, isWellFormed, md5Hex } from '../src/config/encoding.ts';

/** mulberry32: a small seeded PRNG, so every run and runtime sees the same values. Returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Rng {
  readonly #next: () => number;
  constructor(seed: number) {
    this.#next = mulberry32(seed);
  }
  /** A float in [0, 1). */
  next(): number {
    return this.#next();
  }
  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  /** An integer in [lo, hi]. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)];
  }
}

export type VariationType = 'STRING' | 'INTEGER' | 'NUMERIC' | 'BOOLEAN' | 'JSON';
export const VARIATION_TYPES: readonly VariationType[] = ['STRING', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'JSON'];

export type Operator = 'MATCHES' | 'NOT_MATCHES' | 'ONE_OF' | 'NOT_ONE_OF' | 'GT' | 'GTE' | 'LT' | 'LTE' | 'IS_NULL';
export const OPERATOR_FAMILIES: Readonly<Record<string, readonly Operator[]>> = {
  regex: ['MATCHES', 'NOT_MATCHES'],
  set: ['ONE_OF', 'NOT_ONE_OF'],
  compare: ['GT', 'GTE', 'LT', 'LTE'],
  null: ['IS_NULL'],
  all: ['MATCHES', 'NOT_MATCHES', 'ONE_OF', 'NOT_ONE_OF', 'GT', 'GTE', 'LT', 'LTE', 'IS_NULL'],
};

export const ATTRIBUTE_NAMES = ['id', 'country', 'age', 'version', 'email', 'score', 'plan', 'ünï'] as const;

// RE2-compatible ECMAScript patterns (plus, rarely, invalid ones that both sides must report as errors).
const PATTERNS = ['^a', 'b$', '\\d+', '[a-c]x', '.', '\\s', '^$', '^1', 'US|CA', '^[0-9]+$', 'é', '^v?1\\.', 'true', '^-', 'x{2}', '(ab)+', '[^a-z]', '\\w+@\\w+\\.com$', '\\.5$',
  '^\\S+$', '\\bUS\\b', '[[:alpha:]]', '\\D', '\\W', '^\\w+$', '(?:ab)', 'a|', '[é-ü]', '\\u00e9', '\\x41', '\\/', '\\-', '^[\\s\\d]*$',
  '^$|^a', 'A', '[.]', '\\$', '^\\+?1', '0x', 'e3$', '^ ', ' $', '[\\]]', '\\t', '\\n|\\r'];
const BAD_PATTERNS = ['(', '[a-', '*a', 'a{2,1}'];
const SET_ITEMS = ['US', 'us', 'CA', '1', '0', '-1', 'true', 'false', '1.5', '123456789', '', 'a', 'abx', '1.2.3', 'é', 'null', 'undefined', '1e+21', '3.5', 'zach'];
const COMPARANDS: readonly (string | number)[] = [
  0, 1, -1, 1.5, 10, 100, 3.5, -7.25, 1e21,
  '0', '1', '10', '1.5', ' 10 ', '', '0x10', '1e3', '-2',
  '1.2.3', 'v1.2.3', '1.0.0-alpha', '1.0.0', '1.10.0', '2.0.0+build', '0.0.1', ' 1.6.0 ',
  '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-rc.1', '1.0.0-2', '1.0.0-10', '10.20.30', '1.2.3-0', '1.2.3-alpha+001', ' v1.2.3',
  '999999999999999999.0.0', '1.2.3-01', '=1.2.3', '1.2.3.4', 'v 1.2.3', '1.2.3\t', '\n1.2.3',
  'abc', '1.6', 'V1.2.3', '01.2.3', 'Infinity',
];
const SALT_CHARS = ['a', 'b', 'z', '-', '_', '1', '9', 'é', 'ü', '日', '🤗', ' ', 'Q'];
const KEY_CHARS = ['a', 'b', 'c', 'x', 'Z', '0', '1', '7', '-', '_', '.', 'é', '日', '🤗', ' ', '"'];

// Times far from now: Eppo reads `new Date()` itself, so no bound may lie near the moment of the run.
const PAST = ['2001-01-01T00:00:00Z', '2015-06-30T12:00:00.000Z', '2020-02-29T23:59:59Z', '1999-12-31'];
const FUTURE = ['2051-01-01T00:00:00Z', '2099-12-31T23:59:59.999Z', '2075-07-04T00:00:00Z', '2060-01-01'];
const BAD_TIMES = ['garbage', 'not-a-date', '2024-13-45T99:00:00Z', ''];

function word(rng: Rng, chars: readonly string[], lo: number, hi: number): string {
  let s = '';
  for (let n = rng.range(lo, hi); n > 0; n--) s += rng.pick(chars);
  return s;
}

function genValue(rng: Rng, type: VariationType): unknown {
  // About one value in eight has the wrong JSON type for the flag, or is otherwise odd.
  const odd = rng.chance(0.12);
  switch (type) {
    case 'STRING':
      return odd ? rng.pick([5, true, null, 0]) : rng.pick(['red', 'blue', '', 'é日🤗', 'control', 'true', '1']);
    case 'INTEGER':
      return odd ? rng.pick([3.5, '3', -0.5, true]) : rng.pick([0, 1, -1, 42, 3.0, 1e6, -123456]);
    case 'NUMERIC':
      return odd ? rng.pick(['1.5', false, null]) : rng.pick([0, 1.5, -2.25, 3, 1e-7, 1e21, 100]);
    case 'BOOLEAN':
      return odd ? rng.pick(['true', 1, 0]) : rng.pick([true, false]);
    case 'JSON':
      return odd
        ? rng.pick(['{not json', '', "{'a':1}", 5, { a: 1 }])
        : rng.pick(['{"a":1}', '[1,2]', 'null', '"str"', '0', 'true', '{"nested":{"k":["v",null]}}', '{}']);
  }
}

function genComparand(rng: Rng): string | number {
  return rng.pick(COMPARANDS);
}

function genCondition(rng: Rng, ops: readonly Operator[]): Record<string, unknown> {
  const operator = rng.pick(ops);
  const attribute = rng.pick(ATTRIBUTE_NAMES);
  let value: unknown;
  switch (operator) {
    case 'MATCHES':
    case 'NOT_MATCHES':
      value = rng.chance(0.02) ? rng.pick(BAD_PATTERNS) : rng.pick(PATTERNS);
      break;
    case 'ONE_OF':
    case 'NOT_ONE_OF':
      value = Array.from({ length: rng.range(0, 4) }, () => rng.pick(SET_ITEMS));
      break;
    case 'IS_NULL':
      value = rng.chance(0.9) ? rng.chance(0.5) : rng.pick(['true', '', 0, 1]);
      break;
    default:
      value = rng.chance(0.03) ? rng.pick([true, false, null]) : genComparand(rng);
  }
  // Rarely an operator neither side knows: the condition is simply false.
  return { attribute, operator: rng.chance(0.01) ? 'CONTAINS' : operator, value };
}

function genTime(rng: Rng): string {
  const r = rng.next();
  return r < 0.45 ? rng.pick(PAST) : r < 0.9 ? rng.pick(FUTURE) : rng.pick(BAD_TIMES);
}

function genRange(rng: Rng, totalShards: number): { start: number; end: number } {
  const r = rng.next();
  if (r < 0.1) {
    const x = rng.int(totalShards + 1);
    return { start: x, end: x }; // empty
  }
  if (r < 0.35) return { start: 0, end: totalShards }; // full
  if (r < 0.45) return { start: 0, end: totalShards + rng.range(1, 50) }; // exceeding
  const a = rng.int(totalShards + 1);
  const b = rng.int(totalShards + 1);
  return { start: Math.min(a, b), end: Math.max(a, b) }; // partial
}

export interface GenOptions {
  /** Operators conditions may use. */
  operators?: readonly Operator[];
  /** Flags per config. */
  flags?: [number, number];
}

/** A random UFC document (SERVER format). */
export function genConfig(rng: Rng, options: GenOptions = {}): Record<string, unknown> {
  const ops = options.operators ?? OPERATOR_FAMILIES.all;
  const [lo, hi] = options.flags ?? [1, 4];
  const flags: Record<string, unknown> = {};
  for (let f = rng.range(lo, hi); f > 0; f--) {
    const key = `flag-${word(rng, ['a', 'b', 'c', 'é', '1', '-'], 1, 6)}-${f}`;
    const variationType = rng.pick(VARIATION_TYPES);
    const totalShards = rng.pick([1, 7, 100, 10000]);
    const variations: Record<string, { key: string; value: unknown }> = {};
    const nVariations = rng.range(1, 4);
    for (let i = 0; i < nVariations; i++) {
      const vk = rng.pick(['on', 'off', 'control', 'treatment', 'v', 'é-variant']) + (i ? `-${i}` : '');
      variations[vk] = { key: vk, value: genValue(rng, variationType) };
    }
    const variationKeys = Object.keys(variations);
    const allocations = Array.from({ length: rng.range(0, 4) }, (_, a) => {
      const alloc: Record<string, unknown> = { key: `alloc-${a}-${word(rng, ['x', 'y', 'é', '2'], 0, 3)}` };
      const rulesChoice = rng.next();
      if (rulesChoice < 0.2) alloc.rules = [];
      else if (rulesChoice < 0.75) {
        alloc.rules = Array.from({ length: rng.range(1, 3) }, () => ({
          conditions: Array.from({ length: rng.range(0, 3) }, () => genCondition(rng, ops)),
        }));
      } // else: absent
      if (rng.chance(0.25)) alloc.startAt = genTime(rng);
      if (rng.chance(0.25)) alloc.endAt = genTime(rng);
      const doLog = rng.next();
      if (doLog < 0.4) alloc.doLog = true;
      else if (doLog < 0.8) alloc.doLog = false;
      alloc.splits = Array.from({ length: rng.range(0, 3) }, () => {
        const split: Record<string, unknown> = {
          variationKey: rng.chance(0.03) ? 'missing-variation' : rng.pick(variationKeys),
          shards: Array.from({ length: rng.range(0, 2) }, () => ({
            salt: word(rng, SALT_CHARS, 0, 8) + (rng.chance(0.005) ? '\uDC00' : ''),
            ranges: Array.from({ length: rng.range(0, 3) }, () => genRange(rng, totalShards)),
          })),
        };
        if (rng.chance(0.15)) split.extraLogging = { holdout: 'h-1', [`k${rng.int(3)}`]: word(rng, KEY_CHARS, 0, 4) };
        return split;
      });
      return alloc;
    });
    const flag: Record<string, unknown> = { key, enabled: rng.chance(0.85), variationType, variations, allocations, totalShards };
    if (rng.chance(0.03)) delete flag.enabled; // Eppo treats a missing `enabled` as disabled
    if (rng.chance(0.04)) flag.key = `${key}-renamed`; // map key and `key` disagree
    if (rng.chance(0.02)) delete flag.key;
    if (rng.chance(0.1)) flag.entityId = rng.int(100);
    flags[key] = flag;
  }
  return {
    createdAt: '2024-04-17T19:40:53.716Z',
    format: 'SERVER',
    environment: { name: rng.pick(['Test', 'Production', 'é']) },
    flags,
  };
}

const ATTRIBUTE_VALUES: readonly unknown[] = [
  'US', 'us', 'CA', 'a', 'abx', 'bx', 'cb', 'xx', '', ' ', 'zach', 'é', 'a@b.com', 'null', 'true',
  '1', '0', '-1', '10', '1.5', ' 10 ', '0x10', '1e3', '3.5', '-2', 'Infinity', 'abc', '123456789',
  '1.2.3', 'v1.2.3', '1.0.0-alpha', '1.0.0', '1.10.0', '2.0.0+build', ' 1.6.0 ', '1.6', 'V1.2.3', '01.2.3', '0.0.1',
  '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-rc.1', '1.0.0-2', '1.0.0-10', '10.20.30', '1.2.3-0', '1.2.3-alpha+001', ' v1.2.3',
  '999999999999999999.0.0', '1.2.3-01', '=1.2.3', '1.2.3.4', 'v 1.2.3', '1.2.3\t', '\n1.2.3', 'a\nb', '\u00a0US', 'US\u2028',
  0, 1, -1, 1.5, 3.5, -7.25, 10, 100, 42, 123456789, 1e21, 1e-7, -0,
  true, false, null, undefined,
];

export interface Subject {
  key: string;
  attributes: Record<string, unknown>;
}

/** A random subject: a non-empty key and some attributes (possibly an explicit `id`). */
export function genSubject(rng: Rng): Subject {
  let key = rng.chance(0.15) ? String(rng.int(1000)) : word(rng, KEY_CHARS, 1, 10);
  // Rarely a lone surrogate: Eppo's md5 (spark-md5) throws on it while hashing.
  if (rng.chance(0.01)) key += '\uD83D';
  const attributes: Record<string, unknown> = {};
  for (const name of ATTRIBUTE_NAMES) {
    if (name === 'id' ? rng.chance(0.15) : rng.chance(0.6)) attributes[name] = rng.pick(ATTRIBUTE_VALUES);
  }
  return { key, attributes };
}

// ---- an obfuscator (CLIENT format) for generated configs, so the hashed paths get random coverage too ----

const b64 = (x: unknown): string => encodeBase64(String(x));
const md5Safe = (x: string): string => md5Hex(isWellFormed(x) ? x : new TextDecoder('utf-8', { ignoreBOM: true }).decode(new TextEncoder().encode(x)));

/** The CLIENT (obfuscated) form of a generated SERVER config, as Eppo's config service writes it. */
export function obfuscate(doc: Record<string, unknown>): Record<string, unknown> {
  const flags: Record<string, unknown> = {};
  for (const [key, f] of Object.entries(doc.flags as Record<string, Record<string, unknown>>)) {
    const variations: Record<string, unknown> = {};
    for (const v of Object.values(f.variations as Record<string, { key: string; value: unknown }>)) {
      variations[b64(v.key)] = { key: b64(v.key), value: b64(typeof v.value === 'object' && v.value !== null ? JSON.stringify(v.value) : v.value) };
    }
    const allocations = (f.allocations as Record<string, unknown>[]).map((a) => {
      const out: Record<string, unknown> = { key: b64(a.key), splits: [], doLog: a.doLog };
      // Garbage time bounds make the flag broken in CLIENT format (as Eppo's decoding throws): keep only valid ones.
      for (const bound of ['startAt', 'endAt'] as const) {
        if (typeof a[bound] === 'string' && !Number.isNaN(Date.parse(a[bound] as string))) out[bound] = b64(new Date(a[bound] as string).toISOString());
      }
      if (a.rules !== undefined) {
        out.rules = (a.rules as { conditions: { attribute: string; operator: string; value: unknown }[] }[]).map((r) => ({
          conditions: r.conditions.map((c) => ({
            attribute: md5Safe(c.attribute),
            operator: md5Hex(c.operator),
            value: c.operator === 'ONE_OF' || c.operator === 'NOT_ONE_OF'
              ? (c.value as unknown[]).map((x) => (typeof x === 'string' ? md5Safe(x) : x))
              : c.operator === 'IS_NULL' ? md5Hex(String(c.value)) : b64(c.value),
          })),
        }));
      }
      out.splits = (a.splits as { variationKey: string; shards: { salt: string; ranges: unknown[] }[]; extraLogging?: Record<string, string> }[]).map((s) => ({
        variationKey: b64(s.variationKey),
        shards: s.shards.map((sh) => ({ salt: b64(sh.salt), ranges: sh.ranges })),
        ...(s.extraLogging ? { extraLogging: Object.fromEntries(Object.entries(s.extraLogging).map(([k, v]) => [b64(k), b64(v)])) } : {}),
      }));
      return out;
    });
    const flag: Record<string, unknown> = { ...f, variations, allocations };
    if (typeof f.key === 'string') flag.key = md5Safe(f.key);
    flags[md5Hex(key)] = flag;
  }
  return { ...doc, format: 'CLIENT', flags };
}
