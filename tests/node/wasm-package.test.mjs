// wasm-package.test.mjs — wasm/ as a package other pages and Node tools depend on: package.json's
// exports resolve to files the build made, every export is the same API, and the TypeScript
// declarations (sialoscan.d.ts) name exactly the methods the API object has. Also the frame and
// overlay contract the page relies on: overlay(a) = (1-a)·frame + a·overlay(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { testImage } from './lib/png.mjs';

const WASM = resolve('wasm');
const pkg = JSON.parse(readFileSync(join(WASM, 'package.json'), 'utf8'));
const model = readFileSync(resolve('models/sialoscan-busi.sialo'));

test('package.json: version, exports and types point at built files', () => {
  assert.match(pkg.version, /^\d+\.\d+\.\d+$/);
  const root = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.equal(pkg.version, root.version, 'wasm/package.json and package.json carry the same version');
  const targets = [pkg.main, pkg.types];
  for (const v of Object.values(pkg.exports)) targets.push(...(typeof v === 'string' ? [v] : Object.values(v)));
  for (const t of targets) assert.ok(existsSync(join(WASM, t)), `${t} exists (make wasm builds dist/)`);
});

test('sialoscan.d.ts declares exactly the methods the API object has', async () => {
  const dts = readFileSync(join(WASM, pkg.types), 'utf8');
  const body = dts.match(/export interface Sialoscan \{([\s\S]*?)\n\}/)[1];
  const declared = [...body.matchAll(/^\s{2}(\w+)\(/gm)].map((m) => m[1]).sort();
  for (const [name, target] of Object.entries(pkg.exports)) {
    if (name === './package.json' || typeof target === 'string') continue;
    const { createSialoscan } = await import(pathToFileURL(join(WASM, target.default)));
    const s = await createSialoscan({ model });
    assert.deepEqual(Object.keys(s).sort(), declared, `export ${name}`);
    const info = s.info();
    // every key declared without '?' is present (optional ones: engine, positive_class, an ensemble's networks)
    for (const [, key, optional] of dts.match(/export interface ModelInfo \{([\s\S]*?)\n\}/)[1].matchAll(/^\s{2}(\w+)(\?)?:/gm)) {
      if (!optional) assert.ok(key in info, `info().${key} is declared and present`);
    }
    s.dispose();
  }
});

test('sialoscan.d.ts declares exactly the methods the Trainer has, in every export and the classic script', async () => {
  const dts = readFileSync(join(WASM, pkg.types), 'utf8');
  const body = dts.match(/export interface Trainer \{([\s\S]*?)\n\}/)[1];
  const declared = [...body.matchAll(/^\s{2}(\w+)\(/gm)].map((m) => m[1]).sort();
  const check = async (createTrainer, name, U8 = Uint8Array) => {
    const t = await createTrainer({ arch: 'smallcnn', input: 32 });
    assert.deepEqual(Object.keys(t).sort(), declared, `export ${name}`);
    assert.equal(t.add('benign/a.png', U8.from(testImage(1, 40, 40))).status, 'taken');
    assert.equal(t.summary().frames, 1);
    t.dispose();
  };
  for (const [name, target] of Object.entries(pkg.exports)) {
    if (name === './package.json' || typeof target === 'string') continue;
    await check((await import(pathToFileURL(join(WASM, target.default)))).createTrainer, name);
  }
  // the classic script of a page opened from disk defines the global
  const { runInNewContext } = await import('node:vm');
  const ctx = { console, setTimeout, clearTimeout, WebAssembly, TextDecoder, TextEncoder, performance, atob, URL };
  ctx.globalThis = ctx;
  runInNewContext(readFileSync(join(WASM, 'dist', 'sialoscan-standalone.js'), 'utf8'), ctx);
  assert.equal(typeof ctx.createTrainer, 'function', 'globalThis.createTrainer');
  await check(ctx.createTrainer, 'sialoscan-standalone.js', runInNewContext('Uint8Array', ctx)); // that script's own realm
});

test('classify({cam, image}): the decoded image, and the overlay is linear in its opacity', async () => {
  const { createSialoscan } = await import(pathToFileURL(join(WASM, pkg.main)));
  const s = await createSialoscan({ model });
  const png = testImage(5, 90, 70);
  const r1 = await s.classify(png, { cam: true, camAlpha: 1, image: true });
  const r0 = await s.classify(png, { cam: true, camAlpha: 0 });
  const rh = await s.classify(png, { cam: true, camAlpha: 0.45 });
  assert.equal(r1.image.width, 90);
  assert.equal(r1.image.height, 70);
  assert.equal(r0.image, undefined, 'no image unless asked');
  // opacity 0 is the frame itself
  assert.deepEqual(Array.from(r0.cam.rgba), Array.from(r1.image.rgba));
  // opacity a = (1-a)·frame + a·overlay(1), within the rounding of 8-bit pixels
  let worst = 0;
  for (let i = 0; i < rh.cam.rgba.length; i++) {
    const mix = 0.55 * r1.image.rgba[i] + 0.45 * r1.cam.rgba[i];
    worst = Math.max(worst, Math.abs(mix - rh.cam.rgba[i]));
  }
  assert.ok(worst <= 1, `worst difference ${worst} grey levels`);
  assert.ok(s.heapBytes() >= 64 << 20);
  s.dispose();
});
