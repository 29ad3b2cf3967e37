/* opj_config.h for OpenJPEG 2.5.0 (what its CMake writes on a C99 platform) */
#define OPJ_HAVE_STDINT_H 1
#define OPJ_VERSION_MAJOR 2
#define OPJ_VERSION_MINOR 5
#define OPJ_VERSION_BUILD 0
