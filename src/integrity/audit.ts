/**
 * `saltshard audit`: logged exposures checked against the config that should have produced them: each event
 * re-evaluated from its subject, attributes and timestamp (with the config in force then), non-reproducing events
 * grouped by cause, duplicates, subjects seeing more than one variation, and sample ratio mismatch per experiment
 * against the shares its split's shard ranges imply.
 * @module
 */
import { SaltshardClient } from '../client.ts';
import type { CompiledConfig, CompiledFlag } from '../config/compile.ts';
import type { Attributes } from '../eval/reference.ts';
import type { Check } from './diff.ts';
import { expectedShares } from './shares.ts';
import { formatP, srmTest } from './stats.ts';

/** The sample ratio mismatch threshold of the experimentation literature. */
export const SRM_ALPHA = 0.001;
const SAMPLES = 5;

/** Events that do not reproduce, by cause. */
export interface CauseCount {
  cause: 'unknown flag' | 'config changed since' | 'attributes missing' | 'different variation' | 'different allocation';
  count: number;
  samples: { subject: string; flag: string; logged: string | null; now: string | null; detail?: string }[];
}

/** One variation of an experiment: expected and observed shares of its distinct subjects. */
export interface VariationCount {
  variation: string;
  expected: number;
  observed: number;
  count: number;
}

export interface ExperimentAudit {
  experiment: string;
  flagKey: string;
  allocationKey: string;
  events: number;
  subjects: number;
  duplicates: number;
  multiVariation: number;
  variations: VariationCount[];
  srm: { statistic: number; df: number; pValue: number; method: 'chi-square' | 'exact multinomial' | 'exact binomial' } | null;
}

export interface AuditReport {
  kind: 'audit';
  config: string;
  exposures: string;
  events: number;
  rejected: number;
  reproduced: number;
  causes: CauseCount[];
  experiments: ExperimentAudit[];
  checks: Check[];
  ok: boolean;
}

/** A config in force from `fromMs` on. */
export interface ConfigVersion {
  name: string;
  fromMs: number;
  config: CompiledConfig;
}

/** An exposure as read: saltshard's own event, Eppo's, or snake_case warehouse columns. */
export interface Exposure {
  subject: string;
  flag: string;
  allocation: string | null;
  variation: string | null;
  timestampMs: number;
  attributes: Attributes | null;
}

const pick = (e: Record<string, unknown>, ...names: string[]) => {
  for (const n of names) if (e[n] !== undefined && e[n] !== null) return e[n];
  return undefined;
};

/** Reads one event object; an error message when it is not an exposure. */
export function toExposure(e: Record<string, unknown>): Exposure | string {
  const subject = pick(e, 'subject', 'subjectKey', 'subject_key');
  const flag = pick(e, 'featureFlag', 'flagKey', 'feature_flag', 'flag_key', 'flag');
  const allocation = pick(e, 'allocation', 'allocationKey', 'allocation_key');
  const variation = pick(e, 'variation', 'variationKey', 'variation_key');
  const timestamp = pick(e, 'timestamp', 'time', 'ts');
  let attributes = pick(e, 'subjectAttributes', 'subject_attributes', 'attributes');
  if (typeof subject !== 'string' || subject === '') return 'no subject (subject / subjectKey / subject_key)';
  if (typeof flag !== 'string' || flag === '') return 'no flag (featureFlag / flagKey / feature_flag)';
  const timestampMs = typeof timestamp === 'number' ? timestamp : timestamp instanceof Date ? timestamp.getTime() : typeof timestamp === 'string' ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(timestampMs)) return 'no timestamp (ISO text or epoch ms)';
  if (typeof attributes === 'string') {
    try {
      attributes = JSON.parse(attributes);
    } catch {
      return 'subject attributes are not JSON';
    }
  }
  if (attributes !== undefined && (typeof attributes !== 'object' || Array.isArray(attributes))) return 'subject attributes are not an object';
  return {
    subject, flag, timestampMs,
    allocation: typeof allocation === 'string' ? allocation : null,
    variation: typeof variation === 'string' ? variation : null,
    attributes: (attributes as Attributes | undefined) ?? null,
  };
}

/** The config in force at a time: the last version starting at or before it (the first one before any). */
function versionAt(versions: readonly ConfigVersion[], ms: number): number {
  let k = 0;
  for (let i = 0; i < versions.length; i++) if (versions[i].fromMs <= ms) k = i;
  return k;
}

/**
 * Attributes the rules of the logged allocation read (all allocations' when it is not in the flag) that the event
 * lacks — by name, `id` being the subject key.
 */
function missingAttributes(flag: CompiledFlag, allocationKey: string | null, attributes: Attributes | null): string[] {
  const names = new Set<string>();
  const logged = flag.allocations.filter((a) => a.key === allocationKey);
  for (const a of logged.length ? logged : flag.allocations) for (const r of a.rules) for (const c of r.conditions) names.add(c.attribute);
  names.delete('id');
  return [...names].filter((n) => attributes === null || !Object.hasOwn(attributes, n) || attributes[n] == null);
}

/** Audits exposures one at a time against a config history (one version for --config). */
export class Auditor {
  events = 0;
  reproduced = 0;
  readonly #versions: ConfigVersion[];
  readonly #clients: SaltshardClient[];
  #now = 0;
  readonly #causes = new Map<CauseCount['cause'], CauseCount>();
  /** experiment → subject → variations seen, and events per (subject, allocation, variation). */
  readonly #experiments = new Map<string, { flagKey: string; allocationKey: string; lastMs: number; events: number; subjects: Map<string, string[]>; seen: Map<string, number> }>();

  constructor(versions: ConfigVersion[]) {
    this.#versions = [...versions].sort((a, b) => a.fromMs - b.fromMs);
    this.#clients = this.#versions.map((v) => {
      const c = new SaltshardClient({ assignmentLogger: null, assignmentCacheSize: 0, now: () => this.#now, logger: { error() {}, warn() {} } });
      c.setConfiguration(v.config);
      return c;
    });
  }

  #cause(cause: CauseCount['cause'], x: Exposure, now: string | null, detail?: string): void {
    let c = this.#causes.get(cause);
    if (c === undefined) this.#causes.set(cause, (c = { cause, count: 0, samples: [] }));
    c.count++;
    if (c.samples.length < SAMPLES) c.samples.push({ subject: x.subject, flag: x.flag, logged: x.variation, now, ...(detail ? { detail } : {}) });
  }

  #evaluate(k: number, x: Exposure) {
    this.#now = x.timestampMs;
    return this.#clients[k].evaluate(x.flag, x.subject, x.attributes ?? {});
  }

  add(x: Exposure): void {
    this.events++;
    const k = versionAt(this.#versions, x.timestampMs);
    const flag = this.#versions[k].config.flags.get(x.flag);
    const exp = `${x.flag}-${x.allocation}`;
    let e = this.#experiments.get(exp);
    if (e === undefined) this.#experiments.set(exp, (e = { flagKey: x.flag, allocationKey: x.allocation ?? '', lastMs: x.timestampMs, events: 0, subjects: new Map(), seen: new Map() }));
    e.events++;
    e.lastMs = Math.max(e.lastMs, x.timestampMs);
    const variations = e.subjects.get(x.subject);
    if (variations === undefined) e.subjects.set(x.subject, [x.variation ?? '']);
    else if (!variations.includes(x.variation ?? '')) variations.push(x.variation ?? '');
    const id = `${x.subject}\u0000${x.variation}`;
    e.seen.set(id, (e.seen.get(id) ?? 0) + 1);

    if (flag === undefined || flag.kind !== 'flag') {
      this.#cause('unknown flag', x, null, flag ? `flag invalid: ${flag.error}` : `not in ${this.#versions[k].name}`);
      return;
    }
    const r = this.#evaluate(k, x);
    if (r.variationKey === x.variation && r.allocationKey === x.allocation) {
      this.reproduced++;
      return;
    }
    // Another version of the config reproduces it: the config changed since (or the SDK's was stale).
    for (let other = 0; other < this.#versions.length; other++) {
      if (other === k) continue;
      const o = this.#evaluate(other, x);
      if (o.variationKey === x.variation && o.allocationKey === x.allocation) {
        const when = other < k ? `reproduces under the older ${this.#versions[other].name}: logged by an SDK with a stale config` : `reproduces under the newer ${this.#versions[other].name}`;
        this.#cause('config changed since', x, r.variationKey, when);
        return;
      }
    }
    const missing = missingAttributes(flag, x.allocation, x.attributes);
    if (missing.length > 0) this.#cause('attributes missing', x, r.variationKey, `the rules read ${missing.join(', ')}`);
    else if (r.allocationKey !== x.allocation) this.#cause('different allocation', x, r.variationKey, `now allocation ${r.allocationKey}`);
    else this.#cause('different variation', x, r.variationKey);
  }

  /** The report (without the file names and reading counts, which the caller adds). */
  finish(): Pick<AuditReport, 'events' | 'reproduced' | 'causes' | 'experiments' | 'checks' | 'ok'> {
    const experiments: ExperimentAudit[] = [];
    const checks: Check[] = [];
    for (const [experiment, e] of this.#experiments) {
      const version = this.#versions[versionAt(this.#versions, e.lastMs)];
      const flag = version.config.flags.get(e.flagKey);
      const allocation = flag?.kind === 'flag' ? flag.allocations.find((a) => a.key === e.allocationKey) : undefined;
      let duplicates = 0;
      for (const n of e.seen.values()) duplicates += n - 1;
      let multiVariation = 0;
      const counts = new Map<string, number>();
      for (const variations of e.subjects.values()) {
        if (variations.length > 1) multiVariation++;
        counts.set(variations[0], (counts.get(variations[0]) ?? 0) + 1);
      }
      const expected = allocation && flag?.kind === 'flag' ? expectedShares({ allocation, totalShards: flag.totalShards }) : new Map<string, number>();
      const keys = [...new Set([...expected.keys(), ...counts.keys()])];
      const subjects = e.subjects.size;
      const variations: VariationCount[] = keys.map((v) => ({ variation: v, expected: expected.get(v) ?? 0, observed: subjects ? (counts.get(v) ?? 0) / subjects : 0, count: counts.get(v) ?? 0 }));
      const srm = expected.size > 1 ? srmTest(variations.map((v) => v.count), variations.map((v) => v.expected)) : null;
      experiments.push({ experiment, flagKey: e.flagKey, allocationKey: e.allocationKey, events: e.events, subjects, duplicates, multiVariation, variations, srm });
      if (srm) checks.push({ name: `srm ${experiment}`, ok: srm.pValue >= SRM_ALPHA, detail: `p = ${formatP(srm.pValue)} (${srm.method}, ${subjects} subjects; flagged below ${SRM_ALPHA})` });
      checks.push({ name: `duplicates ${experiment}`, ok: duplicates === 0, detail: `${duplicates} duplicate events of the same (subject, variation)` });
      checks.push({ name: `one variation per subject ${experiment}`, ok: multiVariation === 0, detail: `${multiVariation} subjects exposed to more than one variation` });
    }
    const failed = this.events - this.reproduced;
    checks.push({ name: 'reproduce', ok: failed === 0, detail: `${this.reproduced} of ${this.events} events reproduce; ${failed} do not` });
    checks.sort((a, b) => Number(a.ok) - Number(b.ok));
    const causes = [...this.#causes.values()].sort((a, b) => b.count - a.count);
    return { events: this.events, reproduced: this.reproduced, causes, experiments, checks, ok: checks.every((c) => c.ok) };
  }
}
