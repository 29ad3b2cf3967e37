/* train.c — `sialoscan train`: transfer learning with fine-tuning and gradual unfreezing
 * (Cheng & Chiang 2023), and the comparisons the paper made, natively on all cores.
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
#include "train/train.h"
#include "engine/calibration.h"
#include "train/dataset.h"
#include "base/metrics.h"
#include "engine/runtime.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>

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

/* ------------------------------------------------------------------ model preparation */
static int has_weights(const sialo_node *n) { return n->op == OP_CONV || n->op == OP_DENSE || n->op == OP_AFFINE || n->op == OP_BATCHNORM; }

/* cut a backbone at the feature map feeding its (first) global pool and add the binary head */
static sialo_graph *prepare_graph(const sialo_train_opts *o, uint64_t seed) {
    sialo_graph *g;
    if (o->backbone) {
        FILE *f = fopen(o->backbone, "rb");
        if (!f) return sialo_fail_null("cannot open backbone '%s': %s", o->backbone, strerror(errno));
        fseek(f, 0, SEEK_END);
        long sz = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = sz > 0 ? malloc((size_t)sz) : NULL;
        if (!buf || fread(buf, 1, (size_t)sz, f) != (size_t)sz) { fclose(f); free(buf); return sialo_fail_null("cannot read backbone '%s'", o->backbone); }
        fclose(f);
        g = sialo_graph_read(buf, (size_t)sz);
        free(buf);
        if (!g) return NULL;
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
static int stage_start(const sialo_model *m, const sialo_stage *st) {
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

static int save_state(const char *prefix, sialo_model *m, int stage, int epoch, double best_auc, double best_loss,
                      int bad, uint64_t step, opt_state *os) {
    char path[4096];
    snprintf(path, sizeof path, "%s.sialo", prefix);
    if (sialo_graph_write_file(m->g, 32, path) < 0) return -1;
    snprintf(path, sizeof path, "%s.best", prefix);
    FILE *f = fopen(path, "wb");
    if (!f) return sialo_fail("cannot write checkpoint '%s'", path);
    for (int t = 0; t < m->g->n_tensors; t++)
        if (os->trainable[t]) {
            fwrite(os->best[t], sizeof(float), m->g->tensors[t].count, f);
            fwrite(os->m[t], sizeof(float), m->g->tensors[t].count, f);
            fwrite(os->v[t], sizeof(float), m->g->tensors[t].count, f);
        }
    fclose(f);
    snprintf(path, sizeof path, "%s.state", prefix);
    f = fopen(path, "w");
    if (!f) return sialo_fail("cannot write checkpoint '%s'", path);
    fprintf(f, "%d %d %.17g %.17g %d %llu\n", stage, epoch, best_auc, best_loss, bad, (unsigned long long)step);
    fclose(f);
    return 0;
}

typedef struct { int stage, epoch, bad; double best_auc, best_loss; uint64_t step; } run_state;

static int load_state(const char *prefix, run_state *rs) {
    char path[4096];
    snprintf(path, sizeof path, "%s.state", prefix);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    unsigned long long step;
    int ok = fscanf(f, "%d %d %lg %lg %d %llu", &rs->stage, &rs->epoch, &rs->best_auc, &rs->best_loss, &rs->bad, &step) == 6;
    fclose(f);
    rs->step = step;
    return ok ? 1 : 0;
}

static int restore_weights(const char *prefix, sialo_model *m) {
    char path[4096];
    snprintf(path, sizeof path, "%s.sialo", prefix);
    FILE *f = fopen(path, "rb");
    if (!f) return sialo_fail("cannot resume: '%s' is missing", path);
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = malloc((size_t)sz);
    size_t got = buf ? fread(buf, 1, (size_t)sz, f) : 0;
    fclose(f);
    sialo_graph *g = got == (size_t)sz ? sialo_graph_read(buf, (size_t)sz) : NULL;
    free(buf);
    if (!g) return sialo_fail("cannot resume from '%s': %s", path, sialo_error());
    int rc = 0;
    if (g->n_tensors != m->g->n_tensors) rc = sialo_fail("checkpoint '%s' does not match this model", path);
    for (int t = 0; rc == 0 && t < g->n_tensors; t++) {
        if (g->tensors[t].count != m->g->tensors[t].count) { rc = sialo_fail("checkpoint '%s' does not match this model", path); break; }
        memcpy(m->g->tensors[t].data, g->tensors[t].data, g->tensors[t].count * sizeof(float));
    }
    sialo_graph_free(g);
    for (int i = 1; rc == 0 && i < m->g->n_nodes; i++) rc = sialo_model_repack(m, i);
    return rc;
}

static int restore_aux(const char *prefix, sialo_model *m, opt_state *os) {
    char path[4096];
    snprintf(path, sizeof path, "%s.best", prefix);
    FILE *f = fopen(path, "rb");
    if (!f) return sialo_fail("cannot resume: '%s' is missing", path);
    int ok = 1;
    for (int t = 0; t < m->g->n_tensors; t++)
        if (os->trainable[t]) {
            size_t c = m->g->tensors[t].count;
            ok &= fread(os->best[t], sizeof(float), c, f) == c;
            ok &= fread(os->m[t], sizeof(float), c, f) == c;
            ok &= fread(os->v[t], sizeof(float), c, f) == c;
        }
    fclose(f);
    return ok ? 0 : sialo_fail("checkpoint '%s' is truncated", path);
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

/* trains on train_idx with early stopping on val_idx; returns the model (best weights) */
static sialo_model *train_run(const sialo_train_opts *o, const sialo_dataset *d, const int *tr, int ntr, const int *va, int nva,
                              const sialo_stage *st, int nst, const char *label, const char *ckpt) {
    uint64_t seed = o->seed;
    sialo_graph *g = prepare_graph(o, seed);
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
    int resumed = 0;
    if (ckpt && o->resume && load_state(ckpt, &rs)) resumed = 1;
    if (resumed && restore_weights(ckpt, m) < 0) goto fail;
    double t_start = now_s();
    long images = 0;
    for (int s = rs.stage; s < nst; s++) {
        int start = stage_start(m, &st[s]);
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
        int *need = sialo_backward_need(m, os.trainable, -1);
        if (!need) goto fail;
        int e0 = 0;
        if (resumed && s == rs.stage) {
            e0 = rs.epoch;
            if (restore_aux(ckpt, m, &os) < 0) { free(need); goto fail; }
        } else {
            rs.best_auc = -1.0; rs.best_loss = 1e30; rs.bad = 0;
        }
        resumed = 0;
        long adam_t = (long)e0 * (ntr / B);
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
            int nb = ntr / B, n_masked = 0;
            if (nb == 0) nb = 1;
            for (int b = 0; b < nb; b++) {
                for (int k = 0; k < B; k++) bidx[k] = order[(b * B + k) % ntr];
                rs.step++;
                bc.idx = bidx; bc.count = B; bc.augment = 1;
                bc.seed = seed ^ (rs.step * 0xD1B54A32D192ED03ull);
                sialo_pool_run(bc.pool, make_batch_part, &bc);
                m->training_step = rs.step;
                if (sialo_forward_batch(m, bc.x, pb) < 0) { free(need); goto fail; }
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
                if (sialo_backward_extra(m, logit, dl, need, os.grad, have_extra ? feat : -1, have_extra ? extra : NULL) < 0) { free(need); goto fail; }
                /* AdamW */
                adam_t++;
                double b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, (double)adam_t), c2 = 1 - pow(b2, (double)adam_t);
                float lr = st[s].lr;
                for (int t = 0; t < nt; t++) {
                    if (!os.trainable[t]) continue;
                    sialo_tensor *T = &m->g->tensors[t];
                    float decay = T->ndim >= 2 ? o->weight_decay : 0.0f;
                    float *w = T->data, *g1 = os.grad[t], *mm = os.m[t], *vv = os.v[t];
                    for (size_t k = 0; k < T->count; k++) {
                        mm[k] = (float)(b1 * mm[k] + (1 - b1) * g1[k]);
                        vv[k] = (float)(b2 * vv[k] + (1 - b2) * (double)g1[k] * g1[k]);
                        double mh = mm[k] / c1, vh = vv[k] / c2;
                        w[k] -= (float)(lr * (mh / (sqrt(vh) + 1e-7) + decay * w[k]));
                    }
                }
                for (int i = start; i < m->g->n_nodes; i++)
                    if (sialo_model_repack(m, i) < 0) { free(need); goto fail; }
                images += B;
            }
            m->training_step = 0;
            /* validation */
            double vauc = NAN, vloss = NAN;
            if (nva > 0) {
                if (predict(m, &bc, va, nva, B, pv) < 0) { free(need); goto fail; }
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
            if (rs.bad >= st[s].patience) eta = 0;
            char att[48] = "";
            if (extra) snprintf(att, sizeof att, "  outside %.3f", n_masked ? outside_sum / n_masked : 0.0);
            fprintf(stderr, "%s stage %d/%d %-6s (%s, lr %.0e) epoch %2d/%d  loss %.4f  val_auc %.4f  val_loss %.4f%s  %5.1f img/s  "
                            "stage ETA <= %dm%02ds %s\n",
                    label, s + 1, nst, st[s].name, st[s].unfreeze, st[s].lr, ep + 1, st[s].max_epochs, loss_sum / (nb * B), vauc, vloss,
                    att, nb * B / dt, eta / 60, eta % 60, better ? "*" : "");
            fflush(stderr);
            if (ckpt) {
                int next_ep = ep + 1, next_stage = s;
                if (save_state(ckpt, m, next_stage, next_ep, rs.best_auc, rs.best_loss, rs.bad, rs.step, &os) < 0) { free(need); goto fail; }
            }
        }
        free(need);
        /* keep the best weights of the stage */
        for (int t = 0; t < nt; t++) if (os.trainable[t]) memcpy(m->g->tensors[t].data, os.best[t], m->g->tensors[t].count * sizeof(float));
        for (int i = start; i < m->g->n_nodes; i++) if (sialo_model_repack(m, i) < 0) goto fail;
        if (ckpt && s + 1 < nst) {
            rs.bad = 0;
            if (save_state(ckpt, m, s + 1, 0, -1.0, 1e30, 0, rs.step, &os) < 0) goto fail;
        }
    }
    fprintf(stderr, "%s trained in %.1f s (%ld images, %.1f img/s)\n", label, now_s() - t_start, images, images / (now_s() - t_start + 1e-9));
    opt_free(&os, nt);
    free(bc.x); free(pv); free(pb); free(dl); free(yv); free(order); free(bidx);
    free(bc.cells); free(bc.has_mask); free(extra);
    return m;
fail:
    opt_free(&os, nt);
    free(bc.x); free(pv); free(pb); free(dl); free(yv); free(order); free(bidx);
    free(bc.cells); free(bc.has_mask); free(extra);
    sialo_model_free(m);
    return NULL;
}

/* ------------------------------------------------------------------ splits and the driver */
/* an inner validation split of idx (group-aware, stratified): every k-th fold */
static void inner_split(const sialo_dataset *d, const int *idx, int n, float frac, uint64_t seed, int *tr, int *ntr, int *va, int *nva) {
    int k = frac > 0 ? (int)(1.0f / frac + 0.5f) : 0;
    *ntr = *nva = 0;
    if (k < 2) { memcpy(tr, idx, (size_t)n * sizeof *idx); *ntr = n; return; }
    int *fold = malloc((size_t)n * sizeof *fold);
    sialo_dataset_folds(d, idx, n, k, seed ^ 0xABCDEF, fold);
    for (int i = 0; i < n; i++) { if (fold[i] == 0) va[(*nva)++] = idx[i]; else tr[(*ntr)++] = idx[i]; }
    free(fold);
}

/* JSON numbers: an undefined ratio (0/0, e.g. PPV with no positive call) is null, not "nan" */
static void jnum(FILE *f, const char *key, double v, int first) {
    if (isnan(v)) fprintf(f, "%s\"%s\":null", first ? "" : ",", key);
    else fprintf(f, "%s\"%s\":%.4f", first ? "" : ",", key, v);
}

static void print_metrics(FILE *f, const char *prefix, const sialo_metrics *mt) {
    fprintf(f, "%s\"n\":%d", prefix, mt->n);
    jnum(f, "accuracy", mt->accuracy, 0);
    jnum(f, "sensitivity", mt->sensitivity, 0);
    jnum(f, "specificity", mt->specificity, 0);
    jnum(f, "ppv", mt->ppv, 0);
    jnum(f, "npv", mt->npv, 0);
    jnum(f, "auc", mt->auc, 0);
    fprintf(f, ",\"tp\":%d,\"fp\":%d,\"tn\":%d,\"fn\":%d", mt->tp, mt->fp, mt->tn, mt->fn);
}

/* Youden's J on pooled out-of-fold predictions: the threshold maximising sensitivity + specificity */
static float youden_threshold(const float *p, const int *y, int n) {
    float best_t = 0.5f;
    double best = -1;
    for (int i = 0; i < n; i++) {
        sialo_metrics mt;
        sialo_metrics_compute(p, y, n, p[i], &mt);
        double j = mt.sensitivity + mt.specificity - 1;
        if (j > best + 1e-12) { best = j; best_t = p[i]; }
    }
    return best_t;
}

/* CRC-32 (IEEE, as zlib) of a whole file; 0 and *ok = 0 if unreadable */
static uint32_t file_crc32(const char *path, int *ok) {
    *ok = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    if (fseek(f, 0, SEEK_END) != 0) { fclose(f); return 0; }
    long sz = ftell(f);
    if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) { fclose(f); return 0; }
    uint8_t *b = malloc(sz ? (size_t)sz : 1);
    uint32_t c = 0;
    if (b && fread(b, 1, (size_t)sz, f) == (size_t)sz) { c = sialo_crc32(b, (size_t)sz); *ok = 1; }
    free(b);
    fclose(f);
    return c;
}

static void load_progress(int done, int total) {
    if (done % 50 == 0 || done == total) fprintf(stderr, "\rdecoding and caching images %d/%d%s", done, total, done == total ? "\n" : "");
}

int sialo_train(const sialo_train_opts *o) {
    sialo_stage st[SIALO_MAX_STAGES];
    int nst;
    const char *arch = o->backbone ? NULL : (o->arch ? o->arch : "smallcnn");
    if (o->schedule) {
        FILE *f = fopen(o->schedule, "r");
        if (!f) return sialo_fail("cannot open schedule '%s'", o->schedule);
        char text[8192];
        size_t k = fread(text, 1, sizeof text - 1, f);
        fclose(f);
        text[k] = 0;
        nst = sialo_schedule_parse(text, st, SIALO_MAX_STAGES);
    } else {
        /* the backbone's architecture picks the default */
        char a[64] = "";
        if (o->backbone) {
            sialo_model *tmp = sialo_model_load_file(o->backbone, NULL);
            if (!tmp) return -1;
            snprintf(a, sizeof a, "%s", tmp->g->arch);
            sialo_model_free(tmp);
        }
        nst = sialo_schedule_default(o->method ? o->method : (o->backbone ? "gradual" : "scratch"), o->backbone ? a : arch, st, SIALO_MAX_STAGES);
    }
    if (nst < 0) return -1;
    int side = o->input;
    if (!side) {
        if (o->backbone) {
            sialo_model *tmp = sialo_model_load_file(o->backbone, NULL);
            if (!tmp) return -1;
            side = tmp->g->in_h;
            sialo_model_free(tmp);
        } else side = 224;
    }
    const char *calib = o->calibration ? o->calibration : "platt";
    if (strcmp(calib, "platt") && strcmp(calib, "temperature") && strcmp(calib, "none"))
        return sialo_fail("unknown calibration '%s' (platt, temperature, none)", calib);
    sialo_train_opts oo = *o;
    oo.input = side;
    if (oo.batch < 1) oo.batch = 16;
    if (o->checkpoint) mkdir(o->checkpoint, 0755);
    double t0 = now_s();
    sialo_dataset d;
    if (sialo_dataset_load(&d, o->data_dir, side, o->threads, load_progress) < 0) return -1;
    int *all = malloc((size_t)d.n * sizeof *all), n = 0, excluded = 0;
    for (int i = 0; i < d.n; i++) {
        if (d.s[i].conflict && !o->include_conflicts) { excluded++; continue; }
        all[n++] = i;
    }
    fprintf(stderr, "data: %d images (%d excluded as label conflicts, %d unreadable), %d near-duplicate groups\n", n, excluded, d.unreadable, d.n_groups);
    if (o->masks) {
        int with = sialo_dataset_load_masks(&d, o->data_dir, o->threads);
        if (with < 0) { free(all); sialo_dataset_free(&d); return -1; }
        if (with == 0) {
            free(all);
            sialo_dataset_free(&d);
            return sialo_fail("--masks: no lesion masks found in '%s'/masks/<class>/ (expected <frame>-mask.png beside each frame's class)", o->data_dir);
        }
        fprintf(stderr, "guided attention: %d of %d frames have lesion masks (weight %g)\n", with, d.n, o->attention_weight);
    }
    int rc = 0;
    float *oof = NULL;
    int *oofy = NULL;
    if (o->cv > 1) {
        int K = o->cv;
        int *fold = malloc((size_t)n * sizeof *fold), *tr = malloc((size_t)n * sizeof *tr), *te = malloc((size_t)n * sizeof *te);
        int *itr = malloc((size_t)n * sizeof *itr), *iva = malloc((size_t)n * sizeof *iva);
        oof = malloc((size_t)n * sizeof *oof);
        oofy = malloc((size_t)n * sizeof *oofy);
        sialo_dataset_folds(&d, all, n, K, o->fold_seed ? o->fold_seed : o->seed, fold);
        sialo_metrics fm[32];
        for (int k = 0; k < K && rc == 0; k++) {
            int ntr = 0, nte = 0, nitr, niva;
            for (int i = 0; i < n; i++) { if (fold[i] == k) te[nte++] = all[i]; else tr[ntr++] = all[i]; }
            inner_split(&d, tr, ntr, o->val_fraction, o->seed + (uint64_t)k, itr, &nitr, iva, &niva);
            char label[64], ck[4096], predpath[4096];
            snprintf(label, sizeof label, "[fold %d/%d]", k + 1, K);
            snprintf(ck, sizeof ck, "%s/fold%d", o->checkpoint ? o->checkpoint : ".", k + 1);
            snprintf(predpath, sizeof predpath, "%s/fold%d.pred", o->checkpoint ? o->checkpoint : ".", k + 1);
            float *pte = malloc((size_t)(nte ? nte : 1) * sizeof *pte);
            int *yte = malloc((size_t)(nte ? nte : 1) * sizeof *yte);
            for (int i = 0; i < nte; i++) yte[i] = d.s[te[i]].label;
            int have = 0;
            if (o->checkpoint && o->resume) { /* a finished fold is not run again */
                FILE *f = fopen(predpath, "rb");
                if (f) { have = fread(pte, sizeof(float), (size_t)nte, f) == (size_t)nte; fclose(f); }
            }
            if (!have) {
                fprintf(stderr, "%s train %d (inner validation %d), test %d\n", label, nitr, niva, nte);
                sialo_model *m = train_run(&oo, &d, itr, nitr, iva, niva, st, nst, label, o->checkpoint ? ck : NULL);
                if (!m) { rc = -1; free(pte); free(yte); break; }
                if (o->checkpoint) { /* the fold's model (best weights): Grad-CAM and error analysis on its test fold */
                    char mp[4096];
                    snprintf(mp, sizeof mp, "%s/fold%d.model.sialo", o->checkpoint, k + 1);
                    if (sialo_graph_write_file(m->g, 32, mp) < 0) fprintf(stderr, "sialoscan: warning: %s\n", sialo_error());
                }
                batch_ctx bc = {0};
                bc.o = &oo; bc.d = &d; bc.pool = m->pool; bc.in_floats = (size_t)side * side * 3;
                memcpy(bc.nrm.scale, m->g->norm_scale, sizeof bc.nrm.scale);
                memcpy(bc.nrm.bias, m->g->norm_bias, sizeof bc.nrm.bias);
                bc.x = malloc(bc.in_floats * (size_t)oo.batch * sizeof(float));
                rc = predict(m, &bc, te, nte, oo.batch, pte);
                free(bc.x);
                sialo_model_free(m);
                if (rc == 0 && o->checkpoint) {
                    FILE *f = fopen(predpath, "wb");
                    if (f) { fwrite(pte, sizeof(float), (size_t)nte, f); fclose(f); }
                }
            }
            if (rc == 0) {
                sialo_metrics_compute(pte, yte, nte, 0.5f, &fm[k]);
                printf("{\"fold\":%d,", k + 1);
                print_metrics(stdout, "", &fm[k]);
                printf(",\"threshold\":0.5}\n");
                fflush(stdout);
                int j = 0;
                for (int i = 0; i < n; i++) if (fold[i] == k) { oof[i] = pte[j]; oofy[i] = yte[j]; j++; }
            }
            free(pte); free(yte);
        }
        if (rc == 0) {
            /* mean and sd over folds, and the pooled out-of-fold figures */
            double mean[6] = {0}, sd[6] = {0};
            for (int k = 0; k < K; k++) {
                double v[6] = {fm[k].accuracy, fm[k].auc, fm[k].sensitivity, fm[k].specificity, fm[k].ppv, fm[k].npv};
                for (int q = 0; q < 6; q++) mean[q] += v[q] / K;
            }
            for (int k = 0; k < K; k++) {
                double v[6] = {fm[k].accuracy, fm[k].auc, fm[k].sensitivity, fm[k].specificity, fm[k].ppv, fm[k].npv};
                for (int q = 0; q < 6; q++) sd[q] += (v[q] - mean[q]) * (v[q] - mean[q]) / (K > 1 ? K - 1 : 1);
            }
            static const char *const names[6] = {"accuracy", "auc", "sensitivity", "specificity", "ppv", "npv"};
            printf("{\"cv\":%d,\"method\":\"%s\",\"seed\":%llu", K, o->method ? o->method : (o->backbone ? "gradual" : "scratch"), (unsigned long long)o->seed);
            for (int q = 0; q < 6; q++) {
                char km[32], ks[32];
                snprintf(km, sizeof km, "%s_mean", names[q]);
                snprintf(ks, sizeof ks, "%s_sd", names[q]);
                jnum(stdout, km, mean[q], 0);
                jnum(stdout, ks, sqrt(sd[q]), 0);
            }
            float thr = youden_threshold(oof, oofy, n);
            sialo_metrics pooled;
            sialo_metrics_compute(oof, oofy, n, thr, &pooled);
            printf(",\"youden_threshold\":%.4f,\"pooled_at_youden\":{", thr);
            print_metrics(stdout, "", &pooled);
            printf("}}\n");
            fflush(stdout);
            if (o->predictions) {
                FILE *f = fopen(o->predictions, "w");
                if (f) {
                    fprintf(f, "path,label,fold,p_malignant\n");
                    for (int i = 0; i < n; i++) fprintf(f, "%s,%d,%d,%.6f\n", d.s[all[i]].path, oofy[i], fold[i] + 1, oof[i]);
                    fclose(f);
                }
            }
        }
        free(fold); free(tr); free(te); free(itr); free(iva);
    }
    if (rc == 0 && o->out) {
        int *itr = malloc((size_t)n * sizeof *itr), *iva = malloc((size_t)n * sizeof *iva), nitr, niva;
        inner_split(&d, all, n, o->val_fraction, o->seed, itr, &nitr, iva, &niva);
        char ck[4096];
        snprintf(ck, sizeof ck, "%s/final", o->checkpoint ? o->checkpoint : ".");
        fprintf(stderr, "[final] train %d (inner validation %d)\n", nitr, niva);
        sialo_model *m = train_run(&oo, &d, itr, nitr, iva, niva, st, nst, "[final]", o->checkpoint ? ck : NULL);
        if (!m) rc = -1;
        else {
            float thr = 0.5f;
            if (oof) thr = youden_threshold(oof, oofy, n);
            m->g->threshold = thr;
            char prov[2048], from[600], data[300];
            time_t now = time(NULL);
            char date[32];
            strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
            /* the backbone and the data by name and checksum only: never a path of the training machine */
            if (o->backbone) {
                char bn[256];
                int ok;
                uint32_t crc = file_crc32(o->backbone, &ok);
                sialo_path_base(o->backbone, bn, sizeof bn);
                if (ok) snprintf(from, sizeof from, "backbone %s (CRC-32 of the file %08x)", bn, crc);
                else snprintf(from, sizeof from, "backbone %s", bn);
            } else snprintf(from, sizeof from, "random weights");
            sialo_path_base(o->data_dir, data, sizeof data);
            snprintf(prov, sizeof prov,
                     "trained %s by sialoscan train: method %s, %d stages, from %s, data folder %s (%d images, label conflicts %s), "
                     "input %d, batch %d, seed %llu, %sthreshold %.4f (%s)",
                     date, o->method ? o->method : (o->backbone ? "gradual" : "scratch"), nst, from,
                     data, n, o->include_conflicts ? "included" : "excluded", side, oo.batch, (unsigned long long)o->seed,
                     o->masks ? "guided attention on lesion masks, " : "", thr,
                     oof ? "Youden's J on the pooled out-of-fold predictions" : "default 0.5");
            sialo_graph_set_text(&m->g->provenance, prov);
            m->g->calib_a = 1.0f;
            m->g->calib_b = 0.0f;
            /* calibration of the final model on the pooled out-of-fold predictions (raw p): the
               threshold moves with it, so the operating point stays */
            if (oof && strcmp(calib, "none")) {
                double *pd = malloc((size_t)n * sizeof *pd), a, b;
                int mth = !strcmp(calib, "temperature") ? SIALO_CALIB_TEMPERATURE : SIALO_CALIB_PLATT;
                for (int i = 0; pd && i < n; i++) pd[i] = oof[i];
                if (!pd || sialo_calib_fit(pd, oofy, n, (sialo_calib_method)mth, &a, &b) < 0) {
                    fprintf(stderr, "sialoscan: warning: the final model is left uncalibrated: %s\n", sialo_error());
                } else {
                    char how[600], source[128];
                    snprintf(source, sizeof source, "the %d pooled out-of-fold predictions by sialoscan train", n);
                    sialo_calib_describe(how, sizeof how, (sialo_calib_method)mth, a, b, source);
                    if (sialo_calib_set(m->g, a, b, how) < 0) rc = -1;
                    else {
                        double *pc = malloc((size_t)n * sizeof *pc);
                        for (int i = 0; pc && i < n; i++) pc[i] = sialo_calib_apply(m->g->calib_a, m->g->calib_b, pd[i]);
                        if (pc)
                            printf("{\"calibration\":\"%s\",\"n\":%d,\"a\":%.9g,\"b\":%.9g,\"threshold_raw\":%.9g,\"threshold\":%.9g,"
                                   "\"brier_before\":%.6f,\"brier_after\":%.6f,\"ece_before\":%.6f,\"ece_after\":%.6f}\n",
                                   calib, n, m->g->calib_a, m->g->calib_b, thr, m->g->threshold, sialo_brier(pd, oofy, n),
                                   sialo_brier(pc, oofy, n), sialo_ece(pd, oofy, n), sialo_ece(pc, oofy, n));
                        fflush(stdout);
                        free(pc);
                    }
                }
                free(pd);
            }
            if (rc == 0) {
                if (sialo_graph_write_file(m->g, o->storage_bits ? o->storage_bits : 16, o->out) < 0) rc = -1;
                else fprintf(stderr, "wrote %s\n", o->out);
            }
            sialo_model_free(m);
        }
        free(itr); free(iva);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "total time %.1f s, peak memory %.0f MB\n", now_s() - t0, ru.ru_maxrss / 1024.0);
    free(oof); free(oofy); free(all);
    sialo_dataset_free(&d);
    return rc;
}
