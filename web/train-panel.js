// train-panel.js — the panel "Train on your own images": a clinician drops (or picks) one folder with
// benign/ and malignant/ sub-folders and fine-tunes a network in this tab. The engine does all the
// work (decoding, folds, training, cross-validation, calibration) in a trainer worker of its own
// (trainer-client.js), so the page goes on classifying frames meanwhile; this file lists what was
// found, draws progress and curves, keeps every checkpoint in the browser's storage (train-store.js)
// and shows the result: the cross-validation table, the ROC curve and reliability diagram of the
// pooled out-of-fold predictions, "Use this model", "Download model", "Download report".
// Nothing here reaches the network; the ImageNet backbone's scripts load only once the panel is used.
import { droppedTree } from './intake.js';
import { download } from './download.js';
import { startTrainer, trainingThreads } from './trainer-client.js';
import { loadRun, saveRun, forgetRun, storageEstimate, isQuotaError, checkpointWriter } from './train-store.js';
import { loadImagenetBackbone, firstNetwork } from './backbone.js';
import { epochPlot, rocCurve, reliability, calibrate, isMalignant, rocPlot, reliabilityPlot, PALETTE } from './train-plots.js';
import { cvTable, calibrationText, reportHtml } from './train-report.js';

const MAX_BYTES = 1 << 30;          // the frames' memory in the engine (8-bit pixels at the training size)
const MAX_KEPT_BACKBONE = 64 << 20; // a backbone file chosen by the clinician is kept with its checkpoint up to this size
const BATCH = 16;

const $ = (sel) => document.querySelector(sel);
const mb = (n) => (n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GB` : `${(n / 2 ** 20).toFixed(1)} MB`);
const plural = (n, one, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "about 3 min left" */
export function etaText(s) {
  if (!Number.isFinite(s) || s < 0) return 'time left: estimating…';
  if (s < 60) return `about ${Math.max(1, Math.round(s))} s left`;
  if (s < 3600) return `about ${Math.round(s / 60)} min left`;
  const h = Math.floor(s / 3600), m = Math.round((s % 3600) / 60);
  return `about ${h} h ${m} min left`;
}

/** The folder's root and its files' paths from it: [{ path, file }] where path is "benign/p017/a.png".
 * Paths given start at the chosen or dropped folder ("busi/benign/a.png"): when they all share one
 * first folder, that is the root (its name is the data set's name). */
export function folderOf(items, fallbackName = 'dropped folder') {
  const files = items.filter(({ path }) => !path.split('/').some((part) => part.startsWith('.')));
  const first = new Set(files.map(({ path }) => (path.includes('/') ? path.split('/')[0] : '')));
  if (first.size === 1 && !first.has('')) {
    const [root] = first;
    return { name: root, files: files.map(({ path, file }) => ({ path: path.slice(root.length + 1), file })) };
  }
  return { name: fallbackName, files };
}

const byPath = (a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** Wire the panel. opts: { build, useModel(bytes, name) -> Promise<info>, shippedModel() -> Promise<Uint8Array> } */
export function setupTrainPanel({ build, useModel, shippedModel }) {
  const ui = {
    drop: $('#train-drop'), folderInput: $('#train-folder'), found: $('#train-found'),
    starts: Array.from(document.querySelectorAll('input[name=train-start]')), backboneInput: $('#train-backbone'), backboneName: $('#train-backbone-name'),
    method: $('#train-method'), cv: $('#train-cv'), seed: $('#train-seed'), schedule: $('#train-schedule-text'), scheduleBox: $('.train-schedule'),
    start: $('#train-start'), stop: $('#train-stop'), resume: $('#train-resume'), forget: $('#train-forget'),
    use: $('#train-use'), downloadModel: $('#train-download-model'), downloadReport: $('#train-download-report'),
    threads: $('#train-threads'), kept: $('#train-kept'), bar: $('#train-progress'), progressText: $('#train-progress-text'),
    lossPlot: $('#train-loss-plot'), aucPlot: $('#train-auc-plot'), message: $('#train-message'), storage: $('#train-storage'),
    results: $('#train-results'), table: $('#train-table'), roc: $('#train-roc'), reliability: $('#train-reliability'), decision: $('#train-decision'),
  };
  const where = trainingThreads(build);
  const s = {
    folder: null,        // { name, files: [{ path, file }], bytes }
    summary: null,       // the engine's summary of the folder
    trainer: null,       // the trainer worker (with the folder's frames) and what it was made with
    trainerKey: '',
    busy: false,         // reading a folder or training
    running: false,
    backboneFile: null,  // { name, bytes } chosen with "Backbone file"
    kept: null,          // the record in the browser's storage
    checkpoint: null,    // the last checkpoint of this session's run (also when the storage refused it)
    history: {},         // fold -> { loss: [], auc: [] } per epoch
    lastP: null,
    result: null,        // the finished run's result, and what it was trained from
    resultInfo: null,
    started: 0,
    runId: 0,            // the run in progress; stoppedRun: the one "Stop" ended
    stoppedRun: -1,
  };
  if (!build.backbone) {
    const r = ui.starts.find((x) => x.value === 'imagenet');
    r.disabled = true;
    r.parentElement.title = 'this page was built without the ImageNet backbone';
    r.nextElementSibling.textContent += ' — not built into this page';
    ui.starts.find((x) => x.value === 'file').checked = true;
  }
  ui.threads.textContent = `A run trains on ${where.why}.`;
  ui.threads.dataset.threads = String(where.threads);

  const say = (text, isError = false) => {
    ui.message.textContent = text;
    ui.message.classList.toggle('failed', isError);
    ui.message.setAttribute('role', isError ? 'alert' : 'status');
  };

  // ---------------------------------------------------------------- buttons
  const canTrain = () => !!s.folder && !!s.summary && !s.summary.problem;
  const keptCheckpoint = () => (s.kept && !s.kept.result && s.kept.checkpoint) || null;
  function buttons() {
    ui.start.disabled = s.busy || !canTrain();
    ui.stop.disabled = !s.running;
    ui.resume.disabled = s.busy || !s.folder || !(keptCheckpoint() || s.checkpoint);
    ui.forget.disabled = s.busy || !s.kept;
    ui.use.disabled = s.busy || !s.result?.model;
    ui.downloadModel.disabled = !s.result?.model;
    ui.downloadReport.disabled = !s.result;
    ui.folderInput.disabled = s.busy;
    ui.drop.classList.toggle('disabled', s.busy);
    ui.drop.setAttribute('aria-disabled', String(s.busy));
    for (const el of [...ui.starts, ui.backboneInput, ui.method, ui.cv, ui.seed, ui.schedule]) el.disabled = s.busy || (el.value === 'imagenet' && !build.backbone);
  }

  // ---------------------------------------------------------------- storage
  async function showStorage() {
    const e = await storageEstimate();
    ui.storage.textContent = e ? `This browser's storage for this page: ${mb(e.usage)} used of ${mb(e.quota)} available.` : '';
    if (e) { ui.storage.dataset.usage = String(e.usage); ui.storage.dataset.quota = String(e.quota); }
  }
  const where1 = (p) => (p ? `${p.fold ? `fold ${p.fold} of ${p.folds}` : 'the final model'}, stage ${p.stage} of ${p.stages}, epoch ${p.epoch}` : 'the start');
  function describeKept() {
    const r = s.kept;
    if (!r) { ui.kept.textContent = ''; delete ui.kept.dataset.saved; delete ui.kept.dataset.finished; return; }
    const when = new Date(r.savedAt).toLocaleString();
    const data = `“${r.dataset.name}” (${plural(r.dataset.frames, 'frame')})`;
    ui.kept.dataset.saved = String(r.savedAt);
    ui.kept.dataset.finished = String(!!r.result);
    if (s.running && !r.result) {
      ui.kept.textContent = `Checkpoint kept in this browser: ${where1(r.progress)} of the run on ${data} (${when}).`;
      return;
    }
    ui.kept.textContent = r.result
      ? `Kept in this browser: the finished run on ${data}, ${when}. "Forget" deletes it.`
      : `Kept in this browser: a run on ${data} stopped at ${where1(r.progress)} (${when}). ` +
        `${s.folder ? 'Press "Resume" to continue it' : 'Choose or drop the same folder, then press "Resume"'}; "Forget" deletes it.`;
  }
  const writer = checkpointWriter((record) => {
    s.kept = record;
    ui.storage.classList.remove('failed');
    describeKept();
    buttons();
    showStorage();
  }, (e, record) => {
    const what = record.result ? 'the finished run' : `the checkpoint of ${where1(record.progress)}`;
    ui.storage.textContent = isQuotaError(e)
      ? `The browser's storage is full: ${what} could not be kept (${e.name || 'QuotaExceededError'}). ` +
        `${record.result ? 'Download the model and the report now' : 'The run goes on, and "Stop" then "Resume" still work in this tab, but a reload would lose it'}: ` +
        'free space ("Forget", or other sites\' data in the browser\'s settings).'
      : `${what[0].toUpperCase()}${what.slice(1)} could not be kept in the browser's storage: ${e.message}`;
    ui.storage.classList.add('failed');
    ui.storage.setAttribute('role', 'alert');
  });

  // ---------------------------------------------------------------- the form
  const startKind = () => ui.starts.find((x) => x.checked)?.value;
  const options = () => ({
    cv: Number(ui.cv.value), method: ui.method.value, schedule: ui.schedule.value.trim() || null, seed: Number(ui.seed.value), batch: BATCH,
  });
  function setForm(o, backbone) {
    ui.cv.value = String(o.cv);
    ui.method.value = o.method;
    ui.seed.value = String(o.seed);
    ui.schedule.value = o.schedule || '';
    if (o.schedule) ui.scheduleBox.open = true;
    if (backbone) {
      const r = ui.starts.find((x) => x.value === backbone.kind);
      if (r && !r.disabled) r.checked = true;
      if (backbone.kind === 'file' && backbone.bytes) {
        s.backboneFile = { name: backbone.name, bytes: new Uint8Array(backbone.bytes) };
        ui.backboneName.textContent = backbone.name;
      }
    }
  }
  function checkOptions(o) {
    if (!Number.isInteger(o.cv) || o.cv < 2 || o.cv > 10) return 'Cross-validation folds: a whole number from 2 to 10.';
    if (!Number.isInteger(o.seed) || o.seed < 0) return 'Seed: a whole number, 0 or more.';
    return null;
  }
  ui.backboneInput.addEventListener('change', async () => {
    const f = ui.backboneInput.files?.[0];
    ui.backboneInput.value = '';
    if (!f) return;
    s.backboneFile = { name: f.name, bytes: new Uint8Array(await f.arrayBuffer()) };
    ui.backboneName.textContent = `${f.name} (${mb(f.size)})`;
    ui.starts.find((x) => x.value === 'file').checked = true;
  });

  // the starting point chosen: { kind, name, bytes(): Uint8Array (a fresh copy, to transfer) }
  let shippedNet = null;
  async function backbone(kind = startKind()) {
    if (kind === 'imagenet') {
      const m = await loadImagenetBackbone(build.backbone);
      return { kind, name: m.name, bytes: () => m.bytes() };
    }
    if (kind === 'shipped') {
      shippedNet ||= shippedModel().then((m) => firstNetwork(m, `network 1 of ${build.model?.name || 'the shipped model'}, the page's starting point`));
      shippedNet.catch(() => { shippedNet = null; });
      const net = await shippedNet;
      return { kind, name: `${(build.model?.name || 'shipped').replace(/\.sialo$/, '')}-network-1.sialo`, bytes: () => net.slice() };
    }
    if (!s.backboneFile) throw new Error('choose a backbone file first ("Backbone file"), or another starting point');
    const f = s.backboneFile;
    return { kind: 'file', name: f.name, size: f.bytes.length, bytes: () => f.bytes.slice(), keep: f.bytes.length <= MAX_KEPT_BACKBONE ? f.bytes : null };
  }

  // ---------------------------------------------------------------- the folder
  function showSummary(sum, folder) {
    const lines = [];
    const p = (text, cls) => { const e = document.createElement('p'); e.textContent = text; if (cls) e.className = cls; lines.push(e); return e; };
    p(`Found in “${folder.name}”: ${plural(sum.frames, 'frame')} — ${sum.benign} benign, ${sum.malignant} malignant; ` +
      `${plural(sum.groups, 'group')}, ${plural(sum.masks, 'mask')}, ${plural(sum.conflicts, 'label conflict')}; ` +
      `${plural(sum.ignored, 'file')} ignored, ${sum.refused.length} refused (${mb(sum.bytes)} of frames in memory).`).dataset.testid = 'train-summary';
    if (sum.refused.length) {
      const ul = document.createElement('ul');
      ul.className = 'refused';
      for (const r of sum.refused) {
        const li = document.createElement('li');
        li.textContent = `${r.path}: ${r.reason}`;
        ul.append(li);
      }
      lines.push(ul);
    }
    if (sum.problem) {
      const e = p(`This folder cannot be trained on: ${sum.problem}`, 'failed');
      e.setAttribute('role', 'alert');
      e.dataset.testid = 'train-problem';
    }
    ui.found.replaceChildren(...lines);
  }

  const keyOf = (b) => `${b.kind}:${b.name}:${b.size}:${s.folder?.name}:${s.folder?.files.length}`;
  function dropTrainer() {
    s.trainer?.terminate();
    s.trainer = null;
    s.trainerKey = '';
  }

  // a trainer worker holding the folder's frames, made from the chosen starting point
  async function trainerFor(kind) {
    const b = await backbone(kind);
    if (s.trainer && s.trainerKey === keyOf(b)) return { trainer: s.trainer, b };
    dropTrainer();
    ui.progressText.textContent = `Starting the trainer (${b.name})…`;
    const t = await startTrainer({ mt: where.mt, threads: where.threads, backbone: b.bytes(), backboneName: b.name, dataName: s.folder.name, maxBytes: MAX_BYTES });
    try {
      const sum = await t.add(s.folder.files, (done, total) => { ui.progressText.textContent = `Reading the folder: ${done} of ${total} files…`; });
      s.summary = sum;
      showSummary(sum, s.folder);
    } catch (e) {
      t.terminate();
      throw e;
    }
    ui.threads.textContent = `A run trains on ${t.engine.threads > 1 ? `${t.engine.threads} threads (every core: the page is cross-origin isolated)` : where.why}.`;
    ui.threads.dataset.threads = String(t.engine.threads);
    s.trainer = t;
    s.trainerKey = keyOf(b);
    return { trainer: t, b };
  }

  async function takeFolder(items, fallbackName) {
    if (s.busy) return;
    const folder = folderOf(items, fallbackName);
    folder.files.sort(byPath);
    folder.bytes = folder.files.reduce((n, f) => n + f.file.size, 0);
    dropTrainer();
    s.folder = folder;
    s.summary = null;
    ui.found.textContent = `Reading “${folder.name}” (${plural(folder.files.length, 'file')}, ${mb(folder.bytes)})…`;
    say('');
    s.busy = true;
    buttons();
    try {
      await trainerFor();
      ui.progressText.textContent = s.summary.problem ? 'No run: see what was found.' : (s.result ? ui.progressText.textContent : 'Ready to train.');
      if (s.summary.problem) dropTrainer(); // its memory back: nothing to train on
    } catch (e) {
      s.summary = null;
      ui.found.textContent = '';
      say(`The folder could not be read: ${e.message}`, true);
      ui.progressText.textContent = 'No run yet.';
    } finally {
      s.busy = false;
      describeKept();
      buttons();
    }
  }

  ui.folderInput.addEventListener('change', () => {
    const files = Array.from(ui.folderInput.files || []);
    ui.folderInput.value = '';
    if (files.length) takeFolder(files.map((file) => ({ file, path: file.webkitRelativePath || file.name })));
  });
  ui.drop.addEventListener('click', (ev) => { if (ev.target !== ui.folderInput && !s.busy) ui.folderInput.click(); });
  ui.drop.addEventListener('keydown', (ev) => {
    if (ev.target === ui.drop && (ev.key === 'Enter' || ev.key === ' ')) {
      ev.preventDefault();
      if (!s.busy) ui.folderInput.click();
    }
  });
  const over = (on) => (ev) => { ev.preventDefault(); ui.drop.classList.toggle('dragging', on); };
  ui.drop.addEventListener('dragenter', over(true));
  ui.drop.addEventListener('dragover', over(true));
  ui.drop.addEventListener('dragleave', over(false));
  ui.drop.addEventListener('drop', async (ev) => {
    ev.preventDefault();
    ev.stopPropagation();
    ui.drop.classList.remove('dragging');
    const items = await droppedTree(ev.dataTransfer);
    if (items.length) takeFolder(items);
  });

  // ---------------------------------------------------------------- progress and curves
  function setBar(done, text) {
    const pct = Math.round(100 * Math.max(0, Math.min(1, done)));
    ui.bar.setAttribute('aria-valuenow', String(pct));
    ui.bar.setAttribute('aria-valuetext', text);
    ui.bar.firstElementChild.style.width = `${pct}%`;
  }
  function drawCurves() {
    const folds = Object.keys(s.history).map(Number).sort((a, b) => (a === 0) - (b === 0) || a - b);
    const series = (key) => folds.map((f, i) => ({ name: f ? `fold ${f}` : 'final', values: s.history[f][key], color: f ? PALETTE[i % PALETTE.length] : '#1b2330' }));
    ui.lossPlot.replaceChildren(epochPlot({ title: 'Training loss per epoch', yLabel: 'loss', series: series('loss') }));
    ui.aucPlot.replaceChildren(epochPlot({ title: 'Validation AUC per epoch', yLabel: 'AUC (inner validation)', series: series('auc'), yRange: [0, 1] }));
  }
  function progressLine(p) {
    const part = p.fold ? `fold ${p.fold} of ${p.folds}` : 'final model (every frame)';
    if (p.kind === 'start') return [part, 'starting', etaText(p.etaS)].join(' · '); // a fold (or the final model) begins
    const bits = [part, `stage ${p.stage} of ${p.stages}${p.stageName ? ` (${p.stageName})` : ''}`, `epoch ${p.epoch} of ${p.epochs}`];
    if (p.kind === 'batch' && p.batches) bits.push(`batch ${p.batch} of ${p.batches}`);
    if (Number.isFinite(p.loss)) bits.push(`loss ${p.loss.toFixed(3)}`);
    if (Number.isFinite(p.imagesPerS) && p.imagesPerS > 0) bits.push(`${p.imagesPerS.toFixed(p.imagesPerS < 10 ? 1 : 0)} images/s`);
    bits.push(etaText(p.etaS));
    return bits.join(' · ');
  }
  function onProgress(p) {
    s.lastP = p;
    const line = progressLine(p);
    ui.progressText.textContent = `Training: ${line}`;
    Object.assign(ui.progressText.dataset, { fold: String(p.fold), stage: String(p.stage), epoch: String(p.epoch), eta: String(Math.round(p.etaS ?? -1)) });
    if (p.heapBytes > 0) { // the trainer worker's WebAssembly memory (it grows, never shrinks, until the worker ends)
      s.peakHeap = Math.max(s.peakHeap || 0, p.heapBytes);
      ui.progressText.dataset.peakHeapBytes = String(s.peakHeap);
    }
    setBar(p.done ?? 0, line);
    if (p.kind === 'epoch') {
      const h = (s.history[p.fold] ||= { loss: [], auc: [] });
      h.loss.push(Number.isFinite(p.loss) ? p.loss : NaN);
      h.auc.push(Number.isFinite(p.valAuc) ? p.valAuc : NaN);
      drawCurves();
    }
  }

  // ---------------------------------------------------------------- a run
  let base = null; // what every kept record of this run says: the data set, options, starting point
  async function run({ resumeFrom = null, kind, opts }) {
    const me = ++s.runId;
    s.busy = s.running = true;
    buttons();
    say('');
    ui.results.hidden = !s.result;
    let t, b;
    try {
      ({ trainer: t, b } = await trainerFor(kind));
      if (s.summary.problem) throw new Error(s.summary.problem);
    } catch (e) {
      s.busy = s.running = false;
      say(`The run could not start: ${e.message}`, true);
      buttons();
      return;
    }
    s.result = null;
    ui.results.hidden = true;
    buttons();
    base = {
      dataset: { name: s.folder.name, frames: s.summary.frames, benign: s.summary.benign, malignant: s.summary.malignant, files: s.folder.files.length, bytes: s.folder.bytes },
      options: opts,
      backbone: { kind: b.kind, name: b.name, bytes: b.keep || null },
      threads: t.engine.threads,
    };
    s.started = performance.now();
    s.peakHeap = 0;
    ui.progressText.textContent = resumeFrom ? 'Resuming from the kept checkpoint…' : 'Training: starting…';
    const log = [];
    try {
      const result = await t.run(opts, resumeFrom, {
        progress: onProgress,
        checkpoint: (bytes) => {
          s.checkpoint = bytes;
          writer.put({ ...base, checkpoint: bytes, savedAt: Date.now(), progress: s.lastP, history: s.history });
        },
        log: (line) => log.push(line),
      });
      const minutes = (performance.now() - s.started) / 60000;
      s.result = result;
      s.resultInfo = { ...base, minutes, finishedAt: Date.now() };
      s.checkpoint = null;
      setBar(1, 'finished');
      const mem = s.peakHeap ? `, ${Math.round(s.peakHeap / 2 ** 20)} MB of engine memory at most` : '';
      ui.progressText.textContent = `Finished in ${minutes < 1 ? `${Math.round(minutes * 60)} s` : `${minutes.toFixed(1)} min`} on ${plural(t.engine.threads, 'thread')}${mem}.`;
      showResult();
      say(result.model ? 'The run is finished: "Use this model" classifies the page\'s frames with it; download the model and the report to keep them.' : 'The run is finished.');
      writer.put({ ...base, checkpoint: null, savedAt: Date.now(), progress: s.lastP, history: s.history, result: { ...result }, resultInfo: s.resultInfo });
    } catch (e) {
      if (s.stoppedRun === me) return; // "Stop" says what happened
      say(`The run stopped: ${e.message}${s.checkpoint || keptCheckpoint() ? ' — the last checkpoint is kept: "Resume" continues from it.' : ''}`, true);
    } finally {
      dropTrainer(); // the trainer worker ends with its run: its memory goes back to the browser
      if (s.stoppedRun !== me) { s.busy = s.running = false; buttons(); }
    }
  }

  ui.start.addEventListener('click', () => {
    const opts = options();
    const bad = checkOptions(opts);
    if (bad) { say(bad, true); return; }
    s.history = {};
    s.checkpoint = null;
    drawCurves();
    setBar(0, 'starting');
    run({ opts, kind: startKind() });
  });

  ui.stop.addEventListener('click', async () => {
    if (!s.running) return;
    s.stoppedRun = s.runId;
    dropTrainer(); // the run cannot hear a message while it computes: its worker ends here
    await writer.flush();
    s.busy = s.running = false;
    ui.progressText.textContent = `Stopped at ${where1(s.lastP)}.`;
    say(s.checkpoint
      ? `Stopped. The checkpoint of ${where1(s.kept?.progress || s.lastP)} is kept${s.kept?.checkpoint ? ' in this browser\'s storage' : ' in this tab'}: "Resume" continues from it.`
      : 'Stopped before the first epoch ended: there is no checkpoint to resume from.');
    describeKept();
    buttons();
  });

  ui.resume.addEventListener('click', () => {
    const kept = keptCheckpoint();
    const from = s.checkpoint || kept;
    if (!from) return;
    const rec = s.checkpoint ? base : s.kept;
    if (!s.checkpoint) {
      setForm(rec.options, rec.backbone);
      s.history = rec.history || {};
      s.lastP = rec.progress || null;
    }
    drawCurves();
    run({ opts: rec.options, kind: rec.backbone.kind, resumeFrom: from });
  });

  ui.forget.addEventListener('click', async () => {
    await writer.flush();
    try {
      await forgetRun();
      s.kept = null;
      s.checkpoint = null;
      say('The kept run is deleted from this browser\'s storage.');
    } catch (e) {
      say(`The kept run could not be deleted: ${e.message}`, true);
    }
    describeKept();
    buttons();
    showStorage();
  });

  // ---------------------------------------------------------------- the result
  let figures = null;
  function showResult() {
    const r = s.result;
    ui.table.replaceChildren(cvTable(r));
    const oof = r.oof || [];
    const p = oof.map((o) => Number(o.p ?? o.p_malignant)), y = oof.map((o) => isMalignant(o.label));
    const roc = rocCurve(p, y);
    const sets = [{ name: 'raw p', rel: reliability(p, y) }];
    const c = r.calibration;
    if (c && Number.isFinite(c.a)) sets.push({ name: 'calibrated p', rel: reliability(p.map((v) => calibrate(v, c.a, c.b)), y) });
    figures = [];
    if (roc) figures.push(rocPlot(roc));
    if (oof.length) figures.push(reliabilityPlot(sets));
    ui.roc.replaceChildren(...(roc ? [figures[0]] : []));
    ui.reliability.replaceChildren(...(oof.length ? [figures[figures.length - 1]] : []));
    const cv = r.cv;
    const rows = [
      ["Youden's threshold (pooled out-of-fold p)", cv ? `p_raw ≥ ${cv.youden_threshold?.toFixed(4)}` +
        (cv.pooled_at_youden ? `: sensitivity ${cv.pooled_at_youden.sensitivity?.toFixed(3)}, specificity ${cv.pooled_at_youden.specificity?.toFixed(3)}` : '') : '—'],
      ['Pooled out-of-fold AUC (this page, from the predictions)', roc ? `${roc.auc.toFixed(3)} (${roc.pos} malignant, ${roc.neg} benign frames)` : '—'],
      ['Calibration', calibrationText(c)],
      ['Trained from', `${s.resultInfo.backbone.name} on “${s.resultInfo.dataset.name}” (${plural(s.resultInfo.dataset.frames, 'frame')}), method ${s.resultInfo.options.method}, ` +
        `${s.resultInfo.options.cv} folds, seed ${s.resultInfo.options.seed}${s.resultInfo.options.schedule ? ', own schedule' : ''}`],
    ];
    ui.decision.replaceChildren(...rows.flatMap(([k, v]) => {
      const dt = document.createElement('dt'); dt.textContent = k;
      const dd = document.createElement('dd'); dd.textContent = v;
      return [dt, dd];
    }));
    ui.results.hidden = false;
    buttons();
  }

  const modelName = () => `${s.resultInfo.dataset.name.replace(/[^\w.-]+/g, '_')}-sialoscan.sialo`;
  ui.use.addEventListener('click', async () => {
    if (!s.result?.model) return;
    ui.use.disabled = true;
    try {
      const info = await useModel(s.result.model.slice(), `${modelName()} (trained in this browser on “${s.resultInfo.dataset.name}”)`);
      say(`The page now classifies with the model trained on “${s.resultInfo.dataset.name}” (checksum ${info.checksum}): drop frames above.`);
    } catch (e) {
      say(`The engine refused the trained model: ${e.message}`, true);
    } finally {
      buttons();
    }
  });
  ui.downloadModel.addEventListener('click', () => {
    if (s.result?.model) download(new Blob([s.result.model], { type: 'application/octet-stream' }), modelName());
  });
  ui.downloadReport.addEventListener('click', () => {
    const r = s.result, i = s.resultInfo;
    if (!r) return;
    const o = i.options;
    const html = reportHtml({
      title: `sialoscan training report — ${i.dataset.name}`,
      facts: [
        ['Data', `“${i.dataset.name}”: ${plural(i.dataset.frames, 'frame')} (${i.dataset.benign} benign, ${i.dataset.malignant} malignant) from ${plural(i.dataset.files, 'file')}`],
        ['Starting point', i.backbone.name],
        ['Method', `${o.method}, ${o.cv}-fold cross-validation, seed ${o.seed}, batch ${o.batch}`],
        ['Schedule', o.schedule || "the method's default"],
        ['Computed', `${new Date(i.finishedAt).toLocaleString()}, ${plural(i.threads, 'thread')}, ${i.minutes ? `${i.minutes.toFixed(1)} min` : ''}`],
        ...Array.from(ui.decision.children).reduce((acc, el, k, all) => (k % 2 ? acc : [...acc, [el.textContent, all[k + 1].textContent]]), []),
      ],
      table: cvTable(r),
      figures: figures || [],
      notes: [],
      oofCsv: r.oofCsv || '',
      csvName: `${i.dataset.name.replace(/[^\w.-]+/g, '_')}-oof.csv`,
      log: r.log || [],
    });
    download(new Blob([html], { type: 'text/html' }), `${i.dataset.name.replace(/[^\w.-]+/g, '_')}-training-report.html`);
  });

  // ---------------------------------------------------------------- after a reload
  buttons();
  drawCurves();
  showStorage();
  loadRun().then((r) => {
    if (!r || s.kept || s.busy) return;
    s.kept = r;
    setForm(r.options, r.backbone);
    s.history = r.history || {};
    s.lastP = r.progress || null;
    drawCurves();
    if (r.result) {
      s.result = { ...r.result, model: r.result.model ? new Uint8Array(r.result.model) : null };
      s.resultInfo = r.resultInfo;
      setBar(1, 'finished');
      ui.progressText.textContent = 'The kept run is finished.';
      showResult();
    } else if (r.progress) {
      setBar(r.progress.done ?? 0, `stopped at ${where1(r.progress)}`);
      ui.progressText.textContent = `Stopped at ${where1(r.progress)}.`;
    }
    describeKept();
    buttons();
  }, (e) => { ui.storage.textContent = `This browser keeps no training run for this page (${e.message}).`; });
}
