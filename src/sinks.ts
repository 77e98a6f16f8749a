/**
 * saltshard/sinks: assignment and bandit loggers that deliver exposures in the background — an NDJSON file with
 * rotation, Segment's (and RudderStack's) /v1/batch, or any endpoint as JSON lines. A getter only serializes and
 * queues the event. Memory is bounded (`maxQueue` events); beyond it events spill to disk (`spillDir`, up to
 * `maxSpillBytes`) and beyond that they are dropped and counted; failed batches are retried with backoff and jitter
 * on 5xx, 429 (honouring Retry-After), 408 and network errors; close() and SIGTERM deliver within a deadline.
 * `stats()` accounts for every event: accepted = delivered + dropped + queued + persisted.
 * @module
 * @example
 * import { init } from 'saltshard';
 * import { SegmentSink } from 'saltshard/sinks';
 * const sink = new SegmentSink({ writeKey: process.env.SEGMENT_WRITE_KEY! });
 * const client = await init({ apiKey: process.env.EPPO_SDK_KEY!, assignmentLogger: sink });
 */
export { FileSink, HttpSink, SegmentSink, Sink, WebhookSink } from './sinks/sink.ts';
export type { FileSinkOptions, HttpSinkOptions, SegmentSinkOptions, WebhookSinkOptions } from './sinks/sink.ts';
export type { DropReason, QueueOptions, SinkStats } from './sinks/queue.ts';
