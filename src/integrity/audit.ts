/**
 * `saltshard audit`: logged exposures checked against the config that should have produced them.
 * @module
 */
import type { Check } from './diff.ts';

/** Events that do not reproduce, by cause. */
export interface CauseCount {
  cause: 'unknown flag' | 'config changed since' | 'attributes missing' | 'different variation' | 'different allocation';
  count: number;
  samples: { subject: string; flag: string; logged: string | null; now: string | null }[];
}

/** One variation of an experiment: expected and observed shares of its distinct subjects. */
export interface VariationCount {
  variation: string;
  expected: number;
  observed: number;
  count: number;
}

export interface ExperimentAudit {
  experiment: string;
  flagKey: string;
  allocationKey: string;
  events: number;
  subjects: number;
  duplicates: number;
  multiVariation: number;
  variations: VariationCount[];
  srm: { statistic: number; df: number; pValue: number; method: 'chi-square' | 'exact multinomial' | 'exact binomial' } | null;
}

export interface AuditReport {
  kind: 'audit';
  config: string;
  exposures: string;
  events: number;
  rejected: number;
  reproduced: number;
  causes: CauseCount[];
  experiments: ExperimentAudit[];
  checks: Check[];
  ok: boolean;
}
