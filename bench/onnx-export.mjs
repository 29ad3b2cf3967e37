// onnx-export.mjs — convert a sialoscan model file (*.sialo) into an ONNX model (opset 13), so
// that ONNX Runtime can run the very same network with the very same weights.
//
//   node bench/onnx-export.mjs IN.sialo OUT.onnx [--nchw]
//   import { sialoToOnnx } from './onnx-export.mjs';
//   const { bytes, inputName, outputName, inputShape } = sialoToOnnx(readModelFile(buf));
//
// The model file is read with the independent JS reader (tests/node/lib/model-file.mjs); the graph
// semantics are those of src/engine/graph.h (NHWC data, Keras weight layouts). The ONNX graph is NCHW:
//   input          NHWC float32 [1,H,W,3] followed by a Transpose (or NCHW directly with --nchw)
//   conv           kernel [KH,KW,Cin/g,Cout] -> W [Cout,Cin/g,KH,KW]; 'same' resolved as TensorFlow
//                  does (pad_total = max((ceil(in/s)-1)*s+k-in, 0), before = total/2); a zero
//                  padding layer whose every consumer is a conv is folded into the conv's pads
//   batchnorm      BatchNormalization (ONNX Runtime folds it into the conv before it when it can)
//   affine         Mul + Add with [C,1,1] constants
//   pad            Pad (constant 0; -0.0 before a MaxPool, against an ONNX Runtime fusion bug)
//   maxpool        MaxPool (padding never wins, as ONNX's -inf padding)
//   avgpool        AveragePool, count_include_pad = 0 (padding cells not counted)
//   gap            GlobalAveragePool
//   dense          Flatten (after a transpose back to NHWC order when H*W > 1) + Gemm
//   relu / relu6   Relu / Clip(0, 6), also as the fused ACT of conv, dense, batchnorm, affine, add
//   add, sigmoid, softmax (over C), dropout (identity)
// No protobuf library: the few messages ONNX needs are encoded by hand below.
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { readModelFile } from '../tests/node/lib/model-file.mjs';

// ------------------------------------------------------------------ protobuf encoding
// A message is built as a list of Buffers; fields are (number, wire type) keys + payload.
function varint(v) {
  // non-negative numbers up to 2^53 as Numbers; negatives as 10-byte two's complement
  let b = typeof v === 'bigint' ? v : BigInt(v);
  if (b < 0n) b += 1n << 64n;
  const out = [];
  do {
    let byte = Number(b & 0x7fn);
    b >>= 7n;
    if (b) byte |= 0x80;
    out.push(byte);
  } while (b);
  return Buffer.from(out);
}
const key = (field, wire) => varint((field << 3) | wire);

class Msg {
  constructor() { this.parts = []; }
  int(field, v) { this.parts.push(key(field, 0), varint(v)); return this; }
  float(field, v) { const b = Buffer.alloc(4); b.writeFloatLE(v); this.parts.push(key(field, 5), b); return this; }
  bytes(field, buf) { this.parts.push(key(field, 2), varint(buf.length), buf); return this; }
  str(field, s) { return this.bytes(field, Buffer.from(s, 'utf8')); }
  msg(field, m) { return this.bytes(field, m.toBuffer()); }
  packedInts(field, arr) { return this.bytes(field, Buffer.concat(arr.map(varint))); }
  toBuffer() { return Buffer.concat(this.parts); }
}

const LITTLE_ENDIAN = os.endianness() === 'LE';

// ONNX enums
const FLOAT = 1, INT64 = 7;
const ATTR = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 };

function attr(name, v) {
  const a = new Msg().str(1, name);
  if (typeof v === 'string') a.bytes(4, Buffer.from(v)).int(20, ATTR.STRING);
  else if (Array.isArray(v)) { for (const x of v) a.int(8, x); a.int(20, ATTR.INTS); }
  else if (typeof v === 'object' && v.float !== undefined) a.float(2, v.float).int(20, ATTR.FLOAT);
  else a.int(3, v).int(20, ATTR.INT);
  return a;
}

function tensorProto(name, dims, data) {
  const t = new Msg();
  for (const d of dims) t.int(1, d);
  if (data instanceof BigInt64Array) {
    t.int(2, INT64).str(8, name).bytes(9, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  } else {
    const f = data instanceof Float32Array ? data : Float32Array.from(data);
    let b;
    if (LITTLE_ENDIAN) b = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
    else { b = Buffer.alloc(f.length * 4); for (let i = 0; i < f.length; i++) b.writeFloatLE(f[i], 4 * i); }
    t.int(2, FLOAT).str(8, name).bytes(9, b);
  }
  return t;
}

function valueInfo(name, dims) {
  const shape = new Msg();
  for (const d of dims) shape.msg(1, new Msg().int(1, d));
  const tt = new Msg().int(1, FLOAT).msg(2, shape);
  return new Msg().str(1, name).msg(2, new Msg().msg(1, tt));
}

// ------------------------------------------------------------------ graph conversion
const cdiv = (a, b) => Math.floor((a + b - 1) / b);

/** TensorFlow's 'same' / 'valid' / explicit window -> [pt, pb, pl, pr] and the output size. */
function resolveWindow(p, ih, iw) {
  const [kh, kw, sh, sw, mode] = p;
  let pt = p[5], pb = p[6], pl = p[7], pr = p[8];
  if (mode === 1) { // SAME
    const th = Math.max((cdiv(ih, sh) - 1) * sh + kh - ih, 0), tw = Math.max((cdiv(iw, sw) - 1) * sw + kw - iw, 0);
    pt = Math.floor(th / 2); pb = th - pt; pl = Math.floor(tw / 2); pr = tw - pl;
  } else if (mode === 2) { // VALID
    pt = pb = pl = pr = 0;
  } else if (mode !== 0) {
    throw new Error(`unknown padding mode ${mode}`);
  }
  const oh = Math.floor((ih + pt + pb - kh) / sh) + 1, ow = Math.floor((iw + pl + pr - kw) / sw) + 1;
  return { kh, kw, sh, sw, pt, pb, pl, pr, oh, ow };
}

/**
 * Convert a parsed model file ({meta, tensors, nodes} from readModelFile) to ONNX bytes.
 * @param {{nchw?: boolean, foldPads?: boolean, extraOutputs?: string[]}} opts  extraOutputs: layer
 *   names whose values (NCHW, or [N,C] after a dense) become additional graph outputs, for debugging
 */
export function sialoToOnnx(model, { nchw = false, foldPads = true, extraOutputs = [] } = {}) {
  const { meta, tensors, nodes } = model;
  const T = (name) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`tensor ${name} missing`);
    return t;
  };
  const onnxNodes = [];
  const inits = [];
  const used = new Set(['input', 'input_nchw', 'output']);
  const uniq = (base) => { let n = base, k = 1; while (used.has(n)) n = `${base}_${k++}`; used.add(n); return n; };
  const init = (name, dims, data) => { const n = uniq(name); inits.push(tensorProto(n, dims, data)); return n; };
  const node = (op, inputs, output, attrs = {}, name = output) => {
    const m = new Msg();
    for (const i of inputs) m.str(1, i);
    m.str(2, output).str(3, uniq(`${name}#${op}`)).str(4, op);
    for (const [k, v] of Object.entries(attrs)) m.msg(5, attr(k, v));
    onnxNodes.push(m);
    return output;
  };
  let clip0 = null, clip6 = null;
  const activation = (x, act, name) => {
    if (act === 0) return x;
    if (act === 1) return node('Relu', [x], uniq(`${name}/relu`));
    if (act === 2) {
      clip0 ??= init('const/zero', [], [0]);
      clip6 ??= init('const/six', [], [6]);
      return node('Clip', [x, clip0, clip6], uniq(`${name}/relu6`));
    }
    throw new Error(`${name}: unknown activation ${act}`);
  };

  // consumers, for folding zero padding into the conv(s) after it
  const consumers = nodes.map(() => []);
  nodes.forEach((n, i) => n.inputs.forEach((j) => consumers[j].push(i)));

  const H = meta.inputH, W = meta.inputW, C = meta.inputC;
  const inputName = 'input';
  const inputShape = nchw ? [1, C, H, W] : [1, H, W, C];
  // per sialo node: { name (ONNX value), h, w, c, rank (4 = NCHW, 2 = [N,C]), pads (pending folded pad) }
  const val = new Array(nodes.length);
  val[0] = { name: nchw ? inputName : node('Transpose', [inputName], 'input_nchw', { perm: [0, 3, 1, 2] }), h: H, w: W, c: C, rank: 4 };

  nodes.forEach((n, i) => {
    if (i === 0) return;
    const a = val[n.inputs[0]];
    const p = n.p;
    const out = uniq(n.name);
    let v;
    switch (n.opName) {
      case 'CONV': {
        const [kname, bname] = n.tensors;
        const k = T(kname);
        const [KH, KW, CI, CO] = k.dims;
        const groups = p[9];
        if (groups < 1 || a.c % groups || CI !== a.c / groups || CO !== p[10]) throw new Error(`${n.name}: conv shape mismatch`);
        // a folded zero padding: add it to the explicit pads
        let src = a, extra = [0, 0, 0, 0];
        if (a.foldedPad) { extra = a.foldedPad.pads; src = a.foldedPad.from; }
        const win = resolveWindow(p, a.h, a.w);
        const wt = new Float32Array(k.data.length);
        // [KH,KW,CI,CO] -> [CO,CI,KH,KW]
        for (let y = 0; y < KH; y++)
          for (let x = 0; x < KW; x++)
            for (let ci = 0; ci < CI; ci++)
              for (let co = 0; co < CO; co++)
                wt[((co * CI + ci) * KH + y) * KW + x] = k.data[((y * KW + x) * CI + ci) * CO + co];
        const ins = [src.name, init(`${n.name}/W`, [CO, CI, KH, KW], wt)];
        if (p[12]) ins.push(init(`${n.name}/B`, [CO], T(bname).data));
        let y = node('Conv', ins, p[11] ? uniq(`${n.name}/conv`) : out, {
          group: groups, kernel_shape: [KH, KW], strides: [win.sh, win.sw],
          pads: [win.pt + extra[0], win.pl + extra[2], win.pb + extra[1], win.pr + extra[3]], dilations: [1, 1],
        }, n.name);
        if (p[11]) y = activation(y, p[11], n.name);
        v = { name: y, h: win.oh, w: win.ow, c: CO, rank: 4 };
        break;
      }
      case 'DENSE': {
        const [kname, bname] = n.tensors;
        const k = T(kname);
        const cin = a.h * a.w * a.c;
        if (k.dims[0] !== cin || k.dims[1] !== p[0]) throw new Error(`${n.name}: dense shape mismatch`);
        let x = a.name;
        if (a.rank === 4) {
          if (a.h * a.w > 1) x = node('Transpose', [x], uniq(`${n.name}/nhwc`), { perm: [0, 2, 3, 1] }, n.name);
          x = node('Flatten', [x], uniq(`${n.name}/flat`), { axis: 1 }, n.name);
        }
        const ins = [x, init(`${n.name}/kernel`, k.dims, k.data)];
        if (p[2]) ins.push(init(`${n.name}/bias`, [p[0]], T(bname).data));
        let y = node('Gemm', ins, p[1] ? uniq(`${n.name}/gemm`) : out, {}, n.name);
        if (p[1]) y = activation(y, p[1], n.name);
        v = { name: y, h: 1, w: 1, c: p[0], rank: 2 };
        break;
      }
      case 'BATCHNORM': {
        const eps = new Float32Array(new Int32Array([p[1]]).buffer)[0];
        const ins = [a.name, ...n.tensors.map((t, j) => init(`${n.name}/${['gamma', 'beta', 'mean', 'var'][j]}`, [a.c], T(t).data))];
        if (a.rank !== 4) throw new Error(`${n.name}: batchnorm after dense is not supported`);
        let y = node('BatchNormalization', ins, p[0] ? uniq(`${n.name}/bn`) : out, { epsilon: { float: eps } }, n.name);
        if (p[0]) y = activation(y, p[0], n.name);
        v = { ...a, name: y, foldedPad: undefined };
        break;
      }
      case 'AFFINE': {
        const shp = a.rank === 4 ? [a.c, 1, 1] : [a.c];
        let y = node('Mul', [a.name, init(`${n.name}/scale`, shp, T(n.tensors[0]).data)], uniq(`${n.name}/mul`), {}, n.name);
        y = node('Add', [y, init(`${n.name}/shift`, shp, T(n.tensors[1]).data)], p[0] ? uniq(`${n.name}/add`) : out, {}, n.name);
        if (p[0]) y = activation(y, p[0], n.name);
        v = { ...a, name: y, foldedPad: undefined };
        break;
      }
      case 'RELU': v = { ...a, name: node('Relu', [a.name], out), foldedPad: undefined }; break;
      case 'RELU6': v = { ...a, name: activation(a.name, 2, n.name), foldedPad: undefined }; break;
      case 'ADD': {
        const b = val[n.inputs[1]];
        if (b.h !== a.h || b.w !== a.w || b.c !== a.c) throw new Error(`${n.name}: add shape mismatch`);
        let y = node('Add', [a.name, b.name], p[0] ? uniq(`${n.name}/add`) : out, {}, n.name);
        if (p[0]) y = activation(y, p[0], n.name);
        v = { ...a, name: y, foldedPad: undefined };
        break;
      }
      case 'MAXPOOL':
      case 'AVGPOOL': {
        const win = resolveWindow(p, a.h, a.w);
        const attrs = { kernel_shape: [win.kh, win.kw], strides: [win.sh, win.sw], pads: [win.pt, win.pl, win.pb, win.pr] };
        if (n.opName === 'AVGPOOL') attrs.count_include_pad = 0;
        v = { name: node(n.opName === 'MAXPOOL' ? 'MaxPool' : 'AveragePool', [a.name], out, attrs), h: win.oh, w: win.ow, c: a.c, rank: 4 };
        break;
      }
      case 'GAP':
        v = { name: node('GlobalAveragePool', [a.name], out), h: 1, w: 1, c: a.c, rank: 4 };
        break;
      case 'PAD': {
        const [pt, pb, pl, pr] = [p[5], p[6], p[7], p[8]];
        const h = a.h + pt + pb, w = a.w + pl + pr;
        const cons = consumers[i];
        if (foldPads && cons.length > 0 && cons.every((j) => nodes[j].opName === 'CONV')) {
          // no node of its own: each conv after it adds these pads to its own
          v = { name: a.name, h, w, c: a.c, rank: 4, foldedPad: { pads: [pt, pb, pl, pr], from: a } };
          break;
        }
        const pads = init(`${n.name}/pads`, [8], new BigInt64Array([0, 0, pt, pl, 0, 0, pb, pr].map(BigInt)));
        const ins = [a.name, pads];
        // ONNX Runtime's PadFusion (a level-1 optimisation) folds a zero Pad into a following
        // MaxPool's pads, which pad with -inf: wrong wherever a window at the border holds only
        // negative values (ResNet50V2's pool1_pad -> pool1_pool, no ReLU before it). It only
        // fuses when every byte of constant_value is 0, so pad with -0.0: the same value, and
        // the Pad stays a Pad.
        if (cons.some((j) => nodes[j].opName === 'MAXPOOL')) ins.push(init(`${n.name}/value`, [], [-0]));
        v = { name: node('Pad', ins, out, { mode: 'constant' }), h, w, c: a.c, rank: 4 };
        break;
      }
      case 'SIGMOID': v = { ...a, name: node('Sigmoid', [a.name], out), foldedPad: undefined }; break;
      case 'SOFTMAX': v = { ...a, name: node('Softmax', [a.name], out, { axis: a.rank === 4 ? 1 : -1 }), foldedPad: undefined }; break;
      case 'DROPOUT': v = { ...a }; break; // identity at inference
      default: throw new Error(`${n.name}: op ${n.opName} has no ONNX mapping here`);
    }
    if (v.foldedPad && !(n.opName === 'PAD' || n.opName === 'DROPOUT')) v.foldedPad = undefined;
    val[i] = v;
  });

  const last = val[nodes.length - 1];
  if (last.foldedPad) throw new Error('the graph ends in a zero padding');
  // the output, flattened in sialoscan's NHWC order: [1, n_classes] (after a dense or a global
  // pool), [1, H*W*C] for a backbone without head
  let outName = last.name;
  if (last.rank === 4) {
    if (last.h * last.w > 1) outName = node('Transpose', [outName], uniq('output_nhwc'), { perm: [0, 2, 3, 1] });
    outName = node('Flatten', [outName], uniq('output_flat'), { axis: 1 });
  }
  const outputName = 'output';
  node('Identity', [outName], outputName);

  const graph = new Msg();
  for (const m of onnxNodes) graph.msg(1, m);
  graph.str(2, `${meta.arch}_sialo`);
  for (const t of inits) graph.msg(5, t);
  graph.msg(11, valueInfo(inputName, inputShape));
  graph.msg(12, valueInfo(outputName, [1, last.h * last.w * last.c]));
  for (const name of extraOutputs) {
    const i = nodes.findIndex((n) => n.name === name);
    if (i < 0) throw new Error(`no layer named ${name}`);
    const v = val[i];
    if (v.foldedPad) throw new Error(`${name} is folded into the conv after it`);
    graph.msg(12, valueInfo(v.name, v.rank === 4 ? [1, v.c, v.h, v.w] : [1, v.c]));
  }
  const modelProto = new Msg()
    .int(1, 7) // ir_version 7 (the one of opset 13)
    .str(2, 'sialoscan bench/onnx-export.mjs')
    .str(3, '1')
    .msg(8, new Msg().str(1, '').int(2, 13))
    .msg(7, graph);
  const valueNames = Object.fromEntries(extraOutputs.map((name) => [name, val[nodes.findIndex((n) => n.name === name)].name]));
  return { bytes: new Uint8Array(modelProto.toBuffer()), inputName, outputName, inputShape, valueNames, nodes: onnxNodes.length, initializers: inits.length };
}

// ------------------------------------------------------------------ CLI
if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  const nchw = args.includes('--nchw');
  const [inPath, outPath] = args.filter((a) => !a.startsWith('--'));
  if (!inPath || !outPath) {
    console.error('usage: node bench/onnx-export.mjs IN.sialo OUT.onnx [--nchw]');
    process.exit(2);
  }
  const r = sialoToOnnx(readModelFile(fs.readFileSync(inPath)), { nchw });
  fs.writeFileSync(outPath, r.bytes);
  console.error(`wrote ${outPath}: ${r.nodes} nodes, ${r.initializers} initializers, input ${r.inputName} [${r.inputShape}], ${r.bytes.length} bytes`);
}
