// The installable, offline page (web/dist served over http): headless Chromium, driven by
// playwright-core. Served once, the page's service worker keeps its folder; with the server
// stopped and the browser offline, a reload still gives the page and a frame gets the same p as
// online (and as the native CLI). A second build served at the same URL replaces the first one
// ("Updated to <version>", only its cache is left, page and engine of the new build). Cross-origin
// isolated (COOP/COEP, as `make serve`), the page served from the cache stays isolated and runs
// its threads. The service worker answers only its own files' GETs. Opened from disk: no service
// worker, no console error. Files of two builds (a stale cache, a half-copied folder) are refused
// with a sentence.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { serveStatic } from '../../tools/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS, CLI, DIST, ROOT, checkCards, cliAnswers, readCards, writeTestSet } from './lib/page-fixtures.mjs';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (make setup installs it)`;
let browser, tmp, files, want, A, B, distB;

/** the build a dist folder's sw.js was written for: { version, id, files: { name: sha256 } } */
function buildOf(dir) {
  const m = /^const SIALOSCAN_OFFLINE = (\{.*\});\n/.exec(readFileSync(join(dir, 'sw.js'), 'utf8'));
  assert.ok(m, `${dir}/sw.js does not start with its build`);
  return JSON.parse(m[1]);
}

before(async () => {
  if (skip) return;
  assert.ok(existsSync(join(DIST, 'sw.js')), 'web/dist (with sw.js) is missing: `make web` builds it');
  tmp = mkdtempSync(join(tmpdir(), 'sialo-offline-'));
  const all = writeTestSet(join(tmp, 'set'));
  files = [all[0], all[2], all[4]]; // two frames and a file that is not an image
  want = cliAnswers(files);
  A = buildOf(DIST);
  // the next version of the page: the same sources built with another version number
  distB = join(tmp, 'dist-b');
  const r = spawnSync(process.execPath, [join(ROOT, 'tools', 'make-web.mjs'), '--out', distB, '--version', `${A.version}-next`], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  B = buildOf(distB);
  assert.notEqual(A.id, B.id);
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** a context that records page errors, console errors and warnings, failed requests and every request */
async function newPage(options = {}) {
  const context = await browser.newContext({ serviceWorkers: 'allow', ...options });
  const page = await context.newPage();
  const log = { errors: [], console: [], failed: [], requests: [] };
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') log.console.push(m.text()); });
  context.on('requestfailed', (r) => log.failed.push(`${r.url()}: ${r.failure()?.errorText}`));
  context.on('request', (r) => log.requests.push(r.url()));
  return { context, page, log };
}

const ready = (page) => page.waitForSelector('#engine-status[data-ready=true]', { timeout: 120000 });
const controlled = (page) => page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 180000 });

async function classify(page, paths) {
  await page.setInputFiles('#dropzone input[type=file]', paths);
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, paths.length, { timeout: 120000 });
  const cards = await page.evaluate(readCards);
  await page.click('#clear'); // (a page with frames on it would not reload into a new version by itself)
  return cards;
}
const answers = (cards) => cards.map((c) => ({ file: c.file, p: c.p, label: c.label, error: c.error }));

/** the page's caches: { cache name: [file names] } */
const cached = (page) => page.evaluate(async () => {
  const out = {};
  for (const k of await caches.keys()) out[k] = (await (await caches.open(k)).keys()).map((r) => new URL(r.url).pathname.replace(/^.*\//, '')).sort();
  return out;
});
const builtFiles = (build) => Object.keys(build.files).sort();

/** poll fn() (which may throw while the page navigates) until it returns a truthy value */
async function until(fn, what, ms = 180000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await new Promise((ok) => setTimeout(ok, 250));
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

test('served once, the page works offline; a new version at the same URL replaces it and says so', { skip }, async () => {
  let server = await serveStatic(DIST, { isolation: false });
  const port = Number(new URL(server.url).port);
  const { context, page, log } = await newPage();
  await page.goto(server.url);
  await ready(page);
  await controlled(page);
  const online = await classify(page, files);
  checkCards(online, want);
  assert.deepEqual(await cached(page), { [`sialoscan-page / ${A.version} ${A.id}`]: builtFiles(A) }, 'the cache holds the folder\'s files, nothing else');
  assert.equal(await page.isHidden('#page-status'), true, 'a first visit says nothing about versions');
  // no network at all: the server is gone and the browser is offline
  await server.close();
  await context.setOffline(true);
  log.failed.length = 0;
  log.requests.length = 0;
  await page.reload();
  await ready(page);
  const offline = await classify(page, files);
  assert.deepEqual(answers(offline), answers(online), 'offline, the same answers as online');
  assert.deepEqual(log.failed, [], 'every file came from the service worker\'s cache');
  for (const u of log.requests.filter((u) => !u.startsWith('blob:'))) assert.ok(u.startsWith(server.url) && builtFiles(A).includes(u.slice(server.url.length) || 'index.html'), `${u}: only the folder's files are requested (a frame is read from its File, never fetched)`);
  for (const f of files) assert.ok(!log.requests.some((u) => u.includes(basename(f))), `${basename(f)} was never requested`);
  assert.deepEqual(await cached(page), { [`sialoscan-page / ${A.version} ${A.id}`]: builtFiles(A) }, 'no frame was cached');
  // the next version, served at the same URL: the reload shows the kept version, which installs
  // the new one, lets it take over and reloads into it
  await context.setOffline(false);
  server = await serveStatic(distB, { isolation: false, port });
  try {
    await page.reload();
    const said = await until(async () => {
      const t = await page.textContent('#page-status');
      return /Updated to/.test(t) && t;
    }, '"Updated to"');
    assert.equal(said, `Updated to ${B.version} (build ${B.id}).`);
    await ready(page);
    assert.equal(await page.getAttribute('meta[name=sialoscan-build]', 'content'), B.id);
    assert.equal(await page.evaluate(() => globalThis.SIALOSCAN_BUILD.id), B.id);
    assert.doesNotMatch(await page.textContent('#engine-status'), /two different versions/);
    assert.equal(await page.evaluate(async () => { // the service worker in control is the new one
      const ch = new MessageChannel();
      const got = new Promise((ok) => { ch.port1.onmessage = (ev) => ok(ev.data.id); });
      navigator.serviceWorker.controller.postMessage({ type: 'build' }, [ch.port2]);
      return got;
    }), B.id);
    assert.deepEqual(answers(await classify(page, files)), answers(online), 'the new version gives the same answers');
    assert.deepEqual(await cached(page), { [`sialoscan-page / ${B.version} ${B.id}`]: builtFiles(B) }, 'the old version\'s cache is gone');
    assert.deepEqual(log.errors, []);
    assert.deepEqual(log.console, [], 'no console error or warning');
  } finally {
    await context.close();
    await server.close();
  }
});

test('cross-origin isolated (COOP/COEP): from the cache the page stays isolated and threaded; only its own GETs are answered', { skip }, async () => {
  const server = await serveStatic(DIST, { isolation: true });
  // (the test's own fetch calls need the page's CSP lifted: the page itself may not connect anywhere)
  const { context, page, log } = await newPage({ bypassCSP: true });
  try {
    await page.goto(server.url);
    await ready(page);
    await controlled(page);
    const threads = Number(await page.getAttribute('#engine-status', 'data-threads'));
    assert.ok(threads > 1, `isolated online: ${threads} threads`);
    const online = await classify(page, files);
    const status = (path, init) => page.evaluate(async ({ path, init }) => {
      try { return (await fetch(path, init)).status; } catch { return 'network error'; }
    }, { path, init });
    // online, what is not the service worker's goes to the server: a file not in the folder's list
    // (404) and a POST to a listed file (the server refuses every method but GET and HEAD: 405)
    assert.equal(await status('frame-1.png'), 404);
    assert.equal(await status('index.html', { method: 'POST' }), 405);
    await server.close();
    await context.setOffline(true);
    await page.reload();
    await ready(page);
    assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true, 'the cached page keeps its COOP/COEP headers');
    assert.equal(Number(await page.getAttribute('#engine-status', 'data-threads')), threads, 'the threaded engine runs from the cache');
    assert.deepEqual(answers(await classify(page, files)), answers(online));
    assert.equal(await status('index.html'), 200, 'a listed file comes from the cache');
    assert.equal(await status('index.html', { method: 'POST' }), 'network error', 'a POST is not answered from the cache');
    assert.equal(await status('frame-1.png'), 'network error', 'an unlisted file is not answered');
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
    await server.close();
  }
});

test('opened from disk: no service worker, no manifest, no console error', { skip }, async () => {
  const { context, page, log } = await newPage();
  await page.goto(`file://${DIST}/index.html`);
  await ready(page);
  const cdp = await context.newCDPSession(page);
  const manifest = await cdp.send('Page.getAppManifest'); // makes the browser read a manifest now, if it had one
  await page.evaluate(() => new Promise((ok) => setTimeout(ok, 1000)));
  assert.equal(context.serviceWorkers().length, 0);
  assert.equal(await page.evaluate(() => navigator.serviceWorker?.controller ?? null), null);
  assert.equal(await page.isHidden('#page-status'), true);
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.console, [], 'no console error or warning');
  assert.equal(manifest.url, '', 'opened from disk, the page links no manifest (reading it would be a CORS error)');
  await context.close();
});

test('served: the manifest names the app and its icons, which decode at their sizes', { skip }, async () => {
  const server = await serveStatic(DIST, { isolation: true });
  const { context, page, log } = await newPage({ serviceWorkers: 'block' });
  try {
    await page.goto(server.url);
    await ready(page);
    const cdp = await context.newCDPSession(page);
    const m = await cdp.send('Page.getAppManifest');
    assert.deepEqual(m.errors, [], JSON.stringify(m.errors));
    const json = JSON.parse(m.data);
    assert.equal(json.name, 'sialoscan');
    assert.equal(json.display, 'standalone');
    assert.equal(json.start_url, '.');
    const css = readFileSync(join(ROOT, 'web', 'style.css'), 'utf8');
    assert.ok(css.includes(`--accent: ${json.theme_color}`) && css.includes(`--bg: ${json.background_color}`), 'theme and background colours are the page\'s');
    for (const icon of json.icons) {
      const png = readFileSync(join(DIST, icon.src));
      assert.equal(png.subarray(1, 4).toString(), 'PNG');
      assert.equal(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.sizes, icon.src);
      const shown = await page.evaluate(async (src) => { // the browser decodes it
        const img = new Image();
        img.src = src;
        await img.decode();
        return `${img.naturalWidth}x${img.naturalHeight}`;
      }, icon.src);
      assert.equal(shown, icon.sizes);
    }
    assert.deepEqual(json.icons.map((i) => i.sizes).sort(), ['192x192', '512x512']);
    assert.deepEqual(log.errors, []);
  } finally {
    await context.close();
    await server.close();
  }
});

test('files of two builds (engine of another build, or another model) are refused with a sentence', { skip }, async () => {
  const mixed = join(tmp, 'mixed');
  cpSync(DIST, mixed, { recursive: true });
  for (const f of ['sialoscan-worker.js', 'sialoscan-standalone.js', 'sialoscan-worker-source.js']) copyFileSync(join(distB, f), join(mixed, f));
  const otherModel = join(tmp, 'mixed-model');
  cpSync(DIST, otherModel, { recursive: true });
  const r = spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '64', '--seed', '5', join(otherModel, 'sialoscan-busi.sialo')], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  for (const [dir, sentence] of [[mixed, new RegExp(`the page is build ${A.id}, its worker is of build ${B.id}`)],
    [otherModel, /This page's model \(checksum [0-9a-f]{8}\) is not the model it was built with/]]) {
    const server = await serveStatic(dir, { isolation: false });
    const { context, page, log } = await newPage({ serviceWorkers: 'block' });
    try {
      await page.goto(server.url);
      await page.waitForSelector('#engine-status.failed', { timeout: 120000 });
      const text = await page.textContent('#engine-status');
      assert.match(text, sentence);
      assert.match(text, /two different versions.*so it does not run/);
      assert.equal(await page.getAttribute('#engine-status', 'data-ready'), null, 'the page does not become ready');
      assert.deepEqual(log.errors, []);
    } finally {
      await context.close();
      await server.close();
    }
  }
});
