// wasm-threads.test.mjs — the pthreads build (wasm/dist/sialoscan-mt.js) against the
// single-threaded build (wasm/dist/sialoscan-core.mjs), in Node:
//   with 2 threads it gives BIT-IDENTICAL probabilities, Grad-CAM maps (frame size and layer size)
//   and raw outputs: the pool splits each layer's outputs between threads, every output value is
//   computed by the same kernel with the same order of additions whichever thread computes it, and
//   the Grad-CAM backward of one image runs on the calling thread. Tested on the shipped
//   MobileNetV2 and a random-weight ResNet50V2 (224 px: the largest network, which must still load).
//   info().engine says what runs; a process that disposes the engine exits; bad options are Errors.
// Run: node --test tests/node/wasm-threads.test.mjs   (needs make native wasm)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { testImage } from './lib/png.mjs';
import { cliVersion, seededInput } from './lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const MT_JS = path.join(ROOT, 'wasm', 'dist', 'sialoscan-mt.js');

/** index of the first element that differs (bit for bit; NaN never equals), or -1 */
function firstDifference(a, b) {
  assert.equal(a.length, b.length, 'length');
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}
function assertIdentical(a, b, what) {
  const i = firstDifference(a, b);
  assert.equal(i, -1, `${what} differs at ${i}: ${a[i]} (2 threads) vs ${b[i]} (1 thread)`);
}


describe('WASM pthreads build', () => {
  let dir, model;

  before(() => {
    assert.ok(fs.existsSync(MT_JS), `${MT_JS} is missing: run make wasm`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-threads-'));
    model = new Uint8Array(fs.readFileSync(MODEL));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('says what it is: info().engine', async () => {
    const one = await createSialoscan({ model });
    const k = { relaxedSimd: false, kernel: 'f32_gemm_4x8_simd128', codecs: cliVersion().codecs }; // plain Node 20: no relaxed SIMD
    assert.deepEqual(one.info().engine, { build: 'single', threads: 1, simd: true, ...k });
    one.dispose();
    const two = await createSialoscan({ model, threads: 2 });
    assert.deepEqual(two.info().engine, { build: 'pthreads', threads: 2, simd: true, ...k });
    two.dispose();
    const three = await createSialoscan({ model, threads: 3 }); // more threads than cores is allowed
    assert.equal(three.info().engine.threads, 3);
    three.dispose();
  });

  it('MobileNetV2: 2 threads give the same probabilities and Grad-CAM as 1, bit for bit', async () => {
    const one = await createSialoscan({ model });
    const two = await createSialoscan({ model, threads: 2 });
    try {
      for (const [seed, w, h] of [[1, 120, 90], [2, 224, 224], [3, 77, 301], [4, 640, 480]]) {
        const img = testImage(seed, w, h);
        const a = await two.classify(img, { cam: true }), b = await one.classify(img, { cam: true });
        assert.ok(Object.is(a.pMalignant, b.pMalignant), `image ${seed}: p ${a.pMalignant} vs ${b.pMalignant}`);
        assert.equal(a.label, b.label);
        assert.equal(a.cam.layer, b.cam.layer);
        assertIdentical(a.cam.map, b.cam.map, `image ${seed}: Grad-CAM map`);
        assertIdentical(a.cam.raw.data, b.cam.raw.data, `image ${seed}: Grad-CAM at the layer`);
        assertIdentical(a.cam.rgba, b.cam.rgba, `image ${seed}: overlay`);
        const c = await two.classify(img); // without Grad-CAM: the same probability
        assert.ok(Object.is(c.pMalignant, b.pMalignant));
      }
      // an earlier layer: the backward pass goes through convolutions
      const x = seededInput(224 * 224 * 3, 5);
      const ga = two.gradcam(x, { layer: 'expanded_conv_12' }), gb = one.gradcam(x, { layer: 'expanded_conv_12' });
      assertIdentical(ga.output, gb.output, 'forward output');
      assertIdentical(ga.raw.data, gb.raw.data, 'Grad-CAM at expanded_conv_12');
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('ResNet50V2 (224 px, 25.6 M weights) loads and gives the same outputs with 2 threads', async () => {
    const file = path.join(dir, 'resnet.sialo');
    const r = spawnSync(CLI, ['init', '--arch', 'resnet50v2', '--input', '224', '--seed', '3', file], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const bytes = new Uint8Array(fs.readFileSync(file));
    const one = await createSialoscan({ model: bytes });
    const two = await createSialoscan({ model: bytes, threads: 2 });
    try {
      assert.equal(two.info().arch, 'resnet50v2');
      const img = testImage(9, 300, 200);
      const a = await two.classify(img, { cam: true }), b = await one.classify(img, { cam: true });
      assert.ok(Object.is(a.pMalignant, b.pMalignant), `p ${a.pMalignant} vs ${b.pMalignant}`);
      assertIdentical(a.cam.map, b.cam.map, 'Grad-CAM map');
    } finally {
      one.dispose();
      two.dispose();
    }
  });

  it('the classic script loads under Node as CommonJS; default threads = min(cores, 4)', async () => {
    const mt = createRequire(import.meta.url)(MT_JS);
    assert.equal(typeof mt.createSialoscan, 'function');
    const s = await mt.createSialoscan({ model });
    assert.equal(s.info().engine.build, 'pthreads');
    assert.equal(s.info().engine.threads, Math.min(os.cpus().length, 4));
    const img = testImage(6, 100, 100);
    const want = JSON.parse(spawnSync(CLI, ['classify', '--model', MODEL, writePng(dir, 'six.png', img)], { encoding: 'utf8' }).stdout).p_malignant;
    assert.ok(Math.abs((await s.classify(img)).pMalignant - want) < 1e-5);
    s.dispose();
  });

  it('a process that disposes the threaded engine exits on its own', () => {
    const script = `
      import { readFileSync } from 'node:fs';
      import { createSialoscan } from ${JSON.stringify(path.join(ROOT, 'wasm', 'sialoscan.mjs'))};
      const s = await createSialoscan({ model: readFileSync(${JSON.stringify(MODEL)}), threads: 2 });
      const img = readFileSync(${JSON.stringify(writePng(dir, 'exit.png', testImage(8, 64, 64)))});
      const r = await s.classify(img, { cam: true });
      s.dispose();
      console.log(JSON.stringify({ p: r.pMalignant, threads: s.info().engine.threads }));`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.signal, null, `the process did not exit by itself (killed by ${r.signal}); stderr: ${r.stderr}`);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).threads, 2);
  });

  it('bad options are readable Errors', async () => {
    for (const threads of [0, -1, 1.5, '2', 65]) {
      await assert.rejects(createSialoscan({ model, threads }), (e) => e instanceof RangeError && /threads must be a whole number/.test(e.message));
    }
    await assert.rejects(createSialoscan({ model: new Uint8Array([1, 2, 3]), threads: 2 }), (e) => e instanceof Error && /sialoscan: /.test(e.message));
    const s = await createSialoscan({ model, threads: 2 });
    await assert.rejects(s.classify(new Uint8Array([1, 2, 3])), /not a PNG, JPEG, BMP or GIF/);
    s.dispose();
    await assert.rejects(s.classify(testImage(1)), /disposed/);
  });
});

function writePng(dir, name, bytes) {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}
