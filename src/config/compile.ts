/**
 * Wire types → an immutable compiled snapshot: salts pre-encoded, condition values pre-parsed (numbers, semver,
 * regexes, ONE_OF sets), obfuscated (CLIENT) configs decoded once, and each broken flag kept with its reason.
 * @module
 */
import type { VariationType } from '../errors.ts';
import { type CompiledRegex, compileRegex, isBoundedForBacktracking } from './regex.ts';
import { type LazyParsedConfig, type ParsedConfig, parseConfig, parseConfigLazily } from './parse.ts';
import { type SemVer, parseSemver } from './semver.ts';
import { decodeBase64, isWellFormed, md5Hex, utf8 } from './encoding.ts';
import { type ConditionWire, type ConfigWire, type FlagWire, OBFUSCATED_FORMATS, type RuleWire } from './wire.ts';

/** A variation with its value decoded and checked against the flag's type once. */
export interface Variation {
  readonly key: string;
  readonly value: string | number | boolean;
  /** `checkValueTypeMatch` of Eppo against the flag's own type (eppo-spec §1.3). */
  readonly typeOk: boolean;
  /** For JSON flags: the message of `JSON.parse` when the text is not JSON. */
  readonly jsonError: string | null;
}

/** One shard test: md5(salt + "-" + subjectKey) mod totalShards in any of the ranges. */
export interface Shard {
  /** UTF-8 bytes of `salt + "-"`, encoded once. */
  readonly saltDash: Uint8Array;
  /** The salt, kept for the lone-surrogate check (Eppo throws while hashing it). */
  readonly salt: string;
  readonly saltWellFormed: boolean;
  /** Flattened half-open ranges: start0, end0, start1, end1, … */
  readonly ranges: readonly number[];
}

export interface Split {
  readonly variationKey: string;
  /** Undefined when the key is not among the flag's variations (an evaluation error, as in Eppo). */
  readonly variation: Variation | undefined;
  /** Shards left to test; shards whose ranges cover every shard are dropped. */
  readonly shards: readonly Shard[];
  /** The split had shards on the wire, so Eppo hashes the subject key (and fails on a lone surrogate). */
  readonly hashesSubject: boolean;
  /** `split.shards.length > 1` on the wire; used only in the MATCH description. */
  readonly isPartialRollout: boolean;
  /** "allocationKey;variationKey": what the dedupe cache stores for an exposure from this split (one string per split). */
  readonly logValue: string;
  readonly extraLogging: Readonly<Record<string, string>>;
  /** Eppo's MATCH description around the subject key: `before + subjectKey + after`, or `before` alone (after null). */
  readonly matchText: readonly [before: string, after: string | null];
}

export type Comparison = 'GT' | 'GTE' | 'LT' | 'LTE';

/** A condition with its operand parsed once; `attribute` is md5-hashed in obfuscated configs. */
export type Condition =
  | { readonly op: 'IS_NULL'; readonly attribute: string; readonly isNull: boolean }
  | { readonly op: 'ONE_OF' | 'NOT_ONE_OF'; readonly attribute: string; readonly values: ReadonlySet<string> | null; readonly hashed: boolean }
  | { readonly op: 'MATCHES' | 'NOT_MATCHES'; readonly attribute: string; readonly regex: CompiledRegex }
  | { readonly op: Comparison; readonly attribute: string; readonly semver: SemVer | null; readonly number: number }
  | { readonly op: 'UNKNOWN'; readonly attribute: string };

export interface Rule {
  /** The rule as received (obfuscated when the config is), reported as `matchedRule`. */
  readonly wire: RuleWire;
  readonly conditions: readonly Condition[];
}

export interface Allocation {
  readonly key: string;
  /** An exposure event's `experiment` (`<flag's key>-<allocation key>`) in a plain config; '' in an obfuscated one, whose events name the flag by the key asked for. */
  readonly experiment: string;
  /** 1-based position, Eppo's `orderPosition`. */
  readonly position: number;
  /** Epoch ms; NaN when absent or unparseable (the bound is then ignored, as in Eppo JS). */
  readonly startMs: number;
  readonly endMs: number;
  /** Empty: everyone matches. */
  readonly rules: readonly Rule[];
  readonly splits: readonly Split[];
  readonly doLog: boolean;
}

export interface CompiledFlag {
  readonly kind: 'flag';
  /** The key as it appears in the config (md5 hex in obfuscated configs). */
  readonly key: string;
  /** The flag's own `key` field; Eppo names plain flags by it in exposure events, null when absent. */
  readonly configKey: string | null;
  readonly enabled: boolean;
  readonly variationType: VariationType;
  readonly totalShards: number;
  readonly allocations: readonly Allocation[];
  /** Whether an allocation has a start or end time: the getters read the clock only for such flags. */
  readonly timed: boolean;
  readonly entityId: number | null;
}

/** A flag that failed validation: it evaluates to the default with this reason; the other flags load. */
export interface BrokenFlag {
  readonly kind: 'broken';
  readonly key: string;
  readonly error: string;
}

/** One immutable config version. */
export interface CompiledConfig {
  /** The config `format` ("SERVER" when absent; "CLIENT" configs are obfuscated). */
  readonly format: string;
  /** Whether flag keys and values are obfuscated (client configs). */
  readonly obfuscated: boolean;
  /** Name of the environment the config belongs to. */
  readonly environmentName: string;
  /** `createdAt` of the config, Eppo's configPublishedAt. */
  readonly createdAt: string;
  /** When this snapshot was made (ISO), Eppo's configFetchedAt. */
  readonly fetchedAt: string;
  /**
   * By config key, in config order. The compiled form is internal and may change between versions.
   * @ignore
   */
  readonly flags: ReadonlyMap<string, CompiledFlag | BrokenFlag>;
  /** The validated document, for export and relaying. */
  readonly wire: ConfigWire;
  /** Problems that do not stop loading, e.g. patterns that cannot run in linear time. */
  readonly warnings: readonly string[];
}

/** Options of {@link compileConfig}. */
export interface CompileOptions {
  /** Time the config was obtained, epoch ms; defaults to now. */
  readonly fetchedAt?: number;
}

/**
 * Parse (if needed) and compile a UFC document. Plain (SERVER) text or bytes load lazily: the text is scanned
 * once, the document around the flags is parsed and checked now, and each flag is parsed, checked and compiled on
 * first use (parseConfigLazily); a flag whose own text is not valid JSON is then a broken flag (default + reason),
 * where an eager JSON.parse would reject the whole document. Objects and obfuscated configs are checked at load.
 * @param input JSON text, bytes, a parsed object, or the output of parseConfig.
 * @returns the immutable snapshot.
 * @throws {SyntaxError} for text that is not JSON; {ConfigError} for a document that is not UFC.
 * @example const config = compileConfig(await (await fetch(url)).text());
 */
export function compileConfig(input: unknown, options: CompileOptions = {}): CompiledConfig {
  const text = input instanceof Uint8Array ? new TextDecoder().decode(input) : input;
  const lazy = typeof text === 'string' ? parseConfigLazily(text) : null;
  const parsed = lazy === null ? (isParsed(text) ? text : parseConfig(text)) : null;
  const wire = lazy?.wire ?? parsed!.wire;
  const format = wire.format ?? 'SERVER';
  const obfuscated = OBFUSCATED_FORMATS.has(format);
  const warnings: string[] = [];
  // Equal salts share one encoded instance, so batch evaluation hashes each (salt, subject) once.
  const salts = new Map<string, { saltDash: Uint8Array; wellFormed: boolean }>();
  const compile = (key: string, flag: FlagWire, warn: (warning: string) => void): CompiledFlag | BrokenFlag => {
    try {
      return compileFlag(key, flag, obfuscated, warn, salts);
    } catch (err) {
      return { kind: 'broken', key, error: (err as Error).message };
    }
  };
  const flags = new FlagTable(compile, lazy, warnings);
  if (lazy !== null) for (const key of lazy.keys) flags.defer(key, null);
  else {
    for (const [key, entry] of parsed!.flags) {
      if (!entry.ok) flags.set(key, { kind: 'broken', key, error: entry.error });
      // Obfuscated flags are decoded now (decoding may fail: the flag is then broken from the start).
      else if (obfuscated) flags.set(key, compile(key, entry.flag, (w) => warnings.push(w)));
      else flags.defer(key, entry.flag);
    }
  }
  return Object.freeze({
    format,
    obfuscated,
    environmentName: wire.environment?.name ?? '',
    createdAt: wire.createdAt ?? '',
    fetchedAt: new Date(options.fetchedAt ?? Date.now()).toISOString(),
    flags,
    wire,
    warnings,
  });
}

const PENDING: BrokenFlag = Object.freeze({ kind: 'broken', key: '', error: 'not compiled' });

type Compile = (key: string, flag: FlagWire, warn: (warning: string) => void) => CompiledFlag | BrokenFlag;

/**
 * The flags of a snapshot, each compiled on first use: a process pays the compile of the flags it evaluates (tens
 * of µs each, once). Plain flags only. A flag deferred with its validated wire form (a config given as an object)
 * has had its patterns checked at load, so a pattern that cannot run in linear time is reported when the config
 * loads. A flag deferred without (a config given as text, parsed lazily) is parsed and checked on first use: a
 * 1,000-flag config loads in the time of one scan of its text; what that check finds (a broken flag, such a
 * pattern) goes to the listeners of {@link watchLateWarnings}, and the flag serves defaults with the reason.
 * {@link brokenFlags} with `validate` checks them all at once instead. Iterating compiles every flag left.
 */
class FlagTable extends Map<string, CompiledFlag | BrokenFlag> {
  readonly #compile: Compile;
  readonly #lazy: LazyParsedConfig | null;
  readonly #warnings: string[];
  /** Deferred flags: their wire form, or null while still unparsed text. */
  #pending: Map<string, FlagWire | null> | null = null;
  #listeners: ((warning: string) => void)[] = [];

  constructor(compile: Compile, lazy: LazyParsedConfig | null, warnings: string[]) {
    super();
    this.#compile = compile;
    this.#lazy = lazy;
    this.#warnings = warnings;
  }

  /** Add a flag compiled on first use: validated (its MATCHES patterns are checked now), or null: lazily parsed. */
  defer(key: string, flag: FlagWire | null): void {
    if (flag !== null) checkPatterns(key, flag, (w) => this.#warnings.push(w));
    (this.#pending ??= new Map()).set(key, flag);
    super.set(key, PENDING);
  }

  override get(key: string): CompiledFlag | BrokenFlag | undefined {
    const entry = super.get(key);
    return entry === PENDING ? this.#build(key) : entry;
  }

  override forEach(fn: (value: CompiledFlag | BrokenFlag, key: string, map: Map<string, CompiledFlag | BrokenFlag>) => void, thisArg?: unknown): void {
    this.#buildAll();
    super.forEach(fn, thisArg);
  }

  override entries(): MapIterator<[string, CompiledFlag | BrokenFlag]> {
    this.#buildAll();
    return super.entries();
  }

  override values(): MapIterator<CompiledFlag | BrokenFlag> {
    this.#buildAll();
    return super.values();
  }

  override [Symbol.iterator](): MapIterator<[string, CompiledFlag | BrokenFlag]> {
    return this.entries();
  }

  /** Call `fn` with each problem found when a lazily parsed flag is first used. */
  watch(fn: (warning: string) => void): void {
    this.#listeners.push(fn);
  }

  /** The broken flags; `validate`: parse and check every lazily parsed flag first (warnings then come at load). */
  broken(validate: boolean): BrokenFlag[] {
    if (validate && this.#pending !== null) {
      for (const [key, flag] of this.#pending) {
        if (flag !== null) continue;
        const parsed = this.#lazy!.flag(key);
        if (parsed.ok) this.defer(key, parsed.flag);
        else {
          this.#pending.delete(key);
          super.set(key, { kind: 'broken', key, error: parsed.error });
        }
      }
    }
    const out: BrokenFlag[] = [];
    for (const entry of super.values()) if (entry.kind === 'broken' && entry !== PENDING) out.push(entry);
    return out;
  }

  #build(key: string): CompiledFlag | BrokenFlag {
    const pending = this.#pending!;
    const wire = pending.get(key)!;
    pending.delete(key);
    let flag: CompiledFlag | BrokenFlag;
    if (wire !== null) flag = this.#compile(key, wire, (w) => this.#warnings.push(w));
    else {
      const late = (warning: string): void => {
        for (const fn of this.#listeners) fn(warning);
      };
      const parsed = this.#lazy!.flag(key);
      if (parsed.ok) {
        checkPatterns(key, parsed.flag, late);
        flag = this.#compile(key, parsed.flag, late);
      } else {
        flag = { kind: 'broken', key, error: parsed.error };
        late(`${parsed.error}; the flag serves defaults`);
      }
    }
    super.set(key, flag);
    return flag;
  }

  #buildAll(): void {
    if (this.#pending === null) return;
    for (const key of [...this.#pending.keys()]) this.#build(key);
    this.#pending = null;
  }
}

/**
 * The broken flags of a snapshot's flags, without compiling the flags not used yet.
 * @param validate also parse and check the flags of a lazily parsed config not used yet (else they are not known
 *   to be broken before their first use).
 */
export function brokenFlags(flags: ReadonlyMap<string, CompiledFlag | BrokenFlag>, validate: boolean): BrokenFlag[] {
  if (flags instanceof FlagTable) return flags.broken(validate);
  const out: BrokenFlag[] = [];
  for (const entry of flags.values()) if (entry.kind === 'broken') out.push(entry);
  return out;
}

/**
 * Send to `fn` the problems found when a flag of `flags` parsed lazily is first used (a flag that is not valid,
 * a pattern that cannot run in linear time): the warnings that a config given as an object reports at load.
 */
export function watchLateWarnings(flags: ReadonlyMap<string, CompiledFlag | BrokenFlag>, fn: (warning: string) => void): void {
  if (flags instanceof FlagTable) flags.watch(fn);
}

/** Warn about each MATCHES pattern of a plain flag that cannot run in linear time. */
function checkPatterns(key: string, flag: FlagWire, warn: (warning: string) => void): void {
  for (const a of flag.allocations) {
    for (const rule of a.rules ?? []) for (const c of rule.conditions) if (c.operator === 'MATCHES' || c.operator === 'NOT_MATCHES') warnUnsupported(c, key, warn);
  }
}

/**
 * The load-time warning of a MATCHES pattern that cannot run in linear time. A pattern the backtracking bound
 * accepts runs on the native RegExp and needs no look now; any other is compiled ahead of its flag (compileRegex
 * caches it by source).
 */
function warnUnsupported(c: ConditionWire, flagKey: string, warn: (warning: string) => void): void {
  const source = c.value === undefined ? '(?:)' : String(c.value);
  if (isBoundedForBacktracking(source)) return;
  const regex = compileRegex(source);
  if (regex.kind === 'unsupported') warn(unsupportedWarning(flagKey, regex.message));
}

function unsupportedWarning(flagKey: string, message: string): string {
  return `Flag "${flagKey}": ${message}; the condition is false.`;
}

function isParsed(input: unknown): input is ParsedConfig {
  return typeof input === 'object' && input !== null && 'wire' in input && (input as ParsedConfig).flags instanceof Map;
}

/** The extraLogging of every split without one (most): one shared empty object. */
const NO_EXTRA_LOGGING: Readonly<Record<string, string>> = Object.freeze(Object.create(null));

function compileFlag(key: string, flag: FlagWire, obfuscated: boolean, warn: (warning: string) => void, salts: Map<string, { saltDash: Uint8Array; wellFormed: boolean }>): CompiledFlag {
  const text = obfuscated ? decodeBase64 : (s: string) => s;
  const variations = new Map<string, Variation>();
  for (const name of Object.keys(flag.variations)) {
    const wireVariation = flag.variations[name];
    // Eppo looks a plain variation up by its map key and reports its `key`; decoding rebuilds the map from `key`.
    const reported = text(wireVariation.key);
    const value = obfuscated ? decodeValue(wireVariation.value, flag.variationType) : wireVariation.value;
    variations.set(obfuscated ? reported : name, makeVariation(reported, value, flag.variationType));
  }
  const allocations = flag.allocations.map((a, i): Allocation => ({
    key: text(a.key),
    experiment: obfuscated ? '' : `${flag.key ?? key}-${a.key}`,
    position: i + 1,
    startMs: timeBound(a.startAt, obfuscated),
    endMs: timeBound(a.endAt, obfuscated),
    rules: (a.rules ?? []).map((rule) => ({
      wire: rule,
      conditions: rule.conditions.map((c) => compileCondition(c, obfuscated, key, warn)),
    })),
    splits: a.splits.map((split): Split => {
      const variationKey = text(split.variationKey);
      const shards = split.shards.map((s): Shard => {
        const salt = text(s.salt);
        let known = salts.get(salt);
        if (known === undefined) salts.set(salt, (known = { saltDash: utf8(`${salt}-`), wellFormed: isWellFormed(salt) }));
        const ranges: number[] = [];
        for (const r of s.ranges) ranges.push(r.start, r.end);
        return { salt, saltDash: known.saltDash, saltWellFormed: known.wellFormed, ranges };
      });
      let extraLogging: Record<string, string> | null = null;
      const extra = split.extraLogging;
      for (const k in extra) {
        if (Object.hasOwn(extra, k)) (extraLogging ??= Object.create(null) as Record<string, string>)[text(k)] = text(extra[k]);
      }
      return {
        variationKey,
        variation: variations.get(variationKey),
        // Dropping a shard that covers [0, totalShards) changes nothing but work, unless hashing its salt
        // would throw; such shards stay so the error surfaces exactly where Eppo's would.
        shards: shards.filter((s) => !s.saltWellFormed || !coversAll(s.ranges, flag.totalShards)),
        hashesSubject: split.shards.length > 0,
        isPartialRollout: split.shards.length > 1,
        logValue: `${text(a.key)};${variations.get(variationKey)?.key ?? variationKey}`,
        extraLogging: extraLogging ?? NO_EXTRA_LOGGING,
        matchText: matchText(text(a.key), variationKey, (a.rules ?? []).length > 0, a.splits.length > 1 || split.shards.length > 1),
      };
    }),
    doLog: a.doLog === true,
  }));
  return {
    kind: 'flag',
    key,
    configKey: flag.key ?? null,
    enabled: flag.enabled === true,
    variationType: flag.variationType,
    totalShards: flag.totalShards,
    allocations,
    timed: allocations.some((a) => !Number.isNaN(a.startMs) || !Number.isNaN(a.endMs)),
    entityId: flag.entityId ?? null,
  };
}

/** Eppo's MATCH description of a split (eppo-spec §2.9), split around the subject key it names. */
function matchText(allocationKey: string, variationKey: string, hasRules: boolean, experimentOrPartialRollout: boolean): readonly [string, string | null] {
  if (hasRules && experimentOrPartialRollout) {
    return [`Supplied attributes match rules defined in allocation "${allocationKey}" and `, ` belongs to the range of traffic assigned to "${variationKey}".`];
  }
  if (hasRules) return [`Supplied attributes match rules defined in allocation "${allocationKey}".`, null];
  return ['', ` belongs to the range of traffic assigned to "${variationKey}" defined in allocation "${allocationKey}".`];
}

function coversAll(ranges: readonly number[], totalShards: number): boolean {
  for (let i = 0; i < ranges.length; i += 2) if (ranges[i] <= 0 && ranges[i + 1] >= totalShards) return true;
  return false;
}

function makeVariation(key: string, value: unknown, type: VariationType): Variation {
  let typeOk: boolean;
  switch (type) {
    case 'STRING':
    case 'JSON':
      typeOk = typeof value === 'string';
      break;
    case 'BOOLEAN':
      typeOk = typeof value === 'boolean';
      break;
    case 'INTEGER':
      typeOk = typeof value === 'number' && Number.isInteger(value);
      break;
    case 'NUMERIC':
      typeOk = typeof value === 'number';
      break;
  }
  let jsonError: string | null = null;
  if (type === 'JSON' && typeof value === 'string') {
    try {
      JSON.parse(value);
    } catch (err) {
      jsonError = (err as Error).message;
    }
  }
  return { key, value: value as Variation['value'], typeOk, jsonError };
}

function decodeValue(encoded: unknown, type: VariationType): string | number | boolean {
  const text = decodeBase64(String(encoded));
  if (type === 'INTEGER' || type === 'NUMERIC') return Number(text);
  if (type === 'BOOLEAN') return text === 'true';
  return text;
}

function timeBound(value: string | null | undefined, obfuscated: boolean): number {
  if (!value) return Number.NaN;
  // Eppo decodes obfuscated bounds with `new Date(s).toISOString()`, which throws on garbage: the flag is broken.
  return obfuscated ? Date.parse(new Date(decodeBase64(value)).toISOString()) : Date.parse(value);
}

const OBFUSCATED_OPERATORS: ReadonlyMap<string, string> = new Map(
  ['MATCHES', 'NOT_MATCHES', 'GTE', 'GT', 'LTE', 'LT', 'ONE_OF', 'NOT_ONE_OF', 'IS_NULL'].map((op) => [md5Hex(op), op]),
);
const MD5_TRUE = md5Hex('true');

function compileCondition(c: ConditionWire, obfuscated: boolean, flagKey: string, warn: (warning: string) => void): Condition {
  const attribute = c.attribute;
  const op = obfuscated ? OBFUSCATED_OPERATORS.get(c.operator) : c.operator;
  switch (op) {
    case 'IS_NULL':
      return { op, attribute, isNull: obfuscated ? c.value === MD5_TRUE : Boolean(c.value) };
    case 'ONE_OF':
    case 'NOT_ONE_OF':
      // Eppo compares with `===` against each listed string, so non-strings in the list never match.
      return { op, attribute, hashed: obfuscated, values: Array.isArray(c.value) ? new Set(c.value.filter((x) => typeof x === 'string')) : null };
    case 'MATCHES':
    case 'NOT_MATCHES': {
      const source = obfuscated ? decodeBase64(String(c.value)) : c.value === undefined ? '(?:)' : String(c.value);
      const regex = compileRegex(source);
      // Plain flags' patterns were reported before their compile (checkPatterns).
      if (regex.kind === 'unsupported' && obfuscated) warn(unsupportedWarning(flagKey, regex.message));
      return { op, attribute, regex };
    }
    case 'GT':
    case 'GTE':
    case 'LT':
    case 'LTE': {
      // Semver or number is decided on the condition value (eppo-spec §2.5).
      const operand = obfuscated ? decodeBase64(String(c.value)) : c.value;
      const semver = typeof operand === 'string' ? parseSemver(operand) : null;
      return { op, attribute, semver, number: semver ? Number.NaN : toNumber(operand) };
    }
    default:
      return { op: 'UNKNOWN', attribute };
  }
}

function toNumber(value: unknown): number {
  try {
    return Number(value);
  } catch {
    return Number.NaN;
  }
}
