// The ImageNet MobileNetV2 files of ../shared convert, and `sialoscan imagenet` gives sensible
// top-1s on the original photos (REFERENCE.md tables A and C) and says how it preprocessed them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SHARED = '../shared';
const have = existsSync(join(SHARED, 'pretrained/mobilenet_v2_1.0_224_quant.tflite'));
const skip = have ? false : '../shared (pretrained MobileNetV2 files) is absent on this machine';

for (const file of ['mobilenet_v2_1.0_224_quant.tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite']) {
  test(`convert + imagenet: ${file}`, { skip }, () => {
    const dir = mkdtempSync(join(tmpdir(), 'sialo-imagenet-'));
    try {
      const model = join(dir, 'm.sialo');
      const c = spawnSync('build/sialoscan', ['convert', '--from', 'tflite', join(SHARED, 'pretrained', file), model], { encoding: 'utf8' });
      assert.equal(c.status, 0, c.stderr);
      const info = JSON.parse(spawnSync('build/sialoscan', ['info', model], { encoding: 'utf8' }).stdout);
      assert.equal(info.arch, 'mobilenetv2');
      assert.equal(info.outputs, 1001);
      const photos = ['dog', 'eagle', 'giraffe'].map((p) => join(SHARED, 'samples/imagenet', `${p}.jpg`));
      for (const crop of ['0.875', '1']) {
        const r = spawnSync('build/sialoscan', ['imagenet', '--model', model, '--crop', crop, ...photos], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
        assert.match(r.stderr, /preprocessing: central (87\.5|100\.0)% crop, antialiased bilinear resize to 224x224/);
        const best = r.stdout.trim().split('\n').map((l) => JSON.parse(l).top5[0]);
        const top = best.map((t) => t.label.split(',')[0]);
        // dog: malamute with the standard crop; the whole photo makes it a close call between breeds
        if (crop === '0.875') assert.equal(top[0], 'malamute');
        else assert.ok(best[0].class >= 152 && best[0].class <= 269, `dog: ${top[0]} is not a dog breed`); // 1001-class indices
        assert.ok(['kite', 'bald eagle'].includes(top[1]), `eagle: ${top[1]}`); // a bird of prey; the crop decides which
        assert.equal(top[2], 'zebra');                                      // ImageNet has no giraffe
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

// the training panel's starting point (models/mobilenetv2-imagenet.sialo, shipped in web/dist/) is
// exactly this conversion, as docs/model.md says: run in the folder of the TFLite file, fp16
test('models/mobilenetv2-imagenet.sialo is the fp16 conversion of tf2_mobilenet_v2_1.0_224_ptq.tflite', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-backbone-'));
  try {
    const out = join(dir, 'b.sialo');
    const r = spawnSync(join(process.cwd(), 'build', 'sialoscan'), ['convert', '--from', 'tflite', 'tf2_mobilenet_v2_1.0_224_ptq.tflite', out,
      '--labels', 'imagenet_labels.txt', '--fp16'], { cwd: join(SHARED, 'pretrained'), encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.ok(readFileSync(out).equals(readFileSync('models/mobilenetv2-imagenet.sialo')), 'byte for byte');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
