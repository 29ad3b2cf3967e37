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
 * 4. A bundle (section "box-model"): a whole-frame model carrying another network trained for boxes.
 *    A whole frame gives the whole-frame file's p, a box the box file's p and Grad-CAM (bit for bit),
 *    each with its own threshold; the bundle survives read / write byte for byte; refused with a
 *    sentence: a box model not trained for boxes, a box model inside the box model, whole-frame
 *    networks that claim boxes as well, other classes, a damaged nested file, training it.
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

static uint8_t *write_or_null(const sialo_graph *g, size_t *n) {
    uint8_t *b = NULL;
    if (sialo_graph_write(g, 32, &b, n) < 0) return NULL;
    return b;
}

/* 4. a whole-frame model with a box model inside */
static void bundle_tests(const sialo_image *img) {
    sialo_graph *w = small(7), *bx = small(11);
    w->threshold = 0.4f;
    bx->input_modes = SIALO_MODE_BOX;
    bx->box_margin = 0.2f;
    bx->threshold = 0.6f;
    bx->calib_a = 0.8f;
    bx->calib_b = -0.3f;
    size_t wn, bn, un;
    uint8_t *wb = write_or_null(w, &wn), *bb = write_or_null(bx, &bn);
    w->box_graph = bx;
    uint8_t *ub = write_or_null(w, &un);
    CHECK(wb && bb && ub && ub[8] == 4, "bundle written: %s", sialo_error());
    if (!wb || !bb || !ub) return;
    sialo_model *mw = sialo_model_load(wb, wn, NULL), *mbx = sialo_model_load(bb, bn, NULL), *mu = sialo_model_load(ub, un, NULL);
    CHECK(mw && mbx && mu, "bundle loaded: %s", sialo_error());
    if (mw && mbx && mu) {
        sialo_info iu;
        sialo_model_info(mu, &iu);
        CHECK(iu.input_modes == (SIALO_MODE_WHOLE | SIALO_MODE_BOX) && iu.box_margin == 0.2f && iu.threshold == 0.4f,
              "bundle info: modes %d, margin %g, threshold %g", iu.input_modes, iu.box_margin, iu.threshold);
        char *js = sialo_model_info_json(mu);
        CHECK(js && strstr(js, "\"input_modes\":\"both\"") && strstr(js, "\"box_model\":{\"members\":1,\"threshold\":0.6"), "bundle json: %s",
              js ? js : "(null)");
        free(js);
        sialo_result a, b, c, d, e;
        sialo_box box = {40, 30, 30, 20}, ra, rb;
        CHECK(sialo_classify_image(mu, img, &a) == 0 && sialo_classify_image(mw, img, &b) == 0 && a.p_positive == b.p_positive &&
                  a.threshold == 0.4f, "bundle, whole frame: p %.7f (whole-frame file %.7f), threshold %g", a.p_positive, b.p_positive, a.threshold);
        CHECK(sialo_classify_image_box(mu, img, &box, -1.0f, &c, &ra) == 0 && sialo_classify_image_box(mbx, img, &box, -1.0f, &d, &rb) == 0 &&
                  c.p_positive == d.p_positive && c.threshold == 0.6f && ra.w == rb.w && ra.x == rb.x,
              "bundle, box: p %.7f (box file %.7f), threshold %g: %s", c.p_positive, d.p_positive, c.threshold, sialo_error());
        CHECK(c.p_positive != a.p_positive, "the box and the whole frame come from different networks (%.7f, %.7f)", c.p_positive, a.p_positive);
        sialo_cam cu, cb;
        CHECK(sialo_classify_image_box_cam(mu, img, &box, -1.0f, NULL, -1, &e, &cu, NULL) == 0 &&
                  sialo_classify_image_box_cam(mbx, img, &box, -1.0f, NULL, -1, &d, &cb, NULL) == 0 && e.p_positive == d.p_positive &&
                  cu.w == cb.w && cu.h == cb.h && !memcmp(cu.map, cb.map, (size_t)cu.w * cu.h * sizeof *cu.map),
              "bundle, box Grad-CAM: the box file's map and p: %s", sialo_error());
        sialo_cam_free(&cu);
        sialo_cam_free(&cb);
        /* read, written again: the same bytes */
        sialo_graph *rg = sialo_graph_read_any(ub, un);
        size_t rn = 0;
        uint8_t *rb2 = rg ? write_or_null(rg, &rn) : NULL;
        CHECK(rb2 && rn == un && !memcmp(rb2, ub, un), "bundle read and written again: %zu bytes, %zu before", rn, un);
        free(rb2);
        sialo_graph_free(rg);
        sialo_options topt = {0};
        topt.training = 1;
        sialo_model *mt = sialo_model_load(ub, un, &topt);
        CHECK(!mt && strstr(sialo_error(), "cannot be trained"), "training a bundle refused: %s", sialo_error());
        sialo_model_free(mt);
    }
    sialo_model_free(mw);
    sialo_model_free(mbx);
    sialo_model_free(mu);
    /* refusals on writing */
    size_t n;
    uint8_t *x;
    bx->input_modes = SIALO_MODE_WHOLE;
    x = write_or_null(w, &n);
    CHECK(!x && strstr(sialo_error(), "trained for boxes"), "a box model of whole frames refused: %s", sialo_error());
    free(x);
    bx->input_modes = SIALO_MODE_BOX;
    w->input_modes = SIALO_MODE_WHOLE | SIALO_MODE_BOX;
    x = write_or_null(w, &n);
    CHECK(!x && strstr(sialo_error(), "whole-frame model"), "whole-frame networks that claim boxes refused: %s", sialo_error());
    free(x);
    w->input_modes = SIALO_MODE_WHOLE;
    /* refusals on reading: a damaged nested file (one byte of its payload), other classes */
    size_t at = 0;
    for (size_t i = 32; i + 9 < un; i++) if (!memcmp(ub + i, "box-model", 9)) { at = i + 9 + 4 + 8; break; }
    CHECK(at && !memcmp(ub + at, "SIALOSCN", 8), "the nested file found");
    if (at) { /* a weight of the nested file (its last bytes), the outer checksum made good: the whole frame still
                 works; the box networks, read when the first box comes, are refused, then and every time after */
        uint64_t nsz = 0;
        for (int k = 0; k < 8; k++) nsz |= (uint64_t)ub[at - 8 + k] << (8 * k);
        CHECK(nsz > 64 && at + nsz <= un, "the nested file's size %llu", (unsigned long long)nsz);
        ub[at + nsz - 8] ^= 0x55;
        uint32_t crc = sialo_crc32(ub + 32, un - 32);
        for (int k = 0; k < 4; k++) ub[24 + k] = (uint8_t)(crc >> (8 * k));
        sialo_model *dm = sialo_model_load(ub, un, NULL);
        sialo_result r;
        sialo_box box = {40, 30, 30, 20};
        CHECK(dm && sialo_classify_image(dm, img, &r) == 0, "damaged nested file: the whole frame classified: %s", sialo_error());
        if (dm) {
            int rc = sialo_classify_image_box(dm, img, &box, -1.0f, &r, NULL);
            CHECK(rc < 0 && strstr(sialo_error(), "box networks could not be loaded") && strstr(sialo_error(), "checksum"),
                  "damaged nested file, a box: %s", sialo_error());
            rc = sialo_classify_image_box(dm, img, &box, -1.0f, &r, NULL);
            CHECK(rc < 0 && strstr(sialo_error(), "box networks could not be loaded"), "damaged nested file, a second box: %s", sialo_error());
        }
        sialo_model_free(dm);
        /* the nested file's own version announced as 9: refused when the file is read */
        ub[at + 8] = 9;
        crc = sialo_crc32(ub + 32, un - 32);
        for (int k = 0; k < 4; k++) ub[24 + k] = (uint8_t)(crc >> (8 * k));
        sialo_model *bad = sialo_model_load(ub, un, NULL);
        CHECK(!bad && strstr(sialo_error(), "the box model inside the file") && strstr(sialo_error(), "version 9"), "nested version 9: %s",
              sialo_error());
        sialo_model_free(bad);
    }
    static const char *const other[2] = {"normal", "abnormal"};
    CHECK(sialo_graph_set_classes(bx, 2, other) == 0, "classes set");
    size_t on;
    uint8_t *ob = write_or_null(w, &on);
    sialo_model *bad = ob ? sialo_model_load(ob, on, NULL) : NULL;
    CHECK(ob && !bad && strstr(sialo_error(), "other outputs or classes"), "a box model of other classes refused: %s", sialo_error());
    sialo_model_free(bad);
    free(ob);
    sialo_graph_free(w); /* frees bx */
    free(wb);
    free(bb);
    free(ub);
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
    bundle_tests(&img);
    sialo_model_free(mp);
    sialo_model_free(mb);
    free(plain);
    free(boxed);
    free(img.rgb);
    return test_summary("test_box");
}
