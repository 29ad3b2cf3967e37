// page-pool.test.mjs — the page's engine workers (web/engine-client.js) in headless Chromium, opened
// from disk (file://: no SharedArrayBuffer, so the page runs min(cores, 4) single-threaded engine
// workers, a frame each):
// - a multi-frame drop classified by the pool gives the same CSV (every probability, digit for
//   digit) and the same pictures (the frame and its Grad-CAM overlay, pixel for pixel) as the page
//   forced to one worker (?workers=1), in drop order, and the frames went to more than one worker;
// - memory given back: a 48-megapixel frame (generated here) makes its worker's WebAssembly memory
//   grow far past 256 MB; the page replaces that worker and, after 5 small frames, the page's
//   WebAssembly memory (window.__sialoscanMemory) is back under 300 MB, and the 5 results equal those
//   of a fresh page; independently of the page's own read-out, the resident memory of the browser's
//   renderer processes (Linux /proc) comes back to near where it was before the big frame.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import zlib from 'node:zlib';
import { testImage, crc32 } from './lib/png.mjs';
import { serveStatic } from '../../tools/serve.mjs';
import { CHROMIUM, CHROMIUM_ARGS, DIST } from './lib/page-fixtures.mjs';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (make setup installs it)`;
const URL_DISK = `file://${DIST}/index.html`;
let browser, tmp;

before(async () => {
  if (skip) return;
  assert.ok(existsSync(join(DIST, 'index.html')), 'web/dist is missing: `make web` builds it');
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-pool-'));
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

// open the page and wait until every engine worker it plans has started
async function open(url) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  await page.waitForFunction(() => {
    const s = document.querySelector('#engine-status').dataset;
    return s.workers === s.poolSize;
  }, null, { timeout: 60000 });
  return { context, page, errors };
}

const waitDone = (page, n, timeout = 180000) =>
  page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, n, { timeout });

// in the page: each card's file, p, label and an FNV-1a hash of its two canvases' pixels
function cardPictures() {
  const hash = (canvas) => {
    const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    let h = 0x811c9dc5;
    for (let i = 0; i < px.length; i++) h = Math.imul(h ^ px[i], 16777619);
    return `${canvas.width}x${canvas.height}:${(h >>> 0).toString(16)}`;
  };
  return Array.from(document.querySelectorAll('[data-testid=result]')).map((card) => ({
    file: card.dataset.file, p: card.dataset.pMalignant, label: card.dataset.label, error: card.dataset.error,
    pictures: Array.from(card.querySelectorAll('canvas')).map(hash),
  }));
}

async function csvOf(page) {
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  return readFileSync(await download.path(), 'utf8');
}

async function classify(url, paths) {
  const { context, page, errors } = await open(url);
  const poolSize = Number(await page.getAttribute('#engine-status', 'data-pool-size'));
  await page.setInputFiles('#dropzone input[type=file]', paths);
  await waitDone(page, paths.length);
  const cards = await page.evaluate(cardPictures);
  const csv = await csvOf(page);
  const memory = await page.evaluate(() => globalThis.__sialoscanMemory);
  const status = await page.textContent('#engine-status');
  await context.close();
  assert.deepEqual(errors, []);
  return { cards, csv, memory, poolSize, status };
}

test('from disk, a pool of engine workers gives what one worker gives, bit for bit, in drop order', { skip, timeout: 300000 }, async () => {
  const dir = join(tmp, 'batch');
  mkdirSync(dir);
  const paths = [];
  for (let i = 0; i < 12; i++) {
    const p = join(dir, `f${String(i).padStart(2, '0')}.png`);
    writeFileSync(p, testImage(300 + i, 200 + (i % 4) * 140, 180 + (i % 3) * 120));
    paths.push(p);
  }
  writeFileSync(join(dir, 'garbage.png'), 'not an image\n');
  paths.splice(5, 0, join(dir, 'garbage.png')); // an unreadable file in the middle keeps its place
  const one = await classify(`${URL_DISK}?workers=1`, paths);
  const pool = await classify(URL_DISK, paths);
  // served by a plain static host (no isolation, no SharedArrayBuffer either): a pool too
  const plain = await serveStatic(DIST, { isolation: false });
  let servedPool;
  try {
    servedPool = await classify(plain.url, paths);
  } finally {
    await plain.close();
  }
  const cores = await (async () => {
    const { context, page } = await open(URL_DISK);
    const n = await page.evaluate(() => navigator.hardwareConcurrency);
    await context.close();
    return n;
  })();
  assert.equal(one.poolSize, 1);
  assert.equal(pool.poolSize, Math.min(cores, 4), 'min(hardwareConcurrency, 4) workers from disk');
  assert.match(one.status, /1 thread/);
  if (cores > 1) assert.match(pool.status, new RegExp(`${pool.poolSize} workers of 1 thread`));
  // drop order: the cards and the CSV rows in the order of the files given (the page sorts a
  // drop by name, numbers in names compared as numbers)
  const order = paths.map((p) => p.split('/').pop()).sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  assert.deepEqual(pool.cards.map((c) => c.file), order);
  assert.equal(pool.csv, one.csv, 'the CSV of the pool equals the CSV of one worker, byte for byte');
  assert.deepEqual(pool.cards, one.cards, 'every card: p, label, error and both pictures identical');
  assert.equal(servedPool.poolSize, pool.poolSize);
  assert.equal(servedPool.csv, one.csv, 'served (not isolated), the pool gives the same CSV');
  assert.deepEqual(servedPool.cards, one.cards, 'served (not isolated), the same cards');
  assert.ok(pool.cards[order.indexOf('garbage.png')].error, 'the garbage file has its error card');
  if (cores > 1) {
    assert.equal(pool.memory.workers.length, pool.poolSize);
    assert.ok(pool.memory.answered.filter((n) => n > 0).length > 1, `frames went to more than one worker: ${pool.memory.answered}`);
  }
  const mb = (b) => (b / 2 ** 20).toFixed(0);
  console.log(`# pool of ${pool.poolSize}: WebAssembly memory per worker ${pool.memory.workers.map(mb).join(', ')} MB; frames per worker ${pool.memory.answered}`);
});

// resident memory (bytes) of this process's descendant Chromium renderer processes (null without /proc)
function rendererRss() {
  if (!existsSync('/proc/self/stat')) return null;
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]);
      if (!kids.has(ppid)) kids.set(ppid, []);
      kids.get(ppid).push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  let total = 0;
  const stack = [process.pid];
  while (stack.length) {
    for (const c of kids.get(stack.pop()) || []) {
      stack.push(c);
      try {
        if (readFileSync(`/proc/${c}/cmdline`, 'utf8').includes('--type=renderer')) {
          total += 1024 * Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${c}/status`, 'utf8'))[1]);
        }
      } catch { /* gone meanwhile */ }
    }
  }
  return total;
}

// an RGB PNG of w x h with a cheap pattern (48 MP in about a second), deflated at level 1
function bigPng(w, h) {
  const stride = w * 3 + 1;
  const raw = Buffer.alloc(stride * h);
  for (let y = 0; y < h; y++) {
    const o = y * stride;
    for (let x = 0; x < w; x++) {
      const v = ((x * 7 + y * 3) ^ (x >> 5) ^ (y >> 4)) & 255;
      raw[o + 1 + x * 3] = v; raw[o + 2 + x * 3] = v; raw[o + 3 + x * 3] = v;
    }
  }
  const chunk = (type, data) => {
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    out.write(type, 4, 'latin1');
    data.copy(out, 8);
    out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 2;
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw, { level: 1 })), chunk('IEND', Buffer.alloc(0))]);
}

test('memory given back: after a 48-megapixel frame and 5 small ones the page is under 300 MB, results unchanged', { skip, timeout: 300000 }, async () => {
  const dir = join(tmp, 'big');
  mkdirSync(dir);
  const big = join(dir, 'big-48mp.png');
  writeFileSync(big, bigPng(8000, 6000));
  const small = [];
  for (let i = 0; i < 5; i++) {
    const p = join(dir, `s${i}.png`);
    writeFileSync(p, testImage(700 + i, 320 + i * 40, 240 + i * 30));
    small.push(p);
  }
  const fresh = await classify(URL_DISK, small);
  for (const workers of ['', '?workers=1']) {
    const { context, page, errors } = await open(URL_DISK + workers);
    // the pool whole (it grows soon after ready) before the resident memory is read
    await page.waitForFunction(() => globalThis.__sialoscanMemory.workers.length === Number(document.querySelector('#engine-status').dataset.poolSize), null, { timeout: 60000 });
    const rssBefore = rendererRss();
    let rssPeak = 0;
    const sampler = setInterval(() => { rssPeak = Math.max(rssPeak, rendererRss() || 0); }, 200);
    await page.setInputFiles('#dropzone input[type=file]', [big]);
    await waitDone(page, 1);
    await page.setInputFiles('#dropzone input[type=file]', small);
    await waitDone(page, 6);
    // the replacement starts in the background: wait until the pool is whole again
    await page.waitForFunction(() => {
      const s = document.querySelector('#engine-status').dataset;
      return s.workers === s.poolSize && Number(s.recycled) >= 1;
    }, null, { timeout: 60000 });
    clearInterval(sampler);
    await page.waitForTimeout(1000);
    const rssAfter = rendererRss();
    const memory = await page.evaluate(() => globalThis.__sialoscanMemory);
    const peak = memory.peakBytes; // the largest sum the page saw (after the big frame, before the replacement)
    const cards = await page.evaluate(cardPictures);
    await context.close();
    assert.deepEqual(errors, []);
    assert.ok(!cards[0].error, `the 48 MP frame is classified: ${cards[0].error}`);
    assert.ok(peak > 256 * 2 ** 20, `the 48 MP frame made the memory grow past 256 MB (peak ${peak})`);
    assert.ok(memory.recycled >= 1, 'the grown worker was replaced');
    assert.ok(memory.totalBytes < 300 * 2 ** 20, `WebAssembly memory after the small frames: ${memory.totalBytes} bytes (${memory.workers})`);
    assert.deepEqual(cards.slice(1), fresh.cards, 'the small frames give what a fresh page gives');
    const mb = (b) => (b / 2 ** 20).toFixed(0);
    if (rssBefore !== null) {
      assert.ok(rssPeak > rssBefore + 300 * 2 ** 20, `the renderers' resident memory grew with the big frame (${mb(rssBefore)} -> ${mb(rssPeak)} MB)`);
      assert.ok(rssAfter < rssBefore + 256 * 2 ** 20, `the renderers' resident memory came back: ${mb(rssBefore)} MB before, ${mb(rssPeak)} MB at the peak, ${mb(rssAfter)} MB after`);
    }
    console.log(`# ${workers || 'pool'}: WebAssembly memory peak ${mb(peak)} MB, after ${mb(memory.totalBytes)} MB in ${memory.workers.length} worker(s), ${memory.recycled} replaced; ` +
      `renderers' resident memory ${mb(rssBefore)} MB before, ${mb(rssPeak)} MB peak, ${mb(rssAfter)} MB after`);
  }
});
