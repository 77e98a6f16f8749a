/**
 * The one sandbox every user callback goes through: exposure and bandit loggers, the diagnostics logger itself,
 * `on(...)` listeners, hooks, custom assignment caches, persistent caches and exposure sinks. Nothing a callback
 * does — throw, return a rejecting promise, throw from a getter on its error object, or report through a
 * diagnostics logger that throws in turn — reaches the caller or the process (no uncaught exception, no
 * unhandled rejection).
 *
 * Use {@link safeLogger} once where a user's diagnostics logger enters the SDK, and {@link Sandbox} (or the
 * function {@link callSandboxed}) around each call of user code:
 * @module
 * @example
 * const sandbox = new Sandbox(options.logger);            // wraps the logger with safeLogger
 * sandbox.run('Assignment logger', () => user.logAssignment(event), () => dedupe.forget(key));
 * const hit = sandbox.value('Assignment cache get', () => cache.get(key), undefined);
 * const text = await sandbox.settle('Persistent cache get', () => cache.get(), null);
 * sandbox.logger.warn('never throws');
 */
import type { Logger } from './logger.ts';

const noop = (): void => {};
const LEVELS = ['error', 'warn', 'info', 'debug'] as const;

/** Swallow a promise's rejection (and anything thenable); never throws. */
function absorb(result: unknown): void {
  try {
    if (result !== null && (typeof result === 'object' || typeof result === 'function') && typeof (result as PromiseLike<unknown>).then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, noop);
    }
  } catch {
    // A hostile thenable: nothing more to do.
  }
}

/**
 * A logger whose four methods never throw and never leave a rejected promise behind, whatever `logger` does
 * (methods that throw, reject, are missing, or are getters that throw). Methods are looked up at each call.
 * `undefined`/`null` gives a logger that drops everything. Idempotent: a safe logger is returned as is.
 */
export function safeLogger(logger: Logger | null | undefined): Logger {
  if (logger === null || logger === undefined) return SILENT;
  if (SAFE.has(logger)) return logger;
  const safe = {} as Logger;
  for (const level of LEVELS) {
    safe[level] = (...args: unknown[]): void => {
      try {
        const fn = (logger as unknown as Record<string, unknown>)[level];
        if (typeof fn === 'function') absorb(fn.apply(logger, args));
      } catch {
        // The diagnostics channel itself failed: there is nowhere left to report it.
      }
    };
  }
  SAFE.add(safe);
  return safe;
}

const SAFE = new WeakSet<Logger>();
const SILENT: Logger = { error: noop, warn: noop, info: noop, debug: noop };
SAFE.add(SILENT);

/**
 * A one-line description of a thrown value: `Name: message` for errors, `String(value)` otherwise,
 * "unprintable error" when even that throws. Quotes only what the callback threw, nothing the SDK holds.
 */
export function errorText(err: unknown): string {
  try {
    if (err instanceof Error) return `${err.name}: ${err.message}`;
    return String(err);
  } catch {
    return 'unprintable error';
  }
}

/**
 * A thrown value as a plain Error the SDK can read safely: `message` from {@link errorText}, and `code` kept when it
 * is a short system code (EROFS, ENOSPC…). For callbacks whose failure the SDK reports in its own words.
 */
export function asError(err: unknown): Error & { code?: string } {
  const out: Error & { code?: string } = new Error(errorText(err));
  try {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) out.code = code;
  } catch {
    // No code then.
  }
  return out;
}

/**
 * Run a user callback; neither a throw nor a rejection escapes. Failures go to `logger.error` as
 * "<label> threw" / "<label> rejected" (through {@link safeLogger}, so a failing logger is harmless too).
 * @param onReject internal clean-up also run when the returned promise rejects (its own failure is swallowed).
 * @returns false when the callback threw synchronously, true otherwise.
 */
export function callSandboxed(callback: () => unknown, logger: Logger, label: string, onReject: () => void = noop): boolean {
  const log = safeLogger(logger);
  let result: unknown;
  try {
    result = callback();
  } catch (err) {
    log.error(`${label} threw`, errorText(err));
    return false;
  }
  if (canBeThenable(result)) watchResult(result, log, label, onReject);
  return true;
}

/** What {@link invokeSandboxed} returns when the method threw. */
export const THREW: unique symbol = Symbol('saltshard.threw');

/**
 * `target[method](arg)` sandboxed as {@link callSandboxed} runs a callback, without allocating a closure (for a
 * per-event call): a throw is reported to `log` — which must come from {@link safeLogger} — and gives THREW; any
 * other result is returned, to be handed to {@link watchResult} when {@link canBeThenable}.
 */
export function invokeSandboxed(target: object, method: string, arg: unknown, log: Logger, label: string): unknown {
  try {
    return (target as Record<string, (arg: unknown) => unknown>)[method](arg);
  } catch (err) {
    log.error(`${label} threw`, errorText(err));
    return THREW;
  }
}

/** Whether a callback's result may be a thenable (an object or a function). */
export function canBeThenable(result: unknown): boolean {
  return typeof result === 'function' || (typeof result === 'object' && result !== null);
}

/**
 * Observe a callback's result as {@link callSandboxed} does: when it is a thenable, a rejection runs `onReject` and
 * is reported to `log` (already safe) as "<label> rejected"; a hostile `then` is reported as "<label> threw".
 */
export function watchResult(result: unknown, log: Logger, label: string, onReject: () => void): void {
  try {
    const then = (result as PromiseLike<unknown>).then;
    if (typeof then !== 'function') return;
    then.call(result, undefined, (err: unknown) => {
      try {
        onReject();
      } catch {
        // Internal clean-up must not turn into an unhandled rejection either.
      }
      log.error(`${label} rejected`, errorText(err));
    });
  } catch (err) {
    log.error(`${label} threw`, errorText(err));
  }
}

/**
 * A sandbox bound to one diagnostics logger, with a failure counter (for metrics and tests). Every method is
 * exception-proof; the labels you pass name the callback in the error line (never put keys or data in them).
 */
export class Sandbox {
  /** The diagnostics logger, made safe: use it for every SDK warning too. */
  readonly logger: Logger;
  /** User-callback failures seen so far (throws and rejections). */
  failures = 0;

  readonly #secrets: string[] = [];

  constructor(logger?: Logger | null) {
    const inner = safeLogger(logger);
    const scrubbed = {} as Logger;
    for (const level of LEVELS) {
      scrubbed[level] = (...args: unknown[]) => {
        if (this.#secrets.length > 0) for (let i = 0; i < args.length; i++) args[i] = this.#scrubArg(args[i]);
        inner[level]!(...args);
      };
    }
    this.logger = safeLogger(scrubbed);
  }

  /**
   * Never let `secret` (e.g. the SDK key) reach the logger: every string argument, and the text of every Error
   * argument, has it replaced by `<redacted>`. Secrets shorter than 8 characters are ignored.
   */
  redact(secret: string): void {
    if (typeof secret === 'string' && secret.length >= 8 && !this.#secrets.includes(secret)) this.#secrets.push(secret);
  }

  /** `text` with every secret given to {@link redact} replaced by `<redacted>`. */
  scrub(text: string): string {
    for (const secret of this.#secrets) if (text.includes(secret)) text = text.split(secret).join('<redacted>');
    return text;
  }

  #scrubArg(arg: unknown): unknown {
    if (typeof arg === 'string') return this.scrub(arg);
    if (arg instanceof Error) return this.scrub(errorText(arg));
    return arg;
  }

  /**
   * Fire-and-forget a callback (loggers, listeners, sinks, hooks).
   * @param onReject run when a returned promise rejects (e.g. forget a dedupe entry so the event is retried).
   * @returns false when it threw synchronously.
   */
  run(label: string, callback: () => unknown, onReject: () => void = noop): boolean {
    const ok = callSandboxed(callback, this.logger, label, () => {
      this.failures++;
      onReject();
    });
    if (!ok) this.failures++;
    return ok;
  }

  /**
   * A callback whose synchronous result the SDK uses (e.g. a custom assignment cache's `has`/`get`): its result,
   * or `fallback` when it throws. A returned promise is not awaited (its rejection is absorbed); use {@link settle}.
   */
  value<T>(label: string, callback: () => T, fallback: T): T {
    try {
      const result = callback();
      if (canBeThenable(result)) watchResult(result, this.logger, label, () => this.failures++);
      return result;
    } catch (err) {
      this.failures++;
      this.logger.error(`${label} threw`, errorText(err));
      return fallback;
    }
  }

  /** An async callback whose result the SDK awaits (e.g. a persistent cache's `get`): its result, or `fallback`. */
  async settle<T>(label: string, callback: () => T | PromiseLike<T>, fallback: T): Promise<T> {
    try {
      return await callback();
    } catch (err) {
      this.failures++;
      this.logger.error(`${label} failed`, errorText(err));
      return fallback;
    }
  }

  /** A function with the callback's parameters that runs it through {@link run} and returns nothing. */
  wrap<A extends unknown[]>(label: string, callback: (...args: A) => unknown): (...args: A) => void {
    return (...args: A) => void this.run(label, () => callback(...args));
  }
}
