/**
 * Eppo's module-level functions of `@eppo/node-server-sdk` 4.x beside `init`/`getInstance`: `offlineInit` (which
 * also makes its client the instance `getInstance()` returns), `getFlagsConfiguration()` and
 * `getBanditsConfiguration()` (the instance's configurations as JSON text, to bootstrap another instance); and
 * js-sdk-common's `EppoClient` constructor, which takes configuration stores.
 * @module
 */
import { type BanditVariation, type ClientOptions, type FlagConfigurationRequestParameters, type IConfigurationStore, type OfflineInitOptions, SaltshardClient, offlineInit as offlineClient } from './client.ts';
import type { ISyncStore, Variation } from './client/overrides.ts';
import type { TrackingDispatcher } from './events/tracking.ts';
import { getInstance, setInstance } from './live/init.ts';

export { HybridConfigurationStore, MemoryOnlyConfigurationStore, MemoryStore } from './client/store-classes.ts';
export type { IAsyncStore, SyncStore } from './client/store-classes.ts';

/** js-sdk-common's `EppoClientParameters`: what `new EppoClient(…)` takes, beside saltshard's client options. */
export interface EppoClientParameters {
  /** Where the client reads its flags (the source of truth; see `setFlagConfigurationStore`). */
  flagConfigurationStore?: IConfigurationStore<unknown>;
  /** The bandit variations per flag key; bandits need this and the model store. */
  banditVariationConfigurationStore?: IConfigurationStore<BanditVariation[]>;
  /** The bandit models per bandit key. */
  banditModelConfigurationStore?: IConfigurationStore<unknown>;
  /** Eppo's override store (as `setOverrideStore`). */
  overrideStore?: ISyncStore<Variation>;
  /** What `fetchFlagConfigurations()` fetches with. */
  configurationRequestParameters?: FlagConfigurationRequestParameters;
  /** Where `track()` events go (as `setEventDispatcher`). */
  eventDispatcher?: TrackingDispatcher;
  /** @deprecated no effect (obfuscation is read from the configuration's format); warns, as Eppo. */
  isObfuscated?: boolean;
}

/** Every constructor option, once: the compiler rejects a missing or an extra name. */
const CONSTRUCTOR_OPTIONS: Record<keyof (EppoClientParameters & ClientOptions), true> = {
  flagConfigurationStore: true, banditVariationConfigurationStore: true, banditModelConfigurationStore: true, overrideStore: true,
  configurationRequestParameters: true, eventDispatcher: true, isObfuscated: true,
  assignmentLogger: true, logger: true, assignmentCacheSize: true, now: true, kernel: true, banditLogger: true,
};

/**
 * js-sdk-common's `EppoClient`: a saltshard client that can be constructed as Eppo's, with configuration stores
 * (`new EppoClient({ flagConfigurationStore: new MemoryOnlyConfigurationStore() })`). Every method is
 * {@link SaltshardClient}'s. As Eppo's, it logs every assignment until an assignment cache is chosen
 * (`useLRUInMemoryAssignmentCache(n)`, …, or saltshard's `assignmentCacheSize` option).
 */
export class EppoClient extends SaltshardClient {
  /**
   * @param parameters Eppo's constructor parameters and saltshard's client options; an unknown one gets one warning.
   * @throws {TypeError | RangeError} for a store lacking `IConfigurationStore`'s methods or invalid request parameters.
   * @example
   * const flags = new MemoryOnlyConfigurationStore();
   * const client = new EppoClient({ flagConfigurationStore: flags, configurationRequestParameters: { apiKey, sdkName: 'my-app', sdkVersion: '1.0.0' } });
   * await client.fetchFlagConfigurations();
   */
  constructor(parameters: EppoClientParameters & ClientOptions = {}) {
    const { flagConfigurationStore, banditVariationConfigurationStore, banditModelConfigurationStore, overrideStore, configurationRequestParameters, eventDispatcher, isObfuscated, ...options } = parameters ?? {};
    // Eppo's client logs every assignment until a cache is chosen (its wrapper SDKs choose one); so does this one.
    super({ ...options, assignmentCacheSize: options.assignmentCacheSize ?? 0 });
    const logger = this.sandbox.logger;
    const unknown = Object.keys(parameters ?? {}).filter((k) => !Object.hasOwn(CONSTRUCTOR_OPTIONS, k));
    if (unknown.length > 0) logger.warn(`new EppoClient(): unknown option${unknown.length > 1 ? 's' : ''} ignored: ${unknown.join(', ')}`);
    if (isObfuscated !== undefined) logger.warn('new EppoClient(): isObfuscated has no effect: obfuscation is read from the configuration\'s format; remove the option');
    if (configurationRequestParameters !== undefined) this.setConfigurationRequestParameters(configurationRequestParameters);
    if (flagConfigurationStore !== undefined) this.setFlagConfigurationStore(flagConfigurationStore);
    if (banditVariationConfigurationStore !== undefined) this.setBanditVariationConfigurationStore(banditVariationConfigurationStore);
    if (banditModelConfigurationStore !== undefined) this.setBanditModelConfigurationStore(banditModelConfigurationStore);
    if (overrideStore !== undefined) this.setOverrideStore(overrideStore);
    if (eventDispatcher !== undefined) this.setEventDispatcher(eventDispatcher);
  }
}

/**
 * Make a client from a configuration in hand, with no network access, and make it the instance `getInstance()`
 * returns (as Eppo's node SDK 4.x).
 * @throws {SyntaxError | ConfigError} when the configuration is unusable, unless `throwOnFailedInitialization: false`.
 * @example
 * const client = offlineInit({ flagsConfiguration: readFileSync('flags.json', 'utf8') });
 */
export function offlineInit(options: OfflineInitOptions): SaltshardClient {
  const client = offlineClient(options);
  setInstance(client);
  return client;
}

/** The instance's flags configuration as UFC JSON text (for another instance's `offlineInit`), or null before `init`. */
export function getFlagsConfiguration(): string | null {
  return current()?.getFlagsConfiguration() ?? null;
}

/** The instance's bandit models as JSON text `{ updatedAt, bandits }` (Eppo's shape; no models: `bandits` is `{}`). */
export function getBanditsConfiguration(): string {
  const text = current()?.getBanditsConfiguration() ?? null;
  const bandits = text === null ? {} : ((JSON.parse(text) as { bandits?: unknown }).bandits ?? {});
  return JSON.stringify({ updatedAt: new Date().toISOString(), bandits });
}

function current(): SaltshardClient | null {
  try {
    return getInstance();
  } catch {
    return null;
  }
}
