// model-file.mjs — an independent JavaScript reader of sialoscan model files (*.sialo).
//
// Written from the format specification at the top of src/engine/model_file.c (versions 1 to 4), not from
// the C reader, so that the tests cross-check the two. Returns
//   { meta, tensors: Map(name -> { dims, data: Float32Array }), nodes }            (versions 1, 2)
//   { meta, members: [{ meta, tensors, nodes, recordOffset, bodyOffset }] }        (version 3 or 4, an ensemble;
//      a member's meta: arch, provenance, inputH/W/C, normScale, normBias; the offsets: of its record
//      and of its body in the file)
// Version 4 (either shape) adds meta.sections: [{ tag, network, offset, size }] (network -1 = the whole
// model; offset: of the section's bytes in the file), e.g. the out-of-distribution statistics, and
// meta.inputModes: { modes: 'whole' | 'box' | 'both', margin } from the "input-modes" section ('whole',
// margin 0 without it: every older file), and meta.boxModel: the model file nested in a "box-model"
// section (read by this same function: the model that classifies lesion boxes), or absent,
// and throws an Error with a readable message for anything malformed.

const MAGIC = 'SIALOSCN';
const HEADER_SIZE = 32;

// Op codes, in the order of `sialo_op` in src/engine/graph.h.
export const OPS = [
  'INPUT', 'CONV', 'DENSE', 'BATCHNORM', 'RELU', 'RELU6', 'ADD', 'MAXPOOL', 'AVGPOOL', 'GAP',
  'PAD', 'SIGMOID', 'SOFTMAX', 'DROPOUT', 'AFFINE',
];

let crcTable = null;
export function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = crcTable[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

export function f16ToF32(h) {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Parse a .sialo file.
 * @param {Uint8Array|Buffer|ArrayBuffer} input
 * @param {{verifyChecksum?: boolean}} [opts]
 */
export function readModelFile(input, opts = {}) {
  const bytes = input instanceof ArrayBuffer ? new Uint8Array(input)
    : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < HEADER_SIZE) throw new Error(`sialo: file too short (${bytes.length} bytes)`);
  const magic = String.fromCharCode(...bytes.subarray(0, 8));
  if (magic !== MAGIC) throw new Error(`sialo: wrong magic ${JSON.stringify(magic)}`);
  const version = dv.getUint32(8, true);
  if (version < 1 || version > 4) throw new Error(`sialo: unsupported version ${version}`);
  const bits = dv.getUint32(12, true);
  if (bits !== 32 && bits !== 16) throw new Error(`sialo: storage bits ${bits}`);
  const payloadSize = Number(dv.getBigUint64(16, true));
  if (payloadSize !== bytes.length - HEADER_SIZE)
    throw new Error(`sialo: payload size ${payloadSize} but file holds ${bytes.length - HEADER_SIZE}`);
  const crc = dv.getUint32(24, true);
  if (dv.getUint32(28, true) !== 0) throw new Error('sialo: reserved header field is not 0');
  if (opts.verifyChecksum !== false) {
    const got = crc32(bytes.subarray(HEADER_SIZE));
    if (got !== crc) throw new Error(`sialo: CRC mismatch (stored ${crc.toString(16)}, computed ${got.toString(16)})`);
  }

  let pos = HEADER_SIZE;
  let end = bytes.length;
  const need = (k, what) => {
    if (pos + k > end) throw new Error(`sialo: truncated while reading ${what} at offset ${pos}`);
  };
  const u32 = (what) => { need(4, what); const v = dv.getUint32(pos, true); pos += 4; return v; };
  const i32 = (what) => { need(4, what); const v = dv.getInt32(pos, true); pos += 4; return v; };
  const u64 = (what) => { need(8, what); const v = dv.getBigUint64(pos, true); pos += 8; return Number(v); };
  const f32 = (what) => { need(4, what); const v = dv.getFloat32(pos, true); pos += 4; return v; };
  const dec = new TextDecoder('utf-8', { fatal: true });
  const str = (what) => {
    const n = u32(`${what} length`);
    need(n, what);
    const s = dec.decode(bytes.subarray(pos, pos + n));
    pos += n;
    return s;
  };

  const meta = { version, storageBits: bits, checksum: crc };
  meta.arch = str('arch');
  meta.provenance = str('provenance');
  meta.inputH = u32('input_h');
  meta.inputW = u32('input_w');
  meta.inputC = u32('input_c');
  meta.normScale = [f32('norm'), f32('norm'), f32('norm')];
  meta.normBias = [f32('norm'), f32('norm'), f32('norm')];
  meta.nClasses = u32('n_classes');
  const ncn = u32('n_class_names');
  if (ncn > end - pos) throw new Error(`sialo: ${ncn} class names`);
  meta.classNames = [];
  for (let i = 0; i < ncn; i++) meta.classNames.push(str('class name'));
  meta.threshold = f32('threshold');
  // version 2: Platt scaling of p(positive), sigmoid(a·logit(p) + b); version 1: none
  meta.calibration = version >= 2 ? { a: f32('calib_a'), b: f32('calib_b') } : { a: 1, b: 0 };
  meta.inputModes = { modes: 'whole', margin: 0 };

  let networks = version === 3 ? 2 : 1;
  if (version === 4) { // sections, then the network count: one network's body, or an ensemble's records
    const ns = u32('n_sections');
    if (ns > 64) throw new Error(`sialo: ${ns} sections`);
    meta.sections = [];
    for (let i = 0; i < ns; i++) {
      const tag = str('section tag');
      const net = u32('section network');
      const size = u64('section size');
      need(size, `section ${tag}`);
      meta.sections.push({ tag, network: net === 0xFFFFFFFF ? -1 : net, offset: pos, size });
      if (tag === 'input-modes') {
        if (size !== 8) throw new Error(`sialo: input-modes section of ${size} bytes`);
        const dv = new DataView(bytes.buffer, bytes.byteOffset + pos, 8);
        const modes = dv.getUint32(0, true), margin = dv.getFloat32(4, true);
        if (modes < 1 || modes > 3 || !(margin >= 0 && margin <= 2)) throw new Error(`sialo: input modes ${modes}, margin ${margin}`);
        meta.inputModes = { modes: ['', 'whole', 'box', 'both'][modes], margin };
      } else if (tag === 'box-model') {
        if (meta.boxModel) throw new Error('sialo: two box-model sections');
        meta.boxModel = readModelFile(bytes.slice(pos, pos + size), opts);
        if (meta.boxModel.meta.boxModel) throw new Error('sialo: a box model inside the box model');
      }
      pos += size;
    }
    networks = u32('n_networks');
    if (networks < 1 || networks > 16) throw new Error(`sialo: ${networks} networks`);
    if (networks > 1) pos -= 4; // the ensemble's records start with the count, as in version 3
  }
  if (networks > 1) { // an ensemble: the networks, each a record and a body
    const n = u32('n_networks');
    if (n < 2 || n > 16) throw new Error(`sialo: an ensemble of ${n} networks`);
    const members = [];
    for (let k = 0; k < n; k++) {
      const recordOffset = pos;
      const m = { arch: str('network arch'), provenance: str('network provenance'),
        inputH: u32('input_h'), inputW: u32('input_w'), inputC: u32('input_c') };
      m.normScale = [f32('norm'), f32('norm'), f32('norm')];
      m.normBias = [f32('norm'), f32('norm'), f32('norm')];
      const size = u64('body size');
      need(size, 'network body');
      const bodyOffset = pos, fileEnd = end;
      end = pos + size;
      const body = readBody();
      if (pos > end) throw new Error('sialo: network body overruns');
      pos = end;
      end = fileEnd;
      members.push({ meta: m, ...body, recordOffset, bodyOffset });
    }
    if (pos !== end) throw new Error(`sialo: ${end - pos} bytes after the last network`);
    return { meta, members };
  }
  return { meta, ...readBody() };

  // tensors, nodes and data from pos to end (the data section: the next multiple of 16 of the file offset)
  function readBody() {
  const nt = u32('n_tensors');
  if (nt * 20 > end - pos) throw new Error(`sialo: ${nt} tensors announced`);
  const tdesc = [];
  for (let i = 0; i < nt; i++) {
    const name = str('tensor name');
    const ndim = u32('tensor ndim');
    if (ndim < 1 || ndim > 4) throw new Error(`sialo: tensor ${name} has ${ndim} dims`);
    const dims = [];
    let count = 1;
    for (let d = 0; d < ndim; d++) {
      const v = u32('tensor dim');
      if (v < 1) throw new Error(`sialo: tensor ${name} dim ${d} is ${v}`);
      dims.push(v);
      count *= v;
    }
    const offset = u64('tensor offset');
    tdesc.push({ name, dims, count, offset });
  }

  const nn = u32('n_nodes');
  if (nn < 1 || nn * 80 > end - pos) throw new Error(`sialo: ${nn} nodes announced`);
  const nodes = [];
  for (let i = 0; i < nn; i++) {
    const op = u32('op');
    const name = str('node name');
    const nIn = u32('n_in');
    if (nIn > 2) throw new Error(`sialo: node ${name} has ${nIn} inputs`);
    const inputs = [];
    for (let k = 0; k < nIn; k++) {
      const v = u32('node input');
      if (v >= i) throw new Error(`sialo: node ${name} input ${v} is not earlier`);
      inputs.push(v);
    }
    const p = [];
    for (let k = 0; k < 16; k++) p.push(i32('node param'));
    const nT = u32('n_t');
    if (nT > 4) throw new Error(`sialo: node ${name} has ${nT} tensors`);
    const t = [];
    for (let k = 0; k < nT; k++) {
      const v = u32('node tensor');
      if (v >= nt) throw new Error(`sialo: node ${name} tensor index ${v} >= ${nt}`);
      t.push(v);
    }
    if (op >= OPS.length) throw new Error(`sialo: node ${name} op ${op}`);
    nodes.push({ op, opName: OPS[op], name, inputs, p, tensors: t.map((k) => tdesc[k].name) });
  }
  if (nodes[0].opName !== 'INPUT') throw new Error('sialo: node 0 is not INPUT');

  const dataStart = Math.ceil(pos / 16) * 16; // file offset (the header is 32 bytes, so same alignment)
  for (let k = pos; k < Math.min(dataStart, end); k++)
    if (bytes[k] !== 0) throw new Error('sialo: non-zero padding before the data section');
  const elt = bits / 8;
  const tensors = new Map();
  let prevEnd = 0;
  for (const t of tdesc) {
    const nbytes = t.count * elt;
    if (t.offset % 4 || t.offset < prevEnd || dataStart + t.offset + nbytes > end)
      throw new Error(`sialo: tensor ${t.name} data misplaced (offset ${t.offset}, ${nbytes} bytes)`);
    prevEnd = t.offset + nbytes;
    const src = dataStart + t.offset;
    const data = new Float32Array(t.count);
    if (bits === 32) {
      for (let k = 0; k < t.count; k++) data[k] = dv.getFloat32(src + 4 * k, true);
    } else {
      for (let k = 0; k < t.count; k++) data[k] = f16ToF32(dv.getUint16(src + 2 * k, true));
    }
    if (tensors.has(t.name)) throw new Error(`sialo: duplicate tensor name ${t.name}`);
    tensors.set(t.name, { dims: t.dims, data });
  }
  return { tensors, nodes };
  }
}

/** Total number of stored parameters. */
export function paramCount(model) {
  let n = 0;
  for (const t of model.tensors.values()) n += t.data.length;
  return n;
}
