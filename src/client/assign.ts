/**
 * The getter path: one flag for one subject → typed value (and details on request) → exposure event.
 * Kept free of per-call work beyond the evaluation itself: this is what `getStringAssignment` and its kin run.
 * @module
 */
import type { FlagEvaluationCode, VariationType } from '../errors.ts';
import type { BrokenFlag, CompiledConfig, CompiledFlag } from '../config/compile.ts';
import { type Attributes, type Evaluation, MATCHED, evaluateFlag, matchFlag, reached, reachedEvaluation } from '../eval/reference.ts';
import { type FlagEvaluationDetails, evaluationDetails, noneDetails } from '../eval/details.ts';
import type { AssignmentEvent, EventSink } from '../events/logger.ts';
import { exposureDetails, exposureMetaData } from '../events/exposure-parts.ts';
import type { ClientState } from './state.ts';
import { type OverrideMatch, type Overrides, overrideTypeMismatch, overrideValue } from './overrides.ts';
import type { Hooks } from './hooks.ts';
import type { Counters } from './metrics.ts';

/** What a `...Details` getter returns (Eppo's `IAssignmentDetails`). */
export interface AssignmentDetails<T> {
  /** The assigned value (or the default). */
  variation: T;
  /** Always null: no bandit action on a flag getter. */
  action: null;
  /** Why this value was returned (Eppo's evaluation details). */
  evaluationDetails: FlagEvaluationDetails;
}

/** What {@link Assigner.evaluate} returns. */
export interface EvaluateResult {
  /** The flag's variation type; null when the flag is unknown or broken. */
  variationType: VariationType | null;
  /** Eppo's flag evaluation code (`MATCH`, `FLAG_UNRECOGNIZED_OR_DISABLED`, …). */
  code: FlagEvaluationCode;
  /** Eppo's flag evaluation description, in words. */
  description: string;
  /** The assigned value (parsed for JSON flags); undefined when the default applies. */
  value: unknown;
  /** Key of the assigned variation, or null. */
  variationKey: string | null;
  /** Key of the matched allocation, or null. */
  allocationKey: string | null;
  /** Whether the matched allocation logs exposures. */
  doLog: boolean;
}

/** One evaluation's outcome, before it becomes a value. */
export interface Outcome {
  config: CompiledConfig | null;
  flag: CompiledFlag | null;
  code: FlagEvaluationCode;
  description: string;
  evaluation: Evaluation | null;
  /** Set when an override store decided the outcome (code MATCH, no evaluation). */
  override?: OverrideMatch;
}

const EMPTY: Attributes = Object.freeze({});

/** Evaluates single flags for the getters and logs their exposure events. */
export class Assigner {
  readonly #state: ClientState;
  readonly #events: EventSink;
  readonly #counters: Counters;
  /** Eppo's graceful failure mode: false makes assignment errors throw from the getters. */
  graceful = true;
  /** Eppo's override store, consulted before the config; null (the usual case) costs one check per evaluation. */
  overrides: Overrides | null = null;
  /** Evaluation hooks; null (no hooks) costs one check per getter call. */
  hooks: Hooks | null = null;

  constructor(state: ClientState, events: EventSink) {
    this.#state = state;
    this.#events = events;
    this.#counters = state.counters;
  }

  /** An assigner sharing this one's state and events, with its own overrides (for `withOverrides`). */
  fork(overrides: Overrides | null): Assigner {
    const copy = new Assigner(this.#state, this.#events);
    copy.graceful = this.graceful;
    copy.overrides = overrides;
    copy.hooks = this.hooks;
    return copy;
  }

  /** A getter's answer: the value or `defaultValue`, with the details when `withDetails`. Never throws. */
  value(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): AssignmentDetails<unknown> {
    return this.resolve(flagKey, subjectKey, attributes, defaultValue, type, withDetails).result;
  }

  /**
   * A plain getter's value: `value(…, false).variation`, without building the outcome, the evaluation or the
   * result. Anything but an enabled flag of the right type, with valid arguments and no hooks or overrides, takes
   * the general path.
   */
  get(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType): unknown {
    const state = this.#state;
    const config = state.config;
    if (
      config === null || this.hooks !== null || this.overrides !== null ||
      typeof subjectKey !== 'string' || subjectKey === '' || typeof flagKey !== 'string' || flagKey === '' ||
      (attributes != null && typeof attributes !== 'object')
    ) return this.value(flagKey, subjectKey, attributes, defaultValue, type, false).variation;
    let flag: CompiledFlag | BrokenFlag | undefined;
    try {
      flag = state.entry(config, flagKey);
    } catch {
      return this.value(flagKey, subjectKey, attributes, defaultValue, type, false).variation;
    }
    const counters = this.#counters;
    if (flag === undefined) {
      // FLAG_UNRECOGNIZED_OR_DISABLED: the default, no event.
      counters.evaluations++;
      counters.defaults++;
      return defaultValue;
    }
    if (flag.kind === 'broken' || flag.variationType !== type || !flag.enabled) {
      return this.value(flagKey, subjectKey, attributes, defaultValue, type, false).variation;
    }
    counters.evaluations++;
    const attrs = (attributes ?? EMPTY) as Attributes;
    // The clock is read only for a flag with time windows (Date.now() costs ~60 ns on some VMs); NaN passes none.
    const result = matchFlag(flag, subjectKey, attrs, flag.timed ? state.now() : Number.NaN, state.kernel, config.obfuscated);
    if (result === MATCHED) {
      const split = reached.split!;
      const variation = split.variation;
      if (variation !== undefined && variation.typeOk && variation.jsonError === null) {
        const allocation = reached.allocation!;
        // Read before logging: building an event evaluates nothing, but a logger is user code.
        const value = typedValue(flag, variation.value) ?? defaultValue;
        if (allocation.doLog) this.log(flagKey, subjectKey, attrs, config, flag, null);
        return value;
      }
    }
    const e = reachedEvaluation(flag, subjectKey, result);
    return this.#finish({ config, flag, code: e.code, description: e.description, evaluation: e }, flagKey, subjectKey, attributes, defaultValue, type, false).result.variation;
  }

  /** {@link value} plus the outcome it came from. */
  resolve(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): { result: AssignmentDetails<unknown>; outcome: Outcome } {
    if (this.hooks !== null) return this.hooks.around(flagKey, subjectKey, attributes, defaultValue, type, withDetails, (a) => this.#resolve(flagKey, subjectKey, a, defaultValue, type, withDetails));
    return this.#resolve(flagKey, subjectKey, attributes, defaultValue, type, withDetails);
  }

  #resolve(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): { result: AssignmentDetails<unknown>; outcome: Outcome } {
    let o: Outcome;
    try {
      o = this.outcome(flagKey, subjectKey, attributes, type);
    } catch (err) {
      // Unreachable by design; kept so that no input can make a getter throw.
      this.#state.logger.error('Unexpected evaluation failure', (err as Error)?.message);
      o = { config: null, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: ${(err as Error)?.message}`, evaluation: null };
    }
    return this.#finish(o, flagKey, subjectKey, attributes, defaultValue, type, withDetails);
  }

  /** An outcome's value (counted, logged, with the details when `withDetails`). */
  #finish(o: Outcome, flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean): { result: AssignmentDetails<unknown>; outcome: Outcome } {
    let variation = defaultValue;
    const e = o.evaluation;
    if (o.code === 'MATCH' && e?.variation) {
      // A JSON "null" is a MATCH that still returns the default, as Eppo's `objectValue ?? default`.
      variation = typedValue(o.flag as CompiledFlag, e.variation.value) ?? defaultValue;
    } else if (o.override !== undefined) {
      o = this.#overridden(o, o.override, flagKey, type);
      variation = o.code === 'MATCH' ? (o.override?.value ?? defaultValue) : defaultValue;
      if (o.code !== 'MATCH') this.#counters.defaults++;
    } else {
      this.#counters.defaults++;
      if (o.code === 'ASSIGNMENT_ERROR') {
        this.#counters.errors++;
        if (!this.graceful) throw new Error(o.description.replace(/^Assignment Error: /, ''));
      }
    }
    if (e?.doLog && o.config && o.flag) this.log(flagKey, subjectKey, attributes ?? EMPTY, o.config, o.flag, e);
    return { result: { variation, action: null, evaluationDetails: withDetails ? details(o) : (undefined as unknown as FlagEvaluationDetails) }, outcome: o };
  }

  /** An override's typed value (in `override.value`), or TYPE_MISMATCH; an unparsable JSON text gives the default, as Eppo. */
  #overridden(o: Outcome, m: OverrideMatch, flagKey: string, type: VariationType): Outcome {
    let value: unknown;
    try {
      value = overrideValue(m.variation.value, type);
    } catch (err) {
      if (!this.graceful) throw err;
      this.#state.logger.error(`Error getting assignment: ${(err as Error)?.message}`);
      value = null;
    }
    if (value === undefined) return { ...o, code: 'TYPE_MISMATCH', override: { ...m, details: overrideTypeMismatch(m, flagKey, type) } };
    return { ...o, override: { ...m, value } };
  }

  /** Any flag whatever its type, without logging (see SaltshardClient.evaluate). */
  evaluate(flagKey: string, subjectKey: string, subjectAttributes?: Attributes | null): EvaluateResult {
    const o = this.outcome(flagKey, subjectKey, subjectAttributes, null);
    if (o.override !== undefined) {
      const v = o.override.variation;
      return { variationType: null, code: 'MATCH', description: o.description, value: v.value, variationKey: v.key, allocationKey: `override-${v.key}`, doLog: false };
    }
    const e = o.evaluation;
    const matched = o.code === 'MATCH' && e !== null && e.variation !== null;
    return {
      variationType: o.flag?.variationType ?? null,
      code: o.code,
      description: o.description,
      value: matched ? typedValue(o.flag as CompiledFlag, e.variation!.value) : null,
      variationKey: e?.variationKey ?? null, // kept for invalid JSON text, as in the details
      allocationKey: e?.allocation?.key ?? null,
      doLog: e?.doLog ?? false,
    };
  }

  /** Evaluate without logging; `type` null skips the type check. */
  outcome(flagKey: unknown, subjectKey: unknown, attributes: unknown, type: VariationType | null): Outcome {
    this.#counters.evaluations++;
    const argError = checkArguments(flagKey, subjectKey, attributes);
    if (argError !== null) return { config: null, flag: null, code: 'ASSIGNMENT_ERROR', description: `Assignment Error: Invalid argument: ${argError}`, evaluation: null };
    const state = this.#state;
    if (this.overrides !== null) {
      // Eppo consults the override store before the config: no type check, no enabled check, no event.
      const override = this.overrides.match(state, flagKey as string);
      if (override !== null) return { config: state.config, flag: null, code: 'MATCH', description: 'Flag override applied', evaluation: null, override };
    }
    const config = state.config;
    const key = flagKey as string;
    let entry: CompiledFlag | BrokenFlag | undefined;
    if (config !== null) {
      try {
        entry = state.entry(config, key);
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
    const e = evaluateFlag(entry, subjectKey as string, (attributes ?? EMPTY) as Attributes, entry.timed ? state.now() : Number.NaN, state.kernel, (config as CompiledConfig).obfuscated);
    return { config, flag: entry, code: e.code, description: e.description, evaluation: e };
  }

  /** Whether an exposure with this `logValue` ("allocation;variation") would be sent: not a dedupe hit, and someone receives it. */
  wantsLog(requestedKey: string, subjectKey: string, config: CompiledConfig, flag: CompiledFlag, logValue: string): boolean {
    return this.#events.wants(eventFlagKey(config, requestedKey, flag), subjectKey, logValue);
  }

  /**
   * Send the exposure event of an evaluation with `doLog` (deduped; built only when it will be sent). `e` null:
   * the MATCH that {@link matchFlag} just left in {@link reached}, whose evaluation is never built.
   */
  log(requestedKey: string, subjectKey: string, attributes: Attributes, config: CompiledConfig, flag: CompiledFlag, e: Evaluation | null): void {
    const flagKey = eventFlagKey(config, requestedKey, flag);
    const split = e === null ? reached.split! : e.split!;
    if (!this.#events.wants(flagKey, subjectKey, split.logValue)) return;
    let event: AssignmentEvent;
    try {
      const allocation = e === null ? reached.allocation! : e.allocation!;
      const allocationKey = allocation.key;
      const variationKey = split.variation!.key;
      event = {
        allocation: allocationKey,
        experiment: config.obfuscated ? `${flagKey}-${allocationKey}` : allocation.experiment,
        featureFlag: flagKey,
        format: config.format,
        variation: variationKey,
        subject: subjectKey,
        timestamp: isoNow(),
        subjectAttributes: attributes,
        metaData: exposureMetaData(config.obfuscated),
        evaluationDetails: exposureDetails(config, flag, e, subjectKey),
        entityId: flag.entityId,
      };
      // extraLogging goes first and the fixed fields win on a collision (eppo-spec §4.1); most splits have none.
      const extra = split.extraLogging;
      for (const _ in extra) {
        event = { ...extra, ...event };
        break;
      }
    } catch (err) {
      this.#state.logger.error('Cannot build assignment event', (err as Error)?.message);
      return;
    }
    this.#events.send(flagKey, subjectKey, split.logValue, event);
  }
}

/** The details of an outcome. */
export function details(o: Outcome): FlagEvaluationDetails {
  if (o.override !== undefined) return o.override.details;
  if (o.evaluation && o.config && o.flag) return evaluationDetails(o.config, o.flag, o.evaluation);
  return noneDetails(o.config, o.code, o.description, o.flag?.allocations);
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

function checkArguments(flagKey: unknown, subjectKey: unknown, attributes: unknown): string | null {
  // Eppo checks the subject first, then the flag (eppo-spec §2.1).
  if (subjectKey == null || subjectKey === '') return 'subjectKey cannot be blank';
  if (typeof subjectKey !== 'string') return `subjectKey must be a string, got ${typeof subjectKey}`;
  if (flagKey == null || flagKey === '') return 'flagKey cannot be blank';
  if (typeof flagKey !== 'string') return `flagKey must be a string, got ${typeof flagKey}`;
  if (attributes != null && typeof attributes !== 'object') return `subjectAttributes must be an object, got ${typeof attributes}`;
  return null;
}

/** Eppo names a plain flag in events by its own `key` field (which may differ from its map key); an obfuscated one by the requested key. */
function eventFlagKey(config: CompiledConfig, requestedKey: string, flag: CompiledFlag): string {
  return config.obfuscated ? requestedKey : (flag.configKey ?? requestedKey);
}
