// keras-archs.mjs — Keras ResNet50V2 and MobileNetV2 (alpha 1.0) rebuilt with TensorFlow.js layers,
// layer for layer and name for name as keras.applications builds them, plus the product's binary
// head. Used as an independent oracle for the sialoscan engine.
//
//   const tf = await loadTf();                    // tfjs-core + cpu backend + layers
//   const model = buildKerasModel(tf, 'resnet50v2', { inputSize: 128, head: 'binary' });
//   setKerasWeights(model, weightsMap);           // Map("<layer>/<weight>" -> Float32Array)
//   const outs = predictWithActivations(tf, model, input, ['conv2_block3_out', 'post_relu']);
//
// Reference: keras/applications/resnet.py (ResNet, block2, stack2) and
// keras/applications/mobilenet_v2.py (_inverted_res_block, correct_pad).

let tfCache = null;

/** Load tfjs-core with the CPU backend and tfjs-layers. Returns { ...core, layers api }. */
export async function loadTf() {
  if (tfCache) return tfCache;
  const core = await import('@tensorflow/tfjs-core');
  await import('@tensorflow/tfjs-backend-cpu');
  const tfl = await import('@tensorflow/tfjs-layers');
  // Silence the "install tfjs-node" banner.
  const origWarn = console.warn;
  await core.setBackend('cpu');
  await core.ready();
  console.warn = origWarn;
  tfCache = { core, tfl };
  return tfCache;
}

// ------------------------------------------------------------------ ResNet50V2
const RESNET_EPS = 1.001e-5;

function resnetBlock2(L, x, filters, { stride = 1, convShortcut = false, name }) {
  const preact0 = L.batchNormalization({ axis: -1, epsilon: RESNET_EPS, name: `${name}_preact_bn` }).apply(x);
  const preact = L.activation({ activation: 'relu', name: `${name}_preact_relu` }).apply(preact0);
  let shortcut;
  if (convShortcut) {
    shortcut = L.conv2d({ filters: 4 * filters, kernelSize: 1, strides: stride, useBias: true, name: `${name}_0_conv` }).apply(preact);
  } else if (stride > 1) {
    // Keras leaves this MaxPooling2D unnamed; it holds no weights.
    shortcut = L.maxPooling2d({ poolSize: 1, strides: stride, padding: 'valid', name: `${name}_0_maxpool` }).apply(x);
  } else {
    shortcut = x;
  }
  let y = L.conv2d({ filters, kernelSize: 1, strides: 1, useBias: false, name: `${name}_1_conv` }).apply(preact);
  y = L.batchNormalization({ axis: -1, epsilon: RESNET_EPS, name: `${name}_1_bn` }).apply(y);
  y = L.activation({ activation: 'relu', name: `${name}_1_relu` }).apply(y);
  y = L.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: `${name}_2_pad` }).apply(y);
  y = L.conv2d({ filters, kernelSize: 3, strides: stride, useBias: false, name: `${name}_2_conv` }).apply(y);
  y = L.batchNormalization({ axis: -1, epsilon: RESNET_EPS, name: `${name}_2_bn` }).apply(y);
  y = L.activation({ activation: 'relu', name: `${name}_2_relu` }).apply(y);
  y = L.conv2d({ filters: 4 * filters, kernelSize: 1, useBias: true, name: `${name}_3_conv` }).apply(y);
  return L.add({ name: `${name}_out` }).apply([shortcut, y]);
}

function resnetStack2(L, x, filters, blocks, stride1, name) {
  x = resnetBlock2(L, x, filters, { convShortcut: true, name: `${name}_block1` });
  for (let i = 2; i < blocks; i++) x = resnetBlock2(L, x, filters, { name: `${name}_block${i}` });
  return resnetBlock2(L, x, filters, { stride: stride1, name: `${name}_block${blocks}` });
}

function buildResNet50V2Backbone(L, inp) {
  let x = L.zeroPadding2d({ padding: [[3, 3], [3, 3]], name: 'conv1_pad' }).apply(inp);
  x = L.conv2d({ filters: 64, kernelSize: 7, strides: 2, useBias: true, name: 'conv1_conv' }).apply(x);
  x = L.zeroPadding2d({ padding: [[1, 1], [1, 1]], name: 'pool1_pad' }).apply(x);
  x = L.maxPooling2d({ poolSize: 3, strides: 2, name: 'pool1_pool' }).apply(x);
  x = resnetStack2(L, x, 64, 3, 2, 'conv2');
  x = resnetStack2(L, x, 128, 4, 2, 'conv3');
  x = resnetStack2(L, x, 256, 6, 2, 'conv4');
  x = resnetStack2(L, x, 512, 3, 1, 'conv5');
  x = L.batchNormalization({ axis: -1, epsilon: RESNET_EPS, name: 'post_bn' }).apply(x);
  return L.activation({ activation: 'relu', name: 'post_relu' }).apply(x);
}

// ------------------------------------------------------------------ MobileNetV2
const MNV2_EPS = 1e-3;

function makeDivisible(v, divisor = 8, minValue = divisor) {
  let nv = Math.max(minValue, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

/** keras.applications.imagenet_utils.correct_pad for a square kernel. */
export function correctPad(h, w, k) {
  const adjust = [1 - (h % 2), 1 - (w % 2)];
  const c = Math.floor(k / 2);
  return [[c - adjust[0], c], [c - adjust[1], c]];
}

function invertedResBlock(L, inputs, { expansion, stride, alpha, filters, blockId }) {
  const inChannels = inputs.shape[3];
  const pointwiseFilters = makeDivisible(Math.trunc(filters * alpha), 8);
  let x = inputs;
  let prefix = `block_${blockId}_`;
  if (blockId) {
    x = L.conv2d({ filters: expansion * inChannels, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}expand` }).apply(x);
    x = L.batchNormalization({ axis: -1, epsilon: MNV2_EPS, momentum: 0.999, name: `${prefix}expand_BN` }).apply(x);
    x = L.reLU({ maxValue: 6, name: `${prefix}expand_relu` }).apply(x);
  } else {
    prefix = 'expanded_conv_';
  }
  if (stride === 2) {
    x = L.zeroPadding2d({ padding: correctPad(x.shape[1], x.shape[2], 3), name: `${prefix}pad` }).apply(x);
  }
  x = L.depthwiseConv2d({ kernelSize: 3, strides: stride, depthMultiplier: 1, useBias: false,
    padding: stride === 1 ? 'same' : 'valid', name: `${prefix}depthwise` }).apply(x);
  x = L.batchNormalization({ axis: -1, epsilon: MNV2_EPS, momentum: 0.999, name: `${prefix}depthwise_BN` }).apply(x);
  x = L.reLU({ maxValue: 6, name: `${prefix}depthwise_relu` }).apply(x);
  x = L.conv2d({ filters: pointwiseFilters, kernelSize: 1, padding: 'same', useBias: false, name: `${prefix}project` }).apply(x);
  x = L.batchNormalization({ axis: -1, epsilon: MNV2_EPS, momentum: 0.999, name: `${prefix}project_BN` }).apply(x);
  if (inChannels === pointwiseFilters && stride === 1) return L.add({ name: `${prefix}add` }).apply([inputs, x]);
  return x;
}

function buildMobileNetV2Backbone(L, inp, alpha = 1.0) {
  const first = makeDivisible(32 * alpha, 8);
  let x = L.conv2d({ filters: first, kernelSize: 3, strides: 2, padding: 'same', useBias: false, name: 'Conv1' }).apply(inp);
  x = L.batchNormalization({ axis: -1, epsilon: MNV2_EPS, momentum: 0.999, name: 'bn_Conv1' }).apply(x);
  x = L.reLU({ maxValue: 6, name: 'Conv1_relu' }).apply(x);
  const cfg = [
    // [filters, stride, expansion, block_id]
    [16, 1, 1, 0],
    [24, 2, 6, 1], [24, 1, 6, 2],
    [32, 2, 6, 3], [32, 1, 6, 4], [32, 1, 6, 5],
    [64, 2, 6, 6], [64, 1, 6, 7], [64, 1, 6, 8], [64, 1, 6, 9],
    [96, 1, 6, 10], [96, 1, 6, 11], [96, 1, 6, 12],
    [160, 2, 6, 13], [160, 1, 6, 14], [160, 1, 6, 15],
    [320, 1, 6, 16],
  ];
  for (const [filters, stride, expansion, blockId] of cfg)
    x = invertedResBlock(L, x, { filters, stride, expansion, alpha, blockId });
  const last = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
  x = L.conv2d({ filters: last, kernelSize: 1, useBias: false, name: 'Conv_1' }).apply(x);
  x = L.batchNormalization({ axis: -1, epsilon: MNV2_EPS, momentum: 0.999, name: 'Conv_1_bn' }).apply(x);
  return L.reLU({ maxValue: 6, name: 'out_relu' }).apply(x);
}

// ------------------------------------------------------------------ public
export const BACKBONE_PARAMS = { resnet50v2: 23564800, mobilenetv2: 2257984 };
export const BACKBONE_OUTPUT = { resnet50v2: 'post_relu', mobilenetv2: 'out_relu' };

/**
 * Build a Keras architecture in tfjs.
 * @param {{core, tfl}} tf from loadTf()
 * @param {'resnet50v2'|'mobilenetv2'} arch
 * @param {{inputSize?: number, head?: 'binary'|'none'}} opts
 */
export function buildKerasModel(tf, arch, { inputSize = 224, head = 'binary' } = {}) {
  const { tfl } = tf;
  const L = tfl.layers;
  const inp = tfl.input({ shape: [inputSize, inputSize, 3], name: 'input_1' });
  let x;
  if (arch === 'resnet50v2') x = buildResNet50V2Backbone(L, inp);
  else if (arch === 'mobilenetv2') x = buildMobileNetV2Backbone(L, inp, 1.0);
  else throw new Error(`buildKerasModel: unknown arch ${arch}`);
  if (head === 'binary') {
    x = L.globalAveragePooling2d({ name: 'avg_pool' }).apply(x);
    x = L.dropout({ rate: 0.5, name: 'dropout' }).apply(x);
    x = L.dense({ units: 1, name: 'predictions' }).apply(x);
    x = L.activation({ activation: 'sigmoid', name: 'sigmoid' }).apply(x);
  } else if (head !== 'none') {
    throw new Error(`buildKerasModel: unknown head ${head}`);
  }
  return tfl.model({ inputs: inp, outputs: x, name: arch });
}

/** Keras weight name of every weight of the model, in model.weights order ("<layer>/<weight>"). */
export function kerasWeightNames(model) {
  const names = [];
  for (const layer of model.layers) for (const w of layer.weights) names.push(w.originalName);
  return names;
}

/**
 * Set every weight of the model from a Map("<layer>/<weight>" -> Float32Array | {data}).
 * Depthwise kernels are looked up as "<layer>/depthwise_kernel" and then "<layer>/kernel"
 * (same bytes: Keras [KH,KW,C,1] = sialoscan [KH,KW,1,C]). Throws on a missing weight or a size
 * mismatch; returns the list of map keys that were not used.
 */
export function setKerasWeights(tf, model, weights) {
  const { core } = tf;
  const used = new Set();
  for (const layer of model.layers) {
    if (!layer.weights.length) continue;
    const vals = layer.weights.map((w) => {
      const candidates = [w.originalName];
      if (w.originalName.endsWith('/depthwise_kernel'))
        candidates.push(w.originalName.replace(/\/depthwise_kernel$/, '/kernel'));
      const key = candidates.find((k) => weights.has(k));
      if (!key) throw new Error(`setKerasWeights: no value for ${w.originalName}`);
      used.add(key);
      let v = weights.get(key);
      if (!(v instanceof Float32Array)) v = v.data;
      const n = w.shape.reduce((a, b) => a * b, 1);
      if (v.length !== n) throw new Error(`setKerasWeights: ${key} has ${v.length} values, layer wants [${w.shape}] = ${n}`);
      return core.tensor(v, w.shape, 'float32');
    });
    layer.setWeights(vals);
    core.dispose(vals);
  }
  return [...weights.keys()].filter((k) => !used.has(k));
}

/**
 * Run the model on one NHWC image (Float32Array H*W*3) and return the final output and the
 * requested intermediate layer outputs: { output: Float32Array, acts: Map(name -> {shape, data}) }.
 */
export function predictWithActivations(tf, model, input, layerNames = []) {
  const { core, tfl } = tf;
  const size = model.inputs[0].shape[1];
  // one probe output per distinct symbolic tensor (tfjs refuses duplicates)
  const outs = [model.outputs[0]];
  const index = layerNames.map((n) => {
    const t = model.getLayer(n).output;
    let k = outs.indexOf(t);
    if (k < 0) { outs.push(t); k = outs.length - 1; }
    return k;
  });
  const probe = tfl.model({ inputs: model.inputs, outputs: outs });
  const x = core.tensor(input, [1, size, size, 3], 'float32');
  let res = probe.predict(x);
  if (!Array.isArray(res)) res = [res];
  const output = res[0].dataSync().slice();
  const acts = new Map();
  layerNames.forEach((n, i) => acts.set(n, { shape: res[index[i]].shape, data: res[index[i]].dataSync().slice() }));
  core.dispose([x, ...res]);
  return { output, acts };
}
