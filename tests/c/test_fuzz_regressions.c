/* test_fuzz_regressions.c — inputs the fuzzers (fuzz/, make fuzz) found, minimised, replayed
 * under ASan + UBSan: each must be refused with a reason, never crash.
 *
 * 1. image_fuzz, 2026-12-01: a JPEG whose start-of-image marker follows fill bytes (FF FF D8 ...).
 *    stb_image skips the fill bytes, our JPEG pre-check (Huffman tables of more than 256 symbols,
 *    which overflow stb_image 2.27's arrays) did not: it looked for FF D8 FF at byte 0 only.
 * 2. image_fuzz, 2026-12-01: a PNG whose first IDAT chunk is empty: stb_image 2.27 adds 0 to its
 *    null data pointer (UBSan: applying zero offset to null pointer).
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "sialoscan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

uint32_t sialo_crc32(const void *data, size_t n); /* util.c: IEEE CRC-32, as PNG's */

static void refused(const uint8_t *p, size_t n, const char *what) {
    uint8_t *b = malloc(n);
    memcpy(b, p, n);
    sialo_image img;
    int rc = sialo_image_decode(b, n, &img);
    if (rc == 0) sialo_image_free(&img);
    CHECK(rc < 0 && *sialo_error(), "%s: decoded or refused without a reason", what);
    free(b);
}

int main(void) {
    /* the minimised crash: a fill byte, SOI, a Huffman segment cut short */
    static const uint8_t min1[] = {0xFF, 0xFF, 0xD8, 0xFF, 0xC4, 0x00, 0x16, 0x00, 0xFA, 0xFF};
    refused(min1, sizeof min1, "fill byte + truncated DHT");
    /* the same overflow whole: fill bytes, SOI, a Huffman table of 257 symbols, EOI */
    for (int fill = 1; fill <= 3; fill++) {
        uint8_t f[8 + 276 + 2] = {0};
        size_t k = 0;
        for (int i = 0; i < fill; i++) f[k++] = 0xFF;
        f[k++] = 0xFF; f[k++] = 0xD8;
        f[k++] = 0xFF; f[k++] = 0xC4; f[k++] = 276 >> 8; f[k++] = 276 & 0xFF;
        f[k++] = 0x00;                     /* DC table 0 */
        for (int i = 0; i < 16; i++) f[k++] = i == 14 ? 2 : i == 15 ? 255 : 0; /* 257 codes */
        k += 257;                          /* the symbols (zeros) */
        f[k++] = 0xFF; f[k++] = 0xD9;
        refused(f, k, "fill bytes + a 257-symbol Huffman table");
    }
    /* the minimised PNG: signature, IHDR (320x240 RGB), an empty IDAT, cut there */
    static const uint8_t min2[] = {0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0x00, 0x00, 0x00, 0x0D, 0x49, 0x48, 0x44, 0x52,
                                   0x00, 0x00, 0x01, 0x40, 0x00, 0x00, 0x00, 0xF0, 0x08, 0x02, 0x00, 0x00, 0x01, 0x89, 0x48, 0xFF,
                                   0x11, 0x00, 0x00, 0x00, 0x00, 0x49, 0x44, 0x41, 0x54};
    refused(min2, sizeof min2, "PNG with an empty first IDAT");
    /* ... and whole, with valid checksums: IHDR (40x40 RGB), an empty IDAT, IEND */
    uint8_t png[8 + 25 + 12 + 12];
    size_t k = 0;
    memcpy(png, "\x89PNG\r\n\x1a\n", 8);
    k = 8;
    const uint8_t ihdr[17] = {'I', 'H', 'D', 'R', 0, 0, 0, 40, 0, 0, 0, 40, 8, 2, 0, 0, 0};
    static const char *const chunks[3] = {"IHDR", "IDAT", "IEND"};
    for (int c = 0; c < 3; c++) {
        uint32_t len = c == 0 ? 13 : 0;
        png[k++] = 0; png[k++] = 0; png[k++] = 0; png[k++] = (uint8_t)len;
        const uint8_t *body = c == 0 ? ihdr : (const uint8_t *)chunks[c];
        memcpy(png + k, body, 4 + len);
        uint32_t crc = sialo_crc32(png + k, 4 + len);
        k += 4 + len;
        for (int i = 3; i >= 0; i--) png[k++] = (uint8_t)(crc >> 8 * i);
    }
    refused(png, k, "PNG with an empty IDAT, valid checksums");
    return test_summary("test_fuzz_regressions");
}
