// run.mjs — single-image latency of MobileNetV2 1.0 and ResNet50V2 (224x224, binary head) on
// every engine, with the same weights, in the same run on this machine (`make bench`).
//
//   node bench/run.mjs [--pause-training] [--runs N] [--only native,native-own,native-xnnpack,sialo-wasm,sialo-wasm-relaxed,tfjs-wasm,tfjs-wasm-folded,ort-wasm,tflite-web]
//                      [--arch mobilenetv2,resnet50v2] [--budget-ms 6000] [--out bench/results.json] [--rounds 4]
//                      [--max-wait S] [--keep-tmp]
//
// Engines (median of N runs after warm-up; N adapts to the engine's speed unless --runs):
//   native own / xnnpack, 1 and 2 threads   build/sialoscan bench (its own timer, 3 warm-up runs)
//   native own, -march=native build         build/march-native/sialoscan (every file for this machine's
//                                           ISA, no run-time dispatch), 4 rounds alternating with build/sialoscan
//   sialoscan WASM in Node, 1 / 2 threads   wasm/sialoscan.mjs, s.forward(x) (SIMD128; 2 threads: the
//                                           pthreads build wasm/dist/sialoscan-mt.js)
//   the same, relaxed SIMD                  the *.relaxed.wasm twins (Node --experimental-wasm-relaxed-simd);
//                                           what the page runs in Chromium 156 and Firefox 153
//   TensorFlow.js, WASM backend             tests/node/lib/keras-archs.mjs + the same weights (tfjs-layers)
//   TensorFlow.js, WASM, BN folded          bench/tfjs-folded.mjs: as a converted graph model runs it
//   ONNX Runtime Web, wasm EP, 1 / 2 thr.   bench/onnx-export.mjs of the same model file
//   training (--only train)                 images/s of forward + backward + AdamW update, MobileNetV2 at
//                                           224 (models/mobilenetv2-imagenet.sialo), batch 16, top 11
//                                           blocks unfrozen: native CLI vs WASM in Node, 1 and 2 threads
//                                           (`node bench/train.mjs --only native,node`, rounds interleaved)
//   TFLite-web f32, 1 / 2 threads           MobileNetV2 only, browser-only: a headless-Chromium sub-run,
//   (@tensorflow/tfjs-tflite, XNNPACK)      `node bench/chromium.mjs --arch mobilenetv2 --only tflite`,
//                                           on a float .tflite of the ImageNet MobileNetV2 (tools/tflite-float.mjs
//                                           of ../shared's int8 file), raced there by ours on the same float
//                                           weights (`sialoscan convert` of that file); skipped without ../shared
// The JS engines run in a fresh Node process each (bench/engine.mjs). Fairness check: every engine
// classifies the same input, and its p must be within 1e-4 of the sialoscan WASM module's (TFLite-web:
// all 1001 probabilities within 1e-4 of ours in the same browser on the same weights, same top-1,
// on the timing input and the ImageNet sample photos; bench/chromium.mjs checks and fails otherwise).
//
// --pause-training: SIGSTOP every running process whose command line contains "sialoscan train"
// while measuring (this is a 2-core machine) and SIGCONT exactly those at the end, on an error, on
// SIGINT / SIGTERM / SIGHUP, and — through a small watchdog — even if this process is killed.
//
// Other load: before each configuration the machine is sampled for 0.5 s with nothing of ours
// running; while other processes keep more than a quarter of a core busy it waits (up to
// --max-wait seconds, default 30), then measures anyway and marks the figure '~' (noisy).
//
// Output: a table on stdout; bench/results.json with the raw numbers, the machine and versions.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readModelFile } from '../tests/node/lib/model-file.mjs';
import { sialoToOnnx } from './onnx-export.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const CLI = process.env.SIALOSCAN_CLI || path.join(ROOT, 'build', 'sialoscan');
// the CLI built the old way, every file for this machine's ISA (make build/march-native/sialoscan)
const CLI_MARCH_NATIVE = path.join(ROOT, 'build', 'march-native', 'sialoscan');
const ROUNDS = 4; // alternating rounds of the two native builds (--rounds N)
const P_TOL = 1e-4;
const SIZE = 224;

// ------------------------------------------------------------------ options
function parseArgs(argv) {
  const o = {
    pauseTraining: false, runs: 0, only: null, archs: ['mobilenetv2', 'resnet50v2'], budgetMs: 6000,
    out: path.join(HERE, 'results.json'), keepTmp: false, maxWaitS: 30, rounds: ROUNDS,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], v = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--pause-training') o.pauseTraining = true;
    else if (a === '--runs') o.runs = Math.max(1, parseInt(v(), 10) || 1);
    else if (a === '--only') o.only = new Set(v().split(','));
    else if (a === '--arch') o.archs = v().split(',');
    else if (a === '--budget-ms') o.budgetMs = Number(v());
    else if (a === '--out') o.out = path.resolve(v());
    else if (a === '--rounds') o.rounds = Math.max(1, parseInt(v(), 10) || ROUNDS);
    else if (a === '--keep-tmp') o.keepTmp = true;
    else if (a === '--max-wait') o.maxWaitS = Number(v());
    else if (a === '-h' || a === '--help') {
      console.log(fs.readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').filter((l) => l.startsWith('//')).join('\n'));
      process.exit(0);
    } else throw new Error(`unknown option ${a} (see --help)`);
  }
  for (const a of o.archs) if (!['mobilenetv2', 'resnet50v2'].includes(a)) throw new Error(`--arch: unknown ${a}`);
  return o;
}

// ------------------------------------------------------------------ pausing the trainer
// Only processes that were running when we looked are stopped, and only those are resumed: a
// process someone else had stopped stays as it was.
const paused = new Map(); // pid -> command line
let watchdog = null;

function trainingProcesses() {
  const found = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    try {
      const cmd = fs.readFileSync(`/proc/${d}/cmdline`).toString().split('\0').join(' ').trim();
      if (!cmd.includes('sialoscan train')) continue;
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
      found.push({ pid, cmd, state });
    } catch { /* gone meanwhile */ }
  }
  return found;
}

function pauseTraining() {
  for (const p of trainingProcesses()) {
    if (p.state === 'T' || p.state === 't' || p.state === 'Z') continue;
    try {
      process.kill(p.pid, 'SIGSTOP');
      paused.set(p.pid, p.cmd);
    } catch (e) {
      console.error(`# could not pause ${p.pid}: ${e.message}`);
    }
  }
  if (paused.size) {
    // resumes them if this process dies without doing it (SIGKILL, OOM); ended at a normal resume
    const pids = [...paused.keys()].join(' ');
    watchdog = spawn('sh', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -CONT ${pids} 2>/dev/null`],
      { detached: true, stdio: 'ignore' });
    watchdog.unref();
  }
  return [...paused].map(([pid, cmd]) => ({ pid, cmd: cmd.slice(0, 160) }));
}

function resumeTraining() {
  for (const pid of paused.keys()) {
    try { process.kill(pid, 'SIGCONT'); } catch { /* exited */ }
  }
  if (paused.size) console.error(`# resumed ${paused.size} training process(es): ${[...paused.keys()].join(' ')}`);
  paused.clear();
  if (watchdog) {
    try { process.kill(watchdog.pid, 'SIGTERM'); } catch { /* gone */ }
    watchdog = null;
  }
}

let currentChild = null;
let tmpDir = null, keepTmp = false; // removed at the end, also after a signal
const removeTmp = () => {
  if (tmpDir && !keepTmp) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
};
process.on('exit', resumeTraining); // synchronous: runs on normal exit, process.exit and uncaught errors
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    if (currentChild) try { process.kill(currentChild.pid, 'SIGTERM'); } catch { /* gone */ }
    resumeTraining();
    removeTmp();
    console.error(`# ${sig}: stopped`);
    process.exit(130);
  });
}

// ------------------------------------------------------------------ helpers
function run(cmd, args, { timeoutMs = 600000 } = {}) {
  return new Promise((resolve, reject) => {
    const ch = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    currentChild = ch;
    let stdout = '', stderr = '';
    ch.stdout.on('data', (d) => { stdout += d; });
    ch.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => ch.kill('SIGKILL'), timeoutMs);
    ch.on('error', reject);
    ch.on('close', (code, signal) => {
      clearTimeout(timer);
      currentChild = null;
      resolve({ code, signal, stdout, stderr });
    });
  });
}

function lastJsonLine(text) {
  for (const l of text.trim().split('\n').reverse()) {
    try { return JSON.parse(l); } catch { /* not this one */ }
  }
  return null;
}

/** machine-wide CPU use from /proc/stat: { busy, total } jiffies */
function cpuStat() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + (f[4] || 0);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
const busyCores = (a, b) => (b.total > a.total ? Math.round(((b.busy - a.busy) / (b.total - a.total)) * os.cpus().length * 100) / 100 : null);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const QUIET = 0.25; // cores that other processes may keep busy
/** cores that others keep busy (0.5 s sample, nothing of ours running); waits while above QUIET */
async function othersLoad(maxWaitS) {
  const t0 = Date.now();
  for (;;) {
    const a = cpuStat();
    await sleep(500);
    const busy = busyCores(a, cpuStat());
    if (busy <= QUIET || Date.now() - t0 >= maxWaitS * 1000) return { busy, waited_s: Math.round((Date.now() - t0) / 1000) };
    await sleep(1500);
  }
}

/** A deterministic image-like input, already normalised to [-1, 1] (NHWC). */
function benchInput(h, w) {
  const x = new Float32Array(h * w * 3);
  let s = 12345;
  for (let y = 0; y < h; y++)
    for (let xx = 0; xx < w; xx++)
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1103515245) + 12345) >>> 0;
        const noise = (s / 4294967296 - 0.5) * 0.3;
        const v = 0.55 * Math.sin(0.045 * xx + 0.07 * y + 1.3 * c) + 0.3 * Math.cos(0.0007 * xx * y) + noise;
        x[(y * w + xx) * 3 + c] = Math.max(-1, Math.min(1, v));
      }
  return x;
}

function tryExec(cmd, args) {
  try { return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim(); } catch { return null; }
}

function versions() {
  const pkg = (name) => {
    try { return JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version; } catch { return null; }
  };
  const dpkg = (name) => tryExec('dpkg-query', ['-W', '-f=${Version}', name]);
  const gitHead = tryExec('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']);
  const dirty = tryExec('git', ['-C', ROOT, 'status', '--porcelain', '--untracked-files=no', 'src', 'wasm']);
  return {
    sialoscan: tryExec(CLI, ['--version']),
    git: gitHead ? `${gitHead}${dirty ? ' (src/ or wasm/ modified)' : ''}` : null,
    node: process.version,
    'tfjs-core': pkg('@tensorflow/tfjs-core'),
    'tfjs-layers': pkg('@tensorflow/tfjs-layers'),
    'tfjs-backend-wasm': pkg('@tensorflow/tfjs-backend-wasm'),
    'onnxruntime-web': pkg('onnxruntime-web'),
    '@tensorflow/tfjs-tflite': pkg('@tensorflow/tfjs-tflite'),
    libxnnpack: dpkg('libxnnpack0'),
    cc: tryExec(process.env.CC || 'cc', ['--version'])?.split('\n')[0] ?? null,
    emcc: tryExec('emcc', ['--version'])?.split('\n')[0] ?? null,
  };
}

// ------------------------------------------------------------------ main
async function main() {
  const o = parseArgs(process.argv.slice(2));
  const want = (e) => !o.only || o.only.has(e);
  for (const f of [CLI, path.join(ROOT, 'wasm', 'dist', 'sialoscan-core.wasm'), path.join(ROOT, 'wasm', 'dist', 'sialoscan-mt.wasm')])
    if (!fs.existsSync(f)) throw new Error(`${f} is missing: build with \`make -j2 native wasm\` first`);

  const started = new Date();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-bench-'));
  tmpDir = tmp;
  keepTmp = o.keepTmp;
  const results = [];
  let pausedList = [];
  try {
    // models (same weights for every engine), their ONNX export, the input
    const models = {};
    for (const arch of o.archs) {
      const m = path.join(tmp, `${arch}.sialo`);
      const r = await run(CLI, ['init', '--arch', arch, '--input', String(SIZE), '--head', 'binary', '--seed', '1', m]);
      if (r.code !== 0) throw new Error(`sialoscan init --arch ${arch} failed: ${r.stderr.trim()}`);
      models[arch] = { sialo: m };
      if (want('ort-wasm')) {
        const t0 = performance.now();
        const ex = sialoToOnnx(readModelFile(fs.readFileSync(m)));
        models[arch].onnx = path.join(tmp, `${arch}.onnx`);
        fs.writeFileSync(models[arch].onnx, ex.bytes);
        console.error(`# ${arch}: ONNX export ${ex.nodes} nodes, ${(ex.bytes.length / 1e6).toFixed(1)} MB, ${Math.round(performance.now() - t0)} ms`);
      }
    }
    const inputPath = path.join(tmp, 'input.f32');
    const x = benchInput(SIZE, SIZE);
    fs.writeFileSync(inputPath, Buffer.from(x.buffer));

    if (o.pauseTraining) {
      pausedList = pauseTraining();
      console.error(pausedList.length ? `# paused ${pausedList.length} training process(es): ${pausedList.map((p) => p.pid).join(' ')}`
        : '# --pause-training: no running "sialoscan train" process');
    }
    // what else is using the CPU right now, before we start
    const idleBusy = (await othersLoad(0)).busy;
    console.error(`# cores busy before measuring (others): ${idleBusy}`);
    let quiet = null;
    const settle = async () => { quiet = await othersLoad(o.maxWaitS); };

    const record = (row) => {
      row.others_busy_before = quiet?.busy ?? null;
      if (quiet?.waited_s) row.waited_s = quiet.waited_s;
      row.noisy = !(quiet && quiet.busy <= QUIET);
      results.push(row);
      const t = row.error ? `ERROR ${row.error.split('\n')[0].slice(0, 200)}` : `${row.median_ms} ms (min ${row.min_ms}, ${row.runs} runs, busy ${row.busy_cores}, others before ${row.others_busy_before}${row.noisy ? ' NOISY' : ''})`;
      console.error(`# ${row.engine} ${row.arch} x${row.threads}: ${t}`);
    };

    // 1. native; with the -march=native build beside it (build/march-native/sialoscan, the way the
    // CLI was built before its kernels were picked at run time), our own kernels are timed in
    // ROUNDS alternating rounds of each binary, the row being the median of its rounds' medians
    if (want('native') || want('native-own') || want('native-xnnpack')) {
      const haveOld = fs.existsSync(CLI_MARCH_NATIVE);
      for (const arch of o.archs)
        for (const backend of ['own', 'xnnpack'].filter((b) => want('native') || want(`native-${b}`)))
          for (const threads of [1, 2]) {
            const runs = o.runs || (arch === 'mobilenetv2' ? 101 : 31); // its timer is exact; short runs are cheap
            const bins = backend === 'own' && haveOld ? [[CLI, 'native-own'], [CLI_MARCH_NATIVE, 'native-own-march-native']] : [[CLI, `native-${backend}`]];
            const rounds = bins.length > 1 ? o.rounds : 1;
            const per = new Map(bins.map(([, e]) => [e, []]));
            let busy = 0, err = null, last = null;
            for (let k = 0; k < rounds; k++)
              for (const [bin, eng] of k % 2 ? [...bins].reverse() : bins) {
                await settle();
                const c0 = cpuStat();
                const r = await run(bin, ['bench', '--model', models[arch].sialo, '--backend', backend, '--threads', String(threads), '--runs', String(rounds > 1 ? Math.ceil(runs / 2) : runs)]);
                busy = Math.max(busy, busyCores(c0, cpuStat()));
                const j = r.code === 0 ? lastJsonLine(r.stdout) : null;
                if (!j) err = `${path.relative(ROOT, bin)}: exit ${r.code ?? r.signal}: ${r.stderr.trim()}`;
                else { per.get(eng).push(j); last = j; }
              }
            for (const [bin, eng] of bins) {
              const js = per.get(eng);
              const row = { engine: eng, arch, threads, busy_cores: busy, binary: path.relative(ROOT, bin) };
              if (err || !js.length) { row.error = err; record(row); continue; }
              const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
              Object.assign(row, { runs: js.reduce((n, j) => n + j.runs, 0), rounds: js.length, round_medians_ms: js.map((j) => j.median_ms),
                median_ms: med(js.map((j) => j.median_ms)), min_ms: Math.min(...js.map((j) => j.min_ms)), threads_used: last.threads,
                kernels: { gemm: js[0].gemm_kernel, dwconv: js[0].dwconv_kernel } });
              // the output for the shared input, for the fairness check
              const f = await run(bin, ['forward', '--model', models[arch].sialo, '--input', inputPath, '--backend', backend, '--threads', String(threads)]);
              const fj = f.code === 0 ? lastJsonLine(f.stdout) : null;
              if (Array.isArray(fj)) row.p = fj;
              else if (fj && Array.isArray(fj.probabilities)) row.p = fj.probabilities;
              record(row);
            }
          }
      if (haveOld) for (const arch of o.archs) for (const t of [1, 2]) {
        const a = results.find((q) => q.engine === 'native-own' && q.arch === arch && q.threads === t && q.median_ms);
        const b = results.find((q) => q.engine === 'native-own-march-native' && q.arch === arch && q.threads === t && q.median_ms);
        if (a && b) console.error(`# ${arch} x${t}: runtime dispatch ${a.median_ms} ms vs -march=native ${b.median_ms} ms: ${((a.median_ms / b.median_ms - 1) * 100).toFixed(1)}%`);
      }
    }

    // 2-4. JS / WASM engines, one process each
    const jsConfigs = [];
    for (const arch of o.archs) {
      if (want('sialo-wasm')) for (const t of [1, 2]) jsConfigs.push({ engine: 'sialo-wasm', arch, threads: t });
      if (want('sialo-wasm-relaxed')) for (const t of [1, 2]) jsConfigs.push({ engine: 'sialo-wasm-relaxed', arch, threads: t });
      if (want('tfjs-wasm')) jsConfigs.push({ engine: 'tfjs-wasm', arch, threads: 1 });
      if (want('tfjs-wasm-folded')) jsConfigs.push({ engine: 'tfjs-wasm-folded', arch, threads: 1 });
      if (want('ort-wasm')) for (const t of [1, 2]) jsConfigs.push({ engine: 'ort-wasm', arch, threads: t });
    }
    for (const c of jsConfigs) {
      const cfg = { engine: c.engine, model: models[c.arch].sialo, onnx: models[c.arch].onnx, input: inputPath, threads: c.threads, runs: o.runs, warmup: 3, budgetMs: o.budgetMs,
                    cam: c.engine.startsWith('sialo-wasm') && c.threads === 1 };
      await settle();
      const c0 = cpuStat();
      // relaxed SIMD is behind a flag in Node 20 (on by default in Chromium 156 and Firefox 153)
      const flags = c.engine === 'sialo-wasm-relaxed' ? ['--experimental-wasm-relaxed-simd', '--no-warnings'] : [];
      const r = await run(process.execPath, [...flags, path.join(HERE, 'engine.mjs'), JSON.stringify(cfg)]);
      const busy = busyCores(c0, cpuStat());
      const j = r.code === 0 ? lastJsonLine(r.stdout) : null;
      if (!j) record({ engine: c.engine, arch: c.arch, threads: c.threads, error: `exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}` });
      else record({ ...j, engine: c.engine, arch: c.arch, busy_cores: busy });
    }
    // 5. TFLite-web (browser-only): a Chromium sub-run, ours and TFLite-web on the same ImageNet weights
    let mismatches = 0;
    if (want('tflite-web') && o.archs.includes('mobilenetv2')) {
      await settle();
      const c0 = cpuStat();
      const runs = String(o.runs || 9);
      const r = await run(process.execPath, [path.join(HERE, 'chromium.mjs'), '--arch', 'mobilenetv2', '--only', 'tflite', '--rounds', '3', '--runs', runs]);
      const busy = busyCores(c0, cpuStat());
      const j = r.code === 0 ? lastJsonLine(r.stdout)?.mobilenetv2 : null;
      const info = r.stdout.split('\n').filter((l) => l.startsWith('chromium ') || l.startsWith('#')).map((l) => l.replace(/^# /, ''));
      for (const threads of [1, 2]) {
        const row = { engine: 'tflite-web', arch: 'mobilenetv2', threads, busy_cores: busy, where: 'headless Chromium (bench/chromium.mjs)', notes: info };
        if (!j || j[`peer_tflite_web_${threads}t`] === undefined) {
          row.error = r.code !== 0 ? `bench/chromium.mjs exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`
            : `not run: ${info.find((l) => l.includes('absent')) ?? 'no TFLite-web figure'}`;
          if (/disagrees/.test(r.stderr)) { row.p_match = false; mismatches++; }
        } else {
          const ck = j.tflite_check;
          Object.assign(row, {
            median_ms: j[`peer_tflite_web_${threads}t`], min_ms: j[`peer_tflite_web_${threads}t_min`], runs: 3 * Number(runs), cold_ms: j[`cold_start_tflite-${threads}t_ms`],
            weights: 'ImageNet MobileNetV2 (../shared int8 file dequantised: tools/tflite-float.mjs), 1001 outputs',
            ours_same_weights_median_ms: j[`ours_wasm_imagenet_${threads}t`], ours_same_weights_min_ms: j[`ours_wasm_imagenet_${threads}t_min`],
            p_reference: 'sialoscan WASM (relaxed SIMD, 1 thread) in the same browser, same weights', abs_dp: ck.max_abs_dp[`tflite-${threads}t`],
            p_match: true, check: ck,
          });
        }
        record(row);
      }
    }
    // 4. training throughput (its own sub-run: 48 generated frames, 3 epochs, the median of the
    // epochs after the first; the row says images/s, not ms)
    if (want('train')) {
      await settle();
      const c0 = cpuStat();
      const r = await run(process.execPath, [path.join(HERE, 'train.mjs'), '--frames', '48', '--epochs', '3', '--only', 'native,node'], { timeoutMs: 1800000 });
      const busy = busyCores(c0, cpuStat());
      const j = r.code === 0 ? lastJsonLine(r.stdout) : null;
      for (const threads of [1, 2]) {
        const row = { engine: 'train', arch: 'mobilenetv2', threads, busy_cores: busy, where: 'bench/train.mjs (batch 16, top 11 blocks unfrozen)' };
        if (!j) row.error = `bench/train.mjs exit ${r.code ?? r.signal}: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`;
        else Object.assign(row, { native_images_per_s: j[`native_${threads}t`], wasm_images_per_s: j[`node_${threads}t`], wasm_over_native: j[`ratio_node_${threads}t`], median_ms: null });
        row.others_busy_before = quiet?.busy ?? null;
        row.noisy = !(quiet && quiet.busy <= QUIET);
        results.push(row);
        console.error(`# train x${threads}: ${row.error ?? `native ${row.native_images_per_s} img/s, WASM ${row.wasm_images_per_s} img/s (${row.wasm_over_native}x)`}`);
      }
    }
    resumeTraining();

    // fairness: every engine's p against the sialoscan WASM module's
    for (const arch of o.archs) {
      const ref = results.find((r) => r.engine === 'sialo-wasm' && r.threads === 1 && r.arch === arch && r.p)
        ?? results.find((r) => r.engine === 'native-own' && r.arch === arch && r.p);
      for (const r of results.filter((q) => q.arch === arch && q.p)) {
        if (!ref) continue;
        r.p_reference = `${ref.engine}`;
        r.abs_dp = Math.abs(r.p[0] - ref.p[0]);
        r.p_match = r.abs_dp < P_TOL;
        if (!r.p_match) mismatches++;
      }
      if (ref && !(ref.p[0] > 0.01 && ref.p[0] < 0.99))
        console.error(`# warning: ${arch} p = ${ref.p[0]} is saturated; the |dp| check says little`);
    }

    // table
    const rows = [
      ['native own', 'native-own', 1], ['native own', 'native-own', 2],
      ['native own, -march=native build', 'native-own-march-native', 1], ['native own, -march=native build', 'native-own-march-native', 2],
      ['native XNNPACK', 'native-xnnpack', 1], ['native XNNPACK', 'native-xnnpack', 2],
      ['sialoscan WASM, SIMD128 (Node)', 'sialo-wasm', 1], ['sialoscan WASM pthreads, SIMD128 (Node)', 'sialo-wasm', 2],
      ['sialoscan WASM, relaxed SIMD (Node)', 'sialo-wasm-relaxed', 1], ['sialoscan WASM pthreads, relaxed SIMD (Node)', 'sialo-wasm-relaxed', 2],
      ['TF.js 4.22 WASM (Node)', 'tfjs-wasm', 1], ['TF.js 4.22 WASM, BN folded (Node)', 'tfjs-wasm-folded', 1],
      ['ORT Web 1.30 wasm (Node)', 'ort-wasm', 1], ['ORT Web 1.30 wasm (Node)', 'ort-wasm', 2],
      ['TFLite-web f32, XNNPACK (Chromium; ImageNet weights)', 'tflite-web', 1], ['TFLite-web f32, XNNPACK (Chromium; ImageNet weights)', 'tflite-web', 2],
    ];
    const cell = (eng, arch, t) => {
      const r = results.find((q) => q.engine === eng && q.arch === arch && q.threads === t);
      if (!r) return '-';
      if (r.error) return 'error';
      return `${r.noisy ? '~' : ''}${r.median_ms.toFixed(1)}${r.p_match === false ? ' (p!)' : ''}`;
    };
    const dpCell = (eng, t) => {
      const ds = results.filter((q) => q.engine === eng && q.threads === t && q.abs_dp !== undefined).map((q) => q.abs_dp);
      return ds.length ? Math.max(...ds).toExponential(1) : '-';
    };
    const header = ['engine', 'threads', 'MobileNetV2 ms', 'ResNet50V2 ms', 'max |dp|'];
    const body = rows
      .filter(([, eng, t]) => results.some((q) => q.engine === eng && q.threads === t))
      .map(([label, eng, t]) => [label, String(t), cell(eng, 'mobilenetv2', t), cell(eng, 'resnet50v2', t), dpCell(eng, t)]);
    const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
    const line = (cols) => `| ${cols.map((c, i) => (i < 2 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
    console.log(`\nsialoscan benchmark — ${os.cpus()[0].model}, ${os.cpus().length} cores, ${started.toISOString().slice(0, 16)}Z; ${SIZE}x${SIZE}, batch 1, median ms`);
    console.log(line(header));
    console.log(`|${widths.map((w, i) => (i < 2 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
    for (const b of body) console.log(line(b));
    const tf = results.find((q) => q.engine === 'tfjs-wasm' && q.info);
    if (tf) console.log(`TF.js: ${tf.info.binary}, SIMD ${tf.info.simd}, threads ${tf.info.threads} (multithread support in Node: ${tf.info.multithread_support})`);
    for (const q of results.filter((r) => r.engine === 'tflite-web' && r.median_ms !== undefined))
      console.log(`TFLite-web ${q.threads}t ${q.median_ms} ms (min ${q.min_ms}) vs ours on the same ImageNet weights in the same Chromium ${q.ours_same_weights_median_ms} ms (min ${q.ours_same_weights_min_ms}); ` +
        `max |dp| over 1001 probabilities ${q.abs_dp}, top-1 agree ${q.check.top1_agree[`tflite-${q.threads}t`]} (${q.check.inputs.join(', ')}), XNNPACK ${q.check.xnnpack}`);
    for (const q of results.filter((r) => r.engine === 'train'))
      console.log(`training ${q.threads} thread${q.threads > 1 ? 's' : ''} (MobileNetV2 224, batch 16, top 11 blocks): ` +
        (q.error ? 'error' : `native ${q.native_images_per_s} img/s, WASM (Node) ${q.wasm_images_per_s} img/s = ${q.wasm_over_native}x native${q.noisy ? ' ~' : ''}`));
    const ort2 = results.filter((q) => q.engine === 'ort-wasm' && q.threads === 2 && q.cpu_ratio !== undefined);
    if (ort2.length) console.log(`ORT 2 threads: process CPU / wall while measuring ${ort2.map((q) => `${q.arch} ${q.cpu_ratio}`).join(', ')}`);
    console.log(`|dp| = |p - p(sialoscan WASM)| on the same input (must be < ${P_TOL}); others' load at the start: ${idleBusy} cores${o.pauseTraining ? `; training paused: ${pausedList.length}` : ''}`);
    const noisy = results.filter((r) => r.noisy).length;
    if (noisy) console.log(`~ = ${noisy} figure(s) measured while other processes kept more than ${QUIET} core busy: rerun when the machine is quiet`);

    const out = {
      date: started.toISOString(),
      duration_s: Math.round((Date.now() - started.getTime()) / 1000),
      command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
      machine: {
        cpu: os.cpus()[0].model, cores: os.cpus().length, memory_gb: Math.round(os.totalmem() / 2 ** 30),
        os: `${os.type()} ${os.release()} ${os.arch()}`, cores_busy_before: idleBusy,
      },
      versions: versions(),
      setup: { input: SIZE, batch: 1, head: 'binary', weights: 'sialoscan init --seed 1 (random)', p_tolerance: P_TOL, training_paused: pausedList },
      results,
    };
    fs.mkdirSync(path.dirname(o.out), { recursive: true });
    fs.writeFileSync(o.out, `${JSON.stringify(out, null, 1)}\n`);
    console.log(`raw numbers: ${path.relative(process.cwd(), o.out) || o.out}`);
    // last line: the medians in the shape of issue 9 (null = not measured by this bench)
    console.log(JSON.stringify(summary(results, o.archs)));
    if (mismatches) {
      console.error(`# ${mismatches} engine(s) disagree with sialoscan by |dp| >= ${P_TOL}: the comparison is not fair`);
      process.exitCode = 1;
    }
  } finally {
    resumeTraining();
    if (o.keepTmp) console.error(`# kept ${tmp}`);
    removeTmp();
  }
}

/** { arch: { ours_wasm_1t, ours_wasm_2t, peers_1t: {...}, peers_2t: {...}, ours_native_1t, ... } } */
function summary(results, archs) {
  const ms = (engine, arch, threads, key = 'median_ms') => {
    const r = results.find((q) => q.engine === engine && q.arch === arch && q.threads === threads && !q.error);
    return r && typeof r[key] === 'number' ? r[key] : null;
  };
  const out = {};
  for (const arch of archs) {
    // ours_wasm_*: the build the page picks in Chromium 156 / Firefox 153 (relaxed SIMD) when it was
    // measured, else the SIMD128 build; both are also given by name
    const best = ms('sialo-wasm-relaxed', arch, 1) !== null ? 'sialo-wasm-relaxed' : 'sialo-wasm';
    const wasm1 = results.find((q) => q.engine === best && q.arch === arch && q.threads === 1 && !q.error);
    const peers1 = { tfjs_wasm: ms('tfjs-wasm', arch, 1), tfjs_wasm_folded: ms('tfjs-wasm-folded', arch, 1), ort_web: ms('ort-wasm', arch, 1) };
    const peers2 = { ort_web: ms('ort-wasm', arch, 2) };
    if (arch === 'mobilenetv2') {
      // browser-only: measured in headless Chromium on the ImageNet MobileNetV2 (1001 outputs), next to
      // ours on the same weights in the same browser (tflite_web_race); null when not run
      peers1.tflite_web = ms('tflite-web', arch, 1);
      peers2.tflite_web = ms('tflite-web', arch, 2);
    }
    out[arch] = {
      ours_wasm_1t: ms(best, arch, 1), ours_wasm_2t: ms(best, arch, 2),
      ours_wasm_simd128_1t: ms('sialo-wasm', arch, 1), ours_wasm_simd128_2t: ms('sialo-wasm', arch, 2),
      ours_wasm_relaxed_1t: ms('sialo-wasm-relaxed', arch, 1), ours_wasm_relaxed_2t: ms('sialo-wasm-relaxed', arch, 2),
      peers_1t: peers1, peers_2t: peers2,
      ours_native_1t: ms('native-own', arch, 1), ours_native_2t: ms('native-own', arch, 2),
      xnnpack_native_1t: ms('native-xnnpack', arch, 1), xnnpack_native_2t: ms('native-xnnpack', arch, 2),
      ours_wasm_cam_1t: ms(best, arch, 1, 'cam_median_ms'),
      // Node: module instantiation + model load + first forward (the page's cold start is measured in Chromium)
      cold_start_ms: wasm1 ? Math.round((wasm1.load_ms + wasm1.first_ms) * 10) / 10 : null,
    };
    if (arch === 'mobilenetv2') {
      const tr = (t, k) => results.find((q) => q.engine === 'train' && q.threads === t && !q.error)?.[k] ?? null;
      out[arch].training_images_per_s = {
        native_1t: tr(1, 'native_images_per_s'), native_2t: tr(2, 'native_images_per_s'),
        wasm_1t: tr(1, 'wasm_images_per_s'), wasm_2t: tr(2, 'wasm_images_per_s'),
        wasm_over_native_1t: tr(1, 'wasm_over_native'), wasm_over_native_2t: tr(2, 'wasm_over_native'),
      };
    }
    const tfl = [1, 2].map((t) => results.find((q) => q.engine === 'tflite-web' && q.arch === arch && q.threads === t && !q.error));
    if (arch === 'mobilenetv2' && tfl[0]) {
      out[arch].tflite_web_race = {
        where: 'headless Chromium', weights: 'ImageNet MobileNetV2, float (dequantised int8)',
        ours_wasm_1t: tfl[0].ours_same_weights_median_ms, ours_wasm_2t: tfl[1]?.ours_same_weights_median_ms ?? null,
        tflite_web_1t: tfl[0].median_ms, tflite_web_2t: tfl[1]?.median_ms ?? null,
        max_abs_dp: Math.max(...tfl.filter(Boolean).map((q) => q.abs_dp)), top1_agree: tfl[0].check.top1_agree['tflite-1t'],
      };
    }
  }
  return out;
}

main().catch((e) => {
  resumeTraining();
  console.error(`bench: ${e.stack || e.message}`);
  process.exit(1);
});
