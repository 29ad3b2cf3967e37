// ensemble-oof.mjs — the pooled out-of-fold predictions of an ensemble, from its networks' own
// (`sialoscan train --cv K --predictions` of each seed, on the same folds): per frame, the raw
// p = sigmoid(mean of the networks' logits), as the engine computes it for an ensemble file. The
// CSV that `sialoscan calibrate` fits the ensemble's calibration on:
//
//   node tools/experiments/ensemble-oof.mjs runs/recipes/gradual-224-s1/oof.csv runs/recipes/gradual-224-s2/oof.csv > ens-oof.csv
//   sialoscan ensemble s1.sialo s2.sialo --out ens.sialo
//   sialoscan calibrate --model ens.sialo --predictions ens-oof.csv --out ens.sialo
//
// Refuses files that differ in frames, labels or folds. Columns: path,label,fold,p_malignant.
import fs from 'node:fs';

const files = process.argv.slice(2);
if (files.length < 2) {
  console.error('usage: node tools/experiments/ensemble-oof.mjs A/oof.csv B/oof.csv [...] > ENSEMBLE_OOF.csv');
  process.exit(2);
}
const EPS = 1e-7; // as src/engine/calibration.h clamps p before the logit
const logit = (p) => { const q = Math.min(Math.max(p, EPS), 1 - EPS); return Math.log(q / (1 - q)); };
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

function read(file) {
  const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
  const h = lines[0].split(',');
  const col = (name) => { const i = h.indexOf(name); if (i < 0) throw new Error(`${file}: no column '${name}'`); return i; };
  const [ip, iy, iF, ipath] = ['p_malignant', 'label', 'fold', 'path'].map(col);
  const rows = new Map();
  for (const l of lines.slice(1)) {
    const c = l.split(',');
    rows.set(c[ipath], { label: c[iy], fold: c[iF], z: logit(Number(c[ip])) });
  }
  return rows;
}

const sets = files.map(read);
let out = 'path,label,fold,p_malignant\n';
for (const [key, r] of sets[0]) {
  const all = sets.map((s) => s.get(key));
  const bad = all.findIndex((x) => !x || x.label !== r.label || x.fold !== r.fold);
  if (bad >= 0) { console.error(`${files[bad]}: frame ${key} is missing or has another label or fold`); process.exit(1); }
  out += `${key},${r.label},${r.fold},${sigmoid(all.reduce((s, x) => s + x.z, 0) / all.length).toFixed(6)}\n`;
}
if (sets.some((s) => s.size !== sets[0].size)) { console.error('the files hold different numbers of frames'); process.exit(1); }
process.stdout.write(out);
