/* gradcam.c — Grad-CAM (Selvaraju et al., ICCV 2017), the turbo colour map and the overlay.
 *
 * For a layer L with output A [H,W,C] and the score z explained (the logit: the input of the final
 * sigmoid; for a softmax model the chosen class's pre-softmax score):
 *   alpha_c = mean_{y,x} dz/dA[y,x,c]          (gradients by sialo_backward, no parameter gradients)
 *   raw[y,x] = ReLU(sum_c alpha_c A[y,x,c])
 * raw is upsampled bilinearly to the ORIGINAL frame (the network input is the whole frame squashed
 * to H x W, so x and y scale independently; pixel centres at (i + 0.5)) and divided by its
 * maximum, so the map lies in [0,1] (a map without positive evidence stays all zero).
 *
 * The forward pass runs once: the layer and every later layer are pinned (sialo_model_pin) the
 * first time a model is asked for a CAM at that layer, so their outputs survive the forward and
 * the backward walk reuses them. Default layer: the feature map feeding the global average pool
 * ("out_relu" in MobileNetV2, "post_relu" in ResNet50V2, "block4_relu" in the small CNN).
 */
#include "engine/runtime.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static size_t node_size(const sialo_graph *g, int i) {
    const sialo_node *n = &g->nodes[i];
    return (size_t)n->oh * n->ow * n->oc;
}

/* the node whose output is the score Grad-CAM explains: the input of a final sigmoid / softmax,
   otherwise the output itself */
static int score_node(const sialo_graph *g) { return sialo_score_node(g); }

static int default_layer(const sialo_graph *g) {
    for (int i = g->n_nodes - 1; i >= 1; i--)
        if (g->nodes[i].op == OP_GAP) return g->nodes[i].in[0];
    return sialo_fail("this model has no global average pool; name the layer for Grad-CAM");
}

const char *sialo_cam_default_layer(const sialo_model *m) {
    int i = default_layer(m->g);
    return i < 0 ? NULL : m->g->nodes[i].name;
}

static int find_layer(const sialo_model *m, const char *layer) {
    const sialo_graph *g = m->g;
    if (!layer || !*layer) return default_layer(g);
    int i = sialo_graph_find_node(g, layer);
    if (i < 0) {
        char why[400];
        snprintf(why, sizeof why, "%s", sialo_error());
        return sialo_fail("Grad-CAM layer: %s", why);
    }
    if (i == 0) return sialo_fail("Grad-CAM layer '%s' is the network input; name a layer after it", layer);
    if (i > score_node(g))
        return sialo_fail("Grad-CAM layer '%s' comes after the score being explained ('%s')", layer,
                          g->nodes[score_node(g)].name);
    return i;
}

/* keep the outputs of the layer and of every later layer alive after a forward (once per layer) */
static int pin_from(sialo_model *m, int target) {
    if (m->opt.keep_activations) return 0;
    int nn = m->g->n_nodes, missing = 0;
    for (int i = target; i < nn; i++) missing |= !m->pinned[i];
    if (!missing) return 0;
    int *was = malloc((size_t)nn * sizeof *was);
    if (!was) return sialo_fail("out of memory");
    memcpy(was, m->pinned, (size_t)nn * sizeof *was);
    /* mark the later ones directly and let one sialo_model_pin call re-plan the buffers once */
    for (int i = target + 1; i < nn; i++) m->pinned[i] = 1;
    m->pinned[target] = 0;
    int rc = sialo_model_pin(m, target);
    /* a failed re-plan keeps the old buffers: forget the pins, or the next call would trust them */
    if (rc < 0) memcpy(m->pinned, was, (size_t)nn * sizeof *was);
    free(was);
    return rc;
}

void sialo_cam_free(sialo_cam *cam) {
    if (!cam) return;
    free(cam->map);
    free(cam->raw);
    free(cam->layer);
    memset(cam, 0, sizeof *cam);
}

/* bilinear, half-pixel centres, edges clamped; src sw x sh -> dst dw x dh; returns the max */
static float upsample(const float *src, int sw, int sh, float *dst, int dw, int dh, float *rowbuf) {
    int *x0 = malloc((size_t)dw * sizeof *x0);
    float *fx = malloc((size_t)dw * sizeof *fx);
    float mx = 0.0f;
    if (!x0 || !fx) { free(x0); free(fx); return -1.0f; }
    for (int x = 0; x < dw; x++) {
        float s = ((float)x + 0.5f) * (float)sw / (float)dw - 0.5f;
        if (s < 0) s = 0;
        if (s > (float)(sw - 1)) s = (float)(sw - 1);
        x0[x] = (int)s;
        if (x0[x] > sw - 2) x0[x] = sw > 1 ? sw - 2 : 0;
        fx[x] = sw > 1 ? s - (float)x0[x] : 0.0f;
    }
    /* rows of src upsampled in x: rowbuf [sh][dw] */
    for (int y = 0; y < sh; y++) {
        const float *r = src + (size_t)y * sw;
        float *o = rowbuf + (size_t)y * dw;
        if (sw == 1) { for (int x = 0; x < dw; x++) o[x] = r[0]; continue; }
        for (int x = 0; x < dw; x++) o[x] = r[x0[x]] + fx[x] * (r[x0[x] + 1] - r[x0[x]]);
    }
    for (int y = 0; y < dh; y++) {
        float s = ((float)y + 0.5f) * (float)sh / (float)dh - 0.5f;
        if (s < 0) s = 0;
        if (s > (float)(sh - 1)) s = (float)(sh - 1);
        int y0 = (int)s;
        if (y0 > sh - 2) y0 = sh > 1 ? sh - 2 : 0;
        float fy = sh > 1 ? s - (float)y0 : 0.0f;
        const float *a = rowbuf + (size_t)y0 * dw, *b = sh > 1 ? a + dw : a;
        float *o = dst + (size_t)y * dw;
        for (int x = 0; x < dw; x++) {
            float v = a[x] + fy * (b[x] - a[x]);
            if (v < 0) v = 0; /* rounding only: inputs are >= 0 */
            o[x] = v;
            if (v > mx) mx = v;
        }
    }
    free(x0);
    free(fx);
    return mx;
}

/* the class explained and the gradient dy of the outputs that selects its score, from the outputs y
   (binary: the logit, class 0 = the negative class: -logit; softmax: one class's score) */
static int resolve_class(const sialo_model *m, const float *y, int class_index, int nout, float *dy) {
    int cls = class_index;
    size_t osz = sialo_output_size(m);
    if (nout == 1 && cls == SIALO_CAM_PREDICTED) cls = sialo_calibrated_p(m, y[0]) >= m->g->threshold ? 1 : 0; /* explain the decision */
    if (cls == SIALO_CAM_PREDICTED) cls = -1;
    if (nout == 1) {
        dy[0] = cls == 0 ? -1.0f : 1.0f;
        cls = cls == 0 ? 0 : 1;
    } else {
        if (cls < 0) {
            cls = 0;
            for (size_t k = 1; k < osz && k < (size_t)nout; k++) if (y[k] > y[cls]) cls = (int)k;
        }
        dy[cls] = 1.0f;
    }
    return cls;
}

/* after a forward: the backward from the score to the target layer, then
   raw = ReLU(sum_c alpha_c A_c) at the layer (W x H, malloc'ed), its maximum in *rmax */
static int raw_map(sialo_model *m, int target, int start, const int *need, const float *dy, float **raw, int *W_, int *H_,
                   float *rmax_) {
    const sialo_graph *g = m->g;
    float **grad = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *grad); /* all NULL: no parameter gradients */
    float *alpha = NULL;
    int rc = -1;
    *raw = NULL;
    if (!grad) { sialo_fail("out of memory"); goto out; }
    if (sialo_backward(m, start, dy, need, grad) < 0) goto out;
    const float *G = sialo_node_grad(m, target);
    const sialo_node *tn = &g->nodes[target];
    const float *A = m->ex[target].out;
    if (!G || !A) { sialo_fail("internal: no gradient at layer '%s'", tn->name); goto out; }
    int H = tn->oh, W = tn->ow, C = tn->oc;
    size_t HW = (size_t)H * W;
    alpha = malloc((size_t)C * sizeof *alpha);
    *raw = malloc(HW * sizeof **raw);
    if (!alpha || !*raw) { sialo_fail("out of memory"); goto out; }
    /* channel weights: spatial mean of the gradients */
    for (int c = 0; c < C; c++) {
        double s = 0;
        for (size_t p = 0; p < HW; p++) s += G[p * C + c];
        alpha[c] = (float)(s / (double)HW);
    }
    float rmax = 0.0f;
    for (size_t p = 0; p < HW; p++) {
        const float *a = A + p * C;
        double s = 0;
        for (int c = 0; c < C; c++) s += (double)alpha[c] * a[c];
        float v = s > 0 ? (float)s : 0.0f;
        (*raw)[p] = v;
        if (v > rmax) rmax = v;
    }
    *W_ = W;
    *H_ = H;
    *rmax_ = rmax;
    rc = 0;
out:
    if (rc < 0) { free(*raw); *raw = NULL; }
    free(grad);
    free(alpha);
    return rc;
}

/* cam->raw (raw_w x raw_h) upsampled to out_w x out_h (0 x 0 = the raw size) and divided by its maximum */
static int finish_map(sialo_cam *cam, int out_w, int out_h) {
    int W = cam->raw_w, H = cam->raw_h;
    if (out_w == 0 || out_h == 0) { out_w = W; out_h = H; }
    cam->w = out_w;
    cam->h = out_h;
    cam->map = malloc((size_t)out_w * out_h * sizeof *cam->map);
    float *rowbuf = malloc((size_t)H * out_w * sizeof *rowbuf);
    if (!cam->map || !rowbuf) { free(rowbuf); return sialo_fail("out of memory for a %dx%d Grad-CAM map", out_w, out_h); }
    float mx = upsample(cam->raw, W, H, cam->map, out_w, out_h, rowbuf);
    free(rowbuf);
    if (mx < 0) return sialo_fail("out of memory");
    size_t np = (size_t)out_w * out_h;
    if (mx > 0) {
        for (size_t p = 0; p < np; p++) cam->map[p] /= mx; /* exactly 1 at the maximum */
    }
    return 0;
}

/* Grad-CAM of an ensemble: each network's raw map of the class the ENSEMBLE explains (its decision
   for SIALO_CAM_PREDICTED), at each network's own layer (the same name, or each one's default);
   maps of different sizes are resampled (bilinear, as upsample) to the largest width and height
   among them; the raw map is their mean. For networks that end in GAP -> dense, the mean is (up to
   the common factor 1/n) the sum over the networks of the Grad-CAM of the ensemble's mean logit. */
static int ensemble_cam(sialo_model *m, const float *input, const char *layer, int class_index, int out_w, int out_h,
                        float *out, sialo_cam *cam) {
    int n = m->n_members, rc = -1;
    int *target = calloc((size_t)n, sizeof *target), *start = calloc((size_t)n, sizeof *start);
    int **need = calloc((size_t)n, sizeof *need);
    float **raw = calloc((size_t)n, sizeof *raw), *y = NULL, *dy = NULL, *tmp = NULL, *rowbuf = NULL;
    int *rw = calloc((size_t)n, sizeof *rw), *rh = calloc((size_t)n, sizeof *rh);
    size_t name_len = 1;
    if (!target || !start || !need || !raw || !rw || !rh) { sialo_fail("out of memory"); goto out; }
    int nout = (int)node_size(m->g, score_node(m->g));
    if (class_index < SIALO_CAM_PREDICTED || (class_index >= nout && !(nout == 1 && class_index == 1))) {
        sialo_fail("class %d out of range (the model has %d classes)", class_index, nout > 1 ? nout : 2);
        goto out;
    }
    for (int k = 0; k < n; k++) {
        sialo_model *mk = m->member[k];
        const sialo_graph *gk = mk->g;
        target[k] = find_layer(mk, layer);
        if (target[k] < 0) {
            char why[400];
            snprintf(why, sizeof why, "%s", sialo_error());
            sialo_fail("network %d of the ensemble: %s", k + 1, why);
            goto out;
        }
        start[k] = score_node(gk);
        need[k] = sialo_backward_need(mk, NULL, target[k]);
        if (!need[k]) goto out;
        if (!need[k][start[k]]) { sialo_fail("the output of network %d does not depend on layer '%s'", k + 1, gk->nodes[target[k]].name); goto out; }
        if (pin_from(mk, target[k]) < 0) goto out;
        name_len += strlen(gk->nodes[target[k]].name) + 1;
    }
    size_t osz = sialo_output_size(m);
    y = malloc(osz * sizeof *y);
    dy = calloc((size_t)nout, sizeof *dy);
    if (!y || !dy) { sialo_fail("out of memory"); goto out; }
    if (sialo_forward(m, input, y) < 0) goto out; /* every network's forward; their activations stay */
    if (out) memcpy(out, y, osz * sizeof *y);
    int cls = resolve_class(m, y, class_index, nout, dy);
    int W = 0, H = 0;
    for (int k = 0; k < n; k++) {
        float mxk;
        if (raw_map(m->member[k], target[k], start[k], need[k], dy, &raw[k], &rw[k], &rh[k], &mxk) < 0) goto out;
        if (rw[k] > W) W = rw[k];
        if (rh[k] > H) H = rh[k];
    }
    size_t HW = (size_t)W * H;
    double *acc = calloc(HW, sizeof *acc);
    tmp = malloc(HW * sizeof *tmp);
    if (!acc || !tmp) { free(acc); sialo_fail("out of memory"); goto out; }
    for (int k = 0; k < n; k++) {
        const float *src = raw[k];
        if (rw[k] != W || rh[k] != H) {
            free(rowbuf);
            rowbuf = malloc((size_t)rh[k] * W * sizeof *rowbuf);
            if (!rowbuf || upsample(raw[k], rw[k], rh[k], tmp, W, H, rowbuf) < 0) { free(acc); sialo_fail("out of memory"); goto out; }
            src = tmp;
        }
        for (size_t p = 0; p < HW; p++) acc[p] += src[p];
    }
    cam->raw = malloc(HW * sizeof *cam->raw);
    cam->layer = malloc(name_len);
    if (!cam->raw || !cam->layer) { free(acc); sialo_fail("out of memory"); goto out; }
    float rmax = 0.0f;
    for (size_t p = 0; p < HW; p++) {
        float v = (float)(acc[p] / n);
        cam->raw[p] = v;
        if (v > rmax) rmax = v;
    }
    free(acc);
    /* the layer: its name, or the networks' names joined by "+" when they differ */
    cam->layer[0] = 0;
    for (int k = 0; k < n; k++) {
        const char *nm = m->member[k]->g->nodes[target[k]].name;
        int dup = 0;
        for (int j = 0; j < k; j++) dup |= !strcmp(nm, m->member[j]->g->nodes[target[j]].name);
        if (dup) continue;
        if (k) strcat(cam->layer, "+");
        strcat(cam->layer, nm);
    }
    cam->raw_w = W;
    cam->raw_h = H;
    cam->raw_max = rmax;
    cam->class_index = cls;
    if (finish_map(cam, out_w, out_h) < 0) goto out;
    rc = 0;
out:
    for (int k = 0; need && k < n; k++) free(need[k]);
    for (int k = 0; raw && k < n; k++) free(raw[k]);
    free(target); free(start); free(need); free(raw); free(rw); free(rh);
    free(y); free(dy); free(tmp); free(rowbuf);
    return rc;
}

int sialo_cam_forward(sialo_model *m, const float *input, const char *layer, int class_index, int out_w, int out_h,
                      float *out, sialo_cam *cam) {
    if (!cam) return sialo_fail("no place for the Grad-CAM result");
    memset(cam, 0, sizeof *cam);
    if (!m || !input) return sialo_fail("no model or input");
    if (out_w < 0 || out_h < 0 || (size_t)out_w * (size_t)out_h > SIALO_MAX_PIXELS)
        return sialo_fail("Grad-CAM map size %dx%d out of range", out_w, out_h);
    int rc = -1;
    int *need = NULL;
    float *dy = NULL, *y = NULL;
    if (m->n_members > 1) {
        rc = ensemble_cam(m, input, layer, class_index, out_w, out_h, out, cam);
        goto out;
    }
    const sialo_graph *g = m->g;
    int target = find_layer(m, layer);
    if (target < 0) return -1;
    int start = score_node(g);
    int nout = (int)node_size(g, start);
    if (class_index < SIALO_CAM_PREDICTED || (class_index >= nout && !(nout == 1 && class_index == 1)))
        return sialo_fail("class %d out of range (the model has %d classes)", class_index, nout > 1 ? nout : 2);

    need = sialo_backward_need(m, NULL, target);
    if (!need) goto out;
    if (!need[start]) { sialo_fail("the output does not depend on layer '%s'", g->nodes[target].name); goto out; }
    if (pin_from(m, target) < 0) goto out;
    size_t osz = sialo_output_size(m);
    y = malloc(osz * sizeof *y);
    dy = calloc((size_t)nout, sizeof *dy);
    if (!y || !dy) { sialo_fail("out of memory"); goto out; }
    if (sialo_forward(m, input, y) < 0) goto out;
    if (out) memcpy(out, y, osz * sizeof *y);

    int cls = resolve_class(m, y, class_index, nout, dy);
    cam->layer = sialo_strdup(g->nodes[target].name);
    if (!cam->layer) goto out;
    if (raw_map(m, target, start, need, dy, &cam->raw, &cam->raw_w, &cam->raw_h, &cam->raw_max) < 0) goto out;
    cam->class_index = cls;
    if (finish_map(cam, out_w, out_h) < 0) goto out;
    rc = 0;
out:
    free(need);
    free(dy);
    free(y);
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", sialo_error());
        sialo_cam_free(cam);
        sialo_fail("%s", why);
    }
    return rc;
}

int sialo_classify_image_cam(sialo_model *m, const sialo_image *img, const char *layer, sialo_result *r, sialo_cam *cam) {
    return sialo_classify_image_cam_class(m, img, layer, -1, r, cam);
}

int sialo_classify_image_cam_class(sialo_model *m, const sialo_image *img, const char *layer, int class_index, sialo_result *r,
                                   sialo_cam *cam) {
    double t0 = sialo_now_ms();
    if (cam) memset(cam, 0, sizeof *cam);
    if (!r) return sialo_fail("no place for the result");
    memset(r, 0, sizeof *r);
    if (!m || !img || !img->rgb) return sialo_fail("no model or image");
    const sialo_graph *g = m->g;
    size_t osz = sialo_output_size(m);
    float *x = malloc((size_t)g->in_h * g->in_w * 3 * sizeof(float)), *y = malloc(osz * sizeof(float));
    int rc = -1;
    if (!x || !y) { sialo_fail("out of memory"); goto out; }
    if (sialo_preprocess(m, img, x) < 0) goto out;
    if (sialo_cam_forward(m, x, layer, class_index, img->w, img->h, y, cam) < 0) goto out;
    sialo_decide(m, y, r); /* the same decision as sialo_classify */
    r->ms = sialo_now_ms() - t0;
    rc = 0;
out:
    free(x);
    free(y);
    return rc;
}

int sialo_classify_image_box_cam(sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, const char *layer,
                                 int class_index, sialo_result *r, sialo_cam *cam, sialo_box *region) {
    double t0 = sialo_now_ms();
    if (cam) memset(cam, 0, sizeof *cam);
    if (r) memset(r, 0, sizeof *r);
    if (!m || !r) return sialo_fail("no model or no place for the result");
    if (!(m = sialo_box_model(m))) return -1; /* a model that carries one for boxes classifies them with it */
    sialo_image crop;
    if (sialo_box_prepare(m, img, box, margin, region, &crop) < 0) return -1;
    int rc = sialo_classify_image_cam_class(m, &crop, layer, class_index, r, cam); /* the map over the crop */
    sialo_image_free(&crop);
    if (rc == 0) r->ms = sialo_now_ms() - t0;
    return rc;
}

int sialo_classify_cam(sialo_model *m, const void *image_bytes, size_t size, const char *layer, sialo_result *r, sialo_cam *cam) {
    double t0 = sialo_now_ms();
    if (cam) memset(cam, 0, sizeof *cam);
    if (r) memset(r, 0, sizeof *r);
    sialo_image img;
    if (sialo_image_decode(image_bytes, size, &img) < 0) return -1;
    int rc = sialo_classify_image_cam(m, &img, layer, r, cam);
    sialo_image_free(&img);
    if (rc == 0) r->ms = sialo_now_ms() - t0;
    return rc;
}

/* ------------------------------------------------------------------ colour map and overlay */
/* Turbo (Anton Mikhailov, Google, 2019), the published polynomial approximation by Ruofei Du
 * (Copyright 2019 Google LLC, Apache-2.0): https://gist.github.com/mikhailov-work/0d177465a8151eb6ede1768d51d476c7 */
void sialo_colormap_turbo(float t, uint8_t rgb[3]) {
    static const double r4[4] = {0.13572138, 4.61539260, -42.66032258, 132.13108234}, r2[2] = {-152.94239396, 59.28637943};
    static const double g4[4] = {0.09140261, 2.19418839, 4.84296658, -14.18503333}, g2[2] = {4.27729857, 2.82956604};
    static const double b4[4] = {0.10667330, 12.64194608, -60.58204836, 110.36276771}, b2[2] = {-89.90310912, 27.34824973};
    double x = t != t ? 0.0 : t < 0 ? 0.0 : t > 1 ? 1.0 : t;
    double v4[4] = {1.0, x, x * x, x * x * x}, v2[2] = {x * x * x * x, x * x * x * x * x};
    const double *k4[3] = {r4, g4, b4}, *k2[3] = {r2, g2, b2};
    for (int c = 0; c < 3; c++) {
        double v = k4[c][0] * v4[0] + k4[c][1] * v4[1] + k4[c][2] * v4[2] + k4[c][3] * v4[3] + k2[c][0] * v2[0] + k2[c][1] * v2[1];
        v = v < 0 ? 0 : v > 1 ? 1 : v;
        rgb[c] = (uint8_t)(v * 255.0 + 0.5);
    }
}

int sialo_cam_overlay(const sialo_image *frame, const sialo_cam *cam, float alpha, uint8_t *rgba) {
    if (!frame || !frame->rgb || !cam || !cam->map || !rgba) return sialo_fail("overlay: no frame, map or output");
    if (frame->w != cam->w || frame->h != cam->h)
        return sialo_fail("overlay: the map is %dx%d but the frame %dx%d", cam->w, cam->h, frame->w, frame->h);
    if (!(alpha >= 0)) alpha = SIALO_CAM_ALPHA; /* negative or NaN: the default */
    if (alpha > 1) alpha = 1;
    uint8_t lut[256][3];
    for (int i = 0; i < 256; i++) sialo_colormap_turbo((float)i / 255.0f, lut[i]);
    size_t np = (size_t)frame->w * frame->h;
    for (size_t p = 0; p < np; p++) {
        float v = cam->map[p];
        v = v != v ? 0.0f : v < 0 ? 0.0f : v > 1 ? 1.0f : v;
        const uint8_t *c = lut[(int)(v * 255.0f + 0.5f)], *f = frame->rgb + 3 * p;
        float a = alpha * v; /* cold areas keep the frame visible */
        for (int k = 0; k < 3; k++) rgba[4 * p + k] = (uint8_t)((1.0f - a) * f[k] + a * c[k] + 0.5f);
        rgba[4 * p + 3] = 255;
    }
    return 0;
}

/* ------------------------------------------------------------------ localisation against a mask */
int sialo_cam_mask_scores(const sialo_cam *cam, const uint8_t *mask, int *pointing, double *energy) {
    if (!cam || !cam->map || !mask) return sialo_fail("no map or mask");
    size_t np = (size_t)cam->w * cam->h;
    float mx = 0.0f;
    double total = 0, inside = 0, sx = 0, sy = 0;
    size_t nmax = 0;
    for (size_t p = 0; p < np; p++) {
        float v = cam->map[p];
        total += v;
        if (mask[p]) inside += v;
        if (v > mx) mx = v;
    }
    if (mx <= 0) { /* no positive evidence anywhere: counts as a miss */
        if (pointing) *pointing = 0;
        if (energy) *energy = 0;
        return 0;
    }
    /* the maximum: the peak pixel nearest the centre of all pixels at the maximum (a peak at the
       border is a small plateau after the clamped upsampling) */
    for (size_t p = 0; p < np; p++)
        if (cam->map[p] >= mx) { sx += (double)(p % (size_t)cam->w); sy += (double)(p / (size_t)cam->w); nmax++; }
    sx /= (double)nmax;
    sy /= (double)nmax;
    double best = DBL_MAX;
    size_t arg = 0;
    for (size_t p = 0; p < np; p++) {
        if (cam->map[p] < mx) continue;
        double dx = (double)(p % (size_t)cam->w) - sx, dyy = (double)(p / (size_t)cam->w) - sy, d = dx * dx + dyy * dyy;
        if (d < best) { best = d; arg = p; }
    }
    if (pointing) *pointing = mask[arg] != 0;
    if (energy) *energy = inside / total;
    return 0;
}
