/* sialoscan.h — the public C API of the sialoscan engine.
 *
 * The only header the CLI, the WASM bindings and the tests need. Every function that can fail
 * returns NULL or a negative status and leaves a short human-readable reason in sialo_error()
 * (thread-local, the stb_image way). The library never prints and never exits.
 */
#ifndef SIALOSCAN_H
#define SIALOSCAN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* the release's version: the build passes the one of wasm/package.json (-DSIALO_VERSION) */
#ifndef SIALO_VERSION
#define SIALO_VERSION "unversioned"
#endif

/* Reason for the last failure in this thread ("" if none). */
const char *sialo_error(void);

/* The CPU kernels in use: natively on x86-64 "sse2", "avx2" or "avx512", picked before main()
 * from CPUID (the best this CPU has) or the environment's SIALOSCAN_ISA (a lower level); in
 * WebAssembly "simd128" or "relaxedsimd". sialo_isa_available(): every level this CPU can run,
 * e.g. "sse2 avx2 avx512". sialo_isa_check(): 0, or -1 with sialo_error() when SIALOSCAN_ISA
 * names an unknown level or one this CPU lacks (the best level then runs). */
const char *sialo_isa(void);
const char *sialo_isa_available(void);
int sialo_isa_check(void);

/* ---------------------------------------------------------------- model */
typedef struct sialo_model sialo_model;

typedef enum {
    SIALO_BACKEND_OWN = 0,     /* vectorised kernels of this project (native and WASM) */
    SIALO_BACKEND_REF = 1,     /* naive loops: the reference the tests check against */
    SIALO_BACKEND_XNNPACK = 2, /* native only: conv and dense through Debian's libXNNPACK */
} sialo_backend;

typedef struct {
    sialo_backend backend; /* default SIALO_BACKEND_OWN */
    int threads;           /* 0 = one per core (native), 1 in a non-pthread WASM build */
    int keep_activations;  /* 1 = keep every layer's output for sialo_activation() (tests) */
    int training;          /* 1 = for the trainer: dropout layers stay in the graph, all outputs kept */
} sialo_options;

/* Load a model from memory (the bytes are copied / unpacked; the caller may free them). */
sialo_model *sialo_model_load(const void *data, size_t size, const sialo_options *opt);
sialo_model *sialo_model_load_file(const char *path, const sialo_options *opt);
void sialo_model_free(sialo_model *m);

typedef struct {
    const char *arch;         /* "resnet50v2", "mobilenetv2", "smallcnn", ... */
    const char *provenance;   /* free text: data, date, method */
    int input_h, input_w, input_c;
    float norm_scale[3], norm_bias[3]; /* network input = pixel(0..255) * scale + bias */
    int n_classes;            /* 1 = binary (sigmoid), >1 = softmax */
    const char *const *class_names; /* binary: [0]=negative, [1]=positive ("malignant") */
    int n_class_names;
    float threshold;          /* decision threshold on p(positive) for binary models (calibrated scale) */
    float calib_a, calib_b;   /* calibration of p(positive): sigmoid(a logit(p_raw) + b); 1, 0 = none */
    int format_version;       /* of the model file (1, 2, or 3 for an ensemble; 0 = built in memory) */
    size_t n_params;          /* parameters as stored in the file (before BN folding; an ensemble: all its networks') */
    int n_layers;             /* nodes in the stored graph (an ensemble: all its networks') */
    int n_members;            /* networks whose logits are averaged: 1, or 2..16 for an ensemble */
    uint32_t checksum;        /* CRC-32 of the payload, as stored */
    int storage_bits;         /* 32 or 16 */
    int input_modes;          /* what it was trained to classify: SIALO_MODE_WHOLE, SIALO_MODE_BOX or both */
    float box_margin;         /* box mode: the margin per side it was trained with (fraction of the box's side) */
} sialo_info;

#define SIALO_MODE_WHOLE 1 /* whole frames */
#define SIALO_MODE_BOX 2   /* a lesion box (sialo_classify_image_box) */

void sialo_model_info(const sialo_model *m, sialo_info *out);
/* One JSON object describing the model; caller frees with free(). */
char *sialo_model_info_json(const sialo_model *m);

/* Run the network on one preprocessed input (H*W*C floats, NHWC, already normalised).
 * out receives n_classes values: the network's own (raw, uncalibrated) probabilities; an ensemble's
 * are the final sigmoid / softmax of the mean of its networks' logits. Returns 0 or -1. */
int sialo_forward(sialo_model *m, const float *input, float *out);

/* Output of a layer (by the layer names of the stored graph, e.g. "post_relu") after the last
 * sialo_forward. Needs keep_activations=1 unless the layer is the graph output.
 * shape = {N, H, W, C}. Returns NULL with a reason if unknown / not kept. */
const float *sialo_activation(sialo_model *m, const char *layer, int shape[4]);

/* ---------------------------------------------------------------- images */
typedef struct {
    uint8_t *rgb; /* w*h*3, row-major */
    int w, h;
} sialo_image;

#define SIALO_MAX_PIXELS (64u * 1024u * 1024u) /* refuse larger images */
#define SIALO_MIN_SIDE 32                     /* refuse smaller images */

/* Decode PNG / JPEG (baseline, progressive) / BMP / GIF (first frame) from memory to RGB. */
int sialo_image_decode(const void *data, size_t size, sialo_image *out);
void sialo_image_free(sialo_image *img);
/* Antialiased resize of the whole frame to the model's input size, then normalise.
 * dst: input_h*input_w*3 floats. */
int sialo_preprocess(const sialo_model *m, const sialo_image *img, float *dst);

/* ---------------------------------------------------------------- DICOM (dicom.c) */
/* DICOM Part 10 files are images too: sialo_image_decode decodes their frame 0. Supported:
 * Implicit / Explicit VR Little Endian, Deflated Explicit VR Little Endian, Explicit VR Big Endian,
 * JPEG Baseline 8-bit, RLE Lossless; MONOCHROME1/2, PALETTE COLOR, RGB, YBR_FULL, YBR_FULL_422;
 * 8 bits, 16-bit greyscale (rescale, then window), 16-bit colour (scaled to 8 bits). */
#define SIALO_DICOM_MAX_REGIONS 8
#define SIALO_DICOM_MAX_NOTES 4
typedef struct {
    int x0, y0, x1, y1;            /* Region Location Min / Max (0018,6018-601E), inclusive; -1 = absent */
    int spatial_format, data_type; /* (0018,6012), (0018,6014) */
    int units_x, units_y;          /* (0018,6024), (0018,6026) */
    double delta_x, delta_y;       /* Physical Delta X / Y (0018,602C), (0018,602E) */
} sialo_us_region;

/* Only non-identifying attributes are ever read out of a file (no patient, study or operator data). */
typedef struct {
    char modality[17], sop_class_uid[65], manufacturer[65], model[65], transfer_syntax_uid[65], photometric[17];
    const char *sop_class;         /* the SOP class's name when known, else "" */
    const char *transfer_syntax;   /* the transfer syntax's name when known, else "" */
    int frames, rows, columns, samples_per_pixel, bits_allocated, bits_stored, pixel_representation, planar_configuration;
    int encapsulated;              /* 1 = compressed pixel data in fragments */
    double rescale_slope, rescale_intercept;
    int has_window;
    double window_center, window_width;
    int n_regions;                 /* ultrasound regions (0018,6011), the first SIALO_DICOM_MAX_REGIONS */
    sialo_us_region regions[SIALO_DICOM_MAX_REGIONS];
    int decodable;                 /* 1 = the frames can be decoded; else problem says why */
    char problem[256];
    int not_image;                 /* 1 = a DICOMDIR or an object without pixel data (a report, a presentation
                                      state, a PDF): problem says which; callers walking folders skip it */
    int n_notes;                   /* what was read although the file departs from the standard: each note */
    char notes[SIALO_DICOM_MAX_NOTES][160]; /* reads after "read despite " */
} sialo_dicom_info;

/* 1 if the bytes start like a DICOM file: "DICM" after the 128-byte preamble, or (read with a note)
 * a file meta group without the preamble, or a bare data set whose first element is of group 0008
 * (no preamble, no file meta). The first 512 bytes suffice. */
int sialo_is_dicom(const void *data, size_t size);
/* Read the file's structure and metadata (fails on a damaged file; an undecodable image is not a
 * failure here: out->decodable = 0 and out->problem). */
int sialo_dicom_read_info(const void *data, size_t size, sialo_dicom_info *out);
/* 1 if the bytes are a DICOM file that holds no image (a DICOMDIR, a structured report, a
 * presentation state, an encapsulated PDF, ...): folder walkers skip it, with `why` (may be NULL)
 * saying what it is; 0 otherwise (an image, a damaged file, or not DICOM) */
int sialo_dicom_not_image(const void *data, size_t size, char *why, size_t cap);
/* the metadata as one JSON object (snake_case keys); caller frees with free() */
char *sialo_dicom_info_json(const sialo_dicom_info *info);
/* Frame `frame` of a DICOM file as RGB; us_region = 1 crops it to the first ultrasound region
 * when the file has one. */
int sialo_dicom_decode(const void *data, size_t size, int frame, int us_region, sialo_image *out);
/* Frames in an image file: 1 for PNG / JPEG / BMP / GIF, the frame count for DICOM; -1 if a
 * DICOM file cannot be decoded (reason in sialo_error()). */
int sialo_image_frames(const void *data, size_t size);
/* sialo_image_decode for one frame (0 for an image file) and, for DICOM, the region crop. */
int sialo_image_decode_frame(const void *data, size_t size, int frame, int us_region, sialo_image *out);
/* the image codec libraries behind the compressed DICOM syntaxes and their versions, one line
 * ("OpenJPEG 2.5.0, CharLS 2.4.2, IJG 6b (dcmtk 3.6.7 libijg8/12/16)") */
const char *sialo_codecs_version(void);

/* ---------------------------------------------------------------- classification */
/* The model's calibration applied to a raw p(positive) (binary models; identity otherwise): what
 * every result reports. The one place the engine calibrates. */
float sialo_calibrated_p(const sialo_model *m, float p_raw);

/* Out-of-distribution check of one frame: the Mahalanobis distance of the network's pooled features
 * to its training frames' (an ensemble: the mean over its networks of each one's distance, each
 * divided by its training frames' median), against the threshold stored in the model file. */
typedef struct {
    int checked;       /* 1 = the model carries the statistics; 0 = not checked (an older model file): never "in distribution" */
    int flag;          /* 1 = score > threshold: the frame does not look like the training frames */
    float score;       /* 1 = a typical training frame (the median); larger = further away */
    float threshold;   /* flagged above it; set so that <= 3% of the training frames (out of fold) are */
} sialo_ood;
#define SIALO_OOD_SENTENCE "This does not look like the ultrasound frames the model was trained on \u2014 the probability is not meaningful"

typedef struct {
    float p_positive;  /* p(malignant) for binary models, calibrated by the model's calibration; top-1 probability otherwise */
    int label;         /* binary: 1 if p_positive >= threshold; multi-class: argmax */
    float threshold;
    double ms;         /* decode + preprocess + forward, milliseconds */
    sialo_ood ood;     /* out-of-distribution check, from the same forward pass */
} sialo_result;

int sialo_classify(sialo_model *m, const void *image_bytes, size_t size, sialo_result *out);
/* the same on a decoded frame (r->ms: preprocess + forward) */
int sialo_classify_image(sialo_model *m, const sialo_image *img, sialo_result *out);

/* ---------------------------------------------------------------- lesion box (io/box.c) */
/* A box around the lesion, in frame pixels: columns x..x+w-1, rows y..y+h-1. The engine classifies
 * the box grown by `margin` x w (left and right) and margin x h (top and bottom), rounded outward
 * and clamped to the frame: that region is cropped and resized to the network's input exactly as a
 * whole frame is (sialo_preprocess). A box must lie inside the frame, at least SIALO_BOX_MIN pixels
 * on each side, and the model must have been trained for boxes (sialo_info.input_modes). */
typedef struct { int x, y, w, h; } sialo_box;
#define SIALO_BOX_MIN 8
#define SIALO_BOX_MAX_MARGIN 2.0f
/* the region classified for a box on a w x h frame (checks the box and the margin; 0 or -1) */
int sialo_box_region(int frame_w, int frame_h, const sialo_box *box, float margin, sialo_box *region);
/* a copy of the pixels of region (inside the frame) as a new image; free with sialo_image_free */
int sialo_image_crop(const sialo_image *img, const sialo_box *region, sialo_image *out);
/* the region the model classifies for a box (margin < 0 = the model's own margin), its pixels in
 * crop (may be NULL); refuses a box on a model not trained for boxes */
int sialo_box_prepare(const sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, sialo_box *region,
                      sialo_image *crop);
/* classify the box: sialo_classify_image on the region's pixels (region may be NULL) */
int sialo_classify_image_box(sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, sialo_result *out,
                             sialo_box *region);
/* with Grad-CAM: sialo_classify_image_box_cam (below) */

/* Milliseconds since an arbitrary epoch (monotonic). */
double sialo_now_ms(void);

/* ---------------------------------------------------------------- Grad-CAM (gradcam.c) */
/* Grad-CAM of the score the model decides on: the logit (input of the final sigmoid) for binary
 * models, the chosen class's pre-softmax score otherwise, at one layer (NULL or "" = the feature
 * map feeding the global average pool: "out_relu" (MobileNetV2), "post_relu" (ResNet50V2)).
 * The forward pass runs once; the layer and the later ones are pinned the first time. */
typedef struct {
    float *map;      /* w*h values in [0,1], row-major, at the original frame's size (all 0 = no evidence) */
    int w, h;
    float *raw;      /* raw_w*raw_h: ReLU(sum_c alpha_c A_c) at the layer, before upsampling / normalising */
    int raw_w, raw_h;
    float raw_max;   /* max of raw (the normalisation divisor; 0 = nothing positive) */
    int class_index; /* binary: 1 = the positive class (default), 0 = the negative; softmax: the class */
    char *layer;     /* the layer used, by its name in the loaded graph (fused layers take the last name) */
} sialo_cam;

#define SIALO_CAM_ALPHA 0.45f /* default overlay opacity at the hottest point */

/* Classify + Grad-CAM in one call; cam->map has the image's size. r->ms includes the CAM.
 * On failure cam is left empty. Free with sialo_cam_free. */
int sialo_classify_cam(sialo_model *m, const void *image_bytes, size_t size, const char *layer,
                       sialo_result *r, sialo_cam *cam);
/* The same on an already decoded frame (the CLI and the WASM module keep the frame for the overlay). */
int sialo_classify_image_cam(sialo_model *m, const sialo_image *img, const char *layer, sialo_result *r, sialo_cam *cam);
/* ... for a chosen class: -1 = default (binary: malignant), 0/1 = benign/malignant (binary),
   SIALO_CAM_PREDICTED = the class the model decided on (explains the decision) */
#define SIALO_CAM_PREDICTED (-2)
int sialo_classify_image_cam_class(sialo_model *m, const sialo_image *img, const char *layer, int class_index,
                                   sialo_result *r, sialo_cam *cam);
/* a lesion box (sialo_classify_image_box) with Grad-CAM: the map covers the region classified
   (cam->w x cam->h = region->w x region->h), class_index as above */
int sialo_classify_image_box_cam(sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, const char *layer,
                                 int class_index, sialo_result *r, sialo_cam *cam, sialo_box *region);
/* Lower level: one preprocessed input (as sialo_forward). class_index -1 = default (binary: the
 * positive logit; softmax: the top class). out_w x out_h = size of cam->map (0 x 0 = the layer's
 * own size). out (may be NULL) receives the network outputs. */
int sialo_cam_forward(sialo_model *m, const float *input, const char *layer, int class_index, int out_w, int out_h,
                      float *out, sialo_cam *cam);
void sialo_cam_free(sialo_cam *cam);
/* Name of the default Grad-CAM layer, or NULL (reason set) if the model has no global average pool. */
const char *sialo_cam_default_layer(const sialo_model *m);
/* Turbo colour map (Google's polynomial approximation), t in [0,1] -> RGB. */
void sialo_colormap_turbo(float t, uint8_t rgb[3]);
/* The map in turbo colours over the frame: opacity alpha * map (alpha < 0 = SIALO_CAM_ALPHA), so
 * cold areas keep the frame visible. rgba: w*h*4 bytes, alpha channel 255. Sizes must match. */
int sialo_cam_overlay(const sialo_image *frame, const sialo_cam *cam, float alpha, uint8_t *rgba);
/* Localisation against a lesion mask of the map's size (non-zero = lesion): pointing = 1 if the
 * map's maximum falls inside; energy = share of the map's mass inside. An all-zero map: 0 and 0. */
int sialo_cam_mask_scores(const sialo_cam *cam, const uint8_t *mask, int *pointing, double *energy);

#ifdef __cplusplus
}
#endif
#endif
