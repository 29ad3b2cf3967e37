// chromium.mjs — our WASM engine where the page runs it: a dedicated worker of a cross-origin-
// isolated page (tools/serve.mjs, COOP/COEP) in headless Chromium, interleaved rounds of
//   1t   sialoscan-standalone.js (the single-threaded build, what a plain or file:// page gets)
//   2t   sialoscan-mt.js with 2 threads (the pthreads build, what an isolated page gets)
//   ort-1t / ort-2t   the peer, ONNX Runtime Web 1.30 (wasm EP, its own threads) on the same page
//   tflite-1t / tflite-2t   (MobileNetV2 only) the peer TFLite-web (@tensorflow/tfjs-tflite
//                     0.0.1-alpha.10: TFLite + XNNPACK in WASM, SIMD + threads) on a float .tflite
//                     of the ImageNet MobileNetV2 (tools/tflite-float.mjs of ../shared's int8 file),
//                     raced by ours (in-1t / in-2t) on `sialoscan convert` of that same float file
//   tfjs-folded-1t / tfjs-folded-2t   the peer TensorFlow.js 4.22, wasm backend (XNNPACK inside), the
//                     same model's weights with batch norms folded and activations fused (the fastest
//                     TF.js form; bench/tfjs-peer.mjs + bench/tfjs-folded.mjs, shared with bench/engine.mjs)
//   tfjs-1t / tfjs-2t the same peer as tfjs-layers (the Keras architecture, tests/node/lib/keras-archs.mjs)
// Each round starts a fresh worker per configuration (cold start = importScripts + module + model
// fetch + load + first result) and then times s.forward(x) on the same 224x224 input.
//
//   node bench/chromium.mjs [--arch mobilenetv2,resnet50v2] [--rounds 3] [--runs 9] [--model FILE]
//                           [--only ours,ort,tflite,tfjs,tfjs-layers] [--tflite-int8 FILE]
//
// Models: `sialoscan init --arch A --input 224 --seed 1` (random weights, as bench/run.mjs), or
// --model (e.g. the shipped models/sialoscan-busi.sialo, for the page's real cold start).
// --only: configuration groups (ours: our four builds on that model; ort: ONNX Runtime Web; tflite:
// the ImageNet race, ours and TFLite-web on the same float weights; tfjs: TF.js with BN folded;
// tfjs-layers: TF.js as tfjs-layers; the TF.js groups need a binary-head model with Keras-named
// weights, as `sialoscan init` makes: they are skipped with a message for, e.g., the shipped model). --tflite-int8: the quantised
// file to dequantise (default ../shared/pretrained/tf2_mobilenet_v2_1.0_224_ptq.tflite; the tflite
// group is skipped with a message when it is absent).
// TFLite-web runs on the main thread of a fresh isolated page per configuration (its module and
// thread pool start with the page, like ORT's), loaded as the UMD scripts of node_modules
// (tfjs-core + tfjs-backend-cpu, then tf-tflite; its WASM from tfjs-tflite/wasm/ via setWasmPath,
// it picks tflite_web_api_cc_simd_threaded in an isolated page); timed is what s.forward(x) does
// for ours: copy the input in, TFLiteWebModelRunner.infer(), copy the output out. Its check: on
// the timing input and, when ../shared has them, the ImageNet sample photos (decoded and resized
// in the page, the same floats to both engines), max |dp| over the 1001 probabilities < 1e-4 and
// the same top-1 as ours; profiling once confirms that XNNPACK runs the graph.
// TensorFlow.js runs on the main thread of a fresh isolated page per configuration (its thread
// count is fixed when its backend starts), from the UMD scripts of node_modules (tfjs-core,
// tfjs-backend-wasm, + tfjs-layers for that form; its .wasm from tfjs-backend-wasm/dist/ via
// setWasmPaths): 1 thread = tfjs-backend-wasm-simd.wasm (what a page that is not cross-origin isolated
// gets, like our 1t build), 2 threads = tfjs-backend-wasm-threaded-simd.wasm with setThreadsCount(2).
// Timed is what s.forward(x) does for ours: tensor in, the network, dataSync() out, tensors freed.
// Its check: on the timing input and two more synthetic inputs, |dp| < 1e-4 against ours (1t, in
// the same browser, same model file) and the same class (p >= 0.5) on every input; the run fails
// otherwise (without the ours group, ours 1t runs once, untimed, for the reference).
// Prints per configuration the median over all rounds' runs, the min, the median cold start, and a
// last JSON line { arch: { ours_wasm_1t, ours_wasm_2t, cold_start_1t_ms, cold_start_2t_ms, ...,
// peer_tflite_web_1t, peer_tflite_web_2t, ours_wasm_in_1t, ours_wasm_in_2t, tflite_check,
// peer_tfjs_wasm_folded_1t, peer_tfjs_wasm_folded_2t, peer_tfjs_wasm_1t, peer_tfjs_wasm_2t, tfjs_check,
// best_peer_1t, best_peer_2t } } (best_peer_*: { name, ms } the fastest peer on the same model file,
// ORT or TF.js; TFLite-web runs other weights and is not among them).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '../tools/serve.mjs';
import { tfliteToFloat } from '../tools/tflite-float.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

const o = { archs: ['mobilenetv2', 'resnet50v2'], rounds: 3, runs: 9, model: null, only: new Set(['ours', 'ort', 'tflite', 'tfjs', 'tfjs-layers']),
  tfliteInt8: path.resolve(ROOT, '..', 'shared', 'pretrained', 'tf2_mobilenet_v2_1.0_224_ptq.tflite') };
const PHOTOS = path.resolve(ROOT, '..', 'shared', 'samples', 'imagenet');
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i], v = () => argv[++i];
  if (a === '--arch') o.archs = v().split(',');
  else if (a === '--rounds') o.rounds = Number(v());
  else if (a === '--runs') o.runs = Number(v());
  else if (a === '--model') o.model = path.resolve(v());
  else if (a === '--only') {
    o.only = new Set(v().split(','));
    for (const g of o.only) if (!['ours', 'ort', 'tflite', 'tfjs', 'tfjs-layers'].includes(g)) throw new Error(`--only: unknown group ${g}`);
  }
  else if (a === '--tflite-int8') o.tfliteInt8 = path.resolve(v());
  else throw new Error(`unknown option ${a}`);
}

const pageDir = path.join(ROOT, 'build', 'bench-chromium');
fs.mkdirSync(pageDir, { recursive: true });
fs.writeFileSync(path.join(pageDir, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,">\n');
// the worker: which script is a query parameter (as the page picks by crossOriginIsolated)
fs.writeFileSync(path.join(pageDir, 'worker.js'), `
const t0 = performance.now();
importScripts('/wasm/dist/' + new URL(location.href).searchParams.get('script'));
onmessage = async ({ data: { modelUrl, threads, simd, runs, x, checks } }) => {
  try {
    const model = new Uint8Array(await (await fetch(modelUrl)).arrayBuffer());
    const s = await createSialoscan({ model, threads, simd });
    let out = s.forward(x);
    const cold = performance.now() - t0;
    for (let i = 0; i < 2; i++) out = s.forward(x);
    const times = [];
    for (let i = 0; i < runs; i++) { const t = performance.now(); out = s.forward(x); times.push(performance.now() - t); }
    const outs = (checks || []).map((c) => Array.from(s.forward(c)));
    const engine = s.info().engine;
    s.dispose();
    postMessage({ cold, times, engine, p: out[0], outs });
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
    const { timeRuns } = await import('/bench/in-page.mjs');
    const forward = async () => (await sess.run({ [inName]: input }))[outName].data;
    await forward();
    const cold = performance.now() - t0;
    const { times, out } = await timeRuns(forward, runs);
    await sess.release();
    return { cold, times, engine: { build: `ORT Web ${ort.env.versions?.web ?? ''} wasm`, kernel: 'its own (MLAS)', threads }, p: out[0] };
  } catch (e) { return { error: String(e && e.message || e) }; }
}

// the peer TFLite-web (@tensorflow/tfjs-tflite) on the main thread of a fresh isolated page, on the
// float .tflite; `checks`: inputs whose 1001 outputs are returned for the comparison with ours
async function tfliteInPage({ tfliteUrl, threads, runs, x, checks, profile }) {
  try {
    const t0 = performance.now();
    const { loadScripts, timeRuns } = await import('/bench/in-page.mjs');
    await loadScripts(['@tensorflow/tfjs-core/dist/tf-core.min.js', '@tensorflow/tfjs-backend-cpu/dist/tf-backend-cpu.min.js',
      '@tensorflow/tfjs-tflite/dist/tf-tflite.min.js'].map((s) => `/node_modules/${s}`));
    tflite.setWasmPath('/node_modules/@tensorflow/tfjs-tflite/wasm/');
    const bytes = await (await fetch(tfliteUrl)).arrayBuffer();
    const model = await tflite.loadTFLiteModel(bytes, { numThreads: threads });
    // the interpreter itself (TFLiteModel.predict would add tfjs tensors around it)
    const runner = model.modelRunner, [input] = runner.getInputs(), [output] = runner.getOutputs();
    const xf = new Float32Array(x);
    const forward = (v) => { input.data().set(v); if (!runner.infer()) throw new Error('infer() failed'); return output.data().slice(); };
    forward(xf);
    const cold = performance.now() - t0;
    const { times, out } = await timeRuns(() => forward(xf), runs);
    const outs = checks.map((c) => Array.from(forward(new Float32Array(c))));
    // TFLiteModel.predict (the public API) gives the same numbers
    const y = model.predict(tf.tensor(xf, [1, 224, 224, 3]));
    const viaPredict = y.dataSync();
    const predictDiff = out.reduce((m, v, i) => Math.max(m, Math.abs(v - viaPredict[i])), 0);
    y.dispose();
    let nodes = null;
    if (profile) { // which kernels ran: one node "TfLiteXNNPackDelegate" = XNNPACK took the whole graph
      const pm = await tflite.loadTFLiteModel(bytes, { numThreads: threads, enableProfiling: true });
      pm.modelRunner.getInputs()[0].data().set(xf);
      pm.modelRunner.infer();
      nodes = {};
      for (const it of pm.modelRunner.getProfilingResults()) nodes[it.nodeType] = (nodes[it.nodeType] || 0) + 1;
      pm.modelRunner.cleanUp?.();
    }
    const features = await tflite.getWasmFeatures();
    runner.cleanUp?.();
    return { cold, times, outs, p: out[0], predictDiff, nodes,
      engine: { build: `TFLite-web (tfjs-tflite) ${features.simd ? 'SIMD' : 'no SIMD'}${features.multiThreading ? ' + threads' : ''}`, kernel: 'XNNPACK', threads } };
  } catch (e) { return { error: String(e && e.message || e) }; }
}

// the peer TensorFlow.js (wasm backend) on the main thread of a fresh isolated page, the same model
// file's weights rebuilt by bench/tfjs-peer.mjs ('folded' or 'layers'); `checks`: inputs whose
// outputs are returned for the comparison with ours
async function tfjsInPage({ form, modelUrl, threads, runs, x, checks }) {
  try {
    const t0 = performance.now();
    const { loadScripts, timeRuns } = await import('/bench/in-page.mjs');
    const scripts = ['@tensorflow/tfjs-core/dist/tf-core.min.js', '@tensorflow/tfjs-backend-wasm/dist/tf-backend-wasm.min.js'];
    if (form === 'layers') scripts.push('@tensorflow/tfjs-layers/dist/tf-layers.min.js');
    await loadScripts(scripts.map((s) => `/node_modules/${s}`));
    const { startTfjsWasm, tfjsNetwork } = await import('/bench/tfjs-peer.mjs');
    const { readModelFile } = await import('/tests/node/lib/model-file.mjs');
    // tfjs caps its thread pool at navigator.hardwareConcurrency / 2 (it assumes two hardware threads
    // per core), i.e. at 1 thread on this 2-core machine whatever setThreadsCount says; for 2 threads
    // the page reports 2 x threads logical cores to it (read once, when its module starts)
    const cores = navigator.hardwareConcurrency;
    if (threads > cores / 2) Object.defineProperty(navigator, 'hardwareConcurrency', { value: 2 * threads, configurable: true });
    // 1 thread: the single-threaded SIMD binary (as ours 1t); 2: the threaded SIMD one
    const info = await startTfjsWasm({ core: tf, wasm: tf.wasm }, { threads, threadedBuild: threads > 1, wasmPaths: '/node_modules/@tensorflow/tfjs-backend-wasm/dist/' });
    const file = readModelFile(new Uint8Array(await (await fetch(modelUrl)).arrayBuffer()), { verifyChecksum: false });
    const net = tfjsNetwork({ core: tf, tfl: tf }, form, file);
    const xf = new Float32Array(x);
    net.forward(xf);
    const cold = performance.now() - t0;
    const { times, out } = await timeRuns(() => net.forward(xf), runs);
    const outs = (checks || []).map((c) => Array.from(net.forward(new Float32Array(c))));
    const tensorsLeft = tf.memory().numTensors;
    net.dispose();
    return { cold, times, outs, p: out[0], tensorsLeft,
      engine: { build: `TF.js ${info.versions['tfjs-core']} wasm (${info.binary}), ${form === 'folded' ? 'BN folded' : 'tfjs-layers'}`, kernel: 'XNNPACK', threads: info.threads,
        info: { ...info, hardwareConcurrency: cores, hardwareConcurrency_shown_to_tfjs: navigator.hardwareConcurrency } } };
  } catch (e) { return { error: String(e && e.message || e) }; }
}

// the ImageNet sample photos as 224x224 inputs in [-1, 1] (decoded and resized by the browser once;
// both engines then get the same floats)
async function photosInPage(urls) {
  const xs = [];
  for (const u of urls) {
    const bmp = await createImageBitmap(await (await fetch(u)).blob(), { resizeWidth: 224, resizeHeight: 224, resizeQuality: 'high' });
    const c = new OffscreenCanvas(224, 224), g = c.getContext('2d');
    g.drawImage(bmp, 0, 0);
    const d = g.getImageData(0, 0, 224, 224).data, x = new Array(224 * 224 * 3);
    for (let i = 0, j = 0; i < d.length; i += 4) { x[j++] = d[i] / 127.5 - 1; x[j++] = d[i + 1] / 127.5 - 1; x[j++] = d[i + 2] / 127.5 - 1; }
    xs.push(x);
  }
  return xs;
}

async function inPage({ worker, modelUrl, threads, simd, runs, x, checks }) {
  const w = new Worker(worker);
  const r = await new Promise((ok) => {
    w.onmessage = (e) => ok(e.data);
    w.onerror = (e) => ok({ error: e.message });
    w.postMessage({ modelUrl, threads, simd, runs, x: new Float32Array(x), checks: (checks || []).map((c) => new Float32Array(c)) });
  });
  w.terminate();
  return r;
}

const median = (a) => { const q = [...a].sort((x, y) => x - y); return q.length % 2 ? q[(q.length - 1) / 2] : (q[q.length / 2 - 1] + q[q.length / 2]) / 2; };
const r1 = (v) => Math.round(v * 10) / 10;
const r1e = (v) => Number(v.toPrecision(6));

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
    const x = Array.from({ length: 224 * 224 * 3 }, (_, i) => Math.sin(i * 0.013) * 0.8);
    const configs = [];
    let modelUrl = null, onnxUrl = null, tfjsForms = [];
    if (o.only.has('ours') || o.only.has('ort') || o.only.has('tfjs') || o.only.has('tfjs-layers')) {
      // the model is served next to the page; the worker fetches it (counted in its cold start)
      const modelFile = path.join(pageDir, `${arch}.sialo`);
      if (o.model) fs.copyFileSync(o.model, modelFile);
      else {
        const r = spawnSync(CLI, ['init', '--arch', arch, '--input', '224', '--head', 'binary', '--seed', '1', modelFile], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`sialoscan init: ${r.stderr}`);
      }
      modelUrl = `${arch}.sialo`;
      tfjsForms = [['folded', 'tfjs'], ['layers', 'tfjs-layers']].filter(([, g]) => o.only.has(g)).map(([f]) => f);
      if (tfjsForms.length) {
        const { readModelFile } = await import('../tests/node/lib/model-file.mjs');
        const { tfjsCannotRebuild } = await import('./tfjs-peer.mjs');
        const why = tfjsCannotRebuild(readModelFile(fs.readFileSync(modelFile), { verifyChecksum: false }));
        if (why) { console.log(`# ${arch}: TF.js not run: it cannot rebuild this model (${why})`); tfjsForms = []; }
      }
      if (o.only.has('ort')) {
        const { sialoToOnnx } = await import('./onnx-export.mjs');
        const { readModelFile } = await import('../tests/node/lib/model-file.mjs');
        fs.writeFileSync(path.join(pageDir, `${arch}.onnx`), sialoToOnnx(readModelFile(fs.readFileSync(modelFile))).bytes);
        onnxUrl = `${arch}.onnx`;
      }
    }
    // 'auto' is what the page gets (relaxed SIMD in Chromium 156), 'simd128' the fallback build
    if (o.only.has('ours')) configs.push(
      { key: '1t', worker: 'worker.js?script=sialoscan-standalone.js', threads: 1, simd: 'auto' },
      { key: '2t', worker: 'worker.js?script=sialoscan-mt.js', threads: 2, simd: 'auto' },
      { key: '1t-simd128', worker: 'worker.js?script=sialoscan-standalone.js', threads: 1, simd: 'simd128' },
      { key: '2t-simd128', worker: 'worker.js?script=sialoscan-mt.js', threads: 2, simd: 'simd128' });
    if (o.only.has('ort')) configs.push({ key: 'ort-1t', ort: true, threads: 1 }, { key: 'ort-2t', ort: true, threads: 2 });
    for (const form of tfjsForms)
      for (const threads of [1, 2]) {
        const key = `tfjs${form === 'folded' ? '-folded' : ''}-${threads}t`;
        configs.push({ key, tfjs: true, form, threads, name: `peer_tfjs_wasm${form === 'folded' ? '_folded' : ''}_${threads}t` });
      }
    // TF.js is checked against ours on the timing input and two more (outputs of round 0)
    const tfjsChecks = tfjsForms.length ? [x, ...[0.021, 0.037].map((f, k) => Array.from({ length: 224 * 224 * 3 }, (_, i) => Math.cos(i * f + k) * (0.6 + 0.3 * Math.sin(i * 1e-4))))] : null;
    let checks = null, checkNames = null, tfliteUrl = null;
    if (o.only.has('tflite') && arch === 'mobilenetv2') {
      if (!fs.existsSync(o.tfliteInt8)) console.log(`# ${o.tfliteInt8} is absent: TFLite-web not run (it needs the ImageNet MobileNetV2 of ../shared)`);
      else {
        // the float .tflite (tools/tflite-float.mjs) and ours on the same weights: `sialoscan convert` of that file
        const { bytes, stats } = tfliteToFloat(fs.readFileSync(o.tfliteInt8));
        const floatFile = path.join(pageDir, 'mobilenetv2-imagenet-f32.tflite');
        fs.writeFileSync(floatFile, bytes);
        const r = spawnSync(CLI, ['convert', '--from', 'tflite', floatFile, path.join(pageDir, 'mobilenetv2-imagenet.sialo')], { encoding: 'utf8' });
        if (r.status !== 0) throw new Error(`sialoscan convert: ${r.stderr}`);
        console.log(`# ${path.basename(o.tfliteInt8)} -> float .tflite ${(bytes.length / 1e6).toFixed(1)} MB, ${stats.params} parameters (${stats.dequantised} tensors dequantised, ` +
          `${stats.dropped.QUANTIZE} QUANTIZE + ${stats.dropped.DEQUANTIZE} DEQUANTIZE dropped) -> mobilenetv2-imagenet.sialo`);
        tfliteUrl = 'mobilenetv2-imagenet-f32.tflite';
        const photos = ['dog', 'eagle', 'giraffe'].filter((p) => fs.existsSync(path.join(PHOTOS, `${p}.jpg`)));
        for (const p of photos) fs.copyFileSync(path.join(PHOTOS, `${p}.jpg`), path.join(pageDir, `${p}.jpg`));
        checks = [x, ...(await page.evaluate(photosInPage, photos.map((p) => `${p}.jpg`)))];
        checkNames = ['synthetic (the timing input)', ...photos];
        const imagenet = 'mobilenetv2-imagenet.sialo';
        configs.push(
          { key: 'in-1t', worker: 'worker.js?script=sialoscan-standalone.js', threads: 1, simd: 'auto', modelUrl: imagenet, name: 'ours_wasm_imagenet_1t' },
          { key: 'in-2t', worker: 'worker.js?script=sialoscan-mt.js', threads: 2, simd: 'auto', modelUrl: imagenet, name: 'ours_wasm_imagenet_2t' },
          { key: 'tflite-1t', tflite: true, threads: 1, name: 'peer_tflite_web_1t' },
          { key: 'tflite-2t', tflite: true, threads: 2, name: 'peer_tflite_web_2t' });
      }
    }
    if (!configs.length) continue;
    const acc = Object.fromEntries(configs.map((c) => [c.key, { times: [], cold: [], p: null, engine: null, outs: null, nodes: null }]));
    for (let round = 0; round < o.rounds; round++) {
      for (const c of round % 2 ? [...configs].reverse() : configs) { // interleaved, alternating order
        // the checks (1001 outputs per input) once, in the first round
        // (and ours 1t's outputs on the TF.js check inputs)
        const ck = round === 0 ? (c.modelUrl ? checks : c.key === '1t' ? tfjsChecks : null) : null;
        let r;
        if (c.ort || c.tflite || c.tfjs) { // a fresh page each time: ORT, TFLite-web and TF.js fix their threads when their module starts
          const p2 = await browser.newPage();
          await p2.goto(`${server.url}build/bench-chromium/index.html`);
          r = c.ort ? await p2.evaluate(ortInPage, { onnxUrl, threads: c.threads, runs: o.runs, x })
            : c.tfjs ? await p2.evaluate(tfjsInPage, { form: c.form, modelUrl, threads: c.threads, runs: o.runs, x, checks: round === 0 ? tfjsChecks : [] })
            : await p2.evaluate(tfliteInPage, { tfliteUrl, threads: c.threads, runs: o.runs, x, checks: round === 0 ? checks : [], profile: round === 0 });
          await p2.close();
        } else r = await page.evaluate(inPage, { worker: c.worker, modelUrl: c.modelUrl ?? modelUrl, threads: c.threads, simd: c.simd, runs: o.runs, x, checks: ck });
        if (r.error) throw new Error(`${arch} ${c.key}: ${r.error}`);
        acc[c.key].times.push(...r.times);
        acc[c.key].cold.push(r.cold);
        acc[c.key].engine = r.engine;
        acc[c.key].p = r.p;
        if (round === 0) Object.assign(acc[c.key], { outs: r.outs ?? null, nodes: r.nodes ?? null, predictDiff: r.predictDiff, tensorsLeft: r.tensorsLeft });
      }
    }
    if (acc['1t-simd128'])
      for (const c of configs.filter((q) => !q.modelUrl && !q.tflite && !q.tfjs)) // fused multiply-adds round differently: the builds agree within 1e-5; ORT within 1e-4
        if (Math.abs(acc[c.key].p - acc['1t-simd128'].p) > (c.ort ? 1e-4 : 1e-5)) throw new Error(`${arch}: ${c.key} p ${acc[c.key].p} vs 1t-simd128 ${acc['1t-simd128'].p}`);
    summary[arch] = {};
    if (acc['in-1t']) {
      // TFLite-web against ours on the same float weights: all 1001 probabilities, every check input
      const ref = acc['in-1t'].outs;
      const argmax = (a) => a.reduce((b, v, i) => (v > a[b] ? i : b), 0);
      const check = { inputs: checkNames, max_abs_dp: {}, top1_agree: {}, top1: ref.map((o1) => argmax(o1)), top1_p: ref.map((o1) => r1e(o1[argmax(o1)])) };
      for (const k of ['in-2t', 'tflite-1t', 'tflite-2t']) {
        const outs = acc[k].outs;
        let m = 0, agree = 0;
        outs.forEach((o1, j) => { m = Math.max(m, ...o1.map((v, i) => Math.abs(v - ref[j][i]))); if (argmax(o1) === argmax(ref[j])) agree++; });
        check.max_abs_dp[k] = Number(m.toExponential(2));
        check.top1_agree[k] = `${agree}/${outs.length}`;
        const tol = k === 'in-2t' ? 1e-5 : 1e-4;
        if (!(m < tol) || agree !== outs.length) throw new Error(`${arch}: ${k} disagrees with ours (in-1t): max |dp| ${m} (tolerance ${tol}), top-1 ${agree}/${outs.length}`);
      }
      check.tflite_nodes = acc['tflite-1t'].nodes;
      check.tflite_predict_vs_runner = acc['tflite-1t'].predictDiff;
      check.xnnpack = !!acc['tflite-1t'].nodes && Object.keys(acc['tflite-1t'].nodes).every((k) => k === 'TfLiteXNNPackDelegate');
      summary[arch].tflite_check = check;
      console.log(`${arch} TFLite-web check on ${checkNames.length} inputs (${checkNames.join(', ')}): max |dp| over 1001 probabilities vs ours in-1t: ` +
        `${Object.entries(check.max_abs_dp).map(([k, v]) => `${k} ${v}`).join(', ')}; top-1 ${check.top1.join(', ')} agree ${Object.values(check.top1_agree).join(', ')}; ` +
        `TFLite-web nodes ${JSON.stringify(check.tflite_nodes)}`);
    }
    if (tfjsForms.length) {
      // TF.js against ours on the same model file: every check input, |dp| and the class
      let ref = acc['1t']?.outs;
      if (!ref) { // ours not raced: one untimed run of ours 1t for the reference
        const r = await page.evaluate(inPage, { worker: 'worker.js?script=sialoscan-standalone.js', modelUrl, threads: 1, simd: 'auto', runs: 0, x, checks: tfjsChecks });
        if (r.error) throw new Error(`${arch} ours (reference for TF.js): ${r.error}`);
        ref = r.outs;
      }
      const check = { inputs: ['synthetic (the timing input)', 'synthetic 2', 'synthetic 3'], reference: 'ours 1t (relaxed SIMD) in the same browser, same model file',
        p_ours: ref.map((q) => r1e(q[0])), max_abs_dp: {}, same_class: {} };
      for (const c of configs.filter((q) => q.tfjs)) {
        const outs = acc[c.key].outs;
        let m = 0, agree = 0;
        outs.forEach((q, j) => { m = Math.max(m, ...q.map((v, i) => Math.abs(v - ref[j][i]))); if ((q[0] >= 0.5) === (ref[j][0] >= 0.5)) agree++; });
        check.max_abs_dp[c.key] = Number(m.toExponential(2));
        check.same_class[c.key] = `${agree}/${outs.length}`;
        if (!(m < 1e-4) || agree !== outs.length || outs.length !== ref.length)
          throw new Error(`${arch}: ${c.key} disagrees with ours (1t): max |dp| ${m} (tolerance 1e-4), same class ${agree}/${outs.length}`);
        if (acc[c.key].tensorsLeft === undefined) throw new Error(`${arch}: ${c.key} did not report its tensors`);
      }
      check.tfjs = Object.fromEntries(configs.filter((q) => q.tfjs).map((q) => [q.key, acc[q.key].engine.info.binary]));
      summary[arch].tfjs_check = check;
      if (check.p_ours.some((p) => !(p > 0.01 && p < 0.99))) console.log(`# warning: ${arch} ours p ${check.p_ours.join(', ')}: saturated, the |dp| check says little`);
      console.log(`${arch} TF.js check on ${check.inputs.length} inputs, p ours ${check.p_ours.join(', ')}: max |dp| vs ours 1t ` +
        `${Object.entries(check.max_abs_dp).map(([k, v]) => `${k} ${v}`).join(', ')}; same class ${Object.values(check.same_class).join(', ')}`);
    }
    for (const c of configs) {
      const a = acc[c.key];
      console.log(`${arch} ${c.key} (${a.engine.build}, ${a.engine.kernel}, ${a.engine.threads} thread(s)): median ${r1(median(a.times))}, min ${r1(Math.min(...a.times))}` +
        ` over ${a.times.length} runs in ${o.rounds} rounds; cold start ${r1(median(a.cold))}`);
      const name = c.name ?? (c.ort ? `peer_ort_web_${c.key.slice(4)}` : `ours_wasm_${c.key}`);
      summary[arch][name] = r1(median(a.times));
      summary[arch][`${name}_min`] = r1(Math.min(...a.times));
      summary[arch][`cold_start_${c.key}_ms`] = r1(median(a.cold));
    }
    // the fastest peer on the same model file (ORT, TF.js), per thread count
    for (const t of [1, 2]) {
      const peers = configs.filter((c) => (c.ort || c.tfjs) && c.threads === t).map((c) => ({ name: c.name ?? `peer_ort_web_${t}t`, ms: r1(median(acc[c.key].times)) }));
      if (peers.length) summary[arch][`best_peer_${t}t`] = peers.reduce((b, q) => (q.ms < b.ms ? q : b));
    }
  }
  await page.close();
} finally {
  await browser.close();
  await server.close();
  fs.rmSync(pageDir, { recursive: true, force: true });
}
console.log(JSON.stringify(summary));
