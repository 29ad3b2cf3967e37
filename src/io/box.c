/* box.c — classify a lesion box: the box, grown by a margin per side and clamped to the frame, is
 * cropped and goes through the same preprocessing as a whole frame (preprocess.c). The one code
 * path of the CLI (classify --box), the JS API (classify(bytes, { box })) and the page. */
#include "engine/runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int sialo_box_region(int fw, int fh, const sialo_box *b, float margin, sialo_box *r) {
    if (!b) return sialo_fail("no box");
    if (b->w <= 0 || b->h <= 0)
        return sialo_fail("the box is %d x %d pixels: a box needs a positive width and height", b->w, b->h);
    if (b->x < 0 || b->y < 0 || (long long)b->x + b->w > fw || (long long)b->y + b->h > fh)
        return sialo_fail("the box (x %d, y %d, %d x %d) does not lie inside the %d x %d frame", b->x, b->y, b->w, b->h, fw, fh);
    if (b->w < SIALO_BOX_MIN || b->h < SIALO_BOX_MIN)
        return sialo_fail("the box is %d x %d pixels: a box must be at least %d pixels on each side", b->w, b->h, SIALO_BOX_MIN);
    if (!(margin >= 0 && margin <= SIALO_BOX_MAX_MARGIN))
        return sialo_fail("the box margin %g is not between 0 and %g (a fraction of the box's side)", margin, SIALO_BOX_MAX_MARGIN);
    /* grown by margin x side, rounded outward (a tiny epsilon so 0.15 x 40 = 6 stays 6), clamped */
    double mx = ceil(margin * b->w - 1e-6), my = ceil(margin * b->h - 1e-6);
    double x0 = b->x - mx, y0 = b->y - my, x1 = (double)b->x + b->w + mx, y1 = (double)b->y + b->h + my;
    if (x0 < 0) x0 = 0;
    if (y0 < 0) y0 = 0;
    if (x1 > fw) x1 = fw;
    if (y1 > fh) y1 = fh;
    r->x = (int)x0; r->y = (int)y0; r->w = (int)(x1 - x0); r->h = (int)(y1 - y0);
    return 0;
}

int sialo_image_crop(const sialo_image *img, const sialo_box *r, sialo_image *out) {
    memset(out, 0, sizeof *out);
    if (!img || !img->rgb) return sialo_fail("no image");
    if (r->x < 0 || r->y < 0 || r->w <= 0 || r->h <= 0 || (long long)r->x + r->w > img->w || (long long)r->y + r->h > img->h)
        return sialo_fail("the region (x %d, y %d, %d x %d) does not lie inside the %d x %d frame", r->x, r->y, r->w, r->h, img->w, img->h);
    out->rgb = malloc((size_t)r->w * r->h * 3);
    if (!out->rgb) return sialo_fail("out of memory");
    for (int y = 0; y < r->h; y++)
        memcpy(out->rgb + (size_t)y * r->w * 3, img->rgb + ((size_t)(r->y + y) * img->w + r->x) * 3, (size_t)r->w * 3);
    out->w = r->w;
    out->h = r->h;
    return 0;
}

int sialo_box_prepare(const sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, sialo_box *region,
                      sialo_image *crop) {
    if (crop) memset(crop, 0, sizeof *crop);
    if (!img || !img->rgb) return sialo_fail("no image");
    sialo_info in;
    sialo_model_info(m, &in);
    if (!(in.input_modes & SIALO_MODE_BOX))
        return sialo_fail("this model was trained on whole frames, not on lesion boxes: it cannot classify a box "
                          "(train one with train --boxes or --boxes-from-masks)");
    sialo_box r;
    if (sialo_box_region(img->w, img->h, box, margin < 0 ? in.box_margin : margin, &r) < 0) return -1;
    if (region) *region = r;
    return crop ? sialo_image_crop(img, &r, crop) : 0;
}

int sialo_classify_image_box(sialo_model *m, const sialo_image *img, const sialo_box *box, float margin, sialo_result *out,
                             sialo_box *region) {
    double t0 = sialo_now_ms();
    memset(out, 0, sizeof *out);
    if (!(m = sialo_box_model(m))) return -1; /* a model that carries one for boxes classifies them with it */
    sialo_image crop;
    if (sialo_box_prepare(m, img, box, margin, region, &crop) < 0) return -1;
    int rc = sialo_classify_image(m, &crop, out);
    sialo_image_free(&crop);
    if (rc == 0) out->ms = sialo_now_ms() - t0;
    return rc;
}
