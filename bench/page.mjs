// page.mjs — `make bench-page`: the clinician's page (web/dist) as a clinician meets it, in headless
// Chromium, interleaved rounds of
//   disk          web/dist/index.html opened from disk (file://: a pool of min(cores, 4)
//                 single-threaded engine workers, Blob workers)
//   disk-1w       the same forced to one worker (?workers=1)
//   served        web/dist served by tools/serve.mjs (`make serve`: COOP/COEP, one worker, the
//                 threaded engine)
//   served-pool   the same page served, forced to a pool (?workers=CORES, single-threaded workers)
// per round and mode, in a fresh browser context:
//   cold start  navigation -> engine ready, and navigation -> first result (one 560x420 frame given
//               the moment the page is ready: what "open the page, drop a frame" costs)
//   per frame   once every worker has started, FRAMES more frames given at once: wall time per
//               frame (page to card, incl. Grad-CAM and drawing; 1000 / it = frames per second) and
//               the engine's own ms (decode + preprocess + forward + Grad-CAM)
//
// and where the cold start goes: when the page's files arrived (resource timing: responseEnd) and
// the page's and the engine worker's sialoscan:* performance marks (ms since navigation start).
//
//   node bench/page.mjs [--rounds 3] [--frames 20] [--modes disk,disk-1w,served,served-pool] [--dist DIR] [--variant NAME=DIR ...]
// --dist: the page folder to measure (default web/dist). --variant: also run another build of the page (e.g. a copy of web/dist made before a change),
// interleaved with this one ("current" = web/dist) in every round.
// Last stdout line: { disk: {...}, served: {...} } medians over rounds (with variants:
// { "current disk": ..., "NAME disk": ..., ... }).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { serveStatic } from '../tools/serve.mjs';
import { testImage } from '../tests/node/lib/png.mjs';
import { CHROMIUM, CHROMIUM_ARGS, DIST } from '../tests/node/lib/page-fixtures.mjs';

const argv = process.argv.slice(2);
const opt = (k, d) => (argv.includes(k) ? Number(argv[argv.indexOf(k) + 1]) : d);
const ROUNDS = opt('--rounds', 3), FRAMES = opt('--frames', 20);
const MODES = argv.includes('--modes') ? argv[argv.indexOf('--modes') + 1].split(',') : ['disk', 'disk-1w', 'served', 'served-pool'];
const CORES = Math.min(cpus().length, 4);
const CURRENT = argv.includes('--dist') ? argv[argv.indexOf('--dist') + 1] : DIST;
const variants = [['current', CURRENT], ...argv.flatMap((a, i) => (a === '--variant' ? [argv[i + 1].split('=')] : []))]
  .map(([name, dir]) => [name, resolve(dir)]);
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

const tmp = mkdtempSync(join(tmpdir(), 'sialo-bench-page-'));
const frames = [];
for (let i = 0; i <= FRAMES; i++) {
  const p = join(tmp, `f${String(i).padStart(3, '0')}.png`);
  writeFileSync(p, testImage(500 + i, 560, 420));
  frames.push(p);
}
const servers = [];
const modes = {};
for (const [name, dir] of variants) {
  const server = await serveStatic(dir, { isolation: true });
  servers.push(server);
  const prefix = variants.length > 1 ? `${name} ` : '';
  const urls = { disk: `file://${dir}/index.html`, 'disk-1w': `file://${dir}/index.html?workers=1`,
    served: server.url, 'served-pool': `${server.url}?workers=${CORES}` };
  for (const m of MODES) modes[`${prefix}${m}`] = urls[m];
}
const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
const results = Object.fromEntries(Object.keys(modes).map((m) => [m, []]));

// in the page: the page's files (when each arrived) and the sialoscan:* marks, ms since navigation
function timeline() {
  const t = {};
  for (const r of performance.getEntriesByType('resource')) {
    const file = r.name.split('/').pop();
    if (/^sialoscan-/.test(file)) t[`${file} arrived`] = Math.round(r.responseEnd);
  }
  for (const m of performance.getEntriesByType('mark')) {
    if (m.name.startsWith('sialoscan:')) t[m.name.slice(10)] = Math.round(m.startTime);
  }
  return t;
}

async function once(url) {
  const context = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await context.newPage();
  await page.goto(url, { waitUntil: 'commit' });
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  await page.setInputFiles('#dropzone input[type=file]', frames[0]);
  await page.waitForSelector('[data-testid=result][aria-busy=false]', { timeout: 60000 });
  const first = await page.evaluate(() => ({
    ready: Number(document.querySelector('#engine-status').dataset.coldStartMs),
    firstResult: performance.now(), // since navigation start
    threads: Number(document.querySelector('#engine-status').dataset.threads),
  }));
  const steps = await page.evaluate(timeline);
  await page.waitForFunction(() => { const s = document.querySelector('#engine-status').dataset; return s.workers === s.poolSize; }, null, { timeout: 60000 });
  const workers = Number(await page.getAttribute('#engine-status', 'data-workers') ?? 1);
  const memory = await page.evaluate(() => globalThis.__sialoscanMemory?.totalBytes ?? Number(document.querySelector('#engine-status').dataset.heapBytes));
  const t0 = Date.now();
  await page.setInputFiles('#dropzone input[type=file]', frames.slice(1));
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, frames.length, { timeout: 300000 });
  const wall = (Date.now() - t0) / (frames.length - 1);
  // the engine's own time per frame: the table's "Time (ms)" column, found by its header (columns
  // come and go); the first row is the first frame's
  const [firstEngineMs, ...engineMs] = await page.$$eval('#results-table tbody tr', (trs) => {
    const i = [...document.querySelectorAll('#results-table thead th')].findIndex((th) => /^Time/.test(th.textContent.trim()));
    return trs.map((tr) => Number(tr.children[i]?.textContent));
  });
  await context.close();
  return { ...first, firstEngineMs, workers, memory, steps, perFrameWall: wall, perFrameEngine: median(engineMs) };
}

try {
  for (let r = 0; r < ROUNDS; r++) {
    for (const [mode, url] of Object.entries(modes)) {
      const load = loadavg()[0].toFixed(2);
      const x = await once(url);
      results[mode].push({ ...x, load });
      console.log(`round ${r + 1} ${mode.padEnd(11)} load ${load}  workers ${x.workers} (${(x.memory / 2 ** 20).toFixed(0)} MB)  threads ${x.threads}  ready ${x.ready} ms  first result ${x.firstResult.toFixed(0)} ms  ` +
        `(engine ${x.firstEngineMs} ms)  per frame ${x.perFrameWall.toFixed(1)} ms (engine ${x.perFrameEngine} ms)`);
      console.log(`  ${Object.entries(x.steps).sort((a, b) => a[1] - b[1]).map(([k, v]) => `${k} ${v}`).join(' · ')}`);
    }
  }
  const out = {};
  for (const [mode, xs] of Object.entries(results)) {
    out[mode] = {
      threads: xs[0].threads,
      workers: xs[0].workers,
      wasm_memory_mb: Math.round(median(xs.map((x) => x.memory)) / 2 ** 20),
      load: xs.map((x) => x.load).join(' '),
      ready_ms: median(xs.map((x) => x.ready)),
      first_result_ms: Math.round(median(xs.map((x) => x.firstResult))),
      per_frame_ms: Number(median(xs.map((x) => x.perFrameWall)).toFixed(1)),
      per_frame_engine_ms: median(xs.map((x) => x.perFrameEngine)),
      frames_per_s: Number((1000 / median(xs.map((x) => x.perFrameWall))).toFixed(2)),
      first_engine_ms: median(xs.map((x) => x.firstEngineMs)),
      steps: Object.fromEntries(Object.keys(xs[0].steps).map((k) => [k, median(xs.map((x) => x.steps[k] ?? NaN))])
        .sort((a, b) => a[1] - b[1])),
    };
  }
  const ratio = (a, b) => (out[a] && out[b] ? ` · ${a} / ${b} throughput ${(out[a].frames_per_s / out[b].frames_per_s).toFixed(2)}x` : '');
  console.log(`${new Date().toISOString()} cores ${cpus().length}${ratio('disk', 'disk-1w')}${ratio('served-pool', 'served')}`);
  console.log(JSON.stringify(out));
} finally {
  await browser.close();
  for (const server of servers) await server.close();
  rmSync(tmp, { recursive: true, force: true });
}
