/* runtime.c — a loaded model: the optimised graph, weights packed once, a buffer plan, and the
 * forward executor that walks the layers in order and dispatches each to its backend. */
#include "engine/runtime.h"
#include "engine/backend_xnnpack.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void params_of(const sialo_node *n, int cin, conv_params *cp) {
    const int32_t *p = n->p;
    memset(cp, 0, sizeof *cp);
    if (n->op == OP_DENSE) {
        *cp = (conv_params){1, 1, 1, 1, 0, 0, 0, 0, 1, cin, p[PD_COUT], p[PD_ACT]};
        return;
    }
    cp->kh = p[P_KH]; cp->kw = p[P_KW]; cp->sh = p[P_SH]; cp->sw = p[P_SW];
    cp->pt = p[P_PT]; cp->pb = p[P_PB]; cp->pl = p[P_PL]; cp->pr = p[P_PR];
    cp->groups = n->op == OP_CONV ? p[P_GROUPS] : 1;
    cp->cin = cin;
    cp->cout = n->op == OP_CONV ? p[P_COUT] : cin;
    cp->act = n->op == OP_CONV ? p[P_ACT] : 0;
}

static shape4 node_shape(const sialo_graph *g, int i, int batch) {
    const sialo_node *n = &g->nodes[i];
    return (shape4){batch, n->oh, n->ow, n->oc};
}

static void free_exec(sialo_model *m) {
    if (!m->ex) return;
    for (int i = 0; i < m->g->n_nodes; i++) {
        conv_packed_free(&m->ex[i].pk);
        if (m->ex[i].xnn) sialo_xnn_free(m->ex[i].xnn);
    }
    free(m->ex);
    m->ex = NULL;
}

/* plan buffers for a batch: every layer's output gets an offset into one arena */
static int plan(sialo_model *m, int batch) {
    const sialo_graph *g = m->g;
    int nn = g->n_nodes;
    size_t *size = calloc((size_t)nn, sizeof *size), *off = calloc((size_t)nn, sizeof *off);
    int *last = calloc((size_t)nn, sizeof *last);
    if (!size || !off || !last) { free(size); free(off); free(last); return sialo_fail("out of memory planning buffers"); }
    for (int i = 0; i < nn; i++) {
        size[i] = ((size_t)batch * g->nodes[i].oh * g->nodes[i].ow * g->nodes[i].oc + 15) / 16 * 16;
        last[i] = i;
        for (int k = 0; k < g->nodes[i].n_in; k++) last[g->nodes[i].in[k]] = i;
    }
    last[nn - 1] = nn; /* the output stays */
    for (int i = 0; i < nn; i++) if (m->pinned && m->pinned[i]) last[i] = nn;
    size_t total = 0;
    if (m->opt.keep_activations) {
        for (int i = 0; i < nn; i++) { off[i] = total; total += size[i]; }
    } else {
        /* greedy slots: a slot is reusable once its occupant's last consumer has run */
        int ns = 0;
        size_t *slot_size = calloc((size_t)nn, sizeof *slot_size);
        int *slot_owner = calloc((size_t)nn, sizeof *slot_owner), *slot_of = calloc((size_t)nn, sizeof *slot_of);
        if (!slot_size || !slot_owner || !slot_of) {
            free(slot_size); free(slot_owner); free(slot_of); free(size); free(off); free(last);
            return sialo_fail("out of memory planning buffers");
        }
        for (int i = 0; i < nn; i++) {
            int best = -1;
            for (int s = 0; s < ns; s++) {
                if (last[slot_owner[s]] >= i) continue;
                if (best < 0) { best = s; continue; }
                int fits = slot_size[s] >= size[i], bfits = slot_size[best] >= size[i];
                if ((fits && (!bfits || slot_size[s] < slot_size[best])) || (!fits && !bfits && slot_size[s] > slot_size[best])) best = s;
            }
            if (best < 0) best = ns++;
            if (slot_size[best] < size[i]) slot_size[best] = size[i];
            slot_owner[best] = i;
            slot_of[i] = best;
        }
        size_t *slot_off = calloc((size_t)(ns ? ns : 1), sizeof *slot_off);
        if (!slot_off) { free(slot_size); free(slot_owner); free(slot_of); free(size); free(off); free(last); return sialo_fail("out of memory"); }
        for (int s = 0; s < ns; s++) { slot_off[s] = total; total += slot_size[s]; }
        for (int i = 0; i < nn; i++) off[i] = slot_off[slot_of[i]];
        free(slot_off); free(slot_size); free(slot_owner); free(slot_of);
    }
    /* a hostile model could ask for any amount: refuse beyond a sane bound */
    const double limit_mb = sizeof(void *) == 4 ? 1536.0 : 16384.0;
    if ((double)total * 4 / (1 << 20) > limit_mb) {
        free(size); free(off); free(last);
        return sialo_fail("the model needs %.0f MB of activations (limit %.0f MB)", (double)total * 4 / (1 << 20), limit_mb);
    }
    /* the old plan stays valid until the new arena exists */
    float *arena = aligned_alloc(64, (total ? total : 16) * sizeof(float));
    if (!arena) { free(size); free(off); free(last); return sialo_fail("out of memory: %zu MB of activations", total * 4 >> 20); }
    free(m->arena);
    m->arena = arena;
    for (int i = 0; i < nn; i++) m->ex[i].out = m->arena + off[i];
    m->arena_floats = total;
    m->batch = batch;
    free(size); free(off); free(last);
    /* XNNPACK ops are created for a fixed batch and input size */
    if (m->opt.backend == SIALO_BACKEND_XNNPACK) {
        for (int i = 1; i < nn; i++) {
            exec_node *e = &m->ex[i];
            const sialo_node *n = &g->nodes[i];
            if (e->xnn) { sialo_xnn_free(e->xnn); e->xnn = NULL; }
            const float *b = n->n_t > 1 ? g->tensors[n->t[1]].data : NULL;
            if (n->op == OP_CONV)
                e->xnn = sialo_xnn_conv_create(&e->cp, g->tensors[n->t[0]].data, b, node_shape(g, n->in[0], batch));
            else if (n->op == OP_DENSE)
                e->xnn = sialo_xnn_dense_create(e->cp.cin, e->cp.cout, g->tensors[n->t[0]].data, b, e->cp.act, batch);
            else continue;
            if (!e->xnn) return -1;
        }
    }
    return 0;
}

int sialo_model_set_batch(sialo_model *m, int batch) {
    if (batch < 1 || batch > 4096) return sialo_fail("batch %d out of range", batch);
    if (batch == m->batch && m->arena) return 0;
    return plan(m, batch);
}

int sialo_model_repack(sialo_model *m, int i) {
    const sialo_node *n = &m->g->nodes[i];
    exec_node *e = &m->ex[i];
    if (n->op != OP_CONV && n->op != OP_DENSE) return 0;
    const float *b = n->n_t > 1 ? m->g->tensors[n->t[1]].data : NULL;
    if (m->opt.backend == SIALO_BACKEND_OWN) {
        conv_packed_free(&e->pk);
        if (conv_pack(&e->cp, m->g->tensors[n->t[0]].data, b, &e->pk) < 0) return sialo_fail("out of memory packing '%s'", n->name);
    } else if (m->opt.backend == SIALO_BACKEND_XNNPACK) {
        if (e->xnn) sialo_xnn_free(e->xnn);
        e->xnn = n->op == OP_CONV ? sialo_xnn_conv_create(&e->cp, m->g->tensors[n->t[0]].data, b, node_shape(m->g, n->in[0], m->batch))
                                  : sialo_xnn_dense_create(e->cp.cin, e->cp.cout, m->g->tensors[n->t[0]].data, b, e->cp.act, m->batch);
        if (!e->xnn) return -1;
    }
    return 0;
}

int sialo_model_pin(sialo_model *m, int node) {
    if (node < 0 || node >= m->g->n_nodes) return sialo_fail("no such layer");
    if (m->pinned[node]) return 0;
    m->pinned[node] = 1;
    if (plan(m, m->batch) < 0) { m->pinned[node] = 0; return -1; }
    return 0;
}

static sialo_model *model_from_graph(sialo_graph *g, const sialo_options *opt, size_t stored_params, int stored_layers,
                                     sialo_pool *pool) {
    sialo_model *m = sialo_xcalloc(1, sizeof *m);
    if (!m) { sialo_graph_free(g); return NULL; }
    if (opt) m->opt = *opt;
    m->n_members = 1;
    m->g = g;
    m->stored_params = stored_params;
    m->stored_layers = stored_layers;
    if (m->opt.backend == SIALO_BACKEND_XNNPACK && !sialo_xnn_available()) {
        sialo_fail("the XNNPACK backend is not available in this build");
        sialo_model_free(m);
        return NULL;
    }
    if (m->opt.backend < SIALO_BACKEND_OWN || m->opt.backend > SIALO_BACKEND_XNNPACK) {
        sialo_fail("unknown backend %d", (int)m->opt.backend);
        sialo_model_free(m);
        return NULL;
    }
    if (m->opt.training) m->opt.keep_activations = 1;
    if (sialo_graph_optimize_ex(g, m->opt.training) < 0) { sialo_model_free(m); return NULL; }
    int nn = g->n_nodes;
    m->ex = sialo_xcalloc((size_t)nn, sizeof *m->ex);
    m->pinned = sialo_xcalloc((size_t)nn, sizeof *m->pinned);
    if (!m->ex || !m->pinned) { sialo_model_free(m); return NULL; }
    m->shared_pool = pool != NULL;
    m->pool = pool ? pool : sialo_pool_new(m->opt.threads);
    if (!m->pool) { sialo_fail("cannot start threads"); sialo_model_free(m); return NULL; }
    size_t scratch = 0;
    for (int i = 1; i < nn; i++) {
        const sialo_node *n = &g->nodes[i];
        exec_node *e = &m->ex[i];
        const sialo_node *src = &g->nodes[n->in[0]];
        int cin = n->op == OP_DENSE ? src->oh * src->ow * src->oc : src->oc;
        params_of(n, cin, &e->cp);
        if (m->opt.backend == SIALO_BACKEND_OWN && (n->op == OP_CONV || n->op == OP_DENSE)) {
            const float *b = n->n_t > 1 ? g->tensors[n->t[1]].data : NULL;
            if (conv_pack(&e->cp, g->tensors[n->t[0]].data, b, &e->pk) < 0) {
                sialo_fail("out of memory packing '%s'", n->name);
                sialo_model_free(m);
                return NULL;
            }
            size_t s = conv_scratch_floats(&e->cp, &e->pk);
            if (s > scratch) scratch = s;
        }
    }
    m->scratch_per_part = (scratch + 15) / 16 * 16;
    if (scratch) {
        m->scratch = aligned_alloc(64, m->scratch_per_part * (size_t)sialo_pool_size(m->pool) * sizeof(float));
        if (!m->scratch) { sialo_fail("out of memory"); sialo_model_free(m); return NULL; }
    }
    if (plan(m, 1) < 0) { sialo_model_free(m); return NULL; }
    return m;
}

sialo_model *sialo_model_from_graph_pool(sialo_graph *g, const sialo_options *opt, sialo_pool *pool) {
    size_t params = sialo_graph_param_count(g);
    return model_from_graph(g, opt, params, g->n_nodes, pool);
}

int sialo_score_node(const sialo_graph *g) {
    int last = g->n_nodes - 1;
    const sialo_node *o = &g->nodes[last];
    if ((o->op == OP_SIGMOID || o->op == OP_SOFTMAX) && o->n_in == 1) return o->in[0];
    return last;
}

void sialo_model_free(sialo_model *m) {
    if (!m) return;
    sialo_model_free(m->box_model); /* before the pool it runs on */
    sialo_graph_free(m->box_graph);
    free(m->box_file);
    for (int k = 1; m->member && k < m->n_members; k++) sialo_model_free(m->member[k]); /* before the pool they run on */
    free(m->member);
    sialo_graph_free(m->meta);
    if (m->g) free_exec(m);
    sialo_graph_free(m->g);
    if (!m->shared_pool) sialo_pool_free(m->pool);
    free(m->arena);
    free(m->scratch);
    free(m->pinned);
    free(m->grad_arena);
    free(m->dy);
    free(m->prof_ms);
    free(m->prof_bw_ms);
    free(m->prof_bw_macs);
    free(m);
}

/* ------------------------------------------------------------------ forward */
/* inverted dropout with a counter-based mask: the same for a given seed whatever the threads */
static uint64_t mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static void dropout_forward(const float *x, size_t n, float rate, uint64_t seed, float *y) {
    float keep = 1.0f - rate, inv = 1.0f / keep;
    for (size_t i = 0; i < n; i++) {
        float u = (float)((mix64(seed ^ mix64(i + 1)) >> 40) * (1.0 / 16777216.0));
        y[i] = u < keep ? x[i] * inv : 0.0f;
    }
}

typedef struct {
    sialo_model *m;
    int i;
} task_ctx;

static void run_part(void *arg, int part, int nparts) {
    task_ctx *t = arg;
    sialo_model *m = t->m;
    const sialo_node *n = &m->g->nodes[t->i];
    exec_node *e = &m->ex[t->i];
    const float *x = m->ex[n->in[0]].out;
    shape4 xs = node_shape(m->g, n->in[0], m->batch), ys = node_shape(m->g, t->i, m->batch);
    switch (n->op) {
    case OP_CONV:
        conv_forward(&e->cp, &e->pk, x, xs, e->out, ys, m->scratch + (size_t)part * m->scratch_per_part, part, nparts);
        break;
    case OP_DENSE:
        dense_forward(&e->pk, x, m->batch, e->cp.cin, e->cp.cout, e->cp.act, e->out, part, nparts);
        break;
    case OP_MAXPOOL: maxpool_forward(&e->cp, x, xs, e->out, ys, part, nparts); break;
    case OP_AVGPOOL: avgpool_forward(&e->cp, x, xs, e->out, ys, part, nparts); break;
    default: break;
    }
}

static int forward_node(sialo_model *m, int i) {
    const sialo_graph *g = m->g;
    const sialo_node *n = &g->nodes[i];
    exec_node *e = &m->ex[i];
    const float *x = m->ex[n->in[0]].out;
    shape4 xs = node_shape(g, n->in[0], m->batch), ys = node_shape(g, i, m->batch);
    size_t count = shape_count(ys);
    int ref = m->opt.backend == SIALO_BACKEND_REF;
    switch (n->op) {
    case OP_CONV:
    case OP_DENSE:
        if (m->opt.backend == SIALO_BACKEND_XNNPACK) {
            if (sialo_xnn_run(e->xnn, x, e->out, sialo_pool_size(m->pool)) < 0) return -1;
        } else if (ref) {
            const float *w = g->tensors[n->t[0]].data, *b = n->n_t > 1 ? g->tensors[n->t[1]].data : NULL;
            if (n->op == OP_CONV) conv_forward_ref(&e->cp, x, xs, w, b, e->out, ys);
            else dense_forward_ref(x, m->batch, e->cp.cin, w, b, e->cp.cout, e->cp.act, e->out);
        } else {
            task_ctx t = {m, i};
            /* a fork-join costs microseconds: small layers run on one thread */
            double macs = (double)count * (n->op == OP_DENSE ? e->cp.cin : (double)e->cp.kh * e->cp.kw * (e->cp.cin / e->cp.groups));
            if (macs < 1e5 * sialo_pool_size(m->pool)) run_part(&t, 0, 1);
            else sialo_pool_run(m->pool, run_part, &t);
        }
        break;
    case OP_MAXPOOL:
    case OP_AVGPOOL:
        if (ref) (n->op == OP_MAXPOOL ? maxpool_forward_ref : avgpool_forward_ref)(&e->cp, x, xs, e->out, ys);
        else { task_ctx t = {m, i}; sialo_pool_run(m->pool, run_part, &t); }
        break;
    case OP_GAP: (ref ? gap_forward_ref : gap_forward)(x, xs, e->out); break;
    case OP_ADD: (ref ? add_forward_ref : add_forward)(x, m->ex[n->in[1]].out, count, n->p[0], e->out); break;
    case OP_AFFINE:
        (ref ? affine_forward_ref : affine_forward)(x, count / (size_t)ys.c, ys.c, g->tensors[n->t[0]].data,
                                                    g->tensors[n->t[1]].data, n->p[0], e->out);
        break;
    case OP_BATCHNORM: return sialo_fail("internal: batch norm left after optimisation");
    case OP_RELU: (ref ? act_forward_ref : act_forward)(x, count, ACT_RELU, e->out); break;
    case OP_RELU6: (ref ? act_forward_ref : act_forward)(x, count, ACT_RELU6, e->out); break;
    case OP_PAD: pad_forward(x, xs, n->p[P_PT], n->p[P_PB], n->p[P_PL], n->p[P_PR], e->out); break;
    case OP_SIGMOID: sigmoid_forward(x, count, e->out); break;
    case OP_SOFTMAX: softmax_forward(x, count / (size_t)ys.c, ys.c, e->out); break;
    case OP_DROPOUT:
        if (m->training_step) dropout_forward(x, count, sialo_bits_to_f32(n->p[P_RATE_BITS]), m->training_step * 0x9E3779B97F4A7C15ull + (uint64_t)i, e->out);
        else memcpy(e->out, x, count * sizeof(float));
        break;
    default: return sialo_fail("internal: cannot run op %d", n->op);
    }
    return 0;
}

int sialo_forward_batch(sialo_model *m, const float *input, float *out) {
    const sialo_graph *g = m->g;
    memcpy(m->ex[0].out, input, (size_t)m->batch * g->in_h * g->in_w * g->in_c * sizeof(float));
    if (m->prof_ms) {
        for (int i = 1; i < g->n_nodes; i++) {
            double t0 = sialo_now_ms();
            if (forward_node(m, i) < 0) return -1;
            m->prof_ms[i] += sialo_now_ms() - t0;
        }
        m->prof_runs++;
    } else
        for (int i = 1; i < g->n_nodes; i++)
            if (forward_node(m, i) < 0) return -1;
    const sialo_node *o = &g->nodes[g->n_nodes - 1];
    if (out) memcpy(out, m->ex[g->n_nodes - 1].out, (size_t)m->batch * o->oh * o->ow * o->oc * sizeof(float));
    return 0;
}

const float *sialo_activation(sialo_model *m, const char *layer, int shape[4]) {
    if (m->n_members > 1)
        return sialo_fail_null("the model is an ensemble of %d networks: read a layer of one of the networks it was built from",
                               m->n_members);
    int i = sialo_graph_find_node(m->g, layer);
    if (i < 0) return NULL;
    if (!m->opt.keep_activations && i != m->g->n_nodes - 1 && !m->pinned[i])
        return sialo_fail_null("layer '%s' is not kept: load the model with keep_activations", layer);
    const sialo_node *n = &m->g->nodes[i];
    if (shape) { shape[0] = m->batch; shape[1] = n->oh; shape[2] = n->ow; shape[3] = n->oc; }
    return m->ex[i].out;
}

size_t sialo_output_size(const sialo_model *m) {
    const sialo_node *o = &m->g->nodes[m->g->n_nodes - 1];
    return (size_t)o->oh * o->ow * o->oc;
}
