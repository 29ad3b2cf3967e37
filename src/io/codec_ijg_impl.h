/* codec_ijg_impl.h — one JPEG frame through one of dcmtk's IJG libraries (libijg8 / libijg12 /
 * libijg16: IJG 6b with the lossless process added, each built for one sample size). Included by
 * codec_ijg8.c, codec_ijg12.c and codec_ijg16.c, each after its own jpeglibN.h, with IJG_DECODE
 * the name of the function to define. The frame header is checked against the data set before
 * jpeg_start_decompress allocates anything; a stream that ends early is refused (not padded with
 * an EOI, as IJG's own sources do); more than IJG_MAX_SCANS scans are refused (each scan of a
 * multi-scan stream passes over the whole image). Colour (three components), in the order the
 * best readers decide: an Adobe APP14 marker's transform flag; a JFIF marker -> YCbCr;
 * subsampled chroma -> YCbCr; component IDs 'R', 'G', 'B' -> RGB; otherwise the data set's
 * photometric interpretation (YBR_* -> YCbCr, else RGB). YCbCr is converted by the library. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#define IJG_MAX_SCANS 1000

typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} ijg_err;

typedef struct {
    struct jpeg_source_mgr pub;
    int ended;
} ijg_src;

static void ijg_error_exit(j_common_ptr c) {
    ijg_err *e = (ijg_err *)c->err;
    (*c->err->format_message)(c, e->msg);
    longjmp(e->jump, 1);
}
static void ijg_emit(j_common_ptr c, int level) { (void)c; (void)level; }
static void ijg_init_source(j_decompress_ptr c) { (void)c; }
static boolean ijg_fill(j_decompress_ptr c) {
    static const JOCTET eoi[2] = {0xFF, JPEG_EOI};
    ijg_src *s = (ijg_src *)c->src;
    s->ended = 1; /* the stream ended before the decoder did: refused after the call */
    s->pub.next_input_byte = eoi;
    s->pub.bytes_in_buffer = 2;
    return TRUE;
}
static void ijg_skip(j_decompress_ptr c, long n) {
    if (n <= 0) return;
    struct jpeg_source_mgr *s = c->src;
    while ((size_t)n > s->bytes_in_buffer) {
        n -= (long)s->bytes_in_buffer;
        (void)(*s->fill_input_buffer)(c);
    }
    s->next_input_byte += n;
    s->bytes_in_buffer -= (size_t)n;
}
static void ijg_term(j_decompress_ptr c) { (void)c; }
static void ijg_progress(j_common_ptr c) {
    j_decompress_ptr d = (j_decompress_ptr)c;
    if (d->input_scan_number > IJG_MAX_SCANS) {
        ijg_err *e = (ijg_err *)c->err;
        snprintf(e->msg, sizeof e->msg, "more than %d scans", IJG_MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

int IJG_DECODE(const uint8_t *data, size_t size, const sialo_codec_frame *want, uint8_t *out, int *is_rgb) {
    struct jpeg_decompress_struct cinfo;
    ijg_err err;
    ijg_src src;
    struct jpeg_progress_mgr prog;
    JSAMPROW volatile row_keep = NULL; /* freed after a longjmp */
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = ijg_error_exit;
    err.pub.emit_message = ijg_emit;
    err.msg[0] = 0;
    volatile int created = 0;
    if (setjmp(err.jump)) {
        if (created) jpeg_destroy_decompress(&cinfo);
        free(row_keep);
        return sialo_fail("the JPEG frame cannot be decoded (%s)", err.msg);
    }
    jpeg_create_decompress(&cinfo);
    created = 1;
    memset(&src, 0, sizeof src);
    src.pub.init_source = ijg_init_source;
    src.pub.fill_input_buffer = ijg_fill;
    src.pub.skip_input_data = ijg_skip;
    src.pub.resync_to_restart = jpeg_resync_to_restart;
    src.pub.term_source = ijg_term;
    src.pub.next_input_byte = data;
    src.pub.bytes_in_buffer = size;
    cinfo.src = &src.pub;
    memset(&prog, 0, sizeof prog);
    prog.progress_monitor = ijg_progress;
    cinfo.progress = &prog;
    jpeg_read_header(&cinfo, TRUE);
    if (src.ended) { jpeg_destroy_decompress(&cinfo); return sialo_fail("the JPEG frame is truncated (its header is cut off)"); }
    int nc = cinfo.num_components;
    if (sialo_codec_check("JPEG", (int)cinfo.image_width, (int)cinfo.image_height, nc, cinfo.data_precision, want) < 0) {
        jpeg_destroy_decompress(&cinfo);
        return -1;
    }
    if (nc == 3) {
        int ycc;
        if (cinfo.saw_Adobe_marker) ycc = cinfo.Adobe_transform != 0;
        else if (cinfo.saw_JFIF_marker) ycc = 1;
        else if (cinfo.comp_info[1].h_samp_factor != cinfo.comp_info[0].h_samp_factor || cinfo.comp_info[1].v_samp_factor != cinfo.comp_info[0].v_samp_factor ||
                 cinfo.comp_info[2].h_samp_factor != cinfo.comp_info[0].h_samp_factor || cinfo.comp_info[2].v_samp_factor != cinfo.comp_info[0].v_samp_factor)
            ycc = 1;
        else if (cinfo.comp_info[0].component_id == 'R' && cinfo.comp_info[1].component_id == 'G' && cinfo.comp_info[2].component_id == 'B') ycc = 0;
        else ycc = !strncmp(want->photometric, "YBR", 3);
        cinfo.jpeg_color_space = ycc ? JCS_YCbCr : JCS_RGB;
        cinfo.out_color_space = JCS_RGB;
        *is_rgb = 1;
    } else {
        cinfo.jpeg_color_space = cinfo.out_color_space = JCS_GRAYSCALE;
    }
    cinfo.dct_method = JDCT_ISLOW;
    jpeg_start_decompress(&cinfo);
    if ((int)cinfo.output_width != want->columns || (int)cinfo.output_height != want->rows || cinfo.output_components != nc)
        longjmp(err.jump, (snprintf(err.msg, sizeof err.msg, "unexpected output size"), 1));
    int bytes = want->bits_allocated / 8;
    size_t w = cinfo.output_width;
    JSAMPROW row = malloc(w * nc * sizeof(JSAMPLE));
    row_keep = row;
    if (!row) longjmp(err.jump, (snprintf(err.msg, sizeof err.msg, "out of memory"), 1));
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        if (jpeg_read_scanlines(&cinfo, &row, 1) != 1) break;
        for (size_t i = 0; i < w * nc; i++) sialo_codec_put(out, y * w * nc + i, bytes, (int32_t)GETJSAMPLE(row[i]));
    }
    int cut = src.ended || cinfo.output_scanline < cinfo.output_height;
    if (!cut) jpeg_finish_decompress(&cinfo);
    cut = cut || src.ended;
    jpeg_destroy_decompress(&cinfo);
    free(row);
    if (cut) return sialo_fail("the JPEG frame is truncated (the stream ends before its last scan line)");
    return 0;
}
