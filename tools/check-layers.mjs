// check-layers.mjs — the arrows of src/ point one way (docs/design.md draws them).
//   node tools/check-layers.mjs [OBJ_DIR [SRC_DIR]]   (make check-layers; defaults build/native, src)
// 1. Includes: a file in src/<layer>/ includes only headers of its own layer or of a lower one
//    (src/sialoscan.h, the public API, is everyone's); two layers of the same rank (io and import,
//    train and explain) do not include each other.
// 2. Calls: from the object files (nm), a function used by an object of one layer is defined in its
//    own layer or a lower one, and no set of object files calls each other in a circle (also within a
//    layer). A violation prints the file, what it uses and where that lives; exit status 1.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const RANK = { base: 0, kernels: 1, ops: 2, engine: 3, io: 4, import: 4, train: 5, explain: 5, cli: 6 };
const root = new URL('..', import.meta.url).pathname;
const objDir = join(process.argv[2] || join(root, 'build/native'));
const src = process.argv[3] || join(root, 'src');
const problems = [];

const walk = (dir) => readdirSync(dir).flatMap((f) => {
  const p = join(dir, f);
  return statSync(p).isDirectory() ? walk(p) : [p];
});
const layerOf = (rel) => rel.split('/')[0];

// which of two layers may use the other: lower rank, or the same layer
const mayUse = (user, used) => user === used || RANK[used] < RANK[user];

// ---- 1. includes
const files = walk(src).map((p) => relative(src, p)).filter((r) => /\.[ch]$/.test(r));
for (const rel of files) {
  if (!rel.includes('/')) continue; // sialoscan.h
  const layer = layerOf(rel);
  if (!(layer in RANK)) { problems.push(`src/${rel}: folder '${layer}' is not a known layer (tools/check-layers.mjs RANK)`); continue; }
  readFileSync(join(src, rel), 'utf8').split('\n').forEach((line, i) => {
    const m = /^\s*#\s*include\s+"([^"]+)"/.exec(line);
    if (!m || m[1] === 'sialoscan.h') return;
    if (!m[1].includes('/')) { problems.push(`src/${rel}:${i + 1}: include "${m[1]}" without its folder (write "${layer}/${m[1]}")`); return; }
    const used = layerOf(m[1]);
    if (!(used in RANK)) problems.push(`src/${rel}:${i + 1}: includes "${m[1]}" from outside the layers`);
    else if (!mayUse(layer, used)) problems.push(`src/${rel}:${i + 1}: ${layer}/ includes ${m[1]} (${used}/ is ${RANK[used] === RANK[layer] ? 'a peer' : 'a higher layer'})`);
  });
}

// ---- 2. calls between object files
if (!existsSync(objDir)) {
  console.error(`check-layers: no object files in ${relative(root, objDir)} (make native first)`);
  process.exit(1);
}
// objects of sources that still exist (a moved file leaves its old object behind)
const relOf = (o) => relative(join(objDir, 'src'), o).replace(/(\.(sse2|avx2|avx512))?\.o$/, '.c'); // kernels: NAME.ISA.o
const objs = walk(join(objDir, 'src')).filter((p) => p.endsWith('.o') && existsSync(join(src, relOf(p))));
const defs = new Map(); // symbol -> object (rel path of its source)
const uses = new Map(); // object -> Set(symbol)
for (const line of execFileSync('nm', ['-o', ...objs], { encoding: 'utf8', maxBuffer: 64 << 20 }).split('\n')) {
  const m = /^(.*\.o):(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$/.exec(line);
  if (!m) continue;
  const [, obj, type, sym] = m;
  const rel = relOf(obj);
  if (type === 'U') { if (!uses.has(rel)) uses.set(rel, new Set()); uses.get(rel).add(sym); }
  else if (/[TDBR]/.test(type)) defs.set(sym, rel);
}
// 3. Dispatch (native x86-64): every function a kernel file defines is listed in kernels.def, so its
//    SSE2 copy was renamed NAME_sse2 (tools/kernel-rename.sh); one left under its plain name would run
//    at the baseline level on every CPU.
const sse2 = objs.filter((o) => o.endsWith('.sse2.o'));
for (const line of (sse2.length ? execFileSync('nm', ['-o', '-g', '--defined-only', ...sse2], { encoding: 'utf8' }) : '').split('\n')) {
  const m = /^(.*\.o):[0-9a-f]*\s+T\s+(\S+)$/.exec(line);
  if (m && !m[2].endsWith('_sse2')) problems.push(`src/${relOf(m[1])} defines ${m[2]}, not listed in src/kernels/kernels.def (it would run at SSE2 on every CPU)`);
}
const edges = new Map(); // rel -> Set(rel)
for (const [rel, syms] of uses) {
  for (const sym of syms) {
    const where = defs.get(sym);
    if (!where || where === rel) continue;
    if (!edges.has(rel)) edges.set(rel, new Set());
    edges.get(rel).add(where);
    const a = layerOf(rel), b = layerOf(where);
    if (!mayUse(a, b)) problems.push(`src/${rel} calls ${sym}, defined in src/${where} (${b}/ is ${RANK[a] === RANK[b] ? 'a peer' : 'a higher layer'} of ${a}/)`);
  }
}
// circles: strongly connected components of more than one file (Tarjan)
let index = 0;
const idx = new Map(), low = new Map(), stack = [], on = new Set();
const nodes = new Set([...edges.keys(), ...[...edges.values()].flatMap((s) => [...s])]);
const strong = (v) => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v);
  for (const w of edges.get(v) || []) {
    if (!idx.has(w)) { strong(w); low.set(v, Math.min(low.get(v), low.get(w))); }
    else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)));
  }
  if (low.get(v) === idx.get(v)) {
    const comp = [];
    let w;
    do { w = stack.pop(); on.delete(w); comp.push(w); } while (w !== v);
    if (comp.length > 1) {
      const why = comp.flatMap((a) => [...(edges.get(a) || [])].filter((b) => comp.includes(b)).map((b) => `${a} -> ${b}`));
      problems.push(`a circle of calls: ${comp.map((c) => 'src/' + c).join(', ')} (${why.join('; ')})`);
    }
  }
};
for (const v of nodes) if (!idx.has(v)) strong(v);

if (problems.length) {
  console.error(`check-layers: ${problems.length} problem${problems.length > 1 ? 's' : ''}`);
  for (const p of problems) console.error('  ' + p);
  process.exit(1);
}
console.log(`check-layers: ${files.length} files, ${objs.length} objects: includes and calls point down ` +
  '(cli > train, explain > io, import > engine > ops > kernels > base), no circles');
