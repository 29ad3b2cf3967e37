/* test_model_file.c — the model file format (src/engine/model_file.c): writing, reading, round trips,
 * and hostile files.
 *
 * 1. Round trips: smallcnn at 32x32 and mobilenetv2 at 64x64 (random weights) are written as fp32
 *    and fp16 and loaded back; the fp32 model's output is bit-identical to the model built
 *    directly from the in-memory graph, the fp16 one within 1e-2; metadata survives.
 * 2. Bad files that must be refused with a specific reason: empty, short, wrong magic / version /
 *    storage bits, header payload size too large, truncations, trailing bytes, checksum mismatch.
 * 3. Re-signed (correct CRC) targeted corruptions that the parser and the validator must catch:
 *    absurd counts and dims, tensor data out of range / overlapping / misaligned, forward or
 *    self references, unknown ops, tensor indices out of range, wrong conv kernel shape,
 *    n_classes / class-name mismatches, NaN / infinite weights, bad thresholds, duplicate names.
 * 2b. Versions and calibration: version 2 files carry (a, b) and the engine reports
 *    sigmoid(a logit(p_raw) + b) (checked against this file's own formula), the threshold stays in
 *    that scale; version 1 files (made here by removing the field) read as
 *    uncalibrated; out-of-range calibrations are refused; the shipped model is version 2, calibrated.
 * 3b. Valid files whose graphs the optimiser gets wrong (dead branches, shared tensors, pad
 *    folding): shown as XFAIL (known engine bugs, not counted) until the engine is fixed; also
 *    MobileNetV2 at 64x64 (falls back to 96x96 while gb_conv cannot build it).
 * 4. Every truncation of the metadata of a small multi-op graph, re-signed so the parser runs
 *    into the end of the payload, and a few thousand seeded random mutations (re-signed): none may
 *    crash (this test is built with ASan + UBSan) and each either loads (and then runs a forward
 *    pass, backends rotating: own, ref, XNNPACK, own with 2 threads) or fails with a message.
 *
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "sialoscan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HEADER 32


static const sialo_options OPT1 = {.backend = SIALO_BACKEND_OWN, .threads = 1};

/* ------------------------------------------------------------------ small helpers */
static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void) { /* xorshift64*: reproducible */
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return (uint32_t)((rng * 2685821657736338717ull) >> 32);
}

static uint32_t get32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static void put32(uint8_t *b, uint32_t v) { for (int k = 0; k < 4; k++) b[k] = (uint8_t)(v >> (8 * k)); }
static void put64(uint8_t *b, uint64_t v) { put32(b, (uint32_t)v); put32(b + 4, (uint32_t)(v >> 32)); }

/* recompute the payload CRC in the header (offset 24) so the parser gets past the checksum */
static void resign(uint8_t *b, size_t n) { put32(b + 24, sialo_crc32(b + HEADER, n - HEADER)); }

static void clear_error(void) { sialo_fail("%s", ""); }

static uint8_t *dup_bytes(const uint8_t *b, size_t n) {
    uint8_t *d = malloc(n ? n : 1);
    memcpy(d, b, n);
    return d;
}

static int serialise(const sialo_graph *g, int bits, uint8_t **out, size_t *n) {
    int rc = sialo_graph_write(g, bits, out, n);
    CHECK(rc == 0, "sialo_graph_write(%d bits) failed: %s", bits, sialo_error());
    return rc;
}

/* a loadable copy of a graph (through the file format) that the test may then damage */
static sialo_graph *copy_graph(const sialo_graph *g) {
    uint8_t *b;
    size_t n;
    if (sialo_graph_write(g, 32, &b, &n) < 0) return NULL;
    sialo_graph *c = sialo_graph_read(b, n);
    free(b);
    CHECK(c != NULL, "copy_graph: %s", sialo_error());
    return c;
}

/* load must fail with a non-empty reason containing `word` (case-sensitive) */
static void expect_fail(const uint8_t *b, size_t n, const char *word, const char *what) {
    clear_error();
    sialo_model *m = sialo_model_load(b, n, &OPT1);
    CHECK(m == NULL, "%s: loaded, but should have been refused", what);
    if (m) { sialo_model_free(m); return; }
    const char *e = sialo_error();
    CHECK(e && *e, "%s: refused without a reason", what);
    CHECK(e && strstr(e, word), "%s: reason '%s' does not mention '%s'", what, e, word);
}

/* serialise a damaged graph (sialo_graph_write does not validate) and expect refusal */
static void expect_graph_fail(const sialo_graph *g, const char *word, const char *what) {
    uint8_t *b;
    size_t n;
    if (serialise(g, 32, &b, &n) < 0) return;
    expect_fail(b, n, word, what);
    free(b);
}

/* ------------------------------------------------------------------ locating fields in a file */
#define MAXT 512
#define MAXN 512
typedef struct {
    size_t arch, in_shape, norm, n_classes, n_class_names, threshold, calib, n_tensors, n_nodes, data_start;
    int nt, nn;
    size_t t_ndim[MAXT], t_off[MAXT];
    size_t n_op[MAXN], n_nin[MAXN], n_p[MAXN], n_nt[MAXN];
} layout;

static size_t skip_str(const uint8_t *b, size_t pos) { return pos + 4 + get32(b + pos); }

/* walk a valid file and record the file offsets of its fields */
static void locate(const uint8_t *b, size_t n, layout *L) {
    memset(L, 0, sizeof *L);
    size_t pos = HEADER;
    L->arch = pos;
    pos = skip_str(b, pos);
    pos = skip_str(b, pos); /* provenance */
    L->in_shape = pos; pos += 12;
    L->norm = pos; pos += 24;
    L->n_classes = pos; pos += 4;
    L->n_class_names = pos;
    uint32_t ncn = get32(b + pos); pos += 4;
    for (uint32_t i = 0; i < ncn; i++) pos = skip_str(b, pos);
    L->threshold = pos; pos += 4;
    L->calib = 0;
    if (get32(b + 8) >= 2) { L->calib = pos; pos += 8; } /* version 2: f32 calib_a, calib_b */
    L->n_tensors = pos;
    L->nt = (int)get32(b + pos); pos += 4;
    for (int i = 0; i < L->nt; i++) {
        pos = skip_str(b, pos);
        if (i < MAXT) L->t_ndim[i] = pos;
        uint32_t nd = get32(b + pos);
        pos += 4 + 4 * nd;
        if (i < MAXT) L->t_off[i] = pos;
        pos += 8;
    }
    L->n_nodes = pos;
    L->nn = (int)get32(b + pos); pos += 4;
    for (int i = 0; i < L->nn; i++) {
        if (i < MAXN) L->n_op[i] = pos;
        pos += 4;
        pos = skip_str(b, pos);
        if (i < MAXN) L->n_nin[i] = pos;
        pos += 4 + 4 * get32(b + pos);
        if (i < MAXN) L->n_p[i] = pos;
        pos += 4 * SIALO_NPARAMS;
        if (i < MAXN) L->n_nt[i] = pos;
        pos += 4 + 4 * get32(b + pos);
    }
    L->data_start = (pos + 15) / 16 * 16;
    CHECK(L->data_start <= n, "locate: data section starts at %zu, past the end %zu", L->data_start, n);
}

/* ------------------------------------------------------------------ graphs */
static sialo_graph *smallcnn(uint64_t seed) {
    sialo_graph *g = sialo_arch_build("smallcnn", 32, 32, "binary", 0);
    CHECK(g != NULL, "smallcnn build: %s", sialo_error());
    if (g) sialo_graph_randomize(g, seed);
    return g;
}

/* a tiny graph with every op the format knows: pad folded into a conv, BN folded, a stand-alone
   BN (affine), relu / relu6 fusion, depthwise and grouped convs, add, max / avg pool, GAP,
   dropout, dense, sigmoid */
static sialo_graph *tiny_graph(uint64_t seed) {
    sialo_graph *g = sialo_graph_new("tiny", 32, 32, 3);
    int x = gb_pad(g, "pad", 0, 1, 1, 1, 1);
    x = gb_conv(g, "c1", x, 3, 3, 2, PAD_VALID, 1, 8, 0, ACT_NONE);
    x = gb_bn(g, "bn1", x, 1e-3f, ACT_NONE);
    x = gb_simple(g, OP_RELU, "r1", x);
    int y = gb_conv(g, "dw", x, 3, 3, 1, PAD_SAME, 8, 8, 1, ACT_NONE);
    y = gb_simple(g, OP_RELU6, "r6", y);
    int z = gb_conv(g, "gc", x, 1, 1, 1, PAD_VALID, 2, 8, 1, ACT_NONE);
    int a = gb_add(g, "add", y, z, ACT_NONE);
    a = gb_bn(g, "bn3", a, 1e-3f, ACT_RELU);
    a = gb_pool(g, OP_MAXPOOL, "mp", a, 3, 2, PAD_SAME);
    a = gb_pool(g, OP_AVGPOOL, "ap", a, 2, 1, PAD_SAME);
    a = gb_simple(g, OP_GAP, "gap", a);
    a = gb_dropout(g, "drop", a, 0.5f);
    a = gb_dense(g, "dense", a, 1, 1, ACT_NONE);
    a = gb_simple(g, OP_SIGMOID, "sig", a);
    static const char *const names[2] = {"benign", "malignant"};
    sialo_graph_set_classes(g, 2, names);
    g->n_classes = 1;
    CHECK(a > 0 && sialo_graph_infer_shapes(g) == 0, "tiny graph does not build: %s", sialo_error());
    sialo_graph_randomize(g, seed);
    return g;
}

static float *random_input(const sialo_graph *g, uint64_t seed) {
    size_t n = (size_t)g->in_h * g->in_w * 3;
    float *x = malloc(n * sizeof *x);
    uint64_t save = rng;
    rng = seed | 1;
    for (size_t i = 0; i < n; i++) x[i] = (float)(rnd() % 2001) / 1000.0f - 1.0f;
    rng = save;
    return x;
}

/* ------------------------------------------------------------------ 1. round trips */
static void round_trip(sialo_graph *g, const char *label) {
    int in_h = g->in_h, in_w = g->in_w;
    size_t stored_params = sialo_graph_param_count(g);
    int stored_layers = g->n_nodes;
    uint8_t *b32, *b16;
    size_t n32, n16;
    if (serialise(g, 32, &b32, &n32) < 0 || serialise(g, 16, &b16, &n16) < 0) return;
    CHECK(n16 < n32 * 0.6, "%s: fp16 file (%zu bytes) is not about half of fp32 (%zu)", label, n16, n32);
    CHECK(memcmp(b32, "SIALOSCN", 8) == 0 && get32(b32 + 8) == 2 && get32(b32 + 12) == 32 && get32(b16 + 12) == 16,
          "%s: header fields", label);
    CHECK(get32(b32 + 16) == n32 - HEADER && get32(b32 + 20) == 0 && get32(b32 + 28) == 0, "%s: payload size / reserved", label);
    CHECK(get32(b32 + 24) == sialo_crc32(b32 + HEADER, n32 - HEADER), "%s: stored CRC", label);
    layout L;
    locate(b32, n32, &L);
    CHECK(L.data_start % 16 == 0 && L.nt == g->n_tensors && L.nn == g->n_nodes, "%s: layout", label);

    /* reading the graph back gives the same content */
    sialo_graph *r = sialo_graph_read(b32, n32);
    CHECK(r != NULL, "%s: sialo_graph_read: %s", label, sialo_error());
    if (r) {
        int same = r->n_tensors == g->n_tensors && r->n_nodes == g->n_nodes;
        for (int i = 0; same && i < g->n_tensors; i++)
            same = !strcmp(r->tensors[i].name, g->tensors[i].name) && r->tensors[i].count == g->tensors[i].count &&
                   !memcmp(r->tensors[i].data, g->tensors[i].data, g->tensors[i].count * sizeof(float));
        for (int i = 0; same && i < g->n_nodes; i++)
            same = r->nodes[i].op == g->nodes[i].op && !strcmp(r->nodes[i].name, g->nodes[i].name) &&
                   r->nodes[i].n_in == g->nodes[i].n_in && r->nodes[i].n_t == g->nodes[i].n_t &&
                   !memcmp(r->nodes[i].t, g->nodes[i].t, sizeof r->nodes[i].t);
        CHECK(same, "%s: graph read back differs from the one written", label);
        CHECK(r->checksum == get32(b32 + 24) && r->storage_bits == 32, "%s: checksum / storage bits", label);
        sialo_graph_free(r);
    }

    /* the half-precision file holds exactly the fp16-rounded weights */
    sialo_graph *r16 = sialo_graph_read(b16, n16);
    CHECK(r16 != NULL, "%s: fp16 sialo_graph_read: %s", label, sialo_error());
    if (r16) {
        int bad = 0;
        for (int i = 0; i < g->n_tensors && !bad; i++)
            for (size_t k = 0; k < g->tensors[i].count && !bad; k++)
                if (r16->tensors[i].data[k] != sialo_f16_to_f32(sialo_f32_to_f16(g->tensors[i].data[k]))) bad = 1;
        CHECK(!bad, "%s: fp16 weights are not the fp16 rounding of the fp32 ones", label);
        CHECK(r16->storage_bits == 16, "%s: fp16 storage bits %d", label, r16->storage_bits);
        sialo_graph_free(r16);
    }

    sialo_model *m32 = sialo_model_load(b32, n32, &OPT1);
    CHECK(m32 != NULL, "%s: fp32 load: %s", label, sialo_error());
    sialo_model *m16 = sialo_model_load(b16, n16, &OPT1);
    CHECK(m16 != NULL, "%s: fp16 load: %s", label, sialo_error());
    sialo_model *mm = sialo_model_from_graph(g, &OPT1); /* takes ownership of g */
    CHECK(mm != NULL, "%s: model from graph: %s", label, sialo_error());
    if (m32 && m16 && mm) {
        sialo_info a, c;
        sialo_model_info(m32, &a);
        sialo_model_info(m16, &c);
        CHECK(!strcmp(a.arch, label) && a.input_h == in_h && a.input_w == in_w && a.input_c == 3, "%s: info arch/input", label);
        CHECK(a.n_classes == 1 && a.n_class_names == 2 && !strcmp(a.class_names[1], "malignant") && a.threshold == 0.5f,
              "%s: info classes", label);
        CHECK(a.n_params == stored_params && c.n_params == stored_params, "%s: info parameters %zu / %zu, expected %zu", label,
              a.n_params, c.n_params, stored_params);
        CHECK(a.n_layers == stored_layers, "%s: info layers %d, expected %d", label, a.n_layers, stored_layers);
        CHECK(a.checksum == get32(b32 + 24) && c.checksum == get32(b16 + 24), "%s: info checksum", label);
        CHECK(a.storage_bits == 32 && c.storage_bits == 16, "%s: info storage bits", label);
        char *js = sialo_model_info_json(m32);
        CHECK(js && js[0] == '{' && strstr(js, "\"arch\"") && strstr(js, "\"checksum\""), "%s: info json %s", label, js ? js : "(null)");
        free(js);
        for (int s = 1; s <= 3; s++) {
            float *x = random_input(mm->g, (uint64_t)s * 7919);
            float y32 = -1, y16 = -1, ym = -2;
            CHECK(sialo_forward(m32, x, &y32) == 0 && sialo_forward(m16, x, &y16) == 0 && sialo_forward(mm, x, &ym) == 0,
                  "%s: forward: %s", label, sialo_error());
            CHECK(memcmp(&y32, &ym, sizeof y32) == 0, "%s input %d: fp32 file gives %.9g, in-memory model %.9g", label, s, y32, ym);
            CHECK(fabsf(y16 - ym) <= 1e-2f, "%s input %d: fp16 file gives %.6g, in-memory model %.6g", label, s, y16, ym);
            CHECK(ym > 0.0f && ym < 1.0f, "%s input %d: output %g is not a probability", label, s, ym);
            free(x);
        }
    }
    sialo_model_free(m32);
    sialo_model_free(m16);
    sialo_model_free(mm);

    /* the file route: write_file + load_file */
    char path[] = "build/tests/test_model_file.sialo";
    FILE *f = fopen(path, "wb");
    if (f) { fwrite(b16, 1, n16, f); fclose(f); }
    sialo_model *mf = sialo_model_load_file(path, NULL);
    CHECK(mf != NULL, "%s: load_file: %s", label, sialo_error());
    sialo_model_free(mf);
    remove(path);
    free(b32);
    free(b16);
}

/* ------------------------------------------------------------------ 2b. versions and calibration */
/* a version 1 copy of a version 2 file: without the 8 calibration bytes, the padding before the
   data section redone, version 1, payload size and CRC updated (as the version 1 writer did) */
static uint8_t *downgrade_v1(const uint8_t *b, size_t n, size_t *n1) {
    layout L;
    locate(b, n, &L);
    size_t meta_end = L.n_nodes + 4; /* end of the node table: walk it again */
    {
        size_t pos = L.n_nodes + 4;
        for (int i = 0; i < L.nn; i++) {
            pos += 4;
            pos = skip_str(b, pos);
            pos += 4 + 4 * get32(b + pos);
            pos += 4 * SIALO_NPARAMS;
            pos += 4 + 4 * get32(b + pos);
        }
        meta_end = pos;
    }
    size_t meta1 = meta_end - 8, start1 = (meta1 + 15) / 16 * 16, data_len = n - L.data_start;
    *n1 = start1 + data_len;
    uint8_t *c = calloc(1, *n1);
    memcpy(c, b, L.calib);
    memcpy(c + L.calib, b + L.calib + 8, meta_end - L.calib - 8);
    memcpy(c + start1, b + L.data_start, data_len);
    put32(c + 8, 1);
    put64(c + 16, *n1 - HEADER);
    resign(c, *n1);
    return c;
}

static double platt_ref(double a, double b, double p) { /* the formula of the spec, written again */
    double q = p < 1e-7 ? 1e-7 : p > 1 - 1e-7 ? 1 - 1e-7 : p;
    return 1.0 / (1.0 + exp(-(a * log(q / (1 - q)) + b)));
}

static void calibration_versions(void) {
    sialo_graph *g = smallcnn(77);
    if (!g) return;
    uint8_t *b2, *b1;
    size_t n2, n1;
    /* an uncalibrated version 2 file and its version 1 twin: the same model, the same results */
    if (serialise(g, 32, &b2, &n2) < 0) { sialo_graph_free(g); return; }
    b1 = downgrade_v1(b2, n2, &n1);
    CHECK(get32(b2 + 8) == 2 && get32(b1 + 8) == 1 && (n1 == n2 || n1 == n2 - 16), "v2 file is version %u (%zu / %zu bytes)",
          get32(b2 + 8), n2, n1);
    sialo_model *m2 = sialo_model_load(b2, n2, &OPT1), *m1 = sialo_model_load(b1, n1, &OPT1);
    CHECK(m1 != NULL, "version 1 file refused: %s", sialo_error());
    CHECK(m2 != NULL, "version 2 file refused: %s", sialo_error());
    float *x = random_input(g, 5);
    if (m1 && m2) {
        sialo_info i1, i2;
        sialo_model_info(m1, &i1);
        sialo_model_info(m2, &i2);
        CHECK(i1.format_version == 1 && i2.format_version == 2, "format versions %d / %d", i1.format_version, i2.format_version);
        CHECK(i1.calib_a == 1.0f && i1.calib_b == 0.0f && i2.calib_a == 1.0f && i2.calib_b == 0.0f, "identity calibrations");
        char *js = sialo_model_info_json(m1);
        CHECK(js && strstr(js, "\"calibration\":{\"a\":1,\"b\":0,\"identity\":true}") && strstr(js, "\"format_version\":1"),
              "v1 info json: %s", js ? js : "(null)");
        free(js);
        float y1 = -1, y2 = -2;
        CHECK(sialo_forward(m1, x, &y1) == 0 && sialo_forward(m2, x, &y2) == 0 && y1 == y2, "v1 %g vs v2 %g", y1, y2);
        CHECK(sialo_calibrated_p(m1, y1) == y1, "identity calibration changes p %g -> %g", y1, sialo_calibrated_p(m1, y1));
    }
    sialo_model_free(m1);
    sialo_model_free(m2);
    free(b1);
    free(b2);

    /* a calibrated version 2 file: (a, b) survive, p is calibrated, the decision uses the stored threshold */
    const float A = 0.625f, B = -0.75f;
    g->calib_a = A;
    g->calib_b = B;
    g->threshold = 0.3f;
    if (serialise(g, 16, &b2, &n2) == 0) {
        layout L;
        locate(b2, n2, &L);
        float fa, fb;
        uint32_t ua = get32(b2 + L.calib), ub = get32(b2 + L.calib + 4);
        memcpy(&fa, &ua, 4);
        memcpy(&fb, &ub, 4);
        CHECK(L.calib && fa == A && fb == B, "calibration bytes after the threshold: %g %g", fa, fb);
        sialo_model *m = sialo_model_load(b2, n2, &OPT1);
        CHECK(m != NULL, "calibrated file refused: %s", sialo_error());
        if (m) {
            sialo_info in;
            sialo_model_info(m, &in);
            CHECK(in.calib_a == A && in.calib_b == B && in.threshold == 0.3f && in.format_version == 2, "calibrated info");
            for (int s = 1; s <= 4; s++) {
                float *xs = random_input(g, (uint64_t)s * 31);
                float raw = -1;
                CHECK(sialo_forward(m, xs, &raw) == 0, "forward: %s", sialo_error());
                sialo_result r;
                sialo_decide(m, &raw, &r);
                double want = platt_ref(A, B, raw);
                CHECK(fabs(r.p_positive - want) < 1e-6, "input %d: calibrated p %.9g, expected %.9g (raw %.9g)", s, r.p_positive, want, raw);
                CHECK(r.label == (r.p_positive >= 0.3f) && r.threshold == 0.3f, "input %d: decision", s);
                free(xs);
            }
        }
        sialo_model_free(m);
        /* hostile calibrations (re-signed) */
        uint8_t *c = dup_bytes(b2, n2);
        static const struct { uint32_t a, b; const char *what; } bad[] = {
            {0x00000000u, 0x00000000u, "a = 0"},        {0xBF800000u, 0x00000000u, "a = -1"},
            {0x7FC00000u, 0x00000000u, "a = NaN"},      {0x7F800000u, 0x00000000u, "a = +inf"},
            {0x3F800000u, 0x7FC00000u, "b = NaN"},      {0x3F800000u, 0xFF800000u, "b = -inf"},
            {0x3F800000u, 0x47C35000u, "b = 1e5"},      {0x47C35000u, 0x00000000u, "a = 1e5"},
        };
        for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
            memcpy(c, b2, n2);
            put32(c + L.calib, bad[k].a);
            put32(c + L.calib + 4, bad[k].b);
            resign(c, n2);
            expect_fail(c, n2, "calibration", bad[k].what);
        }
        /* this file's bytes read as version 1 are misplaced (everything after the threshold shifts): refused */
        memcpy(c, b2, n2);
        put32(c + 8, 1);
        resign(c, n2);
        clear_error();
        sialo_model *mv = sialo_model_load(c, n2, &OPT1);
        CHECK(mv == NULL && *sialo_error(), "a version 2 file relabelled version 1 loaded");
        sialo_model_free(mv);
        free(c);
        free(b2);
    }
    /* a calibration on a softmax model is refused */
    sialo_graph *k3 = sialo_arch_build("smallcnn", 32, 32, "none", 0);
    if (k3) {
        int x3 = gb_simple(k3, OP_GAP, "gap", k3->n_nodes - 1);
        x3 = gb_dense(k3, "d", x3, 3, 1, ACT_NONE);
        x3 = gb_simple(k3, OP_SOFTMAX, "sm", x3);
        k3->n_classes = 3;
        sialo_graph_randomize(k3, 3);
        k3->calib_a = 2.0f;
        if (x3 > 0 && sialo_graph_infer_shapes(k3) == 0) expect_graph_fail(k3, "calibration", "softmax model with a calibration");
        else CHECK(0, "3-class graph does not build: %s", sialo_error());
        sialo_graph_free(k3);
    }
    free(x);
    sialo_graph_free(g);

    /* the shipped model is an ensemble (version 3) with its Platt calibration (fitted on the pooled
       out-of-fold predictions: a slope between 0 and 1 shrinks over-confident logits) */
    FILE *f = fopen("models/sialoscan-busi.sialo", "rb");
    if (!f) { printf("skip: models/sialoscan-busi.sialo not found\n"); return; }
    fclose(f);
    sialo_model *sm = sialo_model_load_file("models/sialoscan-busi.sialo", &OPT1);
    CHECK(sm != NULL, "shipped model: %s", sialo_error());
    if (sm) {
        sialo_info in;
        sialo_model_info(sm, &in);
        CHECK((in.format_version == 3 || in.format_version == 4) && in.calib_a > 0.0f && in.calib_a < 1.0f && in.calib_b > -2.0f && in.calib_b < 2.0f,
              "shipped model: version %d, a %g, b %g", in.format_version, in.calib_a, in.calib_b);
    }
    sialo_model_free(sm);
}

/* ------------------------------------------------------------------ 2. bad headers */
static void bad_headers(void) {
    sialo_graph *g = smallcnn(1);
    uint8_t *b;
    size_t n;
    if (!g || serialise(g, 32, &b, &n) < 0) return;
    sialo_graph_free(g);

    expect_fail(b, 0, "empty", "zero bytes");
    expect_fail(NULL, 0, "empty", "NULL data");
    expect_fail(NULL, 100, "empty", "NULL data with a size");
    expect_fail(b, 5, "truncated", "5 bytes");
    expect_fail(b, 31, "truncated", "31 bytes (short header)");
    expect_fail(b, 32, "truncated", "header only");
    expect_fail((const uint8_t *)"PK\3\4 this is a zip file, not a model...", 40, "magic", "zip file");
    expect_fail((const uint8_t *)"GIF89a..", 8, "magic", "8 bytes of something else");

    uint8_t *c = dup_bytes(b, n);
    c[0] = 'X';
    expect_fail(c, n, "magic", "wrong magic");
    memcpy(c, b, n);
    put32(c + 8, 5); /* 3 is an ensemble (test_ensemble.c), 4 a model with sections (test_ood.c) */
    expect_fail(c, n, "version", "version 5");
    put32(c + 8, 0);
    expect_fail(c, n, "version", "version 0");
    memcpy(c, b, n);
    put32(c + 12, 8);
    expect_fail(c, n, "storage bits", "8 storage bits");
    memcpy(c, b, n);
    put64(c + 16, (uint64_t)(n - HEADER) + 1);
    expect_fail(c, n, "truncated", "payload size one more than the file");
    put64(c + 16, ~0ull);
    expect_fail(c, n, "truncated", "payload size 2^64-1");
    put64(c + 16, 1ull << 40);
    expect_fail(c, n, "truncated", "payload size 1 TB");
    memcpy(c, b, n);
    c[HEADER + 100] ^= 0x01;
    expect_fail(c, n, "checksum", "flipped bit in the metadata");
    memcpy(c, b, n);
    c[n - 3] ^= 0x80;
    expect_fail(c, n, "checksum", "flipped bit in the weights");
    memcpy(c, b, n);
    c[24] ^= 0xff;
    expect_fail(c, n, "checksum", "damaged stored CRC");

    /* trailing bytes */
    uint8_t *t = malloc(n + 7);
    memcpy(t, b, n);
    memset(t + n, 0xAB, 7);
    expect_fail(t, n + 7, "trailing", "7 trailing bytes");
    expect_fail(t, n + 1, "trailing", "1 trailing byte");
    free(t);

    /* truncated at 50 different lengths (header lengths, around the metadata, inside the weights) */
    layout L;
    locate(b, n, &L);
    size_t lens[50];
    int k = 0;
    static const size_t fixed[] = {1, 2, 7, 8, 9, 12, 16, 24, 28, 31, 32, 33, 36, 40, 64};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) lens[k++] = fixed[i];
    lens[k++] = L.n_tensors; lens[k++] = L.n_nodes; lens[k++] = L.data_start; lens[k++] = L.data_start + 1;
    lens[k++] = n - 1; lens[k++] = n - 4; lens[k++] = n - 16; lens[k++] = n / 2;
    while (k < 50) lens[k++] = 1 + rnd() % (uint32_t)(n - 1);
    for (int i = 0; i < 50; i++) {
        char what[64];
        snprintf(what, sizeof what, "truncated to %zu of %zu bytes", lens[i], n);
        uint8_t *cut = dup_bytes(b, lens[i]); /* a tight allocation: ASan sees any over-read */
        expect_fail(cut, lens[i], lens[i] < 8 ? "truncated" : "truncated", what);
        free(cut);
    }
    free(c);
    free(b);
}

/* ------------------------------------------------------------------ 3. targeted, re-signed */
static void targeted(void) {
    sialo_graph *g = smallcnn(2);
    uint8_t *b;
    size_t n;
    if (!g || serialise(g, 32, &b, &n) < 0) return;
    layout L;
    locate(b, n, &L);
    uint8_t *c = dup_bytes(b, n);
#define RESET() memcpy(c, b, n)
#define FAIL_RESIGNED(word, what) do { resign(c, n); expect_fail(c, n, word, what); } while (0)

    /* sanity: an untouched, re-signed copy loads */
    RESET();
    resign(c, n);
    sialo_model *ok = sialo_model_load(c, n, &OPT1);
    CHECK(ok != NULL, "re-signed untouched file: %s", sialo_error());
    sialo_model_free(ok);

    /* strings */
    RESET(); put32(c + L.arch, 0xFFFFFFF0u); FAIL_RESIGNED("arch", "arch length 4G");
    RESET(); put32(c + L.arch, 5000); FAIL_RESIGNED("arch", "arch length over the name limit");
    RESET(); c[L.arch + 4] = 0; FAIL_RESIGNED("NUL", "NUL byte in the arch");
    RESET(); put32(c + L.arch + 4 + get32(b + L.arch), 0x7FFFFFFF); FAIL_RESIGNED("provenance", "provenance length 2G");
    /* header-ish metadata */
    RESET(); put32(c + L.in_shape, 0); FAIL_RESIGNED("input shape", "input height 0");
    RESET(); put32(c + L.in_shape + 4, 100000); FAIL_RESIGNED("input shape", "input width 100000");
    RESET(); put32(c + L.in_shape + 8, 4); FAIL_RESIGNED("input shape", "4 input channels");
    RESET(); put32(c + L.norm + 8, 0x7FC00000u); FAIL_RESIGNED("NaN", "NaN normalisation scale");
    RESET(); put32(c + L.n_classes, 0); FAIL_RESIGNED("classes", "0 classes");
    RESET(); put32(c + L.n_classes, 0xFFFFFFFFu); FAIL_RESIGNED("classes", "4G classes");
    RESET(); put32(c + L.n_class_names, 0xFFFFFFFFu); FAIL_RESIGNED("class names", "4G class names");
    RESET(); put32(c + L.n_class_names, 100000); FAIL_RESIGNED("class name", "100000 class names");
    RESET(); put32(c + L.threshold, 0x3FC00000u); FAIL_RESIGNED("threshold", "threshold 1.5");
    RESET(); put32(c + L.threshold, 0x7FC00000u); FAIL_RESIGNED("threshold", "threshold NaN");
    RESET(); put32(c + L.threshold, 0xBF800000u); FAIL_RESIGNED("threshold", "threshold -1");

    /* tensor table */
    RESET(); put32(c + L.n_tensors, 0xFFFFFFFFu); FAIL_RESIGNED("tensors", "4G tensors");
    RESET(); put32(c + L.n_tensors, 100000); FAIL_RESIGNED("tensors", "100000 tensors (more than the bytes)");
    RESET(); put32(c + L.n_tensors, (uint32_t)L.nt + 1); FAIL_RESIGNED("model file", "one tensor more than stored");
    RESET(); put32(c + L.n_tensors, 0); FAIL_RESIGNED("model file", "0 tensors");
    RESET(); put32(c + L.t_ndim[0], 0); FAIL_RESIGNED("dimensions", "tensor with 0 dims");
    RESET(); put32(c + L.t_ndim[0], 5); FAIL_RESIGNED("dimensions", "tensor with 5 dims");
    RESET(); put32(c + L.t_ndim[0], 0xFFFFFFFFu); FAIL_RESIGNED("dimensions", "tensor with 4G dims");
    RESET(); put32(c + L.t_ndim[0] + 4, 0); FAIL_RESIGNED("dimension", "tensor dim 0");
    RESET(); put32(c + L.t_ndim[0] + 4, 0xFFFFFFFFu); FAIL_RESIGNED("dimension", "tensor dim 4G");
    RESET(); put32(c + L.t_ndim[0] + 4, 1u << 24); put32(c + L.t_ndim[0] + 8, 1u << 24);
    FAIL_RESIGNED("absurdly large", "tensor of 2^48 elements");
    RESET(); put32(c + L.t_ndim[0] + 4, 1u << 20); FAIL_RESIGNED("misplaced", "tensor dim 2^20 (data not in the file)");
    /* offsets: out of range, overlapping, misaligned, decreasing */
    int last = L.nt - 1;
    RESET(); put64(c + L.t_off[last], 1ull << 40); FAIL_RESIGNED("misplaced", "last tensor offset 1 TB");
    RESET(); put64(c + L.t_off[last], ~0ull - 3); FAIL_RESIGNED("misplaced", "last tensor offset 2^64-4");
    RESET(); put64(c + L.t_off[last], (uint64_t)(n - L.data_start)); FAIL_RESIGNED("misplaced", "last tensor at the end of the data");
    /* tensor last-1 is the 256x1 dense kernel (1 KB): start it 512 bytes before the end */
    RESET(); put64(c + L.t_off[last - 1], (uint64_t)(n - L.data_start) - 512); FAIL_RESIGNED("misplaced", "a tensor runs past the end");
    RESET(); put64(c + L.t_off[1], 0); FAIL_RESIGNED("misplaced", "tensor 1 overlaps tensor 0");
    RESET(); put64(c + L.t_off[2], get32(b + L.t_off[1]) + 4); FAIL_RESIGNED("misplaced", "tensor 2 overlaps tensor 1");
    RESET(); put64(c + L.t_off[1], get32(b + L.t_off[1]) + 2); FAIL_RESIGNED("misplaced", "misaligned tensor offset");

    /* node table */
    RESET(); put32(c + L.n_nodes, 0); FAIL_RESIGNED("nodes", "0 nodes");
    RESET(); put32(c + L.n_nodes, 0xFFFFFFFFu); FAIL_RESIGNED("nodes", "4G nodes");
    RESET(); put32(c + L.n_nodes, 1); FAIL_RESIGNED("model file", "1 node (the rest as garbage)");
    RESET(); put32(c + L.n_nodes, (uint32_t)L.nn + 1); FAIL_RESIGNED("model file", "one node more than stored");
    RESET(); put32(c + L.n_op[3], 99); FAIL_RESIGNED("unknown op", "op 99");
    RESET(); put32(c + L.n_op[3], 0xFFFFFFFFu); FAIL_RESIGNED("unknown op", "op -1");
    RESET(); put32(c + L.n_op[3], OP_COUNT); FAIL_RESIGNED("unknown op", "op OP_COUNT");
    RESET(); put32(c + L.n_nin[3], 3); FAIL_RESIGNED("inputs", "3 inputs");
    RESET(); put32(c + L.n_nin[3], 0xFFFFFFFFu); FAIL_RESIGNED("inputs", "4G inputs");
    RESET(); put32(c + L.n_nin[3] + 4, 3); FAIL_RESIGNED("earlier node", "self reference");
    RESET(); put32(c + L.n_nin[3] + 4, 0xFFFFFFFFu); FAIL_RESIGNED("earlier node", "input -1");
    RESET(); put32(c + L.n_nt[1], 5); FAIL_RESIGNED("tensors", "5 tensors on a node");
    RESET(); put32(c + L.n_nt[1] + 4, (uint32_t)L.nt); FAIL_RESIGNED("tensor", "tensor index == count");
    RESET(); put32(c + L.n_nt[1] + 4, 0xFFFFFFFFu); FAIL_RESIGNED("tensor", "tensor index 4G");
    free(c);
    free(b);
#undef RESET
#undef FAIL_RESIGNED

    /* graph-level damage through re-serialisation (the writer does not validate) */
    sialo_graph *d;
    int conv = sialo_graph_find_node(g, "block2_conv"), bn = sialo_graph_find_node(g, "block2_bn");
    int dense = sialo_graph_find_node(g, "predictions");
    CHECK(conv > 0 && bn > 0 && dense > 0, "smallcnn layer names");
    if (conv <= 0 || bn <= 0 || dense <= 0) { sialo_graph_free(g); return; }

    if ((d = copy_graph(g))) { d->nodes[conv].in[0] = conv + 2; expect_graph_fail(d, "earlier node", "input refers to a later node"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].in[0] = conv; expect_graph_fail(d, "earlier node", "input refers to itself"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].op = 42; expect_graph_fail(d, "unknown op", "unknown op 42"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].op = OP_INPUT; expect_graph_fail(d, "input", "a second input node"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[0].op = OP_RELU; expect_graph_fail(d, "input", "node 0 is not the input"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].op = OP_ADD; expect_graph_fail(d, "inputs", "add with one input"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].t[0] = d->n_tensors; expect_graph_fail(d, "tensor", "tensor index out of range"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].n_t = 0; expect_graph_fail(d, "bias", "conv without its kernel"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[bn].n_t = 3; expect_graph_fail(d, "tensors", "batch norm with 3 tensors"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) {
        /* block2_conv/kernel is 3x3x32x64: store it as 3x3x64x32 (same size, wrong shape) */
        sialo_tensor *k = &d->tensors[d->nodes[conv].t[0]];
        int t = k->dims[2]; k->dims[2] = k->dims[3]; k->dims[3] = t;
        expect_graph_fail(d, "shape", "conv kernel with swapped channel dims");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) {
        sialo_tensor *k = &d->tensors[d->nodes[conv].t[0]]; /* 3x3 -> 1x9 */
        k->dims[0] = 1; k->dims[1] = 9;
        expect_graph_fail(d, "expected", "conv kernel 1x9 instead of 3x3");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) {
        sialo_tensor *k = &d->tensors[d->nodes[conv].t[0]]; /* 4-D kernel as 2-D */
        k->ndim = 2; k->dims[0] = 9 * 32; k->dims[1] = 64;
        expect_graph_fail(d, "shape", "conv kernel stored 2-D");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_KH] = 0; expect_graph_fail(d, "kernel", "kernel height 0"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_SH] = -1; expect_graph_fail(d, "stride", "negative stride"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_PAD_MODE] = 7; expect_graph_fail(d, "padding", "padding mode 7"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_PT] = 1000; expect_graph_fail(d, "padding", "padding 1000"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_GROUPS] = 0; expect_graph_fail(d, "groups", "0 groups"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_GROUPS] = 5; expect_graph_fail(d, "groups", "5 groups for 32 channels"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_ACT] = 9; expect_graph_fail(d, "activation", "activation 9"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[conv].p[P_USE_BIAS] = 1; expect_graph_fail(d, "bias", "bias flag without bias tensor"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[bn].p[P_EPS_BITS] = sialo_f32_to_bits(-1.0f); expect_graph_fail(d, "epsilon", "negative epsilon"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) {
        d->tensors[d->nodes[bn].t[3]].data[5] = -2.0f;
        expect_graph_fail(d, "variance", "negative moving variance");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) { d->nodes[dense].p[PD_COUT] = 2; expect_graph_fail(d, "shape", "dense with 2 outputs, kernel for 1"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->nodes[dense - 1].p[P_RATE_BITS] = sialo_f32_to_bits(1.5f); expect_graph_fail(d, "dropout", "dropout rate 1.5"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->n_classes = 2; expect_graph_fail(d, "classes", "n_classes 2 for a 1-wide output"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) { d->n_classes = 7; expect_graph_fail(d, "classes", "n_classes 7 for a 1-wide output"); sialo_graph_free(d); }
    if ((d = copy_graph(g))) {
        static const char *const three[3] = {"a", "b", "c"};
        sialo_graph_set_classes(d, 3, three);
        expect_graph_fail(d, "class names", "3 class names for a binary model");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) {
        free(d->nodes[bn].name);
        d->nodes[bn].name = sialo_strdup("block2_conv");
        expect_graph_fail(d, "named", "two layers with the same name");
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) {
        int keep = d->n_nodes;
        d->n_nodes = 1;
        expect_graph_fail(d, "no layers", "only the input node");
        d->n_nodes = keep;
        sialo_graph_free(d);
    }
    if ((d = copy_graph(g))) { d->in_h = 4; d->in_w = 4; expect_graph_fail(d, "smaller", "4x4 input through 3 pools of 2x2"); sialo_graph_free(d); }
    /* NaN / infinite weights, in both storage formats */
    const float bad_vals[3] = {NAN, INFINITY, -INFINITY};
    for (int v = 0; v < 3; v++)
        for (int bits = 16; bits <= 32; bits += 16) {
            if (!(d = copy_graph(g))) continue;
            d->tensors[d->nodes[conv].t[0]].data[123] = bad_vals[v];
            uint8_t *bb;
            size_t nb;
            char what[64];
            snprintf(what, sizeof what, "%s weight, fp%d", v == 0 ? "NaN" : "infinite", bits);
            if (sialo_graph_write(d, bits, &bb, &nb) == 0) { expect_fail(bb, nb, "NaN or infinity", what); free(bb); }
            sialo_graph_free(d);
        }
    /* a weight too large for fp16 becomes infinity when written as fp16: refused on load */
    if ((d = copy_graph(g))) {
        d->tensors[d->nodes[dense].t[0]].data[0] = 1e6f;
        uint8_t *bb;
        size_t nb;
        if (sialo_graph_write(d, 16, &bb, &nb) == 0) { expect_fail(bb, nb, "infinity", "1e6 stored as fp16"); free(bb); }
        sialo_graph_free(d);
    }
    sialo_graph_free(g);
}

/* ------------------------------------------------------------------ 3b. valid files, right answers */
/* Files that pass validation must compute what the graph says (or, if the engine decides to
   refuse such graphs, be refused at load with a reason: last_refused). */
static int last_refused;
static float forward1(const uint8_t *b, size_t n, float fill, float *out, int nout, const char *what) {
    sialo_model *m = sialo_model_load(b, n, &OPT1);
    last_refused = m == NULL && *sialo_error();
    if (!m) {
        printf("  (%s: refused at load: %s)\n", what, sialo_error());
        return NAN;
    }
    size_t nin = (size_t)32 * 32 * 3;
    float *x = malloc(nin * sizeof *x);
    for (size_t i = 0; i < nin; i++) x[i] = fill;
    int rc = sialo_forward(m, x, out);
    CHECK(rc == 0, "%s: forward: %s", what, sialo_error());
    free(x);
    sialo_model_free(m);
    (void)nout;
    return out[0];
}

static void semantics(void) {
    uint8_t *b;
    size_t n;
    /* 1. the output is the last node even when the last node is a fusable layer (relu) whose
       producer is not the node before it: input -> gap -> A (dense) -> B (dense) -> relu(A).
       All ones in, A = 3 (weights 1), B = -6 (weights -2): the output must be relu(A) = 3. */
    {
        sialo_graph *g = sialo_graph_new("dead_branch", 32, 32, 3);
        int x = gb_simple(g, OP_GAP, "gap", 0);
        int a = gb_dense(g, "A", x, 1, 0, ACT_NONE);
        int bb = gb_dense(g, "B", x, 1, 0, ACT_NONE);
        gb_simple(g, OP_RELU, "out", a);
        g->n_classes = 1;
        for (int k = 0; k < 3; k++) { g->tensors[g->nodes[a].t[0]].data[k] = 1.0f; g->tensors[g->nodes[bb].t[0]].data[k] = -2.0f; }
        CHECK(sialo_graph_infer_shapes(g) < 0 && strstr(sialo_error(), "not used"), "dead branch graph accepted: %s", sialo_error());
        if (serialise(g, 32, &b, &n) == 0) {
            float y = 0;
            forward1(b, n, 1.0f, &y, 1, "dead branch");
            CHECK(last_refused || fabsf(y - 3.0f) < 1e-5f,
                      "output is %g, the graph's output relu(A) is 3 (-6 is the unused dense B): after the relu is fused into A, "
                      "the runtime takes the last remaining node (B) as the output", y);
            /* the same with a final dropout */
            g->nodes[g->n_nodes - 1].op = OP_DROPOUT;
            free(b);
            if (serialise(g, 32, &b, &n) == 0) {
                y = 0;
                forward1(b, n, 1.0f, &y, 1, "dead branch, dropout");
                CHECK(last_refused || fabsf(y - 3.0f) < 1e-5f, "final dropout of A: output is %g, expected 3", y);
                free(b);
            }
        }
        sialo_graph_free(g);
    }
    /* 2. a tensor shared by two conv+BN pairs is scaled by both batch norms when they are folded */
    {
        sialo_graph *g = sialo_graph_new("shared", 32, 32, 3);
        int x = gb_conv(g, "c1", 0, 1, 1, 1, PAD_VALID, 1, 3, 0, ACT_NONE);
        x = gb_bn(g, "bn1", x, 1e-3f, ACT_NONE);
        x = gb_conv(g, "c2", x, 1, 1, 1, PAD_VALID, 1, 3, 0, ACT_NONE);
        int t0 = g->nodes[1].t[0];
        g->nodes[x].t[0] = t0; /* c2 uses c1's kernel: the file format allows it */
        x = gb_bn(g, "bn2", x, 1e-3f, ACT_NONE);
        gb_simple(g, OP_GAP, "gap", x);
        g->n_classes = 3;
        for (int k = 0; k < 9; k++) g->tensors[t0].data[k] = k % 4 == 0 ? 1.0f : 0.0f; /* identity */
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].op == OP_BATCHNORM)
                for (int c = 0; c < 3; c++) g->tensors[g->nodes[i].t[0]].data[c] = 2.0f; /* gamma 2, var 1 */
        CHECK(sialo_graph_infer_shapes(g) < 0 && strstr(sialo_error(), "more than one layer"), "shared kernel graph accepted: %s", sialo_error());
        if (serialise(g, 32, &b, &n) == 0) {
            float y[3] = {0};
            forward1(b, n, 1.0f, y, 3, "shared kernel");
            float want = 4.0f / 1.001f; /* 1 * 2/sqrt(1.001) * 2/sqrt(1.001) */
            CHECK(last_refused || fabsf(y[0] - want) < 1e-3f,
                      "shared kernel: output %g, expected %g (the shared kernel is scaled by both batch norms)", y[0], want);
            free(b);
        }
        sialo_graph_free(g);
    }
    /* 3. zero padding + a padded conv, each within its own limit, fold into a conv whose padding
       exceeds the conv limit: a valid file then fails to load */
    {
        sialo_graph *g = sialo_graph_new("pad_fold", 32, 32, 3);
        int x = gb_pad(g, "pad", 0, 40, 40, 40, 40);
        x = gb_conv_explicit(g, "conv", x, 3, 3, 8, 8, 30, 30, 30, 30, 1, 4, 1, ACT_NONE);
        gb_simple(g, OP_GAP, "gap", x);
        g->n_classes = 4;
        CHECK(sialo_graph_infer_shapes(g) == 0, "pad fold graph: %s", sialo_error());
        if (serialise(g, 32, &b, &n) == 0) {
            sialo_graph *r = sialo_graph_read(b, n);
            CHECK(r != NULL, "pad fold graph is refused by the reader: %s", sialo_error());
            sialo_graph_free(r);
            sialo_model *m = sialo_model_load(b, n, &OPT1);
            CHECK(m != NULL, "a valid file fails to load: '%s' (pad 40 folded into conv pad 30)", sialo_error());
            sialo_model_free(m);
            free(b);
        }
        sialo_graph_free(g);
    }
}

/* ------------------------------------------------------------------ 4. truncations and fuzzing */
static int try_load(const uint8_t *b, size_t n, const char *what, int *loaded) {
    static int turn;
    /* rotate the backends: own (1 thread), reference, XNNPACK, own with 2 threads */
    sialo_options opt = {.backend = SIALO_BACKEND_OWN, .threads = 1};
    switch (turn++ % 4) {
    case 1: opt.backend = SIALO_BACKEND_REF; break;
    case 2: opt.backend = SIALO_BACKEND_XNNPACK; break;
    case 3: opt.threads = 2; break;
    default: break;
    }
    clear_error();
    uint8_t *tight = dup_bytes(b, n);
    sialo_model *m = sialo_model_load(tight, n, &opt);
    free(tight);
    if (!m) {
        const char *e = sialo_error();
        CHECK(e && *e, "%s: refused without a reason", what);
        return 0;
    }
    (*loaded)++;
    /* it loaded: it must also run */
    sialo_info in;
    sialo_model_info(m, &in);
    size_t nin = (size_t)in.input_h * in.input_w * 3, nout = sialo_output_size(m);
    if (nin <= ((size_t)1 << 22) && nout <= ((size_t)1 << 22)) {
        float *x = calloc(nin, sizeof *x), *y = calloc(nout, sizeof *y);
        for (size_t i = 0; i < nin; i++) x[i] = (float)(i % 17) / 8.0f - 1.0f;
        CHECK(sialo_forward(m, x, y) == 0, "%s: loaded but forward failed: %s", what, sialo_error());
        free(x);
        free(y);
    }
    sialo_model_free(m);
    return 1;
}

static void fuzz(void) {
    sialo_graph *g = tiny_graph(5);
    uint8_t *b;
    size_t n;
    if (serialise(g, 32, &b, &n) < 0) { sialo_graph_free(g); return; }
    layout L;
    locate(b, n, &L);
    int loaded = 0;
    CHECK(try_load(b, n, "tiny graph", &loaded) == 1, "the tiny multi-op graph does not load: %s", sialo_error());

    /* the tiny graph through the round trip too: fp32 identical, fp16 close */
    {
        sialo_graph *c = copy_graph(g);
        sialo_model *m = sialo_model_load(b, n, &OPT1), *mm = c ? sialo_model_from_graph(c, &OPT1) : NULL;
        CHECK(m && mm, "tiny: load / from graph: %s", sialo_error());
        if (m && mm) {
            float *x = random_input(g, 99), y = 0, ym = 1;
            sialo_forward(m, x, &y);
            sialo_forward(mm, x, &ym);
            CHECK(y == ym, "tiny: file %.9g vs in-memory %.9g", y, ym);
            free(x);
        }
        sialo_model_free(m);
        sialo_model_free(mm);
    }

    /* every truncation of the metadata (and some of the data), header re-written to match and
       re-signed, so the parser itself meets the end of the payload */
    /* the last tensor's zero padding is not needed: a file cut inside it is still complete */
    const sialo_tensor *lt = &g->tensors[g->n_tensors - 1];
    uint64_t last_off = (uint64_t)get32(b + L.t_off[L.nt - 1]) | (uint64_t)get32(b + L.t_off[L.nt - 1] + 4) << 32;
    size_t complete = L.data_start + (size_t)last_off + lt->count * 4;
    int cuts = 0, cut_fail = 0;
    for (size_t len = HEADER; len < complete; len += (len < L.data_start + 64 ? 1 : 61)) {
        uint8_t *c = dup_bytes(b, len);
        put64(c + 16, (uint64_t)(len - HEADER));
        resign(c, len);
        int l = 0;
        char what[64];
        snprintf(what, sizeof what, "re-signed truncation to %zu bytes", len);
        if (!try_load(c, len, what, &l)) cut_fail++;
        cuts++;
        free(c);
    }
    CHECK(cut_fail == cuts, "%d of %d re-signed truncations loaded", cuts - cut_fail, cuts);
    printf("re-signed truncations: %d, all refused: %s\n", cuts, cut_fail == cuts ? "yes" : "no");

    /* seeded random mutations, re-signed: mostly in the metadata, some anywhere */
    int iters = 4000, ok = 0;
    uint8_t *c = malloc(n);
    static const uint32_t interesting[] = {0, 1, 2, 3, 4, 7, 8, 15, 16, 31, 32, 63, 64, 255, 256, 0x7FFF, 0xFFFF,
                                           0x10000, 0x7FFFFFFF, 0x80000000u, 0xFFFFFFFFu, 0xFFFFFFFEu, 0x3F800000u, 0x7FC00000u};
    for (int it = 0; it < iters; it++) {
        memcpy(c, b, n);
        int nmut = 1 + (int)(rnd() % 4);
        for (int k = 0; k < nmut; k++) {
            size_t region = rnd() % 10 ? L.data_start - HEADER : n - HEADER;
            size_t pos = HEADER + rnd() % region;
            switch (rnd() % 4) {
            case 0: c[pos] ^= (uint8_t)(1u << (rnd() % 8)); break;
            case 1: c[pos] = (uint8_t)rnd(); break;
            case 2: c[pos] = (uint8_t)(c[pos] + (int)(rnd() % 5) - 2); break;
            default:
                if (pos + 4 <= n) put32(c + (pos & ~(size_t)3), interesting[rnd() % (sizeof interesting / sizeof *interesting)]);
                break;
            }
        }
        resign(c, n);
        char what[64];
        snprintf(what, sizeof what, "mutation %d", it);
        ok += try_load(c, n, what, &loaded);
    }
    printf("random mutations: %d, loaded %d, refused %d\n", iters, ok, iters - ok);
    CHECK(ok > 0 && ok < iters, "mutations: %d of %d loaded (expected some of each)", ok, iters);

    /* the same on smallcnn fp16 (header fields only differ in the storage) */
    sialo_graph *s = smallcnn(9);
    uint8_t *sb;
    size_t sn;
    if (s && serialise(s, 16, &sb, &sn) == 0) {
        layout SL;
        locate(sb, sn, &SL);
        uint8_t *sc = malloc(sn);
        int sok = 0;
        for (int it = 0; it < 400; it++) {
            memcpy(sc, sb, sn);
            size_t pos = HEADER + rnd() % (SL.data_start - HEADER);
            sc[pos] = (uint8_t)rnd();
            if (rnd() % 2) { pos = HEADER + rnd() % (SL.data_start - HEADER); sc[pos] ^= (uint8_t)(1u << (rnd() % 8)); }
            resign(sc, sn);
            char what[64];
            snprintf(what, sizeof what, "smallcnn fp16 mutation %d", it);
            sok += try_load(sc, sn, what, &loaded);
        }
        printf("smallcnn fp16 mutations: 400, loaded %d\n", sok);
        free(sc);
        free(sb);
    }
    sialo_graph_free(s);
    free(c);
    free(b);
    sialo_graph_free(g);
}

int main(void) {
    sialo_graph *g = smallcnn(42);
    if (g) round_trip(g, "smallcnn");
    g = sialo_arch_build("mobilenetv2", 64, 64, "binary", 0);
    CHECK(g != NULL, "mobilenetv2 build: %s", sialo_error());
    if (g) {
        sialo_graph_randomize(g, 43);
        round_trip(g, "mobilenetv2");
    }
    bad_headers();
    calibration_versions();
    targeted();
    semantics();
    fuzz();
    return test_summary("test_model_file");
}
