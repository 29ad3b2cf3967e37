// engine-client.js — the page's handle on its engine workers: starts them (a URL worker when
// served, a Blob worker holding the embedded engine when opened from disk) and turns their
// messages into promises. The page never touches the engine directly.
//
// A pool: a page opened from disk cannot share memory between workers (no SharedArrayBuffer on
// file://), so its parallelism is frame-parallel: min(hardwareConcurrency, 4) engine workers, each
// with its own module and model, frames dealt out in order to the least busy one (the page shows
// the results in drop order). The first worker makes the page ready; the others start behind it
// (when a batch needs them or soon after, so that they do not slow the first frame down).
// Served cross-origin isolated, one worker runs the multi-threaded engine instead (every frame
// gets every core: the first result is as fast as it can be; docs/page.md has the figures).
// `?workers=N` in the page's URL forces N workers (1: the one-worker page, as before the pool).
//
// Memory given back: WebAssembly memory grows and never shrinks; after a frame that left a
// worker's memory over RECYCLE_BYTES (a very large frame) the pool retires that worker once its
// requests are answered and starts a fresh one in the background (frames meanwhile go to the
// other workers, or wait for the fresh one). window.__sialoscanMemory reads the pool's memory.
import { loadScript } from './load-script.js';
import { base64Bytes } from './shipped-model.js';
import { mixedBuilds } from './offline.js';

const RECYCLE_BYTES = 256 * 2 ** 20;
const MAX_WORKERS = 4;
const GROW_AFTER_MS = 1500;
const served = location.protocol === 'http:' || location.protocol === 'https:';

// the Blob workers: their source is the engine's JS and web/worker.js without the wasm; the page
// reads the one wasm this browser runs (the relaxed-SIMD twin where it validates the JS API's own
// probe, from the build; else the SIMD128 build), compiles it once and gives the compiled module
// to every Blob worker (no wasm text parsed, decoded or compiled in a worker)
function wasmFile() {
  let relaxed = false;
  try { relaxed = WebAssembly.validate(new Uint8Array(globalThis.SIALOSCAN_BUILD?.relaxedProbe || [])); } catch { relaxed = false; }
  return `sialoscan-wasm-${relaxed ? 'relaxed' : 'simd128'}.js`;
}
let workerSource = null, wasm = null;
function loadBlobEngine() {
  workerSource ||= loadScript('sialoscan-worker-source.js');
  wasm ||= loadScript(wasmFile()).then(async () => {
    const bytes = base64Bytes(globalThis.SIALOSCAN_WASM);
    globalThis.SIALOSCAN_WASM = null;
    const module = await WebAssembly.compile(bytes);
    performance.mark('sialoscan:wasm compiled (page)');
    return { module, bytes };
  });
  workerSource.catch(() => {});
  wasm.catch(() => {});
}
// opened from disk the Blob worker's source and wasm are needed for sure: start loading them at once
if (!served) loadBlobEngine();
let blobUrl = null;

async function blobWorker() {
  loadBlobEngine();
  if (!blobUrl) {
    if (typeof globalThis.SIALOSCAN_WORKER_SOURCE !== 'string') await workerSource;
    blobUrl = URL.createObjectURL(new Blob([globalThis.SIALOSCAN_WORKER_SOURCE], { type: 'text/javascript' }));
    globalThis.SIALOSCAN_WORKER_SOURCE = null; // the Blob holds it now
  }
  const worker = new Worker(blobUrl);
  // the compiled module when this browser can pass one to a worker, else the wasm's bytes
  wasm.then(({ module, bytes }) => {
    try {
      worker.postMessage({ type: 'wasm', module });
    } catch {
      worker.postMessage({ type: 'wasm', bytes: bytes.slice() });
    }
  }, (e) => worker.postMessage({ type: 'wasm', error: e.message }));
  return worker;
}

// start a worker, then send it the model's bytes — or, given modelFile (a URL worker), let it fetch
// the file itself and send the bytes only if it asks ('need-model'); resolves to { worker, info, heapBytes }
// (buildId: this page's build: a worker whose files are of another build is refused, error.mixed set)
function boot(worker, modelBytes, mt, modelFile, first, blob = false, buildId = undefined) {
  return new Promise((ok, fail) => {
    const sendModel = () => modelBytes().then((bytes) => worker.postMessage({ type: 'shipped', bytes: bytes.buffer }, [bytes.buffer]), fail);
    worker.onmessage = (ev) => {
      if (ev.data.type === 'need-model') sendModel();
      else if (ev.data.type === 'ready') {
        const mixed = mixedBuilds(buildId, ev.data.build || {});
        if (mixed) { fail(Object.assign(new Error(mixed), { mixed: true })); return; }
        if (first) for (const m of ev.data.marks || []) performance.mark(m.name, { startTime: m.t - performance.timeOrigin });
        ok({ worker, info: ev.data.info, heapBytes: ev.data.heapBytes });
      } else if (ev.data.type === 'fatal') fail(new Error(ev.data.message));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      fail(new Error(ev.message || 'the engine worker could not start'));
    };
    worker.postMessage({ type: 'init', mt, modelFile, wasm: blob });
    if (!modelFile) sendModel();
  });
}

// how many workers, and whether they run the threaded engine
function plan(build) {
  const asked = Number(new URLSearchParams(location.search).get('workers'));
  const cores = Math.max(1, navigator.hardwareConcurrency || 1);
  const mt = !!(build.mt && served && globalThis.crossOriginIsolated);
  if (Number.isInteger(asked) && asked >= 1) return { workers: Math.min(asked, 8), mt: mt && asked === 1 };
  return mt ? { workers: 1, mt: true } : { workers: Math.min(cores, MAX_WORKERS), mt: false };
}

/** Start the engine. modelBytes(): a promise of the model (fresh bytes each call: they are
 * transferred); build: { mt } (whether the multi-threaded engine was built into this folder).
 * Resolves when the first worker is ready; onMemory({ workers: [bytes…], totalBytes, peakBytes, recycled, answered })
 * whenever a worker starts, ends or answers. */
export async function startEngine(modelBytes, build, { onMemory } = {}) {
  const want = plan(build);
  let model = modelBytes;           // the model every new worker loads (another one after loadModel)
  let gen = 0;                      // bumped by each loadModel: a worker that started before loads it too
  let useUrl = served;              // a URL worker while the host allows it
  let firstStart = true;
  const slots = [];                 // { worker, pending: Map, heapBytes, retiring, answered }
  let waiters = [];                 // requests waiting for a worker (every one retiring or starting)
  let lastHeap = 0;
  let lost = null;                  // set when no worker is left and none could start
  let nextId = 1;

  const memory = () => {
    const workers = slots.map((s) => s.heapBytes);
    const totalBytes = workers.reduce((a, b) => a + b, 0);
    memory.peak = Math.max(memory.peak, totalBytes);
    const m = { workers, totalBytes, peakBytes: memory.peak, recycled: memory.recycled, answered: slots.map((s) => s.answered) };
    globalThis.__sialoscanMemory = m;
    onMemory?.(m);
    return m;
  };
  memory.recycled = 0;
  memory.peak = 0;

  async function spawn() {
    const first = firstStart;
    firstStart = false;
    const bootGen = gen;
    let started = null;
    if (useUrl) {
      let worker = null;
      try {
        worker = new Worker('sialoscan-worker.js');
        if (first) performance.mark('sialoscan:worker created');
        started = await boot(worker, model, want.mt, model === modelBytes ? build.model?.file : undefined, first, false, build.id);
      } catch (e) {
        worker?.terminate(); // e.g. a host that refuses workers by URL: fall back to the embedded engine
        useUrl = false;
        started = null;
      }
    }
    if (!started) {
      const worker = await blobWorker();
      if (first) performance.mark('sialoscan:worker created');
      started = await boot(worker, model, false, undefined, first, true, build.id);
    }
    const slot = { worker: started.worker, info: started.info, pending: new Map(), heapBytes: started.heapBytes, retiring: false, answered: 0 };
    slot.worker.onmessage = (ev) => {
      const m = ev.data;
      const p = slot.pending.get(m.id);
      if (!p) return;
      if (m.type === 'progress') {
        p.progress?.(m.done, m.total);
        return;
      }
      slot.pending.delete(m.id);
      slot.answered++;
      if (m.heapBytes) {
        slot.heapBytes = m.heapBytes;
        if (m.heapBytes > RECYCLE_BYTES && !slot.retiring) slot.retiring = true;
      }
      memory();
      if (m.ok) p.ok(m);
      else p.fail(new Error(m.error));
      if (slot.retiring && slot.pending.size === 0) retire(slot);
    };
    slot.worker.onerror = (ev) => {
      ev.preventDefault();
      for (const p of slot.pending.values()) p.fail(new Error(`the engine stopped: ${ev.message || 'unknown error'}`));
      slot.pending.clear();
      if (!slot.retiring) { slot.retiring = true; retire(slot); }
    };
    for (let g = bootGen; g !== gen;) { // a model was loaded while this worker started
      g = gen;
      const b = await model();
      await request({ type: 'model', bytes: b.buffer }, [b.buffer], null, slot);
    }
    slots.push(slot);
    memory();
    const ready = waiters;
    waiters = [];
    for (const w of ready) w();
    return slot;
  }

  // a worker whose memory grew too much: its memory goes with it, a fresh one takes its place
  function retire(slot) {
    slots.splice(slots.indexOf(slot), 1);
    slot.worker.terminate();
    memory.recycled++;
    memory();
    spawn().catch((e) => {
      if (slots.length) return; // the others go on
      lost = new Error(`the engine could not restart: ${e.message}`);
      for (const w of waiters.splice(0)) w();
    });
  }

  // the least busy worker that takes requests (the first on a tie); waits when there is none
  async function pick() {
    for (;;) {
      let best = null;
      for (const s of slots) if (!s.retiring && (!best || s.pending.size < best.pending.size)) best = s;
      if (best) return best;
      if (lost && !slots.length) throw lost;
      await new Promise((ok) => waiters.push(ok));
    }
  }

  let grow = () => {};
  const request = async (msg, transfer = [], progress = null, slot = null) => {
    const s = slot || await pick();
    if (s.pending.size > 0) grow(); // a frame waits behind another: time for the other workers
    return new Promise((ok, fail) => {
      const id = nextId++;
      s.pending.set(id, { ok, fail, progress });
      s.worker.postMessage({ ...msg, id }, transfer);
    });
  };

  // served, only the first worker is a URL worker (it reads the engine's script and the model file
  // itself); the others, started after the page is ready, are Blob workers of the engine source
  // read now, given the first worker's model bytes: once ready, the page makes no request at all
  if (served && want.workers > 1) loadBlobEngine();
  const first = await spawn();
  lastHeap = first.heapBytes;
  if (served && useUrl && want.workers > 1) {
    useUrl = false;
    if (model === modelBytes) {
      const copy = request({ type: 'model-bytes' }, [], null, first).then((r) => new Uint8Array(r.bytes));
      copy.catch(() => {});
      model = () => copy.then((b) => b.slice());
    }
  }
  // the other workers start behind the first one, one after another (each compiles, loads the
  // model and warms up: on a small machine that competes with the first frame), when a second
  // frame is waiting for a busy worker or GROW_AFTER_MS after the page is ready, whichever comes first
  let grown = false;
  grow = () => {
    if (grown) return;
    grown = true;
    (async () => {
      for (let k = 1; k < want.workers; k++) await spawn();
    })().catch(() => { /* fewer workers: the page still works */ });
  };
  if (want.workers > 1) setTimeout(grow, GROW_AFTER_MS);
  else grown = true;

  return {
    info: first.info,
    heapBytes: lastHeap,
    /** how many workers the page uses (when all have started) */
    workers: want.workers,
    memory,
    /** classify + Grad-CAM; pictures shrunk to maxSide for display; frame: of a DICOM file
     * (undefined: a cine loop is classified frame by frame, progress(done, total) on the way) */
    classify: (bytes, maxSide, { frame, progress, inFolder } = {}) => request({ type: 'classify', bytes, maxSide, frame, inFolder }, [bytes], progress),
    /** p of a lesion box {x, y, w, h} (frame pixels) on frame `frame`: { pMalignant, label, box, region, margin, ood } */
    classifyBox: (bytes, box, frame) => request({ type: 'box', bytes, box, frame }, [bytes]),
    /** the overlay at the frame's full size, at opacity alpha */
    overlay: (bytes, alpha, frame) => request({ type: 'overlay', bytes, alpha, frame }, [bytes]),
    /** load another .sialo model into every worker (the first validates it); rejects with the
     * engine's reason, keeping the current one. Frames given before go with the old model. */
    loadModel: async (bytes) => {
      const copy = new Uint8Array(bytes).slice();
      const all = slots.filter((s) => !s.retiring);
      const head = await request({ type: 'model', bytes }, [bytes], null, all[0] || await pick());
      model = () => Promise.resolve(copy.slice()); // workers started from now on load this model
      gen++;
      await Promise.all(all.slice(1).map((s) => { const b = copy.slice(); return request({ type: 'model', bytes: b.buffer }, [b.buffer], null, s); }));
      return head;
    },
  };
}
