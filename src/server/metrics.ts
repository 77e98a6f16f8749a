/**
 * A small Prometheus registry for the server, written by hand (text exposition format 0.0.4): request counts
 * and a duration histogram by route and status, evaluation counts by reason, and config gauges read at scrape
 * time. Label values come from fixed sets (route templates, status codes, reasons), so cardinality is bounded.
 * @module
 */

/** Histogram buckets in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** A gauge computed when /metrics is scraped. */
export interface GaugeSample {
  /** Metric name. */
  name: string;
  /** HELP text. */
  help: string;
  /** Current value. */
  value: number;
  /** Labels of the sample, if any. */
  labels?: Record<string, string>;
}

/** Counters and histograms of one server. */
export class Metrics {
  readonly #requests = new Map<string, number>();
  readonly #durations = new Map<string, Histogram>();
  readonly #evaluations = new Map<string, number>();

  /** Record one finished request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `route="${esc(route)}",method="${esc(method)}",status="${status}"`;
    this.#requests.set(key, (this.#requests.get(key) ?? 0) + 1);
    const hkey = `route="${esc(route)}",status="${status}"`;
    let h = this.#durations.get(hkey);
    if (h === undefined) {
      h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(hkey, h);
    }
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  /** Count evaluations: `api` is ofrep or batch; `reason` an OpenFeature reason (ofrep) or Eppo code (batch). */
  countEvaluations(api: string, reason: string, n = 1): void {
    const key = `api="${esc(api)}",reason="${esc(reason)}"`;
    this.#evaluations.set(key, (this.#evaluations.get(key) ?? 0) + n);
  }

  /** The exposition text, with the given gauges appended. */
  render(gauges: readonly GaugeSample[]): string {
    const out: string[] = [];
    out.push('# HELP saltshard_http_requests_total HTTP requests handled, by route template, method and status.');
    out.push('# TYPE saltshard_http_requests_total counter');
    for (const [labels, n] of this.#requests) out.push(`saltshard_http_requests_total{${labels}} ${n}`);
    out.push('# HELP saltshard_http_request_duration_seconds Time from request to response headers, by route template and status.');
    out.push('# TYPE saltshard_http_request_duration_seconds histogram');
    for (const [labels, h] of this.#durations) {
      BUCKETS.forEach((le, i) => out.push(`saltshard_http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.counts[i]}`));
      out.push(`saltshard_http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      out.push(`saltshard_http_request_duration_seconds_sum{${labels}} ${h.sum}`);
      out.push(`saltshard_http_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    out.push('# HELP saltshard_evaluations_total Flag evaluations served, by API and reason (OpenFeature reason for ofrep, Eppo code for batch).');
    out.push('# TYPE saltshard_evaluations_total counter');
    for (const [labels, n] of this.#evaluations) out.push(`saltshard_evaluations_total{${labels}} ${n}`);
    const seen = new Set<string>();
    for (const g of gauges) {
      if (!seen.has(g.name)) {
        seen.add(g.name);
        out.push(`# HELP ${g.name} ${g.help}`);
        out.push(`# TYPE ${g.name} gauge`);
      }
      const labels = g.labels ? `{${Object.entries(g.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
      out.push(`${g.name}${labels} ${Number.isFinite(g.value) ? g.value : 'NaN'}`);
    }
    return `${out.join('\n')}\n`;
  }
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
