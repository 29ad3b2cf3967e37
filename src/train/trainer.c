/* trainer.c — the trainer core (trainer.h): a data set in memory, cross-validation of a recipe
 * (stratified, group-aware folds; an inner validation split inside each fold for early stopping),
 * the final model on every frame, Youden's threshold and the calibration on the pooled out-of-fold
 * predictions, and one checkpoint blob after every epoch. One training run: run.c. */
#include "train/trainer.h"
#include "base/metrics.h"
#include "engine/calibration.h"
#include "engine/runtime.h"
#include "train/run.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct sialo_trainer {
    sialo_trainer_opts opts;
    sialo_train_opts o;          /* resolved: batch, input, method */
    char *schedule_text, *backbone_name, *data_name, *arch, *method, *calibration, *date;
    uint8_t *backbone;
    size_t backbone_n;
    uint32_t backbone_crc;
    char arch_name[64];          /* the backbone's architecture (default schedules) */
    int arch_set;                /* input, masks, threads fixed (the data set exists) */
    sialo_stage st[SIALO_MAX_STAGES];
    int nst;
    sialo_dataset d;
    uint8_t *model;
    size_t model_n;
    char *oof_csv;
    /* the rate and the finished runs' share of their plan, carried from a run stopped at a
       checkpoint to the run resumed from it in the same trainer (the JS API's per-epoch segments) */
    double eta_images, eta_seconds, eta_fin_plan, eta_fin_done;
};

/* ------------------------------------------------------------------ small helpers */
typedef struct { char *s; size_t n, cap; int oom; } sbuf;
static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->oom = 1; return; }
        if (b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
        size_t nc = (b->cap + (size_t)k + 64) * 2;
        char *q = realloc(b->s, nc);
        if (!q) { b->oom = 1; return; }
        b->s = q;
        b->cap = nc;
    }
}
static void sb_json_str(sbuf *b, const char *s) {
    sb_printf(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') sb_printf(b, "\\%c", *p);
        else if (*p < 0x20) sb_printf(b, "\\u%04x", *p);
        else sb_printf(b, "%c", *p);
    }
    sb_printf(b, "\"");
}
/* JSON numbers: an undefined ratio (0/0, e.g. PPV with no positive call) is null, not "nan" */
static void jnum(sbuf *b, const char *key, double v, int first) {
    if (isnan(v)) sb_printf(b, "%s\"%s\":null", first ? "" : ",", key);
    else sb_printf(b, "%s\"%s\":%.4f", first ? "" : ",", key, v);
}
static void jmetrics(sbuf *b, const sialo_metrics *mt) {
    sb_printf(b, "\"n\":%d", mt->n);
    jnum(b, "accuracy", mt->accuracy, 0);
    jnum(b, "sensitivity", mt->sensitivity, 0);
    jnum(b, "specificity", mt->specificity, 0);
    jnum(b, "ppv", mt->ppv, 0);
    jnum(b, "npv", mt->npv, 0);
    jnum(b, "auc", mt->auc, 0);
    sb_printf(b, ",\"tp\":%d,\"fp\":%d,\"tn\":%d,\"fn\":%d", mt->tp, mt->fp, mt->tn, mt->fn);
}
/* ,"auc_ci95":[lo,hi] (DeLong), null when a class has fewer than 2 frames */
static void jauc_ci(sbuf *b, const float *p, const int *y, int n) {
    double lo, hi;
    sialo_auc_ci95(p, y, n, &lo, &hi);
    if (isnan(lo) || isnan(hi)) sb_printf(b, ",\"auc_ci95\":null");
    else sb_printf(b, ",\"auc_ci95\":[%.4f,%.4f]", lo, hi);
}
static void say(const sialo_train_callbacks *cb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const sialo_train_callbacks *cb, const char *fmt, ...) {
    if (!cb || !cb->log) return;
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    cb->log(cb->user, line);
}
/* the clock at the start of run k of 0..K (K: the final model; `trained`: what a resumed run had
   trained before): its plan, and the plan of the runs after it */
static void clock_start(sialo_run_clock *c, const double *plan, int k, int K, double trained) {
    c->cur_plan = plan[k];
    c->cur_done0 = c->images_done - trained;
    c->future_plan = 0;
    for (int j = k + 1; j <= K; j++) c->future_plan += plan[j];
}

/* the expected time left at this session's rate so far (NaN before any image is trained) */
static double clock_eta(const sialo_run_clock *c) {
    double el = sialo_now_ms() / 1000.0 - c->session_t0;
    return sialo_run_clock_eta(c, el > 0 ? c->session_images / el : 0);
}

static char *dup_or_null(const char *s) { return s ? sialo_strdup(s) : NULL; }

/* Youden's J on pooled out-of-fold predictions: the threshold maximising sensitivity + specificity */
static float youden_threshold(const float *p, const int *y, int n) {
    float best_t = 0.5f;
    double best = -1;
    for (int i = 0; i < n; i++) {
        sialo_metrics mt;
        sialo_metrics_compute(p, y, n, p[i], &mt);
        double j = mt.sensitivity + mt.specificity - 1;
        if (j > best + 1e-12) { best = j; best_t = p[i]; }
    }
    return best_t;
}

/* an inner validation split of idx (group-aware, stratified): every k-th fold */
static void inner_split(const sialo_dataset *d, const int *idx, int n, float frac, uint64_t seed, int *tr, int *ntr, int *va, int *nva) {
    int k = frac > 0 ? (int)(1.0f / frac + 0.5f) : 0;
    *ntr = *nva = 0;
    if (k < 2) { memcpy(tr, idx, (size_t)n * sizeof *idx); *ntr = n; return; }
    int *fold = malloc((size_t)n * sizeof *fold);
    if (!fold) { memcpy(tr, idx, (size_t)n * sizeof *idx); *ntr = n; return; }
    sialo_dataset_folds(d, idx, n, k, seed ^ 0xABCDEF, fold);
    for (int i = 0; i < n; i++) { if (fold[i] == 0) va[(*nva)++] = idx[i]; else tr[(*ntr)++] = idx[i]; }
    free(fold);
}

/* ------------------------------------------------------------------ creating, adding */
/* the options of a run (everything but the data set's: input side, threads, memory limit; guided
   attention only where the data set keeps masks): set by sialo_trainer_new, replaced by
   sialo_trainer_configure */
static int apply_opts(sialo_trainer *t, const sialo_trainer_opts *opts) {
    char *sched = dup_or_null(opts->schedule_text), *date = dup_or_null(opts->date);
    char *calib = sialo_strdup(opts->o.calibration ? opts->o.calibration : "platt");
    char *method = sialo_strdup(opts->o.method ? opts->o.method : (t->backbone ? "gradual" : "scratch"));
    char *bname = opts->backbone_name ? sialo_strdup(opts->backbone_name) : NULL;
    char *dname = opts->data_name ? sialo_strdup(opts->data_name) : NULL;
    sialo_stage st[SIALO_MAX_STAGES];
    int nst = -1;
    if (!calib || !method || (opts->schedule_text && !sched) || (opts->date && !date) || (opts->backbone_name && !bname) ||
        (opts->data_name && !dname)) {
        sialo_fail("out of memory");
    } else if (strcmp(calib, "platt") && strcmp(calib, "temperature") && strcmp(calib, "none")) {
        sialo_fail("unknown calibration '%s' (platt, temperature, none)", calib);
    } else if (opts->o.batch > 512 || opts->o.batch < 0) {
        sialo_fail("the batch must be 1..512, not %d", opts->o.batch);
    } else if (opts->o.cv == 1 || opts->o.cv < 0 || opts->o.cv > 32) {
        sialo_fail("cross-validation needs 2..32 folds (or none), not %d", opts->o.cv);
    } else {
        nst = sched ? sialo_schedule_parse(sched, st, SIALO_MAX_STAGES) : sialo_schedule_default(method, t->arch_name, st, SIALO_MAX_STAGES);
    }
    if (nst < 0) {
        free(sched); free(date); free(calib); free(method); free(bname); free(dname);
        return -1;
    }
    /* the data set's options stay those of sialo_trainer_new */
    int input = t->o.input, threads = t->o.threads;
    free(t->schedule_text); free(t->date); free(t->calibration); free(t->method);
    t->schedule_text = sched; t->date = date; t->calibration = calib; t->method = method;
    if (bname) { free(t->backbone_name); t->backbone_name = bname; }
    if (dname) { free(t->data_name); t->data_name = dname; }
    size_t max_bytes = t->opts.max_bytes;
    t->opts = *opts;
    t->opts.max_bytes = max_bytes;
    t->opts.schedule_text = t->schedule_text;
    t->opts.backbone_name = t->backbone_name;
    t->opts.data_name = t->data_name;
    t->opts.date = t->date;
    t->o = opts->o;
    memcpy(t->st, st, sizeof st);
    t->nst = nst;
    if (t->o.batch < 1) t->o.batch = 16;
    if (t->arch_set) {
        t->o.input = input; t->o.masks = t->d.keep_masks && opts->o.masks; t->o.threads = threads;
        /* the data set was cached for one mode: the box settings stay those given to sialo_trainer_new */
        t->o.box_mode = t->d.boxes != NULL;
        t->o.box_margin = t->d.box_margin;
        t->o.box_jitter = t->d.box_jitter;
    }
    t->o.arch = t->arch;
    t->o.method = t->method;
    t->o.calibration = t->calibration;
    t->o.backbone = NULL; t->o.data_dir = NULL; t->o.schedule = NULL; t->o.out = NULL; t->o.checkpoint = NULL; t->o.predictions = NULL;
    return 0;
}

sialo_trainer *sialo_trainer_new(const uint8_t *backbone, size_t n, const sialo_trainer_opts *opts) {
    sialo_trainer *t = sialo_xcalloc(1, sizeof *t);
    if (!t) return NULL;
    t->backbone_name = sialo_strdup(opts->backbone_name ? opts->backbone_name : "backbone");
    t->data_name = sialo_strdup(opts->data_name ? opts->data_name : "data");
    t->arch = dup_or_null(opts->o.arch);
    if (!t->backbone_name || !t->data_name || (opts->o.arch && !t->arch)) goto fail;
    int side = opts->o.input;
    if (backbone) {
        t->backbone = malloc(n ? n : 1);
        if (!t->backbone) { sialo_fail("out of memory"); goto fail; }
        memcpy(t->backbone, backbone, n);
        t->backbone_n = n;
        t->backbone_crc = sialo_crc32(backbone, n);
        sialo_graph *g = sialo_graph_read(backbone, n);
        if (!g) {
            char why[400];
            snprintf(why, sizeof why, "%s", sialo_error());
            sialo_fail("the backbone %s: %s", t->backbone_name, why);
            goto fail;
        }
        snprintf(t->arch_name, sizeof t->arch_name, "%s", g->arch ? g->arch : "");
        if (!side) side = g->in_h;
        sialo_graph_free(g);
    } else {
        if (!t->arch && !(t->arch = sialo_strdup("smallcnn"))) goto fail;
        snprintf(t->arch_name, sizeof t->arch_name, "%s", t->arch);
        if (!side) side = 224;
    }
    if (side < SIALO_MIN_SIDE || side > 1024) { sialo_fail("the input side must be %d..1024, not %d", SIALO_MIN_SIDE, side); goto fail; }
    t->opts.max_bytes = opts->max_bytes;
    if (apply_opts(t, opts) < 0) goto fail;
    t->o.input = side;
    t->o.threads = opts->o.threads < 1 ? 1 : opts->o.threads;
    t->arch_set = 1;
    sialo_dataset_init(&t->d, side, opts->max_bytes, t->o.masks || opts->keep_masks);
    if (t->o.box_mode) {
        if (!opts->boxes) { sialo_fail("box mode needs the frames' lesion boxes (--boxes FILE or --boxes-from-masks)"); goto fail; }
        if (!(t->o.box_margin >= 0 && t->o.box_margin <= SIALO_BOX_MAX_MARGIN) || !(t->o.box_jitter >= 0 && t->o.box_jitter <= 0.5f)) {
            sialo_fail("the box margin must be 0..2 and the jitter 0..0.5, not %g and %g", t->o.box_margin, t->o.box_jitter);
            goto fail;
        }
        sialo_dataset_set_boxes(&t->d, opts->boxes, t->o.box_margin, t->o.box_jitter);
    }
    return t;
fail:
    sialo_trainer_free(t);
    return NULL;
}

int sialo_trainer_configure(sialo_trainer *t, const sialo_trainer_opts *opts) { return apply_opts(t, opts); }

int sialo_trainer_add(sialo_trainer *t, const char *relpath, const uint8_t *bytes, size_t n) {
    return sialo_dataset_add(&t->d, relpath, bytes, n);
}

int sialo_trainer_add_many(sialo_trainer *t, int count, const char *const *relpaths, const uint8_t *const *bytes, const size_t *sizes,
                           int *status, char **reasons) {
    return sialo_dataset_add_many(&t->d, count, relpaths, bytes, sizes, t->o.threads, status, reasons);
}

void sialo_trainer_free(sialo_trainer *t) {
    if (!t) return;
    sialo_dataset_free(&t->d);
    free(t->schedule_text); free(t->backbone_name); free(t->data_name); free(t->arch); free(t->method);
    free(t->calibration); free(t->date); free(t->backbone); free(t->model); free(t->oof_csv);
    free(t);
}

const uint8_t *sialo_trainer_model(const sialo_trainer *t, size_t *n) {
    *n = t->model_n;
    return t->model;
}
const char *sialo_trainer_oof_csv(const sialo_trainer *t) { return t->oof_csv; }

/* the sentence refusing this data set for training, or NULL */
/* (page = 1: also the page's rule of at least 10 frames per class, which the CLI does not impose) */
static const char *data_problem(const sialo_trainer *t, int page, char *buf, size_t size) {
    int cls[2] = {0, 0};
    for (int i = 0; i < t->d.n; i++) cls[t->d.s[i].label != 0]++;
    if (cls[0] + cls[1] == 0)
        snprintf(buf, size, "no frames found: a training folder holds a benign/ and a malignant/ folder of frames (PNG, JPEG, BMP, GIF or DICOM)");
    else if (!cls[0] || !cls[1])
        snprintf(buf, size, "only %s frames were found (%d): training needs both classes, in a benign/ and a malignant/ folder",
                 cls[0] ? "benign" : "malignant", cls[0] ? cls[0] : cls[1]);
    else if (page && (cls[0] < 10 || cls[1] < 10))
        snprintf(buf, size, "too few frames: %d benign and %d malignant; training needs at least 10 of each class", cls[0], cls[1]);
    else if (t->o.cv > 1 && (cls[0] < t->o.cv || cls[1] < t->o.cv))
        snprintf(buf, size, "too few frames for %d folds: %d benign and %d malignant; each fold needs frames of both classes", t->o.cv, cls[0], cls[1]);
    else if (t->o.masks && t->d.n_with_mask == 0)
        snprintf(buf, size, "--masks: no lesion masks found in %s/masks/<class>/ (guided attention expects <frame>-mask.png beside each frame's class)",
                 t->data_name);
    else return NULL;
    return buf;
}

char *sialo_trainer_summary_json(sialo_trainer *t) {
    if (sialo_dataset_finish(&t->d) < 0) return NULL;
    int cls[2] = {0, 0}, conflicts = 0;
    for (int i = 0; i < t->d.n; i++) { cls[t->d.s[i].label != 0]++; conflicts += t->d.s[i].conflict; }
    int *seen = calloc((size_t)(t->d.n_groups ? t->d.n_groups : 1), sizeof *seen), groups = 0;
    for (int i = 0; seen && i < t->d.n; i++) if (!seen[t->d.s[i].group]++) groups++;
    free(seen);
    sbuf b = {0};
    sb_printf(&b, "{\"frames\":%d,\"benign\":%d,\"malignant\":%d,\"groups\":%d,\"masks\":%d,\"conflicts\":%d,\"ignored\":%d,\"refused\":[",
              t->d.n, cls[0], cls[1], groups, t->d.n_with_mask, conflicts, t->d.ignored);
    for (int k = 0; k < t->d.n_refused; k++) {
        sb_printf(&b, "%s{\"path\":", k ? "," : "");
        sb_json_str(&b, t->d.refused[k].path);
        sb_printf(&b, ",\"reason\":");
        sb_json_str(&b, t->d.refused[k].reason);
        sb_printf(&b, "}");
    }
    char why[400];
    const char *p = data_problem(t, 1, why, sizeof why);
    sb_printf(&b, "],\"bytes\":%zu,\"input\":%d,\"train_side\":%d,\"problem\":", t->d.bytes, t->d.in_side, t->d.train_side);
    if (p) sb_json_str(&b, p);
    else sb_printf(&b, "null");
    sb_printf(&b, "}");
    if (b.oom) { free(b.s); return sialo_fail_null("out of memory"); }
    return b.s;
}

/* ------------------------------------------------------------------ the checkpoint blob */
/* "SIALOCKP", u32 version, str options, u32 files {str path, u64 size, u32 crc}, u32 cv, u32 phase
   (0..cv-1: that fold runs; cv: the final model; cv+1: done), u32 folds done {u32 n, f32 p[n]},
   u32 has_run {i32 stage, epoch, bad; f64 best_auc, best_loss; u64 step; u64 n, weights; u64 n, f32 aux},
   u32 CRC-32 of everything before. Little-endian. */
#define CKPT_MAGIC "SIALOCKP"
#define CKPT_VERSION 1u

typedef struct { uint8_t *p; size_t n, cap; int oom; } wbuf;
static void wb_put(wbuf *w, const void *src, size_t n) {
    if (w->oom) return;
    if (w->n + n > w->cap) {
        size_t nc = (w->cap + n) * 2;
        uint8_t *q = realloc(w->p, nc);
        if (!q) { w->oom = 1; return; }
        w->p = q;
        w->cap = nc;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}
static void wb_u32(wbuf *w, uint32_t v) { uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)}; wb_put(w, b, 4); }
static void wb_u64(wbuf *w, uint64_t v) { wb_u32(w, (uint32_t)v); wb_u32(w, (uint32_t)(v >> 32)); }
static void wb_f64(wbuf *w, double v) { uint64_t u; memcpy(&u, &v, 8); wb_u64(w, u); }
static void wb_str(wbuf *w, const char *s) { uint32_t n = (uint32_t)strlen(s); wb_u32(w, n); wb_put(w, s, n); }
static void wb_f32s(wbuf *w, const float *f, size_t n) { for (size_t i = 0; i < n; i++) { uint32_t u; memcpy(&u, &f[i], 4); wb_u32(w, u); } }

typedef struct { const uint8_t *p; size_t n, pos; int bad; } rbuf;
static const uint8_t *rb_take(rbuf *r, size_t n) {
    if (r->bad || n > r->n - r->pos) { r->bad = 1; return NULL; }
    const uint8_t *q = r->p + r->pos;
    r->pos += n;
    return q;
}
static uint32_t rb_u32(rbuf *r) {
    const uint8_t *b = rb_take(r, 4);
    return b ? (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24 : 0;
}
static uint64_t rb_u64(rbuf *r) { uint64_t lo = rb_u32(r); return lo | (uint64_t)rb_u32(r) << 32; }
static double rb_f64(rbuf *r) { uint64_t u = rb_u64(r); double v; memcpy(&v, &u, 8); return v; }
static char *rb_str(rbuf *r) {
    uint32_t n = rb_u32(r);
    const uint8_t *b = rb_take(r, n);
    if (!b) return NULL;
    char *s = malloc((size_t)n + 1);
    if (!s) { r->bad = 1; return NULL; }
    memcpy(s, b, n);
    s[n] = 0;
    return s;
}
static int rb_f32s(rbuf *r, float *f, size_t n) {
    if (n > (r->n - r->pos) / 4) { r->bad = 1; return -1; }
    for (size_t i = 0; i < n; i++) { uint32_t u = rb_u32(r); memcpy(&f[i], &u, 4); }
    return 0;
}

/* everything that decides the result, as text: a checkpoint resumes only the same recipe */
static char *options_text(const sialo_trainer *t) {
    sbuf b = {0};
    const sialo_train_opts *o = &t->o;
    char box_text[96] = ""; /* whole-frame runs keep the text (and the checkpoints) they had */
    if (o->box_mode) snprintf(box_text, sizeof box_text, "box_margin=%g box_jitter=%g ", o->box_margin, o->box_jitter);
    sb_printf(&b, "cv=%d final=%d method=%s seed=%llu fold_seed=%llu batch=%d input=%d val_fraction=%g weight_decay=%g dropout=%g "
              "include_conflicts=%d masks=%d attention_weight=%g calibration=%s backbone=%08x arch=%s %sschedule=",
              o->cv, t->opts.final, o->method, (unsigned long long)o->seed, (unsigned long long)o->fold_seed, o->batch, o->input,
              o->val_fraction, o->weight_decay, o->dropout, o->include_conflicts, o->masks, o->masks ? o->attention_weight : 0,
              o->calibration, t->backbone_crc, t->backbone ? "-" : o->arch, box_text);
    for (int s = 0; s < t->nst; s++)
        sb_printf(&b, "%s%s:%s:%g:%d:%d", s ? "," : "", t->st[s].name, t->st[s].unfreeze, t->st[s].lr, t->st[s].max_epochs, t->st[s].patience);
    if (b.oom) { free(b.s); return NULL; }
    return b.s;
}

typedef struct {
    int cv, phase, n_done;
    float **done_p;   /* per finished fold: its test predictions */
    int *done_n;
    int has_run;
    sialo_run_state run;
} ckpt;

static void ckpt_free(ckpt *c) {
    for (int k = 0; k < c->n_done; k++) free(c->done_p[k]);
    free(c->done_p);
    free(c->done_n);
    sialo_run_state_free(&c->run);
    memset(c, 0, sizeof *c);
}

static int ckpt_write(const sialo_trainer *t, const char *opts, int cv, int phase, int n_done, float *const *done_p, const int *done_n,
                      const sialo_run_state *run, uint8_t **out, size_t *out_n) {
    wbuf w = {0};
    wb_put(&w, CKPT_MAGIC, 8);
    wb_u32(&w, CKPT_VERSION);
    wb_str(&w, opts);
    wb_u32(&w, (uint32_t)t->d.n_files);
    for (int i = 0; i < t->d.n_files; i++) { wb_str(&w, t->d.files[i].path); wb_u64(&w, t->d.files[i].size); wb_u32(&w, t->d.files[i].crc); }
    wb_u32(&w, (uint32_t)cv);
    wb_u32(&w, (uint32_t)phase);
    wb_u32(&w, (uint32_t)n_done);
    for (int k = 0; k < n_done; k++) { wb_u32(&w, (uint32_t)done_n[k]); wb_f32s(&w, done_p[k], (size_t)done_n[k]); }
    wb_u32(&w, run != NULL);
    if (run) {
        wb_u32(&w, (uint32_t)run->stage); wb_u32(&w, (uint32_t)run->epoch); wb_u32(&w, (uint32_t)run->bad);
        wb_f64(&w, run->best_auc); wb_f64(&w, run->best_loss); wb_u64(&w, run->step);
        wb_u64(&w, run->weights_n); wb_put(&w, run->weights, run->weights_n);
        wb_u64(&w, run->aux_n); wb_f32s(&w, run->aux, run->aux_n);
    }
    if (!w.oom) wb_u32(&w, sialo_crc32(w.p, w.n));
    if (w.oom) { free(w.p); return sialo_fail("out of memory writing a checkpoint"); }
    *out = w.p;
    *out_n = w.n;
    return 0;
}

/* the first word where two options texts differ, as "seed=1 (now seed=2)" */
static void first_difference(const char *a, const char *b, char *out, size_t size) {
    const char *pa = a, *pb = b;
    while (*pa && *pb) {
        size_t la = strcspn(pa, " "), lb = strcspn(pb, " ");
        if (la != lb || strncmp(pa, pb, la)) { snprintf(out, size, "%.*s (now %.*s)", (int)(la > 200 ? 200 : la), pa, (int)(lb > 200 ? 200 : lb), pb); return; }
        pa += la + (pa[la] == ' ');
        pb += lb + (pb[lb] == ' ');
    }
    snprintf(out, size, "the options");
}

static int ckpt_read(const sialo_trainer *t, const char *opts, const uint8_t *p, size_t n, ckpt *c) {
    memset(c, 0, sizeof *c);
    if (n < 16 || memcmp(p, CKPT_MAGIC, 8)) return sialo_fail("this is not a sialoscan training checkpoint");
    uint32_t crc = (uint32_t)p[n - 4] | (uint32_t)p[n - 3] << 8 | (uint32_t)p[n - 2] << 16 | (uint32_t)p[n - 1] << 24;
    if (crc != sialo_crc32(p, n - 4)) return sialo_fail("the checkpoint is damaged (its checksum does not match): start again, or use another copy");
    rbuf r = {p, n - 4, 8, 0};
    uint32_t ver = rb_u32(&r);
    if (ver != CKPT_VERSION) return sialo_fail("the checkpoint is of version %u; this sialoscan reads version %u", ver, CKPT_VERSION);
    char *o = rb_str(&r);
    if (!o) return sialo_fail("the checkpoint is truncated");
    if (strcmp(o, opts)) {
        char diff[600];
        first_difference(o, opts, diff, sizeof diff);
        free(o);
        return sialo_fail("the checkpoint was made with other training options: %s; resume with the same options, or start again", diff);
    }
    free(o);
    uint32_t nf = rb_u32(&r);
    int rc = 0;
    int i = 0;
    for (; i < (int)nf && !r.bad && rc == 0; i++) {
        char *path = rb_str(&r);
        uint64_t size = rb_u64(&r);
        uint32_t fcrc = rb_u32(&r);
        if (!path) break;
        if (i >= t->d.n_files)
            rc = sialo_fail("the checkpoint was made on another folder: it had %u files, this folder has %d (%s is missing here)", nf, t->d.n_files, path);
        else if (strcmp(path, t->d.files[i].path))
            rc = sialo_fail("the checkpoint was made on another folder: %s is %s", strcmp(path, t->d.files[i].path) < 0 ? path : t->d.files[i].path,
                            strcmp(path, t->d.files[i].path) < 0 ? "missing here" : "new here");
        else if (size != t->d.files[i].size || fcrc != t->d.files[i].crc)
            rc = sialo_fail("the checkpoint was made on another folder: %s has changed (%llu bytes, CRC-32 %08x then; %zu bytes, %08x now)", path,
                            (unsigned long long)size, fcrc, t->d.files[i].size, t->d.files[i].crc);
        free(path);
    }
    if (rc == 0 && !r.bad && (int)nf < t->d.n_files)
        rc = sialo_fail("the checkpoint was made on another folder: it had %u files, this folder has %d (%s is new here)", nf, t->d.n_files, t->d.files[nf].path);
    if (rc < 0) return -1;
    c->cv = (int)rb_u32(&r);
    c->phase = (int)rb_u32(&r);
    uint32_t nd = rb_u32(&r);
    if (r.bad || nd > 32 || c->cv != t->o.cv || c->phase > c->cv + 1) return sialo_fail("the checkpoint is damaged");
    c->done_p = calloc(nd ? nd : 1, sizeof *c->done_p);
    c->done_n = calloc(nd ? nd : 1, sizeof *c->done_n);
    if (!c->done_p || !c->done_n) { ckpt_free(c); return sialo_fail("out of memory"); }
    for (uint32_t k = 0; k < nd; k++) {
        uint32_t m = rb_u32(&r);
        if (r.bad || m > (uint32_t)t->d.n) { ckpt_free(c); return sialo_fail("the checkpoint is damaged"); }
        c->done_p[k] = malloc((m ? m : 1) * sizeof(float));
        c->n_done = (int)k + 1;
        c->done_n[k] = (int)m;
        if (!c->done_p[k] || rb_f32s(&r, c->done_p[k], m) < 0) { ckpt_free(c); return sialo_fail("the checkpoint is truncated"); }
    }
    c->has_run = (int)rb_u32(&r);
    if (c->has_run) {
        sialo_run_state *s = &c->run;
        s->stage = (int)rb_u32(&r); s->epoch = (int)rb_u32(&r); s->bad = (int)rb_u32(&r);
        s->best_auc = rb_f64(&r); s->best_loss = rb_f64(&r); s->step = rb_u64(&r);
        uint64_t wn = rb_u64(&r);
        const uint8_t *wp = rb_take(&r, wn);
        uint64_t an = r.bad ? 0 : rb_u64(&r);
        if (!wp || r.bad || an > (r.n - r.pos) / 4 || s->stage < 0 || s->stage >= t->nst) { ckpt_free(c); return sialo_fail("the checkpoint is truncated"); }
        s->weights = malloc(wn ? wn : 1);
        s->aux = malloc((an ? an : 1) * sizeof(float));
        if (!s->weights || !s->aux) { ckpt_free(c); return sialo_fail("out of memory"); }
        memcpy(s->weights, wp, wn);
        s->weights_n = wn;
        s->aux_n = an;
        rb_f32s(&r, s->aux, an);
    }
    if (r.bad || r.pos != r.n) { ckpt_free(c); return sialo_fail("the checkpoint is damaged"); }
    return 0;
}

/* ------------------------------------------------------------------ the run */
typedef struct {
    sialo_trainer *t;
    const sialo_train_callbacks *cb;
    const char *opts;
    int cv, phase, n_done;
    float **done_p;
    int *done_n;
} run_ctx;

static int emit_checkpoint(run_ctx *c, const sialo_run_state *rs) {
    if (!c->cb || !c->cb->checkpoint) return 0;
    uint8_t *b;
    size_t n;
    if (ckpt_write(c->t, c->opts, c->cv, c->phase, c->n_done, c->done_p, c->done_n, rs, &b, &n) < 0) return -1;
    int stop = c->cb->checkpoint(c->cb->user, b, n);
    free(b);
    return stop ? 1 : 0;
}
static int on_epoch(void *user, const sialo_run_state *rs) { return emit_checkpoint(user, rs); }

static void provenance(const sialo_trainer *t, int n, int nst, float thr, int have_oof, char *out, size_t size) {
    char from[600], date[32];
    if (t->date) snprintf(date, sizeof date, "%s", t->date);
    else {
        time_t now = time(NULL);
        strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    }
    /* the backbone and the data by name and checksum only: never a path of the training machine */
    if (t->backbone) snprintf(from, sizeof from, "backbone %s (CRC-32 of the file %08x)", t->backbone_name, t->backbone_crc);
    else snprintf(from, sizeof from, "random weights");
    snprintf(out, size,
             "trained %s by sialoscan train: method %s, %d stages, from %s, data folder %s (%d images, label conflicts %s), "
             "input %d, batch %d, seed %llu, %sthreshold %.4f (%s)",
             date, t->o.method, nst, from, t->data_name, n, t->o.include_conflicts ? "included" : "excluded", t->o.input, t->o.batch,
             (unsigned long long)t->o.seed, t->o.masks ? "guided attention on lesion masks, " : "", thr,
             have_oof ? "Youden's J on the pooled out-of-fold predictions" : "default 0.5");
}

/* the final model's out-of-distribution statistics (engine/ood.c), written into *model: its pooled
   features of its training frames (the validation input of each frame: one forward per frame),
   cross-fitted over the folds of the cross-validation (or 5 group-aware folds without one), the
   threshold flagging at most 3% of the frames out of fold. A failure leaves the model unchecked. */
static int fit_ood(const sialo_dataset *d, const int *all, int n, const int *fold, int K, uint64_t seed, uint8_t **model, size_t *model_n,
                   const sialo_train_callbacks *cb) {
    sialo_graph *g = sialo_graph_read(*model, *model_n);
    sialo_model *m = g ? sialo_model_load(*model, *model_n, NULL) : NULL;
    int *fl = malloc((size_t)n * sizeof *fl), *lab = malloc((size_t)n * sizeof *lab), rc = -1, dim = 0;
    float *x = m ? malloc((size_t)m->g->in_h * m->g->in_w * 3 * sizeof *x) : NULL, *feats = NULL, thr = 0;
    if (!g || !m || !fl || !lab || !x || sialo_model_keep_features(m) < 0) goto out;
    const sialo_graph *mg = m->g;
    dim = mg->nodes[m->ood_node].oc;
    feats = malloc((size_t)n * dim * sizeof *feats);
    if (!feats) { sialo_fail("out of memory"); goto out; }
    sialo_norm nrm;
    memcpy(nrm.scale, mg->norm_scale, sizeof nrm.scale);
    memcpy(nrm.bias, mg->norm_bias, sizeof nrm.bias);
    float y;
    for (int i = 0; i < n; i++) {
        sialo_val_input(d, all[i], &nrm, x);
        if (sialo_forward(m, x, &y) < 0) goto out;
        memcpy(feats + (size_t)i * dim, sialo_model_features(m, 0, NULL), (size_t)dim * sizeof *feats);
        lab[i] = d->s[all[i]].label;
    }
    if (K >= 2) memcpy(fl, fold, (size_t)n * sizeof *fl);
    else sialo_dataset_folds(d, all, n, K = 5, seed, fl);
    sialo_ood_net *net = NULL;
    const char *layer = mg->nodes[m->ood_node].name;
    if (sialo_ood_crossfit(&feats, &dim, 1, lab, fl, n, K, 2, 32, 0.03, &layer, &net, &thr, NULL) < 0) goto out;
    if (sialo_graph_set_ood(g, &net, 1, thr, n) < 0) goto out;
    uint8_t *b;
    size_t bn;
    if (sialo_graph_write(g, g->storage_bits, &b, &bn) < 0) goto out;
    free(*model);
    *model = b;
    *model_n = bn;
    say(cb, "[final] out-of-distribution statistics: %d frames, %d features, rank 32, threshold %.3f (%d folds)", n, dim, thr, K);
    rc = 0;
out:
    if (rc < 0) say(cb, "sialoscan: warning: the final model has no out-of-distribution statistics (not checked): %s", sialo_error());
    free(fl); free(lab); free(x); free(feats);
    sialo_model_free(m);
    sialo_graph_free(g);
    return rc;
}

int sialo_trainer_run(sialo_trainer *t, const sialo_train_callbacks *cb, const uint8_t *resume, size_t resume_n) {
    if (sialo_dataset_finish(&t->d) < 0) return -1;
    free(t->model); t->model = NULL; t->model_n = 0;
    free(t->oof_csv); t->oof_csv = NULL;
    char why[400];
    const char *problem = data_problem(t, 0, why, sizeof why);
    if (problem) return sialo_fail("%s", problem);
    if (t->o.cv < 2 && !t->opts.final) return sialo_fail("nothing to do: ask for cross-validation (2 folds or more), the final model, or both");
    const sialo_dataset *d = &t->d;
    const sialo_train_opts *o = &t->o;
    int n = 0, excluded = 0;
    int *all = malloc((size_t)d->n * sizeof *all);
    char *opts = options_text(t);
    if (!all || !opts) { free(all); free(opts); return sialo_fail("out of memory"); }
    for (int i = 0; i < d->n; i++) {
        if (d->s[i].conflict && !o->include_conflicts) { excluded++; continue; }
        all[n++] = i;
    }
    say(cb, "data: %d images (%d excluded as label conflicts, %d unreadable), %d near-duplicate groups", n, excluded, d->unreadable, d->n_groups);
    if (o->masks) say(cb, "guided attention: %d of %d frames have lesion masks (weight %g)", d->n_with_mask, d->n, o->attention_weight);
    if (o->box_mode) say(cb, "box mode: %d frames as their lesion boxes, margin %g per side, jitter %g (shift and scale)", d->n, o->box_margin, o->box_jitter);
    ckpt ck = {0};
    if (resume && ckpt_read(t, opts, resume, resume_n, &ck) < 0) { free(all); free(opts); return -1; }
    int K = o->cv > 1 ? o->cv : 0, rc = 0, stopped = 0;
    float *oof = NULL;
    int *oofy = NULL, *fold = NULL;
    int *tr = malloc((size_t)n * sizeof *tr), *te = malloc((size_t)n * sizeof *te);
    int *itr = malloc((size_t)n * sizeof *itr), *iva = malloc((size_t)n * sizeof *iva);
    run_ctx rcx = {t, cb, opts, o->cv, 0, 0, NULL, NULL};
    rcx.done_p = calloc(33, sizeof *rcx.done_p);
    rcx.done_n = calloc(33, sizeof *rcx.done_n);
    sialo_run_clock clock = {.session_t0 = sialo_now_ms() / 1000.0};
    if (!resume) t->eta_images = t->eta_seconds = t->eta_fin_plan = t->eta_fin_done = 0;
    clock.session_images = t->eta_images;
    clock.session_t0 -= t->eta_seconds;
    clock.fin_plan = t->eta_fin_plan;
    clock.fin_done = t->eta_fin_done;
    if (!tr || !te || !itr || !iva || !rcx.done_p || !rcx.done_n) { rc = sialo_fail("out of memory"); goto done; }
    if (K) {
        fold = malloc((size_t)n * sizeof *fold);
        oof = malloc((size_t)n * sizeof *oof);
        oofy = malloc((size_t)n * sizeof *oofy);
        if (!fold || !oof || !oofy) { rc = sialo_fail("out of memory"); goto done; }
        sialo_dataset_folds(d, all, n, K, o->fold_seed ? o->fold_seed : o->seed, fold);
    }
    /* the work planned (every stage to its max_epochs), for the ETA; what a resume skips is done */
    double plan[33] = {0};
    for (int k = 0; k <= K; k++) {
        if (k == K && !t->opts.final) break;
        int ntr = 0;
        for (int i = 0; i < n; i++) ntr += k == K || fold[i] != k;
        double w = sialo_run_planned_images(t->st, t->nst, (int)(ntr * (1.0 - o->val_fraction)), o->batch);
        plan[k] = w;
        clock.images_total += w;
        if (resume && (k < ck.n_done || (k == K && ck.phase > K))) clock.images_done += w;
        else if (resume && ck.has_run && ck.phase == k) clock.images_done += (double)ck.run.step * o->batch;
    }
    sialo_metrics fm[32];
    for (int k = 0; k < K && rc == 0; k++) {
        int ntr = 0, nte = 0, nitr, niva;
        for (int i = 0; i < n; i++) { if (fold[i] == k) te[nte++] = all[i]; else tr[ntr++] = all[i]; }
        inner_split(d, tr, ntr, o->val_fraction, o->seed + (uint64_t)k, itr, &nitr, iva, &niva);
        char label[64];
        snprintf(label, sizeof label, "[fold %d/%d]", k + 1, K);
        float *pte = malloc((size_t)(nte ? nte : 1) * sizeof *pte);
        int *yte = malloc((size_t)(nte ? nte : 1) * sizeof *yte);
        if (!pte || !yte) { free(pte); free(yte); rc = sialo_fail("out of memory"); break; }
        for (int i = 0; i < nte; i++) yte[i] = d->s[te[i]].label;
        uint8_t *fold_model = NULL;
        size_t fold_model_n = 0;
        rcx.phase = k;
        if (resume && k < ck.n_done) { /* a finished fold is not run again */
            if (ck.done_n[k] != nte) { free(pte); free(yte); rc = sialo_fail("the checkpoint does not match this folder's folds"); break; }
            memcpy(pte, ck.done_p[k], (size_t)nte * sizeof *pte);
        } else {
            if (nitr < 1) { /* e.g. every frame of a class in one sub-folder: a single group per class */
                free(pte); free(yte);
                rc = sialo_fail("fold %d of %d has no frame left to train on: the folder's %d near-duplicate groups (sub-folders, or MANIFEST.tsv) "
                                "are too few for cross-validation; put each patient in a sub-folder of its own", k + 1, K, d->n_groups);
                break;
            }
            say(cb, "%s train %d (inner validation %d), test %d", label, nitr, niva, nte);
            sialo_run_args ra = {o, d, t->backbone, t->backbone_n, t->st, t->nst, label, k + 1, K, itr, iva, nitr, niva,
                                 resume && ck.has_run && ck.phase == k ? &ck.run : NULL, on_epoch, cb, &clock, &rcx};
            clock_start(&clock, plan, k, K, ra.resume ? (double)ck.run.step * o->batch : 0);
            if (cb && cb->progress) {
                sialo_train_progress p = {.kind = 2, .fold = k + 1, .folds = K, .stages = t->nst, .val_auc = NAN, .val_loss = NAN, .outside = NAN, .line = label};
                p.done = clock.images_total > 0 ? clock.images_done / clock.images_total : 0;
                p.eta_s = clock_eta(&clock);
                cb->progress(cb->user, &p);
            }
            sialo_model *m = sialo_train_run(&ra, &stopped);
            if (!m) { free(pte); free(yte); rc = stopped ? 0 : -1; break; }
            clock.fin_plan += clock.cur_plan;
            clock.fin_done += clock.images_done - clock.cur_done0;
            /* the fold's model (best weights): Grad-CAM and error analysis on its test fold */
            if (cb && cb->fold_done && sialo_graph_write(m->g, 32, &fold_model, &fold_model_n) < 0) { fold_model = NULL; fold_model_n = 0; }
            rc = sialo_train_predict(m, o, d, te, nte, pte);
            sialo_model_free(m);
        }
        if (rc == 0) {
            sialo_metrics_compute(pte, yte, nte, 0.5f, &fm[k]);
            sbuf b = {0};
            sb_printf(&b, "{\"fold\":%d,", k + 1);
            jmetrics(&b, &fm[k]);
            jauc_ci(&b, pte, yte, nte);
            sb_printf(&b, ",\"threshold\":0.5}");
            if (cb && cb->fold_done && !b.oom) cb->fold_done(cb->user, k + 1, b.s, fold_model, fold_model_n);
            free(b.s);
            int j = 0;
            for (int i = 0; i < n; i++) if (fold[i] == k) { oof[i] = pte[j]; oofy[i] = yte[j]; j++; }
            rcx.done_p[k] = pte;
            rcx.done_n[k] = nte;
            rcx.n_done = k + 1;
            pte = NULL;
            if (!(resume && k < ck.n_done)) { /* the fold is done: a resume starts at the next */
                rcx.phase = k + 1;
                int s = emit_checkpoint(&rcx, NULL);
                if (s < 0) rc = -1;
                else if (s > 0) stopped = 1;
            }
        }
        free(fold_model);
        free(pte);
        free(yte);
        if (stopped) break;
    }
    if (rc == 0 && !stopped && K) {
        /* mean and sd over folds, and the pooled out-of-fold figures */
        double mean[6] = {0}, sd[6] = {0};
        for (int k = 0; k < K; k++) {
            double v[6] = {fm[k].accuracy, fm[k].auc, fm[k].sensitivity, fm[k].specificity, fm[k].ppv, fm[k].npv};
            for (int q = 0; q < 6; q++) mean[q] += v[q] / K;
        }
        for (int k = 0; k < K; k++) {
            double v[6] = {fm[k].accuracy, fm[k].auc, fm[k].sensitivity, fm[k].specificity, fm[k].ppv, fm[k].npv};
            for (int q = 0; q < 6; q++) sd[q] += (v[q] - mean[q]) * (v[q] - mean[q]) / (K > 1 ? K - 1 : 1);
        }
        static const char *const names[6] = {"accuracy", "auc", "sensitivity", "specificity", "ppv", "npv"};
        sbuf b = {0};
        sb_printf(&b, "{\"cv\":%d,\"method\":\"%s\",\"seed\":%llu", K, o->method, (unsigned long long)o->seed);
        for (int q = 0; q < 6; q++) {
            char km[32], ks[32];
            snprintf(km, sizeof km, "%s_mean", names[q]);
            snprintf(ks, sizeof ks, "%s_sd", names[q]);
            jnum(&b, km, mean[q], 0);
            jnum(&b, ks, sqrt(sd[q]), 0);
        }
        float thr = youden_threshold(oof, oofy, n);
        sialo_metrics pooled;
        sialo_metrics_compute(oof, oofy, n, thr, &pooled);
        sb_printf(&b, ",\"youden_threshold\":%.4f,\"pooled_at_youden\":{", thr);
        jmetrics(&b, &pooled);
        jauc_ci(&b, oof, oofy, n);
        sb_printf(&b, "}}");
        if (cb && cb->result && !b.oom) cb->result(cb->user, b.s);
        free(b.s);
        sbuf csv = {0};
        sb_printf(&csv, "path,label,fold,p_malignant\n");
        for (int i = 0; i < n; i++) sb_printf(&csv, "%s,%d,%d,%.6f\n", d->s[all[i]].path, oofy[i], fold[i] + 1, oof[i]);
        if (csv.oom) { free(csv.s); rc = sialo_fail("out of memory"); }
        else t->oof_csv = csv.s;
    }
    if (rc == 0 && !stopped && t->opts.final) {
        int nitr, niva;
        inner_split(d, all, n, o->val_fraction, o->seed, itr, &nitr, iva, &niva);
        if (nitr < 1)
            rc = sialo_fail("no frame is left to train on after the inner validation split: the folder's %d near-duplicate groups "
                            "(sub-folders, or MANIFEST.tsv) are too few; put each patient in a sub-folder of its own", d->n_groups);
    }
    if (rc == 0 && !stopped && t->opts.final) {
        int nitr, niva;
        inner_split(d, all, n, o->val_fraction, o->seed, itr, &nitr, iva, &niva);
        say(cb, "[final] train %d (inner validation %d)", nitr, niva);
        rcx.phase = K;
        sialo_run_args ra = {o, d, t->backbone, t->backbone_n, t->st, t->nst, "[final]", 0, K, itr, iva, nitr, niva,
                             resume && ck.has_run && ck.phase == K ? &ck.run : NULL, on_epoch, cb, &clock, &rcx};
        clock_start(&clock, plan, K, K, ra.resume ? (double)ck.run.step * o->batch : 0);
        if (cb && cb->progress) {
            sialo_train_progress p = {.kind = 2, .fold = 0, .folds = K, .stages = t->nst, .val_auc = NAN, .val_loss = NAN, .outside = NAN, .line = "[final]"};
            p.done = clock.images_total > 0 ? clock.images_done / clock.images_total : 0;
            p.eta_s = clock_eta(&clock);
            cb->progress(cb->user, &p);
        }
        sialo_model *m = sialo_train_run(&ra, &stopped);
        if (!m) rc = stopped ? 0 : -1;
        else {
            float thr = oof ? youden_threshold(oof, oofy, n) : 0.5f;
            m->g->threshold = thr;
            char prov[2048];
            provenance(t, n, t->nst, thr, oof != NULL, prov, sizeof prov);
            sialo_graph_set_text(&m->g->provenance, prov);
            m->g->calib_a = 1.0f;
            m->g->calib_b = 0.0f;
            /* calibration of the final model on the pooled out-of-fold predictions (raw p): the
               threshold moves with it, so the operating point stays */
            if (oof && strcmp(o->calibration, "none")) {
                double *pd = malloc((size_t)n * sizeof *pd), a, b;
                int mth = !strcmp(o->calibration, "temperature") ? SIALO_CALIB_TEMPERATURE : SIALO_CALIB_PLATT;
                for (int i = 0; pd && i < n; i++) pd[i] = oof[i];
                if (!pd || sialo_calib_fit(pd, oofy, n, (sialo_calib_method)mth, &a, &b) < 0) {
                    say(cb, "sialoscan: warning: the final model is left uncalibrated: %s", sialo_error());
                } else {
                    char how[600], source[128];
                    snprintf(source, sizeof source, "the %d pooled out-of-fold predictions by sialoscan train", n);
                    sialo_calib_describe(how, sizeof how, (sialo_calib_method)mth, a, b, source);
                    if (sialo_calib_set(m->g, a, b, how) < 0) rc = -1;
                    else {
                        double *pc = malloc((size_t)n * sizeof *pc);
                        for (int i = 0; pc && i < n; i++) pc[i] = sialo_calib_apply(m->g->calib_a, m->g->calib_b, pd[i]);
                        if (pc && cb && cb->result) {
                            sbuf jb = {0};
                            sb_printf(&jb, "{\"calibration\":\"%s\",\"n\":%d,\"a\":%.9g,\"b\":%.9g,\"threshold_raw\":%.9g,\"threshold\":%.9g,"
                                      "\"brier_before\":%.6f,\"brier_after\":%.6f,\"ece_before\":%.6f,\"ece_after\":%.6f}",
                                      o->calibration, n, m->g->calib_a, m->g->calib_b, thr, m->g->threshold, sialo_brier(pd, oofy, n),
                                      sialo_brier(pc, oofy, n), sialo_ece(pd, oofy, n), sialo_ece(pc, oofy, n));
                            if (!jb.oom) cb->result(cb->user, jb.s);
                            free(jb.s);
                        }
                        free(pc);
                    }
                }
                free(pd);
            }
            if (rc == 0 && sialo_graph_write(m->g, o->storage_bits ? o->storage_bits : 16, &t->model, &t->model_n) < 0) rc = -1;
            sialo_model_free(m);
            if (rc == 0) fit_ood(d, all, n, fold, K, o->fold_seed ? o->fold_seed : o->seed, &t->model, &t->model_n, cb);
        }
    }
done:
    t->eta_images = clock.session_images;
    t->eta_seconds = sialo_now_ms() / 1000.0 - clock.session_t0;
    t->eta_fin_plan = clock.fin_plan;
    t->eta_fin_done = clock.fin_done;
    for (int k = 0; rcx.done_p && k < rcx.n_done; k++) free(rcx.done_p[k]);
    free(rcx.done_p); free(rcx.done_n);
    ckpt_free(&ck);
    free(tr); free(te); free(itr); free(iva); free(fold); free(oof); free(oofy); free(all); free(opts);
    if (rc < 0) return -1;
    return stopped ? 1 : 0;
}
