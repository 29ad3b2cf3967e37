/* runtime.h — the loaded model (internal to the engine, the trainer and Grad-CAM). */
#ifndef SIALO_RUNTIME_H
#define SIALO_RUNTIME_H

#include "engine/graph.h"
#include "ops/ops.h"
#include "sialoscan.h"
#include "base/threadpool.h"

typedef struct sialo_xnn_op sialo_xnn_op;

typedef struct {
    conv_params cp;     /* window / channel parameters (conv, dense, pools) */
    conv_packed pk;     /* packed weights (own backend) */
    sialo_xnn_op *xnn;  /* XNNPACK operator (xnnpack backend) */
    float *out;         /* this layer's output buffer in the arena */
} exec_node;

struct sialo_model {
    sialo_graph *g;       /* optimised graph; owns the float weights */
    sialo_options opt;
    size_t stored_params; /* as stored in the file, before folding */
    int stored_layers;
    sialo_pool *pool;
    exec_node *ex;        /* one per node */
    int *pinned;          /* layers whose outputs must survive the forward pass */
    int batch;
    float *arena;
    size_t arena_floats;
    float *scratch;       /* per thread: scratch_per_part floats */
    size_t scratch_per_part;
    uint64_t training_step; /* != 0: dropout active, masks seeded by this step number */
    /* backward state (backward.c) */
    float *grad_arena;    /* d(loss)/d(output) of every layer that needs one, batch-sized */
    float **dy;           /* per node, into grad_arena, or NULL */
    size_t grad_floats;
    /* profile.c: wall ms per layer summed over prof_runs forwards, or NULL (off) */
    double *prof_ms;
    int prof_runs;
    /* and per layer over the backward passes since the start: wall ms, multiply-adds done (the
       weight and input gradients each count as many as the forward), passes */
    double *prof_bw_ms, *prof_bw_macs;
    int prof_bw_runs;
    /* ensemble.c: a model file of several networks. This model is network 0 (g: its graph, whose
       threshold, calibration and classes are the ensemble's); member[0..n_members-1] are all the
       networks (member[0] == this model), each with its own graph, packed weights and arena, all
       on this model's thread pool; meta: the file's own metadata (arch, provenance; no nodes).
       A single network: n_members = 1, member = NULL, meta = NULL. */
    int n_members;
    struct sialo_model **member;
    sialo_graph *meta;
    int shared_pool;      /* 1: pool belongs to another model (an ensemble's network 0) */
    int ood_node;         /* ood.c: the pinned global average pool whose output the OOD score reads (> 0), 0 = none */
    /* model.c: a whole-frame model that carries a model for lesion boxes (graph.h box_graph): its
       graph until the first box is classified (so that loading costs nothing more), then the model
       built from it on this model's thread pool; box_failed: building it failed (the reason was
       given then, and is given again) */
    sialo_graph *box_graph;   /* read from a file: its head only (graph.h), the networks in box_file */
    uint8_t *box_file;
    size_t box_file_size;
    struct sialo_model *box_model;
    int box_failed;
};

/* takes ownership of g (an un-optimised graph, e.g. fresh from an importer or the trainer; an
   ensemble graph gives an ensemble) */
sialo_model *sialo_model_from_graph(sialo_graph *g, const sialo_options *opt);
/* one network on an existing thread pool (pool != NULL: not freed with the model) */
sialo_model *sialo_model_from_graph_pool(sialo_graph *g, const sialo_options *opt, sialo_pool *pool);
/* the node whose output is the network's score: the input of a final sigmoid / softmax (the
   logits), otherwise the output node */
int sialo_score_node(const sialo_graph *g);
/* ---- ensemble.c */
/* an ensemble model from an ensemble graph (takes ownership of g, freed on failure) */
sialo_model *sialo_ensemble_model(sialo_graph *g, const sialo_options *opt, sialo_pool *pool);
/* model.c: the model that classifies lesion boxes: m's box model (built on first use), else m
   itself (which then must be trained for boxes); NULL with sialo_error set if it cannot be built */
sialo_model *sialo_box_model(sialo_model *m);
/* the ensemble's output: the final sigmoid / softmax of the mean of the networks' logits (the
   mean of their outputs for a network without one); each network's activations stay in its arena */
int sialo_ensemble_forward(sialo_model *m, const float *input, float *out);
int sialo_model_set_batch(sialo_model *m, int batch);
/* keep a layer's output after forward (Grad-CAM) */
int sialo_model_pin(sialo_model *m, int node);
/* batch forward: input [batch,H,W,C]; out [batch, output size] (may be NULL) */
int sialo_forward_batch(sialo_model *m, const float *input, float *out);
size_t sialo_output_size(const sialo_model *m);
/* the decision from the network outputs y (classify.c) */
void sialo_decide(const sialo_model *m, const float *y, sialo_result *r);
/* antialiased bilinear resize of 8-bit RGB to dw x dh floats, then x * scale + bias (preprocess.c) */
int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst);
/* keep the packed weights in step with the float weights after an update (trainer) */
int sialo_model_repack(sialo_model *m, int node);

/* ---- ood.c: pin the features' layer when the graph carries OOD statistics (after loading) */
int sialo_ood_attach(sialo_model *m);
/* the OOD verdict of the last forward (batch 1) of a model (single or ensemble) */
void sialo_ood_decide(const sialo_model *m, sialo_ood *o);
/* keep every network's features (its GAP output) through the forwards that follow */
int sialo_model_keep_features(sialo_model *m);
/* a network's features after the last forward (row 0 of the batch): its GAP output; NULL + reason if not kept */
const float *sialo_model_features(sialo_model *m, int member, int *dim);

/* ---- profile.c: time per layer and per kind of layer (GFLOP/s) over the forwards after start */
int sialo_profile_start(sialo_model *m);
void sialo_profile_stop(sialo_model *m);
/* one JSON object: runs, threads, layers [{name, kind, out, ms, macs, gflops}], kinds [...], total_ms;
   after backward passes also "backward": {runs, kinds [{kind, layers, ms, macs, gflops}], total_ms}
   (per backward pass; layers gain bw_ms, bw_gflops). Caller frees */
char *sialo_profile_json(const sialo_model *m);
/* multiply-adds of one forward of layer i at the model's batch (0 for layers without weights) */
double sialo_layer_macs(const sialo_model *m, int i);
/* the core's clock while busy (GHz), measured; 0 where unknown (WASM) */
double sialo_clock_ghz(void);

/* ---- backward.c: gradients through the graph.
 * Starts at layer `start` with dY (batch x its output size) and walks back to every layer that
 * `need` marks (need[i]: compute d/d(output of i)); parameter gradients are accumulated (+=)
 * into grad[t] for every tensor t with grad[t] != NULL (batch summed, deterministic for a given
 * thread count). Uses the activations of the last forward (training or keep_activations). */
int sialo_backward(sialo_model *m, int start, const float *dy_start, const int *need, float **grad);
/* the same, with extra_dy (batch x the output size of extra_node, a layer before start) added to
   that layer's gradient: a loss term on an inner feature map (guided attention) */
int sialo_backward_extra(sialo_model *m, int start, const float *dy_start, const int *need, float **grad, int extra_node,
                         const float *extra_dy);
/* d/d(output of node) after sialo_backward, or NULL */
const float *sialo_node_grad(const sialo_model *m, int node);
/* need[] for: every layer from which a path leads to a trainable tensor or the target layer */
int *sialo_backward_need(const sialo_model *m, const int *trainable_tensor, int target_node);

#endif
