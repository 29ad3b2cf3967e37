// worker.js — the engine side of the page: runs in a dedicated Web Worker so the page never freezes.
// A classic worker script. Served over http it is `sialoscan-worker.js` and loads the engine with
// importScripts (the multi-threaded build when the page is cross-origin isolated); opened from
// disk the page builds it from a Blob that already holds the single-threaded engine.
//
// Messages in  { type: 'init', mt: boolean, modelFile?, wasm? }     start the engine at once (and, given
//                modelFile, fetch the shipped model from the worker's folder: no base64 to parse; if that
//                fails, { type: 'need-model' } goes out and the page sends the bytes)
//                (wasm: a Blob worker whose engine has no wasm: it waits for { type: 'wasm', module | bytes })
//              { type: 'shipped', bytes: ArrayBuffer }                    the page's model, when it is ready
//              { type: 'model', id, bytes: ArrayBuffer }                  load another model (validated)
//              { type: 'classify', id, bytes: ArrayBuffer, maxSide, frame? }  classify + Grad-CAM
//                (a cine DICOM without frame: every frame, { type: 'progress', id, done, total } on the way)
//              { type: 'overlay', id, bytes: ArrayBuffer, alpha, frame? }     the overlay at the frame's full size
//              { type: 'box', id, bytes: ArrayBuffer, box: {x, y, w, h}, frame? }  p of a lesion box (frame pixels)
//              { type: 'model-bytes', id }                                  a copy of the model in use
// Messages out { type: 'ready', info, heapBytes, marks, build: { worker, engine } } | { type: 'fatal', message } | { type: 'need-model' }
//              { type: 'reply', id, ok: true, ..., heapBytes } | { type: 'reply', id, ok: false, error, heapBytes }
//              (heapBytes: the worker's WebAssembly memory after the request: the page replaces a
//              worker whose memory a very large frame made grow, web/engine-client.js)
// Every number and decision (p, label, threshold, the map) comes from the engine; this file only
// moves bytes and makes display-sized bitmaps of the engine's pictures.
'use strict';

// the engine's start, step by step: sialoscan:* performance marks (the JS API adds its own), sent
// with 'ready' (epoch ms) for the page's timeline — bench/page.mjs reads them
const mark = (name) => performance.mark(`sialoscan:${name}`);
const marks = () => performance.getEntriesByType('mark').filter((m) => m.name.startsWith('sialoscan:'))
  .map((m) => ({ name: m.name, t: performance.timeOrigin + m.startTime }));
mark('worker start');

// the Emscripten loader's one WebAssembly.instantiate(Streaming) call, made as compile then
// instantiate (the same work) so that both steps are marked; the originals are back after it
function markWasmStart() {
  const { instantiate, instantiateStreaming } = WebAssembly;
  const timed = async (compiling, imports) => {
    const module = await compiling;
    mark('wasm compiled');
    const instance = await instantiate(module, imports);
    mark('wasm instantiated');
    Object.assign(WebAssembly, { instantiate, instantiateStreaming });
    return { module, instance };
  };
  WebAssembly.instantiate = (src, imports) => {
    if (src instanceof WebAssembly.Module) return instantiate(src, imports);
    mark('wasm bytes');
    return timed(WebAssembly.compile(src), imports);
  };
  WebAssembly.instantiateStreaming = (response, imports) => timed(WebAssembly.compileStreaming(response), imports);
}

// a Blob worker's wasm: the page compiles it once and sends the module ({ type: 'wasm', module }, or
// its bytes where a module cannot be sent); the engine's JS here holds no wasm of its own
let given = null, gotWasm;
const wasmGiven = new Promise((ok) => { gotWasm = ok; });
function useGivenModule() {
  const { instantiate } = WebAssembly;
  WebAssembly.instantiate = (src, imports) => (src instanceof WebAssembly.Module || !given?.module
    ? instantiate(src, imports)
    : instantiate(given.module, imports).then((instance) => ({ module: given.module, instance })));
}
// every engine of this worker (another model, a restart) starts from the given wasm
const newEngine = (model) => self.createSialoscan({ model, ...(given ? { wasmBinary: given.bytes || new Uint8Array(8) } : {}) });

let engine = null;
let modelBytes = null; // the model in use, to restart the engine if it ever fails hard
let shipped;           // resolves the shipped model's promise
const shippedBytes = new Promise((ok) => { shipped = ok; });

function loadEngine(mt) {
  if (typeof self.createSialoscan === 'function') return; // embedded (page opened from disk)
  if (mt && self.crossOriginIsolated) {
    try {
      importScripts('sialoscan-mt.js');
      return;
    } catch (e) {
      // the multi-threaded build is missing or refused: the single-threaded one always works
    }
  }
  importScripts('sialoscan-standalone.js');
}

const reason = (e) => String((e && e.message) || e).replace(/^sialoscan: /, '');

// an RGBA picture as an ImageBitmap whose longer side is at most maxSide (display only: the
// browser's own resampler; bitmaps move to the page without a copy)
function bitmap(rgba, w, h, maxSide) {
  const f = Math.max(1, Math.max(w, h) / maxSide);
  const size = { resizeWidth: Math.max(1, Math.round(w / f)), resizeHeight: Math.max(1, Math.round(h / f)), resizeQuality: 'medium' };
  return createImageBitmap(new ImageData(rgba, w, h), f > 1 ? size : {});
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      if (msg.modelFile) {
        fetch(msg.modelFile).then((r) => (r.ok ? r.arrayBuffer() : Promise.reject(new Error(`HTTP ${r.status}`))))
          .then((b) => { mark('model fetched'); shipped(b); }, () => self.postMessage({ type: 'need-model' }));
      }
      loadEngine(msg.mt);
      mark('engine script');
      markWasmStart();
      const model = shippedBytes.then((bytes) => {
        mark('model bytes');
        return (modelBytes = new Uint8Array(bytes));
      });
      if (msg.wasm) {
        given = await wasmGiven;
        if (given.error) throw new Error(given.error);
        mark('wasm given');
        useGivenModule();
      }
      // the engine starts while the model arrives (given a module, the loader's bytes are a
      // placeholder: WebAssembly.instantiate takes the module instead)
      engine = await newEngine(model);
      // build: the build each file of this worker says it is of (tools/make-web.mjs writes the
      // lines); the page refuses files of two builds
      const build = { worker: self.SIALOSCAN_WORKER_BUILD ?? null, engine: self.SIALOSCAN_ENGINE_BUILD ?? null };
      return { type: 'ready', info: engine.info(), heapBytes: engine.heapBytes(), marks: marks(), build };
    }
    case 'model': {
      const bytes = new Uint8Array(msg.bytes);
      const next = await newEngine(bytes); // throws with the reason if refused
      engine.dispose();
      engine = next;
      modelBytes = bytes;
      return { info: engine.info() };
    }
    case 'classify': {
      // a DICOM file is cropped to its scan area when it says where that is; a cine loop (several
      // frames) is classified frame by frame and opens on its most suspicious frame
      const bytes = new Uint8Array(msg.bytes);
      const dicom = engine.dicomInfo(bytes);
      // what a scanner's USB export holds beside its images: a DICOMDIR, reports, presentation
      // states, PDFs (DICOM without pixels), and in a dropped folder, files that are no image at all
      if (dicom && dicom.notImage) return { skipped: dicom.problem };
      if (!dicom && msg.inFolder) return { skipped: 'not an image file' };
      const usRegion = !!(dicom && dicom.usRegions && dicom.usRegions.length);
      let frame = msg.frame ?? 0, frames;
      if (dicom && dicom.frames > 1 && msg.frame === undefined) {
        frames = [];
        for (let k = 0; k < dicom.frames; k++) {
          const f = await engine.classify(bytes, { frame: k, usRegion });
          frames.push({ pMalignant: f.pMalignant, label: f.label, ood: f.ood });
          self.postMessage({ type: 'progress', id: msg.id, done: k + 1, total: dicom.frames });
          if (f.pMalignant > frames[frame].pMalignant) frame = k;
        }
      }
      // camAlpha 1: the full-strength overlay; the page fades it over the frame (the overlay is linear in alpha)
      const r = await engine.classify(bytes, { cam: true, camAlpha: 1, image: true, frame, usRegion });
      const [view, overlay] = await Promise.all([bitmap(r.image.rgba, r.image.width, r.image.height, msg.maxSide),
        bitmap(r.cam.rgba, r.cam.width, r.cam.height, msg.maxSide)]);
      return {
        pMalignant: r.pMalignant, label: r.label, threshold: r.threshold, ms: r.ms, layer: r.cam.layer, ood: r.ood,
        width: r.image.width, height: r.image.height, view: { frame: view, overlay },
        dicom: dicom && { frames: dicom.frames, modality: dicom.modality, manufacturer: dicom.manufacturer, model: dicom.model, transferSyntax: dicom.transferSyntax,
          notes: dicom.notes || [] },
        frame, frames, usRegion, heapBytes: engine.heapBytes(),
      };
    }
    case 'box': { // a lesion box drawn on a card: the engine classifies the box (grown by the model's margin)
      const bytes = new Uint8Array(msg.bytes);
      const dicom = engine.dicomInfo(bytes);
      const usRegion = !!(dicom && dicom.usRegions && dicom.usRegions.length);
      const r = await engine.classify(bytes, { box: msg.box, frame: msg.frame ?? 0, usRegion });
      return { pMalignant: r.pMalignant, label: r.label, threshold: r.threshold, box: r.box, region: r.region, margin: r.margin, ood: r.ood };
    }
    case 'model-bytes': // a copy of the model in use (for the page's other workers)
      return { bytes: modelBytes.slice().buffer };
    case 'overlay': {
      const bytes = new Uint8Array(msg.bytes);
      const dicom = engine.dicomInfo(bytes);
      const usRegion = !!(dicom && dicom.usRegions && dicom.usRegions.length);
      const r = await engine.classify(bytes, { cam: true, camAlpha: msg.alpha, frame: msg.frame ?? 0, usRegion });
      return { width: r.cam.width, height: r.cam.height, rgba: r.cam.rgba };
    }
    default:
      throw new Error(`unknown request ${msg.type}`);
  }
}

// the first classify + Grad-CAM of a fresh engine is several times slower than the next ones (the
// browser compiles the WebAssembly functions as it meets them and optimises the hot ones): once
// the engine is ready, classify a blank PNG frame the way the page does, before the first real one
// arrives (queued: a frame given at once waits for it, then runs on the warmed-up code). The
// result is thrown away; without OffscreenCanvas there is no warm-up.
function warmUp() {
  queue = queue.then(async () => {
    try {
      const canvas = new OffscreenCanvas(320, 240), g = canvas.getContext('2d');
      g.fillStyle = g.createLinearGradient(0, 0, 320, 240);
      g.fillStyle.addColorStop(0, '#000');
      g.fillStyle.addColorStop(1, '#fff');
      g.fillRect(0, 0, 320, 240);
      const png = new Uint8Array(await (await canvas.convertToBlob({ type: 'image/png' })).arrayBuffer());
      await engine.classify(png, { cam: true, camAlpha: 1, image: true });
      mark('warmed up');
    } catch { /* only a warm-up */ }
  });
}

// one request at a time, in order: the engine is not re-entrant
let queue = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data;
  if (msg.type === 'shipped') { shipped(msg.bytes); return; } // awaited by 'init', not queued behind it
  if (msg.type === 'wasm') { gotWasm(msg); return; }
  queue = queue.then(async () => {
    try {
      const out = await handle(msg);
      if (msg.type === 'init') { self.postMessage(out); if (msg.warmUp !== false) warmUp(); return; }
      const transfer = [];
      if (out.view) transfer.push(out.view.frame, out.view.overlay);
      if (out.rgba) transfer.push(out.rgba.buffer);
      if (out.bytes) transfer.push(out.bytes);
      self.postMessage({ type: 'reply', id: msg.id, ok: true, ...out, heapBytes: engine.heapBytes() }, transfer);
    } catch (e) {
      if (msg.type === 'init') { self.postMessage({ type: 'fatal', message: reason(e) }); return; }
      let error = reason(e);
      // a refusal is an Error with the engine's sentence; a trap or abort of the WebAssembly code
      // (which should never happen) leaves the module unusable: start a fresh one, same model
      if (e instanceof WebAssembly.RuntimeError || /^Aborted\(/.test(error)) {
        try { engine.dispose(); } catch { /* already broken */ }
        engine = await newEngine(modelBytes);
        error = `the engine failed on this file and was restarted (${error})`;
      }
      self.postMessage({ type: 'reply', id: msg.id, ok: false, error, heapBytes: engine ? engine.heapBytes() : 0 });
    }
  });
};
