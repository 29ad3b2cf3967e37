/* raster.c — PNG, JPEG (baseline and progressive), BMP and GIF (first frame) from memory to RGB,
 * with stb_image. Grey, grey+alpha, RGB and RGBA all become RGB (alpha is dropped); 16-bit samples
 * are rounded to 8 bits. The file's structure is checked first (image_check.c: PNG chunks and
 * checksums, JPEG segments, BMP / GIF headers, the size limits SIALO_MIN_SIDE and
 * SIALO_MAX_PIXELS), and every refusal is a sentence of image_errors.c. Knows nothing of DICOM
 * (decode.c dispatches). */
#include "io/image.h"
#include "io/io.h"

#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

/* stb_image's pixels, 3 bytes per pixel; a 16-bit PNG is read at 16 bits and rounded here,
 * (v * 255 + 32767) / 65535 as reference decoders do (stb_image would drop the low byte) */
static uint8_t *decode_rgb(const uint8_t *p, size_t n, int bit_depth, int *w, int *h) {
    int comp;
    if (bit_depth != 16) return stbi_load_from_memory(p, (int)n, w, h, &comp, 3);
    uint16_t *v = stbi_load_16_from_memory(p, (int)n, w, h, &comp, 3);
    if (!v) return NULL;
    uint8_t *u = (uint8_t *)v; /* in place: byte i is written after sample i was read */
    for (size_t i = 0, k = (size_t)*w * *h * 3; i < k; i++) u[i] = (uint8_t)(((uint32_t)v[i] * 255u + 32767u) / 65535u);
    return u;
}

int sialo_raster_decode(const void *data, size_t size, sialo_image *out) {
    memset(out, 0, sizeof *out);
    if (!data || size == 0) return image_fail(IMG_EMPTY);
    if (size > (size_t)INT32_MAX) return image_fail(IMG_FILE_TOO_BIG);
    image_format fmt;
    int w, h, depth;
    if (sialo_image_check(data, size, &fmt, &w, &h, &depth) < 0) return -1;
    sialo_stbi_clear_failure();
    uint8_t *px = decode_rgb(data, size, depth, &w, &h);
    if (!px) return sialo_image_decoder_fail(fmt, stbi_failure_reason());
    if ((uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS || w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE) { /* the header said otherwise */
        stbi_image_free(px);
        return (uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS ? image_fail(IMG_TOO_MANY_PIXELS, w, h, SIALO_MAX_PIXELS >> 20)
                                                            : image_fail(IMG_TOO_SMALL, w, h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    }
    out->rgb = px;
    out->w = w;
    out->h = h;
    return 0;
}

int sialo_raster_decode_jpeg_samples(const void *data, size_t size, sialo_image *out) {
    memset(out, 0, sizeof *out);
    if (!data || size == 0) return image_fail(IMG_EMPTY);
    if (size > (size_t)INT32_MAX) return image_fail(IMG_FILE_TOO_BIG);
    image_format fmt;
    int w, h, depth;
    if (sialo_image_check(data, size, &fmt, &w, &h, &depth) < 0) return -1;
    if (fmt != IMG_FMT_JPEG) return image_fail(IMG_UNKNOWN_FORMAT);
    sialo_stbi_clear_failure();
    uint8_t *px = sialo_stbi_jpeg_samples(data, (int)size, &w, &h);
    if (!px) return sialo_image_decoder_fail(fmt, stbi_failure_reason());
    if ((uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS || w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE) {
        stbi_image_free(px);
        return (uint64_t)w * (uint64_t)h > SIALO_MAX_PIXELS ? image_fail(IMG_TOO_MANY_PIXELS, w, h, SIALO_MAX_PIXELS >> 20)
                                                            : image_fail(IMG_TOO_SMALL, w, h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    }
    out->rgb = px;
    out->w = w;
    out->h = h;
    return 0;
}

void sialo_image_free(sialo_image *img) {
    if (img && img->rgb) stbi_image_free(img->rgb); /* stb_image's allocator is malloc: DICOM frames are freed here too */
    if (img) { img->rgb = NULL; img->w = img->h = 0; }
}
