/* ood.c — sialoscan ood-fit: fit the out-of-distribution statistics (engine/ood.c) of an existing
 * model on a labelled folder and write the model again with them: the same networks, calibration
 * and threshold, byte for byte (the file becomes version 4, its networks' bodies unchanged).
 *
 *   sialoscan ood-fit --model M --data DIR --out M2 [--rank 32] [--folds 5] [--rate 0.03] [--seed 1]
 *                     [--features-out F.tsv] [--oof-out F.tsv]   (each frame's features; its out-of-fold score)
 *                     [--boxes FILE | --boxes-from-masks]   a box model: each frame's lesion box is classified
 *
 * Each frame of DIR/benign/ and DIR/malignant/ is classified as `classify` does (the same decode,
 * resize and forward); its pooled features are kept. The statistics are cross-fitted over the
 * group-aware folds of the trainer (MANIFEST.tsv groups, sub-folders), the threshold set so that
 * at most --rate of the frames' out-of-fold scores are flagged; then fitted on every frame. */
#include "cli/cli.h"
#include "engine/runtime.h"
#include "train/dataset.h"

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct { char **rel; int n, cap; } name_list;

static int names_add(name_list *l, const char *rel) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 512;
        char **q = realloc(l->rel, (size_t)nc * sizeof *q);
        if (!q) return -1;
        l->rel = q;
        l->cap = nc;
    }
    return (l->rel[l->n++] = strdup(rel)) ? 0 : -1;
}

static int walk_frames(const char *root, const char *rel, name_list *l, int depth) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", root, rel);
    DIR *dd = opendir(path);
    if (!dd) return 0;
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dd)) && rc == 0) {
        if (e->d_name[0] == '.') continue;
        char r2[2048], full[4096 + 2048];
        snprintf(r2, sizeof r2, "%s/%s", rel, e->d_name);
        snprintf(full, sizeof full, "%s/%s", root, r2);
        struct stat st;
        if (stat(full, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) { if (depth < 8) rc = walk_frames(root, r2, l, depth + 1); }
        else if (S_ISREG(st.st_mode)) rc = names_add(l, r2);
    }
    closedir(dd);
    return rc;
}

int cmd_ood_fit(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *out = NULL, *feat_out = NULL, *oof_out = NULL, *boxes_file = NULL;
    int rank = 32, folds = 5, seed = 1, threads = 0, boxes_from_masks = 0;
    double rate = 0.03;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--boxes-from-masks")) { boxes_from_masks = 1; continue; }
        if (!v) return die("option %s needs a value (sialoscan ood-fit --model M --data DIR --out M2)", a);
        i++;
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--data")) data = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--features-out")) feat_out = v;
        else if (!strcmp(a, "--oof-out")) oof_out = v;
        else if (!strcmp(a, "--boxes")) boxes_file = v;
        else if (!strcmp(a, "--rank")) { rank = atoi(v); if (rank < 0 || rank > 1024) return die("--rank must be in 0..1024, not '%s'", v); }
        else if (!strcmp(a, "--folds")) { folds = atoi(v); if (folds < 2 || folds > 20) return die("--folds must be in 2..20, not '%s'", v); }
        else if (!strcmp(a, "--rate")) { rate = atof(v); if (!(rate >= 0 && rate < 0.5)) return die("--rate must be in [0, 0.5), not '%s'", v); }
        else if (!strcmp(a, "--seed")) seed = atoi(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else return die("unknown option '%s' (sialoscan ood-fit --model M --data DIR --out M2 [--rank K] [--folds K] [--rate R])", a);
    }
    if (!model || !data || !out) return die("%s", "ood-fit needs --model M, --data DIR and --out M2");
    if (boxes_file && boxes_from_masks) return die("%s", "--boxes and --boxes-from-masks: choose one");
    int box_mode = boxes_file || boxes_from_masks;
    sialo_box_table boxes = {0};
    if (boxes_file && load_boxes_file(boxes_file, &boxes) < 0) return 1;
    if (boxes_from_masks && load_mask_boxes(data, &boxes) < 0) { sialo_boxes_free(&boxes); return 1; }
    size_t mn;
    uint8_t *mbytes = read_all(model, &mn);
    if (!mbytes) return 1;
    sialo_graph *g = sialo_graph_read_any(mbytes, mn); /* written back: the stored (unoptimised) networks */
    sialo_options opt = {0};
    opt.threads = threads;
    sialo_model *m = g ? sialo_model_load(mbytes, mn, &opt) : NULL;
    free(mbytes);
    if (!g || !m) { fprintf(stderr, "sialoscan: %s: %s\n", model, sialo_error()); sialo_graph_free(g); sialo_boxes_free(&boxes); return 1; }
    if (box_mode && (g->box_graph || !(g->input_modes & SIALO_MODE_BOX))) {
        const char *why = g->box_graph ? "this model carries a box model: fit the box model's statistics before `sialoscan bundle`"
                                       : "this model was trained on whole frames, not on lesion boxes: leave out --boxes / --boxes-from-masks";
        sialo_graph_free(g); sialo_model_free(m); sialo_boxes_free(&boxes);
        return die("%s", why);
    }
    if (!box_mode && (g->input_modes & SIALO_MODE_BOX) && !(g->input_modes & SIALO_MODE_WHOLE)) {
        sialo_graph_free(g); sialo_model_free(m); sialo_boxes_free(&boxes);
        return die("%s", "this model classifies lesion boxes: give their boxes (--boxes FILE or --boxes-from-masks)");
    }
    if (g->n_classes != 1) { sialo_graph_free(g); sialo_model_free(m); return die("%s", "ood-fit needs a binary (benign / malignant) model"); }
    int nets = m->n_members > 1 ? m->n_members : 1, rc = 1;
    if (sialo_model_keep_features(m) < 0) { sialo_graph_free(g); sialo_model_free(m); return die("%s", sialo_error()); }

    /* the folder: its frames, groups and labels as the trainer reads them */
    name_list l = {0};
    static const char *const top[2] = {"benign", "malignant"};
    for (int k = 0; k < 2; k++) {
        char p[4096];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", data, top[k]);
        if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode)) { fprintf(stderr, "sialoscan: '%s' has no %s/ folder\n", data, top[k]); goto done0; }
        if (walk_frames(data, top[k], &l, 0) < 0) { die("%s", "out of memory"); goto done0; }
    }
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST.tsv", data);
    if (access(mpath, R_OK) == 0) names_add(&l, "MANIFEST.tsv");
    sialo_dataset d;
    sialo_dataset_init(&d, 32, 0, 0); /* groups and labels only: tiny cached frames */
    for (int i = 0; i < l.n; i++) {
        char full[4096 + 2048];
        snprintf(full, sizeof full, "%s/%s", data, l.rel[i]);
        size_t n;
        uint8_t *b = read_all(full, &n);
        if (!b) continue;
        if (sialo_dataset_add(&d, l.rel[i], b, n) < 0) fprintf(stderr, "sialoscan: skipped %s: %s\n", full, sialo_error());
        free(b);
    }
    for (int i = 0; i < l.n; i++) free(l.rel[i]);
    free(l.rel);
    if (sialo_dataset_finish(&d) < 0 || d.n < 10) {
        fprintf(stderr, "sialoscan: %s: %s\n", data, d.n < 10 ? "fewer than 10 frames to fit on" : sialo_error());
        sialo_dataset_free(&d);
        goto done0;
    }
    int n = d.n, *labels = malloc((size_t)n * sizeof *labels), *idx = malloc((size_t)n * sizeof *idx), *fold = malloc((size_t)n * sizeof *fold);
    float *feats[SIALO_MAX_MEMBERS] = {0};
    int dims[SIALO_MAX_MEMBERS];
    const char *layers[SIALO_MAX_MEMBERS];
    double *oof = malloc((size_t)n * sizeof *oof);
    float *p = malloc((size_t)n * sizeof *p);
    for (int k = 0; k < nets; k++) {
        sialo_model *mk = nets > 1 ? m->member[k] : m;
        dims[k] = mk->g->nodes[mk->ood_node].oc;
        layers[k] = mk->g->nodes[mk->ood_node].name;
        feats[k] = malloc((size_t)n * dims[k] * sizeof(float));
    }
    int ok = labels && idx && fold && oof && p;
    for (int k = 0; k < nets; k++) ok &= feats[k] != NULL;
    if (!ok) { die("%s", "out of memory"); goto done; }
    for (int i = 0; i < n; i++) { idx[i] = i; labels[i] = d.s[i].label; }
    sialo_dataset_folds(&d, idx, n, folds, (uint64_t)seed, fold);
    double t0 = sialo_now_ms();
    for (int i = 0; i < n; i++) {
        char full[4096 + 2048];
        snprintf(full, sizeof full, "%s/%s", data, d.s[i].path);
        size_t nb;
        uint8_t *b = read_all(full, &nb);
        sialo_result r;
        int frc = !b ? -1 : box_mode ? classify_frame_in_table(m, &boxes, d.s[i].path, b, nb, 0, 0, -1.0f, &r) /* as eval --boxes */
                                     : classify_frame(m, b, nb, 0, 0, &r);
        if (frc < 0) { free(b); fprintf(stderr, "sialoscan: %s: %s\n", full, sialo_error()); goto done; }
        free(b);
        p[i] = r.p_positive;
        for (int k = 0; k < nets; k++) memcpy(feats[k] + (size_t)i * dims[k], sialo_model_features(m, k, NULL), (size_t)dims[k] * sizeof(float));
        if ((i + 1) % 50 == 0 || i + 1 == n) fprintf(stderr, "\rfeatures %d/%d", i + 1, n);
    }
    double t1 = sialo_now_ms();
    fprintf(stderr, " (%.1f s)\n", (t1 - t0) / 1000);
    if (feat_out) {
        FILE *f = fopen(feat_out, "w");
        if (!f) { die("cannot write '%s'", feat_out); goto done; }
        fprintf(f, "path\tlabel\tfold\tp");
        for (int k = 0; k < nets; k++) fprintf(f, "\tnet%d_dim%d", k, dims[k]);
        fprintf(f, "\n");
        for (int i = 0; i < n; i++) {
            fprintf(f, "%s\t%d\t%d\t%.6f", d.s[i].path, labels[i], fold[i], p[i]);
            for (int k = 0; k < nets; k++) for (int j = 0; j < dims[k]; j++) fprintf(f, "\t%.6g", feats[k][(size_t)i * dims[k] + j]);
            fprintf(f, "\n");
        }
        fclose(f);
    }
    sialo_ood_net *fitted[SIALO_MAX_MEMBERS];
    float thr;
    if (sialo_ood_crossfit(feats, dims, nets, labels, fold, n, folds, 2, rank, rate, layers, fitted, &thr, oof) < 0) { die("%s", sialo_error()); goto done; }
    fprintf(stderr, "statistics fitted in %.1f s\n", (sialo_now_ms() - t1) / 1000);
    int flagged = 0;
    for (int i = 0; i < n; i++) flagged += !(oof[i] <= thr);
    if (oof_out) {
        FILE *f = fopen(oof_out, "w");
        if (!f) { die("cannot write '%s'", oof_out); goto done; }
        fprintf(f, "path\tlabel\tfold\tp\tood_score\tflag\n");
        for (int i = 0; i < n; i++) fprintf(f, "%s\t%d\t%d\t%.6f\t%.6g\t%d\n", d.s[i].path, labels[i], fold[i], p[i], oof[i], !(oof[i] <= thr));
        fclose(f);
    }
    if (sialo_graph_set_ood(g, fitted, nets, thr, n) < 0 || sialo_graph_write_file(g, g->storage_bits, out) < 0) { die("%s", sialo_error()); goto done; }
    printf("{\"model\":");
    json_str(stdout, out);
    printf(",\"frames\":%d,\"networks\":%d,\"rank\":%d,\"folds\":%d,\"threshold\":%.6g,\"oof_flagged\":%d,\"oof_flagged_rate\":%.4f",
           n, nets, fitted[0] ? (g->n_members ? g->members[0] : g)->ood->rank : rank, folds, thr, flagged, (double)flagged / n);
    printf(",\"features\":%d}\n", dims[0]);
    rc = 0;
done:
    for (int k = 0; k < nets; k++) free(feats[k]);
    free(labels); free(idx); free(fold); free(oof); free(p);
    sialo_dataset_free(&d);
done0:
    sialo_graph_free(g);
    sialo_model_free(m);
    sialo_boxes_free(&boxes);
    return rc;
}
