/**
 * Batch evaluation: many subjects × many flags. Subject keys are UTF-8 encoded once into one arena; each distinct
 * (salt, totalShards) is hashed for all subjects in one WASM call, the first time any subject needs it; rules run
 * in the reference evaluator, so a batch answers exactly what the getters answer. Results are compact: one small
 * outcome index per (subject, flag) into a per-flag table, decoded into values only when read.
 * @module
 */
import type { FlagEvaluationCode, VariationType } from '../errors.ts';
import type { BrokenFlag, CompiledFlag } from '../config/compile.ts';
import type { ShardKernel } from '../wasm/kernel.ts';
import { type Attributes, type Evaluation, evaluateFlag, hashName, splitEvaluation } from './reference.ts';
import { JobBuilder } from './encode.ts';
import { type RuleProgram, type SlotTarget, buildProgram } from './program.ts';

/** One subject of a batch. */
export interface BatchSubject {
  /** The subject key. */
  subjectKey: string;
  /** The subject attributes; none when null or absent. */
  subjectAttributes?: Attributes | null;
}

/** A row of a batch, as the CLI writes it. */
export interface AssignmentRow {
  /** The subject key. */
  subjectKey: string;
  /** The flag key. */
  flagKey: string;
  /** The flag's variation type, or null when the flag is unknown or broken. */
  variationType: VariationType | null;
  /** The assigned variation key, or null when the default applies. */
  variationKey: string | null;
  /** The assigned value, or the default. */
  value: unknown;
  /** The allocation that matched, or null. */
  allocationKey: string | null;
  /** Why this value was returned. */
  reason: FlagEvaluationCode;
  /** Whether the allocation asks for an exposure event to be logged. */
  doLog: boolean;
}

/** One distinct outcome of a flag. */
interface OutcomeEntry {
  readonly code: FlagEvaluationCode;
  readonly variationKey: string | null;
  readonly allocationKey: string | null;
  /** The raw variation value for MATCH (JSON text for JSON flags), else undefined. */
  readonly raw: string | number | boolean | undefined;
  readonly doLog: boolean;
  /** What the dedupe cache remembers for an exposure of this outcome ("allocation;variation"), '' when none is due. */
  readonly logValue: string;
}

/**
 * The outcome of a batch; read cells by subject index `i` and flag index `j`.
 *
 * Fast reading, nothing allocated per cell: `values(j)` is every subject's value of flag `j` as one ready array;
 * `outcomeColumn(j)` is every subject's outcome index for flag `j` (a typed column) and `valueTable(j)` the value
 * of each outcome index, so `valueTable(j)[outcomeColumn(j)[i]]` is subject `i`'s value.
 */
export class BatchResult {
  /** The flag keys, in flag-index order. */
  readonly flagKeys: readonly string[];
  /** Number of subjects. */
  readonly size: number;
  /** Cells answered by the WASM rule engine, and by the JS reference evaluator (the rest were constant answers). */
  readonly stats: { readonly engine: number; readonly reference: number };
  readonly #keyOf: (i: number) => string;
  #keys: string[] | null = null;
  readonly #types: readonly (VariationType | null)[];
  /** Flag-major: cell (i, j) at j · size + i. */
  readonly #cells: Uint16Array;
  readonly #tables: readonly OutcomeEntry[][];
  readonly #valueTables: (readonly unknown[] | undefined)[] = [];
  readonly #values: (readonly unknown[] | undefined)[] = [];

  /** Builds a result from the compact cells and per-flag outcome tables (internal; batches create it). */
  constructor(
    size: number,
    keyOf: (i: number) => string,
    flagKeys: readonly string[],
    types: readonly (VariationType | null)[],
    cells: Uint16Array,
    tables: OutcomeEntry[][],
    stats: BatchResult['stats'],
  ) {
    this.size = size;
    this.stats = stats;
    this.#keyOf = keyOf;
    this.flagKeys = flagKeys;
    this.#types = types;
    this.#cells = cells;
    this.#tables = tables;
  }

  /** Subject keys in input order ('' for a missing key). Pre-encoded keys are decoded on first use. */
  get subjectKeys(): readonly string[] {
    return (this.#keys ??= Array.from({ length: this.size }, (_, i) => this.#keyOf(i)));
  }

  /** The key of subject `i`. */
  subjectKey(i: number): string {
    return this.#keys !== null ? this.#keys[i] : this.#keyOf(i);
  }

  #entry(i: number, j: number): OutcomeEntry {
    return this.#tables[j][this.#cells[j * this.size + i]];
  }

  /**
   * Which distinct outcome of flag `j` subject `i` got (an index local to this batch): cells of flag `j` with the
   * same index have equal rows apart from `subjectKey`, so writers can format each outcome once per batch.
   */
  outcomeIndex(i: number, j: number): number {
    return this.#cells[j * this.size + i];
  }

  /**
   * Every subject's outcome index for flag `j`, in input order: a view into the result (do not write to it).
   * @example const col = r.outcomeColumn(0), table = r.valueTable(0); for (let i = 0; i < r.size; i++) use(table[col[i]]);
   */
  outcomeColumn(j: number): Uint16Array {
    this.#checkFlag(j);
    return this.#cells.subarray(j * this.size, (j + 1) * this.size);
  }

  /**
   * The value of each outcome index of flag `j` (see {@link outcomeColumn}): the typed value for MATCH, else null.
   * JSON values are parsed once and frozen, shared by every cell with that outcome.
   */
  valueTable(j: number): readonly unknown[] {
    this.#checkFlag(j);
    let t = this.#valueTables[j];
    if (t === undefined) {
      t = this.#tables[j].map((e) => (e.code !== 'MATCH' || e.raw === undefined ? null : this.#types[j] === 'JSON' ? deepFreeze(JSON.parse(e.raw as string)) : e.raw));
      this.#valueTables[j] = t;
    }
    return t;
  }

  /**
   * Every subject's value of flag `j`, in input order, as one array built on the first call (null where the code
   * is not MATCH; JSON values shared and frozen, as in {@link valueTable}).
   */
  values(j: number): readonly unknown[] {
    let v = this.#values[j];
    if (v === undefined) {
      const table = this.valueTable(j);
      const col = this.outcomeColumn(j);
      const out: unknown[] = new Array(this.size);
      for (let i = 0; i < out.length; i++) out[i] = table[col[i]];
      this.#values[j] = v = out;
    }
    return v;
  }

  #checkFlag(j: number): void {
    if (!Number.isInteger(j) || j < 0 || j >= this.flagKeys.length) throw new RangeError(`flag index ${j} is not in 0..${this.flagKeys.length - 1}`);
  }

  /** The evaluation code of subject `i` for flag `j`. */
  code(i: number, j: number): FlagEvaluationCode {
    return this.#entry(i, j).code;
  }

  /** The typed value (JSON parsed, a fresh copy) when the code is MATCH, else null. */
  value(i: number, j: number): unknown {
    return this.#value(j, this.#entry(i, j));
  }

  #value(j: number, e: OutcomeEntry): unknown {
    if (e.code !== 'MATCH' || e.raw === undefined) return null;
    return this.#types[j] === 'JSON' ? JSON.parse(e.raw as string) : e.raw;
  }

  /** The full row for subject `i` and flag `j`. */
  row(i: number, j: number): AssignmentRow {
    return { subjectKey: this.subjectKey(i), ...this.outcome(j, this.outcomeIndex(i, j)) };
  }

  /** How many distinct outcomes flag `j` has in this batch (outcome indexes are 0 .. that − 1). */
  outcomes(j: number): number {
    return this.#tables[j].length;
  }

  /** Outcome `k` of flag `j`: the row of every cell with that outcome index, but for the subject key. */
  outcome(j: number, k: number): Omit<AssignmentRow, 'subjectKey'> {
    const e = this.#tables[j][k];
    return {
      flagKey: this.flagKeys[j],
      variationType: this.#types[j],
      variationKey: e.variationKey,
      value: this.#value(j, e),
      allocationKey: e.allocationKey,
      reason: e.code,
      doLog: e.doLog,
    };
  }

  /** Every cell's outcome index, subject-major (cell (i, j) at i · flagKeys.length + j); a copy. */
  outcomeIndexes(): Uint16Array {
    const nf = this.flagKeys.length;
    const n = this.size;
    const out = new Uint16Array(n * nf);
    for (let j = 0; j < nf; j++) {
      const col = this.#cells.subarray(j * n, (j + 1) * n);
      for (let i = 0; i < n; i++) out[i * nf + j] = col[i];
    }
    return out;
  }

  /** Every row, subjects in input order, flags in the order given. */
  *rows(): IterableIterator<AssignmentRow> {
    for (let i = 0; i < this.size; i++) for (let j = 0; j < this.flagKeys.length; j++) yield this.row(i, j);
  }
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

/** What the batch needs from the client. */
export interface BatchContext {
  kernel: ShardKernel;
  nowMs: number;
  obfuscated: boolean;
  /** The flag entry for a requested key, or undefined. */
  lookup(flagKey: string): CompiledFlag | BrokenFlag | undefined;
  /** Rule-engine programs are cached per this object (the config snapshot) and list of flags. */
  programKey?: object;
  /**
   * Whether an exposure of this outcome would be delivered or queued (not a dedupe hit, and someone receives it);
   * asked before the full evaluation an event needs is built. `logValue` is the split's "allocation;variation".
   */
  wantsLog?(flagKey: string, subjectKey: string, flag: CompiledFlag, logValue: string): boolean;
  /**
   * Asked once per flag before its cells are logged, with how many of them are due an exposure: true when no event
   * of this call can be received (no logger, the pre-logger queue full), having counted them all as dropped; the
   * cells are then not offered one by one.
   */
  dropAll?(cells: number): boolean;
  /** Called for each cell whose evaluation is due an exposure event (and {@link wantsLog} accepted). */
  onLog?(flagKey: string, subjectKey: string, attributes: Attributes, flag: CompiledFlag, e: Evaluation): void;
}

/**
 * Subjects as columns: the lower-level batch input (the CLI's). Key i is `keys[i]`, or UTF-8 bytes
 * `bytes[starts[i], starts[i] + lengths[i])`; attribute `name` of subject i is `columns[name][i]`, where null
 * or undefined means the subject lacks it.
 */
export interface ColumnarSubjects {
  /** Subject keys as strings, or as UTF-8 bytes with per-subject start offsets and lengths. */
  keys: readonly string[] | { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array };
  /** Attribute columns by name, one entry per subject. */
  columns?: Readonly<Record<string, ArrayLike<unknown>>>;
}

const EMPTY: Attributes = Object.freeze({});
const CODE_ID: Readonly<Record<FlagEvaluationCode, number>> = {
  MATCH: 1, ASSIGNMENT_ERROR: 2, DEFAULT_ALLOCATION_NULL: 3, FLAG_UNRECOGNIZED_OR_DISABLED: 4, TYPE_MISMATCH: 5, NO_ACTIONS_SUPPLIED_FOR_BANDIT: 6, BANDIT_ERROR: 7,
};
/** Subjects per rule-engine call: bounds the WASM memory a batch needs. */
const ENGINE_CHUNK = 8192;
const NOT_HERE = 0xffff;

/** A batch's subjects, however they were given. */
interface Source {
  readonly n: number;
  /** False when subject i gets ASSIGNMENT_ERROR whatever the flag: no key, or attributes that are not an object. */
  valid(i: number): boolean;
  /** Key i, '' when missing or not a string. */
  key(i: number): string;
  /** Attributes of valid subject i, for the reference evaluator. */
  attributes(i: number): Attributes;
  /** Writes rows [from, from + b.n) into a job. */
  encode(b: JobBuilder, from: number, program: RuleProgram, obfuscated: boolean): void;
}

/**
 * Evaluate every flag for every subject.
 * @param subjects subjects with string keys (others are answered ASSIGNMENT_ERROR, as the getters do).
 * @param flagKeys flags to evaluate, in output order.
 */
export function evaluateBatch(subjects: readonly BatchSubject[], flagKeys: readonly string[], ctx: BatchContext): BatchResult {
  return run(new ObjectSource(subjects), flagKeys, ctx);
}

/** Evaluate every flag for every subject given as columns (see {@link ColumnarSubjects}). */
export function evaluateColumns(subjects: ColumnarSubjects, flagKeys: readonly string[], ctx: BatchContext): BatchResult {
  return run(new ColumnSource(subjects), flagKeys, ctx);
}

function run(src: Source, flagKeys: readonly string[], ctx: BatchContext): BatchResult {
  const n = src.n;
  const nf = flagKeys.length;
  const entries = flagKeys.map((k) => (typeof k === 'string' ? ctx.lookup(k) : undefined));
  const program = ctx.kernel.evaluateRules ? programFor(entries, flagKeys, ctx.programKey) : null;
  // Phase 1: the engine answers every cell it can (NOT_HERE elsewhere).
  let slots: Uint16Array | null = null;
  if (program !== null && n > 0) {
    slots = new Uint16Array(n * nf);
    const b = JobBuilder.take(program, ctx.obfuscated, Math.min(ENGINE_CHUNK, n));
    for (let from = 0; from < n; from += ENGINE_CHUNK) {
      b.reset(Math.min(ENGINE_CHUNK, n - from));
      src.encode(b, from, program, ctx.obfuscated);
      const out = slots.subarray(from * nf, (from + b.n) * nf);
      if (!ctx.kernel.evaluateRules!(b.job(ctx.nowMs, out))) out.fill(NOT_HERE);
    }
    b.release();
  }
  // Phase 2: outcomes per flag, interned in order of first appearance; the reference evaluator answers the rest.
  const shards = program === null ? new BatchShards(ctx.kernel, Array.from({ length: n }, (_, i) => src.key(i))) : ctx.kernel;
  const cells = new Uint16Array(n * nf);
  const stats = { engine: 0, reference: 0 };
  // valid[i]: 1 valid, 0 not (read on first need: engine cells of valid subjects never ask).
  let valid: Uint8Array | null = null;
  const isValid = (i: number): boolean => {
    if (valid === null) {
      valid = new Uint8Array(n);
      for (let s = 0; s < n; s++) valid[s] = src.valid(s) ? 1 : 0;
    }
    return valid[i] === 1;
  };
  const tables: OutcomeEntry[][] = [];
  const types: (VariationType | null)[] = [];
  const onLog = ctx.onLog?.bind(ctx);
  const wantsLog = ctx.wantsLog?.bind(ctx);
  for (let j = 0; j < nf; j++) {
    const flagKey = flagKeys[j];
    const table: OutcomeEntry[] = [];
    // Outcomes are told apart by (code, allocation, split), packed in one number: no string per cell.
    const index = new Map<number | string, number>();
    const add = (id: number | string, e: OutcomeEntry): number => {
      const k = table.push(e) - 1;
      if (k > 0xffff) throw new RangeError(`flag "${flagKey}" has more than 65,536 distinct outcomes in one batch`);
      index.set(id, k);
      return k;
    };
    const intern = (e: Evaluation): number => {
      const a = e.allocation;
      const splitIndex = a && e.split ? a.splits.indexOf(e.split) : -1;
      // A failure that still names its variation (invalid JSON text, as Eppo's details report it) is told apart by key.
      const id = a === null && e.variationKey !== null ? `${e.code}:${e.variationKey}` : CODE_ID[e.code] + 8 * ((a?.position ?? 0) * 0x10000 + splitIndex + 1);
      return index.get(id) ?? add(id, {
        code: e.code,
        variationKey: e.variationKey,
        allocationKey: a?.key ?? null,
        raw: e.code === 'MATCH' ? e.variation?.value : undefined,
        doLog: e.doLog,
        logValue: e.doLog && a !== null && e.split !== null ? e.split.logValue : '',
      });
    };
    const constant = (code: FlagEvaluationCode): number =>
      index.get(CODE_ID[code]) ?? add(CODE_ID[code], { code, variationKey: null, allocationKey: null, raw: undefined, doLog: false, logValue: '' });
    const entry = entries[j];
    types.push(entry?.kind === 'flag' ? entry.variationType : null);
    // The outcome of every valid subject when the flag is missing, broken or disabled; -1 when it evaluates.
    const fixed = entry === undefined || (entry.kind === 'flag' && !entry.enabled) ? constant('FLAG_UNRECOGNIZED_OR_DISABLED') : entry.kind === 'broken' ? constant('ASSIGNMENT_ERROR') : -1;
    const flag = entry as CompiledFlag; // read only when fixed < 0
    const column = cells.subarray(j * n, (j + 1) * n);
    /** The reference evaluator's outcome of valid subject i, and its evaluation for the logging pass. */
    const reference = (i: number): number => {
      stats.reference++;
      if (shards instanceof BatchShards) shards.index = i;
      return intern(evaluateFlag(flag, src.key(i), src.attributes(i), ctx.nowMs, shards, ctx.obfuscated));
    };
    if (fixed >= 0) {
      for (let i = 0; i < n; i++) column[i] = isValid(i) ? fixed : constant('ASSIGNMENT_ERROR');
    } else if (slots !== null && program!.entries[j] >= 0) {
      // Engine slot → outcome index, -1 until first seen; a cell whose slot is new or NOT_HERE takes the slow way.
      const targets = program!.slots[j];
      const bySlot = new Int32Array(targets.length + 1).fill(-1);
      let engine = n;
      for (let i = mapKnownSlots(slots, j, nf, bySlot, column, 0); i < n; i = mapKnownSlots(slots, j, nf, bySlot, column, i + 1)) {
        const slot = slots[i * nf + j];
        if (slot !== NOT_HERE) column[i] = bySlot[slot] = slot === 0 ? constant('DEFAULT_ALLOCATION_NULL') : intern(slotEvaluation(flag, targets[slot - 1]));
        else {
          engine--;
          column[i] = isValid(i) ? reference(i) : constant('ASSIGNMENT_ERROR');
        }
      }
      stats.engine += engine;
    } else {
      for (let i = 0; i < n; i++) column[i] = isValid(i) ? reference(i) : constant('ASSIGNMENT_ERROR');
    }
    tables.push(table);
    if (onLog !== undefined && fixed < 0) logCells(src, flagKey, flag, table, column, shards, ctx, wantsLog, onLog);
  }
  return new BatchResult(n, (i) => src.key(i), flagKeys, types, cells, tables, stats);
}

/**
 * Exposure events of one flag's cells, subjects in input order. Only an event someone receives is built: the dedupe
 * cache and the queue are asked first; the logger gets the full evaluation (unmatched allocations, matched rule),
 * which the reference evaluator builds.
 */
function logCells(
  src: Source,
  flagKey: string,
  flag: CompiledFlag,
  table: readonly OutcomeEntry[],
  column: Uint16Array,
  shards: Pick<ShardKernel, 'shard'>,
  ctx: BatchContext,
  wantsLog: BatchContext['wantsLog'],
  onLog: NonNullable<BatchContext['onLog']>,
): void {
  const logValues = table.map((e) => e.logValue);
  if (logValues.every((v) => v === '')) return;
  if (ctx.dropAll !== undefined) {
    const due = Uint8Array.from(logValues, (v) => (v === '' ? 0 : 1));
    let cells = 0;
    for (let i = 0; i < column.length; i++) cells += due[column[i]];
    if (cells === 0 || ctx.dropAll(cells)) return;
  }
  for (let i = 0; i < column.length; i++) {
    const logValue = logValues[column[i]];
    if (logValue === '') continue;
    const key = src.key(i);
    if (wantsLog !== undefined && !wantsLog(flagKey, key, flag, logValue)) continue;
    const attrs = src.attributes(i);
    if (shards instanceof BatchShards) shards.index = i;
    onLog(flagKey, key, attrs, flag, evaluateFlag(flag, key, attrs, ctx.nowMs, shards, ctx.obfuscated));
  }
}

/**
 * Engine slots of flag j whose outcome index is known (bySlot, -1 until first seen) into `column`, subject by
 * subject from `from`; returns the first subject whose slot is new or NOT_HERE (n when none is). A loop of its own:
 * inside run(), among its closures, it cost ~3× as much.
 */
function mapKnownSlots(slots: Uint16Array, j: number, nf: number, bySlot: Int32Array, column: Uint16Array, from: number): number {
  const n = column.length;
  const lim = bySlot.length;
  for (let i = from, p = from * nf + j; i < n; i++, p += nf) {
    const slot = slots[p];
    const k = slot < lim ? bySlot[slot] : -1;
    if (k < 0) return i;
    column[i] = k;
  }
  return n;
}

function slotEvaluation(flag: CompiledFlag, t: SlotTarget): Evaluation {
  return splitEvaluation(flag, t.allocation, t.split, null, '', []);
}

const programs = new WeakMap<object, Map<string, RuleProgram>>();

/** The engine program for these flags, cached per config snapshot; null when no flag runs in the engine. */
function programFor(entries: readonly (CompiledFlag | BrokenFlag | undefined)[], flagKeys: readonly string[], cacheKey: object | undefined): RuleProgram | null {
  let byFlags = cacheKey ? programs.get(cacheKey) : undefined;
  const id = flagKeys.join('\u0000');
  let program = byFlags?.get(id);
  if (program === undefined) {
    program = buildProgram(entries);
    if (cacheKey) {
      if (byFlags === undefined) programs.set(cacheKey, (byFlags = new Map()));
      if (byFlags.size >= 32) byFlags.clear();
      byFlags.set(id, program);
    }
  }
  return program.entries.some((e) => e >= 0) ? program : null;
}

class ObjectSource implements Source {
  readonly n: number;
  readonly #subjects: readonly BatchSubject[];

  constructor(subjects: readonly BatchSubject[]) {
    this.n = subjects.length;
    this.#subjects = subjects;
  }

  key(i: number): string {
    const k = this.#subjects[i]?.subjectKey;
    return typeof k === 'string' ? k : '';
  }

  valid(i: number): boolean {
    const a = this.#subjects[i]?.subjectAttributes;
    return this.key(i) !== '' && (a == null || typeof a === 'object');
  }

  attributes(i: number): Attributes {
    return this.#subjects[i].subjectAttributes ?? EMPTY;
  }

  encode(b: JobBuilder, from: number, program: RuleProgram, obfuscated: boolean): void {
    const columns = program.columns;
    const hashed = obfuscated ? hashedColumns(program) : null;
    const values: unknown[] = new Array(columns.length);
    const subjects = this.#subjects;
    // Which attributes a subject has (own, enumerable) is read with one Object.keys() per subject, not one
    // propertyIsEnumerable() per column (3x its cost); subjects usually share one list of names, whose column
    // positions are then reused: position[c] is column c's index in `names`, or -1; columnAt[p] is the column of
    // names[p], or -1. A plain object (or one without a prototype) whose keys are `names` is read with for-in,
    // which lists them from the engine's cache of its shape, without an array per subject — exact while
    // Object.prototype has no enumerable property (for-in would list it too).
    let names: string[] | null = null;
    const position = new Int32Array(columns.length);
    let columnAt = new Int32Array(0);
    const plain = !hasEnumerable(Object.prototype);
    // key(i), valid(i) and attributes(i) in one read of each subject; the keys encoded together.
    const keys: string[] = new Array(b.n);
    const attributes: Attributes[] = new Array(b.n);
    for (let r = 0; r < b.n; r++) {
      const s = subjects[from + r];
      const key = s?.subjectKey;
      const a = s?.subjectAttributes;
      if (typeof key !== 'string' || key === '' || (a != null && typeof a !== 'object')) {
        b.skip(r);
        keys[r] = '';
      } else {
        keys[r] = key;
        attributes[r] = a ?? EMPTY;
      }
    }
    b.keys(keys);
    for (let r = 0; r < b.n; r++) {
      if (b.skipped(r)) continue;
      const key = keys[r];
      const attrs = attributes[r];
      try {
        if (hashed === null) {
          let same = false;
          if (names !== null && plain) {
            const proto = Object.getPrototypeOf(attrs);
            if (proto === Object.prototype || proto === null) {
              same = true;
              let p = 0;
              for (const name in attrs) {
                if (p === names.length || name !== names[p]) {
                  same = false;
                  break;
                }
                const c = columnAt[p++];
                if (c >= 0) values[c] = attrs[name];
              }
              same &&= p === names.length;
            }
          }
          if (!same) {
            const own = Object.keys(attrs);
            same = names !== null && own.length === names.length;
            for (let p = 0; same && p < own.length; p++) same = own[p] === names![p];
            if (!same) {
              names = own;
              columnAt = new Int32Array(own.length).fill(-1);
              for (let c = 0; c < columns.length; c++) {
                position[c] = own.indexOf(columns[c].name);
                if (position[c] >= 0) columnAt[position[c]] = c;
              }
            }
            for (let c = 0; c < columns.length; c++) if (position[c] >= 0) values[c] = attrs[columns[c].name];
          }
          for (let c = 0; c < columns.length; c++) if (position[c] < 0) values[c] = columns[c].name === 'id' ? key : undefined;
        } else {
          values.fill(undefined);
          if (hashed.id >= 0) values[hashed.id] = key;
          for (const name of Object.keys(attrs)) {
            const c = hashed.byHash.get(hashName(name));
            if (c !== undefined) values[c] = attrs[name];
          }
        }
        for (let c = 0; c < columns.length; c++) if (!b.value(r, c, values[c])) break;
      } catch {
        // A throwing getter or proxy, a name or value obfuscation cannot hash (lone surrogate): the reference
        // evaluator reports it.
        b.skip(r);
      }
    }
  }
}

/** Whether `o` or an object on its prototype chain has an enumerable string-keyed property. */
function hasEnumerable(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

class ColumnSource implements Source {
  readonly n: number;
  readonly #in: ColumnarSubjects;
  readonly #names: string[];

  constructor(input: ColumnarSubjects) {
    const { keys, columns = {} } = input;
    this.n = Array.isArray(keys) ? keys.length : (keys as { starts: Uint32Array }).starts.length;
    this.#in = input;
    this.#names = Object.keys(columns);
    for (const name of this.#names) {
      if ((columns[name]?.length ?? -1) < this.n) throw new RangeError(`column "${name}" has fewer than ${this.n} values`);
    }
    if (!Array.isArray(keys)) {
      const k = keys as { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array };
      if (k.lengths.length !== this.n) throw new RangeError('keys.starts and keys.lengths differ in length');
      for (let i = 0; i < this.n; i++) {
        if (k.starts[i] + k.lengths[i] > k.bytes.length) throw new RangeError(`key ${i} ends past keys.bytes`);
      }
    }
  }

  valid(i: number): boolean {
    const keys = this.#in.keys;
    return Array.isArray(keys) ? typeof keys[i] === 'string' && keys[i] !== '' : (keys as { lengths: Uint32Array }).lengths[i] > 0;
  }

  key(i: number): string {
    const keys = this.#in.keys;
    if (Array.isArray(keys)) return typeof keys[i] === 'string' ? keys[i] : '';
    const k = keys as { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array };
    return decoder.decode(k.bytes.subarray(k.starts[i], k.starts[i] + k.lengths[i]));
  }

  attributes(i: number): Attributes {
    const columns = this.#in.columns ?? {};
    // fromEntries makes own properties of every name, `__proto__` included, as the engine reads them.
    return Object.fromEntries(this.#names.map((name) => [name, columns[name][i]]).filter(([, v]) => v != null));
  }

  encode(b: JobBuilder, from: number, program: RuleProgram, obfuscated: boolean): void {
    const columns = this.#in.columns ?? {};
    const hashed = obfuscated ? hashedColumns(program) : null;
    // Program column c reads input column source[c] (null: none), or the key when it is the implicit `id`.
    const source: (ArrayLike<unknown> | null)[] = [];
    const isId: boolean[] = [];
    // Obfuscated configs: names obfuscation cannot hash (lone surrogates) make the reference fail any subject
    // that has the attribute, so such rows go to the reference.
    const hashes = new Map<string, string>();
    const poison: ArrayLike<unknown>[] = [];
    if (hashed !== null) {
      for (const x of this.#names) {
        try {
          hashes.set(x, hashName(x));
        } catch {
          poison.push(columns[x]);
        }
      }
    }
    program.columns.forEach((col, c) => {
      const name = hashed === null ? col.name : this.#names.find((x) => hashes.get(x) === col.name);
      source[c] = name !== undefined && Object.hasOwn(columns, name) ? columns[name] : null;
      isId[c] = hashed === null ? col.name === 'id' : c === hashed.id;
    });
    const keys = this.#in.keys;
    const bytes = Array.isArray(keys) ? null : (keys as { bytes: Uint8Array; starts: Uint32Array; lengths: Uint32Array });
    if (bytes === null) {
      const keys = (this.#in.keys as readonly unknown[]).slice(from, from + b.n) as string[];
      for (let r = 0; r < b.n; r++) {
        if (typeof keys[r] !== 'string' || keys[r] === '') {
          b.skip(r);
          keys[r] = '';
        }
      }
      b.keys(keys);
    }
    for (let r = 0; r < b.n; r++) {
      const i = from + r;
      // A bytes key that is not UTF-8 is left to the engine, which answers it NOT_HERE (the reference then reads it
      // decoded with replacement characters).
      if ((bytes === null ? b.skipped(r) : bytes.lengths[i] === 0) || (poison.length > 0 && poison.some((col) => col[i] != null))) b.skip(r);
    }
    // Column by column (each column's values are usually of one type); a value obfuscation cannot hash (lone
    // surrogate) skips its row: the reference evaluator reports it.
    const keyOf = (i: number): string => this.key(i);
    for (let c = 0; c < source.length; c++) b.column(c, source[c], from, isId[c] ? keyOf : null);
    if (bytes !== null) b.sharedKeys(bytes.bytes, bytes.starts.subarray(from), bytes.lengths.subarray(from));
  }
}

// A leading U+FEFF is part of a key, not a byte-order mark to drop.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

const hashedIndex = new WeakMap<RuleProgram, { byHash: Map<string, number>; id: number }>();

/** Obfuscated configs: program columns by attribute-name hash, and the column of the implicit `id` (or -1). */
function hashedColumns(program: RuleProgram): { byHash: Map<string, number>; id: number } {
  let h = hashedIndex.get(program);
  if (h === undefined) {
    const byHash = new Map(program.columns.map((c, i) => [c.name, i]));
    h = { byHash, id: byHash.get(hashName('id')) ?? -1 };
    hashedIndex.set(program, h);
  }
  return h;
}

const encoder = new TextEncoder();

/**
 * A shard kernel for one batch: for the subject at `index`, answers from an array of shards computed for all
 * subjects at once per (salt, totalShards) with one `shardBatchInto` call.
 */
class BatchShards implements Pick<ShardKernel, 'shard'> {
  index = 0;
  readonly #kernel: ShardKernel;
  readonly #keys: readonly string[];
  #arena: Uint8Array | null = null;
  #offsets: Uint32Array | null = null;
  readonly #cache = new Map<Uint8Array, Map<number, Uint32Array>>();

  constructor(kernel: ShardKernel, keys: readonly string[]) {
    this.#kernel = kernel;
    this.#keys = keys;
  }

  shard(saltDash: Uint8Array, _key: string, totalShards: number): number {
    let byTotal = this.#cache.get(saltDash);
    if (byTotal === undefined) this.#cache.set(saltDash, (byTotal = new Map()));
    let shards = byTotal.get(totalShards);
    if (shards === undefined) {
      this.#encode();
      shards = new Uint32Array(this.#keys.length);
      this.#kernel.shardBatchInto(saltDash, this.#arena!, this.#offsets!, totalShards, shards);
      byTotal.set(totalShards, shards);
    }
    return shards[this.index];
  }

  #encode(): void {
    if (this.#arena !== null) return;
    const keys = this.#keys;
    let units = 0;
    for (const k of keys) units += k.length;
    const arena = new Uint8Array(units * 3);
    const offsets = new Uint32Array(keys.length + 1);
    let at = 0;
    for (let i = 0; i < keys.length; i++) {
      offsets[i] = at;
      // Keys with lone surrogates never reach a shard (the evaluator fails them first, as Eppo does).
      at += encoder.encodeInto(keys[i], arena.subarray(at)).written;
    }
    offsets[keys.length] = at;
    this.#arena = arena.subarray(0, at);
    this.#offsets = offsets;
  }
}
