// train-profile.mjs — where a training step spends its time, natively and in WebAssembly (Node):
// bench/train_step.c (the trainer's step on MobileNetV2 at 224 from models/mobilenetv2-imagenet.sialo,
// batch 16, the top 11 blocks unfrozen: forward, backward from the logit, AdamW, repacking),
// per layer kind forward vs backward GFLOP/s (the backward counts the weight and the input
// gradient each as many multiply-adds as the forward), and the backward's share of the forward's
// rate. Batch assembly (augmentation) is not in it (`make bench-train` has the whole epoch).
// Configurations run one after another, rounds interleaved; medians over steps, then over rounds.
//
//   node bench/train-profile.mjs [--threads 1,2] [--steps 4] [--rounds 1] [--before DIR]
//     --before DIR: also run DIR/build/train-step and DIR/build/wasm-train/train-step.js (another
//     tree's build, e.g. the kernels before a change) in the same rounds
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const arg = (name, dflt) => { const i = process.argv.indexOf(name); return i > 0 ? process.argv[i + 1] : dflt; };
const THREADS = arg('--threads', '1,2').split(',').map(Number);
const STEPS = Number(arg('--steps', 4)), ROUNDS = Number(arg('--rounds', 1));
const BEFORE = arg('--before', null);
const BACKBONE = path.join(ROOT, 'models', 'mobilenetv2-imagenet.sialo');
const trees = BEFORE ? [['before', path.resolve(BEFORE)], ['after', ROOT]] : [['', ROOT]];
const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
const load = () => os.loadavg()[0].toFixed(2);

function run(tree, engine, threads) {
  const args = [BACKBONE, '--threads', String(threads), '--steps', String(STEPS)];
  const out = engine === 'native'
    ? execFileSync(path.join(tree, 'build', 'train-step'), args, { encoding: 'utf8' })
    : execFileSync(process.execPath, [path.join(tree, 'build', 'wasm-train', 'train-step.js'), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  return JSON.parse(out.trim().split('\n').pop());
}

const got = {};
for (let round = 0; round < ROUNDS; round++) {
  for (const threads of THREADS) {
    for (const engine of ['native', 'wasm']) {
      for (const [label, tree] of trees) {
        const key = `${label ? label + ' ' : ''}${engine} ${threads}t`;
        const before = load();
        const r = run(tree, engine, threads);
        (got[key] ||= []).push(r);
        console.error(`${key.padEnd(18)} ${r.images_per_s.toFixed(2)} img/s (step ${r.ms.step.toFixed(0)} ms: forward ${r.ms.forward.toFixed(0)}, ` +
          `backward ${r.ms.backward.toFixed(0)}, update ${r.ms.update.toFixed(1)}, repack ${r.ms.repack.toFixed(1)}) load ${before}`);
      }
    }
  }
}

// one run per configuration stands for it: the round with the median images/s
const pick = (runs) => { const m = median(runs.map((r) => r.images_per_s)); return runs.reduce((a, b) => (Math.abs(b.images_per_s - m) < Math.abs(a.images_per_s - m) ? b : a)); };
const summary = {};
console.log(`\nMobileNetV2 224, batch 16, top 11 blocks unfrozen; ${STEPS - 1} timed steps, ${ROUNDS} round(s); ${new Date().toISOString()}`);
console.log('| configuration | img/s | step ms | forward | backward | update | repack |');
console.log('|---|---:|---:|---:|---:|---:|---:|');
for (const [key, runs] of Object.entries(got)) {
  const r = pick(runs);
  summary[key] = r;
  console.log(`| ${key} | ${median(runs.map((q) => q.images_per_s)).toFixed(2)} | ${r.ms.step.toFixed(0)} | ${r.ms.forward.toFixed(0)} | ${r.ms.backward.toFixed(0)} | ${r.ms.update.toFixed(1)} | ${r.ms.repack.toFixed(1)} |`);
}
for (const [key, r] of Object.entries(summary)) {
  const P = r.profile, bk = Object.fromEntries(P.backward.kinds.map((k) => [k.kind, k]));
  console.log(`\n${key}: per layer kind, ms per step and GFLOP/s, forward | backward (backward / forward rate)`);
  console.log('| kind | fw ms | fw GFLOP/s | bw ms | bw GFLOP/s | bw / fw |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const k of P.kinds) {
    const b = bk[k.kind];
    if (!k.macs && !(b && b.ms > 0.05 * P.backward.total_ms)) continue;
    console.log(`| ${k.kind} | ${k.ms.toFixed(1)} | ${k.gflops.toFixed(1)} | ${b ? b.ms.toFixed(1) : '–'} | ${b && b.macs ? b.gflops.toFixed(1) : '–'} | ${b && b.macs && k.gflops ? (b.gflops / k.gflops).toFixed(2) : '–'} |`);
  }
  console.log(`| **all** | ${P.total_ms.toFixed(1)} | ${P.gflops.toFixed(1)} | ${P.backward.total_ms.toFixed(1)} | ${P.backward.gflops.toFixed(1)} | ${(P.backward.gflops / P.gflops).toFixed(2)} |`);
}
console.log(JSON.stringify(Object.fromEntries(Object.entries(summary).map(([k, r]) => [k, {
  images_per_s: r.images_per_s, ms: r.ms, forward_gflops: r.profile.gflops, backward_gflops: r.profile.backward.gflops,
  kinds: Object.fromEntries(r.profile.kinds.filter((q) => q.macs).map((q) => [q.kind, { fw: q.gflops, bw: r.profile.backward.kinds.find((b) => b.kind === q.kind)?.gflops ?? null }])),
}]))));
