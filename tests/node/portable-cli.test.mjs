// portable-cli.test.mjs — one native binary for every x86-64 CPU (runtime ISA dispatch,
// src/kernels/dispatch.c): build/sialoscan runs on an emulated baseline x86-64 CPU (Debian's
// qemu-user, `qemu-x86_64 -cpu qemu64`: SSE2, no AVX) with the SSE2 kernels and gives the same p
// as natively; it runs under valgrind (which hides AVX-512) without an error; every level this
// CPU has, forced through SIALOSCAN_ISA, gives the same p; a level the CPU lacks is refused with
// a sentence. Run: node --test tests/node/portable-cli.test.mjs (after `make native`)
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = path.join(ROOT, 'build', 'sialoscan');
const FRAME = path.join(ROOT, 'tests', 'fixtures', 'baseline.jpg');
const SHIPPED = path.join(ROOT, 'models', 'sialoscan-busi.sialo');
const P_TOL = 1e-4;

const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
function run(argv, env = {}, timeout = 600000) {
  const e = { ...process.env, ...env };
  delete e.SIALOSCAN_ISA;
  if (env.SIALOSCAN_ISA) e.SIALOSCAN_ISA = env.SIALOSCAN_ISA;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', env: e, timeout, maxBuffer: 16 << 20 });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit ${r.status} signal ${r.signal}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const pOf = (r) => {
  assert.equal(r.status, 0, show(r));
  return JSON.parse(r.stdout.trim().split('\n').pop()).p_malignant;
};
const kernelsOf = (r) => {
  assert.equal(r.status, 0, show(r));
  const m = /^kernels: (\w+) \((f32_gemm_\w+), (f32_dwconv_\w+)\); this CPU runs: ([\w ]+)$/m.exec(r.stdout);
  assert.ok(m, `--version says which kernels run\n${show(r)}`);
  return { isa: m[1], gemm: m[2], dwconv: m[3], cpu: m[4].trim().split(' ') };
};

describe('one x86-64 binary, kernels picked at start', { skip: process.arch !== 'x64' && 'not an x86-64 machine' }, () => {
  let tmp, small, native;
  before(() => {
    assert.ok(fs.existsSync(CLI), 'build/sialoscan is missing: make native');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-portable-'));
    small = path.join(tmp, 'mobilenetv2-96.sialo');
    assert.equal(run([CLI, 'init', '--arch', 'mobilenetv2', '--input', '96', '--seed', '3', small]).status, 0);
    native = kernelsOf(run([CLI, '--version']));
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('runs the best level this CPU has, and each lower one when asked, with the same p', () => {
    assert.equal(native.isa, native.cpu[native.cpu.length - 1]);
    const ref = pOf(run([CLI, 'classify', '--model', SHIPPED, FRAME]));
    assert.ok(ref > 0.01 && ref < 0.99, `p = ${ref} is not saturated`);
    for (const isa of native.cpu) {
      const k = kernelsOf(run([CLI, '--version'], { SIALOSCAN_ISA: isa }));
      assert.equal(k.isa, isa);
      assert.ok(k.gemm.endsWith(`_${isa}`) && k.dwconv.endsWith(`_${isa}`), `${isa}: ${k.gemm} ${k.dwconv}`);
      const info = JSON.parse(run([CLI, 'info', SHIPPED], { SIALOSCAN_ISA: isa }).stdout);
      assert.deepEqual(info.kernels, { isa, gemm: k.gemm, dwconv: k.dwconv, cpu: native.cpu.join(' ') });
      const p = pOf(run([CLI, 'classify', '--model', SHIPPED, FRAME], { SIALOSCAN_ISA: isa }));
      assert.ok(Math.abs(p - ref) < P_TOL, `${isa}: p ${p} vs ${ref}`);
    }
  });

  it('refuses an unknown level or one the CPU lacks, with a sentence', () => {
    let r = run([CLI, 'classify', FRAME], { SIALOSCAN_ISA: 'neon' });
    assert.equal(r.status, 2, show(r));
    assert.match(r.stderr, /^sialoscan: SIALOSCAN_ISA must be sse2, avx2 or avx512, not 'neon'\.\n$/);
    if (!native.cpu.includes('avx512')) {
      r = run([CLI, 'classify', FRAME], { SIALOSCAN_ISA: 'avx512' });
      assert.equal(r.status, 2, show(r));
      assert.match(r.stderr, /this CPU has no AVX-512/);
    }
  });

  it('runs on a baseline x86-64 CPU (qemu-x86_64 -cpu qemu64) with the SSE2 kernels and the same p',
    { skip: !has('qemu-x86_64') && 'qemu-x86_64 is absent (Debian qemu-user; make setup)' }, () => {
      const qemu = ['qemu-x86_64', '-cpu', 'qemu64'];
      const k = kernelsOf(run([...qemu, CLI, '--version']));
      assert.deepEqual([k.isa, k.gemm, k.dwconv, k.cpu], ['sse2', 'f32_gemm_4x8_sse2', 'f32_dwconv_c4x2_sse2', ['sse2']]);
      const ref = pOf(run([CLI, 'classify', '--model', SHIPPED, FRAME]));
      const r = run([...qemu, CLI, 'classify', '--model', SHIPPED, FRAME]);
      assert.equal(r.signal, null, show(r));
      const p = pOf(r);
      assert.ok(Math.abs(p - ref) < P_TOL, `emulated baseline CPU: p ${p}, natively ${ref}`);
      // there, AVX2 is a level the CPU lacks
      const no = run([...qemu, CLI, 'classify', FRAME], { SIALOSCAN_ISA: 'avx2' });
      assert.equal(no.status, 2, show(no));
      assert.match(no.stderr, /^sialoscan: SIALOSCAN_ISA=avx2: this CPU has no AVX2 and FMA \(its best is sse2\)\.\n$/);
    });

  it('runs under valgrind without an error (classify one frame)',
    { skip: !has('valgrind') && 'valgrind is absent (make setup)' }, () => {
      const ref = pOf(run([CLI, 'classify', '--model', small, '--threads', '1', FRAME]));
      const r = run(['valgrind', '-q', '--error-exitcode=99', CLI, 'classify', '--model', small, '--threads', '1', FRAME]);
      assert.equal(r.signal, null, show(r));
      assert.equal(r.status, 0, show(r));
      assert.ok(Math.abs(pOf(r) - ref) < P_TOL, `under valgrind: p ${pOf(r)}, natively ${ref}`);
    });
});
