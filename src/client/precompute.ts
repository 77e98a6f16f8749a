/**
 * Precomputed configurations: every flag (and requested bandit draws) for one subject, as Eppo's envelope.
 * @module
 */
import { evaluateFlag } from '../eval/reference.ts';
import { type BanditActions, type BanditSubjectAttributes, evaluateBandit, normalizeActions, toContextAttributes, toFlatAttributes } from '../bandits/evaluate.ts';
import { type PrecomputedBanditInput, type PrecomputedFlagInput, encodePrecomputed, randomSalt } from '../precomputed.ts';
import type { BanditRunner } from './bandits.ts';
import type { ClientState } from './state.ts';

/** See {@link SaltshardClient.getPrecomputedConfiguration}. */
export function precompute(state: ClientState, bandits: BanditRunner, subjectKey: string, subjectAttributes: BanditSubjectAttributes, banditActions: Readonly<Record<string, BanditActions>>, salt: string | undefined): string {
  if (typeof subjectKey !== 'string' || subjectKey === '') throw new TypeError('getPrecomputedConfiguration() needs a non-empty subjectKey string');
  if (salt !== undefined && typeof salt !== 'string') throw new TypeError('salt must be a string');
  const config = state.config;
  const flat = toFlatAttributes(subjectAttributes);
  const context = toContextAttributes(subjectAttributes);
  const flags = new Map<string, PrecomputedFlagInput>();
  const now = state.now();
  for (const [key, entry] of config?.flags ?? []) {
    if (entry.kind !== 'flag' || !entry.enabled) continue;
    const e = evaluateFlag(entry, subjectKey, flat, now, state.kernel, config!.obfuscated);
    if (e.allocation === null || e.variation === null) continue;
    flags.set(key, {
      allocationKey: e.allocation.key,
      variationKey: e.variation.key,
      variationType: entry.variationType,
      variationValue: String(e.variation.value),
      extraLogging: e.split?.extraLogging ?? {},
      doLog: e.doLog,
    });
  }
  const draws = new Map<string, PrecomputedBanditInput>();
  for (const flagKey of Object.keys(banditActions ?? {})) {
    const flag = flags.get(flagKey);
    if (flag === undefined) continue;
    try {
      const bandit = bandits.banditFor(config, flagKey, flag.variationValue);
      const actions = bandit ? normalizeActions(banditActions[flagKey]) : [];
      if (bandit === null || actions.length === 0) continue;
      const r = evaluateBandit(flagKey, subjectKey, context, actions, bandit.modelData, state.kernel);
      draws.set(flagKey, {
        banditKey: bandit.banditKey,
        action: r.actionKey,
        actionProbability: r.actionWeight,
        optimalityGap: r.optimalityGap,
        modelVersion: bandit.modelVersion,
        actionNumericAttributes: r.actionAttributes.numericAttributes,
        actionCategoricalAttributes: r.actionAttributes.categoricalAttributes,
      });
    } catch (err) {
      state.logger.warn(`Cannot precompute the bandit of ${flagKey}`, err instanceof Error ? err.message : String(err));
    }
  }
  return encodePrecomputed({ subjectKey, subjectAttributes: context, environmentName: config?.environmentName ?? '', flags, bandits: draws, salt: salt ?? randomSalt() });
}
