/**
 * The client: typed getters over one immutable config snapshot, details, and exposure events.
 * @module
 * @example
 * const client = offlineInit({ flagsConfiguration: json, assignmentLogger: { logAssignment: (e) => sink.push(e) } });
 * client.getStringAssignment('new-user-onboarding', 'alice', { country: 'US' }, 'control');
 */
import type { FlagEvaluationCode, VariationType } from './errors.ts';
import { type BrokenFlag, type CompiledConfig, type CompiledFlag, compileConfig } from './config/compile.ts';
import { md5Hex } from './config/encoding.ts';
import { type Attributes, type Evaluation, evaluateFlag } from './eval/reference.ts';
import { type FlagEvaluationDetails, evaluationDetails, noneDetails } from './eval/details.ts';
import { type BatchContext, type BatchResult, type BatchSubject, type ColumnarSubjects, evaluateBatch, evaluateColumns } from './eval/batch.ts';
import { type AssignmentEvent, type AssignmentLogger, EventSink, type Logger, consoleLogger, dedupeCapacity } from './events/logger.ts';
import { type KernelBackend, type ShardKernel, createJsKernel, getKernel } from './wasm/kernel.ts';
import { SDK_NAME, SDK_VERSION } from './version.ts';
import type { SyncStatus } from './live/sync.ts';
import { type BanditModels, type BanditParameters, type BanditVariation, indexBanditReferences, parseBanditModels } from './bandits/model.ts';
import { type BanditActions, type BanditSubjectAttributes, evaluateBandit, normalizeActions, toContextAttributes, toFlatAttributes } from './bandits/evaluate.ts';
import { type BanditLogger, BanditEventSink } from './bandits/events.ts';
import { type PrecomputedBanditInput, type PrecomputedFlagInput, encodePrecomputed, randomSalt } from './precomputed.ts';

/** What a `...Details` getter returns (Eppo's `IAssignmentDetails`). */
export interface AssignmentDetails<T> {
  variation: T;
  action: null;
  evaluationDetails: FlagEvaluationDetails;
}

/** JSON values a JSON flag may hold. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** Options shared by every way of making a client. */
export interface ClientOptions {
  /** Receives exposure events for allocations with `doLog`. Without one, up to 100 events wait for it. */
  assignmentLogger?: AssignmentLogger | null;
  /** The SDK's own warnings and errors; defaults to the console (warn and error only). */
  logger?: Logger;
  /** Dedupe capacity (least recently used); 0 or false logs every evaluation. Default 50 000. */
  assignmentCacheSize?: number | false;
  /** The clock for allocation windows, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Shard backend: `wasm` (default when WebAssembly works) or `js`. */
  kernel?: KernelBackend;
  /** Receives bandit events (deduped per flag and subject); a throw or rejection never breaks the call. */
  banditLogger?: BanditLogger | null;
}

/** What {@link SaltshardClient.getBanditAction} returns. */
export interface BanditActionResult {
  variation: string;
  /** The chosen action, or null when no bandit ran. */
  action: string | null;
}

/** What {@link SaltshardClient.getBanditActionDetails} returns. */
export interface BanditActionDetails extends BanditActionResult {
  evaluationDetails: FlagEvaluationDetails;
}

/** Events a client emits; see {@link SaltshardClient.on}. */
export type ClientEvent = 'configurationChanged' | 'syncFailed' | 'syncRecovered';

/** A live config source attached to a client (see live/init.ts). */
export interface ClientSync {
  /** Resolves true once a config came from the network, false if the initial attempts failed. */
  readonly ready: Promise<boolean>;
  stop(): void;
  status(): SyncStatus;
}

interface Outcome {
  config: CompiledConfig | null;
  flag: CompiledFlag | null;
  code: FlagEvaluationCode;
  description: string;
  evaluation: Evaluation | null;
}

const EMPTY: Attributes = Object.freeze({});
const noop = (): void => {};

/**
 * A feature-flag client. Getters never throw: any problem returns the default, with the reason in the details.
 */
export class SaltshardClient {
  #config: CompiledConfig | null = null;
  readonly #events: EventSink;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #kernel: ShardKernel;
  readonly #hashedKeys = new Map<string, string>();
  #sync: ClientSync | null = null;
  #bandits: BanditModels | null = null;
  #banditIndex: { config: CompiledConfig; index: ReadonlyMap<string, readonly BanditVariation[]> } | null = null;
  readonly #banditEvents: BanditEventSink;
  readonly #listeners = new Map<ClientEvent, Set<(detail: unknown) => void>>();

  /**
   * @param options logger, dedupe, clock and kernel choices.
   * @example const client = new SaltshardClient({ assignmentLogger });
   */
  constructor(options: ClientOptions = {}) {
    checkOptions(options);
    const l = options.logger;
    this.#logger = l ? { error: l.error.bind(l), warn: l.warn.bind(l), info: l.info?.bind(l) ?? noop, debug: l.debug?.bind(l) ?? noop } : consoleLogger;
    this.#events = new EventSink({ logger: this.#logger, assignmentLogger: options.assignmentLogger, assignmentCacheSize: options.assignmentCacheSize });
    this.#now = options.now ?? Date.now;
    this.#kernel = options.kernel === 'js' ? createJsKernel() : getKernel();
    if (options.banditLogger != null && typeof options.banditLogger.logBanditAction !== 'function') throw new TypeError('banditLogger must be an object with a logBanditAction(event) method');
    this.#banditEvents = new BanditEventSink(this.#logger, options.banditLogger, dedupeCapacity(options.assignmentCacheSize));
  }

  /** Which shard backend is active: `wasm`, or `js` when WebAssembly is unavailable or was turned off. */
  get kernelBackend(): KernelBackend {
    return this.#kernel.backend;
  }

  /**
   * Replace the configuration atomically; evaluations already running keep the snapshot they started with.
   * @param config a compiled snapshot, or anything `compileConfig` accepts.
   * @throws {SyntaxError | ConfigError} when the document is not a usable UFC config (the old one stays).
   */
  setConfiguration(config: CompiledConfig | unknown): void {
    const next = keepLastGoodFlags(isCompiled(config) ? config : compileConfig(config), this.#config);
    for (const warning of next.warnings) this.#logger.warn(warning);
    const previous = this.#config;
    this.#config = next;
    this.#hashedKeys.clear();
    if (this.#listeners.get('configurationChanged')?.size) this.emit('configurationChanged', changedFlags(previous, next));
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

  /** Stop polling. The client keeps serving the config it has. */
  stopPolling(): void {
    this.#sync?.stop();
  }

  /** Stop polling and release timers; same as stopPolling (no other resources are held). */
  close(): void {
    this.stopPolling();
  }

  /** What `JSON.stringify(client)` shows: a summary, never the SDK key. */
  toJSON(): Record<string, unknown> {
    const c = this.#config;
    return { sdk: SDK_NAME, version: SDK_VERSION, initialized: c !== null, environment: c?.environmentName ?? null, flags: c?.flags.size ?? 0, kernel: this.#kernel.backend };
  }

  /** Node/Bun `util.inspect` and Deno's inspector show the same summary. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SaltshardClient ${JSON.stringify(this.toJSON())}`;
  }
  [Symbol.for('Deno.customInspect')](): string {
    return `SaltshardClient ${JSON.stringify(this.toJSON())}`;
  }

  /** The current snapshot, or null before the first config. */
  getConfiguration(): CompiledConfig | null {
    return this.#config;
  }

  /** True once a configuration is loaded. */
  isInitialized(): boolean {
    return this.#config !== null;
  }

  /** Keys of all flags in the current config (md5-hashed keys for an obfuscated config), in config order. */
  getFlagKeys(): string[] {
    return this.#config ? [...this.#config.flags.keys()] : [];
  }

  /** The variation type of a flag in the current config, or null when the flag is unknown or broken. */
  getFlagVariationType(flagKey: string): VariationType | null {
    const config = this.#config;
    if (config === null || typeof flagKey !== 'string') return null;
    try {
      const flag = this.#entry(config, flagKey);
      return flag?.kind === 'flag' ? flag.variationType : null;
    } catch {
      return null;
    }
  }

  /** The current config as UFC JSON text (for export or bootstrap), or null before the first config. */
  getFlagsConfiguration(): string | null {
    return this.#config ? JSON.stringify(this.#config.wire) : null;
  }

  /** Set or replace the assignment logger; events queued before it are flushed to it in order. */
  setAssignmentLogger(logger: AssignmentLogger | null): void {
    this.#events.setAssignmentLogger(logger);
  }

  /** A STRING flag's value for a subject, or `defaultValue`. */
  getStringAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: string): string {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'STRING', false).variation as string;
  }
  /** A BOOLEAN flag's value for a subject, or `defaultValue`. */
  getBooleanAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: boolean): boolean {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'BOOLEAN', false).variation as boolean;
  }
  /** An INTEGER flag's value for a subject, or `defaultValue`. */
  getIntegerAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): number {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'INTEGER', false).variation as number;
  }
  /** A NUMERIC flag's value for a subject, or `defaultValue`. */
  getNumericAssignment(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): number {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'NUMERIC', false).variation as number;
  }
  /** A JSON flag's parsed value (a fresh copy each call) for a subject, or `defaultValue`. */
  getJSONAssignment<T = JsonValue>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T): T {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'JSON', false).variation as T;
  }
  /** {@link getStringAssignment} with the evaluation details. */
  getStringAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: string): AssignmentDetails<string> {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'STRING', true) as AssignmentDetails<string>;
  }
  /** {@link getBooleanAssignment} with the evaluation details. */
  getBooleanAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: boolean): AssignmentDetails<boolean> {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'BOOLEAN', true) as AssignmentDetails<boolean>;
  }
  /** {@link getIntegerAssignment} with the evaluation details. */
  getIntegerAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): AssignmentDetails<number> {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'INTEGER', true) as AssignmentDetails<number>;
  }
  /** {@link getNumericAssignment} with the evaluation details. */
  getNumericAssignmentDetails(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: number): AssignmentDetails<number> {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'NUMERIC', true) as AssignmentDetails<number>;
  }
  /** {@link getJSONAssignment} with the evaluation details. */
  getJSONAssignmentDetails<T = JsonValue>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T): AssignmentDetails<T> {
    return this.#value(flagKey, subjectKey, subjectAttributes, defaultValue, 'JSON', true) as AssignmentDetails<T>;
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
  assignMany(subjects: readonly BatchSubject[], flagKeys?: readonly string[], options: { log?: 'dedupe' | 'none' } = {}): BatchResult {
    if (!Array.isArray(subjects)) throw new TypeError('assignMany() needs an array of { subjectKey, subjectAttributes }');
    return evaluateBatch(subjects, this.#batchFlags(flagKeys, 'assignMany'), this.#batchContext(options));
  }

  /**
   * Like {@link assignMany}, for subjects given as columns: the lower-level entry for bulk jobs (the CLI uses it).
   * Keys may be pre-encoded UTF-8 (`{ bytes, starts, lengths }`), so they are never decoded unless read back;
   * `columns[name][i]` is attribute `name` of subject i (null or undefined: absent).
   * @example
   * const r = client.assignColumns({ keys: ['a', 'b'], columns: { country: ['FR', null], age: new Float64Array([31, 40]) } });
   */
  assignColumns(subjects: ColumnarSubjects, flagKeys?: readonly string[], options: { log?: 'dedupe' | 'none' } = {}): BatchResult {
    if (typeof subjects !== 'object' || subjects === null || typeof subjects.keys !== 'object' || subjects.keys === null) {
      throw new TypeError('assignColumns() needs { keys, columns }');
    }
    return evaluateColumns(subjects, this.#batchFlags(flagKeys, 'assignColumns'), this.#batchContext(options));
  }

  #batchFlags(flagKeys: readonly string[] | undefined, method: string): readonly string[] {
    if (flagKeys !== undefined && !Array.isArray(flagKeys)) throw new TypeError(`${method}() flagKeys must be an array of flag keys`);
    return flagKeys ?? (this.#config?.obfuscated ? [] : this.getFlagKeys());
  }

  #batchContext(options: { log?: 'dedupe' | 'none' }): BatchContext {
    const config = this.#config;
    return {
      kernel: this.#kernel,
      nowMs: this.#now(),
      obfuscated: config?.obfuscated ?? false,
      programKey: config ?? undefined,
      lookup: (flagKey) => {
        if (config === null) return undefined;
        try {
          return this.#entry(config, flagKey);
        } catch {
          return undefined;
        }
      },
      onLog: options.log === 'none' || config === null ? undefined : (flagKey, subjectKey, attributes, flag, e) => this.#log(flagKey, subjectKey, attributes, config, flag, e),
    };
  }

  /**
   * Evaluate a flag whatever its type, for tools that serve every flag (the CLI, servers).
   * @returns the outcome's code, the typed value (null unless MATCH), the variation and allocation keys, and
   *   whether an exposure event is due (`doLog`). No event is logged.
   */
  evaluate(flagKey: string, subjectKey: string, subjectAttributes?: Attributes | null): {
    variationType: VariationType | null;
    code: FlagEvaluationCode;
    description: string;
    value: unknown;
    variationKey: string | null;
    allocationKey: string | null;
    doLog: boolean;
  } {
    const o = this.#outcome(flagKey, subjectKey, subjectAttributes, null);
    const e = o.evaluation;
    const matched = o.code === 'MATCH' && e !== null && e.variation !== null;
    return {
      variationType: o.flag?.variationType ?? null,
      code: o.code,
      description: o.description,
      value: matched ? typedValue(o.flag as CompiledFlag, e.variation!.value) : null,
      variationKey: e?.allocation ? e.variationKey : null,
      allocationKey: e?.allocation?.key ?? null,
      doLog: e?.doLog ?? false,
    };
  }

  /**
   * Like a `...Details` getter for a given type, plus what integrations (OpenFeature, servers) need to know:
   * the flag's own type (null when unknown) and whether the serving split was randomized by shards.
   * Logs exposure events as the getters do; never throws.
   */
  resolve<T>(flagKey: string, subjectKey: string, subjectAttributes: Attributes | null | undefined, defaultValue: T, type: VariationType): AssignmentDetails<T> & { flagType: VariationType | null; randomized: boolean } {
    const r = this.#resolve(flagKey, subjectKey, subjectAttributes, defaultValue, type, true);
    return { ...(r.result as AssignmentDetails<T>), flagType: r.outcome.flag?.variationType ?? null, randomized: r.outcome.evaluation?.split?.hashesSubject ?? false };
  }

  /**
   * Listen for client events: `configurationChanged` (a new config is in force; detail: flag keys whose definition
   * changed), `syncFailed` (a fetch failed; detail: our message), `syncRecovered` (a fetch succeeded after failures).
   * Listeners run sandboxed. Returns a function that removes the listener.
   */
  on(event: ClientEvent, listener: (detail: unknown) => void): () => void {
    const set = this.#listeners.get(event) ?? new Set();
    this.#listeners.set(event, set);
    set.add(listener);
    return () => void set.delete(listener);
  }

  /** @internal Emit a client event to its listeners (used by the live source). */
  emit(event: ClientEvent, detail: unknown): void {
    for (const listener of this.#listeners.get(event) ?? []) {
      try {
        listener(detail);
      } catch (err) {
        this.#logger.error(`A ${event} listener threw`, (err as Error)?.message);
      }
    }
  }

  #value(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): AssignmentDetails<unknown> {
    return this.#resolve(flagKey, subjectKey, attributes, defaultValue, type, withDetails).result;
  }

  #resolve(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): { result: AssignmentDetails<unknown>; outcome: Outcome } {
    let o: Outcome;
    try {
      o = this.#outcome(flagKey, subjectKey, attributes, type);
    } catch (err) {
      // Unreachable by design; kept so that no input can make a getter throw.
      this.#logger.error('Unexpected evaluation failure', (err as Error)?.message);
      o = { config: null, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: ${(err as Error)?.message}`, evaluation: null };
    }
    let variation = defaultValue;
    const e = o.evaluation;
    if (o.code === 'MATCH' && e?.variation) {
      // A JSON "null" is a MATCH that still returns the default, as Eppo's `objectValue ?? default`.
      variation = typedValue(o.flag as CompiledFlag, e.variation.value) ?? defaultValue;
    }
    if (e?.doLog && o.config && o.flag) this.#log(flagKey, subjectKey, attributes ?? EMPTY, o.config, o.flag, e);
    return { result: { variation, action: null, evaluationDetails: withDetails ? this.#details(o) : (undefined as unknown as FlagEvaluationDetails) }, outcome: o };
  }

  #outcome(flagKey: unknown, subjectKey: unknown, attributes: unknown, type: VariationType | null): Outcome {
    const argError = checkArguments(flagKey, subjectKey, attributes);
    if (argError !== null) return { config: null, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: Invalid argument: ${argError}`, evaluation: null };
    const config = this.#config;
    const key = flagKey as string;
    let entry: CompiledFlag | BrokenFlag | undefined;
    if (config !== null) {
      try {
        entry = this.#entry(config, key);
      } catch (err) {
        return { config: null, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: ${(err as Error).message}`, evaluation: null };
      }
    }
    if (entry === undefined) return { config, flag: null, code: 'FLAG_UNRECOGNIZED_OR_DISABLED', description: `Unrecognized or disabled flag: ${key}`, evaluation: null };
    if (entry.kind === 'broken') return { config, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: ${entry.error}`, evaluation: null };
    // The type is checked before `enabled`, as Eppo does (eppo-spec §2.1).
    if (type !== null && entry.variationType !== type) {
      return {
        config, flag: entry, code: 'TYPE_MISMATCH', evaluation: null,
        description: `Variation value does not have the correct type. Found ${entry.variationType}, but expected ${type} for flag ${key}`,
      };
    }
    if (!entry.enabled) return { config, flag: entry, code: 'FLAG_UNRECOGNIZED_OR_DISABLED', description: `Unrecognized or disabled flag: ${key}`, evaluation: null };
    const e = evaluateFlag(entry, subjectKey as string, (attributes ?? EMPTY) as Attributes, this.#now(), this.#kernel, (config as CompiledConfig).obfuscated);
    return { config, flag: entry, code: e.code, description: e.description, evaluation: e };
  }

  #details(o: Outcome): FlagEvaluationDetails {
    if (o.evaluation && o.config && o.flag) return evaluationDetails(o.config, o.flag, o.evaluation);
    return noneDetails(o.config, o.code, o.description, o.flag?.allocations);
  }

  #log(requestedKey: string, subjectKey: string, attributes: Attributes, config: CompiledConfig, flag: CompiledFlag, e: Evaluation): void {
    // Eppo names a plain flag by its own `key` field (which may differ from its map key); an obfuscated one by the requested key.
    const flagKey = config.obfuscated ? requestedKey : (flag.configKey ?? requestedKey);
    const allocationKey = e.allocation!.key;
    const variationKey = e.variation!.key;
    const value = e.split!.logValue;
    if (!this.#events.wants(flagKey, subjectKey, value)) return;
    let event: AssignmentEvent;
    try {
      event = {
        allocation: allocationKey,
        experiment: `${flagKey}-${allocationKey}`,
        featureFlag: flagKey,
        format: config.format,
        variation: variationKey,
        subject: subjectKey,
        timestamp: isoNow(),
        subjectAttributes: attributes,
        metaData: { obfuscated: config.obfuscated, sdkLanguage: 'javascript', sdkLibVersion: SDK_VERSION, sdkName: SDK_NAME, sdkVersion: SDK_VERSION },
        evaluationDetails: evaluationDetails(config, flag, e),
        entityId: flag.entityId,
      };
      // extraLogging goes first and the fixed fields win on a collision (eppo-spec §4.1); most splits have none.
      const extra = e.split!.extraLogging;
      for (const _ in extra) {
        event = { ...extra, ...event };
        break;
      }
    } catch (err) {
      this.#logger.error('Cannot build assignment event', (err as Error)?.message);
      return;
    }
    this.#events.send(flagKey, subjectKey, value, event);
  }

  /**
   * True when the current config references bandit models (by key and version) that are not loaded; the live
   * source then fetches Eppo's bandit parameters (eppo-spec §5.2: only when a referenced version is missing).
   */
  needsBanditModels(): boolean {
    const config = this.#config;
    const refs = config?.wire.banditReferences;
    if (!config || config.obfuscated || refs == null || typeof refs !== 'object') return false;
    for (const banditKey of Object.keys(refs)) {
      const version = (refs[banditKey] as { modelVersion?: unknown } | null)?.modelVersion;
      const loaded = this.#bandits?.bandits.get(banditKey);
      if (loaded === undefined || (typeof version === 'string' && loaded.modelVersion !== version)) return true;
    }
    return false;
  }

  /**
   * Load or replace the bandit models (Eppo's `GET /flag-config/v1/bandits` response).
   * @param models JSON text, UTF-8 bytes, or a parsed object `{ bandits: { [banditKey]: BanditParameters } }`.
   * @throws {SyntaxError | TypeError | ConfigError} when the document is unusable; the previous models stay.
   */
  setBanditConfiguration(models: unknown): void {
    this.#bandits = parseBanditModels(models);
  }

  /** The bandit models as JSON text (for export), or null when none are loaded. */
  getBanditsConfiguration(): string | null {
    return this.#bandits ? JSON.stringify(this.#bandits.wire) : null;
  }

  /** Set or replace the bandit logger; events queued before it are flushed to it in order. */
  setBanditLogger(logger: BanditLogger | null): void {
    this.#banditEvents.setLogger(logger);
  }

  /**
   * Assign a STRING flag's variation and, when that variation is a bandit, draw an action (eppo-spec §6.4).
   * @param subjectAttributes flat (numbers → numeric) or `{ numericAttributes, categoricalAttributes }`.
   * @param actions action keys, or actions with flat or split attributes.
   * @returns the variation (or `defaultValue`) and the action, null when no bandit ran.
   * @example client.getBanditAction('banner_bandit_flag', 'alice', { age: 25 }, ['nike', 'adidas'], 'default');
   */
  getBanditAction(flagKey: string, subjectKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultValue: string): BanditActionResult {
    const { variation, action } = this.getBanditActionDetails(flagKey, subjectKey, subjectAttributes, actions, defaultValue);
    return { variation, action };
  }

  /**
   * {@link getBanditAction} with the evaluation details: `banditKey` and `banditAction` are set when a bandit ran;
   * a failure of the bandit part keeps the variation and reports BANDIT_ERROR. Never throws.
   */
  getBanditActionDetails(flagKey: string, subjectKey: string, subjectAttributes: BanditSubjectAttributes | null | undefined, actions: BanditActions | null | undefined, defaultValue: string): BanditActionDetails {
    const config = this.#config;
    let variation = defaultValue;
    let action: string | null = null;
    let details = noneDetails(config, 'ASSIGNMENT_ERROR', 'Unexpected error getting assigned variation for bandit action');
    try {
      const assigned = this.getStringAssignmentDetails(flagKey, subjectKey, toFlatAttributes(subjectAttributes), defaultValue);
      variation = assigned.variation;
      details = assigned.evaluationDetails;
      // As Eppo: looked up by the value served, even when that is the default.
      const bandit = this.#banditFor(config, flagKey, variation);
      if (bandit === null) return { variation, action: null, evaluationDetails: details };
      details.banditKey = bandit.banditKey;
      const normalized = normalizeActions(actions);
      if (normalized.length === 0) return { variation, action: null, evaluationDetails: details };
      const subject = toContextAttributes(subjectAttributes);
      const result = evaluateBandit(flagKey, subjectKey, subject, normalized, bandit.modelData, this.#kernel);
      action = result.actionKey;
      details.banditAction = action;
      this.#banditEvents.deliver({
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
      this.#logger.error('Error determining bandit action', message);
      action = null;
      details.banditAction = null;
      if (variation) details.flagEvaluationCode = 'BANDIT_ERROR';
      details.flagEvaluationDescription = `Error evaluating bandit action: ${message}`;
    }
    return { variation, action, evaluationDetails: details };
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
    if (typeof subjectKey !== 'string' || subjectKey === '') throw new TypeError('getPrecomputedConfiguration() needs a non-empty subjectKey string');
    if (salt !== undefined && typeof salt !== 'string') throw new TypeError('salt must be a string');
    const config = this.#config;
    const flat = toFlatAttributes(subjectAttributes);
    const context = toContextAttributes(subjectAttributes);
    const flags = new Map<string, PrecomputedFlagInput>();
    const now = this.#now();
    for (const [key, entry] of config?.flags ?? []) {
      if (entry.kind !== 'flag' || !entry.enabled) continue;
      const e = evaluateFlag(entry, subjectKey, flat, now, this.#kernel, config!.obfuscated);
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
    const bandits = new Map<string, PrecomputedBanditInput>();
    for (const flagKey of Object.keys(banditActions ?? {})) {
      const flag = flags.get(flagKey);
      if (flag === undefined) continue;
      try {
        const bandit = this.#banditFor(config, flagKey, flag.variationValue);
        const actions = bandit ? normalizeActions(banditActions[flagKey]) : [];
        if (bandit === null || actions.length === 0) continue;
        const r = evaluateBandit(flagKey, subjectKey, context, actions, bandit.modelData, this.#kernel);
        bandits.set(flagKey, {
          banditKey: bandit.banditKey,
          action: r.actionKey,
          actionProbability: r.actionWeight,
          optimalityGap: r.optimalityGap,
          modelVersion: bandit.modelVersion,
          actionNumericAttributes: r.actionAttributes.numericAttributes,
          actionCategoricalAttributes: r.actionAttributes.categoricalAttributes,
        });
      } catch (err) {
        this.#logger.warn(`Cannot precompute the bandit of ${flagKey}`, err instanceof Error ? err.message : String(err));
      }
    }
    return encodePrecomputed({ subjectKey, subjectAttributes: context, environmentName: config?.environmentName ?? '', flags, bandits, salt: salt ?? randomSalt() });
  }

  /** The bandit serving `variation` of `flagKey` (first matching reference), or null. */
  #banditFor(config: CompiledConfig | null, flagKey: string, variation: string): BanditParameters | null {
    const models = this.#bandits;
    if (config === null || models === null) return null;
    if (this.#banditIndex?.config !== config) this.#banditIndex = { config, index: indexBanditReferences(config.wire.banditReferences) };
    const ref = this.#banditIndex.index.get(flagKey)?.find((v) => v.variationValue === variation);
    return ref ? (models.bandits.get(ref.key) ?? null) : null;
  }

  /** The config's entry for a requested key (looked up by md5 in obfuscated configs; throws like Eppo on a lone surrogate). */
  #entry(config: CompiledConfig, flagKey: string): CompiledFlag | BrokenFlag | undefined {
    return config.flags.get(config.obfuscated ? this.#hashKey(flagKey) : flagKey);
  }

  #hashKey(flagKey: string): string {
    let h = this.#hashedKeys.get(flagKey);
    if (h === undefined) {
      h = md5Hex(flagKey);
      if (this.#hashedKeys.size > 10_000) this.#hashedKeys.clear();
      this.#hashedKeys.set(flagKey, h);
    }
    return h;
  }
}

let lastMs = Number.NaN;
let lastIso = '';

/** `new Date().toISOString()`, computed once per millisecond. */
function isoNow(): string {
  const ms = Date.now();
  if (ms !== lastMs) {
    lastMs = ms;
    lastIso = new Date(ms).toISOString();
  }
  return lastIso;
}

function typedValue(flag: CompiledFlag, value: string | number | boolean): unknown {
  return flag.variationType === 'JSON' ? JSON.parse(value as string) : value;
}

/** Setup errors are thrown, naming the option (a getter never throws later because of them). */
function checkOptions(o: ClientOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('client options must be an object');
  const isFn = (x: unknown) => typeof x === 'function';
  if (o.assignmentLogger != null && (typeof o.assignmentLogger !== 'object' || !isFn(o.assignmentLogger.logAssignment))) {
    throw new TypeError('assignmentLogger must be an object with a logAssignment(event) method');
  }
  if (o.logger !== undefined && (typeof o.logger !== 'object' || o.logger === null || !isFn(o.logger.error) || !isFn(o.logger.warn))) {
    throw new TypeError('logger must be an object with error and warn methods (info and debug optional)');
  }
  if (o.now !== undefined && !isFn(o.now)) throw new TypeError('now must be a function returning epoch milliseconds');
  if (o.kernel !== undefined && o.kernel !== 'wasm' && o.kernel !== 'js') throw new TypeError(`kernel must be "wasm" or "js", got ${String(o.kernel)}`);
  const size = o.assignmentCacheSize;
  if (size !== undefined && size !== false && !(typeof size === 'number' && Number.isInteger(size) && size >= 0)) {
    throw new TypeError('assignmentCacheSize must be a non-negative integer or false');
  }
}

function checkArguments(flagKey: unknown, subjectKey: unknown, attributes: unknown): string | null {
  // Eppo checks the subject first, then the flag (eppo-spec §2.1).
  if (subjectKey == null || subjectKey === '') return 'subjectKey cannot be blank';
  if (typeof subjectKey !== 'string') return `subjectKey must be a string, got ${typeof subjectKey}`;
  if (flagKey == null || flagKey === '') return 'flagKey cannot be blank';
  if (typeof flagKey !== 'string') return `flagKey must be a string, got ${typeof flagKey}`;
  if (attributes != null && typeof attributes !== 'object') return `subjectAttributes must be an object, got ${typeof attributes}`;
  return null;
}

/**
 * A flag that arrives broken while the config in force has a good version of it keeps the good version
 * (reliability-plan §0.7: one bad flag must not wipe its last good state); every other flag is replaced.
 */
function keepLastGoodFlags(next: CompiledConfig, previous: CompiledConfig | null): CompiledConfig {
  let flags: Map<string, CompiledFlag | BrokenFlag> | null = null;
  const warnings = [...next.warnings];
  for (const [key, flag] of next.flags) {
    if (flag.kind !== 'broken') continue;
    const old = previous?.flags.get(key);
    if (old?.kind === 'flag' && previous?.obfuscated === next.obfuscated) {
      flags ??= new Map(next.flags);
      flags.set(key, old);
      warnings.push(`${flag.error}; keeping the previous version of this flag`);
    } else {
      warnings.push(`${flag.error}; the flag serves defaults`);
    }
  }
  return Object.freeze({ ...next, flags: flags ?? next.flags, warnings });
}

/** Keys of flags added, removed or redefined between two configs. */
function changedFlags(previous: CompiledConfig | null, next: CompiledConfig): string[] {
  const before = previous?.wire.flags ?? {};
  const after = next.wire.flags;
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function isCompiled(value: unknown): value is CompiledConfig {
  return typeof value === 'object' && value !== null && 'flags' in value && (value as CompiledConfig).flags instanceof Map && 'fetchedAt' in value;
}

/** Options of {@link offlineInit}. */
export interface OfflineInitOptions extends ClientOptions {
  /** A UFC document: JSON text, bytes, or a parsed object (SERVER or obfuscated CLIENT format). */
  flagsConfiguration: unknown;
  /** Bandit models (Eppo's bandit parameters response): JSON text, bytes or an object. */
  banditsConfiguration?: unknown;
}

/**
 * Make a client from a configuration in hand, with no network access.
 * @param options the configuration and client options.
 * @returns a ready client.
 * @throws {SyntaxError} when the configuration is not JSON; {ConfigError} when it is not a UFC document.
 * @example
 * const client = offlineInit({ flagsConfiguration: readFileSync('flags.json', 'utf8') });
 * client.getBooleanAssignment('kill-switch', 'user-1', { country: 'US' }, false);
 */
export function offlineInit(options: OfflineInitOptions): SaltshardClient {
  if (typeof options !== 'object' || options === null) throw new TypeError('offlineInit() needs an options object with flagsConfiguration');
  if (options.flagsConfiguration == null) throw new TypeError('offlineInit() needs flagsConfiguration: UFC JSON text or object');
  const client = new SaltshardClient(options);
  client.setConfiguration(options.flagsConfiguration);
  if (options.banditsConfiguration != null) client.setBanditConfiguration(options.banditsConfiguration);
  return client;
}

