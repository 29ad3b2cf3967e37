/* test_gradcam.c — Grad-CAM:
 *  (a) on MobileNetV2 / ResNet50V2 / the small CNN (random weights, binary head) the raw map at the
 *      default layer equals a naive recomputation from sialo_activation and the analytic head
 *      gradient (d logit / dA[y,x,c] = w_c / (H*W) through GAP -> dense); the same for a softmax
 *      head; the map is the raw map upsampled and normalised; one forward, pins harmless.
 *      An earlier layer against central finite differences (a net whose first layer is an identity
 *      1x1 conv, so d logit / d(its output) = d logit / d input).
 *  (b) a hand-built "bright patch detector": a bright square in the top-left corner of a dark,
 *      non-square frame lights the top-left quadrant; moved to the bottom-right, the map follows.
 *      Negative evidence gives an all-zero map and an overlay equal to the frame.
 *  (c) bad layer names give clear errors; colour map, overlay and mask scores. */
#include "check.h"
#include "bright_patch_net.h"
#include "engine/graph.h"
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image_write.h>

static uint64_t rs = 7;
static float frand(void) { /* [-1, 1) */
    rs = rs * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((rs >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static sialo_model *load_graph(sialo_graph *g, int keep, int threads) {
    uint8_t *buf = NULL;
    size_t n = 0;
    CHECK(sialo_graph_write(g, 32, &buf, &n) == 0, "write: %s", sialo_error());
    sialo_options o = {SIALO_BACKEND_OWN, threads, keep, 0};
    sialo_model *m = sialo_model_load(buf, n, &o);
    CHECK(m != NULL, "load: %s", sialo_error());
    free(buf);
    return m;
}

static double rel_diff(const float *a, const float *b, size_t n) {
    double md = 0, mr = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]);
        if (d > md || d != d) md = d != d ? INFINITY : d;
        if (fabs(b[i]) > mr) mr = fabs(b[i]);
    }
    return mr > 0 ? md / mr : md;
}

/* naive Grad-CAM at the GAP input from the kept activation and the dense weights */
static float *naive_head_cam(sialo_model *mk, const char *layer, int cls, int *H, int *W) {
    int shape[4];
    const float *A = sialo_activation(mk, layer, shape);
    CHECK(A != NULL, "activation %s: %s", layer, sialo_error());
    if (!A) return NULL;
    int t = sialo_graph_find_tensor(mk->g, "predictions/kernel");
    CHECK(t >= 0, "no predictions/kernel");
    const sialo_tensor *w = &mk->g->tensors[t];
    int C = shape[3], cout = w->dims[1];
    size_t HW = (size_t)shape[1] * shape[2];
    float *raw = malloc(HW * sizeof *raw);
    for (size_t p = 0; p < HW; p++) {
        double s = 0;
        for (int c = 0; c < C; c++) s += (double)w->data[(size_t)c * cout + cls] / (double)HW * A[p * C + c];
        raw[p] = s > 0 ? (float)s : 0.0f;
    }
    *H = shape[1];
    *W = shape[2];
    return raw;
}

static void test_arch(const char *arch, int size, uint64_t seed, const char *want_layer) {
    sialo_graph *g = sialo_arch_build(arch, size, size, "binary", 0);
    CHECK(g != NULL, "%s: %s", arch, sialo_error());
    if (!g) return;
    sialo_graph_randomize(g, seed);
    sialo_model *mk = load_graph(g, 1, 1), *mc = load_graph(g, 0, 1), *mt = load_graph(g, 0, 3);
    sialo_graph_free(g);
    if (!mk || !mc || !mt) return;
    size_t nin = (size_t)size * size * 3;
    float *x = malloc(nin * sizeof *x);
    for (size_t i = 0; i < nin; i++) x[i] = frand();

    CHECK(!strcmp(sialo_cam_default_layer(mc), want_layer), "%s: default layer %s", arch, sialo_cam_default_layer(mc));
    float p_cam = -1, p_ref = -2, p_after = -3;
    sialo_cam cam, cam2, camt;
    CHECK(sialo_cam_forward(mc, x, NULL, -1, 0, 0, &p_cam, &cam) == 0, "%s: cam: %s", arch, sialo_error());
    CHECK(cam.layer && !strcmp(cam.layer, want_layer), "%s: cam layer %s", arch, cam.layer ? cam.layer : "(null)");
    CHECK(cam.class_index == 1, "%s: class %d", arch, cam.class_index);
    CHECK(sialo_forward(mk, x, &p_ref) == 0, "forward: %s", sialo_error());
    CHECK(p_cam == p_ref, "%s: probability with CAM %.9g, plain %.9g", arch, p_cam, p_ref);
    int H = 0, W = 0;
    float *ref = naive_head_cam(mk, want_layer, 0, &H, &W);
    if (ref) {
        CHECK(cam.raw_w == W && cam.raw_h == H, "%s: raw %dx%d, want %dx%d", arch, cam.raw_w, cam.raw_h, W, H);
        double r = rel_diff(cam.raw, ref, (size_t)H * W);
        CHECK(r <= 1e-5, "%s: raw map vs naive: rel %.3g", arch, r);
        float mx = 0;
        for (int i = 0; i < H * W; i++) if (ref[i] > mx) mx = ref[i];
        CHECK(fabsf(cam.raw_max - mx) <= 1e-5f * mx, "%s: raw_max %g vs %g", arch, cam.raw_max, mx);
        CHECK(mx > 0, "%s: seed %d gives an all-zero map; pick a seed that tests something", arch, (int)seed);
        printf("%s %d: layer %s %dx%d, p=%.4f, raw_max %.4g, rel diff %.2g\n", arch, size, cam.layer, W, H, p_cam, mx, r);
    }
    /* the pinned model still classifies as before; a second CAM is identical */
    CHECK(sialo_forward(mc, x, &p_after) == 0 && p_after == p_ref, "%s: forward after CAM %.9g vs %.9g", arch, p_after, p_ref);
    /* map at 3x the raw size in both directions: at raw cell centres map = raw / raw_max */
    CHECK(sialo_cam_forward(mc, x, want_layer, -1, 3 * W, 3 * H, NULL, &cam2) == 0, "%s: cam2: %s", arch, sialo_error());
    CHECK(cam2.w == 3 * W && cam2.h == 3 * H, "%s: map size", arch);
    CHECK(!memcmp(cam.raw, cam2.raw, (size_t)H * W * sizeof(float)), "%s: second CAM differs", arch);
    if (cam2.map && cam.raw_max > 0) {
        double md = 0;
        float mmax = 0, mmin = 1;
        for (int j = 0; j < H; j++)
            for (int i = 0; i < W; i++) {
                double d = fabs(cam2.map[(size_t)(3 * j + 1) * 3 * W + 3 * i + 1] - cam.raw[j * W + i] / cam.raw_max);
                if (d > md) md = d;
            }
        for (int i = 0; i < 9 * H * W; i++) { if (cam2.map[i] > mmax) mmax = cam2.map[i]; if (cam2.map[i] < mmin) mmin = cam2.map[i]; }
        CHECK(md <= 1e-5, "%s: upsampled map at cell centres off by %g", arch, md);
        CHECK(fabsf(mmax - 1.0f) <= 1e-6f && mmin >= 0.0f, "%s: map range [%g, %g]", arch, mmin, mmax);
    }
    /* 3 threads give the same map */
    CHECK(sialo_cam_forward(mt, x, NULL, -1, 0, 0, NULL, &camt) == 0, "%s: cam threads: %s", arch, sialo_error());
    if (camt.raw) CHECK(rel_diff(camt.raw, cam.raw, (size_t)H * W) <= 1e-5, "%s: 3 threads differ", arch);
    /* the negative class explains -logit: the raw map before ReLU flips sign */
    sialo_cam camn;
    CHECK(sialo_cam_forward(mc, x, NULL, 0, 0, 0, NULL, &camn) == 0, "%s: cam class 0: %s", arch, sialo_error());
    if (camn.raw) {
        int both = 0;
        for (int i = 0; i < H * W; i++) both += camn.raw[i] > 0 && cam.raw[i] > 0;
        CHECK(both == 0 && camn.class_index == 0, "%s: positive and negative maps overlap at %d cells", arch, both);
    }
    sialo_cam_free(&camn);
    sialo_cam_free(&camt);
    sialo_cam_free(&cam2);
    sialo_cam_free(&cam);
    free(ref);
    free(x);
    sialo_model_free(mk);
    sialo_model_free(mc);
    sialo_model_free(mt);
}

static void test_softmax(void) {
    sialo_graph *g = sialo_arch_build("smallcnn", 40, 48, "imagenet", 5);
    CHECK(g != NULL, "softmax smallcnn: %s", sialo_error());
    if (!g) return;
    sialo_graph_randomize(g, 3);
    sialo_model *mk = load_graph(g, 1, 1), *mc = load_graph(g, 0, 2);
    sialo_graph_free(g);
    if (!mk || !mc) return;
    size_t nin = (size_t)40 * 48 * 3;
    float *x = malloc(nin * sizeof *x), out[5];
    for (size_t i = 0; i < nin; i++) x[i] = frand();
    sialo_cam cam;
    CHECK(sialo_cam_forward(mc, x, NULL, -1, 0, 0, out, &cam) == 0, "softmax cam: %s", sialo_error());
    int top = 0;
    for (int k = 1; k < 5; k++) if (out[k] > out[top]) top = k;
    CHECK(cam.class_index == top, "softmax: explained class %d, top %d", cam.class_index, top);
    float y[5];
    sialo_forward(mk, x, y);
    for (int cls = 0; cls < 5; cls += 2) {
        sialo_cam c2;
        CHECK(sialo_cam_forward(mc, x, "block4_relu", cls, 0, 0, NULL, &c2) == 0, "softmax cam %d: %s", cls, sialo_error());
        int H, W;
        float *ref = naive_head_cam(mk, "block4_relu", cls, &H, &W);
        if (ref && c2.raw) CHECK(rel_diff(c2.raw, ref, (size_t)H * W) <= 1e-5, "softmax class %d: raw vs naive", cls);
        free(ref);
        sialo_cam_free(&c2);
    }
    sialo_cam bad;
    CHECK(sialo_cam_forward(mc, x, NULL, 5, 0, 0, NULL, &bad) < 0 && strstr(sialo_error(), "out of range"),
          "class 5 of 5 accepted (%s)", sialo_error());
    sialo_cam_free(&cam);
    free(x);
    sialo_model_free(mk);
    sialo_model_free(mc);
}

/* an earlier layer: finite differences. stem = identity 1x1 conv, so the CAM at "stem" uses
   d logit / d input, measured by central differences of the logit (the dense layer's output). */
static void test_finite_differences(void) {
    const int S = 12;
    sialo_graph *g = sialo_graph_new("fdnet", S, S, 3);
    int st = gb_conv(g, "stem", 0, 1, 1, 1, PAD_VALID, 1, 3, 0, ACT_NONE);
    int c1 = gb_conv(g, "c1", st, 3, 3, 1, PAD_SAME, 1, 8, 1, ACT_RELU);
    int bn = gb_bn(g, "bn", c1, 1e-3f, ACT_NONE); /* stand-alone affine (c1 has an activation) */
    int mp = gb_pool(g, OP_MAXPOOL, "mp", bn, 2, 2, PAD_VALID);
    int c2 = gb_conv(g, "c2", mp, 3, 3, 1, PAD_SAME, 1, 6, 1, ACT_RELU6);
    int add = gb_add(g, "add", c2, gb_conv(g, "proj", mp, 1, 1, 1, PAD_VALID, 1, 6, 1, ACT_NONE), ACT_RELU);
    int gap = gb_simple(g, OP_GAP, "gap", add);
    int dn = gb_dense(g, "dense", gap, 1, 1, ACT_NONE);
    gb_simple(g, OP_SIGMOID, "sigmoid", dn);
    g->n_classes = 1;
    CHECK(sialo_graph_infer_shapes(g) == 0, "fdnet: %s", sialo_error());
    sialo_graph_randomize(g, 9);
    sialo_tensor *w = &g->tensors[g->nodes[st].t[0]];
    memset(w->data, 0, w->count * sizeof(float));
    for (int c = 0; c < 3; c++) w->data[c * 3 + c] = 1.0f;
    sialo_model *mk = load_graph(g, 1, 1), *mc = load_graph(g, 0, 1);
    sialo_graph_free(g);
    if (!mk || !mc) return;
    size_t nin = (size_t)S * S * 3;
    float *x = malloc(nin * sizeof *x), *G = malloc(nin * sizeof *G), p;
    for (size_t i = 0; i < nin; i++) x[i] = frand();
    const float h = 2e-3f;
    for (size_t i = 0; i < nin; i++) {
        float keep = x[i], zp, zm;
        x[i] = keep + h; sialo_forward(mk, x, &p); zp = *sialo_activation(mk, "dense", NULL);
        x[i] = keep - h; sialo_forward(mk, x, &p); zm = *sialo_activation(mk, "dense", NULL);
        x[i] = keep;
        G[i] = (zp - zm) / (2 * h);
    }
    float ref[12 * 12];
    double alpha[3] = {0, 0, 0};
    for (int q = 0; q < S * S; q++) for (int c = 0; c < 3; c++) alpha[c] += G[q * 3 + c] / (S * S);
    for (int q = 0; q < S * S; q++) {
        double s = 0;
        for (int c = 0; c < 3; c++) s += alpha[c] * x[q * 3 + c];
        ref[q] = s > 0 ? (float)s : 0.0f;
    }
    sialo_cam cam;
    CHECK(sialo_cam_forward(mc, x, "stem", -1, 0, 0, NULL, &cam) == 0, "fd cam: %s", sialo_error());
    if (cam.raw) {
        double r = rel_diff(cam.raw, ref, (size_t)S * S);
        printf("finite differences at 'stem': rel diff %.2g (raw_max %.3g)\n", r, cam.raw_max);
        CHECK(r <= 2e-3, "CAM at 'stem' vs finite differences: rel %.3g", r);
    }
    sialo_cam_free(&cam);
    /* the stand-alone BN and the add are layers too */
    CHECK(sialo_cam_forward(mc, x, "bn", -1, 0, 0, NULL, &cam) == 0 && cam.raw_w == S, "cam at bn: %s", sialo_error());
    sialo_cam_free(&cam);
    free(x);
    free(G);
    sialo_model_free(mk);
    sialo_model_free(mc);
}

/* ---- (b) the bright-patch detector (bright_patch_net.h, shared with the docs figures) */
static sialo_graph *corner_net(float dense_sign) {
    sialo_graph *g = bright_patch_net(dense_sign);
    CHECK(g != NULL, "corner net: %s", sialo_error());
    return g;
}

typedef struct { uint8_t *p; size_t n; } membuf;
static void mem_write(void *ctx, void *data, int size) {
    membuf *b = ctx;
    b->p = realloc(b->p, b->n + (size_t)size);
    memcpy(b->p + b->n, data, (size_t)size);
    b->n += (size_t)size;
}

/* dark frame W x H with a bright sq_w x sq_h square at (x0, y0), as PNG bytes */
static membuf frame_png(int W, int H, int x0, int y0, int sq_w, int sq_h, sialo_image *raw) {
    uint8_t *rgb = malloc((size_t)W * H * 3);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            int in = x >= x0 && x < x0 + sq_w && y >= y0 && y < y0 + sq_h;
            for (int c = 0; c < 3; c++) rgb[((size_t)y * W + x) * 3 + c] = in ? 235 : (uint8_t)(15 + (x * 7 + y * 3) % 11);
        }
    membuf b = {0};
    stbi_write_png_to_func(mem_write, &b, W, H, 3, rgb, W * 3);
    raw->rgb = rgb; raw->w = W; raw->h = H;
    return b;
}

/* quadrant (0 TL, 1 TR, 2 BL, 3 BR) of the map's maximum */
static int peak_quadrant(const sialo_cam *c) {
    size_t arg = 0;
    for (size_t p = 1; p < (size_t)c->w * c->h; p++) if (c->map[p] > c->map[arg]) arg = p;
    int x = (int)(arg % (size_t)c->w), y = (int)(arg / (size_t)c->w);
    return (x >= c->w / 2) + 2 * (y >= c->h / 2);
}

static void test_corner(void) {
    sialo_graph *g = corner_net(1.0f);
    sialo_model *m = load_graph(g, 0, 2);
    sialo_graph_free(g);
    if (!m) return;
    const int W = 120, H = 80; /* squashed to 32x32: x and y scale differently */
    struct { int x0, y0, quad; const char *name; } cases[3] = {{6, 5, 0, "top-left"}, {92, 60, 3, "bottom-right"}, {90, 4, 1, "top-right"}};
    for (int k = 0; k < 3; k++) {
        sialo_image frame;
        membuf png = frame_png(W, H, cases[k].x0, cases[k].y0, 18, 12, &frame);
        sialo_result r;
        sialo_cam cam;
        CHECK(sialo_classify_cam(m, png.p, png.n, NULL, &r, &cam) == 0, "corner classify_cam: %s", sialo_error());
        if (cam.map) {
            CHECK(cam.w == W && cam.h == H, "map %dx%d, frame %dx%d", cam.w, cam.h, W, H);
            CHECK(!strcmp(cam.layer, "feat") && cam.raw_w == 16 && cam.raw_h == 16, "layer %s %dx%d", cam.layer, cam.raw_w, cam.raw_h);
            int q = peak_quadrant(&cam);
            CHECK(q == cases[k].quad, "square %s: CAM peak in quadrant %d", cases[k].name, q);
            /* the square's mask: the peak points into it and most of the map's mass is near it */
            uint8_t *mask = calloc((size_t)W * H, 1);
            for (int y = cases[k].y0; y < cases[k].y0 + 12; y++)
                for (int x = cases[k].x0; x < cases[k].x0 + 18; x++) mask[y * W + x] = 1;
            int hit = -1;
            double e = -1;
            CHECK(sialo_cam_mask_scores(&cam, mask, &hit, &e) == 0, "mask scores");
            CHECK(hit == 1 && e > 0.4 && e <= 1.0, "square %s: pointing %d energy %.3f", cases[k].name, hit, e);
            printf("corner %s: p=%.3f peak quadrant %d, pointing %d, energy in square %.3f\n", cases[k].name, r.p_positive, q, hit, e);
            /* overlay: full opacity at the peak shows the turbo colour of 1; alpha 0 = the frame */
            uint8_t *rgba = malloc((size_t)W * H * 4), top[3];
            sialo_colormap_turbo(1.0f, top);
            CHECK(sialo_cam_overlay(&frame, &cam, 0.0f, rgba) == 0, "overlay: %s", sialo_error());
            int same = 1;
            for (int p = 0; p < W * H; p++) same &= !memcmp(rgba + 4 * p, frame.rgb + 3 * p, 3) && rgba[4 * p + 3] == 255;
            CHECK(same, "overlay with alpha 0 is not the frame");
            sialo_cam_overlay(&frame, &cam, 1.0f, rgba);
            size_t arg = 0;
            for (size_t p = 1; p < (size_t)W * H; p++) if (cam.map[p] > cam.map[arg]) arg = p;
            CHECK(!memcmp(rgba + 4 * arg, top, 3), "overlay at the peak is not turbo(1)");
            free(rgba);
            free(mask);
            if (k == 0) {
                sialo_image small = {frame.rgb, W / 2, H};
                CHECK(sialo_cam_overlay(&small, &cam, -1, (uint8_t[4]){0}) < 0 && strstr(sialo_error(), "map is"), "size mismatch: %s", sialo_error());
            }
        }
        sialo_cam_free(&cam);
        free(png.p);
        free(frame.rgb);
    }
    /* negative evidence only: all-zero map, overlay = frame */
    g = corner_net(-1.0f);
    sialo_model *mn = load_graph(g, 0, 1);
    sialo_graph_free(g);
    if (mn) {
        sialo_image frame;
        membuf png = frame_png(W, H, 6, 5, 18, 12, &frame);
        sialo_result r;
        sialo_cam cam;
        CHECK(sialo_classify_cam(mn, png.p, png.n, "", &r, &cam) == 0, "negative net: %s", sialo_error());
        if (cam.map) {
            int nz = 0;
            for (int p = 0; p < W * H; p++) nz += cam.map[p] != 0.0f;
            CHECK(nz == 0 && cam.raw_max == 0.0f, "all-negative evidence: %d non-zero map pixels", nz);
            uint8_t *rgba = malloc((size_t)W * H * 4);
            sialo_cam_overlay(&frame, &cam, -1.0f, rgba);
            int same = 1;
            for (int p = 0; p < W * H; p++) same &= !memcmp(rgba + 4 * p, frame.rgb + 3 * p, 3);
            CHECK(same, "zero map: overlay differs from the frame");
            uint8_t ones[120 * 80];
            memset(ones, 1, sizeof ones);
            int hit = -1;
            double e = -1;
            sialo_cam_mask_scores(&cam, ones, &hit, &e);
            CHECK(hit == 0 && e == 0.0, "zero map scores %d %g", hit, e);
            free(rgba);
        }
        sialo_cam_free(&cam);
        free(png.p);
        free(frame.rgb);
        sialo_model_free(mn);
    }
    sialo_model_free(m);
}

/* ---- (c) errors, colour map, mask scores */
static void test_errors(void) {
    sialo_graph *g = sialo_arch_build("mobilenetv2", 96, 96, "binary", 0);
    CHECK(g != NULL, "mobilenetv2 96: %s", sialo_error());
    if (!g) return;
    sialo_graph_randomize(g, 1);
    sialo_model *m = load_graph(g, 0, 1);
    sialo_graph_free(g);
    if (!m) return;
    static float x[96 * 96 * 3];
    sialo_cam cam;
    CHECK(sialo_cam_forward(m, x, "no_such_layer", -1, 0, 0, NULL, &cam) < 0 && strstr(sialo_error(), "no layer named 'no_such_layer'"),
          "unknown layer: %s", sialo_error());
    CHECK(cam.map == NULL && cam.raw == NULL && cam.layer == NULL, "failed CAM left data");
    CHECK(sialo_cam_forward(m, x, "Conv_1_bn", -1, 0, 0, NULL, &cam) < 0 && strstr(sialo_error(), "fused into 'out_relu'"),
          "absorbed layer: %s", sialo_error());
    CHECK(sialo_cam_forward(m, x, "sigmoid", -1, 0, 0, NULL, &cam) < 0 && strstr(sialo_error(), "after the score"),
          "layer after the logit: %s", sialo_error());
    CHECK(sialo_cam_forward(m, x, "input", -1, 0, 0, NULL, &cam) < 0 && strstr(sialo_error(), "network input"),
          "input layer: %s", sialo_error());
    CHECK(sialo_cam_forward(m, x, "block_5_add", -1, 0, 0, NULL, &cam) == 0 && cam.raw_w == 12, "block_5_add: %s", sialo_error());
    sialo_cam_free(&cam);
    sialo_result r;
    CHECK(sialo_classify_cam(m, "junk", 4, NULL, &r, &cam) < 0 && strstr(sialo_error(), "not a PNG"), "junk image: %s", sialo_error());
    sialo_model_free(m);

    /* a backbone without GAP: no default layer */
    g = sialo_arch_build("smallcnn", 32, 32, "none", 0);
    m = load_graph(g, 0, 1);
    sialo_graph_free(g);
    if (m) {
        float x2[32 * 32 * 3] = {0};
        CHECK(sialo_cam_forward(m, x2, NULL, -1, 0, 0, NULL, &cam) < 0 && strstr(sialo_error(), "global average pool"),
              "no GAP: %s", sialo_error());
        sialo_model_free(m);
    }

    /* turbo: dark blue -> green -> dark red */
    uint8_t c0[3], c5[3], c1[3];
    sialo_colormap_turbo(0.0f, c0);
    sialo_colormap_turbo(0.5f, c5);
    sialo_colormap_turbo(1.0f, c1);
    CHECK(c0[0] < 60 && c0[1] < 60 && c0[2] < 60, "turbo(0) = %d,%d,%d", c0[0], c0[1], c0[2]);
    CHECK(c5[1] > 200 && c5[1] > c5[0] && c5[1] > c5[2], "turbo(0.5) = %d,%d,%d", c5[0], c5[1], c5[2]);
    CHECK(c1[0] > 100 && c1[0] < 160 && c1[1] < 20 && c1[2] < 20, "turbo(1) = %d,%d,%d", c1[0], c1[1], c1[2]);

    /* mask scores on a hand-made map: the peak plateau x = 2..4 is centred at x = 3 */
    float map[8] = {0, 0.5f, 1, 1, 1, 0.25f, 0, 0.25f};
    uint8_t mask[8] = {0, 0, 0, 1, 1, 0, 0, 0};
    sialo_cam c = {map, 8, 1, NULL, 0, 0, 0, 1, NULL};
    int hit = -1;
    double e = -1;
    sialo_cam_mask_scores(&c, mask, &hit, &e);
    CHECK(hit == 1 && fabs(e - 0.5) < 1e-9, "pointing %d energy %g, want 1 and 0.5", hit, e);
    uint8_t mask2[8] = {0, 0, 1, 0, 0, 0, 0, 1};
    sialo_cam_mask_scores(&c, mask2, &hit, &e);
    CHECK(hit == 0 && fabs(e - 1.25 / 4.0) < 1e-9, "pointing %d energy %g, want 0 and %g", hit, e, 1.25 / 4.0);
}

int main(void) {
    test_arch("smallcnn", 64, 21, "block4_relu");
    test_arch("mobilenetv2", 96, 21, "out_relu");
    test_arch("resnet50v2", 64, 1, "post_relu");
    test_softmax();
    test_finite_differences();
    test_corner();
    test_errors();
    return test_summary("test_gradcam");
}
