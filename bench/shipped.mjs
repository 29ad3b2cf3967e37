// shipped.mjs — what one frame costs with the shipped model in WebAssembly (Node 20, one thread):
// classify, and classify + Grad-CAM, interleaved, on a 560×420 PNG (decode, resize and, for an
// ensemble, every network included). Issue 10's budget: classify + Grad-CAM ≤ 100 ms.
//   node --experimental-wasm-relaxed-simd bench/shipped.mjs [--model M] [--runs 31]
import { readFileSync } from 'node:fs';
import { createSialoscan } from '../wasm/sialoscan.mjs';
import { testImage } from '../tests/node/lib/png.mjs';

const arg = (k, d) => { const i = process.argv.indexOf(k); return i > 0 ? process.argv[i + 1] : d; };
const modelPath = arg('--model', new URL('../models/sialoscan-busi.sialo', import.meta.url).pathname);
const runs = Number(arg('--runs', 31));
const s = await createSialoscan({ model: readFileSync(modelPath), threads: 1 });
const png = testImage(7, 560, 420);
const t = { classify: [], cam: [] };
for (let i = 0; i < 3; i++) await s.classify(png, { cam: true }); // warm-up
for (let i = 0; i < runs; i++) {
  for (const k of i % 2 ? ['cam', 'classify'] : ['classify', 'cam']) {
    const t0 = performance.now();
    await s.classify(png, k === 'cam' ? { cam: true } : {});
    t[k].push(performance.now() - t0);
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
const info = s.info();
const out = { model: modelPath.split('/').pop(), members: info.members, kernel: info.engine.kernel, threads: info.engine.threads,
  classify_ms: +med(t.classify).toFixed(1), classify_cam_ms: +med(t.cam).toFixed(1), runs };
console.log(`${out.model} (${out.members} network${out.members > 1 ? 's' : ''}, ${out.kernel}, ${out.threads} thread): ` +
  `classify ${out.classify_ms} ms, classify + Grad-CAM ${out.classify_cam_ms} ms (median of ${runs}, 560×420 PNG)`);
console.log(JSON.stringify(out));
s.dispose();
