/* train.c — sialoscan train: the trainer's options from the command line. */
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
