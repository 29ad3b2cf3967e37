// The trainer of the JS API (createTrainer, wasm/sialoscan.mjs) against the CLI's (`sialoscan
// train`, the same C core built natively): the same folds and out-of-fold rows, the first
// epoch's training loss within 2%, a model the CLI reads and classifies with the p the WASM engine
// gives (1e-4); stopping through the signal and resuming gives the uninterrupted run's model bytes;
// another folder or other options are refused with a sentence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, statSync, rmSync } from 'node:fs';
import { join, relative } from 'node:path';
import { testImage } from './lib/png.mjs';
import { CLI, WASM_MJS, tmpDir } from './lib/harness.mjs';

const { createTrainer, createSialoscan } = await import(WASM_MJS.replace(/sialoscan(-single)?\.mjs$/, 'sialoscan.mjs'));

const SCHEDULE = 'all all 1e-3 2 2\n';
const RUN = { cv: 2, schedule: SCHEDULE, seed: 1, batch: 8 };

// DIR/benign/… and DIR/malignant/…: n frames each, half of them in patient sub-folders (groups)
function makeFolder(dir, n) {
  for (const [cls, base] of [['benign', 0], ['malignant', 100]]) {
    for (let i = 0; i < n; i++) {
      const sub = i < n / 2 ? join(cls, `p${base + Math.floor(i / 2)}`) : cls;
      mkdirSync(join(dir, sub), { recursive: true });
      writeFileSync(join(dir, sub, `${cls}-${i}.png`), testImage(base + i, 48, 40));
    }
  }
}
const walk = (dir) => readdirSync(dir).flatMap((f) => (statSync(join(dir, f)).isDirectory() ? walk(join(dir, f)) : [join(dir, f)]));

async function trainerOn(dir, extra = {}) {
  const t = await createTrainer({ arch: 'smallcnn', input: 32, threads: 1, masks: false, ...extra });
  for (const f of walk(dir).sort()) assert.equal(t.add(relative(dir, f), readFileSync(f)).status, 'taken', f);
  return t;
}

const dir = tmpDir('sialo-trainer-wasm-');
const data = join(dir, 'data');
makeFolder(data, 20);
writeFileSync(join(dir, 's.txt'), SCHEDULE);
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

// the CLI's run on the same folder, once: its epoch lines, its folds and out-of-fold predictions
const cliRun = spawnSync(CLI, ['train', '--data', data, '--arch', 'smallcnn', '--input', '32', '--schedule', join(dir, 's.txt'), '--cv', '2',
  '--batch', '8', '--seed', '1', '--threads', '1', '--predictions', join(dir, 'cli-oof.csv'), '--out', join(dir, 'cli.sialo')], { encoding: 'utf8' });

let uninterrupted = null; // the JS run's result, shared by the tests below

test('createTrainer: files taken, ignored and refused with the engine\'s sentence; the summary', async () => {
  const t = await trainerOn(data);
  try {
    assert.deepEqual(t.add('README.txt', new TextEncoder().encode('notes')), { status: 'ignored' });
    const png = readFileSync(walk(data)[0]);
    const r = t.add('malignant/cut.png', png.subarray(0, 60));
    assert.equal(r.status, 'refused');
    assert.match(r.reason, /\S{4,}.*\S{4,}/, 'a sentence');
    const s = t.summary();
    assert.equal(s.frames, 40);
    assert.equal(s.benign, 20);
    assert.equal(s.malignant, 20);
    assert.equal(s.groups, 10 + 10 + 5 + 5, 'one group per patient sub-folder, one per loose frame');
    assert.equal(s.problem, null);
    assert.deepEqual(s.refused.map((x) => x.path), ['malignant/cut.png']);
    assert.throws(() => t.add(42, png), /path/);
  } finally {
    t.dispose();
  }
});

test('the JS trainer reproduces the CLI: folds, out-of-fold rows, first-epoch loss, a model the CLI reads', async () => {
  assert.equal(cliRun.status, 0, cliRun.stderr);
  const t = await trainerOn(data);
  const epochs = [], checkpoints = [], foldModels = [], starts = [];
  try {
    const r = await t.run({ ...RUN,
      onProgress: (p) => { if (p.kind === 'epoch') epochs.push(p); if (p.kind === 'start') starts.push(p.fold); },
      onCheckpoint: (b) => checkpoints.push(b.length),
      onFold: ({ fold, model }) => foldModels.push([fold, model?.length ?? 0]) });
    uninterrupted = r;
    assert.equal(r.stopped, false);
    assert.deepEqual(r.folds.map((f) => f.fold), [1, 2]);
    assert.deepEqual(starts, [1, 2, 0], 'each run announced once: fold 1, fold 2, the final model');
    assert.ok(foldModels.every(([, n]) => n > 1000), 'each fold hands over its model');
    assert.equal(r.oof.length, 40);
    assert.equal(r.cv.cv, 2);
    assert.ok(r.calibration && Number.isFinite(r.calibration.a), 'the final model is calibrated on the pooled out-of-fold p');
    assert.ok(checkpoints.length >= 6 && checkpoints.every((n) => n > 0), `a checkpoint after every epoch (${checkpoints.length})`);
    assert.ok(epochs.every((p) => p.loss > 0 && p.etaS >= 0 && p.done > 0 && p.done <= 1 && p.stageName === 'all'));
    assert.ok(r.log.some((l) => /^data: 40 images/.test(l)) && r.log.filter((l) => /^data:/.test(l)).length === 1, 'the data line once');

    // the same folds as the CLI: every frame in the same fold, the same label
    const cliOof = readFileSync(join(dir, 'cli-oof.csv'), 'utf8').trim().split('\n').slice(1).map((l) => l.split(','));
    assert.deepEqual(r.oof.map((o) => [o.path, o.label === 'malignant' ? '1' : '0', String(o.fold)]), cliOof.map((c) => c.slice(0, 3)));
    assert.equal(r.oofCsv.trim().split('\n').length, 41);
    // the AUC's 95% confidence interval (the paper's table): the engine's DeLong interval against
    // one computed here from the out-of-fold predictions, per fold and pooled
    const delong = (rows) => {
      const pos = rows.filter((o) => o.label === 'malignant').map((o) => o.p), neg = rows.filter((o) => o.label !== 'malignant').map((o) => o.p);
      const psi = (a, b) => (a > b ? 1 : a === b ? 0.5 : 0);
      const v10 = pos.map((x) => neg.reduce((s, y) => s + psi(x, y), 0) / neg.length);
      const v01 = neg.map((y) => pos.reduce((s, x) => s + psi(x, y), 0) / pos.length);
      const auc = v10.reduce((s, v) => s + v, 0) / pos.length;
      const vr = (v) => v.reduce((s, x) => s + (x - auc) ** 2, 0) / (v.length - 1);
      const se = Math.sqrt(vr(v10) / pos.length + vr(v01) / neg.length);
      return [Math.max(0, auc - 1.959964 * se), Math.min(1, auc + 1.959964 * se)];
    };
    const near = (got, want, what) => assert.ok(Array.isArray(got) && Math.abs(got[0] - want[0]) <= 2e-3 && Math.abs(got[1] - want[1]) <= 2e-3,
      `${what}: engine ${JSON.stringify(got)}, here ${want.map((v) => v.toFixed(4))}`);
    near(r.cv.pooled_at_youden.auc_ci95, delong(r.oof), 'pooled AUC CI');
    for (const f of r.folds) near(f.auc_ci95, delong(r.oof.filter((o) => o.fold === f.fold)), `fold ${f.fold} AUC CI`);
    // the first epoch's mean training loss (fold 1): native and WebAssembly kernels round differently
    const m = /\[fold 1\/2\] stage 1\/1 .* epoch  1\/2  loss ([\d.]+)/.exec(cliRun.stderr);
    assert.ok(m, cliRun.stderr);
    const rel = Math.abs(epochs[0].loss - Number(m[1])) / Number(m[1]);
    assert.ok(rel <= 0.02, `first epoch loss: WASM ${epochs[0].loss.toFixed(4)}, CLI ${m[1]} (${(100 * rel).toFixed(2)}%)`);

    // the model: the JS engine and the CLI read it and give the same p
    writeFileSync(join(dir, 'js.sialo'), r.model);
    const frame = walk(data).sort()[3];
    const cli = spawnSync(CLI, ['classify', '--model', join(dir, 'js.sialo'), frame], { encoding: 'utf8' });
    assert.equal(cli.status, 0, cli.stderr);
    const pCli = JSON.parse(cli.stdout.trim().split('\n')[0]).p_malignant;
    const s = await createSialoscan({ model: r.model });
    const pJs = (await s.classify(readFileSync(frame))).pMalignant;
    s.dispose();
    assert.ok(Math.abs(pCli - pJs) <= 1e-4, `p: CLI ${pCli}, WASM ${pJs}`);
  } finally {
    t.dispose();
  }
});

test('stopped through the signal (from a callback, from a timer), resumed: the uninterrupted model', async () => {
  assert.ok(uninterrupted, 'the previous test ran');
  const t = await trainerOn(data);
  try {
    // aborted from a callback, at the third checkpoint
    const ac = new AbortController();
    let n = 0;
    const a = await t.run({ ...RUN, signal: ac.signal, onCheckpoint: () => { if (++n === 3) ac.abort(); } });
    assert.equal(a.stopped, true);
    assert.ok(a.checkpoint instanceof Uint8Array && a.checkpoint.length > 0);
    const b = await t.resume(a.checkpoint, RUN);
    assert.equal(b.stopped, false);
    assert.deepEqual(Buffer.from(b.model), Buffer.from(uninterrupted.model), 'resumed: the same model bytes');
    assert.deepEqual(b.oof, uninterrupted.oof);
    assert.deepEqual(b.folds, uninterrupted.folds);

    // aborted by a timer: seen when the run yields after an epoch
    const ac2 = new AbortController();
    setTimeout(() => ac2.abort(), 0);
    const c = await t.run({ ...RUN, signal: ac2.signal });
    assert.equal(c.stopped, true);
    assert.ok(c.checkpoint, 'stopped at an epoch\'s end, with its checkpoint');
    // without yielding: one synchronous run, the same model
    const d = await t.run({ ...RUN, yieldEvery: 'never' });
    assert.deepEqual(Buffer.from(d.model), Buffer.from(uninterrupted.model), 'yielding after every epoch does not change the model');

    // refusals: other options, another folder, a damaged checkpoint
    await assert.rejects(t.resume(a.checkpoint, { ...RUN, seed: 2 }), /other training options: seed=1 \(now seed=2\)/);
    const bad = a.checkpoint.slice();
    bad[bad.length >> 1] ^= 1;
    await assert.rejects(t.resume(bad, RUN), /damaged/);
    const other = join(dir, 'other');
    makeFolder(other, 20);
    writeFileSync(walk(other).sort()[0], testImage(999, 48, 40));
    const t2 = await trainerOn(other);
    try {
      await assert.rejects(t2.resume(a.checkpoint, RUN), /another folder: .* has changed/);
    } finally {
      t2.dispose();
    }
    await assert.rejects(t.run({ ...RUN, cv: 1 }), /cv/);
  } finally {
    t.dispose();
  }
});

test('a folder the trainer cannot use is refused before training', async () => {
  const t = await createTrainer({ arch: 'smallcnn', input: 32 });
  try {
    for (let i = 0; i < 12; i++) t.add(`benign/b${i}.png`, testImage(i, 48, 40));
    assert.match(t.summary().problem, /only benign frames/);
    await assert.rejects(t.run(RUN), /only benign frames/);
  } finally {
    t.dispose();
  }
  // masks are kept by default, used only when a run asks for guided attention
  const t2 = await createTrainer({ arch: 'smallcnn', input: 32 });
  try {
    for (let i = 0; i < 12; i++) { t2.add(`benign/b${i}.png`, testImage(i, 48, 40)); t2.add(`malignant/m${i}.png`, testImage(50 + i, 48, 40)); }
    assert.equal(t2.summary().problem, null, 'a folder without masks trains');
    await assert.rejects(t2.run({ ...RUN, masks: true }), /no lesion masks found/);
  } finally {
    t2.dispose();
  }
  await assert.rejects(createTrainer({ backbone: new Uint8Array(100) }), /the backbone backbone: /);
  await assert.rejects(createTrainer({}), /backbone|arch/);
});

test('the pthreads build trains too (2 threads) and ends its threads', async () => {
  const t = await trainerOn(data, { threads: 2 });
  try {
    const r = await t.run({ ...RUN, cv: 0 });
    assert.equal(r.stopped, false);
    assert.ok(r.model.length > 1000);
    assert.equal(r.oof.length, 0);
    const s = await createSialoscan({ model: r.model });
    s.dispose();
  } finally {
    t.dispose();
  }
});
