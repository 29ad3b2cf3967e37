/* run.c — one training run (a fold, or the final model): transfer learning with fine-tuning and
 * gradual unfreezing (Cheng & Chiang 2023), in memory; trainer.c drives the runs.
 *
 * Model: a backbone (a converted ImageNet model, or any architecture with random weights) cut at
 * the feature map that feeds its global pooling, plus a new head:
 *   avg_pool (GAP) -> dropout -> predictions (dense 1, the logit) -> sigmoid.
 * Batch norms are in inference mode (folded into their convolutions), as Keras fine-tuning does.
 * Loss: binary cross-entropy, classes weighted n / (2 n_class) on the training split.
 * Optimiser: Adam (beta 0.9 / 0.999, eps 1e-7) with decoupled weight decay on kernels (AdamW),
 * a fresh optimiser state and learning rate per stage.
 * Stages: each unfreezes a part of the network ("head" = the new dense layer only, "all",
 * "top:N" = the last N layers that have weights (convolutions, batch norms) plus the head, or a
 * layer name: it and everything after it), trains up to max_epochs, stops early after `patience`
 * epochs without a better validation AUC (ties broken by lower loss) and keeps the best weights.
 * Validation for early stopping is an inner, group-aware, stratified split of the training data
 * (val_fraction); cross-validation folds are never used for any decision inside a fold.
 * Methods (default schedules, see sialo_schedule_default):
 *   gradual  head, then top blocks step by step at decreasing learning rates
 *   full     head and backbone together from the start (fine-tuning without gradual unfreezing)
 *   frozen   head only (the backbone as a fixed feature extractor)
 *   scratch  every layer from random weights (default architecture: smallcnn)
 * Guided attention (--masks, optional; the default recipe needs no masks): for a frame with a lesion
 * mask, the Grad-CAM map of its true class on the feature map A that feeds the pooling is
 * h = ReLU(+-z), z[y,x] = sum_c w_c A[y,x,c] (w: the dense head; for this head Grad-CAM is exactly
 * this map). The loss adds attention_weight x the share of the map's energy outside the lesion,
 * sum (1 - m) h^2 / sum h^2 (m: the lesion share of each cell, from the mask under the same
 * augmentation), averaged over the batch; its gradient enters the backward pass at A and at w.
 * Early stopping still looks at the validation AUC only.
 * Determinism: the same seed and thread count give the same model (augmentation and dropout
 * are seeded per sample and step; per-thread gradients are summed in a fixed order).
 */
#include "train/run.h"
#include "base/metrics.h"
#include "engine/runtime.h"
#include "kernels/f32_adam.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ schedules */
int sialo_schedule_parse(const char *text, sialo_stage *st, int max) {
    int n = 0, lineno = 0;
    const char *p = text;
    while (*p) {
        char line[512];
        size_t k = strcspn(p, "\n");
        snprintf(line, sizeof line, "%.*s", (int)(k < sizeof line ? k : sizeof line - 1), p);
        p += k + (p[k] == '\n');
        lineno++;
        char *hash = strchr(line, '#');
        if (hash) *hash = 0;
        char name[32], unf[128];
        float lr;
        int ep, pat;
        int got = sscanf(line, "%31s %127s %f %d %d", name, unf, &lr, &ep, &pat);
        if (got <= 0) continue;
        if (got != 5) return sialo_fail("schedule line %d: expected 'name unfreeze lr max_epochs patience'", lineno);
        if (!(lr > 0 && lr < 1) || ep < 1 || ep > 1000 || pat < 1)
            return sialo_fail("schedule line %d: learning rate must be in (0,1), epochs 1..1000, patience >= 1", lineno);
        if (n == max) return sialo_fail("schedule: more than %d stages", max);
        snprintf(st[n].name, sizeof st[n].name, "%s", name);
        snprintf(st[n].unfreeze, sizeof st[n].unfreeze, "%s", unf);
        st[n].lr = lr;
        st[n].max_epochs = ep;
        st[n].patience = pat;
        n++;
    }
    if (n == 0) return sialo_fail("schedule has no stages");
    return n;
}

int sialo_schedule_default(const char *method, const char *arch, sialo_stage *st, int max) {
    int resnet = arch && !strcmp(arch, "resnet50v2");
    const char *text;
    if (!strcmp(method, "gradual"))
        text = resnet ? "head head 1e-3 15 4\nconv5 top:14 1e-4 10 3\nconv4 top:38 5e-5 10 3\nconv3 top:55 2e-5 10 3\n"
                      : "head head 1e-3 15 4\ntop3 top:10 1e-4 10 3\ntop7 top:22 5e-5 10 3\ntop11 top:34 2e-5 10 3\n";
    else if (!strcmp(method, "full")) text = "all all 1e-4 25 5\n";
    else if (!strcmp(method, "frozen")) text = "head head 1e-3 30 6\n";
    else if (!strcmp(method, "scratch")) text = "all all 1e-3 40 8\n";
    else return sialo_fail("unknown method '%s' (gradual, full, frozen, scratch)", method);
    return sialo_schedule_parse(text, st, max);
}

double sialo_run_clock_eta(const sialo_run_clock *c, double rate) {
    if (!(rate > 0)) return NAN; /* nothing trained yet: no estimate */
    double bound = c->images_total - c->images_done;
    if (bound < 0) bound = 0;
    if (!(c->fin_plan > 0)) return bound / rate;
    double r = c->fin_done / c->fin_plan;
    double cur = c->cur_plan * r - (c->images_done - c->cur_done0);
    double left = (cur > 0 ? cur : 0) + c->future_plan * r;
    return (left < bound ? left : bound) / rate;
}

/* ------------------------------------------------------------------ model preparation */
static int has_weights(const sialo_node *n) { return n->op == OP_CONV || n->op == OP_DENSE || n->op == OP_AFFINE || n->op == OP_BATCHNORM; }

/* cut a backbone at the feature map feeding its (first) global pool and add the binary head */
sialo_graph *sialo_train_graph(const sialo_train_opts *o, const uint8_t *backbone, size_t backbone_n, uint64_t seed) {
    sialo_graph *g;
    if (backbone) {
        g = sialo_graph_read(backbone, backbone_n);
        if (!g) return NULL;
        /* a backbone's out-of-distribution statistics describe its own head's training frames: not this model's */
        sialo_ood_net_free(g->ood);
        g->ood = NULL;
        g->ood_threshold = 0;
    } else {
        int side = o->input ? o->input : 224;
        g = sialo_arch_build(o->arch ? o->arch : "smallcnn", side, side, "none", 0);
        if (!g) return NULL;
        sialo_graph_randomize(g, seed);
        /* batch norms start as identities when training from scratch */
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].op == OP_BATCHNORM)
                for (int k = 0; k < 4; k++) {
                    sialo_tensor *t = &g->tensors[g->nodes[i].t[k]];
                    for (size_t j = 0; j < t->count; j++) t->data[j] = (k == 0 || k == 3) ? 1.0f : 0.0f;
                }
    }
    int cut = g->n_nodes - 1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == OP_GAP) { cut = g->nodes[i].in[0]; break; }
    /* everything after the cut is the old head: drop it (nodes are in topological order and the
       head only reads from the cut or later) */
    for (int i = cut + 1; i < g->n_nodes; i++) {
        free(g->nodes[i].name);
        for (int k = 0; k < g->nodes[i].n_alias; k++) free(g->nodes[i].alias[k]);
        for (int k = 0; k < g->nodes[i].n_absorbed; k++) free(g->nodes[i].absorbed[k]);
        free(g->nodes[i].alias);
        free(g->nodes[i].absorbed);
    }
    g->n_nodes = cut + 1;
    if (o->input && (o->input != g->in_h || o->input != g->in_w)) {
        g->in_h = g->in_w = o->input; /* fully convolutional backbones take any size */
    }
    int x = gb_simple(g, OP_GAP, "avg_pool", cut);
    x = gb_dropout(g, "dropout", x, o->dropout);
    x = gb_dense(g, "predictions", x, 1, 1, ACT_NONE);
    x = gb_simple(g, OP_SIGMOID, "sigmoid", x);
    static const char *const names[2] = {"benign", "malignant"};
    if (x < 0 || sialo_graph_set_classes(g, 2, names) < 0) { sialo_graph_free(g); return NULL; }
    g->n_classes = 1;
    g->threshold = 0.5f;
    g->calib_a = 1.0f; /* a new head: no calibration (a backbone's does not apply) */
    g->calib_b = 0.0f;
    g->input_modes = o->box_mode ? SIALO_MODE_BOX : SIALO_MODE_WHOLE; /* what it is trained on (model file "input-modes") */
    g->box_margin = o->box_mode ? o->box_margin : 0.0f;
    /* Glorot-uniform head */
    sialo_node *d = &g->nodes[g->n_nodes - 2];
    sialo_tensor *w = &g->tensors[d->t[0]];
    float a = sqrtf(6.0f / (float)(w->dims[0] + 1));
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 17;
    for (size_t k = 0; k < w->count; k++) {
        s ^= s << 13; s ^= s >> 7; s ^= s << 17;
        w->data[k] = ((float)((s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f) * a;
    }
    memset(g->tensors[d->t[1]].data, 0, sizeof(float));
    if (sialo_graph_infer_shapes(g) < 0) { sialo_graph_free(g); return NULL; }
    return g;
}

/* first node index that trains in a stage (the head is always trainable) */
int sialo_train_stage_start(const sialo_model *m, const sialo_stage *st) {
    const sialo_graph *g = m->g;
    int head = sialo_graph_find_node(g, "predictions");
    if (!strcmp(st->unfreeze, "head")) return head;
    if (!strcmp(st->unfreeze, "all")) return 1;
    if (!strncmp(st->unfreeze, "top:", 4)) {
        int want = atoi(st->unfreeze + 4), seen = 0;
        for (int i = head - 1; i >= 1; i--)
            if (has_weights(&g->nodes[i]) && ++seen == want) return i;
        return 1;
    }
    for (int i = 1; i < g->n_nodes; i++) {
        const sialo_node *n = &g->nodes[i];
        if (strstr(n->name, st->unfreeze)) return i;
        for (int k = 0; k < n->n_absorbed; k++) if (strstr(n->absorbed[k], st->unfreeze)) return i;
    }
    return sialo_fail("stage '%s': no layer named like '%s'", st->name, st->unfreeze);
}

/* ------------------------------------------------------------------ one training run */
typedef struct {
    const sialo_train_opts *o;
    const sialo_dataset *d;
    sialo_norm nrm;
    sialo_pool *pool;
    /* batch assembly */
    const int *idx;
    int count;
    uint64_t seed;
    int augment;
    float *x;
    size_t in_floats;
    /* guided attention: lesion share per feature-map cell, per image (NULL = off) */
    float *cells;
    int *has_mask;
    int fh, fw;
} batch_ctx;

static void make_batch_part(void *arg, int part, int nparts) {
    batch_ctx *c = arg;
    for (int b = part; b < c->count; b += nparts) {
        float *dst = c->x + (size_t)b * c->in_floats;
        if (c->augment) sialo_augment(c->d, c->idx[b], c->seed, &c->nrm, dst);
        else sialo_val_input(c->d, c->idx[b], &c->nrm, dst);
        if (c->cells) {
            c->has_mask[b] = c->augment && c->d->s[c->idx[b]].mask != NULL;
            if (c->has_mask[b]) sialo_augment_mask(c->d, c->idx[b], c->seed, c->fh, c->fw, c->cells + (size_t)b * c->fh * c->fw);
        }
    }
}

/* probabilities of samples idx[0..n) (no augmentation, no dropout) */
static int predict(sialo_model *m, batch_ctx *c, const int *idx, int n, int batch, float *p) {
    float *out = malloc((size_t)batch * sizeof *out);
    int *pad = malloc((size_t)batch * sizeof *pad);
    if (!out || !pad) { free(out); free(pad); return sialo_fail("out of memory"); }
    uint64_t step = m->training_step;
    m->training_step = 0;
    for (int s = 0; s < n; s += batch) {
        int k = n - s < batch ? n - s : batch;
        for (int b = 0; b < batch; b++) pad[b] = idx[s + (b < k ? b : 0)];
        c->idx = pad; c->count = batch; c->augment = 0;
        sialo_pool_run(c->pool, make_batch_part, c);
        if (sialo_forward_batch(m, c->x, out) < 0) { free(out); free(pad); return -1; }
        memcpy(p + s, out, (size_t)k * sizeof *p);
    }
    m->training_step = step;
    free(out); free(pad);
    return 0;
}

static double bce(const float *p, const int *y, int n) {
    double L = 0;
    for (int i = 0; i < n; i++) {
        double q = p[i] < 1e-7 ? 1e-7 : p[i] > 1 - 1e-7 ? 1 - 1e-7 : p[i];
        L -= y[i] ? log(q) : log(1 - q);
    }
    return n ? L / n : 0;
}

void sialo_train_update(sialo_model *m, const int *trainable, float *const *grad, float *const *mom, float *const *vel, float lr,
                        float weight_decay, long t) {
    f32_adam_params p = {lr, 0.9f, 0.999f, (float)(1.0 / (1.0 - pow(0.9, (double)t))), (float)(1.0 / (1.0 - pow(0.999, (double)t))), 1e-7f, 0.0f};
    for (int k = 0; k < m->g->n_tensors; k++) {
        if (!trainable[k]) continue;
        sialo_tensor *T = &m->g->tensors[k];
        p.decay = T->ndim >= 2 ? weight_decay : 0.0f;
        f32_adamw(T->data, grad[k], mom[k], vel[k], T->count, &p);
    }
}

static double now_s(void) { return sialo_now_ms() / 1000.0; }

typedef struct {
    float **m, **v;      /* Adam moments per tensor (NULL = not trainable) */
    float **grad;
    float **best;        /* snapshot of the best weights */
    int *trainable;
} opt_state;

static void opt_free(opt_state *s, int nt) {
    for (int t = 0; t < nt; t++) { free(s->m[t]); free(s->v[t]); free(s->grad[t]); free(s->best[t]); }
    free(s->m); free(s->v); free(s->grad); free(s->best); free(s->trainable);
    memset(s, 0, sizeof *s);
}

double sialo_attention_outside(const float *A, int P, int C, const float *w, const float *m, float sign, float scale,
                               float *dA, float *dw) {
    double E = 0, O = 0;
    float hbuf[1024], *h = P <= 1024 ? hbuf : malloc((size_t)P * sizeof *h);
    if (!h) return 0;
    for (int p = 0; p < P; p++) {
        double t = 0;
        for (int k = 0; k < C; k++) t += (double)w[k] * A[(size_t)p * C + k];
        h[p] = sign * t > 0 ? (float)(sign * t) : 0.0f;
        E += (double)h[p] * h[p];
        O += (1.0 - m[p]) * h[p] * h[p];
    }
    E += 1e-2; /* a map with (almost) no energy gets (almost) no push */
    double share = O / E;
    for (int p = 0; p < P; p++) {
        float g = (float)(scale * 2.0 * h[p] * ((1.0 - m[p]) - share) / E) * sign; /* d/dz[p] */
        float *da = dA ? dA + (size_t)p * C : NULL;
        const float *a = A + (size_t)p * C;
        for (int k = 0; k < C; k++) {
            if (da) da[k] = g * w[k];
            if (dw) dw[k] += g * a[k];
        }
    }
    if (h != hbuf) free(h);
    return share;
}

/* guided attention for the batch: fills extra (B x fh x fw x C) and adds to gw (C); returns the
   sum over the masked images of their outside share */
static double attention_batch(const batch_ctx *c, const float *A, const float *w, int C, int B, float weight, float *extra, float *gw) {
    int P = c->fh * c->fw;
    double sum = 0;
    memset(extra, 0, (size_t)B * P * C * sizeof *extra);
    for (int b = 0; b < B; b++)
        if (c->has_mask[b])
            sum += sialo_attention_outside(A + (size_t)b * P * C, P, C, w, c->cells + (size_t)b * P, c->d->s[c->idx[b]].label ? 1.0f : -1.0f,
                                           weight / B, extra + (size_t)b * P * C, gw);
    return sum;
}

void sialo_run_state_free(sialo_run_state *rs) {
    free(rs->weights);
    free(rs->aux);
    memset(rs, 0, sizeof *rs);
}

double sialo_run_planned_images(const sialo_stage *st, int nst, int ntr, int batch) {
    int nb = ntr / batch ? ntr / batch : 1;
    double e = 0;
    for (int s = 0; s < nst; s++) e += st[s].max_epochs;
    return e * nb * batch;
}

int sialo_train_predict(sialo_model *m, const sialo_train_opts *o, const sialo_dataset *d, const int *idx, int n, float *p) {
    batch_ctx bc = {0};
    bc.o = o; bc.d = d; bc.pool = m->pool; bc.in_floats = (size_t)d->in_side * d->in_side * 3;
    memcpy(bc.nrm.scale, m->g->norm_scale, sizeof bc.nrm.scale);
    memcpy(bc.nrm.bias, m->g->norm_bias, sizeof bc.nrm.bias);
    bc.x = malloc(bc.in_floats * (size_t)o->batch * sizeof(float));
    if (!bc.x) return sialo_fail("out of memory");
    int rc = predict(m, &bc, idx, n, o->batch, p);
    free(bc.x);
    return rc;
}

typedef struct { int stage, epoch, bad; double best_auc, best_loss; uint64_t step; } run_state;

/* the run's state after an epoch: the current weights as a model file, the stage's optimiser */
static int snapshot(sialo_model *m, const opt_state *os, int stage, int epoch, const run_state *r, sialo_run_state *out) {
    memset(out, 0, sizeof *out);
    out->stage = stage; out->epoch = epoch; out->bad = r->bad;
    out->best_auc = r->best_auc; out->best_loss = r->best_loss; out->step = r->step;
    if (sialo_graph_write(m->g, 32, &out->weights, &out->weights_n) < 0) return -1;
    size_t n = 0;
    for (int t = 0; epoch > 0 && t < m->g->n_tensors; t++) if (os->trainable[t]) n += 3 * m->g->tensors[t].count;
    if (n) {
        out->aux = malloc(n * sizeof(float));
        if (!out->aux) { sialo_run_state_free(out); return sialo_fail("out of memory"); }
        float *q = out->aux;
        for (int t = 0; t < m->g->n_tensors; t++)
            if (os->trainable[t]) {
                size_t c = m->g->tensors[t].count;
                memcpy(q, os->best[t], c * sizeof(float)); q += c;
                memcpy(q, os->m[t], c * sizeof(float)); q += c;
                memcpy(q, os->v[t], c * sizeof(float)); q += c;
            }
    }
    out->aux_n = n;
    return 0;
}

static int restore_weights(sialo_model *m, const sialo_run_state *rs) {
    sialo_graph *g = sialo_graph_read(rs->weights, rs->weights_n);
    if (!g) return sialo_fail("cannot resume: the checkpoint's weights: %s", sialo_error());
    int rc = 0;
    if (g->n_tensors != m->g->n_tensors) rc = sialo_fail("the checkpoint does not match this model");
    for (int t = 0; rc == 0 && t < g->n_tensors; t++) {
        if (g->tensors[t].count != m->g->tensors[t].count) { rc = sialo_fail("the checkpoint does not match this model"); break; }
        memcpy(m->g->tensors[t].data, g->tensors[t].data, g->tensors[t].count * sizeof(float));
    }
    sialo_graph_free(g);
    for (int i = 1; rc == 0 && i < m->g->n_nodes; i++) rc = sialo_model_repack(m, i);
    return rc;
}

static int restore_aux(sialo_model *m, opt_state *os, const sialo_run_state *rs) {
    size_t n = 0;
    for (int t = 0; t < m->g->n_tensors; t++) if (os->trainable[t]) n += 3 * m->g->tensors[t].count;
    if (n != rs->aux_n) return sialo_fail("the checkpoint's optimiser state does not match this schedule (%zu values, %zu expected)", rs->aux_n, n);
    const float *q = rs->aux;
    for (int t = 0; t < m->g->n_tensors; t++)
        if (os->trainable[t]) {
            size_t c = m->g->tensors[t].count;
            memcpy(os->best[t], q, c * sizeof(float)); q += c;
            memcpy(os->m[t], q, c * sizeof(float)); q += c;
            memcpy(os->v[t], q, c * sizeof(float)); q += c;
        }
    return 0;
}

static void say(const sialo_train_callbacks *cb, const char *line) {
    if (cb && cb->log) cb->log(cb->user, line);
}

/* trains on tr with early stopping on va; returns the model (best weights) */
sialo_model *sialo_train_run(const sialo_run_args *a, int *stopped) {
    const sialo_train_opts *o = a->o;
    const sialo_dataset *d = a->d;
    const int *tr = a->tr, *va = a->va;
    int ntr = a->ntr, nva = a->nva, nst = a->nst;
    const sialo_stage *st = a->st;
    const sialo_train_callbacks *cb = a->cb;
    *stopped = 0;
    uint64_t seed = o->seed;
    sialo_graph *g = sialo_train_graph(o, a->backbone, a->backbone_n, seed);
    if (!g) return NULL;
    if (g->in_h != d->in_side || g->in_w != d->in_side) {
        sialo_fail("the model takes %dx%d inputs but the data was prepared at %d", g->in_h, g->in_w, d->in_side);
        sialo_graph_free(g);
        return NULL;
    }
    sialo_options mo = {SIALO_BACKEND_OWN, o->threads, 1, 1};
    sialo_model *m = sialo_model_from_graph(g, &mo);
    if (!m) return NULL;
    int B = o->batch;
    if (sialo_model_set_batch(m, B) < 0) { sialo_model_free(m); return NULL; }
    int nt = m->g->n_tensors;
    opt_state os = {0};
    os.m = calloc((size_t)nt, sizeof(float *)); os.v = calloc((size_t)nt, sizeof(float *));
    os.grad = calloc((size_t)nt, sizeof(float *)); os.best = calloc((size_t)nt, sizeof(float *));
    os.trainable = calloc((size_t)nt, sizeof(int));
    batch_ctx bc = {0};
    float *extra = NULL; /* guided attention: d(loss)/d(feature map) */
    bc.o = o;
    bc.d = d;
    memcpy(bc.nrm.scale, m->g->norm_scale, sizeof bc.nrm.scale);
    memcpy(bc.nrm.bias, m->g->norm_bias, sizeof bc.nrm.bias);
    bc.pool = m->pool;
    bc.in_floats = (size_t)d->in_side * d->in_side * 3;
    bc.x = malloc(bc.in_floats * (size_t)B * sizeof(float));
    float *pv = malloc((size_t)(nva ? nva : 1) * sizeof(float)), *pb = malloc((size_t)B * sizeof(float)), *dl = malloc((size_t)B * sizeof(float));
    int *yv = malloc((size_t)(nva ? nva : 1) * sizeof(int)), *order = malloc((size_t)ntr * sizeof(int)), *bidx = malloc((size_t)B * sizeof(int));
    int *need = NULL;
    char line[640];
    if (!os.m || !os.v || !os.grad || !os.best || !os.trainable || !bc.x || !pv || !pb || !dl || !yv || !order || !bidx) {
        sialo_fail("out of memory");
        goto fail;
    }
    for (int i = 0; i < nva; i++) yv[i] = d->s[va[i]].label;
    int npos = 0;
    for (int i = 0; i < ntr; i++) npos += d->s[tr[i]].label;
    double wpos = npos ? (double)ntr / (2.0 * npos) : 1.0, wneg = ntr - npos ? (double)ntr / (2.0 * (ntr - npos)) : 1.0;
    int logit = sialo_graph_find_node(m->g, "predictions");
    int feat = -1, C = 0;
    if (o->masks) {
        int gap = sialo_graph_find_node(m->g, "avg_pool");
        feat = gap >= 0 ? m->g->nodes[gap].in[0] : -1;
        if (feat < 1) { sialo_fail("guided attention: the model has no pooled feature map"); goto fail; }
        const sialo_node *fn = &m->g->nodes[feat];
        bc.fh = fn->oh; bc.fw = fn->ow; C = fn->oc;
        bc.cells = malloc((size_t)B * bc.fh * bc.fw * sizeof(float));
        bc.has_mask = calloc((size_t)B, sizeof(int));
        extra = malloc((size_t)B * bc.fh * bc.fw * C * sizeof(float));
        if (!bc.cells || !bc.has_mask || !extra) { sialo_fail("out of memory"); goto fail; }
    }
    run_state rs = {0, 0, 0, -1.0, 1e30, 0};
    const sialo_run_state *res = a->resume;
    if (res) {
        rs.stage = res->stage; rs.epoch = res->epoch; rs.bad = res->bad;
        rs.best_auc = res->best_auc; rs.best_loss = res->best_loss; rs.step = res->step;
        if (restore_weights(m, res) < 0) goto fail;
    }
    int resumed = res != NULL;
    double t_start = now_s();
    long images = 0;
    int nb = ntr / B;
    if (nb == 0) nb = 1;
    sialo_train_progress pr;
    for (int s = rs.stage; s < nst; s++) {
        int start = sialo_train_stage_start(m, &st[s]);
        if (start < 0) goto fail;
        for (int t = 0; t < nt; t++) {
            free(os.m[t]); free(os.v[t]); free(os.grad[t]); free(os.best[t]);
            os.m[t] = os.v[t] = os.grad[t] = os.best[t] = NULL;
            os.trainable[t] = 0;
        }
        for (int i = start; i < m->g->n_nodes; i++)
            for (int k = 0; k < m->g->nodes[i].n_t; k++) os.trainable[m->g->nodes[i].t[k]] = 1;
        for (int t = 0; t < nt; t++)
            if (os.trainable[t]) {
                size_t c = m->g->tensors[t].count;
                os.m[t] = calloc(c, sizeof(float)); os.v[t] = calloc(c, sizeof(float));
                os.grad[t] = calloc(c, sizeof(float)); os.best[t] = malloc(c * sizeof(float));
                if (!os.m[t] || !os.v[t] || !os.grad[t] || !os.best[t]) { sialo_fail("out of memory"); goto fail; }
                memcpy(os.best[t], m->g->tensors[t].data, c * sizeof(float));
            }
        need = sialo_backward_need(m, os.trainable, -1);
        if (!need) goto fail;
        int e0 = 0;
        if (resumed && s == rs.stage) {
            e0 = rs.epoch;
            if (e0 > 0 && restore_aux(m, &os, res) < 0) goto fail;
        } else {
            rs.best_auc = -1.0; rs.best_loss = 1e30; rs.bad = 0;
        }
        resumed = 0;
        long adam_t = (long)e0 * nb;
        for (int ep = e0; ep < st[s].max_epochs && rs.bad < st[s].patience; ep++) {
            double t0 = now_s();
            /* shuffle (seeded per stage and epoch) */
            for (int i = 0; i < ntr; i++) order[i] = tr[i];
            uint64_t r = seed ^ ((uint64_t)(s + 1) << 40) ^ ((uint64_t)(ep + 1) << 20);
            for (int i = ntr - 1; i > 0; i--) {
                r = r * 6364136223846793005ull + 1442695040888963407ull;
                int j = (int)((r >> 33) % (uint64_t)(i + 1)), tmp = order[i];
                order[i] = order[j]; order[j] = tmp;
            }
            double loss_sum = 0, outside_sum = 0;
            int n_masked = 0;
            memset(&pr, 0, sizeof pr);
            pr.fold = a->fold; pr.folds = a->folds; pr.stage = s + 1; pr.stages = nst; pr.stage_name = st[s].name;
            pr.unfreeze = st[s].unfreeze; pr.lr = st[s].lr; pr.epoch = ep + 1; pr.epochs = st[s].max_epochs; pr.batches = nb;
            pr.val_auc = pr.val_loss = pr.outside = NAN;
            for (int b = 0; b < nb; b++) {
                for (int k = 0; k < B; k++) bidx[k] = order[(b * B + k) % ntr];
                rs.step++;
                bc.idx = bidx; bc.count = B; bc.augment = 1;
                bc.seed = seed ^ (rs.step * 0xD1B54A32D192ED03ull);
                sialo_pool_run(bc.pool, make_batch_part, &bc);
                m->training_step = rs.step;
                if (sialo_forward_batch(m, bc.x, pb) < 0) goto fail;
                for (int k = 0; k < B; k++) {
                    int y = d->s[bidx[k]].label;
                    double w = y ? wpos : wneg, q = pb[k] < 1e-7f ? 1e-7 : pb[k] > 1 - 1e-7f ? 1 - 1e-7 : pb[k];
                    loss_sum -= w * (y ? log(q) : log(1 - q));
                    dl[k] = (float)(w * (pb[k] - y) / B);
                }
                for (int t = 0; t < nt; t++) if (os.grad[t]) memset(os.grad[t], 0, m->g->tensors[t].count * sizeof(float));
                int have_extra = 0;
                if (extra) {
                    int wt = m->g->nodes[logit].t[0];
                    double sh = attention_batch(&bc, m->ex[feat].out, m->g->tensors[wt].data, C, B, o->attention_weight, extra, os.grad[wt]);
                    for (int k = 0; k < B; k++) n_masked += bc.has_mask[k];
                    outside_sum += sh;
                    loss_sum += o->attention_weight * sh;
                    have_extra = need[feat];
                }
                if (sialo_backward_extra(m, logit, dl, need, os.grad, have_extra ? feat : -1, have_extra ? extra : NULL) < 0) goto fail;
                /* AdamW */
                adam_t++;
                sialo_train_update(m, os.trainable, os.grad, os.m, os.v, st[s].lr, o->weight_decay, adam_t);
                for (int i = start; i < m->g->n_nodes; i++)
                    if (sialo_model_repack(m, i) < 0) goto fail;
                images += B;
                a->clock->images_done += B;
                a->clock->session_images += B;
                if (cb && cb->progress) {
                    double el = now_s() - a->clock->session_t0, rate = el > 0 ? a->clock->session_images / el : 0;
                    pr.kind = 0; pr.batch = b + 1; pr.loss = loss_sum / ((b + 1) * B); pr.images_per_s = rate;
                    pr.eta_s = sialo_run_clock_eta(a->clock, rate);
                    pr.done = a->clock->images_total > 0 ? a->clock->images_done / a->clock->images_total : 0;
                    pr.line = NULL;
                    cb->progress(cb->user, &pr);
                }
                if (cb && cb->should_stop && cb->should_stop(cb->user)) { *stopped = 1; goto fail; }
            }
            m->training_step = 0;
            /* validation */
            double vauc = NAN, vloss = NAN;
            if (nva > 0) {
                if (predict(m, &bc, va, nva, B, pv) < 0) goto fail;
                sialo_metrics mt;
                sialo_metrics_compute(pv, yv, nva, 0.5f, &mt);
                vauc = mt.auc;
                vloss = bce(pv, yv, nva);
            }
            int better = nva == 0 || vauc > rs.best_auc + 1e-9 || (fabs(vauc - rs.best_auc) <= 1e-9 && vloss < rs.best_loss);
            if (better) {
                rs.best_auc = nva ? vauc : 0; rs.best_loss = nva ? vloss : 0; rs.bad = 0;
                for (int t = 0; t < nt; t++) if (os.trainable[t]) memcpy(os.best[t], m->g->tensors[t].data, m->g->tensors[t].count * sizeof(float));
            } else {
                rs.bad++;
            }
            double dt = now_s() - t0;
            /* the stage ends at max_epochs at the latest (early stopping may end it sooner) */
            int left = st[s].max_epochs - ep - 1, eta = (int)(left * dt + 0.5);
            if (rs.bad >= st[s].patience) {
                eta = 0; /* the epochs the stage skips are no longer planned */
                a->clock->images_total -= (double)left * nb * B;
            }
            char att[48] = "";
            if (extra) snprintf(att, sizeof att, "  outside %.3f", n_masked ? outside_sum / n_masked : 0.0);
            snprintf(line, sizeof line, "%s stage %d/%d %-6s (%s, lr %.0e) epoch %2d/%d  loss %.4f  val_auc %.4f  val_loss %.4f%s  %5.1f img/s  "
                            "stage ETA <= %dm%02ds %s",
                    a->label, s + 1, nst, st[s].name, st[s].unfreeze, st[s].lr, ep + 1, st[s].max_epochs, loss_sum / (nb * B), vauc, vloss,
                    att, nb * B / dt, eta / 60, eta % 60, better ? "*" : "");
            say(cb, line);
            if (cb && cb->progress) {
                double el = now_s() - a->clock->session_t0, rate = el > 0 ? a->clock->session_images / el : 0;
                pr.kind = 1; pr.batch = nb; pr.loss = loss_sum / (nb * B); pr.val_auc = vauc; pr.val_loss = vloss;
                pr.outside = extra ? (n_masked ? outside_sum / n_masked : 0.0) : NAN;
                pr.improved = better; pr.images_per_s = rate;
                pr.eta_s = sialo_run_clock_eta(a->clock, rate);
                pr.done = a->clock->images_total > 0 ? a->clock->images_done / a->clock->images_total : 0;
                pr.line = line;
                cb->progress(cb->user, &pr);
            }
            int last = !(ep + 1 < st[s].max_epochs && rs.bad < st[s].patience);
            if (a->epoch_done && !(last && s + 1 < nst)) { /* a stage's last epoch: its end is saved below */
                sialo_run_state snap;
                if (snapshot(m, &os, s, ep + 1, &rs, &snap) < 0) goto fail;
                int stop = a->epoch_done(a->user, &snap);
                sialo_run_state_free(&snap);
                if (stop < 0) goto fail;
                if (stop) { *stopped = 1; goto fail; }
            }
        }
        free(need);
        need = NULL;
        /* keep the best weights of the stage */
        for (int t = 0; t < nt; t++) if (os.trainable[t]) memcpy(m->g->tensors[t].data, os.best[t], m->g->tensors[t].count * sizeof(float));
        for (int i = start; i < m->g->n_nodes; i++) if (sialo_model_repack(m, i) < 0) goto fail;
        if (a->epoch_done && s + 1 < nst) {
            run_state next = {s + 1, 0, 0, -1.0, 1e30, rs.step};
            sialo_run_state snap;
            if (snapshot(m, &os, s + 1, 0, &next, &snap) < 0) goto fail;
            int stop = a->epoch_done(a->user, &snap);
            sialo_run_state_free(&snap);
            if (stop < 0) goto fail;
            if (stop) { *stopped = 1; goto fail; }
        }
    }
    snprintf(line, sizeof line, "%s trained in %.1f s (%ld images, %.1f img/s)", a->label, now_s() - t_start, images, images / (now_s() - t_start + 1e-9));
    say(cb, line);
    opt_free(&os, nt);
    free(bc.x); free(pv); free(pb); free(dl); free(yv); free(order); free(bidx);
    free(bc.cells); free(bc.has_mask); free(extra);
    return m;
fail:
    free(need);
    opt_free(&os, nt);
    free(bc.x); free(pv); free(pb); free(dl); free(yv); free(order); free(bidx);
    free(bc.cells); free(bc.has_mask); free(extra);
    sialo_model_free(m);
    return NULL;
}
