/* dataset.c — a labelled training folder in memory (files added one by one, frames cached as
 * 8-bit pixels), its folds, and augmentation. No file is read here: the CLI and the JS API hand the
 * files' bytes in (trainer.h gives the folder rules).
 *
 * Augmentation (seeded per sample and epoch, so a run is reproducible whatever the threads):
 *   random resized crop: area 75..100% of the frame, aspect 0.85..1.18, anywhere inside it;
 *   rotation: uniform -10..+10 degrees about the crop centre (edges clamp);
 *   horizontal flip: p = 0.5;
 *   brightness: +-10% of full scale; contrast: x0.9..1.1 about mid-grey;
 *   noise: approximately Gaussian (a sum of four uniforms), sigma 2% of full scale, per pixel and channel.
 * The crop is sampled bilinearly from a cache of the whole frame at 8/7 of the input side
 * (256 px for a 224 input), so the crop is close to 1:1 and needs no prefilter.
 *
 * Box mode (sialo_dataset_set_boxes): the random resized crop is replaced by box jitter, the
 * clinician's box never being exact: the box's centre shifts by up to +-jitter of its width and
 * height, its width and height scale by 1 +- jitter (each uniform, independently); the jittered
 * box is grown by the margin per side and clamped to the frame, as the engine does at inference
 * (io/box.c). Rotation, flip, brightness, contrast and noise as above. The cache holds the
 * context every jitter can reach (the box grown by ((0.5 + margin)(1 + jitter) + jitter) of its
 * side about its centre, clamped), at the training side; the validation input is the engine's own
 * crop (sialo_box_region), resized as a whole frame is.
 */
#include "train/dataset.h"
#include "base/base.h"
#include "sialoscan.h"
#include "base/threadpool.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst);

static uint64_t mix(uint64_t z) {
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
static double u01(uint64_t *s) { *s = mix(*s); return (double)(*s >> 11) * (1.0 / 9007199254740992.0); }

/* ------------------------------------------------------------------ adding files */
void sialo_dataset_init(sialo_dataset *d, int in_side, size_t max_bytes, int keep_masks) {
    memset(d, 0, sizeof *d);
    d->in_side = in_side;
    d->train_side = (in_side * 8 + 6) / 7;
    d->max_bytes = max_bytes;
    d->keep_masks = keep_masks;
    d->boxes = NULL;
}

size_t sialo_dataset_frame_bytes(const sialo_dataset *d) {
    return ((size_t)d->train_side * d->train_side + (size_t)d->in_side * d->in_side) * 3;
}

static int has_image_ext(const char *name) {
    const char *ext = strrchr(name, '.');
    return ext && (!strcasecmp(ext, ".png") || !strcasecmp(ext, ".jpg") || !strcasecmp(ext, ".jpeg") || !strcasecmp(ext, ".bmp") ||
                   !strcasecmp(ext, ".gif") || !strcasecmp(ext, ".dcm"));
}

/* what a file of the folder is, by its relative path (and bytes for DICOM without an extension) */
int sialo_dataset_kind(const char *rel, const uint8_t *bytes, size_t n, int *label) {
    *label = -1;
    for (const char *c = rel; *c; c++) /* hidden files and folders (".DS_Store", ".git/...") */
        if (*c == '.' && (c == rel || c[-1] == '/')) return SIALO_FILE_IGNORED;
    if (!strcmp(rel, "MANIFEST.tsv")) return SIALO_FILE_MANIFEST;
    const char *base = strrchr(rel, '/');
    base = base ? base + 1 : rel;
    if (!strncmp(rel, "masks/benign/", 13) || !strncmp(rel, "masks/malignant/", 16)) {
        *label = rel[6] == 'm';
        return strstr(base, "-mask") && !strchr(rel + (*label ? 16 : 13), '/') ? SIALO_FILE_MASK : SIALO_FILE_IGNORED;
    }
    if (!strncmp(rel, "benign/", 7)) *label = 0;
    else if (!strncmp(rel, "malignant/", 10)) *label = 1;
    else return SIALO_FILE_IGNORED;
    if (!has_image_ext(base) && !sialo_is_dicom(bytes, n)) return SIALO_FILE_IGNORED;
    return SIALO_FILE_FRAME;
}

static int grow(void **p, int *cap, int n, size_t elem) {
    if (n < *cap) return 0;
    int nc = *cap ? *cap * 2 : 256;
    void *q = realloc(*p, (size_t)nc * elem);
    if (!q) return sialo_fail("out of memory");
    *p = q;
    *cap = nc;
    return 0;
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

/* a lesion mask at S x S (nearest neighbour; any channel over 127 is lesion) */
static uint8_t *mask_u8(const sialo_image *mk, int S) {
    uint8_t *m = calloc((size_t)S * S, 1);
    if (!m) return NULL;
    for (int y = 0; y < S; y++) {
        const uint8_t *row = mk->rgb + (size_t)((long long)(2 * y + 1) * mk->h / (2 * S)) * mk->w * 3;
        for (int x = 0; x < S; x++) {
            const uint8_t *px = row + (size_t)((long long)(2 * x + 1) * mk->w / (2 * S)) * 3;
            if (px[0] > 127 || px[1] > 127 || px[2] > 127) m[(size_t)y * S + x] = 1;
        }
    }
    return m;
}

/* decode work of add_many, one item per file */
typedef struct {
    const uint8_t *bytes;
    size_t n;
    int kind;
    const char *rel;
    uint8_t *train, *val, *mask;
    int fw, fh;
    sialo_box box;
    double ctx[4];
    char why[400];
} add_item;
typedef struct { sialo_dataset *d; add_item *it; int count; } add_ctx;

static void box_cache(const sialo_dataset *d, const sialo_image *img, add_item *a);

static void decode_part(void *arg, int part, int nparts) {
    add_ctx *c = arg;
    for (int i = part; i < c->count; i += nparts) {
        add_item *a = &c->it[i];
        if (a->kind != SIALO_FILE_FRAME && !(a->kind == SIALO_FILE_MASK && c->d->keep_masks)) continue;
        sialo_image img;
        if (sialo_image_decode(a->bytes, a->n, &img) < 0) { snprintf(a->why, sizeof a->why, "%s", sialo_error()); continue; }
        if (a->kind == SIALO_FILE_FRAME && c->d->boxes) {
            box_cache(c->d, &img, a);
        } else if (a->kind == SIALO_FILE_FRAME) {
            a->train = resize_u8(&img, c->d->train_side);
            a->val = resize_u8(&img, c->d->in_side);
            if (!a->train || !a->val) snprintf(a->why, sizeof a->why, "out of memory");
        } else if (!(a->mask = mask_u8(&img, c->d->train_side))) snprintf(a->why, sizeof a->why, "out of memory");
        sialo_image_free(&img);
    }
}

void sialo_dataset_set_boxes(sialo_dataset *d, const sialo_box_table *boxes, float margin, float jitter) {
    d->boxes = boxes;
    d->box_margin = margin;
    d->box_jitter = jitter;
}

/* box mode: the frame's box, its context cached at the training side, the engine's crop as the
   validation input */
static void box_cache(const sialo_dataset *d, const sialo_image *img, add_item *a) {
    a->fw = img->w;
    a->fh = img->h;
    if (!sialo_boxes_find(d->boxes, a->rel, img->w, img->h, &a->box)) {
        snprintf(a->why, sizeof a->why, "no lesion box for this frame (box mode: a line of the boxes file, or a mask in masks/)");
        return;
    }
    sialo_box r;
    if (sialo_box_region(img->w, img->h, &a->box, d->box_margin, &r) < 0) { snprintf(a->why, sizeof a->why, "%s", sialo_error()); return; }
    double k = (0.5 + d->box_margin) * (1 + d->box_jitter) + d->box_jitter;
    double cx = a->box.x + a->box.w / 2.0, cy = a->box.y + a->box.h / 2.0;
    double x0 = floor(cx - k * a->box.w), y0 = floor(cy - k * a->box.h), x1 = ceil(cx + k * a->box.w), y1 = ceil(cy + k * a->box.h);
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > img->w) x1 = img->w;
    if (y1 > img->h) y1 = img->h;
    a->ctx[0] = x0; a->ctx[1] = y0; a->ctx[2] = x1 - x0; a->ctx[3] = y1 - y0;
    sialo_box cb = {(int)x0, (int)y0, (int)(x1 - x0), (int)(y1 - y0)};
    sialo_image ctx, crop;
    if (sialo_image_crop(img, &cb, &ctx) < 0) { snprintf(a->why, sizeof a->why, "%s", sialo_error()); return; }
    if (sialo_image_crop(img, &r, &crop) < 0) { sialo_image_free(&ctx); snprintf(a->why, sizeof a->why, "%s", sialo_error()); return; }
    a->train = resize_u8(&ctx, d->train_side);
    a->val = resize_u8(&crop, d->in_side);
    if (!a->train || !a->val) snprintf(a->why, sizeof a->why, "out of memory");
    sialo_image_free(&ctx);
    sialo_image_free(&crop);
}

static int add_file_entry(sialo_dataset *d, const char *rel, size_t n, uint32_t crc) {
    if (grow((void **)&d->files, &d->cap_files, d->n_files, sizeof *d->files) < 0) return -1;
    sialo_file_entry *e = &d->files[d->n_files];
    if (!(e->path = sialo_strdup(rel))) return -1;
    e->size = n;
    e->crc = crc;
    d->n_files++;
    return 0;
}

int sialo_dataset_add_many(sialo_dataset *d, int count, const char *const *rel, const uint8_t *const *bytes, const size_t *sizes,
                           int threads, int *status, char **reasons) {
    if (d->finished) return sialo_fail("the data set is closed: files are added before training starts");
    add_item *it = calloc((size_t)(count ? count : 1), sizeof *it);
    if (!it) return sialo_fail("out of memory");
    size_t fb = sialo_dataset_frame_bytes(d);
    int frames_planned = 0;
    for (int i = 0; i < count; i++) {
        add_item *a = &it[i];
        a->bytes = bytes[i];
        a->n = sizes[i];
        a->rel = rel[i];
        int label;
        a->kind = sialo_dataset_kind(rel[i], bytes[i], sizes[i], &label);
        if (a->kind == SIALO_FILE_FRAME && sialo_dicom_not_image(bytes[i], sizes[i], a->why, sizeof a->why)) {
            a->kind = SIALO_FILE_IGNORED; /* a DICOMDIR, a report, ...: ignored, the reason kept */
        } else if (a->kind == SIALO_FILE_IGNORED) {
            snprintf(a->why, sizeof a->why, "not a frame of a training folder (frames go in benign/ or malignant/, lesion masks in "
                     "masks/benign/ or masks/malignant/, groups in MANIFEST.tsv)");
        } else if (a->kind == SIALO_FILE_FRAME) {
            size_t need = d->bytes + (size_t)(frames_planned + 1) * fb;
            if (d->max_bytes && need > d->max_bytes) {
                snprintf(a->why, sizeof a->why, "the data set is too large for the memory this runtime can have: %d frames need %.0f MB "
                         "at the training size (%dx%d), the limit is %.0f MB", d->n + frames_planned + 1, need / 1048576.0, d->train_side,
                         d->train_side, d->max_bytes / 1048576.0);
                a->kind = -1;
            } else frames_planned++;
        }
    }
    sialo_pool *pool = sialo_pool_new(threads);
    if (!pool) { free(it); return sialo_fail("cannot start threads"); }
    add_ctx c = {d, it, count};
    sialo_pool_run(pool, decode_part, &c);
    sialo_pool_free(pool);
    int rc = 0;
    for (int i = 0; i < count && rc == 0; i++) {
        add_item *a = &it[i];
        int st;
        if (a->kind == SIALO_FILE_IGNORED) { st = 0; d->ignored++; }
        else if (a->kind < 0 || a->why[0]) { st = -1; }
        else st = 1;
        if (st < 0) {
            if (grow((void **)&d->refused, &d->cap_refused, d->n_refused, sizeof *d->refused) < 0) { rc = -1; break; }
            d->refused[d->n_refused].path = sialo_strdup(rel[i]);
            d->refused[d->n_refused].reason = sialo_strdup(a->why);
            d->n_refused++;
            if (a->kind == SIALO_FILE_FRAME) d->unreadable++;
        }
        if (st == 1) {
            if (add_file_entry(d, rel[i], a->n, sialo_crc32(a->bytes, a->n)) < 0) { rc = -1; break; }
            int label;
            sialo_dataset_kind(rel[i], a->bytes, a->n, &label);
            if (a->kind == SIALO_FILE_FRAME) {
                if (grow((void **)&d->s, &d->cap, d->n, sizeof *d->s) < 0) { rc = -1; break; }
                sialo_sample *s = &d->s[d->n++];
                memset(s, 0, sizeof *s);
                s->path = sialo_strdup(rel[i]);
                s->label = label;
                s->group = -1;
                s->train = a->train; s->val = a->val;
                a->train = a->val = NULL;
                s->fw = a->fw; s->fh = a->fh; s->box = a->box;
                memcpy(s->ctx, a->ctx, sizeof s->ctx);
                d->bytes += fb;
            } else if (a->kind == SIALO_FILE_MASK) {
                if (grow((void **)&d->masks, &d->cap_masks, d->n_masks, sizeof *d->masks) < 0) { rc = -1; break; }
                sialo_mask_file *mf = &d->masks[d->n_masks++];
                const char *base = strrchr(rel[i], '/') + 1;
                mf->name = sialo_strdup(base);
                mf->label = label;
                mf->mask = a->mask;
                a->mask = NULL;
            } else { /* the manifest: kept as text until finish */
                free(d->manifest);
                d->manifest = malloc(a->n + 1);
                if (!d->manifest) { rc = sialo_fail("out of memory"); break; }
                memcpy(d->manifest, a->bytes, a->n);
                d->manifest[a->n] = 0;
            }
        }
        if (status) status[i] = st;
        if (reasons) reasons[i] = st != 1 ? sialo_strdup(a->why) : NULL;
    }
    for (int i = 0; i < count; i++) { free(it[i].train); free(it[i].val); free(it[i].mask); }
    free(it);
    return rc;
}

int sialo_dataset_add(sialo_dataset *d, const char *rel, const uint8_t *bytes, size_t n) {
    int st = 0;
    char *why = NULL;
    if (sialo_dataset_add_many(d, 1, &rel, &bytes, &n, 1, &st, &why) < 0) return -1;
    if (st != 1 && why) sialo_set_error("%s", why);
    free(why);
    return st;
}

static int cmp_sample(const void *a, const void *b) { return strcmp(((const sialo_sample *)a)->path, ((const sialo_sample *)b)->path); }
static int cmp_file(const void *a, const void *b) { return strcmp(((const sialo_file_entry *)a)->path, ((const sialo_file_entry *)b)->path); }

/* MANIFEST.tsv: a header names the columns; path, group and label_conflict are read */
static void apply_manifest(sialo_dataset *d, char *text) {
    int col_path = -1, col_group = -1, col_conf = -1;
    char **gnames = NULL;
    int ng = 0;
    char *save = NULL, *line = strtok_r(text, "\n", &save);
    if (line) {
        int c = 0;
        char *s2 = NULL;
        for (char *tok = strtok_r(line, "\t\r", &s2); tok; tok = strtok_r(NULL, "\t\r", &s2), c++) {
            if (!strcmp(tok, "path")) col_path = c;
            else if (!strcmp(tok, "group")) col_group = c;
            else if (!strcmp(tok, "label_conflict")) col_conf = c;
        }
    }
    while (col_path >= 0 && (line = strtok_r(NULL, "\n", &save))) {
        char *cols[32] = {0};
        int c = 0;
        for (char *p = line; c < 32;) {
            cols[c++] = p;
            char *t = strpbrk(p, "\t\r");
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
    d->n_groups = ng;
}

int sialo_dataset_finish(sialo_dataset *d) {
    if (d->finished) return 0;
    if (d->n) qsort(d->s, (size_t)d->n, sizeof *d->s, cmp_sample);
    if (d->n_files) qsort(d->files, (size_t)d->n_files, sizeof *d->files, cmp_file);
    if (d->manifest && d->n) apply_manifest(d, d->manifest);
    /* no group from the manifest: the sub-folder of the class folder (benign/p017/a.png -> p017), else its own */
    char **sub = NULL;
    int *sub_id = NULL, nsub = 0;
    for (int i = 0; i < d->n; i++) {
        sialo_sample *s = &d->s[i];
        if (s->group >= 0) continue;
        const char *a = strchr(s->path, '/') + 1, *b = strchr(a, '/');
        if (!b) { s->group = d->n_groups++; continue; }
        int k;
        for (k = 0; k < nsub; k++) if (!strncmp(sub[k], a, (size_t)(b - a)) && sub[k][b - a] == 0) break;
        if (k == nsub) {
            char **ns = realloc(sub, (size_t)(nsub + 1) * sizeof *ns);
            int *ni = realloc(sub_id, (size_t)(nsub + 1) * sizeof *ni);
            if (ns) sub = ns;
            if (ni) sub_id = ni;
            if (!ns || !ni || !(sub[nsub] = strndup(a, (size_t)(b - a)))) { for (int j = 0; j < nsub; j++) free(sub[j]); free(sub); free(sub_id); return sialo_fail("out of memory"); }
            sub_id[nsub++] = d->n_groups++;
        }
        s->group = sub_id[k];
    }
    for (int j = 0; j < nsub; j++) free(sub[j]);
    free(sub);
    free(sub_id);
    /* lesion masks: every mask of the frame's class named <stem>-mask[-K].png, united */
    int S = d->train_side;
    for (int i = 0; i < d->n; i++) {
        sialo_sample *s = &d->s[i];
        const char *base = strrchr(s->path, '/') + 1;
        char stem[1024];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot) *dot = 0;
        for (int k = 0; k < d->n_masks; k++) {
            const sialo_mask_file *mf = &d->masks[k];
            if (mf->label != s->label || !sialo_is_mask_of(mf->name, stem)) continue;
            d->n_with_mask += !s->has_mask_file;
            s->has_mask_file = 1;
            if (!mf->mask) continue;
            if (!s->mask && !(s->mask = calloc((size_t)S * S, 1))) return sialo_fail("out of memory");
            for (size_t q = 0; q < (size_t)S * S; q++) s->mask[q] |= mf->mask[q];
        }
    }
    /* box mode: the whole frame's mask (S x S) resampled over the sample's context (nearest) */
    for (int i = 0; d->boxes && i < d->n; i++) {
        sialo_sample *s = &d->s[i];
        if (!s->mask) continue;
        uint8_t *cm = malloc((size_t)S * S);
        if (!cm) return sialo_fail("out of memory");
        for (int y = 0; y < S; y++) {
            int my = (int)((s->ctx[1] + (y + 0.5) * s->ctx[3] / S) * S / s->fh);
            if (my > S - 1) my = S - 1;
            for (int x = 0; x < S; x++) {
                int mx = (int)((s->ctx[0] + (x + 0.5) * s->ctx[2] / S) * S / s->fw);
                if (mx > S - 1) mx = S - 1;
                cm[(size_t)y * S + x] = s->mask[(size_t)my * S + mx];
            }
        }
        free(s->mask);
        s->mask = cm;
    }
    for (int k = 0; k < d->n_masks; k++) { free(d->masks[k].name); free(d->masks[k].mask); }
    free(d->masks);
    d->masks = NULL;
    d->n_masks = d->cap_masks = 0;
    d->finished = 1;
    return 0;
}

void sialo_dataset_free(sialo_dataset *d) {
    for (int i = 0; i < d->n; i++) { free(d->s[i].path); free(d->s[i].train); free(d->s[i].val); free(d->s[i].mask); }
    free(d->s);
    for (int k = 0; k < d->n_masks; k++) { free(d->masks[k].name); free(d->masks[k].mask); }
    free(d->masks);
    for (int k = 0; k < d->n_files; k++) free(d->files[k].path);
    free(d->files);
    for (int k = 0; k < d->n_refused; k++) { free(d->refused[k].path); free(d->refused[k].reason); }
    free(d->refused);
    free(d->manifest);
    memset(d, 0, sizeof *d);
}

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

static aug_geometry draw_whole(uint64_t *r, int S) {
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

/* box mode: the jittered box grown by the margin, clamped to the frame, in the cache's pixels */
static aug_geometry draw_box(const sialo_dataset *d, const sialo_sample *s, uint64_t *r, int S) {
    aug_geometry g;
    double J = d->box_jitter, m = d->box_margin;
    double dx = (2 * u01(r) - 1) * J, dy = (2 * u01(r) - 1) * J, sx = 1 + (2 * u01(r) - 1) * J, sy = 1 + (2 * u01(r) - 1) * J;
    double w = s->box.w * sx, h = s->box.h * sy;
    double cx = s->box.x + s->box.w / 2.0 + dx * s->box.w, cy = s->box.y + s->box.h / 2.0 + dy * s->box.h;
    double x0 = cx - w / 2 - m * w, x1 = cx + w / 2 + m * w, y0 = cy - h / 2 - m * h, y1 = cy + h / 2 + m * h;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > s->fw) x1 = s->fw;
    if (y1 > s->fh) y1 = s->fh;
    if (x1 - x0 < 1) x1 = x0 + 1;
    if (y1 - y0 < 1) y1 = y0 + 1;
    double kx = S / s->ctx[2], ky = S / s->ctx[3];
    g.cw = (x1 - x0) * kx;
    g.ch = (y1 - y0) * ky;
    g.cx = ((x0 + x1) / 2 - s->ctx[0]) * kx;
    g.cy = ((y0 + y1) / 2 - s->ctx[1]) * ky;
    double th = (u01(r) * 20.0 - 10.0) * 3.141592653589793 / 180.0;
    g.co = cos(th);
    g.si = sin(th);
    g.flip = u01(r) < 0.5;
    return g;
}

static aug_geometry draw_geometry(const sialo_dataset *d, int i, uint64_t *r) {
    return d->boxes ? draw_box(d, &d->s[i], r, d->train_side) : draw_whole(r, d->train_side);
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
    aug_geometry geo = draw_geometry(d, i, &r);
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
    aug_geometry geo = draw_geometry(d, i, &r);
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

/* ------------------------------------------------------------------ lesion boxes (boxes.h): here, beside the
   folder rules they use (sialo_dataset_kind, sialo_is_mask_of) */
static int box_entry_add(sialo_box_table *t, const char *key, size_t klen, int label, sialo_box b, int rw, int rh) {
    if (t->n == t->cap) {
        int nc = t->cap ? t->cap * 2 : 256;
        sialo_box_entry *ne = realloc(t->e, (size_t)nc * sizeof *ne);
        if (!ne) return sialo_fail("out of memory");
        t->e = ne;
        t->cap = nc;
    }
    sialo_box_entry *e = &t->e[t->n];
    if (!(e->key = malloc(klen + 1))) return sialo_fail("out of memory");
    memcpy(e->key, key, klen);
    e->key[klen] = 0;
    e->label = label;
    e->box = b;
    e->ref_w = rw;
    e->ref_h = rh;
    t->n++;
    return 0;
}

int sialo_boxes_parse_tsv(sialo_box_table *t, const char *text, size_t n) {
    size_t i = 0;
    int line = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && text[j] != '\n') j++;
        line++;
        size_t e = j;
        if (e > i && text[e - 1] == '\r') e--;
        const char *s = text + i;
        size_t len = e - i;
        i = j + 1;
        if (!len || s[0] == '#' || (line == 1 && len >= 4 && !strncmp(s, "path", 4))) continue;
        const char *tab = memchr(s, '\t', len);
        char buf[128];
        long v[4];
        int ok = tab && tab > s;
        const char *p = tab ? tab + 1 : NULL;
        for (int k = 0; ok && k < 4; k++) {
            size_t rest = (size_t)(s + len - p), m = 0;
            while (m < rest && p[m] != '\t') m++;
            if (m == 0 || m >= sizeof buf || (k < 3) != (m < rest)) { ok = 0; break; }
            memcpy(buf, p, m);
            buf[m] = 0;
            char *end;
            v[k] = strtol(buf, &end, 10);
            ok = *end == 0 && v[k] >= -1000000 && v[k] <= 1000000;
            p += m + 1;
        }
        if (!ok) return sialo_fail("boxes file, line %d: expected path<TAB>x<TAB>y<TAB>w<TAB>h (integers, frame pixels)", line);
        if (box_entry_add(t, s, (size_t)(tab - s), -1, (sialo_box){(int)v[0], (int)v[1], (int)v[2], (int)v[3]}, 0, 0) < 0) return -1;
    }
    return 0;
}

int sialo_boxes_add_mask(sialo_box_table *t, const char *rel, const uint8_t *bytes, size_t n) {
    int label;
    if (sialo_dataset_kind(rel, bytes, n, &label) != SIALO_FILE_MASK) return 0;
    sialo_image img;
    if (sialo_image_decode(bytes, n, &img) < 0) return -1;
    int x0 = img.w, y0 = img.h, x1 = -1, y1 = -1;
    for (int y = 0; y < img.h; y++)
        for (int x = 0; x < img.w; x++) {
            const uint8_t *px = img.rgb + ((size_t)y * img.w + x) * 3;
            if (px[0] > 127 || px[1] > 127 || px[2] > 127) {
                if (x < x0) x0 = x;
                if (x > x1) x1 = x;
                if (y < y0) y0 = y;
                if (y > y1) y1 = y;
            }
        }
    int rc = 0;
    if (x1 >= 0) {
        const char *base = strrchr(rel, '/') + 1;
        rc = box_entry_add(t, base, strlen(base), label, (sialo_box){x0, y0, x1 - x0 + 1, y1 - y0 + 1}, img.w, img.h) < 0 ? -1 : 1;
    }
    sialo_image_free(&img);
    return rc;
}

int sialo_boxes_find(const sialo_box_table *t, const char *rel, int fw, int fh, sialo_box *out) {
    if (!t) return 0;
    size_t rl = strlen(rel);
    for (int i = 0; i < t->n; i++) {
        const sialo_box_entry *e = &t->e[i];
        if (e->label >= 0) continue;
        size_t kl = strlen(e->key);
        if (!strcmp(e->key, rel) || (kl > rl && e->key[kl - rl - 1] == '/' && !strcmp(e->key + kl - rl, rel))) { *out = e->box; return 1; }
    }
    int label = !strncmp(rel, "malignant/", 10) ? 1 : !strncmp(rel, "benign/", 7) ? 0 : -1;
    if (label < 0) return 0;
    const char *base = strrchr(rel, '/') + 1;
    char stem[1024];
    snprintf(stem, sizeof stem, "%s", base);
    char *dot = strrchr(stem, '.');
    if (dot && dot != stem) *dot = 0;
    double x0 = 1e30, y0 = 1e30, x1 = -1e30, y1 = -1e30;
    int found = 0;
    for (int i = 0; i < t->n; i++) {
        const sialo_box_entry *e = &t->e[i];
        if (e->label != label || !sialo_is_mask_of(e->key, stem)) continue;
        double sx = (double)fw / e->ref_w, sy = (double)fh / e->ref_h;
        double a = e->box.x * sx, b = e->box.y * sy, c = (e->box.x + e->box.w) * sx, d = (e->box.y + e->box.h) * sy;
        if (a < x0) x0 = a;
        if (b < y0) y0 = b;
        if (c > x1) x1 = c;
        if (d > y1) y1 = d;
        found = 1;
    }
    if (!found) return 0;
    int ix0 = (int)floor(x0 + 1e-9), iy0 = (int)floor(y0 + 1e-9), ix1 = (int)ceil(x1 - 1e-9), iy1 = (int)ceil(y1 - 1e-9);
    if (ix0 < 0) ix0 = 0;
    if (iy0 < 0) iy0 = 0;
    if (ix1 > fw) ix1 = fw;
    if (iy1 > fh) iy1 = fh;
    /* a mask smaller than the smallest box the engine takes: grown to SIALO_BOX_MIN about its centre */
    while (ix1 - ix0 < SIALO_BOX_MIN && (ix0 > 0 || ix1 < fw)) { if (ix0 > 0) ix0--; if (ix1 - ix0 < SIALO_BOX_MIN && ix1 < fw) ix1++; }
    while (iy1 - iy0 < SIALO_BOX_MIN && (iy0 > 0 || iy1 < fh)) { if (iy0 > 0) iy0--; if (iy1 - iy0 < SIALO_BOX_MIN && iy1 < fh) iy1++; }
    *out = (sialo_box){ix0, iy0, ix1 - ix0, iy1 - iy0};
    return 1;
}

void sialo_boxes_free(sialo_box_table *t) {
    for (int i = 0; i < t->n; i++) free(t->e[i].key);
    free(t->e);
    memset(t, 0, sizeof *t);
}
