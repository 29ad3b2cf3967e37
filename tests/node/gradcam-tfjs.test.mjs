// gradcam-tfjs.test.mjs — the engine's Grad-CAM (WASM module) against TensorFlow.js tf.grad on the
// same Keras architecture and weights (tests/node/lib/keras-archs.mjs, weights read from the model
// file by tests/node/lib/model-file.mjs).
//
// The oracle: A = output of the layer; the score z = the 'predictions' output (the logit, input of
// the sigmoid) computed from A by re-running the later layers eagerly with A substituted for the
// layer's output; G = tf.grad(z)(A); alpha_c = mean over y,x of G; raw = ReLU(sum_c alpha_c A_c).
// Compared with the engine's raw map (before upsampling / normalisation): max|d| / max|ref| <= 1e-4,
// at the default layer (the GAP input) and at an earlier layer (gradients through convolutions,
// depthwise / strided convolutions, adds and pools).
// Then the full classify path: a frame of exactly the input size (the resize is then the identity)
// gives the same raw map as tfjs on x/127.5-1; and the frame-size map is the raw map upsampled
// bilinearly (half-pixel centres, x and y independently) and divided by its maximum, checked with an
// independent JS upsampler on a non-square frame.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import { readModelFile } from './lib/model-file.mjs';
import { loadTf, buildKerasModel, setKerasWeights, predictWithActivations } from './lib/keras-archs.mjs';
import { CLI, requireFile, tmpDir, cli, makeInput, diffStats, fmtStats, loadWasmFactory } from './lib/harness.mjs';

const CAM_TOL = 1e-4; // raw map, max|diff| / max|ref|
const MAP_TOL = 1e-4; // normalised frame-size map, absolute
const VERBOSE = !!process.env.SIALO_ORACLE_VERBOSE;

const CASES = [
  { arch: 'mobilenetv2', size: 128, seed: 5, layers: ['out_relu', 'block_11_add', 'block_15_add'] },
  { arch: 'resnet50v2', size: 64, seed: 1, layers: ['post_relu', 'conv4_block5_out', 'conv5_block2_out'] },
];

/** Grad-CAM in tfjs: the raw map at `layerName` for the logit ('predictions'). */
function tfjsGradCam(tf, km, input, layerName) {
  const { core } = tf;
  const size = km.inputs[0].shape[1];
  const target = km.getLayer(layerName);
  return core.tidy(() => {
    const x = core.tensor(input, [1, size, size, 3], 'float32');
    // concrete outputs of every layer up to the target (constants for the gradient)
    const run = (A) => {
      const values = new Map([[km.inputs[0].id, x]]);
      for (const layer of km.layers) {
        if (layer.getClassName() === 'InputLayer') continue;
        for (const node of layer.inboundNodes) {
          if (!node.inputTensors.every((t) => values.has(t.id))) continue;
          let out;
          if (layer === target && A) out = A;
          else {
            const ins = node.inputTensors.map((t) => values.get(t.id));
            out = layer.apply(ins.length === 1 ? ins[0] : ins, { training: false });
          }
          node.outputTensors.forEach((t, i) => values.set(t.id, Array.isArray(out) ? out[i] : out));
        }
      }
      return values;
    };
    const A = run(null).get(target.output.id);
    const logitId = km.getLayer('predictions').output.id;
    const G = core.grad((a) => core.sum(run(a).get(logitId)))(A);
    const alpha = core.mean(G, [0, 1, 2]);
    const cam = core.relu(core.sum(core.mul(A, alpha), -1)); // [1,H,W]
    return { raw: cam.dataSync().slice(), height: A.shape[1], width: A.shape[2] };
  });
}

/** 24-bit BMP (stb_image reads it) of an RGB frame. */
function bmp(rgb, w, h) {
  const row = Math.ceil((w * 3) / 4) * 4;
  const b = Buffer.alloc(54 + row * h);
  b.write('BM', 0);
  b.writeUInt32LE(b.length, 2);
  b.writeUInt32LE(54, 10);
  b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18);
  b.writeInt32LE(h, 22);
  b.writeUInt16LE(1, 26);
  b.writeUInt16LE(24, 28);
  b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3, d = 54 + (h - 1 - y) * row + x * 3;
      b[d] = rgb[s + 2]; b[d + 1] = rgb[s + 1]; b[d + 2] = rgb[s];
    }
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
}

/** A deterministic image-like frame, w x h RGB bytes. */
function frame(w, h, seed) {
  const rgb = new Uint8Array(w * h * 3);
  let s = seed >>> 0 || 1;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        s = (s * 1103515245 + 12345) >>> 0;
        const v = 128 + 90 * Math.sin(x / 7 + c) * Math.cos(y / 9 - c) + ((s >>> 16) % 40) - 20;
        rgb[(y * w + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(v)));
      }
  return rgb;
}

/** Independent bilinear upsampling (half-pixel centres, edges clamped), then divide by the max. */
function upsampleNormalise(raw, rw, rh, w, h) {
  const out = new Float64Array(w * h);
  const coord = (i, n, rn) => {
    const s = Math.min(Math.max((i + 0.5) * (rn / n) - 0.5, 0), rn - 1);
    const i0 = Math.min(Math.floor(s), Math.max(rn - 2, 0));
    return [i0, rn > 1 ? s - i0 : 0, Math.min(i0 + 1, rn - 1)];
  };
  let mx = 0;
  for (let y = 0; y < h; y++) {
    const [y0, fy, y1] = coord(y, h, rh);
    for (let x = 0; x < w; x++) {
      const [x0, fx, x1] = coord(x, w, rw);
      const top = raw[y0 * rw + x0] * (1 - fx) + raw[y0 * rw + x1] * fx;
      const bot = raw[y1 * rw + x0] * (1 - fx) + raw[y1 * rw + x1] * fx;
      out[y * w + x] = top * (1 - fy) + bot * fy;
      mx = Math.max(mx, out[y * w + x]);
    }
  }
  if (mx > 0) for (let i = 0; i < out.length; i++) out[i] /= mx;
  return out;
}

for (const C of CASES) {
  describe(`Grad-CAM ${C.arch} ${C.size}x${C.size} (seed ${C.seed}) vs tfjs tf.grad`, () => {
    const st = {};
    before(async () => {
      requireFile(CLI, 'build it with `make` before running the tests');
      st.dir = tmpDir(`sialo-gradcam-${C.arch}-`);
      const modelPath = path.join(st.dir, `${C.arch}.sialo`);
      cli(['init', '--arch', C.arch, '--seed', String(C.seed), '--input', String(C.size), '--head', 'binary', modelPath]);
      st.bytes = new Uint8Array(fs.readFileSync(modelPath));
      st.tf = await loadTf();
      st.km = buildKerasModel(st.tf, C.arch, { inputSize: C.size, head: 'binary' });
      setKerasWeights(st.tf, st.km, readModelFile(st.bytes).tensors);
      const create = await loadWasmFactory();
      st.s = await create({ model: st.bytes });
      st.input = makeInput(C.size, C.size, C.seed);
    });
    after(() => {
      if (st.s) st.s.dispose();
      if (st.km) st.km.dispose();
      if (st.dir) fs.rmSync(st.dir, { recursive: true, force: true });
    });

    for (const layer of C.layers) {
      it(`raw map at ${layer}${layer === C.layers[0] ? ' (the default layer)' : ''} matches tf.grad within ${CAM_TOL}`, () => {
        const ref = tfjsGradCam(st.tf, st.km, st.input, layer);
        const eng = st.s.gradcam(st.input, layer === C.layers[0] ? {} : { layer });
        assert.equal(eng.layer, layer);
        assert.equal(eng.classIndex, 1);
        assert.deepEqual([eng.raw.width, eng.raw.height], [ref.width, ref.height]);
        const d = diffStats(eng.raw.data, ref.raw);
        if (VERBOSE) console.log(`# ${C.arch} ${layer} ${ref.width}x${ref.height}: ${fmtStats(d)}`);
        assert.ok(d.maxRef > 0, `the tfjs map at ${layer} is all zero: this seed tests nothing`);
        assert.ok(d.rel <= CAM_TOL, `${C.arch} ${layer}: ${fmtStats(d)} (cell ${d.argmax})`);
        // the probability comes from the same (single) forward pass
        const p = predictWithActivations(st.tf, st.km, st.input, []).output[0];
        assert.ok(Math.abs(eng.output[0] - p) <= 1e-4, `p ${eng.output[0]} vs tfjs ${p}`);
      });
    }

    it('classify(bytes, { cam: true }) on a frame of the input size gives the tfjs map; map = upsampled raw', async () => {
      const S = C.size;
      const rgb = frame(S, S, C.seed);
      const input = Float32Array.from(rgb, (v) => v / 127.5 - 1); // the identity resize + Keras normalisation
      const ref = tfjsGradCam(st.tf, st.km, input, C.layers[0]);
      const r = await st.s.classify(bmp(rgb, S, S), { cam: true });
      assert.equal(r.cam.layer, C.layers[0]);
      const d = diffStats(r.cam.raw.data, ref.raw);
      assert.ok(d.maxRef > 0 && d.rel <= CAM_TOL, `classify path: ${fmtStats(d)}`);
      // a non-square frame: the map has the frame's size and is the normalised bilinear upsampling
      const W = 3 * S + 17, H = 2 * S - 9;
      const r2 = await st.s.classify(bmp(frame(W, H, 9), W, H), { cam: true, camLayer: C.layers[1] });
      assert.equal(r2.cam.layer, C.layers[1]);
      assert.deepEqual([r2.cam.width, r2.cam.height, r2.cam.map.length, r2.cam.rgba.length], [W, H, W * H, W * H * 4]);
      const want = upsampleNormalise(r2.cam.raw.data, r2.cam.raw.width, r2.cam.raw.height, W, H);
      const dm = diffStats(r2.cam.map, want);
      assert.ok(dm.maxAbs <= MAP_TOL, `frame map vs JS upsampling: ${fmtStats(dm)}`);
      let mn = Infinity, mx = -Infinity;
      for (const v of r2.cam.map) { mn = Math.min(mn, v); mx = Math.max(mx, v); }
      assert.ok(mn >= 0 && (mx === 1 || mx === 0), `map range [${mn}, ${mx}]`);
      // the overlay: opaque, and the frame itself where the map is 0
      for (let i = 3; i < r2.cam.rgba.length; i += 4) if (r2.cam.rgba[i] !== 255) assert.fail('overlay alpha is not 255');
      // the CAM does not change the classification
      const plain = await st.s.classify(bmp(frame(W, H, 9), W, H));
      assert.equal(plain.pMalignant, r2.pMalignant);
    });
  });
}
