// chromium.mjs — our WASM engine where the page runs it: a dedicated worker of a cross-origin-
// isolated page (tools/serve.mjs, COOP/COEP) in headless Chromium, interleaved rounds of
//   1t   sialoscan-standalone.js (the single-threaded build, what a plain or file:// page gets)
//   2t   sialoscan-mt.js with 2 threads (the pthreads build, what an isolated page gets)
//   ort-1t / ort-2t   the peer, ONNX Runtime Web 1.30 (wasm EP, its own threads) on the same page
// Each round starts a fresh worker per configuration (cold start = importScripts + module + model
// fetch + load + first result) and then times s.forward(x) on the same 224x224 input.
//
//   node bench/chromium.mjs [--arch mobilenetv2,resnet50v2] [--rounds 3] [--runs 9] [--model FILE]
//
// Models: `sialoscan init --arch A --input 224 --seed 1` (random weights, as bench/run.mjs), or
// --model (e.g. the shipped models/sialoscan-busi.sialo, for the page's real cold start).
// Prints per configuration the median over all rounds' runs, the min, the median cold start, and a
// last JSON line { arch: { ours_wasm_1t, ours_wasm_2t, cold_start_1t_ms, cold_start_2t_ms } }.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../tools/serve.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const o = { archs: ['mobilenetv2', 'resnet50v2'], rounds: 3, runs: 9, model: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = () => argv[++i];
  if (a === '--arch') o.archs = v().split(',');
  else if (a === '--rounds') o.rounds = Number(v());
  else if (a === '--runs') o.runs = Number(v());
  else if (a === '--model') o.model = path.resolve(v());
  else throw new Error(`unknown option ${a}`);
}

const pageDir = path.join(ROOT, 'build', 'bench-chromium');
fs.mkdirSync(pageDir, { recursive: true });
fs.writeFileSync(path.join(pageDir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">\n');
// the worker: which script is a query parameter (as the page picks by crossOriginIsolated)
fs.writeFileSync(path.join(pageDir, 'worker.js'), `
const t0 = performance.now();
importScripts('/wasm/dist/' + new URL(location.href).searchParams.get('script'));
onmessage = async ({ data: { modelUrl, threads, simd, runs, x } }) => {
  try {
    const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const s = await createSialoscan({ model, threads, simd });
    let out = s.forward(x);
    const cold = performance.now() - t0;
    for (let i = 0; i < 2; i++) out = s.forward(x);
    const times = [];
    for (let i = 0; i < runs; i++) { const t = performance.now(); out = s.forward(x); times.push(performance.now() - t); }
    const engine = s.info().engine;
    s.dispose();
    postMessage({ cold, times, engine, p: out[0] });
  } catch (e) { postMessage({ error: String(e && e.message || e) }); }
};
`);

// the peer: ONNX Runtime Web 1.30 (wasm EP) on the page's main thread of the same isolated page,
// with its own thread pool, on an ONNX export of the same model (bench/onnx-export.mjs)
async function ortInPage({ onnxUrl, threads, runs, x }) {
  try {
    const t0 = performance.now();
    const ort = await import('/node_modules/onnxruntime-web/dist/ort.wasm.min.mjs');
    ort.env.wasm.numThreads = threads;
    ort.env.wasm.wasmPaths = '/node_modules/onnxruntime-web/dist/';
    const bytes = new Uint8Array(await (await fetch(onnxUrl)).arrayBuffer());
    const sess = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const [inName] = sess.inputNames, [outName] = sess.outputNames;
    const input = new ort.Tensor('float32', new Float32Array(x), [1, 224, 224, 3]);
    let out = (await sess.run({ [inName]: input }))[outName].data;
    const cold = performance.now() - t0;
    for (let i = 0; i < 2; i++) out = (await sess.run({ [inName]: input }))[outName].data;
    const times = [];
    for (let i = 0; i < runs; i++) { const t = performance.now(); out = (await sess.run({ [inName]: input }))[outName].data; times.push(performance.now() - t); }
    await sess.release();
    return { cold, times, engine: { build: `ORT Web ${ort.env.versions?.web ?? ''} wasm`, kernel: 'its own (MLAS)', threads }, p: out[0] };
  } catch (e) { return { error: String(e && e.message || e) }; }
}

async function inPage({ worker, modelUrl, threads, simd, runs, x }) {
  const w = new Worker(worker);
  const r = await new Promise((ok) => {
    w.onmessage = (e) => ok(e.data);
    w.onerror = (e) => ok({ error: e.message });
    w.postMessage({ modelUrl, threads, simd, runs, x: new Float32Array(x) });
  });
  w.terminate();
  return r;
}

const median = (a) => { const q = [...a].sort((x, y) => x - y); return q.length % 2 ? q[(q.length - 1) / 2] : (q[q.length / 2 - 1] + q[q.length / 2]) / 2; };
const r1 = (v) => Math.round(v * 10) / 10;

const { chromium } = await import('playwright-core');
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const server = await serveStatic(ROOT, { port: 0, isolation: true });
const summary = {};
try {
  const page = await browser.newPage();
  await page.goto(`${server.url}build/bench-chromium/index.html`);
  if (!(await page.evaluate(() => globalThis.crossOriginIsolated))) throw new Error('the page is not cross-origin isolated');
  console.log(`chromium ${browser.version()}, ${os.cpus()[0].model}, ${os.cpus().length} cores; forward(x) 224x224, ms`);
  for (const arch of o.archs) {
    // the model is served next to the page; the worker fetches it (counted in its cold start)
    const modelFile = path.join(pageDir, `${arch}.sialo`);
    if (o.model) fs.copyFileSync(o.model, modelFile);
    else {
      const r = spawnSync(CLI, ['init', '--arch', arch, '--input', '224', '--head', 'binary', '--seed', '1', modelFile], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`sialoscan init: ${r.stderr}`);
    }
    const modelUrl = `${arch}.sialo`;
    const { sialoToOnnx } = await import('./onnx-export.mjs');
    const { readModelFile } = await import('../tests/node/lib/model-file.mjs');
    fs.writeFileSync(path.join(pageDir, `${arch}.onnx`), sialoToOnnx(readModelFile(fs.readFileSync(modelFile))).bytes);
    const onnxUrl = `${arch}.onnx`;
    const x = Array.from({ length: 224 * 224 * 3 }, (_, i) => Math.sin(i * 0.013) * 0.8);
    // 'auto' is what the page gets (relaxed SIMD in Chromium 156), 'simd128' the fallback build
    const configs = [
      { key: '1t', worker: 'worker.js?script=sialoscan-standalone.js', threads: 1, simd: 'auto' },
      { key: '2t', worker: 'worker.js?script=sialoscan-mt.js', threads: 2, simd: 'auto' },
      { key: '1t-simd128', worker: 'worker.js?script=sialoscan-standalone.js', threads: 1, simd: 'simd128' },
      { key: '2t-simd128', worker: 'worker.js?script=sialoscan-mt.js', threads: 2, simd: 'simd128' },
      { key: 'ort-1t', ort: true, threads: 1 },
      { key: 'ort-2t', ort: true, threads: 2 },
    ];
    const acc = Object.fromEntries(configs.map((c) => [c.key, { times: [], cold: [], p: null, engine: null }]));
    for (let round = 0; round < o.rounds; round++) {
      for (const c of round % 2 ? [...configs].reverse() : configs) { // interleaved, alternating order
        let r;
        if (c.ort) { // a fresh page each time: ORT fixes its thread count when its module first starts
          const p2 = await browser.newPage();
          await p2.goto(`${server.url}build/bench-chromium/index.html`);
          r = await p2.evaluate(ortInPage, { onnxUrl, threads: c.threads, runs: o.runs, x });
          await p2.close();
        } else r = await page.evaluate(inPage, { worker: c.worker, modelUrl, threads: c.threads, simd: c.simd, runs: o.runs, x });
        if (r.error) throw new Error(`${arch} ${c.key}: ${r.error}`);
        acc[c.key].times.push(...r.times);
        acc[c.key].cold.push(r.cold);
        acc[c.key].engine = r.engine;
        acc[c.key].p = r.p;
      }
    }
    for (const c of configs) // fused multiply-adds round differently: the builds agree within 1e-5; ORT within 1e-4
      if (Math.abs(acc[c.key].p - acc['1t-simd128'].p) > (c.ort ? 1e-4 : 1e-5)) throw new Error(`${arch}: ${c.key} p ${acc[c.key].p} vs 1t-simd128 ${acc['1t-simd128'].p}`);
    summary[arch] = {};
    for (const c of configs) {
      const a = acc[c.key];
      console.log(`${arch} ${c.key} (${a.engine.build}, ${a.engine.kernel}, ${a.engine.threads} thread(s)): median ${r1(median(a.times))}, min ${r1(Math.min(...a.times))}` +
        ` over ${a.times.length} runs in ${o.rounds} rounds; cold start ${r1(median(a.cold))}`);
      summary[arch][c.ort ? `peer_ort_web_${c.key.slice(4)}` : `ours_wasm_${c.key}`] = r1(median(a.times));
      summary[arch][`cold_start_${c.key}_ms`] = r1(median(a.cold));
    }
  }
  await page.close();
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(pageDir, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
