// wasm-api.test.mjs — the JavaScript API of the WebAssembly build (wasm/sialoscan.mjs and the
// single-file wasm/sialoscan-single.mjs) against the native CLI (build/sialoscan):
//   info() equals `sialoscan info` (+ engine: which build runs); classify(bytes) gives the CLI's p_malignant (<= 1e-5) for
//   PNG / JPEG / GIF inputs; forward() equals `sialoscan forward` (<= 1e-5) for smallcnn and
//   mobilenetv2; activation() equals `forward --dump`;
//   bad input: garbage / truncated / corrupt / empty models make createSialoscan reject with the
//   reason; classify(garbage) rejects; use after dispose() throws; forward() with a wrong-length
//   array throws a TypeError.
// Run: node --test tests/node/wasm-api.test.mjs   (needs make native wasm)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { createSialoscan as createSialoscanSingle } from '../../wasm/sialoscan-single.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures');
const TOL = 1e-5;

import { makePng, testImage } from './lib/png.mjs';
import { cliVersion, seededInput } from './lib/harness.mjs';


function cli(args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `sialoscan ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout;
}


const maxAbsDiff = (a, b) => {
  assert.equal(a.length, b.length, 'length');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

const FLAVOURS = [['sialoscan.mjs', createSialoscan], ['sialoscan-single.mjs', createSialoscanSingle]];

describe('WASM API', () => {
  let dir, smallModel, mobileModel, images;

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make native`);
    assert.ok(fs.existsSync(path.join(ROOT, 'wasm', 'dist', 'sialoscan-core.mjs')), 'wasm/dist is missing: run make wasm');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-wasm-'));
    smallModel = path.join(dir, 'smallcnn.sialo');
    mobileModel = path.join(dir, 'mobilenetv2.sialo');
    cli(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', smallModel]);
    cli(['init', '--arch', 'mobilenetv2', '--input', '96', '--seed', '5', '--fp16', mobileModel]);
    images = [1, 2, 3].map((i) => {
      const p = path.join(dir, `img${i}.png`);
      fs.writeFileSync(p, testImage(i, 120 + 10 * i, 90));
      return p;
    });
    images.push(path.join(FIXTURES, 'baseline.jpg'), path.join(FIXTURES, 'progressive.jpg'), path.join(FIXTURES, 'two-frames.gif'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [name, create] of FLAVOURS) {
    describe(name, () => {
      it('info() equals the CLI info', async () => {
        const bytes = fs.readFileSync(smallModel);
        const s = await create({ model: new Uint8Array(bytes) });
        const native = JSON.parse(cli(['info', smallModel]));
        const { engine, version, ...modelInfo } = s.info();
        const { kernels, ...nativeModel } = native; // the CLI's own x86 kernels: not the WASM build's
        assert.equal(typeof kernels?.isa, 'string');
        assert.deepEqual(modelInfo, nativeModel);
        // + the release and what runs: this single-threaded SIMD128 build (plain Node 20: no relaxed SIMD), its codecs
        const v = cliVersion();
        assert.equal(version, v.version);
        assert.deepEqual(engine, { build: 'single', threads: 1, simd: true, relaxedSimd: false, kernel: 'f32_gemm_4x8_simd128', codecs: v.codecs });
        // info() returns a copy
        const i = s.info();
        i.arch = 'changed';
        assert.equal(s.info().arch, 'smallcnn');
        s.dispose();
        // an ArrayBuffer works too
        const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
        const s2 = await create({ model: ab });
        assert.equal(s2.info().checksum, native.checksum);
        s2.dispose();
        // and a promise of the bytes (the engine starts while they arrive)
        const s3 = await create({ model: new Promise((ok) => setTimeout(() => ok(new Uint8Array(bytes)), 20)) });
        assert.equal(s3.info().checksum, native.checksum);
        s3.dispose();
      });

      it('classify() gives the same p_malignant as the native CLI', async () => {
        const s = await create({ model: fs.readFileSync(smallModel) });
        const native = cli(['classify', '--model', smallModel, ...images]).trim().split('\n').map((l) => JSON.parse(l));
        for (let k = 0; k < images.length; k++) {
          const r = await s.classify(new Uint8Array(fs.readFileSync(images[k])));
          assert.ok(Math.abs(r.pMalignant - native[k].p_malignant) <= TOL,
            `${path.basename(images[k])}: wasm ${r.pMalignant} native ${native[k].p_malignant}`);
          assert.equal(r.label, native[k].label);
          assert.equal(r.threshold, native[k].threshold);
          assert.ok(r.ms >= 0);
        }
        // an ArrayBuffer image, and the same image twice gives the same answer
        const b = fs.readFileSync(images[0]);
        const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.length);
        const r1 = await s.classify(ab), r2 = await s.classify(new Uint8Array(b));
        assert.equal(r1.pMalignant, r2.pMalignant);
        s.dispose();
      });

      it('forward() equals `sialoscan forward` (smallcnn fp32, mobilenetv2 fp16)', async () => {
        for (const [model, side] of [[smallModel, 64], [mobileModel, 96]]) {
          const s = await create({ model: fs.readFileSync(model) });
          for (const seed of [1, 2]) {
            const x = seededInput(side * side * 3, seed * 977);
            const f = path.join(dir, `x${side}-${seed}.f32`);
            fs.writeFileSync(f, Buffer.from(x.buffer));
            const native = JSON.parse(cli(['forward', '--model', model, '--input', f]));
            const y = s.forward(x);
            assert.ok(y instanceof Float32Array && y.length === 1);
            const d = maxAbsDiff(y, native);
            assert.ok(d <= TOL, `${path.basename(model)} seed ${seed}: wasm ${y[0]} native ${native[0]} (diff ${d})`);
            assert.ok(y[0] > 0 && y[0] < 1);
          }
          s.dispose();
        }
      });

      it('activation() equals `forward --dump` (keepActivations)', async () => {
        const s = await create({ model: fs.readFileSync(smallModel), keepActivations: true });
        const x = seededInput(64 * 64 * 3, 4242);
        const f = path.join(dir, 'act.f32');
        fs.writeFileSync(f, Buffer.from(x.buffer));
        const dumpDir = fs.mkdtempSync(path.join(dir, 'dump-'));
        cli(['forward', '--model', smallModel, '--input', f, '--dump', 'block1_pool,block4_relu', '--dump-dir', dumpDir]);
        s.forward(x);
        for (const [layer, shape] of [['block1_pool', [1, 32, 32, 32]], ['block4_relu', [1, 8, 8, 256]]]) {
          const a = s.activation(layer);
          assert.deepEqual(a.shape, shape);
          const buf = fs.readFileSync(path.join(dumpDir, `${layer}.f32`));
          const ref = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
          let scale = 0;
          for (const v of ref) scale = Math.max(scale, Math.abs(v));
          assert.ok(maxAbsDiff(a.data, ref) <= TOL * Math.max(1, scale), `${layer} differs`);
        }
        assert.throws(() => s.activation('no_such_layer'), /no layer named 'no_such_layer'/);
        assert.throws(() => s.activation('block1_conv'), /fused/);
        s.dispose();
        // without keepActivations only the output is kept
        const s2 = await create({ model: fs.readFileSync(smallModel) });
        s2.forward(x);
        assert.deepEqual(s2.activation('sigmoid').shape, [1, 1, 1, 1]);
        assert.throws(() => s2.activation('block1_pool'), /keep_activations/);
        s2.dispose();
      });

      it('a bad model makes createSialoscan reject with the reason', async () => {
        const good = fs.readFileSync(smallModel);
        const garbage = new Uint8Array(4096).map((_, i) => (i * 131 + 7) & 255);
        const flipped = new Uint8Array(good);
        flipped[5000] ^= 0x10;
        const bigger = new Uint8Array(good.length + 3);
        bigger.set(good);
        const badVersion = new Uint8Array(good);
        badVersion[8] = 9;
        const cases = [
          ['garbage bytes', garbage, /wrong magic/],
          ['truncated', new Uint8Array(good.subarray(0, 1000)), /truncated/],
          ['header only', new Uint8Array(good.subarray(0, 20)), /truncated/],
          ['one flipped bit', flipped, /checksum/],
          ['trailing bytes', bigger, /trailing/],
          ['unsupported version', badVersion, /version/],
          ['empty', new Uint8Array(0), /empty/],
          ['a PNG', new Uint8Array(makePng(40, 40, () => [0, 0, 0])), /magic/],
        ];
        for (const [what, bytes, pattern] of cases) {
          await assert.rejects(create({ model: bytes }), (e) => {
            assert.ok(e instanceof Error, `${what}: not an Error`);
            assert.match(e.message, /^sialoscan: /, what);
            assert.match(e.message, pattern, `${what}: ${e.message}`);
            return true;
          }, what);
        }
        for (const bad of [undefined, null, 'model.sialo', [1, 2, 3], new Float32Array(8), Promise.resolve('model.sialo')])
          await assert.rejects(create({ model: bad }), TypeError);
        await assert.rejects(create({ model: Promise.reject(new Error('no model file')) }), /no model file/);
        await assert.rejects(create({ model: Promise.resolve(garbage) }), /wrong magic/);
        await assert.rejects(create(), TypeError);
      });

      it('bad images reject; use after dispose() throws; forward() checks its input', async () => {
        const s = await create({ model: fs.readFileSync(smallModel) });
        await assert.rejects(s.classify(new TextEncoder().encode('not an image, just words'.repeat(10))), /cannot read the image/);
        await assert.rejects(s.classify(new Uint8Array(0)), /empty/);
        await assert.rejects(s.classify(new Uint8Array(makePng(20, 20, () => [5, 5, 5]))), /at least 32x32/);
        const png = fs.readFileSync(images[0]);
        await assert.rejects(s.classify(new Uint8Array(png.subarray(0, png.length >> 1))), /sialoscan: the PNG file is truncated inside chunk IDAT/);
        await assert.rejects(s.classify('image.png'), TypeError);
        await assert.rejects(s.classify([1, 2, 3]), TypeError);
        // still usable after those failures
        const ok = await s.classify(new Uint8Array(png));
        assert.ok(ok.pMalignant >= 0 && ok.pMalignant <= 1);

        assert.throws(() => s.forward(new Float32Array(10)), TypeError);
        assert.throws(() => s.forward(new Float32Array(64 * 64 * 3 + 1)), TypeError);
        assert.throws(() => s.forward(Array.from({ length: 64 * 64 * 3 }, () => 0)), TypeError);
        assert.throws(() => s.forward(new Float64Array(64 * 64 * 3)), TypeError);
        assert.equal(s.forward(new Float32Array(64 * 64 * 3)).length, 1);

        s.dispose();
        await assert.rejects(s.classify(new Uint8Array(png)), /disposed/);
        assert.throws(() => s.forward(new Float32Array(64 * 64 * 3)), /disposed/);
        assert.throws(() => s.activation('sigmoid'), /disposed/);
        s.dispose(); // twice is harmless
        assert.equal(s.info().arch, 'smallcnn'); // info is a snapshot, still readable
      });

      it('200 classify() calls, with failures in between, keep giving the same answer', async () => {
        const s = await create({ model: fs.readFileSync(smallModel) });
        const png = new Uint8Array(fs.readFileSync(images[0]));
        const first = await s.classify(png);
        for (let i = 0; i < 200; i++) {
          const r = await s.classify(png);
          assert.equal(r.pMalignant, first.pMalignant);
          if (i % 50 === 0) await assert.rejects(s.classify(new Uint8Array(64)), /cannot read/);
        }
        s.dispose();
      });
    });
  }

  it('the two flavours agree exactly', async () => {
    const model = fs.readFileSync(mobileModel);
    const a = await createSialoscan({ model }), b = await createSialoscanSingle({ model });
    for (const img of images.slice(0, 3)) {
      const bytes = new Uint8Array(fs.readFileSync(img));
      assert.equal((await a.classify(bytes)).pMalignant, (await b.classify(bytes)).pMalignant);
    }
    a.dispose();
    b.dispose();
  });
});
