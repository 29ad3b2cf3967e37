// relaxed-simd.test.mjs — the relaxed-SIMD twins of the WASM builds (f32x4.relaxed_madd in the
// GEMM and depthwise kernels, wasm/dist/sialoscan-*.relaxed.wasm, tools/wasm-relaxed.mjs) and the
// choice between them and the SIMD128 builds:
//   - where relaxed SIMD is off (plain Node 20) 'auto' runs SIMD128 and 'relaxed' is a readable Error;
//   - where it is on (Node 20 --experimental-wasm-relaxed-simd, a child process) 'auto' runs the
//     relaxed kernels, single-threaded and with pthreads, and their outputs agree with the SIMD128
//     build's and the native CLI's (a fused multiply-add rounds once: not bit-identical, within 1e-5)
//     on the shipped MobileNetV2 and a random-weight ResNet50V2;
//   - the relaxed files carry the standard opcode only (0xfd 0x85 0x02), never the prototype's.
// Run: node --test tests/node/relaxed-simd.test.mjs   (needs make native wasm)
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { testImage } from './lib/png.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const DIST = path.join(ROOT, 'wasm', 'dist');

// a child Node with relaxed SIMD on: classifies IMAGE with each SIMD choice and thread count and
// prints one JSON line per engine
const CHILD = `
import fs from 'node:fs';
import { createSialoscan } from ${JSON.stringify(path.join(ROOT, 'wasm', 'sialoscan.mjs'))};
const [modelPath, imagePath, inputPath] = process.argv.slice(2);
const model = new Uint8Array(fs.readFileSync(modelPath));
const image = fs.readFileSync(imagePath);
const raw = fs.readFileSync(inputPath);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
const out = [];
for (const simd of ['auto', 'simd128', 'relaxed']) for (const threads of [1, 2]) {
  const s = await createSialoscan({ model, simd, threads });
  const r = await s.classify(image, { cam: true });
  const y = s.forward(x);
  out.push({ simd, threads, kernel: s.info().engine.kernel, relaxedSimd: s.info().engine.relaxedSimd,
             p: r.pMalignant, camSum: r.cam.map.reduce((a, b) => a + b, 0), y: Array.from(y) });
  s.dispose();
}
console.log(JSON.stringify(out));
`;

function childRun(model, image, input) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-relaxed-'));
  try {
    const script = path.join(dir, 'child.mjs');
    fs.writeFileSync(script, CHILD);
    const r = spawnSync(process.execPath, ['--experimental-wasm-relaxed-simd', '--no-warnings', script, model, image, input],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop());
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('relaxed SIMD builds', () => {
  it('the relaxed files hold the standard relaxed_madd opcode, not the prototype', () => {
    for (const f of ['sialoscan-core.relaxed.wasm', 'sialoscan-mt.relaxed.wasm']) {
      const b = fs.readFileSync(path.join(DIST, f));
      let proto = 0, madd = 0;
      for (let i = 0; i + 2 < b.length; i++) {
        if (b[i] === 0xfd && b[i + 1] === 0xaf && b[i + 2] === 0x01) proto++;
        if (b[i] === 0xfd && b[i + 1] === 0x85 && b[i + 2] === 0x02) madd++;
      }
      assert.ok(madd >= 8, `${f}: ${madd} relaxed_madd (the GEMM tile alone has 8)`);
      assert.equal(proto, 0, `${f}: the prototype opcode is left`);
    }
  });

  it('without relaxed SIMD (plain Node 20): auto runs SIMD128, relaxed is refused with a reason', async () => {
    const model = new Uint8Array(fs.readFileSync(MODEL));
    const s = await createSialoscan({ model });
    assert.equal(s.info().engine.kernel, 'f32_gemm_4x8_simd128');
    assert.equal(s.info().engine.relaxedSimd, false);
    s.dispose();
    await assert.rejects(createSialoscan({ model, simd: 'relaxed' }), /no relaxed SIMD.*--experimental-wasm-relaxed-simd/);
    await assert.rejects(createSialoscan({ model, simd: 'avx' }), /options\.simd must be/);
  });

  for (const [name, arch] of [['the shipped MobileNetV2', null], ['a random-weight ResNet50V2', 'resnet50v2']]) {
    it(`with relaxed SIMD: auto picks it; outputs agree with SIMD128 and native (${name})`, () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-relaxed-t-'));
      try {
        let model = MODEL;
        if (arch) {
          model = path.join(dir, 'm.sialo');
          const r = spawnSync(CLI, ['init', '--arch', arch, '--input', '160', '--head', 'binary', '--seed', '3', model], { encoding: 'utf8' });
          assert.equal(r.status, 0, r.stderr);
        }
        const image = path.join(dir, 'frame.png');
        fs.writeFileSync(image, testImage(7, 300, 220));
        const info = JSON.parse(spawnSync(CLI, ['info', model], { encoding: 'utf8' }).stdout);
        const side = info.input.height;
        const x = new Float32Array(side * side * 3).map((_, i) => Math.sin(i * 0.37) * 1.5);
        const input = path.join(dir, 'x.f32');
        fs.writeFileSync(input, Buffer.from(x.buffer));
        const rows = childRun(model, image, input);
        const native = JSON.parse(spawnSync(CLI, ['classify', '--model', model, image], { encoding: 'utf8' }).stdout.trim());
        const byKey = Object.fromEntries(rows.map((r) => [`${r.simd}/${r.threads}`, r]));
        for (const t of [1, 2]) {
          assert.equal(byKey[`auto/${t}`].kernel, 'f32_gemm_4x8_relaxedsimd', `auto, ${t} thread(s)`);
          assert.equal(byKey[`relaxed/${t}`].relaxedSimd, true);
          assert.equal(byKey[`simd128/${t}`].kernel, 'f32_gemm_4x8_simd128');
        }
        const ref = byKey['simd128/1'];
        for (const r of rows) {
          assert.ok(Math.abs(r.p - native.p_malignant) < 1e-5, `${r.simd}/${r.threads}: p ${r.p} vs native ${native.p_malignant}`);
          assert.ok(Math.abs(r.p - ref.p) < 1e-5, `${r.simd}/${r.threads}: p ${r.p} vs SIMD128 ${ref.p}`);
          assert.ok(Math.abs(r.camSum - ref.camSum) < 1e-3 * Math.max(1, ref.camSum), `${r.simd}/${r.threads}: Grad-CAM mass ${r.camSum} vs ${ref.camSum}`);
          for (let i = 0; i < r.y.length; i++) assert.ok(Math.abs(r.y[i] - ref.y[i]) < 1e-5, `${r.simd}/${r.threads}: output ${i}`);
        }
        // the relaxed kernels really run a different instruction: not every output is bit-identical
        const relaxedDiffers = rows.some((r) => r.simd !== 'simd128' && (r.p !== ref.p || r.camSum !== ref.camSum));
        assert.ok(relaxedDiffers || arch === null, 'the relaxed build gave bit-identical results: is it the relaxed build?');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
