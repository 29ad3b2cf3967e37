/* codec_j2k.c — JPEG 2000 (…4.90 lossless, …4.91) and HTJ2K (…4.201, …4.202, …4.203) frames,
 * decoded by OpenJPEG 2.5 (which reads HTJ2K code-blocks since 2.5.0), in strict mode: a
 * truncated codestream is refused, not decoded in part.
 *
 * Before OpenJPEG sees a byte, the SIZ marker segment is read here (PS3.5 A.4.4; ISO 15444-1 A.5.1)
 * and its size, components and tile count checked against the data set: OpenJPEG allocates its
 * tile structures while it reads the header, so a 65535 x 65535 image or 65535 tiny tiles never
 * reach it. Colour: the codestream's multiple-component transform flag (COD, SGcod) decides, as
 * OpenJPEG applies it: set (YBR_RCT / YBR_ICT, or a file that says RGB over a transformed
 * codestream) -> the samples come out RGB; not set -> the samples are as stored, RGB unless the
 * data set says YBR_FULL (then YCbCr, converted by the reader). */
#include "base/base.h"
#include "io/codecs.h"

#include <openjpeg.h>
#include <stdio.h>
#include <string.h>

#define J2K_MAX_TILES 4096

typedef struct { const uint8_t *p; size_t n, pos; } j2k_mem;

static OPJ_SIZE_T mem_read(void *buf, OPJ_SIZE_T nb, void *user) {
    j2k_mem *m = user;
    if (m->pos >= m->n) return (OPJ_SIZE_T)-1;
    size_t k = m->n - m->pos < nb ? m->n - m->pos : nb;
    memcpy(buf, m->p + m->pos, k);
    m->pos += k;
    return k;
}
static OPJ_OFF_T mem_skip(OPJ_OFF_T nb, void *user) {
    j2k_mem *m = user;
    if (nb < 0) {
        if ((size_t)-nb > m->pos) return -1;
        m->pos -= (size_t)-nb;
        return nb;
    }
    size_t k = m->n - m->pos < (size_t)nb ? m->n - m->pos : (size_t)nb;
    m->pos += k;
    return (OPJ_OFF_T)k;
}
static OPJ_BOOL mem_seek(OPJ_OFF_T nb, void *user) {
    j2k_mem *m = user;
    if (nb < 0 || (uint64_t)nb > m->n) return OPJ_FALSE;
    m->pos = (size_t)nb;
    return OPJ_TRUE;
}

typedef struct { char msg[160]; } j2k_log;
static void on_error(const char *msg, void *user) {
    j2k_log *l = user;
    if (l->msg[0]) return; /* the first error is the cause */
    snprintf(l->msg, sizeof l->msg, "%s", msg);
    size_t k = strlen(l->msg);
    while (k && (l->msg[k - 1] == '\n' || l->msg[k - 1] == ' ' || l->msg[k - 1] == '.')) l->msg[--k] = 0;
}
static void on_quiet(const char *msg, void *user) { (void)msg; (void)user; }

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static uint16_t be16(const uint8_t *p) { return (uint16_t)(p[0] << 8 | p[1]); }

/* the codestream's SIZ against the data set; *cs = offset of the codestream (after JP2 boxes) */
static int check_siz(const uint8_t *p, size_t n, const sialo_codec_frame *want, size_t *cs, int *jp2) {
    size_t o = 0;
    *jp2 = 0;
    if (n >= 12 && !memcmp(p, "\0\0\0\x0cjP  \r\n\x87\n", 12)) { /* a JP2 file: find the contiguous codestream box */
        *jp2 = 1;
        o = 12;
        for (;;) {
            if (n - o < 8) return sialo_fail("the JPEG 2000 file has no codestream box");
            uint64_t len = be32(p + o);
            size_t hdr = 8;
            if (len == 1) {
                if (n - o < 16) return sialo_fail("the JPEG 2000 file has no codestream box");
                len = (uint64_t)be32(p + o + 8) << 32 | be32(p + o + 12);
                hdr = 16;
            } else if (len == 0) len = n - o;
            if (len < hdr || len > n - o) return sialo_fail("a JPEG 2000 box is longer than the frame");
            if (!memcmp(p + o + 4, "jp2c", 4)) { o += hdr; break; }
            o += (size_t)len;
        }
    }
    const uint8_t *q = p + o;
    size_t m = n - o;
    if (m < 4 || q[0] != 0xFF || q[1] != 0x4F || q[2] != 0xFF || q[3] != 0x51) return sialo_fail("the frame is not a JPEG 2000 codestream (no SOC and SIZ markers)");
    if (m < 4 + 38 + 3) return sialo_fail("the JPEG 2000 codestream is truncated in its SIZ marker");
    const uint8_t *s = q + 4;
    unsigned lsiz = be16(s), csiz = be16(s + 36);
    uint32_t xs = be32(s + 4), ys = be32(s + 8), x0 = be32(s + 12), y0 = be32(s + 16), xt = be32(s + 20), yt = be32(s + 24),
             xt0 = be32(s + 28), yt0 = be32(s + 32);
    if (lsiz != 38 + 3 * csiz || m < 4 + (size_t)lsiz) return sialo_fail("the JPEG 2000 SIZ marker is malformed");
    if (x0 >= xs || y0 >= ys || xt == 0 || yt == 0 || xt0 > x0 || yt0 > y0) return sialo_fail("the JPEG 2000 SIZ marker gives an empty image or tiles");
    uint64_t w = xs - x0, h = ys - y0;
    if (w != (uint64_t)want->columns || h != (uint64_t)want->rows)
        return sialo_fail("the JPEG 2000 codestream is %llux%llu pixels but the DICOM file says %dx%d", (unsigned long long)w,
                          (unsigned long long)h, want->columns, want->rows);
    if ((int)csiz != want->samples)
        return sialo_fail("the JPEG 2000 codestream has %u component%s but the DICOM file says %d samples per pixel", csiz, csiz == 1 ? "" : "s", want->samples);
    uint64_t tw = (xs - xt0 + (uint64_t)xt - 1) / xt, th = (ys - yt0 + (uint64_t)yt - 1) / yt;
    if (tw * th > J2K_MAX_TILES) return sialo_fail("the JPEG 2000 codestream has %llu tiles, more than the %d read", (unsigned long long)(tw * th), J2K_MAX_TILES);
    for (unsigned c = 0; c < csiz; c++) {
        const uint8_t *cc = s + 38 + 3 * c;
        int prec = (cc[0] & 0x7F) + 1;
        if (cc[1] != 1 || cc[2] != 1) return sialo_fail("the JPEG 2000 component %u is subsampled (%ux%u), which DICOM does not allow", c + 1, cc[1], cc[2]);
        if (prec > want->bits_allocated)
            return sialo_fail("the JPEG 2000 component %u has %d bits but the DICOM file allocates %d", c + 1, prec, want->bits_allocated);
    }
    *cs = o;
    return 0;
}

int sialo_j2k_decode(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb) {
    size_t cs;
    int jp2;
    if (check_siz(data, size, want, &cs, &jp2) < 0) return -1;
    j2k_mem m = {data, size, 0};
    j2k_log log = {{0}};
    opj_codec_t *codec = opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K);
    opj_stream_t *st = opj_stream_create(1 << 16, OPJ_TRUE);
    opj_image_t *img = NULL;
    int rc = -1;
    if (!codec || !st) { sialo_fail("out of memory"); goto done; }
    opj_set_error_handler(codec, on_error, &log);
    opj_set_warning_handler(codec, on_quiet, NULL);
    opj_set_info_handler(codec, on_quiet, NULL);
    opj_stream_set_user_data(st, &m, NULL);
    opj_stream_set_user_data_length(st, size);
    opj_stream_set_read_function(st, mem_read);
    opj_stream_set_skip_function(st, mem_skip);
    opj_stream_set_seek_function(st, mem_seek);
    opj_dparameters_t par;
    opj_set_default_decoder_parameters(&par);
    if (!opj_setup_decoder(codec, &par) || !opj_decoder_set_strict_mode(codec, OPJ_TRUE)) { sialo_fail("the JPEG 2000 decoder cannot be set up"); goto done; }
    if (!opj_read_header(st, codec, &img)) { sialo_fail("the JPEG 2000 header cannot be read (%s)", log.msg[0] ? log.msg : "damaged"); goto done; }
    int mct = 0;
    opj_codestream_info_v2_t *ci = opj_get_cstr_info(codec);
    if (ci) { mct = ci->m_default_tile_info.mct != 0; opj_destroy_cstr_info(&ci); }
    if (!opj_decode(codec, st, img) || !opj_end_decompress(codec, st)) {
        sialo_fail("the JPEG 2000 codestream cannot be decoded (%s)", log.msg[0] ? log.msg : "damaged or truncated");
        goto done;
    }
    int w = want->columns, h = want->rows, nc = want->samples, bytes = want->bits_allocated / 8;
    if ((int)img->numcomps != nc) { sialo_fail("the JPEG 2000 image has %u components, %d expected", img->numcomps, nc); goto done; }
    for (int c = 0; c < nc; c++) {
        const opj_image_comp_t *k = &img->comps[c];
        if (!k->data || (int)k->w != w || (int)k->h != h || k->factor) { sialo_fail("the JPEG 2000 component %d was not decoded at full size", c + 1); goto done; }
        if (sialo_codec_check("JPEG 2000", w, h, nc, (int)k->prec, want) < 0) goto done;
    }
    size_t np = (size_t)w * h;
    for (int c = 0; c < nc; c++) {
        const OPJ_INT32 *d = img->comps[c].data;
        for (size_t i = 0; i < np; i++) sialo_codec_put(out, i * nc + c, bytes, d[i]);
    }
    *is_rgb = nc == 3 && (mct || strcmp(want->photometric, "YBR_FULL"));
    rc = 0;
done:
    if (img) opj_image_destroy(img);
    if (st) opj_stream_destroy(st);
    if (codec) opj_destroy_codec(codec);
    return rc;
}

const char *sialo_j2k_version(void) {
    static char v[32];
    snprintf(v, sizeof v, "OpenJPEG %s", opj_version());
    return v;
}
