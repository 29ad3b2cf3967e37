/* test_ops.c — every operator's fast form against its naive reference, on random data and
 * awkward shapes (odd sizes, channels not a multiple of the vector width, stride 2 on odd
 * input, batches), and whole networks: own kernels vs reference vs XNNPACK. */
#include "check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "engine/backend_xnnpack.h"
#include "ops/ops.h"
#include "kernels/f32_adam.h"
#include "kernels/f32_gemm.h"
#include "kernels/f32_dwconv.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng = 42;
static float frand(void) {
    rng = rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}
static float *rand_buf(size_t n) {
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++) p[i] = frand();
    return p;
}
/* max |a-b| / (1 + max|b|) */
static double rel_err(const float *a, const float *b, size_t n) {
    double m = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > m || d != d) m = d != d ? INFINITY : d;
        if (fabs(b[i]) > s) s = fabs(b[i]);
    }
    return m / (1.0 + s);
}

typedef struct { int n, h, w, cin, cout, kh, kw, sh, sw, pt, pb, pl, pr, groups, act, bias; } conv_case;

static void test_conv(const conv_case *c) {
    conv_params p = {c->kh, c->kw, c->sh, c->sw, c->pt, c->pb, c->pl, c->pr, c->groups, c->cin, c->cout, c->act};
    shape4 xs = {c->n, c->h, c->w, c->cin};
    shape4 ys = {c->n, (c->h + c->pt + c->pb - c->kh) / c->sh + 1, (c->w + c->pl + c->pr - c->kw) / c->sw + 1, c->cout};
    float *x = rand_buf(shape_count(xs)), *w = rand_buf((size_t)c->kh * c->kw * (c->cin / c->groups) * c->cout);
    float *b = c->bias ? rand_buf((size_t)c->cout) : NULL;
    float *yr = calloc(shape_count(ys), sizeof(float)), *yo = calloc(shape_count(ys), sizeof(float));
    conv_forward_ref(&p, x, xs, w, b, yr, ys);
    conv_packed pk;
    CHECK(conv_pack(&p, w, b, &pk) == 0, "pack");
    size_t sc = conv_scratch_floats(&p, &pk);
    float *scratch = malloc((sc ? sc : 1) * sizeof(float));
    for (int parts = 1; parts <= 3; parts += 2) {
        memset(yo, 0, shape_count(ys) * sizeof(float));
        for (int part = 0; part < parts; part++) conv_forward(&p, &pk, x, xs, yo, ys, scratch, part, parts);
        double e = rel_err(yo, yr, shape_count(ys));
        CHECK(e < 1e-5, "conv %dx%dx%dx%d k%dx%d s%dx%d pad %d,%d,%d,%d g%d -> %d act %d (kind %d, %d parts): rel err %g",
              c->n, c->h, c->w, c->cin, c->kh, c->kw, c->sh, c->sw, c->pt, c->pb, c->pl, c->pr, c->groups, c->cout,
              c->act, pk.kind, parts, e);
    }
    if (sialo_xnn_available()) {
        sialo_xnn_op *op = sialo_xnn_conv_create(&p, w, b, xs);
        CHECK(op != NULL, "xnnpack conv create: %s", sialo_error());
        if (op) {
            memset(yo, 0, shape_count(ys) * sizeof(float));
            sialo_xnn_run(op, x, yo, 1);
            double e = rel_err(yo, yr, shape_count(ys));
            CHECK(e < 1e-5, "xnnpack conv k%d s%d g%d: rel err %g", c->kh, c->sh, c->groups, e);
            sialo_xnn_free(op);
        }
    }
    conv_packed_free(&pk);
    free(x); free(w); free(b); free(yr); free(yo); free(scratch);
}

static void test_dense(int n, int cin, int cout, int act) {
    float *x = rand_buf((size_t)n * cin), *w = rand_buf((size_t)cin * cout), *b = rand_buf((size_t)cout);
    float *yr = calloc((size_t)n * cout, sizeof(float)), *yo = calloc((size_t)n * cout, sizeof(float));
    dense_forward_ref(x, n, cin, w, b, cout, act, yr);
    conv_packed pk;
    dense_pack(w, b, cin, cout, &pk);
    for (int part = 0; part < 2; part++) dense_forward(&pk, x, n, cin, cout, act, yo, part, 2);
    double e = rel_err(yo, yr, (size_t)n * cout);
    CHECK(e < 1e-5, "dense %dx%d -> %d: rel err %g", n, cin, cout, e);
    conv_packed_free(&pk);
    free(x); free(w); free(b); free(yr); free(yo);
}

/* the dense backward (vectorised over outputs, or over inputs for one output) against the reference */
static void test_dense_backward(int n, int cin, int cout) {
    float *x = rand_buf((size_t)n * cin), *w = rand_buf((size_t)cin * cout), *dz = rand_buf((size_t)n * cout);
    float *dx = rand_buf((size_t)n * cin), *dw = rand_buf((size_t)cin * cout), *db = rand_buf((size_t)cout);
    float *rx = malloc((size_t)n * cin * 4), *rw = malloc((size_t)cin * cout * 4), *rb = malloc((size_t)cout * 4);
    memcpy(rx, dx, (size_t)n * cin * 4); memcpy(rw, dw, (size_t)cin * cout * 4); memcpy(rb, db, (size_t)cout * 4); /* both accumulate */
    dense_backward(x, n, cin, w, dz, cout, dx, dw, db);
    dense_backward_ref(x, n, cin, w, dz, cout, rx, rw, rb);
    double ex = rel_err(dx, rx, (size_t)n * cin), ew = rel_err(dw, rw, (size_t)cin * cout), eb = rel_err(db, rb, (size_t)cout);
    CHECK(ex < 1e-5 && ew < 1e-5 && eb < 1e-6, "dense backward %dx%d -> %d: dx %g dw %g db %g", n, cin, cout, ex, ew, eb);
    free(x); free(w); free(dz); free(dx); free(dw); free(db); free(rx); free(rw); free(rb);
}

/* the element-wise backward passes and the AdamW update: fast forms against the references */
static void test_eltwise_backward(void) {
    size_t n = 1003;
    float *y = rand_buf(n), *dy = rand_buf(n), *a = malloc(n * 4), *b = malloc(n * 4);
    for (size_t i = 0; i < n; i++) y[i] = y[i] * 8 - 1; /* below 0, inside, above 6 */
    y[0] = 0.0f; y[1] = 6.0f; y[2] = 5.999f;
    for (int act = 0; act <= 2; act++) {
        act_backward(y, dy, n, act, a);
        act_backward_ref(y, dy, n, act, b);
        CHECK(memcmp(a, b, n * 4) == 0, "act backward %d", act);
    }
    memcpy(a, dy, n * 4);
    act_backward(y, a, n, ACT_RELU6, a); /* in place */
    CHECK(memcmp(a, b, n * 4) == 0 && a[0] == 0 && a[1] == 0 && a[2] == dy[2], "relu6 backward in place, the edges");
    /* affine: against a loop in double */
    int rows = 23, c = 19;
    float *x = rand_buf((size_t)rows * c), *sc = rand_buf((size_t)c), *dx = calloc((size_t)rows * c, 4), *ds = calloc((size_t)c, 4), *dh = calloc((size_t)c, 4);
    affine_backward(x, (size_t)rows, c, sc, dy, dx, ds, dh);
    double e = 0;
    for (int k = 0; k < c; k++) {
        double s1 = 0, s2 = 0;
        for (int r = 0; r < rows; r++) {
            s1 += (double)x[r * c + k] * dy[r * c + k];
            s2 += dy[r * c + k];
            double d = fabs(dx[r * c + k] - (double)dy[r * c + k] * sc[k]);
            if (d > e) e = d;
        }
        if (fabs(ds[k] - s1) > e) e = fabs(ds[k] - s1);
        if (fabs(dh[k] - s2) > e) e = fabs(dh[k] - s2);
    }
    CHECK(e < 1e-5, "affine backward: max abs err %g", e);
    /* AdamW: the vectorised single-precision step against the double-precision one, a few steps */
    float *w1 = rand_buf(n), *w2 = malloc(n * 4), *m1 = calloc(n, 4), *m2 = calloc(n, 4), *v1 = calloc(n, 4), *v2 = calloc(n, 4);
    memcpy(w2, w1, n * 4);
    for (int t = 1; t <= 5; t++) {
        for (size_t i = 0; i < n; i++) dy[i] = frand() - 0.5f;
        f32_adam_params p = {1e-3f, 0.9f, 0.999f, (float)(1 / (1 - pow(0.9, t))), (float)(1 / (1 - pow(0.999, t))), 1e-7f, 1e-4f};
        f32_adamw(w1, dy, m1, v1, n, &p);
        f32_adamw_ref(w2, dy, m2, v2, n, &p);
    }
    double ew = rel_err(w1, w2, n), em = rel_err(m1, m2, n), ev = rel_err(v1, v2, n);
    CHECK(ew < 1e-6 && em < 1e-5 && ev < 1e-5, "adamw: w %g m %g v %g", ew, em, ev);
    /* the first step moves every weight by about lr against its gradient's sign */
    float w0 = 0.5f, g0 = 3.0f, m0 = 0, v0 = 0;
    f32_adam_params p1 = {1e-3f, 0.9f, 0.999f, 10.0f, 1000.0f, 1e-7f, 0.0f};
    f32_adamw(&w0, &g0, &m0, &v0, 1, &p1);
    CHECK(fabsf(w0 - (0.5f - 1e-3f)) < 1e-7f, "adamw first step: %.8f", w0);
    free(y); free(dy); free(a); free(b); free(x); free(sc); free(dx); free(ds); free(dh);
    free(w1); free(w2); free(m1); free(m2); free(v1); free(v2);
}

static void test_pools(void) {
    static const int cases[][8] = {/* h w c k s pt pb(=pr) same */
        {11, 11, 19, 3, 2, 1, 1, 0}, {7, 9, 33, 2, 2, 0, 0, 0}, {5, 5, 4, 3, 1, 1, 1, 0}, {13, 10, 17, 3, 2, 0, 1, 0}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        const int *c = cases[k];
        conv_params p = {c[3], c[3], c[4], c[4], c[5], c[6], c[5], c[6], 1, c[2], c[2], 0};
        shape4 xs = {2, c[0], c[1], c[2]};
        shape4 ys = {2, (c[0] + c[5] + c[6] - c[3]) / c[4] + 1, (c[1] + c[5] + c[6] - c[3]) / c[4] + 1, c[2]};
        float *x = rand_buf(shape_count(xs)), *yr = calloc(shape_count(ys), 4), *yo = calloc(shape_count(ys), 4);
        maxpool_forward_ref(&p, x, xs, yr, ys);
        maxpool_forward(&p, x, xs, yo, ys, 0, 1);
        CHECK(rel_err(yo, yr, shape_count(ys)) == 0, "maxpool case %zu", k);
        avgpool_forward_ref(&p, x, xs, yr, ys);
        for (int part = 0; part < 2; part++) avgpool_forward(&p, x, xs, yo, ys, part, 2);
        CHECK(rel_err(yo, yr, shape_count(ys)) < 1e-6, "avgpool case %zu: %g", k, rel_err(yo, yr, shape_count(ys)));
        free(x); free(yr); free(yo);
    }
    shape4 xs = {3, 7, 5, 37};
    float *x = rand_buf(shape_count(xs)), yr[3 * 37], yo[3 * 37];
    gap_forward_ref(x, xs, yr);
    gap_forward(x, xs, yo);
    CHECK(rel_err(yo, yr, 3 * 37) < 1e-6, "gap");
    free(x);
}

static void test_eltwise(void) {
    size_t n = 1003;
    float *a = rand_buf(n), *b = rand_buf(n), *yr = malloc(n * 4), *yo = malloc(n * 4);
    for (int act = 0; act <= 2; act++) {
        for (size_t i = 0; i < n; i++) { a[i] *= 8; }
        add_forward_ref(a, b, n, act, yr);
        add_forward(a, b, n, act, yo);
        CHECK(rel_err(yo, yr, n) == 0, "add act %d", act);
        act_forward_ref(a, n, act, yr);
        act_forward(a, n, act, yo);
        CHECK(rel_err(yo, yr, n) == 0, "act %d", act);
        float *sc = rand_buf(17), *sh = rand_buf(17);
        affine_forward_ref(a, 59, 17, sc, sh, act, yr);
        affine_forward(a, 59, 17, sc, sh, act, yo);
        CHECK(rel_err(yo, yr, 59 * 17) < 1e-6, "affine act %d", act);
        free(sc); free(sh);
    }
    /* relu6 clamps */
    float v[4] = {-3, 0.5f, 6.5f, 100}, o[4];
    act_forward(v, 4, ACT_RELU6, o);
    CHECK(o[0] == 0 && o[1] == 0.5f && o[2] == 6 && o[3] == 6, "relu6 clamps");
    /* sigmoid / softmax: against closed forms, extreme inputs stay finite */
    float s[3] = {0, 100, -100}, so[3];
    sigmoid_forward(s, 3, so);
    CHECK(so[0] == 0.5f && so[1] == 1.0f && so[2] >= 0 && so[2] < 1e-30, "sigmoid");
    float sm[3] = {1000, 1000, 0}, smo[3];
    softmax_forward(sm, 1, 3, smo);
    CHECK(fabsf(smo[0] - 0.5f) < 1e-6 && fabsf(smo[1] - 0.5f) < 1e-6 && smo[2] == 0, "softmax stable");
    /* zero padding */
    shape4 xs = {1, 2, 3, 2};
    float px[12], py[5 * 4 * 2];
    for (int i = 0; i < 12; i++) px[i] = (float)(i + 1);
    pad_forward(px, xs, 1, 2, 0, 1, py);
    CHECK(py[0] == 0 && py[(1 * 4 + 0) * 2] == 1 && py[(1 * 4 + 3) * 2] == 0 && py[(2 * 4 + 2) * 2 + 1] == 12, "pad layout");
    free(a); free(b); free(yr); free(yo);
}

/* whole networks: the three backends agree */
static void test_network(const char *arch, int size) {
    sialo_graph *g0 = sialo_arch_build(arch, size, size, "binary", 0);
    CHECK(g0 != NULL, "build %s: %s", arch, sialo_error());
    if (!g0) return;
    sialo_graph_randomize(g0, 7);
    uint8_t *bytes;
    size_t nbytes;
    CHECK(sialo_graph_write(g0, 32, &bytes, &nbytes) == 0, "write");
    sialo_graph_free(g0);
    float *x = rand_buf((size_t)size * size * 3), out[3] = {0};
    for (int b = 0; b < 3; b++) {
        sialo_options o = {(sialo_backend)b, b == 0 ? 2 : 1, 0, 0};
        if (b == SIALO_BACKEND_XNNPACK && !sialo_xnn_available()) continue;
        sialo_model *m = sialo_model_load(bytes, nbytes, &o);
        CHECK(m != NULL, "load %s backend %d: %s", arch, b, sialo_error());
        if (!m) continue;
        CHECK(sialo_forward(m, x, &out[b]) == 0, "forward %s backend %d", arch, b);
        sialo_model_free(m);
    }
    CHECK(out[0] > 0.001f && out[0] < 0.999f, "%s: random-weight output %g is not saturated", arch, out[0]);
    CHECK(fabsf(out[0] - out[1]) < 1e-5, "%s own %.7f vs ref %.7f", arch, out[0], out[1]);
    if (sialo_xnn_available()) CHECK(fabsf(out[2] - out[1]) < 1e-5, "%s xnnpack %.7f vs ref %.7f", arch, out[2], out[1]);
    free(bytes);
    free(x);
}

/* the convolution backward (im2col + two GEMMs, or the loops for grouped / depthwise) against
   the plain-loop definition, with awkward shapes (fewer pixels than channels, stride 2, padding) */
static void test_conv_backward(const conv_case *c) {
    conv_params p = {c->kh, c->kw, c->sh, c->sw, c->pt, c->pb, c->pl, c->pr, c->groups, c->cin, c->cout, 0};
    shape4 xs = {c->n, c->h, c->w, c->cin};
    shape4 ys = {c->n, (c->h + c->pt + c->pb - c->kh) / c->sh + 1, (c->w + c->pl + c->pr - c->kw) / c->sw + 1, c->cout};
    int cgi = c->cin / c->groups, cgo = c->cout / c->groups;
    size_t nx = shape_count(xs), ny = shape_count(ys), nw = (size_t)c->kh * c->kw * cgi * c->cout;
    float *x = rand_buf(nx), *wt = rand_buf(nw), *dz = rand_buf(ny);
    float *dx = calloc(nx, 4), *dw = calloc(nw, 4), *db = calloc((size_t)c->cout, 4);
    float *rx = calloc(nx, 4), *rw = calloc(nw, 4), *rb = calloc((size_t)c->cout, 4);
    conv_backward(&p, x, xs, wt, dz, ys, dx, dw, db);
    for (int n = 0; n < ys.n; n++)
        for (int oy = 0; oy < ys.h; oy++)
            for (int ox = 0; ox < ys.w; ox++)
                for (int o = 0; o < c->cout; o++) {
                    float d = dz[(((size_t)n * ys.h + oy) * ys.w + ox) * ys.c + o];
                    int g = o / cgo;
                    rb[o] += d;
                    for (int ky = 0; ky < c->kh; ky++)
                        for (int kx = 0; kx < c->kw; kx++) {
                            int iy = oy * c->sh - c->pt + ky, ix = ox * c->sw - c->pl + kx;
                            if (iy < 0 || iy >= xs.h || ix < 0 || ix >= xs.w) continue;
                            for (int i = 0; i < cgi; i++) {
                                size_t xi = (((size_t)n * xs.h + iy) * xs.w + ix) * xs.c + (size_t)g * cgi + i;
                                size_t wi = (((size_t)ky * c->kw + kx) * cgi + i) * c->cout + o;
                                rx[xi] += wt[wi] * d;
                                rw[wi] += x[xi] * d;
                            }
                        }
                }
    double ex = rel_err(dx, rx, nx), ew = rel_err(dw, rw, nw), eb = rel_err(db, rb, (size_t)c->cout);
    CHECK(ex < 1e-5 && ew < 1e-5 && eb < 1e-5, "conv backward k%dx%d s%d pad %d,%d g%d %d->%d: dx %g dw %g db %g", c->kh, c->kw, c->sh,
          c->pt, c->pb, c->groups, c->cin, c->cout, ex, ew, eb);
    free(x); free(wt); free(dz); free(dx); free(dw); free(db); free(rx); free(rw); free(rb);
}

int main(void) {
    /* SIALOSCAN_ISA (make test-isa) picks the kernels: a level this CPU lacks is skipped, one it has
       must be the one that runs */
    if (sialo_isa_check() < 0) {
        printf("skipped: %s\n", sialo_error());
        return strstr(sialo_error(), "this CPU has no") ? 0 : 1;
    }
    const char *want = getenv("SIALOSCAN_ISA");
    CHECK(!want || !*want || !strcmp(want, sialo_isa()), "SIALOSCAN_ISA=%s but the kernels are %s", want, sialo_isa());
    printf("isa %s (this CPU: %s)\n", sialo_isa(), sialo_isa_available());
    static const conv_case bw[] = {
        /* n  h  w  cin cout kh kw sh sw pt pb pl pr g act bias */
        {1, 2, 3, 40, 70, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1},   /* 1x1: P < Cout, P < Cin */
        {2, 7, 7, 17, 9, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1},
        {2, 9, 8, 5, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, 1},   /* 3x3 same */
        {1, 11, 13, 6, 20, 3, 3, 2, 2, 0, 1, 0, 1, 1, 0, 1}, /* stride 2 on odd input */
        {1, 23, 23, 3, 8, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1},  /* stem */
        {1, 9, 9, 16, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 1},  /* 1x1 stride 2 */
        {2, 9, 9, 19, 19, 3, 3, 2, 2, 1, 1, 1, 1, 19, 0, 1}, /* depthwise stride 2, odd channels */
        {2, 8, 7, 72, 72, 3, 3, 1, 1, 1, 1, 1, 1, 72, 0, 1}, /* depthwise 3x3 same: 4-vector blocks, then 1-vector blocks */
        {1, 12, 11, 37, 37, 3, 3, 2, 2, 0, 1, 1, 1, 37, 0, 1}, /* depthwise stride 2, TF 'same' (pad after) */
        {3, 6, 5, 100, 100, 3, 3, 1, 1, 1, 1, 1, 1, 100, 0, 1}, /* depthwise, a remainder of scalars on every ISA */
        {1, 9, 10, 24, 24, 5, 5, 1, 1, 2, 2, 2, 2, 24, 0, 1}, /* depthwise 5x5 */
        {1, 3, 4, 16, 16, 5, 5, 2, 1, 2, 2, 1, 3, 16, 0, 1}, /* depthwise: window bigger than the map, uneven stride and pads */
        {1, 7, 7, 8, 8, 3, 3, 1, 1, 0, 0, 0, 0, 8, 0, 1},    /* depthwise 'valid' */
        {1, 6, 7, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0, 1},    /* grouped (loops) */
    };
    for (size_t i = 0; i < sizeof bw / sizeof bw[0]; i++) test_conv_backward(&bw[i]);
    printf("gemm kernel %s, dwconv kernel %s\n", f32_gemm_kernel_name(), f32_dwconv_kernel_name());
    static const conv_case convs[] = {
        /* n  h   w  cin cout kh kw sh sw pt pb pl pr g act bias */
        {1, 5, 7, 17, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1},    /* 1x1 direct GEMM, odd channels */
        {2, 9, 9, 5, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 0},      /* 3x3 same, batch 2, relu */
        {1, 11, 13, 6, 70, 3, 3, 2, 2, 0, 1, 0, 1, 1, 2, 1},   /* stride 2 on odd input, relu6 */
        {1, 23, 23, 3, 64, 7, 7, 2, 2, 3, 3, 3, 3, 1, 0, 1},   /* ResNet stem */
        {1, 9, 9, 19, 19, 3, 3, 1, 1, 1, 1, 1, 1, 19, 2, 1},   /* depthwise */
        {3, 12, 11, 37, 37, 3, 3, 2, 2, 0, 1, 1, 1, 37, 1, 0}, /* depthwise stride 2, odd */
        {1, 8, 8, 64, 64, 3, 3, 1, 1, 1, 1, 1, 1, 64, 0, 1},   /* depthwise, full vectors */
        {2, 7, 10, 40, 40, 3, 3, 1, 1, 1, 1, 1, 1, 40, 2, 1},  /* depthwise: full vectors, then a remainder (every ISA) */
        {1, 6, 7, 8, 6, 3, 3, 1, 1, 1, 1, 1, 1, 2, 0, 1},      /* grouped */
        {1, 9, 9, 16, 40, 1, 1, 2, 2, 0, 0, 0, 0, 1, 0, 1},    /* 1x1 stride 2 (im2col) */
        {1, 4, 4, 3, 5, 5, 5, 1, 1, 2, 2, 2, 2, 1, 0, 1},      /* window bigger than the map */
        {2, 15, 3, 33, 97, 3, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1},   /* non-square kernel */
    };
    for (size_t i = 0; i < sizeof convs / sizeof convs[0]; i++) test_conv(&convs[i]);
    test_dense_backward(3, 1280, 1);
    test_dense_backward(5, 37, 1);
    test_dense_backward(4, 64, 33);
    test_dense_backward(2, 9, 3);
    test_eltwise_backward();
    test_dense(1, 37, 1, 0);
    test_dense(3, 1280, 5, 1);
    test_dense(7, 64, 33, 2);
    test_pools();
    test_eltwise();
    test_network("smallcnn", 48);
    test_network("mobilenetv2", 96);
    test_network("resnet50v2", 64);
    return test_summary("test_ops");
}
