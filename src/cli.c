/* cli.c — the `sialoscan` command line.
 *
 *   sialoscan info MODEL
 *   sialoscan classify [--model M] [--cam-out DIR [--cam-layer L]] [--frame N] [--us-region] IMAGE...
 *                                             (Grad-CAM overlays: DIR/<stem>-cam.png; DICOM: one line per frame)
 *   sialoscan dicom-info FILE                 the non-identifying DICOM metadata, one JSON object
 *   sialoscan frame [--frame N] [--us-region] FILE OUT.png    a decoded frame (DICOM or image) as PNG
 *   sialoscan eval [--model M] [--cam [--cam-layer L]] DIR   (DIR/benign, DIR/malignant; DIR/masks/<class>/<stem>-mask*.png
 *                                             -> Grad-CAM localisation figures)
 *   sialoscan calibrate --model IN --predictions OOF.csv --out OUT [--method platt|temperature]
 *                                             (Platt / temperature scaling fitted on out-of-fold predictions)
 *   sialoscan ensemble A B [...] --out E [--threshold T] [--fp16]   (one file of several networks whose
 *                                             logits are averaged; then calibrate it on its own predictions)
 *   sialoscan init --arch A [--input N] [--head binary|none] [--seed S] OUT   (random weights)
 *   sialoscan forward --model M --input X.f32 [--dump L1,L2 --dump-dir D]
 *   sialoscan bench [--model M] [--runs N] [--cam [--cam-layer L]] [--profile]   (--cam: classify-only vs classify+Grad-CAM;
 *                   --profile: per layer and per kind of layer, after the timed runs)
 * Common options: --backend own|ref|xnnpack, --threads N. Errors go to stderr, exit status 1.
 */
#include "calibration.h"
#include "dataset.h"
#include "graph.h"
#include "metrics.h"
#include "report.h"
#include "train.h"
#include "importers.h"
#include "runtime.h"
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

#define DEFAULT_MODEL_NAME "sialoscan-busi.sialo"

typedef struct {
    const char *model;
    sialo_options opt;
    int runs;
    const char *arch, *head, *input, *dump, *dump_dir;
    int input_size, seed, storage_bits, warmup;
    int fp32;                        /* ensemble --fp32: fp32 even from fp16 networks */
    const char *cam_out, *cam_layer; /* Grad-CAM: overlay folder (classify), layer (NULL = default) */
    int cam;                         /* eval / bench: compute Grad-CAM */
    int profile;                     /* bench: time per layer and per kind of layer */
    const char *csv, *report;        /* eval: per-image CSV, HTML report */
    const char *predictions, *out, *method; /* calibrate */
    double threshold;                /* ensemble: the threshold on p_raw (NAN = 0.5) */
    double crop;                     /* imagenet: central crop fraction */
    int frame;                       /* DICOM frame (-1 = every frame in classify, frame 0 elsewhere) */
    int us_region;                   /* DICOM: crop to the first ultrasound region */
    int nargs;
    char **args;
} cli_opts;

static int die(const char *fmt, const char *arg) {
    fprintf(stderr, "sialoscan: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\n");
    return 1;
}

static int usage(void) {
    fprintf(stderr,
            "usage:\n"
            "  sialoscan info MODEL\n"
            "  sialoscan classify [--model M] IMAGE...        one JSON line per image (per frame of a DICOM file, \"frame\": k)\n"
            "      [--cam-out DIR] [--cam-layer L]           + Grad-CAM overlay DIR/<stem>-cam.png (\"cam\" in the JSON)\n"
            "      [--frame N] [--us-region]                 DICOM: only frame N; crop to the first ultrasound region\n"
            "  sialoscan eval [--model M] DIR                 DIR/benign, DIR/malignant -> metrics JSON\n"
            "      [--cam] [--cam-layer L]                   + Grad-CAM localisation vs DIR/masks/<class>/<stem>-mask*.png\n"
            "      [--csv FILE] [--report FILE.html]         per-image CSV; HTML report (ROC, confusion matrix, misclassified frames)\n"
            "      [--frame N] [--us-region]                 DICOM files: frame N (default 0); crop to the first ultrasound region\n"
            "  sialoscan dicom-info FILE                      the DICOM file's non-identifying metadata, one JSON object\n"
            "  sialoscan frame [--frame N] [--us-region] FILE OUT.png   a decoded frame (DICOM or image) as PNG\n"
            "  sialoscan calibrate --model IN.sialo --predictions OOF.csv --out OUT.sialo [--method platt|temperature]\n"
            "                                                 fit p = sigmoid(a logit(p_raw) + b) on train's out-of-fold predictions\n"
            "  sialoscan ensemble A.sialo B.sialo [...] --out E.sialo [--threshold T] [--fp16]\n"
            "                                                 one file of several networks: p_raw = sigmoid(mean of their logits);\n"
            "                                                 then `calibrate` it on the ensemble's out-of-fold predictions\n"
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

static int parse(int argc, char **argv, cli_opts *o) {
    memset(o, 0, sizeof *o);
    o->runs = 20;
    o->warmup = 3;
    o->input_size = 224;
    o->head = "binary";
    o->storage_bits = 32;
    o->frame = -1;
    o->threshold = NAN;
    o->args = calloc((size_t)argc + 1, sizeof *o->args);
    if (!o->args) return -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
#define VAL() (i + 1 < argc ? argv[++i] : (die("option %s needs a value", a), (char *)NULL))
        if (!strcmp(a, "--model")) { if (!(o->model = VAL())) return -1; }
        else if (!strcmp(a, "--backend")) {
            const char *b = VAL();
            if (!b) return -1;
            if (!strcmp(b, "own")) o->opt.backend = SIALO_BACKEND_OWN;
            else if (!strcmp(b, "ref")) o->opt.backend = SIALO_BACKEND_REF;
            else if (!strcmp(b, "xnnpack")) o->opt.backend = SIALO_BACKEND_XNNPACK;
            else { die("unknown backend '%s' (own, ref, xnnpack)", b); return -1; }
        }
        else if (!strcmp(a, "--threads")) { const char *v = VAL(); if (!v) return -1; o->opt.threads = atoi(v); }
        else if (!strcmp(a, "--runs")) { const char *v = VAL(); if (!v) return -1; o->runs = atoi(v); if (o->runs < 1) o->runs = 1; }
        else if (!strcmp(a, "--arch")) { if (!(o->arch = VAL())) return -1; }
        else if (!strcmp(a, "--head")) { if (!(o->head = VAL())) return -1; }
        else if (!strcmp(a, "--input")) {
            const char *v = VAL();
            if (!v) return -1;
            o->input = v;
            o->input_size = atoi(v);
        }
        else if (!strcmp(a, "--seed")) { const char *v = VAL(); if (!v) return -1; o->seed = atoi(v); }
        else if (!strcmp(a, "--dump")) { if (!(o->dump = VAL())) return -1; }
        else if (!strcmp(a, "--dump-dir")) { if (!(o->dump_dir = VAL())) return -1; }
        else if (!strcmp(a, "--fp16")) o->storage_bits = 16;
        else if (!strcmp(a, "--cam-out")) { if (!(o->cam_out = VAL())) return -1; }
        else if (!strcmp(a, "--cam-layer")) { if (!(o->cam_layer = VAL())) return -1; }
        else if (!strcmp(a, "--cam")) o->cam = 1;
        else if (!strcmp(a, "--profile")) o->profile = 1;
        else if (!strcmp(a, "--us-region")) o->us_region = 1;
        else if (!strcmp(a, "--frame")) {
            const char *v = VAL();
            if (!v) return -1;
            char *end;
            long k = strtol(v, &end, 10);
            if (!*v || *end || k < 0 || k > 1000000) { die("--frame needs a frame number (0, 1, ...), not '%s'", v); return -1; }
            o->frame = (int)k;
        }
        else if (!strcmp(a, "--csv")) { if (!(o->csv = VAL())) return -1; }
        else if (!strcmp(a, "--crop")) {
            const char *v = VAL();
            if (!v) return -1;
            o->crop = atof(v);
            if (!(o->crop > 0.05 && o->crop <= 1.0)) { die("--crop must be in (0.05, 1], not '%s'", v); return -1; }
        }
        else if (!strcmp(a, "--report")) { if (!(o->report = VAL())) return -1; }
        else if (!strcmp(a, "--predictions")) { if (!(o->predictions = VAL())) return -1; }
        else if (!strcmp(a, "--out")) { if (!(o->out = VAL())) return -1; }
        else if (!strcmp(a, "--method")) { if (!(o->method = VAL())) return -1; }
        else if (!strcmp(a, "--fp32")) o->fp32 = 1;
        else if (!strcmp(a, "--threshold")) {
            const char *v = VAL();
            if (!v) return -1;
            char *end;
            o->threshold = strtod(v, &end);
            if (!*v || *end || !(o->threshold >= 0 && o->threshold <= 1)) { die("--threshold needs a number in [0, 1], not '%s'", v); return -1; }
        }
        else if (a[0] == '-' && a[1] == '-') { die("unknown option '%s'", a); return -1; }
        else o->args[o->nargs++] = argv[i];
#undef VAL
    }
    return 0;
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

static sialo_model *open_model(cli_opts *o) {
    const char *path = o->model ? o->model : default_model();
    if (!path) {
        die("%s", "no model given and no shipped model found (models/" DEFAULT_MODEL_NAME "); pass --model FILE");
        return NULL;
    }
    sialo_model *m = sialo_model_load_file(path, &o->opt);
    if (!m) die("%s", sialo_error());
    return m;
}

static uint8_t *read_all(const char *path, size_t *n) {
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

static void json_str(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        if (*c == '"' || *c == '\\') fprintf(f, "\\%c", *c);
        else if (*c < 0x20) fprintf(f, "\\u%04x", *c);
        else fputc(*c, f);
    }
    fputc('"', f);
}

static const char *label_name(const sialo_model *m, int label) {
    const sialo_graph *g = m->g;
    if (label >= 0 && label < g->n_class_names) return g->class_names[label];
    return g->n_classes == 1 ? (label ? "positive" : "negative") : "?";
}

/* ------------------------------------------------------------------ commands */
static int cmd_info(cli_opts *o) {
    if (o->nargs == 1) o->model = o->args[0];
    else if (o->nargs > 1 || !o->model) return usage();
    sialo_model *m = open_model(o);
    if (!m) return 1;
    char *js = sialo_model_info_json(m);
    if (js) printf("%s\n", js);
    free(js);
    sialo_model_free(m);
    return js ? 0 : 1;
}

/* file name without folder and extension */
static void stem_of(const char *path, char *stem, size_t size) {
    const char *base = strrchr(path, '/');
    snprintf(stem, size, "%s", base ? base + 1 : path);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
}

/* decode, classify and Grad-CAM (class_index as sialo_classify_image_cam_class); on success the
   caller frees img and cam; r->ms covers all of it */
static int decode_and_cam(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, const char *layer,
                          int class_index, sialo_result *r, sialo_image *img, sialo_cam *cam) {
    double t0 = sialo_now_ms();
    if (sialo_image_decode_frame(bytes, n, frame, us_region, img) < 0) return -1;
    if (sialo_classify_image_cam_class(m, img, layer, class_index, r, cam) < 0) { sialo_image_free(img); return -1; }
    r->ms = sialo_now_ms() - t0;
    return 0;
}

/* classify + Grad-CAM; the overlay goes to DIR/<stem>-cam.png (path in cam_path) */
static int classify_cam_png(sialo_model *m, const char *dir, const char *layer, const char *image_path,
                            const uint8_t *bytes, size_t n, int frame, int multi, int us_region, sialo_result *r,
                            char *cam_path, size_t cam_path_size) {
    sialo_image img;
    sialo_cam cam;
    /* the overlay shows the malignant evidence, as the JS API does */
    if (decode_and_cam(m, bytes, n, frame, us_region, layer, -1, r, &img, &cam) < 0) return -1;
    char stem[1024];
    stem_of(image_path, stem, sizeof stem);
    if (multi) snprintf(cam_path, cam_path_size, "%s/%s-f%d-cam.png", dir, stem, frame);
    else snprintf(cam_path, cam_path_size, "%s/%s-cam.png", dir, stem);
    size_t np = (size_t)img.w * img.h;
    uint8_t *rgba = malloc(np * 4);
    int rc = -1;
    if (!rgba) sialo_fail("out of memory");
    else if (sialo_cam_overlay(&img, &cam, -1.0f, rgba) == 0) {
        for (size_t p = 0; p < np; p++) memmove(rgba + 3 * p, rgba + 4 * p, 3); /* RGB: the alpha is 255 */
        if (stbi_write_png(cam_path, img.w, img.h, 3, rgba, img.w * 3)) rc = 0;
        else sialo_fail("cannot write '%s'", cam_path);
    }
    free(rgba);
    sialo_cam_free(&cam);
    sialo_image_free(&img);
    return rc;
}

/* decode one frame and classify it; r->ms covers both */
static int classify_frame(sialo_model *m, const uint8_t *bytes, size_t n, int frame, int us_region, sialo_result *r) {
    double t0 = sialo_now_ms();
    sialo_image img;
    if (sialo_image_decode_frame(bytes, n, frame, us_region, &img) < 0) return -1;
    int rc = sialo_classify_image(m, &img, r);
    sialo_image_free(&img);
    r->ms = sialo_now_ms() - t0;
    return rc;
}

static void print_error_line(const char *file, int frame) {
    fprintf(stderr, "sialoscan: %s: %s\n", file, sialo_error());
    printf("{\"file\":");
    json_str(stdout, file);
    if (frame >= 0) printf(",\"frame\":%d", frame);
    printf(",\"error\":");
    json_str(stdout, sialo_error());
    printf("}\n");
}

static int cmd_classify(cli_opts *o) {
    if (o->nargs < 1) return usage();
    if (o->cam_out && mkdir(o->cam_out, 0777) != 0 && errno != EEXIST)
        return die("cannot create the Grad-CAM folder '%s'", o->cam_out);
    sialo_model *m = open_model(o);
    if (!m) return 1;
    int failures = 0;
    for (int i = 0; i < o->nargs; i++) {
        size_t n;
        uint8_t *bytes = read_all(o->args[i], &n);
        int dicom = bytes && sialo_is_dicom(bytes, n);
        int frames = bytes ? sialo_image_frames(bytes, n) : -1;
        if (frames < 0) {
            print_error_line(o->args[i], -1);
            failures++;
            free(bytes);
            continue;
        }
        int f0 = o->frame >= 0 ? o->frame : 0, f1 = o->frame >= 0 ? o->frame + 1 : frames;
        for (int k = f0; k < f1; k++) {
            sialo_result r;
            char cam_path[4096] = "";
            if ((o->cam_out ? classify_cam_png(m, o->cam_out, o->cam_layer, o->args[i], bytes, n, k, dicom && frames > 1, o->us_region,
                                               &r, cam_path, sizeof cam_path)
                            : classify_frame(m, bytes, n, k, o->us_region, &r)) < 0) {
                print_error_line(o->args[i], dicom ? k : -1);
                failures++;
            } else {
                printf("{\"file\":");
                json_str(stdout, o->args[i]);
                if (dicom) printf(",\"frame\":%d", k);
                printf(",\"p_malignant\":%.6f,\"label\":", r.p_positive);
                json_str(stdout, label_name(m, r.label));
                printf(",\"threshold\":%.6g,\"ms\":%.1f", r.threshold, r.ms);
                if (*cam_path) { printf(",\"cam\":"); json_str(stdout, cam_path); }
                printf("}\n");
            }
            fflush(stdout);
        }
        free(bytes);
    }
    sialo_model_free(m);
    return failures ? 1 : 0;
}

static int cmd_dicom_info(cli_opts *o) {
    if (o->nargs != 1) return usage();
    size_t n;
    uint8_t *bytes = read_all(o->args[0], &n);
    sialo_dicom_info in;
    char *js = NULL;
    if (bytes && sialo_dicom_read_info(bytes, n, &in) == 0) js = sialo_dicom_info_json(&in);
    free(bytes);
    if (!js) { fprintf(stderr, "sialoscan: %s: %s\n", o->args[0], sialo_error()); return 1; }
    printf("%s\n", js);
    free(js);
    return 0;
}

static int cmd_frame(cli_opts *o) {
    if (o->nargs != 2) return usage();
    size_t n;
    uint8_t *bytes = read_all(o->args[0], &n);
    sialo_image img;
    int rc = bytes ? sialo_image_decode_frame(bytes, n, o->frame < 0 ? 0 : o->frame, o->us_region, &img) : -1;
    free(bytes);
    if (rc < 0) { fprintf(stderr, "sialoscan: %s: %s\n", o->args[0], sialo_error()); return 1; }
    rc = stbi_write_png(o->args[1], img.w, img.h, 3, img.rgb, img.w * 3) ? 0 : die("cannot write '%s'", o->args[1]);
    sialo_image_free(&img);
    return rc;
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

static int cmd_eval(cli_opts *o) {
    if (o->nargs != 1) return usage();
    const char *root = o->args[0];
    char dir[4096];
    int nb, nm;
    snprintf(dir, sizeof dir, "%s/benign", root);
    char **ben = list_dir(dir, &nb);
    snprintf(dir, sizeof dir, "%s/malignant", root);
    char **mal = list_dir(dir, &nm);
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
    int total = nb + nm, n = 0, unreadable = 0;
    float *p = malloc((size_t)total * sizeof *p);
    int *y = malloc((size_t)total * sizeof *y);
    sialo_report_item *items = calloc((size_t)total, sizeof *items);
    float *pt = malloc((size_t)total * sizeof *pt), *pe = malloc((size_t)total * sizeof *pe); /* per-image CAM figures */
    double t0 = sialo_now_ms();
    for (int i = 0; i < total; i++) {
        const char *path = i < nb ? ben[i] : mal[i - nb];
        size_t sz;
        uint8_t *bytes = read_all(path, &sz);
        sialo_result r;
        int has_mask = 0, hit = 0;
        double energy = 0;
        int frame = o->frame > 0 && bytes && sialo_is_dicom(bytes, sz) ? o->frame : 0; /* --frame: DICOM files only */
        char *cam_thumb = NULL;
        if (!bytes || (cam_on ? eval_cam_one(m, o->cam_layer, bytes, sz, frame, o->us_region, path, i < nb ? mask_b : mask_m,
                                             i < nb ? nmb : nmm, i >= nb, &r, &has_mask, &hit, &energy, o->report ? &cam_thumb : NULL)
                              : classify_frame(m, bytes, sz, frame, o->us_region, &r)) < 0) {
            fprintf(stderr, "\rsialoscan: skipped %s: %s\n", path, sialo_error());
            unreadable++;
        } else {
            p[n] = r.p_positive;
            y[n] = i >= nb;
            items[n].file = path;
            items[n].label = y[n];
            items[n].p = p[n];
            if (cam_thumb) { items[n].thumb_png64 = cam_thumb; items[n].thumb_is_cam = 1; cam_thumb = NULL; }
            else if (o->report && r.label != y[n]) items[n].thumb_png64 = sialo_thumbnail_base64(bytes, sz, 160);
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
    printf("{\"n\":%d,\"unreadable\":%d", mt.n, unreadable);
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
            fprintf(f, "file,label,p_malignant,predicted%s\n", cam_on ? ",cam_pointing,cam_energy_in_mask" : "");
            for (int i = 0; i < n; i++) {
                fprintf(f, "\"%s\",%s,%.6f,%s", items[i].file, items[i].label ? "malignant" : "benign", items[i].p,
                        items[i].p >= m->g->threshold ? "malignant" : "benign");
                if (cam_on && !isnan(pt[i])) fprintf(f, ",%d,%.4f", (int)pt[i], pe[i]);
                else if (cam_on) fprintf(f, ",,");
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
    free(items); free(pt); free(pe);
    for (int i = 0; i < nb; i++) free(ben[i]);
    for (int i = 0; i < nm; i++) free(mal[i]);
    for (int i = 0; i < nmb; i++) free(mask_b[i]);
    for (int i = 0; i < nmm; i++) free(mask_m[i]);
    free(ben); free(mal); free(mask_b); free(mask_m); free(p); free(y);
    sialo_model_free(m);
    return rc;
}

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

static int cmd_calibrate(cli_opts *o) {
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
static int cmd_ensemble(cli_opts *o) {
    if (o->nargs < 2 || !o->out) {
        fprintf(stderr, "usage: sialoscan ensemble A.sialo B.sialo [...] --out E.sialo [--threshold T] [--fp16 | --fp32]\n"
                        "  one model file of 2 to %d networks that take the same input: p_raw = sigmoid(mean of their logits),\n"
                        "  threshold T on p_raw (default 0.5), no calibration: fit one with\n"
                        "  sialoscan calibrate --model E.sialo --predictions ENSEMBLE_OOF.csv --out E.sialo\n"
                        "  (the ensemble's pooled out-of-fold predictions: node tools/ensemble-oof.mjs A/oof.csv B/oof.csv)\n",
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

static int cmd_init(cli_opts *o) {
    if (o->nargs != 1 || !o->arch) return usage();
    sialo_graph *g = sialo_arch_build(o->arch, o->input_size, o->input_size, o->head, 0);
    if (!g) return die("%s", sialo_error());
    sialo_graph_randomize(g, (uint64_t)o->seed);
    char prov[256];
    snprintf(prov, sizeof prov, "random weights (sialoscan init --arch %s --seed %d); not trained", o->arch, o->seed);
    sialo_graph_set_text(&g->provenance, prov);
    int rc = sialo_graph_write_file(g, o->storage_bits, o->args[0]);
    sialo_graph_free(g);
    if (rc < 0) return die("%s", sialo_error());
    return 0;
}

static int cmd_forward(cli_opts *o) {
    if (!o->input) return usage();
    if (o->dump) o->opt.keep_activations = 1;
    sialo_model *m = open_model(o);
    if (!m) return 1;
    size_t n;
    uint8_t *bytes = read_all(o->input, &n);
    const sialo_graph *g = m->g;
    size_t want = (size_t)g->in_h * g->in_w * g->in_c * sizeof(float);
    if (!bytes || n != want) {
        if (bytes) sialo_fail("'%s' has %zu bytes; the model takes %dx%dx%d float32 = %zu bytes", o->input, n, g->in_h, g->in_w, g->in_c, want);
        free(bytes);
        sialo_model_free(m);
        return die("%s", sialo_error());
    }
    size_t osz = sialo_output_size(m);
    float *out = malloc(osz * sizeof *out);
    if (!out || sialo_forward(m, (const float *)bytes, out) < 0) {
        free(out); free(bytes); sialo_model_free(m);
        return die("%s", sialo_error());
    }
    printf("[");
    for (size_t i = 0; i < osz; i++) printf("%s%.9g", i ? "," : "", out[i]);
    printf("]\n");
    int rc = 0;
    if (o->dump) {
        char *list = sialo_strdup(o->dump), *save = NULL;
        for (char *name = strtok_r(list, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
            int shape[4];
            const float *a = sialo_activation(m, name, shape);
            if (!a) { rc = die("%s", sialo_error()); break; }
            char path[4096];
            snprintf(path, sizeof path, "%s/%s.f32", o->dump_dir ? o->dump_dir : ".", name);
            for (char *c = path + strlen(o->dump_dir ? o->dump_dir : ".") + 1; *c; c++) if (*c == '/') *c = '_';
            FILE *f = fopen(path, "wb");
            size_t cnt = (size_t)shape[0] * shape[1] * shape[2] * shape[3];
            if (!f || fwrite(a, sizeof(float), cnt, f) != cnt) { if (f) fclose(f); rc = die("cannot write '%s'", path); break; }
            fclose(f);
            fprintf(stderr, "%s: %dx%dx%dx%d -> %s\n", name, shape[0], shape[1], shape[2], shape[3], path);
        }
        free(list);
    }
    free(out); free(bytes);
    sialo_model_free(m);
    return rc;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* the "kinds" of a profile JSON as a table (the JSON is ours: a flat scan is enough) */
static void print_profile_table(FILE *f, const char *js) {
    fprintf(f, "%-22s %6s %9s %7s %9s\n", "kind", "layers", "ms", "share", "GFLOP/s");
    const char *p = strstr(js, "\"kinds\":[");
    while (p && (p = strstr(p, "{\"kind\":\""))) {
        char kind[64] = "";
        int layers = 0;
        double ms = 0, share = 0, macs = 0, gf = 0;
        if (sscanf(p, "{\"kind\":\"%63[^\"]\",\"layers\":%d,\"ms\":%lf,\"share\":%lf,\"macs\":%lf,\"gflops\":%lf", kind, &layers, &ms,
                   &share, &macs, &gf) == 6)
            fprintf(f, "%-22s %6d %9.3f %6.1f%% %9.1f\n", kind, layers, ms, 100 * share, gf);
        p++;
    }
    double total = 0, gf = 0;
    const char *q = strstr(js, "\"total_ms\":");
    if (q && sscanf(q, "\"total_ms\":%lf", &total) == 1 && (q = strstr(q, "\"gflops\":")) && sscanf(q, "\"gflops\":%lf", &gf) == 1)
        fprintf(f, "%-22s %6s %9.3f %6.1f%% %9.1f\n", "total", "", total, 100.0, gf);
}

static int cmd_bench(cli_opts *o) {
    sialo_model *m = open_model(o);
    if (!m) return 1;
    const sialo_graph *g = m->g;
    size_t nin = (size_t)g->in_h * g->in_w * 3;
    float *x = malloc(nin * sizeof *x), *y = malloc(sialo_output_size(m) * sizeof *y);
    double *t = malloc((size_t)o->runs * sizeof *t), *tc = malloc((size_t)o->runs * sizeof *tc);
    if (!x || !y || !t || !tc) return die("%s", "out of memory");
    for (size_t i = 0; i < nin; i++) x[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    /* --cam: forward + Grad-CAM (backward to the layer, weighted sum, upsampling to a 640x480 frame,
       normalisation), interleaved with the plain forward; the first call pins the layers */
    enum { CAM_W = 640, CAM_H = 480 };
    sialo_cam cam;
    char *cam_layer = NULL;
    if (o->cam) {
        if (sialo_cam_forward(m, x, o->cam_layer, -1, CAM_W, CAM_H, y, &cam) < 0) return die("%s", sialo_error());
        cam_layer = sialo_strdup(cam.layer);
        sialo_cam_free(&cam);
    }
    for (int i = 0; i < o->warmup; i++) {
        sialo_forward(m, x, y);
        if (o->cam && sialo_cam_forward(m, x, o->cam_layer, -1, CAM_W, CAM_H, y, &cam) == 0) sialo_cam_free(&cam);
    }
    for (int i = 0; i < o->runs; i++) {
        double t0 = sialo_now_ms();
        if (sialo_forward(m, x, y) < 0) return die("%s", sialo_error());
        t[i] = sialo_now_ms() - t0;
        if (!o->cam) continue;
        t0 = sialo_now_ms();
        if (sialo_cam_forward(m, x, o->cam_layer, -1, CAM_W, CAM_H, y, &cam) < 0) return die("%s", sialo_error());
        sialo_cam_free(&cam);
        tc[i] = sialo_now_ms() - t0;
    }
    qsort(t, (size_t)o->runs, sizeof *t, cmp_double);
    qsort(tc, (size_t)(o->cam ? o->runs : 0), sizeof *tc, cmp_double);
    static const char *const bn[] = {"own", "ref", "xnnpack"};
    sialo_info bench_info;
    sialo_model_info(m, &bench_info);
    printf("{\"arch\":\"%s\",\"input\":%d,\"backend\":\"%s\",\"threads\":%d,\"runs\":%d,\"median_ms\":%.2f,\"min_ms\":%.2f,"
           "\"gemm_kernel\":\"%s\",\"dwconv_kernel\":\"%s\"",
           bench_info.arch, g->in_h, bn[o->opt.backend], sialo_pool_size(m->pool), o->runs, t[o->runs / 2], t[0],
           f32_gemm_kernel_name(), f32_dwconv_kernel_name());
    if (bench_info.n_members > 1) printf(",\"members\":%d", bench_info.n_members);
    if (o->cam) {
        printf(",\"cam_layer\":");
        json_str(stdout, cam_layer);
        printf(",\"cam_map\":\"%dx%d\",\"cam_median_ms\":%.2f,\"cam_min_ms\":%.2f,\"cam_overhead_pct\":%.1f", CAM_W, CAM_H,
               tc[o->runs / 2], tc[0], 100.0 * (tc[o->runs / 2] - t[o->runs / 2]) / t[o->runs / 2]);
    }
    if (o->profile) { /* after the timed runs, so that the clock calls do not weigh on them */
        if (sialo_profile_start(m) < 0) return die("%s", sialo_error());
        for (int i = 0; i < o->runs; i++)
            if (sialo_forward(m, x, y) < 0) return die("%s", sialo_error());
        char *js = sialo_profile_json(m);
        if (!js) return die("%s", sialo_error());
        printf(",\"clock_ghz\":%.2f,\"profile\":%s", sialo_clock_ghz(), js);
        print_profile_table(stderr, js);
        free(js);
    }
    printf("}\n");
    free(x); free(y); free(t); free(tc); free(cam_layer);
    sialo_model_free(m);
    return 0;
}

/* sialoscan convert --from tflite|keras-h5 IN OUT [--arch A] [--input N] [--labels FILE] [--fp16] */
static int cmd_convert(int argc, char **argv) {
    const char *from = NULL, *arch = "resnet50v2", *labels = NULL, *in = NULL, *out = NULL;
    int input = 224, bits = 32;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--from") && v) { from = v; i++; }
        else if (!strcmp(a, "--arch") && v) { arch = v; i++; }
        else if (!strcmp(a, "--input") && v) { input = atoi(v); i++; }
        else if (!strcmp(a, "--labels") && v) { labels = v; i++; }
        else if (!strcmp(a, "--fp16")) bits = 16;
        else if (a[0] == '-') return die("unknown or incomplete convert option '%s'", a);
        else if (!in) in = a;
        else if (!out) out = a;
        else return die("unexpected argument '%s'", a);
    }
    if (!from || !in || !out) {
        fprintf(stderr, "usage: sialoscan convert --from tflite|keras-h5 IN OUT [--arch resnet50v2] [--input 224] [--labels FILE] [--fp16]\n");
        return 2;
    }
    sialo_graph *g = NULL;
    if (!strcmp(from, "tflite")) {
        size_t n;
        uint8_t *bytes = read_all(in, &n);
        if (!bytes) return die("%s", sialo_error());
        g = sialo_import_tflite(bytes, n);
        if (g && !labels && sialo_graph_set_labels_tflite(g, bytes, n) < 0) fprintf(stderr, "sialoscan: warning: %s\n", sialo_error());
        free(bytes);
        if (g) {
            char prov[1024];
            snprintf(prov, sizeof prov, "converted from TensorFlow Lite file %s (weights dequantised to float)", in);
            sialo_graph_set_text(&g->provenance, prov);
        }
    } else if (!strcmp(from, "keras-h5")) {
        g = sialo_import_keras_h5(in, arch, input);
        if (g) {
            char prov[1024];
            snprintf(prov, sizeof prov, "converted from Keras HDF5 weights %s (%s backbone, input %d)", in, arch, input);
            sialo_graph_set_text(&g->provenance, prov);
        }
    } else {
        return die("unknown source format '%s' (tflite, keras-h5)", from);
    }
    if (!g) return die("%s", sialo_error());
    if (labels && sialo_graph_set_labels_file(g, labels) < 0) { sialo_graph_free(g); return die("%s", sialo_error()); }
    int rc = sialo_graph_write_file(g, bits, out);
    if (rc == 0) fprintf(stderr, "wrote %s: %s, %d layers, %zu parameters\n", out, g->arch, g->n_nodes, sialo_graph_param_count(g));
    sialo_graph_free(g);
    return rc < 0 ? die("%s", sialo_error()) : 0;
}

/* sialoscan imagenet --model M [--crop F] IMAGE...: top-5 classes. ImageNet evaluation preprocessing:
   the central F (default 87.5%) of the frame, antialiased bilinear resize to the input, then normalise. */
static int cmd_imagenet(cli_opts *o) {
    double crop = o->crop > 0 ? o->crop : 0.875;
    if (o->nargs < 1 || !o->model) { fprintf(stderr, "usage: sialoscan imagenet --model M IMAGE...\n"); return 2; }
    sialo_model *m = open_model(o);
    if (!m) return 1;
    const sialo_graph *g = m->g;
    size_t osz = sialo_output_size(m);
    float *x = malloc((size_t)g->in_h * g->in_w * 3 * sizeof *x), *y = malloc(osz * sizeof *y);
    int failures = 0;
    fprintf(stderr, "preprocessing: central %.1f%% crop, antialiased bilinear resize to %dx%d, x*%.6g%+.6g\n", 100 * crop, g->in_w,
            g->in_h, g->norm_scale[0], g->norm_bias[0]);
    for (int i = 0; i < o->nargs; i++) {
        size_t n;
        uint8_t *bytes = read_all(o->args[i], &n);
        sialo_image img = {0};
        int ok = bytes && sialo_image_decode(bytes, n, &img) == 0;
        if (ok) {
            int cw = (int)(img.w * crop + 0.5), ch = (int)(img.h * crop + 0.5), x0 = (img.w - cw) / 2, y0 = (img.h - ch) / 2;
            if (cw < 1) cw = 1;
            if (ch < 1) ch = 1;
            uint8_t *crop = malloc((size_t)cw * ch * 3);
            ok = crop != NULL;
            for (int r = 0; ok && r < ch; r++) memcpy(crop + (size_t)r * cw * 3, img.rgb + ((size_t)(y0 + r) * img.w + x0) * 3, (size_t)cw * 3);
            ok = ok && sialo_resize_rgb(crop, cw, ch, g->in_w, g->in_h, g->norm_scale, g->norm_bias, x) == 0 && sialo_forward(m, x, y) == 0;
            free(crop);
        }
        if (!ok) {
            fprintf(stderr, "sialoscan: %s: %s\n", o->args[i], sialo_error());
            failures++;
        } else {
            int top[5] = {-1, -1, -1, -1, -1};
            for (size_t c = 0; c < osz; c++)
                for (int k = 0; k < 5; k++)
                    if (top[k] < 0 || y[c] > y[top[k]]) { memmove(top + k + 1, top + k, (size_t)(4 - k) * sizeof *top); top[k] = (int)c; break; }
            printf("{\"file\":");
            json_str(stdout, o->args[i]);
            printf(",\"preprocessing\":\"central %.1f%% crop, bilinear (antialiased) %dx%d\",\"top5\":[", 100 * crop, g->in_w, g->in_h);
            for (int k = 0; k < 5 && top[k] >= 0; k++) {
                char fallback[32];
                snprintf(fallback, sizeof fallback, "class %d", top[k]);
                printf("%s{\"class\":%d,\"label\":", k ? "," : "", top[k]);
                json_str(stdout, top[k] < g->n_class_names ? g->class_names[top[k]] : fallback);
                printf(",\"p\":%.5f}", y[top[k]]);
            }
            printf("]}\n");
        }
        sialo_image_free(&img);
        free(bytes);
    }
    free(x); free(y);
    sialo_model_free(m);
    return failures ? 1 : 0;
}

/* sialoscan train: its own options (see sialo_train_opts in train.h) */
static int cmd_train(int argc, char **argv) {
    sialo_train_opts t = {0};
    t.batch = 16;
    t.seed = 1;
    t.weight_decay = 1e-4f;
    t.dropout = 0.5f;
    t.val_fraction = 0.15f;
    t.storage_bits = 16;
    t.attention_weight = 1.0f;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define TAKE(field) do { if (!v) return die("option %s needs a value", a); field; i++; } while (0)
        if (!strcmp(a, "--data")) TAKE(t.data_dir = v);
        else if (!strcmp(a, "--backbone")) TAKE(t.backbone = v);
        else if (!strcmp(a, "--arch")) TAKE(t.arch = v);
        else if (!strcmp(a, "--method")) TAKE(t.method = v);
        else if (!strcmp(a, "--schedule")) TAKE(t.schedule = v);
        else if (!strcmp(a, "--out")) TAKE(t.out = v);
        else if (!strcmp(a, "--checkpoint")) TAKE(t.checkpoint = v);
        else if (!strcmp(a, "--predictions")) TAKE(t.predictions = v);
        else if (!strcmp(a, "--cv")) TAKE(t.cv = atoi(v));
        else if (!strcmp(a, "--input")) TAKE(t.input = atoi(v));
        else if (!strcmp(a, "--batch")) TAKE(t.batch = atoi(v));
        else if (!strcmp(a, "--threads")) TAKE(t.threads = atoi(v));
        else if (!strcmp(a, "--seed")) TAKE(t.seed = strtoull(v, NULL, 10));
        else if (!strcmp(a, "--fold-seed")) TAKE(t.fold_seed = strtoull(v, NULL, 10));
        else if (!strcmp(a, "--calibration")) TAKE(t.calibration = v);
        else if (!strcmp(a, "--weight-decay")) TAKE(t.weight_decay = (float)atof(v));
        else if (!strcmp(a, "--dropout")) TAKE(t.dropout = (float)atof(v));
        else if (!strcmp(a, "--val-fraction")) TAKE(t.val_fraction = (float)atof(v));
        else if (!strcmp(a, "--attention-weight")) TAKE(t.attention_weight = (float)atof(v));
        else if (!strcmp(a, "--masks")) t.masks = 1;
        else if (!strcmp(a, "--resume")) t.resume = 1;
        else if (!strcmp(a, "--include-conflicts")) t.include_conflicts = 1;
        else if (!strcmp(a, "--fp32")) t.storage_bits = 32;
        else return die("unknown train option '%s'", a);
#undef TAKE
    }
    if (t.cv == 1 || t.cv < 0 || t.cv > 32) return die("%s", "--cv must be 2..32");
    if (!t.data_dir || (!t.out && t.cv < 2)) {
        fprintf(stderr,
                "usage: sialoscan train --data DIR (--backbone MODEL | --arch smallcnn|mobilenetv2|resnet50v2)\n"
                "         [--method gradual|full|frozen|scratch] [--schedule FILE] [--cv K] [--out MODEL]\n"
                "         [--checkpoint DIR [--resume]] [--predictions CSV] [--input N] [--batch 16] [--threads N]\n"
                "         [--seed 1] [--fold-seed S (default: --seed)] [--weight-decay 1e-4] [--dropout 0.5] [--val-fraction 0.15] [--include-conflicts] [--fp32]\n"
                "         [--calibration platt|temperature|none]   (with --cv and --out: fitted on the out-of-fold predictions; default platt)\n"
                "         [--masks [--attention-weight 1]]   guided attention: Grad-CAM energy outside DIR/masks/<class>/<stem>-mask*.png is penalised\n"
                "DIR holds benign/ and malignant/ (and optionally MANIFEST.tsv with near-duplicate groups).\n"
                "Needs --out, or --cv K >= 2 for cross-validation only.\n");
        return 2;
    }
    if (t.batch < 1 || t.batch > 512) return die("%s", "--batch must be 1..512");
    if (t.dropout < 0 || t.dropout >= 1) return die("%s", "--dropout must be in [0, 1)");
    if (!(t.attention_weight >= 0 && t.attention_weight <= 100)) return die("%s", "--attention-weight must be in [0, 100]");
    if (sialo_train(&t) < 0) return die("%s", sialo_error());
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[1];
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { usage(); return 0; }
    if (!strcmp(cmd, "--version")) { printf("sialoscan %s\n", SIALO_VERSION); return 0; }
    cli_opts o;
    if (parse(argc - 2, argv + 2, &o) < 0) { free(o.args); return 2; }
    int rc;
    if (!strcmp(cmd, "info")) rc = cmd_info(&o);
    else if (!strcmp(cmd, "classify")) rc = cmd_classify(&o);
    else if (!strcmp(cmd, "eval")) rc = cmd_eval(&o);
    else if (!strcmp(cmd, "dicom-info")) rc = cmd_dicom_info(&o);
    else if (!strcmp(cmd, "frame")) rc = cmd_frame(&o);
    else if (!strcmp(cmd, "init")) rc = cmd_init(&o);
    else if (!strcmp(cmd, "calibrate")) rc = cmd_calibrate(&o);
    else if (!strcmp(cmd, "ensemble")) rc = cmd_ensemble(&o);
    else if (!strcmp(cmd, "forward")) rc = cmd_forward(&o);
    else if (!strcmp(cmd, "bench")) rc = cmd_bench(&o);
    else if (!strcmp(cmd, "imagenet")) rc = cmd_imagenet(&o);
    else { fprintf(stderr, "sialoscan: unknown command '%s'\n", cmd); rc = usage(); }
    free(o.args);
    return rc;
}
