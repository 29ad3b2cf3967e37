/* bindings.c — the functions the WASM module exports: thin wrappers over sialoscan.h that
 * take and return plain pointers and numbers (no logic of their own). */
#include "runtime.h"

#include <emscripten.h>
#include <stdlib.h>

EMSCRIPTEN_KEEPALIVE const char *sialo_wasm_error(void) { return sialo_error(); }

EMSCRIPTEN_KEEPALIVE sialo_model *sialo_wasm_load(const void *data, size_t size, int keep_activations) {
    sialo_options opt = {SIALO_BACKEND_OWN, 1, keep_activations};
    return sialo_model_load(data, size, &opt);
}

EMSCRIPTEN_KEEPALIVE void sialo_wasm_free(sialo_model *m) { sialo_model_free(m); }

EMSCRIPTEN_KEEPALIVE char *sialo_wasm_info_json(const sialo_model *m) { return sialo_model_info_json(m); }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_input_floats(const sialo_model *m) { return m->g->in_h * m->g->in_w * m->g->in_c; }

EMSCRIPTEN_KEEPALIVE int sialo_wasm_output_floats(const sialo_model *m) { return (int)sialo_output_size(m); }

/* out: [p_positive, label, threshold, ms] */
EMSCRIPTEN_KEEPALIVE int sialo_wasm_classify(sialo_model *m, const void *bytes, size_t size, float *out) {
    sialo_result r;
    if (sialo_classify(m, bytes, size, &r) < 0) return -1;
    out[0] = r.p_positive;
    out[1] = (float)r.label;
    out[2] = r.threshold;
    out[3] = (float)r.ms;
    return 0;
}

EMSCRIPTEN_KEEPALIVE int sialo_wasm_forward(sialo_model *m, const float *input, float *out) {
    return sialo_forward(m, input, out);
}

/* shape: int[4]; returns a pointer into the model's arena (valid until the next call) */
EMSCRIPTEN_KEEPALIVE const float *sialo_wasm_activation(sialo_model *m, const char *layer, int *shape) {
    return sialo_activation(m, layer, shape);
}
