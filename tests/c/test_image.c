/* test_image.c — image decoding and resizing (src/io/raster.c, src/io/preprocess.c).
 *
 * 1. Decoding: in-memory PNGs (grey, grey+alpha, RGB, RGBA) and BMPs made here with
 *    stb_image_write; baseline JPEGs (RGB, grey), a progressive JPEG and an animated GIF from
 *    tests/fixtures (made once with ImageMagick; stb_image_write's JPEG writer is avoided because
 *    Debian's copy shifts a signed int into the sign bit, which UBSan aborts on). Sizes, exact pixels where the format is lossless, grey -> R=G=B, alpha
 *    dropped, GIF = first frame.
 * 2. Refusals with a reason: empty, garbage, too small, too many pixels (crafted PNG / BMP / GIF /
 *    JPEG headers with correct checksums and nothing after them), truncated PNG, JPEG cut in half;
 *    a few hundred seeded byte mutations of each format (no crash under ASan / UBSan, every
 *    refusal a sentence of image_errors.c, no changed PNG decoded: its chunks carry CRCs); and a JPEG
 *    huffman table with too many symbols (stb_image 2.27 overflows: run in a child process).
 * 3. sialo_resize_rgb: a constant image stays constant, the identity size keeps pixels, the
 *    normalisation is applied, and downscaling a checkerboard gives its mean (antialiasing).
 *
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "engine/graph.h"
#include "sialoscan.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/wait.h>
#include <unistd.h>

#include <stb_image_write.h> /* declarations only: the engine compiles the implementation natively */

int sialo_resize_rgb(const uint8_t *src, int sw, int sh, int dw, int dh, const float scale[3], const float bias[3], float *dst);


static uint64_t rng = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void) { return xorshift_next(&rng); }

/* ------------------------------------------------------------------ encoding to memory */
typedef struct { uint8_t *p; size_t n, cap; } membuf;
static void mem_write(void *ctx, void *data, int size) {
    membuf *m = ctx;
    if (m->n + (size_t)size > m->cap) {
        m->cap = (m->n + (size_t)size) * 2;
        m->p = realloc(m->p, m->cap);
    }
    memcpy(m->p + m->n, data, (size_t)size);
    m->n += (size_t)size;
}

/* w*h pixels of `comp` channels with a pattern that makes every channel distinct */
static uint8_t *pattern(int w, int h, int comp) {
    uint8_t *p = malloc((size_t)w * h * comp);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++)
            for (int c = 0; c < comp; c++) p[((size_t)y * w + x) * comp + c] = (uint8_t)(x * 3 + y * 5 + c * 70 + (x ^ y));
    return p;
}

static membuf encode(const char *fmt, int w, int h, int comp, const uint8_t *px) {
    membuf m = {0};
    int ok = 0;
    if (!strcmp(fmt, "png")) ok = stbi_write_png_to_func(mem_write, &m, w, h, comp, px, w * comp);
    else if (!strcmp(fmt, "bmp")) ok = stbi_write_bmp_to_func(mem_write, &m, w, h, comp, px);
    CHECK(ok && m.n > 0, "encoding %s %dx%dx%d failed", fmt, w, h, comp);
    return m;
}


static void clear_error(void) { sialo_fail("%s", ""); }
static int decode_in_child(const void *data, size_t n, char *why, size_t why_size);

/* 1 if a JPEG (as stb_image walks its markers) has a huffman table of more than 256 symbols:
   the stb_image 2.27 overflow (see jpeg_dht_overflow below) */
static int jpeg_has_oversized_dht(const uint8_t *b, size_t n) {
    if (n < 2 || b[0] != 0xFF || b[1] != 0xD8) return 0;
    size_t pos = 2;
    while (pos + 4 <= n) {
        if (b[pos] != 0xFF) return 0;
        while (pos + 1 < n && b[pos + 1] == 0xFF) pos++; /* fill bytes */
        if (pos + 4 > n) return 0;
        uint8_t m = b[pos + 1];
        if (m == 0xDA || m == 0xD9) return 0; /* scan data / end: the tables came before */
        size_t L = (size_t)b[pos + 2] << 8 | b[pos + 3];
        if (m == 0xC4) {
            size_t q = pos + 4, end = pos + 2 + L;
            while (q + 17 <= end && q + 17 <= n) {
                size_t sum = 0;
                for (int i = 0; i < 16; i++) sum += b[q + 1 + i];
                if (sum > 256) return 1;
                q += 17 + sum;
            }
        }
        pos += 2 + L;
    }
    return 0;
}

static void expect_refused(const void *data, size_t n, const char *word, const char *what) {
    clear_error();
    sialo_image img = {(uint8_t *)1, 7, 7};
    int rc = sialo_image_decode(data, n, &img);
    CHECK(rc < 0, "%s: decoded (%dx%d) but should have been refused", what, img.w, img.h);
    CHECK(img.rgb == NULL && img.w == 0 && img.h == 0, "%s: output not cleared on failure", what);
    const char *e = sialo_error();
    CHECK(e && *e, "%s: refused without a reason", what);
    if (word) CHECK(e && strstr(e, word), "%s: reason '%s' does not mention '%s'", what, e, word);
    if (rc == 0) sialo_image_free(&img);
}

/* ------------------------------------------------------------------ 1. decoding */
static void lossless(const char *fmt, int comp, int w, int h) {
    uint8_t *px = pattern(w, h, comp);
    membuf m = encode(fmt, w, h, comp, px);
    sialo_image img;
    int rc = sialo_image_decode(m.p, m.n, &img);
    CHECK(rc == 0, "%s comp %d: %s", fmt, comp, sialo_error());
    if (rc == 0) {
        CHECK(img.w == w && img.h == h, "%s comp %d: size %dx%d, expected %dx%d", fmt, comp, img.w, img.h, w, h);
        int bad = 0;
        for (int i = 0; i < w * h && !bad; i++) {
            const uint8_t *s = px + (size_t)i * comp, *d = img.rgb + (size_t)i * 3;
            if (comp <= 2) bad = d[0] != s[0] || d[1] != s[0] || d[2] != s[0];    /* grey (+alpha) -> R=G=B */
            else bad = d[0] != s[0] || d[1] != s[1] || d[2] != s[2];              /* RGB(A) -> RGB, alpha dropped */
            if (bad) CHECK(0, "%s comp %d: pixel %d is %d,%d,%d, source %d,%d,%d", fmt, comp, i, d[0], d[1], d[2], s[0],
                           s[comp > 1 ? 1 : 0], s[comp > 2 ? 2 : 0]);
        }
        if (!bad) CHECK(1, "pixels");
        sialo_image_free(&img);
        CHECK(img.rgb == NULL && img.w == 0, "sialo_image_free clears the image");
    }
    free(px);
    free(m.p);
}

static void decoding(void) {
    for (int comp = 1; comp <= 4; comp++) lossless("png", comp, 64, 48);
    lossless("png", 3, 32, 32); /* the smallest accepted size */
    lossless("png", 3, 33, 700);
    lossless("bmp", 3, 50, 40);
    lossless("bmp", 4, 50, 40);

    /* grey+alpha: a fully transparent pixel keeps its grey value (alpha dropped, not composited) */
    {
        uint8_t *ga = malloc(40 * 40 * 2);
        for (int i = 0; i < 40 * 40; i++) { ga[2 * i] = (uint8_t)(i % 251); ga[2 * i + 1] = 0; }
        membuf m = encode("png", 40, 40, 2, ga);
        sialo_image img;
        CHECK(sialo_image_decode(m.p, m.n, &img) == 0, "transparent grey: %s", sialo_error());
        if (img.rgb) CHECK(img.rgb[3 * 77] == 77 % 251 && img.rgb[3 * 77 + 2] == 77 % 251, "transparent pixel lost its value");
        sialo_image_free(&img);
        free(ga);
        free(m.p);
    }

    /* baseline JPEGs (ImageMagick fixtures; stb_image_write's JPEG writer is not used because
       it trips UBSan: see the report): RGB gradient yellow (top) to navy (bottom), and grey */
    {
        size_t n;
        uint8_t *b = slurp("tests/fixtures/baseline.jpg", &n);
        CHECK(b != NULL, "tests/fixtures/baseline.jpg missing (run from the repository root)");
        if (b) {
            int sof0 = 0;
            for (size_t i = 0; i + 1 < n; i++) if (b[i] == 0xFF && b[i + 1] == 0xC0) sof0 = 1;
            CHECK(sof0, "the fixture is not a baseline (SOF0) JPEG");
            sialo_image img;
            int rc = sialo_image_decode(b, n, &img);
            CHECK(rc == 0, "baseline JPEG: %s", sialo_error());
            if (rc == 0) {
                CHECK(img.w == 80 && img.h == 60, "baseline JPEG size %dx%d", img.w, img.h);
                const uint8_t *top = img.rgb + (size_t)40 * 3, *bot = img.rgb + (size_t)(59 * 80 + 40) * 3;
                CHECK(top[0] > 240 && top[1] > 240 && top[2] < 20, "baseline JPEG: top %d,%d,%d is not yellow", top[0], top[1], top[2]);
                CHECK(bot[0] < 15 && bot[1] < 15 && abs(bot[2] - 128) < 15, "baseline JPEG: bottom %d,%d,%d is not navy", bot[0], bot[1], bot[2]);
                sialo_image_free(&img);
            }
            free(b);
        }
        b = slurp("tests/fixtures/grey.jpg", &n);
        CHECK(b != NULL, "tests/fixtures/grey.jpg missing");
        if (b) {
            sialo_image img;
            int rc = sialo_image_decode(b, n, &img);
            CHECK(rc == 0, "grey JPEG: %s", sialo_error());
            if (rc == 0) {
                int grey = 1;
                for (int i = 0; i < img.w * img.h; i++) grey &= img.rgb[3 * i] == img.rgb[3 * i + 1] && img.rgb[3 * i] == img.rgb[3 * i + 2];
                CHECK(grey && img.w == 48 && img.h == 40, "grey JPEG: %dx%d, R=G=B %d", img.w, img.h, grey);
                CHECK(img.rgb[0] > 240 && img.rgb[(size_t)(39 * 48) * 3] < 15, "grey JPEG: not white at the top, black at the bottom");
                sialo_image_free(&img);
            }
            free(b);
        }
    }

    /* progressive JPEG (ImageMagick: gradient:red-blue, top red, bottom blue, 64x48) */
    {
        size_t n;
        uint8_t *b = slurp("tests/fixtures/progressive.jpg", &n);
        CHECK(b != NULL, "tests/fixtures/progressive.jpg missing (run from the repository root)");
        if (b) {
            int sof2 = 0;
            for (size_t i = 0; i + 1 < n; i++) if (b[i] == 0xFF && b[i + 1] == 0xC2) sof2 = 1;
            CHECK(sof2, "the fixture is not a progressive (SOF2) JPEG");
            sialo_image img;
            int rc = sialo_image_decode(b, n, &img);
            CHECK(rc == 0, "progressive JPEG: %s", sialo_error());
            if (rc == 0) {
                CHECK(img.w == 64 && img.h == 48, "progressive JPEG size %dx%d", img.w, img.h);
                const uint8_t *top = img.rgb + (size_t)(0 * 64 + 32) * 3, *bot = img.rgb + (size_t)(47 * 64 + 32) * 3;
                CHECK(top[0] > 230 && top[2] < 25, "progressive JPEG: top %d,%d,%d is not red", top[0], top[1], top[2]);
                CHECK(bot[2] > 230 && bot[0] < 25, "progressive JPEG: bottom %d,%d,%d is not blue", bot[0], bot[1], bot[2]);
                sialo_image_free(&img);
            }
            /* cut in half: refused, or at least no crash (see the report) */
            free(b);
        }
    }

    /* animated GIF: two 40x40 frames, red then blue -> the first frame, all red */
    {
        size_t n;
        uint8_t *b = slurp("tests/fixtures/two-frames.gif", &n);
        CHECK(b != NULL, "tests/fixtures/two-frames.gif missing");
        if (b) {
            sialo_image img;
            int rc = sialo_image_decode(b, n, &img);
            CHECK(rc == 0, "GIF: %s", sialo_error());
            if (rc == 0) {
                CHECK(img.w == 40 && img.h == 40, "GIF size %dx%d", img.w, img.h);
                int red = 1;
                for (int i = 0; i < 40 * 40; i++) red &= img.rgb[3 * i] == 255 && img.rgb[3 * i + 1] == 0 && img.rgb[3 * i + 2] == 0;
                CHECK(red, "GIF: the first frame is not all red (first pixel %d,%d,%d)", img.rgb[0], img.rgb[1], img.rgb[2]);
                sialo_image_free(&img);
            }
            free(b);
        }
    }
}

/* ------------------------------------------------------------------ 2. refusals */
static void be32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }
static void le32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); p[2] = (uint8_t)(v >> 16); p[3] = (uint8_t)(v >> 24); }

/* PNG signature + a valid IHDR chunk (correct CRC) claiming w x h RGB, and nothing after it */
static size_t png_header(uint8_t out[33], uint32_t w, uint32_t h) {
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    memcpy(out, sig, 8);
    be32(out + 8, 13);
    memcpy(out + 12, "IHDR", 4);
    be32(out + 16, w);
    be32(out + 20, h);
    out[24] = 8; out[25] = 2; out[26] = 0; out[27] = 0; out[28] = 0;
    be32(out + 29, sialo_crc32(out + 12, 17));
    return 33;
}

static void refusals(void) {
    expect_refused(NULL, 0, "empty", "NULL, 0 bytes");
    expect_refused(NULL, 10, "empty", "NULL, 10 bytes");
    uint8_t one = 0;
    expect_refused(&one, 0, "empty", "0 bytes");
    const char *text = "this is certainly not an image, just some text that goes on for a while......";
    expect_refused(text, strlen(text), "not a PNG, JPEG, BMP or GIF", "text");
    uint8_t garbage[4096];
    for (size_t i = 0; i < sizeof garbage; i++) garbage[i] = (uint8_t)rnd();
    garbage[0] = 0x12;
    expect_refused(garbage, sizeof garbage, "cannot read", "4 KB of random bytes");
    expect_refused(garbage, 1, "cannot read", "1 random byte");

    /* too small: 1x1, 31x200, 200x31 (32x32 is accepted above) */
    static const int small[3][2] = {{1, 1}, {31, 200}, {200, 31}};
    for (int i = 0; i < 3; i++) {
        uint8_t *px = pattern(small[i][0], small[i][1], 3);
        membuf m = encode("png", small[i][0], small[i][1], 3, px);
        char what[64];
        snprintf(what, sizeof what, "%dx%d PNG", small[i][0], small[i][1]);
        expect_refused(m.p, m.n, "at least", what);
        free(px);
        free(m.p);
    }

    /* too many pixels, from the header alone */
    uint8_t hdr[33];
    size_t hn = png_header(hdr, 100000, 100000);
    clear_error();
    sialo_image img;
    int rc = sialo_image_decode(hdr, hn, &img);
    CHECK(rc < 0 && *sialo_error(), "100000x100000 PNG header: not refused");
    CHECK(strstr(sialo_error(), "megapixel") != NULL,
              "100000x100000 PNG: reason '%s' does not mention the megapixel limit", sialo_error());
    /* over stb's own 2^30-byte limit too: the header check names the megapixel limit first */
    hn = png_header(hdr, 20000, 20000);
    clear_error();
    rc = sialo_image_decode(hdr, hn, &img);
    CHECK(rc < 0 && *sialo_error(), "20000x20000 PNG header: not refused");
    CHECK(strstr(sialo_error(), "megapixel") != NULL, "20000x20000 PNG (400 Mpx): reason '%s'", sialo_error());
    hn = png_header(hdr, 16384, 16384); /* 268 Mpx: under stb's 2^30-byte check */
    expect_refused(hdr, hn, "megapixel", "16384x16384 PNG header");
    hn = png_header(hdr, 8192, 8193);
    expect_refused(hdr, hn, "megapixel", "8192x8193 PNG header (one row over 64 Mpx)");
    hn = png_header(hdr, 65536, 1025);
    expect_refused(hdr, hn, "megapixel", "65536x1025 PNG header");
    /* exactly at the limit: accepted by the size check, then fails on the missing data */
    hn = png_header(hdr, 8192, 8192);
    expect_refused(hdr, hn, "the PNG file is truncated after chunk IHDR", "8192x8192 PNG header without data");
    /* the IHDR CRC is right: damaging it is named */
    hdr[32] ^= 1;
    expect_refused(hdr, hn, "the PNG file is damaged: checksum of chunk IHDR is wrong", "PNG header with a bad CRC");

    /* BMP header claiming 30000x30000 (900 Mpx), nothing after it */
    {
        uint8_t bmp[54] = {'B', 'M'};
        le32(bmp + 2, 54); le32(bmp + 10, 54); le32(bmp + 14, 40);
        le32(bmp + 18, 30000); le32(bmp + 22, 30000);
        bmp[26] = 1; bmp[28] = 24;
        expect_refused(bmp, sizeof bmp, "megapixel", "30000x30000 BMP header");
        le32(bmp + 22, (uint32_t)-30000); /* top-down */
        expect_refused(bmp, sizeof bmp, "megapixel", "30000x-30000 BMP header");
    }
    /* JPEG: SOI + SOF0 claiming w x h, 3 components */
    {
        static const uint32_t jd[2][2] = {{10000, 10000}, {65000, 65000}};
        for (int i = 0; i < 2; i++) {
            uint8_t j[2 + 19] = {0xFF, 0xD8, 0xFF, 0xC0, 0, 17, 8};
            j[7] = (uint8_t)(jd[i][1] >> 8); j[8] = (uint8_t)jd[i][1]; j[9] = (uint8_t)(jd[i][0] >> 8); j[10] = (uint8_t)jd[i][0];
            j[11] = 3;
            for (int c = 0; c < 3; c++) { j[12 + 3 * c] = (uint8_t)(c + 1); j[13 + 3 * c] = 0x11; j[14 + 3 * c] = 0; }
            char what[64];
            snprintf(what, sizeof what, "%ux%u JPEG header", jd[i][0], jd[i][1]);
            if (i == 0) expect_refused(j, sizeof j, "megapixel", what);
            else {
                clear_error();
                rc = sialo_image_decode(j, sizeof j, &img);
                CHECK(rc < 0 && *sialo_error(), "%s: not refused", what);
                CHECK(strstr(sialo_error(), "megapixel") != NULL, "%s (4.2 Gpx): reason '%s'", what, sialo_error());
            }
        }
    }
    /* GIF logical screen of 65535x65535 */
    {
        uint8_t gif[13 + 6] = {'G', 'I', 'F', '8', '9', 'a', 0xFF, 0xFF, 0xFF, 0xFF, 0x00, 0, 0};
        gif[13] = 0x3B;
        expect_refused(gif, sizeof gif, "megapixel", "65535x65535 GIF header");
    }

    /* truncated PNG: every length from 1 to the whole minus one byte (tight copies: ASan sees
       over-reads); the first half is checked for a specific reason */
    {
        uint8_t *px = pattern(64, 64, 3);
        membuf m = encode("png", 64, 64, 3, px);
        int accepted = 0;
        for (size_t len = 1; len < m.n; len += (len < 64 ? 1 : 7)) {
            uint8_t *cut = malloc(len);
            memcpy(cut, m.p, len);
            clear_error();
            int r = sialo_image_decode(cut, len, &img);
            if (r == 0) { accepted++; sialo_image_free(&img); }
            else CHECK(*sialo_error(), "PNG cut to %zu bytes: no reason", len);
            free(cut);
        }
        CHECK(accepted == 0, "%d truncated PNGs were accepted", accepted);
        uint8_t *half = malloc(m.n / 2);
        memcpy(half, m.p, m.n / 2);
        expect_refused(half, m.n / 2, "the PNG file is truncated inside chunk IDAT", "PNG cut in half");
        free(half);
        free(px);
        free(m.p);
    }

    /* JPEG cut in half (905 bytes, the scan data starts at 292: the cut is inside it) */
    {
        size_t n;
        uint8_t *b = slurp("tests/fixtures/baseline.jpg", &n);
        if (b) {
            size_t hn2 = n / 2;
            uint8_t *half = malloc(hn2);
            memcpy(half, b, hn2);
            clear_error();
            rc = sialo_image_decode(half, hn2, &img);
            CHECK(rc < 0 && *sialo_error(), "JPEG cut in half (%zu of %zu bytes) was decoded as a %dx%d image", hn2, n, img.w, img.h);
            if (rc == 0) sialo_image_free(&img);
            /* cut anywhere: refused or decoded, never a crash; cut inside the headers: refused */
            for (size_t len = 1; len < n; len++) {
                uint8_t *cut = malloc(len);
                memcpy(cut, b, len);
                clear_error();
                rc = sialo_image_decode(cut, len, &img);
                if (len < 292) CHECK(rc < 0 && *sialo_error(), "JPEG cut to %zu bytes (inside the headers) was accepted", len);
                if (rc == 0) sialo_image_free(&img);
                free(cut);
            }
            free(half);
            free(b);
        }
    }
}

/* decode in a child process: 10 = decoded, 11 = refused with a reason, 12 = refused without one,
   anything else (a signal, a sanitizer's exit) = crashed. Keeps this test alive when the
   decoder is known to corrupt memory on some input. */
static int decode_in_child(const void *data, size_t n, char *why, size_t why_size) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], 2); /* a sanitizer report becomes the reason */
        sialo_image img;
        int rc = sialo_image_decode(data, n, &img);
        const char *e = sialo_error();
        if (write(fd[1], e, strlen(e)) < 0) _exit(13);
        _exit(rc == 0 ? 10 : *e ? 11 : 12);
    }
    close(fd[1]);
    ssize_t k = read(fd[0], why, why_size - 1);
    why[k > 0 ? k : 0] = 0;
    for (size_t l = strlen(why); l && (why[l - 1] == '\n' || why[l - 1] == '\r'); ) why[--l] = 0;
    close(fd[0]);
    int st = 0;
    waitpid(pid, &st, 0);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return WEXITSTATUS(st);
}

/* JPEG huffman tables whose 16 code counts sum to more than 256 symbols: stb_image 2.27 (Debian's
   libstb-dev 0.0~git20220908) writes past stbi__huffman.size[257] / .values[256] in
   stbi__build_huffman (fixed upstream in 2.28 with an n > 256 check) -- memory corruption on a
   crafted file, reached from stbi_info before any size check. */
static void jpeg_dht_overflow(void) {
    for (int table = 0; table < 2; table++) {
        size_t nsym = 16 * 255, seg = 1 + 16 + nsym, n = 4 + 2 + seg + 2;
        uint8_t *j = malloc(n);
        j[0] = 0xFF; j[1] = 0xD8; j[2] = 0xFF; j[3] = 0xC4;
        j[4] = (uint8_t)((seg + 2) >> 8); j[5] = (uint8_t)(seg + 2);
        j[6] = table ? 0x13 : 0x00; /* AC table 3 / DC table 0 */
        memset(j + 7, 255, 16);
        memset(j + 23, 0x41, nsym);
        j[n - 2] = 0xFF; j[n - 1] = 0xD9;
        char why[600];
        int st = decode_in_child(j, n, why, sizeof why);
        CHECK(st == 11, "JPEG with a DHT of %zu symbols (table %s): the decoder %s (child status %d)%s%s", nsym,
                  table ? "AC3" : "DC0", st == 10 ? "accepted it" : st == 11 ? "refused it" : "crashed / hit UB", st,
                  *why ? ": " : "", why);
        free(j);
    }
}

/* a refusal in the words of src/io/image_errors.c, not a decoder's code ("outofdata", "unknown marker") */
static int is_sentence(const char *e) {
    static const char *const starts[] = {"the PNG ", "the JPEG ", "the BMP ", "the GIF ", "PNG header: ", "BMP header: ",
                                         "GIF header: ", "the image is ", "cannot read the image: ", "not enough memory"};
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        if (!strncmp(e, starts[i], strlen(starts[i]))) return 1;
    return 0;
}

/* seeded mutations of each format: each either decodes to a sane image or fails with a sentence */
static void mutations(void) {
    membuf src[5];
    uint8_t *px = pattern(48, 40, 4);
    src[0] = encode("png", 48, 40, 3, px);
    src[1] = encode("png", 48, 40, 2, px);
    src[2].p = slurp("tests/fixtures/baseline.jpg", &src[2].n);
    src[3] = encode("bmp", 48, 40, 3, px);
    free(px);
    size_t n = 0;
    uint8_t *gif = slurp("tests/fixtures/two-frames.gif", &n);
    src[4] = (membuf){gif, gif ? n : 0, n};
    int decoded = 0, refused = 0;
    for (int s = 0; s < 5; s++) {
        if (!src[s].p) continue;
        for (int it = 0; it < 300; it++) {
            size_t len = src[s].n;
            uint8_t *c = malloc(len);
            memcpy(c, src[s].p, len);
            int k = 1 + (int)(rnd() % 4);
            for (int j = 0; j < k; j++) {
                size_t pos = rnd() % len;
                if (rnd() % 2) c[pos] ^= (uint8_t)(1u << (rnd() % 8));
                else c[pos] = (uint8_t)rnd();
            }
            if (rnd() % 4 == 0) len = 1 + rnd() % len; /* and sometimes truncate */
            if (jpeg_has_oversized_dht(c, len)) { /* the known stb_image overflow: keep it out of this process */
                char why[600];
                int st = decode_in_child(c, len, why, sizeof why);
                CHECK(st == 11, "mutated JPEG %d with an oversized huffman table: child status %d", it, st);
                free(c);
                continue;
            }
            clear_error();
            sialo_image img;
            int rc = sialo_image_decode(c, len, &img);
            if (rc == 0) {
                decoded++;
                /* a PNG's chunks all carry a CRC-32: a changed byte is always found */
                CHECK(s > 1 || (len == src[s].n && !memcmp(c, src[s].p, len)), "mutated PNG %d (format %d) was decoded", it, s);
                CHECK(img.rgb && img.w >= SIALO_MIN_SIDE && img.h >= SIALO_MIN_SIDE &&
                      (uint64_t)img.w * img.h <= SIALO_MAX_PIXELS, "mutation decoded to a bad image %dx%d", img.w, img.h);
                sialo_image_free(&img);
            } else {
                refused++;
                CHECK(*sialo_error(), "format %d mutation %d: refused without a reason", s, it);
                CHECK(is_sentence(sialo_error()), "format %d mutation %d: '%s' is not a sentence of image_errors.c", s, it, sialo_error());
            }
            free(c);
        }
        free(src[s].p);
    }
    printf("image mutations: %d decoded, %d refused\n", decoded, refused);
}

/* ------------------------------------------------------------------ 3. resizing */
static void resizing(void) {
    const float one[3] = {1, 1, 1}, zero[3] = {0, 0, 0};
    /* constant image stays constant, down and up */
    static const int sizes[][4] = {{50, 40, 17, 23}, {50, 40, 224, 224}, {640, 480, 224, 224}, {33, 35, 32, 32}, {40, 40, 1, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int sw = sizes[s][0], sh = sizes[s][1], dw = sizes[s][2], dh = sizes[s][3];
        uint8_t *src = malloc((size_t)sw * sh * 3);
        for (int i = 0; i < sw * sh; i++) { src[3 * i] = 10; src[3 * i + 1] = 200; src[3 * i + 2] = 255; }
        float *dst = malloc((size_t)dw * dh * 3 * sizeof *dst);
        CHECK(sialo_resize_rgb(src, sw, sh, dw, dh, one, zero, dst) == 0, "resize %dx%d -> %dx%d: %s", sw, sh, dw, dh, sialo_error());
        float worst = 0;
        for (int i = 0; i < dw * dh; i++) {
            worst = fmaxf(worst, fabsf(dst[3 * i] - 10));
            worst = fmaxf(worst, fabsf(dst[3 * i + 1] - 200));
            worst = fmaxf(worst, fabsf(dst[3 * i + 2] - 255));
        }
        CHECK(worst < 1e-3f, "constant image %dx%d -> %dx%d changed by %g", sw, sh, dw, dh, worst);
        free(src);
        free(dst);
    }
    /* identity size keeps every pixel; normalisation x * scale + bias is applied */
    {
        int w = 37, h = 29;
        uint8_t *src = pattern(w, h, 3);
        float *dst = malloc((size_t)w * h * 3 * sizeof *dst);
        CHECK(sialo_resize_rgb(src, w, h, w, h, one, zero, dst) == 0, "identity resize");
        float worst = 0;
        for (int i = 0; i < w * h * 3; i++) worst = fmaxf(worst, fabsf(dst[i] - src[i]));
        CHECK(worst < 1e-4f, "identity resize changed a pixel by %g", worst);
        const float sc[3] = {1 / 127.5f, 2.0f, -1.0f}, bi[3] = {-1.0f, 0.5f, 3.0f};
        CHECK(sialo_resize_rgb(src, w, h, w, h, sc, bi, dst) == 0, "identity resize with normalisation");
        worst = 0;
        for (int i = 0; i < w * h * 3; i++) worst = fmaxf(worst, fabsf(dst[i] - (src[i] * sc[i % 3] + bi[i % 3])));
        CHECK(worst < 1e-4f, "normalisation off by %g", worst);
        free(src);
        free(dst);
    }
    /* checkerboards: 1-pixel cells, downscaled 2x, 3x and 4x -> the mean (127.5) away from the
       border. 3x tells antialiasing from point-sampled bilinear: a bilinear sample at the output
       pixel centre hits a single input pixel (0 or 255), the triangle filter averages ~9x9. */
    for (int f = 2; f <= 4; f++) {
        int sw = 96, sh = 96, dw = sw / f, dh = sh / f;
        uint8_t *src = malloc((size_t)sw * sh * 3);
        for (int y = 0; y < sh; y++)
            for (int x = 0; x < sw; x++) memset(src + ((size_t)y * sw + x) * 3, (x + y) % 2 ? 255 : 0, 3);
        float *dst = malloc((size_t)dw * dh * 3 * sizeof *dst);
        CHECK(sialo_resize_rgb(src, sw, sh, dw, dh, one, zero, dst) == 0, "checkerboard resize");
        float worst = 0, tol = f == 3 ? 3.0f : 1e-3f; /* 3x: the 6-tap triangle weighs the two parities 5:4 */
        for (int y = 1; y < dh - 1; y++)
            for (int x = 1; x < dw - 1; x++)
                for (int c = 0; c < 3; c++) worst = fmaxf(worst, fabsf(dst[((size_t)y * dw + x) * 3 + c] - 127.5f));
        CHECK(worst <= tol, "checkerboard %dx downscale: interior differs from the mean by %g", f, worst);
        /* the border is a renormalised, one-sided average: still far from 0 / 255 */
        int edge_ok = 1;
        for (int x = 0; x < dw; x++) edge_ok &= dst[x * 3] > 64 && dst[x * 3] < 192;
        CHECK(edge_ok, "checkerboard %dx downscale: the border row is aliased", f);
        free(src);
        free(dst);
    }
    /* a vertical ramp downscaled keeps its monotonicity and range */
    {
        int sw = 64, sh = 256, dw = 16, dh = 50;
        uint8_t *src = malloc((size_t)sw * sh * 3);
        for (int y = 0; y < sh; y++) memset(src + (size_t)y * sw * 3, y, (size_t)sw * 3);
        float *dst = malloc((size_t)dw * dh * 3 * sizeof *dst);
        CHECK(sialo_resize_rgb(src, sw, sh, dw, dh, one, zero, dst) == 0, "ramp resize");
        int mono = 1;
        for (int y = 1; y < dh; y++) mono &= dst[(size_t)y * dw * 3] > dst[(size_t)(y - 1) * dw * 3];
        CHECK(mono && dst[0] >= 0 && dst[(size_t)(dh - 1) * dw * 3] <= 255, "ramp not monotonic / out of range");
        free(src);
        free(dst);
    }
}

int main(void) {
    decoding();
    refusals();
    mutations();
    jpeg_dht_overflow();
    resizing();
    return test_summary("test_image");
}
