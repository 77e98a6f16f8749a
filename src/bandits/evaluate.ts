/**
 * Contextual-bandit action selection exactly as Eppo's JS SDK does it (eppo-spec §6.4): attribute bucketing,
 * linear scoring, inverse-gap weighting with a probability floor, and a deterministic md5-shard "shuffle" and
 * draw per (flag, subject). Floating-point sums are accumulated in Eppo's order so that weights (and hence the
 * chosen action and the logged probability) are bit-identical.
 * @module
 */
import { assertWellFormed } from '../config/encoding.ts';
import type { ShardKernel } from '../wasm/kernel.ts';
import type { BanditModelData, CategoricalCoefficient, NumericCoefficient } from './model.ts';

/** Attributes split by how a bandit model uses them. */
export interface ContextAttributes {
  /** Attributes scored by numeric coefficients (finite numbers). */
  numericAttributes: Record<string, unknown>;
  /** Attributes scored by categorical coefficients (matched by value). */
  categoricalAttributes: Record<string, unknown>;
}

/** Subject attributes: flat (numbers → numeric, everything else → categorical) or already split. */
export type BanditSubjectAttributes = Readonly<Record<string, unknown>> | ContextAttributes;

/** Actions: bare keys, keys with flat attributes, or keys with split attributes. */
export type BanditActions = readonly string[] | Readonly<Record<string, Readonly<Record<string, unknown>>>> | Readonly<Record<string, ContextAttributes>>;

/** The outcome of one bandit draw. */
export interface BanditEvaluation {
  actionKey: string;
  actionAttributes: ContextAttributes;
  actionScore: number;
  /** The chosen action's probability (Eppo's `actionWeight`, logged as `actionProbability`). */
  actionWeight: number;
  gamma: number;
  /** Top score minus the chosen action's score. */
  optimalityGap: number;
}

/** Shards of the bandit draw (Eppo's `BANDIT_ASSIGNMENT_SHARDS`). */
export const BANDIT_ASSIGNMENT_SHARDS = 10_000;

const NO_SALT = new Uint8Array(0);

/** True for `{ numericAttributes, categoricalAttributes }` (Eppo's `in` test, so both must be present). */
export function isContextAttributes(value: unknown): value is ContextAttributes {
  return typeof value === 'object' && value !== null && 'numericAttributes' in value && 'categoricalAttributes' in value;
}

/** Split flat attributes: numbers (any, even NaN) are numeric, everything else categorical. */
export function deduceAttributeContext(attributes: Readonly<Record<string, unknown>>): ContextAttributes {
  const out: ContextAttributes = { numericAttributes: {}, categoricalAttributes: {} };
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'number') out.numericAttributes[name] = value;
    else out.categoricalAttributes[name] = value;
  }
  return out;
}

/** Subject attributes as a model sees them; `null`/`undefined` count as none. */
export function toContextAttributes(attributes: BanditSubjectAttributes | null | undefined): ContextAttributes {
  if (attributes == null) return { numericAttributes: {}, categoricalAttributes: {} };
  if (isContextAttributes(attributes)) {
    return { numericAttributes: attributes.numericAttributes ?? {}, categoricalAttributes: attributes.categoricalAttributes ?? {} };
  }
  return deduceAttributeContext(attributes as Readonly<Record<string, unknown>>);
}

/** Subject attributes as flag rules see them: numeric and categorical merged (categorical wins on a clash). */
export function toFlatAttributes(attributes: BanditSubjectAttributes | null | undefined): Readonly<Record<string, unknown>> {
  if (attributes == null) return {};
  if (isContextAttributes(attributes)) return { ...attributes.numericAttributes, ...attributes.categoricalAttributes };
  return attributes as Readonly<Record<string, unknown>>;
}

/**
 * Normalize actions to `[actionKey, ContextAttributes]` pairs in JavaScript object-key order (integer-like keys
 * first, ascending; then insertion order), which is the order Eppo's sums run in.
 * @throws {TypeError} when actions is neither an array nor an object.
 */
export function normalizeActions(actions: BanditActions | null | undefined): Array<[string, ContextAttributes]> {
  if (actions == null) return [];
  if (typeof actions !== 'object') throw new TypeError(`actions must be an array of action keys or an object keyed by action, got ${typeof actions}`);
  // A null-prototype object orders keys exactly as Eppo's plain objects do, and takes "__proto__" as a plain key.
  const ordered: Record<string, ContextAttributes> = Object.create(null);
  if (Array.isArray(actions)) {
    for (const action of actions) ordered[String(action)] = { numericAttributes: {}, categoricalAttributes: {} };
  } else {
    const entries = Object.entries(actions as Record<string, unknown>);
    const contextual = entries.every(([, attrs]) => isContextAttributes(attrs));
    for (const [action, attrs] of entries) {
      if (contextual) {
        const c = attrs as ContextAttributes;
        ordered[action] = { numericAttributes: c.numericAttributes ?? {}, categoricalAttributes: c.categoricalAttributes ?? {} };
      } else {
        ordered[action] = deduceAttributeContext((attrs ?? {}) as Record<string, unknown>);
      }
    }
  }
  return Object.keys(ordered).map((k) => [k, ordered[k]!]);
}

function scoreNumeric(coefficients: readonly NumericCoefficient[], attributes: Readonly<Record<string, unknown>>): number {
  let score = 0;
  for (const c of coefficients) {
    const value = attributes[c.attributeKey];
    score += typeof value === 'number' && Number.isFinite(value) ? value * c.coefficient : c.missingValueCoefficient;
  }
  return score;
}

function scoreCategorical(coefficients: readonly CategoricalCoefficient[], attributes: Readonly<Record<string, unknown>>): number {
  let score = 0;
  for (const c of coefficients) {
    const value = attributes[c.attributeKey];
    const text = value == null ? undefined : String(value);
    // An empty string is "missing", as in Eppo (`value && coefficients[value]`).
    const coefficient = text ? c.valueCoefficients.get(text) : undefined;
    score += coefficient !== undefined ? coefficient : c.missingValueCoefficient;
  }
  return score;
}

/**
 * Score every action: `intercept + subject numeric + subject categorical + action numeric + action categorical`,
 * each group summed separately first; actions the model does not know score `defaultActionScore`.
 */
export function scoreActions(subject: ContextAttributes, actions: ReadonlyArray<readonly [string, ContextAttributes]>, model: BanditModelData): Array<[string, number]> {
  return actions.map(([actionKey, attrs]) => {
    const c = model.coefficients.get(actionKey);
    if (c === undefined) return [actionKey, model.defaultActionScore];
    let score = c.intercept;
    score += scoreNumeric(c.subjectNumericCoefficients, subject.numericAttributes);
    score += scoreCategorical(c.subjectCategoricalCoefficients, subject.categoricalAttributes);
    score += scoreNumeric(c.actionNumericCoefficients, attrs.numericAttributes);
    score += scoreCategorical(c.actionCategoricalCoefficients, attrs.categoricalAttributes);
    return [actionKey, score];
  });
}

/** The highest score; a tie goes to the smaller key (UTF-16 order). Null for no actions. */
export function topAction(scores: ReadonlyArray<readonly [string, number]>): { action: string; score: number } | null {
  let best: { action: string; score: number } | null = null;
  for (const [action, score] of scores) {
    if (best === null || score > best.score || (score === best.score && action < best.action)) best = { action, score };
  }
  return best;
}

/**
 * Probabilities: every non-top action gets `max(1 / (n + gamma·(top − score)), floor / n)`; the top action
 * gets what is left, `max(1 − Σ others, 0)`.
 * @returns `[action, weight]` pairs: the non-top actions in input order, then the top action.
 */
export function weighActions(scores: ReadonlyArray<readonly [string, number]>, gamma: number, actionProbabilityFloor: number): Array<[string, number]> {
  const top = topAction(scores);
  if (top === null) return [];
  const n = scores.length;
  const minimumWeight = actionProbabilityFloor / n;
  const weights: Array<[string, number]> = [];
  let cumulative = 0;
  for (const [action, score] of scores) {
    if (action === top.action) continue;
    const weight = Math.max(1 / (n + gamma * (top.score - score)), minimumWeight);
    cumulative += weight;
    weights.push([action, weight]);
  }
  weights.push([top.action, Math.max(1 - cumulative, 0)]);
  return weights;
}

function shard(kernel: ShardKernel, input: string): number {
  assertWellFormed(input);
  return kernel.shard(NO_SALT, input, BANDIT_ASSIGNMENT_SHARDS);
}

/**
 * Draw an action: order actions by `shard(flagKey-subjectKey-action)` (ties by key), then take the first whose
 * cumulative weight exceeds `shard(flagKey-subjectKey) / 10000`.
 * @throws {Error} when no action is reached (weights summing below the threshold), as Eppo does.
 */
export function selectAction(flagKey: string, subjectKey: string, weights: ReadonlyArray<readonly [string, number]>, kernel: ShardKernel): string {
  const shuffled = weights
    .map(([action, weight]) => ({ action, weight, shard: shard(kernel, `${flagKey}-${subjectKey}-${action}`) }))
    .sort((a, b) => a.shard - b.shard || (a.action < b.action ? -1 : 1));
  const threshold = shard(kernel, `${flagKey}-${subjectKey}`) / BANDIT_ASSIGNMENT_SHARDS;
  let cumulative = 0;
  for (const { action, weight } of shuffled) {
    cumulative += weight;
    if (cumulative > threshold) return action;
  }
  throw new Error(`No bandit action selected for flag "${flagKey}" and subject "${subjectKey}"`);
}

/**
 * Run a bandit for one subject.
 * @param actions normalized actions (see {@link normalizeActions}); must not be empty.
 * @returns the chosen action with its probability and optimality gap.
 * @throws {Error} on an empty action list or when no action can be drawn.
 */
export function evaluateBandit(
  flagKey: string,
  subjectKey: string,
  subject: ContextAttributes,
  actions: ReadonlyArray<readonly [string, ContextAttributes]>,
  model: BanditModelData,
  kernel: ShardKernel,
): BanditEvaluation {
  if (actions.length === 0) throw new Error('No actions supplied');
  const scores = scoreActions(subject, actions, model);
  const weights = weighActions(scores, model.gamma, model.actionProbabilityFloor);
  const actionKey = selectAction(flagKey, subjectKey, weights, kernel);
  let topScore = -Infinity;
  for (const [, score] of scores) if (score > topScore) topScore = score;
  const actionScore = scores.find(([k]) => k === actionKey)![1];
  return {
    actionKey,
    actionAttributes: actions.find(([k]) => k === actionKey)![1],
    actionScore,
    actionWeight: weights.find(([k]) => k === actionKey)![1],
    gamma: model.gamma,
    optimalityGap: topScore - actionScore,
  };
}
