// The page's lesion box (web/result-card.js) in headless Chromium: with the shipped model (both modes)
// the "Draw lesion box" button is enabled; with a whole-frame model (random weights, `sialoscan init`)
// it is disabled and says why; with a box model (trained here by
// `sialoscan train --boxes` on a tiny synthetic folder) a box drawn with the mouse and one moved and
// resized with the keyboard give the CLI's `classify --box` p on the same pixels (1e-4), Escape
// cancels, and the CSV carries box and p_box.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { testImage } from './lib/png.mjs';
import { CHROMIUM, CHROMIUM_ARGS, CLI, DIST } from './lib/page-fixtures.mjs';

const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (make setup installs it)`;
let browser, tmp, model, whole, frame;
const cli = (args) => spawnSync(CLI, args, { encoding: 'utf8' });

before(async () => {
  if (skip) return;
  const { chromium } = await import('playwright-core');
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-page-box-'));
  const data = join(tmp, 'data'), tsv = [];
  for (const [c, cls] of [[0, 'benign'], [1, 'malignant']]) {
    mkdirSync(join(data, cls), { recursive: true });
    for (let i = 0; i < 4; i++) {
      writeFileSync(join(data, cls, `${cls}-${i}.png`), testImage(100 * c + i, 128, 96));
      tsv.push(`${cls}/${cls}-${i}.png\t30\t20\t50\t40`);
    }
  }
  writeFileSync(join(tmp, 'boxes.tsv'), tsv.join('\n') + '\n');
  writeFileSync(join(tmp, 's.txt'), 'all all 1e-3 1 1\n');
  model = join(tmp, 'box.sialo');
  const r = cli(['train', '--data', data, '--arch', 'smallcnn', '--input', '64', '--schedule', join(tmp, 's.txt'), '--batch', '4',
    '--boxes', join(tmp, 'boxes.tsv'), '--out', model]);
  assert.equal(r.status, 0, r.stderr);
  whole = join(tmp, 'whole.sialo');
  const w = cli(['init', '--arch', 'smallcnn', '--input', '64', '--head', 'binary', whole]);
  assert.equal(w.status, 0, w.stderr);
  frame = join(tmp, 'frame.png');
  writeFileSync(frame, testImage(7, 128, 96));
});

after(async () => {
  await browser?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

const cliBox = (box) => JSON.parse(cli(['classify', '--model', model, '--box', box, frame]).stdout).p_malignant;

test('page: Draw lesion box (mouse, keyboard, Escape), p_box = the CLI\'s --box, CSV box and p_box; unavailable with a whole-frame model', { skip }, async () => {
  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`file://${DIST}/index.html`);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  // the shipped model classifies whole frames and boxes
  await page.setInputFiles('#dropzone input[type=file]', [frame]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === 1, null, { timeout: 60000 })
    .catch((e) => { throw new Error(`${e.message}; page errors: ${errors.join(' | ')}`); });
  assert.equal(await page.isDisabled('[data-testid=draw-box]'), false);
  await page.click('#clear');
  // a model of whole frames only
  await page.setInputFiles('[data-testid=model-input]', whole);
  await page.waitForFunction(() => /loaded/.test(document.querySelector('#model-message').textContent));
  await page.setInputFiles('#dropzone input[type=file]', [frame]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === 1, null, { timeout: 60000 });
  assert.equal(await page.isDisabled('[data-testid=draw-box]'), true);
  assert.match(await page.textContent('[data-testid=box-unavailable]'), /trained on whole frames only/);
  await page.click('#clear');
  // a box model
  await page.setInputFiles('[data-testid=model-input]', model);
  await page.waitForFunction(() => /loaded/.test(document.querySelector('#model-message').textContent));
  await page.setInputFiles('#dropzone input[type=file]', [frame]);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === 1, null, { timeout: 60000 });
  const card = page.locator('[data-testid=result]').first();
  const pWhole = Number(await card.getAttribute('data-p-malignant'));
  // the mouse: drag from frame pixel (20, 15) to (90, 70)
  await card.locator('[data-testid=draw-box]').click();
  const cv = card.locator('canvas[data-testid=cam]');
  const bb = await cv.boundingBox();
  const at = (x, y) => [bb.x + (x + 0.5) * bb.width / 128, bb.y + (y + 0.5) * bb.height / 96];
  await page.mouse.move(...at(20, 15));
  await page.mouse.down();
  await page.mouse.move(...at(55, 40), { steps: 4 });
  await page.mouse.move(...at(90, 70), { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelector('[data-testid=result]').dataset.pBox !== undefined);
  let box = await card.getAttribute('data-box');
  const [x, y, w, h] = box.split(',').map(Number);
  assert.ok(Math.abs(x - 20) <= 1 && Math.abs(y - 15) <= 1 && Math.abs(w - 70) <= 2 && Math.abs(h - 55) <= 2, `mouse box ${box}`);
  let pBox = Number(await card.getAttribute('data-p-box'));
  assert.ok(Math.abs(pBox - cliBox(box)) <= 1e-4, `mouse: page ${pBox} vs CLI ${cliBox(box)} for --box ${box}`);
  assert.match(await card.locator('[data-testid=p-box]').textContent(), /p\(malignant\) in the box = /);
  assert.equal(Number(await card.getAttribute('data-p-malignant')), pWhole, 'the whole frame\'s p stays beside it');
  // the keyboard: the button, then arrows on the frame (the box starts as the applied one)
  await card.locator('[data-testid=draw-box]').focus();
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.testid), 'cam', 'the frame takes the focus');
  for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('Shift+ArrowUp');
  await page.keyboard.press('Shift+ArrowUp');
  await page.keyboard.press('Enter');
  await page.waitForFunction((old) => document.querySelector('[data-testid=result]').dataset.box !== old, box);
  await page.waitForFunction(() => document.querySelector('[data-testid=result]').dataset.pBox !== undefined);
  const kb = await card.getAttribute('data-box');
  const step = Math.round(128 / 50);
  assert.equal(kb, [x - 3 * step, y, w, h - 2 * step].join(','), 'moved left 3 steps, 2 steps shorter');
  pBox = Number(await card.getAttribute('data-p-box'));
  assert.ok(Math.abs(pBox - cliBox(kb)) <= 1e-4, `keyboard: page ${pBox} vs CLI ${cliBox(kb)}`);
  // Escape cancels: the box stays
  await card.locator('[data-testid=draw-box]').click();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Escape');
  assert.equal(await card.getAttribute('data-box'), kb);
  // the CSV
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
  const csv = readFileSync(await download.path(), 'utf8').trim().split(/\r\n/);
  assert.match(csv[0], /,box,p_box$/);
  const cells = csv[1].split(',');
  assert.equal(cells.at(-2), kb.replace(/,/g, ' '));
  assert.ok(Math.abs(Number(cells.at(-1)) - pBox) < 1e-6);
  assert.deepEqual(errors, []);
  await context.close();
});
