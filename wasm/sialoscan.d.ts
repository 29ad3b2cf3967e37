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
  /** the engine's release, e.g. "0.1.0" (wasm/package.json's version, compiled into the module) */
  version: string;
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
  /** what the model was trained to classify: whole frames, lesion boxes (classify(bytes, { box })) or both;
   *  a whole-frame model refuses a box */
  input_modes: 'whole' | 'box' | 'both';
  /** box models: the margin per side the box is grown by (a fraction of its width / height) */
  box_margin?: number;
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
  engine?: { build: string; threads: number; simd: boolean; relaxedSimd: boolean; kernel: string;
    /** the image codec libraries of the compressed DICOM syntaxes and their versions */
    codecs: string };
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
  /** classify this lesion box (frame pixels; after the frame / usRegion crop) instead of the whole frame:
   *  the box grown by `margin` per side, clamped to the frame, cropped and preprocessed as a whole frame.
   *  Refused (rejects with a sentence) outside the frame, under 8 px a side, or on a whole-frame model */
  box?: { x: number; y: number; w: number; h: number } | [number, number, number, number];
  /** with box: the margin per side, a fraction of the box's width / height (0..2); default (-1) the model's */
  margin?: number;
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
  /** a DICOMDIR or an object without pixel data (a report, a presentation state, a PDF): skip it, problem says which */
  notImage?: boolean;
  /** what was read although the file departs from the standard, each after "read despite " */
  notes?: string[];
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

/** The out-of-distribution check of one frame, from the same forward pass: the Mahalanobis distance
 * of the network's pooled features to its training frames' (an ensemble: the mean of its networks'),
 * 1 = a typical training frame. A model file without the statistics gives checked: false. */
export type OodResult =
  | {
      checked: true;
      score: number;
      /** score > threshold: the probability is not meaningful for this frame */
      flag: boolean;
      threshold: number;
      /** when flagged: "This does not look like the ultrasound frames the model was trained on — the probability is not meaningful" */
      warning?: string;
    }
  | { checked: false; score: null; flag: null };

export interface ClassifyResult {
  /** p(malignant) for binary models, calibrated by the model's calibration (info().calibration);
   * the top-1 probability otherwise */
  pMalignant: number;
  /** decided by the engine with the model's threshold */
  label: string;
  threshold: number;
  /** decode + preprocess + forward (+ Grad-CAM), milliseconds */
  ms: number;
  /** the out-of-distribution check */
  ood: OodResult;
  cam?: CamResult;
  /** DICOM files: the frame classified */
  frame?: number;
  /** with { box }: the box, the margin used and the region classified (the box grown, clamped to the
   *  frame); pMalignant is the box's, and cam / image cover the region */
  box?: { x: number; y: number; w: number; h: number };
  margin?: number;
  region?: { x: number; y: number; w: number; h: number };
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
// ---- the trainer: fine-tune a backbone on a labelled folder, in memory

export interface TrainerOptions {
  /** the bytes of a .sialo model to start from (its head is replaced), or null with `arch` */
  backbone?: Uint8Array | ArrayBuffer | null;
  /** with no backbone: an architecture trained from scratch ('smallcnn', 'mobilenetv2', ...) */
  arch?: string;
  /** the training side in pixels; 0 (default) = the backbone's input */
  input?: number;
  /** threads > 1: the pthreads build (Node; in a browser, a worker of a cross-origin-isolated page) */
  threads?: number;
  /** the frames' memory limit (8-bit pixels at the training size); default 640 MB; 0 = none.
   *  A frame that would pass it is refused with the frame count and the limit. */
  maxBytes?: number;
  /** keep masks/<class>/<stem>-mask.png for guided attention (default true; used when run({ masks: true })) */
  masks?: boolean;
  /** the backbone's name for the model's provenance (a file name, never a path) */
  backboneName?: string;
  wasmBinary?: Uint8Array | ArrayBuffer;
  simd?: 'auto' | 'relaxed' | 'simd128';
}

export interface AddResult {
  /** taken: a frame, mask or manifest of the folder; ignored: not part of a training folder;
   *  refused: damaged or over the memory limit (reason: the engine's sentence) */
  status: 'taken' | 'ignored' | 'refused';
  reason?: string;
}

export interface TrainingSummary {
  frames: number; benign: number; malignant: number;
  /** near-duplicate groups (MANIFEST.tsv, else one per patient sub-folder, else one per frame) */
  groups: number;
  masks: number; conflicts: number; ignored: number;
  refused: { path: string; reason: string }[];
  /** the frames' memory in the engine */
  bytes: number;
  /** the sentence that refuses this folder for training (one class, fewer than 10 frames in a class, ...), or null */
  problem: string | null;
  [key: string]: unknown;
}

export interface TrainingProgress {
  /** batch: after every batch; epoch: an epoch ended (valAuc, valLoss, line); start: a fold or the final model starts */
  kind: 'batch' | 'epoch' | 'start';
  /** 1..folds for cross-validation; 0 = the final model (every frame) */
  fold: number; folds: number;
  stage: number; stages: number; stageName: string; unfreeze: string; lr: number;
  epoch: number; epochs: number; batch: number; batches: number;
  /** mean training loss of the epoch so far */
  loss: number | null;
  valAuc: number | null; valLoss: number | null;
  /** guided attention: mean share of the Grad-CAM energy outside the lesion masks */
  outside: number | null;
  improved: boolean;
  imagesPerS: number | null;
  /** the whole run at most, seconds */
  etaS: number | null;
  /** share of the whole run done, 0..1 */
  done: number;
  /** the line `sialoscan train` prints */
  line: string;
}

/** one fold's test figures (threshold 0.5), as `sialoscan train` prints them */
export interface FoldResult {
  fold: number; n: number; accuracy: number | null; sensitivity: number | null; specificity: number | null;
  ppv: number | null; npv: number | null; auc: number | null; tp: number; fp: number; tn: number; fn: number; threshold: number;
}

export interface RunOptions {
  /** cross-validation folds, 2..32, or 0 for none (default 5) */
  cv?: number;
  /** train the final model on every frame after the cross-validation (default true) */
  final?: boolean;
  /** 'gradual' (default with a backbone), 'full', 'frozen', 'scratch' */
  method?: string;
  /** lines "name unfreeze lr max_epochs patience" ('#' comments); default: the method's */
  schedule?: string | null;
  seed?: number; foldSeed?: number; batch?: number; valFraction?: number; weightDecay?: number; dropout?: number;
  calibration?: 'platt' | 'temperature' | 'none';
  /** guided attention on the frames that have lesion masks (default false, as the CLI) */
  masks?: boolean;
  attentionWeight?: number;
  includeConflicts?: boolean;
  /** store the final model in fp32 (default fp16) */
  fp32?: boolean;
  /** the folder's name and the date (YYYY-MM-DD) for the provenance */
  dataName?: string; date?: string;
  /** a checkpoint's bytes to continue from (refused, with what differs, for another folder or other options) */
  resume?: Uint8Array | ArrayBuffer;
  /** stop at the next batch (seen after every epoch when aborted from outside the callbacks) */
  signal?: AbortSignal;
  /** 'epoch' (default): give the event loop a turn after every epoch; 'never': one synchronous run */
  yieldEvery?: 'epoch' | 'never';
  onProgress?: (p: TrainingProgress) => void;
  /** after every epoch: the bytes to resume from (copy them: they are yours) */
  onCheckpoint?: (checkpoint: Uint8Array) => void;
  onFold?: (f: { fold: number; result: FoldResult; model: Uint8Array | null }) => void;
  onLog?: (line: string) => void;
}

export interface CvSummary {
  cv: number; method: string; seed: number;
  accuracy_mean: number; accuracy_sd: number; auc_mean: number; auc_sd: number;
  sensitivity_mean: number; sensitivity_sd: number; specificity_mean: number; specificity_sd: number;
  ppv_mean: number; ppv_sd: number; npv_mean: number; npv_sd: number;
  /** Youden's threshold on the pooled out-of-fold p (raw), and the figures there */
  youden_threshold: number;
  pooled_at_youden: Omit<FoldResult, 'fold' | 'threshold'>;
}

export interface Calibration {
  calibration: 'platt' | 'temperature'; n: number; a: number; b: number; threshold_raw: number; threshold: number;
  brier_before: number; brier_after: number; ece_before: number; ece_after: number;
}

export interface TrainingResult {
  stopped: false;
  /** the final model's .sialo bytes (null with final: false) */
  model: Uint8Array | null;
  folds: FoldResult[];
  cv: CvSummary | null;
  calibration: Calibration | null;
  /** the pooled out-of-fold predictions (raw p) */
  oof: { path: string; label: 'benign' | 'malignant'; fold: number; p: number }[];
  /** the same as `train --predictions` writes it: path,label,fold,p_malignant */
  oofCsv: string;
  log: string[];
  report: { folds: FoldResult[]; cv: CvSummary | null; calibration: Calibration | null; log: string[] };
}

export interface StoppedRun {
  stopped: true;
  /** the last checkpoint (null if the run stopped before its first epoch ended) */
  checkpoint: Uint8Array | null;
  folds: FoldResult[];
  log: string[];
}

export interface Trainer {
  /** one file of the folder, by its path relative to the folder's root */
  add(path: string, bytes: Uint8Array | ArrayBuffer): AddResult;
  summary(): TrainingSummary;
  run(options?: RunOptions): Promise<TrainingResult | StoppedRun>;
  resume(checkpoint: Uint8Array | ArrayBuffer, options?: RunOptions): Promise<TrainingResult | StoppedRun>;
  heapBytes(): number;
  /** the frames and models back to the engine; a threaded engine also ends its threads */
  dispose(): void;
}

export function createTrainer(options: TrainerOptions): Promise<Trainer>;

export default createSialoscan;
