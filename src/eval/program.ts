/**
 * Compiled flags → flat programs for the WASM rule engine (assembly/rules.ts documents the layout), built once
 * per config version and list of flags. Conditions the engine decides itself: IS_NULL, ONE_OF / NOT_ONE_OF
 * (over interned strings, as bitsets), numeric comparisons. Regex and semver conditions become "atoms" whose
 * truth JS computes per distinct attribute value and passes in as bytes. A flag whose evaluation could throw in
 * Eppo's evaluator (an invalid regex, a ONE_OF without a list, a salt with a lone surrogate) is left to the
 * reference evaluator, so the engine never has to reproduce an error path.
 * @module
 */
import type { Allocation, BrokenFlag, CompiledFlag, Condition, Shard, Split } from '../config/compile.ts';

/** Condition opcodes (the same numbers as in assembly/rules.ts). */
const OP = { FALSE: 0, IS_NULL: 1, NOT_NULL: 2, ONE_OF: 3, NOT_ONE_OF: 4, GT: 5, GTE: 6, LT: 7, LTE: 8, ATOM: 9 } as const;

/** An attribute the engine reads; `name` is md5-hashed in obfuscated configs, as the conditions name it. */
export interface Column {
  readonly name: string;
  /** ONE_OF conditions read the interned text of the value. */
  text: boolean;
  /** Numeric comparisons read Number(value). */
  num: boolean;
}

/** A condition whose truth JS decides (regex, semver), on the value of one column. */
export interface Atom {
  readonly column: number;
  readonly condition: Condition;
}

/** What slot s (1-based) of a flag stands for. */
export interface SlotTarget {
  readonly allocation: Allocation;
  readonly split: Split;
}

export interface RuleProgram {
  readonly code: Int32Array;
  readonly consts: Float64Array;
  /** Per requested flag: the word offset of its program, or -1 when the engine does not evaluate it. */
  readonly entries: Int32Array;
  /** Per hash id: the salt bytes (shared with the compiled flag) and totalShards. */
  readonly salts: readonly Uint8Array[];
  readonly totals: Uint32Array;
  readonly columns: readonly Column[];
  /** ONE_OF strings (md5 hex in obfuscated configs) → id. */
  readonly strings: ReadonlyMap<string, number>;
  readonly atoms: readonly Atom[];
  /** Per requested flag: slots[j][s - 1] is what slot s means. */
  readonly slots: readonly (readonly SlotTarget[])[];
}

/**
 * Build the program for these flags (in the order results are wanted).
 * @param flags the compiled entries of the requested flags (undefined: not in the config).
 */
export function buildProgram(flags: readonly (CompiledFlag | BrokenFlag | undefined)[]): RuleProgram {
  const engineFlags = flags.map((f) => (f?.kind === 'flag' && f.enabled && runsInEngine(f) ? f : null));
  const strings = new Map<string, number>();
  for (const f of engineFlags) forEachCondition(f, (c) => {
    if ((c.op === 'ONE_OF' || c.op === 'NOT_ONE_OF') && c.values) for (const v of c.values) if (!strings.has(v)) strings.set(v, strings.size);
  });
  const code: number[] = [];
  const consts: number[] = [];
  const columns: Column[] = [];
  const columnIndex = new Map<string, number>();
  const atoms: Atom[] = [];
  const bitsets = new Map<ReadonlySet<string>, number>();
  // By salt text, not by its bytes' identity: flags of two configs in one program (saltshard diff) share hashes.
  const saltIds = new Map<string, Map<number, number>>();
  const salts: Uint8Array[] = [];
  const totals: number[] = [];
  const words = Math.ceil(strings.size / 32);
  const column = (name: string): number => {
    let i = columnIndex.get(name);
    if (i === undefined) {
      i = columns.push({ name, text: false, num: false }) - 1;
      columnIndex.set(name, i);
    }
    return i;
  };
  const constant = (x: number): number => consts.push(x) - 1;
  // Equal atoms (same column, operator and pattern or version) are decided once per value: several flags, or the
  // same flag in two configs, often test the same regex.
  const atomIds = new Map<object | string, Map<string, number>>();
  const atom = (col: number, c: Condition, operand: object | string): number => {
    let byUse = atomIds.get(operand);
    if (byUse === undefined) atomIds.set(operand, (byUse = new Map()));
    const use = `${col} ${c.op}`;
    let id = byUse.get(use);
    if (id === undefined) byUse.set(use, (id = atoms.push({ column: col, condition: c }) - 1));
    return id;
  };
  const hashId = (shard: Shard, total: number): number => {
    let byTotal = saltIds.get(shard.salt);
    if (byTotal === undefined) saltIds.set(shard.salt, (byTotal = new Map()));
    let id = byTotal.get(total);
    if (id === undefined) {
      id = salts.push(shard.saltDash) - 1;
      totals.push(total);
      byTotal.set(total, id);
    }
    return id;
  };
  const bitset = (values: ReadonlySet<string>): number => {
    let at = bitsets.get(values);
    if (at === undefined) {
      at = code.length;
      for (let w = 0; w < words; w++) code.push(0);
      for (const v of values) {
        const id = strings.get(v)!;
        code[at + (id >>> 5)] |= 1 << (id & 31);
      }
      bitsets.set(values, at);
    }
    return at;
  };
  const emitCondition = (c: Condition): void => {
    const col = column(c.attribute);
    const use = columns[col];
    switch (c.op) {
      case 'IS_NULL':
        code.push(c.isNull ? OP.IS_NULL : OP.NOT_NULL, col, 0);
        return;
      case 'ONE_OF':
      case 'NOT_ONE_OF':
        use.text = true;
        code.push(OP[c.op], col, bitset(c.values!));
        return;
      case 'MATCHES':
      case 'NOT_MATCHES':
        // An unsupported pattern is false for every value (null included).
        if (c.regex.kind === 'unsupported') code.push(OP.FALSE, col, 0);
        else code.push(OP.ATOM, col, atom(col, c, c.regex));
        return;
      case 'GT':
      case 'GTE':
      case 'LT':
      case 'LTE':
        if (c.semver !== null) code.push(OP.ATOM, col, atom(col, c, JSON.stringify(c.semver)));
        else {
          use.num = true;
          code.push(OP[c.op], col, constant(c.number));
        }
        return;
      default:
        code.push(OP.FALSE, col, 0);
    }
  };
  // Bitsets first, so every condition's argument is known when its flag is written.
  for (const f of engineFlags) forEachCondition(f, (c) => {
    if ((c.op === 'ONE_OF' || c.op === 'NOT_ONE_OF') && c.values) bitset(c.values);
  });
  const entries = new Int32Array(flags.length).fill(-1);
  const slots: SlotTarget[][] = flags.map(() => []);
  engineFlags.forEach((f, j) => {
    if (f === null) return;
    entries[j] = code.length;
    code.push(f.allocations.length);
    for (const allocation of f.allocations) {
      code.push(constant(allocation.startMs), constant(allocation.endMs), allocation.rules.length);
      for (const rule of allocation.rules) {
        code.push(rule.conditions.length);
        for (const c of rule.conditions) emitCondition(c);
      }
      code.push(allocation.splits.length);
      for (const split of allocation.splits) {
        code.push(slots[j].push({ allocation, split }), split.shards.length);
        for (const shard of split.shards) {
          code.push(hashId(shard, f.totalShards), shard.ranges.length / 2);
          shard.ranges.forEach((r, k) => code.push(rangeBound(r, (k & 1) === 1)));
        }
      }
    }
    // Slots are u16 cells with 0 and 0xffff reserved.
    if (slots[j].length >= 0xffff) {
      entries[j] = -1;
      slots[j] = [];
    }
  });
  return {
    code: Int32Array.from(code),
    consts: Float64Array.from(consts),
    entries,
    salts,
    totals: Uint32Array.from(totals),
    columns,
    strings,
    atoms,
    slots,
  };
}

/**
 * A range bound as the u32 the engine compares with. For a shard n (an integer below 2^32 - 1), `b <= n` and
 * `n < b` hold exactly when they hold for ceil(b) clamped to [0, 2^32 - 1]. NaN compares false both ways: as a
 * start it becomes 2^32 - 1 (no shard is ≥ it), as an end 0 (no shard is below it).
 */
function rangeBound(b: number, isEnd: boolean): number {
  if (b !== b) return isEnd ? 0 : -1;
  return Math.min(Math.max(Math.ceil(b), 0), 0xffffffff) | 0;
}

function forEachCondition(f: CompiledFlag | null, visit: (c: Condition) => void): void {
  if (f === null) return;
  for (const a of f.allocations) for (const r of a.rules) for (const c of r.conditions) visit(c);
}

/** False when evaluating the flag could throw in Eppo's evaluator whatever the subject (see the module note). */
function runsInEngine(f: CompiledFlag): boolean {
  if (f.totalShards >>> 0 !== f.totalShards || f.totalShards === 0) return false;
  for (const a of f.allocations) {
    for (const r of a.rules) {
      for (const c of r.conditions) {
        if ((c.op === 'ONE_OF' || c.op === 'NOT_ONE_OF') && c.values === null) return false;
        if ((c.op === 'MATCHES' || c.op === 'NOT_MATCHES') && c.regex.kind === 'invalid') return false;
      }
    }
    for (const s of a.splits) for (const shard of s.shards) if (!shard.saltWellFormed) return false;
  }
  return true;
}
