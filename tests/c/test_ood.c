/* test_ood.c — the out-of-distribution check (src/engine/ood.c, model file version 4).
 *
 * The reference: the score recomputed here from the STORED factors by another route, in double:
 * the full covariance Sigma = U diag(var) U^T + resid (I - U U^T) is built, inverted by Gauss-Jordan
 * elimination, and d^2 = min_c (f - mu_c)^T Sigma^-1 (f - mu_c); the model's score is
 * mean_k d2_k / scale_k. The features f come from a second copy of the network loaded from the
 * file WITHOUT the statistics (its pooled output after the same forward).
 * 1. One network: statistics cross-fitted on 60 inputs (<= the rate flagged out of fold), the basis
 *    orthonormal, the file written as version 4, read back with the same statistics bit for bit,
 *    the classification's score equal to the reference (1e-4 relative), the same p as without.
 * 2. An older file (version 2, no statistics): "not checked" (checked 0, flag 0), never in distribution.
 * 3. An ensemble of two: the statistics survive save / load per network; the score is the mean of
 *    each network's normalised distance (reference as above); the v4 file without its statistics
 *    is byte for byte the v3 file (the networks untouched).
 * 4. Refusals: statistics for one network of two, a threshold missing, every truncation (re-signed):
 *    refused with a sentence, never a crash (ASan + UBSan).
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
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
#define SIDE 32
#define N 60

static uint64_t rng = 0x5EED0F00Dull;
static uint32_t rnd(void) { return xorshift_next(&rng); }
static uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static void put32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k)); }
static void resign(uint8_t *b, size_t n) {
    put32(b + 16, (uint32_t)(n - HEADER));
    put32(b + 20, 0);
    put32(b + 24, sialo_crc32(b + HEADER, n - HEADER));
}

/* conv 3x3/2 (12) -> conv 3x3/2 (24) -> GAP (24 features) -> dense -> sigmoid */
static sialo_graph *small(uint64_t seed) {
    sialo_graph *g = sialo_graph_new("small", SIDE, SIDE, 3);
    static const char *const names[2] = {"benign", "malignant"};
    int x = gb_conv(g, "c1", 0, 3, 3, 2, PAD_SAME, 1, 12, 1, ACT_RELU);
    x = x < 0 ? x : gb_conv(g, "c2", x, 3, 3, 2, PAD_SAME, 1, 24, 1, ACT_RELU);
    x = x < 0 ? x : gb_simple(g, OP_GAP, "pool", x);
    x = x < 0 ? x : gb_dense(g, "dense", x, 1, 1, ACT_NONE);
    x = x < 0 ? x : gb_simple(g, OP_SIGMOID, "out", x);
    g->n_classes = 1;
    CHECK(x > 0 && sialo_graph_set_classes(g, 2, names) == 0 && sialo_graph_infer_shapes(g) == 0, "small: %s", sialo_error());
    sialo_graph_randomize(g, seed);
    return g;
}

/* a frame of class c: textured noise, brighter for class 1; foreign = a flat colour with stripes */
static void frame(sialo_image *im, int c, int foreign) {
    im->w = SIDE + 8;
    im->h = SIDE + 4;
    im->rgb = malloc((size_t)im->w * im->h * 3);
    for (int i = 0; i < im->w * im->h; i++) {
        int v = foreign ? ((i % im->w) / 4 % 2 ? 250 : 10) : (int)(rnd() % 120) + 40 * c;
        im->rgb[3 * i] = (uint8_t)v;
        im->rgb[3 * i + 1] = (uint8_t)(foreign ? 255 - v : v);
        im->rgb[3 * i + 2] = (uint8_t)(foreign ? 128 : v);
    }
}

static uint8_t *to_bytes(const sialo_graph *g, size_t *n) {
    uint8_t *b = NULL;
    CHECK(sialo_graph_write(g, 32, &b, n) == 0, "write: %s", sialo_error());
    return b;
}

/* d^2 by the explicit inverse of the full covariance (double), from the stored factors */
static double naive_d2(const sialo_ood_net *o, const float *f) {
    int D = o->dim;
    double *A = calloc((size_t)D * 2 * D, sizeof *A);
    for (int a = 0; a < D; a++) {
        for (int b = 0; b < D; b++) {
            double s = a == b ? o->resid_var : 0;
            for (int j = 0; j < o->rank; j++) {
                double ua = o->basis[(size_t)j * D + a], ub = o->basis[(size_t)j * D + b];
                s += ua * ub * ((double)o->var[j] - o->resid_var);
            }
            A[(size_t)a * 2 * D + b] = s;
        }
        A[(size_t)a * 2 * D + D + a] = 1;
    }
    for (int c = 0; c < D; c++) { /* Gauss-Jordan with partial pivoting */
        int piv = c;
        for (int r = c + 1; r < D; r++) if (fabs(A[(size_t)r * 2 * D + c]) > fabs(A[(size_t)piv * 2 * D + c])) piv = r;
        for (int k = 0; k < 2 * D; k++) { double t = A[(size_t)c * 2 * D + k]; A[(size_t)c * 2 * D + k] = A[(size_t)piv * 2 * D + k]; A[(size_t)piv * 2 * D + k] = t; }
        double d = A[(size_t)c * 2 * D + c];
        for (int k = 0; k < 2 * D; k++) A[(size_t)c * 2 * D + k] /= d;
        for (int r = 0; r < D; r++) {
            if (r == c) continue;
            double m = A[(size_t)r * 2 * D + c];
            for (int k = 0; k < 2 * D; k++) A[(size_t)r * 2 * D + k] -= m * A[(size_t)c * 2 * D + k];
        }
    }
    double best = INFINITY;
    for (int m = 0; m < o->n_means; m++) {
        double s = 0;
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++)
                s += ((double)f[a] - o->means[(size_t)m * D + a]) * A[(size_t)a * 2 * D + D + b] * ((double)f[b] - o->means[(size_t)m * D + b]);
        if (s < best) best = s;
    }
    free(A);
    return best;
}

/* the features of every network of m (single or ensemble) for one frame: feats[k] (dim floats each) */
static void features_of(sialo_model *m, const sialo_image *im, float **feats) {
    sialo_result r;
    CHECK(sialo_classify_image(m, im, &r) == 0, "classify: %s", sialo_error());
    for (int k = 0; k < (m->n_members > 1 ? m->n_members : 1); k++) {
        int dim = 0;
        const float *f = sialo_model_features(m, k, &dim);
        CHECK(f && dim == 24, "features of network %d: %s", k, sialo_error());
        if (f) memcpy(feats[k], f, 24 * sizeof(float));
    }
}

/* statistics for graph g (single or ensemble) fitted on N frames; returns the out-of-fold flagged count */
static int fit(sialo_graph *g, double rate) {
    size_t n;
    uint8_t *b = to_bytes(g, &n);
    sialo_model *m = sialo_model_load(b, n, NULL);
    free(b);
    CHECK(m != NULL, "load: %s", sialo_error());
    if (!m) return -1;
    CHECK(sialo_model_keep_features(m) == 0, "keep features: %s", sialo_error());
    int nets = m->n_members > 1 ? m->n_members : 1, labels[N], fold[N], dims[2] = {24, 24};
    float *feats[2] = {malloc(N * 24 * sizeof(float)), malloc(N * 24 * sizeof(float))};
    for (int i = 0; i < N; i++) {
        sialo_image im;
        labels[i] = i % 2;
        fold[i] = (i / 2) % 5;
        frame(&im, labels[i], 0);
        float *row[2] = {feats[0] + i * 24, feats[1] + i * 24};
        features_of(m, &im, row);
        free(im.rgb);
    }
    sialo_ood_net *nets_fit[2] = {0};
    float thr = 0;
    double oof[N];
    const char *layers[2] = {"pool", "pool"};
    CHECK(sialo_ood_crossfit(feats, dims, nets, labels, fold, N, 5, 2, 8, rate, layers, nets_fit, &thr, oof) == 0, "crossfit: %s", sialo_error());
    int flagged = 0;
    for (int i = 0; i < N; i++) flagged += !(oof[i] <= thr);
    CHECK(thr > 0, "threshold %g", thr);
    /* the basis is orthonormal, the variances positive and decreasing-ish, rank as asked */
    for (int k = 0; k < nets && nets_fit[k]; k++) {
        const sialo_ood_net *o = nets_fit[k];
        double worst = 0;
        for (int a = 0; a < o->rank; a++)
            for (int c = 0; c < o->rank; c++) {
                double t = 0;
                for (int d = 0; d < o->dim; d++) t += (double)o->basis[a * o->dim + d] * o->basis[c * o->dim + d];
                worst = fmax(worst, fabs(t - (a == c)));
            }
        CHECK(o->rank == 8 && worst < 1e-5, "network %d: rank %d, basis off orthonormal by %g", k, o->rank, worst);
        CHECK(o->var[0] >= o->var[o->rank - 1] && o->resid_var > 0 && o->scale > 0, "network %d: var %g .. %g, resid %g, scale %g", k,
              o->var[0], o->var[o->rank - 1], o->resid_var, o->scale);
    }
    CHECK(sialo_graph_set_ood(g, nets_fit, nets, thr, N) == 0, "set: %s", sialo_error());
    free(feats[0]);
    free(feats[1]);
    sialo_model_free(m);
    return flagged;
}

static int same_net(const sialo_ood_net *a, const sialo_ood_net *b) {
    return a && b && a->dim == b->dim && a->n_means == b->n_means && a->rank == b->rank && a->scale == b->scale &&
           a->resid_var == b->resid_var && !strcmp(a->layer, b->layer) &&
           !memcmp(a->means, b->means, (size_t)a->n_means * a->dim * 4) && !memcmp(a->var, b->var, (size_t)a->rank * 4) &&
           !memcmp(a->basis, b->basis, (size_t)a->rank * a->dim * 4);
}

/* the model's score of im against the reference computed from g's stored statistics and plain copies */
static void check_score(const char *label, const sialo_graph *g, const uint8_t *plain, size_t plain_n, const uint8_t *with, size_t with_n,
                        const sialo_image *im) {
    sialo_model *m = sialo_model_load(with, with_n, NULL), *p = sialo_model_load(plain, plain_n, NULL);
    CHECK(m && p, "%s: load: %s", label, sialo_error());
    if (!m || !p) { sialo_model_free(m); sialo_model_free(p); return; }
    CHECK(sialo_model_keep_features(p) == 0, "%s: keep: %s", label, sialo_error());
    sialo_result r, rp;
    CHECK(sialo_classify_image(m, im, &r) == 0, "%s: classify: %s", label, sialo_error());
    float f0[24], f1[24], *fs[2] = {f0, f1};
    features_of(p, im, fs);
    CHECK(sialo_classify_image(p, im, &rp) == 0 && rp.p_positive == r.p_positive, "%s: p %g with the statistics, %g without", label,
          r.p_positive, rp.p_positive);
    int nets = g->n_members ? g->n_members : 1;
    double ref = 0;
    for (int k = 0; k < nets; k++) {
        const sialo_ood_net *o = (g->n_members ? g->members[k] : g)->ood;
        ref += naive_d2(o, fs[k]) / o->scale / nets;
    }
    CHECK(r.ood.checked == 1, "%s: not checked", label);
    CHECK(fabs(r.ood.score - ref) <= 1e-4 * fmax(1, fabs(ref)), "%s: score %.7g, reference %.7g", label, r.ood.score, ref);
    CHECK(r.ood.flag == (ref > g->ood_threshold) && r.ood.threshold == g->ood_threshold, "%s: flag %d at score %g, threshold %g", label,
          r.ood.flag, ref, g->ood_threshold);
    sialo_model_free(m);
    sialo_model_free(p);
}

int main(void) {
    /* 1. one network */
    sialo_graph *g = small(11);
    size_t plain_n;
    uint8_t *plain = to_bytes(g, &plain_n);
    int flagged = fit(g, 0.1);
    CHECK(flagged >= 0 && flagged <= 6, "single: %d of %d out-of-fold frames flagged at rate 0.1", flagged, N);
    size_t n;
    uint8_t *b = to_bytes(g, &n);
    CHECK(get32(b + 8) == 4, "a model with statistics is written as version %u (4 expected)", get32(b + 8));
    sialo_graph *back = sialo_graph_read_any(b, n);
    CHECK(back && same_net(back->ood, g->ood) && back->ood_threshold == g->ood_threshold && back->ood_frames == N,
          "single: the statistics do not survive save / load: %s", back ? "differ" : sialo_error());
    size_t n2;
    uint8_t *b2 = back ? to_bytes(back, &n2) : NULL;
    CHECK(b2 && n2 == n && !memcmp(b, b2, n), "single: read and written again, the bytes differ");
    free(b2);
    sialo_graph_free(back);
    for (int t = 0; t < 6; t++) {
        sialo_image im;
        frame(&im, t % 2, t >= 4);
        check_score(t >= 4 ? "single, foreign frame" : "single, in-distribution frame", g, plain, plain_n, b, n, &im);
        free(im.rgb);
    }
    {   /* info JSON says so */
        sialo_model *m = sialo_model_load(b, n, NULL);
        char *js = m ? sialo_model_info_json(m) : NULL;
        CHECK(js && strstr(js, "\"ood\":{\"checked\":true"), "info JSON: %s", js ? js : sialo_error());
        free(js);
        sialo_model_free(m);
    }

    /* 2. an older file: not checked */
    {
        CHECK(get32(plain + 8) == 2, "a model without statistics is still written as version %u", get32(plain + 8));
        sialo_model *m = sialo_model_load(plain, plain_n, NULL);
        sialo_image im;
        frame(&im, 0, 1);
        sialo_result r;
        CHECK(m && sialo_classify_image(m, &im, &r) == 0, "old file: %s", sialo_error());
        CHECK(r.ood.checked == 0 && r.ood.flag == 0, "old file: checked %d flag %d (must be not checked)", r.ood.checked, r.ood.flag);
        char *js = m ? sialo_model_info_json(m) : NULL;
        CHECK(js && strstr(js, "\"ood\":{\"checked\":false"), "old file info JSON: %s", js ? js : sialo_error());
        free(js);
        free(im.rgb);
        sialo_model_free(m);
    }

    /* 3. an ensemble of two */
    sialo_graph *mem[2] = {small(21), small(22)};
    sialo_graph *e = sialo_ensemble_graph(mem, 2);
    CHECK(e != NULL, "ensemble: %s", sialo_error());
    size_t v3n;
    uint8_t *v3 = to_bytes(e, &v3n);
    flagged = fit(e, 0.05);
    CHECK(flagged >= 0 && flagged <= 3, "ensemble: %d of %d out-of-fold frames flagged at rate 0.05", flagged, N);
    size_t en;
    uint8_t *eb = to_bytes(e, &en);
    CHECK(get32(eb + 8) == 4, "ensemble with statistics: version %u", get32(eb + 8));
    sialo_graph *eback = sialo_graph_read_any(eb, en);
    CHECK(eback && eback->n_members == 2 && same_net(eback->members[0]->ood, e->members[0]->ood) &&
          same_net(eback->members[1]->ood, e->members[1]->ood) && eback->ood_threshold == e->ood_threshold,
          "ensemble: the statistics do not survive save / load: %s", eback ? "differ" : sialo_error());
    if (eback) { /* without its statistics, the file is the version 3 file again, byte for byte */
        eback->ood_threshold = 0;
        size_t k3;
        uint8_t *again = to_bytes(eback, &k3);
        CHECK(again && k3 == v3n && !memcmp(again, v3, v3n), "ensemble: without the statistics, not the same bytes as before (%zu, %zu)", k3, v3n);
        free(again);
    }
    sialo_graph_free(eback);
    for (int t = 0; t < 4; t++) {
        sialo_image im;
        frame(&im, t % 2, t >= 2);
        check_score(t >= 2 ? "ensemble, foreign frame" : "ensemble, in-distribution frame", e, v3, v3n, eb, en, &im);
        free(im.rgb);
    }

    /* 4. refusals: one network's statistics renamed away; the threshold renamed away; truncations */
    {
        uint8_t *c = malloc(en);
        memcpy(c, eb, en);
        uint8_t *hit = NULL;
        int seen = 0;
        for (size_t i = HEADER; i + 7 < en; i++)
            if (!memcmp(c + i, "\x03\0\0\0ood", 7) && ++seen == 2) { hit = c + i + 4; break; }
        CHECK(hit != NULL, "the second 'ood' section not found");
        if (hit) {
            hit[2] = 'x';
            resign(c, en);
            sialo_graph *x = sialo_graph_read_any(c, en);
            CHECK(!x && strstr(sialo_error(), "1 of its 2 networks"), "statistics for one network of two: %s", x ? "loaded" : sialo_error());
            sialo_graph_free(x);
        }
        memcpy(c, eb, en);
        for (size_t i = HEADER; i + 17 < en; i++)
            if (!memcmp(c + i, "ood-threshold", 13)) { c[i + 3] = '_'; break; }
        resign(c, en);
        sialo_graph *x = sialo_graph_read_any(c, en);
        CHECK(!x && strstr(sialo_error(), "no threshold"), "no threshold: %s", x ? "loaded" : sialo_error());
        sialo_graph_free(x);
        int bad = 0;
        for (size_t cut = HEADER; cut < en; cut += 97) {
            memcpy(c, eb, cut);
            resign(c, cut);
            sialo_graph *y = sialo_graph_read_any(c, cut);
            if (y || !*sialo_error()) bad++;
            sialo_graph_free(y);
        }
        CHECK(bad == 0, "%d truncations of a version 4 file were not refused with a sentence", bad);
        free(c);
    }

    /* the shipped model, when it carries its statistics */
    {
        sialo_model *m = sialo_model_load_file("models/sialoscan-busi.sialo", NULL);
        if (m && m->g->ood_threshold > 0) {
            sialo_image im;
            frame(&im, 0, 1);
            sialo_result r;
            CHECK(sialo_classify_image(m, &im, &r) == 0 && r.ood.checked && r.ood.flag, "shipped model: a striped frame checked %d flag %d score %g",
                  r.ood.checked, r.ood.flag, r.ood.score);
            free(im.rgb);
        }
        sialo_model_free(m);
    }
    free(plain); free(b); free(v3); free(eb);
    sialo_graph_free(g);
    sialo_graph_free(e);
    printf("test_ood: %d passed, %d failed\n", check_passed, check_failed);
    return check_failed ? 1 : 0;
}
