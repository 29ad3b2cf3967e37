// dicom-codecs.test.mjs — the compressed DICOM syntaxes (JPEG 2000, HTJ2K, JPEG-LS, JPEG Lossless,
// JPEG Extended 12-bit) in the CLI (native) and the WASM API, against independent encoders and
// decoders (tests/tools/make_dicom_codecs.py: dcmtk's dcmcjpls / dcmcjpeg, OpenJPEG's opj_compress,
// Pillow, OpenJPH's ojph_compress; references: the source pixels for lossless syntaxes, dcmtk's,
// opj_decompress' or ojph_expand's decode for lossy ones):
//   - every frame: exactly the reference pixels (lossless), within 2 levels (lossy), natively;
//     16-bit colour (16 and 12 bits stored; JPEG-LS, JPEG Lossless, RLE, J2K, HTJ2K): the source's pixels
//     (which dcmtk's, opj_decompress' or ojph_expand's decode gives back) scaled to 8 bits as uncompressed
//     16-bit colour is, v * 255 / (2^bits stored - 1) rounded;
//   - WASM: exactly the CLI's pixels, every frame (the same library sources, compiled by emcc);
//   - classify: the probability of the same pixels given as PNG (1e-4 lossless, 1e-3 lossy),
//     in the CLI and in WASM;
//   - hostile files (sizes that do not match the codestream, truncated tiles and scans, a
//     65535 x 65535 J2K header, 7680 tiles, a bad JPEG-LS preset): refused with their sentence, by
//     the CLI in 1 GB of address space and 20 s of CPU, by the ASan build, and by WASM;
//   - the codec versions in `sialoscan --version` and info().engine.codecs.
// Run: node --test tests/node/dicom-codecs.test.mjs (after make)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { findPython } from './lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const ASAN = path.join(ROOT, 'build', 'sialoscan-asan');
const MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const GEN = path.join(ROOT, 'tests', 'tools', 'make_dicom_codecs.py');
const CMP = path.join(ROOT, 'tests', 'tools', 'make_dicom.py');
const SYNTAXES = ['1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.70', '1.2.840.10008.1.2.4.80',
  '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.91', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.203'];

function run(args, { exe = CLI } = {}) {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const jsonLines = (s) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
/** an RGBA image as a binary PPM (PIL reads it for the comparison) */
const writePpm = (file, { width, height, rgba }) => {
  const rgb = Buffer.alloc(width * height * 3);
  for (let i = 0; i < width * height; i++) { rgb[3 * i] = rgba[4 * i]; rgb[3 * i + 1] = rgba[4 * i + 1]; rgb[3 * i + 2] = rgba[4 * i + 2]; }
  fs.writeFileSync(file, Buffer.concat([Buffer.from(`P6\n${width} ${height}\n255\n`), rgb]));
};

describe('DICOM compressed syntaxes', () => {
  let dir, cases, skipped, py, good, hostile, small;
  const compare = (pairs) => JSON.parse(execFileSync(py, [CMP, 'compare', '-'], { input: JSON.stringify(pairs.map((p) => p.slice(0, 2))), encoding: 'utf8' }));

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make native`);
    py = findPython(['pydicom', 'numpy', 'PIL']);
    assert.ok(py, 'python3 with pydicom, numpy and PIL is missing: run make setup');
    for (const tool of ['dcmcjpls', 'dcmdjpls', 'dcmcjpeg', 'dcmdjpeg', 'opj_compress', 'opj_decompress', 'ojph_compress', 'ojph_expand']) {
      assert.equal(spawnSync(tool, ['-h']).error, undefined, `${tool} is missing: run make setup (dcmtk, libopenjp2-tools, openjph-tools)`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-codecs-'));
    execFileSync(py, [GEN, path.join(dir, 'gen')], { stdio: ['ignore', 'ignore', 'pipe'] });
    ({ cases, skipped } = JSON.parse(fs.readFileSync(path.join(dir, 'gen', 'cases.json'), 'utf8')));
    small = path.join(dir, 'small.sialo'); // a small network: these tests are about pixels, not the model
    assert.equal(run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', small]).status, 0);
    good = cases.filter((c) => !c.refuse);
    hostile = cases.filter((c) => c.refuse);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every frame decodes to the reference pixels natively (exact lossless, within 2 levels lossy)', () => {
    const pairs = [];
    for (const c of good) {
      c.refs.forEach((ref, k) => {
        const out = path.join(dir, `${c.name}-f${k}.png`);
        const r = run(['frame', '--frame', String(k), c.file, out]);
        assert.equal(r.status, 0, `${c.name} frame ${k}\n${show(r)}`);
        pairs.push([out, ref, c, k]);
      });
    }
    const d = compare(pairs);
    let worst = 0;
    d.forEach((x, i) => {
      const [, , c, k] = pairs[i];
      assert.ok(typeof x === 'number' && x <= c.tol, `${c.name} frame ${k}: max pixel difference ${x} (at most ${c.tol})`);
      if (!c.exact) worst = Math.max(worst, x);
    });
    console.log(`# ${pairs.length} frames of ${good.length} files; lossy: largest difference from the independent decoder ${worst}`);
    const covered = new Set(good.map((c) => c.syntax));
    for (const s of SYNTAXES) assert.ok(covered.has(s), `no file of ${s}`);
    for (const kind of ['grey 8', 'colour', 'grey 16', 'multi-frame']) {
      for (const fam of ['jls', 'jpeg-sv1', 'j2k', 'htj2k']) {
        const re = { 'grey 8': /-g8$/, colour: /-c8$|-mc$/, 'grey 16': /-g16$/, 'multi-frame': /-m[gc]$/ }[kind];
        assert.ok(good.some((c) => c.name.startsWith(fam + '-') && re.test(c.name)), `${fam}: no ${kind} file`);
      }
    }
  });

  it('16-bit colour (16 and 12 bits stored): a lossless file of each family (its pixels are checked above)', (t) => {
    if (skipped.length) return t.skip(`encoders absent: ${skipped.join('; ')}`);
    for (const fam of ['jls', 'jpeg-sv1', 'jpeg-p14', 'rle', 'j2k-rct', 'j2k-rgb', 'htj2k-rct']) {
      for (const bits of [16, 12]) {
        const c = good.find((x) => x.name === `${fam}-c${bits}`);
        assert.ok(c && c.exact && c.frames === 1, `${fam}: no 16-bit colour file of ${bits} bits stored`);
      }
    }
  });

  it('classify: the probability of the same pixels as PNG (1e-4 lossless, 1e-3 lossy)', () => {
    const refs = good.flatMap((c) => c.refs);
    const r1 = run(['classify', '--model', MODEL, ...refs]);
    assert.equal(r1.status, 0, show(r1));
    const pRef = new Map(jsonLines(r1.stdout).map((l) => [l.file, l.p_malignant]));
    const r2 = run(['classify', '--model', MODEL, ...good.map((c) => c.file)]);
    assert.equal(r2.status, 0, show(r2));
    const lines = jsonLines(r2.stdout);
    assert.equal(lines.length, refs.length, 'one line per frame');
    let worst = 0;
    for (const l of lines) {
      const c = good.find((x) => x.file === l.file);
      const d = Math.abs(l.p_malignant - pRef.get(c.refs[l.frame ?? 0]));
      if (!c.exact) worst = Math.max(worst, d);
      assert.ok(d <= (c.exact ? 1e-4 : 1e-3), `${c.name} frame ${l.frame}: |p - p(PNG)| = ${d}`);
    }
    console.log(`# lossy: largest |p - p(reference PNG)| = ${worst.toExponential(2)}`);
  });

  it('WASM: every frame gives the CLI\'s pixels, and the PNG\'s probability; info() names the codecs', async () => {
    const s = await createSialoscan({ model: new Uint8Array(fs.readFileSync(small)) });
    try {
      const version = run(['--version']).stdout.split('\n').find((l) => l.startsWith('codecs: ')).slice(8);
      assert.match(version, /^OpenJPEG 2\.5\.\d+, CharLS 2\.4\.\d+, IJG 6b \(dcmtk 3\.6\.\d+ libijg8\/12\/16\)$/);
      assert.equal(s.info().engine.codecs, version);
      const pairs = [];
      for (const c of good) {
        const bytes = new Uint8Array(fs.readFileSync(c.file));
        for (let k = 0; k < c.refs.length; k++) {
          const r = await s.classify(bytes, { frame: k, cam: true, image: true });
          const out = path.join(dir, `${c.name}-wasm${k}.ppm`);
          writePpm(out, r.image);
          pairs.push([out, path.join(dir, `${c.name}-f${k}.png`), c, k]);
          const p = await s.classify(new Uint8Array(fs.readFileSync(c.refs[k])));
          assert.ok(Math.abs(r.pMalignant - p.pMalignant) <= (c.exact ? 1e-4 : 1e-3), `${c.name} frame ${k}: WASM p ${r.pMalignant} vs PNG ${p.pMalignant}`);
        }
      }
      compare(pairs).forEach((x, i) => assert.equal(x, 0, `${pairs[i][2].name} frame ${pairs[i][3]}: WASM differs from the CLI by ${x}`));
      for (const c of hostile) await assert.rejects(s.classify(new Uint8Array(fs.readFileSync(c.file))), new RegExp(c.refuse), c.name);
    } finally {
      s.dispose();
    }
  });

  it('hostile files: refused with a sentence, in bounded memory and time (native, ASan)', () => {
    assert.ok(hostile.length >= 12);
    for (const c of hostile) {
      // 1 GB of address space, 20 s of CPU: a decoder that believed a 65535 x 65535 header would need 4 GB+
      const r = spawnSync('bash', ['-c', 'ulimit -v 1048576 -t 20; exec "$0" classify --model "$1" "$2"', CLI, small, c.file], { encoding: 'utf8' });
      assert.equal(r.status, 1, `${c.name}\n${show(r)}`);
      assert.match(r.stderr, new RegExp(c.refuse), c.name);
      assert.match(JSON.parse(r.stdout.trim()).error, new RegExp(c.refuse), c.name);
      if (fs.existsSync(ASAN)) {
        const a = run(['classify', '--model', small, c.file], { exe: ASAN });
        assert.equal(a.status, 1, `${c.name} (ASan)\n${show(a)}`);
        assert.doesNotMatch(a.stderr, /Sanitizer|runtime error/, c.name);
      }
    }
  });
});
