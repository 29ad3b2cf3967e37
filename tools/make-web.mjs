// make-web.mjs — `make web`: builds web/dist/, the clinician's page as a self-contained folder that
// works opened from disk (file://: classic scripts only, engine and model embedded, no fetch) and
// served by any static host (and by `make serve`, cross-origin isolated, with threads).
//
//   node tools/make-web.mjs [--model M.sialo] [--backbone B.sialo] [--out DIR]
//
// web/dist/
//   index.html, style.css          the page (copied)
//   sialoscan-app.js               web/app.js and the ES modules it imports, as one classic script
//   sialoscan-model-1.js … -N.js   the model, base64 in N classic scripts (a file:// page cannot
//                                  fetch): the browser reads and parses them in parallel, the page
//                                  decodes each as it arrives
//   sialoscan-worker.js            the engine worker (served: loads the engine with importScripts)
//   sialoscan-standalone.js        the single-threaded engine, wasm embedded
//   sialoscan-worker-source.js     worker + the engine's JS (no wasm) as one string: the page opened
//                                  from disk builds its workers from a Blob of it
//   sialoscan-wasm-relaxed.js, sialoscan-wasm-simd128.js
//                                  the engine's wasm (the relaxed-SIMD twin, the SIMD128 build), base64:
//                                  the page reads the one this browser runs, compiles it once and
//                                  gives the compiled module to every Blob worker
//   sialoscan-mt.*                 the multi-threaded engine, when it was built (used when isolated)
//   sialoscan-train-worker.js      the training panel's worker (served: loads the engine with importScripts)
//   sialoscan-train-worker-source.js  trainer worker + engine as one string (the Blob worker from disk),
//                                  loaded only when the panel starts a trainer
//   sialoscan-backbone-1.js … -N.js   the panel's ImageNet backbone (models/mobilenetv2-imagenet.sialo,
//                                  when it exists), base64 as the model is; loaded only when the panel uses it
//   manifest.webmanifest, icon-192.png, icon-512.png
//                                  the web app manifest and its icons (tools/make-icons.mjs draws them);
//                                  the page links the manifest only when served
//   sw.js                          the service worker (web/sw.js, registered only when served): it is
//                                  given every other file of the folder with its SHA-256, the version
//                                  (wasm/package.json, or --version V) and the build id
//
// The build id: the first 12 hex digits of the SHA-256 of the version and of every file written
// here (but sw.js). It is written into the page (index.html's sialoscan-build meta, SIALOSCAN_BUILD in
// sialoscan-app.js), the engine worker and the engine scripts (SIALOSCAN_WORKER_BUILD,
// SIALOSCAN_ENGINE_BUILD), beside the model's CRC-32: the page refuses to run files of two builds.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { ICON_SIZES, iconPng } from './make-icons.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const WEB = join(ROOT, 'web');
const OUT = resolve(opt('--out', join(WEB, 'dist')));
const MODEL = resolve(opt('--model', join(ROOT, 'models', 'sialoscan-busi.sialo')));
const BACKBONE = resolve(opt('--backbone', join(ROOT, 'models', 'mobilenetv2-imagenet.sialo')));
const WASM = join(ROOT, 'wasm', 'dist');
const VERSION = opt('--version', JSON.parse(readFileSync(join(ROOT, 'wasm', 'package.json'), 'utf8')).version);
const BUILD_ID = '@@SIALOSCAN_BUILD_ID@@'; // replaced by the build id once every file is written
const MODEL_PARTS = 4; // a 6 MB script took about twice as long to load as four 1.5 MB ones (Chromium, file://)

// the 37-byte module that validates only where relaxed SIMD is on (the JS API's own probe)
function relaxedProbe() {
  const m = /const RELAXED_PROBE = new Uint8Array\(\[([^\]]*)\]\)/.exec(readFileSync(join(ROOT, 'wasm', 'sialoscan.mjs'), 'utf8'));
  if (!m) throw new Error('make-web: wasm/sialoscan.mjs no longer has RELAXED_PROBE');
  return m[1].split(',').map((x) => Number(x.trim()));
}

const need = (p, hint) => {
  if (!existsSync(p)) throw new Error(`make-web: ${p} is missing (${hint})`);
  return p;
};

/** Bundle an ES module and the relative modules it imports into one classic script: each module
 * becomes a function scope returning its exports; imports become destructuring of those. */
export function bundle(entry) {
  const order = [], seen = new Set();
  const visit = (file) => {
    if (seen.has(file)) return;
    seen.add(file);
    const src = readFileSync(file, 'utf8');
    const imports = [];
    const body = src.replace(/^import\s*\{([^}]*)\}\s*from\s*'(\.\/[\w.-]+\.js)';[ \t]*\n/gm, (_, names, rel) => {
      const dep = join(dirname(file), rel);
      visit(dep);
      imports.push(`const {${names.replace(/\s+as\s+/g, ': ')}} = __modules[${JSON.stringify(basename(dep))}];`);
      return '';
    });
    const exported = [];
    const code = body.replace(/^export\s+((?:async\s+)?function\*?|const|let|class)\s+([\w$]+)/gm, (_, kind, name) => {
      exported.push(name);
      return `${kind} ${name}`;
    });
    if (/^\s*(import|export)\b|import\.meta/m.test(code)) throw new Error(`make-web: ${file}: an import or export form this bundler does not handle`);
    order.push(`__modules[${JSON.stringify(basename(file))}] = (() => {\n${imports.join('\n')}\n${code}\nreturn { ${exported.join(', ')} };\n})();`);
  };
  visit(entry);
  return `(() => {\n'use strict';\nconst __modules = {};\n${order.join('\n')}\n})();\n`;
}

/** The standalone engine (both wasms: the SIMD128 build embedded as the Emscripten loader's data
 * URI, its relaxed-SIMD twin in RELAXED_WASM_BASE64) cut in two: { engine: the JS without either
 * wasm, wasm: { relaxed, simd128 } (base64) }. The engine then needs createSialoscan({ wasmBinary })
 * (web/worker.js gives it the page's compiled module); the twin has the same imports and exports
 * (checked by tools/make-standalone.mjs), so either wasm fits the one loader. */
export function splitWasm(standalone) {
  const twin = /const RELAXED_WASM_BASE64 = '([A-Za-z0-9+/=]*)';/;
  const embedded = /(data:application\/octet-stream;base64,)([A-Za-z0-9+/=]+)/;
  const t = twin.exec(standalone), e = embedded.exec(standalone);
  if (!t || !e) throw new Error('make-web: the standalone engine no longer has its two embedded wasms');
  const engine = standalone.replace(twin, () => "const RELAXED_WASM_BASE64 = '';").replace(embedded, (_, head) => head);
  return { engine, wasm: { relaxed: t[1] || e[2], simd128: e[2] } };
}

const sha256 = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** Give the folder its build id (hash of the version and every file, the placeholder still in
 * them), put it in place of the placeholder, then write sw.js with the list of files and their
 * hashes (web/sw.js after one line). Returns the id. */
export function stampBuild(dir, version) {
  const names = readdirSync(dir).filter((f) => f !== 'sw.js').sort();
  const h = createHash('sha256').update(`sialoscan ${version}\n`);
  for (const f of names) h.update(`${f}\n`).update(sha256(readFileSync(join(dir, f)))).update('\n');
  const id = h.digest('hex').slice(0, 12);
  const files = {};
  for (const f of names) {
    let bytes = readFileSync(join(dir, f));
    if (/\.(js|html)$/.test(f) && bytes.includes(BUILD_ID)) {
      bytes = Buffer.from(bytes.toString('utf8').split(BUILD_ID).join(id));
      writeFileSync(join(dir, f), bytes);
    }
    files[f] = sha256(bytes);
  }
  writeFileSync(join(dir, 'sw.js'), `const SIALOSCAN_OFFLINE = ${JSON.stringify({ version, id, files })};\n` +
    readFileSync(join(WEB, 'sw.js'), 'utf8'));
  return id;
}

function main() {
  const standalone = readFileSync(need(join(WASM, 'sialoscan-standalone.js'), 'run `make wasm`'), 'utf8');
  const worker = readFileSync(join(WEB, 'worker.js'), 'utf8');
  const trainWorker = readFileSync(join(WEB, 'train-worker.js'), 'utf8');
  const backbone = existsSync(BACKBONE) ? readFileSync(BACKBONE) : null;
  const model = readFileSync(need(MODEL, 'the model to ship with the page'));
  const mtFiles = existsSync(WASM) ? readdirSync(WASM).filter((f) => /^sialoscan-mt\./.test(f)) : [];
  const mt = mtFiles.includes('sialoscan-mt.js');

  rmSync(OUT, { recursive: true, force: true });
  mkdirSync(OUT, { recursive: true });
  const banner = '// generated by tools/make-web.mjs from web/ — edit the sources there\n';
  const parts = Array.from({ length: MODEL_PARTS }, (_, i) => `sialoscan-model-${i + 1}.js`);
  const backboneParts = backbone ? Array.from({ length: MODEL_PARTS }, (_, i) => `sialoscan-backbone-${i + 1}.js`) : [];
  const page = readFileSync(join(WEB, 'index.html'), 'utf8');
  const tagged = page.replace(/(<meta name="sialoscan-build" content=")[^"]*(">)/, (_, a, b) => `${a}${BUILD_ID}${b}`);
  if (tagged === page) throw new Error('make-web: web/index.html no longer has its <meta name="sialoscan-build">');
  writeFileSync(join(OUT, 'index.html'), tagged);
  copyFileSync(join(WEB, 'manifest.webmanifest'), join(OUT, 'manifest.webmanifest'));
  for (const size of ICON_SIZES) writeFileSync(join(OUT, `icon-${size}.png`), iconPng(size));
  copyFileSync(join(WEB, 'style.css'), join(OUT, 'style.css'));
  // served, the engine worker fetches the model file itself (no base64 to parse); the scripts stay
  // for pages opened from disk and as the fallback
  // checksum: the CRC-32 of the model's payload (its header, bytes 24..27), as the engine's info() gives it
  const checksum = model.length >= 28 ? model.readUInt32LE(24).toString(16).padStart(8, '0') : null;
  const build = { id: BUILD_ID, version: VERSION, mt, relaxedProbe: relaxedProbe(),
    model: { name: basename(MODEL), parts: parts.length, file: basename(MODEL), checksum },
    backbone: backbone ? { name: basename(BACKBONE), parts: backboneParts.length } : null };
  const workerTag = `self.SIALOSCAN_WORKER_BUILD = ${JSON.stringify(BUILD_ID)};\n`;
  const engineTag = `self.SIALOSCAN_ENGINE_BUILD = ${JSON.stringify(BUILD_ID)};\n`;
  writeFileSync(join(OUT, basename(MODEL)), model);
  writeFileSync(join(OUT, 'sialoscan-app.js'), banner +
    `globalThis.SIALOSCAN_BUILD = ${JSON.stringify(build)};\n` + bundle(join(WEB, 'app.js')));
  // cut at whole base64 quads (3 bytes each) so that each part decodes on its own
  const writeParts = (bytes, names, global) => {
    const per = Math.ceil(bytes.length / 3 / names.length) * 3;
    names.forEach((p, i) => writeFileSync(join(OUT, p), banner +
      `(globalThis.${global} ||= [])[${i}] = "${bytes.subarray(i * per, (i + 1) * per).toString('base64')}";\n`));
  };
  writeParts(model, parts, 'SIALOSCAN_MODEL_PARTS');
  if (backbone) writeParts(backbone, backboneParts, 'SIALOSCAN_BACKBONE_PARTS');
  writeFileSync(join(OUT, 'sialoscan-worker.js'), workerTag + worker);
  writeFileSync(join(OUT, 'sialoscan-standalone.js'), engineTag + standalone);
  // the Blob workers' source without its wasm (a twentieth of the text to read, parse and hand to
  // each worker); the page compiles the one wasm this browser runs and gives the module to them all
  const { engine, wasm } = splitWasm(standalone);
  writeFileSync(join(OUT, 'sialoscan-worker-source.js'), banner +
    `globalThis.SIALOSCAN_WORKER_SOURCE = ${JSON.stringify(`${workerTag}${engineTag}${engine}\n${worker}`)};\n`);
  for (const [kind, b64] of Object.entries(wasm)) {
    writeFileSync(join(OUT, `sialoscan-wasm-${kind}.js`), banner + `globalThis.SIALOSCAN_WASM = "${b64}";\n`);
  }
  writeFileSync(join(OUT, 'sialoscan-train-worker.js'), trainWorker);
  writeFileSync(join(OUT, 'sialoscan-train-worker-source.js'), banner +
    `globalThis.SIALOSCAN_TRAIN_WORKER_SOURCE = ${JSON.stringify(`${standalone}\n${trainWorker}`)};\n`);
  for (const f of mtFiles) {
    if (f === 'sialoscan-mt.js') writeFileSync(join(OUT, f), engineTag + readFileSync(join(WASM, f), 'utf8'));
    else copyFileSync(join(WASM, f), join(OUT, f));
  }
  const id = stampBuild(OUT, VERSION);
  const files = readdirSync(OUT);
  const bytes = files.reduce((s, f) => s + readFileSync(join(OUT, f)).length, 0);
  console.log(`make-web: ${OUT} (${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MB; model ${basename(MODEL)}; ` +
    `version ${VERSION}, build ${id}; ${mt ? 'multi-threaded engine included' : 'single-threaded engine only'}; ` +
    `${backbone ? `training backbone ${basename(BACKBONE)}` : `no ImageNet backbone for the training panel (${BACKBONE} is absent)`}). Open ${join(OUT, 'index.html')} or run \`make serve\`.`);
}

if (resolve(process.argv[1] || '') === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (e) {
    console.error(e.message);
    process.exit(1);
  }
}
