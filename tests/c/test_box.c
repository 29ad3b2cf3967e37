/* test_box.c — classifying a lesion box (src/io/box.c; model file section "input-modes").
 *
 * The reference: the region computed here by hand (the box grown by ceil(margin x side) per side,
 * clamped to the frame), its pixels copied by a naive loop into a new image, and that image
 * classified as a whole frame; the box path must give the same p (1e-5) and a Grad-CAM map of the
 * region's size.
 * 1. A box inside the frame, a box at the frame's corner (the margin clamped), margin 0 and the
 *    model's own margin (-1).
 * 2. The modes and margin survive save / load (version 4 with only that section); a file without
 *    the section (version 2) is a whole-frame model.
 * 3. Refusals with a sentence: outside the frame, zero or negative size, smaller than 8 px, a margin
 *    out of range, a whole-frame-only model.
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "engine/graph.h"
#include "engine/runtime.h"
#include "base/base.h"
#include "sialoscan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIDE 32
static uint64_t rng = 0xB0C5EEDull;

static sialo_graph *small(uint64_t seed) {
    sialo_graph *g = sialo_graph_new("small", SIDE, SIDE, 3);
    static const char *const names[2] = {"benign", "malignant"};
    int x = gb_conv(g, "c1", 0, 3, 3, 2, PAD_SAME, 1, 12, 1, ACT_RELU);
    x = x < 0 ? x : gb_conv(g, "c2", x, 3, 3, 2, PAD_SAME, 1, 24, 1, ACT_RELU);
    x = x < 0 ? x : gb_simple(g, OP_GAP, "pool", x);
    x = x < 0 ? x : gb_dense(g, "dense", x, 1, 1, ACT_NONE);
    x = x < 0 ? x : gb_simple(g, OP_SIGMOID, "out", x);
    g->n_classes = 1;
    CHECK(x > 0 && sialo_graph_set_classes(g, 2, names) == 0 && sialo_graph_infer_shapes(g) == 0, "small: %s", sialo_error());
    sialo_graph_randomize(g, seed);
    return g;
}

/* the reference region: by hand */
static void ref_region(int W, int H, int x, int y, int w, int h, double margin, int r[4]) {
    int mx = (int)ceil(margin * w - 1e-6), my = (int)ceil(margin * h - 1e-6);
    int x0 = x - mx, y0 = y - my, x1 = x + w + mx, y1 = y + h + my;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > W) x1 = W;
    if (y1 > H) y1 = H;
    r[0] = x0; r[1] = y0; r[2] = x1 - x0; r[3] = y1 - y0;
}

static void check_box(sialo_model *m, const sialo_image *img, sialo_box b, float margin, double model_margin, const char *what) {
    int r[4];
    ref_region(img->w, img->h, b.x, b.y, b.w, b.h, margin < 0 ? model_margin : margin, r);
    sialo_image crop = {malloc((size_t)r[2] * r[3] * 3), r[2], r[3]};
    for (int y = 0; y < r[3]; y++)
        for (int x = 0; x < r[2]; x++)
            for (int c = 0; c < 3; c++) crop.rgb[((size_t)y * r[2] + x) * 3 + c] = img->rgb[((size_t)(r[1] + y) * img->w + r[0] + x) * 3 + c];
    sialo_result ref, got, gotc;
    sialo_box reg = {0}, regc = {0};
    sialo_cam cam;
    CHECK(sialo_classify_image(m, &crop, &ref) == 0, "%s: reference: %s", what, sialo_error());
    CHECK(sialo_classify_image_box(m, img, &b, margin, &got, &reg) == 0, "%s: box: %s", what, sialo_error());
    CHECK(reg.x == r[0] && reg.y == r[1] && reg.w == r[2] && reg.h == r[3], "%s: region %d,%d %dx%d, expected %d,%d %dx%d", what, reg.x,
          reg.y, reg.w, reg.h, r[0], r[1], r[2], r[3]);
    CHECK(fabsf(got.p_positive - ref.p_positive) <= 1e-5f, "%s: p %.7f, cropped first %.7f", what, got.p_positive, ref.p_positive);
    CHECK(sialo_classify_image_box_cam(m, img, &b, margin, NULL, -1, &gotc, &cam, &regc) == 0, "%s: box cam: %s", what, sialo_error());
    CHECK(fabsf(gotc.p_positive - ref.p_positive) <= 1e-5f, "%s: p with Grad-CAM %.7f, cropped first %.7f", what, gotc.p_positive, ref.p_positive);
    CHECK(cam.w == r[2] && cam.h == r[3], "%s: the map is %dx%d, the region %dx%d", what, cam.w, cam.h, r[2], r[3]);
    sialo_cam_free(&cam);
    free(crop.rgb);
}

static void refused(sialo_model *m, const sialo_image *img, sialo_box b, float margin, const char *words, const char *what) {
    sialo_result r;
    sialo_cam cam;
    int rc = sialo_classify_image_box(m, img, &b, margin, &r, NULL);
    CHECK(rc < 0 && strstr(sialo_error(), words), "%s: rc %d, '%s' (expected '%s')", what, rc, sialo_error(), words);
    rc = sialo_classify_image_box_cam(m, img, &b, margin, NULL, -1, &r, &cam, NULL);
    CHECK(rc < 0 && strstr(sialo_error(), words) && !cam.map, "%s (Grad-CAM): rc %d, '%s'", what, rc, sialo_error());
}

int main(void) {
    sialo_image img = {malloc(100 * 80 * 3), 100, 80};
    for (int i = 0; i < 100 * 80 * 3; i++) img.rgb[i] = (uint8_t)(xorshift_next(&rng) >> 24);
    for (int y = 30; y < 50; y++) for (int x = 40; x < 70; x++) img.rgb[(y * 100 + x) * 3] = 250; /* a "lesion" */

    /* 2. the modes survive save / load; an older file is whole-frame */
    sialo_graph *g = small(7);
    uint8_t *plain, *boxed;
    size_t plain_n, boxed_n;
    CHECK(sialo_graph_write(g, 32, &plain, &plain_n) == 0, "write: %s", sialo_error());
    g->input_modes = SIALO_MODE_WHOLE | SIALO_MODE_BOX;
    g->box_margin = 0.15f;
    CHECK(sialo_graph_write(g, 32, &boxed, &boxed_n) == 0, "write boxed: %s", sialo_error());
    sialo_graph_free(g);
    CHECK(plain[8] == 2 && boxed[8] == 4, "versions %d (plain, expected 2) and %d (boxed, expected 4)", plain[8], boxed[8]);
    sialo_model *mp = sialo_model_load(plain, plain_n, NULL), *mb = sialo_model_load(boxed, boxed_n, NULL);
    CHECK(mp && mb, "load: %s", sialo_error());
    if (!mp || !mb) return test_summary("test_box");
    sialo_info ip, ib;
    sialo_model_info(mp, &ip);
    sialo_model_info(mb, &ib);
    CHECK(ip.input_modes == SIALO_MODE_WHOLE, "a file without the section: modes %d", ip.input_modes);
    CHECK(ib.input_modes == 3 && ib.box_margin == 0.15f, "modes %d margin %g after save / load", ib.input_modes, ib.box_margin);
    char *js = sialo_model_info_json(mb);
    CHECK(js && strstr(js, "\"input_modes\":\"both\"") && strstr(js, "\"box_margin\":0.15"), "info json: %s", js ? js : "(null)");
    free(js);
    /* the whole frame gives the same p from both files (the networks are the same) */
    sialo_result a, b;
    CHECK(sialo_classify_image(mp, &img, &a) == 0 && sialo_classify_image(mb, &img, &b) == 0 && a.p_positive == b.p_positive,
          "whole frame p %.7f vs %.7f", a.p_positive, b.p_positive);

    /* 1. boxes */
    check_box(mb, &img, (sialo_box){40, 30, 30, 20}, 0.15f, 0.15, "inside, margin 0.15");
    check_box(mb, &img, (sialo_box){40, 30, 30, 20}, -1.0f, 0.15, "inside, the model's margin");
    check_box(mb, &img, (sialo_box){40, 30, 30, 20}, 0.0f, 0.15, "inside, margin 0");
    check_box(mb, &img, (sialo_box){0, 0, 25, 9}, 0.3f, 0.15, "at the corner (clamped)");
    check_box(mb, &img, (sialo_box){60, 50, 40, 30}, 0.3f, 0.15, "at the far corner (clamped)");
    check_box(mb, &img, (sialo_box){0, 0, 100, 80}, 0.3f, 0.15, "the whole frame");
    check_box(mb, &img, (sialo_box){10, 10, 8, 8}, 0.3f, 0.15, "the smallest box");

    /* 3. refusals */
    refused(mb, &img, (sialo_box){-1, 10, 20, 20}, 0.15f, "does not lie inside", "left of the frame");
    refused(mb, &img, (sialo_box){90, 10, 20, 20}, 0.15f, "does not lie inside", "past the right edge");
    refused(mb, &img, (sialo_box){10, 70, 20, 20}, 0.15f, "does not lie inside", "past the bottom");
    refused(mb, &img, (sialo_box){200, 200, 20, 20}, 0.15f, "does not lie inside", "far outside");
    refused(mb, &img, (sialo_box){10, 10, 0, 20}, 0.15f, "positive width and height", "zero width");
    refused(mb, &img, (sialo_box){10, 10, 20, -5}, 0.15f, "positive width and height", "negative height");
    refused(mb, &img, (sialo_box){10, 10, 7, 20}, 0.15f, "at least 8 pixels", "7 px wide");
    refused(mb, &img, (sialo_box){10, 10, 20, 7}, 0.15f, "at least 8 pixels", "7 px high");
    refused(mb, &img, (sialo_box){10, 10, 20, 20}, 2.5f, "margin", "margin too large");
    refused(mb, &img, (sialo_box){10, 10, 20, 20}, NAN, "margin", "margin NaN");
    refused(mp, &img, (sialo_box){10, 10, 20, 20}, 0.15f, "trained on whole frames", "a whole-frame model");

    /* a corrupt section: modes 7 */
    size_t at = 0;
    for (size_t i = 32; i + 11 < boxed_n; i++) if (!memcmp(boxed + i, "input-modes", 11)) { at = i + 11 + 4 + 8; break; }
    CHECK(at && boxed[at] == 3, "the section's modes found");
    if (at) {
        boxed[at] = 7;
        uint32_t crc = sialo_crc32(boxed + 32, boxed_n - 32);
        for (int k = 0; k < 4; k++) boxed[24 + k] = (uint8_t)(crc >> (8 * k));
        sialo_model *bad = sialo_model_load(boxed, boxed_n, NULL);
        CHECK(!bad && strstr(sialo_error(), "input modes"), "modes 7 refused: %s", sialo_error());
        sialo_model_free(bad);
    }
    sialo_model_free(mp);
    sialo_model_free(mb);
    free(plain);
    free(boxed);
    free(img.rgb);
    return test_summary("test_box");
}
