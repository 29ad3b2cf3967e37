// engine.mjs — time one JavaScript/WebAssembly engine on one model, in a process of its own
// (bench/run.mjs starts one per engine, architecture and thread count, so that no engine's heap,
// workers or JIT state leaks into another's figures, and ONNX Runtime's thread count, fixed when
// its module starts, can differ between runs).
//
//   node bench/engine.mjs '{"engine":"sialo-wasm|tfjs-wasm|tfjs-wasm-folded|ort-wasm","model":"M.sialo",
//                           "onnx":"M.onnx","input":"x.f32","threads":1,"runs":0,"warmup":3,
//                           "budgetMs":6000}'
//
//   ("cam": true, sialo-wasm only: also time forward + Grad-CAM -> cam_median_ms, cam_runs)
// Prints one JSON line: { engine, arch, threads, runs, median_ms, min_ms, max_ms, times_ms,
// first_ms (first call, cold), load_ms (model load / session creation), cpu_ratio (process CPU
// time / wall time while measuring: > 1 means more than one core was busy), p (the output for the
// input), info (SIMD / threads / versions as the engine reports them) }.
// runs = 0: as many runs as fit in budgetMs after warm-up (at least 5, at most 31, odd).
import fs from 'node:fs';
import { readModelFile } from '../tests/node/lib/model-file.mjs';

const cfg = JSON.parse(process.argv[2] || '{}');
const { engine, model: modelPath, onnx: onnxPath, input: inputPath } = cfg;
const threads = cfg.threads ?? 1;
const warmup = cfg.warmup ?? 3;
const budgetMs = cfg.budgetMs ?? 6000;
const MIN_RUNS = 5, MAX_RUNS = 31;

const modelBytes = new Uint8Array(fs.readFileSync(modelPath));
const file = readModelFile(modelBytes, { verifyChecksum: false });
const { inputH: H, inputW: W, inputC: C, arch } = file.meta;
const raw = fs.readFileSync(inputPath);
const x = new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
if (x.length !== H * W * C) throw new Error(`input has ${x.length} floats, the model takes ${H}x${W}x${C}`);

// each engine: { load(): Promise, run(): Promise<Float32Array> | Float32Array, info }
async function makeSialo() {
  const { createSialoscan } = await import('../wasm/sialoscan.mjs');
  // threads > 1: the pthreads build (wasm/dist/sialoscan-mt.js); 1: wasm/dist/sialoscan-core.wasm
  const s = await createSialoscan({ model: modelBytes, threads, simd: engine === 'sialo-wasm-relaxed' ? 'relaxed' : 'simd128' });
  const { engine: eng } = s.info();
  return {
    run: () => s.forward(x),
    runCam: () => s.gradcam(x).output, // forward + Grad-CAM at the default layer
    info: { build: `${eng.build === 'pthreads' ? 'wasm/dist/sialoscan-mt' : 'wasm/dist/sialoscan-core'}${eng.relaxedSimd ? '.relaxed' : ''}.wasm`,
            kernel: eng.kernel, simd: eng.simd, threads: eng.threads },
  };
}

// TensorFlow.js WASM, the network rebuilt from the same weights (bench/tfjs-peer.mjs, shared with
// bench/chromium.mjs): 'layers' = tfjs-layers, 'folded' = batch norms folded, activations fused
async function makeTfjs(form) {
  const core = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  const tfl = form === 'layers' ? await import('@tensorflow/tfjs-layers') : null;
  const { startTfjsWasm, tfjsNetwork } = await import('./tfjs-peer.mjs');
  const info = await startTfjsWasm({ core, wasm }, {
    threads, wasmPaths: new URL('../node_modules/@tensorflow/tfjs-backend-wasm/dist/', import.meta.url).pathname,
  });
  const net = tfjsNetwork({ core, tfl }, form, file);
  return { run: () => net.forward(x), info: form === 'folded' ? { ...info, graph: net.graph } : info };
}

async function makeOrt() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  const bytes = new Uint8Array(fs.readFileSync(onnxPath));
  const sess = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const [inName] = sess.inputNames, [outName] = sess.outputNames;
  return {
    run: async () => {
      const r = await sess.run({ [inName]: new ort.Tensor('float32', x, [1, H, W, C]) });
      return r[outName].data;
    },
    info: {
      execution_provider: 'wasm', graph_optimization: 'all', num_threads_requested: threads,
      num_threads_setting: ort.env.wasm.numThreads, simd: true /* 1.30 ships SIMD builds only */,
      versions: ort.env.versions,
    },
  };
}

const makers = { 'sialo-wasm': makeSialo, 'sialo-wasm-relaxed': makeSialo, 'tfjs-wasm': () => makeTfjs('layers'), 'tfjs-wasm-folded': () => makeTfjs('folded'), 'ort-wasm': makeOrt };
if (!makers[engine]) throw new Error(`unknown engine ${engine}`);

let t0 = performance.now();
const e = await makers[engine]();
const loadMs = performance.now() - t0;

t0 = performance.now();
let out = await e.run();
const firstMs = performance.now() - t0;
let last = firstMs;
for (let i = 1; i < warmup; i++) {
  t0 = performance.now();
  out = await e.run();
  last = performance.now() - t0;
}
let runs = cfg.runs > 0 ? cfg.runs : Math.max(MIN_RUNS, Math.min(MAX_RUNS, Math.floor(budgetMs / Math.max(last, 1e-3))));
if (!cfg.runs && runs % 2 === 0) runs += 1; // an odd count: the median is one measured run
const times = [], camTimes = [];
const withCam = cfg.cam && e.runCam;
if (withCam) e.runCam(); // its first call pins the layers it needs
let cpuCam = 0;
const cpu0 = process.cpuUsage(), w0 = performance.now();
for (let i = 0; i < runs; i++) {
  t0 = performance.now();
  out = await e.run();
  times.push(performance.now() - t0);
  if (withCam) { // interleaved with the plain forwards, so that both see the same machine
    const c0 = process.cpuUsage();
    t0 = performance.now();
    e.runCam();
    camTimes.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpuCam += c.user + c.system;
  }
}
let wall = performance.now() - w0;
const cpuAll = process.cpuUsage(cpu0);
const cpu = { user: cpuAll.user + cpuAll.system - cpuCam, system: 0 };
if (withCam) wall -= camTimes.reduce((a, b) => a + b, 0);
const r2 = (v) => Math.round(v * 1000) / 1000;
const median = (ts) => {
  const q = [...ts].sort((a, b) => a - b);
  return q.length % 2 ? q[(q.length - 1) / 2] : (q[q.length / 2 - 1] + q[q.length / 2]) / 2;
};
const sorted = [...times].sort((a, b) => a - b);
// the cost of Grad-CAM (cfg.cam): forward + Grad-CAM on the same input, one after each plain forward
const cam = withCam ? { cam_median_ms: r2(median(camTimes)), cam_runs: camTimes.length } : undefined;
console.log(JSON.stringify({
  engine, arch, input: H, threads, runs,
  median_ms: r2(median(times)),
  min_ms: r2(sorted[0]), max_ms: r2(sorted[sorted.length - 1]),
  times_ms: times.map(r2), first_ms: r2(firstMs), load_ms: r2(loadMs),
  cpu_ratio: Math.round(((cpu.user + cpu.system) / 1000 / wall) * 100) / 100,
  p: Array.from(out),
  info: e.info,
  ...cam,
}));
// ONNX Runtime's, tfjs's and our pthreads build's worker threads would keep the process alive
process.exit(0);
