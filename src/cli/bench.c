/* bench.c — sialoscan forward (one input tensor, layer dumps) and bench (latency, Grad-CAM cost,
 * per-layer profile). */
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

int cmd_forward(cli_opts *o) {
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

int cmd_bench(cli_opts *o) {
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
