// wasm-relaxed.mjs — rewrites a module built by Debian's LLVM 14 with -mrelaxed-simd into the
// final relaxed-SIMD encoding that browsers and Node accept.
//
// LLVM 14 and binaryen 108 know only the prototype of the proposal: they emit f32x4.relaxed_fma
// with the opcode 0xfd 0xaf 0x01, which V8 and SpiderMonkey reject. The standard names the same
// operation f32x4.relaxed_madd (a*b + c), opcode 0xfd 0x85 0x02. Route: wasm-dis (Debian binaryen)
// prints the text, the instruction is renamed, and the npm binaryen (132) parses the text and
// writes the binary with the final opcodes. That route fails here (binaryen 132's text parser
// wants the standard text format, not binaryen 108's), so the opcode is rewritten in place in the
// code section, and both binaryens count the instruction before and after. Only relaxed_fma may
// appear: any other relaxed instruction is refused.
//
//   node tools/wasm-relaxed.mjs IN.wasm OUT.wasm
//   node tools/wasm-relaxed.mjs --single IN.js OUT.js   (the wasm embedded as base64 by -sSINGLE_FILE)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import binaryen from 'binaryen';

function leb(bytes, pos) { // unsigned LEB128 -> [value, next position]
  let v = 0, shift = 0, b;
  do { b = bytes[pos++]; v += (b & 0x7f) * 2 ** shift; shift += 7; } while (b & 0x80);
  return [v, pos];
}

// the prototype opcode (0xfd, LEB 175 = 0xaf 0x01) and the final one (0xfd, LEB 261 = 0x85 0x02):
// both two bytes, so the rewrite keeps every offset and size in the module
const PROTO = [0xfd, 0xaf, 0x01], FINAL = [0xfd, 0x85, 0x02];

export function relaxWasm(input) {
  const bytes = new Uint8Array(input); // a copy
  if (bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) throw new Error('wasm-relaxed: not a wasm module');
  // the code section (id 10) only: the data, names and other sections are left alone
  let pos = 8, code = null;
  while (pos < bytes.length) {
    const id = bytes[pos];
    const [size, body] = leb(bytes, pos + 1);
    if (id === 10) code = [body, body + size];
    pos = body + size;
  }
  if (!code) throw new Error('wasm-relaxed: no code section');
  // the function bodies of the code section, in order
  const bodies = [];
  let [nfun, at] = leb(bytes, code[0]);
  for (let f = 0; f < nfun; f++) {
    const [size, body] = leb(bytes, at);
    bodies.push([body, body + size]);
    at = body + size;
  }
  // the byte pattern could also occur inside an immediate (another instruction's constant or
  // offset): the count of the prototype instruction in each function (Debian's wasm-dis, which
  // knows it) says which functions hold it; only those are rewritten, and there the pattern must
  // occur exactly as often as the instruction. The npm binaryen then counts the final one.
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sialo-relaxed-'));
  let before, perFunction;
  try {
    const inPath = path.join(tmp, 'in.wasm');
    fs.writeFileSync(inPath, new Uint8Array(input));
    const wat = execFileSync('wasm-dis', ['--enable-simd', '--enable-relaxed-simd', '--enable-threads', '--enable-bulk-memory', inPath],
      { maxBuffer: 1 << 29, encoding: 'utf8' });
    before = (wat.match(/\bf32x4\.relaxed_fma\b/g) || []).length;
    const other = wat.match(/\b[fi](8|16|32|64)x\d+\.relaxed_(?!fma\b)\w+/g);
    if (other) throw new Error(`wasm-relaxed: relaxed instructions other than fma: ${[...new Set(other)].join(', ')}`);
    // defined functions print as lines "  (func $name ...", in the order of their bodies
    const parts = wat.split(/^ \(func /m).slice(1);
    if (parts.length !== bodies.length) throw new Error(`wasm-relaxed: ${bodies.length} function bodies but wasm-dis prints ${parts.length} functions`);
    perFunction = parts.map((t) => (t.match(/\bf32x4\.relaxed_fma\b/g) || []).length);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  let replaced = 0;
  bodies.forEach(([b, e], f) => {
    if (!perFunction[f]) return;
    let here = 0;
    for (let i = b; i + 2 < e; i++) {
      if (bytes[i] === PROTO[0] && bytes[i + 1] === PROTO[1] && bytes[i + 2] === PROTO[2]) {
        bytes.set(FINAL, i);
        here++;
        i += 2;
      }
    }
    if (here !== perFunction[f]) throw new Error(`wasm-relaxed: function ${f} holds ${perFunction[f]} relaxed_fma but the byte pattern ${here} times`);
    replaced += here;
  });
  binaryen.setFeatures?.(binaryen.Features.All);
  const m = binaryen.readBinary(bytes);
  let after;
  try {
    m.setFeatures(binaryen.Features.All);
    if (!m.validate()) throw new Error('wasm-relaxed: the rewritten module does not validate');
    after = (m.emitText().match(/\bf32x4\.relaxed_madd\b/g) || []).length;
  } finally {
    m.dispose();
  }
  if (before !== replaced || after !== replaced)
    throw new Error(`wasm-relaxed: ${before} relaxed_fma in the input, ${replaced} rewritten, ${after} relaxed_madd in the output`);
  return { bytes, madds: replaced };
}

// the imports and exports of two modules (a relaxed twin must fit the plain build's JS glue)
// (WebAssembly.Module where this Node compiles relaxed SIMD; otherwise binaryen's reading of both)
export function sameInterface(a, b) {
  const sig = (bytes) => {
    const m = new WebAssembly.Module(bytes);
    return JSON.stringify([WebAssembly.Module.imports(m), WebAssembly.Module.exports(m)]);
  };
  try { return sig(a) === sig(b); } catch { return sameInterfaceBinaryen(a, b); }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  let plain = null;
  if (args[0] === '--same-interface') { plain = args[1]; args.splice(0, 2); }
  const [inp, out] = args;
  if (!inp || !out) { console.error('usage: node tools/wasm-relaxed.mjs [--same-interface PLAIN.wasm] IN.wasm OUT.wasm'); process.exit(2); }
  const r = relaxWasm(fs.readFileSync(inp));
  if (plain) {
    // the relaxed module compiles only where relaxed SIMD is on; compare the interfaces through
    // binaryen instead of WebAssembly.Module when this Node lacks it
    if (!sameInterface(fs.readFileSync(plain), r.bytes)) throw new Error(`wasm-relaxed: ${inp} and ${plain} differ in imports or exports: they cannot share the JS glue`);
  }
  fs.writeFileSync(out, r.bytes);
  console.error(`${out}: ${r.madds} f32x4.relaxed_madd${plain ? `, same imports and exports as ${plain}` : ''}`);
}

function sameInterfaceBinaryen(a, b) {
  const sig = (bytes) => {
    const m = binaryen.readBinary(bytes);
    try {
      m.setFeatures(binaryen.Features.All);
      const text = m.emitText();
      return JSON.stringify([text.match(/^ \(import .*$/gm), text.match(/^ \(export .*$/gm)]);
    } finally { m.dispose(); }
  };
  return sig(a) === sig(b);
}
