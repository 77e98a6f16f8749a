/**
 * Eppo's `EppoAssignmentLogger`: an assignment logger that sends each exposure to Eppo's own ingestion through
 * the client's `track()` (event tracking must be on), as `__eppo_assignment` events with Eppo's snake_case fields.
 * @module
 */
import type { AssignmentEvent, AssignmentLogger } from './logger.ts';

/** What {@link EppoAssignmentLogger} needs of a client: its `track` (a saltshard or an Eppo client). */
export interface Tracker {
  /** Queue an event of `type` with `payload` for delivery. */
  track(type: string, payload: Record<string, unknown>): void;
}

/**
 * Forwards exposures of flags that have an `entityId` to `client.track('__eppo_assignment', …)`; others are not sent.
 * @example
 * const client = await init({ apiKey, eventTracking: { enabled: true } });
 * client.setAssignmentLogger(new EppoAssignmentLogger(client));
 */
export class EppoAssignmentLogger implements AssignmentLogger {
  readonly #client: Tracker;

  /** @param client the client whose `track` delivers the events. */
  constructor(client: Tracker) {
    this.#client = client;
  }

  /** Send one exposure as Eppo's `__eppo_assignment` event (nothing for a flag without an `entityId`). */
  logAssignment(event: AssignmentEvent): void {
    const e = event as AssignmentEvent & { holdoutKey?: unknown; holdoutVariation?: unknown };
    if (!e.entityId) return;
    this.#client.track('__eppo_assignment', {
      entity_id: e.entityId,
      experiment: e.experiment,
      feature_flag: e.featureFlag,
      allocation: e.allocation,
      holdout_variation: e.holdoutVariation,
      holdout: e.holdoutKey,
      subject: e.subject,
      variation: e.variation,
    });
  }
}
