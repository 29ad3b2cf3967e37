/* preprocess.c — a decoded frame (decode.c) to the network's input tensor.
 *
 * 1. Resize the whole frame (aspect ratio not kept, as Keras' image_dataset_from_directory does)
 *    to the model's input size with an antialiased bilinear filter: a triangle filter whose
 *    support widens with the reduction factor (as PIL's BILINEAR and tf.image.resize with
 *    antialias=True), separable, in float, pixel centres at (i + 0.5).
 * 2. Normalise per channel: x * norm_scale + norm_bias (Keras ResNetV2 / MobileNetV2: x/127.5 - 1).
 */
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* weights of a 1-D antialiased bilinear resample from n_in to n_out samples */
typedef struct {
    int *start, *len;
    float *w;   /* n_out * max_len */
    int max_len;
} resample;

static int resample_init(resample *r, int n_in, int n_out) {
    double scale = (double)n_in / n_out, fs = scale > 1.0 ? scale : 1.0;
    r->max_len = (int)ceil(fs) * 2 + 2;
    r->start = malloc((size_t)n_out * sizeof(int));
    r->len = malloc((size_t)n_out * sizeof(int));
    r->w = calloc((size_t)n_out * r->max_len, sizeof(float));
    if (!r->start || !r->len || !r->w) return sialo_fail("out of memory resizing");
    for (int o = 0; o < n_out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)floor(center - fs), hi = (int)ceil(center + fs);
        if (lo < 0) lo = 0;
        if (hi > n_in) hi = n_in;
        if (hi - lo > r->max_len) hi = lo + r->max_len;
        double sum = 0;
        float *w = r->w + (size_t)o * r->max_len;
        for (int i = lo; i < hi; i++) {
            double t = fabs((i + 0.5 - center) / fs);
            w[i - lo] = (float)(t < 1.0 ? 1.0 - t : 0.0);
            sum += w[i - lo];
        }
        if (sum <= 0) { /* cannot happen for n_in >= 1, but never divide by zero */
            int i = (int)center < n_in ? (int)center : n_in - 1;
            lo = i; hi = i + 1; w[0] = 1.0f; sum = 1.0;
        }
        for (int i = 0; i < hi - lo; i++) w[i] = (float)(w[i] / sum);
        r->start[o] = lo;
        r->len[o] = hi - lo;
    }
    return 0;
}

static void resample_free(resample *r) { free(r->start); free(r->len); free(r->w); }

int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst) {
    resample rx = {0}, ry = {0};
    float *tmp = malloc((size_t)sh * dw * 3 * sizeof(float));
    int rc = -1;
    if (!tmp) { sialo_fail("out of memory resizing"); goto out; }
    if (resample_init(&rx, sw, dw) < 0 || resample_init(&ry, sh, dh) < 0) goto out;
    for (int y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * sw * 3;
        float *trow = tmp + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            const float *w = rx.w + (size_t)x * rx.max_len;
            float a0 = 0, a1 = 0, a2 = 0;
            for (int k = 0; k < rx.len[x]; k++) {
                const uint8_t *p = row + (size_t)(rx.start[x] + k) * 3;
                a0 += w[k] * p[0]; a1 += w[k] * p[1]; a2 += w[k] * p[2];
            }
            trow[3 * x] = a0; trow[3 * x + 1] = a1; trow[3 * x + 2] = a2;
        }
    }
    for (int y = 0; y < dh; y++) {
        const float *w = ry.w + (size_t)y * ry.max_len;
        float *drow = dst + (size_t)y * dw * 3;
        for (int i = 0; i < dw * 3; i++) drow[i] = 0;
        for (int k = 0; k < ry.len[y]; k++) {
            const float *trow = tmp + (size_t)(ry.start[y] + k) * dw * 3;
            for (int i = 0; i < dw * 3; i++) drow[i] += w[k] * trow[i];
        }
        for (int x = 0; x < dw; x++)
            for (int c = 0; c < 3; c++) drow[3 * x + c] = drow[3 * x + c] * scale[c] + bias[c];
    }
    rc = 0;
out:
    resample_free(&rx);
    resample_free(&ry);
    free(tmp);
    return rc;
}

int sialo_preprocess(const sialo_model *m, const sialo_image *img, float *dst) {
    if (!img || !img->rgb) return sialo_fail("no image");
    const sialo_graph *g = m->g;
    return sialo_resize_rgb(img->rgb, img->w, img->h, g->in_w, g->in_h, g->norm_scale, g->norm_bias, dst);
}
