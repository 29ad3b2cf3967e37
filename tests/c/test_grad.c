/* test_grad.c — every backward pass against finite differences of the forward pass.
 * A small network that uses every trainable and routing op (conv, depthwise conv with folded
 * padding, grouped conv, stand-alone batch norm (affine), relu / relu6 fused and stand-alone,
 * add, max / avg / global pool, dense, dropout, sigmoid) is differentiated with sialo_backward
 * for a binary cross-entropy loss; sampled weights are perturbed and the loss difference
 * compared. Then: 2 threads give the gradients of 1 thread (batch split). */
#include "check.h"
#include "engine/graph.h"
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rs = 99;
static float frand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static sialo_graph *build(void) {
    uint64_t saved = rs;
    rs = 12345; /* the same network every call */
    sialo_graph *g = sialo_graph_new("gradnet", 11, 11, 3);
    int a = gb_conv(g, "c1", 0, 3, 3, 1, PAD_SAME, 1, 6, 1, ACT_RELU);
    int b = gb_bn(g, "bn", a, 1e-3f, ACT_RELU6);
    int p = gb_pad(g, "pad", b, 1, 1, 1, 1);
    int c = gb_conv(g, "dw", p, 3, 3, 1, PAD_VALID, 6, 6, 1, ACT_NONE);
    int c6 = gb_simple(g, OP_RELU6, "dw_relu6", c);
    int d = gb_add(g, "add", b, c6, ACT_NONE);
    int dr = gb_simple(g, OP_RELU, "add_relu", d);
    int e = gb_pool(g, OP_MAXPOOL, "maxpool", dr, 3, 2, PAD_SAME);
    int f = gb_pool(g, OP_AVGPOOL, "avgpool", e, 2, 2, PAD_SAME);
    int h = gb_conv(g, "grouped", f, 1, 1, 1, PAD_VALID, 2, 4, 1, ACT_NONE);
    int pad2 = gb_pad(g, "pad2", h, 0, 1, 1, 0);
    int k = gb_conv(g, "c2", pad2, 2, 2, 1, PAD_VALID, 1, 5, 0, ACT_RELU);
    int pw = gb_conv(g, "pointwise", k, 1, 1, 1, PAD_VALID, 1, 7, 1, ACT_RELU6); /* the 1x1 GEMM path */
    int gap = gb_simple(g, OP_GAP, "gap", pw);
    int drop = gb_dropout(g, "dropout", gap, 0.5f);
    int den = gb_dense(g, "dense", drop, 1, 1, ACT_NONE);
    gb_simple(g, OP_SIGMOID, "sigmoid", den);
    g->n_classes = 1;
    sialo_graph_randomize(g, 5);
    /* make the BN a real per-channel affine */
    for (int t = 0; t < g->n_tensors; t++)
        if (strstr(g->tensors[t].name, "bn/")) for (size_t i = 0; i < g->tensors[t].count; i++) g->tensors[t].data[i] += 0.3f * frand();
    CHECK(sialo_graph_infer_shapes(g) == 0, "infer: %s", sialo_error());
    rs = saved;
    return g;
}

/* MobileNetV2's pieces at widths that reach every vector block of the fast backward kernels
 * (72 channels: 4-vector blocks, then single vectors, on every ISA): an inverted residual block
 * (1x1 expand, relu6 -> depthwise 3x3 -> 1x1 project, added to a 1x1 shortcut: the accumulating
 * input gradients), a stride-2 depthwise on odd channels, a 1x1 with relu6, a dense head of one output */
static sialo_graph *build_mbv2(void) {
    uint64_t saved = rs;
    rs = 777;
    sialo_graph *g = sialo_graph_new("gradnet-mbv2", 9, 9, 3);
    int st = gb_conv(g, "stem", 0, 3, 3, 1, PAD_SAME, 1, 12, 1, ACT_RELU6);
    int ex = gb_conv(g, "expand", st, 1, 1, 1, PAD_VALID, 1, 72, 1, ACT_RELU6);
    int dw = gb_conv(g, "dw", ex, 3, 3, 1, PAD_SAME, 72, 72, 1, ACT_RELU6);
    int pr = gb_conv(g, "project", dw, 1, 1, 1, PAD_VALID, 1, 19, 1, ACT_NONE);
    int sc = gb_conv(g, "shortcut", st, 1, 1, 1, PAD_VALID, 1, 19, 0, ACT_NONE);
    int ad = gb_add(g, "add", pr, sc, ACT_NONE);
    int d2 = gb_conv(g, "dw2", ad, 3, 3, 2, PAD_SAME, 19, 19, 1, ACT_RELU6);
    int pw = gb_conv(g, "pw", d2, 1, 1, 1, PAD_VALID, 1, 33, 1, ACT_RELU6);
    int gap = gb_simple(g, OP_GAP, "gap", pw);
    int den = gb_dense(g, "dense", gap, 1, 1, ACT_NONE);
    gb_simple(g, OP_SIGMOID, "sigmoid", den);
    g->n_classes = 1;
    sialo_graph_randomize(g, 9);
    CHECK(sialo_graph_infer_shapes(g) == 0, "infer: %s", sialo_error());
    rs = saved;
    return g;
}

static double loss_of(sialo_model *m, const float *x, const float *y, int batch) {
    float p[8];
    sialo_forward_batch(m, x, p);
    double L = 0;
    for (int i = 0; i < batch; i++) L -= y[i] * log(p[i]) + (1 - y[i]) * log(1 - p[i]);
    return L;
}

/* analytic gradients of the BCE loss for all tensors (threads: 1 or 2) */
static float **grads(sialo_model *m, const float *x, const float *y, int batch) {
    const sialo_graph *g = m->g;
    float p[8], d[8];
    sialo_forward_batch(m, x, p);
    for (int i = 0; i < batch; i++) d[i] = p[i] - y[i];
    int *tr = malloc((size_t)g->n_tensors * sizeof *tr);
    float **gr = calloc((size_t)g->n_tensors, sizeof *gr);
    for (int t = 0; t < g->n_tensors; t++) { tr[t] = 1; gr[t] = calloc(g->tensors[t].count, sizeof(float)); }
    int dense = sialo_graph_find_node(g, "dense");
    int *need = sialo_backward_need(m, tr, -1);
    CHECK(sialo_backward(m, dense, d, need, gr) == 0, "backward: %s", sialo_error());
    free(need);
    free(tr);
    return gr;
}

/* analytic vs numeric gradients of sampled weights of every tensor; returns the gradients */
static float **check_fd(sialo_model *m, const float *x, const float *y, int B, const char *what) {
    float **ga = grads(m, x, y, B);
    const sialo_graph *g = m->g;
    int checked = 0;
    for (int t = 0; t < g->n_tensors; t++) {
        sialo_tensor *T = &g->tensors[t];
        double worst = 0;
        for (int s = 0; s < 12; s++) {
            size_t i = (size_t)((frand() + 1.0f) * 0.5f * (float)T->count) % T->count;
            float keep = T->data[i], eps = 2e-3f;
            T->data[i] = keep + eps;
            /* the own backend's packed weights follow the float weights */
            for (int k = 1; k < g->n_nodes; k++) sialo_model_repack(m, k);
            double lp = loss_of(m, x, y, B);
            T->data[i] = keep - eps;
            for (int k = 1; k < g->n_nodes; k++) sialo_model_repack(m, k);
            double lm = loss_of(m, x, y, B);
            T->data[i] = keep;
            for (int k = 1; k < g->n_nodes; k++) sialo_model_repack(m, k);
            double num = (lp - lm) / (2.0 * eps), ana = ga[t][i];
            /* float32 forward: ~1e-4 of noise in the difference quotient, more at a ReLU / max kink */
            double err = fabs(num - ana) / (1e-3 + 2e-2 * fmax(fabs(num), fabs(ana)));
            if (getenv("GRAD_VERBOSE")) printf("%s[%zu] num %.6g ana %.6g\n", T->name, i, num, ana);
            if (err > worst) worst = err;
            checked++;
        }
        CHECK(worst < 1.0, "%s: tensor %s: analytic vs numeric gradient off by %.3g x the tolerance", what, T->name, worst);
    }
    CHECK(checked > 100, "%s: %d gradient entries checked", what, checked);
    return ga;
}

int main(void) {
    const int B = 3;
    float x[3 * 11 * 11 * 3], y[3] = {1, 0, 1};
    for (size_t i = 0; i < sizeof x / sizeof x[0]; i++) x[i] = frand();
    /* the fast kernels' pieces of MobileNetV2, forward on the own backend, 1 and 2 threads */
    {
        sialo_options f1 = {SIALO_BACKEND_OWN, 1, 0, 1}, f2 = {SIALO_BACKEND_OWN, 2, 0, 1};
        sialo_model *a = sialo_model_from_graph(build_mbv2(), &f1), *b = sialo_model_from_graph(build_mbv2(), &f2);
        CHECK(a && b, "model: %s", sialo_error());
        if (a && b) {
            sialo_model_set_batch(a, B);
            sialo_model_set_batch(b, B);
            float **g1 = check_fd(a, x, y, B, "mobilenetv2 pieces"), **g2 = grads(b, x, y, B);
            double maxd = 0;
            for (int t = 0; t < a->g->n_tensors; t++)
                for (size_t i = 0; i < a->g->tensors[t].count; i++) maxd = fmax(maxd, fabs((double)g1[t][i] - g2[t][i]));
            CHECK(maxd < 1e-5, "mobilenetv2 pieces, 1 vs 2 threads: gradients differ by %g", maxd);
            float **g3 = grads(b, x, y, B); /* the same threads twice: the same bits */
            int same = 1;
            for (int t = 0; t < a->g->n_tensors; t++) same &= !memcmp(g2[t], g3[t], a->g->tensors[t].count * sizeof(float));
            CHECK(same, "mobilenetv2 pieces, 2 threads: two backward passes give the same bits");
            for (int t = 0; t < a->g->n_tensors; t++) { free(g1[t]); free(g2[t]); free(g3[t]); }
            free(g1); free(g2); free(g3);
        }
        sialo_model_free(a);
        sialo_model_free(b);
    }
    sialo_options o1 = {SIALO_BACKEND_REF, 1, 0, 1}, o2 = {SIALO_BACKEND_REF, 2, 0, 1};
    sialo_model *m = sialo_model_from_graph(build(), &o1), *m2 = sialo_model_from_graph(build(), &o2);
    CHECK(m && m2, "model: %s", sialo_error());
    if (!m || !m2) return test_summary("test_grad");
    sialo_model_set_batch(m, B);
    sialo_model_set_batch(m2, B);
    CHECK(sialo_graph_find_node(m->g, "dropout") >= 0, "dropout kept in training mode");
    float **ga = check_fd(m, x, y, B, "gradnet");
    const sialo_graph *g = m->g;
    /* the same gradients with the batch split over 2 threads */
    float **gb = grads(m2, x, y, B);
    double maxd = 0;
    for (int t = 0; t < g->n_tensors; t++)
        for (size_t i = 0; i < g->tensors[t].count; i++) {
            double dd = fabs((double)ga[t][i] - gb[t][i]);
            if (dd > maxd) maxd = dd;
        }
    CHECK(maxd < 1e-5, "1 vs 2 threads: gradients differ by %g", maxd);
    /* training-mode dropout: masks differ between steps, backward passes only kept units */
    m->training_step = 1;
    float p1[3], p2[3];
    sialo_forward_batch(m, x, p1);
    m->training_step = 2;
    sialo_forward_batch(m, x, p2);
    CHECK(p1[0] != p2[0] || p1[1] != p2[1], "dropout masks change with the step");
    for (int t = 0; t < g->n_tensors; t++) { free(ga[t]); free(gb[t]); }
    free(ga); free(gb);
    sialo_model_free(m);
    sialo_model_free(m2);
    return test_summary("test_grad");
}
