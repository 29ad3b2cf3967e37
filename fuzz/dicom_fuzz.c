/* dicom_fuzz.c — libFuzzer target for the DICOM reader (src/io/dicom.c).
 *
 * Each input goes through every entry point a caller has: the metadata and its JSON, the frame
 * count, and the decode of the first frames (with and without the ultrasound-region crop).
 * Inputs without the DICM marker are skipped (the image decoders have their own target).
 * Build and run: make fuzz (clang -fsanitize=fuzzer,address,undefined; seeds from
 * tests/tools/make_dicom.py).
 */
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!sialo_is_dicom(data, size)) return 0;
    sialo_dicom_info in;
    if (sialo_dicom_read_info(data, size, &in) == 0) {
        char *js = sialo_dicom_info_json(&in);
        if (!js) abort();
        free(js);
    } else if (!*sialo_error()) {
        abort(); /* a refusal must say why */
    }
    int n = sialo_image_frames(data, size);
    for (int k = 0; k < n && k < 3; k++) {
        sialo_image img;
        if (sialo_image_decode_frame(data, size, k, k == 1, &img) == 0) {
            if (!img.rgb || img.w < SIALO_MIN_SIDE || img.h < SIALO_MIN_SIDE) abort();
            volatile uint8_t sink = img.rgb[(size_t)img.w * img.h * 3 - 1]; /* the last byte is there */
            (void)sink;
            sialo_image_free(&img);
        } else if (!*sialo_error()) {
            abort();
        }
    }
    return 0;
}
