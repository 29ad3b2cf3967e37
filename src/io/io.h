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
/* raster.c: a JPEG stream's samples without any colour transform (YCbCr stays YCbCr): the caller
   decides the colour space (a DICOM frame: dicom.c); checked as sialo_raster_decode checks */
int sialo_raster_decode_jpeg_samples(const void *data, size_t size, sialo_image *out);
/* stb_impl.c: a raw deflate stream (no zlib header) into at most cap bytes (malloc'd; NULL on a
   damaged stream, or *over = 1 when it would inflate past cap) */
unsigned char *sialo_inflate_raw(const unsigned char *p, size_t n, size_t cap, size_t *out_len, int *over);
/* dicom.c: frame `frame` of a DICOM file; its JPEG streams are decoded by decode_jpeg, which gives
   the stored samples (sialo_raster_decode_jpeg_samples): dicom.c decides their colour space */
int sialo_dicom_decode_with(const void *data, size_t size, int frame, int us_region, sialo_decode_fn decode_jpeg, sialo_image *out);
/* dicom.c: the frame count of a DICOM file, -1 + reason if it cannot be decoded */
int sialo_dicom_frames(const void *data, size_t size);

#endif
