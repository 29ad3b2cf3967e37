// tflite-float.mjs — a quantised TensorFlow Lite file (int8 / uint8 post-training quantisation)
// -> a FLOAT32 .tflite of the same weights, dequantised exactly as src/import/tflite.c does
// (w = scale[c] * (q - zero_point[c]), per tensor or per channel along quantized_dimension;
// int32 biases likewise), with QUANTIZE / DEQUANTIZE removed and every activation tensor float.
// The graph keeps its operators (CONV_2D, DEPTHWISE_CONV_2D, ADD, MEAN, FULLY_CONNECTED,
// SOFTMAX, ...), their options, fused activations and opcode versions: a float interpreter (TFLite
// with XNNPACK, e.g. TFLite-web) then runs the very weights our importer gives our engine.
// bench/chromium.mjs races TFLite-web on this file against ours on `sialoscan convert` of it.
//
//   node tools/tflite-float.mjs IN.tflite OUT.tflite     write the float file, print a summary
//   node tools/tflite-float.mjs --dump IN.tflite          operators, tensor types, quantisation
//
// Read and written with the `flatbuffers` npm package (ByteBuffer / Builder), no generated code:
// the schema fields used are listed below (tensorflow/lite/schema/schema.fbs, field ids). Metadata,
// signature defs and buffers nothing refers to are dropped; builtin options are re-encoded from
// the known tables below, and an option table with fields we do not know is refused (never copied
// half-understood).
//   Model          version:0 operator_codes:1 subgraphs:2 description:3 buffers:4 (metadata_buffer:5 metadata:6 signature_defs:7 dropped)
//   OperatorCode   deprecated_builtin_code:0 (i8) custom_code:1 version:2 builtin_code:3 (i32)
//   SubGraph       tensors:0 inputs:1 outputs:2 operators:3 name:4
//   Tensor         shape:0 type:1 buffer:2 name:3 quantization:4 is_variable:5 sparsity:6 (refused) shape_signature:7
//   Quantization   min:0 max:1 scale:2 zero_point:3 (i64) details_type:4 (refused) details:5 quantized_dimension:6
//   Buffer         data:0 ([ubyte], aligned to 16) offset:1 size:2 (u64: data after the flatbuffer)
//   Operator       opcode_index:0 inputs:1 outputs:2 builtin_options_type:3 builtin_options:4 custom_options:5
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ByteBuffer, Builder } from 'flatbuffers';

export const TT = { FLOAT32: 0, FLOAT16: 1, INT32: 2, UINT8: 3, INT64: 4, STRING: 5, BOOL: 6, INT16: 7, INT8: 9 };
const TT_NAME = Object.fromEntries(Object.entries(TT).map(([k, v]) => [v, k]));
export const OP = { ADD: 0, AVERAGE_POOL_2D: 1, CONCATENATION: 2, CONV_2D: 3, DEPTHWISE_CONV_2D: 4, DEQUANTIZE: 6, FULLY_CONNECTED: 9,
  LOGISTIC: 14, MAX_POOL_2D: 17, MUL: 18, RELU: 19, RELU6: 21, RESHAPE: 22, SOFTMAX: 25, PAD: 34, MEAN: 40, SUB: 41, SQUEEZE: 43,
  QUANTIZE: 114, HARD_SWISH: 117 };
const OP_NAME = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));

// builtin options (union BuiltinOptions): type id -> [name, fields in field-id order: [name, kind, default]]
// kinds: i8 (also enums), bool, i32, f32, vi32 (vector of int)
const FUSED = ['fused_activation_function', 'i8', 0];
export const OPTIONS = {
  1: ['Conv2DOptions', [['padding', 'i8', 0], ['stride_w', 'i32', 0], ['stride_h', 'i32', 0], FUSED,
    ['dilation_w_factor', 'i32', 1], ['dilation_h_factor', 'i32', 1], ['quantized_bias_type', 'i8', 0]]],
  2: ['DepthwiseConv2DOptions', [['padding', 'i8', 0], ['stride_w', 'i32', 0], ['stride_h', 'i32', 0], ['depth_multiplier', 'i32', 0], FUSED,
    ['dilation_w_factor', 'i32', 1], ['dilation_h_factor', 'i32', 1]]],
  5: ['Pool2DOptions', [['padding', 'i8', 0], ['stride_w', 'i32', 0], ['stride_h', 'i32', 0], ['filter_width', 'i32', 0], ['filter_height', 'i32', 0], FUSED]],
  8: ['FullyConnectedOptions', [FUSED, ['weights_format', 'i8', 0], ['keep_num_dims', 'bool', false], ['asymmetric_quantize_inputs', 'bool', false],
    ['quantized_bias_type', 'i8', 0]]],
  9: ['SoftmaxOptions', [['beta', 'f32', 0]]],
  10: ['ConcatenationOptions', [['axis', 'i32', 0], FUSED]],
  11: ['AddOptions', [FUSED, ['pot_scale_int16', 'bool', true]]],
  17: ['ReshapeOptions', [['new_shape', 'vi32', null]]],
  21: ['MulOptions', [FUSED]],
  22: ['PadOptions', []],
  27: ['ReducerOptions', [['keep_dims', 'bool', false]]],
  28: ['SubOptions', [FUSED, ['pot_scale_int16', 'bool', true]]],
  30: ['SqueezeOptions', [['squeeze_dims', 'vi32', null]]],
};

// ------------------------------------------------------------------ reading
class Reader {
  constructor(bytes) {
    this.bytes = bytes;
    this.bb = new ByteBuffer(bytes);
  }
  off(t, id) { return this.bb.__offset(t, 4 + 2 * id); } // 0: absent
  nFields(t) { return (this.bb.readUint16(t - this.bb.readInt32(t)) - 4) / 2; }
  i8(t, id, d) { const o = this.off(t, id); return o ? this.bb.readInt8(t + o) : d; }
  u8(t, id, d) { const o = this.off(t, id); return o ? this.bb.readUint8(t + o) : d; }
  i32(t, id, d) { const o = this.off(t, id); return o ? this.bb.readInt32(t + o) : d; }
  u32(t, id, d) { const o = this.off(t, id); return o ? this.bb.readUint32(t + o) : d; }
  f32(t, id, d) { const o = this.off(t, id); return o ? this.bb.readFloat32(t + o) : d; }
  u64(t, id, d) { const o = this.off(t, id); return o ? this.bb.readUint64(t + o) : d; }
  str(t, id) { const o = this.off(t, id); return o ? this.bb.__string(t + o) : null; }
  table(t, id) { const o = this.off(t, id); return o ? this.bb.__indirect(t + o) : null; }
  vec(t, id) { // [start, length] or null
    const o = this.off(t, id);
    if (!o) return null;
    const start = this.bb.__vector(t + o), n = this.bb.__vector_len(t + o);
    if (start + n > this.bytes.length) throw new Error('tflite: a vector runs past the end of the file');
    return [start, n];
  }
  ints(t, id) { const v = this.vec(t, id); return v ? Array.from({ length: v[1] }, (_, i) => this.bb.readInt32(v[0] + 4 * i)) : null; }
  floats(t, id) { const v = this.vec(t, id); return v ? Array.from({ length: v[1] }, (_, i) => this.bb.readFloat32(v[0] + 4 * i)) : null; }
  longs(t, id) { const v = this.vec(t, id); return v ? Array.from({ length: v[1] }, (_, i) => Number(this.bb.readInt64(v[0] + 8 * i))) : null; }
  tables(t, id) { const v = this.vec(t, id); return v ? Array.from({ length: v[1] }, (_, i) => this.bb.__indirect(v[0] + 4 * i)) : []; }
  bytesOf(t, id) { const v = this.vec(t, id); return v ? this.bytes.subarray(v[0], v[0] + v[1]) : null; }
}

function readOptions(r, type, t) {
  const known = OPTIONS[type];
  if (!known) {
    if (r.nFields(t) === 0 || [...Array(r.nFields(t)).keys()].every((i) => !r.off(t, i))) return { type, empty: true };
    throw new Error(`tflite: builtin options of type ${type} are not known to tools/tflite-float.mjs`);
  }
  const [name, fields] = known;
  for (let i = fields.length; i < r.nFields(t); i++)
    if (r.off(t, i)) throw new Error(`tflite: ${name} has field ${i}, which tools/tflite-float.mjs does not know`);
  const o = { type, name, values: {} };
  fields.forEach(([f, kind, d], i) => {
    o.values[f] = kind === 'i8' ? r.i8(t, i, d) : kind === 'bool' ? !!r.u8(t, i, d ? 1 : 0) : kind === 'i32' ? r.i32(t, i, d)
      : kind === 'f32' ? r.f32(t, i, d) : r.ints(t, i);
  });
  return o;
}

/** bytes -> { version, description, operatorCodes, subgraphs, buffers } (buffers: Uint8Array | null) */
export function readTflite(bytes) {
  bytes = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (bytes.length < 8 || String.fromCharCode(...bytes.subarray(4, 8)) !== 'TFL3') throw new Error('tflite: not a TFLite file (no TFL3 identifier)');
  const r = new Reader(bytes);
  const root = r.bb.readUint32(0);
  const model = {
    version: r.u32(root, 0, 0),
    description: r.str(root, 3),
    operatorCodes: r.tables(root, 1).map((t) => ({
      builtinCode: Math.max(r.i8(t, 0, 0), r.i32(t, 3, 0)), customCode: r.str(t, 1), version: r.i32(t, 2, 1),
    })),
    buffers: r.tables(root, 4).map((t) => {
      const data = r.bytesOf(t, 0);
      if (data && data.length) return data;
      const offset = Number(r.u64(t, 1, 0n)), size = Number(r.u64(t, 2, 0n));
      if (offset > 1 && size) {
        if (offset + size > bytes.length) throw new Error('tflite: a buffer lies outside the file');
        return bytes.subarray(offset, offset + size);
      }
      return null;
    }),
    subgraphs: r.tables(root, 2).map((g) => ({
      name: r.str(g, 4),
      inputs: r.ints(g, 1) ?? [],
      outputs: r.ints(g, 2) ?? [],
      tensors: r.tables(g, 0).map((t) => {
        if (r.table(t, 6)) throw new Error(`tflite: tensor ${r.str(t, 3)} is sparse (not supported)`);
        const q = r.table(t, 4);
        let quant = null;
        if (q) {
          if (r.u8(q, 4, 0)) throw new Error(`tflite: tensor ${r.str(t, 3)} has custom quantisation (not supported)`);
          quant = { min: r.floats(q, 0), max: r.floats(q, 1), scale: r.floats(q, 2), zeroPoint: r.longs(q, 3), quantizedDimension: r.i32(q, 6, 0) };
          if (!quant.min && !quant.max && !quant.scale && !quant.zeroPoint) quant = null;
        }
        return {
          shape: r.ints(t, 0) ?? [], type: r.i8(t, 1, 0), buffer: r.u32(t, 2, 0), name: r.str(t, 3), quant,
          isVariable: !!r.u8(t, 5, 0), shapeSignature: r.ints(t, 7),
        };
      }),
      operators: r.tables(g, 3).map((o) => {
        const type = r.u8(o, 3, 0), opt = r.table(o, 4);
        if (r.vec(o, 5)) throw new Error('tflite: custom options are not supported');
        return { opcodeIndex: r.u32(o, 0, 0), inputs: r.ints(o, 1) ?? [], outputs: r.ints(o, 2) ?? [], options: type && opt ? readOptions(r, type, opt) : null };
      }),
    })),
  };
  return model;
}

// ------------------------------------------------------------------ float conversion
const elemSize = { [TT.FLOAT32]: 4, [TT.FLOAT16]: 2, [TT.INT32]: 4, [TT.UINT8]: 1, [TT.INT64]: 8, [TT.INT16]: 2, [TT.INT8]: 1, [TT.BOOL]: 1 };

/** the float values of a quantised constant tensor: scale[c] * (q - zero_point[c]) */
export function dequantizeTensor(t, data) {
  const count = t.shape.reduce((a, b) => a * b, 1);
  if (!data || data.length !== count * elemSize[t.type]) throw new Error(`tflite: tensor ${t.name}: ${data?.length ?? 0} bytes for ${count} elements of ${TT_NAME[t.type]}`);
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const q = t.quant;
  const scale = q?.scale ?? [1], zp = q?.zeroPoint ?? [0];
  const nq = scale.length;
  let inner = 1, dimLen = 1;
  if (nq > 1) {
    const d = q.quantizedDimension;
    dimLen = t.shape[d];
    if (dimLen !== nq) throw new Error(`tflite: tensor ${t.name}: ${nq} scales along dimension ${d} of size ${dimLen}`);
    inner = t.shape.slice(d + 1).reduce((a, b) => a * b, 1);
  }
  const out = new Float32Array(count);
  for (let k = 0; k < count; k++) {
    const v = t.type === TT.INT8 ? dv.getInt8(k) : t.type === TT.UINT8 ? dv.getUint8(k) : t.type === TT.INT16 ? dv.getInt16(2 * k, true)
      : t.type === TT.INT32 ? dv.getInt32(4 * k, true) : NaN;
    if (Number.isNaN(v)) throw new Error(`tflite: tensor ${t.name}: cannot dequantise ${TT_NAME[t.type]}`);
    const c = nq > 1 ? Math.floor(k / inner) % dimLen : 0;
    // as the C importer: (float)((double)scale * (q - zp)), one rounding
    out[k] = Math.fround(scale[c] * (v - (zp.length > 1 ? zp[c] : zp[0] ?? 0)));
  }
  return out;
}

const QUANT_TYPES = new Set([TT.INT8, TT.UINT8, TT.INT16]);

/** a quantised model -> a float one (new object; the input model is not changed) */
export function floatModel(m) {
  if (m.subgraphs.length !== 1) throw new Error(`tflite: ${m.subgraphs.length} subgraphs (one supported)`);
  const g = m.subgraphs[0];
  const stats = { dequantised: 0, dropped: { QUANTIZE: 0, DEQUANTIZE: 0 }, params: 0 };
  // 1. drop QUANTIZE / DEQUANTIZE: in the float domain each is the identity; alias output -> input
  const alias = new Map();
  const resolve = (i) => { while (alias.has(i)) i = alias.get(i); return i; };
  const ops = [];
  for (const op of g.operators) {
    const code = m.operatorCodes[op.opcodeIndex].builtinCode;
    if (code === OP.QUANTIZE || code === OP.DEQUANTIZE) {
      if (op.inputs.length !== 1 || op.outputs.length !== 1) throw new Error('tflite: a (DE)QUANTIZE with more than one input or output');
      alias.set(op.outputs[0], op.inputs[0]);
      stats.dropped[OP_NAME[code]]++;
    } else ops.push(op);
  }
  for (const op of ops)
    if (!m.operatorCodes[op.opcodeIndex].builtinCode && m.operatorCodes[op.opcodeIndex].customCode)
      throw new Error(`tflite: custom operator ${m.operatorCodes[op.opcodeIndex].customCode}`);
  // 2. tensors still referenced, in their original order
  const used = new Set();
  const ref = (i) => { if (i >= 0) used.add(resolve(i)); };
  g.inputs.forEach(ref); g.outputs.forEach(ref);
  for (const op of ops) { op.inputs.forEach(ref); op.outputs.forEach(ref); }
  const keep = [...used].sort((a, b) => a - b);
  const newIndex = new Map(keep.map((t, i) => [t, i]));
  const remap = (i) => (i < 0 ? i : newIndex.get(resolve(i)));
  // 3. float tensors, fresh buffers (0: the empty buffer, by convention)
  const buffers = [null];
  const tensors = keep.map((ti) => {
    const t = g.tensors[ti];
    const data = t.buffer > 0 ? m.buffers[t.buffer] : null;
    const quantised = QUANT_TYPES.has(t.type) || (t.type === TT.INT32 && t.quant?.scale?.length);
    const nt = { shape: t.shape, type: t.type, buffer: 0, name: t.name, quant: null, isVariable: t.isVariable, shapeSignature: t.shapeSignature };
    if (quantised) {
      nt.type = TT.FLOAT32;
      if (data) {
        const f = dequantizeTensor(t, data);
        nt.buffer = buffers.push(new Uint8Array(f.buffer)) - 1;
        stats.dequantised++;
        stats.params += f.length;
      }
    } else if (t.type === TT.FLOAT32 || t.type === TT.INT32 || t.type === TT.INT64 || t.type === TT.BOOL) {
      if (data) {
        nt.buffer = buffers.push(data) - 1;
        if (t.type === TT.FLOAT32) stats.params += data.length / 4;
      }
    } else throw new Error(`tflite: tensor ${t.name} has type ${TT_NAME[t.type] ?? t.type}`);
    return nt;
  });
  // 4. operator codes still used; options without their quantisation-only fields
  const codes = [], codeIndex = new Map();
  const newOps = ops.map((op) => {
    if (!codeIndex.has(op.opcodeIndex)) codeIndex.set(op.opcodeIndex, codes.push({ ...m.operatorCodes[op.opcodeIndex] }) - 1);
    let options = op.options;
    if (options?.values) {
      const v = { ...options.values };
      if ('quantized_bias_type' in v) v.quantized_bias_type = 0;
      if ('asymmetric_quantize_inputs' in v) v.asymmetric_quantize_inputs = false;
      options = { ...options, values: v };
    }
    return { opcodeIndex: codeIndex.get(op.opcodeIndex), inputs: op.inputs.map(remap), outputs: op.outputs.map(remap), options };
  });
  const out = {
    version: m.version,
    description: `${m.description ?? 'TFLite model'} — float32 weights dequantised by sialoscan tools/tflite-float.mjs`,
    operatorCodes: codes, buffers,
    subgraphs: [{ name: g.name, inputs: g.inputs.map(remap), outputs: g.outputs.map(remap), tensors, operators: newOps }],
  };
  return { model: out, stats };
}

// ------------------------------------------------------------------ writing
function intVector(b, a) {
  b.startVector(4, a.length, 4);
  for (let i = a.length - 1; i >= 0; i--) b.addInt32(a[i]);
  return b.endVector();
}
function floatVector(b, a) {
  b.startVector(4, a.length, 4);
  for (let i = a.length - 1; i >= 0; i--) b.addFloat32(a[i]);
  return b.endVector();
}
function longVector(b, a) {
  b.startVector(8, a.length, 8);
  for (let i = a.length - 1; i >= 0; i--) b.addInt64(BigInt(a[i]));
  return b.endVector();
}
function offsetVector(b, a) {
  b.startVector(4, a.length, 4);
  for (let i = a.length - 1; i >= 0; i--) b.addOffset(a[i]);
  return b.endVector();
}
function alignedBytes(b, bytes, align) { // Buffer.data is (force_align: 16)
  b.startVector(1, bytes.length, align);
  b.bb.setPosition((b.space -= bytes.length));
  b.bb.bytes().set(bytes, b.space);
  return b.endVector();
}

function writeOptions(b, o) {
  if (o.empty) { b.startObject(0); return b.endObject(); }
  const [, fields] = OPTIONS[o.type];
  const vecs = fields.map(([f, kind]) => (kind === 'vi32' && o.values[f] ? intVector(b, o.values[f]) : 0));
  b.startObject(fields.length);
  fields.forEach(([f, kind, d], i) => {
    const v = o.values[f];
    if (kind === 'i8') b.addFieldInt8(i, v, d);
    else if (kind === 'bool') b.addFieldInt8(i, v ? 1 : 0, d ? 1 : 0);
    else if (kind === 'i32') b.addFieldInt32(i, v, d);
    else if (kind === 'f32') b.addFieldFloat32(i, v, d);
    else if (vecs[i]) b.addFieldOffset(i, vecs[i], 0);
  });
  return b.endObject();
}

/** model object -> .tflite bytes */
export function writeTflite(m) {
  const b = new Builder(1 << 20);
  // buffers first (the bulk of the file)
  const bufs = m.buffers.map((data) => {
    const d = data && data.length ? alignedBytes(b, data, 16) : 0;
    b.startObject(3);
    if (d) b.addFieldOffset(0, d, 0);
    return b.endObject();
  });
  const subgraphs = m.subgraphs.map((g) => {
    const tensors = g.tensors.map((t) => {
      const shape = intVector(b, t.shape);
      const name = b.createString(t.name ?? '');
      const sig = t.shapeSignature ? intVector(b, t.shapeSignature) : 0;
      let q = 0;
      if (t.quant) {
        const mn = t.quant.min ? floatVector(b, t.quant.min) : 0, mx = t.quant.max ? floatVector(b, t.quant.max) : 0;
        const sc = t.quant.scale ? floatVector(b, t.quant.scale) : 0, zp = t.quant.zeroPoint ? longVector(b, t.quant.zeroPoint) : 0;
        b.startObject(7);
        if (mn) b.addFieldOffset(0, mn, 0);
        if (mx) b.addFieldOffset(1, mx, 0);
        if (sc) b.addFieldOffset(2, sc, 0);
        if (zp) b.addFieldOffset(3, zp, 0);
        b.addFieldInt32(6, t.quant.quantizedDimension ?? 0, 0);
        q = b.endObject();
      }
      b.startObject(8);
      b.addFieldOffset(0, shape, 0);
      b.addFieldInt8(1, t.type, 0);
      b.addFieldInt32(2, t.buffer, 0);
      b.addFieldOffset(3, name, 0);
      if (q) b.addFieldOffset(4, q, 0);
      if (t.isVariable) b.addFieldInt8(5, 1, 0);
      if (sig) b.addFieldOffset(7, sig, 0);
      return b.endObject();
    });
    const ops = g.operators.map((op) => {
      const ins = intVector(b, op.inputs), outs = intVector(b, op.outputs);
      const opt = op.options ? writeOptions(b, op.options) : 0;
      b.startObject(5);
      b.addFieldInt32(0, op.opcodeIndex, 0);
      b.addFieldOffset(1, ins, 0);
      b.addFieldOffset(2, outs, 0);
      if (opt) { b.addFieldInt8(3, op.options.type, 0); b.addFieldOffset(4, opt, 0); }
      return b.endObject();
    });
    const tv = offsetVector(b, tensors), iv = intVector(b, g.inputs), ov = intVector(b, g.outputs), opv = offsetVector(b, ops);
    const name = g.name ? b.createString(g.name) : 0;
    b.startObject(5);
    b.addFieldOffset(0, tv, 0);
    b.addFieldOffset(1, iv, 0);
    b.addFieldOffset(2, ov, 0);
    b.addFieldOffset(3, opv, 0);
    if (name) b.addFieldOffset(4, name, 0);
    return b.endObject();
  });
  const codes = m.operatorCodes.map((c) => {
    const custom = c.customCode ? b.createString(c.customCode) : 0;
    b.startObject(4);
    b.addFieldInt8(0, Math.min(c.builtinCode, 127), 0); // PLACEHOLDER_FOR_GREATER_OP_CODES above 127
    if (custom) b.addFieldOffset(1, custom, 0);
    b.addFieldInt32(2, c.version, 1);
    b.addFieldInt32(3, c.builtinCode, 0);
    return b.endObject();
  });
  const codesV = offsetVector(b, codes), sgV = offsetVector(b, subgraphs), bufV = offsetVector(b, bufs);
  const desc = m.description ? b.createString(m.description) : 0;
  b.startObject(5);
  b.addFieldInt32(0, m.version ?? 3, 0);
  b.addFieldOffset(1, codesV, 0);
  b.addFieldOffset(2, sgV, 0);
  if (desc) b.addFieldOffset(3, desc, 0);
  b.addFieldOffset(4, bufV, 0);
  b.finish(b.endObject(), 'TFL3');
  return b.asUint8Array().slice();
}

/** quantised .tflite bytes -> { bytes (float .tflite), stats } */
export function tfliteToFloat(bytes) {
  const { model, stats } = floatModel(readTflite(bytes));
  return { bytes: writeTflite(model), stats };
}

export function describe(m) {
  const g = m.subgraphs[0];
  const counts = {};
  for (const op of g.operators) {
    const c = m.operatorCodes[op.opcodeIndex];
    const k = `${OP_NAME[c.builtinCode] ?? c.builtinCode} v${c.version}`;
    counts[k] = (counts[k] ?? 0) + 1;
  }
  const types = {};
  for (const t of g.tensors) { const k = `${TT_NAME[t.type]}${t.quant?.scale ? ` q${t.quant.scale.length > 1 ? '/ch' : ''}` : ''}${t.buffer && m.buffers[t.buffer]?.length ? ' const' : ''}`; types[k] = (types[k] ?? 0) + 1; }
  const io = (i) => `${g.tensors[i].name} [${g.tensors[i].shape}] ${TT_NAME[g.tensors[i].type]}`;
  return { operators: counts, tensors: types, inputs: g.inputs.map(io), outputs: g.outputs.map(io), buffers: m.buffers.length };
}

// ------------------------------------------------------------------ CLI
if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  const args = process.argv.slice(2);
  try {
    if (args[0] === '--dump' && args.length === 2) {
      console.log(JSON.stringify(describe(readTflite(fs.readFileSync(args[1]))), null, 1));
    } else if (args.length === 2 && !args[0].startsWith('-')) {
      const t0 = performance.now();
      const { bytes, stats } = tfliteToFloat(fs.readFileSync(args[0]));
      fs.writeFileSync(args[1], bytes);
      console.error(`tflite-float: ${args[1]}: ${(bytes.length / 1e6).toFixed(1)} MB, ${stats.params} float parameters, ${stats.dequantised} tensors dequantised, ` +
        `dropped ${stats.dropped.QUANTIZE} QUANTIZE + ${stats.dropped.DEQUANTIZE} DEQUANTIZE, ${Math.round(performance.now() - t0)} ms`);
    } else {
      console.error('usage: node tools/tflite-float.mjs IN.tflite OUT.tflite | --dump IN.tflite');
      process.exit(2);
    }
  } catch (e) {
    console.error(`tflite-float: ${e.message}`);
    process.exit(1);
  }
}
