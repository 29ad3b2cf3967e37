// ensemble.test.mjs — ensembles (issue 10): `sialoscan ensemble` puts several networks in one model
// file (format version 3), and the engine — CLI and WASM API — averages their logits and their raw
// Grad-CAM maps. The reference is each network run ALONE, from its own file, by the same engine; the
// ensemble's numbers are then recomputed here by the formulas:
//   p = sigmoid(a · mean_k logit(p_k) + b)        (p_k raw; a, b: the ensemble's calibration)
//   raw Grad-CAM = mean_k raw_k                   (resampled here, bilinear, when the sizes differ)
// and the file is read by this test suite's own reader (lib/model-file.mjs, written from the spec).
// Also: calibrate on an ensemble, eval / bench / forward / info, refusals (networks of another input
// size, a file cut inside its second network, a network's input size altered), v2 files unchanged.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { CLI, ROOT, requireFile, tmpDir, cli, runCli, seededInput } from './lib/harness.mjs';
import { testImage } from './lib/png.mjs';
import { crc32, readModelFile } from './lib/model-file.mjs';
import { createSialoscan } from '../../wasm/sialoscan.mjs';

const logit = (p) => Math.log(p / (1 - p));
const sigmoid = (z) => 1 / (1 + Math.exp(-z));

/** bilinear, half-pixel centres, edges clamped (this file's own) */
function resample({ width: sw, height: sh, data }, dw, dh) {
  const out = new Float64Array(dw * dh);
  for (let y = 0; y < dh; y++) {
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(Math.max((x + 0.5) * sw / dw - 0.5, 0), sw - 1), fy = Math.min(Math.max((y + 0.5) * sh / dh - 0.5, 0), sh - 1);
      const x0 = Math.floor(fx), y0 = Math.floor(fy), x1 = Math.min(x0 + 1, sw - 1), y1 = Math.min(y0 + 1, sh - 1);
      const ax = fx - x0, ay = fy - y0;
      const top = data[y0 * sw + x0] * (1 - ax) + data[y0 * sw + x1] * ax, bot = data[y1 * sw + x0] * (1 - ax) + data[y1 * sw + x1] * ax;
      out[y * dw + x] = top * (1 - ay) + bot * ay;
    }
  }
  return out;
}

/** the header's payload size and CRC made to match the bytes (so the parser runs) */
function resign(b) {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  dv.setBigUint64(16, BigInt(b.length - 32), true);
  dv.setUint32(24, crc32(b.subarray(32)), true);
  return b;
}

describe('ensembles: format version 3, CLI and WASM API against the networks run alone', () => {
  let dir;
  const f = (name) => path.join(dir, name);
  const frames = [testImage(3, 120, 90), testImage(11, 80, 100), testImage(29, 64, 64)];
  before(() => {
    requireFile(CLI, 'run `make` first');
    dir = tmpDir('sialo-ensemble-');
    cli(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '1', f('a.sialo')]);
    cli(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '2', '--fp16', f('b.sialo')]);
    cli(['init', '--arch', 'mobilenetv2', '--input', '64', '--seed', '3', f('c.sialo')]);
    cli(['init', '--arch', 'smallcnn', '--input', '96', '--seed', '4', f('big.sialo')]);
    frames.forEach((png, i) => fs.writeFileSync(f(`frame${i}.png`), png));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('`sialoscan ensemble` writes version 3: each network bit for bit, one calibration; info reports the members', () => {
    const r = cli(['ensemble', f('a.sialo'), f('b.sialo'), '--out', f('ab.sialo')]);
    const line = JSON.parse(r.stdout);
    assert.equal(line.members, 2);
    assert.equal(line.arch, 'smallcnn');
    assert.equal(line.storage, 'fp32'); // b is fp16, a fp32: fp32 keeps both exactly
    const e = readModelFile(fs.readFileSync(f('ab.sialo')));
    assert.equal(e.meta.version, 3);
    assert.equal(e.members.length, 2);
    assert.deepEqual(e.meta.calibration, { a: 1, b: 0 });
    assert.equal(e.meta.threshold, 0.5);
    for (const [k, name] of [[0, 'a.sialo'], [1, 'b.sialo']]) {
      const one = readModelFile(fs.readFileSync(f(name)));
      assert.equal(one.meta.version, 2, `${name}: a single network stays version 2`);
      const m = e.members[k];
      assert.equal(m.meta.provenance, one.meta.provenance);
      assert.deepEqual([m.meta.inputH, m.meta.inputW], [64, 64]);
      assert.deepEqual(m.nodes, one.nodes);
      assert.equal(m.tensors.size, one.tensors.size);
      for (const [t, v] of one.tensors) assert.deepEqual(m.tensors.get(t).data, v.data, `${name}: tensor ${t}`);
    }
    const info = JSON.parse(cli(['info', f('ab.sialo')]).stdout);
    const ia = JSON.parse(cli(['info', f('a.sialo')]).stdout), ib = JSON.parse(cli(['info', f('b.sialo')]).stdout);
    assert.equal(info.members, 2);
    assert.equal(info.format_version, 3);
    assert.equal(info.parameters, ia.parameters + ib.parameters);
    assert.deepEqual(info.networks.map((n) => n.provenance), [ia.provenance, ib.provenance]);
    assert.match(info.provenance, /ensemble of 2 networks built by sialoscan ensemble.*a\.sialo.*b\.sialo/);
    assert.equal(ia.members, 1);
    assert.equal(ia.networks, undefined);
  });

  it('refuses networks of another input size, a single network, an ensemble as a network', () => {
    let r = runCli(['ensemble', f('a.sialo'), f('big.sialo'), '--out', f('x.sialo')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /network 2 takes 96x96 inputs but network 1 takes 64x64: the networks of an ensemble must take the same input size/);
    assert.ok(!fs.existsSync(f('x.sialo')));
    r = runCli(['ensemble', f('a.sialo'), '--out', f('x.sialo')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: sialoscan ensemble/);
    cli(['ensemble', f('a.sialo'), f('b.sialo'), '--out', f('ab2.sialo')]);
    r = runCli(['ensemble', f('ab2.sialo'), f('a.sialo'), '--out', f('x.sialo')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /ab2\.sialo: the model file is an ensemble of 2 networks, but a single network is needed here/);
  });

  it('CLI classify / forward / bench / eval: p = sigmoid(mean logit) of the networks run alone', () => {
    cli(['ensemble', f('a.sialo'), f('c.sialo'), '--out', f('ac.sialo'), '--threshold', '0.51']);
    const cls = (m) => cli(['classify', '--model', f(m), ...frames.map((_, i) => f(`frame${i}.png`))]).stdout.trim().split('\n').map(JSON.parse);
    const [pa, pc, pe] = [cls('a.sialo'), cls('c.sialo'), cls('ac.sialo')];
    for (let i = 0; i < frames.length; i++) {
      const want = sigmoid((logit(pa[i].p_malignant) + logit(pc[i].p_malignant)) / 2);
      assert.ok(Math.abs(pe[i].p_malignant - want) < 2e-5, `frame ${i}: ${pe[i].p_malignant} vs ${want}`); // CLI prints 6 decimals
      assert.equal(pe[i].threshold, 0.51);
      assert.equal(pe[i].label, pe[i].p_malignant >= 0.51 ? 'malignant' : 'benign');
    }
    // forward: the raw output, from the raw outputs of the networks
    const x = seededInput(64 * 64 * 3, 5);
    fs.writeFileSync(f('x.f32'), Buffer.from(x.buffer));
    const fw = (m) => JSON.parse(cli(['forward', '--model', f(m), '--input', f('x.f32')]).stdout)[0];
    const want = sigmoid((logit(fw('a.sialo')) + logit(fw('c.sialo'))) / 2);
    assert.ok(Math.abs(fw('ac.sialo') - want) < 1e-6, `forward ${fw('ac.sialo')} vs ${want}`);
    const b = JSON.parse(cli(['bench', '--model', f('ac.sialo'), '--runs', '2', '--cam']).stdout);
    assert.equal(b.members, 2);
    assert.equal(b.arch, 'smallcnn+mobilenetv2');
    assert.equal(b.cam_layer, 'block4_relu+out_relu');
    // eval (with Grad-CAM): the same p as classify
    for (const cls of ['benign', 'malignant']) fs.mkdirSync(f(`ev/${cls}`), { recursive: true });
    frames.forEach((png, i) => fs.writeFileSync(f(`ev/${i % 2 ? 'malignant' : 'benign'}/frame${i}.png`), png));
    const ev = JSON.parse(cli(['eval', '--model', f('ac.sialo'), '--cam', '--csv', f('ev.csv'), f('ev')]).stdout.trim().split('\n').pop());
    assert.equal(ev.n, 3);
    assert.equal(ev.cam_layer, 'block4_relu+out_relu');
    const rows = fs.readFileSync(f('ev.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    for (const row of rows) {
      const i = Number(row[0].match(/frame(\d)/)[1]);
      assert.equal(Number(row[2]), pe[i].p_malignant, `eval p of frame ${i}`);
    }
  });

  it('calibrate works on an ensemble: the file stays an ensemble, p = sigmoid(a·mean logit + b)', async () => {
    cli(['ensemble', f('a.sialo'), f('b.sialo'), '--out', f('ab.sialo')]);
    let text = 'path,label,fold,p_malignant\n';
    for (let i = 0; i < 60; i++) {
      const y = i % 3 === 0 ? 1 : 0, p = sigmoid((y ? 0.6 : -0.4) + Math.sin(i * 2.3) * 2.5 + 0.4);
      text += `f${i}.png,${y},${(i % 5) + 1},${p.toFixed(6)}\n`;
    }
    fs.writeFileSync(f('oof.csv'), text);
    const cal = JSON.parse(cli(['calibrate', '--model', f('ab.sialo'), '--predictions', f('oof.csv'), '--out', f('abc.sialo')]).stdout);
    const info = JSON.parse(cli(['info', f('abc.sialo')]).stdout);
    assert.equal(info.format_version, 3);
    assert.equal(info.members, 2);
    assert.equal(info.calibration.identity, false);
    assert.equal(info.calibration.a, cal.a);
    assert.match(info.provenance, /\| calibration: Platt scaling/);
    const e = readModelFile(fs.readFileSync(f('abc.sialo'))), e0 = readModelFile(fs.readFileSync(f('ab.sialo')));
    for (let k = 0; k < 2; k++) assert.deepEqual([...e.members[k].tensors.keys()], [...e0.members[k].tensors.keys()]);
    // the WASM API on the calibrated ensemble, against the networks run alone in WASM
    const load = (m) => createSialoscan({ model: new Uint8Array(fs.readFileSync(f(m))) });
    const [sa, sb, se] = await Promise.all([load('a.sialo'), load('b.sialo'), load('abc.sialo')]);
    try {
      const { a, b } = se.info().calibration;
      for (const png of frames) {
        const [ra, rb, re] = [await sa.classify(png), await sb.classify(png), await se.classify(png)];
        const want = sigmoid(a * (logit(ra.pMalignant) + logit(rb.pMalignant)) / 2 + b);
        assert.ok(Math.abs(re.pMalignant - want) < 2e-6, `${re.pMalignant} vs ${want}`);
        assert.ok(Math.abs(re.threshold - se.info().threshold) < 1e-6);
        assert.equal(re.label, re.pMalignant >= re.threshold ? "malignant" : "benign");
      }
    } finally { sa.dispose(); sb.dispose(); se.dispose(); }
  });

  it('WASM API: info() shows the members; classify + Grad-CAM = the mean of the networks\' raw maps (sizes 4x4 and 2x2)', async () => {
    cli(['ensemble', f('a.sialo'), f('c.sialo'), '--out', f('ac.sialo')]);
    const load = (m, o = {}) => createSialoscan({ model: new Uint8Array(fs.readFileSync(f(m))), ...o });
    const [sa, sc, se, se2] = await Promise.all([load('a.sialo'), load('c.sialo'), load('ac.sialo'), load('ac.sialo', { threads: 2 })]);
    try {
      const info = se.info();
      assert.equal(info.members, 2);
      assert.deepEqual(info.networks.map((n) => n.arch), ['smallcnn', 'mobilenetv2']);
      assert.equal(sa.info().members, 1);
      for (const png of frames) {
        const [ra, rc, re, re2] = [await sa.classify(png, { cam: true }), await sc.classify(png, { cam: true }),
          await se.classify(png, { cam: true }), await se2.classify(png, { cam: true })];
        const want = sigmoid((logit(ra.pMalignant) + logit(rc.pMalignant)) / 2);
        assert.ok(Math.abs(re.pMalignant - want) < 2e-6, `p ${re.pMalignant} vs ${want}`);
        assert.equal(re2.pMalignant, re.pMalignant, 'the pthreads build gives the same p');
        assert.deepEqual(re2.cam.map, re.cam.map, 'the pthreads build gives the same map');
        const W = Math.max(ra.cam.raw.width, rc.cam.raw.width), H = Math.max(ra.cam.raw.height, rc.cam.raw.height);
        assert.notEqual(ra.cam.raw.width, rc.cam.raw.width, 'the networks\' maps differ in size');
        assert.deepEqual([re.cam.raw.width, re.cam.raw.height], [W, H]);
        const r1 = resample(ra.cam.raw, W, H), r2 = resample(rc.cam.raw, W, H);
        let worst = 0, mx = 0;
        for (let p = 0; p < W * H; p++) {
          const m = (r1[p] + r2[p]) / 2;
          mx = Math.max(mx, m);
          worst = Math.max(worst, Math.abs(re.cam.raw.data[p] - m));
        }
        assert.ok(worst <= 1e-5 * Math.max(1, mx), `raw map off the mean by ${worst} (max ${mx})`);
        assert.equal(re.cam.layer, 'block4_relu+out_relu');
        assert.deepEqual([re.cam.width, re.cam.height], [ra.cam.width, ra.cam.height]);
        assert.equal(Math.max(...re.cam.map), mx > 0 ? 1 : 0);
      }
      assert.throws(() => se.activation('input'), /ensemble of 2 networks/);
    } finally { sa.dispose(); sc.dispose(); se.dispose(); se2.dispose(); }
  });

  it('refuses a damaged ensemble with a sentence (CLI and WASM): cut inside network 2, network 2 of another input size', async () => {
    cli(['ensemble', f('a.sialo'), f('b.sialo'), '--out', f('ab.sialo')]);
    const good = new Uint8Array(fs.readFileSync(f('ab.sialo')));
    const e = readModelFile(good);
    const cut = resign(good.slice(0, e.members[1].bodyOffset + 1000));
    const wide = resign(good.slice());
    // network 2's input_h: after its arch and provenance strings
    const dv = new DataView(wide.buffer);
    let p = e.members[1].recordOffset;
    p += 4 + dv.getUint32(p, true);
    p += 4 + dv.getUint32(p, true);
    dv.setUint32(p, 80, true);
    resign(wide);
    const cases = [
      [cut, /model file is truncated: network 2 of the ensemble announces \d+ bytes but only \d+ remain/],
      [wide, /network 2 of the ensemble takes 80x64x3 inputs but the ensemble 64x64x3 \(every network of an ensemble must take the same input size\)/],
    ];
    for (const [bytes, why] of cases) {
      fs.writeFileSync(f('bad.sialo'), bytes);
      const r = runCli(['info', f('bad.sialo')]);
      assert.equal(r.status, 1);
      assert.match(r.stderr, why);
      await assert.rejects(createSialoscan({ model: bytes }), why);
    }
  });

  it('the shipped model is a calibrated ensemble of two networks (version 4: with its out-of-distribution statistics)', () => {
    const shipped = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
    if (!fs.existsSync(shipped)) return;
    const info = JSON.parse(cli(['info', shipped]).stdout);
    assert.equal(info.format_version, 4);
    // the independent reader finds one "ood" section per network and the model's threshold
    const file = readModelFile(fs.readFileSync(shipped));
    assert.equal(file.members.length, 2);
    assert.deepEqual(file.meta.sections.map((x) => `${x.tag}@${x.network}`).sort(), ['box-model@-1', 'ood-threshold@-1', 'ood@0', 'ood@1']);
    assert.equal(info.members, 2);
    assert.equal(info.networks.length, 2);
    assert.equal(info.input_modes, 'both'); // since 2026-12-08: it carries the box ensemble
    assert.equal(file.meta.boxModel.members.length, 2);
    assert.equal(info.box_model.members, 2);
    assert.equal(info.calibration.identity, false);
    for (const n of info.networks) assert.match(n.provenance, /guided attention on lesion masks/);
  });
});
