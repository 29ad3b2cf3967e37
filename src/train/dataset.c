/* dataset.c — loading, caching, splitting and augmenting a labelled image folder.
 *
 * Augmentation (seeded per sample and epoch, so a run is reproducible whatever the threads):
 *   random resized crop: area 75..100% of the frame, aspect 0.85..1.18, anywhere inside it;
 *   rotation: uniform -10..+10 degrees about the crop centre (edges clamp);
 *   horizontal flip: p = 0.5;
 *   brightness: +-10% of full scale; contrast: x0.9..1.1 about mid-grey;
 *   noise: approximately Gaussian (a sum of four uniforms), sigma 2% of full scale, per pixel and channel.
 * The crop is sampled bilinearly from a cache of the whole frame at 8/7 of the input side
 * (256 px for a 224 input), so the crop is close to 1:1 and needs no prefilter.
 */
#include "train/dataset.h"
#include "engine/graph.h"
#include "sialoscan.h"
#include "base/threadpool.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <dirent.h>
#include <sys/stat.h>

int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst);

static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double u01(uint64_t *s) { *s = mix(*s); return (double)(*s >> 11) * (1.0 / 9007199254740992.0); }

/* ------------------------------------------------------------------ listing + manifest */
static int add_sample(sialo_dataset *d, int *cap, const char *rel, int label) {
    if (d->n == *cap) {
        *cap = *cap ? *cap * 2 : 512;
        sialo_sample *ns = realloc(d->s, (size_t)*cap * sizeof *ns);
        if (!ns) return sialo_fail("out of memory");
        d->s = ns;
    }
    sialo_sample *s = &d->s[d->n++];
    memset(s, 0, sizeof *s);
    s->path = sialo_strdup(rel);
    s->label = label;
    s->group = -1;
    return s->path ? 0 : -1;
}

/* a file named without an image extension is taken when it is DICOM (the DICM marker at 128) */
static int dicom_by_magic(const char *path) {
    uint8_t head[132];
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    return sialo_is_dicom(head, n);
}

static int cmp_sample(const void *a, const void *b) { return strcmp(((const sialo_sample *)a)->path, ((const sialo_sample *)b)->path); }

static int list_class(sialo_dataset *d, int *cap, const char *dir, const char *cls, int label) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, cls);
    DIR *dd = opendir(path);
    if (!dd) return sialo_fail("'%s' has no %s/ folder", dir, cls);
    struct dirent *e;
    int rc = 0;
    while ((e = readdir(dd)) && rc == 0) {
        if (e->d_name[0] == '.') continue;
        const char *ext = strrchr(e->d_name, '.');
        char rel[1024], full[4096 + 512];
        snprintf(rel, sizeof rel, "%s/%s", cls, e->d_name);
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (!ext || (strcasecmp(ext, ".png") && strcasecmp(ext, ".jpg") && strcasecmp(ext, ".jpeg") &&
                     strcasecmp(ext, ".bmp") && strcasecmp(ext, ".gif") && strcasecmp(ext, ".dcm")))
            if (!dicom_by_magic(full)) continue;
        rc = add_sample(d, cap, rel, label);
    }
    closedir(dd);
    return rc;
}

/* MANIFEST.tsv: header names the columns; we read path, group, label_conflict */
static void read_manifest(sialo_dataset *d, const char *dir) {
    char path[4096];
    snprintf(path, sizeof path, "%s/MANIFEST.tsv", dir);
    FILE *f = fopen(path, "r");
    if (!f) return;
    char line[8192];
    int col_path = -1, col_group = -1, col_conf = -1;
    char **gnames = NULL;
    int ng = 0;
    if (fgets(line, sizeof line, f)) {
        int c = 0;
        for (char *tok = strtok(line, "\t\r\n"); tok; tok = strtok(NULL, "\t\r\n"), c++) {
            if (!strcmp(tok, "path")) col_path = c;
            else if (!strcmp(tok, "group")) col_group = c;
            else if (!strcmp(tok, "label_conflict")) col_conf = c;
        }
    }
    while (col_path >= 0 && fgets(line, sizeof line, f)) {
        char *cols[32] = {0};
        int c = 0;
        for (char *p = line; c < 32;) {
            cols[c++] = p;
            char *t = strpbrk(p, "\t\r\n");
            if (!t) break;
            int end = *t != '\t';
            *t = 0;
            if (end) break;
            p = t + 1;
        }
        if (col_path >= c || !cols[col_path]) continue;
        sialo_sample key = {.path = cols[col_path]};
        sialo_sample *s = bsearch(&key, d->s, (size_t)d->n, sizeof *d->s, cmp_sample);
        if (!s) continue;
        if (col_conf >= 0 && col_conf < c && cols[col_conf] && !strcmp(cols[col_conf], "yes")) s->conflict = 1;
        if (col_group >= 0 && col_group < c && cols[col_group] && strcmp(cols[col_group], "-") && cols[col_group][0]) {
            int gi = -1;
            for (int k = 0; k < ng; k++) if (!strcmp(gnames[k], cols[col_group])) { gi = k; break; }
            if (gi < 0) {
                char **nn = realloc(gnames, (size_t)(ng + 1) * sizeof *nn);
                if (!nn) break;
                gnames = nn;
                gnames[ng] = sialo_strdup(cols[col_group]);
                gi = ng++;
            }
            s->group = gi;
        }
    }
    for (int k = 0; k < ng; k++) free(gnames[k]);
    free(gnames);
    fclose(f);
    d->n_groups = ng;
}

/* ------------------------------------------------------------------ decode + cache (parallel) */
typedef struct {
    sialo_dataset *d;
    const char *dir;
    void (*progress)(int, int);
    int done;
} load_ctx;

/* the whole file, or NULL */
static uint8_t *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    long sz = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)sz)) &&
        fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
        free(buf);
        buf = NULL;
    }
    if (f) fclose(f);
    *n = buf ? (size_t)sz : 0;
    return buf;
}

static uint8_t *resize_u8(const sialo_image *img, int side) {
    float one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    float *tmp = malloc((size_t)side * side * 3 * sizeof(float));
    uint8_t *out = malloc((size_t)side * side * 3);
    if (!tmp || !out || sialo_resize_rgb(img->rgb, img->w, img->h, side, side, one, zero, tmp) < 0) { free(tmp); free(out); return NULL; }
    for (size_t i = 0; i < (size_t)side * side * 3; i++) {
        float v = tmp[i] + 0.5f;
        out[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    free(tmp);
    return out;
}

static void load_part(void *arg, int part, int nparts) {
    load_ctx *c = arg;
    sialo_dataset *d = c->d;
    for (int i = part; i < d->n; i += nparts) {
        sialo_sample *s = &d->s[i];
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", c->dir, s->path);
        size_t sz = 0;
        uint8_t *buf = read_file(path, &sz);
        sialo_image img;
        if (buf && sialo_image_decode(buf, sz, &img) == 0) {
            s->train = resize_u8(&img, d->train_side);
            s->val = resize_u8(&img, d->in_side);
            sialo_image_free(&img);
        }
        free(buf);
        if (part == 0 && c->progress) c->progress(i + 1, d->n);
    }
}

int sialo_dataset_load(sialo_dataset *d, const char *dir, int in_side, int threads, void (*progress)(int, int)) {
    memset(d, 0, sizeof *d);
    int cap = 0;
    if (list_class(d, &cap, dir, "benign", 0) < 0 || list_class(d, &cap, dir, "malignant", 1) < 0) { sialo_dataset_free(d); return -1; }
    if (d->n == 0) { sialo_dataset_free(d); return sialo_fail("no images in '%s'/benign or /malignant", dir); }
    qsort(d->s, (size_t)d->n, sizeof *d->s, cmp_sample);
    read_manifest(d, dir);
    for (int i = 0; i < d->n; i++) if (d->s[i].group < 0) d->s[i].group = d->n_groups++;
    d->in_side = in_side;
    d->train_side = (in_side * 8 + 6) / 7;
    sialo_pool *pool = sialo_pool_new(threads);
    if (!pool) { sialo_dataset_free(d); return sialo_fail("cannot start threads"); }
    load_ctx c = {d, dir, progress, 0};
    sialo_pool_run(pool, load_part, &c);
    sialo_pool_free(pool);
    /* drop unreadable files */
    int m = 0;
    for (int i = 0; i < d->n; i++) {
        if (!d->s[i].train || !d->s[i].val) {
            fprintf(stderr, "sialoscan: skipped unreadable image %s/%s\n", dir, d->s[i].path);
            free(d->s[i].path); free(d->s[i].train); free(d->s[i].val);
            d->unreadable++;
            continue;
        }
        d->s[m++] = d->s[i];
    }
    d->n = m;
    if (m == 0) { sialo_dataset_free(d); return sialo_fail("no readable images in '%s'", dir); }
    return 0;
}

void sialo_dataset_free(sialo_dataset *d) {
    for (int i = 0; i < d->n; i++) { free(d->s[i].path); free(d->s[i].train); free(d->s[i].val); free(d->s[i].mask); }
    free(d->s);
    memset(d, 0, sizeof *d);
}

/* ------------------------------------------------------------------ lesion masks */
int sialo_is_mask_of(const char *name, const char *stem) {
    size_t k = strlen(stem);
    if (strncmp(name, stem, k) || strncmp(name + k, "-mask", 5)) return 0;
    const char *r = name + k + 5;
    if (*r == '-' || *r == '_') {
        if (!isdigit((unsigned char)r[1])) return 0;
        for (r++; isdigit((unsigned char)*r); r++) {}
    }
    return !strcasecmp(r, ".png");
}

typedef struct {
    sialo_dataset *d;
    const char *dir;
    char **names[2]; /* file names in masks/benign, masks/malignant */
    int count[2];
} mask_ctx;

static void mask_part(void *arg, int part, int nparts) {
    mask_ctx *c = arg;
    sialo_dataset *d = c->d;
    int S = d->train_side;
    for (int i = part; i < d->n; i += nparts) {
        sialo_sample *s = &d->s[i];
        const char *base = strrchr(s->path, '/');
        base = base ? base + 1 : s->path;
        char stem[1024];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot) *dot = 0;
        int cls = s->label != 0;
        for (int k = 0; k < c->count[cls]; k++) {
            if (!sialo_is_mask_of(c->names[cls][k], stem)) continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/masks/%s/%s", c->dir, cls ? "malignant" : "benign", c->names[cls][k]);
            size_t n = 0;
            uint8_t *bytes = read_file(path, &n);
            sialo_image mk;
            if (!bytes || sialo_image_decode(bytes, n, &mk) < 0) { free(bytes); continue; }
            free(bytes);
            if (!s->mask) s->mask = calloc((size_t)S * S, 1);
            if (s->mask)
                for (int y = 0; y < S; y++) {
                    const uint8_t *row = mk.rgb + (size_t)((long long)(2 * y + 1) * mk.h / (2 * S)) * mk.w * 3;
                    for (int x = 0; x < S; x++) {
                        const uint8_t *px = row + (size_t)((long long)(2 * x + 1) * mk.w / (2 * S)) * 3;
                        if (px[0] > 127 || px[1] > 127 || px[2] > 127) s->mask[(size_t)y * S + x] = 1;
                    }
                }
            sialo_image_free(&mk);
        }
    }
}

int sialo_dataset_load_masks(sialo_dataset *d, const char *dir, int threads) {
    mask_ctx c = {d, dir, {NULL, NULL}, {0, 0}};
    static const char *const cls[2] = {"benign", "malignant"};
    int rc = 0;
    for (int k = 0; k < 2 && rc == 0; k++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/masks/%s", dir, cls[k]);
        DIR *dd = opendir(path);
        if (!dd) continue;
        struct dirent *e;
        int cap = 0;
        while ((e = readdir(dd))) {
            if (e->d_name[0] == '.') continue;
            if (c.count[k] == cap) {
                cap = cap ? cap * 2 : 256;
                char **nn = realloc(c.names[k], (size_t)cap * sizeof *nn);
                if (!nn) { rc = sialo_fail("out of memory"); break; }
                c.names[k] = nn;
            }
            if (!(c.names[k][c.count[k]] = sialo_strdup(e->d_name))) { rc = -1; break; }
            c.count[k]++;
        }
        closedir(dd);
    }
    if (rc == 0) {
        sialo_pool *pool = sialo_pool_new(threads);
        if (!pool) rc = sialo_fail("cannot start threads");
        else {
            sialo_pool_run(pool, mask_part, &c);
            sialo_pool_free(pool);
        }
    }
    for (int k = 0; k < 2; k++) {
        for (int j = 0; j < c.count[k]; j++) free(c.names[k][j]);
        free(c.names[k]);
    }
    if (rc < 0) return -1;
    int with = 0;
    for (int i = 0; i < d->n; i++) with += d->s[i].mask != NULL;
    return with;
}

/* ------------------------------------------------------------------ folds */
typedef struct { int group, label, size; uint64_t key; } ginfo;
static int by_size(const void *a, const void *b) {
    const ginfo *x = a, *y = b;
    if (x->size != y->size) return y->size - x->size;
    return (x->key > y->key) - (x->key < y->key);
}

void sialo_dataset_folds(const sialo_dataset *d, const int *idx, int n, int k, uint64_t seed, int *fold) {
    ginfo *g = calloc((size_t)d->n_groups, sizeof *g);
    int *gfold = malloc((size_t)d->n_groups * sizeof *gfold);
    int (*cnt)[2] = calloc((size_t)k, sizeof *cnt);
    if (!g || !gfold || !cnt) { free(g); free(gfold); free(cnt); for (int i = 0; i < n; i++) fold[i] = i % k; return; }
    for (int i = 0; i < d->n_groups; i++) { g[i].group = i; g[i].key = mix(seed ^ mix((uint64_t)i + 7)); gfold[i] = -1; }
    for (int j = 0; j < n; j++) {
        const sialo_sample *s = &d->s[idx[j]];
        g[s->group].size++;
        g[s->group].label += s->label ? 1 : -1; /* majority label decides the stratum */
    }
    qsort(g, (size_t)d->n_groups, sizeof *g, by_size);
    for (int i = 0; i < d->n_groups && g[i].size > 0; i++) {
        int lab = g[i].label > 0;
        int best = 0;
        for (int f = 1; f < k; f++) {
            /* the fold with the fewest of this class, then the fewest overall */
            if (cnt[f][lab] < cnt[best][lab] || (cnt[f][lab] == cnt[best][lab] && cnt[f][0] + cnt[f][1] < cnt[best][0] + cnt[best][1])) best = f;
        }
        gfold[g[i].group] = best;
        cnt[best][lab] += g[i].size;
    }
    for (int j = 0; j < n; j++) fold[j] = gfold[d->s[idx[j]].group];
    free(g); free(gfold); free(cnt);
}

/* ------------------------------------------------------------------ augmentation */
/* approximately standard normal: the sum of four uniforms (Irwin-Hall), cheap per pixel */
static double gauss(uint64_t *s) {
    *s = mix(*s);
    uint64_t z = *s;
    double a = (double)(z & 0xFFFF) + (double)((z >> 16) & 0xFFFF) + (double)((z >> 32) & 0xFFFF) + (double)(z >> 48);
    return (a / 65536.0 - 2.0) * 1.7320508075688772; /* var of the sum = 4/12 -> scale to 1 */
}

/* the geometric part of an augmentation: the first draws of the sample's generator */
typedef struct { double cw, ch, cx, cy, co, si; int flip; } aug_geometry;

static aug_geometry draw_geometry(uint64_t *r, int S) {
    aug_geometry g;
    double area = 0.75 + 0.25 * u01(r), logr = log(0.85) + (log(1.18) - log(0.85)) * u01(r), ar = exp(logr);
    g.cw = S * sqrt(area * ar);
    g.ch = S * sqrt(area / ar);
    if (g.cw > S) g.cw = S;
    if (g.ch > S) g.ch = S;
    g.cx = g.cw / 2 + (S - g.cw) * u01(r);
    g.cy = g.ch / 2 + (S - g.ch) * u01(r);
    double th = (u01(r) * 20.0 - 10.0) * 3.141592653589793 / 180.0;
    g.co = cos(th);
    g.si = sin(th);
    g.flip = u01(r) < 0.5;
    return g;
}

/* where the output point (tx, ty) in [0,1]^2 samples the cached frame (clamped to it) */
static void geometry_source(const aug_geometry *g, int S, double tx, double ty, double *sx, double *sy) {
    double u = (tx - 0.5) * g->cw, v = (ty - 0.5) * g->ch;
    if (g->flip) u = -u;
    double x = g->cx + g->co * u - g->si * v - 0.5, y = g->cy + g->si * u + g->co * v - 0.5;
    *sx = x < 0 ? 0 : x > S - 1 ? S - 1 : x;
    *sy = y < 0 ? 0 : y > S - 1 ? S - 1 : y;
}

static uint64_t sample_rng(uint64_t seed, int i) { return mix(seed ^ mix((uint64_t)i * 0x100000001B3ull)); }

void sialo_augment(const sialo_dataset *d, int i, uint64_t seed, const sialo_norm *nrm, float *dst) {
    const sialo_sample *s = &d->s[i];
    uint64_t r = sample_rng(seed, i);
    int S = d->train_side, N = d->in_side;
    aug_geometry geo = draw_geometry(&r, S);
    double bright = (u01(&r) * 0.2 - 0.1) * 255.0, contrast = 0.9 + 0.2 * u01(&r);
    for (int oy = 0; oy < N; oy++)
        for (int ox = 0; ox < N; ox++) {
            double sx, sy;
            geometry_source(&geo, S, (ox + 0.5) / N, (oy + 0.5) / N, &sx, &sy);
            int x0 = (int)sx, y0 = (int)sy, x1 = x0 + 1 < S ? x0 + 1 : x0, y1 = y0 + 1 < S ? y0 + 1 : y0;
            double fx = sx - x0, fy = sy - y0;
            float *o = dst + ((size_t)oy * N + ox) * 3;
            for (int c = 0; c < 3; c++) {
                double p = (1 - fy) * ((1 - fx) * s->train[((size_t)y0 * S + x0) * 3 + c] + fx * s->train[((size_t)y0 * S + x1) * 3 + c]) +
                           fy * ((1 - fx) * s->train[((size_t)y1 * S + x0) * 3 + c] + fx * s->train[((size_t)y1 * S + x1) * 3 + c]);
                p = (p - 127.5) * contrast + 127.5 + bright + gauss(&r) * 0.02 * 255.0;
                if (p < 0) p = 0;
                if (p > 255) p = 255;
                o[c] = (float)p * nrm->scale[c] + nrm->bias[c];
            }
        }
}

/* 4 x 4 points per cell, nearest pixel of the cached mask */
void sialo_augment_mask(const sialo_dataset *d, int i, uint64_t seed, int fh, int fw, float *cells) {
    const sialo_sample *s = &d->s[i];
    uint64_t r = sample_rng(seed, i);
    int S = d->train_side;
    aug_geometry geo = draw_geometry(&r, S);
    for (int cy = 0; cy < fh; cy++)
        for (int cx = 0; cx < fw; cx++) {
            int in = 0;
            for (int j = 0; j < 4; j++)
                for (int k = 0; k < 4; k++) {
                    double sx, sy;
                    geometry_source(&geo, S, (cx + (k + 0.5) / 4) / fw, (cy + (j + 0.5) / 4) / fh, &sx, &sy);
                    in += s->mask[(size_t)(int)(sy + 0.5) * S + (int)(sx + 0.5)] != 0;
                }
            cells[cy * fw + cx] = in / 16.0f;
        }
}

void sialo_val_input(const sialo_dataset *d, int i, const sialo_norm *nrm, float *dst) {
    const uint8_t *v = d->s[i].val;
    size_t n = (size_t)d->in_side * d->in_side;
    for (size_t k = 0; k < n; k++)
        for (int c = 0; c < 3; c++) dst[k * 3 + c] = v[k * 3 + c] * nrm->scale[c] + nrm->bias[c];
}
