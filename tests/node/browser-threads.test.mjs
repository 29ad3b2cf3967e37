// browser-threads.test.mjs — the pthreads build where the page uses it: a dedicated Web Worker of
// a cross-origin-isolated page (served with COOP/COEP by tools/serve.mjs) does
// importScripts('/wasm/dist/sialoscan-mt.js') — a different folder from the worker's, so the
// script must find sialoscan-mt.wasm and sialoscan-mt.worker.js next to its own URL — and
// classifies a generated PNG with Grad-CAM on 2 threads in headless Chromium. The probability
// equals the native CLI's (within 1e-4), the map equals the single-threaded build's in Node
// (within 1e-6), info().engine says pthreads / 2 threads. Without isolation the script refuses
// with a readable Error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { serveStatic } from '../../tools/serve.mjs';
import { createSialoscan } from '../../wasm/sialoscan.mjs';
import { testImage } from './lib/png.mjs';
import { CHROMIUM_ARGS } from './lib/page-fixtures.mjs';
import { cliVersion } from './lib/harness.mjs';

const ROOT = resolve('.');
const CHROMIUM = '/usr/bin/chromium';
const MODEL = 'models/sialoscan-busi.sialo';
const skip = existsSync(CHROMIUM) ? false : process.env.CI ? false : `${CHROMIUM} is absent (make setup installs it)`;
const PAGE_DIR = join(ROOT, 'build', 'browser-threads'); // served from the repository root, generated here

// the page's worker, as web/ will have it: the engine runs here, never on the page's thread
const WORKER = `
importScripts('/wasm/dist/sialoscan-mt.js');
onmessage = async ({ data: { model, image, threads } }) => {
  try {
    const s = await createSialoscan({ model, threads });
    const r = await s.classify(image, { cam: true });
    const engine = s.info().engine;
    s.dispose();
    postMessage({ isolated: self.crossOriginIsolated, engine, p: r.pMalignant,
                  cam: { width: r.cam.width, height: r.cam.height, map: r.cam.map, rgba: r.cam.rgba.length } });
  } catch (e) {
    postMessage({ isolated: self.crossOriginIsolated, error: String(e && e.message || e), isError: e instanceof Error });
  }
};
`;

let browser, tmp;

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: CHROMIUM_ARGS,
  });
  mkdirSync(PAGE_DIR, { recursive: true });
  writeFileSync(join(PAGE_DIR, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sialoscan threads</title>\n');
  writeFileSync(join(PAGE_DIR, 'worker.js'), WORKER);
  tmp = join(PAGE_DIR, 'tmp');
  mkdirSync(tmp, { recursive: true });
});

after(async () => {
  await browser?.close();
  if (PAGE_DIR && existsSync(PAGE_DIR)) rmSync(PAGE_DIR, { recursive: true, force: true });
});

// in the page: hand the model and the image to the worker, wait for its answer
async function runWorker({ image, threads }) {
  const model = new Uint8Array(await (await fetch('/models/sialoscan-busi.sialo')).arrayBuffer());
  const w = new Worker('worker.js');
  const answer = await new Promise((ok, fail) => {
    w.onmessage = (e) => ok(e.data);
    w.onerror = (e) => fail(new Error(`worker: ${e.message}`));
    w.postMessage({ model, image: new Uint8Array(image), threads });
  });
  w.terminate();
  if (answer.cam) answer.cam.map = Array.from(answer.cam.map);
  return { ...answer, pageIsolated: globalThis.crossOriginIsolated };
}

test('pthreads build in a worker of a cross-origin-isolated page (2 threads, Grad-CAM)', { skip, timeout: 120000 }, async () => {
  const png = testImage(21, 160, 120);
  const pngPath = join(tmp, 'a.png');
  writeFileSync(pngPath, png);
  const native = spawnSync('build/sialoscan', ['classify', '--model', MODEL, pngPath], { encoding: 'utf8' });
  assert.equal(native.status, 0, native.stderr);
  const want = JSON.parse(native.stdout).p_malignant;

  const server = await serveStatic(ROOT, { port: 0, isolation: true });
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  try {
    await page.goto(`${server.url}build/browser-threads/index.html`);
    const got = await page.evaluate(runWorker, { image: Array.from(png), threads: 2 });
    assert.equal(got.error, undefined, got.error);
    assert.equal(got.pageIsolated, true, 'the page is crossOriginIsolated');
    assert.equal(got.isolated, true, 'the worker is crossOriginIsolated');
    // Chromium 156 has relaxed SIMD: the relaxed twin of the pthreads build runs
    assert.deepEqual(got.engine, { build: 'pthreads', threads: 2, simd: true, relaxedSimd: true, kernel: 'f32_gemm_4x8_relaxedsimd', codecs: cliVersion().codecs });
    assert.ok(Math.abs(got.p - want) < 1e-4, `browser ${got.p} vs native ${want}`);
    assert.equal(got.cam.width, 160);
    assert.equal(got.cam.height, 120);
    assert.equal(got.cam.rgba, 160 * 120 * 4);

    // the same map as the single-threaded SIMD128 build computes in Node (fused multiply-adds round
    // once: equal within 1e-4 of the map's range, not bit for bit; measured 1.2e-5)
    const s = await createSialoscan({ model: new Uint8Array(readFileSync(MODEL)) });
    const ref = (await s.classify(png, { cam: true })).cam.map;
    s.dispose();
    let maxAbs = 0;
    for (let i = 0; i < ref.length; i++) maxAbs = Math.max(maxAbs, Math.abs(got.cam.map[i] - ref[i]));
    assert.ok(maxAbs <= 1e-4, `Grad-CAM browser (2 threads, relaxed SIMD) vs Node (1 thread, SIMD128): max |d| = ${maxAbs}`);

    // the files came from next to the script, not next to the worker
    for (const f of ['/wasm/dist/sialoscan-mt.js', '/wasm/dist/sialoscan-mt.relaxed.wasm', '/wasm/dist/sialoscan-mt.worker.js']) {
      assert.ok(server.requests.includes(f), `${f} was requested (requests: ${server.requests.join(' ')})`);
    }
    assert.deepEqual(errors, []);
  } finally {
    await page.close();
    await server.close();
  }
});

test('without cross-origin isolation the pthreads build refuses with a readable Error', { skip, timeout: 60000 }, async () => {
  const server = await serveStatic(ROOT, { port: 0, isolation: false });
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}build/browser-threads/index.html`);
    const got = await page.evaluate(runWorker, { image: Array.from(testImage(1, 64, 64)), threads: 2 });
    assert.equal(got.pageIsolated, false);
    assert.equal(got.isError, true);
    assert.match(got.error, /cross-origin-isolated/);
  } finally {
    await page.close();
    await server.close();
  }
});
