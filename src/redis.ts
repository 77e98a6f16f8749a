/**
 * saltshard/redis: exposure dedupe shared by a fleet through Redis (`SET … NX PX`), with a local LRU in front and
 * a bounded wait (falls back to local dedupe when Redis is slow or down). No dependency: a small RESP client
 * over node:net (Node, Bun, Deno).
 * @module
 * @example
 * import { init } from 'saltshard';
 * import { FileSink } from 'saltshard/sinks';
 * import { RedisAssignmentCache, dedupedLogger } from 'saltshard/redis';
 * const cache = new RedisAssignmentCache({ url: 'redis://127.0.0.1:6379', timeoutMs: 20 });
 * const client = await init({ apiKey, assignmentLogger: dedupedLogger(cache, new FileSink({ path: 'exposures.ndjson' })) });
 */
export { RedisAssignmentCache, dedupedLogger } from './dedupe/redis.ts';
export type { AssignmentCacheEntry, RedisAssignmentCacheOptions, RedisCacheStats } from './dedupe/redis.ts';
export type { RespOptions } from './dedupe/resp.ts';
