/* image.h — reading an image file (internal): the formats, the container checks made before any
 * pixel is decoded (image_check.c), and the one table of refusal sentences (image_errors.c). */
#ifndef SIALO_IMAGE_H
#define SIALO_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "base/base.h" /* sialo_minus_one */

typedef enum { IMG_FMT_UNKNOWN, IMG_FMT_PNG, IMG_FMT_JPEG, IMG_FMT_BMP, IMG_FMT_GIF } image_format;

/* Every reason an image is refused. The sentence of each (with its printf arguments) is in
 * image_errors.c, and nowhere else. */
typedef enum {
    /* any format */
    IMG_EMPTY, IMG_FILE_TOO_BIG, IMG_UNKNOWN_FORMAT, IMG_TOO_MANY_PIXELS /* w, h, MP */,
    IMG_TOO_SMALL /* w, h, min, min */, IMG_NO_MEMORY,
    /* PNG: signature and chunk structure */
    PNG_SIG_TEXT_MODE, PNG_SIG_DAMAGED, PNG_TRUNC_IN_SIG, PNG_TRUNC_AFTER_SIG, PNG_TRUNC_AFTER /* chunk */,
    PNG_TRUNC_IN /* chunk */, PNG_BAD_NAME /* where */, PNG_BAD_LENGTH /* chunk */, PNG_BAD_CRC /* chunk */,
    PNG_NOT_IHDR_FIRST, PNG_TWO_IHDR, PNG_UNKNOWN_CRITICAL /* chunk */, PNG_PLTE_LENGTH, PNG_NO_PLTE,
    PNG_NO_IDAT,
    /* PNG header fields */
    PNG_IHDR_LENGTH /* length */, PNG_WIDTH_ZERO, PNG_HEIGHT_ZERO, PNG_WIDTH_RANGE /* w */,
    PNG_HEIGHT_RANGE /* h */, PNG_BIT_DEPTH /* depth */, PNG_COLOUR_TYPE /* type */,
    PNG_DEPTH_FOR_TYPE /* depth, type, type name */, PNG_COMPRESSION /* method */, PNG_FILTER /* method */,
    PNG_INTERLACE /* method */,
    /* PNG image data (reported by the decoder) */
    PNG_DATA_CORRUPT, PNG_DATA_SIZE, PNG_ROW_FILTER, PNG_TRNS, PNG_DAMAGED,
    /* JPEG */
    JPEG_TRUNCATED, JPEG_HUFFMAN_TABLE, JPEG_QUANT_TABLE, JPEG_FRAME_HEADER, JPEG_NO_FRAME_HEADER,
    JPEG_SCAN_HEADER, JPEG_MARKER, JPEG_SEGMENT_LENGTH, JPEG_DATA_CORRUPT, JPEG_PRECISION,
    JPEG_NO_HEIGHT, JPEG_UNSUPPORTED_CODING, JPEG_DAMAGED,
    /* BMP */
    BMP_TRUNCATED, BMP_HEADER_SIZE /* size */, BMP_PLANES /* planes */, BMP_BIT_DEPTH /* bpp */,
    BMP_RLE, BMP_EMBEDDED, BMP_COMPRESSION /* method */, BMP_WIDTH /* w */, BMP_HEIGHT_ZERO,
    BMP_OFFSET, BMP_MASKS, BMP_DAMAGED,
    /* GIF */
    GIF_VERSION, GIF_TRUNCATED, GIF_WIDTH_ZERO, GIF_HEIGHT_ZERO, GIF_NO_IMAGE, GIF_BLOCKS,
    GIF_NO_PALETTE, GIF_FRAME_OUTSIDE, GIF_DATA_CORRUPT, GIF_DAMAGED,
    IMG_N_ERRORS
} image_error;

/* image_errors.c: set the sentence of e (its printf arguments follow) as sialo_error(). */
void sialo_image_error(image_error e, ...);
#define image_fail(...) (sialo_image_error(__VA_ARGS__), sialo_minus_one())
/* after a decoder failure: the sentence for stb_image's failure code `code` (NULL or unknown:
   the format's "damaged" sentence); returns -1 */
int sialo_image_decoder_fail(image_format f, const char *code);

/* image_check.c: identify the format and walk the file's structure (PNG chunks with their CRCs
   and header fields, JPEG segments, BMP and GIF headers) before any pixel is decoded; refuse a
   damaged file, and a frame over SIALO_MAX_PIXELS or with a side under SIALO_MIN_SIDE. Returns 0
   with the format, size and (PNG) bit depth, or -1 with the sentence in sialo_error(). */
int sialo_image_check(const uint8_t *p, size_t n, image_format *format, int *w, int *h, int *bit_depth);

/* stb_impl.c: forget stb_image's last failure code (it is not reset by a successful call) */
void sialo_stbi_clear_failure(void);
/* stb_impl.c: a JPEG's samples as stored, 3 per pixel (Y Cb Cr or R G B: no colour transform;
   a greyscale JPEG's grey repeated), or NULL + stbi_failure_reason() */
unsigned char *sialo_stbi_jpeg_samples(const unsigned char *p, int n, int *w, int *h);

#endif
