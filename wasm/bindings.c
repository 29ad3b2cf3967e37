/* bindings.c — the functions the WASM module exports: thin wrappers over sialoscan.h that
 * take and return plain pointers and numbers (no logic of their own). */
#include "runtime.h"

#include <emscripten.h>
#include <stdlib.h>

EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_error(void) { return sialo_error(); }

EMSCRIPTEN_KEEPALIVE sialo_model *sialo_wasm_load(const void *data, size_t size, int keep_activations) {
    sialo_options opt = {SIALO_BACKEND_OWN, 1, keep_activations, 0};
    return sialo_model_load(data, size, &opt);
}

EMSCRIPTEN_KEEPALIVE void sialo_wasm_free(sialo_model *m) { sialo_model_free(m); }

EMSCRIPTEN_KEEPALIVE char *sialo_wasm_info_json(const sialo_model *m) { return sialo_model_info_json(m); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_input_floats(const sialo_model *m) { return m->g->in_h * m->g->in_w * m->g->in_c; }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_output_floats(const sialo_model *m) { return (int)sialo_output_size(m); }

/* one frame (0 for an image file; DICOM: frame k, us_region = crop to the first ultrasound region).
 * out: [p_positive, label, threshold, ms] */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_classify(sialo_model *m, const void *bytes, size_t size, int frame, int us_region, float *out) {
    double t0 = sialo_now_ms();
    sialo_result r;
    sialo_image img;
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &img) < 0) return -1;
    int rc = sialo_classify_image(m, &img, &r);
    sialo_image_free(&img);
    if (rc < 0) return -1;
    r.ms = sialo_now_ms() - t0;
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)r.ms;
    return 0;
}

/* ---- DICOM: 1 if the bytes are a DICOM file; its metadata as JSON (caller frees); frames (-1 = cannot decode) */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_is_dicom(const void *bytes, size_t size) { return sialo_is_dicom(bytes, size); }
EMSCRIPTEN_KEEPALIVE char *sialo_wasm_dicom_info_json(const void *bytes, size_t size) {
    sialo_dicom_info in;
    if (sialo_dicom_read_info(bytes, size, &in) < 0) return NULL;
    return sialo_dicom_info_json(&in);
}
EMSCRIPTEN_KEEPALIVE int sialo_wasm_frames(const void *bytes, size_t size) { return sialo_image_frames(bytes, size); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_forward(sialo_model *m, const float *input, float *out) {
    return sialo_forward(m, input, out);
}

/* shape: int[4]; returns a pointer into the model's arena (valid until the next call) */
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_activation(sialo_model *m, const char *layer, int *shape) {
    return sialo_activation(m, layer, shape);
}

/* ---- Grad-CAM: a result handle the JS side reads and then frees with sialo_wasm_cam_free */
typedef struct {
    sialo_cam cam;
    uint8_t *rgba; /* overlay on the frame (classify), or NULL (tensor input) */
} wasm_cam;

/* layer: "" = the default. out: [p_positive, label, threshold, ms]. alpha < 0 = default opacity. */
EMSCRIPTEN_KEEPALIVE wasm_cam *sialo_wasm_classify_cam(sialo_model *m, const void *bytes, size_t size, int frame, int us_region,
                                                       const char *layer, float alpha, float *out) {
    double t0 = sialo_now_ms();
    wasm_cam *c = calloc(1, sizeof *c);
    sialo_image img;
    sialo_result r;
    if (!c) { sialo_fail("out of memory"); return NULL; }
    if (sialo_image_decode_frame(bytes, size, frame, us_region, &img) < 0) { free(c); return NULL; }
    int rc = sialo_classify_image_cam(m, &img, layer, &r, &c->cam);
    if (rc == 0) {
        c->rgba = malloc((size_t)img.w * img.h * 4);
        rc = c->rgba ? sialo_cam_overlay(&img, &c->cam, alpha, c->rgba) : sialo_fail("out of memory");
    }
    sialo_image_free(&img);
    if (rc < 0) { sialo_cam_free(&c->cam); free(c->rgba); free(c); return NULL; }
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)(sialo_now_ms() - t0);
    return c;
}

/* one preprocessed input (as sialo_wasm_forward); the map at the layer's size; out: the outputs */
EMSCRIPTEN_KEEPALIVE wasm_cam *sialo_wasm_cam_tensor(sialo_model *m, const float *input, const char *layer, int class_index,
                                                     float *out) {
    wasm_cam *c = calloc(1, sizeof *c);
    if (!c) { sialo_fail("out of memory"); return NULL; }
    if (sialo_cam_forward(m, input, layer, class_index, 0, 0, out, &c->cam) < 0) { free(c); return NULL; }
    return c;
}

/* dims: [w, h, raw_w, raw_h, class_index]; returns the layer name */
EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_cam_dims(const wasm_cam *c, int *dims) {
    dims[0] = c->cam.w; dims[1] = c->cam.h; dims[2] = c->cam.raw_w; dims[3] = c->cam.raw_h; dims[4] = c->cam.class_index;
    return c->cam.layer;
}
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_cam_map(const wasm_cam *c) { return c->cam.map; }
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_cam_raw(const wasm_cam *c) { return c->cam.raw; }
EMSCRIPTEN_KEEPALIVE const uint8_t *sialo_wasm_cam_rgba(const wasm_cam *c) { return c->rgba; }
EMSCRIPTEN_KEEPALIVE void sialo_wasm_cam_free(wasm_cam *c) {
    if (!c) return;
    sialo_cam_free(&c->cam);
    free(c->rgba);
    free(c);
}
