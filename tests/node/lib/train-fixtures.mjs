// A labelled training folder for the page's training-panel tests (Chromium and Firefox).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makePng } from './png.mjs';

export /** A folder of labelled frames: n benign (bright, a small dark blob) and n malignant (a large dark
 * blob with a ragged edge), 64×64 PNG, seeded; plus a non-image file at the root and, when asked, a
 * damaged PNG in benign/ (refused with the engine's sentence). */
function writeFolder(dir, { benign = 12, malignant = 12, damaged = true, seed = 0 } = {}) {
  const frameOf = (k, bad) => {
    let s = (k * 2654435761 + seed) >>> 0 || 1;
    const rnd = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 4294967296);
    const cx = 20 + 24 * rnd(), cy = 20 + 24 * rnd(), r = bad ? 16 + 6 * rnd() : 6 + 4 * rnd();
    return makePng(64, 64, (x, y) => {
      const a = Math.atan2(y - cy, x - cx), d = Math.hypot(x - cx, y - cy) / (r * (bad ? 1 + 0.25 * Math.sin(5 * a) : 1));
      const v = Math.max(0, Math.min(255, Math.round((d < 1 ? 30 : bad ? 120 : 170) + 50 * (rnd() - 0.5))));
      return [v, v, v];
    });
  };
  for (const [cls, n] of [['benign', benign], ['malignant', malignant]]) {
    if (!n) continue;
    mkdirSync(join(dir, cls), { recursive: true });
    for (let i = 0; i < n; i++) writeFileSync(join(dir, cls, `f${String(i).padStart(2, '0')}.png`), frameOf(i + (cls === 'malignant' ? 100 : 0), cls === 'malignant'));
  }
  writeFileSync(join(dir, 'notes.txt'), 'not a frame\n');
  if (damaged && benign) writeFileSync(join(dir, 'benign', 'zz-damaged.png'), Buffer.from('this is not an image\n'));
  return dir;
}
