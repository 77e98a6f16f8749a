/**
 * Bandits on a client: the loaded models, the action draw behind `getBanditAction`, and its events.
 * @module
 */
import type { CompiledConfig } from '../config/compile.ts';
import { noneDetails } from '../eval/details.ts';
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { type BanditModels, type BanditParameters, type BanditVariation, indexBanditReferences, parseBanditModels } from '../bandits/model.ts';
import { type BanditActions, type BanditSubjectAttributes, evaluateBandit, normalizeActions, scoreActions, toContextAttributes, toFlatAttributes, topAction } from '../bandits/evaluate.ts';
import { type BanditLogger, BanditEventSink } from '../bandits/events.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';
import type { AssignmentCache } from '../events/assignment-cache.ts';
import type { Assigner, AssignmentDetails } from './assign.ts';
import type { ClientState } from './state.ts';

/** What {@link SaltshardClient.getBanditAction} returns. */
export interface BanditActionResult {
  /** The assigned variation key (or the default). */
  variation: string;
  /** The chosen action, or null when no bandit ran. */
  action: string | null;
}

/** What {@link SaltshardClient.getBanditActionDetails} returns. */
export interface BanditActionDetails extends BanditActionResult {
  /** Why this variation and action were returned (Eppo's evaluation details). */
  evaluationDetails: FlagEvaluationDetails;
}

/** Bandit models and draws for one client. */
export class BanditRunner {
  readonly #state: ClientState;
  readonly #assigner: Assigner;
  readonly #events: BanditEventSink;
  #models: BanditModels | null = null;
  #index: { config: CompiledConfig; index: ReadonlyMap<string, readonly BanditVariation[]> } | null = null;

  constructor(state: ClientState, assigner: Assigner, logger: BanditLogger | null | undefined, dedupeCapacity: number) {
    this.#state = state;
    this.#assigner = assigner;
    this.#events = new BanditEventSink(state.logger, logger, dedupeCapacity, state.counters);
  }

  /** True when the config in force references bandit models (by key and version) that are not loaded. */
  needsModels(): boolean {
    const config = this.#state.config;
    const refs = config?.wire.banditReferences;
    if (!config || config.obfuscated || refs == null || typeof refs !== 'object') return false;
    for (const banditKey of Object.keys(refs)) {
      const version = (refs[banditKey] as { modelVersion?: unknown } | null)?.modelVersion;
      const loaded = this.#models?.bandits.get(banditKey);
      if (loaded === undefined || (typeof version === 'string' && loaded.modelVersion !== version)) return true;
    }
    return false;
  }

  setModels(models: unknown): void {
    this.#models = parseBanditModels(models);
  }

  modelsJson(): string | null {
    return this.#models ? JSON.stringify(this.#models.wire) : null;
  }

  setCache(cache: number | AssignmentCache): void {
    this.#events.setCache(cache);
  }

  /** Bandit events waiting for a logger. */
  get queued(): number {
    return this.#events.queued;
  }

  setLogger(logger: BanditLogger | null): void {
    this.#events.setLogger(logger);
  }

  /** See {@link SaltshardClient.getBanditActionDetails}. Never throws. */
  actionDetails(flagKey: string, subjectKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultValue: string, assigner: Assigner = this.#assigner): BanditActionDetails {
    const state = this.#state;
    const config = state.config;
    let variation = defaultValue;
    let action: string | null = null;
    let details = noneDetails(config, 'ASSIGNMENT_ERROR', 'Unexpected error getting assigned variation for bandit action');
    try {
      const assigned = assigner.value(flagKey, subjectKey, toFlatAttributes(subjectAttributes), defaultValue, 'STRING', true) as AssignmentDetails<string>;
      variation = assigned.variation;
      details = assigned.evaluationDetails;
      // As Eppo: looked up by the value served, even when that is the default.
      const bandit = this.banditFor(config, flagKey, variation);
      if (bandit === null) return { variation, action: null, evaluationDetails: details };
      details.banditKey = bandit.banditKey;
      const normalized = normalizeActions(actions);
      if (normalized.length === 0) return { variation, action: null, evaluationDetails: details };
      const subject = toContextAttributes(subjectAttributes);
      const result = evaluateBandit(flagKey, subjectKey, subject, normalized, bandit.modelData, state.kernel);
      action = result.actionKey;
      details.banditAction = action;
      this.#events.deliver({
        timestamp: new Date().toISOString(),
        featureFlag: flagKey,
        bandit: bandit.banditKey,
        subject: subjectKey,
        action,
        actionProbability: result.actionWeight,
        optimalityGap: result.optimalityGap,
        modelVersion: bandit.modelVersion,
        subjectNumericAttributes: subject.numericAttributes,
        subjectCategoricalAttributes: subject.categoricalAttributes,
        actionNumericAttributes: result.actionAttributes.numericAttributes,
        actionCategoricalAttributes: result.actionAttributes.categoricalAttributes,
        metaData: { obfuscated: config?.obfuscated ?? false, sdkLanguage: 'javascript', sdkLibVersion: SDK_VERSION, sdkName: SDK_NAME, sdkVersion: SDK_VERSION },
        evaluationDetails: { ...details },
      });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      state.logger.error('Error determining bandit action', message);
      action = null;
      details.banditAction = null;
      if (variation) details.flagEvaluationCode = 'BANDIT_ERROR';
      details.flagEvaluationDescription = `Error evaluating bandit action: ${message}`;
    }
    return { variation, action, evaluationDetails: details };
  }

  /**
   * See {@link SaltshardClient.getBestAction}: the top-scored action of the flag's first bandit (Eppo's choice of
   * bandit), with no draw, no assignment and no event; `defaultAction` when there is none. Never throws.
   */
  bestAction(flagKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultAction: string): string {
    try {
      const config = this.#state.config;
      const first = config === null ? undefined : this.#references(config, flagKey)?.[0];
      const bandit = first === undefined ? undefined : this.#models?.bandits.get(first.key);
      if (bandit === undefined) return defaultAction;
      return topAction(scoreActions(toContextAttributes(subjectAttributes), normalizeActions(actions), bandit.modelData))?.action ?? defaultAction;
    } catch (err) {
      this.#state.logger.error('Error determining the best bandit action', err instanceof Error ? err.message : String(err));
      return defaultAction;
    }
  }

  /** The bandit serving `variation` of `flagKey` (first matching reference), or null. */
  banditFor(config: CompiledConfig | null, flagKey: string, variation: string): BanditParameters | null {
    const models = this.#models;
    if (config === null || models === null) return null;
    const ref = this.#references(config, flagKey)?.find((v) => v.variationValue === variation);
    return ref ? (models.bandits.get(ref.key) ?? null) : null;
  }

  /** The config's bandit references of `flagKey`, in config order. */
  #references(config: CompiledConfig, flagKey: string): readonly BanditVariation[] | undefined {
    if (this.#index?.config !== config) this.#index = { config, index: indexBanditReferences(config.wire.banditReferences) };
    return this.#index.index.get(flagKey);
  }
}
