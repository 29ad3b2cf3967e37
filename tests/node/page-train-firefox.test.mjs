// The panel "Train on your own images" in headless Firefox ESR (puppeteer-core over WebDriver BiDi),
// opened from disk: a labelled folder dropped, a small backbone file chosen, a tiny schedule; the
// run, the cross-validation table (AUC with its interval), the curves, "Download model" (read by the
// CLI), "Use this model" (the page then classifies a frame as the CLI does with the downloaded file),
// and a reload half way followed by "Resume" (the checkpoint kept in Firefox's IndexedDB).
// Firefox's WebDriver cannot fill a `webkitdirectory` input with a folder (input.setFiles refuses a
// directory: NS_ERROR_FILE_IS_DIRECTORY), so the folder arrives as a drop whose DataTransfer item
// hands over a directory entry with the FileSystemEntry interface Firefox's own drops have
// (webkitGetAsEntry, createReader/readEntries, file()): the panel's drop path, Firefox's trainer
// worker, its storage and its WebAssembly are the real ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { CLI, DIST, FIREFOX, cliAnswers, foreignRequests, readCards } from './lib/page-fixtures.mjs';
import { writeFolder } from './lib/train-fixtures.mjs';

const standalone = join(DIST, 'sialoscan-train-worker-source.js');
const hasTrainer = existsSync(standalone) && /createTrainer/.test(readFileSync(standalone, 'utf8'));
const skip = !existsSync(FIREFOX) ? `${FIREFOX} is absent (make setup installs it)`
  : !hasTrainer ? 'the engine in web/dist has no trainer (createTrainer): `make wasm web` builds it' : false;
const URL_FILE = `file://${DIST}/index.html`;
let browser, tmp, folder, backbone, frame;

before(async () => {
  if (skip) return;
  const { default: puppeteer } = await import('puppeteer-core');
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-train-ff-'));
  folder = writeFolder(join(tmp, 'clinic'));
  backbone = join(tmp, 'smallcnn-32.sialo');
  const r = spawnSync(CLI, ['init', '--arch', 'smallcnn', '--input', '32', '--head', 'none', '--seed', '1', backbone], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  frame = join(tmp, 'frame.png');
  writeFileSync(frame, readFileSync(join(folder, 'malignant', 'f03.png')));
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function open(context) {
  const page = await context.newPage();
  const log = { requests: [], errors: [] };
  page.on('request', (r) => log.requests.push(r.url()));
  page.on('pageerror', (e) => log.errors.push(e.message));
  await page.setViewport({ width: 1366, height: 900 });
  await page.goto(URL_FILE);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  return { page, log };
}

/** every file under dir as { path: '<dir name>/<relative path>', b64 } */
function treeOf(dir) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push({ path: `${basename(dir)}/${relative(dir, p)}`, b64: readFileSync(p).toString('base64') });
    }
  };
  walk(dir);
  return out;
}

/** drop the folder on the panel's drop zone, as Firefox hands a dropped folder to a page */
async function dropFolder(page, dir) {
  await page.evaluate((files) => {
    const dirs = new Map();
    const mkdir = (path) => {
      if (dirs.has(path)) return dirs.get(path);
      const d = { isFile: false, isDirectory: true, name: path.split('/').pop(), fullPath: `/${path}`, children: [],
        createReader() { let given = false; return { readEntries: (ok) => setTimeout(() => { ok(given ? [] : d.children); given = true; }) }; } };
      dirs.set(path, d);
      const parent = path.split('/').slice(0, -1).join('/');
      if (parent) mkdir(parent).children.push(d);
      return d;
    };
    for (const f of files) {
      const parts = f.path.split('/'), name = parts.pop();
      const bin = atob(f.b64), bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const file = new File([bytes], name);
      mkdir(parts.join('/')).children.push({ isFile: true, isDirectory: false, name, fullPath: `/${f.path}`, file: (ok) => setTimeout(() => ok(file)) });
    }
    const root = dirs.get(files[0].path.split('/')[0]);
    const ev = new Event('drop', { bubbles: true, cancelable: true });
    Object.defineProperty(ev, 'dataTransfer', { value: { items: [{ kind: 'file', webkitGetAsEntry: () => root, getAsFile: () => null }], files: [] } });
    document.querySelector('#train-drop').dispatchEvent(ev);
  }, treeOf(dir));
  await page.waitForFunction(() => document.querySelector('[data-testid=train-summary]') || document.querySelector('#train-message.failed'), { timeout: 120000 });
  return page.$eval('#train-found', (e) => e.textContent);
}

const setValue = (page, sel, v) => page.$eval(sel, (e, value) => {
  e.value = value;
  e.dispatchEvent(new Event('input', { bubbles: true }));
  e.dispatchEvent(new Event('change', { bubbles: true }));
}, v);
const click = (page, sel) => page.$eval(sel, (b) => b.click());
const waitFinished = (page) => page.waitForFunction(() => !document.querySelector('#train-results').hidden
  || document.querySelector('#train-message.failed'), { timeout: 300000 });

async function setup(page, schedule) {
  await (await page.$('#train-backbone')).uploadFile(backbone);
  await page.waitForFunction(() => document.querySelector('#train-backbone-name').textContent.length > 0);
  const found = await dropFolder(page, folder);
  await setValue(page, '#train-cv', '2');
  await setValue(page, '#train-schedule-text', schedule);
  return found;
}

/** the bytes of the next download the page starts: the Blob it hands to URL.createObjectURL for
 * the link it clicks (Firefox refuses a fetch of a blob: URL from a file:// page) */
async function nextDownload(page, buttonSel) {
  await page.evaluate(() => {
    const create = URL.createObjectURL, click = HTMLAnchorElement.prototype.click, blobs = new Map();
    URL.createObjectURL = (b) => { const u = create(b); blobs.set(u, b); return u; };
    window.__download = new Promise((done) => {
      HTMLAnchorElement.prototype.click = function download() {
        if (!this.download) return click.call(this);
        HTMLAnchorElement.prototype.click = click;
        URL.createObjectURL = create;
        const name = this.download, blob = blobs.get(this.href);
        if (!blob) return done({ name, error: `no Blob behind ${this.href}` });
        blob.arrayBuffer().then((b) => {
          const u = new Uint8Array(b);
          let bin = '';
          for (let i = 0; i < u.length; i += 0x8000) bin += String.fromCharCode(...u.subarray(i, i + 0x8000));
          done({ name, b64: btoa(bin) });
        }, (e) => done({ name, error: String(e) }));
        return undefined;
      };
    });
  });
  await click(page, buttonSel);
  const d = await page.evaluate(() => window.__download);
  assert.ok(!d.error, `the download's bytes could not be read: ${d.error}`);
  return { name: d.name, bytes: Buffer.from(d.b64, 'base64') };
}

test('Firefox, from disk: train on a dropped folder, the CV table, download the model, use it', { skip, timeout: 600000 }, async () => {
  const context = await browser.createBrowserContext();
  const { page, log } = await open(context);
  const found = await setup(page, 'all all 1e-3 1 1');
  assert.match(found, /Found in “clinic”: 24 frames — 12 benign, 12 malignant/);
  assert.match(found, /1 file ignored, 1 refused/);
  assert.match(await page.$eval('#train-threads', (e) => e.textContent), /one thread: the page is opened from disk/);
  await click(page, '#train-start');
  await waitFinished(page);
  const message = await page.$eval('#train-message', (e) => [e.classList.contains('failed'), e.textContent]);
  assert.equal(message[0], false, message[1]);
  assert.equal(await page.$eval('#train-progress', (e) => e.getAttribute('aria-valuenow')), '100');
  assert.equal(await page.$$eval('[data-testid=cv-table] tbody tr', (r) => r.length), 2);
  const pooled = await page.$eval('[data-testid=cv-table] tfoot tr:last-child', (e) => e.textContent);
  assert.match(pooled, /\d\.\d{3} \(95% CI \d\.\d{3}–\d\.\d{3}\)/, pooled);
  assert.ok(await page.$$eval('#train-loss-plot svg polyline', (p) => p.length) >= 3, 'a loss curve per fold and the final model');
  assert.equal(await page.$$eval('#train-roc svg polyline', (p) => p.length), 1, 'the ROC curve');

  const model = await nextDownload(page, '#train-download-model');
  assert.equal(model.name, 'clinic-sialoscan.sialo');
  const modelFile = join(tmp, 'firefox.sialo');
  writeFileSync(modelFile, model.bytes);
  const info = spawnSync(CLI, ['info', modelFile], { encoding: 'utf8' });
  assert.equal(info.status, 0, info.stderr);
  const checksum = JSON.parse(info.stdout).checksum;

  await click(page, '#train-use');
  await page.waitForFunction((sum) => document.querySelector('#model-info').textContent.includes(sum), { timeout: 60000 }, checksum);
  await (await page.$('#dropzone input[type=file]')).uploadFile(frame);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === 1, { timeout: 60000 });
  const [card] = await page.evaluate(readCards);
  const cli = cliAnswers([frame], modelFile)['frame.png'];
  assert.ok(Math.abs(Number(card.p) - cli.p) < 1e-4, `Firefox ${card.p} vs CLI ${cli.p} with the trained model`);
  assert.deepEqual(foreignRequests(log.requests, `file://${DIST}/`), [], 'no request outside the page\'s folder');
  assert.deepEqual(log.errors, []);
  await context.close();
});

test('Firefox, from disk: reload half way, drop the same folder, "Resume" finishes', { skip, timeout: 600000 }, async () => {
  const context = await browser.createBrowserContext();
  const { page, log } = await open(context);
  await setup(page, 'long all 1e-4 60 60');
  await click(page, '#train-start');
  await page.waitForSelector('#train-kept[data-saved]', { timeout: 120000 });
  await page.reload();
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  await page.waitForSelector('#train-kept[data-saved]', { timeout: 30000 });
  assert.equal(await page.$eval('#train-kept', (e) => e.dataset.finished), 'false', 'the run was still going at the reload');
  assert.match(await page.$eval('#train-kept', (e) => e.textContent), /stopped at fold 1 of 2/);
  await dropFolder(page, folder);
  await click(page, '#train-resume');
  await waitFinished(page);
  const message = await page.$eval('#train-message', (e) => [e.classList.contains('failed'), e.textContent]);
  assert.equal(message[0], false, message[1]);
  assert.equal(await page.$$eval('[data-testid=cv-table] tbody tr', (r) => r.length), 2);
  await page.waitForSelector('#train-kept[data-finished=true]');
  assert.deepEqual(foreignRequests(log.requests, `file://${DIST}/`), []);
  assert.deepEqual(log.errors, []);
  await context.close();
});
