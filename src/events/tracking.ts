/**
 * Eppo's event tracking (`client.track(type, payload)`, `setContext`, init option `eventTracking`): events
 * `{ uuid, type, timestamp, payload }` posted in batches as `{ eppo_events, context }` with the `x-eppo-token` header to
 * the ingestion URL the SDK key names (or `eventTracking.ingestionUrl`). Delivery is the sinks' queue
 * (src/sinks/queue.ts): bounded memory, then disk, batching, retries with backoff and jitter, flush on close() and
 * SIGTERM within a deadline. Uuids the collector lists in `failed_events` go back to the queue. `track` never throws.
 * @module
 */
import { decodeBase64 } from '../config/encoding.ts';
import { DeliveryQueue, type SendResult, type SinkStats, type Transport, message } from '../sinks/queue.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';
import type { Logger } from './logger.ts';

/** Eppo's `eventTracking` init option, plus where to deliver and how long close() may take. */
export interface EventTrackingOptions {
  /** Turn tracking on. Default false (then `track` discards events, with one warning). */
  enabled?: boolean;
  /** Events per delivery request, clamped to 100–10 000 as Eppo does. Default 1000. */
  batchSize?: number;
  /** A partial batch is delivered after this long. Default 10 000 ms. */
  deliveryIntervalMs?: number;
  /** Events held in memory; beyond it they spill to a temporary directory, then are dropped and counted. Default 10 000. */
  maxQueueSize?: number;
  /** Failed retries of a batch before it goes back to the queue for the next delivery round. Default 3. */
  maxRetries?: number;
  /** Longest wait between retries. Default 30 000 ms. */
  maxRetryDelayMs?: number;
  /** First wait before a retry; doubles per attempt (each drawn in [½, 1] of it). Default 5000 ms. */
  retryIntervalMs?: number;
  /** saltshard: where to post; default the ingestion host encoded in the SDK key (`eh=`, or `cs=` under e.eppo.cloud). */
  ingestionUrl?: string;
  /** saltshard: how long close() (and SIGTERM) may spend delivering. Default 5000 ms. */
  closeTimeoutMs?: number;
}

/** The option names of {@link EventTrackingOptions}. */
export const EVENT_TRACKING_OPTIONS: readonly string[] = [
  'enabled', 'batchSize', 'deliveryIntervalMs', 'maxQueueSize', 'maxRetries', 'maxRetryDelayMs', 'retryIntervalMs', 'ingestionUrl', 'closeTimeoutMs',
];

/** A context value (Eppo's `attachContext`). */
export type ContextValue = string | number | boolean | null;

/** Eppo's tracked `Event`: what `track(type, payload)` hands to the dispatcher. */
export interface TrackedEvent {
  /** A random UUID per event. */
  uuid: string;
  /** The event type given to `track`. */
  type: string;
  /** Epoch milliseconds of the `track` call. */
  timestamp: number;
  /** The payload given to `track`. */
  payload: Record<string, unknown>;
}

/** Eppo's `EventDispatcher` interface, for `setEventDispatcher`: where `track` and `setContext` go. */
export interface TrackingDispatcher {
  /** Queue an event for delivery. */
  dispatch(event: TrackedEvent): void;
  /** Set a context entry sent with every later batch. */
  attachContext(key: string, value: ContextValue): void;
}

/** Eppo's `NO_OP_EVENT_DISPATCHER`: discards events and context. */
export const NO_OP_EVENT_DISPATCHER: TrackingDispatcher = Object.freeze({ dispatch() {}, attachContext() {} });

/** The event `track(type, payload)` dispatches, as Eppo builds it. */
export function trackedEvent(type: string, payload: Record<string, unknown>): TrackedEvent {
  return { uuid: newId(), type, timestamp: Date.now(), payload };
}

/** Eppo's limits: 4096 characters per serialized event, 2048 for the serialized context. */
const MAX_EVENT_CHARS = 4096;
const MAX_CONTEXT_CHARS = 2048;
const EVENT_PATH = '/v0/i';
const DEFAULT_EVENT_DOMAIN = 'e.eppo.cloud';

/**
 * The ingestion URL an SDK key encodes (Eppo's rule): `eh=<host>` from the key's base64 part, with `https://` unless
 * it has a scheme, plus `/v0/i`; else `cs=<subdomain>` under e.eppo.cloud; else null.
 */
export function ingestionUrlFromKey(sdkKey: string): string | null {
  const dot = sdkKey.indexOf('.');
  if (dot < 0) return null;
  let params: URLSearchParams;
  try {
    params = new URLSearchParams(decodeBase64(sdkKey.slice(dot + 1)));
  } catch {
    return null;
  }
  const host = params.get('eh') || null;
  const sub = params.get('cs') || null;
  let url: string;
  if (host !== null) url = `${host.trim().replace(/\/+$/, '')}${EVENT_PATH}`;
  else if (sub !== null) url = `${sub.trim()}.${DEFAULT_EVENT_DOMAIN}${EVENT_PATH}`;
  else return null;
  if (!/^(https?:\/\/|\/\/)/i.test(url)) url = `https://${url}`;
  try {
    return new URL(url).href;
  } catch {
    return null;
  }
}

/** Counters of the dispatcher (a subset of the queue's {@link SinkStats}). */
export interface TrackingStats {
  /** Events passed to `track`. */
  accepted: number;
  /** Events the collector ingested. */
  delivered: number;
  /** Events given up (too large, unserializable, overflow, deadline), never silently. */
  dropped: number;
  /** Events waiting. */
  queued: number;
}

/** Batches `track()` events to Eppo's ingestion endpoint. */
export class EventDispatcher implements TrackingDispatcher {
  readonly #queue: DeliveryQueue;
  readonly #context: Record<string, ContextValue> = {};

  /**
   * @param sdkKey sent as `x-eppo-token`.
   * @param url the ingestion endpoint.
   * @throws {RangeError} for invalid numbers in `options`.
   */
  constructor(sdkKey: string, url: string, options: EventTrackingOptions, logger: Logger, fetchFn: typeof fetch = globalThis.fetch) {
    const batchSize = Math.max(100, Math.min(10_000, options.batchSize ?? 1000));
    const transport = new IngestionTransport(url, sdkKey, () => this.#context, fetchFn);
    this.#queue = new DeliveryQueue(transport, {
      batchSize,
      flushIntervalMs: options.deliveryIntervalMs ?? 10_000,
      maxQueue: options.maxQueueSize ?? 10_000,
      maxRetries: options.maxRetries ?? 3,
      retryBaseMs: options.retryIntervalMs ?? 5000,
      retryMaxMs: options.maxRetryDelayMs ?? 30_000,
      closeTimeoutMs: options.closeTimeoutMs ?? 5000,
      logger,
    }, { batchSize, maxBatchBytes: 64 * 2 ** 20, maxEventBytes: MAX_EVENT_CHARS });
  }

  /** Queue one event; never throws (an event over 4096 characters or not serializable is dropped and counted). */
  dispatch(event: TrackedEvent): void {
    // Drops are counted by the queue, which warns at most once a minute. The uuid goes first (see uuidOf).
    let line: string;
    try {
      line = JSON.stringify({ uuid: String(event.uuid), type: String(event.type), timestamp: event.timestamp, payload: event.payload });
    } catch {
      return this.#queue.invalid();
    }
    this.#queue.push(line);
  }

  /**
   * Eppo's `attachContext`: a value sent as `context[key]` with every later batch (null keeps the key, as null).
   * @throws {TypeError} for an object or array value; {RangeError} when the serialized context would exceed 2048 characters.
   */
  attachContext(key: string, value: ContextValue): void {
    if (value && typeof value === 'object') throw new TypeError('Context value must be a string, number, boolean, or null');
    if (value && JSON.stringify({ ...this.#context, [key]: value }).length > MAX_CONTEXT_CHARS) {
      throw new RangeError(`The total context size must be less than ${MAX_CONTEXT_CHARS} characters`);
    }
    this.#context[key] = value;
  }

  /** Resolves once every event tracked before the call is delivered or counted as dropped. */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Deliver what is queued within `closeTimeoutMs`, then stop; resolves with the counters. */
  async close(): Promise<TrackingStats> {
    return pick(await this.#queue.close());
  }

  /** The counters. */
  stats(): TrackingStats {
    return pick(this.#queue.stats());
  }
}

function pick(s: SinkStats): TrackingStats {
  return { accepted: s.accepted, delivered: s.delivered, dropped: s.dropped, queued: s.queued + s.persisted };
}

/** Posts `{ eppo_events, context }` as Eppo's SDK does; uuids listed in `failed_events` are handed back for a retry. */
class IngestionTransport implements Transport {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #context: () => Record<string, ContextValue>;
  readonly #fetch: typeof fetch;

  constructor(url: string, sdkKey: string, context: () => Record<string, ContextValue>, fetchFn: typeof fetch) {
    this.#url = url;
    this.#headers = { 'content-type': 'application/json', 'x-eppo-token': sdkKey, 'user-agent': `${SDK_NAME}/${SDK_VERSION}` };
    this.#context = context;
    this.#fetch = fetchFn;
  }

  async send(lines: readonly string[], signal: AbortSignal): Promise<SendResult> {
    const timeout = AbortSignal.any ? AbortSignal.any([signal, AbortSignal.timeout(10_000)]) : signal;
    try {
      const body = `{"eppo_events":[${lines.join(',')}],"context":${JSON.stringify(this.#context())}}`;
      const res = await this.#fetch(this.#url, { method: 'POST', headers: this.#headers, body, signal: timeout });
      const text = await res.text().catch(() => '');
      if (!res.ok) {
        const retry = res.status === 408 || res.status === 429 || res.status >= 500;
        return { ok: false, retry, message: `HTTP ${res.status}` };
      }
      let failed: unknown;
      try {
        failed = text === '' ? undefined : (JSON.parse(text) as { failed_events?: unknown })?.failed_events;
      } catch {
        failed = undefined;
      }
      if (!Array.isArray(failed) || failed.length === 0) return { ok: true };
      const ids = new Set(failed.map(String));
      return { ok: true, requeue: lines.filter((l) => ids.has(uuidOf(l))) };
    } catch (err) {
      return { ok: false, retry: true, message: message(err) };
    }
  }
}

/** The uuid of a serialized event (it is the first field). */
function uuidOf(line: string): string {
  const end = line.indexOf('"', 9);
  return line.slice(9, end);
}

function newId(): string {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
}
