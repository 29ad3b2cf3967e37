/* backward.c — gradients through the graph: the reverse walk that calls each layer's backward
 * (the ops directory), for the trainer (parameter gradients) and for Grad-CAM (the gradient of a logit
 * with respect to a feature map). Images of the batch are split between threads; each thread
 * accumulates parameter gradients privately and they are summed in a fixed order. */
#include "engine/runtime.h"

#include <stdlib.h>
#include <string.h>

static size_t out_size(const sialo_graph *g, int i) {
    const sialo_node *n = &g->nodes[i];
    return (size_t)n->oh * n->ow * n->oc;
}

int *sialo_backward_need(const sialo_model *m, const int *trainable_tensor, int target_node) {
    const sialo_graph *g = m->g;
    int nn = g->n_nodes;
    int *up = sialo_xcalloc((size_t)nn, sizeof *up);
    if (!up) return NULL;
    for (int i = 0; i < nn; i++) {
        const sialo_node *n = &g->nodes[i];
        int v = i == target_node;
        for (int k = 0; k < n->n_t && trainable_tensor; k++) v |= trainable_tensor[n->t[k]] != 0;
        for (int k = 0; k < n->n_in; k++) v |= up[n->in[k]];
        up[i] = v;
    }
    return up;
}

typedef struct {
    sialo_model *m;
    int start;
    const int *need;
    float **grad;       /* part 0 */
    float ***part_grad; /* parts 1.. */
    int extra_node;     /* >= 0: extra_dy (batch x its output size) is added to that layer's gradient */
    const float *extra_dy;
} bw_ctx;

static void bw_part(void *arg, int part, int nparts) {
    bw_ctx *c = arg;
    sialo_model *m = c->m;
    const sialo_graph *g = m->g;
    int B = m->batch;
    int b0 = (int)((long long)B * part / nparts), b1 = (int)((long long)B * (part + 1) / nparts), nb = b1 - b0;
    if (nb <= 0) return;
    float **grad = part == 0 ? c->grad : c->part_grad[part];
    /* zero this part's slices of every gradient buffer below the start */
    for (int i = 0; i < c->start; i++)
        if (c->need[i] && m->dy[i]) memset(m->dy[i] + (size_t)b0 * out_size(g, i), 0, (size_t)nb * out_size(g, i) * sizeof(float));
    if (c->extra_dy && c->extra_node < c->start && m->dy[c->extra_node]) {
        size_t sz = out_size(g, c->extra_node);
        add_to(m->dy[c->extra_node] + (size_t)b0 * sz, c->extra_dy + (size_t)b0 * sz, (size_t)nb * sz);
    }
    for (int i = c->start; i >= 1; i--) {
        if (!c->need[i]) continue;
        const sialo_node *n = &g->nodes[i];
        const exec_node *e = &m->ex[i];
        int want_param = 0, want_dx = 0;
        for (int k = 0; k < n->n_t; k++) want_param |= grad[n->t[k]] != NULL;
        for (int k = 0; k < n->n_in; k++) want_dx |= c->need[n->in[k]] && n->in[k] != 0;
        if (!want_param && !want_dx) continue;
        size_t osz = out_size(g, i);
        float *dy = m->dy[i] + (size_t)b0 * osz;
        const float *y = e->out + (size_t)b0 * osz;
        int in0 = n->in[0];
        size_t isz = out_size(g, in0);
        const float *x = m->ex[in0].out + (size_t)b0 * isz;
        float *dx = want_dx && c->need[in0] && in0 != 0 ? m->dy[in0] + (size_t)b0 * isz : NULL;
        shape4 xs = {nb, g->nodes[in0].oh, g->nodes[in0].ow, g->nodes[in0].oc}, ys = {nb, n->oh, n->ow, n->oc};
        size_t cnt = (size_t)nb * osz;
        /* profile (part 0 only: its wall time stands for the pass, the other parts run beside it) */
        int prof = part == 0 && m->prof_bw_ms;
        double t0 = prof ? sialo_now_ms() : 0;
        switch (n->op) {
        case OP_CONV:
            act_backward(y, dy, cnt, n->p[P_ACT], dy);
            conv_backward(&e->cp, x, xs, g->tensors[n->t[0]].data, dy, ys, dx, grad[n->t[0]],
                          n->n_t > 1 ? grad[n->t[1]] : NULL);
            break;
        case OP_DENSE:
            act_backward(y, dy, cnt, n->p[PD_ACT], dy);
            dense_backward(x, nb, e->cp.cin, g->tensors[n->t[0]].data, dy, e->cp.cout, dx, grad[n->t[0]],
                           n->n_t > 1 ? grad[n->t[1]] : NULL);
            break;
        case OP_AFFINE:
            act_backward(y, dy, cnt, n->p[0], dy);
            affine_backward(x, cnt / (size_t)n->oc, n->oc, g->tensors[n->t[0]].data, dy, dx, grad[n->t[0]], grad[n->t[1]]);
            break;
        case OP_ADD: {
            act_backward(y, dy, cnt, n->p[0], dy);
            if (dx) add_to(dx, dy, cnt);
            int in1 = n->in[1];
            if (c->need[in1] && in1 != 0) add_to(m->dy[in1] + (size_t)b0 * osz, dy, cnt);
            break;
        }
        case OP_RELU:
        case OP_RELU6:
            if (!dx) break;
            act_backward(y, dy, cnt, n->op == OP_RELU ? ACT_RELU : ACT_RELU6, dy);
            add_to(dx, dy, cnt);
            break;
        case OP_MAXPOOL: if (dx) maxpool_backward(&e->cp, x, xs, dy, ys, dx); break;
        case OP_AVGPOOL: if (dx) avgpool_backward(&e->cp, xs, dy, ys, dx); break;
        case OP_GAP: if (dx) gap_backward(xs, dy, dx); break;
        case OP_PAD: if (dx) pad_backward(xs, n->p[P_PT], n->p[P_PL], dy, ys, dx); break;
        case OP_DROPOUT: {
            if (!dx) break;
            float inv = 1.0f / (1.0f - sialo_bits_to_f32(n->p[P_RATE_BITS]));
            int active = m->training_step != 0;
            for (size_t k = 0; k < cnt; k++) dx[k] += active ? (y[k] != 0.0f ? dy[k] * inv : 0.0f) : dy[k];
            break;
        }
        case OP_SIGMOID:
            if (dx) for (size_t k = 0; k < cnt; k++) dx[k] += dy[k] * y[k] * (1.0f - y[k]);
            break;
        case OP_SOFTMAX:
            if (!dx) break;
            for (size_t r = 0; r < cnt / (size_t)n->oc; r++) {
                const float *yr = y + r * n->oc, *dr = dy + r * n->oc;
                double s = 0;
                for (int k = 0; k < n->oc; k++) s += (double)dr[k] * yr[k];
                for (int k = 0; k < n->oc; k++) dx[r * n->oc + k] += yr[k] * (dr[k] - (float)s);
            }
            break;
        default: break;
        }
        if (prof) {
            m->prof_bw_ms[i] += sialo_now_ms() - t0;
            if (n->op == OP_CONV || n->op == OP_DENSE)
                m->prof_bw_macs[i] += sialo_layer_macs(m, i) * ((grad[n->t[0]] != NULL) + (dx != NULL));
        }
    }
}

int sialo_backward(sialo_model *m, int start, const float *dy_start, const int *need, float **grad) {
    return sialo_backward_extra(m, start, dy_start, need, grad, -1, NULL);
}

int sialo_backward_extra(sialo_model *m, int start, const float *dy_start, const int *need, float **grad, int extra_node,
                         const float *extra_dy) {
    const sialo_graph *g = m->g;
    int nn = g->n_nodes;
    if (start < 1 || start >= nn) return sialo_fail("backward: bad start layer");
    if (!m->dy) {
        m->dy = sialo_xcalloc((size_t)nn, sizeof *m->dy);
        if (!m->dy) return -1;
    }
    /* gradient buffers for the layers that need one */
    size_t total = 0;
    for (int i = 1; i <= start; i++) if (need[i]) total += ((size_t)m->batch * out_size(g, i) + 15) / 16 * 16;
    if (total > m->grad_floats) {
        free(m->grad_arena);
        m->grad_arena = aligned_alloc(64, total * sizeof(float));
        m->grad_floats = m->grad_arena ? total : 0;
        if (!m->grad_arena) return sialo_fail("out of memory for gradients");
    }
    size_t off = 0;
    for (int i = 0; i < nn; i++) {
        m->dy[i] = NULL;
        if (i >= 1 && i <= start && need[i]) { m->dy[i] = m->grad_arena + off; off += ((size_t)m->batch * out_size(g, i) + 15) / 16 * 16; }
    }
    memcpy(m->dy[start], dy_start, (size_t)m->batch * out_size(g, start) * sizeof(float));
    bw_ctx c = {m, start, need, grad, NULL, extra_node, extra_dy};
    int rc = 0;
    /* images are split between threads; one image (Grad-CAM) runs on the calling thread */
    if (sialo_pool_size(m->pool) > 1 && m->batch > 1) {
        int P = sialo_pool_size(m->pool);
        c.part_grad = calloc((size_t)P, sizeof *c.part_grad);
        if (!c.part_grad) return sialo_fail("out of memory");
        for (int p = 1; p < P && rc == 0; p++) {
            c.part_grad[p] = calloc((size_t)g->n_tensors, sizeof(float *));
            if (!c.part_grad[p]) { rc = sialo_fail("out of memory"); break; }
            for (int t = 0; t < g->n_tensors; t++)
                if (grad[t] && !(c.part_grad[p][t] = calloc(g->tensors[t].count, sizeof(float)))) { rc = sialo_fail("out of memory"); break; }
        }
        if (rc == 0) {
            sialo_pool_run(m->pool, bw_part, &c);
            for (int p = 1; p < P; p++)
                for (int t = 0; t < g->n_tensors; t++)
                    if (grad[t]) add_to(grad[t], c.part_grad[p][t], g->tensors[t].count);
        }
        for (int p = 1; p < P; p++) {
            if (!c.part_grad[p]) continue;
            for (int t = 0; t < g->n_tensors; t++) free(c.part_grad[p][t]);
            free(c.part_grad[p]);
        }
        free(c.part_grad);
    } else {
        bw_part(&c, 0, 1);
    }
    if (m->prof_bw_ms && rc == 0) m->prof_bw_runs++;
    return rc;
}

const float *sialo_node_grad(const sialo_model *m, int node) {
    if (!m->dy || node < 0 || node >= m->g->n_nodes) return NULL;
    return m->dy[node];
}
