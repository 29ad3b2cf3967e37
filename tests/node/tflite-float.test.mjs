// tflite-float.test.mjs — tools/tflite-float.mjs (the float .tflite that TFLite-web races in
// bench/chromium.mjs): the int8 ImageNet MobileNetV2 of ../shared becomes a float32 file with the
// same operators and no (DE)QUANTIZE, and our own importer reads that file back to the very
// network it makes of the int8 file (outputs within 1e-5 on several inputs). Also: the writer
// alone (the int8 file read and written back unchanged) and per-channel dequantisation.
// Run: node --test tests/node/tflite-float.test.mjs (needs build/sialoscan; skips without ../shared)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readTflite, writeTflite, tfliteToFloat, dequantizeTensor, describe, TT, OP } from '../../tools/tflite-float.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const INT8 = path.resolve(ROOT, '..', 'shared', 'pretrained', 'tf2_mobilenet_v2_1.0_224_ptq.tflite');
const skip = !fs.existsSync(INT8) ? `${INT8} is absent on this machine (../shared)`
  : !fs.existsSync(CLI) ? 'build/sialoscan is not built (make native)' : false;

function sialo(args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  assert.equal(r.status, 0, `sialoscan ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}
/** probabilities of `sialoscan forward` on a raw float32 NHWC input */
function forward(model, input) {
  const j = JSON.parse(sialo(['forward', '--model', model, '--input', input, '--threads', '1']).trim().split('\n').pop());
  return Array.isArray(j) ? j : j.probabilities;
}
function inputs(dir) { // three 224x224x3 inputs in [-1, 1]: smooth, noise, constant
  const n = 224 * 224 * 3;
  let s = 7;
  const rnd = () => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32) * 2 - 1;
  return [
    Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.013) * 0.8),
    Float32Array.from({ length: n }, rnd),
    new Float32Array(n).fill(0.25),
  ].map((x, k) => { const f = path.join(dir, `x${k}.f32`); fs.writeFileSync(f, Buffer.from(x.buffer)); return f; });
}
const maxAbs = (a, b) => a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const argmax = (a) => a.reduce((best, v, i) => (v > a[best] ? i : best), 0);

test('per-channel dequantisation: scale[c] * (q - zero_point[c]) along quantized_dimension', () => {
  const t = { name: 'w', shape: [2, 1, 1, 3], type: TT.INT8, quant: { scale: [0.5, 0.25, 2], zeroPoint: [0, 0, 0], quantizedDimension: 3 } };
  const f = dequantizeTensor(t, new Uint8Array([1, 2, 3, 0xff, 0xfe, 0xfd])); // int8: 1 2 3 -1 -2 -3
  assert.deepEqual([...f], [0.5, 0.5, 6, -0.5, -0.5, -6]);
  const b = dequantizeTensor({ name: 'b', shape: [2], type: TT.INT32, quant: { scale: [0.5], zeroPoint: [0] } }, new Uint8Array([2, 0, 0, 0, 0xfc, 0xff, 0xff, 0xff]));
  assert.deepEqual([...b], [1, -2]);
  const u = dequantizeTensor({ name: 'u', shape: [2], type: TT.UINT8, quant: { scale: [0.25], zeroPoint: [128] } }, new Uint8Array([128, 132]));
  assert.deepEqual([...u], [0, 1]);
});

test('int8 MobileNetV2 -> float .tflite: same operators without (DE)QUANTIZE, float tensors', { skip }, () => {
  const q = readTflite(fs.readFileSync(INT8));
  const { bytes, stats } = tfliteToFloat(fs.readFileSync(INT8));
  const f = readTflite(bytes);
  const dq = describe(q), df = describe(f);
  for (const [k, n] of Object.entries(dq.operators)) if (!k.startsWith('QUANTIZE') && !k.startsWith('DEQUANTIZE')) assert.equal(df.operators[k], n, k);
  assert.ok(!f.operatorCodes.some((c) => c.builtinCode === OP.QUANTIZE || c.builtinCode === OP.DEQUANTIZE));
  const g = f.subgraphs[0];
  assert.ok(g.tensors.every((t) => (t.type === TT.FLOAT32 || (t.type === TT.INT32 && f.buffers[t.buffer])) && !t.quant));
  assert.deepEqual(g.tensors[g.inputs[0]].shape, [1, 224, 224, 3]);
  assert.deepEqual(g.tensors[g.outputs[0]].shape, [1, 1001]);
  assert.equal(stats.params, 3489097); // as `sialoscan info` counts the int8 file's
  // buffers are 16-byte aligned in the file (Buffer.data is force_align: 16)
  for (const t of g.tensors) if (f.buffers[t.buffer]) assert.equal(f.buffers[t.buffer].byteOffset % 16, 0, t.name);
});

test('our importer: the float file gives the network of the int8 file (within 1e-5)', { skip }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-tflite-float-'));
  try {
    const floatFile = path.join(dir, 'f32.tflite');
    fs.writeFileSync(floatFile, tfliteToFloat(fs.readFileSync(INT8)).bytes);
    // the writer alone: the int8 file read and written back, quantisation and all
    const sameFile = path.join(dir, 'int8-rewritten.tflite');
    fs.writeFileSync(sameFile, writeTflite(readTflite(fs.readFileSync(INT8))));
    const models = {};
    for (const [k, file] of Object.entries({ int8: INT8, float: floatFile, rewritten: sameFile })) {
      models[k] = path.join(dir, `${k}.sialo`);
      sialo(['convert', '--from', 'tflite', file, models[k]]);
    }
    for (const x of inputs(dir)) {
      const p = forward(models.int8, x), pf = forward(models.float, x), pr = forward(models.rewritten, x);
      assert.equal(p.length, 1001);
      assert.ok(maxAbs(p, pf) <= 1e-5, `float file: max |dp| ${maxAbs(p, pf)}`);
      assert.equal(argmax(pf), argmax(p));
      assert.ok(maxAbs(p, pr) <= 1e-5, `rewritten int8 file: max |dp| ${maxAbs(p, pr)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
