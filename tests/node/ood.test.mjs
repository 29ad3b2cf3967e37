// ood.test.mjs — the out-of-distribution check through the JavaScript API (wasm/sialoscan.mjs) against
// the native CLI (`sialoscan classify`): the same { checked, score, flag, threshold } for the shipped
// model (score within 1e-4, relative to max(1, score)) on a natural photograph (flagged), a BUSI frame
// and a synthetic speckle frame; a model file without the statistics (`sialoscan init`, version 2)
// gives { checked: false, score: null, flag: null } in both, never "in distribution"; the warning
// sentence is the engine's. The photograph and the BUSI frame come from ../shared (skipped when absent).
// Run: node --test tests/node/ood.test.mjs   (needs make native wasm)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { makePng } from './lib/png.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const SHARED = path.join(ROOT, '..', 'shared');
const WARNING = 'This does not look like the ultrasound frames the model was trained on \u2014 the probability is not meaningful';

function cli(args) {
  const r = spawnSync(CLI, args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  assert.equal(r.status, 0, `sialoscan ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return r.stdout.trim().split('\n').map((l) => JSON.parse(l));
}

// a grey speckle frame (not BUSI, but grey and textured)
function speckle(w, h, seed) {
  let s = seed >>> 0;
  return makePng(w, h, (x) => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    const v = (30 + (s >>> 24) * (x / w)) | 0;
    return [v, v, v];
  });
}

describe('out-of-distribution check: WASM equals the CLI', () => {
  let tmp, s;
  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-ood-'));
    s = await createSialoscan({ model: fs.readFileSync(MODEL), threads: 1 });
  });
  after(() => { s?.dispose(); fs.rmSync(tmp, { recursive: true, force: true }); });

  it('the shipped model carries the statistics (info().ood)', () => {
    const info = s.info();
    assert.equal(info.ood.checked, true);
    assert.ok(info.ood.threshold > 0 && info.ood.frames > 100 && info.ood.features === 1280, JSON.stringify(info.ood));
    const cliInfo = JSON.parse(spawnSync(CLI, ['info', MODEL], { encoding: 'utf8' }).stdout);
    assert.deepEqual(cliInfo.ood, info.ood);
  });

  const files = [];
  const photo = path.join(SHARED, 'samples', 'imagenet', 'dog.jpg');
  const busi = path.join(SHARED, 'data', 'busi', 'benign', 'benign-001.png');
  it('the same score and flag as the CLI, the photograph flagged', async (t) => {
    const sp = path.join(tmp, 'speckle.png');
    fs.writeFileSync(sp, speckle(300, 240, 7));
    files.push(sp);
    if (fs.existsSync(photo)) files.push(photo); else t.diagnostic(`${photo} absent: the photograph is skipped`);
    if (fs.existsSync(busi)) files.push(busi); else t.diagnostic(`${busi} absent: the BUSI frame is skipped`);
    const want = cli(['classify', '--model', MODEL, ...files]);
    for (let i = 0; i < files.length; i++) {
      const r = await s.classify(fs.readFileSync(files[i]));
      const c = want[i].ood;
      assert.equal(r.ood.checked, true, files[i]);
      assert.equal(c.checked, true, files[i]);
      assert.ok(Math.abs(r.ood.score - c.score) <= 1e-4 * Math.max(1, Math.abs(c.score)), `${files[i]}: WASM ${r.ood.score}, CLI ${c.score}`);
      assert.equal(r.ood.flag, c.flag, files[i]);
      assert.ok(Math.abs(r.ood.threshold - c.threshold) <= 1e-6 * c.threshold, files[i]);
      if (r.ood.flag) { assert.equal(r.ood.warning, WARNING); assert.equal(c.warning, WARNING); }
      else { assert.equal(r.ood.warning, undefined); assert.equal(c.warning, undefined); }
      if (files[i] === photo) assert.equal(r.ood.flag, true, `the photograph is not flagged (score ${r.ood.score})`);
      if (files[i] === busi) assert.equal(r.ood.flag, false, `a training frame is flagged (score ${r.ood.score})`);
    }
    // with Grad-CAM: the same check from the same forward pass
    const rc = await s.classify(fs.readFileSync(files[0]), { cam: true });
    assert.ok(Math.abs(rc.ood.score - want[0].ood.score) <= 1e-4 * Math.max(1, want[0].ood.score));
  });

  it('a model file without the statistics: not checked, in both', async () => {
    const old = path.join(tmp, 'old.sialo');
    spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '64', old], { encoding: 'utf8' });
    const img = path.join(tmp, 'speckle.png');
    const [c] = cli(['classify', '--model', old, img]);
    assert.deepEqual(c.ood, { checked: false, score: null, flag: null });
    const o = await createSialoscan({ model: fs.readFileSync(old), threads: 1 });
    try {
      assert.equal(o.info().ood.checked, false);
      const r = await o.classify(fs.readFileSync(img));
      assert.deepEqual(r.ood, { checked: false, score: null, flag: null });
    } finally { o.dispose(); }
  });
});
