/**
 * Precomputed configurations (eppo-spec §6.5): every flag (and bandit) already evaluated for one subject, in
 * Eppo's obfuscated `PRECOMPUTED` wire envelope, and a decoder for such envelopes.
 *
 * Envelope: `{version: 1, precomputed: {subjectKey, subjectAttributes, fetchedAt, response}}` where `response` is
 * the JSON text of `{createdAt, format: "PRECOMPUTED", salt, obfuscated: true, environment, flags, bandits}`.
 * Flag and bandit map keys are `md5(salt + flagKey)` with the salt used verbatim (never base64-decoded).
 * @module
 */
import type { VariationType } from './errors.ts';
import { decodeBase64, encodeBase64, md5Hex } from './config/encoding.ts';
import type { ContextAttributes } from './bandits/evaluate.ts';

/** One flag's precomputed assignment before obfuscation (values already `String(value)`). */
export interface PrecomputedFlagInput {
  allocationKey: string;
  variationKey: string;
  variationType: VariationType;
  /** `String(value)`; JSON flags carry their JSON text. */
  variationValue: string;
  extraLogging: Readonly<Record<string, string>>;
  doLog: boolean;
}

/** One flag's precomputed bandit draw before obfuscation. */
export interface PrecomputedBanditInput {
  banditKey: string;
  action: string;
  actionProbability: number;
  optimalityGap: number;
  modelVersion: string;
  actionNumericAttributes: Readonly<Record<string, unknown>>;
  actionCategoricalAttributes: Readonly<Record<string, unknown>>;
}

/** What {@link encodePrecomputed} needs. */
export interface PrecomputedInput {
  subjectKey: string;
  subjectAttributes: ContextAttributes;
  environmentName: string;
  /** By plain flag key, in output order. */
  flags: ReadonlyMap<string, PrecomputedFlagInput>;
  bandits: ReadonlyMap<string, PrecomputedBanditInput>;
  salt: string;
  /** Time stamp of `createdAt` and `fetchedAt`; default now. */
  now?: Date;
}

/** A decoded flag: keys and values back in plain text, the value typed by `variationType`. */
export interface DecodedPrecomputedFlag {
  /** The allocation that assigned the variation. */
  allocationKey: string;
  /** The assigned variation key. */
  variationKey: string;
  /** Type of the flag value. */
  variationType: VariationType;
  /** INTEGER/NUMERIC → number, BOOLEAN → boolean, STRING and JSON → text (JSON stays unparsed, as Eppo ships it). */
  variationValue: string | number | boolean;
  /** Extra fields to log with the assignment. */
  extraLogging: Record<string, string>;
  /** Whether an exposure event should be logged. */
  doLog: boolean;
}

/** A decoded bandit draw; numeric action attributes are numbers again, categorical ones text. */
export interface DecodedPrecomputedBandit {
  /** The bandit key. */
  banditKey: string;
  /** The chosen action key. */
  action: string;
  /** Probability with which the action was drawn. */
  actionProbability: number;
  /** Score gap between the best-scoring action and the chosen one. */
  optimalityGap: number;
  /** Version of the bandit model that made the choice. */
  modelVersion: string;
  /** The action's numeric attributes. */
  actionNumericAttributes: Record<string, number>;
  /** The action's categorical attributes. */
  actionCategoricalAttributes: Record<string, string>;
}

/** A decoded precomputed envelope. Maps stay keyed as on the wire (`md5(salt + flagKey)` when obfuscated). */
export interface DecodedPrecomputed {
  /** Envelope version (1). */
  version: number;
  /** The subject key. */
  subjectKey: string;
  /** The subject's attributes, or null if absent. */
  subjectAttributes: ContextAttributes | null;
  /** When the response was fetched (ISO), or null if absent. */
  fetchedAt: string | null;
  /** When the response was created (ISO), '' if absent. */
  createdAt: string;
  /** The response format ("PRECOMPUTED"), '' if absent. */
  format: string;
  /** Whether the response was obfuscated (map keys hashed, keys and values encoded). */
  obfuscated: boolean;
  /** Salt of the hashed map keys (used verbatim), '' if absent. */
  salt: string;
  /** The environment, or null if absent. */
  environment: { name: string } | null;
  /** The flags by wire key. */
  flags: Record<string, DecodedPrecomputedFlag>;
  /** The bandits by wire key. */
  bandits: Record<string, DecodedPrecomputedBandit>;
}

/** A fresh random salt: 16 bytes from `crypto.getRandomValues`, base64. */
export function randomSalt(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return btoa(String.fromCharCode(...bytes));
}

/** The map key of a flag in a precomputed response: md5 hex of `salt + flagKey` (salt verbatim). */
export function precomputedFlagKey(salt: string, flagKey: string): string {
  return md5Hex(salt + flagKey);
}

function encodeEntries(record: Readonly<Record<string, unknown>>): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(record)) out[encodeBase64(k)] = encodeBase64(String(v));
  return { ...out };
}

/**
 * Build the obfuscated precomputed wire envelope.
 * @returns the envelope as JSON text.
 */
export function encodePrecomputed(input: PrecomputedInput): string {
  const { salt } = input;
  const now = (input.now ?? new Date()).toISOString();
  const flags: Record<string, unknown> = {};
  for (const [flagKey, f] of input.flags) {
    define(flags, precomputedFlagKey(salt, flagKey), {
      allocationKey: encodeBase64(f.allocationKey),
      variationKey: encodeBase64(f.variationKey),
      variationType: f.variationType,
      variationValue: encodeBase64(f.variationValue),
      extraLogging: encodeEntries(f.extraLogging),
      doLog: f.doLog,
    });
  }
  const bandits: Record<string, unknown> = {};
  for (const [flagKey, b] of input.bandits) {
    define(bandits, precomputedFlagKey(salt, flagKey), {
      banditKey: encodeBase64(b.banditKey),
      action: encodeBase64(b.action),
      actionProbability: b.actionProbability,
      optimalityGap: b.optimalityGap,
      modelVersion: encodeBase64(b.modelVersion),
      actionNumericAttributes: encodeEntries(b.actionNumericAttributes),
      actionCategoricalAttributes: encodeEntries(b.actionCategoricalAttributes),
    });
  }
  const response = {
    createdAt: now,
    format: 'PRECOMPUTED',
    salt,
    obfuscated: true,
    environment: { name: input.environmentName },
    flags,
    bandits,
  };
  return JSON.stringify({
    version: 1,
    precomputed: {
      subjectKey: input.subjectKey,
      subjectAttributes: {
        numericAttributes: input.subjectAttributes.numericAttributes,
        categoricalAttributes: input.subjectAttributes.categoricalAttributes,
      },
      fetchedAt: now,
      response: JSON.stringify(response),
    },
  });
}

function define(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

type Json = Record<string, unknown>;

function obj(value: unknown, path: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`Precomputed configuration: ${path} must be an object`);
  return value as Json;
}

function str(o: Json, name: string, path: string): string {
  const v = o[name];
  if (typeof v !== 'string') throw new TypeError(`Precomputed configuration: ${path}.${name} must be a string`);
  return v;
}

function decodeValue(text: string, type: VariationType): string | number | boolean {
  if (type === 'INTEGER' || type === 'NUMERIC') return Number(text);
  if (type === 'BOOLEAN') return text === 'true';
  return text;
}

/**
 * Decode a precomputed wire envelope (obfuscated, or the plain form with `obfuscated: false`).
 * @param wire the envelope as JSON text or object; its `response` may be JSON text or an object.
 * @returns keys and values in plain text, maps keyed as on the wire; use {@link lookupPrecomputedFlag} by flag key.
 * @throws {SyntaxError} for invalid JSON; {TypeError} naming the path of a malformed part.
 * @example lookupPrecomputedFlag(decodePrecomputed(text), 'string-flag')?.variationValue
 */
export function decodePrecomputed(wire: string | object): DecodedPrecomputed {
  const root = obj(typeof wire === 'string' ? JSON.parse(wire) : wire, '$');
  const pre = obj(root.precomputed, '$.precomputed');
  const rawResponse = typeof pre.response === 'string' ? JSON.parse(pre.response) : pre.response;
  const response = obj(rawResponse, '$.precomputed.response');
  const obfuscated = response.obfuscated === true;
  const d = obfuscated ? decodeBase64 : (s: string) => s;
  const flags: Record<string, DecodedPrecomputedFlag> = {};
  for (const [key, raw] of Object.entries(obj(response.flags ?? {}, '$.precomputed.response.flags'))) {
    const p = `$.precomputed.response.flags[${JSON.stringify(key)}]`;
    const f = obj(raw, p);
    const variationType = str(f, 'variationType', p) as VariationType;
    const value = f.variationValue;
    const extra: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(f.extraLogging ?? {}, `${p}.extraLogging`))) define(extra, d(k), d(String(v)));
    define(flags, key, {
      allocationKey: d(typeof f.allocationKey === 'string' ? f.allocationKey : ''),
      variationKey: d(typeof f.variationKey === 'string' ? f.variationKey : ''),
      variationType,
      variationValue: obfuscated ? decodeValue(decodeBase64(str(f, 'variationValue', p)), variationType) : (value as string | number | boolean),
      extraLogging: extra,
      doLog: f.doLog === true,
    });
  }
  const bandits: Record<string, DecodedPrecomputedBandit> = {};
  for (const [key, raw] of Object.entries(obj(response.bandits ?? {}, '$.precomputed.response.bandits'))) {
    const p = `$.precomputed.response.bandits[${JSON.stringify(key)}]`;
    const b = obj(raw, p);
    const numeric: Record<string, number> = {};
    for (const [k, v] of Object.entries(obj(b.actionNumericAttributes ?? {}, `${p}.actionNumericAttributes`))) define(numeric, d(k), obfuscated ? Number(decodeBase64(String(v))) : (v as number));
    const categorical: Record<string, string> = {};
    for (const [k, v] of Object.entries(obj(b.actionCategoricalAttributes ?? {}, `${p}.actionCategoricalAttributes`))) define(categorical, d(k), d(String(v)));
    define(bandits, key, {
      banditKey: d(str(b, 'banditKey', p)),
      action: d(str(b, 'action', p)),
      actionProbability: Number(b.actionProbability),
      optimalityGap: Number(b.optimalityGap),
      modelVersion: d(str(b, 'modelVersion', p)),
      actionNumericAttributes: numeric,
      actionCategoricalAttributes: categorical,
    });
  }
  const env = response.environment;
  return {
    version: Number(root.version),
    subjectKey: str(pre, 'subjectKey', '$.precomputed'),
    subjectAttributes: (pre.subjectAttributes as ContextAttributes | undefined) ?? null,
    fetchedAt: typeof pre.fetchedAt === 'string' ? pre.fetchedAt : null,
    createdAt: typeof response.createdAt === 'string' ? response.createdAt : '',
    format: typeof response.format === 'string' ? response.format : '',
    obfuscated,
    salt: typeof response.salt === 'string' ? response.salt : '',
    environment: env && typeof env === 'object' && typeof (env as Json).name === 'string' ? { name: (env as Json).name as string } : null,
    flags,
    bandits,
  };
}

function lookup<T>(decoded: DecodedPrecomputed, map: Record<string, T>, flagKey: string): T | null {
  const key = decoded.obfuscated ? precomputedFlagKey(decoded.salt, flagKey) : flagKey;
  return Object.prototype.hasOwnProperty.call(map, key) ? map[key]! : null;
}

/** A decoded flag by its plain key (hashed with the envelope's salt when obfuscated), or null. */
export function lookupPrecomputedFlag(decoded: DecodedPrecomputed, flagKey: string): DecodedPrecomputedFlag | null {
  return lookup(decoded, decoded.flags, flagKey);
}

/** A decoded bandit draw by its plain flag key, or null. */
export function lookupPrecomputedBandit(decoded: DecodedPrecomputed, flagKey: string): DecodedPrecomputedBandit | null {
  return lookup(decoded, decoded.bandits, flagKey);
}
