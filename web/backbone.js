// backbone.js — starting points of the training panel other than a file: the ImageNet MobileNetV2
// backbone shipped with the page (base64 in classic scripts sialoscan-backbone-1.js …, loaded only
// when the panel needs it: the page's cold start does not carry it), and the first network of the
// shipped ultrasound model (an ensemble file, format version 3, or 4 with its out-of-distribution
// sections: its first network rewritten as a
// one-network file, version 2 — the format is specified at the top of src/engine/model_file.c).
import { loadShippedModel } from './shipped-model.js';

let imagenet = null;
/** The ImageNet backbone (build.backbone: { name, parts }); resolves to { name, bytes() }. */
export function loadImagenetBackbone(spec) {
  if (!spec) return Promise.reject(new Error('this page was built without the ImageNet backbone (models/mobilenetv2-imagenet.sialo)'));
  imagenet ||= loadShippedModel(spec, { prefix: 'sialoscan-backbone', global: 'SIALOSCAN_BACKBONE_PARTS' });
  imagenet.catch(() => { imagenet = null; });
  return imagenet;
}

let crcTable = null;
function crc32(bytes) {
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

const HEADER = 32;
const align16 = (v) => (v + 15) & ~15;

/** The first network of a model file as a one-network model file (version 2): the file itself when
 * it holds one network; for an ensemble, network 1's arch, provenance, input, normalisation and body
 * with the ensemble's classes, threshold 0.5 and no calibration (the trainer replaces the head's
 * decision anyway). Throws with a sentence for a file it cannot read. */
export function firstNetwork(file, note = '') {
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const bad = (why) => new Error(`the shipped model cannot be split: ${why}`);
  if (file.length < HEADER || new TextDecoder().decode(file.subarray(0, 8)) !== 'SIALOSCN') throw bad('it is not a sialoscan model file');
  const version = dv.getUint32(8, true);
  if (version !== 3 && version !== 4) return file;
  let at = HEADER;
  const need = (k) => { if (at + k > file.length) throw bad('it is truncated'); };
  const u32 = () => { need(4); const v = dv.getUint32(at, true); at += 4; return v; };
  const u64 = () => { const lo = u32(), hi = u32(); return hi * 2 ** 32 + lo; };
  const str = () => { const n = u32(); need(n); const s = file.subarray(at, at + n); at += n; return s; };
  const skip = (k) => { need(k); at += k; };
  str(); str();                 // the ensemble's arch and provenance
  skip(12 + 24);                // input, normalisation (equal to every network's)
  const classesStart = at;
  u32();                        // n_classes
  for (let k = u32(); k > 0; k--) str();
  const classes = file.subarray(classesStart, at);
  skip(12);                     // threshold, calibration
  if (version === 4) {          // the sections (out-of-distribution statistics): the trainer fits its own
    for (let n = u32(); n > 0; n--) { str(); u32(); skip(u64()); }
  }
  const networks = u32();
  if (networks < 1) throw bad('it holds no network');
  if (networks === 1) return file; // version 4 with one network: already a one-network file
  const arch = str(), provenance = str();
  need(36);
  const inputNorm = file.subarray(at, at + 36);
  at += 36;
  const bodySize = u64(), bodyStart = at;
  if (bodyStart + bodySize > file.length) throw bad('its first network is truncated');
  // the body: tensor table and nodes, zero padding to a multiple of 16 of the file offset, the data
  for (let n = u32(); n > 0; n--) { str(); skip(4 * u32()); skip(8); }
  for (let n = u32(); n > 0; n--) { u32(); str(); skip(4 * u32()); skip(64); skip(4 * u32()); }
  const headEnd = at, dataStart = align16(headEnd), bodyEnd = bodyStart + bodySize;
  if (dataStart > bodyEnd) throw bad('its first network has no data section');
  const enc = new TextEncoder();
  const prov = enc.encode(`${new TextDecoder().decode(provenance)}${note ? ` | ${note}` : ''}`);
  const strBytes = (b) => { const out = new Uint8Array(4 + b.length); new DataView(out.buffer).setUint32(0, b.length, true); out.set(b, 4); return out; };
  const decision = new Uint8Array(12);
  const dd = new DataView(decision.buffer);
  dd.setFloat32(0, 0.5, true); dd.setFloat32(4, 1, true); dd.setFloat32(8, 0, true);
  const head = [strBytes(arch), strBytes(prov), inputNorm, classes, decision, file.subarray(bodyStart, headEnd)];
  const headLen = head.reduce((s, b) => s + b.length, 0);
  const pad = align16(HEADER + headLen) - (HEADER + headLen);
  const payloadLen = headLen + pad + (bodyEnd - dataStart);
  const out = new Uint8Array(HEADER + payloadLen);
  let w = HEADER;
  for (const b of head) { out.set(b, w); w += b.length; }
  w += pad;
  out.set(file.subarray(dataStart, bodyEnd), w);
  out.set(file.subarray(0, 8), 0);
  const ov = new DataView(out.buffer);
  ov.setUint32(8, 2, true);
  ov.setUint32(12, dv.getUint32(12, true), true); // storage bits: as the file's
  ov.setUint32(16, payloadLen % 2 ** 32, true);
  ov.setUint32(20, Math.floor(payloadLen / 2 ** 32), true);
  ov.setUint32(24, crc32(out.subarray(HEADER)), true);
  return out;
}
