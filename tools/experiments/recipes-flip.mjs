// recipes-flip.mjs — test-time flip for a cross-validated recipe: every frame is classified by the
// fold model that never saw it (runs/recipes/<name>/ckpt/fold<k>.model.sialo), as it is and
// mirrored left-right, with `sialoscan eval` (the engine's own decode and preprocessing). Writes
// runs/recipes/<name>/oof-eval.csv (the frames as they are) and oof-flip.csv (mirrored), same
// columns as oof.csv, and prints how far the engine's p are from the trainer's (its cache holds
// frames resized once and rounded to 8 bits, the engine resizes each file in float: p differ by
// ~0.002 typically). Score with `node tools/experiments/recipes-score.mjs <name>@eval <name>@flip`.
//   node tools/experiments/recipes-flip.mjs NAME [RUNS_DIR] [DATA_DIR]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const [name, runs = 'runs/recipes', data = '../shared/data/busi'] = process.argv.slice(2);
if (!name) { console.error('usage: node tools/experiments/recipes-flip.mjs NAME [RUNS_DIR] [DATA_DIR]'); process.exit(2); }
const rdir = path.join(runs, name);
const bin = fs.existsSync(path.join(runs, 'sialoscan')) ? path.join(runs, 'sialoscan') : 'build/sialoscan';
const lines = fs.readFileSync(path.join(rdir, 'oof.csv'), 'utf8').trim().split('\n');
const rows = lines.slice(1).map((l) => { const [p, y, f, pm] = l.split(','); return { path: p, y: +y, fold: +f, p: +pm }; });
const py = ['/usr/bin/python3', 'python3'].find((p) => spawnSync(p, ['-c', 'import PIL'], { stdio: 'ignore' }).status === 0);
if (!py) throw new Error('needs a python3 with PIL (python3-pil)');
const out = new Map(), plainP = new Map(), diffs = [];
for (const k of [...new Set(rows.map((r) => r.fold))].sort()) {
  const model = path.join(rdir, 'ckpt', `fold${k}.model.sialo`);
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-flip-'));
  try {
    const mine = rows.filter((r) => r.fold === k);
    for (const variant of ['plain', 'flip']) for (const c of ['benign', 'malignant']) fs.mkdirSync(path.join(tmp, variant, c), { recursive: true });
    const list = mine.map((r) => `${path.resolve(data, r.path)}\t${path.join(tmp, 'plain', r.path)}\t${path.join(tmp, 'flip', r.path)}`).join('\n');
    const r = spawnSync(py, ['-c', `
import sys, shutil
from PIL import Image, ImageOps
for line in sys.stdin.read().splitlines():
    src, plain, flip = line.split('\\t')
    shutil.copyfile(src, plain)
    im = Image.open(src)
    ImageOps.mirror(im).save(flip)
`], { input: list, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(r.stderr);
    for (const variant of ['plain', 'flip']) {
      const csv = path.join(tmp, `${variant}.csv`);
      const e = spawnSync(bin, ['eval', '--model', model, '--csv', csv, path.join(tmp, variant)], { encoding: 'utf8', maxBuffer: 1 << 26 });
      if (e.status !== 0) throw new Error(`eval fold ${k} ${variant}: ${e.stderr}`);
      for (const l of fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1)) {
        const m = /^"(.*)",(\w+),([\d.eE+-]+),/.exec(l);
        const rel = path.relative(path.join(tmp, variant), m[1]);
        const row = mine.find((q) => q.path === rel);
        if (!row) throw new Error(`unexpected file ${m[1]}`);
        if (variant === 'plain') { plainP.set(rel, +m[3]); diffs.push(Math.abs(+m[3] - row.p)); } else out.set(rel, +m[3]);
      }
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.stderr.write(`fold ${k}: ${out.size} frames\n`);
}
const write = (file, m) => fs.writeFileSync(path.join(rdir, file), 'path,label,fold,p_malignant\n' +
  rows.map((r) => `${r.path},${r.y},${r.fold},${m.get(r.path).toFixed(6)}`).join('\n') + '\n');
write('oof-eval.csv', plainP);
write('oof-flip.csv', out);
diffs.sort((a, b) => a - b);
console.log(JSON.stringify({ recipe: name, frames: out.size, engine_vs_trainer_abs_dp: { median: +diffs[diffs.length >> 1].toExponential(2), max: +diffs[diffs.length - 1].toExponential(2) } }));
