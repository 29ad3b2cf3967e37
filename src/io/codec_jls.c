/* codec_jls.c — JPEG-LS frames (…4.80 lossless, …4.81 near-lossless), decoded by CharLS 2.4 through
 * its C API. The frame header is read first and checked against the data set (size, components,
 * bits) before any pixel buffer is allocated; CharLS validates the rest (preset coding
 * parameters, markers, the scan) and its error message becomes the sentence. Colour: a CharLS
 * colour transformation (HP1-3, its APP8 marker) is undone by CharLS -> RGB; otherwise the
 * samples are as stored, RGB unless the data set says YBR_FULL, as dcmtk decides. */
#include "base/base.h"
#include "io/codecs.h"

#include <charls/charls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sialo_jls_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb) {
    charls_jpegls_decoder *dec = charls_jpegls_decoder_create();
    if (!dec) return sialo_fail("out of memory");
    uint8_t *tmp = NULL;
    int rc = -1;
    charls_jpegls_errc e = charls_jpegls_decoder_set_source_buffer(dec, data, size);
    if (!e) e = charls_jpegls_decoder_read_header(dec);
    if (e) { sialo_fail("the JPEG-LS header cannot be read (%s)", charls_get_error_message(e)); goto done; }
    charls_frame_info fi;
    charls_interleave_mode im;
    charls_color_transformation ct;
    if ((e = charls_jpegls_decoder_get_frame_info(dec, &fi)) || (e = charls_jpegls_decoder_get_interleave_mode(dec, &im)) ||
        (e = charls_jpegls_decoder_get_color_transformation(dec, &ct))) {
        sialo_fail("the JPEG-LS header cannot be read (%s)", charls_get_error_message(e));
        goto done;
    }
    if (sialo_codec_check("JPEG-LS", (int)fi.width, (int)fi.height, fi.component_count, fi.bits_per_sample, want) < 0) goto done;
    size_t need;
    if ((e = charls_jpegls_decoder_get_destination_size(dec, 0, &need))) { sialo_fail("the JPEG-LS frame is too large (%s)", charls_get_error_message(e)); goto done; }
    int in_bytes = fi.bits_per_sample > 8 ? 2 : 1, nc = fi.component_count, bytes = want->bits_allocated / 8;
    size_t np = (size_t)fi.width * fi.height;
    if (need != np * nc * in_bytes) { sialo_fail("the JPEG-LS frame size is inconsistent"); goto done; }
    tmp = malloc(need);
    if (!tmp) { sialo_fail("out of memory"); goto done; }
    if ((e = charls_jpegls_decoder_decode_to_buffer(dec, tmp, need, 0))) {
        sialo_fail("the JPEG-LS frame cannot be decoded (%s)", charls_get_error_message(e));
        goto done;
    }
    int planar = nc > 1 && im == CHARLS_INTERLEAVE_MODE_NONE; /* one scan per component: component planes */
    for (int c = 0; c < nc; c++)
        for (size_t i = 0; i < np; i++) {
            size_t j = planar ? (size_t)c * np + i : i * nc + c;
            int32_t v = in_bytes == 1 ? tmp[j] : (int32_t)(tmp[2 * j] | tmp[2 * j + 1] << 8);
            sialo_codec_put(out, i * nc + c, bytes, v);
        }
    *is_rgb = nc == 3 && (ct != CHARLS_COLOR_TRANSFORMATION_NONE || strcmp(want->photometric, "YBR_FULL"));
    rc = 0;
done:
    free(tmp);
    charls_jpegls_decoder_destroy(dec);
    return rc;
}

const char *sialo_jls_version(void) {
    static char v[32];
    snprintf(v, sizeof v, "CharLS %s", charls_get_version_string());
    return v;
}
