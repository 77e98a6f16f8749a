/**
 * The parts of an exposure event that are the same for every subject with the same outcome, built once and
 * deep-frozen: `metaData` per config kind, and `evaluationDetails` per (config, split, matched rule, unmatched
 * allocations). Only the MATCH description of a partial rollout names the subject; such events get their own
 * (unfrozen) copy of the shared details with their own description, whose nested objects stay shared and frozen. Sharing makes building an
 * event cheaper and lets a sink reuse the JSON text of these parts (src/sinks/json.ts); freezing keeps one
 * logger's change from reaching another event (copy an event's parts before changing them).
 * @module
 */
import type { AllocationEvaluationCode } from '../errors.ts';
import type { CompiledConfig, CompiledFlag, Rule, Split } from '../config/compile.ts';
import { type FlagEvaluationDetails, evaluationDetails } from '../eval/details.ts';
import { type Evaluation, MATCHED, reached, reachedEvaluation } from '../eval/reference.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';

const META = [false, true].map((obfuscated) =>
  Object.freeze({ obfuscated, sdkLanguage: 'javascript', sdkLibVersion: SDK_VERSION, sdkName: SDK_NAME, sdkVersion: SDK_VERSION })
);

/** The frozen `metaData` of events from a plain (false) or obfuscated (true) config. */
export function exposureMetaData(obfuscated: boolean): Readonly<Record<string, unknown>> {
  return META[obfuscated ? 1 : 0];
}

interface Shared {
  readonly config: CompiledConfig;
  readonly rule: Rule | null;
  readonly unmatched: readonly AllocationEvaluationCode[];
  readonly details: FlagEvaluationDetails;
}

/** Outcomes of a split (usually one: a config, one rule, no or few unmatched allocations). */
const bySplit = new WeakMap<Split, Shared[]>();
/**
 * The last few splits looked up and their lists, checked before the WeakMap (a WeakMap lookup costs ~50 ns). They
 * hold up to RECENT splits (and the configs of their outcomes) strongly until newer exposures displace them.
 */
const RECENT = 8;
const recentSplits: (Split | null)[] = new Array(RECENT).fill(null);
const recentLists: (Shared[] | null)[] = new Array(RECENT).fill(null);
let recentNext = 0;

function outcomesOf(split: Split): Shared[] {
  for (let i = 0; i < RECENT; i++) if (recentSplits[i] === split) return recentLists[i]!;
  let list = bySplit.get(split);
  if (list === undefined) bySplit.set(split, (list = []));
  recentSplits[recentNext] = split;
  recentLists[recentNext] = list;
  recentNext = (recentNext + 1) % RECENT;
  return list;
}
/** Outcomes kept per split; beyond, the oldest is forgotten (only the sharing is lost). */
const MAX_PER_SPLIT = 16;

/**
 * Deep-frozen evaluation details of an exposure: of the evaluation `e` (which matched `e.split`), or with `e` null of
 * the MATCH that {@link matchFlag} just left in {@link reached} for `subjectKey` — whose evaluation is then built only
 * for the first exposure of its outcome.
 */
export function exposureDetails(config: CompiledConfig, flag: CompiledFlag, e: Evaluation | null, subjectKey: string): FlagEvaluationDetails {
  const split = e === null ? reached.split! : e.split!;
  const rule = e === null ? reached.rule : e.matchedRule;
  const unmatched = e === null ? reached.unmatched : e.unmatched;
  const list = outcomesOf(split);
  let shared: Shared | undefined;
  for (let i = 0; i < list.length; i++) {
    const s = list[i];
    if (s.config === config && s.rule === rule && sameCodes(s.unmatched, unmatched)) {
      shared = s;
      break;
    }
  }
  if (shared === undefined) {
    const built = e ?? reachedEvaluation(flag, subjectKey, MATCHED);
    shared = { config, rule, unmatched: Object.isFrozen(unmatched) ? unmatched : unmatched.slice(), details: deepFreeze(structuredClone(evaluationDetails(config, flag, built))) };
    if (list.length >= MAX_PER_SPLIT) list.shift();
    list.push(shared);
  }
  const d = shared.details;
  // A MATCH description naming the subject: every such event gets its own copy (the first one too, so that all
  // events of an outcome behave alike for a logger that changes them).
  let description: string;
  if (e === null || e.code === 'MATCH') {
    const text = split.matchText;
    if (text[1] === null && (e === null || d.flagEvaluationDescription === e.description)) return d;
    description = e === null ? text[0] + subjectKey + text[1] : e.description;
  } else {
    if (d.flagEvaluationDescription === e.description) return d;
    description = e.description;
  }
  // A literal, not a spread: spreading a frozen object takes V8's slow path. This copy belongs to one event only,
  // so it is not frozen (Object.freeze of a fresh 13-field object cost ~80 ns per event); its parts are.
  return {
    environmentName: d.environmentName, flagEvaluationCode: d.flagEvaluationCode, flagEvaluationDescription: description,
    variationKey: d.variationKey, variationValue: d.variationValue, banditKey: d.banditKey, banditAction: d.banditAction,
    configFetchedAt: d.configFetchedAt, configPublishedAt: d.configPublishedAt, matchedRule: d.matchedRule,
    matchedAllocation: d.matchedAllocation, unmatchedAllocations: d.unmatchedAllocations, unevaluatedAllocations: d.unevaluatedAllocations,
  };
}

/** Equal lists of codes; the evaluator's shared lists (frozen, kept as they are in {@link Shared}) compare by identity. */
function sameCodes(a: readonly AllocationEvaluationCode[], b: readonly AllocationEvaluationCode[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
