// sialoscan.d.ts — TypeScript declarations of the JavaScript API (wasm/sialoscan.mjs,
// wasm/sialoscan-single.mjs, and the global createSialoscan of dist/sialoscan-standalone.js).

export interface SialoscanOptions {
  /** the bytes of a .sialo model file, or a promise of them (the engine starts while they arrive) */
  model: Uint8Array | ArrayBuffer | PromiseLike<Uint8Array | ArrayBuffer>;
  /** keep every layer's output for activation() (tests, debugging); costs memory */
  keepActivations?: boolean;
  /** the compiled module, if you load it yourself (Node: avoids reading dist/*.wasm) */
  wasmBinary?: Uint8Array | ArrayBuffer;
  /** threads > 1: the pthreads build (Node; in a browser load dist/sialoscan-mt.js in a worker) */
  threads?: number;
  /** 'auto' (default): the relaxed-SIMD build where the JavaScript engine validates relaxed SIMD,
   *  else SIMD128; 'simd128': always the SIMD128 build; 'relaxed': the relaxed build or an Error */
  simd?: 'auto' | 'relaxed' | 'simd128';
}

export interface ModelInfo {
  arch: string;
  input: { height: number; width: number; channels: number; scale: number[]; bias: number[] };
  /** 1 = binary (sigmoid), more = softmax */
  outputs: number;
  classes: string[];
  positive_class?: string;
  /** decision threshold on p(positive), in the calibrated scale when the model has a calibration */
  threshold: number;
  parameters: number;
  layers: number;
  storage: 'fp32' | 'fp16';
  /** CRC-32 of the model payload, 8 hex digits */
  checksum: string;
  /** free text: data, date, method (and how the calibration was fitted) */
  provenance: string;
  /** Platt scaling applied to every p the engine reports: p = sigmoid(a·logit(p_raw) + b);
   * a = 1, b = 0 (identity: true) for an uncalibrated model, e.g. a version 1 file */
  calibration: { a: number; b: number; identity: boolean };
  /** version of the .sialo file (1 or 2; 3 = an ensemble) */
  format_version: number;
  /** networks whose logits the engine averages (p_raw = sigmoid of their mean; Grad-CAM: the mean
   *  of their raw maps): 1, or 2..16 for an ensemble (then `arch`, `parameters`, `layers` cover them all) */
  members: number;
  /** an ensemble only: each network's own architecture, size and provenance */
  networks?: { arch: string; parameters: number; layers: number; provenance: string }[];
  /** the build that runs (present when the build reports it) */
  /** what runs: 'single' | 'pthreads', its threads, SIMD128, relaxed SIMD, the GEMM micro-kernel
   *  ('f32_gemm_4x8_relaxedsimd' or 'f32_gemm_4x8_simd128') */
  engine?: { build: string; threads: number; simd: boolean; relaxedSimd: boolean; kernel: string };
}

export interface ClassifyOptions {
  /** also compute the Grad-CAM map and overlay */
  cam?: boolean;
  /** layer for Grad-CAM; default: the feature map feeding the global pool */
  camLayer?: string;
  /** overlay opacity at the hottest point, 0..1; default 0.45 */
  camAlpha?: number;
  /** with cam: also return the decoded image (for pages that draw it, or fade the overlay themselves) */
  image?: boolean;
  /** DICOM: which frame of a multi-frame file (default 0) */
  frame?: number;
  /** DICOM: crop the frame to the file's first ultrasound region */
  usRegion?: boolean;
}

/** non-identifying metadata of a DICOM file (no patient attribute is ever read out of it) */
export interface DicomInfo {
  frames: number;
  rows: number;
  columns: number;
  modality?: string;
  sopClass?: string;
  manufacturer?: string;
  model?: string;
  transferSyntax?: string;
  transferSyntaxUid?: string;
  photometric?: string;
  usRegions?: Array<{ x0: number; y0: number; x1: number; y1: number; [key: string]: unknown }>;
  /** whether the frames can be read; if not, problem says why */
  decodable: boolean;
  problem?: string;
  [key: string]: unknown;
}

export interface CamResult {
  width: number;
  height: number;
  /** the map at the frame's size, values in [0, 1] */
  map: Float32Array;
  /** the turbo-coloured overlay on the frame, RGBA: new ImageData(rgba, width, height) */
  rgba: Uint8ClampedArray;
  layer: string;
  classIndex: number;
  /** the map at the layer's resolution, before upsampling and normalising */
  raw: { width: number; height: number; data: Float32Array };
}

export interface ClassifyResult {
  /** p(malignant) for binary models, calibrated by the model's calibration (info().calibration);
   * the top-1 probability otherwise */
  pMalignant: number;
  /** decided by the engine with the model's threshold */
  label: string;
  threshold: number;
  /** decode + preprocess + forward (+ Grad-CAM), milliseconds */
  ms: number;
  cam?: CamResult;
  /** DICOM files: the frame classified */
  frame?: number;
  /** with { cam: true, image: true }: the decoded image as RGBA */
  image?: { width: number; height: number; rgba: Uint8ClampedArray };
}

export interface Profile {
  runs: number;
  threads: number;
  /** every layer of the optimised graph: ms per forward, multiply-adds, GFLOP/s (2 flops per multiply-add) */
  layers: { name: string; kind: string; out: [number, number, number]; ms: number; macs: number; gflops: number }[];
  /** the same summed per kind of layer ("conv 1x1", "depthwise 3x3/2", "dense", "add", ...) */
  kinds: { kind: string; layers: number; ms: number; share: number; macs: number; gflops: number }[];
  total_ms: number;
  macs: number;
  gflops: number;
}

export interface Sialoscan {
  info(): ModelInfo;
  /** classify the bytes of an image file (PNG, JPEG, BMP, GIF, DICOM); rejects with a readable Error */
  classify(imageBytes: Uint8Array | ArrayBuffer, options?: ClassifyOptions): Promise<ClassifyResult>;
  /** null for a file that is not DICOM; its non-identifying metadata otherwise */
  dicomInfo(bytes: Uint8Array | ArrayBuffer): DicomInfo | null;
  /** raw network output for a preprocessed input (height*width*3 floats, NHWC, normalised) */
  forward(input: Float32Array): Float32Array;
  /** Grad-CAM on a preprocessed input */
  gradcam(input: Float32Array, options?: { layer?: string; classIndex?: number }):
    { output: Float32Array; layer: string; classIndex: number; raw: { width: number; height: number; data: Float32Array } };
  /** time per layer and per kind of layer over `runs` forwards of a preprocessed input */
  profile(input: Float32Array, options?: { runs?: number }): Profile;
  /** a layer's output after the last forward (needs keepActivations) */
  activation(layer: string): { shape: [number, number, number, number]; data: Float32Array };
  /** bytes of WebAssembly memory in use (grows, never shrinks) */
  heapBytes(): number;
  dispose(): void;
}

export function createSialoscan(options: SialoscanOptions): Promise<Sialoscan>;
export default createSialoscan;
