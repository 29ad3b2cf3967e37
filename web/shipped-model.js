// shipped-model.js — the model that comes with the page: sialoscan-model.js, a classic script holding
// the .sialo file in base64 (a page opened from disk may not fetch, and its CSP forbids every
// connection). index.html preloads it; it is run here, beside the engine's start in the worker,
// not before the page's own script.
import { loadScript } from './load-script.js';

function base64Bytes(b64) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(b64); // native: much faster
  const bin = atob(b64);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Start loading the shipped model; resolves to { name, bytes() } (bytes(): a fresh Uint8Array
 * each call, to be transferred to a worker), rejects if the page's model file is missing. */
export function loadShippedModel() {
  return loadScript('sialoscan-model.js').then(() => {
    const shipped = globalThis.SIALOSCAN_MODEL;
    if (!shipped) throw new Error('sialoscan-model.js holds no model');
    performance.mark('sialoscan:model script');
    return {
      name: shipped.name,
      bytes() {
        const bytes = base64Bytes(shipped.base64);
        performance.mark('sialoscan:model decoded');
        return bytes;
      },
    };
  });
}
