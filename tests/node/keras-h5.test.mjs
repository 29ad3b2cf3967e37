// keras-h5.test.mjs — Keras HDF5 weights import (src/import/keras.c through `sialoscan convert`).
//
// tests/tools/make_keras_h5.py writes a ResNet50V2 (no top) weights file in the layout of
// keras.applications' resnet50v2_weights_tf_dim_ordering_tf_kernels_notop.h5 with seeded random
// weights, from its own layer list, plus the same weights as a JSON manifest + .bin. The
// converted model must hold exactly those weights and compute the same post_relu feature map as
// the Keras architecture rebuilt in TensorFlow.js. Malformed files must be refused with a
// readable message and a non-zero exit (never a crash).
//
// Needs python3 with h5py and numpy (Debian: python3-h5py); skipped with a message otherwise.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';

import { readModelFile } from './lib/model-file.mjs';
import { loadTf, buildKerasModel, setKerasWeights, predictWithActivations } from './lib/keras-archs.mjs';
import {
  ROOT, CLI, requireFile, tmpDir, cli, runCli, readF32, writeF32, makeInput, diffStats, fmtStats,
} from './lib/harness.mjs';
import { pythonWithH5py } from './lib/harness.mjs';

const SCRIPT = path.join(ROOT, 'tests', 'tools', 'make_keras_h5.py');
const SIZE = 128;     // input size of the converted model (the tfjs CPU backend is the slow part)
const SEED = 5;
const FEAT_TOL = 1e-3;
const VICTIM = 'conv3_block2_2_conv'; // the layer make_keras_h5.py --break damages

const PY = pythonWithH5py();
const SKIP = PY ? false : 'python3 with h5py and numpy is not available (Debian: apt-get install python3-h5py) — Keras HDF5 import not tested';
if (!PY) console.log(`# SKIP keras-h5: ${SKIP}`);

function makeH5(dir, extra = []) {
  const out = execFileSync(PY, [SCRIPT, dir, '--seed', String(SEED), ...extra], { encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').pop()).h5;
}

function convert(h5, out, extra = []) {
  return runCli(['convert', '--from', 'keras-h5', h5, out, '--arch', 'resnet50v2', '--input', String(SIZE), ...extra]);
}

/** Assert the CLI refused a file cleanly: non-zero exit (not a signal), a readable one-line-ish
 * reason matching `re`, no HDF5 diagnostics dump, and no output file. */
function assertRefused(r, out, re, what) {
  assert.equal(r.signal, null, `${what}: the CLI was killed by ${r.signal} (crash)\n${r.stderr}`);
  assert.notEqual(r.status, 0, `${what}: the CLI accepted a malformed file`);
  assert.ok(r.status > 0 && r.status < 128, `${what}: exit status ${r.status} looks like a crash`);
  const msg = r.stderr.trim();
  assert.ok(msg.length > 0 && msg.length < 2000, `${what}: no readable message (stderr: ${JSON.stringify(msg.slice(0, 300))})`);
  assert.doesNotMatch(msg, /HDF5-DIAG|#\d{3}:/, `${what}: HDF5's error stack leaked to stderr:\n${msg.slice(0, 500)}`);
  assert.match(msg, re, `${what}: message does not say what is wrong: ${msg}`);
  assert.ok(!fs.existsSync(out), `${what}: an output file was written`);
}

describe('Keras HDF5 import: ResNet50V2 notop', { skip: SKIP }, () => {
  const st = {};
  const timings = {};

  before(() => {
    requireFile(CLI, 'build it with `make` before running the tests');
    st.dir = tmpDir('sialo-kerash5-');
    let t0 = performance.now();
    st.h5 = makeH5(path.join(st.dir, 'good'));
    timings.python = performance.now() - t0;
    st.manifest = JSON.parse(fs.readFileSync(path.join(st.dir, 'good', 'weights.json'), 'utf8'));
    const bin = fs.readFileSync(path.join(st.dir, 'good', 'weights.bin'));
    const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
    st.weights = new Map(st.manifest.weights.map((w) => [w.name, all.subarray(w.offset / 4, w.offset / 4 + w.count)]));
  });

  after(() => {
    if (st.dir) fs.rmSync(st.dir, { recursive: true, force: true });
    console.log(`# keras-h5 timings (ms) ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
  });

  it('converts to a model holding exactly the HDF5 weights', () => {
    st.model = path.join(st.dir, 'resnet50v2.sialo');
    const r = convert(st.h5, st.model);
    timings.convert = r.ms;
    assert.equal(r.status, 0, `convert failed: ${r.stderr}`);
    const m = readModelFile(fs.readFileSync(st.model));
    st.file = m;
    assert.equal(m.meta.arch, 'resnet50v2');
    assert.equal(m.meta.inputH, SIZE);
    assert.equal(m.tensors.size, st.manifest.weights.length, 'tensor count');
    for (const w of st.manifest.weights) {
      const t = m.tensors.get(w.name);
      assert.ok(t, `tensor ${w.name} missing from the converted model`);
      assert.deepEqual(t.dims, w.shape, `shape of ${w.name}`);
      const ref = st.weights.get(w.name);
      for (let i = 0; i < ref.length; i++)
        if (t.data[i] !== ref[i]) assert.fail(`${w.name}[${i}] = ${t.data[i]}, the HDF5 file has ${ref[i]}`);
    }
    assert.equal(m.nodes[m.nodes.length - 1].name, 'post_relu', 'the backbone ends at post_relu');
  });

  it('post_relu of the converted model matches tfjs with the same weights', async () => {
    assert.ok(st.model && fs.existsSync(st.model), 'conversion did not succeed');
    const input = makeInput(SIZE, SIZE, SEED);
    const inPath = path.join(st.dir, 'input.f32');
    writeF32(inPath, input);
    const layers = ['conv1_conv', 'conv2_block3_out', 'conv3_block4_out', 'conv4_block6_out', 'post_relu'];
    const dumpDir = path.join(st.dir, 'dump');
    fs.mkdirSync(dumpDir);
    const r = cli(['forward', '--model', st.model, '--input', inPath, '--dump', layers.join(','), '--dump-dir', dumpDir]);
    timings.forward = r.ms;

    let t0 = performance.now();
    const tf = await loadTf();
    const km = buildKerasModel(tf, 'resnet50v2', { inputSize: SIZE, head: 'none' });
    const unused = setKerasWeights(tf, km, st.weights);
    assert.deepEqual(unused, [], 'manifest weights the tfjs model does not use');
    const ref = predictWithActivations(tf, km, input, layers);
    km.dispose();
    timings.tfjs = performance.now() - t0;

    const lines = [];
    let firstBad = null;
    for (const name of layers) {
      const got = readF32(path.join(dumpDir, `${name}.f32`));
      const s = diffStats(got, ref.acts.get(name).data);
      lines.push(`${name}: ${fmtStats(s)}`);
      if (!(s.rel <= FEAT_TOL) && !firstBad) firstBad = name;
    }
    console.log(`# keras-h5 native vs tfjs:\n#   ${lines.join('\n#   ')}`);
    assert.equal(firstBad, null, `converted model departs from tfjs first at ${firstBad}:\n${lines.join('\n')}`);
  });

  it('refuses a truncated file', () => {
    const bytes = fs.readFileSync(st.h5);
    for (const keep of [Math.floor(bytes.length / 2), 4096, 100]) {
      const p = path.join(st.dir, `trunc${keep}.h5`);
      fs.writeFileSync(p, bytes.subarray(0, keep));
      const out = path.join(st.dir, `trunc${keep}.sialo`);
      assertRefused(convert(p, out), out, /truncat|corrupt/i, `truncated to ${keep} bytes`);
      fs.rmSync(p);
    }
  });

  it('refuses a file that is not HDF5, an empty file and a missing file', () => {
    const out = path.join(st.dir, 'x.sialo');
    const js = path.join(st.dir, 'good', 'weights.json');
    assertRefused(convert(js, out), out, /not an HDF5 file/i, 'JSON file');
    const empty = path.join(st.dir, 'empty.h5');
    fs.writeFileSync(empty, '');
    assertRefused(convert(empty, out), out, /empty/i, 'empty file');
    assertRefused(convert(path.join(st.dir, 'nope.h5'), out), out, /cannot open|no such/i, 'missing file');
  });

  const BROKEN = [
    ['missing_dataset', /missing|not a dataset/i],
    ['wrong_shape', /shape \[3,3,128,127\].*\[3,3,128,128\]/],
    ['wrong_dtype', /integer|type/i],
    ['missing_layer', /missing/i],
    ['absurd_dims', /shape \[2147483648\]/],
    ['string_dataset', /string|type/i],
  ];
  for (const [kind, re] of BROKEN) {
    it(`refuses a file with ${kind.replace('_', ' ')} (layer ${VICTIM})`, () => {
      const d = path.join(st.dir, kind);
      const h5 = makeH5(d, ['--break', kind, '--no-manifest']);
      const out = path.join(d, 'out.sialo');
      const r = convert(h5, out);
      assertRefused(r, out, re, kind);
      assert.match(r.stderr, new RegExp(VICTIM), `${kind}: the message should name the layer`);
      fs.rmSync(d, { recursive: true, force: true });
    });
  }

  it('refuses an unknown architecture', () => {
    const out = path.join(st.dir, 'y.sialo');
    const r = runCli(['convert', '--from', 'keras-h5', st.h5, out, '--arch', 'vgg99', '--input', String(SIZE)]);
    assertRefused(r, out, /vgg99|architecture/i, 'unknown arch');
  });
});
