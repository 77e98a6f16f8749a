/**
 * JSON text or value → validated wire types. Errors name the JSON path of the first problem.
 * @module
 */
import * as v from 'valibot';
import { ConfigError } from '../errors.ts';
import { scanConfig } from './scan.ts';
import { type ConfigWire, ConfigSchema, type FlagWire, FlagSchema, isFlagWire, issueText, OBFUSCATED_FORMATS } from './wire.ts';

/** A flag that passed the schema, or the reason it did not. */
export type ParsedFlag = { ok: true; flag: FlagWire } | { ok: false; error: string };

/** The validated document: its envelope, and each flag parsed on its own. */
export interface ParsedConfig {
  /** The document's envelope (flags as received). */
  readonly wire: ConfigWire;
  /** Each flag checked on its own, by config key. */
  readonly flags: ReadonlyMap<string, ParsedFlag>;
}

/**
 * Parse a UFC document.
 * @param input JSON text, or an already parsed object.
 * @returns the envelope and each flag, valid or with its error.
 * @throws {SyntaxError} when the text is not JSON.
 * @throws {ConfigError} when the value is not a UFC document (names the JSON path).
 * @example
 * const { flags } = parseConfig('{"flags":{}}');
 */
export function parseConfig(input: unknown): ParsedConfig {
  let doc = input;
  // A document parsed here is plain JSON data no one else holds: flags that pass isFlagWire are used as they are.
  const own = typeof input === 'string';
  if (typeof input === 'string') {
    try {
      doc = JSON.parse(input);
    } catch (err) {
      throw new SyntaxError(`Cannot parse configuration at $: ${jsonErrorText(err)}`);
    }
  } else if (input instanceof Uint8Array) {
    return parseConfig(new TextDecoder().decode(input));
  }
  const wire = parseEnvelope(doc);
  const flags = new Map<string, ParsedFlag>();
  for (const key of Object.keys(wire.flags)) flags.set(key, parseFlag(key, wire.flags[key], own));
  return { wire, flags };
}

/**
 * A plain (SERVER) UFC text parsed lazily: one structural scan (scan.ts), the document around the flags parsed
 * and validated now, each flag parsed and validated when asked for. Same results as {@link parseConfig}, except
 * that a flag whose value is not JSON (a bad token the scan does not look at) is a broken flag, not a bad document.
 */
export interface LazyParsedConfig {
  /** The envelope; its `flags` is built (all flags parsed, once) when first read. */
  readonly wire: ConfigWire;
  /** Flag keys in the order parseConfig gives them. */
  readonly keys: readonly string[];
  /** Parse and check one flag (each call parses its text again). */
  flag(key: string): ParsedFlag;
}

/**
 * Parse a plain UFC text lazily.
 * @returns null when the scan finds the text is not a plain UFC object (not JSON, or obfuscated): parseConfig
 *   then reports the error or handles the format.
 * @throws {ConfigError} when the document around the flags is not UFC (names the JSON path).
 */
export function parseConfigLazily(text: string): LazyParsedConfig | null {
  const scan = scanConfig(text);
  if (scan === null) return null;
  let doc: unknown;
  try {
    doc = JSON.parse(scan.envelope);
  } catch {
    return null;
  }
  const wire = parseEnvelope(doc);
  if (wire.format != null && OBFUSCATED_FORMATS.has(wire.format)) return null;
  const { spans, keys } = scan;
  const raw = (key: string): unknown => {
    const [start, end] = spans.get(key)!;
    return JSON.parse(text.slice(start, end));
  };
  let all: Record<string, unknown> | undefined;
  const materialize = (): Record<string, unknown> => {
    const out: Record<string, unknown> = Object.create(null);
    let parsed: Record<string, unknown> | null = null;
    try {
      parsed = JSON.parse(text.slice(scan.flagsSpan[0], scan.flagsSpan[1]));
    } catch {
      // Some flag is not JSON: the others, one by one.
    }
    for (const key of keys) {
      if (parsed !== null) out[key] = parsed[key];
      else {
        try {
          out[key] = raw(key);
        } catch {
          // Left out: the flag is broken (see flag()), and has no value to export.
        }
      }
    }
    return out;
  };
  Object.defineProperty(wire, 'flags', { enumerable: true, configurable: true, get: () => (all ??= materialize()) });
  return {
    wire,
    keys,
    flag(key: string): ParsedFlag {
      let value: unknown;
      try {
        value = raw(key);
      } catch (err) {
        return { ok: false, error: `Invalid flag configuration at $.flags${segment(key)}: ${jsonErrorText(err, spans.get(key)![0])}` };
      }
      return parseFlag(key, value, true);
    },
  };
}

/** Check the document around the flags. @throws {ConfigError} naming the JSON path of the first problem. */
function parseEnvelope(doc: unknown): ConfigWire {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`Cannot parse configuration at $: expected a UFC object, got ${describe(doc)}`, '$');
  }
  const result = v.safeParse(ConfigSchema, doc);
  if (!result.success) {
    const issue = result.issues[0];
    const path = jsonPath(issue);
    throw new ConfigError(`Cannot parse configuration at ${path}: ${issueText(issue)}`, path);
  }
  return result.output;
}

/** One flag checked on its own; `own`: the value came from our own JSON.parse, so a valid one is used as it is. */
function parseFlag(key: string, raw: unknown, own: boolean): ParsedFlag {
  if (own && isFlagWire(raw)) return { ok: true, flag: raw };
  const parsed = v.safeParse(FlagSchema, raw);
  if (parsed.success) return { ok: true, flag: parsed.output };
  const issue = parsed.issues[0];
  return { ok: false, error: `Invalid flag configuration at ${jsonPath(issue, `$.flags${segment(key)}`)}: ${issueText(issue)}` };
}

/**
 * "not JSON", with the position when the engine gives one (plus `offset`: where the parsed text began). Engines quote the text around the error in their
 * messages (V8: `"…" is not valid JSON`); those bytes come from a response body, so only the numbers are kept.
 */
export function jsonErrorText(err: unknown, offset = 0): string {
  const message = err instanceof Error ? err.message : '';
  const at = /position (\d+)/.exec(message) ?? /line (\d+) column (\d+)/.exec(message);
  if (at === null) return 'not JSON';
  return at.length === 3 ? `not JSON (at line ${at[1]} column ${at[2]})` : `not JSON (at position ${Number(at[1]) + offset})`;
}

function jsonPath(issue: v.BaseIssue<unknown>, base = '$'): string {
  let path = base;
  for (const item of issue.path ?? []) path += segment(item.key);
  return path;
}

function segment(key: unknown): string {
  if (typeof key === 'number') return `[${key}]`;
  // A name from the document: kept (it tells which flag), but never long enough to dump a body.
  const full = String(key);
  const name = full.length > 64 ? `${full.slice(0, 40)}…` : full;
  return /^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value;
}
