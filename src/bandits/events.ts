/**
 * Bandit events (eppo-spec §4.5): the event shape, the logger callback, and delivery with dedupe keyed on
 * (flag, subject) → (bandit, action), a bounded pre-logger queue, and a sandbox around the user's callback.
 * @module
 */
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { DedupeCache, type Logger, MAX_QUEUED_EVENTS } from '../events/logger.ts';
import { callSandboxed, safeLogger } from '../events/sandbox.ts';

/** What a bandit logger receives; Eppo's `IBanditEvent` field for field. */
export interface BanditEvent {
  /** ISO time of the evaluation. */
  timestamp: string;
  /** The flag key as requested. */
  featureFlag: string;
  /** The bandit key. */
  bandit: string;
  subject: string;
  action: string | null;
  actionProbability: number | null;
  optimalityGap: number | null;
  modelVersion: string;
  subjectNumericAttributes: Record<string, unknown>;
  subjectCategoricalAttributes: Record<string, unknown>;
  actionNumericAttributes: Record<string, unknown>;
  actionCategoricalAttributes: Record<string, unknown>;
  metaData: Record<string, unknown>;
  evaluationDetails: FlagEvaluationDetails | null;
}

/** Receives bandit events. May return a promise; a throw or a rejection is caught and reported. */
export interface BanditLogger {
  logBanditAction(event: BanditEvent): void | Promise<unknown>;
}

/** Delivers bandit events once per new (flag, subject) → (bandit, action). */
export class BanditEventSink {
  readonly #logger: Logger;
  #target: BanditLogger | null;
  readonly #cache: DedupeCache;
  readonly #queue: BanditEvent[] = [];

  /**
   * @param logger the SDK's diagnostics.
   * @param target the user's bandit logger, if any (events wait for one, up to 100).
   * @param cacheSize dedupe capacity; 0 logs every draw.
   */
  constructor(logger: Logger, target: BanditLogger | null | undefined, cacheSize: number) {
    this.#logger = safeLogger(logger);
    this.#target = target ?? null;
    this.#cache = new DedupeCache(cacheSize);
  }

  /** Deliver (or queue) the event unless it repeats the pair's last logged (bandit, action). */
  deliver(event: BanditEvent): void {
    const flag = event.featureFlag;
    const subject = event.subject;
    const value = `${event.bandit.length}:${event.bandit}${event.action ?? '__eppo_no_action'}`;
    if (this.#cache.has(flag, subject, value)) return;
    const target = this.#target;
    if (target === null) {
      if (this.#queue.length < MAX_QUEUED_EVENTS) {
        this.#queue.push(event);
        this.#cache.set(flag, subject, value);
      }
      return;
    }
    if (this.#call(target, event, () => this.#cache.forget(flag, subject, value))) this.#cache.set(flag, subject, value);
  }

  /** Set or replace the logger; queued events are flushed to it in order. */
  setLogger(target: BanditLogger | null): void {
    this.#target = target;
    if (target === null) return;
    for (const event of this.#queue.splice(0)) this.#call(target, event, () => {});
  }

  /** Number of events waiting for a logger. */
  get queued(): number {
    return this.#queue.length;
  }

  #call(target: BanditLogger, event: BanditEvent, onReject: () => void): boolean {
    return callSandboxed(() => target.logBanditAction(event), this.#logger, 'Bandit logger', onReject);
  }
}
