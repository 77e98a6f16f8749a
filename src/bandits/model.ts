/**
 * Contextual-bandit model parameters (eppo-spec §1.7, `GET /flag-config/v1/bandits`) and the links from flag
 * variations to bandits (`banditReferences`, §1.1). Plain validation, no schema library: every problem is
 * reported with the JSON path of the offending value.
 * @module
 */
import { jsonErrorText } from '../config/parse.ts';
import { ConfigError } from '../errors.ts';

/** A numeric coefficient: `coefficient · value`, or `missingValueCoefficient` when the value is not a finite number. */
export interface NumericCoefficient {
  /** Attribute the term reads. */
  readonly attributeKey: string;
  /** Multiplies the attribute's value. */
  readonly coefficient: number;
  /** Used instead when the value is not a finite number. */
  readonly missingValueCoefficient: number;
}

/** A categorical coefficient: `valueCoefficients[String(value)]`, or `missingValueCoefficient`. */
export interface CategoricalCoefficient {
  /** Attribute the term reads. */
  readonly attributeKey: string;
  /** Own entries of the wire object only (so `"constructor"` is never a coefficient). */
  readonly valueCoefficients: ReadonlyMap<string, number>;
  /** Added when the attribute is absent or its value has no coefficient. */
  readonly missingValueCoefficient: number;
}

/** The coefficients of one action. */
export interface ActionCoefficients {
  /** The action these coefficients score. */
  readonly actionKey: string;
  /** Constant term of the action's score. */
  readonly intercept: number;
  /** Terms on the subject's numeric attributes. */
  readonly subjectNumericCoefficients: readonly NumericCoefficient[];
  /** Terms on the subject's categorical attributes. */
  readonly subjectCategoricalCoefficients: readonly CategoricalCoefficient[];
  /** Terms on the action's numeric attributes. */
  readonly actionNumericCoefficients: readonly NumericCoefficient[];
  /** Terms on the action's categorical attributes. */
  readonly actionCategoricalCoefficients: readonly CategoricalCoefficient[];
}

/** A bandit's model data. */
export interface BanditModelData {
  /** Exploration parameter of the inverse-gap weighting. */
  readonly gamma: number;
  /** Score of an action with no coefficients. */
  readonly defaultActionScore: number;
  /** Least probability any action gets, before normalisation. */
  readonly actionProbabilityFloor: number;
  /** Coefficients by action key. */
  readonly coefficients: ReadonlyMap<string, ActionCoefficients>;
}

/** One bandit of the parameters response. */
export interface BanditParameters {
  /** The bandit key. */
  readonly banditKey: string;
  /** Name of the model, or null if absent. */
  readonly modelName: string | null;
  /** Version of the model; logged with each bandit event. */
  readonly modelVersion: string;
  /** When the bandit was last updated (ISO), or null. */
  readonly updatedAt: string | null;
  /** The model's parameters and coefficients. */
  readonly modelData: BanditModelData;
}

/** A validated bandit parameters response. */
export interface BanditModels {
  /** When the response was last updated (ISO), or null. */
  readonly updatedAt: string | null;
  /** Name of the environment, or null if absent. */
  readonly environmentName: string | null;
  /** By the response's map key (which Eppo looks bandits up by). */
  readonly bandits: ReadonlyMap<string, BanditParameters>;
  /** The document as received, for export. */
  readonly wire: unknown;
}

/** One `flagVariations` entry of `banditReferences`: serving `variationValue` of `flagKey` runs bandit `key`. */
export interface BanditVariation {
  readonly key: string;
  readonly flagKey: string;
  readonly allocationKey: string | null;
  readonly variationKey: string;
  readonly variationValue: string;
}

type Json = Record<string, unknown>;

const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}

function fail(path: string, what: string, value: unknown): never {
  throw new ConfigError(`Bandit configuration: ${path} must be ${what}, got ${describe(value)}`, path);
}

function key(path: string, name: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `${path}.${name}` : `${path}[${JSON.stringify(name)}]`;
}

function object(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(path, 'an object', value);
  return value as Json;
}

function field(obj: Json, name: string): unknown {
  return hasOwn(obj, name) ? obj[name] : undefined;
}

function str(obj: Json, name: string, path: string): string {
  const v = field(obj, name);
  if (typeof v !== 'string') fail(key(path, name), 'a string', v);
  return v;
}

function optStr(obj: Json, name: string, path: string): string | null {
  const v = field(obj, name);
  if (v == null) return null;
  if (typeof v !== 'string') fail(key(path, name), 'a string', v);
  return v;
}

function num(obj: Json, name: string, path: string): number {
  const v = field(obj, name);
  if (typeof v !== 'number' || !Number.isFinite(v)) fail(key(path, name), 'a finite number', v);
  return v;
}

function array(obj: Json, name: string, path: string): unknown[] {
  const v = field(obj, name);
  if (!Array.isArray(v)) fail(key(path, name), 'an array', v);
  return v;
}

function numericCoefficients(obj: Json, name: string, path: string): NumericCoefficient[] {
  return array(obj, name, path).map((item, i) => {
    const p = `${key(path, name)}[${i}]`;
    const c = object(item, p);
    return Object.freeze({ attributeKey: str(c, 'attributeKey', p), coefficient: num(c, 'coefficient', p), missingValueCoefficient: num(c, 'missingValueCoefficient', p) });
  });
}

function categoricalCoefficients(obj: Json, name: string, path: string): CategoricalCoefficient[] {
  return array(obj, name, path).map((item, i) => {
    const p = `${key(path, name)}[${i}]`;
    const c = object(item, p);
    const vp = key(p, 'valueCoefficients');
    const raw = object(field(c, 'valueCoefficients'), vp);
    const values = new Map<string, number>();
    for (const k of Object.keys(raw)) values.set(k, num(raw, k, vp));
    return Object.freeze({ attributeKey: str(c, 'attributeKey', p), valueCoefficients: values, missingValueCoefficient: num(c, 'missingValueCoefficient', p) });
  });
}

function actionCoefficients(value: unknown, path: string): ActionCoefficients {
  const c = object(value, path);
  return Object.freeze({
    actionKey: str(c, 'actionKey', path),
    intercept: num(c, 'intercept', path),
    subjectNumericCoefficients: numericCoefficients(c, 'subjectNumericCoefficients', path),
    subjectCategoricalCoefficients: categoricalCoefficients(c, 'subjectCategoricalCoefficients', path),
    actionNumericCoefficients: numericCoefficients(c, 'actionNumericCoefficients', path),
    actionCategoricalCoefficients: categoricalCoefficients(c, 'actionCategoricalCoefficients', path),
  });
}

function banditParameters(value: unknown, path: string): BanditParameters {
  const b = object(value, path);
  // Checked in document order, so the first problem reported is the first one in the file.
  const banditKey = str(b, 'banditKey', path);
  const modelName = optStr(b, 'modelName', path);
  const modelVersion = str(b, 'modelVersion', path);
  const updatedAt = optStr(b, 'updatedAt', path);
  const mp = key(path, 'modelData');
  const m = object(field(b, 'modelData'), mp);
  const gamma = num(m, 'gamma', mp);
  const defaultActionScore = num(m, 'defaultActionScore', mp);
  const actionProbabilityFloor = num(m, 'actionProbabilityFloor', mp);
  const cp = key(mp, 'coefficients');
  const rawCoefficients = object(field(m, 'coefficients'), cp);
  const coefficients = new Map<string, ActionCoefficients>();
  for (const action of Object.keys(rawCoefficients)) coefficients.set(action, actionCoefficients(rawCoefficients[action], key(cp, action)));
  return Object.freeze({ banditKey, modelName, modelVersion, updatedAt, modelData: Object.freeze({ gamma, defaultActionScore, actionProbabilityFloor, coefficients }) });
}

/**
 * Validate a bandit parameters response.
 * @param input JSON text, UTF-8 bytes, or a parsed object `{ updatedAt?, environment?, bandits }`.
 * @returns the validated models, by bandit key.
 * @throws {TypeError} when input is not text, bytes or an object; {SyntaxError} for invalid JSON;
 *   {ConfigError} naming the JSON path of the first bad value.
 * @example const models = parseBanditModels(readFileSync('bandit-models-v1.json', 'utf8'));
 */
export function parseBanditModels(input: unknown): BanditModels {
  let doc: unknown = input;
  if (input instanceof Uint8Array) doc = new TextDecoder().decode(input);
  if (typeof doc === 'string') {
    try {
      doc = JSON.parse(doc);
    } catch (err) {
      // The engine's message quotes the text; it came from a response body.
      throw new SyntaxError(`Bandit configuration: ${jsonErrorText(err)}`);
    }
  } else if (typeof doc !== 'object' || doc === null) throw new TypeError(`Bandit configuration must be JSON text, bytes or an object, got ${describe(input)}`);
  const root = object(doc, '$');
  const rawBandits = object(field(root, 'bandits'), '$.bandits');
  const bandits = new Map<string, BanditParameters>();
  for (const k of Object.keys(rawBandits)) bandits.set(k, banditParameters(rawBandits[k], key('$.bandits', k)));
  const env = field(root, 'environment');
  let environmentName: string | null = null;
  if (env != null) environmentName = str(object(env, '$.environment'), 'name', '$.environment');
  return Object.freeze({ updatedAt: optStr(root, 'updatedAt', '$'), environmentName, bandits, wire: doc });
}

/**
 * Index a UFC document's `banditReferences` by flag key, in document order (as Eppo's store does).
 * @param banditReferences the `banditReferences` field of the UFC document (absent → no bandits).
 * @returns flag key → the bandit variations of that flag.
 * @throws {ConfigError} naming the path of a malformed reference.
 */
export function indexBanditReferences(banditReferences: unknown): ReadonlyMap<string, readonly BanditVariation[]> {
  const index = new Map<string, BanditVariation[]>();
  if (banditReferences == null) return index;
  const refs = object(banditReferences, '$.banditReferences');
  for (const banditKey of Object.keys(refs)) {
    const rp = key('$.banditReferences', banditKey);
    const ref = object(refs[banditKey], rp);
    array(ref, 'flagVariations', rp).forEach((item, i) => {
      const p = `${key(rp, 'flagVariations')}[${i}]`;
      const fv = object(item, p);
      const variation: BanditVariation = Object.freeze({
        key: str(fv, 'key', p),
        flagKey: str(fv, 'flagKey', p),
        allocationKey: optStr(fv, 'allocationKey', p),
        variationKey: str(fv, 'variationKey', p),
        variationValue: str(fv, 'variationValue', p),
      });
      let list = index.get(variation.flagKey);
      if (list === undefined) index.set(variation.flagKey, (list = []));
      list.push(variation);
    });
  }
  return index;
}
