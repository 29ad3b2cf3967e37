// Lesion box (src/io/box.c): `sialoscan train --boxes / --boxes-from-masks` makes a box model (its file
// says so), `classify --box` equals cropping the frame first (the region computed here by hand) and
// classifying the crop (1e-5), the JS API's classify(bytes, { box }) equals the CLI (1e-4), its
// Grad-CAM covers the region; boxes outside the frame, empty, under 8 px or on a whole-frame model
// are refused with a sentence; `eval --boxes` scores box mode; `bundle` makes one file of a whole-frame
// model and a box model (each classifies its own mode, as its own file does), `ood-fit --boxes-from-masks`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makePng } from './lib/png.mjs';
import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { readModelFile } from './lib/model-file.mjs';

const CLI = 'build/sialoscan';
const run = (args) => spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
const W = 96, H = 80; // every region below is at least 32 px a side: the smallest image a file may hold
// frame i of class c: speckle with a dark blob (large for malignant); the blob's box is known
function pixelsOf(seed, c) {
  let s = (seed * 2654435761) >>> 0 || 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const cx = 30 + Math.floor(36 * rnd()), cy = 26 + Math.floor(28 * rnd()), r = c ? 20 : 14;
  const px = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
    const v = Math.max(0, Math.min(255, Math.round((Math.hypot(x - cx, y - cy) < r ? 40 : 150) + 60 * (rnd() - 0.5))));
    px.set([v, v, c ? 255 - v : v], (y * W + x) * 3);
  }
  return { px, box: [cx - r, cy - r, 2 * r, 2 * r] };
}
const png = (px, w, h) => makePng(w, h, (x, y) => [...px.subarray((y * w + x) * 3, (y * w + x) * 3 + 3)]);
function crop(px, w, [x0, y0, cw, ch]) {
  const out = new Uint8Array(cw * ch * 3);
  for (let y = 0; y < ch; y++) out.set(px.subarray(((y0 + y) * w + x0) * 3, ((y0 + y) * w + x0 + cw) * 3), y * cw * 3);
  return out;
}
// the region by hand: the box grown by ceil(margin x side) per side, clamped
function region([x, y, w, h], m) {
  const mx = Math.ceil(m * w - 1e-6), my = Math.ceil(m * h - 1e-6);
  const x0 = Math.max(0, x - mx), y0 = Math.max(0, y - my), x1 = Math.min(W, x + w + mx), y1 = Math.min(H, y + h + my);
  return [x0, y0, x1 - x0, y1 - y0];
}

const dir = mkdtempSync(join(tmpdir(), 'sialo-box-'));
const data = join(dir, 'data');
const frames = [];
const tsv = ['path\tx\ty\tw\th'];
for (const [c, cls] of [[0, 'benign'], [1, 'malignant']]) {
  mkdirSync(join(data, cls), { recursive: true });
  mkdirSync(join(data, 'masks', cls), { recursive: true });
  for (let i = 0; i < 6; i++) {
    const { px, box } = pixelsOf(100 * c + i + 1, c);
    const rel = `${cls}/${cls}-${i}.png`;
    writeFileSync(join(data, rel), png(px, W, H));
    const mask = new Uint8Array(W * H * 3);
    for (let y = box[1]; y < box[1] + box[3]; y++) for (let x = box[0]; x < box[0] + box[2]; x++) mask.fill(255, (y * W + x) * 3, (y * W + x) * 3 + 3);
    writeFileSync(join(data, 'masks', cls, `${cls}-${i}-mask.png`), png(mask, W, H));
    tsv.push(`${rel}\t${box.join('\t')}`);
    frames.push({ rel, px, box, c });
  }
}
writeFileSync(join(dir, 'boxes.tsv'), tsv.join('\n') + '\n');
writeFileSync(join(dir, 's.txt'), 'all all 1e-3 1 1\n');
const base = ['train', '--data', data, '--arch', 'smallcnn', '--input', '32', '--schedule', join(dir, 's.txt'), '--batch', '4'];
const model = join(dir, 'box.sialo'), whole = join(dir, 'whole.sialo');

test('train --boxes: a box model (input_modes box, its margin), --boxes-from-masks with --cv; refusals', () => {
  let r = run([...base, '--boxes', join(dir, 'boxes.tsv'), '--margin', '0.2', '--out', model]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /box mode: 12 frames as their lesion boxes, margin 0.2/);
  const info = JSON.parse(run(['info', model]).stdout);
  assert.equal(info.input_modes, 'box');
  assert.ok(Math.abs(info.box_margin - 0.2) < 1e-6);
  assert.equal(info.format_version, 4);
  const indep = readModelFile(readFileSync(model)); // the independent reader of the format
  assert.equal(indep.meta.inputModes.modes, 'box');
  assert.ok(Math.abs(indep.meta.inputModes.margin - 0.2) < 1e-6);
  r = run([...base, '--out', whole]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(run(['info', whole]).stdout).input_modes, 'whole');
  assert.equal(readModelFile(readFileSync(whole)).meta.inputModes.modes, 'whole');
  r = run([...base, '--boxes-from-masks', '--cv', '2', '--predictions', join(dir, 'oof.csv')]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readFileSync(join(dir, 'oof.csv'), 'utf8').trim().split('\n').length, 13);
  r = run([...base, '--boxes', join(dir, 'boxes.tsv'), '--boxes-from-masks', '--out', model + '.x']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /choose one/);
  writeFileSync(join(dir, 'bad.tsv'), 'benign/benign-0.png\t1\t2\tthree\t4\n');
  r = run([...base, '--boxes', join(dir, 'bad.tsv'), '--out', model + '.x']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /line 1: expected path<TAB>x<TAB>y<TAB>w<TAB>h/);
});

test('classify --box equals cropping first (1e-5); the JS API equals the CLI (1e-4); refusals', async () => {
  const s = await createSialoscan({ model: readFileSync(model), threads: 1 });
  try {
    for (const f of frames.slice(0, 4).concat(frames.slice(8))) {
      for (const [box, margin] of [[f.box, null], [f.box, 0.3], [[0, 0, 30, 28], 0.5], [[60, 50, 36, 30], 0.15]]) {
        const m = margin ?? 0.2;
        const reg = region(box, m);
        const args = ['classify', '--model', model, '--box', box.join(','), ...(margin == null ? [] : ['--margin', String(margin)]), join(data, f.rel)];
        const r = run(args);
        assert.equal(r.status, 0, r.stderr);
        const line = JSON.parse(r.stdout);
        assert.deepEqual(line.box, box);
        assert.deepEqual(line.region, reg, `${f.rel} ${box}`);
        writeFileSync(join(dir, 'crop.png'), png(crop(f.px, W, reg), reg[2], reg[3]));
        const ref = JSON.parse(run(['classify', '--model', model, join(dir, 'crop.png')]).stdout);
        assert.ok(Math.abs(line.p_malignant - ref.p_malignant) <= 1e-5, `${f.rel} box ${box}: ${line.p_malignant} vs cropped first ${ref.p_malignant}`);
        const bytes = readFileSync(join(data, f.rel));
        const js = await s.classify(bytes, { box: { x: box[0], y: box[1], w: box[2], h: box[3] }, ...(margin == null ? {} : { margin }) });
        assert.ok(Math.abs(js.pMalignant - line.p_malignant) <= 1e-4, `WASM ${js.pMalignant} vs CLI ${line.p_malignant}`);
        assert.deepEqual(js.region, { x: reg[0], y: reg[1], w: reg[2], h: reg[3] });
        const jc = await s.classify(bytes, { box, margin: m, cam: true });
        assert.ok(Math.abs(jc.pMalignant - line.p_malignant) <= 1e-4);
        assert.equal(jc.cam.width, reg[2]);
        assert.equal(jc.cam.height, reg[3]);
      }
    }
    const file = join(data, frames[0].rel), bytes = readFileSync(file);
    for (const [box, why] of [['80,70,20,20', /does not lie inside the 96 x 80 frame/], ['-2,0,20,20', /does not lie inside/],
      ['5,5,0,10', /positive width and height/], ['5,5,10,-3', /positive width and height/], ['5,5,7,20', /at least 8 pixels/]]) {
      const r = run(['classify', '--model', model, '--box', box, file]);
      assert.notEqual(r.status, 0, box);
      assert.match(r.stderr, why);
      const [x, y, w, h] = box.split(',').map(Number);
      await assert.rejects(s.classify(bytes, { box: { x, y, w, h } }), why);
    }
    let r = run(['classify', '--model', model, '--box', '1,2,3', file]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /--box needs X,Y,W,H/);
    r = run(['classify', '--model', whole, '--box', '5,5,20,20', file]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /trained on whole frames, not on lesion boxes/);
    const w = await createSialoscan({ model: readFileSync(whole), threads: 1 });
    await assert.rejects(w.classify(bytes, { box: [5, 5, 20, 20] }), /trained on whole frames/);
    assert.equal(w.info().input_modes, 'whole');
    w.dispose();
    await assert.rejects(s.classify(bytes, { box: [5, 5, 20.5, 20] }), TypeError);
  } finally {
    s.dispose();
  }
});

test('eval --boxes and --boxes-from-masks score box mode: the same p as classify --box', () => {
  const a = run(['eval', '--model', model, '--boxes', join(dir, 'boxes.tsv'), '--csv', join(dir, 'a.csv'), data]);
  assert.equal(a.status, 0, a.stderr);
  const ja = JSON.parse(a.stdout);
  assert.equal(ja.box_mode, true);
  assert.equal(ja.n, 12);
  const b = run(['eval', '--model', model, '--boxes-from-masks', data]);
  assert.equal(b.status, 0, b.stderr);
  assert.equal(JSON.parse(b.stdout).auc, ja.auc, 'the masks give the same boxes as the TSV');
  const csv = readFileSync(join(dir, 'a.csv'), 'utf8');
  const f = frames[3];
  const line = JSON.parse(run(['classify', '--model', model, '--box', f.box.join(','), join(data, f.rel)]).stdout);
  const row = csv.split('\n').find((l) => l.includes(f.rel));
  assert.ok(row && row.includes(line.p_malignant.toFixed(4).slice(0, 5)), `${row} vs ${line.p_malignant}`);
});

test('bundle: whole frames by the whole-frame model, boxes by the box model it carries; ood-fit --boxes-from-masks', async () => {
  const boxOod = join(dir, 'box-ood.sialo'), both = join(dir, 'both.sialo');
  let r = run(['ood-fit', '--model', model, '--data', data, '--boxes-from-masks', '--folds', '2', '--rank', '2', '--out', boxOod]);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(run(['info', boxOod]).stdout).ood.checked, true);
  r = run(['ood-fit', '--model', model, '--data', data, '--folds', '2', '--out', boxOod + '.x']);
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /classifies lesion boxes: give their boxes/);
  r = run(['bundle', whole, boxOod, '--out', both]);
  assert.equal(r.status, 0, r.stderr);
  const info = JSON.parse(run(['info', both]).stdout);
  assert.equal(info.input_modes, 'both');
  assert.ok(Math.abs(info.box_margin - 0.2) < 1e-6);
  assert.equal(info.box_model.members, 1);
  assert.equal(info.box_model.ood.checked, true);
  const indep = readModelFile(readFileSync(both)); // the independent reader: the box model nested, whole
  assert.equal(indep.meta.boxModel.meta.inputModes.modes, 'box');
  assert.equal(indep.meta.inputModes.modes, 'whole');
  const sec = indep.meta.sections.find((x) => x.tag === 'box-model');
  assert.deepEqual(readFileSync(both).subarray(sec.offset, sec.offset + sec.size), readFileSync(boxOod), 'the box model nested byte for byte');
  const s = await createSialoscan({ model: readFileSync(both), threads: 1 });
  try {
    assert.equal(s.info().input_modes, 'both');
    for (const f of [frames[0], frames[7]]) {
      const file = join(data, f.rel), bytes = readFileSync(file);
      const w = JSON.parse(run(['classify', '--model', both, file]).stdout), w0 = JSON.parse(run(['classify', '--model', whole, file]).stdout);
      assert.equal(w.p_malignant, w0.p_malignant, 'a whole frame: the whole-frame model');
      assert.equal(w.threshold, w0.threshold);
      const bx = JSON.parse(run(['classify', '--model', both, '--box', f.box.join(','), file]).stdout);
      const bx0 = JSON.parse(run(['classify', '--model', boxOod, '--box', f.box.join(','), file]).stdout);
      assert.equal(bx.p_malignant, bx0.p_malignant, 'a box: the box model');
      assert.equal(bx.threshold, bx0.threshold);
      assert.deepEqual(bx.ood, bx0.ood, 'a box: the box model\'s out-of-distribution check');
      const jw = await s.classify(bytes), jb = await s.classify(bytes, { box: f.box, cam: true });
      assert.ok(Math.abs(jw.pMalignant - w.p_malignant) <= 1e-4, `WASM whole ${jw.pMalignant} vs CLI ${w.p_malignant}`);
      assert.ok(Math.abs(jb.pMalignant - bx.p_malignant) <= 1e-4, `WASM box ${jb.pMalignant} vs CLI ${bx.p_malignant}`);
      assert.deepEqual(jb.region, { x: bx.region[0], y: bx.region[1], w: bx.region[2], h: bx.region[3] });
    }
  } finally {
    s.dispose();
  }
  for (const [args, why] of [[[boxOod, whole], /must be one of whole frames/], [[whole, whole], /must be trained for lesion boxes/],
    [[both, boxOod], /carries a box model already/]]) {
    r = run(['bundle', ...args, '--out', join(dir, 'x.sialo')]);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, why);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
