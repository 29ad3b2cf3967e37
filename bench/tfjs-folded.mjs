// tfjs-folded.mjs — the TensorFlow.js peer as a converted graph model runs it: every batch norm
// that follows a convolution folded into that convolution's weights and bias, and the activation
// fused into the op (tf.fused.conv2d / tf.fused.depthwiseConv2d with relu / relu6), written with
// tfjs-core ops over the Keras-named weights of a .sialo file (tests/node/lib/model-file.mjs).
// ResNetV2's pre-activation batch norms (before a convolution, on a residual sum) cannot be folded
// and stay tf.batchNorm, as the TF.js converter leaves them. tfjs-layers (bench's "tfjs-wasm")
// runs every batch norm as its own op and fuses only relu, not relu6.
//
//   const net = foldedNetwork(tf, arch, weights, inputSize);  net(x4d) -> tensor [1, 1]
//   (call it inside tf.tidy; weights: Map("<layer>/<weight>" -> Float32Array | {data}))

const EPS = { resnet50v2: 1.001e-5, mobilenetv2: 1e-3 };

function makeDivisible(v, divisor = 8) {
  let nv = Math.max(divisor, Math.floor((v + divisor / 2) / divisor) * divisor);
  if (nv < 0.9 * v) nv += divisor;
  return nv;
}

export function foldedNetwork(tf, arch, weights, inputSize = 224) {
  const get = (name) => {
    const v = weights.get(name);
    if (!v) throw new Error(`tfjs-folded: no weight ${name}`);
    return v instanceof Float32Array ? v : v.data;
  };
  const has = (name) => weights.has(name);
  const eps = EPS[arch];
  const keep = []; // the weight tensors, created once

  // conv (or depthwise: kernel [KH,KW,C,1]) followed by a batch norm -> { filter, bias }
  const fold = (conv, bn, shape, { depthwise = false } = {}) => {
    const kName = depthwise && has(`${conv}/depthwise_kernel`) ? `${conv}/depthwise_kernel` : `${conv}/kernel`;
    const k = get(kName), n = depthwise ? shape[2] : shape[3];
    const b0 = has(`${conv}/bias`) ? get(`${conv}/bias`) : new Float32Array(n);
    const g = get(`${bn}/gamma`), beta = get(`${bn}/beta`), mean = get(`${bn}/moving_mean`), vr = get(`${bn}/moving_variance`);
    const s = Float32Array.from({ length: n }, (_, c) => g[c] / Math.sqrt(vr[c] + eps));
    const kf = Float32Array.from(k, (v, i) => v * s[i % n]);
    const bf = Float32Array.from({ length: n }, (_, c) => (b0[c] - mean[c]) * s[c] + beta[c]);
    const t = { filter: tf.tensor(kf, shape), bias: tf.tensor1d(bf) };
    keep.push(t.filter, t.bias);
    return t;
  };
  const plain = (conv, shape) => {
    const t = { filter: tf.tensor(get(`${conv}/kernel`), shape), bias: tf.tensor1d(get(`${conv}/bias`)) };
    keep.push(t.filter, t.bias);
    return t;
  };
  const bnParams = (bn) => {
    const t = ['moving_mean', 'moving_variance', 'beta', 'gamma'].map((w) => tf.tensor1d(get(`${bn}/${w}`)));
    keep.push(...t);
    return t;
  };
  const conv = (x, w, stride, pad, activation) => tf.fused.conv2d({ x, filter: w.filter, strides: stride, pad, bias: w.bias, activation });
  const head = (() => {
    const c = arch === 'resnet50v2' ? 2048 : 1280;
    const k = tf.tensor2d(get('predictions/kernel'), [c, 1]), b = tf.tensor1d(get('predictions/bias'));
    keep.push(k, b);
    return (x) => tf.sigmoid(tf.add(tf.matMul(tf.mean(x, [1, 2]), k), b));
  })();

  if (arch === 'mobilenetv2') {
    const layers = [];
    const first = fold('Conv1', 'bn_Conv1', [3, 3, 3, 32]);
    let c = 32, h = Math.ceil(inputSize / 2);
    const cfg = [[16, 1, 1, 0], [24, 2, 6, 1], [24, 1, 6, 2], [32, 2, 6, 3], [32, 1, 6, 4], [32, 1, 6, 5],
      [64, 2, 6, 6], [64, 1, 6, 7], [64, 1, 6, 8], [64, 1, 6, 9], [96, 1, 6, 10], [96, 1, 6, 11], [96, 1, 6, 12],
      [160, 2, 6, 13], [160, 1, 6, 14], [160, 1, 6, 15], [320, 1, 6, 16]];
    for (const [filters, stride, expansion, id] of cfg) {
      const p = id ? `block_${id}_` : 'expanded_conv_';
      const out = makeDivisible(filters, 8), mid = id ? expansion * c : c;
      const pad = stride === 2 ? [[0, 0], [h % 2, 1], [h % 2, 1], [0, 0]] : null; // Keras' correct_pad
      layers.push({
        expand: id ? fold(`${p}expand`, `${p}expand_BN`, [1, 1, c, mid]) : null,
        dw: fold(`${p}depthwise`, `${p}depthwise_BN`, [3, 3, mid, 1], { depthwise: true }),
        project: fold(`${p}project`, `${p}project_BN`, [1, 1, mid, out]),
        stride, pad, residual: c === out && stride === 1,
      });
      c = out;
      if (stride === 2) h = Math.floor((h + (h % 2) + 1 - 3) / 2) + 1;
    }
    const last = fold('Conv_1', 'Conv_1_bn', [1, 1, c, 1280]);
    return (x) => {
      x = conv(x, first, 2, 'same', 'relu6');
      for (const l of layers) {
        const inp = x;
        if (l.expand) x = conv(x, l.expand, 1, 'same', 'relu6');
        if (l.pad) x = tf.pad(x, l.pad);
        x = tf.fused.depthwiseConv2d({ x, filter: l.dw.filter, strides: l.stride, pad: l.pad ? 'valid' : 'same', bias: l.dw.bias, activation: 'relu6' });
        x = conv(x, l.project, 1, 'same', 'linear');
        if (l.residual) x = tf.add(inp, x);
      }
      return head(conv(x, last, 1, 'same', 'relu6'));
    };
  }

  if (arch === 'resnet50v2') {
    const blocks = [];
    let c = 64;
    for (const [name, filters, n, stride1] of [['conv2', 64, 3, 2], ['conv3', 128, 4, 2], ['conv4', 256, 6, 2], ['conv5', 512, 3, 1]]) {
      for (let i = 1; i <= n; i++) {
        const b = `${name}_block${i}`, stride = i === n ? stride1 : 1;
        blocks.push({
          preact: bnParams(`${b}_preact_bn`),
          shortcut: i === 1 ? plain(`${b}_0_conv`, [1, 1, c, 4 * filters]) : null,
          stride,
          c1: fold(`${b}_1_conv`, `${b}_1_bn`, [1, 1, c, filters]),
          c2: fold(`${b}_2_conv`, `${b}_2_bn`, [3, 3, filters, filters]),
          c3: plain(`${b}_3_conv`, [1, 1, filters, 4 * filters]),
        });
        c = 4 * filters;
      }
    }
    const conv1 = plain('conv1_conv', [7, 7, 3, 64]);
    const post = bnParams('post_bn');
    const bnRelu = (x, [m, v, beta, g]) => tf.relu(tf.batchNorm(x, m, v, beta, g, eps));
    return (x) => {
      x = conv(tf.pad(x, [[0, 0], [3, 3], [3, 3], [0, 0]]), conv1, 2, 'valid', 'linear');
      x = tf.maxPool(tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]), 3, 2, 'valid');
      for (const b of blocks) {
        const pre = bnRelu(x, b.preact);
        const sc = b.shortcut ? conv(pre, b.shortcut, 1, 'valid', 'linear') : b.stride > 1 ? tf.maxPool(x, 1, b.stride, 'valid') : x;
        let y = conv(pre, b.c1, 1, 'valid', 'relu');
        y = conv(tf.pad(y, [[0, 0], [1, 1], [1, 1], [0, 0]]), b.c2, b.stride, 'valid', 'relu');
        y = conv(y, b.c3, 1, 'valid', 'linear');
        x = tf.add(sc, y);
      }
      return head(bnRelu(x, post));
    };
  }
  throw new Error(`tfjs-folded: unknown arch ${arch}`);
}
