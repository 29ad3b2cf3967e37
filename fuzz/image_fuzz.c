/* image_fuzz.c — libFuzzer target for image decoding and preprocessing (src/io/raster.c, src/io/preprocess.c: PNG,
 * JPEG, BMP, GIF through stb_image behind our header checks, and DICOM): decode, then the
 * antialiased resize + normalisation to a 32x32 input. Seeds: tests/fixtures and the DICOM
 * generator's files (make fuzz-image).
 */
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    sialo_image img;
    if (sialo_image_decode(data, size, &img) < 0) {
        if (!*sialo_error()) abort();
        return 0;
    }
    static float x[32 * 32 * 3];
    const float scale[3] = {1 / 127.5f, 1 / 127.5f, 1 / 127.5f}, bias[3] = {-1, -1, -1};
    if (sialo_resize_rgb(img.rgb, img.w, img.h, 32, 32, scale, bias, x) < 0) abort();
    for (int i = 0; i < 32 * 32 * 3; i++) if (!(x[i] >= -1.001f && x[i] <= 1.001f)) abort();
    sialo_image_free(&img);
    return 0;
}
