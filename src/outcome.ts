/**
 * How an Eppo evaluation outcome reads in OpenFeature's vocabulary (ecosystem §3.3), shared by the OpenFeature
 * provider (src/openfeature.ts) and the OFREP server (src/server/), with no dependency on either SDK.
 * @module
 */
import type { FlagEvaluationCode } from './errors.ts';
import type { FlagEvaluationDetails } from './eval/details.ts';

/** OpenFeature resolution reasons an Eppo outcome maps to. */
export type OutcomeReason = 'TARGETING_MATCH' | 'SPLIT' | 'STATIC' | 'DEFAULT' | 'DISABLED' | 'ERROR';

/** OpenFeature error codes an Eppo outcome maps to (TARGETING_KEY_MISSING is decided by the caller). */
export type OutcomeErrorCode = 'FLAG_NOT_FOUND' | 'TYPE_MISMATCH' | 'PARSE_ERROR' | 'GENERAL';

/** A classified outcome. */
export interface ClassifiedOutcome {
  reason: OutcomeReason;
  /** Set when `reason` is ERROR. */
  errorCode: OutcomeErrorCode | null;
  /** Eppo's description, for errors. */
  errorMessage: string | null;
  /** True when the variation's value is served (MATCH); otherwise the caller's default applies. */
  matched: boolean;
}

/**
 * Classify an outcome: MATCH → TARGETING_MATCH (a rule matched), SPLIT (shard-randomized) or STATIC;
 * no allocation matched → DEFAULT; a known but disabled flag → DISABLED; an unknown flag → FLAG_NOT_FOUND;
 * TYPE_MISMATCH; anything else → PARSE_ERROR (bad flag config) or GENERAL.
 * @param code Eppo's flag evaluation code.
 * @param description Eppo's description of it.
 * @param matchedRule whether a targeting rule matched.
 * @param randomized whether the serving split hashed the subject into shards.
 * @param flagKnown whether the flag exists in the config (with a usable type).
 */
export function classifyOutcome(code: FlagEvaluationCode, description: string, matchedRule: boolean, randomized: boolean, flagKnown: boolean): ClassifiedOutcome {
  switch (code) {
    case 'MATCH':
      return { reason: matchedRule ? 'TARGETING_MATCH' : randomized ? 'SPLIT' : 'STATIC', errorCode: null, errorMessage: null, matched: true };
    case 'DEFAULT_ALLOCATION_NULL':
      return { reason: 'DEFAULT', errorCode: null, errorMessage: null, matched: false };
    case 'FLAG_UNRECOGNIZED_OR_DISABLED':
      if (flagKnown) return { reason: 'DISABLED', errorCode: null, errorMessage: null, matched: false };
      return { reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND', errorMessage: description, matched: false };
    case 'TYPE_MISMATCH':
      return { reason: 'ERROR', errorCode: 'TYPE_MISMATCH', errorMessage: description, matched: false };
    default: {
      const parse = /Invalid flag configuration|JSON|configured for type/.test(description);
      return { reason: 'ERROR', errorCode: parse ? 'PARSE_ERROR' : 'GENERAL', errorMessage: description, matched: false };
    }
  }
}

/** Flag metadata for OpenFeature and OFREP: evaluation code, environment, and the matched allocation if any. */
export function outcomeMetadata(d: FlagEvaluationDetails): Record<string, string | number | boolean> {
  const metadata: Record<string, string | number | boolean> = { flagEvaluationCode: d.flagEvaluationCode, environment: d.environmentName };
  if (d.matchedAllocation) metadata.allocationKey = d.matchedAllocation.key;
  return metadata;
}

/** An attribute value after {@link flatten}: a primitive or null. */
export type Primitive = string | number | boolean | null;

/**
 * OpenFeature/OFREP context → Eppo attributes: primitives kept, dates as ISO text, objects flattened with dots.
 * `skip` names a top-level field left out (the targeting key).
 */
export function flatten(context: Record<string, unknown>, prefix = '', out: Record<string, Primitive> = {}, skip?: string): Record<string, Primitive> {
  for (const key in context) {
    if (key === skip || !Object.hasOwn(context, key)) continue;
    const value = context[key];
    const name = prefix + key;
    if (value === null || typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') out[name] = value;
    else if (value instanceof Date) out[name] = value.toISOString();
    else if (typeof value === 'object' && !Array.isArray(value)) flatten(value as Record<string, unknown>, `${name}.`, out);
  }
  return out;
}
