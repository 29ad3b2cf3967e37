// tfjs-peer.test.mjs — the TensorFlow.js WASM peer of the benchmarks (bench/tfjs-peer.mjs, used by
// bench/engine.mjs in Node and bench/chromium.mjs in the page): both of its forms (tfjs-layers, and
// batch norms folded + activations fused) rebuilt from a `sialoscan init` file give ours' output
// (|dp| < 1e-4, on two inputs, with the tfjs wasm backend as the benchmarks run it), and models it
// cannot rebuild are recognised (the shipped model: converted from .tflite, other weight names).
// Run: node --test tests/node/tfjs-peer.test.mjs   (needs make native wasm)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { readModelFile } from './lib/model-file.mjs';
import { startTfjsWasm, tfjsNetwork, tfjsCannotRebuild } from '../../bench/tfjs-peer.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const SHIPPED = path.join(ROOT, 'models', 'sialoscan-busi.sialo');

describe('bench/tfjs-peer.mjs: TF.js WASM rebuilt from a .sialo file', () => {
  let tmp, tf;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-tfjs-peer-'));
    const core = await import('@tensorflow/tfjs-core');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const tfl = await import('@tensorflow/tfjs-layers');
    const info = await startTfjsWasm({ core, wasm }, { threads: 1, wasmPaths: path.join(ROOT, 'node_modules', '@tensorflow', 'tfjs-backend-wasm', 'dist') + path.sep });
    assert.equal(info.backend, 'wasm');
    assert.equal(info.threads, 1);
    tf = { core, tfl };
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  for (const [arch, size] of [['mobilenetv2', 96], ['resnet50v2', 64]]) {
    it(`${arch} ${size}px: tfjs-layers and BN folded agree with ours`, async () => {
      const file = path.join(tmp, `${arch}.sialo`);
      const r = spawnSync(CLI, ['init', '--arch', arch, '--input', String(size), '--head', 'binary', '--seed', '3', file], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      const bytes = fs.readFileSync(file);
      const parsed = readModelFile(bytes, { verifyChecksum: false });
      assert.equal(tfjsCannotRebuild(parsed), null);
      const s = await createSialoscan({ model: new Uint8Array(bytes), threads: 1, simd: 'simd128' });
      const xs = [0.013, 0.029].map((f, k) => Float32Array.from({ length: size * size * 3 }, (_, i) => Math.sin(i * f + k) * 0.8));
      const ours = xs.map((x) => s.forward(x)[0]);
      s.dispose();
      for (const form of ['layers', 'folded']) {
        const net = tfjsNetwork(tf, form, parsed);
        const theirs = xs.map((x) => net.forward(x));
        net.dispose();
        theirs.forEach((out, j) => {
          assert.equal(out.length, 1);
          assert.ok(Math.abs(out[0] - ours[j]) < 1e-4, `${form} input ${j}: ${out[0]} vs ours ${ours[j]}`);
        });
      }
    });
  }

  it('names why it cannot rebuild the shipped model (an ensemble of networks converted from .tflite)', { skip: !fs.existsSync(SHIPPED) && 'no shipped model' }, () => {
    const file = readModelFile(fs.readFileSync(SHIPPED), { verifyChecksum: false });
    assert.match(tfjsCannotRebuild(file) ?? '', /an ensemble of 2 networks/);
    const net = { meta: { ...file.meta, ...file.members[0].meta, nClasses: file.meta.nClasses }, tensors: file.members[0].tensors };
    assert.match(tfjsCannotRebuild(net) ?? '', /Keras-named/);
    assert.throws(() => tfjsNetwork(tf, 'folded', readModelFile(fs.readFileSync(SHIPPED), { verifyChecksum: false })), /cannot rebuild/);
  });
});
