/**
 * The saltshard HTTP server as one Hono app, with nothing runtime-specific (src/server/serve.ts mounts it on
 * Bun, Deno or Node). Endpoints: OFREP v0.3 single and bulk evaluation, batch assignment, an Eppo-compatible
 * config relay, health, readiness, Prometheus metrics and an OpenAPI document.
 * Hardening (reliability-plan §5.4): bearer-token auth compared in constant time over SHA-256 digests, body-size
 * limits (413 JSON), request deadlines (504 JSON), bounded batches, a CORS allowlist that is empty by default,
 * request ids echoed in `X-Request-Id`, one JSON access-log line per request (no bodies, no query strings, no
 * credentials), and JSON errors `{errorCode, errorDetails}` that never carry stack traces or keys.
 * @module
 * @example
 * const server = createApp({ client: offlineInit({ flagsConfiguration: json }) });
 * const res = await server.fetch(new Request('http://x/healthz'));
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { type Context, Hono, type MiddlewareHandler } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { SaltshardClient } from '../client.ts';
import type { CompiledConfig } from '../config/compile.ts';
import type { Logger } from '../events/logger.ts';
import { safeLogger } from '../events/sandbox.ts';
import type { SyncStatus } from '../live/sync.ts';
import { classifyOutcome, flatten, outcomeMetadata } from '../outcome.ts';
import { SDK_VERSION } from '../version.ts';
import { BodyWatch, type IncomingLike, readIncoming, readStream, tooLargeError } from './body.ts';
import { Metrics, clientSamples } from './metrics.ts';
import { openApiDocument } from './openapi.ts';
import { ConfigFeed, registerPushRoutes } from './push.ts';

/** Options of {@link createApp}. */
export interface AppOptions {
  /** The client whose config is served (offline, file-backed or live). */
  client: SaltshardClient;
  /** When set, OFREP, batch and relay requests need it (Bearer, X-API-Key for OFREP, `apiKey` for the relay). */
  token?: string | null;
  /** Origins allowed by CORS; empty (the default) sends no CORS headers at all. Never `*`. */
  corsOrigins?: readonly string[];
  /** Access-log lines (one JSON text per request) go to `info`; unexpected errors to `error`. */
  logger?: Logger;
  /** The live client's polling interval; /readyz needs a successful poll within 3 of them. Default 30 000. */
  pollingIntervalMs?: number;
  /** Largest OFREP request body, bytes. Default 65 536. */
  ofrepBodyLimit?: number;
  /** Largest batch request body, bytes. Default 1 048 576. */
  batchBodyLimit?: number;
  /** Most subjects × flags in one batch request. Default 10 000. */
  maxBatchEvaluations?: number;
  /** Most subjects in one batch request. Default 1 000. */
  maxBatchSubjects?: number;
  /** Deadline for an API request's body to arrive, from the request's start (504 after it, and the connection is closed). Default 10 000 ms. */
  requestTimeoutMs?: number;
  /** Longest pause in a request body before the request is refused (408, connection closed). Default 5 000 ms. */
  bodyTimeoutMs?: number;
  /** Clock, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** SSE heartbeat interval of /v1/config/stream (src/server/push.ts). Default 15 000 ms. */
  pushHeartbeatMs?: number;
}

/** What {@link createApp} returns: the Hono app plus the state that graceful shutdown needs. */
export interface ServerApp {
  /** The Hono app. */
  readonly app: Hono;
  /** `app.fetch`, bound; `env` is the adapter's (from @hono/node-server: `{ incoming, outgoing }`). */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** The Prometheus registry served at /metrics. */
  readonly metrics: Metrics;
  /** Config push to relay clients (SSE and long-poll). */
  readonly feed: ConfigFeed;
  /** Requests being handled now. */
  readonly inFlight: number;
  /** True once shutdown began (/readyz answers 503). */
  readonly draining: boolean;
  /** Begin shutdown: /readyz turns 503. Stopping the listener is the adapter's job (serve.ts). */
  beginShutdown(): void;
  /** Resolves when no request is in flight. */
  idle(): Promise<void>;
  /** Readiness as /readyz reports it. */
  readiness(): { ready: boolean; reason: string };
  /** @internal The handlers shared with the fast paths (src/server/fast-path.ts). */
  readonly core: AppCore;
}

type Env = { Variables: { requestId: string; bodyLimit: number; started: number } };

const OFREP_SINGLE_ROUTE = '/ofrep/v1/evaluate/flags/{key}';
const OFREP_SINGLE_PREFIX = '/ofrep/v1/evaluate/flags/';
const KNOWN_ROUTES = new Set(['/ofrep/v1/evaluate/flags', '/v1/assign/batch', '/api/flag-config/v1/config', '/v1/config/stream', '/v1/config/poll', '/healthz', '/readyz', '/metrics', '/openapi.json']);
const encoder = new TextEncoder();

/**
 * Build the app.
 * @throws {TypeError | RangeError} for invalid options.
 */
export function createApp(options: AppOptions): ServerApp {
  const client = options.client;
  if (client === null || typeof client !== 'object' || typeof client.resolve !== 'function') throw new TypeError('createApp needs options.client: a saltshard client');
  const token = options.token ?? null;
  if (token !== null && (typeof token !== 'string' || token.trim() === '')) throw new TypeError('token must be a non-empty string');
  const corsOrigins = [...(options.corsOrigins ?? [])];
  if (corsOrigins.some((o) => typeof o !== 'string' || o === '*' || o.trim() === '')) throw new TypeError('corsOrigins must list explicit origins (no "*")');
  // Access logs only when the logger has `info`; the user's logger never breaks a request (src/events/sandbox.ts).
  const accessLog = hasInfo(options.logger);
  const logger = options.logger ? safeLogger(options.logger) : undefined;
  const now = options.now ?? Date.now;
  const pollingIntervalMs = positive('pollingIntervalMs', options.pollingIntervalMs, 30_000);
  const ofrepBodyLimit = positive('ofrepBodyLimit', options.ofrepBodyLimit, 64 * 1024);
  const batchBodyLimit = positive('batchBodyLimit', options.batchBodyLimit, 1024 * 1024);
  const maxBatchEvaluations = positive('maxBatchEvaluations', options.maxBatchEvaluations, 10_000);
  const maxBatchSubjects = positive('maxBatchSubjects', options.maxBatchSubjects, 1_000);
  const requestTimeoutMs = positive('requestTimeoutMs', options.requestTimeoutMs, 10_000);
  const bodyTimeoutMs = positive('bodyTimeoutMs', options.bodyTimeoutMs, 5_000);

  const metrics = new Metrics();
  let inFlight = 0;
  let draining = false;
  let idleWaiters: (() => void)[] = [];
  const relayCache = new WeakMap<CompiledConfig, { text: string; etag: string }>();

  const readiness = (): { ready: boolean; reason: string } => {
    if (draining) return { ready: false, reason: 'shutting down' };
    if (!client.isInitialized()) return { ready: false, reason: 'no flag configuration loaded yet' };
    const sync = client.syncStatus() as SyncStatus | null;
    if (sync !== null) {
      if (sync.lastSuccessAt === null) return { ready: false, reason: 'serving a cached configuration; no successful fetch yet' };
      const age = now() - sync.lastSuccessAt;
      if (age > 3 * pollingIntervalMs) return { ready: false, reason: `configuration is stale: last successful fetch ${Math.round(age / 1000)} s ago` };
    }
    return { ready: true, reason: 'ok' };
  };

  const app = new Hono<Env>();

  // One request's bookkeeping, shared by the Hono chain and the fast paths (src/server/fast-path.ts).
  const begin = (headerId: string | undefined): string => {
    inFlight++;
    return requestIdFrom(headerId);
  };
  const finish = (method: string, path: string, status: number, started: number, id: string): void => {
    const seconds = (performance.now() - started) / 1000;
    const route = path.startsWith(OFREP_SINGLE_PREFIX) ? OFREP_SINGLE_ROUTE : KNOWN_ROUTES.has(path) ? path : 'other';
    metrics.observeRequest(route, method, status, seconds);
    if (accessLog) {
      logger!.info!(JSON.stringify({
        time: new Date().toISOString(), level: 'info', msg: 'request', requestId: id,
        method, route, path: path.length > 256 ? `${path.slice(0, 256)}…` : path, status, durationMs: Math.round(seconds * 1e6) / 1e3,
      }));
    }
    inFlight--;
    if (inFlight === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const w of waiters) w();
    }
  };
  const errorReply = (err: unknown): Reply => {
    if (err instanceof HTTPException) {
      const status = err.status;
      // The rest of the request body may still be on its way: the connection cannot be reused.
      if (status === 504) return json(504, { errorCode: 'TIMEOUT', errorDetails: `request not handled within ${requestTimeoutMs} ms` }, CLOSE);
      if (status === 413) return json(413, { errorCode: 'PAYLOAD_TOO_LARGE', errorDetails: err.message || 'request body too large' }, CLOSE);
      if (status === 408) return json(408, { errorCode: 'REQUEST_TIMEOUT', errorDetails: err.message }, CLOSE);
      return json(status, { errorCode: status >= 500 ? 'GENERAL' : 'INVALID_REQUEST', errorDetails: err.message || 'request refused' });
    }
    logger?.error('saltshard server: unexpected error', `${(err as Error)?.name ?? 'Error'}: ${(err as Error)?.message ?? String(err)}`);
    return json(500, { errorCode: 'GENERAL', errorDetails: 'internal error' });
  };
  // Request bodies: a Content-Length over the route's limit is refused at once (413); otherwise bytes are counted
  // as they arrive, and one watchdog for all requests answers 408 when a body pauses for bodyTimeoutMs and 504
  // when the request is not read within requestTimeoutMs (the handlers after the body are synchronous).
  const watch = new BodyWatch(bodyTimeoutMs, requestTimeoutMs);

  const ofrepSingle = (key: string, body: JsonBody): Reply => {
    const parsed = parseOfrepRequest(body);
    if ('errorCode' in parsed) return json(400, { key, ...parsed });
    if (!client.isInitialized()) return notReady(key);
    const r = evaluateOfrep(client, key, parsed.subjectKey, parsed.attributes);
    metrics.countEvaluations('ofrep', r.reason);
    return json(r.status, r.body);
  };
  // Every flag, with an ETag over the response body (hono/etag ignores POST).
  const ofrepBulk = (body: JsonBody, ifNoneMatch: string | undefined): Reply => {
    const parsed = parseOfrepRequest(body);
    if ('errorCode' in parsed) return json(400, parsed);
    if (!client.isInitialized()) return notReady();
    const flags = client.getFlagKeys().map((key) => {
      const r = evaluateOfrep(client, key, parsed.subjectKey, parsed.attributes);
      metrics.countEvaluations('ofrep', r.reason);
      return r.body;
    });
    const text = JSON.stringify({ flags, metadata: { environment: client.getConfiguration()?.environmentName ?? '' } });
    const etag = `"${bytesToHex(sha256(encoder.encode(text))).slice(0, 32)}"`;
    if (etagMatches(ifNoneMatch, etag)) return { status: 304, body: null, headers: { etag, 'cache-control': 'no-cache' } };
    return { status: 200, body: text, headers: { etag, 'cache-control': 'no-cache', 'content-type': 'application/json; charset=utf-8' } };
  };
  const ofrepAuth = authenticator(token, { header: true, query: false });
  const core: AppCore = { begin, finish, errorReply, ofrepAuth, ofrepSingle, ofrepBulk, ofrepBodyLimit, watch, cors: corsOrigins.length > 0 };

  // Outermost: request id, in-flight tracking, metrics and the access log around everything else.
  app.use('*', async (c, next) => {
    const started = performance.now();
    const id = begin(c.req.header('x-request-id'));
    c.set('requestId', id);
    c.set('started', started);
    c.header('X-Request-Id', id);
    try {
      await next();
    } finally {
      finish(c.req.method, c.req.path, c.res.status, started, id);
    }
  });

  if (corsOrigins.length > 0) {
    const policy = cors({
      origin: corsOrigins,
      allowMethods: ['GET', 'POST', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'Authorization', 'X-API-Key', 'If-None-Match', 'X-Request-Id'],
      exposeHeaders: ['ETag', 'X-Request-Id'],
      maxAge: 600,
    });
    for (const path of ['/ofrep/*', '/v1/*', '/api/*']) app.use(path, policy);
  }

  app.use('/ofrep/*', authenticate(ofrepAuth), limitBody(ofrepBodyLimit));
  app.use('/v1/assign/*', authenticate(authenticator(token, { header: false, query: false })), limitBody(batchBodyLimit));
  const relayAuth = authenticate(authenticator(token, { header: false, query: true }));
  app.use('/api/*', relayAuth);
  // Push routes hold requests open by design: authenticated like the relay.
  const feed = new ConfigFeed(client, { heartbeatMs: options.pushHeartbeatMs });
  app.use('/v1/config/*', relayAuth);
  registerPushRoutes(app as unknown as Hono, feed);

  const readJson = async (c: Context<Env>): Promise<JsonBody> => parseJson(await readBody(c, watch));

  app.post('/ofrep/v1/evaluate/flags/:key{.+}', async (c) => send(c, ofrepSingle(c.req.param('key'), await readJson(c))));
  app.post('/ofrep/v1/evaluate/flags', async (c) => send(c, ofrepBulk(await readJson(c), c.req.header('if-none-match'))));

  // Batch assignment: subjects × flags, rows as `saltshard assign` prints them.
  app.post('/v1/assign/batch', async (c) => {
    const body = await readJson(c);
    if ('error' in body) return c.json({ errorCode: 'PARSE_ERROR', errorDetails: body.error }, 400);
    const batch = parseBatch(body.value, client, maxBatchSubjects, maxBatchEvaluations);
    if ('errorCode' in batch) return c.json({ errorCode: batch.errorCode, errorDetails: batch.errorDetails }, batch.status);
    if (!client.isInitialized()) return send(c, notReady());
    // One batch through the batch engine (no exposure events: this endpoint serves bulk lookups).
    const result = client.assignMany(batch.subjects, batch.flags, { log: 'none' });
    const rows = [...result.rows()];
    const counts = new Map<string, number>();
    for (const row of rows) counts.set(row.reason, (counts.get(row.reason) ?? 0) + 1);
    for (const [reason, n] of counts) metrics.countEvaluations('batch', reason, n);
    return c.json({ assignments: rows });
  });

  // Eppo-compatible config relay: Eppo SDKs can use http://host:port/api as their baseUrl.
  app.get('/api/flag-config/v1/config', (c) => {
    const config = client.getConfiguration();
    if (config === null) return send(c, notReady());
    let entry = relayCache.get(config);
    if (entry === undefined) {
      const text = client.getFlagsConfiguration() ?? '{}';
      entry = { text, etag: `"${bytesToHex(sha256(encoder.encode(text))).slice(0, 32)}"` };
      relayCache.set(config, entry);
    }
    c.header('ETag', entry.etag);
    c.header('Cache-Control', 'no-cache');
    if (etagMatches(c.req.header('if-none-match'), entry.etag)) return c.body(null, 304);
    return c.body(entry.text, 200, { 'Content-Type': 'application/json; charset=utf-8' });
  });

  app.get('/healthz', (c) => c.json({ status: 'ok' }));

  app.get('/readyz', (c) => {
    const r = readiness();
    if (!r.ready) return c.json({ errorCode: 'NOT_READY', errorDetails: r.reason }, 503);
    const config = client.getConfiguration();
    return c.json({ status: 'ready', flags: config?.flags.size ?? 0, environment: config?.environmentName ?? '' });
  });

  app.get('/metrics', (c) => c.body(metrics.render([...configGauges(client, now, readiness().ready, 3 * pollingIntervalMs), ...feedGauges(feed), ...clientSamples(client.metrics())]), 200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' }));

  const openapi = JSON.stringify(openApiDocument(SDK_VERSION));
  app.get('/openapi.json', (c) => c.body(openapi, 200, { 'Content-Type': 'application/json; charset=utf-8' }));

  app.notFound((c) => c.json({ errorCode: 'NOT_FOUND', errorDetails: `no route for ${c.req.method} ${c.req.path.slice(0, 256)}` }, 404));

  app.onError((err, c) => send(c, errorReply(err)));

  return {
    app: app as unknown as Hono,
    fetch: (request: Request, env?: unknown) => app.fetch(request, env),
    metrics,
    feed,
    get inFlight() {
      return inFlight;
    },
    get draining() {
      return draining;
    },
    beginShutdown() {
      draining = true;
      feed.close();
    },
    idle() {
      return inFlight === 0 ? Promise.resolve() : new Promise<void>((resolve) => idleWaiters.push(resolve));
    },
    readiness,
    core,
  };
}

function hasInfo(logger: Logger | undefined): boolean {
  try {
    return typeof logger?.info === 'function';
  } catch {
    return false;
  }
}

function positive(name: string, value: unknown, fallback: number): number {
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be a positive number`);
  return value;
}

/** A response as the shared handlers make it; the Hono routes and the node:http fast path both send it as is. */
export interface Reply {
  status: number;
  /** The body text (JSON), or null (304). */
  body: string | null;
  /** Headers, Content-Type included when there is a body. */
  headers: Readonly<Record<string, string>>;
}

/** A request body parsed as JSON (an empty body is `{}`), or why it could not be. */
export type JsonBody = { value: unknown } | { error: string };

/**
 * The request handling that the Hono app and the fast paths (src/server/fast-path.ts) share, so the two
 * answer byte for byte alike. Internal to the server.
 */
export interface AppCore {
  /** A request starts: counted in flight; returns its request id (the client's `X-Request-Id` when valid). */
  begin(headerId: string | undefined): string;
  /** A request ends: in-flight count, metrics, access log. `started` is performance.now() at its start. */
  finish(method: string, path: string, status: number, started: number, requestId: string): void;
  /** The reply to an error thrown while handling (HTTPException or unexpected). */
  errorReply(err: unknown): Reply;
  /** OFREP auth: null when allowed, else the 400/401 reply. */
  ofrepAuth(authorization: string | undefined, apiKey: string | undefined, queryKey: string | undefined): Reply | null;
  ofrepSingle(key: string, body: JsonBody): Reply;
  ofrepBulk(body: JsonBody, ifNoneMatch: string | undefined): Reply;
  readonly ofrepBodyLimit: number;
  readonly watch: BodyWatch;
  /** True when CORS origins are configured (the fast path then leaves requests with an Origin to Hono). */
  readonly cors: boolean;
}

const JSON_TYPE = 'application/json';
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': JSON_TYPE });
const CLOSE: Readonly<Record<string, string>> = Object.freeze({ 'content-type': JSON_TYPE, connection: 'close' });

function json(status: number, value: unknown, headers: Readonly<Record<string, string>> = JSON_HEADERS): Reply {
  return { status, body: JSON.stringify(value), headers };
}

function send(c: Context, r: Reply): Response {
  for (const name in r.headers) c.header(name, r.headers[name]);
  return r.body === null ? c.body(null, r.status as 304) : c.body(r.body, r.status as 200);
}

/** The client's request id when it is 1–255 characters of [A-Za-z0-9_=-], else a new UUID (as hono/request-id). */
export function requestIdFrom(header: string | undefined): string {
  return header && header.length <= 255 && !/[^\w\-=]/.test(header) ? header : crypto.randomUUID();
}

/**
 * Bearer-token auth (also `X-API-Key` for OFREP, `apiKey` query for the relay). Tokens are compared as SHA-256
 * digests in constant time, so neither the length nor the content of the token leaks through timing.
 */
function authenticator(token: string | null, accept: { header: boolean; query: boolean }): AppCore['ofrepAuth'] {
  if (token === null) return () => null;
  const expected = sha256(encoder.encode(token));
  return (authorization, apiKey, queryKey) => {
    const candidates: string[] = [];
    let malformed = false;
    if (authorization !== undefined) {
      const m = /^Bearer +([\x21-\x7e]+) *$/i.exec(authorization);
      if (m) candidates.push(m[1]);
      else malformed = true;
    }
    if (accept.header && apiKey !== undefined) candidates.push(apiKey);
    if (accept.query && queryKey !== undefined) candidates.push(queryKey);
    let ok = false;
    for (const candidate of candidates) if (digestEqual(sha256(encoder.encode(candidate)), expected)) ok = true;
    if (ok) return null;
    if (candidates.length === 0 && malformed) {
      return json(400, { errorCode: 'INVALID_REQUEST', errorDetails: 'the Authorization header must be "Bearer <token>"' }, { 'www-authenticate': 'Bearer error="invalid_request"', ...JSON_HEADERS });
    }
    const challenge = candidates.length === 0 ? 'Bearer realm="saltshard"' : 'Bearer error="invalid_token"';
    return json(401, { errorCode: 'UNAUTHORIZED', errorDetails: candidates.length === 0 ? 'a bearer token is required' : 'the token is not valid' }, { 'www-authenticate': challenge, ...JSON_HEADERS });
  };
}

function authenticate(check: AppCore['ofrepAuth']): MiddlewareHandler {
  return (c, next) => {
    const denied = check(c.req.header('authorization'), c.req.header('x-api-key'), c.req.query('apiKey'));
    return denied === null ? next() : Promise.resolve(send(c, denied));
  };
}

function digestEqual(a: Uint8Array, b: Uint8Array): boolean {
  let diff = a.length ^ b.length;
  for (let i = 0; i < a.length && i < b.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** If-None-Match against a strong ETag: a list of tags, weak or not, or `*`. */
function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * The body-size limit of a route: a Content-Length over it is refused at once (413); a body without one (chunked)
 * is counted while it streams in (src/server/body.ts). Hono's bodyLimit middleware made @hono/node-server build a
 * full web Request and stream per request (Node: 25.0k → 9.4k req/s on a bare route); this reads node:http's
 * IncomingMessage directly.
 */
function limitBody(limit: number): MiddlewareHandler<Env> {
  return (c, next) => {
    const length = c.req.header('content-length');
    if (length !== undefined && Number(length) > limit) throw tooLargeError(limit);
    c.set('bodyLimit', limit);
    return next();
  };
}

/** The request body as text, at most the route's limit, within the app's idle and deadline timeouts. */
function readBody(c: Context<Env>, watch: BodyWatch): Promise<string> {
  const limit = c.get('bodyLimit') ?? Infinity;
  const started = c.get('started');
  const incoming = (c.env as { incoming?: IncomingLike } | undefined)?.incoming;
  if (incoming !== undefined && typeof incoming.on === 'function') {
    return new Promise((resolve, reject) => readIncoming(incoming, limit, started, watch, (err, text) => (err ? reject(err) : resolve(text))));
  }
  const body = c.req.raw.body;
  return body === null ? Promise.resolve('') : readStream(body, limit, started, watch);
}

/** Request body text → JSON; an empty body is `{}`. */
export function parseJson(text: string): JsonBody {
  if (text.trim() === '') return { value: {} };
  try {
    return { value: JSON.parse(text) };
  } catch (err) {
    return { error: `request body is not valid JSON (${(err as Error).message.slice(0, 200)})` };
  }
}

function notReady(key?: string): Reply {
  return json(503, { ...(key === undefined ? {} : { key }), errorCode: 'PROVIDER_NOT_READY', errorDetails: 'no flag configuration loaded yet' }, { 'retry-after': '1', ...JSON_HEADERS });
}

type OfrepRequest = { subjectKey: string; attributes: Record<string, unknown> } | { errorCode: string; errorDetails: string };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An OFREP request body → subject key and flattened attributes, or the 400 error naming the field. */
function parseOfrepRequest(body: { value: unknown } | { error: string }): OfrepRequest {
  if ('error' in body) return { errorCode: 'PARSE_ERROR', errorDetails: body.error };
  const doc = body.value;
  if (!isObject(doc)) return { errorCode: 'INVALID_CONTEXT', errorDetails: 'request body must be a JSON object {"context": {...}}' };
  const context = Object.hasOwn(doc, 'context') ? doc.context : undefined;
  if (context !== undefined && context !== null && !isObject(context)) return { errorCode: 'INVALID_CONTEXT', errorDetails: '"context" must be an object' };
  const fields = (context ?? {}) as Record<string, unknown>;
  const targetingKey = fields.targetingKey;
  if (targetingKey === undefined || targetingKey === null || targetingKey === '') {
    return { errorCode: 'TARGETING_KEY_MISSING', errorDetails: '"context.targetingKey" is required (it is the Eppo subject key)' };
  }
  if (typeof targetingKey !== 'string') return { errorCode: 'INVALID_CONTEXT', errorDetails: `"context.targetingKey" must be a string, got ${typeof targetingKey}` };
  return { subjectKey: targetingKey, attributes: flatten(fields, '', {}, 'targetingKey') };
}

type OfrepResult = { status: 200 | 400 | 404; reason: string; body: Record<string, unknown> };

/**
 * One flag as OFREP: the flag is resolved as its own type (OFREP carries no type; clients compare the JSON value).
 * DISABLED and DEFAULT outcomes carry no `value`, meaning "use the code default" (OFREP ADR-0006).
 */
function evaluateOfrep(client: SaltshardClient, key: string, subjectKey: string, attributes: Record<string, unknown>): OfrepResult {
  const r = client.resolve<unknown>(key, subjectKey, attributes, undefined, client.getFlagVariationType(key) ?? 'STRING');
  const d = r.evaluationDetails;
  const o = classifyOutcome(d.flagEvaluationCode, d.flagEvaluationDescription, d.matchedRule != null, r.randomized, r.flagType !== null);
  if (o.errorCode !== null) {
    return { status: o.errorCode === 'FLAG_NOT_FOUND' ? 404 : 400, reason: o.reason, body: { key, errorCode: o.errorCode, errorDetails: o.errorMessage ?? o.errorCode } };
  }
  const metadata = outcomeMetadata(d);
  metadata.variationType = r.flagType ?? '';
  if (o.matched) return { status: 200, reason: o.reason, body: { key, value: r.variation ?? null, reason: o.reason, variant: d.variationKey ?? undefined, metadata } };
  return { status: 200, reason: o.reason, body: { key, reason: o.reason, metadata } };
}

type Batch =
  | { subjects: { subjectKey: string; subjectAttributes: Record<string, unknown> }[]; flags: string[] }
  | { errorCode: string; errorDetails: string; status: 400 | 413 };

function parseBatch(doc: unknown, client: SaltshardClient, maxSubjects: number, maxEvaluations: number): Batch {
  const bad = (errorDetails: string): Batch => ({ errorCode: 'INVALID_REQUEST', errorDetails, status: 400 });
  if (!isObject(doc)) return bad('request body must be a JSON object {"subjects": [...], "flags"?: [...]}');
  const subjects = Object.hasOwn(doc, 'subjects') ? doc.subjects : undefined;
  if (!Array.isArray(subjects)) return bad('"subjects" must be an array of {"subjectKey", "subjectAttributes"}');
  let flags: string[];
  const flagsField = Object.hasOwn(doc, 'flags') ? doc.flags : undefined;
  if (flagsField === undefined || flagsField === null) flags = client.getFlagKeys();
  else {
    if (!Array.isArray(flagsField)) return bad('"flags" must be an array of flag keys');
    for (let i = 0; i < flagsField.length; i++) {
      if (typeof flagsField[i] !== 'string' || flagsField[i] === '') return bad(`"flags[${i}]" must be a non-empty string`);
    }
    flags = flagsField as string[];
  }
  const evaluations = subjects.length * flags.length;
  if (subjects.length > maxSubjects || evaluations > maxEvaluations) {
    return {
      errorCode: 'BATCH_TOO_LARGE',
      errorDetails: `${subjects.length} subjects x ${flags.length} flags = ${evaluations} evaluations; the limits are ${maxSubjects} subjects and ${maxEvaluations} evaluations per request`,
      status: 413,
    };
  }
  const out: { subjectKey: string; subjectAttributes: Record<string, unknown> }[] = [];
  for (let i = 0; i < subjects.length; i++) {
    const s = subjects[i];
    if (!isObject(s)) return bad(`"subjects[${i}]" must be an object`);
    const subjectKey = Object.hasOwn(s, 'subjectKey') ? s.subjectKey : undefined;
    if (typeof subjectKey !== 'string' || subjectKey === '') return bad(`"subjects[${i}].subjectKey" must be a non-empty string`);
    const attrs = Object.hasOwn(s, 'subjectAttributes') ? s.subjectAttributes : undefined;
    if (attrs !== undefined && attrs !== null && !isObject(attrs)) return bad(`"subjects[${i}].subjectAttributes" must be an object`);
    out.push({ subjectKey, subjectAttributes: (attrs ?? {}) as Record<string, unknown> });
  }
  return { subjects: out, flags };
}

function feedGauges(feed: ConfigFeed) {
  return [
    { name: 'saltshard_push_subscribers', help: 'Open config streams (GET /v1/config/stream).', value: feed.subscribers },
    { name: 'saltshard_push_changes', help: 'Config versions published to push clients since start.', value: feed.counters.changes },
  ];
}

function configGauges(client: SaltshardClient, now: () => number, ready: boolean, staleAfterMs: number) {
  const config = client.getConfiguration();
  const sync = client.syncStatus() as SyncStatus | null;
  const loadedAt = config ? Date.parse(config.fetchedAt) : NaN;
  const confirmedAt = sync?.lastSuccessAt ?? loadedAt;
  const gauges = [
    { name: 'saltshard_config_loaded', help: '1 when a flag configuration is loaded.', value: config ? 1 : 0 },
    { name: 'saltshard_ready', help: '1 when /readyz answers 200.', value: ready ? 1 : 0 },
    { name: 'saltshard_flags', help: 'Flags in the configuration in force.', value: config?.flags.size ?? 0 },
    { name: 'saltshard_config_age_seconds', help: 'Seconds since the configuration in force was last loaded or confirmed by a successful poll.', value: config ? Math.max(0, (now() - confirmedAt) / 1000) : NaN },
  ];
  if (sync !== null) {
    gauges.push(
      { name: 'saltshard_config_last_poll_status', help: 'HTTP status of the last config poll (0 network error, 408 timeout, -1 none yet).', value: sync.lastStatus ?? -1 },
      { name: 'saltshard_config_poll_requests', help: 'Config polls made.', value: sync.requests },
      { name: 'saltshard_config_poll_failures', help: 'Config polls that failed.', value: sync.failures },
      { name: 'saltshard_config_poll_consecutive_failures', help: 'Config polls failed since the last success.', value: sync.consecutiveFailures },
      // Served but not confirmed upstream within 3 polling intervals (an outage): clients still get the last good config.
      { name: 'saltshard_config_stale', help: '1 when the config in force has not been confirmed upstream within 3 polling intervals.', value: config && (sync.lastSuccessAt === null || now() - sync.lastSuccessAt > staleAfterMs) ? 1 : 0 },
    );
  }
  return gauges;
}
