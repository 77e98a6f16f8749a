/**
 * Test doubles (`saltshard/testing`): an in-memory client from plain values, a builder of targeted values and
 * percentage splits (like LaunchDarkly's `TestData`), and forced values on an existing client for a test's
 * duration. The first two produce a real UFC configuration evaluated by the real evaluator, so details, events
 * and type checks behave as in production; forced values are Eppo overrides (see `setOverrideStore`).
 * @module
 * @example
 * import { testClient, TestData, withForcedValues } from 'saltshard/testing';
 * const client = testClient({ 'new-checkout': true, 'button-color': 'blue' });
 * client.getBooleanAssignment('new-checkout', 'user-1', {}, false); // true
 *
 * const td = new TestData();
 * td.flag('button-color').forSubjects(['qa-bot'], 'red').when({ country: ['FR', 'BE'] }, 'green').split({ blue: 50, green: 50 });
 * const client2 = td.client();
 */
import { type OfflineInitOptions, type SaltshardClient, offlineInit } from './client.ts';
import type { ClientOptions } from './client/options.ts';
import type { ISyncStore, Variation } from './client/overrides.ts';
import type { VariationType } from './errors.ts';

/** A value a test flag serves: string, boolean, number, or anything JSON (objects, arrays, null) for JSON flags. */
export type TestValue = string | number | boolean | null | readonly unknown[] | { readonly [key: string]: unknown };

/** One UFC condition (`{ attribute, operator, value }`), e.g. `{ attribute: 'age', operator: 'GTE', value: 18 }`. */
export interface TestCondition {
  /** The subject attribute (`id` is the subject key unless an `id` attribute is given). */
  attribute: string;
  /** A UFC operator: ONE_OF, NOT_ONE_OF, MATCHES, NOT_MATCHES, GT, GTE, LT, LTE, IS_NULL. */
  operator: string;
  /** The operator's operand (a list of strings for ONE_OF / NOT_ONE_OF). */
  value: unknown;
}

/**
 * Who a rule applies to: one condition, a list (all must hold), or the shorthand `{ attribute: value | values }`
 * (each attribute ONE_OF the given values; all attributes must match).
 */
export type TestConditions = TestCondition | readonly TestCondition[] | Readonly<Record<string, string | number | boolean | readonly (string | number | boolean)[]>>;

/** A percentage split: `{ value: percent }` for string values, or `[value, percent]` pairs for any values. */
export type TestSplit = Readonly<Record<string, number>> | Iterable<readonly [TestValue, number]>;

const TOTAL_SHARDS = 10_000;

/** A subject target (`id` ONE_OF keys) or a rule, serving one value. */
type Target = { conditions: TestCondition[]; value: TestValue; key: string };

/** A flag builder's state. */
type Snapshot = {
  type: VariationType | null;
  enabled: boolean;
  doLog: boolean;
  salt: string;
  targets: Target[];
  split: [TestValue, number][] | null;
  fallthrough: { value: TestValue } | null;
};

/** Builds one flag of a {@link TestData}; every method applies at once to the clients the TestData made. */
export class TestFlag {
  readonly key: string;
  readonly #publish: () => void;
  #type: VariationType | null = null;
  #enabled = true;
  #doLog = true;
  #salt: string;
  #targets: Target[] = [];
  #split: [TestValue, number][] | null = null;
  #fallthrough: { value: TestValue } | null = null;
  /** The last state that made a valid flag (restored when a change does not). */
  #saved: Snapshot;

  /** @internal Made by {@link TestData.flag}. */
  constructor(key: string, publish: () => void) {
    if (typeof key !== 'string' || key === '') throw new TypeError('a test flag needs a non-empty string key');
    this.key = key;
    this.#salt = key;
    this.#publish = publish;
    this.#saved = this.#snapshot();
  }

  /** Fix the variation type (otherwise inferred from the values: booleans, strings, integers, numbers, JSON). */
  type(type: VariationType): this {
    if (!['STRING', 'INTEGER', 'NUMERIC', 'BOOLEAN', 'JSON'].includes(type)) throw new TypeError(`unknown variation type ${String(type)}`);
    this.#type = type;
    return this.#changed();
  }

  /** The value for every subject no earlier target, rule or split took (the fallthrough). */
  serve(value: TestValue): this {
    this.#fallthrough = { value: checkValue(this.key, value) };
    return this.#changed();
  }

  /** These subject keys get `value` (checked before rules and splits, in the order added). */
  forSubjects(subjectKeys: string | readonly string[], value: TestValue): this {
    const keys = typeof subjectKeys === 'string' ? [subjectKeys] : [...subjectKeys];
    if (keys.length === 0 || keys.some((k) => typeof k !== 'string')) throw new TypeError(`forSubjects() on ${this.key} needs subject keys (strings)`);
    this.#targets.push({ key: 'subjects', conditions: [{ attribute: 'id', operator: 'ONE_OF', value: keys }], value: checkValue(this.key, value) });
    return this.#changed();
  }

  /** Subjects matching `conditions` get `value` (rules are checked in the order added, after subject targets). */
  when(conditions: TestConditions, value: TestValue): this {
    this.#targets.push({ key: 'rule', conditions: toConditions(this.key, conditions), value: checkValue(this.key, value) });
    return this.#changed();
  }

  /**
   * Split the subjects no target or rule took by percentage (by the md5 shard of the subject key, as in production);
   * percentages may total less than 100, the rest falls through to {@link serve} (or the caller's default). A later
   * call replaces the split.
   * @example flag.split({ control: 50, treatment: 50 }); flag.split([[true, 10], [false, 90]]);
   */
  split(split: TestSplit): this {
    const parts: [TestValue, number][] = Symbol.iterator in Object(split) && typeof split !== 'string'
      ? [...(split as Iterable<readonly [TestValue, number]>)].map(([v, p]) => [v, p])
      : Object.entries(split as Record<string, number>);
    let total = 0;
    for (const [value, percent] of parts) {
      checkValue(this.key, value);
      if (typeof percent !== 'number' || !Number.isFinite(percent) || percent < 0) throw new RangeError(`split() on ${this.key}: percentages must be non-negative numbers`);
      total += percent;
    }
    if (parts.length === 0 || total > 100 + 1e-9) throw new RangeError(`split() on ${this.key}: give at least one value, with percentages totalling at most 100 (got ${total})`);
    this.#split = parts;
    return this.#changed();
  }

  /** The salt of the split's shards (default: the flag key): change it to reshuffle subjects. */
  salt(salt: string): this {
    this.#salt = String(salt);
    return this.#changed();
  }

  /** Disable (getters return the caller's default, FLAG_UNRECOGNIZED_OR_DISABLED) or enable the flag. */
  enabled(enabled: boolean): this {
    this.#enabled = enabled !== false;
    return this.#changed();
  }

  /** Whether assignments log exposure events (default true, so tests can assert them). */
  doLog(doLog: boolean): this {
    this.#doLog = doLog !== false;
    return this.#changed();
  }

  /** Forget every target, rule, split and fallthrough (type, salt and switches stay). */
  clear(): this {
    this.#targets = [];
    this.#split = null;
    this.#fallthrough = null;
    return this.#changed();
  }

  /** @internal The flag as UFC (SERVER format). */
  toUfc(): Record<string, unknown> {
    const served = [...this.#targets.map((t) => t.value), ...(this.#split ?? []).map(([v]) => v), ...(this.#fallthrough ? [this.#fallthrough.value] : [])];
    const type = this.#type ?? inferType(this.key, served);
    const variations: Record<string, { key: string; value: string | number | boolean }> = {};
    const keyOf = new Map<string, string>();
    const variationKey = (value: TestValue): string => {
      const wire = wireValue(this.key, type, value);
      const id = JSON.stringify(wire);
      let key = keyOf.get(id);
      if (key === undefined) {
        key = type === 'JSON' ? `json-${keyOf.size}` : String(wire);
        while (key in variations) key = `${key}-${keyOf.size}`;
        keyOf.set(id, key);
        variations[key] = { key, value: wire };
      }
      return key;
    };
    const whole = (value: TestValue) => [{ variationKey: variationKey(value), shards: [] }];
    const allocations: Record<string, unknown>[] = this.#targets.map((t, i) => ({ key: `${t.key}-${i + 1}`, rules: [{ conditions: t.conditions }], splits: whole(t.value), doLog: this.#doLog }));
    if (this.#split !== null) {
      let start = 0;
      const splits = this.#split.map(([value, percent]) => {
        const end = Math.min(TOTAL_SHARDS, start + Math.round(percent * (TOTAL_SHARDS / 100)));
        const s = { variationKey: variationKey(value), shards: [{ salt: `${this.#salt}-split`, ranges: [{ start, end }] }] };
        start = end;
        return s;
      });
      allocations.push({ key: 'split', rules: [], splits, doLog: this.#doLog });
    }
    if (this.#fallthrough) allocations.push({ key: 'fallthrough', rules: [], splits: whole(this.#fallthrough.value), doLog: this.#doLog });
    return { key: this.key, enabled: this.#enabled, variationType: type, totalShards: TOTAL_SHARDS, variations, allocations };
  }

  /** Check the flag still makes a valid UFC flag (else undo the last change and throw), then publish it. */
  #changed(): this {
    try {
      this.toUfc();
    } catch (err) {
      this.#restore(this.#saved);
      throw err;
    }
    this.#saved = this.#snapshot();
    this.#publish();
    return this;
  }

  #snapshot(): Snapshot {
    return { type: this.#type, enabled: this.#enabled, doLog: this.#doLog, salt: this.#salt, targets: [...this.#targets], split: this.#split, fallthrough: this.#fallthrough };
  }

  #restore(s: Snapshot): void {
    this.#type = s.type;
    this.#enabled = s.enabled;
    this.#doLog = s.doLog;
    this.#salt = s.salt;
    this.#targets = [...s.targets];
    this.#split = s.split;
    this.#fallthrough = s.fallthrough;
  }
}

/**
 * Flags for tests, built in code, as a real UFC configuration: clients made by {@link client} evaluate it with the
 * real evaluator, and receive every later change at once (with `configurationChanged` naming the changed flags).
 */
export class TestData {
  readonly #flags = new Map<string, TestFlag>();
  readonly #clients: SaltshardClient[] = [];
  #publishing = true;

  /** The builder of a flag, created (serving nothing: callers get their default) on first use. */
  flag(key: string): TestFlag {
    let flag = this.#flags.get(key);
    if (flag === undefined) {
      flag = new TestFlag(key, () => this.#publish());
      this.#flags.set(key, flag);
      this.#publish();
    }
    return flag;
  }

  /** Serve each value to everyone: `{ 'new-checkout': true, 'button-color': 'blue' }`. */
  values(values: Readonly<Record<string, TestValue>>): this {
    if (values === null || typeof values !== 'object') throw new TypeError('values() needs an object of flag key → value');
    this.#batch(() => {
      for (const [key, value] of Object.entries(values)) this.flag(key).clear().serve(value);
    });
    return this;
  }

  /** Remove a flag (getters then answer FLAG_UNRECOGNIZED_OR_DISABLED). */
  remove(key: string): this {
    if (this.#flags.delete(key)) this.#publish();
    return this;
  }

  /** The configuration as a UFC document (SERVER format), e.g. to write a fixture file or start a fake server. */
  config(): Record<string, unknown> {
    const flags: Record<string, unknown> = {};
    for (const [key, flag] of this.#flags) flags[key] = flag.toUfc();
    return { createdAt: new Date(0).toISOString(), format: 'SERVER', environment: { name: 'Test' }, flags };
  }

  /** A new offline client on this configuration (kept up to date by later changes). */
  client(options: ClientOptions = {}): SaltshardClient {
    const client = offlineInit({ ...options, flagsConfiguration: this.config() } as OfflineInitOptions);
    this.#clients.push(client);
    return client;
  }

  #batch(fn: () => void): void {
    const was = this.#publishing;
    this.#publishing = false;
    try {
      fn();
    } finally {
      this.#publishing = was;
    }
    this.#publish();
  }

  #publish(): void {
    if (!this.#publishing || this.#clients.length === 0) return;
    const config = this.config();
    for (const client of this.#clients) client.setConfiguration(config);
  }
}

/**
 * An offline client serving these values to every subject, from a real UFC configuration: booleans are BOOLEAN
 * flags, strings STRING, integers INTEGER, other numbers NUMERIC, objects, arrays and null JSON.
 * @example const client = testClient({ 'new-checkout': true, 'button-color': 'blue', 'page-size': 20 });
 */
export function testClient(values: Readonly<Record<string, TestValue>>, options: ClientOptions = {}): SaltshardClient {
  const td = new TestData().values(values);
  return td.client(options);
}

/** What {@link forceValues} returns: undo it with `restore()` (or use {@link withForcedValues}). */
export interface ForcedValues {
  /** Stop forcing these values (idempotent); overrides set before them apply again. */
  restore(): void;
}

/**
 * Force flag values on an existing client (live or offline) until `restore()`: every subject gets them, whatever
 * the configuration says, without exposure events (Eppo overrides, layered over any override store already set).
 * A value of the wrong type for a getter gives that getter's default with TYPE_MISMATCH.
 * @example
 * const forced = forceValues(client, { 'new-checkout': false });
 * try { ... } finally { forced.restore(); }
 */
export function forceValues(client: SaltshardClient, values: Readonly<Record<string, TestValue>>): ForcedValues {
  if (values === null || typeof values !== 'object') throw new TypeError('forceValues() needs an object of flag key → value');
  const forced = new Map<string, Variation>();
  for (const [key, value] of Object.entries(values)) forced.set(key, forcedVariation(client, key, checkValue(key, value)));
  const below = client.getOverrideStore();
  let active = true;
  const layer: ISyncStore<Variation> = {
    get: (key) => (active ? forced.get(key) : undefined) ?? below?.get(key) ?? null,
    entries: () => ({ ...below?.entries(), ...(active ? Object.fromEntries(forced) : {}) }),
  };
  client.setOverrideStore(layer);
  const restore = () => {
    if (!active) return;
    active = false;
    // Restored in order: put back what was below; out of order, this layer just passes through from now on.
    if (client.getOverrideStore() === layer) {
      if (below === null) client.unsetOverrideStore();
      else client.setOverrideStore(below);
    }
  };
  return { restore };
}

/** Run `fn` with values forced on `client` (see {@link forceValues}), restored when it returns, throws or settles. */
export async function withForcedValues<T>(client: SaltshardClient, values: Readonly<Record<string, TestValue>>, fn: () => T | Promise<T>): Promise<T> {
  const forced = forceValues(client, values);
  try {
    return await fn();
  } finally {
    forced.restore();
  }
}

/** The override for a forced value: the flag's own variation key when one holds this value. */
function forcedVariation(client: SaltshardClient, flagKey: string, value: TestValue): Variation {
  const flag = client.getConfiguration()?.wire.flags[flagKey] as { variationType?: string; variations?: Record<string, { key: string; value: unknown }> } | undefined;
  const type = flag?.variationType;
  const wire = type === 'JSON' ? JSON.stringify(value) : value;
  for (const v of Object.values(flag?.variations ?? {})) {
    const same = type === 'JSON' && typeof v.value === 'string' ? safeCanonical(v.value) === JSON.stringify(value) : v.value === wire;
    if (same) return { key: v.key, value: wire as Variation['value'] };
  }
  return { key: `forced-${typeof value === 'object' ? 'json' : String(value)}`, value: wire as Variation['value'] };
}

function safeCanonical(text: string): string | null {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    return null;
  }
}

function checkValue(flagKey: string, value: TestValue): TestValue {
  if (value === undefined || typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new TypeError(`flag ${flagKey}: ${typeof value} is not a flag value (use a string, boolean, number or JSON value)`);
  }
  if (typeof value === 'number' && !Number.isFinite(value)) throw new TypeError(`flag ${flagKey}: ${value} is not a flag value`);
  return value;
}

function inferType(flagKey: string, values: TestValue[]): VariationType {
  const kinds = new Set(values.map((v) => (typeof v === 'boolean' ? 'BOOLEAN' : typeof v === 'string' ? 'STRING' : typeof v === 'number' ? 'NUMBER' : 'JSON')));
  if (kinds.size === 0) return 'STRING';
  if (kinds.size > 1) throw new TypeError(`flag ${flagKey} mixes value types (${[...kinds].join(', ').toLowerCase()}); give one type, or call type('JSON')`);
  const [kind] = kinds;
  if (kind === 'NUMBER') return values.every((v) => Number.isInteger(v)) ? 'INTEGER' : 'NUMERIC';
  return kind as VariationType;
}

/** A value as the UFC stores it for `type` (JSON as text); a value that does not fit the type is a setup error. */
function wireValue(flagKey: string, type: VariationType, value: TestValue): string | number | boolean {
  const fits = type === 'JSON' || (type === 'STRING' ? typeof value === 'string' : type === 'BOOLEAN' ? typeof value === 'boolean' : type === 'INTEGER' ? Number.isInteger(value) : typeof value === 'number');
  if (!fits) throw new TypeError(`flag ${flagKey} is ${type}: ${JSON.stringify(value)} does not fit`);
  return type === 'JSON' ? JSON.stringify(value) : (value as string | number | boolean);
}

function toConditions(flagKey: string, c: TestConditions): TestCondition[] {
  const isCondition = (x: unknown): x is TestCondition => typeof x === 'object' && x !== null && typeof (x as TestCondition).attribute === 'string' && typeof (x as TestCondition).operator === 'string';
  if (Array.isArray(c)) {
    if (!c.every(isCondition)) throw new TypeError(`when() on ${flagKey}: each condition needs { attribute, operator, value }`);
    return c.map((x) => ({ attribute: x.attribute, operator: x.operator, value: x.value }));
  }
  if (isCondition(c)) return [{ attribute: c.attribute, operator: c.operator, value: c.value }];
  if (c === null || typeof c !== 'object') throw new TypeError(`when() on ${flagKey} needs conditions`);
  const entries = Object.entries(c as Record<string, unknown>);
  if (entries.length === 0) throw new TypeError(`when() on ${flagKey} needs at least one condition`);
  return entries.map(([attribute, v]) => ({ attribute, operator: 'ONE_OF', value: (Array.isArray(v) ? v : [v]).map(String) }));
}
