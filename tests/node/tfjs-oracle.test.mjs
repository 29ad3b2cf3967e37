// tfjs-oracle.test.mjs — the sialoscan engine (native CLI with every backend, and the WASM
// module) against an independent oracle: the same Keras architecture rebuilt with TensorFlow.js
// layers (tests/node/lib/keras-archs.mjs), loaded with the weights of a model file made by
// `sialoscan init` and read by an independent JS reader (tests/node/lib/model-file.mjs).
//
// Checked per architecture: the model file's structure (every weight used, parameter count),
// the final probability (|diff| <= 1e-4, and not saturated), intermediate feature maps
// (max|diff| / max|ref| <= 1e-3) through WASM and through `forward --dump`, and agreement of the
// native own / xnnpack / ref backends and WASM (<= 1e-4).
// On a mismatch the message names the first layer (in network order) where the engine departs
// from tfjs. SIALO_ORACLE_VERBOSE=1 prints every measured difference.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { readModelFile, paramCount } from './lib/model-file.mjs';
import { loadTf, buildKerasModel, setKerasWeights, predictWithActivations } from './lib/keras-archs.mjs';
import {
  CLI, requireFile, tmpDir, cli, parseForwardOutput, readF32, writeF32, makeInput, diffStats, fmtStats,
  loadWasmFactory,
} from './lib/harness.mjs';

const P_TOL = 1e-4;      // final probability, absolute
const FEAT_TOL = 1e-3;   // feature maps, max|diff| / max|ref|
const AGREE_TOL = 1e-4;  // backends among themselves (probability)
const VERBOSE = !!process.env.SIALO_ORACLE_VERBOSE;
const log = (...a) => { if (VERBOSE) console.log(...a); };

// Input sizes keep the tfjs CPU backend quick (ResNet50V2 at 128 ~2 s per forward on 2 cores).
// The odd sizes exercise Keras' asymmetric 'same' / correct_pad padding on odd maps; the fp16 case
// the half-precision storage path of both model-file readers.
const MNV2_LAYERS = ['Conv1_relu', 'expanded_conv_project_BN', 'block_2_add', 'block_5_add', 'block_13_expand_relu',
  'block_16_project_BN', 'out_relu', 'avg_pool', 'predictions'];
const RESNET_LAYERS = ['conv1_conv', 'pool1_pool', 'conv2_block1_out', 'conv2_block3_out', 'conv3_block4_out',
  'conv4_block6_out', 'conv5_block3_out', 'post_relu', 'avg_pool', 'predictions'];
const CASES = [
  { arch: 'mobilenetv2', size: 224, seed: 7, layers: MNV2_LAYERS },
  { arch: 'resnet50v2', size: 128, seed: 11, layers: RESNET_LAYERS },
  { arch: 'mobilenetv2', size: 97, seed: 3, layers: MNV2_LAYERS },
  { arch: 'resnet50v2', size: 97, seed: 4, layers: RESNET_LAYERS },
  { arch: 'mobilenetv2', size: 96, seed: 5, layers: MNV2_LAYERS, fp16: true },
];
function once(fn) {
  let p = null;
  return () => (p ??= fn());
}

for (const C of CASES) {
  describe(`${C.arch} ${C.size}x${C.size} (seed ${C.seed}${C.fp16 ? ', fp16 storage' : ''}) vs tfjs`, () => {
    const st = {};
    const timings = {};

    before(async () => {
      requireFile(CLI, 'build it with `make` before running the tests');
      st.dir = tmpDir(`sialo-oracle-${C.arch}-`);
      st.modelPath = path.join(st.dir, `${C.arch}.sialo`);
      let t0 = performance.now();
      const initArgs = ['init', '--arch', C.arch, '--seed', String(C.seed), '--input', String(C.size), '--head', 'binary'];
      cli([...initArgs, ...(C.fp16 ? ['--fp16'] : []), st.modelPath]);
      timings.init = performance.now() - t0;
      st.bytes = new Uint8Array(fs.readFileSync(st.modelPath));
      st.file = readModelFile(st.bytes);
      if (C.fp16) {
        const p32 = path.join(st.dir, 'fp32.sialo');
        cli([...initArgs, p32]);
        st.file32 = readModelFile(fs.readFileSync(p32));
      }
      st.input = makeInput(C.size, C.size, C.seed);
      st.inputPath = path.join(st.dir, 'input.f32');
      writeF32(st.inputPath, st.input);

      t0 = performance.now();
      const tf = await loadTf();
      st.tf = tf;
      st.km = buildKerasModel(tf, C.arch, { inputSize: C.size, head: 'binary' });
      st.unused = setKerasWeights(tf, st.km, st.file.tensors);
      timings.tfjsBuild = performance.now() - t0;
      t0 = performance.now();
      st.ref = predictWithActivations(tf, st.km, st.input, C.layers);
      timings.tfjsForward = performance.now() - t0;
    });

    after(() => {
      if (st.km) st.km.dispose();
      if (st.dir) fs.rmSync(st.dir, { recursive: true, force: true });
      console.log(`# ${C.arch}: timings (ms) ${JSON.stringify(Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v)])))}`);
    });

    // ---- engine runs, computed on first use
    const wasmRun = once(async () => {
      const create = await loadWasmFactory();
      const t0 = performance.now();
      const s = await create({ model: st.bytes, keepActivations: true });
      st.wasmSession = s; // disposed in after()
      const out = Float32Array.from(s.forward(st.input));
      timings.wasmForward = performance.now() - t0;
      const acts = new Map();
      for (const name of C.layers) {
        const a = s.activation(name);
        acts.set(name, { shape: a.shape, data: Float32Array.from(a.data) });
      }
      return { out, acts };
    });
    const nativeRun = (backend, dump) => {
      const args = ['forward', '--model', st.modelPath, '--input', st.inputPath, '--backend', backend];
      let dumpDir = null;
      if (dump) {
        dumpDir = path.join(st.dir, `dump-${backend}`);
        fs.mkdirSync(dumpDir, { recursive: true });
        args.push('--dump', C.layers.join(','), '--dump-dir', dumpDir);
      }
      const r = cli(args);
      timings[`native_${backend}`] = r.ms;
      const out = parseForwardOutput(r.stdout);
      const acts = new Map();
      if (dump) for (const name of C.layers) acts.set(name, { data: readF32(path.join(dumpDir, `${name}.f32`)) });
      return { out, acts };
    };
    const nativeOwn = once(async () => nativeRun('own', true));
    const nativeRef = once(async () => nativeRun('ref', true));
    const nativeXnn = once(async () => nativeRun('xnnpack', true));

    // compare one engine's feature maps with tfjs; returns report lines, throws listing the first bad layer
    function compareFeatures(label, acts) {
      const lines = [];
      let firstBad = null;
      for (const name of C.layers) {
        const ref = st.ref.acts.get(name);
        const got = acts.get(name);
        assert.ok(got, `${label}: no output for layer ${name}`);
        // NHWC [1,H,W,C]; tfjs drops the spatial dims after global pooling / dense ([1,C])
        const squeeze = (sh) => sh.filter((d) => d !== 1);
        if (got.shape) assert.deepEqual(squeeze(got.shape), squeeze(ref.shape), `${label}: shape of ${name} (tfjs [${ref.shape}])`);
        assert.equal(got.data.length, ref.data.length, `${label}: ${name} has ${got.data.length} values, tfjs ${ref.data.length} (shape ${ref.shape})`);
        const s = diffStats(got.data, ref.data);
        lines.push(`${name}: ${fmtStats(s)}`);
        if (!(s.rel <= FEAT_TOL) && !firstBad) firstBad = name;
      }
      log(`# ${C.arch} ${label} vs tfjs:\n#   ${lines.join('\n#   ')}`);
      if (firstBad)
        assert.fail(`${label} departs from tfjs first at layer '${firstBad}' (tolerance rel ${FEAT_TOL}):\n  ${lines.join('\n  ')}`);
      return lines;
    }

    it('model file matches the Keras architecture (names, shapes, parameter count)', () => {
      const m = st.file.meta;
      assert.equal(m.arch, C.arch);
      assert.equal(m.inputH, C.size);
      assert.equal(m.inputW, C.size);
      assert.equal(m.inputC, 3);
      assert.equal(m.nClasses, 1);
      assert.deepEqual(m.classNames.length, 2);
      for (let c = 0; c < 3; c++) {
        assert.ok(Math.abs(m.normScale[c] - 1 / 127.5) < 1e-7, 'norm scale 1/127.5');
        assert.ok(Math.abs(m.normBias[c] + 1) < 1e-7, 'norm bias -1');
      }
      assert.deepEqual(st.unused, [], 'tensors in the file that the Keras model has no weight for');
      assert.equal(paramCount(st.file), st.km.countParams(), 'parameter count: file vs Keras');
      // every Keras layer with weights is a node of the same name
      const nodeNames = new Set(st.file.nodes.map((n) => n.name));
      for (const l of st.km.layers) if (l.weights.length) assert.ok(nodeNames.has(l.name), `node ${l.name} missing`);
      assert.equal(st.file.nodes[st.file.nodes.length - 1].name, 'sigmoid');
    });

    if (C.fp16) {
      it('fp16 storage holds the fp32 weights rounded to half precision', () => {
        assert.equal(st.file.meta.storageBits, 16);
        assert.equal(st.file32.meta.storageBits, 32);
        assert.equal(st.file.tensors.size, st.file32.tensors.size);
        let worst = 0;
        for (const [name, t32] of st.file32.tensors) {
          const t16 = st.file.tensors.get(name);
          assert.ok(t16, `${name} missing from the fp16 file`);
          assert.deepEqual(t16.dims, t32.dims);
          for (let i = 0; i < t32.data.length; i++) {
            const f = t32.data[i], h = t16.data[i];
            const bound = Math.max(Math.abs(f) * 2 ** -11, 2 ** -25) * 1.0001;
            const d = Math.abs(h - f);
            if (d > bound) assert.fail(`${name}[${i}]: fp32 ${f} stored as fp16 ${h} (error ${d} > ${bound})`);
            worst = Math.max(worst, f ? d / Math.abs(f) : 0);
          }
        }
        log(`# fp16 worst relative rounding error ${worst}`);
      });
    }

    it('random weights give a non-degenerate probability', () => {
      const p = st.ref.output[0];
      log(`# ${C.arch} tfjs p=${p} logit=${st.ref.acts.get('predictions').data[0]}`);
      assert.ok(p > 0.01 && p < 0.99, `tfjs probability ${p} is saturated: the init scale makes the logit ${st.ref.acts.get('predictions').data[0]}`);
    });

    it('WASM module matches tfjs (probability and feature maps)', async () => {
      const w = await wasmRun();
      const d = Math.abs(w.out[0] - st.ref.output[0]);
      compareFeatures('WASM', w.acts);
      console.log(`# ${C.arch} WASM p=${w.out[0]} tfjs p=${st.ref.output[0]} |diff|=${d.toExponential(3)}`);
      assert.ok(d <= P_TOL, `WASM probability ${w.out[0]} vs tfjs ${st.ref.output[0]} (|diff| ${d})`);
    });

    it('native CLI (own backend, --dump) matches tfjs', async () => {
      const n = await nativeOwn();
      assert.equal(n.out.length, 1);
      const d = Math.abs(n.out[0] - st.ref.output[0]);
      compareFeatures('native own', n.acts);
      console.log(`# ${C.arch} native own p=${n.out[0]} |diff vs tfjs|=${d.toExponential(3)}`);
      assert.ok(d <= P_TOL, `native probability ${n.out[0]} vs tfjs ${st.ref.output[0]} (|diff| ${d})`);
    });

    it('native CLI (ref backend, --dump) matches tfjs', async () => {
      const n = await nativeRef();
      const d = Math.abs(n.out[0] - st.ref.output[0]);
      compareFeatures('native ref', n.acts);
      assert.ok(d <= P_TOL, `ref probability ${n.out[0]} vs tfjs ${st.ref.output[0]} (|diff| ${d})`);
    });

    it('native backends own, xnnpack and ref agree', async () => {
      const own = await nativeOwn(), ref = await nativeRef(), xnn = await nativeXnn();
      const outs = { own: own.out[0], ref: ref.out[0], xnnpack: xnn.out[0] };
      const vals = Object.values(outs);
      const spread = Math.max(...vals) - Math.min(...vals);
      console.log(`# ${C.arch} ${C.size} native backends ${JSON.stringify(outs)} spread=${spread.toExponential(3)}`);
      assert.ok(spread <= AGREE_TOL, `backends disagree: ${JSON.stringify(outs)}`);
      for (const [label, run] of [['own', own], ['xnnpack', xnn]])
        for (const name of C.layers) {
          const s = diffStats(run.acts.get(name).data, ref.acts.get(name).data);
          assert.ok(s.rel <= FEAT_TOL, `${label} vs ref at ${name}: ${fmtStats(s)}`);
        }
    });

    it('WASM agrees with the native backends', async () => {
      const w = await wasmRun();
      const own = await nativeOwn(), ref = await nativeRef(), xnn = await nativeXnn();
      const outs = { wasm: w.out[0], own: own.out[0], ref: ref.out[0], xnnpack: xnn.out[0] };
      const vals = Object.values(outs);
      const spread = Math.max(...vals) - Math.min(...vals);
      console.log(`# ${C.arch} ${C.size} WASM vs native ${JSON.stringify(outs)} spread=${spread.toExponential(3)}`);
      assert.ok(spread <= AGREE_TOL, `WASM and native disagree: ${JSON.stringify(outs)}`);
      for (const name of C.layers) {
        const s = diffStats(w.acts.get(name).data, ref.acts.get(name).data);
        assert.ok(s.rel <= FEAT_TOL, `WASM vs native ref at ${name}: ${fmtStats(s)}`);
      }
    });

    after(() => {
      if (st.wasmSession) st.wasmSession.dispose();
    });
  });
}

describe('model-file.mjs (the independent JS reader) refuses damaged files', () => {
  it('checksum, truncation, magic', () => {
    requireFile(CLI, 'build it with `make` before running the tests');
    const dir = tmpDir('sialo-reader-');
    try {
      const p = path.join(dir, 'm.sialo');
      cli(['init', '--arch', 'smallcnn', '--seed', '1', '--input', '32', '--head', 'binary', p]);
      const good = new Uint8Array(fs.readFileSync(p));
      const m = readModelFile(good);
      assert.equal(m.meta.arch, 'smallcnn');
      assert.equal(m.nodes[0].opName, 'INPUT');
      const flipped = good.slice();
      flipped[flipped.length - 5] ^= 0x40;
      assert.throws(() => readModelFile(flipped), /CRC/);
      assert.throws(() => readModelFile(good.subarray(0, good.length - 16)), /payload size/);
      const bad = good.slice();
      bad[0] = 0x58;
      assert.throws(() => readModelFile(bad), /magic/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
