/**
 * An OpenFeature server provider over a saltshard client (`saltshard/openfeature`).
 * `@openfeature/server-sdk` is an optional peer dependency, needed only by this entry point.
 * @module
 * @example
 * import { OpenFeature } from '@openfeature/server-sdk';
 * import { SaltshardProvider } from 'saltshard/openfeature';
 * await OpenFeature.setProviderAndWait(new SaltshardProvider({ apiKey: process.env.EPPO_SDK_KEY! }));
 * const enabled = await OpenFeature.getClient().getBooleanValue('new-search', false, { targetingKey: 'user-42', country: 'FR' });
 */
import {
  type EvaluationContext,
  ErrorCode,
  GeneralError,
  type JsonValue,
  type Logger,
  OpenFeatureEventEmitter,
  type Provider,
  ProviderEvents,
  type ResolutionDetails,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import type { SaltshardClient } from './client.ts';
import type { VariationType } from './errors.ts';
import { type InitOptions, createClient } from './live/init.ts';
import { classifyOutcome, flatten, outcomeMetadata } from './outcome.ts';
import { SDK_NAME } from './version.ts';

export { flatten } from './outcome.ts';
export type { Primitive } from './outcome.ts';

/**
 * Resolves OpenFeature flags with Eppo semantics. `targetingKey` is the subject key; the other context fields
 * are subject attributes (nested objects flattened with dots, dates as ISO strings).
 * Reasons: TARGETING_MATCH (a rule matched), SPLIT (a shard-randomized split), STATIC (a plain rollout),
 * DISABLED, DEFAULT (no allocation matched), ERROR with FLAG_NOT_FOUND, TYPE_MISMATCH, PARSE_ERROR, GENERAL,
 * TARGETING_KEY_MISSING or PROVIDER_NOT_READY. `variant` is the variation key; `flagMetadata` carries the
 * allocation, environment, evaluation code and whether an exposure was logged (`doLog`).
 * Events: READY after initialize, CONFIGURATION_CHANGED with the changed flag keys, STALE while fetches fail,
 * READY again on recovery.
 */
export class SaltshardProvider implements Provider {
  /** The provider's name as OpenFeature reports it (`saltshard`). */
  readonly metadata = { name: SDK_NAME } as const;
  /** A server-side provider (dynamic context per evaluation). */
  readonly runsOn = 'server' as const;
  /** READY, CONFIGURATION_CHANGED (with `flagsChanged`), STALE and ERROR events for the OpenFeature SDK. */
  readonly events: OpenFeatureEventEmitter = new OpenFeatureEventEmitter();
  readonly #client: SaltshardClient;
  readonly #owned: boolean;
  readonly #unsubscribe: (() => void)[] = [];
  #stale = false;

  /**
   * Wraps an existing client (left open on close) or creates a live one from the options (closed on close).
   * @param source a saltshard client (offline or live), or the options to create a live one.
   */
  constructor(source: SaltshardClient | InitOptions) {
    this.#owned = !isClient(source);
    this.#client = isClient(source) ? source : createClient(source);
    this.#unsubscribe.push(
      this.#client.on('configurationChanged', (keys) => this.events.emit(ProviderEvents.ConfigurationChanged, { flagsChanged: keys as string[] })),
      this.#client.on('syncFailed', (message) => {
        if (this.#stale || !this.#client.isInitialized()) return;
        this.#stale = true;
        this.events.emit(ProviderEvents.Stale, { message: String(message) });
      }),
      this.#client.on('syncRecovered', () => {
        if (!this.#stale) return;
        this.#stale = false;
        this.events.emit(ProviderEvents.Ready, {});
      }),
    );
  }

  /** The underlying client. */
  get client(): SaltshardClient {
    return this.#client;
  }

  /** Waits for the first config; rejects (provider ERROR) when none could be loaded. */
  async initialize(): Promise<void> {
    await this.#client.waitForInitialization();
    if (this.#client.isInitialized()) return;
    // The cause is why: the last fetch error of a live client (never containing the SDK key).
    const why = this.#client.syncStatus()?.lastError ?? null;
    throw new GeneralError(`saltshard: no flag configuration could be loaded${why ? ` (${why})` : ''}`, { cause: new Error(why ?? 'the client has no configuration') });
  }

  /** Stops polling when the provider created the client. */
  async onClose(): Promise<void> {
    for (const off of this.#unsubscribe.splice(0)) off();
    if (this.#owned) this.#client.close();
  }

  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'BOOLEAN'));
  }

  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'STRING'));
  }

  /** INTEGER and NUMERIC flags both resolve as numbers. */
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<number>> {
    const type = this.#client.getFlagVariationType(flagKey) === 'INTEGER' ? 'INTEGER' : 'NUMERIC';
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, type));
  }

  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext, _logger?: Logger): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.#resolve(flagKey, defaultValue, context, 'JSON'));
  }

  #resolve<T>(flagKey: string, defaultValue: T, context: EvaluationContext, type: VariationType): ResolutionDetails<T> {
    if (!this.#client.isInitialized()) return failure(defaultValue, ErrorCode.PROVIDER_NOT_READY, 'no flag configuration loaded yet');
    const { targetingKey, ...rest } = context ?? {};
    if (typeof targetingKey !== 'string' || targetingKey === '') return failure(defaultValue, ErrorCode.TARGETING_KEY_MISSING, 'targetingKey is required (it is the Eppo subject key)');
    const r = this.#client.resolve(flagKey, targetingKey, flatten(rest), defaultValue, type);
    const d = r.evaluationDetails;
    const flagMetadata = outcomeMetadata(d);
    const o = classifyOutcome(d.flagEvaluationCode, d.flagEvaluationDescription, d.matchedRule != null, r.randomized, r.flagType !== null);
    if (o.errorCode !== null) return failure(defaultValue, o.errorCode as ErrorCode, o.errorMessage ?? '', flagMetadata);
    if (o.matched) return { value: r.variation, variant: d.variationKey ?? undefined, reason: o.reason, flagMetadata };
    return { value: defaultValue, reason: o.reason, flagMetadata };
  }
}

function failure<T>(value: T, errorCode: ErrorCode, errorMessage: string, flagMetadata?: Record<string, string | number | boolean>): ResolutionDetails<T> {
  return { value, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage, flagMetadata };
}

function isClient(value: unknown): value is SaltshardClient {
  return typeof value === 'object' && value !== null && typeof (value as SaltshardClient).resolve === 'function';
}
