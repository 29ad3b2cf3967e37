/* j2k_fuzz.c — libFuzzer target for JPEG 2000 and HTJ2K (OpenJPEG, src/io/codec_j2k.c) through its decoder; the input layout and the checks:
 * fuzz/codec_fuzz.h. Build and run: make fuzz. */
#include "codec_fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) { return codec_fuzz_one(SIALO_CODEC_J2K, data, size); }
