/* ood.c — "does this frame look like the training frames?": the out-of-distribution check.
 *
 * The features are a network's pooled features, the output of its global average pool (before the
 * head; MobileNetV2: 1280 values), from the forward pass the classification already runs (the pool's
 * output is pinned at load, so it survives the forward). Their statistics on the training frames
 * (Lee et al. 2018, "A simple unified framework for detecting out-of-distribution samples"):
 * the class means mu_c and one within-class covariance shared by the classes, kept in low rank:
 *
 *     Sigma ~ U diag(var) U^T + resid_var (I - U U^T),    U: rank orthonormal principal directions
 *
 * (the top eigenvectors of the within-class covariance, var their variances, resid_var the mean
 * variance of the remaining dim - rank directions). The squared distance of features f:
 *
 *     d^2(f) = min_c [ sum_j (u_j . z)^2 / var_j + (|z|^2 - sum_j (u_j . z)^2) / resid_var ],  z = f - mu_c
 *
 * A network's score is d^2 / scale, scale = the median out-of-fold d^2 of its training frames (so 1
 * is a typical training frame); an ensemble's score is the mean of its networks' scores. The frame
 * is flagged when the score is above the model's threshold, chosen on the training frames'
 * out-of-fold scores (cross-fitted statistics over group-aware folds: sialo_ood_crossfit). A model
 * without the statistics (a file older than version 4) says "not checked", never "in distribution".
 *
 * The principal directions: subspace iteration with Rayleigh-Ritz on the smaller of the covariance
 * (dim x dim) and the frames' Gram matrix (n x n), in double; the variances are then measured
 * exactly along the directions kept, so the score is exactly defined by the stored factors.
 */
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

double sialo_ood_d2(const sialo_ood_net *o, const float *f) {
    double best = INFINITY;
    double *z = malloc((size_t)o->dim * sizeof *z);
    if (!z) return NAN;
    for (int c = 0; c < o->n_means; c++) {
        const float *mu = o->means + (size_t)c * o->dim;
        double zz = 0, proj = 0, in = 0;
        for (int d = 0; d < o->dim; d++) { z[d] = (double)f[d] - mu[d]; zz += z[d] * z[d]; }
        for (int j = 0; j < o->rank; j++) {
            const float *u = o->basis + (size_t)j * o->dim;
            double t = 0;
            for (int d = 0; d < o->dim; d++) t += u[d] * z[d];
            proj += t * t;
            in += t * t / o->var[j];
        }
        double rest = zz - proj;
        if (rest < 0) rest = 0;
        double d2 = in + rest / o->resid_var;
        if (d2 < best) best = d2;
    }
    free(z);
    return best;
}

/* ------------------------------------------------------------------ the principal directions */
/* Jacobi eigen-decomposition of the symmetric p x p matrix H (destroyed): eigenvalues w, eigenvectors
   in the columns of Y (p x p, row-major) */
static void jacobi(double *H, int p, double *w, double *Y) {
    for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) Y[i * p + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0, diag = 0;
        for (int i = 0; i < p; i++) for (int j = 0; j < p; j++) { double h2 = H[i * p + j] * H[i * p + j]; if (i == j) diag += h2; else off += h2; }
        if (off <= 1e-30 * (diag + 1e-300)) break;
        for (int a = 0; a < p - 1; a++)
            for (int b = a + 1; b < p; b++) {
                double hab = H[a * p + b];
                if (fabs(hab) < 1e-300) continue;
                double theta = (H[b * p + b] - H[a * p + a]) / (2 * hab);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < p; k++) { /* columns a, b */
                    double x = H[k * p + a], y = H[k * p + b];
                    H[k * p + a] = c * x - s * y;
                    H[k * p + b] = s * x + c * y;
                }
                for (int k = 0; k < p; k++) { /* rows a, b */
                    double x = H[a * p + k], y = H[b * p + k];
                    H[a * p + k] = c * x - s * y;
                    H[b * p + k] = s * x + c * y;
                }
                for (int k = 0; k < p; k++) {
                    double x = Y[k * p + a], y = Y[k * p + b];
                    Y[k * p + a] = c * x - s * y;
                    Y[k * p + b] = s * x + c * y;
                }
            }
    }
    for (int i = 0; i < p; i++) w[i] = H[i * p + i];
}

/* orthonormalise the p columns of V (M x p, row-major) by modified Gram-Schmidt, twice */
static void orthonormalise(double *V, int M, int p, uint64_t *rng) {
    for (int pass = 0; pass < 2; pass++)
        for (int j = 0; j < p; j++) {
            for (int i = 0; i < j; i++) {
                double t = 0;
                for (int k = 0; k < M; k++) t += V[k * p + i] * V[k * p + j];
                for (int k = 0; k < M; k++) V[k * p + j] -= t * V[k * p + i];
            }
            double nn = 0;
            for (int k = 0; k < M; k++) nn += V[k * p + j] * V[k * p + j];
            if (nn < 1e-200) { /* a degenerate column: start it again at random */
                for (int k = 0; k < M; k++) {
                    *rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
                    V[k * p + j] = (double)(*rng >> 11) / 9007199254740992.0 - 0.5;
                }
                j--;
                continue;
            }
            nn = 1 / sqrt(nn);
            for (int k = 0; k < M; k++) V[k * p + j] *= nn;
        }
}

/* the top p eigenvectors of the symmetric M x M matrix S: V (M x p, columns, by decreasing eigenvalue) */
static int top_eigenvectors(const double *S, int M, int p, double *V) {
    double *W = malloc((size_t)M * p * sizeof *W), *H = malloc((size_t)p * p * sizeof *H), *Y = malloc((size_t)p * p * sizeof *Y),
           *w = malloc((size_t)p * sizeof *w);
    if (!W || !H || !Y || !w) { free(W); free(H); free(Y); free(w); return sialo_fail("out of memory"); }
    uint64_t rng = 0x243F6A8885A308D3ull;
    for (size_t k = 0; k < (size_t)M * p; k++) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        V[k] = (double)(rng >> 11) / 9007199254740992.0 - 0.5;
    }
    orthonormalise(V, M, p, &rng);
    for (int it = 0; it < 40; it++) {
        memset(W, 0, (size_t)M * p * sizeof *W);
        for (int i = 0; i < M; i++)
            for (int k = 0; k < M; k++) {
                double s = S[(size_t)i * M + k];
                if (s == 0) continue;
                const double *vk = V + (size_t)k * p;
                double *wi = W + (size_t)i * p;
                for (int j = 0; j < p; j++) wi[j] += s * vk[j];
            }
        if (it == 39) break;
        memcpy(V, W, (size_t)M * p * sizeof *W);
        orthonormalise(V, M, p, &rng);
    }
    /* Rayleigh-Ritz: H = V^T S V = V^T W */
    for (int a = 0; a < p; a++)
        for (int b = 0; b < p; b++) {
            double t = 0;
            for (int k = 0; k < M; k++) t += V[(size_t)k * p + a] * W[(size_t)k * p + b];
            H[a * p + b] = t;
        }
    for (int a = 0; a < p; a++) for (int b = a + 1; b < p; b++) H[a * p + b] = H[b * p + a] = 0.5 * (H[a * p + b] + H[b * p + a]);
    jacobi(H, p, w, Y);
    /* order by decreasing eigenvalue; V <- V Y */
    int *ord = malloc((size_t)p * sizeof *ord);
    if (!ord) { free(W); free(H); free(Y); free(w); return sialo_fail("out of memory"); }
    for (int j = 0; j < p; j++) ord[j] = j;
    for (int a = 1; a < p; a++) { int t = ord[a], b = a; while (b > 0 && w[ord[b - 1]] < w[t]) { ord[b] = ord[b - 1]; b--; } ord[b] = t; }
    for (int k = 0; k < M; k++) {
        double *vk = V + (size_t)k * p;
        for (int j = 0; j < p; j++) {
            double t = 0;
            for (int i = 0; i < p; i++) t += vk[i] * Y[i * p + ord[j]];
            W[(size_t)k * p + j] = t;
        }
    }
    memcpy(V, W, (size_t)M * p * sizeof *W);
    free(ord); free(W); free(H); free(Y); free(w);
    return 0;
}

sialo_ood_net *sialo_ood_fit(const float *feats, const int *labels, const unsigned char *use, int n, int dim, int n_means,
                             int rank, const char *layer) {
    int N = 0;
    for (int i = 0; i < n; i++) N += !use || use[i];
    if (dim < 2 || n_means < 1) return sialo_fail_null("no features to fit the out-of-distribution statistics on");
    if (N < 2 * n_means + 2) return sialo_fail_null("%d frames are too few to fit the out-of-distribution statistics", N);
    sialo_ood_net *o = sialo_xcalloc(1, sizeof *o);
    double *mu = sialo_xcalloc((size_t)n_means * dim, sizeof *mu), *X = malloc((size_t)N * dim * sizeof *X);
    int *cnt = sialo_xcalloc((size_t)n_means, sizeof *cnt);
    double *S = NULL, *V = NULL;
    if (!o || !mu || !X || !cnt) goto oom;
    o->dim = dim;
    o->n_means = n_means;
    if (sialo_graph_set_text(&o->layer, layer ? layer : "") < 0) goto fail;
    for (int i = 0; i < n; i++) {
        if (use && !use[i]) continue;
        if (labels[i] < 0 || labels[i] >= n_means) { sialo_fail("label %d of frame %d is not a class", labels[i], i); goto fail; }
        cnt[labels[i]]++;
        for (int d = 0; d < dim; d++) mu[(size_t)labels[i] * dim + d] += feats[(size_t)i * dim + d];
    }
    for (int c = 0; c < n_means; c++) {
        if (!cnt[c]) { sialo_fail("no frame of class %d to fit the out-of-distribution statistics on", c); goto fail; }
        for (int d = 0; d < dim; d++) mu[(size_t)c * dim + d] /= cnt[c];
    }
    /* X: the frames centred on their class means */
    double trace = 0;
    for (int i = 0, r = 0; i < n; i++) {
        if (use && !use[i]) continue;
        for (int d = 0; d < dim; d++) {
            double v = feats[(size_t)i * dim + d] - mu[(size_t)labels[i] * dim + d];
            X[(size_t)r * dim + d] = v;
            trace += v * v;
        }
        r++;
    }
    trace /= N;
    int k = rank;
    if (k > dim - 1) k = dim - 1;
    if (k > N - n_means - 1) k = N - n_means - 1;
    if (k < 0) k = 0;
    int p = k + 8; /* a few more for the subspace iteration */
    int gram = N < dim, M = gram ? N : dim;
    if (p > M) p = M;
    o->rank = k;
    o->means = malloc((size_t)n_means * dim * sizeof *o->means);
    o->basis = malloc((size_t)(k ? k : 1) * dim * sizeof *o->basis);
    o->var = malloc((size_t)(k ? k : 1) * sizeof *o->var);
    if (!o->means || !o->basis || !o->var) goto oom;
    for (size_t t = 0; t < (size_t)n_means * dim; t++) o->means[t] = (float)mu[t];
    double kept = 0;
    if (k > 0) {
        S = sialo_xcalloc((size_t)M * M, sizeof *S);
        V = malloc((size_t)M * p * sizeof *V);
        if (!S || !V) goto oom;
        if (gram) { /* S = X X^T / N */
            for (int a = 0; a < N; a++)
                for (int b = a; b < N; b++) {
                    double t = 0;
                    const double *xa = X + (size_t)a * dim, *xb = X + (size_t)b * dim;
                    for (int d = 0; d < dim; d++) t += xa[d] * xb[d];
                    S[(size_t)a * M + b] = S[(size_t)b * M + a] = t / N;
                }
        } else {    /* S = X^T X / N */
            for (int r = 0; r < N; r++) {
                const double *x = X + (size_t)r * dim;
                for (int a = 0; a < dim; a++) {
                    double xa = x[a];
                    if (xa == 0) continue;
                    double *sa = S + (size_t)a * M;
                    for (int b = a; b < dim; b++) sa[b] += xa * x[b];
                }
            }
            for (int a = 0; a < dim; a++) for (int b = a; b < dim; b++) S[(size_t)b * M + a] = S[(size_t)a * M + b] /= N;
        }
        if (top_eigenvectors(S, M, p, V) < 0) goto fail;
        /* the directions in feature space (Gram: u = X^T v, then normalised), orthonormalised */
        double *U = malloc((size_t)dim * k * sizeof *U);
        if (!U) goto oom;
        for (int d = 0; d < dim; d++)
            for (int j = 0; j < k; j++) {
                if (gram) {
                    double t = 0;
                    for (int r = 0; r < N; r++) t += X[(size_t)r * dim + d] * V[(size_t)r * p + j];
                    U[(size_t)d * k + j] = t;
                } else {
                    U[(size_t)d * k + j] = V[(size_t)d * p + j];
                }
            }
        uint64_t rng = 0x13198A2E03707344ull;
        orthonormalise(U, dim, k, &rng);
        for (int j = 0; j < k; j++)
            for (int d = 0; d < dim; d++) o->basis[(size_t)j * dim + d] = (float)U[(size_t)d * k + j];
        free(U);
        /* the variance along each stored (float) direction, measured */
        for (int j = 0; j < k; j++) {
            const float *u = o->basis + (size_t)j * dim;
            double nn = 0, v = 0;
            for (int d = 0; d < dim; d++) nn += (double)u[d] * u[d];
            for (int r = 0; r < N; r++) {
                double t = 0;
                for (int d = 0; d < dim; d++) t += u[d] * X[(size_t)r * dim + d];
                v += t * t;
            }
            v /= N * nn;
            o->var[j] = (float)v;
            kept += v;
        }
    }
    double resid = (trace - kept) / (dim - k), floor_v = 1e-6 * trace / dim + 1e-12;
    if (!(resid > floor_v)) resid = floor_v;
    o->resid_var = (float)resid;
    for (int j = 0; j < k; j++) if (!(o->var[j] > o->resid_var)) o->var[j] = o->resid_var; /* never below the rest */
    o->scale = 1.0f;
    free(S); free(V); free(mu); free(X); free(cnt);
    return o;
oom:
    sialo_fail("out of memory fitting the out-of-distribution statistics");
fail:
    free(S); free(V); free(mu); free(X); free(cnt);
    sialo_ood_net_free(o);
    return NULL;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int sialo_ood_crossfit(float *const *feats, const int *dims, int n_nets, const int *labels, const int *fold, int n, int k_folds,
                       int n_means, int rank, double max_rate, const char *const *layers, sialo_ood_net **nets, float *threshold,
                       double *oof) {
    if (n_nets < 1 || n_nets > SIALO_MAX_MEMBERS) return sialo_fail("%d networks", n_nets);
    if (k_folds < 2) return sialo_fail("the out-of-distribution threshold needs 2 folds or more, not %d", k_folds);
    for (int k = 0; k < n_nets; k++) nets[k] = NULL;
    double *d2 = malloc((size_t)n * n_nets * sizeof *d2), *score = sialo_xcalloc((size_t)n, sizeof *score),
           *tmp = malloc((size_t)n * sizeof *tmp);
    unsigned char *use = malloc((size_t)n);
    double *scale = malloc((size_t)n_nets * sizeof *scale);
    int rc = -1;
    if (!d2 || !score || !tmp || !use || !scale) { sialo_fail("out of memory"); goto out; }
    for (int f = 0; f < k_folds; f++) {
        int held = 0;
        for (int i = 0; i < n; i++) { use[i] = fold[i] != f; held += !use[i]; }
        if (!held) continue;
        for (int k = 0; k < n_nets; k++) {
            sialo_ood_net *o = sialo_ood_fit(feats[k], labels, use, n, dims[k], n_means, rank, layers ? layers[k] : NULL);
            if (!o) goto out;
            for (int i = 0; i < n; i++) if (!use[i]) d2[(size_t)k * n + i] = sialo_ood_d2(o, feats[k] + (size_t)i * dims[k]);
            sialo_ood_net_free(o);
        }
    }
    for (int k = 0; k < n_nets; k++) {
        memcpy(tmp, d2 + (size_t)k * n, (size_t)n * sizeof *tmp);
        qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
        scale[k] = n % 2 ? tmp[n / 2] : 0.5 * (tmp[n / 2 - 1] + tmp[n / 2]);
        if (!(scale[k] > 0)) scale[k] = 1;
        for (int i = 0; i < n; i++) score[i] += d2[(size_t)k * n + i] / scale[k] / n_nets;
    }
    memcpy(tmp, score, (size_t)n * sizeof *tmp);
    qsort(tmp, (size_t)n, sizeof *tmp, cmp_double);
    int allowed = (int)floor(max_rate * n + 1e-9); /* frames above the threshold */
    if (allowed >= n) allowed = n - 1;
    *threshold = (float)tmp[n - 1 - allowed];
    /* a float threshold may round below the frame it must keep: nudge it up to keep the count */
    while ((double)*threshold < tmp[n - 1 - allowed]) *threshold = nextafterf(*threshold, INFINITY);
    if (oof) memcpy(oof, score, (size_t)n * sizeof *oof);
    for (int k = 0; k < n_nets; k++) {
        nets[k] = sialo_ood_fit(feats[k], labels, NULL, n, dims[k], n_means, rank, layers ? layers[k] : NULL);
        if (!nets[k]) goto out;
        nets[k]->scale = (float)scale[k];
    }
    rc = 0;
out:
    if (rc < 0) for (int k = 0; k < n_nets; k++) { sialo_ood_net_free(nets[k]); nets[k] = NULL; }
    free(d2); free(score); free(tmp); free(use); free(scale);
    return rc;
}

int sialo_graph_set_ood(sialo_graph *g, sialo_ood_net **nets, int n_nets, float threshold, int frames) {
    int want = g->n_members ? g->n_members : 1;
    if (n_nets != want) {
        for (int k = 0; k < n_nets; k++) sialo_ood_net_free(nets[k]);
        return sialo_fail("%d sets of out-of-distribution statistics for a model of %d networks", n_nets, want);
    }
    for (int k = 0; k < n_nets; k++) {
        sialo_graph *mg = g->n_members ? g->members[k] : g;
        sialo_ood_net_free(mg->ood);
        mg->ood = nets[k];
        mg->ood_threshold = threshold;
        mg->ood_frames = frames;
    }
    g->ood_threshold = threshold;
    g->ood_frames = frames;
    return 0;
}

const char *sialo_graph_feature_layer(const sialo_graph *g) {
    for (int i = g->n_nodes - 1; i > 0; i--)
        if (g->nodes[i].op == OP_GAP) return g->nodes[i].name;
    return sialo_fail_null("the network has no global average pool: no features for the out-of-distribution check");
}

/* ------------------------------------------------------------------ at run time */
int sialo_ood_attach(sialo_model *m) {
    const sialo_graph *g = m->g;
    m->ood_node = 0;
    if (!g->ood || m->opt.training) return 0;
    int node = sialo_graph_find_node(g, g->ood->layer);
    if (node <= 0 || g->nodes[node].op != OP_GAP)
        return sialo_fail("the out-of-distribution statistics name the layer '%s', which is not a global average pool of the network",
                          g->ood->layer);
    if (g->nodes[node].oc != g->ood->dim)
        return sialo_fail("the out-of-distribution statistics have %d features but the layer '%s' has %d", g->ood->dim, g->ood->layer,
                          g->nodes[node].oc);
    if (sialo_model_pin(m, node) < 0) return -1;
    m->ood_node = node;
    return 0;
}

int sialo_model_keep_features(sialo_model *m) {
    int n = m->n_members > 1 ? m->n_members : 1;
    for (int k = 0; k < n; k++) {
        sialo_model *mk = n > 1 ? m->member[k] : m;
        if (mk->ood_node > 0) continue;
        const char *name = sialo_graph_feature_layer(mk->g);
        if (!name) return -1;
        int node = sialo_graph_find_node(mk->g, name);
        if (node <= 0 || sialo_model_pin(mk, node) < 0) return -1;
        mk->ood_node = node;
    }
    return 0;
}

const float *sialo_model_features(sialo_model *m, int member, int *dim) {
    int n = m->n_members > 1 ? m->n_members : 1;
    if (member < 0 || member >= n) return sialo_fail_null("no network %d", member);
    sialo_model *mk = n > 1 ? m->member[member] : m;
    if (mk->ood_node <= 0) return sialo_fail_null("the features were not kept (sialo_model_keep_features before the forward)");
    if (dim) *dim = mk->g->nodes[mk->ood_node].oc;
    return mk->ex[mk->ood_node].out;
}

void sialo_ood_decide(const sialo_model *m, sialo_ood *o) {
    memset(o, 0, sizeof *o);
    int n = m->n_members > 1 ? m->n_members : 1;
    const sialo_graph *top = m->g;
    if (!(top->ood_threshold > 0)) return;
    double s = 0;
    for (int k = 0; k < n; k++) {
        const sialo_model *mk = n > 1 ? m->member[k] : m;
        if (!mk->g->ood || mk->ood_node <= 0 || mk->batch != 1) return;
        double d2 = sialo_ood_d2(mk->g->ood, mk->ex[mk->ood_node].out);
        if (!(d2 == d2)) return;
        s += d2 / mk->g->ood->scale;
    }
    o->checked = 1;
    o->score = (float)(s / n);
    o->threshold = top->ood_threshold;
    o->flag = !(o->score <= o->threshold); /* NaN or infinity: flagged */
}
