// train-resume.mjs — what a reload costs a training run: the work done since the last checkpoint
// (at most the epoch in progress) plus starting again (a fresh engine, the folder read and decoded
// again, the checkpoint restored). In Node 20 with the JS API, as the page's trainer worker runs it:
//   uninterrupted  createTrainer, add every frame, run to the end
//   interrupted    the same, stopped half way through epoch K (the tab closed: everything since the
//                  last checkpoint is lost), then a new createTrainer, the frames added again, resume
//                  from the last checkpoint, run to the end
// cost = (interrupted part + resumed part) - uninterrupted, in seconds and in epochs (the median
// epoch of the uninterrupted run); the target is at most one epoch. The models are compared too
// (a resumed run ends with the uninterrupted model's bytes).
//   node bench/train-resume.mjs [--frames 48] [--epochs 4] [--stop-epoch 2] [--threads 1] [--backbone FILE]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { testImage } from '../tests/node/lib/png.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const N = Number(arg('--frames', 48)), EPOCHS = Number(arg('--epochs', 4)), STOP = Number(arg('--stop-epoch', 2));
const THREADS = Number(arg('--threads', 1));
const BACKBONE = arg('--backbone', path.join(ROOT, 'models', 'mobilenetv2-imagenet.sialo'));
const SCHEDULE = `top11 top:34 2e-5 ${EPOCHS} ${EPOCHS}\n`;
const { createTrainer } = await import(pathToFileURL(path.join(ROOT, 'wasm', 'sialoscan.mjs')).href);

const frames = [];
for (const [cls, base] of [['benign', 0], ['malignant', 1000]]) {
  for (let i = 0; i < N / 2; i++) frames.push([`${cls}/f${i}.png`, testImage(base + i, 256, 256)]);
}
const backbone = fs.readFileSync(BACKBONE);
const RUN = { cv: 0, schedule: SCHEDULE, batch: 16, valFraction: 0, seed: 1 };
const now = () => performance.now() / 1000;

async function start() {
  const t = await createTrainer({ backbone, threads: THREADS });
  for (const [p, b] of frames) t.add(p, b);
  return t;
}

// uninterrupted
let t0 = now();
let t = await start();
const epochs = [];
let last = t0;
const whole = await t.run({ ...RUN, onProgress: (p) => { if (p.kind === 'epoch') { const s = now(); epochs.push(s - last); last = s; } } });
t.dispose();
const uninterrupted = now() - t0;

// interrupted half way through epoch STOP, then resumed in a fresh trainer
t0 = now();
t = await start();
const ac = new AbortController();
let epoch = 0;
const stopped = await t.run({ ...RUN, signal: ac.signal,
  onProgress: (p) => {
    if (p.kind === 'epoch') epoch = p.epoch;
    if (p.kind === 'batch' && epoch === STOP - 1 && p.batch >= Math.ceil(p.batches / 2)) ac.abort();
  } });
t.dispose();
const lostPart = now() - t0;
if (!stopped.stopped) throw new Error('the run was not stopped: make --epochs larger than --stop-epoch');
const t1 = now();
t = await start();
const resumed = await t.resume(stopped.checkpoint, RUN); // the last checkpoint before the stop
t.dispose();
const resumePart = now() - t1;

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const epochS = median(epochs.slice(1));
const cost = lostPart + resumePart - uninterrupted;
const same = Buffer.compare(Buffer.from(whole.model), Buffer.from(resumed.model)) === 0;
console.log(`uninterrupted ${uninterrupted.toFixed(1)} s (epochs ${epochs.map((e) => e.toFixed(1)).join(' ')} s); ` +
  `stopped half way through epoch ${STOP} after ${lostPart.toFixed(1)} s, resumed in ${resumePart.toFixed(1)} s`);
console.log(`a reload costs ${cost.toFixed(1)} s = ${(cost / epochS).toFixed(2)} epochs (target <= 1); the resumed model ${same ? 'equals' : 'DIFFERS from'} the uninterrupted one`);
console.log(JSON.stringify({ frames: N, epochs: EPOCHS, stop_epoch: STOP, threads: THREADS, uninterrupted_s: +uninterrupted.toFixed(2),
  epoch_s: +epochS.toFixed(2), cost_s: +cost.toFixed(2), cost_epochs: +(cost / epochS).toFixed(3), same_model: same,
  cpu: os.cpus()[0]?.model, load: os.loadavg()[0].toFixed(2), date: new Date().toISOString().slice(0, 10) }));
if (!same) process.exitCode = 1;
