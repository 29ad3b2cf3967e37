/* common.c — the helpers every subcommand uses: usage, errors, the model to open, reading a file, JSON
 * strings, class names. */
#include "cli/cli.h"
#include "train/boxes.h"
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

int die(const char *fmt, const char *arg) {
    fprintf(stderr, "sialoscan: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 1;
}

/* the shipped model: $SIALOSCAN_MODEL, or models/ next to the executable's build/ folder */
static const char *default_model(void) {
    static char path[4096];
    const char *env = getenv("SIALOSCAN_MODEL");
    if (env && *env) return env;
    char exe[2048];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            snprintf(path, sizeof path, "%s/../models/%s", exe, DEFAULT_MODEL_NAME);
            if (access(path, R_OK) == 0) return path;
        }
    }
    return NULL;
}

sialo_model *open_model(cli_opts *o) {
    const char *path = o->model ? o->model : default_model();
    if (!path) {
        die("%s", "no model given and no shipped model found (models/" DEFAULT_MODEL_NAME "); pass --model FILE");
        return NULL;
    }
    sialo_model *m = sialo_model_load_file(path, &o->opt);
    if (!m) die("%s", sialo_error());
    return m;
}

uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return sialo_fail_null("cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) { fclose(f); return sialo_fail_null("'%s' is not a regular file", path); }
    if (st.st_size > (off_t)1 << 30) { fclose(f); return sialo_fail_null("'%s' is larger than 1 GB", path); }
    size_t sz = (size_t)st.st_size;
    uint8_t *buf = malloc(sz ? sz : 1);
    if (!buf) { fclose(f); return sialo_fail_null("out of memory reading '%s'", path); }
    if (fread(buf, 1, sz, f) != sz) { fclose(f); free(buf); return sialo_fail_null("cannot read '%s'", path); }
    fclose(f);
    *n = sz;
    return buf;
}

static int cmp_path(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int walk_files(const char *dir, char ***v, int *count, int *cap, int depth) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        if ((size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path) continue;
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            if (depth < 8) walk_files(path, v, count, cap, depth + 1);
            continue;
        }
        if (!S_ISREG(st.st_mode)) continue;
        if (*count == *cap) {
            int nc = *cap ? *cap * 2 : 256;
            char **nv = realloc(*v, (size_t)nc * sizeof **v);
            if (!nv) break;
            *v = nv;
            *cap = nc;
        }
        (*v)[(*count)++] = sialo_strdup(path);
    }
    closedir(d);
    return 0;
}

char **list_files(const char *dir, int *count) {
    char **v = NULL;
    int cap = 0;
    *count = 0;
    if (walk_files(dir, &v, count, &cap, 0) < 0) return NULL;
    if (!v) v = calloc(1, sizeof *v);
    if (v && *count) qsort(v, (size_t)*count, sizeof *v, cmp_path);
    return v;
}

int is_image_file(const char *path, const uint8_t *bytes, size_t n) {
    const char *base = strrchr(path, '/'), *ext = strrchr(base ? base : path, '.');
    if (ext && (!strcasecmp(ext, ".png") || !strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg") || !strcasecmp(ext, ".bmp") ||
                !strcasecmp(ext, ".gif") || !strcasecmp(ext, ".dcm")))
        return 1;
    return bytes && sialo_is_dicom(bytes, n);
}

int skip_not_image(const char *path, const uint8_t *bytes, size_t n) {
    char why[300];
    if (!bytes || !sialo_dicom_not_image(bytes, n, why, sizeof why)) return 0;
    fprintf(stderr, "\rsialoscan: skipped %s: %s\n", path, why);
    return 1;
}

void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

const char *label_name(const sialo_model *m, int label) {
    const sialo_graph *g = m->g;
    if (label >= 0 && label < g->n_class_names) return g->class_names[label];
    return g->n_classes == 1 ? (label ? "positive" : "negative") : "?";
}

/* ,"ood":{...} of a result: the out-of-distribution check (not checked: an older model file) */
void print_ood(FILE *f, const sialo_ood *o) {
    if (!o->checked) { fprintf(f, ",\"ood\":{\"checked\":false,\"score\":null,\"flag\":null}"); return; }
    fprintf(f, ",\"ood\":{\"checked\":true,\"score\":%.7g,\"flag\":%s,\"threshold\":%.9g", o->score, o->flag ? "true" : "false",
            o->threshold);
    if (o->flag) { fprintf(f, ",\"warning\":"); json_str(f, SIALO_OOD_SENTENCE); }
    fprintf(f, "}");
}

int load_boxes_file(const char *path, sialo_box_table *t) {
    size_t n;
    uint8_t *b = read_all(path, &n);
    if (!b) { fprintf(stderr, "sialoscan: cannot open the boxes file '%s'\n", path); return -1; }
    int rc = sialo_boxes_parse_tsv(t, (const char *)b, n);
    free(b);
    if (rc < 0) fprintf(stderr, "sialoscan: %s: %s\n", path, sialo_error());
    return rc;
}

int load_mask_boxes(const char *dir, sialo_box_table *t) {
    static const char *const cls[2] = {"benign", "malignant"};
    int taken = 0;
    for (int c = 0; c < 2; c++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/masks/%s", dir, cls[c]);
        int nf = 0;
        char **files = list_files(p, &nf);
        for (int k = 0; files && k < nf; k++) {
            const char *base = strrchr(files[k], '/');
            char rel[4096];
            snprintf(rel, sizeof rel, "masks/%s/%s", cls[c], base ? base + 1 : files[k]);
            size_t n;
            uint8_t *b = read_all(files[k], &n);
            int r = b ? sialo_boxes_add_mask(t, rel, b, n) : -1;
            if (r < 0) fprintf(stderr, "sialoscan: skipped mask %s: %s\n", files[k], b ? sialo_error() : "cannot read it");
            taken += r > 0;
            free(b);
            free(files[k]);
        }
        free(files);
    }
    if (!taken) { fprintf(stderr, "sialoscan: '%s' has no lesion mask in masks/benign/ or masks/malignant/ to take boxes from\n", dir); return -1; }
    return 0;
}

int parse_box(const char *v, sialo_box *b) {
    long k[4];
    const char *p = v;
    for (int i = 0; i < 4; i++) {
        char *end;
        k[i] = strtol(p, &end, 10);
        if (end == p || k[i] < -1000000 || k[i] > 1000000 || (i < 3 ? *end != ',' : *end != 0)) {
            die("--box needs X,Y,W,H in frame pixels (four integers separated by commas), not '%s'", v);
            return -1;
        }
        p = end + 1;
    }
    b->x = (int)k[0]; b->y = (int)k[1]; b->w = (int)k[2]; b->h = (int)k[3];
    return 0;
}

int usage(void) {
    fprintf(stderr,
            "usage:\n"
            "  sialoscan info MODEL\n"
            "  sialoscan classify [--model M] IMAGE...        one JSON line per image (per frame of a DICOM file, \"frame\": k)\n"
            "      [--cam-out DIR] [--cam-layer L]           + Grad-CAM overlay DIR/<stem>-cam.png (\"cam\" in the JSON)\n"
            "      [--frame N] [--us-region]                 DICOM: only frame N; crop to the first ultrasound region\n"
            "      [--box X,Y,W,H [--margin F]]              classify that lesion box (frame pixels), grown by F per side (default: the model's)\n"
            "  sialoscan eval [--model M] DIR                 DIR/benign, DIR/malignant -> metrics JSON\n"
            "      [--cam] [--cam-layer L]                   + Grad-CAM localisation vs DIR/masks/<class>/<stem>-mask*.png\n"
            "      [--csv FILE] [--report FILE.html]         per-image CSV; HTML report (ROC, confusion matrix, misclassified frames)\n"
            "      [--frame N] [--us-region]                 DICOM files: frame N (default 0); crop to the first ultrasound region\n"
            "      [--boxes FILE | --boxes-from-masks] [--margin F]   box mode: each frame's lesion box (TSV path, x, y, w, h; or its masks)\n"
            "  sialoscan ood-fit --model M --data DIR --out M2 [--rank K] [--folds K] [--rate R]\n"
            "      [--boxes FILE | --boxes-from-masks]       the out-of-distribution statistics of M on DIR's frames (a box model: their boxes), into M2\n"
            "  sialoscan dicom-info FILE                      the DICOM file's non-identifying metadata, one JSON object\n"
            "  sialoscan frame [--frame N] [--us-region] FILE OUT.png   a decoded frame (DICOM or image) as PNG\n"
            "  sialoscan calibrate --model IN.sialo --predictions OOF.csv --out OUT.sialo [--method platt|temperature]\n"
            "                                                 fit p = sigmoid(a logit(p_raw) + b) on train's out-of-fold predictions\n"
            "  sialoscan ensemble A.sialo B.sialo [...] --out E.sialo [--threshold T] [--fp16]\n"
            "                                                 one file of several networks: p_raw = sigmoid(mean of their logits);\n"
            "                                                 then `calibrate` it on the ensemble's out-of-fold predictions\n"
            "  sialoscan bundle WHOLE.sialo BOX.sialo --out BOTH.sialo   one file: whole frames classified by WHOLE, lesion boxes by BOX\n"
            "  sialoscan init --arch resnet50v2|mobilenetv2|smallcnn [--input N] [--head binary|none]\n"
            "                 [--seed S] [--fp16] OUT        a model with random weights\n"
            "  sialoscan forward --model M --input X.f32 [--dump L1,L2 --dump-dir D]\n"
            "  sialoscan bench [--model M] [--runs N] [--cam [--cam-layer L]] [--profile]   --cam: overhead of Grad-CAM;\n"
            "                                                --profile: ms and GFLOP/s per kind of layer (table on stderr)\n"
            "  sialoscan convert --from tflite|keras-h5 IN OUT [--arch resnet50v2] [--input N] [--labels FILE]\n"
            "  sialoscan imagenet --model M [--crop 0.875] IMAGE...   top-5 ImageNet classes (central crop, 1 = whole photo)\n"
            "  sialoscan train --data DIR (--backbone M | --arch A) [--cv K] [--out M] ...   (train --help)\n"
            "images: PNG, JPEG, BMP, GIF, DICOM (.dcm or any name: Implicit/Explicit VR Little Endian, JPEG Baseline, RLE Lossless)\n"
            "options: --backend own|ref|xnnpack (default own), --threads N (default: all cores)\n");
    return 2;
}
