/* train_step.c — where a training step spends its time: the trainer's own step (forward of the
 * batch, backward from the logit, the AdamW update, repacking the trained layers) on the model a
 * run trains (run.c: the backbone cut at its pooling plus the binary head), timed piece by piece,
 * with the engine's profile per layer kind, forward and backward (GFLOP/s). Batch assembly
 * (decoding is done once; augmentation per image) is not in it: compare its images/s with
 * `make bench-train`'s to see that part.
 * Built natively (build/train-step) and for Node (build/wasm/train-step.mjs: the SIMD128 kernels,
 * -pthread for 2 threads) by bench/train-profile.mjs, which prints the table.
 *
 *   train-step BACKBONE.sialo [--threads 1] [--batch 16] [--steps 5] [--unfreeze top:34]
 * prints one JSON line: {threads, batch, steps, ms: {step, forward, backward, update, repack},
 * images_per_s, profile: <sialo_profile_json>}; medians over the steps after the first. */
#include "engine/runtime.h"
#include "train/run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_d(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return (x > y) - (x < y); }
static double median(double *v, int n) {
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv) {
    if (argc < 2) { fprintf(stderr, "usage: train-step BACKBONE.sialo [--threads 1] [--batch 16] [--steps 5] [--unfreeze top:34]\n"); return 2; }
    int threads = 1, B = 16, steps = 5;
    const char *unfreeze = "top:34";
    for (int i = 2; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch")) B = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps")) steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--unfreeze")) unfreeze = argv[i + 1];
    }
    if (steps < 2) steps = 2;
    FILE *f = fopen(argv[1], "rb");
    if (!f) { fprintf(stderr, "cannot open %s\n", argv[1]); return 1; }
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)size);
    if (!bytes || fread(bytes, 1, (size_t)size, f) != (size_t)size) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    fclose(f);
    sialo_train_opts o = {0};
    o.batch = B; o.threads = threads; o.seed = 1; o.dropout = 0.5f; o.weight_decay = 1e-4f;
    sialo_graph *g = sialo_train_graph(&o, bytes, (size_t)size, 1);
    free(bytes);
    if (!g) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
    sialo_options mo = {SIALO_BACKEND_OWN, threads, 1, 1};
    sialo_model *m = sialo_model_from_graph(g, &mo);
    if (!m || sialo_model_set_batch(m, B) < 0) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
    sialo_stage st = {0};
    snprintf(st.unfreeze, sizeof st.unfreeze, "%s", unfreeze);
    int start = sialo_train_stage_start(m, &st), nt = m->g->n_tensors, nn = m->g->n_nodes;
    if (start < 0) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
    int *trainable = calloc((size_t)nt, sizeof(int));
    float **grad = calloc((size_t)nt, sizeof(float *)), **mom = calloc((size_t)nt, sizeof(float *)), **vel = calloc((size_t)nt, sizeof(float *));
    for (int i = start; i < nn; i++)
        for (int k = 0; k < m->g->nodes[i].n_t; k++) trainable[m->g->nodes[i].t[k]] = 1;
    size_t params = 0;
    for (int t = 0; t < nt; t++)
        if (trainable[t]) {
            size_t c = m->g->tensors[t].count;
            params += c;
            grad[t] = calloc(c, sizeof(float)); mom[t] = calloc(c, sizeof(float)); vel[t] = calloc(c, sizeof(float));
        }
    int *need = sialo_backward_need(m, trainable, -1);
    int logit = sialo_graph_find_node(m->g, "predictions");
    size_t in_floats = (size_t)m->g->in_h * m->g->in_w * m->g->in_c;
    float *x = malloc(in_floats * B * sizeof(float)), p[4096], dl[4096];
    uint64_t s = 12345;
    for (size_t k = 0; k < in_floats * B; k++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x[k] = (float)((s >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
    }
    double *t_fw = calloc((size_t)steps, sizeof(double)), *t_bw = calloc((size_t)steps, sizeof(double));
    double *t_up = calloc((size_t)steps, sizeof(double)), *t_rp = calloc((size_t)steps, sizeof(double)), *t_all = calloc((size_t)steps, sizeof(double));
    for (int step = 0; step < steps; step++) {
        if (step == 1 && sialo_profile_start(m) < 0) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
        m->training_step = (uint64_t)step + 1;
        double t0 = sialo_now_ms();
        if (sialo_forward_batch(m, x, p) < 0) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
        double t1 = sialo_now_ms();
        for (int b = 0; b < B; b++) dl[b] = (p[b] - (float)(b & 1)) / B;
        for (int t = 0; t < nt; t++) if (grad[t]) memset(grad[t], 0, m->g->tensors[t].count * sizeof(float));
        if (sialo_backward(m, logit, dl, need, grad) < 0) { fprintf(stderr, "%s\n", sialo_error()); return 1; }
        double t2 = sialo_now_ms();
        sialo_train_update(m, trainable, grad, mom, vel, 1e-5f, 1e-4f, step + 1);
        double t3 = sialo_now_ms();
        for (int i = start; i < nn; i++) sialo_model_repack(m, i);
        double t4 = sialo_now_ms();
        t_fw[step] = t1 - t0; t_bw[step] = t2 - t1; t_up[step] = t3 - t2; t_rp[step] = t4 - t3; t_all[step] = t4 - t0;
    }
    char *js = sialo_profile_json(m);
    double all = median(t_all + 1, steps - 1);
    printf("{\"threads\":%d,\"batch\":%d,\"steps\":%d,\"trained_params\":%zu,\"ms\":{\"step\":%.2f,\"forward\":%.2f,\"backward\":%.2f,"
           "\"update\":%.2f,\"repack\":%.2f},\"images_per_s\":%.2f,\"profile\":%s}\n",
           threads, B, steps - 1, params, all, median(t_fw + 1, steps - 1), median(t_bw + 1, steps - 1), median(t_up + 1, steps - 1),
           median(t_rp + 1, steps - 1), B * 1000.0 / all, js ? js : "null");
    free(js);
    for (int t = 0; t < nt; t++) { free(grad[t]); free(mom[t]); free(vel[t]); }
    free(grad); free(mom); free(vel); free(trainable); free(need); free(x);
    free(t_fw); free(t_bw); free(t_up); free(t_rp); free(t_all);
    sialo_model_free(m);
    return 0;
}
