/* train.c — sialoscan train: the trainer's options from the command line, the folder read into
 * the trainer core (train/trainer.h), its callbacks written to the terminal and to files: JSON
 * result lines on stdout, progress on stderr, the checkpoint DIR/train.ckpt after every epoch
 * (--resume continues from it), each fold's model DIR/fold<k>.model.sialo, --predictions, --out. */
#include "cli/cli.h"
#include "base/base.h"
#include "train/trainer.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct { char **rel; int n, cap; } file_list;

static int list_add(file_list *l, const char *rel) {
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 512;
        char **q = realloc(l->rel, (size_t)nc * sizeof *q);
        if (!q) return -1;
        l->rel = q;
        l->cap = nc;
    }
    return (l->rel[l->n++] = strdup(rel)) ? 0 : -1;
}

/* every regular file under root/rel (hidden entries skipped), as paths relative to root */
static int walk(const char *root, const char *rel, file_list *l, int depth) {
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
        if (S_ISDIR(st.st_mode)) { if (depth < 8) rc = walk(root, r2, l, depth + 1); }
        else if (S_ISREG(st.st_mode)) rc = list_add(l, r2);
    }
    closedir(dd);
    return rc;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

typedef struct { const char *ckdir; const char *label_fold_dir; } cli_train;

static void on_log(void *u, const char *line) { (void)u; fprintf(stderr, "%s\n", line); fflush(stderr); }
static void on_result(void *u, const char *json) { (void)u; printf("%s\n", json); fflush(stdout); }
static void on_fold(void *u, int fold, const char *json, const uint8_t *model, size_t n) {
    cli_train *c = u;
    printf("%s\n", json);
    fflush(stdout);
    if (c->ckdir && model) {
        char mp[4096];
        snprintf(mp, sizeof mp, "%s/fold%d.model.sialo", c->ckdir, fold);
        FILE *f = fopen(mp, "wb");
        if (!f || fwrite(model, 1, n, f) != n) fprintf(stderr, "sialoscan: warning: cannot write %s\n", mp);
        if (f) fclose(f);
    }
}
/* written to a temporary file and renamed: a crash mid-write leaves the previous checkpoint */
static int on_checkpoint(void *u, const uint8_t *b, size_t n) {
    cli_train *c = u;
    if (!c->ckdir) return 0;
    char tmp[4096], path[4096];
    snprintf(path, sizeof path, "%s/train.ckpt", c->ckdir);
    snprintf(tmp, sizeof tmp, "%s/train.ckpt.tmp", c->ckdir);
    FILE *f = fopen(tmp, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) fprintf(stderr, "sialoscan: warning: cannot write the checkpoint %s: %s\n", path, strerror(errno));
    return 0;
}

static int write_file(const char *path, const void *b, size_t n) {
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(b, 1, n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    return ok ? 0 : -1;
}

static int train_folder(const sialo_train_opts *o, const sialo_box_table *boxes) {
    double t0 = sialo_now_ms();
    sialo_trainer_opts to = {0};
    to.o = *o;
    to.final = o->out != NULL;
    to.boxes = boxes;
    char bname[256] = "", dname[256] = "";
    char *sched = NULL;
    uint8_t *bb = NULL;
    size_t bn = 0;
    if (o->schedule) {
        size_t sn;
        uint8_t *sb = read_all(o->schedule, &sn);
        if (!sb) return die("cannot open schedule '%s'", o->schedule);
        sched = malloc(sn + 1);
        if (!sched) { free(sb); return die("%s", "out of memory"); }
        memcpy(sched, sb, sn);
        sched[sn] = 0;
        free(sb);
        to.schedule_text = sched;
    }
    if (o->backbone) {
        bb = read_all(o->backbone, &bn);
        if (!bb) { free(sched); return die("cannot open model '%s'", o->backbone); }
        sialo_path_base(o->backbone, bname, sizeof bname);
        to.backbone_name = bname;
    }
    sialo_path_base(o->data_dir, dname, sizeof dname);
    to.data_name = dname;
    sialo_trainer *t = sialo_trainer_new(bb, bn, &to);
    free(bb);
    free(sched);
    if (!t) return die("%s", sialo_error());
    int rc = 0;
    file_list l = {0};
    static const char *const top[3] = {"benign", "malignant", "masks"};
    for (int k = 0; k < 3 && rc == 0; k++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", o->data_dir, top[k]);
        struct stat st;
        if (k < 2 && (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))) {
            fprintf(stderr, "sialoscan: '%s' has no %s/ folder\n", o->data_dir, top[k]);
            rc = 1;
            break;
        }
        if (walk(o->data_dir, top[k], &l, 0) < 0) rc = die("%s", "out of memory");
    }
    char mpath[4096];
    snprintf(mpath, sizeof mpath, "%s/MANIFEST.tsv", o->data_dir);
    if (rc == 0 && access(mpath, R_OK) == 0 && list_add(&l, "MANIFEST.tsv") < 0) rc = die("%s", "out of memory");
    if (l.n) qsort(l.rel, (size_t)l.n, sizeof *l.rel, cmp_str);
    /* read and decode in chunks: the files' bytes are dropped once the frames are cached */
    int frames = 0, done = 0;
    for (int i = 0; i < l.n; i++) frames += !strncmp(l.rel[i], "benign/", 7) || !strncmp(l.rel[i], "malignant/", 10);
    enum { CHUNK = 64 };
    for (int i = 0; i < l.n && rc == 0; i += CHUNK) {
        int m = l.n - i < CHUNK ? l.n - i : CHUNK;
        uint8_t *bytes[CHUNK];
        size_t sizes[CHUNK];
        int status[CHUNK];
        char *reasons[CHUNK];
        for (int k = 0; k < m; k++) {
            char full[4096 + 2048];
            snprintf(full, sizeof full, "%s/%s", o->data_dir, l.rel[i + k]);
            bytes[k] = read_all(full, &sizes[k]);
            if (!bytes[k]) { bytes[k] = malloc(1); sizes[k] = 0; }
        }
        if (sialo_trainer_add_many(t, m, (const char *const *)(l.rel + i), (const uint8_t *const *)bytes, sizes, status, reasons) < 0)
            rc = die("%s", sialo_error());
        for (int k = 0; k < m; k++) {
            int frame = !strncmp(l.rel[i + k], "benign/", 7) || !strncmp(l.rel[i + k], "malignant/", 10);
            if (rc == 0 && status[k] == 0 && frame && bytes[k] && sialo_dicom_not_image(bytes[k], sizes[k], NULL, 0))
                fprintf(stderr, "\rsialoscan: skipped %s/%s: %s\n", o->data_dir, l.rel[i + k], reasons[k] ? reasons[k] : "");
            else if (rc == 0 && status[k] < 0)
                fprintf(stderr, "sialoscan: skipped unreadable %s %s/%s: %s\n", frame ? "image" : "file", o->data_dir, l.rel[i + k],
                        reasons[k] ? reasons[k] : "");
            if (frame && ++done && (done % 50 == 0 || done == frames))
                fprintf(stderr, "\rdecoding and caching images %d/%d%s", done, frames, done == frames ? "\n" : "");
            free(bytes[k]);
            if (rc == 0) free(reasons[k]);
        }
    }
    for (int i = 0; i < l.n; i++) free(l.rel[i]);
    free(l.rel);
    if (rc == 0 && o->checkpoint) mkdir(o->checkpoint, 0755);
    uint8_t *resume = NULL;
    size_t resume_n = 0;
    if (rc == 0 && o->checkpoint && o->resume) {
        char ck[4096];
        snprintf(ck, sizeof ck, "%s/train.ckpt", o->checkpoint);
        if (access(ck, F_OK) == 0 && !(resume = read_all(ck, &resume_n))) rc = die("%s", sialo_error());
    }
    if (rc == 0) {
        cli_train c = {o->checkpoint, NULL};
        sialo_train_callbacks cb = {NULL, on_checkpoint, on_fold, on_result, on_log, NULL, &c};
        int r = sialo_trainer_run(t, &cb, resume, resume_n);
        if (r < 0) rc = die("%s", sialo_error());
    }
    free(resume);
    if (rc == 0 && o->predictions && sialo_trainer_oof_csv(t)) {
        const char *csv = sialo_trainer_oof_csv(t);
        if (write_file(o->predictions, csv, strlen(csv)) < 0) fprintf(stderr, "sialoscan: warning: cannot write %s\n", o->predictions);
    }
    if (rc == 0 && o->out) {
        size_t n;
        const uint8_t *mb = sialo_trainer_model(t, &n);
        if (!mb || write_file(o->out, mb, n) < 0) rc = die("cannot write '%s'", o->out);
        else fprintf(stderr, "wrote %s\n", o->out);
    }
    sialo_trainer_free(t);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    fprintf(stderr, "total time %.1f s, peak memory %.0f MB\n", (sialo_now_ms() - t0) / 1000.0, ru.ru_maxrss / 1024.0);
    return rc;
}

/* sialoscan train: its own options (see sialo_train_opts in train.h) */
int cmd_train(int argc, char **argv) {
    sialo_train_opts t = {0};
    t.batch = 16;
    t.seed = 1;
    t.weight_decay = 1e-4f;
    t.dropout = 0.5f;
    t.val_fraction = 0.15f;
    t.storage_bits = 16;
    t.attention_weight = 1.0f;
    t.box_margin = 0.15f;
    t.box_jitter = 0.15f;
    const char *boxes_file = NULL;
    int boxes_from_masks = 0;
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
        else if (!strcmp(a, "--boxes")) TAKE(boxes_file = v);
        else if (!strcmp(a, "--boxes-from-masks")) boxes_from_masks = 1;
        else if (!strcmp(a, "--margin")) TAKE(t.box_margin = (float)atof(v));
        else if (!strcmp(a, "--box-jitter")) TAKE(t.box_jitter = (float)atof(v));
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
                "         [--boxes FILE | --boxes-from-masks] [--margin 0.15] [--box-jitter 0.15]   box mode: the model classifies lesion boxes\n"
                "           (FILE: path<TAB>x<TAB>y<TAB>w<TAB>h per frame; or the bounding box of its masks), grown by the margin per side\n"
                "DIR holds benign/ and malignant/ (and optionally MANIFEST.tsv with near-duplicate groups).\n"
                "Needs --out, or --cv K >= 2 for cross-validation only.\n");
        return 2;
    }
    if (t.batch < 1 || t.batch > 512) return die("%s", "--batch must be 1..512");
    if (t.dropout < 0 || t.dropout >= 1) return die("%s", "--dropout must be in [0, 1)");
    if (!(t.attention_weight >= 0 && t.attention_weight <= 100)) return die("%s", "--attention-weight must be in [0, 100]");
    if (boxes_file && boxes_from_masks) return die("%s", "--boxes and --boxes-from-masks: choose one");
    if (boxes_file || boxes_from_masks) {
        t.box_mode = 1;
        if (!(t.box_margin >= 0 && t.box_margin <= SIALO_BOX_MAX_MARGIN)) return die("%s", "--margin must be in [0, 2]");
        if (!(t.box_jitter >= 0 && t.box_jitter <= 0.5f)) return die("%s", "--box-jitter must be in [0, 0.5]");
    }
    sialo_box_table boxes = {0};
    if (boxes_file && load_boxes_file(boxes_file, &boxes) < 0) return 1;
    if (boxes_from_masks && t.data_dir && load_mask_boxes(t.data_dir, &boxes) < 0) { sialo_boxes_free(&boxes); return 1; }
    int rc = train_folder(&t, t.box_mode ? &boxes : NULL);
    sialo_boxes_free(&boxes);
    return rc;
}
