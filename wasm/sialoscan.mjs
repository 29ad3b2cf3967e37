// sialoscan.mjs — the JavaScript API of the sialoscan engine (WebAssembly), for browsers and Node 20.
//
//   import { createSialoscan } from './sialoscan.mjs';
//   const s = await createSialoscan({ model: modelBytes });      // Uint8Array of a .sialo file
//   s.info()                    -> { version, arch, input, classes, threshold, parameters, provenance,
//                                    calibration: { a, b, identity }, members, ...,
//                                    (an ensemble file: members > 1, networks: [{ arch, parameters, layers,
//                                     provenance }]; classify and Grad-CAM average its networks: nothing else changes)
//                                    engine: { build: 'single' | 'pthreads', threads, simd, relaxedSimd, kernel,
//                                              codecs: 'OpenJPEG 2.5.0, CharLS 2.4.2, IJG 6b (…)' } }
//   await s.classify(imageBytes) -> { pMalignant, label, threshold, ms, ood }   (pMalignant: calibrated by
//                                    the engine, sigmoid(a·logit(p_raw) + b); forward() stays raw)
//                                ood: { checked: true, score, flag, threshold, warning (when flagged) } or,
//                                    for a model file without the statistics, { checked: false, score: null, flag: null }
//                                (PNG, JPEG, BMP, GIF or DICOM bytes; a DICOM file also gives { frame })
//   await s.classify(dicomBytes, { frame: k, usRegion: true })
//                                -> frame k of a multi-frame DICOM file (default 0); usRegion crops it to
//                                   the file's first ultrasound region
//   s.dicomInfo(bytes)           -> null (not DICOM) or { frames, rows, columns, modality, sopClass,
//                                   manufacturer, model, transferSyntax, transferSyntaxUid, photometric,
//                                   usRegions: [{ x0, y0, x1, y1, ... }], decodable, problem, ... }
//                                   (never a patient attribute: none is read out of the file)
//   await s.classify(imageBytes, { cam: true, camLayer, camAlpha, image })
//                                -> { ..., cam: { width, height, map: Float32Array (frame size, [0,1]),
//                                     rgba: Uint8ClampedArray (turbo overlay on the frame), layer,
//                                     raw: { width, height, data } (the map at the layer, before upsampling) },
//                                     image: { width, height, rgba } (with image: true: the decoded image itself) }
//                                (the overlay is linear in camAlpha: overlay(a) = (1-a)·frame + a·overlay(1),
//                                 so a page can fade it with two images and no engine call)
//   s.heapBytes()                -> bytes of WebAssembly memory in use (grows, never shrinks)
//   s.gradcam(Float32Array, { layer, classIndex }) -> { output, layer, classIndex, raw: { width, height, data } }
//                                (Grad-CAM on a preprocessed input, as forward())
//   s.forward(Float32Array)      -> Float32Array (network output for a preprocessed input)
//   s.activation('post_relu')    -> { shape: [N,H,W,C], data: Float32Array } (needs keepActivations)
//   s.profile(Float32Array, { runs }) -> { layers: [{ name, kind, ms, macs, gflops }], kinds: [...], total_ms, gflops }
//   s.dispose()                  (a threaded engine also ends its threads: call it, or Node keeps running)
// createSialoscan({ model, threads }): model may be a promise of the bytes — the engine starts
// meanwhile (a page's cold start: the wasm compiles while the model still arrives); threads > 1 (Node) runs the pthreads build
// (dist/sialoscan-mt.js); a browser gets threads from the classic script dist/sialoscan-mt.js
// loaded with importScripts() in a worker of a cross-origin-isolated page.
// Every failure is an Error with a readable message (a rejected promise for the async calls).
// Nothing leaves the machine: the image bytes go from your page into this module's memory only.
import createCoreDefault from './dist/sialoscan-core.mjs';

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

// Relaxed SIMD (f32x4.relaxed_madd, a fused multiply-add): every build has a twin whose kernels
// use it (f32_gemm_4x8_relaxedsimd), taken where the engine can run it — a 37-byte module that
// uses the instruction validates — unless options.simd says 'simd128' (or 'relaxed': required).
const RELAXED_PROBE = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 1, 8, 1, 0x60, 3, 0x7b, 0x7b, 0x7b, 1, 0x7b,
  3, 2, 1, 0, 10, 13, 1, 11, 0, 0x20, 0, 0x20, 1, 0x20, 2, 0xfd, 0x85, 0x02, 0x0b]);
function useRelaxedSimd(simd = 'auto') {
  if (!['auto', 'relaxed', 'simd128'].includes(simd)) {
    throw new RangeError(`createSialoscan: options.simd must be 'auto', 'relaxed' or 'simd128' (got ${simd})`);
  }
  if (simd === 'simd128') return false;
  let ok = false;
  try { ok = WebAssembly.validate(RELAXED_PROBE); } catch { ok = false; }
  if (simd === 'relaxed' && !ok) {
    throw new Error('sialoscan: this JavaScript engine has no relaxed SIMD (Node 20: run it with --experimental-wasm-relaxed-simd)');
  }
  return ok;
}
// the steps of a start on the performance timeline (sialoscan:engine started, sialoscan:model loaded),
// for pages and benchmarks that show where a cold start goes
const mark = (name) => { if (typeof performance !== 'undefined' && performance.mark) performance.mark(`sialoscan:${name}`); };

// ---- start the engine: which build, where its files are.
// (tools/make-standalone.mjs replaces this part, down to "---- end", for the classic scripts.)
const DEFAULT_THREADS = 1;

async function loadWasmBinary(file) {
  // Node 20 cannot fetch file: URLs; read the .wasm next to the core module instead.
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(new URL(`./dist/${file}`, import.meta.url)));
}

async function startCore({ factory, wasmBinary, threads, simd }) {
  if (factory) return factory(wasmBinary ? { wasmBinary } : {});
  const relaxed = !wasmBinary && useRelaxedSimd(simd);
  if (threads > 1) {
    if (!isNode) {
      throw new Error('sialoscan: threads > 1 in a browser need the classic script dist/sialoscan-mt.js, ' +
        'loaded with importScripts() in a worker of a cross-origin-isolated page');
    }
    // the pthreads build is one classic script (the browser worker's form); Node loads it as CommonJS
    const { createRequire } = await import('node:module');
    const { createSialoscanModule } = createRequire(import.meta.url)('./dist/sialoscan-mt.js');
    return createSialoscanModule({ sialoPoolSize: threads - 1,
      wasmBinary: wasmBinary ?? await loadWasmBinary(relaxed ? 'sialoscan-mt.relaxed.wasm' : 'sialoscan-mt.wasm') });
  }
  if (isNode) return createCoreDefault({ wasmBinary: wasmBinary ?? await loadWasmBinary(relaxed ? 'sialoscan-core.relaxed.wasm' : 'sialoscan-core.wasm') });
  if (wasmBinary) return createCoreDefault({ wasmBinary });
  return createCoreDefault(relaxed ? { locateFile: () => new URL('./dist/sialoscan-core.relaxed.wasm', import.meta.url).href } : {});
}
// ---- end

// views of a module's memory (a pthreads build's memory is shared and may have grown — a new
// buffer — since the last look, so they are taken afresh when that happened), and
// withBytes(src, fn): src copied into the heap for the duration of fn(ptr)
function heapOf(M) {
  let u8 = M.HEAPU8, f32 = M.HEAPF32;
  const heap = () => {
    const buf = M.wasmMemory ? M.wasmMemory.buffer : M.HEAPU8.buffer;
    if (u8.buffer !== buf) { u8 = new Uint8Array(buf); f32 = new Float32Array(buf); }
  };
  const U8 = () => (heap(), u8);
  const F32 = () => (heap(), f32);
  const withBytes = (src, fn) => {
    const p = M._malloc(Math.max(1, src.length));
    if (!p) throw new Error('sialoscan: out of memory');
    try {
      U8().set(src, p);
      return fn(p);
    } finally {
      M._free(p);
    }
  };
  return { U8, F32, withBytes };
}

// the sentence of a frame the out-of-distribution check flags (the engine's SIALO_OOD_SENTENCE)
const OOD_WARNING = 'This does not look like the ultrasound frames the model was trained on \u2014 the probability is not meaningful';

export async function createSialoscan(options = {}) {
  const { model, keepActivations = false, factory, wasmBinary, threads = DEFAULT_THREADS } = options;
  const isBytes = (b) => b instanceof Uint8Array || b instanceof ArrayBuffer;
  const badModel = () => new TypeError('createSialoscan: options.model must be the bytes of a .sialo model (Uint8Array or ArrayBuffer, or a promise of them)');
  if (!isBytes(model) && typeof model?.then !== 'function') throw badModel();
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`createSialoscan: options.threads must be a whole number from 1 to 64 (got ${threads})`);
  }
  if (options.simd !== undefined && !['auto', 'relaxed', 'simd128'].includes(options.simd)) {
    throw new RangeError(`createSialoscan: options.simd must be 'auto', 'relaxed' or 'simd128' (got ${options.simd})`);
  }
  // the engine starts (wasm compiled and instantiated, threads started) while the model arrives
  const core = startCore({ ...options, threads });
  let modelIn;
  try {
    modelIn = await model;
    if (!isBytes(modelIn)) throw badModel();
  } catch (e) {
    core.then((M) => M.PThread?.terminateAllThreads(), () => {});
    throw e;
  }
  const M = await core;
  mark('engine started');
  const { U8, F32, withBytes } = heapOf(M);
  const c = {
    error: M.cwrap('sialo_wasm_error', 'string', []),
    load: M.cwrap('sialo_wasm_load', 'number', ['number', 'number', 'number', 'number']),
    build: M.cwrap('sialo_wasm_build', 'string', []),
    codecs: M.cwrap('sialo_wasm_codecs', 'string', []),
    simd: M.cwrap('sialo_wasm_simd', 'number', []),
    kernel: M.cwrap('sialo_wasm_kernel', 'string', []),
    version: M.cwrap('sialo_wasm_version', 'string', []),
    threads: M.cwrap('sialo_wasm_threads', 'number', ['number']),
    free: M.cwrap('sialo_wasm_free', null, ['number']),
    info: M.cwrap('sialo_wasm_info_json', 'number', ['number']),
    inputFloats: M.cwrap('sialo_wasm_input_floats', 'number', ['number']),
    outputFloats: M.cwrap('sialo_wasm_output_floats', 'number', ['number']),
    classify: M.cwrap('sialo_wasm_classify', 'number', ['number', 'number', 'number', 'number', 'number', 'number']),
    isDicom: M.cwrap('sialo_wasm_is_dicom', 'number', ['number', 'number']),
    dicomInfo: M.cwrap('sialo_wasm_dicom_info_json', 'number', ['number', 'number']),
    forward: M.cwrap('sialo_wasm_forward', 'number', ['number', 'number', 'number']),
    profile: M.cwrap('sialo_wasm_profile_json', 'number', ['number', 'number', 'number']),
    activation: M.cwrap('sialo_wasm_activation', 'number', ['number', 'string', 'number']),
    classifyBox: M.cwrap('sialo_wasm_classify_box', 'number', ['number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number']),
    classifyBoxCam: M.cwrap('sialo_wasm_classify_box_cam', 'number', ['number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'number', 'string', 'number', 'number', 'number']),
    classifyCam: M.cwrap('sialo_wasm_classify_cam', 'number', ['number', 'number', 'number', 'number', 'number', 'string', 'number', 'number', 'number']),
    camTensor: M.cwrap('sialo_wasm_cam_tensor', 'number', ['number', 'number', 'string', 'number', 'number']),
    camDims: M.cwrap('sialo_wasm_cam_dims', 'string', ['number', 'number']),
    camMap: M.cwrap('sialo_wasm_cam_map', 'number', ['number']),
    camRaw: M.cwrap('sialo_wasm_cam_raw', 'number', ['number']),
    camRgba: M.cwrap('sialo_wasm_cam_rgba', 'number', ['number']),
    camImage: M.cwrap('sialo_wasm_cam_image', 'number', ['number']),
    camFree: M.cwrap('sialo_wasm_cam_free', null, ['number']),
  };
  const bytes = modelIn instanceof Uint8Array ? modelIn : new Uint8Array(modelIn);

  const handle = withBytes(bytes, (p) => c.load(p, bytes.length, keepActivations ? 1 : 0, threads));
  if (!handle) {
    const reason = c.error();
    if (M.PThread) M.PThread.terminateAllThreads();
    throw new Error(`sialoscan: ${reason}`);
  }
  mark('model loaded');
  let disposed = false;
  const live = () => {
    if (disposed) throw new Error('sialoscan: this instance has been disposed');
  };

  const infoPtr = c.info(handle);
  const info = JSON.parse(M.UTF8ToString(infoPtr));
  M._free(infoPtr);
  // what is running: the build the page shows ("pthreads" or "single"), its threads, SIMD128
  // kernel: the GEMM micro-kernel, e.g. f32_gemm_4x8_relaxedsimd (relaxed SIMD) or f32_gemm_4x8_simd128
  const kernel = c.kernel();
  info.version = c.version(); // the engine's release (wasm/package.json's version, compiled in)
  info.engine = { build: c.build(), threads: c.threads(handle), simd: c.simd() === 1, relaxedSimd: kernel.endsWith('_relaxedsimd'), kernel,
    codecs: c.codecs() };
  const nIn = c.inputFloats(handle);
  const nOut = c.outputFloats(handle);

  // copy a Grad-CAM result out of the module's heap
  const readCam = (h) => {
    const pd = M._malloc(20);
    try {
      const layer = c.camDims(h, pd);
      const [width, height, rawWidth, rawHeight, classIndex] = Array.from(new Int32Array(U8().buffer, pd, 5));
      const rawPtr = c.camRaw(h) >> 2;
      const raw = { width: rawWidth, height: rawHeight, data: F32().slice(rawPtr, rawPtr + rawWidth * rawHeight) };
      const mapPtr = c.camMap(h) >> 2;
      const map = F32().slice(mapPtr, mapPtr + width * height);
      const rgbaPtr = c.camRgba(h);
      const rgba = rgbaPtr ? new Uint8ClampedArray(U8().slice(rgbaPtr, rgbaPtr + width * height * 4).buffer) : null;
      let image = null;
      const imagePtr = c.camImage(h);
      if (imagePtr) { // RGB in the heap -> RGBA for ImageData
        const n = width * height, src = U8().subarray(imagePtr, imagePtr + 3 * n), px = new Uint8ClampedArray(4 * n);
        for (let i = 0, j = 0; i < 4 * n; i += 4, j += 3) { px[i] = src[j]; px[i + 1] = src[j + 1]; px[i + 2] = src[j + 2]; px[i + 3] = 255; }
        image = { width, height, rgba: px };
      }
      return { width, height, map, rgba, layer, classIndex, raw, image };
    } finally {
      M._free(pd);
    }
  };

  return {
    info: () => structuredClone(info),

    async classify(imageBytes, opts = {}) {
      live();
      if (imageBytes instanceof ArrayBuffer) imageBytes = new Uint8Array(imageBytes);
      if (!(imageBytes instanceof Uint8Array)) throw new TypeError('classify: expected the image file bytes (Uint8Array or ArrayBuffer)');
      const { cam = false, camLayer = '', camAlpha = -1, image = false, frame = 0, usRegion = false, box = null, margin = -1 } = opts ?? {};
      if (typeof camLayer !== 'string') throw new TypeError('classify: camLayer must be a layer name (string)');
      if (!Number.isInteger(frame) || frame < 0) throw new TypeError('classify: frame must be a frame number (0, 1, ...)');
      let bx = null;
      if (box != null) {
        bx = Array.isArray(box) ? { x: box[0], y: box[1], w: box[2], h: box[3] } : box;
        if (!['x', 'y', 'w', 'h'].every((k) => Number.isInteger(bx[k]))) throw new TypeError('classify: box must be { x, y, w, h } (or [x, y, w, h]) in frame pixels, integers');
      }
      if (typeof margin !== 'number' || Number.isNaN(margin)) throw new TypeError('classify: margin must be a number (a fraction of the box side; -1 = the model\'s)');
      const dicom = withBytes(imageBytes.subarray(0, 512), (p) => c.isDicom(p, Math.min(512, imageBytes.length))) === 1;
      const out = M._malloc(64);
      let h = 0;
      try {
        if (bx && cam) {
          h = withBytes(imageBytes, (p) => c.classifyBoxCam(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, bx.x, bx.y, bx.w, bx.h, margin, camLayer, Number(camAlpha), image ? 1 : 0, out));
          if (!h) throw new Error(`sialoscan: ${c.error()}`);
        } else if (bx) {
          const rc = withBytes(imageBytes, (p) => c.classifyBox(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, bx.x, bx.y, bx.w, bx.h, margin, out));
          if (rc !== 0) throw new Error(`sialoscan: ${c.error()}`);
        } else if (cam) {
          h = withBytes(imageBytes, (p) => c.classifyCam(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, camLayer, Number(camAlpha), image ? 1 : 0, out));
          if (!h) throw new Error(`sialoscan: ${c.error()}`);
        } else {
          const rc = withBytes(imageBytes, (p) => c.classify(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, out));
          if (rc !== 0) throw new Error(`sialoscan: ${c.error()}`);
        }
        const r = F32().slice(out >> 2, (out >> 2) + 13);
        const label = info.outputs === 1 ? (r[1] ? info.classes[1] : info.classes[0]) : (info.classes[r[1]] ?? String(r[1]));
        // the out-of-distribution check: not checked (an older model file) is never "in distribution"
        const ood = r[4] ? { checked: true, score: r[5], flag: r[6] !== 0, threshold: r[7] } : { checked: false, score: null, flag: null };
        if (ood.flag) ood.warning = OOD_WARNING;
        const res = { pMalignant: r[0], label, threshold: r[2], ms: r[3], ood };
        if (dicom) res.frame = frame;
        if (bx) {
          res.box = { x: bx.x, y: bx.y, w: bx.w, h: bx.h };
          res.margin = r[12];
          res.region = { x: r[8], y: r[9], w: r[10], h: r[11] };
        }
        if (h) {
          const { image: decoded, ...camOnly } = readCam(h);
          res.cam = camOnly;
          if (image) res.image = decoded;
        }
        return res;
      } finally {
        if (h) c.camFree(h);
        M._free(out);
      }
    },

    dicomInfo(bytes) {
      live();
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      if (!(bytes instanceof Uint8Array)) throw new TypeError('dicomInfo: expected the file bytes (Uint8Array or ArrayBuffer)');
      if (withBytes(bytes.subarray(0, 512), (p) => c.isDicom(p, Math.min(512, bytes.length))) !== 1) return null;
      const js = withBytes(bytes, (p) => c.dicomInfo(p, bytes.length));
      if (!js) throw new Error(`sialoscan: ${c.error()}`);
      const raw = JSON.parse(M.UTF8ToString(js));
      M._free(js);
      const camel = (o) => Array.isArray(o) ? o.map(camel) : o && typeof o === 'object'
        ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase()), camel(v)])) : o;
      return camel(raw);
    },

    gradcam(input, { layer = '', classIndex = -1 } = {}) {
      live();
      if (!(input instanceof Float32Array) || input.length !== nIn) {
        throw new TypeError(`gradcam: expected a Float32Array of ${nIn} values (${info.input.height}x${info.input.width}x3, normalised)`);
      }
      if (typeof layer !== 'string') throw new TypeError('gradcam: layer must be a layer name (string)');
      const pin = M._malloc(nIn * 4), pout = M._malloc(nOut * 4);
      let h = 0;
      try {
        F32().set(input, pin >> 2);
        h = c.camTensor(handle, pin, layer, classIndex | 0, pout);
        if (!h) throw new Error(`sialoscan: ${c.error()}`);
        const { layer: used, classIndex: cls, raw } = readCam(h);
        return { output: F32().slice(pout >> 2, (pout >> 2) + nOut), layer: used, classIndex: cls, raw };
      } finally {
        if (h) c.camFree(h);
        M._free(pin);
        M._free(pout);
      }
    },

    forward(input) {
      live();
      if (!(input instanceof Float32Array) || input.length !== nIn) {
        throw new TypeError(`forward: expected a Float32Array of ${nIn} values (${info.input.height}x${info.input.width}x3, normalised)`);
      }
      const pin = M._malloc(nIn * 4), pout = M._malloc(nOut * 4);
      try {
        F32().set(input, pin >> 2);
        if (c.forward(handle, pin, pout) !== 0) throw new Error(`sialoscan: ${c.error()}`);
        return F32().slice(pout >> 2, (pout >> 2) + nOut);
      } finally {
        M._free(pin);
        M._free(pout);
      }
    },

    // where a forward spends its time: per layer and per kind of layer (ms, multiply-adds, GFLOP/s)
    profile(input, { runs = 10 } = {}) {
      live();
      if (!(input instanceof Float32Array) || input.length !== nIn) {
        throw new TypeError(`profile: expected a Float32Array of ${nIn} values (${info.input.height}x${info.input.width}x3, normalised)`);
      }
      if (!Number.isInteger(runs) || runs < 1 || runs > 10000) throw new RangeError('profile: runs must be a whole number from 1 to 10000');
      const pin = M._malloc(nIn * 4);
      try {
        F32().set(input, pin >> 2);
        const js = c.profile(handle, pin, runs);
        if (!js) throw new Error(`sialoscan: ${c.error()}`);
        try { return JSON.parse(M.UTF8ToString(js)); } finally { M._free(js); }
      } finally {
        M._free(pin);
      }
    },

    activation(layer) {
      live();
      const shp = M._malloc(16);
      try {
        const p = c.activation(handle, String(layer), shp);
        if (!p) throw new Error(`sialoscan: ${c.error()}`);
        const shape = Array.from(new Int32Array(U8().buffer, shp, 4));
        const n = shape.reduce((a, b) => a * b, 1);
        return { shape, data: F32().slice(p >> 2, (p >> 2) + n) };
      } finally {
        M._free(shp);
      }
    },

    heapBytes: () => U8().buffer.byteLength,

    dispose() {
      if (disposed) return;
      disposed = true;
      c.free(handle);
      // a pthreads build: end its workers (each instance has its own module and pool)
      if (M.PThread) M.PThread.terminateAllThreads();
    },
  };
}

// ---- the trainer: fine-tune a backbone on a labelled folder, in memory (train/trainer.h)
//
//   const t = await createTrainer({ backbone, threads });   // backbone: the bytes of a .sialo model
//   t.add('benign/p017/a.png', bytes) -> { status: 'taken' | 'ignored' | 'refused', reason }
//   t.summary()                       -> { frames, benign, malignant, groups, masks, conflicts, ignored,
//                                          refused: [{ path, reason }], bytes, input, problem }
//   await t.run({ cv: 5, schedule, seed, onProgress, onCheckpoint, onFold, onLog, signal })
//        -> { model, folds, cv, calibration, oof, oofCsv, log, report, stopped: false }
//           or, stopped by signal: { stopped: true, checkpoint, folds, log }
//   await t.resume(checkpoint, runOptions)     (the same as run({ ...runOptions, resume: checkpoint }))
//   t.dispose()
// The run's options are those of `sialoscan train` and default as it does (seed 1, batch 16,
// validation share 0.15, weight decay 1e-4, dropout 0.5, Platt calibration, fp16 model), except
// cv (5) and final (true). The run is synchronous inside the engine; it yields to the event loop
// after every epoch (yieldEvery: 'epoch', the default: it stops and resumes itself from the
// checkpoint it has just made, which gives the same model as one uninterrupted run), so a
// signal aborted by a timer or a message is seen within an epoch; with yieldEvery: 'never' a
// signal is seen only when a callback aborts it (it is checked after every batch).
const DEFAULT_TRAIN_BYTES = 640 * 1048576; // the frames' share of the 2 GB of WebAssembly memory
const NaNtoNull = (v) => (Number.isFinite(v) ? v : null);
const PROGRESS_KIND = ['batch', 'epoch', 'start'];

export async function createTrainer(options = {}) {
  const { backbone = null, arch = null, input = 0, threads = DEFAULT_THREADS, maxBytes = DEFAULT_TRAIN_BYTES,
    masks = true, backboneName = null } = options;
  const isBytes = (b) => b instanceof Uint8Array || b instanceof ArrayBuffer;
  if (backbone !== null && !isBytes(backbone)) {
    throw new TypeError('createTrainer: options.backbone must be the bytes of a .sialo model (Uint8Array or ArrayBuffer), or null with options.arch');
  }
  if (backbone === null && typeof arch !== 'string') throw new TypeError("createTrainer: give options.backbone (a .sialo model's bytes) or options.arch (e.g. 'smallcnn')");
  if (!Number.isInteger(threads) || threads < 1 || threads > 64) {
    throw new RangeError(`createTrainer: options.threads must be a whole number from 1 to 64 (got ${threads})`);
  }
  if (!Number.isInteger(input) || input < 0 || input > 1024) throw new RangeError(`createTrainer: options.input must be 0 (the backbone's) or a side in pixels (got ${input})`);
  if (!(Number(maxBytes) >= 0)) throw new RangeError('createTrainer: options.maxBytes must be a number of bytes (0 = no limit)');
  const M = await startCore({ ...options, threads });
  const { U8, withBytes } = heapOf(M);
  const c = {
    error: M.cwrap('sialo_wasm_error', 'string', []),
    make: M.cwrap('sialo_wasm_trainer_new', 'number', ['number', 'number', 'string', 'number', 'number', 'number', 'number', 'string']),
    configure: M.cwrap('sialo_wasm_trainer_configure', 'number', ['number', 'string', 'string', 'number', 'number', 'number', 'number',
      'number', 'number', 'number', 'number', 'string', 'number', 'number', 'number', 'number', 'string', 'string']),
    add: M.cwrap('sialo_wasm_trainer_add', 'number', ['number', 'string', 'number', 'number']),
    summary: M.cwrap('sialo_wasm_trainer_summary_json', 'number', ['number']),
    run: M.cwrap('sialo_wasm_trainer_run', 'number', ['number', 'number', 'number']),
    model: M.cwrap('sialo_wasm_trainer_model', 'number', ['number', 'number']),
    oof: M.cwrap('sialo_wasm_trainer_oof_csv', 'number', ['number']),
    free: M.cwrap('sialo_wasm_trainer_free', null, ['number']),
  };
  const end = () => { if (M.PThread) M.PThread.terminateAllThreads(); };
  const bb = backbone === null ? null : backbone instanceof Uint8Array ? backbone : new Uint8Array(backbone);
  const t = bb ? withBytes(bb, (p) => c.make(p, bb.length, null, input, threads, Number(maxBytes), masks ? 1 : 0, backboneName))
    : c.make(0, 0, arch, input, threads, Number(maxBytes), masks ? 1 : 0, backboneName);
  if (!t) {
    const why = c.error();
    end();
    throw new Error(`sialoscan: ${why}`);
  }
  let disposed = false, running = false;
  const live = (what) => {
    if (disposed) throw new Error('sialoscan: this trainer has been disposed');
    if (running) throw new Error(`sialoscan: ${what} while the trainer runs`);
  };
  const jsonOut = (p) => {
    if (!p) throw new Error(`sialoscan: ${c.error()}`);
    try { return JSON.parse(M.UTF8ToString(p)); } finally { M._free(p); }
  };

  function configure(o) {
    const num = (v, name, lo, hi, whole) => {
      if (typeof v !== 'number' || !(v >= lo && v <= hi) || (whole && !Number.isInteger(v))) {
        throw new RangeError(`run: ${name} must be ${whole ? 'a whole number' : 'a number'} from ${lo} to ${hi} (got ${v})`);
      }
      return v;
    };
    const str = (v, name) => {
      if (v != null && typeof v !== 'string') throw new TypeError(`run: ${name} must be text`);
      return v ?? null;
    };
    const cv = o.cv ?? 5;
    if (cv !== 0) num(cv, 'cv (the folds; 0 = none)', 2, 32, true);
    const rc = c.configure(t, str(o.method, 'method'), str(o.schedule, 'schedule'), cv, (o.final ?? true) ? 1 : 0,
      num(o.seed ?? 1, 'seed', 0, Number.MAX_SAFE_INTEGER, true), num(o.foldSeed ?? 0, 'foldSeed', 0, Number.MAX_SAFE_INTEGER, true),
      num(o.batch ?? 16, 'batch', 1, 512, true), num(o.valFraction ?? 0.15, 'valFraction', 0, 0.5), num(o.weightDecay ?? 1e-4, 'weightDecay', 0, 1),
      num(o.dropout ?? 0.5, 'dropout', 0, 0.99), str(o.calibration ?? 'platt', 'calibration'), o.masks ? 1 : 0,
      num(o.attentionWeight ?? 1, 'attentionWeight', 0, 100), o.includeConflicts ? 1 : 0, o.fp32 ? 32 : 16,
      str(o.dataName, 'dataName'), str(o.date, 'date'));
    if (rc !== 0) throw new Error(`sialoscan: ${c.error()}`);
  }

  async function run(o = {}) {
    live('run');
    if (o.resume != null && !isBytes(o.resume)) throw new TypeError('run: resume must be the bytes of a checkpoint (Uint8Array or ArrayBuffer)');
    if (o.yieldEvery != null && !['epoch', 'never'].includes(o.yieldEvery)) throw new RangeError("run: yieldEvery must be 'epoch' or 'never'");
    configure(o);
    const { signal, onProgress, onCheckpoint, onFold, onLog } = o;
    const yielding = (o.yieldEvery ?? 'epoch') === 'epoch';
    const folds = new Map(), log = [], seenLog = new Set(), results = [];
    let last = o.resume == null ? null : new Uint8Array(o.resume instanceof Uint8Array ? o.resume : new Uint8Array(o.resume));
    let segment = 0, paused = false, failure = null, startedFold = null;
    const guard = (fn) => { // an exception in the caller's callback ends the run with it
      try { return fn(); } catch (e) { failure ??= e; return 1; }
    };
    M.sialoTrainHooks = {
      progress: (kind, fold, nfolds, stage, stages, stageName, unfreeze, lr, epoch, epochs, batch, batches, loss, valAuc, valLoss, outside,
        improved, ips, eta, done, line) => {
        if (kind === 2) { // a run starts: once, not again when a segment resumes it
          if (segment > 0 && startedFold === fold) return 0;
          startedFold = fold;
        }
        if (!onProgress) return 0;
        const p = { kind: PROGRESS_KIND[kind], fold, folds: nfolds, stage, stages, stageName: stageName ? M.UTF8ToString(stageName) : '',
          unfreeze: unfreeze ? M.UTF8ToString(unfreeze) : '', lr, epoch, epochs, batch, batches, loss: NaNtoNull(loss),
          valAuc: NaNtoNull(valAuc), valLoss: NaNtoNull(valLoss), outside: NaNtoNull(outside), improved: !!improved,
          imagesPerS: NaNtoNull(ips), etaS: NaNtoNull(eta), done, line: line ? M.UTF8ToString(line) : '' };
        return guard(() => { onProgress(p); return 0; });
      },
      checkpoint: (ptr, n) => {
        last = U8().slice(ptr, ptr + n);
        if (onCheckpoint && guard(() => { onCheckpoint(last); return 0; })) return 1;
        if (signal?.aborted) return 1;
        if (yielding) { paused = true; return 1; }
        return 0;
      },
      fold: (k, json, model, n) => {
        if (folds.has(k)) return;
        const r = JSON.parse(M.UTF8ToString(json));
        folds.set(k, r);
        if (onFold) guard(() => { onFold({ fold: k, result: r, model: model ? U8().slice(model, model + n) : null }); return 0; });
      },
      result: (json) => { results.push(JSON.parse(M.UTF8ToString(json))); },
      log: (ptr) => {
        const line = M.UTF8ToString(ptr);
        if (segment > 0 && seenLog.has(line)) return; // said again by a segment that resumes the run
        seenLog.add(line);
        log.push(line);
        if (onLog) guard(() => { onLog(line); return 0; });
      },
      shouldStop: () => (failure || signal?.aborted ? 1 : 0),
    };
    running = true;
    let rc;
    try {
      for (;;) {
        paused = false;
        const from = last;
        rc = from ? withBytes(from, (p) => c.run(t, p, from.length)) : c.run(t, 0, 0);
        if (failure) throw failure;
        if (rc < 0) throw new Error(`sialoscan: ${c.error()}`);
        if (rc === 0 || !paused || signal?.aborted) break;
        segment++;
        await new Promise((r) => setTimeout(r, 0)); // messages, timers, an abort: seen here
        if (signal?.aborted) break;
      }
    } finally {
      running = false;
      delete M.sialoTrainHooks;
    }
    const foldList = [...folds.keys()].sort((a, b) => a - b).map((k) => folds.get(k));
    if (rc !== 0) return { stopped: true, checkpoint: last, folds: foldList, log };
    const np = M._malloc(8);
    let model = null;
    try {
      const mp = c.model(t, np);
      if (mp) model = U8().slice(mp, mp + new Uint32Array(U8().buffer, np, 1)[0]);
    } finally {
      M._free(np);
    }
    const op = c.oof(t);
    const oofCsv = op ? M.UTF8ToString(op) : '';
    const oof = oofCsv.split('\n').slice(1).filter(Boolean).map((row) => {
      const cut = row.split(','), p = Number(cut.pop()), fold = Number(cut.pop()), label = cut.pop() === '1' ? 'malignant' : 'benign';
      return { path: cut.join(','), label, fold, p };
    });
    const cvSummary = results.find((r) => r.cv !== undefined) ?? null;
    const calibration = results.find((r) => r.calibration !== undefined) ?? null;
    return { model, folds: foldList, cv: cvSummary, calibration, oof, oofCsv, log,
      report: { folds: foldList, cv: cvSummary, calibration, log }, stopped: false };
  }

  return {
    /** one file of the folder: path relative to its root (benign/…, malignant/…, masks/…, MANIFEST.tsv) */
    add(path, bytes) {
      live('add');
      if (typeof path !== 'string' || !path) throw new TypeError('add: path must be the file\'s path relative to the folder (text)');
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      if (!(bytes instanceof Uint8Array)) throw new TypeError('add: expected the file bytes (Uint8Array or ArrayBuffer)');
      const rc = withBytes(bytes, (p) => c.add(t, path, p, bytes.length));
      return rc === 1 ? { status: 'taken' } : rc === 0 ? { status: 'ignored' } : { status: 'refused', reason: c.error() };
    },
    summary() {
      live('summary');
      return jsonOut(c.summary(t));
    },
    run,
    resume(checkpoint, o = {}) {
      if (!isBytes(checkpoint)) return Promise.reject(new TypeError('resume: expected the bytes of a checkpoint (Uint8Array or ArrayBuffer)'));
      return run({ ...o, resume: checkpoint });
    },
    heapBytes: () => U8().buffer.byteLength,
    /** the trainer's memory back (its frames, the model); a threaded engine also ends its threads */
    dispose() {
      if (disposed) return;
      if (running) throw new Error('sialoscan: dispose while the trainer runs (abort its signal first)');
      disposed = true;
      c.free(t);
      end();
    },
  };
}

export default createSialoscan;
