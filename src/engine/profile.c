/* profile.c — where a forward pass spends its time: per layer and per kind of layer.
 *
 * sialo_profile_start(m) turns the clock on: every later forward adds each layer's wall time to
 * its total. sialo_profile_json(m) reports, over the forwards since the start, per layer and per
 * kind (1x1 convolution, KxK convolution, depthwise KxK/stride, dense, elementwise, pooling...):
 * milliseconds per forward, multiply-adds and GFLOP/s (2 flops per multiply-add).
 * Used by `sialoscan bench --profile`, the JS API's profile() and bench/profile.mjs. */
#include "engine/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sialo_profile_start(sialo_model *m) {
    if (m->n_members > 1)
        return sialo_fail("the model is an ensemble of %d networks: profile one of the networks it was built from", m->n_members);
    sialo_profile_stop(m);
    m->prof_ms = calloc((size_t)m->g->n_nodes, sizeof *m->prof_ms);
    m->prof_bw_ms = calloc((size_t)m->g->n_nodes, sizeof *m->prof_bw_ms);
    m->prof_bw_macs = calloc((size_t)m->g->n_nodes, sizeof *m->prof_bw_macs);
    if (!m->prof_ms || !m->prof_bw_ms || !m->prof_bw_macs) { sialo_profile_stop(m); return sialo_fail("out of memory"); }
    return 0;
}

void sialo_profile_stop(sialo_model *m) {
    free(m->prof_ms);
    free(m->prof_bw_ms);
    free(m->prof_bw_macs);
    m->prof_ms = m->prof_bw_ms = m->prof_bw_macs = NULL;
    m->prof_runs = m->prof_bw_runs = 0;
}

/* multiply-adds of one layer for the model's batch */
double sialo_layer_macs(const sialo_model *m, int i) {
    const sialo_node *n = &m->g->nodes[i];
    const exec_node *e = &m->ex[i];
    double out = (double)m->batch * n->oh * n->ow * n->oc;
    if (n->op == OP_CONV) return out * e->cp.kh * e->cp.kw * (e->cp.cin / e->cp.groups);
    if (n->op == OP_DENSE) return (double)m->batch * e->cp.cin * e->cp.cout;
    return 0;
}

/* the kind a layer is reported under, e.g. "conv 1x1", "conv 3x3/2", "depthwise 3x3/1" */
static void layer_kind(const sialo_model *m, int i, char *k, size_t size) {
    const sialo_node *n = &m->g->nodes[i];
    const conv_params *cp = &m->ex[i].cp;
    static const char *const names[OP_COUNT] = {"input", "conv", "dense", "batchnorm", "relu", "relu6", "add", "max pool",
                                                "avg pool", "global avg pool", "pad", "sigmoid", "softmax", "dropout", "affine"};
    if (n->op == OP_CONV) {
        const char *what = cp->groups > 1 && cp->groups == cp->cin ? "depthwise" : cp->groups > 1 ? "grouped conv" : "conv";
        if (cp->sh == 1 && cp->sw == 1) snprintf(k, size, "%s %dx%d", what, cp->kh, cp->kw);
        else snprintf(k, size, "%s %dx%d/%d", what, cp->kh, cp->kw, cp->sh);
    } else snprintf(k, size, "%s", n->op < OP_COUNT ? names[n->op] : "?");
}

static void jstr(char **p, char *end, const char *s) {
    if (*p < end) *(*p)++ = '"';
    for (; *s && *p < end - 1; s++) {
        if (*s == '"' || *s == '\\') *(*p)++ = '\\';
        if (*p < end - 1) *(*p)++ = (unsigned char)*s < 0x20 ? ' ' : *s;
    }
    if (*p < end) *(*p)++ = '"';
}

char *sialo_profile_json(const sialo_model *m) {
    if (!m->prof_ms || m->prof_runs < 1) return sialo_fail_null("no profile: call sialo_profile_start, then run forwards");
    const sialo_graph *g = m->g;
    int nn = g->n_nodes, runs = m->prof_runs, bw_runs = m->prof_bw_runs;
    size_t cap = 512 + (size_t)nn * 384;
    char *buf = malloc(cap), *p = buf, *end = buf + cap;
    if (!buf) return sialo_fail_null("out of memory");
    /* kinds, in order of first appearance */
    char (*kinds)[48] = calloc((size_t)nn, sizeof *kinds);
    double *kms = calloc((size_t)nn, sizeof *kms), *kmacs = calloc((size_t)nn, sizeof *kmacs);
    int *kcount = calloc((size_t)nn, sizeof *kcount), nk = 0;
    if (!kinds || !kms || !kmacs || !kcount) { free(buf); free(kinds); free(kms); free(kmacs); free(kcount); return sialo_fail_null("out of memory"); }
    double total = 0, total_macs = 0;
    p += snprintf(p, (size_t)(end - p), "{\"runs\":%d,\"threads\":%d,\"layers\":[", runs, sialo_pool_size(m->pool));
    for (int i = 1; i < nn; i++) {
        char k[48];
        layer_kind(m, i, k, sizeof k);
        double ms = m->prof_ms[i] / runs, macs = sialo_layer_macs(m, i);
        total += ms;
        total_macs += macs;
        int q = 0;
        while (q < nk && strcmp(kinds[q], k)) q++;
        if (q == nk) snprintf(kinds[nk++], sizeof kinds[0], "%s", k);
        kms[q] += ms; kmacs[q] += macs; kcount[q]++;
        if (end - p < 200) break;
        p += snprintf(p, (size_t)(end - p), "%s{\"name\":", i > 1 ? "," : "");
        jstr(&p, end, g->nodes[i].name);
        p += snprintf(p, (size_t)(end - p), ",\"kind\":\"%s\",\"out\":[%d,%d,%d],\"ms\":%.4f,\"macs\":%.0f,\"gflops\":%.2f", k,
                      g->nodes[i].oh, g->nodes[i].ow, g->nodes[i].oc, ms, macs, ms > 0 ? 2 * macs / (ms * 1e6) : 0.0);
        if (bw_runs) {
            double bms = m->prof_bw_ms[i] / bw_runs, bmacs = m->prof_bw_macs[i] / bw_runs;
            p += snprintf(p, (size_t)(end - p), ",\"bw_ms\":%.4f,\"bw_macs\":%.0f,\"bw_gflops\":%.2f", bms, bmacs,
                          bms > 0 ? 2 * bmacs / (bms * 1e6) : 0.0);
        }
        if (end - p > 1) *p++ = '}';
    }
    p += snprintf(p, (size_t)(end - p), "],\"kinds\":[");
    for (int q = 0; q < nk && end - p > 200; q++)
        p += snprintf(p, (size_t)(end - p), "%s{\"kind\":\"%s\",\"layers\":%d,\"ms\":%.4f,\"share\":%.4f,\"macs\":%.0f,\"gflops\":%.2f}",
                      q ? "," : "", kinds[q], kcount[q], kms[q], total > 0 ? kms[q] / total : 0.0, kmacs[q],
                      kms[q] > 0 ? 2 * kmacs[q] / (kms[q] * 1e6) : 0.0);
    p += snprintf(p, (size_t)(end - p), "],\"total_ms\":%.4f,\"macs\":%.0f,\"gflops\":%.2f", total, total_macs,
                  total > 0 ? 2 * total_macs / (total * 1e6) : 0.0);
    if (bw_runs && end - p > 200) {
        /* the backward passes, per kind (in the forward's order of kinds; layers that did no backward work are left out) */
        double bt = 0, bmacs_t = 0;
        p += snprintf(p, (size_t)(end - p), ",\"backward\":{\"runs\":%d,\"kinds\":[", bw_runs);
        int first = 1;
        for (int q = 0; q < nk && end - p > 200; q++) {
            double ms = 0, macs = 0;
            int cnt = 0;
            for (int i = 1; i < nn; i++) {
                char k[48];
                layer_kind(m, i, k, sizeof k);
                if (strcmp(k, kinds[q]) || m->prof_bw_ms[i] <= 0) continue;
                ms += m->prof_bw_ms[i] / bw_runs; macs += m->prof_bw_macs[i] / bw_runs; cnt++;
            }
            if (!cnt) continue;
            bt += ms; bmacs_t += macs;
            p += snprintf(p, (size_t)(end - p), "%s{\"kind\":\"%s\",\"layers\":%d,\"ms\":%.4f,\"macs\":%.0f,\"gflops\":%.2f}", first ? "" : ",",
                          kinds[q], cnt, ms, macs, ms > 0 ? 2 * macs / (ms * 1e6) : 0.0);
            first = 0;
        }
        p += snprintf(p, (size_t)(end - p), "],\"total_ms\":%.4f,\"macs\":%.0f,\"gflops\":%.2f}", bt, bmacs_t,
                      bt > 0 ? 2 * bmacs_t / (bt * 1e6) : 0.0);
    }
    if (end - p > 1) { *p++ = '}'; *p = 0; }
    free(kinds); free(kms); free(kmacs); free(kcount);
    return buf;
}

/* The core's clock while busy, from a chain of dependent integer additions (one per cycle on
 * every x86-64 core of this century); 0 where it cannot be measured. For "share of peak" only. */
double sialo_clock_ghz(void) {
#if defined(__x86_64__) && !defined(__EMSCRIPTEN__)
    enum { N = 20000000 };
    double best = 0;
    for (int rep = 0; rep < 5; rep++) {
        unsigned long x = 0, one = 1;
        double t0 = sialo_now_ms();
        for (int i = 0; i < N / 10; i++)
            __asm__ volatile("add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\t"
                             "add %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0\n\tadd %1, %0"
                             : "+r"(x) : "r"(one));
        double ms = sialo_now_ms() - t0;
        double ghz = ms > 0 ? N / (ms * 1e6) : 0;
        if (ghz > best) best = ghz;
    }
    return best;
#else
    return 0;
#endif
}
