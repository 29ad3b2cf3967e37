// profile.mjs — where the time goes: milliseconds and GFLOP/s per kind of layer (1x1 convolution,
// KxK convolution, depthwise, dense, elementwise...) for MobileNetV2 and ResNet50V2 (224x224,
// random weights as in `make bench`), natively (own kernels, XNNPACK) and in WASM (Node), with
// the share of this core's 128-bit peak (16 flop/cycle: two 4-wide FMAs, or two 4-wide multiplies
// and two 4-wide adds, per cycle) at the clock measured by `sialoscan bench --profile`.
//
//   node [--experimental-wasm-relaxed-simd] bench/profile.mjs [--arch mobilenetv2,resnet50v2] [--threads 1]
//        [--runs 20] [--layers]      (--layers also prints every layer; with the Node flag the WASM
//        column is the relaxed-SIMD build, as the page runs it in Chromium and Firefox)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const CLI = process.env.SIALOSCAN_CLI || path.join(ROOT, 'build', 'sialoscan');
const args = process.argv.slice(2);
const opt = (name, dflt) => { const i = args.indexOf(name); return i >= 0 && i + 1 < args.length ? args[i + 1] : dflt; };
const archs = opt('--arch', 'mobilenetv2,resnet50v2').split(',');
const threads = parseInt(opt('--threads', '1'), 10);
const runs = parseInt(opt('--runs', '20'), 10);
const showLayers = args.includes('--layers');

const { createSialoscan } = await import('../wasm/sialoscan.mjs');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-profile-'));
const pad = (s, n) => String(s).padEnd(n);
const num = (v, n, d = 1) => (v === undefined ? '–' : v.toFixed(d)).padStart(n);
const out = {};
try {
  for (const arch of archs) {
    const m = path.join(tmp, `${arch}.sialo`);
    execFileSync(CLI, ['init', '--arch', arch, '--input', '224', '--head', 'binary', '--seed', '1', m]);
    const native = {};
    let clock = 0;
    for (const backend of ['own', 'xnnpack']) {
      const js = JSON.parse(execFileSync(CLI, ['bench', '--model', m, '--backend', backend, '--threads', String(threads), '--runs', String(runs), '--profile'],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop());
      native[backend] = js.profile;
      clock = Math.max(clock, js.clock_ghz || 0);
    }
    const s = await createSialoscan({ model: new Uint8Array(fs.readFileSync(m)), threads });
    const x = new Float32Array(224 * 224 * 3).map((_, i) => ((i * 2654435761) % 1000) / 500 - 1);
    s.profile(x, { runs: 3 }); // warm-up
    const wasm = s.profile(x, { runs });
    const kernel = s.info().engine.kernel;
    s.dispose();
    const peak128 = 16 * clock; // GFLOP/s
    console.log(`\n${arch}, ${threads} thread(s), ${runs} forwards, WASM kernel ${kernel}; clock ${clock.toFixed(2)} GHz -> 128-bit peak ${peak128.toFixed(1)} GFLOP/s per core`);
    console.log(`| kind | layers | GMAC | native own ms | GFLOP/s | XNNPACK ms | GFLOP/s | WASM ms | GFLOP/s | WASM % of 128-bit peak | WASM share of time |`);
    console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|`);
    const kinds = [...new Set([...wasm.kinds, ...native.own.kinds].map((k) => k.kind))];
    const get = (p, k) => p.kinds.find((q) => q.kind === k);
    const rows = kinds.map((k) => ({ k, w: get(wasm, k), o: get(native.own, k), x: get(native.xnnpack, k) }))
      .sort((a, b) => (b.w?.ms ?? 0) - (a.w?.ms ?? 0));
    for (const { k, w, o, x: xn } of rows) {
      if ((w?.ms ?? 0) < 0.005 * wasm.total_ms && !(w?.macs)) continue;
      const gm = (w ?? o).macs / 1e9;
      console.log(`| ${k} | ${(w ?? o).layers} | ${gm.toFixed(3)} | ${num(o?.ms, 6, 2)} | ${num(o?.gflops, 5)} | ${num(xn?.ms, 6, 2)} | ${num(xn?.gflops, 5)} | ${num(w?.ms, 6, 2)} | ${num(w?.gflops, 5)} | ${w?.macs && peak128 ? (100 * w.gflops / peak128).toFixed(0) + '%' : '–'} | ${(100 * (w?.share ?? 0)).toFixed(1)}% |`);
    }
    console.log(`| **total** | | ${(wasm.macs / 1e9).toFixed(3)} | ${num(native.own.total_ms, 6, 2)} | ${num(native.own.gflops, 5)} | ${num(native.xnnpack.total_ms, 6, 2)} | ${num(native.xnnpack.gflops, 5)} | ${num(wasm.total_ms, 6, 2)} | ${num(wasm.gflops, 5)} | ${peak128 ? (100 * wasm.gflops / peak128).toFixed(0) + '%' : '–'} | 100% |`);
    if (showLayers) {
      console.log(`\n| layer | kind | out | WASM ms | GFLOP/s | native own ms | GFLOP/s |\n|---|---|---|---:|---:|---:|---:|`);
      for (const L of wasm.layers) {
        const o = native.own.layers.find((q) => q.name === L.name);
        console.log(`| ${L.name} | ${L.kind} | ${L.out.join('x')} | ${L.ms.toFixed(3)} | ${L.gflops.toFixed(1)} | ${o ? o.ms.toFixed(3) : '–'} | ${o ? o.gflops.toFixed(1) : '–'} |`);
      }
    }
    out[arch] = { wasm_kernel: kernel, clock_ghz: clock, peak128_gflops: peak128, native_own: native.own, native_xnnpack: native.xnnpack, wasm };
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(JSON.stringify(Object.fromEntries(Object.entries(out).map(([a, v]) => [a, {
  wasm_kernel: v.wasm_kernel, clock_ghz: v.clock_ghz, wasm_gflops: v.wasm.gflops, wasm_pct_128bit_peak: v.peak128_gflops ? +(100 * v.wasm.gflops / v.peak128_gflops).toFixed(1) : null,
  wasm_kinds: Object.fromEntries(v.wasm.kinds.map((k) => [k.kind, { ms: k.ms, gflops: k.gflops }])),
}]))));
