// train-worker.js — the trainer side of the panel "Train on your own images": a dedicated Web Worker
// of its own (not the engine worker: the page goes on classifying frames while a run trains), one per
// run, terminated when the run ends, is stopped, or fails — its memory goes back to the browser.
// A classic worker script. Served over http it is `sialoscan-train-worker.js` and loads the engine
// with importScripts (the pthreads build, on every core, when the page is cross-origin isolated);
// opened from disk the page builds it from a Blob that already holds the single-threaded engine.
//
// Messages in  { type: 'init', mt, threads, backbone: ArrayBuffer, backboneName, dataName, maxBytes }
//              { type: 'add', files: [{ path, file: File }] }    path relative to the folder's root
//              { type: 'run', options: { cv, method, schedule, seed, batch, valFraction? }, resume: ArrayBuffer | null }
// Messages out { type: 'ready', engine: { build, threads } }
//              { type: 'reading', done, total }                  while the files are read and decoded
//              { type: 'summary', summary }                      Trainer.summary() after an 'add'
//              { type: 'progress', p }   (p: the trainer's progress, plus heapBytes: its WebAssembly memory)
//                { type: 'checkpoint', bytes: ArrayBuffer }   { type: 'log', line }
//              { type: 'fold', fold, result }                    a cross-validation fold finished
//              { type: 'done', result }                          the run's result (result.model: ArrayBuffer)
//              { type: 'error', message }                        the engine's sentence
// The run is synchronous inside the WebAssembly code: while it runs this worker reads no message,
// so "stop" is the page terminating it (the last checkpoint is already with the page).
'use strict';

let trainer = null;
let dataName = null; // the folder's name, for the model's provenance

const reason = (e) => String((e && e.message) || e).replace(/^sialoscan: /, '');
const own = (bytes) => new Uint8Array(bytes); // a copy in a fresh ArrayBuffer (the engine's may be its heap, or shared)

function loadEngine(mt) {
  if (typeof self.createTrainer === 'function') return; // embedded (page opened from disk)
  if (mt && self.crossOriginIsolated) {
    try {
      importScripts('sialoscan-mt.js');
      if (typeof self.createTrainer === 'function') return;
    } catch (e) {
      // the multi-threaded build is missing or refused: the single-threaded one always works
    }
  }
  importScripts('sialoscan-standalone.js');
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      loadEngine(msg.mt);
      if (typeof self.createTrainer !== 'function') throw new Error('this build of the engine has no trainer (rebuild it with `make wasm web`)');
      const threads = msg.mt && self.crossOriginIsolated && typeof SharedArrayBuffer !== 'undefined' ? msg.threads : 1;
      trainer = await self.createTrainer({ backbone: new Uint8Array(msg.backbone), threads, maxBytes: msg.maxBytes,
        backboneName: msg.backboneName });
      dataName = msg.dataName;
      self.postMessage({ type: 'ready', engine: { build: threads > 1 ? 'pthreads' : 'single', threads } });
      return;
    }
    case 'add': {
      const total = msg.files.length;
      let last = 0;
      for (let i = 0; i < total; i++) {
        const { path, file } = msg.files[i];
        let bytes;
        try {
          bytes = new Uint8Array(await file.arrayBuffer());
        } catch (e) {
          bytes = new Uint8Array(0); // unreadable (moved or deleted meanwhile): the engine refuses it with its sentence
        }
        trainer.add(path, bytes);
        const now = performance.now();
        if (now - last > 100 || i === total - 1) {
          last = now;
          self.postMessage({ type: 'reading', done: i + 1, total });
        }
      }
      self.postMessage({ type: 'summary', summary: trainer.summary() });
      return;
    }
    case 'run': {
      const o = msg.options;
      const result = await trainer.run({
        cv: o.cv, final: true, method: o.method, schedule: o.schedule || null, seed: o.seed, batch: o.batch, valFraction: o.valFraction, dataName,
        // no pause after each epoch: this worker reads no message while it trains (the page stops it by
        // ending the worker), and its progress and checkpoints reach the page as they are posted
        yieldEvery: 'never',
        resume: msg.resume ? new Uint8Array(msg.resume) : undefined,
        onProgress: (p) => self.postMessage({ type: 'progress', p: { ...p, heapBytes: trainer.heapBytes() } }), // the engine's memory: the panel shows its peak
        onCheckpoint: (bytes) => {
          const copy = own(bytes);
          self.postMessage({ type: 'checkpoint', bytes: copy.buffer }, [copy.buffer]);
        },
        onFold: ({ fold, result: r }) => self.postMessage({ type: 'fold', fold, result: r }),
        onLog: (line) => self.postMessage({ type: 'log', line }),
      });
      const model = result.model ? own(result.model) : null;
      const out = { ...result, model: model && model.buffer };
      self.postMessage({ type: 'done', result: out }, model ? [model.buffer] : []);
      return;
    }
    default:
      throw new Error(`unknown request ${msg.type}`);
  }
}

// one request at a time, in order
let queue = Promise.resolve();
self.onmessage = (ev) => {
  queue = queue.then(() => handle(ev.data)).catch((e) => self.postMessage({ type: 'error', message: reason(e), during: ev.data.type }));
};
