/* ljpeg_fuzz.c — libFuzzer target for JPEG Lossless and Extended (dcmtk's libijg8/12/16, src/io/codec_ijg*.c) through its decoder; the input layout and the checks:
 * fuzz/codec_fuzz.h. Build and run: make fuzz. */
#include "codec_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return codec_fuzz_one(SIALO_CODEC_IJG, data, size); }
