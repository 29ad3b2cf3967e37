// app.js — the clinician's page: wires the drop zone, the engine worker, the result cards, the
// results table and the model panel. Every number and decision shown comes from the engine.
import { startEngine } from './engine-client.js';
import { loadShippedModel } from './shipped-model.js';
import { setupIntake } from './intake.js';
import { createCard } from './result-card.js';
import { resultsCsv, setupResultsTable } from './results-table.js';
import { showModel, setupModelInput } from './model-panel.js';
import { download } from './download.js';
import { setupTrainPanel } from './train-panel.js';
import { mixedBuilds, setupOffline } from './offline.js';
import { buildLine, codecsLine } from './build-info.js';

const MAX_SIDE = 480;          // pictures kept per card are at most this size (memory stays bounded over big batches)
const MAX_FILE = 256 << 20;    // bytes; the engine refuses images over 64 megapixels anyway
const DEFAULT_ALPHA = 0.45;    // the engine's default overlay opacity (SIALO_CAM_ALPHA)

const $ = (sel) => document.querySelector(sel);
const ui = {
  status: $('#engine-status'),
  pageStatus: $('#page-status'),
  zone: $('#dropzone'),
  input: $('#dropzone input[type=file]'),
  cards: $('#cards'),
  progress: $('#progress'),
  progressText: $('#progress-text'),
  exportCsv: $('#export-csv'),
  clear: $('#clear'),
  table: $('#results-table'),
  modelInfo: $('#model-info'),
  modelInput: $('[data-testid=model-input]'),
  modelMessage: $('#model-message'),
  skipped: $('#skipped'),
};

let engine = null;
let info = null;
let generation = 0;      // bumped by "clear": work of an older batch is dropped
let queue = [];          // { file, card }
let running = false;
let total = 0, finished = 0, failed = 0;
let skipped = [];        // "name: why" of files without an image (a scanner's DICOMDIR, reports, ...)
// a file of a dropped or picked folder without an image extension: DICOM by its bytes, or skipped
const inFolder = (f) => (f.sialoFromFolder || (f.webkitRelativePath || '').includes('/')) && !/\.(png|jpe?g|bmp|gif|dcm)$/i.test(f.name);
const table = setupResultsTable(ui.table);

performance.mark('sialoscan:app start');

function setProgress() {
  ui.progress.max = Math.max(1, total);
  ui.progress.value = finished;
  ui.progressText.textContent = total
    ? `${finished} of ${total} file${total === 1 ? '' : 's'} classified${failed ? `, ${failed} not readable` : ''}${finished < total ? '…' : '.'}`
    : 'No files yet.';
  ui.exportCsv.disabled = table.rows().length === 0;
  ui.clear.disabled = total === 0;
}

const stem = (name) => name.replace(/\.[^.]*$/, '');

async function saveOverlay(file, alpha, button, frame) {
  button.disabled = true;
  try {
    const r = await engine.overlay(await file.arrayBuffer(), alpha, frame);
    const c = document.createElement('canvas');
    c.width = r.width;
    c.height = r.height;
    c.getContext('2d').putImageData(new ImageData(new Uint8ClampedArray(r.rgba.buffer), r.width, r.height), 0, 0);
    const blob = await new Promise((ok) => c.toBlob(ok, 'image/png'));
    c.width = c.height = 0;
    download(blob, `${stem(file.name)}${frame ? `-frame${frame + 1}` : ''}-cam.png`);
  } catch (e) {
    button.textContent = `Cannot save: ${e.message}`;
  } finally {
    button.disabled = false;
  }
}

// send one file to the engine; resolves to { ok, r } or { ok: false, error } (never rejects)
function dispatch({ file, card }) {
  card.setStatus('classifying…');
  const run = async () => {
    if (file.size > MAX_FILE) throw new Error(`the file is ${(file.size / 2 ** 20).toFixed(0)} MB; files over ${MAX_FILE / 2 ** 20} MB are not read`);
    return engine.classify(await file.arrayBuffer(), MAX_SIDE, {
      progress: (done, all) => card.setStatus(`classifying frame ${done} of ${all}…`),
      inFolder: inFolder(file),
    });
  };
  return { file, card, gen: generation, checksum: info.checksum, result: run().then((r) => ({ ok: true, r }), (e) => ({ ok: false, error: e.message })) };
}

// a result on its card and in the table
function show(file, card, checksum, out) {
  const name = file.webkitRelativePath || file.name;
  if (!performance.getEntriesByName('sialoscan:first result').length) performance.mark('sialoscan:first result');
  if (out.ok && out.r.skipped) { // no image (a DICOMDIR, a report, ...): one line, no card
    card.node.remove();
    total--;
    skipped.push(`${name}: ${out.r.skipped}`);
    ui.skipped.hidden = false;
    ui.skipped.textContent = `Skipped ${skipped.length} file${skipped.length === 1 ? '' : 's'} without an image — ${skipped.join('; ')}`;
    setProgress();
    return;
  }
  if (out.ok) {
    const r = out.r;
    card.done(r, checksum);
    const frames = r.frames ? r.frames.length : 0;
    const row = table.add({ file: name, shown: frames > 1 ? `${name} (frame ${r.frame + 1} of ${frames})` : name,
                pMalignant: r.pMalignant, label: r.label, threshold: r.threshold, ms: r.ms, checksum, ood: r.ood });
    // a lesion box drawn on the row's frame goes into the CSV beside the whole frame's p
    card.onBoxResult((frame, b) => { if (frame === (r.frame || 0)) { row.box = b ? b.box : null; row.pBox = b ? b.pMalignant : null; } });
  } else {
    card.fail(out.error);
    failed++;
    table.add({ file: name, error: out.error, checksum });
  }
  finished++;
  setProgress();
}

// the WebAssembly memory of every engine worker (a worker whose memory a very large frame made
// grow is replaced by a fresh one: the sum comes back down); also window.__sialoscanMemory
function showMemory(m) {
  ui.status.dataset.heapBytes = String(m.totalBytes);
  ui.status.dataset.workers = String(m.workers.length);
  ui.status.dataset.recycled = String(m.recycled);
}

// one file more in flight than there are engine workers: each worker classifies its next file
// while the page draws a result; results are shown in the order the files were given
async function runQueue() {
  if (running || !engine) return; // files given before the engine is ready wait for it
  running = true;
  const depth = engine.workers + 1;
  const inFlight = [];
  while (queue.length && inFlight.length < depth) inFlight.push(dispatch(queue.shift()));
  while (inFlight.length) {
    const { file, card, gen, checksum, result } = inFlight.shift();
    if (queue.length) inFlight.push(dispatch(queue.shift()));
    const out = await result;
    if (gen === generation) show(file, card, checksum, out); // else: cleared meanwhile
    while (queue.length && inFlight.length < depth) inFlight.push(dispatch(queue.shift())); // files added meanwhile
  }
  running = false;
}

function addFiles(files) {
  if (!performance.getEntriesByName('sialoscan:first file').length) performance.mark('sialoscan:first file');
  for (const file of files) {
    const name = file.webkitRelativePath || file.name;
    const card = createCard(name, {
      defaultAlpha: DEFAULT_ALPHA,
      onSave: (alpha, button, frame) => saveOverlay(file, alpha, button, frame),
      onFrame: async (frame) => engine.classify(await file.arrayBuffer(), MAX_SIDE, { frame }),
      onBox: async (box, frame) => engine.classifyBox(await file.arrayBuffer(), box, frame),
      boxModes: () => info && info.input_modes,
    });
    ui.cards.append(card.node);
    queue.push({ file, card });
    total++;
  }
  setProgress();
  runQueue();
}

function clearAll() {
  generation++;
  queue = [];
  total = finished = failed = 0;
  skipped = [];
  ui.skipped.hidden = true;
  ui.skipped.textContent = '';
  ui.cards.replaceChildren(); // the canvases go with their cards
  table.clear();
  setProgress();
  ui.zone.focus();
}

function engineLabel(i, workers) {
  const e = i.engine || { build: 'single', threads: 1, simd: true };
  const t = e.threads > 1 ? `${e.threads} threads` : workers > 1 ? `${workers} workers of 1 thread, a frame each` : '1 thread';
  const why = e.threads > 1 ? 'cross-origin isolated' : globalThis.crossOriginIsolated ? 'single-threaded build' : 'page not cross-origin isolated';
  return `WebAssembly${e.relaxedSimd ? ' relaxed SIMD' : e.simd ? ' SIMD' : ''}, ${t} (${why})`;
}

// load another model into the engine worker (bytes: transferred); the model panel shows it
async function useModel(bytes, name) {
  if (!engine) throw new Error('the engine has not started');
  const r = await engine.loadModel(bytes.buffer);
  info = r.info;
  showModel(ui.modelInfo, info, name);
  $('#build-info').textContent = buildLine(globalThis.SIALOSCAN_BUILD || {}, info, name);
  return info;
}

// the page's own line under the engine's: a new version, or files of two versions
function sayPage(text, isError = false) {
  ui.pageStatus.textContent = text;
  ui.pageStatus.hidden = !text;
  ui.pageStatus.classList.toggle('failed', isError);
}

// page, engine and model of one build (a stale cache, a half-copied folder): the sentence, or null
function checkBuild(build, info) {
  const meta = document.querySelector('meta[name=sialoscan-build]')?.content;
  const page = mixedBuilds(build.id, { 'index.html': meta });
  if (page) return page;
  const want = build.model?.checksum, got = String(info?.checksum || '').toLowerCase();
  if (want && got && got !== want) {
    return `This page's model (checksum ${got}) is not the model it was built with (${want}): its files are of two different versions, so it does not run. ` +
      (location.protocol.startsWith('http') ? 'Reload the page; if this stays, clear this site\'s data in the browser\'s settings and reload.' : 'Copy the whole folder of one build again.');
  }
  return null;
}

async function main() {
  const build = globalThis.SIALOSCAN_BUILD || { mt: false };
  // served: the service worker keeps the folder for offline use (opened from disk: nothing)
  setupOffline(build, (text) => sayPage(text), () => total > 0 || !$('#train-stop').disabled);
  // the shipped model: opened from disk, only its scripts can bring it (loaded at once, beside the
  // engine's start); served, the engine worker fetches the file itself and the scripts load only
  // if that fails
  let shippedLoad = null;
  const shipped = () => {
    if (!shippedLoad) { shippedLoad = loadShippedModel(build.model); shippedLoad.catch(() => {}); } // (reported below)
    return shippedLoad;
  };
  if (location.protocol !== 'http:' && location.protocol !== 'https:') shipped();
  setupIntake(ui.zone, ui.input, addFiles);
  // the training panel: its trainer runs in a worker of its own; "Use this model" loads its result
  // into the engine worker, as "Load another model" does
  setupTrainPanel({ build, shippedModel: () => shipped().then((m) => m.bytes()), useModel: (bytes, name) => useModel(bytes, name) });
  ui.exportCsv.addEventListener('click', () => {
    const when = new Date().toISOString().slice(0, 16).replace(/[-:]/g, '').replace('T', '-');
    download(new Blob([resultsCsv(table.rows())], { type: 'text/csv' }), `sialoscan-results-${when}.csv`);
  });
  ui.clear.addEventListener('click', clearAll);
  setProgress();
  try {
    engine = await startEngine(() => shipped().then((m) => m.bytes()), build, { onMemory: showMemory });
  } catch (e) {
    const noModel = build.model ? await (shippedLoad || Promise.resolve()).then(() => null, (why) => why)
      : new Error('this page was built without a model');
    for (const { card } of queue.splice(0)) card.fail('the engine could not start (see the top of the page)');
    ui.status.textContent = e.mixed ? e.message : noModel
      ? `The model of this page cannot be read (${noModel.message}): rebuild it with \`make web\`.`
      : `The engine cannot start in this browser (it needs WebAssembly with SIMD: Chrome or Edge 91+, Firefox 89+, Safari 16.4+): ${e.message}`;
    ui.status.classList.add('failed');
    return;
  }
  info = engine.info;
  // the page, the engine and the shipped model must be of one build (footer: version and checksum)
  $('#build-info').textContent = buildLine(build, info);
  $('#codecs-info').textContent = codecsLine(info);
  const mixed = checkBuild(build, info); // the build id stamped into every file, and the model's checksum
  if (mixed) {
    for (const { card } of queue.splice(0)) card.fail('the page did not start: its files are not of one version (see the top of the page)');
    ui.status.textContent = mixed;
    ui.status.classList.add('failed');
    ui.status.dataset.versionMismatch = 'true';
    return;
  }
  const coldMs = performance.mark('sialoscan:ready').startTime;
  showModel(ui.modelInfo, info, `${build.model.name} (shipped with this page)`);
  ui.status.textContent = `Ready · ${engineLabel(info, engine.workers)} · started in ${Math.round(coldMs)} ms`;
  ui.status.dataset.ready = 'true';
  ui.status.dataset.coldStartMs = String(Math.round(coldMs));
  ui.status.dataset.threads = String(info.engine ? info.engine.threads : 1);
  ui.status.dataset.kernel = info.engine?.kernel ?? ''; // e.g. f32_gemm_4x8_relaxedsimd
  ui.status.dataset.poolSize = String(engine.workers);
  showMemory(engine.memory());
  ui.zone.classList.remove('disabled');
  runQueue();
  setupModelInput(ui.modelInput, useModel, (text, isError) => {
    ui.modelMessage.textContent = text;
    ui.modelMessage.classList.toggle('failed', isError);
  });
}

main();
