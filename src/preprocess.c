/* preprocess.c — image bytes to the network's input tensor.
 *
 * 1. Decode from memory with stb_image: PNG, JPEG (baseline and progressive), BMP, GIF (first
 *    frame). Grey, grey+alpha, RGB and RGBA all become RGB (alpha is dropped).
 *    Images over SIALO_MAX_PIXELS or with a side under SIALO_MIN_SIDE are refused, checked from
 *    the header before any pixel is decoded.
 * 2. Resize the whole frame (aspect ratio not kept, as Keras' image_dataset_from_directory does)
 *    to the model's input size with an antialiased bilinear filter: a triangle filter whose
 *    support widens with the reduction factor (as PIL's BILINEAR and tf.image.resize with
 *    antialias=True), separable, in float, pixel centres at (i + 0.5).
 * 3. Normalise per channel: x * norm_scale + norm_bias (Keras ResNetV2 / MobileNetV2: x/127.5 - 1).
 */
#include "runtime.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

/* Walk a JPEG's segments before stb_image sees it: refuse Huffman tables of more than 256
 * symbols (stb_image 2.27 writes past its arrays on those; fixed upstream in 2.28) and files
 * that end before the end-of-image marker; report the frame size from the SOF segment. */
static int jpeg_check(const uint8_t *p, size_t n, int *w, int *h) {
    size_t pos = 2;
    while (pos + 2 <= n) {
        if (p[pos] != 0xFF) { pos++; continue; }           /* tolerate stray bytes between segments */
        int m = p[pos + 1];
        pos += 2;
        if (m == 0xFF) { pos--; continue; }                  /* fill byte */
        if (m == 0xD9) return 0;                            /* end of image */
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00) continue;
        if (pos + 2 > n) break;
        size_t len = (size_t)p[pos] << 8 | p[pos + 1];
        if (len < 2 || pos + len > n) break;
        const uint8_t *seg = p + pos + 2;
        size_t seglen = len - 2;
        if (m == 0xC4) {
            for (size_t q = 0; q < seglen;) {
                if (q + 17 > seglen) return sialo_fail("cannot read the image: corrupt JPEG (bad Huffman table)");
                size_t total = 0;
                for (int k = 1; k <= 16; k++) total += seg[q + k];
                if (total > 256 || q + 17 + total > seglen) return sialo_fail("cannot read the image: corrupt JPEG (bad Huffman table)");
                q += 17 + total;
            }
        } else if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && seglen >= 5) {
            *h = seg[1] << 8 | seg[2];
            *w = seg[3] << 8 | seg[4];
            if ((uint64_t)*w * (uint64_t)*h > SIALO_MAX_PIXELS)
                return sialo_fail("the image is %dx%d pixels, more than the %u megapixel limit", *w, *h, SIALO_MAX_PIXELS >> 20);
        }
        pos += len;
        if (m == 0xDA) /* entropy-coded data runs to the next marker */
            while (pos + 1 < n && !(p[pos] == 0xFF && p[pos + 1] != 0 && !(p[pos + 1] >= 0xD0 && p[pos + 1] <= 0xD7))) pos++;
    }
    return sialo_fail("cannot read the image: the JPEG file is truncated (no end-of-image marker)");
}

/* the frame size from the header, before any decoding (0 x 0 if the format is not known here) */
static int peek_size(const uint8_t *p, size_t n, int *w, int *h) {
    *w = *h = 0;
    if (n >= 24 && !memcmp(p, "\x89PNG\r\n\x1a\n", 8) && !memcmp(p + 12, "IHDR", 4)) {
        uint32_t pw = (uint32_t)p[16] << 24 | (uint32_t)p[17] << 16 | (uint32_t)p[18] << 8 | p[19];
        uint32_t ph = (uint32_t)p[20] << 24 | (uint32_t)p[21] << 16 | (uint32_t)p[22] << 8 | p[23];
        *w = pw > 0x7FFFFFFF ? 0x7FFFFFFF : (int)pw;
        *h = ph > 0x7FFFFFFF ? 0x7FFFFFFF : (int)ph;
        /* an empty first IDAT chunk makes stb_image 2.27 offset a null pointer (UB; found by fuzz/image_fuzz.c) */
        for (size_t pos = 8; pos + 8 <= n;) {
            uint32_t len = (uint32_t)p[pos] << 24 | (uint32_t)p[pos + 1] << 16 | (uint32_t)p[pos + 2] << 8 | p[pos + 3];
            if (!memcmp(p + pos + 4, "IDAT", 4)) {
                if (len == 0) return sialo_fail("cannot read the image: corrupt PNG (an empty IDAT chunk)");
                break;
            }
            if (len > n - pos - 8) break;
            pos += 12 + (size_t)len;
        }
    } else if (n >= 3 && p[0] == 0xFF && (p[1] == 0xD8 || p[1] == 0xFF)) {
        size_t s = 1; /* stb_image skips fill bytes (0xFF) before the start-of-image marker: so do we */
        while (s < n && p[s] == 0xFF) s++;
        if (s + 1 < n && p[s] == 0xD8 && p[s + 1] == 0xFF) return jpeg_check(p + s - 1, n - s + 1, w, h);
    } else if (n >= 10 && !memcmp(p, "GIF8", 4)) {
        *w = p[6] | p[7] << 8;
        *h = p[8] | p[9] << 8;
    } else if (n >= 26 && p[0] == 'B' && p[1] == 'M') {
        int32_t bw = (int32_t)((uint32_t)p[18] | (uint32_t)p[19] << 8 | (uint32_t)p[20] << 16 | (uint32_t)p[21] << 24);
        int32_t bh = (int32_t)((uint32_t)p[22] | (uint32_t)p[23] << 8 | (uint32_t)p[24] << 16 | (uint32_t)p[25] << 24);
        *w = bw < 0 ? (bw == INT32_MIN ? INT32_MAX : -bw) : bw;
        *h = bh < 0 ? (bh == INT32_MIN ? INT32_MAX : -bh) : bh;
    }
    return 0;
}

int sialo_image_decode(const void *data, size_t size, sialo_image *out) {
    memset(out, 0, sizeof *out);
    if (!data || size == 0) return sialo_fail("the image is empty (0 bytes)");
    if (size > (size_t)INT32_MAX) return sialo_fail("the image file is larger than 2 GB");
    if (sialo_is_dicom(data, size)) return sialo_dicom_decode(data, size, 0, 0, out); /* dicom.c */
    int w, h, comp;
    if (peek_size(data, size, &w, &h) < 0) return -1;
    if ((uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS)
        return sialo_fail("the image is %dx%d pixels, more than the %u megapixel limit", w, h, SIALO_MAX_PIXELS >> 20);
    if (!stbi_info_from_memory(data, (int)size, &w, &h, &comp)) {
        const char *why = stbi_failure_reason();
        if (!why || !strcmp(why, "unknown image type"))
            return sialo_fail("cannot read the image: not a PNG, JPEG, BMP or GIF file");
        return sialo_fail("cannot read the image: %s", why);
    }
    if ((uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS)
        return sialo_fail("the image is %dx%d pixels, more than the %u megapixel limit", w, h, SIALO_MAX_PIXELS >> 20);
    if (w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE)
        return sialo_fail("the image is %dx%d pixels; at least %dx%d is needed", w, h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    uint8_t *px = stbi_load_from_memory(data, (int)size, &w, &h, &comp, 3);
    if (!px) return sialo_fail("cannot decode the image: %s", stbi_failure_reason() ? stbi_failure_reason() : "corrupt data");
    out->rgb = px;
    out->w = w;
    out->h = h;
    return 0;
}

void sialo_image_free(sialo_image *img) {
    if (img && img->rgb) stbi_image_free(img->rgb);
    if (img) { img->rgb = NULL; img->w = img->h = 0; }
}

/* weights of a 1-D antialiased bilinear resample from n_in to n_out samples */
typedef struct {
    int *start, *len;
    float *w;   /* n_out * max_len */
    int max_len;
} resample;

static int resample_init(resample *r, int n_in, int n_out) {
    double scale = (double)n_in / n_out, fs = scale > 1.0 ? scale : 1.0;
    r->max_len = (int)ceil(fs) * 2 + 2;
    r->start = malloc((size_t)n_out * sizeof(int));
    r->len = malloc((size_t)n_out * sizeof(int));
    r->w = calloc((size_t)n_out * r->max_len, sizeof(float));
    if (!r->start || !r->len || !r->w) return sialo_fail("out of memory resizing");
    for (int o = 0; o < n_out; o++) {
        double center = (o + 0.5) * scale;
        int lo = (int)floor(center - fs), hi = (int)ceil(center + fs);
        if (lo < 0) lo = 0;
        if (hi > n_in) hi = n_in;
        if (hi - lo > r->max_len) hi = lo + r->max_len;
        double sum = 0;
        float *w = r->w + (size_t)o * r->max_len;
        for (int i = lo; i < hi; i++) {
            double t = fabs((i + 0.5 - center) / fs);
            w[i - lo] = (float)(t < 1.0 ? 1.0 - t : 0.0);
            sum += w[i - lo];
        }
        if (sum <= 0) { /* cannot happen for n_in >= 1, but never divide by zero */
            int i = (int)center < n_in ? (int)center : n_in - 1;
            lo = i; hi = i + 1; w[0] = 1.0f; sum = 1.0;
        }
        for (int i = 0; i < hi - lo; i++) w[i] = (float)(w[i] / sum);
        r->start[o] = lo;
        r->len[o] = hi - lo;
    }
    return 0;
}

static void resample_free(resample *r) { free(r->start); free(r->len); free(r->w); }

int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst) {
    resample rx = {0}, ry = {0};
    float *tmp = malloc((size_t)sh * dw * 3 * sizeof(float));
    int rc = -1;
    if (!tmp) { sialo_fail("out of memory resizing"); goto out; }
    if (resample_init(&rx, sw, dw) < 0 || resample_init(&ry, sh, dh) < 0) goto out;
    for (int y = 0; y < sh; y++) {
        const uint8_t *row = src + (size_t)y * sw * 3;
        float *trow = tmp + (size_t)y * dw * 3;
        for (int x = 0; x < dw; x++) {
            const float *w = rx.w + (size_t)x * rx.max_len;
            float a0 = 0, a1 = 0, a2 = 0;
            for (int k = 0; k < rx.len[x]; k++) {
                const uint8_t *p = row + (size_t)(rx.start[x] + k) * 3;
                a0 += w[k] * p[0]; a1 += w[k] * p[1]; a2 += w[k] * p[2];
            }
            trow[3 * x] = a0; trow[3 * x + 1] = a1; trow[3 * x + 2] = a2;
        }
    }
    for (int y = 0; y < dh; y++) {
        const float *w = ry.w + (size_t)y * ry.max_len;
        float *drow = dst + (size_t)y * dw * 3;
        for (int i = 0; i < dw * 3; i++) drow[i] = 0;
        for (int k = 0; k < ry.len[y]; k++) {
            const float *trow = tmp + (size_t)(ry.start[y] + k) * dw * 3;
            for (int i = 0; i < dw * 3; i++) drow[i] += w[k] * trow[i];
        }
        for (int x = 0; x < dw; x++)
            for (int c = 0; c < 3; c++) drow[3 * x + c] = drow[3 * x + c] * scale[c] + bias[c];
    }
    rc = 0;
out:
    resample_free(&rx);
    resample_free(&ry);
    free(tmp);
    return rc;
}

int sialo_preprocess(const sialo_model *m, const sialo_image *img, float *dst) {
    if (!img || !img->rgb) return sialo_fail("no image");
    const sialo_graph *g = m->g;
    return sialo_resize_rgb(img->rgb, img->w, img->h, g->in_w, g->in_h, g->norm_scale, g->norm_bias, dst);
}
