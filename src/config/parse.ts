/**
 * JSON text or value → validated wire types. Errors name the JSON path of the first problem.
 * @module
 */
import * as v from 'valibot';
import { ConfigError } from '../errors.ts';
import { type ConfigWire, ConfigSchema, type FlagWire, FlagSchema, isFlagWire, issueText } from './wire.ts';

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
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new ConfigError(`Cannot parse configuration at $: expected a UFC object, got ${describe(doc)}`, '$');
  }
  const result = v.safeParse(ConfigSchema, doc);
  if (!result.success) {
    const issue = result.issues[0];
    const path = jsonPath(issue);
    throw new ConfigError(`Cannot parse configuration at ${path}: ${issueText(issue)}`, path);
  }
  const flags = new Map<string, ParsedFlag>();
  for (const key of Object.keys(result.output.flags)) {
    const raw = result.output.flags[key];
    if (own && isFlagWire(raw)) {
      flags.set(key, { ok: true, flag: raw });
      continue;
    }
    const parsed = v.safeParse(FlagSchema, raw);
    if (parsed.success) flags.set(key, { ok: true, flag: parsed.output });
    else {
      const issue = parsed.issues[0];
      flags.set(key, { ok: false, error: `Invalid flag configuration at ${jsonPath(issue, `$.flags${segment(key)}`)}: ${issueText(issue)}` });
    }
  }
  return { wire: result.output, flags };
}

/**
 * "not JSON", with the position when the engine gives one. Engines quote the text around the error in their
 * messages (V8: `"…" is not valid JSON`); those bytes come from a response body, so only the numbers are kept.
 */
export function jsonErrorText(err: unknown): string {
  const message = err instanceof Error ? err.message : '';
  const at = /position (\d+)/.exec(message) ?? /line (\d+) column (\d+)/.exec(message);
  if (at === null) return 'not JSON';
  return at.length === 3 ? `not JSON (at line ${at[1]} column ${at[2]})` : `not JSON (at position ${at[1]})`;
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
