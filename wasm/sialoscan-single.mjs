// sialoscan-single.mjs — the same API with the WebAssembly embedded in the JavaScript
// (no .wasm file to fetch: works in a page opened straight from disk).
import createCoreSingle from './dist/sialoscan-core-single.mjs';
import { createSialoscan as create, createTrainer as createT } from './sialoscan.mjs';

export function createSialoscan(options = {}) {
  return create({ ...options, factory: createCoreSingle });
}
export function createTrainer(options = {}) {
  return createT({ ...options, factory: createCoreSingle });
}
export default createSialoscan;
