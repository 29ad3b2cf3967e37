// The WASM module in a real browser (headless Chromium driven by playwright-core): the ES module
// over http, and the standalone classic script in a page opened straight from disk (file://),
// give the same answers as the native CLI, Grad-CAM included.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { extname, join, normalize, resolve } from 'node:path';
import { testImage } from './lib/png.mjs';
import { CHROMIUM_ARGS } from './lib/page-fixtures.mjs';

const ROOT = resolve('.');
const CHROMIUM = '/usr/bin/chromium';
const MODEL = 'models/sialoscan-busi.sialo';
const skip = existsSync(CHROMIUM) ? false : process.env.CI ? false : `${CHROMIUM} is absent (make setup installs it)`;

let browser, server, base, tmp;
const TYPES = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  server = createServer((req, res) => {
    const path = normalize(join(ROOT, decodeURIComponent(new URL(req.url, 'http://x').pathname)));
    if (!path.startsWith(ROOT) || !existsSync(path)) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'content-type': TYPES[extname(path)] || 'application/octet-stream' });
    res.end(readFileSync(path));
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  base = `http://127.0.0.1:${server.address().port}`;
  tmp = mkdtempSync(join(tmpdir(), 'sialo-browser-'));
});

after(async () => {
  await browser?.close();
  server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

function nativeP(pngPath) {
  const r = spawnSync('build/sialoscan', ['classify', '--model', MODEL, pngPath], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).p_malignant;
}

// runs in the page: classify with and without Grad-CAM
async function inPage({ modelB64, imgB64 }) {
  const bytes = (b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  const s = await globalThis.__create({ model: bytes(modelB64) });
  const plain = await s.classify(bytes(imgB64));
  const withCam = await s.classify(bytes(imgB64), { cam: true });
  let error = '';
  try { await s.classify(new Uint8Array([1, 2, 3])); } catch (e) { error = e.message; }
  s.dispose();
  return { p: plain.pMalignant, label: plain.label, pCam: withCam.pMalignant, w: withCam.cam.width, h: withCam.cam.height,
           rgba: withCam.cam.rgba.length, mapMax: Math.max(...withCam.cam.map), error };
}

function check(got, want, w, h) {
  assert.ok(Math.abs(got.p - want) < 1e-5, `browser ${got.p} vs native ${want}`);
  assert.equal(got.pCam, got.p);
  assert.equal(got.w, w);
  assert.equal(got.h, h);
  assert.equal(got.rgba, w * h * 4);
  assert.ok(got.mapMax <= 1 && got.mapMax >= 0);
  assert.match(got.error, /not a PNG, JPEG, BMP or GIF/);
}

test('ES module over http', { skip }, async () => {
  const png = testImage(7, 120, 90);
  const pngPath = join(tmp, 'a.png');
  writeFileSync(pngPath, png);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${base}/wasm/sialoscan.mjs`); // any same-origin page will do
  await page.evaluate(async () => { globalThis.__create = (await import('/wasm/sialoscan.mjs')).createSialoscan; });
  const got = await page.evaluate(inPage, { modelB64: readFileSync(MODEL).toString('base64'), imgB64: png.toString('base64') });
  check(got, nativeP(pngPath), 120, 90);
  assert.deepEqual(errors, []);
  await page.close();
});

test('standalone script in a page opened from disk (file://)', { skip }, async () => {
  const png = testImage(11, 100, 140);
  const pngPath = join(tmp, 'b.png');
  writeFileSync(pngPath, png);
  const html = join(tmp, 'page.html');
  writeFileSync(html, `<!doctype html><meta charset="utf-8"><script src="file://${ROOT}/wasm/dist/sialoscan-standalone.js"></script>`);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${html}`);
  await page.evaluate(() => { globalThis.__create = globalThis.createSialoscan; });
  const got = await page.evaluate(inPage, { modelB64: readFileSync(MODEL).toString('base64'), imgB64: png.toString('base64') });
  check(got, nativeP(pngPath), 100, 140);
  assert.deepEqual(errors, []);
  await page.close();
});
