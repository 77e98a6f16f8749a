/**
 * A small Prometheus registry for the server, written by hand (text exposition format 0.0.4): request counts
 * and a duration histogram by route and status, evaluation counts by reason, and config gauges read at scrape
 * time. Label values come from fixed sets (route templates, status codes, reasons), so cardinality is bounded.
 * @module
 */
import type { ClientMetrics } from '../client/metrics.ts';

/** Histogram buckets in seconds. */
const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

/** A gauge (or a counter kept elsewhere, e.g. by the client) read when /metrics is scraped. */
export interface GaugeSample {
  /** Metric name (a counter's ends in `_total`). */
  name: string;
  /** Exposition type; default gauge. */
  type?: 'gauge' | 'counter';
  /** HELP text. */
  help: string;
  /** Current value. */
  value: number;
  /** Labels of the sample, if any. */
  labels?: Record<string, string>;
}

const METHODS: readonly string[] = ['POST', 'GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** A counter cell (shared by the exposition map and the per-request lookup). */
interface Count {
  n: number;
}

/** Counters and histograms of one server. */
export class Metrics {
  /** By label text (exposition order: first seen). */
  readonly #requests = new Map<string, Count>();
  readonly #durations = new Map<string, Histogram>();
  readonly #evaluations = new Map<string, Count>();

  /**
   * The cells of a request by route, then by status × method: the route and method strings a server passes are
   * the same few constants, so a request costs two map lookups and no label text (escaping and formatting run
   * once per distinct label set).
   */
  readonly #cells = new Map<string, Map<number, { requests: Count; duration: Histogram }>>();
  /** Evaluation counters by API, then by reason (both constants of the server). */
  readonly #evaluationCells = new Map<string, Map<string, Count>>();

  /** Record one finished request. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    let byCode = this.#cells.get(route);
    if (byCode === undefined) {
      byCode = new Map();
      this.#cells.set(route, byCode);
    }
    // A client may send any method token: the label takes the usual ones, the rest as OTHER (bounded series).
    const m = METHODS.indexOf(method);
    const code = status * 8 + (m < 0 ? METHODS.length : m);
    let cell = byCode.get(code);
    if (cell === undefined) {
      cell = this.#cell(route, m < 0 ? 'OTHER' : method, status);
      byCode.set(code, cell);
    }
    cell.requests.n++;
    const h = cell.duration;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]) h.counts[i]++;
    h.sum += seconds;
    h.count++;
  }

  #cell(route: string, method: string, status: number): { requests: Count; duration: Histogram } {
    const requestLabels = `route="${esc(route)}",method="${esc(method)}",status="${status}"`;
    const durationLabels = `route="${esc(route)}",status="${status}"`;
    let requests = this.#requests.get(requestLabels);
    if (requests === undefined) {
      requests = { n: 0 };
      this.#requests.set(requestLabels, requests);
    }
    let duration = this.#durations.get(durationLabels);
    if (duration === undefined) {
      duration = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      this.#durations.set(durationLabels, duration);
    }
    return { requests, duration };
  }

  /** Count evaluations: `api` is ofrep or batch; `reason` an OpenFeature reason (ofrep) or Eppo code (batch). */
  countEvaluations(api: string, reason: string, n = 1): void {
    let byReason = this.#evaluationCells.get(api);
    if (byReason === undefined) {
      byReason = new Map();
      this.#evaluationCells.set(api, byReason);
    }
    let count = byReason.get(reason);
    if (count === undefined) {
      const labels = `api="${esc(api)}",reason="${esc(reason)}"`;
      count = this.#evaluations.get(labels);
      if (count === undefined) {
        count = { n: 0 };
        this.#evaluations.set(labels, count);
      }
      byReason.set(reason, count);
    }
    count.n += n;
  }

  /** The exposition text, with the given gauges appended. */
  render(gauges: readonly GaugeSample[]): string {
    const out: string[] = [];
    out.push('# HELP saltshard_http_requests_total HTTP requests handled, by route template, method and status.');
    out.push('# TYPE saltshard_http_requests_total counter');
    for (const [labels, c] of this.#requests) out.push(`saltshard_http_requests_total{${labels}} ${c.n}`);
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
    for (const [labels, c] of this.#evaluations) out.push(`saltshard_evaluations_total{${labels}} ${c.n}`);
    const seen = new Set<string>();
    for (const g of gauges) {
      if (!seen.has(g.name)) {
        seen.add(g.name);
        out.push(`# HELP ${g.name} ${g.help}`);
        out.push(`# TYPE ${g.name} ${g.type ?? 'gauge'}`);
      }
      const labels = g.labels ? `{${Object.entries(g.labels).map(([k, v]) => `${k}="${esc(v)}"`).join(',')}}` : '';
      out.push(`${g.name}${labels} ${Number.isFinite(g.value) ? g.value : 'NaN'}`);
    }
    return `${out.join('\n')}\n`;
  }
}

/** The client's own counters (`client.metrics()`) as samples; config age and polls are rendered by the server already. */
export function clientSamples(m: ClientMetrics): GaugeSample[] {
  const counter = (name: string, help: string, value: number, labels?: Record<string, string>): GaugeSample => ({ name, help, value, labels, type: 'counter' });
  const out: GaugeSample[] = [
    counter('saltshard_client_evaluations_total', 'Single-flag evaluations by the client (getters, details, OFREP).', m.evaluations),
    counter('saltshard_client_defaults_total', 'Getter calls that returned the default value (outcome other than MATCH).', m.defaults),
    counter('saltshard_client_assignment_errors_total', 'Getter calls that ended in ASSIGNMENT_ERROR.', m.errors),
    counter('saltshard_client_batch_evaluations_total', 'Subject x flag cells evaluated in batches.', m.batchEvaluations),
  ];
  const exposuresHelp = 'Exposure events by outcome: logged (handed to the logger), deduped, dropped (no logger, queue full), failed (the logger threw or rejected).';
  for (const outcome of ['logged', 'deduped', 'dropped', 'failed'] as const) out.push(counter('saltshard_exposures_total', exposuresHelp, m.exposures[outcome], { outcome }));
  out.push({ name: 'saltshard_exposures_pending', help: 'Exposure events waiting for an assignment logger to be set.', value: m.exposures.pending });
  const banditHelp = 'Bandit action events by outcome: logged (handed to the bandit logger), deduped, dropped (no logger, queue full), failed (the logger threw or rejected).';
  for (const outcome of ['logged', 'deduped', 'dropped', 'failed'] as const) out.push(counter('saltshard_bandit_events_total', banditHelp, m.banditEvents[outcome], { outcome }));
  const sink = m.sink;
  if (sink !== null) {
    out.push(
      { name: 'saltshard_sink_queue_depth', help: 'Events waiting in the exposure sink: memory, disk and in flight.', value: sink.queued },
      { name: 'saltshard_sink_spilled', help: 'Events of the sink queue waiting on disk.', value: sink.spilled },
      counter('saltshard_sink_delivered_total', 'Events the sink destination acknowledged.', sink.delivered),
      counter('saltshard_sink_retries_total', 'Failed sink deliveries that were retried.', sink.retries),
    );
    for (const [reason, n] of Object.entries(sink.droppedBy)) out.push(counter('saltshard_sink_dropped_total', 'Events the sink gave up, by reason.', n, { reason }));
  }
  const t = m.tracking;
  if (t !== null) {
    for (const outcome of ['accepted', 'delivered', 'dropped'] as const) out.push(counter('saltshard_tracked_events_total', 'track() events by outcome.', t[outcome], { outcome }));
    out.push({ name: 'saltshard_tracked_events_queued', help: 'track() events waiting for delivery.', value: t.queued });
  }
  return out;
}

function esc(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
