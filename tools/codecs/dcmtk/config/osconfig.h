/* dcmtk/config/osconfig.h, the little that dcmtk's IJG libraries (libijg8 / 12 / 16) ask of it
   (dcmtk's CMake writes the full one): a C99 platform */
#ifndef SIALO_DCMTK_OSCONFIG_H
#define SIALO_DCMTK_OSCONFIG_H
#define HAVE_C_CONST 1
#define HAVE_STDDEF_H 1
#define HAVE_STDLIB_H 1
#define HAVE_STRING_H 1
#define HAVE_SYS_TYPES_H 1
#define HAVE_LONG_LONG 1
#define C_INLINE inline
#endif
