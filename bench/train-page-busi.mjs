// train-page-busi.mjs — the whole recipe in the page: the panel "Train on your own images" of the
// page served cross-origin isolated (`make serve`'s headers: every core) in headless Chromium, given
// the BUSI folder (../shared/data/busi with its MANIFEST.tsv groups), the ImageNet MobileNetV2, the
// defaults (gradual unfreezing, 5 folds, seed 1), "Start training" pressed, then waited for. Prints
// the wall time, the peak WebAssembly heap of the trainer worker and the peak JS heap of the page,
// the mean cross-validated AUC the panel shows, and (--cli) the native CLI's on the same folder and
// seed for comparison. Long: run it on a quiet machine, never beside other work.
//   node bench/train-page-busi.mjs [--data DIR] [--per-class N] [--cv 5] [--seed 1] [--max-minutes M] [--cli]
// --per-class N takes the first N frames of each class (a quick check of the harness).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../tools/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const DATA = path.resolve(arg('--data', path.join(ROOT, '..', 'shared', 'data', 'busi')));
const MAX_MIN = Number(arg('--max-minutes', 0)); // stop after this long and report what was reached (0: run to the end)
const PER_CLASS = Number(arg('--per-class', 0)), CV = Number(arg('--cv', 5)), SEED = Number(arg('--seed', 1));
if (!fs.existsSync(path.join(DATA, 'benign'))) {
  console.log(`skipped: ${DATA} is absent (the BUSI frames of ../shared)`);
  process.exit(0);
}

// the folder as given: all of it, or the first N frames of each class with their manifest rows
let dir = DATA, tmp = null;
if (PER_CLASS > 0) {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-busi-page-'));
  dir = path.join(tmp, 'busi');
  const keep = new Set();
  for (const cls of ['benign', 'malignant']) {
    fs.mkdirSync(path.join(dir, cls), { recursive: true });
    for (const f of fs.readdirSync(path.join(DATA, cls)).filter((f) => f.endsWith('.png')).sort().slice(0, PER_CLASS)) {
      fs.copyFileSync(path.join(DATA, cls, f), path.join(dir, cls, f));
      keep.add(`${cls}/${f}`);
    }
  }
  const m = path.join(DATA, 'MANIFEST.tsv');
  if (fs.existsSync(m)) {
    const [head, ...rows] = fs.readFileSync(m, 'utf8').trim().split('\n');
    fs.writeFileSync(path.join(dir, 'MANIFEST.tsv'), [head, ...rows.filter((r) => keep.has(r.split('\t')[0]))].join('\n') + '\n');
  }
}

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
const server = await serveStatic(path.join(ROOT, 'web', 'dist'), { isolation: true });
const out = { data: DATA, per_class: PER_CLASS || 'all', cv: CV, seed: SEED, cpu: os.cpus()[0]?.model, cores: os.cpus().length,
  load_before: os.loadavg()[0].toFixed(2), date: new Date().toISOString().slice(0, 10) };
try {
  const page = await browser.newPage();
  page.on('crash', () => console.log('the page crashed'));
  page.on('pageerror', (e) => console.log(`page error: ${e.message}`));
  await page.goto(`${server.url}index.html`);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  const tRead = Date.now();
  console.log(`page ready; giving it the folder ${dir}`);
  await page.getByLabel('Training folder', { exact: true }).setInputFiles(dir);
  console.log(`folder handed over in ${((Date.now() - tRead) / 1000).toFixed(1)} s; waiting for the summary`);
  await page.waitForSelector('[data-testid=train-summary]', { timeout: 600000 });
  out.found = (await page.textContent('#train-found')).split('\n')[0].slice(0, 200);
  out.read_seconds = Number(((Date.now() - tRead) / 1000).toFixed(1));
  console.log(`read in ${out.read_seconds} s: ${out.found}`);
  await page.getByLabel('Cross-validation folds').fill(String(CV));
  await page.getByLabel('Seed').fill(String(SEED));
  out.threads = Number(await page.getAttribute('#train-threads', 'data-threads'));
  const t0 = Date.now();
  await page.getByRole('button', { name: 'Start training' }).click();
  let peakWasm = 0, peakJs = 0, lastSay = 0;
  for (;;) {
    const done = await page.evaluate(() => !document.querySelector('#train-results').hidden || !!document.querySelector('#train-message.failed'));
    if (done) break;
    if (MAX_MIN > 0 && Date.now() - t0 > MAX_MIN * 60000) { out.stopped_after_minutes = MAX_MIN; out.partial = true; break; }
    peakJs = Math.max(peakJs, await page.evaluate(() => performance.memory?.usedJSHeapSize || 0));
    // the trainer worker is busy inside WebAssembly (no evaluate there): the panel keeps its peak from the progress messages
    peakWasm = Math.max(peakWasm, Number(await page.getAttribute('#train-progress-text', 'data-peak-heap-bytes')) || 0);
    if (Date.now() - lastSay > 60000) {
      lastSay = Date.now();
      console.log(`${((Date.now() - t0) / 60000).toFixed(1)} min: ${await page.textContent('#train-progress-text')} · peak engine memory so far ${Math.round(peakWasm / 2 ** 20)} MB`);
    }
    await page.waitForTimeout(5000);
  }
  out.minutes = Number(((Date.now() - t0) / 60000).toFixed(2));
  out.peak_wasm_heap_mb = Math.round(peakWasm / 2 ** 20);
  out.peak_js_heap_mb = Math.round(peakJs / 2 ** 20);
  out.progress = await page.textContent('#train-progress-text');
  if (!out.partial) {
    const failed = await page.$('#train-message.failed');
    if (failed) throw new Error(`the run failed: ${await failed.textContent()}`);
    // the table's cells: n, accuracy, AUC, ... (the third is the AUC: "0.940 ± 0.034" in the mean row)
    const meanCells = await page.locator('[data-testid=cv-table] tfoot tr.mean td').allTextContents();
    out.page_auc_mean = Number(/^[\d.]+/.exec(meanCells[2] ?? '')?.[0]);
    out.page_fold_aucs = (await page.locator('[data-testid=cv-table] tbody tr td:nth-of-type(3)').allTextContents()).map((t) => Number(/^[\d.]+/.exec(t)?.[0]));
    out.page_table = (await page.textContent('[data-testid=cv-table]')).replace(/\s+/g, ' ').trim();
  }
} finally {
  await browser.close();
  await server.close();
}
if (process.argv.includes('--cli') && !out.partial) {
  const t0 = Date.now();
  const r = spawnSync(path.join(ROOT, 'build', 'sialoscan'), ['train', '--data', dir, '--backbone', path.join(ROOT, 'models', 'mobilenetv2-imagenet.sialo'),
    '--cv', String(CV), '--seed', String(SEED), '--threads', String(out.threads || 2), '--out', path.join(os.tmpdir(), 'sialo-busi-cli.sialo')], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(r.stderr.slice(-2000));
  const cv = r.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((j) => j.cv !== undefined);
  out.cli_minutes = Number(((Date.now() - t0) / 60000).toFixed(2));
  out.cli_auc_mean = cv?.auc_mean;
  out.auc_difference = Number((out.page_auc_mean - out.cli_auc_mean).toFixed(4));
}
if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
console.log(JSON.stringify(out));
