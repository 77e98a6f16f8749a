/**
 * The client: a thin facade over one module per job — the getter path (client/assign.ts), batches
 * (client/batch.ts), bandits (client/bandits.ts), precomputed configs (client/precompute.ts), config
 * replacement (client/configuration.ts), Eppo's configuration stores (client/stores.ts) and events
 * (client/emitter.ts), sharing one ClientState.
 * @module
 * @example
 * const client = offlineInit({ flagsConfiguration: json, assignmentLogger: { logAssignment: (e) => sink.push(e) } });
 * client.getStringAssignment('new-user-onboarding', 'alice', { country: 'US' }, 'control');
 */
import type { VariationType } from './errors.ts';
import { type CompiledConfig, watchLateWarnings } from './config/compile.ts';
import type { Attributes } from './eval/reference.ts';
import type { BatchResult, BatchSubject, ColumnarSubjects } from './eval/batch.ts';
import { type AssignmentLogger, EventSink, dedupeCapacity } from './events/logger.ts';
import { type KernelBackend, createJsKernel, getKernel } from './wasm/kernel.ts';
import { SDK_NAME, SDK_VERSION } from './version.ts';
import type { SyncStatus } from './live/sync.ts';
import type { BanditActions, BanditSubjectAttributes } from './bandits/evaluate.ts';
import type { BanditLogger } from './bandits/events.ts';
import { ClientState } from './client/state.ts';
import { type ClientOptions, checkOptions, sdkLogger } from './client/options.ts';
import { Assigner, type AssignmentDetails, type EvaluateResult, details } from './client/assign.ts';
import { type BatchOptions, BatchRunner } from './client/batch.ts';
import { type BanditActionDetails, type BanditActionResult, BanditRunner } from './client/bandits.ts';
import { precompute } from './client/precompute.ts';
import { changedFlags, nextConfiguration } from './client/configuration.ts';
import { type ClientEvent, ClientEmitter } from './client/emitter.ts';
import { Sandbox } from './events/sandbox.ts';
import { type AssignmentCache, InMemoryAssignmentCache, checkCache } from './events/assignment-cache.ts';
import type { FlagEvaluationDetails } from './eval/details.ts';
import { type EvaluationHook, Hooks, checkHooks } from './client/hooks.ts';
import { type ISyncStore, MemoryOverrideStore, OverridePayloadParser, Overrides, type OverridesPayload, type Variation } from './client/overrides.ts';
import { type ClientMetrics, sinkStats } from './client/metrics.ts';
import { type TrackingDispatcher, type TrackingStats, trackedEvent } from './events/tracking.ts';
import { type BanditVariation, ConfigurationStores, type FlagConfigurationRequestParameters, type IConfigurationStore } from './client/stores.ts';

export type { AssignmentDetails } from './client/assign.ts';
export type { ClientOptions } from './client/options.ts';
export type { BanditActionDetails, BanditActionResult } from './client/bandits.ts';
export type { ClientEvent } from './client/emitter.ts';
export type { ISyncStore, OverridesPayload, Variation } from './client/overrides.ts';
export type { EvaluationHook, HookContext, HookEvaluationDetails } from './client/hooks.ts';
export type { ClientMetrics } from './client/metrics.ts';
export type { BanditVariation, Environment, FlagConfigurationRequestParameters, IConfigurationStore } from './client/stores.ts';

/** What {@link SaltshardClient.getAssignmentDetail} returns (Eppo's `FlagEvaluation`). */
export interface AssignmentDetail {
  /** The requested flag key. */
  flagKey: string;
  /** The configuration's format (`SERVER` or `CLIENT`), or empty before a config. */
  format: string;
  /** The subject key evaluated. */
  subjectKey: string;
  /** The subject attributes as passed. */
  subjectAttributes: Attributes;
  /** The matched allocation's key, or null when none matched. */
  allocationKey: string | null;
  /** The assigned variation (key and value), or null when the default was returned. */
  variation: { key: string; value: string | number | boolean } | null;
  /** The matched split's `extraLogging` entries. */
  extraLogging: Record<string, string>;
  /** Whether the matched allocation logs exposures. */
  doLog: boolean;
  /** Why this value was returned (Eppo's evaluation details). */
  flagEvaluationDetails: FlagEvaluationDetails;
  /** The flag's `entityId` from the configuration, or null. */
  entityId: number | null;
}

/** Eppo's `IContainerExperiment`. */
export interface ContainerExperiment<T> {
  /** The STRING flag whose value picks the entry. */
  flagKey: string;
  /** The entry for `control`, and for any value that maps to no treatment entry. */
  controlVariationEntry: T;
  /** The entries for `treatment-N`: the N-th (1-based). */
  treatmentVariationEntries: T[];
}

/** JSON values a JSON flag may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** A live config source attached to a client (see live/init.ts). */
export interface ClientSync {
  /** Resolves true once a config came from the network, false if the initial attempts failed. */
  readonly ready: Promise<boolean>;
  /** Fetch now, outside the schedule; resolves once the response is applied. */
  refresh(): Promise<unknown>;
  stop(): void;
  status(): SyncStatus;
}

/** What a client made by `withOverrides` shares with its original (set only while it is constructed). */
let forking: ForkParts | null = null;
interface ForkParts {
  state: ClientState;
  events: EventSink;
  assign: Assigner;
  batch: BatchRunner;
  bandits: BanditRunner;
  emitter: ClientEmitter;
  sandbox: Sandbox;
  sync: ClientSync | null;
  tracker: TrackingDispatcher | null;
  overrideParser: OverridePayloadParser;
  stores: ConfigurationStores;
}

/**
 * A feature-flag client. Getters never throw: any problem returns the default, with the reason in the details.
 */
export class SaltshardClient {
  // A `withOverrides` copy is built from ForkParts: a field added here must be added there too.
  readonly #state: ClientState;
  readonly #events: EventSink;
  readonly #assign: Assigner;
  readonly #batch: BatchRunner;
  readonly #bandits: BanditRunner;
  readonly #emitter: ClientEmitter;
  readonly #sandbox: Sandbox;
  readonly #overrideParser: OverridePayloadParser;
  readonly #stores: ConfigurationStores;
  #sync: ClientSync | null = null;
  #tracker: TrackingDispatcher | null = null;
  #warnedTrack = false;

  /**
   * A client with no configuration yet; load one before assignments return anything but defaults.
   * @param options logger, dedupe, clock and kernel choices.
   * @example const client = new SaltshardClient({ assignmentLogger });
   */
  constructor(options: ClientOptions = {}) {
    if (forking !== null) {
      // withOverrides(): everything shared but the assigner, which holds the overrides.
      const p = forking;
      forking = null;
      this.#state = p.state;
      this.#events = p.events;
      this.#assign = p.assign;
      this.#batch = p.batch;
      this.#bandits = p.bandits;
      this.#emitter = p.emitter;
      this.#sandbox = p.sandbox;
      this.#sync = p.sync;
      this.#tracker = p.tracker;
      this.#overrideParser = p.overrideParser;
      this.#stores = p.stores;
      return;
    }
    checkOptions(options);
    // Every user callback goes through one sandbox (src/events/sandbox.ts); its logger never throws.
    this.#sandbox = new Sandbox(sdkLogger(options.logger));
    const logger = this.#sandbox.logger;
    this.#state = new ClientState(logger, options.now ?? Date.now, options.kernel === 'js' ? createJsKernel() : getKernel());
    this.#events = new EventSink({ logger, assignmentLogger: options.assignmentLogger, assignmentCacheSize: options.assignmentCacheSize, counters: this.#state.counters });
    this.#assign = new Assigner(this.#state, this.#events);
    this.#batch = new BatchRunner(this.#state, this.#assign, this.#events);
    this.#bandits = new BanditRunner(this.#state, this.#assign, options.banditLogger, dedupeCapacity(options.assignmentCacheSize));
    this.#emitter = new ClientEmitter(this.#sandbox);
    this.#overrideParser = new OverridePayloadParser(this.#state.now);
    const sandbox = this.#sandbox;
    this.#stores = new ConfigurationStores(this.#state, this.#bandits, logger, (secret) => sandbox.redact(secret), (previous, next) => this.#announce(previous, next));
  }

  /** Which shard backend is active: `wasm`, or `js` when WebAssembly is unavailable or was turned off. */
  get kernelBackend(): KernelBackend {
    return this.#state.kernel.backend;
  }

  /**
   * Replace the configuration atomically; evaluations already running keep the snapshot they started with.
   * @param config a compiled snapshot, or anything `compileConfig` accepts.
   * @throws {SyntaxError | ConfigError} when the document is not a usable UFC config (the old one stays);
   *   {TypeError} for a client whose flags come from a configuration store (write the store instead).
   */
  setConfiguration(config: CompiledConfig | unknown): void {
    this.#refuseWithStores('setConfiguration');
    const state = this.#state;
    const previous = state.config;
    const next = nextConfiguration(config, previous);
    for (const warning of next.warnings) state.logger.warn(warning);
    watchLateWarnings(next.flags, (warning) => state.logger.warn(warning));
    state.replace(next);
    this.#announce(previous, next);
  }

  /** The change events of a new snapshot. */
  #announce(previous: CompiledConfig | null, next: CompiledConfig): void {
    if (this.#emitter.listened('configurationChanged')) {
      // Only a change is an event: the same flags again (a poll without ETag) emit nothing.
      const changed = changedFlags(previous, next);
      if (changed.length > 0 || previous === null) this.emit('configurationChanged', changed);
    }
  }

  /** @internal Attach the live source that keeps this client's config current. */
  attachSync(sync: ClientSync): void {
    this.#sync?.stop();
    this.#sync = sync;
  }

  /**
   * Wait for the first config from the network.
   * @returns true when it arrived; false when the initial attempts failed (a cached config or defaults are served).
   */
  waitForInitialization(): Promise<boolean> {
    return this.#sync ? this.#sync.ready : Promise.resolve(this.isInitialized());
  }

  /** Counters of the live source (requests, failures, last status, config source), or null for offline clients. */
  syncStatus(): SyncStatus | null {
    return this.#sync?.status() ?? null;
  }

  /**
   * Per-process counters for operators, as a plain object: evaluations, defaults and errors served, batch cells,
   * exposures (logged, deduped, dropped, failed, pending), the sink's queue when the assignment logger is a
   * saltshard sink, `track()` delivery, the config's age and the poll failures. Counting costs the getters one
   * integer increment. `saltshard serve` exposes the same on `/metrics`.
   */
  metrics(): ClientMetrics {
    const c = this.#state.counters;
    const config = this.#state.config;
    const sync = this.#sync?.status() ?? null;
    const loadedAt = config === null ? Number.NaN : Date.parse(config.fetchedAt);
    const confirmedAt = Math.max(sync?.lastSuccessAt ?? 0, loadedAt);
    return {
      evaluations: c.evaluations,
      defaults: c.defaults,
      errors: c.errors,
      batchEvaluations: c.batchEvaluations,
      exposures: { logged: c.exposuresLogged, deduped: c.exposuresDeduped, dropped: c.exposuresDropped, failed: c.exposuresFailed, pending: this.#events.queued },
      banditEvents: { logged: c.banditLogged, deduped: c.banditDeduped, dropped: c.banditDropped, failed: c.banditFailed, pending: this.#bandits.queued },
      sink: sinkStats(this.#events.assignmentLogger),
      tracking: (this.#tracker as { stats?: () => TrackingStats } | null)?.stats?.() ?? null,
      config: { loaded: config !== null, flags: config?.flags.size ?? 0, ageSeconds: config === null ? null : Math.max(0, (Date.now() - confirmedAt) / 1000), source: sync?.source ?? (config === null ? 'none' : 'offline') },
      polling: sync === null ? null : { requests: sync.requests, failures: sync.failures, consecutiveFailures: sync.consecutiveFailures, lastStatus: sync.lastStatus },
    };
  }

  /** Stop polling. The client keeps serving the config it has. */
  stopPolling(): void {
    this.#sync?.stop();
    this.#stores.stop();
  }

  /**
   * Stop polling and deliver the `track()` events still queued, within `eventTracking.closeTimeoutMs` (5 s); what is
   * left then is counted as dropped (`metrics().tracking`). Never rejects.
   */
  async close(): Promise<void> {
    this.stopPolling();
    const tracker = this.#tracker as { close?: () => Promise<unknown> } | null;
    if (typeof tracker?.close === 'function') await Promise.resolve().then(() => tracker.close!()).catch(() => {});
  }

  /**
   * Eppo's `setEventDispatcher`: where {@link track} and {@link setContext} go from now on — saltshard's own (init's
   * `eventTracking`), `NO_OP_EVENT_DISPATCHER`, or any object with `dispatch(event)` and `attachContext(key, value)`
   * (a throw from its `dispatch` is reported to the logger, never to the caller of `track`).
   * @throws {TypeError} when the object lacks those methods.
   */
  setEventDispatcher(dispatcher: TrackingDispatcher): void {
    if (typeof dispatcher?.dispatch !== 'function' || typeof dispatcher.attachContext !== 'function') {
      throw new TypeError('setEventDispatcher() needs an object with dispatch(event) and attachContext(key, value) methods');
    }
    this.#tracker = dispatcher;
  }

  /**
   * Eppo's `track(type, payload)`: queue an event `{ uuid, type, timestamp, payload }` for delivery to Eppo's ingestion
   * endpoint in batches, with retries (init option `eventTracking: { enabled: true }`). Returns at once and never
   * throws; an event over 4096 characters or not serializable is dropped and counted. Without event tracking the
   * event is discarded (one warning).
   */
  track(type: string, payload: Record<string, unknown>): void {
    const tracker = this.#tracker;
    if (tracker !== null) {
      this.#sandbox.run('Event dispatcher', () => tracker.dispatch(trackedEvent(type, payload)));
      return;
    }
    if (!this.#warnedTrack) this.#state.logger.warn('track(): event tracking is not enabled (init option eventTracking: { enabled: true }); events are discarded');
    this.#warnedTrack = true;
  }

  /**
   * Eppo's `setContext(key, value)`: a value sent as `context[key]` with every later batch of `track()` events (null
   * sends null). No effect without event tracking, as Eppo. A dispatcher set with {@link setEventDispatcher} gets the call.
   * @throws {TypeError} for an object or array value; {RangeError} when the context would exceed 2048 characters.
   */
  setContext(key: string, value: string | number | boolean | null): void {
    this.#tracker?.attachContext(key, value);
  }

  /** What `JSON.stringify(client)` shows: a summary, never the SDK key. */
  toJSON(): Record<string, unknown> {
    const c = this.#state.config;
    return { sdk: SDK_NAME, version: SDK_VERSION, initialized: c !== null, environment: c?.environmentName ?? null, flags: c?.flags.size ?? 0, kernel: this.#state.kernel.backend };
  }

  /** Node/Bun `util.inspect` and Deno's inspector show the same summary. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SaltshardClient ${JSON.stringify(this.toJSON())}`;
  }
  /** Deno's inspector shows the same summary as `toJSON()`. */
  [Symbol.for('Deno.customInspect')](): string {
    return `SaltshardClient ${JSON.stringify(this.toJSON())}`;
  }

  /** The current snapshot, or null before the first config. */
  getConfiguration(): CompiledConfig | null {
    return this.#state.config;
  }

  /** True once a configuration is loaded (with configuration stores: once they are initialized, as Eppo). */
  isInitialized(): boolean {
    return this.#stores.active ? this.#stores.isInitialized() : this.#state.config !== null;
  }

  /** Keys of all flags in the current config (md5-hashed keys for an obfuscated config), in config order. */
  getFlagKeys(): string[] {
    const config = this.#state.config;
    return config ? [...config.flags.keys()] : [];
  }

  /** The variation type of a flag in the current config, or null when the flag is unknown or broken. */
  getFlagVariationType(flagKey: string): VariationType | null {
    const config = this.#state.config;
    if (config === null || typeof flagKey !== 'string') return null;
    try {
      const flag = this.#state.entry(config, flagKey);
      return flag?.kind === 'flag' ? flag.variationType : null;
    } catch {
      return null;
    }
  }

  /** The current config as UFC JSON text (for export or bootstrap), or null before the first config. */
  getFlagsConfiguration(): string | null {
    const config = this.#state.config;
    return config ? JSON.stringify(config.wire) : null;
  }

  /** Set or replace the assignment logger; events queued before it are flushed to it in order. */
  setAssignmentLogger(logger: AssignmentLogger | null): void {
    this.#events.setAssignmentLogger(logger);
  }

  /** Eppo's older name of {@link setAssignmentLogger}. */
  setLogger(logger: AssignmentLogger): void {
    this.setAssignmentLogger(logger);
  }

  /**
   * The flags of the current config as objects keyed by flag key (Eppo's `getFlagConfigurations()`; a copy:
   * changing it changes nothing). `{}` before the first config. {@link getFlagsConfiguration} gives the JSON text.
   */
  getFlagConfigurations(): Record<string, unknown> {
    const config = this.#state.config;
    return config ? JSON.parse(JSON.stringify(config.wire.flags)) : {};
  }

  /**
   * Fetch the configuration now (Eppo's `fetchFlagConfigurations`); resolves once it is applied. Offline clients: no-op.
   * A client with configuration stores fetches with its `configurationRequestParameters` into its stores, then polls
   * or not as those parameters say (Eppo's semantics: a new call stops the previous call's polling).
   * @throws {Error} for a client with stores but no request parameters (Eppo's message), and when the initial fetch
   *   fails with `throwOnFailedInitialization: true`.
   */
  async fetchFlagConfigurations(): Promise<void> {
    if (this.#stores.configured) return this.#stores.fetch();
    await this.#sync?.refresh();
  }

  /**
   * Eppo's `setFlagConfigurationStore`: from now on this client's flags are what `store` holds (js-sdk-common's
   * `IConfigurationStore`, e.g. `new MemoryOnlyConfigurationStore()`): a `store.setEntries(flags)` is in force at the
   * next evaluation, and `fetchFlagConfigurations()` fetches into it. `setConfiguration` is then refused. A client
   * made by `init` stops its own polling (one source of truth). See src/client/stores.ts for the cost.
   * @throws {TypeError} when `store` lacks a method of `IConfigurationStore`.
   */
  setFlagConfigurationStore(store: IConfigurationStore<unknown>): void {
    this.#stores.setFlagStore(store);
    if (this.#sync !== null) {
      this.#sync.stop();
      this.#sync = null;
      this.#state.logger.warn('setFlagConfigurationStore(): the client now reads its flags from the store; its own polling is stopped (fetchFlagConfigurations() with configurationRequestParameters fills the store)');
    }
  }

  /** Eppo's `setBanditVariationConfigurationStore`: the bandit variations per flag key (with a flag store). */
  setBanditVariationConfigurationStore(store: IConfigurationStore<BanditVariation[]>): void {
    this.#stores.setVariationStore(store);
  }

  /** Eppo's `setBanditModelConfigurationStore`: the bandit models (parameters) per bandit key (with a flag store). */
  setBanditModelConfigurationStore(store: IConfigurationStore<unknown>): void {
    this.#stores.setModelStore(store);
  }

  /**
   * Eppo's `setConfigurationRequestParameters`: what {@link fetchFlagConfigurations} uses with configuration stores
   * (`apiKey`, `sdkName`, `sdkVersion`, `baseUrl`, `requestTimeoutMs`, polling options; Eppo's defaults).
   * @throws {TypeError | RangeError} naming a missing or invalid parameter.
   */
  setConfigurationRequestParameters(parameters: FlagConfigurationRequestParameters): void {
    this.#stores.setParameters(parameters);
  }

  #refuseWithStores(method: string): void {
    if (this.#stores.active) throw new TypeError(`${method}(): this client's configuration comes from its configuration stores: write them with store.setEntries(…) or fetchFlagConfigurations()`);
  }

  /**
   * Eppo's graceful failure mode, on by default: a getter returns the default on an assignment error. With
   * `false`, getters throw that error instead (as Eppo's do), e.g. for a blank subject key.
   */
  setIsGracefulFailureMode(graceful: boolean): void {
    this.#assign.graceful = graceful !== false;
  }

  /**
   * Eppo's override store: for a flag key it holds, every getter returns the stored variation's value, before and
   * whatever the config says (flags it does not have included). Details: MATCH "Flag override applied", allocation
   * `override-<variationKey>`; no exposure is logged. A store whose `get` throws is ignored for that call.
   * @param store Eppo's `ISyncStore<Variation>`: `get(flagKey)` → `{ key, value }` or null, and `entries()`.
   * @throws {TypeError} when `store` has no `get` method.
   */
  setOverrideStore(store: ISyncStore<Variation>): void {
    this.#assign.overrides = new Overrides(store, this.#sandbox);
  }

  /** Remove the override store: the config decides again. */
  unsetOverrideStore(): void {
    this.#assign.overrides = null;
  }

  /** @internal The override store in force, or null (for `saltshard/testing`'s forced values, which layer on it). */
  getOverrideStore(): ISyncStore<Variation> | null {
    return this.#assign.overrides?.store ?? null;
  }

  /** Eppo's `getOverrideVariationKeys`: flag key → overriding variation key, for every override in force. */
  getOverrideVariationKeys(): Record<string, string> {
    return this.#assign.overrides?.variationKeys() ?? {};
  }

  /**
   * Eppo's `withOverrides`: a client with these overrides that shares everything else with this one (config,
   * polling, loggers, caches, listeners, `track()` delivery, hooks), for per-request overrides in a shared server. No overrides (undefined or
   * `{}`): this client itself.
   */
  withOverrides(overrides: OverridesPayload | undefined): SaltshardClient {
    if (!overrides || Object.keys(overrides).length === 0) return this;
    const store = new Overrides(new MemoryOverrideStore(overrides), this.#sandbox);
    forking = {
      state: this.#state, events: this.#events, assign: this.#assign.fork(store), batch: this.#batch, bandits: this.#bandits,
      emitter: this.#emitter, sandbox: this.#sandbox, sync: this.#sync, tracker: this.#tracker, overrideParser: this.#overrideParser, stores: this.#stores,
    };
    return new SaltshardClient();
  }

  /**
   * Eppo's `parseOverrides`: the `x-eppo-overrides` header sent by Eppo's browser extension, checked as Eppo does
   * (`{ browserExtensionKey, overrides }`) and its key validated with Eppo's endpoint (eppo.cloud; a valid key is
   * remembered for 5 hours). Resolves to the overrides for {@link withOverrides}, or undefined for an empty payload.
   * @throws {Error} "Unable to parse overridePayload: …" or "Unable to authorize key: …".
   */
  parseOverrides(payload: string | undefined): Promise<OverridesPayload | undefined> {
    return this.#overrideParser.parse(payload);
  }

  /**
   * Add evaluation hooks (OpenFeature's shape: `before`, `after`, `error`, `finally`) run around every typed getter,
   * details getter, bandit variation and OpenFeature resolution of this client. `before` may return attributes to
   * add for that evaluation. Hooks run sandboxed: one that throws or rejects is reported to the logger and skipped.
   * A hook's methods are read once, here. A `withOverrides` copy keeps the hooks registered when it was made.
   * @throws {TypeError} when a hook has none of the four methods.
   */
  addHooks(...hooks: EvaluationHook[]): void {
    const list = [...(this.#assign.hooks?.list ?? []), ...checkHooks(hooks)];
    this.#assign.hooks = list.length > 0 ? new Hooks(list, this.#sandbox) : null;
  }

  /** The hooks registered, in order. */
  getHooks(): readonly EvaluationHook[] {
    return this.#assign.hooks?.list ?? [];
  }

  /** Remove every hook (getters are back to their cost without hooks). */
  clearHooks(): void {
    this.#assign.hooks = null;
  }

  /**
   * @deprecated Eppo's: no effect (obfuscation is read from the configuration's `format`); warns, as Eppo does.
   */
  setIsObfuscated(_isObfuscated: boolean): void {
    this.#state.logger.warn('setIsObfuscated() has no effect: obfuscation is read from the configuration\'s format; remove the call');
  }

  /** Log every exposure (Eppo's `disableAssignmentCache`). */
  disableAssignmentCache(): void {
    this.#events.setCache(0);
  }

  /** Dedupe exposures with an in-memory cache that never evicts (Eppo's `useNonExpiringInMemoryAssignmentCache`). */
  useNonExpiringInMemoryAssignmentCache(): void {
    this.#events.setCache(Number.POSITIVE_INFINITY);
  }

  /** Dedupe exposures with an in-memory cache of `maxSize` least recently used entries. */
  useLRUInMemoryAssignmentCache(maxSize: number): void {
    if (!(Number.isInteger(maxSize) && maxSize >= 0)) throw new RangeError('useLRUInMemoryAssignmentCache() needs a non-negative integer maxSize');
    this.#events.setCache(maxSize);
  }

  /**
   * Dedupe exposures with your own cache of Eppo's shape: `has(entry)` / `set(entry)` on
   * `{ subjectKey, flagKey, allocationKey, variationKey }`, synchronous or returning promises (an async `has`
   * delays the event until it answers). A cache backed by a shared store dedupes across a fleet.
   */
  useCustomAssignmentCache(cache: AssignmentCache): void {
    this.#events.setCache(checkCache(cache, 'useCustomAssignmentCache'));
  }

  /** Log every bandit draw. */
  disableBanditAssignmentCache(): void {
    this.#bandits.setCache(0);
  }

  /** Dedupe bandit events with an in-memory cache that never evicts. */
  useNonExpiringInMemoryBanditAssignmentCache(): void {
    this.#bandits.setCache(Number.POSITIVE_INFINITY);
  }

  /** Dedupe bandit events for `timeoutMs` (default 10 minutes, as Eppo) in at most `maxSize` entries. */
  useExpiringInMemoryBanditAssignmentCache(maxSize: number, timeoutMs = 600_000): void {
    this.#bandits.setCache(new InMemoryAssignmentCache(maxSize, timeoutMs, this.#state.now));
  }

  /** Dedupe bandit events with your own cache of Eppo's shape (`{ subjectKey, flagKey, banditKey, actionKey }`). */
  useCustomBanditAssignmentCache(cache: AssignmentCache): void {
    this.#bandits.setCache(checkCache(cache, 'useCustomBanditAssignmentCache'));
  }

/** A STRING flag's value for a subject, or `defaultValue`. */
  getStringAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: string): string {
    return this.#assign.get(flagKey, subjectKey, subjectAttributes, defaultValue, 'STRING') as string;
  }
  /** @deprecated Eppo's older name of {@link getBooleanAssignment}. */
  getBoolAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: boolean): boolean {
    return this.getBooleanAssignment(flagKey, subjectKey, subjectAttributes, defaultValue);
  }
  /** A BOOLEAN flag's value for a subject, or `defaultValue`. */
  getBooleanAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: boolean): boolean {
    return this.#assign.get(flagKey, subjectKey, subjectAttributes, defaultValue, 'BOOLEAN') as boolean;
  }
  /** An INTEGER flag's value for a subject, or `defaultValue`. */
  getIntegerAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): number {
    return this.#assign.get(flagKey, subjectKey, subjectAttributes, defaultValue, 'INTEGER') as number;
  }
  /** A NUMERIC flag's value for a subject, or `defaultValue`. */
  getNumericAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): number {
    return this.#assign.get(flagKey, subjectKey, subjectAttributes, defaultValue, 'NUMERIC') as number;
  }
  /** A JSON flag's parsed value (a fresh copy each call) for a subject, or `defaultValue`. */
  getJSONAssignment<T = JsonValue>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T): T {
    return this.#assign.get(flagKey, subjectKey, subjectAttributes, defaultValue, 'JSON') as T;
  }
  /** {@link getStringAssignment} with the evaluation details. */
  getStringAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: string): AssignmentDetails<string> {
    return this.#assign.value(flagKey, subjectKey, subjectAttributes, defaultValue, 'STRING', true) as AssignmentDetails<string>;
  }
  /** {@link getBooleanAssignment} with the evaluation details. */
  getBooleanAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: boolean): AssignmentDetails<boolean> {
    return this.#assign.value(flagKey, subjectKey, subjectAttributes, defaultValue, 'BOOLEAN', true) as AssignmentDetails<boolean>;
  }
  /** {@link getIntegerAssignment} with the evaluation details. */
  getIntegerAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): AssignmentDetails<number> {
    return this.#assign.value(flagKey, subjectKey, subjectAttributes, defaultValue, 'INTEGER', true) as AssignmentDetails<number>;
  }
  /** {@link getNumericAssignment} with the evaluation details. */
  getNumericAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): AssignmentDetails<number> {
    return this.#assign.value(flagKey, subjectKey, subjectAttributes, defaultValue, 'NUMERIC', true) as AssignmentDetails<number>;
  }
  /** {@link getJSONAssignment} with the evaluation details. */
  getJSONAssignmentDetails<T = JsonValue>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T): AssignmentDetails<T> {
    return this.#assign.value(flagKey, subjectKey, subjectAttributes, defaultValue, 'JSON', true) as AssignmentDetails<T>;
  }

  /**
   * Evaluate many subjects × flags in one call. Subject keys are encoded once and each (salt, totalShards) is
   * hashed for all subjects in one WASM call; rules run in the same evaluator as the getters, so every cell equals
   * what `evaluate()` answers. Read results with `result.row(i, j)`, `value(i, j)`, `code(i, j)` or `rows()`.
   * @param subjects `{ subjectKey, subjectAttributes? }` items; a bad item gives ASSIGNMENT_ERROR cells.
   * @param flagKeys flags in output order; default every flag of the current config, in config order.
   * @param options `log`: `'dedupe'` (default) sends exposure events as the getters do, `'none'` sends none.
   * @returns the batch result (no config yet: every cell FLAG_UNRECOGNIZED_OR_DISABLED).
   * @throws {TypeError} when `subjects` or `flagKeys` is not an array.
   * @example
   * const r = client.assignMany([{ subjectKey: 'a' }, { subjectKey: 'b', subjectAttributes: { country: 'FR' } }]);
   * for (const row of r.rows()) console.log(row.subjectKey, row.flagKey, row.value);
   */
  assignMany(subjects: readonly BatchSubject[], flagKeys?: readonly string[], options: BatchOptions = {}): BatchResult {
    return this.#batch.many(subjects, flagKeys, options);
  }

  /**
   * Like {@link assignMany}, for subjects given as columns: the lower-level entry for bulk jobs (the CLI uses it).
   * Keys may be pre-encoded UTF-8 (`{ bytes, starts, lengths }`), so they are never decoded unless read back;
   * `columns[name][i]` is attribute `name` of subject i (null or undefined: absent).
   * @example
   * const r = client.assignColumns({ keys: ['a', 'b'], columns: { country: ['FR', null], age: new Float64Array([31, 40]) } });
   */
  assignColumns(subjects: ColumnarSubjects, flagKeys?: readonly string[], options: BatchOptions = {}): BatchResult {
    return this.#batch.columns(subjects, flagKeys, options);
  }

  /**
   * Eppo's `getAssignmentDetail`: the full evaluation of one flag for a subject. Its exposure is logged (deduped) as a
   * getter's is, as Eppo's does; an overridden flag logs nothing.
   * @param expectedVariationType when given, a flag of another type gives TYPE_MISMATCH.
   * @throws {Error} for a blank subject or flag key, as Eppo's.
   */
  getAssignmentDetail(flagKey: string, subjectKey: string, subjectAttributes: Attributes = {}, expectedVariationType?: VariationType): AssignmentDetail {
    if (typeof subjectKey !== 'string' || subjectKey === '') throw new Error('Invalid argument: subjectKey cannot be blank');
    if (typeof flagKey !== 'string' || flagKey === '') throw new Error('Invalid argument: flagKey cannot be blank');
    const o = this.#assign.outcome(flagKey, subjectKey, subjectAttributes, expectedVariationType ?? null);
    if (o.override !== undefined) {
      // Eppo's override result: the stored variation, no format, no entity, no event.
      const v = o.override.variation;
      return {
        flagKey, subjectKey, variation: v as AssignmentDetail['variation'], subjectAttributes, flagEvaluationDetails: o.override.details,
        doLog: false, format: '', allocationKey: `override-${v.key}`, extraLogging: {}, entityId: null,
      };
    }
    const e = o.evaluation;
    if (e?.doLog && o.config && o.flag) this.#assign.log(flagKey, subjectKey, subjectAttributes ?? {}, o.config, o.flag, e);
    const matched = e !== null && e.allocation !== null && e.variation !== null;
    return {
      flagKey,
      format: o.config?.format ?? '',
      subjectKey,
      subjectAttributes,
      allocationKey: matched ? e.allocation!.key : null,
      variation: matched ? { key: e.variation!.key, value: e.variation!.value } : null,
      extraLogging: (matched ? e.split?.extraLogging : undefined) ?? {},
      doLog: e?.doLog ?? false,
      flagEvaluationDetails: details(o),
      entityId: o.flag?.entityId ?? null,
    };
  }

  /**
   * Eppo's container experiments: the STRING flag's value `control` gives `controlVariationEntry`,
   * `treatment-N` the N-th (1-based) of `treatmentVariationEntries`; anything else gives control, with a warning.
   */
  getExperimentContainerEntry<T>(flagExperiment: ContainerExperiment<T>, subjectKey: string, subjectAttributes: Attributes): T {
    const { flagKey, controlVariationEntry, treatmentVariationEntries } = flagExperiment;
    const assignment = this.getStringAssignment(flagKey, subjectKey, subjectAttributes, 'control');
    if (assignment === 'control') return controlVariationEntry;
    const index = assignment.startsWith('treatment-') ? Number.parseInt(assignment.slice('treatment-'.length)) - 1 : Number.NaN;
    if (Number.isNaN(index)) {
      this.#state.logger.warn(`Variation '${assignment}' cannot be mapped to a container. Defaulting to control variation.`);
      return controlVariationEntry;
    }
    if (index < 0 || index >= treatmentVariationEntries.length) {
      this.#state.logger.warn(`Selected treatment variation (${index}) index is out of bounds. Defaulting to control variation.`);
      return controlVariationEntry;
    }
    return treatmentVariationEntries[index];
  }

  /**
   * Evaluate a flag whatever its type, for tools that serve every flag (the CLI, servers).
   * @returns the outcome's code, the typed value (null unless MATCH), the variation and allocation keys, and
   *   whether an exposure event is due (`doLog`). No event is logged.
   */
  evaluate(flagKey: string, subjectKey: string, subjectAttributes?: Attributes | null): EvaluateResult {
    return this.#assign.evaluate(flagKey, subjectKey, subjectAttributes);
  }

  /**
   * Like a `...Details` getter for a given type, plus what integrations (OpenFeature, servers) need to know:
   * the flag's own type (null when unknown) and whether the serving split was randomized by shards.
   * Logs exposure events as the getters do; never throws.
   */
  resolve<T>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T, type: VariationType): AssignmentDetails<T> & { flagType: VariationType | null; randomized: boolean } {
    const r = this.#assign.resolve(flagKey, subjectKey, subjectAttributes, defaultValue, type, true);
    const result = r.result as AssignmentDetails<T>;
    // Properties listed, not spread: V8 copies a spread object through its runtime (~1 µs per call on Node 20).
    return {
      variation: result.variation,
      action: result.action,
      evaluationDetails: result.evaluationDetails,
      flagType: r.outcome.flag?.variationType ?? null,
      randomized: r.outcome.evaluation?.split?.hashesSubject ?? false,
    };
  }

  /**
   * Listen for client events: `configurationChanged` (a new config is in force; detail: flag keys whose definition
   * changed), `change:<flagKey>` (that flag was added, removed or redefined; detail: the flag key), `syncFailed` (a
   * fetch failed; detail: our message), `syncRecovered` (a fetch succeeded after failures). A config with the same
   * flags (a poll without ETag) emits nothing. Listeners run sandboxed: a throw or a rejected promise goes to `logger.error`, never to the caller. Returns a function that removes the listener.
   */
  on(event: ClientEvent, listener: (detail: unknown) => void): () => void {
    return this.#emitter.on(event, listener);
  }

  /** @internal Emit a client event to its listeners (used by the live source). */
  emit(event: ClientEvent, detail: unknown): void {
    this.#emitter.emit(event, detail);
  }

  /**
   * @internal The sandbox (src/events/sandbox.ts) every user callback of this client goes through; its `logger`
   * is the client's diagnostics logger made exception-proof. For hooks, caches and sinks built on the client.
   */
  get sandbox(): Sandbox {
    return this.#sandbox;
  }

  /**
   * True when the current config references bandit models (by key and version) that are not loaded; the live
   * source then fetches Eppo's bandit parameters (eppo-spec §5.2: only when a referenced version is missing).
   */
  needsBanditModels(): boolean {
    return this.#bandits.needsModels();
  }

  /**
   * Load or replace the bandit models (Eppo's `GET /flag-config/v1/bandits` response).
   * @param models JSON text, UTF-8 bytes, or a parsed object `{ bandits: { [banditKey]: BanditParameters } }`.
   * @throws {SyntaxError | TypeError | ConfigError} when the document is unusable; the previous models stay;
   *   {TypeError} for a client whose flags come from a configuration store (write its bandit stores instead).
   */
  setBanditConfiguration(models: unknown): void {
    this.#refuseWithStores('setBanditConfiguration');
    this.#bandits.setModels(models);
  }

  /** The bandit models as JSON text (for export), or null when none are loaded. */
  getBanditsConfiguration(): string | null {
    return this.#bandits.modelsJson();
  }

  /** Set or replace the bandit logger; events queued before it are flushed to it in order. */
  setBanditLogger(logger: BanditLogger | null): void {
    this.#bandits.setLogger(logger);
  }

  /**
   * Assign a STRING flag's variation and, when that variation is a bandit, draw an action (eppo-spec §6.4).
   * @param subjectAttributes flat (numbers → numeric) or `{ numericAttributes, categoricalAttributes }`.
   * @param actions action keys, or actions with flat or split attributes.
   * @returns the variation (or `defaultValue`) and the action, null when no bandit ran.
   * @example client.getBanditAction('banner_bandit_flag', 'alice', { age: 25 }, ['nike', 'adidas'], 'default');
   */
  getBanditAction(flagKey: string, subjectKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultValue: string): BanditActionResult {
    const { variation, action } = this.#bandits.actionDetails(flagKey, subjectKey, subjectAttributes, actions, defaultValue, this.#assign);
    return { variation, action };
  }

  /**
   * Eppo's `getBestAction`: the highest-scoring action of the flag's (first) bandit for these attributes — no
   * variation assigned, no random draw, no event logged, so it has no effect on the bandit's training (for when the
   * outcome cannot be measured, e.g. crawlers). `defaultAction` when the flag has no loaded bandit or no actions.
   * @example client.getBestAction('banner_bandit_flag', { age: 25, country: 'UK' }, ['nike', 'adidas'], 'default');
   */
  getBestAction(flagKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultAction: string): string {
    return this.#bandits.bestAction(flagKey, subjectAttributes, actions, defaultAction);
  }

  /**
   * {@link getBanditAction} with the evaluation details: `banditKey` and `banditAction` are set when a bandit ran;
   * a failure of the bandit part keeps the variation and reports BANDIT_ERROR. Never throws.
   */
  getBanditActionDetails(flagKey: string, subjectKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultValue: string): BanditActionDetails {
    return this.#bandits.actionDetails(flagKey, subjectKey, subjectAttributes, actions, defaultValue, this.#assign);
  }

  /**
   * Every flag (and, for flags named in `banditActions`, the bandit draw) evaluated for one subject, as Eppo's
   * obfuscated precomputed wire envelope (eppo-spec §6.5). No events are logged.
   * @param subjectAttributes flat or split attributes (flattened for flag rules, split for bandits).
   * @param banditActions actions per flag key; only flags listed here get a bandit entry.
   * @param salt used verbatim for `md5(salt + flagKey)`; default: 16 random bytes, base64.
   * @returns the envelope as JSON text; decode it with `decodePrecomputed`.
   * @throws {TypeError} when subjectKey is not a non-empty string.
   */
  getPrecomputedConfiguration(subjectKey: string, subjectAttributes: BanditSubjectAttributes = {}, banditActions: Readonly<Record<string, BanditActions>> = {}, salt?: string): string {
    return precompute(this.#state, this.#bandits, subjectKey, subjectAttributes, banditActions, salt);
  }
}

/** Options of {@link offlineInit}. */
export interface OfflineInitOptions extends ClientOptions {
  /** A UFC document: JSON text, bytes, or a parsed object (SERVER or obfuscated CLIENT format). */
  flagsConfiguration: unknown;
  /** Bandit models (Eppo's bandit parameters response): JSON text, bytes or an object. */
  banditsConfiguration?: unknown;
  /**
   * As Eppo's node SDK 4.x: `false` makes an unusable configuration a warning instead of a throw — the client then
   * serves defaults (unusable flags) or no bandits (unusable models). Default true.
   */
  throwOnFailedInitialization?: boolean;
}

/**
 * Make a client from a configuration in hand, with no network access.
 * @param options the configuration and client options.
 * @returns a ready client.
 * @throws {SyntaxError} when the configuration is not JSON; {ConfigError} when it is not a UFC document (unless
 *   `throwOnFailedInitialization: false`).
 * @example
 * const client = offlineInit({ flagsConfiguration: readFileSync('flags.json', 'utf8') });
 * client.getBooleanAssignment('kill-switch', 'user-1', { country: 'US' }, false);
 */
export function offlineInit(options: OfflineInitOptions): SaltshardClient {
  if (typeof options !== 'object' || options === null) throw new TypeError('offlineInit() needs an options object with flagsConfiguration');
  if (options.flagsConfiguration == null) throw new TypeError('offlineInit() needs flagsConfiguration: UFC JSON text or object');
  const client = new SaltshardClient(options);
  const strict = options.throwOnFailedInitialization !== false;
  const load = (what: string, fallback: string, apply: () => void) => {
    try {
      apply();
    } catch (err) {
      if (strict) throw err;
      client.sandbox.logger.warn(`offlineInit(): invalid ${what} (${(err as Error)?.message}); ${fallback}`);
    }
  };
  load('flags configuration', 'all assignments return their defaults', () => client.setConfiguration(options.flagsConfiguration));
  if (options.banditsConfiguration != null) load('bandits configuration', 'bandit actions are not drawn', () => client.setBanditConfiguration(options.banditsConfiguration));
  return client;
}

