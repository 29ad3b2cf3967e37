/* decode.c — the one entry point for "bytes -> frame": a DICOM file goes to the DICOM reader
 * (dicom.c), which is handed the raster JPEG decoder (samples as stored) for the JPEG streams it holds; anything else to the
 * raster decoder (raster.c). The only file that knows both readers; they do not call each other. */
#include "io/image.h"
#include "io/io.h"
#include "sialoscan.h"

#include <string.h>

int sialo_image_decode(const void *data, size_t size, sialo_image *out) {
    memset(out, 0, sizeof *out);
    if (!data || size == 0) return image_fail(IMG_EMPTY);
    if (sialo_is_dicom(data, size)) return sialo_dicom_decode_with(data, size, 0, 0, sialo_raster_decode_jpeg_samples, out);
    return sialo_raster_decode(data, size, out);
}

int sialo_dicom_decode(const void *data, size_t size, int frame, int us_region, sialo_image *out) {
    return sialo_dicom_decode_with(data, size, frame, us_region, sialo_raster_decode_jpeg_samples, out);
}

int sialo_image_frames(const void *data, size_t size) {
    return sialo_is_dicom(data, size) ? sialo_dicom_frames(data, size) : 1;
}

int sialo_image_decode_frame(const void *data, size_t size, int frame, int us_region, sialo_image *out) {
    if (sialo_is_dicom(data, size)) return sialo_dicom_decode(data, size, frame, us_region, out);
    memset(out, 0, sizeof *out);
    if (frame != 0) return sialo_fail("frame %d does not exist (an image file has one frame)", frame);
    return sialo_image_decode(data, size, out);
}
