/* codec_ijg.c — JPEG Extended (…4.51) and JPEG Lossless (…4.57, …4.70) frames: the library is
 * picked by the precision of the stream's frame header, as dcmtk does (up to 8 bits libijg8, up
 * to 12 libijg12, else libijg16) */
#include "base/base.h"
#include "io/codecs.h"

int sialo_ijg_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb) {
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return sialo_fail("the frame is not a JPEG stream (no SOI marker)");
    size_t o = 2;
    while (o + 4 <= size) {
        if (data[o] != 0xFF) return sialo_fail("the JPEG stream is damaged before its frame header");
        uint8_t m = data[o + 1];
        if (m == 0xFF) { o++; continue; }
        size_t len = (size_t)data[o + 2] << 8 | data[o + 3];
        if (len < 2 || o + 2 + len > size) return sialo_fail("the JPEG stream is truncated before its frame header");
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC) {
            if (len < 8) return sialo_fail("the JPEG frame header is malformed");
            int prec = data[o + 4];
            if (m == 0xC3 || m == 0xC7 || m == 0xCB || m == 0xCF) { /* lossless: any precision 2-16 */
                if (prec <= 8) return sialo_ijg8_decode(data, size, want, out, is_rgb);
                if (prec <= 12) return sialo_ijg12_decode(data, size, want, out, is_rgb);
                return sialo_ijg16_decode(data, size, want, out, is_rgb);
            }
            if (prec == 8) return sialo_ijg8_decode(data, size, want, out, is_rgb);
            if (prec == 12) return sialo_ijg12_decode(data, size, want, out, is_rgb);
            return sialo_fail("the JPEG frame is lossy with %d-bit samples (8 or 12 expected)", prec);
        }
        o += 2 + len;
    }
    return sialo_fail("the JPEG stream has no frame header");
}

const char *sialo_ijg_version(void) { return "IJG 6b (dcmtk 3.6.7 libijg8/12/16)"; }
