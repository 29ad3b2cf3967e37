// train.mjs — training throughput (forward + backward + update), images/s: MobileNetV2 at 224 (the
// ImageNet backbone models/mobilenetv2-imagenet.sialo), batch 16, the top 11 inverted-residual
// blocks unfrozen (schedule "top11 top:34 2e-5 E E": Conv_1 and the last 11 blocks train, the
// rest is frozen), no inner validation, one final model (no cross-validation):
//   native   `sialoscan train` (the CLI, -march=native kernels), 1 and 2 threads
//   node     createTrainer of wasm/sialoscan.mjs in Node 20 (1 thread: the SIMD128 build;
//            2 threads: the pthreads build)
//   chromium the page's own trainer worker (web/train-worker.js) of a cross-origin-isolated page in
//            headless Chromium (sialoscan-standalone.js for 1 thread, sialoscan-mt.js for 2), as the
//            panel runs it
// The same generated frames everywhere (N PNG frames, written once); each configuration's figure is
// the median over its epochs after the first (the first warms caches and the allocator), as each
// engine reports it: the CLI's epoch line ("… img/s"), the JS API's onProgress imagesPerS at the
// end of an epoch. Configurations run one after another, rounds interleaved.
//
//   node bench/train.mjs [--frames 64] [--epochs 3] [--rounds 1] [--only native,node,chromium] [--threads 1,2] [--before DIR]
//     --before DIR: also run DIR/sialoscan and DIR/wasm/sialoscan.mjs (a copy of another build, e.g.
//     before a change: `cp -r build/sialoscan wasm DIR/`) in the same rounds, as native-before, node-before
//   --isa sse2,avx2: also run the CLI with its kernels forced to those levels (SIALOSCAN_ISA), as
//     native-sse2 ...: the WASM builds have 128-bit SIMD, native-sse2 is the CLI at that width
//
// Prints a table and a last JSON line { native_1t, native_2t, node_1t, ..., ratio_node_1t, ... }
// (ratio = WASM / native images/s on the same threads; the target is >= 0.5).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { serveStatic } from '../tools/serve.mjs';
import { testImage } from '../tests/node/lib/png.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const BACKBONE = path.join(ROOT, 'models', 'mobilenetv2-imagenet.sialo');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const N = Number(arg('--frames', 64)), EPOCHS = Number(arg('--epochs', 3)), ROUNDS = Number(arg('--rounds', 1));
const ONLY = arg('--only', 'native,node,chromium').split(',');
const THREADS = arg('--threads', '1,2').split(',').map(Number);
const BEFORE = arg('--before', null);
const SCHEDULE = `top11 top:34 2e-5 ${EPOCHS} ${EPOCHS}\n`;
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length ? (s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN; };

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-bench-train-'));
const files = [];
for (const [cls, base] of [['benign', 0], ['malignant', 1000]]) {
  fs.mkdirSync(path.join(dir, 'data', cls), { recursive: true });
  for (let i = 0; i < N / 2; i++) {
    const rel = `${cls}/f${i}.png`;
    fs.writeFileSync(path.join(dir, 'data', rel), testImage(base + i, 256, 256));
    files.push(rel);
  }
}
fs.writeFileSync(path.join(dir, 'schedule.txt'), SCHEDULE);

function native(threads, cli = CLI, isa = null) {
  const env = isa ? { ...process.env, SIALOSCAN_ISA: isa } : process.env;
  const r = spawnSync(cli, ['train', '--data', path.join(dir, 'data'), '--backbone', BACKBONE, '--schedule', path.join(dir, 'schedule.txt'),
    '--batch', '16', '--val-fraction', '0', '--threads', String(threads), '--seed', '1', '--out', path.join(dir, 'native.sialo')], { encoding: 'utf8', env });
  if (r.status !== 0) throw new Error(`sialoscan train: ${r.stderr}`);
  return [...r.stderr.matchAll(/epoch +\d+\/\d+ .*?([\d.]+) img\/s/g)].map((m) => Number(m[1]));
}

async function node(threads, wasmDir = path.join(ROOT, 'wasm')) {
  const { createTrainer } = await import(pathToFileURL(path.join(wasmDir, 'sialoscan.mjs')).href);
  const t = await createTrainer({ backbone: fs.readFileSync(BACKBONE), threads });
  try {
    for (const f of files) t.add(f, fs.readFileSync(path.join(dir, 'data', f)));
    const ips = [];
    await t.run({ cv: 0, schedule: SCHEDULE, batch: 16, valFraction: 0, seed: 1, onProgress: (p) => { if (p.kind === 'epoch') ips.push(p.imagesPerS); } });
    return ips;
  } finally {
    t.dispose();
  }
}

let browser = null, server = null;
async function chromium(threads) {
  if (!browser) {
    const { chromium: c } = await import('playwright-core');
    browser = await c.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    server = await serveStatic(path.join(ROOT, 'web', 'dist'), { isolation: true });
  }
  const page = await browser.newPage();
  try {
    await page.goto(`${server.url}index.html`);
    await page.waitForFunction(() => globalThis.crossOriginIsolated);
    const data = files.map((f) => [f, [...fs.readFileSync(path.join(dir, 'data', f))]]);
    // the page's own trainer worker (web/train-worker.js, a URL worker of the served folder): the
    // pthreads build on `threads` threads when > 1, as the panel starts it on a cross-origin-isolated page
    return await page.evaluate(async ({ threads, data, schedule, backbone }) => {
      const w = new Worker('sialoscan-train-worker.js');
      const ips = [];
      const ask = (msg, until, transfer = []) => new Promise((ok, fail) => {
        w.onmessage = (ev) => {
          const m = ev.data;
          if (m.type === 'error') fail(new Error(m.message));
          else if (m.type === 'progress' && m.p.kind === 'epoch') ips.push(m.p.imagesPerS);
          else if (m.type === until) ok(m);
        };
        w.onerror = (ev) => fail(new Error(ev.message));
        w.postMessage(msg, transfer);
      });
      try {
        const b = new Uint8Array(backbone);
        const ready = await ask({ type: 'init', mt: threads > 1, threads, backbone: b.buffer, backboneName: 'bench', dataName: 'bench' }, 'ready', [b.buffer]);
        if (ready.engine.threads !== threads) throw new Error(`the trainer worker runs ${ready.engine.threads} threads, not ${threads}`);
        await ask({ type: 'add', files: data.map(([f, bytes]) => ({ path: f, file: new File([new Uint8Array(bytes)], f.split('/').pop()) })) }, 'summary');
        await ask({ type: 'run', options: { cv: 0, schedule, batch: 16, valFraction: 0, seed: 1 }, resume: null }, 'done');
        return ips;
      } finally {
        w.terminate();
      }
    }, { threads, data, schedule: SCHEDULE, backbone: [...fs.readFileSync(BACKBONE)] });
  } finally {
    await page.close();
  }
}

const runs = { native, node, chromium };
if (BEFORE) {
  runs['native-before'] = (t) => native(t, path.join(path.resolve(BEFORE), 'sialoscan'));
  runs['node-before'] = (t) => node(t, path.join(path.resolve(BEFORE), 'wasm'));
  ONLY.splice(0, ONLY.length, ...ONLY.flatMap((k) => (k === 'native' || k === 'node' ? [`${k}-before`, k] : [k])));
}
for (const isa of arg('--isa', '').split(',').filter(Boolean)) {
  runs[`native-${isa}`] = (t) => native(t, CLI, isa);
  ONLY.splice(ONLY.indexOf('native') + 1, 0, `native-${isa}`);
}
const got = {};
try {
  for (let round = 0; round < ROUNDS; round++) {
    for (const kind of ONLY) {
      for (const threads of THREADS) {
        const key = `${kind}_${threads}t`;
        const load = os.loadavg()[0].toFixed(2);
        const ips = await runs[kind](threads);
        (got[key] ||= []).push(...ips.slice(1));
        console.log(`${key.padEnd(18)} epochs: ${ips.map((v) => v.toFixed(2)).join(' ')} img/s (load before ${load})`);
      }
    }
  }
} finally {
  await browser?.close();
  await server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
const out = { frames: N, epochs: EPOCHS, batch: 16, schedule: SCHEDULE.trim(), cpu: os.cpus()[0]?.model, date: new Date().toISOString().slice(0, 10) };
for (const [k, v] of Object.entries(got)) out[k] = Number(median(v).toFixed(2));
for (const threads of THREADS) {
  for (const kind of ['node', 'chromium', 'node-before']) {
    for (const isa of arg('--isa', '').split(',').filter(Boolean)) {
      const a = out[`${kind}_${threads}t`], b = out[`native-${isa}_${threads}t`];
      if (a && b && kind !== 'node-before') out[`ratio_${kind}_vs_${isa}_${threads}t`] = Number((a / b).toFixed(3));
    }
    const a = out[`${kind}_${threads}t`], b = out[`${kind === 'node-before' ? 'native-before' : 'native'}_${threads}t`];
    if (a && b) out[`ratio_${kind}_${threads}t`] = Number((a / b).toFixed(3));
  }
}
console.log('\nimages/s (median of the epochs after the first), WASM / native on the same threads:');
for (const threads of THREADS) {
  console.log(`  ${threads} thread${threads > 1 ? 's' : ' '}: native ${out[`native_${threads}t`] ?? '—'}, Node ${out[`node_${threads}t`] ?? '—'} ` +
    `(${out[`ratio_node_${threads}t`] ?? '—'}x), Chromium ${out[`chromium_${threads}t`] ?? '—'} (${out[`ratio_chromium_${threads}t`] ?? '—'}x)` +
    (BEFORE ? `; before: native ${out[`native-before_${threads}t`] ?? '—'}, Node ${out[`node-before_${threads}t`] ?? '—'} (${out[`ratio_node-before_${threads}t`] ?? '—'}x)` : ''));
}
console.log(JSON.stringify(out));
