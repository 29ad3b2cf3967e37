// Grad-CAM localisation on the cross-validated development set: every frame is explained by the
// fold model that never saw it (its CV test fold), against the radiologists' lesion masks, on the
// Grad-CAM map of each frame's true class (and, cam_pointing_malignant, malignant frames only).
//   node tools/experiments/cam-cv.mjs [RUNS_DIR] [METHOD] [DATA_DIR] [LAYER]   (defaults: runs gradual ../shared/data/busi, the layer
//   feeding the global pool)
// Needs RUNS_DIR/METHOD.csv (out-of-fold predictions: path,label,fold,p) and the fold models in
// RUNS_DIR/ckpt-METHOD/fold<k>.model.sialo (or fold<k>.sialo, the last checkpoint, if absent), as
// tools/experiments/train-busi.sh writes them, or tools/experiments/recipes-busi.sh's layout: RUNS_DIR/METHOD/oof.csv and
// RUNS_DIR/METHOD/ckpt/ (e.g. node tools/experiments/cam-cv.mjs runs/recipes gradual-224-s1). An ensemble of
// recipes on the same folds, METHOD = A+B (recipe layout): each fold's networks of A and B are put in
// one ensemble file (`sialoscan ensemble`), whose map is the mean of theirs.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';

const [runs = 'runs', method = 'gradual', data = '../shared/data/busi', layer] = process.argv.slice(2);
const bin = process.env.SIALOSCAN_CLI || (existsSync(join(runs, 'sialoscan')) ? join(runs, 'sialoscan') : 'build/sialoscan');
const members = method.split('+');
const recipeLayout = existsSync(join(runs, members[0], 'oof.csv'));
if (members.length > 1 && !recipeLayout) throw new Error(`an ensemble (${method}) needs the recipe layout: ${join(runs, members[0], 'oof.csv')}`);
const csvPath = recipeLayout ? join(runs, members[0], 'oof.csv') : join(runs, `${method}.csv`);
const ckptDirs = members.map((m) => (recipeLayout ? join(runs, m, 'ckpt') : join(runs, `ckpt-${m}`)));
const rows = readFileSync(csvPath, 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
const folds = [...new Set(rows.map((r) => Number(r[2])))].sort((a, b) => a - b);
let n = 0, hits = 0, energy = 0, nMal = 0, hitsMal = 0;
const perFold = [];
for (const k of folds) {
  const foldModel = (d) => (existsSync(join(d, `fold${k}.model.sialo`)) ? join(d, `fold${k}.model.sialo`) : join(d, `fold${k}.sialo`));
  let model = foldModel(ckptDirs[0]);
  const dir = mkdtempSync(join(tmpdir(), 'sialo-camcv-'));
  try {
    if (members.length > 1) {
      const ens = join(dir, `fold${k}.ensemble.sialo`);
      const e = spawnSync(bin, ['ensemble', ...ckptDirs.map(foldModel), '--out', ens], { encoding: 'utf8' });
      if (e.status !== 0) throw new Error(`ensemble failed on fold ${k}: ${e.stderr}`);
      model = ens;
    }
    for (const [path] of rows.filter((r) => Number(r[2]) === k)) {
      const cls = path.split('/')[0], stem = basename(path).replace(/\.[^.]+$/, '');
      mkdirSync(join(dir, cls), { recursive: true });
      mkdirSync(join(dir, 'masks', cls), { recursive: true });
      symlinkSync(resolve(data, path), join(dir, path));
      for (const f of readdirSync(join(data, 'masks', cls)).filter((f) => f.startsWith(`${stem}-mask`)))
        symlinkSync(resolve(data, 'masks', cls, f), join(dir, 'masks', cls, f));
    }
    const r = spawnSync(bin, ['eval', '--model', model, ...(layer ? ['--cam-layer', layer] : []), dir], { encoding: 'utf8', maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`eval failed on fold ${k}: ${r.stderr}`);
    const j = JSON.parse(r.stdout.trim().split('\n').pop());
    // eval scores each frame on its true class's map; cam_pointing_malignant: malignant frames only
    perFold.push({ fold: k, model: basename(model), cam_n: j.cam_n, cam_pointing: j.cam_pointing, cam_n_malignant: j.cam_n_malignant,
      cam_pointing_malignant: j.cam_pointing_malignant, cam_energy_in_mask: j.cam_energy_in_mask, auc: j.auc });
    n += j.cam_n; hits += (j.cam_pointing ?? 0) * j.cam_n; energy += (j.cam_energy_in_mask ?? 0) * j.cam_n;
    nMal += j.cam_n_malignant; hitsMal += (j.cam_pointing_malignant ?? 0) * j.cam_n_malignant;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
for (const f of perFold) console.log(JSON.stringify(f));
console.log(JSON.stringify({ method, layer: layer ?? 'default', map: 'true class', cam_n: n, cam_pointing: +(hits / n).toFixed(4),
  cam_n_malignant: nMal, cam_pointing_malignant: nMal ? +(hitsMal / nMal).toFixed(4) : null, cam_energy_in_mask: +(energy / n).toFixed(4) }));
