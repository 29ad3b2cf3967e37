// The clinician's page in headless Firefox ESR (puppeteer-core over WebDriver BiDi): opened from
// disk and served, the same frames as the Chromium test; probabilities equal the native CLI's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveStatic } from '../../tools/serve.mjs';
import { DIST, FIREFOX, ROOT, checkCards, cliAnswers, foreignRequests, readCards, writeTestSet } from './lib/page-fixtures.mjs';

const skip = existsSync(FIREFOX) ? false : `${FIREFOX} is absent (make setup installs it)`;
let browser, tmp, files, want, server;

before(async () => {
  if (skip) return;
  assert.ok(existsSync(join(DIST, 'index.html')), 'web/dist is missing: `make web` builds it');
  const { default: puppeteer } = await import('puppeteer-core');
  browser = await puppeteer.launch({ browser: 'firefox', executablePath: FIREFOX, headless: true });
  tmp = mkdtempSync(join(tmpdir(), 'sialo-page-ff-'));
  files = writeTestSet(join(tmp, 'set'));
  want = cliAnswers(files);
  server = await serveStatic(DIST, { isolation: true });
});

after(async () => {
  await browser?.close();
  await server?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

async function run(url, origin, shot) {
  const page = await browser.newPage();
  const requests = [], errors = [];
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(e.message));
  await page.setViewport({ width: 1366, height: 768 });
  await page.goto(url);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  const afterReady = requests.length;
  const input = await page.$('#dropzone input[type=file]');
  await input.uploadFile(...files);
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, { timeout: 120000 }, files.length);
  checkCards(await page.evaluate(readCards), want);
  if (origin.startsWith('http')) assert.ok(requests.includes(`${origin}sialoscan-app.js`), `requests are observed: ${requests}`);
  assert.deepEqual(foreignRequests(requests, origin), []);
  assert.deepEqual(requests.slice(afterReady).filter((u) => !u.startsWith('blob:') && !u.startsWith('data:')), [], 'no request once the page is ready');
  assert.deepEqual(errors, []);
  const status = await page.$eval('#engine-status', (e) => e.textContent);
  if (shot) {
    mkdirSync(join(ROOT, 'build', 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'build', 'test-artifacts', shot), fullPage: true });
  }
  await page.close();
  return status;
}

test('Firefox: page opened from disk (file://)', { skip }, async () => {
  const status = await run(`file://${DIST}/index.html`, `file://${DIST}/`, 'page-firefox.png');
  assert.match(status, /Ready/);
});

test('Firefox: page served by `make serve` (cross-origin isolated)', { skip }, async () => {
  const status = await run(server.url, server.url);
  assert.match(status, /Ready/);
  if (existsSync(join(DIST, 'sialoscan-mt.js'))) assert.match(status, /[2-9] threads \(cross-origin isolated\)/, 'the threaded engine runs');
});
