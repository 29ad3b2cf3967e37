// shipped-model.js — the model that comes with the page: the .sialo file in base64, cut into a few
// classic scripts sialoscan-model-1.js … -N.js (a page opened from disk may not fetch, and its CSP
// forbids every connection; the browser reads and parses the parts in parallel). They load here,
// beside the engine's start in the worker, each decoded as it comes.
import { loadScript } from './load-script.js';

export function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64); // native: much faster
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Start loading the shipped model (build.model: { name, parts }); resolves to { name, bytes() }
 * (bytes(): the whole file, a fresh Uint8Array each call, to be transferred to a worker), rejects
 * if a part is missing. The same for another model file shipped this way (the training panel's
 * ImageNet backbone): its scripts are `${prefix}-1.js` … and fill globalThis[global]. */
export function loadShippedModel({ name, parts } = {}, { prefix = 'sialoscan-model', global = 'SIALOSCAN_MODEL_PARTS' } = {}) {
  if (!parts) return Promise.reject(new Error('this page was built without a model'));
  const decoded = Array.from({ length: parts }, (_, i) => loadScript(`${prefix}-${i + 1}.js`).then(() => {
    const b64 = globalThis[global]?.[i];
    if (typeof b64 !== 'string') throw new Error(`${prefix}-${i + 1}.js holds no model part`);
    globalThis[global][i] = null; // the text is not needed once decoded
    return base64Bytes(b64);
  }));
  return Promise.all(decoded).then((chunks) => {
    performance.mark(`sialoscan:${prefix === 'sialoscan-model' ? 'model' : prefix.replace(/^sialoscan-/, '')} decoded`);
    return {
      name,
      bytes() {
        const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
        chunks.reduce((at, c) => (out.set(c, at), at + c.length), 0);
        return out;
      },
    };
  });
}
