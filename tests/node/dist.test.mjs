// dist.test.mjs — the release files (make dist, tools/make-dist.sh, docs/release.md) tried as a user
// would: the packing gives the same bytes twice, and so does a second build of the CLI from clean
// objects in another folder (the same binary, the same SHA256SUMS); SHA256SUMS catches a damaged copy;
// the CLI archive, unpacked elsewhere, needs only the C library, finds its model, classifies a frame
// with the kernels forced to SSE2 with the p of build/sialoscan at that level, and says that it has
// no Keras import; the page's zip holds web/dist/ byte for byte; the wasm package installs offline
// into a fresh Node project and classifies the frame with the CLI's p (within 1e-4).
// Run: node --test tests/node/dist.test.mjs   (after `make all build/dist/sialoscan`)
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
const VERSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'wasm', 'package.json'), 'utf8')).version;
const WEB = `sialoscan-web-${VERSION}.zip`, TGZ = `sialoscan-${VERSION}-linux-x86_64.tar.gz`, NPM = `sialoscan-wasm-${VERSION}.tgz`;

function run(argv, opts = {}) {
  const env = { ...process.env, ...(opts.env || {}) };
  if (!(opts.env && 'SIALOSCAN_ISA' in opts.env)) delete env.SIALOSCAN_ISA;
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', cwd: opts.cwd, env, timeout: 300000, maxBuffer: 64 << 20 });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit ${r.status}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`;
const ok = (r) => { assert.equal(r.status, 0, show(r)); return r.stdout; };
const pOf = (r) => JSON.parse(ok(r).trim().split('\n').pop()).p_malignant;
const files = (dir) => fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();

describe('make dist', { skip: process.arch !== 'x64' && 'the CLI archive is for x86-64' }, () => {
  let tmp, a, b;
  before(() => {
    for (const f of [CLI, path.join(ROOT, 'build', 'dist', 'sialoscan'), path.join(ROOT, 'web', 'dist', 'index.html')])
      assert.ok(fs.existsSync(f), `${path.relative(ROOT, f)} is missing: make all build/dist/sialoscan (or make dist)`);
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-dist-'));
    a = path.join(tmp, 'a');
    b = path.join(tmp, 'b');
    ok(run(['bash', path.join(ROOT, 'tools', 'make-dist.sh'), a]));
    ok(run(['bash', path.join(ROOT, 'tools', 'make-dist.sh'), b]));
  });
  after(() => tmp && fs.rmSync(tmp, { recursive: true, force: true }));

  it('writes the four files, the same bytes when packed twice', () => {
    assert.deepEqual(files(a), ['SHA256SUMS', TGZ, NPM, WEB].sort());
    for (const f of files(a)) assert.ok(fs.readFileSync(path.join(a, f)).equals(fs.readFileSync(path.join(b, f))), `${f} differs between two runs`);
  });

  it('a second build from clean objects in another folder: the same CLI binary, the same SHA256SUMS', () => {
    // the sources as they are (tracked and new files), in a folder of another name, built from no
    // objects at all (the codec libraries too, from the same third_party/); the page and the wasm
    // package are emcc's output, taken as built (rebuilding them here would take many minutes)
    const src = path.join(tmp, 'rebuild', 'sialoscan-src');
    const list = ok(run(['git', 'ls-files', '-z', '--cached', '--others', '--exclude-standard', '--',
      'Makefile', 'src', 'tools', 'wasm', 'models'], { cwd: ROOT })).split('\0').filter((f) => f && fs.existsSync(path.join(ROOT, f)));
    for (const f of list) {
      fs.mkdirSync(path.dirname(path.join(src, f)), { recursive: true });
      fs.copyFileSync(path.join(ROOT, f), path.join(src, f));
    }
    fs.symlinkSync(path.join(ROOT, 'third_party'), path.join(src, 'third_party'));
    for (const d of ['web/dist', 'wasm/dist']) fs.cpSync(path.join(ROOT, d), path.join(src, d), { recursive: true });
    const env = { SOURCE_DATE_EPOCH: ok(run(['git', 'log', '-1', '--format=%ct'], { cwd: ROOT })).trim() };
    const clean = { ...process.env };
    for (const k of ['MAKEFLAGS', 'MFLAGS', 'MAKELEVEL', 'MAKEOVERRIDES']) delete clean[k]; // not the jobserver of a calling make
    const r = spawnSync('make', ['-j2', 'build/dist/sialoscan'], { cwd: src, env: clean, encoding: 'utf8', timeout: 1200000, maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, `make build/dist/sialoscan in ${src}: ${show(r).slice(-4000)}`);
    const one = fs.readFileSync(path.join(ROOT, 'build', 'dist', 'sialoscan')), two = fs.readFileSync(path.join(src, 'build', 'dist', 'sialoscan'));
    assert.ok(!two.includes(Buffer.from(src)), 'no build path in the second binary');
    assert.ok(one.equals(two), `build/dist/sialoscan differs when built again in ${src} (${one.length} vs ${two.length} bytes)`);
    const c = path.join(tmp, 'c');
    ok(run(['bash', path.join(src, 'tools', 'make-dist.sh'), c], { env }));
    assert.equal(fs.readFileSync(path.join(c, 'SHA256SUMS'), 'utf8'), fs.readFileSync(path.join(a, 'SHA256SUMS'), 'utf8'),
      'SHA256SUMS of the second build');
  });

  it('SHA256SUMS checks every archive, and a damaged copy fails the check', () => {
    const out = ok(run(['sha256sum', '-c', 'SHA256SUMS'], { cwd: a }));
    assert.deepEqual(out.trim().split('\n').sort(), [TGZ, NPM, WEB].sort().map((f) => `${f}: OK`));
    const bad = fs.readFileSync(path.join(b, TGZ));
    bad[bad.length >> 1] ^= 1;
    fs.writeFileSync(path.join(b, TGZ), bad);
    const r = run(['sha256sum', '-c', 'SHA256SUMS'], { cwd: b });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout, new RegExp(`^${TGZ.replace(/\./g, '\\.')}: FAILED$`, 'm'));
  });

  it('the CLI archive: libc only, its model found beside it, SSE2 kernels give build/sialoscan\'s p', () => {
    const dir = path.join(tmp, 'cli');
    fs.mkdirSync(dir);
    ok(run(['tar', '-xzf', path.join(a, TGZ), '-C', dir]));
    const top = path.join(dir, `sialoscan-${VERSION}-linux-x86_64`);
    assert.deepEqual(files(top), ['README.md', 'bin/sialoscan', 'models/MODEL_CARD.md', 'models/sialoscan-busi.sialo']);
    const exe = path.join(top, 'bin', 'sialoscan');
    // the shared libraries it needs: all from libc6 (a fresh Debian 12 / Ubuntu 22.04 has them)
    const libs = ok(run(['ldd', exe])).trim().split('\n').map((l) => l.trim().split(/\s+/)[0]);
    for (const l of libs) assert.match(l, /^(linux-vdso\.so\.1|libc\.so\.6|libm\.so\.6|libpthread\.so\.0|\/lib64\/ld-linux-x86-64\.so\.2)$/, `ldd: ${libs.join(', ')}`);
    assert.ok(!fs.readFileSync(exe).includes(Buffer.from(ROOT)), 'no build path in the binary');
    assert.match(ok(run([exe, '--version'])), new RegExp(`^sialoscan ${VERSION.replace(/\./g, '\\.')}\\nkernels: \\w+ `));
    const env = { SIALOSCAN_ISA: 'sse2', SIALOSCAN_MODEL: '' };
    const p = pOf(run([exe, 'classify', '--threads', '1', FRAME], { env, cwd: tmp })); // no --model: models/ beside bin/
    const ref = pOf(run([CLI, 'classify', '--threads', '1', '--model', SHIPPED, FRAME], { env }));
    assert.ok(p > 0.01 && p < 0.99, `p = ${p} is not saturated`);
    assert.equal(p, ref, 'the same code at the same level: the same p');
    const k = run([exe, 'convert', '--from', 'keras-h5', path.join(tmp, 'none.h5'), path.join(tmp, 'out.sialo')]);
    assert.notEqual(k.status, 0);
    assert.match(k.stderr, /this build of sialoscan has no Keras import \(it is built without HDF5\)/);
  });

  it('the page zip holds web/dist/ byte for byte (index.html and the wasm opened from disk)', () => {
    const dir = path.join(tmp, 'web');
    ok(run(['unzip', '-q', path.join(a, WEB), '-d', dir]));
    const top = path.join(dir, `sialoscan-web-${VERSION}`);
    const want = files(path.join(ROOT, 'web', 'dist'));
    assert.ok(want.includes('index.html') && want.some((f) => f.endsWith('.wasm')), want.join(' '));
    assert.deepEqual(files(top), want);
    for (const f of want) assert.ok(fs.readFileSync(path.join(top, f)).equals(fs.readFileSync(path.join(ROOT, 'web', 'dist', f))), f);
  });

  it('the wasm package installs offline into a fresh Node project and classifies with the CLI\'s p', () => {
    const proj = path.join(tmp, 'proj');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'package.json'), JSON.stringify({ name: 'clinic-tool', version: '1.0.0', private: true, type: 'module' }));
    ok(run(['npm', 'install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', path.join(a, NPM)],
      { cwd: proj, env: { npm_config_cache: path.join(tmp, 'npm-cache') } }));
    const pkg = JSON.parse(fs.readFileSync(path.join(proj, 'node_modules', 'sialoscan-engine', 'package.json'), 'utf8'));
    assert.equal(pkg.version, VERSION);
    assert.equal(Object.keys(pkg.dependencies || {}).length, 0, 'the package has no dependencies');
    fs.writeFileSync(path.join(proj, 'classify.mjs'), `import { readFileSync } from 'node:fs';
import { createSialoscan } from 'sialoscan-engine';
const s = await createSialoscan({ model: readFileSync(process.argv[2]) });
const r = await s.classify(readFileSync(process.argv[3]));
console.log(JSON.stringify({ version: s.info().version, p: r.pMalignant }));
s.dispose();
`);
    const out = JSON.parse(ok(run([process.execPath, 'classify.mjs', SHIPPED, FRAME], { cwd: proj, env: { NODE_PATH: '' } })).trim());
    assert.equal(out.version, VERSION);
    const ref = pOf(run([CLI, 'classify', '--threads', '1', '--model', SHIPPED, FRAME]));
    assert.ok(Math.abs(out.p - ref) < 1e-4, `the installed package: p ${out.p}, the CLI ${ref}`);
  });
});
