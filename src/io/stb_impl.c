/* stb_impl.c — the one translation unit that compiles Debian's stb_image / stb_image_write. */
#include <stddef.h>

/* inflate's output is grown by STBI_REALLOC_SIZED (stbi__zexpand, and PNG's IDAT gathering): a
 * cap set by sialo_inflate_raw below refuses growth past it (0 = no cap, for PNG) */
static _Thread_local size_t zcap;
static _Thread_local int zcap_hit;
#include <stdlib.h>
#include <string.h>
static void *sized_realloc(void *p, size_t newsz) {
    if (zcap && newsz > zcap) { zcap_hit = 1; return NULL; }
    return realloc(p, newsz);
}
#define STBI_MALLOC(sz) malloc(sz)
#define STBI_FREE(p) free(p)
#define STBI_REALLOC_SIZED(p, oldsz, newsz) sized_realloc(p, newsz)

#define STBI_MAX_DIMENSIONS (1 << 16)
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#include <stb_image.h>
#ifndef __EMSCRIPTEN__
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb_image_write.h>
#endif

#include "io/image.h"

/* declared in image.h: stb_image keeps its last failure code until the next failure */
void sialo_stbi_clear_failure(void) { stbi__g_failure_reason = NULL; }

/* the colour "conversion" that keeps the samples: Y Cb Cr (or R G B) as stored, upsampled */
static void keep_samples(stbi_uc *out, const stbi_uc *y, const stbi_uc *pcb, const stbi_uc *pcr, int count, int step) {
    for (int i = 0; i < count; i++, out += step) {
        out[0] = y[i];
        out[1] = pcb[i];
        out[2] = pcr[i];
        if (step == 4) out[3] = 255;
    }
}

/* declared in image.h: stb_image's JPEG decoder (stbi__jpeg_load) with keep_samples in place of
 * its YCbCr -> RGB kernel. With 3 components asked for, stb_image either copies the components
 * (its own RGB guess) or runs the kernel: either way the output is the stored samples. Only the
 * scalar kernel is ever replaced: stb_image uses its SIMD kernel for 4 output components only. */
unsigned char *sialo_stbi_jpeg_samples(const unsigned char *p, int n, int *w, int *h) {
    stbi__context s;
    stbi__start_mem(&s, p, n);
    stbi__jpeg *j = (stbi__jpeg *)stbi__malloc(sizeof(stbi__jpeg));
    if (!j) return stbi__errpuc("outofmem", "Out of memory");
    j->s = &s;
    stbi__setup_jpeg(j);
    j->YCbCr_to_RGB_kernel = keep_samples;
    int comp;
    unsigned char *r = load_jpeg_image(j, w, h, &comp, 3);
    STBI_FREE(j);
    return r;
}

/* declared in image.h: a raw deflate stream (RFC 1951, no zlib header) with stb_image's inflate,
 * its output at most cap bytes (*over = 1 when the stream would have produced more) */
unsigned char *sialo_inflate_raw(const unsigned char *p, size_t n, size_t cap, size_t *out_len, int *over) {
    *over = 0;
    *out_len = 0;
    if (n > 0x7FFFFFF0) return NULL;
    /* stb_image 2.27 refuses a Huffman code read within the last 2 bytes of its input (it wants 16
       bits buffered): a stream that ends exactly at its last code needs a few bytes after it */
    unsigned char *in = malloc(n + 8);
    if (!in) return NULL;
    memcpy(in, p, n);
    memset(in + n, 0, 8);
    zcap = cap;
    zcap_hit = 0;
    int len = 0;
    char *r = stbi_zlib_decode_noheader_malloc((const char *)in, (int)n + 8, &len);
    free(in);
    *over = zcap_hit;
    zcap = 0;
    zcap_hit = 0;
    if (r) *out_len = (size_t)len;
    return (unsigned char *)r;
}
