/* codec_fuzz.h — the body of the codec fuzz targets (j2k_fuzz.c, jls_fuzz.c, ljpeg_fuzz.c): one
 * compressed frame straight into its decoder (src/io/codecs.h), past the DICOM reader, so every
 * input reaches the library. The input is an 8-byte header, what the data set would declare
 * (columns and rows: u16 little endian, at most 1024; samples 1 or 3; bits allocated 8 or 16;
 * bits stored; pixel representation), then the codestream. Seeds: make_dicom_codecs.py seeds,
 * the frames of the generated files behind their own header. A decoded frame must fill its
 * buffer (ASan checks every byte written); a refusal must say why. */
#include "io/codecs.h"
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int codec_fuzz_one(int codec, const uint8_t *data, size_t size) {
    if (size < 8) return 0;
    sialo_codec_frame want;
    want.columns = 1 + (data[0] | data[1] << 8) % 1024;
    want.rows = 1 + (data[2] | data[3] << 8) % 1024;
    want.samples = data[4] & 1 ? 3 : 1;
    want.bits_allocated = data[5] & 1 ? 16 : 8;
    want.bits_stored = 1 + data[6] % want.bits_allocated;
    want.is_signed = data[7] & 1;
    want.photometric = want.samples == 3 ? (data[7] & 2 ? "YBR_FULL" : "RGB") : "MONOCHROME2";
    size_t n = (size_t)want.columns * want.rows * want.samples * (want.bits_allocated / 8);
    uint8_t *out = malloc(n);
    if (!out) return 0;
    int is_rgb = 0;
    if (sialo_codec_decode(codec, data + 8, size - 8, &want, out, &is_rgb) == 0) {
        volatile uint8_t sink = out[n - 1];
        (void)sink;
    } else if (!*sialo_error()) {
        abort(); /* a refusal must say why */
    }
    free(out);
    return 0;
}
