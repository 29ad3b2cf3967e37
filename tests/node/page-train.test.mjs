// The page's panel "Train on your own images" (web/train-panel.js) in headless Chromium, driven by
// playwright-core as a clinician would: a generated labelled folder given through the "Training
// folder" input, a small backbone through "Backbone file" (a random smallcnn from `sialoscan init`:
// an ImageNet MobileNetV2 at 224 px takes minutes in a browser), a tiny schedule; then the summary of
// what was found, the run with its progress and curves, the cross-validation table, "Use this model"
// (the page classifies with it as the native CLI does with the downloaded file), "Download model"
// (read by `sialoscan info`), "Download report", a reload half way and "Resume", "Forget", a folder
// the engine refuses, a full storage quota, and no request leaving the page. The shipped model's
// first network (the panel's second starting point) is checked against the independent reader of
// model files and the CLI.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { serveStatic } from '../../tools/serve.mjs';
import { writeFolder } from './lib/train-fixtures.mjs';
import { readModelFile } from './lib/model-file.mjs';
import { CHROMIUM, CHROMIUM_ARGS, CLI, DIST, MODEL, ROOT, cliAnswers, foreignRequests, readCards } from './lib/page-fixtures.mjs';

// the trainer is in the engine's build when its classic script defines createTrainer
const standalone = join(DIST, 'sialoscan-train-worker-source.js');
const hasTrainer = existsSync(standalone) && /createTrainer/.test(readFileSync(standalone, 'utf8'));
const skip = !existsSync(CHROMIUM) ? `${CHROMIUM} is absent (make setup installs it)`
  : !hasTrainer ? 'the engine in web/dist has no trainer (createTrainer): `make wasm web` builds it' : false;
const ARTIFACTS = join(ROOT, 'build', 'test-artifacts');
const TINY = 'all all 1e-3 1 1';
let browser, tmp, folder, otherFolder, oneClass, backbone, frame, isolated;

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-train-page-'));
  folder = writeFolder(join(tmp, 'clinic'));
  otherFolder = writeFolder(join(tmp, 'other', 'clinic'), { benign: 13, seed: 7 }); // same name, other frames
  oneClass = writeFolder(join(tmp, 'oneclass'), { malignant: 0, damaged: false });
  backbone = join(tmp, 'smallcnn-32.sialo');
  const r = spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '32', '--head', 'none', '--seed', '1', backbone], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  frame = join(tmp, 'frame.png');
  writeFileSync(frame, readFileSync(join(folder, 'malignant', 'f03.png')));
  isolated = await serveStatic(DIST, { isolation: true });
  mkdirSync(ARTIFACTS, { recursive: true });
});

after(async () => {
  await browser?.close();
  await isolated?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

/** Open the page in a fresh context (its own storage); resolves when the engine is ready. */
async function open(url = `file://${DIST}/index.html`, { context, init } = {}) {
  context ||= await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  if (init) await context.addInitScript(init);
  const page = await context.newPage();
  const log = { requests: [], errors: [], csp: [] };
  context.on('request', (r) => log.requests.push(r.url()));
  page.on('pageerror', (e) => log.errors.push(e.message));
  page.on('console', (m) => { if (/Content.Security.Policy|Refused to/i.test(m.text())) log.csp.push(m.text()); });
  await page.goto(url);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  // the page's engine workers (a pool from disk) all started, so that counting workers counts the trainer's
  await page.waitForFunction(() => { const s = document.querySelector('#engine-status').dataset; return s.workers === s.poolSize; }, null, { timeout: 60000 });
  return { context, page, log };
}

async function giveFolder(page, dir) {
  await page.getByLabel('Training folder', { exact: true }).setInputFiles(dir);
  await page.waitForFunction(() => document.querySelector('[data-testid=train-summary]') || document.querySelector('#train-message.failed'), null, { timeout: 120000 });
  return page.textContent('#train-found');
}

async function setup(page, { cv = 2, schedule = TINY, dir = folder } = {}) {
  await page.getByLabel('Backbone file', { exact: true }).setInputFiles(backbone);
  await page.waitForFunction(() => document.querySelector('#train-backbone-name').textContent.length > 0);
  assert.equal(await page.isChecked('input[name=train-start][value=file]'), true, 'choosing a backbone file selects it as the starting point');
  const found = await giveFolder(page, dir);
  await page.getByLabel('Cross-validation folds').fill(String(cv));
  await page.getByText('Schedule (for experts)').click();
  await page.getByLabel(/^Schedule:/).fill(schedule);
  return found;
}

const waitFinished = (page, timeout = 300000) => page.waitForFunction(() => !document.querySelector('#train-results').hidden
  || document.querySelector('#train-message.failed'), null, { timeout });

async function downloadOf(page, name) {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name }).click()]);
  return { name: d.suggestedFilename(), bytes: readFileSync(await d.path()) };
}

test('train on a folder from disk: summary, progress, curves, CV table, use and download the model, report, no request', { skip, timeout: 600000 }, async () => {
  const { context, page, log } = await open();
  const ready = log.requests.length;
  assert.equal(await page.getByRole('heading', { name: 'Train on your own images' }).count(), 1);
  assert.ok(!log.requests.some((u) => /sialoscan-(backbone-\d+|train-worker-source)\.js$/.test(u)), 'the panel loads nothing at the cold start');
  assert.match(await page.textContent('#train-threads'), /one thread: the page is opened from disk/);
  const workersBefore = page.workers().length;

  const found = await setup(page);
  assert.match(found, /Found in “clinic”: 24 frames — 12 benign, 12 malignant/);
  assert.match(found, /1 file ignored, 1 refused/);
  assert.match(found, /benign\/zz-damaged\.png: \S.+/, `the refused file is listed with its reason: ${found}`);
  assert.equal(await page.isEnabled('text=Start training'), true);

  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForFunction(() => document.querySelector('#train-stop').disabled === false || !document.querySelector('#train-results').hidden);
  await waitFinished(page);
  assert.equal(await page.$eval('#train-message', (e) => e.classList.contains('failed')), false, await page.textContent('#train-message'));
  // the trainer worker is gone with its run
  for (let i = 0; i < 50 && page.workers().length > workersBefore; i++) await page.waitForTimeout(100);
  assert.equal(page.workers().length, workersBefore, 'the trainer worker is terminated when the run ends');

  const bar = page.getByRole('progressbar', { name: 'Training progress' });
  assert.equal(await bar.getAttribute('aria-valuenow'), '100');
  const finished = await page.textContent('#train-progress-text');
  assert.match(finished, /^Finished in .* on 1 thread, \d+ MB of engine memory at most\.$/);
  // the peak the panel states is the trainer worker's WebAssembly memory: above the frames it holds, below the 2 GB cap
  const peak = Number(await page.getAttribute('#train-progress-text', 'data-peak-heap-bytes'));
  assert.equal(Math.round(peak / 2 ** 20), Number(/(\d+) MB of engine memory/.exec(finished)[1]));
  assert.ok(peak > 16 * 2 ** 20 && peak <= 2 ** 31, `peak heap ${peak}`);
  // the table: a header "AUC", a row per fold, mean ± sd
  const table = page.locator('[data-testid=cv-table]');
  assert.equal(await table.getByRole('columnheader', { name: 'AUC', exact: true }).count(), 1);
  assert.equal(await table.locator('tbody tr').count(), 2);
  assert.match(await table.locator('tfoot').textContent(), /mean ± sd/);
  // the AUC with its 95% confidence interval (the engine's DeLong interval), per fold and pooled
  const aucCells = await table.locator('tbody tr td:nth-of-type(3)').allTextContents();
  assert.ok(aucCells.every((t) => /^(0|1)\.\d{3} \(95% CI \d\.\d{3}–\d\.\d{3}\)$|^—$/.test(t)), `fold AUC cells: ${aucCells}`);
  assert.match(await table.locator('tfoot tr').last().textContent(), /\d\.\d{3} \(95% CI \d\.\d{3}–\d\.\d{3}\)/, 'the pooled row\'s AUC with its interval');
  // the curves and the figures are drawn
  const series = await page.$$eval('#train-loss-plot svg polyline', (ps) => ps.map((p) => p.getAttribute('points').trim().split(/\s+/).length));
  assert.ok(series.length >= 3, `a loss curve per fold and the final model: ${series}`);
  assert.equal(await page.locator('#train-auc-plot svg').count(), 1);
  assert.equal(await page.locator('#train-roc svg polyline').count(), 1, 'the ROC curve');
  assert.ok(await page.locator('#train-reliability svg polyline').count() >= 1, 'the reliability diagram');
  assert.match(await page.textContent('#train-decision'), /Youden's threshold[\s\S]*p_raw ≥ 0\.\d+/);
  await page.screenshot({ path: join(ARTIFACTS, 'page-train-chromium.png'), fullPage: true });

  // "Download model": a .sialo file the CLI reads
  const model = await downloadOf(page, 'Download model');
  assert.equal(model.name, 'clinic-sialoscan.sialo');
  const modelFile = join(tmp, 'trained.sialo');
  writeFileSync(modelFile, model.bytes);
  const info = spawnSync(CLI, ['info', modelFile], { encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  const modelInfo = JSON.parse(info.stdout);
  assert.match(modelInfo.provenance, /clinic/, 'the provenance names the data folder');

  // "Use this model": the model panel shows it, a frame dropped now is classified with it
  await page.getByRole('button', { name: 'Use this model' }).click();
  await page.waitForFunction((sum) => document.querySelector('#model-info').textContent.includes(sum), modelInfo.checksum);
  const panel = await page.textContent('#model-info');
  assert.ok(panel.includes(modelInfo.provenance), `the model panel shows the provenance: ${panel}`);
  await page.setInputFiles('#dropzone input[type=file]', [frame]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === 1);
  const [card] = await page.evaluate(readCards);
  const cli = cliAnswers([frame], modelFile)['frame.png'];
  assert.ok(Math.abs(Number(card.p) - cli.p) < 1e-4, `page ${card.p} vs CLI ${cli.p} with the trained model`);
  assert.equal(card.label, cli.label);

  // "Download report": self-contained HTML with the table, the figures and the predictions
  const report = await downloadOf(page, 'Download report');
  assert.equal(report.name, 'clinic-training-report.html');
  const html = report.bytes.toString('utf8');
  assert.match(html, /<th scope="col">AUC<\/th>/);
  assert.equal((html.match(/<svg /g) || []).length, 2, 'ROC and reliability diagram');
  const csv = /href="data:text\/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"/.exec(html);
  assert.ok(csv, 'the out-of-fold predictions are embedded');
  const rows = Buffer.from(csv[1], 'base64').toString('utf8').trim().split(/\r?\n/);
  assert.match(rows[0], /path.*label.*fold/);
  assert.equal(rows.length, 1 + 24, 'one out-of-fold prediction per frame');
  assert.ok(!/<script|src="http|href="http/i.test(html), 'the report loads nothing');

  assert.deepEqual(foreignRequests(log.requests, `file://${DIST}/`), [], 'no request outside the page\'s folder');
  const later = log.requests.slice(ready).filter((u) => !u.startsWith('blob:') && !u.startsWith('data:'));
  assert.ok(later.every((u) => /\/sialoscan-train-worker-source\.js$/.test(u)), `after the start only the trainer's script was read: ${later}`);
  assert.deepEqual(log.errors, []);
  assert.deepEqual(log.csp, [], 'no Content-Security-Policy violation');
  await context.close();
});

test('reload half way, then "Resume" with the same folder finishes; another folder is refused; "Forget"', { skip, timeout: 600000 }, async () => {
  const { context, page, log } = await open();
  await setup(page, { schedule: 'long all 1e-4 60 60' });
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForSelector('#train-kept[data-saved]', { timeout: 120000 }); // the first checkpoint is in the storage
  assert.equal(await page.getAttribute('#train-kept', 'data-finished'), 'false');
  await page.reload();
  await page.waitForSelector('#engine-status[data-ready=true]');
  await page.waitForSelector('#train-kept[data-saved]');
  assert.equal(await page.getAttribute('#train-kept', 'data-finished'), 'false', 'the run was still going at the reload (make it longer if this fails)');
  assert.match(await page.textContent('#train-kept'), /stopped at fold 1 of 2.*Choose or drop the same folder, then press "Resume"/);
  assert.equal(await page.isDisabled('text=Resume'), true, 'Resume waits for the folder');
  assert.equal(await page.inputValue('#train-schedule-text'), 'long all 1e-4 60 60', 'the run\'s options come back');
  assert.equal(await page.isChecked('input[name=train-start][value=file]'), true, 'and its starting point (the backbone file is kept)');

  // a different folder: the engine refuses the checkpoint with a sentence
  await giveFolder(page, otherFolder);
  await page.getByRole('button', { name: 'Resume' }).click();
  await page.waitForSelector('#train-message.failed', { timeout: 120000 });
  const refusal = await page.textContent('#train-message');
  assert.match(refusal, /^The run stopped: \S.{10,}/, refusal);
  assert.equal(await page.getAttribute('#train-kept', 'data-finished'), 'false', 'the kept checkpoint stays');

  await giveFolder(page, folder);
  await page.getByRole('button', { name: 'Resume' }).click();
  await waitFinished(page);
  assert.equal(await page.$eval('#train-message', (e) => e.classList.contains('failed')), false, await page.textContent('#train-message'));
  assert.equal(await page.locator('[data-testid=cv-table] tbody tr').count(), 2);
  await page.waitForSelector('#train-kept[data-finished=true]');
  const model = await downloadOf(page, 'Download model');
  writeFileSync(join(tmp, 'resumed.sialo'), model.bytes);
  assert.equal(spawnSync(CLI, ['info', join(tmp, 'resumed.sialo')]).status, 0);

  // the finished run is kept too: a reload shows it; "Forget" deletes it
  await page.reload();
  await page.waitForSelector('#train-kept[data-finished=true]');
  assert.equal(await page.isHidden('#train-results'), false, 'the finished run\'s result is shown after a reload');
  assert.equal(await page.isEnabled('text=Download model'), true);
  await page.getByRole('button', { name: 'Forget' }).click();
  await page.waitForFunction(() => !document.querySelector('#train-kept').dataset.saved);
  await page.reload();
  await page.waitForSelector('#engine-status[data-ready=true]');
  await page.waitForTimeout(500);
  assert.equal(await page.textContent('#train-kept'), '', 'nothing is kept after "Forget"');
  assert.deepEqual(foreignRequests(log.requests, `file://${DIST}/`), []);
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('"Stop" keeps the last checkpoint and ends the trainer worker; "Resume" in the same tab finishes', { skip, timeout: 600000 }, async () => {
  const { context, page } = await open();
  const workersBefore = page.workers().length;
  await setup(page, { schedule: 'long all 1e-4 60 60' });
  await page.getByRole('button', { name: 'Start training' }).click();
  await page.waitForSelector('#train-kept[data-saved]', { timeout: 120000 });
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.waitForFunction(() => /^Stopped\./.test(document.querySelector('#train-message').textContent));
  assert.match(await page.textContent('#train-message'), /kept in this browser's storage: "Resume" continues from it/);
  for (let i = 0; i < 50 && page.workers().length > workersBefore; i++) await page.waitForTimeout(100);
  assert.equal(page.workers().length, workersBefore, 'the trainer worker is terminated by "Stop"');
  await page.getByRole('button', { name: 'Resume' }).click();
  await waitFinished(page);
  assert.equal(await page.$eval('#train-message', (e) => e.classList.contains('failed')), false, await page.textContent('#train-message'));
  await context.close();
});

test('a folder of one class is refused with the engine\'s sentence', { skip }, async () => {
  const { context, page } = await open();
  await page.getByLabel('Backbone file', { exact: true }).setInputFiles(backbone);
  const found = await giveFolder(page, oneClass);
  assert.match(found, /12 frames — 12 benign, 0 malignant/);
  const problem = await page.textContent('[data-testid=train-problem]');
  assert.match(problem, /^This folder cannot be trained on: \S.{10,}/);
  assert.equal(await page.getAttribute('[data-testid=train-problem]', 'role'), 'alert');
  assert.equal(await page.isDisabled('text=Start training'), true);
  await context.close();
});

test('a full storage quota gets a sentence, and the run goes on', { skip, timeout: 600000 }, async () => {
  const init = () => {
    IDBObjectStore.prototype.put = function put() { throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); };
  };
  const { context, page } = await open(undefined, { init });
  await setup(page);
  await page.getByRole('button', { name: 'Start training' }).click();
  await waitFinished(page);
  const storage = await page.textContent('#train-storage');
  assert.match(storage, /The browser's storage is full: .* could not be kept \(QuotaExceededError\)/);
  assert.equal(await page.getAttribute('#train-storage', 'role'), 'alert');
  assert.equal(await page.isHidden('#train-results'), false, 'the run finished all the same');
  await context.close();
});

test('served cross-origin isolated: the trainer runs on every core and says so', { skip, timeout: 600000 }, async () => {
  const { context, page, log } = await open(isolated.url);
  assert.equal(await page.evaluate(() => globalThis.crossOriginIsolated), true);
  await setup(page);
  const threads = Number(await page.getAttribute('#train-threads', 'data-threads'));
  const mt = existsSync(join(DIST, 'sialoscan-mt.js'));
  const cores = await page.evaluate(() => navigator.hardwareConcurrency);
  assert.equal(threads, mt ? cores : 1, await page.textContent('#train-threads'));
  if (mt && cores > 1) assert.match(await page.textContent('#train-threads'), new RegExp(`${cores} threads \\(every core`));
  await page.getByRole('button', { name: 'Start training' }).click();
  await waitFinished(page);
  assert.equal(await page.$eval('#train-message', (e) => e.classList.contains('failed')), false, await page.textContent('#train-message'));
  assert.match(await page.textContent('#train-progress-text'), new RegExp(`on ${threads} thread`));
  assert.deepEqual(foreignRequests(log.requests, isolated.url), []);
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('the shipped model\'s first network, as the panel cuts it, is a valid one-network model file', async () => {
  const { firstNetwork } = await import(pathToFileURL(join(ROOT, 'web', 'backbone.js')).href);
  const shipped = new Uint8Array(readFileSync(MODEL));
  const net = firstNetwork(shipped, 'network 1 of sialoscan-busi.sialo');
  const out = join(mkdtempSync(join(tmpdir(), 'sialo-net1-')), 'net1.sialo');
  writeFileSync(out, net);
  const whole = readModelFile(shipped), one = readModelFile(net);
  assert.equal(one.meta.version, 2);
  const m = whole.members[0];
  assert.deepEqual([...one.tensors.keys()], [...m.tensors.keys()]);
  for (const [name, t] of m.tensors) assert.deepEqual(one.tensors.get(name).data, t.data, name);
  assert.equal(one.nodes.length, m.nodes.length);
  const info = spawnSync(CLI, ['info', out], { encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  const j = JSON.parse(info.stdout), e = JSON.parse(spawnSync(CLI, ['info', MODEL], { encoding: 'utf8' }).stdout);
  assert.equal(j.members, 1);
  assert.equal(j.parameters, e.networks[0].parameters);
  assert.match(j.provenance, /network 1 of sialoscan-busi\.sialo$/);
  rmSync(out, { force: true });
});
