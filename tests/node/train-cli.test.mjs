// `sialoscan train` refuses bad requests with a clear message and a non-zero status, before any
// long work starts; --cv and --resume work end to end on a tiny synthetic folder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testImage, makePng } from './lib/png.mjs';

// DIR/benign/benign-<i>.png and DIR/malignant/malignant-<i>.png, n of each (48x40 test pictures)
function makeFrames(dir, n) {
  for (const [cls, base] of [['benign', 0], ['malignant', 100]]) {
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `${cls}-${i}.png`), testImage(base + i, 48, 40));
  }
}

const run = (args) => spawnSync('build/sialoscan', ['train', ...args], { encoding: 'utf8' });

test('train: bad requests are refused with a reason', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-train-'));
  try {
    let r = run([]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /usage: sialoscan train/);
    r = run(['--data', join(dir, 'nope'), '--arch', 'smallcnn', '--out', join(dir, 'm.sialo')]);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /has no benign\/ folder/);
    r = run(['--data', dir, '--method', 'sideways', '--cv', '2']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /unknown method 'sideways'/);
    writeFileSync(join(dir, 'bad.txt'), 'head head 7 3 1\n');
    r = run(['--data', dir, '--schedule', join(dir, 'bad.txt'), '--cv', '2']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /learning rate must be in \(0,1\)/);
    r = run(['--data', dir, '--cv', '1']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--cv must be 2..32/);
    r = run(['--data', dir, '--backbone', join(dir, 'missing.sialo'), '--cv', '2']);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot open model/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --cv with checkpoints, then --resume skips the finished folds', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-train-'));
  try {
    makeFrames(join(dir, 'data'), 8);
    writeFileSync(join(dir, 's.txt'), 'all all 1e-3 2 2\n');
    const args = ['--data', join(dir, 'data'), '--arch', 'smallcnn', '--input', '32', '--schedule', join(dir, 's.txt'), '--cv', '2',
      '--batch', '4', '--checkpoint', join(dir, 'ck'), '--predictions', join(dir, 'oof.csv')];
    const a = run(args);
    assert.equal(a.status, 0, a.stderr);
    const lines = a.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.deepEqual(lines.slice(0, 2).map((l) => l.fold), [1, 2]);
    assert.equal(lines[2].cv, 2);
    for (const k of ['accuracy_mean', 'auc_mean', 'sensitivity_mean', 'specificity_mean', 'ppv_mean', 'npv_mean', 'youden_threshold']) assert.ok(k in lines[2], k);
    assert.match(a.stderr, /stage 1\/1 all .* epoch  1\/2 .* img\/s/);
    assert.match(a.stderr, /total time .* peak memory/);
    assert.ok(existsSync(join(dir, 'ck', 'fold1.model.sialo')));
    assert.equal(readFileSync(join(dir, 'oof.csv'), 'utf8').trim().split('\n').length, 17);
    const b = run([...args, '--resume']);
    assert.equal(b.status, 0, b.stderr);
    assert.doesNotMatch(b.stderr, /epoch/, 'finished folds are not trained again');
    assert.equal(b.stdout, a.stdout, 'the same figures');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train --masks: guided attention on the frames that have lesion masks; refused without any', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sialo-train-'));
  try {
    makeFrames(join(dir, 'data'), 6);
    writeFileSync(join(dir, 's.txt'), 'all all 1e-3 1 1\n');
    const args = ['--data', join(dir, 'data'), '--arch', 'smallcnn', '--input', '32', '--schedule', join(dir, 's.txt'), '--batch', '4',
      '--out', join(dir, 'm.sialo'), '--masks'];
    let r = run(args);
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /--masks: no lesion masks found/);
    // masks for the malignant frames only (one of them in two parts), a stray file that is no mask
    mkdirSync(join(dir, 'data', 'masks', 'malignant'), { recursive: true });
    const mask = (x0, x1) => makePng(48, 40, (x, y) => (x >= x0 && x < x1 && y >= 10 && y < 30 ? [255, 255, 255] : [0, 0, 0]));
    for (let i = 0; i < 6; i++) writeFileSync(join(dir, 'data', 'masks', 'malignant', `malignant-${i}-mask.png`), mask(10, 24));
    writeFileSync(join(dir, 'data', 'masks', 'malignant', 'malignant-0-mask-1.png'), mask(30, 40));
    writeFileSync(join(dir, 'data', 'masks', 'malignant', 'malignant-0-maskX.png'), mask(0, 48));
    r = run([...args, '--attention-weight', '0.5']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /guided attention: 6 of 12 frames have lesion masks \(weight 0\.5\)/);
    assert.match(r.stderr, /epoch  1\/1 .* outside 0\.\d{3} /);
    const info = spawnSync('build/sialoscan', ['info', join(dir, 'm.sialo')], { encoding: 'utf8' });
    assert.match(info.stdout, /guided attention on lesion masks/);
    r = run([...args, '--attention-weight', '-1']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /--attention-weight must be in \[0, 100\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
