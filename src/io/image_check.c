/* image_check.c — an image file's structure, checked before any pixel is decoded.
 *
 * stb_image decodes leniently: it does not verify PNG checksums, pads a short file with zeros,
 * and reports failures with internal codes. Every file is therefore walked here first, and a
 * damaged one is refused with a sentence from image_errors.c:
 *  - PNG: the signature (a signature altered by a text-mode transfer is recognised as such), then
 *    every chunk: a readable name, a possible length, the whole chunk inside the file, its CRC-32;
 *    IHDR first, once, 13 bytes, every field valid (size, bit depth, colour type and their
 *    combination, compression, filter and interlace methods); no unknown critical chunk; a
 *    palette of 1..256 entries where colour type 3 needs one; at least one IDAT; IEND reached.
 *  - JPEG: the segments up to the end-of-image marker (lengths, Huffman tables of at most 256
 *    symbols — stb_image 2.27 writes past its arrays on more —, the frame header, the coding).
 *  - BMP: the header (size, planes, bit depth, compression, width, height) and that the pixel
 *    rows it promises are in the file.
 *  - GIF: the header and the blocks up to the end of the first image.
 * The frame size (from the header) must be at least SIALO_MIN_SIDE on each side and at most
 * SIALO_MAX_PIXELS; it is checked as soon as the header is read.
 */
#include "io/image.h"
#include "sialoscan.h"

#include <string.h>

static uint32_t be32(const uint8_t *b) { return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3]; }
static uint32_t le32(const uint8_t *b) { return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24; }
static unsigned le16(const uint8_t *b) { return (unsigned)b[0] | (unsigned)b[1] << 8; }

static int check_size(uint64_t w, uint64_t h) {
    if (w * h > SIALO_MAX_PIXELS) return image_fail(IMG_TOO_MANY_PIXELS, (int)w, (int)h, SIALO_MAX_PIXELS >> 20);
    if (w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE) return image_fail(IMG_TOO_SMALL, (int)w, (int)h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    return 0;
}

/* ------------------------------------------------------------------ PNG */
static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

static int png_signature(const uint8_t *p, size_t n) {
    if (n < 8) return image_fail(!memcmp(p, png_sig, n) ? PNG_TRUNC_IN_SIG : PNG_SIG_DAMAGED);
    if (!memcmp(p, png_sig, 8)) return 0;
    /* CR LF -> LF or LF -> CR LF: without the CRs, the bytes after "\x89PNG" are still LF SUB LF */
    char rest[3];
    int k = 0;
    for (size_t i = 4; i < n && i < 12 && k < 3; i++)
        if (p[i] != '\r') rest[k++] = (char)p[i];
    if (p[0] == 0x89 && k == 3 && !memcmp(rest, "\n\x1A\n", 3)) return image_fail(PNG_SIG_TEXT_MODE);
    return image_fail(PNG_SIG_DAMAGED);
}

static int png_ihdr(const uint8_t *d, uint32_t len, int *w, int *h, int *depth, int *ctype) {
    if (len != 13) return image_fail(PNG_IHDR_LENGTH, (unsigned)len);
    uint32_t pw = be32(d), ph = be32(d + 4);
    unsigned bd = d[8], ct = d[9];
    if (pw == 0) return image_fail(PNG_WIDTH_ZERO);
    if (ph == 0) return image_fail(PNG_HEIGHT_ZERO);
    if (pw > 0x7FFFFFFFu) return image_fail(PNG_WIDTH_RANGE, (unsigned)pw);
    if (ph > 0x7FFFFFFFu) return image_fail(PNG_HEIGHT_RANGE, (unsigned)ph);
    if (ct != 0 && ct != 2 && ct != 3 && ct != 4 && ct != 6) return image_fail(PNG_COLOUR_TYPE, ct);
    if (bd != 1 && bd != 2 && bd != 4 && bd != 8 && bd != 16) return image_fail(PNG_BIT_DEPTH, bd);
    static const char *const type_name[7] = {"grey", "", "RGB", "palette", "grey+alpha", "", "RGBA"};
    if ((ct == 3 && bd == 16) || ((ct == 2 || ct == 4 || ct == 6) && bd < 8))
        return image_fail(PNG_DEPTH_FOR_TYPE, bd, ct, type_name[ct]);
    if (d[10] != 0) return image_fail(PNG_COMPRESSION, (unsigned)d[10]);
    if (d[11] != 0) return image_fail(PNG_FILTER, (unsigned)d[11]);
    if (d[12] > 1) return image_fail(PNG_INTERLACE, (unsigned)d[12]);
    if (check_size(pw, ph) < 0) return -1;
    *w = (int)pw;
    *h = (int)ph;
    *depth = (int)bd;
    *ctype = (int)ct;
    return 0;
}

static int is_letter(uint8_t c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

static int png_check(const uint8_t *p, size_t n, int *w, int *h, int *depth) {
    if (png_signature(p, n) < 0) return -1;
    char prev[5] = "", name[5] = "";
    int ctype = -1, seen_plte = 0, seen_idat = 0;
    size_t pos = 8;
    for (;;) {
        if (n - pos < 8) return *prev ? image_fail(PNG_TRUNC_AFTER, prev) : image_fail(PNG_TRUNC_AFTER_SIG);
        uint32_t len = be32(p + pos);
        const uint8_t *type = p + pos + 4;
        if (!is_letter(type[0]) || !is_letter(type[1]) || !is_letter(type[2]) || !is_letter(type[3])) {
            char where[16] = "the signature";
            if (*prev) { memcpy(where, "chunk ", 6); memcpy(where + 6, prev, 5); }
            return image_fail(PNG_BAD_NAME, where);
        }
        memcpy(name, type, 4);
        if (len > 0x7FFFFFFFu) return image_fail(PNG_BAD_LENGTH, name);
        if ((uint64_t)len + 12 > n - pos) return image_fail(PNG_TRUNC_IN, name);
        if (sialo_crc32(type, (size_t)len + 4) != be32(p + pos + 8 + len)) return image_fail(PNG_BAD_CRC, name);
        const uint8_t *d = p + pos + 8;
        if (!memcmp(name, "IHDR", 4)) {
            if (ctype >= 0) return image_fail(PNG_TWO_IHDR);
            if (png_ihdr(d, len, w, h, depth, &ctype) < 0) return -1;
        } else if (ctype < 0 && memcmp(name, "CgBI", 4)) { /* Apple's CgBI comes before IHDR */
            return image_fail(PNG_NOT_IHDR_FIRST);
        } else if (!memcmp(name, "PLTE", 4)) {
            if (len == 0 || len % 3 || len > 768) return image_fail(PNG_PLTE_LENGTH);
            seen_plte = 1;
        } else if (!memcmp(name, "IDAT", 4)) {
            if (ctype == 3 && !seen_plte) return image_fail(PNG_NO_PLTE);
            /* an empty first IDAT makes stb_image 2.27 offset a null pointer (found by fuzz/image_fuzz.c) */
            if (len == 0 && !seen_idat) return image_fail(PNG_DAMAGED);
            seen_idat = 1;
        } else if (!memcmp(name, "IEND", 4)) {
            return seen_idat ? 0 : image_fail(PNG_NO_IDAT);
        } else if (!(name[0] & 0x20) && memcmp(name, "CgBI", 4)) { /* upper-case first letter: critical */
            return image_fail(PNG_UNKNOWN_CRITICAL, name);
        }
        memcpy(prev, name, 5);
        pos += (size_t)len + 12;
    }
}

/* ------------------------------------------------------------------ JPEG */
/* Segments up to the end-of-image marker; the frame size from the SOF segment. */
static int jpeg_check(const uint8_t *p, size_t n, int *w, int *h) {
    size_t pos = 2;
    int have_sof = 0;
    while (pos + 2 <= n) {
        if (p[pos] != 0xFF) { pos++; continue; }           /* tolerate stray bytes between segments */
        int m = p[pos + 1];
        pos += 2;
        if (m == 0xFF) { pos--; continue; }                  /* fill byte */
        if (m == 0xD9) return have_sof ? 0 : image_fail(JPEG_NO_FRAME_HEADER); /* end of image */
        if ((m >= 0xD0 && m <= 0xD7) || m == 0x01 || m == 0x00) continue;
        if (pos + 2 > n) break;
        size_t len = (size_t)p[pos] << 8 | p[pos + 1];
        if (len < 2) return image_fail(JPEG_SEGMENT_LENGTH);
        if (pos + len > n) break;
        const uint8_t *seg = p + pos + 2;
        size_t seglen = len - 2;
        if (m == 0xC4) {
            for (size_t q = 0; q < seglen;) {
                if (q + 17 > seglen) return image_fail(JPEG_HUFFMAN_TABLE);
                size_t total = 0;
                for (int k = 1; k <= 16; k++) total += seg[q + k];
                if (total > 256 || q + 17 + total > seglen) return image_fail(JPEG_HUFFMAN_TABLE);
                q += 17 + total;
            }
        } else if (m == 0xC0 || m == 0xC1 || m == 0xC2) {  /* baseline, extended, progressive */
            if (have_sof) return image_fail(JPEG_MARKER);
            if (seglen < 6) return image_fail(JPEG_FRAME_HEADER);
            if (seg[0] != 8) return image_fail(JPEG_PRECISION);
            *h = seg[1] << 8 | seg[2];
            *w = seg[3] << 8 | seg[4];
            if (*h == 0) return image_fail(JPEG_NO_HEIGHT);
            if (*w == 0) return image_fail(JPEG_FRAME_HEADER);
            if (check_size((uint64_t)*w, (uint64_t)*h) < 0) return -1;
            have_sof = 1;
        } else if (m >= 0xC3 && m <= 0xCF && m != 0xC8 && m != 0xCC) { /* lossless, hierarchical, arithmetic */
            return image_fail(JPEG_UNSUPPORTED_CODING);
        } else if (m == 0xDA && !have_sof) {
            return image_fail(JPEG_NO_FRAME_HEADER);
        }
        pos += len;
        if (m == 0xDA) /* entropy-coded data runs to the next marker */
            while (pos + 1 < n && !(p[pos] == 0xFF && p[pos + 1] != 0 && !(p[pos + 1] >= 0xD0 && p[pos + 1] <= 0xD7))) pos++;
    }
    return image_fail(JPEG_TRUNCATED);
}

/* ------------------------------------------------------------------ BMP */
static int bmp_check(const uint8_t *p, size_t n, int *w, int *h) {
    if (n < 18) return image_fail(BMP_TRUNCATED);
    uint32_t off = le32(p + 10), hs = le32(p + 14);
    if (hs != 12 && hs != 40 && hs != 56 && hs != 108 && hs != 124) return image_fail(BMP_HEADER_SIZE, (unsigned)hs);
    if (n < 14 + (size_t)hs) return image_fail(BMP_TRUNCATED);
    int32_t bw, bh;
    unsigned planes, bpp;
    uint32_t comp = 0;
    if (hs == 12) {
        bw = (int32_t)le16(p + 18); bh = (int32_t)le16(p + 20); planes = le16(p + 22); bpp = le16(p + 24);
    } else {
        bw = (int32_t)le32(p + 18); bh = (int32_t)le32(p + 22); planes = le16(p + 26); bpp = le16(p + 28);
        comp = le32(p + 30);
    }
    if (planes != 1) return image_fail(BMP_PLANES, planes);
    if (bpp != 1 && bpp != 4 && bpp != 8 && bpp != 16 && bpp != 24 && bpp != 32) return image_fail(BMP_BIT_DEPTH, bpp);
    if (comp == 1 || comp == 2) return image_fail(BMP_RLE);
    if (comp == 4 || comp == 5) return image_fail(BMP_EMBEDDED);
    if (comp != 0 && comp != 3) return image_fail(BMP_COMPRESSION, (unsigned)comp);
    if (bw <= 0) return image_fail(BMP_WIDTH, (int)bw);
    if (bh == 0) return image_fail(BMP_HEIGHT_ZERO);
    uint64_t aw = (uint64_t)bw, ah = bh < 0 ? (uint64_t)-(int64_t)bh : (uint64_t)bh;
    if (check_size(aw, ah) < 0) return -1;
    if (off > n) return image_fail(BMP_OFFSET);
    uint64_t row = ((uint64_t)bpp * aw + 31) / 32 * 4;
    if ((uint64_t)off + row * ah > n) return image_fail(BMP_TRUNCATED);
    *w = (int)aw;
    *h = (int)ah;
    return 0;
}

/* ------------------------------------------------------------------ GIF */
/* data sub-blocks from pos: 1 past the terminator, or 0 if the file ends first */
static size_t gif_skip_blocks(const uint8_t *p, size_t n, size_t pos) {
    for (;;) {
        if (pos >= n) return 0;
        size_t len = p[pos++];
        if (len == 0) return pos;
        pos += len;
    }
}

static int gif_check(const uint8_t *p, size_t n, int *w, int *h) {
    if (n < 6) return image_fail(GIF_TRUNCATED);
    if ((p[4] != '7' && p[4] != '9') || p[5] != 'a') return image_fail(GIF_VERSION);
    if (n < 13) return image_fail(GIF_TRUNCATED);
    unsigned gw = le16(p + 6), gh = le16(p + 8);
    if (gw == 0) return image_fail(GIF_WIDTH_ZERO);
    if (gh == 0) return image_fail(GIF_HEIGHT_ZERO);
    if (check_size(gw, gh) < 0) return -1;
    int has_gct = p[10] & 0x80;
    size_t pos = 13 + (has_gct ? (size_t)3 << ((p[10] & 7) + 1) : 0);
    for (;;) {
        if (pos >= n) return image_fail(GIF_TRUNCATED);
        uint8_t b = p[pos++];
        if (b == 0x21) {                   /* extension: label, then data sub-blocks */
            if (!(pos = gif_skip_blocks(p, n, pos + 1))) return image_fail(GIF_TRUNCATED);
        } else if (b == 0x2C) {            /* the first image: descriptor, colour table, LZW data */
            if (n - pos < 9) return image_fail(GIF_TRUNCATED);
            unsigned fx = le16(p + pos), fy = le16(p + pos + 2), fw = le16(p + pos + 4), fh = le16(p + pos + 6);
            uint8_t flags = p[pos + 8];
            pos += 9;
            if (fx + fw > gw || fy + fh > gh) return image_fail(GIF_FRAME_OUTSIDE);
            if (flags & 0x80) pos += (size_t)3 << ((flags & 7) + 1);
            else if (!has_gct) return image_fail(GIF_NO_PALETTE);
            if (pos >= n) return image_fail(GIF_TRUNCATED);
            if (p[pos] > 11) return image_fail(GIF_DATA_CORRUPT); /* LZW code size */
            if (!gif_skip_blocks(p, n, pos + 1)) return image_fail(GIF_TRUNCATED);
            *w = (int)gw;
            *h = (int)gh;
            return 0;
        } else if (b == 0x3B) {
            return image_fail(GIF_NO_IMAGE);
        } else {
            return image_fail(GIF_BLOCKS);
        }
    }
}

/* ------------------------------------------------------------------ any format */
int sialo_image_check(const uint8_t *p, size_t n, image_format *format, int *w, int *h, int *bit_depth) {
    *format = IMG_FMT_UNKNOWN;
    *w = *h = 0;
    *bit_depth = 8;
    if (n >= 4 && !memcmp(p + 1, "PNG", 3)) {
        *format = IMG_FMT_PNG;
        return png_check(p, n, w, h, bit_depth);
    }
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
        *format = IMG_FMT_JPEG;
        return jpeg_check(p, n, w, h);
    }
    if (n >= 4 && !memcmp(p, "GIF8", 4)) {
        *format = IMG_FMT_GIF;
        return gif_check(p, n, w, h);
    }
    if (n >= 2 && p[0] == 'B' && p[1] == 'M') {
        *format = IMG_FMT_BMP;
        return bmp_check(p, n, w, h);
    }
    return image_fail(IMG_UNKNOWN_FORMAT);
}
