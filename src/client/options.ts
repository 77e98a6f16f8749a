/**
 * Client options: their type, their validation (setup errors throw, naming the option), and the SDK logger.
 * @module
 */
import type { AssignmentLogger, Logger } from '../events/logger.ts';
import { consoleLogger } from '../events/logger.ts';
import { safeLogger } from '../events/sandbox.ts';
import type { KernelBackend } from '../wasm/kernel.ts';
import type { BanditLogger } from '../bandits/events.ts';

/** Options shared by every way of making a client. */
export interface ClientOptions {
  /** Receives exposure events for allocations with `doLog`. Without one, up to 100 events wait for it. */
  assignmentLogger?: AssignmentLogger | null;
  /** The SDK's own warnings and errors; defaults to the console (warn and error only). */
  logger?: Logger;
  /** Dedupe capacity (least recently used); 0 or false logs every evaluation. Default 50 000. */
  assignmentCacheSize?: number | false;
  /** The clock for allocation windows, epoch ms. Default `Date.now`. */
  now?: () => number;
  /** Shard backend: `wasm` (default when WebAssembly works) or `js`. */
  kernel?: KernelBackend;
  /** Receives bandit events (deduped per flag and subject); a throw or rejection never breaks the call. */
  banditLogger?: BanditLogger | null;
}

/** The SDK logger for the options: the user's (info and debug optional) or the console, never throwing (see sandbox.ts). */
export function sdkLogger(l: Logger | undefined): Logger {
  return safeLogger(l ?? consoleLogger);
}

/** Setup errors are thrown, naming the option (a getter never throws later because of them). */
export function checkOptions(o: ClientOptions): void {
  if (typeof o !== 'object' || o === null) throw new TypeError('client options must be an object');
  const isFn = (x: unknown) => typeof x === 'function';
  if (o.assignmentLogger != null && (typeof o.assignmentLogger !== 'object' || !isFn(o.assignmentLogger.logAssignment))) {
    throw new TypeError('assignmentLogger must be an object with a logAssignment(event) method');
  }
  if (o.logger !== undefined && (typeof o.logger !== 'object' || o.logger === null || !isFn(o.logger.error) || !isFn(o.logger.warn))) {
    throw new TypeError('logger must be an object with error and warn methods (info and debug optional)');
  }
  if (o.now !== undefined && !isFn(o.now)) throw new TypeError('now must be a function returning epoch milliseconds');
  if (o.kernel !== undefined && o.kernel !== 'wasm' && o.kernel !== 'js') throw new TypeError(`kernel must be "wasm" or "js", got ${String(o.kernel)}`);
  const size = o.assignmentCacheSize;
  if (size !== undefined && size !== false && !(typeof size === 'number' && Number.isInteger(size) && size >= 0)) {
    throw new TypeError('assignmentCacheSize must be a non-negative integer or false');
  }
  if (o.banditLogger != null && typeof o.banditLogger.logBanditAction !== 'function') throw new TypeError('banditLogger must be an object with a logBanditAction(event) method');
}
