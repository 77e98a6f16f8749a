/**
 * A plain-JS UFC evaluator, the kind a team writes in an afternoon: walks the wire JSON per call, js-md5 for
 * shards, RegExp cached per pattern, no events. A benchmark peer (validated equal to Eppo's evaluator on the
 * workload), not part of the SDK. Supports what the workload uses: MATCHES, ONE_OF, NOT_ONE_OF, numeric
 * comparisons, allocation windows, traffic + split shards.
 */
import { md5 } from 'js-md5';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const regexes = new Map<string, RegExp>();

function matches(c: Json, attrs: Json, key: string): boolean {
  const v = c.attribute === 'id' && attrs.id === undefined ? key : attrs[c.attribute];
  switch (c.operator) {
    case 'MATCHES': {
      if (v == null) return false;
      let re = regexes.get(c.value);
      if (re === undefined) regexes.set(c.value, (re = new RegExp(c.value)));
      return re.test(String(v));
    }
    case 'ONE_OF': return v != null && (c.value as string[]).includes(String(v));
    case 'NOT_ONE_OF': return v != null && !(c.value as string[]).includes(String(v));
    case 'GTE': return v != null && Number(v) >= c.value;
    case 'GT': return v != null && Number(v) > c.value;
    case 'LTE': return v != null && Number(v) <= c.value;
    case 'LT': return v != null && Number(v) < c.value;
    default: return false;
  }
}

function shard(salt: string, key: string, total: number): number {
  const h = md5.array(`${salt}-${key}`);
  return (((h[0] << 24) | (h[1] << 16) | (h[2] << 8) | h[3]) >>> 0) % total;
}

/** The variation value of `flagKey` for the subject, or `defaultValue`. */
export function plainEvaluate(config: Json, flagKey: string, subjectKey: string, attrs: Json, defaultValue: unknown, now = Date.now()): unknown {
  const flag = config.flags[flagKey];
  if (flag === undefined || !flag.enabled) return defaultValue;
  for (const a of flag.allocations as Json[]) {
    if (a.startAt && now < Date.parse(a.startAt)) continue;
    if (a.endAt && now >= Date.parse(a.endAt)) continue;
    if (a.rules?.length && !(a.rules as Json[]).some((r) => (r.conditions as Json[]).every((c) => matches(c, attrs, subjectKey)))) continue;
    for (const s of a.splits as Json[]) {
      const hit = (s.shards as Json[]).every((sh) => {
        const x = shard(sh.salt, subjectKey, flag.totalShards);
        return (sh.ranges as Json[]).some((r) => x >= r.start && x < r.end);
      });
      if (hit) return flag.variations[s.variationKey]?.value ?? defaultValue;
    }
  }
  return defaultValue;
}
