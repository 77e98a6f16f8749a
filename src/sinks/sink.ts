/**
 * The sinks themselves: assignment (and bandit) loggers that serialize an event, queue it and return. The NDJSON file
 * sink rotates by size and time; the HTTP sinks post batches to Segment's /v1/batch (also RudderStack's) or to any
 * endpoint as JSON lines, each event carrying a messageId so a collector can discard a retried duplicate.
 * @module
 */
import { Buffer } from 'node:buffer';
import { type FileHandle, open, rename, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import type { BanditEvent, BanditLogger } from '../bandits/events.ts';
import type { AssignmentEvent, AssignmentLogger } from '../events/logger.ts';
import { SDK_NAME, SDK_VERSION } from '../version.ts';
import { EventSerializer } from './json.ts';
import { DeliveryQueue, type QueueOptions, type SendResult, type SinkStats, type Transport, message } from './queue.ts';

/** An assignment and bandit logger that delivers in the background. */
export abstract class Sink implements AssignmentLogger, BanditLogger {
  readonly #queue: DeliveryQueue;
  readonly #json = new EventSerializer();

  /** Start the delivery queue over `transport`, with `defaults` for the batch limits that `options` leaves unset. */
  protected constructor(transport: Transport, options: QueueOptions, defaults: { batchSize: number; maxBatchBytes: number; maxEventBytes: number }) {
    this.#queue = new DeliveryQueue(transport, options, defaults);
  }

  /** The text of `JSON.stringify(event)`, serializing only what differs from earlier events (src/sinks/json.ts). */
  protected json(event: AssignmentEvent | BanditEvent): string {
    return this.#json.stringify(event);
  }

  /** Serialize one event to a single line. */
  protected abstract line(event: AssignmentEvent | BanditEvent, kind: 'assignment' | 'bandit'): string;

  /** Queue an exposure; returns at once and never throws. */
  logAssignment(event: AssignmentEvent): void {
    this.#enqueue(event, 'assignment');
  }

  /** Queue a bandit action event; returns at once and never throws. */
  logBanditAction(event: BanditEvent): void {
    this.#enqueue(event, 'bandit');
  }

  /** Resolves once every event logged before the call is delivered (or counted as dropped). */
  flush(): Promise<void> {
    return this.#queue.flush();
  }

  /** Stop, delivering what is queued within `closeTimeoutMs`; resolves with the final counters. */
  close(): Promise<SinkStats> {
    return this.#queue.close();
  }

  /** Counters: accepted = delivered + dropped + queued + persisted. */
  stats(): SinkStats {
    return this.#queue.stats();
  }

  #enqueue(event: AssignmentEvent | BanditEvent, kind: 'assignment' | 'bandit'): void {
    let text: string;
    try {
      text = this.line(event, kind);
    } catch {
      return this.#queue.invalid();
    }
    this.#queue.push(text);
  }
}

/** Options of {@link FileSink}. */
export interface FileSinkOptions extends QueueOptions {
  /** The file written to; rotated files sit beside it as `<name>.<UTC time>[.<n>]<ext>`. */
  path: string;
  /** Rotate before the file would exceed this size. Default 128 MiB. */
  rotateBytes?: number;
  /** Rotate a non-empty file this long after it was opened. Default: never by time. */
  rotateIntervalMs?: number;
  /** Told the path of each rotated (closed, complete) file, e.g. to upload it. Errors it throws are reported. */
  onRotate?: (file: string) => void;
}

/**
 * Exposures as NDJSON lines (each event as the assignment logger receives it), appended in batches.
 * @example
 * const sink = new FileSink({ path: 'exposures.ndjson', rotateBytes: 64 << 20, rotateIntervalMs: 3_600_000 });
 * const client = await init({ apiKey, assignmentLogger: sink });
 */
export class FileSink extends Sink {
  /** Create a file sink; throws TypeError without a `path`. */
  constructor(options: FileSinkOptions) {
    if (typeof options?.path !== 'string' || options.path === '') throw new TypeError('FileSink needs a path');
    super(new FileTransport(options), options, { batchSize: 8192, maxBatchBytes: 8 * 2 ** 20, maxEventBytes: Infinity });
  }

  /** Serialize the event as one JSON line. */
  protected line(event: AssignmentEvent | BanditEvent): string {
    return this.json(event);
  }
}

class FileTransport implements Transport {
  readonly #path: string;
  readonly #rotateBytes: number;
  readonly #rotateMs: number;
  readonly #onRotate: ((file: string) => void) | undefined;
  readonly #options: FileSinkOptions;
  #handle: FileHandle | null = null;
  #size = 0;
  #openedAt = 0;

  constructor(options: FileSinkOptions) {
    this.#options = options;
    this.#path = options.path;
    this.#rotateBytes = options.rotateBytes ?? 128 * 2 ** 20;
    this.#rotateMs = options.rotateIntervalMs ?? Infinity;
    this.#onRotate = options.onRotate;
    if (!(this.#rotateBytes > 0) || !(this.#rotateMs > 0)) throw new RangeError('FileSink rotateBytes and rotateIntervalMs must be positive');
  }

  send(lines: readonly string[]): Promise<SendResult> {
    return this.sendBytes(ndjson(lines));
  }

  async sendBytes(data: Uint8Array): Promise<SendResult> {
    try {
      if (this.#handle === null) await this.#open();
      if (this.#size > 0 && (this.#size + data.length > this.#rotateBytes || Date.now() - this.#openedAt >= this.#rotateMs)) await this.#rotate();
      const handle = this.#handle!;
      // A failed write after a partial one must not leave half a line: the file is cut back to its known size.
      const at = this.#size;
      try {
        let off = 0;
        while (off < data.length) off += (await handle.write(data, off, data.length - off, at + off)).bytesWritten;
      } catch (err) {
        await handle.truncate(at).catch(() => {});
        throw err;
      }
      this.#size += data.length;
      return { ok: true };
    } catch (err) {
      return { ok: false, retry: true, message: message(err) };
    }
  }

  async close(): Promise<void> {
    await this.#handle?.close();
    this.#handle = null;
  }

  async #open(): Promise<void> {
    this.#handle = await open(this.#path, 'a+');
    this.#size = (await this.#handle.stat()).size;
    this.#openedAt = Date.now();
  }

  async #rotate(): Promise<void> {
    await this.#handle!.close();
    this.#handle = null;
    const ext = extname(this.#path);
    const stem = join(dirname(this.#path), basename(this.#path, ext));
    const stamp = new Date().toISOString().replace(/:/g, '-');
    let target = `${stem}.${stamp}${ext}`;
    for (let n = 1; await exists(target); n++) target = `${stem}.${stamp}.${n}${ext}`;
    await rename(this.#path, target);
    await this.#open();
    if (this.#onRotate !== undefined) {
      try {
        this.#onRotate(target);
      } catch (err) {
        (this.#options.logger ?? console).error('FileSink onRotate threw', message(err));
      }
    }
  }
}

/**
 * The lines as UTF-8 with a newline after each, encoded straight into one buffer of the exact size: a quarter of the
 * CPU of `Buffer.from(lines.join('\n'))`, which copies the batch three times (join, flatten, encode) and leaves two
 * batch-sized strings to the garbage collector (measured 2.6 → 0.7 µs per 1.2 KB line on Node, 0.8 → 0.4 on Bun).
 */
function ndjson(lines: readonly string[]): Buffer {
  let size = lines.length;
  for (let i = 0; i < lines.length; i++) size += Buffer.byteLength(lines[i]);
  const data = Buffer.allocUnsafe(size);
  let at = 0;
  for (let i = 0; i < lines.length; i++) {
    at += data.write(lines[i], at);
    data[at++] = 10;
  }
  return data;
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

/** Options shared by the HTTP sinks. */
export interface HttpSinkOptions extends QueueOptions {
  /** Extra request headers. */
  headers?: Record<string, string>;
  /** One attempt's limit; a timeout is retried. Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** A fetch implementation (default: the global one). */
  fetch?: typeof fetch;
}

/** Options of {@link SegmentSink}. */
export interface SegmentSinkOptions extends HttpSinkOptions {
  /** Segment (or RudderStack) write key, sent as Basic auth. */
  writeKey: string;
  /** Default `https://api.segment.io/v1/batch`; RudderStack: `https://<data plane>/v1/batch`. */
  url?: string | URL;
  /** Track event names. Defaults are the names Eppo's docs use: "Eppo Randomized Assignment" and "Eppo Bandit Action". */
  assignmentEventName?: string;
  /** Track event name of bandit actions. Default "Eppo Bandit Action". */
  banditEventName?: string;
}

/** Options of {@link WebhookSink}. */
export interface WebhookSinkOptions extends HttpSinkOptions {
  /** Endpoint the JSON lines are posted to. */
  url: string | URL;
}

let sinkCount = 0;

/** A sink posting batches over HTTP; each event gets a messageId unique to this process's sink. */
export abstract class HttpSink extends Sink {
  readonly #prefix = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}${(sinkCount++).toString(36)}-`;
  #seq = 0;

  /** A message id unique to this process's sink, for the collector's dedupe. */
  protected messageId(): string {
    return this.#prefix + (this.#seq++).toString(36);
  }
}

const CONTEXT = JSON.stringify({ library: { name: SDK_NAME, version: SDK_VERSION } });

/**
 * Exposures as Segment `track` calls, posted to `/v1/batch` (Segment and RudderStack): `userId` is the subject,
 * `properties` the event, `messageId` unique per event (both services discard a repeated messageId).
 * @example
 * const sink = new SegmentSink({ writeKey: process.env.SEGMENT_WRITE_KEY! });
 */
export class SegmentSink extends HttpSink {
  readonly #assignmentName: string;
  readonly #banditName: string;

  /** Create a Segment sink; throws TypeError without a `writeKey`. */
  constructor(options: SegmentSinkOptions) {
    if (typeof options?.writeKey !== 'string' || options.writeKey === '') throw new TypeError('SegmentSink needs a writeKey');
    const auth = `Basic ${Buffer.from(`${options.writeKey}:`).toString('base64')}`;
    const transport = new HttpTransport(options.url ?? 'https://api.segment.io/v1/batch', options, 'application/json', { authorization: auth },
      (lines) => `{"batch":[${lines.join(',')}],"sentAt":"${new Date().toISOString()}"}`);
    // Segment's limits: 32 KB per event, 500 KB per batch.
    super(transport, options, { batchSize: 500, maxBatchBytes: 480_000, maxEventBytes: 32_000 });
    this.#assignmentName = options.assignmentEventName ?? 'Eppo Randomized Assignment';
    this.#banditName = options.banditEventName ?? 'Eppo Bandit Action';
  }

  /**
   * Serialize the event as a Segment `track` call: the text of `JSON.stringify` of that call, with the event (the
   * `properties`) through the sink's exact serializer; anything a hand-built envelope could get wrong (a `toJSON`
   * anywhere on the way, a subject or timestamp that is not a string) goes to `JSON.stringify` whole.
   */
  protected line(event: AssignmentEvent | BanditEvent, kind: 'assignment' | 'bandit'): string {
    const { subject, timestamp } = event as { subject: unknown; timestamp: unknown };
    const props = typeof (event as { toJSON?: unknown }).toJSON === 'function' || ({} as { toJSON?: unknown }).toJSON !== undefined ? undefined : this.json(event);
    if (props !== undefined && typeof subject === 'string' && (typeof timestamp === 'string' || timestamp === undefined)) {
      const name = kind === 'assignment' ? this.#assignmentName : this.#banditName;
      return `{"type":"track","event":${JSON.stringify(name)},"userId":${JSON.stringify(subject)},"messageId":"${this.messageId()}"${timestamp === undefined ? '' : `,"timestamp":${JSON.stringify(timestamp)}`},"properties":${props},"context":${CONTEXT}}`;
    }
    return JSON.stringify({
      type: 'track',
      event: kind === 'assignment' ? this.#assignmentName : this.#banditName,
      userId: event.subject,
      messageId: this.messageId(),
      timestamp: event.timestamp,
      properties: event,
      context: { library: { name: SDK_NAME, version: SDK_VERSION } },
    });
  }
}

/**
 * Exposures posted as JSON lines (`application/x-ndjson`), each the logged event with `type` ("assignment" or
 * "bandit") and a `messageId` added in front.
 * @example
 * const sink = new WebhookSink({ url: 'https://collector.internal/exposures', headers: { authorization: `Bearer ${token}` } });
 */
export class WebhookSink extends HttpSink {
  /** Create a webhook sink; throws TypeError without a `url`. */
  constructor(options: WebhookSinkOptions) {
    if (options?.url === undefined) throw new TypeError('WebhookSink needs a url');
    const transport = new HttpTransport(options.url, options, 'application/x-ndjson', {}, (lines) => `${lines.join('\n')}\n`);
    super(transport, options, { batchSize: 1000, maxBatchBytes: 4 * 2 ** 20, maxEventBytes: Infinity });
  }

  /** Serialize the event with `type` and `messageId` added in front. */
  protected line(event: AssignmentEvent | BanditEvent, kind: 'assignment' | 'bandit'): string {
    const json = this.json(event);
    return `{"type":"${kind}","messageId":"${this.messageId()}"${json.length > 2 ? ',' : ''}${json.slice(1)}`;
  }
}

class HttpTransport implements Transport {
  readonly #url: string;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #body: (lines: readonly string[]) => string;

  constructor(url: string | URL, options: HttpSinkOptions, contentType: string, headers: Record<string, string>, body: (lines: readonly string[]) => string) {
    this.#url = new URL(url).href;
    this.#headers = { 'content-type': contentType, 'user-agent': `${SDK_NAME}/${SDK_VERSION}`, ...headers, ...options.headers };
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#body = body;
  }

  async send(lines: readonly string[], signal: AbortSignal): Promise<SendResult> {
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), this.#timeoutMs);
    const stop = () => timeout.abort();
    signal.addEventListener('abort', stop);
    try {
      const res = await this.#fetch(this.#url, { method: 'POST', headers: this.#headers, body: this.#body(lines), signal: timeout.signal });
      // The body is read so the connection can be reused.
      await res.arrayBuffer().catch(() => {});
      if (res.ok) return { ok: true };
      const retry = res.status === 408 || res.status === 429 || res.status >= 500;
      return { ok: false, retry, message: `HTTP ${res.status}`, retryAfterMs: retryAfter(res.headers.get('retry-after')) };
    } catch (err) {
      return { ok: false, retry: true, message: timeout.signal.aborted && !signal.aborted ? `timed out after ${this.#timeoutMs} ms` : message(err) };
    } finally {
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
    }
  }
}

/** Retry-After in seconds or as an HTTP date, in ms (null when absent or unreadable). */
function retryAfter(value: string | null): number | null {
  if (value === null) return null;
  const secs = Number(value);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(value);
  return Number.isNaN(at) ? null : Math.max(0, at - Date.now());
}
