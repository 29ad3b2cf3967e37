// tfjs-peer.mjs — the TensorFlow.js WASM peer, the same in Node (bench/engine.mjs) and in the
// browser (bench/chromium.mjs): its backend started with a given thread count and binary, and the
// network rebuilt from a .sialo file's weights in one of two forms:
//   'layers'   tests/node/lib/keras-archs.mjs: the Keras architecture in tfjs-layers (every batch
//              norm its own op), the weights set by name
//   'folded'   bench/tfjs-folded.mjs: batch norms folded into the convolutions and activations fused,
//              as a converted graph model runs it (the fastest TF.js form)
// No import of tfjs itself: the caller hands over the modules (Node: the npm packages; the page: the
// UMD scripts' global `tf`, which carries core, layers and `tf.wasm`).
//
//   const info = await startTfjsWasm({ core, wasm }, { threads, wasmPaths, threadedBuild });
//   const net = tfjsNetwork({ core, tfl }, 'folded', file);   // file: readModelFile(bytes)
//   const out = net.forward(x);                                // Float32Array in -> Float32Array out
//   net.dispose();
import { foldedNetwork } from './tfjs-folded.mjs';
import { buildKerasModel, setKerasWeights } from '../tests/node/lib/keras-archs.mjs';

export const TFJS_FORMS = {
  layers: 'tfjs-layers (the Keras architecture, every batch norm its own op, relu fused, relu6 not)',
  folded: 'batch norms folded into the convolutions, relu / relu6 fused (tf.fused.*)',
};

/**
 * Select and initialise tfjs' wasm backend. threads > 1 needs the threaded SIMD binary (a
 * cross-origin-isolated page; Node has no multithread support in tfjs). threadedBuild: false makes
 * tfjs take the single-threaded SIMD binary even where the threaded one would run (what a page
 * that is not cross-origin isolated gets); default: tfjs' own choice.
 * Returns { backend, simd, multithread_support, threads, binary, versions }.
 */
export async function startTfjsWasm({ core, wasm }, { threads = 1, wasmPaths, threadedBuild } = {}) {
  if (wasmPaths) wasm.setWasmPaths(wasmPaths);
  if (threadedBuild === false) core.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  const mt = await core.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  if (threads > 1 && !mt) throw new Error(`tfjs: ${threads} threads asked, but the threaded wasm build cannot run here`);
  // tfjs' default is half the logical cores; always set it, so that 1 means 1 in the threaded build too
  if (mt) wasm.setThreadsCount(threads);
  if (!(await core.setBackend('wasm'))) throw new Error('tfjs: the wasm backend did not initialise');
  await core.ready();
  const info = {
    backend: core.getBackend(),
    simd: await core.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
    multithread_support: mt,
    threads: wasm.getThreadsCount(),
    versions: { 'tfjs-core': core.version_core, 'tfjs-backend-wasm': wasm.version_wasm },
  };
  info.binary = info.simd && mt ? 'tfjs-backend-wasm-threaded-simd.wasm' : info.simd ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';
  if (info.threads !== threads) throw new Error(`tfjs: asked for ${threads} thread(s), the backend has ${info.threads}`);
  return info;
}

/**
 * Why the network of this file (readModelFile's { meta, tensors }) cannot be rebuilt in tfjs, or
 * null when it can: the binary head, a square input, and the Keras-named weights of `sialoscan init`
 * or a Keras import (a file converted from .tflite has other names and folded batch norms).
 */
export function tfjsCannotRebuild(file) {
  if (file.members) return `an ensemble of ${file.members.length} networks (one network per model only)`;
  const { inputH: H, inputW: W, arch, nClasses } = file.meta;
  if (nClasses !== 1) return `${nClasses} classes (only the binary head is rebuilt)`;
  if (H !== W) return `a ${H}x${W} input (square only)`;
  const need = { mobilenetv2: ['Conv1/kernel', 'bn_Conv1/gamma', 'Conv_1_bn/moving_variance'], resnet50v2: ['conv1_conv/kernel', 'post_bn/gamma'] }[arch];
  if (!need) return `architecture ${arch}`;
  const missing = [...need, 'predictions/kernel'].filter((n) => !file.tensors.has(n));
  return missing.length ? `no Keras-named weights (${missing.join(', ')})` : null;
}

/**
 * The network of a .sialo file (readModelFile's { meta, tensors }) in tfjs, form 'layers' or
 * 'folded' (binary head only). forward(x): x Float32Array NHWC of one image -> its output, as
 * s.forward(x) does for ours (tensor in, network, dataSync out, tensors freed).
 */
export function tfjsNetwork({ core, tfl }, form, file) {
  const { inputH: H, inputW: W, inputC: C, arch } = file.meta;
  const why = tfjsCannotRebuild(file);
  if (why) throw new Error(`tfjs: cannot rebuild this model: ${why}`);
  if (form === 'layers') {
    const km = buildKerasModel({ core, tfl }, arch, { inputSize: H, head: 'binary' });
    const unused = setKerasWeights({ core, tfl }, km, file.tensors);
    if (unused.length) throw new Error(`tfjs: weights of the model file not used by the Keras model: ${unused.slice(0, 5)}`);
    return {
      graph: TFJS_FORMS.layers,
      forward: (x) => {
        const xt = core.tensor(x, [1, H, W, C], 'float32');
        const y = km.predict(xt);
        const out = y.dataSync().slice();
        core.dispose([xt, y]);
        return out;
      },
      dispose: () => km.dispose(),
    };
  }
  if (form === 'folded') {
    const net = foldedNetwork(core, arch, file.tensors, H);
    return {
      graph: TFJS_FORMS.folded,
      forward: (x) => {
        const y = core.tidy(() => net(core.tensor(x, [1, H, W, C], 'float32')));
        const out = y.dataSync().slice();
        y.dispose();
        return out;
      },
      dispose: () => {}, // its weight tensors go with the page / process
    };
  }
  throw new Error(`tfjs: unknown form ${form}`);
}
