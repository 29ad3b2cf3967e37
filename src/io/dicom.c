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
enum { TS_IMPLICIT = 1, TS_EXPLICIT, TS_JPEG_BASELINE, TS_RLE };
#define TS_CODEC 100 /* JPEG 2000, HTJ2K, JPEG-LS, JPEG Extended / Lossless: a library of io/codecs.h */

static const struct { const char *uid, *name; int id; } syntaxes[] = {
    {"1.2.840.10008.1.2", "Implicit VR Little Endian", TS_IMPLICIT},
    {"1.2.840.10008.1.2.1", "Explicit VR Little Endian", TS_EXPLICIT},
    {"1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", TS_JPEG_BASELINE},
    {"1.2.840.10008.1.2.5", "RLE Lossless", TS_RLE},
    {"1.2.840.10008.1.2.1.99", "Deflated Explicit VR Little Endian", 0},
    {"1.2.840.10008.1.2.2", "Explicit VR Big Endian", 0},
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
};

/* ------------------------------------------------------------------ the parsed file */
typedef struct { size_t off, len; } span;

typedef struct {
    sialo_dicom_info *info;
    const uint8_t *p;
    size_t n;
    int ts;              /* TS_* (0 = not supported) */
    int explicit_vr;     /* of the data set */
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

int sialo_is_dicom(const void *data, size_t size) {
    return data && size >= 132 && !memcmp((const uint8_t *)data + 128, "DICM", 4);
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

static int get_us(const uint8_t *v, size_t len) { return len >= 2 ? rd16(v) : -1; }

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
static int read_elem(const dcm *d, size_t pos, size_t end, int explicit_vr, elem *el) {
    const uint8_t *p = d->p;
    if (end - pos < 8) return sialo_fail("the DICOM file is truncated (an element header at byte %zu is cut off)", pos);
    el->g = rd16(p + pos);
    el->e = rd16(p + pos + 2);
    if (el->g == 0xFFFE || !explicit_vr) {
        el->len = rd32(p + pos + 4);
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
            el->len = rd32(p + pos + 8);
            el->val = pos + 12;
        } else {
            el->len = rd16(p + pos + 6);
            el->val = pos + 8;
        }
    }
    if (el->len != DCM_UNDEFINED) {
        if (el->len > end - el->val)
            return sialo_fail("the DICOM element (%04X,%04X) at byte %zu claims %u bytes but only %zu remain", el->g, el->e, pos,
                              el->len, end - el->val);
        if (el->len & 1) return sialo_fail("the DICOM element (%04X,%04X) at byte %zu has an odd length (%u)", el->g, el->e, pos, el->len);
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
    case 0x00280002: in->samples_per_pixel = get_us(v, len); break;
    case 0x00280004: get_text(v, len, in->photometric, sizeof in->photometric); break;
    case 0x00280006: in->planar_configuration = get_us(v, len); break;
    case 0x00280008: {
        double f = get_number(v, len);
        in->frames = isnan(f) ? -1 : f < 0 ? -1 : f > DCM_MAX_FRAMES ? DCM_MAX_FRAMES + 1 : (int)f;
        break;
    }
    case 0x00280010: in->rows = get_us(v, len); break;
    case 0x00280011: in->columns = get_us(v, len); break;
    case 0x00280100: in->bits_allocated = get_us(v, len); break;
    case 0x00280101: in->bits_stored = get_us(v, len); break;
    case 0x00280103: in->pixel_representation = get_us(v, len); break;
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
    case 0x6018: if (len >= 4) r->x0 = (int)(rd32(v) & 0x7FFFFFFF); break;
    case 0x601A: if (len >= 4) r->y0 = (int)(rd32(v) & 0x7FFFFFFF); break;
    case 0x601C: if (len >= 4) r->x1 = (int)(rd32(v) & 0x7FFFFFFF); break;
    case 0x601E: if (len >= 4) r->y1 = (int)(rd32(v) & 0x7FFFFFFF); break;
    case 0x6012: r->spatial_format = get_us(v, len); break;
    case 0x6014: r->data_type = get_us(v, len); break;
    case 0x6024: r->units_x = get_us(v, len); break;
    case 0x6026: r->units_y = get_us(v, len); break;
    case 0x602C: if (len >= 8) { double x; memcpy(&x, v, 8); r->delta_x = isfinite(x) ? x : 0; } break;
    case 0x602E: if (len >= 8) { double x; memcpy(&x, v, 8); r->delta_y = isfinite(x) ? x : 0; } break;
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
    free(d->frag);
    free(d->frag_item);
    d->frag = NULL;
    d->frag_item = NULL;
}

/* why the frames cannot be decoded (NULL = they can); sets nothing */
static const char *image_problem(dcm *d, char *buf, size_t cap) {
    sialo_dicom_info *in = d->info;
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
    if (ba != 8 && !(ba == 16 && !colour)) {
        snprintf(buf, cap, "DICOM pixels of %d bits allocated are not supported (8, or 16 for greyscale and palette)", ba);
        return buf;
    }
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
            unsigned entries = rd16(ds) ? rd16(ds) : 65536u, bits = rd16(ds + 4);
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
    if (!p || n < 132 || memcmp(p + 128, "DICM", 4)) return sialo_fail("not a DICOM file (no DICM marker after the 128-byte preamble)");
    /* the file meta group: Explicit VR Little Endian */
    size_t pos = 132;
    int have_ts = 0;
    while (pos + 2 <= n && rd16(p + pos) == 0x0002) {
        elem el = {0};
        if (read_elem(d, pos, n, 1, &el) < 0) return -1;
        if (el.len == DCM_UNDEFINED) return sialo_fail("the DICOM file meta element (0002,%04X) has an undefined length", el.e);
        if (el.e == 0x0010) {
            get_text(p + el.val, el.len, in->transfer_syntax_uid, sizeof in->transfer_syntax_uid);
            have_ts = 1;
        }
        pos = el.val + el.len;
    }
    if (!have_ts) return sialo_fail("the DICOM file meta information has no transfer syntax (0002,0010)");
    for (size_t i = 0; i < sizeof syntaxes / sizeof *syntaxes; i++)
        if (!strcmp(syntaxes[i].uid, in->transfer_syntax_uid)) { in->transfer_syntax = syntaxes[i].name; d->ts = syntaxes[i].id; }
    if (!d->ts && sialo_codec_for_syntax(in->transfer_syntax_uid)) d->ts = TS_CODEC;
    d->explicit_vr = d->ts != TS_IMPLICIT;
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
    return 0;
}

int sialo_dicom_read_info(const void *data, size_t size, sialo_dicom_info *out) {
    dcm d;
    sialo_dicom_info tmp;
    int rc = dcm_parse(data, size, out ? out : &tmp, &d);
    dcm_free(&d);
    return rc;
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

/* greyscale / palette samples of one frame (raw: native layout, LE words for 16 bits) to RGB */
static int grey_to_rgb(const dcm *d, const uint8_t *raw, uint8_t *rgb, size_t np) {
    const sialo_dicom_info *in = d->info;
    int ba = in->bits_allocated, bs = in->bits_stored, sgn = in->pixel_representation == 1;
    int inv = !strcmp(in->photometric, "MONOCHROME1"), palette = !strcmp(in->photometric, "PALETTE COLOR");
    uint32_t mask = bs >= 32 ? 0xFFFFFFFFu : (1u << bs) - 1;
#define SAMPLE(i) (ba == 8 ? (int32_t)raw[i] : (int32_t)rd16(raw + 2 * (i)))
#define VALUE(i) (sgn && ((uint32_t)SAMPLE(i) & mask) >> (bs - 1) ? (int32_t)((uint32_t)SAMPLE(i) & mask) - (int32_t)(mask + 1) \
                                                                   : (int32_t)((uint32_t)SAMPLE(i) & mask))
    if (palette) {
        for (int c = 0; c < 3; c++) {
            const uint8_t *ds = d->p + d->lut_desc[c].off, *lut = d->p + d->lut_data[c].off;
            unsigned entries = rd16(ds) ? rd16(ds) : 65536u, bits = rd16(ds + 4);
            int32_t first = d->lut_desc[c].len >= 6 ? (sgn ? (int16_t)rd16(ds + 2) : rd16(ds + 2)) : 0;
            int words = bits == 16 || d->lut_data[c].len >= 2u * entries;
            for (size_t i = 0; i < np; i++) {
                int64_t idx = (int64_t)VALUE(i) - first;
                if (idx < 0) idx = 0;
                if (idx >= (int64_t)entries) idx = (int64_t)entries - 1;
                rgb[3 * i + c] = bits == 16 ? lut[2 * idx + 1] : words ? lut[2 * idx] : lut[idx];
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

static int decode_frame(dcm *d, int k, sialo_decode_fn decode_jpeg, sialo_image *out) {
    sialo_dicom_info *in = d->info;
    int w = in->columns, h = in->rows, spp = in->samples_per_pixel, bps = in->bits_allocated / 8;
    size_t np = (size_t)w * h;
    if (k < 0 || k >= in->frames) return sialo_fail("frame %d does not exist (the DICOM file has %d frame%s)", k, in->frames, in->frames == 1 ? "" : "s");
    if (w < SIALO_MIN_SIDE || h < SIALO_MIN_SIDE)
        return sialo_fail("the image is %dx%d pixels; at least %dx%d is needed", w, h, SIALO_MIN_SIDE, SIALO_MIN_SIDE);
    int colour = spp == 3, ybr422 = !strcmp(in->photometric, "YBR_FULL_422");
    uint8_t *rgb = NULL, *buf = NULL;
    const uint8_t *raw = NULL;
    int planar = in->planar_configuration == 1;
    if (d->ts == TS_JPEG_BASELINE) {
        int first, last;
        if (frame_fragments(d, k, &first, &last) < 0) return -1;
        size_t len = 0;
        for (int f = first; f < last; f++) len += d->frag[f].len;
        buf = malloc(len ? len : 1);
        if (!buf) return sialo_fail("out of memory");
        len = 0;
        for (int f = first; f < last; f++) { memcpy(buf + len, d->p + d->frag[f].off, d->frag[f].len); len += d->frag[f].len; }
        while (len > 2 && !(buf[len - 2] == 0xFF && buf[len - 1] == 0xD9) && buf[len - 1] == 0) len--; /* fragment padding */
        if (len < 3 || buf[0] != 0xFF || buf[1] != 0xD8 || buf[2] != 0xFF) { free(buf); return sialo_fail("DICOM frame %d is not a JPEG stream", k); }
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
        if (!strcmp(in->photometric, "MONOCHROME1")) for (size_t i = 0; i < np * 3; i++) img.rgb[i] = (uint8_t)(255 - img.rgb[i]);
        *out = img;
        return 0;
    }
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
        if (bps == 2) { /* byte planes (high, low) to little-endian words */
            uint8_t *le = malloc(np * 2);
            if (!le) { free(buf); return sialo_fail("out of memory"); }
            for (size_t i = 0; i < np; i++) { le[2 * i] = buf[np + i]; le[2 * i + 1] = buf[i]; }
            free(buf);
            buf = le;
        }
        raw = buf;
        planar = 1;   /* RLE keeps one segment per colour */
        ybr422 = 0;   /* RLE stores YBR_FULL_422 unsubsampled (PS3.5 8.2.2) */
    } else {
        size_t fb = np * spp * bps;
        if (ybr422) fb = np * 2;
        raw = d->p + d->pixel.off + fb * (size_t)k;
    }
    rgb = malloc(np * 3);
    if (!rgb) { free(buf); return sialo_fail("out of memory"); }
    if (!colour) {
        grey_to_rgb(d, raw, rgb, np);
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
    js_str(&s, &n, &cap, "],\"decodable\":%s,\"problem\":", in->decodable ? "true" : "false");
    if (in->decodable) js_str(&s, &n, &cap, "null}");
    else { js_quote(&s, &n, &cap, in->problem); js_str(&s, &n, &cap, "}"); }
    if (!s) return sialo_fail_null("out of memory");
    return s;
}
