// make-standalone.mjs — the classic-script forms of the engine: an Emscripten core built without
// ES module output, and the JS API of wasm/sialoscan.mjs, as ONE classic script that defines
// globalThis.createSialoscan and globalThis.createTrainer (no ES module, no import.meta).
//
//   node tools/make-standalone.mjs single CORE_CLASSIC_SINGLE.js API.mjs OUT.js [RELAXED.wasm]
//     wasm/dist/sialoscan-standalone.js: single-threaded, the wasm embedded. A page opened
//     straight from disk (file://) cannot load ES modules or fetch a .wasm file; it can load this
//     with <script src="sialoscan-standalone.js"></script>.
//   node tools/make-standalone.mjs mt CORE_CLASSIC_PTHREADS.js API.mjs OUT.js
//     wasm/dist/sialoscan-mt.js: the pthreads build, for a dedicated worker of a cross-origin-
//     isolated page: importScripts('…/sialoscan-mt.js'). It finds its .wasm and its pthread
//     worker file (sialoscan-mt.wasm, sialoscan-mt.worker.js) next to its own URL. The core stays
//     a global (createSialoscanModule): each pthread worker importScripts this same file and
//     calls it. Node loads the file as CommonJS: require(…) -> { createSialoscan, createSialoscanModule }.
import { readFileSync, writeFileSync } from 'node:fs';
import { sameInterface } from './wasm-relaxed.mjs';

const [kind, core, api, out, relaxedWasm] = process.argv.slice(2);
if (!['single', 'mt'].includes(kind) || !out) {
  throw new Error('usage: node tools/make-standalone.mjs single|mt CORE.js API.mjs OUT.js');
}

// how each classic script starts its engine (replaces the part of the API between
// "---- start the engine" and "---- end")
const START = {
  single: `const DEFAULT_THREADS = 1;
// the relaxed-SIMD twin of the embedded wasm (base64), taken where relaxed SIMD is on
const RELAXED_WASM_BASE64 = '@RELAXED_WASM_BASE64@';
async function startCore({ wasmBinary, simd }) {
  if (!wasmBinary && RELAXED_WASM_BASE64 && useRelaxedSimd(simd)) {
    const b = atob(RELAXED_WASM_BASE64);
    wasmBinary = new Uint8Array(b.length);
    for (let i = 0; i < b.length; i++) wasmBinary[i] = b.charCodeAt(i);
  }
  return createSialoscanModule(wasmBinary ? { wasmBinary } : {}); // else the embedded SIMD128 wasm
}
`,
  mt: `// this script's own URL, read while it runs: a page's <script>, importScripts() in a worker
// (the URL of the running script is in the stack of an Error), or the file itself in Node
const SCRIPT_URL = (() => {
  if (typeof document !== 'undefined' && document.currentScript) return document.currentScript.src;
  if (typeof __filename === 'string') return __filename;
  const m = /((?:https?|file|blob):[^\\s()]+?)(?::\\d+){2}(?=[)\\s]|$)/m.exec(new Error().stack || '');
  return m ? m[1] : undefined;
})();
const hardwareThreads = typeof navigator !== 'undefined' && navigator.hardwareConcurrency
  ? navigator.hardwareConcurrency
  : isNode ? require('node:os').cpus().length : 2;
const DEFAULT_THREADS = Math.max(1, Math.min(hardwareThreads, 4));

async function startCore({ threads, wasmBinary, simd, scriptUrl = SCRIPT_URL }) {
  if (typeof SharedArrayBuffer === 'undefined' || (typeof crossOriginIsolated !== 'undefined' && !crossOriginIsolated)) {
    throw new Error('sialoscan-mt.js needs a cross-origin-isolated page (served with the COOP/COEP headers, ' +
      'as tools/serve.mjs does); elsewhere load sialoscan-standalone.js');
  }
  const args = { sialoPoolSize: threads - 1 };      // Emscripten's pthread pool, started before the model loads
  const wasmFile = !wasmBinary && useRelaxedSimd(simd) ? 'sialoscan-mt.relaxed.wasm' : 'sialoscan-mt.wasm';
  if (wasmBinary) args.wasmBinary = wasmBinary;
  else if (isNode) args.wasmBinary = require('node:fs').readFileSync(require('node:path').join(__dirname, wasmFile));
  if (!isNode) {
    if (!scriptUrl) throw new Error('sialoscan-mt.js cannot tell its own URL: pass createSialoscan({ scriptUrl })');
    // sialoscan-mt(.relaxed).wasm, sialoscan-mt.worker.js
    args.locateFile = (file) => new URL(file === 'sialoscan-mt.wasm' ? wasmFile : file, scriptUrl).href;
    args.mainScriptUrlOrBlob = scriptUrl;                        // what each pthread worker imports
  }
  return createSialoscanModule(args);
}
`,
};

if (kind === 'single') {
  // the relaxed twin must fit this glue: the same imports and exports as the embedded wasm
  let relaxed = '';
  if (relaxedWasm) {
    const bytes = readFileSync(relaxedWasm);
    const embedded = /data:application\/octet-stream;base64,([A-Za-z0-9+/=]+)/.exec(readFileSync(core, 'utf8'));
    if (!embedded) throw new Error('make-standalone: no embedded wasm in the core');
    if (!sameInterface(Buffer.from(embedded[1], 'base64'), bytes)) throw new Error(`make-standalone: ${relaxedWasm} does not fit ${core}`);
    relaxed = bytes.toString('base64');
  }
  START.single = START.single.replace('@RELAXED_WASM_BASE64@', relaxed);
}

let src = readFileSync(api, 'utf8');
const edits = [
  [/^import createCoreDefault from '\.\/dist\/sialoscan-core\.mjs';\n/m, ''],
  [/^\/\/ ---- start the engine[\s\S]*?^\/\/ ---- end\n/m, START[kind]],
  [/^export async function createSialoscan\(/m, 'async function createSialoscan('],
  [/^export async function createTrainer\(/m, 'async function createTrainer('],
  [/^export default createSialoscan;\n/m, kind === 'mt'
    ? "if (typeof module === 'object' && module && module.exports) module.exports = { createSialoscan, createTrainer, createSialoscanModule };\n" +
      'else { globalThis.createSialoscan = createSialoscan; globalThis.createTrainer = createTrainer; }\n'
    : 'globalThis.createSialoscan = createSialoscan;\nglobalThis.createTrainer = createTrainer;\n'],
];
for (const [re, to] of edits) {
  if (!re.test(src)) throw new Error(`make-standalone: the API source no longer matches ${re}`);
  src = src.replace(re, to);
}
if (/^\s*(import|export)\s|import\.meta|import\(/m.test(src)) throw new Error('make-standalone: a module-only construct is left');

// Emscripten 3.1.6 fetch()es even the embedded data: URI of the wasm before decoding it itself; a
// page whose Content-Security-Policy says connect-src 'none' then logs a violation. Decode directly.
let engine = readFileSync(core, 'utf8');
if (kind === 'single') {
  const fetchData = 'if(typeof fetch=="function"){return fetch(wasmBinaryFile';
  if (engine.split(fetchData).length !== 2) throw new Error('make-standalone: the Emscripten loader no longer matches (wasm fetch)');
  engine = engine.replace(fetchData, 'if(typeof fetch=="function"&&!isDataURI(wasmBinaryFile)){return fetch(wasmBinaryFile');
}
const head = `// sialoscan ${kind === 'mt' ? 'pthreads build' : 'standalone'}: engine + JS API in one classic script ` +
  '(generated by tools/make-standalone.mjs from wasm/sialoscan.mjs; do not edit)\n';
// single: everything private in one function scope. mt: the core at the top level (a global in a
// page or worker, module-scoped under Node's CommonJS), the API in its own scope.
writeFileSync(out, kind === 'mt'
  ? `${head}${engine}\n(function () {\n${src}\n})();\n`
  : `${head}(function () {\n${engine}\n${src}\n})();\n`);
