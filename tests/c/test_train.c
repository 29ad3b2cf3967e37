/* test_train.c — the trainer end to end on a learnable toy problem (seconds), schedules, and
 * the cross-validation splitter (groups kept together, classes stratified). */
#include "check.h"
#include "train/dataset.h"
#include "engine/graph.h"
#include "base/metrics.h"
#include "engine/runtime.h"
#include "train/train.h"
#include "train/trainer.h"
#include "train/run.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

unsigned char *stbi_write_png_to_mem(const unsigned char *pixels, int stride_bytes, int x, int y, int n, int *out_len);

static uint64_t rs = 1;
static double urand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* benign: speckle only; malignant: speckle plus a bright disc somewhere; a PNG in memory */
static uint8_t *synth(int malignant, int side, size_t *n) {
    uint8_t *px = malloc((size_t)side * side * 3);
    double cx = side * (0.3 + 0.4 * urand()), cy = side * (0.3 + 0.4 * urand()), r = side * (0.12 + 0.06 * urand());
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double v = 60 + 50 * urand();
            if (malignant && (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) v += 110;
            for (int c = 0; c < 3; c++) px[((size_t)y * side + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
        }
    int len = 0;
    uint8_t *png = stbi_write_png_to_mem(px, side * 3, side, side, 3, &len);
    free(px);
    *n = (size_t)len;
    return png;
}

/* a labelled folder in memory: paths and PNG bytes */
typedef struct { int n; char *path[256]; uint8_t *bytes[256]; size_t size[256]; } toy_set;
static void toy_add(toy_set *t, const char *path, uint8_t *bytes, size_t n) {
    t->path[t->n] = strdup(path); t->bytes[t->n] = bytes; t->size[t->n] = n; t->n++;
}
static void make_set(toy_set *t, int n_per_class, const char *prefix) {
    char p[128];
    for (int i = 0; i < n_per_class; i++) {
        size_t n;
        uint8_t *b = synth(0, 48, &n);
        snprintf(p, sizeof p, "benign/%s%03d.png", prefix, i); toy_add(t, p, b, n);
        b = synth(1, 48, &n);
        snprintf(p, sizeof p, "malignant/%s%03d.png", prefix, i); toy_add(t, p, b, n);
    }
}
static void toy_free(toy_set *t) { for (int i = 0; i < t->n; i++) { free(t->path[i]); free(t->bytes[i]); } t->n = 0; }

static sialo_trainer_opts toy_opts(const char *schedule, int cv, int final) {
    sialo_trainer_opts to = {0};
    to.o.arch = "smallcnn"; to.o.method = "scratch"; to.o.input = 32; to.o.batch = 8; to.o.threads = 2; to.o.seed = 3;
    to.o.weight_decay = 1e-4f; to.o.dropout = 0.2f; to.o.val_fraction = 0.2f; to.o.storage_bits = 32; to.o.cv = cv;
    to.schedule_text = schedule; to.final = final; to.date = "2026-01-01"; to.data_name = "toy";
    return to;
}

/* what a run reports, kept: every checkpoint, the fold lines, the result lines */
typedef struct {
    int n_ck, stop_at;          /* stop_at: return 1 from the stop_at-th checkpoint (1-based; 0 = never) */
    uint8_t *ck[64];
    size_t ck_n[64];
    char lines[4096];
    int epochs;
} recorder;
static int rec_ck(void *u, const uint8_t *b, size_t n) {
    recorder *r = u;
    if (r->n_ck < 64) { r->ck[r->n_ck] = malloc(n); memcpy(r->ck[r->n_ck], b, n); r->ck_n[r->n_ck] = n; }
    r->n_ck++;
    return r->stop_at && r->n_ck == r->stop_at;
}
static void rec_fold(void *u, int fold, const char *json, const uint8_t *m, size_t n) {
    recorder *r = u;
    (void)fold; (void)m; (void)n;
    strncat(r->lines, json, sizeof r->lines - strlen(r->lines) - 2);
    strcat(r->lines, "\n");
}
static void rec_result(void *u, const char *json) { rec_fold(u, 0, json, NULL, 0); }
static void rec_progress(void *u, const sialo_train_progress *p) { recorder *r = u; if (p->kind == 1) r->epochs++; }
static void rec_free(recorder *r) { for (int i = 0; i < r->n_ck && i < 64; i++) free(r->ck[i]); }

/* one whole run: the model bytes (caller frees) or NULL; rc: the run's status */
static uint8_t *toy_run(const toy_set *set, const sialo_trainer_opts *to, int reverse, int one_by_one, recorder *rec, const uint8_t *resume,
                        size_t resume_n, size_t *model_n, int *rc, char **oof) {
    sialo_trainer *t = sialo_trainer_new(NULL, 0, to);
    CHECK(t != NULL, "trainer: %s", sialo_error());
    if (!t) return NULL;
    if (one_by_one) {
        for (int k = 0; k < set->n; k++) {
            int i = reverse ? set->n - 1 - k : k;
            CHECK(sialo_trainer_add(t, set->path[i], set->bytes[i], set->size[i]) == 1, "add %s: %s", set->path[i], sialo_error());
        }
    } else {
        int st[256];
        char *why[256];
        CHECK(sialo_trainer_add_many(t, set->n, (const char *const *)set->path, (const uint8_t *const *)set->bytes, set->size, st, why) == 0, "add_many");
        for (int i = 0; i < set->n; i++) { CHECK(st[i] == 1, "add_many %s: %s", set->path[i], why[i] ? why[i] : ""); free(why[i]); }
    }
    sialo_train_callbacks cb = {rec_progress, rec_ck, rec_fold, rec_result, NULL, NULL, rec};
    *rc = sialo_trainer_run(t, &cb, resume, resume_n);
    uint8_t *out = NULL;
    size_t n = 0;
    const uint8_t *m = sialo_trainer_model(t, &n);
    if (m) { out = malloc(n); memcpy(out, m, n); }
    *model_n = n;
    if (oof) *oof = sialo_trainer_oof_csv(t) ? strdup(sialo_trainer_oof_csv(t)) : NULL;
    sialo_trainer_free(t);
    return out;
}

static void test_end_to_end(void) {
    toy_set train = {0}, test = {0};
    make_set(&train, 40, "t");
    make_set(&test, 20, "h");
    sialo_trainer_opts to = toy_opts("# a toy schedule\nall all 3e-3 12 12\n", 0, 1);
    recorder rec = {0};
    size_t mn;
    int rc;
    uint8_t *model = toy_run(&train, &to, 0, 0, &rec, NULL, 0, &mn, &rc, NULL);
    CHECK(rc == 0 && model, "train: %s", sialo_error());
    sialo_model *m = model ? sialo_model_load(model, mn, NULL) : NULL;
    CHECK(m != NULL, "trained model loads: %s", sialo_error());
    if (m) {
        /* evaluate on unseen images: a learnable problem must be learned */
        float p[40];
        int y[40], n = 0;
        for (int i = 0; i < test.n; i++) {
            sialo_result r;
            if (sialo_classify(m, test.bytes[i], test.size[i], &r) == 0) { p[n] = r.p_positive; y[n] = test.path[i][0] == 'm'; n++; }
        }
        sialo_metrics mt;
        sialo_metrics_compute(p, y, n, 0.5f, &mt);
        printf("toy problem: AUC %.3f accuracy %.3f on %d held-out images\n", mt.auc, mt.accuracy, n);
        CHECK(n == 40 && mt.auc > 0.95 && mt.accuracy > 0.85, "the toy problem was not learned: AUC %.3f, accuracy %.3f", mt.auc, mt.accuracy);
        sialo_info in;
        sialo_model_info(m, &in);
        CHECK(strstr(in.provenance, "sialoscan train") != NULL && strstr(in.provenance, "data folder toy (80 images"), "provenance records the training: %s", in.provenance);
        sialo_model_free(m);
    }
    CHECK(rec.epochs == 12 && rec.n_ck == 12, "an epoch reported and checkpointed each time (%d epochs, %d checkpoints)", rec.epochs, rec.n_ck);
    rec_free(&rec);
    free(model);
    toy_free(&train);
    toy_free(&test);
}

/* the order files arrive in, and one by one or in parallel, change nothing; a checkpoint resumes
   to the model an uninterrupted run gives, from any epoch; another folder is refused */
static void test_memory_trainer(void) {
    toy_set set = {0};
    make_set(&set, 12, "f");
    const char *sched = "head head 3e-3 2 2\nall all 1e-3 2 1\n";
    sialo_trainer_opts to = toy_opts(sched, 2, 1);
    recorder a = {0}, b = {0};
    size_t na, nb;
    int rca, rcb;
    char *oofa = NULL, *oofb = NULL;
    uint8_t *ma = toy_run(&set, &to, 0, 0, &a, NULL, 0, &na, &rca, &oofa);
    uint8_t *mb = toy_run(&set, &to, 1, 1, &b, NULL, 0, &nb, &rcb, &oofb);
    CHECK(rca == 0 && rcb == 0 && ma && mb, "both runs: %s", sialo_error());
    CHECK(ma && mb && na == nb && !memcmp(ma, mb, na), "the same model whatever the order and the way files were added");
    CHECK(oofa && oofb && !strcmp(oofa, oofb) && !strcmp(a.lines, b.lines), "the same fold lines and out-of-fold predictions");
    int rows = 0;
    for (const char *c = oofa ? oofa : ""; *c; c++) rows += *c == '\n';
    CHECK(rows == 25, "one OOF row per frame and a header (%d lines)", rows);
    CHECK(a.n_ck >= 6, "checkpoints were written (%d)", a.n_ck);
    int stops[3] = {1, a.n_ck / 2, a.n_ck - 1};
    for (int q = 0; q < 3; q++) {
        recorder s = {0}, r = {0};
        s.stop_at = stops[q];
        size_t ns, nr;
        int rcs, rcr;
        uint8_t *ms = toy_run(&set, &to, 0, 0, &s, NULL, 0, &ns, &rcs, NULL);
        CHECK(rcs == 1 && !ms, "stopped at checkpoint %d: status %d", stops[q], rcs);
        uint8_t *mr = s.n_ck >= stops[q] ? toy_run(&set, &to, 0, 0, &r, s.ck[stops[q] - 1], s.ck_n[stops[q] - 1], &nr, &rcr, NULL) : NULL;
        CHECK(mr && rcr == 0 && nr == na && !memcmp(mr, ma, na), "resumed from checkpoint %d of %d: the uninterrupted run's model (%s)", stops[q],
              a.n_ck, mr ? "" : sialo_error());
        CHECK(!strcmp(a.lines, r.lines), "resumed: the same result lines");
        free(ms); free(mr);
        rec_free(&s); rec_free(&r);
    }
    /* options given after the frames (the JS API's order): configure replaces those of new */
    {
        sialo_trainer_opts first = toy_opts("all all 1e-2 1 1\n", 3, 0);
        first.o.seed = 9;
        sialo_trainer *t = sialo_trainer_new(NULL, 0, &first);
        for (int i = 0; t && i < set.n; i++) sialo_trainer_add(t, set.path[i], set.bytes[i], set.size[i]);
        sialo_trainer_opts bad = toy_opts("all all fast 1 1\n", 2, 1);
        CHECK(t && sialo_trainer_configure(t, &bad) < 0 && strlen(sialo_error()) > 10, "a bad schedule refused: %s", sialo_error());
        CHECK(t && sialo_trainer_configure(t, &to) == 0, "configure: %s", sialo_error());
        recorder c = {0};
        sialo_train_callbacks cb = {rec_progress, rec_ck, rec_fold, rec_result, NULL, NULL, &c};
        int rc = t ? sialo_trainer_run(t, &cb, NULL, 0) : -1;
        size_t nc = 0;
        const uint8_t *mc = t ? sialo_trainer_model(t, &nc) : NULL;
        CHECK(rc == 0 && mc && nc == na && !memcmp(mc, ma, na), "configured after adding: the same model as options given at the start");
        sialo_trainer_free(t);
        rec_free(&c);
    }
    /* another folder, other options, a damaged checkpoint */
    toy_set other = {0};
    make_set(&other, 12, "f");
    recorder r = {0};
    size_t nr;
    int rcr;
    uint8_t *mr = toy_run(&other, &to, 0, 0, &r, a.ck[2], a.ck_n[2], &nr, &rcr, NULL);
    CHECK(rcr < 0 && !mr && strstr(sialo_error(), "another folder") && strstr(sialo_error(), "benign/f000.png has changed"),
          "another folder refused: %s", sialo_error());
    sialo_trainer_opts to2 = toy_opts(sched, 2, 1);
    to2.o.seed = 4;
    mr = toy_run(&set, &to2, 0, 0, &r, a.ck[2], a.ck_n[2], &nr, &rcr, NULL);
    CHECK(rcr < 0 && strstr(sialo_error(), "other training options: seed=3 (now seed=4)"), "other options refused: %s", sialo_error());
    a.ck[2][a.ck_n[2] / 2] ^= 1;
    mr = toy_run(&set, &to, 0, 0, &r, a.ck[2], a.ck_n[2], &nr, &rcr, NULL);
    CHECK(rcr < 0 && strstr(sialo_error(), "damaged"), "a damaged checkpoint refused: %s", sialo_error());
    rec_free(&r);
    toy_free(&other);
    rec_free(&a); rec_free(&b);
    free(ma); free(mb); free(oofa); free(oofb);
    toy_free(&set);
}

/* refusals: per file (damaged, not a frame, over the memory limit) and per data set */
static void test_trainer_refusals(void) {
    sialo_trainer_opts to = toy_opts("all all 1e-3 1 1\n", 2, 1);
    sialo_trainer *t = sialo_trainer_new(NULL, 0, &to);
    size_t n;
    uint8_t *png = synth(0, 48, &n);
    CHECK(sialo_trainer_add(t, "README.txt", png, n) == 0, "a file outside the class folders is ignored");
    CHECK(sialo_trainer_add(t, "benign/notes.txt", (const uint8_t *)"hello", 5) == 0, "a text file is ignored");
    uint8_t bad[64];
    memcpy(bad, png, 64);
    CHECK(sialo_trainer_add(t, "benign/cut.png", bad, 64) == -1 && strlen(sialo_error()) > 10, "a damaged frame is refused: %s", sialo_error());
    CHECK(sialo_trainer_add(t, "benign/a.png", png, n) == 1, "a frame is taken");
    CHECK(sialo_trainer_run(t, NULL, NULL, 0) < 0 && strstr(sialo_error(), "only benign frames"), "one class refused: %s", sialo_error());
    char *js = sialo_trainer_summary_json(t);
    CHECK(js && strstr(js, "\"frames\":1") && strstr(js, "\"ignored\":2") && strstr(js, "benign/cut.png") && strstr(js, "only benign"), "summary: %s", js);
    free(js);
    sialo_trainer_free(t);
    t = sialo_trainer_new(NULL, 0, &to);
    CHECK(sialo_trainer_run(t, NULL, NULL, 0) < 0 && strstr(sialo_error(), "no frames found"), "an empty folder refused: %s", sialo_error());
    sialo_trainer_free(t);
    to.max_bytes = 3 * (37 * 37 + 32 * 32) * 3; /* three frames at 32 px (cached at 37) */
    t = sialo_trainer_new(NULL, 0, &to);
    int taken = 0;
    for (int i = 0; i < 4; i++) {
        char p[64];
        snprintf(p, sizeof p, "malignant/m%d.png", i);
        taken += sialo_trainer_add(t, p, png, n) == 1;
    }
    CHECK(taken == 3 && strstr(sialo_error(), "too large") && strstr(sialo_error(), "4 frames") && strstr(sialo_error(), "limit"),
          "the frame over the memory limit is refused with the count and the limit: %s", sialo_error());
    sialo_trainer_free(t);
    free(png);
}

/* groups: the manifest's, else the class folder's sub-folder, else one per frame; masks by stem */
static void test_dataset_groups(void) {
    sialo_dataset d;
    sialo_dataset_init(&d, 32, 0, 1);
    size_t n;
    uint8_t *png = synth(0, 48, &n);
    const char *paths[] = {"benign/p017/a.png", "benign/p017/b.png", "benign/p018/a.png", "benign/c.png", "malignant/d.png", "malignant/e.png",
                           "masks/malignant/d-mask.png", "masks/malignant/d-mask-2.png", "masks/benign/d-mask.png"};
    for (int i = 0; i < 9; i++) CHECK(sialo_dataset_add(&d, paths[i], png, n) == 1, "add %s: %s", paths[i], sialo_error());
    const char *man = "path\tclass\tgroup\tlabel_conflict\nmalignant/d.png\tmalignant\tg1\tno\nmalignant/e.png\tmalignant\tg1\tyes\n";
    CHECK(sialo_dataset_add(&d, "MANIFEST.tsv", (const uint8_t *)man, strlen(man)) == 1, "the manifest is taken");
    CHECK(sialo_dataset_finish(&d) == 0, "finish");
    /* sorted: benign/c, benign/p017/a, benign/p017/b, benign/p018/a, malignant/d, malignant/e */
    CHECK(d.n == 6 && !strcmp(d.s[0].path, "benign/c.png"), "six frames, in path order");
    CHECK(d.s[1].group == d.s[2].group && d.s[1].group != d.s[3].group && d.s[0].group != d.s[1].group, "sub-folder groups");
    CHECK(d.s[4].group == d.s[5].group && d.s[5].conflict && !d.s[4].conflict, "manifest groups and conflicts");
    CHECK(d.s[4].mask != NULL && d.s[5].mask == NULL && d.s[0].mask == NULL && d.n_with_mask == 1, "masks by stem and class");
    CHECK(d.n_files == 10, "the fingerprint lists every file taken (%d)", d.n_files);
    sialo_dataset_free(&d);
    free(png);
}

static void test_schedules(void) {
    sialo_stage st[SIALO_MAX_STAGES];
    int n = sialo_schedule_parse("# c\nhead head 1e-3 5 2\n\nall all 1e-5 3 1 # tail\n", st, SIALO_MAX_STAGES);
    CHECK(n == 2 && !strcmp(st[1].unfreeze, "all") && fabsf(st[1].lr - 1e-5f) < 1e-12f && st[1].patience == 1, "parse");
    CHECK(sialo_schedule_parse("head head 2 5 2\n", st, SIALO_MAX_STAGES) < 0 && strstr(sialo_error(), "learning rate"), "bad lr refused");
    CHECK(sialo_schedule_parse("head head 1e-3\n", st, SIALO_MAX_STAGES) < 0 && strstr(sialo_error(), "line 1"), "short line refused");
    CHECK(sialo_schedule_parse("# only comments\n", st, SIALO_MAX_STAGES) < 0, "empty schedule refused");
    CHECK(sialo_schedule_default("gradual", "mobilenetv2", st, SIALO_MAX_STAGES) == 4 && !strcmp(st[0].unfreeze, "head"), "gradual default: head first");
    CHECK(st[1].lr < st[0].lr && st[2].lr < st[1].lr && st[3].lr < st[2].lr, "gradual default: decreasing learning rates");
    CHECK(sialo_schedule_default("sideways", NULL, st, SIALO_MAX_STAGES) < 0, "unknown method refused");
}

static void test_folds(void) {
    sialo_dataset d = {0};
    d.n = 300;
    d.s = calloc((size_t)d.n, sizeof *d.s);
    int g = 0;
    for (int i = 0; i < d.n;) {
        int size = urand() < 0.25 ? 2 + (int)(urand() * 3) : 1, label = urand() < 0.33;
        for (int k = 0; k < size && i < d.n; k++, i++) { d.s[i].group = g; d.s[i].label = label; }
        g++;
    }
    d.n_groups = g;
    int idx[300], fold[300], fold2[300], npos = 0;
    for (int i = 0; i < d.n; i++) { idx[i] = i; npos += d.s[i].label; }
    sialo_dataset_folds(&d, idx, d.n, 5, 42, fold);
    sialo_dataset_folds(&d, idx, d.n, 5, 42, fold2);
    CHECK(!memcmp(fold, fold2, sizeof fold), "folds are deterministic");
    int together = 1, cnt[5][2] = {{0}};
    for (int i = 0; i < d.n; i++) {
        cnt[fold[i]][d.s[i].label]++;
        for (int j = 0; j < i; j++) if (d.s[j].group == d.s[i].group && fold[j] != fold[i]) together = 0;
    }
    CHECK(together, "every near-duplicate group lies in one fold");
    for (int k = 0; k < 5; k++) {
        CHECK(abs(cnt[k][1] - npos / 5) <= 4, "fold %d has %d positives, expected about %d", k, cnt[k][1], npos / 5);
        CHECK(abs(cnt[k][0] - (d.n - npos) / 5) <= 4, "fold %d has %d negatives, expected about %d", k, cnt[k][0], (d.n - npos) / 5);
    }
    free(d.s);
}

/* guided attention: the analytic gradient of the outside share vs central finite differences */
static double share_at(const float *A, int P, int C, const float *w, const float *m, float sign) {
    return sialo_attention_outside(A, P, C, w, m, sign, 1.0f, NULL, NULL);
}

/* central differences of the share in each of v[0..n) (a part of A or w), against the analytic
   gradient g; the largest |difference| and |fd| so far in *worst, *scale */
static void fd_compare(float *v, int n, const float *g, const float *A, const float *w, const float *m, int P, int C, float sign,
                       double *worst, double *scale) {
    const float h = 1e-3f;
    for (int k = 0; k < n; k++) {
        float keep = v[k];
        v[k] = keep + h; double up = share_at(A, P, C, w, m, sign);
        v[k] = keep - h; double dn = share_at(A, P, C, w, m, sign);
        v[k] = keep;
        double fd = (up - dn) / (2 * h);
        *worst = fmax(*worst, fabs(fd - g[k]));
        *scale = fmax(*scale, fabs(fd));
    }
}

static void test_attention_gradient(void) {
    enum { P = 9, C = 5 };
    for (int trial = 0; trial < 4; trial++) {
        float A[P * C], w[C], m[P], dA[P * C], dw[C] = {0};
        float sign = trial & 1 ? -1.0f : 1.0f;
        int ok;
        do { /* keep every cell's z away from the ReLU's kink */
            for (int k = 0; k < P * C; k++) A[k] = (float)(urand() * 2.0);
            for (int k = 0; k < C; k++) w[k] = (float)(urand() * 2.0 - 1.0);
            ok = 1;
            int lit = 0;
            for (int p = 0; p < P; p++) {
                double z = 0;
                for (int k = 0; k < C; k++) z += (double)w[k] * A[p * C + k];
                if (fabs(z) < 0.05) ok = 0;
                lit += sign * z > 0;
            }
            if (lit < 3 || lit == P) ok = 0; /* a map with some cells lit, some not */
        } while (!ok);
        for (int p = 0; p < P; p++) m[p] = p % 3 == 0 ? 1.0f : p % 3 == 1 ? 0.0f : (float)urand();
        double s0 = sialo_attention_outside(A, P, C, w, m, sign, 1.0f, dA, dw);
        CHECK(s0 >= 0 && s0 <= 1, "the outside share is a share (%g)", s0);
        double worst = 0, scale = 0;
        fd_compare(A, P * C, dA, A, w, m, P, C, sign, &worst, &scale);
        fd_compare(w, C, dw, A, w, m, P, C, sign, &worst, &scale);
        CHECK(scale > 1e-3 && worst <= 2e-3 * scale + 1e-5, "trial %d: attention gradient vs finite differences: max |diff| %g (scale %g)",
              trial, worst, scale);
    }
    /* all energy inside the lesion: share 0; a mask of nothing: share ~1 */
    float A[4] = {1, 1, 1, 1}, w[1] = {1}, in[4] = {1, 1, 1, 1}, out[4] = {0, 0, 0, 0};
    CHECK(share_at(A, 4, 1, w, in, 1.0f) < 1e-9, "energy inside the lesion: share 0");
    CHECK(share_at(A, 4, 1, w, out, 1.0f) > 0.99, "energy outside the lesion: share ~1");
    CHECK(share_at(A, 4, 1, w, out, -1.0f) == 0, "the other class's map is empty: share 0");
}

/* the augmented mask follows the augmented frame: a bright, asymmetric lesion is its own mask */
static void test_mask_follows_augmentation(void) {
    sialo_dataset d = {0};
    sialo_sample smp = {0};
    d.s = &smp;
    d.n = 1;
    d.in_side = 56;
    d.train_side = 64;
    int S = 64;
    smp.train = malloc((size_t)S * S * 3);
    smp.mask = calloc((size_t)S * S, 1);
    for (int y = 0; y < S; y++)
        for (int x = 0; x < S; x++) {
            int in = (x >= 8 && x < 30 && y >= 10 && y < 50) || (x >= 30 && x < 52 && y >= 36 && y < 50); /* an L */
            smp.mask[y * S + x] = (uint8_t)in;
            for (int c = 0; c < 3; c++) smp.train[(y * S + x) * 3 + c] = in ? 230 : 30;
        }
    sialo_norm nrm = {{1, 1, 1}, {0, 0, 0}};
    float *x = malloc((size_t)56 * 56 * 3 * sizeof *x), cells[49];
    int good = 1, seen_in = 0, seen_out = 0;
    for (uint64_t seed = 1; seed <= 24; seed++) {
        sialo_augment(&d, 0, seed, &nrm, x);
        sialo_augment_mask(&d, 0, seed, 7, 7, cells);
        for (int cy = 0; cy < 7; cy++)
            for (int cx = 0; cx < 7; cx++) {
                double mean = 0;
                for (int y = cy * 8; y < cy * 8 + 8; y++)
                    for (int xx = cx * 8; xx < cx * 8 + 8; xx++) mean += x[(y * 56 + xx) * 3];
                mean /= 64;
                float c = cells[cy * 7 + cx];
                if (c >= 0.99f) { seen_in++; if (mean < 170) good = 0; }
                if (c <= 0.01f) { seen_out++; if (mean > 90) good = 0; }
            }
    }
    CHECK(good && seen_in > 50 && seen_out > 200, "lesion cells are bright and the others dark (%d inside, %d outside)", seen_in, seen_out);
    free(x);
    free(smp.train);
    free(smp.mask);
}

/* the expected time left: the plan scaled by what the finished runs trained of theirs, at most the plan */
static void test_eta(void) {
    sialo_run_clock c = {.images_done = 100, .images_total = 1000};
    CHECK(fabs(sialo_run_clock_eta(&c, 10) - 90) < 1e-9, "no run finished: the plan left (%.3f s)", sialo_run_clock_eta(&c, 10));
    CHECK(isnan(sialo_run_clock_eta(&c, 0)), "no rate yet: no estimate");
    /* run 1 planned 400 and trained 200 (r = 0.5); run 2 planned 400, 100 trained; run 3 planned 400 */
    c = (sialo_run_clock){.images_done = 300, .images_total = 1100, .fin_plan = 400, .fin_done = 200, .cur_plan = 400, .cur_done0 = 200,
                          .future_plan = 400};
    CHECK(fabs(sialo_run_clock_eta(&c, 10) - 30) < 1e-9, "(400 x 0.5 - 100) + 400 x 0.5 = 300 images: 30 s (%.3f)", sialo_run_clock_eta(&c, 10));
    c.images_done = 550; /* run 2 goes on past its expected 200: its share is 0, run 3's remains */
    CHECK(fabs(sialo_run_clock_eta(&c, 10) - 20) < 1e-9, "a run longer than expected: the runs after it (%.3f)", sialo_run_clock_eta(&c, 10));
    c.images_total = 600; /* early stopping left only 50 images planned: the bound wins */
    CHECK(fabs(sialo_run_clock_eta(&c, 10) - 5) < 1e-9, "never more than the plan left (%.3f)", sialo_run_clock_eta(&c, 10));
}

int main(void) {
    test_eta();
    test_attention_gradient();
    test_mask_follows_augmentation();
    test_schedules();
    test_folds();
    test_dataset_groups();
    test_trainer_refusals();
    test_memory_trainer();
    test_end_to_end();
    return test_summary("test_train");
}
