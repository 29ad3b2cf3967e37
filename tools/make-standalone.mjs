// make-standalone.mjs — wasm/dist/sialoscan-standalone.js: the WebAssembly engine (embedded) and
// the JS API of wasm/sialoscan.mjs as ONE classic script that defines globalThis.createSialoscan.
// A page opened straight from disk (file://) cannot load ES modules or fetch a .wasm file; it can
// load this with <script src="sialoscan-standalone.js"></script>.
//   node tools/make-standalone.mjs CORE_CLASSIC_SINGLE.js API.mjs OUT.js
import { readFileSync, writeFileSync } from 'node:fs';

const [core, api, out] = process.argv.slice(2);
let src = readFileSync(api, 'utf8');
const edits = [
  [/^import createCoreDefault from '\.\/dist\/sialoscan-core\.mjs';\n/m, ''],
  [/\bcreateCoreDefault\b/g, 'createSialoscanModule'],
  [/^export async function createSialoscan\(/m, 'async function createSialoscan('],
  [/^export default createSialoscan;\n/m, 'globalThis.createSialoscan = createSialoscan;\n'],
  // the wasm is embedded: never read a .wasm file (and no import.meta in a classic script)
  [/^async function loadWasmBinary\(file\) \{\n[\s\S]*?\n\}\n/m, ''],
  [/else if \(isNode && factory === createSialoscanModule\) moduleArgs\.wasmBinary = await loadWasmBinary\('sialoscan-core\.wasm'\);\n/, ''],
];
for (const [re, to] of edits) {
  if (!re.test(src)) throw new Error(`make-standalone: the API source no longer matches ${re}`);
  src = src.replace(re, to);
}
if (/^\s*(import|export)\s|import\.meta/m.test(src)) throw new Error('make-standalone: a module-only construct is left');
// Emscripten 3.1.6 fetch()es even the embedded data: URI of the wasm before decoding it itself; a
// page whose Content-Security-Policy says connect-src 'none' then logs a violation. Decode directly.
let engine = readFileSync(core, 'utf8');
const fetchData = 'if(typeof fetch=="function"){return fetch(wasmBinaryFile';
if (engine.split(fetchData).length !== 2) throw new Error('make-standalone: the Emscripten loader no longer matches (wasm fetch)');
engine = engine.replace(fetchData, 'if(typeof fetch=="function"&&!isDataURI(wasmBinaryFile)){return fetch(wasmBinaryFile');
writeFileSync(out, `// sialoscan standalone: engine + JS API in one classic script (generated; see tools/make-standalone.mjs)\n` +
  `(function () {\n${engine}\n${src}\n})();\n`);
