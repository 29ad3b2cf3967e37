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
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

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
  copyFileSync(join(WEB, 'index.html'), join(OUT, 'index.html'));
  copyFileSync(join(WEB, 'style.css'), join(OUT, 'style.css'));
  // served, the engine worker fetches the model file itself (no base64 to parse); the scripts stay
  // for pages opened from disk and as the fallback
  // the release (wasm/package.json's version) and the model's CRC-32 (its header, bytes 24..27:
  // what the engine reports as info().checksum): web/build-info.js checks the engine and model against them
  const version = JSON.parse(readFileSync(join(ROOT, 'wasm', 'package.json'), 'utf8')).version;
  const checksum = model.length >= 32 ? model.readUInt32LE(24).toString(16).padStart(8, '0') : null;
  const build = { version, mt, relaxedProbe: relaxedProbe(), model: { name: basename(MODEL), parts: parts.length, file: basename(MODEL), checksum },
    backbone: backbone ? { name: basename(BACKBONE), parts: backboneParts.length } : null };
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
  writeFileSync(join(OUT, 'sialoscan-worker.js'), worker);
  writeFileSync(join(OUT, 'sialoscan-standalone.js'), standalone);
  // the Blob workers' source without its wasm (a twentieth of the text to read, parse and hand to
  // each worker); the page compiles the one wasm this browser runs and gives the module to them all
  const { engine, wasm } = splitWasm(standalone);
  writeFileSync(join(OUT, 'sialoscan-worker-source.js'), banner +
    `globalThis.SIALOSCAN_WORKER_SOURCE = ${JSON.stringify(`${engine}\n${worker}`)};\n`);
  for (const [kind, b64] of Object.entries(wasm)) {
    writeFileSync(join(OUT, `sialoscan-wasm-${kind}.js`), banner + `globalThis.SIALOSCAN_WASM = "${b64}";\n`);
  }
  writeFileSync(join(OUT, 'sialoscan-train-worker.js'), trainWorker);
  writeFileSync(join(OUT, 'sialoscan-train-worker-source.js'), banner +
    `globalThis.SIALOSCAN_TRAIN_WORKER_SOURCE = ${JSON.stringify(`${standalone}\n${trainWorker}`)};\n`);
  for (const f of mtFiles) copyFileSync(join(WASM, f), join(OUT, f));
  const files = readdirSync(OUT);
  const bytes = files.reduce((s, f) => s + readFileSync(join(OUT, f)).length, 0);
  console.log(`make-web: ${OUT} (${files.length} files, ${(bytes / 2 ** 20).toFixed(1)} MB; model ${basename(MODEL)}; ` +
    `${mt ? 'multi-threaded engine included' : 'single-threaded engine only'}; ` +
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
