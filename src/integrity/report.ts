/**
 * Renders diff and audit reports: text for a terminal, JSON / NDJSON / Markdown for CI, and one self-contained
 * HTML page (inline SVG, no network) for people. Every format is made from the same report object, so the figures
 * are the same in each; failing checks come first.
 * @module
 */
import { type Check, type DiffReport, type Matrix, percent } from './diff.ts';
import type { AuditReport } from './audit.ts';
import { renderHtml } from './html.ts';
import { formatP } from './stats.ts';

export const REPORT_FORMATS = ['text', 'json', 'ndjson', 'markdown', 'html'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];
export type Report = DiffReport | AuditReport;

/** The report in a format, ending with a newline. */
export function render(report: Report, format: ReportFormat): string {
  switch (format) {
    case 'json':
      return `${JSON.stringify(report, null, 2)}\n`;
    case 'ndjson':
      return ndjson(report);
    case 'html':
      return renderHtml(report);
    case 'markdown':
      return report.kind === 'diff' ? diffText(report, true) : auditText(report, true);
    default:
      return report.kind === 'diff' ? diffText(report, false) : auditText(report, false);
  }
}

function ndjson(report: Report): string {
  const lines: unknown[] = [];
  if (report.kind === 'diff') {
    for (const f of report.flags) lines.push({ type: 'flag', ...f });
  } else {
    for (const e of report.experiments) lines.push({ type: 'experiment', ...e });
    for (const c of report.causes) lines.push({ type: 'cause', ...c });
  }
  for (const c of report.checks) lines.push({ type: 'check', ...c });
  const { checks: _c, ...summary } = report as unknown as Record<string, unknown>;
  delete summary.flags;
  delete summary.experiments;
  delete summary.causes;
  lines.push({ type: 'summary', ...summary });
  return lines.map((l) => `${JSON.stringify(l)}\n`).join('');
}

function checkLines(checks: readonly Check[], md: boolean): string[] {
  if (checks.length === 0) return [md ? '_No checks apply._' : '  (no checks apply)'];
  return checks.map((c) => (md ? `- ${c.ok ? '✅ pass' : '❌ **FAIL**'} \`${c.name}\`: ${c.detail}` : `  ${c.ok ? 'pass' : 'FAIL'}  ${c.name}: ${c.detail}`));
}

function matrixLines(m: Matrix, md: boolean, fmt: (x: number) => string): string[] {
  const name = (k: string | null) => k ?? '(none)';
  if (md) {
    return [
      `| old \\ new | ${m.cols.map(name).join(' | ')} |`,
      `|---|${m.cols.map(() => '---:').join('|')}|`,
      ...m.rows.map((r, i) => `| ${name(r)} | ${m.cells[i].map(fmt).join(' | ')} |`),
    ];
  }
  const width = Math.max(9, ...m.rows.map((r) => name(r).length));
  const colWidth = Math.max(10, ...m.cols.map((c) => name(c).length));
  return [
    `      ${'old \\ new'.padEnd(width)}  ${m.cols.map((c) => name(c).padStart(colWidth)).join('  ')}`,
    ...m.rows.map((r, i) => `      ${name(r).padEnd(width)}  ${m.cells[i].map((x) => fmt(x).padStart(colWidth)).join('  ')}`),
  ];
}

function diffText(r: DiffReport, md: boolean): string {
  const out: string[] = [];
  const h = (level: number, s: string) => out.push(md ? `${level === 1 ? '' : '\n'}${'#'.repeat(level)} ${s}\n` : level === 1 ? s : `\n${s}`);
  h(1, `saltshard diff: ${r.ok ? 'OK' : 'FAILED'}`);
  out.push(`${md ? '' : '  '}from ${r.from} to ${r.to}; experiments running at ${r.at}; --max-reassign ${percent(r.maxReassign)}${r.cohort ? `; cohort ${r.cohort.input}: ${r.cohort.subjects} subjects (${r.cohort.rejected} rows rejected)` : ''}`);
  h(2, 'Checks');
  out.push(...checkLines(r.checks, md));
  const changed = r.flags.filter((f) => f.status !== 'unchanged');
  h(2, `Flags (${changed.length} changed of ${r.flags.length})`);
  for (const f of changed) {
    out.push(md ? `\n### \`${f.flagKey}\`: ${f.class} (${f.status})` : `  ${f.flagKey}: ${f.class} (${f.status})`);
    for (const c of f.changes) out.push(`${md ? '- ' : '    - '}[${c.class}] ${c.allocationKey !== null ? `allocation "${c.allocationKey}": ` : ''}${c.what}`);
    for (const e of f.experiments.filter((x) => x.class !== 'unchanged')) {
      out.push(`${md ? '- ' : '    '}experiment ${e.experiment}: ${e.class}, ${e.reassignShare === null ? 'share reassigned unknown' : `${percent(e.reassignShare)} reassigned`} (${e.basis})`);
      if (e.matrix && e.class !== 'harmless' && e.class !== 'value-only') {
        if (md) out.push('', ...matrixLines(e.matrix, md, e.basis === 'cohort' ? String : percent), '');
        else out.push(...matrixLines(e.matrix, md, e.basis === 'cohort' ? String : percent));
      }
    }
    const c = f.cohort;
    if (c !== null) {
      const share = (n: number) => (c.subjects ? percent(n / c.subjects) : '-');
      out.push(`${md ? '- ' : '    '}cohort: ${c.subjects} subjects; variation changes for ${c.changedVariation} (${share(c.changedVariation)}), allocation for ${c.changedAllocation} (${share(c.changedAllocation)}), code for ${c.changedCode} (${share(c.changedCode)})`);
      for (const [kind, keys] of Object.entries(c.samples)) if (keys.length) out.push(`${md ? '  - ' : '      '}e.g. ${kind}: ${keys.map((k) => JSON.stringify(k)).join(', ')}`);
    }
  }
  if (changed.length === 0) out.push(md ? '_No flag changed._' : '  (no flag changed)');
  return `${out.join('\n')}\n`;
}

function auditText(r: AuditReport, md: boolean): string {
  const out: string[] = [];
  const h = (level: number, s: string) => out.push(md ? `${level === 1 ? '' : '\n'}${'#'.repeat(level)} ${s}\n` : level === 1 ? s : `\n${s}`);
  h(1, `saltshard audit: ${r.ok ? 'OK' : 'FAILED'}`);
  out.push(`${md ? '' : '  '}${r.events} events (${r.rejected} rows rejected) from ${r.exposures}; config ${r.config}; ${r.reproduced} reproduce (${percent(r.events ? r.reproduced / r.events : 1)})`);
  h(2, 'Checks');
  out.push(...checkLines(r.checks, md));
  h(2, 'Events that do not reproduce');
  if (r.causes.length === 0) out.push(md ? '_Every event reproduces._' : '  (every event reproduces)');
  for (const c of r.causes) out.push(`${md ? '- ' : '  '}${c.cause}: ${c.count}${c.samples.length ? ` (e.g. ${c.samples.map((s) => `${s.subject}/${s.flag}`).join(', ')})` : ''}`);
  h(2, 'Experiments');
  for (const e of r.experiments) {
    out.push(`${md ? `\n### \`${e.experiment}\`` : `  ${e.experiment}`}: ${e.events} events, ${e.subjects} subjects; duplicates ${e.duplicates}; subjects with more than one variation ${e.multiVariation}; SRM p = ${e.srm ? formatP(e.srm.pValue) : 'n/a'}${e.srm ? ` (${e.srm.method})` : ''}`);
    if (md) out.push('', '| variation | expected | observed | count |', '|---|---:|---:|---:|');
    for (const v of e.variations) {
      out.push(md ? `| ${v.variation} | ${percent(v.expected)} | ${percent(v.observed)} | ${v.count} |` : `      ${v.variation.padEnd(16)} expected ${percent(v.expected).padStart(8)}  observed ${percent(v.observed).padStart(8)}  ${String(v.count).padStart(10)}`);
    }
  }
  return `${out.join('\n')}\n`;
}
