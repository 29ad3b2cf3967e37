/* main.c — the `sialoscan` command line: options and dispatch.
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
 *   sialoscan ood-fit --model M --data DIR --out M2 [--rank K] [--folds K] [--rate R]   (out-of-distribution
 *                                             statistics fitted on a labelled folder, written with the model: cli/ood.c;
 *                                             --boxes FILE | --boxes-from-masks for a box model)
 *   sialoscan bundle WHOLE BOX --out BOTH      (one file: whole frames by WHOLE's networks, lesion boxes by BOX's)
 *   sialoscan init --arch A [--input N] [--head binary|none] [--seed S] OUT   (random weights)
 *   sialoscan forward --model M --input X.f32 [--dump L1,L2 --dump-dir D]
 *   sialoscan bench [--model M] [--runs N] [--cam [--cam-layer L]] [--profile]   (--cam: classify-only vs classify+Grad-CAM;
 *                   --profile: per layer and per kind of layer, after the timed runs)
 * Common options: --backend own|ref|xnnpack, --threads N. Errors go to stderr, exit status 1.
 */
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

static int parse(int argc, char **argv, cli_opts *o) {
    memset(o, 0, sizeof *o);
    o->runs = 20;
    o->warmup = 3;
    o->input_size = 224;
    o->head = "binary";
    o->storage_bits = 32;
    o->frame = -1;
    o->threshold = NAN;
    o->margin = NAN;
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
        else if (!strcmp(a, "--box")) {
            const char *v = VAL();
            if (!v || parse_box(v, &o->box) < 0) return -1;
            o->has_box = 1;
        }
        else if (!strcmp(a, "--margin")) {
            const char *v = VAL();
            if (!v) return -1;
            char *end;
            o->margin = strtod(v, &end);
            if (!*v || *end || !(o->margin >= 0 && o->margin <= SIALO_BOX_MAX_MARGIN)) { die("--margin needs a fraction of the box's side between 0 and 2, not '%s'", v); return -1; }
        }
        else if (!strcmp(a, "--boxes")) { if (!(o->boxes = VAL())) return -1; }
        else if (!strcmp(a, "--boxes-from-masks")) o->boxes_from_masks = 1;
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


int main(int argc, char **argv) {
    if (argc < 2) return usage();
    const char *cmd = argv[1];
    /* SIALOSCAN_ISA asked for kernels this CPU cannot run, or an unknown level */
    if (sialo_isa_check() < 0) { fprintf(stderr, "sialoscan: %s\n", sialo_error()); return 2; }
    if (!strcmp(cmd, "train")) return cmd_train(argc - 2, argv + 2);
    if (!strcmp(cmd, "convert")) return cmd_convert(argc - 2, argv + 2);
    if (!strcmp(cmd, "ood-fit")) return cmd_ood_fit(argc - 2, argv + 2);
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) { usage(); return 0; }
    if (!strcmp(cmd, "--version")) {
        printf("sialoscan %s\nkernels: %s (%s, %s); this CPU runs: %s\ncodecs: %s\n", SIALO_VERSION, sialo_isa(), f32_gemm_kernel_name(),
               f32_dwconv_kernel_name(), sialo_isa_available(), sialo_codecs_version());
        return 0;
    }
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
    else if (!strcmp(cmd, "bundle")) rc = cmd_bundle(&o);
    else if (!strcmp(cmd, "forward")) rc = cmd_forward(&o);
    else if (!strcmp(cmd, "bench")) rc = cmd_bench(&o);
    else if (!strcmp(cmd, "imagenet")) rc = cmd_imagenet(&o);
    else { fprintf(stderr, "sialoscan: unknown command '%s'\n", cmd); rc = usage(); }
    free(o.args);
    return rc;
}
