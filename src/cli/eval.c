/* eval.c — sialoscan eval: a labelled folder scored (AUC, sensitivity, specificity, calibration), its CSV
 * and HTML report, Grad-CAM localisation against the lesion masks. */
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

static float sialo_info_margin(const sialo_model *m) {
    sialo_info in;
    sialo_model_info(m, &in);
    return in.box_margin;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* sorted regular-file names of a folder */
static char **list_dir(const char *dir, int *count) {
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    char **v = NULL;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 256;
            char **nv = realloc(v, (size_t)cap * sizeof *v);
            if (!nv) break;
            v = nv;
        }
        v[(*count)++] = sialo_strdup(path);
    }
    closedir(d);
    if (v) qsort(v, (size_t)*count, sizeof *v, cmp_name);
    return v;
}

static void progress(int done, int total, double t0) {
    if (!isatty(2) && done != total && done % 25) return;
    double el = (sialo_now_ms() - t0) / 1000.0;
    double eta = done ? el / done * (total - done) : 0;
    int w = 30, f = total ? done * w / total : w;
    fprintf(stderr, "\r[%.*s%*s] %d/%d  %.1f img/s  ETA %.0fs ", f, "##############################", w - f, "",
            done, total, done ? done / el : 0.0, eta);
    if (done == total) fprintf(stderr, "\n");
    fflush(stderr);
}

static void json_num(const char *key, double v) {
    if (isnan(v)) printf(",\"%s\":null", key);
    else printf(",\"%s\":%.4f", key, v);
}

/* ---- Grad-CAM localisation in eval: DIR/masks/<class>/<stem>-mask[-K].png, several per frame united */
/* union of the frame's masks at w x h (nearest neighbour if a mask's size differs); NULL if none */
static uint8_t *load_masks(char **masks, int nmasks, const char *stem, int w, int h) {
    uint8_t *u = NULL;
    for (int k = 0; k < nmasks; k++) {
        const char *base = strrchr(masks[k], '/');
        if (!sialo_is_mask_of(base ? base + 1 : masks[k], stem)) continue;
        size_t n;
        uint8_t *bytes = read_all(masks[k], &n);
        sialo_image mk;
        if (!bytes || sialo_image_decode(bytes, n, &mk) < 0) {
            fprintf(stderr, "\rsialoscan: mask %s ignored: %s\n", masks[k], sialo_error());
            free(bytes);
            continue;
        }
        free(bytes);
        if (!u && !(u = calloc((size_t)w * h, 1))) { sialo_image_free(&mk); return NULL; }
        for (int y = 0; y < h; y++) {
            const uint8_t *row = mk.rgb + (size_t)((long long)y * mk.h / h) * mk.w * 3;
            for (int x = 0; x < w; x++) {
                const uint8_t *px = row + (size_t)((long long)x * mk.w / w) * 3;
                if (px[0] > 127 || px[1] > 127 || px[2] > 127) u[(size_t)y * w + x] = 1;
            }
        }
        sialo_image_free(&mk);
    }
    return u;
}

/* classify with Grad-CAM of the frame's true class (`truth`: 1 = malignant; a binary head's benign map
   is Grad-CAM of the negated logit); *has_mask = 1 and the scores if the frame has lesion masks.
   thumb != NULL: when the frame is misclassified, *thumb = a thumbnail of the malignant map's overlay
   (the map the page and classify --cam-out show) */
static int eval_cam_one(sialo_model *m, const char *layer, const uint8_t *bytes, size_t n, int frame, int us_region, const char *path,
                        char **masks, int nmasks, int truth, sialo_result *r, int *has_mask, int *hit, double *energy, char **thumb) {
    sialo_image img;
    sialo_cam cam;
    *has_mask = 0;
    if (decode_and_cam(m, bytes, n, frame, us_region, layer, truth, r, &img, &cam) < 0) return -1;
    char stem[1024];
    stem_of(path, stem, sizeof stem);
    uint8_t *mask = load_masks(masks, nmasks, stem, img.w, img.h);
    if (mask && sialo_cam_mask_scores(&cam, mask, hit, energy) == 0) *has_mask = 1;
    free(mask);
    if (thumb && r->label != truth) {
        sialo_cam mcam;
        sialo_result r2;
        const sialo_cam *show = &cam;
        if (truth != 1) { /* the malignant map */
            if (sialo_classify_image_cam_class(m, &img, layer, 1, &r2, &mcam) == 0) show = &mcam;
            else show = NULL;
        }
        uint8_t *rgba = show ? malloc((size_t)img.w * img.h * 4) : NULL;
        if (rgba && sialo_cam_overlay(&img, show, -1.0f, rgba) == 0) {
            for (size_t q = 0; q < (size_t)img.w * img.h; q++) memmove(rgba + 3 * q, rgba + 4 * q, 3);
            *thumb = sialo_thumbnail_rgb_base64(rgba, img.w, img.h, 160);
        }
        free(rgba);
        if (show == &mcam) sialo_cam_free(&mcam);
    }
    sialo_cam_free(&cam);
    sialo_image_free(&img);
    return 0;
}

int cmd_eval(cli_opts *o) {
    if (o->nargs != 1) return usage();
    const char *root = o->args[0];
    if (o->boxes && o->boxes_from_masks) return die("%s", "--boxes and --boxes-from-masks: choose one");
    int box_mode = o->boxes || o->boxes_from_masks;
    sialo_box_table boxes = {0};
    if (o->boxes && load_boxes_file(o->boxes, &boxes) < 0) return 1;
    if (o->boxes_from_masks && load_mask_boxes(root, &boxes) < 0) { sialo_boxes_free(&boxes); return 1; }
    char dir[4096];
    int nb, nm;
    snprintf(dir, sizeof dir, "%s/benign", root); /* with sub-folders: a scanner's USB export copied in */
    char **ben = list_files(dir, &nb);
    snprintf(dir, sizeof dir, "%s/malignant", root);
    char **mal = list_files(dir, &nm);
    if (!ben || !mal || nb + nm == 0) {
        for (int i = 0; i < nb; i++) free(ben[i]);
        for (int i = 0; i < nm; i++) free(mal[i]);
        free(ben); free(mal);
        return die("'%s' must hold benign/ and malignant/ folders of images", root);
    }
    sialo_model *m = open_model(o);
    if (!m) {
        for (int i = 0; i < nb; i++) free(ben[i]);
        for (int i = 0; i < nm; i++) free(mal[i]);
        free(ben); free(mal);
        return 1;
    }
    /* Grad-CAM only when there are lesion masks (or --cam) */
    struct stat mst;
    snprintf(dir, sizeof dir, "%s/masks", root);
    int cam_on = o->cam || (stat(dir, &mst) == 0 && S_ISDIR(mst.st_mode));
    if (box_mode && cam_on) {
        if (o->cam) fprintf(stderr, "sialoscan: box mode: no Grad-CAM localisation figures (the masks give the boxes)\n");
        cam_on = 0;
    }
    const char *cam_layer = o->cam_layer ? o->cam_layer : sialo_cam_default_layer(m);
    if (cam_on && (!cam_layer || sialo_graph_find_node(m->g, cam_layer) < 0)) {
        if (o->cam || o->cam_layer) { sialo_model_free(m); return die("Grad-CAM: %s", sialo_error()); }
        fprintf(stderr, "sialoscan: no Grad-CAM localisation figures: %s\n", sialo_error());
        cam_on = 0;
    }
    int nmb = 0, nmm = 0, cam_n = 0, cam_hits = 0, cam_n_mal = 0, cam_hits_mal = 0;
    double cam_energy = 0;
    char **mask_b = NULL, **mask_m = NULL;
    if (cam_on) {
        snprintf(dir, sizeof dir, "%s/masks/benign", root);
        mask_b = list_dir(dir, &nmb);
        snprintf(dir, sizeof dir, "%s/masks/malignant", root);
        mask_m = list_dir(dir, &nmm);
    }
    int total = nb + nm, n = 0, unreadable = 0, skipped = 0;
    float *p = malloc((size_t)total * sizeof *p);
    int *y = malloc((size_t)total * sizeof *y);
    sialo_report_item *items = calloc((size_t)total, sizeof *items);
    float *pt = malloc((size_t)total * sizeof *pt), *pe = malloc((size_t)total * sizeof *pe); /* per-image CAM figures */
    sialo_ood *ood = calloc((size_t)total, sizeof *ood); /* per-image out-of-distribution check */
    int ood_checked = 1, ood_flagged = 0;
    float ood_thr = 0;
    double t0 = sialo_now_ms();
    for (int i = 0; i < total; i++) {
        const char *path = i < nb ? ben[i] : mal[i - nb];
        size_t sz;
        uint8_t *bytes = read_all(path, &sz);
        sialo_result r;
        int has_mask = 0, hit = 0;
        double energy = 0;
        if (bytes && (!is_image_file(path, bytes, sz) || skip_not_image(path, bytes, sz))) { /* a DICOMDIR, a report, a text file */
            skipped++;
            free(bytes);
            progress(i + 1, total, t0);
            continue;
        }
        int frame = o->frame > 0 && bytes && sialo_is_dicom(bytes, sz) ? o->frame : 0; /* --frame: DICOM files only */
        char *cam_thumb = NULL;
        if (box_mode) {
            size_t rl = strlen(root);
            const char *rel = !strncmp(path, root, rl) && path[rl] == '/' ? path + rl + 1 : path;
            int rc = bytes ? classify_frame_in_table(m, &boxes, rel, bytes, sz, frame, o->us_region, isnan(o->margin) ? -1.0f : (float)o->margin, &r) : -1;
            if (rc < 0) { fprintf(stderr, "\rsialoscan: skipped %s: %s\n", path, sialo_error()); unreadable++; free(bytes); progress(i + 1, total, t0); continue; }
        } else if (!bytes || (cam_on ? eval_cam_one(m, o->cam_layer, bytes, sz, frame, o->us_region, path, i < nb ? mask_b : mask_m,
                                             i < nb ? nmb : nmm, i >= nb, &r, &has_mask, &hit, &energy, o->report ? &cam_thumb : NULL)
                              : classify_frame(m, bytes, sz, frame, o->us_region, &r)) < 0) {
            fprintf(stderr, "\rsialoscan: skipped %s: %s\n", path, sialo_error());
            unreadable++;
            free(bytes);
            progress(i + 1, total, t0);
            continue;
        }
        {
            p[n] = r.p_positive;
            y[n] = i >= nb;
            items[n].file = path;
            items[n].label = y[n];
            items[n].p = p[n];
            if (cam_thumb) { items[n].thumb_png64 = cam_thumb; items[n].thumb_is_cam = 1; cam_thumb = NULL; }
            else if (o->report && r.label != y[n]) items[n].thumb_png64 = sialo_thumbnail_base64(bytes, sz, 160);
            if (ood) ood[n] = r.ood;
            ood_checked &= r.ood.checked;
            ood_flagged += r.ood.checked && r.ood.flag;
            if (r.ood.checked) ood_thr = r.ood.threshold;
            pt[n] = has_mask ? (float)hit : NAN;
            pe[n] = has_mask ? (float)energy : NAN;
            n++;
            if (has_mask) {
                cam_n++; cam_hits += hit; cam_energy += energy;
                if (i >= nb) { cam_n_mal++; cam_hits_mal += hit; }
            }
        }
        free(cam_thumb);
        free(bytes);
        progress(i + 1, total, t0);
    }
    sialo_metrics mt;
    sialo_metrics_compute(p, y, n, m->g->threshold, &mt);
    printf("{\"n\":%d,\"unreadable\":%d,\"skipped\":%d", mt.n, unreadable, skipped);
    if (box_mode) printf(",\"box_mode\":true,\"margin\":%.6g", isnan(o->margin) ? (double)sialo_info_margin(m) : o->margin);
    json_num("accuracy", mt.accuracy);
    json_num("sensitivity", mt.sensitivity);
    json_num("specificity", mt.specificity);
    json_num("ppv", mt.ppv);
    json_num("npv", mt.npv);
    json_num("auc", mt.auc);
    double alo, ahi;
    sialo_auc_ci95(p, y, n, &alo, &ahi);
    if (isnan(alo)) printf(",\"auc_ci95\":null");
    else printf(",\"auc_ci95\":[%.4f,%.4f]", alo, ahi);
    printf(",\"tp\":%d,\"fp\":%d,\"tn\":%d,\"fn\":%d,\"threshold\":%.6g", mt.tp, mt.fp, mt.tn, mt.fn, m->g->threshold);
    /* calibration of the reported (calibrated) p: Brier score, expected calibration error (10 bins) */
    double *pd = malloc((size_t)(n ? n : 1) * sizeof *pd);
    for (int i = 0; pd && i < n; i++) pd[i] = p[i];
    if (pd && n) printf(",\"brier\":%.6f,\"ece\":%.6f", sialo_brier(pd, y, n), sialo_ece(pd, y, n));
    else printf(",\"brier\":null,\"ece\":null");
    free(pd);
    printf(",\"calibration\":{\"a\":%.9g,\"b\":%.9g}", m->g->calib_a, m->g->calib_b);
    /* the out-of-distribution check: frames flagged (their p is counted above as it is, never as benign) */
    if (ood_checked && n) printf(",\"ood\":{\"checked\":true,\"threshold\":%.9g,\"flagged\":%d,\"flagged_rate\":%.4f}", ood_thr, ood_flagged,
                                 (double)ood_flagged / n);
    else printf(",\"ood\":{\"checked\":false}");
    if (cam_on) { /* on the map of each frame's true class: share of masked frames whose CAM peak is in a lesion
                     (all; malignant frames only); mean share of CAM mass in the lesions */
        printf(",\"cam_layer\":");
        char names[1024] = "";
        for (int k = 0; k < m->n_members && !o->cam_layer; k++) { /* an ensemble: each network's default layer */
            const char *nm = sialo_cam_default_layer(m->member ? m->member[k] : m);
            size_t used = strlen(names);
            char probe[260];
            snprintf(probe, sizeof probe, "+%s+", nm ? nm : "?");
            char have[1030];
            snprintf(have, sizeof have, "+%s+", names);
            if (!strstr(have, probe)) snprintf(names + used, sizeof names - used, "%s%s", used ? "+" : "", nm ? nm : "?");
        }
        json_str(stdout, *names ? names : cam_layer);
        printf(",\"cam_map\":\"true class\",\"cam_n\":%d", cam_n);
        json_num("cam_pointing", cam_n ? (double)cam_hits / cam_n : NAN);
        printf(",\"cam_n_malignant\":%d", cam_n_mal);
        json_num("cam_pointing_malignant", cam_n_mal ? (double)cam_hits_mal / cam_n_mal : NAN);
        json_num("cam_energy_in_mask", cam_n ? cam_energy / cam_n : NAN);
    }
    printf("}\n");
    int rc = 0;
    if (o->csv) {
        FILE *f = fopen(o->csv, "w");
        if (!f) rc = die("cannot write '%s'", o->csv);
        else {
            fprintf(f, "file,label,p_malignant,predicted%s,ood_score,ood_flag\n", cam_on ? ",cam_pointing,cam_energy_in_mask" : "");
            for (int i = 0; i < n; i++) {
                fprintf(f, "\"%s\",%s,%.6f,%s", items[i].file, items[i].label ? "malignant" : "benign", items[i].p,
                        items[i].p >= m->g->threshold ? "malignant" : "benign");
                if (cam_on && !isnan(pt[i])) fprintf(f, ",%d,%.4f", (int)pt[i], pe[i]);
                else if (cam_on) fprintf(f, ",,");
                if (ood && ood[i].checked) fprintf(f, ",%.6g,%s", ood[i].score, ood[i].flag ? "true" : "false");
                else fprintf(f, ",,"); /* not checked */
                fprintf(f, "\n");
            }
            if (fclose(f) != 0) rc = die("cannot write '%s'", o->csv);
        }
    }
    if (o->report) {
        FILE *f = fopen(o->report, "w");
        char desc[600];
        sialo_info mi;
        sialo_model_info(m, &mi);
        snprintf(desc, sizeof desc, "%s (%s)", mi.arch, mi.provenance);
        if (!f || sialo_report_html(f, "sialoscan evaluation", desc, items, n, m->g->threshold, &mt) < 0) rc = die("cannot write the report '%s'", o->report);
        if (f && fclose(f) != 0) rc = die("cannot write the report '%s'", o->report);
        if (!rc) fprintf(stderr, "report: %s\n", o->report);
    }
    for (int i = 0; i < n; i++) free(items[i].thumb_png64);
    free(items); free(pt); free(pe); free(ood);
    for (int i = 0; i < nb; i++) free(ben[i]);
    for (int i = 0; i < nm; i++) free(mal[i]);
    for (int i = 0; i < nmb; i++) free(mask_b[i]);
    for (int i = 0; i < nmm; i++) free(mask_m[i]);
    free(ben); free(mal); free(mask_b); free(mask_m); free(p); free(y);
    sialo_model_free(m);
    sialo_boxes_free(&boxes);
    return rc;
}
