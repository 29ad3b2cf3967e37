/* codec_check.c — what a codestream says against what the data set declares (io/codecs.h), shared by
 * the decoders (a file of its own: the decoders call it, codecs.c calls the decoders) */
#include "base/base.h"
#include "io/codecs.h"

int sialo_codec_check(const char *what, int w, int h, int comps, int prec, const sialo_codec_frame *want) {
    if (w != want->columns || h != want->rows) return sialo_fail("the %s frame is %dx%d pixels but the DICOM file says %dx%d", what, w, h, want->columns, want->rows);
    if (comps != want->samples)
        return sialo_fail("the %s frame has %d component%s but the DICOM file says %d samples per pixel", what, comps, comps == 1 ? "" : "s", want->samples);
    if (prec < 2 || prec > want->bits_allocated)
        return sialo_fail("the %s frame has %d-bit samples but the DICOM file allocates %d bits", what, prec, want->bits_allocated);
    return 0;
}
