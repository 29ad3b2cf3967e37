// train-plots.js — what the training panel draws, as inline SVG (no library; presentation attributes
// only, so the page's style-src 'self' holds and the report can carry the same markup): the loss and
// validation AUC per epoch while a run trains; the ROC curve and the reliability diagram of the
// pooled out-of-fold predictions at its end, computed here from result.oof (independently of the
// engine's own summary figures, which the table shows).

const NS = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#1d5fb8', '#b3261e', '#1f7a4d', '#8a5a00', '#6a3d9a', '#00838f', '#c2185b', '#5d6b00', '#4e342e', '#37474f'];
const INK = '#1b2330', MUTED = '#4f5b6b', GRID = '#d5dbe3';
const W = 340, H = 210, M = { l: 42, r: 10, t: 22, b: 34 };

const finite = (v) => typeof v === 'number' && Number.isFinite(v);
/** Is an out-of-fold label the positive class? (the engine writes "malignant", or 1) */
export const isMalignant = (label) => label === 'malignant' || label === 1 || label === '1' || label === true;

// ---------------------------------------------------------------- figures from the predictions

/** ROC of scores p against labels y (1 = malignant): { points: [{ fpr, tpr, threshold }] from (0,0)
 * to (1,1), ties taken together; auc (trapezoids: the Mann–Whitney U / n₊n₋, ties counted half);
 * youden: the point of largest TPR − FPR (its threshold: predict malignant when p ≥ threshold) }. */
export function rocCurve(p, y) {
  const pos = y.filter(Boolean).length, neg = y.length - pos;
  if (!pos || !neg) return null;
  const order = p.map((v, i) => i).sort((a, b) => p[b] - p[a]);
  const points = [{ fpr: 0, tpr: 0, threshold: Infinity }];
  let tp = 0, fp = 0, auc = 0;
  for (let k = 0; k < order.length;) {
    const t = p[order[k]];
    let dtp = 0, dfp = 0;
    while (k < order.length && p[order[k]] === t) { if (y[order[k]]) dtp++; else dfp++; k++; }
    auc += (dfp / neg) * ((tp + dtp / 2) / pos);
    tp += dtp;
    fp += dfp;
    points.push({ fpr: fp / neg, tpr: tp / pos, threshold: t });
  }
  const youden = points.reduce((best, q) => (q.tpr - q.fpr > best.tpr - best.fpr ? q : best), points[0]);
  return { points, auc, youden, pos, neg };
}

/** Reliability of probabilities p against labels y: 10 equal-width bins of p ([0, .1), …, [.9, 1]),
 * each { lo, hi, n, meanP, frac } (frac: the share malignant), and ece (the frame-weighted mean of
 * |frac − meanP|, as `sialoscan eval` reports it). */
export function reliability(p, y, nBins = 10) {
  const bins = Array.from({ length: nBins }, (_, i) => ({ lo: i / nBins, hi: (i + 1) / nBins, n: 0, sumP: 0, pos: 0 }));
  p.forEach((v, i) => {
    const b = bins[Math.min(nBins - 1, Math.max(0, Math.floor(v * nBins)))];
    b.n++;
    b.sumP += v;
    if (y[i]) b.pos++;
  });
  let ece = 0;
  const out = bins.map((b) => {
    const meanP = b.n ? b.sumP / b.n : NaN, frac = b.n ? b.pos / b.n : NaN;
    if (b.n) ece += (b.n / p.length) * Math.abs(frac - meanP);
    return { lo: b.lo, hi: b.hi, n: b.n, meanP, frac };
  });
  return { bins: out, ece };
}

/** The calibrated p of a raw one: σ(a·logit(p) + b), p clamped as the engine does. */
export function calibrate(p, a, b) {
  const q = Math.min(1 - 1e-7, Math.max(1e-7, p));
  return 1 / (1 + Math.exp(-(a * Math.log(q / (1 - q)) + b)));
}

// ---------------------------------------------------------------- SVG

function node(tag, attrs = {}, text) {
  const e = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

const fmt = (v) => (Math.abs(v) >= 10 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(1) : v.toFixed(2));

/** An empty chart: { svg, x(v), y(v) } with axes, grid and labels for the ranges given. */
function frame({ title, label, xLabel, yLabel, x0, x1, y0, y1, xTicks, yTicks }) {
  const svg = node('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'plot' });
  svg.append(node('title', {}, label));
  const x = (v) => M.l + ((v - x0) / (x1 - x0 || 1)) * (W - M.l - M.r);
  const y = (v) => H - M.b - ((v - y0) / (y1 - y0 || 1)) * (H - M.t - M.b);
  svg.append(node('text', { x: M.l, y: 14, 'font-size': 12, 'font-weight': 600, fill: INK }, title));
  for (const t of yTicks) {
    svg.append(node('line', { x1: M.l, x2: W - M.r, y1: y(t), y2: y(t), stroke: GRID, 'stroke-width': 1 }));
    svg.append(node('text', { x: M.l - 4, y: y(t) + 3, 'font-size': 9, fill: MUTED, 'text-anchor': 'end' }, fmt(t)));
  }
  for (const t of xTicks) svg.append(node('text', { x: x(t), y: H - M.b + 12, 'font-size': 9, fill: MUTED, 'text-anchor': 'middle' }, fmt(t)));
  svg.append(node('line', { x1: M.l, x2: W - M.r, y1: H - M.b, y2: H - M.b, stroke: MUTED }));
  svg.append(node('line', { x1: M.l, x2: M.l, y1: M.t, y2: H - M.b, stroke: MUTED }));
  svg.append(node('text', { x: (M.l + W - M.r) / 2, y: H - 6, 'font-size': 10, fill: MUTED, 'text-anchor': 'middle' }, xLabel));
  svg.append(node('text', { x: 10, y: (M.t + H - M.b) / 2, 'font-size': 10, fill: MUTED, 'text-anchor': 'middle',
    transform: `rotate(-90 10 ${(M.t + H - M.b) / 2})` }, yLabel));
  return { svg, x, y };
}

const ticks = (lo, hi, n = 5) => {
  const step = (hi - lo) / n;
  const nice = [1, 2, 2.5, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(step || 1))).find((s) => s >= step) || step || 1;
  const out = [];
  for (let v = Math.ceil(lo / nice) * nice; v <= hi + 1e-9; v += nice) out.push(Number(v.toFixed(10)));
  return out;
};

function polyline(svg, pts, color, { dash, width = 1.6, dots = true, name } = {}) {
  if (!pts.length) return;
  const g = node('g', { 'data-series': name });
  g.append(node('polyline', { points: pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(' '), fill: 'none', stroke: color,
    'stroke-width': width, 'stroke-dasharray': dash, 'stroke-linejoin': 'round' }));
  if (dots) for (const [a, b] of pts) g.append(node('circle', { cx: a.toFixed(1), cy: b.toFixed(1), r: 2.2, fill: color }));
  svg.append(g);
}

function legend(svg, items) {
  let at = M.l + 4;
  const yy = M.t + 8;
  for (const { name, color, dash } of items) {
    svg.append(node('line', { x1: at, x2: at + 14, y1: yy, y2: yy, stroke: color, 'stroke-width': 2, 'stroke-dasharray': dash }));
    const t = node('text', { x: at + 17, y: yy + 3, 'font-size': 9, fill: INK }, name);
    svg.append(t);
    at += 24 + 5.2 * name.length;
  }
}

/** Curves per epoch: series [{ name, values: [number|NaN per epoch] }]; yRange [lo, hi] or null (0 to the largest). */
export function epochPlot({ title, yLabel, series, yRange = null }) {
  const all = series.flatMap((s) => s.values.filter(finite));
  const n = Math.max(1, ...series.map((s) => s.values.length));
  const [y0, y1] = yRange || [0, Math.max(1e-3, ...all) * 1.1];
  const summary = series.map((s) => `${s.name}: ${s.values.filter(finite).map((v) => v.toFixed(3)).join(', ') || 'no value yet'}`).join('; ');
  const f = frame({ title, label: `${title} — ${summary || 'no epoch yet'}`, xLabel: 'epoch', yLabel, x0: n > 1 ? 1 : 0, x1: Math.max(2, n),
    y0, y1, xTicks: ticks(1, Math.max(2, n)).filter((t) => Number.isInteger(t)), yTicks: ticks(y0, y1, 4) });
  series.forEach((s, i) => {
    const pts = s.values.map((v, k) => (finite(v) ? [f.x(k + 1), f.y(Math.min(y1, Math.max(y0, v)))] : null)).filter(Boolean);
    polyline(f.svg, pts, s.color || PALETTE[i % PALETTE.length], { name: s.name });
  });
  if (series.length) legend(f.svg, series.map((s, i) => ({ name: s.name, color: s.color || PALETTE[i % PALETTE.length] })));
  return f.svg;
}

/** The ROC curve (of rocCurve()), the chance line, and the Youden point marked. */
export function rocPlot(roc, { title = 'ROC of the pooled out-of-fold predictions' } = {}) {
  const label = `${title}: AUC ${roc.auc.toFixed(3)} (${roc.pos} malignant, ${roc.neg} benign); Youden point sensitivity ${roc.youden.tpr.toFixed(3)}, specificity ${(1 - roc.youden.fpr).toFixed(3)}`;
  const f = frame({ title, label, xLabel: '1 − specificity (false-positive rate)', yLabel: 'sensitivity', x0: 0, x1: 1, y0: 0, y1: 1,
    xTicks: [0, 0.25, 0.5, 0.75, 1], yTicks: [0, 0.25, 0.5, 0.75, 1] });
  f.svg.append(node('line', { x1: f.x(0), y1: f.y(0), x2: f.x(1), y2: f.y(1), stroke: GRID, 'stroke-dasharray': '4 3' }));
  polyline(f.svg, roc.points.map((q) => [f.x(q.fpr), f.y(q.tpr)]), PALETTE[0], { dots: false, width: 2, name: 'roc' });
  f.svg.append(node('circle', { cx: f.x(roc.youden.fpr), cy: f.y(roc.youden.tpr), r: 4, fill: 'none', stroke: PALETTE[1], 'stroke-width': 2 }));
  f.svg.append(node('text', { x: f.x(0.98), y: f.y(0.06), 'font-size': 11, fill: INK, 'text-anchor': 'end' }, `AUC ${roc.auc.toFixed(3)}`));
  return f.svg;
}

/** The reliability diagram: fraction malignant against mean p per bin (of reliability()), for each
 * set [{ name, rel }] (e.g. raw and calibrated p), the diagonal of perfect calibration. */
export function reliabilityPlot(sets, { title = 'Reliability of the out-of-fold predictions' } = {}) {
  const label = `${title}: ${sets.map((s) => `${s.name} ECE ${s.rel.ece.toFixed(3)}`).join(', ')}`;
  const f = frame({ title, label, xLabel: 'mean predicted p(malignant) in the bin', yLabel: 'fraction malignant', x0: 0, x1: 1, y0: 0, y1: 1,
    xTicks: [0, 0.2, 0.4, 0.6, 0.8, 1], yTicks: [0, 0.25, 0.5, 0.75, 1] });
  f.svg.append(node('line', { x1: f.x(0), y1: f.y(0), x2: f.x(1), y2: f.y(1), stroke: GRID, 'stroke-dasharray': '4 3' }));
  const items = [];
  sets.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length], dash = i ? '5 3' : undefined;
    const used = s.rel.bins.filter((b) => b.n);
    polyline(f.svg, used.map((b) => [f.x(b.meanP), f.y(b.frac)]), color, { dash, name: s.name });
    items.push({ name: `${s.name} (ECE ${s.rel.ece.toFixed(3)})`, color, dash });
  });
  legend(f.svg, items);
  return f.svg;
}
