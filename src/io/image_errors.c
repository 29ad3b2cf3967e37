/* image_errors.c — the one table of sentences an image can be refused with.
 *
 * Every refusal of an image file — by the container checks of image_check.c, by the decoder
 * (stb_image), or by the size limits — is one of these sentences, in the CLI, the JS API and the
 * page alike. stb_image's own failure codes ("outofdata", "bad huffman code", ...) never reach a
 * user: decoder_codes below maps each to a sentence, and a code not listed gets the format's
 * "damaged" sentence. Sentences start lowercase and end without a period (they follow
 * "sialoscan: FILE: " in the CLI and "sialoscan: " in the JS API).
 */
#include "io/image.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const sentence[IMG_N_ERRORS] = {
    [IMG_EMPTY] = "the image is empty (0 bytes)",
    [IMG_FILE_TOO_BIG] = "the image file is larger than 2 GB",
    [IMG_UNKNOWN_FORMAT] = "cannot read the image: not a PNG, JPEG, BMP or GIF file",
    [IMG_TOO_MANY_PIXELS] = "the image is %dx%d pixels, more than the %u megapixel limit",
    [IMG_TOO_SMALL] = "the image is %dx%d pixels; at least %dx%d is needed",
    [IMG_NO_MEMORY] = "not enough memory to decode the image",

    [PNG_SIG_TEXT_MODE] = "the PNG signature was altered by a text-mode transfer (line endings converted)",
    [PNG_SIG_DAMAGED] = "the PNG signature is damaged",
    [PNG_TRUNC_IN_SIG] = "the PNG file is truncated inside the signature",
    [PNG_TRUNC_AFTER_SIG] = "the PNG file is truncated after the signature",
    [PNG_TRUNC_AFTER] = "the PNG file is truncated after chunk %s",
    [PNG_TRUNC_IN] = "the PNG file is truncated inside chunk %s",
    [PNG_BAD_NAME] = "the PNG file is damaged: unreadable chunk name after %s",
    [PNG_BAD_LENGTH] = "the PNG file is damaged: length of chunk %s is impossible",
    [PNG_BAD_CRC] = "the PNG file is damaged: checksum of chunk %s is wrong",
    [PNG_NOT_IHDR_FIRST] = "the PNG file is damaged: it does not begin with its header chunk (IHDR)",
    [PNG_TWO_IHDR] = "the PNG file is damaged: it has a second header chunk (IHDR)",
    [PNG_UNKNOWN_CRITICAL] = "the PNG file needs chunk %s, which is not part of the PNG standard",
    [PNG_PLTE_LENGTH] = "the PNG file is damaged: its palette (PLTE) has an invalid length",
    [PNG_NO_PLTE] = "the PNG file is damaged: its palette (PLTE) is missing",
    [PNG_NO_IDAT] = "the PNG file has no image data (no IDAT chunk)",

    [PNG_IHDR_LENGTH] = "PNG header: its length is %u bytes instead of 13",
    [PNG_WIDTH_ZERO] = "PNG header: the width is 0",
    [PNG_HEIGHT_ZERO] = "PNG header: the height is 0",
    [PNG_WIDTH_RANGE] = "PNG header: width %u is over the PNG maximum of 2147483647",
    [PNG_HEIGHT_RANGE] = "PNG header: height %u is over the PNG maximum of 2147483647",
    [PNG_BIT_DEPTH] = "PNG header: bit depth %u does not exist",
    [PNG_COLOUR_TYPE] = "PNG header: colour type %u does not exist",
    [PNG_DEPTH_FOR_TYPE] = "PNG header: bit depth %u is not allowed for colour type %u (%s)",
    [PNG_COMPRESSION] = "PNG header: compression method %u does not exist",
    [PNG_FILTER] = "PNG header: filter method %u does not exist",
    [PNG_INTERLACE] = "PNG header: interlace method %u does not exist",

    [PNG_DATA_CORRUPT] = "the PNG file is damaged: its image data cannot be decompressed",
    [PNG_DATA_SIZE] = "the PNG file is damaged: its image data is shorter than its header says",
    [PNG_ROW_FILTER] = "the PNG file is damaged: a row of its image data has an invalid filter type",
    [PNG_TRNS] = "the PNG file is damaged: its transparency chunk (tRNS) is invalid",
    [PNG_DAMAGED] = "the PNG file is damaged and cannot be decoded",

    [JPEG_TRUNCATED] = "cannot read the image: the JPEG file is truncated (no end-of-image marker)",
    [JPEG_HUFFMAN_TABLE] = "the JPEG file is damaged: a Huffman table is invalid",
    [JPEG_QUANT_TABLE] = "the JPEG file is damaged: a quantisation table is invalid",
    [JPEG_FRAME_HEADER] = "the JPEG file is damaged: its frame header (SOF) is invalid",
    [JPEG_NO_FRAME_HEADER] = "the JPEG file is damaged: it has no frame header (SOF)",
    [JPEG_SCAN_HEADER] = "the JPEG file is damaged: a scan header (SOS) is invalid",
    [JPEG_MARKER] = "the JPEG file is damaged: a marker is missing or invalid",
    [JPEG_SEGMENT_LENGTH] = "the JPEG file is damaged: a segment has an invalid length",
    [JPEG_DATA_CORRUPT] = "the JPEG file is damaged: its compressed image data is corrupt",
    [JPEG_PRECISION] = "the JPEG file uses a sample precision other than 8 bits, which is not supported",
    [JPEG_NO_HEIGHT] = "the JPEG file does not state its height in its header, which is not supported",
    [JPEG_UNSUPPORTED_CODING] = "the JPEG file uses lossless, hierarchical or arithmetic coding, which is not supported",
    [JPEG_DAMAGED] = "the JPEG file is damaged and cannot be decoded",

    [BMP_TRUNCATED] = "the BMP file is truncated",
    [BMP_HEADER_SIZE] = "BMP header: header size %u does not exist",
    [BMP_PLANES] = "BMP header: %u colour planes instead of 1",
    [BMP_BIT_DEPTH] = "BMP header: bit depth %u does not exist",
    [BMP_RLE] = "the BMP file is RLE-compressed, which is not supported",
    [BMP_EMBEDDED] = "the BMP file holds an embedded JPEG or PNG, which is not supported",
    [BMP_COMPRESSION] = "BMP header: compression method %u does not exist",
    [BMP_WIDTH] = "BMP header: the width is %d",
    [BMP_HEIGHT_ZERO] = "BMP header: the height is 0",
    [BMP_OFFSET] = "BMP header: the pixel data would start outside the file",
    [BMP_MASKS] = "the BMP file is damaged: its colour masks are invalid",
    [BMP_DAMAGED] = "the BMP file is damaged and cannot be decoded",

    [GIF_VERSION] = "the GIF file is damaged: its signature is not GIF87a or GIF89a",
    [GIF_TRUNCATED] = "the GIF file is truncated",
    [GIF_WIDTH_ZERO] = "GIF header: the width is 0",
    [GIF_HEIGHT_ZERO] = "GIF header: the height is 0",
    [GIF_NO_IMAGE] = "the GIF file has no image in it",
    [GIF_BLOCKS] = "the GIF file is damaged: its block structure is broken",
    [GIF_NO_PALETTE] = "the GIF file is damaged: it has no colour table",
    [GIF_FRAME_OUTSIDE] = "the GIF file is damaged: its first image lies outside the size in its header",
    [GIF_DATA_CORRUPT] = "the GIF file is damaged: its compressed image data is corrupt",
    [GIF_DAMAGED] = "the GIF file is damaged and cannot be decoded",
};

void sialo_image_error(image_error e, ...) {
    char buf[300];
    const char *fmt = (unsigned)e < IMG_N_ERRORS && sentence[e] ? sentence[e] : "the image cannot be read";
    va_list ap;
    va_start(ap, e);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sialo_set_error("%s", buf);
}

/* stb_image 2.27's failure codes, per format (the ones its PNG, JPEG, BMP and GIF readers set).
 * When a damaged header makes stb_image's format test fail, it tries the other formats and leaves
 * their code ("bad png sig", "unknown image type", ...): the format's last resort then applies. */
static const struct { image_format f; const char *code; image_error e; } decoder_codes[] = {
    {IMG_FMT_UNKNOWN, "outofmem", IMG_NO_MEMORY}, /* any format */

    {IMG_FMT_PNG, "bad sizes", PNG_DATA_CORRUPT}, {IMG_FMT_PNG, "bad codelengths", PNG_DATA_CORRUPT},
    {IMG_FMT_PNG, "bad huffman code", PNG_DATA_CORRUPT}, {IMG_FMT_PNG, "bad dist", PNG_DATA_CORRUPT},
    {IMG_FMT_PNG, "zlib corrupt", PNG_DATA_CORRUPT}, {IMG_FMT_PNG, "read past buffer", PNG_DATA_CORRUPT},
    {IMG_FMT_PNG, "bad zlib header", PNG_DATA_CORRUPT}, {IMG_FMT_PNG, "no preset dict", PNG_DATA_CORRUPT},
    {IMG_FMT_PNG, "bad compression", PNG_DATA_CORRUPT}, {IMG_FMT_PNG, "output buffer limit", PNG_DATA_CORRUPT},
    {IMG_FMT_PNG, "not enough pixels", PNG_DATA_SIZE}, {IMG_FMT_PNG, "invalid filter", PNG_ROW_FILTER},
    {IMG_FMT_PNG, "tRNS after IDAT", PNG_TRNS}, {IMG_FMT_PNG, "tRNS before PLTE", PNG_TRNS},
    {IMG_FMT_PNG, "bad tRNS len", PNG_TRNS}, {IMG_FMT_PNG, "tRNS with alpha", PNG_TRNS},
    {IMG_FMT_PNG, "invalid PLTE", PNG_PLTE_LENGTH}, {IMG_FMT_PNG, "no PLTE", PNG_NO_PLTE},
    {IMG_FMT_PNG, "no IDAT", PNG_NO_IDAT}, {IMG_FMT_PNG, "outofdata", PNG_DAMAGED},
    {IMG_FMT_PNG, "first not IHDR", PNG_NOT_IHDR_FIRST}, {IMG_FMT_PNG, "multiple IHDR", PNG_TWO_IHDR},
    {IMG_FMT_PNG, "bad IHDR len", PNG_DAMAGED},

    {IMG_FMT_JPEG, "bad code lengths", JPEG_HUFFMAN_TABLE}, {IMG_FMT_JPEG, "bad DHT header", JPEG_HUFFMAN_TABLE},
    {IMG_FMT_JPEG, "bad huffman code", JPEG_DATA_CORRUPT}, {IMG_FMT_JPEG, "can't merge dc and ac", JPEG_DATA_CORRUPT},
    {IMG_FMT_JPEG, "expected marker", JPEG_MARKER}, {IMG_FMT_JPEG, "unknown marker", JPEG_MARKER},
    {IMG_FMT_JPEG, "no SOI", JPEG_MARKER},
    {IMG_FMT_JPEG, "bad DRI len", JPEG_SEGMENT_LENGTH}, {IMG_FMT_JPEG, "bad COM len", JPEG_SEGMENT_LENGTH},
    {IMG_FMT_JPEG, "bad APP len", JPEG_SEGMENT_LENGTH}, {IMG_FMT_JPEG, "bad DNL len", JPEG_SEGMENT_LENGTH},
    {IMG_FMT_JPEG, "bad DNL height", JPEG_FRAME_HEADER},
    {IMG_FMT_JPEG, "bad DQT type", JPEG_QUANT_TABLE}, {IMG_FMT_JPEG, "bad DQT table", JPEG_QUANT_TABLE},
    {IMG_FMT_JPEG, "bad SOS component count", JPEG_SCAN_HEADER}, {IMG_FMT_JPEG, "bad SOS len", JPEG_SCAN_HEADER},
    {IMG_FMT_JPEG, "bad DC huff", JPEG_SCAN_HEADER}, {IMG_FMT_JPEG, "bad AC huff", JPEG_SCAN_HEADER},
    {IMG_FMT_JPEG, "bad SOS", JPEG_SCAN_HEADER},
    {IMG_FMT_JPEG, "bad SOF len", JPEG_FRAME_HEADER}, {IMG_FMT_JPEG, "0 width", JPEG_FRAME_HEADER},
    {IMG_FMT_JPEG, "bad component count", JPEG_FRAME_HEADER}, {IMG_FMT_JPEG, "bad H", JPEG_FRAME_HEADER},
    {IMG_FMT_JPEG, "bad V", JPEG_FRAME_HEADER}, {IMG_FMT_JPEG, "bad TQ", JPEG_FRAME_HEADER},
    {IMG_FMT_JPEG, "no SOF", JPEG_NO_FRAME_HEADER}, {IMG_FMT_JPEG, "only 8-bit", JPEG_PRECISION},
    {IMG_FMT_JPEG, "no header height", JPEG_NO_HEIGHT},

    {IMG_FMT_BMP, "not BMP", BMP_DAMAGED}, {IMG_FMT_BMP, "unknown BMP", BMP_DAMAGED},
    {IMG_FMT_BMP, "BMP RLE", BMP_RLE}, {IMG_FMT_BMP, "BMP JPEG/PNG", BMP_EMBEDDED},
    {IMG_FMT_BMP, "bad offset", BMP_OFFSET}, {IMG_FMT_BMP, "bad masks", BMP_MASKS},

    {IMG_FMT_GIF, "missing color table", GIF_NO_PALETTE}, {IMG_FMT_GIF, "bad Image Descriptor", GIF_FRAME_OUTSIDE},
    {IMG_FMT_GIF, "no clear code", GIF_DATA_CORRUPT}, {IMG_FMT_GIF, "too many codes", GIF_DATA_CORRUPT},
    {IMG_FMT_GIF, "illegal code in raster", GIF_DATA_CORRUPT}, {IMG_FMT_GIF, "unknown code", GIF_DATA_CORRUPT},
};

int sialo_image_decoder_fail(image_format f, const char *code) {
    if (code)
        for (size_t i = 0; i < sizeof decoder_codes / sizeof *decoder_codes; i++)
            if ((decoder_codes[i].f == f || decoder_codes[i].f == IMG_FMT_UNKNOWN) && !strcmp(decoder_codes[i].code, code))
                return image_fail(decoder_codes[i].e);
    return image_fail(f == IMG_FMT_PNG ? PNG_DAMAGED : f == IMG_FMT_JPEG ? JPEG_DAMAGED : f == IMG_FMT_BMP ? BMP_DAMAGED
                      : f == IMG_FMT_GIF ? GIF_DAMAGED : IMG_UNKNOWN_FORMAT);
}
