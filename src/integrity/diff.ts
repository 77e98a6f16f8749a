/**
 * `saltshard diff`: what a config change does to running experiments. The structural diff compares two compiled
 * configs flag by flag and classifies every change by its effect on the experiments running at a given time
 * (allocations with doLog): it re-randomizes them, moves a share of their shards, changes who reaches them, only
 * changes the values they serve, or is harmless to them. A cohort, when given, is evaluated under both configs
 * and merged here into exact counts per flag.
 * @module
 */
import type { Allocation, BrokenFlag, CompiledConfig, CompiledFlag } from '../config/compile.ts';
import { type JointShares, jointShares } from './shares.ts';

/** Effect classes, most severe first. */
export const CLASSES = ['re-randomizes', 'moves-shards', 'changes-targeting', 'value-only', 'harmless', 'unchanged'] as const;
export type ChangeClass = (typeof CLASSES)[number];

/** One structural change of a flag. */
export interface Change {
  class: ChangeClass;
  /** The allocation it concerns, or null for the flag as a whole. */
  allocationKey: string | null;
  what: string;
}

/** A running experiment (an allocation with doLog, active at the diff's time) in the old config. */
export interface ExperimentDiff {
  /** `${flagKey}-${allocationKey}`, the `experiment` field of exposure events. */
  experiment: string;
  allocationKey: string;
  class: ChangeClass;
  /**
   * Share of the experiment's subjects that would change variation or leave it: exact from the shard ranges for
   * salt and range changes, from the cohort when one was given, null when the structure cannot tell (targeting).
   */
  reassignShare: number | null;
  /** Where the share comes from. */
  basis: 'shards' | 'cohort' | 'unknown';
  /** Old variation × new variation (null: none, the default), as shares of the experiment's subjects (shards) or counts (cohort). */
  matrix: Matrix | null;
}

/** A reassignment matrix: `cells[r][c]` for old `rows[r]` and new `cols[c]`; null keys mean no variation (default). */
export interface Matrix {
  rows: (string | null)[];
  cols: (string | null)[];
  cells: number[][];
}

/** Cohort counts of one flag. */
export interface CohortFlag {
  subjects: number;
  changedVariation: number;
  changedAllocation: number;
  changedCode: number;
  /** Up to SAMPLE_KEYS subject keys per kind of change. */
  samples: { variation: string[]; allocation: string[]; code: string[] };
  /** Old variation × new variation over every subject. */
  matrix: Matrix;
}

export interface FlagDiff {
  flagKey: string;
  status: 'added' | 'removed' | 'changed' | 'unchanged';
  class: ChangeClass;
  changes: Change[];
  experiments: ExperimentDiff[];
  cohort: CohortFlag | null;
}

/** A check the report passes or fails (failing checks give exit status 1). */
export interface Check {
  name: string;
  ok: boolean;
  detail: string;
}

export interface DiffReport {
  kind: 'diff';
  from: string;
  to: string;
  /** ISO time experiments are judged running at. */
  at: string;
  maxReassign: number;
  cohort: { input: string; subjects: number; rejected: number } | null;
  flags: FlagDiff[];
  checks: Check[];
  ok: boolean;
}

/** Subject keys kept per kind of change. */
export const SAMPLE_KEYS = 5;

type Entry = CompiledFlag | BrokenFlag;

const rank = (c: ChangeClass) => CLASSES.indexOf(c);
const worst = (classes: ChangeClass[]): ChangeClass => classes.reduce((a, b) => (rank(b) < rank(a) ? b : a), 'unchanged' as ChangeClass);

/** Allocations logging exposures and active at `atMs` (bounds that do not parse are ignored, as in evaluation). */
export function runningAllocations(flag: Entry | undefined, atMs: number): Allocation[] {
  if (flag === undefined || flag.kind !== 'flag' || !flag.enabled) return [];
  return flag.allocations.filter((a) => a.doLog && !(atMs < a.startMs) && !(atMs > a.endMs));
}

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const windowText = (a: Allocation) => `${Number.isNaN(a.startMs) ? '-∞' : new Date(a.startMs).toISOString()} .. ${Number.isNaN(a.endMs) ? '∞' : new Date(a.endMs).toISOString()}`;
const rulesOf = (a: Allocation) => a.rules.map((r) => r.wire);
const shardsOf = (a: Allocation) => a.splits.map((s) => ({ v: s.variationKey, s: s.shards.map((h) => [h.salt, h.ranges]) }));
const percent = (x: number) => `${(100 * x).toFixed(x > 0 && x < 0.001 ? 4 : 2)} %`;

/** Structural diff of one flag between two configs. */
export function diffFlag(flagKey: string, before: Entry | undefined, after: Entry | undefined, atMs: number): FlagDiff {
  const running = runningAllocations(before, atMs);
  const changes: Change[] = [];
  const experiments: ExperimentDiff[] = [];
  const experiment = (a: Allocation, cls: ChangeClass, share: number | null, basis: ExperimentDiff['basis'], matrix: Matrix | null = null) =>
    experiments.push({ experiment: `${flagKey}-${a.key}`, allocationKey: a.key, class: cls, reassignShare: share, basis, matrix });
  const everyoneLeaves = (what: string) => {
    changes.push({ class: running.length > 0 ? 'changes-targeting' : 'harmless', allocationKey: null, what });
    for (const a of running) experiment(a, 'changes-targeting', 1, 'shards');
  };

  if (before === undefined) {
    changes.push({ class: 'harmless', allocationKey: null, what: 'flag added' });
    return finish(flagKey, 'added', changes, experiments);
  }
  if (after === undefined) {
    everyoneLeaves('flag removed: every subject gets the default');
    return finish(flagKey, 'removed', changes, experiments);
  }
  if (after.kind === 'broken' || before.kind === 'broken') {
    if (after.kind === 'broken') {
      if (before.kind !== 'broken' || before.error !== after.error) everyoneLeaves(`flag invalid in the new config (${after.error}): every subject gets the default`);
    } else changes.push({ class: 'harmless', allocationKey: null, what: 'flag valid again' });
    return finish(flagKey, changes.length ? 'changed' : 'unchanged', changes, experiments);
  }
  if (before.enabled && !after.enabled) {
    everyoneLeaves('flag disabled: every subject gets the default');
    return finish(flagKey, 'changed', changes, experiments);
  }
  if (!before.enabled && after.enabled) changes.push({ class: 'harmless', allocationKey: null, what: 'flag enabled' });
  if (before.variationType !== after.variationType) {
    everyoneLeaves(`variation type ${before.variationType} → ${after.variationType}: getters of the old type return the default`);
    return finish(flagKey, 'changed', changes, experiments);
  }
  if (before.totalShards !== after.totalShards) changes.push({ class: running.length ? 're-randomizes' : 'harmless', allocationKey: null, what: `totalShards ${before.totalShards} → ${after.totalShards}` });

  // Variation values: who serves them decides whether a change matters.
  const valueChanged = new Set<string>();
  const oldVariations = variationsOf(before);
  const newVariations = variationsOf(after);
  for (const [key, value] of oldVariations) {
    if (!newVariations.has(key)) changes.push({ class: 'harmless', allocationKey: null, what: `variation "${key}" removed` });
    else if (!same(value, newVariations.get(key))) valueChanged.add(key);
  }
  for (const key of newVariations.keys()) if (!oldVariations.has(key)) changes.push({ class: 'harmless', allocationKey: null, what: `variation "${key}" added` });

  // Allocations, by key.
  const oldByKey = new Map(before.allocations.map((a) => [a.key, a]));
  const newByKey = new Map(after.allocations.map((a) => [a.key, a]));
  const newIndex = new Map(after.allocations.map((a, i) => [a.key, i]));
  const runningIndex = running.map((a) => before.allocations.indexOf(a));
  const lastRunning = Math.max(-1, ...runningIndex);
  // A change to an allocation ahead of a running one changes who reaches it.
  const ahead = (oldPos: number) => oldPos < lastRunning;
  const allocationChanges = new Map<string, string[]>();
  const note = (key: string, what: string) => {
    let list = allocationChanges.get(key);
    if (list === undefined) allocationChanges.set(key, (list = []));
    list.push(what);
  };
  before.allocations.forEach((a, i) => {
    const b = newByKey.get(a.key);
    if (b === undefined) return note(a.key, 'removed');
    if (!same(rulesOf(a), rulesOf(b))) note(a.key, 'rules changed');
    if (!sameTime(a.startMs, b.startMs) || !sameTime(a.endMs, b.endMs)) note(a.key, `time window ${windowText(a)} → ${windowText(b)}`);
    if (!same(shardsOf(a), shardsOf(b))) note(a.key, 'splits changed');
    if (a.doLog !== b.doLog) note(a.key, b.doLog ? 'starts logging exposures' : 'stops logging exposures');
    const j = newIndex.get(a.key)!;
    if (j !== i) note(a.key, `moved from position ${i + 1} to ${j + 1}`);
  });
  for (const b of after.allocations) if (!oldByKey.has(b.key)) note(b.key, `added at position ${newIndex.get(b.key)! + 1}`);

  for (const [key, list] of allocationChanges) {
    const oldPos = before.allocations.findIndex((a) => a.key === key);
    const isRunning = running.some((a) => a.key === key);
    for (const what of list) {
      let cls: ChangeClass = 'harmless';
      if (isRunning) {
        if (what === 'removed' || what === 'rules changed' || what.startsWith('time window')) cls = 'changes-targeting';
        else if (what === 'splits changed') cls = splitsClass(oldByKey.get(key)!, newByKey.get(key)!, before, after);
      } else if (oldPos >= 0 ? ahead(oldPos) : aheadOfRunningInNew(key, after, running)) {
        // A different set of allocations (or of their matches) in front of a running experiment.
        if (!what.startsWith('moved') && what !== 'starts logging exposures' && what !== 'stops logging exposures') cls = 'changes-targeting';
      }
      changes.push({ class: cls, allocationKey: key, what });
    }
  }

  // Per running experiment: its class, and the share it reassigns when the structure tells.
  for (const a of running) {
    const b = newByKey.get(a.key);
    const own = changes.filter((c) => c.allocationKey === a.key);
    const frontOld = before.allocations.slice(0, before.allocations.indexOf(a)).map((x) => x.key);
    const frontNew = b === undefined ? [] : after.allocations.slice(0, newIndex.get(a.key)!).map((x) => x.key);
    const frontChanged = !same([...frontOld].sort(), [...frontNew].sort()) || frontOld.some((k) => changes.some((c) => c.allocationKey === k && c.class === 'changes-targeting'));
    const servesChangedValue = [...a.splits, ...(b?.splits ?? [])].some((s) => valueChanged.has(s.variationKey));
    const classes: ChangeClass[] = own.map((c) => c.class);
    if (frontChanged) classes.push('changes-targeting');
    if (servesChangedValue) classes.push('value-only');
    if (before.totalShards !== after.totalShards) classes.push('re-randomizes');
    const cls = worst(classes);
    if (b === undefined) {
      experiment(a, cls, 1, 'shards');
      continue;
    }
    // Who reaches the experiment changed: the shard ranges alone cannot tell how many leave or arrive.
    const targeting = frontChanged || own.some((c) => c.class === 'changes-targeting');
    const joint = jointShares({ allocation: a, totalShards: before.totalShards }, { allocation: b, totalShards: after.totalShards });
    const known = !targeting && joint !== null;
    experiment(a, cls, known ? reassigned(joint) : null, known ? 'shards' : 'unknown', joint && ofExperiment(joint));
  }
  for (const key of valueChanged) {
    const used = running.some((a) => a.splits.some((s) => s.variationKey === key)) || running.some((a) => newByKey.get(a.key)?.splits.some((s) => s.variationKey === key));
    changes.push({ class: used ? 'value-only' : 'harmless', allocationKey: null, what: `variation "${key}" value ${JSON.stringify(oldVariations.get(key))} → ${JSON.stringify(newVariations.get(key))}` });
  }
  return finish(flagKey, changes.length ? 'changed' : 'unchanged', changes, experiments);
}

function finish(flagKey: string, status: FlagDiff['status'], changes: Change[], experiments: ExperimentDiff[]): FlagDiff {
  changes.sort((a, b) => rank(a.class) - rank(b.class));
  return { flagKey, status, class: worst([...changes.map((c) => c.class), ...experiments.map((e) => e.class)]), changes, experiments, cohort: null };
}

function sameTime(a: number, b: number): boolean {
  return a === b || (Number.isNaN(a) && Number.isNaN(b));
}

function variationsOf(flag: CompiledFlag): Map<string, unknown> {
  const out = new Map<string, unknown>();
  for (const a of flag.allocations) for (const s of a.splits) if (s.variation) out.set(s.variationKey, s.variation.value);
  // Variations no split uses are still part of the flag.
  return out;
}

function aheadOfRunningInNew(key: string, after: CompiledFlag, running: Allocation[]): boolean {
  const pos = after.allocations.findIndex((a) => a.key === key);
  return running.some((r) => {
    const at = after.allocations.findIndex((a) => a.key === r.key);
    return at >= 0 && pos < at;
  });
}

/** Salts or shard counts that differ re-randomize; ranges that differ move shards. */
function splitsClass(a: Allocation, b: Allocation, before: CompiledFlag, after: CompiledFlag): ChangeClass {
  const dims = (x: Allocation, total: number) => new Set(x.splits.flatMap((s) => s.shards.map((h) => `${total}\u0000${h.salt}`)));
  const oldDims = dims(a, before.totalShards);
  const newDims = dims(b, after.totalShards);
  if ([...oldDims].some((d) => !newDims.has(d)) || [...newDims].some((d) => !oldDims.has(d))) return 're-randomizes';
  const joint = jointShares({ allocation: a, totalShards: before.totalShards }, { allocation: b, totalShards: after.totalShards });
  return joint !== null && reassigned(joint) === 0 ? 'harmless' : 'moves-shards';
}

/** The matrix over the experiment's own subjects (those with an old variation), as shares of them. */
function ofExperiment(j: JointShares): Matrix {
  const keep = j.rows.map((_, i) => i).filter((i) => j.rows[i] !== null);
  const total = keep.reduce((s, i) => s + j.cells[i].reduce((a, b) => a + b, 0), 0);
  return { rows: keep.map((i) => j.rows[i]), cols: j.cols, cells: keep.map((i) => j.cells[i].map((x) => (total > 0 ? x / total : 0))) };
}

/** Share of the subjects that had a variation that get another one (or none). */
export function reassigned(j: JointShares): number {
  let inside = 0;
  let moved = 0;
  j.rows.forEach((r, i) => {
    if (r === null) return;
    j.cols.forEach((c, k) => {
      inside += j.cells[i][k];
      if (c !== r) moved += j.cells[i][k];
    });
  });
  return inside > 0 ? moved / inside : 0;
}

/** The structural diff of two configs: every flag of either, in old-config order then the added ones. */
export function diffConfigs(before: CompiledConfig, after: CompiledConfig, atMs: number): FlagDiff[] {
  const keys = [...before.flags.keys(), ...[...after.flags.keys()].filter((k) => !before.flags.has(k))];
  return keys.map((k) => diffFlag(k, before.flags.get(k), after.flags.get(k), atMs));
}

/** The gate: every running experiment reassigns at most `maxReassign` (a share, 0..1) of its subjects. */
export function diffChecks(flags: readonly FlagDiff[], maxReassign: number): Check[] {
  const checks: Check[] = [];
  for (const f of flags) {
    for (const e of f.experiments) {
      if (e.class === 'unchanged' || e.class === 'harmless' || e.class === 'value-only') {
        if (e.class === 'value-only') checks.push({ name: `reassign ${e.experiment}`, ok: true, detail: 'value-only: no subject changes variation' });
        continue;
      }
      if (e.reassignShare === null) {
        checks.push({ name: `reassign ${e.experiment}`, ok: maxReassign >= 1, detail: `${e.class}: the share of subjects reassigned is unknown without a cohort (--input); counted as failing` });
      } else {
        checks.push({ name: `reassign ${e.experiment}`, ok: e.reassignShare <= maxReassign + 1e-12, detail: `${e.class}: ${percent(e.reassignShare)} of its subjects reassigned (${e.basis}); limit ${percent(maxReassign)}` });
      }
    }
  }
  return checks.sort((a, b) => Number(a.ok) - Number(b.ok));
}

export { percent };
