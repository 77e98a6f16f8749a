/**
 * Per-process counters of a client for operators: plain integer fields incremented on the paths that do the work
 * (no lookup per call), and the snapshot `client.metrics()` returns. `saltshard serve` renders the same snapshot on
 * `/metrics` (src/server/metrics.ts).
 * @module
 */
import type { SinkStats } from '../sinks/queue.ts';

/** The live counters; one object per client, shared by the getter path and the event sink. */
export class Counters {
  /** Single-flag evaluations (getters, details, `evaluate`, `getAssignmentDetail`, OFREP). */
  evaluations = 0;
  /** Getter calls that returned the caller's default because the outcome was not MATCH. */
  defaults = 0;
  /** Getter calls whose outcome was ASSIGNMENT_ERROR. */
  errors = 0;
  /** Cells evaluated by `assignMany` / `assignColumns`. */
  batchEvaluations = 0;
  /** Exposure events handed to the assignment logger. */
  exposuresLogged = 0;
  /** Exposures not logged because the dedupe cache had them already. */
  exposuresDeduped = 0;
  /** Exposures dropped: no logger set and the pre-logger queue (100) full. */
  exposuresDropped = 0;
  /** Exposure events the assignment logger threw on or rejected. */
  exposuresFailed = 0;
  /** Bandit events handed to the bandit logger. */
  banditLogged = 0;
  /** Bandit events not logged because the bandit dedupe cache had them. */
  banditDeduped = 0;
  /** Bandit events dropped: no bandit logger set and 100 already waiting. */
  banditDropped = 0;
  /** Bandit events the bandit logger threw on or rejected. */
  banditFailed = 0;
}

/** What {@link SaltshardClient.metrics} returns: a plain object, safe to serialize. */
export interface ClientMetrics {
  /** Single-flag evaluations since the client was made. */
  evaluations: number;
  /** Getter calls that returned the default value. */
  defaults: number;
  /** Getter calls that ended in ASSIGNMENT_ERROR. */
  errors: number;
  /** Cells evaluated in batches. */
  batchEvaluations: number;
  /** Exposure events: handed to the logger, deduped, dropped, failed in the logger, waiting for a logger. */
  exposures: { logged: number; deduped: number; dropped: number; failed: number; pending: number };
  /** Bandit action events, counted as exposures are. */
  banditEvents: { logged: number; deduped: number; dropped: number; failed: number; pending: number };
  /** The assignment logger's own counters when it is a saltshard sink (saltshard/sinks), else null. */
  sink: SinkStats | null;
  /** `track()` events (null when event tracking is off): accepted, delivered, dropped, queued. */
  tracking: { accepted: number; delivered: number; dropped: number; queued: number } | null;
  /** The configuration in force: loaded, flags, age in seconds since loaded or confirmed by a poll (null before one). */
  config: { loaded: boolean; flags: number; ageSeconds: number | null; source: string };
  /** Config polls of a live client (null for offline clients). */
  polling: { requests: number; failures: number; consecutiveFailures: number; lastStatus: number | null } | null;
}

/** A sink's counters when `logger` looks like a saltshard sink (it has `stats()`); null otherwise or if it throws. */
export function sinkStats(logger: unknown): SinkStats | null {
  const stats = (logger as { stats?: unknown } | null)?.stats;
  if (typeof stats !== 'function') return null;
  try {
    const s = stats.call(logger) as SinkStats;
    return typeof s === 'object' && s !== null && typeof s.queued === 'number' ? s : null;
  } catch {
    return null;
  }
}
