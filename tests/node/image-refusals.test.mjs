// image-refusals.test.mjs — every damaged image of the generated corpus
// (tests/tools/make_image_corpus.py: PNG checksums, truncations, header fields, signatures; JPEG
// markers, tables and entropy data; BMP and GIF headers) is refused with exactly its sentence of
// src/io/image_errors.c by every output: the CLI (stderr "sialoscan: FILE: <sentence>" and the JSON
// line's "error", exit status 1), the CLI built with ASan + UBSan (no report), and the WASM JS API
// (an Error "sialoscan: <sentence>"). The valid files of the corpus are classified by both.
// Needs python3 with numpy and PIL (make setup: python3-numpy, python3-pil).
// Run: node --test tests/node/image-refusals.test.mjs   (needs make native wasm)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { findPython } from './lib/harness.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const CLI_ASAN = path.join(ROOT, 'build', 'sialoscan-asan');

function python() {
  const py = findPython(['numpy', 'PIL']);
  if (!py) throw new Error('python3 with numpy and PIL is needed to generate the image corpus (make setup: python3-numpy, python3-pil)');
  return py;
}

const readTsv = (file) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split('\t'));

function classify(exe, model, files) {
  const env = { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0' };
  const r = spawnSync(exe, ['classify', '--model', model, '--threads', '1', ...files], { encoding: 'utf8', env, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}

describe('damaged images are refused with their sentence', () => {
  let dir, model, bad, good;

  before(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} is missing: run make native`);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-refusals-'));
    execFileSync(python(), [path.join(ROOT, 'tests', 'tools', 'make_image_corpus.py'), dir], { stdio: 'ignore' });
    bad = readTsv(path.join(dir, 'bad.tsv')).map(([name, sentence, what]) => ({ file: path.join(dir, 'bad', name), sentence, what }));
    good = readTsv(path.join(dir, 'good.tsv')).map(([name]) => path.join(dir, 'good', name));
    assert.ok(bad.length >= 100 && good.length >= 30, `corpus: ${bad.length} damaged, ${good.length} valid files`);
    model = path.join(dir, 'model.sialo');
    execFileSync(CLI, ['init', '--arch', 'smallcnn', '--input', '32', '--seed', '1', model]);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('CLI: stderr and the JSON error are the sentence; the valid files are classified', () => {
    const r = classify(CLI, model, [...bad.map((b) => b.file), ...good]);
    assert.equal(r.status, 1, `exit status ${r.status} ${r.signal ?? ''}`);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const errs = r.stderr.trim().split('\n');
    assert.equal(lines.length, bad.length + good.length);
    bad.forEach((b, i) => {
      assert.equal(lines[i].error, b.sentence, `${path.basename(b.file)} (${b.what})`);
      assert.equal(errs[i], `sialoscan: ${b.file}: ${b.sentence}`);
    });
    good.forEach((g, i) => assert.ok(typeof lines[bad.length + i].p_malignant === 'number', `${g}: ${JSON.stringify(lines[bad.length + i])}`));
    assert.equal(errs.length, bad.length, `unexpected stderr lines: ${errs.slice(bad.length).join('\n')}`);
  });

  it('CLI under ASan + UBSan: the same sentences, no report', { skip: fs.existsSync(CLI_ASAN) ? false : 'build/sialoscan-asan not built (make test-c builds it)' }, () => {
    const r = classify(CLI_ASAN, model, bad.map((b) => b.file));
    assert.doesNotMatch(r.stderr, /AddressSanitizer|LeakSanitizer|runtime error:/);
    assert.equal(r.signal, null);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    bad.forEach((b, i) => assert.equal(lines[i].error, b.sentence, `${path.basename(b.file)} (${b.what})`));
  });

  it('WASM JS API: classify() rejects with "sialoscan: <sentence>"', async () => {
    const s = await createSialoscan({ model: new Uint8Array(fs.readFileSync(model)) });
    try {
      for (const b of bad) {
        let message = null;
        try { await s.classify(new Uint8Array(fs.readFileSync(b.file))); } catch (e) { message = e.message; }
        assert.equal(message, `sialoscan: ${b.sentence}`, `${path.basename(b.file)} (${b.what})`);
      }
      for (const g of good) {
        const r = await s.classify(new Uint8Array(fs.readFileSync(g)));
        assert.ok(r.pMalignant >= 0 && r.pMalignant <= 1, g);
      }
    } finally {
      s.dispose();
    }
  });
});
