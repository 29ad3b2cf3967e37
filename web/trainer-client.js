// trainer-client.js — the page's handle on a trainer worker (web/train-worker.js): one worker per
// folder and run, separate from the engine worker. Served, a URL worker that loads the pthreads
// build when the page is cross-origin isolated; opened from disk, a Blob worker holding the
// single-threaded engine (its source is a classic script of the page's folder, loaded only now).
import { loadScript } from './load-script.js';

/** Threads a run gets here: every core when the page is cross-origin isolated and the threaded
 * engine was built into this folder, else 1; and why, in words. */
export function trainingThreads(build) {
  const served = location.protocol === 'http:' || location.protocol === 'https:';
  if (build.mt && served && globalThis.crossOriginIsolated) {
    const n = Math.max(1, Math.min(64, navigator.hardwareConcurrency || 1));
    return { mt: true, threads: n, why: `every core of this computer${n === 1 ? '' : ` (${n} threads)`}: the page is cross-origin isolated` };
  }
  const why = !served ? 'the page is opened from disk' : !globalThis.crossOriginIsolated ? 'the page is not cross-origin isolated' : 'this page was built without the threaded engine';
  return { mt: false, threads: 1, why: `one thread: ${why} (served by \`make serve\`, a run uses every core)` };
}

async function newWorker() {
  if (location.protocol === 'http:' || location.protocol === 'https:') {
    try {
      return new Worker('sialoscan-train-worker.js');
    } catch (e) {
      // a host that refuses workers by URL: the embedded engine below
    }
  }
  if (typeof globalThis.SIALOSCAN_TRAIN_WORKER_SOURCE !== 'string') await loadScript('sialoscan-train-worker-source.js');
  const url = URL.createObjectURL(new Blob([globalThis.SIALOSCAN_TRAIN_WORKER_SOURCE], { type: 'text/javascript' }));
  const worker = new Worker(url);
  setTimeout(() => URL.revokeObjectURL(url), 60000);
  return worker;
}

/** Start a trainer: { mt, threads, backbone: Uint8Array (transferred), backboneName, dataName, maxBytes }.
 * Resolves to { engine, add(files, onReading) -> Promise<summary>, run(options, resume, handlers) -> Promise<result>,
 * terminate() }. handlers: { progress(p), checkpoint(Uint8Array), fold(fold, result), log(line) }.
 * A refusal rejects with the engine's sentence; a worker that dies rejects what is pending. */
export async function startTrainer({ mt, threads, backbone, backboneName, dataName, maxBytes }) {
  const worker = await newWorker();
  let waiting = null;      // { ok, fail, on: { type: handler } } of the request in flight
  let dead = null;
  const settle = (fn, v) => {
    const w = waiting;
    waiting = null;
    if (w) w[fn](v);
  };
  worker.onmessage = (ev) => {
    const m = ev.data;
    if (!waiting) return;
    if (m.type === 'error') settle('fail', new Error(m.message));
    else if (m.type === waiting.until) settle('ok', m);
    else waiting.on[m.type]?.(m);
  };
  worker.onerror = (ev) => {
    ev.preventDefault();
    dead = new Error(`the trainer stopped: ${ev.message || 'unknown error'}`);
    settle('fail', dead);
  };
  const request = (msg, until, on = {}, transfer = []) => new Promise((ok, fail) => {
    if (dead) { fail(dead); return; }
    waiting = { ok, fail, until, on };
    worker.postMessage(msg, transfer);
  });
  const ready = await request({ type: 'init', mt, threads, backbone: backbone.buffer, backboneName, dataName, maxBytes }, 'ready', {}, [backbone.buffer])
    .catch((e) => { worker.terminate(); throw e; });
  return {
    engine: ready.engine,
    add: (files, onReading) => request({ type: 'add', files }, 'summary', { reading: (m) => onReading?.(m.done, m.total) }).then((m) => m.summary),
    run: (options, resume, h) => request({ type: 'run', options, resume: resume ? resume.slice().buffer : null }, 'done', {
      progress: (m) => h.progress?.(m.p),
      checkpoint: (m) => h.checkpoint?.(new Uint8Array(m.bytes)),
      fold: (m) => h.fold?.(m.fold, m.result),
      log: (m) => h.log?.(m.line),
    }).then((m) => ({ ...m.result, model: m.result.model ? new Uint8Array(m.result.model) : null })),
    terminate() {
      worker.terminate();
      dead ||= new Error('the trainer was stopped');
      settle('fail', dead);
    },
  };
}
