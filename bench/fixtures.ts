/**
 * Benchmark fixtures: the 3-flag workload as a UFC config, the same three flags as GrowthBook features and as
 * flagd flag definitions, a generator of distinct subjects, and a generator of a large (1,000-flag) UFC config.
 *
 * The workload (one getter call evaluates one of these flags):
 * - `internal-users` (STRING): a MATCHES rule on `email`, else a default allocation.
 * - `targeted-experiment` (STRING): a rule `country ONE_OF [US, CA, GB] AND age GTE 18`, 80 % traffic exposure
 *   (its own salt) and a 50/50 control/treatment split (another salt), else a default allocation.
 * - `new-checkout-rollout` (BOOLEAN): a default 50 % rollout (one salt), else `false`.
 * Every allocation has doLog: true, so every getter call goes through the dedupe check and, on a miss, builds and
 * delivers an exposure event (the worst case for the event path).
 *
 * Equivalence of the other engines' definitions (they hash differently, so only proportions can agree):
 * - GrowthBook: the regex is GrowthBook's own `$regex` (same pattern, JS RegExp); ONE_OF → `$in`, GTE → `$gte`;
 *   traffic → `coverage: 0.8` of an experiment rule with weights 0.5/0.5 hashed on `id`; the rollout is a force rule
 *   with `coverage: 0.5`. GrowthBook uses FNV-1a (hashVersion 2) over `seed + id`, not md5 over salt-dash-key.
 * - flagd (JsonLogic): the regex `^[a-z0-9._]+@example\.com$` becomes `ends_with email "@example.com"`, which is
 *   equivalent ONLY for the generated emails (local parts are always [a-z0-9.]); flagd has no regex operator.
 *   The traffic exposure and the split are one `fractional` over three buckets (treatment 40, control 40,
 *   holdout 20 whose value is "control"): same proportions as Eppo's two independent 80 % / 50 % shards, but one
 *   murmur3 hash instead of two md5 hashes. The rollout is `fractional` 50/50. `age` is compared with `>=` (JsonLogic
 *   coerces; Eppo parses numbers), identical for the integer ages generated here.
 */

export const FLAG_REGEX = 'internal-users';
export const FLAG_EXPERIMENT = 'targeted-experiment';
export const FLAG_ROLLOUT = 'new-checkout-rollout';
export const WORKLOAD_FLAGS = [FLAG_REGEX, FLAG_EXPERIMENT, FLAG_ROLLOUT] as const;

export const EMAIL_PATTERN = '^[a-z0-9._]+@example\\.com$';
export const COUNTRIES_IN = ['US', 'CA', 'GB'];
const COUNTRIES = ['US', 'CA', 'GB', 'FR', 'DE', 'BR', 'IN', 'JP'];
const DOMAINS = ['example.com', 'example.com', 'mail.test', 'corp.test', 'example.org'];

type Json = Record<string, unknown>;

const str = (key: string): Json => ({ key, value: key });

function fullSplit(variationKey: string): Json {
  return { variationKey, shards: [] };
}

/** The 3-flag workload as a UFC (SERVER format) document. */
export function workloadUfc(): Json {
  return {
    createdAt: '2026-01-01T00:00:00.000Z',
    format: 'SERVER',
    environment: { name: 'bench' },
    flags: {
      [FLAG_REGEX]: {
        key: FLAG_REGEX,
        enabled: true,
        variationType: 'STRING',
        totalShards: 10000,
        variations: { on: str('on'), off: str('off') },
        allocations: [
          { key: 'employees', rules: [{ conditions: [{ attribute: 'email', operator: 'MATCHES', value: EMAIL_PATTERN }] }], splits: [fullSplit('on')], doLog: true },
          { key: 'default', splits: [fullSplit('off')], doLog: true },
        ],
      },
      [FLAG_EXPERIMENT]: {
        key: FLAG_EXPERIMENT,
        enabled: true,
        variationType: 'STRING',
        totalShards: 10000,
        variations: { control: str('control'), treatment: str('treatment') },
        allocations: [
          {
            key: 'experiment',
            rules: [{ conditions: [
              { attribute: 'country', operator: 'ONE_OF', value: COUNTRIES_IN },
              { attribute: 'age', operator: 'GTE', value: 18 },
            ] }],
            splits: [
              { variationKey: 'control', shards: [
                { salt: `${FLAG_EXPERIMENT}-traffic`, ranges: [{ start: 0, end: 8000 }] },
                { salt: `${FLAG_EXPERIMENT}-split`, ranges: [{ start: 0, end: 5000 }] },
              ] },
              { variationKey: 'treatment', shards: [
                { salt: `${FLAG_EXPERIMENT}-traffic`, ranges: [{ start: 0, end: 8000 }] },
                { salt: `${FLAG_EXPERIMENT}-split`, ranges: [{ start: 5000, end: 10000 }] },
              ] },
            ],
            doLog: true,
          },
          { key: 'default', splits: [fullSplit('control')], doLog: true },
        ],
      },
      [FLAG_ROLLOUT]: {
        key: FLAG_ROLLOUT,
        enabled: true,
        variationType: 'BOOLEAN',
        totalShards: 10000,
        variations: { on: { key: 'on', value: true }, off: { key: 'off', value: false } },
        allocations: [
          { key: 'rollout', splits: [{ variationKey: 'on', shards: [{ salt: FLAG_ROLLOUT, ranges: [{ start: 0, end: 5000 }] }] }], doLog: true },
          { key: 'default', splits: [fullSplit('off')], doLog: true },
        ],
      },
    },
  };
}

/** The same three flags as GrowthBook feature definitions (see the module comment for the differences). */
export function workloadGrowthBook(): Json {
  return {
    [FLAG_REGEX]: { defaultValue: 'off', rules: [{ condition: { email: { $regex: EMAIL_PATTERN } }, force: 'on' }] },
    [FLAG_EXPERIMENT]: {
      defaultValue: 'control',
      rules: [{
        condition: { country: { $in: COUNTRIES_IN }, age: { $gte: 18 } },
        key: FLAG_EXPERIMENT, hashAttribute: 'id', hashVersion: 2, seed: FLAG_EXPERIMENT,
        variations: ['control', 'treatment'], weights: [0.5, 0.5], coverage: 0.8,
      }],
    },
    [FLAG_ROLLOUT]: { defaultValue: false, rules: [{ force: true, coverage: 0.5, hashAttribute: 'id', hashVersion: 2, seed: FLAG_ROLLOUT }] },
  };
}

/** The same three flags as a flagd flag-definitions document (JSON text; see the module comment). */
export function workloadFlagd(): string {
  return JSON.stringify({
    flags: {
      [FLAG_REGEX]: {
        state: 'ENABLED', defaultVariant: 'off', variants: { on: 'on', off: 'off' },
        targeting: { if: [{ ends_with: [{ var: 'email' }, '@example.com'] }, 'on', 'off'] },
      },
      [FLAG_EXPERIMENT]: {
        state: 'ENABLED', defaultVariant: 'control', variants: { control: 'control', treatment: 'treatment', holdout: 'control' },
        targeting: {
          if: [
            { and: [{ in: [{ var: 'country' }, COUNTRIES_IN] }, { '>=': [{ var: 'age' }, 18] }] },
            { fractional: [['treatment', 40], ['control', 40], ['holdout', 20]] },
            'control',
          ],
        },
      },
      [FLAG_ROLLOUT]: {
        state: 'ENABLED', defaultVariant: 'off', variants: { on: true, off: false },
        targeting: { fractional: [['on', 50], ['off', 50]] },
      },
    },
  });
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface Subject {
  key: string;
  attributes: { email: string; country: string; age: number };
}

/**
 * `n` distinct subjects. Keys are `u` + 8 base-36 chars + the index (≤ 16 bytes), so salt + "-" + key stays
 * within one md5 block (≤ 55 bytes) for every salt used here. Emails: about 40 % end in @example.com.
 */
export function makeSubjects(n: number, seed = 42): Subject[] {
  const r = rng(seed);
  const out: Subject[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const tag = Math.floor(r() * 2 ** 40).toString(36).padStart(8, '0').slice(-8);
    const key = `u${tag}${i.toString(36)}`;
    const domain = DOMAINS[Math.floor(r() * DOMAINS.length)]!;
    out[i] = {
      key,
      attributes: {
        email: `${r() < 0.5 ? 'jane.doe' : 'dev'}${i % 1000}@${domain}`,
        country: COUNTRIES[Math.floor(r() * COUNTRIES.length)]!,
        age: 10 + Math.floor(r() * 60),
      },
    };
  }
  return out;
}

/**
 * A large SERVER-format UFC config of `n` flags (1,000 → about 1.3 MB of JSON), cycling through realistic shapes:
 * regex and ONE_OF/GTE rules, semver, traffic + split experiments with extraLogging, rollouts, NUMERIC/JSON flags.
 */
export function makeLargeUfc(n = 1000): Json {
  const flags: Record<string, Json> = {};
  for (let i = 0; i < n; i++) {
    const key = `flag-${i.toString().padStart(4, '0')}-${['checkout', 'search', 'pricing', 'onboarding', 'ranking'][i % 5]}`;
    const shape = i % 4;
    const salt = (s: string) => `${key}-${s}`;
    const range = (start: number, end: number) => ({ start, end });
    const countries = COUNTRIES.slice(0, 2 + (i % 5));
    const rules = [
      { conditions: [{ attribute: 'email', operator: 'MATCHES', value: `^[a-z0-9._]+@(example|corp${i})\\.com$` }] },
      { conditions: [{ attribute: 'country', operator: 'ONE_OF', value: countries }, { attribute: 'age', operator: 'GTE', value: 18 + (i % 10) }] },
      { conditions: [{ attribute: 'appVersion', operator: 'GTE', value: `1.${i % 20}.0` }, { attribute: 'platform', operator: 'NOT_ONE_OF', value: ['web', 'tv'] }] },
    ];
    const experimentSplits = (vars: string[]) => vars.map((v, j) => ({
      variationKey: v,
      shards: [
        { salt: salt('traffic'), ranges: [range(0, 2000 + 1000 * (i % 7))] },
        { salt: salt('split'), ranges: [range(Math.floor((10000 * j) / vars.length), Math.floor((10000 * (j + 1)) / vars.length))] },
      ],
      extraLogging: { holdoutKey: `holdout-${i % 13}`, holdoutVariation: 'status_quo' },
    }));
    let flag: Json;
    if (shape === 0 || shape === 1) {
      const vars = shape === 0 ? ['control', 'treatment'] : ['control', 'variant-a', 'variant-b'];
      flag = {
        variationType: 'STRING',
        variations: Object.fromEntries(vars.map((v) => [v, str(v)])),
        allocations: [
          { key: 'internal', rules: [rules[0], { conditions: [{ attribute: 'id', operator: 'ONE_OF', value: [`qa-${i}-1`, `qa-${i}-2`, `qa-${i}-3`] }] }], splits: [fullSplit(vars[1]!)], doLog: false },
          { key: `experiment-${i}`, rules: [rules[1 + (i % 2)]], startAt: '2025-01-01T00:00:00.000Z', endAt: '2030-01-01T00:00:00.000Z', splits: experimentSplits(vars), doLog: true },
          { key: 'default', splits: [fullSplit('control')], doLog: true },
        ],
      };
    } else if (shape === 2) {
      flag = {
        variationType: 'BOOLEAN',
        variations: { on: { key: 'on', value: true }, off: { key: 'off', value: false } },
        allocations: [
          { key: 'beta', rules: [rules[2]], splits: [fullSplit('on')], doLog: true },
          { key: 'rollout', splits: [{ variationKey: 'on', shards: [{ salt: key, ranges: [range(0, 100 * (i % 100))] }] }], doLog: true },
          { key: 'default', splits: [fullSplit('off')], doLog: false },
        ],
      };
    } else {
      const json = (v: number) => JSON.stringify({ limit: v, currency: 'EUR', tiers: [v, v * 2, v * 3], label: `tier-${v}` });
      flag = {
        variationType: i % 8 === 3 ? 'JSON' : 'NUMERIC',
        variations: i % 8 === 3
          ? { small: { key: 'small', value: json(10) }, large: { key: 'large', value: json(100) } }
          : { small: { key: 'small', value: 0.5 }, large: { key: 'large', value: 2.5 } },
        allocations: [
          { key: 'targeted', rules: [rules[1], rules[2]], splits: experimentSplits(['small', 'large']), doLog: true },
          { key: 'default', splits: [fullSplit('small')], doLog: true },
        ],
      };
    }
    flags[key] = { key, enabled: i % 50 !== 49, entityId: 100000 + i, totalShards: 10000, ...flag };
  }
  return { createdAt: '2026-01-01T00:00:00.000Z', format: 'SERVER', environment: { name: 'bench-large' }, flags };
}
