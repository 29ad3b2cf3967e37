// page-screenshot.mjs — `make page-screenshot`: the README's picture of the page (docs/page.png),
// taken in headless Chromium with synthetic ultrasound-like frames (a speckled fan-shaped sector
// with a dark lesion; no patient image), plus one damaged file to show an error card.
//   node tools/page-screenshot.mjs [OUT.png]
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { makePng } from '../tests/node/lib/png.mjs';
import { CHROMIUM, CHROMIUM_ARGS, DIST } from '../tests/node/lib/page-fixtures.mjs';

const out = resolve(process.argv[2] || 'docs/page.png');

/** a B-mode-like frame: sector of speckle (Rayleigh), brighter near layers, a dark lesion */
function syntheticFrame(seed, w, h, lesion) {
  let s = seed >>> 0 || 1;
  const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
  const apexX = w / 2, apexY = -h * 0.08, r0 = h * 0.12, r1 = h * 1.02, half = 0.62;
  return makePng(w, h, (x, y) => {
    const dx = x - apexX, dy = y - apexY, r = Math.hypot(dx, dy), a = Math.atan2(dx, dy);
    if (r < r0 || r > r1 || Math.abs(a) > half) return [0, 0, 0];
    const speckle = Math.sqrt(-2 * Math.log(1 - rnd() * 0.999)); // Rayleigh
    const depth = (r - r0) / (r1 - r0);
    let v = 70 + 50 * Math.sin(depth * 9 + seed) * Math.exp(-depth * 2) + 25 * (1 - depth);
    const lx = (x - lesion.x * w) / (lesion.rx * w), ly = (y - lesion.y * h) / (lesion.ry * h);
    const d = Math.hypot(lx, ly) * (1 + lesion.rough * Math.sin(Math.atan2(ly, lx) * 7 + seed));
    if (d < 1) v *= 0.25 + 0.35 * d;
    else if (d < 1.15) v *= 1.35; // echogenic rim
    v *= speckle * 0.9;
    const g = Math.max(0, Math.min(255, Math.round(v)));
    return [g, g, g];
  });
}

const tmp = mkdtempSync(join(tmpdir(), 'sialo-shot-'));
try {
  const frames = [
    ['synthetic-01.png', syntheticFrame(3, 560, 420, { x: 0.45, y: 0.45, rx: 0.14, ry: 0.1, rough: 0.05 })],
    ['synthetic-02.png', syntheticFrame(8, 560, 420, { x: 0.58, y: 0.55, rx: 0.12, ry: 0.14, rough: 0.15 })],
    ['synthetic-03.png', syntheticFrame(13, 560, 420, { x: 0.4, y: 0.38, rx: 0.2, ry: 0.08, rough: 0.12 })],
    ['scan-copy-damaged.png', Buffer.from('this file was cut short during a copy\n')],
  ].map(([name, bytes]) => {
    const p = join(tmp, name);
    writeFileSync(p, bytes);
    return p;
  });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  const page = await browser.newPage({ viewport: { width: 1366, height: 900 } });
  await page.goto(`file://${DIST}/index.html`);
  await page.waitForSelector('#engine-status[data-ready=true]', { timeout: 60000 });
  await page.setInputFiles('#dropzone input[type=file]', frames);
  await page.waitForFunction((k) => document.querySelectorAll('[data-testid=result][aria-busy=false]').length === k, frames.length);
  await page.check('#cards article:nth-child(2) input[type=checkbox][id^=beside]');
  await page.screenshot({ path: out, fullPage: false });
  await browser.close();
  console.log(`page-screenshot: ${out}`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
