/* calibrate.c — sialoscan calibrate (Platt / temperature on out-of-fold predictions) and sialoscan
 * ensemble (one file of several networks). */
#include "cli/cli.h"
#include "engine/calibration.h"
#include "train/dataset.h"
#include "engine/graph.h"
#include "base/metrics.h"
#include "explain/report.h"
#include "train/train.h"
#include "import/importers.h"
#include "engine/runtime.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_dwconv.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <stb_image_write.h>

/* ------------------------------------------------------------------ calibrate */
/* one CSV line split into fields (double-quoted fields may hold commas; "" is a quote); in place */
static int csv_split(char *line, char **f, int max) {
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max) return -1;
        if (*p == '"') {
            char *w = ++p;
            f[n++] = w;
            for (;;) {
                if (!*p) return -1;
                if (*p == '"' && p[1] == '"') { *w++ = '"'; p += 2; continue; }
                if (*p == '"') { p++; break; }
                *w++ = *p++;
            }
            *w = 0;
            if (*p == ',') { p++; continue; }
            if (*p) return -1;
            return n;
        }
        f[n++] = p;
        char *c = strchr(p, ',');
        if (!c) return n;
        *c = 0;
        p = c + 1;
    }
}

/* the out-of-fold predictions of `train --predictions` (path,label,fold,p_malignant; label 0/1) or
   eval's --csv (label benign/malignant): p and y, n rows; -1 with a reason */
static int read_predictions(const char *path, double **pp, int **yy, int *nn) {
    size_t sz;
    char *text = (char *)read_all(path, &sz);
    *pp = NULL; *yy = NULL; *nn = 0;
    if (!text) return -1;
    char *t = realloc(text, sz + 1);
    if (!t) { free(text); return sialo_fail("out of memory"); }
    text = t;
    text[sz] = 0;
    int cap = 1024, n = 0, rc = -1;
    double *p = malloc((size_t)cap * sizeof *p);
    int *y = malloc((size_t)cap * sizeof *y);
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    enum { MAXF = 64 };
    char *f[MAXF];
    int ip = -1, il = -1, nf = 0, lineno = 1;
    if (!p || !y) { sialo_fail("out of memory"); goto out; }
    if (!line) { sialo_fail("'%s' is empty; calibrate reads the out-of-fold predictions of train --predictions", path); goto out; }
    line[strcspn(line, "\r")] = 0;
    char header[512];
    snprintf(header, sizeof header, "%s", line);
    nf = csv_split(line, f, MAXF);
    for (int k = 0; k < nf; k++) {
        if (!strcmp(f[k], "p_malignant")) ip = k;
        if (!strcmp(f[k], "label")) il = k;
    }
    if (ip < 0 || il < 0) {
        sialo_fail("'%s' has no column '%s' (its header: %s); calibrate reads the out-of-fold predictions of train --predictions "
                   "(path,label,fold,p_malignant)", path, il < 0 ? "label" : "p_malignant", header);
        goto out;
    }
    while ((line = strtok_r(NULL, "\n", &save))) {
        lineno++;
        line[strcspn(line, "\r")] = 0;
        if (!*line) continue;
        int k = csv_split(line, f, MAXF);
        if (k != nf) { sialo_fail("'%s' line %d has %d fields, its header %d", path, lineno, k, nf); goto out; }
        char *end;
        double v = strtod(f[ip], &end);
        if (end == f[ip] || *end) { sialo_fail("'%s' line %d: p_malignant '%s' is not a number", path, lineno, f[ip]); goto out; }
        if (!(v >= 0 && v <= 1)) { sialo_fail("'%s' line %d: p_malignant = %s is outside [0, 1]", path, lineno, f[ip]); goto out; }
        int lab;
        if (!strcmp(f[il], "1") || !strcmp(f[il], "malignant")) lab = 1;
        else if (!strcmp(f[il], "0") || !strcmp(f[il], "benign")) lab = 0;
        else { sialo_fail("'%s' line %d: label '%s' is not 0 / 1 (benign / malignant)", path, lineno, f[il]); goto out; }
        if (n == cap) {
            cap *= 2;
            double *np = realloc(p, (size_t)cap * sizeof *p);
            if (np) p = np;
            int *ny = realloc(y, (size_t)cap * sizeof *y);
            if (ny) y = ny;
            if (!np || !ny) { sialo_fail("out of memory"); goto out; }
        }
        p[n] = v;
        y[n] = lab;
        n++;
    }
    rc = 0;
out:
    free(text);
    if (rc < 0) { free(p); free(y); return -1; }
    *pp = p; *yy = y; *nn = n;
    return 0;
}

int cmd_calibrate(cli_opts *o) {
    if (!o->model || !o->predictions || !o->out || o->nargs) {
        fprintf(stderr, "usage: sialoscan calibrate --model IN.sialo --predictions OOF.csv --out OUT.sialo [--method platt|temperature]\n");
        return 2;
    }
    sialo_calib_method method = SIALO_CALIB_PLATT;
    if (o->method && !strcmp(o->method, "temperature")) method = SIALO_CALIB_TEMPERATURE;
    else if (o->method && strcmp(o->method, "platt")) return die("unknown calibration method '%s' (platt, temperature)", o->method);
    double *p = NULL, *pc = NULL;
    int *y = NULL, n = 0;
    if (read_predictions(o->predictions, &p, &y, &n) < 0) return die("%s", sialo_error());
    size_t sz;
    uint8_t *bytes = read_all(o->model, &sz);
    sialo_graph *g = bytes ? sialo_graph_read_any(bytes, sz) : NULL; /* one network or an ensemble */
    free(bytes);
    int rc = 1;
    double a, b;
    char why[600];
    if (!g) { die("%s", sialo_error()); goto out; }
    if (g->n_classes != 1) { die("'%s' is not a binary (sigmoid) model: only those are calibrated", o->model); goto out; }
    if (sialo_calib_fit(p, y, n, method, &a, &b) < 0) {
        snprintf(why, sizeof why, "%s", sialo_error());
        fprintf(stderr, "sialoscan: %s: %s\n", o->predictions, why);
        goto out;
    }
    float old_a = g->calib_a, old_b = g->calib_b, old_t = g->threshold;
    char how[1024], source[600], date[32];
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    char pred[256];
    sialo_path_base(o->predictions, pred, sizeof pred);
    snprintf(source, sizeof source, "%d out-of-fold predictions (%s) by sialoscan calibrate, %s", n, pred, date);
    sialo_calib_describe(how, sizeof how, method, a, b, source);
    if (sialo_calib_set(g, a, b, how) < 0 || sialo_graph_write_file(g, g->storage_bits, o->out) < 0) { die("%s", sialo_error()); goto out; }
    pc = malloc((size_t)n * sizeof *pc);
    if (!pc) { die("%s", "out of memory"); goto out; }
    for (int i = 0; i < n; i++) pc[i] = sialo_calib_apply(g->calib_a, g->calib_b, p[i]);
    printf("{\"n\":%d,\"method\":\"%s\",\"a\":%.9g,\"b\":%.9g", n, method == SIALO_CALIB_PLATT ? "platt" : "temperature", g->calib_a, g->calib_b);
    if (!(old_a == 1.0f && old_b == 0.0f)) printf(",\"replaced\":{\"a\":%.9g,\"b\":%.9g}", old_a, old_b);
    printf(",\"threshold_before\":%.9g,\"threshold\":%.9g", old_t, g->threshold);
    printf(",\"brier_before\":%.6f,\"brier_after\":%.6f,\"ece_before\":%.6f,\"ece_after\":%.6f,\"log_loss_before\":%.6f,\"log_loss_after\":%.6f",
           sialo_brier(p, y, n), sialo_brier(pc, y, n), sialo_ece(p, y, n), sialo_ece(pc, y, n), sialo_log_loss(p, y, n), sialo_log_loss(pc, y, n));
    printf(",\"out\":");
    json_str(stdout, o->out);
    printf("}\n");
    rc = 0;
out:
    sialo_graph_free(g);
    free(p); free(pc); free(y);
    return rc;
}

/* sialoscan ensemble A B [...] --out E [--threshold T] [--fp16 | --fp32] */
int cmd_ensemble(cli_opts *o) {
    if (o->nargs < 2 || !o->out) {
        fprintf(stderr, "usage: sialoscan ensemble A.sialo B.sialo [...] --out E.sialo [--threshold T] [--fp16 | --fp32]\n"
                        "  one model file of 2 to %d networks that take the same input: p_raw = sigmoid(mean of their logits),\n"
                        "  threshold T on p_raw (default 0.5), no calibration: fit one with\n"
                        "  sialoscan calibrate --model E.sialo --predictions ENSEMBLE_OOF.csv --out E.sialo\n"
                        "  (the ensemble's pooled out-of-fold predictions: node tools/experiments/ensemble-oof.mjs A/oof.csv B/oof.csv)\n",
                SIALO_MAX_MEMBERS);
        return 2;
    }
    if (o->nargs > SIALO_MAX_MEMBERS) return die("an ensemble has at most %s networks", "16");
    sialo_graph *mg[SIALO_MAX_MEMBERS] = {0};
    char names[2048] = "";
    int all_fp16 = 1;
    for (int k = 0; k < o->nargs; k++) {
        size_t sz;
        uint8_t *bytes = read_all(o->args[k], &sz);
        mg[k] = bytes ? sialo_graph_read(bytes, sz) : NULL;
        free(bytes);
        if (!mg[k]) {
            char why[600];
            snprintf(why, sizeof why, "%s: %s", o->args[k], sialo_error());
            for (int j = 0; j < k; j++) sialo_graph_free(mg[j]);
            return die("%s", why);
        }
        all_fp16 &= mg[k]->storage_bits == 16;
        char base[256];
        sialo_path_base(o->args[k], base, sizeof base);
        size_t used = strlen(names);
        snprintf(names + used, sizeof names - used, "%s%s (%s, checksum %08x)", k ? ", " : "", base, mg[k]->arch, mg[k]->checksum);
    }
    int bits = o->storage_bits == 16 ? 16 : o->fp32 ? 32 : all_fp16 ? 16 : 32;
    sialo_graph *e = sialo_ensemble_graph(mg, o->nargs); /* takes the networks over */
    if (!e) return die("%s", sialo_error());
    char date[32], *prov = malloc(4096);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    if (!isnan(o->threshold)) e->threshold = (float)o->threshold;
    int rc = 1;
    if (!prov) sialo_fail("out of memory");
    else {
        snprintf(prov, 4096, "ensemble of %d networks built by sialoscan ensemble, %s, from %s: p_raw = sigmoid of the mean of their "
                 "logits, threshold %.4f on p_raw; no calibration yet (sialoscan calibrate fits one on the ensemble's out-of-fold "
                 "predictions)", e->n_members, date, names, e->threshold);
        if (sialo_graph_set_text(&e->provenance, prov) == 0 && sialo_graph_write_file(e, bits, o->out) == 0) rc = 0;
    }
    free(prov);
    if (rc) {
        char why[600];
        snprintf(why, sizeof why, "%s", sialo_error());
        sialo_graph_free(e);
        return die("%s", why);
    }
    printf("{\"out\":");
    json_str(stdout, o->out);
    printf(",\"members\":%d,\"arch\":", e->n_members);
    json_str(stdout, e->arch);
    printf(",\"storage\":\"fp%d\",\"threshold\":%.6g,\"calibration\":null}\n", bits, e->threshold);
    sialo_graph_free(e);
    return 0;
}

/* sialoscan bundle WHOLE.sialo BOX.sialo --out BOTH.sialo: one file that classifies whole frames with
 * WHOLE's networks and lesion boxes with BOX's (model file section "box-model"); each keeps its own
 * threshold, calibration and out-of-distribution statistics, byte for byte */
int cmd_bundle(cli_opts *o) {
    if (o->nargs != 2 || !o->out) {
        fprintf(stderr, "usage: sialoscan bundle WHOLE.sialo BOX.sialo --out BOTH.sialo\n"
                        "  one model file: whole frames are classified by WHOLE (a model of whole frames), lesion boxes by BOX\n"
                        "  (a model trained for boxes: train --boxes-from-masks); each keeps its threshold, calibration and\n"
                        "  out-of-distribution statistics\n");
        return 2;
    }
    sialo_graph *g[2] = {0};
    uint8_t *box_bytes = NULL; /* nested verbatim */
    size_t box_n = 0;
    for (int k = 0; k < 2; k++) {
        size_t sz;
        uint8_t *bytes = read_all(o->args[k], &sz);
        g[k] = bytes ? sialo_graph_read_any(bytes, sz) : NULL;
        if (k == 1) { box_bytes = bytes; box_n = sz; }
        else free(bytes);
        if (!g[k]) {
            char why[600];
            snprintf(why, sizeof why, "%s: %s", o->args[k], sialo_error());
            sialo_graph_free(g[0]);
            free(box_bytes);
            return die("%s", why);
        }
    }
    const char *why = NULL;
    if (g[0]->box_graph || g[1]->box_graph) why = "carries a box model already: bundle the models it was made of";
    else if (g[0]->input_modes & SIALO_MODE_BOX) why = "(the first model) is trained for boxes: the first model must be one of whole frames";
    else if (!(g[1]->input_modes & SIALO_MODE_BOX)) why = "(the second model) was trained on whole frames: the second model must be trained for lesion boxes (train --boxes-from-masks)";
    if (why) {
        int k = g[0]->box_graph || (!g[1]->box_graph && (g[0]->input_modes & SIALO_MODE_BOX)) ? 0 : 1;
        char msg[700];
        snprintf(msg, sizeof msg, "%s %s", o->args[k], why);
        sialo_graph_free(g[0]); sialo_graph_free(g[1]); free(box_bytes);
        return die("%s", msg);
    }
    if (sialo_graph_same_classes(g[0], g[1]) < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", sialo_error());
        sialo_graph_free(g[0]); sialo_graph_free(g[1]); free(box_bytes);
        return die("%s", msg);
    }
    g[0]->box_graph = g[1];
    g[0]->box_file = box_bytes;
    g[0]->box_file_size = box_n;
    int bits = g[0]->storage_bits == 16 ? 16 : 32;
    if (sialo_graph_write_file(g[0], bits, o->out) < 0) {
        char msg[600];
        snprintf(msg, sizeof msg, "%s", sialo_error());
        sialo_graph_free(g[0]);
        return die("%s", msg);
    }
    printf("{\"out\":");
    json_str(stdout, o->out);
    printf(",\"whole\":{\"members\":%d,\"checksum\":\"%08x\"},\"box\":{\"members\":%d,\"checksum\":\"%08x\",\"box_margin\":%.6g}}\n",
           g[0]->n_members ? g[0]->n_members : 1, g[0]->checksum, g[1]->n_members ? g[1]->n_members : 1, g[1]->checksum, g[1]->box_margin);
    sialo_graph_free(g[0]);
    return 0;
}
