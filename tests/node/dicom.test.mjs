// dicom.test.mjs — DICOM files everywhere: the CLI (classify, eval, train, dicom-info, frame) and
// the JS API (classify with { frame }, dicomInfo), against independent encoders and references.
//
// The files are made at test time by tests/tools/make_dicom.py: pydicom (every photometric
// interpretation, planar 0/1, 16 bits with rescale and window, palettes, multi-frame, Implicit VR,
// ultrasound regions) and Debian's dcmtk (img2dcm, dcmcrle, dcmcjpeg, dcmconv, dcmodify; dcmj2pnm
// decodes the JPEG Baseline references). Every file carries a patient name, ID and birth date.
//   - lossless syntaxes: every frame decodes to exactly the reference pixels, and classify gives
//     exactly the p_malignant of the reference PNG (the shipped model);
//   - JPEG Baseline: every frame within 3 grey levels of dcmj2pnm's decode; p_malignant within 1e-3
//     of that decode classified as PNG for greyscale, 3e-3 for colour (stb_image and libjpeg
//     upsample the 4:2:0 chroma differently: ~0.06 levels on average, 1.4e-3 at most here);
//   - refused syntaxes: a clear sentence naming the syntax, in classify and dicom-info;
//   - no identifying attribute reaches stdout, stderr, the CSV or the HTML report;
//   - the WASM API gives the CLI's answers (frame by frame) and dicomInfo() equals dicom-info.
// Needs python3 with pydicom, numpy and PIL, and dcmtk (make setup installs them): missing tools
// fail the test. Run: node --test tests/node/dicom.test.mjs
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { testImage, makePng } from './lib/png.mjs';
import { findPython } from './lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const MODEL = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const GEN = path.join(ROOT, 'tests', 'tools', 'make_dicom.py');

function run(args, { exe = CLI } = {}) {
  const r = spawnSync(exe, args, { encoding: 'utf8', maxBuffer: 64 << 20, env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1' } });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const jsonLines = (s) => s.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));

const python = () => findPython(['pydicom', 'numpy', 'PIL']);

/** a minimal Explicit VR Little Endian file written here (a third, independent writer): RGB, native */
function makeDicom(png, { w, h, rgb }) {
  const parts = [];
  const el = (g, e, vr, val) => {
    let v = Buffer.isBuffer(val) ? val : Buffer.from(val, 'latin1');
    if (v.length & 1) v = Buffer.concat([v, Buffer.from(vr === 'UI' || vr === 'OB' ? [0] : [32])]);
    const long = ['OB', 'OW', 'SQ', 'UN', 'UT'].includes(vr);
    const hd = Buffer.alloc(long ? 12 : 8);
    hd.writeUInt16LE(g, 0); hd.writeUInt16LE(e, 2); hd.write(vr, 4, 'latin1');
    if (long) hd.writeUInt32LE(v.length, 8); else hd.writeUInt16LE(v.length, 6);
    parts.push(hd, v);
  };
  const us = (x) => { const b = Buffer.alloc(2); b.writeUInt16LE(x); return b; };
  parts.push(Buffer.alloc(128), Buffer.from('DICM'));
  el(0x0002, 0x0010, 'UI', '1.2.840.10008.1.2.1');
  el(0x0008, 0x0060, 'CS', 'US');
  el(0x0010, 0x0010, 'PN', 'Doe^Jane^SECRETNAME');
  el(0x0028, 0x0002, 'US', us(3)); el(0x0028, 0x0004, 'CS', 'RGB'); el(0x0028, 0x0006, 'US', us(0));
  el(0x0028, 0x0010, 'US', us(h)); el(0x0028, 0x0011, 'US', us(w));
  el(0x0028, 0x0100, 'US', us(8)); el(0x0028, 0x0101, 'US', us(8)); el(0x0028, 0x0103, 'US', us(0));
  el(0x7fe0, 0x0010, 'OB', Buffer.from(rgb));
  return Buffer.concat(parts);
}

describe('DICOM', () => {
  let dir, gen, cases, privateStrings, py;

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make native`);
    assert.ok(fs.existsSync(MODEL), `${MODEL} is missing`);
    py = python();
    assert.ok(py, 'python3 with pydicom, numpy and PIL is missing: run make setup (python3-pydicom, python3-pil, python3-numpy)');
    for (const tool of ['img2dcm', 'dcmcrle', 'dcmcjpeg', 'dcmj2pnm', 'dcmconv', 'dcmodify']) {
      assert.equal(spawnSync(tool, ['--version']).error, undefined, `${tool} is missing: run make setup (dcmtk)`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-dicom-'));
    gen = path.join(dir, 'gen');
    execFileSync(py, [GEN, gen], { stdio: ['ignore', 'ignore', 'pipe'] });
    ({ cases, private: privateStrings } = JSON.parse(fs.readFileSync(path.join(gen, 'cases.json'), 'utf8')));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const assertNoPrivate = (text, what) => {
    for (const s of privateStrings) assert.ok(!text.includes(s), `${what} contains the identifying value '${s}'`);
    assert.ok(!/SECRET/.test(text), `${what} contains an identifying value`);
  };

  it('lossless files decode to exactly the reference pixels, every frame (frame, --frame, --us-region)', () => {
    const pairs = [];
    for (const c of cases.filter((x) => x.exact)) {
      c.refs.forEach((ref, k) => {
        const out = path.join(dir, `${c.name}-f${k}.png`);
        const r = run(['frame', '--frame', String(k), c.file, out]);
        assert.equal(r.status, 0, `${c.name} frame ${k}\n${show(r)}`);
        pairs.push([out, ref, `${c.name} frame ${k}`]);
      });
      if (c.region) {
        const out = path.join(dir, `${c.name}-region.png`);
        const r = run(['frame', '--us-region', c.file, out]);
        assert.equal(r.status, 0, `${c.name} --us-region\n${show(r)}`);
        pairs.push([out, c.region_ref, `${c.name} region`]);
      }
    }
    assert.ok(pairs.length >= 35, `only ${pairs.length} frames compared`);
    const diffs = JSON.parse(execFileSync(py, [GEN, 'compare', '-'], { input: JSON.stringify(pairs.map((p) => p.slice(0, 2))), encoding: 'utf8' }));
    diffs.forEach((d, i) => assert.equal(d, 0, `${pairs[i][2]}: max pixel difference ${d}`));
    // JPEG Baseline: stb_image against dcmj2pnm (libjpeg)
    const jpairs = [];
    for (const c of cases.filter((x) => !x.exact && !x.refuse)) {
      c.refs.forEach((ref, k) => {
        const out = path.join(dir, `${c.name}-f${k}.png`);
        assert.equal(run(['frame', '--frame', String(k), c.file, out]).status, 0, c.name);
        jpairs.push([out, ref, `${c.name} frame ${k}`]);
      });
    }
    const jd = JSON.parse(execFileSync(py, [GEN, 'compare', '-'], { input: JSON.stringify(jpairs.map((p) => p.slice(0, 2))), encoding: 'utf8' }));
    jd.forEach((d, i) => assert.ok(typeof d === 'number' && d <= 3, `${jpairs[i][2]}: max pixel difference ${d} from dcmj2pnm`));
    // the syntaxes and layouts covered
    const syntaxes = new Set(cases.filter((x) => !x.refuse).map((x) => x.syntax));
    for (const s of ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1', '1.2.840.10008.1.2.5', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.1.99',
      '1.2.840.10008.1.2.2']) assert.ok(syntaxes.has(s), s);
  });

  it('classify: lossless DICOM frames give exactly the PNG probability; JPEG Baseline within 1e-3 of dcmj2pnm', () => {
    const ok = cases.filter((x) => !x.refuse);
    const refs = [...new Set(ok.flatMap((c) => c.refs))];
    const r1 = run(['classify', '--model', MODEL, ...refs]);
    assert.equal(r1.status, 0, show(r1));
    const pRef = new Map(jsonLines(r1.stdout).map((l) => [l.file, l.p_malignant]));
    const r2 = run(['classify', '--model', MODEL, ...ok.map((c) => c.file)]);
    assert.equal(r2.status, 0, show(r2));
    const lines = jsonLines(r2.stdout);
    assert.equal(lines.length, ok.reduce((a, c) => a + c.frames, 0), 'one line per frame');
    let worstJpeg = 0;
    for (const c of ok) {
      const mine = lines.filter((l) => l.file === c.file);
      assert.deepEqual(mine.map((l) => l.frame), c.refs.map((_, k) => k), `${c.name}: frames`);
      for (const l of mine) {
        const want = pRef.get(c.refs[l.frame]);
        if (c.exact) assert.equal(l.p_malignant, want, `${c.name} frame ${l.frame}`);
        else {
          const tol = /rgb|bmp|dcmtk-jpg|colour/.test(c.name) ? 3e-3 : 1e-3; // colour: see the header
          worstJpeg = Math.max(worstJpeg, Math.abs(l.p_malignant - want));
          assert.ok(Math.abs(l.p_malignant - want) <= tol, `${c.name} frame ${l.frame}: ${l.p_malignant} vs dcmj2pnm ${want}`);
        }
      }
    }
    console.log(`# JPEG Baseline: largest |p - p(dcmj2pnm)| = ${worstJpeg.toExponential(2)}`);
    assertNoPrivate(r2.stdout + r2.stderr, 'classify output');
    // --frame N: one line; --us-region: the region's probability
    const multi = ok.find((c) => c.name === 'multiframe-8');
    const r3 = run(['classify', '--model', MODEL, '--frame', '2', multi.file]);
    assert.equal(r3.status, 0, show(r3));
    assert.deepEqual(jsonLines(r3.stdout).map((l) => [l.frame, l.p_malignant]), [[2, pRef.get(multi.refs[2])]]);
    const reg = ok.find((c) => c.name === 'us-regions');
    const r4 = run(['classify', '--model', MODEL, '--us-region', reg.file, reg.region_ref]);
    assert.equal(r4.status, 0, show(r4));
    const [a, b] = jsonLines(r4.stdout);
    assert.equal(a.p_malignant, b.p_malignant, '--us-region = the cropped PNG');
    // a frame that does not exist
    const r5 = run(['classify', '--model', MODEL, '--frame', '3', multi.file]);
    assert.equal(r5.status, 1);
    assert.match(r5.stderr, /frame 3 does not exist \(the DICOM file has 3 frames\)/);
  });

  it('refused transfer syntaxes: a sentence naming the syntax (classify, dicom-info)', () => {
    const refused = cases.filter((x) => x.refuse);
    assert.ok(refused.length >= 1);
    for (const c of refused) {
      const r = run(['classify', '--model', MODEL, c.file]);
      assert.equal(r.status, 1, `${c.name}\n${show(r)}`);
      assert.match(r.stderr, new RegExp(c.refuse), c.name);
      assert.doesNotMatch(r.stderr, /Sanitizer|Segmentation/);
      const line = JSON.parse(r.stdout.trim());
      assert.match(line.error, new RegExp(c.refuse), c.name);
      const info = run(['dicom-info', c.file]);
      if (info.status === 0) {
        const js = JSON.parse(info.stdout);
        assert.equal(js.decodable, false, c.name);
        assert.match(js.problem, new RegExp(c.refuse), c.name);
      } else {
        assert.match(info.stderr, new RegExp(c.refuse), c.name);
      }
    }
    const notDicom = run(['dicom-info', path.join(ROOT, 'tests', 'fixtures', 'baseline.jpg')]);
    assert.equal(notDicom.status, 1);
    assert.match(notDicom.stderr, /not a DICOM file \(no DICM marker after the 128-byte preamble\)/);
  });

  it('JPEG colour from the codestream, then the data set: disagreeing files as dcmdjpeg reads them; an RGB JPEG without markers stays white', () => {
    const colour = cases.filter((c) => /^jpeg-colour-/.test(c.name));
    assert.equal(colour.length, 5);
    const pairs = [], whites = [];
    for (const c of colour) {
      const out = path.join(dir, `${c.name}-check.png`);
      const r = run(['frame', c.file, out]);
      assert.equal(r.status, 0, `${c.name}\n${show(r)}`);
      pairs.push([out, c.refs[0]]);
      if (c.white) whites.push([out, c.white]);
    }
    // within 2 levels of dcmdjpeg told the interpretation the reader chose (a wrong transform is off by ~100)
    const d = JSON.parse(execFileSync(py, [GEN, 'compare', '-'], { input: JSON.stringify(pairs), encoding: 'utf8' }));
    d.forEach((x, i) => assert.ok(typeof x === 'number' && x <= 2, `${colour[i].name}: max difference ${x} from dcmdjpeg`));
    const px = JSON.parse(execFileSync(py, ['-c', 'import sys,json; from PIL import Image; print(json.dumps([list(Image.open(f).convert("RGB").getpixel((c, r))) for f, (r, c) in json.load(sys.stdin)]))'],
      { input: JSON.stringify(whites), encoding: 'utf8' }));
    assert.equal(px.length, 3);
    for (const p of px) assert.ok(p.every((v) => v >= 250), `white came out as ${p}`);
  });

  it('read despite …: tolerated files decode to pydicom\'s pixels and say what was tolerated (dicom-info notes); the others have no note', () => {
    const tol = cases.filter((c) => c.note);
    assert.ok(tol.length >= 7, `${tol.length} cases with a note`);
    for (const c of cases.filter((x) => !x.refuse)) {
      const js = JSON.parse(run(['dicom-info', c.file]).stdout);
      if (c.note) assert.ok(js.notes.some((n) => new RegExp(c.note).test(n)), `${c.name}: notes ${JSON.stringify(js.notes)}`);
      else assert.deepEqual(js.notes, [], c.name);
    }
    for (const name of ['tolerate-implicit-under-explicit', 'tolerate-no-meta', 'tolerate-odd-length']) assert.ok(tol.some((c) => c.name === name), name);
  });

  it('dicom-info: the non-identifying metadata as one JSON object', () => {
    const all = [];
    for (const c of cases) {
      const r = run(['dicom-info', c.file]);
      assert.equal(r.status, 0, `${c.name}\n${show(r)}`);
      all.push(r.stdout + r.stderr);
      const js = JSON.parse(r.stdout);
      assert.equal(js.transfer_syntax_uid, c.syntax, c.name);
      if (!c.refuse) {
        assert.equal(js.frames, c.frames, c.name);
        assert.equal(js.decodable, true, c.name);
        assert.equal(js.problem, null);
      }
    }
    assertNoPrivate(all.join('\n'), 'dicom-info output');
    const reg = JSON.parse(run(['dicom-info', cases.find((c) => c.name === 'us-regions').file]).stdout);
    assert.equal(reg.modality, 'US');
    assert.equal(reg.sop_class, 'Ultrasound Image Storage');
    assert.equal(reg.manufacturer, 'sialoscan test generator');
    assert.equal(reg.model, 'make_dicom.py');
    assert.equal(reg.transfer_syntax, 'Explicit VR Little Endian');
    assert.deepEqual([reg.rows, reg.columns, reg.frames], [120, 160, 1]);
    assert.equal(reg.us_regions.length, 2);
    assert.deepEqual([reg.us_regions[0].x0, reg.us_regions[0].y0, reg.us_regions[0].x1, reg.us_regions[0].y1], [20, 10, 139, 99]);
    assert.equal(reg.us_regions[0].physical_delta_x, 0.0125);
    const rle = JSON.parse(run(['dicom-info', cases.find((c) => c.name === 'rle-multiframe-8').file]).stdout);
    assert.equal(rle.transfer_syntax, 'RLE Lossless');
    assert.equal(rle.encapsulated, true);
    assert.equal(rle.frames, 3);
  });

  it('eval reads DICOM (with or without .dcm); the CSV and the report name no patient', () => {
    const data = path.join(dir, 'eval');
    const pick = cases.filter((c) => !c.refuse && c.frames === 1).slice(0, 8);
    for (const cls of ['benign', 'malignant']) fs.mkdirSync(path.join(data, cls), { recursive: true });
    pick.forEach((c, i) => {
      const cls = i % 2 ? 'malignant' : 'benign';
      fs.copyFileSync(c.file, path.join(data, cls, i < 4 ? `${c.name}.dcm` : `IM${String(i).padStart(4, '0')}`));
    });
    const csv = path.join(dir, 'eval.csv'), report = path.join(dir, 'eval.html');
    const r = run(['eval', '--model', MODEL, '--csv', csv, '--report', report, data]);
    assert.equal(r.status, 0, show(r));
    const last = JSON.parse(r.stdout.trim().split('\n').pop());
    assert.equal(last.n, pick.length);
    assert.equal(last.unreadable, 0);
    assertNoPrivate(r.stdout + r.stderr, 'eval output');
    assertNoPrivate(fs.readFileSync(csv, 'utf8'), 'eval CSV');
    assertNoPrivate(fs.readFileSync(report, 'utf8'), 'eval report');
    // --frame N: that frame of each multi-frame DICOM file; image files are still read
    const data2 = path.join(dir, 'eval2');
    for (const [cls, name] of [['benign', 'multiframe-8'], ['malignant', 'rle-multiframe-rgb-planar1']]) {
      const c = cases.find((x) => x.name === name);
      fs.mkdirSync(path.join(data2, cls), { recursive: true });
      fs.copyFileSync(c.file, path.join(data2, cls, `${name}.dcm`));
      fs.copyFileSync(c.refs[0], path.join(data2, cls, `${name}.png`));
    }
    const csv2 = path.join(dir, 'eval2.csv');
    const e2 = run(['eval', '--model', MODEL, '--frame', '2', '--csv', csv2, data2]);
    assert.equal(e2.status, 0, show(e2));
    assert.deepEqual(((l) => [l.n, l.unreadable])(JSON.parse(e2.stdout.trim().split('\n').pop())), [4, 0]);
    const mf = cases.find((x) => x.name === 'multiframe-8');
    const p2 = jsonLines(run(['classify', '--model', MODEL, mf.refs[2]]).stdout)[0].p_malignant;
    assert.ok(fs.readFileSync(csv2, 'utf8').includes(`multiframe-8.dcm",benign,${p2.toFixed(6)}`), 'eval --frame 2 used frame 2');
    // an extension-less DICOM file in classify too
    const r2 = run(['classify', '--model', MODEL, path.join(data, 'malignant', 'IM0005')]);
    assert.equal(r2.status, 0, show(r2));
    assert.equal(jsonLines(r2.stdout)[0].frame, 0);
  });

  it('train reads DICOM files in the data folders (.dcm and extension-less)', () => {
    const data = path.join(dir, 'train');
    for (const [cls, base] of [['benign', 0], ['malignant', 100]]) {
      fs.mkdirSync(path.join(data, cls), { recursive: true });
      for (let i = 0; i < 8; i++) {
        const png = testImage(base + i, 48, 40);
        // decode our own PNG: the test image is grey, generated from its seed; rebuild the pixels from the CLI's frame
        const tmpPng = path.join(dir, `t-${cls}-${i}.png`);
        fs.writeFileSync(tmpPng, png);
        if (i % 2) { fs.copyFileSync(tmpPng, path.join(data, cls, `${cls}-${i}.png`)); continue; }
        const raw = path.join(dir, `t-${cls}-${i}.rgb`);
        const r = run(['frame', tmpPng, raw + '.png']);
        assert.equal(r.status, 0, show(r));
        const rgb = JSON.parse(execFileSync(py, ['-c', 'import sys,json,numpy as np; from PIL import Image; print(json.dumps(np.asarray(Image.open(sys.argv[1]).convert("RGB")).ravel().tolist()))', raw + '.png'], { encoding: 'utf8' }));
        fs.writeFileSync(path.join(data, cls, i % 4 ? `${cls}-${i}.dcm` : `${cls}${i}`), makeDicom(null, { w: 48, h: 40, rgb }));
      }
    }
    fs.writeFileSync(path.join(dir, 's.txt'), 'all all 1e-3 1 1\n');
    const oof = path.join(dir, 'oof.csv');
    const r = spawnSync(CLI, ['train', '--data', data, '--arch', 'smallcnn', '--input', '32', '--schedule', path.join(dir, 's.txt'), '--cv', '2',
      '--batch', '4', '--predictions', oof, '--out', path.join(dir, 'm.sialo')], { encoding: 'utf8' });
    assert.equal(r.status, 0, show(r));
    const rows = fs.readFileSync(oof, 'utf8').trim().split('\n');
    assert.equal(rows.length, 17, 'all 16 frames used');
    assert.ok(rows.some((l) => l.includes('.dcm')) && rows.some((l) => /benign0|malignant4/.test(l)), rows.join('\n'));
    assertNoPrivate(r.stdout + r.stderr + rows.join('\n'), 'train output');
  });

  it('a scanner\'s USB export (DICOMDIR, nested folders, no extensions, a report, a PDF, a text file): classify, eval and train read its images, skip the rest in one line each', () => {
    const usb = (root, names) => {
      const series = path.join(root, 'DICOM', 'PAT00001', 'STU00001', 'SER00001');
      fs.mkdirSync(series, { recursive: true });
      names.forEach((n, i) => fs.copyFileSync(cases.find((c) => c.name === n).file, path.join(series, `IM${String(i).padStart(5, '0')}`)));
      fs.copyFileSync(path.join(gen, 'DICOMDIR'), path.join(root, 'DICOMDIR'));
      fs.copyFileSync(path.join(gen, 'not-image-sr.dcm'), path.join(series, 'SR000001'));
      fs.copyFileSync(path.join(gen, 'not-image-pdf.dcm'), path.join(series, 'DOC00001'));
      fs.writeFileSync(path.join(root, 'README.TXT'), 'Exported by the scanner.\n');
    };
    const stick = path.join(dir, 'usb');
    const imgs = ['mono2-8-explicit', 'rgb-planar0', 'deflate-rgb-planar1', 'big-endian-mono2-16-window', 'jpeg-colour-rgb-nomarker', 'tolerate-no-meta'];
    usb(stick, imgs);
    const r = run(['classify', '--model', MODEL, stick]);
    assert.equal(r.status, 0, show(r));
    const lines = jsonLines(r.stdout);
    assert.equal(lines.length, imgs.length, 'one line per image (single frames)');
    assert.ok(lines.every((l) => typeof l.p_malignant === 'number' && !l.error), r.stdout);
    const skippedLines = r.stderr.trim().split('\n').filter((l) => /skipped/.test(l));
    assert.equal(skippedLines.length, 3, r.stderr);
    assert.ok(skippedLines.some((l) => /DICOMDIR: a DICOMDIR \(the index of the files on a DICOM medium\), not an image/.test(l)), r.stderr);
    assert.ok(skippedLines.some((l) => /SR000001: .*a structured report/.test(l)), r.stderr);
    assert.ok(skippedLines.some((l) => /DOC00001: .*an encapsulated document/.test(l)), r.stderr);
    assert.doesNotMatch(r.stderr, /README/);
    // the same probabilities as the files named one by one
    const one = jsonLines(run(['classify', '--model', MODEL, ...imgs.map((n) => cases.find((c) => c.name === n).file)]).stdout);
    assert.deepEqual(lines.map((l) => l.p_malignant).sort(), one.map((l) => l.p_malignant).sort());
    // eval: a stick copied into each class folder
    const ev = path.join(dir, 'usb-eval');
    usb(path.join(ev, 'benign', 'stick'), imgs.slice(0, 3));
    usb(path.join(ev, 'malignant', 'stick'), imgs.slice(3));
    const e = run(['eval', '--model', MODEL, ev]);
    assert.equal(e.status, 0, show(e));
    const last = JSON.parse(e.stdout.trim().split('\n').pop());
    assert.deepEqual([last.n, last.unreadable, last.skipped], [6, 0, 8], e.stdout);
    assert.equal((e.stderr.match(/skipped .*(DICOMDIR|SR000001|DOC00001)/g) || []).length, 6, e.stderr);
    assertNoPrivate(e.stdout + e.stderr, 'eval of a USB export');
    // train: the same folders
    const tr = path.join(dir, 'usb-train');
    const many = cases.filter((c) => !c.refuse && c.exact && c.frames === 1).map((c) => c.name).slice(0, 24);
    usb(path.join(tr, 'benign', 'stick-1'), many.slice(0, 12));
    usb(path.join(tr, 'malignant', 'stick-2'), many.slice(12, 24));
    fs.writeFileSync(path.join(dir, 's2.txt'), 'all all 1e-3 1 1\n');
    const t = spawnSync(CLI, ['train', '--data', tr, '--arch', 'smallcnn', '--input', '32', '--schedule', path.join(dir, 's2.txt'),
      '--batch', '4', '--out', path.join(dir, 'usb.sialo')], { encoding: 'utf8' });
    assert.equal(t.status, 0, show(t));
    assert.equal((t.stderr.match(/skipped .*(SR000001|DOC00001): .*not an image/g) || []).length, 4, t.stderr);
    assert.doesNotMatch(t.stderr, /skipped unreadable/, t.stderr);
    assert.match(t.stderr, /data: 24 images/, t.stderr);
  });

  it('WASM: classify(bytes, { frame }) equals the CLI; dicomInfo() equals dicom-info; null for non-DICOM', async () => {
    const small = path.join(dir, 'small.sialo');
    assert.equal(run(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '3', small]).status, 0);
    const s = await createSialoscan({ model: new Uint8Array(fs.readFileSync(small)) });
    try {
      const names = ['mono2-16-window', 'multiframe-rgb-planar1', 'rle-multiframe-8', 'jpeg-frag-nobot-multiframe-8',
        'ybr-full-422', 'palette-8', 'mono2-8-implicit', 'us-regions', 'deflate-multiframe-8', 'big-endian-us-regions', 'big-endian-palette-8',
        'rgb16-12bit-planar1', 'rle-rgb16', 'jpeg-colour-rgb-nomarker', 'jpeg-colour-subsampled-says-rgb', 'jpeg-colour-ids-rgb-says-ybr',
        'tolerate-no-meta', 'tolerate-implicit-under-explicit', 'tolerate-odd-length'];
      const pick = cases.filter((c) => names.includes(c.name));
      assert.equal(pick.length, names.length);
      const native = jsonLines(run(['classify', '--model', small, ...pick.map((c) => c.file)]).stdout);
      for (const c of pick) {
        const bytes = new Uint8Array(fs.readFileSync(c.file));
        for (let k = 0; k < c.frames; k++) {
          const r = await s.classify(bytes, { frame: k });
          const want = native.find((l) => l.file === c.file && l.frame === k);
          assert.ok(Math.abs(r.pMalignant - want.p_malignant) <= 1e-5, `${c.name} frame ${k}: ${r.pMalignant} vs ${want.p_malignant}`);
          assert.equal(r.frame, k);
        }
        const info = s.dicomInfo(bytes);
        const cliInfo = JSON.parse(run(['dicom-info', c.file]).stdout);
        assert.equal(info.frames, cliInfo.frames);
        assert.equal(info.rows, cliInfo.rows);
        assert.equal(info.columns, cliInfo.columns);
        assert.equal(info.modality, 'US');
        assert.equal(info.transferSyntax, cliInfo.transfer_syntax);
        assert.equal(info.transferSyntaxUid, cliInfo.transfer_syntax_uid);
        assert.equal(info.usRegions.length, cliInfo.us_regions.length);
        assert.deepEqual(info.notes, cliInfo.notes, c.name);
        assertNoPrivate(JSON.stringify(info), 'dicomInfo()');
      }
      // the same pixels as the CLI: frame 0 of each decoded by the WASM module (classify's decoded image)
      const pixPairs = [];
      for (const c of pick) {
        const r = await s.classify(new Uint8Array(fs.readFileSync(c.file)), { cam: true, image: true });
        const { width: w, height: h, rgba } = r.image;
        const mine = path.join(dir, `${c.name}-wasm.png`), cli = path.join(dir, `${c.name}-cli.png`);
        fs.writeFileSync(mine, makePng(w, h, (x, y) => [rgba[4 * (y * w + x)], rgba[4 * (y * w + x) + 1], rgba[4 * (y * w + x) + 2]]));
        assert.equal(run(['frame', c.file, cli]).status, 0, c.name);
        pixPairs.push([mine, cli]);
      }
      const pd = JSON.parse(execFileSync(py, [GEN, 'compare', '-'], { input: JSON.stringify(pixPairs), encoding: 'utf8' }));
      pd.forEach((x, i) => assert.equal(x, 0, `${pick[i].name}: WASM and CLI pixels differ by ${x}`));
      const reg = pick.find((c) => c.name === 'us-regions');
      const rr = await s.classify(new Uint8Array(fs.readFileSync(reg.file)), { usRegion: true, cam: true });
      const rp = await s.classify(new Uint8Array(fs.readFileSync(reg.region_ref)), { cam: true });
      assert.equal(rr.pMalignant, rp.pMalignant);
      assert.deepEqual([rr.cam.width, rr.cam.height], [120, 90]);
      assert.equal(rp.frame, undefined);
      assert.equal(s.dicomInfo(new Uint8Array(testImage(1))), null);
      const multi = new Uint8Array(fs.readFileSync(pick.find((c) => c.name === 'rle-multiframe-8').file));
      await assert.rejects(s.classify(multi, { frame: 7 }), /frame 7 does not exist \(the DICOM file has 3 frames\)/);
      await assert.rejects(s.classify(multi, { frame: -1 }), TypeError);
      assert.throws(() => s.dicomInfo(multi.subarray(0, 300)), /truncated|claims/);
    } finally {
      s.dispose();
    }
  });
});
