/* graph.c — build, validate (shape inference), optimise and query the in-memory model graph. */
#include "engine/graph.h"
#include "sialoscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const op_names[OP_COUNT] = {
    "input", "conv", "dense", "batchnorm", "relu", "relu6", "add", "maxpool", "avgpool",
    "global_avgpool", "zeropad", "sigmoid", "softmax", "dropout", "affine"};


/* ------------------------------------------------------------------ building */
sialo_graph *sialo_graph_new(const char *arch, int in_h, int in_w, int in_c) {
    sialo_graph *g = sialo_xcalloc(1, sizeof *g);
    if (!g) return NULL;
    g->arch = sialo_strdup(arch);
    g->provenance = sialo_strdup("");
    g->in_h = in_h; g->in_w = in_w; g->in_c = in_c;
    for (int i = 0; i < 3; i++) { g->norm_scale[i] = 1.0f / 127.5f; g->norm_bias[i] = -1.0f; }
    g->threshold = 0.5f;
    g->calib_a = 1.0f;
    g->calib_b = 0.0f;
    g->storage_bits = 32;
    if (!g->arch || !g->provenance) { sialo_graph_free(g); return NULL; }
    int in0 = sialo_graph_add_node(g, OP_INPUT, "input", 0, NULL, NULL, 0, NULL);
    if (in0 != 0) { sialo_graph_free(g); return NULL; }
    g->nodes[0].oh = in_h; g->nodes[0].ow = in_w; g->nodes[0].oc = in_c;
    return g;
}

static void free_names(char **v, int n) {
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* out-of-distribution statistics (their use: ood.c) */
void sialo_ood_net_free(sialo_ood_net *o) {
    if (!o) return;
    free(o->layer);
    free(o->means);
    free(o->basis);
    free(o->var);
    free(o);
}

void sialo_graph_free(sialo_graph *g) {
    if (!g) return;
    free(g->arch);
    free(g->provenance);
    free_names(g->class_names, g->n_class_names);
    for (int i = 0; i < g->n_tensors; i++) { free(g->tensors[i].name); free(g->tensors[i].data); }
    free(g->tensors);
    for (int i = 0; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        free_names(g->nodes[i].alias, g->nodes[i].n_alias);
        free_names(g->nodes[i].absorbed, g->nodes[i].n_absorbed);
    }
    free(g->nodes);
    for (int i = 0; i < g->n_members; i++) sialo_graph_free(g->members[i]);
    free(g->members);
    sialo_ood_net_free(g->ood);
    sialo_graph_free(g->box_graph);
    free(g->box_file);
    free(g);
}

int sialo_graph_set_text(char **field, const char *s) {
    char *d = sialo_strdup(s);
    if (!d) return -1;
    free(*field);
    *field = d;
    return 0;
}

int sialo_graph_set_classes(sialo_graph *g, int n, const char *const *names) {
    char **v = sialo_xcalloc((size_t)(n > 0 ? n : 1), sizeof *v);
    if (!v) return -1;
    for (int i = 0; i < n; i++)
        if (!(v[i] = sialo_strdup(names[i]))) { free_names(v, i); return -1; }
    free_names(g->class_names, g->n_class_names);
    g->class_names = v;
    g->n_class_names = n;
    return 0;
}

int sialo_graph_add_tensor(sialo_graph *g, const char *name, int ndim, const int *dims, const float *data) {
    if (ndim < 1 || ndim > SIALO_MAX_DIMS) return sialo_fail("tensor '%s': %d dimensions", name, ndim);
    size_t count = 1;
    for (int d = 0; d < ndim; d++) {
        if (dims[d] < 1) return sialo_fail("tensor '%s': dimension %d is %d", name, d, dims[d]);
        count *= (size_t)dims[d];
    }
    if (g->n_tensors == g->cap_tensors) {
        int nc = g->cap_tensors ? g->cap_tensors * 2 : 64;
        sialo_tensor *nt = realloc(g->tensors, (size_t)nc * sizeof *nt);
        if (!nt) return sialo_fail("out of memory");
        g->tensors = nt;
        g->cap_tensors = nc;
    }
    sialo_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = sialo_strdup(name);
    t->data = calloc(count, sizeof(float));
    if (!t->name || !t->data) { free(t->name); free(t->data); return sialo_fail("out of memory for tensor '%s'", name); }
    if (data) memcpy(t->data, data, count * sizeof(float));
    t->ndim = ndim;
    memcpy(t->dims, dims, (size_t)ndim * sizeof(int));
    t->count = count;
    return g->n_tensors++;
}

int sialo_graph_add_node(sialo_graph *g, int op, const char *name, int n_in, const int *in,
                         const int32_t *p, int n_t, const int *t) {
    if (n_in < 0 || n_in > 2 || n_t < 0 || n_t > SIALO_MAX_NODE_TENSORS) return sialo_fail("node '%s': bad arity", name);
    for (int k = 0; k < n_in; k++)
        if (in[k] < 0 || in[k] >= g->n_nodes) return sialo_fail("node '%s': input %d does not exist", name, in[k]);
    if (g->n_nodes == g->cap_nodes) {
        int nc = g->cap_nodes ? g->cap_nodes * 2 : 64;
        sialo_node *nn = realloc(g->nodes, (size_t)nc * sizeof *nn);
        if (!nn) return sialo_fail("out of memory");
        g->nodes = nn;
        g->cap_nodes = nc;
    }
    sialo_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    if (!(n->name = sialo_strdup(name))) return -1;
    n->n_in = n_in;
    for (int k = 0; k < n_in; k++) n->in[k] = in[k];
    if (p) memcpy(n->p, p, sizeof n->p);
    n->n_t = n_t;
    for (int k = 0; k < n_t; k++) n->t[k] = t[k];
    return g->n_nodes++;
}

static int add_weight(sialo_graph *g, const char *layer, const char *what, int ndim, const int *dims) {
    char name[600];
    snprintf(name, sizeof name, "%s/%s", layer, what);
    return sialo_graph_add_tensor(g, name, ndim, dims, NULL);
}

/* current channel count of a node's output (shapes are inferred incrementally while building) */
static int node_c(sialo_graph *g, int i) { return g->nodes[i].oc; }

static int finish(sialo_graph *g, int idx) {
    if (idx < 0) return -1;
    /* infer this one node's shape now so builders can chain */
    extern int sialo_node_infer(sialo_graph * g, int i);
    return sialo_node_infer(g, idx) < 0 ? -1 : idx;
}

static int conv_node(sialo_graph *g, const char *name, int in, int kh, int kw, int sh, int sw, int pad_mode,
                     int pt, int pb, int pl, int pr, int groups, int cout, int use_bias, int act) {
    if (in < 0) return -1;
    int cin = node_c(g, in);
    if (groups < 1 || cin % groups) return sialo_fail("conv '%s': %d input channels not divisible by %d groups", name, cin, groups);
    int kd[4] = {kh, kw, cin / groups, cout}, bd[1] = {cout};
    int t[2];
    if ((t[0] = add_weight(g, name, "kernel", 4, kd)) < 0) return -1;
    if (use_bias && (t[1] = add_weight(g, name, "bias", 1, bd)) < 0) return -1;
    int32_t p[SIALO_NPARAMS] = {0};
    p[P_KH] = kh; p[P_KW] = kw; p[P_SH] = sh; p[P_SW] = sw; p[P_PAD_MODE] = pad_mode;
    p[P_PT] = pt; p[P_PB] = pb; p[P_PL] = pl; p[P_PR] = pr;
    p[P_GROUPS] = groups; p[P_COUT] = cout; p[P_ACT] = act; p[P_USE_BIAS] = use_bias;
    return finish(g, sialo_graph_add_node(g, OP_CONV, name, 1, &in, p, use_bias ? 2 : 1, t));
}

int gb_conv_explicit(sialo_graph *g, const char *name, int in, int kh, int kw, int sh, int sw,
                     int pt, int pb, int pl, int pr, int groups, int cout, int use_bias, int act) {
    return conv_node(g, name, in, kh, kw, sh, sw, PAD_EXPLICIT, pt, pb, pl, pr, groups, cout, use_bias, act);
}

int gb_conv(sialo_graph *g, const char *name, int in, int kh, int kw, int stride, int pad_mode,
            int groups, int cout, int use_bias, int act) {
    return conv_node(g, name, in, kh, kw, stride, stride, pad_mode, 0, 0, 0, 0, groups, cout, use_bias, act);
}

int gb_dense(sialo_graph *g, const char *name, int in, int cout, int use_bias, int act) {
    if (in < 0) return -1;
    sialo_node *src = &g->nodes[in];
    int kd[2] = {src->oh * src->ow * src->oc, cout}, bd[1] = {cout};
    int t[2];
    if ((t[0] = add_weight(g, name, "kernel", 2, kd)) < 0) return -1;
    if (use_bias && (t[1] = add_weight(g, name, "bias", 1, bd)) < 0) return -1;
    int32_t p[SIALO_NPARAMS] = {0};
    p[PD_COUT] = cout; p[PD_ACT] = act; p[PD_USE_BIAS] = use_bias;
    return finish(g, sialo_graph_add_node(g, OP_DENSE, name, 1, &in, p, use_bias ? 2 : 1, t));
}

int gb_bn(sialo_graph *g, const char *name, int in, float eps, int act) {
    if (in < 0) return -1;
    int c = node_c(g, in), d[1] = {c}, t[4];
    static const char *const w[4] = {"gamma", "beta", "moving_mean", "moving_variance"};
    for (int k = 0; k < 4; k++)
        if ((t[k] = add_weight(g, name, w[k], 1, d)) < 0) return -1;
    for (int k = 0; k < c; k++) { g->tensors[t[0]].data[k] = 1.0f; g->tensors[t[3]].data[k] = 1.0f; }
    int32_t p[SIALO_NPARAMS] = {0};
    p[0] = act;
    p[P_EPS_BITS] = sialo_f32_to_bits(eps);
    return finish(g, sialo_graph_add_node(g, OP_BATCHNORM, name, 1, &in, p, 4, t));
}

int gb_simple(sialo_graph *g, int op, const char *name, int in) {
    if (in < 0) return -1;
    return finish(g, sialo_graph_add_node(g, op, name, 1, &in, NULL, 0, NULL));
}

int gb_add(sialo_graph *g, const char *name, int a, int b, int act) {
    if (a < 0 || b < 0) return -1;
    int in[2] = {a, b};
    int32_t p[SIALO_NPARAMS] = {0};
    p[0] = act;
    return finish(g, sialo_graph_add_node(g, OP_ADD, name, 2, in, p, 0, NULL));
}

int gb_pool(sialo_graph *g, int op, const char *name, int in, int k, int stride, int pad_mode) {
    if (in < 0) return -1;
    int32_t p[SIALO_NPARAMS] = {0};
    p[P_KH] = k; p[P_KW] = k; p[P_SH] = stride; p[P_SW] = stride; p[P_PAD_MODE] = pad_mode;
    return finish(g, sialo_graph_add_node(g, op, name, 1, &in, p, 0, NULL));
}

int gb_pad(sialo_graph *g, const char *name, int in, int pt, int pb, int pl, int pr) {
    if (in < 0) return -1;
    int32_t p[SIALO_NPARAMS] = {0};
    p[P_PT] = pt; p[P_PB] = pb; p[P_PL] = pl; p[P_PR] = pr;
    return finish(g, sialo_graph_add_node(g, OP_PAD, name, 1, &in, p, 0, NULL));
}

int gb_dropout(sialo_graph *g, const char *name, int in, float rate) {
    if (in < 0) return -1;
    int32_t p[SIALO_NPARAMS] = {0};
    p[P_RATE_BITS] = sialo_f32_to_bits(rate);
    return finish(g, sialo_graph_add_node(g, OP_DROPOUT, name, 1, &in, p, 0, NULL));
}

/* ------------------------------------------------------------------ shape inference */
#define MAXK 64   /* largest kernel / stride / pad we accept */

static int check_tensor(const sialo_graph *g, const sialo_node *n, int k, int ndim, const int *dims) {
    const sialo_tensor *t = &g->tensors[n->t[k]];
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->dims[d] == dims[d];
    if (ok) return 0;
    char want[64] = "", have[64] = "";
    for (int d = 0; d < ndim; d++) snprintf(want + strlen(want), sizeof want - strlen(want), "%s%d", d ? "x" : "", dims[d]);
    for (int d = 0; d < t->ndim; d++) snprintf(have + strlen(have), sizeof have - strlen(have), "%s%d", d ? "x" : "", t->dims[d]);
    return sialo_fail("layer '%s': tensor '%s' has shape %s, expected %s", n->name, t->name, have, want);
}

/* resolve 'same' / 'valid' into explicit pads (TensorFlow's rule), check the window fits */
static int window(sialo_node *n, int ih, int iw, int is_pool) {
    int32_t *p = n->p;
    if (p[P_KH] < 1 || p[P_KW] < 1 || p[P_KH] > MAXK || p[P_KW] > MAXK || p[P_SH] < 1 || p[P_SW] < 1 ||
        p[P_SH] > MAXK || p[P_SW] > MAXK)
        return sialo_fail("layer '%s': kernel %dx%d stride %dx%d out of range", n->name, p[P_KH], p[P_KW], p[P_SH], p[P_SW]);
    if (p[P_PAD_MODE] == PAD_SAME) {
        int oh = (ih + p[P_SH] - 1) / p[P_SH], ow = (iw + p[P_SW] - 1) / p[P_SW];
        int th = (oh - 1) * p[P_SH] + p[P_KH] - ih, tw = (ow - 1) * p[P_SW] + p[P_KW] - iw;
        if (th < 0) th = 0;
        if (tw < 0) tw = 0;
        p[P_PT] = th / 2; p[P_PB] = th - th / 2; p[P_PL] = tw / 2; p[P_PR] = tw - tw / 2;
    } else if (p[P_PAD_MODE] == PAD_VALID) {
        p[P_PT] = p[P_PB] = p[P_PL] = p[P_PR] = 0;
    } else if (p[P_PAD_MODE] != PAD_EXPLICIT) {
        return sialo_fail("layer '%s': unknown padding mode %d", n->name, p[P_PAD_MODE]);
    }
    p[P_PAD_MODE] = PAD_EXPLICIT;
    for (int k = P_PT; k <= P_PR; k++)
        if (p[k] < 0 || p[k] > MAXK) return sialo_fail("layer '%s': padding %d out of range", n->name, p[k]);
    if (is_pool && (p[P_PT] >= p[P_KH] || p[P_PB] >= p[P_KH] || p[P_PL] >= p[P_KW] || p[P_PR] >= p[P_KW]))
        return sialo_fail("layer '%s': pool padding is as large as the window", n->name);
    int eh = ih + p[P_PT] + p[P_PB], ew = iw + p[P_PL] + p[P_PR];
    if (eh < p[P_KH] || ew < p[P_KW])
        return sialo_fail("layer '%s': input %dx%d is smaller than the %dx%d window (the image is too small for this network)",
                          n->name, ih, iw, p[P_KH], p[P_KW]);
    n->oh = (eh - p[P_KH]) / p[P_SH] + 1;
    n->ow = (ew - p[P_KW]) / p[P_SW] + 1;
    return 0;
}

static int act_ok(const sialo_node *n, int a) {
    if (a < ACT_NONE || a > ACT_RELU6) return sialo_fail("layer '%s': unknown activation %d", n->name, a);
    return 0;
}

int sialo_node_infer(sialo_graph *g, int i) {
    sialo_node *n = &g->nodes[i];
    static const int arity[OP_COUNT] = {0, 1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1};
    static const int ntens[OP_COUNT] = {0, -1, -1, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
    if (n->op < 0 || n->op >= OP_COUNT) return sialo_fail("layer %d: unknown op %d", i, n->op);
    if ((n->op == OP_INPUT) != (i == 0)) return sialo_fail("layer '%s': the input must be node 0 and only node 0", n->name);
    if (n->n_in != arity[n->op]) return sialo_fail("layer '%s' (%s) has %d inputs, expected %d", n->name, op_names[n->op], n->n_in, arity[n->op]);
    if (ntens[n->op] >= 0 && n->n_t != ntens[n->op]) return sialo_fail("layer '%s' (%s) has %d tensors, expected %d", n->name, op_names[n->op], n->n_t, ntens[n->op]);
    for (int k = 0; k < n->n_in; k++)
        if (n->in[k] < 0 || n->in[k] >= i) return sialo_fail("layer '%s': input refers to a later layer", n->name);
    for (int k = 0; k < n->n_t; k++)
        if (n->t[k] < 0 || n->t[k] >= g->n_tensors) return sialo_fail("layer '%s': tensor index out of range", n->name);
    if (n->op == OP_INPUT) { n->oh = g->in_h; n->ow = g->in_w; n->oc = g->in_c; return 0; }
    const sialo_node *a = &g->nodes[n->in[0]];
    int ih = a->oh, iw = a->ow, ic = a->oc;
    n->oh = ih; n->ow = iw; n->oc = ic;
    int32_t *p = n->p;
    switch (n->op) {
    case OP_CONV: {
        int groups = p[P_GROUPS], cout = p[P_COUT];
        if (groups < 1 || ic % groups || cout < 1 || cout % groups || cout > (1 << 20))
            return sialo_fail("layer '%s': %d input channels, %d output channels, %d groups do not fit", n->name, ic, cout, groups);
        if (act_ok(n, p[P_ACT]) < 0) return -1;
        if (n->n_t != (p[P_USE_BIAS] ? 2 : 1) || (p[P_USE_BIAS] != 0 && p[P_USE_BIAS] != 1))
            return sialo_fail("layer '%s': bias flag and tensor count disagree", n->name);
        if (window(n, ih, iw, 0) < 0) return -1;
        int kd[4] = {p[P_KH], p[P_KW], ic / groups, cout};
        if (check_tensor(g, n, 0, 4, kd) < 0) return -1;
        if (p[P_USE_BIAS] && check_tensor(g, n, 1, 1, &cout) < 0) return -1;
        n->oc = cout;
        break;
    }
    case OP_DENSE: {
        int cout = p[PD_COUT], cin = ih * iw * ic;
        if (cout < 1 || cout > (1 << 20)) return sialo_fail("layer '%s': %d outputs", n->name, cout);
        if (act_ok(n, p[PD_ACT]) < 0) return -1;
        if (n->n_t != (p[PD_USE_BIAS] ? 2 : 1) || (p[PD_USE_BIAS] != 0 && p[PD_USE_BIAS] != 1))
            return sialo_fail("layer '%s': bias flag and tensor count disagree", n->name);
        int kd[2] = {cin, cout};
        if (check_tensor(g, n, 0, 2, kd) < 0) return -1;
        if (p[PD_USE_BIAS] && check_tensor(g, n, 1, 1, &cout) < 0) return -1;
        n->oh = n->ow = 1;
        n->oc = cout;
        break;
    }
    case OP_BATCHNORM: {
        float eps = sialo_bits_to_f32(p[P_EPS_BITS]);
        if (!(eps > 0.0f && eps < 1.0f)) return sialo_fail("layer '%s': batch norm epsilon %g", n->name, eps);
        if (act_ok(n, p[0]) < 0) return -1;
        for (int k = 0; k < 4; k++) if (check_tensor(g, n, k, 1, &ic) < 0) return -1;
        const float *var = g->tensors[n->t[3]].data;
        for (int k = 0; k < ic; k++)
            if (!(var[k] >= 0.0f)) return sialo_fail("layer '%s': negative moving variance", n->name);
        break;
    }
    case OP_AFFINE:
        if (act_ok(n, p[0]) < 0) return -1;
        for (int k = 0; k < 2; k++) if (check_tensor(g, n, k, 1, &ic) < 0) return -1;
        break;
    case OP_ADD: {
        const sialo_node *b = &g->nodes[n->in[1]];
        if (b->oh != ih || b->ow != iw || b->oc != ic)
            return sialo_fail("layer '%s': adding %dx%dx%d to %dx%dx%d", n->name, ih, iw, ic, b->oh, b->ow, b->oc);
        if (act_ok(n, p[0]) < 0) return -1;
        break;
    }
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        if (window(n, ih, iw, 1) < 0) return -1;
        break;
    case OP_GAP:
        n->oh = n->ow = 1;
        break;
    case OP_PAD:
        for (int k = P_PT; k <= P_PR; k++)
            if (p[k] < 0 || p[k] > 1024) return sialo_fail("layer '%s': padding %d out of range", n->name, p[k]);
        n->oh = ih + p[P_PT] + p[P_PB];
        n->ow = iw + p[P_PL] + p[P_PR];
        break;
    case OP_DROPOUT: {
        float r = sialo_bits_to_f32(p[P_RATE_BITS]);
        if (!(r >= 0.0f && r < 1.0f)) return sialo_fail("layer '%s': dropout rate %g", n->name, r);
        break;
    }
    default: break;
    }
    if ((size_t)n->oh * n->ow * n->oc > ((size_t)1 << 28))
        return sialo_fail("layer '%s': output %dx%dx%d is too large", n->name, n->oh, n->ow, n->oc);
    return 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int sialo_graph_infer_shapes(sialo_graph *g) {
    if (g->n_nodes < 2) return sialo_fail("the graph has no layers");
    for (int i = 0; i < g->n_nodes; i++)
        if (sialo_node_infer(g, i) < 0) return -1;
    const sialo_node *out = &g->nodes[g->n_nodes - 1];
    if (g->n_classes != out->oc)
        return sialo_fail("the output layer '%s' has %d channels but the model declares %d classes", out->name, out->oc, g->n_classes);
    if (g->n_class_names != 0 && g->n_class_names != (g->n_classes == 1 ? 2 : g->n_classes))
        return sialo_fail("%d class names for %d outputs", g->n_class_names, g->n_classes);
    /* every layer but the output feeds another one; every weight tensor belongs to one layer */
    int *cons = sialo_graph_consumers(g), *owner = sialo_xcalloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *owner);
    if (!cons || !owner) { free(cons); free(owner); return -1; }
    int rc = 0;
    for (int i = 0; i < g->n_nodes - 1 && rc == 0; i++)
        if (!cons[i]) rc = sialo_fail("layer '%s' is not used by any other layer (only the last layer may be an output)", g->nodes[i].name);
    for (int i = 0; i < g->n_nodes && rc == 0; i++)
        for (int k = 0; k < g->nodes[i].n_t && rc == 0; k++) {
            int t = g->nodes[i].t[k];
            if (owner[t]++) rc = sialo_fail("tensor '%s' is used by more than one layer", g->tensors[t].name);
        }
    free(cons);
    free(owner);
    if (rc < 0) return -1;
    /* unique layer names */
    char **names = malloc((size_t)g->n_nodes * sizeof *names);
    if (!names) return sialo_fail("out of memory");
    for (int i = 0; i < g->n_nodes; i++) names[i] = g->nodes[i].name;
    qsort(names, (size_t)g->n_nodes, sizeof *names, cmp_str);
    for (int i = 1; i < g->n_nodes; i++)
        if (!strcmp(names[i - 1], names[i])) {
            int r = sialo_fail("two layers are named '%s'", names[i]);
            free(names);
            return r;
        }
    free(names);
    return 0;
}

int *sialo_graph_consumers(const sialo_graph *g) {
    int *c = sialo_xcalloc((size_t)g->n_nodes, sizeof *c);
    if (!c) return NULL;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) c[g->nodes[i].in[k]]++;
    return c;
}

size_t sialo_graph_param_count(const sialo_graph *g) {
    size_t n = 0;
    for (int i = 0; i < g->n_tensors; i++) n += g->tensors[i].count;
    return n;
}

int sialo_graph_find_node(const sialo_graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (!strcmp(g->nodes[i].name, name)) return i;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_alias; k++)
            if (!strcmp(g->nodes[i].alias[k], name)) return i;
    for (int i = 0; i < g->n_nodes; i++)
        for (int k = 0; k < g->nodes[i].n_absorbed; k++)
            if (!strcmp(g->nodes[i].absorbed[k], name))
                return sialo_fail("layer '%s' was fused into '%s' when the model was loaded; its own output is not computed", name, g->nodes[i].name);
    return sialo_fail("no layer named '%s'", name);
}

int sialo_graph_find_tensor(const sialo_graph *g, const char *name) {
    for (int i = 0; i < g->n_tensors; i++)
        if (!strcmp(g->tensors[i].name, name)) return i;
    return sialo_fail("no tensor named '%s'", name);
}

/* ------------------------------------------------------------------ optimisation */
static int push_name(char ***v, int *n, const char *s) {
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) return sialo_fail("out of memory");
    *v = nv;
    if (!(nv[*n] = sialo_strdup(s))) return -1;
    (*n)++;
    return 0;
}

/* producer p takes over consumer c's output: p is renamed to c, p's old name is absorbed */
static int absorb(sialo_node *p, sialo_node *c) {
    if (push_name(&p->absorbed, &p->n_absorbed, p->name) < 0) return -1;
    for (int k = 0; k < c->n_absorbed; k++)
        if (push_name(&p->absorbed, &p->n_absorbed, c->absorbed[k]) < 0) return -1;
    for (int k = 0; k < c->n_alias; k++)
        if (push_name(&p->alias, &p->n_alias, c->alias[k]) < 0) return -1;
    free(p->name);
    p->name = c->name;
    c->name = NULL;
    return 0;
}

static int *act_slot(sialo_node *n) {
    switch (n->op) {
    case OP_CONV: return &n->p[P_ACT];
    case OP_DENSE: return &n->p[PD_ACT];
    case OP_AFFINE: case OP_ADD: case OP_BATCHNORM: return &n->p[0];
    default: return NULL;
    }
}

int sialo_graph_optimize(sialo_graph *g) { return sialo_graph_optimize_ex(g, 0); }

int sialo_graph_optimize_ex(sialo_graph *g, int keep_dropout) {
    int nn = g->n_nodes;
    int *redirect = malloc((size_t)nn * sizeof *redirect), *removed = calloc((size_t)nn, sizeof *removed);
    int *cons = sialo_graph_consumers(g);
    if (!redirect || !removed || !cons) { free(redirect); free(removed); free(cons); return sialo_fail("out of memory"); }
    int rc = -1;
    for (int i = 0; i < nn; i++) redirect[i] = i;
    for (int i = 1; i < nn; i++) {
        sialo_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) n->in[k] = redirect[n->in[k]];
        int src = n->in[0];
        sialo_node *pn = &g->nodes[src];
        int single = cons[src] == 1 && src != 0;
        if (n->op == OP_DROPOUT && !keep_dropout) {
            if (push_name(&pn->alias, &pn->n_alias, n->name) < 0) goto out;
            for (int k = 0; k < n->n_alias; k++) if (push_name(&pn->alias, &pn->n_alias, n->alias[k]) < 0) goto out;
            cons[src] += cons[i] - 1;
            redirect[i] = src; removed[i] = 1;
            continue;
        }
        if (n->op == OP_BATCHNORM) {
            int c = n->oc;
            float eps = sialo_bits_to_f32(n->p[P_EPS_BITS]);
            const float *gam = g->tensors[n->t[0]].data, *bet = g->tensors[n->t[1]].data;
            const float *mean = g->tensors[n->t[2]].data, *var = g->tensors[n->t[3]].data;
            float *scale = malloc((size_t)c * sizeof *scale), *shift = malloc((size_t)c * sizeof *shift);
            if (!scale || !shift) { free(scale); free(shift); sialo_fail("out of memory"); goto out; }
            for (int k = 0; k < c; k++) {
                scale[k] = gam[k] / sqrtf(var[k] + eps);
                shift[k] = bet[k] - mean[k] * scale[k];
            }
            int *pact = act_slot(pn);
            if (single && (pn->op == OP_CONV || pn->op == OP_DENSE) && *pact == ACT_NONE) {
                /* fold into the producer: w[..., oc] *= scale[oc]; b = b * scale + shift */
                sialo_tensor *w = &g->tensors[pn->t[0]];
                for (size_t k = 0; k < w->count; k++) w->data[k] *= scale[k % (size_t)c];
                int has_bias = pn->op == OP_CONV ? pn->p[P_USE_BIAS] : pn->p[PD_USE_BIAS];
                if (!has_bias) {
                    char bn[600];
                    snprintf(bn, sizeof bn, "%s/bias", pn->name);
                    int bt = sialo_graph_add_tensor(g, bn, 1, &c, NULL);
                    if (bt < 0) { free(scale); free(shift); goto out; }
                    n = &g->nodes[i]; pn = &g->nodes[src];
                    pn->t[pn->n_t++] = bt;
                    if (pn->op == OP_CONV) pn->p[P_USE_BIAS] = 1; else pn->p[PD_USE_BIAS] = 1;
                }
                float *b = g->tensors[pn->t[1]].data;
                for (int k = 0; k < c; k++) b[k] = b[k] * scale[k] + shift[k];
                free(scale); free(shift);
                *act_slot(pn) = n->p[0];
                if (absorb(pn, n) < 0) goto out;
                cons[src] = cons[i];
                redirect[i] = src; removed[i] = 1;
                continue;
            }
            /* stand-alone: becomes an affine layer (reuse the gamma / beta tensors) */
            memcpy(g->tensors[n->t[0]].data, scale, (size_t)c * sizeof *scale);
            memcpy(g->tensors[n->t[1]].data, shift, (size_t)c * sizeof *shift);
            free(scale); free(shift);
            n->op = OP_AFFINE;
            n->n_t = 2;
            n->p[P_EPS_BITS] = 0;
            continue;
        }
        if ((n->op == OP_RELU || n->op == OP_RELU6) && single) {
            int *pact = act_slot(pn);
            if (pact && *pact == ACT_NONE) {
                *pact = n->op == OP_RELU ? ACT_RELU : ACT_RELU6;
                if (absorb(pn, n) < 0) goto out;
                cons[src] = cons[i];
                redirect[i] = src; removed[i] = 1;
                continue;
            }
        }
        if (n->op == OP_CONV && pn->op == OP_PAD && single && n->p[P_PT] + pn->p[P_PT] <= MAXK && n->p[P_PB] + pn->p[P_PB] <= MAXK &&
            n->p[P_PL] + pn->p[P_PL] <= MAXK && n->p[P_PR] + pn->p[P_PR] <= MAXK) {
            /* fold zero padding into the conv; the pad layer disappears */
            n->p[P_PT] += pn->p[P_PT]; n->p[P_PB] += pn->p[P_PB];
            n->p[P_PL] += pn->p[P_PL]; n->p[P_PR] += pn->p[P_PR];
            if (push_name(&n->absorbed, &n->n_absorbed, pn->name) < 0) goto out;
            removed[src] = 1;
            n->in[0] = pn->in[0];
        }
    }
    /* compact */
    int *newidx = malloc((size_t)nn * sizeof *newidx);
    if (!newidx) { sialo_fail("out of memory"); goto out; }
    int m = 0;
    for (int i = 0; i < nn; i++) {
        if (removed[i]) {
            sialo_node *n = &g->nodes[i];
            free(n->name); free_names(n->alias, n->n_alias); free_names(n->absorbed, n->n_absorbed);
            newidx[i] = -1;
            continue;
        }
        newidx[i] = m;
        g->nodes[m++] = g->nodes[i];
    }
    for (int i = 0; i < m; i++)
        for (int k = 0; k < g->nodes[i].n_in; k++) g->nodes[i].in[k] = newidx[g->nodes[i].in[k]];
    free(newidx);
    g->n_nodes = m;
    /* drop tensors no node refers to any more (BN statistics) */
    int nt = g->n_tensors, *used = calloc((size_t)(nt ? nt : 1), sizeof *used);
    if (!used) { sialo_fail("out of memory"); goto out; }
    for (int i = 0; i < m; i++) for (int k = 0; k < g->nodes[i].n_t; k++) used[g->nodes[i].t[k]] = 1;
    int tm = 0;
    for (int i = 0; i < nt; i++) {
        if (!used[i]) { free(g->tensors[i].name); free(g->tensors[i].data); used[i] = -1; continue; }
        used[i] = tm;
        g->tensors[tm++] = g->tensors[i];
    }
    for (int i = 0; i < m; i++) for (int k = 0; k < g->nodes[i].n_t; k++) g->nodes[i].t[k] = used[g->nodes[i].t[k]];
    g->n_tensors = tm;
    free(used);
    rc = sialo_graph_infer_shapes(g);
out:
    free(redirect); free(removed); free(cons);
    return rc;
}
