// harness.mjs — shared helpers for the cross-implementation tests: paths, the CLI, the WASM
// module, deterministic inputs and the comparison metrics.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CLI = process.env.SIALOSCAN_CLI || path.join(ROOT, 'build', 'sialoscan');
// The JS API of the WASM build: wasm/dist/sialoscan.mjs if the build puts it there, otherwise
// wasm/sialoscan.mjs (the checked-in wrapper that imports dist/sialoscan-core.mjs).
export const WASM_MJS = process.env.SIALOSCAN_WASM ||
  [path.join(ROOT, 'wasm', 'dist', 'sialoscan.mjs'), path.join(ROOT, 'wasm', 'sialoscan.mjs')].find((p) => fs.existsSync(p)) ||
  path.join(ROOT, 'wasm', 'dist', 'sialoscan.mjs');

/** n deterministic values in [-1, 1) (an LCG): a preprocessed input for forward() / gradcam() */
export function seededInput(n, seed) {
  const x = new Float32Array(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    x[i] = (s / 4294967296) * 2 - 1;
  }
  return x;
}

/** A python3 that imports every module named (Debian's, which make setup provides; $SIALO_PYTHON
 * first), or null. The python3 first on PATH may be another installation without them. */
export function findPython(modules) {
  for (const p of [process.env.SIALO_PYTHON, '/usr/bin/python3', 'python3'].filter(Boolean)) {
    if (spawnSync(p, ['-c', `import ${modules.join(', ')}`], { stdio: 'ignore' }).status === 0) return p;
  }
  return null;
}

/** Fail loudly (not skip) when the build is missing: `make` builds it before the tests. */
export function requireFile(p, hint) {
  if (!fs.existsSync(p)) throw new Error(`${p} is missing — ${hint}`);
  return p;
}

export function tmpDir(prefix = 'sialo-test-') {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Run the CLI; returns { status, stdout, stderr, ms }. Never throws on a non-zero exit. */
export function runCli(args, { timeout = 300000 } = {}) {
  const t0 = performance.now();
  const r = spawnSync(CLI, args, { encoding: 'utf8', timeout, maxBuffer: 256 << 20 });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: performance.now() - t0 };
}

/** Run the CLI and throw with its stderr if it fails. */
export function cli(args, opts) {
  const r = runCli(args, opts);
  if (r.status !== 0)
    throw new Error(`sialoscan ${args.join(' ')} exited ${r.status ?? r.signal}: ${r.stderr.trim()}`);
  return r;
}

/** What `sialoscan --version` says: { version, codecs } (the first line's release, the codecs line),
 * the native side the WASM build's info().version and info().engine.codecs are checked against. */
export function cliVersion() {
  const out = cli(['--version']).stdout;
  return { version: /^sialoscan (\S+)/.exec(out)?.[1], codecs: /^codecs: (.*)$/m.exec(out)?.[1] };
}

/** Parse the probabilities printed by `sialoscan forward` (JSON). Accepts a bare array or an
 * object holding one under a key like "probabilities" / "output" / "p". */
export function parseForwardOutput(stdout) {
  const text = stdout.trim();
  let j;
  try {
    j = JSON.parse(text);
  } catch {
    // maybe several lines; take the last line that parses
    const lines = text.split('\n').reverse();
    for (const l of lines) { try { j = JSON.parse(l); break; } catch { /* next */ } }
    if (j === undefined) throw new Error(`forward printed no JSON: ${text.slice(0, 300)}`);
  }
  const isNumArray = (v) => Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'number');
  if (isNumArray(j)) return Float32Array.from(j);
  for (const k of ['probabilities', 'probs', 'output', 'outputs', 'p', 'scores']) if (isNumArray(j[k])) return Float32Array.from(j[k]);
  for (const v of Object.values(j)) if (isNumArray(v)) return Float32Array.from(v);
  if (typeof j.p_positive === 'number') return Float32Array.from([j.p_positive]);
  throw new Error(`forward output holds no probability array: ${text.slice(0, 300)}`);
}

export function readF32(file) {
  const b = fs.readFileSync(file);
  const out = new Float32Array(b.byteLength / 4);
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = dv.getFloat32(4 * i, true);
  return out;
}

export function writeF32(file, arr) {
  const b = Buffer.alloc(arr.length * 4);
  for (let i = 0; i < arr.length; i++) b.writeFloatLE(arr[i], 4 * i);
  fs.writeFileSync(file, b);
}

/** A deterministic, image-like input in [-1, 1] (smooth structure plus seeded noise), HxWx3. */
export function makeInput(h, w, seed = 1) {
  const x = new Float32Array(h * w * 3);
  let s = (seed * 2654435761) >>> 0 || 1;
  const rnd = () => { s ^= s << 13; s >>>= 0; s ^= s >>> 17; s ^= s << 5; s >>>= 0; return s / 4294967296; };
  for (let i = 0; i < h; i++)
    for (let j = 0; j < w; j++)
      for (let c = 0; c < 3; c++) {
        const u = i / h, v = j / w;
        const smooth = 0.6 * Math.sin(6.1 * u + 2.3 * c) * Math.cos(4.7 * v - 1.1 * c) + 0.25 * Math.cos(17 * u * v + c);
        const val = smooth + 0.3 * (rnd() - 0.5);
        x[(i * w + j) * 3 + c] = Math.max(-1, Math.min(1, val));
      }
  return x;
}

/** { maxAbs, maxRef, rel = maxAbs / maxRef, meanAbs } between two equally long arrays. */
export function diffStats(a, b) {
  if (a.length !== b.length) throw new Error(`length mismatch ${a.length} vs ${b.length}`);
  let maxAbs = 0, maxRef = 0, sum = 0, argmax = -1;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= maxAbs)) { maxAbs = Number.isNaN(d) ? Infinity : d; argmax = i; }
    sum += d;
    maxRef = Math.max(maxRef, Math.abs(b[i]));
  }
  return { maxAbs, maxRef, rel: maxRef > 0 ? maxAbs / maxRef : maxAbs, meanAbs: sum / a.length, argmax };
}

export function fmtStats(s) {
  return `max|d|=${s.maxAbs.toExponential(3)} max|ref|=${s.maxRef.toExponential(3)} rel=${s.rel.toExponential(3)}`;
}

/** Load the WASM module (fails if it was not built). */
export async function loadWasmFactory() {
  requireFile(WASM_MJS, 'build the WASM module first (make wasm)');
  requireFile(path.join(ROOT, 'wasm', 'dist', 'sialoscan-core.wasm'), 'build the WASM module first (make wasm)');
  const mod = await import(pathToFileURL(WASM_MJS).href);
  const f = mod.createSialoscan || mod.default;
  if (typeof f !== 'function') throw new Error(`${WASM_MJS} exports no createSialoscan`);
  return f;
}

/** A python3 that can import h5py and numpy, or null. SIALO_PYTHON=/path picks one first;
 * SIALO_PYTHON=none pretends there is none (to exercise the skip). */
export function pythonWithH5py() {
  if (process.env.SIALO_PYTHON === 'none') return null;
  return findPython(['h5py', 'numpy']);
}
