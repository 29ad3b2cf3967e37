// cli.test.mjs — the `sialoscan` command line (build/sialoscan): info, classify, eval, and its
// error paths (non-zero exit, a message on stderr, never a crash). A few error paths also run
// through the ASan + UBSan build (build/sialoscan-asan) when it exists.
//
// Inputs are made here: a model by `sialoscan init`, PNGs by a tiny encoder (node:zlib), and the
// JPEG / GIF fixtures of tests/fixtures. Run: node --test tests/node/cli.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const CLI_ASAN = path.join(ROOT, 'build', 'sialoscan-asan');
const FIXTURES = path.join(ROOT, 'tests', 'fixtures');
const SHIPPED_MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');

import { crc32, makePng, testImage } from './lib/png.mjs';

// ---------------------------------------------------------------- running the CLI
function run(args, { exe = CLI, env = {}, timeout = 120000 } = {}) {
  const fullEnv = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', ...env };
  for (const [k, v] of Object.entries(fullEnv)) if (v === undefined) delete fullEnv[k];
  const r = spawnSync(exe, args, { encoding: 'utf8', timeout, env: fullEnv, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;

/** non-zero exit, a sialoscan message on stderr, no crash / sanitizer report */
function assertCleanFailure(r, pattern, what) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}\n${show(r)}`);
  assert.notEqual(r.status, 0, `${what}: exit status 0\n${show(r)}`);
  assert.ok(r.status === 1 || r.status === 2, `${what}: exit status ${r.status} (1 or 2 expected)\n${show(r)}`);
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:|Segmentation|core dumped/, `${what}: crash\n${show(r)}`);
  assert.match(r.stderr, /sialoscan: /, `${what}: no message on stderr\n${show(r)}`);
  if (pattern) assert.match(r.stderr, pattern, `${what}: unexpected message\n${show(r)}`);
}
function assertNoSanitizerReport(r, what) {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}\n${show(r)}`);
  assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/, `${what}: sanitizer report\n${show(r)}`);
}

// cli.c cmd_eval returns after a failed open_model() without freeing the two file lists
// (list_dir); shown as a diagnostic, not a failure, until fixed.
const KNOWN_LEAKS = new Set(['eval with a missing model']);

const lastJsonLine = (text) => JSON.parse(text.trim().split('\n').at(-1));

// ---------------------------------------------------------------- the tests
describe('sialoscan CLI', () => {
  let dir, model, images, garbage;

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make native first`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-cli-'));
    model = path.join(dir, 'model.sialo');
    const r = run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', model]);
    assert.equal(r.status, 0, `init failed\n${show(r)}`);
    images = [1, 2, 3, 4].map((i) => {
      const p = path.join(dir, `img${i}.png`);
      fs.writeFileSync(p, testImage(i));
      return p;
    });
    garbage = path.join(dir, 'garbage.png');
    fs.writeFileSync(garbage, Buffer.from('this is not a PNG at all, only text pretending to be one\n'.repeat(20)));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('init writes a model file with the SIALOSCN header', () => {
    const b = fs.readFileSync(model);
    assert.equal(b.subarray(0, 8).toString('latin1'), 'SIALOSCN');
    assert.equal(b.readUInt32LE(8), 2); // format version 2 (calibration); version 1 is still read
    assert.equal(b.readUInt32LE(12), 32);
    assert.equal(Number(b.readBigUInt64LE(16)), b.length - 32);
    // the same seed gives the same file
    const again = path.join(dir, 'again.sialo');
    assert.equal(run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', again]).status, 0);
    assert.ok(fs.readFileSync(again).equals(b), 'init is not deterministic');
    const fp16 = path.join(dir, 'fp16.sialo');
    assert.equal(run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', '--fp16', fp16]).status, 0);
    assert.ok(fs.statSync(fp16).size < b.length * 0.6, 'the fp16 file is not about half the size');
  });

  it('info prints one JSON object describing the model', () => {
    const r = run(['info', model]);
    assert.equal(r.status, 0, show(r));
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 1, `expected one line:\n${r.stdout}`);
    const j = JSON.parse(lines[0]);
    assert.equal(j.arch, 'smallcnn');
    assert.deepEqual([j.input.height, j.input.width, j.input.channels], [64, 64, 3]);
    assert.equal(j.parameters, 390113);
    assert.equal(j.threshold, 0.5);
    assert.match(j.provenance, /seed 3/);
    assert.match(j.checksum, /^[0-9a-f]{8}$/);
    // the checksum is the stored CRC-32 of the payload
    const b = fs.readFileSync(model);
    assert.equal(j.checksum, b.readUInt32LE(24).toString(16).padStart(8, '0'));
    assert.equal(j.checksum, crc32(b.subarray(32)).toString(16).padStart(8, '0'));
    assert.deepEqual(j.classes, ['benign', 'malignant']);
    assert.equal(j.positive_class, 'malignant');
    assert.equal(j.storage, 'fp32');
    assert.equal(r.stderr, '');
    // --model M works too, and gives the same
    const r2 = run(['info', '--model', model]);
    assert.equal(r2.status, 0, show(r2));
    assert.deepEqual(JSON.parse(r2.stdout), j);
  });

  it('classify prints one JSON line per image, in order', () => {
    const files = [images[0], images[1], path.join(FIXTURES, 'baseline.jpg'), path.join(FIXTURES, 'two-frames.gif'),
      path.join(FIXTURES, 'progressive.jpg')];
    const r = run(['classify', '--model', model, ...files]);
    assert.equal(r.status, 0, show(r));
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, files.length);
    lines.forEach((j, i) => {
      assert.equal(j.file, files[i]);
      assert.equal(typeof j.p_malignant, 'number');
      assert.ok(j.p_malignant >= 0 && j.p_malignant <= 1, `p ${j.p_malignant}`);
      assert.equal(j.threshold, 0.5);
      assert.equal(j.label, j.p_malignant >= j.threshold ? 'malignant' : 'benign');
      assert.equal(typeof j.ms, 'number');
      assert.ok(j.ms >= 0);
      assert.deepEqual(Object.keys(j).sort(), ['file', 'label', 'ms', 'ood', 'p_malignant', 'threshold']);
      // a model made by init carries no feature statistics: the check is said not to have run
      assert.deepEqual(j.ood, { checked: false, score: null, flag: null });
    });
    // different images give different probabilities; the same image the same one
    assert.notEqual(lines[0].p_malignant, lines[1].p_malignant);
    const again = run(['classify', '--model', model, files[1], files[0]]);
    const a = again.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(a[0].p_malignant, lines[1].p_malignant);
    assert.equal(a[1].p_malignant, lines[0].p_malignant);
    // every backend agrees to the printed precision
    for (const backend of ['ref', 'xnnpack']) {
      const rb = run(['classify', '--model', model, '--backend', backend, '--threads', '1', files[0]]);
      assert.equal(rb.status, 0, show(rb));
      assert.ok(Math.abs(JSON.parse(rb.stdout).p_malignant - lines[0].p_malignant) <= 2e-6, `${backend} differs`);
    }
  });

  it('classify: an unreadable image is reported and does not stop the others', () => {
    const r = run(['classify', '--model', model, images[0], garbage, images[1]]);
    assert.equal(r.status, 1, show(r));
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 3);
    assert.equal(typeof lines[0].p_malignant, 'number');
    assert.equal(lines[1].file, garbage);
    assert.match(lines[1].error, /not a PNG, JPEG, BMP or GIF/);
    assert.equal(typeof lines[2].p_malignant, 'number');
    assert.match(r.stderr, new RegExp(`sialoscan: ${garbage.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the image`));
  });

  it('eval prints metrics as the last JSON line; a garbage file is skipped, not fatal', () => {
    const ev = path.join(dir, 'eval');
    fs.mkdirSync(path.join(ev, 'benign'), { recursive: true });
    fs.mkdirSync(path.join(ev, 'malignant'), { recursive: true });
    for (let i = 0; i < 4; i++) fs.writeFileSync(path.join(ev, 'benign', `b${i}.png`), testImage(100 + i));
    for (let i = 0; i < 3; i++) fs.writeFileSync(path.join(ev, 'malignant', `m${i}.png`), testImage(200 + i));
    fs.copyFileSync(garbage, path.join(ev, 'benign', 'x-broken.png'));
    fs.writeFileSync(path.join(ev, 'malignant', '.hidden.png'), 'ignored'); // dot files are skipped
    fs.mkdirSync(path.join(ev, 'malignant', 'subdir')); // so are folders
    const r = run(['eval', '--model', model, ev]);
    assert.equal(r.status, 0, show(r));
    const j = lastJsonLine(r.stdout);
    for (const k of ['n', 'accuracy', 'sensitivity', 'specificity', 'ppv', 'npv', 'auc', 'tp', 'fp', 'tn', 'fn', 'threshold'])
      assert.ok(k in j, `missing ${k} in ${JSON.stringify(j)}`);
    assert.equal(j.n, 7);
    assert.equal(j.unreadable, 1);
    assert.equal(j.threshold, 0.5);
    assert.equal(j.tp + j.fn, 3);
    assert.equal(j.tn + j.fp, 4);
    assert.ok(Math.abs(j.accuracy - (j.tp + j.tn) / j.n) < 1e-4, 'accuracy');
    assert.ok(Math.abs(j.sensitivity - j.tp / (j.tp + j.fn)) < 1e-4, 'sensitivity');
    assert.ok(Math.abs(j.specificity - j.tn / (j.tn + j.fp)) < 1e-4, 'specificity');
    if (j.tp + j.fp) assert.ok(Math.abs(j.ppv - j.tp / (j.tp + j.fp)) < 1e-4, 'ppv'); else assert.equal(j.ppv, null);
    if (j.tn + j.fn) assert.ok(Math.abs(j.npv - j.tn / (j.tn + j.fn)) < 1e-4, 'npv'); else assert.equal(j.npv, null);
    assert.ok(j.auc >= 0 && j.auc <= 1, `auc ${j.auc}`);
    assert.match(r.stderr, /skipped .*x-broken\.png: cannot read the image/);
    // the probabilities agree with classify: recompute the confusion matrix from classify's output
    const files = [...fs.readdirSync(path.join(ev, 'benign')).filter((f) => f.startsWith('b')).map((f) => [path.join(ev, 'benign', f), 0]),
      ...fs.readdirSync(path.join(ev, 'malignant')).filter((f) => f.startsWith('m')).map((f) => [path.join(ev, 'malignant', f), 1])];
    const c = run(['classify', '--model', model, ...files.map((f) => f[0])]);
    const ps = c.stdout.trim().split('\n').map((l) => JSON.parse(l).p_malignant);
    let tp = 0, fp = 0, tn = 0, fn = 0;
    ps.forEach((p, i) => {
      const pos = p >= 0.5, y = files[i][1];
      if (pos && y) tp++; else if (pos) fp++; else if (y) fn++; else tn++;
    });
    assert.deepEqual([j.tp, j.fp, j.tn, j.fn], [tp, fp, tn, fn]);
    // AUC from classify's probabilities (Mann-Whitney, ties 1/2)
    const P = ps.filter((_, i) => files[i][1]), N = ps.filter((_, i) => !files[i][1]);
    let wins = 0;
    for (const a of P) for (const b of N) wins += a > b ? 1 : a === b ? 0.5 : 0;
    assert.ok(Math.abs(j.auc - wins / (P.length * N.length)) < 2e-4, `auc ${j.auc} vs ${wins / (P.length * N.length)}`);
  });

  it('eval: a folder of only unreadable files still finishes', () => {
    const ev = path.join(dir, 'eval-bad');
    fs.mkdirSync(path.join(ev, 'benign'), { recursive: true });
    fs.mkdirSync(path.join(ev, 'malignant'), { recursive: true });
    fs.copyFileSync(garbage, path.join(ev, 'benign', 'x.png'));
    fs.copyFileSync(garbage, path.join(ev, 'malignant', 'y.png'));
    const r = run(['eval', '--model', model, ev]);
    assert.equal(r.signal, null, show(r));
    const j = lastJsonLine(r.stdout);
    assert.equal(j.n, 0);
    assert.equal(j.unreadable, 2);
  });

  describe('errors: non-zero exit, a message, no crash', () => {
    const cases = () => {
      const corrupt = path.join(dir, 'corrupt.sialo');
      const b = Buffer.from(fs.readFileSync(model));
      b[1000] ^= 0x40;
      fs.writeFileSync(corrupt, b);
      const truncated = path.join(dir, 'truncated.sialo');
      fs.writeFileSync(truncated, fs.readFileSync(model).subarray(0, 5000));
      const empty = path.join(dir, 'empty.sialo');
      fs.writeFileSync(empty, '');
      const notModel = path.join(dir, 'not-a-model.sialo');
      fs.writeFileSync(notModel, makePng(40, 40, () => [1, 2, 3]));
      fs.mkdirSync(path.join(dir, 'no-images', 'sub'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'no-images', 'sub', 'README.txt'), 'a scanner export with no frames\n');
      return [
        ['missing model file', ['classify', '--model', path.join(dir, 'nope.sialo'), images[0]], /cannot open model/],
        ['corrupt model (one flipped bit)', ['classify', '--model', corrupt, images[0]], /checksum/],
        ['truncated model', ['info', truncated], /truncated/],
        ['empty model', ['info', empty], /empty/],
        ['a PNG as the model', ['info', notModel], /magic/],
        ['a folder as the model', ['info', dir], /model|read/],
        ['garbage image', ['classify', '--model', model, garbage], /cannot read the image/],
        ['missing image', ['classify', '--model', model, path.join(dir, 'nope.png')], /cannot open/],
        ['a folder with no image in it', ['classify', '--model', model, path.join(dir, 'no-images')], /no image found in this folder/],
        ['too small image', ['classify', '--model', model, 'IMG40'], /at least 32x32/],
        ['eval without subfolders', ['eval', '--model', model, path.join(dir, 'nowhere')], /benign\/ and malignant\//],
        ['eval with a missing model', ['eval', '--model', path.join(dir, 'nope.sialo'), path.join(dir, 'eval')], /cannot open model/],
        ['forward with a wrong-size input', ['forward', '--model', model, '--input', images[0]], /float32/],
        ['unknown command', ['frobnicate'], /unknown command/],
        ['unknown option', ['classify', '--modle', model, images[0]], /unknown option/],
        ['option without its value', ['classify', images[0], '--model'], /needs a value/],
        ['unknown backend', ['classify', '--backend', 'gpu', '--model', model, images[0]], /unknown backend/],
        ['init with an unknown arch', ['init', '--arch', 'vgg16', path.join(dir, 'x.sialo')], /unknown architecture/],
        ['init with a tiny input', ['init', '--arch', 'smallcnn', '--input', '8', path.join(dir, 'x.sialo')], /outside/],
        ['init into a missing folder', ['init', '--arch', 'smallcnn', '--input', '32', path.join(dir, 'no', 'dir', 'x.sialo')], /cannot write/],
      ];
    };
    const small = () => {
      const p = path.join(dir, 'small.png');
      fs.writeFileSync(p, makePng(40, 20, () => [9, 9, 9]));
      return p;
    };

    it('native CLI', () => {
      const smallPng = small();
      for (const [what, args0, pattern] of cases()) {
        const args = args0.map((a) => (a === 'IMG40' ? smallPng : a));
        assertCleanFailure(run(args), pattern, what);
      }
      // usage errors print the usage and exit 2
      for (const args of [[], ['info'], ['classify', '--model', model], ['eval', '--model', model], ['init', 'x.sialo']]) {
        const r = run(args);
        assert.equal(r.status, 2, `${args.join(' ')}: ${show(r)}`);
        assert.match(r.stderr, /usage:/);
      }
      assert.equal(run(['--version']).status, 0);
      assert.match(run(['--version']).stdout, /^sialoscan \d+\.\d+\.\d+/);
    });

    it('without --model and without a shipped model, says to pass --model', (t) => {
      if (fs.existsSync(SHIPPED_MODEL)) return t.skip(`${SHIPPED_MODEL} exists`);
      const r = run(['classify', images[0]], { env: { SIALOSCAN_MODEL: undefined } });
      assertCleanFailure(r, /pass --model/, 'no model');
    });

    it('SIALOSCAN_MODEL names the default model', () => {
      const r = run(['classify', images[0]], { env: { SIALOSCAN_MODEL: model } });
      assert.equal(r.status, 0, show(r));
      assert.equal(typeof JSON.parse(r.stdout).p_malignant, 'number');
      const bad = run(['classify', images[0]], { env: { SIALOSCAN_MODEL: path.join(dir, 'nope.sialo') } });
      assertCleanFailure(bad, /cannot open model/, 'SIALOSCAN_MODEL pointing nowhere');
    });

    it('ASan + UBSan build: the same error paths, and a normal run, report nothing', (t) => {
      if (!fs.existsSync(CLI_ASAN)) return t.skip(`${CLI_ASAN} not built (make build/sialoscan-asan)`);
      const smallPng = small();
      for (const [what, args0, pattern] of cases()) {
        const args = args0.map((a) => (a === 'IMG40' ? smallPng : a));
        let r = run(args, { exe: CLI_ASAN });
        if (KNOWN_LEAKS.has(what) && /LeakSanitizer/.test(r.stderr)) {
          // reported to the lead; the rest of the path is still checked with leak detection off
          t.diagnostic(`KNOWN ENGINE BUG (leak on an error path): ${what}: ${r.stderr.match(/in (cmd_\w+|list_dir)[^\n]*/)?.[0]}`);
          r = run(args, { exe: CLI_ASAN, env: { ASAN_OPTIONS: 'detect_leaks=0' } });
        }
        assertCleanFailure(r, pattern, `asan: ${what}`);
      }
      const ok = run(['classify', '--model', model, '--threads', '2', images[0], garbage, path.join(FIXTURES, 'two-frames.gif')], { exe: CLI_ASAN });
      assertNoSanitizerReport(ok, 'asan classify');
      assert.equal(ok.stdout.trim().split('\n').length, 3);
      const ev = run(['eval', '--model', model, path.join(dir, 'eval')], { exe: CLI_ASAN });
      assertNoSanitizerReport(ev, 'asan eval');
      assert.equal(ev.status, 0, show(ev));
      const info = run(['info', model], { exe: CLI_ASAN });
      assertNoSanitizerReport(info, 'asan info');
      assert.equal(info.status, 0);
    });
  });
});
