/* opj_config_private.h for OpenJPEG 2.5.0, built into sialoscan natively and with emcc: no threads
   (MUTEX_pthread undefined: opj_thread stubs), no file I/O used, little endian. */
#define OPJ_HAVE_INTTYPES_H 1
#define OPJ_PACKAGE_VERSION "2.5.0"
#define OPJ_HAVE_POSIX_MEMALIGN
#if !defined(_POSIX_C_SOURCE)
#define _POSIX_C_SOURCE 200112L
#endif
