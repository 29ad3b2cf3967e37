/* jls_fuzz.c — libFuzzer target for JPEG-LS (CharLS, src/io/codec_jls.c) through its decoder; the input layout and the checks:
 * fuzz/codec_fuzz.h. Build and run: make fuzz. */
#include "codec_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return codec_fuzz_one(SIALO_CODEC_JLS, data, size); }
