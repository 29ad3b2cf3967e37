/* tflite.c — TensorFlow Lite (.tflite) -> float sialo_graph: the operator list of the first subgraph
 * (parsed by tflite_reader.c) becomes graph.h nodes; filters are transposed to the Keras layouts
 * graph.h uses, activation quantisation is dropped, layer names are made unique. */
#include "import/importers.h"
#include "import/tflite.h"
#include "sialoscan.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ================================================================== name set (unique layer names) */
typedef struct {
    char **slot;
    size_t cap, n;
} name_set;

static uint64_t hash_str(const char *s) {
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}
static int ns_has(const name_set *ns, const char *s) {
    for (size_t i = hash_str(s) & (ns->cap - 1);; i = (i + 1) & (ns->cap - 1)) {
        if (!ns->slot[i]) return 0;
        if (!strcmp(ns->slot[i], s)) return 1;
    }
}
static int ns_add(name_set *ns, const char *s) {
    if (2 * (ns->n + 1) > ns->cap) return sialo_fail("internal: name set full");
    char *d = sialo_strdup(s);
    if (!d) return -1;
    size_t i = hash_str(s) & (ns->cap - 1);
    while (ns->slot[i]) i = (i + 1) & (ns->cap - 1);
    ns->slot[i] = d;
    ns->n++;
    return 0;
}
static void ns_free(name_set *ns) {
    for (size_t i = 0; i < ns->cap; i++) free(ns->slot[i]);
    free(ns->slot);
}

/* ================================================================== conversion */
typedef struct {
    tfl_model *m;
    sialo_graph *g;
    int *tnode;        /* tensor -> graph node producing it, -1 */
    int *tconst;       /* tensor -> tensor holding its constant value (itself, or through DEQUANTIZE), -1 */
    int *producer;     /* tensor -> operator producing it, -1 */
    const char **opname; /* operator -> reserved special name, or NULL */
    name_set names;
    uint64_t params;
} conv_ctx;

/* A TFLite activation tensor as (h, w, c) of one image: [1,H,W,C] or [1,C] or [C]. */
static int tensor_hwc(const tfl_tensor *t, int s[3]) {
    if (t->rank == 4 && t->dims[0] == 1) { s[0] = t->dims[1]; s[1] = t->dims[2]; s[2] = t->dims[3]; return 0; }
    if (t->rank == 2 && t->dims[0] == 1) { s[0] = 1; s[1] = 1; s[2] = t->dims[1]; return 0; }
    if (t->rank == 1) { s[0] = 1; s[1] = 1; s[2] = t->dims[0]; return 0; }
    return -1;
}

static void op_error(conv_ctx *c, int oi, const char *why) {
    char nm[80] = "?";
    const tfl_op *o = &c->m->op[oi];
    if (o->out.len) tfl_tensor_name(c->m, fb_vec_i32(&c->m->f, &o->out, 0), nm, sizeof nm);
    sialo_set_error("TFLite operator %d (%s, output '%s'): %s", oi, tfl_op_label(o->code), nm, why);
}
/* sets the error and is -1, visibly to the compiler (as sialo_fail) */
#define op_fail(c, oi, why) (op_error(c, oi, why), sialo_minus_one())

/* input k of operator oi as a tensor index (-1 if absent) */
static int op_in(const conv_ctx *c, int oi, uint32_t k) {
    const tfl_op *o = &c->m->op[oi];
    return k < o->in.len ? fb_vec_i32(&c->m->f, &o->in, k) : -1;
}
static int op_out(const conv_ctx *c, int oi) { return fb_vec_i32(&c->m->f, &c->m->op[oi].out, 0); }

/* graph node of an activation input; `spatial`: its TFLite shape must equal the node's shape */
static int data_input(conv_ctx *c, int oi, uint32_t k, int spatial) {
    int ti = op_in(c, oi, k);
    if (ti < 0) return op_fail(c, oi, "a data input is missing");
    int node = c->tnode[ti];
    if (node < 0) {
        if (c->tconst[ti] >= 0) return op_fail(c, oi, "a constant is used as data (not supported)");
        return op_fail(c, oi, "reads a tensor that no earlier operator produces");
    }
    const sialo_node *n = &c->g->nodes[node];
    int s[3];
    if (tensor_hwc(&c->m->t[ti], s) < 0) return op_fail(c, oi, "input tensor has an unsupported shape");
    if (spatial ? (s[0] != n->oh || s[1] != n->ow || s[2] != n->oc)
                : ((uint64_t)s[0] * s[1] * s[2] != (uint64_t)n->oh * n->ow * n->oc))
        return op_fail(c, oi, "input shape disagrees with the producing layer");
    return node;
}

/* constant input k (through DEQUANTIZE of a constant); returns its tensor index */
static int const_input(conv_ctx *c, int oi, uint32_t k, int optional) {
    int ti = op_in(c, oi, k);
    if (ti < 0) return optional ? -2 : op_fail(c, oi, "a weight input is missing");
    if (c->tconst[ti] < 0) return op_fail(c, oi, "weights are not constants (not supported)");
    return c->tconst[ti];
}

static int map_act(conv_ctx *c, int oi, int64_t a, int *act) {
    if (a == TACT_NONE) *act = ACT_NONE;
    else if (a == TACT_RELU) *act = ACT_RELU;
    else if (a == TACT_RELU6) *act = ACT_RELU6;
    else return op_fail(c, oi, "fused activation function not supported (only none, RELU, RELU6)");
    return 0;
}

/* the inputs of a weighted op (convolution, dense): its activation, data input, weights and
   optional bias; -1 with the reason set */
static int weighted_inputs(conv_ctx *c, int oi, int64_t act, int spatial, int *gact, int *in, int *wt, int *bt) {
    if (map_act(c, oi, act, gact) < 0) return -1;
    if ((*in = data_input(c, oi, 0, spatial)) < 0) return -1;
    if ((*wt = const_input(c, oi, 1, 0)) < 0) return -1;
    if ((*bt = const_input(c, oi, 2, 1)) == -1) return -1;
    return 0;
}

/* Layer name for operator oi: a reserved one (tail of the network) or one derived from the
 * output tensor's name: the part before ';', without the leading scope ("MobilenetV2/") and
 * without trailing TF op segments ("Relu6", "add_fold", "batch_norm/FusedBatchNormV3", ...),
 * '/' and unprintable bytes replaced by '_', made unique with a "_N" suffix.
 * e.g. "MobilenetV2/expanded_conv_1/expand/Relu6;..." -> "expanded_conv_1_expand". */
static int is_op_segment(const uint8_t *s, size_t n) {
    static const char *const seg[] = {"Relu6", "relu6", "Relu", "relu", "add_fold", "BiasAdd", "Conv2D",
                                      "Conv2D_Fold", "FusedBatchNormV3", "batch_norm", "BatchNorm", "add",
                                      "depthwise_Fold", "Reshape", "Squeeze", "Mean", "Softmax", "AvgPool"};
    for (size_t i = 0; i < sizeof seg / sizeof *seg; i++)
        if (strlen(seg[i]) == n && !memcmp(seg[i], s, n)) return 1;
    return 0;
}

static int make_name(conv_ctx *c, int oi, const char *suffix, char *out, size_t cap) {
    if (!suffix && c->opname[oi]) {
        snprintf(out, cap, "%s", c->opname[oi]);
        return 0; /* reserved in the set already */
    }
    int ti = op_out(c, oi);
    const tfl_tensor *t = &c->m->t[ti];
    char base[TFL_MAX_NAME + 1];
    size_t k = 0;
    uint32_t start = 0, end = t->name_len < 4096 ? t->name_len : 4096; /* long names: the head is enough */
    for (uint32_t i = 0; i < end; i++)
        if (t->name[i] == ';') { end = i; break; }
    for (uint32_t i = start; i < end; i++) /* drop the first scope if something follows it */
        if (t->name[i] == '/' && i + 1 < end) { start = i + 1; break; }
    for (;;) { /* drop trailing op segments while two or more segments remain */
        uint32_t i = end;
        while (i > start && t->name[i - 1] != '/') i--;
        if (i <= start + 1 || !is_op_segment(t->name + i, end - i)) break;
        end = i - 1;
    }
    for (uint32_t i = start; i < end && k < TFL_MAX_NAME; i++) {
        uint8_t ch = t->name[i];
        base[k++] = (ch > 32 && ch < 127 && ch != '/') ? (char)ch : '_';
    }
    base[k] = 0;
    if (k == 0) snprintf(base, sizeof base, "%s_%d", tfl_op_label(c->m->op[oi].code), oi);
    char cand[TFL_MAX_NAME + 48];
    snprintf(cand, sizeof cand, "%s%s", base, suffix ? suffix : "");
    for (int n = 1; ns_has(&c->names, cand); n++) snprintf(cand, sizeof cand, "%s%s_%d", base, suffix ? suffix : "", n);
    if (ns_add(&c->names, cand) < 0) return -1;
    snprintf(out, cap, "%s", cand);
    return 0;
}

/* record: operator oi's output tensor is graph node `node`; check the node's shape */
static int bind_output(conv_ctx *c, int oi, int node) {
    if (node < 0) {
        char why[300];
        snprintf(why, sizeof why, "%s", sialo_error());
        return op_fail(c, oi, why);
    }
    int ti = op_out(c, oi), s[3];
    const sialo_node *n = &c->g->nodes[node];
    if (tensor_hwc(&c->m->t[ti], s) < 0) return op_fail(c, oi, "output tensor has an unsupported shape");
    if (s[0] != n->oh || s[1] != n->ow || s[2] != n->oc) {
        char why[200];
        snprintf(why, sizeof why, "the converted layer computes %dx%dx%d but the file declares %dx%dx%d",
                 n->oh, n->ow, n->oc, s[0], s[1], s[2]);
        return op_fail(c, oi, why);
    }
    c->tnode[ti] = node;
    return 0;
}

/* fill graph tensor gt from TFLite constant ti, in the layout `kind` */
enum { LAY_COPY, LAY_CONV, LAY_FC };
static int fill(conv_ctx *c, int oi, int gt, int ti, int kind, const int *tdims) {
    sialo_tensor *dst = &c->g->tensors[gt];
    const tfl_tensor *t = &c->m->t[ti];
    if (t->count != dst->count) return op_fail(c, oi, "weight tensor size does not match the layer");
    float *w = tfl_dequantize(c->m, ti);
    if (!w) {
        char why[300];
        snprintf(why, sizeof why, "%s", sialo_error());
        return op_fail(c, oi, why);
    }
    if (kind == LAY_CONV) { /* [OC,KH,KW,IC] -> [KH,KW,IC,OC] */
        size_t oc = (size_t)tdims[0], khw_ic = (size_t)tdims[1] * tdims[2] * tdims[3];
        for (size_t o = 0; o < oc; o++)
            for (size_t r = 0; r < khw_ic; r++) dst->data[r * oc + o] = w[o * khw_ic + r];
    } else if (kind == LAY_FC) { /* [OUT,IN] -> [IN,OUT] */
        size_t no = (size_t)tdims[0], ni = (size_t)tdims[1];
        for (size_t o = 0; o < no; o++)
            for (size_t i = 0; i < ni; i++) dst->data[i * no + o] = w[o * ni + i];
    } else {
        memcpy(dst->data, w, dst->count * sizeof *w);
    }
    free(w);
    return 0;
}

/* count a layer's parameters against the budget before its tensors are allocated (operators
 * may share one weight buffer, so the file size alone does not bound the graph) */
static int budget(conv_ctx *c, int oi, uint64_t weights, uint64_t bias) {
    c->params += weights + bias;
    if (c->params > TFL_MAX_PARAMS) return op_fail(c, oi, "the model has too many parameters");
    return 0;
}

static int get_opts(conv_ctx *c, int oi, int type, fb_table *opt) {
    const tfl_op *o = &c->m->op[oi];
    if (!o->has_opt || o->opt_type != type) return op_fail(c, oi, "its options are missing or of the wrong type");
    *opt = o->opt;
    return 0;
}

/* CONV_2D and DEPTHWISE_CONV_2D; a 1x1 conv on a 1x1 map becomes a dense layer */
static int do_conv(conv_ctx *c, int oi, int depthwise) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t pad, sw, sh, act, dw, dh;
    if (get_opts(c, oi, depthwise ? OPT_DEPTHWISE : OPT_CONV2D, &opt) < 0) return -1;
    int ia = depthwise ? 4 : 3, id = depthwise ? 5 : 4;
    if (fb_int(f, &opt, 0, 1, 1, 0, &pad, "conv options") < 0 || fb_int(f, &opt, 1, 4, 1, 0, &sw, "conv options") < 0 ||
        fb_int(f, &opt, 2, 4, 1, 0, &sh, "conv options") < 0 || fb_int(f, &opt, ia, 1, 1, 0, &act, "conv options") < 0 ||
        fb_int(f, &opt, id, 4, 1, 1, &dw, "conv options") < 0 || fb_int(f, &opt, id + 1, 4, 1, 1, &dh, "conv options") < 0)
        return -1;
    if (dw != 1 || dh != 1) return op_fail(c, oi, "dilated convolution is not supported");
    if (sw < 1 || sh < 1 || sw > 64 || sh > 64) return op_fail(c, oi, "stride out of range");
    if (pad != TPAD_SAME && pad != TPAD_VALID) return op_fail(c, oi, "unknown padding");
    int gact, in, wt, bt;
    if (weighted_inputs(c, oi, act, 1, &gact, &in, &wt, &bt) < 0) return -1;
    const tfl_tensor *w = &c->m->t[wt];
    int cin = c->g->nodes[in].oc, ih = c->g->nodes[in].oh, iw = c->g->nodes[in].ow;
    if (w->rank != 4) return op_fail(c, oi, "filter is not 4-dimensional");
    int kh = w->dims[1], kw = w->dims[2], cout, groups;
    if (depthwise) {
        if (w->dims[0] != 1) return op_fail(c, oi, "depthwise filter must be [1,KH,KW,C*multiplier]");
        cout = w->dims[3];
        if (cout % cin) return op_fail(c, oi, "depthwise output channels are not a multiple of the input channels");
        groups = cin;
    } else {
        cout = w->dims[0];
        if (w->dims[3] != cin) return op_fail(c, oi, "filter input channels differ from the input (grouped conv not supported)");
        groups = 1;
    }
    if (kh > 64 || kw > 64) return op_fail(c, oi, "kernel larger than 64");
    if (bt >= 0 && (c->m->t[bt].count != (uint64_t)cout)) return op_fail(c, oi, "bias size differs from the output channels");
    if (budget(c, oi, w->count, (uint64_t)cout) < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node;
    int dense = !depthwise && kh == 1 && kw == 1 && ih == 1 && iw == 1;
    if (dense) {
        node = gb_dense(c->g, name, in, cout, 1, gact);
    } else if (sh == sw) {
        node = gb_conv(c->g, name, in, kh, kw, (int)sh, pad == TPAD_SAME ? PAD_SAME : PAD_VALID, groups, cout, 1, gact);
    } else { /* TF 'same' padding resolved by hand for unequal strides */
        int pt = 0, pb = 0, pl = 0, pr = 0;
        if (pad == TPAD_SAME) {
            int oh = (ih + (int)sh - 1) / (int)sh, ow = (iw + (int)sw - 1) / (int)sw;
            int th = (oh - 1) * (int)sh + kh - ih, tw = (ow - 1) * (int)sw + kw - iw;
            if (th < 0) th = 0;
            if (tw < 0) tw = 0;
            pt = th / 2; pb = th - pt; pl = tw / 2; pr = tw - pl;
        }
        node = gb_conv_explicit(c->g, name, in, kh, kw, (int)sh, (int)sw, pt, pb, pl, pr, groups, cout, 1, gact);
    }
    if (bind_output(c, oi, node) < 0) return -1;
    const sialo_node *n = &c->g->nodes[node];
    /* depthwise [1,KH,KW,C*m] has the memory order of [KH,KW,1,C*m]; dense [OC,1,1,IC] is [OC,IC] */
    int fcd[2] = {cout, cin};
    if (fill(c, oi, n->t[0], wt, depthwise ? LAY_COPY : dense ? LAY_FC : LAY_CONV, dense ? fcd : w->dims) < 0) return -1;
    if (bt >= 0 && fill(c, oi, c->g->nodes[node].t[1], bt, LAY_COPY, NULL) < 0) return -1;
    return 0;
}

static int do_fc(conv_ctx *c, int oi) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t act, fmt;
    if (get_opts(c, oi, OPT_FC, &opt) < 0) return -1;
    if (fb_int(f, &opt, 0, 1, 1, 0, &act, "fc options") < 0 || fb_int(f, &opt, 1, 1, 1, 0, &fmt, "fc options") < 0) return -1;
    if (fmt != 0) return op_fail(c, oi, "shuffled weight format is not supported");
    int gact, in, wt, bt;
    if (weighted_inputs(c, oi, act, 0, &gact, &in, &wt, &bt) < 0) return -1;
    const tfl_tensor *w = &c->m->t[wt];
    const sialo_node *src = &c->g->nodes[in];
    if (w->rank != 2 || (uint64_t)w->dims[1] != (uint64_t)src->oh * src->ow * src->oc)
        return op_fail(c, oi, "weights are not [outputs, inputs]");
    int cout = w->dims[0];
    if (bt >= 0 && c->m->t[bt].count != (uint64_t)cout) return op_fail(c, oi, "bias size differs from the outputs");
    if (budget(c, oi, w->count, (uint64_t)cout) < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node = gb_dense(c->g, name, in, cout, 1, gact);
    if (bind_output(c, oi, node) < 0) return -1;
    if (fill(c, oi, c->g->nodes[node].t[0], wt, LAY_FC, w->dims) < 0) return -1;
    if (bt >= 0 && fill(c, oi, c->g->nodes[node].t[1], bt, LAY_COPY, NULL) < 0) return -1;
    return 0;
}

/* an extra activation layer after a pool with a fused activation */
static int add_act_after(conv_ctx *c, int oi, int node, int gact) {
    if (node < 0 || gact == ACT_NONE) return node;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, "_act", name, sizeof name) < 0) return -1;
    return gb_simple(c->g, gact == ACT_RELU ? OP_RELU : OP_RELU6, name, node);
}

static int do_pool(conv_ctx *c, int oi, int op) {
    const fb_file *f = &c->m->f;
    fb_table opt;
    int64_t pad, sw, sh, fw, fh, act;
    if (get_opts(c, oi, OPT_POOL2D, &opt) < 0) return -1;
    if (fb_int(f, &opt, 0, 1, 1, 0, &pad, "pool options") < 0 || fb_int(f, &opt, 1, 4, 1, 0, &sw, "pool options") < 0 ||
        fb_int(f, &opt, 2, 4, 1, 0, &sh, "pool options") < 0 || fb_int(f, &opt, 3, 4, 1, 0, &fw, "pool options") < 0 ||
        fb_int(f, &opt, 4, 4, 1, 0, &fh, "pool options") < 0 || fb_int(f, &opt, 5, 1, 1, 0, &act, "pool options") < 0)
        return -1;
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    if (pad != TPAD_SAME && pad != TPAD_VALID) return op_fail(c, oi, "unknown padding");
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    const sialo_node *src = &c->g->nodes[in];
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    int node;
    if (op == OP_AVGPOOL && pad == TPAD_VALID && fh == src->oh && fw == src->ow) {
        node = gb_simple(c->g, OP_GAP, name, in); /* a window over the whole map */
    } else {
        if (fh != fw || sh != sw) return op_fail(c, oi, "only square pooling windows and strides are supported");
        if (fh < 1 || fh > 64 || sh < 1 || sh > 64) return op_fail(c, oi, "pooling window or stride out of range");
        node = gb_pool(c->g, op, name, in, (int)fh, (int)sh, pad == TPAD_SAME ? PAD_SAME : PAD_VALID);
    }
    return bind_output(c, oi, add_act_after(c, oi, node, gact));
}

static int do_mean(conv_ctx *c, int oi) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    int at = const_input(c, oi, 1, 0);
    if (at < 0) return -1;
    const tfl_tensor *a = &c->m->t[at];
    if (a->type != TT_INT32 || a->count != 2) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
    int seen = 0;
    for (int k = 0; k < 2; k++) {
        int32_t ax = (int32_t)le32(a->data + 4 * k);
        if (ax < 0) ax += 4;
        if (ax != 1 && ax != 2) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
        seen |= 1 << ax;
    }
    if (seen != 6) return op_fail(c, oi, "only a mean over the two spatial axes is supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, OP_GAP, name, in));
}

static int do_pad(conv_ctx *c, int oi) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    int pt = const_input(c, oi, 1, 0);
    if (pt < 0) return -1;
    const tfl_tensor *p = &c->m->t[pt];
    if (p->type != TT_INT32 || p->rank != 2 || p->dims[0] != 4 || p->dims[1] != 2)
        return op_fail(c, oi, "paddings must be an int32 [4,2] constant");
    int32_t v[8];
    for (int k = 0; k < 8; k++) {
        v[k] = (int32_t)le32(p->data + 4 * k);
        if (v[k] < 0 || v[k] > 1024) return op_fail(c, oi, "padding out of range");
    }
    if (v[0] || v[1] || v[6] || v[7]) return op_fail(c, oi, "padding of the batch or channel axis is not supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_pad(c->g, name, in, v[2], v[3], v[4], v[5]));
}

static int do_add(conv_ctx *c, int oi) {
    fb_table opt;
    int64_t act = 0;
    const tfl_op *o = &c->m->op[oi];
    if (o->has_opt) {
        if (get_opts(c, oi, OPT_ADD, &opt) < 0 || fb_int(&c->m->f, &opt, 0, 1, 1, 0, &act, "add options") < 0) return -1;
    }
    int gact;
    if (map_act(c, oi, act, &gact) < 0) return -1;
    int a = data_input(c, oi, 0, 1);
    if (a < 0) return -1;
    int b = data_input(c, oi, 1, 1);
    if (b < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_add(c->g, name, a, b, gact));
}

static int do_softmax(conv_ctx *c, int oi) {
    fb_table opt;
    float beta;
    if (get_opts(c, oi, OPT_SOFTMAX, &opt) < 0 || fb_float(&c->m->f, &opt, 0, 0.0f, &beta, "softmax options") < 0) return -1;
    if (!(fabsf(beta - 1.0f) < 1e-6f)) return op_fail(c, oi, "softmax with beta other than 1 is not supported");
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    const sialo_node *src = &c->g->nodes[in];
    if (src->oh != 1 || src->ow != 1) return op_fail(c, oi, "softmax over a spatial map is not supported");
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, OP_SOFTMAX, name, in));
}

static int do_simple(conv_ctx *c, int oi, int op) {
    int in = data_input(c, oi, 0, 1);
    if (in < 0) return -1;
    char name[TFL_MAX_NAME + 64];
    if (make_name(c, oi, NULL, name, sizeof name) < 0) return -1;
    return bind_output(c, oi, gb_simple(c->g, op, name, in));
}

/* RESHAPE / SQUEEZE / QUANTIZE / DEQUANTIZE: the output is the input (same data, same order) */
static int do_passthrough(conv_ctx *c, int oi) {
    int ti = op_in(c, oi, 0), to = op_out(c, oi);
    if (ti < 0) return op_fail(c, oi, "input is missing");
    if (c->tconst[ti] >= 0 && c->m->op[oi].code == BO_DEQUANTIZE) { /* e.g. float16 weights */
        c->tconst[to] = c->tconst[ti];
        return 0;
    }
    int node = c->tnode[ti];
    if (node < 0) return op_fail(c, oi, "reads a tensor that no earlier operator produces");
    if (c->m->t[ti].count != c->m->t[to].count) return op_fail(c, oi, "changes the number of elements");
    c->tnode[to] = node;
    return 0;
}

static int is_passthrough(int code) {
    return code == BO_RESHAPE || code == BO_SQUEEZE || code == BO_QUANTIZE || code == BO_DEQUANTIZE;
}

/* the operator whose output is tensor ti, looking through pass-through operators; -1 if none */
static int real_producer(const conv_ctx *c, int ti) {
    for (int steps = 0; ti >= 0 && steps <= c->m->n_ops; steps++) {
        int oi = c->producer[ti];
        if (oi < 0) return -1;
        if (!is_passthrough(c->m->op[oi].code)) return oi;
        ti = op_in(c, oi, 0);
    }
    return -1;
}

/* Find the classifier tail: [conv] -> global pool -> logits (FC / 1x1 conv) -> softmax, and
 * reserve the Keras MobileNetV2 names for it. Returns 1 if the whole tail matched. */
static int name_tail(conv_ctx *c) {
    static const char *const special[4] = {"Predictions", "Logits", "global_average_pooling2d", "out_relu"};
    for (int k = 0; k < 4; k++)
        if (!ns_has(&c->names, special[k]) && ns_add(&c->names, special[k]) < 0) return -1;
    const tfl_model *m = c->m;
    int sm = real_producer(c, m->output);
    if (sm < 0 || m->op[sm].code != BO_SOFTMAX) return 0;
    c->opname[sm] = special[0];
    int lg = real_producer(c, op_in(c, sm, 0));
    if (lg < 0) return 0;
    int lc = m->op[lg].code;
    if (lc != BO_FULLY_CONNECTED && lc != BO_CONV_2D) return 0;
    if (lc == BO_CONV_2D) { /* only a 1x1 conv on a 1x1 map is a logits layer */
        int wi = op_in(c, lg, 1), xi = op_in(c, lg, 0), s[3];
        if (wi < 0 || xi < 0 || m->t[wi].rank != 4 || m->t[wi].dims[1] != 1 || m->t[wi].dims[2] != 1) return 0;
        if (tensor_hwc(&m->t[xi], s) < 0 || s[0] != 1 || s[1] != 1) return 0;
    }
    c->opname[lg] = special[1];
    int gp = real_producer(c, op_in(c, lg, 0));
    if (gp < 0 || (m->op[gp].code != BO_AVERAGE_POOL_2D && m->op[gp].code != BO_MEAN)) return 0;
    c->opname[gp] = special[2];
    int fc = real_producer(c, op_in(c, gp, 0));
    if (fc < 0 || m->op[fc].code != BO_CONV_2D) return 0;
    c->opname[fc] = special[3];
    return 1;
}

sialo_graph *sialo_import_tflite(const void *data, size_t size) {
    tfl_model m;
    conv_ctx c;
    memset(&c, 0, sizeof c);
    if (tfl_parse(&m, data, size) < 0) { tfl_free(&m); return NULL; }
    c.m = &m;

    /* the input: one image [1,H,W,3] */
    const tfl_tensor *it = &m.t[m.input];
    char nm[80];
    tfl_tensor_name(&m, m.input, nm, sizeof nm);
    if (it->rank != 4 || it->dims[0] != 1 || it->dims[3] != 3 || it->dims[1] > 8192 || it->dims[2] > 8192) {
        sialo_fail("the TFLite model's input '%s' is not one RGB image [1,H,W,3] (H, W <= 8192)", nm);
        goto fail;
    }
    if (it->type != TT_FLOAT32 && it->type != TT_UINT8 && it->type != TT_INT8) {
        sialo_fail("the TFLite model's input '%s' has unsupported type %d", nm, it->type);
        goto fail;
    }

    size_t nt = (size_t)m.n_tensors;
    c.tnode = malloc(nt * sizeof *c.tnode);
    c.tconst = malloc(nt * sizeof *c.tconst);
    c.producer = malloc(nt * sizeof *c.producer);
    c.opname = calloc((size_t)m.n_ops, sizeof *c.opname);
    c.names.cap = 64;
    while (c.names.cap < 4 * ((size_t)m.n_ops + 16)) c.names.cap *= 2;
    c.names.slot = calloc(c.names.cap, sizeof *c.names.slot);
    if (!c.tnode || !c.tconst || !c.producer || !c.opname || !c.names.slot) { sialo_fail("out of memory"); goto fail; }
    for (size_t i = 0; i < nt; i++) {
        c.tnode[i] = -1;
        c.producer[i] = -1;
        c.tconst[i] = m.t[i].data ? (int)i : -1;
    }
    if (m.t[m.input].data) { sialo_fail("TFLite file is corrupt: the input tensor holds constant data"); goto fail; }
    for (int oi = 0; oi < m.n_ops; oi++) {
        const tfl_op *o = &m.op[oi];
        if (o->out.len != 1) { op_fail(&c, oi, "operators with several outputs are not supported"); goto fail; }
        int to = op_out(&c, oi);
        if (c.producer[to] >= 0 || to == m.input || m.t[to].data) { op_fail(&c, oi, "writes a tensor that is already defined"); goto fail; }
        c.producer[to] = oi;
    }

    c.g = sialo_graph_new("tflite", it->dims[1], it->dims[2], 3);
    if (!c.g) goto fail;
    if (ns_add(&c.names, "input") < 0) goto fail;
    c.tnode[m.input] = 0;
    int tail = name_tail(&c);
    if (tail < 0) goto fail;

    int has_dw = 0, has_add = 0;
    for (int oi = 0; oi < m.n_ops; oi++) {
        int code = m.op[oi].code, r;
        switch (code) {
        case BO_CONV_2D: r = do_conv(&c, oi, 0); break;
        case BO_DEPTHWISE_CONV_2D: r = do_conv(&c, oi, 1); has_dw = 1; break;
        case BO_FULLY_CONNECTED: r = do_fc(&c, oi); break;
        case BO_ADD: r = do_add(&c, oi); has_add = 1; break;
        case BO_AVERAGE_POOL_2D: r = do_pool(&c, oi, OP_AVGPOOL); break;
        case BO_MAX_POOL_2D: r = do_pool(&c, oi, OP_MAXPOOL); break;
        case BO_MEAN: r = do_mean(&c, oi); break;
        case BO_PAD: r = do_pad(&c, oi); break;
        case BO_SOFTMAX: r = do_softmax(&c, oi); break;
        case BO_RELU: r = do_simple(&c, oi, OP_RELU); break;
        case BO_RELU6: r = do_simple(&c, oi, OP_RELU6); break;
        case BO_LOGISTIC: r = do_simple(&c, oi, OP_SIGMOID); break;
        case BO_RESHAPE: case BO_SQUEEZE: case BO_QUANTIZE: case BO_DEQUANTIZE: r = do_passthrough(&c, oi); break;
        default: {
            char why[80];
            snprintf(why, sizeof why, "operator code %d is not supported by this importer", code);
            r = op_fail(&c, oi, why);
        }
        }
        if (r < 0) goto fail;
    }

    /* the output must be the last layer, one vector per image */
    int out = c.tnode[m.output];
    if (out < 0) { sialo_fail("the TFLite model's output is not computed by any supported operator"); goto fail; }
    if (out != c.g->n_nodes - 1) { sialo_fail("the TFLite model's output is not produced by its last layer"); goto fail; }
    const sialo_node *on = &c.g->nodes[out];
    if (on->oh != 1 || on->ow != 1) { sialo_fail("the TFLite model's output is a %dx%dx%d map, not a vector", on->oh, on->ow, on->oc); goto fail; }
    c.g->n_classes = on->oc;
    if (tail && has_dw && has_add && sialo_graph_set_text(&c.g->arch, "mobilenetv2") < 0) goto fail;
    {
        char prov[300];
        snprintf(prov, sizeof prov,
                 "imported from TensorFlow Lite (%zu bytes%s%s): weights dequantised to float32, activation quantisation dropped",
                 size, m.desc[0] ? ", description: " : "", m.desc);
        if (sialo_graph_set_text(&c.g->provenance, prov) < 0) goto fail;
    }
    /* Normalisation: an integer input tensor says exactly what the network sees for a pixel p:
     * uint8: s * (p - zp); int8 (fed p - 128): s * (p - 128 - zp). A float input gets the
     * convention of TFLite image classifiers, p / 127.5 - 1 (inputs in [-1, 1]). */
    {
        float ns = 1.0f / 127.5f, nb = -1.0f;
        if (it->type != TT_FLOAT32 && it->scale.len == 1) {
            double s = lef32(m.f.p + it->scale.pos);
            double zp = it->zp.len ? (double)(int64_t)le64(m.f.p + it->zp.pos) : 0.0;
            if (it->type == TT_INT8) zp += 128.0;
            if (!(s > 1e-6 && s < 1.0) || zp < -1024 || zp > 1024) {
                sialo_fail("the TFLite model's input '%s' has an implausible quantization (scale %g, zero point %g)", nm, s, zp);
                goto fail;
            }
            ns = (float)s;
            nb = (float)(-s * zp);
        } else if (it->type != TT_FLOAT32) {
            sialo_fail("the TFLite model's integer input '%s' has no per-tensor quantization", nm);
            goto fail;
        }
        for (int k = 0; k < 3; k++) { c.g->norm_scale[k] = ns; c.g->norm_bias[k] = nb; }
    }
    if (sialo_graph_infer_shapes(c.g) < 0) goto fail;

    free(c.tnode); free(c.tconst); free(c.producer); free(c.opname); ns_free(&c.names);
    tfl_free(&m);
    return c.g;
fail:
    sialo_graph_free(c.g);
    free(c.tnode); free(c.tconst); free(c.producer); free(c.opname);
    if (c.names.slot) ns_free(&c.names);
    tfl_free(&m);
    return NULL;
}
