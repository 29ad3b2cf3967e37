// engine-client.js — the page's handle on the engine worker: starts it (a URL worker when served,
// a Blob worker holding the embedded engine when opened from disk) and turns its messages into
// promises. The page never touches the engine directly. The worker starts its engine at once; the
// model's bytes follow when they are ready.
import { loadScript } from './load-script.js';

// opened from disk the Blob worker's source is needed for sure: start loading it at once
const workerSource = location.protocol === 'file:' ? loadScript('sialoscan-worker-source.js') : null;

async function blobWorker() {
  if (typeof globalThis.SIALOSCAN_WORKER_SOURCE !== 'string') await (workerSource || loadScript('sialoscan-worker-source.js'));
  const url = URL.createObjectURL(new Blob([globalThis.SIALOSCAN_WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  performance.mark('sialoscan:worker created');
  return worker;
}

// start a worker, then send it the model's bytes — or, given modelFile (a URL worker), let it fetch
// the file itself and send the bytes only if it asks ('need-model'); resolves to { worker, info, heapBytes }
function boot(worker, modelBytes, mt, modelFile) {
  return new Promise((ok, fail) => {
    const sendModel = () => modelBytes().then((bytes) => worker.postMessage({ type: 'shipped', bytes: bytes.buffer }, [bytes.buffer]), fail);
    worker.onmessage = (ev) => {
      if (ev.data.type === 'need-model') sendModel();
      else if (ev.data.type === 'ready') {
        for (const m of ev.data.marks || []) performance.mark(m.name, { startTime: m.t - performance.timeOrigin });
        ok({ worker, info: ev.data.info, heapBytes: ev.data.heapBytes });
      } else if (ev.data.type === 'fatal') fail(new Error(ev.data.message));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      fail(new Error(ev.message || 'the engine worker could not start'));
    };
    worker.postMessage({ type: 'init', mt, modelFile });
    if (!modelFile) sendModel();
  });
}

/** Start the engine. modelBytes(): a promise of the model (fresh bytes each call: they are
 * transferred); build: { mt } (whether the multi-threaded engine was built into this folder). */
export async function startEngine(modelBytes, build) {
  let started = null;
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    let worker = null;
    try {
      worker = new Worker('sialoscan-worker.js');
      performance.mark('sialoscan:worker created');
      started = await boot(worker, modelBytes, build.mt, build.model?.file);
    } catch (e) {
      worker?.terminate(); // e.g. a host that refuses workers by URL: fall back to the embedded engine
      started = null;
    }
  }
  if (!started) started = await boot(await blobWorker(), modelBytes, false);
  const { worker } = started;
  let nextId = 1;
  const pending = new Map();
  worker.onmessage = (ev) => {
    const m = ev.data;
    const p = pending.get(m.id);
    if (!p) return;
    if (m.type === 'progress') {
      p.progress?.(m.done, m.total);
      return;
    }
    pending.delete(m.id);
    if (m.ok) p.ok(m);
    else p.fail(new Error(m.error));
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    for (const p of pending.values()) p.fail(new Error(`the engine stopped: ${ev.message || 'unknown error'}`));
    pending.clear();
  };
  const request = (msg, transfer = [], progress = null) =>
    new Promise((ok, fail) => {
      const id = nextId++;
      pending.set(id, { ok, fail, progress });
      worker.postMessage({ ...msg, id }, transfer);
    });
  return {
    info: started.info,
    heapBytes: started.heapBytes,
    /** classify + Grad-CAM; pictures shrunk to maxSide for display; frame: of a DICOM file
     * (undefined: a cine loop is classified frame by frame, progress(done, total) on the way) */
    classify: (bytes, maxSide, { frame, progress, inFolder } = {}) => request({ type: 'classify', bytes, maxSide, frame, inFolder }, [bytes], progress),
    /** the overlay at the frame's full size, at opacity alpha */
    overlay: (bytes, alpha, frame) => request({ type: 'overlay', bytes, alpha, frame }, [bytes]),
    /** load another .sialo model; rejects with the engine's reason, keeping the current one */
    loadModel: (bytes) => request({ type: 'model', bytes }, [bytes]),
  };
}
