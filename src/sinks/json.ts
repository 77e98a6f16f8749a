/**
 * `JSON.stringify(event)`, exactly, at a fraction of its cost for a stream of events that share most of their text.
 *
 * An exposure event differs from the previous one of the same flag outcome in a few fields (subject, timestamp,
 * attributes, the description that names the subject); the rest is the same strings and the same frozen objects
 * (the client hands out one deep-frozen evaluationDetails part per outcome). For each object site the serializer
 * learns a template from the first object seen there: its keys in order, and which fields keep the same value
 * (strings and numbers by `===`, objects by identity when deep-frozen) with their JSON text pre-joined. Each event
 * is checked against the template (same keys in the same order, every fixed field still `===` its remembered
 * value); a field that differs becomes a hole for good, and only holes are serialized. Deep-frozen objects met in
 * holes twice have their text cached by identity. Anything else — a custom prototype, a `toJSON`, a BigInt, an
 * `undefined` or function value, more nesting than {@link MAX_DEPTH} — goes to `JSON.stringify` of the whole
 * event, so the text is JSON.stringify's in every case: the check costs a few comparisons per field, never a guess.
 * @module
 */

/** Object levels served by templates; deeper values are serialized by JSON.stringify (exact as well). */
const MAX_DEPTH = 4;
/** Templates kept per site (most recently used first). */
const MAX_TEMPLATES = 8;

const OBJECT_PROTO = Object.prototype;
const ARRAY_PROTO = Array.prototype;
const isArray = Array.isArray;
const getPrototypeOf = Object.getPrototypeOf;
/** Characters JSON.stringify escapes in a string: quote, backslash, controls and (lone) surrogates. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON text of deep-frozen plain objects and arrays that were met twice (a frozen object cannot change). */
const frozenText = new WeakMap<object, string>();
/** Frozen objects met once lately: met again, they are shared and their text is cached. */
const recentFrozen: (object | null)[] = new Array(32).fill(null);
let recentAt = 0;
/** The value of a template field not met yet. */
const UNSEEN: unique symbol = Symbol('unseen');

interface Template {
  readonly keys: readonly string[];
  /** Per field: the value is known (`values[i]`) and its text is part of `pieces`. */
  readonly fixed: boolean[];
  readonly values: unknown[];
  /** Per field: `"key":`. */
  readonly keyTexts: readonly string[];
  /** Per field: JSON text of a fixed value. */
  readonly texts: string[];
  /** Per hole field: the templates of the objects found there. */
  readonly children: (Template[] | undefined)[];
  /** Field indexes of the holes, in order. */
  holes: number[];
  /** `pieces[j]` precedes hole j; the last piece closes the object (holes.length + 1 pieces). */
  pieces: string[];
}

/** Serializes events as `JSON.stringify` does, learning the text they share (one instance per stream). */
export class EventSerializer {
  readonly #site: Template[] = [];
  /** Field texts of the object being serialized, per depth. */
  readonly #scratch: string[][] = Array.from({ length: MAX_DEPTH + 1 }, () => []);

  /** `JSON.stringify(event)`; throws where it throws (a cycle, a BigInt). */
  stringify(event: unknown): string {
    // A toJSON on the shared prototypes would apply to every object, cached ones included.
    if (
      typeof event !== 'object' || event === null || getPrototypeOf(event) !== OBJECT_PROTO || typeof (event as { toJSON?: unknown }).toJSON === 'function' ||
      (OBJECT_PROTO as { toJSON?: unknown }).toJSON !== undefined || (ARRAY_PROTO as { toJSON?: unknown }).toJSON !== undefined
    ) return JSON.stringify(event);
    const text = this.#object(event as Record<string, unknown>, this.#site, 0);
    if (text === null) return JSON.stringify(event);
    // The text is a rope of shared pieces and hole texts. Reading a character in its middle makes the engine flatten
    // it now, into one string: a line waiting in a sink's queue then costs the garbage collector one object instead of
    // a tree of them (measured on Node 20 into the file sink: 152k → 172-181k events/s, 115k → 141-153k per CPU-second).
    text.charCodeAt(text.length >> 1);
    return text;
  }

  /** The JSON text of a plain object without toJSON, or null when it needs JSON.stringify of the whole event. */
  #object(o: Record<string, unknown>, site: Template[], depth: number): string | null {
    const keys = Object.keys(o);
    // Each property is read once, in order, as JSON.stringify reads it (one native call: no per-key lookups).
    const values = Object.values(o);
    // A getter that removed a later property: JSON.stringify decides.
    if (values.length !== keys.length) return null;
    const t = find(site, keys) ?? create(site, keys);
    const scratch = this.#scratch[depth];
    let changed = false;
    for (let i = 0; i < keys.length; i++) {
      const v = values[i];
      if (t.fixed[i]) {
        if (v === t.values[i]) continue;
        if (t.values[i] === UNSEEN && fixable(v)) {
          // A new template learns the field's value.
          t.values[i] = v;
          t.texts[i] = JSON.stringify(v);
          changed = true;
          continue;
        }
        t.fixed[i] = false;
        t.values[i] = undefined;
        changed = true;
      }
      const text = this.#value(v, t, i, depth);
      if (text === null) {
        if (changed) join(t);
        return null;
      }
      scratch[i] = text;
    }
    if (changed) join(t);
    const holes = t.holes;
    const pieces = t.pieces;
    let out = pieces[0];
    for (let j = 0; j < holes.length; j++) out += scratch[holes[j]] + pieces[j + 1];
    return out;
  }

  #value(v: unknown, t: Template, i: number, depth: number): string | null {
    switch (typeof v) {
      case 'string':
        return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : `"${v}"`;
      case 'number':
        return Number.isFinite(v) ? String(v) : 'null';
      case 'boolean':
        return v ? 'true' : 'false';
      case 'object': {
        if (v === null) return 'null';
        const cached = frozenText.get(v);
        if (cached !== undefined) return cached;
        const proto = getPrototypeOf(v);
        if (proto !== OBJECT_PROTO && proto !== ARRAY_PROTO && proto !== null) return null;
        if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return null;
        if (Object.isFrozen(v) && seenBefore(v) && deepFrozen(v, 0)) {
          const text = JSON.stringify(v);
          frozenText.set(v, text);
          return text;
        }
        // No toJSON on the value itself, so its text does not depend on its key: JSON.stringify of it is exact.
        if (isArray(v) || depth >= MAX_DEPTH) return JSON.stringify(v);
        return this.#object(v as Record<string, unknown>, (t.children[i] ??= []), depth + 1);
      }
      default:
        // undefined, functions and symbols drop the key; BigInts throw or use their toJSON: the generic path.
        return null;
    }
  }
}

/** The template of the site with these keys in this order, moved to the front. */
function find(site: Template[], keys: readonly string[]): Template | null {
  for (let s = 0; s < site.length; s++) {
    const t = site[s];
    const tk = t.keys;
    if (tk.length !== keys.length) continue;
    let i = 0;
    while (i < keys.length && tk[i] === keys[i]) i++;
    if (i < keys.length) continue;
    if (s > 0) {
      site.splice(s, 1);
      site.unshift(t);
    }
    return t;
  }
  return null;
}

/** A new template for these keys; each field is fixed by the first value it meets if that value can be. */
function create(site: Template[], keys: readonly string[]): Template {
  const n = keys.length;
  const t: Template = {
    keys: keys.slice(), fixed: new Array(n).fill(true), values: new Array(n).fill(UNSEEN),
    keyTexts: keys.map((k) => `${JSON.stringify(k)}:`), texts: new Array(n).fill(''), children: new Array(n).fill(undefined),
    holes: [], pieces: [],
  };
  site.unshift(t);
  if (site.length > MAX_TEMPLATES) site.pop();
  return t;
}

/** Values whose text never changes while they stay `===`: primitives JSON writes, deep-frozen objects. */
function fixable(v: unknown): boolean {
  const type = typeof v;
  return type === 'string' || type === 'number' || type === 'boolean' || v === null || (type === 'object' && deepFrozen(v as object, 0));
}

/** Rebuild a template's pieces from its fixed fields (each piece one flat string). */
function join(t: Template): void {
  const holes: number[] = [];
  const pieces: string[] = [];
  let piece = ['{'];
  for (let i = 0; i < t.keys.length; i++) {
    if (i > 0) piece.push(',');
    piece.push(t.keyTexts[i]);
    if (t.fixed[i]) piece.push(t.texts[i]);
    else {
      holes.push(i);
      pieces.push(piece.join(''));
      piece = [];
    }
  }
  piece.push('}');
  pieces.push(piece.join(''));
  t.holes = holes;
  t.pieces = pieces;
}

/** Whether this frozen object was met lately (remembering it if not). */
function seenBefore(v: object): boolean {
  for (let i = 0; i < recentFrozen.length; i++) if (recentFrozen[i] === v) return true;
  recentFrozen[recentAt] = v;
  recentAt = (recentAt + 1) % recentFrozen.length;
  return false;
}

/**
 * Whether the text of `v` can never change: frozen all the way down, plain objects and dense arrays of data
 * properties only (no getters), no toJSON, no BigInt, function or symbol inside.
 */
function deepFrozen(v: object, depth: number): boolean {
  if (frozenText.has(v)) return true;
  if (depth > 32 || !Object.isFrozen(v)) return false;
  const proto = getPrototypeOf(v);
  if (proto !== OBJECT_PROTO && proto !== ARRAY_PROTO && proto !== null) return false;
  if (typeof (v as { toJSON?: unknown }).toJSON === 'function') return false;
  const descriptors = Object.getOwnPropertyDescriptors(v) as Record<string, PropertyDescriptor>;
  if (isArray(v)) for (let i = 0; i < v.length; i++) if (!(i in descriptors)) return false;
  for (const key in descriptors) {
    const d = descriptors[key];
    if (!('value' in d)) return false;
    const x: unknown = d.value;
    const type = typeof x;
    if (type === 'bigint' || type === 'function' || type === 'symbol') return false;
    if (type === 'object' && x !== null && !deepFrozen(x as object, depth + 1)) return false;
  }
  return true;
}
