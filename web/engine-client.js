// engine-client.js — the page's handle on the engine worker: starts it (a URL worker when served,
// a Blob worker holding the embedded engine when opened from disk) and turns its messages into
// promises. The page never touches the engine directly.

// dynamically add a classic script of this page's own folder (allowed by the page's CSP: 'self')
function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = ok;
    s.onerror = () => fail(new Error(`the page's file ${src} is missing`));
    document.head.appendChild(s);
  });
}

// opened from disk the Blob worker's source is needed for sure: start loading it at once
const workerSource = location.protocol === 'file:' ? loadScript('sialoscan-worker-source.js') : null;

async function blobWorker() {
  if (typeof globalThis.SIALOSCAN_WORKER_SOURCE !== 'string') await (workerSource || loadScript('sialoscan-worker-source.js'));
  const url = URL.createObjectURL(new Blob([globalThis.SIALOSCAN_WORKER_SOURCE], { type: 'text/javascript' }));
  return new Worker(url);
}

// start a worker and send it the model; resolves to { worker, info, heapBytes }
function boot(worker, modelBytes, mt) {
  return new Promise((ok, fail) => {
    worker.onmessage = (ev) => {
      if (ev.data.type === 'ready') ok({ worker, info: ev.data.info, heapBytes: ev.data.heapBytes });
      else if (ev.data.type === 'fatal') fail(new Error(ev.data.message));
    };
    worker.onerror = (ev) => {
      ev.preventDefault();
      fail(new Error(ev.message || 'the engine worker could not start'));
    };
    worker.postMessage({ type: 'init', model: modelBytes.slice().buffer, mt });
  });
}

/** Start the engine. build: { mt } (whether the multi-threaded engine was built into this folder). */
export async function startEngine(modelBytes, build) {
  let started = null;
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    let worker = null;
    try {
      worker = new Worker('sialoscan-worker.js');
      started = await boot(worker, modelBytes, build.mt);
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
    classify: (bytes, maxSide, { frame, progress } = {}) => request({ type: 'classify', bytes, maxSide, frame }, [bytes], progress),
    /** the overlay at the frame's full size, at opacity alpha */
    overlay: (bytes, alpha, frame) => request({ type: 'overlay', bytes, alpha, frame }, [bytes]),
    /** load another .sialo model; rejects with the engine's reason, keeping the current one */
    loadModel: (bytes) => request({ type: 'model', bytes }, [bytes]),
  };
}
