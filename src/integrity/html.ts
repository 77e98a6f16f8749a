/**
 * The HTML report: one self-contained page (inline CSS and SVG, no script, nothing fetched) with the failing
 * checks first, then per experiment the expected vs observed shares as bars (audit) or the old × new variation
 * reassignment matrix (diff). Every figure carries `data-figure` and its exact `data-value`, so a test can read
 * the page and compare it with the JSON report.
 * @module
 */
import type { AuditReport, ExperimentAudit } from './audit.ts';
import { type Check, type DiffReport, type ExperimentDiff, type FlagDiff, percent } from './diff.ts';
import { formatP } from './stats.ts';

const esc = (s: unknown) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const fig = (name: string, value: number | string | boolean, text: string, tag = 'span', attrs = '') => `<${tag} data-figure="${esc(name)}" data-value="${esc(value)}"${attrs}>${esc(text)}</${tag}>`;

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px auto;max-width:980px;color:#1f2328;padding:0 16px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
h3{font-size:15px;margin:18px 0 6px}.meta{color:#57606a;margin:0 0 12px}
.status{display:inline-block;padding:2px 10px;border-radius:12px;font-weight:600;color:#fff}.ok{background:#1a7f37}.bad{background:#cf222e}
table{border-collapse:collapse;margin:6px 0}td,th{border:1px solid #d0d7de;padding:3px 8px;text-align:right}th{background:#f6f8fa}
td.l,th.l{text-align:left}tr.fail td{background:#ffebe9}.tag{font-size:12px;border-radius:4px;padding:1px 6px;background:#eaeef2}
.cls-re-randomizes,.cls-moves-shards{background:#ffebe9}.cls-changes-targeting{background:#fff8c5}
code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}svg text{font:12px system-ui,sans-serif}`;

function page(title: string, ok: boolean, meta: string, body: string[]): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<title>${esc(title)}</title><style>${CSS}</style></head><body>
<h1>${esc(title)} <span class="status ${ok ? 'ok' : 'bad'}" data-figure="ok" data-value="${ok}">${ok ? 'OK' : 'FAILED'}</span></h1>
<p class="meta">${meta}</p>
${body.join('\n')}
</body></html>
`;
}

function checksTable(checks: readonly Check[]): string {
  if (checks.length === 0) return '<p>No checks apply.</p>';
  const rows = checks.map((c) => `<tr class="${c.ok ? 'pass' : 'fail'}" data-check="${esc(c.name)}"><td class="l">${fig(`check ${c.name}`, c.ok, c.ok ? 'pass' : 'FAIL', 'b')}</td><td class="l"><code>${esc(c.name)}</code></td><td class="l">${esc(c.detail)}</td></tr>`);
  return `<table><tr><th class="l">result</th><th class="l">check</th><th class="l">detail</th></tr>${rows.join('')}</table>`;
}

/** Expected vs observed shares as horizontal bars. */
function bars(e: ExperimentAudit): string {
  const failing = e.srm !== null && e.srm.pValue < 0.001;
  const labelWidth = Math.min(220, 12 + 7 * Math.max(...e.variations.map((v) => v.variation.length), 8));
  const scale = 420;
  const row = 44;
  const height = e.variations.length * row + 24;
  const parts: string[] = [];
  e.variations.forEach((v, i) => {
    const y = 8 + i * row;
    const id = `${e.experiment} ${v.variation}`;
    parts.push(
      `<text x="0" y="${y + 15}">${esc(v.variation)}</text>`,
      `<rect x="${labelWidth}" y="${y}" width="${(v.expected * scale).toFixed(2)}" height="16" fill="#afb8c1"><title>expected ${percent(v.expected)}</title></rect>`,
      `<text x="${labelWidth + v.expected * scale + 6}" y="${y + 13}" data-figure="expected ${esc(id)}" data-value="${v.expected}">expected ${percent(v.expected)}</text>`,
      `<rect x="${labelWidth}" y="${y + 18}" width="${(v.observed * scale).toFixed(2)}" height="16" fill="${failing ? '#cf222e' : '#0969da'}"><title>observed ${percent(v.observed)}</title></rect>`,
      `<text x="${labelWidth + v.observed * scale + 6}" y="${y + 31}" data-figure="observed ${esc(id)}" data-value="${v.observed}">observed ${percent(v.observed)} (${v.count})</text>`,
    );
  });
  return `<svg width="${labelWidth + scale + 190}" height="${height}" role="img" aria-label="expected and observed shares of ${esc(e.experiment)}">${parts.join('')}</svg>`;
}

/** The old × new variation matrix as a shaded grid. */
function matrix(flagKey: string, e: ExperimentDiff): string {
  const m = e.matrix!;
  const name = (k: string | null) => k ?? '(none)';
  const isCount = e.basis === 'cohort';
  const rowTotals = m.cells.map((r) => r.reduce((a, b) => a + b, 0));
  const cellW = Math.max(84, ...m.cols.map((c) => 12 + 7 * name(c).length));
  const labelW = Math.max(90, ...m.rows.map((r) => 12 + 7 * name(r).length));
  const parts: string[] = [`<text x="0" y="14" fill="#57606a">old \\ new</text>`];
  m.cols.forEach((c, k) => parts.push(`<text x="${labelW + k * cellW + cellW / 2}" y="14" text-anchor="middle">${esc(name(c))}</text>`));
  m.rows.forEach((r, i) => {
    const y = 22 + i * 30;
    parts.push(`<text x="0" y="${y + 19}">${esc(name(r))}</text>`);
    m.cols.forEach((c, k) => {
      const v = m.cells[i][k];
      const share = rowTotals[i] > 0 ? v / rowTotals[i] : 0;
      const moved = v > 0 && c !== r;
      const fill = v === 0 ? '#f6f8fa' : moved ? `rgba(207,34,46,${(0.15 + 0.85 * share).toFixed(3)})` : `rgba(26,127,55,${(0.15 + 0.85 * share).toFixed(3)})`;
      parts.push(
        `<rect x="${labelW + k * cellW}" y="${y}" width="${cellW - 2}" height="28" fill="${fill}"/>`,
        `<text x="${labelW + k * cellW + cellW / 2}" y="${y + 19}" text-anchor="middle" data-figure="cell ${esc(flagKey)} ${esc(e.allocationKey)} ${esc(name(r))} ${esc(name(c))}" data-value="${v}">${esc(isCount ? String(v) : percent(v))}</text>`,
      );
    });
  });
  return `<svg width="${labelW + m.cols.length * cellW + 4}" height="${24 + m.rows.length * 30}" role="img" aria-label="reassignment matrix">${parts.join('')}</svg>`;
}

function diffFlag(f: FlagDiff): string {
  const out = [`<h3><code>${esc(f.flagKey)}</code> <span class="tag cls-${f.class}" data-figure="class ${esc(f.flagKey)}" data-value="${f.class}">${f.class}</span> <span class="tag">${f.status}</span></h3>`];
  out.push(`<ul>${f.changes.map((c) => `<li><span class="tag cls-${c.class}">${c.class}</span> ${c.allocationKey !== null ? `allocation <code>${esc(c.allocationKey)}</code>: ` : ''}${esc(c.what)}</li>`).join('')}</ul>`);
  for (const e of f.experiments.filter((x) => x.class !== 'unchanged')) {
    const share = e.reassignShare === null ? 'unknown share' : `${percent(e.reassignShare)} reassigned`;
    out.push(`<p>Experiment <code>${esc(e.experiment)}</code>: <span class="tag cls-${e.class}">${e.class}</span>, ${fig(`reassign ${e.experiment}`, e.reassignShare ?? 'null', share, 'b')} <span class="meta">(${e.basis}${e.basis === 'cohort' ? ': subjects' : ': shares of its subjects'})</span></p>`);
    if (e.matrix && e.class !== 'harmless' && e.class !== 'value-only') out.push(matrix(f.flagKey, e));
  }
  const c = f.cohort;
  if (c !== null) {
    const row = (label: string, kind: 'variation' | 'allocation' | 'code', n: number) =>
      `<tr><td class="l">${label}</td><td>${fig(`cohort ${f.flagKey} ${kind}`, n, String(n))}</td><td>${c.subjects ? percent(n / c.subjects) : '-'}</td><td class="l">${c.samples[kind].map((k) => `<code>${esc(k)}</code>`).join(', ')}</td></tr>`;
    out.push(`<table><tr><th class="l">cohort: ${c.subjects} subjects</th><th>subjects</th><th>share</th><th class="l">e.g.</th></tr>${row('change variation', 'variation', c.changedVariation)}${row('change allocation', 'allocation', c.changedAllocation)}${row('change code', 'code', c.changedCode)}</table>`);
  }
  return out.join('\n');
}

function diffPage(r: DiffReport): string {
  const changed = r.flags.filter((f) => f.status !== 'unchanged');
  // Flags with a failing check first.
  const failingFlags = new Set(r.checks.filter((c) => !c.ok).map((c) => c.name));
  const isFailing = (f: FlagDiff) => f.experiments.some((e) => failingFlags.has(`reassign ${e.experiment}`));
  changed.sort((a, b) => Number(isFailing(b)) - Number(isFailing(a)));
  const meta = `From <code>${esc(r.from)}</code> to <code>${esc(r.to)}</code>; experiments running at ${esc(r.at)}; limit ${percent(r.maxReassign)} reassigned${r.cohort ? `; cohort <code>${esc(r.cohort.input)}</code>: ${r.cohort.subjects} subjects (${r.cohort.rejected} rows rejected)` : ''}.`;
  return page('saltshard diff', r.ok, meta, [
    '<h2>Checks</h2>', checksTable(r.checks),
    `<h2>Changed flags (${changed.length} of ${r.flags.length})</h2>`,
    ...(changed.length ? changed.map(diffFlag) : ['<p>No flag changed.</p>']),
  ]);
}

function auditPage(r: AuditReport): string {
  const meta = `${r.events} events from <code>${esc(r.exposures)}</code> (${r.rejected} rows rejected); config <code>${esc(r.config)}</code>; ${fig('reproduced', r.reproduced, String(r.reproduced), 'b')} reproduce.`;
  const failingExperiments = new Set(r.checks.filter((c) => !c.ok).map((c) => c.name.replace(/^(srm|duplicates|one variation per subject) /, '')));
  const experiments = [...r.experiments].sort((a, b) => Number(failingExperiments.has(b.experiment)) - Number(failingExperiments.has(a.experiment)));
  const causes = r.causes.length === 0 ? '<p>Every event reproduces.</p>'
    : `<table><tr><th class="l">cause</th><th>events</th><th class="l">samples (subject / flag: logged → now)</th></tr>${r.causes.map((c) => `<tr class="fail"><td class="l">${esc(c.cause)}</td><td>${fig(`cause ${c.cause}`, c.count, String(c.count))}</td><td class="l">${c.samples.map((s) => `<code>${esc(s.subject)}</code> / <code>${esc(s.flag)}</code>: ${esc(s.logged)} → ${esc(s.now)}${s.detail ? ` (${esc(s.detail)})` : ''}`).join('<br>')}</td></tr>`).join('')}</table>`;
  return page('saltshard audit', r.ok, meta, [
    '<h2>Checks</h2>', checksTable(r.checks),
    '<h2>Events that do not reproduce</h2>', causes,
    '<h2>Experiments: expected vs observed shares of subjects</h2>',
    ...experiments.map((e) => [
      `<h3><code>${esc(e.experiment)}</code></h3>`,
      `<p>${e.events} events, ${e.subjects} subjects; duplicates ${fig(`duplicates ${e.experiment}`, e.duplicates, String(e.duplicates))}; subjects with more than one variation ${fig(`multi ${e.experiment}`, e.multiVariation, String(e.multiVariation))}; sample ratio mismatch ${e.srm ? `p = ${fig(`srm ${e.experiment}`, e.srm.pValue, formatP(e.srm.pValue), 'b')} (${e.srm.method})` : 'not tested (one variation)'}</p>`,
      bars(e),
    ].join('\n')),
  ]);
}

/** The report as one HTML page. */
export function renderHtml(report: DiffReport | AuditReport): string {
  return report.kind === 'diff' ? diffPage(report) : auditPage(report);
}
