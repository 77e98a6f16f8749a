/**
 * Evaluation hooks with OpenFeature's hook shape (`before`, `after`, `error`, `finally`) around every typed getter
 * (values and details, bandit variations, the OpenFeature provider's resolutions). Each hook runs in the client's
 * sandbox: a hook that throws or rejects is reported to the client's logger and skipped; it never changes what the
 * getter returns, nor throws into the caller. A client without hooks pays one null check per getter call.
 * @module
 */
import type { VariationType } from '../errors.ts';
import type { FlagEvaluationDetails } from '../eval/details.ts';
import type { Attributes } from '../eval/reference.ts';
import type { Sandbox } from '../events/sandbox.ts';
import { type AssignmentDetails, type Outcome, details as detailsOf } from './assign.ts';

/** What every stage of a hook receives about the evaluation (frozen). */
export interface HookContext {
  /** The requested flag key. */
  readonly flagKey: string;
  /** The getter's variation type (`getStringAssignment` → STRING, …). */
  readonly flagValueType: VariationType;
  /** The default the caller passed. */
  readonly defaultValue: unknown;
  /** The subject key. */
  readonly subjectKey: string;
  /** The subject attributes, with what `before` hooks added (in `after`, `error` and `finally`). */
  readonly subjectAttributes: Attributes;
}

/** What `after` and `finally` receive: the getter's answer and Eppo's evaluation details. */
export interface HookEvaluationDetails {
  /** The requested flag key. */
  readonly flagKey: string;
  /** The value the getter returns (the default when nothing matched). */
  readonly value: unknown;
  /** The variation key, or null when the default was returned. */
  readonly variant: string | null;
  /** Why (Eppo's evaluation details: code, description, allocations); built when first read. */
  readonly evaluationDetails: FlagEvaluationDetails;
}

/** An evaluation hook (OpenFeature's shape); every stage is optional and synchronous (returned promises are not awaited). */
export interface EvaluationHook {
  /** Before the evaluation; may return attributes to add to the subject's for this evaluation. */
  before?(context: HookContext): Attributes | void | undefined;
  /** After an evaluation that did not fail (MATCH, no allocation matched, disabled flag). */
  after?(context: HookContext, details: HookEvaluationDetails): unknown;
  /** After an evaluation that failed (ASSIGNMENT_ERROR, TYPE_MISMATCH, a flag the config lacks, or a throw in strict mode). */
  error?(context: HookContext, error: Error & { code?: string }): unknown;
  /** Last, always; `details` is undefined when the getter throws (strict mode). */
  finally?(context: HookContext, details: HookEvaluationDetails | undefined): unknown;
}

const EMPTY: Attributes = Object.freeze({});

type Resolved = { result: AssignmentDetails<unknown>; outcome: Outcome };

type Stage<A extends unknown[]> = ((...args: A) => unknown)[];

/** The hooks of one client: their stage methods, read once when the hooks are added. */
export class Hooks {
  readonly list: readonly EvaluationHook[];
  readonly #sandbox: Sandbox;
  readonly #before: Stage<[HookContext]>;
  /** `after`, `error` and `finally` run in reverse registration order, as OpenFeature. */
  readonly #after: Stage<[HookContext, HookEvaluationDetails]>;
  readonly #error: Stage<[HookContext, Error & { code?: string }]>;
  readonly #finally: Stage<[HookContext, HookEvaluationDetails | undefined]>;

  /** @throws {TypeError} when a hook is not an object with at least one of the four methods. */
  constructor(list: readonly EvaluationHook[], sandbox: Sandbox) {
    this.list = list;
    this.#sandbox = sandbox;
    const stage = (name: keyof EvaluationHook, reverse: boolean) => {
      const fns = list.flatMap((h) => (typeof h[name] === 'function' ? [(h[name] as (...a: unknown[]) => unknown).bind(h)] : []));
      return reverse ? fns.reverse() : fns;
    };
    try {
      this.#before = stage('before', false);
      this.#after = stage('after', true);
      this.#error = stage('error', true);
      this.#finally = stage('finally', true);
    } catch {
      throw new TypeError('addHooks() takes hooks: objects with before, after, error and/or finally methods');
    }
  }

  /** Run `evaluate` inside the hooks: `before`, then `after` or `error`, then `finally`. */
  around(flagKey: string, subjectKey: string, attributes: Attributes | null | undefined, defaultValue: unknown, type: VariationType, withDetails: boolean, evaluate: (attributes: Attributes | null | undefined) => Resolved): Resolved {
    const sandbox = this.#sandbox;
    let ctx: HookContext = Object.freeze({ flagKey, flagValueType: type, defaultValue, subjectKey, subjectAttributes: attributes ?? EMPTY });
    let merged = attributes;
    for (const before of this.#before) {
      const added = sandbox.value('Evaluation hook before', () => before(ctx), undefined);
      if (isAttributes(added)) {
        merged = { ...merged, ...added };
        ctx = Object.freeze({ ...ctx, subjectAttributes: merged });
      }
    }
    let r: Resolved;
    try {
      r = evaluate(merged);
    } catch (err) {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#run('error', this.#error, ctx, error);
      this.#run('finally', this.#finally, ctx, undefined);
      throw err;
    }
    const o = r.outcome;
    const code = o.code;
    const details = new Details(flagKey, r, withDetails);
    if (code === 'ASSIGNMENT_ERROR' || code === 'TYPE_MISMATCH' || (code === 'FLAG_UNRECOGNIZED_OR_DISABLED' && o.flag === null)) {
      const error: Error & { code?: string } = new Error(o.override?.details.flagEvaluationDescription ?? o.description);
      error.code = code;
      this.#run('error', this.#error, ctx, error);
    } else {
      this.#run('after', this.#after, ctx, details);
    }
    this.#run('finally', this.#finally, ctx, details);
    return r;
  }

  #run<A extends unknown[]>(stage: string, fns: Stage<A>, ...args: A): void {
    for (const fn of fns) this.#sandbox.run(`Evaluation hook ${stage}`, () => fn(...args));
  }
}

/** {@link HookEvaluationDetails} whose evaluation details are built on first read (a hook that never looks pays nothing). */
class Details implements HookEvaluationDetails {
  readonly flagKey: string;
  readonly value: unknown;
  readonly variant: string | null;
  readonly #outcome: Outcome;
  #built: FlagEvaluationDetails | undefined;

  constructor(flagKey: string, r: Resolved, withDetails: boolean) {
    const o = r.outcome;
    this.flagKey = flagKey;
    this.value = r.result.variation;
    this.variant = o.code === 'MATCH' ? (o.override?.variation.key ?? o.evaluation?.variationKey ?? null) : null;
    this.#outcome = o;
    this.#built = withDetails ? r.result.evaluationDetails : undefined;
  }

  get evaluationDetails(): FlagEvaluationDetails {
    return (this.#built ??= detailsOf(this.#outcome));
  }
}

/** Hooks as given to `addHooks`: objects with at least one stage. */
export function checkHooks(hooks: readonly unknown[]): EvaluationHook[] {
  for (const h of hooks) {
    let ok = false;
    try {
      ok = h !== null && typeof h === 'object' && ['before', 'after', 'error', 'finally'].some((s) => typeof (h as Record<string, unknown>)[s] === 'function');
    } catch {
      // A getter that throws: not a usable hook.
    }
    if (!ok) throw new TypeError('addHooks() takes hooks: objects with before, after, error and/or finally methods');
  }
  return hooks as EvaluationHook[];
}

function isAttributes(value: unknown): value is Attributes {
  return value !== null && typeof value === 'object' && !Array.isArray(value) && typeof (value as { then?: unknown }).then !== 'function';
}
