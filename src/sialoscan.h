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

#define SIALO_VERSION "0.1.0"

/* Reason for the last failure in this thread ("" if none). */
const char *sialo_error(void);

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
    float threshold;          /* decision threshold on p(positive) for binary models */
    size_t n_params;          /* parameters as stored in the file (before BN folding) */
    int n_layers;             /* nodes in the stored graph */
    uint32_t checksum;        /* CRC-32 of the payload, as stored */
    int storage_bits;         /* 32 or 16 */
} sialo_info;

void sialo_model_info(const sialo_model *m, sialo_info *out);
/* One JSON object describing the model; caller frees with free(). */
char *sialo_model_info_json(const sialo_model *m);

/* Run the network on one preprocessed input (H*W*C floats, NHWC, already normalised).
 * out receives n_classes values (probabilities). Returns 0 or -1. */
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

/* ---------------------------------------------------------------- classification */
typedef struct {
    float p_positive;  /* p(malignant) for binary models; top-1 probability otherwise */
    int label;         /* binary: 1 if p_positive >= threshold; multi-class: argmax */
    float threshold;
    double ms;         /* decode + preprocess + forward, milliseconds */
} sialo_result;

int sialo_classify(sialo_model *m, const void *image_bytes, size_t size, sialo_result *out);

/* Milliseconds since an arbitrary epoch (monotonic). */
double sialo_now_ms(void);

#ifdef __cplusplus
}
#endif
#endif
