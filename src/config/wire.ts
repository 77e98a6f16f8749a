/**
 * UFC (Universal Flag Configuration) as received, with the valibot schemas that check it.
 * Field list: eppo-spec §1. `FooWire` is the received shape; the compiled shapes live in compile.ts.
 * @module
 */
import * as v from 'valibot';
import { VARIATION_TYPES, type VariationType } from '../errors.ts';

/**
 * A schema issue in our own words: what was expected (from the schema) and the JSON type received — never the
 * received value, which comes from a response body and may hold anything, an SDK key included.
 */
export function issueText(issue: v.BaseIssue<unknown>): string {
  if (issue.type === 'custom') return issue.message; // our own messages (dict), already without the value
  const expected = issue.expected ?? issue.type;
  return `Invalid ${issue.kind === 'schema' ? 'type' : issue.type}: Expected ${expected} but received ${kindOf(issue.input)}`;
}

/** The JSON type of a value, for messages: `a string`, `a number`, `null`… */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'nothing';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return type === 'object' ? 'an object' : `a ${type}`;
}

/**
 * A string-keyed map, like `v.record(v.string(), value)` but without its two gaps for UFC: arrays are rejected,
 * and own keys named `__proto__`, `constructor` or `prototype` (legal flag and variation keys, which JSON.parse
 * keeps as own properties) are kept instead of being dropped silently. The output has a null prototype.
 */
function dict<const T extends v.GenericSchema>(value: T) {
  return v.pipe(
    v.custom<Record<string, unknown>>(
      (x) => typeof x === 'object' && x !== null && !Array.isArray(x),
      (issue) => `Invalid type: Expected Object but received ${kindOf(issue.input)}`,
    ),
    v.rawTransform(({ dataset, addIssue, NEVER }) => {
      const input = dataset.value;
      const out: Record<string, v.InferOutput<T>> = Object.create(null);
      for (const key of Object.keys(input)) {
        const entry = v.safeParse(value, input[key]);
        if (entry.success) {
          out[key] = entry.output;
          continue;
        }
        const issue = entry.issues[0];
        const at: v.ObjectPathItem = { type: 'object', origin: 'value', input, key, value: input[key] };
        addIssue({ message: issueText(issue), path: [at, ...(issue.path ?? [])] });
        return NEVER;
      }
      return out;
    }),
  );
}

const RangeSchema = v.object({
  start: v.pipe(v.number(), v.integer()),
  end: v.pipe(v.number(), v.integer()),
});

const ShardSchema = v.object({ salt: v.string(), ranges: v.array(RangeSchema) });

const SplitSchema = v.object({
  variationKey: v.string(),
  shards: v.array(ShardSchema),
  extraLogging: v.nullish(dict(v.string())),
});

// Rules and conditions keep fields the schema does not name: a matched rule is reported as it was received (as
// Eppo does), whether the config arrived as text (flags used as parsed) or as an object (schema output).
const ConditionSchema = v.looseObject({
  attribute: v.string(),
  operator: v.string(),
  value: v.unknown(),
});

const RuleSchema = v.looseObject({ conditions: v.array(ConditionSchema) });

const AllocationSchema = v.object({
  key: v.string(),
  rules: v.nullish(v.array(RuleSchema)),
  startAt: v.nullish(v.string()),
  endAt: v.nullish(v.string()),
  splits: v.array(SplitSchema),
  doLog: v.nullish(v.boolean()),
});

/** Schema of one flag; a flag that fails it is kept as an error reason, the others still load. */
export const FlagSchema = v.object({
  key: v.nullish(v.string()),
  enabled: v.nullish(v.boolean()),
  variationType: v.picklist(VARIATION_TYPES),
  variations: dict(v.object({ key: v.string(), value: v.unknown() })),
  allocations: v.array(AllocationSchema),
  totalShards: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(0xffffffff)),
  entityId: v.nullish(v.number()),
});

/** Schema of the document around the flags; a failure here rejects the whole document. */
export const ConfigSchema = v.object({
  createdAt: v.nullish(v.string()),
  format: v.nullish(v.string()),
  environment: v.nullish(v.object({ name: v.string() })),
  flags: dict(v.unknown()),
  banditReferences: v.nullish(dict(v.unknown())),
  bandits: v.nullish(dict(v.unknown())),
});

/**
 * True only for flags FlagSchema accepts (possibly not for all of them: arrays where objects are expected, non-finite
 * numbers and the like go to the schema). Keys the schema requires (`value` included) must be present. A check without copies or issue objects, for documents parseConfig parsed
 * from text itself: 4× less time than the schema on a 1,000-flag config; the schema still reports every failure.
 */
export function isFlagWire(x: unknown): x is FlagWire {
  if (!isRecord(x)) return false;
  if (!nullishOf(x.key, 'string') || !nullishOf(x.enabled, 'boolean') || !VARIATION_TYPE_SET.has(x.variationType as string)) return false;
  const t = x.totalShards;
  if (!Number.isInteger(t) || (t as number) < 1 || (t as number) > 0xffffffff) return false;
  if (x.entityId != null && !Number.isFinite(x.entityId)) return false;
  const variations = x.variations;
  if (!isRecord(variations)) return false;
  for (const name in variations) {
    if (!Object.hasOwn(variations, name)) continue;
    const variation = variations[name];
    if (!isRecord(variation) || typeof variation.key !== 'string' || !Object.hasOwn(variation, 'value')) return false;
  }
  const allocations = x.allocations;
  if (!Array.isArray(allocations)) return false;
  for (let i = 0; i < allocations.length; i++) if (!isAllocationWire(allocations[i])) return false;
  return true;
}

const VARIATION_TYPE_SET: ReadonlySet<string> = new Set(VARIATION_TYPES);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function nullishOf(x: unknown, type: 'string' | 'boolean'): boolean {
  return x == null || typeof x === type;
}

function isAllocationWire(a: unknown): boolean {
  if (!isRecord(a) || typeof a.key !== 'string' || !nullishOf(a.startAt, 'string') || !nullishOf(a.endAt, 'string') || !nullishOf(a.doLog, 'boolean')) return false;
  const rules = a.rules;
  if (rules != null) {
    if (!Array.isArray(rules)) return false;
    for (let r = 0; r < rules.length; r++) {
      const rule = rules[r];
      if (!isRecord(rule) || !Array.isArray(rule.conditions)) return false;
      const conditions = rule.conditions;
      for (let c = 0; c < conditions.length; c++) {
        const cond = conditions[c];
        if (!isRecord(cond) || typeof cond.attribute !== 'string' || typeof cond.operator !== 'string' || !Object.hasOwn(cond, 'value')) return false;
      }
    }
  }
  const splits = a.splits;
  if (!Array.isArray(splits)) return false;
  for (let s = 0; s < splits.length; s++) {
    const split = splits[s];
    if (!isRecord(split) || typeof split.variationKey !== 'string' || !Array.isArray(split.shards)) return false;
    const extra = split.extraLogging;
    if (extra != null) {
      if (!isRecord(extra)) return false;
      for (const k in extra) if (Object.hasOwn(extra, k) && typeof extra[k] !== 'string') return false;
    }
    const shards = split.shards;
    for (let h = 0; h < shards.length; h++) {
      const shard = shards[h];
      if (!isRecord(shard) || typeof shard.salt !== 'string' || !Array.isArray(shard.ranges)) return false;
      const ranges = shard.ranges;
      for (let k = 0; k < ranges.length; k++) {
        const range = ranges[k];
        if (!isRecord(range) || !Number.isInteger(range.start) || !Number.isInteger(range.end)) return false;
      }
    }
  }
  return true;
}

/** One shard range of a split: subjects whose shard is in `[start, end)`. */
export interface RangeWire {
  /** First shard in the range. */
  start: number;
  /** One past the last shard in the range. */
  end: number;
}
/** A salted hash of the subject key and the shard ranges that select it. */
export interface ShardWire {
  /** Salt prepended to the subject key before hashing. */
  salt: string;
  /** Ranges of shards (out of the flag's `totalShards`) in this shard. */
  ranges: RangeWire[];
}
/** A variation and the shards (all of which must hold) that assign it. */
export interface SplitWire {
  /** Key of the variation this split assigns. */
  variationKey: string;
  /** Shards the subject must fall in, every one. */
  shards: ShardWire[];
  /** Extra fields copied into the assignment event. */
  extraLogging?: Record<string, string> | null;
}
/** One targeting condition; fields the SDK does not name are kept as received. */
export interface ConditionWire {
  /** Subject attribute the condition reads. */
  attribute: string;
  /** Operator name (`MATCHES`, `ONE_OF`, `GTE`, …). */
  operator: string;
  /** Comparand, as received. */
  value: unknown;
  /** Any other field, kept as received. */
  [extra: string]: unknown;
}
/** A rule: all its conditions must hold. Fields the SDK does not name are kept as received. */
export interface RuleWire {
  /** Conditions, all of which must hold. */
  conditions: ConditionWire[];
  /** Any other field, kept as received. */
  [extra: string]: unknown;
}
/** An allocation: rules, an active window and the splits among variations. */
export interface AllocationWire {
  /** Allocation key, reported in details and events. */
  key: string;
  /** Rules of which at least one must hold (none: every subject). */
  rules?: RuleWire[] | null;
  /** Start of the active window (ISO 8601). */
  startAt?: string | null;
  /** End of the active window (ISO 8601). */
  endAt?: string | null;
  /** Splits tried in order. */
  splits: SplitWire[];
  /** Whether assignments from this allocation are logged (default true). */
  doLog?: boolean | null;
}
/** A variation: its key and value as received. */
export interface VariationWire {
  /** Variation key. */
  key: string;
  /** Value, as received (a string for JSON flags in obfuscated formats). */
  value: unknown;
}
/** One flag as received (eppo-spec §1). */
export interface FlagWire {
  /** Flag key (the map's key wins). */
  key?: string | null;
  /** Disabled flags return the default. */
  enabled?: boolean | null;
  /** Type of the flag's values. */
  variationType: VariationType;
  /** Variations by key. */
  variations: Record<string, VariationWire>;
  /** Allocations tried in order. */
  allocations: AllocationWire[];
  /** Number of shards the subject hash is reduced to. */
  totalShards: number;
  /** Eppo's numeric id of the flag. */
  entityId?: number | null;
}
/** The whole UFC document as received; flags and bandits are checked one by one later. */
export interface ConfigWire {
  /** When the config was published. */
  createdAt?: string | null;
  /** `SERVER`, `CLIENT` (obfuscated) or `PRECOMPUTED`. */
  format?: string | null;
  /** Environment the config belongs to. */
  environment?: { name: string } | null;
  /** Flags by key, each checked by FlagSchema on its own. */
  flags: Record<string, unknown>;
  /** Bandit references by key, as received. */
  banditReferences?: Record<string, unknown> | null;
  /** Bandit models by key, as received. */
  bandits?: Record<string, unknown> | null;
}

// The interfaces above are the schemas' outputs, exactly (checked by the compiler both ways).
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const _sameAsSchemas: [Same<FlagWire, v.InferOutput<typeof FlagSchema>>, Same<ConfigWire, v.InferOutput<typeof ConfigSchema>>] = [true, true];
void _sameAsSchemas;

/** Formats whose keys and values are hashed or base64-encoded (eppo-spec §3). */
export const OBFUSCATED_FORMATS: ReadonlySet<string> = new Set(['CLIENT', 'PRECOMPUTED']);
