/* io/codecs.h — the compressed-frame decoders behind the DICOM reader (internal to io/): each wraps
 * one of the field's libraries, compiled from the same sources natively and with emcc
 * (tools/fetch-codecs.sh, the Makefile's CODEC_* objects):
 *   codec_j2k.c   OpenJPEG 2.5: JPEG 2000 (…4.90, …4.91) and HTJ2K (…4.201, …4.202, …4.203)
 *   codec_jls.c   CharLS 2.4 (its C API): JPEG-LS (…4.80, …4.81)
 *   codec_ijg*.c  dcmtk's IJG libraries libijg8 / libijg12 / libijg16: JPEG Extended (…4.51) and
 *                 JPEG Lossless (…4.57, …4.70), the library picked by the stream's precision as dcmtk does
 * A decoder checks what the codestream says against what the data set declares (size, samples,
 * precision) before it allocates, and gives the frame as native DICOM pixel data would hold it. */
#ifndef SIALO_CODECS_H
#define SIALO_CODECS_H

#include <stddef.h>
#include <stdint.h>

enum { SIALO_CODEC_NONE, SIALO_CODEC_J2K, SIALO_CODEC_JLS, SIALO_CODEC_IJG };

/* what the data set declares of a frame */
typedef struct {
    int columns, rows, samples;     /* samples per pixel: 1 or 3 */
    int bits_allocated, bits_stored; /* 8 or 16 allocated */
    int is_signed;                   /* pixel representation 1 */
    const char *photometric;
} sialo_codec_frame;

/* the codec of a transfer syntax UID, or SIALO_CODEC_NONE */
int sialo_codec_for_syntax(const char *uid);

/* Decode one frame (all its fragments, concatenated) into out: columns x rows pixels, samples
 * interleaved (planar configuration 0), bits_allocated / 8 bytes a sample, little endian, as the
 * data set's native pixel data would hold them. *is_rgb is 1 when colour samples come out as RGB
 * (the codestream's own colour transform undone, or decided so from the stream's markers), 0 when
 * they are as the data set's photometric interpretation says. 0, or -1 with sialo_error(). */
int sialo_codec_decode(int codec, const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);

/* each codec: the same contract, with the frame index for the sentences */
int sialo_j2k_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);
int sialo_jls_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);
int sialo_ijg_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);
int sialo_ijg8_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);
int sialo_ijg12_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);
int sialo_ijg16_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb);

/* the library versions, for sialo_codecs_version() */
const char *sialo_j2k_version(void);
const char *sialo_jls_version(void);
const char *sialo_ijg_version(void);

/* shared by the decoders: a decoded precision / sign against what the data set declares; 0 or -1 */
int sialo_codec_check(const char *what, int w, int h, int comps, int prec, const sialo_codec_frame *want);
/* store sample value v (of precision prec) at index i of out, in bits_allocated */
static inline void sialo_codec_put(uint8_t *out, size_t i, int bytes, int32_t v) {
    if (bytes == 1) out[i] = (uint8_t)v;
    else { out[2 * i] = (uint8_t)v; out[2 * i + 1] = (uint8_t)((uint32_t)v >> 8); }
}

#endif
