// sialoscan.mjs — the JavaScript API of the sialoscan engine (WebAssembly), for browsers and Node 20.
//
//   import { createSialoscan } from './sialoscan.mjs';
//   const s = await createSialoscan({ model: modelBytes });      // Uint8Array of a .sialo file
//   s.info()                    -> { arch, input, classes, threshold, parameters, provenance, ... }
//   await s.classify(imageBytes) -> { pMalignant, label, threshold, ms }
//                                (PNG, JPEG, BMP, GIF or DICOM bytes; a DICOM file also gives { frame })
//   await s.classify(dicomBytes, { frame: k, usRegion: true })
//                                -> frame k of a multi-frame DICOM file (default 0); usRegion crops it to
//                                   the file's first ultrasound region
//   s.dicomInfo(bytes)           -> null (not DICOM) or { frames, rows, columns, modality, sopClass,
//                                   manufacturer, model, transferSyntax, transferSyntaxUid, photometric,
//                                   usRegions: [{ x0, y0, x1, y1, ... }], decodable, problem, ... }
//                                   (never a patient attribute: none is read out of the file)
//   await s.classify(imageBytes, { cam: true, camLayer, camAlpha })
//                                -> { ..., cam: { width, height, map: Float32Array (frame size, [0,1]),
//                                     rgba: Uint8ClampedArray (turbo overlay on the frame), layer,
//                                     raw: { width, height, data } (the map at the layer, before upsampling) } }
//   s.gradcam(Float32Array, { layer, classIndex }) -> { output, layer, classIndex, raw: { width, height, data } }
//                                (Grad-CAM on a preprocessed input, as forward())
//   s.forward(Float32Array)      -> Float32Array (network output for a preprocessed input)
//   s.activation('post_relu')    -> { shape: [N,H,W,C], data: Float32Array } (needs keepActivations)
//   s.dispose()
// Every failure is an Error with a readable message (a rejected promise for the async calls).
// Nothing leaves the machine: the image bytes go from your page into this module's memory only.
import createCoreDefault from './dist/sialoscan-core.mjs';

const isNode = typeof process !== 'undefined' && !!(process.versions && process.versions.node);

async function loadWasmBinary(file) {
  // Node 20 cannot fetch file: URLs; read the .wasm next to the core module instead.
  const { readFile } = await import('node:fs/promises');
  return new Uint8Array(await readFile(new URL(`./dist/${file}`, import.meta.url)));
}

export async function createSialoscan(options = {}) {
  const { model, keepActivations = false, factory = createCoreDefault, wasmBinary } = options;
  if (!(model instanceof Uint8Array) && !(model instanceof ArrayBuffer)) {
    throw new TypeError('createSialoscan: options.model must be the bytes of a .sialo model (Uint8Array or ArrayBuffer)');
  }
  const moduleArgs = {};
  if (wasmBinary) moduleArgs.wasmBinary = wasmBinary;
  else if (isNode && factory === createCoreDefault) moduleArgs.wasmBinary = await loadWasmBinary('sialoscan-core.wasm');
  const M = await factory(moduleArgs);
  const c = {
    error: M.cwrap('sialo_wasm_error', 'string', []),
    load: M.cwrap('sialo_wasm_load', 'number', ['number', 'number', 'number']),
    free: M.cwrap('sialo_wasm_free', null, ['number']),
    info: M.cwrap('sialo_wasm_info_json', 'number', ['number']),
    inputFloats: M.cwrap('sialo_wasm_input_floats', 'number', ['number']),
    outputFloats: M.cwrap('sialo_wasm_output_floats', 'number', ['number']),
    classify: M.cwrap('sialo_wasm_classify', 'number', ['number', 'number', 'number', 'number', 'number', 'number']),
    isDicom: M.cwrap('sialo_wasm_is_dicom', 'number', ['number', 'number']),
    dicomInfo: M.cwrap('sialo_wasm_dicom_info_json', 'number', ['number', 'number']),
    forward: M.cwrap('sialo_wasm_forward', 'number', ['number', 'number', 'number']),
    activation: M.cwrap('sialo_wasm_activation', 'number', ['number', 'string', 'number']),
    classifyCam: M.cwrap('sialo_wasm_classify_cam', 'number', ['number', 'number', 'number', 'number', 'number', 'string', 'number', 'number']),
    camTensor: M.cwrap('sialo_wasm_cam_tensor', 'number', ['number', 'number', 'string', 'number', 'number']),
    camDims: M.cwrap('sialo_wasm_cam_dims', 'string', ['number', 'number']),
    camMap: M.cwrap('sialo_wasm_cam_map', 'number', ['number']),
    camRaw: M.cwrap('sialo_wasm_cam_raw', 'number', ['number']),
    camRgba: M.cwrap('sialo_wasm_cam_rgba', 'number', ['number']),
    camFree: M.cwrap('sialo_wasm_cam_free', null, ['number']),
  };
  const bytes = model instanceof Uint8Array ? model : new Uint8Array(model);

  // copy bytes into the module's heap for the duration of fn(ptr)
  const withBytes = (src, fn) => {
    const p = M._malloc(Math.max(1, src.length));
    if (!p) throw new Error('sialoscan: out of memory');
    try {
      M.HEAPU8.set(src, p);
      return fn(p);
    } finally {
      M._free(p);
    }
  };

  const handle = withBytes(bytes, (p) => c.load(p, bytes.length, keepActivations ? 1 : 0));
  if (!handle) throw new Error(`sialoscan: ${c.error()}`);
  let disposed = false;
  const live = () => {
    if (disposed) throw new Error('sialoscan: this instance has been disposed');
  };

  const infoPtr = c.info(handle);
  const info = JSON.parse(M.UTF8ToString(infoPtr));
  M._free(infoPtr);
  const nIn = c.inputFloats(handle);
  const nOut = c.outputFloats(handle);

  // copy a Grad-CAM result out of the module's heap
  const readCam = (h) => {
    const pd = M._malloc(20);
    try {
      const layer = c.camDims(h, pd);
      const [width, height, rawWidth, rawHeight, classIndex] = Array.from(new Int32Array(M.HEAPU8.buffer, pd, 5));
      const rawPtr = c.camRaw(h) >> 2;
      const raw = { width: rawWidth, height: rawHeight, data: M.HEAPF32.slice(rawPtr, rawPtr + rawWidth * rawHeight) };
      const mapPtr = c.camMap(h) >> 2;
      const map = M.HEAPF32.slice(mapPtr, mapPtr + width * height);
      const rgbaPtr = c.camRgba(h);
      const rgba = rgbaPtr ? new Uint8ClampedArray(M.HEAPU8.slice(rgbaPtr, rgbaPtr + width * height * 4).buffer) : null;
      return { width, height, map, rgba, layer, classIndex, raw };
    } finally {
      M._free(pd);
    }
  };

  return {
    info: () => structuredClone(info),

    async classify(imageBytes, opts = {}) {
      live();
      if (imageBytes instanceof ArrayBuffer) imageBytes = new Uint8Array(imageBytes);
      if (!(imageBytes instanceof Uint8Array)) throw new TypeError('classify: expected the image file bytes (Uint8Array or ArrayBuffer)');
      const { cam = false, camLayer = '', camAlpha = -1, frame = 0, usRegion = false } = opts ?? {};
      if (typeof camLayer !== 'string') throw new TypeError('classify: camLayer must be a layer name (string)');
      if (!Number.isInteger(frame) || frame < 0) throw new TypeError('classify: frame must be a frame number (0, 1, ...)');
      const dicom = withBytes(imageBytes.subarray(0, 132), (p) => c.isDicom(p, Math.min(132, imageBytes.length))) === 1;
      const out = M._malloc(16);
      let h = 0;
      try {
        if (cam) {
          h = withBytes(imageBytes, (p) => c.classifyCam(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, camLayer, Number(camAlpha), out));
          if (!h) throw new Error(`sialoscan: ${c.error()}`);
        } else {
          const rc = withBytes(imageBytes, (p) => c.classify(handle, p, imageBytes.length, frame, usRegion ? 1 : 0, out));
          if (rc !== 0) throw new Error(`sialoscan: ${c.error()}`);
        }
        const r = M.HEAPF32.slice(out >> 2, (out >> 2) + 4);
        const label = info.outputs === 1 ? (r[1] ? info.classes[1] : info.classes[0]) : (info.classes[r[1]] ?? String(r[1]));
        const res = { pMalignant: r[0], label, threshold: r[2], ms: r[3] };
        if (dicom) res.frame = frame;
        if (h) res.cam = readCam(h);
        return res;
      } finally {
        if (h) c.camFree(h);
        M._free(out);
      }
    },

    dicomInfo(bytes) {
      live();
      if (bytes instanceof ArrayBuffer) bytes = new Uint8Array(bytes);
      if (!(bytes instanceof Uint8Array)) throw new TypeError('dicomInfo: expected the file bytes (Uint8Array or ArrayBuffer)');
      if (withBytes(bytes.subarray(0, 132), (p) => c.isDicom(p, Math.min(132, bytes.length))) !== 1) return null;
      const js = withBytes(bytes, (p) => c.dicomInfo(p, bytes.length));
      if (!js) throw new Error(`sialoscan: ${c.error()}`);
      const raw = JSON.parse(M.UTF8ToString(js));
      M._free(js);
      const camel = (o) => Array.isArray(o) ? o.map(camel) : o && typeof o === 'object'
        ? Object.fromEntries(Object.entries(o).map(([k, v]) => [k.replace(/_([a-z])/g, (_, ch) => ch.toUpperCase()), camel(v)])) : o;
      return camel(raw);
    },

    gradcam(input, { layer = '', classIndex = -1 } = {}) {
      live();
      if (!(input instanceof Float32Array) || input.length !== nIn) {
        throw new TypeError(`gradcam: expected a Float32Array of ${nIn} values (${info.input.height}x${info.input.width}x3, normalised)`);
      }
      if (typeof layer !== 'string') throw new TypeError('gradcam: layer must be a layer name (string)');
      const pin = M._malloc(nIn * 4), pout = M._malloc(nOut * 4);
      let h = 0;
      try {
        M.HEAPF32.set(input, pin >> 2);
        h = c.camTensor(handle, pin, layer, classIndex | 0, pout);
        if (!h) throw new Error(`sialoscan: ${c.error()}`);
        const { layer: used, classIndex: cls, raw } = readCam(h);
        return { output: M.HEAPF32.slice(pout >> 2, (pout >> 2) + nOut), layer: used, classIndex: cls, raw };
      } finally {
        if (h) c.camFree(h);
        M._free(pin);
        M._free(pout);
      }
    },

    forward(input) {
      live();
      if (!(input instanceof Float32Array) || input.length !== nIn) {
        throw new TypeError(`forward: expected a Float32Array of ${nIn} values (${info.input.height}x${info.input.width}x3, normalised)`);
      }
      const pin = M._malloc(nIn * 4), pout = M._malloc(nOut * 4);
      try {
        M.HEAPF32.set(input, pin >> 2);
        if (c.forward(handle, pin, pout) !== 0) throw new Error(`sialoscan: ${c.error()}`);
        return M.HEAPF32.slice(pout >> 2, (pout >> 2) + nOut);
      } finally {
        M._free(pin);
        M._free(pout);
      }
    },

    activation(layer) {
      live();
      const shp = M._malloc(16);
      try {
        const p = c.activation(handle, String(layer), shp);
        if (!p) throw new Error(`sialoscan: ${c.error()}`);
        const shape = Array.from(new Int32Array(M.HEAPU8.buffer, shp, 4));
        const n = shape.reduce((a, b) => a * b, 1);
        return { shape, data: M.HEAPF32.slice(p >> 2, (p >> 2) + n) };
      } finally {
        M._free(shp);
      }
    },

    dispose() {
      if (!disposed) c.free(handle);
      disposed = true;
    },
  };
}

export default createSialoscan;
