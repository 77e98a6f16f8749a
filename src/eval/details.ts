/**
 * Evaluation details exactly as Eppo's `FlagEvaluationDetailsBuilder` reports them (eppo-spec §2.9).
 * @module
 */
import type { AllocationEvaluationCode, FlagEvaluationCode } from '../errors.ts';
import type { Allocation, CompiledConfig, CompiledFlag } from '../config/compile.ts';
import type { RuleWire } from '../config/wire.ts';
import type { Evaluation } from './reference.ts';

/** One allocation's outcome; `orderPosition` is 1-based. */
export interface AllocationEvaluation {
  /** The allocation key. */
  key: string;
  /** How this allocation was evaluated. */
  allocationEvaluationCode: AllocationEvaluationCode;
  /** 1-based position of the allocation in the flag. */
  orderPosition: number;
}

/** Why a getter returned what it did. */
export interface FlagEvaluationDetails {
  /** Name of the environment of the config. */
  environmentName: string;
  /** Outcome code of the evaluation. */
  flagEvaluationCode: FlagEvaluationCode;
  /** Human-readable description of the outcome. */
  flagEvaluationDescription: string;
  /** The assigned variation key, or null when the default was returned. */
  variationKey: string | null;
  /** The assigned variation value, or null when none was assigned. */
  variationValue: unknown;
  /** The bandit key, or null when no bandit was involved. */
  banditKey: string | null;
  /** The bandit action chosen, or null. */
  banditAction: string | null;
  /** When the config was fetched (ISO), Eppo's configFetchedAt. */
  configFetchedAt: string;
  /** When the config was published (ISO), Eppo's configPublishedAt. */
  configPublishedAt: string;
  /** The rule that matched, or null. */
  matchedRule: RuleWire | null;
  /** The allocation that matched, or null. */
  matchedAllocation: AllocationEvaluation | null;
  /** Allocations evaluated and not matched, in order. */
  unmatchedAllocations: AllocationEvaluation[];
  /** Allocations not evaluated because an earlier one matched. */
  unevaluatedAllocations: AllocationEvaluation[];
}

/**
 * Details for an outcome decided before or without evaluating allocations (bad arguments, unknown, broken,
 * disabled or mistyped flags). Every allocation given is listed as UNEVALUATED.
 * @param config the snapshot, or null for argument errors (empty environment and times, as Eppo).
 */
export function noneDetails(
  config: CompiledConfig | null,
  code: FlagEvaluationCode,
  description: string,
  allocations: readonly Allocation[] = [],
): FlagEvaluationDetails {
  return {
    environmentName: config?.environmentName ?? '',
    flagEvaluationCode: code,
    flagEvaluationDescription: description,
    variationKey: null,
    variationValue: null,
    banditKey: null,
    banditAction: null,
    configFetchedAt: config?.fetchedAt ?? '',
    configPublishedAt: config?.createdAt ?? '',
    matchedRule: null,
    matchedAllocation: null,
    unmatchedAllocations: [],
    unevaluatedAllocations: allocations.map((a) => ({ key: a.key, allocationEvaluationCode: 'UNEVALUATED', orderPosition: a.position })),
  };
}

/** Details of an evaluation; JSON values are parsed (a new object each time). */
export function evaluationDetails(config: CompiledConfig, flag: CompiledFlag, e: Evaluation): FlagEvaluationDetails {
  const allocations = flag.allocations;
  const unmatched = e.unmatched.length;
  const firstUnevaluated = e.allocation ? unmatched + 1 : unmatched;
  const value = e.allocation ? (e.variation?.value ?? null) : null;
  return {
    environmentName: config.environmentName,
    flagEvaluationCode: e.code,
    flagEvaluationDescription: e.description,
    variationKey: e.variationKey,
    variationValue: flag.variationType === 'JSON' && typeof value === 'string' ? JSON.parse(value) : value,
    banditKey: null,
    banditAction: null,
    configFetchedAt: config.fetchedAt,
    configPublishedAt: config.createdAt,
    matchedRule: e.allocation ? (e.matchedRule?.wire ?? null) : null,
    matchedAllocation: e.allocation ? { key: e.allocation.key, allocationEvaluationCode: 'MATCH', orderPosition: e.allocation.position } : null,
    unmatchedAllocations: e.unmatched.map((code, i) => ({ key: allocations[i].key, allocationEvaluationCode: code, orderPosition: i + 1 })),
    unevaluatedAllocations: allocations.slice(firstUnevaluated).map((a) => ({ key: a.key, allocationEvaluationCode: 'UNEVALUATED', orderPosition: a.position })),
  };
}
