/* test_train.c — the trainer end to end on a learnable toy problem (seconds), schedules, and
 * the cross-validation splitter (groups kept together, classes stratified). */
#include "check.h"
#include "train/dataset.h"
#include "engine/graph.h"
#include "base/metrics.h"
#include "engine/runtime.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int stbi_write_png(char const *filename, int w, int h, int comp, const void *data, int stride_in_bytes);

static uint64_t rs = 1;
static double urand(void) {
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(rs >> 11) / 9007199254740992.0;
}

/* benign: speckle only; malignant: speckle plus a bright disc somewhere */
static void synth(const char *path, int malignant, int side) {
    uint8_t *px = malloc((size_t)side * side * 3);
    double cx = side * (0.3 + 0.4 * urand()), cy = side * (0.3 + 0.4 * urand()), r = side * (0.12 + 0.06 * urand());
    for (int y = 0; y < side; y++)
        for (int x = 0; x < side; x++) {
            double v = 60 + 50 * urand();
            if (malignant && (x - cx) * (x - cx) + (y - cy) * (y - cy) < r * r) v += 110;
            for (int c = 0; c < 3; c++) px[((size_t)y * side + x) * 3 + c] = (uint8_t)(v > 255 ? 255 : v);
        }
    stbi_write_png(path, side, side, 3, px, side * 3);
    free(px);
}

static void make_set(const char *dir, int n_per_class) {
    char p[512];
    mkdir(dir, 0755);
    snprintf(p, sizeof p, "%s/benign", dir); mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/malignant", dir); mkdir(p, 0755);
    for (int i = 0; i < n_per_class; i++) {
        snprintf(p, sizeof p, "%s/benign/b%03d.png", dir, i); synth(p, 0, 48);
        snprintf(p, sizeof p, "%s/malignant/m%03d.png", dir, i); synth(p, 1, 48);
    }
}

static void test_end_to_end(void) {
    char tmpl[] = "/tmp/sialo-train-XXXXXX";
    char *root = mkdtemp(tmpl);
    CHECK(root != NULL, "temp dir");
    if (!root) return;
    char train_dir[512], test_dir[512], sched[512], model[512];
    snprintf(train_dir, sizeof train_dir, "%s/train", root);
    snprintf(test_dir, sizeof test_dir, "%s/test", root);
    snprintf(sched, sizeof sched, "%s/schedule.txt", root);
    snprintf(model, sizeof model, "%s/toy.sialo", root);
    make_set(train_dir, 40);
    make_set(test_dir, 20);
    FILE *f = fopen(sched, "w");
    fprintf(f, "# a toy schedule\nall all 3e-3 12 12\n");
    fclose(f);
    sialo_train_opts o = {0};
    o.data_dir = train_dir; o.arch = "smallcnn"; o.method = "scratch"; o.schedule = sched; o.out = model;
    o.input = 32; o.batch = 16; o.threads = 2; o.seed = 3; o.weight_decay = 1e-4f; o.dropout = 0.2f;
    o.val_fraction = 0.2f; o.storage_bits = 32;
    int rc = sialo_train(&o);
    CHECK(rc == 0, "train: %s", sialo_error());
    sialo_model *m = rc == 0 ? sialo_model_load_file(model, NULL) : NULL;
    CHECK(m != NULL, "trained model loads: %s", sialo_error());
    if (m) {
        /* evaluate on unseen images: a learnable problem must be learned */
        float p[40];
        int y[40], n = 0;
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 20; i++) {
                char path[600];
                snprintf(path, sizeof path, "%s/%s/%c%03d.png", test_dir, c ? "malignant" : "benign", c ? 'm' : 'b', i);
                FILE *g = fopen(path, "rb");
                fseek(g, 0, SEEK_END);
                long sz = ftell(g);
                fseek(g, 0, SEEK_SET);
                uint8_t *buf = malloc((size_t)sz);
                fread(buf, 1, (size_t)sz, g);
                fclose(g);
                sialo_result r;
                if (sialo_classify(m, buf, (size_t)sz, &r) == 0) { p[n] = r.p_positive; y[n] = c; n++; }
                free(buf);
            }
        sialo_metrics mt;
        sialo_metrics_compute(p, y, n, 0.5f, &mt);
        printf("toy problem: AUC %.3f accuracy %.3f on %d held-out images\n", mt.auc, mt.accuracy, n);
        CHECK(n == 40 && mt.auc > 0.95 && mt.accuracy > 0.85, "the toy problem was not learned: AUC %.3f, accuracy %.3f", mt.auc, mt.accuracy);
        sialo_info in;
        sialo_model_info(m, &in);
        CHECK(strstr(in.provenance, "sialoscan train") != NULL, "provenance records the training");
        sialo_model_free(m);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    CHECK(system(cmd) == 0, "cleanup");
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

int main(void) {
    test_attention_gradient();
    test_mask_follows_augmentation();
    test_schedules();
    test_folds();
    test_end_to_end();
    return test_summary("test_train");
}
