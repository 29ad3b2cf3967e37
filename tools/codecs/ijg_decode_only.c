/* ijg_decode_only.c — dcmtk's IJG libraries are built here without their compression half; the one
 * decompression file that mentions it (jcodec.c, whose jinit_c_codec only jpeg_start_compress
 * calls) still names these two functions: they exist, and are never called. */
#include <stdlib.h>
#define SIALO_IJG_STUBS(n)                                                              \
    void jinit##n##_lossy_c_codec(void *cinfo);                                         \
    void jinit##n##_lossless_c_codec(void *cinfo);                                      \
    void jinit##n##_lossy_c_codec(void *cinfo) { (void)cinfo; abort(); }                \
    void jinit##n##_lossless_c_codec(void *cinfo) { (void)cinfo; abort(); }
SIALO_IJG_STUBS(8)
SIALO_IJG_STUBS(12)
SIALO_IJG_STUBS(16)
