// operating-points.mjs — sensitivity / specificity / PPV / NPV / accuracy with 95% Wilson score
// intervals at chosen thresholds of out-of-fold predictions.
//
//   node tools/operating-points.mjs OOF.csv [--threshold T ...] [--model M.sialo]
//
// OOF.csv: `train --predictions` (path,label,fold,p_malignant; label 0/1) or eval's --csv (label
// benign/malignant). A frame is called malignant when p >= T. Without --threshold: Youden's J (the
// threshold maximising sensitivity + specificity − 1) and the high-specificity point (the highest
// sensitivity with specificity >= 0.90; among those the highest specificity), both searched over
// the observed p. --model M: p is first put through M's calibration (a, b from `build/sialoscan info`,
// p = sigmoid(a·logit(p) + b)), so thresholds are on the calibrated scale, and M's own threshold is
// added. Prints a Markdown table, then one JSON line.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const Z = 1.959963984540054; // two-sided 95%

/** 95% Wilson score interval of k successes in n */
export function wilson(k, n) {
  if (!n) return [null, null];
  const p = k / n, z2 = Z * Z, den = 1 + z2 / n;
  const centre = (p + z2 / (2 * n)) / den, half = (Z * Math.sqrt((p * (1 - p)) / n + z2 / (4 * n * n))) / den;
  return [Math.max(0, centre - half), Math.min(1, centre + half)];
}

export function confusion(rows, t) {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const { p, y } of rows) {
    if (p >= t) { if (y) tp++; else fp++; } else if (y) fn++; else tn++;
  }
  return { tp, fp, tn, fn };
}

export function figures(rows, t) {
  const c = confusion(rows, t);
  const prop = (k, n) => ({ value: n ? k / n : null, ci95: wilson(k, n), k, n });
  return {
    threshold: t, ...c,
    sensitivity: prop(c.tp, c.tp + c.fn),
    specificity: prop(c.tn, c.tn + c.fp),
    ppv: prop(c.tp, c.tp + c.fp),
    npv: prop(c.tn, c.tn + c.fn),
    accuracy: prop(c.tp + c.tn, rows.length),
  };
}

/** candidate thresholds: every observed p (p >= t calls it malignant) */
function candidates(rows) { return [...new Set(rows.map((r) => r.p))].sort((a, b) => a - b); }

export function youden(rows) {
  let best = null, bestJ = -Infinity;
  for (const t of candidates(rows)) {
    const c = confusion(rows, t), j = c.tp / (c.tp + c.fn) + c.tn / (c.tn + c.fp) - 1;
    if (j > bestJ + 1e-12) { bestJ = j; best = t; }
  }
  return best;
}

export function highSpecificity(rows, minSpec = 0.9) {
  let best = null, bs = -1, bc = -1;
  for (const t of candidates(rows)) {
    const c = confusion(rows, t), sens = c.tp / (c.tp + c.fn), spec = c.tn / (c.tn + c.fp);
    if (spec < minSpec) continue;
    if (sens > bs + 1e-12 || (Math.abs(sens - bs) <= 1e-12 && spec > bc)) { bs = sens; bc = spec; best = t; }
  }
  return best;
}

export function readPredictions(file) {
  const lines = readFileSync(file, 'utf8').trim().split(/\r?\n/);
  const split = (l) => l.match(/("([^"]|"")*"|[^,]*)(,|$)/g).slice(0, -1).map((f) => f.replace(/,$/, '').replace(/^"(.*)"$/, '$1'));
  const head = split(lines[0]);
  const ip = head.indexOf('p_malignant'), il = head.indexOf('label');
  if (ip < 0 || il < 0) throw new Error(`${file}: no column '${ip < 0 ? 'p_malignant' : 'label'}' (header: ${lines[0]})`);
  return lines.slice(1).filter((l) => l).map((l, i) => {
    const f = split(l), p = Number(f[ip]), lab = f[il];
    if (!(p >= 0 && p <= 1)) throw new Error(`${file} line ${i + 2}: p_malignant ${f[ip]} is not in [0, 1]`);
    if (!['0', '1', 'benign', 'malignant'].includes(lab)) throw new Error(`${file} line ${i + 2}: label '${lab}'`);
    return { p, y: lab === '1' || lab === 'malignant' ? 1 : 0 };
  });
}

const EPS = 1e-7; // as src/engine/calibration.h
export function calibrate(a, b, p) {
  if (a === 1 && b === 0) return p;
  const q = Math.min(1 - EPS, Math.max(EPS, p));
  return 1 / (1 + Math.exp(-(a * Math.log(q / (1 - q)) + b)));
}

function main(argv) {
  const thresholds = [];
  let file = null, model = null;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--threshold') thresholds.push(Number(argv[++i]));
    else if (argv[i] === '--model') model = argv[++i];
    else if (!file) file = argv[i];
    else throw new Error(`unexpected argument ${argv[i]}`);
  }
  if (!file || thresholds.some((t) => !(t >= 0 && t <= 1)))
    throw new Error('usage: node tools/operating-points.mjs OOF.csv [--threshold T ...] [--model M.sialo]  (T in [0, 1])');
  let rows = readPredictions(file);
  const points = [];
  let calibration = null;
  if (model) {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..');
    const bin = process.env.SIALOSCAN_CLI || join(root, 'build', 'sialoscan');
    if (!existsSync(bin)) throw new Error(`${bin} not found: run make native`);
    const r = spawnSync(bin, ['info', model], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`sialoscan info ${model}: ${r.stderr.trim()}`);
    const inf = JSON.parse(r.stdout);
    calibration = inf.calibration ?? { a: 1, b: 0, identity: true };
    rows = rows.map(({ p, y }) => ({ p: calibrate(calibration.a, calibration.b, p), y }));
    points.push({ name: 'model threshold', threshold: inf.threshold });
  }
  if (!thresholds.length) {
    points.push({ name: "Youden's J", threshold: youden(rows) });
    points.push({ name: 'highest sensitivity with specificity ≥ 0.90', threshold: highSpecificity(rows) });
  }
  for (const t of thresholds) points.push({ name: 'given', threshold: t });
  const npos = rows.filter((r) => r.y).length;
  const pct = (x) => (x == null ? '–' : (100 * x).toFixed(1));
  const cell = (f) => (f.value == null ? '–' : `${pct(f.value)}% (${pct(f.ci95[0])}–${pct(f.ci95[1])}) ${f.k}/${f.n}`);
  const out = [];
  console.log(`${rows.length} frames, ${npos} malignant, ${rows.length - npos} benign${calibration ? `; p calibrated (a = ${calibration.a}, b = ${calibration.b})` : ''}`);
  console.log('');
  console.log('| operating point | threshold | sensitivity | specificity | PPV | NPV | accuracy |');
  console.log('|---|---:|---:|---:|---:|---:|---:|');
  for (const pt of points) {
    if (pt.threshold == null) { console.log(`| ${pt.name} | none | | | | | |`); out.push({ name: pt.name, threshold: null }); continue; }
    const f = figures(rows, pt.threshold);
    console.log(`| ${pt.name} | ${pt.threshold.toFixed(4)} | ${cell(f.sensitivity)} | ${cell(f.specificity)} | ${cell(f.ppv)} | ${cell(f.npv)} | ${cell(f.accuracy)} |`);
    out.push({ name: pt.name, ...f });
  }
  console.log('');
  console.log('95% Wilson score intervals; k/n after each figure.');
  console.log(JSON.stringify({ file, n: rows.length, malignant: npos, calibration, interval: 'wilson95', points: out }));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    main(process.argv.slice(2));
  } catch (e) {
    console.error(`operating-points: ${e.message}`);
    process.exit(1);
  }
}
