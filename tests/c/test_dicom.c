/* test_dicom.c — the DICOM reader (src/io/dicom.c) against well-formed and hostile files.
 *
 * The files are written here, byte by byte, by a tiny DICOM writer (explicit or implicit VR):
 * native 8-bit grey with ultrasound regions, an undefined-length sequence and a patient name;
 * 16-bit implicit VR with a window; RLE Lossless (2 frames, offset table); JPEG Baseline (the
 * committed fixtures tests/fixtures/baseline.jpg and grey.jpg, split into fragments, with and
 * without an offset table). Then:
 *   1. they decode to the pixels written (RLE, native) or stb_image's decode of the JPEG;
 *   2. every truncation of every file, byte by byte, and a few thousand seeded byte mutations:
 *      a refusal with a reason or a success, never a crash or a read outside the buffer (each
 *      variant sits in a buffer of exactly its size, under ASan / UBSan);
 *   3. targeted damage, each with its sentence: lengths past the end, odd lengths, absurd rows /
 *      columns / frames, 100 nested sequences, a lying offset table, lying RLE segments, the
 *      unsupported and unknown transfer syntaxes, no DICM marker, a missing frame;
 *   4. the metadata JSON names modality, size, syntax and regions, never the patient.
 * Run from the repository root. Prints "N passed, M failed"; exit status 1 on any failure.
 */
#include "check.h"
#include "sialoscan.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>
/* stb_image_write's zlib (compiled natively by src/io/stb_impl.c) */
unsigned char *stbi_zlib_compress(unsigned char *data, int data_len, int *out_len, int quality);

static uint64_t rng = 0x243F6A8885A308D3ull;
static uint32_t rnd(void) { return xorshift_next(&rng); }

/* ------------------------------------------------------------------ a tiny DICOM writer */
typedef struct { uint8_t *p; size_t n, cap; int explicit_vr, big; } dw;

static void put(dw *w, const void *d, size_t n) {
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 256;
        w->p = realloc(w->p, w->cap);
    }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}
static void u16(dw *w, unsigned v) {
    uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
    if (w->big) { uint8_t t = b[0]; b[0] = b[1]; b[1] = t; }
    put(w, b, 2);
}
static void u32(dw *w, uint32_t v) {
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    if (w->big) { uint8_t t = b[0]; b[0] = b[3]; b[3] = t; t = b[1]; b[1] = b[2]; b[2] = t; }
    put(w, b, 4);
}
static int is_long(const char *vr) { return strstr("OB OD OF OL OV OW SQ SV UC UN UR UT UV", vr) != NULL; }
/* an element header; len 0xFFFFFFFF = undefined */
static void hdr(dw *w, unsigned g, unsigned e, const char *vr, uint32_t len) {
    u16(w, g); u16(w, e);
    if (g == 0xFFFE || !w->explicit_vr) { u32(w, len); return; }
    put(w, vr, 2);
    if (is_long(vr)) { u16(w, 0); u32(w, len); }
    else u16(w, len);
}
static void elem(dw *w, unsigned g, unsigned e, const char *vr, const void *v, size_t n) {
    hdr(w, g, e, vr, (uint32_t)(n + (n & 1)));
    put(w, v, n);
    if (n & 1) put(w, strcmp(vr, "UI") && strcmp(vr, "OB") ? " " : "", 1);
}
static void str(dw *w, unsigned g, unsigned e, const char *vr, const char *s) { elem(w, g, e, vr, s, strlen(s)); }
static void us(dw *w, unsigned g, unsigned e, unsigned v) { hdr(w, g, e, "US", 2); u16(w, v); }
static void ul(dw *w, unsigned g, unsigned e, uint32_t v) { hdr(w, g, e, "UL", 4); u32(w, v); }

static size_t meta_end; /* where the data set of the last begin() starts */
static size_t find(const dw *w, const void *needle, size_t k, size_t from);
/* preamble, DICM, the meta group (explicit), then the data set in the given VR style */
static void begin(dw *w, const char *ts, int explicit_vr) {
    memset(w, 0, sizeof *w);
    uint8_t pre[128] = {0};
    put(w, pre, 128);
    put(w, "DICM", 4);
    w->explicit_vr = 1;
    str(w, 0x0002, 0x0001, "OB", "\0\1");
    str(w, 0x0002, 0x0010, "UI", ts);
    w->explicit_vr = explicit_vr;
    meta_end = w->n;
}

#define PATIENT "Doe^Jane^SECRETNAME"
#define PATIENT_ID "PID-SECRET-12345"

/* the attributes of an image (group 0008, 0010, 0028) */
static void image_attrs(dw *w, int rows, int cols, int spp, const char *pi, int bits, const char *frames) {
    str(w, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.6.1");
    str(w, 0x0008, 0x0060, "CS", "US");
    str(w, 0x0008, 0x0070, "LO", "ACME");
    str(w, 0x0008, 0x1090, "LO", "Sono 1");
    str(w, 0x0010, 0x0010, "PN", PATIENT);
    str(w, 0x0010, 0x0020, "LO", PATIENT_ID);
    str(w, 0x0010, 0x0030, "DA", "19700101");
    us(w, 0x0028, 0x0002, (unsigned)spp);
    str(w, 0x0028, 0x0004, "CS", pi);
    if (spp == 3) us(w, 0x0028, 0x0006, 0);
    if (frames) str(w, 0x0028, 0x0008, "IS", frames);
    us(w, 0x0028, 0x0010, (unsigned)rows);
    us(w, 0x0028, 0x0011, (unsigned)cols);
    us(w, 0x0028, 0x0100, (unsigned)bits);
    us(w, 0x0028, 0x0101, (unsigned)bits);
    us(w, 0x0028, 0x0102, (unsigned)bits - 1);
    us(w, 0x0028, 0x0103, 0);
}

enum { W = 40, H = 36 };
static uint8_t grey[W * H];

/* A: explicit VR, native 8-bit grey; a region sequence (undefined lengths), another sequence */
static dw file_native_ts(const char *ts, int explicit_vr) {
    dw w;
    begin(&w, ts, explicit_vr);
    str(&w, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.6.1");
    str(&w, 0x0008, 0x0060, "CS", "US");
    str(&w, 0x0008, 0x0070, "LO", "ACME");
    hdr(&w, 0x0008, 0x1140, "SQ", 0xFFFFFFFF); /* a referenced-image sequence: one item, undefined lengths */
    hdr(&w, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
    str(&w, 0x0008, 0x1150, "UI", "1.2.3");
    hdr(&w, 0xFFFE, 0xE00D, "", 0);
    hdr(&w, 0xFFFE, 0xE0DD, "", 0);
    str(&w, 0x0010, 0x0010, "PN", PATIENT);
    str(&w, 0x0010, 0x0020, "LO", PATIENT_ID);
    hdr(&w, 0x0018, 0x6011, "SQ", 0xFFFFFFFF);
    hdr(&w, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
    us(&w, 0x0018, 0x6012, 1);
    ul(&w, 0x0018, 0x6018, 2);
    ul(&w, 0x0018, 0x601A, 1);
    ul(&w, 0x0018, 0x601C, 37);
    ul(&w, 0x0018, 0x601E, 34);
    hdr(&w, 0xFFFE, 0xE00D, "", 0);
    hdr(&w, 0xFFFE, 0xE0DD, "", 0);
    us(&w, 0x0028, 0x0002, 1);
    str(&w, 0x0028, 0x0004, "CS", "MONOCHROME2");
    us(&w, 0x0028, 0x0010, H);
    us(&w, 0x0028, 0x0011, W);
    us(&w, 0x0028, 0x0100, 8);
    us(&w, 0x0028, 0x0101, 8);
    us(&w, 0x0028, 0x0103, 0);
    elem(&w, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
    return w;
}
static dw file_native(void) { return file_native_ts("1.2.840.10008.1.2.1", 1); }

/* E: Deflated Explicit VR Little Endian: file A's data set deflated by stb_image_write's zlib (its
 * 2-byte header and Adler-32 dropped: DICOM's stream is raw deflate) */
static dw file_deflated(void) {
    dw w = file_native_ts("1.2.840.10008.1.2.1.99", 1);
    int zl;
    unsigned char *z = stbi_zlib_compress(w.p + meta_end, (int)(w.n - meta_end), &zl, 8);
    w.n = meta_end;
    put(&w, z + 2, (size_t)zl - 6);
    free(z);
    return w;
}

/* F: Explicit VR Big Endian: 16-bit grey (big-endian words) with a window, a region sequence */
static dw file_big16(void) {
    dw w;
    begin(&w, "1.2.840.10008.1.2.2", 1);
    w.big = 1;
    str(&w, 0x0008, 0x0060, "CS", "US");
    hdr(&w, 0x0018, 0x6011, "SQ", 0xFFFFFFFF);
    hdr(&w, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
    ul(&w, 0x0018, 0x6018, 2);
    ul(&w, 0x0018, 0x601A, 1);
    ul(&w, 0x0018, 0x601C, 37);
    ul(&w, 0x0018, 0x601E, 34);
    uint8_t fd[8] = {0x3F, 0x89, 0x99, 0x99, 0x99, 0x99, 0x99, 0x9A}; /* 0.0125, big endian */
    elem(&w, 0x0018, 0x602C, "FD", fd, 8);
    hdr(&w, 0xFFFE, 0xE00D, "", 0);
    hdr(&w, 0xFFFE, 0xE0DD, "", 0);
    image_attrs(&w, H, W, 1, "MONOCHROME2", 16, NULL);
    str(&w, 0x0028, 0x1050, "DS", "1510.5");
    str(&w, 0x0028, 0x1051, "DS", "1021");
    hdr(&w, 0x7FE0, 0x0010, "OW", W * H * 2);
    for (int i = 0; i < W * H; i++) u16(&w, 1000 + 4u * grey[i]);
    return w;
}

/* G: 16-bit RGB (bits stored 16), planar 0 or 1, little or big endian: R = g * 257, G = (255 - g) * 257, B = 0xFFFF */
static dw file_rgb16(int planar, int big) {
    dw w;
    begin(&w, big ? "1.2.840.10008.1.2.2" : "1.2.840.10008.1.2.1", 1);
    w.big = big;
    image_attrs(&w, H, W, 3, "RGB", 16, NULL);
    size_t at = find(&w, "\x28\x00\x06\x00", 4, meta_end);
    if (big) at = find(&w, "\x00\x28\x00\x06", 4, meta_end);
    w.p[at + 8 + big] = (uint8_t)planar; /* PlanarConfiguration */
    hdr(&w, 0x7FE0, 0x0010, "OW", W * H * 6);
    for (int i = 0; i < W * H * 3; i++) {
        int c = planar ? i / (W * H) : i % 3, px = planar ? i % (W * H) : i / 3;
        u16(&w, c == 0 ? grey[px] * 257u : c == 1 ? (255u - grey[px]) * 257u : 0xFFFFu);
    }
    return w;
}

/* D: implicit VR, 16-bit, window: stored 1000 + 4 g maps to g exactly */
static dw file_implicit16(void) {
    dw w;
    begin(&w, "1.2.840.10008.1.2", 0);
    image_attrs(&w, H, W, 1, "MONOCHROME2", 16, NULL);
    str(&w, 0x0028, 0x1050, "DS", "1510.5"); /* centre - 0.5 - (width - 1)/2 = 1000 */
    str(&w, 0x0028, 0x1051, "DS", "1021");   /* width - 1 = 1020 = 4 * 255 */
    uint8_t px[W * H * 2];
    for (int i = 0; i < W * H; i++) { unsigned v = 1000 + 4u * grey[i]; px[2 * i] = (uint8_t)v; px[2 * i + 1] = (uint8_t)(v >> 8); }
    elem(&w, 0x7FE0, 0x0010, "OW", px, sizeof px);
    return w;
}

/* PackBits of n bytes: literal runs of up to 128 and repeats */
static size_t packbits(const uint8_t *s, size_t n, uint8_t *o) {
    size_t k = 0, i = 0;
    while (i < n) {
        size_t r = 1;
        while (i + r < n && s[i + r] == s[i] && r < 128) r++;
        if (r >= 3) { o[k++] = (uint8_t)(int8_t)(1 - (int)r); o[k++] = s[i]; i += r; continue; }
        size_t l = 0;
        while (i + l < n && l < 128 && !(i + l + 2 < n && s[i + l] == s[i + l + 1] && s[i + l] == s[i + l + 2])) l++;
        o[k++] = (uint8_t)(l - 1);
        memcpy(o + k, s + i, l);
        k += l;
        i += l;
    }
    return k;
}

/* B: RLE, 2 frames (the grey frame and its negative), with an offset table */
static dw file_rle(void) {
    dw w;
    begin(&w, "1.2.840.10008.1.2.5", 1);
    image_attrs(&w, H, W, 1, "MONOCHROME2", 8, "2");
    uint8_t frag[2][64 + W * H * 2];
    size_t fl[2];
    for (int f = 0; f < 2; f++) {
        uint8_t src[W * H];
        for (int i = 0; i < W * H; i++) src[i] = f ? (uint8_t)(255 - grey[i]) : grey[i];
        memset(frag[f], 0, 64);
        frag[f][0] = 1;
        frag[f][4] = 64;
        fl[f] = 64 + packbits(src, W * H, frag[f] + 64);
        if (fl[f] & 1) frag[f][fl[f]++] = 0;
    }
    hdr(&w, 0x7FE0, 0x0010, "OB", 0xFFFFFFFF);
    hdr(&w, 0xFFFE, 0xE000, "", 8);
    u32(&w, 0);
    u32(&w, (uint32_t)(8 + fl[0]));
    for (int f = 0; f < 2; f++) { hdr(&w, 0xFFFE, 0xE000, "", (uint32_t)fl[f]); put(&w, frag[f], fl[f]); }
    hdr(&w, 0xFFFE, 0xE0DD, "", 0);
    return w;
}

/* C: JPEG Baseline, 2 frames (two fixtures of one size are not at hand: the same JPEG twice),
 * each split into 2 fragments; with or without the offset table */
static dw file_jpeg(const uint8_t *jpg, size_t jn, int with_bot, int iw, int ih, const char *pi) {
    dw w;
    begin(&w, "1.2.840.10008.1.2.4.50", 1);
    image_attrs(&w, ih, iw, strcmp(pi, "MONOCHROME2") ? 3 : 1, pi, 8, "2");
    size_t half = (jn / 2) & ~(size_t)1, rest = jn - half, rest_pad = rest + (rest & 1);
    hdr(&w, 0x7FE0, 0x0010, "OB", 0xFFFFFFFF);
    if (with_bot) { hdr(&w, 0xFFFE, 0xE000, "", 8); u32(&w, 0); u32(&w, (uint32_t)(16 + half + rest_pad)); }
    else hdr(&w, 0xFFFE, 0xE000, "", 0);
    for (int f = 0; f < 2; f++) {
        hdr(&w, 0xFFFE, 0xE000, "", (uint32_t)half);
        put(&w, jpg, half);
        hdr(&w, 0xFFFE, 0xE000, "", (uint32_t)rest_pad);
        put(&w, jpg + half, rest);
        if (rest & 1) put(&w, "", 1);
    }
    hdr(&w, 0xFFFE, 0xE0DD, "", 0);
    return w;
}

/* ------------------------------------------------------------------ helpers */
/* every entry point on an exact-size copy; returns the decode status of frame 0 */
static int exercise(const uint8_t *p, size_t n) {
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, p, n);
    sialo_dicom_info in;
    int rc_info = sialo_dicom_read_info(b, n, &in);
    if (rc_info == 0) {
        char *js = sialo_dicom_info_json(&in);
        CHECK(js && !strstr(js, "SECRET"), "JSON leaks or fails");
        free(js);
    } else CHECK(*sialo_error(), "a refusal without a reason");
    sialo_image img;
    int rc = sialo_image_decode_frame(b, n, 0, 1, &img);
    if (rc == 0) { CHECK(img.w >= 32 && img.h >= 32 && img.rgb, "a decoded frame of %dx%d", img.w, img.h); sialo_image_free(&img); }
    else CHECK(*sialo_error(), "a refusal without a reason");
    if (sialo_image_frames(b, n) > 1 && sialo_image_decode_frame(b, n, 1, 0, &img) == 0) sialo_image_free(&img);
    free(b);
    return rc;
}

/* expect a refusal whose reason contains `what` */
static void refuse(const uint8_t *p, size_t n, const char *what, const char *label) {
    uint8_t *b = malloc(n);
    memcpy(b, p, n);
    sialo_image img;
    int rc = sialo_image_decode(b, n, &img);
    if (rc == 0) sialo_image_free(&img);
    CHECK(rc < 0 && strstr(sialo_error(), what), "%s: expected a refusal with '%s', got %d '%s'", label, what, rc, sialo_error());
    free(b);
}

static size_t find(const dw *w, const void *needle, size_t k, size_t from) {
    for (size_t i = from; i + k <= w->n; i++) if (!memcmp(w->p + i, needle, k)) return i;
    return (size_t)-1;
}
static dw copy(const dw *w) { dw c = *w; c.p = malloc(w->n); memcpy(c.p, w->p, w->n); c.cap = w->n; return c; }
static void set16(uint8_t *p, unsigned v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void set32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> 8 * i); }
/* offset of an element's tag in the data set (explicit or implicit) */
static size_t tag_at(const dw *w, unsigned g, unsigned e) {
    uint8_t t[4] = {(uint8_t)g, (uint8_t)(g >> 8), (uint8_t)e, (uint8_t)(e >> 8)};
    return find(w, t, 4, 132);
}

/* ---- JPEG colour: the fixtures colour444.jpg / colour420.jpg (libjpeg through PIL: JFIF, YCbCr,
 * component IDs 1 2 3; 48x40, white top-left 16x16 square), their markers edited */
static dw jpeg_fixture(const char *path) {
    dw j = {0};
    size_t n;
    uint8_t *b = slurp(path, &n);
    if (b) { j.p = b; j.n = j.cap = n; }
    return j;
}
/* the offset of the first segment with marker m (FF m), or -1 */
static long seg_at(const dw *j, uint8_t m) {
    size_t i = 2;
    while (i + 4 <= j->n && j->p[i] == 0xFF) {
        if (j->p[i + 1] == m) return (long)i;
        if (j->p[i + 1] == 0xDA) break;
        i += 2 + ((size_t)j->p[i + 2] << 8 | j->p[i + 3]);
    }
    return -1;
}
static void drop_seg(dw *j, uint8_t m) {
    long at = seg_at(j, m);
    if (at < 0) return;
    size_t len = 2 + ((size_t)j->p[at + 2] << 8 | j->p[at + 3]);
    memmove(j->p + at, j->p + at + len, j->n - at - len);
    j->n -= len;
}
static void add_adobe(dw *j, int transform) {
    static const uint8_t seg[16] = {0xFF, 0xEE, 0x00, 0x0E, 'A', 'd', 'o', 'b', 'e', 0x00, 0x64, 0x00, 0x00, 0x00, 0x00, 0};
    dw o = {0};
    put(&o, j->p, 2);
    put(&o, seg, 16);
    o.p[o.n - 1] = (uint8_t)transform;
    put(&o, j->p + 2, j->n - 2);
    free(j->p);
    *j = o;
}
/* component identifiers in the frame header and the scan header */
static void set_ids(dw *j, const uint8_t id[3]) {
    long sof = seg_at(j, 0xC0), sos = seg_at(j, 0xDA);
    uint8_t old[3];
    for (int c = 0; c < 3; c++) { old[c] = j->p[sof + 10 + 3 * c]; j->p[sof + 10 + 3 * c] = id[c]; }
    for (int c = 0; c < j->p[sos + 4]; c++)
        for (int k = 0; k < 3; k++) if (j->p[sos + 5 + 2 * c] == old[k]) { j->p[sos + 5 + 2 * c] = id[k]; break; }
}
static dw jcopy(const dw *j) { dw c = {0}; put(&c, j->p, j->n); return c; }

/* a raw deflate stream (fixed Huffman) of one 0 byte and then `n` copies of 258 bytes at distance 1 */
typedef struct { dw w; uint32_t acc; int bits; } bitw;
static void bits_put(bitw *b, uint32_t v, int n) {
    for (int i = 0; i < n; i++) {
        b->acc |= ((v >> i) & 1u) << b->bits;
        if (++b->bits == 8) { uint8_t c = (uint8_t)b->acc; put(&b->w, &c, 1); b->acc = 0; b->bits = 0; }
    }
}
static void code_put(bitw *b, uint32_t code, int n) { for (int i = n - 1; i >= 0; i--) bits_put(b, (code >> i) & 1u, 1); } /* Huffman codes: MSB first */
static dw deflate_bomb(size_t n) {
    bitw b = {0};
    bits_put(&b, 1, 1);          /* BFINAL */
    bits_put(&b, 1, 2);          /* fixed Huffman */
    code_put(&b, 0x30, 8);       /* literal 0 */
    for (size_t i = 0; i < n; i++) { code_put(&b, 0xC5, 8); code_put(&b, 0, 5); } /* length 258, distance 1 */
    code_put(&b, 0, 7);          /* end of block */
    bits_put(&b, 0, 7);
    return b.w;
}

static int has_note(const sialo_dicom_info *in, const char *what) {
    for (int i = 0; i < in->n_notes; i++) if (strstr(in->notes[i], what)) return 1;
    return 0;
}
/* decodes frame 0 to the grey frame (or its window-mapped 16-bit twin), with a note containing `what` (NULL: none) */
static void read_despite(const uint8_t *p, size_t n, const char *what, const char *label) {
    sialo_dicom_info in;
    int rc = sialo_dicom_read_info(p, n, &in);
    CHECK(rc == 0 && in.decodable, "%s: %s %s", label, sialo_error(), rc == 0 ? in.problem : "");
    if (rc) return;
    CHECK(what ? has_note(&in, what) : in.n_notes == 0, "%s: notes %d '%s' (expected '%s')", label, in.n_notes, in.n_notes ? in.notes[0] : "",
          what ? what : "none");
    char *js = sialo_dicom_info_json(&in);
    CHECK(js && (!what || strstr(js, what)) && strstr(js, "\"notes\":["), "%s: JSON %s", label, js ? js : "(null)");
    free(js);
    sialo_image img;
    CHECK(sialo_is_dicom(p, n), "%s: not recognised as DICOM", label);
    rc = sialo_image_decode(p, n, &img);
    CHECK(rc == 0, "%s: %s", label, sialo_error());
    if (rc) return;
    int bad = img.w != W || img.h != H;
    for (int i = 0; !bad && i < W * H; i++) bad += img.rgb[3 * i] != grey[i] || img.rgb[3 * i + 2] != grey[i];
    CHECK(!bad, "%s: not the pixels written", label);
    sialo_image_free(&img);
}

int main(void) {
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) grey[y * W + x] = (uint8_t)(x * 5 + y * 3 + ((x * y) % 17) * 4);
    size_t jn, gn;
    uint8_t *jpg = slurp("tests/fixtures/baseline.jpg", &jn), *gjpg = slurp("tests/fixtures/grey.jpg", &gn);
    CHECK(jpg && gjpg, "fixtures missing (run from the repository root)");
    if (!jpg || !gjpg) return test_summary("test_dicom");

    dw files[6] = {file_native(), file_implicit16(), file_rle(), file_jpeg(jpg, jn, 1, 80, 60, "YBR_FULL_422"),
                   file_jpeg(jpg, jn, 0, 80, 60, "YBR_FULL_422"), file_jpeg(gjpg, gn, 1, 48, 40, "MONOCHROME2")};
    const char *names[6] = {"native", "implicit16", "rle", "jpeg+bot", "jpeg-nobot", "jpeg-grey"};

    /* ---- 1. well-formed files decode */
    for (int f = 0; f < 6; f++) {
        sialo_dicom_info in;
        CHECK(sialo_is_dicom(files[f].p, files[f].n), "%s: not detected", names[f]);
        CHECK(sialo_dicom_read_info(files[f].p, files[f].n, &in) == 0 && in.decodable, "%s: %s %s", names[f], sialo_error(), in.problem);
        int nf = sialo_image_frames(files[f].p, files[f].n);
        CHECK(nf == (f >= 2 ? 2 : 1), "%s: %d frames", names[f], nf);
        for (int k = 0; k < nf; k++) {
            sialo_image img;
            int rc = sialo_image_decode_frame(files[f].p, files[f].n, k, 0, &img);
            CHECK(rc == 0, "%s frame %d: %s", names[f], k, sialo_error());
            if (rc) continue;
            if (f <= 2) {
                int bad = 0;
                for (int i = 0; i < W * H; i++) {
                    uint8_t want = k ? (uint8_t)(255 - grey[i]) : grey[i];
                    bad += img.rgb[3 * i] != want || img.rgb[3 * i + 1] != want || img.rgb[3 * i + 2] != want;
                }
                CHECK(img.w == W && img.h == H && !bad, "%s frame %d: %d pixels differ", names[f], k, bad);
            } else {
                int w, h, c;
                const uint8_t *src = f == 5 ? gjpg : jpg;
                uint8_t *ref = stbi_load_from_memory(src, (int)(f == 5 ? gn : jn), &w, &h, &c, 3);
                CHECK(ref && img.w == w && img.h == h && !memcmp(ref, img.rgb, (size_t)w * h * 3), "%s frame %d: not the JPEG's pixels", names[f], k);
                stbi_image_free(ref);
            }
            sialo_image_free(&img);
        }
        /* sialo_image_decode (the hook every caller uses) gives frame 0 */
        sialo_image img;
        CHECK(sialo_image_decode(files[f].p, files[f].n, &img) == 0, "%s: sialo_image_decode: %s", names[f], sialo_error());
        sialo_image_free(&img);
    }
    /* metadata and privacy */
    {
        sialo_dicom_info in;
        sialo_dicom_read_info(files[0].p, files[0].n, &in);
        char *js = sialo_dicom_info_json(&in);
        CHECK(js && strstr(js, "\"modality\":\"US\"") && strstr(js, "\"rows\":36") && strstr(js, "\"columns\":40") &&
                  strstr(js, "\"transfer_syntax\":\"Explicit VR Little Endian\"") && strstr(js, "\"x0\":2,\"y0\":1,\"x1\":37,\"y1\":34") &&
                  strstr(js, "Ultrasound Image Storage") && strstr(js, "\"manufacturer\":\"ACME\""),
              "metadata JSON: %s", js ? js : "(null)");
        CHECK(js && !strstr(js, "SECRET") && !strstr(js, "Doe") && !strstr(js, "1970"), "the JSON names the patient: %s", js);
        free(js);
        /* the region crop */
        sialo_image img;
        CHECK(sialo_image_decode_frame(files[0].p, files[0].n, 0, 1, &img) == 0 && img.w == 36 && img.h == 34 &&
                  img.rgb[0] == grey[1 * W + 2] && img.rgb[3 * (35 + 33 * 36)] == grey[34 * W + 37],
              "ultrasound region crop: %s", sialo_error());
        sialo_image_free(&img);
        CHECK(sialo_image_decode_frame(files[2].p, files[2].n, 5, 0, &img) < 0 && strstr(sialo_error(), "frame 5 does not exist (the DICOM file has 2 frames)"),
              "a missing frame: %s", sialo_error());
        CHECK(sialo_dicom_read_info(jpg, jn, &in) < 0 && !strcmp(sialo_error(), "not a DICOM file (no DICM marker after the 128-byte preamble)"),
              "not DICOM: %s", sialo_error());
        CHECK(sialo_image_frames(jpg, jn) == 1, "a JPEG has one frame");
    }

    /* ---- 2. every truncation, seeded mutations */
    int refused = 0, tried = 0;
    for (int f = 0; f < 6; f++) {
        for (size_t n = 0; n < files[f].n; n++, tried++) refused += exercise(files[f].p, n) < 0;
        for (int t = 0; t < 1500; t++) {
            dw c = copy(&files[f]);
            int k = 1 + (int)(rnd() % 4);
            for (int j = 0; j < k; j++) {
                size_t at = 128 + rnd() % (c.n - 128);
                switch (rnd() % 4) {
                case 0: c.p[at] = (uint8_t)rnd(); break;
                case 1: c.p[at] ^= (uint8_t)(1u << (rnd() % 8)); break;
                case 2: c.p[at] = 0xFF; break;
                default: if (at + 4 <= c.n) set32(c.p + at, rnd() % 3 ? rnd() % 4096 : 0xFFFFFFFFu); break;
                }
            }
            exercise(c.p, c.n);
            free(c.p);
        }
    }
    CHECK(refused >= tried * 95 / 100, "only %d of %d truncations refused", refused, tried);
    printf("truncations: %d of %d refused (the rest end after the last needed byte); 9000 mutations survived\n", refused, tried);

    /* ---- 3. targeted damage */
    {
        dw c = copy(&files[0]);
        size_t px = tag_at(&c, 0x7FE0, 0x0010);
        set32(c.p + px + 8, 0xFFFFFF00u); /* OB: tag, VR, 2 reserved, u32 length */
        refuse(c.p, c.n, "claims 4294967040 bytes but only", "pixel length past the end");
        set32(c.p + px + 8, W * H - 1); /* an odd length is read (see below); the byte left over is no element */
        refuse(c.p, c.n, "truncated (an element header at byte", "odd pixel data length, one byte left");
        free(c.p);
        c = copy(&files[0]);
        size_t rows = tag_at(&c, 0x0028, 0x0010), cols = tag_at(&c, 0x0028, 0x0011);
        set16(c.p + rows + 8, 65535);
        set16(c.p + cols + 8, 65535);
        refuse(c.p, c.n, "more than the 64 megapixel limit", "absurd rows and columns");
        set16(c.p + rows + 8, 360);
        set16(c.p + cols + 8, 400);
        refuse(c.p, c.n, "the DICOM pixel data holds 1440 bytes but 1 frame of 400x360 need 144000", "rows x columns past the data");
        set16(c.p + rows + 8, 0);
        refuse(c.p, c.n, "gives no image size", "zero rows");
        free(c.p);
        /* absurd frame counts */
        dw r = file_rle();
        size_t fr = tag_at(&r, 0x0028, 0x0008);
        memcpy(r.p + fr + 8, "9\0", 2); /* "9" padded: 9 frames, 2 fragments */
        refuse(r.p, r.n, "says 9 frames but its encapsulated pixel data has only 2 fragments", "more frames than fragments");
        free(r.p);
        dw big;
        begin(&big, "1.2.840.10008.1.2.1", 1);
        image_attrs(&big, H, W, 1, "MONOCHROME2", 8, "999999999");
        elem(&big, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(big.p, big.n, "number of frames is not between 1 and 100000", "999999999 frames");
        free(big.p);
        begin(&big, "1.2.840.10008.1.2.1", 1);
        image_attrs(&big, H, W, 1, "MONOCHROME2", 8, "1000");
        elem(&big, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(big.p, big.n, "pixel data holds 1440 bytes but 1000 frames", "1000 frames in one frame's bytes");
        free(big.p);
    }
    { /* deep nesting: 100 sequences, each in an item of the one before */
        dw d;
        begin(&d, "1.2.840.10008.1.2.1", 1);
        for (int i = 0; i < 100; i++) { hdr(&d, 0x0040, 0xA730, "SQ", 0xFFFFFFFF); hdr(&d, 0xFFFE, 0xE000, "", 0xFFFFFFFF); }
        for (int i = 0; i < 100; i++) { hdr(&d, 0xFFFE, 0xE00D, "", 0); hdr(&d, 0xFFFE, 0xE0DD, "", 0); }
        image_attrs(&d, H, W, 1, "MONOCHROME2", 8, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "nested deeper than 16 levels", "deep nesting");
        free(d.p);
        /* ... and 100000 (implicit VR, so every undefined length is a sequence): no stack overflow */
        begin(&d, "1.2.840.10008.1.2", 0);
        for (int i = 0; i < 100000; i++) { hdr(&d, 0x0040, 0xA730, "", 0xFFFFFFFF); hdr(&d, 0xFFFE, 0xE000, "", 0xFFFFFFFF); }
        refuse(d.p, d.n, "nested deeper than 16 levels", "very deep nesting");
        free(d.p);
        /* an unterminated sequence */
        begin(&d, "1.2.840.10008.1.2.1", 1);
        hdr(&d, 0x0040, 0xA730, "SQ", 0xFFFFFFFF);
        hdr(&d, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
        str(&d, 0x0008, 0x0060, "CS", "US");
        refuse(d.p, d.n, "truncated", "unterminated sequence");
        free(d.p);
    }
    { /* lying offset tables */
        dw c = copy(&files[3]);
        size_t bot = find(&c, "\xFE\xFF\x00\xE0\x08\x00\x00\x00", 8, 132);
        CHECK(bot != (size_t)-1, "no offset table found");
        uint32_t second = c.p[bot + 12] | c.p[bot + 13] << 8 | c.p[bot + 14] << 16 | (uint32_t)c.p[bot + 15] << 24;
        set32(c.p + bot + 12, second - 2); /* mid-fragment */
        refuse(c.p, c.n, "basic offset table does not match the fragments (frame 1)", "offset table mid-fragment");
        set32(c.p + bot + 12, 0x7FFFFFF0u);
        refuse(c.p, c.n, "basic offset table points past the end of the file (frame 1)", "offset table past the end");
        set32(c.p + bot + 12, 0); /* two frames at one place */
        refuse(c.p, c.n, "basic offset table does not match the fragments (frame 1)", "offset table repeats");
        set32(c.p + bot + 8, 4);  /* frame 0 not at the first fragment */
        set32(c.p + bot + 12, second);
        refuse(c.p, c.n, "basic offset table does not match the fragments (frame 0)", "offset table skips the first fragment");
        free(c.p);
        /* RLE: a segment offset outside the fragment, a segment count that lies */
        dw r = file_rle();
        size_t seg = find(&r, "\x01\x00\x00\x00\x40\x00\x00\x00", 8, 132);
        set32(r.p + seg + 4, 60000);
        refuse(r.p, r.n, "RLE segment 1 lies outside its frame", "RLE segment offset");
        set32(r.p + seg + 4, 64);
        set32(r.p + seg, 3);
        refuse(r.p, r.n, "RLE frame has 3 segments where 1 are needed", "RLE segment count");
        set32(r.p + seg, 1);
        r.p[seg + 64] = 127; /* a literal run of 128 from the first byte: the frame still ends right, or overflows */
        exercise(r.p, r.n);
        free(r.p);
    }
    { /* transfer syntaxes */
        static const struct { const char *uid, *msg; } ts[] = {
            /* the codec syntaxes read encapsulated frames only (tests/node/dicom-codecs.test.mjs decodes them) */
            {"1.2.840.10008.1.2.4.90", "is native but the transfer syntax JPEG 2000 Image Compression (Lossless Only) is encapsulated"},
            {"1.2.840.10008.1.2.4.80", "is native but the transfer syntax JPEG-LS Lossless Image Compression is encapsulated"},
            {"1.2.840.10008.1.2.4.70", "is native but the transfer syntax JPEG Lossless, Non-Hierarchical, First-Order Prediction"},
            {"1.2.840.10008.1.2.4.51", "is native but the transfer syntax JPEG Extended (Process 2 & 4) is encapsulated"},
            {"1.2.840.10008.1.2.4.201", "is native but the transfer syntax High-Throughput JPEG 2000 Image Compression (Lossless Only) is encapsulated"},
            {"1.2.840.10008.1.2.1.99", "the deflated DICOM data set is damaged (not a valid deflate stream)"}, /* not deflated */
            {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1 (1.2.840.10008.1.2.4.102) is not supported"},
            {"1.2.3.4.5", "DICOM transfer syntax 1.2.3.4.5 is not supported"},
        };
        for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
            dw d;
            begin(&d, ts[i].uid, 1);
            image_attrs(&d, H, W, 1, "MONOCHROME2", 8, NULL);
            elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
            refuse(d.p, d.n, ts[i].msg, ts[i].uid);
            free(d.p);
        }
        dw d;
        begin(&d, "1.2.840.10008.1.2.1", 1);
        d.n -= 8 + 20; /* drop the transfer syntax element ("1.2.840.10008.1.2.1" + pad = 20 bytes) */
        image_attrs(&d, H, W, 1, "MONOCHROME2", 8, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "no transfer syntax (0002,0010)", "no transfer syntax");
        free(d.p);
        /* photometric and bit depths not supported */
        begin(&d, "1.2.840.10008.1.2.1", 1);
        image_attrs(&d, H, W, 3, "YBR_PARTIAL_420", 8, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "photometric interpretation 'YBR_PARTIAL_420' is not supported", "YBR_PARTIAL_420");
        free(d.p);
        begin(&d, "1.2.840.10008.1.2.1", 1);
        image_attrs(&d, H, W, 1, "MONOCHROME2", 32, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "32 bits allocated are not supported", "32-bit");
        free(d.p);
        begin(&d, "1.2.840.10008.1.2.1", 1);
        image_attrs(&d, H, W, 1, "PALETTE COLOR", 8, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "palette colour lookup tables", "palette without tables");
        free(d.p);
        begin(&d, "1.2.840.10008.1.2.1", 1);
        image_attrs(&d, H, W, 1, "MONOCHROME2", 8, NULL);
        refuse(d.p, d.n, "has no pixel data (7FE0,0010)", "no pixel data");
        free(d.p);
        /* native pixel data under an encapsulated syntax and the reverse */
        begin(&d, "1.2.840.10008.1.2.5", 1);
        image_attrs(&d, H, W, 1, "MONOCHROME2", 8, NULL);
        elem(&d, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        refuse(d.p, d.n, "pixel data is native but the transfer syntax RLE Lossless is encapsulated", "native RLE");
        free(d.p);
        /* a bad VR, an item tag at the top level, a stray item delimiter */
        dw c = copy(&files[0]);
        size_t mod = tag_at(&c, 0x0008, 0x0060);
        c.p[mod + 4] = '1';
        refuse(c.p, c.n, "has no valid value representation", "bad VR");
        free(c.p);
        begin(&d, "1.2.840.10008.1.2.1", 1);
        hdr(&d, 0xFFFE, 0xE000, "", 0);
        refuse(d.p, d.n, "item tag (FFFE,E000) outside a sequence", "item at top level");
        free(d.p);
    }
    /* ---- 5. syntaxes added: deflated, big endian, 16-bit colour; every truncation, mutations */
    {
        dw more[5] = {file_deflated(), file_big16(), file_rgb16(0, 0), file_rgb16(1, 1), file_rgb16(0, 1)};
        const char *mn[5] = {"deflated", "big-endian 16-bit", "rgb16 LE planar 0", "rgb16 BE planar 1", "rgb16 BE planar 0"};
        for (int f = 0; f < 5; f++) {
            sialo_dicom_info in;
            CHECK(sialo_dicom_read_info(more[f].p, more[f].n, &in) == 0 && in.decodable && in.n_notes == 0, "%s: %s %s", mn[f], sialo_error(), in.problem);
            sialo_image img;
            int rc = sialo_image_decode_frame(more[f].p, more[f].n, 0, 0, &img);
            CHECK(rc == 0, "%s: %s", mn[f], sialo_error());
            if (rc) continue;
            int bad = img.w != W || img.h != H;
            for (int i = 0; !bad && i < W * H; i++) {
                const uint8_t *q = img.rgb + 3 * i;
                bad += f < 2 ? (q[0] != grey[i] || q[1] != grey[i] || q[2] != grey[i]) : (q[0] != grey[i] || q[1] != 255 - grey[i] || q[2] != 255);
            }
            CHECK(!bad, "%s: not the pixels written", mn[f]);
            sialo_image_free(&img);
            if (f == 1) {
                CHECK(in.n_regions == 1 && in.regions[0].x0 == 2 && in.regions[0].y1 == 34 && in.regions[0].delta_x == 0.0125 && in.rows == H &&
                          in.has_window && in.window_width == 1021,
                      "big endian: the attributes (%d regions, x0 %d, delta %g)", in.n_regions, in.regions[0].x0, in.regions[0].delta_x);
                CHECK(sialo_image_decode_frame(more[f].p, more[f].n, 0, 1, &img) == 0 && img.w == 36 && img.h == 34, "big endian: the region crop");
                sialo_image_free(&img);
            }
            int cut = 0, cuts = 0;
            for (size_t n = 0; n < more[f].n; n += 1 + (f == 0 ? 0 : 3), cuts++) cut += exercise(more[f].p, n) < 0;
            CHECK(cut >= cuts * 95 / 100, "%s: only %d of %d truncations refused", mn[f], cut, cuts);
            for (int t = 0; t < 500; t++) {
                dw c = copy(&more[f]);
                for (int j = 0; j < 3; j++) {
                    size_t at = meta_end + rnd() % (c.n - meta_end);
                    if (rnd() % 2) c.p[at] = (uint8_t)rnd();
                    else c.p[at] ^= (uint8_t)(1u << (rnd() % 8));
                }
                exercise(c.p, c.n);
                free(c.p);
            }
        }
        /* a zip bomb: 1.2 million copies of 258 zero bytes (310 MB) in a 2 MB deflate stream */
        dw z;
        begin(&z, "1.2.840.10008.1.2.1.99", 1);
        dw bomb = deflate_bomb(1200000);
        put(&z, bomb.p, bomb.n);
        refuse(z.p, z.n, "the deflated DICOM data set inflates to more than 256 MB: refused", "deflate bomb");
        free(bomb.p);
        free(z.p);
        for (int f = 0; f < 5; f++) free(more[f].p);
    }

    /* ---- 6. read despite: tolerated departures from the standard, each with its note */
    {
        dw i16 = file_implicit16();
        read_despite(i16.p, i16.n, NULL, "implicit16 (no note)");
        /* an implicit-VR data set under a file meta that says explicit */
        dw a = copy(&i16);
        size_t ts = find(&a, "1.2.840.10008.1.2\0", 18, 132);
        CHECK(ts != (size_t)-1, "no transfer syntax found");
        a.p[ts - 2] = 20; /* its length: 20, and the UID "1.2.840.10008.1.2.1" + NUL pad (the same bytes end with "\0") */
        dw b;
        begin(&b, "1.2.840.10008.1.2.1", 0);
        image_attrs(&b, H, W, 1, "MONOCHROME2", 16, NULL);
        str(&b, 0x0028, 0x1050, "DS", "1510.5");
        str(&b, 0x0028, 0x1051, "DS", "1021");
        put(&b, i16.p + i16.n - (8 + W * H * 2), 8 + W * H * 2);
        read_despite(b.p, b.n, "an Implicit VR data set under a file meta that says Explicit VR Little Endian", "implicit under explicit meta");
        /* an explicit-VR data set under a file meta that says implicit */
        dw e = file_native_ts("1.2.840.10008.1.2", 1);
        read_despite(e.p, e.n, "an Explicit VR data set under a file meta that says Implicit VR Little Endian", "explicit under implicit meta");
        /* no preamble, no DICM, no file meta: a bare data set, implicit and explicit */
        dw bare = copy(&i16);
        memmove(bare.p, bare.p + meta_end, bare.n - meta_end);
        bare.n -= meta_end;
        read_despite(bare.p, bare.n, "no preamble, DICM marker or file meta (Implicit VR Little Endian assumed)", "bare implicit data set");
        CHECK(sialo_is_dicom(bare.p, 132) && sialo_image_frames(bare.p, bare.n) == 1, "bare: recognised from its first 132 bytes");
        for (size_t n = 0; n < bare.n; n++) exercise(bare.p, n);
        dw nat = file_native();
        size_t me = meta_end;
        dw barex = copy(&nat);
        memmove(barex.p, barex.p + me, barex.n - me);
        barex.n -= me;
        read_despite(barex.p, barex.n, "no preamble, DICM marker or file meta (Explicit VR Little Endian, as its first element shows)", "bare explicit data set");
        /* the file meta without the preamble and DICM */
        dw nop = copy(&nat);
        memmove(nop.p, nop.p + 132, nop.n - 132);
        nop.n -= 132;
        read_despite(nop.p, nop.n, "no 128-byte preamble and no DICM marker", "no preamble");
        /* an odd length inside a private sequence (explicit VR, undefined lengths) */
        dw o;
        begin(&o, "1.2.840.10008.1.2.1", 1);
        str(&o, 0x0009, 0x0010, "LO", "ACME 1.0");
        hdr(&o, 0x0009, 0x1001, "SQ", 0xFFFFFFFF);
        hdr(&o, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
        hdr(&o, 0x0009, 0x1002, "LO", 5);
        put(&o, "ABCDE", 5);
        us(&o, 0x0009, 0x1003, 7);
        hdr(&o, 0xFFFE, 0xE00D, "", 0);
        hdr(&o, 0xFFFE, 0xE0DD, "", 0);
        image_attrs(&o, H, W, 1, "MONOCHROME2", 8, NULL);
        elem(&o, 0x7FE0, 0x0010, "OB", grey, sizeof grey);
        read_despite(o.p, o.n, "an element of odd length ((0009,1002), 5 bytes)", "odd length in a private sequence");
        for (size_t n = 0; n < o.n; n++) exercise(o.p, n);
        /* files that are no image: a DICOMDIR, a report without pixel data */
        dw dd;
        begin(&dd, "1.2.840.10008.1.2.1", 1);
        dd.n = 132;
        dd.explicit_vr = 1;
        str(&dd, 0x0002, 0x0002, "UI", "1.2.840.10008.1.3.10");
        str(&dd, 0x0002, 0x0010, "UI", "1.2.840.10008.1.2.1");
        hdr(&dd, 0x0004, 0x1220, "SQ", 0xFFFFFFFF);
        hdr(&dd, 0xFFFE, 0xE000, "", 0xFFFFFFFF);
        str(&dd, 0x0004, 0x1430, "CS", "PATIENT");
        hdr(&dd, 0xFFFE, 0xE00D, "", 0);
        hdr(&dd, 0xFFFE, 0xE0DD, "", 0);
        sialo_dicom_info in;
        CHECK(sialo_dicom_read_info(dd.p, dd.n, &in) == 0 && !in.decodable && in.not_image && strstr(in.problem, "a DICOMDIR") &&
                  !strcmp(in.sop_class, "Media Storage Directory Storage"),
              "DICOMDIR: %s / %s", sialo_error(), in.problem);
        dw sr;
        begin(&sr, "1.2.840.10008.1.2.1", 1);
        str(&sr, 0x0008, 0x0016, "UI", "1.2.840.10008.5.1.4.1.1.88.11");
        str(&sr, 0x0008, 0x0060, "CS", "SR");
        CHECK(sialo_dicom_read_info(sr.p, sr.n, &in) == 0 && !in.decodable && in.not_image &&
                  strstr(in.problem, "no pixel data (7FE0,0010): a structured report, Basic Text SR Storage, not an image"),
              "SR: %s", in.problem);
        CHECK(sialo_dicom_read_info(files[0].p, files[0].n, &in) == 0 && !in.not_image, "an image is an image");
        free(sr.p);
        free(dd.p);
        free(o.p);
        free(nop.p);
        free(barex.p);
        free(nat.p);
        free(bare.p);
        free(e.p);
        free(b.p);
        free(a.p);
        free(i16.p);
    }

    /* ---- 7. the colour of 3-component JPEG frames: the codestream's markers first, then the data set */
    {
        enum { JW = 48, JH = 40 };
        /* YCbCr samples (4:4:4, 4:2:0), and R G B samples stored as they are (PIL told the input is YCbCr) */
        dw base[3] = {jpeg_fixture("tests/fixtures/colour444.jpg"), jpeg_fixture("tests/fixtures/colour420.jpg"),
                      jpeg_fixture("tests/fixtures/colour444-rgb.jpg")};
        CHECK(base[0].p && base[1].p && base[2].p && seg_at(&base[0], 0xE0) >= 0 && base[0].p[seg_at(&base[0], 0xC0) + 11] == 0x11 &&
                  base[1].p[seg_at(&base[1], 0xC0) + 11] == 0x22,
              "the fixtures: JFIF, 4:4:4 and 4:2:0");
        /* references: stb_image's own decode, converting (JFIF) or keeping the samples (Adobe, transform 0) */
        int w, h, c;
        uint8_t *ycc[2], *raw;
        for (int b = 0; b < 2; b++) ycc[b] = stbi_load_from_memory(base[b].p, (int)base[b].n, &w, &h, &c, 3);
        dw keep = jcopy(&base[2]);
        drop_seg(&keep, 0xE0);
        add_adobe(&keep, 0);
        raw = stbi_load_from_memory(keep.p, (int)keep.n, &w, &h, &c, 3);
        CHECK(ycc[0] && ycc[1] && raw, "stb_image decodes the JPEG variants");
        if (!ycc[0] || !ycc[1] || !raw) return test_summary("test_dicom");
        CHECK(raw[0] >= 250 && raw[1] >= 250 && raw[2] >= 250 && raw[3 * (20 * JW + 40)] >= 195 && raw[3 * (20 * JW + 40)] <= 205 &&
                  ycc[0][0] >= 250 && ycc[0][1] >= 250 && ycc[0][2] >= 250,
              "the references: white is white (%d %d %d), (40,20) has R = 200 (%d)", raw[0], raw[1], raw[2], raw[3 * (20 * JW + 40)]);
        static const uint8_t rgb_ids[3] = {'R', 'G', 'B'};
        struct { const char *label, *pi; int base, adobe, drop_jfif, ids; const uint8_t *want; const char *note; } cs[] = {
            {"RGB samples, no marker, data set RGB", "RGB", 2, -1, 1, 0, raw, NULL},
            {"YCbCr, no marker, data set YBR_FULL_422", "YBR_FULL_422", 0, -1, 1, 0, ycc[0], NULL},
            {"YCbCr, JFIF, data set RGB", "RGB", 0, -1, 0, 0, ycc[0], "holding YCbCr (JFIF marker) under PhotometricInterpretation RGB"},
            {"RGB, Adobe transform 0, data set YBR_FULL", "YBR_FULL", 2, 0, 1, 0, raw, "holding RGB (Adobe marker, transform 0) under PhotometricInterpretation YBR_FULL"},
            {"RGB, component IDs RGB, data set YBR_FULL_422", "YBR_FULL_422", 2, -1, 1, 1, raw, "holding RGB (component IDs R, G, B)"},
            {"YCbCr subsampled, no marker, data set RGB", "RGB", 1, -1, 1, 0, ycc[1], "holding YCbCr (subsampled chroma) under PhotometricInterpretation RGB"},
            {"YCbCr, Adobe transform 1 and IDs RGB, data set RGB", "RGB", 0, 1, 1, 1, ycc[0], "holding YCbCr (Adobe marker, transform 1)"},
        };
        for (size_t t = 0; t < sizeof cs / sizeof *cs; t++) {
            dw j = jcopy(&base[cs[t].base]);
            if (cs[t].drop_jfif) drop_seg(&j, 0xE0);
            if (cs[t].ids) set_ids(&j, rgb_ids);
            if (cs[t].adobe >= 0) add_adobe(&j, cs[t].adobe);
            dw d = file_jpeg(j.p, j.n, 1, JW, JH, cs[t].pi);
            sialo_dicom_info in;
            CHECK(sialo_dicom_read_info(d.p, d.n, &in) == 0 && in.decodable, "%s: %s", cs[t].label, sialo_error());
            CHECK(cs[t].note ? has_note(&in, cs[t].note) : in.n_notes == 0, "%s: notes %d '%s'", cs[t].label, in.n_notes, in.n_notes ? in.notes[0] : "");
            for (int k = 0; k < 2; k++) {
                sialo_image img;
                int rc = sialo_image_decode_frame(d.p, d.n, k, 0, &img);
                CHECK(rc == 0 && img.w == JW && img.h == JH && !memcmp(img.rgb, cs[t].want, (size_t)JW * JH * 3), "%s frame %d: %s", cs[t].label, k,
                      rc ? sialo_error() : "other pixels");
                if (rc == 0) sialo_image_free(&img);
            }
            free(d.p);
            free(j.p);
        }
        for (int b = 0; b < 3; b++) free(base[b].p);
        stbi_image_free(ycc[0]);
        stbi_image_free(ycc[1]);
        stbi_image_free(raw);
        free(keep.p);
    }

    for (int f = 0; f < 6; f++) free(files[f].p);
    free(jpg);
    free(gjpg);
    return test_summary("test_dicom");
}
