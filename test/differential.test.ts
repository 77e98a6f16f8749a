// Differential test: random UFC configs and subjects evaluated by saltshard and by Eppo's official JS evaluator
// (@eppo/js-client-sdk-common, the oracle). Values, variation keys, codes, descriptions, matched rule and
// allocation, and the unmatched/unevaluated allocation lists must be identical; and saltshard over its pure-JS md5
// fallback must answer exactly as over the WASM kernel.
// Seeds: DIFF_SEED=<n> replays a run (the seed of each failing config is printed); DIFF_SEED=random picks one.
import { suite } from 'uvu';
import * as assert from 'node:assert/strict';
import { EppoClient, MemoryOnlyConfigurationStore, applicationLogger } from '@eppo/js-client-sdk-common';
import { offlineInit } from '../src/mod.ts';
import { OPERATOR_FAMILIES, type Operator, Rng, type Subject, VARIATION_TYPES, type VariationType, genConfig, genSubject } from './gen-config.ts';

const t = suite('differential');

const envSeed = typeof process !== 'undefined' ? process.env.DIFF_SEED : undefined;
const BASE_SEED = envSeed === 'random' ? (Math.random() * 2 ** 31) >>> 0 : envSeed ? Number(envSeed) >>> 0 : 20240417;
const SUBJECTS_PER_CONFIG = 30;
const SHOW = 5;
const SILENT = { error() {}, warn() {}, info() {}, debug() {} };

const GETTER: Record<VariationType, string> = { STRING: 'String', INTEGER: 'Integer', NUMERIC: 'Numeric', BOOLEAN: 'Boolean', JSON: 'JSON' };
const DETAIL_FIELDS = [
  'environmentName', 'flagEvaluationCode', 'flagEvaluationDescription', 'variationKey', 'variationValue',
  'banditKey', 'banditAction', 'configPublishedAt', 'matchedRule', 'matchedAllocation', 'unmatchedAllocations', 'unevaluatedAllocations',
] as const;

/** How often each outcome was seen across all tests, to prove the generator reaches every path. */
const seen = new Map<string, number>();
const count = (what: string) => seen.set(what, (seen.get(what) ?? 0) + 1);

type Getter = (flag: string, subject: string, attrs: Record<string, unknown>, def: unknown) => unknown;
type Detailed = { variation: unknown; evaluationDetails: Record<string, unknown> };

function defaultFor(type: VariationType, rng: Rng): unknown {
  switch (type) {
    case 'STRING':
      return 'DEFAULT';
    case 'INTEGER':
      return -999;
    case 'NUMERIC':
      return -9.5;
    case 'BOOLEAN':
      return rng.chance(0.5);
    case 'JSON':
      return { default: true };
  }
}

function eppoClientFor(config: Record<string, unknown>, events: unknown[]): EppoClient {
  const store = new MemoryOnlyConfigurationStore<never>();
  // setEntries is async in signature only: the memory store is filled synchronously.
  void store.setEntries(config.flags as Record<string, never>);
  store.setEnvironment(config.environment as { name: string });
  store.setConfigPublishedAt(config.createdAt as string);
  store.setConfigFetchedAt(new Date().toISOString());
  store.setFormat(config.format as never);
  const client = new EppoClient({ flagConfigurationStore: store });
  client.setAssignmentLogger({ logAssignment: (e) => void events.push(e) });
  return client;
}

/**
 * An exposure event without what legitimately differs: the clock, SDK metadata and fetch time. For a flag
 * without a `key` field Eppo logs `featureFlag: undefined` and `experiment: "undefined-<allocation>"`, where
 * saltshard uses the requested key (a deliberate difference), so those two fields are left out for such flags.
 */
function comparableEvent(event: unknown, flag: unknown): unknown {
  const { timestamp: _t, metaData: _m, evaluationDetails, ...rest } = event as Record<string, unknown>;
  if (typeof (flag as { key?: unknown } | undefined)?.key !== 'string') {
    delete rest.featureFlag;
    delete rest.experiment;
  }
  const { configFetchedAt: _f, ...details } = evaluationDetails as Record<string, unknown>;
  return { ...rest, evaluationDetails: { ...details, flagEvaluationDescription: normalize(details.flagEvaluationDescription) } };
}

function call(client: unknown, method: string, flag: string, s: Subject, def: unknown): unknown {
  return ((client as Record<string, Getter>)[method]).call(client, flag, s.key, s.attributes, def);
}

interface Difference {
  seed: number;
  flagKey: string;
  getter: string;
  subject: Subject;
  field: string;
  ours: unknown;
  eppo: unknown;
  flag: unknown;
}

// Runtime-specific error text: saltshard spells the missing-variation TypeError as V8 does (Node, Deno), while
// Eppo on Bun gets JavaScriptCore's wording. Everything else about that outcome must still agree.
const RUNTIME_TEXT: readonly [string, string][] = [
  ["Assignment Error: undefined is not an object (evaluating 'variation.value')", "Assignment Error: Cannot read properties of undefined (reading 'value')"],
];
function normalize(description: unknown): unknown {
  for (const [theirs, ours] of RUNTIME_TEXT) if (description === theirs) return ours;
  return description;
}

function same(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Run `configs` random configs (seeds base+offset ...), return the differences found. */
function runDifferential(offset: number, configs: number, operators: readonly Operator[]): { diffs: Difference[]; calls: number } {
  const diffs: Difference[] = [];
  let calls = 0;
  const originalError = console.error;
  const originalLevel = applicationLogger.level;
  console.error = () => {}; // Eppo prints '>>>>' and the error for every evaluation that throws.
  applicationLogger.level = 'silent';
  try {
    for (let c = 0; c < configs; c++) {
      const seed = (BASE_SEED + offset + c) >>> 0;
      const rng = new Rng(seed);
      const config = genConfig(rng, { operators });
      // Both sides get their own copy, so neither can see the other's mutations.
      const ourEvents: unknown[] = [];
      const eppoEvents: unknown[] = [];
      const ours = offlineInit({
        flagsConfiguration: JSON.stringify(config), logger: SILENT, assignmentCacheSize: false,
        assignmentLogger: { logAssignment: (e) => void ourEvents.push(e) },
      });
      const eppo = eppoClientFor(JSON.parse(JSON.stringify(config)), eppoEvents);
      // The same evaluator over the pure-JS md5 (the fallback) must answer exactly as over the WASM kernel.
      const oursJs = offlineInit({ flagsConfiguration: JSON.stringify(config), logger: SILENT, kernel: 'js' });
      const flags = config.flags as Record<string, { variationType: VariationType }>;
      const flagKeys = Object.keys(flags);
      if (rng.chance(0.3)) flagKeys.push('no-such-flag');
      const subjects: Subject[] = [];
      for (let s = 0; s < SUBJECTS_PER_CONFIG; s++) {
        const subject = genSubject(rng);
        subjects.push(subject);
        for (const flagKey of flagKeys) {
          const flagType = flags[flagKey]?.variationType ?? rng.pick(VARIATION_TYPES);
          const type = rng.chance(0.12) ? rng.pick(VARIATION_TYPES) : flagType;
          const def = defaultFor(type, rng);
          const report = (getter: string, field: string, o: unknown, e: unknown) => {
            diffs.push({ seed, flagKey, getter, subject, field, ours: o, eppo: e, flag: flags[flagKey] });
          };
          const plain = `get${GETTER[type]}Assignment`;
          const detailed = `${plain}Details`;
          calls += 2;
          const vo = call(ours, plain, flagKey, subject, def);
          const ve = call(eppo, plain, flagKey, subject, def);
          if (!same(vo, ve)) report(plain, 'value', vo, ve);
          const dOurs = call(ours, detailed, flagKey, subject, def) as Detailed;
          const dEppo = call(eppo, detailed, flagKey, subject, def) as Detailed;
          const dJs = call(oursJs, detailed, flagKey, subject, def) as Detailed;
          const withoutFetchedAt = (d: Detailed) => ({ variation: d.variation, evaluationDetails: { ...d.evaluationDetails, configFetchedAt: '' } });
          if (!same(withoutFetchedAt(dJs), withoutFetchedAt(dOurs))) report(detailed, 'js kernel vs wasm kernel', dJs, dOurs);
          if (!same(dOurs.variation, dEppo.variation)) report(detailed, 'variation', dOurs.variation, dEppo.variation);
          const ed = dEppo.evaluationDetails;
          count(`code:${ed.flagEvaluationCode}`);
          if (ed.flagEvaluationCode === 'ASSIGNMENT_ERROR') count(`error:${String(ed.flagEvaluationDescription).replace(/^(Variation) \(.*?\) (is configured for type \w+).*$/s, '$1 … $2').slice(0, 60)}`);
          if (ed.flagEvaluationCode === 'MATCH') count(`match:${ed.matchedRule ? 'rule' : 'no-rule'}:${JSON.stringify(dEppo.variation)?.slice(0, 1)}`);
          for (const u of ed.unmatchedAllocations as { allocationEvaluationCode: string }[]) count(`alloc:${u.allocationEvaluationCode}`);
          for (const field of DETAIL_FIELDS) {
            const o = dOurs.evaluationDetails[field];
            const e = field === 'flagEvaluationDescription' ? normalize(dEppo.evaluationDetails[field]) : dEppo.evaluationDetails[field];
            if (!same(o, e)) report(detailed, field, o, e);
          }
          // Exposure events (no dedupe on either side): the same events, field for field.
          if (ourEvents.length !== eppoEvents.length) report(`${plain}+Details`, 'events logged', ourEvents.length, eppoEvents.length);
          else {
            for (let i = 0; i < ourEvents.length; i++) {
              const o = comparableEvent(ourEvents[i], flags[flagKey]);
              const e = comparableEvent(eppoEvents[i], flags[flagKey]);
              if (!same(o, e)) report(`${plain}+Details`, `event ${i}`, o, e);
            }
          }
          if (ourEvents.length) count('events');
          ourEvents.length = 0;
          eppoEvents.length = 0;
        }
      }
      // The batch path (WASM rule engine) against Eppo directly, cell by cell, with each flag's own type.
      const batch = ours.assignMany(subjects.map((x) => ({ subjectKey: x.key, subjectAttributes: x.attributes })) as never, flagKeys, { log: 'none' });
      subjects.forEach((subject, i) => flagKeys.forEach((flagKey, j) => {
        const type = flags[flagKey]?.variationType;
        if (type === undefined || typeof subject.key !== 'string') return;
        calls++;
        const d = call(eppo, `get${GETTER[type]}AssignmentDetails`, flagKey, subject, defaultFor(type, rng)) as Detailed;
        const ed = d.evaluationDetails as Record<string, unknown>;
        const row = batch.row(i, j);
        const want = {
          reason: ed.flagEvaluationCode,
          variationKey: ed.flagEvaluationCode === 'MATCH' ? ed.variationKey : row.variationKey,
          allocationKey: ed.flagEvaluationCode === 'MATCH' ? (ed.matchedAllocation as { key: string }).key : row.allocationKey,
          value: ed.flagEvaluationCode === 'MATCH' ? ed.variationValue : null,
        };
        const got = { reason: row.reason, variationKey: row.variationKey, allocationKey: row.allocationKey, value: row.value };
        if (!same(got, want)) diffs.push({ seed, flagKey, getter: 'assignMany', subject, field: 'batch cell', ours: got, eppo: want, flag: flags[flagKey] });
      }));
      eppoEvents.length = 0;
    }
  } finally {
    console.error = originalError;
    applicationLogger.level = originalLevel;
  }
  return { diffs, calls };
}

/** For two objects, only the top-level entries that differ; otherwise the values themselves. */
function delta(ours: unknown, eppo: unknown): [unknown, unknown] {
  if (typeof ours !== 'object' || typeof eppo !== 'object' || ours === null || eppo === null || Array.isArray(ours)) return [ours, eppo];
  const o: Record<string, unknown> = {};
  const e: Record<string, unknown> = {};
  for (const k of new Set([...Object.keys(ours), ...Object.keys(eppo)])) {
    const a = (ours as Record<string, unknown>)[k];
    const b = (eppo as Record<string, unknown>)[k];
    if (!same(a, b)) [o[k], e[k]] = [a, b];
  }
  return [o, e];
}

function describe(diffs: Difference[]): string {
  const lines = [`${diffs.length} differences (base seed ${BASE_SEED}); first ${Math.min(SHOW, diffs.length)}:`];
  for (const d of diffs.slice(0, SHOW)) {
    const flagJson = JSON.stringify(d.flag);
    lines.push(
      `- config seed ${d.seed}, flag ${JSON.stringify(d.flagKey)}, ${d.getter}, field ${d.field}`,
      `  subject ${JSON.stringify(d.subject)}`,
      `  ours: ${JSON.stringify(delta(d.ours, d.eppo)[0])}`,
      `  eppo: ${JSON.stringify(delta(d.ours, d.eppo)[1])}`,
      `  flag: ${flagJson && flagJson.length > 1500 ? `${flagJson.slice(0, 1500)}…` : flagJson}`,
    );
  }
  return lines.join('\n');
}

const PLAN: readonly [string, number, readonly Operator[]][] = [
  ['regex operators (MATCHES, NOT_MATCHES)', 50, OPERATOR_FAMILIES.regex],
  ['set operators (ONE_OF, NOT_ONE_OF)', 50, OPERATOR_FAMILIES.set],
  ['comparison operators (GT, GTE, LT, LTE; numbers and semver)', 50, OPERATOR_FAMILIES.compare],
  ['IS_NULL', 30, OPERATOR_FAMILIES.null],
  ['all operators, batch 1', 60, OPERATOR_FAMILIES.all],
  ['all operators, batch 2', 60, OPERATOR_FAMILIES.all],
];

let offset = 0;
for (const [name, configs, operators] of PLAN) {
  const start = offset;
  offset += configs;
  t(`${name}: ${configs} random configs × ${SUBJECTS_PER_CONFIG} subjects agree with Eppo`, () => {
    const { diffs, calls } = runDifferential(start, configs, operators);
    assert.ok(calls > 0);
    assert.equal(diffs.length, 0, describe(diffs));
  });
}

t('every outcome was reached', () => {
  if (process.env.DIFF_STATS) console.log([...seen].sort().map(([k, n]) => `${k}: ${n}`).join('\n'));
  for (const code of ['MATCH', 'ASSIGNMENT_ERROR', 'DEFAULT_ALLOCATION_NULL', 'TYPE_MISMATCH', 'FLAG_UNRECOGNIZED_OR_DISABLED']) {
    assert.ok(seen.get(`code:${code}`), `no ${code} outcome was generated`);
  }
  assert.ok(seen.get('events'), 'no exposure event was logged');
  for (const code of ['BEFORE_START_TIME', 'AFTER_END_TIME', 'FAILING_RULE', 'TRAFFIC_EXPOSURE_MISS']) {
    assert.ok(seen.get(`alloc:${code}`), `no ${code} allocation was generated`);
  }
});

t('the generator is deterministic in its seed', () => {
  const a = JSON.stringify(genConfig(new Rng(7))) + JSON.stringify(genSubject(new Rng(7)));
  const b = JSON.stringify(genConfig(new Rng(7))) + JSON.stringify(genSubject(new Rng(7)));
  assert.equal(a, b);
});

t.run();
