/* graph.h — the in-memory model: tensors, nodes (layers) in topological order, metadata.
 *
 * This is what a model file holds (model_file.c reads and writes it), what the architecture
 * builders (arch.c) and the importers (import_*.c) produce, and what the runtime compiles.
 * Data layout is NHWC float32 throughout. Weight layouts (Keras conventions):
 *   conv    kernel [KH, KW, Cin/groups, Cout]  (depthwise: groups = Cin, Cout = Cin * multiplier)
 *   dense   kernel [Cin, Cout]
 *   bias    [Cout]
 *   batchnorm gamma, beta, moving_mean, moving_variance: [C] each
 */
#ifndef SIALO_GRAPH_H
#define SIALO_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

typedef enum {
    OP_INPUT = 0,   /* the network input; node 0, exactly one */
    OP_CONV,        /* p: KH KW SH SW PAD_MODE PT PB PL PR GROUPS COUT ACT USE_BIAS; t: kernel [bias] */
    OP_DENSE,       /* p: COUT ACT USE_BIAS; t: kernel [bias]. Input [N,1,1,C] or flattened [N,H,W,C] */
    OP_BATCHNORM,   /* p: ACT EPS_BITS(float); t: gamma beta mean var */
    OP_RELU,        /* max(x, 0) */
    OP_RELU6,       /* min(max(x, 0), 6) */
    OP_ADD,         /* 2 inputs, same shape; p: ACT */
    OP_MAXPOOL,     /* p: KH KW SH SW PAD_MODE PT PB PL PR (padding never wins: -inf) */
    OP_AVGPOOL,     /* same p; padding cells are not counted (TF 'same' semantics) */
    OP_GAP,         /* global average pool -> [N,1,1,C] */
    OP_PAD,         /* zero padding; p: PT PB PL PR */
    OP_SIGMOID,
    OP_SOFTMAX,     /* over C */
    OP_DROPOUT,     /* identity at inference; p: RATE_BITS(float), used by the trainer */
    OP_AFFINE,      /* per-channel y = x * scale + shift (a batchnorm in inference form); p: ACT; t: scale shift */
    OP_COUNT
} sialo_op;

/* parameter slots (p[]) */
enum {
    P_KH = 0, P_KW, P_SH, P_SW, P_PAD_MODE, P_PT, P_PB, P_PL, P_PR, P_GROUPS, P_COUT, P_ACT, P_USE_BIAS,
    P_EPS_BITS = 1, /* batchnorm: p[0] = ACT, p[1] = eps as float bits */
    P_RATE_BITS = 0,
    SIALO_NPARAMS = 16
};
/* dense: p[0]=COUT p[1]=ACT p[2]=USE_BIAS */
enum { PD_COUT = 0, PD_ACT = 1, PD_USE_BIAS = 2 };
enum { PAD_EXPLICIT = 0, PAD_SAME = 1, PAD_VALID = 2 };
enum { ACT_NONE = 0, ACT_RELU = 1, ACT_RELU6 = 2 };

#define SIALO_MAX_DIMS 4
#define SIALO_MAX_NODE_TENSORS 4

typedef struct {
    char *name;       /* e.g. "conv1_conv/kernel" */
    int ndim;
    int dims[SIALO_MAX_DIMS];
    size_t count;     /* product of dims */
    float *data;      /* count floats, owned */
} sialo_tensor;

typedef struct {
    int op;
    char *name;                       /* layer name, e.g. "conv2_block1_1_conv" */
    int n_in;
    int in[2];                        /* producer node indices (< this node's index) */
    int32_t p[SIALO_NPARAMS];
    int n_t;
    int t[SIALO_MAX_NODE_TENSORS];    /* tensor indices */
    /* filled by sialo_graph_infer_shapes (per image; batch is a runtime matter) */
    int oh, ow, oc;
    /* names of removed identity layers (dropout) whose output is this node's output */
    int n_alias;
    char **alias;
    /* names of layers fused into this one whose own output no longer exists (a conv folded with
       the batch norm after it keeps the BN's name; the conv's name is listed here) */
    int n_absorbed;
    char **absorbed;
    int frozen;                       /* trainer: 1 = weights not updated */
} sialo_node;

/* Out-of-distribution statistics of one network (ood.c; model file version 4): its pooled features
 * (the output of the global average pool `layer`) of the training frames, summarised as class means
 * and a low-rank shared within-class covariance: rank orthonormal principal directions with their
 * variances, and one variance per dimension for the rest. */
typedef struct {
    char *layer;      /* the GAP layer whose output are the features */
    int dim, n_means, rank;
    float *means;     /* n_means x dim: the class means (index = label) */
    float *basis;     /* rank x dim, orthonormal rows: top principal directions of the within-class covariance */
    float *var;       /* rank: the variance along each direction */
    float resid_var;  /* the variance per dimension of the rest (the residual, isotropic) */
    float scale;      /* the median out-of-fold squared distance of the training frames: score = d^2 / scale */
} sialo_ood_net;

typedef struct sialo_graph {
    /* metadata */
    char *arch;
    char *provenance;
    int in_h, in_w, in_c;
    float norm_scale[3], norm_bias[3];
    int n_classes;            /* width of the output node: 1 (sigmoid) or K (softmax) */
    int n_class_names;
    char **class_names;
    float threshold;          /* on the calibrated p (binary models) */
    float calib_a, calib_b;   /* Platt scaling p = sigmoid(a logit(p_raw) + b); 1, 0 = none (calibration.h) */
    int format_version;       /* of the file it was read from (0 if built in memory) */
    int storage_bits;         /* 32 or 16 when written */
    uint32_t checksum;        /* as read from a file (0 if built in memory) */
    /* out-of-distribution check (ood.c): the network's statistics (a single network, or each member of
       an ensemble), and the threshold on the model's score (a single network, or the ensemble's own
       graph; copied to its members at load). ood_threshold <= 0 = no check ("not checked"). */
    sialo_ood_net *ood;
    float ood_threshold;
    int ood_frames;           /* frames the statistics were fitted on */
    /* what the model was trained to classify (model file version 4, section "input-modes"):
       SIALO_MODE_WHOLE (whole frames; 0 reads as this: every older file), SIALO_MODE_BOX (a lesion box
       grown by box_margin per side), or both; copied to an ensemble's members at load */
    int input_modes;
    float box_margin;
    /* a model of whole frames that carries a second model for lesion boxes (model file section
       "box-model": a whole model file nested): box_graph is that model (a single network or an
       ensemble, trained for boxes, never itself carrying one), or NULL. The engine classifies a
       box with it, a whole frame with this one; each keeps its own threshold, calibration and
       out-of-distribution statistics. Owned by the graph. */
    struct sialo_graph *box_graph;
    /* read from a file, box_graph is only the head of that model (its metadata and sections, no
       networks: head_networks says how many it has) and box_file holds its bytes, parsed in full
       when the first box comes and written back verbatim; built in memory, box_file is NULL */
    uint8_t *box_file;
    size_t box_file_size;
    int head_networks;
    /* content */
    int n_tensors, cap_tensors;
    sialo_tensor *tensors;
    int n_nodes, cap_nodes;
    sialo_node *nodes;
    /* an ensemble (model file version 3; ensemble.c): this graph holds the ensemble's metadata only
       (arch, provenance, input, normalisation, classes, threshold, calibration; no tensors, no
       nodes) and members[0..n_members-1] are its networks, each a full graph with its own arch and
       provenance. 0 / NULL for a single network. The graph owns its members. */
    int n_members;
    struct sialo_graph **members;
} sialo_graph;

#define SIALO_MAX_MEMBERS 16 /* networks in one ensemble */

/* ---- building (all return the new node / tensor index, or -1 with sialo_error set) */
sialo_graph *sialo_graph_new(const char *arch, int in_h, int in_w, int in_c);
void sialo_graph_free(sialo_graph *g);
int sialo_graph_set_text(char **field, const char *s);             /* strdup into a meta field */
int sialo_graph_set_classes(sialo_graph *g, int n, const char *const *names);
int sialo_graph_add_tensor(sialo_graph *g, const char *name, int ndim, const int *dims, const float *data /* NULL = zeros */);
int sialo_graph_add_node(sialo_graph *g, int op, const char *name, int n_in, const int *in,
                         const int32_t *p /* SIALO_NPARAMS or NULL */, int n_t, const int *t);
int sialo_graph_find_node(const sialo_graph *g, const char *name);   /* also aliases; -1 + reason */
int sialo_graph_find_tensor(const sialo_graph *g, const char *name);

/* convenience builders used by arch.c and the importers; weights are zero until filled */
int gb_conv(sialo_graph *g, const char *name, int in, int kh, int kw, int stride, int pad_mode,
            int groups, int cout, int use_bias, int act);
int gb_conv_explicit(sialo_graph *g, const char *name, int in, int kh, int kw, int sh, int sw,
                     int pt, int pb, int pl, int pr, int groups, int cout, int use_bias, int act);
int gb_dense(sialo_graph *g, const char *name, int in, int cout, int use_bias, int act);
int gb_bn(sialo_graph *g, const char *name, int in, float eps, int act);
int gb_simple(sialo_graph *g, int op, const char *name, int in);        /* relu, relu6, gap, sigmoid, softmax */
int gb_add(sialo_graph *g, const char *name, int a, int b, int act);
int gb_pool(sialo_graph *g, int op, const char *name, int in, int k, int stride, int pad_mode);
int gb_pad(sialo_graph *g, const char *name, int in, int pt, int pb, int pl, int pr);
int gb_dropout(sialo_graph *g, const char *name, int in, float rate);

/* ---- checking and transforming */
/* Validate structure and infer every node's output shape. Returns 0 or -1 (reason set). */
int sialo_graph_infer_shapes(sialo_graph *g);
/* Inference form: batchnorm -> affine (folded into the preceding conv/dense where that conv's
 * only consumer is the BN), relu/relu6 fused into conv/dense/affine/add, zero padding folded into
 * a following conv, dropout removed. Names of removed layers become aliases. In place. */
int sialo_graph_optimize(sialo_graph *g);
int sialo_graph_optimize_ex(sialo_graph *g, int keep_dropout);
/* Number of consumers of each node (array of n_nodes, caller frees). */
int *sialo_graph_consumers(const sialo_graph *g);
size_t sialo_graph_param_count(const sialo_graph *g);

/* ---- model file (model_file.c; the format is specified at the top of that file) */
/* any model file (versions 1 to 3): an ensemble comes back with n_members >= 2 */
sialo_graph *sialo_graph_read_any(const void *data, size_t size);
/* one network: an ensemble file is refused with a sentence (backbones, checkpoints) */
sialo_graph *sialo_graph_read(const void *data, size_t size);
/* storage_bits 32 or 16; a single network is written as version 2, an ensemble as version 3.
 * *out is malloc'ed; caller frees. */
int sialo_graph_write(const sialo_graph *g, int storage_bits, uint8_t **out, size_t *out_size);
/* 0 if a box model (graph.h box_graph) names the same outputs and classes as the whole-frame model, else -1 with a sentence */
int sialo_graph_same_classes(const sialo_graph *whole, const sialo_graph *box);
/* the head of a model file: its metadata and sections (version 4), no networks, no checksum check */
sialo_graph *sialo_graph_read_head(const void *data, size_t size);
int sialo_graph_write_file(const sialo_graph *g, int storage_bits, const char *path);

/* ---- ensembles (ensemble.c) */
/* The ensemble of n (2..SIALO_MAX_MEMBERS) single-network graphs, which it takes over (freed on
 * failure too). They must take the same input size and normalisation and have the same outputs and
 * class names, else -> NULL with a sentence naming the member. The result: classes of member 0,
 * threshold 0.5, no calibration (sialoscan calibrate fits one on the ensemble's predictions), arch
 * = the members' arch ("a+b" when they differ), provenance = a sentence naming the members. */
sialo_graph *sialo_ensemble_graph(sialo_graph **members, int n);

/* ---- out-of-distribution statistics (ood.c) */
void sialo_ood_net_free(sialo_ood_net *o);
/* the raw squared Mahalanobis distance of features f (o->dim) to the nearest class mean */
double sialo_ood_d2(const sialo_ood_net *o, const float *f);
/* Fit one network's statistics on the rows i with use[i] != 0 (use NULL = all) of feats (n x dim),
 * labels[i] in 0..n_means-1; rank = principal directions kept (clamped to the frames and dim).
 * scale = 1. NULL + reason on failure. */
sialo_ood_net *sialo_ood_fit(const float *feats, const int *labels, const unsigned char *use, int n, int dim, int n_means,
                             int rank, const char *layer);
/* Cross-fitted statistics of n_nets networks (feats[k]: n x dims[k]) on frames with group-aware
 * folds fold[i] in 0..k_folds-1: each frame's out-of-fold squared distance per network (statistics
 * fitted on the other folds), each network's scale = the median of them, the model's score of a
 * frame = the mean over the networks of d^2 / scale, and the threshold = the smallest value that
 * flags at most max_rate of the frames' out-of-fold scores. Then each network's statistics on all
 * the frames (with that scale) in nets[k]. oof (n, may be NULL) receives the out-of-fold scores. */
int sialo_ood_crossfit(float *const *feats, const int *dims, int n_nets, const int *labels, const int *fold, int n, int k_folds,
                       int n_means, int rank, double max_rate, const char *const *layers, sialo_ood_net **nets, float *threshold,
                       double *oof);
/* attach: nets[k] to network k (a single network: nets[0]) and the threshold; takes the nets over */
int sialo_graph_set_ood(sialo_graph *g, sialo_ood_net **nets, int n_nets, float threshold, int frames);
/* the name of the graph's global average pool (the features), or NULL + reason */
const char *sialo_graph_feature_layer(const sialo_graph *g);

/* ---- architectures (arch.c): Keras layer names, random (seeded) or zero weights */
/* head: "binary" = GAP -> dropout(0.5) -> dense(1) -> sigmoid; "imagenet" = GAP -> dense(1000/1001) -> softmax;
   "none" = backbone only */
sialo_graph *sialo_arch_build(const char *arch, int in_h, int in_w, const char *head, int n_out);
/* Fill every tensor with deterministic pseudo-random values (He-style scale; BN stats sane). */
void sialo_graph_randomize(sialo_graph *g, uint64_t seed);

#endif
