// The clinician's page (web/dist, `make web`) in headless Chromium, driven by playwright-core as a
// user would: opened from disk and served (plain, and cross-origin isolated as `make serve` does),
// frames given through the file input; probabilities checked against the native CLI on the same
// bytes; error cards, overlay pixels, network silence, CSV export, keyboard-only use, axe-core,
// another model, memory over a 100-frame batch; DICOM files of every compressed syntax, and the
// footer's codecs line against `sialoscan --version`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { serveStatic } from '../../tools/serve.mjs';
import { testImage } from './lib/png.mjs';
import { findPython } from './lib/harness.mjs';
import { CHROMIUM, CHROMIUM_ARGS, CLI, DIST, ROOT, checkCards, cliAnswers, foreignRequests, readCards, writeTestSet } from './lib/page-fixtures.mjs';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (make setup installs it)`;
const ARTIFACTS = join(ROOT, 'build', 'test-artifacts');
let browser, tmp, files, want, plain, isolated;

before(async () => {
  if (skip) return;
  assert.ok(existsSync(join(DIST, 'index.html')), 'web/dist is missing: `make web` builds it');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-page-'));
  files = writeTestSet(join(tmp, 'set'));
  want = cliAnswers(files);
  plain = await serveStatic(DIST, { isolation: false });
  isolated = await serveStatic(DIST, { isolation: true });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await plain?.close();
  await isolated?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** open the page; resolves when the engine is ready. Records every request and page error. */
async function open(url, { viewport = { width: 1366, height: 768 }, bypassCSP = false } = {}) {
  const context = await browser.newContext({ viewport, bypassCSP, acceptDownloads: true });
  const page = await context.newPage();
  const log = { requests: [], afterReady: [], errors: [], csp: [] };
  let ready = false;
  context.on('request', (r) => {
    // served, the page's service worker downloads the folder for offline use after the first
    // visit (tests/node/page-offline.test.mjs tests it): its requests are not the page's
    if (r.serviceWorker()) return;
    log.requests.push(r.url());
    if (ready && !r.url().startsWith('blob:') && !r.url().startsWith('data:')) log.afterReady.push(r.url());
  });
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) log.csp.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  ready = true;
  return { context, page, log };
}

async function giveFiles(page, paths) {
  await page.setInputFiles('#dropzone input[type=file]', paths);
}

async function waitDone(page, n, timeout = 120000) {
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, n, { timeout });
}

async function classifyTestSet(url, origin) {
  const { context, page, log } = await open(url);
  await giveFiles(page, files);
  await waitDone(page, files.length);
  checkCards(await page.evaluate(readCards), want);
  assert.deepEqual(foreignRequests(log.requests, origin), [], 'no request outside the page\'s own folder');
  assert.deepEqual(log.afterReady, [], 'no request at all once the page is ready');
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.csp, [], 'no Content-Security-Policy violation');
  const status = await page.textContent('#engine-status');
  const cold = Number(await page.getAttribute('#engine-status', 'data-cold-start-ms'));
  return { context, page, status, cold, log };
}

test('page opened from disk (file://): same answers as the CLI, error cards, no network', { skip }, async () => {
  const { context, page, status, cold } = await classifyTestSet(`file://${DIST}/index.html`, `file://${DIST}/`);
  assert.match(status, /1 thread/);
  assert.match(status, /relaxed SIMD/, 'the standalone engine takes its relaxed-SIMD wasm in Chromium');
  // the footer names the DICOM codecs as `sialoscan --version` does
  const version = spawnSync(CLI, ['--version'], { encoding: 'utf8' }).stdout.split('\n').find((l) => l.startsWith('codecs: '));
  assert.ok(version, 'sialoscan --version has a codecs: line');
  const codecs = page.locator('[data-testid=codecs-info]');
  assert.equal(await codecs.textContent(), `DICOM codecs: ${version.slice('codecs: '.length)}`);
  assert.equal(await codecs.isVisible(), true);
  console.log(`# chromium file:// cold start ${cold} ms`);
  await context.close();
});

test('page served over plain http (any static host)', { skip }, async () => {
  const { context, page } = await classifyTestSet(plain.url, plain.url);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), false);
  await context.close();
});

test('page served by `make serve` (COOP/COEP: cross-origin isolated)', { skip }, async () => {
  const { context, page, status, log } = await classifyTestSet(isolated.url, isolated.url);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  // served, the engine worker fetches the model file itself: the 6 MB of base64 scripts stay unread
  assert.ok(log.requests.some((u) => u.endsWith('/sialoscan-busi.sialo')), `the model file was fetched: ${log.requests.join(' ')}`);
  assert.ok(!log.requests.some((u) => /sialoscan-model-\d+\.js$/.test(u)), 'no model script was loaded');
  const threads = Number(await page.getAttribute('#engine-status', 'data-threads'));
  const mtBuilt = existsSync(join(DIST, 'sialoscan-mt.js'));
  if (mtBuilt) assert.ok(threads > 1, `isolated page with the threaded engine built runs ${threads} thread(s): ${status}`);
  else assert.equal(threads, 1);
  // Chromium 156 validates relaxed SIMD: the page runs the relaxed twin, and says so
  assert.equal(await page.getAttribute('#engine-status', 'data-kernel'), 'f32_gemm_4x8_relaxedsimd', status);
  assert.match(status, /relaxed SIMD/);
  await context.close();
});

test('files given before the engine is ready wait for it', { skip }, async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`file://${DIST}/index.html`, { waitUntil: 'domcontentloaded' });
  await giveFiles(page, [files[0], files[4]]);
  await waitDone(page, 2);
  const cards = await page.evaluate(readCards);
  assert.ok(Math.abs(Number(cards[0].p) - want[cards[0].file].p) < 1e-4);
  assert.equal(cards[1].error, want[cards[1].file].error);
  await context.close();
});

test('clear in the middle of a batch, then more files: the new ones are classified', { skip }, async () => {
  const { context, page } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, files);
  await page.waitForSelector('[data-testid=result][aria-busy=false]');
  await page.click('#clear');
  await giveFiles(page, [files[1], files[5]]);
  await waitDone(page, 2);
  const cards = Object.fromEntries((await page.evaluate(readCards)).map((c) => [c.file, c]));
  assert.deepEqual(Object.keys(cards).sort(), [basename(files[1]), basename(files[5])].sort());
  assert.ok(Math.abs(Number(cards[basename(files[1])].p) - want[basename(files[1])].p) < 1e-4);
  assert.equal(cards[basename(files[5])].error, want[basename(files[5])].error);
  assert.match(await page.textContent('#progress-text'), /^2 of 2 files classified, 1 not readable\.$/);
  await context.close();
});

test('CSV export, sorting and clear', { skip }, async () => {
  const { context, page } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, files);
  await waitDone(page, files.length);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  assert.match(download.suggestedFilename(), /^sialoscan-results-\d{8}-\d{4}\.csv$/);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  assert.equal(csv[0], 'file,p_malignant,label,threshold,model_checksum,ood_checked,ood_score,ood_flag,box,p_box');
  const info = JSON.parse(spawnSync(CLI, ['info', join(ROOT, 'models', 'sialoscan-busi.sialo')], { encoding: 'utf8' }).stdout);
  assert.equal(csv.length, 1 + files.length);
  for (const line of csv.slice(1)) {
    const [file, p, label, threshold, checksum] = line.split(',');
    const w = want[file];
    assert.ok(w, line);
    assert.equal(checksum, info.checksum);
    if (w.error) {
      assert.equal(p, '');
      assert.equal(label, 'unreadable');
    } else {
      assert.ok(Math.abs(Number(p) - w.p) < 1e-4, line);
      assert.equal(label, w.label);
      assert.ok(Math.abs(Number(threshold) - info.threshold) < 1e-6, line);
    }
  }
  // sort by p(malignant), descending first: the first row is the most suspicious frame
  await page.click('#results-table th:nth-child(3) button');
  const firstFile = await page.textContent('#results-table tbody tr:first-child td:nth-child(2)');
  const best = Object.entries(want).filter(([, w]) => !w.error).sort((a, b) => b[1].p - a[1].p)[0][0];
  assert.equal(firstFile, best);
  assert.equal(await page.getAttribute('#results-table th:nth-child(3)', 'aria-sort'), 'descending');
  // save overlay as PNG: the full-size frame with its map, named after the file
  const card = page.locator('[data-testid=result][data-file="frame-3.png"]');
  const [png] = await Promise.all([page.waitForEvent('download'), card.locator('button', { hasText: 'Save overlay as PNG' }).click()]);
  assert.equal(png.suggestedFilename(), 'frame-3-cam.png');
  const saved = readFileSync(await png.path());
  assert.equal(saved.subarray(1, 4).toString(), 'PNG');
  assert.deepEqual([saved.readUInt32BE(16), saved.readUInt32BE(20)], [640, 480], 'saved at the frame\'s full size');
  await page.click('#clear');
  assert.equal(await page.locator('[data-testid=result]').count(), 0);
  assert.equal(await page.isHidden('#results-table'), true);
  await context.close();
});

test('keyboard only: Tab to the drop zone, Enter opens the picker; Space too', { skip }, async () => {
  const { context, page } = await open(`file://${DIST}/index.html`);
  let focused = '';
  for (let i = 0; i < 10 && focused !== 'dropzone'; i++) {
    await page.keyboard.press('Tab');
    focused = await page.evaluate(() => document.activeElement && document.activeElement.id);
  }
  assert.equal(focused, 'dropzone', 'the drop zone is reachable with Tab');
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
  assert.notEqual(outline, 'none', 'focus is visible');
  // listen for file choosers before any key is pressed (the interception is switched on asynchronously)
  const choosers = [];
  page.on('filechooser', (c) => choosers.push(c));
  await page.evaluate(() => new Promise((ok) => setTimeout(ok, 100)));
  let n = 0;
  for (const key of ['Enter', ' ']) {
    assert.equal(await page.evaluate(() => document.activeElement.id), 'dropzone', `focus is on the drop zone before ${JSON.stringify(key)}`);
    await page.keyboard.press(key);
    for (let t = 0; t < 300 && choosers.length <= n; t++) await new Promise((ok) => setTimeout(ok, 100));
    assert.equal(choosers.length, n + 1, `${JSON.stringify(key)} opened the file picker`);
    const chooser = choosers[n];
    assert.equal(chooser.isMultiple(), true);
    await chooser.setFiles([files[0]]);
    await waitDone(page, ++n);
  }
  const cards = await page.evaluate(readCards);
  for (const c of cards) assert.ok(Math.abs(Number(c.p) - want[c.file].p) < 1e-4);
  await context.close();
});

test('drag and drop of files, and paste from the clipboard', { skip }, async () => {
  const { context, page } = await open(`file://${DIST}/index.html`);
  const b64 = (p) => readFileSync(p).toString('base64');
  const give = (kind, items) => page.evaluate(({ kind, items }) => {
    const dt = new DataTransfer();
    for (const { name, data, type } of items) dt.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
    if (kind === 'drop') {
      const zone = document.querySelector('#dropzone');
      zone.dispatchEvent(new DragEvent('dragover', { dataTransfer: dt, bubbles: true, cancelable: true }));
      zone.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
    } else {
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }
  }, { kind, items });
  await give('drop', [files[1], files[4]].map((p) => ({ name: basename(p), data: b64(p), type: 'image/png' })));
  await waitDone(page, 2);
  await give('paste', [{ name: 'image.png', data: b64(files[0]), type: 'image/png' }]);
  await waitDone(page, 3);
  const cards = await page.evaluate(readCards);
  assert.deepEqual(cards.map((c) => c.file), ['frame-2.png', 'garbage.png', 'pasted-1.png']);
  assert.ok(Math.abs(Number(cards[0].p) - want['frame-2.png'].p) < 1e-4);
  assert.equal(cards[1].error, want['garbage.png'].error);
  assert.ok(Math.abs(Number(cards[2].p) - want['frame-1.png'].p) < 1e-4, 'the pasted image is classified');
  await context.close();
});

test('DICOM: a cine loop opens on its most suspicious frame, the slider shows each frame; scan-area crop; refusals', { skip }, async () => {
  const py = findPython(['pydicom', 'numpy', 'PIL']);
  assert.ok(py, 'python3 with pydicom, numpy and PIL is missing: run make setup');
  const dir = join(tmp, 'dicom');
  const gen = spawnSync(py, [join(ROOT, 'tests', 'tools', 'make_dicom.py'), dir], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const pick = ['multiframe-8.dcm', 'jpeg-multiframe-rgb-tint.dcm', 'us-regions.dcm', 'mono2-16-window.dcm', 'refuse-h264.dcm'].map((f) => join(dir, f));
  // the CLI's answer for every frame (--us-region: the page crops files that name their scan area)
  const cliFrames = (f, extra = []) => spawnSync(CLI, ['classify', ...extra, f], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const { context, page } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, pick);
  await waitDone(page, pick.length);
  const cards = Object.fromEntries((await page.evaluate(readCards)).map((c) => [c.file, c]));
  for (const f of pick) {
    const name = basename(f);
    const want = cliFrames(f, name.startsWith('us-regions') ? ['--us-region'] : []);
    const card = cards[name];
    if (want[0].error) {
      assert.equal(card.error, want[0].error, name);
      continue;
    }
    const best = want.reduce((a, b) => (b.p_malignant > a.p_malignant ? b : a));
    assert.ok(Math.abs(Number(card.p) - best.p_malignant) < 1e-4, `${name}: page ${card.p}, CLI's most suspicious frame ${best.p_malignant}`);
    assert.equal(card.label, best.label);
    assert.equal(Number(await page.getAttribute(`[data-testid=result][data-file="${name}"]`, 'data-frame')), best.frame);
    assert.ok(card.cam.opaque > 0);
    if (want.length > 1) {
      // move the slider to every frame: the card shows that frame's probability
      const slider = page.locator(`[data-testid=result][data-file="${name}"] .frames input[type=range]`);
      for (const w of want) {
        await slider.fill(String(w.frame));
        await page.waitForFunction(({ name, p }) => {
          const t = document.querySelector(`[data-testid=result][data-file="${name}"] .verdict .p`);
          return t && t.textContent === `p(malignant) = ${p}`;
        }, { name, p: w.p_malignant.toFixed(3) }, { timeout: 30000 });
      }
    }
  }
  const metaText = await page.textContent('[data-testid=result][data-file="us-regions.dcm"]');
  assert.match(metaText, /DICOM/);
  assert.match(metaText, /cropped to the scan area/);
  const all = await page.textContent('body');
  for (const secret of ['SECRETNAME', 'PID-SECRET', '19700101', 'SECRETDOCTOR', 'SECRET HOSPITAL']) assert.ok(!all.includes(secret), `${secret} shown on the page`);
  await context.close();
});

test('DICOM as scanners write it: a DICOMDIR, a report and a PDF skipped in one line; a tolerated file and a disagreeing JPEG say "read despite"', { skip }, async () => {
  const py = findPython(['pydicom', 'numpy', 'PIL']);
  assert.ok(py, 'python3 with pydicom, numpy and PIL is missing: run make setup');
  const dir = join(tmp, 'dicom-read');
  const gen = spawnSync(py, [join(ROOT, 'tests', 'tools', 'make_dicom.py'), dir], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const images = ['tolerate-no-meta.dcm', 'jpeg-colour-subsampled-says-rgb.dcm', 'big-endian-rgb16.dcm', 'deflate-multiframe-8.dcm'];
  const pick = [...images, 'DICOMDIR', 'not-image-sr.dcm', 'not-image-pdf.dcm'].map((f) => join(dir, f));
  const { context, page } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, pick);
  await waitDone(page, images.length);
  await page.waitForFunction(() => /Skipped 3 files/.test(document.querySelector('[data-testid=skipped]').textContent), null, { timeout: 60000 });
  const skipped = await page.textContent('[data-testid=skipped]');
  assert.match(skipped, /DICOMDIR: a DICOMDIR/);
  assert.match(skipped, /not-image-sr\.dcm: .*a structured report/);
  assert.match(skipped, /not-image-pdf\.dcm: .*an encapsulated document/);
  const cards = Object.fromEntries((await page.evaluate(readCards)).map((c) => [c.file, c]));
  assert.deepEqual(Object.keys(cards).sort(), [...images].sort(), 'a card for each image, none for the others');
  for (const name of images) {
    const want = spawnSync(CLI, ['classify', '--frame', '0', join(dir, name)], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l))[0];
    assert.ok(!cards[name].error, `${name}: ${cards[name].error}`);
    if (name !== 'deflate-multiframe-8.dcm') assert.ok(Math.abs(Number(cards[name].p) - want.p_malignant) < 1e-4, `${name}: page ${cards[name].p}, CLI ${want.p_malignant}`);
  }
  const note = (name) => page.textContent(`[data-testid=result][data-file="${name}"] [data-testid=dicom-notes]`);
  assert.match(await note('tolerate-no-meta.dcm'), /^read despite no preamble, DICM marker or file meta \(Implicit VR Little Endian assumed\)/);
  assert.match(await note('jpeg-colour-subsampled-says-rgb.dcm'), /read despite a JPEG codestream holding YCbCr \(subsampled chroma\)/);
  assert.equal(await page.locator('[data-testid=result][data-file="big-endian-rgb16.dcm"] [data-testid=dicom-notes]').count(), 0);
  await context.close();
});

// the compressed syntaxes in the page opened from disk (the single-threaded engine): one file of each
// family, made by independent encoders (tests/tools/make_dicom_codecs.py, as dicom-codecs.test.mjs
// makes them; deflate and big endian by dcmconv from its sources); each card's p is the CLI's
test('DICOM codecs: a file of each compressed family gets the CLI\'s p on its card, no request leaves the page', { skip }, async (t) => {
  const py = findPython(['pydicom', 'numpy', 'PIL']);
  assert.ok(py, 'python3 with pydicom, numpy and PIL is missing: run make setup');
  const absent = ['dcmcjpls', 'dcmdjpls', 'dcmcjpeg', 'dcmdjpeg', 'dcmconv', 'opj_compress', 'opj_decompress', 'ojph_compress', 'ojph_expand']
    .filter((tool) => spawnSync(tool, ['-h']).error);
  if (absent.length) return t.skip(`encoders absent: ${absent.join(', ')} (make setup installs dcmtk, libopenjp2-tools, openjph-tools)`);
  const dir = join(tmp, 'dicom-codecs');
  const gen = spawnSync(py, [join(ROOT, 'tests', 'tools', 'make_dicom_codecs.py'), dir], { encoding: 'utf8' });
  assert.equal(gen.status, 0, gen.stderr);
  const { cases, skipped } = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  // JPEG 2000 lossless and lossy, HTJ2K lossless and lossy, JPEG-LS lossless and near-lossless, JPEG
  // Lossless SV1 and process 14, JPEG Extended 12-bit; 16-bit colour: RLE, JPEG-LS, JPEG 2000
  const wanted = ['j2k-rct-c8', 'j2k-ict-ct', 'htj2k-rct-c8', 'htj2k-lossy-ct', 'jls-c8', 'jls-near-g16', 'jpeg-sv1-c8', 'jpeg-p14-g16',
    'jpeg-ext12-g12', 'rle-c16', 'jls-c12', 'j2k-rct-c16'];
  const picked = [], left = [];
  for (const name of wanted) {
    const c = cases.find((x) => x.name === name && !x.refuse);
    if (c) { picked.push(c.file); continue; }
    // a 16-bit colour case whose encoder is absent (its entry in "skipped": "rle-c16: dcmcrle and dcmdrle absent")
    const why = skipped.find((s) => s.startsWith(`${name.replace(/-(rct|rgb)-/, '-')}:`));
    assert.ok(why, `make_dicom_codecs.py wrote no ${name}`);
    left.push(why);
  }
  for (const [name, src, opt] of [['deflate-c8', 'c8', '+td'], ['big-endian-g16', 'g16', '+tb'], ['big-endian-c16', 'c16', '+tb']]) {
    const out = join(dir, `${name}.dcm`);
    const r = spawnSync('dcmconv', [opt, join(dir, `src-${src}.dcm`), out], { encoding: 'utf8' });
    assert.equal(r.status, 0, `dcmconv ${opt}: ${r.stderr}`);
    picked.push(out);
  }
  if (left.length) t.diagnostic(`left out (encoder absent): ${left.join('; ')}`);
  const info = Object.fromEntries(picked.map((f) => [basename(f), JSON.parse(spawnSync(CLI, ['dicom-info', f], { encoding: 'utf8' }).stdout)]));
  const uids = new Set(Object.values(info).map((i) => i.transfer_syntax_uid));
  for (const uid of ['1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.70',
    '1.2.840.10008.1.2.4.57', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.1.99', '1.2.840.10008.1.2.2']) {
    assert.ok(uids.has(uid), `no file of ${uid}: ${[...uids].join(' ')}`);
  }
  const cli = cliAnswers(picked);
  for (const [name, w] of Object.entries(cli)) assert.equal(w.error, undefined, `${name}: the CLI refuses it`);
  const { context, page, log } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, picked);
  await waitDone(page, picked.length);
  const cards = await page.evaluate(readCards);
  assert.deepEqual(cards.map((c) => c.file).sort(), Object.keys(cli).sort(), 'a card for each file');
  for (const c of cards) {
    assert.equal(c.error, undefined, `${c.file}: ${c.error}`);
    assert.ok(Math.abs(Number(c.p) - cli[c.file].p) <= 1e-4, `${c.file}: page p=${c.p}, CLI p=${cli[c.file].p}`);
    assert.equal(c.label, cli[c.file].label, `${c.file}: label`);
    assert.ok(c.cam && c.cam.opaque > 0, `${c.file}: the overlay is drawn`);
  }
  for (const [name, i] of Object.entries(info)) {
    const text = await page.textContent(`[data-testid=result][data-file="${name}"]`);
    if (i.transfer_syntax) assert.ok(text.includes(i.transfer_syntax), `${name}: the card names its syntax ${i.transfer_syntax}: ${text}`);
  }
  assert.deepEqual(foreignRequests(log.requests, `file://${DIST}/`), [], 'no request outside the page\'s own folder');
  assert.deepEqual(log.afterReady, [], 'no request at all once the page is ready');
  assert.deepEqual(log.errors, []);
  console.log(`# chromium file://: ${picked.length} compressed DICOM files, every card's p the CLI's`);
  await context.close();
});

test('accessibility: axe-core finds no serious or critical violation (desktop and tablet widths)', { skip }, async () => {
  const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  for (const viewport of [{ width: 1366, height: 768 }, { width: 768, height: 1024 }]) {
    // axe is injected as a script: the test lifts the page's CSP for it (the page itself runs with it)
    const { context, page } = await open(`file://${DIST}/index.html`, { viewport, bypassCSP: true });
    await giveFiles(page, files);
    await waitDone(page, files.length);
    await page.addScriptTag({ path: axe });
    const result = await page.evaluate(() => globalThis.axe.run(document, { resultTypes: ['violations'] }));
    const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join('; ')})`), []);
    // nothing wider than the window (readable without horizontal scrolling)
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `the page is ${overflow}px wider than a ${viewport.width}px window`);
    await page.screenshot({ path: join(ARTIFACTS, `page-chromium-${viewport.width}.png`), fullPage: true });
    await context.close();
  }
});

test('load another model: a valid .sialo is used, a damaged one is refused with its reason', { skip }, async () => {
  const other = join(tmp, 'clinic.sialo');
  const r = spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '64', '--seed', '5', other], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const otherInfo = JSON.parse(spawnSync(CLI, ['info', other], { encoding: 'utf8' }).stdout);
  const damaged = join(tmp, 'damaged.sialo');
  const bytes = readFileSync(other);
  bytes[bytes.length >> 1] ^= 0x55;
  writeFileSync(damaged, bytes);
  const engineReason = spawnSync(CLI, ['info', damaged], { encoding: 'utf8' }).stderr.trim().replace(/^sialoscan: (.*?: )?/, '');
  assert.ok(engineReason.length > 5, engineReason);

  const { context, page } = await open(`file://${DIST}/index.html`);
  await page.setInputFiles('[data-testid=model-input]', damaged);
  await page.waitForFunction(() => /refused/.test(document.querySelector('#model-message').textContent));
  const message = await page.textContent('#model-message');
  assert.ok(message.includes(engineReason), `the refusal gives the engine's reason: ${message} / ${engineReason}`);
  assert.ok((await page.textContent('#model-info')).includes(want && JSON.parse(spawnSync(CLI, ['info', join(ROOT, 'models', 'sialoscan-busi.sialo')], { encoding: 'utf8' }).stdout).checksum));

  await page.setInputFiles('[data-testid=model-input]', other);
  await page.waitForFunction(() => /loaded/.test(document.querySelector('#model-message').textContent));
  assert.ok((await page.textContent('#model-info')).includes(otherInfo.checksum));
  await giveFiles(page, [files[0]]);
  await waitDone(page, 1);
  const [card] = await page.evaluate(readCards);
  const cliOther = cliAnswers([files[0]], other)[basename(files[0])];
  assert.ok(Math.abs(Number(card.p) - cliOther.p) < 1e-4, `page ${card.p} vs CLI ${cliOther.p} with the clinic's model`);

  // an ensemble of two networks: the model panel says so, the page's p is the CLI's
  const second = join(tmp, 'clinic-2.sialo'), ens = join(tmp, 'clinic-ensemble.sialo');
  assert.equal(spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '64', '--seed', '6', second]).status, 0);
  const e = spawnSync(CLI, ['ensemble', other, second, '--out', ens], { encoding: 'utf8' });
  assert.equal(e.status, 0, e.stderr);
  await page.setInputFiles('[data-testid=model-input]', ens);
  await page.waitForFunction(() => /clinic-ensemble\.sialo loaded/.test(document.querySelector('#model-message').textContent));
  const panel = await page.textContent('#model-info');
  assert.ok(panel.includes('ensemble of 2'), `the model panel names the ensemble: ${panel}`);
  assert.ok(panel.includes('Network 2 of 2'), 'the model panel lists the networks');
  await giveFiles(page, [files[0]]);
  await waitDone(page, 2);
  const cards = await page.evaluate(readCards);
  const cliEns = cliAnswers([files[0]], ens)[basename(files[0])];
  const last = cards.find((c) => Math.abs(Number(c.p) - cliEns.p) < 1e-4);
  assert.ok(last, `a card with the ensemble's p ${cliEns.p}: ${cards.map((c) => c.p)}`);
  await context.close();
});

test('a 100-frame batch: the page stays responsive and memory stays bounded', { skip }, async () => {
  const dir = join(tmp, 'batch');
  mkdirSync(dir);
  const batch = [];
  for (let i = 0; i < 100; i++) {
    const p = join(dir, `b${String(i).padStart(3, '0')}.png`);
    writeFileSync(p, testImage(100 + i, 300 + (i % 7) * 90, 240 + (i % 5) * 80)); // 300..840 x 240..560
    batch.push(p);
  }
  const { context, page } = await open(`file://${DIST}/index.html`);
  const cdp = await context.newCDPSession(page);
  await cdp.send('Performance.enable');
  const jsHeap = async () => {
    await cdp.send('HeapProfiler.collectGarbage');
    const { metrics } = await cdp.send('Performance.getMetrics');
    return metrics.find((m) => m.name === 'JSHeapUsedSize').value;
  };
  const heapStart = await jsHeap();
  await giveFiles(page, batch.slice(0, 10));
  await waitDone(page, 10);
  const wasm10 = Number(await page.getAttribute('#engine-status', 'data-heap-bytes'));
  // the UI thread answers while the worker is busy: time a few round trips through the event loop
  await giveFiles(page, batch.slice(10));
  const stalls = await page.evaluate(async () => {
    const worst = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await new Promise((ok) => setTimeout(ok, 0));
      worst.push(performance.now() - t);
      await new Promise((ok) => setTimeout(ok, 50));
    }
    return Math.max(...worst);
  });
  await waitDone(page, 100, 300000);
  const wasm100 = Number(await page.getAttribute('#engine-status', 'data-heap-bytes'));
  const heapEnd = await jsHeap();
  const cards = await page.evaluate(readCards);
  assert.equal(cards.filter((c) => c.error).length, 0);
  for (const c of cards) assert.ok(Math.max(c.cam.w, c.cam.h) <= 480, `${c.file}: kept pictures are downscaled (${c.cam.w}x${c.cam.h})`);
  assert.equal(wasm100, wasm10, `the WASM heap grew from ${wasm10} to ${wasm100} bytes between frame 10 and 100`);
  assert.ok(heapEnd - heapStart < 64 * 2 ** 20, `the page's JS heap grew by ${((heapEnd - heapStart) / 2 ** 20).toFixed(1)} MB over 100 frames`);
  assert.ok(stalls < 250, `the page's event loop stalled ${stalls.toFixed(0)} ms while classifying`);
  const ms = (await page.$$eval('#results-table tbody tr td:nth-child(5)', (tds) => tds.map((t) => Number(t.textContent)))).sort((a, b) => a - b);
  console.log(`# chromium 100 frames: WASM heap ${(wasm100 / 2 ** 20).toFixed(0)} MB, JS heap +${((heapEnd - heapStart) / 2 ** 20).toFixed(1)} MB, median ${ms[50]} ms/frame, worst UI stall ${stalls.toFixed(0)} ms`);
  await context.close();
});

// the out-of-distribution warning: a natural photograph gets it on its card (visible, not a tooltip),
// a BUSI frame does not; the table and the CSV carry the check, and the photograph keeps its p
test('a natural photograph gets the out-of-distribution warning on its card', { skip }, async (t) => {
  const photo = join(ROOT, '..', 'shared', 'samples', 'imagenet', 'dog.jpg');
  const busi = join(ROOT, '..', 'shared', 'data', 'busi', 'benign', 'benign-001.png');
  if (!existsSync(photo)) { t.skip(`${photo} is absent`); return; }
  const given = [photo, ...(existsSync(busi) ? [busi] : [])];
  const cli = spawnSync(CLI, ['classify', ...given], { encoding: 'utf8' }).stdout.trim().split('\n').map((l) => JSON.parse(l));
  const { context, page } = await open(`file://${DIST}/index.html`);
  await giveFiles(page, given);
  await waitDone(page, given.length);
  const card = page.locator('[data-testid=result][data-file="dog.jpg"]');
  assert.equal(await card.getAttribute('data-ood'), 'flagged');
  assert.ok(Math.abs(Number(await card.getAttribute('data-ood-score')) - cli[0].ood.score) <= 1e-4 * Math.max(1, cli[0].ood.score));
  const warning = card.locator('[data-testid=ood-warning]');
  assert.equal(await warning.isVisible(), true, 'the warning is shown on the card');
  assert.match(await warning.textContent(), /This does not look like the ultrasound frames the model was trained on — the probability is not meaningful/);
  assert.equal(await warning.getAttribute('role'), 'alert');
  assert.ok(Math.abs(Number(await card.getAttribute('data-p-malignant')) - cli[0].p_malignant) < 1e-4, 'the p is still there');
  if (given.length > 1) {
    const ok = page.locator('[data-testid=result][data-file="benign-001.png"]');
    assert.equal(await ok.getAttribute('data-ood'), 'ok');
    assert.equal(await ok.locator('[data-testid=ood-warning]').count(), 0);
  }
  // the table: the photograph's label says it is not meaningful (never a plain "benign" / "malignant")
  const row = page.locator('#results-table tbody tr', { hasText: 'dog.jpg' });
  assert.match(await row.textContent(), /not meaningful/);
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split('\r\n');
  const dog = csv.find((l) => l.startsWith('dog.jpg,')).split(',');
  assert.equal(dog[5], 'true');
  assert.equal(dog[7], 'true');
  assert.ok(Math.abs(Number(dog[1]) - cli[0].p_malignant) < 1e-4, 'Export CSV still writes the p');
  await context.close();
});
