// recipes-score.mjs — scores the cross-validated recipes of tools/experiments/recipes-busi.sh from their
// pooled out-of-fold predictions (runs/recipes/<name>/oof.csv; the same folds for every recipe):
// AUC (pooled, and mean ± sd over folds), the operating point by Youden's J, and calibration
// (Brier, ECE with 10 equal-width bins) raw and after Platt scaling. The Platt fit is cross-fitted:
// each fold's predictions are calibrated by a fit on the other four folds, so the calibrated
// figures are out-of-sample too. Combinations are scored as well:
//   A+B      ensemble: the mean of the members' logits (e.g. two seeds)
//   A@eval   A's fold models run by the engine (`sialoscan eval`) rather than the trainer's own
//            prediction pass (runs/recipes/A/oof-eval.csv from tools/experiments/recipes-flip.mjs)
//   A@flip   test-time flip: the mean logit over the frame and its mirror image, both run by the
//            engine (oof-eval.csv and oof-flip.csv from tools/experiments/recipes-flip.mjs)
//
//   node tools/experiments/recipes-score.mjs [RUNS_DIR] [RECIPE or A+B or A@flip ...]   (default: every recipe,
//        and the 224 px seeds as ensembles); Markdown table, then one JSON line
import fs from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const dir = args[0] && fs.existsSync(args[0]) && fs.statSync(args[0]).isDirectory() ? args.shift() : 'runs/recipes';

const logit = (p) => { const q = Math.min(Math.max(p, 1e-7), 1 - 1e-7); return Math.log(q / (1 - q)); };
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function readOof(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const h = lines[0].split(',');
  const ip = h.indexOf('p_malignant'), iy = h.indexOf('label'), iF = h.indexOf('fold'), ipath = h.indexOf('path');
  const rows = new Map();
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    rows.set(c[ipath], { path: c[ipath], y: Number(c[iy]), fold: Number(c[iF]), z: logit(Number(c[ip])) });
  }
  return rows;
}

function load(spec) {
  if (spec.includes('+')) { // ensemble: mean logit
    const parts = spec.split('+').map(load);
    const out = new Map();
    for (const [k, r] of parts[0]) {
      const zs = parts.map((p) => p.get(k));
      if (zs.some((x) => !x || x.fold !== r.fold || x.y !== r.y)) throw new Error(`${spec}: the members differ in frames or folds (${k})`);
      out.set(k, { ...r, z: zs.reduce((a, b) => a + b.z, 0) / zs.length });
    }
    return out;
  }
  if (spec.endsWith('@eval')) return readOof(path.join(dir, spec.slice(0, -5), 'oof-eval.csv'));
  if (spec.endsWith('@flip')) {
    const name = spec.slice(0, -5);
    const a = readOof(path.join(dir, name, 'oof-eval.csv')), b = readOof(path.join(dir, name, 'oof-flip.csv'));
    const out = new Map();
    for (const [k, r] of a) {
      const f = b.get(k);
      if (!f) throw new Error(`${spec}: no flipped prediction for ${k}`);
      out.set(k, { ...r, z: (r.z + f.z) / 2 });
    }
    return out;
  }
  return readOof(path.join(dir, spec, 'oof.csv'));
}

function auc(rows) { // Mann-Whitney with ties counted one half
  const pos = rows.filter((r) => r.y === 1).map((r) => r.z), neg = rows.filter((r) => r.y === 0).map((r) => r.z);
  let s = 0;
  for (const a of pos) for (const b of neg) s += a > b ? 1 : a === b ? 0.5 : 0;
  return s / (pos.length * neg.length);
}
function youden(rows) { // threshold on p maximising sens + spec - 1, over the observed p
  const ps = [...new Set(rows.map((r) => sigmoid(r.z)))].sort((a, b) => a - b);
  let best = { j: -1 };
  for (const t of ps) {
    const f = at(rows, t);
    const j = f.sensitivity + f.specificity - 1;
    if (j > best.j) best = { j, t, ...f };
  }
  return best;
}
function at(rows, t) {
  let tp = 0, fp = 0, tn = 0, fn = 0;
  for (const r of rows) { const m = sigmoid(r.z) >= t; if (r.y) m ? tp++ : fn++; else m ? fp++ : tn++; }
  return { sensitivity: tp / (tp + fn), specificity: tn / (tn + fp), accuracy: (tp + tn) / rows.length, ppv: tp / (tp + fp || 1), npv: tn / (tn + fn || 1) };
}
function calib(rows, zOf = (r) => r.z) {
  let brier = 0;
  const bins = Array.from({ length: 10 }, () => ({ n: 0, p: 0, y: 0 }));
  for (const r of rows) {
    const p = sigmoid(zOf(r));
    brier += (p - r.y) ** 2;
    const b = bins[Math.min(9, Math.floor(p * 10))];
    b.n++; b.p += p; b.y += r.y;
  }
  let ece = 0;
  for (const b of bins) if (b.n) ece += (b.n / rows.length) * Math.abs(b.y / b.n - b.p / b.n);
  return { brier: brier / rows.length, ece };
}
function plattFit(rows) { // Newton on the mean log loss of sigmoid(a z + b), step halved until the loss falls
  const loss = (a, b) => {
    let l = 0;
    for (const r of rows) { const u = a * r.z + b; l += r.y ? Math.log1p(Math.exp(-u)) : Math.log1p(Math.exp(u)); }
    return l / rows.length;
  };
  let a = 1, b = 0, cur = loss(a, b);
  for (let it = 0; it < 100; it++) {
    let ga = 0, gb = 0, haa = 0, hab = 0, hbb = 0;
    for (const r of rows) {
      const p = sigmoid(a * r.z + b), w = p * (1 - p), e = p - r.y;
      ga += e * r.z; gb += e; haa += w * r.z * r.z; hab += w * r.z; hbb += w;
    }
    const det = haa * hbb - hab * hab;
    if (!(Math.abs(det) > 1e-12)) break;
    const da = (hbb * ga - hab * gb) / det, db = (haa * gb - hab * ga) / det;
    let step = 1, next;
    while (step > 1e-6 && !((next = loss(a - step * da, b - step * db)) <= cur)) step /= 2;
    if (step <= 1e-6) break;
    a -= step * da; b -= step * db;
    const done = cur - next < 1e-12;
    cur = next;
    if (done) break;
  }
  return { a, b };
}

function score(spec) {
  const rows = [...load(spec).values()];
  const folds = [...new Set(rows.map((r) => r.fold))].sort();
  const fa = folds.map((k) => auc(rows.filter((r) => r.fold === k)));
  const mean = fa.reduce((a, b) => a + b, 0) / fa.length;
  const sd = Math.sqrt(fa.reduce((a, b) => a + (b - mean) ** 2, 0) / (fa.length - 1));
  // cross-fitted Platt: fold k calibrated by a fit on the others
  const zc = new Map();
  for (const k of folds) {
    const { a, b } = plattFit(rows.filter((r) => r.fold !== k));
    for (const r of rows.filter((q) => q.fold === k)) zc.set(r, a * r.z + b);
  }
  const y = youden(rows);
  const whole = plattFit(rows);
  return {
    recipe: spec, n: rows.length, auc_pooled: auc(rows), auc_fold_mean: mean, auc_fold_sd: sd,
    youden: { threshold: y.t, sensitivity: y.sensitivity, specificity: y.specificity, accuracy: y.accuracy, ppv: y.ppv, npv: y.npv },
    raw: calib(rows), platt_crossfit: calib(rows, (r) => zc.get(r)), platt_all: whole,
  };
}

let specs = args;
if (!specs.length) {
  const names = fs.readdirSync(dir).filter((d) => fs.existsSync(path.join(dir, d, 'oof.csv'))).sort();
  specs = [...names];
  for (const n of names) if (fs.existsSync(path.join(dir, n, 'oof-flip.csv'))) specs.push(`${n}@eval`, `${n}@flip`);
  const seeds = names.filter((n) => /^gradual-224-s\d+$/.test(n));
  if (seeds.length >= 2) specs.push(seeds.join('+'));
  if (seeds.length >= 3) for (let i = 0; i < seeds.length; i++) for (let j = i + 1; j < seeds.length; j++) specs.push(`${seeds[i]}+${seeds[j]}`);
  const masked = names.filter((n) => /^gradual-224-s\d+-masks$/.test(n));
  if (masked.length >= 2) specs.push(masked.join('+'));
  if (seeds.length >= 2 && seeds.every((n) => fs.existsSync(path.join(dir, n, 'oof-flip.csv')))) specs.push(seeds.map((n) => `${n}@flip`).join('+'));
}
const out = specs.map(score);
const f3 = (v) => v.toFixed(3);
console.log('| recipe | AUC pooled | AUC folds mean ± sd | Youden t | sens | spec | acc | Brier raw | ECE raw | Brier Platt (cross-fit) | ECE Platt (cross-fit) |');
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const s of out)
  console.log(`| ${s.recipe} | ${f3(s.auc_pooled)} | ${f3(s.auc_fold_mean)} ± ${f3(s.auc_fold_sd)} | ${f3(s.youden.threshold)} | ${f3(s.youden.sensitivity)} | ${f3(s.youden.specificity)} | ${f3(s.youden.accuracy)} | ${f3(s.raw.brier)} | ${f3(s.raw.ece)} | ${f3(s.platt_crossfit.brier)} | ${f3(s.platt_crossfit.ece)} |`);
console.log(JSON.stringify(out));
