// calibration.test.mjs — calibration of p(malignant) (issue 10): `sialoscan calibrate` fits Platt /
// temperature scaling on out-of-fold predictions, stores (a, b) in the model file, and the engine
// reports p = sigmoid(a·logit(p_raw) + b) everywhere (CLI, WASM API); the threshold moves with it;
// eval reports brier and ece; train calibrates the final model and names its backbone and data by
// file name and CRC-32. Every number is checked against a computation in this file (a brute-force
// golden-section minimisation of the log loss, Brier / ECE from eval's own CSV), not against the C.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { CLI, ROOT, requireFile, tmpDir, cli, runCli } from './lib/harness.mjs';
import { testImage } from './lib/png.mjs';
import { crc32, readModelFile } from './lib/model-file.mjs';
import { createSialoscan } from '../../wasm/sialoscan.mjs';

const EPS = 1e-7; // the clamp of p before the logit (src/engine/calibration.h)
const clampP = (p) => Math.min(1 - EPS, Math.max(EPS, p));
const logit = (p) => { const q = clampP(p); return Math.log(q / (1 - q)); };
const sigmoid = (z) => 1 / (1 + Math.exp(-z));
const calib = (a, b, p) => (a === 1 && b === 0 ? p : sigmoid(a * logit(p) + b));

function logLoss(rows, a, b) {
  let s = 0;
  for (const { p, y } of rows) {
    const z = a * logit(p) + b;
    // log(1 + e^z) - y z, stable
    s += (z > 0 ? z + Math.log1p(Math.exp(-z)) : Math.log1p(Math.exp(z))) - (y ? z : 0);
  }
  return s / rows.length;
}

/** golden-section minimum of a convex f on [lo, hi] */
function golden(f, lo, hi, iters = 90) {
  const r = (Math.sqrt(5) - 1) / 2;
  let c = hi - r * (hi - lo), d = lo + r * (hi - lo), fc = f(c), fd = f(d);
  for (let i = 0; i < iters; i++) {
    if (fc < fd) { hi = d; d = c; fd = fc; c = hi - r * (hi - lo); fc = f(c); }
    else { lo = c; c = d; fc = fd; d = lo + r * (hi - lo); fd = f(d); }
  }
  return (lo + hi) / 2;
}

/** the independent maximum-likelihood fit: min over a of (min over b of the log loss) */
function fitPlatt(rows) {
  const bestB = (a) => golden((b) => logLoss(rows, a, b), -10, 10, 70);
  const a = golden((a) => logLoss(rows, a, bestB(a)), 0.01, 10, 70);
  return { a, b: bestB(a) };
}
const fitTemperature = (rows) => ({ a: golden((a) => logLoss(rows, a, 0), 0.01, 10, 90), b: 0 });

const brier = (rows) => rows.reduce((s, { p, y }) => s + (p - y) ** 2, 0) / rows.length;
function ece(rows) {
  const bins = Array.from({ length: 10 }, () => ({ n: 0, p: 0, y: 0 }));
  for (const { p, y } of rows) {
    const k = Math.min(9, Math.max(0, Math.floor(p * 10)));
    bins[k].n++; bins[k].p += p; bins[k].y += y;
  }
  return bins.reduce((s, b) => s + (b.n ? (b.n / rows.length) * Math.abs(b.y / b.n - b.p / b.n) : 0), 0);
}

/** seeded normal variates (mulberry32 + Box-Muller) */
function rng(seed) {
  let s = seed >>> 0;
  const u = () => { s = (s + 0x6d2b79f5) >>> 0; let t = s; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  return { u, normal: () => Math.sqrt(-2 * Math.log(u() + 1e-12)) * Math.cos(2 * Math.PI * u()) };
}

/** an overconfident, shifted OOF file as `train --predictions` writes it */
function writeOof(file, n, seed, { scale = 2.5, shift = 0.6 } = {}) {
  const r = rng(seed), rows = [];
  let text = 'path,label,fold,p_malignant\n';
  for (let i = 0; i < n; i++) {
    const y = r.u() < 0.4 ? 1 : 0;
    const z = (y ? 0.9 : -0.6) + 1.1 * r.normal();
    const p = Number(sigmoid(scale * z + shift).toFixed(6));
    rows.push({ p, y });
    text += `${y ? 'malignant' : 'benign'}/f${i}.png,${y},${(i % 5) + 1},${p.toFixed(6)}\n`;
  }
  fs.writeFileSync(file, text);
  return rows;
}

const lastJson = (stdout) => JSON.parse(stdout.trim().split('\n').pop());
const info = (model) => JSON.parse(cli(['info', model]).stdout);
const classify = (model, files) => cli(['classify', '--model', model, ...files]).stdout.trim().split('\n').map((l) => JSON.parse(l));

describe('calibration', () => {
  const st = {};
  before(() => {
    requireFile(CLI, 'build it with `make` before running the tests');
    st.dir = tmpDir('sialo-calibration-');
    st.model = path.join(st.dir, 'raw.sialo');
    cli(['init', '--arch', 'smallcnn', '--input', '32', '--seed', '4', st.model]);
    st.oof = path.join(st.dir, 'oof.csv');
    st.rows = writeOof(st.oof, 400, 7);
    st.data = path.join(st.dir, 'data');
    st.images = [];
    for (const [cls, base] of [['benign', 0], ['malignant', 500]]) {
      fs.mkdirSync(path.join(st.data, cls), { recursive: true });
      for (let i = 0; i < 12; i++) {
        const f = path.join(st.data, cls, `${cls}-${i}.png`);
        fs.writeFileSync(f, testImage(base + i * 7, 48, 40));
        st.images.push(f);
      }
    }
    st.platt = path.join(st.dir, 'platt.sialo');
    st.fitPlatt = lastJson(cli(['calibrate', '--model', st.model, '--predictions', st.oof, '--out', st.platt]).stdout);
    st.temp = path.join(st.dir, 'temperature.sialo');
    st.fitTemp = lastJson(cli(['calibrate', '--model', st.model, '--predictions', st.oof, '--out', st.temp, '--method', 'temperature']).stdout);
  });
  after(() => fs.rmSync(st.dir, { recursive: true, force: true }));

  it('(a) a, b are the maximum-likelihood fit (against a golden-section minimisation of the log loss)', () => {
    const ref = fitPlatt(st.rows);
    const j = st.fitPlatt;
    assert.equal(j.method, 'platt');
    assert.equal(j.n, 400);
    assert.ok(Math.abs(j.a - ref.a) < 2e-4 && Math.abs(j.b - ref.b) < 2e-4, `C a=${j.a} b=${j.b}, reference a=${ref.a} b=${ref.b}`);
    // the data were made overconfident (scale 2.5): the fit must shrink (a < 1) and not be the identity
    assert.ok(j.a < 0.8 && Math.abs(j.b) > 0.05, JSON.stringify(j));
    // no better point nearby: the reference's loss is not lower than the C fit's by more than rounding
    assert.ok(logLoss(st.rows, j.a, j.b) <= logLoss(st.rows, ref.a, ref.b) + 1e-9);
    const t = st.fitTemp, tref = fitTemperature(st.rows);
    assert.equal(t.method, 'temperature');
    assert.equal(t.b, 0);
    assert.ok(Math.abs(t.a - tref.a) < 2e-4, `C a=${t.a}, reference ${tref.a}`);
    // brier / ece before and after, on the same rows
    const after = st.rows.map(({ p, y }) => ({ p: calib(Math.fround(j.a), Math.fround(j.b), p), y }));
    for (const [k, v] of [['brier_before', brier(st.rows)], ['brier_after', brier(after)], ['ece_before', ece(st.rows)], ['ece_after', ece(after)]])
      assert.ok(Math.abs(j[k] - v) < 2e-6, `${k}: C ${j[k]}, JS ${v}`);
    assert.ok(j.ece_after < j.ece_before && j.brier_after < j.brier_before, JSON.stringify(j));
    // the file holds (a, b) where the format says (independent JS reader), as version 2
    const m = readModelFile(fs.readFileSync(st.platt));
    assert.equal(m.meta.version, 2);
    assert.equal(m.meta.calibration.a, Math.fround(j.a));
    assert.equal(m.meta.calibration.b, Math.fround(j.b));
    const inf = info(st.platt);
    assert.deepEqual(inf.calibration, { a: j.a, b: j.b, identity: false });
    assert.match(inf.provenance, /\| calibration: Platt scaling, .*maximum likelihood on 400 out-of-fold predictions \(oof\.csv\)/);
    assert.deepEqual(info(st.model).calibration, { a: 1, b: 0, identity: true });
  });

  it('(b) classify reports sigmoid(a·logit(p_raw) + b) of the uncalibrated model, natively and through the WASM API', async () => {
    const { a, b } = st.fitPlatt;
    const raw = classify(st.model, st.images), cal = classify(st.platt, st.images);
    const ps = raw.map((r) => r.p_malignant);
    assert.ok(Math.max(...ps) - Math.min(...ps) > 1e-3, `the test images should give different p: ${ps}`);
    for (let i = 0; i < raw.length; i++) {
      const want = calib(a, b, raw[i].p_malignant);
      assert.ok(Math.abs(cal[i].p_malignant - want) < 3e-6, `${st.images[i]}: ${cal[i].p_malignant} vs ${want} (raw ${raw[i].p_malignant})`);
      assert.ok(Math.abs(cal[i].p_malignant - raw[i].p_malignant) > 1e-3, 'the calibration changes p');
    }
    const s0 = await createSialoscan({ model: fs.readFileSync(st.model) });
    const s1 = await createSialoscan({ model: fs.readFileSync(st.platt) });
    try {
      assert.deepEqual(s1.info().calibration, { a, b, identity: false });
      assert.equal(s1.info().format_version, 2);
      assert.equal(s0.info().threshold, 0.5);
      for (let i = 0; i < st.images.length; i += 3) {
        const bytes = fs.readFileSync(st.images[i]);
        const r0 = await s0.classify(bytes), r1 = await s1.classify(bytes);
        const want = calib(Math.fround(a), Math.fround(b), r0.pMalignant);
        assert.ok(Math.abs(r1.pMalignant - want) < 1e-6, `WASM ${r1.pMalignant} vs ${want}`);
        assert.ok(Math.abs(r1.pMalignant - cal[i].p_malignant) < 1e-5, `WASM ${r1.pMalignant} vs CLI ${cal[i].p_malignant}`);
        assert.equal(r1.label, r0.label, 'the operating point is unchanged');
        assert.ok(Math.abs(r1.threshold - s1.info().threshold) < 1e-6); // info() prints 6 digits
      }
    } finally {
      s0.dispose();
      s1.dispose();
    }
  });

  it('(c) the threshold moves into the calibrated scale; the decisions stay', () => {
    const { a, b } = st.fitPlatt;
    const t = st.fitPlatt.threshold; // 9 digits (info() prints 6)
    assert.ok(Math.abs(t - calib(a, b, 0.5)) < 1e-7, `threshold ${t}, expected ${calib(a, b, 0.5)}`);
    assert.ok(Math.abs(info(st.platt).threshold - t) < 1e-6);
    assert.equal(st.fitPlatt.threshold_before, 0.5);
    const raw = classify(st.model, st.images), cal = classify(st.platt, st.images), tem = classify(st.temp, st.images);
    assert.deepEqual(cal.map((r) => r.label), raw.map((r) => r.label));
    assert.deepEqual(tem.map((r) => r.label), raw.map((r) => r.label));
    // re-fit from raw: calibrating a calibrated model first maps its threshold back to the raw scale
    const oof2 = path.join(st.dir, 'oof2.csv');
    const rows2 = writeOof(oof2, 300, 11, { scale: 0.6, shift: -0.4 });
    const out = path.join(st.dir, 'refit.sialo');
    const j = lastJson(cli(['calibrate', '--model', st.platt, '--predictions', oof2, '--out', out]).stdout);
    const ref = fitPlatt(rows2);
    assert.ok(Math.abs(j.a - ref.a) < 2e-4 && Math.abs(j.b - ref.b) < 2e-4, `refit a=${j.a} b=${j.b}, reference ${JSON.stringify(ref)}`);
    assert.ok(j.a > 1, 'underconfident data stretch p (a > 1)');
    assert.deepEqual(j.replaced, { a, b });
    const rawT = sigmoid((logit(t) - b) / a); // back to the raw scale through the old calibration
    assert.ok(Math.abs(rawT - 0.5) < 1e-6);
    assert.ok(Math.abs(j.threshold - calib(j.a, j.b, rawT)) < 1e-6, `threshold ${j.threshold} vs ${calib(j.a, j.b, rawT)}`);
    const inf = info(out);
    assert.equal((inf.provenance.match(/\| calibration:/g) || []).length, 1, 'one calibration sentence in the provenance');
    assert.deepEqual(classify(out, st.images).map((r) => r.label), raw.map((r) => r.label));
  });

  it('(d) eval: brier and ece of the reported p, against a computation from eval\'s own --csv', () => {
    for (const model of [st.model, st.platt]) {
      const csv = path.join(st.dir, 'eval.csv');
      const report = path.join(st.dir, 'eval.html');
      const j = lastJson(cli(['eval', '--model', model, '--csv', csv, '--report', report, st.data]).stdout);
      const rows = fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => {
        const f = l.split(',');
        return { p: Number(f[2]), y: f[1] === 'malignant' ? 1 : 0 };
      });
      assert.equal(rows.length, 24);
      assert.ok(Math.abs(j.brier - brier(rows)) < 2e-6, `brier ${j.brier} vs ${brier(rows)}`);
      assert.ok(Math.abs(j.ece - ece(rows)) < 2e-6, `ece ${j.ece} vs ${ece(rows)}`);
      const html = fs.readFileSync(report, 'utf8');
      assert.match(html, /<h2>Reliability diagram<\/h2><svg/);
      assert.match(html, new RegExp(`ECE \\(10 bins\\)</td><td>${j.ece.toFixed(4)}<`));
    }
  });

  it('(e) refusals, in sentences', () => {
    const bad = (name, text) => { const f = path.join(st.dir, name); fs.writeFileSync(f, text); return f; };
    const head = 'path,label,fold,p_malignant\n';
    const rows = (n, label = (i) => i % 2, p = () => '0.5') => Array.from({ length: n }, (_, i) => `x${i}.png,${label(i)},1,${p(i)}`).join('\n') + '\n';
    const cases = [
      [bad('nocol.csv', 'path,label,fold,p\n' + rows(30)), /has no column 'p_malignant' \(its header: path,label,fold,p\)/],
      [bad('nolabel.csv', 'path,fold,p_malignant\nx,1,0.5\n'), /has no column 'label'/],
      [bad('few.csv', head + rows(19, (i) => i % 2, (i) => String(0.1 + 0.04 * i))), /at least 20 predictions, there are 19/],
      [bad('oneclass.csv', head + rows(40, () => 1, (i) => String(0.01 * (i + 1)))), /needs both classes, but all 40 predictions are malignant/],
      [bad('high.csv', head + rows(30).replace('x3.png,1,1,0.5', 'x3.png,1,1,1.5')), /line 5: p_malignant = 1\.5 is outside \[0, 1\]/],
      [bad('neg.csv', head + rows(30).replace('x0.png,0,1,0.5', 'x0.png,0,1,-0.1')), /line 2: p_malignant = -0\.1 is outside \[0, 1\]/],
      [bad('nan.csv', head + rows(30).replace('x0.png,0,1,0.5', 'x0.png,0,1,abc')), /p_malignant 'abc' is not a number/],
      [bad('separable.csv', head + rows(40, (i) => i % 2, (i) => (i % 2 ? '0.9' : '0.1'))), /separate the classes perfectly \(every malignant p at or above every benign p\)/],
      [bad('inverted.csv', head + rows(40, (i) => i % 2, (i) => String(i % 2 ? 0.3 + 0.01 * (i % 7) : 0.36 + 0.01 * (i % 7)))), /slope a = .* is not positive|separate/],
    ];
    for (const [csv, re] of cases) {
      const out = path.join(st.dir, 'refused.sialo');
      const r = runCli(['calibrate', '--model', st.model, '--predictions', csv, '--out', out]);
      assert.equal(r.status, 1, `${csv}: ${r.stdout} ${r.stderr}`);
      assert.match(r.stderr, re, path.basename(csv));
      assert.equal(fs.existsSync(out), false, `${path.basename(csv)}: no model written`);
      assert.equal(r.stdout, '');
    }
    const m = runCli(['calibrate', '--model', st.model, '--predictions', st.oof, '--out', path.join(st.dir, 'x.sialo'), '--method', 'isotonic']);
    assert.equal(m.status, 1);
    assert.match(m.stderr, /unknown calibration method 'isotonic' \(platt, temperature\)/);
    const u = runCli(['calibrate', '--model', st.model, '--predictions', st.oof]);
    assert.equal(u.status, 2);
    assert.match(u.stderr, /usage: sialoscan calibrate/);
  });

  it('train --cv --out calibrates the final model on its out-of-fold predictions; provenance names files, not paths', () => {
    const backbone = path.join(st.dir, 'backbone.sialo');
    cli(['init', '--arch', 'smallcnn', '--input', '32', '--seed', '5', '--head', 'none', backbone]);
    const sched = path.join(st.dir, 's.txt');
    fs.writeFileSync(sched, 'all all 1e-3 2 2\n');
    const out = path.join(st.dir, 'trained.sialo'), oof = path.join(st.dir, 'train-oof.csv');
    const r = runCli(['train', '--data', st.data, '--backbone', backbone, '--schedule', sched, '--cv', '2', '--batch', '4',
      '--threads', '1', '--out', out, '--predictions', oof]);
    assert.equal(r.status, 0, r.stderr);
    const inf = info(out);
    const crc = crc32(fs.readFileSync(backbone)).toString(16).padStart(8, '0');
    assert.match(inf.provenance, new RegExp(`from backbone backbone\\.sialo \\(CRC-32 of the file ${crc}\\), data folder data \\(24 images`));
    assert.ok(!inf.provenance.includes(st.dir) && !inf.provenance.includes('/'), `a path in the provenance: ${inf.provenance}`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const cv = lines.find((l) => l.cv === 2);
    const cal = lines.find((l) => l.calibration);
    if (cal) {
      assert.equal(cal.calibration, 'platt');
      assert.deepEqual(inf.calibration, { a: cal.a, b: cal.b, identity: false });
      assert.ok(Math.abs(cal.threshold_raw - cv.youden_threshold) < 1e-4, 'the raw threshold is Youden\'s');
      assert.ok(Math.abs(inf.threshold - calib(cal.a, cal.b, cal.threshold_raw)) < 1e-6);
      // the same fit as calibrate on the written predictions (6 decimals there), and the independent one
      const rows = fs.readFileSync(oof, 'utf8').trim().split('\n').slice(1).map((l) => { const f = l.split(','); return { p: Number(f[3]), y: Number(f[1]) }; });
      const ref = fitPlatt(rows);
      assert.ok(Math.abs(cal.a - ref.a) < 1e-3 && Math.abs(cal.b - ref.b) < 1e-3, `train a=${cal.a} b=${cal.b}, reference ${JSON.stringify(ref)}`);
      assert.match(inf.provenance, /\| calibration: Platt scaling, .* on the 24 pooled out-of-fold predictions by sialoscan train/);
    } else {
      // a tiny random-weight run may separate its folds perfectly: then no calibration, and it says why
      assert.match(r.stderr, /warning: the final model is left uncalibrated: /);
      assert.deepEqual(inf.calibration, { a: 1, b: 0, identity: true });
    }
    const none = runCli(['train', '--data', st.data, '--arch', 'smallcnn', '--input', '32', '--cv', '2', '--calibration', 'sideways']);
    assert.equal(none.status, 1);
    assert.match(none.stderr, /unknown calibration 'sideways' \(platt, temperature, none\)/);
  });
});

describe('tools/operating-points.mjs', () => {
  it('Wilson intervals (published values), counts at a given threshold, calibration through --model', async () => {
    const { wilson } = await import('../../tools/operating-points.mjs');
    // Newcombe (1998), Stat Med 17:857, method 3: 81/263 -> 0.2553-0.3662; 0/10 -> 0-0.2775
    const [lo, hi] = wilson(81, 263);
    assert.ok(Math.abs(lo - 0.2553) < 5e-5 && Math.abs(hi - 0.3662) < 5e-5, `${lo} ${hi}`);
    assert.ok(Math.abs(wilson(0, 10)[1] - 0.2775) < 5e-5 && wilson(0, 10)[0] === 0);
    const dir = tmpDir('sialo-oppoints-');
    try {
      const csv = path.join(dir, 'p.csv');
      // 4 malignant (p .9 .8 .6 .3), 6 benign (p .7 .4 .3 .2 .1 .05): at 0.5, tp 3, fn 1, fp 1, tn 5
      const rows = [[1, 0.9], [1, 0.8], [1, 0.6], [1, 0.3], [0, 0.7], [0, 0.4], [0, 0.3], [0, 0.2], [0, 0.1], [0, 0.05]];
      fs.writeFileSync(csv, 'path,label,fold,p_malignant\n' + rows.map(([y, p], i) => `f${i}.png,${y},1,${p}`).join('\n') + '\n');
      const { spawnSync } = await import('node:child_process');
      const out = spawnSync(process.execPath, [path.join(ROOT, 'tools/operating-points.mjs'), csv, '--threshold', '0.5'], { encoding: 'utf8' });
      assert.equal(out.status, 0, out.stderr);
      const j = JSON.parse(out.stdout.trim().split('\n').pop());
      const pt = j.points[0];
      assert.deepEqual([pt.tp, pt.fn, pt.fp, pt.tn], [3, 1, 1, 5]);
      assert.deepEqual([pt.sensitivity.k, pt.sensitivity.n, pt.ppv.k, pt.ppv.n, pt.npv.k, pt.npv.n], [3, 4, 3, 4, 5, 6]);
      assert.match(out.stdout, /\| given \| 0\.5000 \| 75\.0% \(/);
      // defaults: Youden's J here is 0.6 (sens 3/4, spec 5/6 -> J 0.583; the best); spec >= 0.9 -> 0.8
      const d = JSON.parse(spawnSync(process.execPath, [path.join(ROOT, 'tools/operating-points.mjs'), csv], { encoding: 'utf8' }).stdout.trim().split('\n').pop());
      assert.deepEqual(d.points.map((p) => p.threshold), [0.6, 0.8]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
