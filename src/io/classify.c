/* classify.c — one-call classification: bytes -> frame (decode.c) -> input tensor (preprocess.c)
 * -> the engine's forward pass and decision (engine/decide.c). */
#include "engine/runtime.h"

#include <stdlib.h>
#include <string.h>

int sialo_classify_image(sialo_model *m, const sialo_image *img, sialo_result *out) {
    double t0 = sialo_now_ms();
    memset(out, 0, sizeof *out);
    const sialo_graph *g = m->g;
    size_t osz = sialo_output_size(m);
    float *x = malloc((size_t)g->in_h * g->in_w * 3 * sizeof(float)), *y = malloc(osz * sizeof(float));
    int rc = -1;
    if (!x || !y) { sialo_fail("out of memory"); goto out; }
    if (sialo_preprocess(m, img, x) < 0 || sialo_forward(m, x, y) < 0) goto out;
    sialo_decide(m, y, out);
    out->ms = sialo_now_ms() - t0;
    rc = 0;
out:
    free(x);
    free(y);
    return rc;
}

int sialo_classify(sialo_model *m, const void *image_bytes, size_t size, sialo_result *out) {
    double t0 = sialo_now_ms();
    memset(out, 0, sizeof *out);
    sialo_image img;
    if (sialo_image_decode(image_bytes, size, &img) < 0) return -1;
    int rc = sialo_classify_image(m, &img, out);
    sialo_image_free(&img);
    if (rc == 0) out->ms = sialo_now_ms() - t0;
    return rc;
}
