/* dicom.c — a bounds-checked reader of DICOM Part 10 files: the frames as RGB, and the
 * metadata that identifies no one.
 *
 * File layout (PS3.10 §7): 128-byte preamble, "DICM", the file meta group (0002,xxxx, always
 * Explicit VR Little Endian), then the data set in the transfer syntax named by (0002,0010).
 * An element is tag (group, element: 2 x u16), then in Explicit VR a 2-letter VR and a length
 * (u16, or 2 reserved bytes and a u32 for OB OD OF OL OV OW SQ SV UC UN UR UT UV), in Implicit VR
 * a u32 length. Length 0xFFFFFFFF (undefined) is allowed only for sequences (items up to an item
 * delimiter (FFFE,E00D), the sequence up to (FFFE,E0DD)) and for encapsulated pixel data.
 *
 * Read:      Implicit VR LE (1.2.840.10008.1.2), Explicit VR LE (.1.2.1), JPEG Baseline 8-bit
 *            (.1.2.4.50, each frame's fragments decoded by stb_image), RLE Lossless (.1.2.5).
 *            Every other transfer syntax is refused by name.
 * Pixels:    native or encapsulated (basic offset table, fragments), multi-frame; MONOCHROME1,
 *            MONOCHROME2, PALETTE COLOR, RGB, YBR_FULL, YBR_FULL_422; planar configuration 0 / 1;
 *            8 bits, and 16-bit greyscale (rescale slope / intercept, then the stored window, or
 *            the frame's own range when there is none, to 8 bits).
 * Metadata:  modality, SOP class, manufacturer, model, transfer syntax, frame count, size, pixel
 *            description, window / rescale, the ultrasound regions (0018,6011). Only these
 *            attributes are ever copied out of the file: patient name, ID, birth date and every
 *            other identifying attribute are skipped unread, so they can reach no output.
 *
 * Every length is checked against the bytes that remain before it is used; sizes are checked
 * against the limits before anything is allocated; sequences nest at most DCM_MAX_DEPTH deep.
 */
#include "base/base.h"
#include "io/codecs.h"
#include "io/io.h"
#include "sialoscan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DCM_MAX_DEPTH 16          /* nested sequences */
#define DCM_MAX_FRAMES 100000     /* NumberOfFrames */
#define DCM_UNDEFINED 0xFFFFFFFFu

/* ------------------------------------------------------------------ transfer syntaxes */
enum { TS_IMPLICIT = 1, TS_EXPLICIT, TS_JPEG_BASELINE, TS_RLE, TS_DEFLATED, TS_BIG_ENDIAN };
#define TS_CODEC 100 /* JPEG 2000, HTJ2K, JPEG-LS, JPEG Extended / Lossless: a library of io/codecs.h */

#define DCM_MAX_INFLATED (256u << 20) /* a deflated data set inflates to at most this (a zip bomb is refused) */

static const struct { const char *uid, *name; int id; } syntaxes[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian", TS_IMPLICIT},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian", TS_EXPLICIT},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", TS_JPEG_BASELINE},
    {"1.2.840.10008.1.2.5", "RLE Lossless", TS_RLE},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", TS_DEFLATED},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian", TS_BIG_ENDIAN},
    {"1.2.840.10008.1.2.4.51", "JPEG Extended (Process 2 & 4)", 0},
    {"1.2.840.10008.1.2.4.57", "JPEG Lossless, Non-Hierarchical (Process 14)", 0},
    {"1.2.840.10008.1.2.4.70", "JPEG Lossless, Non-Hierarchical, First-Order Prediction", 0},
    {"1.2.840.10008.1.2.4.80", "JPEG-LS Lossless Image Compression", 0},
    {"1.2.840.10008.1.2.4.81", "JPEG-LS Lossy (Near-Lossless) Image Compression", 0},
    {"1.2.840.10008.1.2.4.90", "JPEG 2000 Image Compression (Lossless Only)", 0},
    {"1.2.840.10008.1.2.4.91", "JPEG 2000 Image Compression", 0},
    {"1.2.840.10008.1.2.4.92", "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)", 0},
    {"1.2.840.10008.1.2.4.93", "JPEG 2000 Part 2 Multi-component Image Compression", 0},
    {"1.2.840.10008.1.2.4.100", "MPEG2 Main Profile / Main Level", 0},
    {"1.2.840.10008.1.2.4.101", "MPEG2 Main Profile / High Level", 0},
    {"1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1", 0},
    {"1.2.840.10008.1.2.4.103", "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1", 0},
    {"1.2.840.10008.1.2.4.104", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video", 0},
    {"1.2.840.10008.1.2.4.105", "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video", 0},
    {"1.2.840.10008.1.2.4.106", "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2", 0},
    {"1.2.840.10008.1.2.4.107", "HEVC/H.265 Main Profile / Level 5.1", 0},
    {"1.2.840.10008.1.2.4.108", "HEVC/H.265 Main 10 Profile / Level 5.1", 0},
    {"1.2.840.10008.1.2.4.110", "JPEG XL Lossless", 0},
    {"1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression", 0},
    {"1.2.840.10008.1.2.4.112", "JPEG XL", 0},
    {"1.2.840.10008.1.2.4.201", "High-Throughput JPEG 2000 Image Compression (Lossless Only)", 0},
    {"1.2.840.10008.1.2.4.202", "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)", 0},
    {"1.2.840.10008.1.2.4.203", "High-Throughput JPEG 2000 Image Compression", 0},
};

static const struct { const char *uid, *name; } sop_classes[] = {
    {"1.2.840.10008.5.1.4.1.1.6.1", "Ultrasound Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.3.1", "Ultrasound Multi-frame Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.6", "Ultrasound Image Storage (Retired)"},
    {"1.2.840.10008.5.1.4.1.1.3", "Ultrasound Multi-frame Image Storage (Retired)"},
    {"1.2.840.10008.5.1.4.1.1.7", "Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.2", "Multi-frame Grayscale Byte Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.3", "Multi-frame Grayscale Word Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.7.4", "Multi-frame True Color Secondary Capture Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.77.1.1", "VL Endoscopic Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.77.1.4", "VL Photographic Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.1", "Computed Radiography Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.2", "CT Image Storage"},
    {"1.2.840.10008.5.1.4.1.1.4", "MR Image Storage"},
    {"1.2.840.10008.1.3.10", "Media Storage Directory Storage"},
    {"1.2.840.10008.5.1.4.1.1.104.1", "Encapsulated PDF Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.11", "Basic Text SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.22", "Enhanced SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.88.33", "Comprehensive SR Storage"},
    {"1.2.840.10008.5.1.4.1.1.11.1", "Grayscale Softcopy Presentation State Storage"},
};

#define UID_DICOMDIR "1.2.840.10008.1.3.10"

/* what an object without pixel data is, by its SOP class (for the one-line reason it is skipped) */
static const char *non_image_kind(const char *uid) {
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.88.", 27)) return "a structured report";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.11.", 27)) return "a presentation state";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.104.", 28)) return "an encapsulated document";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.9.", 26)) return "a waveform";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.66", 26)) return "a registration or segmentation object";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.481.", 28)) return "a radiotherapy object";
    if (!strncmp(uid, "1.2.840.10008.5.1.4.1.1.", 24)) return "an object";
    return "not an image";
}

/* ------------------------------------------------------------------ the parsed file */
typedef struct { size_t off, len; } span;

typedef struct {
    sialo_dicom_info *info;
    const uint8_t *p;
    size_t n;
    int ts;              /* TS_* (0 = not supported) */
    int explicit_vr;     /* of the data set */
    int big;             /* the data set is big endian (Explicit VR Big Endian) */
    uint8_t *owned;      /* the inflated data set (p points into it), freed by dcm_free */
    int pixel_ow;        /* native pixel data has VR OW (big endian 8-bit data is then byte-swapped in pairs) */
    char meta_sop[65];   /* Media Storage SOP Class UID (0002,0002) */
    int odd_noted;
    /* attributes as found (offset/length into p; len 0 = absent) */
    span pixel;          /* native pixel data, or the encapsulated items */
    int encapsulated, have_pixel;
    span lut_desc[3], lut_data[3];
    span *frag;          /* encapsulated: fragment values (not the basic offset table) */
    int n_frag;
    span bot;            /* basic offset table value */
    size_t first_frag_item; /* offset of the first fragment's item tag */
    size_t *frag_item;   /* offset of each fragment's item tag */
} dcm;

static uint16_t rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
/* a value of the data set, in its byte order */
static uint16_t v16(const dcm *d, const uint8_t *p) { return d->big ? (uint16_t)(p[0] << 8 | p[1]) : rd16(p); }
static uint32_t v32(const dcm *d, const uint8_t *p) {
    return d->big ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : rd32(p);
}
static double vf64(const dcm *d, const uint8_t *p) {
    uint8_t b[8];
    for (int i = 0; i < 8; i++) b[i] = d->big ? p[7 - i] : p[i];
    double x;
    memcpy(&x, b, 8);
    return x;
}

/* a note on what was read despite the standard (at most SIALO_DICOM_MAX_NOTES, each once) */
static void note(dcm *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(dcm *d, const char *fmt, ...) {
    sialo_dicom_info *in = d->info;
    char buf[sizeof in->notes[0]];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (int i = 0; i < in->n_notes; i++) if (!strcmp(in->notes[i], buf)) return;
    if (in->n_notes < SIALO_DICOM_MAX_NOTES) memcpy(in->notes[in->n_notes++], buf, sizeof buf);
}

static int long_vr(const char *vr);

/* the two letters of one of the standard's VRs (PS3.5 6.2) */
static int known_vr(const uint8_t *v) {
    static const char l[] = "AEASATCSDADSDTFDFLISLOLTOBODOFOLOVOWPNSHSLSQSSSTSVTMUCUIULUNURUSUTUV";
    for (size_t i = 0; i + 1 < sizeof l; i += 2) if (v[0] == l[i] && v[1] == l[i + 1]) return 1;
    return 0;
}

/* a plausible first element of `group` at p (little endian): explicit VR when its VR is one of
 * the standard's, else implicit with a short value; when it fits, the next tag follows in order */
static int plausible_start(const uint8_t *p, size_t n, uint16_t group, int *explicit_vr) {
    if (n < 8 || rd16(p) != group) return 0;
    int ex = known_vr(p + 4);
    size_t hl = 8, len;
    if (ex && long_vr((const char *)p + 4)) {
        if (n < 12) return 1;
        hl = 12;
        len = rd32(p + 8);
    } else if (ex) len = rd16(p + 6);
    else len = rd32(p + 4);
    if (!ex && group == 0x0002) return 0; /* the file meta is always Explicit VR */
    if (len > 0xFFFF) return 0;             /* the first attributes of a data set are short */
    if (hl + len + 4 <= n) {
        uint16_t g2 = rd16(p + hl + len), e2 = rd16(p + hl + len + 2);
        if (g2 < group || (g2 == group && e2 <= rd16(p + 2))) return 0;
    }
    if (explicit_vr) *explicit_vr = ex;
    return 1;
}

/* where the DICOM structure starts: 1 = preamble + DICM (file meta at 132); 2 = a file meta group
 * with no preamble (at 0); 3 = "DICM" with no preamble (file meta at 4); 4 = a bare data set of
 * group 0008 at 0 (no file meta). 0 = not DICOM. */
enum { START_NONE, START_PART10, START_NO_PREAMBLE, START_DICM_ONLY, START_BARE };
static int dicom_start(const uint8_t *p, size_t n, size_t *pos, int *explicit_vr) {
    if (!p) return START_NONE;
    if (n >= 132 && !memcmp(p + 128, "DICM", 4)) { *pos = 132; return START_PART10; }
    if (n >= 12 && !memcmp(p, "DICM", 4) && plausible_start(p + 4, n - 4, 0x0002, NULL)) { *pos = 4; return START_DICM_ONLY; }
    if (plausible_start(p, n, 0x0002, NULL)) { *pos = 0; return START_NO_PREAMBLE; }
    if (plausible_start(p, n, 0x0008, explicit_vr)) { *pos = 0; return START_BARE; }
    return START_NONE;
}

int sialo_is_dicom(const void *data, size_t size) {
    size_t pos;
    int ex;
    return dicom_start(data, size > 512 ? 512 : size, &pos, &ex) != START_NONE;
}

/* a text value into dst: trailing spaces / NULs trimmed, non-printable bytes as '?' */
static void get_text(const uint8_t *v, size_t len, char *dst, size_t cap) {
    while (len && (v[len - 1] == ' ' || v[len - 1] == 0)) len--;
    size_t s = 0;
    while (s < len && v[s] == ' ') s++;
    size_t k = 0;
    for (size_t i = s; i < len && k + 1 < cap; i++) dst[k++] = v[i] >= 0x20 && v[i] < 0x7F ? (char)v[i] : '?';
    dst[k] = 0;
}

/* the first value of a decimal / integer string (DS, IS), or NAN */
static double get_number(const uint8_t *v, size_t len) {
    char buf[68];
    size_t k = 0;
    for (size_t i = 0; i < len && k + 1 < sizeof buf && v[i] != '\\'; i++) buf[k++] = (char)v[i];
    buf[k] = 0;
    char *end;
    double x = strtod(buf, &end);
    if (end == buf) return NAN;
    while (*end == ' ' || *end == 0) { if (!*end) return isfinite(x) ? x : NAN; end++; }
    return NAN;
}

static int get_us(const dcm *d, const uint8_t *v, size_t len) { return len >= 2 ? v16(d, v) : -1; }

/* the VR of the few attributes read, for Implicit VR files */
static const char *implicit_vr(uint16_t g, uint16_t e) {
    uint32_t t = (uint32_t)g << 16 | e;
    switch (t) {
    case 0x00186011: case 0x00880200: return "SQ";
    case 0x7FE00010: return "OW";
    case 0x00281201: case 0x00281202: case 0x00281203: return "OW";
    default: return "UN";
    }
}

static int long_vr(const char *vr) {
    static const char *const l[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
    for (size_t i = 0; i < sizeof l / sizeof *l; i++) if (!memcmp(vr, l[i], 2)) return 1;
    return 0;
}

typedef struct {
    uint16_t g, e;
    char vr[3];
    uint32_t len;   /* DCM_UNDEFINED or the value length */
    size_t val;     /* offset of the value */
} elem;

/* one element header at pos (before end) */
static int read_elem(dcm *d, size_t pos, size_t end, int explicit_vr, elem *el) {
    const uint8_t *p = d->p;
    if (end - pos < 8) return sialo_fail("the DICOM file is truncated (an element header at byte %zu is cut off)", pos);
    el->g = v16(d, p + pos);
    el->e = v16(d, p + pos + 2);
    if (el->g == 0xFFFE || !explicit_vr) {
        el->len = v32(d, p + pos + 4);
        el->val = pos + 8;
        memcpy(el->vr, el->g == 0xFFFE ? "--" : implicit_vr(el->g, el->e), 3);
    } else {
        el->vr[0] = (char)p[pos + 4];
        el->vr[1] = (char)p[pos + 5];
        el->vr[2] = 0;
        if (el->vr[0] < 'A' || el->vr[0] > 'Z' || el->vr[1] < 'A' || el->vr[1] > 'Z')
            return sialo_fail("the DICOM element (%04X,%04X) at byte %zu has no valid value representation", el->g, el->e, pos);
        if (long_vr(el->vr)) {
            if (end - pos < 12) return sialo_fail("the DICOM file is truncated (an element header at byte %zu is cut off)", pos);
            el->len = v32(d, p + pos + 8);
            el->val = pos + 12;
        } else {
            el->len = v16(d, p + pos + 6);
            el->val = pos + 8;
        }
    }
    if (el->len != DCM_UNDEFINED) {
        if (el->len > end - el->val)
            return sialo_fail("the DICOM element (%04X,%04X) at byte %zu claims %u bytes but only %zu remain", el->g, el->e, pos,
                              el->len, end - el->val);
        if ((el->len & 1) && !d->odd_noted) { /* as pydicom and dcmtk: read, the next element right after */
            d->odd_noted = 1;
            note(d, "an element of odd length ((%04X,%04X), %u bytes)", el->g, el->e, el->len);
        }
    }
    return 0;
}

/* context of a data set walk */
enum { CTX_TOP, CTX_REGION, CTX_OTHER };

static int walk(dcm *d, size_t pos, size_t end, int until_delim, int depth, int ctx, size_t *stop);

/* a sequence's items; len = DCM_UNDEFINED runs to the sequence delimiter. *stop: the byte after it */
static int sequence(dcm *d, const elem *sq, size_t end, int depth, int ctx, size_t *stop) {
    if (depth >= DCM_MAX_DEPTH) return sialo_fail("DICOM sequences nested deeper than %d levels", DCM_MAX_DEPTH);
    size_t pos = sq->val, lim = sq->len == DCM_UNDEFINED ? end : sq->val + sq->len;
    for (;;) {
        if (sq->len != DCM_UNDEFINED && pos == lim) break;
        elem it = {0};
        if (read_elem(d, pos, lim, 0, &it) < 0) return -1;
        if (it.g == 0xFFFE && it.e == 0xE0DD) {
            if (sq->len != DCM_UNDEFINED) return sialo_fail("a sequence delimiter in a DICOM sequence of defined length (byte %zu)", pos);
            if (it.len != 0) return sialo_fail("the DICOM sequence delimiter at byte %zu has a non-zero length", pos);
            pos = it.val;
            break;
        }
        if (it.g != 0xFFFE || it.e != 0xE000)
            return sialo_fail("the DICOM sequence (%04X,%04X) holds (%04X,%04X) at byte %zu where an item belongs", sq->g, sq->e, it.g, it.e, pos);
        if (ctx == CTX_REGION && d->info->n_regions < SIALO_DICOM_MAX_REGIONS) {
            sialo_us_region *r = &d->info->regions[d->info->n_regions++];
            memset(r, 0, sizeof *r);
            r->x0 = r->y0 = r->x1 = r->y1 = -1;
        } else if (ctx == CTX_REGION) ctx = CTX_OTHER;
        if (it.len == DCM_UNDEFINED) {
            if (walk(d, it.val, lim, 1, depth + 1, ctx, &pos) < 0) return -1;
        } else {
            if (walk(d, it.val, it.val + it.len, 0, depth + 1, ctx, NULL) < 0) return -1;
            pos = it.val + it.len;
        }
    }
    *stop = pos;
    return 0;
}

/* encapsulated pixel data: items (basic offset table, fragments) up to the sequence delimiter */
static int encapsulated(dcm *d, const elem *px, size_t end, int record, size_t *stop) {
    size_t pos = px->val;
    int count = 0;
    for (int pass = 0; pass < 2; pass++) { /* count, then record */
        pos = px->val;
        int k = -1; /* -1 = the basic offset table */
        for (;;) {
            elem it = {0};
            if (read_elem(d, pos, end, 0, &it) < 0) return -1;
            if (it.g == 0xFFFE && it.e == 0xE0DD) { pos = it.val; break; }
            if (it.g != 0xFFFE || it.e != 0xE000)
                return sialo_fail("the encapsulated DICOM pixel data holds (%04X,%04X) at byte %zu where an item belongs", it.g, it.e, pos);
            if (it.len == DCM_UNDEFINED) return sialo_fail("a pixel data fragment at byte %zu has an undefined length", pos);
            if (pass == 1 && record) {
                if (k < 0) d->bot = (span){it.val, it.len};
                else {
                    d->frag[k] = (span){it.val, it.len};
                    d->frag_item[k] = pos;
                }
            }
            k++;
            pos = it.val + it.len;
        }
        if (pass == 0) {
            count = k;
            if (count < 0) return sialo_fail("the encapsulated DICOM pixel data has no basic offset table item");
            if (!record) break;
            free(d->frag);
            free(d->frag_item);
            d->frag = calloc((size_t)count + 1, sizeof *d->frag);
            d->frag_item = calloc((size_t)count + 1, sizeof *d->frag_item);
            if (!d->frag || !d->frag_item) return sialo_fail("out of memory reading %d DICOM fragments", count);
            d->n_frag = count;
        }
    }
    if (record && d->n_frag > 0) d->first_frag_item = d->frag_item[0];
    *stop = pos;
    return 0;
}

/* the attributes read at the top level */
static void top_attr(dcm *d, const elem *el) {
    sialo_dicom_info *in = d->info;
    const uint8_t *v = d->p + el->val;
    size_t len = el->len;
    switch ((uint32_t)el->g << 16 | el->e) {
    case 0x00080016: get_text(v, len, in->sop_class_uid, sizeof in->sop_class_uid); break;
    case 0x00080060: get_text(v, len, in->modality, sizeof in->modality); break;
    case 0x00080070: get_text(v, len, in->manufacturer, sizeof in->manufacturer); break;
    case 0x00081090: get_text(v, len, in->model, sizeof in->model); break;
    case 0x00280002: in->samples_per_pixel = get_us(d, v, len); break;
    case 0x00280004: get_text(v, len, in->photometric, sizeof in->photometric); break;
    case 0x00280006: in->planar_configuration = get_us(d, v, len); break;
    case 0x00280008: {
        double f = get_number(v, len);
        in->frames = isnan(f) ? -1 : f < 0 ? -1 : f > DCM_MAX_FRAMES ? DCM_MAX_FRAMES + 1 : (int)f;
        break;
    }
    case 0x00280010: in->rows = get_us(d, v, len); break;
    case 0x00280011: in->columns = get_us(d, v, len); break;
    case 0x00280100: in->bits_allocated = get_us(d, v, len); break;
    case 0x00280101: in->bits_stored = get_us(d, v, len); break;
    case 0x00280103: in->pixel_representation = get_us(d, v, len); break;
    case 0x00281050: in->window_center = get_number(v, len); break;
    case 0x00281051: in->window_width = get_number(v, len); break;
    case 0x00281052: in->rescale_intercept = get_number(v, len); break;
    case 0x00281053: in->rescale_slope = get_number(v, len); break;
    case 0x00281101: case 0x00281102: case 0x00281103: d->lut_desc[el->e - 0x1101] = (span){el->val, len}; break;
    case 0x00281201: case 0x00281202: case 0x00281203: d->lut_data[el->e - 0x1201] = (span){el->val, len}; break;
    default: break;
    }
}

static void region_attr(dcm *d, const elem *el) {
    sialo_us_region *r = &d->info->regions[d->info->n_regions - 1];
    const uint8_t *v = d->p + el->val;
    size_t len = el->len;
    if (el->g != 0x0018) return;
    switch (el->e) {
    case 0x6018: if (len >= 4) r->x0 = (int)(v32(d, v) & 0x7FFFFFFF); break;
    case 0x601A: if (len >= 4) r->y0 = (int)(v32(d, v) & 0x7FFFFFFF); break;
    case 0x601C: if (len >= 4) r->x1 = (int)(v32(d, v) & 0x7FFFFFFF); break;
    case 0x601E: if (len >= 4) r->y1 = (int)(v32(d, v) & 0x7FFFFFFF); break;
    case 0x6012: r->spatial_format = get_us(d, v, len); break;
    case 0x6014: r->data_type = get_us(d, v, len); break;
    case 0x6024: r->units_x = get_us(d, v, len); break;
    case 0x6026: r->units_y = get_us(d, v, len); break;
    case 0x602C: if (len >= 8) { double x = vf64(d, v); r->delta_x = isfinite(x) ? x : 0; } break;
    case 0x602E: if (len >= 8) { double x = vf64(d, v); r->delta_y = isfinite(x) ? x : 0; } break;
    default: break;
    }
}

/* the elements of a data set from pos to end, or (until_delim) to an item delimiter */
static int walk(dcm *d, size_t pos, size_t end, int until_delim, int depth, int ctx, size_t *stop) {
    while (pos < end) {
        elem el = {0};
        if (read_elem(d, pos, end, d->explicit_vr, &el) < 0) return -1;
        if (el.g == 0xFFFE && el.e == 0xE00D) {
            if (!until_delim) return sialo_fail("an item delimiter outside an item of undefined length (byte %zu)", pos);
            *stop = el.val;
            return 0;
        }
        if (el.g == 0xFFFE) return sialo_fail("a DICOM item tag (FFFE,%04X) outside a sequence (byte %zu)", el.e, pos);
        if (el.g == 0x0002 && ctx == CTX_TOP) return sialo_fail("a file meta element (0002,%04X) inside the DICOM data set (byte %zu)", el.e, pos);
        if (el.len == DCM_UNDEFINED) {
            if (el.g == 0x7FE0 && el.e == 0x0010) {
                int top = ctx == CTX_TOP;
                if (top) { d->have_pixel = 1; d->encapsulated = 1; d->pixel = (span){el.val, 0}; }
                if (encapsulated(d, &el, end, top, &pos) < 0) return -1;
                if (top) d->pixel.len = pos - el.val;
            } else if (!strcmp(el.vr, "SQ") || !strcmp(el.vr, "UN") || !d->explicit_vr) {
                int sub = ctx == CTX_TOP && el.g == 0x0018 && el.e == 0x6011 ? CTX_REGION : CTX_OTHER;
                int ex = d->explicit_vr;
                if (!strcmp(el.vr, "UN")) d->explicit_vr = 0; /* PS3.5 6.2.2: UN of undefined length is Implicit VR inside */
                int rc = sequence(d, &el, end, depth, sub, &pos);
                d->explicit_vr = ex;
                if (rc < 0) return -1;
            } else {
                return sialo_fail("the DICOM element (%04X,%04X) (%s) at byte %zu has an undefined length", el.g, el.e, el.vr, pos);
            }
            continue;
        }
        if (ctx == CTX_TOP) {
            if (el.g == 0x7FE0 && el.e == 0x0010) {
                d->have_pixel = 1;
                d->encapsulated = 0;
                d->pixel = (span){el.val, el.len};
                d->pixel_ow = !strcmp(el.vr, "OW");
            } else if (el.g == 0x0018 && el.e == 0x6011) {
                size_t after;
                if (sequence(d, &el, end, depth, CTX_REGION, &after) < 0) return -1;
            } else {
                top_attr(d, &el);
            }
        } else if (ctx == CTX_REGION) {
            region_attr(d, &el);
        }
        pos = el.val + el.len;
    }
    if (until_delim) return sialo_fail("the DICOM file is truncated (an item of undefined length has no delimiter)");
    if (stop) *stop = pos;
    return 0;
}

static void dcm_free(dcm *d) {
    free(d->owned);
    d->owned = NULL;
    free(d->frag);
    free(d->frag_item);
    d->frag = NULL;
    d->frag_item = NULL;
}

/* ------------------------------------------------------------------ JPEG colour */
static uint8_t *jpeg_join(dcm *d, int k, size_t *out_len);
/* what a JPEG codestream says of its colour: its markers and frame header, up to the first scan */
typedef struct {
    int ncomp;      /* components in the frame header (0 = none found) */
    int adobe;      /* Adobe APP14 transform flag (0 = none, 1 = YCbCr, 2 = YCCK), -1 = no APP14 */
    int jfif;       /* an APP0 JFIF marker */
    int subsampled; /* a chroma component sampled more coarsely than the first */
    int rgb_ids;    /* component identifiers 'R', 'G', 'B' */
} jpeg_hdr;

static int jpeg_scan(const uint8_t *p, size_t n, jpeg_hdr *h) {
    memset(h, 0, sizeof *h);
    h->adobe = -1;
    if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return -1;
    size_t i = 2;
    while (i + 4 <= n) {
        if (p[i] != 0xFF) return -1;
        uint8_t m = p[i + 1];
        if (m == 0xFF) { i++; continue; } /* fill */
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
        if (m == 0xDA || m == 0xD9) break; /* the first scan: the header is read */
        size_t len = (size_t)p[i + 2] << 8 | p[i + 3];
        if (len < 2 || len > n - i - 2) return -1;
        const uint8_t *v = p + i + 4;
        size_t vl = len - 2;
        if (m == 0xE0 && vl >= 5 && !memcmp(v, "JFIF", 5)) h->jfif = 1;
        if (m == 0xEE && vl >= 12 && !memcmp(v, "Adobe", 5)) h->adobe = v[11];
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC && vl >= 6) {
            int nc = v[5];
            if (vl < 6 + 3 * (size_t)nc) return -1;
            h->ncomp = nc;
            if (nc == 3) {
                h->rgb_ids = v[6] == 'R' && v[9] == 'G' && v[12] == 'B';
                int h0 = v[7] >> 4, v0 = v[7] & 15;
                for (int c = 1; c < 3; c++)
                    if ((v[7 + 3 * c] >> 4) < h0 || (v[7 + 3 * c] & 15) < v0) h->subsampled = 1;
            }
        }
        i += 2 + len;
    }
    return h->ncomp ? 0 : -1;
}

/* 1 if a 3-component JPEG frame holds YCbCr (to be converted to RGB), 0 if RGB; decided as the
 * reference readers do, the codestream first: Adobe APP14's transform flag; a JFIF marker (YCbCr
 * by definition); chroma subsampled (no encoder subsamples RGB); component IDs 'R','G','B';
 * only then the data set's PhotometricInterpretation (RGB: none; YBR_FULL(_422): YCbCr) */
static int jpeg_holds_ycbcr(const jpeg_hdr *h, const char *photometric, const char **why) {
    if (h->adobe >= 0) { *why = h->adobe ? "Adobe marker, transform 1" : "Adobe marker, transform 0"; return h->adobe != 0; }
    if (h->jfif) { *why = "JFIF marker"; return 1; }
    if (h->subsampled) { *why = "subsampled chroma"; return 1; }
    if (h->rgb_ids) { *why = "component IDs R, G, B"; return 0; }
    *why = "no marker: the data set decides";
    return strcmp(photometric, "RGB") != 0;
}

/* stb_image's own YCbCr -> RGB (stbi__YCbCr_to_RGB_row: JFIF full range, 20-bit fixed point), in
 * place, so a YCbCr frame decoded here has exactly the pixels stb_image gives the same JPEG file */
static void jpeg_ycbcr_to_rgb(uint8_t *px, size_t n) {
#define FIX(x) (((int)((x) * 4096.0f + 0.5f)) << 8)
    for (size_t i = 0; i < n; i++, px += 3) {
        int y = (px[0] << 20) + (1 << 19), cb = px[1] - 128, cr = px[2] - 128;
        int r = (y + cr * FIX(1.40200f)) >> 20;
        int g = (y + (cr * -FIX(0.71414f)) + (int)((unsigned)(cb * -FIX(0.34414f)) & 0xffff0000u)) >> 20;
        int b = (y + cb * FIX(1.77200f)) >> 20;
        px[0] = (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
        px[1] = (uint8_t)(g < 0 ? 0 : g > 255 ? 255 : g);
        px[2] = (uint8_t)(b < 0 ? 0 : b > 255 ? 255 : b);
    }
#undef FIX
}

/* why the frames cannot be decoded (NULL = they can); sets nothing */
static const char *image_problem(dcm *d, char *buf, size_t cap) {
    sialo_dicom_info *in = d->info;
    const char *sop = *in->sop_class_uid ? in->sop_class_uid : d->meta_sop;
    if (!strcmp(sop, UID_DICOMDIR) || !strcmp(d->meta_sop, UID_DICOMDIR)) {
        in->not_image = 1;
        return "a DICOMDIR (the index of the files on a DICOM medium), not an image";
    }
    if (!d->have_pixel && d->ts) {
        in->not_image = 1;
        snprintf(buf, cap, "the DICOM file has no pixel data (7FE0,0010): %s%s%s, not an image", non_image_kind(sop),
                 *in->sop_class ? ", " : "", in->sop_class);
        return buf;
    }
    if (!d->ts) {
        snprintf(buf, cap, "DICOM transfer syntax %s%s%s%s is not supported", *in->transfer_syntax ? in->transfer_syntax : in->transfer_syntax_uid,
                 *in->transfer_syntax ? " (" : "", *in->transfer_syntax ? in->transfer_syntax_uid : "", *in->transfer_syntax ? ")" : "");
        return buf;
    }
    if (!d->have_pixel) return "the DICOM file has no pixel data (7FE0,0010)";
    if (d->encapsulated != (d->ts == TS_JPEG_BASELINE || d->ts == TS_RLE || d->ts == TS_CODEC)) {
        snprintf(buf, cap, "the DICOM pixel data is %s but the transfer syntax %s is %s", d->encapsulated ? "encapsulated" : "native",
                 in->transfer_syntax, d->encapsulated ? "native" : "encapsulated");
        return buf;
    }
    if (in->rows <= 0 || in->columns <= 0) return "the DICOM file gives no image size (rows (0028,0010), columns (0028,0011))";
    if ((uint64_t)in->rows * (uint64_t)in->columns > SIALO_MAX_PIXELS) {
        snprintf(buf, cap, "the DICOM frames are %dx%d pixels, more than the %u megapixel limit", in->columns, in->rows, SIALO_MAX_PIXELS >> 20);
        return buf;
    }
    if (in->frames < 1 || in->frames > DCM_MAX_FRAMES) {
        snprintf(buf, cap, "the DICOM number of frames is not between 1 and %d", DCM_MAX_FRAMES);
        return buf;
    }
    const char *pi = in->photometric;
    int spp = in->samples_per_pixel, ba = in->bits_allocated, bs = in->bits_stored;
    int grey = !strcmp(pi, "MONOCHROME1") || !strcmp(pi, "MONOCHROME2"), palette = !strcmp(pi, "PALETTE COLOR");
    int colour = !strcmp(pi, "RGB") || !strcmp(pi, "YBR_FULL") || !strcmp(pi, "YBR_FULL_422");
    if (d->ts == TS_CODEC) colour = colour || !strcmp(pi, "YBR_RCT") || !strcmp(pi, "YBR_ICT"); /* decoded by the codec's own transform */
    if (!grey && !palette && !colour) {
        snprintf(buf, cap, "the DICOM photometric interpretation '%s' is not supported (MONOCHROME1, MONOCHROME2, PALETTE COLOR, RGB, YBR_FULL, YBR_FULL_422 are)", pi);
        return buf;
    }
    if (spp != (colour ? 3 : 1)) {
        snprintf(buf, cap, "the DICOM photometric interpretation %s needs %d samples per pixel, not %d", pi, colour ? 3 : 1, spp);
        return buf;
    }
    if (ba != 8 && ba != 16) {
        snprintf(buf, cap, "DICOM pixels of %d bits allocated are not supported (8 or 16)", ba);
        return buf;
    }
    if (ba == 16 && d->ts == TS_JPEG_BASELINE) return "the DICOM file says 16 bits allocated but JPEG Baseline holds 8-bit samples";
    if (ba == 16 && colour && in->pixel_representation == 1) return "signed 16-bit DICOM colour samples are not supported";
    if (bs < 1 || bs > ba) {
        snprintf(buf, cap, "the DICOM bits stored (%d) is not between 1 and the bits allocated (%d)", bs, ba);
        return buf;
    }
    if (colour && in->planar_configuration != 0 && in->planar_configuration != 1 && d->ts != TS_JPEG_BASELINE) {
        snprintf(buf, cap, "the DICOM planar configuration is %d (0 or 1 expected)", in->planar_configuration);
        return buf;
    }
    if (!strcmp(pi, "YBR_FULL_422") && !d->encapsulated && (in->columns & 1)) return "YBR_FULL_422 DICOM frames need an even number of columns";
    if (palette) {
        for (int c = 0; c < 3; c++) {
            if (d->lut_desc[c].len < 6 || !d->lut_data[c].len) return "the DICOM palette colour lookup tables (0028,1101-1103, 0028,1201-1203) are missing";
            const uint8_t *ds = d->p + d->lut_desc[c].off;
            unsigned entries = v16(d, ds) ? v16(d, ds) : 65536u, bits = v16(d, ds + 4);
            if (bits != 8 && bits != 16) return "the DICOM palette lookup tables must have 8 or 16 bits per entry";
            size_t need = bits == 16 || d->lut_data[c].len >= 2u * entries ? 2u * entries : entries;
            if (d->lut_data[c].len < need) return "a DICOM palette lookup table is shorter than its descriptor says";
        }
    }
    if (!d->encapsulated) {
        uint64_t fb = in->rows * (uint64_t)in->columns * (uint64_t)(ba / 8) * (uint64_t)spp;
        if (!strcmp(pi, "YBR_FULL_422")) fb = fb * 2 / 3;
        if (fb * (uint64_t)in->frames > d->pixel.len) {
            snprintf(buf, cap, "the DICOM pixel data holds %zu bytes but %d frame%s of %dx%d need %llu", d->pixel.len, in->frames,
                     in->frames == 1 ? "" : "s", in->columns, in->rows, (unsigned long long)(fb * (uint64_t)in->frames));
            return buf;
        }
    } else {
        if (d->n_frag < 1) return "the encapsulated DICOM pixel data has no fragments";
        if (in->frames > d->n_frag) {
            snprintf(buf, cap, "the DICOM file says %d frames but its encapsulated pixel data has only %d fragments", in->frames, d->n_frag);
            return buf;
        }
    }
    return NULL;
}

/* parse the file: info filled, d ready for decoding. Returns 0, or -1 on a structural problem. */
static int dcm_parse(const uint8_t *p, size_t n, sialo_dicom_info *in, dcm *d) {
    memset(in, 0, sizeof *in);
    memset(d, 0, sizeof *d);
    d->info = in;
    d->p = p;
    d->n = n;
    in->frames = 1;
    in->samples_per_pixel = 1;
    in->rescale_slope = 1;
    in->window_center = in->window_width = NAN;
    in->rows = in->columns = in->bits_allocated = in->bits_stored = -1;
    in->transfer_syntax = "";
    in->sop_class = "";
    size_t pos = 0;
    int bare_explicit = 0, start = dicom_start(p, n > 512 ? 512 : n, &pos, &bare_explicit);
    if (start == START_NONE) return sialo_fail("not a DICOM file (no DICM marker after the 128-byte preamble)");
    if (start == START_BARE) { /* no file meta: the syntax from the first element, as dcmtk does */
        snprintf(in->transfer_syntax_uid, sizeof in->transfer_syntax_uid, "%s", bare_explicit ? "1.2.840.10008.1.2.1" : "1.2.840.10008.1.2");
        note(d, "no preamble, DICM marker or file meta (%s)", bare_explicit ? "Explicit VR Little Endian, as its first element shows"
                                                                              : "Implicit VR Little Endian assumed");
    } else {
        if (start != START_PART10) note(d, "no 128-byte preamble%s", start == START_NO_PREAMBLE ? " and no DICM marker" : "");
        /* the file meta group: Explicit VR Little Endian */
        int have_ts = 0;
        while (pos + 2 <= n && rd16(p + pos) == 0x0002) {
            elem el = {0};
            if (read_elem(d, pos, n, 1, &el) < 0) return -1;
            if (el.len == DCM_UNDEFINED) return sialo_fail("the DICOM file meta element (0002,%04X) has an undefined length", el.e);
            if (el.e == 0x0010) {
                get_text(p + el.val, el.len, in->transfer_syntax_uid, sizeof in->transfer_syntax_uid);
                have_ts = 1;
            } else if (el.e == 0x0002) get_text(p + el.val, el.len, d->meta_sop, sizeof d->meta_sop);
            pos = el.val + el.len;
        }
        if (!have_ts) return sialo_fail("the DICOM file meta information has no transfer syntax (0002,0010)");
    }
    for (size_t i = 0; i < sizeof syntaxes / sizeof *syntaxes; i++)
        if (!strcmp(syntaxes[i].uid, in->transfer_syntax_uid)) { in->transfer_syntax = syntaxes[i].name; d->ts = syntaxes[i].id; }
    if (!d->ts && sialo_codec_for_syntax(in->transfer_syntax_uid)) d->ts = TS_CODEC;
    d->explicit_vr = d->ts != TS_IMPLICIT;
    if (d->ts == TS_DEFLATED) { /* PS3.5 A.5: the data set after the file meta is one raw deflate stream */
        size_t len = 0;
        int over = 0;
        uint8_t *z = sialo_inflate_raw(p + pos, n - pos, DCM_MAX_INFLATED, &len, &over);
        if (!z && over)
            return sialo_fail("the deflated DICOM data set inflates to more than %u MB: refused (a zip bomb, or a file too large to read)",
                              DCM_MAX_INFLATED >> 20);
        if (!z) return sialo_fail("the deflated DICOM data set is damaged (not a valid deflate stream)");
        d->owned = z;
        d->p = p = z;
        d->n = n = len;
        pos = 0;
    }
    d->big = d->ts == TS_BIG_ENDIAN;
    if (!d->big && start != START_BARE && n - pos >= 8 && d->ts) {
        /* the data set's own VR style, when it contradicts the file meta (as pydicom reads it) */
        int ex = known_vr(p + pos + 4);
        if (ex != d->explicit_vr && (ex || rd32(p + pos + 4) <= n - pos - 8)) {
            note(d, "an %s VR data set under a file meta that says %s", ex ? "Explicit" : "Implicit", in->transfer_syntax);
            d->explicit_vr = ex;
        }
    }
    if (!d->ts) {
        /* refused: the metadata is still read when the data set is Explicit VR Little Endian, as
           every standard compressed syntax is (not deflated, not big endian) */
        if (strcmp(in->transfer_syntax_uid, "1.2.840.10008.1.2.1.99") && strcmp(in->transfer_syntax_uid, "1.2.840.10008.1.2.2"))
            walk(d, pos, n, 0, 0, CTX_TOP, NULL);
        dcm_free(d);
    } else if (walk(d, pos, n, 0, 0, CTX_TOP, NULL) < 0) {
        dcm_free(d);
        return -1;
    }
    if (!*in->sop_class_uid) snprintf(in->sop_class_uid, sizeof in->sop_class_uid, "%s", d->meta_sop);
    for (size_t i = 0; i < sizeof sop_classes / sizeof *sop_classes; i++)
        if (!strcmp(sop_classes[i].uid, in->sop_class_uid)) in->sop_class = sop_classes[i].name;
    if (in->bits_stored < 0) in->bits_stored = in->bits_allocated;
    if (!(in->rescale_slope != 0 && isfinite(in->rescale_slope))) in->rescale_slope = 1;
    if (!isfinite(in->rescale_intercept)) in->rescale_intercept = 0;
    in->has_window = isfinite(in->window_center) && isfinite(in->window_width) && in->window_width >= 1;
    if (!in->has_window) in->window_center = in->window_width = 0;
    in->encapsulated = d->encapsulated;
    char why[256];
    const char *pb = image_problem(d, why, sizeof why);
    in->decodable = !pb;
    snprintf(in->problem, sizeof in->problem, "%s", pb ? pb : "");
    if (in->decodable && d->ts == TS_JPEG_BASELINE && in->samples_per_pixel == 3 && d->n_frag > 0) {
        /* the first frame's codestream against the data set: say when they disagree */
        jpeg_hdr jh;
        const char *why;
        size_t len;
        uint8_t *j0 = jpeg_join(d, 0, &len);
        int ok = j0 && jpeg_scan(j0, len, &jh) == 0 && jh.ncomp == 3;
        free(j0);
        if (ok) {
            int ycc = jpeg_holds_ycbcr(&jh, in->photometric, &why);
            if (ycc != !!strcmp(in->photometric, "RGB"))
                note(d, "a JPEG codestream holding %s (%s) under PhotometricInterpretation %s: read as %s", ycc ? "YCbCr" : "RGB", why,
                     in->photometric, ycc ? "YCbCr" : "RGB");
        }
    }
    return 0;
}

int sialo_dicom_read_info(const void *data, size_t size, sialo_dicom_info *out) {
    dcm d;
    sialo_dicom_info tmp;
    int rc = dcm_parse(data, size, out ? out : &tmp, &d);
    dcm_free(&d);
    return rc;
}

int sialo_dicom_not_image(const void *data, size_t size, char *why, size_t cap) {
    if (!sialo_is_dicom(data, size)) return 0;
    sialo_dicom_info in;
    if (sialo_dicom_read_info(data, size, &in) < 0 || !in.not_image) return 0;
    if (why && cap) snprintf(why, cap, "%s", in.problem);
    return 1;
}

/* ------------------------------------------------------------------ frames */
/* the fragments of frame k: [*first, *last) */
static int frame_fragments(dcm *d, int k, int *first, int *last) {
    int frames = d->info->frames, nf = d->n_frag;
    if (d->bot.len) { /* offsets from the first fragment's item tag; each starts a fragment, in order */
        if (d->bot.len != 4u * (size_t)frames)
            return sialo_fail("the DICOM basic offset table has %zu entries for %d frames", d->bot.len / 4, frames);
        const uint8_t *b = d->p + d->bot.off;
        int f = 0, prev = -1;
        for (int j = 0; j < frames && j <= k + 1; j++) {
            uint32_t off = rd32(b + 4 * j);
            if (off > d->n - d->first_frag_item) return sialo_fail("the DICOM basic offset table points past the end of the file (frame %d)", j);
            size_t target = d->first_frag_item + off;
            while (f < nf && d->frag_item[f] < target) f++;
            if (f >= nf || d->frag_item[f] != target || f <= prev || (j == 0 && f != 0))
                return sialo_fail("the DICOM basic offset table does not match the fragments (frame %d)", j);
            prev = f;
            if (j == k) *first = f;
            if (j == k + 1) *last = f;
        }
        if (k + 1 >= frames) *last = nf;
        return 0;
    }
    if (frames == 1) { *first = 0; *last = nf; return 0; }
    if (nf == frames) { *first = k; *last = k + 1; return 0; }
    if (d->ts == TS_JPEG_BASELINE) { /* a frame starts at each fragment that starts a JPEG stream */
        int j = -1;
        *first = *last = -1;
        for (int f = 0; f < nf; f++) {
            const uint8_t *v = d->p + d->frag[f].off;
            if (d->frag[f].len >= 3 && v[0] == 0xFF && v[1] == 0xD8 && v[2] == 0xFF) {
                j++;
                if (j == k) *first = f;
                if (j == k + 1) *last = f;
            } else if (f == 0) break;
        }
        if (j + 1 == frames && *first >= 0) {
            if (*last < 0) *last = nf;
            return 0;
        }
    }
    return sialo_fail("cannot tell which DICOM fragments hold which frame (%d fragments for %d frames and no basic offset table)", nf, frames);
}

/* RLE Lossless (PS3.5 Annex G): a 64-byte header (segment count, 15 offsets), PackBits segments.
 * Output: the frame in planar layout, segment s = byte plane s (most significant byte first). */
static int rle_frame(const uint8_t *f, size_t n, int nseg, size_t plane, uint8_t *out) {
    if (n < 64) return sialo_fail("the DICOM RLE frame is shorter than its 64-byte header");
    uint32_t count = rd32(f);
    if ((int)count != nseg) return sialo_fail("the DICOM RLE frame has %u segments where %d are needed", count, nseg);
    for (int s = 0; s < nseg; s++) {
        size_t start = rd32(f + 4 + 4 * s), stop = s + 1 < nseg ? rd32(f + 8 + 4 * s) : n;
        if (start < 64 || stop > n || start > stop) return sialo_fail("the DICOM RLE segment %d lies outside its frame", s + 1);
        uint8_t *o = out + (size_t)s * plane;
        size_t k = 0, i = start;
        while (k < plane && i < stop) {
            int c = (int8_t)f[i++];
            if (c >= 0) {
                size_t m = (size_t)c + 1;
                if (m > stop - i || m > plane - k) return sialo_fail("the DICOM RLE segment %d is corrupt (a literal run overflows)", s + 1);
                memcpy(o + k, f + i, m);
                k += m;
                i += m;
            } else if (c != -128) {
                size_t m = (size_t)(1 - c);
                if (i >= stop || m > plane - k) return sialo_fail("the DICOM RLE segment %d is corrupt (a repeat run overflows)", s + 1);
                memset(o + k, f[i++], m);
                k += m;
            }
        }
        if (k < plane) return sialo_fail("the DICOM RLE segment %d decodes to %zu bytes, %zu needed", s + 1, k, plane);
    }
    return 0;
}

static uint8_t clamp8(double x) { return x <= 0 ? 0 : x >= 255 ? 255 : (uint8_t)floor(x + 0.5); }

/* YBR_FULL to RGB as PS3.3 C.7.6.3.1.2 (and pydicom): float coefficients, rounded, clipped */
static void ybr_to_rgb(uint8_t *px, size_t n) {
    for (size_t i = 0; i < n; i++, px += 3) {
        float y = px[0], cb = px[1] - 128.0f, cr = px[2] - 128.0f;
        float r = y + 1.402f * cr;
        float g = y + (float)(-0.114 * 1.772 / 0.587) * cb + (float)(-0.299 * 1.402 / 0.587) * cr;
        float b = y + 1.772f * cb;
        px[0] = clamp8(r);
        px[1] = clamp8(g);
        px[2] = clamp8(b);
    }
}

/* greyscale / palette samples of one frame (raw: native layout; 16-bit words little endian, or
 * big endian when be) to RGB */
static int grey_to_rgb(const dcm *d, const uint8_t *raw, int be, uint8_t *rgb, size_t np) {
    const sialo_dicom_info *in = d->info;
    int ba = in->bits_allocated, bs = in->bits_stored, sgn = in->pixel_representation == 1;
    int inv = !strcmp(in->photometric, "MONOCHROME1"), palette = !strcmp(in->photometric, "PALETTE COLOR");
    uint32_t mask = bs >= 32 ? 0xFFFFFFFFu : (1u << bs) - 1;
#define SAMPLE(i) (ba == 8 ? (int32_t)raw[i] : be ? (int32_t)(raw[2 * (i)] << 8 | raw[2 * (i) + 1]) : (int32_t)rd16(raw + 2 * (i)))
#define VALUE(i) (sgn && ((uint32_t)SAMPLE(i) & mask) >> (bs - 1) ? (int32_t)((uint32_t)SAMPLE(i) & mask) - (int32_t)(mask + 1) \
                                                                   : (int32_t)((uint32_t)SAMPLE(i) & mask))
    if (palette) {
        for (int c = 0; c < 3; c++) {
            const uint8_t *ds = d->p + d->lut_desc[c].off, *lut = d->p + d->lut_data[c].off;
            unsigned entries = v16(d, ds) ? v16(d, ds) : 65536u, bits = v16(d, ds + 4);
            int32_t first = d->lut_desc[c].len >= 6 ? (sgn ? (int16_t)v16(d, ds + 2) : v16(d, ds + 2)) : 0;
            int words = bits == 16 || d->lut_data[c].len >= 2u * entries;
            /* a word's high byte (16-bit entries) or its low byte (8-bit entries in words), in the data set's byte order */
            int hi = d->big ? 0 : 1, lo = d->big ? 1 : 0;
            for (size_t i = 0; i < np; i++) {
                int64_t idx = (int64_t)VALUE(i) - first;
                if (idx < 0) idx = 0;
                if (idx >= (int64_t)entries) idx = (int64_t)entries - 1;
                rgb[3 * i + c] = bits == 16 ? lut[2 * idx + hi] : words ? lut[2 * idx + lo] : lut[idx];
            }
        }
        return 0;
    }
    if (ba == 8 && !sgn && bs == 8) { /* 8-bit: the stored values are the grey levels */
        for (size_t i = 0; i < np; i++) {
            uint8_t v = inv ? (uint8_t)(255 - raw[i]) : raw[i];
            rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
        }
        return 0;
    }
    /* rescale, then the window (PS3.3 C.11.2.1.2.1, linear), or the frame's range */
    double slope = in->rescale_slope, icpt = in->rescale_intercept, lo, hi;
    if (in->has_window) {
        lo = in->window_center - 0.5 - (in->window_width - 1) / 2;
        hi = in->window_center - 0.5 + (in->window_width - 1) / 2;
    } else {
        lo = INFINITY; hi = -INFINITY;
        for (size_t i = 0; i < np; i++) {
            double x = VALUE(i) * slope + icpt;
            if (x < lo) lo = x;
            if (x > hi) hi = x;
        }
    }
    for (size_t i = 0; i < np; i++) {
        double x = VALUE(i) * slope + icpt, y;
        if (in->has_window) {
            y = x <= lo ? 0 : x > hi ? 255 : ((x - (in->window_center - 0.5)) / (in->window_width - 1) + 0.5) * 255;
        } else {
            y = hi > lo ? (x - lo) / (hi - lo) * 255 : 0;
        }
        uint8_t v = clamp8(y);
        if (inv) v = (uint8_t)(255 - v);
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
    }
#undef SAMPLE
#undef VALUE
    return 0;
}

/* the JPEG stream of frame k: its fragments joined, their padding dropped (NULL + reason) */
static uint8_t *jpeg_join(dcm *d, int k, size_t *out_len) {
    int first, last;
    if (frame_fragments(d, k, &first, &last) < 0) return NULL;
    size_t len = 0;
    for (int f = first; f < last; f++) len += d->frag[f].len;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return sialo_fail_null("out of memory");
    len = 0;
    for (int f = first; f < last; f++) { memcpy(buf + len, d->p + d->frag[f].off, d->frag[f].len); len += d->frag[f].len; }
    while (len > 2 && !(buf[len - 2] == 0xFF && buf[len - 1] == 0xD9) && buf[len - 1] == 0) len--; /* fragment padding */
    if (len < 3 || buf[0] != 0xFF || buf[1] != 0xD8 || buf[2] != 0xFF) { free(buf); return sialo_fail_null("DICOM frame %d is not a JPEG stream", k); }
    *out_len = len;
    return buf;
}

/* a JPEG Baseline frame: the fragments joined, the samples decoded (decode_jpeg: no colour
 * transform), then the colour decided (jpeg_holds_ycbcr) and converted */
static int jpeg_frame(dcm *d, int k, sialo_decode_fn decode_jpeg, sialo_image *out) {
    sialo_dicom_info *in = d->info;
    int w = in->columns, h = in->rows;
    size_t np = (size_t)w * h;
    size_t len;
    uint8_t *buf = jpeg_join(d, k, &len);
    if (!buf) return -1;
    jpeg_hdr jh;
    if (jpeg_scan(buf, len, &jh) == 0 && jh.ncomp != 1 && jh.ncomp != 3) {
        free(buf);
        return sialo_fail("DICOM frame %d is a JPEG of %d components (1 or 3 expected)", k, jh.ncomp);
    }
    sialo_image img;
    int rc = decode_jpeg(buf, len, &img);
    free(buf);
    if (rc < 0) {
        char why[512];
        snprintf(why, sizeof why, "%s", sialo_error());
        return sialo_fail("DICOM frame %d: %s", k, why);
    }
    if (img.w != w || img.h != h) {
        sialo_image_free(&img);
        return sialo_fail("DICOM frame %d is a %dx%d JPEG but the file says %dx%d", k, img.w, img.h, w, h);
    }
    const char *why;
    if (jh.ncomp == 3 && jpeg_holds_ycbcr(&jh, in->photometric, &why)) jpeg_ycbcr_to_rgb(img.rgb, np);
    if (!strcmp(in->photometric, "MONOCHROME1")) for (size_t i = 0; i < np * 3; i++) img.rgb[i] = (uint8_t)(255 - img.rgb[i]);
    *out = img;
    return 0;
}

static int decode_frame(dcm *d, int k, sialo_decode_fn decode_jpeg, sialo_image *out) {
    sialo_dicom_info *in = d->info;
    int w = in->columns, h = in->rows, spp = in->samples_per_pixel, bps = in->bits_allocated / 8;
    size_t np = (size_t)w * h;
    if (k < 0 || k >= in->frames) return sialo_fail("frame %d does not exist (the DICOM file has %d frame%s)", k, in->frames, in->frames == 1 ? "" : "s");
    if (w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE)
        return sialo_fail("the image is %dx%d pixels; at least %dx%d is needed", w, h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    int colour = spp == 3, ybr422 = !strcmp(in->photometric, "YBR_FULL_422");
    uint8_t *rgb = NULL, *buf = NULL, *buf8 = NULL;
    const uint8_t *raw = NULL;
    int planar = in->planar_configuration == 1, be = 0;
    /* the transfer syntax picks the decoder of an encapsulated frame */
    if (d->ts == TS_JPEG_BASELINE) return jpeg_frame(d, k, decode_jpeg, out);
    int ybr = colour && strcmp(in->photometric, "RGB");
    if (d->ts == TS_CODEC) { /* the frame's fragments, concatenated, to a library (io/codecs.h), then as native pixel data */
        int first, last, is_rgb = 0;
        if (frame_fragments(d, k, &first, &last) < 0) return -1;
        size_t len = 0;
        for (int f = first; f < last; f++) len += d->frag[f].len;
        uint8_t *cs = malloc(len ? len : 1);
        buf = malloc(np * spp * bps);
        if (!cs || !buf) { free(cs); free(buf); return sialo_fail("out of memory"); }
        len = 0;
        for (int f = first; f < last; f++) { memcpy(cs + len, d->p + d->frag[f].off, d->frag[f].len); len += d->frag[f].len; }
        sialo_codec_frame want = {w, h, spp, in->bits_allocated, in->bits_stored, in->pixel_representation == 1, in->photometric};
        int rc = sialo_codec_decode(sialo_codec_for_syntax(in->transfer_syntax_uid), cs, len, &want, buf, &is_rgb);
        free(cs);
        if (rc < 0) {
            char why[512];
            snprintf(why, sizeof why, "%s", sialo_error());
            free(buf);
            return sialo_fail("DICOM frame %d: %s", k, why);
        }
        raw = buf;
        planar = ybr422 = 0;
        ybr = ybr && !is_rgb;
    } else if (d->ts == TS_RLE) {
        int first, last;
        if (frame_fragments(d, k, &first, &last) < 0) return -1;
        if (last - first != 1) return sialo_fail("DICOM RLE frame %d spans %d fragments (one per frame expected)", k, last - first);
        buf = malloc(np * spp * bps);
        if (!buf) return sialo_fail("out of memory");
        if (rle_frame(d->p + d->frag[first].off, d->frag[first].len, spp * bps, np, buf) < 0) { free(buf); return -1; }
        if (bps == 2) { /* byte planes (high, low of each sample) to planes of little-endian words */
            uint8_t *le = malloc(np * 2 * spp);
            if (!le) { free(buf); return sialo_fail("out of memory"); }
            for (int c = 0; c < spp; c++)
                for (size_t i = 0; i < np; i++) {
                    le[2 * (c * np + i)] = buf[(2 * c + 1) * np + i];
                    le[2 * (c * np + i) + 1] = buf[2 * c * np + i];
                }
            free(buf);
            buf = le;
        }
        raw = buf;
        planar = 1;   /* RLE keeps one segment per colour */
        ybr422 = 0;   /* RLE stores YBR_FULL_422 unsubsampled (PS3.5 8.2.2) */
    } else {
        size_t fb = np * spp * bps;
        if (ybr422) fb = np * 2 * bps;
        raw = d->p + d->pixel.off + fb * (size_t)k;
        be = d->big;
        if (d->big && bps == 1 && d->pixel_ow) { /* 8-bit data in OW words, big endian: each pair swapped */
            size_t rel = fb * (size_t)k;
            buf = malloc(fb);
            if (!buf) return sialo_fail("out of memory");
            for (size_t j = 0; j < fb; j++) {
                size_t a = (rel + j) ^ 1;
                buf[j] = a < d->pixel.len ? d->p[d->pixel.off + a] : 0;
            }
            raw = buf;
        }
    }
    if (colour && bps == 2) { /* 16-bit colour samples to 8 bits, rounded as a 16-bit PNG is: v * 255 / (2^bits stored - 1) */
        size_t ns = ybr422 ? np * 2 : np * 3;
        uint32_t bs = (uint32_t)in->bits_stored, m = bs >= 16 ? 0xFFFFu : (1u << bs) - 1;
        buf8 = malloc(ns);
        if (!buf8) { free(buf); return sialo_fail("out of memory"); }
        for (size_t i = 0; i < ns; i++) {
            uint32_t v = (be ? (uint32_t)(raw[2 * i] << 8 | raw[2 * i + 1]) : rd16(raw + 2 * i)) & m;
            buf8[i] = (uint8_t)((v * 255u + m / 2) / m);
        }
        raw = buf8;
    }
    rgb = malloc(np * 3);
    if (!rgb) { free(buf); free(buf8); return sialo_fail("out of memory"); }
    if (!colour) {
        grey_to_rgb(d, raw, be, rgb, np);
    } else if (ybr422) { /* Y0 Y1 Cb Cr for each pair of pixels */
        for (size_t i = 0; i < np; i += 2) {
            const uint8_t *q = raw + 2 * i;
            rgb[3 * i] = q[0]; rgb[3 * i + 1] = q[2]; rgb[3 * i + 2] = q[3];
            rgb[3 * i + 3] = q[1]; rgb[3 * i + 4] = q[2]; rgb[3 * i + 5] = q[3];
        }
    } else if (planar) {
        for (size_t i = 0; i < np; i++) { rgb[3 * i] = raw[i]; rgb[3 * i + 1] = raw[np + i]; rgb[3 * i + 2] = raw[2 * np + i]; }
    } else {
        memcpy(rgb, raw, np * 3);
    }
    if (ybr) ybr_to_rgb(rgb, np);
    free(buf);
    free(buf8);
    out->rgb = rgb;
    out->w = w;
    out->h = h;
    return 0;
}

/* crop to the first ultrasound region (inclusive corners), when the file has one */
static int crop_region(const sialo_dicom_info *in, sialo_image *img) {
    if (in->n_regions < 1) return 0;
    const sialo_us_region *r = &in->regions[0];
    if (r->x0 < 0 || r->y0 < 0 || r->x1 < r->x0 || r->y1 < r->y0 || r->x0 >= img->w || r->y0 >= img->h)
        return sialo_fail("the first DICOM ultrasound region (%d,%d)-(%d,%d) lies outside the %dx%d frame", r->x0, r->y0, r->x1, r->y1,
                          img->w, img->h);
    int x1 = r->x1 < img->w ? r->x1 : img->w - 1, y1 = r->y1 < img->h ? r->y1 : img->h - 1;
    int cw = x1 - r->x0 + 1, ch = y1 - r->y0 + 1;
    if (cw < SIALO_MIN_SIDE || ch < SIALO_MIN_SIDE)
        return sialo_fail("the first DICOM ultrasound region is %dx%d pixels; at least %dx%d is needed", cw, ch, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    uint8_t *c = malloc((size_t)cw * ch * 3);
    if (!c) return sialo_fail("out of memory");
    for (int y = 0; y < ch; y++) memcpy(c + (size_t)y * cw * 3, img->rgb + ((size_t)(r->y0 + y) * img->w + r->x0) * 3, (size_t)cw * 3);
    sialo_image_free(img);
    img->rgb = c;
    img->w = cw;
    img->h = ch;
    return 0;
}

int sialo_dicom_decode_with(const void *data, size_t size, int frame, int us_region, sialo_decode_fn decode_jpeg, sialo_image *out) {
    memset(out, 0, sizeof *out);
    sialo_dicom_info in;
    dcm d;
    if (dcm_parse(data, size, &in, &d) < 0) return -1;
    int rc = in.decodable ? decode_frame(&d, frame, decode_jpeg, out) : sialo_fail("%s", in.problem);
    dcm_free(&d);
    if (rc == 0 && us_region && crop_region(&in, out) < 0) { sialo_image_free(out); return -1; }
    return rc;
}

int sialo_dicom_frames(const void *data, size_t size) {
    sialo_dicom_info in;
    if (sialo_dicom_read_info(data, size, &in) < 0) return -1;
    if (!in.decodable) return sialo_fail("%s", in.problem);
    return in.frames;
}

/* ------------------------------------------------------------------ JSON */
static void js_str(char **s, size_t *n, size_t *cap, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void js_str(char **s, size_t *n, size_t *cap, const char *fmt, ...) {
    if (!*s) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(*s + *n, *cap - *n, fmt, ap);
    va_end(ap);
    if (k < 0) { free(*s); *s = NULL; return; }
    if (*n + (size_t)k >= *cap) {
        size_t nc = (*n + (size_t)k + 1) * 2;
        char *ns = realloc(*s, nc);
        if (!ns) { free(*s); *s = NULL; return; }
        *s = ns;
        *cap = nc;
        va_start(ap, fmt);
        vsnprintf(*s + *n, *cap - *n, fmt, ap);
        va_end(ap);
    }
    *n += (size_t)k;
}

/* a JSON string of printable ASCII (get_text made sure), escaped */
static void js_quote(char **s, size_t *n, size_t *cap, const char *v) {
    js_str(s, n, cap, "\"");
    for (const char *c = v; *c; c++) {
        if (*c == '"' || *c == '\\') js_str(s, n, cap, "\\%c", *c);
        else js_str(s, n, cap, "%c", *c);
    }
    js_str(s, n, cap, "\"");
}

char *sialo_dicom_info_json(const sialo_dicom_info *in) {
    size_t n = 0, cap = 1024;
    char *s = malloc(cap);
    if (!s) return sialo_fail_null("out of memory");
    s[0] = 0;
    js_str(&s, &n, &cap, "{\"frames\":%d,\"rows\":%d,\"columns\":%d,\"modality\":", in->frames, in->rows, in->columns);
    js_quote(&s, &n, &cap, in->modality);
    js_str(&s, &n, &cap, ",\"sop_class\":");
    js_quote(&s, &n, &cap, in->sop_class);
    js_str(&s, &n, &cap, ",\"sop_class_uid\":");
    js_quote(&s, &n, &cap, in->sop_class_uid);
    js_str(&s, &n, &cap, ",\"manufacturer\":");
    js_quote(&s, &n, &cap, in->manufacturer);
    js_str(&s, &n, &cap, ",\"model\":");
    js_quote(&s, &n, &cap, in->model);
    js_str(&s, &n, &cap, ",\"transfer_syntax\":");
    js_quote(&s, &n, &cap, in->transfer_syntax);
    js_str(&s, &n, &cap, ",\"transfer_syntax_uid\":");
    js_quote(&s, &n, &cap, in->transfer_syntax_uid);
    js_str(&s, &n, &cap, ",\"encapsulated\":%s,\"photometric\":", in->encapsulated ? "true" : "false");
    js_quote(&s, &n, &cap, in->photometric);
    js_str(&s, &n, &cap, ",\"samples_per_pixel\":%d,\"bits_allocated\":%d,\"bits_stored\":%d,\"pixel_representation\":%d,\"planar_configuration\":%d",
           in->samples_per_pixel, in->bits_allocated, in->bits_stored, in->pixel_representation, in->planar_configuration);
    js_str(&s, &n, &cap, ",\"rescale_slope\":%.9g,\"rescale_intercept\":%.9g", in->rescale_slope, in->rescale_intercept);
    if (in->has_window) js_str(&s, &n, &cap, ",\"window_center\":%.9g,\"window_width\":%.9g", in->window_center, in->window_width);
    else js_str(&s, &n, &cap, ",\"window_center\":null,\"window_width\":null");
    js_str(&s, &n, &cap, ",\"us_regions\":[");
    for (int i = 0; i < in->n_regions; i++) {
        const sialo_us_region *r = &in->regions[i];
        js_str(&s, &n, &cap, "%s{\"x0\":%d,\"y0\":%d,\"x1\":%d,\"y1\":%d,\"spatial_format\":%d,\"data_type\":%d,\"physical_units_x\":%d,"
                             "\"physical_units_y\":%d,\"physical_delta_x\":%.9g,\"physical_delta_y\":%.9g}",
               i ? "," : "", r->x0, r->y0, r->x1, r->y1, r->spatial_format, r->data_type, r->units_x, r->units_y, r->delta_x, r->delta_y);
    }
    js_str(&s, &n, &cap, "],\"decodable\":%s,\"not_image\":%s,\"problem\":", in->decodable ? "true" : "false", in->not_image ? "true" : "false");
    if (in->decodable) js_str(&s, &n, &cap, "null");
    else js_quote(&s, &n, &cap, in->problem);
    js_str(&s, &n, &cap, ",\"notes\":[");
    for (int i = 0; i < in->n_notes; i++) {
        if (i) js_str(&s, &n, &cap, ",");
        js_quote(&s, &n, &cap, in->notes[i]);
    }
    js_str(&s, &n, &cap, "]}");
    if (!s) return sialo_fail_null("out of memory");
    return s;
}
