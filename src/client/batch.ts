/**
 * Batches: many subjects × flags in one call, in the getters' evaluator, logging as the getters do.
 * @module
 */
import { type BatchContext, type BatchResult, type BatchSubject, type ColumnarSubjects, evaluateBatch, evaluateColumns } from '../eval/batch.ts';
import type { EventSink } from '../events/logger.ts';
import type { Assigner } from './assign.ts';
import type { ClientState } from './state.ts';

/** Batch options: `log` `'dedupe'` (default) sends exposure events as the getters do, `'none'` sends none. */
export interface BatchOptions {
  /** `'dedupe'` (default): exposure events as the getters send them; `'none'`: no events. */
  log?: 'dedupe' | 'none';
}

/** Runs {@link SaltshardClient.assignMany} and {@link SaltshardClient.assignColumns}. */
export class BatchRunner {
  readonly #state: ClientState;
  readonly #assigner: Assigner;
  readonly #events: EventSink;

  constructor(state: ClientState, assigner: Assigner, events: EventSink) {
    this.#state = state;
    this.#assigner = assigner;
    this.#events = events;
  }

  many(subjects: readonly BatchSubject[], flagKeys: readonly string[] | undefined, options: BatchOptions): BatchResult {
    if (!Array.isArray(subjects)) throw new TypeError('assignMany() needs an array of { subjectKey, subjectAttributes }');
    return this.#counted(evaluateBatch(subjects, this.#flags(flagKeys, 'assignMany'), this.#context(options)));
  }

  columns(subjects: ColumnarSubjects, flagKeys: readonly string[] | undefined, options: BatchOptions): BatchResult {
    if (typeof subjects !== 'object' || subjects === null || typeof subjects.keys !== 'object' || subjects.keys === null) {
      throw new TypeError('assignColumns() needs { keys, columns }');
    }
    return this.#counted(evaluateColumns(subjects, this.#flags(flagKeys, 'assignColumns'), this.#context(options)));
  }

  #counted(result: BatchResult): BatchResult {
    this.#state.counters.batchEvaluations += result.size * result.flagKeys.length;
    return result;
  }

  #flags(flagKeys: readonly string[] | undefined, method: string): readonly string[] {
    if (flagKeys !== undefined && !Array.isArray(flagKeys)) throw new TypeError(`${method}() flagKeys must be an array of flag keys`);
    const config = this.#state.config;
    return flagKeys ?? (config === null || config.obfuscated ? [] : [...config.flags.keys()]);
  }

  #context(options: BatchOptions): BatchContext {
    const state = this.#state;
    const config = state.config;
    return {
      kernel: state.kernel,
      nowMs: state.now(),
      obfuscated: config?.obfuscated ?? false,
      programKey: config ?? undefined,
      lookup: (flagKey) => {
        if (config === null) return undefined;
        try {
          return state.entry(config, flagKey);
        } catch {
          return undefined;
        }
      },
      wantsLog: config === null ? undefined : (flagKey, subjectKey, flag, logValue) => this.#assigner.wantsLog(flagKey, subjectKey, config, flag, logValue),
      dropAll: (cells) => this.#events.dropAll(cells),
      onLog: options.log === 'none' || config === null ? undefined : (flagKey, subjectKey, attributes, flag, e) => this.#assigner.log(flagKey, subjectKey, attributes, config, flag, e),
    };
  }
}
