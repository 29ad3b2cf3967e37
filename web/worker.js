// worker.js — the engine side of the page: runs in a dedicated Web Worker so the page never freezes.
// A classic worker script. Served over http it is `sialoscan-worker.js` and loads the engine with
// importScripts (the multi-threaded build when the page is cross-origin isolated); opened from
// disk the page builds it from a Blob that already holds the single-threaded engine.
//
// Messages in  { type: 'init', model: ArrayBuffer, mt: boolean }
//              { type: 'model', id, bytes: ArrayBuffer }              load another model (validated)
//              { type: 'classify', id, bytes: ArrayBuffer, maxSide }  classify + Grad-CAM
//              { type: 'overlay', id, bytes: ArrayBuffer, alpha }     the overlay at the frame's full size
// Messages out { type: 'ready', info, heapBytes } | { type: 'fatal', message }
//              { type: 'reply', id, ok: true, ... } | { type: 'reply', id, ok: false, error }
// Every number and decision (p, label, threshold, the map) comes from the engine; this file only
// moves bytes and shrinks pictures for display.
'use strict';

let engine = null;

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

// box-filter an RGBA picture down so that its longer side is at most maxSide (display only)
function shrink(rgba, w, h, maxSide) {
  const f = Math.max(w, h) / maxSide;
  if (!(f > 1)) return { w, h, rgba };
  const ow = Math.max(1, Math.round(w / f)), oh = Math.max(1, Math.round(h / f));
  const out = new Uint8ClampedArray(ow * oh * 4);
  for (let oy = 0; oy < oh; oy++) {
    const y0 = Math.floor((oy * h) / oh), y1 = Math.max(y0 + 1, Math.floor(((oy + 1) * h) / oh));
    for (let ox = 0; ox < ow; ox++) {
      const x0 = Math.floor((ox * w) / ow), x1 = Math.max(x0 + 1, Math.floor(((ox + 1) * w) / ow));
      let r = 0, g = 0, b = 0;
      for (let y = y0; y < y1; y++) {
        for (let x = x0, i = (y * w + x0) * 4; x < x1; x++, i += 4) { r += rgba[i]; g += rgba[i + 1]; b += rgba[i + 2]; }
      }
      const n = (y1 - y0) * (x1 - x0), o = (oy * ow + ox) * 4;
      out[o] = r / n; out[o + 1] = g / n; out[o + 2] = b / n; out[o + 3] = 255;
    }
  }
  return { w: ow, h: oh, rgba: out };
}

async function handle(msg) {
  switch (msg.type) {
    case 'init': {
      loadEngine(msg.mt);
      engine = await self.createSialoscan({ model: new Uint8Array(msg.model) });
      return { type: 'ready', info: engine.info(), heapBytes: engine.heapBytes() };
    }
    case 'model': {
      const next = await self.createSialoscan({ model: new Uint8Array(msg.bytes) }); // throws with the reason if refused
      engine.dispose();
      engine = next;
      return { info: engine.info() };
    }
    case 'classify': {
      // camAlpha 1: the full-strength overlay; the page fades it over the frame (the overlay is linear in alpha)
      const r = await engine.classify(new Uint8Array(msg.bytes), { cam: true, camAlpha: 1, image: true });
      const frame = shrink(r.image.rgba, r.image.width, r.image.height, msg.maxSide);
      const overlay = shrink(r.cam.rgba, r.cam.width, r.cam.height, msg.maxSide);
      return {
        pMalignant: r.pMalignant, label: r.label, threshold: r.threshold, ms: r.ms, layer: r.cam.layer,
        width: r.image.width, height: r.image.height, view: { w: frame.w, h: frame.h, frame: frame.rgba, overlay: overlay.rgba },
        heapBytes: engine.heapBytes(),
      };
    }
    case 'overlay': {
      const r = await engine.classify(new Uint8Array(msg.bytes), { cam: true, camAlpha: msg.alpha });
      return { width: r.cam.width, height: r.cam.height, rgba: r.cam.rgba };
    }
    default:
      throw new Error(`unknown request ${msg.type}`);
  }
}

// one request at a time, in order: the engine is not re-entrant
let queue = Promise.resolve();
self.onmessage = (ev) => {
  const msg = ev.data;
  queue = queue.then(async () => {
    try {
      const out = await handle(msg);
      if (msg.type === 'init') { self.postMessage(out); return; }
      const transfer = [];
      if (out.view) transfer.push(out.view.frame.buffer, out.view.overlay.buffer);
      if (out.rgba) transfer.push(out.rgba.buffer);
      self.postMessage({ type: 'reply', id: msg.id, ok: true, ...out }, transfer);
    } catch (e) {
      if (msg.type === 'init') self.postMessage({ type: 'fatal', message: reason(e) });
      else self.postMessage({ type: 'reply', id: msg.id, ok: false, error: reason(e) });
    }
  });
};
