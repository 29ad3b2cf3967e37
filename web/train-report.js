// train-report.js — the end of a training run, for the panel and for "Download report": the
// cross-validation table (per fold, mean ± sd, the pooled predictions at Youden's threshold: the
// engine's figures), and the report, one self-contained HTML file (the table, the ROC curve and the
// reliability diagram as inline SVG, the out-of-fold predictions as a data: URL; no script, no
// request: its own Content-Security-Policy forbids every load).

const METRICS = [
  ['accuracy', 'Accuracy'], ['auc', 'AUC'], ['sensitivity', 'Sensitivity'], ['specificity', 'Specificity'], ['ppv', 'PPV'], ['npv', 'NPV'],
];
const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v.toFixed(3) : '—');
/** a metric's cell: the AUC with its 95% confidence interval (DeLong, computed by the engine) when known */
const cell = (row, key) => (key === 'auc' && Array.isArray(row.auc_ci95) && Number.isFinite(row.auc)
  ? `${num(row.auc)} (95% CI ${num(row.auc_ci95[0])}–${num(row.auc_ci95[1])})` : num(row[key]));

function el(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v);
  }
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

/** The cross-validation table of a run's result ({ folds, cv }): a <table>. */
export function cvTable({ folds = [], cv = null }) {
  const k = cv?.cv ?? folds.length;
  const table = el('table', { class: 'results cv-table', 'data-testid': 'cv-table' },
    el('caption', { text: `Cross-validation, ${k} folds (each fold's frames tested by a network that never saw them; groups kept together)` }));
  const head = el('tr', {}, el('th', { scope: 'col', text: 'Fold' }), el('th', { scope: 'col', text: 'Frames' }),
    ...METRICS.map(([, t]) => el('th', { scope: 'col', text: t })), el('th', { scope: 'col', text: 'TP / FP / TN / FN' }));
  table.append(el('thead', {}, head));
  const body = el('tbody');
  for (const f of folds) {
    body.append(el('tr', {}, el('th', { scope: 'row', text: String(f.fold) }), el('td', { text: String(f.n ?? '—') }),
      ...METRICS.map(([key]) => el('td', { text: cell(f, key) })), el('td', { text: [f.tp, f.fp, f.tn, f.fn].map((v) => v ?? '—').join(' / ') })));
  }
  table.append(body);
  if (cv) {
    const foot = el('tfoot');
    foot.append(el('tr', { class: 'mean' }, el('th', { scope: 'row', text: 'mean ± sd' }), el('td', { text: String(folds.reduce((s, f) => s + (f.n || 0), 0) || '—') }),
      ...METRICS.map(([key]) => el('td', { text: `${num(cv[`${key}_mean`])} ± ${num(cv[`${key}_sd`])}` })), el('td', { text: '' })));
    const p = cv.pooled_at_youden;
    if (p) {
      foot.append(el('tr', {}, el('th', { scope: 'row', text: `pooled, at Youden's threshold ${num(cv.youden_threshold)}` }), el('td', { text: String(p.n ?? '—') }),
        ...METRICS.map(([key]) => el('td', { text: cell(p, key) })), el('td', { text: [p.tp, p.fp, p.tn, p.fn].map((v) => v ?? '—').join(' / ') })));
    }
    table.append(foot);
  }
  return table;
}

/** "Platt scaling p = σ(…), Brier 0.21 → 0.19, ECE …" for a result's calibration (or why there is none). */
export function calibrationText(c) {
  if (!c) return 'none (the run had no cross-validation to fit it on, or the fit was refused: see the log)';
  const sign = c.b < 0 ? '−' : '+';
  const how = c.calibration === 'temperature' ? 'temperature scaling' : c.calibration === 'platt' ? 'Platt scaling' : String(c.calibration || 'fitted');
  return `${how} on the pooled out-of-fold predictions: p = σ(${num(c.a)}·logit(p_raw) ${sign} ${num(Math.abs(c.b))}); ` +
    `Brier score ${num(c.brier_before)} → ${num(c.brier_after)}, ECE ${num(c.ece_before)} → ${num(c.ece_after)}; ` +
    `decision threshold ${num(c.threshold_raw)} on p_raw = ${num(c.threshold)} on the calibrated p`;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

function base64Utf8(text) {
  const bytes = new TextEncoder().encode(text);
  let bin = '';
  for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(bin);
}

/** The report: { title, facts: [[name, value]], table (element), figures (SVG elements), notes: [text],
 * oofCsv, csvName, log: [line] } -> the HTML text of one self-contained file. */
export function reportHtml({ title, facts, table, figures, notes, oofCsv, csvName, log }) {
  const css = `body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1b2330;margin:1.5rem auto;max-width:60rem;padding:0 1rem}
h1{font-size:1.45rem}h2{font-size:1.1rem;margin-top:1.6rem}dl{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
dt{font-weight:600}dd{margin:0;color:#4f5b6b;overflow-wrap:anywhere}table{border-collapse:collapse;width:100%;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.3rem 0}th,td{border-bottom:1px solid #d5dbe3;padding:.25rem .5rem;text-align:left}
.figures{display:flex;flex-wrap:wrap;gap:1rem}.figures svg{width:26rem;max-width:100%;height:auto}pre{white-space:pre-wrap;font-size:.8rem;background:#f5f7fa;padding:.5rem}
.notice{background:#fff6e0;border-left:4px solid #e0a100;padding:.5rem .6rem}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>${css}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="notice"><strong>Research use only — not a medical device.</strong> Trained and evaluated in a browser tab by the sialoscan page;
no image left the computer. Cross-validated figures estimate how the method does on frames like these, not on another clinic's.</p>
<h2>Run</h2>
<dl>${facts.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>
<h2>Cross-validation</h2>
${table.outerHTML}
<h2>Pooled out-of-fold predictions</h2>
<div class="figures">${figures.map((f) => f.outerHTML).join('\n')}</div>
${notes.map((n) => `<p>${esc(n)}</p>`).join('\n')}
<p><a download="${esc(csvName)}" href="data:text/csv;charset=utf-8;base64,${base64Utf8(oofCsv || '')}">The out-of-fold predictions (${esc(csvName)}: path, label, fold, raw p)</a></p>
<h2>Log</h2>
<pre>${esc((log || []).join('\n'))}</pre>
</body>
</html>
`;
}
