/* convert.c — sialoscan init (random weights), convert (TFLite, Keras HDF5 -> .sialo) and imagenet
 * (top-5 classes of an ImageNet model). */
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

int cmd_init(cli_opts *o) {
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


/* sialoscan convert --from tflite|keras-h5 IN OUT [--arch A] [--input N] [--labels FILE] [--fp16] */
int cmd_convert(int argc, char **argv) {
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
int cmd_imagenet(cli_opts *o) {
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
