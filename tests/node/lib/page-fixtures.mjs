// page-fixtures.mjs — what the page tests give the page and what they expect back: generated
// frames, a garbage file and a zero-byte file, and the native CLI's answers on the same bytes (the
// independent reference). Shared by the Chromium and the Firefox tests.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testImage } from './png.mjs';

export const ROOT = resolve('.');
export const DIST = join(ROOT, 'web', 'dist');
export const MODEL = join(ROOT, 'models', 'sialoscan-busi.sialo');
export const CLI = join(ROOT, 'build', 'sialoscan');
export const CHROMIUM = '/usr/bin/chromium';
export const FIREFOX = '/usr/bin/firefox-esr';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

/** Native CLI answers for files: { name: { p, label } | { error } }. */
export function cliAnswers(files, model = MODEL) {
  const r = spawnSync(CLI, ['classify', '--model', model, ...files], { encoding: 'utf8' });
  const out = {};
  for (const line of r.stdout.trim().split('\n')) {
    const j = JSON.parse(line);
    const name = j.file.split('/').pop();
    out[name] = j.error ? { error: j.error } : { p: j.p_malignant, label: j.label };
  }
  assert.equal(Object.keys(out).length, files.length, `the CLI answered ${Object.keys(out).length} of ${files.length}: ${r.stderr}`);
  return out;
}

/** Write the standard test set into dir: 3 generated frames, a JPEG, a garbage file, a PNG with a
 * flipped bit (checksum wrong) and an empty file. */
export function writeTestSet(dir) {
  mkdirSync(dir, { recursive: true });
  const files = [];
  const add = (name, bytes) => {
    const p = join(dir, name);
    writeFileSync(p, bytes);
    files.push(p);
  };
  add('frame-1.png', testImage(21, 320, 240));
  add('frame-2.png', testImage(22, 200, 260));
  add('frame-3.png', testImage(23, 640, 480));
  const jpg = join(dir, 'frame-4.jpg');
  copyFileSync(join(ROOT, 'tests', 'fixtures', 'baseline.jpg'), jpg);
  files.push(jpg);
  add('garbage.png', Buffer.from('this is not an image, it is a text file with a .png name\n'));
  const damaged = Buffer.from(testImage(24, 120, 90));
  damaged[damaged.length - 20] ^= 0x10; // a bit flipped inside IDAT: its CRC no longer matches
  add('damaged.png', damaged);
  add('empty.png', Buffer.alloc(0));
  return files;
}

/** Runs in the page: every card's data, and for done cards whether the overlay canvas has visible pixels. */
export function readCards() {
  return Array.from(document.querySelectorAll('[data-testid=result]')).map((card) => {
    const cam = card.querySelector('canvas[data-testid=cam]');
    let opaque = 0, distinct = 0;
    if (cam) {
      const px = cam.getContext('2d').getImageData(0, 0, cam.width, cam.height).data;
      const seen = new Set();
      for (let i = 0; i < px.length; i += 4) {
        if (px[i + 3] > 0) opaque++;
        if (seen.size < 64) seen.add((px[i] << 16) | (px[i + 1] << 8) | px[i + 2]);
      }
      distinct = seen.size;
    }
    return { file: card.dataset.file, p: card.dataset.pMalignant, label: card.dataset.label, error: card.dataset.error,
             busy: card.getAttribute('aria-busy'), cam: cam ? { w: cam.width, h: cam.height, opaque, distinct } : null };
  });
}

/** Check the page's cards against the CLI's answers (probabilities within 1e-4). */
export function checkCards(cards, want) {
  assert.equal(cards.length, Object.keys(want).length, `cards: ${JSON.stringify(cards.map((c) => c.file))}`);
  for (const c of cards) {
    const w = want[c.file];
    assert.ok(w, `unexpected card ${c.file}`);
    if (w.error) {
      assert.equal(c.error, w.error, `${c.file}: the page's error card must give the engine's reason`);
      assert.equal(c.cam, null);
    } else {
      assert.equal(c.error, undefined, `${c.file}: ${c.error}`);
      assert.ok(Math.abs(Number(c.p) - w.p) < 1e-4, `${c.file}: page p=${c.p}, CLI p=${w.p}`);
      assert.equal(c.label, w.label, `${c.file}: label`);
      assert.ok(c.cam && c.cam.opaque === c.cam.w * c.cam.h && c.cam.distinct > 8, `${c.file}: the overlay canvas is drawn (${JSON.stringify(c.cam)})`);
    }
  }
}

/** Which requests are allowed: the page's own folder (file:// or the server) and local blob:/data: URLs. */
export function foreignRequests(urls, origin) {
  return urls.filter((u) => !(u.startsWith(origin) || u.startsWith('blob:') || u.startsWith('data:')));
}
