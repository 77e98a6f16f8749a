/**
 * Bandit events (eppo-spec §4.5): the event shape, the logger callback, and delivery with dedupe keyed on
 * (flag, subject) → (bandit, action), a bounded pre-logger queue, and a sandbox around the user's callback.
 * @module
 */
import type { FlagEvaluationDetails } from '../eval/details.ts';
import { Dedupe, type Logger, MAX_QUEUED_EVENTS } from '../events/logger.ts';
import { THREW, canBeThenable, invokeSandboxed, safeLogger, watchResult } from '../events/sandbox.ts';
import { type AssignmentCache, throughCustomCache } from '../events/assignment-cache.ts';
import { Counters } from '../client/metrics.ts';

/** What a bandit logger receives; Eppo's `IBanditEvent` field for field. */
export interface BanditEvent {
  /** ISO time of the evaluation. */
  timestamp: string;
  /** The flag key as requested. */
  featureFlag: string;
  /** The bandit key. */
  bandit: string;
  /** The subject key. */
  subject: string;
  /** The chosen action key, or null when none was chosen. */
  action: string | null;
  /** Probability with which the chosen action was drawn. */
  actionProbability: number | null;
  /** Score gap between the best-scoring action and the chosen one. */
  optimalityGap: number | null;
  /** Version of the bandit model that made the choice. */
  modelVersion: string;
  /** The subject's numeric attributes. */
  subjectNumericAttributes: Record<string, unknown>;
  /** The subject's categorical attributes. */
  subjectCategoricalAttributes: Record<string, unknown>;
  /** The chosen action's numeric attributes. */
  actionNumericAttributes: Record<string, unknown>;
  /** The chosen action's categorical attributes. */
  actionCategoricalAttributes: Record<string, unknown>;
  /** SDK metadata (SDK name/version, language, obfuscation). */
  metaData: Record<string, unknown>;
  /** Evaluation details of the flag, or null when not available. */
  evaluationDetails: FlagEvaluationDetails | null;
}

/** Receives bandit events. May return a promise; a throw or a rejection is caught and reported. */
export interface BanditLogger {
  /** Called with each bandit event to deliver. */
  logBanditAction(event: BanditEvent): void | Promise<unknown>;
}

/** Delivers bandit events once per new (flag, subject) → (bandit, action). */
export class BanditEventSink {
  readonly #logger: Logger;
  #target: BanditLogger | null;
  readonly #dedupe: Dedupe;
  readonly #queue: BanditEvent[] = [];
  readonly #counters: Counters;

  /**
   * @param logger the SDK's diagnostics.
   * @param target the user's bandit logger, if any (events wait for one, up to 100).
   * @param cacheSize dedupe capacity; 0 logs every draw.
   * @param counters where events logged, deduped, dropped and failed are counted (client.metrics()).
   */
  constructor(logger: Logger, target: BanditLogger | null | undefined, cacheSize: number, counters: Counters = new Counters()) {
    this.#counters = counters;
    this.#logger = safeLogger(logger);
    this.#target = target ?? null;
    this.#dedupe = new Dedupe(cacheSize);
  }

  /** Deliver (or queue) the event unless it repeats the pair's last logged (bandit, action). */
  deliver(event: BanditEvent): void {
    const flag = event.featureFlag;
    const subject = event.subject;
    const dedupe = this.#dedupe;
    if (dedupe.custom !== null) {
      const entry = { flagKey: flag, subjectKey: subject, banditKey: event.bandit, actionKey: event.action ?? '__eppo_no_action' };
      return throughCustomCache(dedupe.custom, entry, this.#logger, () => this.#deliverNow(event, () => {}), () => this.#counters.banditDeduped++);
    }
    const value = `${event.bandit.length}:${event.bandit}${event.action ?? '__eppo_no_action'}`;
    if (dedupe.cache.has(flag, subject, value)) {
      this.#counters.banditDeduped++;
      return;
    }
    const target = this.#target;
    if (target === null) {
      if (this.#queue.length < MAX_QUEUED_EVENTS) {
        this.#queue.push(event);
        dedupe.cache.set(flag, subject, value);
      } else this.#counters.banditDropped++;
      return;
    }
    if (this.#call(target, event, () => dedupe.cache.forget(flag, subject, value))) dedupe.cache.set(flag, subject, value);
  }

  /** Choose the dedupe (see {@link Dedupe.choose}). */
  setCache(cache: number | AssignmentCache): void {
    this.#dedupe.choose(cache);
  }

  #deliverNow(event: BanditEvent, onReject: () => void): boolean {
    const target = this.#target;
    if (target !== null) return this.#call(target, event, onReject);
    if (this.#queue.length >= MAX_QUEUED_EVENTS) {
      this.#counters.banditDropped++;
      return false;
    }
    this.#queue.push(event);
    return true;
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
    const counters = this.#counters;
    const result = invokeSandboxed(target, 'logBanditAction', event, this.#logger, 'Bandit logger');
    if (result === THREW) {
      counters.banditFailed++;
      return false;
    }
    counters.banditLogged++;
    if (!canBeThenable(result)) return true;
    // A thenable may reject inside `then` itself, before the caller remembers the draw as logged: then it must not
    // be remembered (false), or the event would never be retried.
    let pending = true;
    let rejectedAtOnce = false;
    watchResult(result, this.#logger, 'Bandit logger', () => {
      // A rejection: counted as failed (its call was counted as logged when it returned).
      counters.banditLogged--;
      counters.banditFailed++;
      if (pending) rejectedAtOnce = true;
      else onReject();
    });
    pending = false;
    return !rejectedAtOnce;
  }
}
