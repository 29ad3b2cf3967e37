// make-icons.mjs — the page's app icons (web app manifest), drawn here in code: no picture is
// downloaded or committed. An ultrasound fan (an annular sector from a probe at the top) in
// greys, with a dark oval lesion and its bright rim, on a rounded square of the page's accent colour.
//
//   import { iconPng } from './make-icons.mjs';  iconPng(192) -> Buffer (an RGBA PNG)
//   node tools/make-icons.mjs DIR                 writes DIR/icon-192.png and DIR/icon-512.png
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

export const ICON_SIZES = [192, 512];
export const THEME = { accent: '#1d5fb8', background: '#f5f7fa' }; // web/style.css: --accent, --bg

const CRC = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
function crc32(buf) {
  let c = 0xffffffff;
  for (const b of buf) c = CRC[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}
function chunk(type, data) {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
}
/** an 8-bit RGBA PNG of w x h from rgba (w*h*4 bytes) */
export function encodePng(w, h, rgba) {
  const raw = Buffer.alloc((w * 4 + 1) * h);
  for (let y = 0; y < h; y++) Buffer.from(rgba.buffer, rgba.byteOffset + y * w * 4, w * 4).copy(raw, y * (w * 4 + 1) + 1);
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8; ihdr[9] = 6; // 8-bit RGBA
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

const hex = (c) => [1, 3, 5].map((i) => parseInt(c.slice(i, i + 2), 16));

/** the colour [r, g, b, a] (0..1) of the drawing at (u, v), both in 0..1 (v down) */
function shade(u, v) {
  const [ar, ag, ab] = hex(THEME.accent).map((x) => x / 255);
  // the background: a rounded square in the accent colour (corners transparent)
  const r = 0.18, qx = Math.max(Math.abs(u - 0.5) - (0.5 - r), 0), qy = Math.max(Math.abs(v - 0.5) - (0.5 - r), 0);
  if (Math.hypot(qx, qy) > r) return [0, 0, 0, 0];
  let col = [ar, ag, ab];
  // the fan: apex (the probe) at (0.5, 0.16), radii 0.14 .. 0.70, +-38 degrees around straight down
  const dx = u - 0.5, dy = v - 0.16, d = Math.hypot(dx, dy), ang = Math.atan2(dx, dy);
  if (dy > 0 && d > 0.14 && d < 0.70 && Math.abs(ang) < 0.663) {
    // tissue: grey bands fading with depth, a deterministic speckle
    const speckle = 0.5 + 0.5 * Math.sin(u * 97.1 + Math.sin(v * 53.7) * 3) * Math.sin(v * 71.3 + Math.cos(u * 41.9) * 3);
    let g = 0.50 - 0.35 * (d - 0.14) / 0.56 + 0.10 * Math.sin(d * 40) + 0.16 * (speckle - 0.5);
    // the lesion: a dark oval with a bright rim
    const lx = (u - 0.52) / 0.15, ly = (v - 0.55) / 0.10, e = Math.hypot(lx, ly);
    if (e < 1) g = 0.06 + 0.04 * speckle;
    else if (e < 1.22) g = 0.92;
    g = Math.max(0, Math.min(1, g));
    col = [g, g, g * 1.03];
  } else if (Math.hypot(u - 0.5, v - 0.15) < 0.055) {
    col = [0.96, 0.97, 0.98]; // the probe's face
  }
  return [...col, 1];
}

/** the icon as an RGBA PNG of size x size (3 x 3 samples per pixel) */
export function iconPng(size) {
  const out = new Uint8Array(size * size * 4), S = 3;
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0, g = 0, b = 0, a = 0;
      for (let sy = 0; sy < S; sy++) {
        for (let sx = 0; sx < S; sx++) {
          const [cr, cg, cb, ca] = shade((x + (sx + 0.5) / S) / size, (y + (sy + 0.5) / S) / size);
          r += cr * ca; g += cg * ca; b += cb * ca; a += ca;
        }
      }
      const o = (y * size + x) * 4;
      if (a > 0) {
        out[o] = Math.round((255 * r) / a); out[o + 1] = Math.round((255 * g) / a); out[o + 2] = Math.round((255 * b) / a);
      }
      out[o + 3] = Math.round((255 * a) / (S * S));
    }
  }
  return encodePng(size, size, out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const dir = process.argv[2] || '.';
  for (const s of ICON_SIZES) writeFileSync(join(dir, `icon-${s}.png`), iconPng(s));
}
