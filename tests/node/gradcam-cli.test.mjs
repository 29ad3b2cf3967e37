// gradcam-cli.test.mjs — Grad-CAM in the command line: `classify --cam-out DIR [--cam-layer L]`
// writes DIR/<stem>-cam.png and adds "cam" to the JSON line; `eval` on a folder with lesion masks
// (DIR/masks/<class>/<stem>-mask[-K].png, several per frame united) reports cam_n, cam_pointing,
// cam_n_malignant, cam_pointing_malignant and cam_energy_in_mask (on each frame's true-class map); `bench --cam` reports the Grad-CAM overhead. Synthetic images only.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { crc32 } from './lib/model-file.mjs';
import { CLI, requireFile, tmpDir, cli, runCli } from './lib/harness.mjs';
import { createSialoscan } from '../../wasm/sialoscan.mjs';

/** An 8-bit PNG (channels 1 = grey, 3 = RGB). */
function png(px, w, h, channels) {
  const raw = Buffer.alloc((w * channels + 1) * h);
  for (let y = 0; y < h; y++) {
    raw[y * (w * channels + 1)] = 0;
    Buffer.from(px.buffer, px.byteOffset + y * w * channels, w * channels).copy(raw, y * (w * channels + 1) + 1);
  }
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td));
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;
  ihdr[9] = channels === 1 ? 0 : 2;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr),
    chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

function pngSize(file) {
  const b = fs.readFileSync(file);
  assert.equal(b.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  return [b.readUInt32BE(16), b.readUInt32BE(20)];
}

function frameRgb(w, h, seed) {
  const px = new Uint8Array(w * h * 3);
  for (let i = 0; i < px.length; i++) px[i] = (Math.sin(i * 0.013 * seed) * 100 + 120 + ((i * seed) % 17)) & 255;
  return px;
}

function maskGrey(w, h, inside) {
  const px = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) px[y * w + x] = inside(x, y) ? 255 : 0;
  return px;
}

describe('Grad-CAM in the CLI', () => {
  const st = {};
  before(() => {
    requireFile(CLI, 'build it with `make` before running the tests');
    st.dir = tmpDir('sialo-gradcam-cli-');
    st.model = path.join(st.dir, 'smallcnn.sialo');
    cli(['init', '--arch', 'smallcnn', '--input', '64', '--seed', '2', st.model]);
    // a BUSI-like folder: benign/, malignant/, masks/<class>/<stem>-mask[-K].png
    const data = path.join(st.dir, 'data');
    for (const d of ['benign', 'malignant', 'masks/benign', 'masks/malignant']) fs.mkdirSync(path.join(data, d), { recursive: true });
    const W = 96, H = 72;
    const put = (rel, buf) => fs.writeFileSync(path.join(data, rel), buf);
    put('benign/a.png', png(frameRgb(W, H, 1), W, H, 3));
    put('benign/b.png', png(frameRgb(W, H, 2), W, H, 3));
    put('malignant/c.png', png(frameRgb(W, H, 3), W, H, 3));
    put('malignant/d.png', png(frameRgb(W, H, 4), W, H, 3));
    // a: one mask covering the frame; b: two masks (top and bottom half) that unite to the frame;
    // c: an empty mask; d: none. Decoys that must not count as masks of a / b:
    put('masks/benign/a-mask.png', png(maskGrey(W, H, () => true), W, H, 1));
    put('masks/benign/b-mask.png', png(maskGrey(W, H, (x, y) => y < H / 2), W, H, 1));
    put('masks/benign/b-mask-1.png', png(maskGrey(W, H, (x, y) => y >= H / 2), W, H, 1));
    put('masks/benign/a-masked.png', png(maskGrey(W, H, () => false), W, H, 1));
    put('masks/benign/ab-mask.png', png(maskGrey(W, H, () => false), W, H, 1));
    put('masks/malignant/c-mask.png', png(maskGrey(W, H, () => false), W, H, 1));
    st.data = data;
    st.W = W;
    st.H = H;
  });
  after(() => fs.rmSync(st.dir, { recursive: true, force: true }));

  it('classify --cam-out writes <stem>-cam.png at the frame size and names it in the JSON', () => {
    const out = path.join(st.dir, 'cams');
    const imgs = [path.join(st.data, 'benign/a.png'), path.join(st.data, 'malignant/c.png')];
    const r = cli(['classify', '--model', st.model, '--cam-out', out, ...imgs]);
    const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 2);
    for (const [i, j] of lines.entries()) {
      const stem = path.basename(imgs[i], '.png');
      assert.equal(j.cam, path.join(out, `${stem}-cam.png`));
      assert.deepEqual(pngSize(j.cam), [st.W, st.H]);
      assert.ok(j.p_malignant >= 0 && j.p_malignant <= 1);
    }
    // same probability as without the CAM
    const plain = JSON.parse(cli(['classify', '--model', st.model, imgs[0]]).stdout);
    assert.equal(plain.p_malignant, lines[0].p_malignant);
    assert.equal(plain.cam, undefined);
    // another layer
    const r2 = cli(['classify', '--model', st.model, '--cam-out', out, '--cam-layer', 'block3_pool', imgs[0]]);
    assert.ok(fs.existsSync(JSON.parse(r2.stdout).cam));
  });

  it('classify --cam-layer with an unknown or fused layer fails with a clear message', () => {
    const img = path.join(st.data, 'benign/a.png');
    const bad = runCli(['classify', '--model', st.model, '--cam-out', path.join(st.dir, 'cams'), '--cam-layer', 'nope', img]);
    assert.equal(bad.status, 1);
    assert.match(JSON.parse(bad.stdout).error, /no layer named 'nope'/);
    const fused = runCli(['classify', '--model', st.model, '--cam-out', path.join(st.dir, 'cams'), '--cam-layer', 'block4_bn', img]);
    assert.equal(fused.status, 1);
    assert.match(fused.stderr, /fused into 'block4_relu'/);
  });

  it('eval with masks reports cam_n, cam_pointing and cam_energy_in_mask', () => {
    const j = JSON.parse(cli(['eval', '--model', st.model, st.data]).stdout.trim().split('\n').pop());
    assert.equal(j.n, 4);
    assert.equal(j.cam_layer, 'block4_relu');
    assert.equal(j.cam_n, 3, 'a, b (two masks united) and c (empty mask); d has none');
    // full masks for a and b: the peak is inside and all the mass is; c's mask is empty
    // (an all-zero map would count as a miss: this model gives non-zero maps for a and b)
    assert.equal(j.cam_pointing, 0.6667);
    assert.equal(j.cam_energy_in_mask, 0.6667);
    // scored on each frame's true class's map; malignant frames alone: c (empty mask) misses
    assert.equal(j.cam_map, 'true class');
    assert.equal(j.cam_n_malignant, 1);
    assert.equal(j.cam_pointing_malignant, 0);
  });

  it('eval scores malignant frames on the malignant map and benign frames on the benign (negated-logit) map', async () => {
    // half masks (left half); per-frame energy in eval's CSV against the malignant map of the WASM API
    const dir = path.join(st.dir, 'half');
    for (const d of ['benign', 'malignant', 'masks/benign', 'masks/malignant']) fs.mkdirSync(path.join(dir, d), { recursive: true });
    const left = (x) => x < st.W / 2;
    const frames = [];
    for (let k = 0; k < 6; k++) {
      const cls = k < 3 ? 'benign' : 'malignant', name = `h${k}`;
      const buf = png(frameRgb(st.W, st.H, 5 + k), st.W, st.H, 3);
      fs.writeFileSync(path.join(dir, cls, `${name}.png`), buf);
      fs.writeFileSync(path.join(dir, 'masks', cls, `${name}-mask.png`), png(maskGrey(st.W, st.H, left), st.W, st.H, 1));
      frames.push({ cls, name, buf });
    }
    const csv = path.join(st.dir, 'half.csv');
    cli(['eval', '--model', st.model, '--csv', csv, dir]);
    const energy = new Map(fs.readFileSync(csv, 'utf8').trim().split('\n').slice(1).map((l) => {
      const f = l.split(',');
      return [path.basename(f[0].replace(/"/g, ''), '.png'), Number(f[5])];
    }));
    const s = await createSialoscan({ model: fs.readFileSync(st.model) });
    try {
      for (const fr of frames) {
        const { cam } = await s.classify(fr.buf, { cam: true }); // the malignant map
        let inside = 0, total = 0;
        for (let y = 0; y < cam.height; y++) for (let x = 0; x < cam.width; x++) {
          const v = cam.map[y * cam.width + x];
          total += v;
          if (left(x)) inside += v;
        }
        const malEnergy = total > 0 ? inside / total : 0;
        const got = energy.get(fr.name);
        if (fr.cls === 'malignant') assert.ok(Math.abs(got - malEnergy) < 2e-3, `${fr.name}: eval ${got}, malignant map ${malEnergy}`);
        else assert.ok(Math.abs(got - malEnergy) > 1e-2, `${fr.name}: eval ${got} is the malignant map's ${malEnergy}, not the benign map's`);
      }
    } finally {
      s.dispose();
    }
  });

  it('eval without masks computes no CAM unless --cam is given', () => {
    const flat = path.join(st.dir, 'flat');
    for (const c of ['benign', 'malignant']) {
      fs.mkdirSync(path.join(flat, c), { recursive: true });
      fs.copyFileSync(path.join(st.data, c === 'benign' ? 'benign/a.png' : 'malignant/c.png'), path.join(flat, c, 'x.png'));
    }
    const j = JSON.parse(cli(['eval', '--model', st.model, flat]).stdout.trim().split('\n').pop());
    assert.equal(j.cam_n, undefined);
    assert.equal(j.cam_pointing, undefined);
    const jc = JSON.parse(cli(['eval', '--model', st.model, '--cam', flat]).stdout.trim().split('\n').pop());
    assert.equal(jc.cam_n, 0);
    assert.equal(jc.cam_pointing, null);
    const bad = runCli(['eval', '--model', st.model, '--cam-layer', 'nope', st.data]);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /no layer named 'nope'/);
  });

  it('bench --cam reports classify-only vs classify+CAM', () => {
    const j = JSON.parse(cli(['bench', '--model', st.model, '--cam', '--runs', '5']).stdout);
    assert.equal(j.cam_layer, 'block4_relu');
    assert.equal(j.cam_map, '640x480');
    assert.ok(j.cam_median_ms > 0 && Number.isFinite(j.cam_overhead_pct), JSON.stringify(j));
  });
});
