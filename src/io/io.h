/* io/io.h — the readers behind decode.c (internal to io/). io/ turns bytes into frames and frames
 * into input tensors; it may use base/ and engine/ (preprocess and classify read the model). */
#ifndef SIALO_IO_H
#define SIALO_IO_H

#include <stddef.h>

#include "sialoscan.h"

/* a decoder of an embedded compressed stream (bytes -> RGB frame; 0 or -1 + sialo_error()) */
typedef int (*sialo_decode_fn)(const void *data, size_t size, sialo_image *out);

/* raster.c: PNG / JPEG / BMP / GIF (never DICOM) */
int sialo_raster_decode(const void *data, size_t size, sialo_image *out);
/* dicom.c: frame `frame` of a DICOM file; its JPEG streams are decoded by decode_jpeg */
int sialo_dicom_decode_with(const void *data, size_t size, int frame, int us_region, sialo_decode_fn decode_jpeg, sialo_image *out);
/* dicom.c: the frame count of a DICOM file, -1 + reason if it cannot be decoded */
int sialo_dicom_frames(const void *data, size_t size);

#endif
