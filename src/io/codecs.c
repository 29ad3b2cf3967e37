/* codecs.c — which library decodes which transfer syntax (io/codecs.h), and their versions */
#include "base/base.h"
#include "io/codecs.h"
#include "sialoscan.h"

#include <stdio.h>
#include <string.h>

static const struct { const char *uid; int codec; } codec_syntaxes[] = {
    {"1.2.840.10008.1.2.4.51", SIALO_CODEC_IJG},  /* JPEG Extended (Process 2 & 4): 8 or 12 bits */
    {"1.2.840.10008.1.2.4.57", SIALO_CODEC_IJG},  /* JPEG Lossless, Non-Hierarchical (Process 14) */
    {"1.2.840.10008.1.2.4.70", SIALO_CODEC_IJG},  /* JPEG Lossless, First-Order Prediction (Process 14, SV1) */
    {"1.2.840.10008.1.2.4.80", SIALO_CODEC_JLS},  /* JPEG-LS Lossless */
    {"1.2.840.10008.1.2.4.81", SIALO_CODEC_JLS},  /* JPEG-LS Lossy (Near-Lossless) */
    {"1.2.840.10008.1.2.4.90", SIALO_CODEC_J2K},  /* JPEG 2000 (Lossless Only) */
    {"1.2.840.10008.1.2.4.91", SIALO_CODEC_J2K},  /* JPEG 2000 */
    {"1.2.840.10008.1.2.4.201", SIALO_CODEC_J2K}, /* HTJ2K (Lossless Only) */
    {"1.2.840.10008.1.2.4.202", SIALO_CODEC_J2K}, /* HTJ2K with RPCL Options (Lossless Only) */
    {"1.2.840.10008.1.2.4.203", SIALO_CODEC_J2K}, /* HTJ2K */
};

int sialo_codec_for_syntax(const char *uid) {
    for (size_t i = 0; i < sizeof codec_syntaxes / sizeof *codec_syntaxes; i++)
        if (!strcmp(codec_syntaxes[i].uid, uid)) return codec_syntaxes[i].codec;
    return SIALO_CODEC_NONE;
}

int sialo_codec_decode(int codec, const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb) {
    *is_rgb = 0;
    switch (codec) {
    case SIALO_CODEC_J2K: return sialo_j2k_decode(data, size, want, out, is_rgb);
    case SIALO_CODEC_JLS: return sialo_jls_decode(data, size, want, out, is_rgb);
    case SIALO_CODEC_IJG: return sialo_ijg_decode(data, size, want, out, is_rgb);
    default: return sialo_fail("no decoder for this transfer syntax");
    }
}

const char *sialo_codecs_version(void) {
    static char v[160];
    if (!v[0]) snprintf(v, sizeof v, "%s, %s, %s", sialo_j2k_version(), sialo_jls_version(), sialo_ijg_version());
    return v;
}
