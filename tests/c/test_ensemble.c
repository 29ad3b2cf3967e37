/* test_ensemble.c — ensembles (src/engine/ensemble.c, model file version 3, Grad-CAM of an ensemble).
 *
 * The reference is each network run on its own, as a single-network file, by the engine that the
 * other tests check; the ensemble is then recomputed here by the formulas of the issue, in double:
 *   p = sigmoid(a * mean_k logit(p_k) + b)   (p_k: network k's raw p; a, b: the ensemble's calibration)
 *   raw CAM = mean_k raw_k                   (raw_k: network k's raw Grad-CAM map, resampled here by
 *                                             this file's own bilinear code when the sizes differ)
 * 1. Two smallcnn networks (the same feature-map size) and smallcnn + MobileNetV2 (different
 *    sizes), fp32 and fp16, 1 and 2 threads (bit for bit the same), the class Grad-CAM explains
 *    (malignant, benign, the ensemble's own decision).
 * 2. Versions: a single network is still written as version 2 and reads back to the same bytes;
 *    the shipped model reads as one network; sialo_graph_read (backbones) refuses an ensemble.
 * 3. Refusals, each with its sentence: networks of different input sizes or normalisations (the
 *    builder and the reader), a network cut short (every truncation of the file, re-signed), a
 *    network count of 1 or 17, bytes after the last network, an ensemble asked to train;
 *    a few thousand re-signed random mutations: refused with a reason or loaded, never a crash
 *    (this test runs under ASan + UBSan).
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "engine/calibration.h"
#include "check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "sialoscan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 32

static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { return xorshift_next(&rng); }
static uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static uint64_t get64(const uint8_t *b) { return get32(b) | (uint64_t)get32(b + 4) << 32; }
static void put32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k)); }
static void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }
/* the header's payload size and CRC made to match n bytes, so the parser gets past them */
static void resign(uint8_t *b, size_t n) {
    put64(b + 16, n - HEADER);
    put32(b + 24, sialo_crc32(b + HEADER, n - HEADER));
}
static void clear_error(void) { sialo_fail("%s", ""); }
static double logit(double p) { return log(p / (1 - p)); }
static double sigm(double z) { return 1 / (1 + exp(-z)); }

static sialo_graph *net(const char *arch, int side, uint64_t seed) {
    sialo_graph *g = sialo_arch_build(arch, side, side, "binary", 0);
    CHECK(g != NULL, "%s build: %s", arch, sialo_error());
    if (g) sialo_graph_randomize(g, seed);
    return g;
}
static uint8_t *to_bytes(const sialo_graph *g, int bits, size_t *n) {
    uint8_t *b = NULL;
    CHECK(sialo_graph_write(g, bits, &b, n) == 0, "write: %s", sialo_error());
    return b;
}
static sialo_graph *from_bytes(const uint8_t *b, size_t n) {
    sialo_graph *g = sialo_graph_read_any(b, n);
    CHECK(g != NULL, "read: %s", sialo_error());
    return g;
}

/* a network of a few hundred bytes (conv 3x3/2 -> GAP -> dense -> sigmoid): every truncation and
   thousands of mutations of an ensemble of two stay cheap */
static sialo_graph *tiny(uint64_t seed) {
    sialo_graph *g = sialo_graph_new("tiny", 32, 32, 3);
    static const char *const names[2] = {"benign", "malignant"};
    if (!g) return NULL;
    int x = gb_conv(g, "conv", 0, 3, 3, 2, PAD_SAME, 1, 4, 1, ACT_RELU);
    x = x < 0 ? x : gb_simple(g, OP_GAP, "gap", x);
    x = x < 0 ? x : gb_dense(g, "dense", x, 1, 1, ACT_NONE);
    x = x < 0 ? x : gb_simple(g, OP_SIGMOID, "out", x);
    g->n_classes = 1;
    CHECK(x > 0 && sialo_graph_set_classes(g, 2, names) == 0 && sialo_graph_infer_shapes(g) == 0, "tiny: %s", sialo_error());
    sialo_graph_randomize(g, seed);
    return g;
}

/* a synthetic frame: smooth gradients and a bright blob */
static sialo_image frame(int w, int h, int seed) {
    sialo_image im = {malloc((size_t)w * h * 3), w, h};
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            double dx = x - w * (0.3 + 0.1 * seed), dy = y - h * 0.6;
            double v = 60 + 40.0 * x / w + 180 * exp(-(dx * dx + dy * dy) / (0.02 * w * h));
            for (int c = 0; c < 3; c++) im.rgb[3 * ((size_t)y * w + x) + c] = (uint8_t)fmin(255, v + 17 * c * seed % 31);
        }
    return im;
}

/* this file's own bilinear resampling: half-pixel centres, edges clamped (as the issue says:
   "upsampled to a common size") */
static void resample(const float *s, int sw, int sh, double *d, int dw, int dh) {
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            double fx = (x + 0.5) * sw / dw - 0.5, fy = (y + 0.5) * sh / dh - 0.5;
            fx = fx < 0 ? 0 : fx > sw - 1 ? sw - 1 : fx;
            fy = fy < 0 ? 0 : fy > sh - 1 ? sh - 1 : fy;
            int x0 = (int)fx, y0 = (int)fy, x1 = x0 + 1 < sw ? x0 + 1 : x0, y1 = y0 + 1 < sh ? y0 + 1 : y0;
            double ax = fx - x0, ay = fy - y0;
            double top = s[y0 * sw + x0] * (1 - ax) + s[y0 * sw + x1] * ax, bot = s[y1 * sw + x0] * (1 - ax) + s[y1 * sw + x1] * ax;
            d[y * dw + x] = top * (1 - ay) + bot * ay;
        }
}

/* ---------------------------------------------------------------- 1. the ensemble against its networks */
static void against_networks(const char *label, sialo_graph *g1, sialo_graph *g2, int bits, double cal_a, double cal_b) {
    size_t n1, n2, ne;
    uint8_t *b1 = to_bytes(g1, bits, &n1), *b2 = to_bytes(g2, bits, &n2);
    /* the ensemble is built from the networks as they read back from their files (fp16 rounding included) */
    sialo_graph *mem[2] = {from_bytes(b1, n1), from_bytes(b2, n2)};
    sialo_graph *e = sialo_ensemble_graph(mem, 2);
    CHECK(e != NULL, "%s: ensemble: %s", label, sialo_error());
    if (!e) { free(b1); free(b2); sialo_graph_free(g1); sialo_graph_free(g2); return; }
    CHECK(e->threshold == 0.5f && e->calib_a == 1.0f && e->calib_b == 0.0f, "%s: a new ensemble is not 0.5 / uncalibrated", label);
    if (cal_a != 1 || cal_b != 0) CHECK(sialo_calib_set(e, cal_a, cal_b, "test") == 0, "%s: calib_set: %s", label, sialo_error());
    float thr = e->threshold, a = e->calib_a, b = e->calib_b;
    uint8_t *be = to_bytes(e, bits, &ne);
    sialo_graph_free(e);
    CHECK(be && get32(be + 8) == 3, "%s: an ensemble is not written as version 3", label);

    sialo_options o1 = {.backend = SIALO_BACKEND_OWN, .threads = 1}, o2 = {.backend = SIALO_BACKEND_OWN, .threads = 2};
    sialo_model *m1 = sialo_model_load(b1, n1, &o1), *m2 = sialo_model_load(b2, n2, &o1);
    sialo_model *me = sialo_model_load(be, ne, &o1), *me2 = sialo_model_load(be, ne, &o2);
    CHECK(m1 && m2 && me && me2, "%s: load: %s", label, sialo_error());
    if (m1 && m2 && me && me2) {
        sialo_info in;
        sialo_model_info(me, &in);
        CHECK(in.n_members == 2 && in.format_version == 3, "%s: info: %d members, version %d", label, in.n_members, in.format_version);
        CHECK(in.n_params == m1->stored_params + m2->stored_params, "%s: parameters %zu", label, in.n_params);
        char *js = sialo_model_info_json(me);
        CHECK(js && strstr(js, "\"members\":2") && strstr(js, "\"networks\":["), "%s: info JSON %s", label, js ? js : "(null)");
        free(js);
        for (int s = 0; s < 2; s++) {
            sialo_image im = frame(97 + 13 * s, 75 + 7 * s, s + 1);
            sialo_result r1, r2, re, re2;
            CHECK(sialo_classify_image(m1, &im, &r1) == 0 && sialo_classify_image(m2, &im, &r2) == 0 &&
                  sialo_classify_image(me, &im, &re) == 0 && sialo_classify_image(me2, &im, &re2) == 0,
                  "%s: classify: %s", label, sialo_error());
            double z = (logit(r1.p_positive) + logit(r2.p_positive)) / 2, want = sigm(a * z + b);
            CHECK(fabs(re.p_positive - want) < 2e-6, "%s frame %d: p = %.9f, sigmoid(a mean logit + b) = %.9f (p1 %.7f, p2 %.7f)", label, s,
                  re.p_positive, want, r1.p_positive, r2.p_positive);
            CHECK(re.label == (re.p_positive >= thr) && re.threshold == thr, "%s frame %d: label %d at p %g, threshold %g", label, s,
                  re.label, re.p_positive, re.threshold);
            CHECK(re2.p_positive == re.p_positive, "%s frame %d: 2 threads %.9g, 1 thread %.9g", label, s, re2.p_positive, re.p_positive);
            /* Grad-CAM: the malignant map, the benign map, the ensemble's own decision */
            int classes[3] = {1, 0, SIALO_CAM_PREDICTED};
            for (int c = 0; c < 3; c++) {
                int cls = classes[c] == SIALO_CAM_PREDICTED ? re.label : classes[c];
                sialo_cam c1, c2, ce, ce2;
                sialo_result q1, q2, qe, qe2;
                int ok = sialo_classify_image_cam_class(m1, &im, NULL, cls, &q1, &c1) == 0;
                ok &= sialo_classify_image_cam_class(m2, &im, NULL, cls, &q2, &c2) == 0;
                ok &= sialo_classify_image_cam_class(me, &im, NULL, classes[c], &qe, &ce) == 0;
                ok &= sialo_classify_image_cam_class(me2, &im, NULL, classes[c], &qe2, &ce2) == 0;
                CHECK(ok, "%s: Grad-CAM: %s", label, sialo_error());
                if (!ok) continue;
                CHECK(qe.p_positive == re.p_positive, "%s: p with Grad-CAM %.9g, without %.9g", label, qe.p_positive, re.p_positive);
                CHECK(ce.class_index == cls, "%s: the ensemble explains class %d, not %d", label, ce.class_index, cls);
                int W = c1.raw_w > c2.raw_w ? c1.raw_w : c2.raw_w, H = c1.raw_h > c2.raw_h ? c1.raw_h : c2.raw_h;
                CHECK(ce.raw_w == W && ce.raw_h == H, "%s: raw map %dx%d, expected %dx%d", label, ce.raw_w, ce.raw_h, W, H);
                CHECK(ce.w == im.w && ce.h == im.h, "%s: map %dx%d for a %dx%d frame", label, ce.w, ce.h, im.w, im.h);
                if (ce.raw_w == W && ce.raw_h == H) {
                    double *r1d = malloc((size_t)W * H * sizeof *r1d), *r2d = malloc((size_t)W * H * sizeof *r2d), worst = 0, mx = 0;
                    resample(c1.raw, c1.raw_w, c1.raw_h, r1d, W, H);
                    resample(c2.raw, c2.raw_w, c2.raw_h, r2d, W, H);
                    for (int p = 0; p < W * H; p++) {
                        double want_p = (r1d[p] + r2d[p]) / 2;
                        if (want_p > mx) mx = want_p;
                        if (fabs(ce.raw[p] - want_p) > worst) worst = fabs(ce.raw[p] - want_p);
                    }
                    CHECK(worst <= 1e-5 * (mx > 1 ? mx : 1), "%s class %d: raw map off the mean of the networks' maps by %g (max %g)", label,
                          cls, worst, mx);
                    CHECK(fabs(ce.raw_max - mx) <= 1e-5 * (mx > 1 ? mx : 1), "%s: raw_max %g, expected %g", label, ce.raw_max, mx);
                    free(r1d);
                    free(r2d);
                }
                float mmax = 0;
                for (int p = 0; p < ce.w * ce.h; p++) mmax = ce.map[p] > mmax ? ce.map[p] : mmax;
                CHECK(ce.raw_max > 0 ? mmax == 1.0f : mmax == 0.0f, "%s: the map's maximum is %g", label, mmax);
                int same = ce2.raw_w == ce.raw_w && ce2.w == ce.w && !memcmp(ce2.map, ce.map, (size_t)ce.w * ce.h * sizeof *ce.map);
                CHECK(same, "%s: the 2-thread map differs from the 1-thread map", label);
                sialo_cam_free(&c1); sialo_cam_free(&c2); sialo_cam_free(&ce); sialo_cam_free(&ce2);
            }
            sialo_image_free(&im);
        }
        /* forward: the raw p = sigmoid(mean logit), no calibration */
        size_t nin = (size_t)me->g->in_h * me->g->in_w * 3;
        float *x = malloc(nin * sizeof *x), y1 = 0, y2 = 0, ye = -1;
        for (size_t i = 0; i < nin; i++) x[i] = (float)((rnd() % 2001) / 1000.0 - 1.0);
        CHECK(sialo_forward(m1, x, &y1) == 0 && sialo_forward(m2, x, &y2) == 0 && sialo_forward(me, x, &ye) == 0, "forward: %s", sialo_error());
        double want = sigm((logit(y1) + logit(y2)) / 2);
        CHECK(fabs(ye - want) < 2e-6, "%s: forward %.9f, sigmoid(mean logit) %.9f", label, ye, want);
        free(x);
        /* profile and activations are one network's: refused with a sentence */
        clear_error();
        CHECK(sialo_profile_start(me) < 0 && strstr(sialo_error(), "ensemble"), "%s: profile of an ensemble: '%s'", label, sialo_error());
        int shape[4];
        CHECK(!sialo_activation(me, "input", shape) && strstr(sialo_error(), "ensemble"), "%s: activation of an ensemble", label);
    }
    sialo_model_free(m1); sialo_model_free(m2); sialo_model_free(me); sialo_model_free(me2);
    free(b1); free(b2); free(be);
    sialo_graph_free(g1);
    sialo_graph_free(g2);
}

/* ---------------------------------------------------------------- 2. versions */
static void versions(void) {
    sialo_graph *g = net("smallcnn", 32, 7);
    if (!g) return;
    size_t n, n2;
    uint8_t *b = to_bytes(g, 32, &n);
    CHECK(b && get32(b + 8) == 2, "a single network is not written as version 2");
    sialo_graph *r = from_bytes(b, n);
    CHECK(r && r->n_members == 0, "a version 2 file reads as an ensemble");
    uint8_t *b2 = r ? to_bytes(r, 32, &n2) : NULL;
    CHECK(b2 && n2 == n && !memcmp(b, b2, n), "a version 2 file does not write back to the same bytes");
    sialo_model *m = sialo_model_load(b, n, NULL);
    sialo_info in;
    if (m) { sialo_model_info(m, &in); CHECK(in.n_members == 1, "a single network reports %d members", in.n_members); }
    char *js = m ? sialo_model_info_json(m) : NULL;
    CHECK(js && strstr(js, "\"members\":1}") && !strstr(js, "networks"), "single-network info JSON: %s", js ? js : "(null)");
    free(js);
    sialo_model_free(m);
    /* the shipped model (since 2026-12-02: an ensemble of 2 networks, version 3; models/MODEL_CARD.md) */
    size_t ns;
    uint8_t *shipped = slurp("models/sialoscan-busi.sialo", &ns);
    if (shipped) {
        sialo_model *ms = sialo_model_load(shipped, ns, NULL);
        CHECK(ms != NULL, "shipped model: %s", sialo_error());
        if (ms) { sialo_model_info(ms, &in); CHECK(in.n_members == 2 && in.format_version >= 3, "shipped model: %d members, v%d", in.n_members, in.format_version); }
        sialo_model_free(ms);
        free(shipped);
    } else printf("(no models/sialoscan-busi.sialo: the shipped-model check is skipped)\n");
    /* backbones and checkpoints take one network */
    sialo_graph *mem[2] = {r, net("smallcnn", 32, 8)};
    sialo_graph *e = sialo_ensemble_graph(mem, 2);
    size_t ne;
    uint8_t *be = e ? to_bytes(e, 32, &ne) : NULL;
    clear_error();
    sialo_graph *single = be ? sialo_graph_read(be, ne) : NULL;
    CHECK(!single && strstr(sialo_error(), "ensemble of 2 networks"), "sialo_graph_read on an ensemble: '%s'", sialo_error());
    sialo_graph_free(single);
    /* an ensemble does not train */
    sialo_options tr = {.backend = SIALO_BACKEND_OWN, .threads = 1, .training = 1};
    clear_error();
    sialo_model *mt = be ? sialo_model_load(be, ne, &tr) : NULL;
    CHECK(!mt && strstr(sialo_error(), "cannot be trained"), "training an ensemble: '%s'", sialo_error());
    sialo_model_free(mt);
    sialo_graph_free(e);
    sialo_graph_free(g);
    free(b); free(b2); free(be);
}

/* ---------------------------------------------------------------- 3. refusals */
static void expect_refused(const uint8_t *b, size_t n, const char *word, const char *what) {
    clear_error();
    sialo_model *m = sialo_model_load(b, n, NULL);
    CHECK(m == NULL, "%s: loaded, but should have been refused", what);
    sialo_model_free(m);
    if (m) return;
    CHECK(*sialo_error() && (!word || strstr(sialo_error(), word)), "%s: reason '%s' (expected '%s')", what, sialo_error(), word ? word : "any");
}

/* the file offset of the u32 network count (after the ensemble's metadata) */
static size_t members_offset(const uint8_t *b) {
    size_t p = HEADER;
    p += 4 + get32(b + p); /* arch */
    p += 4 + get32(b + p); /* provenance */
    p += 12 + 24 + 4;      /* input, normalisation, n_classes */
    uint32_t ncn = get32(b + p);
    p += 4;
    for (uint32_t i = 0; i < ncn; i++) p += 4 + get32(b + p);
    return p + 12; /* threshold, a, b */
}
/* the offset of network k's record, and of its body size (u64) */
static size_t member_offset(const uint8_t *b, int k, size_t *body_size_at) {
    size_t p = members_offset(b) + 4;
    for (int i = 0;; i++) {
        size_t rec = p;
        p += 4 + get32(b + p);
        p += 4 + get32(b + p);
        p += 12 + 24;
        if (body_size_at) *body_size_at = p;
        if (i == k) return rec;
        p += 8 + get64(b + p);
    }
}

static void refusals(void) {
    /* the builder: another input size, another normalisation */
    sialo_graph *mem[2] = {net("smallcnn", 32, 1), net("smallcnn", 48, 2)};
    clear_error();
    sialo_graph *e = sialo_ensemble_graph(mem, 2);
    CHECK(!e && strstr(sialo_error(), "network 2 takes 48x48 inputs but network 1 takes 32x32"), "builder, input size: '%s'", sialo_error());
    sialo_graph_free(e);
    mem[0] = net("smallcnn", 32, 1);
    mem[1] = net("smallcnn", 32, 2);
    mem[1]->norm_bias[0] = 0.25f;
    clear_error();
    e = sialo_ensemble_graph(mem, 2);
    CHECK(!e && strstr(sialo_error(), "normalis"), "builder, normalisation: '%s'", sialo_error());
    sialo_graph_free(e);
    clear_error();
    mem[0] = net("smallcnn", 32, 1);
    e = sialo_ensemble_graph(mem, 1);
    CHECK(!e && strstr(sialo_error(), "2 to 16 networks"), "builder, one network: '%s'", sialo_error());

    /* a good file, then damaged copies */
    mem[0] = tiny(1);
    mem[1] = tiny(2);
    e = sialo_ensemble_graph(mem, 2);
    if (!e) return;
    size_t n;
    uint8_t *good = to_bytes(e, 16, &n);
    if (!good) { sialo_graph_free(e); return; }
    sialo_model *ok = sialo_model_load(good, n, NULL);
    CHECK(ok != NULL, "the good fp16 ensemble: %s", sialo_error());
    sialo_model_free(ok);

    /* the reader: a network of another input size / normalisation (written as such, then refused) */
    e->members[1]->in_h = 40;
    size_t nb;
    uint8_t *bad = to_bytes(e, 32, &nb);
    expect_refused(bad, nb, "network 2 of the ensemble takes 40x32x3 inputs but the ensemble 32x32x3", "reader, input size");
    free(bad);
    e->members[1]->in_h = 32;
    e->members[1]->norm_scale[2] = 1.0f;
    bad = to_bytes(e, 32, &nb);
    expect_refused(bad, nb, "normalises its input differently", "reader, normalisation");
    free(bad);
    sialo_graph_free(e);

    uint8_t *c = malloc(n + 64);
    size_t count_at = members_offset(good), body_at;
    member_offset(good, 1, &body_at);
    /* network counts 1 and 17 */
    uint32_t counts[2] = {1, 17};
    for (int i = 0; i < 2; i++) {
        memcpy(c, good, n);
        put32(c + count_at, counts[i]);
        resign(c, n);
        expect_refused(c, n, "2 to 16 allowed", "network count");
    }
    /* network 2 cut short: its body claims more than the file holds */
    memcpy(c, good, n);
    size_t cut = body_at + 8 + (n - body_at - 8) / 2;
    resign(c, cut);
    expect_refused(c, cut, "network 2 of the ensemble announces", "network 2 cut in half");
    /* its body size one byte too small: its data section is short */
    memcpy(c, good, n);
    put64(c + body_at, get64(good + body_at) - 16);
    resign(c, n);
    expect_refused(c, n, NULL, "network 2's body 16 bytes short");
    /* bytes after the last network */
    memcpy(c, good, n);
    memset(c + n, 0, 32);
    resign(c, n + 32);
    expect_refused(c, n + 32, "32 bytes after the last network", "trailing bytes");
    /* every truncation, re-signed: refused with a reason, never a crash */
    int refused = 0, total = 0;
    for (size_t k = HEADER; k < n; k++) {
        memcpy(c, good, k);
        resign(c, k);
        clear_error();
        sialo_model *m = sialo_model_load(c, k, NULL);
        total++;
        if (!m && *sialo_error()) refused++;
        sialo_model_free(m);
    }
    CHECK(refused == total, "truncations: %d of %d refused with a reason", refused, total);
    /* random mutations, re-signed */
    int crashes_avoided = 0;
    for (int t = 0; t < 3000; t++) {
        memcpy(c, good, n);
        int flips = 1 + (int)(rnd() % 4);
        for (int f = 0; f < flips; f++) {
            size_t at = HEADER + rnd() % (uint32_t)(n - HEADER);
            if (at >= n) at = n - 1;
            c[at] = rnd() % 3 ? (uint8_t)rnd() : (uint8_t)(c[at] ^ (1u << (rnd() % 8)));
        }
        resign(c, n);
        clear_error();
        sialo_model *m = sialo_model_load(c, n, NULL);
        if (m) {
            float *x = calloc((size_t)m->g->in_h * m->g->in_w * 3, sizeof *x), y[4];
            if (x && sialo_output_size(m) <= 4) sialo_forward(m, x, y);
            free(x);
            sialo_model_free(m);
        } else if (!*sialo_error()) {
            CHECK(0, "mutation %d refused without a reason", t);
        }
        crashes_avoided++;
    }
    CHECK(crashes_avoided == 3000, "mutations");
    free(c);
    free(good);
}

int main(void) {
    against_networks("smallcnn x2 fp32", net("smallcnn", 64, 11), net("smallcnn", 64, 12), 32, 1, 0);
    against_networks("smallcnn x2 fp16, calibrated", net("smallcnn", 64, 13), net("smallcnn", 64, 14), 16, 0.583, -0.377);
    against_networks("smallcnn + mobilenetv2 (maps 4x4 and 2x2), calibrated", net("smallcnn", 64, 15), net("mobilenetv2", 64, 16), 32, 1.7,
                     0.4);
    versions();
    refusals();
    return test_summary("test_ensemble");
}
